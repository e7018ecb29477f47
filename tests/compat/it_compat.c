/* Integration, mixed versions: a rolling upgrade caught half way. Three
 * nodes on one private redis-server: node-a and node-c run this tree's
 * sidecastd, node-b the sidecastd of the base commit (tests/compat/BASE, the
 * last one before version negotiation: it speaks "version 0", no feature
 * bits), built by build_base.sh. Every node has an app on this tree's
 * libsidecast.
 *
 * From an app on a new node and from the app on the old one: every emit kind
 * reaches every selected socket on every node exactly once; every cluster
 * request completes with every node answering, none waits for its timeout
 * (requests_timeout unchanged on every node); lookups and session data work
 * across versions. Then the features: while node-b is live the new nodes
 * run reduced (cluster_features 0, cluster_nodes_reduced 1, a log line
 * naming node-b); once it has stopped cleanly they use every feature; when
 * it comes back they fall back again.
 *
 * The old binary: $SIDECAST_COMPAT_SIDECASTD, else SC_COMPAT_SIDECASTD (the
 * compat-base build of this build tree). Missing is a failure, not a skip. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#ifndef SC_COMPAT_SIDECASTD
#error "SC_COMPAT_SIDECASTD must point at the base commit's sidecastd"
#endif
/* proto/cluster.proto, ClusterFeature (sidecast.h names them once the
 * client side has them) */
#ifndef SC_CLUSTER_FEATURE_UNSUPPORTED_ANSWER
#define SC_CLUSTER_FEATURE_UNSUPPORTED_ANSWER UINT64_C(0x1)
#endif
#ifndef SC_CLUSTER_FEATURE_ANNOUNCE
#define SC_CLUSTER_FEATURE_ANNOUNCE UINT64_C(0x2)
#endif
/* Every cluster feature this tree's sidecastd has: what a cluster of new
 * nodes only must use. Add a bit here when cluster.proto adds one. */
#define FULL_FEATURES                                                                              \
    (SC_CLUSTER_FEATURE_UNSUPPORTED_ANSWER | SC_CLUSTER_FEATURE_ANNOUNCE |                         \
     SC_CLUSTER_FEATURE_PRIVATE_ROOMS | SC_CLUSTER_FEATURE_QUIET_ROOMS)

#define LIST(...)                                                                                  \
    (const char *const[]){__VA_ARGS__}, sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *)

enum { NA, NB, NC, N_NODES }; /* node-b (NB) is the old one */
static const char L[N_NODES] = {'a', 'b', 'c'};
/* a request that takes this long has waited for something: request_timeout_ms is 2000 */
#define REQUEST_MAX_MS 1500

typedef struct world {
    redis_srv *redis;
    const char *old_bin;
    daemon_t *d[N_NODES];
    sc_client *app[N_NODES];
    recorder rec[N_NODES];
    char node_id[N_NODES][64];
} world;

/* ---- helpers ------------------------------------------------------------------- */

static const char *old_sidecastd(void)
{
    const char *p = getenv("SIDECAST_COMPAT_SIDECASTD");
    if (!p || !p[0])
        p = SC_COMPAT_SIDECASTD;
    if (access(p, X_OK) != 0) {
        fprintf(stderr,
                "it_compat: the base commit's sidecastd %s is missing (%s): run the "
                "compat_build_base test first (ctest -L compat), or set "
                "SIDECAST_COMPAT_SIDECASTD\n",
                p, strerror(errno));
        exit(1);
    }
    return p;
}

static void sock_id(char *out, size_t n, int node, int k)
{
    snprintf(out, n, "%c%d", L[node], k);
}

static void open_app(world *w, int i)
{
    char name[16];
    snprintf(name, sizeof(name), "app-%c", L[i]);
    w->app[i] = app_open(w->d[i], name, &w->rec[i]);
    snprintf(w->node_id[i], sizeof(w->node_id[i]), "%s", sc_client_node_id(w->app[i]));
}

