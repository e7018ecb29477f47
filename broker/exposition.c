/* exposition: the /metrics text (Prometheus text format 0.0.4) of every
 * counter (stats.h), labelled family and histogram (metrics.h), the
 * server's and the cluster's gauges read at scrape time, and the process
 * metrics. The one module that reads across the daemon's state for
 * metrics: it sits above server and cluster (http.c calls it), and nothing
 * below includes it. It only reads: the server comes in const, and it
 * changes no counter and nothing of the server, the cluster or the apps.
 *
 * One HELP and one TYPE line per family, then its samples; label values
 * escaped; histograms as cumulative _bucket{le=...} series ending in +Inf,
 * then _sum and _count. Every counter of SC_COUNTERS is exported exactly
 * once, read from the same table as the `stats` reply: as a label of a
 * family (a loss, refusal or HTTP refusal reason; an emit kind; a lookup
 * source) or on its own as sidecast_<name>_total. Process metrics use the
 * standard process_* names (what client libraries and dashboards expect). */
#include "exposition.h"
#include "cluster.h"
#include "metrics.h"
#include "request.h"
#include "server.h"
#include "stats.h"
#include "util.h"
#include "wire.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef SC_VERSION
#define SC_VERSION "0.0.0"
#endif

#define P "sidecast_"

/* ---- text helpers ------------------------------------------------------------ */

__attribute__((format(printf, 2, 3))) static void put(sc_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    char *p = (char *)sc_buf_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sc_buf_commit(b, (size_t)n);
}

static void put_str(sc_buf *b, const char *s)
{
    sc_buf_append(b, s, strlen(s));
}

void sc_metrics_escape_label(sc_buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            put_str(out, "\\\\");
        else if (*s == '"')
            put_str(out, "\\\"");
        else if (*s == '\n')
            put_str(out, "\\n");
        else
            sc_buf_append(out, s, 1);
    }
}

/* HELP text escapes only backslash and newline. */
static void family(sc_buf *b, const char *name, const char *type, const char *help)
{
    put(b, "# HELP %s ", name);
    for (const char *s = help; *s; s++) {
        if (*s == '\\')
            put_str(b, "\\\\");
        else if (*s == '\n')
            put_str(b, "\\n");
        else
            sc_buf_append(b, s, 1);
    }
    put(b, "\n# TYPE %s %s\n", name, type);
}

static void sample(sc_buf *b, const char *name, uint64_t v)
{
    put(b, "%s %" PRIu64 "\n", name, v);
}

static void gauge(sc_buf *b, const char *name, const char *help, uint64_t v)
{
    family(b, name, "gauge", help);
    sample(b, name, v);
}

static void sample1(sc_buf *b, const char *name, const char *label, const char *value, uint64_t v)
{
    put(b, "%s{%s=\"", name, label);
    sc_metrics_escape_label(b, value);
    put(b, "\"} %" PRIu64 "\n", v);
}

static void sample2(sc_buf *b, const char *name, const char *l1, const char *v1, const char *l2,
                    const char *v2, uint64_t v)
{
    put(b, "%s{%s=\"", name, l1);
    sc_metrics_escape_label(b, v1);
    put(b, "\",%s=\"", l2);
    sc_metrics_escape_label(b, v2);
    put(b, "\"} %" PRIu64 "\n", v);
}

static void put_le(sc_buf *b, uint64_t us)
{
    put(b, "%g", (double)us / 1e6);
}

/* One histogram's samples; `label`/`value` may be NULL (no label). */
static void histogram(sc_buf *b, const char *name, const char *label, const char *value,
                      const sc_histogram *h)
{
    uint64_t cum = 0;
    for (unsigned i = 0; i <= SC_HIST_BUCKETS; i++) {
        cum += h->counts[i];
        put(b, "%s_bucket{", name);
        if (label) {
            put(b, "%s=\"", label);
            sc_metrics_escape_label(b, value);
            put_str(b, "\",");
        }
        put_str(b, "le=\"");
        if (i < SC_HIST_BUCKETS)
            put_le(b, sc_hist_bucket_us[i]);
        else
            put_str(b, "+Inf");
        put(b, "\"} %" PRIu64 "\n", cum);
    }
    const char *lbl = label ? label : "";
    if (label) {
        put(b, "%s_sum{%s=\"", name, lbl);
        sc_metrics_escape_label(b, value);
        put(b, "\"} %" PRIu64 ".%06" PRIu64 "\n", h->sum_us / 1000000u, h->sum_us % 1000000u);
        put(b, "%s_count{%s=\"", name, lbl);
        sc_metrics_escape_label(b, value);
        put(b, "\"} %" PRIu64 "\n", cum);
    } else {
        put(b, "%s_sum %" PRIu64 ".%06" PRIu64 "\n", name, h->sum_us / 1000000u,
            h->sum_us % 1000000u);
        put(b, "%s_count %" PRIu64 "\n", name, cum);
    }
}

