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
 * bucket by bucket, bounded script calls), the rewrite's confirmation, a
 * marker per bucket checked by the heartbeats, and the commands other
 * parts send to a bucket's primary (sc_cl_bucket_call, _command: lookups,
 * session data, cluster_bucket_emits.c's reads).
 *
 * It sends through cluster_send.c (and its own sends to a bucket's
 * primary) and reads the live list through cluster_liveness.c; it never
 * touches the registry, the subscriptions or the directory cache. */
#include "cluster_int.h"
#include "log.h"
#include "stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Forgets of dead nodes under way at once; more wait for a later heartbeat. */
#define DEAD_JOBS_MAX 16

int sc_cl_bucket(const char *key, size_t len)
{
    return sc_slot(key, len) % SC_DIR_BUCKETS;
}

static void bucket_tag(const sc_cluster *c, int b, char *out, size_t len)
{
    snprintf(out, len, "{%s:%d}", c->room_prefix, b);
}

/* "{prefix:b}:nodesock:<node>": what `node` wrote in bucket b; tag gets
 * the bucket's tag too. */
static void list_key(const sc_cluster *c, int b, const char *node, char *tag, size_t taglen,
                     char *key, size_t keylen)
{
    bucket_tag(c, b, tag, taglen);
    snprintf(key, keylen, "%s:nodesock:%s", tag, node);
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

bool sc_cl_bucket_command(sc_cluster *c, int b, const argv_buf *a, sc_redis_reply_fn *cb, void *pd)
{
    return bucket_command(c, b, a, cb, pd);
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
        list_key(c, b, c->self, tag, sizeof(tag), key, sizeof(key));
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
        list_key(c, b, c->self, tag, sizeof(tag), key, sizeof(key));
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
    list_key(c, b, c->self, tag, sizeof(tag), key, sizeof(key));
    argv_buf a = {0};
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
        list_key(c, b, c->self, tag, sizeof(tag), key, sizeof(key));
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
    list_key(c, b, j->node, tag, sizeof(tag), key, sizeof(key));
    sc_cl_forget_grace_arg(c, j->node, grace, sizeof(grace));
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

/* ---- values --------------------------------------------------------------------------- */

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
