/* cluster_liveness: the live nodes as the last heartbeat (cluster_core.c) found
 * them, corrected at once by other nodes' announcements of their arrival
 * or departure: their names, addresses, cluster versions and feature bits
 * (sc_cluster_features: what every live node can do), and this node's own
 * announcements. The other parts read the list; sc_cluster_nodes and its
 * neighbours at the end show it to the rest of the daemon.
 *
 * It sends no commands, only announcements (sc_cl_publish). When a node is
 * gone it drops that origin's record in the peers map (cluster_receive.c),
 * marks its directory cache entries stale and tells request.c; it touches
 * nothing else of the other parts. */
#include "cluster_int.h"
#include "log.h"
#include "request.h"
#include "stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- liveness ------------------------------------------------------------------- */

void sc_cl_free_live(sc_cluster *c)
{
    for (size_t i = 0; i < c->nlive; i++) {
        free(c->live_ids[i]);
        free(c->live_names[i]);
    }
    for (size_t i = 0; i < c->nlive; i++)
        free(c->live_addrs[i]);
    free(c->live_ids);
    free(c->live_names);
    free(c->live_addrs);
    free(c->live_vers);
    free(c->live_feats);
    free(c->live_joined);
    c->live_ids = c->live_names = c->live_addrs = NULL;
    c->live_vers = NULL;
    c->live_feats = NULL;
    c->live_joined = NULL;
    c->nlive = 0;
}

static void forget_peer(sc_cluster *c, const char *id)
{
    sc_peer *p = sc_map_del(&c->peers, id, strlen(id));
    if (!p)
        return;
    sc_cl_notice_unlink(c, p);
    sc_buf_free(&p->notice);
    free(p);
}

/* Node info as stored in P:alive:<id>: "<len of name>:<name><address>". */
void sc_cl_parse_info(const char *s, size_t len, char **ret_name, char **ret_addr)
{
    const char *colon = memchr(s, ':', len);
    size_t nl = colon ? (size_t)strtoul(s, NULL, 10) : 0;
    if (!colon || nl > len - (size_t)(colon + 1 - s)) {
        *ret_name = sc_xstrndup(s, len);
        *ret_addr = sc_xstrdup("");
        return;
    }
    *ret_name = sc_xstrndup(colon + 1, nl);
    *ret_addr = sc_xstrndup(colon + 1 + nl, len - (size_t)(colon + 1 - s) - nl);
}

/* "<version>:<features>" as stored in P:ver:<id>; '' (a node from before
 * versioning) is version 0 without features. */
static void parse_ver(const char *s, size_t len, uint32_t *ret_version, uint64_t *ret_features)
{
    char buf[48];
    snprintf(buf, sizeof(buf), "%.*s", (int)SC_MIN(len, sizeof(buf) - 1), s);
    char *colon = strchr(buf, ':');
    *ret_version = (uint32_t)strtoul(buf, NULL, 10);
    *ret_features = colon ? strtoull(colon + 1, NULL, 10) : 0;
}

static bool reduced(const sc_cluster *c, uint32_t version, uint64_t features)
{
    uint64_t own = sc_cl_own_features(c);
    return version != SC_CLUSTER_VERSION || (features & own) != own;
}

/* Why live node i may lack bits of ours other than by being older: only
 * the private rooms' bits, because of its settings or its ACL. */
static const char *reduced_hint(const sc_cluster *c, size_t i)
{
    uint64_t own = sc_cl_own_features(c), f = c->live_feats[i];
    if (c->live_vers[i] != SC_CLUSTER_VERSION || (f | SC_FEATURES_PRIVATE) != (own | f))
        return "";
    if (!(f & SC_FEATURES_PRIVATE))
        return " (or has private_rooms = 0: socket id rooms stay subscribed)";
    if (!(f & SC_FEATURE_QUIET))
        return " (or its Redis ACL refuses the channel <prefix>:subs: socket id rooms' channels "
               "are published with every emit; allow &<prefix>:*)";
    return "";
}

