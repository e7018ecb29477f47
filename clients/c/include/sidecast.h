/* libsidecast: C client for the sidecastd local protocol.
 *
 * One sc_client is one connection to the node's sidecastd. It can be used
 * blocking (every call flushes and waits for its answer) or from any event
 * loop (watch sc_client_fd() for reading, and for writing while
 * sc_client_wants_write(); call sc_client_read() / sc_client_flush()).
 *
 * The client remembers every socket, room and datum it registered. It uses
 * that to turn each Deliver into per-socket callbacks, and to re-register
 * everything after sc_client_reconnect() (sidecar restarted or upgraded), so
 * no client connection of the app has to drop.
 *
 * Fire-and-forget calls (socket up/down, join, leave, set data, emit) queue
 * a frame and return at once; the frames go out on the next flush or call.
 * A refusal of one of them arrives later through on_error.
 *
 * Threading: an sc_client is not thread-safe; use one per thread or lock.
 * Callbacks run inside sc_client_read() or a blocking call; they may queue
 * fire-and-forget calls but must not make blocking calls or close the client.
 *
 * Errors: functions return 0 or a negative errno; sc_client_last_error()
 * has the human-readable reason (e.g. the sidecar's Error message). */
#ifndef SIDECAST_H
#define SIDECAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SC_CLIENT_EXPORTS)
#define SC_API __attribute__((visibility("default")))
#else
#define SC_API
#endif

#define SIDECAST_DEFAULT_SOCKET "/run/sidecast/sidecast.sock"

typedef struct sc_client sc_client;

/* Who a message is for (see proto/sidecast.proto, message Selector). */
typedef struct sc_target {
    const char *const *rooms;
    size_t n_rooms;
    const char *const *socket_ids;
    size_t n_socket_ids;
    bool all;
    const char *const *except_rooms;
    size_t n_except_rooms;
    const char *const *except_ids;
    size_t n_except_ids;
    const char *const *user_ids; /* every socket of these users, on every node */
    size_t n_user_ids;
} sc_target;

/* A delivery as it arrived, before it is resolved to sockets. */
typedef struct sc_delivery {
    const uint8_t *payload;
    size_t len;
    bool is_volatile;
    sc_target to; /* valid during the callback only */
} sc_delivery;

typedef struct sc_client_options {
    const char *path;        /* socket path; NULL: SIDECAST_DEFAULT_SOCKET */
    const char *name;        /* shown in the sidecar's logs */
    int timeout_ms;          /* connect + handshake, and default call timeout; 0: 5000 */
    size_t max_output;       /* queued bytes before calls block (or fail with
                                -ENOBUFS when nonblocking); 0: 8 MiB */
    bool nonblocking;        /* event-loop use: never block on a full queue */

    /* Called once per local socket a delivery selects. */
    void (*on_deliver)(void *ud, const char *socket_id, const uint8_t *payload, size_t len);
    /* Called once per Deliver frame, before on_deliver; return false to skip
     * per-socket resolution (e.g. when the app resolves rooms itself). */
    bool (*on_delivery)(void *ud, const sc_delivery *d);
    /* A fire-and-forget call was refused, or the sidecar sent a fatal error. */
    void (*on_error)(void *ud, int code, const char *message, const char *ref);
    /* A Deliver asked for client acks (broadcast with acks): the app answers
     * with sc_client_ack(ack_id, expect = clients it delivered to), then one
     * sc_client_ack per client answer, the last with done. */
    void (*on_deliver_ack)(void *ud, uint64_t ack_id, const sc_delivery *d);
    /* Another app server's server-side emit. If ack_id != 0, answer once
     * with sc_client_ack(c, ack_id, 0, &answer, 1, true). */
    void (*on_server_message)(void *ud, const uint8_t *payload, size_t len, uint64_t ack_id,
                              const char *origin_node);
    /* A cluster request (socketsJoin/Leave, disconnectSockets) selected this
     * local socket. libsidecast has already updated its registration (joins,
     * leaves) and, for disconnect, unregisters the socket right after this
     * call: the app closes the client connection here. */
    void (*on_apply)(void *ud, const char *socket_id, const char *const *join, size_t n_join,
                     const char *const *leave, size_t n_leave, bool disconnect, bool close);
    /* The sidecar's Redis subscription was interrupted between these times:
     * cluster messages may have been lost, resync if that matters. */
    void (*on_gap)(void *ud, uint64_t from_unix_ms, uint64_t to_unix_ms, const char *reason);
    void *ud;
} sc_client_options;

