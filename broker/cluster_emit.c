/* cluster_emit: an app's emit on its way to the other nodes
 * (sc_cluster_emit): the envelope (the app's encoded bytes copied in when
 * they can be), one publish per target room or one on the all channel,
 * and for socket and user ids either the owner node's channel straight
 * from the directory cache (dircache.h; batched per node) or one call of
 * lua/targeted.lua per loop iteration, whose answer fills the cache (on a
 * Redis Cluster, reads of the directory's buckets: cluster_buckets.c).
 *
 * Local delivery is dispatch.c's, done before it is called. It sends only
 * through cluster_send.c, keeping Redis's order across the kinds of pending
 * work (see "targeted emits through the directory cache" below). Of the
 * live list it reads only the features (node_private, sc_cl_quiet_on), and
 * of the subscriptions only whether they are whole (sc_cl_quiet_on). */
#include "cluster_int.h"
#include "log.h"
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most bytes one emit may publish as per-room copies (see sc_cluster_emit). */
#define FANOUT_BUDGET (1024 * 1024)
/* Switches between cache-routed emits and the directory script in one loop
 * iteration; past this the rest of the iteration stays in one script call
 * (each switch costs one command per node, see direct_route). */
#define DIRECT_MAX_RUNS 4

/* Envelope{origin, seq, sent, emit = Emit fields 1-3 as they are}: the
 * app's Emit and ClusterEmit share those field numbers and types. Returns
 * the length, or 0 if the app's bytes do not parse (encode instead). */
static size_t envelope_from_encoded(sc_cluster *c, const uint8_t *raw, size_t raw_len,
                                    uint8_t **ret)
{
    c->scratch.off = c->scratch.len = 0;
    if (sc_wire_copy_fields(&c->scratch, raw, raw_len, 3) < 0)
        return 0;
    c->pack.off = c->pack.len = 0;
    sc_wire_put_bytes_field(&c->pack, SC_ENV_ORIGIN, c->self, strlen(c->self));
    sc_wire_put_varint_field(&c->pack, SC_ENV_SEQ, ++c->seq);
    sc_wire_put_varint_field(&c->pack, SC_ENV_SENT_MS, wall_ms());
    sc_wire_put_varint_field(&c->pack, SC_ENV_VERSION, SC_CLUSTER_VERSION);
    sc_wire_put_bytes_field(&c->pack, SIDECAST__CLUSTER__V1__ENVELOPE__BODY_EMIT,
                            c->scratch.data, c->scratch.len);
    *ret = c->pack.data;
    return c->pack.len;
}

/* ---- targeted emits ------------------------------------------------------------- */

static void tgt_arg(sc_cluster *c, const void *p, size_t len)
{
    if (c->tgt_nargs == c->tgt_cap) {
        c->tgt_cap = c->tgt_cap ? c->tgt_cap * 2 : 64;
        c->tgt_args = sc_xrealloc(c->tgt_args, c->tgt_cap * 2 * sizeof(size_t));
    }
    c->tgt_args[2 * c->tgt_nargs] = c->tgt.len;
    c->tgt_args[2 * c->tgt_nargs + 1] = len;
    c->tgt_nargs++;
    sc_buf_append(&c->tgt, p, len);
}

static void tgt_arg_num(sc_cluster *c, size_t v)
{
    char k[24];
    int n = snprintf(k, sizeof(k), "%zu", v);
    tgt_arg(c, k, (size_t)n);
}

/* The script's answer: socket id, node pairs it found, for the cache. A
 * pair is only as fresh as the script's lookup; a move after it is caught
 * by the node's Stale notice, a dead node by a publish nobody receives or
 * the reap, anything else by the ttl (dircache.h). */
