/* cluster: Redis pub/sub transport between sidecars, node liveness, the
 * socket directory, interest-based room subscriptions, the outbox and the
 * pub/sub canary; targeted emits routed by the directory cache (the cache
 * itself is dircache.c) and the Stale notices that keep it honest. Requests
 * and acks are in request.c; the cluster carries them between nodes.
 *
 * The cluster is eleven files that share cluster_int.h (which lists them).
 * This one is its core: the lifecycle (sc_cluster_new, _start, _leave,
 * _free), the publish connection's state, the heartbeat (its answer
 * refreshes the live list and says whether this node's directory is
 * whole), the pub/sub canary, the end of a loop iteration
 * (sc_cluster_flush: every part sends what it holds), and the health and
 * gauges that metrics, http and notify read. The subscriptions are
 * cluster_subs.c's, the shards cluster_shard.c's.
 *
 * It may not build or decode emits, requests or answers: a message on the
 * subscriber goes to cluster_receive.c as it came, and its own envelopes
 * are the canary and the departure announcement (cluster_liveness.c).
 *
 * tests/fuzz/fuzz_envelope.c includes this file whole, to call its reply
 * handler on_reap_reply with replies built by hand: it and beat_pd stay
 * here, static. */
#include "cluster_int.h"
#include "credentials.h"
#include "conn.h"
#include "log.h"
#include "request.h" /* SC_REQ_*, for tests/fuzz/fuzz_envelope.c */
#include "stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Directory entries of dead nodes one heartbeat's script removes (about;
 * lua/reap.lua): measured at 16 ms of Redis time on the project's VM (66 ms
 * for 5,000), where one script for a whole 100,000-socket node would block
 * Redis for seconds; such a node is gone in 100 heartbeats. */
#define REAP_BUDGET "1000"

#define M(name) SIDECAST__V1__FRAME__MSG_##name

/* lua/targeted.lua tests bit 4 of P:ver:<node> for private rooms. */
_Static_assert(SIDECAST__CLUSTER__V1__CLUSTER_FEATURE__CLUSTER_FEATURE_PRIVATE_ROOMS == 4,
               "lua/targeted.lua tests bit 4 for private rooms");
/* lua/targeted.lua writes version 1 into its batches. */
_Static_assert(SC_CLUSTER_VERSION == 1, "lua/targeted.lua writes version 1 into its batches");

_Static_assert(SC_CLUSTER_FEATURES ==
                   (SIDECAST__CLUSTER__V1__CLUSTER_FEATURE__CLUSTER_FEATURE_UNSUPPORTED_ANSWER |
                    SIDECAST__CLUSTER__V1__CLUSTER_FEATURE__CLUSTER_FEATURE_ANNOUNCE |
                    SIDECAST__CLUSTER__V1__CLUSTER_FEATURE__CLUSTER_FEATURE_PRIVATE_ROOMS |
                    SIDECAST__CLUSTER__V1__CLUSTER_FEATURE__CLUSTER_FEATURE_QUIET_ROOMS),
               "SC_CLUSTER_FEATURES names every ClusterFeature this file implements");

static const char *peer_key(const void *item, size_t *len)
{
    const sc_peer *p = item;
    *len = p->len;
    return p->id;
}

/* Expire directory cache entries and quiet marks; empty both once a
 * reload turned the cache off. */
static void dircache_sweep(sc_cluster *c, uint64_t now)
{
    if (dircache_on(c)) { /* bounded work per tick */
        sc_dircache_expire(&c->dc, now, 4096);
        sc_quietset_expire(&c->quiet, c->quiet_epoch, now, 4096);
        return;
    }
    sc_quietset_clear(&c->quiet);
    uint32_t n = sc_dircache_count(&c->dc);
    if (n) { /* switched off by a reload */
        sc_dircache_clear(&c->dc);
        sc_info("directory cache off: dropped its %u entries", n);
    }
}

/* Every 250 ms: the directory cache's expiry, the subscriptions' sweep. */
static void on_sweep(struct ev_loop *loop, ev_timer *w, int revents)
{
    sc_cluster *c = w->data;
    uint64_t now = sc_now_us();
    dircache_sweep(c, now);
    sc_cl_subs_sweep(c, now);
    if (c->spread)
        sc_cl_buckets_retry(c); /* targeted emits' reads answered with an error */
}

/* ---- heartbeat ------------------------------------------------------------------- */

/* A heartbeat in flight: when it was sent, and whether it was the first
 * since this node's directory was (re)written. */
