/* Integration: the bounds across connections. A frame begun and not
 * finished within frame_timeout_ms closes its connection (Error{TIMEOUT},
 * counted, memory released) while a slow but steady sender is left alone;
 * the buffers of all app connections stay under max_client_memory (volatile
 * messages dropped first, then the largest holder closed, counted, the
 * others unaffected); and /healthz stays answerable while slow HTTP peers
 * hold every one of http_max_connections. */
#include "harness.h"

#include "buf.h"
#include "wire.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MC(name) SIDECAST__V1__FRAME__MSG_##name
#define ERR_LIMIT SIDECAST__V1__ERROR_CODE__ERROR_LIMIT
#define ERR_TIMEOUT SIDECAST__V1__ERROR_CODE__ERROR_TIMEOUT
#define MIB (1024 * 1024)

static char body[1 << 20];

static double scrape(int port, const char *series)
{
    assert_int_equal(http_get(port, "/metrics", body, sizeof(body)), 200);
    return metric_value(body, series);
}

/* Poll /metrics until series is at least lo and at most hi (bounded);
 * returns the last value. */
static double wait_metric(int port, const char *series, double lo, double hi, int timeout_ms)
{
    uint64_t end = now_ms_h() + (uint64_t)timeout_ms;
    double v = scrape(port, series);
    while ((v < lo || v > hi) && now_ms_h() < end) {
        usleep(20000);
        v = scrape(port, series);
    }
    return v;
}

/* A raw app connection that has said Hello and read its Welcome. */
static int raw_app(const daemon_t *d)
{
    int fd = raw_connect(d->sock);
    assert_true(fd >= 0);
    raw_send_hello(fd, SC_PROTOCOL_VERSION);
    assert_int_equal(raw_read_frame(fd, NULL, 5000), MC(WELCOME));
    return fd;
}

/* Send what the peer takes; a peer that closes (EPIPE, ECONNRESET) ends it. */
static void send_until_closed(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
        if (r <= 0)
            return;
        p += r;
        n -= (size_t)r;
    }
}

/* The 4-byte length of a frame whose body is `len` bytes. */
static void put_len(uint8_t *p, uint32_t len)
{
    p[0] = (uint8_t)(len >> 24);
    p[1] = (uint8_t)(len >> 16);
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
}

static void encode_ping(sc_buf *b, uint64_t id)
{
    Sidecast__V1__Ping pg = SIDECAST__V1__PING__INIT;
    pg.nonce = id;
    sc_frame f = SC_FRAME_INIT;
    f.id = id;
    f.msg_case = MC(PING);
    f.ping = &pg;
    sc_wire_append(b, &f);
}

/* ---- frame_timeout_ms ----------------------------------------------------------- */

#define BIG 4    /* connections holding 1 MiB of a 1 MiB + 1 frame */
#define SMALL 2  /* 100 bytes of a 1000-byte frame */
#define HEADER 2 /* 2 bytes of a length, no Hello */
#define STEPS 20 /* the steady sender: one frame per step */
#define STEP_US 200000

