/* cluster: this node's membership of a sidecast cluster over Redis.
 *
 * Channels (P = redis_prefix):
 *   P:node:<id>    targeted emits, request answers and canaries for one node
 *   P:room:<name>  room emits; a node subscribes while it has local members
 *                  (and for room_linger_ms after, to avoid churn)
 *   P:all          emits to everyone and cluster requests
 * Keys:
 *   P:alive:<id>   node name, with a TTL refreshed by the heartbeat
 *   P:nodes        set of node ids seen; the reap step drops dead ones
 *   P:sockets      hash socket id -> node id (the directory)
 *   P:nodesock:<id> set of a node's socket ids, to clean up after it
 *   P:ver:<id>     "<cluster version>:<feature bits>", with the same TTL
 *
 * Versions: every envelope carries SC_CLUSTER_VERSION; one of a newer
 * major version is dropped and counted, never misread. Within a version,
 * additions are ClusterFeature bits (cluster.proto): a node advertises its
 * own with its liveness, and a feature is used only while every live node
 * has it (sc_cluster_features). Nodes from before versioning have version
 * 0 and no bits.
 *
 * Guarantees and bounds: one PUBLISH per target room, one per node for
 * targeted emits (a bounded cache of the directory resolves the ids of
 * sockets it knows, a server-side script the others), an outbox of
 * at most outbox_max_bytes while Redis is away (volatile first to go), a
 * canary through our own subscription, and a Gap notice to every app after
 * any interruption of the subscription.
 *
 * This header is all the rest of the daemon sees of the cluster: its state
 * (struct sc_cluster) and what each part may touch are in cluster_int.h,
 * which only cluster*.c include. The server (lifecycle, the room hook),
 * dispatch (app frames) and exposition (gauges) call it; it calls only
 * modules below it (deliver, request and conn; the registry, which it only
 * reads; redis and dircache), never dispatch, the server or http. */
#ifndef SC_CLUSTER_H
#define SC_CLUSTER_H

#include "registry.h"
#include "wire.h"

#include <stdbool.h>
#include <stdint.h>

struct sc_server;
struct sc_conn;

#define SC_CLUSTER_VERSION 1u
/* Field numbers of cluster.proto's Envelope and Batch that cluster*.c and
 * lua/targeted.lua write and read by hand (unit_wire checks them against
 * protobuf-c's descriptors, and the tag bytes the script writes). */
enum {
    SC_ENV_ORIGIN = 1,
    SC_ENV_SEQ = 2,
    SC_ENV_SENT_MS = 3,
    SC_ENV_ROUTED = 5,
    SC_ENV_VERSION = 6,
    SC_BATCH_ENVELOPES = 1,
};

/* ClusterFeature bits (cluster.proto) this sidecastd has: UNSUPPORTED_ANSWER |
 * ANNOUNCE | PRIVATE_ROOMS | QUIET_ROOMS (checked against the enum in cluster_core.c). */
#define SC_CLUSTER_FEATURES UINT64_C(15)
typedef struct sc_cluster sc_cluster;

/* NULL when the configuration has no redis_url (standalone). */
sc_cluster *sc_cluster_new(struct sc_server *srv);
void sc_cluster_start(sc_cluster *c);
/* Leave the cluster: remove liveness and directory entries (best effort,
 * sent before the connections close). Then free. NULL-safe. */
void sc_cluster_free(sc_cluster *c);

/* Registry hooks. */
void sc_cluster_socket_up(sc_cluster *c, const sc_socket *s);
void sc_cluster_socket_down(sc_cluster *c, const sc_socket *s);
void sc_cluster_room(sc_cluster *c, const sc_room *room, bool created);

/* Publish an emit for the other nodes; `remote_ids` are the emit's socket
 * ids not registered on this node. ack_id != 0 asks nodes for client acks.
 * `raw` (may be NULL) is the app's encoded Emit: its fields 1-3 are copied
 * into the envelope as they are instead of being encoded again. */
void sc_cluster_emit(sc_cluster *c, const Sidecast__V1__Emit *e, char **remote_ids,
                     size_t n_remote, uint64_t ack_id, const uint8_t *raw, size_t len);

/* Cluster requests started by an app connection; the answer goes to the
 * app under frame_id. Returns 0, or a negative errno after sending an Error. */
int sc_cluster_fetch_sockets(sc_cluster *c, struct sc_conn *from, uint64_t frame_id,
                             const Sidecast__V1__FetchSockets *q);
int sc_cluster_apply(sc_cluster *c, struct sc_conn *from, uint64_t frame_id,
                     const Sidecast__V1__Apply *a);
int sc_cluster_server_emit(sc_cluster *c, struct sc_conn *from, uint64_t frame_id,
                           const Sidecast__V1__ServerEmit *e);
/* A request that waits for every node live now (by id), this one included. */
struct sc_request *sc_cluster_request(sc_cluster *c, int kind, struct sc_conn *from,
                                      uint64_t frame_id);

/* Answers for request `req_id` of node `origin` (relays, other nodes). */
void sc_cluster_progress(sc_cluster *c, const char *origin, uint64_t req_id, uint32_t expect,
                         ProtobufCBinaryData *payloads, size_t n, bool last);
