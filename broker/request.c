/* request: tables of pending requests and relays, keyed by id, each with a
 * timer so nothing waits forever. See request.h for what it may not touch. */
#include "request.h"
#include "conn.h"
#include "log.h"
#include "metrics.h"
#include "state.h"
#include "stats.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define M(name) SIDECAST__V1__FRAME__MSG_##name

static const char *req_key(const void *item, size_t *len)
{
    const sc_request *r = item;
    *len = r->keylen;
    return r->key;
}

static const char *relay_key(const void *item, size_t *len)
{
    const sc_relay *r = item;
    *len = r->keylen;
    return r->key;
}

static uint32_t make_key(char *key, uint64_t id)
{
    return (uint32_t)snprintf(key, 20, "%" PRIx64, id);
}

void sc_requests_init(sc_server *srv)
{
    sc_map_init(&srv->requests, req_key);
    sc_map_init(&srv->relays, relay_key);
}

static void request_free(sc_request *r)
{
    for (uint32_t i = 0; r->expect_ids && i < r->nodes_expected; i++)
        free(r->expect_ids[i]);
    free(r->expect_ids);
    free(r->answered);
    ev_timer_stop(r->srv->loop, &r->timer);
    sc_map_del(&r->srv->requests, r->key, r->keylen);
    if (r->conn)
        r->conn->npending--;
    free(r);
}

static void relay_free(sc_relay *r)
{
    ev_timer_stop(r->srv->loop, &r->timer);
    sc_map_del(&r->srv->relays, r->key, r->keylen);
    sc_pset_free(&r->apps);
    free(r);
}

/* Any item of a non-empty table (the tables are only walked at the end). */
static void *any_item(const sc_map *m)
{
    for (uint32_t i = 0; i < m->cap; i++)
        if (m->items[i])
            return m->items[i];
    return NULL;
}

void sc_requests_free(sc_server *srv)
{
    void *item;
    while ((item = any_item(&srv->requests)))
        request_free(item);
    while ((item = any_item(&srv->relays)))
        relay_free(item);
    sc_map_free(&srv->requests);
    sc_map_free(&srv->relays);
}

static const char *kind_name(sc_req_kind k);

void sc_requests_shutdown(sc_server *srv)
{
    size_t n = 0;
    sc_request *r;
    while ((r = any_item(&srv->requests))) {
        if (r->conn)
            sc_conn_error(r->conn, r->frame_id, SIDECAST__V1__ERROR_CODE__ERROR_SHUTTING_DOWN,
                          NULL, false,
                          "sidecastd is shutting down: %s not completed (%u of %u nodes "
                          "answered); retry on the restarted or another node",
                          kind_name(r->kind), r->nodes_answered, r->nodes_expected);
        sc_metrics_request(r->kind, SC_OUTCOME_ERROR, sc_now_us() - r->started_us);
        SC_COUNT(requests_shutdown);
        request_free(r);
        n++;
    }
    if (n)
        sc_warn("shutting down: answered %zu pending request(s) with ERROR_SHUTTING_DOWN", n);
}

static const char *kind_name(sc_req_kind k)
{
    switch (k) {
    case SC_REQ_FETCH: return "fetch sockets";
    case SC_REQ_APPLY: return "apply";
    case SC_REQ_SERVER_EMIT: return "server-side emit";
    case SC_REQ_BROADCAST_ACK: return "broadcast with acks";
    case SC_REQ_CALL: return "redis call";
    }
    return "request";
}

static void send_frame(sc_request *r, int msg_case, void *msg)
{
    if (!r->conn)
        return;
    sc_frame f = SC_FRAME_INIT;
    f.id = r->frame_id;
    f.msg_case = msg_case;
    f.hello = msg;
    sc_conn_send(r->conn, &f, false);
}

#define MISSING_MAX 16

/* The expected nodes that have not answered, as "name (id)" into bufs (at
 * most MISSING_MAX); returns how many there are in all. */