typedef struct beat_pd {
    sc_cluster *c;
    uint64_t sent_ms;
    uint64_t beat;       /* its number (c->beats_sent) */
    uint64_t resync_gen; /* c->resync_gen when sent */
    bool first;
    bool forgetting; /* sent while a rewrite's forget was under way */
} beat_pd;

/* The heartbeat found this node's entries gone from Redis (flags from
 * lua/reap.lua: liveness, node list, directory marker). Its directory is
 * rewritten and the apps get a Gap from the last heartbeat that found it
 * whole: messages routed to this node since then may have found no entry. */
static void check_whole(sc_cluster *c, const beat_pd *bp, const redisReply *flags)
{
    /* a heartbeat sent before the last rewrite ran before it: not judged
     * (after a stall two are often in flight) */
    if (!flags || flags->type != REDIS_REPLY_STRING || flags->len != 3 || c->leaving ||
        bp->resync_gen != c->resync_gen)
        return;
    bool alive = flags->str[0] == '1', member = flags->str[1] == '1', marker = flags->str[2] == '1';
    /* the first heartbeat after a rewrite may find its liveness expired
     * (first start, or a long outage); the marker it must find. But expired
     * while still listed means the survivors were reaping this node, a
     * chunk per heartbeat (lua/reap.lua), maybe while the rewrite ran: once
     * more, now that this heartbeat renewed the liveness and they stop. */
    bool reaping = bp->first && !alive && member;
    /* sent while the rewrite's forget ran: the marker tells nothing yet
     * (the heartbeat right after the rewrite judges it), the reaping does */
    if (bp->forgetting && !reaping)
        return;
    if (marker && !reaping && (bp->first || (alive && member))) {
        c->dir_ok_ms = bp->sent_ms;
        c->whole_gen = c->resync_gen;
        return;
    }
    const char *what = reaping ? "liveness had expired while it was still listed: the other "
                                 "nodes were removing its directory, maybe during the rewrite"
                       : !marker && !alive ? "liveness and directory are gone from redis (reaped "
                                           "after a stall past node_ttl_ms, or redis was wiped)"
                       : !marker         ? "directory is gone from redis (keys deleted or evicted)"
                       : !member         ? "entry in the node list is gone from redis"
                                         : "liveness expired (a stall past node_ttl_ms)";
    SC_COUNT(self_reaped);
    uint64_t from = c->dir_ok_ms ? c->dir_ok_ms : bp->sent_ms, now = wall_ms();
    sc_warn("this node's %s: rewriting its liveness and directory; apps get a Gap from %llu ms "
            "ago",
            what, (unsigned long long)(now - SC_MIN(from, now)));
    sc_cl_gap_begin(c, from, "this node's directory was lost from redis and rewritten");
    sc_cl_directory_resync(c);
    /* On a Redis Cluster the survivors forget a dead node bucket by bucket
     * and stop once their own heartbeat finds it live again: a call of
     * theirs may still remove what this rewrite wrote. Once every node has
     * had a heartbeat since, write it all once more. */
    if (c->spread && !alive)
        c->resync_at_beat = c->beats_sent + 3;
}

