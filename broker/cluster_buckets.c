/* cluster_buckets: the directory on a Redis Cluster, spread over
 * SC_DIR_BUCKETS buckets (lua/spread.lua has the layout). A socket's entry
 * lives in the bucket of its id, a session's in that of its session id, a
 * user's in that of its user id, each bucket in one slot ("{prefix:b}"),
 * so the directory's keys, memory and commands spread over the primaries
 * while every command and script touches one slot. Liveness and the node
 * list stay in the home slot (cluster_core.c, lua/reap.lua).
 *
 * What it does: this node's writes (sc_cl_buckets_write, _drop), forgets
 * (its own before a rewrite, a dead node's after the heartbeat named it:
 * bucket by bucket, bounded script calls), the rewrite's confirmation, and
 * targeted emits whose ids the directory cache does not know: their ids
 * and user ids are read from their buckets, and the emit is published to
 * each owner node's channel once every read answered, in the order the
 * emits were made (a FIFO: an emit waits for those before it).
 *
 * It sends through cluster_send.c (and its own sends to a bucket's
 * primary), reads the live list through cluster_liveness.c, and fills the
 * directory cache; it never touches the registry or the subscriptions. */
#include "cluster_int.h"
#include "log.h"
#include "stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Forgets of dead nodes under way at once; more wait for a later heartbeat. */
#define DEAD_JOBS_MAX 16
/* Error answers to one read of a targeted emit (a slot moving, the cluster
 * down), each sent again at the next sweep (250 ms), before its ids count
 * as unroutable. A primary unreachable is waited for, as the outbox waits. */
#define READ_TRIES 20
/* Bytes of targeted emits waiting for their reads, at least: more are
 * dropped (counted); outbox_max_bytes if larger. */
#define TGT_MIN_BYTES (16u * 1024 * 1024)

int sc_cl_bucket(const char *key, size_t len)
{
    return sc_slot(key, len) % SC_DIR_BUCKETS;
}

static void bucket_tag(const sc_cluster *c, int b, char *out, size_t len)
{
    snprintf(out, len, "{%s:%d}", c->room_prefix, b);
}

static sc_shard *bucket_shard(sc_cluster *c, int b)
{
    return sc_cl_shard_of_slot(c, c->bucket_slot[b]);
}

bool sc_cl_buckets_all_up(sc_cluster *c)
{
    for (int b = 0; b < SC_DIR_BUCKETS; b++) {
        sc_shard *sh = bucket_shard(c, b);
        if (!sh || !sc_redis_is_up(sh->pub))
            return false;
    }
    return true;
}

void sc_cl_buckets_init(sc_cluster *c)
{
    char tag[100];
    for (int b = 0; b < SC_DIR_BUCKETS; b++) {
        bucket_tag(c, b, tag, sizeof(tag));
        c->bucket_slot[b] = sc_slot(tag, strlen(tag));
    }
}

/* Send to bucket b's primary; false (nothing sent, cb never runs) when its
 * connection is not up. Work held back is flushed first, so a read sees
 * the writes before it (they go on the same connection). */
static bool bucket_command(sc_cluster *c, int b, const argv_buf *a, sc_redis_reply_fn *cb, void *pd)
{
    c->flush_ups(c);
    sc_shard *sh = bucket_shard(c, b);
    if (!sh || !sc_redis_is_up(sh->pub) ||
        sc_redis_command_argv(sh->pub, cb ? cb : sc_cl_on_cmd_reply, cb ? pd : c, (int)a->n,
                              a->argv, a->lens) < 0)
        return false;
    SC_COUNT(redis_commands);
    return true;
}

/* A bucket's scripts: EVALSHA once the shard's connection has loaded them
 * (its first commands, see sc_cl_buckets_shard_up), else EVAL; KEYS[1]
 * routes the call to the bucket's slot. */
static void bucket_script(sc_cluster *c, argv_buf *a, int i, int b, const char *key)
{
    sc_shard *sh = bucket_shard(c, b);
    bool loaded =
        c->sha[i][0] && sh && (sh->home ? c->loaded_gen == c->pub_gen : sh->scripts_loaded);
    sc_cl_arg_str(a, loaded ? "EVALSHA" : "EVAL");
    sc_cl_arg_str(a, loaded ? c->sha[i] : sc_cl_script_body(i));
    sc_cl_arg_str(a, "1");
    sc_cl_arg_str(a, key);
}

bool sc_cl_bucket_call(sc_cluster *c, int b, int script, const char *key, argv_buf *args,
                       sc_redis_reply_fn *cb, void *pd)
{
    argv_buf a = {0};
    if (script >= 0)
        bucket_script(c, &a, script, b, key);
    for (size_t i = 0; i < args->n; i++)
        sc_cl_arg(&a, args->argv[i], args->lens[i]);
    bool sent = bucket_command(c, b, &a, cb, pd);
    free(a.argv);
    free(a.lens);
    return sent;
}

void sc_cl_bucket_name(const sc_cluster *c, int b, char *out, size_t len)
{
    bucket_tag(c, b, out, len);
}