static void count_unrouted(const redisReply *r)
{
    const redisReply *miss = r->element[r->elements - 2], *unrecv = r->element[r->elements - 1];
    if (miss->type == REDIS_REPLY_INTEGER && miss->integer > 0) {
        SC_COUNT_N(targeted_no_route, (uint64_t)miss->integer);
        sc_log_limited(SC_LOG_WARN,
                       "%lld targeted message(s) named socket ids that no node holds in the "
                       "directory (disconnected, or their node is rewriting its directory): "
                       "not delivered to them",
                       miss->integer);
    }
    if (unrecv->type == REDIS_REPLY_INTEGER && unrecv->integer > 0) {
        SC_COUNT_N(targeted_unreceived, (uint64_t)unrecv->integer);
        sc_log_limited(SC_LOG_WARN,
                       "%lld targeted message(s) were published to a node that has no "
                       "subscriber (node gone, or resubscribing): lost",
                       unrecv->integer);
    }
}

static void on_targeted_reply(sc_redis *rc, void *reply, void *pd)
{
    sc_cluster *c = pd;
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
        sc_cl_check_noscript(c, r);
        sc_cl_on_cmd_reply(rc, reply, c);
        return;
    }
    count_unrouted(r);
    if (!dircache_on(c))
        return;
    uint64_t now = sc_now_us(), ttl = c->cfg->dircache_ttl_ms * 1000u;
    for (size_t i = 0; i + 3 < r->elements; i += 2) {
        const redisReply *id = r->element[i], *node = r->element[i + 1];
        if (id->type == REDIS_REPLY_STRING && node->type == REDIS_REPLY_STRING)
            sc_dircache_put(&c->dc, id->str, id->len, node->str, node->len, now, ttl,
                            c->cfg->dircache_max_entries);
    }
}

/* Send the pending targeted emits as one script call. While Redis is away
 * the call goes to the outbox as one message, so emits are then sent one
 * call each (targeted_add), keeping the outbox's counts per emit. */
void sc_cl_targeted_flush(sc_cluster *c)
{
    if (!c->tgt_n)
        return;
    argv_buf a = {0};
    sc_cl_arg_script(c, &a, S_TARGETED);
    sc_cl_arg_str(&a, c->prefix);
    sc_cl_arg_str(&a, c->self);
    sc_cl_arg_str(&a, dircache_on(c) ? "1" : "0");
    for (size_t i = 0; i < c->tgt_nargs; i++)
        sc_cl_arg(&a, (const char *)c->tgt.data + c->tgt_args[2 * i], c->tgt_args[2 * i + 1]);
    bool vol = c->tgt_vol;
    c->tgt_n = 0; /* before sc_cl_command(), which flushes pending work first */
    c->tgt_nargs = 0;
    sc_cl_command(c, (int)a.n, a.argv, a.lens, true, vol, on_targeted_reply, c);
    free(a.argv);
    free(a.lens);
    c->tgt.off = c->tgt.len = 0;
    sc_buf_shrink(&c->tgt, BATCH_MAX_BYTES);
}

/* Queue one targeted emit (socket ids and user ids on other nodes) for this
 * loop iteration's script call. Room publishes and other commands flush it
 * first, so Redis sees everything in the order the apps sent it. */
static void targeted_add(sc_cluster *c, const uint8_t *env, size_t len, const char *const *ids,
                         size_t n_ids, const char *const *users, size_t n_users,
                         const char *const *pids, size_t np, bool vol)
{
    sc_cl_batch_flush(c);
    if (c->nouts) { /* cache-routed emits before this one go first */
        sc_cl_direct_flush(c);
        c->runs++;
    }
    if (!c->tgt_n)
        c->tgt_vol = true;
    tgt_arg(c, env, len);
    tgt_arg_num(c, n_ids);
    tgt_arg_num(c, n_users);
    tgt_arg_num(c, np);
    for (size_t i = 0; i < n_ids; i++)
        tgt_arg(c, ids[i], strlen(ids[i]));
    for (size_t i = 0; i < n_users; i++)
        tgt_arg(c, users[i], strlen(users[i]));
    for (size_t i = 0; i < np; i++)
        tgt_arg(c, pids[i], SC_PRIVATE_ID_LEN);
    c->tgt_n++;
    c->tgt_vol = c->tgt_vol && vol;
    if (!sc_redis_is_up(c->pub) || c->tgt.len > BATCH_MAX_BYTES || c->tgt_nargs > 4096)
        sc_cl_targeted_flush(c);
}

