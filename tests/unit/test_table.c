/* Unit tests for broker/core/table.c: sc_map, sc_pset, sc_pmap.
 *
 * Besides the API, some tests look at the layout (cap, slots) on purpose:
 * the small-mode capacities (inline 1, 3, 8) and the backward-shift deletion
 * around the end of the slot array are what the randomized test would only
 * hit by chance. */
#include "unit.h"

#include "table.h"
#include "util.h"

#include <errno.h>

/* ---- helpers ---------------------------------------------------------------- */

typedef struct item {
    uint32_t val;
    char key[28];
} item;

static const char *item_key(const void *p, size_t *len)
{
    const item *it = p;
    *len = strlen(it->key);
    return it->key;
}

static item *item_new(const char *key, uint32_t val)
{
    item *it = calloc(1, sizeof(*it));
    assert_non_null(it);
    assert_true(strlen(key) < sizeof(it->key));
    strcpy(it->key, key);
    it->val = val;
    return it;
}

static void *map_get_s(const sc_map *m, const char *key)
{
    return sc_map_get(m, key, strlen(key));
}

static void *map_del_s(sc_map *m, const char *key)
{
    return sc_map_del(m, key, strlen(key));
}

/* Fake object addresses for the pointer tables: never dereferenced, but real
 * addresses with malloc-like 16-byte spacing. */
#define POOL_N 8192
static _Alignas(16) char pool[POOL_N * 16];
#define PTR(i) ((void *)&pool[(size_t)(i)*16])
#define PTR_INDEX(p) ((size_t)((const char *)(p)-pool) / 16)

/* Copy of table.c's hash_ptr, used only to choose pointers with a given home
 * slot. The layout tests assert where entries end up, so if table.c changes
 * its hash they fail loudly instead of silently testing nothing. */
static uint32_t ref_hash_ptr(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (uint32_t)x;
}

/* Next pool index >= *next whose home slot in a table of cap 16 is home. */
static size_t ptr_with_home(size_t *next, uint32_t home)
{
    for (size_t i = *next; i < POOL_N; i++) {
        if ((ref_hash_ptr(PTR(i)) & 15u) == home) {
            *next = i + 1;
            return i;
        }
    }
    fail_msg("no pool pointer with home slot %u", home);
    return 0;
}

/* Checks the structural invariants of a pointer table's capacity. */
static void check_ptab_shape(uint32_t count, uint32_t cap)
{
    if (cap == 0) {
        assert_int_equal(count, 0);
    } else if (cap <= SC_PSET_SMALL) {
        assert_true(cap == 1 || cap == 3 || cap == SC_PSET_SMALL);
        assert_true(count >= 1 && count <= cap);
    } else {
        assert_int_equal(cap & (cap - 1), 0);
        assert_true((uint64_t)count * 4 <= (uint64_t)cap * 3); /* load <= 3/4 */
        assert_true((uint64_t)count * 8 >= cap);               /* shrinks below 1/8 */
    }
}

/* ---- sc_map ------------------------------------------------------------------- */

static void map_basic(void **state)
{
    (void)state;
    sc_map m;
    sc_map_init(&m, item_key);
    assert_int_equal(sc_map_count(&m), 0);
    assert_null(map_get_s(&m, "a"));
    assert_null(map_del_s(&m, "a"));

    item *a = item_new("alpha", 1), *b = item_new("beta", 2), *c = item_new("gamma", 3);
    assert_int_equal(sc_map_put(&m, a), 0);
    assert_int_equal(sc_map_put(&m, b), 0);
    assert_int_equal(sc_map_put(&m, c), 0);
    assert_int_equal(sc_map_count(&m), 3);
    assert_ptr_equal(map_get_s(&m, "alpha"), a);
    assert_ptr_equal(map_get_s(&m, "beta"), b);
    assert_ptr_equal(map_get_s(&m, "gamma"), c);
    assert_null(map_get_s(&m, "delta"));

    /* A different object with a taken key is refused; the first one stays. */
    item *a2 = item_new("alpha", 99);
    assert_int_equal(sc_map_put(&m, a2), -EEXIST);
    assert_int_equal(sc_map_put(&m, a), -EEXIST);
    assert_int_equal(sc_map_count(&m), 3);
    assert_ptr_equal(map_get_s(&m, "alpha"), a);

    assert_ptr_equal(map_del_s(&m, "beta"), b);
    assert_int_equal(sc_map_count(&m), 2);
    assert_null(map_get_s(&m, "beta"));
    assert_null(map_del_s(&m, "beta"));
    assert_ptr_equal(map_get_s(&m, "alpha"), a);
    assert_ptr_equal(map_get_s(&m, "gamma"), c);

    /* The key can be reused after deletion. */
    item *b2 = item_new("beta", 22);
    assert_int_equal(sc_map_put(&m, b2), 0);
    assert_ptr_equal(map_get_s(&m, "beta"), b2);
    assert_int_equal(sc_map_count(&m), 3);
    assert_true(sc_map_memory(&m) >= 3 * sizeof(void *));

    sc_map_free(&m);
    assert_int_equal(sc_map_count(&m), 0);
    assert_null(map_get_s(&m, "alpha"));
    sc_map_free(NULL); /* NULL-safe */
    free(a);
    free(b);
    free(c);
    free(a2);
    free(b2);
}

