/* redis_sentinel: finding and following the primary through Sentinel. See
 * redis_sentinel.h for what it owns and may not touch.
 *
 * Both connections reach the sentinel at index `idx` (their target
 * callback reads it at each connect). When the question connection goes
 * down, idx moves to the next sentinel and the subscribed one follows. */
#include "redis_sentinel.h"
#include "log.h"
#include "stats.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sc_sentinel {
    sc_redis_url url;
    int idx;
    sc_redis *ask, *watch;
    char *host; /* the primary, once known */
    int port;
    bool asking;
    bool moving; /* next_sentinel dropped the question connection itself */
    uint64_t switches;
    /* answers that were no use (unknown name, refused) in a row: the next
     * question waits a backoff, so a misconfigured name cannot make the
     * daemon reconnect to the sentinels in a tight loop */
    uint32_t bad_answers;
    uint64_t backoff_min_ms, backoff_max_ms;
    struct ev_loop *loop;
    ev_timer later;
    sc_sentinel_fn fn;
    void *ud;
    char current[300];
};

static bool target(void *ud, const char **host, int *port)
{
    sc_sentinel *s = ud;
    *host = s->url.sentinel_host[s->idx];
    *port = s->url.sentinel_port[s->idx];
    return true;
}

static void set_current(sc_sentinel *s)
{
    const char *h = s->url.sentinel_host[s->idx];
    snprintf(s->current, sizeof(s->current), strchr(h, ':') ? "[%s]:%d" : "%s:%d", h,
             s->url.sentinel_port[s->idx]);
}

static void move_on(sc_sentinel *s, const char *why)
{
    s->idx = (s->idx + 1) % s->url.nsentinels;
    set_current(s);
    s->moving = sc_redis_is_up(s->ask);
    sc_redis_reconnect(s->ask, why);
    sc_redis_reconnect(s->watch, why);
}

static void on_later(struct ev_loop *loop, ev_timer *w, int revents)
{
    sc_sentinel *s = w->data;
    move_on(s, "the previous sentinel's answer was no use");
}

/* Leave this sentinel for the next one: at once when it failed, after a
 * growing delay when it answered but not usefully. */
static void next_sentinel(sc_sentinel *s, const char *why, bool answered)
{
    sc_log_limited(SC_LOG_WARN, "sentinel %s: %s; trying the next sentinel", s->current, why);
    if (!answered) {
        move_on(s, why);
        return;
    }
    uint64_t delay = s->backoff_min_ms;
    for (uint32_t i = 0; i < s->bad_answers && delay < s->backoff_max_ms; i++)
        delay *= 2;
    s->bad_answers++;
    if (delay > s->backoff_max_ms)
        delay = s->backoff_max_ms;
    ev_timer_stop(s->loop, &s->later);
    ev_timer_set(&s->later, (double)delay / 1000.0, 0);
    ev_timer_start(s->loop, &s->later);
}

static void primary_is(sc_sentinel *s, const char *host, int port, const char *why)
{
    if (s->host && strcmp(s->host, host) == 0 && s->port == port)
        return;
    bool first = !s->host;
    free(s->host);
    s->host = sc_xstrdup(host);
    s->port = port;
    if (!first)
        s->switches++;
    sc_info("sentinel %s: primary '%s' is at %s:%d (%s)", s->current, s->url.master, host, port,
            why);
    s->fn(s->ud, host, port, why);
}

static void on_addr(sc_redis *r, void *reply, void *pd)
{
    sc_sentinel *s = pd;
    redisReply *rep = reply;
    s->asking = false;
    if (!rep)
        return;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
        rep->element[0]->type == REDIS_REPLY_STRING &&
        rep->element[1]->type == REDIS_REPLY_STRING) {
        s->bad_answers = 0;
        primary_is(s, rep->element[0]->str, atoi(rep->element[1]->str), "asked");
        return;
    }
    SC_COUNT(redis_sentinel_refusals);
    char why[300];
    if (rep->type == REDIS_REPLY_ERROR)
        snprintf(why, sizeof(why), "refused SENTINEL get-master-addr-by-name: %s", rep->str);
    else
        snprintf(why, sizeof(why), "knows no primary named '%s' (check the URL's name)",
                 s->url.master);
    next_sentinel(s, why, true);
}

static void ask(sc_sentinel *s)
{
    if (s->asking || !sc_redis_is_up(s->ask) || ev_is_active(&s->later))
        return;
    const char *argv[] = {"SENTINEL", "get-master-addr-by-name", s->url.master};
    size_t lens[] = {8, 23, strlen(s->url.master)};
    if (sc_redis_command_argv(s->ask, on_addr, s, 3, argv, lens) == 0)
        s->asking = true;
}

