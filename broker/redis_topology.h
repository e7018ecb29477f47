/* redis_topology: which primary serves which hash slot, for
 * redis[s]+cluster:// URLs. It asks CLUSTER SLOTS of one node at a time on a
 * connection of its own (the URL's seeds, then every primary it has learnt,
 * in turn: a node that fails or answers badly is left for the next), again
 * every SC_TOPO_REFRESH_MS and whenever its owner says the map may be stale
 * (a MOVED or ASK answer, a shard pushing sunsubscribe, a connection lost);
 * such asks are coalesced, at most one in flight and one per
 * SC_TOPO_MIN_GAP_MS.
 *
 * It asks on one of its owner's connections to the cluster while one is up
 * (the borrow callback), so a sidecar holds no connection for the map
 * alone; its own is opened only while none is (the first ask, a failover of
 * every primary it reaches) and closed again at the next periodic ask.
 *
 * It owns its connection, the slot map (16384 entries) and the list of
 * primaries; it tells its owner (cluster_core.c) through the callback it is
 * given whenever a slot changed primary, and knows nothing of what the
 * primaries carry. sc_slot() is Redis Cluster's key -> slot function (CRC16
 * of the key, or of its first non-empty {hash tag}). */
#ifndef SC_REDIS_TOPOLOGY_H
#define SC_REDIS_TOPOLOGY_H

#include "redis.h"

#include <stdint.h>

#define SC_SLOTS 16384
#define SC_TOPO_PRIMARIES_MAX 128
#define SC_TOPO_REFRESH_MS 5000
#define SC_TOPO_MIN_GAP_MS 100

typedef struct sc_topo sc_topo;
/* An answer came: `changed` when any slot's primary differs from the map
 * before (always for the first). */
typedef void (*sc_topo_fn)(void *ud, bool changed);
/* A connection of the owner's that is up, to ask on; NULL: none. */
typedef sc_redis *(*sc_topo_borrow_fn)(void *ud);

uint16_t sc_slot(const char *key, size_t len);

/* url: a parsed redis[s]+cluster:// URL (copied); base: the timeouts,
 * backoff, TLS and password callback the data connections use. */
sc_topo *sc_topo_new(struct ev_loop *loop, const sc_redis_url *url, const sc_redis_opts *base,
                     sc_topo_fn fn, sc_topo_borrow_fn borrow, void *ud);
void sc_topo_start(sc_topo *t);
/* The map may be stale: ask again soon. `why` is logged once per ask. */
void sc_topo_refresh(sc_topo *t, const char *why);
/* The primary serving `slot`: its index (0..n-1, stable until the next
 * callback) and address; -1 while the slot has none known. host borrowed
 * until the next callback. */
int sc_topo_owner(const sc_topo *t, uint16_t slot, const char **host, int *port);
int sc_topo_nprimaries(const sc_topo *t);
/* "host:port" of primary i. */
const char *sc_topo_addr(const sc_topo *t, int i);
bool sc_topo_is_up(const sc_topo *t);
/* The node it asks ("host:port"), for /readyz. */
const char *sc_topo_current(const sc_topo *t);
/* Maps learnt (answers that changed something) and asks sent. */
uint64_t sc_topo_changes(const sc_topo *t);
uint64_t sc_topo_asks(const sc_topo *t);
void sc_topo_free(sc_topo *t);

#endif
