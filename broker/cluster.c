/* cluster: Redis pub/sub transport between sidecars, node liveness, the
 * socket directory, interest-based room subscriptions, the outbox and the
 * pub/sub canary; targeted emits routed by the directory cache (the cache
 * itself is dircache.c) and the Stale notices that keep it honest. Requests
 * and acks are in request.c; this file carries them between nodes. */
#include "cluster.h"
#include "credentials.h"
#include "cluster.pb-c.h"
#include "conn.h"
#include "dircache.h"
#include "dispatch.h"
#include "log.h"
#include "lua_scripts.h"
#include "metrics.h"
#include "redis.h"
#include "request.h"
#include "server.h"
#include "stats.h"
#include "util.h"

#include <errno.h>
#include <hiredis/sds.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define M(name) SIDECAST__V1__FRAME__MSG_##name
#define RESYNC_BATCH 256
#define SUBSCRIBE_BATCH 256
#define CHUNK_BYTES (256 * 1024)
/* Most bytes one emit may publish as per-room copies (see sc_cluster_emit). */
#define FANOUT_BUDGET (1024 * 1024)
/* A batch of publishes to one channel is sent once it reaches this size. */
#define BATCH_MAX_BYTES (64 * 1024)
/* Nodes with a pending batch of cache-routed emits at once; one more sends
 * them all. */
#define DIRECT_MAX_NODES 64
/* Switches between cache-routed emits and the directory script in one loop
 * iteration; past this the rest of the iteration stays in one script call
 * (each switch costs one command per node, see direct_route). */
#define DIRECT_MAX_RUNS 4
/* More remote socket ids in one emit: the script resolves it. */
#define DIRECT_MAX_IDS 1024
/* Stale notices (see notice_add): ids per notice, origins with one pending
 * at once, notices per origin per second. */
#define NOTICE_MAX_IDS 256
#define NOTICE_MAX_PEERS 64
#define NOTICE_PER_SEC 100

typedef Sidecast__Cluster__V1__Envelope sc_envelope;

/* lua/targeted.lua writes version 1 into its batches. */
_Static_assert(SC_CLUSTER_VERSION == 1, "lua/targeted.lua writes version 1 into its batches");

_Static_assert(SC_CLUSTER_FEATURES ==
                   (SIDECAST__CLUSTER__V1__CLUSTER_FEATURE__CLUSTER_FEATURE_UNSUPPORTED_ANSWER |
                    SIDECAST__CLUSTER__V1__CLUSTER_FEATURE__CLUSTER_FEATURE_ANNOUNCE),
               "SC_CLUSTER_FEATURES names every ClusterFeature this file implements");

/* Lua scripts, see below. */
enum { S_TARGETED, S_FORGET, S_REAP, S_UNREGISTER, S_LOOKUP, S_SGET, S_SSET, S_COUNT };

typedef struct sc_peer {
    uint64_t last_seq;
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
    direct_out outs[DIRECT_MAX_NODES];
    uint32_t nouts;
    uint32_t runs;      /* switches cache <-> script in this iteration */
    uint64_t emit_mark; /* per emit, to group its ids by node */
    sc_dcnode **dnodes; /* per emit: node of each remote id, */
    uint32_t *dnext;    /* next id with the same node, */
    uint32_t *didx;     /* index of the id in to.socket_ids */
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
    char ch_node[160], ch_all[160];
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
    bool sub_ready;                /* node channel subscription confirmed */
    bool ever_up;
    bool in_gap;
    uint64_t gap_from_ms;
    char gap_reason[128];
    uint64_t last_rx_ms; /* wall time of the last message on the subscriber */
    /* this node's entries in Redis (see lua/reap.lua): written and confirmed
     * (dir_ready) since the last rewrite; heartbeats since that rewrite; the
     * wall time a heartbeat last found them whole */
    bool dir_ready;
    uint32_t dir_pings; /* confirmations of rewrites in flight */
    uint32_t beats_since_resync;
    uint64_t resync_gen; /* rewrites so far: a heartbeat sent before one is not judged */
    bool pub_was_up;     /* the publish connection has been up before */
    uint64_t dir_ok_ms;
    bool leaving, left;
    char sha[S_COUNT][41];  /* loaded scripts on the current connection */
    uint64_t loaded_gen;    /* which connection the shas belong to */
    uint64_t pub_gen;
    char last_resub[SC_ID_MAX + 200]; /* gap ends when this one is confirmed */
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

/* Wall-clock ms from the loop's own timestamp: no syscall per envelope. */
static uint64_t wall_ms_of(struct ev_loop *loop)
{
    return (uint64_t)(ev_now(loop) * 1000.0);
}
#define wall_ms() wall_ms_of(c->srv->loop)

/* Both settings are read at each use, so a reload applies at once. */
static bool dircache_on(const sc_cluster *c)
{
    return c->cfg->dircache_ttl_ms && c->cfg->dircache_max_entries;
}

/* ---- Lua scripts (run atomically in Redis) -------------------------------- */

/* broker/lua/<name>.lua, embedded at build time (lua_scripts.h): each file
 * says what its ARGV and answer are. */

/* Scripts are sent with EVAL until SCRIPT LOAD has answered on the current
 * publish connection, then with EVALSHA: Redis no longer hashes a 500-byte
 * body per call. The load is the connection's first command, so every
 * EVALSHA after it finds the script. */

static const char **script_body(int i)
{
    static const char *bodies[S_COUNT];
    if (!bodies[0]) {
        bodies[S_TARGETED] = sc_lua_targeted;
        bodies[S_FORGET] = sc_lua_forget;
        bodies[S_REAP] = sc_lua_reap;
        bodies[S_UNREGISTER] = sc_lua_unregister;
        bodies[S_LOOKUP] = sc_lua_lookup;
        bodies[S_SGET] = sc_lua_session_get;
        bodies[S_SSET] = sc_lua_session_set;
    }
    return &bodies[i];
}

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
    /* counted on arrival, so that queued = flushed + dropped_* + still held */
    SC_COUNT(outbox_queued);
    while (len <= max && c->ob_bytes + len > max && c->ob_vhead && !vol) {
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
}

static void on_cmd_reply(redisAsyncContext *ac, void *reply, void *pd);

static void outbox_flush(sc_cluster *c)
{
    redisAsyncContext *ac = sc_redis_ctx(c->pub);
    size_t n = 0;
    while (ac && c->ob_head) {
        outbox_item *it = c->ob_head;
        if (sc_redis_command_formatted(c->pub, on_cmd_reply, NULL, it->cmd, it->len) < 0)
            break; /* being torn down: kept for the next connection */
        outbox_unlink(c, it);
        n++;
    }
    if (n) {
        SC_COUNT_N(outbox_flushed, n);
        sc_info("redis is back: sent %zu queued cluster message(s)", n);
    }
}

/* Default reply handler: a command whose reply is an error, or that was
 * still unanswered when its connection was dropped, is counted and logged. */
static void on_cmd_reply(redisAsyncContext *ac, void *reply, void *pd)
{
    redisReply *r = reply;
    if (!r) {
        SC_COUNT(redis_commands_lost);
        return;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        SC_COUNT(redis_errors);
        sc_log_limited(SC_LOG_WARN, "redis refused a command: %s", SC_ESC(r->str));
    }
}

/* Send a command now, or keep it for later if `keep` (emits); directory
 * writes are not kept: the resync after reconnecting rewrites them. */
static void flush_ups(sc_cluster *c);
static void batch_flush(sc_cluster *c);
static void targeted_flush(sc_cluster *c);
static void direct_flush(sc_cluster *c);

static bool command(sc_cluster *c, int argc, const char **argv, const size_t *lens, bool keep,
                    bool vol, redisCallbackFn *cb, void *pd)
{
    flush_ups(c); /* every later command sees the sockets registered before it */
    batch_flush(c);
    targeted_flush(c);
    direct_flush(c);
    if (sc_redis_ctx(c->pub) &&
        sc_redis_command_argv(c->pub, cb ? cb : on_cmd_reply, pd, argc, argv, lens) == 0) {
        SC_COUNT(redis_commands);
        return true;
    }
    if (!keep)
        return false;
    char *cmd;
    int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
    if (len > 0)
        outbox_push(c, cmd, (size_t)len, vol);
    return false;
}

static size_t pack_envelope(sc_cluster *c, sc_envelope *env, uint8_t **ret)
{
    env->origin = (char *)c->self;
    env->version = SC_CLUSTER_VERSION;
    env->seq = ++c->seq;
    env->sent_unix_ms = wall_ms();
    size_t len = sidecast__cluster__v1__envelope__get_packed_size(env);
    c->pack.off = c->pack.len = 0;
    uint8_t *buf = sc_buf_reserve(&c->pack, len ? len : 1);
    sidecast__cluster__v1__envelope__pack(env, buf);
    *ret = buf;
    return len;
}

/* PUBLISH is the hot command: format its RESP by hand into a reused buffer
 * (hiredis' generic argv formatter was a fifth of the publishing node's CPU). */
static size_t publish_format(sc_cluster *c, const char *channel, size_t chlen, const uint8_t *env,
                             size_t len, char **ret)
{
    c->cmd.off = c->cmd.len = 0;
    char *p = (char *)sc_buf_reserve(&c->cmd, chlen + len + 64);
    int n = sprintf(p, "*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n", chlen);
    memcpy(p + n, channel, chlen);
    n += (int)chlen;
    n += sprintf(p + n, "\r\n$%zu\r\n", len);
    memcpy(p + n, env, len);
    n += (int)len;
    memcpy(p + n, "\r\n", 2);
    *ret = p;
    return (size_t)n + 2;
}

/* Returns true when hiredis took it (cb will run with pd), false when it
 * went to the outbox (cb never runs; the caller still owns pd). No cb: a
 * quiet command, whose reply only an error makes matter (sc_redis_send_quiet). */
static bool publish_now_cb(sc_cluster *c, const char *channel, size_t chlen, const uint8_t *env,
                           size_t len, bool vol, redisCallbackFn *cb, void *pd)
{
    char *p;
    size_t n = publish_format(c, channel, chlen, env, len, &p);
    SC_COUNT(redis_publishes);
    if (sc_redis_ctx(c->pub) && (cb ? sc_redis_command_formatted(c->pub, cb, pd, p, n)
                                    : sc_redis_send_quiet(c->pub, p, n)) == 0) {
        SC_COUNT(redis_commands);
        return true;
    }
    char *copy = sc_xmalloc(n);
    memcpy(copy, p, n);
    outbox_push(c, copy, n, vol);
    return false;
}

/* A publish whose reply tells nothing but errors (rooms, broadcasts,
 * requests): quiet, see sc_redis_send_quiet. */
static void publish_now(sc_cluster *c, const char *channel, size_t chlen, const uint8_t *env,
                        size_t len, bool vol)
{
    publish_now_cb(c, channel, chlen, env, len, vol, NULL, NULL);
}

/* Read the varint at *p (bounded by end); advances *p. -1 if malformed. */
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
    uint64_t v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *ret = v;
            return 0;
        }
    }
    return -1;
}

