/* cluster: Redis pub/sub transport between sidecars, node liveness, the
 * socket directory, interest-based room subscriptions, the outbox and the
 * pub/sub canary. Requests and acks are in request.c; this file carries
 * them between nodes. */
#include "cluster.h"
#include "cluster.pb-c.h"
#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "redis.h"
#include "request.h"
#include "server.h"
#include "stats.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define M(name) SIDECAST__V1__FRAME__MSG_##name
#define RESYNC_BATCH 256
#define SUBSCRIBE_BATCH 256
#define CHUNK_BYTES (256 * 1024)

typedef Sidecast__Cluster__V1__Envelope sc_envelope;

typedef struct sc_peer {
    uint64_t last_seq;
    uint32_t len;
    char id[];
} sc_peer;

typedef struct sc_sub {
    bool want;       /* local members (or a permanent channel) */
    bool subscribed; /* SUBSCRIBE sent on the current connection */
    bool leaving;    /* UNSUBSCRIBE sent, not yet confirmed */
    bool permanent;
    uint64_t idle_since_us;
    struct sc_sub *idle_prev, *idle_next; /* idle FIFO, oldest first */
    uint32_t len;
    char name[];
} sc_sub;

typedef struct outbox_item {
    struct outbox_item *next, *prev;   /* all items, oldest first */
    struct outbox_item *vnext, *vprev; /* volatile items only */
    bool is_volatile;
    size_t len;
    char *cmd; /* formatted by redisFormatCommandArgv */
} outbox_item;

struct sc_cluster {
    sc_server *srv;
    const sc_config *cfg;
    sc_redis *pub, *sub;
    sc_arena arena; /* decoded envelopes, reset after each message */
    sc_buf pack;    /* encoded envelope; hiredis copies it when sending */
    char prefix[72];
    char ch_node[160], ch_all[160];
    const char *self;
    uint64_t seq;
    sc_map peers;
    sc_map subs;
    sc_sub *idle_head, *idle_tail;
    /* live nodes from the last heartbeat (ids and names, owned) */
    char **live_ids, **live_names;
    size_t nlive;
    /* outbox */
    outbox_item *ob_head, *ob_tail, *ob_vhead, *ob_vtail;
    size_t ob_bytes, ob_count;
    /* timers */
    ev_timer heartbeat, canary, sweep;
    /* canary and gaps */
    uint64_t canary_pending_since; /* oldest unanswered canary, 0: none */
    bool sub_ready;                /* node channel subscription confirmed */
    bool ever_up;
    bool in_gap;
    uint64_t gap_from_ms;
    char gap_reason[128];
    bool leaving, left;
};

static const char *peer_key(const void *item, size_t *len)
{
    const sc_peer *p = item;
    *len = p->len;
    return p->id;
}

static const char *sub_key(const void *item, size_t *len)
{
    const sc_sub *s = item;
    *len = s->len;
    return s->name;
}

static uint64_t wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

/* ---- Lua scripts (run atomically in Redis) -------------------------------- */

/* Targeted emit: resolve socket ids to nodes and publish once per node. */
static const char *SCRIPT_TARGETED =
    "local seen, n = {}, 0\n"
    "for i = 3, #ARGV do\n"
    "  local node = redis.call('HGET', KEYS[1], ARGV[i])\n"
    "  if node and not seen[node] then\n"
    "    seen[node] = true\n"
    "    redis.call('PUBLISH', ARGV[1] .. node, ARGV[2])\n"
    "    n = n + 1\n"
    "  end\n"
    "end\n"
    "return n\n";

/* Remove a node's directory entries (only those still pointing at it). */
#define FORGET_BODY                                                                                \
    "local function forget(p, n)\n"                                                                \
    "  local key = p .. ':nodesock:' .. n\n"                                                       \
    "  for _, id in ipairs(redis.call('SMEMBERS', key)) do\n"                                      \
    "    if redis.call('HGET', p .. ':sockets', id) == n then\n"                                   \
    "      redis.call('HDEL', p .. ':sockets', id)\n"                                              \
    "    end\n"                                                                                    \
    "  end\n"                                                                                      \
    "  redis.call('DEL', key)\n"                                                                   \
    "end\n"

static const char *SCRIPT_FORGET = FORGET_BODY "forget(ARGV[1], ARGV[2])\nreturn 1\n";

/* Heartbeat: list live nodes as id, name pairs; reap the dead ones. */
static const char *SCRIPT_REAP = FORGET_BODY
    "local p, live, dead = ARGV[1], {}, 0\n"
    "for _, n in ipairs(redis.call('SMEMBERS', p .. ':nodes')) do\n"
    "  local name = redis.call('GET', p .. ':alive:' .. n)\n"
    "  if name then\n"
    "    live[#live + 1] = n\n"
    "    live[#live + 1] = name\n"
    "  else\n"
    "    forget(p, n)\n"
    "    redis.call('SREM', p .. ':nodes', n)\n"
    "    dead = dead + 1\n"
    "  end\n"
    "end\n"
    "live[#live + 1] = tostring(dead)\n"
    "return live\n";

/* Socket down: delete the entry only if it still points at this node (the
 * socket may have reconnected to another node meanwhile). */
static const char *SCRIPT_UNREGISTER =
    "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then\n"
    "  redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "end\n"
    "redis.call('SREM', KEYS[2], ARGV[1])\n"
    "return 1\n";

/* ---- sending ------------------------------------------------------------------- */

