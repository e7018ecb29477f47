/* cluster_int: what the parts of the cluster module share, private to
 * them. Only broker/cluster*.c may include it (tests/fuzz/fuzz_envelope.c
 * gets it by including cluster_core.c whole); the rest of the daemon knows the
 * cluster through cluster.h alone.
 *
 * It owns struct sc_cluster and the records hanging off it, the tunables
 * more than one part reads, a few helpers (static inline) and the sc_cl_*
 * functions one part calls in another; everything else in a part is
 * static. The parts, each opening with what it owns and may not touch,
 * from the top down (a part calls only the parts below it; where a lower
 * part must reach up, it does so through the hooks in struct sc_cluster):
 *   cluster_core.c       core: lifecycle, the connections' state,
 *                        heartbeat, canary, the end of a loop iteration,
 *                        health
 *   cluster_subs.c       the channels subscribed, on each shard; the
 *                        subscribers' replies and the slot map's moves
 *   cluster_emit.c       emits to other nodes: rooms, the targeted script,
 *                        the directory cache
 *   cluster_directory.c  this node's directory in Redis; lookups and
 *                        session data
 *   cluster_bucket_emits.c  on a Redis Cluster: targeted emits the cache
 *                        cannot route, read from the directory's buckets
 *   cluster_buckets.c    on a Redis Cluster: the directory spread over
 *                        buckets (writes, forgets, markers)
 *   cluster_receive.c    the subscriber's messages: de-duplication, the
 *                        handler table, emits
 *   cluster_liveness.c   the live node list, feature bits, announcements
 *   cluster_request.c    cluster requests: starting, answering, answers
 *   cluster_notice.c     Stale notices to origins whose cache misrouted
 *   cluster_send.c       scripts, commands, publishes and their batches,
 *                        the outbox
 *   cluster_gap.c        the Gap window and the Gap frames to apps */
#ifndef SC_CLUSTER_INT_H
#define SC_CLUSTER_INT_H

#include "cluster.h"
#include "cluster.pb-c.h"
#include "dircache.h"
#include "quietset.h"
#include "redis.h"
#include "redis_sentinel.h"
#include "redis_topology.h"
#include "state.h"
#include "util.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A batch of publishes to one channel is sent once it reaches this size. */
#define BATCH_MAX_BYTES (64 * 1024)
/* Nodes with a pending batch of cache-routed emits at once; one more sends
 * them all. */
#define DIRECT_MAX_NODES 64
/* More remote socket ids in one emit: the script resolves it. */
#define DIRECT_MAX_IDS 1024
/* Stale notices (see notice_add in cluster_receive.c): ids per notice,
 * origins with one pending at once, notices per origin per second. */
#define NOTICE_MAX_IDS 256
#define NOTICE_MAX_PEERS 64
#define NOTICE_PER_SEC 100
/* Directory entries one script call of this node's own forget removes
 * (lua/forget.lua), as the reap's REAP_BUDGET: bounded in time however
 * many sockets this node holds. */
#define FORGET_BUDGET "1000"

typedef Sidecast__Cluster__V1__Envelope sc_envelope;

/* Lua scripts (cluster_send.c loads them). */
enum {
    S_TARGETED,
    S_FORGET,
    S_REAP,
    S_UNREGISTER,
    S_LOOKUP,
    S_SGET,
    S_SSET,
    S_SDROP,   /* spread_drop.lua: a Redis Cluster's directory buckets */
    S_SFORGET, /* spread_forget.lua */
    S_NDROP,   /* node_drop.lua */
    S_COUNT
};

/* Buckets of the directory on a Redis Cluster (cluster_buckets.c,
 * lua/spread.lua): part of the key layout, so fixed. */
#define SC_DIR_BUCKETS 64

/* Sequence numbers of one origin remembered below the highest seen: a
 * multi-room emit comes once per room channel, and on a Redis Cluster the
 * channels of one origin travel through different shards, so its numbers
 * arrive in order per channel only (see from_peer in cluster_receive.c). */