/* Walk the envelopes of c->batch (entries we wrote: tag 1, length, bytes). */
static const uint8_t *batch_next(const uint8_t **p, const uint8_t *end, size_t *ret_len)
{
    uint64_t tag, len;
    if (read_varint(p, end, &tag) < 0 || read_varint(p, end, &len) < 0 ||
        len > (uint64_t)(end - *p))
        return NULL;
    const uint8_t *body = *p;
    *p += len;
    *ret_len = (size_t)len;
    return body;
}

/* Wrap encoded Batch.envelopes fields into a Batch envelope, in c->batch_out. */
static void batch_wrap(sc_cluster *c, const uint8_t *items, size_t len)
{
    c->batch_out.off = c->batch_out.len = 0;
    sc_wire_put_bytes_field(&c->batch_out, SC_ENV_ORIGIN, c->self, strlen(c->self));
    sc_wire_put_varint_field(&c->batch_out, SC_ENV_VERSION, SC_CLUSTER_VERSION);
    sc_wire_put_bytes_field(&c->batch_out, SIDECAST__CLUSTER__V1__ENVELOPE__BODY_BATCH, items, len);
}

/* Send the pending batch: one envelope as it is, several wrapped in one
 * Batch envelope, so a burst to one channel costs Redis one PUBLISH and
 * the subscribers one message. If Redis went away meanwhile, each envelope
 * goes to the outbox on its own, so drops there stay counted per message. */
static void batch_flush(sc_cluster *c)
{
    if (!c->batch_n)
        return;
    const uint8_t *p = c->batch.data, *end = p + c->batch.len, *env;
    size_t len;
    if (c->batch_n == 1 || !sc_redis_ctx(c->pub)) {
        while (p < end && (env = batch_next(&p, end, &len)))
            publish_now(c, c->batch_ch, c->batch_chlen, env, len, false);
    } else {
        batch_wrap(c, c->batch.data, c->batch.len);
        publish_now(c, c->batch_ch, c->batch_chlen, c->batch_out.data, c->batch_out.len, false);
        SC_COUNT(cluster_batches_sent);
        SC_COUNT_N(cluster_batched_envelopes, c->batch_n);
    }
    c->batch_n = 0;
    c->batch.off = c->batch.len = 0;
    sc_buf_shrink(&c->batch, BATCH_MAX_BYTES);
}

/* Publish an envelope. While Redis is up, consecutive envelopes for the
 * same channel are held until the loop is about to sleep (sc_cluster_flush)
 * or another command or channel comes: order between channels and commands
 * is kept, which the receivers' seq de-duplication relies on. */
static void publish(sc_cluster *c, const char *channel, const uint8_t *env, size_t len, bool vol)
{
    flush_ups(c);
    targeted_flush(c);
    direct_flush(c);
    size_t chlen = strlen(channel);
    if (!sc_redis_ctx(c->pub) || len > BATCH_MAX_BYTES) {
        batch_flush(c);
        publish_now(c, channel, chlen, env, len, vol);
        return;
    }
    if (c->batch_n && (chlen != c->batch_chlen || memcmp(channel, c->batch_ch, chlen) != 0 ||
                       c->batch.len + len + 16 > BATCH_MAX_BYTES))
        batch_flush(c);
    if (!c->batch_n) {
        memcpy(c->batch_ch, channel, chlen + 1);
        c->batch_chlen = chlen;
    }
    sc_wire_put_bytes_field(&c->batch, 1, env, len);
    c->batch_n++;
}

static void channel_of(sc_cluster *c, char *out, size_t outlen, const char *kind, const char *name)
{
    snprintf(out, outlen, "%s:%s:%s", c->prefix, kind, name);
}

/* ---- directory ------------------------------------------------------------------- */

/* "<len of sid>:<sid><uid>": any bytes in the ids survive the round trip */
static size_t socket_meta(const sc_socket *s, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%u:%s%s", (unsigned)s->sid_len, sc_socket_sid(s),
                     sc_socket_uid(s));
    return n < 0 ? 0 : SC_MIN((size_t)n, outlen - 1);
}

typedef struct argv_buf {
    const char **argv;
    size_t *lens;
    size_t n, cap;
} argv_buf;

static void arg(argv_buf *a, const char *p, size_t len)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 64;
        a->argv = sc_xrealloc(a->argv, a->cap * sizeof(char *));
        a->lens = sc_xrealloc(a->lens, a->cap * sizeof(size_t));
    }
    a->argv[a->n] = p;
    a->lens[a->n++] = len;
}

static void arg_str(argv_buf *a, const char *p)
{
    arg(a, p, strlen(p));
}

/* EVALSHA <sha> or EVAL <body>, then numkeys 0. */
static void arg_script(sc_cluster *c, argv_buf *a, int i)
{
    bool loaded = c->sha[i][0] && c->loaded_gen == c->pub_gen && sc_redis_is_up(c->pub);
    arg_str(a, loaded ? "EVALSHA" : "EVAL");
    arg_str(a, loaded ? c->sha[i] : *script_body(i));
    arg_str(a, "0");
}

typedef struct load_ctx {
    sc_cluster *c;
    int i;
    uint64_t gen;
} load_ctx;

static void on_script_loaded(redisAsyncContext *ac, void *reply, void *pd)
{
    load_ctx *lc = pd;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_STRING && r->len == 40 && lc->gen == lc->c->pub_gen) {
        memcpy(lc->c->sha[lc->i], r->str, 40);
        lc->c->sha[lc->i][40] = 0;
        lc->c->loaded_gen = lc->gen;
    } else if (r && r->type == REDIS_REPLY_ERROR) {
        SC_COUNT(redis_errors);
        sc_log_limited(SC_LOG_WARN, "redis refused SCRIPT LOAD: %s (using EVAL)", SC_ESC(r->str));
    }
    free(lc);
}

static void load_scripts(sc_cluster *c)
{
    for (int i = 0; i < S_COUNT; i++) {
        c->sha[i][0] = 0;
        load_ctx *lc = sc_xmalloc(sizeof(*lc));
        *lc = (load_ctx){c, i, c->pub_gen};
        const char *argv[] = {"SCRIPT", "LOAD", *script_body(i)};
        size_t lens[] = {6, 4, strlen(*script_body(i))};
        command(c, 3, argv, lens, false, false, on_script_loaded, lc);
    }
}

static void directory_resync(sc_cluster *c);
static void gap_begin(sc_cluster *c, uint64_t from_ms, const char *reason);

/* Redis lost the scripts (SCRIPT FLUSH, or a failover to a replica that
 * never loaded them): EVALSHA fails with NOSCRIPT until they are loaded
 * again. Back to EVAL at once, load them again, and rewrite the directory
 * (socket downs refused meanwhile left entries behind). The refused
 * commands themselves are counted in redis_errors by their handlers. */
static void check_noscript(sc_cluster *c, const redisReply *r)
{
    if (!r || r->type != REDIS_REPLY_ERROR || strncmp(r->str, "NOSCRIPT", 8) != 0 ||
        c->loaded_gen != c->pub_gen)
        return;
    c->loaded_gen = 0; /* no connection has generation 0 once up */
    SC_COUNT(redis_scripts_reloaded);
    sc_warn("redis no longer knows sidecast's scripts (SCRIPT FLUSH or a failover): loading them "
            "again and rewriting this node's directory");
    load_scripts(c);
    if (c->ever_up) /* lookups between the forget and the writes find nothing */
        gap_begin(c, wall_ms(), "redis lost sidecast's scripts; directory rewritten");
    directory_resync(c);
}

/* Reply handler of directory commands: on_cmd_reply, plus NOSCRIPT. */
static void on_dir_reply(redisAsyncContext *ac, void *reply, void *pd)
{
    check_noscript(pd, reply);
    on_cmd_reply(ac, reply, NULL);
}

static void argv_send(sc_cluster *c, argv_buf *a, bool keep, bool vol)
{
    if (a->n)
        command(c, (int)a->n, a->argv, a->lens, keep, vol, on_dir_reply, c);
    a->n = 0;
}