static void outbox_unlink(sc_cluster *c, outbox_item *it)
{
    if (it->prev)
        it->prev->next = it->next;
    else
        c->ob_head = it->next;
    if (it->next)
        it->next->prev = it->prev;
    else
        c->ob_tail = it->prev;
    if (it->is_volatile) {
        if (it->vprev)
            it->vprev->vnext = it->vnext;
        else
            c->ob_vhead = it->vnext;
        if (it->vnext)
            it->vnext->vprev = it->vprev;
        else
            c->ob_vtail = it->vprev;
    }
    c->ob_bytes -= it->len;
    c->ob_count--;
    redisFreeCommand(it->cmd);
    free(it);
}

static void outbox_push(sc_cluster *c, char *cmd, size_t len, bool vol)
{
    uint64_t max = c->cfg->outbox_max_bytes;
    while (c->ob_bytes + len > max && c->ob_vhead && !vol) {
        SC_COUNT(outbox_dropped_volatile); /* older volatile make room for this one */
        outbox_unlink(c, c->ob_vhead);
    }
    if (c->ob_bytes + len > max) {
        if (vol)
            SC_COUNT(outbox_dropped_volatile);
        else
            SC_COUNT(outbox_dropped_full);
        sc_log_limited(SC_LOG_WARN,
                       "redis unavailable and outbox full (%zu bytes, outbox_max_bytes %llu): "
                       "dropping a %s cluster message",
                       c->ob_bytes, (unsigned long long)max, vol ? "volatile" : "non-volatile");
        redisFreeCommand(cmd);
        return;
    }
    outbox_item *it = sc_xcalloc(1, sizeof(*it));
    it->cmd = cmd;
    it->len = len;
    it->is_volatile = vol;
    it->prev = c->ob_tail;
    if (c->ob_tail)
        c->ob_tail->next = it;
    else
        c->ob_head = it;
    c->ob_tail = it;
    if (vol) {
        it->vprev = c->ob_vtail;
        if (c->ob_vtail)
            c->ob_vtail->vnext = it;
        else
            c->ob_vhead = it;
        c->ob_vtail = it;
    }
    c->ob_bytes += len;
    c->ob_count++;
    SC_COUNT(outbox_queued);
}

static void outbox_flush(sc_cluster *c)
{
    redisAsyncContext *ac = sc_redis_ctx(c->pub);
    size_t n = 0;
    while (ac && c->ob_head) {
        outbox_item *it = c->ob_head;
        redisAsyncFormattedCommand(ac, NULL, NULL, it->cmd, it->len);
        outbox_unlink(c, it);
        n++;
    }
    if (n) {
        SC_COUNT_N(outbox_flushed, n);
        sc_info("redis is back: sent %zu queued cluster message(s)", n);
    }
}

/* Send a command now, or keep it for later if `keep` (emits); directory
 * writes are not kept: the resync after reconnecting rewrites them. */
static void command(sc_cluster *c, int argc, const char **argv, const size_t *lens, bool keep,
                    bool vol, redisCallbackFn *cb, void *pd)
{
    redisAsyncContext *ac = sc_redis_ctx(c->pub);
    if (ac) {
        redisAsyncCommandArgv(ac, cb, pd, argc, argv, lens);
        SC_COUNT(redis_commands);
        return;
    }
    if (!keep)
        return;
    char *cmd;
    int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
    if (len > 0)
        outbox_push(c, cmd, (size_t)len, vol);
}

static size_t pack_envelope(sc_cluster *c, sc_envelope *env, uint8_t **ret)
{
    env->origin = (char *)c->self;
    env->seq = ++c->seq;
    env->sent_unix_ms = wall_ms();
    size_t len = sidecast__cluster__v1__envelope__get_packed_size(env);
    c->pack.off = c->pack.len = 0;
    uint8_t *buf = sc_buf_reserve(&c->pack, len ? len : 1);
    sidecast__cluster__v1__envelope__pack(env, buf);
    *ret = buf;
    return len;
}

static void publish(sc_cluster *c, const char *channel, const uint8_t *env, size_t len, bool vol)
{
    const char *argv[3] = {"PUBLISH", channel, (const char *)env};
    size_t lens[3] = {7, strlen(channel), len};
    command(c, 3, argv, lens, true, vol, NULL, NULL);
    SC_COUNT(redis_publishes);
}

static void channel_of(sc_cluster *c, char *out, size_t outlen, const char *kind, const char *name)
{
    snprintf(out, outlen, "%s:%s:%s", c->prefix, kind, name);
}

/* ---- directory ------------------------------------------------------------------- */

static void hset_batch(sc_cluster *c, const sc_socket **socks, size_t n)
{
    const char **argv = sc_xmalloc(sizeof(char *) * (2 + 2 * n));
    size_t *lens = sc_xmalloc(sizeof(size_t) * (2 + 2 * n));
    char key[160], setkey[200];
    snprintf(key, sizeof(key), "%s:sockets", c->prefix);
    snprintf(setkey, sizeof(setkey), "%s:nodesock:%s", c->prefix, c->self);
    argv[0] = "HSET";
    lens[0] = 4;
    argv[1] = key;
    lens[1] = strlen(key);
    for (size_t i = 0; i < n; i++) {
        argv[2 + 2 * i] = sc_socket_id(socks[i]);
        lens[2 + 2 * i] = socks[i]->id_len;
        argv[3 + 2 * i] = c->self;
        lens[3 + 2 * i] = strlen(c->self);
    }
    command(c, (int)(2 + 2 * n), argv, lens, false, false, NULL, NULL);
    argv[0] = "SADD";
    argv[1] = setkey;
    lens[1] = strlen(setkey);
    for (size_t i = 0; i < n; i++) {
        argv[2 + i] = sc_socket_id(socks[i]);
        lens[2 + i] = socks[i]->id_len;
    }
    command(c, (int)(2 + n), argv, lens, false, false, NULL, NULL);
    free(argv);
    free(lens);
}

