/* Integration: file descriptor exhaustion (issue 14, item 2).
 *
 * A daemon started under a low RLIMIT_NOFILE (a shell wrapper sets it, so
 * only the daemon has it) raises its soft limit to the hard one and clamps
 * max_connections to what that serves, saying so. A flood of clients over
 * that bound: every excess client gets Error{LIMIT} and EOF (no hang), the
 * refusals are counted exactly, /healthz still answers, the daemon's CPU
 * time stays small, and closing clients makes room for new ones.
 *
 * The limit lowered under a running daemon (prlimit, below the fds it has
 * open): accept fails with EMFILE; every waiting client still gets
 * Error{LIMIT} (the reserve fd) and is counted (connections_refused_fd,
 * sidecast_refused_total{reason="out_of_fds"}), without a busy loop; when
 * clients go away, new ones are accepted again, and HTTP keeps the fds kept
 * for it.
 *
 * Loops are bounded in count and time and wait on observable state (frames,
 * counters, gauges, log lines); only processes the test started are
 * signalled, by pid. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sidecast.pb-c.h"

#define MC(name) SIDECAST__V1__FRAME__MSG_##name
#define LIMIT SIDECAST__V1__ERROR_CODE__ERROR_LIMIT
#define READ_MS 5000
#define MAX_CLIENTS 256

static bool under_wrapper(void)
{
    const char *w = getenv("SIDECAST_TEST_WRAPPER");
    return w && w[0];
}

/* CPU time (user + system) of a process in ms, from /proc/<pid>/stat. */
static long cpu_ms(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    long tck = sysconf(_SC_CLK_TCK);
    return (long)((ut + st) * 1000u / (unsigned long long)(tck > 0 ? tck : 100));
}

/* ---- a daemon under a low fd limit -------------------------------------------- */

typedef struct lowfd {
    char dir[64];
    char script[128];
    char *saved; /* SIDECAST_TEST_WRAPPER before, NULL if unset */
} lowfd;

/* Daemons started until lowfd_end run with RLIMIT_NOFILE soft/hard: a
 * script sets it and execs the rest of the command (any wrapper first). */
static void lowfd_begin(lowfd *l, unsigned soft, unsigned hard)
{
    snprintf(l->dir, sizeof(l->dir), "/tmp/sidecast-fdlim-XXXXXX");
    assert_non_null(mkdtemp(l->dir));
    snprintf(l->script, sizeof(l->script), "%s/lowfd.sh", l->dir);
    FILE *f = fopen(l->script, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\nulimit -S -n %u && ulimit -H -n %u || exit 126\nexec \"$@\"\n", soft,
            hard);
    fclose(f);
    assert_int_equal(chmod(l->script, 0755), 0);
    const char *old = getenv("SIDECAST_TEST_WRAPPER");
    l->saved = old ? strdup(old) : NULL;
    char w[1024];
    snprintf(w, sizeof(w), "%s%s%s", l->script, old && old[0] ? " " : "", old ? old : "");
    setenv("SIDECAST_TEST_WRAPPER", w, 1);
}

static void lowfd_end(lowfd *l)
{
    if (l->saved)
        setenv("SIDECAST_TEST_WRAPPER", l->saved, 1);
    else
        unsetenv("SIDECAST_TEST_WRAPPER");
    free(l->saved);
    l->saved = NULL;
    unlink(l->script);
    rmdir(l->dir);
}

/* The number after `key` in the daemon's log (the last one), or -1. */
static long log_number_after(const daemon_t *d, const char *key)
{
    FILE *f = fopen(d->log, "r");
    char line[4096];
    long v = -1;
    while (f && fgets(line, sizeof(line), f)) {
        const char *p = strstr(line, key);
        if (p)
            v = atol(p + strlen(key));
    }
    if (f)
        fclose(f);
    return v;
}

/* ---- metrics ----------------------------------------------------------------------- */

static char body[1 << 20];

static double metric(int port, const char *series)
{
    assert_int_equal(http_get(port, "/metrics", body, sizeof(body)), 200);
    return metric_value(body, series);
}