/* Each node: <x>1 (session s-<x>1, user ux, room r1), <x>2 (s-<x>2, uy, r2). */
static void register_sockets(world *w, int i)
{
    char id[8], sid[16];
    sock_id(id, sizeof(id), i, 1);
    snprintf(sid, sizeof(sid), "s-%s", id);
    assert_int_equal(
        sc_client_socket_up(w->app[i], id, sid, "ux", (const uint8_t *)id, 2, LIST("r1")), 0);
    sock_id(id, sizeof(id), i, 2);
    snprintf(sid, sizeof(sid), "s-%s", id);
    assert_int_equal(sc_client_socket_up(w->app[i], id, sid, "uy", NULL, 0, LIST("r2")), 0);
    assert_int_equal(sc_client_sync(w->app[i], 0), 0);
}

static void reset_all(world *w)
{
    for (int i = 0; i < N_NODES; i++)
        rec_reset(&w->rec[i]);
}

static bool live(const world *w, int i)
{
    return w->app[i] != NULL;
}

static void settle(world *w, int ms)
{
    uint64_t end = now_ms_h() + (uint64_t)ms;
    while (now_ms_h() < end)
        for (int i = 0; i < N_NODES; i++)
            if (live(w, i))
                sc_client_poll(w->app[i], 2);
}

/* Ordering barrier: a server-side emit from o travels after everything o
 * published before it (one publish connection, one subscription and app
 * connection per receiver); once every other app has it, they have all
 * that came before. The server-message record is left as it was. */
static void barrier(world *w, int o)
{
    unsigned before[N_NODES];
    for (int i = 0; i < N_NODES; i++)
        before[i] = w->rec[i].server_msgs;
    assert_int_equal(
        sc_client_server_emit(w->app[o], (const uint8_t *)"barrier", 7, false, NULL, NULL, 0), 0);
    assert_int_equal(sc_client_sync(w->app[o], 0), 0);
    uint64_t end = now_ms_h() + 10000;
    for (;;) {
        bool all = true;
        for (int i = 0; i < N_NODES; i++)
            if (i != o && live(w, i) && w->rec[i].server_msgs == before[i])
                all = false;
        if (all)
            break;
        assert_true(now_ms_h() < end);
        settle(w, 5);
    }
    for (int i = 0; i < N_NODES; i++)
        w->rec[i].server_msgs = before[i];
}

/* Wait (bounded) until Redis counts a subscriber of r1's and of r2's
 * channel per node (every node has members in both): from then on one emit
 * to them reaches every node. */
static void wait_rooms(world *w, long per_room)
{
    uint64_t end = now_ms_h() + 15000;
    char *out = NULL;
    for (;;) {
        free(out);
        out = redis_cli(w->redis, "PUBSUB NUMSUB sidecast:room:r1 sidecast:room:r2");
        long n1 = -1, n2 = -1;
        if (sscanf(out, "sidecast:room:r1 %ld sidecast:room:r2 %ld", &n1, &n2) == 2 &&
            n1 == per_room && n2 == per_room)
            break;
        if (now_ms_h() > end)
            fail_msg("room channels never reached %ld subscribers each: %s", per_room, out);
        usleep(20000);
    }
    free(out);
}

/* After an emit from o: every socket in `want` (of the 2 per node) got it
 * exactly once, every other socket not at all. */
static void expect_exactly(world *w, int o, const char *what, const char *const *want, size_t n)
{
    for (int i = 0; i < N_NODES; i++) {
        for (int k = 1; k <= 2; k++) {
            char id[8];
            sock_id(id, sizeof(id), i, k);
            unsigned expected = 0;
            for (size_t j = 0; j < n; j++)
                expected += strcmp(want[j], id) == 0;
            unsigned got = rec_count(&w->rec[i], id);
            if (got != expected)
                fail_msg("%s from node-%c: socket %s got it %u times, expected %u", what, L[o], id,
                         got, expected);
        }
    }
}

