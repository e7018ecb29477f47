/* Integration: malformed, oversized, unknown and out-of-order frames get an
 * Error frame saying why and the connection is closed; the daemon and every
 * other connection carry on. */
#include "harness.h"

#include "buf.h"
#include "wire.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#define MC_ERROR SIDECAST__V1__FRAME__MSG_ERROR
#define MC_WELCOME SIDECAST__V1__FRAME__MSG_WELCOME

typedef struct world {
    daemon_t *d;
    sc_client *good;
    recorder rgood;
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof(*w));
    w->d = daemon_start("--max-frame-bytes", "4096", NULL);
    w->good = app_open(w->d, "good-app", &w->rgood);
    const char *rooms[] = {"lobby"};
    assert_int_equal(sc_client_socket_up(w->good, "g1", "s", "", NULL, 0, rooms, 1), 0);
    assert_int_equal(sc_client_sync(w->good, 0), 0);
    *state = w;
    return 0;
}

/* After each bad connection: the good app still works, its socket is still
 * registered, and it still receives emits. */
static void assert_good_app_unaffected(world *w)
{
    assert_int_equal(sc_client_ping(w->good, 0, NULL), 0);
    assert_int_equal(stat_of(w->good, "sockets"), 1);
    const char *rooms[] = {"lobby"};
    sc_target t = {.rooms = rooms, .n_rooms = 1};
    sc_emit_flags fl = {.include_self = true};
    rec_reset(&w->rgood);
    assert_int_equal(sc_client_emit(w->good, &t, &fl, (const uint8_t *)"ok", 2), 0);
    assert_int_equal(sc_client_sync(w->good, 0), 0);
    assert_int_equal(rec_count(&w->rgood, "g1"), 1);
}

static int teardown(void **state)
{
    world *w = *state;
    assert_good_app_unaffected(w);
    sc_client_close(w->good);
    daemon_free(w->d);
    free(w);
    return 0;
}

static void expect_fatal(world *w, int fd, int code)
{
    int got = 0;
    int mc = raw_read_frame(fd, &got, 5000);
    assert_int_equal(mc, MC_ERROR);
    assert_int_equal(got, code);
    assert_true(raw_wait_eof(fd, 5000));
    close(fd);
    assert_good_app_unaffected(w);
}

static int hello_ok(world *w)
{
    int fd = raw_connect(w->d->sock);
    assert_true(fd >= 0);
    raw_send_hello(fd, SC_PROTOCOL_VERSION);
    assert_int_equal(raw_read_frame(fd, NULL, 5000), MC_WELCOME);
    return fd;
}

static void test_garbage(void **state)
{
    world *w = *state;
    int fd = hello_ok(w);
    uint8_t junk[] = {0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    raw_send(fd, junk, sizeof(junk));
    expect_fatal(w, fd, SC_ERR_MALFORMED);
}

static void test_oversized(void **state)
{
    world *w = *state;
    int fd = hello_ok(w);
    uint8_t hdr[] = {0, 0x10, 0, 0}; /* 1 MiB announced, limit 4096 */
    raw_send(fd, hdr, sizeof(hdr));
    expect_fatal(w, fd, SC_ERR_TOO_LARGE);
    assert_true(stat_of(w->good, "refused_too_large") >= 1);
}

static void test_unknown_message(void **state)
{
    world *w = *state;
    int fd = hello_ok(w);
    /* field 99, wire type 2 (bytes), length 1: a message this version does
     * not know (what a newer client might send) */
    uint8_t frame[] = {0, 0, 0, 4, 0x9a, 0x06, 0x01, 0x00};
    raw_send(fd, frame, sizeof(frame));
    expect_fatal(w, fd, SC_ERR_UNKNOWN_MESSAGE);
}

static void test_before_hello(void **state)
{
    world *w = *state;
    int fd = raw_connect(w->d->sock);
    Sidecast__V1__Ping p = SIDECAST__V1__PING__INIT;
    sc_frame f = SC_FRAME_INIT;
    f.id = 7;
    f.msg_case = SIDECAST__V1__FRAME__MSG_PING;
    f.ping = &p;
    sc_buf b;
    sc_buf_init(&b);
    sc_wire_append(&b, &f);
    raw_send(fd, b.data, b.len);
    sc_buf_free(&b);
    expect_fatal(w, fd, SC_ERR_HANDSHAKE);
}

static void test_hello_twice(void **state)
{
    world *w = *state;
    int fd = hello_ok(w);
    raw_send_hello(fd, SC_PROTOCOL_VERSION);
    expect_fatal(w, fd, SC_ERR_HANDSHAKE);
}

static void test_version_mismatch(void **state)
{
    world *w = *state;
    int fd = raw_connect(w->d->sock);
    raw_send_hello(fd, 99);
    expect_fatal(w, fd, SC_ERR_VERSION);
    assert_true(daemon_log_contains(w->d, "protocol version 99 is not supported"));
}

static void test_server_only_message(void **state)
{
    world *w = *state;
    int fd = hello_ok(w);
    Sidecast__V1__Deliver d = SIDECAST__V1__DELIVER__INIT;
    sc_frame f = SC_FRAME_INIT;
    f.msg_case = SIDECAST__V1__FRAME__MSG_DELIVER;
    f.deliver = &d;
    sc_buf b;
    sc_buf_init(&b);
    sc_wire_append(&b, &f);
    raw_send(fd, b.data, b.len);
    sc_buf_free(&b);
    expect_fatal(w, fd, SC_ERR_INVALID);
}

static void test_disconnect_mid_frame(void **state)
{
    world *w = *state;
    int fd = hello_ok(w);
    /* a socket registered, then half a frame, then gone */
    Sidecast__V1__SocketUp u = SIDECAST__V1__SOCKET_UP__INIT;
    u.socket_id = (char *)"half";
    sc_frame f = SC_FRAME_INIT;
    f.msg_case = SIDECAST__V1__FRAME__MSG_SOCKET_UP;
    f.socket_up = &u;
    sc_buf b;
    sc_buf_init(&b);
    sc_wire_append(&b, &f);
    raw_send(fd, b.data, b.len);
    raw_send(fd, b.data, b.len - 2);
    sc_buf_free(&b);
    assert_int_equal(sc_client_sync(w->good, 0), 0);
    assert_int_equal(stat_of(w->good, "sockets"), 2);
    close(fd);
    /* the sidecar notices the close and unregisters "half" */
    for (int i = 0; i < 100 && stat_of(w->good, "sockets") != 1; i++)
        usleep(10000);
    assert_int_equal(stat_of(w->good, "sockets"), 1);
    assert_true(daemon_log_contains(w->d, "in the middle of a frame"));
}

static void test_refusal_keeps_connection(void **state)
{
    world *w = *state;
    int fd = hello_ok(w);
    /* join for a socket this connection does not own: refused, not fatal */
    raw_send_join(fd, 5, "g1", "x");
    int code = 0;
    assert_int_equal(raw_read_frame(fd, &code, 5000), MC_ERROR);
    assert_int_equal(code, SC_ERR_NOT_FOUND);
    assert_false(raw_wait_eof(fd, 200)); /* still open */
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_unknown_message),
        cmocka_unit_test(test_before_hello),
        cmocka_unit_test(test_hello_twice),
        cmocka_unit_test(test_version_mismatch),
        cmocka_unit_test(test_server_only_message),
        cmocka_unit_test(test_disconnect_mid_frame),
        cmocka_unit_test(test_refusal_keeps_connection),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