#define SEQ_WINDOW 4096

typedef struct sc_peer {
    uint64_t last_seq;                 /* the highest seen */
    uint64_t seen[SEQ_WINDOW / 64];    /* bit (seq % SEQ_WINDOW): seq seen */
    /* a Stale notice for this origin, sent at the end of the loop iteration */
    uint32_t notice_slot; /* 1 + index in c->notice_peers; 0: none pending */
    uint32_t notice_n;    /* ids in it */
    sc_buf notice;        /* the Stale message: socket_ids fields */
    uint64_t notice_window_ms;
    uint32_t notices_in_window;
    uint32_t len;
    char id[];
} sc_peer;

/* One node's cache-routed emits of this loop iteration (see direct_add). */
typedef struct direct_out {
    sc_dcnode *node; /* held while pending */
    sc_buf items;    /* Batch.envelopes fields */
    uint32_t n;
} direct_out;

/* One primary's connections (cluster_shard.c). Without a Redis Cluster
 * there is one, c->home. On a Redis Cluster c->home is the primary serving
 * the home slot (that of "{prefix}": every key, the node and broadcast
 * channels, the scripts); the others carry room channels only, and start
 * their subscriber once a room channel of theirs is wanted. */
typedef struct sc_shard {
    struct sc_cluster *c;
    sc_redis *pub, *sub; /* c->home: c->pub and c->sub */
    bool home;
    bool sub_started;
    bool sub_ready;       /* every channel wanted here when it came up is confirmed */
    uint64_t sub_up_us;   /* when the subscriber came up, until sub_ready (0: not) */
    char sub_error[200];  /* Redis's refusal of a SUBSCRIBE on this connection, or "" */
    char last_resub[SC_ID_MAX + 200]; /* sub_ready once this one is confirmed */
    uint32_t nsubs;       /* channels subscribed or being subscribed here */
    uint64_t publishes;
    bool scripts_loaded;  /* not home: SCRIPT LOAD sent on this publish connection */
    char addr[300];       /* "host:port" (Redis Cluster), for logs and /readyz */
} sc_shard;

typedef struct sc_sub {
    sc_shard *on;    /* where subscribed (or leaving); NULL: nowhere */
    bool want;       /* local members (or a permanent channel) */
    bool subscribed; /* SUBSCRIBE sent on the current connection */
    bool leaving;    /* UNSUBSCRIBE sent, not yet confirmed */
    bool permanent;
    /* c->ch_subs: subscribed in a command of its own, after the others,
     * and not waited for (an ACL that refuses it turns quiet rooms off
     * here, nothing else) */
    bool optional;
    uint64_t idle_since_us;
    struct sc_sub *idle_prev, *idle_next; /* idle FIFO, oldest first */
    uint32_t len;
    char name[];
} sc_sub;

typedef struct outbox_item {
    struct outbox_item *next, *prev;   /* all items, oldest first */
    int slot;                          /* a room publish's slot; -1: for the home shard */
    struct outbox_item *vnext, *vprev; /* volatile items only */
    bool is_volatile;
    size_t len;
    char *cmd; /* formatted by redisFormatCommandArgv */
} outbox_item;

