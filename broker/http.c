/* http: listener, connections and router of the operations endpoint. See
 * http.h for what it owns and may not touch.
 *
 * A connection reads into a buffer of http_max_request_bytes and, after each
 * read, runs the whole buffer through sc_http_respond (libhttp-parser plus
 * the routes), so the live path and the fuzz target are one code path.
 * Requests are tiny and one per connection, so parsing again from the start
 * costs nothing worth saving. After the response is written the connection
 * shuts down its write side and reads until EOF (bounded by the timer): a
 * close with unread input would send RST and could destroy the response
 * before the peer reads it. Connections are freed from a prepare watcher,
 * never inside their own callbacks.
 *
 * The connection list is in accept order, oldest first: when it is full,
 * the oldest connection still reading its request makes room for the new
 * one. The walk to it passes only connections being answered (writing or
 * lingering), which their timers end. */
#include "http.h"
#include "config.h"
#include "log.h"
#include "exposition.h"
#include "metrics.h"
#include "server.h"
#include "stats.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <http_parser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define URL_MAX 2048
#define ACCEPTS_PER_EVENT 16
#define LINGER_S 1.0

typedef enum { HC_READING, HC_WRITING, HC_LINGER, HC_CLOSED } hc_state;

typedef struct hconn {
    struct sc_http *h;
    int fd;
    hc_state state;
    ev_io io;
    ev_timer timer;
    uint8_t *in;
    size_t len, cap;
    sc_buf out;
    char peer[64];
    struct hconn *prev, *next, *dead_next;
} hconn;

struct sc_http {
    sc_server *srv;
    int fd;
    ev_io accept_io;
    ev_timer accept_retry; /* re-arms accept_io after running out of fds */
    ev_prepare reap;
    hconn *conns, *tail, *dead; /* conns: oldest first */
    uint64_t nconns;
    char addr[80];
};

/* ---- parsing and routing ---------------------------------------------------- */

typedef struct req_state {
    char url[URL_MAX];
    size_t url_len;
    bool url_too_long;
    bool headers_done, complete;
} req_state;

static int on_url(http_parser *p, const char *at, size_t n)
{
    req_state *st = p->data;
    if (st->url_len + n >= sizeof(st->url)) {
        st->url_too_long = true;
        return 0;
    }
    memcpy(st->url + st->url_len, at, n);
    st->url_len += n;
    st->url[st->url_len] = '\0';
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    ((req_state *)p->data)->headers_done = true;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    ((req_state *)p->data)->complete = true;
    http_parser_pause(p, 1); /* one request per connection: ignore what follows */
    return 0;
}

static const char *status_text(int code)
{
    switch (code) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    }
    return "Error";
}

static void respond(sc_buf *out, int code, const char *type, const char *extra, const void *body,
                    size_t len, bool head)
{
    char hdr[512];
    int n = snprintf(hdr, sizeof(hdr),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
                     code, status_text(code), type, len, extra ? extra : "");
    sc_buf_append(out, hdr, (size_t)n);
    if (!head)
        sc_buf_append(out, body, len);
    SC_COUNT(http_requests);
}

static int text(sc_buf *out, int code, const char *extra, const char *msg, bool head)
{
    char body[512];
    int n = snprintf(body, sizeof(body), "%s\n", msg);
    respond(out, code, "text/plain; charset=utf-8", extra, body,
            SC_MIN((size_t)n, sizeof(body) - 1), head);
    return code;
}

