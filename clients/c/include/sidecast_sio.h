/* libsidecast's socket.io emitter: reach the socket.io clients of a cluster
 * whose servers use the sidecast adapter (npm package `sidecast`), from any
 * process with a connection to its node's sidecastd: a worker, a cron job,
 * a service in C. The shape of @socket.io/redis-emitter:
 *
 *     sc_sio_to to = {.nsp = "/", .rooms = (const char *[]){"lobby"}, .n_rooms = 1};
 *     const char *args[] = {"\"hello\"", "{\"n\":1}"};   // each argument is JSON text
 *     sc_sio_emit(c, &to, "news", args, 2);             // io.to("lobby").emit("news", "hello", {n: 1})
 *
 * Everything follows the socket.io mapping of proto/README.md: room R of
 * namespace N is sidecast's room "N,R", payloads are what the adapter reads.
 * Arguments are checked as JSON (jansson) and written back compactly, so a
 * malformed one is refused here, not by the clients. Acknowledgements are
 * not available to an emitter (as with @socket.io/redis-emitter).
 *
 * Each function returns 0 or a negative errno; -EINVAL (a bad namespace, a
 * reserved event name such as "connect" or "disconnect", an argument that
 * is not JSON) sends nothing; sc_client_last_error() says why. Added in
 * libsidecast 0.3 (symbol version LIBSIDECAST_0.3). */
#ifndef SIDECAST_SIO_H
#define SIDECAST_SIO_H

#include "sidecast.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which socket.io clients: in any of `rooms` or with one of `socket_ids`
 * (socket.io's socket.id), minus those in `except_rooms`; neither rooms
 * nor ids: every client of the namespace. */
typedef struct sc_sio_to {
    const char *nsp; /* "/chat"; NULL: "/" */
    const char *const *rooms;
    size_t n_rooms;
    const char *const *socket_ids;
    size_t n_socket_ids;
    const char *const *except_rooms;
    size_t n_except_rooms;
} sc_sio_to;

/* io.of(nsp).to(rooms).except(except_rooms).emit(event, ...args), args
 * JSON texts. is_volatile: may be dropped for a slow client, as
 * io.volatile.emit. Fire-and-forget, like sc_client_emit. */
SC_API int sc_sio_emit(sc_client *c, const sc_sio_to *to, bool is_volatile, const char *event,
                       const char *const *json_args, size_t n);
/* io.of(nsp).to(...).socketsJoin(rooms) / socketsLeave(rooms) on every
 * node; blocking until every live node forwarded it (sc_client_apply). */
SC_API int sc_sio_sockets_join(sc_client *c, const sc_sio_to *to, const char *const *rooms,
                               size_t n, int timeout_ms);
SC_API int sc_sio_sockets_leave(sc_client *c, const sc_sio_to *to, const char *const *rooms,
                                size_t n, int timeout_ms);
/* io.of(nsp).to(...).disconnectSockets(close); blocking likewise. */
SC_API int sc_sio_disconnect_sockets(sc_client *c, const sc_sio_to *to, bool close,
                                     int timeout_ms);
/* io.of(nsp).serverSideEmit(event, ...args): every socket.io server of the
 * cluster gets it in io.of(nsp).on(event); no acknowledgements. */
SC_API int sc_sio_server_side_emit(sc_client *c, const char *nsp, const char *event,
                                   const char *const *json_args, size_t n);

#ifdef __cplusplus
}
#endif

#endif
