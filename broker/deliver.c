/* deliver: what reaches this node's app connections, whoever asked for it
 * (an app's frame through dispatch.c, or another node through the cluster
 * parts): emits as Deliver frames routed through the registry, Applies,
 * ServerMessages, and this node's sockets as SocketList entries (decoded
 * SocketInfo, or written straight into a fetch answer's bytes). It sits
 * below dispatch and the cluster, above conn, router and registry, and may
 * not call up into either: it only sends. */
#include "deliver.h"
#include "metrics.h"
#include "request.h"
#include "router.h"
#include "state.h"
#include "stats.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define M(name) SIDECAST__V1__FRAME__MSG_##name

/* Chunking of SocketList replies: well under any max_frame_bytes. */
#define CHUNK_BYTES (256 * 1024)
#define CHUNK_ITEMS 1024

typedef struct deliver_ctx {
    ProtobufCBinaryData payload;
    bool is_volatile;
    struct sc_relay *relay;
    uint32_t reached;
    const uint8_t *raw; /* a ready Deliver body, or NULL */
    size_t raw_len;
    sc_scope scope; /* where the emit came from, for sidecast_deliveries_total */
} deliver_ctx;

static void deliver_to(sc_owner *o, const sc_selector *to, void *ud)
{
    deliver_ctx *dc = ud;
    sc_conn *conn = o->ctx;
    /* No per-app socket ids and no acks: every app gets the same bytes */
    if (dc->raw && to->n_socket_ids == 0 && !dc->relay) {
        if (sc_conn_send_raw(conn, M(DELIVER), dc->raw, dc->raw_len, dc->is_volatile) == 0) {
            SC_COUNT(deliver_frames);
            SC_METRIC_DELIVERY(SC_SCOPE_REMOTE);
            dc->reached++;
        }
        return;
    }
    Sidecast__V1__Deliver d = SIDECAST__V1__DELIVER__INIT;
    d.to = (sc_selector *)to;
    d.payload = dc->payload;
    d.volatile_ = dc->is_volatile;
    d.ack_id = dc->relay ? dc->relay->ack_id : 0;
    sc_frame f = SC_FRAME_INIT;
    f.msg_case = M(DELIVER);
    f.deliver = &d;
    if (sc_conn_send(conn, &f, dc->is_volatile) == 0) {
        SC_COUNT(deliver_frames);
        SC_METRIC_DELIVERY(dc->scope);
        dc->reached++;
        if (dc->relay)
            sc_relay_add_app(dc->relay, conn);
    }
}

uint32_t sc_deliver(sc_server *srv, const sc_owner *sender, bool include_self,
                             const sc_selector *to, ProtobufCBinaryData payload, bool is_volatile,
                             sc_relay *relay)
{
    deliver_ctx dc = {payload, is_volatile, relay, 0, NULL, 0, SC_SCOPE_LOCAL};
    sc_route(&srv->reg, sender, to, include_self, deliver_to, &dc, NULL);
    return dc.reached;
}

uint32_t sc_deliver_encoded(sc_server *srv, const sc_selector *to,
                                     ProtobufCBinaryData payload, bool is_volatile,
                                     sc_relay *relay, const uint8_t *raw, size_t raw_len)
{
    deliver_ctx dc = {payload, is_volatile, relay, 0, raw, raw_len, SC_SCOPE_REMOTE};
    sc_route(&srv->reg, NULL, to, false, deliver_to, &dc, NULL);
    return dc.reached;
}

typedef struct collect {
    sc_socket **items;
    size_t n, cap;
    const sc_owner *skip; /* FetchSockets.exclude_self: the requester's own */
} collect;

static void collect_cb(sc_socket *s, void *ud)
{
    collect *col = ud;
    if (s->owner == col->skip)
        return;
    if (col->n == col->cap) {
        col->cap = col->cap ? col->cap * 2 : 256;
        col->items = sc_xrealloc(col->items, col->cap * sizeof(*col->items));
    }
    col->items[col->n++] = s;
}

