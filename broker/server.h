/* server: the listening socket, the list of app connections, the event loop
 * and the daemon's lifecycle (start, SIGTERM/SIGINT drain, exit).
 *
 * It owns struct sc_server (state.h) from sc_server_init to
 * sc_server_cleanup, and what it starts and frees with it: the registry,
 * the app connections, the cluster, requests and session data (the HTTP
 * endpoint is main.c's). What it may not touch: see server.c. */
#ifndef SC_SERVER_H
#define SC_SERVER_H

#include "health.h"
#include "state.h"


/* This node's state as health.h judges it; s may be NULL (not running). */
void sc_server_health(const sc_server *s, sc_health *ret);
/* sc_health_ready of that snapshot: /readyz, the ready gauge. */
bool sc_server_ready(const sc_server *s, char *why, size_t len);
/* systemd's STATUS line: "serving 3 app connections, 10 sockets, 2 rooms;
 * redis connected, 3 nodes" (or the /readyz reason). */
void sc_server_status_line(const sc_server *s, char *out, size_t len);

/* Bind the socket (taking over a stale one) and set up watchers.
 * Returns 0 or a negative errno; logs the reason. */
int sc_server_init(sc_server *s, struct ev_loop *loop, const sc_config *cfg);
/* Run until stopped; returns the process exit code. */
int sc_server_run(sc_server *s);
/* Begin the graceful stop (what SIGTERM does). */
void sc_server_shutdown(sc_server *s);
/* Free everything; also after a failed init. */
void sc_server_cleanup(sc_server *s);

/* The bound on app connections in force: max_connections, or less when the
 * fd limit cannot serve that many (clamped at startup, logged). */
uint64_t sc_server_max_connections(const sc_server *s);

/* App connections an fd limit can serve with cfg, when fds_open are open
 * before the listeners: the limit less the listeners, the reserve fd,
 * http_max_connections, redis and a spare for files and internal use.
 * 0 when it cannot serve one. Pure; for startup and --check-config. */
uint64_t sc_server_fd_capacity(const sc_config *cfg, uint64_t fd_limit, uint64_t fds_open);

#endif
