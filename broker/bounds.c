/* bounds: one pass over the fields of a frame that carry names, payloads or
 * data, against the configured bounds. Costs O(fields of the frame); the
 * rooms-per-socket check looks up each room once. See bounds.h for what it
 * may not touch. */
#include "bounds.h"
#include "state.h"
#include "stats.h"

#include <string.h>

#define M(name) SIDECAST__V1__FRAME__MSG_##name
#define LIMIT SIDECAST__V1__ERROR_CODE__ERROR_LIMIT

static int refuse(sc_conn *c, const sc_frame *f, const char *ref, const char *what,
                  unsigned long long got, unsigned long long max)
{
    sc_conn_error(c, f->id, LIMIT, ref ? ref : "", false, "%s: %llu over the limit %llu", what, got,
                  max);
    return -1;
}

/* The first name in names[0..n) longer than max_name_bytes, or NULL. */
static const char *long_name(const sc_conn *c, char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && strlen(names[i]) > c->srv->cfg->max_name_bytes)
            return names[i];
    return NULL;
}

/* The ref is `of` (the socket a SocketUp registers) or else the long name
 * itself, cut to 64 bytes, never inside a UTF-8 sequence. */
static int check_names_of(sc_conn *c, const sc_frame *f, const char *of, const char *what,
                          char *const *names, size_t n)
{
    const char *bad = long_name(c, names, n);
    if (!bad)
        return 0;
    SC_COUNT(refused_name_limit);
    size_t blen = strlen(bad), cut = blen > 64 ? 64 : blen;
    while (cut > 0 && cut < blen && ((unsigned char)bad[cut] & 0xc0) == 0x80)
        cut--;
    char ref[65];
    snprintf(ref, sizeof(ref), "%.*s", (int)cut, bad);
    return refuse(c, f, of && of != bad ? of : ref, what, (unsigned long long)blen,
                  (unsigned long long)c->srv->cfg->max_name_bytes);
}

static int check_names(sc_conn *c, const sc_frame *f, const char *what, char *const *names,
                       size_t n)
{
    return check_names_of(c, f, NULL, what, names, n);
}

static int check_name(sc_conn *c, const sc_frame *f, const char *what, const char *name)
{
    return check_names(c, f, what, (char *const *)&name, 1);
}

#define ROOM "room name (bytes)"
#define SOCKET_ID "socket id (bytes)"

static int check_selector(sc_conn *c, const sc_frame *f, const sc_selector *s)
{
    if (!s)
        return 0;
    if (check_names(c, f, ROOM, s->rooms, s->n_rooms) < 0 ||
        check_names(c, f, SOCKET_ID, s->socket_ids, s->n_socket_ids) < 0 ||
        check_names(c, f, "user id (bytes)", s->user_ids, s->n_user_ids) < 0 ||
        check_names(c, f, ROOM, s->except_rooms, s->n_except_rooms) < 0 ||
        check_names(c, f, SOCKET_ID, s->except_ids, s->n_except_ids) < 0)
        return -1;
    return 0;
}

static int check_payload(sc_conn *c, const sc_frame *f, size_t len)
{
    uint64_t max = c->srv->cfg->max_payload_bytes;
    if (len <= max)
        return 0;
    SC_COUNT(refused_payload_limit);
    return refuse(c, f, NULL, "payload (bytes, max_payload_bytes)", len, max);
}

static int check_data(sc_conn *c, const sc_frame *f, const char *sid, size_t len)
{
    uint64_t max = c->srv->cfg->max_socket_data_bytes;
    if (len <= max)
        return 0;
    SC_COUNT(refused_data_limit);
    return refuse(c, f, sid, "socket data (bytes, max_socket_data_bytes)", len, max);
}

/* Rooms the socket would be in after joining these (rooms it is already in
 * are not counted twice). sid: the socket's id, NULL for one not registered
 * yet; the refusal's ref is `ref`. */
static int check_rooms(sc_conn *c, const sc_frame *f, const char *sid, const char *ref,
                       char *const *rooms, size_t n)
{
    uint64_t max = c->srv->cfg->max_rooms_per_socket;
    const sc_registry *reg = &c->srv->reg;
    const sc_socket *s = sid ? sc_registry_find_socket(reg, sid) : NULL;
    uint64_t have = s && s->owner == &c->owner ? sc_pset_count(&s->rooms) : 0;
    if (have + n <= max)
        return 0;
    uint64_t total = have;
    for (size_t i = 0; i < n && total <= max; i++) {
        const sc_room *r = s ? sc_registry_find_room(reg, rooms[i]) : NULL;
        if (!r || !sc_pset_has(&s->rooms, r))
            total++;
    }
    if (total <= max)
        return 0;
    SC_COUNT(refused_rooms_limit);
    return refuse(c, f, ref, "rooms per socket (max_rooms_per_socket)", total, max);
}