/* Begin leaving (SIGTERM): remove liveness and directory entries. */
void sc_cluster_leave(sc_cluster *c);
/* True once the leave commands were answered (or Redis is down). */
bool sc_cluster_left(const sc_cluster *c);

/* Write what hiredis queued in this loop iteration now, from the server's
 * prepare watcher: saves arming EV_WRITE (two epoll_ctl calls) and a loop
 * pass per batch. */
void sc_cluster_flush(sc_cluster *c);

/* Gauges: redis_pub_up, redis_sub_up, cluster_nodes, outbox_bytes, ... */
typedef void (*sc_gauge_fn)(const char *name, uint64_t value, void *ud);
void sc_cluster_gauges(const sc_cluster *c, sc_gauge_fn fn, void *ud);

/* One script call each, answered to the app under frame_id: lookup by
 * kind "session", "socket" or "user"; session data get and set. */
int sc_cluster_lookup(sc_cluster *c, struct sc_conn *from, uint64_t frame_id, const char *kind,
                      const char *key);
int sc_cluster_session_get(sc_cluster *c, struct sc_conn *from, uint64_t frame_id,
                           const char *sid);
int sc_cluster_session_set(sc_cluster *c, struct sc_conn *from, uint64_t frame_id,
                           const Sidecast__V1__SessionSet *ss);
const char *sc_cluster_node_address(const sc_cluster *c, size_t i);

/* Live nodes, this one included. */
size_t sc_cluster_nodes(const sc_cluster *c, const char ***ret_ids, const char ***ret_names);
/* Cluster protocol version and feature bits of live node i (as in
 * sc_cluster_nodes); 0 and 0 for a node from before versioning. */
void sc_cluster_node_version(const sc_cluster *c, size_t i, uint32_t *ret_version,
                             uint64_t *ret_features);
/* The name of live node `id`, or NULL when it is not live. */
const char *sc_cluster_node_name(const sc_cluster *c, const char *id);
/* The ClusterFeature bits every live node has (this one included). */
uint64_t sc_cluster_features(const sc_cluster *c);
bool sc_cluster_ready(const sc_cluster *c, const char **why);

/* A snapshot of the cluster transport for /readyz, /metrics and the systemd
 * status line. Times are sc_now_us() values; 0 means "not applicable". */
typedef struct sc_cluster_health {
    bool pub_up;              /* publish connection connected */
    bool sub_up;              /* subscribe connection connected */
    bool subscribed;          /* every channel confirmed on the current connection */
    bool in_gap;              /* subscription interrupted, gap not yet over */
    bool directory_ok;        /* this node's directory written and confirmed by redis */
    uint64_t pub_down_since;  /* when the publish connection went down */
    uint64_t sub_down_since;  /* when the subscribe connection went down */
    uint64_t canary_late_us;  /* oldest unanswered canary is this old (0: none) */
    uint64_t canary_limit_us; /* late beyond this: pub/sub considered broken */
    uint64_t beat_late_us;    /* since a heartbeat last renewed this node's liveness */
    uint64_t beat_limit_us;   /* node_ttl_ms: late beyond this, the others reap it */
    uint64_t pub_reconnects, sub_reconnects;
    uint64_t nodes;           /* live nodes seen by the last heartbeat, this one included */
    uint64_t outbox_bytes, outbox_messages;
    uint64_t channels;        /* channels subscribed or wanted */
    uint64_t dircache_entries; /* socket id -> node entries in the directory cache */
    uint64_t quiet_rooms;      /* private rooms' channels found without subscribers */
    char redis_at[160];        /* the server the connections go to ("?" unknown yet) */
    char sub_error[200];       /* Redis refused a SUBSCRIBE with this, or "" */
    bool sentinel;             /* redis+sentinel:// */
    bool sentinel_up;          /* the sentinel asked answers */
    char sentinel_at[300];     /* which sentinel is asked now */
    uint64_t sentinel_switches; /* new primaries followed */
    bool rcluster;             /* redis+cluster:// */
    uint32_t shards, shards_up; /* primaries known; those whose connections are all well */
    char shard_down[300];      /* a room shard at fault ("host:port (what)"), or "" */
    uint64_t slot_maps;        /* slot map changes followed */
    bool sharded;              /* SSUBSCRIBE/SPUBLISH (false: fell back to classic pub/sub) */
} sc_cluster_health;
/* One Redis Cluster shard (primary) of c, for /metrics: false past the last. */
typedef struct sc_shard_info {
    const char *addr;
    bool pub_up, sub_up, subscribed, home;
    bool sub_started; /* a room of this shard has had members here */
    uint64_t publishes, channels;
    uint64_t rtt_us; /* the publish connection's last probe round trip (0: none yet) */
} sc_shard_info;
bool sc_cluster_shard(const sc_cluster *c, int i, sc_shard_info *ret);
void sc_cluster_health_get(const sc_cluster *c, sc_cluster_health *ret);

/* SIGHUP: read the TLS certificates and keys again (rediss://); a set that
 * does not load keeps the one before. No-op without TLS or cluster. */
void sc_cluster_reload_tls(sc_cluster *c);

#endif