/* ---- the counters of stats.h ----------------------------------------------------- */

/* Every counter of SC_COUNTERS is exported once: as a label of one of the
 * families below when it is one reason or kind among several, otherwise on
 * its own as sidecast_<name>_total. The families read the same counters at
 * scrape time, so /metrics and the `stats` reply always agree. */
#define STAT_AT(off) (*(const uint64_t *)((const char *)&sc_stat + (off)))

typedef struct reason_map {
    size_t offset; /* of the counter in sc_stats */
    const char *reason;
} reason_map;

#define R(field, reason)                                                                           \
    {                                                                                              \
        offsetof(sc_stats, field), reason                                                          \
    }
/* Messages accepted for delivery that did not reach a receiver (an app
 * connection here, or another node): what a message-loss alert watches.
 * volatile_* are volatile messages, dropped by design under pressure. */
static const reason_map lost[] = {
    R(drops_volatile_slow_reader, "volatile_slow_reader"),
    R(drops_volatile_client_memory, "volatile_client_memory"),
    R(outbox_dropped_volatile, "volatile_outbox_full"),
    R(disconnects_slow_reader, "slow_reader_disconnect"),
    R(disconnects_client_memory, "client_memory_disconnect"),
    R(outbox_dropped_full, "outbox_full"),
    R(redis_commands_lost, "redis_command_lost"),
    R(dircache_unreceived, "targeted_unreceived"),
    R(targeted_unreceived, "targeted_unreceived_directory"),
    R(targeted_no_route, "targeted_no_route"),
    R(dircache_stale_received, "targeted_stale_route"),
    R(cluster_malformed, "malformed_envelope"),
    R(cluster_newer_version_dropped, "newer_cluster_version"),
    R(cluster_unknown_origin_dropped, "too_many_origins"),
};

/* App connections, frames and requests refused (an error to the app, or the
 * connection closed): app bugs, access control and limits. Limits are named
 * by their configuration key. */
static const reason_map refused[] = {
    R(connections_refused_limit, "max_connections"),
    R(connections_refused_fd, "out_of_fds"),
    R(connections_refused_peer, "peer_not_allowed"),
    R(frame_timeouts, "frame_timeout"),
    R(refused_malformed, "malformed_frame"),
    R(refused_too_large, "frame_too_large"),
    R(refused_unknown_message, "unknown_message"),
    R(refused_handshake, "handshake"),
    R(refused_version, "protocol_version"),
    R(refused_duplicate, "duplicate_socket"),
    R(refused_not_found, "socket_not_found"),
    R(refused_invalid, "invalid_request"),
    R(refused_payload_limit, "max_payload_bytes"),
    R(refused_name_limit, "max_name_bytes"),
    R(refused_sockets_limit, "max_sockets_per_connection"),
    R(refused_rooms_limit, "max_rooms_per_socket"),
    R(refused_data_limit, "max_socket_data_bytes"),
    R(refused_pending_limit, "max_pending_per_connection"),
    R(requests_refused_limit, "max_pending_requests"),
    R(requests_unavailable, "redis_unavailable"),
    R(requests_shutdown, "shutting_down"),
    R(session_data_refused, "session_data_limit"),
};

/* HTTP requests and connections on http_listen not answered 200: port
 * probes, scanners, slow or idle peers. Noise for message delivery. */
static const reason_map http_refused[] = {
    R(http_bad_requests, "bad_request"),
    R(http_too_large, "too_large"),
    R(http_not_found, "not_found"),
    R(http_bad_method, "bad_method"),
    R(http_refused_limit, "http_max_connections"),
    R(http_timeouts, "timeout"),
    R(http_evicted, "evicted"),
};

