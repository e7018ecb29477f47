/* conn: per-connection I/O. Reads up to 64 KiB per readiness event and
 * dispatches every whole frame in it; frame length is checked against
 * max_frame_bytes before any body byte is buffered beyond it.
 *
 * The two bounds across connections share one small state (`lim`: one
 * server per process, one loop): the client memory total, updated in O(1)
 * wherever a buffer of a connection may change capacity, and the FIFO of
 * connections holding an unfinished frame. A connection joins the FIFO's
 * tail when a frame begins (its input buffer stops being empty, or a frame
 * completes with the next one already begun), so the FIFO is ordered by
 * deadline and the one timer only ever looks at its head.
 *
 * It reaches the modules above it (the dispatcher, the server's lists, the
 * requests a closing connection leaves) only through the sc_conn_host it
 * was given; c->srv is theirs, carried, never read here. */
#include "conn.h"
#include "log.h"
#include "metrics.h"
#include "stats.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024)
#define PARTIAL_CHECK_MAX_S 1.0 /* a reload of frame_timeout_ms applies within this */

static void on_read(struct ev_loop *loop, ev_io *w, int revents);
static void on_write(struct ev_loop *loop, ev_io *w, int revents);
static void on_partial_timer(struct ev_loop *loop, ev_timer *w, int revents);

static struct {
    uint64_t memory; /* sum of sc_conn.mem over connections neither doomed nor closed */
    sc_conn *partial_head, *partial_tail; /* unfinished frames, oldest first */
    ev_timer partial_timer;               /* runs while the list is not empty */
    struct ev_loop *loop;                 /* of partial_timer */
} lim;

uint64_t sc_conn_output_bytes(const sc_conn *c)
{
    uint64_t total = 0;
    for (; c; c = c->next)
        total += sc_buf_used(&c->out);
    return total;
}

uint64_t sc_conn_client_memory(void)
{
    return lim.memory;
}

/* ---- client memory (max_client_memory) ---------------------------------------- */

/* The capacity b has after reserving n more bytes (sc_buf_reserve's rule:
 * compact if that makes room, else double from 4 KiB). */
static size_t cap_after(const sc_buf *b, size_t n)
{
    size_t used = sc_buf_used(b);
    if (b->cap - used >= n)
        return b->cap;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - used < n)
        cap *= 2;
    return cap;
}

/* Bring the total up to date after c's buffers may have changed size. */
static void account(sc_conn *c)
{
    if (c->state == SC_CONN_DOOMED || c->state == SC_CONN_CLOSED)
        return; /* released already: they free what they hold */
    size_t now = c->in.cap + c->out.cap;
    lim.memory = lim.memory - c->mem + now;
    c->mem = now;
}

static void release_memory(sc_conn *c)
{
    lim.memory -= c->mem;
    c->mem = 0;
}

void sc_conn_tell_fd(int fd, int code, const char *msg)
{
    Sidecast__V1__Error e = SIDECAST__V1__ERROR__INIT;
    e.code = code;
    e.message = (char *)msg;
    e.ref = (char *)"";
    e.fatal = true;
    sc_frame f = SC_FRAME_INIT;
    f.msg_case = SIDECAST__V1__FRAME__MSG_ERROR;
    f.error = &e;
    sc_buf b;
    sc_buf_init(&b);
    sc_wire_append(&b, &f);
    ssize_t n = send(fd, sc_buf_head(&b), sc_buf_used(&b), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)n;
    sc_buf_free(&b);
}

/* Best effort, for a connection about to be closed: an Error written
 * straight to the socket, only between frames (nothing of a frame left
 * unsent) so the peer can read it. */
static void tell_directly(sc_conn *c, int code, const char *msg)
{
    if (sc_buf_used(&c->out) || c->fatal_queued || c->fd < 0)
        return;
    sc_conn_tell_fd(c->fd, code, msg);
}

/* The connection holding the most buffer memory, c counted as c_mem. Ties
 * go to c. O(connections), only when the budget is exceeded, and each call
 * closes one. */
static sc_conn *largest(sc_conn *c, size_t c_mem)
{
    sc_conn *best = c;
    size_t best_mem = c_mem;
    for (sc_conn *o = *c->host->conns; o; o = o->next)
        if (o != c && o->state != SC_CONN_DOOMED && o->state != SC_CONN_CLOSED &&
            o->mem > best_mem) {
            best = o;
            best_mem = o->mem;
        }
    return best;
}

