/* redis: connection lifecycle around hiredis' async API. See redis.h for
 * what it owns and may not touch.
 *
 * hiredis frees its context itself after a disconnect callback, so we keep
 * only a pointer that the callbacks clear; forced reconnects go through an
 * ev_idle-free path: a zero-delay timer, so redisAsyncFree never runs inside
 * hiredis' own callback chain. */
#include "redis.h"
#include "log.h"
#include "metrics.h"
#include "stats.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

struct sc_redis {
    struct ev_loop *loop;
    sc_redis_url url;
    sc_redis_opts o;
    char name[32];
    sc_redis_state_fn fn;
    void *ud;
    redisAsyncContext *ac;
    bool up;
    bool closing;
    /* AUTH or SELECT was refused on the current connection: it never counts
     * as up (the PING after them may still succeed, as the default user or
     * in database 0), and is recycled */
    bool refused;
    uint32_t attempt;
    uint64_t reconnects;
    ev_timer retry;   /* backoff before the next connect */
    ev_timer connect; /* connect timeout */
    ev_timer probe;   /* PING every command_timeout/2 */
    ev_timer kick;    /* deferred forced reconnect */
    bool probe_pending;
    uint64_t probe_sent_us;
    uint64_t down_since_us; /* 0 while up */
    char kick_why[128];
    /* hiredis' libev hooks for r->ac, ours: the connection is not watched
     * for reading while only quiet replies are due (sc_redis_send_quiet).
     * Quiet commands sent and answered on it, and how many had been sent
     * when the last other command went: once a quiet one sent after that is
     * answered, so is everything before it. */
    struct {
        redisAsyncContext *ac;
        ev_io rev, wev;
        ev_timer defer;
        bool reading; /* hiredis wants to read */
        uint64_t quiet_sent, quiet_answered, quiet_before_loud;
    } io;
};

/* ---- URL ------------------------------------------------------------------- */

static char *pct_decode(const char *s, size_t n)
{
    char *out = sc_xmalloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
            isxdigit((unsigned char)s[i + 2])) {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            *o++ = (char)strtol(hex, NULL, 16);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = 0;
    return out;
}

int sc_redis_url_parse(const char *url, sc_redis_url *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof(*u));
    u->port = 6379;
    if (strncmp(url, "unix://", 7) == 0) {
        const char *p = url + 7, *q = strchr(p, '?');
        u->path = q ? sc_xstrndup(p, (size_t)(q - p)) : sc_xstrdup(p);
        if (q && strncmp(q, "?db=", 4) == 0)
            u->db = atoi(q + 4);
        if (u->path[0] != '/') {
            snprintf(err, errlen, "unix URL needs an absolute path: unix:///run/redis.sock");
            sc_redis_url_free(u);
            return -EINVAL;
        }
        return 0;
    }
    if (strncmp(url, "redis://", 8) != 0) {
        snprintf(err, errlen, "Redis URL must start with redis:// or unix://");
        return -EINVAL;
    }
    const char *p = url + 8, *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        /* as RFC 3986 userinfo: redis://user@host names a user and no password
         * (which then comes from redis_password_file); an empty one is none */
        if (colon) {
            if (colon > p)
                u->user = pct_decode(p, (size_t)(colon - p));
            if (at > colon + 1)
                u->password = pct_decode(colon + 1, (size_t)(at - colon - 1));
        } else if (at > p) {
            u->user = pct_decode(p, (size_t)(at - p));
        }
        p = at + 1;
    }
    const char *slash = strchr(p, '/');
    const char *end = slash ? slash : p + strlen(p);
    const char *colon = memchr(p, ':', (size_t)(end - p));
    const char *hend = colon ? colon : end;
    if (hend == p) {
        snprintf(err, errlen, "Redis URL has no host: redis://host:6379/0");
        sc_redis_url_free(u);
        return -EINVAL;
    }
    u->host = sc_xstrndup(p, (size_t)(hend - p));
    if (colon) {
        char *e;
        long port = strtol(colon + 1, &e, 10);
        if (e != end || port <= 0 || port > 65535) {
            snprintf(err, errlen, "Redis URL port must be 1-65535");
            sc_redis_url_free(u);
            return -EINVAL;
        }
        u->port = (int)port;
    }
    if (slash && slash[1]) {
        char *e;
        long db = strtol(slash + 1, &e, 10);
        if (*e || db < 0 || db > 1000000) {
            snprintf(err, errlen, "Redis URL database must be a number: redis://host:6379/0");
            sc_redis_url_free(u);
            return -EINVAL;
        }
        u->db = (int)db;
    }
    return 0;
}

void sc_redis_url_free(sc_redis_url *u)
{
    if (!u)
        return;
    free(u->host);
    free(u->path);
    free(u->user);
    if (u->password)
        memset(u->password, 0, strlen(u->password));
    free(u->password);
    memset(u, 0, sizeof(*u));
}

