/* redis: one self-reconnecting Redis connection. See redis.h for what it
 * owns and may not touch.
 *
 * Each connection attempt has a number (gen). Everything queued on a
 * connection dies with it: its output, its reader, and the commands still
 * waiting, which are answered with NULL before the owner hears "down". Reply
 * callbacks run from read events only, and a forced reconnect is deferred to
 * a zero-delay timer, so a connection is never torn down under a callback. */
#include "redis.h"
#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "redis_io.h"
#include "stats.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { ST_DOWN, ST_CONNECTING, ST_HANDSHAKE, ST_READYING, ST_UP };

#define READ_CHUNK 16384
#define OUT_KEEP (64 * 1024) /* output buffer capacity kept once drained */

typedef struct pending {
    sc_redis_reply_fn *cb;
    void *pd;
    bool quiet;
} pending;

struct sc_redis {
    struct ev_loop *loop;
    sc_redis_url url;
    sc_redis_opts o;
    char name[32];
    sc_redis_state_fn fn;
    void *ud;
    int state;
    bool closing;
    /* AUTH or SELECT was refused on the current connection: it never counts
     * as up (the PING after them may still succeed, as the default user or
     * in database 0), and is recycled */
    bool refused;
    uint64_t gen;
    sc_rio io;
    redisReader *reader;
    sc_buf out;
    /* commands waiting for their replies, oldest first (a ring) */
    pending *q;
    size_t qhead, qlen, qcap;
    size_t loud; /* of them, the ones that are not quiet */
    bool pubsub;
    sc_redis_reply_fn *push_cb;
    void *push_pd;
    bool hs_want_write; /* the TLS handshake waits for writable */
    ev_io rev, wev;
    ev_timer defer;   /* reads quiet replies nobody else read */
    ev_timer retry;   /* backoff before the next connect */
    ev_timer connect; /* connect timeout, until up */
    ev_timer probe;   /* PING every command_timeout/2 */
    ev_timer kick;    /* deferred forced reconnect */
    uint32_t attempt;
    uint64_t reconnects;
    bool probe_pending;
    uint64_t probe_sent_us;
    uint64_t probe_rtt_us; /* the last answered probe's round trip */
    uint64_t down_since_us; /* 0 while up */
    char kick_why[160];
    uint64_t kick_gen; /* the connection (gen) the pending kick is for */
};

static void schedule_retry(sc_redis *r);
static void watch(sc_redis *r);

/* hiredis' allocations fail only without memory: abort, as util.c does */
static void oom(const char *what)
{
    fprintf(stderr, "sidecast: out of memory %s, aborting\n", what);
    abort();
}

/* ---- the queue of commands waiting for replies ------------------------------ */

static void q_push(sc_redis *r, sc_redis_reply_fn *cb, void *pd, bool quiet)
{
    if (r->qlen == r->qcap) {
        size_t ncap = r->qcap ? r->qcap * 2 : 64;
        pending *nq = sc_xmalloc(ncap * sizeof(*nq));
        for (size_t i = 0; i < r->qlen; i++)
            nq[i] = r->q[(r->qhead + i) % r->qcap];
        free(r->q);
        r->q = nq;
        r->qcap = ncap;
        r->qhead = 0;
    }
    r->q[(r->qhead + r->qlen) % r->qcap] = (pending){cb, pd, quiet};
    r->qlen++;
    if (!quiet)
        r->loud++;
}

static pending q_pop(sc_redis *r)
{
    pending p = r->q[r->qhead];
    r->qhead = (r->qhead + 1) % r->qcap;
    r->qlen--;
    if (!p.quiet)
        r->loud--;
    return p;
}

/* ---- going down ---------------------------------------------------------------- */

static void close_conn(sc_redis *r)
{
    ev_io_stop(r->loop, &r->rev);
    ev_io_stop(r->loop, &r->wev);
    ev_timer_stop(r->loop, &r->defer);
    ev_timer_stop(r->loop, &r->connect);
    ev_timer_stop(r->loop, &r->probe);
    sc_rio_close(&r->io);
    if (r->reader)
        redisReaderFree(r->reader);
    r->reader = NULL;
    sc_buf_consume(&r->out, sc_buf_used(&r->out));
    sc_buf_shrink(&r->out, OUT_KEEP);
    r->state = ST_DOWN;
    r->gen++;
    r->pubsub = false;
    r->probe_pending = false;
}

