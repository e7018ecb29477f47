/* cluster_directory: this node's part of the directory in Redis (see
 * cluster.h: P:sockets, P:nodesock:<id>, and the session and user keys):
 * socket ups batched per loop iteration, downs through lua/unregister.lua,
 * the rewrite after a reconnect or a loss (sc_cl_directory_resync),
 * confirmed by a PING, and the recovery when Redis lost the scripts
 * (NOSCRIPT). And the lookups and session data apps ask for, one script
 * call each, answered straight to the app.
 *
 * It writes Redis only through sc_cl_command and publishes nothing. It
 * reads the registry, never changes it; the directory *cache* is not its
 * own (dircache.c, filled and used by cluster_emit.c). */
#include "cluster_int.h"
#include "conn.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "stats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESYNC_BATCH 256

/* ---- directory ------------------------------------------------------------------- */

/* "<len of sid>:<sid><uid>": any bytes in the ids survive the round trip */
static size_t socket_meta(const sc_socket *s, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%u:%s%s", (unsigned)s->sid_len, sc_socket_sid(s),
                     sc_socket_uid(s));
    return n < 0 ? 0 : SC_MIN((size_t)n, outlen - 1);
}

/* Redis lost the scripts (SCRIPT FLUSH, or a failover to a replica that
 * never loaded them): EVALSHA fails with NOSCRIPT until they are loaded
 * again. Back to EVAL at once, load them again, and rewrite the directory
 * (socket downs refused meanwhile left entries behind). The refused
 * commands themselves are counted in redis_errors by their handlers. */
void sc_cl_check_noscript(sc_cluster *c, const redisReply *r)
{
    if (!r || r->type != REDIS_REPLY_ERROR || strncmp(r->str, "NOSCRIPT", 8) != 0 ||
        c->loaded_gen != c->pub_gen)
        return;
    c->loaded_gen = 0; /* no connection has generation 0 once up */
    SC_COUNT(redis_scripts_reloaded);
    sc_warn("redis no longer knows sidecast's scripts (SCRIPT FLUSH or a failover): loading them "
            "again and rewriting this node's directory");
    sc_cl_load_scripts(c);
    if (c->ever_up) /* lookups between the forget and the writes find nothing */
        sc_cl_gap_begin(c, wall_ms(), "redis lost sidecast's scripts; directory rewritten");
    sc_cl_directory_resync(c);
}

/* Reply handler of directory commands: sc_cl_on_cmd_reply, plus NOSCRIPT. */
static void on_dir_reply(sc_redis *rc, void *reply, void *pd)
{
    sc_cl_check_noscript(pd, reply);
    sc_cl_on_cmd_reply(rc, reply, pd);
}

static void argv_send(sc_cluster *c, argv_buf *a, bool keep, bool vol)
{
    if (a->n)
        sc_cl_command(c, (int)a->n, a->argv, a->lens, keep, vol, on_dir_reply, c);
    a->n = 0;
}