static void on_ask_state(sc_redis *r, bool up, const char *why, void *ud)
{
    sc_sentinel *s = ud;
    s->asking = false;
    if (up)
        ask(s);
    else if (s->moving)
        s->moving = false; /* already on its way to the next one */
    else if (s->url.nsentinels > 1)
        next_sentinel(s, why, false);
}

/* "+switch-master <name> <old ip> <old port> <new ip> <new port>" */
static void on_switch(sc_sentinel *s, const char *msg)
{
    char name[256], oldip[128], newip[128];
    int oldport, newport;
    if (sscanf(msg, "%255s %127s %d %127s %d", name, oldip, &oldport, newip, &newport) != 5 ||
        strcmp(name, s->url.master) != 0)
        return;
    primary_is(s, newip, newport, "+switch-master");
}

static void on_push(sc_redis *r, void *reply, void *pd)
{
    sc_sentinel *s = pd;
    redisReply *rep = reply;
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements < 3 ||
        rep->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = rep->element[0]->str;
    if (strcmp(kind, "message") == 0 && rep->element[2]->type == REDIS_REPLY_STRING)
        on_switch(s, rep->element[2]->str);
    else if (strcmp(kind, "subscribe") == 0)
        ask(s); /* a switch may have happened while nobody listened */
}

static void on_watch_state(sc_redis *r, bool up, const char *why, void *ud)
{
    sc_sentinel *s = ud;
    if (!up)
        return;
    const char *argv[] = {"SUBSCRIBE", "+switch-master"};
    size_t lens[] = {9, 14};
    sc_redis_command_argv(s->watch, on_push, s, 2, argv, lens);
}

sc_sentinel *sc_sentinel_new(struct ev_loop *loop, const sc_redis_url *url,
                             const sc_sentinel_opts *o, sc_sentinel_fn fn, void *ud)
{
    sc_sentinel *s = sc_xcalloc(1, sizeof(*s));
    sc_redis_url_copy(&s->url, url);
    s->fn = fn;
    s->ud = ud;
    s->loop = loop;
    s->backoff_min_ms = o->base->reconnect_min_ms;
    s->backoff_max_ms = o->base->reconnect_max_ms;
    ev_timer_init(&s->later, on_later, 0, 0);
    s->later.data = s;
    set_current(s);
    /* the sentinels' own login, database 0, the same TLS as the primary */
    sc_redis_url su = {0};
    su.user = o->user && o->user[0] ? (char *)o->user : NULL;
    su.password = o->password && o->password[0] ? (char *)o->password : NULL;
    su.tls = url->tls;
    sc_redis_opts ao = *o->base;
    ao.name = "sentinel";
    ao.probe = true;
    ao.quiet_defer_ms = NULL;
    ao.quiet_reply = NULL;
    ao.target = target;
    ao.want_primary = false;
    ao.password = o->fresh_password; /* the base's is the primary's */
    ao.password_ud = o->password_ud;
    sc_redis_opts wo = ao;
    wo.name = "sentinel-watch";
    /* PING works on a subscribed connection too (["pong", ""]): a path cut
     * silently (a NAT's idle timeout) must not hide +switch-master */
    wo.probe = true;
    s->ask = sc_redis_new(loop, &su, &ao, on_ask_state, s);
    s->watch = sc_redis_new(loop, &su, &wo, on_watch_state, s);
    return s;
}

void sc_sentinel_start(sc_sentinel *s)
{
    sc_redis_start(s->ask);
    sc_redis_start(s->watch);
}

bool sc_sentinel_primary(const sc_sentinel *s, const char **host, int *port)
{
    if (!s->host)
        return false;
    *host = s->host;
    *port = s->port;
    return true;
}

void sc_sentinel_refresh(sc_sentinel *s)
{
    ask(s);
}

bool sc_sentinel_is_up(const sc_sentinel *s)
{
    return sc_redis_is_up(s->ask);
}

const char *sc_sentinel_current(const sc_sentinel *s)
{
    return s->current;
}

uint64_t sc_sentinel_switches(const sc_sentinel *s)
{
    return s->switches;
}

void sc_sentinel_free(sc_sentinel *s)
{
    if (!s)
        return;
    ev_timer_stop(s->loop, &s->later);
    sc_redis_free(s->ask);
    sc_redis_free(s->watch);
    free(s->host);
    sc_redis_url_free(&s->url);
    free(s);
}
