/* cluster_subs: the channels this node subscribes to. The node and
 * broadcast channels always (and, without a Redis Cluster, the subs channel
 * of Subscribed announcements: a private room's channel confirmed counts
 * one for sc_cl_subscribed_flush); a room's channel while the room has local
 * members (sc_cluster_room) and room_linger_ms after the last one left (the
 * idle FIFO, swept by sc_cl_subs_sweep). Each channel is subscribed on its
 * shard's subscriber (cluster_shard.c: the one connection without a Redis
 * Cluster; SSUBSCRIBE on the primary serving its slot with one), again
 * whenever that connection comes back, and moved when the slot map says
 * its slot did. The subscribers' replies come here: messages go on to
 * cluster_receive.c as they came, confirmations make the subscriber side
 * ready (sub_ready) and may end a Gap; a subscriber lost, a channel a shard
 * dropped, or a slot moved opens one.
 *
 * It owns struct sc_sub and c->subs, the idle FIFO and every shard's
 * subscription state (sub_ready, last_resub, sub_error); it may not build
 * or decode envelopes, nor touch the directory or the live list.
 *
 * tests/fuzz/fuzz_envelope.c includes this file whole, to call on_sub_reply
 * (static) with replies built by hand. */
#include "cluster_int.h"
#include "log.h"
#include "stats.h"

#include <stdlib.h>
#include <string.h>

/* Channels in one (UN)SUBSCRIBE; SSUBSCRIBE takes one slot's alone. */
#define SUBSCRIBE_BATCH 256

static const char *sub_key(const void *item, size_t *len)
{
    const sc_sub *s = item;
    *len = s->len;
    return s->name;
}

static void idle_unlink(sc_cluster *c, sc_sub *s)
{
    if (!s->idle_prev && c->idle_head != s)
        return;
    if (s->idle_prev)
        s->idle_prev->idle_next = s->idle_next;
    else
        c->idle_head = s->idle_next;
    if (s->idle_next)
        s->idle_next->idle_prev = s->idle_prev;
    else
        c->idle_tail = s->idle_prev;
    s->idle_prev = s->idle_next = NULL;
}

static void on_sub_reply(sc_redis *rc, void *reply, void *pd);

/* (UN)SUBSCRIBE, or on a Redis Cluster SSUBSCRIBE/SUNSUBSCRIBE, of n
 * channels on one shard's subscriber. */
static void send_sub(sc_cluster *c, sc_shard *sh, bool on, sc_sub **subs, size_t n)
{
    if (!sc_redis_is_up(sh->sub) || n == 0)
        return;
    const char *verb = c->sharded ? (on ? "SSUBSCRIBE" : "SUNSUBSCRIBE")
                               : (on ? "SUBSCRIBE" : "UNSUBSCRIBE");
    const char **argv = sc_xmalloc(sizeof(char *) * (n + 1));
    size_t *lens = sc_xmalloc(sizeof(size_t) * (n + 1));
    argv[0] = verb;
    lens[0] = strlen(verb);
    for (size_t i = 0; i < n; i++) {
        argv[i + 1] = subs[i]->name;
        lens[i + 1] = subs[i]->len;
    }
    sc_redis_command_argv(sh->sub, on_sub_reply, c, (int)n + 1, argv, lens);
    free(argv);
    free(lens);
}

static sc_sub *sub_get(sc_cluster *c, const char *channel, bool create)
{
    sc_sub *s = sc_map_get(&c->subs, channel, strlen(channel));
    if (s || !create)
        return s;
    size_t len = strlen(channel);
    s = sc_xcalloc(1, sizeof(*s) + len + 1);
    s->len = (uint32_t)len;
    memcpy(s->name, channel, len + 1);
    sc_map_put(&c->subs, s);
    return s;
}

/* s->on is the shard where the channel is subscribed or being left, and
 * NULL exactly when it is neither. */
static void sub_attach(sc_sub *s, sc_shard *sh)
{
    s->on = sh;
    s->subscribed = true;
    s->leaving = false;
    sh->nsubs++;
}

static void sub_detach(sc_sub *s)
{
    if (s->on)
        s->on->nsubs--;
    s->on = NULL;
    s->subscribed = s->leaving = false;
}