static void emit_from(world *w, int o, const sc_target *t, const sc_emit_flags *fl)
{
    reset_all(w);
    assert_int_equal(sc_client_emit(w->app[o], t, fl, (const uint8_t *)"x", 1), 0);
    assert_int_equal(sc_client_sync(w->app[o], 0), 0);
    barrier(w, o);
}

/* The sockets <x>k of every node but o. */
static size_t others(int o, int k, char ids[][8])
{
    size_t n = 0;
    for (int i = 0; i < N_NODES; i++)
        if (i != o)
            sock_id(ids[n++], 8, i, k);
    return n;
}

/* Blocking calls need the other apps to answer meanwhile: a thread polls
 * every live app but the caller's (a client is not thread-safe). */
static void pump_start(app_pump *p, world *w, int caller)
{
    sc_client *apps[N_NODES];
    int n = 0;
    for (int i = 0; i < N_NODES; i++)
        if (i != caller && live(w, i))
            apps[n++] = w->app[i];
    app_pump_start(p, apps, n);
}

/* A cluster fetch from o that every node answers well inside the timeout. */
static void fetch_from(world *w, int o, const sc_target *filter, fetched_sockets *f)
{
    memset(f, 0, sizeof(*f));
    uint64_t t0 = now_ms_h();
    int rc = sc_client_fetch_sockets(w->app[o], filter, false, false, fetched_on_socket, f, 5000);
    uint64_t took = now_ms_h() - t0;
    if (rc != 0)
        fail_msg("fetchSockets from node-%c: %d (%s)", L[o], rc, sc_client_last_error(w->app[o]));
    if (took > REQUEST_MAX_MS)
        fail_msg("fetchSockets from node-%c took %llu ms: it waited for a node", L[o],
                 (unsigned long long)took);
}

/* An apply from o, answered by every node well inside the timeout, then
 * every app has processed it (its Apply, and its own Join/Leave answers). */
static void apply_from(world *w, int o, const sc_apply *a)
{
    app_pump p;
    pump_start(&p, w, o);
    uint64_t t0 = now_ms_h();
    int rc = sc_client_apply(w->app[o], a, 5000);
    uint64_t took = now_ms_h() - t0;
    app_pump_stop(&p);
    if (rc != 0)
        fail_msg("apply from node-%c: %d (%s)", L[o], rc, sc_client_last_error(w->app[o]));
    if (took > REQUEST_MAX_MS)
        fail_msg("apply from node-%c took %llu ms: it waited for a node", L[o],
                 (unsigned long long)took);
    barrier(w, o); /* every other app has read the Apply it got before the barrier */
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < N_NODES; i++)
            if (live(w, i))
                assert_int_equal(sc_client_sync(w->app[i], 0), 0);
}

static uint64_t timeouts_sum(world *w)
{
    uint64_t s = 0;
    for (int i = 0; i < N_NODES; i++)
        if (live(w, i))
            s += stat_of(w->app[i], "requests_timeout");
    return s;
}

/* ---- setup --------------------------------------------------------------------- */

static void start_node(world *w, int i)
{
    char name[16];
    snprintf(name, sizeof(name), "node-%c", L[i]);
    /* no canaries: nothing but the test's own traffic; the harness's fast
     * heartbeat and ttl (200 / 800 ms) bound every wait below */
    w->d[i] = i == NB
                  ? node_start_bin(w->old_bin, w->redis, name, "--canary-interval-ms", "0", NULL)
                  : node_start(w->redis, name, "--canary-interval-ms", "0", NULL);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof(*w));
    w->old_bin = old_sidecastd();
    w->redis = redis_start();
    for (int i = 0; i < N_NODES; i++)
        start_node(w, i);
    for (int i = 0; i < N_NODES; i++) {
        open_app(w, i);
        register_sockets(w, i);
    }
    for (int i = 0; i < N_NODES; i++)
        assert_int_equal(wait_nodes(w->app[i], 3, 10000), 3);
    wait_rooms(w, N_NODES);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    for (int i = 0; i < N_NODES; i++) {
        sc_client_close(w->app[i]);
        if (w->d[i])
            daemon_free(w->d[i]);
    }
    redis_free(w->redis);
    free(w);
    return 0;
}