/* Labels of sidecast_emits_total{scope="local"} (by emit kind) and of
 * sidecast_directory_lookups_total. */
static const reason_map emits_local[SC_EMIT_KINDS] = {
    R(emits_socket, "socket"),
    R(emits_room, "room"),
    R(emits_all, "all"),
    R(emits_user, "user"),
};
static const reason_map lookups[] = {
    R(lookups_local, "local"),
    R(lookups_redis, "redis"),
};
#undef R

typedef struct reason_family {
    const char *name;
    const char *help;
    const reason_map *map;
    size_t n;
} reason_family;

static const reason_family reason_families[] = {
    {P "messages_lost_total",
     "messages that did not reach a receiver (an app here or another node), by reason; "
     "volatile_*: volatile messages dropped under pressure",
     lost, SC_ARRAY_LEN(lost)},
    {P "refused_total",
     "app connections, frames and requests refused or closed with an error, by reason "
     "(limits by their setting)",
     refused, SC_ARRAY_LEN(refused)},
    {P "http_refused_total",
     "HTTP requests and connections on http_listen refused, timed out or not found, by reason",
     http_refused, SC_ARRAY_LEN(http_refused)},
};

/* Is the counter at `offset` exported as a label of a family? */
static bool labelled(size_t offset)
{
    for (size_t f = 0; f < SC_ARRAY_LEN(reason_families); f++)
        for (size_t i = 0; i < reason_families[f].n; i++)
            if (reason_families[f].map[i].offset == offset)
                return true;
    for (size_t i = 0; i < SC_ARRAY_LEN(emits_local); i++)
        if (emits_local[i].offset == offset)
            return true;
    for (size_t i = 0; i < SC_ARRAY_LEN(lookups); i++)
        if (lookups[i].offset == offset)
            return true;
    return false;
}

static void counter(sc_buf *b, const char *name, const char *help, uint64_t value)
{
    char full[160];
    snprintf(full, sizeof(full), P "%s_total", name);
    family(b, full, "counter", help);
    sample(b, full, value);
}