struct sc_cluster {
    /* sc_now_us() of the last heartbeat Redis ran in full (or of the
     * publish connection coming up): readiness fails past node_ttl_ms */
    uint64_t beat_ok_us;
    uint64_t beat_reply_us; /* sc_now_us() of the last heartbeat answer */
    uint32_t live_gen;      /* changes of the live list (for sc_dcnode.priv_gen) */
    /* Work the parts above cluster_send.c hold back within a loop
     * iteration (directory writes; targeted and direct emits), flushed by
     * every command and publish first so that Redis sees everything in the
     * order it happened. Set by cluster_core.c. */
    void (*flush_ups)(sc_cluster *c);
    void (*flush_emits)(sc_cluster *c);
    /* cluster_directory.c sent a rewrite of this node's directory (after
     * its forget); set by cluster_core.c, which sends a heartbeat */
    void (*rewritten)(sc_cluster *c);
    sc_server *srv;
    const sc_config *cfg;
    sc_redis *pub, *sub;
    sc_shard home; /* pub and sub, and their subscriptions' state */
    /* redis[s]+cluster://: the slot map, and a shard per primary in it
     * (shards[i] for the topology's primary i; &home for the home one) */
    sc_topo *topo;
    sc_shard *shards[SC_TOPO_PRIMARIES_MAX];
    int nshards;
    uint16_t home_slot;
    /* SSUBSCRIBE and SPUBLISH, rooms on their slots' primaries: a Redis
     * Cluster with sharded pub/sub (7.0+). Cleared by sc_cl_sharded_off. */
    bool sharded;
    sc_redis_url url;         /* the parsed redis_url (Redis Cluster: for the shards) */
    sc_redis_opts popts, sopts; /* the publish and subscribe connections' options */
    /* a shard's connection came up or went down (cluster_shard.c reaches
     * the parts above it through this; set by cluster_subs.c) */
    void (*shard_state)(struct sc_cluster *c, sc_shard *sh, bool sub, bool up, const char *why);
    char home_key[160]; /* KEYS[1] of every script call: routes it to the home slot */
    /* Redis Cluster: the directory spread over buckets (cluster_buckets.c),
     * each bucket's slot; a directory command was answered MOVED or ASK (or
     * NOSCRIPT) since the last rewrite, so the next heartbeat rewrites */
    bool spread;
    bool dir_redirected;
    uint64_t resync_at_beat; /* rewrite again once this heartbeat answers (0: no) */
    bool forget_partial;     /* the last forget skipped a bucket (its primary was down) */
    int marker_rot;          /* the bucket whose marker the next heartbeat checks first */
    uint16_t bucket_slot[SC_DIR_BUCKETS];
    /* targeted emits waiting for their buckets' answers, oldest first */
    struct sc_tgt *tgt_head, *tgt_tail;
    size_t tgt_bytes;
    bool tgt_due; /* some may be publishable: sc_cl_buckets_flush looks */
    /* dead nodes being forgotten bucket by bucket */
    struct forget_job *dead_jobs[16];
    int ndead_jobs;
    bool closing;         /* sc_cluster_free: replies of freed connections start nothing */
    char room_prefix[72]; /* room channels: "prefix" (cluster: without the braces) */
    sc_tls *tls; /* rediss://, shared by pub and sub; NULL for plain text */
    sc_sentinel *sentinel; /* redis+sentinel://: where pub and sub connect; else NULL */
    char *password; /* the Redis password as last read from its file (NULL: the URL's) */
    char *sentinel_password; /* the sentinels', likewise (NULL: the setting's at start) */
    sc_arena arena; /* decoded envelopes, reset after each message */
    sc_buf pack;    /* encoded envelope; hiredis copies it when sending */
    sc_buf cmd;     /* a formatted PUBLISH, likewise copied */
    sc_buf scratch; /* ClusterEmit bytes while an envelope is built */
    /* a fetch answer being written (see fetch_flush): room for the
     * envelope's head, then the SocketList entries */
    sc_buf fetch;
    size_t fetch_head;
    /* consecutive publishes to one channel in a loop iteration, as the
     * repeated `envelopes` field of a Batch (see batch_add) */
    sc_buf batch, batch_out;
    uint32_t batch_n;
    size_t batch_chlen;
    char batch_ch[SC_ID_MAX + 200];
    /* targeted emits of this loop iteration, sent as one script call
     * (see targeted_add): their arguments' bytes, and (offset, length)
     * pairs into them */
    sc_buf tgt;
    size_t *tgt_args;
    size_t tgt_nargs, tgt_cap;
    uint32_t tgt_n;
    bool tgt_vol;
    /* the directory cache, and the cache-routed emits of this iteration:
     * one pending batch per node (nodes point at theirs with `out`) */
    sc_dircache dc;
    sc_quietset quiet; /* private rooms' channels found without subscribers */
    direct_out outs[DIRECT_MAX_NODES];
    uint32_t nouts;
    uint32_t runs;      /* switches cache <-> script in this iteration */
    uint64_t emit_mark; /* per emit, to group its ids by node */
    sc_dcnode **dnodes; /* per emit: node of each remote id, */
    uint32_t *dnext;    /* next id with the same node, */
    uint32_t *didx;     /* its `routed` index: in to.socket_ids, or past them in to.rooms */
    const char **pids;  /* per emit: ids of the private rooms of other nodes' sockets, */
    uint32_t *pidx;     /* and those rooms' indexes in to.rooms */
    size_t pids_cap;
    sc_buf dmsg;        /* one node's copy, when sent on its own */
    /* origins with a Stale notice pending */
    sc_peer *notice_peers[NOTICE_MAX_PEERS];
    uint32_t nnotice;
    /* socket ups of this loop iteration, written as one batch (a burst of
     * connects costs a few commands, not five per socket) */
    const sc_socket **ups;
    size_t nups, capups;
    bool flushing_ups;
    char prefix[72];
    char ch_node[160], ch_all[160], ch_subs[160];
    const char *self;
    uint64_t seq;
    sc_map peers;
    sc_map subs;
    sc_sub *idle_head, *idle_tail;
    /* live nodes from the last heartbeat (ids and names, owned) */
    char **live_ids, **live_names, **live_addrs;
    uint32_t *live_vers;   /* cluster protocol version of each (0: before versioning) */
    uint64_t *live_feats;  /* ClusterFeature bits of each */
    size_t nlive;
    /* 1 + beats_sent when its arrival was announced (0: learned by a
     * heartbeat): heartbeats up to that number ran before the announcement */
    uint64_t *live_joined;
    uint64_t features;     /* bits every live node has (sc_cluster_features) */
    /* private rooms (cluster_subs.c): since when every live node routes
     * them (0: not now); whether some may be unsubscribed here */
    uint64_t priv_since_us;
    bool priv_on;
    bool priv_ready; /* at the last sweep: new ones are left unsubscribed */
    /* quiet private rooms (sc_cl_quiet_on): what `quiet` and the rooms
     * here say about rooms' channels holds while this has not moved;
     * private rooms' channels confirmed since the last announcement */
    uint32_t quiet_epoch;
    uint32_t subs_to_announce;
    bool subs_ok;       /* c->ch_subs subscribed: announcements heard and sent */
    bool subs_refused;  /* a SUBSCRIBE refused before it was: quiet rooms not advertised */
    bool subs_echo_due; /* a Subscribed sent, not yet heard back (the Gap waits for it) */
    /* nodes that announced their departure lately, so that a heartbeat
     * answer sent before it does not bring them back */
    struct {
        char id[48];
        uint64_t at_beat; /* 1 + beats_sent when it was announced */
    } departed[16];
    uint32_t ndeparted;
    bool announce_due;  /* announce this node's arrival once it is whole */
    bool have_live;     /* a heartbeat has filled the live list */
    uint64_t beats_sent; /* heartbeats sent so far; each carries its number */
    uint64_t whole_gen; /* resync_gen of the last heartbeat that found it whole */
    size_t nreduced;       /* live nodes without every bit or version of ours */
    /* outbox */
    outbox_item *ob_head, *ob_tail, *ob_vhead, *ob_vtail;
    size_t ob_bytes, ob_count;
    /* timers */
    ev_timer heartbeat, canary, sweep;
    /* canary and gaps */
    uint64_t canary_pending_since; /* oldest unanswered canary, 0: none */
    bool sub_ready;                /* every shard's subscriptions confirmed */
    bool ever_up;
    bool in_gap;
    uint64_t gap_from_ms;
    char gap_reason[128];
    uint64_t last_rx_ms; /* wall time of the last message on the subscriber */
    /* this node's entries in Redis (see lua/reap.lua): written and confirmed
     * (dir_ready) since the last rewrite; heartbeats since that rewrite; the
     * wall time a heartbeat last found them whole */
    bool dir_ready;
    bool forgetting; /* a rewrite's forget is under way: directory writes wait for it */
    uint32_t dir_pings; /* confirmations of rewrites in flight */
    uint32_t beats_since_resync;
    uint64_t resync_gen; /* rewrites so far: a heartbeat sent before one is not judged */
    bool pub_was_up;     /* the publish connection has been up before */
    uint64_t dir_ok_ms;
    bool leaving, left;
    char sha[S_COUNT][41];  /* loaded scripts on the current connection */
    uint64_t loaded_gen;    /* which connection the shas belong to */
    uint64_t pub_gen;
};