static void on_reap_reply(sc_redis *rc, void *reply, void *pd)
{
    beat_pd *bp = pd;
    sc_cluster *c = bp->c;
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < (c->spread ? 3u : 2u)) {
        if (r) {
            sc_cl_check_noscript(c, r);
            sc_cl_on_cmd_reply(rc, reply, c);
        }
        free(bp);
        return;
    }
    /* Redis Cluster: the dead nodes' ids and their count before the last two */
    size_t ndead = 0;
    if (c->spread && r->elements >= 3 && r->element[r->elements - 3]->type == REDIS_REPLY_STRING)
        ndead = SC_MIN((size_t)atoll(r->element[r->elements - 3]->str), r->elements - 3);
    size_t n = (r->elements - 2 - (c->spread ? 1 + ndead : 0)) / 3;
    for (size_t j = 0; j < 3 * n; j++)
        if (r->element[j]->type != REDIS_REPLY_STRING) {
            SC_COUNT(redis_errors);
            sc_log_limited(SC_LOG_WARN, "redis answered a heartbeat with a malformed node list");
            free(bp);
            return;
        }
    check_whole(c, bp, r->element[r->elements - 1]);
    uint64_t beat = bp->beat;
    free(bp);
    const redisReply *dr = r->element[r->elements - 2];
    long long dead = atoll(dr->type == REDIS_REPLY_STRING ? dr->str : "0");
    sc_cl_live_replace(c, r->element, n, beat);
    c->have_live = true;
    if (ndead)
        sc_cl_buckets_reap(c, r->element + 3 * n, ndead);
    if (c->resync_at_beat && beat >= c->resync_at_beat && !c->forgetting) {
        c->resync_at_beat = 0;
        sc_info("rewriting this node's directory once more: the other nodes have stopped "
                "forgetting it");
        sc_cl_gap_begin(c, wall_ms(), "directory rewritten once more after this node was reaped");
        sc_cl_directory_resync(c);
    } else if (c->spread && c->dir_redirected && !c->forgetting) {
        sc_warn("a directory write was answered MOVED, ASK or NOSCRIPT, or a bucket's marker was "
                "gone (a slot moved, a primary lost the scripts or its data): rewriting this "
                "node's directory");
        sc_cl_gap_begin(c, wall_ms(), "directory rewritten after a redis cluster bucket changed");
        sc_cl_directory_resync(c);
    }
    c->beat_ok_us = c->beat_reply_us = sc_now_us();
    sc_cl_maybe_announce(c);
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
    char ttl[32], info[600], grace[24];
    snprintf(ttl, sizeof(ttl), "%" PRIu64, c->cfg->node_ttl_ms);
    const char *addr = c->cfg->advertise_address ? c->cfg->advertise_address : "";
    snprintf(info, sizeof(info), "%zu:%s%s", strlen(c->srv->node_name), c->srv->node_name, addr);
    sc_cl_grace_arg(c, grace, sizeof(grace));
    argv_buf a = {0};
    sc_cl_arg_script(c, &a, S_REAP);
    sc_cl_arg_str(&a, c->prefix);
    sc_cl_arg_str(&a, grace);
    sc_cl_arg_str(&a, c->self);
    sc_cl_arg_str(&a, info);
    sc_cl_arg_str(&a, ttl);
    char ver[48];
    snprintf(ver, sizeof(ver), "%u:%" PRIu64, SC_CLUSTER_VERSION, sc_cl_own_features(c));
    sc_cl_arg_str(&a, ver);
    /* a dead node's directory goes REAP_BUDGET entries per heartbeat: the
     * script stays in the milliseconds whatever the node held */
    sc_cl_arg_str(&a, REAP_BUDGET);
    sc_cl_arg_str(&a, c->spread ? "1" : "0"); /* list the dead, cluster_buckets.c forgets them */
    beat_pd *bp = sc_xmalloc(sizeof(*bp));
    *bp = (beat_pd){c,          wall_ms(), ++c->beats_sent, c->resync_gen,
                    c->beats_since_resync == 0, c->forgetting};
    if (sc_cl_command(c, (int)a.n, a.argv, a.lens, false, false, on_reap_reply, bp))
        c->beats_since_resync++;
    else
        free(bp);
    if (c->spread)
        sc_cl_buckets_check(c);
    free(a.argv);
    free(a.lens);
}

static void on_heartbeat(struct ev_loop *loop, ev_timer *w, int revents)
{
    heartbeat_now(w->data);
}

/* cluster_directory.c's hook: the rewrite is sent; a heartbeat right
 * behind it judges it (and lets an arrival be announced at once). */
static void on_rewritten(sc_cluster *c)
{
    heartbeat_now(c);
}

/* ---- connection state ---------------------------------------------------------- */

static void on_pub_state(sc_redis *r, bool up, const char *why, void *ud)
{
    sc_cluster *c = ud;
    c->canary_pending_since = 0; /* canaries not sent while down prove nothing */
    c->pub_gen++;
    if (!up) {
        c->dir_ready = false; /* rewritten on the next connection */
        if (c->sentinel)
            sc_sentinel_refresh(c->sentinel); /* a failover may be why */
        if (c->topo)
            sc_topo_refresh(c->topo, why);
        return;
    }
    sc_cl_load_scripts(c);
    /* Lookups between the rewrite's forget and its writes find nothing, and
     * an outage past node_ttl_ms may have had this node reaped: the apps
     * are told, until the rewrite is confirmed. */
    if (c->pub_was_up && c->ever_up)
        sc_cl_gap_begin(c, c->dir_ok_ms ? c->dir_ok_ms : wall_ms(),
                        "redis publish connection re-established; directory rewritten");
    c->pub_was_up = true;
    if (c->topo) /* asked on this connection now: the map's own one closes */
        sc_topo_refresh(c->topo, "publish connection up");
    c->beat_ok_us = sc_now_us(); /* the first heartbeat is sent now */
    /* a Subscribed lost with the old connection, or one that went to a
     * primary this connection no longer reaches, is said again */
    c->subs_to_announce++;
    sc_cl_directory_resync(c);
    heartbeat_now(c);
    sc_cl_outbox_flush(c);
}