void sc_cl_buckets_shard_up(sc_cluster *c, sc_shard *sh)
{
    static const int scripts[] = {S_SDROP, S_SFORGET, S_SGET, S_SSET};
    for (size_t k = 0; k < sizeof(scripts) / sizeof(scripts[0]); k++) {
        const char *body = sc_cl_script_body(scripts[k]);
        const char *argv[] = {"SCRIPT", "LOAD", body};
        size_t lens[] = {6, 4, strlen(body)};
        sc_redis_command_argv(sh->pub, sc_cl_on_cmd_reply, c, 3, argv, lens);
    }
    sh->scripts_loaded = true;
}

void sc_cl_buckets_shard_down(sc_cluster *c, sc_shard *sh)
{
    sh->scripts_loaded = false;
}

void sc_cl_buckets_noscript(sc_cluster *c, sc_redis *rc, const redisReply *r)
{
    if (!r || r->type != REDIS_REPLY_ERROR || strncmp(r->str, "NOSCRIPT", 8) != 0 || c->closing)
        return;
    SC_COUNT(redis_scripts_reloaded);
    sc_log_limited(SC_LOG_WARN, "a redis cluster primary no longer knows sidecast's scripts "
                                "(SCRIPT FLUSH?): loading them again there and rewriting this "
                                "node's directory");
    if (rc == c->pub) {
        c->loaded_gen = 0;
        sc_cl_load_scripts(c);
    }
    for (int i = 0; i < c->nshards; i++)
        if (c->shards[i] && c->shards[i]->pub == rc && !c->shards[i]->home)
            sc_cl_buckets_shard_up(c, c->shards[i]);
    c->dir_redirected = true; /* writes refused meanwhile: rewritten at the next heartbeat */
}

/* Replies of this node's directory writes in a bucket: errors counted;
 * NOSCRIPT loads the scripts again on that primary, and a MOVED or ASK
 * (the bucket's slot is moving) is remembered: the directory is rewritten
 * at the next heartbeat (c->dir_redirected). */
static void on_bucket_reply(sc_redis *rc, void *reply, void *pd)
{
    sc_cluster *c = pd;
    redisReply *r = reply;
    sc_cl_buckets_noscript(c, rc, r);
    if (r && r->type == REDIS_REPLY_ERROR && !c->closing &&
        (strncmp(r->str, "MOVED ", 6) == 0 || strncmp(r->str, "ASK ", 4) == 0))
        c->dir_redirected = true;
    sc_cl_on_cmd_reply(rc, reply, c);
}

bool sc_cl_buckets_on(sc_cluster *c, const sc_shard *sh)
{
    for (int b = 0; b < SC_DIR_BUCKETS; b++)
        if (bucket_shard(c, b) == sh)
            return true;
    return false;
}

/* The marker field '' in every bucket's list of this node, written by each
 * rewrite: a heartbeat that finds one gone (a primary's data lost without
 * a reconnect: FLUSHALL, eviction) has the directory rewritten. */
void sc_cl_buckets_mark(sc_cluster *c)
{
    char tag[100], key[200];
    argv_buf a = {0};
    for (int b = 0; b < SC_DIR_BUCKETS; b++) {
        bucket_tag(c, b, tag, sizeof(tag));
        snprintf(key, sizeof(key), "%s:nodesock:%s", tag, c->self);
        a.n = 0;
        sc_cl_arg_str(&a, "HSET");
        sc_cl_arg_str(&a, key);
        sc_cl_arg(&a, "", 0);
        sc_cl_arg(&a, "", 0);
        bucket_command(c, b, &a, on_bucket_reply, c);
    }
    free(a.argv);
    free(a.lens);
}

typedef struct marker_pd {
    sc_cluster *c;
    uint64_t gen;
    int b;
} marker_pd;

static void on_marker(sc_redis *rc, void *reply, void *pd)
{
    marker_pd *mp = pd;
    sc_cluster *c = mp->c;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 0 && !c->closing &&
        mp->gen == c->resync_gen && c->dir_ready && !c->forgetting) {
        sc_warn("this node's directory marker in bucket %d is gone from redis (its primary lost "
                "data: FLUSHALL, eviction?)",
                mp->b);
        c->dir_redirected = true;
    } else if (r && r->type == REDIS_REPLY_ERROR) {
        sc_cl_on_cmd_reply(rc, reply, c);
    }
    free(mp);
}

/* Each heartbeat: one bucket's marker per primary, a different bucket
 * each time, so every bucket is checked within SC_DIR_BUCKETS heartbeats
 * and every primary at each. */
void sc_cl_buckets_check(sc_cluster *c)
{
    if (!c->dir_ready || c->forgetting)
        return;
    sc_shard *seen[SC_TOPO_PRIMARIES_MAX];
    int ns = 0;
    char tag[100], key[200];
    argv_buf a = {0};
    for (int k = 0; k < SC_DIR_BUCKETS; k++) {
        int b = (c->marker_rot + k) % SC_DIR_BUCKETS;
        sc_shard *sh = bucket_shard(c, b);
        bool dup = !sh;
        for (int i = 0; i < ns && !dup; i++)
            dup = seen[i] == sh;
        if (dup || ns == SC_TOPO_PRIMARIES_MAX)
            continue;
        seen[ns++] = sh;
        bucket_tag(c, b, tag, sizeof(tag));
        snprintf(key, sizeof(key), "%s:nodesock:%s", tag, c->self);
        a.n = 0;
        sc_cl_arg_str(&a, "HEXISTS");
        sc_cl_arg_str(&a, key);
        sc_cl_arg(&a, "", 0);
        marker_pd *mp = sc_xmalloc(sizeof(*mp));
        *mp = (marker_pd){c, c->resync_gen, b};
        if (!bucket_command(c, b, &a, on_marker, mp))
            free(mp);
    }
    c->marker_rot = (c->marker_rot + 1) % SC_DIR_BUCKETS;
    free(a.argv);
    free(a.lens);
}

