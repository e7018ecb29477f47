/* table: compact open-addressing hash tables for the registry's hot paths.
 *
 * Why not uthash: its handle costs 56 bytes per entry per table, and a socket
 * sits in up to four tables (by id, in its connection, in each room, and the
 * room in each socket), which alone would break the per-socket memory budget.
 * These tables store only a pointer (sets) or pointer + hash (maps) per slot.
 *
 * sc_map:  string-keyed map of objects that embed their own key.
 * sc_pset: set of pointers; 0 or 1 entry costs no allocation, up to 8 entries
 *          are a small array (bounded linear scan), more are hashed.
 * sc_pmap: pointer -> uint32 map, same layout rules.
 *
 * None of them own the objects they point to. Iteration is by slot: slots may
 * be NULL in hashed mode; never insert or delete while iterating (copy first).
 * Hash seeds are random per process (sc_hash_init), so ids chosen by a peer
 * cannot force collisions.
 *
 * Each table owns its slot array and nothing else. It includes nothing of
 * sidecast but util, and calls out only to the key function a map is given. */
#ifndef SC_TABLE_H
#define SC_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Seed the string hash once per process; safe to call more than once. */
void sc_hash_init(void);
uint32_t sc_hash_str(const char *s, size_t len);

typedef const char *(*sc_map_key_fn)(const void *item, size_t *ret_len);

typedef struct sc_map {
    uint32_t *hashes;
    void **items;
    uint32_t count;
    uint32_t cap; /* 0 or a power of two */
    sc_map_key_fn key;
} sc_map;

void sc_map_init(sc_map *m, sc_map_key_fn key);
/* Frees the table only. NULL-safe. */
void sc_map_free(sc_map *m);
void *sc_map_get(const sc_map *m, const char *key, size_t len);
/* Inserts item under its own key; -EEXIST if the key is present. */
int sc_map_put(sc_map *m, void *item);
/* Removes and returns the item with that key, or NULL. */
void *sc_map_del(sc_map *m, const char *key, size_t len);
static inline uint32_t sc_map_count(const sc_map *m)
{
    return m->count;
}
/* Iterate: for (i < m->cap) if (m->items[i]) ... */
size_t sc_map_memory(const sc_map *m);

typedef struct sc_pset {
    union {
        void **slots;
        void *one; /* cap == 1: the single entry stored inline */
    } u;
    uint32_t count;
    uint32_t cap;
} sc_pset;

#define SC_PSET_SMALL 8u

static inline void sc_pset_init(sc_pset *s)
{
    s->u.slots = NULL;
    s->count = s->cap = 0;
}
void sc_pset_free(sc_pset *s);
bool sc_pset_has(const sc_pset *s, const void *p);
/* Returns 1 if added, 0 if already present. */
int sc_pset_add(sc_pset *s, void *p);
/* Returns 1 if removed, 0 if absent. */
int sc_pset_del(sc_pset *s, const void *p);
static inline uint32_t sc_pset_count(const sc_pset *s)
{
    return s->count;
}
/* Slots to scan (entries may be NULL); *ret_n gets how many. */
static inline void *const *sc_pset_slots(const sc_pset *s, uint32_t *ret_n)
{
    if (s->cap == 1) {
        *ret_n = s->count;
        return &s->u.one;
    }
    *ret_n = s->cap <= SC_PSET_SMALL ? s->count : s->cap;
    return s->u.slots;
}
/* Copy the entries into a new array the caller frees; *ret_n = count. */
void **sc_pset_copy(const sc_pset *s, uint32_t *ret_n);
size_t sc_pset_memory(const sc_pset *s);

typedef struct sc_pmap {
    void **keys;
    uint32_t *vals;
    uint32_t count;
    uint32_t cap;
} sc_pmap;

static inline void sc_pmap_init(sc_pmap *m)
{
    m->keys = NULL;
    m->vals = NULL;
    m->count = m->cap = 0;
}
void sc_pmap_free(sc_pmap *m);
/* Pointer to the value for key, or NULL when absent. */
uint32_t *sc_pmap_get(const sc_pmap *m, const void *key);
/* Pointer to the value for key, inserting 0 when absent. */
uint32_t *sc_pmap_upsert(sc_pmap *m, void *key);
int sc_pmap_del(sc_pmap *m, const void *key);
static inline uint32_t sc_pmap_count(const sc_pmap *m)
{
    return m->count;
}
/* Iterate: n = cap <= SC_PSET_SMALL ? count : cap; keys[i] may be NULL. */
static inline uint32_t sc_pmap_scan_len(const sc_pmap *m)
{
    return m->cap <= SC_PSET_SMALL ? m->count : m->cap;
}
size_t sc_pmap_memory(const sc_pmap *m);

#endif