/* Connect and handshake (blocking, bounded by timeout_ms). *ret is set even
 * on failure, so that sc_client_last_error() can say why; close it. */
SC_API int sc_client_open(const sc_client_options *opts, sc_client **ret);
/* Send what is queued (bounded by timeout_ms, unless nonblocking), close the
 * connection and free the client. NULL-safe. */
SC_API void sc_client_close(sc_client *c);
/* Connect again (same options) and re-register every socket, room and
 * datum. Blocking. Returns 0 or a negative errno. */
SC_API int sc_client_reconnect(sc_client *c);

/* Why the last call failed; the node id and name sidecastd reported in its
 * Welcome. Strings owned by c, valid until the next call on c. */
SC_API const char *sc_client_last_error(const sc_client *c);
SC_API const char *sc_client_node_id(const sc_client *c);
SC_API const char *sc_client_node_name(const sc_client *c);

/* Event-loop integration. */
SC_API int sc_client_fd(const sc_client *c);
SC_API bool sc_client_wants_write(const sc_client *c);
/* Write queued frames without blocking: 0 all written, 1 some remain,
 * negative errno on a broken connection. */
SC_API int sc_client_flush(sc_client *c);
/* Read what is available and dispatch it. 0, or -EPIPE when the sidecar
 * closed the connection (see sc_client_last_error). */
SC_API int sc_client_read(sc_client *c);
/* Blocking helper: wait up to timeout_ms for input (flushing meanwhile) and
 * dispatch it. Returns 0 (also on timeout) or a negative errno. */
SC_API int sc_client_poll(sc_client *c, int timeout_ms);

/* Registration (fire-and-forget, mirrored locally). */
SC_API int sc_client_socket_up(sc_client *c, const char *socket_id, const char *session_id,
                        const char *user_id, const uint8_t *data, size_t data_len,
                        const char *const *rooms, size_t n_rooms);
SC_API int sc_client_socket_down(sc_client *c, const char *socket_id);
SC_API int sc_client_join(sc_client *c, const char *socket_id, const char *const *rooms, size_t n);
/* n == 0: leave every room. */
SC_API int sc_client_leave(sc_client *c, const char *socket_id, const char *const *rooms, size_t n);
SC_API int sc_client_set_data(sc_client *c, const char *socket_id, const uint8_t *data, size_t len);

typedef struct sc_emit_flags {
    bool is_volatile;  /* may be dropped for slow readers */
    bool include_self; /* also deliver to this connection's own sockets */
    bool local;        /* never leave this node */
} sc_emit_flags;

SC_API int sc_client_emit(sc_client *c, const sc_target *to, const sc_emit_flags *flags,
                   const uint8_t *payload, size_t len);

/* Blocking calls. timeout_ms <= 0 uses the client's default. */
SC_API int sc_client_ping(sc_client *c, int timeout_ms, uint64_t *ret_rtt_us);
/* Wait until the sidecar has processed every frame queued before it. */
SC_API int sc_client_sync(sc_client *c, int timeout_ms);

typedef void (*sc_stat_cb)(void *ud, const char *name, uint64_t value);
SC_API int sc_client_stats(sc_client *c, sc_stat_cb cb, void *ud, int timeout_ms);
/* Convenience: one counter's value, or -ENOENT. */
SC_API int sc_client_stat(sc_client *c, const char *name, uint64_t *ret_value);

typedef struct sc_socket_view {
    const char *socket_id;
    const char *session_id;
    const char *user_id;
    const uint8_t *data;
    size_t data_len;
    const char *const *rooms;
    size_t n_rooms;
    const char *node_id;
} sc_socket_view;
typedef void (*sc_socket_cb)(void *ud, const sc_socket_view *s);
/* Sockets selected by filter (rooms / except; NULL or empty: all). */
SC_API int sc_client_fetch_sockets(sc_client *c, const sc_target *filter, bool with_data,
                            bool with_rooms, sc_socket_cb cb, void *ud, int timeout_ms);