static void sub_want(sc_cluster *c, sc_sub *s)
{
    s->want = true;
    idle_unlink(c, s);
    if (s->on) /* subscribed, or leaving: subscribed again once that is confirmed */
        return;
    sc_shard *sh = sc_cl_shard_of(c, s->name, s->len, NULL);
    if (!sh) /* its slot's primary is not known yet: placed when the map comes */
        return;
    sc_cl_shard_start_sub(c, sh);
    if (!sc_redis_is_up(sh->sub)) /* subscribed when it comes up */
        return;
    sub_attach(s, sh);
    send_sub(c, sh, true, &s, 1);
    SC_COUNT(room_subscribes);
    if (c->in_gap) { /* placed again after a move: the Gap ends once it is confirmed */
        snprintf(sh->last_resub, sizeof(sh->last_resub), "%s", s->name);
        sh->sub_ready = false;
        c->sub_ready = false;
    }
}

/* ---- private rooms ----------------------------------------------------------------
 * socket.io puts every socket in a room named by its id. Subscribing one
 * channel per socket would cost Redis a subscription per connect and the
 * node a SUBSCRIBE and an UNSUBSCRIBE each; instead, while every live node
 * sends an emit to such a room to its socket's node through the directory
 * as well (sc_cl_private_all), the node that has the socket leaves the
 * room unsubscribed (and, when that starts, unsubscribes the ones it has).
 * It is subscribed like any room once the socket leaves it with other
 * members in it (the registry calls again), and every one is when a node
 * that does not route them appears: then it opens a Gap, as an emit of that
 * node's may have missed one meanwhile.
 *
 * The owner waits until a heartbeat answered two heartbeat intervals after
 * it first saw every node route them, so that every other node has had a
 * heartbeat to see it too. */
static bool private_rooms_on(sc_cluster *c, uint64_t now)
{
    if (!sc_cl_private_all(c)) {
        c->priv_since_us = 0;
        return false;
    }
    if (!c->priv_since_us)
        c->priv_since_us = now;
    return c->beat_reply_us >= c->priv_since_us + 2 * c->cfg->heartbeat_ms * 1000u;
}

static void room_channel(sc_cluster *c, char *ch, size_t len, const sc_room *room)
{
    snprintf(ch, len, "%s:room:%s", c->room_prefix, room->name);
}

/* The room of a channel no longer wanted: unsubscribed after
 * room_linger_ms (the idle FIFO, swept by sc_cl_subs_sweep). */
static void idle_append(sc_cluster *c, sc_sub *s)
{
    idle_unlink(c, s);
    s->want = false;
    s->idle_since_us = sc_now_us();
    s->idle_prev = c->idle_tail;
    s->idle_next = NULL;
    if (c->idle_tail)
        c->idle_tail->idle_next = s;
    else
        c->idle_head = s;
    c->idle_tail = s;
}

/* fn on the channel of every private room of this node (created if
 * `create`, else only those that have one); returns the sum of fn's. */
static size_t each_private_room(sc_cluster *c, bool create, size_t (*fn)(sc_cluster *, sc_sub *))
{
    sc_registry *reg = &c->srv->reg;
    char ch[SC_ID_MAX + 200];
    size_t n = 0;
    for (uint32_t i = 0; i < reg->rooms.cap; i++) {
        const sc_room *room = reg->rooms.items[i];
        if (!room || !room->own)
            continue;
        room_channel(c, ch, sizeof(ch), room);
        sc_sub *s = sub_get(c, ch, create);
        if (s)
            n += fn(c, s);
    }
    return n;
}

static size_t let_go(sc_cluster *c, sc_sub *s)
{
    if (!s->want)
        return 0;
    idle_append(c, s);
    return 1;
}

/* 1 if the channel is not subscribed (or is leaving). */
static size_t unsubscribed(sc_cluster *c, sc_sub *s)
{
    (void)c;
    return !s->on || s->leaving;
}

/* Wanted again; subscribed by resubscribe_all (in batches), or once an
 * UNSUBSCRIBE in flight is confirmed. */
static size_t take_up(sc_cluster *c, sc_sub *s)
{
    s->want = true;
    idle_unlink(c, s);
    return 1;
}

static void resubscribe_all(sc_cluster *c, sc_shard *sh);

/* Every live node routes private rooms now (or, at start, this node's
 * first heartbeats say so): the ones subscribed before are left to the
 * directory, after room_linger_ms like a room without members. */