static void on_canary(struct ev_loop *loop, ev_timer *w, int revents)
{
    sc_cluster *c = w->data;
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
        sc_cl_gap_begin(c, wall_ms() - 2 * c->cfg->canary_interval_ms, "pub/sub canary missing");
        sc_redis_reconnect(c->sub, "pub/sub canary missing");
        return;
    }
    Sidecast__Cluster__V1__Canary can = SIDECAST__CLUSTER__V1__CANARY__INIT;
    can.nonce = now;
    sc_envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    env.body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_CANARY;
    env.canary = &can;
    uint8_t *buf;
    size_t len = sc_cl_pack_envelope(c, &env, &buf);
    sc_cl_publish(c, c->ch_node, buf, len, true);
    if (!c->canary_pending_since)
        c->canary_pending_since = now;
    SC_COUNT(canaries_sent);
}

/* ---- public API ------------------------------------------------------------------- */

/* Requests (below the cluster) reach it only through these (request.h). */
static const char *hook_node_name(void *ud, const char *node_id)
{
    return sc_cluster_node_name(ud, node_id);
}

static void hook_progress(void *ud, const char *origin, uint64_t req_id, uint32_t expect,
                          ProtobufCBinaryData *payloads, size_t n, bool last)
{
    sc_cluster_progress(ud, origin, req_id, expect, payloads, n, last);
}

/* cluster_send.c's hooks up (struct sc_cluster). */
static void flush_emits(sc_cluster *c)
{
    sc_cl_targeted_flush(c);
    sc_cl_direct_flush(c);
}

/* rediss://: the TLS context both connections use. Turning verification
 * off is allowed, never quietly. */
static sc_tls *tls_new(const sc_config *cfg)
{
    sc_tls_opts to = sc_config_tls(cfg);
    char why[400];
    sc_tls *t = sc_tls_new(&to, why, sizeof(why));
    if (!t) {
        sc_error("redis TLS: %s", why); /* --check-config catches this first */
        return NULL;
    }
    if (to.verify == SC_TLS_VERIFY_NONE)
        sc_warn("redis_tls_verify = none: the Redis server's certificate is not checked, so "
                "anyone on the path can pose as it; use full (the default) with "
                "redis_tls_ca_file");
    else if (to.verify == SC_TLS_VERIFY_CA)
        sc_warn("redis_tls_verify = ca: the Redis server's host name is not checked against its "
                "certificate; set redis_tls_server_name to the name it has instead");
    return t;
}

void sc_cluster_reload_tls(sc_cluster *c)
{
    if (!c || !c->tls)
        return;
    char why[400];
    if (sc_tls_reload(c->tls, why, sizeof(why)) == 0)
        sc_info("redis TLS: certificates and keys read again; new connections use them");
    else
        sc_error("redis TLS: %s; keeping the ones read before", why);
}

/* One password read again before each login (its file or systemd
 * credential), so a rotated one needs no restart. A file that cannot be
 * read now keeps the password read before (*kept), and says why. */
static const char *reread_password(const char *setting, const char *file, const char *credential,
                                   char **kept)
{
    char *pw = NULL, *errs = NULL;
    size_t errlen = 0;
    FILE *err = open_memstream(&errs, &errlen);
    int rc = sc_credentials_load_named(setting, file, credential, &pw, err ? err : stderr);
    if (err)
        fclose(err);
    if (rc < 0) {
        sc_log_limited(SC_LOG_ERROR, "%s: %s; logging in with the one read before", setting,
                       errs ? errs : "cannot read it");
    } else if (pw) {
        sc_credentials_wipe(kept);
        *kept = pw;
        pw = NULL;
    }
    free(errs);
    sc_credentials_wipe(&pw);
    return *kept;
}

/* Redis's password (redis_password_file), before each login. */
static const char *fresh_password(void *ud)
{
    sc_cluster *c = ud;
    return reread_password("redis_password_file", c->cfg->redis_password_file,
                           "redis-password", &c->password);
}

/* The sentinels' (redis_sentinel_password_file), before each login to one. */
static const char *fresh_sentinel_password(void *ud)
{
    sc_cluster *c = ud;
    return reread_password("redis_sentinel_password_file",
                           c->cfg->redis_sentinel_password_file, "redis-sentinel-password",
                           &c->sentinel_password);
}

