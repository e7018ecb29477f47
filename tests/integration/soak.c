/* Soak: 100,000 registered sockets over 3 sidecastd nodes on one Redis,
 * sustained room emits from every node for SIDECAST_SOAK_SECONDS (default
 * 60) at SIDECAST_SOAK_RATE emits/s (default 2000; each reaches 6 apps),
 * each daemon's RSS and fd count sampled every few seconds.
 *
 * Passes when:
 *   - every Deliver expected arrived exactly once, or was lost inside a Gap
 *     window its app was told about, or was counted as a drop by a sidecar;
 *   - each daemon's fd count never changes after the registration phase;
 *   - each daemon's RSS, from the first sample after the warm-up (a fifth
 *     of the run) to the last, grows by at most RSS_TOLERANCE_PCT percent
 *     plus RSS_TOLERANCE_KB: flat, not growing with the number of emits.
 *
 * The short form runs in CTest (label `soak`, normal build only); the long
 * form is the same binary: SIDECAST_SOAK_SECONDS=1800 ./build/tests/integration/soak
 * Every loop is bounded by count and by time. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NODES 3
#define APPS_PER_NODE 2
#define APPS (NODES * APPS_PER_NODE)
#define SOCKETS 100000
#define ROOMS 1000
#define RATE_DEFAULT 2000 /* emits per second, all emitters together */
#define BATCH 20
#define SAMPLE_MS 5000
#define MAX_SAMPLES 1024
#define MAX_GAPS 64
#define RSS_TOLERANCE_PCT 5
#define RSS_TOLERANCE_KB 2048

typedef struct receiver {
    uint8_t *seen; /* bit per emit sequence number */
    uint64_t frames, dupes;
    uint64_t gap_from[MAX_GAPS], gap_to[MAX_GAPS];
    unsigned gaps;
} receiver;

static uint64_t max_emits;
static uint64_t rate_per_s = RATE_DEFAULT;

/* Deliver frames are counted unresolved (on_delivery returns false): the
 * sidecar's work is the subject here, not the app's fan-out. */
static bool rx_delivery(void *ud, const sc_delivery *d)
{
    receiver *rx = ud;
    rx->frames++;
    unsigned long long seq;
    char buf[32];
    snprintf(buf, sizeof(buf), "%.*s", (int)(d->len < 31 ? d->len : 31), (const char *)d->payload);
    if (sscanf(buf, "m%llu", &seq) == 1 && seq < max_emits) {
        if (rx->seen[seq / 8] & (1u << (seq % 8)))
            rx->dupes++;
        rx->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
    }
    return false;
}

static void rx_gap(void *ud, uint64_t from, uint64_t to, const char *reason)
{
    receiver *rx = ud;
    if (rx->gaps < MAX_GAPS) {
        rx->gap_from[rx->gaps] = from;
        rx->gap_to[rx->gaps] = to;
    }
    rx->gaps++;
}

/* Sent at t within a reported window: from up to 3 s before it (two
 * canary intervals to notice), to its end. */
static bool in_gap(const receiver *rx, uint64_t t)
{
    for (unsigned i = 0; i < rx->gaps && i < MAX_GAPS; i++)
        if (t + 3000 >= rx->gap_from[i] && t <= rx->gap_to[i] + 50)
            return true;
    return false;
}

/* Dispatch what every receiver has waiting. */
static void drain(sc_client **apps, int n)
{
    for (int i = 0; i < n; i++)
        if (sc_client_poll(apps[i], 0) < 0)
            fail_msg("app %d lost its sidecar: %s", i, sc_client_last_error(apps[i]));
}

typedef struct sample {
    uint64_t t_ms;
    long rss[NODES];
    int fds[NODES];
} sample;

