/* cluster_bucket_emits: on a Redis Cluster, the targeted emits the
 * directory cache cannot route (a miss, user ids, or emits before them
 * still waiting). Each emit's socket ids are read from their directory
 * buckets (one HMGET per bucket) and each user id's sockets from its
 * bucket (HGETALL); once every read of the emits at the head of the queue
 * answered, they are published at the end of the loop iteration, a Batch
 * per owner node, in the order the apps made them. A bucket whose primary
 * is away is waited for (bounded in bytes), an error answer tried again
 * from the sweep, READ_TRIES times. The ids read fill the directory cache.
 *
 * It sends through cluster_buckets.c (sc_cl_bucket_command) and
 * cluster_send.c; it never writes the directory. */
#include "cluster_int.h"
#include "log.h"
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Error answers to one read of a targeted emit (a slot moving, the cluster
 * down), each sent again at the next sweep (250 ms), before its ids count
 * as unroutable. A primary unreachable is waited for, as the outbox waits. */
#define READ_TRIES 20
/* Bytes of targeted emits waiting for their reads, at least: more are
 * dropped (counted); outbox_max_bytes if larger. */
#define TGT_MIN_BYTES (16u * 1024 * 1024)

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
    sc_cl_bucket_name(c, rd->b, tag, sizeof(tag));
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
    if (sc_cl_bucket_command(c, rd->b, &a, on_tread, tp)) {
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