static uint32_t missing_nodes(const sc_request *r, char (*bufs)[160], char **ptrs, size_t *ret_n)
{
    uint32_t all = 0;
    size_t n = 0;
    for (uint32_t i = 0; r->expect_ids && i < r->nodes_expected; i++) {
        if (r->answered[i])
            continue;
        all++;
        if (n == MISSING_MAX)
            continue;
        const char *id = r->expect_ids[i];
        const sc_request_hooks *h = &r->srv->request_hooks;
        const char *name = h->node_name ? h->node_name(h->ud, id) : NULL;
        if (!name)
            name = "gone";
        /* Progress.nodes_missing is a protobuf string: cut a long name at a
         * character boundary, never inside a UTF-8 sequence */
        size_t nl = strlen(name), idl = strlen(id);
        size_t room = idl + 4 < 160 ? 160 - idl - 4 : 0, cut = SC_MIN(nl, room);
        while (cut > 0 && cut < nl && ((unsigned char)name[cut] & 0xc0) == 0x80)
            cut--;
        snprintf(bufs[n], 160, "%.*s (%.*s)", (int)cut, name, (int)SC_MIN(idl, 150), id);
        ptrs[n] = bufs[n];
        n++;
    }
    *ret_n = n;
    return all;
}

/* The one final answer. A timed-out one names the nodes that did not
 * answer, so that an app can tell a slow node from a lost one; `lost`: it
 * ends before its time because a node it waits for left the cluster
 * without a goodbye (its liveness expired), and so says. */
static void finish(sc_request *r, bool timed_out, bool lost)
{
    char msg[600], bufs[MISSING_MAX][160], *missing[MISSING_MAX];
    size_t nmissing = 0;
    uint32_t all = timed_out ? missing_nodes(r, bufs, missing, &nmissing) : 0;
    int k = lost ? snprintf(msg, sizeof(msg), "%s: %u of %u nodes answered, and a node it waited "
                                              "for left the cluster without a goodbye",
                            kind_name(r->kind), r->nodes_answered, r->nodes_expected)
                 : snprintf(msg, sizeof(msg), "%s: %u of %u nodes answered within %llu ms",
                            kind_name(r->kind), r->nodes_answered, r->nodes_expected,
                            (unsigned long long)r->srv->cfg->request_timeout_ms);
    for (size_t i = 0; i < nmissing && i < 4 && k > 0 && (size_t)k < sizeof(msg); i++)
        k += snprintf(msg + k, sizeof(msg) - (size_t)k, "%s%s", i ? ", " : "; no answer from ",
                      SC_ESC(missing[i]));
    if (all > 4 && k > 0 && (size_t)k < sizeof(msg))
        snprintf(msg + k, sizeof(msg) - (size_t)k, " and %u more", all - 4);
    sc_metrics_request(r->kind, timed_out ? SC_OUTCOME_TIMEOUT : SC_OUTCOME_OK,
                       sc_now_us() - r->started_us);
    if (r->kind == SC_REQ_CALL)
        sc_histogram_observe(&sc_metric.redis_seconds, sc_now_us() - r->started_us);
    if (lost) {
        SC_COUNT(requests_node_lost);
        sc_log_limited(SC_LOG_WARN, "cluster request %s: it ends now", msg);
    } else if (timed_out) {
        SC_COUNT(requests_timeout);
        sc_log_limited(SC_LOG_WARN, "cluster request %s timed out", msg);
    } else {
        SC_COUNT(requests_ok);
    }
    switch (r->kind) {
    case SC_REQ_CALL:
        if (r->conn)
            sc_conn_error(r->conn, r->frame_id, SIDECAST__V1__ERROR_CODE__ERROR_TIMEOUT, NULL,
                          false, "redis did not answer within request_timeout_ms %llu",
                          (unsigned long long)r->srv->cfg->request_timeout_ms);
        break;
    case SC_REQ_FETCH:
    case SC_REQ_APPLY:
        if (timed_out && r->conn) {
            sc_conn_error(r->conn, r->frame_id, SIDECAST__V1__ERROR_CODE__ERROR_TIMEOUT, NULL,
                          false, "%s", msg);
        } else if (r->kind == SC_REQ_FETCH) {
            Sidecast__V1__SocketList l = SIDECAST__V1__SOCKET_LIST__INIT;
            send_frame(r, M(SOCKET_LIST), &l);
        } else if (r->frame_id) {
            Sidecast__V1__Ok ok = SIDECAST__V1__OK__INIT;
            send_frame(r, M(OK), &ok);
        }
        break;
    case SC_REQ_SERVER_EMIT:
    case SC_REQ_BROADCAST_ACK: {
        Sidecast__V1__Progress p = SIDECAST__V1__PROGRESS__INIT;
        p.done = true;
        p.timed_out = timed_out;
        p.nodes_expected = r->nodes_expected;
        p.nodes_answered = r->nodes_answered;
        p.nodes_missing = missing;
        p.n_nodes_missing = nmissing;
        send_frame(r, M(PROGRESS), &p);
        break;
    }
    }
    request_free(r);
}