static void counters(sc_buf *b)
{
#define SC_METRICS_COUNTER(name, help)                                                             \
    if (!labelled(offsetof(sc_stats, name)))                                                       \
        counter(b, #name, help, sc_stat.name);
    SC_COUNTERS(SC_METRICS_COUNTER)
#undef SC_METRICS_COUNTER
    for (size_t f = 0; f < SC_ARRAY_LEN(reason_families); f++) {
        const reason_family *rf = &reason_families[f];
        family(b, rf->name, "counter", rf->help);
        for (size_t i = 0; i < rf->n; i++)
            sample1(b, rf->name, "reason", rf->map[i].reason, STAT_AT(rf->map[i].offset));
    }
}

/* ---- the families -------------------------------------------------------------- */

static void frames(sc_buf *b, const char *name, const char *help, const uint64_t *counts)
{
    family(b, name, "counter", help);
    for (unsigned mc = 0; mc < SC_METRICS_MSG_CASES; mc++) {
        const char *type = mc ? sc_wire_msg_name((int)mc) : "unknown";
        if (mc && strcmp(type, "unknown") == 0)
            continue; /* not a message case */
        sample1(b, name, "type", type, counts[mc]);
    }
}

static const char *const scopes[SC_SCOPES] = {"local", "remote"};
static const char *const outcomes[SC_OUTCOMES] = {"ok", "timeout", "error"};

static const char *req_kind_name(unsigned k)
{
    switch (k) {
    case SC_REQ_FETCH: return "fetch";
    case SC_REQ_APPLY: return "apply";
    case SC_REQ_SERVER_EMIT: return "server_emit";
    case SC_REQ_BROADCAST_ACK: return "broadcast_ack";
    case SC_REQ_CALL: return "redis_call";
    }
    return NULL;
}

static void traffic(sc_buf *b)
{
    frames(b, P "frames_received_total", "frames received from apps, by message type",
           sc_metric.frames_in);
    frames(b, P "frames_sent_total", "frames queued for apps, by message type",
           sc_metric.frames_out);
    const char *n = P "emits_total";
    family(b, n, "counter",
           "emits by recipient kind; scope local: sent by an app on this node, remote: "
           "received from another node (an emit naming several kinds counts once per kind)");
    for (int k = 0; k < SC_EMIT_KINDS; k++) {
        /* local: the emits_<kind> counter of the `stats` reply (sc_metric
         * counts the same emits) */
        sample2(b, n, "kind", emits_local[k].reason, "scope", scopes[SC_SCOPE_LOCAL],
                STAT_AT(emits_local[k].offset));
        sample2(b, n, "kind", emits_local[k].reason, "scope", scopes[SC_SCOPE_REMOTE],
                sc_metric.emits[k][SC_SCOPE_REMOTE]);
    }
    n = P "deliveries_total";
    family(b, n, "counter",
           "Deliver frames queued for app connections, by where the emit came from");
    for (int s = 0; s < SC_SCOPES; s++)
        sample1(b, n, "scope", scopes[s], sc_metric.deliveries[s]);
    n = P "directory_lookups_total";
    family(b, n, "counter", "socket/session/user lookups, by where they were answered");
    for (size_t i = 0; i < SC_ARRAY_LEN(lookups); i++)
        sample1(b, n, "source", lookups[i].reason, STAT_AT(lookups[i].offset));
}

static void requests(sc_buf *b)
{
    const char *n = P "cluster_requests_total";
    family(b, n, "counter", "cluster requests started by apps, by kind and outcome");
    for (unsigned k = 1; k < SC_METRICS_REQ_KINDS; k++) {
        if (!req_kind_name(k))
            continue;
        for (int o = 0; o < SC_OUTCOMES; o++)
            sample2(b, n, "kind", req_kind_name(k), "outcome", outcomes[o],
                    sc_metric.requests[k][o]);
    }
    n = P "cluster_request_duration_seconds";
    family(b, n, "histogram", "time from a cluster request's start to its final answer, by kind");
    for (unsigned k = 1; k < SC_METRICS_REQ_KINDS; k++)
        if (req_kind_name(k))
            histogram(b, n, "kind", req_kind_name(k), &sc_metric.request_seconds[k]);
    n = P "redis_command_duration_seconds";
    family(b, n, "histogram",
           "round trip of PING probes and script calls on the redis publish connection");
    histogram(b, n, NULL, NULL, &sc_metric.redis_seconds);
}

static void server_gauges(sc_buf *b, const sc_server *s, uint64_t http_connections)
{
    gauge(b, P "app_connections", "app connections open", s->nconns);
    gauge(b, P "sockets", "sockets registered on this node", sc_map_count(&s->reg.sockets));
    gauge(b, P "rooms", "rooms with at least one local member", sc_map_count(&s->reg.rooms));
    gauge(b, P "room_memberships", "(socket, room) memberships on this node", s->reg.memberships);
    gauge(b, P "output_buffer_bytes", "bytes queued for app connections, not yet written",
          sc_conn_output_bytes(s->conns));
    gauge(b, P "client_memory_bytes",
          "bytes allocated for the input and output buffers of app connections "
          "(bounded by max_client_memory)",
          sc_conn_client_memory());
    gauge(b, P "pending_requests", "cluster requests in flight", sc_map_count(&s->requests));
    gauge(b, P "http_connections", "HTTP connections open on http_listen", http_connections);
    char why[200];
    gauge(b, P "ready", "1 when /readyz answers 200 (serving, redis healthy if configured)",
          sc_server_ready(s, why, sizeof(why)));
    const char *n = P "node_info";
    family(b, n, "gauge", "this node's id and name (always 1)");
    sample2(b, n, "id", s->node_id, "name", s->node_name, 1);
    /* The bounds beside the gauges they bound, for "limit near" alerts. */
    n = P "limit";
    family(b, n, "gauge",
           "configured bounds, by setting (0: off): max_connections bounds app_connections, "
           "max_client_memory client_memory_bytes, max_pending_requests pending_requests, "
           "http_max_connections http_connections, outbox_max_bytes outbox_bytes");
    const sc_config *cfg = s->cfg;
    sample1(b, n, "setting", "max_connections", cfg->max_connections);
    sample1(b, n, "setting", "max_client_memory", cfg->max_client_memory);
    sample1(b, n, "setting", "max_pending_requests", cfg->max_pending_requests);
    sample1(b, n, "setting", "http_max_connections", cfg->http_max_connections);
    sample1(b, n, "setting", "outbox_max_bytes", cfg->outbox_max_bytes);
}

/* Each live node's cluster protocol version and feature bits (labels:
 * bounded by the cluster's size), and the bits in use by all of them. */
static void cluster_versions(sc_buf *b, const sc_cluster *c)
{
    const char **ids, **names;
    size_t n = sc_cluster_nodes(c, &ids, &names);
    const char *f = P "cluster_node_info";
    family(b, f, "gauge",
           "1 per live node, with its cluster protocol version (0: from before versioning) and "
           "ClusterFeature bits");
    for (size_t i = 0; i < n; i++) {
        uint32_t ver;
        uint64_t feat;
        sc_cluster_node_version(c, i, &ver, &feat);
        put(b, "%s{node_id=\"", f);
        sc_metrics_escape_label(b, ids[i]);
        put(b, "\",node_name=\"");
        sc_metrics_escape_label(b, names[i]);
        put(b, "\",version=\"%u\",features=\"%" PRIu64 "\"} 1\n", ver, feat);
    }
    gauge(b, P "cluster_features",
          "ClusterFeature bits every live node has: the features in use (fewer than this node's "
          "while an older node is live)",
          sc_cluster_features(c));
}

/* Redis Cluster: one sample per shard (primary), so the `shard` label is
 * bounded by the number of primaries. */
static void shard_gauges(sc_buf *b, const sc_cluster *c, const sc_cluster_health *h)
{
    gauge(b, P "redis_cluster_shards", "primaries in the Redis Cluster's slot map", h->shards);
    gauge(b, P "redis_cluster_sharded_pubsub",
          "1 with sharded pub/sub (SSUBSCRIBE/SPUBLISH); 0: the cluster has none (Redis before "
          "7.0) and classic pub/sub, broadcast to every Redis node, is used",
          h->sharded);
    family(b, P "redis_cluster_slot_maps_total", "counter",
           "slot maps that differed from the one before (failovers, reshards)");
    put(b, P "redis_cluster_slot_maps_total %" PRIu64 "\n", h->slot_maps);
    static const char *const fams[][3] = {
        {P "redis_shard_up", "gauge",
         "1 while this shard's connection is up (subscribe: and its channels confirmed; "
         "absent until a room of it has members)"},
        {P "redis_shard_channels", "gauge", "channels subscribed on this shard"},
        {P "redis_shard_publishes_total", "counter", "publishes sent to this shard"},
        {P "redis_shard_rtt_seconds", "gauge",
         "round trip of the last probe (PING) on this shard's publish connection"},
    };
    sc_shard_info si;
    for (size_t f = 0; f < 4; f++) {
        family(b, fams[f][0], fams[f][1], fams[f][2]);
        for (int i = 0; sc_cluster_shard(c, i, &si); i++) {
            put(b, "%s{shard=\"", fams[f][0]);
            sc_metrics_escape_label(b, si.addr);
            if (f == 0) {
                put(b, "\",connection=\"publish\",home=\"%d\"} %d\n", si.home, si.pub_up);
                if (!si.sub_started)
                    continue;
                put(b, "%s{shard=\"", fams[f][0]);
                sc_metrics_escape_label(b, si.addr);
                put(b, "\",connection=\"subscribe\",home=\"%d\"} %d\n", si.home,
                    si.sub_up && si.subscribed);
            } else if (f == 3) {
                put(b, "\"} %.6f\n", (double)si.rtt_us / 1e6);
            } else {
                put(b, "\"} %" PRIu64 "\n", f == 1 ? si.channels : si.publishes);
            }
        }
    }
}

static void cluster_gauges(sc_buf *b, const sc_cluster *c)
{
    gauge(b, P "cluster_mode", "1 when redis_url is set (cluster), 0 standalone", c != NULL);
    if (!c)
        return;
    sc_cluster_health h;
    sc_cluster_health_get(c, &h);
    const char *n = P "redis_connection_up";
    family(b, n, "gauge",
           "1 while the redis connection is up (subscribe: and every channel confirmed)");
    sample1(b, n, "connection", "publish", h.pub_up);
    sample1(b, n, "connection", "subscribe", h.sub_up && h.subscribed);
    n = P "redis_reconnects_total";
    family(b, n, "counter", "redis connections re-established after a loss");
    sample1(b, n, "connection", "publish", h.pub_reconnects);
    sample1(b, n, "connection", "subscribe", h.sub_reconnects);
    gauge(b, P "pubsub_gap", "1 while the subscription is interrupted (apps told to resync after)",
          h.in_gap);
    if (h.sentinel) {
        gauge(b, P "redis_sentinel_up", "1 while the sentinel asked for the primary answers",
              h.sentinel_up);
        family(b, P "redis_sentinel_switches_total", "counter",
               "new primaries named by the sentinels and followed (failovers)");
        put(b, P "redis_sentinel_switches_total %" PRIu64 "\n", h.sentinel_switches);
    }
    family(b, P "canary_late_seconds", "gauge",
           "age of the oldest unanswered pub/sub canary (0: none)");
    put(b, P "canary_late_seconds %.3f\n", (double)h.canary_late_us / 1e6);
    gauge(b, P "cluster_nodes", "live nodes seen by the last heartbeat, this one included",
          h.nodes);
    gauge(b, P "outbox_bytes", "cluster messages kept while redis is unreachable, bytes",
          h.outbox_bytes);
    gauge(b, P "outbox_messages", "cluster messages kept while redis is unreachable",
          h.outbox_messages);
    gauge(b, P "redis_channels", "pub/sub channels this node subscribes to or wants", h.channels);
    gauge(b, P "dircache_entries", "socket id -> node entries in the directory cache",
          h.dircache_entries);
    gauge(b, P "private_rooms_quiet",
          "socket id rooms of other nodes' sockets whose channel was found without subscribers",
          h.quiet_rooms);
    if (h.rcluster)
        shard_gauges(b, c, &h);
    cluster_versions(b, c);
}

/* ---- process --------------------------------------------------------------------- */

static uint64_t boot_time(void)
{
    FILE *f = fopen("/proc/stat", "r");
    char line[256];
    unsigned long long bt = 0;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "btime %llu", &bt) == 1)
            break;
    if (f)
        fclose(f);
    return bt;
}