/* ---- targeted emits through the directory cache -------------------------------
 *
 * A targeted emit whose remote socket ids are all in the cache (dircache.h)
 * is published straight to each node's channel, with Envelope.routed naming
 * the ids the cache sent there, and batched per node for the loop iteration
 * like room publishes. Invariants:
 *   - Redis sees every envelope in the order the emits were made. Pending
 *     work is of one kind at a time: cache-routed batches, a script call, a
 *     room batch or another command; adding one kind sends the others first.
 *     Batches of different nodes may be pending together: each node reads
 *     only its own node channel, so only the order per node matters.
 *   - An emit goes all one way: if one id misses (or it names users), the
 *     whole emit goes to the script, which looks every id up again. No node
 *     gets the same emit twice, and a miss never overtakes a hit.
 *   - Switching between the two ways costs one command per node, so after
 *     DIRECT_MAX_RUNS switches in an iteration the rest of it stays in the
 *     script call (correct either way, just dearer for Redis).
 *   - A receiving node never re-publishes what it received: a stale route
 *     is answered with a Stale notice to the origin, and that message is
 *     lost for that socket (counted on both sides).
 *   - A publish that reached no subscriber (PUBLISH answered 0) means the
 *     node is gone or resubscribing: its messages are lost (counted), as
 *     they would have been through the script, and its entries are dropped. */

#define ROUTED_TAG ((SC_ENV_ROUTED << 3) | 2u) /* Envelope.routed, packed */

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    for (; v >= 0x80; v >>= 7)
        n++;
    return n;
}

static uint8_t *varint_put(uint8_t *p, uint64_t v)
{
    for (; v >= 0x80; v >>= 7)
        *p++ = (uint8_t)(v | 0x80);
    *p++ = (uint8_t)v;
    return p;
}

typedef struct direct_pd {
    sc_cluster *c;
    sc_dcnode *node; /* held until the reply */
    uint32_t n;      /* envelopes in the PUBLISH */
} direct_pd;

static void on_direct_reply(sc_redis *rc, void *reply, void *pd)
{
    direct_pd *dp = pd;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 0) {
        SC_COUNT_N(dircache_unreceived, dp->n);
        sc_dircache_node_unreachable(&dp->c->dc, dp->node);
        sc_log_limited(SC_LOG_WARN,
                       "%u targeted message(s) published to node %s reached no subscriber (node "
                       "gone, or resubscribing) and are lost; dropping its directory cache "
                       "entries",
                       dp->n, SC_ESC(dp->node->id));
    } else {
        sc_cl_on_cmd_reply(rc, reply, dp->c);
    }
    sc_dcnode_release(dp->node);
    free(dp);
}

static void direct_publish(sc_cluster *c, sc_dcnode *nd, const uint8_t *p, size_t len,
                           uint32_t nenv, bool vol)
{
    /* The count of receivers is how an emit that nobody gets (node gone,
     * or resubscribing) is counted and its route dropped; read deferred,
     * with the next command or redis_reply_defer_ms later, so that a
     * targeted emit wakes this node no more than a room emit does. */
    direct_pd *dp = sc_xmalloc(sizeof(*dp));
    *dp = (direct_pd){c, nd, nenv};
    sc_dcnode_hold(nd);
    if (!sc_cl_publish_now_cb(c, nd->ch, nd->chlen, p, len, vol, on_direct_reply, dp)) {
        sc_dcnode_release(nd); /* in the outbox: no reply to wait for */
        free(dp);
    }
}

/* Send one node's pending batch (as sc_cl_batch_flush does for a room). */
static void direct_send(sc_cluster *c, direct_out *o)
{
    if (!o->n)
        return;
    const uint8_t *p = o->items.data, *end = p + o->items.len, *env;
    size_t len;
    if (o->n == 1 || !sc_redis_is_up(c->pub)) {
        while (p < end && (env = sc_cl_batch_next(&p, end, &len)))
            direct_publish(c, o->node, env, len, 1, false);
    } else {
        sc_cl_batch_wrap(c, o->items.data, o->items.len);
        direct_publish(c, o->node, c->batch_out.data, c->batch_out.len, o->n, false);
        SC_COUNT(cluster_batches_sent);
        SC_COUNT_N(cluster_batched_envelopes, o->n);
    }
    o->n = 0;
    o->items.off = o->items.len = 0;
    sc_buf_shrink(&o->items, 16 * 1024);
}