/* Make room for `extra` more bytes of c's buffers under max_client_memory
 * by closing the connections that hold the most, c included. False when c
 * itself was closed (doomed). */
static bool make_room(sc_conn *c, size_t extra)
{
    uint64_t max = c->host->cfg->max_client_memory;
    while (max && lim.memory + extra > max) {
        sc_conn *v = largest(c, c->mem + extra);
        size_t held = v == c ? c->mem + extra : v->mem;
        char why[256];
        snprintf(why, sizeof(why),
                 "client memory: app connection buffers would hold %llu bytes, over "
                 "max_client_memory %llu; this connection holds the most (%zu bytes, %zu "
                 "unsent)",
                 (unsigned long long)(lim.memory + extra), (unsigned long long)max, held,
                 sc_buf_used(&v->out));
        SC_COUNT(disconnects_client_memory);
        tell_directly(v, SIDECAST__V1__ERROR_CODE__ERROR_LIMIT, why);
        sc_conn_doom(v, why);
        if (v == c)
            return false;
    }
    return true;
}

/* ---- unfinished frames (frame_timeout_ms) -------------------------------------- */

static void partial_remove(sc_conn *c)
{
    if (!c->partial)
        return;
    if (c->partial_prev)
        c->partial_prev->partial_next = c->partial_next;
    else
        lim.partial_head = c->partial_next;
    if (c->partial_next)
        c->partial_next->partial_prev = c->partial_prev;
    else
        lim.partial_tail = c->partial_prev;
    c->partial_prev = c->partial_next = NULL;
    c->partial = false;
}

static void partial_unlink(sc_conn *c)
{
    partial_remove(c);
    if (!lim.partial_head && lim.loop)
        ev_timer_stop(lim.loop, &lim.partial_timer);
}

/* Arm the timer for the head's deadline (at most PARTIAL_CHECK_MAX_S away). */
static void partial_arm(void)
{
    const sc_conn *h = lim.partial_head;
    if (!h)
        return;
    uint64_t ms = h->host->cfg->frame_timeout_ms;
    double left = ms ? h->partial_since + (double)ms / 1000.0 - (double)sc_now_us() / 1e6 : 1e9;
    left = SC_MIN(left, PARTIAL_CHECK_MAX_S);
    ev_timer_stop(lim.loop, &lim.partial_timer);
    ev_timer_set(&lim.partial_timer, SC_MAX(left, 0.001), 0.);
    ev_timer_start(lim.loop, &lim.partial_timer);
}

static void partial_append(sc_conn *c)
{
    c->partial_since = (double)sc_now_us() / 1e6; /* monotonic: a clock step moves nothing */
    c->partial_prev = lim.partial_tail;
    c->partial_next = NULL;
    if (lim.partial_tail)
        lim.partial_tail->partial_next = c;
    else
        lim.partial_head = c;
    lim.partial_tail = c;
    c->partial = true;
    if (!lim.loop) {
        lim.loop = c->host->loop;
        ev_timer_init(&lim.partial_timer, on_partial_timer, 1.0, 0.);
    }
    if (!ev_is_active(&lim.partial_timer))
        partial_arm();
}

/* After a read: c holds part of a frame (keep it where it is when that
 * frame was already there, move it to the tail when a new one began). */
static void track_partial(sc_conn *c, unsigned frames_done)
{
    if (c->state != SC_CONN_OPEN || sc_buf_used(&c->in) == 0) {
        partial_unlink(c);
        return;
    }
    if (c->partial && !frames_done)
        return;
    partial_remove(c);
    partial_append(c);
}

/* From the timer (top of a callback: c may be closed here). */
static void frame_timeout(sc_conn *c)
{
    const sc_config *cfg = c->host->cfg;
    size_t got = sc_buf_used(&c->in);
    char want[64] = "of its 4-byte length";
    if (got >= SC_FRAME_HEADER) {
        const uint8_t *p = sc_buf_head(&c->in);
        uint32_t len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        snprintf(want, sizeof(want), "of %llu", (unsigned long long)len + SC_FRAME_HEADER);
    }
    partial_unlink(c);
    SC_COUNT(frame_timeouts);
    sc_conn_error(c, 0, SIDECAST__V1__ERROR_CODE__ERROR_TIMEOUT, NULL, true,
                  "frame incomplete after frame_timeout_ms %llu: %zu byte(s) %s received",
                  (unsigned long long)cfg->frame_timeout_ms, got, want);
    sc_buf_free(&c->in); /* what the timeout is for: the partial frame goes now */
    account(c);
    if (c->state == SC_CONN_DRAINING)
        sc_conn_flush(c); /* closes it once the error is written */
    if (c->state != SC_CONN_CLOSED)
        sc_conn_close(c, "frame timeout; the error frame could not be written at once");
}

