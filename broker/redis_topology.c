/* redis_topology: the slot map of a Redis Cluster. See redis_topology.h
 * for what it owns and may not touch.
 *
 * The question connection reaches node `idx` of the candidates: the URL's
 * seeds first, then the primaries of the last map (a cluster whose seeds
 * all died is still found through the nodes it had). */
#include "redis_topology.h"
#include "log.h"
#include "stats.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct topo_node {
    char *host;
    int port;
    char addr[300];
} topo_node;

struct sc_topo {
    sc_redis_url url;
    sc_redis_opts opts;
    sc_redis *ask; /* its own connection, while the owner has none up; or NULL */
    sc_topo_borrow_fn borrow;
    struct ev_loop *loop;
    ev_timer every, soon;
    sc_topo_fn fn;
    void *ud;
    /* the map: slot -> 1 + index in prim (0: no primary known) */
    uint8_t owner[SC_SLOTS];
    topo_node prim[SC_TOPO_PRIMARIES_MAX];
    int nprim;
    /* candidates to ask: seeds then primaries; idx into that sequence */
    int idx;
    bool asking, moving;
    uint64_t last_ask_us, changes, asks;
    char current[300];
};

/* ---- slots ------------------------------------------------------------------------ */

/* CRC16-CCITT (XMODEM: poly 0x1021, init 0), as Redis Cluster's keyslot. */
static uint16_t crc16(const char *p, size_t n)
{
    static uint16_t table[256];
    if (!table[1])
        for (int i = 0; i < 256; i++) {
            uint16_t c = (uint16_t)(i << 8);
            for (int b = 0; b < 8; b++)
                c = (uint16_t)(c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1);
            table[i] = c;
        }
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++)
        crc = (uint16_t)((crc << 8) ^ table[((crc >> 8) ^ (uint8_t)p[i]) & 0xff]);
    return crc;
}

uint16_t sc_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        const char *close = memchr(open + 1, '}', len - (size_t)(open + 1 - key));
        if (close && close > open + 1)
            return crc16(open + 1, (size_t)(close - open - 1)) & (SC_SLOTS - 1);
    }
    return crc16(key, len) & (SC_SLOTS - 1);
}

/* ---- asking ----------------------------------------------------------------------- */

static int ncandidates(const sc_topo *t)
{
    return t->url.nsentinels + t->nprim;
}

static void candidate(const sc_topo *t, int i, const char **host, int *port)
{
    if (i < t->url.nsentinels) {
        *host = t->url.sentinel_host[i];
        *port = t->url.sentinel_port[i];
    } else {
        *host = t->prim[i - t->url.nsentinels].host;
        *port = t->prim[i - t->url.nsentinels].port;
    }
}

static bool target(void *ud, const char **host, int *port)
{
    sc_topo *t = ud;
    candidate(t, t->idx % ncandidates(t), host, port);
    snprintf(t->current, sizeof(t->current), strchr(*host, ':') ? "[%s]:%d" : "%s:%d", *host,
             *port);
    return true;
}

static void move_on(sc_topo *t, const char *why)
{
    if (!t->ask)
        return; /* an answer on a borrowed connection: asked again later */
    sc_log_limited(SC_LOG_WARN, "redis cluster: node %s: %s; asking the next one", t->current,
                   why);
    t->idx = (t->idx + 1) % ncandidates(t);
    t->moving = sc_redis_is_up(t->ask);
    sc_redis_reconnect(t->ask, why);
}

static void primaries_free(topo_node *p, int n)
{
    for (int i = 0; i < n; i++)
        free(p[i].host);
}

/* One CLUSTER SLOTS entry: [start, end, [host, port, id...], replicas...].
 * An empty host means "the node you asked". Returns the primary's index in
 * prim (added if new), or -1 if malformed or too many. */