/* Directory writes for a batch of sockets: a few pipelined commands. */
static void hset_batch(sc_cluster *c, const sc_socket **socks, size_t n)
{
    char key[160], setkey[200], sesskey[160];
    snprintf(key, sizeof(key), "%s:sockets", c->prefix);
    snprintf(setkey, sizeof(setkey), "%s:nodesock:%s", c->prefix, c->self);
    snprintf(sesskey, sizeof(sesskey), "%s:sessions", c->prefix);
    char(*metas)[160] = sc_xmalloc(sizeof(*metas) * n);
    argv_buf a = {0};
    arg_str(&a, "HSET");
    arg_str(&a, key);
    for (size_t i = 0; i < n; i++) {
        arg(&a, sc_socket_id(socks[i]), socks[i]->id_len);
        arg_str(&a, c->self);
    }
    argv_send(c, &a, false, false);
    arg_str(&a, "HSET");
    arg_str(&a, setkey);
    for (size_t i = 0; i < n; i++) {
        arg(&a, sc_socket_id(socks[i]), socks[i]->id_len);
        arg(&a, metas[i], socket_meta(socks[i], metas[i], sizeof(metas[i])));
    }
    argv_send(c, &a, false, false);
    arg_str(&a, "HSET");
    arg_str(&a, sesskey);
    for (size_t i = 0; i < n; i++)
        if (socks[i]->sid_len) {
            arg(&a, sc_socket_sid(socks[i]), socks[i]->sid_len);
            arg(&a, sc_socket_id(socks[i]), socks[i]->id_len);
        }
    if (a.n > 2)
        argv_send(c, &a, false, false);
    a.n = 0;
    char ukey[SC_ID_MAX + 100], dkey[SC_ID_MAX + 100];
    for (size_t i = 0; i < n; i++) {
        if (socks[i]->uid_len) {
            snprintf(ukey, sizeof(ukey), "%s:user:%s", c->prefix, sc_socket_uid(socks[i]));
            const char *sa[] = {"SADD", ukey, sc_socket_id(socks[i])};
            size_t sl[] = {4, strlen(ukey), socks[i]->id_len};
            command(c, 3, sa, sl, false, false, NULL, NULL);
        }
        if (socks[i]->sid_len) { /* connected again: the data no longer expires */
            snprintf(dkey, sizeof(dkey), "%s:sdata:%s", c->prefix, sc_socket_sid(socks[i]));
            const char *pa[] = {"PERSIST", dkey};
            size_t pl[] = {7, strlen(dkey)};
            command(c, 2, pa, pl, false, false, NULL, NULL);
        }
    }
    free(a.argv);
    free(a.lens);
    free(metas);
}

static void flush_ups(sc_cluster *c)
{
    if (c->nups == 0 || c->flushing_ups)
        return;
    c->flushing_ups = true; /* hset_batch sends through command() */
    for (size_t i = 0; i < c->nups; i += RESYNC_BATCH)
        hset_batch(c, c->ups + i, SC_MIN((size_t)RESYNC_BATCH, c->nups - i));
    c->nups = 0;
    c->flushing_ups = false;
}

void sc_cluster_socket_up(sc_cluster *c, const sc_socket *s)
{
    if (!c || c->leaving)
        return;
    if (c->nups == c->capups) {
        c->capups = c->capups ? c->capups * 2 : 64;
        c->ups = sc_xrealloc(c->ups, c->capups * sizeof(*c->ups));
    }
    c->ups[c->nups++] = s;
    if (c->nups >= RESYNC_BATCH)
        flush_ups(c);
}

static void grace_arg(const sc_cluster *c, char *out, size_t len)
{
    snprintf(out, len, "%" PRIu64, c->cfg->session_grace_ms);
}

void sc_cluster_socket_down(sc_cluster *c, const sc_socket *s)
{
    if (!c || c->leaving)
        return;
    char grace[24];
    grace_arg(c, grace, sizeof(grace));
    argv_buf a = {0};
    arg_script(c, &a, S_UNREGISTER);
    arg_str(&a, c->prefix);
    arg_str(&a, c->self);
    arg(&a, sc_socket_id(s), s->id_len);
    arg_str(&a, grace);
    const sc_socket *heir = sc_registry_session_other(s);
    arg(&a, heir ? sc_socket_id(heir) : "", heir ? heir->id_len : 0);
    argv_send(c, &a, false, false);
    free(a.argv);
    free(a.lens);
}

/* Remove this node's directory entries (those still pointing at it). */
static void forget_self(sc_cluster *c)
{
    char grace[24];
    grace_arg(c, grace, sizeof(grace));
    argv_buf a = {0};
    arg_script(c, &a, S_FORGET);
    arg_str(&a, c->prefix);
    arg_str(&a, c->self);
    arg_str(&a, grace);
    argv_send(c, &a, false, false);
    free(a.argv);
    free(a.lens);
}

static void maybe_end_gap(sc_cluster *c);
static void maybe_announce(sc_cluster *c);

/* A PING after a rewrite: Redis answers in order, so its reply means every
 * write of the rewrite before it is done. */
static void on_dir_written(redisAsyncContext *ac, void *reply, void *pd)
{
    sc_cluster *c = pd;
    c->dir_pings--;
    if (!reply || c->dir_pings > 0)
        return; /* lost with its connection (rewritten on the next), or not the last */
    c->dir_ready = true;
    maybe_end_gap(c);
    maybe_announce(c);
}

/* After (re)connecting, or when a heartbeat found this node's entries gone:
 * forget what Redis may still hold for this node and write every local
 * socket again, plus the directory's marker field, so an emptied Redis
 * (restart without persistence, FLUSHALL) or entries reaped during a stall
 * are repaired. Until Redis confirms it, dir_ready is false (a Gap open now
 * stays open, /readyz says not ready). */