static void test_soak(void **state)
{
    const char *env = getenv("SIDECAST_SOAK_SECONDS");
    unsigned seconds = env && atoi(env) > 0 ? (unsigned)atoi(env) : 60;
    const char *rate = getenv("SIDECAST_SOAK_RATE");
    if (rate && atoi(rate) > 0)
        rate_per_s = (uint64_t)atoi(rate);
    max_emits = rate_per_s * seconds + 1000;
    redis_srv *r = redis_start();
    daemon_t *nodes[NODES];
    sc_client *emitters[NODES], *apps[APPS];
    static receiver rx[APPS];
    for (int n = 0; n < NODES; n++) {
        char name[16];
        snprintf(name, sizeof(name), "soak-%d", n);
        /* the harness' fast test timings, with production canary/timeouts */
        nodes[n] = node_start(r, name, "--redis-command-timeout-ms", "3000", "--node-ttl-ms",
                              "5000", NULL);
        emitters[n] = app_open(nodes[n], "emitter", NULL);
    }
    for (int a = 0; a < APPS; a++) {
        rx[a].seen = calloc(max_emits / 8 + 1, 1);
        sc_client_options o = {.path = nodes[a / APPS_PER_NODE]->sock,
                               .name = "receiver",
                               .timeout_ms = 30000,
                               .on_delivery = rx_delivery,
                               .on_gap = rx_gap,
                               .ud = &rx[a]};
        if (sc_client_open(&o, &apps[a]) < 0)
            fail_msg("open receiver %d: %s", a, sc_client_last_error(apps[a]));
    }
    assert_int_equal(wait_nodes(emitters[0], NODES, 10000), NODES);

    /* 100,000 sockets, each in one of 1,000 rooms, with session and user
     * ids: every room has members in every receiving app */
    uint64_t t0 = now_ms_h();
    char id[32], sid[32], uid[32], room[16];
    for (int i = 0; i < SOCKETS; i++) {
        snprintf(id, sizeof(id), "s%d", i);
        snprintf(sid, sizeof(sid), "sess%d", i);
        snprintf(uid, sizeof(uid), "u%d", i / 4);
        snprintf(room, sizeof(room), "r%d", (i / APPS) % ROOMS);
        const char *rooms[] = {room};
        assert_int_equal(sc_client_socket_up(apps[i % APPS], id, sid, uid, NULL, 0, rooms, 1), 0);
    }
    for (int a = 0; a < APPS; a++)
        assert_int_equal(sc_client_sync(apps[a], 30000), 0);
    uint64_t total_sockets = 0;
    for (int n = 0; n < NODES; n++)
        total_sockets += stat_of(emitters[n], "sockets");
    assert_int_equal(total_sockets, SOCKETS);
    printf("registered %d sockets in %d rooms over %d nodes in %llu ms\n", SOCKETS, ROOMS, NODES,
           (unsigned long long)(now_ms_h() - t0));

    /* sustained emits, paced to rate_per_s; samples every SAMPLE_MS */
    static sample samples[MAX_SAMPLES];
    unsigned nsamples = 0;
    uint32_t *sent_at = calloc(max_emits, sizeof(uint32_t));
    uint64_t sent = 0, start = now_ms_h(), wall0 = wall_ms_h(), next_sample = start;
    uint64_t end = start + (uint64_t)seconds * 1000u;
    while (now_ms_h() < end && sent + BATCH <= max_emits) {
        uint64_t now = now_ms_h();
        if (now >= next_sample && nsamples < MAX_SAMPLES) {
            samples[nsamples].t_ms = now - start;
            for (int n = 0; n < NODES; n++) {
                samples[nsamples].rss[n] = proc_rss_kb_h(nodes[n]->pid);
                samples[nsamples].fds[n] = proc_fds_h(nodes[n]->pid);
            }
            nsamples++;
            next_sample += SAMPLE_MS;
        }
        uint64_t due = (now - start) * rate_per_s / 1000u;
        if (sent >= due) {
            drain(apps, APPS);
            usleep(1000);
            continue;
        }
        sc_client *e = emitters[(sent / BATCH) % NODES];
        for (int k = 0; k < BATCH; k++, sent++) {
            char p[32];
            snprintf(p, sizeof(p), "m%llu", (unsigned long long)sent);
            snprintf(room, sizeof(room), "r%llu", (unsigned long long)((sent * 7919u) % ROOMS));
            const char *rooms[] = {room};
            sc_target t = {.rooms = rooms, .n_rooms = 1};
            sent_at[sent] = (uint32_t)(wall_ms_h() - wall0);
            assert_int_equal(sc_client_emit(e, &t, NULL, (const uint8_t *)p, strlen(p)), 0);
        }
        assert_true(sc_client_flush(e) >= 0);
        drain(apps, APPS);
    }
    for (int n = 0; n < NODES; n++)
        assert_int_equal(sc_client_sync(emitters[n], 30000), 0);
    /* let the last deliveries arrive: bounded by count and time */
    uint64_t want = sent * APPS, got = 0, settle = now_ms_h() + 30000;
    do {
        got = 0;
        for (int a = 0; a < APPS; a++) {
            sc_client_poll(apps[a], 5);
            got += rx[a].frames;
        }
    } while (got < want && now_ms_h() < settle);
    for (int a = 0; a < APPS; a++) /* and nothing more than that */
        sc_client_poll(apps[a], 50);

    /* the books: each emit reaches each of the APPS receivers once, or is
     * lost in a gap its app heard of, or is counted by a sidecar */
    uint64_t delivered = 0, in_gaps = 0, unexplained = 0, dupes = 0, counted = 0, gaps = 0;
    for (int a = 0; a < APPS; a++) {
        dupes += rx[a].dupes;
        gaps += rx[a].gaps;
        for (uint64_t s = 0; s < sent; s++) {
            if (rx[a].seen[s / 8] & (1u << (s % 8)))
                delivered++;
            else if (in_gap(&rx[a], wall0 + sent_at[s]))
                in_gaps++;
            else
                unexplained++;
        }
    }
    for (int n = 0; n < NODES; n++)
        counted += stat_of(emitters[n], "drops_volatile_slow_reader") +
                   stat_of(emitters[n], "outbox_dropped_volatile") +
                   stat_of(emitters[n], "outbox_dropped_full") +
                   stat_of(emitters[n], "redis_commands_lost");
    for (int n = 0; n < NODES; n++) {
        assert_int_equal(stat_of(emitters[n], "disconnects_slow_reader"), 0);
        assert_int_equal(stat_of(emitters[n], "outbox_messages"), 0);
    }
    assert_int_equal(dupes, 0);
    assert_true(unexplained <= counted);
    assert_int_equal(delivered + in_gaps + unexplained, want);

    /* flat: fds constant, RSS within the tolerance after the warm-up */
    assert_true(nsamples >= 2);
    unsigned warm = nsamples / 5;
    long worst_pct10 = 0;
    for (int n = 0; n < NODES; n++) {
        long base = samples[warm].rss[n], top = base;
        for (unsigned i = warm; i < nsamples; i++) {
            assert_int_equal(samples[i].fds[n], samples[0].fds[n]);
            if (samples[i].rss[n] > top)
                top = samples[i].rss[n];
        }
        long last = samples[nsamples - 1].rss[n];
        long limit = base + base * RSS_TOLERANCE_PCT / 100 + RSS_TOLERANCE_KB;
        if (last > limit)
            fail_msg("node %d RSS grew from %ld kB to %ld kB (limit %ld kB)", n, base, last, limit);
        long pct10 = base ? (last - base) * 1000 / base : 0;
        if (labs(pct10) > labs(worst_pct10))
            worst_pct10 = pct10;
        printf("node %d: RSS %ld kB after warm-up, %ld kB at the end (peak %ld kB), fds %d "
               "constant\n",
               n, base, last, top, samples[0].fds[n]);
    }
    printf("figures: soak %u s: %d sockets over %d nodes, %llu emits (%llu/s), %llu deliveries "
           "expected, %llu delivered, %llu lost in %llu gap(s), %llu counted drops, %llu "
           "duplicates; RSS drift after warm-up at most %+ld.%ld%%, fds constant\n",
           seconds, SOCKETS, NODES, (unsigned long long)sent,
           (unsigned long long)(sent * 1000 / (now_ms_h() - start ? now_ms_h() - start : 1)),
           (unsigned long long)want, (unsigned long long)delivered, (unsigned long long)in_gaps,
           (unsigned long long)gaps, (unsigned long long)counted, (unsigned long long)dupes,
           worst_pct10 / 10, labs(worst_pct10) % 10);

    for (int a = 0; a < APPS; a++) {
        sc_client_close(apps[a]);
        free(rx[a].seen);
    }
    for (int n = 0; n < NODES; n++)
        sc_client_close(emitters[n]);
    for (int n = 0; n < NODES; n++)
        daemon_free(nodes[n]);
    free(sent_at);
    redis_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_soak)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
