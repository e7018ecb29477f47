/* redis: one hiredis async connection on the libev loop that keeps itself
 * connected: connect timeout, AUTH (ACL user + password) and SELECT on every
 * connect, reconnect with exponential backoff and jitter, and a liveness
 * probe (PING) that declares a Redis which stops answering (SIGSTOP, a dead
 * network path) down after command_timeout instead of waiting forever —
 * hiredis 0.14 has no timeouts of its own.
 *
 * The owner is told of every up/down transition. Commands may only be sent
 * while up; the owner queues what it must keep (see cluster_send.c's outbox).
 *
 * It owns one connection: its hiredis context, timers and backoff. It knows
 * nothing of the cluster or of what it carries: it reads no sc_config (the
 * owner passes sc_redis_opts) and reaches its owner (cluster_core.c) only
 * through the callbacks it is given (sc_redis_new's, and each command's). */
#ifndef SC_REDIS_H
#define SC_REDIS_H

#include <ev.h>
#include <hiredis/async.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct sc_redis_url {
    char *host; /* TCP, or NULL */
    int port;
    char *path; /* Unix socket, or NULL */
    char *user;
    char *password;
    int db;
} sc_redis_url;

/* Parse redis://[user:password@]host[:port][/db] or unix:///path[?db=N].
 * The userinfo reads as in RFC 3986: redis://user@host names a user and no
 * password, redis://:password@host a password alone. Returns 0 or -EINVAL
 * with a reason in err. */
int sc_redis_url_parse(const char *url, sc_redis_url *ret, char *err, size_t errlen);
void sc_redis_url_free(sc_redis_url *u);
/* "host:port/db" or "unix:/path": never the credentials. Static buffer. */
const char *sc_redis_url_safe(const sc_redis_url *u);

typedef struct sc_redis sc_redis;
/* up: the connection is ready (AUTH/SELECT sent first); down: it is gone
 * and a reconnect is scheduled. `why` says what happened. */
typedef void (*sc_redis_state_fn)(sc_redis *r, bool up, const char *why, void *ud);

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
    redisCallbackFn *quiet_reply; /* gets each quiet reply, pd = the owner's ud */
} sc_redis_opts;

sc_redis *sc_redis_new(struct ev_loop *loop, const sc_redis_url *url, const sc_redis_opts *o,
                       sc_redis_state_fn fn, void *ud);
/* Begin connecting; reconnects forever until sc_redis_free. */
void sc_redis_start(sc_redis *r);
/* Drop the connection now (pending callbacks get NULL replies) and
 * reconnect after the backoff. Never call from inside a hiredis callback:
 * it is deferred to the next loop iteration then. */
void sc_redis_reconnect(sc_redis *r, const char *why);
/* Close and free. Pending callbacks get NULL replies. NULL-safe. */
void sc_redis_free(sc_redis *r);

bool sc_redis_is_up(const sc_redis *r);
/* The live context, or NULL when down. Borrowed. */
redisAsyncContext *sc_redis_ctx(sc_redis *r);
uint64_t sc_redis_reconnects(const sc_redis *r);
/* sc_now_us() of when the connection was last lost (or of sc_redis_new if it
 * never came up); 0 while it is up. */
uint64_t sc_redis_down_since(const sc_redis *r);

/* Sending, while up (sc_redis_ctx non-NULL). Every command goes through one
 * of these, so the connection knows which replies someone waits for.
 *
 * A quiet command's reply matters only if it is an error: a PUBLISH to a
 * room channel, whose reply comes just as Redis hands the message to the
 * receiving node; waking for each of them costs the emit a scheduling delay
 * on a small machine. While only quiet replies are due, the connection is
 * not watched for reading: they are read once a command someone waits for
 * is sent, or by a timer quiet_defer_ms later. Each is still read and matched
 * in order (o.quiet_reply counts errors, and NULL for the ones a dropped
 * connection never answered). `cmd` is formatted RESP.
 * Each returns 0, or -1 when hiredis refuses the command because the
 * connection is being torn down (its callback will never run). */
int sc_redis_send_quiet(sc_redis *r, const char *cmd, size_t len);
int sc_redis_command_formatted(sc_redis *r, redisCallbackFn *cb, void *pd, const char *cmd,
                               size_t len);
int sc_redis_command_argv(sc_redis *r, redisCallbackFn *cb, void *pd, int argc,
                          const char **argv, const size_t *lens);

#endif