#define APP_CONNS "sidecast_app_connections"
#define DROP_MAX "sidecast_refused_total{reason=\"max_connections\"}"
#define DROP_FD "sidecast_refused_total{reason=\"out_of_fds\"}"

/* Wait (bounded) until the app_connections gauge is `want`. */
static bool wait_app_conns_http(int port, double want)
{
    uint64_t end = now_ms_h() + 10000;
    while (now_ms_h() < end) {
        if (metric(port, APP_CONNS) == want)
            return true;
        usleep(5000);
    }
    return false;
}

static bool wait_app_conns_stat(sc_client *w, uint64_t want)
{
    uint64_t end = now_ms_h() + 10000;
    while (now_ms_h() < end) {
        if (stat_of(w, "app_connections") == want)
            return true;
        usleep(5000);
    }
    return false;
}

/* ---- clients ----------------------------------------------------------------------- */

static void send_hello(int fd)
{
    Sidecast__V1__Hello h = SIDECAST__V1__HELLO__INIT;
    h.protocol_version = 1;
    h.client_name = (char *)"fdlimit";
    Sidecast__V1__Frame f = SIDECAST__V1__FRAME__INIT;
    f.id = 1;
    f.msg_case = MC(HELLO);
    f.hello = &h;
    size_t len = sidecast__v1__frame__get_packed_size(&f);
    uint8_t buf[256];
    assert_true(len + 4 <= sizeof(buf));
    buf[0] = (uint8_t)(len >> 24);
    buf[1] = (uint8_t)(len >> 16);
    buf[2] = (uint8_t)(len >> 8);
    buf[3] = (uint8_t)len;
    sidecast__v1__frame__pack(&f, buf + 4);
    /* a refused client may be closed already: EPIPE is fine */
    (void)!send(fd, buf, len + 4, MSG_NOSIGNAL);
}

typedef enum { C_WELCOMED, C_REFUSED, C_HUNG } client_fate;

/* What the daemon did with a client that sent Hello: Welcome, or
 * Error{LIMIT} then EOF. Anything else within the bound is a hang. */
static client_fate fate_of(int fd)
{
    int code = -1;
    int mc = raw_read_frame(fd, &code, READ_MS);
    if (mc == MC(WELCOME))
        return C_WELCOMED;
    if (mc == MC(ERROR) && code == LIMIT && raw_wait_eof(fd, READ_MS))
        return C_REFUSED;
    return C_HUNG;
}

/* Connect n clients and send each a Hello, then sort them by fate; fds of
 * refused clients are closed and set to -1. */
static void flood(const daemon_t *d, int *fds, int n, int *ret_welcomed, int *ret_refused)
{
    int welcomed = 0, refused = 0;
    for (int i = 0; i < n; i++) {
        fds[i] = raw_connect(d->sock);
        assert_true(fds[i] >= 0);
        send_hello(fds[i]);
    }
    for (int i = 0; i < n; i++) {
        client_fate fate = fate_of(fds[i]);
        if (fate == C_HUNG)
            fail_msg("client %d of %d: neither Welcome nor Error{LIMIT} and EOF within %d ms", i, n,
                     READ_MS);
        if (fate == C_REFUSED) {
            close(fds[i]);
            fds[i] = -1;
            refused++;
        } else {
            welcomed++;
        }
    }
    *ret_welcomed = welcomed;
    *ret_refused = refused;
}

static void close_all(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
}

/* ---- tests ----------------------------------------------------------------------- */

/* Soft 32, hard 64, max_connections 1000: raised to 64, clamped (logged
 * with the value); a flood over it is refused cleanly and counted; /healthz
 * answers; closing clients lets new ones in. */