static void private_rooms_unsubscribe(sc_cluster *c)
{
    size_t n = each_private_room(c, false, let_go);
    c->priv_on = true;
    if (n)
        sc_info("every live node routes socket id rooms through the directory: leaving this "
                "node's %zu such rooms unsubscribed after room_linger_ms",
                n);
}

/* A node that does not route private rooms is live: subscribe them all,
 * SUBSCRIBE_BATCH channels per command, on the one subscriber there is
 * without a Redis Cluster (private rooms are not used with one). The Gap
 * opens first and lasts until they are confirmed. */
static void private_rooms_subscribe(sc_cluster *c)
{
    size_t n = each_private_room(c, true, unsubscribed);
    c->priv_on = false;
    if (!n)
        return;
    sc_warn("a node that does not route socket id rooms through the directory is live: "
            "subscribing this node's %zu such rooms; the apps get a Gap",
            n);
    sc_cl_gap_begin(c, wall_ms(), "socket id rooms subscribed for an older node");
    each_private_room(c, true, take_up);
    SC_COUNT_N(room_subscribes, n);
    if (sc_redis_is_up(c->home.sub)) { /* else when it comes up */
        c->home.sub_ready = false;
        c->sub_ready = false;
        resubscribe_all(c, &c->home);
    }
    sc_cl_maybe_end_gap(c);
}

void sc_cluster_room(sc_cluster *c, const sc_room *room, bool created)
{
    if (!c)
        return;
    if (created && room->own && private_rooms_on(c, sc_now_us())) {
        c->priv_on = true;
        SC_COUNT(rooms_private);
        return;
    }
    char ch[SC_ID_MAX + 200];
    room_channel(c, ch, sizeof(ch), room);
    sc_sub *s = sub_get(c, ch, created);
    if (!s) /* never subscribed (a private room) */
        return;
    if (created)
        sub_want(c, s);
    else if (s->want) /* else left to the directory already */
        idle_append(c, s);
}

static void sub_delete(sc_cluster *c, sc_sub *s)
{
    idle_unlink(c, s);
    sc_map_del(&c->subs, s->name, s->len);
    free(s);
}

/* A subscriber is up but its subscriptions were not all confirmed within
 * redis_command_timeout_ms (refused, or a Redis frozen after answering
 * PING): the canary runs only once they are, so nothing else would notice. */
static void shard_deadline(sc_cluster *c, sc_shard *sh, uint64_t now)
{
    if (sh->sub_ready || !sh->sub_up_us || !sc_redis_is_up(sh->sub) ||
        now - sh->sub_up_us < c->cfg->redis_command_timeout_ms * 1000u)
        return;
    sh->sub_up_us = 0;
    char why[300];
    snprintf(why, sizeof(why), "channel subscriptions not confirmed within "
             "redis_command_timeout_ms %llu%s%s",
             (unsigned long long)c->cfg->redis_command_timeout_ms,
             sh->sub_error[0] ? ": " : "", sh->sub_error);
    sc_redis_reconnect(sh->sub, why);
}

static void sub_deadline(sc_cluster *c, uint64_t now)
{
    shard_deadline(c, &c->home, now);
    for (int i = 0; i < c->nshards; i++)
        if (c->shards[i] && !c->shards[i]->home)
            shard_deadline(c, c->shards[i], now);
}

/* Redis Cluster: every shard's connections up (those started). */
static bool shards_well(const sc_cluster *c)
{
    if (!sc_redis_is_up(c->pub) || !sc_redis_is_up(c->sub))
        return false;
    for (int i = 0; i < c->nshards; i++) {
        const sc_shard *sh = c->shards[i];
        if (sh && (!sc_redis_is_up(sh->pub) || (sh->sub_started && !sc_redis_is_up(sh->sub))))
            return false;
    }
    return true;
}

/* Every shard's subscriptions confirmed (the home one's always has the node
 * and broadcast channels): the subscriber side is whole again. */
static void subs_ready_check(sc_cluster *c)
{
    if (c->sub_ready || !c->home.sub_ready)
        return;
    for (int i = 0; i < c->nshards; i++) {
        const sc_shard *sh = c->shards[i];
        if (sh && !sh->home && sh->sub_started && !sh->sub_ready)
            return;
    }
    c->sub_ready = true;
    c->ever_up = true;
    c->canary_pending_since = 0;
    sc_cl_maybe_end_gap(c);
    sc_cl_maybe_announce(c);
}