/* Each command still waiting hears that no reply will come. */
static void fail_pending(sc_redis *r)
{
    while (r->qlen) {
        pending p = q_pop(r);
        p.cb(r, NULL, p.pd);
    }
}

static void go_down(sc_redis *r, bool was_up, const char *why)
{
    if (was_up || !r->down_since_us)
        r->down_since_us = sc_now_us();
    if (was_up)
        sc_log_limited(SC_LOG_WARN, "redis %s connection to %s lost: %s; reconnecting", r->name,
                       sc_redis_url_safe(&r->url), why);
    else
        sc_log_limited(SC_LOG_WARN, "redis %s connection to %s failed: %s; retrying", r->name,
                       sc_redis_url_safe(&r->url), why);
    r->fn(r, false, why, r->ud);
    schedule_retry(r);
}

static void drop(sc_redis *r, const char *why)
{
    if (r->state == ST_DOWN)
        return;
    bool was_up = r->state == ST_UP;
    char reason[256];
    snprintf(reason, sizeof(reason), "%s", why); /* why may live in what is freed */
    close_conn(r);
    fail_pending(r);
    if (!r->closing)
        go_down(r, was_up, reason);
}

/* ---- replies ----------------------------------------------------------------------- */

static bool is_push(const redisReply *rep)
{
    static const char *const kinds[] = {"message",   "smessage",    "pmessage",
                                        "subscribe", "ssubscribe",  "psubscribe",
                                        "unsubscribe", "sunsubscribe", "punsubscribe"};
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
        rep->element[0]->type != REDIS_REPLY_STRING)
        return false;
    for (size_t i = 0; i < SC_ARRAY_LEN(kinds); i++)
        if (strcmp(rep->element[0]->str, kinds[i]) == 0)
            return true;
    return false;
}

static void dispatch(sc_redis *r, redisReply *rep)
{
    if (r->pubsub && (is_push(rep) || r->qlen == 0)) {
        if (r->push_cb)
            r->push_cb(r, rep, r->push_pd);
        return;
    }
    if (r->qlen == 0) {
        /* every later reply would go to the wrong command: drop now
         * (take_replies stops, the connection number changed) */
        sc_log_limited(SC_LOG_ERROR, "redis %s: a reply no command waits for; reconnecting",
                       r->name);
        drop(r, "a reply no command waits for");
        return;
    }
    pending p = q_pop(r);
    p.cb(r, rep, p.pd);
    /* the node was demoted under this connection (a failover that left the
     * connection open): find the primary again, through the sentinels or
     * by resolving the URL's name anew (a provider's primary endpoint) */
    if (rep->type == REDIS_REPLY_ERROR &&
        strncmp(rep->str, "READONLY", 8) == 0)
        sc_redis_reconnect(r, "READONLY: this node is no longer the primary");
}

/* Hand every complete reply to its callback. False once the connection
 * that read them is gone. */
static bool take_replies(sc_redis *r, uint64_t gen)
{
    for (;;) {
        void *reply = NULL;
        if (redisReaderGetReply(r->reader, &reply) != REDIS_OK) {
            char why[160];
            snprintf(why, sizeof(why), "protocol error: %s", r->reader->errstr);
            drop(r, why);
            return false;
        }
        if (!reply)
            return true;
        dispatch(r, reply);
        freeReplyObject(reply);
        if (r->gen != gen)
            return false;
    }
}

static const char *closed_why(const sc_redis *r)
{
    if (r->state == ST_READYING && !r->url.tls)
        return "closed by the server before it answered (a TLS port reached with redis://? "
               "use rediss://)";
    return "closed by the server";
}

/* At most `reads` reads of READ_CHUNK, so one busy connection cannot hold
 * the loop; TLS may hold decrypted bytes the socket will not signal again,
 * so the watcher is fed once more for them. */
