/* cluster_receive: what arrives on the subscriber (from cluster_subs.c's
 * on_sub_reply): decoding (fetch answers read at wire level, the rest by
 * protobuf-c), the version check, de-duplication by origin and sequence
 * (the peers map), Batch unwrapping, the handler table by Envelope.body,
 * emits delivered to local sockets through deliver.c, and finding the
 * sockets an origin's directory cache sent us that we do not hold (the
 * Stale notice itself is cluster_notice.c's).
 *
 * It writes to Redis only through cluster_notice.c. Requests, answers and
 * announcements it hands to cluster_request.c, request.c and
 * cluster_liveness.c; it reads the registry, never changes it, and of the
 * other parts' state it changes only the directory cache entries a Stale
 * notice names, the pending canary our own canary answers, and
 * c->quiet_epoch, which a Subscribed moves (voiding every quiet mark). */
#include "cluster_int.h"
#include "deliver.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "stats.h"

#include <stddef.h>
#include <string.h>

/* ---- receiving -------------------------------------------------------------------- */

/* The socket a `routed` index names: to.socket_ids[i], or past them the
 * socket whose private room is to.rooms[i - n_socket_ids]; NULL if none. */
static const char *routed_id(const sc_selector *to, uint32_t i)
{
    if (i < to->n_socket_ids)
        return to->socket_ids[i];
    i -= (uint32_t)to->n_socket_ids;
    return i < to->n_rooms ? sc_private_room_id(to->rooms[i], strlen(to->rooms[i])) : NULL;
}

/* The origin's cache routed this emit here for env->routed (see
 * routed_id): report the sockets not registered here. */
static void check_routed(sc_cluster *c, const sc_envelope *env, sc_peer *peer)
{
    const sc_selector *to = env->emit->to;
    for (size_t i = 0; i < env->n_routed; i++) {
        const char *id = routed_id(to, env->routed[i]);
        if (!id) {
            SC_COUNT(cluster_malformed);
            sc_log_limited(SC_LOG_WARN,
                           "dropping the routes of a message from node %s: index %u, the emit "
                           "names %zu socket ids and %zu rooms (another version?)",
                           SC_ESC(env->origin), (unsigned)env->routed[i], to->n_socket_ids,
                           to->n_rooms);
            return;
        }
        if (sc_registry_find_socket(&c->srv->reg, id))
            continue;
        SC_COUNT(dircache_stale_received);
        sc_log_limited(SC_LOG_INFO,
                       "node %s sent a message for socket %s here, which does not hold it (its "
                       "directory cache is stale: the socket moved or went down); lost for "
                       "that socket, telling the node",
                       SC_ESC(env->origin), SC_ESC(id));
        sc_cl_notice_add(c, peer, id);
    }
}

/* Our cache sent emits to env->origin for sockets it does not hold. */
static void handle_stale(sc_cluster *c, const sc_envelope *env)
{
    const Sidecast__Cluster__V1__Stale *st = env->stale;
    size_t olen = strlen(env->origin), dropped = 0;
    SC_COUNT(dircache_notices_received);
    for (size_t i = 0; i < st->n_socket_ids; i++)
        dropped += sc_dircache_forget(&c->dc, st->socket_ids[i], strlen(st->socket_ids[i]),
                                      env->origin, olen);
    if (dropped)
        sc_log_limited(SC_LOG_INFO,
                       "node %s does not hold %zu socket(s) this node's directory cache sent "
                       "messages to there (moved or gone): cache entries dropped",
                       SC_ESC(env->origin), dropped);
}

/* ClusterEmit's fields 1-4 have Deliver's numbers and types (see
 * proto/cluster.proto), so its encoded bytes are the Deliver an app gets
 * whenever nothing differs per app: no re-encoding on the receiving node. */
static void handle_emit(sc_cluster *c, const sc_envelope *env, const uint8_t *raw_env,
                        size_t raw_len, sc_peer *peer)
{
    const Sidecast__Cluster__V1__ClusterEmit *em = env->emit;
    if (!em->to)
        return;
    if (env->n_routed)
        check_routed(c, env, peer);
    sc_metrics_emit(em->to, SC_SCOPE_REMOTE);
    sc_relay *relay = em->ack_id ? sc_relay_new(c->srv, env->origin, em->ack_id) : NULL;
    size_t body_len = 0;
    const uint8_t *body =
        relay ? NULL
              : sc_wire_find_bytes(raw_env, raw_len,
                                   SIDECAST__CLUSTER__V1__ENVELOPE__BODY_EMIT, &body_len);
    sc_deliver_encoded(c->srv, em->to, em->payload, em->volatile_, relay, body,
                                body_len);
    if (relay)
        sc_relay_arm(relay);
}