void sc_cl_direct_flush(sc_cluster *c)
{
    for (uint32_t i = 0; i < c->nouts; i++) {
        direct_out *o = &c->outs[i];
        direct_send(c, o);
        o->node->out = -1;
        sc_dcnode_release(o->node);
        o->node = NULL;
    }
    c->nouts = 0;
}

static direct_out *direct_out_of(sc_cluster *c, sc_dcnode *nd)
{
    if (nd->out >= 0)
        return &c->outs[nd->out];
    if (c->nouts == DIRECT_MAX_NODES)
        sc_cl_direct_flush(c);
    direct_out *o = &c->outs[c->nouts];
    nd->out = (int)c->nouts++;
    o->node = nd;
    sc_dcnode_hold(nd);
    return o;
}

/* Append the envelope and its `routed` field (the ids of this emit the
 * cache sent to nd, as indexes into to.socket_ids, and past them into
 * to.rooms for private rooms' sockets) to b. */
static void put_routed_copy(sc_cluster *c, sc_buf *b, const sc_dcnode *nd, const uint8_t *env,
                            size_t len, size_t packed)
{
    uint8_t *p = sc_buf_reserve(b, len + 1 + 10 + packed), *q = p + len;
    memcpy(p, env, len);
    *q++ = ROUTED_TAG;
    q = varint_put(q, packed);
    for (uint32_t i = nd->first; i != UINT32_MAX; i = c->dnext[i])
        q = varint_put(q, c->didx[i]);
    sc_buf_commit(b, (size_t)(q - p));
}

/* Queue this emit's copy for nd. */
static void direct_queue(sc_cluster *c, sc_dcnode *nd, const uint8_t *env, size_t len, bool vol)
{
    size_t packed = 0;
    for (uint32_t i = nd->first; i != UINT32_MAX; i = c->dnext[i])
        packed += varint_len(c->didx[i]);
    size_t item = len + 1 + varint_len(packed) + packed;
    if (!sc_redis_is_up(c->pub) || item > BATCH_MAX_BYTES) {
        if (nd->out >= 0)
            direct_send(c, &c->outs[nd->out]); /* this node's earlier emits first */
        c->dmsg.off = c->dmsg.len = 0;
        put_routed_copy(c, &c->dmsg, nd, env, len, packed);
        direct_publish(c, nd, c->dmsg.data, c->dmsg.len, 1, vol);
        sc_buf_shrink(&c->dmsg, BATCH_MAX_BYTES);
        return;
    }
    direct_out *o = direct_out_of(c, nd);
    if (o->n && o->items.len + item + 16 > BATCH_MAX_BYTES)
        direct_send(c, o);
    uint8_t *p = sc_buf_reserve(&o->items, 11);
    p[0] = (SC_BATCH_ENVELOPES << 3) | 2u;
    sc_buf_commit(&o->items, (size_t)(varint_put(p + 1, item) - p));
    put_routed_copy(c, &o->items, nd, env, len, packed);
    o->n++;
}

/* Add node nd's id number i (its index in to.socket_ids: idx) to the
 * grouping of direct_group. */
static void group_add(sc_cluster *c, sc_dcnode *nd, uint32_t i, uint32_t idx, uint64_t mark,
                      size_t *nn)
{
    c->didx[i] = idx;
    c->dnext[i] = UINT32_MAX;
    if (nd->emit_mark != mark) {
        nd->emit_mark = mark;
        nd->first = i;
        c->dnodes[(*nn)++] = nd;
    } else {
        c->dnext[nd->last] = i;
    }
    nd->last = i;
}

