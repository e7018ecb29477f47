/* Integration: every counter in SC_COUNTERS that no other test names is
 * driven here from outside, against a real sidecastd (standalone) and a
 * real two-node cluster on a private redis-server, and its delta asserted
 * through `stats` replies. Exact deltas where the situation decides the
 * number; "went up" where timing does (canaries, batching, retries). */
#include "harness.h"

#include "buf.h"
#include "wire.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#define MC_ERROR SIDECAST__V1__FRAME__MSG_ERROR
#define MC_WELCOME SIDECAST__V1__FRAME__MSG_WELCOME
#define MC_PONG SIDECAST__V1__FRAME__MSG_PONG
#define LIST(...)                                                                                  \
    (const char *const[]){__VA_ARGS__},                                                            \
        sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)

/* Poll until stat `name` of c reaches at least `want` (bounded); returns it. */
static uint64_t wait_stat(sc_client *c, const char *name, uint64_t want, int timeout_ms,
                          sc_client *also)
{
    uint64_t end = now_ms_h() + (uint64_t)timeout_ms, v = stat_of(c, name);
    while (v < want && now_ms_h() < end) {
        if (also)
            sc_client_poll(also, 5);
        usleep(5000);
        v = stat_of(c, name);
    }
    return v;
}

static int hello_ok(daemon_t *d)
{
    int fd = raw_connect(d->sock);
    assert_true(fd >= 0);
    raw_send_hello(fd, SC_PROTOCOL_VERSION);
    assert_int_equal(raw_read_frame(fd, NULL, 5000), MC_WELCOME);
    return fd;
}

/* A fatal refusal on a raw connection: one Error with this code, then EOF,
 * and the counter went up by exactly one. */
static void expect_refused(sc_client *a, int fd, int code, const char *counter, uint64_t before)
{
    int got = 0;
    assert_int_equal(raw_read_frame(fd, &got, 5000), MC_ERROR);
    assert_int_equal(got, code);
    assert_true(raw_wait_eof(fd, 5000));
    close(fd);
    assert_int_equal(stat_of(a, counter), before + 1);
}

static void ping_frame(sc_buf *b)
{
    static Sidecast__V1__Ping p = SIDECAST__V1__PING__INIT;
    sc_frame f = SC_FRAME_INIT;
    f.id = 7;
    f.msg_case = SIDECAST__V1__FRAME__MSG_PING;
    f.ping = &p;
    sc_buf_init(b);
    sc_wire_append(b, &f);
}

/* Traffic counters: frames_out exactly, bytes_in exactly (a raw Ping of a
 * known size), bytes_out at least the payload written. Each stats request
 * costs the same frames and request bytes every time, so a first pair of
 * reads measures that cost. */
static void check_traffic(daemon_t *d, sc_client *a)
{
    uint64_t f0 = stat_of(a, "frames_out"), f1 = stat_of(a, "frames_out");
    assert_int_equal(sc_client_ping(a, 0, NULL), 0);
    uint64_t f2 = stat_of(a, "frames_out");
    assert_int_equal(f2 - f1, (f1 - f0) + 1); /* the Pong */

    int fd = hello_ok(d);
    sc_buf b;
    ping_frame(&b);
    uint64_t i0 = stat_of(a, "bytes_in"), i1 = stat_of(a, "bytes_in");
    raw_send(fd, b.data, b.len);
    assert_int_equal(raw_read_frame(fd, NULL, 5000), MC_PONG);
    uint64_t i2 = stat_of(a, "bytes_in");
    assert_int_equal(i2 - i1, (i1 - i0) + b.len);
    sc_buf_free(&b);
    close(fd);

    static uint8_t big[20000];
    memset(big, 'x', sizeof(big));
    uint64_t o0 = stat_of(a, "bytes_out");
    sc_target t = {.socket_ids = LIST("a1")};
    sc_emit_flags fl = {.include_self = true};
    assert_int_equal(sc_client_emit(a, &t, &fl, big, sizeof(big)), 0);
    assert_int_equal(sc_client_sync(a, 0), 0);
    assert_true(stat_of(a, "bytes_out") - o0 >= sizeof(big));
}