static void test_clamp_and_flood(void **state)
{
    (void)state;
    /* valgrind keeps fds of its own under the hard limit and answers
     * getrlimit and setrlimit itself: a larger limit, and no raise to see */
    bool wrapped = under_wrapper();
    unsigned hard = wrapped ? 128 : 64;
    lowfd l;
    lowfd_begin(&l, wrapped ? hard : 32, hard);
    daemon_t *d = daemon_start("--max-connections", "1000", "--http-max-connections", "4", NULL);
    lowfd_end(&l);
    if (!wrapped) {
        assert_true(daemon_log_contains(
            d, "raised the limit on open files (RLIMIT_NOFILE) from 32 to the hard limit 64"));
        assert_true(
            daemon_log_contains(d, "max_connections 1000 is more than the limit of 64 open files"));
    }
    assert_true(daemon_log_contains(d, "raise LimitNOFILE (ulimit -n) or lower max_connections"));
    long max = log_number_after(d, "clamped to max_connections ");
    printf("clamped to max_connections %ld by a hard limit of %u open files\n", max, hard);
    assert_true(max > 8 && max < (long)hard);

    int port = daemon_http_port(d);
    assert_true(wait_app_conns_http(port, 0)); /* the harness's start probe is gone */
    double refused0 = metric(port, DROP_MAX) + metric(port, DROP_FD);
    static int fds[MAX_CLIENTS];
    int n = (int)max + 16;
    long cpu0 = cpu_ms(d->pid);
    uint64_t t0 = now_ms_h();
    int welcomed, refused;
    flood(d, fds, n, &welcomed, &refused);
    long cpu = cpu_ms(d->pid) - cpu0;
    uint64_t wall = now_ms_h() - t0;
    printf("figures: %d clients over a clamped max_connections %ld: %d welcomed, %d refused "
           "with Error{LIMIT}; daemon CPU %ld ms in %llu ms\n",
           n, max, welcomed, refused, cpu, (unsigned long long)wall);
    assert_int_equal(welcomed + refused, n);
    /* no more than the clamp; fewer only by HTTP connections still open */
    assert_true(welcomed <= max && welcomed >= max - 4);
    assert_true(refused >= 16);
    assert_true(cpu >= 0 && cpu < (under_wrapper() ? 5000 : 1000));
    assert_int_equal(http_get(port, "/healthz", body, sizeof(body)), 200);
    /* every refusal counted, under one reason or the other */
    assert_true(metric(port, DROP_MAX) + metric(port, DROP_FD) - refused0 == refused);
    assert_true(metric(port, APP_CONNS) == welcomed);

    /* pressure off: close 5 welcomed clients, 5 new ones get in */
    int closed = 0;
    for (int i = 0; i < n && closed < 5; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
            closed++;
        }
    assert_true(wait_app_conns_http(port, welcomed - 5));
    int more[5], w2, r2;
    flood(d, more, 5, &w2, &r2);
    assert_int_equal(w2, 5);
    assert_int_equal(r2, 0);
    close_all(more, 5);
    close_all(fds, n);
    assert_true(wait_app_conns_http(port, 0));
    daemon_free(d);
}

/* The limit lowered below the fds the daemon holds: EMFILE. Every waiting
 * client is refused with Error{LIMIT} and counted, no busy loop; when the
 * held clients go, new ones are accepted, and when app connections come
 * near the lowered limit they are refused before HTTP runs out. */