const char *sc_redis_url_safe(const sc_redis_url *u)
{
    static char buf[320];
    if (u->path)
        snprintf(buf, sizeof(buf), "unix:%s/%d", u->path, u->db);
    else
        snprintf(buf, sizeof(buf), "%s:%d/%d", u->host ? u->host : "?", u->port, u->db);
    return buf;
}

/* ---- lifecycle --------------------------------------------------------------- */

static void schedule_retry(sc_redis *r);

static void loud_sent(sc_redis *r);

static void go_down(sc_redis *r, const char *why)
{
    bool was_up = r->up;
    r->up = false;
    if (was_up || !r->down_since_us)
        r->down_since_us = sc_now_us();
    r->ac = NULL;
    r->probe_pending = false;
    ev_timer_stop(r->loop, &r->connect);
    ev_timer_stop(r->loop, &r->probe);
    if (r->closing)
        return;
    if (was_up)
        sc_log_limited(SC_LOG_WARN, "redis %s connection to %s lost: %s; reconnecting", r->name,
                       sc_redis_url_safe(&r->url), why);
    else
        sc_log_limited(SC_LOG_WARN, "redis %s connection to %s failed: %s; retrying", r->name,
                       sc_redis_url_safe(&r->url), why);
    r->fn(r, false, why, r->ud);
    schedule_retry(r);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    sc_redis *r = ac->data;
    if (!r || r->ac != ac)
        return;
    go_down(r, status == REDIS_OK ? "closed" : (ac->errstr[0] ? ac->errstr : "error"));
}

static void on_auth_reply(redisAsyncContext *ac, void *reply, void *pd)
{
    sc_redis *r = pd;
    redisReply *rep = reply;
    if (rep && rep->type == REDIS_REPLY_ERROR && r->ac == ac) {
        /* Nothing will work on this connection: treat it as down (the
         * owner keeps what it must) and retry with backoff. */
        char why[200];
        snprintf(why, sizeof(why), "AUTH/SELECT refused: %s (check redis_url)", rep->str);
        sc_log_limited(SC_LOG_ERROR, "redis %s: %s", r->name, why);
        r->refused = true;
        sc_redis_reconnect(r, why);
    }
}

static void on_probe_reply(redisAsyncContext *ac, void *reply, void *pd)
{
    sc_redis *r = pd;
    redisReply *rep = reply;
    /* An error (LOADING, ...) is not an answer: the probe stays pending and
     * the connection is recycled if that lasts redis_command_timeout_ms. */
    if (rep && rep->type != REDIS_REPLY_ERROR && r->ac == ac) {
        r->probe_pending = false;
        sc_histogram_observe(&sc_metric.redis_seconds, sc_now_us() - r->probe_sent_us);
    }
}

static void on_probe(struct ev_loop *loop, ev_timer *w, int revents)
{
    sc_redis *r = w->data;
    if (!r->up || !r->ac)
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
    redisAsyncCommand(r->ac, on_probe_reply, r, "PING");
    loud_sent(r);
}

static void on_ready_reply(redisAsyncContext *ac, void *reply, void *pd);

static void on_connect(const redisAsyncContext *ac, int status)
{
    sc_redis *r = ac->data;
    if (!r || r->ac != ac)
        return;
    if (status != REDIS_OK) {
        ev_timer_stop(r->loop, &r->connect);
        /* hiredis frees the context after this callback */
        go_down(r, ac->errstr[0] ? ac->errstr : "connect failed");
        return;
    }
    /* A kick scheduled for the previous connection (connect timeout, missing
     * canary) must not tear down this one. */
    ev_timer_stop(r->loop, &r->kick);
    r->refused = false;
    redisAsyncContext *c = r->ac;
    if (r->url.password) {
        if (r->url.user)
            redisAsyncCommand(c, on_auth_reply, r, "AUTH %s %s", r->url.user, r->url.password);
        else
            redisAsyncCommand(c, on_auth_reply, r, "AUTH %s", r->url.password);
    }
    if (r->url.db)
        redisAsyncCommand(c, on_auth_reply, r, "SELECT %d", r->url.db);
    /* The kernel completes a TCP connect even for a Redis that is frozen
     * (SIGSTOP) or stuck: up only once it answers, so that until then the
     * owner keeps its messages (outbox) instead of writing them into a
     * connection nobody reads. The connect timer still runs. */
    redisAsyncCommand(c, on_ready_reply, r, "PING");
    loud_sent(r);
}

