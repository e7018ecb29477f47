/* Unit tests for broker/dircache.c: the sending node's socket id -> node
 * cache. Every way an entry stops being used (expiry, the size bound, a
 * node leaving or unreachable, a stale notice, clearing) and the counter it
 * is accounted under; node records outliving the cache while held; and a
 * randomized run against a plain model. */
#include "unit.h"

#include "dircache.h"
#include "stats.h"
#include "table.h"

#define S 1000000ull /* one second in us */

static sc_dircache dc;

static int setup(void **state)
{
    sc_hash_init();
    memset(&sc_stat, 0, sizeof(sc_stat));
    sc_dircache_init(&dc, "P:node:");
    return 0;
}

static int teardown(void **state)
{
    sc_dircache_free(&dc);
    return 0;
}

static void put(const char *id, const char *node, uint64_t now, uint64_t ttl, uint64_t max)
{
    sc_dircache_put(&dc, id, strlen(id), node, strlen(node), now, ttl, max);
}

static sc_dcnode *get(const char *id, uint64_t now)
{
    return sc_dircache_get(&dc, id, strlen(id), now);
}

static void test_put_get_channel(void **state)
{
    assert_null(get("s1", 0));
    put("s1", "nodeB", 0, 10 * S, 100);
    put("s2", "nodeB", 0, 10 * S, 100);
    put("s3", "nodeC", 0, 10 * S, 100);
    sc_dcnode *b = get("s1", 1);
    assert_non_null(b);
    assert_string_equal(b->id, "nodeB");
    assert_string_equal(b->ch, "P:node:nodeB");
    assert_int_equal(b->chlen, strlen("P:node:nodeB"));
    assert_int_equal(b->out, -1);
    assert_ptr_equal(get("s2", 1), b); /* one record per node */
    assert_string_equal(get("s3", 1)->id, "nodeC");
    assert_int_equal(sc_dircache_count(&dc), 3);
    assert_int_equal(sc_stat.dircache_filled, 3);
    /* refreshed: moved to another node */
    put("s1", "nodeC", 2, 10 * S, 100);
    assert_string_equal(get("s1", 3)->id, "nodeC");
    assert_int_equal(sc_dircache_count(&dc), 3);
    /* ttl or size 0: the cache is off, nothing is kept */
    put("s9", "nodeB", 0, 0, 100);
    put("s9", "nodeB", 0, 10 * S, 0);
    assert_null(get("s9", 1));
}

static void test_expiry(void **state)
{
    put("s1", "nodeB", 0, 10 * S, 100);
    put("s2", "nodeB", 5 * S, 10 * S, 100);
    assert_non_null(get("s1", 10 * S - 1));
    assert_null(get("s1", 10 * S)); /* dropped when met */
    assert_int_equal(sc_stat.dircache_expired, 1);
    assert_int_equal(sc_dircache_count(&dc), 1);
    /* the sweep drops from the oldest end, bounded */
    put("s3", "nodeB", 6 * S, 10 * S, 100);
    assert_int_equal(sc_dircache_expire(&dc, 15 * S, 100), 1); /* s2 only */
    assert_int_equal(sc_dircache_expire(&dc, 20 * S, 0), 0);
    assert_int_equal(sc_dircache_expire(&dc, 20 * S, 100), 1);
    assert_int_equal(sc_dircache_count(&dc), 0);
    assert_int_equal(sc_stat.dircache_expired, 3);
    /* a refresh restarts the clock */
    put("s4", "nodeB", 0, 10 * S, 100);
    put("s4", "nodeB", 8 * S, 10 * S, 100);
    assert_non_null(get("s4", 17 * S));
}

static void test_size_bound_evicts_oldest(void **state)
{
    char id[16];
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof(id), "s%d", i);
        put(id, "nodeB", (uint64_t)i, 10 * S, 4);
    }
    assert_int_equal(sc_dircache_count(&dc), 4);
    assert_int_equal(sc_stat.dircache_evictions, 6);
    assert_null(get("s5", 20));
    assert_non_null(get("s6", 20));
    assert_non_null(get("s9", 20));
    /* a smaller bound (a reload) applies at the next insertion */
    put("s10", "nodeB", 30, 10 * S, 2);
    assert_int_equal(sc_dircache_count(&dc), 2);
    assert_int_equal(sc_stat.dircache_evictions, 9);
}