/* ---- Sentinel ------------------------------------------------------------------ */

static bool primary_target(void *ud, const char **host, int *port)
{
    sc_cluster *c = ud;
    return sc_sentinel_primary(c->sentinel, host, port);
}

/* A new primary: both connections go there now (each asks ROLE first). The
 * subscriber's reconnect opens a Gap for the switch window, and the publish
 * connection's rewrites this node's liveness and directory, which the new
 * primary may lack (asynchronous replication). */
static void on_primary(void *ud, const char *host, int port, const char *why)
{
    sc_cluster *c = ud;
    char msg[300];
    snprintf(msg, sizeof(msg), "sentinel: the primary is now %s:%d (%s)", host, port, why);
    sc_redis *conns[] = {c->pub, c->sub};
    for (int i = 0; i < 2; i++) {
        if (sc_redis_is_down(conns[i]))
            sc_redis_connect_soon(conns[i]); /* waiting out a backoff: go now */
        else
            sc_redis_reconnect(conns[i], msg);
    }
}

static void sentinel_setup(sc_cluster *c, const sc_redis_url *url, sc_redis_opts *po)
{
    const sc_config *cfg = c->cfg;
    sc_sentinel_opts so = {.user = cfg->redis_sentinel_user,
                           .password = cfg->redis_sentinel_password,
                           .fresh_password = fresh_sentinel_password,
                           .password_ud = c,
                           .base = po};
    c->sentinel = sc_sentinel_new(c->srv->loop, url, &so, on_primary, c);
    po->target = primary_target;
    po->want_primary = true;
}

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
    sc_credentials_apply(cfg->redis_password, &url);
    /* the default user needs no password; another named without one is
     * likely the form that meant a password before 0.2 */
    if (url.user && url.user[0] && strcmp(url.user, "default") != 0 &&
        (!url.password || !url.password[0]))
        sc_warn("redis_url names a user but gives no password (nor redis_password_file or a "
                "redis-password credential), so sidecastd does not authenticate. If that part "
                "of the URL is a password (redis://PASSWORD@host before 0.2), write "
                "redis://:PASSWORD@host");
    sc_cluster *c = sc_xcalloc(1, sizeof(*c));
    sc_tls_opts to = sc_config_tls(cfg);
    if (!url.tls && (to.ca_file[0] || to.ca_dir[0] || to.cert_file[0] || to.key_file[0]))
        sc_warn("redis_tls_* files are set but redis_url is not rediss://: Redis is reached "
                "in plain text and they are not used");
    if (url.tls && !(c->tls = tls_new(cfg))) {
        sc_redis_url_free(&url);
        free(c);
        return NULL;
    }
    c->srv = srv;
    c->cfg = cfg;
    c->self = srv->node_id;
    srv->request_hooks = (sc_request_hooks){c, hook_node_name, hook_progress};
    c->flush_ups = sc_cl_flush_ups;
    c->flush_emits = flush_emits;
    c->rewritten = on_rewritten;
    c->features = sc_cl_own_features(c); /* alone until the first heartbeat says otherwise */
    /* on a Redis Cluster the prefix is the keys' hash tag: every key, the
     * node and broadcast channels in one slot; rooms spread (cluster_shard.c) */
    snprintf(c->prefix, sizeof(c->prefix), url.cluster ? "{%s}" : "%s", cfg->redis_prefix);
    snprintf(c->room_prefix, sizeof(c->room_prefix), "%s", cfg->redis_prefix);
    snprintf(c->home_key, sizeof(c->home_key), "%s:nodes", c->prefix);
    c->sharded = url.cluster;
    c->spread = url.cluster;
    c->home_slot = sc_slot(c->prefix, strlen(c->prefix));
    c->home.c = c;
    c->home.home = true;
    c->home.sub_started = true;
    channel_of(c, c->ch_node, sizeof(c->ch_node), "node", c->self);
    snprintf(c->ch_all, sizeof(c->ch_all), "%s:all", c->prefix);
    snprintf(c->ch_subs, sizeof(c->ch_subs), "%s:subs", c->prefix);
    c->quiet_epoch = 1; /* 0: never found */
    sc_arena_init(&c->arena, 256 * 1024);
    sc_buf_init(&c->pack);
    sc_buf_init(&c->cmd);
    sc_buf_init(&c->scratch);
    sc_buf_init(&c->fetch);
    sc_buf_init(&c->batch);
    sc_buf_init(&c->batch_out);
    sc_buf_init(&c->tgt);
    sc_buf_init(&c->dmsg);
    char dcprefix[100];
    snprintf(dcprefix, sizeof(dcprefix), "%s:node:", c->prefix);
    sc_dircache_init(&c->dc, dcprefix);
    sc_quietset_init(&c->quiet);
    c->dnodes = sc_xcalloc(DIRECT_MAX_IDS, sizeof(*c->dnodes));
    c->dnext = sc_xcalloc(DIRECT_MAX_IDS, sizeof(*c->dnext));
    c->didx = sc_xcalloc(DIRECT_MAX_IDS, sizeof(*c->didx));
    sc_map_init(&c->peers, peer_key);
    sc_cl_subs_init(c);
    sc_cl_buckets_init(c);
    sc_redis_opts po = {"publish", cfg->redis_connect_timeout_ms, cfg->redis_command_timeout_ms,
                        cfg->redis_reconnect_min_ms, cfg->redis_reconnect_max_ms, true,
                        &cfg->redis_reply_defer_ms, sc_cl_on_cmd_reply, c, c->tls, NULL,
                        false, fresh_password, NULL};
    if (url.sentinel)
        sentinel_setup(c, &url, &po);
    if (url.cluster) {
        po.password_ud = c; /* the topology's and the shards' connections too */
        po.want_primary = true; /* a failed-over primary may come back a replica */
        c->topo = sc_topo_new(srv->loop, &url, &po, sc_cl_on_topology, sc_cl_shard_any_up, c);
        po.target = sc_cl_home_target;
    }
    sc_redis_opts so = po;
    so.name = "subscribe";
    so.probe = false; /* the canary checks the subscriber end to end */
    so.quiet_defer_ms = NULL; /* messages come on it: always read at once */
    c->pub = c->home.pub = sc_redis_new(srv->loop, &url, &po, on_pub_state, c);
    c->sub = c->home.sub = sc_redis_new(srv->loop, &url, &so, sc_cl_on_sub_state, c);
    c->popts = po;
    c->sopts = so;
    sc_redis_url_copy(&c->url, &url);
    sc_info("cluster: node %s joins via redis %s, prefix '%s'", c->self, sc_redis_url_safe(&url),
            c->prefix);
    if (!cfg->advertise_address || !cfg->advertise_address[0])
        sc_warn("advertise_address is not set: other nodes cannot forward long-polling requests "
                "for sessions held here (they answer 502 without sticky sessions); set it to the "
                "address other nodes reach this node's app server at, e.g. 10.0.0.5:3000");
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
    if (c->sentinel)
        sc_sentinel_start(c->sentinel);
    if (c->topo)
        sc_topo_start(c->topo);
    sc_redis_start(c->pub);
    sc_redis_start(c->sub);
    ev_timer_start(c->srv->loop, &c->heartbeat);
    ev_timer_start(c->srv->loop, &c->sweep);
    if (c->cfg->canary_interval_ms)
        ev_timer_start(c->srv->loop, &c->canary);
}