/* ---- emits --------------------------------------------------------------------- */

static void check_emits(world *w, int o)
{
    char x1[2][8], x2[2][8];
    others(o, 1, x1);
    others(o, 2, x2);

    sc_target room = {.rooms = LIST("r1")};
    emit_from(w, o, &room, NULL);
    expect_exactly(w, o, "room r1", (const char *const[]){x1[0], x1[1]}, 2);

    sc_target rooms = {.rooms = LIST("r1", "r2")};
    emit_from(w, o, &rooms, NULL);
    expect_exactly(w, o, "rooms r1+r2", (const char *const[]){x1[0], x1[1], x2[0], x2[1]}, 4);

    sc_target ids = {.socket_ids = (const char *const[]){x1[0], x1[1], x2[1]}, .n_socket_ids = 3};
    emit_from(w, o, &ids, NULL);
    expect_exactly(w, o, "targeted", (const char *const[]){x1[0], x1[1], x2[1]}, 3);

    sc_target user = {.user_ids = LIST("uy")};
    emit_from(w, o, &user, NULL);
    expect_exactly(w, o, "user uy", (const char *const[]){x2[0], x2[1]}, 2);

    sc_target all = {.all = true};
    sc_emit_flags self = {.include_self = true};
    emit_from(w, o, &all, &self);
    expect_exactly(w, o, "broadcast (with self)",
                   (const char *const[]){"a1", "a2", "b1", "b2", "c1", "c2"}, 6);

    sc_target except = {.all = true, .except_rooms = LIST("r2")};
    emit_from(w, o, &except, NULL);
    expect_exactly(w, o, "broadcast except r2", (const char *const[]){x1[0], x1[1]}, 2);

    /* broadcast with acks: each app answers with its selected sockets' ids */
    reset_all(w);
    unsigned acks0[N_NODES]; /* rec_reset leaves ack_requests */
    for (int i = 0; i < N_NODES; i++)
        acks0[i] = w->rec[i].ack_requests;
    answers ans = {0};
    app_pump p;
    pump_start(&p, w, o);
    uint64_t t0 = now_ms_h();
    int rc = sc_client_emit_with_ack(w->app[o], &all, NULL, (const uint8_t *)"q", 1, answers_on_progress,
                                     &ans, 5000);
    uint64_t took = now_ms_h() - t0;
    app_pump_stop(&p);
    assert_int_equal(rc, 0);
    assert_true(ans.done);
    assert_false(ans.timed_out);
    assert_true(took <= REQUEST_MAX_MS);
    assert_int_equal(ans.expect, 4);
    assert_int_equal(ans.n, 4);
    for (int j = 0; j < 2; j++)
        assert_true(answers_has(&ans, x1[j]) && answers_has(&ans, x2[j]));
    assert_int_equal(ans.nodes_expected, 3);
    assert_int_equal(ans.nodes_answered, 3);
    for (int i = 0; i < N_NODES; i++)
        assert_int_equal(w->rec[i].ack_requests - acks0[i], i == o ? 0 : 1);
}

static void test_emits_from_new_node(void **state)
{
    check_emits(*state, NA);
}

static void test_emits_from_old_node(void **state)
{
    check_emits(*state, NB);
}

/* ---- cluster requests, lookups, session data ------------------------------------ */

static void check_fetch(world *w, int o)
{
    fetched_sockets f;
    fetch_from(w, o, NULL, &f);
    assert_int_equal(f.n, 6);
    for (int i = 0; i < N_NODES; i++)
        for (int k = 1; k <= 2; k++) {
            char id[8];
            sock_id(id, sizeof(id), i, k);
            int at = fetched_find(&f, id);
            if (at < 0)
                fail_msg("fetchSockets from node-%c: %s missing", L[o], id);
            assert_string_equal(f.nodes[at], w->node_id[i]);
        }
    sc_target r1 = {.rooms = LIST("r1"), .except_ids = LIST("c1")};
    fetch_from(w, o, &r1, &f);
    assert_int_equal(f.n, 2);
    assert_true(fetched_find(&f, "a1") >= 0 && fetched_find(&f, "b1") >= 0);
}