static void test_node_leaves(void **state)
{
    put("s1", "nodeB", 0, 10 * S, 100);
    put("s2", "nodeC", 0, 10 * S, 100);
    char *live[] = {"self", "nodeC"};
    sc_dircache_set_live(&dc, live, 2);
    assert_null(get("s1", 1)); /* nodeB is gone */
    assert_int_equal(sc_stat.dircache_invalidated_node, 1);
    assert_non_null(get("s2", 1));
    /* a node that comes back gets a fresh record; old entries stay stale */
    put("s1", "nodeB", 2, 10 * S, 100);
    assert_string_equal(get("s1", 3)->id, "nodeB");
    assert_false(get("s1", 3)->gone);
    /* the sweep stops at a live head (s2); entries met later count as
     * invalidated by their node, not expired */
    put("s3", "nodeD", 4, 10 * S, 100);
    sc_dircache_set_live(&dc, live, 2); /* nodeB and nodeD gone */
    assert_int_equal(sc_dircache_expire(&dc, 5, 100), 0);
    assert_int_equal(sc_dircache_count(&dc), 3);
    assert_null(get("s3", 6));
    assert_null(get("s1", 6));
    assert_int_equal(sc_stat.dircache_invalidated_node, 3);
    assert_int_equal(sc_dircache_count(&dc), 1);
    /* a stale head is swept even before it expires */
    put("s4", "nodeD", 7, 10 * S, 100);
    sc_dircache_set_live(&dc, NULL, 0);
    assert_int_equal(sc_dircache_expire(&dc, 8, 100), 2);
    assert_int_equal(sc_stat.dircache_invalidated_node, 5);
    assert_int_equal(sc_stat.dircache_expired, 0);
}

static void test_unreachable_node(void **state)
{
    put("s1", "nodeB", 0, 10 * S, 100);
    put("s2", "nodeB", 0, 10 * S, 100);
    sc_dcnode *b = get("s1", 1);
    sc_dcnode_hold(b); /* a publish waiting for its reply */
    sc_dircache_node_unreachable(&dc, b);
    assert_null(get("s1", 2));
    assert_null(get("s2", 2));
    assert_int_equal(sc_stat.dircache_invalidated_node, 2);
    /* resolved again after that: usable */
    put("s1", "nodeB", 3, 10 * S, 100);
    assert_ptr_equal(get("s1", 4), b);
    sc_dcnode_release(b);
}

static void test_stale_notice(void **state)
{
    put("s1", "nodeB", 0, 10 * S, 100);
    /* from a node the entry does not point at: ignored */
    assert_false(sc_dircache_forget(&dc, "s1", 2, "nodeC", 5));
    assert_false(sc_dircache_forget(&dc, "nope", 4, "nodeB", 5));
    assert_non_null(get("s1", 1));
    assert_true(sc_dircache_forget(&dc, "s1", 2, "nodeB", 5));
    assert_null(get("s1", 1));
    assert_int_equal(sc_stat.dircache_invalidated_stale, 1);
    assert_int_equal(sc_stat.dircache_expired, 0);
}

static bool due_at(const char *id, uint64_t now)
{
    bool due = false;
    sc_dircache_get_due(&dc, id, strlen(id), now, &due);
    return due;
}

static void renew(const char *id, const char *node, uint64_t now)
{
    sc_dircache_renew(&dc, id, strlen(id), node, strlen(node), now, 10 * S);
}

/* An entry is due once past a quarter of its ttl, reported so once;
 * renewed by the directory's answer it lives a full ttl from then, and is
 * due again a quarter of that later; an answer naming another node drops
 * it; an answer for an entry dropped meanwhile adds nothing. */
static void test_due_and_renew(void **state)
{
    put("s1", "nodeB", 0, 10 * S, 100);
    put("s2", "nodeB", 1 * S, 10 * S, 100);
    assert_false(due_at("s1", 2 * S));
    assert_true(due_at("s1", 5 * S / 2));
    assert_false(due_at("s1", 6 * S)); /* reported once */
    renew("s1", "nodeB", 7 * S);
    assert_int_equal(sc_stat.dircache_renewed, 1);
    assert_non_null(get("s1", 16 * S)); /* would have expired at 10 s */
    assert_false(due_at("s1", 9 * S));
    assert_true(due_at("s1", 10 * S));
    /* s2, filled before s1's renewal, is the oldest now: expiry order */
    assert_int_equal(sc_dircache_expire(&dc, 11 * S, 100), 1);
    assert_null(get("s2", 11 * S));
    assert_non_null(get("s1", 11 * S));

    renew("s1", "nodeC", 13 * S); /* moved */
    assert_null(get("s1", 13 * S));
    assert_int_equal(sc_stat.dircache_refresh_dropped, 1);
    put("s3", "nodeB", 13 * S, 10 * S, 100);
    assert_true(sc_dircache_forget(&dc, "s3", 2, "nodeB", 5)); /* a Stale notice */
    renew("s3", "nodeB", 15 * S); /* answered before it: stays dropped */
    assert_null(get("s3", 15 * S));
    assert_int_equal(sc_dircache_count(&dc), 0);

    put("s4", "nodeB", 20 * S, 10 * S, 100); /* a fill makes it due again */
    assert_true(due_at("s4", 25 * S));
    put("s4", "nodeB", 26 * S, 10 * S, 100);
    assert_false(due_at("s4", 28 * S));
    assert_true(due_at("s4", 29 * S));
    sc_dircache_set_live(&dc, NULL, 0); /* its node left: a stale entry is not renewed */
    renew("s4", "nodeB", 32 * S);
    assert_int_equal(sc_stat.dircache_renewed, 1);
    assert_int_equal(sc_dircache_count(&dc), 0);
}

