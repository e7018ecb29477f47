/* dispatch: validates each request, applies it to the registry or routes it,
 * and answers. Refusals of a valid frame (duplicate id, unknown socket, an id
 * that is not UTF-8) keep the connection; protocol violations close it after
 * an Error frame. Strings from the frame reach messages and logs through
 * SC_ESC only. See dispatch.h for what it may not touch. */
#include "dispatch.h"
#include "bounds.h"
#include "cluster.h"
#include "deliver.h"
#include "log.h"
#include "request.h"
#include "session.h"
#include "router.h"
#include "state.h"
#include "metrics.h"
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
    sc_conn_error(c, id, E(NOT_FOUND), sid, false, "socket %s is not registered%s", SC_ESC(sid),
                  s ? " by this connection" : "");
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
    if (h->protocol_version < SC_PROTOCOL_MIN_VERSION || h->protocol_version > SC_PROTOCOL_VERSION) {
        SC_COUNT(refused_version);
        sc_conn_error(c, f->id, E(VERSION), NULL, true,
                      "protocol version %u is not supported: this sidecastd %s speaks versions "
                      "%u to %u",
                      h->protocol_version, SC_VERSION, SC_PROTOCOL_MIN_VERSION,
                      SC_PROTOCOL_VERSION);
        return;
    }
    c->features = h->features & SC_FEATURES; /* used only when both sides have them */
    sanitize_name(c->name, sizeof(c->name), h->client_name);
    c->handshaken = true;
    Sidecast__V1__Welcome w = SIDECAST__V1__WELCOME__INIT;
    w.protocol_version = SC_PROTOCOL_VERSION;
    w.server_version = SC_VERSION;
    w.node_id = c->srv->node_id;
    w.node_name = c->srv->node_name;
    w.max_frame_bytes = (uint32_t)c->srv->cfg->max_frame_bytes;
    w.connection_id = c->id;
    w.features = SC_FEATURES;
    w.min_protocol_version = SC_PROTOCOL_MIN_VERSION;
    w.max_payload_bytes = (uint32_t)c->srv->cfg->max_payload_bytes;
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
                      SC_ESC(u->socket_id), other->owner == &c->owner ? " by this connection" : "");
        return;
    }
    if (r < 0) {
        refuse_invalid(c, f->id, u->socket_id,
                       r == -EINVAL ? "socket_id must not be empty"
                                    : "socket, session and user ids must be at most 65535 bytes");
        return;
    }
    SC_COUNT(sockets_registered);
    sc_cluster_socket_up(c->srv->cluster, s);
    sc_session_socket_up(c->srv, sc_socket_sid(s));
    if (join_rooms(c, f->id, s, u->rooms, u->n_rooms) == 0)
        reply_ok(c, f->id);
}

static void on_socket_down(sc_conn *c, const sc_frame *f)
{
    sc_socket *s = own_socket(c, f->id, f->socket_down->socket_id);
    if (!s)
        return;
    sc_dispatch_remove_socket(c->srv, s);
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
    sc_registry_set_data(&c->srv->reg, s, f->set_data->data.data, f->set_data->data.len);
    reply_ok(c, f->id);
}

/* Socket ids of the emit that are not registered on this node. */
static char **remote_ids(sc_conn *c, const sc_selector *to, size_t *ret_n)
{
    char **ids = NULL;
    size_t n = 0;
    for (size_t i = 0; i < to->n_socket_ids; i++) {
        if (sc_registry_find_socket(&c->srv->reg, to->socket_ids[i]))
            continue;
        if (!ids)
            ids = sc_arena_alloc(&c->srv->arena, sizeof(char *) * to->n_socket_ids);
        ids[n++] = to->socket_ids[i];
    }
    *ret_n = n;
    return ids;
}

