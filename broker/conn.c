/* conn: per-connection I/O. Reads up to 64 KiB per readiness event and
 * dispatches every whole frame in it; frame length is checked against
 * max_frame_bytes before any body byte is buffered beyond it. */
#include "conn.h"
#include "cluster.h"
#include "dispatch.h"
#include "request.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "stats.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024)

static void on_read(struct ev_loop *loop, ev_io *w, int revents);
static void on_write(struct ev_loop *loop, ev_io *w, int revents);

sc_conn *sc_conn_new(sc_server *srv, int fd)
{
    sc_conn *c = sc_xcalloc(1, sizeof(*c));
    sc_owner_init(&c->owner, c);
    c->srv = srv;
    c->fd = fd;
    c->id = ++srv->next_conn_id;
    c->pid = -1;
    struct ucred cr;
    socklen_t crlen = sizeof(cr);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == 0) {
        c->pid = cr.pid;
        c->uid = cr.uid;
        c->gid = cr.gid;
    }
    sc_buf_init(&c->in);
    sc_buf_init(&c->out);
    ev_io_init(&c->rio, on_read, fd, EV_READ);
    ev_io_init(&c->wio, on_write, fd, EV_WRITE);
    c->rio.data = c->wio.data = c;
    ev_io_start(srv->loop, &c->rio);
    return c;
}

void sc_conn_free(sc_conn *c)
{
    if (!c)
        return;
    ev_io_stop(c->srv->loop, &c->rio);
    ev_io_stop(c->srv->loop, &c->wio);
    if (c->fd >= 0)
        close(c->fd);
    sc_owner_free(&c->owner);
    sc_buf_free(&c->in);
    sc_buf_free(&c->out);
    free(c);
}

const char *sc_conn_label(const sc_conn *c)
{
    static char label[128];
    snprintf(label, sizeof(label), "conn %llu (%s pid %d)", (unsigned long long)c->id,
             c->name[0] ? c->name : "app", (int)c->pid);
    return label;
}

/* Unregister every socket of c, keeping the cluster directory in step. */
static size_t remove_sockets(sc_conn *c)
{
    uint32_t n;
    void **socks = sc_pset_copy(&c->owner.sockets, &n);
    for (uint32_t i = 0; i < n; i++)
        sc_dispatch_remove_socket(c->srv, socks[i]);
    free(socks);
    return n;
}

void sc_conn_close(sc_conn *c, const char *reason)
{
    if (c->state == SC_CONN_CLOSED)
        return;
    c->state = SC_CONN_CLOSED;
    ev_io_stop(c->srv->loop, &c->rio);
    ev_io_stop(c->srv->loop, &c->wio);
    sc_requests_conn_closed(c->srv, c);
    size_t n = remove_sockets(c);
    SC_COUNT_N(sockets_unregistered, n);
    SC_COUNT(connections_closed);
    SC_COUNT_N(output_discarded_bytes, sc_buf_used(&c->out));
    sc_log(n || strcmp(reason, "closed by app") ? SC_LOG_INFO : SC_LOG_DEBUG,
           "%s closed: %s; %zu socket(s) unregistered", sc_conn_label(c), reason, n);
    sc_server_closed(c->srv, c);
}

void sc_conn_doom(sc_conn *c, const char *reason)
{
    if (c->state == SC_CONN_DOOMED || c->state == SC_CONN_CLOSED)
        return;
    c->state = SC_CONN_DOOMED;
    snprintf(c->doom_reason, sizeof(c->doom_reason), "%s", reason);
    ev_io_stop(c->srv->loop, &c->rio);
    ev_io_stop(c->srv->loop, &c->wio);
    sc_server_doomed(c->srv, c);
}

void sc_conn_drain(sc_conn *c)
{
    if (c->state != SC_CONN_OPEN)
        return;
    c->state = SC_CONN_DRAINING;
    ev_io_stop(c->srv->loop, &c->rio);
    sc_server_want_flush(c->srv, c);
}

/* The output bound policy for a frame of `need` bytes: 0 to queue it,
 * -ENOBUFS (volatile dropped) or -EPIPE (closed, or doomed now). */
static int admit(sc_conn *c, size_t need, bool is_volatile)
{
    if (c->state == SC_CONN_CLOSED || c->state == SC_CONN_DOOMED || c->fatal_queued)
        return -EPIPE;
    const sc_config *cfg = c->srv->cfg;
    size_t used = sc_buf_used(&c->out);
    if (is_volatile && used >= cfg->output_buffer_soft) {
        SC_COUNT(drops_volatile_slow_reader);
        sc_log_limited(SC_LOG_WARN,
                       "%s is a slow reader: %zu bytes unsent (soft limit %llu), dropping "
                       "volatile message",
                       sc_conn_label(c), used, (unsigned long long)cfg->output_buffer_soft);
        return -ENOBUFS;
    }
    if (used + need > cfg->output_buffer_hard) {
        SC_COUNT(disconnects_slow_reader);
        char why[160];
        snprintf(why, sizeof(why),
                 "slow reader: %zu bytes unsent would exceed output_buffer_hard %llu", used + need,
                 (unsigned long long)cfg->output_buffer_hard);
        sc_conn_doom(c, why);
        return -EPIPE;
    }
    return 0;
}

