/* request: requests an app started that other parties answer (other nodes,
 * other app connections), and relays that carry answers back to them.
 *
 * A request waits for `nodes_expected` nodes (this one included) to finish,
 * or for request_timeout_ms; then it answers the app once, with a final
 * frame that says how many nodes answered. The number of requests in flight
 * is bounded by max_pending_requests.
 *
 * A relay exists on every node that forwarded a ServerMessage or a Deliver
 * with ack_id to its app connections: it collects their Acks and passes them
 * to the request, locally or through the cluster, until every app is done.
 *
 * It owns the tables of requests and relays in struct sc_server and their
 * timers. It sits below the cluster and includes nothing of it: it reaches
 * it only through sc_server.request_hooks (state.h), which the cluster sets,
 * and the apps only through conn.c. */
#ifndef SC_REQUEST_H
#define SC_REQUEST_H

#include "table.h"
#include "wire.h"

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

struct sc_server;
struct sc_conn;

typedef enum {
    SC_REQ_FETCH = 1,
    SC_REQ_APPLY,
    SC_REQ_SERVER_EMIT,
    SC_REQ_BROADCAST_ACK,
    SC_REQ_CALL, /* one Redis call (lookup, session data); answered by its callback */
} sc_req_kind;

typedef struct sc_request {
    char key[20];
    uint32_t keylen;
    uint64_t id;
    sc_req_kind kind;
    struct sc_server *srv;
    struct sc_conn *conn; /* NULL once the app closed */
    uint64_t frame_id;
    uint32_t nodes_expected;
    uint32_t nodes_answered;
    uint64_t started_us;
    ev_timer timer;
    char **expect_ids; /* nodes live at the start (NULL: count answers) */
    bool *answered;
    bool failed; /* answered with an error (for the outcome metric) */
} sc_request;

typedef struct sc_relay {
    char key[20];
    uint32_t keylen;
    uint64_t ack_id;
    uint64_t origin_req;
    sc_pset apps; /* app connections that still owe done */
    bool per_answer; /* server messages: see sc_relay_count_answers */
    struct sc_server *srv;
    ev_timer timer;
    char origin[]; /* node id of the request, whole; "" when it is local */
} sc_relay;

void sc_requests_init(struct sc_server *srv);
void sc_requests_free(struct sc_server *srv);

/* NULL (after counting and logging) when max_pending_requests is reached. */
sc_request *sc_request_new(struct sc_server *srv, sc_req_kind kind, struct sc_conn *conn,
                           uint64_t frame_id, uint32_t nodes_expected);
sc_request *sc_request_find(struct sc_server *srv, uint64_t id);
/* Pass answers on to the requesting app (no-op if it closed). */
void sc_request_sockets(sc_request *r, const Sidecast__V1__SocketList *l);
/* The same for an encoded SocketList (checked with sc_wire_check_socket_list),
 * passed on as it is: its entries are not decoded or re-encoded. */
void sc_request_sockets_encoded(sc_request *r, const uint8_t *list, size_t len);
void sc_request_progress(sc_request *r, uint32_t expect, ProtobufCBinaryData *payloads,
                         size_t n);
/* Wait for exactly these nodes (this one included): answers from others
 * are passed on but do not count towards completion. */
void sc_request_expect(sc_request *r, const char *const *ids, size_t n);
/* Node `node_id` finished its part (NULL: the local part). May free r. */
void sc_request_node_answered(sc_request *r, const char *node_id);
/* Node `node_id` left the cluster (it said goodbye): every request that
 * waits for it stops waiting, as if it had answered with nothing. May
 * complete and free requests. */
void sc_requests_node_gone(struct sc_server *srv, const char *node_id);
/* Node `node_id` left without a goodbye (its liveness expired: killed,
 * frozen, cut off): every request that waits for it ends now as a timed
 * out one would, naming it, instead of at request_timeout_ms. May complete
 * and free requests. */
void sc_requests_node_lost(struct sc_server *srv, const char *node_id);
/* Answered by its owner: free it. */
void sc_request_done(sc_request *r);
/* One more node (or the local part) is finished; completes the request when
 * all are. May free r. */
void sc_request_node_done(sc_request *r);

/* A relay for answers owed to request `origin_req` on node `origin` ("" =
 * this node). Add apps, then call sc_relay_arm; a relay with no apps
 * finishes at once. */
sc_relay *sc_relay_new(struct sc_server *srv, const char *origin, uint64_t origin_req);
/* Server messages: no answers are announced up front; each app's answers
 * announce themselves (expect += payloads), so an app connection that
 * answers none (an emitter, a client without a server-message handler) is
 * not waited for, while one that stays silent past the timeout or closes
 * owing its answer is announced then as one answer missing. */
void sc_relay_count_answers(sc_relay *r);
void sc_relay_add_app(sc_relay *r, struct sc_conn *conn);
void sc_relay_arm(sc_relay *r);
/* An app's Ack. Unknown ack ids are counted and ignored. */
void sc_relay_ack(struct sc_server *srv, struct sc_conn *from, const Sidecast__V1__Ack *a);

/* The daemon is stopping: answer every pending request with
 * ERROR_SHUTTING_DOWN (its answers could no longer arrive: the node leaves
 * the cluster and the app connection closes once flushed), and free it. */
void sc_requests_shutdown(struct sc_server *srv);

/* Forget a closing connection in requests and relays. */
void sc_requests_conn_closed(struct sc_server *srv, struct sc_conn *conn);

#endif
