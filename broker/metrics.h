/* metrics: labelled counters and latency histograms beside the flat
 * counters of stats.h, and the Prometheus text exposition (format 0.0.4) of
 * all of them plus the gauges read at scrape time.
 *
 * Hot paths only increment: every labelled family is a fixed array indexed
 * by small enums (message case, emit kind, scope, request kind, outcome), so
 * a count costs one add, no allocation and no lookup. Histograms have fixed
 * buckets; an observation is a short linear scan. Everything is rendered,
 * and label values escaped, only when /metrics is scraped. */
#ifndef SC_METRICS_H
#define SC_METRICS_H

#include "buf.h"

#include <stdint.h>

struct sc_server;

typedef enum {
    SC_EMIT_SOCKET,
    SC_EMIT_ROOM,
    SC_EMIT_ALL,
    SC_EMIT_USER,
    SC_EMIT_KINDS
} sc_emit_kind;
/* local: sent by an app on this node; remote: received from another node. */
typedef enum { SC_SCOPE_LOCAL, SC_SCOPE_REMOTE, SC_SCOPES } sc_scope;
typedef enum { SC_OUTCOME_OK, SC_OUTCOME_TIMEOUT, SC_OUTCOME_ERROR, SC_OUTCOMES } sc_outcome;

/* Frame message cases are protobuf field numbers below this (sidecast.proto);
 * larger ones are counted under case 0 ("unknown"). */
#define SC_METRICS_MSG_CASES 80
/* sc_req_kind values (request.h) are below this. */
#define SC_METRICS_REQ_KINDS 8
#define SC_HIST_BUCKETS 16

typedef struct sc_histogram {
    uint64_t counts[SC_HIST_BUCKETS + 1]; /* per bucket, not cumulative; last: +Inf */
    uint64_t sum_us;
} sc_histogram;

typedef struct sc_metrics {
    uint64_t frames_in[SC_METRICS_MSG_CASES];
    uint64_t frames_out[SC_METRICS_MSG_CASES];
    uint64_t emits[SC_EMIT_KINDS][SC_SCOPES];
    uint64_t deliveries[SC_SCOPES];
    uint64_t requests[SC_METRICS_REQ_KINDS][SC_OUTCOMES];
    sc_histogram request_seconds[SC_METRICS_REQ_KINDS];
    sc_histogram redis_seconds; /* PING probes and script calls on the publish connection */
} sc_metrics;

extern sc_metrics sc_metric;

static inline unsigned sc_metrics_msg_index(unsigned msg_case)
{
    return msg_case < SC_METRICS_MSG_CASES ? msg_case : 0;
}

#define SC_METRIC_FRAME_IN(mc) (sc_metric.frames_in[sc_metrics_msg_index((unsigned)(mc))]++)
#define SC_METRIC_FRAME_OUT(mc) (sc_metric.frames_out[sc_metrics_msg_index((unsigned)(mc))]++)
#define SC_METRIC_EMIT(kind, scope) (sc_metric.emits[kind][scope]++)
#define SC_METRIC_DELIVERY(scope) (sc_metric.deliveries[scope]++)

/* Count an emit once per recipient kind it names. */
#define sc_metrics_emit(to, scope)                                                                 \
    do {                                                                                           \
        if ((to)->n_socket_ids)                                                                    \
            SC_METRIC_EMIT(SC_EMIT_SOCKET, scope);                                                 \
        if ((to)->n_rooms)                                                                         \
            SC_METRIC_EMIT(SC_EMIT_ROOM, scope);                                                   \
        if ((to)->all)                                                                             \
            SC_METRIC_EMIT(SC_EMIT_ALL, scope);                                                    \
        if ((to)->n_user_ids)                                                                      \
            SC_METRIC_EMIT(SC_EMIT_USER, scope);                                                   \
    } while (0)

/* Add one observation of `us` microseconds. */
void sc_histogram_observe(sc_histogram *h, uint64_t us);

/* A cluster request of kind `kind` (sc_req_kind) ended with `outcome`
 * after `us` microseconds (0 when it never started: refused). */
void sc_metrics_request(int kind, sc_outcome outcome, uint64_t us);

/* Append the whole exposition to out: every SC_COUNTERS counter exactly
 * once (on its own, or as a label of a family: messages lost, refused, HTTP
 * refused, emits, lookups), the other labelled families, the server's gauges
 * and configured limits (when srv is not NULL) and the process metrics.
 * Allocates only inside out. */
void sc_metrics_render(const struct sc_server *srv, sc_buf *out);

/* Append `s` to out escaped as a Prometheus label value (\\, \", \n). */
void sc_metrics_escape_label(sc_buf *out, const char *s);

#endif