/* Directory writes for a batch of sockets: a few pipelined commands. */
static void hset_batch(sc_cluster *c, const sc_socket **socks, size_t n)
{
    if (c->spread) {
        sc_cl_buckets_write(c, socks, n);
        return;
    }
    char key[160], setkey[200], sesskey[160];
    snprintf(key, sizeof(key), "%s:sockets", c->prefix);
    snprintf(setkey, sizeof(setkey), "%s:nodesock:%s", c->prefix, c->self);
    snprintf(sesskey, sizeof(sesskey), "%s:sessions", c->prefix);
    char(*metas)[160] = sc_xmalloc(sizeof(*metas) * n);
    argv_buf a = {0};
    sc_cl_arg_str(&a, "HSET");
    sc_cl_arg_str(&a, key);
    for (size_t i = 0; i < n; i++) {
        sc_cl_arg(&a, sc_socket_id(socks[i]), socks[i]->id_len);
        sc_cl_arg_str(&a, c->self);
    }
    argv_send(c, &a, false, false);
    sc_cl_arg_str(&a, "HSET");
    sc_cl_arg_str(&a, setkey);
    for (size_t i = 0; i < n; i++) {
        sc_cl_arg(&a, sc_socket_id(socks[i]), socks[i]->id_len);
        sc_cl_arg(&a, metas[i], socket_meta(socks[i], metas[i], sizeof(metas[i])));
    }
    argv_send(c, &a, false, false);
    sc_cl_arg_str(&a, "HSET");
    sc_cl_arg_str(&a, sesskey);
    for (size_t i = 0; i < n; i++)
        if (socks[i]->sid_len) {
            sc_cl_arg(&a, sc_socket_sid(socks[i]), socks[i]->sid_len);
            sc_cl_arg(&a, sc_socket_id(socks[i]), socks[i]->id_len);
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
            sc_cl_command(c, 3, sa, sl, false, false, NULL, NULL);
        }
        if (socks[i]->sid_len) { /* connected again: the data no longer expires */
            snprintf(dkey, sizeof(dkey), "%s:sdata:%s", c->prefix, sc_socket_sid(socks[i]));
            const char *pa[] = {"PERSIST", dkey};
            size_t pl[] = {7, strlen(dkey)};
            sc_cl_command(c, 2, pa, pl, false, false, NULL, NULL);
        }
    }
    free(a.argv);
    free(a.lens);
    free(metas);
}

void sc_cl_flush_ups(sc_cluster *c)
{
    if (c->forgetting)
        c->nups = 0; /* the rewrite after the forget writes them */
    if (c->nups == 0 || c->flushing_ups)
        return;
    c->flushing_ups = true; /* hset_batch sends through sc_cl_command() */
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
        sc_cl_flush_ups(c);
}

void sc_cluster_socket_down(sc_cluster *c, const sc_socket *s)
{
    if (!c || c->leaving || c->forgetting) /* forgetting: the forget removes it */
        return;
    const sc_socket *heir = sc_registry_session_other(s);
    if (c->spread) {
        sc_cl_buckets_drop(c, s, heir);
        return;
    }
    char grace[24];
    sc_cl_grace_arg(c, grace, sizeof(grace));
    argv_buf a = {0};
    sc_cl_arg_script(c, &a, S_UNREGISTER);
    sc_cl_arg_str(&a, c->prefix);
    sc_cl_arg_str(&a, c->self);
    sc_cl_arg(&a, sc_socket_id(s), s->id_len);
    sc_cl_arg_str(&a, grace);
    sc_cl_arg(&a, heir ? sc_socket_id(heir) : "", heir ? heir->id_len : 0);
    argv_send(c, &a, false, false);
    free(a.argv);
    free(a.lens);
}

/* This node's own forget, FORGET_BUDGET entries per script call, calls
 * chained until Redis says all are gone; then `done`. A forget of an older
 * rewrite (its generation passed) or of a lost connection stops: the next
 * rewrite starts its own. */
typedef struct forget_pd {
    sc_cluster *c;
    uint64_t gen;
    void (*done)(sc_cluster *c);
} forget_pd;

static void forget_chunk(sc_cluster *c, forget_pd *fp);

static void on_forget_reply(sc_redis *rc, void *reply, void *pd)
{
    forget_pd *fp = pd;
    sc_cluster *c = fp->c;
    redisReply *r = reply;
    if (!r || fp->gen != c->resync_gen || r->type != REDIS_REPLY_INTEGER) {
        if (r && r->type != REDIS_REPLY_INTEGER) {
            sc_cl_check_noscript(c, r); /* rewrites again, a new generation */
            sc_cl_on_cmd_reply(rc, reply, c);
        }
        free(fp);
        return;
    }
    if (r->integer == 1) {
        void (*done)(sc_cluster *) = fp->done;
        free(fp);
        done(c);
        return;
    }
    forget_chunk(c, fp);
}

