/* redis: one Redis connection on the libev loop that keeps itself
 * connected: TCP or a Unix socket, TLS for rediss:// (redis_io.c,
 * redis_tls.c), RESP through hiredis' reply reader and command formatter.
 * Connect timeout, AUTH (ACL user + password) and SELECT on every connect,
 * reconnect with exponential backoff and jitter, and a liveness probe (PING)
 * that declares a Redis which stops answering (SIGSTOP, a dead network path)
 * down after command_timeout instead of waiting forever.
 *
 * Replies are matched to commands in order. Once a SUBSCRIBE-family command
 * (SUBSCRIBE, SSUBSCRIBE, PSUBSCRIBE and their UN-) has been sent, the
 * connection is in pub/sub mode: every pushed message and subscription
 * confirmation goes to the callback given with the last such command, as
 * does a reply no command waits for (an error for a SUBSCRIBE).
 *
 * The owner is told of every up/down transition. Commands may only be sent
 * while up; the owner queues what it must keep (see cluster_send.c's outbox).
 * A connection dropped answers each command still waiting with a NULL reply,
 * before the owner hears it is down.
 *
 * It owns one connection: its socket, output buffer, reader, timers and
 * backoff. It knows nothing of the cluster or of what it carries: it reads
 * no sc_config (the owner passes sc_redis_opts) and reaches its owner
 * (cluster_core.c) only through the callbacks it is given (sc_redis_new's,
 * and each command's). Callbacks must not free the connection. */
#ifndef SC_REDIS_H
#define SC_REDIS_H

#include "redis_tls.h"
#include "redis_url.h"

#include <ev.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct sc_redis sc_redis;
/* A command's reply (a redisReply, freed after the call), or NULL when the
 * connection was dropped before it came. */
typedef void sc_redis_reply_fn(sc_redis *r, void *reply, void *pd);
/* up: the connection is ready (AUTH/SELECT sent first); down: it is gone
 * and a reconnect is scheduled. `why` says what happened. */
typedef void (*sc_redis_state_fn)(sc_redis *r, bool up, const char *why, void *ud);
/* Where to connect now (Sentinel: the primary a sentinel named, or the
 * sentinel to ask): false while nothing is known, and the attempt waits for
 * the backoff. `host` is borrowed until the call returns. */
typedef bool (*sc_redis_target_fn)(void *ud, const char **host, int *port);
/* The password to log in with now (a file rotated since the start), or
 * NULL to keep the one it has. Borrowed until the call returns. */
typedef const char *(*sc_redis_password_fn)(void *ud);

typedef struct sc_redis_opts {
    const char *name; /* "publish" / "subscribe", for logs */
    uint64_t connect_timeout_ms;
    uint64_t command_timeout_ms;
    uint64_t reconnect_min_ms;
    uint64_t reconnect_max_ms;
    bool probe; /* send PING to detect a stuck server (not on pub/sub conns) */
    /* how long quiet replies may wait unread (see sc_redis_send_quiet), read
     * at each use so a reload applies; NULL or 0: read every reply at once */
    const uint64_t *quiet_defer_ms;
    sc_redis_reply_fn *quiet_reply; /* gets each quiet reply, pd = quiet_ud or the owner's ud */
    void *quiet_ud;
    /* rediss://: the TLS context (borrowed; outlives the connection). Its
     * files are re-read before a connect when they changed. */
    sc_tls *tls;
    /* NULL: the URL's host and port. Else asked before every connect. */
    sc_redis_target_fn target;
    /* ask ROLE after logging in, and count as up only on a primary: a
     * failover may leave a name or address on a node that became a replica */
    bool want_primary;
    /* NULL: the URL's password. Else asked before every login, with
     * password_ud (NULL: the connection's ud). */
    sc_redis_password_fn password;
    void *password_ud;
} sc_redis_opts;

sc_redis *sc_redis_new(struct ev_loop *loop, const sc_redis_url *url, const sc_redis_opts *o,
                       sc_redis_state_fn fn, void *ud);
/* Begin connecting; reconnects forever until sc_redis_free. */
void sc_redis_start(sc_redis *r);
/* Drop the connection and reconnect after the backoff. Deferred to the next
 * loop iteration, so it is safe inside a reply callback. */
void sc_redis_reconnect(sc_redis *r, const char *why);
/* Close and free. Pending callbacks get NULL replies. NULL-safe. */
void sc_redis_free(sc_redis *r);

bool sc_redis_is_up(const sc_redis *r);
/* Not connected nor connecting: waiting for the next attempt. */
bool sc_redis_is_down(const sc_redis *r);
/* When down, make the next attempt now instead of after the backoff. */
void sc_redis_connect_soon(sc_redis *r);
uint64_t sc_redis_reconnects(const sc_redis *r);
/* The round trip of the last probe (PING) answered, µs; 0: none yet (or
 * a connection without probes). */
uint64_t sc_redis_rtt_us(const sc_redis *r);
/* "host:port/db" (never credentials) of the server it goes to; "?" while a
 * target callback has named none. Static buffer. */
const char *sc_redis_where(const sc_redis *r);
/* sc_now_us() of when the connection was last lost (or of sc_redis_new if it
 * never came up); 0 while it is up. */
uint64_t sc_redis_down_since(const sc_redis *r);
/* Write what the commands of this loop iteration queued now, instead of at
 * the next writable event. */
void sc_redis_flush(sc_redis *r);

/* Sending, while up. Every command goes through one of these, so the
 * connection knows which replies someone waits for.
 *
 * A quiet command's reply matters only if it is an error: a PUBLISH to a
 * room channel, whose reply comes just as Redis hands the message to the
 * receiving node; waking for each of them costs the emit a scheduling delay
 * on a small machine. While only quiet replies are due, the connection is
 * not watched for reading: they are read once a command someone waits for
 * is sent, or by a timer quiet_defer_ms later. Each is still read and matched
 * in order (o.quiet_reply counts errors, and NULL for the ones a dropped
 * connection never answered). `cmd` is formatted RESP.
 * Each returns 0, or -1 when the connection is not up (the callback will
 * never run). */
int sc_redis_send_quiet(sc_redis *r, const char *cmd, size_t len);
int sc_redis_command_formatted(sc_redis *r, sc_redis_reply_fn *cb, void *pd, const char *cmd,
                               size_t len);
/* A quiet command whose reply still matters, only not at once: cb runs
 * when the reply is read (with the next command someone waits for, or
 * quiet_defer_ms later), not from a wake-up of its own. */
int sc_redis_command_deferred(sc_redis *r, sc_redis_reply_fn *cb, void *pd, const char *cmd,
                              size_t len);
int sc_redis_command_argv(sc_redis *r, sc_redis_reply_fn *cb, void *pd, int argc,
                          const char **argv, const size_t *lens);

#endif