typedef void (*sc_room_cb)(void *ud, const char *room, uint64_t size);
/* n == 0: every room with its size; else the size of each named room. */
SC_API int sc_client_rooms(sc_client *c, const char *const *names, size_t n, sc_room_cb cb, void *ud,
                    int timeout_ms);

/* Cluster-wide fetch (local = false) or this node only. */
SC_API int sc_client_fetch_sockets_ex(sc_client *c, const sc_target *filter, bool with_data,
                                      bool with_rooms, bool local, sc_socket_cb cb, void *ud,
                                      int timeout_ms);

typedef void (*sc_node_cb)(void *ud, const char *node_id, const char *node_name, bool self);
/* Live nodes of the cluster (just this one when standalone). */
SC_API int sc_client_nodes(sc_client *c, sc_node_cb cb, void *ud, int timeout_ms);

/* ---- versions and features (rolling upgrades) ----------------------------
 * The Hello says which protocol version and feature bits (proto enum Feature)
 * this library has, the Welcome which ones sidecastd has. A feature is used
 * only when both have it. A sidecastd from before negotiation announces no
 * bits (0): whatever a feature would report is then unknown, and the library
 * never relies on it. A bit's value is the enum value itself. */
#define SC_FEATURE_NODE_VERSIONS UINT64_C(0x1) /* node listings carry versions */
/* Every feature bit this library has (sent in its Hello). */
#define SC_CLIENT_FEATURES SC_FEATURE_NODE_VERSIONS

/* Cluster feature bits a node reports (proto/cluster.proto, ClusterFeature). */
#define SC_CLUSTER_FEATURE_UNSUPPORTED_ANSWER UINT64_C(0x1)
#define SC_CLUSTER_FEATURE_ANNOUNCE UINT64_C(0x2)
#define SC_CLUSTER_FEATURE_PRIVATE_ROOMS UINT64_C(0x4) /* socket id rooms via the directory */
#define SC_CLUSTER_FEATURE_QUIET_ROOMS UINT64_C(0x8) /* their channels left out when unsubscribed  \
                                                      */

/* What the Welcome of the current connection said (updated by every
 * reconnect): sidecastd's feature bits (0: it predates negotiation), its
 * protocol version, and the oldest Hello version it accepts (0: not said,
 * it predates negotiation). */
SC_API uint64_t sc_client_server_features(const sc_client *c);
SC_API uint32_t sc_client_server_protocol_version(const sc_client *c);
SC_API uint32_t sc_client_server_min_protocol_version(const sc_client *c);
/* Whether every bit of `features` is usable on this connection: both
 * sidecastd and this library have it. */
SC_API bool sc_client_has_features(const sc_client *c, uint64_t features);
/* The name of one feature bit as the .proto spells it
 * ("FEATURE_NODE_VERSIONS"; "CLUSTER_FEATURE_ANNOUNCE"), or NULL for a bit
 * this library does not know (or not exactly one bit). Static storage. */
SC_API const char *sc_client_feature_name(uint64_t bit);
SC_API const char *sc_client_cluster_feature_name(uint64_t bit);

/* A live node, with its version when sidecastd reports it. Strings valid
 * during the callback only. Filled by the library: fields may be added at
 * the end, so never build one to hand to it. */
typedef struct sc_node_info {
    const char *node_id;
    const char *node_name;
    bool self; /* the node this client is connected to */
    /* false: sidecastd predates version reporting (no
     * SC_FEATURE_NODE_VERSIONS); version and features are unknown (0). */
    bool versioned;
    uint32_t version;  /* the node's cluster protocol version (0: predates versioning) */
    uint64_t features; /* its cluster feature bits (SC_CLUSTER_FEATURE_*) */
} sc_node_info;
typedef void (*sc_node_info_cb)(void *ud, const sc_node_info *n);
/* Like sc_client_nodes, with each node's cluster version and features. */
SC_API int sc_client_nodes_info(sc_client *c, sc_node_info_cb cb, void *ud, int timeout_ms);

typedef struct sc_apply {
    const sc_target *filter; /* NULL: every socket */
    const char *const *join;
    size_t n_join;
    const char *const *leave;
    size_t n_leave;
    bool disconnect;
    bool close;
    bool local;
} sc_apply;
/* socketsJoin / socketsLeave / disconnectSockets on every node. Blocking:
 * returns once every live node forwarded it to its apps. */
SC_API int sc_client_apply(sc_client *c, const sc_apply *a, int timeout_ms);