static void read_some(sc_redis *r, int reads)
{
    uint64_t gen = r->gen;
    char buf[READ_CHUNK], err[200];
    for (int i = 0; i < reads; i++) {
        ssize_t n = sc_rio_read(&r->io, buf, sizeof(buf), err, sizeof(err));
        if (n == -1)
            break;
        if (n <= 0) {
            drop(r, n == 0 ? closed_why(r) : err);
            return;
        }
        redisReaderFeed(r->reader, buf, (size_t)n);
        if (!take_replies(r, gen))
            return;
        if ((size_t)n < sizeof(buf) && !sc_rio_buffered(&r->io))
            break;
    }
    if (sc_rio_buffered(&r->io))
        ev_feed_event(r->loop, &r->rev, EV_READ);
    watch(r);
}

/* ---- writing ------------------------------------------------------------------------ */

static void write_some(sc_redis *r)
{
    char err[200];
    while (sc_buf_used(&r->out)) {
        ssize_t n = sc_rio_write(&r->io, sc_buf_head(&r->out), sc_buf_used(&r->out), err,
                                 sizeof(err));
        if (n == -1)
            break;
        if (n < 0) {
            drop(r, err);
            return;
        }
        sc_buf_consume(&r->out, (size_t)n);
    }
    if (!sc_buf_used(&r->out))
        sc_buf_shrink(&r->out, OUT_KEEP);
    watch(r);
}

/* ---- which events to watch ------------------------------------------------------------ */

/* Held: only quiet replies are due, so the connection is not watched; the
 * defer timer reads them if nothing else does first. */
static bool held(const sc_redis *r)
{
    return r->state == ST_UP && !r->pubsub && r->o.quiet_defer_ms && *r->o.quiet_defer_ms &&
           r->qlen > 0 && r->loud == 0 && !r->io.write_wants_read;
}

static void set_watch(sc_redis *r, ev_io *w, bool on)
{
    if (on)
        ev_io_start(r->loop, w);
    else
        ev_io_stop(r->loop, w);
}

static void watch(sc_redis *r)
{
    bool rd = false, wr = false;
    switch (r->state) {
    case ST_CONNECTING:
        wr = true;
        break;
    case ST_HANDSHAKE:
        wr = r->hs_want_write;
        rd = !wr;
        break;
    case ST_READYING:
    case ST_UP:
        rd = !held(r);
        /* a TLS write that wants a read waits for readable, not writable */
        wr = (sc_buf_used(&r->out) > 0 && !r->io.write_wants_read) || r->io.read_wants_write;
        break;
    default:
        break;
    }
    set_watch(r, &r->rev, rd);
    set_watch(r, &r->wev, wr);
    if (r->state == ST_UP && !rd && r->qlen) {
        if (!ev_is_active(&r->defer)) {
            ev_timer_set(&r->defer, (double)*r->o.quiet_defer_ms / 1000.0, 0);
            ev_timer_start(r->loop, &r->defer);
        }
    } else {
        ev_timer_stop(r->loop, &r->defer);
    }
}

/* ---- sending -------------------------------------------------------------------------- */

static void queue_cmd(sc_redis *r, const char *cmd, size_t len, sc_redis_reply_fn *cb, void *pd,
                      bool quiet)
{
    sc_buf_append(&r->out, cmd, len);
    if (cb)
        q_push(r, cb, pd, quiet);
    watch(r);
}

/* AUTH, SELECT, PING: ours, sent while readying or up. */
static void send_own(sc_redis *r, sc_redis_reply_fn *cb, const char *fmt, ...)
{
    char *cmd = NULL;
    va_list ap;
    va_start(ap, fmt);
    int len = redisvFormatCommand(&cmd, fmt, ap);
    va_end(ap);
    if (len < 0)
        oom("formatting a redis command");
    queue_cmd(r, cmd, (size_t)len, cb, r, false);
    free(cmd);
}

static bool is_subscribe_verb(const char *v, size_t n)
{
    static const char *const verbs[] = {"SUBSCRIBE",   "SSUBSCRIBE",   "PSUBSCRIBE",
                                        "UNSUBSCRIBE", "SUNSUBSCRIBE", "PUNSUBSCRIBE"};
    for (size_t i = 0; i < SC_ARRAY_LEN(verbs); i++)
        if (strlen(verbs[i]) == n && strncasecmp(v, verbs[i], n) == 0)
            return true;
    return false;
}

int sc_redis_send_quiet(sc_redis *r, const char *cmd, size_t len)
{
    if (r->state != ST_UP)
        return -1;
    queue_cmd(r, cmd, len, r->o.quiet_reply, r->o.quiet_ud ? r->o.quiet_ud : r->ud, true);
    return 0;
}

