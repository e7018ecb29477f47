/* health: readiness from a snapshot (see health.h). The reasons name what
 * is wrong and what the node is doing about it; the first that applies is
 * given, in the order a person would check them. */
#include "health.h"

#include <stdio.h>

static bool cluster_ready(const sc_cluster_health *hl, uint64_t now, char *why, size_t len)
{
    if (!hl->pub_up || !hl->sub_up) {
        uint64_t since = !hl->pub_up ? hl->pub_down_since : hl->sub_down_since;
        unsigned long long secs = since && now > since ? (now - since) / 1000000u : 0;
        const char *conn = !hl->pub_up ? "publish" : "subscribe";
        if (hl->sentinel && !hl->sentinel_up)
            snprintf(why, len,
                     "redis %s connection down since %llu s, and sentinel %s does not answer: "
                     "trying the sentinels in turn",
                     conn, secs, hl->sentinel_at);
        else
            snprintf(why, len, "redis %s connection down since %llu s: reconnecting to %s%s",
                     conn, secs, hl->redis_at,
                     hl->sentinel   ? " (the primary the sentinels name)"
                     : hl->rcluster ? " (the primary serving the home slot)"
                                    : "");
        return false;
    }
    if (hl->rcluster && hl->shard_down[0]) {
        snprintf(why, len,
                 "redis cluster shard %s: %u of %u primaries well; reconnecting and asking "
                 "for the slot map again",
                 hl->shard_down, hl->shards_up, hl->shards);
        return false;
    }
    if (!hl->subscribed && hl->sub_error[0]) {
        snprintf(why, len,
                 "redis refused a channel subscription: %s (the ACL must allow the cluster's "
                 "channels): retrying",
                 hl->sub_error);
        return false;
    }
    if (!hl->subscribed) {
        snprintf(why, len,
                 "redis subscribe connection up, channel subscriptions not yet "
                 "confirmed: waiting for redis");
        return false;
    }
    if (!hl->directory_ok) {
        snprintf(why, len,
                 "this node's directory is being written to redis (after a reconnect, or "
                 "found gone: reaped after a stall, or redis wiped): waiting for redis");
        return false;
    }
    if (hl->beat_limit_us && hl->beat_late_us >= hl->beat_limit_us) {
        snprintf(why, len,
                 "no heartbeat renewed this node's liveness for %llu ms (over node_ttl_ms): "
                 "redis refuses or fails them (see redis_errors and the log), and the other "
                 "nodes count this node gone",
                 (unsigned long long)(hl->beat_late_us / 1000u));
        return false;
    }
    if (hl->canary_limit_us && hl->canary_late_us >= hl->canary_limit_us) {
        snprintf(why, len,
                 "pub/sub degraded: canary missing for %llu ms although redis answers: "
                 "resubscribing",
                 (unsigned long long)(hl->canary_late_us / 1000u));
        return false;
    }
    return true;
}

bool sc_health_ready(const sc_health *h, char *why, size_t len)
{
    if (!h->running) {
        snprintf(why, len, "no server running");
        return false;
    }
    if (h->stopping) {
        snprintf(why, len, "shutting down: draining %llu app connection(s)",
                 (unsigned long long)h->conns);
        return false;
    }
    if (!h->listening) {
        snprintf(why, len, "app socket not listening");
        return false;
    }
    if (h->clustered && !cluster_ready(&h->cluster, h->now_us, why, len))
        return false;
    snprintf(why, len, "ready");
    return true;
}