static void on_emit(sc_conn *c, const sc_frame *f)
{
    const Sidecast__V1__Emit *e = f->emit;
    const sc_selector *to = e->to;
    if (!to || sc_selector_is_empty(to)) {
        refuse_invalid(c, f->id, "", "emit names no recipients: set to.all, to.rooms, "
                                     "to.socket_ids or to.user_ids");
        return;
    }
    if (e->want_ack && f->id == 0) {
        refuse_invalid(c, 0, "", "an emit with want_ack needs a request id for its Progress");
        return;
    }
    if (to->all)
        SC_COUNT(emits_all);
    if (to->n_rooms)
        SC_COUNT(emits_room);
    if (to->n_socket_ids)
        SC_COUNT(emits_socket);
    if (to->n_user_ids)
        SC_COUNT(emits_user);
    sc_metrics_emit(to, SC_SCOPE_LOCAL);
    bool cluster = c->srv->cluster && !e->local;
    sc_request *req = NULL;
    sc_relay *relay = NULL;
    if (e->want_ack) {
        req = cluster ? sc_cluster_request(c->srv->cluster, SC_REQ_BROADCAST_ACK, c, f->id)
                      : sc_request_new(c->srv, SC_REQ_BROADCAST_ACK, c, f->id, 1);
        if (!req)
            return;
        relay = sc_relay_new(c->srv, "", req->id);
    }
    sc_deliver(c->srv, &c->owner, e->include_self, to, e->payload, e->volatile_, relay);
    if (cluster) {
        size_t n_remote;
        char **ids = remote_ids(c, to, &n_remote);
        size_t raw_len = 0;
        const uint8_t *raw = c->cur_body ? sc_wire_find_bytes(c->cur_body, c->cur_len, M(EMIT),
                                                              &raw_len)
                                         : NULL;
        if (to->all || to->n_rooms || n_remote || to->n_user_ids || req)
            sc_cluster_emit(c->srv->cluster, e, ids, n_remote, req ? req->id : 0, raw, raw_len);
    }
    if (relay)
        sc_relay_arm(relay);
    else
        reply_ok(c, f->id);
}

static void on_fetch_sockets(sc_conn *c, const sc_frame *f)
{
    const Sidecast__V1__FetchSockets *q = f->fetch_sockets;
    if (c->srv->cluster && !q->local) {
        sc_cluster_fetch_sockets(c->srv->cluster, c, f->id, q);
        return;
    }
    sc_deliver_sockets(c, f->id, q, false, NULL);
}

static void on_apply(sc_conn *c, const sc_frame *f)
{
    const Sidecast__V1__Apply *a = f->apply;
    if (a->n_join == 0 && a->n_leave == 0 && !a->disconnect) {
        refuse_invalid(c, f->id, "", "apply needs join, leave or disconnect");
        return;
    }
    if (c->srv->cluster && !a->local) {
        sc_cluster_apply(c->srv->cluster, c, f->id, a);
        return;
    }
    sc_deliver_apply(c->srv, a);
    reply_ok(c, f->id);
}

static void on_server_emit(sc_conn *c, const sc_frame *f)
{
    const Sidecast__V1__ServerEmit *e = f->server_emit;
    if (e->want_ack && f->id == 0) {
        refuse_invalid(c, 0, "", "a server emit with want_ack needs a request id");
        return;
    }
    if (c->srv->cluster && !e->local) {
        if (sc_cluster_server_emit(c->srv->cluster, c, f->id, e) == 0 && !e->want_ack)
            reply_ok(c, f->id);
        return;
    }
    if (!e->want_ack) {
        sc_deliver_server_message(c->srv, c, e->payload, c->srv->node_id, NULL);
        reply_ok(c, f->id);
        return;
    }
    sc_request *r = sc_request_new(c->srv, SC_REQ_SERVER_EMIT, c, f->id, 1);
    if (!r)
        return;
    sc_relay *relay = sc_relay_new(c->srv, "", r->id);
    sc_relay_count_answers(relay);
    sc_deliver_server_message(c->srv, c, e->payload, c->srv->node_id, relay);
    sc_relay_arm(relay);
}