/* Every refusal of a SocketUp names its socket: an app that pipelines them
 * with id 0 learns from the ref which registration failed. */
static int check_socket_up(sc_conn *c, const sc_frame *f)
{
    const Sidecast__V1__SocketUp *u = f->socket_up;
    const char *sid = u->socket_id;
    uint64_t max = c->srv->cfg->max_sockets_per_connection;
    if (check_names_of(c, f, sid, SOCKET_ID, &u->socket_id, 1) < 0 ||
        check_names_of(c, f, sid, "session id (bytes)", &u->session_id, 1) < 0 ||
        check_names_of(c, f, sid, "user id (bytes)", &u->user_id, 1) < 0 ||
        check_names_of(c, f, sid, ROOM, u->rooms, u->n_rooms) < 0 ||
        check_data(c, f, u->socket_id, u->data.len) < 0)
        return -1;
    if (sc_pset_count(&c->owner.sockets) >= max) {
        SC_COUNT(refused_sockets_limit);
        return refuse(c, f, u->socket_id, "sockets on this connection (max_sockets_per_connection)",
                      sc_pset_count(&c->owner.sockets) + 1ull, max);
    }
    return check_rooms(c, f, NULL, sid, u->rooms, u->n_rooms);
}

static int check_join(sc_conn *c, const sc_frame *f)
{
    const Sidecast__V1__Join *j = f->join;
    if (check_names(c, f, ROOM, j->rooms, j->n_rooms) < 0)
        return -1;
    return check_rooms(c, f, j->socket_id, j->socket_id, j->rooms, j->n_rooms);
}

static int check_emit(sc_conn *c, const sc_frame *f)
{
    if (check_payload(c, f, f->emit->payload.len) < 0)
        return -1;
    return check_selector(c, f, f->emit->to);
}

static int check_apply(sc_conn *c, const sc_frame *f)
{
    const Sidecast__V1__Apply *a = f->apply;
    if (check_selector(c, f, a->filter) < 0 || check_names(c, f, ROOM, a->join, a->n_join) < 0 ||
        check_names(c, f, ROOM, a->leave, a->n_leave) < 0)
        return -1;
    return 0;
}

static int check_session_set(sc_conn *c, const sc_frame *f)
{
    const Sidecast__V1__SessionSet *ss = f->session_set;
    return check_name(c, f, "session id (bytes)", ss->session_id);
}

static int check_ack(sc_conn *c, const sc_frame *f)
{
    for (size_t i = 0; i < f->ack->n_payloads; i++)
        if (check_payload(c, f, f->ack->payloads[i].len) < 0)
            return -1;
    return 0;
}

static int check_lookup(sc_conn *c, const sc_frame *f)
{
    const Sidecast__V1__Lookup *q = f->lookup;
    const char *key = q->key_case == SIDECAST__V1__LOOKUP__KEY_SESSION_ID  ? q->session_id
                      : q->key_case == SIDECAST__V1__LOOKUP__KEY_SOCKET_ID ? q->socket_id
                      : q->key_case == SIDECAST__V1__LOOKUP__KEY_USER_ID   ? q->user_id
                                                                           : NULL;
    return key ? check_name(c, f, "lookup key (bytes)", key) : 0;
}

int sc_bounds_check(sc_conn *c, const sc_frame *f)
{
    switch (f->msg_case) {
    case M(SOCKET_UP): return check_socket_up(c, f);
    case M(JOIN): return check_join(c, f);
    case M(SET_DATA): return check_data(c, f, f->set_data->socket_id, f->set_data->data.len);
    case M(EMIT): return check_emit(c, f);
    case M(SERVER_EMIT): return check_payload(c, f, f->server_emit->payload.len);
    case M(ACK): return check_ack(c, f);
    case M(APPLY): return check_apply(c, f);
    case M(FETCH_SOCKETS): return check_selector(c, f, f->fetch_sockets->filter);
    case M(LOOKUP): return check_lookup(c, f);
    case M(SESSION_GET): return check_name(c, f, "session id (bytes)", f->session_get->session_id);
    case M(SESSION_SET): return check_session_set(c, f);
    default: return 0;
    }
}
