/* session: per-session key/value data for standalone mode (in cluster mode
 * it lives in Redis, see cluster_directory.c). Bounded by session_data_max_keys and
 * session_data_max_bytes per session; kept while a socket with the session
 * id is registered, and for session_grace_ms after the last one goes.
 *
 * It owns that map (sc_server.session_data) and its expiry timers. It reads
 * the registry (does a socket still hold the session?), never changes it,
 * and knows nothing of the cluster: in cluster mode dispatch.c asks the
 * cluster instead, and the map stays empty. */
#ifndef SC_SESSION_H
#define SC_SESSION_H

#include "wire.h"

#include <stdbool.h>
#include <stddef.h>

struct sc_server;

void sc_sessions_init(struct sc_server *srv);
void sc_sessions_free(struct sc_server *srv);

/* Fill out (entries allocated in the arena); found = data exists. */
void sc_session_get(struct sc_server *srv, const char *sid, sc_arena *a,
                    Sidecast__V1__SessionData *out);
/* Apply deletes then sets. -ENOSPC (with a reason in err) if the result
 * would exceed the limits; nothing is changed then. */
int sc_session_set(struct sc_server *srv, const Sidecast__V1__SessionSet *ss, char *err,
                   size_t errlen);
/* A socket with this session id came (stop the expiry) or went (start it
 * if no other socket holds the session). */
void sc_session_socket_up(struct sc_server *srv, const char *sid);
void sc_session_socket_down(struct sc_server *srv, const char *sid);

#endif