void sc_dispatch_remove_socket(sc_server *srv, sc_socket *s)
{
    char sid[SC_ID_MAX + 1];
    memcpy(sid, sc_socket_sid(s), s->sid_len + 1u);
    sc_cluster_socket_down(srv->cluster, s);
    sc_registry_remove_socket(&srv->reg, s);
    sc_session_socket_down(srv, sid);
}

static void fill_location(sc_server *srv, const sc_socket *s, Sidecast__V1__SocketLocation *l)
{
    sidecast__v1__socket_location__init(l);
    l->socket_id = (char *)sc_socket_id(s);
    l->session_id = (char *)sc_socket_sid(s);
    l->user_id = (char *)sc_socket_uid(s);
    l->node_id = srv->node_id;
    l->node_name = srv->node_name;
    l->address = srv->cfg->advertise_address ? srv->cfg->advertise_address : (char *)"";
    l->local = true;
}

/* Answer from this node's registry: always so when standalone. */
static void lookup_local(sc_conn *c, const sc_frame *f)
{
    const Sidecast__V1__Lookup *q = f->lookup;
    sc_server *srv = c->srv;
    sc_socket *one = NULL;
    const sc_pset *many = NULL;
    if (q->key_case == SIDECAST__V1__LOOKUP__KEY_SESSION_ID)
        one = sc_registry_find_session(&srv->reg, q->session_id);
    else if (q->key_case == SIDECAST__V1__LOOKUP__KEY_SOCKET_ID)
        one = sc_registry_find_socket(&srv->reg, q->socket_id);
    else {
        sc_user *u = sc_registry_find_user(&srv->reg, q->user_id);
        many = u ? &u->sockets : NULL;
    }
    uint32_t n = one ? 1 : (many ? sc_pset_count(many) : 0);
    Sidecast__V1__SocketLocation *locs = sc_arena_alloc(&srv->arena, sizeof(*locs) * (n + 1));
    Sidecast__V1__SocketLocation **ptrs = sc_arena_alloc(&srv->arena, sizeof(*ptrs) * (n + 1));
    size_t at = 0;
    if (one) {
        fill_location(srv, one, &locs[0]);
        ptrs[at++] = &locs[0];
    } else if (many) {
        uint32_t slots_n;
        void *const *slots = sc_pset_slots(many, &slots_n);
        for (uint32_t i = 0; i < slots_n; i++)
            if (slots[i]) {
                fill_location(srv, slots[i], &locs[at]);
                ptrs[at] = &locs[at];
                at++;
            }
    }
    Sidecast__V1__LookupResult res = SIDECAST__V1__LOOKUP_RESULT__INIT;
    res.sockets = ptrs;
    res.n_sockets = at;
    res.nodes = at ? 1 : 0;
    SC_COUNT(lookups_local);
    send_reply(c, f->id, M(LOOKUP_RESULT), &res);
}

static void on_lookup(sc_conn *c, const sc_frame *f)
{
    const Sidecast__V1__Lookup *q = f->lookup;
    const char *key = q->key_case == SIDECAST__V1__LOOKUP__KEY_SESSION_ID  ? q->session_id
                      : q->key_case == SIDECAST__V1__LOOKUP__KEY_SOCKET_ID ? q->socket_id
                      : q->key_case == SIDECAST__V1__LOOKUP__KEY_USER_ID   ? q->user_id
                                                                           : NULL;
    if (!key || !key[0] || f->id == 0) {
        refuse_invalid(c, f->id, "", "lookup needs a request id and a non-empty session_id, "
                                     "socket_id or user_id");
        return;
    }
    if (!c->srv->cluster || q->local) {
        lookup_local(c, f);
        return;
    }
    const char *kind = q->key_case == SIDECAST__V1__LOOKUP__KEY_SESSION_ID  ? "session"
                       : q->key_case == SIDECAST__V1__LOOKUP__KEY_SOCKET_ID ? "socket"
                                                                            : "user";
    sc_cluster_lookup(c->srv->cluster, c, f->id, kind, key);
}