static int route(const sc_server *srv, const char *url, bool head, sc_buf *out)
{
    size_t plen = strcspn(url, "?#");
    if (plen == 8 && memcmp(url, "/metrics", 8) == 0) {
        sc_buf body;
        sc_buf_init(&body);
        sc_metrics_render(srv, srv && srv->http ? sc_http_connections(srv->http) : 0, &body);
        respond(out, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, sc_buf_head(&body),
                sc_buf_used(&body), head);
        sc_buf_free(&body);
        return 200;
    }
    if (plen == 8 && memcmp(url, "/healthz", 8) == 0)
        return text(out, 200, NULL, "ok", head);
    if (plen == 7 && memcmp(url, "/readyz", 7) == 0) {
        char why[256];
        bool ok = sc_server_ready(srv, why, sizeof(why));
        return text(out, ok ? 200 : 503, NULL, ok ? "ready" : why, head);
    }
    if (plen == 1 && url[0] == '/')
        return text(out, 200, NULL, "sidecastd: /metrics /healthz /readyz", head);
    SC_COUNT(http_not_found);
    return text(out, 404, NULL, "not found: try /metrics, /healthz or /readyz", head);
}

int sc_http_respond(const sc_server *srv, const uint8_t *req, size_t len, size_t max_bytes,
                    sc_buf *out)
{
    static const http_parser_settings settings = {
        .on_url = on_url,
        .on_headers_complete = on_headers_complete,
        .on_message_complete = on_message_complete,
    };
    req_state st = {.url_len = 0};
    http_parser p;
    http_parser_init(&p, HTTP_REQUEST);
    p.data = &st;
    size_t feed = SC_MIN(len, max_bytes);
    http_parser_execute(&p, &settings, (const char *)req, feed);
    enum http_errno err = HTTP_PARSER_ERRNO(&p);
    if (err == HPE_HEADER_OVERFLOW || (!st.complete && err == HPE_OK && len >= max_bytes)) {
        SC_COUNT(http_too_large);
        return text(out, 431, NULL, "request too large (http_max_request_bytes)", false);
    }
    if (err != HPE_OK && err != HPE_PAUSED) {
        SC_COUNT(http_bad_requests);
        char msg[160];
        snprintf(msg, sizeof(msg), "bad request: %s", http_errno_description(err));
        return text(out, 400, NULL, msg, false);
    }
    if (!st.complete)
        return 0;
    bool head = p.method == HTTP_HEAD;
    if (p.method != HTTP_GET && !head) {
        SC_COUNT(http_bad_method);
        return text(out, 405, "Allow: GET, HEAD\r\n", "only GET and HEAD are served", false);
    }
    if (st.url_too_long) {
        SC_COUNT(http_too_large);
        return text(out, 414, NULL, "URL too long", false);
    }
    return route(srv, st.url, head, out);
}

static void addr_str(const struct sockaddr *sa, char *out, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        port = ntohs(a->sin_port);
        snprintf(out, len, "%s:%d", host, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        port = ntohs(a->sin6_port);
        snprintf(out, len, "[%s]:%d", host, port);
    } else {
        snprintf(out, len, "?");
    }
}

/* ---- connections --------------------------------------------------------------- */

static void hconn_close(hconn *c)
{
    if (c->state == HC_CLOSED)
        return;
    sc_http *h = c->h;
    struct ev_loop *loop = h->srv->loop;
    c->state = HC_CLOSED;
    ev_io_stop(loop, &c->io);
    ev_timer_stop(loop, &c->timer);
    close(c->fd);
    c->fd = -1;
    if (c->prev)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        h->tail = c->prev;
    h->nconns--;
    c->dead_next = h->dead;
    h->dead = c;
    ev_prepare_start(loop, &h->reap);
}

static void hconn_free(hconn *c)
{
    sc_buf_free(&c->out);
    free(c->in);
    free(c);
}

static void on_reap(struct ev_loop *loop, ev_prepare *w, int revents)
{
    sc_http *h = w->data;
    while (h->dead) {
        hconn *c = h->dead;
        h->dead = c->dead_next;
        hconn_free(c);
    }
    ev_prepare_stop(loop, w);
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents);

static void start_linger(hconn *c)
{
    struct ev_loop *loop = c->h->srv->loop;
    shutdown(c->fd, SHUT_WR);
    c->state = HC_LINGER;
    ev_io_stop(loop, &c->io);
    ev_io_set(&c->io, c->fd, EV_READ);
    ev_io_start(loop, &c->io);
    ev_timer_stop(loop, &c->timer);
    ev_timer_set(&c->timer, LINGER_S, 0);
    ev_timer_start(loop, &c->timer);
}

