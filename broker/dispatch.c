/* dispatch: validates each request, applies it to the registry or routes it,
 * and answers. Refusals of a valid frame (duplicate id, unknown socket) keep
 * the connection; protocol violations close it after an Error frame. */
#include "dispatch.h"
#include "log.h"
#include "router.h"
#include "server.h"
#include "stats.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SC_VERSION
#define SC_VERSION "0.0.0"
#endif

#define E(code) SIDECAST__V1__ERROR_CODE__ERROR_##code
#define M(name) SIDECAST__V1__FRAME__MSG_##name

/* Chunking of multi-frame replies: well under any max_frame_bytes. */
#define CHUNK_BYTES (256 * 1024)
#define CHUNK_ITEMS 1024

static void send_reply(sc_conn *c, uint64_t id, int msg_case, void *msg)
{
    sc_frame f = SC_FRAME_INIT;
    f.id = id;
    f.msg_case = msg_case;
    f.hello = msg; /* every oneof member shares this storage */
    sc_conn_send(c, &f, false);
}

static void reply_ok(sc_conn *c, uint64_t id)
{
    if (id == 0)
        return;
    Sidecast__V1__Ok ok = SIDECAST__V1__OK__INIT;
    send_reply(c, id, M(OK), &ok);
}

static void refuse_invalid(sc_conn *c, uint64_t id, const char *ref, const char *what)
{
    SC_COUNT(refused_invalid);
    sc_conn_error(c, id, E(INVALID), ref, false, "%s", what);
}

/* The socket with this id, if this connection owns it; else an error. */
static sc_socket *own_socket(sc_conn *c, uint64_t id, const char *sid)
{
    if (!sid || !sid[0]) {
        refuse_invalid(c, id, "", "socket_id is required");
        return NULL;
    }
    sc_socket *s = sc_registry_find_socket(&c->srv->reg, sid);
    if (s && s->owner == &c->owner)
        return s;
    SC_COUNT(refused_not_found);
    sc_conn_error(c, id, E(NOT_FOUND), sid, false, "socket %s is not registered %s", sid,
                  s ? "by this connection" : "");
    return NULL;
}

static int join_rooms(sc_conn *c, uint64_t id, sc_socket *s, char **rooms, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (sc_registry_join(&c->srv->reg, s, rooms[i]) < 0) {
            refuse_invalid(c, id, sc_socket_id(s), "room names must be 1 to 65535 bytes");
            return -EINVAL;
        }
    }
    return 0;
}

static void sanitize_name(char *dst, size_t len, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i + 1 < len; i++)
        dst[i] = isprint((unsigned char)src[i]) ? src[i] : '?';
    dst[i] = '\0';
}

static void on_hello(sc_conn *c, const sc_frame *f)
{
    const Sidecast__V1__Hello *h = f->hello;
    if (h->protocol_version != SC_PROTOCOL_VERSION) {
        SC_COUNT(refused_version);
        sc_conn_error(c, f->id, E(VERSION), NULL, true,
                      "protocol version %u is not supported: this sidecastd %s speaks version %u",
                      h->protocol_version, SC_VERSION, SC_PROTOCOL_VERSION);
        return;
    }
    sanitize_name(c->name, sizeof(c->name), h->client_name);
    c->handshaken = true;
    Sidecast__V1__Welcome w = SIDECAST__V1__WELCOME__INIT;
    w.protocol_version = SC_PROTOCOL_VERSION;
    w.server_version = SC_VERSION;
    w.node_id = c->srv->node_id;
    w.node_name = c->srv->node_name;
    w.max_frame_bytes = (uint32_t)c->srv->cfg->max_frame_bytes;
    w.connection_id = c->id;
    send_reply(c, f->id, M(WELCOME), &w);
    sc_debug("%s: handshake done", sc_conn_label(c));
}

static void on_ping(sc_conn *c, const sc_frame *f)
{
    Sidecast__V1__Pong p = SIDECAST__V1__PONG__INIT;
    p.nonce = f->ping->nonce;
    send_reply(c, f->id, M(PONG), &p);
}