/* Recompute the bits every live node has; log once when the cluster enters
 * or leaves a reduced mode because of older nodes, naming them. */
static void features_update(sc_cluster *c)
{
    uint64_t all = sc_cl_own_features(c);
    size_t nred = 0;
    for (size_t i = 0; i < c->nlive; i++) {
        all &= c->live_feats[i];
        nred += reduced(c, c->live_vers[i], c->live_feats[i]);
    }
    if (all == c->features && nred == c->nreduced)
        return;
    if (all != c->features) /* a node may have subscribed unannounced (sc_cl_quiet_on) */
        sc_cl_quiet_forget(c);
    c->features = all;
    c->nreduced = nred;
    if (!nred) {
        sc_info("every live node speaks cluster version %u with all its features (0x%" PRIx64
                "): no reduced mode",
                SC_CLUSTER_VERSION, all);
        return;
    }
    for (size_t i = 0; i < c->nlive; i++)
        if (reduced(c, c->live_vers[i], c->live_feats[i]))
            sc_warn("cluster runs in a reduced mode because of node %s (%s): cluster version %u, "
                    "features 0x%" PRIx64 " (this node: version %u, 0x%" PRIx64 "); features in "
                    "use: 0x%" PRIx64 " until it is upgraded or leaves%s",
                    SC_ESC(c->live_names[i]), SC_ESC(c->live_ids[i]), c->live_vers[i],
                    c->live_feats[i], SC_CLUSTER_VERSION, sc_cl_own_features(c), all,
                    reduced_hint(c, i));
}

/* Whether node `id` announced its departure after heartbeat `beat` was
 * sent (so that heartbeat's answer may still list it). Numbers, not times:
 * a clock step changes nothing. */
static bool departed_since(const sc_cluster *c, const char *id, uint64_t beat)
{
    for (uint32_t i = 0; i < c->ndeparted; i++)
        if (c->departed[i].at_beat > beat && strcmp(c->departed[i].id, id) == 0)
            return true;
    return false;
}

static ssize_t live_index(const sc_cluster *c, const char *id)
{
    for (size_t i = 0; i < c->nlive; i++)
        if (strcmp(c->live_ids[i], id) == 0)
            return (ssize_t)i;
    return -1;
}

bool sc_cl_live_has(const sc_cluster *c, const char *id)
{
    return live_index(c, id) >= 0;
}

uint64_t sc_cl_node_features(const sc_cluster *c, const char *id)
{
    ssize_t i = live_index(c, id);
    return i >= 0 ? c->live_feats[i] : 0;
}

bool sc_cl_live_info(const sc_cluster *c, const char *id, const char **name, const char **addr)
{
    ssize_t i = live_index(c, id);
    if (i < 0)
        return false;
    *name = c->live_names[i];
    *addr = c->live_addrs[i];
    return true;
}

/* Room for n more entries at the end of the live list. */
static void live_grow(sc_cluster *c, size_t n)
{
    size_t cap = c->nlive + n + 1;
    c->live_ids = sc_xrealloc(c->live_ids, cap * sizeof(char *));
    c->live_names = sc_xrealloc(c->live_names, cap * sizeof(char *));
    c->live_addrs = sc_xrealloc(c->live_addrs, cap * sizeof(char *));
    c->live_vers = sc_xrealloc(c->live_vers, cap * sizeof(uint32_t));
    c->live_feats = sc_xrealloc(c->live_feats, cap * sizeof(uint64_t));
    c->live_joined = sc_xrealloc(c->live_joined, cap * sizeof(uint64_t));
}

static void live_put(sc_cluster *c, char *id, char *name, char *addr, uint32_t ver, uint64_t feat,
                     uint64_t joined)
{
    size_t i = c->nlive++;
    c->live_ids[i] = id;
    c->live_names[i] = name;
    c->live_addrs[i] = addr;
    c->live_vers[i] = ver;
    c->live_feats[i] = feat;
    c->live_joined[i] = joined;
}

