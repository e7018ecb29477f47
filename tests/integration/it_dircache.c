/* Integration: the directory cache of targeted emits, on three real
 * sidecastd nodes and a real redis-server (a fresh cluster per test).
 *
 * Node A emits to sockets on B and C. A targeted emit to a socket A's cache
 * knows is published straight to the node's channel (Redis INFO
 * commandstats: no EVALSHA, PUBLISHes instead); one it does not know goes
 * through the directory script, whose answer fills the cache. Tests:
 *   - cached emits skip the script, and the counters say so (stats and
 *     /metrics);
 *   - a pipelined burst mixing cached and uncached targets reaches every
 *     socket once, in order (receivers' seq de-duplication loses none);
 *   - a socket re-registered on another node (connection state recovery):
 *     the emits the old node got are counted there as stale, its notice
 *     makes A forget the entry, everything after reaches the new node;
 *   - a notice carries at most 256 ids, the rest is counted as not reported;
 *   - a node SIGKILLed: a publish nobody receives is counted and drops the
 *     node's entries, and once it is reaped nothing goes to its channel;
 *   - entries expire after dircache_ttl_ms, the size bound evicts, and a
 *     SIGHUP setting dircache_ttl_ms to 0 turns the cache off and empties it.
 * Every loss is accounted: delivered + counted == sent. */
#include "harness.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#define LIST(...)                                                                                  \
    (const char *const[]){__VA_ARGS__}, sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *)

/* What one app received: per socket, how many and whether in order (the
 * payload is the emit's sequence number). */
#define RX_MAX 512
typedef struct rx {
    char ids[RX_MAX][32];
    unsigned count[RX_MAX];
    unsigned long last[RX_MAX];
    unsigned n, out_of_order, server_msgs;
} rx;

static void rx_deliver(void *ud, const char *socket_id, const uint8_t *p, size_t len)
{
    rx *r = ud;
    char buf[32];
    snprintf(buf, sizeof(buf), "%.*s", (int)len, (const char *)p);
    unsigned long seq = strtoul(buf, NULL, 10);
    unsigned i = 0;
    while (i < r->n && strcmp(r->ids[i], socket_id) != 0)
        i++;
    if (i == r->n) {
        assert_true(r->n < RX_MAX);
        snprintf(r->ids[r->n++], sizeof(r->ids[0]), "%s", socket_id);
    }
    if (r->count[i]++ && seq <= r->last[i])
        r->out_of_order++;
    r->last[i] = seq;
}

static void rx_server_message(void *ud, const uint8_t *p, size_t len, uint64_t ack_id,
                              const char *origin)
{
    ((rx *)ud)->server_msgs++;
}

static unsigned rx_count(const rx *r, const char *id)
{
    for (unsigned i = 0; i < r->n; i++)
        if (strcmp(r->ids[i], id) == 0)
            return r->count[i];
    return 0;
}

static sc_client *rx_open(daemon_t *d, const char *name, rx *r)
{
    memset(r, 0, sizeof(*r));
    sc_client_options o = {.path = d->sock,
                           .name = name,
                           .timeout_ms = 10000,
                           .on_deliver = rx_deliver,
                           .on_server_message = rx_server_message,
                           .ud = r};
    sc_client *c;
    if (sc_client_open(&o, &c) < 0)
        fail_msg("app %s: %s", name, sc_client_last_error(c));
    return c;
}

typedef struct world {
    redis_srv *redis;
    daemon_t *na, *nb, *nc;
    sc_client *a, *b, *c;
    rx rb, rc;
    unsigned long seq;   /* payload of the next emit */
    uint64_t refreshes0; /* A's dircache_refreshes at reset_redis_stats */
} world;

static char *hget_socket(world *w, const char *id)
{
    return directory_node_of(w->redis, id);
}

/* A node's directory write trails its app's sync a little (it is sent at
 * the end of the node's loop iteration): wait until Redis has `id` on the
 * node `node_id`. */
