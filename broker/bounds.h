/* bounds: the per-request bounds an app connection is held to (payload
 * size, name and id lengths, socket data size, sockets per connection,
 * rooms per socket). Checked before a request touches the registry; a
 * refusal is an Error{LIMIT} naming the limit, a counter and a
 * rate-limited log line, and the connection stays open.
 *
 * dispatch.c calls it before a handler; it owns no state. It reads the
 * limits and the registry, never changes the registry, and answers only
 * with sc_conn_error: whether the frame is dispatched is the caller's. */
#ifndef SC_BOUNDS_H
#define SC_BOUNDS_H

#include "conn.h"
#include "wire.h"

/* 0 if f is within every limit; otherwise the refusal has been sent and
 * counted, and the caller must not dispatch f. */
int sc_bounds_check(sc_conn *c, const sc_frame *f);

#endif
