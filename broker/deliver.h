/* deliver: sending to this node's app connections (see deliver.c). Used by
 * dispatch.c for an app's own frames and by the cluster parts for what
 * other nodes send; it calls neither. */
#ifndef SC_DELIVER_H
#define SC_DELIVER_H

#include "conn.h"

struct sc_server;
struct sc_relay;
struct sc_request;

/* Deliver an emit to this node's app connections (the sender's only with
 * include_self). With a relay, each Deliver asks for acks and the relay
 * waits for every app reached. Returns the app connections reached. */
uint32_t sc_deliver(struct sc_server *srv, const sc_owner *sender, bool include_self,
                             const sc_selector *to, ProtobufCBinaryData payload, bool is_volatile,
                             struct sc_relay *relay);
/* Same, for an emit from another node whose encoded ClusterEmit (`raw`) is
 * also a valid Deliver body: sent as is where nothing differs per app. */
uint32_t sc_deliver_encoded(struct sc_server *srv, const sc_selector *to,
                                     ProtobufCBinaryData payload, bool is_volatile,
                                     struct sc_relay *relay, const uint8_t *raw, size_t raw_len);
/* Forward an Apply to the app connections owning a socket it selects. */
void sc_deliver_apply(struct sc_server *srv, const Sidecast__V1__Apply *a);
/* Send a ServerMessage to every app connection but `from`; returns how many. */
uint32_t sc_deliver_server_message(struct sc_server *srv, const sc_conn *from,
                                    ProtobufCBinaryData payload, const char *origin,
                                    struct sc_relay *relay);
/* Fill a SocketInfo for s; room names are allocated in the arena. */
void sc_deliver_socket_info(struct sc_server *srv, sc_arena *a, const sc_socket *s,
                             bool with_data, bool with_rooms, Sidecast__V1__SocketInfo *out);
/* How sc_deliver_put_socket writes a socket. */
typedef struct sc_socket_enc {
    const char *node_id; /* the node the sockets are on */
    size_t node_len;
    bool with_data, with_rooms;
} sc_socket_enc;
/* Append s to b as one `sockets` entry of an encoded SocketList: tag,
 * length and the SocketInfo that sc_deliver_socket_info would fill, byte
 * for byte as protobuf-c packs it, without building the message. */
void sc_deliver_put_socket(sc_buf *b, const sc_socket_enc *e, const sc_socket *s);
/* This node's sockets selected by q as SocketList frames to c (reply id
 * `id`): the last with more=last_more; through request `req` (which adds
 * more=true) when not NULL. */
void sc_deliver_sockets(sc_conn *c, uint64_t id, const Sidecast__V1__FetchSockets *q,
                        bool last_more, struct sc_request *req);
/* This node's part of a fetch: SocketList frames (more=true) for request r. */
void sc_deliver_local_sockets(struct sc_server *srv, struct sc_request *r,
                               const Sidecast__V1__FetchSockets *q);

#endif