/* Several envelopes that one node published to this channel in one loop
 * iteration; each is handled as if it had come on its own. */
static void on_envelope(sc_cluster *c, const char *channel, const uint8_t *p, size_t len,
                        bool in_batch);

static void on_batch(sc_cluster *c, const char *channel, const sc_envelope *env)
{
    const Sidecast__Cluster__V1__Batch *b = env->batch;
    if (strcmp(env->origin, c->self) == 0) {
        SC_COUNT_N(cluster_own_skipped, b->n_envelopes); /* our own room publishes */
        return;
    }
    for (size_t i = 0; i < b->n_envelopes; i++)
        on_envelope(c, channel, b->envelopes[i].data, b->envelopes[i].len, true);
}

/* Clear the window's bits of the numbers [from, to) (fewer than
 * SEQ_WINDOW of them), a word at a time. */
static void seq_clear(uint64_t *w, uint64_t from, uint64_t to)
{
    while (from < to) {
        uint64_t bit = from % 64, n = SC_MIN(64 - bit, to - from);
        uint64_t mask = n == 64 ? ~0ull : ((1ull << n) - 1) << bit;
        w[(from % SEQ_WINDOW) / 64] &= ~mask;
        from += n;
    }
}

/* Whether `seq` from this peer is to be handled. Only an envelope published
 * on several channels (`copied`: an emit to several rooms, or to rooms and
 * sockets) can come twice, once per channel, and on a Redis Cluster its
 * copies travel through different shards, so in no fixed order with the
 * origin's other messages: such a one is checked against the numbers seen
 * within SEQ_WINDOW below the highest; every other is handled. A copied
 * one further below cannot be told from a copy already handled: skipped,
 * counted, and the apps get a Gap from when it was sent. */
static bool seq_fresh(sc_cluster *c, sc_peer *peer, uint64_t seq, bool copied, uint64_t sent_ms)
{
    uint64_t *w = peer->seen, *word = &w[(seq % SEQ_WINDOW) / 64], bit = 1ull << (seq % 64);
    if (seq > peer->last_seq) {
        if (seq - peer->last_seq >= SEQ_WINDOW)
            memset(peer->seen, 0, sizeof(peer->seen));
        else
            seq_clear(w, peer->last_seq + 1, seq); /* unseen numbers in between */
        peer->last_seq = seq;
    } else if (peer->last_seq - seq >= SEQ_WINDOW) {
        if (!copied)
            return true;
        SC_COUNT(cluster_late_skipped);
        sc_log_limited(SC_LOG_WARN, "skipping a cluster message from node %s sent to several "
                                    "channels that came %llu messages late (a lagging Redis "
                                    "Cluster shard): it cannot be told from a copy already "
                                    "handled; the apps get a Gap",
                       SC_ESC(peer->id), (unsigned long long)(peer->last_seq - seq));
        sc_cl_gap_begin(c, sent_ms ? sent_ms : wall_ms(), "a cluster message came too late");
        sc_cl_maybe_end_gap(c);
        return false;
    } else if (copied && (*word & bit)) {
        SC_COUNT(cluster_duplicates_skipped); /* same emit via another channel */
        return false;
    }
    *word |= bit;
    return true;
}

/* Whether an envelope from `origin` with sequence number `seq` is to be
 * handled: not one of our own coming back, and not seen yet from that
 * origin (a multi-room emit arrives once per room channel). Returns the
 * origin's peer record (its Stale notice lives there), or NULL to skip;
 * counts what it skips; NULL for a canary of ours, after noting it arrived. */