/* ---- routes in use looked up again -------------------------------------------
 * An entry past a quarter of its ttl is looked up again with a plain HGET of the
 * directory (a fraction of what a script call costs Redis), its reply read
 * late like a cache-routed publish's, and renewed if the socket is still
 * there: a socket emitted to now and then never falls back to the script.
 * The HGET may go before publishes still held for this iteration: it reads
 * and delivers nothing, so the order of emits is untouched. Not on a Redis
 * Cluster, whose directory is in buckets (cluster_buckets.c): entries
 * expire there as before. */

typedef struct refresh_pd {
    sc_cluster *c;
    uint32_t len;
    char id[];
} refresh_pd;

static void on_refresh_reply(sc_redis *rc, void *reply, void *pd)
{
    refresh_pd *rp = pd;
    sc_cluster *c = rp->c;
    redisReply *r = reply;
    uint64_t ttl_us = c->cfg->dircache_ttl_ms * 1000u;
    if (r && r->type == REDIS_REPLY_STRING)
        sc_dircache_renew(&c->dc, rp->id, rp->len, r->str, r->len, sc_now_us(), ttl_us);
    else if (!r || r->type != REDIS_REPLY_NIL) /* an error (counted and logged), or lost */
        sc_cl_on_cmd_reply(rc, reply, c);
    /* Either way, and when on no node (gone, or its node's directory is
     * being rewritten after Redis lost it: the route may still be right),
     * the entry is left to expire; a socket gone from there is told by the
     * node's Stale notice. */
    free(rp);
}

static void route_refresh(sc_cluster *c, const char *id, size_t len)
{
    char cmd[512];
    size_t klen = strlen(c->prefix) + sizeof(":sockets") - 1;
    int n = snprintf(cmd, sizeof(cmd), "*3\r\n$4\r\nHGET\r\n$%zu\r\n%s:sockets\r\n$%zu\r\n", klen,
                     c->prefix, len);
    if (c->spread || n < 0 || (size_t)n + len + 2 > sizeof(cmd))
        return; /* not here, or an id this long: it expires */
    memcpy(cmd + n, id, len);
    memcpy(cmd + n + len, "\r\n", 2);
    refresh_pd *rp = sc_xmalloc(sizeof(*rp) + len + 1);
    rp->c = c;
    rp->len = (uint32_t)len;
    memcpy(rp->id, id, len);
    rp->id[len] = '\0';
    if (sc_redis_command_deferred(c->pub, on_refresh_reply, rp, cmd, (size_t)n + len + 2) != 0) {
        free(rp);
        return;
    }
    SC_COUNT(redis_commands);
    SC_COUNT(dircache_refreshes);
}

/* The node id was routed to, or NULL; looked up again if due. */
static sc_dcnode *route_get(sc_cluster *c, const char *id, size_t len, uint64_t now)
{
    bool due;
    sc_dcnode *nd = sc_dircache_get_due(&c->dc, id, len, now, &due);
    if (due)
        route_refresh(c, id, len);
    return nd;
}

/* Whether node nd advertises private rooms (read again after each change
 * of the live list). A node that does not subscribes its sockets' id
 * rooms: the room channel reaches them, and a copy would come twice. */
static bool node_private(sc_cluster *c, sc_dcnode *nd)
{
    if (nd->priv_gen != c->live_gen) {
        nd->priv = (sc_cl_node_features(c, nd->id) & SC_FEATURE_PRIVATE) != 0;
        nd->priv_gen = c->live_gen;
    }
    return nd->priv;
}

/* ---- private rooms' channels -------------------------------------------------
 * An emit to a private room goes to the room's channel, for members on
 * other nodes, and, when its socket is on another node, to that node
 * (direct_route, or the script). While sc_cl_quiet_on, the channel is
 * published with its reply read: answered 0 (nobody subscribes it) while
 * c->quiet_epoch has not moved since it was sent, the room is marked with
 * that epoch (in c->quiet by the room's name; for a socket here, in its
 * sc_room), and later emits leave the channel out until the epoch moves
 * (another node announced a subscription to such a channel, the live
 * nodes' features changed, or this node had a Gap) or the mark goes: with
 * its room; from c->quiet when evicted, or after dircache_ttl_ms while
 * canaries are off (a stalled subscriber here would miss announcements
 * with nothing to notice it). The copy to the socket's node is sent
 * either way: from the directory cache or by the script, which copies to
 * every node with private rooms, as every live one is. */

