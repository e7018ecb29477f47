/* registry: sockets and rooms with membership kept on both sides, so join,
 * leave and "who is in room R" are all O(1), and per-room counts per owner,
 * so a router finds the connections interested in a room without walking its
 * members. See registry.h for what it owns and may not touch. */
#include "registry.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *socket_key(const void *item, size_t *len)
{
    const sc_socket *s = item;
    *len = s->id_len;
    return s->key;
}

static const char *session_key(const void *item, size_t *len)
{
    const sc_socket *s = item;
    *len = s->sid_len;
    return sc_socket_sid(s);
}

static const char *user_key(const void *item, size_t *len)
{
    const sc_user *u = item;
    *len = u->len;
    return u->id;
}

static const char *room_key(const void *item, size_t *len)
{
    const sc_room *r = item;
    *len = r->name_len;
    return r->name;
}

void sc_registry_init(sc_registry *r)
{
    memset(r, 0, sizeof(*r));
    sc_hash_init();
    sc_map_init(&r->sockets, socket_key);
    sc_map_init(&r->sessions, session_key);
    sc_map_init(&r->users, user_key);
    sc_map_init(&r->rooms, room_key);
    sc_pset_init(&r->owners);
}

static void free_socket(sc_socket *s)
{
    sc_pset_free(&s->rooms);
    free(s->data);
    free(s);
}

static void free_room(sc_room *room)
{
    sc_pset_free(&room->members);
    sc_pmap_free(&room->owners);
    free(room);
}

void sc_registry_free(sc_registry *r)
{
    if (!r)
        return;
    for (uint32_t i = 0; i < r->sockets.cap; i++)
        if (r->sockets.items[i])
            free_socket(r->sockets.items[i]);
    for (uint32_t i = 0; i < r->rooms.cap; i++)
        if (r->rooms.items[i])
            free_room(r->rooms.items[i]);
    for (uint32_t i = 0; i < r->users.cap; i++) {
        sc_user *u = r->users.items[i];
        if (u) {
            sc_pset_free(&u->sockets);
            free(u);
        }
    }
    sc_map_free(&r->sessions);
    sc_map_free(&r->users);
    sc_map_free(&r->sockets);
    sc_map_free(&r->rooms);
    sc_pset_free(&r->owners);
}

void sc_owner_init(sc_owner *o, void *ctx)
{
    memset(o, 0, sizeof(*o));
    sc_pset_init(&o->sockets);
    o->ctx = ctx;
}

void sc_owner_free(sc_owner *o)
{
    if (!o)
        return;
    sc_pset_free(&o->sockets);
    free(o->ids);
    o->ids = NULL;
    o->capids = o->nids = 0;
}

/* The session's list: the oldest socket in the map, newer ones after it. */
static void session_link(sc_registry *r, sc_socket *s)
{
    sc_socket *head = sc_map_get(&r->sessions, sc_socket_sid(s), s->sid_len);
    if (!head) {
        sc_map_put(&r->sessions, s);
        return;
    }
    s->sess_prev = head;
    s->sess_next = head->sess_next;
    if (head->sess_next)
        head->sess_next->sess_prev = s;
    head->sess_next = s;
}

static void session_unlink(sc_registry *r, sc_socket *s)
{
    if (s->sess_prev) {
        s->sess_prev->sess_next = s->sess_next;
    } else {
        sc_map_del(&r->sessions, sc_socket_sid(s), s->sid_len);
        if (s->sess_next)
            sc_map_put(&r->sessions, s->sess_next);
    }
    if (s->sess_next)
        s->sess_next->sess_prev = s->sess_prev;
    s->sess_prev = s->sess_next = NULL;
}

int sc_registry_add_socket(sc_registry *r, sc_owner *o, const char *id, const char *sid,
                           const char *uid, const uint8_t *data, size_t data_len,
                           sc_socket **ret)
{
    sid = sid ? sid : "";
    uid = uid ? uid : "";
    size_t il = strlen(id), sl = strlen(sid), ul = strlen(uid);
    if (il == 0)
        return -EINVAL;
    if (il > SC_ID_MAX || sl > SC_ID_MAX || ul > SC_ID_MAX)
        return -ENAMETOOLONG;
    if (sc_map_get(&r->sockets, id, il))
        return -EEXIST;
    sc_socket *s = sc_xmalloc(sizeof(*s) + il + sl + ul + 3);
    memset(s, 0, sizeof(*s));
    s->owner = o;
    sc_pset_init(&s->rooms);
    s->id_len = (uint16_t)il;
    s->sid_len = (uint16_t)sl;
    s->uid_len = (uint16_t)ul;
    memcpy(s->key, id, il + 1);
    memcpy(s->key + il + 1, sid, sl + 1);
    memcpy(s->key + il + sl + 2, uid, ul + 1);
    sc_registry_set_data(r, s, data, data_len);
    sc_map_put(&r->sockets, s);
    if (sl)
        session_link(r, s);
    if (ul) {
        sc_user *u = sc_map_get(&r->users, uid, ul);
        if (!u) {
            u = sc_xcalloc(1, sizeof(*u) + ul + 1);
            u->len = (uint32_t)ul;
            memcpy(u->id, uid, ul + 1);
            sc_map_put(&r->users, u);
        }
        sc_pset_add(&u->sockets, s);
    }
    sc_pset_add(&o->sockets, s);
    /* An owner outside r->owners missed any mark reset done on a pass
     * wrap, so it starts clean whenever it (re)enters the set. */
    if (sc_pset_add(&r->owners, o))
        o->mark = 0;
    r->gen++;
    if (ret)
        *ret = s;
    return 0;
}