static sc_peer *from_peer(sc_cluster *c, const char *origin, uint64_t seq, int body_case,
                          bool copied, uint64_t sent_ms)
{
    if (strcmp(origin, c->self) == 0) {
        if (body_case == SIDECAST__CLUSTER__V1__ENVELOPE__BODY_CANARY) {
            c->canary_pending_since = 0;
            SC_COUNT(canaries_received);
        } else if (body_case == SIDECAST__CLUSTER__V1__ENVELOPE__BODY_SUBSCRIBED) {
            c->subs_echo_due = false; /* every node has it now too */
            sc_cl_maybe_end_gap(c);
        } else {
            SC_COUNT(cluster_own_skipped); /* our own room publish coming back */
        }
        return NULL;
    }
    size_t l = strlen(origin);
    sc_peer *peer = sc_map_get(&c->peers, origin, l);
    if (!peer) {
        if (sc_map_count(&c->peers) >= 65536) {
            SC_COUNT(cluster_unknown_origin_dropped);
            sc_log_limited(SC_LOG_WARN,
                           "dropping a message from unknown node %s: 65536 origins tracked "
                           "(something other than sidecast nodes is publishing on '%s:*'?)",
                           SC_ESC(origin), c->prefix);
            return NULL;
        }
        peer = sc_xcalloc(1, sizeof(*peer) + l + 1);
        peer->len = (uint32_t)l;
        memcpy(peer->id, origin, l + 1);
        sc_map_put(&c->peers, peer);
    }
    if (!seq_fresh(c, peer, seq, copied, sent_ms))
        return NULL;
    if (body_case != SIDECAST__CLUSTER__V1__ENVELOPE__BODY_ANNOUNCE &&
        body_case != SIDECAST__CLUSTER__V1__ENVELOPE__BODY_SUBSCRIBED) /* counted on their own */
        SC_COUNT(cluster_messages_received);
    return peer;
}

/* A Response with sockets, read without protobuf-c (see read_raw_response). */
typedef struct raw_response {
    uint64_t seq, id;
    bool last;
    const uint8_t *list; /* the encoded SocketList, n entries */
    size_t list_len, n;
    char origin[256]; /* last: not cleared before it is known to be needed */
} raw_response;

/* One field of the shapes read_raw_response accepts: each at most once
 * (`seen` is a bitmask of field numbers below 32), of the expected type. */
static bool once(const sc_wire_field *f, uint32_t *seen, uint8_t type)
{
    if (f->num >= 32 || (*seen & 1u << f->num) || f->type != type)
        return false;
    *seen |= 1u << f->num;
    return true;
}

/* A bool as protobuf-c reads it, in the one form sidecastd writes. */
static bool read_bool(const sc_wire_field *f, const uint8_t *end_of_field, bool *ret)
{
    if (f->varint > 1 || end_of_field - f->val != 1)
        return false;
    *ret = f->varint == 1;
    return true;
}

static bool read_response_body(const uint8_t *p, size_t len, raw_response *rr)
{
    const uint8_t *end = p + len;
    sc_wire_field f;
    uint32_t seen = 0;
    int r;
    while ((r = sc_wire_next(&p, end, &f)) > 0) {
        if (f.num == 1 && once(&f, &seen, SC_WIRE_VARINT))
            rr->id = f.varint;
        else if (f.num == 2 && once(&f, &seen, SC_WIRE_VARINT) && read_bool(&f, p, &rr->last))
            continue;
        else if (f.num == SIDECAST__CLUSTER__V1__RESPONSE__KIND_SOCKETS &&
                 once(&f, &seen, SC_WIRE_LEN)) {
            rr->list = f.val;
            rr->list_len = f.len;
        } else
            return false;
    }
    return r == 0 && rr->list && sc_wire_check_socket_list(rr->list, rr->list_len, &rr->n) == 0;
}

/* Fetch answers are most of what a node receives for a cluster-wide fetch:
 * read them at wire level, so that their SocketList goes to the app as it
 * came (sc_request_sockets_encoded), instead of unpacking every SocketInfo
 * and packing it again. Only an envelope of the shape sidecastd sends
 * (origin, seq, sent_unix_ms, response{id, last, sockets}; each at most
 * once, nothing else) whose list passes sc_wire_check_socket_list is read
 * here: for anything else this returns false and protobuf-c decodes the
 * envelope as before (and counts it if malformed). So this path changes
 * the cost of a fetch, not what any envelope does. */