static void on_partial_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    double now = (double)sc_now_us() / 1e6;
    while (lim.partial_head) {
        sc_conn *c = lim.partial_head;
        uint64_t ms = c->host->cfg->frame_timeout_ms;
        if (c->state != SC_CONN_OPEN) {
            partial_remove(c); /* no longer reading: closes by other means */
            continue;
        }
        if (!ms || c->partial_since + (double)ms / 1000.0 > now)
            break;
        frame_timeout(c);
    }
    partial_arm();
}

sc_conn *sc_conn_new(const sc_conn_host *host, struct sc_server *srv, int fd)
{
    sc_conn *c = sc_xcalloc(1, sizeof(*c));
    sc_owner_init(&c->owner, c);
    c->host = host;
    c->srv = srv;
    c->fd = fd;
    c->id = ++*host->next_id;
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
    /* When an app's frames and a cluster request are ready in one loop
     * iteration, the frames go first (libev runs the pending watchers of
     * one priority last-ready first): a change an app sent before the
     * request reached this node (socket.data, a join) is in the answer. */
    ev_set_priority(&c->rio, 1);
    c->rio.data = c->wio.data = c;
    ev_io_start(host->loop, &c->rio);
    return c;
}

void sc_conn_free(sc_conn *c)
{
    if (!c)
        return;
    ev_io_stop(c->host->loop, &c->rio);
    ev_io_stop(c->host->loop, &c->wio);
    if (c->fd >= 0)
        close(c->fd);
    sc_owner_free(&c->owner);
    partial_unlink(c);
    release_memory(c);
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
        c->host->remove_socket(c, socks[i]);
    free(socks);
    return n;
}

void sc_conn_close(sc_conn *c, const char *reason)
{
    if (c->state == SC_CONN_CLOSED)
        return;
    c->state = SC_CONN_CLOSED;
    ev_io_stop(c->host->loop, &c->rio);
    ev_io_stop(c->host->loop, &c->wio);
    partial_unlink(c);
    release_memory(c);
    c->host->conn_closing(c);
    size_t n = remove_sockets(c);
    SC_COUNT_N(sockets_unregistered, n);
    SC_COUNT(connections_closed);
    SC_COUNT_N(output_discarded_bytes, sc_buf_used(&c->out));
    sc_log(n || strcmp(reason, "closed by app") ? SC_LOG_INFO : SC_LOG_DEBUG,
           "%s closed: %s; %zu socket(s) unregistered", sc_conn_label(c), reason, n);
    c->host->closed(c);
}

void sc_conn_doom(sc_conn *c, const char *reason)
{
    if (c->state == SC_CONN_DOOMED || c->state == SC_CONN_CLOSED)
        return;
    c->state = SC_CONN_DOOMED;
    snprintf(c->doom_reason, sizeof(c->doom_reason), "%s", reason);
    ev_io_stop(c->host->loop, &c->rio);
    ev_io_stop(c->host->loop, &c->wio);
    partial_unlink(c);
    release_memory(c); /* nothing more is queued or read: freed at close */
    c->host->doomed(c);
}

void sc_conn_drain(sc_conn *c)
{
    if (c->state != SC_CONN_OPEN)
        return;
    c->state = SC_CONN_DRAINING;
    ev_io_stop(c->host->loop, &c->rio);
    partial_unlink(c);
    c->host->want_flush(c);
}

/* The output bound policy for a frame of `need` bytes: 0 to queue it,
 * -ENOBUFS (volatile dropped) or -EPIPE (closed, or doomed now). Past
 * max_client_memory, a volatile frame is dropped and anything else closes
 * the connections holding the most (this one too, if it is the largest). */