sc_socket *sc_registry_find_socket(const sc_registry *r, const char *id)
{
    return sc_map_get(&r->sockets, id, strlen(id));
}

void sc_registry_set_data(sc_registry *r, sc_socket *s, const uint8_t *data, size_t len)
{
    r->gen++;
    free(s->data);
    s->data = NULL;
    s->data_len = 0;
    if (data && len) {
        s->data = sc_xmalloc(len);
        memcpy(s->data, data, len);
        s->data_len = (uint32_t)len;
    }
}

const char *sc_private_room_id(const char *name, size_t len)
{
    if (len < SC_PRIVATE_ID_LEN + 2 || name[len - SC_PRIVATE_ID_LEN - 1] != ',')
        return NULL;
    const char *id = name + len - SC_PRIVATE_ID_LEN;
    for (size_t i = 0; i < SC_PRIVATE_ID_LEN; i++) {
        char ch = id[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return NULL;
    }
    return id;
}

/* Whether s creating the room `name` makes it s's private room. */
static bool private_of(const sc_socket *s, const char *name, size_t len)
{
    const char *id = sc_private_room_id(name, len);
    return id && s->id_len == SC_PRIVATE_ID_LEN && memcmp(id, s->key, SC_PRIVATE_ID_LEN) == 0;
}

static void room_drop_member(sc_registry *r, sc_room *room, sc_socket *s)
{
    sc_pset_del(&room->members, s);
    uint32_t *n = sc_pmap_get(&room->owners, s->owner);
    if (n && --(*n) == 0)
        sc_pmap_del(&room->owners, s->owner);
    r->memberships--;
    r->gen++;
    if (sc_pset_count(&room->members) == 0) {
        if (r->on_room)
            r->on_room(r->on_room_ud, room, false);
        sc_map_del(&r->rooms, room->name, room->name_len);
        free_room(room);
    } else if (room->own == s) { /* others joined its room: a room like any other now */
        room->own = NULL;
        if (r->on_room)
            r->on_room(r->on_room_ud, room, true);
    }
}

void sc_registry_leave_all(sc_registry *r, sc_socket *s)
{
    uint32_t n;
    void **rooms = sc_pset_copy(&s->rooms, &n);
    for (uint32_t i = 0; i < n; i++)
        room_drop_member(r, rooms[i], s);
    free(rooms);
    sc_pset_free(&s->rooms);
}

static void unindex(sc_registry *r, sc_socket *s)
{
    if (s->sid_len)
        session_unlink(r, s);
    if (s->uid_len) {
        sc_user *u = sc_map_get(&r->users, sc_socket_uid(s), s->uid_len);
        if (u && sc_pset_del(&u->sockets, s) && sc_pset_count(&u->sockets) == 0) {
            sc_map_del(&r->users, u->id, u->len);
            sc_pset_free(&u->sockets);
            free(u);
        }
    }
}

void sc_registry_remove_socket(sc_registry *r, sc_socket *s)
{
    sc_registry_leave_all(r, s);
    unindex(r, s);
    sc_map_del(&r->sockets, s->key, s->id_len);
    r->gen++;
    sc_pset_del(&s->owner->sockets, s);
    if (sc_pset_count(&s->owner->sockets) == 0)
        sc_pset_del(&r->owners, s->owner);
    free_socket(s);
}

size_t sc_registry_remove_owner(sc_registry *r, sc_owner *o)
{
    uint32_t n;
    void **socks = sc_pset_copy(&o->sockets, &n);
    for (uint32_t i = 0; i < n; i++)
        sc_registry_remove_socket(r, socks[i]);
    free(socks);
    return n;
}

sc_socket *sc_registry_find_session(const sc_registry *r, const char *session_id)
{
    return sc_map_get(&r->sessions, session_id, strlen(session_id));
}

sc_socket *sc_registry_session_other(const sc_socket *s)
{
    return s->sess_prev ? s->sess_prev : s->sess_next;
}

sc_user *sc_registry_find_user(const sc_registry *r, const char *user_id)
{
    return sc_map_get(&r->users, user_id, strlen(user_id));
}

sc_room *sc_registry_find_room(const sc_registry *r, const char *name)
{
    return sc_map_get(&r->rooms, name, strlen(name));
}

int sc_registry_join(sc_registry *r, sc_socket *s, const char *name)
{
    size_t len = strlen(name);
    if (len == 0)
        return -EINVAL;
    if (len > SC_ID_MAX)
        return -ENAMETOOLONG;
    sc_room *room = sc_map_get(&r->rooms, name, len);
    if (!room) {
        room = sc_xmalloc(sizeof(*room) + len + 1);
        sc_pset_init(&room->members);
        sc_pmap_init(&room->owners);
        room->name_len = (uint32_t)len;
        room->quiet = 0;
        memcpy(room->name, name, len + 1);
        room->own = private_of(s, name, len) ? s : NULL;
        sc_map_put(&r->rooms, room);
        if (r->on_room)
            r->on_room(r->on_room_ud, room, true);
    } else if (sc_pset_has(&s->rooms, room)) {
        return 0;
    }
    sc_pset_add(&s->rooms, room);
    sc_pset_add(&room->members, s);
    (*sc_pmap_upsert(&room->owners, s->owner))++;
    r->memberships++;
    r->gen++;
    return 1;
}

int sc_registry_leave(sc_registry *r, sc_socket *s, const char *name)
{
    sc_room *room = sc_map_get(&r->rooms, name, strlen(name));
    if (!room || !sc_pset_del(&s->rooms, room))
        return 0;
    room_drop_member(r, room, s);
    return 1;
}

uint32_t sc_registry_next_pass(sc_registry *r)
{
    if (++r->pass == 0) {
        /* Wrapped after 4 billion passes: clear stale marks once. */
        for (uint32_t i = 0; i < r->sockets.cap; i++) {
            sc_socket *s = r->sockets.items[i];
            if (s)
                s->mark = s->xmark = 0;
        }
        uint32_t n;
        void *const *owners = sc_pset_slots(&r->owners, &n);
        for (uint32_t i = 0; i < n; i++)
            if (owners[i])
                ((sc_owner *)owners[i])->mark = 0;
        r->pass = 1;
    }
    return r->pass;
}

void sc_registry_mark_excluded(sc_registry *r, const sc_selector *sel, uint32_t pass)
{
    for (size_t i = 0; i < sel->n_except_rooms; i++) {
        sc_room *room = sc_registry_find_room(r, sel->except_rooms[i]);
        if (!room)
            continue;
        uint32_t n;
        void *const *slots = sc_pset_slots(&room->members, &n);
        for (uint32_t j = 0; j < n; j++)
            if (slots[j])
                ((sc_socket *)slots[j])->xmark = pass;
    }
    for (size_t i = 0; i < sel->n_except_ids; i++) {
        sc_socket *s = sc_registry_find_socket(r, sel->except_ids[i]);
        if (s)
            s->xmark = pass;
    }
}

static inline void visit(sc_socket *s, const sc_owner *o, uint32_t pass, sc_select_cb cb,
                         void *ud)
{
    if ((o && s->owner != o) || s->xmark == pass || s->mark == pass)
        return;
    s->mark = pass;
    cb(s, ud);
}

static void visit_set(const sc_pset *set, const sc_owner *o, uint32_t pass, sc_select_cb cb,
                      void *ud)
{
    uint32_t n;
    void *const *slots = sc_pset_slots(set, &n);
    for (uint32_t j = 0; j < n; j++)
        if (slots[j])
            visit(slots[j], o, pass, cb, ud);
}

void sc_registry_select(sc_registry *r, const sc_owner *o, const sc_selector *sel,
                        sc_select_cb cb, void *ud)
{
    uint32_t pass = sc_registry_next_pass(r);
    sc_registry_mark_excluded(r, sel, pass);
    if (sel->all) {
        if (o) {
            visit_set(&o->sockets, o, pass, cb, ud);
        } else {
            for (uint32_t i = 0; i < r->sockets.cap; i++)
                if (r->sockets.items[i])
                    visit(r->sockets.items[i], o, pass, cb, ud);
        }
        return;
    }
    for (size_t i = 0; i < sel->n_rooms; i++) {
        sc_room *room = sc_registry_find_room(r, sel->rooms[i]);
        if (room)
            visit_set(&room->members, o, pass, cb, ud);
    }
    for (size_t i = 0; i < sel->n_socket_ids; i++) {
        sc_socket *s = sc_registry_find_socket(r, sel->socket_ids[i]);
        if (s)
            visit(s, o, pass, cb, ud);
    }
    for (size_t i = 0; i < sel->n_user_ids; i++) {
        sc_user *u = sc_registry_find_user(r, sel->user_ids[i]);
        if (u)
            visit_set(&u->sockets, o, pass, cb, ud);
    }
}

size_t sc_registry_memory(const sc_registry *r)
{
    size_t total = sc_map_memory(&r->sockets) + sc_map_memory(&r->rooms) +
                   sc_map_memory(&r->sessions) + sc_map_memory(&r->users);
    for (uint32_t i = 0; i < r->sockets.cap; i++) {
        sc_socket *s = r->sockets.items[i];
        if (s)
            total += sizeof(*s) + s->id_len + s->sid_len + s->uid_len + 3 + s->data_len +
                     sc_pset_memory(&s->rooms);
    }
    for (uint32_t i = 0; i < r->rooms.cap; i++) {
        sc_room *room = r->rooms.items[i];
        if (room)
            total += sizeof(*room) + room->name_len + 1 + sc_pset_memory(&room->members) +
                     sc_pmap_memory(&room->owners);
    }
    return total;
}
