/* Integration: PUBLISHes that skip Redis's reply (CLIENT REPLY SKIP, see
 * redis_reply_check_ms), on a real redis-server with real sidecastd nodes:
 *   - room emits go out without replies and all arrive, in order; Redis ran
 *     the SKIPs (INFO commandstats); nothing is counted lost or refused;
 *   - redis_reply_check_ms 0 answers every PUBLISH;
 *   - an ACL user without CLIENT REPLY: the node asks first, says why in its
 *     log and publishes with replies (a refused SKIP would answer twice and
 *     break hiredis' reply matching);
 *   - a refused checked PUBLISH (ACL channel rule) stops the skipping, so
 *     each later refusal is answered and counted;
 *   - skipped publishes Redis never confirmed (frozen, then killed) are
 *     counted as lost;
 *   - cache-routed targeted emits keep their replies (how a lost one is
 *     counted).
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

static void wait_log(daemon_t *d, const char *needle, int ms)
{
    for (uint64_t end = now_ms_h() + (uint64_t)ms; now_ms_h() < end; usleep(10000))
        if (daemon_log_contains(d, needle))
            return;
    fail_msg("the log of %s never said \"%s\"", d->sock, needle);
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

/* Default settings, the room subscription in place, replies being skipped. */
static void pair_start_skipping(pair *p)
{
    pair_start(p, NULL, NULL, NULL, NULL);
    wait_room_ready(p);
    assert_int_equal(wait_stat(p->a, "redis_skip_replies", 1, 5000), 1);
}

static void test_room_publishes_skip_their_replies(void **state)
{
    pair p;
    pair_start_skipping(&p);
    uint64_t s0 = stat_of(p.a, "redis_replies_skipped"), l0 = stat_of(p.a, "redis_commands_lost");
    uint64_t e0 = stat_of(p.a, "redis_errors"), t0 = now_ms_h();
    long k0 = redis_calls(p.r, "client|reply");

    emit_each(p.a, 200);
    rec_wait_frames(p.b, &p.rb, 200, 5000);
    assert_int_equal(p.rb.frames, 200);
    assert_string_equal(p.rb.last_payload, "m199");
    /* at most one publish per redis_reply_check_ms (1 s) kept its reply */
    uint64_t skipped = stat_of(p.a, "redis_replies_skipped") - s0;
    uint64_t secs = (now_ms_h() - t0) / 1000 + 2;
    assert_true(skipped + secs >= 200);
    assert_true(redis_calls(p.r, "client|reply") - k0 >= (long)skipped);
    assert_int_equal(stat_of(p.a, "redis_commands_lost"), l0);
    assert_int_equal(stat_of(p.a, "redis_errors"), e0);
    pair_free(&p);
}

static void test_check_interval_zero_answers_all(void **state)
{
    pair p;
    pair_start(&p, "--redis-reply-check-ms", "0", NULL, NULL);
    wait_room_ready(&p);
    uint64_t s0 = stat_of(p.a, "redis_replies_skipped");
    long k0 = redis_calls(p.r, "client|reply");
    emit_each(p.a, 50);
    rec_wait_frames(p.b, &p.rb, 50, 5000);
    assert_int_equal(p.rb.frames, 50);
    assert_int_equal(stat_of(p.a, "redis_replies_skipped"), s0);
    assert_int_equal(redis_calls(p.r, "client|reply"), k0);
    pair_free(&p);
}

static void test_acl_without_client_reply(void **state)
{
    pair p;
    memset(&p, 0, sizeof(p));
    p.r = redis_start();
    free(redis_cli(p.r, "ACL SETUSER app on '>pw' '~*' '&*' '+@all' '-client|reply'"));
    char url[128];
    snprintf(url, sizeof(url), "redis://app:pw@127.0.0.1:%d/0", p.r->port);
    p.na = node_start(p.r, "node-a", "--redis-url", url, NULL);
    p.nb = node_start(p.r, "node-b", NULL);
    p.a = app_open(p.na, "app-a", NULL);
    p.b = app_open(p.nb, "app-b", &p.rb);
    assert_int_equal(sc_client_socket_up(p.b, "b1", "sb1", "", NULL, 0, feed, 1), 0);
    assert_int_equal(sc_client_sync(p.b, 0), 0);
    assert_int_equal(wait_nodes(p.a, 2, 5000), 2);
    wait_log(p.na, "CLIENT REPLY is not available", 5000);
    wait_room_ready(&p);
    emit_each(p.a, 50);
    rec_wait_frames(p.b, &p.rb, 50, 5000);
    assert_int_equal(p.rb.frames, 50);
    assert_int_equal(stat_of(p.a, "redis_replies_skipped"), 0);
    assert_int_equal(stat_of(p.a, "redis_skip_replies"), 0);
    assert_int_equal(stat_of(p.a, "redis_errors"), 0);
    pair_free(&p);
}

/* Node a's user may not publish on room channels: the first checked room
 * PUBLISH is refused, and from then on every PUBLISH is answered. */