static bool read_raw_response(const uint8_t *p, size_t len, raw_response *rr)
{
    const uint8_t *end = p + len, *origin = NULL, *body = NULL;
    size_t origin_len = 0, body_len = 0;
    sc_wire_field f;
    uint32_t seen = 0;
    int r;
    memset(rr, 0, offsetof(raw_response, origin));
    while ((r = sc_wire_next(&p, end, &f)) > 0) {
        if (f.num == SC_ENV_ORIGIN && once(&f, &seen, SC_WIRE_LEN)) {
            origin = f.val;
            origin_len = f.len;
        } else if (f.num == SC_ENV_SEQ && once(&f, &seen, SC_WIRE_VARINT)) {
            rr->seq = f.varint;
        } else if (f.num == SC_ENV_SENT_MS && once(&f, &seen, SC_WIRE_VARINT)) {
            continue; /* sent_unix_ms: not used on receipt */
        } else if (f.num == SC_ENV_VERSION && once(&f, &seen, SC_WIRE_VARINT)) {
            if (f.varint > SC_CLUSTER_VERSION)
                return false; /* dropped and counted on the decoded path */
        } else if (f.num == SIDECAST__CLUSTER__V1__ENVELOPE__BODY_RESPONSE &&
                   once(&f, &seen, SC_WIRE_LEN)) {
            body = f.val;
            body_len = f.len;
        } else {
            return false; /* another body (emits end here), or an unusual shape */
        }
    }
    /* the origin as the C string protobuf-c would make: no NUL inside */
    if (r < 0 || !body || origin_len == 0 || origin_len >= sizeof(rr->origin) ||
        memchr(origin, 0, origin_len) || !read_response_body(body, body_len, rr))
        return false;
    memcpy(rr->origin, origin, origin_len);
    rr->origin[origin_len] = '\0';
    return true;
}

static void handle_raw_response(sc_cluster *c, const raw_response *rr)
{
    sc_request *r = sc_request_find(c->srv, rr->id);
    if (!r) {
        SC_COUNT(responses_late);
        return; /* timed out already */
    }
    if (rr->n || rr->list_len) { /* entries, or a cached answer's node and etag */
        SC_COUNT(cluster_socket_lists_passed);
        sc_request_sockets_encoded(r, rr->list, rr->list_len);
    }
    if (rr->last)
        sc_request_node_answered(r, rr->origin);
}

/* Another node subscribed channels of private rooms (cluster_subs.c): any
 * this node found without subscribers may have one now (sc_cl_quiet_on). */
static void handle_subscribed(sc_cluster *c, const sc_envelope *env)
{
    (void)env;
    sc_cl_quiet_forget(c);
    SC_COUNT(private_subscribed_heard);
}

/* Handlers of decoded envelopes, by body (cluster.proto's Envelope.body),
 * like dispatch.c's table of local frames. raw/len: the envelope's bytes;
 * peer: its origin's record (from_peer). Batch and Canary are handled
 * before: a Batch unwraps into envelopes, a Canary is ours. */
typedef void (*envelope_fn)(sc_cluster *c, const sc_envelope *env, const uint8_t *raw, size_t len,
                            sc_peer *peer);

static void on_emit_env(sc_cluster *c, const sc_envelope *env, const uint8_t *raw, size_t len,
                        sc_peer *peer)
{
    handle_emit(c, env, raw, len, peer);
}

#define ENVELOPE_HANDLER(name, fn)                                                                 \
    static void name(sc_cluster *c, const sc_envelope *env, const uint8_t *raw, size_t len,        \
                     sc_peer *peer)                                                                \
    {                                                                                              \
        (void)raw, (void)len, (void)peer;                                                          \
        fn(c, env);                                                                                \
    }
ENVELOPE_HANDLER(on_request_env, sc_cl_handle_request)
ENVELOPE_HANDLER(on_response_env, sc_cl_handle_response)
ENVELOPE_HANDLER(on_stale_env, handle_stale)
ENVELOPE_HANDLER(on_announce_env, sc_cl_handle_announce)
ENVELOPE_HANDLER(on_subscribed_env, handle_subscribed)
#undef ENVELOPE_HANDLER