/* A shard's subscriber came up: every wanted channel of that shard. */
static void resubscribe_all(sc_cluster *c, sc_shard *sh)
{
    sc_sub *batch[SUBSCRIBE_BATCH], *optional = NULL;
    size_t n = 0;
    sh->last_resub[0] = '\0';
    for (uint32_t i = 0; i < c->subs.cap; i++) {
        sc_sub *s = c->subs.items[i];
        if (!s || !s->want || s->on || sc_cl_shard_of(c, s->name, s->len, NULL) != sh)
            continue;
        if (s->optional) {
            optional = s;
            continue;
        }
        sub_attach(s, sh);
        snprintf(sh->last_resub, sizeof(sh->last_resub), "%s", s->name);
        batch[n++] = s;
        /* SSUBSCRIBE takes channels of one slot: one command each */
        if (n == SUBSCRIBE_BATCH || c->sharded) {
            send_sub(c, sh, true, batch, n);
            n = 0;
        }
    }
    send_sub(c, sh, true, batch, n);
    if (optional && sc_redis_is_up(sh->sub)) { /* last, alone: a refusal takes nothing else */
        sub_attach(optional, sh);
        send_sub(c, sh, true, &optional, 1);
    }
    if (!sh->last_resub[0]) { /* nothing to confirm */
        sh->sub_ready = true;
        subs_ready_check(c);
    }
}

/* Redis refused a SUBSCRIBE (an ACL without the channels, most often): the
 * subscriptions are never all confirmed, so /readyz says why; the deadline
 * in on_sweep recycles the connection to try again. A Redis Cluster's
 * MOVED: the slot map is stale, and asked again. */
static void sub_refused(sc_cluster *c, sc_shard *sh, const char *err)
{
    SC_COUNT(redis_errors);
    if (sh)
        snprintf(sh->sub_error, sizeof(sh->sub_error), "%s", err);
    if (sh && sh->home && !c->spread && !c->subs_ok) { /* maybe the subs channel */
        c->subs_refused = true;                        /* not advertised from the next heartbeat */
        sc_cl_maybe_end_gap(c);                        /* nor waited for */
    }
    if (c->topo && strncmp(err, "MOVED ", 6) == 0) {
        SC_COUNT(redis_cluster_redirects);
        sc_topo_refresh(c->topo, err);
        return;
    }
    if (c->sharded && strstr(err, "unknown command")) {
        sc_cl_sharded_off(c, err);
        return;
    }
    sc_log_limited(SC_LOG_ERROR,
                   "redis refused a subscription: %s (the ACL must allow the channels "
                   "&%s:*%s%s:*)",
                   err, c->prefix, c->topo ? " and &" : "", c->topo ? c->room_prefix : "");
}

/* A Redis Cluster shard dropped a channel we did not leave: its slot moved
 * (a reshard) or its primary failed over. Messages sent to it until it is
 * subscribed where the slot is now are lost: a Gap, and the map is asked
 * again (the answer places it). */
static void sub_dropped(sc_cluster *c, sc_sub *s)
{
    SC_COUNT(redis_cluster_sunsubscribes);
    sc_log_limited(SC_LOG_WARN, "redis cluster: %s dropped channel %s (slot moved or failover): "
                                "subscribing again where its slot is now",
                   s->on->addr, SC_ESC(s->name));
    sub_detach(s);
    c->sub_ready = false;
    if (c->ever_up)
        sc_cl_gap_begin(c, wall_ms(), "redis cluster: a channel's slot moved to another primary");
    sc_topo_refresh(c->topo, "a shard dropped a channel");
}

/* Whether `channel` is a private room's (sc_private_room_id): an emitter
 * that found it without subscribers must hear that it has one now. */
static bool private_channel(const sc_cluster *c, const char *channel, size_t len)
{
    size_t plen = strlen(c->room_prefix);
    if (c->spread || len < plen + 6 || memcmp(channel, c->room_prefix, plen) != 0 ||
        memcmp(channel + plen, ":room:", 6) != 0)
        return false;
    return sc_private_room_id(channel + plen + 6, len - plen - 6) != NULL;
}

/* The subscribers' replies: a message goes to cluster_receive.c; Redis
 * confirming a subscription may end a Gap, an unsubscription frees the
 * channel (or subscribes again if a member came meanwhile). */