static int admit(sc_conn *c, size_t need, bool is_volatile)
{
    if (c->state == SC_CONN_CLOSED || c->state == SC_CONN_DOOMED || c->fatal_queued)
        return -EPIPE;
    const sc_config *cfg = c->host->cfg;
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
    size_t extra = cap_after(&c->out, need) - c->out.cap;
    uint64_t max = cfg->max_client_memory;
    if (extra && max && lim.memory + extra > max) {
        if (is_volatile) {
            SC_COUNT(drops_volatile_client_memory);
            sc_log_limited(SC_LOG_WARN,
                           "%s: dropping volatile message: app connection buffers hold %llu "
                           "bytes (max_client_memory %llu)",
                           sc_conn_label(c), (unsigned long long)lim.memory,
                           (unsigned long long)max);
            return -ENOBUFS;
        }
        if (!make_room(c, extra))
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
    account(c);
    SC_COUNT(frames_out);
    SC_METRIC_FRAME_OUT(f->msg_case);
    c->host->want_flush(c);
    return 0;
}

int sc_conn_send_encoded(sc_conn *c, uint64_t id, uint32_t field, const uint8_t *body, size_t len,
                         const uint8_t *tail, size_t tail_len, bool is_volatile)
{
    int r = admit(c, sc_wire_frame_size(id, field, len + tail_len), is_volatile);
    if (r < 0)
        return r;
    sc_wire_append_frame(&c->out, id, field, body, len, tail, tail_len);
    account(c);
    SC_COUNT(frames_out);
    SC_METRIC_FRAME_OUT(field);
    c->host->want_flush(c);
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
            ev_io_start(c->host->loop, &c->wio);
            return false;
        }
        char why[128];
        snprintf(why, sizeof(why), "write failed: %s", n < 0 ? strerror(errno) : "EOF");
        sc_conn_close(c, why);
        return false;
    }
    ev_io_stop(c->host->loop, &c->wio);
    sc_buf_shrink(&c->out, 256 * 1024);
    account(c);
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

/* Dispatch every whole frame in the input buffer; returns how many. */
static unsigned process_input(sc_conn *c)
{
    const sc_conn_host *host = c->host;
    unsigned done = 0;
    while (c->state == SC_CONN_OPEN) {
        uint32_t len;
        int r = sc_wire_peek(sc_buf_head(&c->in), sc_buf_used(&c->in),
                             (uint32_t)host->cfg->max_frame_bytes, &len);
        if (r == 0)
            break;
        if (r < 0) {
            SC_COUNT(refused_too_large);
            sc_conn_error(c, 0, SIDECAST__V1__ERROR_CODE__ERROR_TOO_LARGE, NULL, true,
                          "frame of %u bytes over max_frame_bytes %llu", len,
                          (unsigned long long)host->cfg->max_frame_bytes);
            break;
        }
        SC_COUNT(frames_in);
        sc_frame *f = sc_wire_unpack(host->arena, sc_buf_head(&c->in) + SC_FRAME_HEADER, len);
        if (!f) {
            SC_COUNT(refused_malformed);
            sc_conn_error(c, 0, SIDECAST__V1__ERROR_CODE__ERROR_MALFORMED, NULL, true,
                          "malformed frame of %u bytes: not a sidecast.v1.Frame", len);
        } else {
            SC_METRIC_FRAME_IN(f->msg_case);
            c->cur_body = sc_buf_head(&c->in) + SC_FRAME_HEADER;
            c->cur_len = len;
            host->frame(c, f);
            c->cur_body = NULL;
        }
        sc_arena_reset(host->arena);
        sc_buf_consume(&c->in, SC_FRAME_HEADER + len);
        done++;
    }
    return done;
}

static void on_read(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    sc_conn *c = w->data;
    size_t extra = cap_after(&c->in, READ_CHUNK) - c->in.cap;
    if (extra && !make_room(c, extra))
        return; /* c was the largest: doomed */
    uint8_t *p = sc_buf_reserve(&c->in, READ_CHUNK);
    account(c);
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
    unsigned done = process_input(c);
    if (c->state == SC_CONN_CLOSED)
        return;
    if (c->state == SC_CONN_DRAINING)
        sc_buf_free(&c->in); /* reads no more: nothing in it will be used */
    else
        sc_buf_shrink(&c->in, 256 * 1024);
    account(c);
    track_partial(c, done);
}
