/* cluster_request: cluster requests between nodes. Starting one for an app
 * (sc_cluster_request and the fetch, apply and server emit entry points),
 * which waits for the live nodes that can answer it; answering another
 * node's (sc_cl_handle_request: fetch answers written at wire level in
 * chunks, applies and server emits through deliver.c); and reading the
 * decoded answers (sc_cl_handle_response; fetch answers mostly take
 * cluster_receive.c's wire-level path). A request's own state, its timeout
 * and its final answer to the app are request.c's.
 *
 * It talks to other nodes only by publishing (sc_cl_publish) on the all
 * channel or the asker's node channel; it reads the live list, never
 * changes it. */
#include "cluster_int.h"
#include "conn.h"
#include "deliver.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "stats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_BYTES (256 * 1024)

/* ---- cluster requests ---------------------------------------------------------- */

static void respond(sc_cluster *c, const char *origin, Sidecast__Cluster__V1__Response *resp,
                    bool vol)
{
    sc_envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    env.body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_RESPONSE;
    env.response = resp;
    uint8_t *buf;
    size_t len = sc_cl_pack_envelope(c, &env, &buf);
    char ch[200];
    channel_of(c, ch, sizeof(ch), "node", origin);
    sc_cl_publish(c, ch, buf, len, vol);
}

/* A fetch answer is written straight into c->fetch as SocketList entries
 * (no SocketInfo per socket, nothing in the arena), and its envelope's head
 * in front of them once their length is known. */
typedef struct fetch_collect {
    sc_cluster *c;
    const char *origin;
    uint64_t req;
    sc_socket_enc enc;
    /* FetchSockets.cache_answers: node_id in each chunk, the etag in the
     * last: "<gen>-<entries>", gen (sc_registry.gen in hex) naming the
     * registry read, the count letting the asker see a chunk lost on the
     * way (an incomplete answer is not kept) */
    const char *gen;
    const char *echo; /* unchanged: the asker's known etag, sent back */
    bool unchanged;   /* the asker's known etag names this registry: no entries */
    uint32_t n;       /* entries written */
    char etag[40];
} fetch_collect;

#define GEN_HEX 16
#define ETAG_MAX (GEN_HEX + 1 + 10) /* "<gen>-<entries>" */

/* This node's registry as a fetch answer shows it (sc_registry.gen). */
static void fetch_gen(const sc_cluster *c, char out[GEN_HEX + 1])
{
    snprintf(out, GEN_HEX + 1, "%016" PRIx64, c->srv->reg.gen);
}

/* The asker's etag for this node's answer (FetchSockets.known) when it names
 * this registry (gen), else NULL. */
static const char *fetch_known(const sc_cluster *c, const Sidecast__V1__FetchSockets *q,
                               const char *gen)
{
    for (size_t i = 0; i < q->n_known; i++) {
        const Sidecast__V1__KnownAnswer *k = q->known[i];
        if (k && k->node_id && k->etag && strcmp(k->node_id, c->self) == 0)
            return strlen(k->etag) <= ETAG_MAX && strncmp(k->etag, gen, GEN_HEX) == 0 &&
                           k->etag[GEN_HEX] == '-'
                       ? k->etag
                       : NULL;
    }
    return NULL;
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
    const char *etag = fc->unchanged ? fc->echo : fc->etag;
    size_t self_len = strlen(fc->c->self), etag_len = last ? strlen(etag) : 0;
    size_t n = sc_wire_len_field_size(SC_SL_NODE_ID, self_len) +
               (last ? sc_wire_len_field_size(SC_SL_ETAG, etag_len) : 0) + (fc->unchanged ? 2 : 0);
    if (!p)
        return n;
    p = sc_wire_write_len_field(p, SC_SL_NODE_ID, fc->c->self, self_len);
    if (last)
        p = sc_wire_write_len_field(p, SC_SL_ETAG, etag, etag_len);
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
    if (last && fc->gen && !fc->unchanged)
        snprintf(fc->etag, sizeof(fc->etag), "%s-%" PRIu32, fc->gen, fc->n);
    size_t meta_len = fc->gen ? fetch_meta(fc, last, NULL) : 0;
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
    sc_cl_publish(c, ch, start, head + list_len, true);
    c->fetch.len = c->fetch_head;
}

static void fetch_one(sc_socket *s, void *ud)
{
    fetch_collect *fc = ud;
    sc_deliver_put_socket(&fc->c->fetch, &fc->enc, s);
    fc->n++;
    if (fc->c->fetch.len - fc->c->fetch_head >= CHUNK_BYTES)
        fetch_flush(fc, false);
}

void sc_cl_handle_request(sc_cluster *c, const sc_envelope *env)
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
        char gen[GEN_HEX + 1];
        fetch_gen(c, gen);
        fetch_collect fc = {.c = c,
                            .origin = env->origin,
                            .req = rq->id,
                            .enc = {c->self, strlen(c->self), q->with_data, q->with_rooms},
                            .gen = q->cache_answers ? gen : NULL};
        fc.echo = fc.gen ? fetch_known(c, q, gen) : NULL;
        fc.unchanged = fc.echo != NULL;
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
        sc_deliver_apply(c->srv, rq->apply);
        if (rq->id)
            sc_cluster_progress(c, env->origin, rq->id, 0, NULL, 0, true);
        break;
    case SIDECAST__CLUSTER__V1__REQUEST__KIND_SERVER_EMIT: {
        const Sidecast__V1__ServerEmit *se = rq->server_emit;
        sc_relay *relay = se->want_ack ? sc_relay_new(c->srv, env->origin, rq->id) : NULL;
        if (relay)
            sc_relay_count_answers(relay);
        sc_deliver_server_message(c->srv, NULL, se->payload, env->origin, relay);
        if (relay)
            sc_relay_arm(relay);
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

void sc_cl_handle_response(sc_cluster *c, const sc_envelope *env)
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
    size_t len = sc_cl_pack_envelope(c, &env, &buf);
    sc_cl_publish(c, c->ch_all, buf, len, false);
    SC_COUNT(requests_published);
}

bool sc_cl_require_redis(sc_cluster *c, sc_conn *from, uint64_t frame_id, const char *what)
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
    if (!sc_cl_require_redis(c, from, frame_id, what)) {
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
    sc_deliver_local_sockets(c->srv, r, q);
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
    sc_deliver_apply(c->srv, a);
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
    if (relay)
        sc_relay_count_answers(relay);
    sc_deliver_server_message(c->srv, from, e->payload, c->self, relay);
    if (relay)
        sc_relay_arm(relay);
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
