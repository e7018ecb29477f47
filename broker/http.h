/* http: the operations endpoint on http_listen (TCP), served from the
 * daemon's event loop: GET /metrics (Prometheus text), /healthz (the loop
 * runs), /readyz (this node can serve: see health.h).
 *
 * One request per connection (Connection: close). Everything an untrusted
 * peer controls is bounded: request bytes (http_max_request_bytes, else
 * 431), open connections (http_max_connections), and time
 * (http_request_timeout_ms from accept to a whole request, else closed).
 * At http_max_connections a new connection is admitted by closing the
 * oldest one that has not sent a whole request yet (http_evicted), so slow
 * or idle peers cannot make /healthz unanswerable; only when every open one
 * is already being answered is the new one refused with 503. Every refusal
 * is counted (stats.h http_*) and logged rate-limited.
 *
 * It owns its listener and connections (sc_http). It reads the server only
 * to answer: the loop, the settings, readiness (sc_server_ready) and the
 * exposition. It changes nothing of the server, the cluster or the app
 * connections, and nothing below it calls it (main.c starts and frees it). */
#ifndef SC_HTTP_H
#define SC_HTTP_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct sc_server;
typedef struct sc_http sc_http;

/* Listen on srv->cfg->http_listen. *ret is NULL when the setting is empty
 * (endpoint disabled). Returns 0, or a negative errno after logging why. */
int sc_http_new(struct sc_server *srv, sc_http **ret);
/* Close the listener and every connection. NULL-safe. */
void sc_http_free(sc_http *h);
/* Open HTTP connections (0 for NULL). */
uint64_t sc_http_connections(const sc_http *h);

/* The parser and router on their own, for the live connections and for
 * fuzzing: `req` holds the bytes received so far for one request (need not
 * be NUL-terminated). When they are an incomplete request shorter than
 * max_bytes, returns 0 and writes nothing. Otherwise appends a whole HTTP
 * response to out and returns its status code (200, 400, 404, 405, 431,
 * 503...). srv may be NULL: /metrics then holds only the counters and
 * /readyz answers 503. Never reads past req + len. */
int sc_http_respond(const struct sc_server *srv, const uint8_t *req, size_t len, size_t max_bytes,
                    sc_buf *out);

#endif