static void on_session_get(sc_conn *c, const sc_frame *f)
{
    const char *sid = f->session_get->session_id;
    if (!sid || !sid[0] || f->id == 0) {
        refuse_invalid(c, f->id, "", "session get needs a request id and a session_id");
        return;
    }
    if (c->srv->cluster) {
        sc_cluster_session_get(c->srv->cluster, c, f->id, sid);
        return;
    }
    Sidecast__V1__SessionData d;
    sc_session_get(c->srv, sid, &c->srv->arena, &d);
    send_reply(c, f->id, M(SESSION_DATA), &d);
}

static void on_session_set(sc_conn *c, const sc_frame *f)
{
    const Sidecast__V1__SessionSet *ss = f->session_set;
    if (!ss->session_id || !ss->session_id[0]) {
        refuse_invalid(c, f->id, "", "session set needs a session_id");
        return;
    }
    for (size_t i = 0; i < ss->n_set; i++)
        if (!ss->set[i]->key[0]) {
            refuse_invalid(c, f->id, ss->session_id, "session data keys must not be empty");
            return;
        }
    if (c->srv->cluster) {
        sc_cluster_session_set(c->srv->cluster, c, f->id, ss);
        return;
    }
    char why[200];
    if (sc_session_set(c->srv, ss, why, sizeof(why)) < 0) {
        SC_COUNT(session_data_refused);
        sc_conn_error(c, f->id, E(LIMIT), ss->session_id, false, "%s", why);
        return;
    }
    reply_ok(c, f->id);
}

static void on_ack(sc_conn *c, const sc_frame *f)
{
    sc_relay_ack(c->srv, c, f->ack);
}