static void check_apply(world *w, int o)
{
    char vip[8];
    snprintf(vip, sizeof(vip), "vip-%c", L[o]);
    fetched_sockets f;
    /* socketsJoin: every socket in r2, on every node */
    sc_target f2 = {.rooms = LIST("r2")};
    sc_apply join = {.filter = &f2, .join = (const char *const[]){vip}, .n_join = 1};
    apply_from(w, o, &join);
    sc_target fv = {.rooms = (const char *const[]){vip}, .n_rooms = 1};
    fetch_from(w, o, &fv, &f);
    assert_int_equal(f.n, 3);
    assert_true(fetched_find(&f, "a2") >= 0 && fetched_find(&f, "b2") >= 0 &&
                fetched_find(&f, "c2") >= 0);
    /* socketsLeave */
    sc_apply leave = {.filter = &fv, .leave = (const char *const[]){vip}, .n_leave = 1};
    apply_from(w, o, &leave);
    fetch_from(w, o, &fv, &f);
    assert_int_equal(f.n, 0);
    /* disconnectSockets: one doomed socket per node */
    for (int i = 0; i < N_NODES; i++) {
        char id[8];
        snprintf(id, sizeof(id), "d-%c", L[i]);
        assert_int_equal(sc_client_socket_up(w->app[i], id, "", "", NULL, 0, LIST("doomed")), 0);
        assert_int_equal(sc_client_sync(w->app[i], 0), 0);
    }
    sc_target fd = {.rooms = LIST("doomed")};
    fetch_from(w, o, &fd, &f);
    assert_int_equal(f.n, 3);
    unsigned dis0[N_NODES];
    for (int i = 0; i < N_NODES; i++)
        dis0[i] = w->rec[i].disconnects;
    sc_apply dis = {.filter = &fd, .disconnect = true, .close = true};
    apply_from(w, o, &dis);
    for (int i = 0; i < N_NODES; i++)
        if (w->rec[i].disconnects != dis0[i] + 1)
            fail_msg("disconnectSockets from node-%c: app-%c got %u disconnects, expected 1", L[o],
                     L[i], w->rec[i].disconnects - dis0[i]);
    fetch_from(w, o, &fd, &f);
    assert_int_equal(f.n, 0);
}

static void check_server_emit(world *w, int o)
{
    answers ans = {0};
    app_pump p;
    pump_start(&p, w, o);
    uint64_t t0 = now_ms_h();
    int rc = sc_client_server_emit(w->app[o], (const uint8_t *)"ping", 4, false, answers_on_progress, &ans,
                                   5000);
    uint64_t took = now_ms_h() - t0;
    app_pump_stop(&p);
    assert_int_equal(rc, 0);
    assert_true(ans.done);
    assert_false(ans.timed_out);
    assert_true(took <= REQUEST_MAX_MS);
    assert_int_equal(ans.expect, 2);
    assert_int_equal(ans.n, 2);
    for (int i = 0; i < N_NODES; i++) {
        char want[32];
        snprintf(want, sizeof(want), "ack-from-app-%c", L[i]);
        assert_true(answers_has(&ans, want) == (i != o));
    }
    assert_int_equal(ans.nodes_expected, 3);
    assert_int_equal(ans.nodes_answered, 3);
}

typedef struct located {
    int n;
    char ids[8][16];
    char nodes[8][64];
    char names[8][16];
} located;

static void on_located(void *ud, const sc_location *l)
{
    located *x = ud;
    if (x->n < 8) {
        snprintf(x->ids[x->n], 16, "%s", l->socket_id);
        snprintf(x->nodes[x->n], 64, "%s", l->node_id);
        snprintf(x->names[x->n], 16, "%s", l->node_name);
    }
    x->n++;
}