static int entry_primary(sc_topo *t, const redisReply *e, topo_node *prim, int *nprim)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
        e->element[0]->type != REDIS_REPLY_INTEGER || e->element[1]->type != REDIS_REPLY_INTEGER)
        return -1;
    const redisReply *n = e->element[2];
    if (n->type != REDIS_REPLY_ARRAY || n->elements < 2 || n->element[0]->type != REDIS_REPLY_STRING ||
        n->element[1]->type != REDIS_REPLY_INTEGER)
        return -1;
    const char *host = n->element[0]->len && strcmp(n->element[0]->str, "?") != 0
                           ? n->element[0]->str
                           : NULL;
    int port = (int)n->element[1]->integer;
    if (!host) { /* the node we asked */
        candidate(t, t->idx % ncandidates(t), &host, &(int){0});
    }
    for (int i = 0; i < *nprim; i++)
        if (prim[i].port == port && strcmp(prim[i].host, host) == 0)
            return i;
    if (*nprim == SC_TOPO_PRIMARIES_MAX)
        return -1;
    topo_node *p = &prim[(*nprim)++];
    p->host = sc_xstrdup(host);
    p->port = port;
    snprintf(p->addr, sizeof(p->addr), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    return *nprim - 1;
}

/* Adopt a new map; true if any slot changed primary (by address). */
static bool adopt(sc_topo *t, const uint8_t *owner, topo_node *prim, int nprim)
{
    bool changed = nprim != t->nprim;
    for (int s = 0; s < SC_SLOTS && !changed; s++) {
        const topo_node *a = owner[s] ? &prim[owner[s] - 1] : NULL;
        const topo_node *b = t->owner[s] ? &t->prim[t->owner[s] - 1] : NULL;
        changed = (a == NULL) != (b == NULL) || (a && strcmp(a->addr, b->addr) != 0);
    }
    if (!changed) {
        primaries_free(prim, nprim);
        return false;
    }
    primaries_free(t->prim, t->nprim);
    memcpy(t->prim, prim, sizeof(topo_node) * (size_t)nprim);
    t->nprim = nprim;
    memcpy(t->owner, owner, sizeof(t->owner));
    return true;
}

static void on_slots(sc_redis *r, void *reply, void *pd)
{
    sc_topo *t = pd;
    redisReply *rep = reply;
    t->asking = false;
    if (!rep)
        return;
    if (r != t->ask) /* a borrowed connection: name the node it reaches */
        snprintf(t->current, sizeof(t->current), "%s", sc_redis_where(r));
    static uint8_t owner[SC_SLOTS];
    static topo_node prim[SC_TOPO_PRIMARIES_MAX];
    memset(owner, 0, sizeof(owner));
    int nprim = 0, covered = 0;
    bool bad = rep->type != REDIS_REPLY_ARRAY;
    for (size_t i = 0; !bad && i < rep->elements; i++) {
        const redisReply *e = rep->element[i];
        int p = entry_primary(t, e, prim, &nprim);
        long long lo = p < 0 ? 0 : e->element[0]->integer, hi = p < 0 ? -1 : e->element[1]->integer;
        bad = p < 0 || lo < 0 || hi >= SC_SLOTS || lo > hi;
        for (long long s = lo; !bad && s <= hi; s++, covered++)
            owner[s] = (uint8_t)(p + 1);
    }
    if (bad || nprim == 0) {
        primaries_free(prim, nprim);
        SC_COUNT(redis_errors);
        move_on(t, rep->type == REDIS_REPLY_ERROR ? rep->str
                                                  : "CLUSTER SLOTS answered with no usable map");
        return;
    }
    if (covered < SC_SLOTS)
        sc_log_limited(SC_LOG_WARN, "redis cluster: node %s serves %d of %d slots (a failover "
                                    "or a reshard in progress?)",
                       t->current, covered, SC_SLOTS);
    bool changed = adopt(t, owner, prim, nprim);
    if (changed) {
        t->changes++;
        sc_info("redis cluster: %d primar%s serve %d slots (from %s)", nprim,
                nprim == 1 ? "y" : "ies", covered, t->current);
    }
    t->fn(t->ud, changed);
    /* answered on its own connection while the owner has one up again (it
     * came up while this question was out): closed now, from a timer */
    if (r == t->ask && t->borrow(t->ud) && !ev_is_active(&t->soon)) {
        ev_timer_set(&t->soon, 0, 0);
        ev_timer_start(t->loop, &t->soon);
    }
}

static void on_ask_state(sc_redis *r, bool up, const char *why, void *ud);

/* Its own connection, for when the owner has none up. */
static void own_open(sc_topo *t)
{
    if (t->ask)
        return;
    t->ask = sc_redis_new(t->loop, &t->url, &t->opts, on_ask_state, t);
    sc_redis_start(t->ask);
}