static void forget_chunk(sc_cluster *c, forget_pd *fp)
{
    char grace[24];
    sc_cl_forget_grace_arg(c, c->self, grace, sizeof(grace));
    argv_buf a = {0};
    sc_cl_arg_script(c, &a, S_FORGET);
    sc_cl_arg_str(&a, c->prefix);
    sc_cl_arg_str(&a, c->self);
    sc_cl_arg_str(&a, grace);
    sc_cl_arg_str(&a, FORGET_BUDGET);
    if (!sc_cl_command(c, (int)a.n, a.argv, a.lens, false, false, on_forget_reply, fp))
        free(fp); /* not connected: the next connection rewrites from the start */
    free(a.argv);
    free(a.lens);
}

void sc_cl_forget_self(sc_cluster *c, void (*done)(sc_cluster *c))
{
    if (c->spread) {
        sc_cl_buckets_forget_self(c, done);
        return;
    }
    forget_pd *fp = sc_xmalloc(sizeof(*fp));
    *fp = (forget_pd){c, c->resync_gen, done};
    forget_chunk(c, fp);
}

/* A PING after a rewrite: Redis answers in order, so its reply means every
 * write of the rewrite before it is done. */
static void on_dir_written(sc_redis *rc, void *reply, void *pd)
{
    sc_cluster *c = pd;
    c->dir_pings--;
    if (!reply || c->dir_pings > 0)
        return; /* lost with its connection (rewritten on the next), or not the last */
    c->dir_ready = true;
    sc_cl_maybe_end_gap(c);
    sc_cl_maybe_announce(c);
}

/* The forget is done: every local socket written again, with the marker. */
static void rewrite(sc_cluster *c)
{
    c->forgetting = false;
    if (c->leaving)
        return;
    c->nups = 0; /* written below */
    c->beats_since_resync = 0; /* the next heartbeat is the first after it */
    char setkey[200];
    snprintf(setkey, sizeof(setkey), "%s:nodesock:%s", c->prefix, c->self);
    const char *ma[] = {"HSET", setkey, "", "0:"};
    size_t ml[] = {4, strlen(setkey), 0, 2};
    sc_cl_command(c, 4, ma, ml, false, false, NULL, NULL);
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
    /* on a Redis Cluster, confirmed by every primary holding a bucket; one
     * unreachable will rewrite again when it is back */
    if (c->spread)
        sc_cl_buckets_mark(c);
    int confirms = c->spread ? sc_cl_buckets_confirm(c, on_dir_written, c) : 0;
    const char *pa[] = {"PING"};
    size_t pl[] = {4};
    if (confirms > 0)
        c->dir_pings += (uint32_t)confirms;
    if (confirms >= 0 && sc_cl_command(c, 1, pa, pl, false, false, on_dir_written, c))
        c->dir_pings++;
    SC_COUNT(directory_resyncs);
    sc_info("directory: wrote %zu socket(s) of this node to redis", total);
    c->rewritten(c);
}

/* After (re)connecting, or when a heartbeat found this node's entries gone:
 * forget what Redis may still hold for this node and write every local
 * socket again, plus the directory's marker field, so an emptied Redis
 * (restart without persistence, FLUSHALL) or entries reaped during a stall
 * are repaired. The forget goes in bounded script calls; socket ups and
 * downs meanwhile are not sent (the rewrite after it writes the registry as
 * it is then), nor are heartbeats judged. Until Redis confirms the
 * rewrite, dir_ready is false (a Gap open now stays open, /readyz says
 * not ready). */
void sc_cl_directory_resync(sc_cluster *c)
{
    c->dir_redirected = false;
    c->nups = 0; /* the rewrite writes every socket anyway */
    c->dir_ready = false;
    c->beats_since_resync = 0;
    c->resync_gen++;
    c->announce_due = true; /* peers may have dropped this node meanwhile */
    if (c->leaving)
        return;
    c->forgetting = true;
    sc_cl_forget_self(c, rewrite);
}

/* ---- lookups and session data (one script call each) ---------------------------- */

typedef struct pending_call {
    sc_cluster *c;
    uint64_t req;
} pending_call;

/* The request behind a reply, or NULL if it timed out or its app left. The
 * caller answers and calls sc_request_done. */