static void test_refused_publish_stops_skipping(void **state)
{
    pair p;
    memset(&p, 0, sizeof(p));
    p.r = redis_start();
    free(redis_cli(p.r, "ACL SETUSER limited on '>pw' '~*' resetchannels '&sidecast:node:*' "
                        "'&sidecast:all' '+@all'"));
    char url[128];
    snprintf(url, sizeof(url), "redis://limited:pw@127.0.0.1:%d/0", p.r->port);
    p.na = node_start(p.r, "node-a", "--redis-url", url, "--redis-reply-check-ms", "200", NULL);
    p.nb = node_start(p.r, "node-b", NULL);
    p.a = app_open(p.na, "app-a", NULL);
    assert_int_equal(wait_nodes(p.a, 2, 5000), 2);
    assert_int_equal(wait_stat(p.a, "redis_skip_replies", 1, 5000), 1);
    sc_target t = {.rooms = feed, .n_rooms = 1};
    for (uint64_t end = now_ms_h() + 5000;
         !daemon_log_contains(p.na, "refused a checked PUBLISH") && now_ms_h() < end;) {
        assert_int_equal(sc_client_emit(p.a, &t, NULL, (const uint8_t *)"x", 1), 0);
        assert_int_equal(sc_client_sync(p.a, 0), 0);
        usleep(20000);
    }
    wait_log(p.na, "refused a checked PUBLISH", 1000);
    assert_int_equal(stat_of(p.a, "redis_skip_replies"), 0);
    uint64_t e0 = stat_of(p.a, "redis_errors"), s0 = stat_of(p.a, "redis_replies_skipped");
    emit_each(p.a, 20);
    assert_int_equal(wait_stat(p.a, "redis_errors", e0 + 20, 5000), e0 + 20);
    assert_int_equal(stat_of(p.a, "redis_replies_skipped"), s0);
    pair_free(&p);
}

/* Redis frozen: the skipped publishes are written but never run; when the
 * connection drops they are counted with the unanswered commands. */
static void test_unconfirmed_counted_lost(void **state)
{
    pair p;
    pair_start_skipping(&p);
    uint64_t l0 = stat_of(p.a, "redis_commands_lost"), q0 = stat_of(p.a, "outbox_queued");
    uint64_t s0 = stat_of(p.a, "redis_replies_skipped");
    redis_signal(p.r, SIGSTOP);
    emit_each(p.a, 30);
    uint64_t skipped = stat_of(p.a, "redis_replies_skipped") - s0;
    redis_kill(p.r);
    for (uint64_t end = now_ms_h() + 5000; stat_of(p.a, "redis_pub_up") && now_ms_h() < end;)
        usleep(10000);
    assert_int_equal(stat_of(p.a, "redis_pub_up"), 0);
    /* every emit: skipped and unconfirmed (lost), answered-to-be (lost), or
     * sent after the probe declared Redis down (outbox) */
    uint64_t lost = stat_of(p.a, "redis_commands_lost") - l0;
    uint64_t queued = stat_of(p.a, "outbox_queued") - q0;
    assert_true(lost >= skipped);
    assert_true(lost + queued >= 30);
    pair_free(&p);
}

/* Cache-routed targeted emits keep their replies: a count of 0 receivers is
 * how an emit to a node that is gone is counted (it_dircache). */
static void test_cache_routed_keep_replies(void **state)
{
    redis_srv *r = redis_start();
    daemon_t *na = node_start(r, "node-a", "--canary-interval-ms", "0", NULL);
    daemon_t *nc = node_start(r, "node-c", NULL);
    sc_client *a = app_open(na, "app-a", NULL);
    recorder rc;
    sc_client *c = app_open(nc, "app-c", &rc);
    assert_int_equal(sc_client_socket_up(c, "c1", "", "", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_sync(c, 0), 0);
    assert_int_equal(wait_nodes(a, 2, 5000), 2);
    static const char *const ids[] = {"c1"};
    sc_target t = {.socket_ids = ids, .n_socket_ids = 1};
    /* the first emit that arrives went through the script and filled the cache */
    for (uint64_t end = now_ms_h() + 5000; rc.frames < 1 && now_ms_h() < end;) {
        assert_int_equal(sc_client_emit(a, &t, NULL, (const uint8_t *)"w", 1), 0);
        assert_int_equal(sc_client_sync(a, 0), 0);
        rec_wait_frames(c, &rc, 1, 200);
    }
    assert_true(wait_stat(a, "dircache_entries", 1, 5000) >= 1);
    assert_int_equal(wait_stat(a, "redis_skip_replies", 1, 5000), 1);
    app_drain(c, 100);
    uint64_t f0 = rc.frames, h0 = stat_of(a, "dircache_hits");
    uint64_t s0 = stat_of(a, "redis_replies_skipped");
    long k0 = redis_calls(r, "client|reply");
    for (int i = 0; i < 20; i++) {
        assert_int_equal(sc_client_emit(a, &t, NULL, (const uint8_t *)"h", 1), 0);
        assert_int_equal(sc_client_sync(a, 0), 0);
    }
    rec_wait_frames(c, &rc, f0 + 20, 5000);
    assert_int_equal(rc.frames, f0 + 20);
    assert_int_equal(stat_of(a, "dircache_hits"), h0 + 20);
    assert_int_equal(stat_of(a, "redis_replies_skipped"), s0);
    assert_int_equal(redis_calls(r, "client|reply"), k0);
    sc_client_close(a);
    sc_client_close(c);
    daemon_free(na);
    daemon_free(nc);
    redis_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_room_publishes_skip_their_replies),
        cmocka_unit_test(test_check_interval_zero_answers_all),
        cmocka_unit_test(test_acl_without_client_reply),
        cmocka_unit_test(test_refused_publish_stops_skipping),
        cmocka_unit_test(test_unconfirmed_counted_lost),
        cmocka_unit_test(test_cache_routed_keep_replies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