typedef struct quiet_pd {
    sc_cluster *c;
    uint32_t epoch; /* c->quiet_epoch when sent */
    bool here;      /* key: a room of a socket here; else of a socket elsewhere */
    uint32_t len;
    char key[];
} quiet_pd;

/* A publish of the channel of a private room here, qp->key, was answered
 * with `receivers`. */
static void quiet_here_reply(sc_cluster *c, const quiet_pd *qp, long long receivers)
{
    sc_room *room = sc_registry_find_room(&c->srv->reg, qp->key);
    if (!room || !room->own)
        return; /* the room went meanwhile */
    if (receivers > 0 && room->quiet == qp->epoch)
        room->quiet = 0; /* subscribed between two publishes in flight */
    else if (receivers == 0 && qp->epoch == c->quiet_epoch && room->quiet != qp->epoch) {
        room->quiet = qp->epoch;
        SC_COUNT(private_rooms_found_quiet);
    }
}

/* The same for a private room of a socket elsewhere, named qp->key. */
static void quiet_remote_reply(sc_cluster *c, const quiet_pd *qp, long long receivers)
{
    sc_quietset *q = &c->quiet;
    uint64_t now = sc_now_us();
    if (receivers > 0)
        sc_quietset_del(q, qp->key, qp->len, qp->epoch); /* as above */
    else if (qp->epoch == c->quiet_epoch && !sc_quietset_has(q, qp->key, qp->len, qp->epoch, now)) {
        uint64_t ttl_us = c->cfg->dircache_ttl_ms * 1000u;
        sc_quietset_put(q, qp->key, qp->len, qp->epoch,
                        c->cfg->canary_interval_ms ? 0 : now + ttl_us,
                        c->cfg->dircache_max_entries);
        SC_COUNT(private_rooms_found_quiet);
    }
}

static void on_quiet_reply(sc_redis *rc, void *reply, void *pd)
{
    quiet_pd *qp = pd;
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_INTEGER)
        sc_cl_on_cmd_reply(rc, reply, qp->c);
    else if (qp->here)
        quiet_here_reply(qp->c, qp, r->integer);
    else
        quiet_remote_reply(qp->c, qp, r->integer);
    free(qp);
}

/* Publish channel `ch` of private room `room` (here), or of the room named
 * `key` (its socket elsewhere), unless it is marked without subscribers;
 * read the reply, as it may be found so. */
static void quiet_publish(sc_cluster *c, const char *ch, const sc_room *room, const char *key,
                          size_t klen, const uint8_t *env, size_t len, bool vol)
{
    if (room ? room->quiet == c->quiet_epoch
             : sc_quietset_has(&c->quiet, key, klen, c->quiet_epoch, sc_now_us())) {
        SC_COUNT(private_room_publishes_skipped);
        return;
    }
    quiet_pd *qp = sc_xmalloc(sizeof(*qp) + klen + 1);
    qp->c = c;
    qp->epoch = c->quiet_epoch;
    qp->here = room != NULL;
    qp->len = (uint32_t)klen;
    memcpy(qp->key, key, klen);
    qp->key[klen] = '\0';
    if (!sc_cl_publish_cb(c, ch, env, len, vol, on_quiet_reply, qp))
        free(qp); /* in the outbox: no reply to wait for */
}

/* Publish channel `ch` of private room `name`, whose socket is not here.
 * The mark is the room's, not the socket's: "/,<id>" and "/chat,<id>" are
 * both private rooms of socket <id>, and only one may have members. */
static void private_room_publish(sc_cluster *c, const char *ch, const char *name,
                                 const uint8_t *env, size_t len, bool vol)
{
    if (sc_cl_quiet_on(c))
        quiet_publish(c, ch, NULL, name, strlen(name), env, len, vol);
    else
        sc_cl_publish(c, ch, env, len, vol);
}

