/* quietset: the private rooms' channels this node found without
 * subscribers, by room name (cluster_emit.c, "quiet private rooms"), so
 * that emits to those rooms can leave the channel out.
 *
 * A mark holds only under the epoch it was found in: the caller moves its
 * epoch whenever a subscription may have appeared unseen and passes the
 * current one in; a mark of an older epoch is a miss, dropped when met or
 * swept. A mark may also carry an expiry, for a caller that has nothing
 * else bounding how long it trusts one. At max entries the oldest mark
 * goes (counted, private_rooms_quiet_evicted).
 *
 * Why not in the directory cache entry of the room's socket: whether a
 * room's channel has subscribers does not change when the socket's route
 * is looked up again, at light load routes expire between two emits to a
 * socket while the marks stay true, and one socket has several private
 * rooms ("/,<id>", "/chat,<id>"), each with a channel of its own.
 *
 * Marks are kept in the order they were set, so that expiry (a fixed
 * lifetime per caller), old epochs (the epoch only grows) and eviction
 * all go from the old end in O(1) per mark. It owns its marks and nothing
 * else; it includes nothing of the cluster. Single-threaded. */
#ifndef SC_QUIETSET_H
#define SC_QUIETSET_H

#include "table.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct qs_entry qs_entry;

typedef struct sc_quietset {
    sc_map marks;          /* qs_entry by room name */
    qs_entry *head, *tail; /* oldest first */
} sc_quietset;

void sc_quietset_init(sc_quietset *q);
/* Frees every mark. NULL-safe. */
void sc_quietset_free(sc_quietset *q);

/* Whether the channel of room `id` (its name) is marked quiet under epoch and not expired at
 * now_us; a mark that is not is dropped here. */
bool sc_quietset_has(sc_quietset *q, const char *id, size_t len, uint32_t epoch, uint64_t now_us);

/* Mark room id's channel quiet under epoch until expires_us (0: no expiry),
 * replacing its mark if any; the oldest marks go while there are
 * max_entries or more. max_entries 0: nothing is stored. */
void sc_quietset_put(sc_quietset *q, const char *id, size_t len, uint32_t epoch,
                     uint64_t expires_us, uint64_t max_entries);

/* Drop room id's mark if it was set under epoch (a subscriber was found since). */
void sc_quietset_del(sc_quietset *q, const char *id, size_t len, uint32_t epoch);

/* Drop up to `max` marks from the oldest end that are expired at now_us or
 * of an epoch other than `epoch`; returns how many. */
size_t sc_quietset_expire(sc_quietset *q, uint32_t epoch, uint64_t now_us, size_t max);

/* Drop every mark. */
void sc_quietset_clear(sc_quietset *q);

static inline uint32_t sc_quietset_count(const sc_quietset *q)
{
    return sc_map_count(&q->marks);
}

#endif