static void wait_directory(world *w, const char *id, const char *node_id)
{
    char *owner = NULL;
    for (uint64_t end = now_ms_h() + 5000; now_ms_h() < end; usleep(2000)) {
        free(owner);
        owner = hget_socket(w, id);
        if (strcmp(owner, node_id) == 0)
            break;
    }
    assert_string_equal(owner, node_id);
    free(owner);
}

/* Nodes without canaries (this file counts PUBLISH calls) and with a
 * slower heartbeat than the harness' (its script calls are bounded in the
 * EVALSHA counts below; a node slowed down by valgrind is not reaped), A
 * with `a_flag` `a_value` (or none). Sockets b1, b2 on B and c1, c2 on C. */
#define HEARTBEAT_MS 1000
#define NODE_FLAGS "--canary-interval-ms", "0", "--heartbeat-ms", "1000", "--node-ttl-ms", "3000"

static world *world_start(const char *a_flag, const char *a_value)
{
    world *w = calloc(1, sizeof(*w));
    w->redis = redis_start();
    w->na = node_start(w->redis, "node-a", NODE_FLAGS, a_flag, a_value, NULL);
    w->nb = node_start(w->redis, "node-b", NODE_FLAGS, NULL);
    w->nc = node_start(w->redis, "node-c", NODE_FLAGS, NULL);
    w->a = app_open(w->na, "app-a", NULL);
    w->b = rx_open(w->nb, "app-b", &w->rb);
    w->c = rx_open(w->nc, "app-c", &w->rc);
    assert_int_equal(sc_client_socket_up(w->b, "b1", "", "", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_socket_up(w->b, "b2", "", "", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_socket_up(w->c, "c1", "", "", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_socket_up(w->c, "c2", "", "", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_sync(w->b, 0), 0);
    assert_int_equal(sc_client_sync(w->c, 0), 0);
    assert_int_equal(wait_nodes(w->a, 3, 5000), 3);
    assert_int_equal(wait_nodes(w->b, 3, 5000), 3);
    assert_int_equal(wait_nodes(w->c, 3, 5000), 3);
    wait_directory(w, "b2", sc_client_node_id(w->b));
    wait_directory(w, "c2", sc_client_node_id(w->c));
    return w;
}

static void world_free(world *w)
{
    sc_client_close(w->a);
    sc_client_close(w->b);
    sc_client_close(w->c);
    daemon_free(w->na);
    if (w->nb)
        daemon_free(w->nb);
    if (w->nc)
        daemon_free(w->nc);
    redis_free(w->redis);
    free(w);
}

static void settle(world *w, int ms)
{
    uint64_t end = now_ms_h() + (uint64_t)ms;
    while (now_ms_h() < end) {
        sc_client_poll(w->b, 2);
        if (w->c)
            sc_client_poll(w->c, 2);
    }
}

/* A server-side emit from A travels after everything A published before it
 * (one publish connection; one subscription per receiver): once B and C
 * (those still running) have it, they have everything. */
static void barrier(world *w)
{
    unsigned b0 = w->rb.server_msgs, c0 = w->rc.server_msgs;
    assert_int_equal(
        sc_client_server_emit(w->a, (const uint8_t *)"barrier", 7, false, NULL, NULL, 0), 0);
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    uint64_t end = now_ms_h() + 20000;
    while (now_ms_h() < end && (w->rb.server_msgs == b0 || (w->c && w->rc.server_msgs == c0)))
        settle(w, 5);
    assert_true(w->rb.server_msgs > b0);
    assert_true(!w->c || w->rc.server_msgs > c0);
}

static void emit_ids(world *w, const char *const *ids, size_t n)
{
    char p[32];
    int len = snprintf(p, sizeof(p), "%lu", ++w->seq);
    sc_target t = {.socket_ids = ids, .n_socket_ids = n};
    assert_int_equal(sc_client_emit(w->a, &t, NULL, (const uint8_t *)p, (size_t)len), 0);
}

static void emit1(world *w, const char *id)
{
    emit_ids(w, &id, 1);
}

/* Wait (bounded) until A's counter `name` reaches at least v. */
static uint64_t wait_stat(sc_client *c, const char *name, uint64_t v)
{
    uint64_t end = now_ms_h() + 10000, got;
    while ((got = stat_of(c, name)) < v && now_ms_h() < end)
        usleep(5000);
    return got;
}

/* Emit to id once and wait until the script's answer has filled A's cache. */
static void warm(world *w, const char *id)
{
    uint64_t f0 = stat_of(w->a, "dircache_filled");
    emit1(w, id);
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    assert_true(wait_stat(w->a, "dircache_filled", f0 + 1) > f0);
    barrier(w);
}

static void reset_redis_stats(world *w)
{
    redis_resetstat_all(w->redis);
    w->refreshes0 = stat_of(w->a, "dircache_refreshes");
}

/* Script calls (heartbeats, and the targeted script's); on a Redis
 * Cluster, where a miss reads the id's directory bucket (one HMGET each)
 * instead of running the script, those reads. */
static long scripts(world *w)
{
    if (rcluster_mode())
        return redis_calls_all(w->redis, "hmget");
    return redis_calls(w->redis, "evalsha") + redis_calls(w->redis, "eval");
}

/* Directory lookups Redis ran: HGETs. In these tests only the targeted-emit
 * script runs any (heartbeats do not; no socket goes down or is looked up
 * while they are counted), one per distinct socket id per call, besides
 * A's looking up again entries past a quarter of their ttl (a slow run may reach
 * that): those are left out. */
static long lookups(world *w)
{
    if (rcluster_mode())
        return redis_calls_all(w->redis, "hmget");
    return redis_calls(w->redis, "hget") - (long)(stat_of(w->a, "dircache_refreshes") - w->refreshes0);
}

/* ---- the cache is used --------------------------------------------------------- */

static void test_cached_emits_skip_the_script(void **state)
{
    world *w = world_start(NULL, NULL);
    reset_redis_stats(w);
    warm(w, "b1"); /* a miss: the script resolves it */
    assert_true(scripts(w) >= 1);
    assert_int_equal(lookups(w), 1);
    assert_int_equal(stat_of(w->a, "dircache_misses"), 1);
    assert_int_equal(stat_of(w->a, "dircache_entries"), 1);

    /* one at a time, each behind a barrier: through the script every one
     * would be its own EVALSHA; cached, none is (heartbeats aside) */
    enum { ONE_BY_ONE = 50, BURST = 200 };
    reset_redis_stats(w);
    uint64_t t0 = now_ms_h();
    for (int i = 0; i < ONE_BY_ONE; i++) {
        emit1(w, "b1");
        barrier(w);
    }
    long window_ms = (long)(now_ms_h() - t0);
    assert_int_equal(lookups(w), 0);
    assert_true(scripts(w) <= 3 * (window_ms / HEARTBEAT_MS + 2)); /* the nodes' heartbeats */
    assert_true(scripts(w) < ONE_BY_ONE);
    assert_int_equal(redis_calls(w->redis, publish_verb()), 2 * ONE_BY_ONE); /* emit + barrier */

    /* a pipelined burst: batched PUBLISHes to B's channel */
    reset_redis_stats(w);
    uint64_t h0 = stat_of(w->a, "dircache_hits"), m0 = stat_of(w->a, "dircache_misses");
    uint64_t p0 = stat_of(w->a, "redis_publishes");
    for (int i = 0; i < BURST; i++)
        emit1(w, "b1");
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    barrier(w);
    assert_int_equal(rx_count(&w->rb, "b1"), 1 + ONE_BY_ONE + BURST);
    assert_int_equal(w->rb.out_of_order, 0);
    assert_int_equal(stat_of(w->a, "dircache_hits") - h0, BURST);
    assert_int_equal(stat_of(w->a, "dircache_misses") - m0, 0);
    assert_int_equal(lookups(w), 0);
    long pubs = redis_calls(w->redis, publish_verb());
    assert_true(pubs >= 2 && pubs <= 1 + BURST);
    assert_int_equal(pubs, (long)(stat_of(w->a, "redis_publishes") - p0));

    /* /metrics exports the counters and the gauge */
    static char body[1 << 18];
    assert_int_equal(http_get(daemon_http_port(w->na), "/metrics", body, sizeof(body)), 200);
    assert_true(metric_value(body, "sidecast_dircache_hits_total") ==
                (double)stat_of(w->a, "dircache_hits"));
    assert_true(metric_value(body, "sidecast_dircache_misses_total") == 1.0);
    assert_true(metric_value(body, "sidecast_dircache_entries") == 1.0);
    assert_true(
        metric_value(body, "sidecast_messages_lost_total{reason=\"targeted_stale_route\"}") == 0.0);
    world_free(w);
}

/* A pipelined burst mixing cached targets (b1, c1; b1 with c1 in one emit)
 * with targets the cache has not seen (b2, c2 first, then sockets
 * registered just before the burst): cache-routed batches and script calls
 * interleave in each loop iteration, and every socket still gets each emit
 * once, in order, with nothing skipped as a duplicate. */
static void test_burst_mixing_cached_and_uncached_in_order(void **state)
{
    world *w = world_start(NULL, NULL);
    warm(w, "b1");
    warm(w, "c1");
    char fresh[40][8];
    for (int i = 0; i < 40; i++) {
        snprintf(fresh[i], sizeof(fresh[i]), "%c%d", i % 2 ? 'y' : 'x', i);
        sc_client *owner = i % 2 ? w->c : w->b;
        assert_int_equal(sc_client_socket_up(owner, fresh[i], "", "", NULL, 0, NULL, 0), 0);
    }
    assert_int_equal(sc_client_sync(w->b, 0), 0);
    assert_int_equal(sc_client_sync(w->c, 0), 0);
    wait_directory(w, fresh[38], sc_client_node_id(w->b));
    wait_directory(w, fresh[39], sc_client_node_id(w->c));
    uint64_t d_b = stat_of(w->b, "cluster_duplicates_skipped");
    uint64_t d_c = stat_of(w->c, "cluster_duplicates_skipped");
    uint64_t h0 = stat_of(w->a, "dircache_hits"), m0 = stat_of(w->a, "dircache_misses");
    unsigned b1_0 = rx_count(&w->rb, "b1"), c1_0 = rx_count(&w->rc, "c1");
    reset_redis_stats(w);
    unsigned ids = 0;
    for (int round = 0; round < 40; round++) {
        emit1(w, "b1");
        emit1(w, fresh[round]);
        emit_ids(w, LIST("b1", "c1"));
        emit_ids(w, LIST("b2", "c2"));
        emit1(w, "c1");
        ids += 1 + 1 + 2 + 2 + 1;
    }
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    barrier(w);
    assert_int_equal(rx_count(&w->rb, "b1") - b1_0, 80);
    assert_int_equal(rx_count(&w->rc, "c1") - c1_0, 80);
    assert_int_equal(rx_count(&w->rb, "b2"), 40);
    assert_int_equal(rx_count(&w->rc, "c2"), 40);
    for (int i = 0; i < 40; i++)
        assert_int_equal(rx_count(i % 2 ? &w->rc : &w->rb, fresh[i]), 1);
    assert_int_equal(w->rb.out_of_order + w->rc.out_of_order, 0);
    assert_int_equal(stat_of(w->b, "cluster_duplicates_skipped"), d_b);
    assert_int_equal(stat_of(w->c, "cluster_duplicates_skipped"), d_c);
    /* every remote id counted once, both ways used */
    uint64_t hits = stat_of(w->a, "dircache_hits") - h0;
    uint64_t misses = stat_of(w->a, "dircache_misses") - m0;
    assert_int_equal(hits + misses, ids);
    assert_true(hits > 0 && misses >= 40);
    assert_true(lookups(w) >= 40 && redis_calls(w->redis, publish_verb()) >= 1);
    world_free(w);
}

/* ---- staleness ------------------------------------------------------------------ */

/* "mv" is cached as on B, goes down there and comes up on C (as a socket.io
 * socket does with connection state recovery). A burst to it right after:
 * what reached B is lost and counted there (dircache_stale_received); B's
 * notice makes A drop the entry (dircache_invalidated_stale), the script
 * then finds C, and every emit after that reaches C. */
static void test_socket_moves_to_another_node(void **state)
{
    world *w = world_start(NULL, NULL);
    assert_int_equal(sc_client_socket_up(w->b, "mv", "", "", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_sync(w->b, 0), 0);
    wait_directory(w, "mv", sc_client_node_id(w->b));
    warm(w, "mv");
    assert_int_equal(rx_count(&w->rb, "mv"), 1);
    assert_int_equal(sc_client_socket_down(w->b, "mv"), 0);
    assert_int_equal(sc_client_sync(w->b, 0), 0);
    assert_int_equal(sc_client_socket_up(w->c, "mv", "", "", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_sync(w->c, 0), 0);
    wait_directory(w, "mv", sc_client_node_id(w->c)); /* the directory says C now */

    const unsigned burst = 100, after = 50;
    uint64_t s0 = stat_of(w->b, "dircache_stale_received");
    uint64_t i0 = stat_of(w->a, "dircache_invalidated_stale");
    for (unsigned i = 0; i < burst; i++)
        emit1(w, "mv");
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    barrier(w);
    /* at least the first went to B; its notice reaches A */
    assert_true(wait_stat(w->a, "dircache_invalidated_stale", i0 + 1) == i0 + 1);
    uint64_t stale = stat_of(w->b, "dircache_stale_received") - s0;
    assert_true(stale >= 1);
    assert_true(stat_of(w->b, "dircache_notices_sent") >= 1);
    assert_true(stat_of(w->a, "dircache_notices_received") >= 1);
    assert_int_equal(rx_count(&w->rb, "mv"), 1); /* nothing after the move */
    assert_int_equal(rx_count(&w->rc, "mv") + stale, burst);

    /* from now on: all of them reach C (a script call, then the cache) */
    for (unsigned i = 0; i < after; i++)
        emit1(w, "mv");
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    barrier(w);
    assert_int_equal(stat_of(w->b, "dircache_stale_received") - s0, stale);
    assert_int_equal(rx_count(&w->rc, "mv") + stale, burst + after);
    assert_int_equal(w->rc.out_of_order, 0);
    printf("figures: socket moved B -> C, burst of %u: %llu lost (counted stale on B), %u "
           "reached C\n",
           burst, (unsigned long long)stale, rx_count(&w->rc, "mv"));
    world_free(w);
}

/* 300 sockets cached as on B all go down; one emit names them all. B
 * counts 300 stale routes but a notice carries at most 256 ids: A drops
 * those 256 entries, the other 44 are counted as not reported (they wait
 * for the next stale emit or the ttl). */
static void test_notice_is_bounded(void **state)
{
    enum { N = 300, NOTICE_MAX = 256 };
    world *w = world_start(NULL, NULL);
    static char ids[N][8];
    const char *list[N];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof(ids[i]), "m%d", i);
        list[i] = ids[i];
        assert_int_equal(sc_client_socket_up(w->b, ids[i], "", "", NULL, 0, NULL, 0), 0);
    }
    assert_int_equal(sc_client_sync(w->b, 0), 0);
    wait_directory(w, ids[N - 1], sc_client_node_id(w->b));
    uint64_t f0 = stat_of(w->a, "dircache_filled");
    emit_ids(w, list, N);
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    assert_int_equal(wait_stat(w->a, "dircache_filled", f0 + N), f0 + N);
    barrier(w);
    for (int i = 0; i < N; i++)
        assert_int_equal(sc_client_socket_down(w->b, ids[i]), 0);
    assert_int_equal(sc_client_sync(w->b, 0), 0);

    uint64_t h0 = stat_of(w->a, "dircache_hits");
    emit_ids(w, list, N); /* all cached: straight to B, which holds none */
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    barrier(w);
    assert_int_equal(stat_of(w->a, "dircache_hits") - h0, N);
    assert_int_equal(stat_of(w->b, "dircache_stale_received"), N);
    assert_int_equal(stat_of(w->b, "dircache_notices_sent"), 1);
    assert_int_equal(stat_of(w->b, "dircache_notices_suppressed"), N - NOTICE_MAX);
    assert_int_equal(wait_stat(w->a, "dircache_invalidated_stale", NOTICE_MAX), NOTICE_MAX);
    assert_int_equal(stat_of(w->a, "dircache_notices_received"), 1);
    assert_int_equal(stat_of(w->a, "dircache_entries"), N - NOTICE_MAX);
    assert_int_equal(rx_count(&w->rb, ids[0]), 1); /* the warm-up only */
    world_free(w);
}

/* C is SIGKILLed while A caches c1 and c2 on it. Before the reap: a publish
 * to C reaches nobody, which is counted and drops C's entries. After the
 * reap: no emit to C's sockets publishes anything (C's directory entries
 * are gone, and so are A's). */
static void test_node_killed_and_reaped(void **state)
{
    world *w = world_start(NULL, NULL);
    warm(w, "c1");
    warm(w, "c2");
    assert_int_equal(stat_of(w->a, "dircache_entries"), 2);
    char channel[160];
    snprintf(channel, sizeof(channel),
             rcluster_mode() ? "PUBSUB SHARDNUMSUB {sidecast}:node:%s"
                             : "PUBSUB NUMSUB sidecast:node:%s",
             sc_client_node_id(w->c));
    sc_client_close(w->c);
    w->c = NULL;
    daemon_kill(w->nc);
    daemon_free(w->nc);
    w->nc = NULL;
    /* Redis has seen C's subscription close */
    char *out = NULL;
    for (uint64_t end = now_ms_h() + 5000; now_ms_h() < end; usleep(5000)) {
        free(out);
        out = redis_cli(w->redis, channel);
        if (strstr(out, "\n0"))
            break;
    }
    assert_non_null(strstr(out, "\n0"));
    free(out);

    uint64_t u0 = stat_of(w->a, "dircache_unreceived");
    uint64_t n0 = stat_of(w->a, "dircache_invalidated_node");
    emit1(w, "c1"); /* cached: straight to C's channel, nobody there */
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    assert_int_equal(wait_stat(w->a, "dircache_unreceived", u0 + 1), u0 + 1);

    /* reaped: A's node list drops C */
    assert_int_equal(wait_nodes(w->a, 2, 20000), 2);
    reset_redis_stats(w);
    uint64_t m0 = stat_of(w->a, "dircache_misses");
    emit1(w, "c1");
    emit1(w, "c2");
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    barrier(w);
    assert_int_equal(stat_of(w->a, "dircache_misses") - m0, 2);
    assert_int_equal(stat_of(w->a, "dircache_invalidated_node") - n0, 2);
    assert_int_equal(stat_of(w->a, "dircache_entries"), 0);
    assert_int_equal(redis_calls(w->redis, publish_verb()), 1); /* the barrier only */
    assert_int_equal(stat_of(w->a, "dircache_unreceived"), u0 + 1);
    world_free(w);
}

/* ---- bounds and settings -------------------------------------------------------- */

static void test_entries_expire(void **state)
{
    world *w = world_start("--dircache-ttl-ms", "300");
    warm(w, "b1");
    uint64_t h0 = stat_of(w->a, "dircache_hits");
    emit1(w, "b1");
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    assert_int_equal(stat_of(w->a, "dircache_hits"), h0 + 1);
    uint64_t m0 = stat_of(w->a, "dircache_misses"), e0 = stat_of(w->a, "dircache_expired");
    /* the sweep (every 250 ms) drops the entry once it is past the ttl */
    for (uint64_t end = now_ms_h() + 5000;
         stat_of(w->a, "dircache_expired") == e0 && now_ms_h() < end;)
        usleep(20000);
    reset_redis_stats(w);
    emit1(w, "b1"); /* expired: the script again */
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    barrier(w);
    assert_int_equal(stat_of(w->a, "dircache_misses"), m0 + 1);
    /* dropped by the sweep or by this lookup (the refreshed one may expire
     * too by now, under valgrind) */
    assert_true(stat_of(w->a, "dircache_expired") >= e0 + 1);
    assert_int_equal(lookups(w), 1);
    assert_int_equal(rx_count(&w->rb, "b1"), 3);
    /* without emits, the sweep empties the cache */
    for (uint64_t end = now_ms_h() + 5000;
         stat_of(w->a, "dircache_entries") != 0 && now_ms_h() < end;)
        usleep(20000);
    assert_int_equal(stat_of(w->a, "dircache_entries"), 0);
    world_free(w);
}

/* An entry in use does not expire: an emit that finds it past a quarter of
 * its ttl (4 s here) has it looked up again with a plain HGET, and the
 * answer renews it, so an emit after its first expiry is still a hit and
 * no script runs. (The waits are on the clock because the ttl is: each
 * emit has about 2 s of slack either way.) */
static void test_entries_in_use_renewed(void **state)
{
    if (rcluster_mode()) { /* there the directory is in buckets: entries expire */
        skip();
        return;
    }
    world *w = world_start("--dircache-ttl-ms", "4000");
    reset_redis_stats(w);
    warm(w, "b1");
    uint64_t filled_ms = now_ms_h(); /* the entry is at least this old */
    uint64_t h0 = stat_of(w->a, "dircache_hits"), m0 = stat_of(w->a, "dircache_misses");
    while (now_ms_h() < filled_ms + 2000)
        usleep(20000);
    emit1(w, "b1"); /* due: routed by the cache, and looked up again */
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    assert_true(wait_stat(w->a, "dircache_renewed", 1) == 1);
    assert_int_equal(stat_of(w->a, "dircache_refreshes"), 1);
    while (now_ms_h() < filled_ms + 4300) /* past the first expiry, and a sweep */
        usleep(20000);
    assert_int_equal(stat_of(w->a, "dircache_expired"), 0);
    assert_int_equal(stat_of(w->a, "dircache_entries"), 1);
    emit1(w, "b1");
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    barrier(w);
    assert_int_equal(stat_of(w->a, "dircache_hits"), h0 + 2);
    assert_int_equal(stat_of(w->a, "dircache_misses"), m0);
    assert_int_equal(rx_count(&w->rb, "b1"), 3);
    assert_int_equal(lookups(w), 1); /* the first emit's script call */
    assert_int_equal(redis_calls(w->redis, "hget"), 1 + (long)stat_of(w->a, "dircache_refreshes"));
    world_free(w);
}

static void test_size_bound(void **state)
{
    world *w = world_start("--dircache-max-entries", "2");
    warm(w, "b1");
    warm(w, "b2");
    warm(w, "c1"); /* evicts b1, the oldest */
    assert_int_equal(stat_of(w->a, "dircache_entries"), 2);
    assert_int_equal(stat_of(w->a, "dircache_evictions"), 1);
    uint64_t h0 = stat_of(w->a, "dircache_hits"), m0 = stat_of(w->a, "dircache_misses");
    emit1(w, "b2");
    emit1(w, "c1");
    emit1(w, "b1");
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    barrier(w);
    assert_int_equal(stat_of(w->a, "dircache_hits") - h0, 2);
    assert_int_equal(stat_of(w->a, "dircache_misses") - m0, 1);
    assert_int_equal(rx_count(&w->rb, "b1"), 2);
    world_free(w);
}

/* dircache_ttl_ms from a config file, then 0 by SIGHUP: the cache is off at
 * once (every emit through the script, nothing counted as hit or miss) and
 * emptied by the next sweep. */
static void test_reload_turns_the_cache_off(void **state)
{
    world *w = calloc(1, sizeof(*w));
    w->redis = redis_start();
    w->na = daemon_prepare();
    char conf[400];
    snprintf(conf, sizeof(conf), "%s/sidecast.conf", w->na->dir);
    char text[1400] = "dircache_ttl_ms = 60000\n";
    if (w->redis->tls_port) /* IT_REDIS_TLS: the files node_start would pass */
        snprintf(text + strlen(text), sizeof(text) - strlen(text),
                 "[redis]\ntls_ca_file = %s/ca.pem\ntls_cert_file = %s/client.pem\n"
                 "tls_key_file = %s/client.key\n",
                 w->redis->dir, w->redis->dir, w->redis->dir);
    write_file(conf, text);
    daemon_launch(w->na, false, "--config", conf, "--redis-url", w->redis->url, "--node-name",
                  "node-a", NODE_FLAGS, NULL);
    w->nb = node_start(w->redis, "node-b", NODE_FLAGS, NULL);
    w->a = app_open(w->na, "app-a", NULL);
    w->b = rx_open(w->nb, "app-b", &w->rb);
    assert_int_equal(sc_client_socket_up(w->b, "b1", "", "", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_sync(w->b, 0), 0);
    assert_int_equal(wait_nodes(w->a, 2, 5000), 2);
    wait_directory(w, "b1", sc_client_node_id(w->b));
    warm(w, "b1");
    assert_int_equal(stat_of(w->a, "dircache_entries"), 1);

    write_file(conf, "dircache_ttl_ms = 0\n");
    kill(w->na->pid, SIGHUP);
    uint64_t end = now_ms_h() + 10000;
    while (!daemon_log_contains(w->na, "reload: dircache_ttl_ms changed from 60000 to 0") &&
           now_ms_h() < end)
        usleep(10000);
    assert_true(daemon_log_contains(w->na, "reload: dircache_ttl_ms changed from 60000 to 0"));
    reset_redis_stats(w);
    uint64_t h0 = stat_of(w->a, "dircache_hits"), m0 = stat_of(w->a, "dircache_misses");
    for (int i = 0; i < 5; i++) {
        emit1(w, "b1");
        assert_int_equal(sc_client_sync(w->a, 0), 0);
        barrier(w);
    }
    assert_int_equal(lookups(w), 5); /* a script call each */
    assert_true(scripts(w) >= 5);
    assert_int_equal(stat_of(w->a, "dircache_hits"), h0);
    assert_int_equal(stat_of(w->a, "dircache_misses"), m0);
    assert_int_equal(rx_count(&w->rb, "b1"), 6);
    end = now_ms_h() + 5000;
    while (stat_of(w->a, "dircache_entries") != 0 && now_ms_h() < end)
        usleep(10000);
    assert_int_equal(stat_of(w->a, "dircache_entries"), 0);
    assert_true(daemon_log_contains(w->na, "directory cache off: dropped its 1 entries"));
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cached_emits_skip_the_script),
        cmocka_unit_test(test_burst_mixing_cached_and_uncached_in_order),
        cmocka_unit_test(test_socket_moves_to_another_node),
        cmocka_unit_test(test_notice_is_bounded),
        cmocka_unit_test(test_node_killed_and_reaped),
        cmocka_unit_test(test_entries_expire),
        cmocka_unit_test(test_entries_in_use_renewed),
        cmocka_unit_test(test_size_bound),
        cmocka_unit_test(test_reload_turns_the_cache_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