/* Publish room channel `ch` of room `name`; a private room of a socket
 * here (delivered already) may be found without subscribers too. */
static void room_publish(sc_cluster *c, const char *ch, const char *name, const uint8_t *env,
                         size_t len, bool vol)
{
    sc_room *room;
    /* such a mark lives as long as the room: only with canaries, which
     * bound how long a stalled subscriber here keeps it (a Gap voids it) */
    if (c->cfg->canary_interval_ms && sc_cl_quiet_on(c) && sc_private_room_id(name, strlen(name)) &&
        (room = sc_registry_find_room(&c->srv->reg, name)) && room->own)
        quiet_publish(c, ch, room, name, room->name_len, env, len, vol);
    else
        sc_cl_publish(c, ch, env, len, vol);
}

/* Look every remote id up, then the private rooms' ids (c->pidx: their
 * rooms; those of nodes without private rooms are left out), and group
 * them by node (each node's ids chained from nd->first through c->dnext);
 * the distinct nodes go to c->dnodes, their number to *ret_nn. False on
 * the first miss (and for private rooms before the live list is known).
 * n + np is at most DIRECT_MAX_IDS. */
static bool direct_group(sc_cluster *c, const sc_selector *to, char **ids, size_t n,
                         const char **pids, size_t np, size_t *ret_nn)
{
    uint64_t now = sc_now_us(), mark = ++c->emit_mark;
    size_t j = 0, nn = 0;
    for (size_t i = 0; i < n; i++) {
        /* ids are to.socket_ids' own pointers, in order (dispatch.c) */
        while (j < to->n_socket_ids && to->socket_ids[j] != ids[i])
            j++;
        sc_dcnode *nd = j < to->n_socket_ids ? route_get(c, ids[i], strlen(ids[i]), now) : NULL;
        if (!nd)
            return false;
        group_add(c, nd, (uint32_t)i, (uint32_t)j++, mark, &nn);
    }
    for (size_t i = 0; i < np; i++) {
        sc_dcnode *nd = c->live_gen ? route_get(c, pids[i], SC_PRIVATE_ID_LEN, now) : NULL;
        if (!nd)
            return false;
        if (node_private(c, nd))
            group_add(c, nd, (uint32_t)(n + i), (uint32_t)to->n_socket_ids + c->pidx[i], mark, &nn);
    }
    *ret_nn = nn;
    return true;
}

/* Send a targeted emit by the cache alone. False: the script must resolve
 * it (a miss, user ids, too many ids, or this iteration switched often
 * enough); every remote id is counted as a hit or a miss either way. */
static bool direct_route(sc_cluster *c, const sc_selector *to, char **ids, size_t n,
                         const char **pids, size_t np, const uint8_t *env, size_t len, bool vol)
{
    if (!dircache_on(c) || !(n + np))
        return false;
    size_t nn = 0;
    /* on a Redis Cluster, while emits wait for their buckets, the ones
     * after them wait too (counted as misses: Redis routes them) */
    if (to->n_user_ids || n + np > DIRECT_MAX_IDS || (c->tgt_n && c->runs >= DIRECT_MAX_RUNS) ||
        (c->spread && sc_cl_buckets_busy(c)) || !direct_group(c, to, ids, n, pids, np, &nn)) {
        SC_COUNT_N(dircache_misses, n + np);
        return false;
    }
    SC_COUNT_N(dircache_hits, n + np);
    if (!nn) /* only private rooms of nodes that subscribe them: published already */
        return true;
    sc_cl_flush_ups(c);
    sc_cl_batch_flush(c);
    if (c->tgt_n) { /* emits before this one, in the script call, go first */
        sc_cl_targeted_flush(c);
        c->runs++;
    }
    for (size_t i = 0; i < nn; i++)
        direct_queue(c, c->dnodes[i], env, len, vol);
    return true;
}