/* Drop the de-duplication state of origins no longer live (bounded by the
 * cluster) and mark the cache entries of gone nodes stale. */
static void live_changed(sc_cluster *c)
{
    c->live_gen++;
    features_update(c);
    sc_dircache_set_live(&c->dc, c->live_ids, c->nlive);
    for (uint32_t i = 0; i < c->peers.cap; i++) {
        sc_peer *peer = c->peers.items[i];
        if (peer && live_index(c, peer->id) < 0) {
            forget_peer(c, peer->id);
            i = (uint32_t)-1; /* the table moved: rescan (rare: a node left) */
        }
    }
}

/* The live list from a heartbeat's triples (id, info, ver), for a
 * heartbeat numbered `beat`: a node that announced its departure since is
 * left out, and one that announced its arrival since is kept (the
 * heartbeat ran before either). */
void sc_cl_live_replace(sc_cluster *c, redisReply **e, size_t n, uint64_t beat)
{
    char **old_ids = c->live_ids, **old_names = c->live_names, **old_addrs = c->live_addrs;
    uint32_t *old_vers = c->live_vers;
    uint64_t *old_feats = c->live_feats, *old_joined = c->live_joined;
    size_t nold = c->nlive;
    c->live_ids = c->live_names = c->live_addrs = NULL;
    c->live_vers = NULL;
    c->live_feats = c->live_joined = NULL;
    c->nlive = 0;
    live_grow(c, n + nold);
    for (size_t j = 0; j < n; j++) {
        char *id = sc_xstrndup(e[3 * j]->str, e[3 * j]->len), *name, *addr;
        if (departed_since(c, id, beat)) {
            free(id);
            continue;
        }
        uint32_t ver;
        uint64_t feat;
        sc_cl_parse_info(e[3 * j + 1]->str, e[3 * j + 1]->len, &name, &addr);
        parse_ver(e[3 * j + 2]->str, e[3 * j + 2]->len, &ver, &feat);
        live_put(c, id, name, addr, ver, feat, 0);
    }
    for (size_t i = 0; i < nold; i++) {
        if (live_index(c, old_ids[i]) >= 0) {
        } else if (old_joined[i] > beat) {
            live_put(c, old_ids[i], old_names[i], old_addrs[i], old_vers[i], old_feats[i],
                     old_joined[i]);
            continue; /* moved over, not freed */
        } else if (strcmp(old_ids[i], c->self) != 0) {
            sc_info("node %s (%s) left the cluster", SC_ESC(old_names[i]), SC_ESC(old_ids[i]));
            /* gone without a goodbye (killed, or cut off past node_ttl_ms):
             * requests waiting for it end now, naming it, as at their timeout */
            sc_requests_node_lost(c->srv, old_ids[i]);
        }
        free(old_ids[i]);
        free(old_names[i]);
        free(old_addrs[i]);
    }
    free(old_ids);
    free(old_names);
    free(old_addrs);
    free(old_vers);
    free(old_feats);
    free(old_joined);
    live_changed(c);
}

/* Another node announced its arrival or its clean departure: the live list
 * changes now, not at the next heartbeat. A departed node is no longer
 * waited for by any request. */