static void on_request_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    finish(w->data, true, false);
}

sc_request *sc_request_new(sc_server *srv, sc_req_kind kind, sc_conn *conn, uint64_t frame_id,
                           uint32_t nodes_expected)
{
    if (sc_map_count(&srv->requests) >= srv->cfg->max_pending_requests) {
        SC_COUNT(requests_refused_limit);
        sc_metrics_request(kind, SC_OUTCOME_ERROR, 0);
        sc_log_limited(SC_LOG_WARN,
                       "refusing %s from %s: max_pending_requests %llu requests in flight",
                       kind_name(kind), sc_conn_label(conn),
                       (unsigned long long)srv->cfg->max_pending_requests);
        sc_conn_error(conn, frame_id, SIDECAST__V1__ERROR_CODE__ERROR_LIMIT, NULL, false,
                      "too many cluster requests in flight (max_pending_requests %llu)",
                      (unsigned long long)srv->cfg->max_pending_requests);
        return NULL;
    }
    if (conn && conn->npending >= srv->cfg->max_pending_per_connection) {
        SC_COUNT(refused_pending_limit);
        sc_log_limited(SC_LOG_WARN, "refusing %s from %s: %u requests of it in flight "
                       "(max_pending_per_connection)",
                       kind_name(kind), sc_conn_label(conn), conn->npending);
        sc_conn_error(conn, frame_id, SIDECAST__V1__ERROR_CODE__ERROR_LIMIT, NULL, false,
                      "too many requests of this connection in flight "
                      "(max_pending_per_connection %llu)",
                      (unsigned long long)srv->cfg->max_pending_per_connection);
        return NULL;
    }
    sc_request *r = sc_xcalloc(1, sizeof(*r));
    r->id = ++srv->next_request_id;
    r->keylen = make_key(r->key, r->id);
    r->kind = kind;
    r->srv = srv;
    r->conn = conn;
    if (conn)
        conn->npending++;
    r->frame_id = frame_id;
    r->nodes_expected = nodes_expected ? nodes_expected : 1;
    r->started_us = sc_now_us();
    ev_timer_init(&r->timer, on_request_timeout, srv->cfg->request_timeout_ms / 1000.0, 0);
    r->timer.data = r;
    ev_timer_start(srv->loop, &r->timer);
    sc_map_put(&srv->requests, r);
    SC_COUNT(requests_started);
    return r;
}

sc_request *sc_request_find(sc_server *srv, uint64_t id)
{
    char key[20];
    uint32_t len = make_key(key, id);
    return sc_map_get(&srv->requests, key, len);
}

void sc_request_sockets(sc_request *r, const Sidecast__V1__SocketList *l)
{
    Sidecast__V1__SocketList copy = *l;
    copy.more = true; /* only finish() sends the last frame */
    send_frame(r, M(SOCKET_LIST), &copy);
}

void sc_request_sockets_encoded(sc_request *r, const uint8_t *list, size_t len)
{
    /* more=true after the node's own fields: the last occurrence of a
     * scalar wins, so the app reads more=true whatever the list said */
    static const uint8_t more[] = {SC_SL_MORE << 3 | SC_WIRE_VARINT, 1};
    if (r->conn)
        sc_conn_send_encoded(r->conn, r->frame_id, M(SOCKET_LIST), list, len, more, sizeof(more),
                             false);
}