static void on_nodes(sc_conn *c, const sc_frame *f)
{
    sc_server *srv = c->srv;
    const char **ids = NULL, **names = NULL;
    size_t n = srv->cluster ? sc_cluster_nodes(srv->cluster, &ids, &names) : 0;
    sc_arena *a = &srv->arena;
    size_t total = n ? n : 1;
    Sidecast__V1__NodeInfo *infos = sc_arena_alloc(a, sizeof(*infos) * total);
    Sidecast__V1__NodeInfo **ptrs = sc_arena_alloc(a, sizeof(*ptrs) * total);
    for (size_t i = 0; i < total; i++) {
        sidecast__v1__node_info__init(&infos[i]);
        infos[i].node_id = n ? (char *)ids[i] : srv->node_id;
        infos[i].node_name = n ? (char *)names[i] : srv->node_name;
        infos[i].self = strcmp(infos[i].node_id, srv->node_id) == 0;
        if (c->features & SIDECAST__V1__FEATURE__FEATURE_NODE_VERSIONS) {
            if (n) {
                sc_cluster_node_version(srv->cluster, i, &infos[i].version, &infos[i].features);
            } else { /* standalone, or before the first heartbeat: what this node speaks */
                infos[i].version = SC_CLUSTER_VERSION;
                infos[i].features = SC_CLUSTER_FEATURES;
            }
        }
        ptrs[i] = &infos[i];
    }
    Sidecast__V1__NodeList l = SIDECAST__V1__NODE_LIST__INIT;
    l.nodes = ptrs;
    l.n_nodes = total;
    send_reply(c, f->id, M(NODE_LIST), &l);
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

/* Every counter plus room for the gauges; add_stat never writes past it. */
#define STAT_ONE(name, help) +1
enum { STATS_MAX = (0 SC_COUNTERS(STAT_ONE)) + 64 };
#undef STAT_ONE

typedef struct stat_list {
    Sidecast__V1__Stat *items;
    Sidecast__V1__Stat **ptrs;
    size_t n, cap;
} stat_list;

static void add_stat(const char *name, const char *help, uint64_t value, void *ud)
{
    (void)help;
    stat_list *l = ud;
    if (l->n >= l->cap)
        return;
    Sidecast__V1__Stat *s = &l->items[l->n];
    sidecast__v1__stat__init(s);
    s->name = (char *)name;
    s->value = value;
    l->ptrs[l->n++] = s;
}

static void add_gauge(const char *name, uint64_t value, void *ud)
{
    add_stat(name, NULL, value, ud);
}

static void on_stats(sc_conn *c, const sc_frame *f)
{
    sc_server *srv = c->srv;
    Sidecast__V1__Stat items[STATS_MAX];
    Sidecast__V1__Stat *ptrs[STATS_MAX];
    stat_list l = {items, ptrs, 0, STATS_MAX};
    sc_stats_foreach(add_stat, &l);
    add_stat("app_connections", NULL, srv->nconns, &l);
    add_stat("sockets", NULL, sc_map_count(&srv->reg.sockets), &l);
    add_stat("rooms", NULL, sc_map_count(&srv->reg.rooms), &l);
    add_stat("room_memberships", NULL, srv->reg.memberships, &l);
    add_stat("output_buffer_bytes", NULL, sc_conn_output_bytes(srv->conns), &l);
    add_stat("uptime_seconds", NULL, (sc_now_us() - srv->started_us) / 1000000u, &l);
    add_stat("pending_requests", NULL, sc_map_count(&srv->requests), &l);
    if (srv->cluster)
        sc_cluster_gauges(srv->cluster, add_gauge, &l);
    Sidecast__V1__Stats st = SIDECAST__V1__STATS__INIT;
    st.stats = ptrs;
    st.n_stats = l.n;
    send_reply(c, f->id, M(STATS_REPLY), &st);
}

/* ---- text fields ------------------------------------------------------------
 * protobuf-c takes a `string` field as it comes. An id or a name that is not
 * UTF-8 would be stored, published to other nodes and sent back in replies
 * that strict protobuf decoders (every other language) refuse, so the frame
 * is refused instead: INVALID, naming the field and the socket or session
 * the frame is about, which is also the ref. One pass over each string. */

typedef struct text_check {
    sc_conn *c;
    const sc_frame *f;
    const char *kind;    /* "socket", "session", or NULL */
    const char *subject; /* its id, already checked */
} text_check;

/* 0 if every one of v[0..n) is UTF-8; else refuses the frame, -1. */
static int check_utf8(const text_check *t, const char *field, char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!v[i] || sc_utf8_valid(v[i], strlen(v[i])))
            continue;
        char what[400], bad[SC_ESC_LEN];
        sc_log_escape(bad, sizeof(bad), v[i]);
        if (t->subject)
            snprintf(what, sizeof(what),
                     "%s of %s %s is not valid UTF-8: \"%s\"; ids and names must be UTF-8", field,
                     t->kind, SC_ESC(t->subject), bad);
        else
            snprintf(what, sizeof(what),
                     "%s is not valid UTF-8: \"%s\"; ids and names must be UTF-8", field, bad);
        /* the ref names the socket or session; an Error carrying the bad
         * bytes themselves would be refused by the app's decoder */
        refuse_invalid(t->c, t->f->id, t->subject ? t->subject : bad, what);
        return -1;
    }
    return 0;
}

static int check_utf8_one(const text_check *t, const char *field, const char *v)
{
    return check_utf8(t, field, (char *const *)&v, 1);
}

/* The frame's socket or session id: checked first, then named by the rest. */
static int check_subject(text_check *t, const char *kind, const char *field, const char *id)
{
    if (check_utf8_one(t, field, id) < 0)
        return -1;
    if (id && id[0]) {
        t->kind = kind;
        t->subject = id;
    }
    return 0;
}

/* Selector fields in sc_selector order, by where the selector is. */
static const char *const to_fields[] = {"to.rooms", "to.socket_ids", "to.except_rooms",
                                        "to.except_ids", "to.user_ids"};
static const char *const filter_fields[] = {"filter.rooms", "filter.socket_ids",
                                            "filter.except_rooms", "filter.except_ids",
                                            "filter.user_ids"};

static int check_selector_utf8(const text_check *t, const char *const *names,
                               const sc_selector *sel)
{
    if (!sel)
        return 0;
    if (check_utf8(t, names[0], sel->rooms, sel->n_rooms) < 0 ||
        check_utf8(t, names[1], sel->socket_ids, sel->n_socket_ids) < 0 ||
        check_utf8(t, names[2], sel->except_rooms, sel->n_except_rooms) < 0 ||
        check_utf8(t, names[3], sel->except_ids, sel->n_except_ids) < 0 ||
        check_utf8(t, names[4], sel->user_ids, sel->n_user_ids) < 0)
        return -1;
    return 0;
}