static void on_ready_reply(redisAsyncContext *ac, void *reply, void *pd)
{
    sc_redis *r = pd;
    const redisReply *rep = reply;
    /* NULL: dropped meanwhile; an error (LOADING...) is not ready: the
     * connect timer recycles the connection */
    if (!rep || rep->type == REDIS_REPLY_ERROR || r->ac != ac || r->up || r->refused)
        return;
    ev_timer_stop(r->loop, &r->connect);
    r->up = true;
    r->down_since_us = 0;
    if (r->attempt > 0)
        r->reconnects++;
    r->attempt = 0;
    sc_info("redis %s connection to %s established", r->name, sc_redis_url_safe(&r->url));
    if (r->o.probe) {
        ev_timer_set(&r->probe, r->o.command_timeout_ms / 2000.0, r->o.command_timeout_ms / 2000.0);
        ev_timer_start(r->loop, &r->probe);
    }
    r->fn(r, true, "connected", r->ud);
}

static void on_connect_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    sc_redis *r = w->data;
    char why[96];
    snprintf(why, sizeof(why), "connect timed out after %llu ms",
             (unsigned long long)r->o.connect_timeout_ms);
    sc_redis_reconnect(r, why);
}

/* ---- reading and writing: hiredis' event hooks ------------------------------- */

/* Held: only quiet replies are due, so the connection is not watched; the
 * defer timer reads them if nothing else does first. */
static bool io_held(const sc_redis *r)
{
    return r->o.quiet_defer_ms && *r->o.quiet_defer_ms &&
           r->io.quiet_answered > r->io.quiet_before_loud &&
           r->io.quiet_sent > r->io.quiet_answered;
}

static void io_update(sc_redis *r)
{
    if (!r->io.ac)
        return;
    if (!r->io.reading) {
        ev_io_stop(r->loop, &r->io.rev);
        ev_timer_stop(r->loop, &r->io.defer);
    } else if (!io_held(r)) {
        ev_timer_stop(r->loop, &r->io.defer);
        ev_io_start(r->loop, &r->io.rev);
    } else {
        ev_io_stop(r->loop, &r->io.rev);
        if (!ev_is_active(&r->io.defer)) {
            ev_timer_set(&r->io.defer, (double)*r->o.quiet_defer_ms / 1000.0, 0);
            ev_timer_start(r->loop, &r->io.defer);
        }
    }
}

/* hiredis may free the context inside these (EOF, an error reply): our
 * cleanup hook clears r->io.ac then. */
static void io_read(sc_redis *r)
{
    redisAsyncHandleRead(r->io.ac);
    io_update(r);
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    io_read(w->data);
}

static void on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
    sc_redis *r = w->data;
    redisAsyncHandleWrite(r->io.ac);
}

/* hiredis reads at most 16 KB a call: drain what is there (bounded), so
 * that a backlog of quiet replies cannot grow from one timer to the next. */
static void on_defer(struct ev_loop *loop, ev_timer *w, int revents)
{
    sc_redis *r = w->data;
    SC_COUNT(redis_deferred_reads);
    for (int i = 0; i < 64 && r->io.ac; i++) {
        redisAsyncHandleRead(r->io.ac);
        int avail = 0;
        if (!r->io.ac || ioctl(r->io.ac->c.fd, FIONREAD, &avail) < 0 || avail <= 0)
            break;
    }
    io_update(r);
}

static void hook_add_read(void *p)
{
    sc_redis *r = p;
    r->io.reading = true;
    io_update(r);
}

static void hook_del_read(void *p)
{
    sc_redis *r = p;
    r->io.reading = false;
    io_update(r);
}

static void hook_add_write(void *p)
{
    sc_redis *r = p;
    ev_io_start(r->loop, &r->io.wev);
}

static void hook_del_write(void *p)
{
    sc_redis *r = p;
    ev_io_stop(r->loop, &r->io.wev);
}

static void hook_cleanup(void *p)
{
    sc_redis *r = p;
    ev_io_stop(r->loop, &r->io.rev);
    ev_io_stop(r->loop, &r->io.wev);
    ev_timer_stop(r->loop, &r->io.defer);
    r->io.ac = NULL;
    r->io.reading = false;
}

static void io_attach(sc_redis *r, redisAsyncContext *ac)
{
    r->io.ac = ac;
    r->io.reading = false;
    r->io.quiet_sent = r->io.quiet_answered = r->io.quiet_before_loud = 0;
    ev_io_init(&r->io.rev, on_readable, ac->c.fd, EV_READ);
    ev_io_init(&r->io.wev, on_writable, ac->c.fd, EV_WRITE);
    ev_timer_init(&r->io.defer, on_defer, 0, 0);
    r->io.rev.data = r->io.wev.data = r->io.defer.data = r;
    ac->ev.data = r;
    ac->ev.addRead = hook_add_read;
    ac->ev.delRead = hook_del_read;
    ac->ev.addWrite = hook_add_write;
    ac->ev.delWrite = hook_del_write;
    ac->ev.cleanup = hook_cleanup;
}