static const envelope_fn envelope_handlers[] = {
    [SIDECAST__CLUSTER__V1__ENVELOPE__BODY_EMIT] = on_emit_env,
    [SIDECAST__CLUSTER__V1__ENVELOPE__BODY_REQUEST] = on_request_env,
    [SIDECAST__CLUSTER__V1__ENVELOPE__BODY_RESPONSE] = on_response_env,
    [SIDECAST__CLUSTER__V1__ENVELOPE__BODY_STALE] = on_stale_env,
    [SIDECAST__CLUSTER__V1__ENVELOPE__BODY_ANNOUNCE] = on_announce_env,
    [SIDECAST__CLUSTER__V1__ENVELOPE__BODY_SUBSCRIBED] = on_subscribed_env,
};

/* Whether the origin published this envelope on several channels (see
 * sc_cluster_emit in cluster_emit.c): an emit to several rooms, or to
 * rooms and sockets or users (room channels and node channels); one to
 * everyone, or with acks, goes on the all channel alone. */
static bool copied(const sc_cluster *c, const sc_envelope *env)
{
    if (env->body_case != SIDECAST__CLUSTER__V1__ENVELOPE__BODY_EMIT || !env->emit->to ||
        env->emit->to->all || env->emit->ack_id)
        return false;
    const Sidecast__V1__Selector *to = env->emit->to;
    if (to->n_rooms + (to->n_socket_ids || to->n_user_ids ? 1 : 0) > 1)
        return true;
    /* a private room's emit also goes to its socket's node (cluster_emit.c);
     * not on a Redis Cluster, where a late copy would then be skipped */
    return to->n_rooms == 1 && !c->spread && sc_private_room_id(to->rooms[0], strlen(to->rooms[0]));
}

static void on_envelope(sc_cluster *c, const char *channel, const uint8_t *p, size_t len,
                        bool in_batch)
{
    raw_response rr;
    if (len && read_raw_response(p, len, &rr)) {
        if (from_peer(c, rr.origin, rr.seq, SIDECAST__CLUSTER__V1__ENVELOPE__BODY_RESPONSE,
                      false, 0))
            handle_raw_response(c, &rr);
        return;
    }
    /* An empty one has no origin; as a Batch's entry it has no bytes at all
     * (protobuf-c gives it a NULL pointer). */
    sc_envelope *env = len ? sidecast__cluster__v1__envelope__unpack(&c->arena.pb, len, p) : NULL;
    if (!env || !env->origin || !env->origin[0] ||
        (in_batch && env->body_case == SIDECAST__CLUSTER__V1__ENVELOPE__BODY_BATCH)) {
        SC_COUNT(cluster_malformed);
        sc_log_limited(SC_LOG_WARN,
                       "dropping a malformed cluster message of %zu bytes on %s (another "
                       "version, or something else publishing on sidecast channels?)",
                       len, SC_ESC(channel));
        return;
    }
    if (env->version > SC_CLUSTER_VERSION) {
        SC_COUNT(cluster_newer_version_dropped);
        sc_log_limited(SC_LOG_WARN,
                       "dropping a cluster message from node %s of cluster version %u: this "
                       "node speaks version %u (upgrade it; newer nodes must not use version %u "
                       "while it is live)",
                       SC_ESC(env->origin), env->version, SC_CLUSTER_VERSION, env->version);
        return;
    }
    if (env->body_case == SIDECAST__CLUSTER__V1__ENVELOPE__BODY_BATCH) {
        on_batch(c, channel, env);
        return;
    }
    sc_peer *peer =
        from_peer(c, env->origin, env->seq, env->body_case, copied(c, env), env->sent_unix_ms);
    if (!peer)
        return;
    envelope_fn fn = (size_t)env->body_case < SC_ARRAY_LEN(envelope_handlers)
                         ? envelope_handlers[env->body_case]
                         : NULL;
    if (fn) {
        fn(c, env, p, len, peer);
        return;
    }
    /* a kind from a newer node: it must not send one before every live
     * node has the feature bit for it (see sc_cluster_features) */
    SC_COUNT(cluster_unknown_kind);
    sc_log_limited(SC_LOG_WARN,
                   "ignoring a cluster message of a kind this node does not know (%d) from node "
                   "%s: is it newer, and using a feature this node lacks?",
                   (int)env->body_case, SC_ESC(env->origin));
}

void sc_cl_on_message(sc_cluster *c, const char *channel, const uint8_t *p, size_t len)
{
    on_envelope(c, channel, p, len, false);
}