static void on_socket_up(sc_conn *c, const sc_frame *f)
{
    const Sidecast__V1__SocketUp *u = f->socket_up;
    sc_registry *reg = &c->srv->reg;
    sc_socket *s;
    int r = sc_registry_add_socket(reg, &c->owner, u->socket_id, u->session_id, u->user_id,
                                   u->data.data, u->data.len, &s);
    if (r == -EEXIST) {
        const sc_socket *other = sc_registry_find_socket(reg, u->socket_id);
        SC_COUNT(refused_duplicate);
        sc_conn_error(c, f->id, E(DUPLICATE), u->socket_id, false,
                      "socket id %s is already registered%s; the new registration is refused",
                      u->socket_id, other->owner == &c->owner ? " by this connection" : "");
        return;
    }
    if (r < 0) {
        refuse_invalid(c, f->id, u->socket_id,
                       r == -EINVAL ? "socket_id must not be empty"
                                    : "socket, session and user ids must be at most 65535 bytes");
        return;
    }
    SC_COUNT(sockets_registered);
    if (join_rooms(c, f->id, s, u->rooms, u->n_rooms) == 0)
        reply_ok(c, f->id);
}

static void on_socket_down(sc_conn *c, const sc_frame *f)
{
    sc_socket *s = own_socket(c, f->id, f->socket_down->socket_id);
    if (!s)
        return;
    sc_registry_remove_socket(&c->srv->reg, s);
    SC_COUNT(sockets_unregistered);
    reply_ok(c, f->id);
}

static void on_join(sc_conn *c, const sc_frame *f)
{
    sc_socket *s = own_socket(c, f->id, f->join->socket_id);
    if (s && join_rooms(c, f->id, s, f->join->rooms, f->join->n_rooms) == 0)
        reply_ok(c, f->id);
}

static void on_leave(sc_conn *c, const sc_frame *f)
{
    const Sidecast__V1__Leave *l = f->leave;
    sc_socket *s = own_socket(c, f->id, l->socket_id);
    if (!s)
        return;
    if (l->n_rooms == 0)
        sc_registry_leave_all(&c->srv->reg, s);
    for (size_t i = 0; i < l->n_rooms; i++)
        sc_registry_leave(&c->srv->reg, s, l->rooms[i]);
    reply_ok(c, f->id);
}

static void on_set_data(sc_conn *c, const sc_frame *f)
{
    sc_socket *s = own_socket(c, f->id, f->set_data->socket_id);
    if (!s)
        return;
    sc_registry_set_data(s, f->set_data->data.data, f->set_data->data.len);
    reply_ok(c, f->id);
}

typedef struct emit_ctx {
    const Sidecast__V1__Emit *emit;
} emit_ctx;

static void deliver_to(sc_owner *o, const sc_selector *to, void *ud)
{
    const Sidecast__V1__Emit *e = ((emit_ctx *)ud)->emit;
    Sidecast__V1__Deliver d = SIDECAST__V1__DELIVER__INIT;
    d.to = (sc_selector *)to;
    d.payload = e->payload;
    d.volatile_ = e->volatile_;
    sc_frame f = SC_FRAME_INIT;
    f.msg_case = M(DELIVER);
    f.deliver = &d;
    if (sc_conn_send(o->ctx, &f, e->volatile_) == 0)
        SC_COUNT(deliver_frames);
}

static void on_emit(sc_conn *c, const sc_frame *f)
{
    const Sidecast__V1__Emit *e = f->emit;
    const sc_selector *to = e->to;
    if (!to || (!to->all && to->n_rooms == 0 && to->n_socket_ids == 0)) {
        refuse_invalid(c, f->id, "", "emit names no recipients: set to.all, to.rooms or "
                                     "to.socket_ids");
        return;
    }
    if (to->all)
        SC_COUNT(emits_all);
    if (to->n_rooms)
        SC_COUNT(emits_room);
    if (to->n_socket_ids)
        SC_COUNT(emits_socket);
    emit_ctx ctx = {e};
    sc_route(&c->srv->reg, &c->owner, to, e->include_self, deliver_to, &ctx, NULL);
    reply_ok(c, f->id);
}