static void directory_resync(sc_cluster *c)
{
    c->nups = 0; /* the resync writes every socket anyway */
    c->dir_ready = false;
    c->beats_since_resync = 0;
    c->resync_gen++;
    c->announce_due = true; /* peers may have dropped this node meanwhile */
    if (c->leaving)
        return;
    forget_self(c);
    char setkey[200];
    snprintf(setkey, sizeof(setkey), "%s:nodesock:%s", c->prefix, c->self);
    const char *ma[] = {"HSET", setkey, "", "0:"};
    size_t ml[] = {4, strlen(setkey), 0, 2};
    command(c, 4, ma, ml, false, false, NULL, NULL);
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
    const char *pa[] = {"PING"};
    size_t pl[] = {4};
    if (command(c, 1, pa, pl, false, false, on_dir_written, c))
        c->dir_pings++;
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

static void notice_unlink(sc_cluster *c, sc_peer *peer);

static void forget_peer(sc_cluster *c, const char *id)
{
    sc_peer *p = sc_map_del(&c->peers, id, strlen(id));
    if (!p)
        return;
    notice_unlink(c, p);
    sc_buf_free(&p->notice);
    free(p);
}

/* Node info as stored in P:alive:<id>: "<len of name>:<name><address>". */
static void parse_info(const char *s, size_t len, char **ret_name, char **ret_addr)
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

static bool reduced(uint32_t version, uint64_t features)
{
    return version != SC_CLUSTER_VERSION || (features & SC_CLUSTER_FEATURES) != SC_CLUSTER_FEATURES;
}

/* Recompute the bits every live node has; log once when the cluster enters
 * or leaves a reduced mode because of older nodes, naming them. */
static void features_update(sc_cluster *c)
{
    uint64_t all = SC_CLUSTER_FEATURES;
    size_t nred = 0;
    for (size_t i = 0; i < c->nlive; i++) {
        all &= c->live_feats[i];
        nred += reduced(c->live_vers[i], c->live_feats[i]);
    }
    if (all == c->features && nred == c->nreduced)
        return;
    c->features = all;
    c->nreduced = nred;
    if (!nred) {
        sc_info("every live node speaks cluster version %u with all its features (0x%" PRIx64
                "): no reduced mode",
                SC_CLUSTER_VERSION, all);
        return;
    }
    for (size_t i = 0; i < c->nlive; i++)
        if (reduced(c->live_vers[i], c->live_feats[i]))
            sc_warn("cluster runs in a reduced mode because of node %s (%s): cluster version %u, "
                    "features 0x%" PRIx64 " (this node: version %u, 0x%" PRIx64 "); features in "
                    "use: 0x%" PRIx64 " until it is upgraded or leaves",
                    SC_ESC(c->live_names[i]), SC_ESC(c->live_ids[i]), c->live_vers[i],
                    c->live_feats[i], SC_CLUSTER_VERSION, SC_CLUSTER_FEATURES, all);
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
static void live_replace(sc_cluster *c, redisReply **e, size_t n, uint64_t beat)
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
        parse_info(e[3 * j + 1]->str, e[3 * j + 1]->len, &name, &addr);
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
static void handle_announce(sc_cluster *c, const sc_envelope *env)
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
static void announce(sc_cluster *c, bool joined)
{
    Sidecast__Cluster__V1__Announce an = SIDECAST__CLUSTER__V1__ANNOUNCE__INIT;
    an.joined = joined;
    an.name = c->srv->node_name;
    an.address = (char *)(c->cfg->advertise_address ? c->cfg->advertise_address : "");
    an.version = SC_CLUSTER_VERSION;
    an.features = SC_CLUSTER_FEATURES;
    sc_envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    env.body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_ANNOUNCE;
    env.announce = &an;
    uint8_t *buf;
    size_t len = pack_envelope(c, &env, &buf);
    publish(c, c->ch_all, buf, len, false);
    SC_COUNT(announcements_sent);
}

static void maybe_announce(sc_cluster *c)
{
    if (c->announce_due && !c->leaving && c->sub_ready && c->dir_ready &&
        c->whole_gen == c->resync_gen && c->beats_since_resync > 0) {
        c->announce_due = false;
        announce(c, true);
    }
}

static void gap_begin(sc_cluster *c, uint64_t from_ms, const char *reason);

/* A heartbeat in flight: when it was sent, and whether it was the first
 * since this node's directory was (re)written. */
typedef struct beat_pd {
    sc_cluster *c;
    uint64_t sent_ms;
    uint64_t beat;       /* its number (c->beats_sent) */
    uint64_t resync_gen; /* c->resync_gen when sent */
    bool first;
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
     * (first start, or a long outage); the marker it must find */
    if (marker && (bp->first || (alive && member))) {
        c->dir_ok_ms = bp->sent_ms;
        c->whole_gen = c->resync_gen;
        return;
    }
    const char *what = !marker && !alive ? "liveness and directory are gone from redis (reaped "
                                           "after a stall past node_ttl_ms, or redis was wiped)"
                       : !marker         ? "directory is gone from redis (keys deleted or evicted)"
                       : !member         ? "entry in the node list is gone from redis"
                                         : "liveness expired (a stall past node_ttl_ms)";
    SC_COUNT(self_reaped);
    uint64_t from = c->dir_ok_ms ? c->dir_ok_ms : bp->sent_ms, now = wall_ms();
    sc_warn("this node's %s: rewriting its liveness and directory; apps get a Gap from %llu ms "
            "ago",
            what, (unsigned long long)(now - SC_MIN(from, now)));
    gap_begin(c, from, "this node's directory was lost from redis and rewritten");
    directory_resync(c);
}

static void on_reap_reply(redisAsyncContext *ac, void *reply, void *pd)
{
    beat_pd *bp = pd;
    sc_cluster *c = bp->c;
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
        if (r) {
            check_noscript(c, r);
            on_cmd_reply(ac, reply, NULL);
        }
        free(bp);
        return;
    }
    size_t n = (r->elements - 2) / 3;
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
    live_replace(c, r->element, n, beat);
    c->have_live = true;
    maybe_announce(c);
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
    grace_arg(c, grace, sizeof(grace));
    argv_buf a = {0};
    arg_script(c, &a, S_REAP);
    arg_str(&a, c->prefix);
    arg_str(&a, grace);
    arg_str(&a, c->self);
    arg_str(&a, info);
    arg_str(&a, ttl);
    char ver[48];
    snprintf(ver, sizeof(ver), "%u:%" PRIu64, SC_CLUSTER_VERSION, SC_CLUSTER_FEATURES);
    arg_str(&a, ver);
    beat_pd *bp = sc_xmalloc(sizeof(*bp));
    *bp = (beat_pd){c, wall_ms(), ++c->beats_sent, c->resync_gen, c->beats_since_resync == 0};
    if (command(c, (int)a.n, a.argv, a.lens, false, false, on_reap_reply, bp))
        c->beats_since_resync++;
    else
        free(bp);
    free(a.argv);
    free(a.lens);
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
    sc_redis_command_argv(c->sub, on_sub_reply, c, (int)n + 1, argv, lens);
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

/* Expire directory cache entries; empty it once a reload turned it off. */
static void dircache_sweep(sc_cluster *c, uint64_t now)
{
    if (dircache_on(c)) {
        sc_dircache_expire(&c->dc, now, 4096); /* bounded work per tick */
        return;
    }
    uint32_t n = sc_dircache_count(&c->dc);
    if (n) { /* switched off by a reload */
        sc_dircache_clear(&c->dc);
        sc_info("directory cache off: dropped its %u entries", n);
    }
}

/* Unsubscribe rooms idle for longer than room_linger_ms, oldest first. */
static void on_sweep(struct ev_loop *loop, ev_timer *w, int revents)
{
    sc_cluster *c = w->data;
    uint64_t now = sc_now_us(), linger = c->cfg->room_linger_ms * 1000u;
    dircache_sweep(c, now);
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
        snprintf(c->last_resub, sizeof(c->last_resub), "%s", s->name);
        batch[n++] = s;
        if (n == SUBSCRIBE_BATCH) {
            send_sub(c, "SUBSCRIBE", batch, n);
            n = 0;
        }
    }
    send_sub(c, "SUBSCRIBE", batch, n);
}

/* ---- receiving -------------------------------------------------------------------- */

/* ---- stale notices ------------------------------------------------------------
 * An origin's directory cache sent us an emit for sockets we do not hold.
 * We tell it once per loop iteration (one Stale envelope per origin, at most
 * NOTICE_MAX_IDS distinct ids, NOTICE_PER_SEC per origin; what does not fit
 * is counted and left to the next stale emit or the origin's ttl). */

static bool notice_has(const sc_peer *peer, const char *id, size_t len)
{
    const uint8_t *p = peer->notice.data, *end = p + peer->notice.len, *s;
    size_t l;
    while (p < end && (s = batch_next(&p, end, &l)))
        if (l == len && memcmp(s, id, len) == 0)
            return true;
    return false;
}

static void notice_add(sc_cluster *c, sc_peer *peer, const char *id)
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

static void notice_unlink(sc_cluster *c, sc_peer *peer)
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
static void notices_flush(sc_cluster *c)
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
        publish(c, ch, c->pack.data, c->pack.len, true);
        SC_COUNT(dircache_notices_sent);
        notice_unlink(c, peer);
    }
}

/* The origin's cache routed this emit here for env->routed (indexes into
 * to.socket_ids): report the ones not registered here. */