/* A held record outlives its node leaving, the entries and the cache. */
static void test_held_record_outlives_cache(void **state)
{
    put("s1", "nodeB", 0, 10 * S, 100);
    sc_dcnode *b = get("s1", 1);
    sc_dcnode_hold(b);
    sc_dircache_set_live(&dc, NULL, 0);
    assert_true(b->gone);
    sc_dircache_clear(&dc);
    assert_int_equal(sc_dircache_count(&dc), 0);
    sc_dircache_free(&dc);
    assert_string_equal(b->id, "nodeB"); /* still valid: ASan would object */
    sc_dcnode_release(b);
    sc_dircache_init(&dc, "P:node:"); /* for teardown */
}

/* Random operations against an exact model: presence, node, expiry and
 * the insertion stamp the size bound evicts by (oldest first). */
enum { IDS = 64, NODES = 4, MAX = 24 };

typedef struct model_entry {
    bool present;
    int node;
    uint64_t exp, stamp;
} model_entry;

static void model_evict_oldest(model_entry *m)
{
    int old = -1;
    for (int k = 0; k < IDS; k++)
        if (m[k].present && (old < 0 || m[k].stamp < m[old].stamp))
            old = k;
    m[old].present = false;
}

static void test_randomized_against_model(void **state)
{
    static const char *nodes[NODES] = {"n0", "n1", "n2", "n3"};
    model_entry m[IDS] = {{0}};
    uint64_t seed = 42, now = 0;
    unsigned count = 0;
    char id[8];
    for (uint64_t step = 1; step <= 20000; step++) {
        now += unit_below(&seed, 3);
        int i = (int)unit_below(&seed, IDS), n = (int)unit_below(&seed, NODES);
        snprintf(id, sizeof(id), "s%d", i);
        switch (unit_below(&seed, 4)) {
        case 0:
        case 1: {
            sc_dcnode *got = get(id, now);
            if (m[i].present && now < m[i].exp) {
                assert_non_null(got);
                assert_string_equal(got->id, nodes[m[i].node]);
            } else {
                assert_null(got);
                count -= m[i].present;
                m[i].present = false; /* an expired entry is dropped when met */
            }
            break;
        }
        case 2:
            put(id, nodes[n], now, 50, MAX);
            if (!m[i].present) {
                while (count >= MAX) {
                    model_evict_oldest(m);
                    count--;
                }
                count++;
            }
            m[i] = (model_entry){true, n, now + 50, step};
            break;
        case 3: {
            bool hit = m[i].present && m[i].node == n;
            assert_int_equal(sc_dircache_forget(&dc, id, strlen(id), nodes[n], 2), hit);
            if (hit) {
                m[i].present = false;
                count--;
            }
            break;
        }
        }
        assert_int_equal(sc_dircache_count(&dc), count);
    }
    assert_true(sc_stat.dircache_evictions > 0 && sc_stat.dircache_expired > 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_put_get_channel, setup, teardown),
    cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
    cmocka_unit_test_setup_teardown(test_size_bound_evicts_oldest, setup, teardown),
    cmocka_unit_test_setup_teardown(test_node_leaves, setup, teardown),
    cmocka_unit_test_setup_teardown(test_unreachable_node, setup, teardown),
    cmocka_unit_test_setup_teardown(test_stale_notice, setup, teardown),
    cmocka_unit_test_setup_teardown(test_due_and_renew, setup, teardown),
    cmocka_unit_test_setup_teardown(test_held_record_outlives_cache, setup, teardown),
    cmocka_unit_test_setup_teardown(test_randomized_against_model, setup, teardown),
};

UNIT_MAIN(tests)