int sc_redis_command_formatted(sc_redis *r, sc_redis_reply_fn *cb, void *pd, const char *cmd,
                               size_t len)
{
    if (r->state != ST_UP)
        return -1;
    queue_cmd(r, cmd, len, cb, pd, false);
    return 0;
}

int sc_redis_command_deferred(sc_redis *r, sc_redis_reply_fn *cb, void *pd, const char *cmd,
                              size_t len)
{
    if (r->state != ST_UP)
        return -1;
    queue_cmd(r, cmd, len, cb, pd, true);
    return 0;
}

int sc_redis_command_argv(sc_redis *r, sc_redis_reply_fn *cb, void *pd, int argc,
                          const char **argv, const size_t *lens)
{
    if (r->state != ST_UP || argc < 1)
        return -1;
    char *cmd = NULL;
    int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
    if (len < 0)
        oom("formatting a redis command");
    if (is_subscribe_verb(argv[0], lens[0])) {
        /* confirmations and messages come to the push callback */
        r->pubsub = true;
        r->push_cb = cb;
        r->push_pd = pd;
        queue_cmd(r, cmd, (size_t)len, NULL, NULL, false);
    } else {
        queue_cmd(r, cmd, (size_t)len, cb, pd, false);
    }
    free(cmd);
    return 0;
}

void sc_redis_flush(sc_redis *r)
{
    if (r && (r->state == ST_UP || r->state == ST_READYING) && sc_buf_used(&r->out))
        write_some(r);
}

/* ---- connecting ------------------------------------------------------------------------- */

static void on_auth_reply(sc_redis *r, void *reply, void *pd)
{
    redisReply *rep = reply;
    if (rep && rep->type == REDIS_REPLY_ERROR) {
        /* Nothing will work on this connection: treat it as down (the
         * owner keeps what it must) and retry with backoff. */
        char why[200];
        snprintf(why, sizeof(why), "AUTH/SELECT refused: %s (check redis_url)", rep->str);
        sc_log_limited(SC_LOG_ERROR, "redis %s: %s", r->name, why);
        r->refused = true;
        sc_redis_reconnect(r, why);
    }
}

/* ROLE's first element: master, slave or sentinel. Anything but a primary
 * is refused like a failed AUTH: the owner re-asks where the primary is. */
static void on_role_reply(sc_redis *r, void *reply, void *pd)
{
    redisReply *rep = reply;
    if (!rep)
        return;
    const char *role = rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
                               rep->element[0]->type == REDIS_REPLY_STRING
                           ? rep->element[0]->str
                           : NULL;
    if (role && strcmp(role, "master") == 0)
        return;
    char why[200];
    snprintf(why, sizeof(why), "%s is not a primary (ROLE: %s); asking where the primary is",
             sc_redis_url_safe(&r->url),
             role ? role : rep->type == REDIS_REPLY_ERROR ? rep->str : "?");
    sc_log_limited(SC_LOG_WARN, "redis %s: %s", r->name, why);
    r->refused = true;
    sc_redis_reconnect(r, why);
}

/* PING refused for want of a login: say so at once rather than wait for
 * the connect timeout. LOADING and the like are waited out. */
static void ready_refused(sc_redis *r, const char *err)
{
    if (strncmp(err, "NOAUTH", 6) != 0 && strncmp(err, "NOPERM", 6) != 0 &&
        strncmp(err, "WRONGPASS", 9) != 0)
        return;
    char why[300];
    snprintf(why, sizeof(why), "refused: %s (a password is needed: redis_password_file, or "
             "redis_sentinel_password_file for the sentinels)", err);
    sc_log_limited(SC_LOG_ERROR, "redis %s to %s: %s", r->name, sc_redis_url_safe(&r->url), why);
    r->refused = true;
    sc_redis_reconnect(r, why);
}