static void check_lookups(world *w, int o)
{
    for (int i = 0; i < N_NODES; i++) {
        char id[8], sid[16], name[16];
        sock_id(id, sizeof(id), i, 1);
        snprintf(name, sizeof(name), "node-%c", L[i]);
        located x = {0};
        assert_int_equal(sc_client_lookup(w->app[o], SC_BY_SOCKET, id, false, on_located, &x, 0),
                         1);
        assert_string_equal(x.nodes[0], w->node_id[i]);
        assert_string_equal(x.names[0], name);
        sock_id(id, sizeof(id), i, 2);
        snprintf(sid, sizeof(sid), "s-%s", id);
        memset(&x, 0, sizeof(x));
        assert_int_equal(sc_client_lookup(w->app[o], SC_BY_SESSION, sid, false, on_located, &x, 0),
                         1);
        assert_string_equal(x.ids[0], id);
        assert_string_equal(x.nodes[0], w->node_id[i]);
    }
    located x = {0};
    assert_int_equal(sc_client_lookup(w->app[o], SC_BY_USER, "ux", false, on_located, &x, 0), 3);
    for (int i = 0; i < N_NODES; i++) {
        bool seen = false;
        for (int j = 0; j < 3; j++)
            seen |= strcmp(x.nodes[j], w->node_id[i]) == 0;
        assert_true(seen);
    }
    sc_presence pr = {0};
    assert_int_equal(sc_client_presence(w->app[o], "uy", &pr, 0), 0);
    assert_true(pr.online);
    assert_int_equal(pr.sockets, 3);
    assert_int_equal(pr.nodes, 3);
}

typedef struct sess {
    int n;
    char key[32], value[32];
} sess;

static void on_entry(void *ud, const char *key, const uint8_t *value, size_t len)
{
    sess *s = ud;
    if (s->n++ == 0) {
        snprintf(s->key, sizeof(s->key), "%s", key);
        snprintf(s->value, sizeof(s->value), "%.*s", (int)len, (const char *)value);
    }
}

/* o writes the data of a session held on the next node; the node after
 * reads it. */
static void check_session_data(world *w, int o)
{
    int holder = (o + 1) % N_NODES, reader = (o + 2) % N_NODES;
    char sid[16], key[16], value[16];
    snprintf(sid, sizeof(sid), "s-%c1", L[holder]);
    snprintf(key, sizeof(key), "k-%c", L[o]);
    snprintf(value, sizeof(value), "v-%c", L[o]);
    sc_session_entry e = {key, (const uint8_t *)value, strlen(value)};
    assert_int_equal(sc_client_session_set(w->app[o], sid, &e, 1, NULL, 0, 0), 0);
    sess s = {0};
    bool connected = false;
    assert_int_equal(sc_client_session_get(w->app[reader], sid, on_entry, &s, &connected, 0), 1);
    assert_true(connected);
    assert_string_equal(s.key, key);
    assert_string_equal(s.value, value);
    /* and deleted again, read back by the writer */
    assert_int_equal(
        sc_client_session_set(w->app[o], sid, NULL, 0, (const char *const[]){key}, 1, 0), 0);
    memset(&s, 0, sizeof(s));
    assert_int_equal(sc_client_session_get(w->app[o], sid, on_entry, &s, &connected, 0), 0);
}

static void check_requests(world *w, int o)
{
    uint64_t timeouts0 = timeouts_sum(w);
    check_fetch(w, o);
    check_apply(w, o);
    check_server_emit(w, o);
    check_lookups(w, o);
    check_session_data(w, o);
    assert_int_equal(timeouts_sum(w), timeouts0);
}

static void test_requests_from_new_node(void **state)
{
    check_requests(*state, NA);
}

static void test_requests_from_old_node(void **state)
{
    check_requests(*state, NB);
}

/* ---- features ------------------------------------------------------------------ */

