/* Unit tests for broker/quietset.c: the private rooms' channels a node
 * found without subscribers. A mark holds under its epoch only, until its
 * expiry if it has one; it survives everything else (that is why it is not
 * kept in the directory cache); a subscriber found under the same epoch
 * drops it; the size bound evicts the oldest (counted); the sweep drops
 * old epochs and expired marks from the old end; and a randomized run
 * against a plain model. */
#include "unit.h"

#include "quietset.h"
#include "stats.h"
#include "table.h"

#define S 1000000ull /* one second in us */

static sc_quietset qs;

static int setup(void **state)
{
    sc_hash_init();
    memset(&sc_stat, 0, sizeof(sc_stat));
    sc_quietset_init(&qs);
    return 0;
}

static int teardown(void **state)
{
    sc_quietset_free(&qs);
    return 0;
}

static bool has(const char *id, uint32_t epoch, uint64_t now)
{
    return sc_quietset_has(&qs, id, strlen(id), epoch, now);
}

static void put(const char *id, uint32_t epoch, uint64_t expires, uint64_t max)
{
    sc_quietset_put(&qs, id, strlen(id), epoch, expires, max);
}

static void test_epoch_and_expiry(void **state)
{
    (void)state;
    assert_false(has("s1", 1, 0));
    put("s1", 1, 0, 100); /* no expiry */
    put("s2", 1, 10 * S, 100);
    assert_true(has("s1", 1, 1000 * S));
    assert_true(has("s2", 1, 9 * S));
    assert_false(has("s2", 1, 10 * S)); /* expired: dropped */
    assert_int_equal(sc_quietset_count(&qs), 1);
    assert_false(has("s1", 2, 0)); /* the epoch moved: dropped */
    assert_int_equal(sc_quietset_count(&qs), 0);
    put("s1", 2, 0, 100);
    put("s1", 3, 0, 100); /* replaced, not doubled */
    assert_int_equal(sc_quietset_count(&qs), 1);
    assert_true(has("s1", 3, 0));
    put("s1", 0, 0, 0); /* max 0: nothing stored, nothing changed */
    assert_true(has("s1", 3, 0));
}

static void test_del_only_same_epoch(void **state)
{
    (void)state;
    put("s1", 4, 0, 100);
    sc_quietset_del(&qs, "s1", 2, 3); /* a reply to a publish of an older epoch */
    assert_true(has("s1", 4, 0));
    sc_quietset_del(&qs, "s1", 2, 4);
    assert_false(has("s1", 4, 0));
    sc_quietset_del(&qs, "s9", 2, 4); /* none: nothing happens */
    assert_int_equal(sc_quietset_count(&qs), 0);
}

static void test_size_bound_evicts_oldest(void **state)
{
    (void)state;
    put("a", 1, 0, 3);
    put("b", 1, 0, 3);
    put("c", 1, 0, 3);
    put("a", 1, 0, 3); /* set again: now the newest */
    put("d", 1, 0, 3); /* evicts b */
    assert_int_equal(sc_stat.private_rooms_quiet_evicted, 1);
    assert_int_equal(sc_quietset_count(&qs), 3);
    assert_false(has("b", 1, 0));
    assert_true(has("a", 1, 0) && has("c", 1, 0) && has("d", 1, 0));
}

static void test_sweep(void **state)
{
    (void)state;
    put("a", 1, 0, 100);
    put("b", 1, 0, 100);
    put("c", 2, 5 * S, 100);
    put("d", 2, 0, 100);
    assert_int_equal(sc_quietset_expire(&qs, 2, 0, 1), 1); /* bounded */
    assert_int_equal(sc_quietset_expire(&qs, 2, 0, 100), 1);
    assert_int_equal(sc_quietset_count(&qs), 2);
    assert_int_equal(sc_quietset_expire(&qs, 2, 4 * S, 100), 0);
    assert_int_equal(sc_quietset_expire(&qs, 2, 5 * S, 100), 1); /* c expired */
    assert_true(has("d", 2, 5 * S));
    sc_quietset_clear(&qs);
    assert_int_equal(sc_quietset_count(&qs), 0);
    assert_false(has("d", 2, 0));
}

#define IDS 40

/* A mark as the set keeps it: stored until dropped, whether it still
 * holds or not; stamp is the order marks were set in. */
typedef struct model {
    bool stored;
    uint32_t epoch;
    uint64_t expires, stamp;
} model;

static bool model_holds(const model *m, uint32_t epoch, uint64_t now)
{
    return m->stored && m->epoch == epoch && (!m->expires || now < m->expires);
}

/* The stored mark set longest ago, or -1. */
static int model_oldest(const model *m)
{
    int old = -1;
    for (int k = 0; k < IDS; k++)
        if (m[k].stored && (old < 0 || m[k].stamp < m[old].stamp))
            old = k;
    return old;
}

static uint32_t model_count(const model *m)
{
    uint32_t n = 0;
    for (int k = 0; k < IDS; k++)
        n += m[k].stored;
    return n;
}

static void test_randomized_against_model(void **state)
{
    (void)state;
    model m[IDS] = {{0}};
    uint64_t seed = 7, now = 0, stamp = 0, evicted = 0;
    uint32_t epoch = 1;
    const uint64_t max = 16;
    char id[8];
    for (int step = 0; step < 20000; step++) {
        now += unit_below(&seed, 3) * S / 4;
        if (unit_below(&seed, 200) == 0)
            epoch++;
        uint32_t i = unit_below(&seed, IDS);
        snprintf(id, sizeof(id), "i%u", i);
        switch (unit_below(&seed, 4)) {
        case 0: { /* set, sometimes with an expiry */
            uint64_t exp = unit_below(&seed, 2) ? now + 5 * S : 0;
            put(id, epoch, exp, max);
            while (!m[i].stored && model_count(m) >= max) {
                m[model_oldest(m)].stored = false;
                evicted++;
            }
            m[i] = (model){true, epoch, exp, ++stamp};
            break;
        }
        case 1: { /* a mark met that no longer holds is dropped */
            bool holds = model_holds(&m[i], epoch, now);
            assert_int_equal(has(id, epoch, now), holds);
            m[i].stored = holds;
            break;
        }
        case 2:
            sc_quietset_del(&qs, id, strlen(id), epoch);
            if (m[i].stored && m[i].epoch == epoch)
                m[i].stored = false;
            break;
        default: { /* the sweep: from the oldest, while they no longer hold */
            size_t n = 0;
            int old;
            while (n < 4 && (old = model_oldest(m)) >= 0 && !model_holds(&m[old], epoch, now)) {
                m[old].stored = false;
                n++;
            }
            assert_int_equal(sc_quietset_expire(&qs, epoch, now, 4), n);
        }
        }
        assert_int_equal(sc_quietset_count(&qs), model_count(m));
        assert_int_equal(sc_stat.private_rooms_quiet_evicted, evicted);
    }
    assert_true(evicted > 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_epoch_and_expiry, setup, teardown),
    cmocka_unit_test_setup_teardown(test_del_only_same_epoch, setup, teardown),
    cmocka_unit_test_setup_teardown(test_size_bound_evicts_oldest, setup, teardown),
    cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
    cmocka_unit_test_setup_teardown(test_randomized_against_model, setup, teardown),
};

UNIT_MAIN(tests)
