/* Integration: a slow reader loses volatile messages first (counted), then
 * is disconnected past the hard bound (counted, logged); the accounting adds
 * up exactly and other connections are unaffected. */
#include "harness.h"

#include "buf.h"
#include "wire.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PAYLOAD 1024

static const char *room[] = {"feed"};

static void emit_n(sc_client *e, int n, bool vol)
{
    emit_to_room(e, room[0], n, PAYLOAD, vol);
}

static void test_volatile_dropped_then_accounted(void **state)
{
    daemon_t *d = daemon_start("--output-buffer-soft", "64k", "--output-buffer-hard", "4m",
                               "--max-frame-bytes", "1m", NULL);
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

static void send_frame(int fd, const sc_frame *f)
{
    sc_buf b;
    sc_buf_init(&b);
    sc_wire_append(&b, f);
    raw_send(fd, b.data, b.len);
    sc_buf_free(&b);
}

static sc_frame *read_frame(int fd)
{
    uint8_t h[4];
    if (recv(fd, h, 4, MSG_WAITALL) != 4)
        return NULL;
    uint32_t n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    uint8_t *p = malloc(n ? n : 1);
    if (recv(fd, p, n, MSG_WAITALL) != (ssize_t)n) {
        free(p);
        return NULL;
    }
    sc_frame *f = sidecast__v1__frame__unpack(NULL, n, p);
    free(p);
    return f;
}

/* Regression: an app that is its own only ack recipient answers with an
 * Ack whose Progress frame takes it over output_buffer_hard. Closing it on
 * the spot freed the relay and request still in use (ASan: use-after-free
 * in sc_relay_ack). Now it is closed before the loop sleeps. */
static void test_overflow_inside_ack_flow(void **state)
{
    daemon_t *d = daemon_start("--output-buffer-soft", "4k", "--output-buffer-hard", "4k",
                               "--max-frame-bytes", "4k", NULL);
    sc_client *witness = app_open(d, "witness", NULL);
    int fd = raw_connect(d->sock);
    raw_send_hello(fd, SC_PROTOCOL_VERSION);
    sc_frame *w = read_frame(fd);
    assert_non_null(w);
    sidecast__v1__frame__free_unpacked(w, NULL);
    char *rooms[] = {(char *)"r"};
    Sidecast__V1__SocketUp u = SIDECAST__V1__SOCKET_UP__INIT;
    u.socket_id = (char *)"s1";
    u.rooms = rooms;
    u.n_rooms = 1;
    sc_frame f = SC_FRAME_INIT;
    f.msg_case = SIDECAST__V1__FRAME__MSG_SOCKET_UP;
    f.socket_up = &u;
    send_frame(fd, &f);
    Sidecast__V1__Selector to = SIDECAST__V1__SELECTOR__INIT;
    to.rooms = rooms;
    to.n_rooms = 1;
    Sidecast__V1__Emit e = SIDECAST__V1__EMIT__INIT;
    e.to = &to;
    e.payload.data = (uint8_t *)"hi";
    e.payload.len = 2;
    e.include_self = true;
    e.want_ack = true;
    f = (sc_frame)SC_FRAME_INIT;
    f.id = 3;
    f.msg_case = SIDECAST__V1__FRAME__MSG_EMIT;
    f.emit = &e;
    send_frame(fd, &f);
    sc_frame *dv = read_frame(fd);
    assert_non_null(dv);
    assert_int_equal(dv->msg_case, SIDECAST__V1__FRAME__MSG_DELIVER);
    uint64_t ack_id = dv->deliver->ack_id;
    sidecast__v1__frame__free_unpacked(dv, NULL);
    assert_true(ack_id != 0);
    /* a stats reply nearly fills the 4 KiB bound, then the answer's
     * Progress frame (3000 bytes) overflows it */
    static uint8_t big[3000];
    ProtobufCBinaryData pl = {sizeof(big), big};
    Sidecast__V1__StatsRequest sr = SIDECAST__V1__STATS_REQUEST__INIT;
    Sidecast__V1__Ack k = SIDECAST__V1__ACK__INIT;
    k.ack_id = ack_id;
    k.expect = 1;
    k.payloads = &pl;
    k.n_payloads = 1;
    k.done = true;
    sc_buf b;
    sc_buf_init(&b);
    f = (sc_frame)SC_FRAME_INIT;
    f.id = 9;
    f.msg_case = SIDECAST__V1__FRAME__MSG_STATS;
    f.stats = &sr;
    sc_wire_append(&b, &f);
    f = (sc_frame)SC_FRAME_INIT;
    f.msg_case = SIDECAST__V1__FRAME__MSG_ACK;
    f.ack = &k;
    sc_wire_append(&b, &f);
    raw_send(fd, b.data, b.len);
    sc_buf_free(&b);
    assert_true(raw_wait_eof(fd, 5000)); /* closed as a slow reader */
    close(fd);
    assert_int_equal(sc_client_ping(witness, 0, NULL), 0); /* the daemon is fine */
    assert_true(stat_of(witness, "disconnects_slow_reader") >= 1);
    sc_client_close(witness);
    daemon_free(d); /* exit status 0: no sanitizer abort */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_volatile_dropped_then_accounted),
        cmocka_unit_test(test_hard_bound_disconnects),
        cmocka_unit_test(test_overflow_inside_ack_flow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