typedef struct argv_buf {
    const char **argv;
    size_t *lens;
    size_t n, cap;
} argv_buf;

/* Wall-clock ms from the loop's own timestamp: no syscall per envelope. */
static inline uint64_t wall_ms_of(struct ev_loop *loop)
{
    return (uint64_t)(ev_now(loop) * 1000.0);
}
#define wall_ms() wall_ms_of(c->srv->loop)

/* session_grace_ms as a script argument */
static inline void sc_cl_grace_arg(const sc_cluster *c, char *out, size_t len)
{
    snprintf(out, len, "%" PRIu64, c->cfg->session_grace_ms);
}

/* The grace of a forget of `node`'s directory. This node's own forget
 * (but not the one of a clean stop) comes before it writes its directory again, which ends the
 * grace of the sessions still connected (PERSIST): with session_grace_ms = 0 their data would be
 * deleted first, so that forget gives it a minute instead. */
#define SC_REWRITE_GRACE_MS 60000
static inline void sc_cl_forget_grace_arg(const sc_cluster *c, const char *node, char *out,
                                          size_t len)
{
    uint64_t g = c->cfg->session_grace_ms;
    if (g == 0 && !c->leaving && strcmp(node, c->self) == 0)
        g = SC_REWRITE_GRACE_MS;
    snprintf(out, len, "%" PRIu64, g);
}

