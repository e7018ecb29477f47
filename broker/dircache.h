/* dircache: the sending node's bounded cache of the cluster directory,
 * socket id -> node, so that targeted emits to sockets it knows are
 * published straight to the node's channel instead of through the
 * directory script (see cluster_emit.c).
 *
 * Entries are filled only from what the directory resolved: the script's
 * answers, or a plain lookup of an entry in use (sc_dircache_get_due,
 * sc_dircache_renew), which renews it so that it does not expire while
 * used. An entry is a miss again, and is dropped, when:
 *   - it is older than the ttl it was added with (dircache_ttl_ms);
 *   - its node left the live node list (sc_dircache_set_live) or a publish
 *     to it reached no subscriber (sc_dircache_node_unreachable): both are
 *     O(1) for the node, entries pointing there are dropped when next met;
 *   - the node it points at said it does not hold the socket
 *     (sc_dircache_forget, from a Stale notice), or the directory, asked
 *     again, names another node or none (sc_dircache_renew);
 *   - it is the oldest and the cache is full (dircache_max_entries).
 * Every drop is counted in stats (dircache_*). Entries are kept in the order
 * they were filled or renewed, which is expiry order while the ttl does not
 * change, so expiry and eviction are O(1) per entry.
 *
 * Node records are shared by the entries that point at them and may be held
 * by callers (a pending publish) across loop iterations; they are freed when
 * the last holder lets go. Single-threaded, like the rest of the daemon.
 *
 * It owns the entries and the node records, and only those: it includes
 * nothing of the cluster, sends nothing and never calls the cluster parts
 * that use it (cluster_emit.c fills and reads it; cluster_emit.c,
 * cluster_liveness.c and cluster_receive.c tell it what went stale). */
#ifndef SC_DIRCACHE_H
#define SC_DIRCACHE_H

#include "table.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sc_dcnode {
    /* dircache's */
    uint32_t refs;      /* entries + the node table + callers' holds */
    uint32_t epoch;     /* entries made under an older epoch are stale */
    uint32_t live_mark; /* last sc_dircache_set_live that listed it */
    bool gone;          /* no longer in the node table: all its entries are stale */
    /* the caller's (cluster_emit.c): per-iteration routing state, starts at 0 / -1 */
    int out;            /* index of this node's pending batch, -1: none */
    uint64_t emit_mark; /* last emit that reached this node */
    uint32_t first, last, nrouted;
    uint32_t priv_gen; /* the live list generation `priv` was read at (0: never) */
    bool priv;         /* the node advertises private rooms */
    /* "<id>\0<channel prefix><id>\0" */
    const char *ch;
    uint32_t chlen;
    uint32_t idlen;
    char id[];
} sc_dcnode;

typedef struct dc_entry dc_entry;

typedef struct sc_dircache {
    sc_map entries;        /* dc_entry by socket id */
    sc_map nodes;          /* sc_dcnode by node id: those entries may point at */
    dc_entry *head, *tail; /* oldest first */
    uint32_t live_mark;
    char chprefix[200];
} sc_dircache;

/* channel_prefix is prepended to a node id to name its channel ("P:node:"). */
void sc_dircache_init(sc_dircache *d, const char *channel_prefix);
/* Frees every entry and the node records nobody holds; records still held
 * are freed by their last sc_dcnode_release. NULL-safe. */
void sc_dircache_free(sc_dircache *d);

/* The node socket `id` was resolved to, or NULL (not cached, expired or
 * stale: a stale entry is dropped here). Borrowed: valid until the next
 * call into dircache, or longer with sc_dcnode_hold. */
sc_dcnode *sc_dircache_get(sc_dircache *d, const char *id, size_t len, uint64_t now_us);

/* As sc_dircache_get; on a hit *due says whether the entry is past a
 * quarter of its ttl and was not reported due since it was filled or
 * renewed: the caller may then look the id up in the directory again and
 * pass the answer to sc_dircache_renew. A route used at least once every
 * three quarters of the ttl is so looked up now and then instead of
 * expiring into a miss (which costs Redis a script call). */
sc_dcnode *sc_dircache_get_due(sc_dircache *d, const char *id, size_t len, uint64_t now_us,
                               bool *due);

/* The directory, asked again, says id is on `node`. An entry for id that
 * still points there, and is not stale, lives until now_us + ttl_us
 * (dircache_renewed); one that points elsewhere is dropped
 * (dircache_refresh_dropped). Never adds one: an entry dropped meanwhile
 * (a Stale notice came) stays dropped. (An id on no node is not passed
 * here: its entry is left to expire.) */
void sc_dircache_renew(sc_dircache *d, const char *id, size_t len, const char *node, size_t nlen,
                       uint64_t now_us, uint64_t ttl_us);

/* Remember (or refresh) id -> node until now + ttl_us, evicting the oldest
 * entries while there are max_entries or more. ttl_us or max_entries 0:
 * nothing is stored. */
void sc_dircache_put(sc_dircache *d, const char *id, size_t len, const char *node, size_t nlen,
                     uint64_t now_us, uint64_t ttl_us, uint64_t max_entries);

/* Drop the entry for id if it points at node (a Stale notice from it).
 * Returns true if one was dropped. */
bool sc_dircache_forget(sc_dircache *d, const char *id, size_t len, const char *node, size_t nlen);

/* A publish to n reached nobody: every entry pointing at n so far is stale. */
void sc_dircache_node_unreachable(sc_dircache *d, sc_dcnode *n);

/* The live node list from a heartbeat: records of nodes not in it are
 * dropped (their entries become stale). */
void sc_dircache_set_live(sc_dircache *d, char *const *ids, size_t n);

/* Drop up to `max` expired entries from the oldest end; returns how many. */
size_t sc_dircache_expire(sc_dircache *d, uint64_t now_us, size_t max);

/* Drop every entry (the cache was switched off). */
void sc_dircache_clear(sc_dircache *d);

static inline uint32_t sc_dircache_count(const sc_dircache *d)
{
    return sc_map_count(&d->entries);
}

/* Keep n alive beyond the next dircache call (a publish waiting for its
 * reply); each hold needs one release. */
void sc_dcnode_hold(sc_dcnode *n);
void sc_dcnode_release(sc_dcnode *n);

#endif
