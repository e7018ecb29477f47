/* table: linear probing with backward-shift deletion (no tombstones), load
 * factor at most 3/4, shrinking when a table falls below 1/8 full so memory
 * follows the live count. Small sets stay a plain array: scanning 8 pointers
 * is faster than hashing and costs no empty slots. See table.h for what it
 * owns and may not touch. */
#include "table.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- SipHash-1-3, keyed per process ------------------------------------ */

static uint64_t sip_k0, sip_k1;
static bool sip_ready;

void sc_hash_init(void)
{
    if (sip_ready)
        return;
    uint64_t k[2];
    sc_random_bytes(k, sizeof(k));
    sip_k0 = k[0];
    sip_k1 = k[1];
    sip_ready = true;
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = ROTL(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = ROTL(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = ROTL(v2, 32);                                                                         \
    } while (0)

uint32_t sc_hash_str(const char *s, size_t len)
{
    if (!sip_ready)
        sc_hash_init();
    uint64_t v0 = 0x736f6d6570736575ULL ^ sip_k0, v1 = 0x646f72616e646f6dULL ^ sip_k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ sip_k0, v3 = 0x7465646279746573ULL ^ sip_k1;
    const uint8_t *p = (const uint8_t *)s;
    size_t full = len & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m;
        memcpy(&m, p + i, 8);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = 0; i < (len & 7); i++)
        b |= (uint64_t)p[full + i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    uint64_t h = v0 ^ v1 ^ v2 ^ v3;
    return (uint32_t)(h ^ (h >> 32));
}

static inline uint32_t hash_ptr(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (uint32_t)x;
}

/* ---- sc_map -------------------------------------------------------------- */

void sc_map_init(sc_map *m, sc_map_key_fn key)
{
    memset(m, 0, sizeof(*m));
    m->key = key;
}

void sc_map_free(sc_map *m)
{
    if (!m)
        return;
    free(m->hashes);
    free(m->items);
    m->hashes = NULL;
    m->items = NULL;
    m->count = m->cap = 0;
}

static bool map_match(const sc_map *m, uint32_t i, uint32_t h, const char *key, size_t len)
{
    if (m->hashes[i] != h)
        return false;
    size_t klen;
    const char *k = m->key(m->items[i], &klen);
    return klen == len && memcmp(k, key, len) == 0;
}

static void map_resize(sc_map *m, uint32_t cap)
{
    uint32_t *oh = m->hashes;
    void **oi = m->items;
    uint32_t ocap = m->cap;
    m->hashes = sc_xcalloc(cap, sizeof(uint32_t));
    m->items = sc_xcalloc(cap, sizeof(void *));
    m->cap = cap;
    uint32_t mask = cap - 1;
    for (uint32_t i = 0; i < ocap; i++) {
        if (!oi[i])
            continue;
        uint32_t j = oh[i] & mask;
        while (m->items[j])
            j = (j + 1) & mask;
        m->items[j] = oi[i];
        m->hashes[j] = oh[i];
    }
    free(oh);
    free(oi);
}

void *sc_map_get(const sc_map *m, const char *key, size_t len)
{
    if (m->count == 0)
        return NULL;
    uint32_t h = sc_hash_str(key, len), mask = m->cap - 1;
    for (uint32_t i = h & mask; m->items[i]; i = (i + 1) & mask) {
        if (map_match(m, i, h, key, len))
            return m->items[i];
    }
    return NULL;
}

int sc_map_put(sc_map *m, void *item)
{
    size_t len;
    const char *key = m->key(item, &len);
    if ((m->count + 1) * 4 > m->cap * 3)
        map_resize(m, m->cap ? m->cap * 2 : 16);
    uint32_t h = sc_hash_str(key, len), mask = m->cap - 1, i;
    for (i = h & mask; m->items[i]; i = (i + 1) & mask) {
        if (map_match(m, i, h, key, len))
            return -EEXIST;
    }
    m->items[i] = item;
    m->hashes[i] = h;
    m->count++;
    return 0;
}

/* Is home slot k outside the cyclic interval (i, j]? Then the entry at j may
 * move back to the hole at i. */
static inline bool may_move(uint32_t i, uint32_t j, uint32_t k)
{
    return i <= j ? (k <= i || k > j) : (k <= i && k > j);
}

void *sc_map_del(sc_map *m, const char *key, size_t len)
{
    if (m->count == 0)
        return NULL;
    uint32_t h = sc_hash_str(key, len), mask = m->cap - 1, i;
    for (i = h & mask; m->items[i]; i = (i + 1) & mask) {
        if (map_match(m, i, h, key, len))
            break;
    }
    void *found = m->items[i];
    if (!found)
        return NULL;
    for (uint32_t j = i;;) {
        j = (j + 1) & mask;
        if (!m->items[j])
            break;
        if (may_move(i, j, m->hashes[j] & mask)) {
            m->items[i] = m->items[j];
            m->hashes[i] = m->hashes[j];
            i = j;
        }
    }
    m->items[i] = NULL;
    m->count--;
    if (m->cap > 16 && m->count * 8 < m->cap)
        map_resize(m, m->cap / 2);
    return found;
}

size_t sc_map_memory(const sc_map *m)
{
    return (size_t)m->cap * (sizeof(uint32_t) + sizeof(void *));
}

/* ---- shared pointer-table core (keys + optional values) ----------------- */

typedef struct ptab {
    void ***keys;
    uint32_t **vals; /* NULL for sets */
    uint32_t *count;
    uint32_t *cap;
} ptab;

/* Index of key, or -1. */
static int64_t ptab_find(const ptab *t, const void *key)
{
    void **k = *t->keys;
    uint32_t cap = *t->cap;
    if (cap <= SC_PSET_SMALL) {
        for (uint32_t i = 0; i < *t->count; i++)
            if (k[i] == key)
                return i;
        return -1;
    }
    uint32_t mask = cap - 1;
    for (uint32_t i = hash_ptr(key) & mask; k[i]; i = (i + 1) & mask)
        if (k[i] == key)
            return i;
    return -1;
}

static void ptab_resize(ptab *t, uint32_t ncap)
{
    void **ok = *t->keys;
    uint32_t *ov = t->vals ? *t->vals : NULL;
    uint32_t ocap = *t->cap, n = *t->count;
    uint32_t oscan = ocap <= SC_PSET_SMALL ? n : ocap;
    void **nk = sc_xcalloc(ncap, sizeof(void *));
    uint32_t *nv = t->vals ? sc_xcalloc(ncap, sizeof(uint32_t)) : NULL;
    uint32_t at = 0;
    for (uint32_t i = 0; i < oscan; i++) {
        if (!ok[i])
            continue;
        uint32_t j = at++;
        if (ncap > SC_PSET_SMALL) {
            uint32_t mask = ncap - 1;
            for (j = hash_ptr(ok[i]) & mask; nk[j]; j = (j + 1) & mask)
                ;
        }
        nk[j] = ok[i];
        if (nv)
            nv[j] = ov[i];
    }
    free(ok);
    free(ov);
    *t->keys = nk;
    if (t->vals)
        *t->vals = nv;
    *t->cap = ncap;
}

static uint32_t grow_cap(uint32_t cap)
{
    if (cap < 3)
        return 3; /* 24 bytes: the smallest malloc chunk holds three */
    if (cap < SC_PSET_SMALL)
        return SC_PSET_SMALL;
    return cap == SC_PSET_SMALL ? 16 : cap * 2;
}

/* Insert a key known to be absent; returns its index. */
static uint32_t ptab_insert(ptab *t, void *key)
{
    uint32_t cap = *t->cap, n = *t->count;
    bool full = cap <= SC_PSET_SMALL ? n == cap : (n + 1) * 4 > cap * 3;
    if (full)
        ptab_resize(t, grow_cap(cap));
    cap = *t->cap;
    void **k = *t->keys;
    uint32_t i = n;
    if (cap > SC_PSET_SMALL) {
        uint32_t mask = cap - 1;
        for (i = hash_ptr(key) & mask; k[i]; i = (i + 1) & mask)
            ;
    }
    k[i] = key;
    if (t->vals)
        (*t->vals)[i] = 0;
    (*t->count)++;
    return i;
}

static void ptab_remove_at(ptab *t, uint32_t i)
{
    void **k = *t->keys;
    uint32_t *v = t->vals ? *t->vals : NULL;
    uint32_t cap = *t->cap;
    uint32_t n = --(*t->count);
    if (cap <= SC_PSET_SMALL) {
        k[i] = k[n];
        k[n] = NULL;
        if (v)
            v[i] = v[n];
    } else {
        uint32_t mask = cap - 1;
        for (uint32_t j = i;;) {
            j = (j + 1) & mask;
            if (!k[j])
                break;
            if (may_move(i, j, hash_ptr(k[j]) & mask)) {
                k[i] = k[j];
                if (v)
                    v[i] = v[j];
                i = j;
            }
        }
        k[i] = NULL;
        if (n * 8 < cap)
            ptab_resize(t, n <= 6 ? SC_PSET_SMALL : cap / 2);
    }
    if (n == 0) {
        free(*t->keys);
        *t->keys = NULL;
        if (t->vals) {
            free(*t->vals);
            *t->vals = NULL;
        }
        *t->cap = 0;
    }
}

/* ---- sc_pset -------------------------------------------------------------- */

/* A set of capacity 1 keeps its entry inline; the ptab core sees it only
 * after it has been moved to a real array. */
static void pset_uninline(sc_pset *s)
{
    if (s->cap != 1)
        return;
    void *one = s->u.one;
    s->u.slots = sc_xcalloc(3, sizeof(void *));
    s->u.slots[0] = one;
    s->cap = 3;
}

#define PSET_TAB(s) {&(s)->u.slots, NULL, &(s)->count, &(s)->cap}

void sc_pset_free(sc_pset *s)
{
    if (!s)
        return;
    if (s->cap > 1)
        free(s->u.slots);
    sc_pset_init(s);
}

bool sc_pset_has(const sc_pset *s, const void *p)
{
    if (s->cap == 1)
        return s->count == 1 && s->u.one == p;
    if (s->count == 0)
        return false;
    ptab t = PSET_TAB((sc_pset *)s);
    return ptab_find(&t, p) >= 0;
}

int sc_pset_add(sc_pset *s, void *p)
{
    if (sc_pset_has(s, p))
        return 0;
    if (s->cap == 0) {
        s->u.one = p;
        s->cap = s->count = 1;
        return 1;
    }
    pset_uninline(s);
    ptab t = PSET_TAB(s);
    ptab_insert(&t, p);
    return 1;
}

int sc_pset_del(sc_pset *s, const void *p)
{
    if (s->cap == 1) {
        if (s->u.one != p)
            return 0;
        sc_pset_init(s);
        return 1;
    }
    if (s->count == 0)
        return 0;
    ptab t = PSET_TAB(s);
    int64_t i = ptab_find(&t, p);
    if (i < 0)
        return 0;
    ptab_remove_at(&t, (uint32_t)i);
    return 1;
}

void **sc_pset_copy(const sc_pset *s, uint32_t *ret_n)
{
    uint32_t n;
    void *const *slots = sc_pset_slots(s, &n);
    void **out = sc_xmalloc(sizeof(void *) * (s->count ? s->count : 1));
    uint32_t at = 0;
    for (uint32_t i = 0; i < n; i++)
        if (slots[i])
            out[at++] = slots[i];
    *ret_n = at;
    return out;
}

size_t sc_pset_memory(const sc_pset *s)
{
    return s->cap > 1 ? (size_t)s->cap * sizeof(void *) : 0;
}

/* ---- sc_pmap -------------------------------------------------------------- */

#define PMAP_TAB(m) {&(m)->keys, &(m)->vals, &(m)->count, &(m)->cap}

void sc_pmap_free(sc_pmap *m)
{
    if (!m)
        return;
    free(m->keys);
    free(m->vals);
    sc_pmap_init(m);
}

uint32_t *sc_pmap_get(const sc_pmap *m, const void *key)
{
    if (m->count == 0)
        return NULL;
    ptab t = PMAP_TAB((sc_pmap *)m);
    int64_t i = ptab_find(&t, key);
    return i < 0 ? NULL : &m->vals[i];
}

uint32_t *sc_pmap_upsert(sc_pmap *m, void *key)
{
    uint32_t *v = sc_pmap_get(m, key);
    if (v)
        return v;
    ptab t = PMAP_TAB(m);
    uint32_t i = ptab_insert(&t, key);
    return &m->vals[i];
}

int sc_pmap_del(sc_pmap *m, const void *key)
{
    if (m->count == 0)
        return 0;
    ptab t = PMAP_TAB(m);
    int64_t i = ptab_find(&t, key);
    if (i < 0)
        return 0;
    ptab_remove_at(&t, (uint32_t)i);
    return 1;
}

size_t sc_pmap_memory(const sc_pmap *m)
{
    return (size_t)m->cap * (sizeof(void *) + sizeof(uint32_t));
}