/* Both settings are read at each use, so a reload applies at once. */
static inline bool dircache_on(const sc_cluster *c)
{
    return c->cfg->dircache_ttl_ms && c->cfg->dircache_max_entries;
}

#define SC_FEATURE_PRIVATE SIDECAST__CLUSTER__V1__CLUSTER_FEATURE__CLUSTER_FEATURE_PRIVATE_ROOMS
#define SC_FEATURE_QUIET SIDECAST__CLUSTER__V1__CLUSTER_FEATURE__CLUSTER_FEATURE_QUIET_ROOMS
/* Both go with the private_rooms setting. */
#define SC_FEATURES_PRIVATE ((uint64_t)(SC_FEATURE_PRIVATE | SC_FEATURE_QUIET))

/* The ClusterFeature bits this node advertises: all it implements, less
 * private and quiet rooms when configured off (0 on one node turns them
 * off for all), and quiet rooms when Redis may have refused to subscribe
 * c->ch_subs (an ACL without it: this node could neither hear nor send
 * the announcements; cluster_subs.c). */
static inline uint64_t sc_cl_own_features(const sc_cluster *c)
{
    if (!c->cfg->private_rooms)
        return SC_CLUSTER_FEATURES & ~SC_FEATURES_PRIVATE;
    return c->subs_refused ? SC_CLUSTER_FEATURES & ~(uint64_t)SC_FEATURE_QUIET
                           : SC_CLUSTER_FEATURES;
}

/* Whether this node sends an emit to a socket.io id room (core/registry.h:
 * sc_private_room_id) also to its socket's node through the directory
 * (cluster_emit.c), when that node advertises private rooms: then that
 * node may leave the room unsubscribed (cluster_subs.c). Not on a Redis
 * Cluster, whose targeted emits read the directory's buckets
 * (cluster_bucket_emits.c): there rooms stay subscribed. */
static inline bool sc_cl_private_routes(const sc_cluster *c)
{
    return !c->spread && c->cfg->private_rooms;
}