void sc_request_progress(sc_request *r, uint32_t expect, ProtobufCBinaryData *payloads, size_t n)
{
    if (expect == 0 && n == 0)
        return;
    Sidecast__V1__Progress p = SIDECAST__V1__PROGRESS__INIT;
    p.expect = expect;
    p.payloads = payloads;
    p.n_payloads = n;
    p.nodes_expected = r->nodes_expected;
    p.nodes_answered = r->nodes_answered;
    send_frame(r, M(PROGRESS), &p);
}

void sc_request_expect(sc_request *r, const char *const *ids, size_t n)
{
    r->expect_ids = sc_xcalloc(n + 1, sizeof(char *));
    r->answered = sc_xcalloc(n + 1, sizeof(bool));
    for (size_t i = 0; i < n; i++)
        r->expect_ids[i] = sc_xstrdup(ids[i]);
    r->nodes_expected = (uint32_t)n;
}

void sc_request_node_answered(sc_request *r, const char *node_id)
{
    if (!r->expect_ids) {
        sc_request_node_done(r);
        return;
    }
    const char *self = r->srv->node_id;
    const char *id = node_id ? node_id : self;
    for (uint32_t i = 0; i < r->nodes_expected; i++) {
        if (!r->answered[i] && strcmp(r->expect_ids[i], id) == 0) {
            r->answered[i] = true;
            sc_request_node_done(r);
            return;
        }
    }
    /* a node that was not live when the request started: its answers were
     * passed on, but it is not waited for */
}

/* Whether r waits for node_id still. */
static bool waits_for(const sc_request *r, const char *node_id)
{
    for (uint32_t i = 0; r->expect_ids && i < r->nodes_expected; i++)
        if (!r->answered[i] && strcmp(r->expect_ids[i], node_id) == 0)
            return true;
    return false;
}

void sc_requests_node_lost(sc_server *srv, const char *node_id)
{
    size_t n = sc_map_count(&srv->requests), k = 0;
    if (!n)
        return;
    uint64_t *ids = sc_xmalloc(n * sizeof(*ids)); /* finishing one moves the table */
    for (uint32_t i = 0; i < srv->requests.cap && k < n; i++) {
        const sc_request *r = srv->requests.items[i];
        if (r && waits_for(r, node_id))
            ids[k++] = r->id;
    }
    for (size_t i = 0; i < k; i++) {
        sc_request *r = sc_request_find(srv, ids[i]);
        if (r)
            finish(r, true, true);
    }
    free(ids);
}

void sc_requests_node_gone(sc_server *srv, const char *node_id)
{
    size_t n = sc_map_count(&srv->requests), k = 0;
    if (!n)
        return;
    /* by id: answering one may complete and free it, moving the table */
    uint64_t *ids = sc_xmalloc(n * sizeof(*ids));
    for (uint32_t i = 0; i < srv->requests.cap && k < n; i++) {
        const sc_request *r = srv->requests.items[i];
        if (r)
            ids[k++] = r->id;
    }
    for (size_t i = 0; i < k; i++) {
        sc_request *r = sc_request_find(srv, ids[i]);
        if (r && r->expect_ids)
            sc_request_node_answered(r, node_id);
    }
    free(ids);
}

void sc_request_done(sc_request *r)
{
    uint64_t us = sc_now_us() - r->started_us;
    sc_metrics_request(r->kind, r->failed ? SC_OUTCOME_ERROR : SC_OUTCOME_OK, us);
    if (r->kind == SC_REQ_CALL)
        sc_histogram_observe(&sc_metric.redis_seconds, us);
    SC_COUNT(requests_ok);
    request_free(r);
}

void sc_request_node_done(sc_request *r)
{
    r->nodes_answered++;
    if (r->nodes_answered >= r->nodes_expected)
        finish(r, false, false);
}

/* ---- relays ------------------------------------------------------------- */

static void on_relay_timeout(struct ev_loop *loop, ev_timer *w, int revents);