/* ---- writes ------------------------------------------------------------------------ */

/* "<len>:<bytes>" */
static void put_lp(sc_buf *b, const char *s, size_t len)
{
    char n[16];
    int k = snprintf(n, sizeof(n), "%zu:", len);
    sc_buf_append(b, n, (size_t)k);
    sc_buf_append(b, s, len);
}

/* The strings one socket's entries need, in one buffer (offsets, lengths). */
typedef struct sock_strs {
    int bid, bsid, buid;   /* buckets; -1: no session / user */
    size_t off[6], len[6]; /* fields s, e, u; values of sockets, sessions, user */
} sock_strs;

enum { F_S, F_E, F_U, V_SOCK, V_SESS, V_USER };

static void str_begin(sc_buf *b, sock_strs *ss, int k)
{
    ss->off[k] = b->len;
}

static void str_end(sc_buf *b, sock_strs *ss, int k)
{
    ss->len[k] = b->len - ss->off[k];
}

/* The value a session entry holds for socket s of this node. */
static void session_value(sc_cluster *c, sc_buf *b, const sc_socket *s)
{
    put_lp(b, c->self, strlen(c->self));
    put_lp(b, sc_socket_id(s), s->id_len);
    sc_buf_append(b, sc_socket_uid(s), s->uid_len);
}

static void sock_strings(sc_cluster *c, sc_buf *b, const sc_socket *s, sock_strs *ss)
{
    const char *id = sc_socket_id(s), *sid = sc_socket_sid(s), *uid = sc_socket_uid(s);
    ss->bid = sc_cl_bucket(id, s->id_len);
    ss->bsid = s->sid_len ? sc_cl_bucket(sid, s->sid_len) : -1;
    ss->buid = s->uid_len ? sc_cl_bucket(uid, s->uid_len) : -1;
    str_begin(b, ss, F_S);
    sc_buf_append(b, "s", 1);
    sc_buf_append(b, id, s->id_len);
    str_end(b, ss, F_S);
    str_begin(b, ss, F_E);
    sc_buf_append(b, "e", 1);
    sc_buf_append(b, sid, s->sid_len);
    str_end(b, ss, F_E);
    str_begin(b, ss, F_U);
    sc_buf_append(b, "u", 1);
    put_lp(b, id, s->id_len);
    sc_buf_append(b, uid, s->uid_len);
    str_end(b, ss, F_U);
    str_begin(b, ss, V_SOCK);
    put_lp(b, c->self, strlen(c->self));
    put_lp(b, sid, s->sid_len);
    sc_buf_append(b, uid, s->uid_len);
    str_end(b, ss, V_SOCK);
    str_begin(b, ss, V_SESS);
    session_value(c, b, s);
    str_end(b, ss, V_SESS);
    str_begin(b, ss, V_USER);
    put_lp(b, c->self, strlen(c->self));
    sc_buf_append(b, sid, s->sid_len);
    str_end(b, ss, V_USER);
}

#define STR(k) ((const char *)strs.data + ss[i].off[k]), ss[i].len[k]

/* One bucket's writes of a batch: the node's list first, then the entries. */
static void write_bucket(sc_cluster *c, int b, const sc_socket **socks, const sock_strs *ss,
                         size_t n, sc_buf strs)
{
    char tag[100], key[SC_ID_MAX + 200];
    bucket_tag(c, b, tag, sizeof(tag));
    argv_buf a = {0};
    snprintf(key, sizeof(key), "%s:nodesock:%s", tag, c->self);
    sc_cl_arg_str(&a, "HSET");
    sc_cl_arg_str(&a, key);
    for (size_t i = 0; i < n; i++) {
        if (ss[i].bid == b) {
            sc_cl_arg(&a, STR(F_S));
            sc_cl_arg(&a, "", 0);
        }
        if (ss[i].bsid == b) {
            sc_cl_arg(&a, STR(F_E));
            sc_cl_arg(&a, "", 0);
        }
        if (ss[i].buid == b) {
            sc_cl_arg(&a, STR(F_U));
            sc_cl_arg(&a, "", 0);
        }
    }
    bucket_command(c, b, &a, on_bucket_reply, c);
    static const struct {
        const char *name;
        int f;
    } hashes[] = {{"sockets", V_SOCK}, {"sessions", V_SESS}};
    for (int h = 0; h < 2; h++) {
        a.n = 0;
        snprintf(key, sizeof(key), "%s:%s", tag, hashes[h].name);
        sc_cl_arg_str(&a, "HSET");
        sc_cl_arg_str(&a, key);
        for (size_t i = 0; i < n; i++)
            if ((h == 0 ? ss[i].bid : ss[i].bsid) == b) {
                if (h == 0)
                    sc_cl_arg(&a, sc_socket_id(socks[i]), socks[i]->id_len);
                else
                    sc_cl_arg(&a, sc_socket_sid(socks[i]), socks[i]->sid_len);
                sc_cl_arg(&a, STR(hashes[h].f));
            }
        if (a.n > 2)
            bucket_command(c, b, &a, on_bucket_reply, c);
    }
    for (size_t i = 0; i < n; i++) {
        a.n = 0;
        if (ss[i].buid == b) {
            snprintf(key, sizeof(key), "%s:user:%s", tag, sc_socket_uid(socks[i]));
            sc_cl_arg_str(&a, "HSET");
            sc_cl_arg_str(&a, key);
            sc_cl_arg(&a, sc_socket_id(socks[i]), socks[i]->id_len);
            sc_cl_arg(&a, STR(V_USER));
            bucket_command(c, b, &a, on_bucket_reply, c);
        }
        a.n = 0;
        if (ss[i].bsid == b) { /* connected again: the data no longer expires */
            snprintf(key, sizeof(key), "%s:sdata:%s", tag, sc_socket_sid(socks[i]));
            sc_cl_arg_str(&a, "PERSIST");
            sc_cl_arg_str(&a, key);
            bucket_command(c, b, &a, on_bucket_reply, c);
        }
    }
    free(a.argv);
    free(a.lens);
}