static void write_out(hconn *c)
{
    while (sc_buf_used(&c->out)) {
        ssize_t n = send(c->fd, sc_buf_head(&c->out), sc_buf_used(&c->out), MSG_NOSIGNAL);
        if (n > 0) {
            sc_buf_consume(&c->out, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (c->state != HC_WRITING) {
                struct ev_loop *loop = c->h->srv->loop;
                c->state = HC_WRITING;
                ev_io_stop(loop, &c->io);
                ev_io_set(&c->io, c->fd, EV_WRITE);
                ev_io_start(loop, &c->io);
            }
            return;
        }
        hconn_close(c); /* peer gone */
        return;
    }
    start_linger(c);
}

static void log_refusal(const hconn *c, int status)
{
    if (status == 404)
        sc_debug("http: 404 for %s", c->peer);
    else if (status >= 400)
        sc_log_limited(SC_LOG_WARN, "http: answered %d to %s (%.*s); closing", status, c->peer,
                       (int)strcspn((const char *)sc_buf_head(&c->out), "\r"),
                       (const char *)sc_buf_head(&c->out));
}

static void on_readable(hconn *c)
{
    size_t max = c->cap; /* the bound when it was accepted (reloads change it) */
    ssize_t n = recv(c->fd, c->in + c->len, max - c->len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        hconn_close(c); /* peer gave up before a whole request */
        return;
    }
    c->len += (size_t)n;
    int st = sc_http_respond(c->h->srv, c->in, c->len, max, &c->out);
    if (st == 0)
        return;
    log_refusal(c, st);
    write_out(c);
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    hconn *c = w->data;
    if (c->state == HC_READING) {
        on_readable(c);
    } else if (c->state == HC_WRITING) {
        write_out(c);
    } else if (c->state == HC_LINGER) {
        char sink[4096];
        ssize_t n = recv(c->fd, sink, sizeof(sink), 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            hconn_close(c);
    }
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    hconn *c = w->data;
    if (c->state == HC_READING) {
        SC_COUNT(http_timeouts);
        sc_log_limited(SC_LOG_WARN,
                       "http: no whole request from %s within http_request_timeout_ms %llu "
                       "(%zu bytes received); closing",
                       c->peer, (unsigned long long)c->h->srv->cfg->http_request_timeout_ms,
                       c->len);
        static const char msg[] = "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n"
                                  "Connection: close\r\n\r\n";
        ssize_t n = send(c->fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)n; /* best effort */
    }
    hconn_close(c); /* also: writing or lingering for too long */
}

static void refuse(sc_http *h, int fd, const char *peer)
{
    SC_COUNT(http_refused_limit);
    sc_log_limited(SC_LOG_WARN, "http: refusing connection from %s: http_max_connections %llu open",
                   peer, (unsigned long long)h->srv->cfg->http_max_connections);
    static const char msg[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                              "Connection: close\r\n\r\n";
    ssize_t n = send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)n; /* best effort */
    close(fd);
}

/* At http_max_connections: close the oldest connection that has no whole
 * request yet, so that the new one (a health probe, say) is served. False
 * when every open connection is already being answered. */
static bool evict_oldest_reading(sc_http *h, const char *newcomer)
{
    hconn *c = h->conns;
    while (c && c->state != HC_READING)
        c = c->next;
    if (!c)
        return false;
    SC_COUNT(http_evicted);
    sc_log_limited(SC_LOG_WARN,
                   "http: http_max_connections %llu open: closing the oldest connection without "
                   "a whole request, from %s (%zu bytes received), to admit %s",
                   (unsigned long long)h->srv->cfg->http_max_connections, c->peer, c->len,
                   newcomer);
    static const char msg[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                              "Retry-After: 1\r\nConnection: close\r\n\r\n";
    ssize_t n = send(c->fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)n; /* best effort */
    hconn_close(c);
    return true;
}

static void on_accept_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
    sc_http *h = w->data;
    ev_io_start(loop, &h->accept_io);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    sc_http *h = w->data;
    const sc_config *cfg = h->srv->cfg;
    for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(h->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
                /* the listener stays readable: pause it, or the loop spins */
                ev_io_stop(loop, &h->accept_io);
                ev_timer_start(loop, &h->accept_retry);
                SC_COUNT(http_accept_paused);
                sc_log_limited(SC_LOG_WARN,
                               "http: cannot accept a connection: %s (out of file descriptors? "
                               "raise LimitNOFILE); pausing the listener for 100 ms",
                               strerror(err));
            } else if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR) {
                sc_log_limited(SC_LOG_WARN, "http: accept failed: %s", strerror(err));
            }
            return;
        }
        char peer[64];
        addr_str((struct sockaddr *)&ss, peer, sizeof(peer));
        while (h->nconns >= cfg->http_max_connections && evict_oldest_reading(h, peer))
            ; /* more than one after a reload lowered the bound */
        if (h->nconns >= cfg->http_max_connections) {
            refuse(h, fd, peer);
            continue;
        }
        hconn *c = sc_xcalloc(1, sizeof(*c));
        c->h = h;
        c->fd = fd;
        c->cap = cfg->http_max_request_bytes;
        c->in = sc_xmalloc(c->cap);
        sc_buf_init(&c->out);
        snprintf(c->peer, sizeof(c->peer), "%s", peer);
        ev_io_init(&c->io, on_io, fd, EV_READ);
        c->io.data = c;
        ev_io_start(loop, &c->io);
        ev_timer_init(&c->timer, on_timer, cfg->http_request_timeout_ms / 1000.0, 0);
        c->timer.data = c;
        ev_timer_start(loop, &c->timer);
        c->prev = h->tail;
        if (h->tail)
            h->tail->next = c;
        else
            h->conns = c;
        h->tail = c;
        h->nconns++;
    }
}