static char **room_names(sc_arena *a, const sc_socket *s, size_t *ret_n)
{
    uint32_t n;
    void *const *slots = sc_pset_slots(&s->rooms, &n);
    char **names = sc_arena_alloc(a, sizeof(char *) * (sc_pset_count(&s->rooms) + 1));
    size_t at = 0;
    for (uint32_t i = 0; i < n; i++)
        if (slots[i])
            names[at++] = ((sc_room *)slots[i])->name;
    *ret_n = at;
    return names;
}

void sc_deliver_socket_info(sc_server *srv, sc_arena *a, const sc_socket *s, bool with_data,
                             bool with_rooms, Sidecast__V1__SocketInfo *in)
{
    sidecast__v1__socket_info__init(in);
    in->socket_id = (char *)sc_socket_id(s);
    in->session_id = (char *)sc_socket_sid(s);
    in->user_id = (char *)sc_socket_uid(s);
    in->node_id = srv->node_id;
    if (with_data) {
        in->data.data = s->data;
        in->data.len = s->data_len;
    }
    if (with_rooms)
        in->rooms = room_names(a, s, &in->n_rooms);
}

/* Size of an optional string field: proto3 leaves an empty one out. */
static size_t str_field_size(uint32_t field, size_t len)
{
    return len ? sc_wire_len_field_size(field, len) : 0;
}

static uint8_t *put_str_field(uint8_t *p, uint32_t field, const void *data, size_t len)
{
    return len ? sc_wire_write_len_field(p, field, data, len) : p;
}

/* Fields in number order and empty ones left out, as protobuf-c packs the
 * SocketInfo that sc_deliver_socket_info fills (unit_wire compares them). */
void sc_deliver_put_socket(sc_buf *b, const sc_socket_enc *e, const sc_socket *s)
{
    uint32_t nslots = 0;
    void *const *slots = e->with_rooms ? sc_pset_slots(&s->rooms, &nslots) : NULL;
    size_t data_len = e->with_data ? s->data_len : 0;
    size_t inner =
        str_field_size(SC_SI_SOCKET_ID, s->id_len) + str_field_size(SC_SI_SESSION_ID, s->sid_len) +
        str_field_size(SC_SI_USER_ID, s->uid_len) + str_field_size(SC_SI_DATA, data_len) +
        str_field_size(SC_SI_NODE_ID, e->node_len);
    for (uint32_t i = 0; i < nslots; i++)
        if (slots[i])
            inner += sc_wire_len_field_size(SC_SI_ROOMS, ((const sc_room *)slots[i])->name_len);
    uint8_t *p = sc_buf_reserve(b, sc_wire_len_field_size(SC_SL_SOCKETS, inner)), *start = p;
    p = sc_wire_write_len_head(p, SC_SL_SOCKETS, inner);
    p = put_str_field(p, SC_SI_SOCKET_ID, sc_socket_id(s), s->id_len);
    p = put_str_field(p, SC_SI_SESSION_ID, sc_socket_sid(s), s->sid_len);
    p = put_str_field(p, SC_SI_USER_ID, sc_socket_uid(s), s->uid_len);
    p = put_str_field(p, SC_SI_DATA, s->data, data_len);
    for (uint32_t i = 0; i < nslots; i++) {
        const sc_room *room = slots[i];
        if (room) /* repeated: written even when empty */
            p = sc_wire_write_len_field(p, SC_SI_ROOMS, room->name, room->name_len);
    }
    p = put_str_field(p, SC_SI_NODE_ID, e->node_id, e->node_len);
    sc_buf_commit(b, (size_t)(p - start));
}

/* Send this node's sockets selected by q to c in chunks; the last chunk has
 * more=last_more. Scratch lives in the server arena until dispatch ends. */