static void test_emfile_at_run_time(void **state)
{
    (void)state;
    if (under_wrapper()) { /* valgrind answers getrlimit from its own copy */
        skip();
        return;
    }
    daemon_t *d = daemon_start("--max-connections", "1000", "--http-max-connections", "4", NULL);
    int port = daemon_http_port(d);
    sc_client *w = app_open(d, "witness", NULL); /* stats without a new fd */
    assert_non_null(w);
    enum { HELD = 24, FLOOD = 40 };
    static int held[HELD], fds[FLOOD];
    int welcomed, refused;
    flood(d, held, HELD, &welcomed, &refused);
    assert_int_equal(welcomed, HELD);
    assert_true(wait_app_conns_stat(w, 1 + HELD));

    struct rlimit old, low;
    assert_int_equal(prlimit(d->pid, RLIMIT_NOFILE, NULL, &old), 0);
    int open_fds = proc_fds_h(d->pid);
    assert_true(open_fds > HELD + 4);
    low.rlim_cur = (rlim_t)(open_fds - 2);
    low.rlim_max = old.rlim_max;
    assert_int_equal(prlimit(d->pid, RLIMIT_NOFILE, &low, NULL), 0);

    uint64_t fd0 = stat_of(w, "connections_refused_fd");
    long cpu0 = cpu_ms(d->pid);
    uint64_t t0 = now_ms_h();
    flood(d, fds, FLOOD, &welcomed, &refused);
    long cpu = cpu_ms(d->pid) - cpu0;
    uint64_t wall = now_ms_h() - t0;
    printf("figures: fd limit lowered to %d with %d open: %d clients, %d refused with "
           "Error{LIMIT} (EMFILE); daemon CPU %ld ms in %llu ms\n",
           open_fds - 2, open_fds, FLOOD, refused, cpu, (unsigned long long)wall);
    assert_int_equal(welcomed, 0);
    assert_int_equal(refused, FLOOD);
    assert_int_equal(stat_of(w, "connections_refused_fd") - fd0, FLOOD);
    assert_true(cpu >= 0 && cpu < 1000);
    char want[128];
    snprintf(want, sizeof(want), "out of file descriptors (EMFILE, limit %d)", open_fds - 2);
    assert_true(daemon_log_contains(d, want));
    assert_true(daemon_log_contains(d, "raise LimitNOFILE or lower max_connections"));
    assert_int_equal(sc_client_ping(w, 0, NULL), 0);

    /* the held clients go: under the same lowered limit, new clients get in
     * (the accept watcher is back after its backoff) ... */
    close_all(held, HELD);
    assert_true(wait_app_conns_stat(w, 1));
    int in[4];
    flood(d, in, 4, &welcomed, &refused);
    assert_int_equal(welcomed, 4);
    /* ... until the fds kept for HTTP and the daemon are reached: refused
     * (counted), and /healthz still answers */
    int extra[HELD], n = 0;
    refused = 0;
    while (n < HELD && refused == 0) {
        int wel;
        flood(d, &extra[n], 1, &wel, &refused);
        n++;
    }
    assert_int_equal(refused, 1);
    assert_true(stat_of(w, "connections_refused_fd") - fd0 == FLOOD + 1);
    assert_true(daemon_log_contains(d, "kept for HTTP, redis and internal use"));
    assert_int_equal(http_get(port, "/healthz", body, sizeof(body)), 200);
    assert_true(metric(port, DROP_FD) == FLOOD + 1);

    assert_int_equal(prlimit(d->pid, RLIMIT_NOFILE, &old, NULL), 0);
    close_all(in, 4);
    close_all(extra, n);
    sc_client_close(w);
    daemon_free(d);
}

static int run_cmd(const char *cmd, char *out, size_t outlen)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* --check-config says what the hard limit does to max_connections; a limit
 * that cannot serve one app connection stops the daemon at start. */
static void test_check_config_and_refusal(void **state)
{
    (void)state;
    lowfd l;
    lowfd_begin(&l, 64, 64);
    char cmd[1024], out[8192];
    snprintf(cmd, sizeof(cmd),
             "%s %s --socket %s/s.sock --max-connections 1000 --http-max-connections 4 "
             "--check-config 2>&1",
             l.script, SC_SIDECASTD_PATH, l.dir);
    assert_int_equal(run_cmd(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "warning: max_connections 1000 is more than the limit of 64 "
                                "open files"));
    assert_non_null(strstr(out, "configuration OK"));
    lowfd_end(&l);

    lowfd_begin(&l, 16, 16); /* less than http_max_connections 64 needs */
    snprintf(cmd, sizeof(cmd), "%s %s --socket %s/s.sock --http-listen 127.0.0.1:0 2>&1", l.script,
             SC_SIDECASTD_PATH, l.dir);
    assert_int_equal(run_cmd(cmd, out, sizeof(out)), 2);
    assert_non_null(strstr(out, "the limit of 16 open files cannot serve one app connection"));
    snprintf(cmd, sizeof(cmd), "%s/s.sock", l.dir);
    struct stat st;
    assert_true(stat(cmd, &st) < 0); /* it never listened */
    lowfd_end(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clamp_and_flood),
        cmocka_unit_test(test_emfile_at_run_time),
        cmocka_unit_test(test_check_config_and_refusal),
    };
    if (getenv("SC_TEST_FILTER"))
        cmocka_set_test_filter(getenv("SC_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