static void ask(sc_topo *t)
{
    if (t->asking)
        return;
    sc_redis *r = t->borrow(t->ud);
    if (!r) {
        own_open(t);
        r = sc_redis_is_up(t->ask) ? t->ask : NULL; /* else asked once it is up */
    }
    const char *argv[] = {"CLUSTER", "SLOTS"};
    size_t lens[] = {7, 5};
    if (r && sc_redis_command_argv(r, on_slots, t, 2, argv, lens) == 0) {
        t->asking = true;
        t->asks++;
        t->last_ask_us = sc_now_us();
    }
}

static void on_ask_state(sc_redis *r, bool up, const char *why, void *ud)
{
    sc_topo *t = ud;
    t->asking = false;
    if (up)
        ask(t);
    else if (t->moving)
        t->moving = false;
    else if (ncandidates(t) > 1)
        move_on(t, why);
}

/* Its own connection is closed once the owner has one up again: at the
 * next ask from a timer (never inside that connection's callbacks). */
static void own_close_if_unneeded(sc_topo *t)
{
    if (t->ask && t->borrow(t->ud)) {
        sc_redis_free(t->ask); /* a question in flight gets a NULL reply */
        t->ask = NULL;
        t->moving = t->asking = false;
    }
}

static void on_every(struct ev_loop *loop, ev_timer *w, int revents)
{
    own_close_if_unneeded(w->data);
    ask(w->data);
}

static void on_soon(struct ev_loop *loop, ev_timer *w, int revents)
{
    own_close_if_unneeded(w->data);
    ask(w->data);
}

void sc_topo_refresh(sc_topo *t, const char *why)
{
    if (!t || t->asking || ev_is_active(&t->soon))
        return;
    uint64_t since = sc_now_us() - t->last_ask_us, gap = SC_TOPO_MIN_GAP_MS * 1000u;
    sc_debug("redis cluster: asking for the slot map again: %s", why);
    ev_timer_set(&t->soon, since >= gap ? 0 : (double)(gap - since) / 1e6, 0);
    ev_timer_start(t->loop, &t->soon);
}

/* ---- lifecycle --------------------------------------------------------------------- */

sc_topo *sc_topo_new(struct ev_loop *loop, const sc_redis_url *url, const sc_redis_opts *base,
                     sc_topo_fn fn, sc_topo_borrow_fn borrow, void *ud)
{
    sc_topo *t = sc_xcalloc(1, sizeof(*t));
    sc_redis_url_copy(&t->url, url);
    t->loop = loop;
    t->fn = fn;
    t->borrow = borrow;
    t->ud = ud;
    ev_timer_init(&t->every, on_every, SC_TOPO_REFRESH_MS / 1000.0, SC_TOPO_REFRESH_MS / 1000.0);
    ev_timer_init(&t->soon, on_soon, 0, 0);
    t->every.data = t->soon.data = t;
    t->opts = *base;
    t->opts.name = "cluster-slots";
    t->opts.probe = true;
    t->opts.quiet_defer_ms = NULL;
    t->opts.quiet_reply = NULL;
    t->opts.target = target;
    t->opts.want_primary = false; /* any node knows the map */
    return t;
}

void sc_topo_start(sc_topo *t)
{
    own_open(t); /* the owner's connections wait for the first map */
    ev_timer_start(t->loop, &t->every);
}

int sc_topo_owner(const sc_topo *t, uint16_t slot, const char **host, int *port)
{
    int i = t->owner[slot & (SC_SLOTS - 1)] - 1;
    if (i >= 0) {
        *host = t->prim[i].host;
        *port = t->prim[i].port;
    }
    return i;
}

int sc_topo_nprimaries(const sc_topo *t)
{
    return t->nprim;
}

const char *sc_topo_addr(const sc_topo *t, int i)
{
    return i >= 0 && i < t->nprim ? t->prim[i].addr : "?";
}

bool sc_topo_is_up(const sc_topo *t)
{
    return t->borrow(t->ud) || (t->ask && sc_redis_is_up(t->ask));
}

const char *sc_topo_current(const sc_topo *t)
{
    return t->current;
}

uint64_t sc_topo_changes(const sc_topo *t)
{
    return t->changes;
}

uint64_t sc_topo_asks(const sc_topo *t)
{
    return t->asks;
}

void sc_topo_free(sc_topo *t)
{
    if (!t)
        return;
    ev_timer_stop(t->loop, &t->every);
    ev_timer_stop(t->loop, &t->soon);
    sc_redis_free(t->ask);
    primaries_free(t->prim, t->nprim);
    sc_redis_url_free(&t->url);
    free(t);
}