static void on_ready_reply(sc_redis *r, void *reply, void *pd)
{
    const redisReply *rep = reply;
    if (rep && rep->type == REDIS_REPLY_ERROR && !r->refused)
        ready_refused(r, rep->str);
    /* NULL: dropped meanwhile; an error (LOADING...) is not ready: the
     * connect timer recycles the connection */
    if (!rep || rep->type == REDIS_REPLY_ERROR || r->state != ST_READYING || r->refused)
        return;
    ev_timer_stop(r->loop, &r->connect);
    r->state = ST_UP;
    r->down_since_us = 0;
    if (r->attempt > 0)
        r->reconnects++;
    r->attempt = 0;
    const char *tls = sc_rio_describe(&r->io);
    sc_info("redis %s connection to %s established%s%s", r->name, sc_redis_url_safe(&r->url),
            tls[0] ? " over " : "", tls);
    if (r->o.probe) {
        ev_timer_set(&r->probe, r->o.command_timeout_ms / 2000.0, r->o.command_timeout_ms / 2000.0);
        ev_timer_start(r->loop, &r->probe);
    }
    watch(r);
    r->fn(r, true, "connected", r->ud);
}

/* The stream is open (TLS included): log in, then PING. The kernel
 * completes a TCP connect even for a Redis that is frozen (SIGSTOP) or
 * stuck: up only once it answers, so that until then the owner keeps its
 * messages (outbox) instead of writing them into a connection nobody reads.
 * The connect timer still runs. */
static void start_session(sc_redis *r)
{
    r->state = ST_READYING;
    r->refused = false;
    const char *pw =
        r->o.password ? r->o.password(r->o.password_ud ? r->o.password_ud : r->ud) : NULL;
    if (pw && (!r->url.password || strcmp(pw, r->url.password) != 0)) {
        if (r->url.password)
            memset(r->url.password, 0, strlen(r->url.password));
        free(r->url.password);
        r->url.password = sc_xstrdup(pw);
    }
    if (r->url.password) {
        if (r->url.user)
            send_own(r, on_auth_reply, "AUTH %s %s", r->url.user, r->url.password);
        else
            send_own(r, on_auth_reply, "AUTH %s", r->url.password);
    }
    if (r->url.db)
        send_own(r, on_auth_reply, "SELECT %d", r->url.db);
    if (r->o.want_primary)
        send_own(r, on_role_reply, "ROLE");
    send_own(r, on_ready_reply, "PING");
}

static void handshake(sc_redis *r)
{
    char err[300];
    int rc = sc_rio_handshake(&r->io, err, sizeof(err));
    if (rc == SC_RIO_DONE) {
        start_session(r);
        return;
    }
    if (rc == SC_RIO_ERROR) {
        SC_COUNT(redis_tls_failures);
        drop(r, err);
        return;
    }
    r->hs_want_write = rc == SC_RIO_WANT_WRITE;
    watch(r);
}

static void on_stream_open(sc_redis *r)
{
    char err[300];
    if (sc_rio_connected(&r->io, err, sizeof(err)) != SC_RIO_DONE) {
        drop(r, err);
        return;
    }
    if (!r->url.tls) {
        start_session(r);
        return;
    }
    if (sc_rio_start_tls(&r->io, r->o.tls, r->url.host, err, sizeof(err)) != SC_RIO_DONE) {
        SC_COUNT(redis_tls_failures);
        drop(r, err);
        return;
    }
    r->state = ST_HANDSHAKE;
    handshake(r);
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    sc_redis *r = w->data;
    if (r->state == ST_HANDSHAKE) {
        handshake(r);
        return;
    }
    if (r->io.write_wants_read)
        write_some(r);
    if (r->state == ST_READYING || r->state == ST_UP)
        read_some(r, 4);
}

static void on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
    sc_redis *r = w->data;
    if (r->state == ST_CONNECTING) {
        on_stream_open(r);
        return;
    }
    if (r->state == ST_HANDSHAKE) {
        handshake(r);
        return;
    }
    if (r->io.read_wants_write)
        read_some(r, 4);
    if (r->state == ST_READYING || r->state == ST_UP)
        write_some(r);
}

/* Quiet replies waited redis_reply_defer_ms: drain what is there (bounded),
 * so that a backlog of them cannot grow from one timer to the next. */
static void on_defer(struct ev_loop *loop, ev_timer *w, int revents)
{
    sc_redis *r = w->data;
    SC_COUNT(redis_deferred_reads);
    read_some(r, 64);
}

/* TLS files changed on disk since they were read: read them again before
 * this connect. A broken set keeps the one read before. */