static void check_emits(sc_client *a)
{
    sc_emit_flags fl = {.include_self = true};
    struct {
        const char *counter;
        sc_target t;
    } cases[] = {
        {"emits_socket", {.socket_ids = LIST("a1")}},
        {"emits_all", {.all = true}},
        {"emits_user", {.user_ids = LIST("u1")}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t before = stat_of(a, cases[i].counter);
        assert_int_equal(sc_client_emit(a, &cases[i].t, &fl, (const uint8_t *)"e", 1), 0);
        assert_int_equal(sc_client_sync(a, 0), 0);
        assert_int_equal(stat_of(a, cases[i].counter), before + 1);
    }
}

static void check_refusals(daemon_t *d, sc_client *a)
{
    uint64_t v = stat_of(a, "refused_malformed");
    int fd = hello_ok(d);
    uint8_t junk[] = {0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    raw_send(fd, junk, sizeof(junk));
    expect_refused(a, fd, SC_ERR_MALFORMED, "refused_malformed", v);

    v = stat_of(a, "refused_unknown_message");
    fd = hello_ok(d);
    uint8_t unknown[] = {0, 0, 0, 4, 0x9a, 0x06, 0x01, 0x00}; /* field 99 */
    raw_send(fd, unknown, sizeof(unknown));
    expect_refused(a, fd, SC_ERR_UNKNOWN_MESSAGE, "refused_unknown_message", v);

    v = stat_of(a, "refused_handshake");
    fd = raw_connect(d->sock);
    sc_buf b;
    ping_frame(&b);
    raw_send(fd, b.data, b.len); /* before Hello */
    sc_buf_free(&b);
    expect_refused(a, fd, SC_ERR_HANDSHAKE, "refused_handshake", v);

    v = stat_of(a, "refused_version");
    fd = raw_connect(d->sock);
    raw_send_hello(fd, 99);
    expect_refused(a, fd, SC_ERR_VERSION, "refused_version", v);

    /* refusals that keep the connection */
    v = stat_of(a, "refused_not_found");
    fd = hello_ok(d); /* a join for a socket of another connection */
    raw_send_join(fd, 5, "a1", "x");
    int code = 0;
    assert_int_equal(raw_read_frame(fd, &code, 5000), MC_ERROR);
    assert_int_equal(code, SC_ERR_NOT_FOUND);
    close(fd);
    assert_int_equal(stat_of(a, "refused_not_found"), v + 1);

    v = stat_of(a, "refused_invalid");
    sc_session_entry empty_key = {.key = "", .value = (const uint8_t *)"v", .len = 1};
    assert_true(sc_client_session_set(a, "sess1", &empty_key, 1, NULL, 0, 5000) < 0);
    assert_int_equal(stat_of(a, "refused_invalid"), v + 1);

    v = stat_of(a, "session_data_refused");
    sc_session_entry two[] = {{.key = "k1", .value = (const uint8_t *)"1", .len = 1},
                              {.key = "k2", .value = (const uint8_t *)"2", .len = 1}};
    assert_int_equal(sc_client_session_set(a, "sess1", two, 2, NULL, 0, 5000), -ENOSPC);
    assert_int_equal(stat_of(a, "session_data_refused"), v + 1);
}

static void count_loc(void *ud, const sc_location *l)
{
    (*(int *)ud)++;
}

static void test_standalone(void **state)
{
    daemon_t *d = daemon_start("--session-data-max-keys", "1", NULL);
    recorder ra = {0};
    sc_client *a = app_open(d, "app-a", &ra);

    uint64_t v = stat_of(a, "sockets_registered");
    assert_int_equal(sc_client_socket_up(a, "a1", "s-a1", "u1", NULL, 0, LIST("lobby")), 0);
    assert_int_equal(sc_client_socket_up(a, "a2", "s-a2", "", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_sync(a, 0), 0);
    assert_int_equal(stat_of(a, "sockets_registered"), v + 2);

    check_traffic(d, a);
    check_emits(a);
    check_refusals(d, a);

    v = stat_of(a, "lookups_local");
    int n = 0;
    assert_int_equal(sc_client_lookup(a, SC_BY_SOCKET, "a1", true, count_loc, &n, 5000), 1);
    assert_int_equal(n, 1);
    assert_int_equal(stat_of(a, "lookups_local"), v + 1);

    v = stat_of(a, "acks_unknown");
    assert_int_equal(sc_client_ack(a, 424242, 0, NULL, NULL, 0, true), 0);
    assert_int_equal(sc_client_sync(a, 0), 0);
    assert_int_equal(stat_of(a, "acks_unknown"), v + 1);

    sc_client_close(a);
    daemon_free(d);
}

/* ---- cluster ------------------------------------------------------------------ */

typedef struct cluster {
    redis_srv *r;
    daemon_t *na, *nb;
    sc_client *a, *a2, *b;
    recorder ra, ra2, rb;
} cluster;

static void on_progress(void *ud, const sc_progress *p)
{
}

static void count_sock(void *ud, const sc_socket_view *s)
{
    if (ud)
        (*(int *)ud)++;
}

/* Room channels: subscribed when a room gets its first local member,
 * unsubscribed room_linger_ms after its last one left; own publishes to a
 * subscribed room come back and are skipped. */
static void check_rooms(cluster *w)
{
    uint64_t subs = stat_of(w->a, "room_subscribes");
    assert_int_equal(sc_client_join(w->a, "a1", LIST("ra")), 0);
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    assert_int_equal(wait_stat(w->a, "room_subscribes", subs + 1, 10000, NULL), subs + 1);

    /* the SUBSCRIBE is confirmed some time after it is sent: emit until
     * one of our own publishes comes back (bounded) */
    uint64_t own = stat_of(w->a, "cluster_own_skipped");
    sc_target t = {.rooms = LIST("ra")};
    for (int i = 0; i < 100 && stat_of(w->a, "cluster_own_skipped") == own; i++) {
        assert_int_equal(sc_client_emit(w->a, &t, NULL, (const uint8_t *)"o", 1), 0);
        assert_int_equal(sc_client_sync(w->a, 0), 0);
        wait_stat(w->a, "cluster_own_skipped", own + 1, 200, NULL);
    }
    assert_true(stat_of(w->a, "cluster_own_skipped") > own);

    uint64_t unsubs = stat_of(w->a, "room_unsubscribes");
    assert_int_equal(sc_client_leave(w->a, "a1", LIST("ra")), 0);
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    assert_int_equal(wait_stat(w->a, "room_unsubscribes", unsubs + 1, 10000, NULL), unsubs + 1);
}

static void check_publishing(cluster *w)
{
    uint64_t v = stat_of(w->a, "canaries_sent");
    assert_true(wait_stat(w->a, "canaries_sent", v + 1, 10000, NULL) > v);

    v = stat_of(w->a, "cluster_malformed");
    free(redis_cli(w->r, "PUBLISH sidecast:all garbage"));
    assert_int_equal(wait_stat(w->a, "cluster_malformed", v + 1, 10000, NULL), v + 1);

    /* three rooms x 400 kB is over the 1 MiB fan-out budget: one copy to all */
    static uint8_t big[400000];
    memset(big, 'f', sizeof(big));
    v = stat_of(w->a, "emits_fanout_all");
    sc_target t3 = {.rooms = LIST("r1", "r2", "r3")};
    assert_int_equal(sc_client_emit(w->a, &t3, NULL, big, sizeof(big)), 0);
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    assert_int_equal(stat_of(w->a, "emits_fanout_all"), v + 1);

    /* a pipelined burst to one room shares PUBLISHes (how many per batch
     * depends on how the reads fall) */
    v = stat_of(w->a, "cluster_batched_envelopes");
    sc_target t = {.rooms = LIST("r1")};
    for (int i = 0; i < 200; i++)
        assert_int_equal(sc_client_emit(w->a, &t, NULL, (const uint8_t *)"x", 1), 0);
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    assert_true(stat_of(w->a, "cluster_batched_envelopes") > v);
}

static void check_requests(cluster *w)
{
    uint64_t st = stat_of(w->a, "requests_started"), pu = stat_of(w->a, "requests_published"),
             ok = stat_of(w->a, "requests_ok");
    sc_target all = {.all = true};
    int n = 0;
    assert_int_equal(sc_client_fetch_sockets(w->a, &all, false, false, count_sock, &n, 10000), 0);
    assert_int_equal(n, 2); /* a1 here, b1 on B */
    assert_int_equal(stat_of(w->a, "requests_started"), st + 1);
    assert_int_equal(stat_of(w->a, "requests_published"), pu + 1);
    assert_int_equal(stat_of(w->a, "requests_ok"), ok + 1);

    /* A (max_pending_requests 1, request_timeout 2 s) asks b, whose app is
     * not read meanwhile: a's call gives up early, the request stays
     * pending on A, so a2's request is refused; once A's request timed
     * out, b answers and the answer reaches A late. */
    uint64_t lim = stat_of(w->a, "requests_refused_limit"), tmo = stat_of(w->a, "requests_timeout"),
             late = stat_of(w->a, "responses_late");
    assert_true(
        sc_client_server_emit(w->a, (const uint8_t *)"slow", 4, false, on_progress, NULL, 100) < 0);
    assert_true(sc_client_fetch_sockets(w->a2, &all, false, false, count_sock, NULL, 5000) < 0);
    assert_int_equal(stat_of(w->a, "requests_refused_limit"), lim + 1);
    assert_int_equal(wait_stat(w->a, "requests_timeout", tmo + 1, 15000, w->a), tmo + 1);
    uint64_t end = now_ms_h() + 15000;
    while (now_ms_h() < end && stat_of(w->a, "responses_late") == late) {
        sc_client_poll(w->b, 20);
        sc_client_poll(w->a, 5);
    }
    /* b's answer and its final progress may be separate responses */
    assert_true(stat_of(w->a, "responses_late") > late);

    /* b (request_timeout 10 s) asks A, whose relay gives up after 0.8 x 2 s
     * because a is not read meanwhile; a's answer then names an expired ack. */
    uint64_t rt = stat_of(w->a, "relay_timeouts"), au = stat_of(w->a, "acks_unknown");
    sc_client_server_emit(w->b, (const uint8_t *)"relay", 5, false, on_progress, NULL, 9000);
    assert_int_equal(wait_stat(w->a, "relay_timeouts", rt + 1, 15000, NULL), rt + 1);
    assert_int_equal(wait_stat(w->a, "acks_unknown", au + 1, 10000, w->a), au + 1);
}

/* Redis refuses SET (ACL): heartbeats fail (redis_errors), liveness keys
 * expire, and the nodes reap each other. Once SET is allowed again, A's
 * heartbeat finds itself reaped and rewrites its entries. */
static void check_redis_faults(cluster *w)
{
    uint64_t errs = stat_of(w->a, "redis_errors"), reaped = stat_of(w->a, "self_reaped");
    free(redis_cli(w->r, "ACL SETUSER default -set"));
    assert_true(wait_stat(w->a, "redis_errors", errs + 1, 10000, NULL) > errs);
    /* a heartbeat is one script, refused whole while SET is: A's
     * liveness expires */
    char key[128];
    snprintf(key, sizeof(key), "EXISTS sidecast:alive:%s", sc_client_node_id(w->a));
    uint64_t until = now_ms_h() + 15000;
    char *out = NULL;
    while (now_ms_h() < until) {
        free(out);
        out = redis_cli(w->r, key);
        if (atoi(out) == 0)
            break;
        sc_client_poll(w->a, 20);
    }
    assert_int_equal(atoi(out), 0);
    free(out);
    free(redis_cli(w->r, "ACL SETUSER default +set"));
    assert_true(wait_stat(w->a, "self_reaped", reaped + 1, 15000, NULL) > reaped);

    /* Redis gone: cluster requests are refused at once */
    uint64_t un = stat_of(w->a, "requests_unavailable");
    redis_kill(w->r);
    sc_target all = {.all = true};
    uint64_t end = now_ms_h() + 20000;
    while (now_ms_h() < end && stat_of(w->a, "requests_unavailable") == un) {
        sc_client_fetch_sockets(w->a, &all, false, false, count_sock, NULL, 3000);
        usleep(20000);
    }
    assert_true(stat_of(w->a, "requests_unavailable") > un);
}

static void test_cluster(void **state)
{
    cluster *w = calloc(1, sizeof(*w));
    w->r = redis_start();
    w->na = node_start(w->r, "node-a", "--max-pending-requests", "1", "--canary-interval-ms", "100",
                       NULL);
    w->nb = node_start(w->r, "node-b", "--request-timeout-ms", "10000", NULL);
    snprintf(w->ra.name, sizeof(w->ra.name), "a");
    snprintf(w->rb.name, sizeof(w->rb.name), "b");
    w->a = app_open(w->na, "app-a", &w->ra);
    w->a2 = app_open(w->na, "app-a2", &w->ra2);
    w->b = app_open(w->nb, "app-b", &w->rb);
    assert_int_equal(wait_nodes(w->a, 2, 15000), 2);
    assert_int_equal(wait_nodes(w->b, 2, 15000), 2);
    assert_int_equal(sc_client_socket_up(w->a, "a1", "", "", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_socket_up(w->b, "b1", "", "", NULL, 0, LIST("r1", "r2", "r3")), 0);
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    assert_int_equal(sc_client_sync(w->b, 0), 0);

    check_rooms(w);
    check_publishing(w);
    check_requests(w);
    check_redis_faults(w);

    sc_client_close(w->a);
    sc_client_close(w->a2);
    sc_client_close(w->b);
    daemon_free(w->na);
    daemon_free(w->nb);
    redis_free(w->r);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_standalone),
        cmocka_unit_test(test_cluster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