void sc_cl_handle_announce(sc_cluster *c, const sc_envelope *env)
{
    const Sidecast__Cluster__V1__Announce *an = env->announce;
    ssize_t i = live_index(c, env->origin);
    uint64_t stamp = c->beats_sent + 1; /* heartbeats up to beats_sent ran before this */
    SC_COUNT(announcements_received);
    if (an->joined) {
        /* known already (a heartbeat was first), or no heartbeat has filled
         * the list yet (it would hold the newcomer without this node: the
         * first heartbeat brings both) */
        if (i >= 0 || !c->have_live)
            return;
        live_grow(c, 1);
        live_put(c, sc_xstrdup(env->origin), sc_xstrdup(an->name ? an->name : ""),
                 sc_xstrdup(an->address ? an->address : ""), an->version, an->features, stamp);
        sc_info("node %s (%s) joined the cluster (announced)", SC_ESC(an->name ? an->name : ""),
                SC_ESC(env->origin));
        live_changed(c);
        return;
    }
    if (strlen(env->origin) < sizeof(c->departed[0].id)) {
        if (c->ndeparted == SC_ARRAY_LEN(c->departed)) { /* full: the oldest goes */
            memmove(&c->departed[0], &c->departed[1],
                    sizeof(c->departed[0]) * (SC_ARRAY_LEN(c->departed) - 1));
            c->ndeparted--;
        }
        uint32_t k = c->ndeparted++;
        snprintf(c->departed[k].id, sizeof(c->departed[k].id), "%s", env->origin);
        c->departed[k].at_beat = c->beats_sent + 1;
    }
    if (i >= 0) {
        sc_info("node %s (%s) left the cluster (announced)", SC_ESC(c->live_names[i]),
                SC_ESC(env->origin));
        free(c->live_ids[i]);
        free(c->live_names[i]);
        free(c->live_addrs[i]);
        size_t last = --c->nlive;
        c->live_ids[i] = c->live_ids[last];
        c->live_names[i] = c->live_names[last];
        c->live_addrs[i] = c->live_addrs[last];
        c->live_vers[i] = c->live_vers[last];
        c->live_feats[i] = c->live_feats[last];
        c->live_joined[i] = c->live_joined[last];
        live_changed(c);
    }
    sc_requests_node_gone(c->srv, env->origin);
}

/* Tell every node of this one's arrival (once its subscriptions, directory
 * and liveness are in place: whoever acts on it finds it whole) or its
 * departure. */
void sc_cl_announce(sc_cluster *c, bool joined)
{
    Sidecast__Cluster__V1__Announce an = SIDECAST__CLUSTER__V1__ANNOUNCE__INIT;
    an.joined = joined;
    an.name = c->srv->node_name;
    an.address = (char *)(c->cfg->advertise_address ? c->cfg->advertise_address : "");
    an.version = SC_CLUSTER_VERSION;
    an.features = sc_cl_own_features(c);
    sc_envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    env.body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_ANNOUNCE;
    env.announce = &an;
    uint8_t *buf;
    size_t len = sc_cl_pack_envelope(c, &env, &buf);
    sc_cl_publish(c, c->ch_all, buf, len, false);
    SC_COUNT(announcements_sent);
}

void sc_cl_maybe_announce(sc_cluster *c)
{
    if (c->announce_due && !c->leaving && c->sub_ready && c->dir_ready &&
        c->whole_gen == c->resync_gen && c->beats_since_resync > 0) {
        c->announce_due = false;
        sc_cl_announce(c, true);
    }
}

/* ---- the live nodes, for the rest of the daemon ----------------------------- */

size_t sc_cluster_nodes(const sc_cluster *c, const char ***ret_ids, const char ***ret_names)
{
    *ret_ids = (const char **)c->live_ids;
    *ret_names = (const char **)c->live_names;
    return c->nlive;
}

void sc_cluster_node_version(const sc_cluster *c, size_t i, uint32_t *ret_version,
                             uint64_t *ret_features)
{
    *ret_version = i < c->nlive ? c->live_vers[i] : 0;
    *ret_features = i < c->nlive ? c->live_feats[i] : 0;
}

const char *sc_cluster_node_name(const sc_cluster *c, const char *id)
{
    ssize_t i = live_index(c, id);
    return i >= 0 ? c->live_names[i] : NULL;
}

uint64_t sc_cluster_features(const sc_cluster *c)
{
    return c->features;
}

const char *sc_cluster_node_address(const sc_cluster *c, size_t i)
{
    return i < c->nlive ? c->live_addrs[i] : "";
}