/* Whether every live node, as the last heartbeat says, routes them. */
static inline bool sc_cl_private_all(const sc_cluster *c)
{
    return sc_cl_private_routes(c) && c->have_live && (c->features & SC_FEATURE_PRIVATE);
}

/* Whether this node may leave out the channel of a private room it found
 * without subscribers (cluster_emit.c): every live node announces its
 * subscriptions to such channels (cluster_subs.c, on c->ch_subs), and this
 * node's own subscriptions, that one included, are confirmed with no Gap
 * open. What it found is kept in c->quiet (rooms of other nodes' sockets)
 * or in the sc_room (rooms here), valid while c->quiet_epoch has not moved (an announcement, a
 * change of the live nodes' features or a Gap moves it). */
static inline bool sc_cl_quiet_on(const sc_cluster *c)
{
    return sc_cl_private_all(c) && (c->features & SC_FEATURE_QUIET) && c->sub_ready && c->subs_ok &&
           !c->in_gap && dircache_on(c);
}

/* Forget every channel found without subscribers (never 0: a room's
 * mark is 0 until something is found). */
static inline void sc_cl_quiet_forget(sc_cluster *c)
{
    if (++c->quiet_epoch == 0)
        c->quiet_epoch = 1;
}

/* Whether a Subscribed is still to reach the other nodes: channels of
 * private rooms confirmed here and not yet announced, or announced and not
 * yet heard back. Until then another node may leave those channels out
 * (it found them quiet while this node was away), so a Gap stays open. */
static inline bool sc_cl_subs_unheard(const sc_cluster *c)
{
    return !c->spread && c->cfg->private_rooms && !c->subs_refused &&
           (c->subs_to_announce || c->subs_echo_due);
}

static inline void channel_of(sc_cluster *c, char *out, size_t outlen, const char *kind,
                              const char *name)
{
    snprintf(out, outlen, "%s:%s:%s", c->prefix, kind, name);
}

/* ---- called from one part in another ------------------------------------------- */

/* cluster_subs.c */
void sc_cl_subs_init(sc_cluster *c); /* c->ch_node, ch_all and ch_subs set first */
void sc_cl_subs_free(sc_cluster *c);
/* Every sweep tick: idle rooms left, unconfirmed subscribers recycled. */
void sc_cl_subs_sweep(sc_cluster *c, uint64_t now);
/* The home subscriber's state (sc_redis_new's callback, ud = c). */
void sc_cl_on_sub_state(sc_redis *r, bool up, const char *why, void *ud);
/* A slot map came (sc_topo_new's callback, ud = c). */
void sc_cl_on_topology(void *ud, bool changed);

/* cluster_shard.c */
/* The shard a publish to or a subscription of `channel` goes to (NULL: its
 * slot has no primary known yet); *slot: its slot, or -1 for the home
 * shard's channels. */
sc_shard *sc_cl_shard_of(sc_cluster *c, const char *channel, size_t len, int *slot);
sc_shard *sc_cl_shard_of_slot(sc_cluster *c, uint16_t slot);
/* The shard whose subscriber `rc` is (NULL: none now, a freed one's late reply). */
sc_shard *sc_cl_shard_by_sub(sc_cluster *c, const sc_redis *rc);
void sc_cl_shard_start_sub(sc_cluster *c, sc_shard *sh);
/* The slot map changed: shards for new primaries, the home connections
 * moved if the home slot did. Shards no longer primaries go to old[] (up
 * to SC_TOPO_PRIMARIES_MAX; returns how many): the caller moves their
 * subscriptions away, then frees them with sc_cl_shard_free. */
int sc_cl_shards_build(sc_cluster *c, sc_shard **old);
void sc_cl_shard_free(sc_shard *sh);
/* A publish connection that is up (the home one first), for the slot map's
 * questions; NULL: none. */
sc_redis *sc_cl_shard_any_up(void *ud);
/* The cluster refused SSUBSCRIBE or SPUBLISH as unknown (Redis 6): every
 * channel goes to the home shard with classic SUBSCRIBE and PUBLISH (which
 * Redis Cluster broadcasts to all its nodes), warned once. */