static void test_frame_timeout(void **state)
{
    daemon_t *d = daemon_start("--frame-timeout-ms", "3000", "--max-frame-bytes", "2m", NULL);
    int port = daemon_http_port(d);
    recorder rw;
    sc_client *w = app_open(d, "witness", &rw);
    int bad[BIG + SMALL + HEADER];
    int nbad = 0;

    static uint8_t big[MIB + 4];
    memset(big, 0, sizeof(big));
    put_len(big, MIB + 1);
    for (int i = 0; i < BIG; i++) {
        bad[nbad] = raw_app(d);
        raw_send(bad[nbad++], big, sizeof(big));
    }
    uint8_t small[104] = {0};
    put_len(small, 1000);
    for (int i = 0; i < SMALL; i++) {
        bad[nbad] = raw_app(d);
        raw_send(bad[nbad++], small, sizeof(small));
    }
    for (int i = 0; i < HEADER; i++) {
        bad[nbad] = raw_connect(d->sock);
        assert_true(bad[nbad] >= 0);
        raw_send(bad[nbad++], "\0\0", 2);
    }
    /* the unfinished frames are held, and counted in the gauge */
    assert_true(wait_metric(port, "sidecast_client_memory_bytes", BIG * MIB, 1e12, 10000) >=
                BIG * MIB);

    /* a steady sender whose input never runs empty (each step ends with the
     * first bytes of the next frame), for longer than the timeout in all:
     * every frame is whole well within it, so it is never closed */
    int steady = raw_app(d);
    sc_buf frames;
    sc_buf_init(&frames);
    size_t cut[STEPS + 2];
    for (int i = 0; i <= STEPS; i++) {
        cut[i] = sc_buf_used(&frames);
        encode_ping(&frames, 100 + (uint64_t)i);
    }
    cut[STEPS + 1] = sc_buf_used(&frames);
    size_t sent = 0;
    for (int i = 1; i <= STEPS + 1; i++) {
        size_t upto = i <= STEPS ? cut[i] + 2 : cut[i];
        raw_send(steady, sc_buf_head(&frames) + sent, upto - sent);
        sent = upto;
        if (i <= STEPS)
            usleep(STEP_US);
    }
    sc_buf_free(&frames);
    for (int i = 0; i <= STEPS; i++)
        assert_int_equal(raw_read_frame(steady, NULL, 5000), MC(PONG));

    /* every connection with an unfinished frame is told why and closed */
    for (int i = 0; i < nbad; i++) {
        int code = 0;
        assert_int_equal(raw_read_frame(bad[i], &code, 15000), MC(ERROR));
        assert_int_equal(code, ERR_TIMEOUT);
        assert_true(raw_wait_eof(bad[i], 5000));
        close(bad[i]);
    }
    assert_int_equal(stat_of(w, "frame_timeouts"), nbad);
    assert_int_equal(stat_of(w, "app_connections"), 2);
    assert_int_equal(scrape(port, "sidecast_refused_total{reason=\"frame_timeout\"}"), nbad);
    /* and what they held is released */
    assert_true(wait_metric(port, "sidecast_client_memory_bytes", 0, MIB - 1, 10000) < MIB);
    assert_true(daemon_log_contains(d, "frame incomplete after frame_timeout_ms 3000"));

    /* the steady sender is still served */
    sc_buf one;
    sc_buf_init(&one);
    encode_ping(&one, 999);
    raw_send(steady, sc_buf_head(&one), sc_buf_used(&one));
    sc_buf_free(&one);
    assert_int_equal(raw_read_frame(steady, NULL, 5000), MC(PONG));
    assert_int_equal(stat_of(w, "frame_timeouts"), nbad);
    close(steady);
    sc_client_close(w);
    daemon_free(d);
}

/* frame_timeout_ms 0 is no limit; a reload to a limit applies to a frame
 * already waiting; a reload of max_client_memory is taken too. */
static void test_limits_reload(void **state)
{
    daemon_t *d = daemon_prepare();
    char conf[400];
    snprintf(conf, sizeof(conf), "%s/sidecast.conf", d->dir);
    write_file(conf, "frame_timeout_ms = 0\n");
    daemon_launch(d, false, "--config", conf, NULL);
    sc_client *w = app_open(d, "witness", NULL);
    int fd = raw_app(d);
    uint8_t part[14] = {0};
    put_len(part, 100);
    raw_send(fd, part, sizeof(part));
    assert_int_equal(sc_client_ping(w, 0, NULL), 0);

    write_file(conf, "frame_timeout_ms = 200\nmax_client_memory = 512m\n");
    kill(d->pid, SIGHUP);
    assert_true(wait_log(d, "reload: frame_timeout_ms changed from 0 to 200", 10000));
    assert_true(daemon_log_contains(d, "reload: max_client_memory changed from 1073741824 to "
                                       "536870912"));
    assert_false(daemon_log_contains(d, "need a restart"));
    int code = 0;
    assert_int_equal(raw_read_frame(fd, &code, 15000), MC(ERROR));
    assert_int_equal(code, ERR_TIMEOUT);
    assert_true(raw_wait_eof(fd, 5000));
    close(fd);
    assert_int_equal(stat_of(w, "frame_timeouts"), 1);
    sc_client_close(w);
    daemon_free(d);
}

/* ---- max_client_memory ------------------------------------------------------------ */

#define PAYLOAD 1024

static const char *room[] = {"feed"};

static void emit_batch(sc_client *e, int n, bool vol)
{
    emit_to_room(e, room[0], n, PAYLOAD, vol);
}