void sc_cl_buckets_write(sc_cluster *c, const sc_socket **socks, size_t n)
{
    sc_buf strs;
    sc_buf_init(&strs);
    sock_strs *ss = sc_xmalloc(n * sizeof(*ss));
    uint64_t mask = 0;
    for (size_t i = 0; i < n; i++) {
        sock_strings(c, &strs, socks[i], &ss[i]);
        mask |= 1ull << ss[i].bid;
        if (ss[i].bsid >= 0)
            mask |= 1ull << ss[i].bsid;
        if (ss[i].buid >= 0)
            mask |= 1ull << ss[i].buid;
    }
    for (int b = 0; b < SC_DIR_BUCKETS; b++)
        if (mask & (1ull << b))
            write_bucket(c, b, socks, ss, n, strs);
    free(ss);
    sc_buf_free(&strs);
}

void sc_cl_buckets_drop(sc_cluster *c, const sc_socket *s, const sc_socket *heir)
{
    sc_buf strs, hv;
    sc_buf_init(&strs);
    sc_buf_init(&hv);
    sock_strs ss[1];
    sock_strings(c, &strs, s, ss);
    if (heir)
        session_value(c, &hv, heir);
    int bs[3] = {ss[0].bid, ss[0].bsid, ss[0].buid};
    char tag[100], key[300], grace[24];
    sc_cl_grace_arg(c, grace, sizeof(grace));
    argv_buf a = {0};
    for (int k = 0; k < 3; k++) {
        int b = bs[k];
        if (b < 0 || (k > 0 && b == bs[0]) || (k > 1 && b == bs[1]))
            continue; /* no such entry, or sent with an earlier bucket's */
        bucket_tag(c, b, tag, sizeof(tag));
        snprintf(key, sizeof(key), "%s:nodesock:%s", tag, c->self);
        a.n = 0;
        bucket_script(c, &a, S_SDROP, b, key);
        sc_cl_arg_str(&a, tag);
        sc_cl_arg_str(&a, c->self);
        sc_cl_arg_str(&a, grace);
        for (int j = k; j < 3; j++) {
            if (bs[j] != b)
                continue;
            sc_cl_arg(&a, (const char *)strs.data + ss[0].off[j], ss[0].len[j]);
            sc_cl_arg(&a, j == F_E ? sc_socket_id(s) : "", j == F_E ? s->id_len : 0);
            sc_cl_arg(&a, j == F_E && heir ? (const char *)hv.data : "",
                      j == F_E && heir ? hv.len : 0);
        }
        bucket_command(c, b, &a, on_bucket_reply, c);
    }
    free(a.argv);
    free(a.lens);
    sc_buf_free(&strs);
    sc_buf_free(&hv);
}

/* ---- forgets ----------------------------------------------------------------------- */

/* One node's forget in every bucket: one script call per bucket in flight,
 * called again while the bucket answers 0 (more left). A bucket whose
 * primary is unreachable is skipped (`partial`): for this node's own, its
 * reconnect rewrites again; a dead node's stays listed and is tried at a
 * later heartbeat. */
typedef struct forget_job {
    sc_cluster *c;
    bool self, partial, dropped; /* dropped: abandoned, freed when none is in flight */
    uint64_t gen;                /* self: c->resync_gen at the start */
    uint32_t inflight;
    void (*done)(sc_cluster *c);
    char node[64];
} forget_job;

typedef struct forget_pd {
    forget_job *job;
    int b;
} forget_pd;

static void forget_send(forget_job *j, int b);

static bool job_stale(const forget_job *j)
{
    sc_cluster *c = j->c;
    if (j->dropped || c->closing)
        return true;
    /* a newer rewrite (or the leave) started its own; a dead node is back */
    return j->self ? j->gen != c->resync_gen : sc_cl_live_has(c, j->node);
}

static void dead_job_finish(sc_cluster *c, forget_job *j);

