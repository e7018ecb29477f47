/* metrics: storage of the labelled families and histograms (counting
 * only: their /metrics text is exposition.c's). Includes nothing above it,
 * so every layer can count here. */
#include "metrics.h"

sc_metrics sc_metric;

const uint64_t sc_hist_bucket_us[SC_HIST_BUCKETS] = {
    100,   250,    500,    1000,   2500,    5000,    10000,   25000,
    50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

void sc_histogram_observe(sc_histogram *h, uint64_t us)
{
    unsigned i = 0;
    while (i < SC_HIST_BUCKETS && us > sc_hist_bucket_us[i])
        i++;
    h->counts[i]++;
    h->sum_us += us;
}

void sc_metrics_request(int kind, sc_outcome outcome, uint64_t us)
{
    unsigned k = (unsigned)kind < SC_METRICS_REQ_KINDS ? (unsigned)kind : 0;
    sc_metric.requests[k][outcome]++;
    if (outcome != SC_OUTCOME_ERROR || us)
        sc_histogram_observe(&sc_metric.request_seconds[k], us);
}