static void on_left(sc_redis *rc, void *reply, void *pd)
{
    sc_cluster *c = pd;
    c->left = true;
    sc_info("left the cluster: liveness and directory entries removed");
}

/* The directory is gone (in bounded calls): then out of the node list. */
static void left_forgotten(sc_cluster *c)
{
    if (c->spread && c->forget_partial) {
        /* a bucket's primary is unreachable: stay listed (liveness gone),
         * so that the survivors remove the rest and then this node */
        c->left = true;
        return;
    }
    char marker[200];
    snprintf(marker, sizeof(marker), "%s:nodesock:%s", c->prefix, c->self);
    const char *a2[] = {"DEL", marker};
    size_t l2[] = {3, strlen(marker)};
    if (c->spread) /* the directory marker, alone in the home slot (cluster_buckets.c) */
        sc_cl_command(c, 2, a2, l2, false, false, NULL, NULL);
    char nodes[160];
    snprintf(nodes, sizeof(nodes), "%s:nodes", c->prefix);
    const char *a3[] = {"SREM", nodes, c->self};
    size_t l3[] = {4, strlen(nodes), strlen(c->self)};
    if (!sc_cl_command(c, 3, a3, l3, false, false, on_left, c))
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
    sc_cl_announce(c, false); /* before the keys go: peers stop waiting for it now */
    char key[200];
    snprintf(key, sizeof(key), "%s:alive:%s", c->prefix, c->self);
    char vkey[200];
    snprintf(vkey, sizeof(vkey), "%s:ver:%s", c->prefix, c->self);
    const char *a1[] = {"DEL", key, vkey};
    size_t l1[] = {3, strlen(key), strlen(vkey)};
    sc_cl_command(c, 3, a1, l1, false, false, NULL, NULL);
    c->resync_gen++; /* a rewrite under way stops */
    sc_cl_forget_self(c, left_forgotten);
    sc_info("leaving the cluster: removing its liveness and directory entries");
}