int sc_conn_send(sc_conn *c, const sc_frame *f, bool is_volatile)
{
    if (c->state == SC_CONN_CLOSED || c->state == SC_CONN_DOOMED)
        return -EPIPE;
    size_t need = sc_wire_size(f);
    int r = admit(c, need, is_volatile);
    if (r < 0)
        return r;
    sc_wire_append_sized(&c->out, f, need);
    SC_COUNT(frames_out);
    SC_METRIC_FRAME_OUT(f->msg_case);
    sc_server_want_flush(c->srv, c);
    return 0;
}

int sc_conn_send_encoded(sc_conn *c, uint64_t id, uint32_t field, const uint8_t *body, size_t len,
                         const uint8_t *tail, size_t tail_len, bool is_volatile)
{
    int r = admit(c, sc_wire_frame_size(id, field, len + tail_len), is_volatile);
    if (r < 0)
        return r;
    sc_wire_append_frame(&c->out, id, field, body, len, tail, tail_len);
    SC_COUNT(frames_out);
    SC_METRIC_FRAME_OUT(field);
    sc_server_want_flush(c->srv, c);
    return 0;
}

int sc_conn_send_raw(sc_conn *c, uint32_t field, const uint8_t *body, size_t len, bool is_volatile)
{
    return sc_conn_send_encoded(c, 0, field, body, len, NULL, 0, is_volatile);
}

void sc_conn_error(sc_conn *c, uint64_t id, int code, const char *ref, bool fatal,
                   const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    Sidecast__V1__Error e = SIDECAST__V1__ERROR__INIT;
    e.code = code;
    e.message = msg;
    e.ref = (char *)(ref ? ref : "");
    e.fatal = fatal;
    sc_frame f = SC_FRAME_INIT;
    f.id = id;
    f.msg_case = SIDECAST__V1__FRAME__MSG_ERROR;
    f.error = &e;
    if (fatal) {
        sc_log_limited(SC_LOG_WARN, "%s: %s; closing connection", sc_conn_label(c), msg);
        sc_conn_send(c, &f, false);
        c->fatal_queued = true; /* the app stops reading at this frame */
        sc_conn_drain(c);
    } else {
        sc_log_limited(SC_LOG_INFO, "%s: refused: %s", sc_conn_label(c), msg);
        sc_conn_send(c, &f, false);
    }
}

bool sc_conn_flush(sc_conn *c)
{
    while (sc_buf_used(&c->out) > 0) {
        ssize_t n = send(c->fd, sc_buf_head(&c->out), sc_buf_used(&c->out), MSG_NOSIGNAL);
        if (n > 0) {
            SC_COUNT_N(bytes_out, (uint64_t)n);
            sc_buf_consume(&c->out, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            ev_io_start(c->srv->loop, &c->wio);
            return false;
        }
        char why[128];
        snprintf(why, sizeof(why), "write failed: %s", n < 0 ? strerror(errno) : "EOF");
        sc_conn_close(c, why);
        return false;
    }
    ev_io_stop(c->srv->loop, &c->wio);
    sc_buf_shrink(&c->out, 256 * 1024);
    if (c->state == SC_CONN_DRAINING)
        sc_conn_close(c, "closed after final frame");
    return true;
}

static void on_write(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    sc_conn *c = w->data;
    sc_conn_flush(c);
}

/* Dispatch every whole frame in the input buffer. */
static void process_input(sc_conn *c)
{
    sc_server *srv = c->srv;
    while (c->state == SC_CONN_OPEN) {
        uint32_t len;
        int r = sc_wire_peek(sc_buf_head(&c->in), sc_buf_used(&c->in),
                             (uint32_t)srv->cfg->max_frame_bytes, &len);
        if (r == 0)
            break;
        if (r < 0) {
            SC_COUNT(refused_too_large);
            sc_conn_error(c, 0, SIDECAST__V1__ERROR_CODE__ERROR_TOO_LARGE, NULL, true,
                          "frame of %u bytes over max_frame_bytes %llu", len,
                          (unsigned long long)srv->cfg->max_frame_bytes);
            break;
        }
        SC_COUNT(frames_in);
        sc_frame *f = sc_wire_unpack(&srv->arena, sc_buf_head(&c->in) + SC_FRAME_HEADER, len);
        if (!f) {
            SC_COUNT(refused_malformed);
            sc_conn_error(c, 0, SIDECAST__V1__ERROR_CODE__ERROR_MALFORMED, NULL, true,
                          "malformed frame of %u bytes: not a sidecast.v1.Frame", len);
        } else {
            SC_METRIC_FRAME_IN(f->msg_case);
            c->cur_body = sc_buf_head(&c->in) + SC_FRAME_HEADER;
            c->cur_len = len;
            sc_dispatch(c, f);
            c->cur_body = NULL;
        }
        sc_arena_reset(&srv->arena);
        sc_buf_consume(&c->in, SC_FRAME_HEADER + len);
    }
}

static void on_read(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    sc_conn *c = w->data;
    uint8_t *p = sc_buf_reserve(&c->in, READ_CHUNK);
    ssize_t n = recv(c->fd, p, READ_CHUNK, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        if (sc_buf_used(&c->in) > 0)
            sc_conn_close(c, "app disconnected in the middle of a frame");
        else
            sc_conn_close(c, n == 0 ? "closed by app" : strerror(errno));
        return;
    }
    SC_COUNT_N(bytes_in, (uint64_t)n);
    sc_buf_commit(&c->in, (size_t)n);
    process_input(c);
    if (c->state != SC_CONN_CLOSED)
        sc_buf_shrink(&c->in, 256 * 1024);
}