void sc_cluster_socket_up(sc_cluster *c, const sc_socket *s)
{
    if (c && !c->leaving)
        hset_batch(c, &s, 1);
}

void sc_cluster_socket_down(sc_cluster *c, const sc_socket *s)
{
    if (!c || c->leaving)
        return;
    char key[160], setkey[200];
    snprintf(key, sizeof(key), "%s:sockets", c->prefix);
    snprintf(setkey, sizeof(setkey), "%s:nodesock:%s", c->prefix, c->self);
    const char *argv[] = {"EVAL", SCRIPT_UNREGISTER, "2", key, setkey, sc_socket_id(s), c->self};
    size_t lens[] = {4, strlen(SCRIPT_UNREGISTER), 1, strlen(key), strlen(setkey), s->id_len,
                     strlen(c->self)};
    command(c, 7, argv, lens, false, false, NULL, NULL);
}

/* After (re)connecting: forget what Redis may still hold for this node and
 * write every local socket again, so an emptied Redis (restart without
 * persistence) or entries missed while away are repaired. */
static void directory_resync(sc_cluster *c)
{
    const char *argv[] = {"EVAL", SCRIPT_FORGET, "0", c->prefix, c->self};
    size_t lens[] = {4, strlen(SCRIPT_FORGET), 1, strlen(c->prefix), strlen(c->self)};
    command(c, 5, argv, lens, false, false, NULL, NULL);
    sc_registry *reg = &c->srv->reg;
    const sc_socket *batch[RESYNC_BATCH];
    size_t n = 0, total = 0;
    for (uint32_t i = 0; i < reg->sockets.cap; i++) {
        if (!reg->sockets.items[i])
            continue;
        batch[n++] = reg->sockets.items[i];
        if (n == RESYNC_BATCH) {
            hset_batch(c, batch, n);
            total += n;
            n = 0;
        }
    }
    if (n)
        hset_batch(c, batch, n);
    total += n;
    SC_COUNT(directory_resyncs);
    sc_info("directory: wrote %zu socket(s) of this node to redis", total);
}

/* ---- liveness ------------------------------------------------------------------- */

static void free_live(sc_cluster *c)
{
    for (size_t i = 0; i < c->nlive; i++) {
        free(c->live_ids[i]);
        free(c->live_names[i]);
    }
    free(c->live_ids);
    free(c->live_names);
    c->live_ids = c->live_names = NULL;
    c->nlive = 0;
}

static void forget_peer(sc_cluster *c, const char *id)
{
    sc_peer *p = sc_map_del(&c->peers, id, strlen(id));
    free(p);
}

static void on_reap_reply(redisAsyncContext *ac, void *reply, void *pd)
{
    sc_cluster *c = pd;
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 1)
        return;
    size_t pairs = (r->elements - 1) / 2;
    long long dead = atoll(r->element[r->elements - 1]->str ? r->element[r->elements - 1]->str : "0");
    /* peers that are no longer live: drop their de-duplication state */
    for (size_t i = 0; i < c->nlive; i++) {
        bool still = false;
        for (size_t j = 0; j < pairs && !still; j++)
            still = strcmp(c->live_ids[i], r->element[2 * j]->str) == 0;
        if (!still && strcmp(c->live_ids[i], c->self) != 0) {
            sc_info("node %s (%s) left the cluster", c->live_names[i], c->live_ids[i]);
            forget_peer(c, c->live_ids[i]);
        }
    }
    free_live(c);
    c->live_ids = sc_xcalloc(pairs + 1, sizeof(char *));
    c->live_names = sc_xcalloc(pairs + 1, sizeof(char *));
    for (size_t j = 0; j < pairs; j++) {
        c->live_ids[j] = sc_xstrndup(r->element[2 * j]->str, r->element[2 * j]->len);
        c->live_names[j] = sc_xstrndup(r->element[2 * j + 1]->str, r->element[2 * j + 1]->len);
    }
    c->nlive = pairs;
    if (dead > 0) {
        SC_COUNT_N(dead_nodes_reaped, (uint64_t)dead);
        sc_warn("reaped %lld dead node(s): their liveness expired; directory entries removed",
                dead);
    }
}

static void heartbeat_now(sc_cluster *c)
{
    if (!sc_redis_is_up(c->pub) || c->leaving)
        return;
    char key[200], nodes[160], ttl[32];
    snprintf(key, sizeof(key), "%s:alive:%s", c->prefix, c->self);
    snprintf(nodes, sizeof(nodes), "%s:nodes", c->prefix);
    snprintf(ttl, sizeof(ttl), "%" PRIu64, c->cfg->node_ttl_ms);
    const char *name = c->srv->node_name;
    const char *a1[] = {"SET", key, name, "PX", ttl};
    size_t l1[] = {3, strlen(key), strlen(name), 2, strlen(ttl)};
    command(c, 5, a1, l1, false, false, NULL, NULL);
    const char *a2[] = {"SADD", nodes, c->self};
    size_t l2[] = {4, strlen(nodes), strlen(c->self)};
    command(c, 3, a2, l2, false, false, NULL, NULL);
    const char *a3[] = {"EVAL", SCRIPT_REAP, "0", c->prefix};
    size_t l3[] = {4, strlen(SCRIPT_REAP), 1, strlen(c->prefix)};
    command(c, 4, a3, l3, false, false, on_reap_reply, c);
}

static void on_heartbeat(struct ev_loop *loop, ev_timer *w, int revents)
{
    heartbeat_now(w->data);
}

/* ---- subscriptions -------------------------------------------------------------- */

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

static void on_sub_reply(redisAsyncContext *ac, void *reply, void *pd);

