/* Unit tests for broker/http.c's request handling (sc_http_respond, the
 * function the fuzz target calls) and broker/metrics.c's text helpers:
 * label escaping and histogram buckets. No server: srv is NULL. */
#include "unit.h"

#include "http.h"
#include "config.h"
#include "exposition.h"
#include "metrics.h"

#include <errno.h>
#include <sys/socket.h>

static int respond(const char *req, size_t len, size_t max, sc_buf *out)
{
    sc_buf_init(out);
    return sc_http_respond(NULL, (const uint8_t *)req, len, max, out);
}

static const char *text_of(sc_buf *b)
{
    sc_buf_append(b, "", 1);
    return (const char *)sc_buf_head(b);
}

static void test_routes(void **state)
{
    sc_buf out;
    static const char hz[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(respond(hz, sizeof(hz) - 1, 8192, &out), 200);
    assert_non_null(strstr(text_of(&out), "\r\n\r\nok\n"));
    sc_buf_free(&out);
    static const char m[] = "GET /metrics?x=1 HTTP/1.0\r\n\r\n";
    assert_int_equal(respond(m, sizeof(m) - 1, 8192, &out), 200);
    const char *t = text_of(&out);
    assert_non_null(strstr(t, "Content-Type: text/plain; version=0.0.4"));
    assert_non_null(strstr(t, "# TYPE sidecast_frames_in_total counter\n"));
    assert_non_null(strstr(t, "sidecast_build_info{version=\""));
    sc_buf_free(&out);
    static const char rz[] = "GET /readyz HTTP/1.1\r\n\r\n";
    assert_int_equal(respond(rz, sizeof(rz) - 1, 8192, &out), 503);
    sc_buf_free(&out);
    static const char nf[] = "GET /metricsx HTTP/1.1\r\n\r\n";
    assert_int_equal(respond(nf, sizeof(nf) - 1, 8192, &out), 404);
    sc_buf_free(&out);
    static const char del[] = "DELETE /metrics HTTP/1.1\r\n\r\n";
    assert_int_equal(respond(del, sizeof(del) - 1, 8192, &out), 405);
    assert_non_null(strstr(text_of(&out), "Allow: GET, HEAD\r\n"));
    sc_buf_free(&out);
    static const char head[] = "HEAD /healthz HTTP/1.1\r\n\r\n";
    assert_int_equal(respond(head, sizeof(head) - 1, 8192, &out), 200);
    assert_int_equal(strcmp(text_of(&out) + out.len - 5, "\r\n\r\n"), 0); /* no body */
    sc_buf_free(&out);
}

static void test_bounds_and_garbage(void **state)
{
    sc_buf out;
    static const char part[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
    assert_int_equal(respond(part, sizeof(part) - 1, 8192, &out), 0); /* wait for more */
    assert_int_equal(out.len, 0);
    assert_int_equal(respond(part, sizeof(part) - 1, 20, &out), 431);
    sc_buf_free(&out);
    static const char junk[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
    assert_int_equal(respond(junk, sizeof(junk) - 1, 8192, &out), 400);
    sc_buf_free(&out);
    /* every prefix of a valid request is "incomplete", never an error */
    static const char ok[] = "GET /healthz HTTP/1.1\r\nHost: a\r\nX-Y: z\r\n\r\n";
    for (size_t n = 0; n < sizeof(ok) - 1; n++) {
        assert_int_equal(respond(ok, n, 8192, &out), 0);
        sc_buf_free(&out);
    }
    /* random bytes: any answer, never a crash or a read past the end */
    uint64_t seed = 42;
    char buf[256];
    for (int i = 0; i < 2000; i++) {
        size_t n = unit_rand(&seed) % sizeof(buf);
        for (size_t j = 0; j < n; j++)
            buf[j] = (char)unit_rand(&seed);
        if (i % 2 && n > 4)
            memcpy(buf, "GET ", 4);
        int st = respond(buf, n, 128, &out);
        assert_true(st == 0 || (st >= 200 && st < 600));
        sc_buf_free(&out);
    }
}

static void test_escape_label(void **state)
{
    sc_buf b;
    sc_buf_init(&b);
    sc_metrics_escape_label(&b, "a\\b\"c\nd");
    assert_string_equal(text_of(&b), "a\\\\b\\\"c\\nd");
    sc_buf_free(&b);
}

static void test_histogram(void **state)
{
    sc_histogram h;
    memset(&h, 0, sizeof(h));
    sc_histogram_observe(&h, 100);      /* le 0.0001 */
    sc_histogram_observe(&h, 101);      /* le 0.00025 */
    sc_histogram_observe(&h, 99999999); /* +Inf */
    assert_int_equal(h.counts[0], 1);
    assert_int_equal(h.counts[1], 1);
    assert_int_equal(h.counts[SC_HIST_BUCKETS], 1);
    assert_int_equal(h.sum_us, 100 + 101 + 99999999);
}

static void test_parse_listen(void **state)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    char why[300];
    assert_int_equal(sc_config_parse_listen("127.0.0.1:9466", &ss, &sl, why, sizeof(why)), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(sc_config_parse_listen("[::1]:0", &ss, &sl, why, sizeof(why)), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(sc_config_parse_listen("0.0.0.0:80", &ss, &sl, why, sizeof(why)), 0);
    const char *bad[] = {"9466",         ":9466",    "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                         "127.0.0.1:-1", "::1:9466", "[::1]9466", "[::1",       "1.2.3.4:9x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sc_config_parse_listen(bad[i], &ss, &sl, why, sizeof(why)), -EINVAL);
        assert_non_null(strstr(why, "http_listen"));
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_parse_listen),       cmocka_unit_test(test_routes),
    cmocka_unit_test(test_bounds_and_garbage), cmocka_unit_test(test_escape_label),
    cmocka_unit_test(test_histogram),
};

UNIT_MAIN(tests)