/* Answers to a server-side emit or a broadcast with acks, as they arrive. */
typedef struct sc_progress {
    uint32_t expect; /* adds to the number of answers to expect */
    const uint8_t *const *payloads;
    const size_t *lens;
    size_t n;
    bool done;
    bool timed_out;
    uint32_t nodes_expected, nodes_answered;
} sc_progress;
typedef void (*sc_progress_cb)(void *ud, const sc_progress *p);
/* serverSideEmit. With cb: waits for every other app server's answer (or
 * the sidecar's request timeout) and reports them through cb. */
SC_API int sc_client_server_emit(sc_client *c, const uint8_t *payload, size_t len, bool local,
                                 sc_progress_cb cb, void *ud, int timeout_ms);
/* Emit whose recipients ack (broadcast with acks); blocking like above. */
SC_API int sc_client_emit_with_ack(sc_client *c, const sc_target *to, const sc_emit_flags *flags,
                                   const uint8_t *payload, size_t len, sc_progress_cb cb,
                                   void *ud, int timeout_ms);
/* This client's own sockets that a target selects (e.g. a delivery's `to`),
 * each once. Returns how many. */
SC_API size_t sc_client_resolve(sc_client *c, const sc_target *to,
                                void (*cb)(void *ud, const char *socket_id), void *ud);

/* Answer an ack request (fire-and-forget). */
SC_API int sc_client_ack(sc_client *c, uint64_t ack_id, uint32_t expect,
                         const uint8_t *const *payloads, const size_t *lens, size_t n, bool done);

/* Where a socket is (lookups). Strings valid during the callback only. */
typedef struct sc_location {
    const char *socket_id;
    const char *session_id;
    const char *user_id;
    const char *node_id;
    const char *node_name;
    const char *address; /* the owning node's advertise_address */
    bool local;          /* on this node */
} sc_location;
typedef void (*sc_location_cb)(void *ud, const sc_location *l);
typedef enum { SC_BY_SESSION, SC_BY_SOCKET, SC_BY_USER } sc_lookup_kind;
/* Cluster-wide lookup (one Redis round trip; never a node whose liveness
 * expired). Returns the number of sockets found, or a negative errno. */
SC_API int sc_client_lookup(sc_client *c, sc_lookup_kind kind, const char *key, bool local,
                            sc_location_cb cb, void *ud, int timeout_ms);

typedef struct sc_presence {
    bool online;
    uint32_t sockets;
    uint32_t nodes;
} sc_presence;
SC_API int sc_client_presence(sc_client *c, const char *user_id, sc_presence *ret,
                              int timeout_ms);

typedef void (*sc_session_entry_cb)(void *ud, const char *key, const uint8_t *value,
                                    size_t len);
/* Read a session's data map (any node). *ret_connected: a socket with the
 * session id is registered somewhere. Returns the number of keys. */
SC_API int sc_client_session_get(sc_client *c, const char *session_id, sc_session_entry_cb cb,
                                 void *ud, bool *ret_connected, int timeout_ms);
typedef struct sc_session_entry {
    const char *key;
    const uint8_t *value;
    size_t len;
} sc_session_entry;
/* Delete then set keys. -ENOSPC if over the configured limits. */
SC_API int sc_client_session_set(sc_client *c, const char *session_id,
                                 const sc_session_entry *set, size_t n_set,
                                 const char *const *del, size_t n_del, int timeout_ms);

/* Error codes carried by the sidecar's Error frames (proto ErrorCode). */
enum {
    SC_ERR_MALFORMED = 1,
    SC_ERR_TOO_LARGE = 2,
    SC_ERR_UNKNOWN_MESSAGE = 3,
    SC_ERR_HANDSHAKE = 4,
    SC_ERR_VERSION = 5,
    SC_ERR_DUPLICATE = 6,
    SC_ERR_NOT_FOUND = 7,
    SC_ERR_INVALID = 8,
    SC_ERR_LIMIT = 9,
    SC_ERR_SHUTTING_DOWN = 10,
    SC_ERR_TIMEOUT = 11,
    SC_ERR_UNAVAILABLE = 12,
    SC_ERR_FORBIDDEN = 13, /* peer not in allow_uids/allow_gids */
};

#ifdef __cplusplus
}
#endif

#endif