void sc_cl_sharded_off(sc_cluster *c, const char *err);
/* Where the home connections go: the home slot's primary. */
bool sc_cl_home_target(void *ud, const char **host, int *port);

/* cluster_core.c */
void sc_cl_gap_begin(sc_cluster *c, uint64_t from_ms, const char *reason);
void sc_cl_maybe_end_gap(sc_cluster *c);

/* cluster_send.c */
void sc_cl_arg(argv_buf *a, const char *p, size_t len);
void sc_cl_arg_str(argv_buf *a, const char *p);
void sc_cl_arg_script(sc_cluster *c, argv_buf *a, int i);
const char *sc_cl_script_body(int i);
void sc_cl_load_scripts(sc_cluster *c);
void sc_cl_outbox_unlink(sc_cluster *c, outbox_item *it);
void sc_cl_outbox_flush(sc_cluster *c);
void sc_cl_on_cmd_reply(sc_redis *rc, void *reply, void *pd);
bool sc_cl_command(sc_cluster *c, int argc, const char **argv, const size_t *lens, bool keep,
                   bool vol, sc_redis_reply_fn *cb, void *pd);
size_t sc_cl_pack_envelope(sc_cluster *c, sc_envelope *env, uint8_t **ret);
bool sc_cl_publish_now_cb(sc_cluster *c, const char *channel, size_t chlen, const uint8_t *env,
                          size_t len, bool vol, sc_redis_reply_fn *cb, void *pd);
const uint8_t *sc_cl_batch_next(const uint8_t **p, const uint8_t *end, size_t *ret_len);
void sc_cl_batch_wrap(sc_cluster *c, const uint8_t *items, size_t len);
void sc_cl_batch_flush(sc_cluster *c);
void sc_cl_publish(sc_cluster *c, const char *channel, const uint8_t *env, size_t len, bool vol);
bool sc_cl_publish_cb(sc_cluster *c, const char *channel, const uint8_t *env, size_t len, bool vol,
                      sc_redis_reply_fn *cb, void *pd);

/* cluster_buckets.c (Redis Cluster only) */
int sc_cl_bucket(const char *key, size_t len);
void sc_cl_buckets_init(sc_cluster *c);
void sc_cl_buckets_free(sc_cluster *c);
bool sc_cl_buckets_all_up(sc_cluster *c);
/* A shard's publish connection came up (loads the bucket scripts) or went down. */
void sc_cl_buckets_shard_up(sc_cluster *c, sc_shard *sh);
void sc_cl_buckets_shard_down(sc_cluster *c, sc_shard *sh);
/* This node's entries of sockets that came, or of one that left (heir:
 * another socket of its session on this node, or NULL). */
void sc_cl_buckets_write(sc_cluster *c, const sc_socket **socks, size_t n);
void sc_cl_buckets_drop(sc_cluster *c, const sc_socket *s, const sc_socket *heir);
/* This node's forget of every bucket, then done (unless a newer rewrite
 * started meanwhile); buckets whose primary is down are skipped. */
void sc_cl_buckets_forget_self(sc_cluster *c, void (*done)(sc_cluster *c));
/* Dead nodes named by the heartbeat (lua/reap.lua): forgotten bucket by
 * bucket, then dropped from the node list. */
void sc_cl_buckets_reap(sc_cluster *c, redisReply **ids, size_t n);
int sc_cl_buckets_confirm(sc_cluster *c, sc_redis_reply_fn *cb, void *pd);
/* cluster_bucket_emits.c (Redis Cluster only) */
/* A targeted emit not routed by the cache: read from the buckets, then
 * published to each owner node, after the emits before it. */
void sc_cl_buckets_targeted(sc_cluster *c, const uint8_t *env, size_t len, const char *const *ids,
                            size_t n_ids, const char *const *users, size_t n_users, bool vol);
bool sc_cl_buckets_busy(const sc_cluster *c);
/* End of a loop iteration: the targeted emits answered meanwhile are
 * published, a Batch per node. */