static void check_routed(sc_cluster *c, const sc_envelope *env, sc_peer *peer)
{
    const sc_selector *to = env->emit->to;
    for (size_t i = 0; i < env->n_routed; i++) {
        if (env->routed[i] >= to->n_socket_ids) {
            SC_COUNT(cluster_malformed);
            sc_log_limited(SC_LOG_WARN,
                           "dropping the routes of a message from node %s: index %u, the emit "
                           "names %zu socket ids (another version?)",
                           SC_ESC(env->origin), (unsigned)env->routed[i], to->n_socket_ids);
            return;
        }
        const char *id = to->socket_ids[env->routed[i]];
        if (sc_registry_find_socket(&c->srv->reg, id))
            continue;
        SC_COUNT(dircache_stale_received);
        sc_log_limited(SC_LOG_INFO,
                       "node %s sent a message for socket %s here, which does not hold it (its "
                       "directory cache is stale: the socket moved or went down); lost for "
                       "that socket, telling the node",
                       SC_ESC(env->origin), SC_ESC(id));
        notice_add(c, peer, id);
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
    sc_dispatch_deliver_encoded(c->srv, em->to, em->payload, em->volatile_, relay, body,
                                body_len);
    if (relay)
        sc_relay_arm(relay);
}

static void respond(sc_cluster *c, const char *origin, Sidecast__Cluster__V1__Response *resp,
                    bool vol)
{
    sc_envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    env.body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_RESPONSE;
    env.response = resp;
    uint8_t *buf;
    size_t len = pack_envelope(c, &env, &buf);
    char ch[200];
    channel_of(c, ch, sizeof(ch), "node", origin);
    publish(c, ch, buf, len, vol);
}

/* A fetch answer is written straight into c->fetch as SocketList entries
 * (no SocketInfo per socket, nothing in the arena), and its envelope's head
 * in front of them once their length is known. */
typedef struct fetch_collect {
    sc_cluster *c;
    const char *origin;
    uint64_t req;
    sc_socket_enc enc;
    const char *etag; /* FetchSockets.cache_answers: node_id in each chunk, this in the last */
    bool unchanged;   /* the asker's known etag is current: no entries */
} fetch_collect;

#define ETAG_MAX 16 /* a registry gen in hex */

/* This node's registry as a fetch answer shows it (sc_registry.gen). */
static void fetch_etag(const sc_cluster *c, char out[ETAG_MAX + 1])
{
    snprintf(out, ETAG_MAX + 1, "%016" PRIx64, c->srv->reg.gen);
}

/* Does the asker hold this node's answer with etag `etag` (FetchSockets.known)? */
static bool fetch_known(const sc_cluster *c, const Sidecast__V1__FetchSockets *q, const char *etag)
{
    for (size_t i = 0; i < q->n_known; i++) {
        const Sidecast__V1__KnownAnswer *k = q->known[i];
        if (k && k->node_id && k->etag && strcmp(k->node_id, c->self) == 0)
            return strcmp(k->etag, etag) == 0;
    }
    return false;
}

/* The most an envelope's head can take before its SocketList: origin, seq,
 * sent_unix_ms, the response's tag and length, its id and last, the
 * sockets' tag and length (varints of at most 10 bytes, lengths of 5). */
static size_t fetch_head_max(const sc_cluster *c)
{
    size_t self_len = strlen(c->self);
    return sc_wire_len_field_size(1, self_len) + 2 * 11 + 2 + 6 + 11 + 2 + 6 +
           sc_wire_len_field_size(SC_SL_NODE_ID, self_len) +
           sc_wire_len_field_size(SC_SL_ETAG, ETAG_MAX) + 2;
}

/* The SocketList's own fields before its entries (cache_answers): the node
 * in every chunk, the etag in the last, unchanged when there is nothing.
 * Their size with p NULL. */
static size_t fetch_meta(const fetch_collect *fc, bool last, uint8_t *p)
{
    size_t self_len = strlen(fc->c->self), etag_len = last ? strlen(fc->etag) : 0;
    size_t n = sc_wire_len_field_size(SC_SL_NODE_ID, self_len) +
               (last ? sc_wire_len_field_size(SC_SL_ETAG, etag_len) : 0) + (fc->unchanged ? 2 : 0);
    if (!p)
        return n;
    p = sc_wire_write_len_field(p, SC_SL_NODE_ID, fc->c->self, self_len);
    if (last)
        p = sc_wire_write_len_field(p, SC_SL_ETAG, fc->etag, etag_len);
    if (fc->unchanged)
        sc_wire_write_varint_field(p, SC_SL_UNCHANGED, 1);
    return n;
}

static void fetch_begin(sc_cluster *c)
{
    c->fetch_head = fetch_head_max(c);
    c->fetch.off = c->fetch.len = 0;
    sc_buf_reserve(&c->fetch, c->fetch_head);
    sc_buf_commit(&c->fetch, c->fetch_head);
}

/* Publish Envelope{origin, seq, sent_unix_ms, version, response{id, last, sockets}}
 * as protobuf-c would pack it (unit_wire checks), its head written right
 * before the entries, so they are not copied to make room for it. With
 * cache_answers, the SocketList's node_id/etag/unchanged come before its
 * entries (protobuf-c would put them after: the same message to any
 * decoder, and the asker reads the node before the entries). */
static void fetch_flush(fetch_collect *fc, bool last)
{
    sc_cluster *c = fc->c;
    size_t meta_len = fc->etag ? fetch_meta(fc, last, NULL) : 0;
    size_t list_len = c->fetch.len - c->fetch_head + meta_len, self_len = strlen(c->self);
    uint64_t seq = ++c->seq, ms = wall_ms();
    size_t resp_len =
        (fc->req ? 1 + sc_wire_varint_size(fc->req) : 0) + (last ? 2 : 0) +
        sc_wire_len_field_size(SIDECAST__CLUSTER__V1__RESPONSE__KIND_SOCKETS, list_len);
    size_t head = sc_wire_len_field_size(1, self_len) + 1 + sc_wire_varint_size(seq) +
                  (ms ? 1 + sc_wire_varint_size(ms) : 0) + 1 + sc_wire_varint_size(SC_CLUSTER_VERSION) +
                  sc_wire_len_field_size(SIDECAST__CLUSTER__V1__ENVELOPE__BODY_RESPONSE, resp_len) -
                  list_len;
    /* the list's own fields go before its entries, in the head's room */
    uint8_t *start = c->fetch.data + c->fetch_head - head - meta_len, *p = start;
    p = sc_wire_write_len_field(p, SC_ENV_ORIGIN, c->self, self_len);
    p = sc_wire_write_varint_field(p, SC_ENV_SEQ, seq);
    if (ms)
        p = sc_wire_write_varint_field(p, SC_ENV_SENT_MS, ms);
    p = sc_wire_write_varint_field(p, SC_ENV_VERSION, SC_CLUSTER_VERSION);
    p = sc_wire_write_len_head(p, SIDECAST__CLUSTER__V1__ENVELOPE__BODY_RESPONSE, resp_len);
    if (fc->req)
        p = sc_wire_write_varint_field(p, 1, fc->req);
    if (last)
        p = sc_wire_write_varint_field(p, 2, 1);
    p = sc_wire_write_len_head(p, SIDECAST__CLUSTER__V1__RESPONSE__KIND_SOCKETS, list_len);
    if (meta_len)
        fetch_meta(fc, last, p);
    char ch[200];
    channel_of(c, ch, sizeof(ch), "node", fc->origin);
    publish(c, ch, start, head + list_len, true);
    c->fetch.len = c->fetch_head;
}

static void fetch_one(sc_socket *s, void *ud)
{
    fetch_collect *fc = ud;
    sc_dispatch_put_socket(&fc->c->fetch, &fc->enc, s);
    if (fc->c->fetch.len - fc->c->fetch_head >= CHUNK_BYTES)
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
        sel.all = sel.all || sc_selector_is_empty(&sel);
        char etag[ETAG_MAX + 1];
        fetch_etag(c, etag);
        fetch_collect fc = {c, env->origin, rq->id, {c->self, strlen(c->self), q->with_data, q->with_rooms},
                            q->cache_answers ? etag : NULL, false};
        fc.unchanged = fc.etag && fetch_known(c, q, etag);
        fetch_begin(c);
        if (fc.unchanged)
            SC_COUNT(fetch_answers_unchanged);
        else
            sc_registry_select(&c->srv->reg, NULL, &sel, fetch_one, &fc);
        fetch_flush(&fc, true);
        c->fetch.off = c->fetch.len = 0;
        sc_buf_shrink(&c->fetch, 2 * CHUNK_BYTES);
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
    default: {
        /* A kind from a newer node: say so, so that it stops waiting for us
         * (it should not have counted us; see sc_cluster_request). */
        SC_COUNT(requests_unsupported_answered);
        sc_log_limited(SC_LOG_WARN,
                       "node %s sent a cluster request of a kind this node does not know "
                       "(cluster version %u): answered as unsupported",
                       SC_ESC(env->origin), SC_CLUSTER_VERSION);
        Sidecast__Cluster__V1__Response resp = SIDECAST__CLUSTER__V1__RESPONSE__INIT;
        resp.id = rq->id;
        resp.last = true;
        resp.unsupported = true;
        if (rq->id)
            respond(c, env->origin, &resp, false);
        break;
    }
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
    if (rs->unsupported) {
        SC_COUNT(responses_unsupported);
        sc_log_limited(SC_LOG_WARN,
                       "node %s does not know a cluster request this node sent: counted as "
                       "answered with nothing",
                       SC_ESC(env->origin));
    }
    if (rs->kind_case == SIDECAST__CLUSTER__V1__RESPONSE__KIND_SOCKETS &&
        (rs->sockets->n_sockets || (rs->sockets->node_id && rs->sockets->node_id[0])))
        sc_request_sockets(r, rs->sockets); /* entries, or an unchanged answer to pass on */
    else if (rs->kind_case == SIDECAST__CLUSTER__V1__RESPONSE__KIND_PROGRESS)
        sc_request_progress(r, rs->progress->expect, rs->progress->payloads,
                            rs->progress->n_payloads);
    if (rs->last)
        sc_request_node_answered(r, env->origin);
}

/* Open a Gap from `from_ms` (or widen the open one back to it). A Gap
 * starts no later than the last message this node knows it got, so every
 * message it may have missed falls inside the window its apps are told. */
static void gap_begin(sc_cluster *c, uint64_t from_ms, const char *reason)
{
    if (c->last_rx_ms && c->last_rx_ms < from_ms)
        from_ms = c->last_rx_ms;
    if (c->in_gap) {
        c->gap_from_ms = SC_MIN(c->gap_from_ms, from_ms);
        return;
    }
    c->in_gap = true;
    c->gap_from_ms = from_ms;
    snprintf(c->gap_reason, sizeof(c->gap_reason), "%s", reason);
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

/* The Gap ends once both ways in are back: every subscription confirmed,
 * and this node's directory (through which targeted emits find it)
 * rewritten and confirmed. */
static void maybe_end_gap(sc_cluster *c)
{
    if (c->in_gap && c->sub_ready && c->dir_ready)
        end_gap(c);
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

/* Whether an envelope from `origin` with sequence number `seq` is to be
 * handled: not one of our own coming back, and not seen yet from that
 * origin (a multi-room emit arrives once per room channel). Returns the
 * origin's peer record (its Stale notice lives there), or NULL to skip;
 * counts what it skips; NULL for a canary of ours, after noting it arrived. */
static sc_peer *from_peer(sc_cluster *c, const char *origin, uint64_t seq, int body_case)
{
    if (strcmp(origin, c->self) == 0) {
        if (body_case == SIDECAST__CLUSTER__V1__ENVELOPE__BODY_CANARY) {
            c->canary_pending_since = 0;
            SC_COUNT(canaries_received);
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
    if (seq <= peer->last_seq) {
        SC_COUNT(cluster_duplicates_skipped); /* same emit via another room channel */
        return NULL;
    }
    peer->last_seq = seq;
    if (body_case != SIDECAST__CLUSTER__V1__ENVELOPE__BODY_ANNOUNCE) /* counted on its own */
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
ENVELOPE_HANDLER(on_request_env, handle_request)
ENVELOPE_HANDLER(on_response_env, handle_response)
ENVELOPE_HANDLER(on_stale_env, handle_stale)
ENVELOPE_HANDLER(on_announce_env, handle_announce)
#undef ENVELOPE_HANDLER

static const envelope_fn envelope_handlers[] = {
    [SIDECAST__CLUSTER__V1__ENVELOPE__BODY_EMIT] = on_emit_env,
    [SIDECAST__CLUSTER__V1__ENVELOPE__BODY_REQUEST] = on_request_env,
    [SIDECAST__CLUSTER__V1__ENVELOPE__BODY_RESPONSE] = on_response_env,
    [SIDECAST__CLUSTER__V1__ENVELOPE__BODY_STALE] = on_stale_env,
    [SIDECAST__CLUSTER__V1__ENVELOPE__BODY_ANNOUNCE] = on_announce_env,
};

static void on_envelope(sc_cluster *c, const char *channel, const uint8_t *p, size_t len,
                        bool in_batch)
{
    raw_response rr;
    if (len && read_raw_response(p, len, &rr)) {
        if (from_peer(c, rr.origin, rr.seq, SIDECAST__CLUSTER__V1__ENVELOPE__BODY_RESPONSE))
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
    sc_peer *peer = from_peer(c, env->origin, env->seq, env->body_case);
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

static void on_message(sc_cluster *c, const char *channel, const uint8_t *p, size_t len)
{
    on_envelope(c, channel, p, len, false);
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
        c->last_rx_ms = (uint64_t)(ev_now(c->srv->loop) * 1000.0);
        on_message(c, channel, (const uint8_t *)r->element[2]->str, r->element[2]->len);
        sc_arena_reset(&c->arena);
    } else if (strcmp(kind, "subscribe") == 0) {
        /* Redis confirms in order: the last channel of the resubscription
         * means every channel is back, and only then is the gap over. */
        if (strcmp(channel, c->last_resub) == 0 && !c->sub_ready) {
            c->sub_ready = true;
            c->ever_up = true;
            c->canary_pending_since = 0;
            maybe_end_gap(c);
            maybe_announce(c);
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
    c->canary_pending_since = 0; /* canaries not sent while down prove nothing */
    c->pub_gen++;
    if (!up) {
        c->dir_ready = false; /* rewritten on the next connection */
        return;
    }
    load_scripts(c);
    /* Lookups between the rewrite's forget and its writes find nothing, and
     * an outage past node_ttl_ms may have had this node reaped: the apps
     * are told, until the rewrite is confirmed. */
    if (c->pub_was_up && c->ever_up)
        gap_begin(c, c->dir_ok_ms ? c->dir_ok_ms : wall_ms(),
                  "redis publish connection re-established; directory rewritten");
    c->pub_was_up = true;
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
    /* rooms without members need no subscription on the next connection */
    for (uint32_t i = 0; i < c->subs.cap; i++) {
        sc_sub *s = c->subs.items[i];
        if (s && !s->want && !s->permanent) {
            sub_delete(c, s);
            i = (uint32_t)-1; /* the table moved: rescan */
        }
    }
    if (c->ever_up) {
        char reason[128];
        snprintf(reason, sizeof(reason), "subscriber connection lost: %s", why);
        gap_begin(c, wall_ms(), reason);
    }
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
        gap_begin(c, wall_ms() - 2 * c->cfg->canary_interval_ms, "pub/sub canary missing");
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
    sc_credentials_apply(cfg, &url);
    /* the default user needs no password; another named without one is
     * likely the form that meant a password before 0.2 */
    if (url.user && url.user[0] && strcmp(url.user, "default") != 0 &&
        (!url.password || !url.password[0]))
        sc_warn("redis_url names a user but gives no password (nor redis_password_file or a "
                "redis-password credential), so sidecastd does not authenticate. If that part "
                "of the URL is a password (redis://PASSWORD@host before 0.2), write "
                "redis://:PASSWORD@host");
    sc_cluster *c = sc_xcalloc(1, sizeof(*c));
    c->srv = srv;
    c->cfg = cfg;
    c->self = srv->node_id;
    c->features = SC_CLUSTER_FEATURES; /* alone until the first heartbeat says otherwise */
    snprintf(c->prefix, sizeof(c->prefix), "%s", cfg->redis_prefix);
    channel_of(c, c->ch_node, sizeof(c->ch_node), "node", c->self);
    snprintf(c->ch_all, sizeof(c->ch_all), "%s:all", c->prefix);
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
    c->dnodes = sc_xcalloc(DIRECT_MAX_IDS, sizeof(*c->dnodes));
    c->dnext = sc_xcalloc(DIRECT_MAX_IDS, sizeof(*c->dnext));
    c->didx = sc_xcalloc(DIRECT_MAX_IDS, sizeof(*c->didx));
    sc_map_init(&c->peers, peer_key);
    sc_map_init(&c->subs, sub_key);
    sc_sub *s = sub_get(c, c->ch_node, true);
    s->want = s->permanent = true;
    s = sub_get(c, c->ch_all, true);
    s->want = s->permanent = true;
    sc_redis_opts po = {"publish", cfg->redis_connect_timeout_ms, cfg->redis_command_timeout_ms,
                        cfg->redis_reconnect_min_ms, cfg->redis_reconnect_max_ms, true,
                        &cfg->redis_reply_defer_ms, on_cmd_reply};
    sc_redis_opts so = po;
    so.name = "subscribe";
    so.probe = false; /* the canary checks the subscriber end to end */
    so.quiet_defer_ms = NULL; /* messages come on it: always read at once */
    c->pub = sc_redis_new(srv->loop, &url, &po, on_pub_state, c);
    c->sub = sc_redis_new(srv->loop, &url, &so, on_sub_state, c);
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
    announce(c, false); /* before the keys go: peers stop waiting for it now */
    char key[200], nodes[160];
    snprintf(key, sizeof(key), "%s:alive:%s", c->prefix, c->self);
    snprintf(nodes, sizeof(nodes), "%s:nodes", c->prefix);
    char vkey[200];
    snprintf(vkey, sizeof(vkey), "%s:ver:%s", c->prefix, c->self);
    const char *a1[] = {"DEL", key, vkey};
    size_t l1[] = {3, strlen(key), strlen(vkey)};
    command(c, 3, a1, l1, false, false, NULL, NULL);
    forget_self(c);
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
    sc_redis_free(c->pub); /* runs the pending reply callbacks: before the cache goes */
    sc_redis_free(c->sub);
    while (c->ob_head)
        outbox_unlink(c, c->ob_head);
    for (uint32_t i = 0; i < c->nouts; i++)
        sc_dcnode_release(c->outs[i].node);
    for (uint32_t i = 0; i < DIRECT_MAX_NODES; i++)
        sc_buf_free(&c->outs[i].items);
    sc_dircache_free(&c->dc);
    free(c->dnodes);
    free(c->dnext);
    free(c->didx);
    sc_buf_free(&c->dmsg);
    for (uint32_t i = 0; i < c->peers.cap; i++) {
        sc_peer *p = c->peers.items[i];
        if (p)
            sc_buf_free(&p->notice);
        free(p);
    }
    for (uint32_t i = 0; i < c->subs.cap; i++)
        free(c->subs.items[i]);
    sc_map_free(&c->peers);
    sc_map_free(&c->subs);
    free_live(c);
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

static void on_targeted_reply(redisAsyncContext *ac, void *reply, void *pd)
{
    sc_cluster *c = pd;
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
        check_noscript(c, r);
        on_cmd_reply(ac, reply, NULL);
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
static void targeted_flush(sc_cluster *c)
{
    if (!c->tgt_n)
        return;
    argv_buf a = {0};
    arg_script(c, &a, S_TARGETED);
    arg_str(&a, c->prefix);
    arg_str(&a, c->self);
    arg_str(&a, dircache_on(c) ? "1" : "0");
    for (size_t i = 0; i < c->tgt_nargs; i++)
        arg(&a, (const char *)c->tgt.data + c->tgt_args[2 * i], c->tgt_args[2 * i + 1]);
    bool vol = c->tgt_vol;
    c->tgt_n = 0; /* before command(), which flushes pending work first */
    c->tgt_nargs = 0;
    command(c, (int)a.n, a.argv, a.lens, true, vol, on_targeted_reply, c);
    free(a.argv);
    free(a.lens);
    c->tgt.off = c->tgt.len = 0;
    sc_buf_shrink(&c->tgt, BATCH_MAX_BYTES);
}

/* Queue one targeted emit (socket ids and user ids on other nodes) for this
 * loop iteration's script call. Room publishes and other commands flush it
 * first, so Redis sees everything in the order the apps sent it. */
static void targeted_add(sc_cluster *c, const uint8_t *env, size_t len,
                         const char *const *ids, size_t n_ids, const char *const *users,
                         size_t n_users, bool vol)
{
    batch_flush(c);
    if (c->nouts) { /* cache-routed emits before this one go first */
        direct_flush(c);
        c->runs++;
    }
    if (!c->tgt_n)
        c->tgt_vol = true;
    tgt_arg(c, env, len);
    tgt_arg_num(c, n_ids);
    tgt_arg_num(c, n_users);
    for (size_t i = 0; i < n_ids; i++)
        tgt_arg(c, ids[i], strlen(ids[i]));
    for (size_t i = 0; i < n_users; i++)
        tgt_arg(c, users[i], strlen(users[i]));
    c->tgt_n++;
    c->tgt_vol = c->tgt_vol && vol;
    if (!sc_redis_ctx(c->pub) || c->tgt.len > BATCH_MAX_BYTES || c->tgt_nargs > 4096)
        targeted_flush(c);
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

static void on_direct_reply(redisAsyncContext *ac, void *reply, void *pd)
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
        on_cmd_reply(ac, reply, NULL);
    }
    sc_dcnode_release(dp->node);
    free(dp);
}

static void direct_publish(sc_cluster *c, sc_dcnode *nd, const uint8_t *p, size_t len,
                           uint32_t nenv, bool vol)
{
    /* Not quiet: the count of receivers is how an emit that nobody gets
     * (node gone, or resubscribing) is counted and its route dropped. */
    direct_pd *dp = sc_xmalloc(sizeof(*dp));
    *dp = (direct_pd){c, nd, nenv};
    sc_dcnode_hold(nd);
    if (!publish_now_cb(c, nd->ch, nd->chlen, p, len, vol, on_direct_reply, dp)) {
        sc_dcnode_release(nd); /* in the outbox: no reply to wait for */
        free(dp);
    }
}

/* Send one node's pending batch (as batch_flush does for a room). */
static void direct_send(sc_cluster *c, direct_out *o)
{
    if (!o->n)
        return;
    const uint8_t *p = o->items.data, *end = p + o->items.len, *env;
    size_t len;
    if (o->n == 1 || !sc_redis_ctx(c->pub)) {
        while (p < end && (env = batch_next(&p, end, &len)))
            direct_publish(c, o->node, env, len, 1, false);
    } else {
        batch_wrap(c, o->items.data, o->items.len);
        direct_publish(c, o->node, c->batch_out.data, c->batch_out.len, o->n, false);
        SC_COUNT(cluster_batches_sent);
        SC_COUNT_N(cluster_batched_envelopes, o->n);
    }
    o->n = 0;
    o->items.off = o->items.len = 0;
    sc_buf_shrink(&o->items, 16 * 1024);
}

static void direct_flush(sc_cluster *c)
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
        direct_flush(c);
    direct_out *o = &c->outs[c->nouts];
    nd->out = (int)c->nouts++;
    o->node = nd;
    sc_dcnode_hold(nd);
    return o;
}

/* Append the envelope and its `routed` field (the ids of this emit the
 * cache sent to nd, as indexes into to.socket_ids) to b. */
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
    if (!sc_redis_ctx(c->pub) || item > BATCH_MAX_BYTES) {
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

/* Look every remote id up and group them by node (each node's ids chained
 * from nd->first through c->dnext); the distinct nodes go to c->dnodes.
 * Returns how many, or 0 on the first miss. */
static size_t direct_group(sc_cluster *c, const sc_selector *to, char **ids, size_t n)
{
    uint64_t now = sc_now_us(), mark = ++c->emit_mark;
    size_t j = 0, nn = 0;
    for (size_t i = 0; i < n; i++) {
        /* ids are to.socket_ids' own pointers, in order (dispatch.c) */
        while (j < to->n_socket_ids && to->socket_ids[j] != ids[i])
            j++;
        sc_dcnode *nd =
            j < to->n_socket_ids ? sc_dircache_get(&c->dc, ids[i], strlen(ids[i]), now) : NULL;
        if (!nd)
            return 0;
        c->didx[i] = (uint32_t)j++;
        c->dnext[i] = UINT32_MAX;
        if (nd->emit_mark != mark) {
            nd->emit_mark = mark;
            nd->first = (uint32_t)i;
            c->dnodes[nn++] = nd;
        } else {
            c->dnext[nd->last] = (uint32_t)i;
        }
        nd->last = (uint32_t)i;
    }
    return nn;
}

/* Send a targeted emit by the cache alone. False: the script must resolve
 * it (a miss, user ids, too many ids, or this iteration switched often
 * enough); every remote id is counted as a hit or a miss either way. */
static bool direct_route(sc_cluster *c, const sc_selector *to, char **ids, size_t n,
                         const uint8_t *env, size_t len, bool vol)
{
    if (!dircache_on(c) || !n)
        return false;
    size_t nn = 0;
    if (to->n_user_ids || n > DIRECT_MAX_IDS || (c->tgt_n && c->runs >= DIRECT_MAX_RUNS) ||
        !(nn = direct_group(c, to, ids, n))) {
        SC_COUNT_N(dircache_misses, n);
        return false;
    }
    SC_COUNT_N(dircache_hits, n);
    flush_ups(c);
    batch_flush(c);
    if (c->tgt_n) { /* emits before this one, in the script call, go first */
        targeted_flush(c);
        c->runs++;
    }
    for (size_t i = 0; i < nn; i++)
        direct_queue(c, c->dnodes[i], env, len, vol);
    return true;
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
        len = pack_envelope(c, &env, &buf);
    }
    const sc_selector *to = e->to;
    if (to->all || ack_id) {
        /* everyone; and acked broadcasts go to every node, so that each
         * one answers with its count, members or not */
        publish(c, c->ch_all, buf, len, e->volatile_);
        SC_COUNT(emits_remote);
        return;
    }
    char ch[SC_ID_MAX + 200];
    if (to->n_rooms > 1 && len * to->n_rooms > FANOUT_BUDGET) {
        /* One copy per room would cost len x rooms of memory here and in
         * Redis: send one copy to every node instead; each delivers to its
         * own members only, so the result is the same. */
        publish(c, c->ch_all, buf, len, e->volatile_);
        SC_COUNT(emits_fanout_all);
    } else {
        for (size_t i = 0; i < to->n_rooms; i++) {
            channel_of(c, ch, sizeof(ch), "room", to->rooms[i]);
            publish(c, ch, buf, len, e->volatile_);
        }
    }
    if ((n_remote || to->n_user_ids) &&
        !direct_route(c, to, remote_ids, n_remote, buf, len, e->volatile_))
        targeted_add(c, buf, len, (const char *const *)remote_ids, n_remote,
                     (const char *const *)to->user_ids, to->n_user_ids, e->volatile_);
    SC_COUNT(emits_remote);
}

static uint32_t live_count(const sc_cluster *c)
{
    return c->nlive ? (uint32_t)c->nlive : 1;
}

/* The ClusterFeature bits a node needs to answer a request of this kind.
 * Every kind so far is as old as versioning: 0. A new kind gets a new bit,
 * so that a request never waits for a node that cannot answer it. */
static uint64_t kind_needs(int kind)
{
    (void)kind;
    return 0;
}

/* Requests wait for the nodes live now that can answer them, by id; this
 * node always counts. */
sc_request *sc_cluster_request(sc_cluster *c, int kind, sc_conn *from, uint64_t frame_id)
{
    sc_request *r = sc_request_new(c->srv, kind, from, frame_id, live_count(c));
    if (!r)
        return NULL;
    uint64_t need = kind_needs(kind);
    bool self = false;
    for (size_t i = 0; i < c->nlive && !self; i++)
        self = strcmp(c->live_ids[i], c->self) == 0;
    const char **ids = sc_xmalloc(sizeof(char *) * (c->nlive + 1));
    size_t n = 0;
    for (size_t i = 0; i < c->nlive; i++)
        if ((c->live_feats[i] & need) == need || strcmp(c->live_ids[i], c->self) == 0)
            ids[n++] = c->live_ids[i];
    if (!self)
        ids[n++] = c->self;
    sc_request_expect(r, ids, n);
    free(ids);
    return r;
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
    if (sc_redis_is_up(c->pub) && c->nlive > 0)
        return true;
    SC_COUNT(requests_unavailable);
    sc_conn_error(from, frame_id, SIDECAST__V1__ERROR_CODE__ERROR_UNAVAILABLE, NULL, false,
                  "%s needs redis, which is %s right now; retry, or ask for this node's "
                  "sockets only (local; sidecastctl --local)",
                  what,
                  sc_redis_is_up(c->pub) ? "connected but the node list is not known yet"
                                         : "unreachable");
    return false;
}

/* Begin a cluster request. Tracked: the app waits for every live node's
 * answer (needs Redis and the node list); *ret is NULL when untracked. */
static int begin_request(sc_cluster *c, int kind, sc_conn *from, uint64_t frame_id, bool tracked,
                         const char *what, sc_request **ret)
{
    *ret = NULL;
    if (!tracked)
        return 0;
    if (!require_redis(c, from, frame_id, what)) {
        sc_metrics_request(kind, SC_OUTCOME_ERROR, 0);
        return -EAGAIN;
    }
    *ret = sc_cluster_request(c, kind, from, frame_id);
    return *ret ? 0 : -ENOSPC;
}

/* Publish a Request whose oneof member is `msg` (all share storage). */
static void send_request(sc_cluster *c, const sc_request *r, int kind_case, void *msg)
{
    Sidecast__Cluster__V1__Request rq = SIDECAST__CLUSTER__V1__REQUEST__INIT;
    rq.id = r ? r->id : 0;
    rq.kind_case = kind_case;
    rq.fetch_sockets = msg;
    publish_request(c, &rq);
}

int sc_cluster_fetch_sockets(sc_cluster *c, sc_conn *from, uint64_t frame_id,
                             const Sidecast__V1__FetchSockets *q)
{
    sc_request *r;
    int rc = begin_request(c, SC_REQ_FETCH, from, frame_id, true, "a cluster-wide fetch", &r);
    if (rc < 0)
        return rc;
    send_request(c, r, SIDECAST__CLUSTER__V1__REQUEST__KIND_FETCH_SOCKETS, (void *)q);
    sc_dispatch_local_sockets(c->srv, r, q);
    sc_request_node_answered(r, NULL); /* the local part */
    return 0;
}

int sc_cluster_apply(sc_cluster *c, sc_conn *from, uint64_t frame_id, const Sidecast__V1__Apply *a)
{
    sc_request *r;
    int rc = begin_request(c, SC_REQ_APPLY, from, frame_id, frame_id != 0,
                           "a cluster-wide apply", &r);
    if (rc < 0)
        return rc;
    send_request(c, r, SIDECAST__CLUSTER__V1__REQUEST__KIND_APPLY, (void *)a);
    sc_dispatch_forward_apply(c->srv, a);
    if (r)
        sc_request_node_answered(r, NULL);
    return 0;
}

int sc_cluster_server_emit(sc_cluster *c, sc_conn *from, uint64_t frame_id,
                           const Sidecast__V1__ServerEmit *e)
{
    sc_request *r;
    int rc = begin_request(c, SC_REQ_SERVER_EMIT, from, frame_id, e->want_ack,
                           "a server-side emit with acks", &r);
    if (rc < 0)
        return rc;
    send_request(c, r, SIDECAST__CLUSTER__V1__REQUEST__KIND_SERVER_EMIT, (void *)e);
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
    respond(c, origin, &resp, false);
}

/* ---- lookups and session data (one script call each) ---------------------------- */

typedef struct pending_call {
    sc_cluster *c;
    uint64_t req;
} pending_call;

/* The request behind a reply, or NULL if it timed out or its app left. The
 * caller answers and calls sc_request_done. */
static sc_request *call_request(redisAsyncContext *ac, void *reply, void *pd)
{
    pending_call *pc = pd;
    check_noscript(pc->c, reply);
    sc_request *r = sc_request_find(pc->c->srv, pc->req);
    free(pc);
    if (!r)
        return NULL;
    redisReply *rep = reply;
    if (!rep || rep->type == REDIS_REPLY_ERROR) {
        bool limit = rep && strncmp(rep->str, "LIMIT ", 6) == 0;
        if (limit)
            SC_COUNT(session_data_refused);
        else
            SC_COUNT(requests_unavailable);
        if (r->conn)
            sc_conn_error(r->conn, r->frame_id,
                          limit ? SIDECAST__V1__ERROR_CODE__ERROR_LIMIT
                                : SIDECAST__V1__ERROR_CODE__ERROR_UNAVAILABLE,
                          NULL, false, "%s",
                          !rep ? "redis connection lost before it answered"
                               : (limit ? rep->str + 6 : rep->str));
        r->failed = true;
        sc_request_done(r);
        return NULL;
    }
    return r;
}

static void reply_to(sc_request *r, int msg_case, void *msg)
{
    if (r->conn) {
        sc_frame f = SC_FRAME_INIT;
        f.id = r->frame_id;
        f.msg_case = msg_case;
        f.hello = msg;
        sc_conn_send(r->conn, &f, false);
    }
    sc_request_done(r);
}

static void on_lookup_reply(redisAsyncContext *ac, void *reply, void *pd)
{
    sc_cluster *c = ((pending_call *)pd)->c;
    sc_request *r = call_request(ac, reply, pd);
    if (!r)
        return;
    redisReply *rep = reply;
    size_t n = rep->type == REDIS_REPLY_ARRAY ? rep->elements / 4 : 0;
    Sidecast__V1__SocketLocation *locs = sc_xcalloc(n + 1, sizeof(*locs));
    Sidecast__V1__SocketLocation **ptrs = sc_xcalloc(n + 1, sizeof(*ptrs));
    char **owned = sc_xcalloc(4 * n + 1, sizeof(char *));
    uint32_t nodes = 0;
    for (size_t i = 0; i < n; i++) {
        redisReply **e = rep->element + 4 * i;
        Sidecast__V1__SocketLocation *l = &locs[i];
        sidecast__v1__socket_location__init(l);
        l->socket_id = e[0]->str;
        l->node_id = e[1]->str;
        parse_info(e[2]->str, e[2]->len, &owned[4 * i], &owned[4 * i + 1]);
        l->node_name = owned[4 * i];
        l->address = owned[4 * i + 1];
        parse_info(e[3]->str, e[3]->len, &owned[4 * i + 2], &owned[4 * i + 3]);
        l->session_id = owned[4 * i + 2];
        l->user_id = owned[4 * i + 3];
        l->local = strcmp(l->node_id, c->self) == 0;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(locs[j].node_id, l->node_id) == 0;
        nodes += !seen;
        ptrs[i] = l;
    }
    Sidecast__V1__LookupResult res = SIDECAST__V1__LOOKUP_RESULT__INIT;
    res.sockets = ptrs;
    res.n_sockets = n;
    res.nodes = nodes;
    SC_COUNT(lookups_redis);
    reply_to(r, SIDECAST__V1__FRAME__MSG_LOOKUP_RESULT, &res);
    for (size_t i = 0; i < 4 * n; i++)
        free(owned[i]);
    free(owned);
    free(ptrs);
    free(locs);
}

/* Start a request answered by one script call; frees a's arrays. */
static int script_call(sc_cluster *c, sc_conn *from, uint64_t frame_id, argv_buf *a,
                       redisCallbackFn *cb, const char *what)
{
    int rc = 0;
    sc_request *r = NULL;
    if (!require_redis(c, from, frame_id, what)) {
        sc_metrics_request(SC_REQ_CALL, SC_OUTCOME_ERROR, 0);
        rc = -EAGAIN;
    } else if (!(r = sc_request_new(c->srv, SC_REQ_CALL, from, frame_id, 1)))
        rc = -ENOSPC;
    if (r) {
        pending_call *pc = sc_xmalloc(sizeof(*pc));
        pc->c = c;
        pc->req = r->id;
        command(c, (int)a->n, a->argv, a->lens, false, false, cb, pc);
    }
    free(a->argv);
    free(a->lens);
    return rc;
}

int sc_cluster_lookup(sc_cluster *c, sc_conn *from, uint64_t frame_id, const char *kind,
                      const char *key)
{
    argv_buf a = {0};
    arg_script(c, &a, S_LOOKUP);
    arg_str(&a, c->prefix);
    arg_str(&a, kind);
    arg_str(&a, key);
    return script_call(c, from, frame_id, &a, on_lookup_reply, "a cluster lookup");
}

static void on_session_get_reply(redisAsyncContext *ac, void *reply, void *pd)
{
    sc_request *r = call_request(ac, reply, pd);
    if (!r)
        return;
    redisReply *rep = reply;
    size_t n = rep->type == REDIS_REPLY_ARRAY && rep->elements ? (rep->elements - 1) / 2 : 0;
    Sidecast__V1__SessionEntry *es = sc_xcalloc(n + 1, sizeof(*es));
    Sidecast__V1__SessionEntry **ptrs = sc_xcalloc(n + 1, sizeof(*ptrs));
    for (size_t i = 0; i < n; i++) {
        sidecast__v1__session_entry__init(&es[i]);
        es[i].key = rep->element[1 + 2 * i]->str;
        es[i].value.data = (uint8_t *)rep->element[2 + 2 * i]->str;
        es[i].value.len = rep->element[2 + 2 * i]->len;
        ptrs[i] = &es[i];
    }
    Sidecast__V1__SessionData d = SIDECAST__V1__SESSION_DATA__INIT;
    d.entries = ptrs;
    d.n_entries = n;
    d.found = n > 0;
    d.connected = rep->type == REDIS_REPLY_ARRAY && rep->elements && rep->element[0]->integer;
    reply_to(r, SIDECAST__V1__FRAME__MSG_SESSION_DATA, &d);
    free(ptrs);
    free(es);
}

int sc_cluster_session_get(sc_cluster *c, sc_conn *from, uint64_t frame_id, const char *sid)
{
    argv_buf a = {0};
    arg_script(c, &a, S_SGET);
    arg_str(&a, c->prefix);
    arg_str(&a, sid);
    return script_call(c, from, frame_id, &a, on_session_get_reply, "session data");
}

static void on_session_set_reply(redisAsyncContext *ac, void *reply, void *pd)
{
    sc_request *r = call_request(ac, reply, pd);
    if (!r)
        return;
    Sidecast__V1__Ok ok = SIDECAST__V1__OK__INIT;
    reply_to(r, SIDECAST__V1__FRAME__MSG_OK, &ok);
}

int sc_cluster_session_set(sc_cluster *c, sc_conn *from, uint64_t frame_id,
                           const Sidecast__V1__SessionSet *ss)
{
    char maxb[24], maxk[24], grace[24], nd[24];
    snprintf(maxb, sizeof(maxb), "%" PRIu64, c->cfg->session_data_max_bytes);
    snprintf(maxk, sizeof(maxk), "%" PRIu64, c->cfg->session_data_max_keys);
    grace_arg(c, grace, sizeof(grace));
    snprintf(nd, sizeof(nd), "%zu", ss->n_delete_);
    argv_buf a = {0};
    arg_script(c, &a, S_SSET);
    arg_str(&a, c->prefix);
    arg_str(&a, ss->session_id);
    arg_str(&a, maxb);
    arg_str(&a, maxk);
    arg_str(&a, grace);
    arg_str(&a, nd);
    for (size_t i = 0; i < ss->n_delete_; i++)
        arg_str(&a, ss->delete_[i]);
    for (size_t i = 0; i < ss->n_set; i++) {
        arg_str(&a, ss->set[i]->key);
        arg(&a, (const char *)ss->set[i]->value.data, ss->set[i]->value.len);
    }
    return script_call(c, from, frame_id, &a, on_session_set_reply, "session data");
}

void sc_cluster_flush(sc_cluster *c)
{
    if (c) {
        flush_ups(c);
        notices_flush(c);
        batch_flush(c);
        targeted_flush(c);
        direct_flush(c);
        c->runs = 0;
    }
    redisAsyncContext *ac = c ? sc_redis_ctx(c->pub) : NULL;
    if (ac && (ac->c.flags & REDIS_CONNECTED) && ac->c.obuf && sdslen(ac->c.obuf) > 0)
        redisAsyncHandleWrite(ac);
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
    fn("dircache_entries", sc_dircache_count(&c->dc), ud);
    fn("cluster_features", c->features, ud);
    fn("cluster_nodes_reduced", c->nreduced, ud);
}

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
    h->pub_reconnects = sc_redis_reconnects(c->pub);
    h->sub_reconnects = sc_redis_reconnects(c->sub);
    h->nodes = c->nlive;
    h->outbox_bytes = c->ob_bytes;
    h->outbox_messages = c->ob_count;
    h->channels = sc_map_count(&c->subs);
    h->dircache_entries = sc_dircache_count(&c->dc);
}
