/* Integration: quiet replies (see sc_redis_send_quiet and
 * redis_reply_defer_ms), on a real redis-server with real sidecastd nodes.
 * Replies to room PUBLISHes are read late, by a timer or with the next
 * command someone waits for, never skipped:
 *   - room emits all arrive, in order; their replies are read (nothing
 *     counted lost or refused), some by the defer timer; session lookups
 *     sent between them get their own answers;
 *   - redis_reply_defer_ms 0 reads every reply at once;
 *   - room PUBLISHes Redis refuses (an ACL channel rule) are each counted;
 *   - PUBLISHes a frozen, then killed, Redis never answered are counted
 *     as lost.
 * Every wait is bounded; only processes the test started are signalled. */
#include "harness.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

static const char *feed[] = {"feed"};

typedef struct pair {
    redis_srv *r;
    daemon_t *na, *nb;
    sc_client *a, *b;
    recorder rb;
} pair;

/* Node a (with up to four extra flags, NULL-terminated), node b with default
 * settings and one socket of app b in room "feed". */
static void pair_start(pair *p, const char *x1, const char *x2, const char *x3, const char *x4)
{
    memset(p, 0, sizeof(*p));
    p->r = redis_start();
    p->na = node_start(p->r, "node-a", x1, x2, x3, x4, NULL);
    p->nb = node_start(p->r, "node-b", NULL);
    p->a = app_open(p->na, "app-a", NULL);
    p->b = app_open(p->nb, "app-b", &p->rb);
    assert_int_equal(sc_client_socket_up(p->b, "b1", "sb1", "", NULL, 0, feed, 1), 0);
    assert_int_equal(sc_client_sync(p->b, 0), 0);
    assert_int_equal(wait_nodes(p->a, 2, 5000), 2);
}

static void pair_free(pair *p)
{
    sc_client_close(p->a);
    sc_client_close(p->b);
    daemon_free(p->na);
    daemon_free(p->nb);
    redis_free(p->r);
}

/* n room emits, each in its own daemon loop iteration (a sync after each),
 * so each is its own PUBLISH rather than part of a batch. */
static void emit_each(sc_client *a, int n)
{
    sc_target t = {.rooms = feed, .n_rooms = 1};
    char m[32];
    for (int i = 0; i < n; i++) {
        snprintf(m, sizeof(m), "m%d", i);
        assert_int_equal(sc_client_emit(a, &t, NULL, (const uint8_t *)m, strlen(m)), 0);
        assert_int_equal(sc_client_sync(a, 0), 0);
    }
}

/* Until stat `name` of c reaches v (bounded); returns what it was. */
static uint64_t wait_stat(sc_client *c, const char *name, uint64_t v, int ms)
{
    uint64_t end = now_ms_h() + (uint64_t)ms, got;
    while ((got = stat_of(c, name)) < v && now_ms_h() < end)
        usleep(5000);
    return got;
}

/* The room subscription of node b is in place: a probe comes through. */
static void wait_room_ready(pair *p)
{
    sc_target t = {.rooms = feed, .n_rooms = 1};
    for (uint64_t end = now_ms_h() + 5000; p->rb.frames == 0 && now_ms_h() < end;) {
        assert_int_equal(sc_client_emit(p->a, &t, NULL, (const uint8_t *)"probe", 5), 0);
        assert_int_equal(sc_client_sync(p->a, 0), 0);
        rec_wait_frames(p->b, &p->rb, 1, 100);
    }
    assert_true(p->rb.frames >= 1);
    app_drain(p->b, 100);
    rec_reset(&p->rb);
}

/* A lookup of app b's socket from node a: a command someone waits for,
 * among the quiet ones. */
static void lookup_b1(pair *p)
{
    assert_int_equal(sc_client_lookup(p->a, SC_BY_SESSION, "sb1", false, NULL, NULL, 0), 1);
    assert_int_equal(sc_client_lookup(p->a, SC_BY_SESSION, "nobody", false, NULL, NULL, 0), 0);
}