/* Keys are (pointer, length): prefixes are different keys, and a lookup uses
 * only `len` bytes of the key it is given. */
static void map_key_length(void **state)
{
    (void)state;
    sc_map m;
    sc_map_init(&m, item_key);
    item *a = item_new("a", 1), *ab = item_new("ab", 2), *abc = item_new("abc", 3);
    assert_int_equal(sc_map_put(&m, abc), 0);
    assert_int_equal(sc_map_put(&m, a), 0);
    assert_int_equal(sc_map_put(&m, ab), 0);
    assert_ptr_equal(sc_map_get(&m, "abcdef", 1), a);
    assert_ptr_equal(sc_map_get(&m, "abcdef", 2), ab);
    assert_ptr_equal(sc_map_get(&m, "abcdef", 3), abc);
    assert_null(sc_map_get(&m, "abcdef", 4));
    assert_null(sc_map_get(&m, "", 0));
    assert_ptr_equal(sc_map_del(&m, "abX", 2), ab);
    assert_ptr_equal(sc_map_get(&m, "abc", 3), abc);
    assert_ptr_equal(sc_map_get(&m, "a", 1), a);
    assert_null(sc_map_get(&m, "ab", 2));
    sc_map_free(&m);
    free(a);
    free(ab);
    free(abc);
}

/* Growth keeps load <= 3/4 and a power-of-two capacity; deleting everything
 * shrinks back to the minimum of 16 slots. */
static void map_grow_shrink(void **state)
{
    (void)state;
    enum { N = 3000 };
    item **items = calloc(N, sizeof(*items));
    assert_non_null(items);
    sc_map m;
    sc_map_init(&m, item_key);
    uint32_t max_cap = 0;
    for (uint32_t i = 0; i < N; i++) {
        char key[24];
        snprintf(key, sizeof(key), "key-%u", i);
        items[i] = item_new(key, i);
        assert_int_equal(sc_map_put(&m, items[i]), 0);
        assert_int_equal(sc_map_count(&m), i + 1);
        assert_int_equal(m.cap & (m.cap - 1), 0);
        assert_true((uint64_t)m.count * 4 <= (uint64_t)m.cap * 3);
        max_cap = m.cap;
    }
    assert_int_equal(max_cap, 4096);
    assert_int_equal(sc_map_memory(&m), (size_t)4096 * (sizeof(uint32_t) + sizeof(void *)));
    for (uint32_t i = 0; i < N; i++)
        assert_ptr_equal(map_get_s(&m, items[i]->key), items[i]);

    /* Delete the even ones, then the odd ones in reverse order. */
    for (uint32_t i = 0; i < N; i += 2)
        assert_ptr_equal(map_del_s(&m, items[i]->key), items[i]);
    assert_int_equal(sc_map_count(&m), N / 2);
    for (uint32_t i = 0; i < N; i++)
        assert_ptr_equal(map_get_s(&m, items[i]->key), i % 2 ? items[i] : NULL);
    for (uint32_t i = N - 1; i < N; i -= 2) {
        assert_ptr_equal(map_del_s(&m, items[i]->key), items[i]);
        /* Memory follows the live count: never below 1/8 full above 16. */
        assert_true(m.cap == 16 || (uint64_t)m.count * 8 >= m.cap);
    }
    assert_int_equal(sc_map_count(&m), 0);
    assert_int_equal(m.cap, 16);
    for (uint32_t i = 0; i < N; i++)
        assert_null(map_get_s(&m, items[i]->key));

    /* Still usable after shrinking. */
    assert_int_equal(sc_map_put(&m, items[7]), 0);
    assert_ptr_equal(map_get_s(&m, items[7]->key), items[7]);
    sc_map_free(&m);
    for (uint32_t i = 0; i < N; i++)
        free(items[i]);
    free(items);
}

/* Keys "w<n>" whose home slot in a 16-slot map is `home`. The hash is keyed
 * per process, so the keys differ per run but the layout does not. */