/* Every string field an app sends that names something (Hello's
 * client_name is free text, sanitised in on_hello). 0, or -1 if refused. */
static int check_text(sc_conn *c, const sc_frame *f)
{
    text_check t = {c, f, NULL, NULL};
    switch (f->msg_case) {
    case M(SOCKET_UP): {
        const Sidecast__V1__SocketUp *u = f->socket_up;
        if (check_subject(&t, "socket", "socket_id", u->socket_id) < 0 ||
            check_utf8_one(&t, "session_id", u->session_id) < 0 ||
            check_utf8_one(&t, "user_id", u->user_id) < 0 ||
            check_utf8(&t, "rooms", u->rooms, u->n_rooms) < 0)
            return -1;
        return 0;
    }
    case M(SOCKET_DOWN): return check_subject(&t, "socket", "socket_id", f->socket_down->socket_id);
    case M(JOIN):
        if (check_subject(&t, "socket", "socket_id", f->join->socket_id) < 0)
            return -1;
        return check_utf8(&t, "rooms", f->join->rooms, f->join->n_rooms);
    case M(LEAVE):
        if (check_subject(&t, "socket", "socket_id", f->leave->socket_id) < 0)
            return -1;
        return check_utf8(&t, "rooms", f->leave->rooms, f->leave->n_rooms);
    case M(SET_DATA): return check_subject(&t, "socket", "socket_id", f->set_data->socket_id);
    case M(EMIT): return check_selector_utf8(&t, to_fields, f->emit->to);
    case M(FETCH_SOCKETS): return check_selector_utf8(&t, filter_fields, f->fetch_sockets->filter);
    case M(ROOMS): return check_utf8(&t, "names", f->rooms->names, f->rooms->n_names);
    case M(APPLY):
        if (check_selector_utf8(&t, filter_fields, f->apply->filter) < 0 ||
            check_utf8(&t, "join", f->apply->join, f->apply->n_join) < 0 ||
            check_utf8(&t, "leave", f->apply->leave, f->apply->n_leave) < 0)
            return -1;
        return 0;
    case M(LOOKUP):
        switch (f->lookup->key_case) {
        case SIDECAST__V1__LOOKUP__KEY_SESSION_ID:
            return check_utf8_one(&t, "session_id", f->lookup->session_id);
        case SIDECAST__V1__LOOKUP__KEY_SOCKET_ID:
            return check_utf8_one(&t, "socket_id", f->lookup->socket_id);
        case SIDECAST__V1__LOOKUP__KEY_USER_ID:
            return check_utf8_one(&t, "user_id", f->lookup->user_id);
        default: return 0;
        }
    case M(SESSION_GET):
        return check_subject(&t, "session", "session_id", f->session_get->session_id);
    case M(SESSION_SET): {
        const Sidecast__V1__SessionSet *ss = f->session_set;
        if (check_subject(&t, "session", "session_id", ss->session_id) < 0 ||
            check_utf8(&t, "delete", ss->delete_, ss->n_delete_) < 0)
            return -1;
        for (size_t i = 0; i < ss->n_set; i++)
            if (check_utf8_one(&t, "set.key", ss->set[i]->key) < 0)
                return -1;
        return 0;
    }
    default: return 0;
    }
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
    [M(APPLY)] = on_apply,
    [M(SERVER_EMIT)] = on_server_emit,
    [M(ACK)] = on_ack,
    [M(NODES)] = on_nodes,
    [M(LOOKUP)] = on_lookup,
    [M(SESSION_GET)] = on_session_get,
    [M(SESSION_SET)] = on_session_set,
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
    if (check_text(c, f) < 0 || sc_bounds_check(c, f) < 0)
        return;
    fn(c, f);
}
