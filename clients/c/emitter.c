/* emitter: the socket.io emitter API (sidecast_sio.h) over sc_client: the
 * socket.io mapping's names and payloads (sio.c), sent with the client's
 * emit, apply and server-side emit. */
#include "sidecast_sio.h"
#include "client_int.h"
#include "sio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The registry names of one call: rooms (or ids, or the namespace's own
 * room), except rooms, and rooms to join or leave, all "nsp,R". */
typedef struct sio_call {
    const char *nsp;
    sc_sio_names to, except, rooms;
    sc_target target;
    char why[300];
} sio_call;

static void call_free(sio_call *k)
{
    sc_sio_names_free(&k->to);
    sc_sio_names_free(&k->except);
    sc_sio_names_free(&k->rooms);
}

/* Fill k from `to` (and `rooms`, for join/leave). 0, or a negative errno
 * with c's last error set. */
static int call_init(sc_client *c, sio_call *k, const sc_sio_to *to, const char *const *rooms,
                     size_t n)
{
    memset(k, 0, sizeof(*k));
    k->nsp = to && to->nsp ? to->nsp : "/";
    if (sc_sio_check_nsp(k->nsp, k->why, sizeof(k->why)) < 0)
        return sc_internal_fail(c, -EINVAL, k->why);
    const char *const *none = NULL;
    /* a socket id is a room too, as in socket.io */
    if (sc_sio_names_add(&k->to, k->nsp, to ? to->rooms : none, to ? to->n_rooms : 0) < 0 ||
        sc_sio_names_add(&k->to, k->nsp, to ? to->socket_ids : none, to ? to->n_socket_ids : 0) <
            0 ||
        (k->to.n == 0 && sc_sio_names_add_nsp(&k->to, k->nsp) < 0) ||
        sc_sio_names_add(&k->except, k->nsp, to ? to->except_rooms : none,
                         to ? to->n_except_rooms : 0) < 0 ||
        (n && sc_sio_names_add(&k->rooms, k->nsp, rooms, n) < 0)) {
        call_free(k);
        return sc_internal_fail(c, -ENOMEM, "out of memory");
    }
    k->target = (sc_target){.rooms = (const char *const *)k->to.v,
                            .n_rooms = k->to.n,
                            .except_rooms = (const char *const *)k->except.v,
                            .n_except_rooms = k->except.n};
    return 0;
}

int sc_sio_emit(sc_client *c, const sc_sio_to *to, bool is_volatile, const char *event,
                const char *const *json_args, size_t n)
{
    sio_call k;
    int rc = call_init(c, &k, to, NULL, 0);
    if (rc < 0)
        return rc;
    size_t len;
    uint8_t *payload = sc_sio_broadcast_payload(k.nsp, event, (char *const *)json_args, n,
                                                is_volatile, &len, k.why, sizeof(k.why));
    if (!payload) {
        call_free(&k);
        return sc_internal_fail(c, -EINVAL, k.why);
    }
    sc_emit_flags fl = {.is_volatile = is_volatile};
    rc = sc_client_emit(c, &k.target, &fl, payload, len);
    free(payload);
    call_free(&k);
    return rc;
}

static int apply(sc_client *c, const sc_sio_to *to, const char *const *rooms, size_t n,
                 bool join, bool disconnect, bool close, int timeout_ms)
{
    sio_call k;
    int rc = call_init(c, &k, to, rooms, n);
    if (rc < 0)
        return rc;
    sc_apply a = {.filter = &k.target, .disconnect = disconnect, .close = close};
    if (join) {
        a.join = (const char *const *)k.rooms.v;
        a.n_join = k.rooms.n;
    } else {
        a.leave = (const char *const *)k.rooms.v;
        a.n_leave = k.rooms.n;
    }
    rc = sc_client_apply(c, &a, timeout_ms);
    call_free(&k);
    return rc;
}

int sc_sio_sockets_join(sc_client *c, const sc_sio_to *to, const char *const *rooms, size_t n,
                        int timeout_ms)
{
    if (!n)
        return sc_internal_fail(c, -EINVAL, "socketsJoin needs at least one room");
    return apply(c, to, rooms, n, true, false, false, timeout_ms);
}

int sc_sio_sockets_leave(sc_client *c, const sc_sio_to *to, const char *const *rooms, size_t n,
                         int timeout_ms)
{
    if (!n)
        return sc_internal_fail(c, -EINVAL, "socketsLeave needs at least one room");
    return apply(c, to, rooms, n, false, false, false, timeout_ms);
}

int sc_sio_disconnect_sockets(sc_client *c, const sc_sio_to *to, bool close, int timeout_ms)
{
    return apply(c, to, NULL, 0, false, true, close, timeout_ms);
}

int sc_sio_server_side_emit(sc_client *c, const char *nsp, const char *event,
                            const char *const *json_args, size_t n)
{
    char why[300];
    size_t len;
    uint8_t *payload = sc_sio_server_emit_payload(nsp ? nsp : "/", event, (char *const *)json_args,
                                                  n, &len, why, sizeof(why));
    if (!payload)
        return sc_internal_fail(c, -EINVAL, why);
    /* no answers wanted: the call returns once the request is sent */
    int rc = sc_client_server_emit(c, payload, len, false, NULL, NULL, 0);
    free(payload);
    return rc;
}