void sc_deliver_sockets(sc_conn *c, uint64_t id, const Sidecast__V1__FetchSockets *q,
                               bool last_more, sc_request *req)
{
    sc_selector sel = SIDECAST__V1__SELECTOR__INIT;
    if (q->filter)
        sel = *q->filter;
    sel.all = sel.all || sc_selector_is_empty(&sel);
    collect col = {.skip = q->exclude_self ? &c->owner : NULL};
    sc_registry_select(&c->srv->reg, NULL, &sel, collect_cb, &col);
    sc_arena *a = &c->srv->arena;
    Sidecast__V1__SocketInfo *infos = sc_arena_alloc(a, sizeof(*infos) * CHUNK_ITEMS);
    Sidecast__V1__SocketInfo **ptrs = sc_arena_alloc(a, sizeof(*ptrs) * CHUNK_ITEMS);
    size_t i = 0;
    do {
        size_t n = 0, bytes = 0;
        for (; i < col.n && n < CHUNK_ITEMS && bytes < CHUNK_BYTES; i++, n++) {
            const sc_socket *s = col.items[i];
            sc_deliver_socket_info(c->srv, a, s, q->with_data, q->with_rooms, &infos[n]);
            ptrs[n] = &infos[n];
            bytes += s->id_len + s->sid_len + s->uid_len + 64 + (q->with_data ? s->data_len : 0) +
                     infos[n].n_rooms * 16;
        }
        Sidecast__V1__SocketList list = SIDECAST__V1__SOCKET_LIST__INIT;
        list.sockets = ptrs;
        list.n_sockets = n;
        list.more = i < col.n || last_more;
        if (req)
            sc_request_sockets(req, &list);
        else
        {
            sc_frame fr = SC_FRAME_INIT;
            fr.id = id;
            fr.msg_case = M(SOCKET_LIST);
            fr.socket_list = &list;
            sc_conn_send(c, &fr, false);
        }
    } while (i < col.n && c->state != SC_CONN_CLOSED);
    free(col.items);
}

void sc_deliver_local_sockets(sc_server *srv, sc_request *r, const Sidecast__V1__FetchSockets *q)
{
    if (r->conn)
        sc_deliver_sockets(r->conn, r->frame_id, q, true, r);
}

typedef struct apply_ctx {
    const Sidecast__V1__Apply *a;
} apply_ctx;

static void apply_to(sc_owner *o, const sc_selector *to, void *ud)
{
    const Sidecast__V1__Apply *a = ((apply_ctx *)ud)->a;
    Sidecast__V1__Apply copy = *a;
    copy.filter = (sc_selector *)to;
    sc_frame f = SC_FRAME_INIT;
    f.msg_case = M(APPLY);
    f.apply = &copy;
    sc_conn_send(o->ctx, &f, false);
}

void sc_deliver_apply(sc_server *srv, const Sidecast__V1__Apply *a)
{
    sc_selector all = SIDECAST__V1__SELECTOR__INIT;
    all.all = true;
    const sc_selector *filter = a->filter ? a->filter : &all;
    if (sc_selector_is_empty(filter))
        filter = &all;
    apply_ctx ax = {a};
    sc_route(&srv->reg, NULL, filter, true, apply_to, &ax, NULL);
}

uint32_t sc_deliver_server_message(sc_server *srv, const sc_conn *from,
                                    ProtobufCBinaryData payload, const char *origin,
                                    sc_relay *relay)
{
    Sidecast__V1__ServerMessage m = SIDECAST__V1__SERVER_MESSAGE__INIT;
    m.payload = payload;
    m.ack_id = relay ? relay->ack_id : 0;
    m.origin_node = (char *)origin;
    sc_frame f = SC_FRAME_INIT;
    f.msg_case = M(SERVER_MESSAGE);
    f.server_message = &m;
    uint32_t n = 0;
    for (sc_conn *conn = srv->conns; conn; conn = conn->next) {
        if (conn == from || !conn->handshaken || conn->state != SC_CONN_OPEN)
            continue;
        if (sc_conn_send(conn, &f, false) == 0) {
            n++;
            if (relay)
                sc_relay_add_app(relay, conn);
        }
    }
    return n;
}