sc_relay *sc_relay_new(sc_server *srv, const char *origin, uint64_t origin_req)
{
    size_t ol = origin ? strlen(origin) : 0;
    sc_relay *r = sc_xcalloc(1, sizeof(*r) + ol + 1);
    r->ack_id = ++srv->next_request_id;
    r->keylen = make_key(r->key, r->ack_id);
    memcpy(r->origin, origin ? origin : "", ol + 1); /* answers go back to exactly this node */
    r->origin_req = origin_req;
    r->srv = srv;
    sc_pset_init(&r->apps);
    /* Shorter than the request's own timeout, so that what a relay did
     * collect reaches the request before it gives up. */
    ev_timer_init(&r->timer, on_relay_timeout, srv->cfg->request_timeout_ms * 0.8 / 1000.0, 0);
    r->timer.data = r;
    sc_map_put(&srv->relays, r);
    return r;
}

void sc_relay_count_answers(sc_relay *r)
{
    r->per_answer = true;
}

void sc_relay_add_app(sc_relay *r, sc_conn *conn)
{
    sc_pset_add(&r->apps, conn);
}

/* Pass answers (and, with last, the end of this node's part) to the origin. */
static void relay_forward(sc_relay *r, uint32_t expect, ProtobufCBinaryData *payloads, size_t n,
                          bool last)
{
    if (r->origin[0]) {
        const sc_request_hooks *h = &r->srv->request_hooks;
        if (h->progress)
            h->progress(h->ud, r->origin, r->origin_req, expect, payloads, n, last);
        return;
    }
    sc_request *req = sc_request_find(r->srv, r->origin_req);
    if (!req)
        return; /* it timed out already */
    sc_request_progress(req, expect, payloads, n);
    if (last)
        sc_request_node_answered(req, NULL);
}

static void relay_finish(sc_relay *r)
{
    relay_forward(r, 0, NULL, 0, true);
    relay_free(r);
}

static void on_relay_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    sc_relay *r = w->data;
    SC_COUNT(relay_timeouts);
    uint32_t silent = sc_pset_count(&r->apps);
    sc_log_limited(SC_LOG_INFO, "%u app(s) did not finish answering ack %llu in time", silent,
                   (unsigned long long)r->ack_id);
    if (r->per_answer)
        relay_forward(r, silent, NULL, 0, false); /* the answers they owe: missing */
    relay_finish(r);
}

void sc_relay_arm(sc_relay *r)
{
    if (sc_pset_count(&r->apps) == 0) {
        relay_finish(r);
        return;
    }
    ev_timer_start(r->srv->loop, &r->timer);
}

void sc_relay_ack(sc_server *srv, sc_conn *from, const Sidecast__V1__Ack *a)
{
    char key[20];
    uint32_t len = make_key(key, a->ack_id);
    sc_relay *r = sc_map_get(&srv->relays, key, len);
    if (!r || !sc_pset_has(&r->apps, from)) {
        SC_COUNT(acks_unknown);
        return; /* late answer after a timeout: nothing waits for it */
    }
    uint32_t expect = a->expect;
    if (r->per_answer && expect == 0)
        expect = (uint32_t)a->n_payloads;
    relay_forward(r, expect, a->payloads, a->n_payloads, false);
    if (a->done) {
        sc_pset_del(&r->apps, from);
        if (sc_pset_count(&r->apps) == 0)
            relay_finish(r);
    }
}

void sc_requests_conn_closed(sc_server *srv, sc_conn *conn)
{
    for (uint32_t i = 0; i < srv->requests.cap; i++) {
        sc_request *r = srv->requests.items[i];
        if (r && r->conn == conn) {
            r->conn = NULL;
            conn->npending--;
        }
    }
    /* Relays the app still owed answers to: it will never send them. Copy
     * first, since finishing a relay changes the table. */
    uint32_t n = 0;
    sc_relay **owed = sc_xmalloc(sizeof(*owed) * (sc_map_count(&srv->relays) + 1));
    for (uint32_t i = 0; i < srv->relays.cap; i++) {
        sc_relay *r = srv->relays.items[i];
        if (!r || !sc_pset_del(&r->apps, conn))
            continue;
        if (r->per_answer)
            relay_forward(r, 1, NULL, 0, false); /* its answer will not come */
        if (sc_pset_count(&r->apps) == 0)
            owed[n++] = r;
    }
    for (uint32_t i = 0; i < n; i++)
        relay_finish(owed[i]);
    free(owed);
}