static void job_maybe_end(forget_job *j)
{
    if (j->inflight)
        return;
    sc_cluster *c = j->c;
    if (!job_stale(j)) {
        c->forget_partial = j->partial;
        if (j->self)
            j->done(c);
        else if (!j->partial)
            dead_job_finish(c, j);
    }
    if (!j->self)
        for (int i = 0; i < c->ndead_jobs; i++)
            if (c->dead_jobs[i] == j)
                c->dead_jobs[i] = c->dead_jobs[--c->ndead_jobs];
    free(j);
}

static void on_forget_chunk(sc_redis *rc, void *reply, void *pd)
{
    forget_pd *fp = pd;
    forget_job *j = fp->job;
    int b = fp->b;
    free(fp);
    j->inflight--;
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_INTEGER) {
        if (r)
            on_bucket_reply(rc, reply, j->c);
        j->partial = true;
    } else if (r->integer == 0) {
        if (job_stale(j))
            j->partial = true; /* entries left: never dropped from the node list so */
        else
            forget_send(j, b); /* more left in this bucket */
    }
    job_maybe_end(j);
}

static void forget_send(forget_job *j, int b)
{
    sc_cluster *c = j->c;
    char tag[100], key[200], grace[24];
    bucket_tag(c, b, tag, sizeof(tag));
    snprintf(key, sizeof(key), "%s:nodesock:%s", tag, j->node);
    sc_cl_grace_arg(c, grace, sizeof(grace));
    argv_buf a = {0};
    bucket_script(c, &a, S_SFORGET, b, key);
    sc_cl_arg_str(&a, tag);
    sc_cl_arg_str(&a, j->node);
    sc_cl_arg_str(&a, grace);
    sc_cl_arg_str(&a, FORGET_BUDGET);
    forget_pd *fp = sc_xmalloc(sizeof(*fp));
    *fp = (forget_pd){j, b};
    if (bucket_command(c, b, &a, on_forget_chunk, fp))
        j->inflight++;
    else {
        free(fp);
        j->partial = true;
    }
    free(a.argv);
    free(a.lens);
}

static forget_job *forget_start(sc_cluster *c, const char *node, bool self)
{
    forget_job *j = sc_xcalloc(1, sizeof(*j));
    j->c = c;
    j->self = self;
    j->gen = c->resync_gen;
    snprintf(j->node, sizeof(j->node), "%s", node);
    j->inflight = 1; /* held while the first calls go out */
    for (int b = 0; b < SC_DIR_BUCKETS; b++)
        forget_send(j, b);
    return j;
}

void sc_cl_buckets_forget_self(sc_cluster *c, void (*done)(sc_cluster *c))
{
    forget_job *j = forget_start(c, c->self, true);
    j->done = done;
    j->inflight--;
    job_maybe_end(j);
}

static void on_node_dropped(sc_redis *rc, void *reply, void *pd)
{
    sc_cluster *c = pd;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
        SC_COUNT(dead_nodes_reaped);
        sc_warn("reaped a dead node: its liveness expired; its directory entries were removed "
                "from every bucket");
    } else if (r && r->type != REDIS_REPLY_INTEGER) {
        sc_cl_on_cmd_reply(rc, reply, c); /* tried again at a later heartbeat */
    }
}

/* Every bucket of a dead node is empty: off the node list (home slot). */
static void dead_job_finish(sc_cluster *c, forget_job *j)
{
    argv_buf a = {0};
    sc_cl_arg_script(c, &a, S_NDROP);
    sc_cl_arg_str(&a, c->prefix);
    sc_cl_arg_str(&a, j->node);
    sc_cl_command(c, (int)a.n, a.argv, a.lens, false, false, on_node_dropped, c);
    free(a.argv);
    free(a.lens);
}

void sc_cl_buckets_reap(sc_cluster *c, redisReply **ids, size_t n)
{
    for (size_t i = 0; i < n && c->ndead_jobs < DEAD_JOBS_MAX; i++) {
        const redisReply *id = ids[i];
        if (id->type != REDIS_REPLY_STRING || id->len >= 64 || strcmp(id->str, c->self) == 0)
            continue;
        bool busy = false;
        for (int k = 0; k < c->ndead_jobs && !busy; k++)
            busy = strcmp(c->dead_jobs[k]->node, id->str) == 0;
        if (busy)
            continue;
        forget_job *j = forget_start(c, id->str, false);
        c->dead_jobs[c->ndead_jobs++] = j;
        j->inflight--;
        job_maybe_end(j);
    }
}

/* A PING on each primary holding a bucket, behind a rewrite's writes:
 * their replies confirm it. Returns how many went out, or -1 (none) when a
 * bucket's primary is unreachable: its reconnect rewrites again. */
int sc_cl_buckets_confirm(sc_cluster *c, sc_redis_reply_fn *cb, void *pd)
{
    if (!sc_cl_buckets_all_up(c))
        return -1;
    sc_shard *sent[SC_TOPO_PRIMARIES_MAX];
    int ns = 0;
    argv_buf a = {0};
    sc_cl_arg_str(&a, "PING");
    for (int b = 0; b < SC_DIR_BUCKETS; b++) {
        sc_shard *sh = bucket_shard(c, b);
        bool seen = false;
        for (int k = 0; k < ns && !seen; k++)
            seen = sent[k] == sh;
        if (!seen && ns < SC_TOPO_PRIMARIES_MAX && bucket_command(c, b, &a, cb, pd))
            sent[ns++] = sh;
    }
    free(a.argv);
    free(a.lens);
    return ns;
}

