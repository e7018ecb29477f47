/* redis_io: sockets and TLS for the Redis connections. See redis_io.h for
 * what it owns and may not touch. */
#include "redis_io.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

void sc_rio_init(sc_rio *io)
{
    memset(io, 0, sizeof(*io));
    io->fd = -1;
}

static int nonblocking_socket(int family, char *err, size_t errlen)
{
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        snprintf(err, errlen, "socket: %s", strerror(errno));
    return fd;
}

static int start_connect(sc_rio *io, const struct sockaddr *sa, socklen_t len, char *err,
                         size_t errlen)
{
    if (connect(io->fd, sa, len) == 0)
        return SC_RIO_DONE;
    if (errno == EINPROGRESS || errno == EAGAIN)
        return SC_RIO_WANT_WRITE;
    snprintf(err, errlen, "connect: %s", strerror(errno));
    close(io->fd);
    io->fd = -1;
    return SC_RIO_ERROR;
}

static int connect_unix(sc_rio *io, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "unix socket path too long");
        return SC_RIO_ERROR;
    }
    strcpy(sa.sun_path, path);
    if ((io->fd = nonblocking_socket(AF_UNIX, err, errlen)) < 0)
        return SC_RIO_ERROR;
    return start_connect(io, (struct sockaddr *)&sa, sizeof(sa), err, errlen);
}

/* The first address whose connect does not fail at once, as hiredis does. */
static int connect_tcp(sc_rio *io, const char *host, int port, char *err, size_t errlen)
{
    char service[8];
    snprintf(service, sizeof(service), "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
        return SC_RIO_ERROR;
    }
    int ret = SC_RIO_ERROR;
    snprintf(err, errlen, "no address for %s", host);
    for (struct addrinfo *a = res; a && ret == SC_RIO_ERROR; a = a->ai_next) {
        if ((io->fd = nonblocking_socket(a->ai_family, err, errlen)) < 0)
            continue;
        int one = 1;
        setsockopt(io->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(io->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        ret = start_connect(io, a->ai_addr, a->ai_addrlen, err, errlen);
    }
    freeaddrinfo(res);
    return ret;
}

int sc_rio_connect(sc_rio *io, const char *host, int port, const char *path, char *err,
                   size_t errlen)
{
    sc_rio_init(io);
    return path ? connect_unix(io, path, err, errlen) : connect_tcp(io, host, port, err, errlen);
}

int sc_rio_connected(sc_rio *io, char *err, size_t errlen)
{
    int e = 0;
    socklen_t len = sizeof(e);
    if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
        e = errno;
    if (e == 0)
        return SC_RIO_DONE;
    snprintf(err, errlen, "connect: %s", strerror(e));
    return SC_RIO_ERROR;
}

int sc_rio_start_tls(sc_rio *io, sc_tls *tls, const char *host, char *err, size_t errlen)
{
    ERR_clear_error();
    io->ssl = sc_tls_session(tls, io->fd, host, err, errlen);
    return io->ssl ? SC_RIO_DONE : SC_RIO_ERROR;
}

int sc_rio_handshake(sc_rio *io, char *err, size_t errlen)
{
    ERR_clear_error();
    errno = 0; /* a stale errno would read as the handshake's cause */
    int ret = SSL_connect(io->ssl);
    if (ret == 1)
        return SC_RIO_DONE;
    switch (SSL_get_error(io->ssl, ret)) {
    case SSL_ERROR_WANT_READ:
        return SC_RIO_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return SC_RIO_WANT_WRITE;
    case SSL_ERROR_SYSCALL:
        if (errno && ERR_peek_error() == 0 && SSL_get_verify_result(io->ssl) == X509_V_OK) {
            snprintf(err, errlen, "TLS handshake failed: %s", strerror(errno));
            return SC_RIO_ERROR;
        }
        /* fall through */
    default:
        sc_tls_failure(io->ssl, ret, err, errlen);
        return SC_RIO_ERROR;
    }
}

/* SSL_read/SSL_write's outcome as the plain socket's would be. */
static ssize_t tls_result(sc_rio *io, int ret, bool reading, char *err, size_t errlen)
{
    int e = SSL_get_error(io->ssl, ret);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        if (reading)
            io->read_wants_write = e == SSL_ERROR_WANT_WRITE;
        else
            io->write_wants_read = e == SSL_ERROR_WANT_READ;
        return -1;
    }
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        if (errno == 0 || errno == ECONNRESET || errno == EPIPE)
            return reading ? 0 : (snprintf(err, errlen, "connection reset"), -2);
        snprintf(err, errlen, "TLS: %s", strerror(errno));
        return -2;
    }
    char reason[200];
    ERR_error_string_n(ERR_get_error(), reason, sizeof(reason));
    ERR_clear_error();
    snprintf(err, errlen, "TLS: %s", reason);
    return -2;
}

ssize_t sc_rio_read(sc_rio *io, void *buf, size_t n, char *err, size_t errlen)
{
    if (io->ssl) {
        io->read_wants_write = false;
        ERR_clear_error();
        errno = 0;
        int ret = SSL_read(io->ssl, buf, (int)(n > INT32_MAX ? INT32_MAX : n));
        return ret > 0 ? ret : tls_result(io, ret, true, err, errlen);
    }
    ssize_t ret = read(io->fd, buf, n);
    if (ret >= 0)
        return ret;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return -1;
    if (errno == ECONNRESET)
        return 0;
    snprintf(err, errlen, "read: %s", strerror(errno));
    return -2;
}

ssize_t sc_rio_write(sc_rio *io, const void *buf, size_t n, char *err, size_t errlen)
{
    if (io->ssl) {
        io->write_wants_read = false;
        ERR_clear_error();
        errno = 0;
        int ret = SSL_write(io->ssl, buf, (int)(n > (1u << 20) ? (1u << 20) : n));
        return ret > 0 ? ret : tls_result(io, ret, false, err, errlen);
    }
    ssize_t ret = send(io->fd, buf, n, MSG_NOSIGNAL);
    if (ret >= 0)
        return ret;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return -1;
    snprintf(err, errlen, "write: %s", strerror(errno));
    return -2;
}

bool sc_rio_buffered(const sc_rio *io)
{
    return io->ssl && SSL_pending(io->ssl) > 0;
}

const char *sc_rio_describe(const sc_rio *io)
{
    static char buf[128];
    if (!io->ssl)
        return "";
    snprintf(buf, sizeof(buf), "%s %s", SSL_get_version(io->ssl),
             SSL_CIPHER_get_name(SSL_get_current_cipher(io->ssl)));
    return buf;
}

void sc_rio_close(sc_rio *io)
{
    if (io->ssl) {
        /* no close_notify: the peer may be gone, and a blocked write
         * here would stall the loop */
        SSL_free(io->ssl);
        io->ssl = NULL;
    }
    if (io->fd >= 0)
        close(io->fd);
    io->fd = -1;
    io->read_wants_write = io->write_wants_read = false;
}