static void test_client_memory(void **state)
{
    daemon_t *d = daemon_start("--max-client-memory", "2m", "--max-frame-bytes", "4m", NULL);
    int port = daemon_http_port(d);
    recorder rr, rw;
    sc_client *r = app_open(d, "stuck-reader", &rr);
    sc_client *w = app_open(d, "witness", &rw);
    sc_client *e = app_open(d, "emitter", NULL);
    assert_int_equal(sc_client_socket_up(r, "r1", "s1", "", NULL, 0, room, 1), 0);
    assert_int_equal(sc_client_socket_up(w, "w1", "s2", "", NULL, 0, room, 1), 0);
    assert_int_equal(sc_client_sync(r, 0), 0);
    assert_int_equal(sc_client_sync(w, 0), 0);

    /* 4 MiB of volatile messages for a reader that reads nothing: the
     * buffers of all connections would pass 2 MiB (below output_buffer_soft
     * of that one connection): dropped, counted, nobody disconnected */
    const int batches = 40, per = 100;
    for (int i = 0; i < batches; i++) {
        emit_batch(e, per, true);
        app_drain(w, 2);
    }
    assert_true(stat_of(e, "drops_volatile_client_memory") > 0);
    assert_int_equal(stat_of(e, "drops_volatile_slow_reader"), 0);
    assert_int_equal(stat_of(e, "disconnects_client_memory"), 0);
    assert_int_equal(stat_of(e, "app_connections"), 3);
    assert_true(scrape(port, "sidecast_client_memory_bytes") <= 2 * MIB);
    assert_true(daemon_log_contains(d, "dropping volatile message"));
    app_drain(w, 50);
    rec_reset(&rw);

    /* the same as ordinary messages: the reader, holding the most, is
     * closed; the witness gets every one */
    for (int i = 0; i < batches; i++) {
        emit_batch(e, per, false);
        app_drain(w, 2);
    }
    rec_wait_frames(w, &rw, (uint64_t)batches * per, 10000);
    assert_int_equal(rw.frames, (uint64_t)batches * per);
    assert_int_equal(stat_of(e, "disconnects_client_memory"), 1);
    assert_int_equal(stat_of(e, "disconnects_slow_reader"), 0);
    assert_int_equal(stat_of(e, "app_connections"), 2);
    assert_int_equal(stat_of(e, "sockets"), 1);
    assert_true(daemon_log_contains(d, "(stuck-reader pid"));
    assert_true(daemon_log_contains(d, "over max_client_memory 2097152"));
    int rc = 0;
    for (int i = 0; i < 200 && rc == 0; i++)
        rc = sc_client_poll(r, 20);
    assert_int_equal(rc, -EPIPE);
    sc_client_close(r);

    /* input counts too: a frame of 3 MiB cannot be buffered within 2 MiB;
     * its sender holds the most, is told why and closed */
    int fd = raw_app(d);
    static uint8_t big[3 * MIB];
    memset(big, 0, sizeof(big));
    put_len(big, 3 * MIB);
    send_until_closed(fd, big, sizeof(big));
    int code = 0;
    assert_int_equal(raw_read_frame(fd, &code, 10000), MC(ERROR));
    assert_int_equal(code, ERR_LIMIT);
    assert_true(raw_wait_eof(fd, 10000));
    close(fd);
    assert_int_equal(stat_of(e, "disconnects_client_memory"), 2);
    assert_int_equal(
        scrape(port, "sidecast_messages_lost_total{reason=\"client_memory_disconnect\"}"), 2);

    /* the others never noticed */
    assert_int_equal(sc_client_ping(w, 0, NULL), 0);
    assert_int_equal(sc_client_ping(e, 0, NULL), 0);
    sc_client_close(w);
    sc_client_close(e);
    daemon_free(d);
}

/* ---- http_max_connections ------------------------------------------------------------ */

#define FLOOD 64

static void test_http_health_under_flood(void **state)
{
    daemon_t *d =
        daemon_start("--http-max-connections", "4", "--http-request-timeout-ms", "60000", NULL);
    int port = daemon_http_port(d);
    static const char partial[] = "GET /metrics HTTP/1.1\r\nX-Slow: a";

    /* four slow peers hold every connection: /healthz is still answered,
     * the oldest slow one making room */
    int slow[4];
    for (int i = 0; i < 4; i++) {
        slow[i] = tcp_connect(port);
        if (i % 2)
            raw_send(slow[i], partial, sizeof(partial) - 1);
    }
    assert_int_equal(http_get(port, "/healthz", body, sizeof(body)), 200);
    assert_string_equal(body, "ok\n");
    assert_true(raw_wait_eof(slow[0], 10000));
    assert_int_equal(http_get(port, "/readyz", body, sizeof(body)), 200);

    /* a flood of 64 more: still answered */
    int flood[FLOOD];
    for (int i = 0; i < FLOOD; i++)
        flood[i] = tcp_connect(port);
    assert_int_equal(http_get(port, "/healthz", body, sizeof(body)), 200);
    double evicted = scrape(port, "sidecast_http_refused_total{reason=\"evicted\"}");
    assert_true(evicted >= FLOOD - 4); /* the first few may have found a free slot */
    assert_int_equal(
        metric_value(body, "sidecast_http_refused_total{reason=\"http_max_connections\"}"), 0);
    assert_true(metric_value(body, "sidecast_http_connections") <= 4);
    assert_true(daemon_log_contains(d, "closing the oldest connection without a whole request"));
    for (int i = 0; i < 4; i++)
        close(slow[i]);
    for (int i = 0; i < FLOOD; i++)
        close(flood[i]);
    daemon_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_timeout),
        cmocka_unit_test(test_limits_reload),
        cmocka_unit_test(test_client_memory),
        cmocka_unit_test(test_http_health_under_flood),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