static void on_sub_reply(sc_redis *rc, void *reply, void *pd)
{
    sc_cluster *c = pd;
    redisReply *r = reply;
    sc_shard *sh = sc_cl_shard_by_sub(c, rc);
    if (r && r->type == REDIS_REPLY_ERROR) {
        sub_refused(c, sh, r->str);
        return;
    }
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3 || !r->element[0]->str ||
        !r->element[1]->str)
        return;
    const char *kind = r->element[0]->str, *channel = r->element[1]->str;
    if (strcmp(kind, "smessage") == 0 || strcmp(kind, "ssubscribe") == 0 ||
        strcmp(kind, "sunsubscribe") == 0)
        kind++; /* a Redis Cluster's shard channels: the same as the others */
    if (strcmp(kind, "message") == 0) {
        c->last_rx_ms = (uint64_t)(ev_now(c->srv->loop) * 1000.0);
        sc_cl_on_message(c, channel, (const uint8_t *)r->element[2]->str, r->element[2]->len);
        sc_arena_reset(&c->arena);
    } else if (strcmp(kind, "subscribe") == 0) {
        if (private_channel(c, channel, r->element[1]->len))
            c->subs_to_announce++; /* sc_cl_subscribed_flush tells the others */
        else if (!c->spread && strcmp(channel, c->ch_subs) == 0) {
            c->subs_ok = true; /* announcements heard, and sent */
            c->subs_refused = false;
        }
        /* Redis confirms in order: the last channel of the resubscription
         * means every channel is back, and only then is the gap over. */
        if (sh && !sh->sub_ready && strcmp(channel, sh->last_resub) == 0) {
            sh->sub_ready = true;
            subs_ready_check(c);
        }
    } else if (strcmp(kind, "unsubscribe") == 0) {
        sc_sub *s = sub_get(c, channel, false);
        if (!s || !sh || s->on != sh)
            return; /* confirms leaving a shard the channel moved away from */
        if (!s->leaving) {
            sub_dropped(c, s);
            return;
        }
        sub_detach(s);
        if (s->want)
            sub_want(c, s); /* a member arrived while we were leaving */
        else
            sub_delete(c, s);
    }
}

/* A shard's subscriber came up (subscribe its channels) or went down: its
 * channels are nowhere until it is back, and rooms that lost their members
 * meanwhile need no subscription then. */
static void shard_sub_state(sc_cluster *c, sc_shard *sh, bool up, const char *why)
{
    if (up) {
        sh->sub_up_us = sc_now_us();
        sh->sub_error[0] = '\0';
        resubscribe_all(c, sh);
        return;
    }
    sh->sub_ready = false;
    c->sub_ready = false;
    if (sh->home)
        c->subs_ok = c->subs_echo_due = false; /* an echo in flight is lost */
    if (c->sentinel)
        sc_sentinel_refresh(c->sentinel);
    if (c->topo)
        sc_topo_refresh(c->topo, why); /* a failover may be why */
    c->canary_pending_since = 0;
    for (uint32_t i = 0; i < c->subs.cap; i++) {
        sc_sub *s = c->subs.items[i];
        if (s && s->on == sh)
            sub_detach(s);
    }
    for (uint32_t i = 0; i < c->subs.cap; i++) {
        sc_sub *s = c->subs.items[i];
        if (s && !s->on && !s->want && !s->permanent) {
            sub_delete(c, s);
            i = (uint32_t)-1; /* the table moved: rescan */
        }
    }
    if (c->ever_up) {
        char reason[128];
        snprintf(reason, sizeof(reason), "subscriber connection lost: %s", why);
        sc_cl_gap_begin(c, wall_ms(), reason);
    }
}

void sc_cl_on_sub_state(sc_redis *r, bool up, const char *why, void *ud)
{
    sc_cluster *c = ud;
    shard_sub_state(c, &c->home, up, why);
}

/* A room shard's connection (Redis Cluster): its subscriber as the home
 * one's; its publish connection takes what the outbox kept for it. */