/* ---- targeted emits through the buckets --------------------------------------------- */

/* One read of a pending emit: the ids of one bucket (HMGET), or one user
 * id's sockets (HGETALL). */
typedef struct tread {
    int b;
    int user;      /* index in users; -1: the ids of bucket b */
    uint8_t state; /* 0 to send, 1 in flight, 2 answered or given up */
    uint8_t tries; /* error answers so far */
} tread;

typedef struct sc_tgt {
    struct sc_tgt *next;
    uint8_t *env;
    size_t len;
    bool vol;
    size_t nids, nusers, nreads, nnodes, capnodes, bytes;
    char **ids, **users; /* copies */
    uint8_t *id_b;       /* the bucket of each id */
    uint64_t gave_up;    /* buckets whose read was given up */
    char **id_node;      /* the node of each id, once read (NULL: none) */
    char **nodes;        /* the nodes the users' sockets are on */
    tread *reads;
    uint32_t inflight;
} sc_tgt;

typedef struct tread_pd {
    sc_cluster *c;
    sc_tgt *t;
    size_t r;
} tread_pd;

char *sc_cl_lp_take(const char *s, size_t len, size_t *pos)
{
    const char *colon = *pos < len ? memchr(s + *pos, ':', len - *pos) : NULL;
    if (!colon)
        return NULL;
    size_t l = (size_t)strtoull(s + *pos, NULL, 10), start = (size_t)(colon - s) + 1;
    if (l > len - start)
        return NULL;
    *pos = start + l;
    return sc_xstrndup(s + start, l);
}

static void tgt_free(sc_tgt *t)
{
    for (size_t i = 0; i < t->nids; i++) {
        free(t->ids[i]);
        free(t->id_node[i]);
    }
    for (size_t i = 0; i < t->nusers; i++)
        free(t->users[i]);
    for (size_t i = 0; i < t->nnodes; i++)
        free(t->nodes[i]);
    free(t->ids);
    free(t->id_node);
    free(t->id_b);
    free(t->users);
    free(t->nodes);
    free(t->reads);
    free(t->env);
    free(t);
}

static void tgt_add_node(sc_tgt *t, char *node)
{
    for (size_t i = 0; i < t->nnodes; i++)
        if (strcmp(t->nodes[i], node) == 0) {
            free(node);
            return;
        }
    if (t->nnodes == t->capnodes) {
        t->capnodes = t->capnodes ? 2 * t->capnodes : 4;
        t->nodes = sc_xrealloc(t->nodes, t->capnodes * sizeof(char *));
    }
    t->nodes[t->nnodes++] = node;
}

static void read_answer(sc_cluster *c, sc_tgt *t, const tread *rd, const redisReply *r)
{
    if (rd->user >= 0) { /* id -> "<len>:<node><sid>" pairs */
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
            size_t pos = 0;
            char *node = sc_cl_lp_take(r->element[i + 1]->str, r->element[i + 1]->len, &pos);
            if (node)
                tgt_add_node(t, node);
        }
        return;
    }
    size_t k = 0;
    uint64_t now = sc_now_us(), ttl = c->cfg->dircache_ttl_ms * 1000u;
    for (size_t i = 0; i < t->nids && k < r->elements; i++) {
        if (t->id_b[i] != rd->b)
            continue;
        const redisReply *v = r->element[k++];
        size_t pos = 0;
        if (v->type != REDIS_REPLY_STRING || !(t->id_node[i] = sc_cl_lp_take(v->str, v->len, &pos)))
            continue;
        if (dircache_on(c))
            sc_dircache_put(&c->dc, t->ids[i], strlen(t->ids[i]), t->id_node[i],
                            strlen(t->id_node[i]), now, ttl, c->cfg->dircache_max_entries);
    }
}

static void tgt_advance(sc_cluster *c);
static void tread_send(sc_cluster *c, sc_tgt *t, size_t r);

static void on_tread(sc_redis *rc, void *reply, void *pd)
{
    tread_pd *tp = pd;
    sc_cluster *c = tp->c;
    sc_tgt *t = tp->t;
    tread *rd = &t->reads[tp->r];
    free(tp);
    t->inflight--;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_ARRAY) {
        read_answer(c, t, rd, r);
        rd->state = 2;
    } else {
        sc_cl_on_cmd_reply(rc, reply, c); /* counted; a MOVED asks for the slot map */
        rd->tries += r != NULL;           /* a lost connection is waited for, not counted */
        rd->state = 0;                    /* sent again by sc_cl_buckets_retry (or given up) */
    }
    c->tgt_due = true; /* published at the end of the loop iteration */
}