/* ---- listener ---------------------------------------------------------------- */

int sc_http_new(sc_server *srv, sc_http **ret)
{
    *ret = NULL;
    const char *spec = srv->cfg->http_listen;
    if (!spec || !spec[0]) {
        sc_info("http: endpoint disabled (http_listen is empty)");
        return 0;
    }
    struct sockaddr_storage ss;
    socklen_t sl;
    char why[300];
    if (sc_config_parse_listen(spec, &ss, &sl, why, sizeof(why)) < 0) {
        sc_error("%s", why);
        return -EINVAL;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0) {
        int err = errno;
        sc_error("http: cannot listen on %s: %s (set http_listen to a free address, or empty "
                 "to disable the endpoint)",
                 spec, strerror(err));
        if (fd >= 0)
            close(fd);
        return -err;
    }
    sc_http *h = sc_xcalloc(1, sizeof(*h));
    h->srv = srv;
    h->fd = fd;
    sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    addr_str((struct sockaddr *)&ss, h->addr, sizeof(h->addr));
    ev_io_init(&h->accept_io, on_accept, fd, EV_READ);
    ev_timer_init(&h->accept_retry, on_accept_retry, 0.1, 0);
    h->accept_retry.data = h;
    h->accept_io.data = h;
    ev_io_start(srv->loop, &h->accept_io);
    ev_prepare_init(&h->reap, on_reap);
    h->reap.data = h;
    sc_info("http: listening on %s (/metrics, /healthz, /readyz)", h->addr);
    *ret = h;
    return 0;
}

void sc_http_free(sc_http *h)
{
    if (!h)
        return;
    struct ev_loop *loop = h->srv->loop;
    while (h->conns)
        hconn_close(h->conns);
    while (h->dead) {
        hconn *c = h->dead;
        h->dead = c->dead_next;
        hconn_free(c);
    }
    ev_prepare_stop(loop, &h->reap);
    ev_io_stop(loop, &h->accept_io);
    ev_timer_stop(loop, &h->accept_retry);
    close(h->fd);
    free(h);
}

uint64_t sc_http_connections(const sc_http *h)
{
    return h ? h->nconns : 0;
}
