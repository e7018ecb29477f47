/* health: whether this node can serve apps and, if not, a one-line reason
 * a person can act on; computed from a snapshot (sc_health) the server
 * fills (sc_server_health). Pure: it reads only the snapshot, so /readyz
 * (http.c), the sidecast_ready gauge (exposition.c) and systemd's STATUS
 * line (server.c, through notify's status callback) all give the same
 * answer. It may not call into the server or the cluster. */
#ifndef SC_HEALTH_H
#define SC_HEALTH_H

#include "cluster.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sc_health {
    bool running;   /* a server exists (false: not started, or torn down) */
    bool stopping;  /* the SIGTERM drain has begun */
    bool listening; /* the app socket listens */
    uint64_t conns; /* app connections open */
    bool clustered; /* cluster mode: `cluster` below is filled */
    sc_cluster_health cluster;
    uint64_t now_us; /* sc_now_us() when the snapshot was taken */
} sc_health;

/* True when ready: running and listening, no shutdown begun, and (cluster
 * mode) both Redis connections up, the subscriptions confirmed, this node's
 * directory written and the pub/sub canary arriving. Otherwise false with
 * the reason in why. */
bool sc_health_ready(const sc_health *h, char *why, size_t len);

#endif
