/* Integration: a slow reader loses volatile messages first (counted), then
 * is disconnected past the hard bound (counted, logged); the accounting adds
 * up exactly and other connections are unaffected. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#define PAYLOAD 1024

static const char *room[] = {"feed"};

static void emit_n(sc_client *e, int n, bool vol)
{
    static uint8_t payload[PAYLOAD];
    memset(payload, 'x', sizeof(payload));
    sc_target t = {.rooms = room, .n_rooms = 1};
    sc_emit_flags fl = {.is_volatile = vol};
    for (int i = 0; i < n; i++)
        assert_int_equal(sc_client_emit(e, &t, &fl, payload, sizeof(payload)), 0);
    assert_int_equal(sc_client_sync(e, 0), 0);
}

static void test_volatile_dropped_then_accounted(void **state)
{
    daemon_t *d = daemon_start("--output-buffer-soft", "64k", "--output-buffer-hard", "4m", NULL);
    recorder rr, re;
    sc_client *r = app_open(d, "slow-reader", &rr);
    sc_client *e = app_open(d, "emitter", &re);
    assert_int_equal(sc_client_socket_up(r, "r1", "s", "", NULL, 0, room, 1), 0);
    assert_int_equal(sc_client_sync(r, 0), 0);

    /* r does not read while 3000 volatile KiB-sized messages are emitted */
    const int sent = 3000;
    emit_n(e, sent, true);
    uint64_t dropped = stat_of(e, "drops_volatile_slow_reader");
    assert_true(dropped > 0);
    assert_int_equal(stat_of(e, "app_connections"), 2); /* not disconnected */

    /* now r reads everything that was kept */
    rec_wait_frames(r, &rr, (uint64_t)sent - dropped, 10000);
    app_drain(r, 100);
    assert_int_equal(rr.frames + dropped, sent);
    assert_int_equal(rec_count(&rr, "r1"), sent - dropped);
    assert_true(daemon_log_contains(d, "slow reader"));

    /* non-volatile messages are never dropped below the hard bound */
    rec_reset(&rr);
    emit_n(e, 1000, false);
    assert_int_equal(stat_of(e, "drops_volatile_slow_reader"), dropped);
    rec_wait_frames(r, &rr, 1000, 10000);
    assert_int_equal(rr.frames, 1000);

    sc_client_close(r);
    sc_client_close(e);
    daemon_free(d);
}

static void test_hard_bound_disconnects(void **state)
{
    daemon_t *d = daemon_start("--output-buffer-soft", "64k", "--output-buffer-hard", "256k",
                               "--max-frame-bytes", "64k", NULL);
    recorder rr, re, rw;
    sc_client *r = app_open(d, "stuck-reader", &rr);
    sc_client *e = app_open(d, "emitter", &re);
    sc_client *wit = app_open(d, "witness", &rw);
    assert_int_equal(sc_client_socket_up(r, "r1", "s", "", NULL, 0, room, 1), 0);
    assert_int_equal(sc_client_socket_up(wit, "w1", "s", "", NULL, 0, room, 1), 0);
    assert_int_equal(sc_client_sync(r, 0), 0);
    assert_int_equal(sc_client_sync(wit, 0), 0);

    /* far beyond 256 KiB plus what the kernel buffers; the witness keeps
     * reading and must receive every message */
    const int batches = 40, per = 100;
    for (int i = 0; i < batches; i++) {
        emit_n(e, per, false);
        app_drain(wit, 5);
    }
    rec_wait_frames(wit, &rw, (uint64_t)batches * per, 10000);
    assert_int_equal(rw.frames, (uint64_t)batches * per);
    assert_int_equal(stat_of(e, "disconnects_slow_reader"), 1);
    assert_int_equal(stat_of(e, "app_connections"), 2);
    assert_true(daemon_log_contains(d, "exceed output_buffer_hard"));
    /* the stuck reader's socket is gone from the registry */
    assert_int_equal(stat_of(e, "sockets"), 1);

    /* the stuck reader finds out when it finally reads */
    int rc = 0;
    for (int i = 0; i < 200 && rc == 0; i++)
        rc = sc_client_poll(r, 20);
    assert_int_equal(rc, -EPIPE);

    sc_client_close(r);
    sc_client_close(e);
    sc_client_close(wit);
    daemon_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_volatile_dropped_then_accounted),
        cmocka_unit_test(test_hard_bound_disconnects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