static void test_room_publish_replies_read_late(void **state)
{
    pair p;
    pair_start(&p, NULL, NULL, NULL, NULL);
    wait_room_ready(&p);
    uint64_t l0 = stat_of(p.a, "redis_commands_lost"), e0 = stat_of(p.a, "redis_errors");
    uint64_t d0 = stat_of(p.a, "redis_deferred_reads");
    for (int k = 0; k < 10; k++) {
        emit_each(p.a, 20);
        lookup_b1(&p);
    }
    rec_wait_frames(p.b, &p.rb, 200, 5000);
    assert_int_equal(p.rb.frames, 200);
    assert_string_equal(p.rb.last_payload, "m19");
    /* The lookups read the replies before them. Quiet replies with nothing
     * else to read them are read by the timer, redis_reply_defer_ms (100)
     * later, unless a heartbeat (every 200 ms here) comes first. */
    for (int i = 0; i < 100 && stat_of(p.a, "redis_deferred_reads") == d0; i++) {
        emit_each(p.a, 3);
        usleep(30000);
    }
    assert_true(stat_of(p.a, "redis_deferred_reads") > d0);
    rec_wait_frames(p.b, &p.rb, 203, 5000);
    assert_int_equal(stat_of(p.a, "redis_commands_lost"), l0);
    assert_int_equal(stat_of(p.a, "redis_errors"), e0);
    assert_int_equal(redis_calls(p.r, "client|reply"), 0);
    pair_free(&p);
}

static void test_defer_zero_reads_at_once(void **state)
{
    pair p;
    pair_start(&p, "--redis-reply-defer-ms", "0", NULL, NULL);
    wait_room_ready(&p);
    emit_each(p.a, 50);
    lookup_b1(&p);
    rec_wait_frames(p.b, &p.rb, 50, 5000);
    assert_int_equal(p.rb.frames, 50);
    assert_int_equal(stat_of(p.a, "redis_deferred_reads"), 0);
    assert_int_equal(stat_of(p.a, "redis_errors"), 0);
    pair_free(&p);
}

/* Node a's user may not publish on room channels: every refusal is read
 * and counted, though nothing waits for those replies. */
static void test_refused_publishes_counted(void **state)
{
    pair p;
    memset(&p, 0, sizeof(p));
    p.r = redis_start();
    free(redis_cli(p.r, "ACL SETUSER limited on '>pw' '~*' resetchannels '&sidecast:node:*' "
                        "'&sidecast:all' '&sidecast:subs' '+@all'"));
    char url[128];
    snprintf(url, sizeof(url), "redis://limited:pw@127.0.0.1:%d/0", p.r->port);
    p.na = node_start(p.r, "node-a", "--redis-url", url, NULL);
    p.nb = node_start(p.r, "node-b", NULL);
    p.a = app_open(p.na, "app-a", NULL);
    p.b = app_open(p.nb, "app-b", &p.rb);
    assert_int_equal(sc_client_socket_up(p.b, "b1", "sb1", "", NULL, 0, feed, 1), 0);
    assert_int_equal(sc_client_sync(p.b, 0), 0);
    assert_int_equal(wait_nodes(p.a, 2, 5000), 2);
    uint64_t e0 = stat_of(p.a, "redis_errors");
    emit_each(p.a, 20);
    lookup_b1(&p); /* answered rightly, after the 20 refusals */
    assert_int_equal(wait_stat(p.a, "redis_errors", e0 + 20, 5000), e0 + 20);
    assert_true(wait_log(p.na, "redis refused a command", 1000));
    /* a targeted emit (node channel, allowed) still arrives */
    static const char *const ids[] = {"b1"};
    sc_target t = {.socket_ids = ids, .n_socket_ids = 1};
    assert_int_equal(sc_client_emit(p.a, &t, NULL, (const uint8_t *)"direct", 6), 0);
    assert_int_equal(sc_client_sync(p.a, 0), 0);
    rec_wait_frames(p.b, &p.rb, 1, 5000);
    assert_string_equal(p.rb.last_payload, "direct");
    pair_free(&p);
}

/* Redis frozen: the publishes are written but never answered; when the
 * connection drops they are counted with the unanswered commands. */
static void test_unanswered_counted_lost(void **state)
{
    pair p;
    pair_start(&p, NULL, NULL, NULL, NULL);
    wait_room_ready(&p);
    uint64_t l0 = stat_of(p.a, "redis_commands_lost"), q0 = stat_of(p.a, "outbox_queued");
    redis_signal(p.r, SIGSTOP);
    emit_each(p.a, 30);
    redis_kill(p.r);
    for (uint64_t end = now_ms_h() + 5000; stat_of(p.a, "redis_pub_up") && now_ms_h() < end;)
        usleep(10000);
    assert_int_equal(stat_of(p.a, "redis_pub_up"), 0);
    /* every emit: sent and never answered (lost), or sent after the probe
     * declared Redis down (outbox) */
    uint64_t lost = stat_of(p.a, "redis_commands_lost") - l0;
    uint64_t queued = stat_of(p.a, "outbox_queued") - q0;
    assert_true(lost + queued >= 30);
    pair_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_room_publish_replies_read_late),
        cmocka_unit_test(test_defer_zero_reads_at_once),
        cmocka_unit_test(test_refused_publishes_counted),
        cmocka_unit_test(test_unanswered_counted_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
