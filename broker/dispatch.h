/* dispatch: the local protocol's request handlers, one per message type, in
 * a table indexed by the Frame's message case.
 *
 * Only the server calls it: through each connection's sc_conn_host (frame)
 * and when a connection's sockets are unregistered. It changes the registry
 * and the session data, and starts cluster work through cluster.h alone; it
 * may not call up into the server (it includes state.h, not server.h), http
 * or exposition. */
#ifndef SC_DISPATCH_H
#define SC_DISPATCH_H

#include "conn.h"

/* Handle one decoded frame from c. The frame lives in the server's arena and
 * is gone after the call. May close c. */
void sc_dispatch(sc_conn *c, const sc_frame *f);

struct sc_server;
struct sc_relay;
struct sc_request;

/* Unregister a socket everywhere: cluster directory, registry, and start
 * its session data's grace period. */
void sc_dispatch_remove_socket(struct sc_server *srv, sc_socket *s);
#endif