static void refresh_tls(sc_redis *r)
{
    char err[300];
    int rc = sc_tls_refresh(r->o.tls, err, sizeof(err));
    if (rc > 0)
        sc_info("redis %s: TLS files changed on disk, read them again", r->name);
    else if (rc < 0)
        sc_log_limited(SC_LOG_ERROR, "redis %s: TLS files changed but %s; keeping the ones read "
                       "before", r->name, err);
}

/* Sentinel or Redis Cluster: where to go this time. Nothing known yet:
 * wait a backoff (the owner calls sc_redis_connect_soon once it knows);
 * said once the first attempt found nothing, at info: it is how every
 * start begins. */
static bool take_target(sc_redis *r)
{
    const char *host = NULL;
    int port = 0;
    if (!r->o.target(r->ud, &host, &port) || !host) {
        sc_log_limited(r->reconnects || r->attempt > 1 ? SC_LOG_WARN : SC_LOG_INFO,
                       "redis %s: no address known yet (waiting for a sentinel to name the "
                       "primary, or for the cluster's slot map); retrying",
                       r->name);
        schedule_retry(r);
        return false;
    }
    if (!r->url.host || strcmp(r->url.host, host) != 0) {
        free(r->url.host);
        r->url.host = sc_xstrdup(host);
    }
    r->url.port = port;
    return true;
}

static void connect_now(sc_redis *r)
{
    char err[300];
    if (r->o.target && !take_target(r))
        return;
    if (r->url.tls)
        refresh_tls(r);
    int rc = sc_rio_connect(&r->io, r->url.host, r->url.port, r->url.path, err, sizeof(err));
    if (rc == SC_RIO_ERROR) {
        /* the owner hears of it like of any failed attempt (a Sentinel
         * moves on to the next sentinel), then the backoff */
        go_down(r, false, err);
        return;
    }
    r->reader = redisReaderCreate();
    if (!r->reader)
        oom("making a redis reply reader");
    r->state = ST_CONNECTING;
    ev_io_init(&r->rev, on_readable, r->io.fd, EV_READ);
    ev_io_init(&r->wev, on_writable, r->io.fd, EV_WRITE);
    r->rev.data = r->wev.data = r;
    ev_timer_set(&r->connect, r->o.connect_timeout_ms / 1000.0, 0);
    ev_timer_start(r->loop, &r->connect);
    if (rc == SC_RIO_DONE)
        on_stream_open(r);
    else
        watch(r);
}

static void on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
    connect_now(w->data);
}

static void schedule_retry(sc_redis *r)
{
    uint64_t delay = r->o.reconnect_min_ms;
    for (uint32_t i = 0; i < r->attempt && delay < r->o.reconnect_max_ms; i++)
        delay *= 2;
    delay = SC_MIN(delay, r->o.reconnect_max_ms);
    uint32_t jitter;
    sc_random_bytes(&jitter, sizeof(jitter));
    /* +-25%: many nodes that lost the same Redis must not reconnect in step */
    double d = (double)delay * (0.75 + 0.5 * (jitter / 4294967296.0));
    r->attempt++;
    ev_timer_stop(r->loop, &r->retry);
    ev_timer_set(&r->retry, d / 1000.0, 0);
    ev_timer_start(r->loop, &r->retry);
}

static void on_connect_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    sc_redis *r = w->data;
    char why[200];
    /* a plain-text Redis reads a ClientHello as the start of a command
     * line and waits for its end: the handshake hangs rather than fails */
    snprintf(why, sizeof(why), "%s timed out after %llu ms%s",
             r->state == ST_HANDSHAKE ? "TLS handshake" : "connect",
             (unsigned long long)r->o.connect_timeout_ms,
             r->state == ST_HANDSHAKE
                 ? " (is this a plain-text port? rediss:// needs Redis's tls-port)"
                 : "");
    if (r->state == ST_HANDSHAKE)
        SC_COUNT(redis_tls_failures);
    sc_redis_reconnect(r, why);
}

/* ---- the probe ------------------------------------------------------------------------- */

static void on_probe_reply(sc_redis *r, void *reply, void *pd)
{
    redisReply *rep = reply;
    /* An error (LOADING, ...) is not an answer: the probe stays pending and
     * the connection is recycled if that lasts redis_command_timeout_ms. */
    if (rep && rep->type != REDIS_REPLY_ERROR) {
        r->probe_pending = false;
        r->probe_rtt_us = sc_now_us() - r->probe_sent_us;
        sc_histogram_observe(&sc_metric.redis_seconds, r->probe_rtt_us);
    }
}