static void tread_send(sc_cluster *c, sc_tgt *t, size_t r)
{
    tread *rd = &t->reads[r];
    if (rd->tries >= READ_TRIES) {
        rd->state = 2;
        if (rd->user < 0)
            t->gave_up |= 1ull << rd->b;
        else
            SC_COUNT(targeted_no_route); /* that user's sockets, unknown */
        sc_log_limited(SC_LOG_WARN,
                       "a targeted message's directory bucket %d answered errors %d times (its "
                       "slot moving, or the cluster down): not delivered to the %s it names there",
                       rd->b, READ_TRIES, rd->user < 0 ? "socket ids" : "user");
        return;
    }
    char tag[100], key[SC_ID_MAX + 200];
    bucket_tag(c, rd->b, tag, sizeof(tag));
    argv_buf a = {0};
    if (rd->user >= 0) {
        snprintf(key, sizeof(key), "%s:user:%s", tag, t->users[rd->user]);
        sc_cl_arg_str(&a, "HGETALL");
        sc_cl_arg_str(&a, key);
    } else {
        snprintf(key, sizeof(key), "%s:sockets", tag);
        sc_cl_arg_str(&a, "HMGET");
        sc_cl_arg_str(&a, key);
        for (size_t i = 0; i < t->nids; i++)
            if (t->id_b[i] == rd->b)
                sc_cl_arg_str(&a, t->ids[i]);
    }
    tread_pd *tp = sc_xmalloc(sizeof(*tp));
    *tp = (tread_pd){c, t, r};
    if (bucket_command(c, rd->b, &a, on_tread, tp)) {
        rd->state = 1;
        t->inflight++;
    } else {
        free(tp);
    }
    free(a.argv);
    free(a.lens);
}

/* A node's copies of the emits answered in this loop iteration: one
 * publish (a Batch envelope when several), as the targeted script sends. */
typedef struct tgt_out {
    char *node;
    sc_buf items; /* Batch.envelopes fields */
    uint32_t n;
} tgt_out;

#define TGT_OUTS_MAX 64

typedef struct tgt_pub_pd {
    sc_cluster *c;
    uint32_t n;
} tgt_pub_pd;

static void on_tgt_published(sc_redis *rc, void *reply, void *pd)
{
    tgt_pub_pd *tp = pd;
    sc_cluster *c = tp->c;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 0) {
        SC_COUNT_N(targeted_unreceived, tp->n);
        sc_log_limited(SC_LOG_WARN,
                       "%u targeted message(s) were published to a node that has no subscriber "
                       "(node gone, or resubscribing): lost",
                       tp->n);
    } else {
        sc_cl_on_cmd_reply(rc, reply, c);
    }
    free(tp);
}

static void out_send(sc_cluster *c, tgt_out *o, bool vol)
{
    if (!o->n)
        return;
    char ch[200];
    channel_of(c, ch, sizeof(ch), "node", o->node);
    const uint8_t *p = o->items.data, *end = p + o->items.len, *env;
    size_t len;
    bool one = o->n == 1;
    if (one) {
        env = sc_cl_batch_next(&p, end, &len);
    } else {
        sc_cl_batch_wrap(c, o->items.data, o->items.len);
        env = c->batch_out.data;
        len = c->batch_out.len;
        SC_COUNT(cluster_batches_sent);
        SC_COUNT_N(cluster_batched_envelopes, o->n);
    }
    tgt_pub_pd *tp = sc_xmalloc(sizeof(*tp));
    *tp = (tgt_pub_pd){c, o->n};
    if (!env || !sc_cl_publish_now_cb(c, ch, strlen(ch), env, len, vol, on_tgt_published, tp))
        free(tp); /* in the outbox (or nothing): no reply to wait for */
    o->n = 0;
    o->items.off = o->items.len = 0;
}

/* Every read of the emit answered: its copy queued for each owner node
 * (not this one: its own sockets were delivered locally). */
static void tgt_publish(sc_cluster *c, sc_tgt *t, tgt_out *outs, size_t *nouts)
{
    size_t missed = 0, unreadable = 0;
    for (size_t i = 0; i < t->nids; i++) {
        if (t->id_node[i]) {
            tgt_add_node(t, t->id_node[i]);
            t->id_node[i] = NULL;
        } else if (t->gave_up & (1ull << t->id_b[i])) {
            unreadable++; /* logged when given up */
        } else {
            missed++;
        }
    }
    SC_COUNT_N(targeted_no_route, missed + unreadable);
    if (missed)
        sc_log_limited(SC_LOG_WARN,
                       "%zu targeted message(s) named socket ids that no node holds in the "
                       "directory (disconnected, or their node is rewriting its directory): not "
                       "delivered to them",
                       missed);
    for (size_t i = 0; i < t->nnodes; i++) {
        if (strcmp(t->nodes[i], c->self) == 0)
            continue;
        tgt_out *o = NULL;
        for (size_t k = 0; k < *nouts && !o; k++)
            if (strcmp(outs[k].node, t->nodes[i]) == 0)
                o = &outs[k];
        if (!o && *nouts == TGT_OUTS_MAX) { /* rare: that many nodes at once */
            for (size_t k = 0; k < *nouts; k++)
                out_send(c, &outs[k], false);
            o = &outs[0];
            free(o->node);
            o->node = sc_xstrdup(t->nodes[i]);
        } else if (!o) {
            o = &outs[(*nouts)++];
            o->node = sc_xstrdup(t->nodes[i]);
            sc_buf_init(&o->items);
            o->n = 0;
        }
        if (o->n && o->items.len + t->len + 16 > BATCH_MAX_BYTES)
            out_send(c, o, false);
        sc_wire_put_bytes_field(&o->items, SC_BATCH_ENVELOPES, t->env, t->len);
        o->n++;
    }
}