void sc_cl_buckets_flush(sc_cluster *c);
/* Reads of waiting targeted emits sent again (a primary came up, the slot
 * map was read, the sweep's tick). */
void sc_cl_buckets_retry(sc_cluster *c);
/* Whether shard sh serves any bucket. */
bool sc_cl_buckets_on(sc_cluster *c, const sc_shard *sh);
/* The markers: written by each rewrite, checked by each heartbeat (a few
 * per heartbeat; one gone sets c->dir_redirected). */
void sc_cl_buckets_mark(sc_cluster *c);
void sc_cl_buckets_check(sc_cluster *c);
/* A NOSCRIPT from a bucket's primary (rc): its scripts loaded again, the
 * directory rewritten at the next heartbeat. Anything else: nothing. */
void sc_cl_buckets_noscript(sc_cluster *c, sc_redis *rc, const redisReply *r);
/* Send a script call or command to the bucket of `bkey` (its primary);
 * false when that connection is down (cb never runs). */
bool sc_cl_bucket_call(sc_cluster *c, int b, int script, const char *key, argv_buf *args,
                       sc_redis_reply_fn *cb, void *pd);
bool sc_cl_bucket_command(sc_cluster *c, int b, const argv_buf *a, sc_redis_reply_fn *cb, void *pd);
void sc_cl_bucket_name(const sc_cluster *c, int b, char *out, size_t len);
/* "<len>:<bytes>" at *pos of an entry's value (advanced past it): a copy,
 * or NULL if malformed. */
char *sc_cl_lp_take(const char *s, size_t len, size_t *pos);

/* cluster_directory.c */
void sc_cl_check_noscript(sc_cluster *c, const redisReply *r);
void sc_cl_flush_ups(sc_cluster *c);

/* Forget this node's directory in bounded script calls, then call done
 * (not if the connection drops or a newer rewrite starts meanwhile). */
void sc_cl_forget_self(sc_cluster *c, void (*done)(sc_cluster *c));
void sc_cl_directory_resync(sc_cluster *c);

/* cluster_liveness.c */
void sc_cl_free_live(sc_cluster *c);
/* Whether node `id` is in the live list; its name and address if so. */
bool sc_cl_live_has(const sc_cluster *c, const char *id);
/* The ClusterFeature bits live node `id` advertises (0: not live). O(nodes). */
uint64_t sc_cl_node_features(const sc_cluster *c, const char *id);
bool sc_cl_live_info(const sc_cluster *c, const char *id, const char **name, const char **addr);
void sc_cl_parse_info(const char *s, size_t len, char **ret_name, char **ret_addr);
void sc_cl_live_replace(sc_cluster *c, redisReply **e, size_t n, uint64_t beat);
void sc_cl_handle_announce(sc_cluster *c, const sc_envelope *env);
void sc_cl_announce(sc_cluster *c, bool joined);
void sc_cl_maybe_announce(sc_cluster *c);

/* cluster_receive.c */
void sc_cl_notice_add(sc_cluster *c, sc_peer *peer, const char *id);
void sc_cl_notice_unlink(sc_cluster *c, sc_peer *peer);
void sc_cl_notices_flush(sc_cluster *c);
/* Publish a Subscribed on c->ch_subs if private rooms' channels were
 * confirmed since the last one (c->subs_to_announce). */
void sc_cl_subscribed_flush(sc_cluster *c);
void sc_cl_on_message(sc_cluster *c, const char *channel, const uint8_t *p, size_t len);

/* cluster_request.c */
void sc_cl_handle_request(sc_cluster *c, const sc_envelope *env);
void sc_cl_handle_response(sc_cluster *c, const sc_envelope *env);
bool sc_cl_require_redis(sc_cluster *c, sc_conn *from, uint64_t frame_id, const char *what);

/* cluster_emit.c */
void sc_cl_targeted_flush(sc_cluster *c);
void sc_cl_direct_flush(sc_cluster *c);

#endif
