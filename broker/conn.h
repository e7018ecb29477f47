/* conn: one app connection: reading and splitting frames, the bounded output
 * buffer, and closing. Writes are queued and flushed once per loop iteration
 * (before the loop sleeps), so a burst of Delivers costs one write(2).
 *
 * Output bounds (the backpressure policy):
 *   - above output_buffer_soft unsent bytes, volatile frames are dropped;
 *   - a frame that would take it above output_buffer_hard closes the
 *     connection as a slow reader.
 * Both are counted and logged (rate-limited).
 *
 * Bounds across connections:
 *   - a frame begun and not completed within frame_timeout_ms closes the
 *     connection with Error{TIMEOUT} (frame_timeouts): one FIFO of the
 *     connections holding part of a frame, ordered by when that frame
 *     began, checked from its head by one timer;
 *   - the input and output buffers of all app connections together stay
 *     under max_client_memory (the total is kept up to date on every growth
 *     and shrink): a volatile frame that would take it over is dropped
 *     (drops_volatile_client_memory), anything else closes the connection
 *     holding the most buffer memory (disconnects_client_memory).
 *
 * A connection is never freed inside its own callbacks: sc_conn_close marks
 * it and the server frees it from its prepare watcher.
 *
 * It owns each connection's buffers and the bounds across connections (the
 * client memory total, the FIFO of unfinished frames). It reaches the
 * modules above it only through the sc_conn_host it is given (below; see
 * conn.c). */
#ifndef SC_CONN_H
#define SC_CONN_H

#include "buf.h"
#include "config.h"
#include "registry.h"
#include "wire.h"

#include <ev.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/types.h>

struct sc_server;
struct sc_conn;

/* What a connection may use of whoever accepted it, given to sc_conn_new:
 * conn.c reaches up only through this (it includes no module above it).
 * The server fills it once; the pointers point into the server. */
typedef struct sc_conn_host {
    struct ev_loop *loop;
    const sc_config *cfg;
    sc_arena *arena;        /* frames are unpacked here; reset after each */
    struct sc_conn **conns; /* the list of every connection (prev/next) */
    uint64_t *next_id;      /* connection ids, counted up */
    /* A frame arrived (c->cur_body/cur_len are its encoded bytes). */
    void (*frame)(struct sc_conn *c, const sc_frame *f);
    /* c is closing: end what it asked for and unregister one of its sockets. */
    void (*conn_closing)(struct sc_conn *c);
    void (*remove_socket)(struct sc_conn *c, sc_socket *s);
    /* c closed (free it later), doomed (close it before the loop sleeps),
     * has output to flush before the loop sleeps. */
    void (*closed)(struct sc_conn *c);
    void (*doomed)(struct sc_conn *c);
    void (*want_flush)(struct sc_conn *c);
} sc_conn_host;

/* DOOMED: must close, but is still linked: a send found it over its hard
 * bound deep inside some other operation (a fan-out, a request), where
 * closing would free what the caller still holds. The server closes it
 * before the loop sleeps. */
typedef enum { SC_CONN_OPEN, SC_CONN_DRAINING, SC_CONN_DOOMED, SC_CONN_CLOSED } sc_conn_state;

typedef struct sc_conn {
    sc_owner owner; /* this connection's sockets in the registry */
    const sc_conn_host *host;
    struct sc_server *srv; /* for the modules above (dispatch, requests); conn.c never reads it */
    ev_io rio, wio;
    int fd;
    uint64_t id;
    pid_t pid;
    uid_t uid;
    gid_t gid;
    char name[64];
    sc_conn_state state;
    bool handshaken;
    uint64_t features; /* Feature bits both this sidecastd and the app have (Hello) */
    bool queued; /* on the server's flush list */
    bool fatal_queued; /* a fatal Error is queued: it must be the last frame */
    sc_buf in, out;
    struct sc_conn *prev, *next;   /* all connections */
    struct sc_conn *flush_next;    /* connections with output to flush */
    struct sc_conn *closed_next;   /* closed, waiting to be freed */
    struct sc_conn *doomed_next;   /* to close before the loop sleeps */
    const uint8_t *cur_body;       /* the encoded frame being dispatched */
    size_t cur_len;
    char doom_reason[256];
    uint32_t npending; /* cluster requests of this connection in flight */

    /* bounds across connections (frame_timeout_ms, max_client_memory) */
    size_t mem;           /* in.cap + out.cap, as counted in the client memory total */
    bool partial;         /* on the list of connections holding an unfinished frame */
    double partial_since; /* monotonic time (s) that frame began */
    struct sc_conn *partial_prev, *partial_next; /* that list, oldest first */
} sc_conn;

/* Takes ownership of fd (non-blocking, close-on-exec). */
sc_conn *sc_conn_new(const sc_conn_host *host, struct sc_server *srv, int fd);
/* Closes the socket and frees everything; only the server calls it. */
void sc_conn_free(sc_conn *c);

/* Queue a frame. Returns 0, -ENOBUFS when a volatile frame was dropped, or
 * -EPIPE when the connection is closed (or was just closed for exceeding
 * output_buffer_hard). */
int sc_conn_send(sc_conn *c, const sc_frame *f, bool is_volatile);

/* Same, for a Frame whose oneof member `field` is the encoded `body`. */
int sc_conn_send_raw(sc_conn *c, uint32_t field, const uint8_t *body, size_t len,
                     bool is_volatile);
/* Same, with request id `id`, and the encoded member being body then tail
 * (fields appended to bytes passed through, e.g. SocketList.more). */
int sc_conn_send_encoded(sc_conn *c, uint64_t id, uint32_t field, const uint8_t *body, size_t len,
                         const uint8_t *tail, size_t tail_len, bool is_volatile);

/* Queue an Error frame answering request `id` (0 for fire-and-forget). With
 * fatal, stop reading and close once it is flushed. */
void sc_conn_error(sc_conn *c, uint64_t id, int code, const char *ref, bool fatal,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Stop at once; the reason is logged. Idempotent. Only from the top of a
 * callback (never from inside a send): use sc_conn_doom there. */
void sc_conn_close(sc_conn *c, const char *reason);
/* Stop reading and sending now; close before the loop sleeps. */
void sc_conn_doom(sc_conn *c, const char *reason);
/* Stop reading, close after the output is flushed. */
void sc_conn_drain(sc_conn *c);

/* Write queued output; called by the server before the loop sleeps.
 * Returns true when everything was written. */
bool sc_conn_flush(sc_conn *c);

/* Output queued on the connections of list `c` (linked by next); for gauges. */
uint64_t sc_conn_output_bytes(const sc_conn *c);
/* Bytes allocated for the input and output buffers of every open app
 * connection (what max_client_memory bounds); for gauges. */
uint64_t sc_conn_client_memory(void);
/* Best effort: a fatal Error{code, msg} written straight to fd, never
 * queued (a refused or closing peer, nothing of another frame unsent). */
void sc_conn_tell_fd(int fd, int code, const char *msg);

/* "conn 12 (chat-worker pid 4121)" for log lines; static buffer. */
const char *sc_conn_label(const sc_conn *c);

#endif