/* Publish the emits at the head whose reads are all answered, in order,
 * one publish per node for all of them (each node reads only its own
 * channel, so only the order per node matters). */
static void tgt_advance(sc_cluster *c)
{
    tgt_out outs[TGT_OUTS_MAX];
    size_t nouts = 0;
    while (c->tgt_head) {
        sc_tgt *t = c->tgt_head;
        bool done = true;
        for (size_t r = 0; r < t->nreads && done; r++)
            done = t->reads[r].state == 2;
        if (!done)
            break;
        tgt_publish(c, t, outs, &nouts);
        c->tgt_head = t->next;
        if (!c->tgt_head)
            c->tgt_tail = NULL;
        c->tgt_bytes -= t->bytes;
        tgt_free(t);
    }
    if (nouts)
        sc_cl_batch_flush(c);
    for (size_t k = 0; k < nouts; k++) {
        out_send(c, &outs[k], false);
        free(outs[k].node);
        sc_buf_free(&outs[k].items);
    }
}

/* The end of a loop iteration (cluster_core.c): the emits answered in it
 * are published together. */
void sc_cl_buckets_flush(sc_cluster *c)
{
    if (c->tgt_due && !c->closing) {
        c->tgt_due = false;
        tgt_advance(c);
    }
}

/* Send the reads of t that wait to be sent (never sent, or their
 * connection dropped or the slot moved since). */
static void tgt_send(sc_cluster *c, sc_tgt *t)
{
    for (size_t r = 0; r < t->nreads; r++)
        if (t->reads[r].state == 0)
            tread_send(c, t, r);
}

bool sc_cl_buckets_busy(const sc_cluster *c)
{
    return c->tgt_head != NULL;
}

/* A primary came up or the slot map was read again: reads that could not
 * go, or failed, are sent again (each READ_TRIES times at most). */
void sc_cl_buckets_retry(sc_cluster *c)
{
    if (c->closing)
        return;
    for (sc_tgt *t = c->tgt_head; t; t = t->next)
        tgt_send(c, t);
    c->tgt_due = true;
}

static char **copy_strs(const char *const *v, size_t n)
{
    char **out = sc_xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        out[i] = sc_xstrdup(v[i]);
    return out;
}

void sc_cl_buckets_targeted(sc_cluster *c, const uint8_t *env, size_t len, const char *const *ids,
                            size_t n_ids, const char *const *users, size_t n_users, bool vol)
{
    size_t bytes = len + 64 * (n_ids + n_users);
    for (size_t i = 0; i < n_ids; i++)
        bytes += strlen(ids[i]);
    for (size_t i = 0; i < n_users; i++)
        bytes += strlen(users[i]);
    uint64_t max = SC_MAX((uint64_t)TGT_MIN_BYTES, c->cfg->outbox_max_bytes);
    if (c->tgt_bytes + bytes > max) {
        SC_COUNT(outbox_dropped_full);
        sc_log_limited(SC_LOG_WARN,
                       "targeted messages waiting for their directory buckets (a primary "
                       "unreachable?) hold %zu bytes (at most %llu, or outbox_max_bytes): "
                       "dropping one",
                       c->tgt_bytes, (unsigned long long)max);
        return;
    }
    sc_tgt *t = sc_xcalloc(1, sizeof(*t));
    t->env = sc_xmalloc(len ? len : 1);
    memcpy(t->env, env, len);
    t->len = len;
    t->vol = vol;
    t->nids = n_ids;
    t->nusers = n_users;
    t->ids = copy_strs(ids, n_ids);
    t->users = copy_strs(users, n_users);
    t->id_node = sc_xcalloc(n_ids + 1, sizeof(char *));
    t->id_b = sc_xmalloc(n_ids + 1);
    t->bytes = bytes;
    t->reads = sc_xcalloc(SC_DIR_BUCKETS + n_users, sizeof(tread));
    uint64_t mask = 0;
    for (size_t i = 0; i < n_ids; i++) {
        t->id_b[i] = (uint8_t)sc_cl_bucket(ids[i], strlen(ids[i]));
        mask |= 1ull << t->id_b[i];
    }
    for (int b = 0; b < SC_DIR_BUCKETS; b++)
        if (mask & (1ull << b))
            t->reads[t->nreads++] = (tread){b, -1, 0, 0};
    for (size_t u = 0; u < n_users; u++)
        t->reads[t->nreads++] = (tread){sc_cl_bucket(users[u], strlen(users[u])), (int)u, 0, 0};
    if (c->tgt_tail)
        c->tgt_tail->next = t;
    else
        c->tgt_head = t;
    c->tgt_tail = t;
    c->tgt_bytes += bytes;
    tgt_send(c, t);
    c->tgt_due = true; /* an emit with nothing to read goes out at the iteration's end */
}

void sc_cl_buckets_free(sc_cluster *c)
{
    while (c->tgt_head) {
        sc_tgt *t = c->tgt_head;
        c->tgt_head = t->next;
        tgt_free(t);
    }
    c->tgt_tail = NULL;
}