static void send_sub(sc_cluster *c, const char *verb, sc_sub **subs, size_t n)
{
    redisAsyncContext *ac = sc_redis_ctx(c->sub);
    if (!ac || n == 0)
        return;
    const char **argv = sc_xmalloc(sizeof(char *) * (n + 1));
    size_t *lens = sc_xmalloc(sizeof(size_t) * (n + 1));
    argv[0] = verb;
    lens[0] = strlen(verb);
    for (size_t i = 0; i < n; i++) {
        argv[i + 1] = subs[i]->name;
        lens[i + 1] = subs[i]->len;
    }
    redisAsyncCommandArgv(ac, on_sub_reply, c, (int)n + 1, argv, lens);
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

static void sub_want(sc_cluster *c, sc_sub *s)
{
    s->want = true;
    idle_unlink(c, s);
    if (!s->subscribed && !s->leaving && sc_redis_is_up(c->sub)) {
        s->subscribed = true;
        send_sub(c, "SUBSCRIBE", &s, 1);
        SC_COUNT(room_subscribes);
    }
}

void sc_cluster_room(sc_cluster *c, const sc_room *room, bool created)
{
    if (!c)
        return;
    char ch[SC_ID_MAX + 200];
    snprintf(ch, sizeof(ch), "%s:room:%s", c->prefix, room->name);
    sc_sub *s = sub_get(c, ch, created);
    if (!s)
        return;
    if (created) {
        sub_want(c, s);
        return;
    }
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

static void sub_delete(sc_cluster *c, sc_sub *s)
{
    idle_unlink(c, s);
    sc_map_del(&c->subs, s->name, s->len);
    free(s);
}

/* Unsubscribe rooms idle for longer than room_linger_ms, oldest first. */
static void on_sweep(struct ev_loop *loop, ev_timer *w, int revents)
{
    sc_cluster *c = w->data;
    uint64_t now = sc_now_us(), linger = c->cfg->room_linger_ms * 1000u;
    while (c->idle_head && now - c->idle_head->idle_since_us >= linger) {
        sc_sub *s = c->idle_head;
        idle_unlink(c, s);
        if (s->subscribed && !s->leaving && sc_redis_is_up(c->sub)) {
            s->leaving = true;
            send_sub(c, "UNSUBSCRIBE", &s, 1);
            SC_COUNT(room_unsubscribes);
        } else if (!s->subscribed && !s->leaving) {
            sub_delete(c, s);
        }
    }
}

static void resubscribe_all(sc_cluster *c)
{
    sc_sub *batch[SUBSCRIBE_BATCH];
    size_t n = 0;
    for (uint32_t i = 0; i < c->subs.cap; i++) {
        sc_sub *s = c->subs.items[i];
        if (!s || !s->want)
            continue;
        s->subscribed = true;
        batch[n++] = s;
        if (n == SUBSCRIBE_BATCH) {
            send_sub(c, "SUBSCRIBE", batch, n);
            n = 0;
        }
    }
    send_sub(c, "SUBSCRIBE", batch, n);
}

/* ---- receiving -------------------------------------------------------------------- */

static void handle_emit(sc_cluster *c, const sc_envelope *env)
{
    const Sidecast__Cluster__V1__ClusterEmit *em = env->emit;
    if (!em->to)
        return;
    sc_relay *relay = em->ack_id ? sc_relay_new(c->srv, env->origin, em->ack_id) : NULL;
    sc_dispatch_deliver(c->srv, NULL, false, em->to, em->payload, em->volatile_, relay);
    if (relay)
        sc_relay_arm(relay);
}

static void respond(sc_cluster *c, const char *origin, Sidecast__Cluster__V1__Response *resp)
{
    sc_envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    env.body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_RESPONSE;
    env.response = resp;
    uint8_t *buf;
    size_t len = pack_envelope(c, &env, &buf);
    char ch[200];
    channel_of(c, ch, sizeof(ch), "node", origin);
    publish(c, ch, buf, len, false);
}

typedef struct fetch_collect {
    sc_cluster *c;
    const char *origin;
    uint64_t req;
    bool with_data, with_rooms;
    Sidecast__V1__SocketInfo **items;
    size_t n, cap, bytes;
} fetch_collect;

static void fetch_flush(fetch_collect *fc, bool last)
{
    Sidecast__V1__SocketList l = SIDECAST__V1__SOCKET_LIST__INIT;
    l.sockets = fc->items;
    l.n_sockets = fc->n;
    Sidecast__Cluster__V1__Response resp = SIDECAST__CLUSTER__V1__RESPONSE__INIT;
    resp.id = fc->req;
    resp.last = last;
    resp.kind_case = SIDECAST__CLUSTER__V1__RESPONSE__KIND_SOCKETS;
    resp.sockets = &l;
    respond(fc->c, fc->origin, &resp);
    fc->n = 0;
    fc->bytes = 0;
}

static void fetch_one(sc_socket *s, void *ud)
{
    fetch_collect *fc = ud;
    if (fc->n == fc->cap) {
        fc->cap = fc->cap ? fc->cap * 2 : 256;
        fc->items = sc_xrealloc(fc->items, fc->cap * sizeof(*fc->items));
    }
    Sidecast__V1__SocketInfo *in = sc_arena_alloc(&fc->c->arena, sizeof(*in));
    sc_dispatch_socket_info(fc->c->srv, &fc->c->arena, s, fc->with_data, fc->with_rooms, in);
    fc->items[fc->n++] = in;
    fc->bytes += s->id_len + s->sid_len + s->uid_len + 64 + (fc->with_data ? s->data_len : 0);
    if (fc->bytes >= CHUNK_BYTES)
        fetch_flush(fc, false);
}

static void handle_request(sc_cluster *c, const sc_envelope *env)
{
    const Sidecast__Cluster__V1__Request *rq = env->request;
    SC_COUNT(requests_served);
    switch (rq->kind_case) {
    case SIDECAST__CLUSTER__V1__REQUEST__KIND_FETCH_SOCKETS: {
        const Sidecast__V1__FetchSockets *q = rq->fetch_sockets;
        sc_selector sel = SIDECAST__V1__SELECTOR__INIT;
        if (q->filter)
            sel = *q->filter;
        sel.all = sel.all || (sel.n_rooms == 0 && sel.n_socket_ids == 0);
        fetch_collect fc = {c, env->origin, rq->id, q->with_data, q->with_rooms, NULL, 0, 0, 0};
        sc_registry_select(&c->srv->reg, NULL, &sel, fetch_one, &fc);
        fetch_flush(&fc, true);
        free(fc.items);
        break;
    }
    case SIDECAST__CLUSTER__V1__REQUEST__KIND_APPLY:
        sc_dispatch_forward_apply(c->srv, rq->apply);
        if (rq->id)
            sc_cluster_progress(c, env->origin, rq->id, 0, NULL, 0, true);
        break;
    case SIDECAST__CLUSTER__V1__REQUEST__KIND_SERVER_EMIT: {
        const Sidecast__V1__ServerEmit *se = rq->server_emit;
        sc_relay *relay = se->want_ack ? sc_relay_new(c->srv, env->origin, rq->id) : NULL;
        uint32_t n = sc_dispatch_server_message(c->srv, NULL, se->payload, env->origin, relay);
        if (relay) {
            sc_cluster_progress(c, env->origin, rq->id, n, NULL, 0, false);
            sc_relay_arm(relay);
        }
        break;
    }
    default:
        SC_COUNT(cluster_malformed);
        break;
    }
}

static void handle_response(sc_cluster *c, const sc_envelope *env)
{
    const Sidecast__Cluster__V1__Response *rs = env->response;
    sc_request *r = sc_request_find(c->srv, rs->id);
    if (!r) {
        SC_COUNT(responses_late);
        return; /* timed out already */
    }
    if (rs->kind_case == SIDECAST__CLUSTER__V1__RESPONSE__KIND_SOCKETS && rs->sockets->n_sockets)
        sc_request_sockets(r, rs->sockets);
    else if (rs->kind_case == SIDECAST__CLUSTER__V1__RESPONSE__KIND_PROGRESS)
        sc_request_progress(r, rs->progress->expect, rs->progress->payloads,
                            rs->progress->n_payloads);
    if (rs->last)
        sc_request_node_done(r);
}

static void end_gap(sc_cluster *c)
{
    if (!c->in_gap)
        return;
    c->in_gap = false;
    SC_COUNT(pubsub_gaps);
    Sidecast__V1__Gap g = SIDECAST__V1__GAP__INIT;
    g.from_unix_ms = c->gap_from_ms;
    g.to_unix_ms = wall_ms();
    g.reason = c->gap_reason;
    sc_warn("pub/sub was interrupted for %llu ms (%s): telling %llu app connection(s) to resync",
            (unsigned long long)(g.to_unix_ms - g.from_unix_ms), c->gap_reason,
            (unsigned long long)c->srv->nconns);
    sc_frame f = SC_FRAME_INIT;
    f.msg_case = M(GAP);
    f.gap = &g;
    for (sc_conn *conn = c->srv->conns; conn; conn = conn->next)
        if (conn->handshaken)
            sc_conn_send(conn, &f, false);
}

static void on_message(sc_cluster *c, const char *channel, const uint8_t *p, size_t len)
{
    sc_envelope *env = sidecast__cluster__v1__envelope__unpack(&c->arena.pb, len, p);
    if (!env || !env->origin || !env->origin[0]) {
        SC_COUNT(cluster_malformed);
        sc_log_limited(SC_LOG_WARN,
                       "dropping a malformed cluster message of %zu bytes on %s (another "
                       "version, or something else publishing on sidecast channels?)",
                       len, channel);
        return;
    }
    if (strcmp(env->origin, c->self) == 0) {
        if (env->body_case == SIDECAST__CLUSTER__V1__ENVELOPE__BODY_CANARY) {
            c->canary_pending_since = 0;
            SC_COUNT(canaries_received);
        } else {
            SC_COUNT(cluster_own_skipped); /* our own room publish coming back */
        }
        return;
    }
    sc_peer *peer = sc_map_get(&c->peers, env->origin, strlen(env->origin));
    if (!peer) {
        if (sc_map_count(&c->peers) >= 65536) {
            SC_COUNT(cluster_malformed);
            return;
        }
        size_t l = strlen(env->origin);
        peer = sc_xcalloc(1, sizeof(*peer) + l + 1);
        peer->len = (uint32_t)l;
        memcpy(peer->id, env->origin, l + 1);
        sc_map_put(&c->peers, peer);
    }
    if (env->seq <= peer->last_seq) {
        SC_COUNT(cluster_duplicates_skipped); /* same emit via another room channel */
        return;
    }
    peer->last_seq = env->seq;
    SC_COUNT(cluster_messages_received);
    switch (env->body_case) {
    case SIDECAST__CLUSTER__V1__ENVELOPE__BODY_EMIT: handle_emit(c, env); break;
    case SIDECAST__CLUSTER__V1__ENVELOPE__BODY_REQUEST: handle_request(c, env); break;
    case SIDECAST__CLUSTER__V1__ENVELOPE__BODY_RESPONSE: handle_response(c, env); break;
    default: break;
    }
}

static void on_sub_reply(redisAsyncContext *ac, void *reply, void *pd)
{
    sc_cluster *c = pd;
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3 || !r->element[0]->str ||
        !r->element[1]->str)
        return;
    const char *kind = r->element[0]->str, *channel = r->element[1]->str;
    if (strcmp(kind, "message") == 0) {
        on_message(c, channel, (const uint8_t *)r->element[2]->str, r->element[2]->len);
        sc_arena_reset(&c->arena);
    } else if (strcmp(kind, "subscribe") == 0) {
        if (strcmp(channel, c->ch_node) == 0) {
            c->sub_ready = true;
            end_gap(c);
        }
    } else if (strcmp(kind, "unsubscribe") == 0) {
        sc_sub *s = sub_get(c, channel, false);
        if (!s)
            return;
        s->leaving = false;
        s->subscribed = false;
        if (s->want)
            sub_want(c, s); /* a member arrived while we were leaving */
        else
            sub_delete(c, s);
    }
}

/* ---- connection state ---------------------------------------------------------- */

static void on_pub_state(sc_redis *r, bool up, const char *why, void *ud)
{
    sc_cluster *c = ud;
    if (!up)
        return;
    directory_resync(c);
    heartbeat_now(c);
    outbox_flush(c);
}

static void on_sub_state(sc_redis *r, bool up, const char *why, void *ud)
{
    sc_cluster *c = ud;
    if (up) {
        resubscribe_all(c);
        return;
    }
    c->sub_ready = false;
    c->canary_pending_since = 0;
    for (uint32_t i = 0; i < c->subs.cap; i++) {
        sc_sub *s = c->subs.items[i];
        if (s)
            s->subscribed = s->leaving = false;
    }
    if (c->ever_up && !c->in_gap) {
        c->in_gap = true;
        c->gap_from_ms = wall_ms();
        snprintf(c->gap_reason, sizeof(c->gap_reason), "subscriber connection lost: %s", why);
    }
}

static void on_canary(struct ev_loop *loop, ev_timer *w, int revents)
{
    sc_cluster *c = w->data;
    if (c->sub_ready)
        c->ever_up = true;
    if (!c->sub_ready || !sc_redis_is_up(c->pub))
        return;
    uint64_t now = sc_now_us(), interval = c->cfg->canary_interval_ms * 1000u;
    if (c->canary_pending_since && now - c->canary_pending_since >= 2 * interval) {
        SC_COUNT(canary_missed);
        sc_log_limited(SC_LOG_ERROR,
                       "pub/sub canary missing for %llu ms although redis answers: the "
                       "subscription is silent; reconnecting and resubscribing",
                       (unsigned long long)((now - c->canary_pending_since) / 1000u));
        c->canary_pending_since = 0;
        c->in_gap = true;
        c->gap_from_ms = wall_ms() - 2 * c->cfg->canary_interval_ms;
        snprintf(c->gap_reason, sizeof(c->gap_reason), "pub/sub canary missing");
        sc_redis_reconnect(c->sub, "pub/sub canary missing");
        return;
    }
    Sidecast__Cluster__V1__Canary can = SIDECAST__CLUSTER__V1__CANARY__INIT;
    can.nonce = now;
    sc_envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    env.body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_CANARY;
    env.canary = &can;
    uint8_t *buf;
    size_t len = pack_envelope(c, &env, &buf);
    publish(c, c->ch_node, buf, len, true);
    if (!c->canary_pending_since)
        c->canary_pending_since = now;
    SC_COUNT(canaries_sent);
}

/* ---- public API ------------------------------------------------------------------- */

sc_cluster *sc_cluster_new(sc_server *srv)
{
    const sc_config *cfg = srv->cfg;
    if (!cfg->redis_url || !cfg->redis_url[0])
        return NULL;
    sc_redis_url url;
    char why[160];
    if (sc_redis_url_parse(cfg->redis_url, &url, why, sizeof(why)) < 0) {
        sc_error("redis_url: %s", why); /* --check-config catches this first */
        return NULL;
    }
    sc_cluster *c = sc_xcalloc(1, sizeof(*c));
    c->srv = srv;
    c->cfg = cfg;
    c->self = srv->node_id;
    snprintf(c->prefix, sizeof(c->prefix), "%s", cfg->redis_prefix);
    channel_of(c, c->ch_node, sizeof(c->ch_node), "node", c->self);
    snprintf(c->ch_all, sizeof(c->ch_all), "%s:all", c->prefix);
    sc_arena_init(&c->arena, 256 * 1024);
    sc_buf_init(&c->pack);
    sc_map_init(&c->peers, peer_key);
    sc_map_init(&c->subs, sub_key);
    sc_sub *s = sub_get(c, c->ch_node, true);
    s->want = s->permanent = true;
    s = sub_get(c, c->ch_all, true);
    s->want = s->permanent = true;
    sc_redis_opts po = {"publish", cfg->redis_connect_timeout_ms, cfg->redis_command_timeout_ms,
                        cfg->redis_reconnect_min_ms, cfg->redis_reconnect_max_ms, true};
    sc_redis_opts so = po;
    so.name = "subscribe";
    so.probe = false; /* the canary checks the subscriber end to end */
    c->pub = sc_redis_new(srv->loop, &url, &po, on_pub_state, c);
    c->sub = sc_redis_new(srv->loop, &url, &so, on_sub_state, c);
    sc_info("cluster: node %s joins via redis %s, prefix '%s'", c->self, sc_redis_url_safe(&url),
            c->prefix);
    sc_redis_url_free(&url);
    double hb = cfg->heartbeat_ms / 1000.0;
    ev_timer_init(&c->heartbeat, on_heartbeat, hb, hb);
    ev_timer_init(&c->sweep, on_sweep, 0.25, 0.25);
    double ci = cfg->canary_interval_ms / 1000.0;
    ev_timer_init(&c->canary, on_canary, ci, ci);
    c->heartbeat.data = c->sweep.data = c->canary.data = c;
    return c;
}

void sc_cluster_start(sc_cluster *c)
{
    sc_redis_start(c->pub);
    sc_redis_start(c->sub);
    ev_timer_start(c->srv->loop, &c->heartbeat);
    ev_timer_start(c->srv->loop, &c->sweep);
    if (c->cfg->canary_interval_ms)
        ev_timer_start(c->srv->loop, &c->canary);
}

static void on_left(redisAsyncContext *ac, void *reply, void *pd)
{
    sc_cluster *c = pd;
    c->left = true;
}

void sc_cluster_leave(sc_cluster *c)
{
    if (!c || c->leaving)
        return;
    c->leaving = true;
    if (!sc_redis_is_up(c->pub)) {
        c->left = true;
        return;
    }
    char key[200], nodes[160];
    snprintf(key, sizeof(key), "%s:alive:%s", c->prefix, c->self);
    snprintf(nodes, sizeof(nodes), "%s:nodes", c->prefix);
    const char *a1[] = {"DEL", key};
    size_t l1[] = {3, strlen(key)};
    command(c, 2, a1, l1, false, false, NULL, NULL);
    const char *a2[] = {"EVAL", SCRIPT_FORGET, "0", c->prefix, c->self};
    size_t l2[] = {4, strlen(SCRIPT_FORGET), 1, strlen(c->prefix), strlen(c->self)};
    command(c, 5, a2, l2, false, false, NULL, NULL);
    const char *a3[] = {"SREM", nodes, c->self};
    size_t l3[] = {4, strlen(nodes), strlen(c->self)};
    command(c, 3, a3, l3, false, false, on_left, c);
    sc_info("leaving the cluster: liveness and directory entries removed");
}

bool sc_cluster_left(const sc_cluster *c)
{
    return !c || c->left || !sc_redis_is_up(c->pub);
}

void sc_cluster_free(sc_cluster *c)
{
    if (!c)
        return;
    ev_timer_stop(c->srv->loop, &c->heartbeat);
    ev_timer_stop(c->srv->loop, &c->sweep);
    ev_timer_stop(c->srv->loop, &c->canary);
    sc_redis_free(c->pub);
    sc_redis_free(c->sub);
    while (c->ob_head)
        outbox_unlink(c, c->ob_head);
    for (uint32_t i = 0; i < c->peers.cap; i++)
        free(c->peers.items[i]);
    for (uint32_t i = 0; i < c->subs.cap; i++)
        free(c->subs.items[i]);
    sc_map_free(&c->peers);
    sc_map_free(&c->subs);
    free_live(c);
    sc_arena_free(&c->arena);
    sc_buf_free(&c->pack);
    free(c);
}

void sc_cluster_emit(sc_cluster *c, const Sidecast__V1__Emit *e, char **remote_ids,
                     size_t n_remote, uint64_t ack_id)
{
    Sidecast__Cluster__V1__ClusterEmit em = SIDECAST__CLUSTER__V1__CLUSTER_EMIT__INIT;
    em.to = e->to;
    em.payload = e->payload;
    em.volatile_ = e->volatile_;
    em.ack_id = ack_id;
    sc_envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    env.body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_EMIT;
    env.emit = &em;
    uint8_t *buf;
    size_t len = pack_envelope(c, &env, &buf);
    const sc_selector *to = e->to;
    if (to->all || ack_id) {
        /* everyone; and acked broadcasts go to every node, so that each
         * one answers with its count, members or not */
        publish(c, c->ch_all, buf, len, e->volatile_);
        SC_COUNT(emits_remote);
        return;
    }
    char ch[SC_ID_MAX + 200];
    for (size_t i = 0; i < to->n_rooms; i++) {
        channel_of(c, ch, sizeof(ch), "room", to->rooms[i]);
        publish(c, ch, buf, len, e->volatile_);
    }
    if (n_remote) {
        char key[160], chprefix[160];
        snprintf(key, sizeof(key), "%s:sockets", c->prefix);
        snprintf(chprefix, sizeof(chprefix), "%s:node:", c->prefix);
        size_t argc = 6 + n_remote;
        const char **argv = sc_xmalloc(sizeof(char *) * argc);
        size_t *lens = sc_xmalloc(sizeof(size_t) * argc);
        argv[0] = "EVAL", lens[0] = 4;
        argv[1] = SCRIPT_TARGETED, lens[1] = strlen(SCRIPT_TARGETED);
        argv[2] = "1", lens[2] = 1;
        argv[3] = key, lens[3] = strlen(key);
        argv[4] = chprefix, lens[4] = strlen(chprefix);
        argv[5] = (const char *)buf, lens[5] = len;
        for (size_t i = 0; i < n_remote; i++) {
            argv[6 + i] = remote_ids[i];
            lens[6 + i] = strlen(remote_ids[i]);
        }
        command(c, (int)argc, argv, lens, true, e->volatile_, NULL, NULL);
        free(argv);
        free(lens);
    }
    SC_COUNT(emits_remote);
}

static uint32_t live_count(const sc_cluster *c)
{
    return c->nlive ? (uint32_t)c->nlive : 1;
}

static void publish_request(sc_cluster *c, Sidecast__Cluster__V1__Request *rq)
{
    sc_envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    env.body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_REQUEST;
    env.request = rq;
    uint8_t *buf;
    size_t len = pack_envelope(c, &env, &buf);
    publish(c, c->ch_all, buf, len, false);
    SC_COUNT(requests_published);
}

static bool require_redis(sc_cluster *c, sc_conn *from, uint64_t frame_id, const char *what)
{
    if (sc_redis_is_up(c->pub))
        return true;
    SC_COUNT(requests_unavailable);
    sc_conn_error(from, frame_id, SIDECAST__V1__ERROR_CODE__ERROR_UNAVAILABLE, NULL, false,
                  "%s needs redis, which is unreachable right now; retry, or ask for local only",
                  what);
    return false;
}

int sc_cluster_fetch_sockets(sc_cluster *c, sc_conn *from, uint64_t frame_id,
                             const Sidecast__V1__FetchSockets *q)
{
    if (!require_redis(c, from, frame_id, "a cluster-wide fetch"))
        return -EAGAIN;
    sc_request *r = sc_request_new(c->srv, SC_REQ_FETCH, from, frame_id, live_count(c));
    if (!r)
        return -ENOSPC;
    Sidecast__Cluster__V1__Request rq = SIDECAST__CLUSTER__V1__REQUEST__INIT;
    rq.id = r->id;
    rq.kind_case = SIDECAST__CLUSTER__V1__REQUEST__KIND_FETCH_SOCKETS;
    rq.fetch_sockets = (Sidecast__V1__FetchSockets *)q;
    publish_request(c, &rq);
    sc_dispatch_local_sockets(c->srv, r, q);
    sc_request_node_done(r); /* the local part */
    return 0;
}

int sc_cluster_apply(sc_cluster *c, sc_conn *from, uint64_t frame_id, const Sidecast__V1__Apply *a)
{
    sc_request *r = NULL;
    if (frame_id) {
        if (!require_redis(c, from, frame_id, "a cluster-wide apply"))
            return -EAGAIN;
        r = sc_request_new(c->srv, SC_REQ_APPLY, from, frame_id, live_count(c));
        if (!r)
            return -ENOSPC;
    }
    Sidecast__Cluster__V1__Request rq = SIDECAST__CLUSTER__V1__REQUEST__INIT;
    rq.id = r ? r->id : 0;
    rq.kind_case = SIDECAST__CLUSTER__V1__REQUEST__KIND_APPLY;
    rq.apply = (Sidecast__V1__Apply *)a;
    publish_request(c, &rq);
    sc_dispatch_forward_apply(c->srv, a);
    if (r)
        sc_request_node_done(r);
    return 0;
}

int sc_cluster_server_emit(sc_cluster *c, sc_conn *from, uint64_t frame_id,
                           const Sidecast__V1__ServerEmit *e)
{
    sc_request *r = NULL;
    if (e->want_ack) {
        if (!require_redis(c, from, frame_id, "a server-side emit with acks"))
            return -EAGAIN;
        r = sc_request_new(c->srv, SC_REQ_SERVER_EMIT, from, frame_id, live_count(c));
        if (!r)
            return -ENOSPC;
    }
    Sidecast__Cluster__V1__Request rq = SIDECAST__CLUSTER__V1__REQUEST__INIT;
    rq.id = r ? r->id : 0;
    rq.kind_case = SIDECAST__CLUSTER__V1__REQUEST__KIND_SERVER_EMIT;
    rq.server_emit = (Sidecast__V1__ServerEmit *)e;
    publish_request(c, &rq);
    sc_relay *relay = r ? sc_relay_new(c->srv, "", r->id) : NULL;
    uint32_t n = sc_dispatch_server_message(c->srv, from, e->payload, c->self, relay);
    if (r) {
        sc_request_progress(r, n, NULL, 0);
        sc_relay_arm(relay);
    }
    return 0;
}

void sc_cluster_progress(sc_cluster *c, const char *origin, uint64_t req_id, uint32_t expect,
                         ProtobufCBinaryData *payloads, size_t n, bool last)
{
    Sidecast__V1__Progress p = SIDECAST__V1__PROGRESS__INIT;
    p.expect = expect;
    p.payloads = payloads;
    p.n_payloads = n;
    Sidecast__Cluster__V1__Response resp = SIDECAST__CLUSTER__V1__RESPONSE__INIT;
    resp.id = req_id;
    resp.last = last;
    resp.kind_case = SIDECAST__CLUSTER__V1__RESPONSE__KIND_PROGRESS;
    resp.progress = &p;
    respond(c, origin, &resp);
}

void sc_cluster_gauges(const sc_cluster *c, sc_gauge_fn fn, void *ud)
{
    fn("redis_pub_up", sc_redis_is_up(c->pub), ud);
    fn("redis_sub_up", c->sub_ready, ud);
    fn("redis_reconnects", sc_redis_reconnects(c->pub) + sc_redis_reconnects(c->sub), ud);
    fn("cluster_nodes", c->nlive, ud);
    fn("outbox_bytes", c->ob_bytes, ud);
    fn("outbox_messages", c->ob_count, ud);
    fn("room_channels", sc_map_count(&c->subs), ud);
}

size_t sc_cluster_nodes(const sc_cluster *c, const char ***ret_ids, const char ***ret_names)
{
    *ret_ids = (const char **)c->live_ids;
    *ret_names = (const char **)c->live_names;
    return c->nlive;
}

bool sc_cluster_ready(const sc_cluster *c, const char **why)
{
    if (!sc_redis_is_up(c->pub)) {
        *why = "redis publish connection down";
        return false;
    }
    if (!c->sub_ready) {
        *why = "redis subscription not established";
        return false;
    }
    if (c->canary_pending_since &&
        sc_now_us() - c->canary_pending_since >= 2 * c->cfg->canary_interval_ms * 1000u) {
        *why = "pub/sub canary missing";
        return false;
    }
    return true;
}