static item *map_item_with_home(uint32_t *next, uint32_t home)
{
    char key[24];
    for (;; (*next)++) {
        snprintf(key, sizeof(key), "w%u", *next);
        if ((sc_hash_str(key, strlen(key)) & 15u) == home) {
            (*next)++;
            return item_new(key, home);
        }
    }
}

/* Backward-shift deletion across the end of the slot array: entries whose
 * home is 15 wrap to 0 and 1, one with home 0 is pushed to 2. Deleting must
 * move exactly the entries that may move, keeping every key reachable. */
static void map_delete_wraparound(void **state)
{
    (void)state;
    sc_hash_init();
    uint32_t next = 0;
    item *c1 = map_item_with_home(&next, 14);
    item *a1 = map_item_with_home(&next, 15);
    item *a2 = map_item_with_home(&next, 15);
    item *a3 = map_item_with_home(&next, 15);
    item *b1 = map_item_with_home(&next, 0);
    item *f[4];
    for (int i = 0; i < 4; i++)
        f[i] = map_item_with_home(&next, 6 + (uint32_t)i);
    item *all[] = {c1, a1, a2, a3, b1, f[0], f[1], f[2], f[3]};

    sc_map m;
    sc_map_init(&m, item_key);
    for (size_t i = 0; i < SC_ARRAY_LEN(all); i++)
        assert_int_equal(sc_map_put(&m, all[i]), 0);
    assert_int_equal(m.cap, 16);
    assert_ptr_equal(m.items[14], c1);
    assert_ptr_equal(m.items[15], a1);
    assert_ptr_equal(m.items[0], a2);
    assert_ptr_equal(m.items[1], a3);
    assert_ptr_equal(m.items[2], b1);
    assert_null(m.items[3]);

    /* Hole at 15: a2, a3 (home 15) and b1 (home 0) all shift back by one. */
    assert_ptr_equal(map_del_s(&m, a1->key), a1);
    assert_ptr_equal(m.items[15], a2);
    assert_ptr_equal(m.items[0], a3);
    assert_ptr_equal(m.items[1], b1);
    assert_null(m.items[2]);

    /* Hole at 14: nothing after it may move before its home slot. */
    assert_ptr_equal(map_del_s(&m, c1->key), c1);
    assert_null(m.items[14]);
    assert_ptr_equal(m.items[15], a2);
    assert_ptr_equal(m.items[0], a3);
    assert_ptr_equal(m.items[1], b1);

    /* Hole at 0 (a3): b1 has home 0 and moves into it. */
    assert_ptr_equal(map_del_s(&m, a3->key), a3);
    assert_ptr_equal(m.items[0], b1);
    assert_null(m.items[1]);

    assert_null(map_get_s(&m, a1->key));
    assert_null(map_get_s(&m, c1->key));
    assert_null(map_get_s(&m, a3->key));
    assert_ptr_equal(map_get_s(&m, a2->key), a2);
    assert_ptr_equal(map_get_s(&m, b1->key), b1);
    for (int i = 0; i < 4; i++)
        assert_ptr_equal(map_get_s(&m, f[i]->key), f[i]);
    assert_int_equal(sc_map_count(&m), 6);
    sc_map_free(&m);
    for (size_t i = 0; i < SC_ARRAY_LEN(all); i++)
        free(all[i]);
}

/* Differential test against a presence array over a bounded key universe,
 * with phases that grow and shrink the map through several capacities. */
