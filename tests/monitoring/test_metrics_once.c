/* Every counter of broker/stats.h is in /metrics exactly once: either on its
 * own as sidecast_<name>_total or as one sample of a labelled family
 * (messages_lost, refused, http_refused, emits, directory_lookups), never
 * both and never twice. Each counter gets a value no other sample has, the
 * exposition is rendered (no server: srv NULL, so no gauges), and the value
 * must show up on exactly one line. The text must pass `promtool check
 * metrics` when promtool is installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "exposition.h"
#include "metrics.h"
#include "stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BASE 900000000000ull /* far from any process metric */

static const char *render(sc_buf *out)
{
    sc_buf_init(out);
    sc_metrics_render(NULL, 0, out);
    sc_buf_append(out, "", 1);
    return (const char *)sc_buf_head(out);
}

/* Lines (samples, not comments) whose value is exactly v; the first one's
 * series (name and labels) goes to series. */
static int samples_with(const char *text, uint64_t v, char *series, size_t len)
{
    char want[32];
    snprintf(want, sizeof(want), " %" PRIu64 "\n", v);
    size_t wl = strlen(want);
    int n = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        const char *sp = nl;
        while (sp > p && *sp != ' ')
            sp--;
        if (*p != '#' && (size_t)(nl + 1 - sp) == wl && strncmp(sp, want, wl) == 0) {
            if (n++ == 0)
                snprintf(series, len, "%.*s", (int)(sp - p), p);
        }
        p = nl + 1;
    }
    return n;
}

static void test_each_counter_once(void **state)
{
    (void)state;
    memset(&sc_metric, 0, sizeof(sc_metric));
    uint64_t i = 0;
#define SET(name, help) sc_stat.name = BASE + i++;
    SC_COUNTERS(SET)
#undef SET
    sc_buf out;
    const char *text = render(&out);
    int standalone = 0, labelled = 0, bad = 0;
    i = 0;
#define CHECK(name, help)                                                                          \
    do {                                                                                           \
        char series[256] = "", own[160];                                                           \
        int n = samples_with(text, BASE + i++, series, sizeof(series));                            \
        snprintf(own, sizeof(own), "sidecast_%s_total", #name);                                    \
        if (n != 1) {                                                                              \
            fprintf(stderr, "counter %s: %d samples (want exactly 1)\n", #name, n);                \
            bad++;                                                                                 \
        } else if (strcmp(series, own) == 0) {                                                     \
            standalone++;                                                                          \
        } else if (strchr(series, '{')) {                                                          \
            labelled++;                                                                            \
        } else {                                                                                   \
            fprintf(stderr, "counter %s: exported as %s\n", #name, series);                        \
            bad++;                                                                                 \
        }                                                                                          \
    } while (0);
    SC_COUNTERS(CHECK)
#undef CHECK
    fprintf(stderr, "%d counters: %d on their own, %d as labels of a family\n", (int)i, standalone,
            labelled);
    assert_int_equal(bad, 0);
    assert_true(labelled > 40);
    /* the old catch-all family is gone */
    assert_null(strstr(text, "sidecast_dropped_total"));
    sc_buf_free(&out);
    memset(&sc_stat, 0, sizeof(sc_stat));
}

/* Each labelled family names every reason once. */
static void test_reasons_unique(void **state)
{
    (void)state;
    sc_buf out;
    const char *text = render(&out);
    const char *fams[] = {"sidecast_messages_lost_total{", "sidecast_refused_total{",
                          "sidecast_http_refused_total{"};
    for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
        int count = 0;
        for (const char *p = strstr(text, fams[f]); p; p = strstr(p + 1, fams[f])) {
            const char *end = strchr(p, '}');
            assert_non_null(end);
            char series[200];
            snprintf(series, sizeof(series), "\n%.*s ", (int)(end + 1 - p), p);
            const char *first = strstr(text, series);
            assert_non_null(first);
            assert_null(strstr(first + 1, series)); /* the series only once */
            count++;
        }
        assert_true(count > 5);
    }
    sc_buf_free(&out);
}

static void test_promtool(void **state)
{
    (void)state;
    if (system("command -v promtool >/dev/null 2>&1") != 0)
        skip();
    sc_buf out;
    const char *text = render(&out);
    char path[] = "/tmp/sidecast-metrics-once-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
    int st = system(cmd);
    unlink(path);
    sc_buf_free(&out);
    assert_int_equal(st, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_counter_once),
        cmocka_unit_test(test_reasons_unique),
        cmocka_unit_test(test_promtool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
