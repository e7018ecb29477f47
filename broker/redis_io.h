/* redis_io: the byte stream under one Redis connection: a non-blocking
 * TCP or Unix socket, with TLS over it for rediss://. It connects, runs the
 * TLS handshake, reads and writes, and says what it waits for (readable or
 * writable) so that the connection above watches the right event.
 *
 * It owns the socket and its SSL and nothing else: no RESP, no timers, no
 * event watchers (redis.c has those), no settings. */
#ifndef SC_REDIS_IO_H
#define SC_REDIS_IO_H

#include "redis_tls.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct sc_rio {
    int fd; /* -1 when closed */
    SSL *ssl;
    /* TLS may need the other direction to go on (a handshake, a key
     * update): the last read or write stopped for want of it */
    bool read_wants_write, write_wants_read;
} sc_rio;

enum {
    SC_RIO_DONE = 0,
    SC_RIO_WANT_READ = 1,
    SC_RIO_WANT_WRITE = 2,
    SC_RIO_ERROR = -1,
};

void sc_rio_init(sc_rio *io);
/* Start connecting to host:port (TCP, no delay) or to the Unix socket
 * path. SC_RIO_WANT_WRITE while in progress, SC_RIO_DONE when connected at
 * once, SC_RIO_ERROR with a reason. Resolving a name blocks, as hiredis'
 * connect does; names in redis_url should resolve locally (hosts, a cache). */
int sc_rio_connect(sc_rio *io, const char *host, int port, const char *path, char *err,
                   size_t errlen);
/* After the socket turned writable: SC_RIO_DONE or SC_RIO_ERROR. */
int sc_rio_connected(sc_rio *io, char *err, size_t errlen);
/* Begin TLS over the connected socket; then call sc_rio_handshake. */
int sc_rio_start_tls(sc_rio *io, sc_tls *tls, const char *host, char *err, size_t errlen);
/* One step of the handshake: SC_RIO_DONE, SC_RIO_WANT_*, or SC_RIO_ERROR. */
int sc_rio_handshake(sc_rio *io, char *err, size_t errlen);
/* Bytes read (> 0), 0 at end of stream, -1 when nothing is there yet, -2
 * on error (reason in err). */
ssize_t sc_rio_read(sc_rio *io, void *buf, size_t n, char *err, size_t errlen);
/* Bytes written (> 0), -1 when the socket is full, -2 on error. */
ssize_t sc_rio_write(sc_rio *io, const void *buf, size_t n, char *err, size_t errlen);
/* TLS holds decrypted bytes the socket will not signal again. */
bool sc_rio_buffered(const sc_rio *io);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384" or "" for plain text. Static buffer. */
const char *sc_rio_describe(const sc_rio *io);
void sc_rio_close(sc_rio *io);

#endif