static void map_random_differential(void **state)
{
    (void)state;
    enum { U = 3000, OPS = 200000, CHECK_EVERY = 1000 };
    item **items = calloc(U, sizeof(*items));
    bool *in = calloc(U, sizeof(*in));
    assert_non_null(items);
    assert_non_null(in);
    for (uint32_t i = 0; i < U; i++) {
        char key[24];
        snprintf(key, sizeof(key), "k%u/%u", i, i * 2654435761u);
        items[i] = item_new(key, i);
    }
    sc_map m;
    sc_map_init(&m, item_key);
    uint64_t seed = 0x5eed0001;
    uint32_t count = 0, universe = 16, add_pct = 50;
    for (uint32_t op = 0; op < OPS; op++) {
        if (op % 5000 == 0) {
            static const uint32_t universes[] = {4, 16, 100, 1000, U};
            static const uint32_t pcts[] = {90, 50, 10, 75, 25};
            universe = universes[unit_below(&seed, 5)];
            add_pct = pcts[unit_below(&seed, 5)];
        }
        uint32_t k = unit_below(&seed, universe);
        if (unit_below(&seed, 100) < add_pct) {
            int r = sc_map_put(&m, items[k]);
            assert_int_equal(r, in[k] ? -EEXIST : 0);
            if (!in[k]) {
                in[k] = true;
                count++;
            }
        } else {
            void *got = sc_map_del(&m, items[k]->key, strlen(items[k]->key));
            assert_ptr_equal(got, in[k] ? items[k] : NULL);
            if (in[k]) {
                in[k] = false;
                count--;
            }
        }
        assert_int_equal(sc_map_count(&m), count);
        if (op % CHECK_EVERY == CHECK_EVERY - 1) {
            for (uint32_t i = 0; i < U; i++)
                assert_ptr_equal(map_get_s(&m, items[i]->key), in[i] ? items[i] : NULL);
            uint32_t seen = 0;
            for (uint32_t i = 0; i < m.cap; i++)
                if (m.items[i]) {
                    assert_true(in[((item *)m.items[i])->val]);
                    seen++;
                }
            assert_int_equal(seen, count);
        }
    }
    /* Empty it completely in random order. */
    for (uint32_t i = 0; i < U; i++) {
        uint32_t k = (i * 7919u) % U;
        if (in[k])
            assert_ptr_equal(map_del_s(&m, items[k]->key), items[k]);
    }
    assert_int_equal(sc_map_count(&m), 0);
    assert_int_equal(m.cap, 16);
    sc_map_free(&m);
    for (uint32_t i = 0; i < U; i++)
        free(items[i]);
    free(items);
    free(in);
}

/* ---- sc_pset ------------------------------------------------------------------ */

static void pset_basic(void **state)
{
    (void)state;
    sc_pset s;
    sc_pset_init(&s);
    assert_int_equal(sc_pset_count(&s), 0);
    assert_false(sc_pset_has(&s, PTR(1)));
    assert_int_equal(sc_pset_del(&s, PTR(1)), 0);

    /* One entry lives inline: no allocation. */
    assert_int_equal(sc_pset_add(&s, PTR(1)), 1);
    assert_int_equal(s.cap, 1);
    assert_ptr_equal(s.u.one, PTR(1));
    assert_int_equal(sc_pset_memory(&s), 0);
    assert_int_equal(sc_pset_add(&s, PTR(1)), 0);
    assert_int_equal(sc_pset_count(&s), 1);
    assert_true(sc_pset_has(&s, PTR(1)));
    assert_false(sc_pset_has(&s, PTR(2)));
    assert_int_equal(sc_pset_del(&s, PTR(2)), 0);
    assert_int_equal(sc_pset_count(&s), 1);
    uint32_t n;
    void *const *slots = sc_pset_slots(&s, &n);
    assert_int_equal(n, 1);
    assert_ptr_equal(slots[0], PTR(1));

    assert_int_equal(sc_pset_del(&s, PTR(1)), 1);
    assert_int_equal(sc_pset_count(&s), 0);
    assert_int_equal(s.cap, 0);
    assert_false(sc_pset_has(&s, PTR(1)));
    assert_int_equal(sc_pset_del(&s, PTR(1)), 0);
    sc_pset_free(&s);
    sc_pset_free(NULL);
}

/* Capacity steps 0 -> 1 (inline) -> 3 -> 8 (arrays) -> 16 -> 32 (hashed), and
 * back down: hashed tables shrink to an 8-array, an empty set frees all. */