typedef struct collect {
    sc_socket **items;
    size_t n, cap;
} collect;

static void collect_cb(sc_socket *s, void *ud)
{
    collect *col = ud;
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

static void on_fetch_sockets(sc_conn *c, const sc_frame *f)
{
    const Sidecast__V1__FetchSockets *q = f->fetch_sockets;
    sc_selector sel = SIDECAST__V1__SELECTOR__INIT;
    if (q->filter)
        sel = *q->filter;
    sel.all = sel.all || (sel.n_rooms == 0 && sel.n_socket_ids == 0);
    collect col = {0};
    sc_registry_select(&c->srv->reg, NULL, &sel, collect_cb, &col);

    /* Send in chunks; the arena holds each chunk's scratch until dispatch
     * returns, which is bounded by the collected count. */
    sc_arena *a = &c->srv->arena;
    Sidecast__V1__SocketInfo *infos = sc_arena_alloc(a, sizeof(*infos) * CHUNK_ITEMS);
    Sidecast__V1__SocketInfo **ptrs = sc_arena_alloc(a, sizeof(*ptrs) * CHUNK_ITEMS);
    size_t i = 0;
    do {
        size_t n = 0, bytes = 0;
        for (; i < col.n && n < CHUNK_ITEMS && bytes < CHUNK_BYTES; i++, n++) {
            const sc_socket *s = col.items[i];
            Sidecast__V1__SocketInfo *in = &infos[n];
            sidecast__v1__socket_info__init(in);
            in->socket_id = (char *)sc_socket_id(s);
            in->session_id = (char *)sc_socket_sid(s);
            in->user_id = (char *)sc_socket_uid(s);
            in->node_id = c->srv->node_id;
            if (q->with_data) {
                in->data.data = s->data;
                in->data.len = s->data_len;
            }
            if (q->with_rooms)
                in->rooms = room_names(a, s, &in->n_rooms);
            ptrs[n] = in;
            bytes += s->id_len + s->sid_len + s->uid_len + 64 + (q->with_data ? s->data_len : 0) +
                     in->n_rooms * 16;
        }
        Sidecast__V1__SocketList list = SIDECAST__V1__SOCKET_LIST__INIT;
        list.sockets = ptrs;
        list.n_sockets = n;
        list.more = i < col.n;
        send_reply(c, f->id, M(SOCKET_LIST), &list);
    } while (i < col.n && c->state != SC_CONN_CLOSED);
    free(col.items);
}

static void on_rooms(sc_conn *c, const sc_frame *f)
{
    const Sidecast__V1__RoomsRequest *q = f->rooms;
    sc_registry *reg = &c->srv->reg;
    sc_arena *a = &c->srv->arena;
    size_t want = q->n_names ? q->n_names : sc_map_count(&reg->rooms);
    size_t chunk = SC_MIN(SC_MAX(want, 1), (size_t)CHUNK_ITEMS);
    Sidecast__V1__RoomInfo *infos = sc_arena_alloc(a, sizeof(*infos) * chunk);
    Sidecast__V1__RoomInfo **ptrs = sc_arena_alloc(a, sizeof(*ptrs) * chunk);
    size_t done = 0;
    uint32_t slot = 0;
    do {
        size_t n = 0;
        for (; n < chunk && done < want; done++, n++) {
            sidecast__v1__room_info__init(&infos[n]);
            if (q->n_names) {
                infos[n].name = q->names[done];
                infos[n].size = sc_room_size(sc_registry_find_room(reg, q->names[done]));
            } else {
                while (!reg->rooms.items[slot])
                    slot++;
                const sc_room *room = reg->rooms.items[slot++];
                infos[n].name = (char *)room->name;
                infos[n].size = sc_room_size(room);
            }
            ptrs[n] = &infos[n];
        }
        Sidecast__V1__RoomList list = SIDECAST__V1__ROOM_LIST__INIT;
        list.rooms = ptrs;
        list.n_rooms = n;
        list.more = done < want;
        send_reply(c, f->id, M(ROOM_LIST), &list);
    } while (done < want && c->state != SC_CONN_CLOSED);
}

typedef struct stat_list {
    Sidecast__V1__Stat *items;
    Sidecast__V1__Stat **ptrs;
    size_t n;
} stat_list;

static void add_stat(const char *name, const char *help, uint64_t value, void *ud)
{
    (void)help;
    stat_list *l = ud;
    Sidecast__V1__Stat *s = &l->items[l->n];
    sidecast__v1__stat__init(s);
    s->name = (char *)name;
    s->value = value;
    l->ptrs[l->n++] = s;
}

static void on_stats(sc_conn *c, const sc_frame *f)
{
    sc_server *srv = c->srv;
    Sidecast__V1__Stat items[64];
    Sidecast__V1__Stat *ptrs[64];
    stat_list l = {items, ptrs, 0};
    sc_stats_foreach(add_stat, &l);
    add_stat("app_connections", NULL, srv->nconns, &l);
    add_stat("sockets", NULL, sc_map_count(&srv->reg.sockets), &l);
    add_stat("rooms", NULL, sc_map_count(&srv->reg.rooms), &l);
    add_stat("room_memberships", NULL, srv->reg.memberships, &l);
    add_stat("output_buffer_bytes", NULL, sc_server_output_bytes(srv), &l);
    add_stat("uptime_seconds", NULL, (sc_now_us() - srv->started_us) / 1000000u, &l);
    Sidecast__V1__Stats st = SIDECAST__V1__STATS__INIT;
    st.stats = ptrs;
    st.n_stats = l.n;
    send_reply(c, f->id, M(STATS_REPLY), &st);
}

typedef void (*handler_fn)(sc_conn *c, const sc_frame *f);

static const handler_fn handlers[] = {
    [M(HELLO)] = on_hello,
    [M(PING)] = on_ping,
    [M(SOCKET_UP)] = on_socket_up,
    [M(SOCKET_DOWN)] = on_socket_down,
    [M(JOIN)] = on_join,
    [M(LEAVE)] = on_leave,
    [M(SET_DATA)] = on_set_data,
    [M(EMIT)] = on_emit,
    [M(FETCH_SOCKETS)] = on_fetch_sockets,
    [M(ROOMS)] = on_rooms,
    [M(STATS)] = on_stats,
};

void sc_dispatch(sc_conn *c, const sc_frame *f)
{
    unsigned mc = (unsigned)f->msg_case;
    handler_fn fn = mc < SC_ARRAY_LEN(handlers) ? handlers[mc] : NULL;
    if (mc == 0 || mc == 1 || !protobuf_c_message_descriptor_get_field(
                                  &sidecast__v1__frame__descriptor, mc)) {
        SC_COUNT(refused_unknown_message);
        sc_conn_error(c, f->id, E(UNKNOWN_MESSAGE), NULL, true,
                      "frame carries no message this sidecastd knows (protocol %u); is the "
                      "client newer than the sidecar?",
                      SC_PROTOCOL_VERSION);
        return;
    }
    if (!fn) {
        SC_COUNT(refused_invalid);
        sc_conn_error(c, f->id, E(INVALID), sc_wire_msg_name((int)mc), true,
                      "%s is sent by sidecastd, never to it", sc_wire_msg_name((int)mc));
        return;
    }
    if (!c->handshaken != (mc == M(HELLO))) {
        SC_COUNT(refused_handshake);
        sc_conn_error(c, f->id, E(HANDSHAKE), sc_wire_msg_name((int)mc), true,
                      c->handshaken ? "Hello sent twice"
                                    : "%s before Hello: the first frame must be Hello",
                      sc_wire_msg_name((int)mc));
        return;
    }
    fn(c, f);
}