static void on_shard_state(sc_cluster *c, sc_shard *sh, bool sub, bool up, const char *why)
{
    if (sub) {
        shard_sub_state(c, sh, up, why);
    } else if (up) {
        /* its directory buckets may have lost this node's entries (a
         * replica promoted, or its writes dropped while it was away) */
        sc_cl_buckets_shard_up(c, sh);
        if (sc_cl_buckets_on(c, sh)) {
            if (c->ever_up)
                sc_cl_gap_begin(c, wall_ms(),
                                "a redis cluster primary came back; directory "
                                "rewritten");
            sc_cl_directory_resync(c);
        }
        sc_cl_outbox_flush(c);
        sc_cl_buckets_retry(c);
    } else {
        sc_cl_buckets_shard_down(c, sh);
        sc_topo_refresh(c->topo, why);
    }
}

/* A slot map came (redis_topology.c). When it changed, channels whose slot
 * went to another primary leave the shard they were on (their messages in
 * between are lost: a Gap) and the shards of primaries gone are freed.
 * Then every wanted channel not subscribed anywhere is placed. */
void sc_cl_on_topology(void *ud, bool changed)
{
    sc_cluster *c = ud;
    if (changed) {
        sc_shard *old[SC_TOPO_PRIMARIES_MAX];
        int nold = sc_cl_shards_build(c, old);
        size_t moved = 0;
        for (uint32_t i = 0; i < c->subs.cap; i++) {
            sc_sub *s = c->subs.items[i];
            if (!s || !s->on || s->on == sc_cl_shard_of(c, s->name, s->len, NULL))
                continue;
            if (s->subscribed && !s->leaving)
                send_sub(c, s->on, false, &s, 1); /* a freed shard's is never sent */
            sub_detach(s);
            moved += s->want;
        }
        for (int i = 0; i < nold; i++)
            sc_cl_shard_free(old[i]);
        if (moved && c->ever_up)
            sc_cl_gap_begin(c, wall_ms(), "redis cluster: channels' slots moved to another primary");
        c->sub_ready = false;
        subs_ready_check(c);
        sc_cl_outbox_flush(c); /* room publishes kept for a slot with no primary known */
    }
    sc_cl_buckets_retry(c); /* reads answered MOVED go to the slot's primary now */
    for (uint32_t i = 0; i < c->subs.cap; i++) {
        sc_sub *s = c->subs.items[i];
        if (s && s->want && !s->on)
            sub_want(c, s);
    }
    subs_ready_check(c);
}


/* ---- the parts above ---------------------------------------------------------- */

void sc_cl_subs_init(sc_cluster *c)
{
    sc_map_init(&c->subs, sub_key);
    sc_sub *s = sub_get(c, c->ch_node, true);
    s->want = s->permanent = true;
    s = sub_get(c, c->ch_all, true);
    s->want = s->permanent = true;
    if (!c->spread) { /* private rooms are not used on a Redis Cluster */
        s = sub_get(c, c->ch_subs, true);
        s->want = s->permanent = s->optional = true;
    }
    c->shard_state = on_shard_state;
}

void sc_cl_subs_free(sc_cluster *c)
{
    for (uint32_t i = 0; i < c->subs.cap; i++)
        free(c->subs.items[i]);
    sc_map_free(&c->subs);
}

/* Unsubscribe rooms idle for longer than room_linger_ms, oldest first. On
 * a Redis Cluster, while a shard is down, ask for the slot map at every
 * tick: a failover names its new primary within seconds, and the
 * connections to the dead one would otherwise wait for the periodic ask. */
void sc_cl_subs_sweep(sc_cluster *c, uint64_t now)
{
    uint64_t linger = c->cfg->room_linger_ms * 1000u;
    sub_deadline(c, now);
    if (c->topo && !shards_well(c))
        sc_topo_refresh(c->topo, "a shard's connection is down");
    while (c->idle_head && now - c->idle_head->idle_since_us >= linger) {
        sc_sub *s = c->idle_head;
        idle_unlink(c, s);
        if (s->subscribed && !s->leaving && sc_redis_is_up(s->on->sub)) {
            s->leaving = true;
            send_sub(c, s->on, false, &s, 1);
            SC_COUNT(room_unsubscribes);
        } else if (!s->on) {
            sub_delete(c, s);
        }
    }
    /* after the idle FIFO: rooms let go here wait room_linger_ms from now */
    bool ready = private_rooms_on(c, now);
    if (ready && !c->priv_ready)
        private_rooms_unsubscribe(c);
    else if (!ready && c->priv_on)
        private_rooms_subscribe(c);
    c->priv_ready = ready;
}