static void pset_grow_shrink_modes(void **state)
{
    (void)state;
    static const uint32_t cap_after_add[] = {0, 1, 3, 3, 8, 8, 8, 8, 8, 16, 16, 16, 16, 32};
    sc_pset s;
    sc_pset_init(&s);
    for (uint32_t i = 1; i < SC_ARRAY_LEN(cap_after_add); i++) {
        assert_int_equal(sc_pset_add(&s, PTR(i)), 1);
        assert_int_equal(sc_pset_add(&s, PTR(i)), 0);
        assert_int_equal(sc_pset_count(&s), i);
        assert_int_equal(s.cap, cap_after_add[i]);
        assert_int_equal(sc_pset_memory(&s), s.cap > 1 ? s.cap * sizeof(void *) : 0);
        for (uint32_t j = 1; j <= i + 1; j++)
            assert_int_equal(sc_pset_has(&s, PTR(j)), j <= i);
    }
    /* 13 entries in 32 slots; deleting down to 3 (3*8 < 32) goes to an array. */
    for (uint32_t i = 13; i >= 1; i--) {
        assert_int_equal(sc_pset_del(&s, PTR(i)), 1);
        assert_int_equal(sc_pset_del(&s, PTR(i)), 0);
        uint32_t left = i - 1;
        assert_int_equal(sc_pset_count(&s), left);
        uint32_t want = left == 0 ? 0 : left >= 4 ? 32 : SC_PSET_SMALL;
        assert_int_equal(s.cap, want);
        for (uint32_t j = 1; j <= 13; j++)
            assert_int_equal(sc_pset_has(&s, PTR(j)), j < i);
        uint32_t n, seen = 0;
        void *const *slots = sc_pset_slots(&s, &n);
        for (uint32_t j = 0; j < n; j++)
            if (slots[j]) {
                assert_true(PTR_INDEX(slots[j]) < i);
                seen++;
            }
        assert_int_equal(seen, left);
    }
    /* Empty again: the next entry is inline. */
    assert_int_equal(sc_pset_add(&s, PTR(5)), 1);
    assert_int_equal(s.cap, 1);
    assert_int_equal(sc_pset_add(&s, PTR(6)), 1);
    assert_int_equal(s.cap, 3);

    /* A hashed table of 16 falls back to an array only at 1 entry. */
    for (uint32_t i = 7; i <= 15; i++)
        sc_pset_add(&s, PTR(i));
    assert_int_equal(sc_pset_count(&s), 11);
    assert_int_equal(s.cap, 16);
    for (uint32_t i = 5; i <= 14; i++)
        sc_pset_del(&s, PTR(i));
    assert_int_equal(sc_pset_count(&s), 1);
    assert_int_equal(s.cap, SC_PSET_SMALL);
    assert_true(sc_pset_has(&s, PTR(15)));
    sc_pset_free(&s);
    assert_int_equal(s.cap, 0);
    assert_int_equal(sc_pset_count(&s), 0);
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

/* sc_pset_copy returns exactly the entries, in every storage mode. */
static void pset_copy_all_modes(void **state)
{
    (void)state;
    sc_pset s;
    sc_pset_init(&s);
    for (uint32_t n = 0; n <= 40; n++) {
        if (n > 0)
            sc_pset_add(&s, PTR(100 + n));
        uint32_t got;
        void **copy = sc_pset_copy(&s, &got);
        assert_non_null(copy);
        assert_int_equal(got, n);
        qsort(copy, got, sizeof(void *), cmp_ptr);
        for (uint32_t i = 0; i < got; i++)
            assert_ptr_equal(copy[i], PTR(101 + i));
        free(copy);
    }
    sc_pset_free(&s);
}

/* Backward-shift deletion across the end of a 16-slot pset, as for sc_map. */
static void pset_delete_wraparound(void **state)
{
    (void)state;
    size_t next = 0;
    size_t c1 = ptr_with_home(&next, 14);
    size_t a1 = ptr_with_home(&next, 15), a2 = ptr_with_home(&next, 15);
    size_t a3 = ptr_with_home(&next, 15);
    size_t b1 = ptr_with_home(&next, 0);
    size_t f[5];
    for (int i = 0; i < 5; i++)
        f[i] = ptr_with_home(&next, 6 + (uint32_t)i);
    /* The first 8 form an array; the 9th rehashes them in this order. */
    size_t order[] = {c1, a1, a2, a3, b1, f[0], f[1], f[2], f[3], f[4]};
    sc_pset s;
    sc_pset_init(&s);
    for (size_t i = 0; i < SC_ARRAY_LEN(order); i++)
        assert_int_equal(sc_pset_add(&s, PTR(order[i])), 1);
    assert_int_equal(s.cap, 16);
    void **k = s.u.slots;
    assert_ptr_equal(k[14], PTR(c1));
    assert_ptr_equal(k[15], PTR(a1));
    assert_ptr_equal(k[0], PTR(a2));
    assert_ptr_equal(k[1], PTR(a3));
    assert_ptr_equal(k[2], PTR(b1));
    assert_null(k[3]);

    assert_int_equal(sc_pset_del(&s, PTR(a1)), 1);
    assert_ptr_equal(k[15], PTR(a2));
    assert_ptr_equal(k[0], PTR(a3));
    assert_ptr_equal(k[1], PTR(b1));
    assert_null(k[2]);

    assert_int_equal(sc_pset_del(&s, PTR(c1)), 1);
    assert_null(k[14]);
    assert_ptr_equal(k[15], PTR(a2));
    assert_ptr_equal(k[0], PTR(a3));
    assert_ptr_equal(k[1], PTR(b1));

    assert_int_equal(sc_pset_del(&s, PTR(a2)), 1);
    assert_ptr_equal(k[15], PTR(a3));
    assert_ptr_equal(k[0], PTR(b1));
    assert_null(k[1]);

    assert_false(sc_pset_has(&s, PTR(a1)));
    assert_false(sc_pset_has(&s, PTR(a2)));
    assert_false(sc_pset_has(&s, PTR(c1)));
    assert_true(sc_pset_has(&s, PTR(a3)));
    assert_true(sc_pset_has(&s, PTR(b1)));
    for (int i = 0; i < 5; i++)
        assert_true(sc_pset_has(&s, PTR(f[i])));
    assert_int_equal(sc_pset_count(&s), 7);
    sc_pset_free(&s);
}

/* Checks the shape and the slots of s against the reference: every entry
 * is a member, none twice, arrays are dense. Cost O(slots). */
static void pset_check_slots(const sc_pset *s, const bool *in, uint32_t count)
{
    static uint32_t seen[POOL_N], gen;
    gen++;
    check_ptab_shape(s->count, s->cap);
    uint32_t n, found = 0;
    void *const *slots = sc_pset_slots(s, &n);
    for (uint32_t i = 0; i < n; i++) {
        if (!slots[i]) {
            assert_true(s->cap > SC_PSET_SMALL); /* arrays are dense */
            continue;
        }
        size_t idx = PTR_INDEX(slots[i]);
        assert_true(idx < POOL_N);
        assert_true(in[idx]);
        assert_int_not_equal(seen[idx], gen);
        seen[idx] = gen;
        found++;
    }
    assert_int_equal(found, count);
}

static void pset_random_differential(void **state)
{
    (void)state;
    enum { U = 2000, OPS = 200000, CHECK_EVERY = 500 };
    bool *in = calloc(POOL_N, sizeof(*in));
    assert_non_null(in);
    sc_pset s;
    sc_pset_init(&s);
    uint64_t seed = 0x5eed0002;
    uint32_t count = 0, universe = 4, add_pct = 50;
    for (uint32_t op = 0; op < OPS; op++) {
        if (op % 4000 == 0) {
            /* Small universes keep the set in inline/array modes and make it
             * cross the 1/3/8/16 boundaries often. */
            static const uint32_t universes[] = {2, 5, 10, 14, 40, 300, U};
            static const uint32_t pcts[] = {90, 50, 10, 70, 30};
            universe = universes[unit_below(&seed, 7)];
            add_pct = pcts[unit_below(&seed, 5)];
        }
        uint32_t k = unit_below(&seed, universe);
        if (unit_below(&seed, 100) < add_pct) {
            assert_int_equal(sc_pset_add(&s, PTR(k)), in[k] ? 0 : 1);
            if (!in[k]) {
                in[k] = true;
                count++;
            }
        } else {
            assert_int_equal(sc_pset_del(&s, PTR(k)), in[k] ? 1 : 0);
            if (in[k]) {
                in[k] = false;
                count--;
            }
        }
        assert_int_equal(sc_pset_count(&s), count);
        assert_int_equal(sc_pset_has(&s, PTR(k)), in[k]);
        if (count <= 12)
            pset_check_slots(&s, in, count); /* cheap while small: every op */
        if (op % CHECK_EVERY == CHECK_EVERY - 1) {
            pset_check_slots(&s, in, count);
            for (uint32_t i = 0; i < U; i++)
                assert_int_equal(sc_pset_has(&s, PTR(i)), in[i]);
        }
    }
    for (uint32_t i = 0; i < U; i++)
        assert_int_equal(sc_pset_has(&s, PTR(i)), in[i]);
    sc_pset_free(&s);
    free(in);
}

/* ---- sc_pmap ------------------------------------------------------------------ */

static void pmap_basic(void **state)
{
    (void)state;
    sc_pmap m;
    sc_pmap_init(&m);
    assert_null(sc_pmap_get(&m, PTR(1)));
    assert_int_equal(sc_pmap_del(&m, PTR(1)), 0);
    assert_int_equal(sc_pmap_scan_len(&m), 0);

    uint32_t *v = sc_pmap_upsert(&m, PTR(1));
    assert_non_null(v);
    assert_int_equal(*v, 0);
    *v = 41;
    (*sc_pmap_upsert(&m, PTR(1)))++;
    assert_int_equal(sc_pmap_count(&m), 1);
    assert_int_equal(*sc_pmap_get(&m, PTR(1)), 42);
    assert_null(sc_pmap_get(&m, PTR(2)));
    assert_int_equal(m.cap, 3);

    *sc_pmap_upsert(&m, PTR(2)) = 7;
    assert_int_equal(*sc_pmap_get(&m, PTR(1)), 42);
    assert_int_equal(*sc_pmap_get(&m, PTR(2)), 7);
    assert_int_equal(sc_pmap_del(&m, PTR(1)), 1);
    assert_int_equal(sc_pmap_del(&m, PTR(1)), 0);
    assert_null(sc_pmap_get(&m, PTR(1)));
    /* Deleting from an array moves the last entry with its value. */
    assert_int_equal(*sc_pmap_get(&m, PTR(2)), 7);
    assert_int_equal(sc_pmap_count(&m), 1);
    /* A re-inserted key starts from 0 again. */
    assert_int_equal(*sc_pmap_upsert(&m, PTR(1)), 0);
    assert_int_equal(sc_pmap_del(&m, PTR(2)), 1);
    assert_int_equal(sc_pmap_del(&m, PTR(1)), 1);
    assert_int_equal(sc_pmap_count(&m), 0);
    assert_int_equal(m.cap, 0);
    assert_null(m.keys);
    assert_null(m.vals);
    sc_pmap_free(&m);
    sc_pmap_free(NULL);
}

static void pmap_grow_shrink_modes(void **state)
{
    (void)state;
    static const uint32_t cap_after_add[] = {0, 3, 3, 3, 8, 8, 8, 8, 8, 16, 16, 16, 16, 32};
    sc_pmap m;
    sc_pmap_init(&m);
    for (uint32_t i = 1; i < SC_ARRAY_LEN(cap_after_add); i++) {
        *sc_pmap_upsert(&m, PTR(i)) = i * 10;
        assert_int_equal(sc_pmap_count(&m), i);
        assert_int_equal(m.cap, cap_after_add[i]);
        assert_int_equal(sc_pmap_scan_len(&m), m.cap <= SC_PSET_SMALL ? i : m.cap);
        assert_int_equal(sc_pmap_memory(&m), m.cap * (sizeof(void *) + sizeof(uint32_t)));
        for (uint32_t j = 1; j <= i; j++)
            assert_int_equal(*sc_pmap_get(&m, PTR(j)), j * 10);
    }
    for (uint32_t i = 1; i <= 13; i++) {
        assert_int_equal(sc_pmap_del(&m, PTR(i)), 1);
        uint32_t left = 13 - i;
        assert_int_equal(m.cap, left == 0 ? 0 : left >= 4 ? 32 : SC_PSET_SMALL);
        for (uint32_t j = 1; j <= 13; j++) {
            uint32_t *v = sc_pmap_get(&m, PTR(j));
            if (j <= i) {
                assert_null(v);
            } else {
                assert_non_null(v);
                assert_int_equal(*v, j * 10);
            }
        }
    }
    sc_pmap_free(&m);
}

/* Values must travel with their keys when backward-shift deletion moves
 * entries around the end of the slot array. */
static void pmap_delete_wraparound(void **state)
{
    (void)state;
    size_t next = 0;
    size_t c1 = ptr_with_home(&next, 14);
    size_t a1 = ptr_with_home(&next, 15), a2 = ptr_with_home(&next, 15);
    size_t a3 = ptr_with_home(&next, 15);
    size_t b1 = ptr_with_home(&next, 0);
    size_t f[5];
    for (int i = 0; i < 5; i++)
        f[i] = ptr_with_home(&next, 6 + (uint32_t)i);
    size_t order[] = {c1, a1, a2, a3, b1, f[0], f[1], f[2], f[3], f[4]};
    sc_pmap m;
    sc_pmap_init(&m);
    for (size_t i = 0; i < SC_ARRAY_LEN(order); i++)
        *sc_pmap_upsert(&m, PTR(order[i])) = 1000 + (uint32_t)order[i];
    assert_int_equal(m.cap, 16);
    assert_ptr_equal(m.keys[15], PTR(a1));
    assert_ptr_equal(m.keys[0], PTR(a2));
    assert_ptr_equal(m.keys[1], PTR(a3));
    assert_ptr_equal(m.keys[2], PTR(b1));

    assert_int_equal(sc_pmap_del(&m, PTR(a1)), 1);
    assert_ptr_equal(m.keys[15], PTR(a2));
    assert_int_equal(m.vals[15], 1000 + a2);
    assert_ptr_equal(m.keys[0], PTR(a3));
    assert_int_equal(m.vals[0], 1000 + a3);
    assert_ptr_equal(m.keys[1], PTR(b1));
    assert_int_equal(m.vals[1], 1000 + b1);
    assert_null(m.keys[2]);
    assert_int_equal(sc_pmap_del(&m, PTR(c1)), 1);
    assert_int_equal(sc_pmap_del(&m, PTR(a3)), 1);
    assert_ptr_equal(m.keys[0], PTR(b1));
    assert_int_equal(m.vals[0], 1000 + b1);

    size_t left[] = {a2, b1, f[0], f[1], f[2], f[3], f[4]};
    for (size_t i = 0; i < SC_ARRAY_LEN(left); i++) {
        uint32_t *v = sc_pmap_get(&m, PTR(left[i]));
        assert_non_null(v);
        assert_int_equal(*v, 1000 + left[i]);
    }
    assert_null(sc_pmap_get(&m, PTR(a1)));
    assert_null(sc_pmap_get(&m, PTR(a3)));
    assert_null(sc_pmap_get(&m, PTR(c1)));
    assert_int_equal(sc_pmap_count(&m), 7);
    sc_pmap_free(&m);
}

static void pmap_random_differential(void **state)
{
    (void)state;
    enum { U = 2000, OPS = 200000, CHECK_EVERY = 500 };
    bool *in = calloc(U, sizeof(*in));
    uint32_t *val = calloc(U, sizeof(*val));
    assert_non_null(in);
    assert_non_null(val);
    sc_pmap m;
    sc_pmap_init(&m);
    uint64_t seed = 0x5eed0003;
    uint32_t count = 0, universe = 4, add_pct = 50;
    for (uint32_t op = 0; op < OPS; op++) {
        if (op % 4000 == 0) {
            static const uint32_t universes[] = {2, 5, 10, 14, 40, 300, U};
            static const uint32_t pcts[] = {90, 50, 10, 70, 30};
            universe = universes[unit_below(&seed, 7)];
            add_pct = pcts[unit_below(&seed, 5)];
        }
        uint32_t k = unit_below(&seed, universe);
        uint32_t dice = unit_below(&seed, 100);
        if (dice < add_pct) {
            uint32_t *v = sc_pmap_upsert(&m, PTR(k));
            assert_non_null(v);
            if (!in[k]) {
                assert_int_equal(*v, 0);
                in[k] = true;
                val[k] = 0;
                count++;
            }
            assert_int_equal(*v, val[k]);
            (*v)++;
            val[k]++;
        } else {
            assert_int_equal(sc_pmap_del(&m, PTR(k)), in[k] ? 1 : 0);
            if (in[k]) {
                in[k] = false;
                count--;
            }
        }
        assert_int_equal(sc_pmap_count(&m), count);
        if (op % CHECK_EVERY == CHECK_EVERY - 1) {
            check_ptab_shape(m.count, m.cap);
            for (uint32_t i = 0; i < U; i++) {
                uint32_t *v = sc_pmap_get(&m, PTR(i));
                if (in[i]) {
                    assert_non_null(v);
                    assert_int_equal(*v, val[i]);
                } else {
                    assert_null(v);
                }
            }
            uint32_t found = 0, n = sc_pmap_scan_len(&m);
            for (uint32_t i = 0; i < n; i++) {
                if (!m.keys[i])
                    continue;
                size_t idx = PTR_INDEX(m.keys[i]);
                assert_true(idx < U && in[idx]);
                assert_int_equal(m.vals[i], val[idx]);
                found++;
            }
            assert_int_equal(found, count);
        }
    }
    sc_pmap_free(&m);
    free(in);
    free(val);
}

static void hash_str_properties(void **state)
{
    (void)state;
    sc_hash_init();
    sc_hash_init(); /* idempotent: same seed */
    uint32_t h1 = sc_hash_str("room:1", 6);
    sc_hash_init();
    assert_int_equal(sc_hash_str("room:1", 6), h1);
    /* Only len bytes count. */
    assert_int_equal(sc_hash_str("room:1XYZ", 6), h1);
    assert_int_not_equal(sc_hash_str("room:2", 6), h1);
    /* Lengths around the 8-byte block boundary all differ from each other. */
    const char *s = "abcdefghijklmnopq";
    uint32_t hs[17];
    for (size_t n = 0; n <= 16; n++) {
        hs[n] = sc_hash_str(s, n);
        for (size_t j = 0; j < n; j++)
            assert_int_not_equal(hs[j], hs[n]);
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(map_basic),
    cmocka_unit_test(map_key_length),
    cmocka_unit_test(map_grow_shrink),
    cmocka_unit_test(map_delete_wraparound),
    cmocka_unit_test(map_random_differential),
    cmocka_unit_test(pset_basic),
    cmocka_unit_test(pset_grow_shrink_modes),
    cmocka_unit_test(pset_copy_all_modes),
    cmocka_unit_test(pset_delete_wraparound),
    cmocka_unit_test(pset_random_differential),
    cmocka_unit_test(pmap_basic),
    cmocka_unit_test(pmap_grow_shrink_modes),
    cmocka_unit_test(pmap_delete_wraparound),
    cmocka_unit_test(pmap_random_differential),
    cmocka_unit_test(hash_str_properties),
};

UNIT_MAIN(tests)
