/* registry: the sockets a node knows, the rooms they are in, and who owns
 * them. Used by sidecastd (all app connections of the node) and by
 * libsidecast (one connection's own sockets, to resolve deliveries and to
 * re-register after a reconnect).
 *
 * Every operation is O(1) in the number of sockets and rooms, except where
 * noted: removing a socket is O(its rooms), removing an owner O(its sockets
 * and their rooms), selecting O(the sockets it visits).
 *
 * The registry owns sockets and rooms; an owner is embedded by its user (the
 * connection) and must be emptied with sc_registry_remove_owner before it is
 * freed. Rooms exist while they have members.
 *
 * Like all of core/ it includes nothing of the daemon: it sends nothing and
 * knows no connection, only owners. It reaches its users only through the
 * callbacks they give it: the on_room hook (set by sidecastd's server, for
 * the cluster's room subscriptions) and a selection's sc_select_cb. */
#ifndef SC_REGISTRY_H
#define SC_REGISTRY_H

#include "table.h"
#include "wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sc_owner {
    sc_pset sockets; /* sc_socket* this owner registered */
    void *ctx;       /* the owner's user, e.g. the connection */
    uint32_t mark;   /* router scratch: reached in this routing pass */
    uint32_t nids;   /* router scratch: socket ids collected for it */
    uint32_t capids;
    char **ids;
} sc_owner;

typedef struct sc_socket {
    sc_owner *owner;
    sc_pset rooms; /* sc_room* */
    uint8_t *data;
    uint32_t data_len;
    uint32_t mark;  /* selected in pass `mark` */
    uint32_t xmark; /* excluded in pass `xmark` */
    /* the other sockets of its session: one engine.io connection carries a
     * socket per namespace, all with the connection's session id */
    struct sc_socket *sess_prev, *sess_next;
    uint16_t id_len, sid_len, uid_len;
    char key[]; /* id \0 session id \0 user id \0 */
} sc_socket;

typedef struct sc_user {
    sc_pset sockets; /* sc_socket* with this user id */
    uint32_t len;
    char id[];
} sc_user;

typedef struct sc_room {
    sc_pset members; /* sc_socket* */
    sc_pmap owners;  /* sc_owner* -> members it owns */
    /* A private room: its socket's own (sc_private_room_id names that
     * socket, and it created the room); NULL once that socket left it. */
    struct sc_socket *own;
    uint32_t name_len;
    /* The cluster's (cluster_emit.c: what it found about the room's
     * channel), 0 when the room is created. */
    uint32_t quiet;
    char name[];
} sc_room;

/* Told when a room gets its first member (created) or loses its last; and
 * with created true again when a private room stops being one (its socket
 * left it, other members stay). */
typedef void (*sc_room_hook)(void *ud, const struct sc_room *room, bool created);

/* Length of a socket.io socket id (engine.io's base64id: 15 random bytes). */
#define SC_PRIVATE_ID_LEN 20

/* If `name` has the shape of a socket.io socket's own room, "<namespace>,<id>"
 * with an id of SC_PRIVATE_ID_LEN characters of base64url, its id (a suffix of
 * name); otherwise NULL. Whether that socket exists is the caller's to find. */
const char *sc_private_room_id(const char *name, size_t len);

typedef struct sc_registry {
    sc_room_hook on_room;
    void *on_room_ud;
    sc_map sockets;  /* id -> sc_socket */
    sc_map sessions; /* session id -> the oldest sc_socket with it (a list) */
    sc_map users;    /* user id -> sc_user */
    sc_map rooms;    /* name -> sc_room */
    sc_pset owners; /* owners with at least one socket */
    uint64_t memberships;
    /* Changes of anything a fetch answer shows (a socket added or removed,
     * a membership, a socket's data): equal gens, equal answers. Its start
     * is the user's to pick (sidecastd: random, so a restart never repeats
     * a gen another node cached). */
    uint64_t gen;
    uint32_t pass;
} sc_registry;

#define SC_ID_MAX 65535u

static inline const char *sc_socket_id(const sc_socket *s)
{
    return s->key;
}
static inline const char *sc_socket_sid(const sc_socket *s)
{
    return s->key + s->id_len + 1;
}
static inline const char *sc_socket_uid(const sc_socket *s)
{
    return s->key + s->id_len + s->sid_len + 2;
}

void sc_registry_init(sc_registry *r);
/* Frees every socket and room. Owners must not be used for it afterwards. */
void sc_registry_free(sc_registry *r);

void sc_owner_init(sc_owner *o, void *ctx);
/* Frees the owner's scratch; its sockets must be gone already. NULL-safe. */
void sc_owner_free(sc_owner *o);

/* Register a socket. -EEXIST if the id is taken (by any owner), -EINVAL for
 * an empty id, -ENAMETOOLONG for a string over SC_ID_MAX. The data is copied. */
int sc_registry_add_socket(sc_registry *r, sc_owner *o, const char *id, const char *sid,
                           const char *uid, const uint8_t *data, size_t data_len,
                           sc_socket **ret);
sc_socket *sc_registry_find_socket(const sc_registry *r, const char *id);
sc_socket *sc_registry_find_session(const sc_registry *r, const char *session_id);
/* Another registered socket with s's session id, or NULL: who holds the
 * session once s is gone. */
sc_socket *sc_registry_session_other(const sc_socket *s);
sc_user *sc_registry_find_user(const sc_registry *r, const char *user_id);
/* Leaves all rooms, unregisters and frees the socket. */
void sc_registry_remove_socket(sc_registry *r, sc_socket *s);
/* Removes every socket of the owner; returns how many. */
size_t sc_registry_remove_owner(sc_registry *r, sc_owner *o);
void sc_registry_set_data(sc_registry *r, sc_socket *s, const uint8_t *data, size_t len);

/* 1 joined, 0 already a member, -EINVAL empty name, -ENAMETOOLONG. */
int sc_registry_join(sc_registry *r, sc_socket *s, const char *room);
/* 1 left, 0 was not a member. */
int sc_registry_leave(sc_registry *r, sc_socket *s, const char *room);
void sc_registry_leave_all(sc_registry *r, sc_socket *s);
sc_room *sc_registry_find_room(const sc_registry *r, const char *name);

static inline uint32_t sc_room_size(const sc_room *room)
{
    return room ? sc_pset_count(&room->members) : 0;
}

/* True when sel names no rooms, socket ids or users and is not `all`:
 * an emit refuses it, a filter (fetch, apply) treats it as "every socket". */
static inline bool sc_selector_is_empty(const sc_selector *sel)
{
    return !sel->all && sel->n_rooms == 0 && sel->n_socket_ids == 0 && sel->n_user_ids == 0;
}

/* Visit each socket that `sel` selects exactly once, restricted to owner `o`
 * unless o is NULL. The callback must not change the registry. */
typedef void (*sc_select_cb)(sc_socket *s, void *ud);
void sc_registry_select(sc_registry *r, const sc_owner *o, const sc_selector *sel,
                        sc_select_cb cb, void *ud);

/* Start a new marking pass; returns its number (never 0). */
uint32_t sc_registry_next_pass(sc_registry *r);
/* Mark, in the current pass, every socket the except lists of sel exclude. */
void sc_registry_mark_excluded(sc_registry *r, const sc_selector *sel, uint32_t pass);

/* Approximate heap bytes held by the registry's tables and objects. */
size_t sc_registry_memory(const sc_registry *r);

#endif