/* A command whose reply someone waits for: read it as soon as it comes. */
static void loud_sent(sc_redis *r)
{
    r->io.quiet_before_loud = r->io.quiet_sent;
    io_update(r);
}

static void connect_now(sc_redis *r)
{
    redisAsyncContext *ac = r->url.path ? redisAsyncConnectUnix(r->url.path)
                                        : redisAsyncConnect(r->url.host, r->url.port);
    if (!ac || ac->err) {
        char why[160];
        snprintf(why, sizeof(why), "%s", ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        sc_log_limited(SC_LOG_WARN, "redis %s connection to %s failed: %s; retrying", r->name,
                       sc_redis_url_safe(&r->url), why);
        schedule_retry(r);
        return;
    }
    ac->data = r;
    r->ac = ac;
    io_attach(r, ac);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    ev_timer_set(&r->connect, r->o.connect_timeout_ms / 1000.0, 0);
    ev_timer_start(r->loop, &r->connect);
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

static void drop_context(sc_redis *r, const char *why)
{
    redisAsyncContext *ac = r->ac;
    if (!ac)
        return;
    /* Our disconnect callback sees r->ac != ac and ignores the call; we
     * report the transition ourselves, once. */
    r->ac = NULL;
    ac->data = NULL;
    redisAsyncFree(ac);
    go_down(r, why);
}

static void on_kick(struct ev_loop *loop, ev_timer *w, int revents)
{
    sc_redis *r = w->data;
    drop_context(r, r->kick_why);
}

void sc_redis_reconnect(sc_redis *r, const char *why)
{
    if (!r->ac)
        return;
    snprintf(r->kick_why, sizeof(r->kick_why), "%s", why);
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
    r->url = *url;
    r->url.host = url->host ? sc_xstrdup(url->host) : NULL;
    r->url.path = url->path ? sc_xstrdup(url->path) : NULL;
    r->url.user = url->user ? sc_xstrdup(url->user) : NULL;
    r->url.password = url->password ? sc_xstrdup(url->password) : NULL;
    r->o = *o;
    snprintf(r->name, sizeof(r->name), "%s", o->name);
    r->fn = fn;
    r->ud = ud;
    ev_timer_init(&r->retry, on_retry, 0, 0);
    ev_timer_init(&r->connect, on_connect_timeout, 0, 0);
    ev_timer_init(&r->probe, on_probe, 0, 0);
    ev_timer_init(&r->kick, on_kick, 0, 0);
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
    ev_timer_stop(r->loop, &r->connect);
    ev_timer_stop(r->loop, &r->probe);
    ev_timer_stop(r->loop, &r->kick);
    if (r->ac) {
        redisAsyncContext *ac = r->ac;
        r->ac = NULL;
        ac->data = NULL;
        redisAsyncFree(ac);
    }
    sc_redis_url_free(&r->url);
    free(r);
}

bool sc_redis_is_up(const sc_redis *r)
{
    return r->up && r->ac;
}

redisAsyncContext *sc_redis_ctx(sc_redis *r)
{
    return r->up ? r->ac : NULL;
}

uint64_t sc_redis_reconnects(const sc_redis *r)
{
    return r->reconnects;
}

uint64_t sc_redis_down_since(const sc_redis *r)
{
    return r->up ? 0 : r->down_since_us;
}

/* pd: the sc_redis, which outlives its contexts (sc_redis_free frees the
 * context, and so answers its callbacks, first). */
static void on_quiet_reply(redisAsyncContext *ac, void *reply, void *pd)
{
    sc_redis *r = pd;
    if (r->io.ac == ac) {
        r->io.quiet_answered++;
        /* io_update runs when hiredis' read returns */
    }
    r->o.quiet_reply(ac, reply, r->ud);
}

int sc_redis_send_quiet(sc_redis *r, const char *cmd, size_t len)
{
    if (redisAsyncFormattedCommand(r->ac, on_quiet_reply, r, cmd, len) != REDIS_OK)
        return -1;
    r->io.quiet_sent++;
    io_update(r);
    return 0;
}

int sc_redis_command_formatted(sc_redis *r, redisCallbackFn *cb, void *pd, const char *cmd,
                               size_t len)
{
    if (redisAsyncFormattedCommand(r->ac, cb, pd, cmd, len) != REDIS_OK)
        return -1;
    loud_sent(r);
    return 0;
}

int sc_redis_command_argv(sc_redis *r, redisCallbackFn *cb, void *pd, int argc,
                          const char **argv, const size_t *lens)
{
    if (redisAsyncCommandArgv(r->ac, cb, pd, argc, argv, lens) != REDIS_OK)
        return -1;
    loud_sent(r);
    return 0;
}