/* Wait (bounded) until node i reports these cluster_features and
 * cluster_nodes_reduced; fails naming what it reported. */
static void wait_features(world *w, int i, int64_t features, int64_t reduced, const char *when)
{
    int64_t f = -1, r = -1;
    uint64_t end = now_ms_h() + 5000;
    do {
        f = stat_or(w->app[i], "cluster_features");
        r = stat_or(w->app[i], "cluster_nodes_reduced");
        if (f == features && r == reduced)
            return;
        app_drain(w->app[i], 20);
    } while (now_ms_h() < end);
    fail_msg("%s: node-%c reports cluster_features %lld and cluster_nodes_reduced %lld "
             "(-1: no such stat), expected %lld and %lld",
             when, L[i], (long long)f, (long long)r, (long long)features, (long long)reduced);
}

/* A log line that says the cluster runs reduced and names the old node. */
static bool log_says_reduced(const daemon_t *d, const char *node)
{
    FILE *f = fopen(d->log, "r");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, "reduced") && strstr(line, node);
    fclose(f);
    return found;
}

static bool wait_log_reduced(const daemon_t *d, const char *node, int timeout_ms)
{
    uint64_t end = now_ms_h() + (uint64_t)timeout_ms;
    while (!log_says_reduced(d, node) && now_ms_h() < end)
        usleep(20000);
    return log_says_reduced(d, node);
}

static void test_features_follow_the_old_node(void **state)
{
    world *w = *state;
    /* node-b live: the new nodes use no feature node-b lacks */
    wait_features(w, NA, 0, 1, "node-b (old) live");
    wait_features(w, NC, 0, 1, "node-b (old) live");
    assert_true(wait_log_reduced(w->d[NA], "node-b", 5000));
    assert_true(wait_log_reduced(w->d[NC], "node-b", 5000));

    /* node-b stops cleanly: every feature, and requests still complete */
    sc_client_close(w->app[NB]);
    w->app[NB] = NULL;
    assert_int_equal(daemon_stop(w->d[NB]), 0);
    assert_int_equal(wait_nodes(w->app[NA], 2, 5000), 2);
    wait_features(w, NA, FULL_FEATURES, 0, "node-b stopped");
    wait_features(w, NC, FULL_FEATURES, 0, "node-b stopped");
    uint64_t timeouts0 = timeouts_sum(w);
    fetched_sockets f;
    fetch_from(w, NA, NULL, &f);
    assert_int_equal(f.n, 4);
    {
        answers ans = {0};
        app_pump p;
        pump_start(&p, w, NC);
        int rc = sc_client_server_emit(w->app[NC], (const uint8_t *)"ping", 4, false, answers_on_progress,
                                       &ans, 5000);
        app_pump_stop(&p);
        assert_int_equal(rc, 0);
        assert_false(ans.timed_out);
        assert_true(answers_has(&ans, "ack-from-app-a"));
        assert_int_equal(ans.nodes_answered, 2);
    }
    assert_int_equal(timeouts_sum(w), timeouts0);

    /* node-b back (still old): reduced again, and requests still complete */
    daemon_restart(w->d[NB]);
    open_app(w, NB);
    register_sockets(w, NB);
    assert_int_equal(wait_nodes(w->app[NA], 3, 5000), 3);
    assert_int_equal(wait_nodes(w->app[NC], 3, 5000), 3);
    wait_rooms(w, N_NODES);
    wait_features(w, NA, 0, 1, "node-b (old) back");
    wait_features(w, NC, 0, 1, "node-b (old) back");
    fetch_from(w, NA, NULL, &f);
    assert_int_equal(f.n, 6);
    assert_int_equal(timeouts_sum(w), timeouts0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emits_from_new_node),
        cmocka_unit_test(test_emits_from_old_node),
        cmocka_unit_test(test_requests_from_new_node),
        cmocka_unit_test(test_requests_from_old_node),
        cmocka_unit_test(test_features_follow_the_old_node),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
