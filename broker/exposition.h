/* exposition: the Prometheus text of everything sidecastd counts and
 * measures (see exposition.c). Called by http.c for /metrics. */
#ifndef SC_EXPOSITION_H
#define SC_EXPOSITION_H

#include "buf.h"

#include <stdint.h>

struct sc_server;

/* Append the whole exposition to out: every SC_COUNTERS counter exactly
 * once (on its own, or as a label of a family: messages lost, refused, HTTP
 * refused, emits, lookups), the other labelled families, the server's gauges
 * and configured limits (when srv is not NULL; http_connections: the
 * endpoint's open connections, its caller's to count) and the process
 * metrics.
 * Allocates only inside out. */
void sc_metrics_render(const struct sc_server *srv, uint64_t http_connections, sc_buf *out);

/* Append `s` to out escaped as a Prometheus label value (\\, \", \n). */
void sc_metrics_escape_label(sc_buf *out, const char *s);

#endif
