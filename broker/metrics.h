/* metrics: labelled counters and latency histograms beside the flat
 * counters of stats.h (their text for /metrics is exposition.h's). Below
 * every module that counts: it includes nothing of the daemon.
 *
 * Hot paths only increment: every labelled family is a fixed array indexed
 * by small enums (message case, emit kind, scope, request kind, outcome), so
 * a count costs one add, no allocation and no lookup. Histograms have fixed
 * buckets; an observation is a short linear scan. Everything is rendered,
 * and label values escaped, only when /metrics is scraped. */
#ifndef SC_METRICS_H
#define SC_METRICS_H

#include <stdint.h>

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

/* Upper bounds of the histogram buckets, microseconds: 100 us to 10 s. */
extern const uint64_t sc_hist_bucket_us[SC_HIST_BUCKETS];

/* Add one observation of `us` microseconds. */
void sc_histogram_observe(sc_histogram *h, uint64_t us);

/* A cluster request of kind `kind` (sc_req_kind) ended with `outcome`
 * after `us` microseconds (0 when it never started: refused). */
void sc_metrics_request(int kind, sc_outcome outcome, uint64_t us);


#endif