bool sc_cluster_left(const sc_cluster *c)
{
    return !c || c->left || !sc_redis_is_up(c->pub);
}

void sc_cluster_free(sc_cluster *c)
{
    if (!c)
        return;
    if (c->srv->request_hooks.ud == c)
        c->srv->request_hooks = (sc_request_hooks){0};
    ev_timer_stop(c->srv->loop, &c->heartbeat);
    ev_timer_stop(c->srv->loop, &c->sweep);
    ev_timer_stop(c->srv->loop, &c->canary);
    c->closing = true;
    sc_redis_free(c->pub); /* runs the pending reply callbacks: before the cache goes */
    sc_redis_free(c->sub);
    for (int i = 0; i < c->nshards; i++)
        sc_cl_shard_free(c->shards[i]); /* not the home one */
    sc_topo_free(c->topo);
    sc_cl_buckets_free(c);
    sc_redis_url_free(&c->url);
    sc_sentinel_free(c->sentinel);
    sc_tls_free(c->tls);
    sc_credentials_wipe(&c->password);
    sc_credentials_wipe(&c->sentinel_password);
    while (c->ob_head)
        sc_cl_outbox_unlink(c, c->ob_head);
    for (uint32_t i = 0; i < c->nouts; i++)
        sc_dcnode_release(c->outs[i].node);
    for (uint32_t i = 0; i < DIRECT_MAX_NODES; i++)
        sc_buf_free(&c->outs[i].items);
    sc_dircache_free(&c->dc);
    sc_quietset_free(&c->quiet);
    free(c->dnodes);
    free(c->dnext);
    free(c->didx);
    free(c->pids);
    free(c->pidx);
    sc_buf_free(&c->dmsg);
    for (uint32_t i = 0; i < c->peers.cap; i++) {
        sc_peer *p = c->peers.items[i];
        if (p)
            sc_buf_free(&p->notice);
        free(p);
    }
    sc_map_free(&c->peers);
    sc_cl_subs_free(c);
    sc_cl_free_live(c);
    sc_arena_free(&c->arena);
    sc_buf_free(&c->pack);
    sc_buf_free(&c->cmd);
    sc_buf_free(&c->scratch);
    sc_buf_free(&c->fetch);
    sc_buf_free(&c->batch);
    sc_buf_free(&c->batch_out);
    sc_buf_free(&c->tgt);
    free(c->tgt_args);
    free(c->ups);
    free(c);
}

void sc_cluster_flush(sc_cluster *c)
{
    if (c) {
        sc_cl_flush_ups(c);
        sc_cl_buckets_flush(c);
        sc_cl_notices_flush(c);
        sc_cl_subscribed_flush(c);
        sc_cl_batch_flush(c);
        sc_cl_targeted_flush(c);
        sc_cl_direct_flush(c);
        c->runs = 0;
    }
    if (c)
        sc_redis_flush(c->pub);
}

void sc_cluster_gauges(const sc_cluster *c, sc_gauge_fn fn, void *ud)
{
    fn("redis_pub_up", sc_redis_is_up(c->pub), ud);
    if (c->sentinel) {
        fn("redis_sentinel_up", sc_sentinel_is_up(c->sentinel), ud);
        fn("redis_sentinel_switches", sc_sentinel_switches(c->sentinel), ud);
    }
    fn("redis_sub_up", c->sub_ready, ud);
    fn("redis_reconnects", sc_redis_reconnects(c->pub) + sc_redis_reconnects(c->sub), ud);
    fn("cluster_nodes", c->nlive, ud);
    fn("outbox_bytes", c->ob_bytes, ud);
    fn("outbox_messages", c->ob_count, ud);
    fn("room_channels", sc_map_count(&c->subs), ud);
    fn("private_rooms_ready", c->priv_ready, ud);
    fn("dircache_entries", sc_dircache_count(&c->dc), ud);
    fn("private_rooms_quiet", sc_quietset_count(&c->quiet), ud);
    fn("cluster_features", c->features, ud);
    fn("cluster_nodes_reduced", c->nreduced, ud);
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
    if (!c->dir_ready) {
        *why = "this node's directory is being written to redis";
        return false;
    }
    if (c->canary_pending_since &&
        sc_now_us() - c->canary_pending_since >= 2 * c->cfg->canary_interval_ms * 1000u) {
        *why = "pub/sub canary missing";
        return false;
    }
    return true;
}