/* The ids of the sockets of other nodes whose private rooms `to` names,
 * into c->pids (pointers into the room names; the rooms' indexes into
 * c->pidx), if this node routes them (sc_cl_private_routes). Such a room
 * may also be an ordinary room with members elsewhere, or a gone socket's:
 * its channel is published as well, and an id that no node holds is no
 * loss. */
static size_t private_ids(sc_cluster *c, const sc_selector *to)
{
    if (!sc_cl_private_routes(c))
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < to->n_rooms; i++) {
        const char *id = sc_private_room_id(to->rooms[i], strlen(to->rooms[i]));
        if (!id || sc_registry_find_socket(&c->srv->reg, id))
            continue; /* no such room, or its socket is here: delivered already */
        if (n == c->pids_cap) {
            c->pids_cap = c->pids_cap ? 2 * c->pids_cap : 16;
            c->pids = sc_xrealloc(c->pids, c->pids_cap * sizeof(*c->pids));
            c->pidx = sc_xrealloc(c->pidx, c->pids_cap * sizeof(*c->pidx));
        }
        c->pidx[n] = (uint32_t)i;
        c->pids[n++] = id;
    }
    SC_COUNT_N(private_routes, n);
    return n;
}

void sc_cluster_emit(sc_cluster *c, const Sidecast__V1__Emit *e, char **remote_ids,
                             size_t n_remote, uint64_t ack_id, const uint8_t *raw, size_t raw_len)
{
    uint8_t *buf = NULL;
    size_t len = raw && !ack_id ? envelope_from_encoded(c, raw, raw_len, &buf) : 0;
    if (!len) {
        Sidecast__Cluster__V1__ClusterEmit em = SIDECAST__CLUSTER__V1__CLUSTER_EMIT__INIT;
        em.to = e->to;
        em.payload = e->payload;
        em.volatile_ = e->volatile_;
        em.ack_id = ack_id;
        sc_envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
        env.body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_EMIT;
        env.emit = &em;
        len = sc_cl_pack_envelope(c, &env, &buf);
    }
    const sc_selector *to = e->to;
    if (to->all || ack_id) {
        /* everyone; and acked broadcasts go to every node, so that each
         * one answers with its count, members or not */
        sc_cl_publish(c, c->ch_all, buf, len, e->volatile_);
        SC_COUNT(emits_remote);
        return;
    }
    char ch[SC_ID_MAX + 200];
    size_t np = 0;
    if (to->n_rooms > 1 && len * to->n_rooms > FANOUT_BUDGET) {
        /* One copy per room would cost len x rooms of memory here and in
         * Redis: send one copy to every node instead; each delivers to its
         * own members only, so the result is the same. */
        sc_cl_publish(c, c->ch_all, buf, len, e->volatile_);
        SC_COUNT(emits_fanout_all);
    } else {
        np = private_ids(c, to);
        for (size_t i = 0, k = 0; i < to->n_rooms; i++) {
            snprintf(ch, sizeof(ch), "%s:room:%s", c->room_prefix, to->rooms[i]);
            if (k < np && c->pidx[k] == i) { /* its socket is elsewhere */
                k++;
                private_room_publish(c, ch, to->rooms[i], buf, len, e->volatile_);
            } else {
                room_publish(c, ch, to->rooms[i], buf, len, e->volatile_);
            }
        }
    }
    if ((n_remote || to->n_user_ids || np) &&
        !direct_route(c, to, remote_ids, n_remote, c->pids, np, buf, len, e->volatile_)) {
        if (c->spread) { /* Redis Cluster: read from the buckets, then published */
            sc_cl_batch_flush(c);
            sc_cl_direct_flush(c);
            sc_cl_buckets_targeted(c, buf, len, (const char *const *)remote_ids, n_remote,
                                   (const char *const *)to->user_ids, to->n_user_ids, e->volatile_);
        } else {
            targeted_add(c, buf, len, (const char *const *)remote_ids, n_remote,
                         (const char *const *)to->user_ids, to->n_user_ids, c->pids, np,
                         e->volatile_);
        }
    }
    SC_COUNT(emits_remote);
}
