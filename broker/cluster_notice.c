/* cluster_notice: what this node tells others about their view of it.
 * Stale notices, which tell an origin that its directory cache routed us
 * sockets this node does not hold, so it forgets them: the per-origin
 * queue (rate-limited, de-duplicated) and its flush, one envelope per
 * origin at the end of the loop iteration. And Subscribed, which tells
 * every node that this one subscribed private rooms' channels (one per
 * loop iteration at most, see sc_cl_quiet_on). Below the parts
 * that find stale routes (cluster_receive.c) and forget peers
 * (cluster_liveness.c); it only publishes through cluster_send.c and may
 * not touch the registry or the directory cache. */
#include "cluster_int.h"
#include "log.h"
#include "stats.h"

#include <string.h>

/* ---- stale notices ------------------------------------------------------------
 * An origin's directory cache sent us an emit for sockets we do not hold.
 * We tell it once per loop iteration (one Stale envelope per origin, at most
 * NOTICE_MAX_IDS distinct ids, NOTICE_PER_SEC per origin; what does not fit
 * is counted and left to the next stale emit or the origin's ttl). */

static bool notice_has(const sc_peer *peer, const char *id, size_t len)
{
    const uint8_t *p = peer->notice.data, *end = p + peer->notice.len, *s;
    size_t l;
    while (p < end && (s = sc_cl_batch_next(&p, end, &l)))
        if (l == len && memcmp(s, id, len) == 0)
            return true;
    return false;
}

void sc_cl_notice_add(sc_cluster *c, sc_peer *peer, const char *id)
{
    size_t len = strlen(id);
    if (peer->notice_slot && notice_has(peer, id, len))
        return;
    if (!peer->notice_slot) {
        uint64_t now = sc_now_us() / 1000u;
        if (now - peer->notice_window_ms >= 1000) {
            peer->notice_window_ms = now;
            peer->notices_in_window = 0;
        }
        if (peer->notices_in_window >= NOTICE_PER_SEC || c->nnotice == NOTICE_MAX_PEERS) {
            SC_COUNT(dircache_notices_suppressed);
            return;
        }
        peer->notices_in_window++;
        c->notice_peers[c->nnotice++] = peer;
        peer->notice_slot = c->nnotice;
    }
    if (peer->notice_n >= NOTICE_MAX_IDS) {
        SC_COUNT(dircache_notices_suppressed);
        return;
    }
    sc_wire_put_bytes_field(&peer->notice, 1, id, len);
    peer->notice_n++;
}

void sc_cl_notice_unlink(sc_cluster *c, sc_peer *peer)
{
    if (!peer->notice_slot)
        return;
    sc_peer *last = c->notice_peers[--c->nnotice];
    c->notice_peers[peer->notice_slot - 1] = last;
    last->notice_slot = peer->notice_slot;
    peer->notice_slot = 0;
    peer->notice_n = 0;
    peer->notice.off = peer->notice.len = 0;
    sc_buf_shrink(&peer->notice, 1024);
}

/* Envelope{origin, seq, sent, stale} to each origin's node channel. */
void sc_cl_notices_flush(sc_cluster *c)
{
    char ch[SC_ID_MAX + 200];
    while (c->nnotice) {
        sc_peer *peer = c->notice_peers[0];
        c->pack.off = c->pack.len = 0;
        sc_wire_put_bytes_field(&c->pack, SC_ENV_ORIGIN, c->self, strlen(c->self));
        sc_wire_put_varint_field(&c->pack, SC_ENV_SEQ, ++c->seq);
        sc_wire_put_varint_field(&c->pack, SC_ENV_SENT_MS, wall_ms());
        sc_wire_put_varint_field(&c->pack, SC_ENV_VERSION, SC_CLUSTER_VERSION);
        sc_wire_put_bytes_field(&c->pack, SIDECAST__CLUSTER__V1__ENVELOPE__BODY_STALE,
                                peer->notice.data, peer->notice.len);
        channel_of(c, ch, sizeof(ch), "node", peer->id);
        sc_cl_publish(c, ch, c->pack.data, c->pack.len, true);
        SC_COUNT(dircache_notices_sent);
        sc_cl_notice_unlink(c, peer);
    }
}

/* A Subscribed that Redis did not take (an error, or the connection went
 * before the reply) is sent again: an emitter that found a channel quiet
 * would leave it out until something else moves its epoch (with canaries
 * on, nothing else may). */
static void on_subscribed_reply(sc_redis *rc, void *reply, void *pd)
{
    sc_cluster *c = pd;
    redisReply *r = reply;
    if (r && r->type != REDIS_REPLY_ERROR)
        return;
    sc_cl_on_cmd_reply(rc, reply, c);
    c->subs_to_announce++;
}

/* Envelope{origin, seq, sent, subscribed} on the subs channel, once the
 * subscriptions are confirmed: an emitter that found one of those channels
 * without subscribers publishes to it again from when this reaches it.
 * Never kept in the outbox: while Redis is away it waits, and the publish
 * connection coming up announces again anyway (cluster_core.c). Only from
 * a node that advertises quiet rooms (private rooms on, the subs channel
 * subscribed): for any other, nobody leaves a channel out. */
void sc_cl_subscribed_flush(sc_cluster *c)
{
    if (!c->subs_to_announce || !sc_cl_private_routes(c) || !c->subs_ok || !sc_redis_is_up(c->pub))
        return;
    Sidecast__Cluster__V1__Subscribed sub = SIDECAST__CLUSTER__V1__SUBSCRIBED__INIT;
    sub.channels = c->subs_to_announce;
    c->subs_to_announce = 0;
    sc_envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    env.body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_SUBSCRIBED;
    env.subscribed = &sub;
    uint8_t *buf;
    size_t len = sc_cl_pack_envelope(c, &env, &buf);
    SC_COUNT(private_subscribed_sent);
    c->subs_echo_due = true;
    /* hiredis refused it (rare): the outbox keeps it for the reconnect,
     * which announces again anyway */
    (void)sc_cl_publish_cb(c, c->ch_subs, buf, len, false, on_subscribed_reply, c);
}