/* Redis Cluster: how many shards are well, and the first that is not. */
static void shards_health(const sc_cluster *c, sc_cluster_health *h)
{
    h->rcluster = true;
    h->shards = (uint32_t)c->nshards;
    h->slot_maps = sc_topo_changes(c->topo);
    h->sharded = c->sharded;
    for (int i = 0; i < c->nshards; i++) {
        const sc_shard *sh = c->shards[i];
        if (!sh)
            continue;
        const char *what = !sc_redis_is_up(sh->pub) ? "publish connection down"
                           : sh->sub_started && !sc_redis_is_up(sh->sub) ? "subscriber down"
                           : sh->sub_started && !sh->sub_ready ? "subscriptions not confirmed"
                                                                : NULL;
        if (!what) {
            h->shards_up++;
            continue;
        }
        if (!h->shard_down[0])
            snprintf(h->shard_down, sizeof(h->shard_down), "%.120s (%s%s%.120s)", sh->addr, what,
                     sh->sub_error[0] ? ": " : "", sh->sub_error);
        if (!h->sub_error[0] && sh->sub_error[0])
            snprintf(h->sub_error, sizeof(h->sub_error), "%s", sh->sub_error);
    }
}

bool sc_cluster_shard(const sc_cluster *c, int i, sc_shard_info *ret)
{
    if (!c->topo || i >= c->nshards || !c->shards[i])
        return false;
    const sc_shard *sh = c->shards[i];
    *ret = (sc_shard_info){.addr = sh->addr,
                           .pub_up = sc_redis_is_up(sh->pub),
                           .sub_up = sh->sub_started && sc_redis_is_up(sh->sub),
                           .subscribed = sh->sub_started && sh->sub_ready,
                           .home = sh->home,
                           .sub_started = sh->sub_started,
                           .publishes = sh->publishes,
                           .channels = sh->nsubs,
                           .rtt_us = sc_redis_rtt_us(sh->pub)};
    return true;
}

void sc_cluster_health_get(const sc_cluster *c, sc_cluster_health *h)
{
    uint64_t now = sc_now_us();
    memset(h, 0, sizeof(*h));
    h->pub_up = sc_redis_is_up(c->pub);
    h->sub_up = sc_redis_is_up(c->sub);
    h->subscribed = c->sub_ready;
    h->in_gap = c->in_gap;
    h->directory_ok = c->dir_ready;
    h->pub_down_since = sc_redis_down_since(c->pub);
    h->sub_down_since = sc_redis_down_since(c->sub);
    if (c->canary_pending_since && now > c->canary_pending_since)
        h->canary_late_us = now - c->canary_pending_since;
    h->canary_limit_us = 2 * c->cfg->canary_interval_ms * 1000u;
    if (h->pub_up && c->beat_ok_us && now > c->beat_ok_us)
        h->beat_late_us = now - c->beat_ok_us;
    h->beat_limit_us = c->cfg->node_ttl_ms * 1000u;
    h->pub_reconnects = sc_redis_reconnects(c->pub);
    h->sub_reconnects = sc_redis_reconnects(c->sub);
    h->nodes = c->nlive;
    h->outbox_bytes = c->ob_bytes;
    h->outbox_messages = c->ob_count;
    h->channels = sc_map_count(&c->subs);
    h->dircache_entries = sc_dircache_count(&c->dc);
    h->quiet_rooms = sc_quietset_count(&c->quiet);
    snprintf(h->redis_at, sizeof(h->redis_at), "%s", sc_redis_where(c->pub));
    snprintf(h->sub_error, sizeof(h->sub_error), "%s", c->home.sub_error);
    if (c->topo)
        shards_health(c, h);
    if (c->sentinel) {
        h->sentinel = true;
        h->sentinel_up = sc_sentinel_is_up(c->sentinel);
        snprintf(h->sentinel_at, sizeof(h->sentinel_at), "%s", sc_sentinel_current(c->sentinel));
        h->sentinel_switches = sc_sentinel_switches(c->sentinel);
    }
}