static sc_request *call_request(sc_redis *rc, void *reply, void *pd)
{
    pending_call *pc = pd;
    if (pc->c->spread) /* a bucket's primary, maybe not the home one */
        sc_cl_buckets_noscript(pc->c, rc, reply);
    else
        sc_cl_check_noscript(pc->c, reply);
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

/* One socket a lookup found: strings owned by the record. */
typedef struct loc_rec {
    char *id, *node, *name, *addr, *sid, *uid;
} loc_rec;

static void answer_lookup(sc_cluster *c, sc_request *r, loc_rec *recs, size_t n)
{
    Sidecast__V1__SocketLocation *locs = sc_xcalloc(n + 1, sizeof(*locs));
    Sidecast__V1__SocketLocation **ptrs = sc_xcalloc(n + 1, sizeof(*ptrs));
    uint32_t nodes = 0;
    for (size_t i = 0; i < n; i++) {
        Sidecast__V1__SocketLocation *l = &locs[i];
        sidecast__v1__socket_location__init(l);
        l->socket_id = recs[i].id;
        l->node_id = recs[i].node;
        l->node_name = recs[i].name;
        l->address = recs[i].addr;
        l->session_id = recs[i].sid;
        l->user_id = recs[i].uid;
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
    for (size_t i = 0; i < n; i++) {
        free(recs[i].id);
        free(recs[i].node);
        free(recs[i].name);
        free(recs[i].addr);
        free(recs[i].sid);
        free(recs[i].uid);
    }
    free(ptrs);
    free(locs);
}

static void on_lookup_reply(sc_redis *rc, void *reply, void *pd)
{
    sc_cluster *c = ((pending_call *)pd)->c;
    sc_request *r = call_request(rc, reply, pd);
    if (!r)
        return;
    redisReply *rep = reply;
    size_t n = rep->type == REDIS_REPLY_ARRAY ? rep->elements / 4 : 0;
    loc_rec *recs = sc_xcalloc(n + 1, sizeof(*recs));
    for (size_t i = 0; i < n; i++) {
        redisReply **e = rep->element + 4 * i;
        recs[i].id = sc_xstrndup(e[0]->str, e[0]->len);
        recs[i].node = sc_xstrndup(e[1]->str, e[1]->len);
        sc_cl_parse_info(e[2]->str, e[2]->len, &recs[i].name, &recs[i].addr);
        sc_cl_parse_info(e[3]->str, e[3]->len, &recs[i].sid, &recs[i].uid);
    }
    answer_lookup(c, r, recs, n);
    free(recs);
}

/* A bucket entry (lua/spread.lua) into a record: the node's name and
 * address from the live list; false (nothing kept) if the node is not
 * live or the entry is malformed. kind: 's' socket entry (value: node,
 * sid, uid), 'e' session entry (node, id, uid), 'u' user entry (node, sid). */
static bool rec_from_entry(sc_cluster *c, char kind, const char *key, const redisReply *k,
                           const redisReply *v, loc_rec *rec)
{
    if (!v || v->type != REDIS_REPLY_STRING)
        return false;
    size_t pos = 0;
    const char *name, *addr;
    char *node = sc_cl_lp_take(v->str, v->len, &pos), *mid = NULL;
    if (!node || !sc_cl_live_info(c, node, &name, &addr) ||
        (kind != 'u' && !(mid = sc_cl_lp_take(v->str, v->len, &pos)))) {
        free(node);
        return false;
    }
    char *rest = sc_xstrndup(v->str + pos, v->len - pos);
    char *nm = sc_xstrdup(name), *ad = sc_xstrdup(addr);
    if (kind == 's')
        *rec = (loc_rec){sc_xstrdup(key), node, nm, ad, mid, rest};
    else if (kind == 'e')
        *rec = (loc_rec){mid, node, nm, ad, sc_xstrdup(key), rest};
    else
        *rec = (loc_rec){sc_xstrndup(k->str, k->len), node, nm, ad, rest, sc_xstrdup(key)};
    return true;
}

typedef struct spread_call {
    pending_call pc; /* first: call_request frees it */
    char kind;
    char key[];
} spread_call;

static void on_spread_lookup_reply(sc_redis *rc, void *reply, void *pd)
{
    spread_call *sp = pd;
    sc_cluster *c = sp->pc.c;
    char kind = sp->kind, *key = sc_xstrdup(sp->key);
    sc_request *r = call_request(rc, reply, pd); /* frees sp */
    if (!r) {
        free(key);
        return;
    }
    redisReply *rep = reply;
    size_t n = 0, max = rep->type == REDIS_REPLY_ARRAY ? rep->elements / 2 : 1;
    loc_rec *recs = sc_xcalloc(max + 1, sizeof(*recs));
    if (kind == 'u' && rep->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i + 1 < rep->elements; i += 2)
            n += rec_from_entry(c, 'u', key, rep->element[i], rep->element[i + 1], &recs[n]);
    } else if (kind != 'u') {
        n += rec_from_entry(c, kind, key, NULL, rep, &recs[0]);
    }
    answer_lookup(c, r, recs, n);
    free(recs);
    free(key);
}

/* Start a request answered by one call in bucket b (Redis Cluster): the
 * script `script` (or, if -1, the command in a) on `key`'s slot; pc (a
 * pending_call or a struct starting with one) is the callback's. Frees
 * a's arrays. */
static int bucket_call(sc_cluster *c, sc_conn *from, uint64_t frame_id, int b, int script,
                       const char *key, argv_buf *a, sc_redis_reply_fn *cb, pending_call *pc,
                       const char *what)
{
    int rc = 0;
    sc_request *r = NULL;
    if (!sc_cl_require_redis(c, from, frame_id, what)) {
        sc_metrics_request(SC_REQ_CALL, SC_OUTCOME_ERROR, 0);
        rc = -EAGAIN;
    } else if (!(r = sc_request_new(c->srv, SC_REQ_CALL, from, frame_id, 1))) {
        rc = -ENOSPC;
    }
    if (r) {
        pc->c = c;
        pc->req = r->id;
        if (!sc_cl_bucket_call(c, b, script, key, a, cb, pc)) {
            cb(NULL, NULL, pc); /* answers "connection lost" */
            pc = NULL;
        } else {
            pc = NULL;
        }
    }
    free(pc);
    free(a->argv);
    free(a->lens);
    return rc;
}

/* Start a request answered by one script call; frees a's arrays. */
static int script_call(sc_cluster *c, sc_conn *from, uint64_t frame_id, argv_buf *a,
                       sc_redis_reply_fn *cb, const char *what)
{
    int rc = 0;
    sc_request *r = NULL;
    if (!sc_cl_require_redis(c, from, frame_id, what)) {
        sc_metrics_request(SC_REQ_CALL, SC_OUTCOME_ERROR, 0);
        rc = -EAGAIN;
    } else if (!(r = sc_request_new(c->srv, SC_REQ_CALL, from, frame_id, 1)))
        rc = -ENOSPC;
    if (r) {
        pending_call *pc = sc_xmalloc(sizeof(*pc));
        pc->c = c;
        pc->req = r->id;
        sc_cl_command(c, (int)a->n, a->argv, a->lens, false, false, cb, pc);
    }
    free(a->argv);
    free(a->lens);
    return rc;
}

/* Redis Cluster: one read in the key's bucket (lua/spread.lua). */
static int spread_lookup(sc_cluster *c, sc_conn *from, uint64_t frame_id, const char *kind,
                         const char *key)
{
    char k = kind[0] == 'u' ? 'u' : kind[1] == 'e' ? 'e' : 's'; /* user, session, socket */
    int b = sc_cl_bucket(key, strlen(key));
    char tag[100], rkey[SC_ID_MAX + 200];
    sc_cl_bucket_name(c, b, tag, sizeof(tag));
    argv_buf a = {0};
    if (k == 'u') {
        snprintf(rkey, sizeof(rkey), "%s:user:%s", tag, key);
        sc_cl_arg_str(&a, "HGETALL");
        sc_cl_arg_str(&a, rkey);
    } else {
        snprintf(rkey, sizeof(rkey), "%s:%s", tag, k == 'e' ? "sessions" : "sockets");
        sc_cl_arg_str(&a, "HGET");
        sc_cl_arg_str(&a, rkey);
        sc_cl_arg_str(&a, key);
    }
    spread_call *sp = sc_xmalloc(sizeof(*sp) + strlen(key) + 1);
    sp->kind = k;
    memcpy(sp->key, key, strlen(key) + 1);
    return bucket_call(c, from, frame_id, b, -1, NULL, &a, on_spread_lookup_reply, &sp->pc,
                       "a cluster lookup");
}

int sc_cluster_lookup(sc_cluster *c, sc_conn *from, uint64_t frame_id, const char *kind,
                      const char *key)
{
    if (c->spread)
        return spread_lookup(c, from, frame_id, kind, key);
    argv_buf a = {0};
    sc_cl_arg_script(c, &a, S_LOOKUP);
    sc_cl_arg_str(&a, c->prefix);
    sc_cl_arg_str(&a, kind);
    sc_cl_arg_str(&a, key);
    return script_call(c, from, frame_id, &a, on_lookup_reply, "a cluster lookup");
}

static void on_session_get_reply(sc_redis *rc, void *reply, void *pd)
{
    sc_request *r = call_request(rc, reply, pd);
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

/* Redis Cluster: the session script in the session id's bucket, whose
 * tag stands for the prefix (lua/spread.lua keeps the same key names). */
static int spread_session(sc_cluster *c, sc_conn *from, uint64_t frame_id, const char *sid,
                          int script, argv_buf *a, sc_redis_reply_fn *cb)
{
    int b = sc_cl_bucket(sid, strlen(sid));
    char tag[100], key[200];
    sc_cl_bucket_name(c, b, tag, sizeof(tag));
    snprintf(key, sizeof(key), "%s:sessions", tag);
    a->argv[0] = tag; /* was the prefix; the arrays are copied before it goes */
    a->lens[0] = strlen(tag);
    return bucket_call(c, from, frame_id, b, script, key, a, cb, sc_xmalloc(sizeof(pending_call)),
                       "session data");
}

int sc_cluster_session_get(sc_cluster *c, sc_conn *from, uint64_t frame_id, const char *sid)
{
    argv_buf a = {0};
    if (c->spread) {
        sc_cl_arg_str(&a, c->prefix);
        sc_cl_arg_str(&a, sid);
        return spread_session(c, from, frame_id, sid, S_SGET, &a, on_session_get_reply);
    }
    sc_cl_arg_script(c, &a, S_SGET);
    sc_cl_arg_str(&a, c->prefix);
    sc_cl_arg_str(&a, sid);
    return script_call(c, from, frame_id, &a, on_session_get_reply, "session data");
}

static void on_session_set_reply(sc_redis *rc, void *reply, void *pd)
{
    sc_request *r = call_request(rc, reply, pd);
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
    sc_cl_grace_arg(c, grace, sizeof(grace));
    snprintf(nd, sizeof(nd), "%zu", ss->n_delete_);
    argv_buf a = {0};
    if (!c->spread)
        sc_cl_arg_script(c, &a, S_SSET);
    sc_cl_arg_str(&a, c->prefix);
    sc_cl_arg_str(&a, ss->session_id);
    sc_cl_arg_str(&a, maxb);
    sc_cl_arg_str(&a, maxk);
    sc_cl_arg_str(&a, grace);
    sc_cl_arg_str(&a, nd);
    for (size_t i = 0; i < ss->n_delete_; i++)
        sc_cl_arg_str(&a, ss->delete_[i]);
    for (size_t i = 0; i < ss->n_set; i++) {
        sc_cl_arg_str(&a, ss->set[i]->key);
        sc_cl_arg(&a, (const char *)ss->set[i]->value.data, ss->set[i]->value.len);
    }
    if (c->spread)
        return spread_session(c, from, frame_id, ss->session_id, S_SSET, &a, on_session_set_reply);
    return script_call(c, from, frame_id, &a, on_session_set_reply, "session data");
}