static void process(sc_buf *b)
{
    unsigned long long utime = 0, stime = 0, start = 0, vsize = 0;
    long long rss = 0;
    char stat[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(stat, 1, sizeof(stat) - 1, f) : 0;
    if (f)
        fclose(f);
    stat[n] = '\0';
    /* fields after the command name, which may hold spaces and parens */
    const char *p = strrchr(stat, ')');
    if (p)
        sscanf(p + 2,
               "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
               "%llu %llu %lld",
               &utime, &stime, &start, &vsize, &rss);
    long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    if (tck <= 0)
        tck = 100;
    family(b, "process_cpu_seconds_total", "counter", "user and system CPU time spent");
    put(b, "process_cpu_seconds_total %.2f\n", (double)(utime + stime) / (double)tck);
    gauge(b, "process_resident_memory_bytes", "resident memory size",
          (uint64_t)(rss > 0 ? rss : 0) * (uint64_t)page);
    gauge(b, "process_virtual_memory_bytes", "virtual memory size", vsize);
    family(b, "process_start_time_seconds", "gauge", "start time since the epoch");
    put(b, "process_start_time_seconds %.2f\n", (double)boot_time() + (double)start / (double)tck);
    uint64_t fds = 0;
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; d && (e = readdir(d));)
        fds += e->d_name[0] != '.';
    if (d) {
        closedir(d);
        fds--; /* the directory itself */
    }
    gauge(b, "process_open_fds", "open file descriptors", fds);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        gauge(b, "process_max_fds", "limit on open file descriptors", (uint64_t)rl.rlim_cur);
}

void sc_metrics_render(const sc_server *srv, uint64_t http_connections, sc_buf *out)
{
    const char *n = P "build_info";
    family(out, n, "gauge", "sidecastd version (always 1)");
    sample1(out, n, "version", SC_VERSION, 1);
    counters(out);
    traffic(out);
    requests(out);
    if (srv) {
        server_gauges(out, srv, http_connections);
        cluster_gauges(out, srv->cluster);
        family(out, P "uptime_seconds", "gauge", "seconds since this sidecastd started");
        put(out, P "uptime_seconds %.3f\n", (double)(sc_now_us() - srv->started_us) / 1e6);
    }
    process(out);
}