static void on_probe(struct ev_loop *loop, ev_timer *w, int revents)
{
    sc_redis *r = w->data;
    if (r->state != ST_UP)
        return;
    uint64_t now = sc_now_us();
    if (r->probe_pending) {
        if (now - r->probe_sent_us >= r->o.command_timeout_ms * 1000u) {
            char why[96];
            snprintf(why, sizeof(why), "no reply within redis_command_timeout_ms %llu",
                     (unsigned long long)r->o.command_timeout_ms);
            sc_redis_reconnect(r, why);
        }
        return;
    }
    r->probe_pending = true;
    r->probe_sent_us = now;
    send_own(r, on_probe_reply, "PING");
}

/* ---- lifecycle ------------------------------------------------------------------------- */

static void on_kick(struct ev_loop *loop, ev_timer *w, int revents)
{
    sc_redis *r = w->data;
    if (r->kick_gen == r->gen) /* not for a connection already gone */
        drop(r, r->kick_why);
}

void sc_redis_reconnect(sc_redis *r, const char *why)
{
    if (r->state == ST_DOWN)
        return;
    snprintf(r->kick_why, sizeof(r->kick_why), "%s", why);
    r->kick_gen = r->gen;
    ev_timer_stop(r->loop, &r->kick);
    ev_timer_set(&r->kick, 0, 0);
    ev_timer_start(r->loop, &r->kick);
}

sc_redis *sc_redis_new(struct ev_loop *loop, const sc_redis_url *url, const sc_redis_opts *o,
                       sc_redis_state_fn fn, void *ud)
{
    sc_redis *r = sc_xcalloc(1, sizeof(*r));
    r->down_since_us = sc_now_us();
    r->loop = loop;
    sc_redis_url_copy(&r->url, url);
    r->url.sentinel = false; /* its logs name the host it reaches (o->target's) */
    r->url.cluster = false;
    r->o = *o;
    snprintf(r->name, sizeof(r->name), "%s", o->name);
    r->fn = fn;
    r->ud = ud;
    r->state = ST_DOWN;
    sc_rio_init(&r->io);
    sc_buf_init(&r->out);
    ev_init(&r->rev, on_readable);
    ev_init(&r->wev, on_writable);
    ev_timer_init(&r->defer, on_defer, 0, 0);
    ev_timer_init(&r->retry, on_retry, 0, 0);
    ev_timer_init(&r->connect, on_connect_timeout, 0, 0);
    ev_timer_init(&r->probe, on_probe, 0, 0);
    ev_timer_init(&r->kick, on_kick, 0, 0);
    r->rev.data = r->wev.data = r->defer.data = r;
    r->retry.data = r->connect.data = r->probe.data = r->kick.data = r;
    return r;
}

void sc_redis_start(sc_redis *r)
{
    connect_now(r);
}

void sc_redis_free(sc_redis *r)
{
    if (!r)
        return;
    r->closing = true;
    ev_timer_stop(r->loop, &r->retry);
    ev_timer_stop(r->loop, &r->kick);
    drop(r, "closing");
    sc_buf_free(&r->out);
    free(r->q);
    sc_redis_url_free(&r->url);
    free(r);
}

bool sc_redis_is_up(const sc_redis *r)
{
    return r->state == ST_UP;
}

bool sc_redis_is_down(const sc_redis *r)
{
    return r->state == ST_DOWN;
}

void sc_redis_connect_soon(sc_redis *r)
{
    if (r->state != ST_DOWN || r->closing || !ev_is_active(&r->retry))
        return;
    ev_timer_stop(r->loop, &r->retry);
    ev_timer_set(&r->retry, 0, 0);
    ev_timer_start(r->loop, &r->retry);
}

const char *sc_redis_where(const sc_redis *r)
{
    return sc_redis_url_safe(&r->url);
}

uint64_t sc_redis_rtt_us(const sc_redis *r)
{
    return r->probe_rtt_us;
}

uint64_t sc_redis_reconnects(const sc_redis *r)
{
    return r->reconnects;
}

uint64_t sc_redis_down_since(const sc_redis *r)
{
    return r->state == ST_UP ? 0 : r->down_since_us;
}
