/* Integration: a real Prometheus server scrapes a real sidecastd. The test
 * starts prometheus on a free loopback port with a temporary config and
 * TSDB directory, scraping every second, and polls its query API until
 * sidecast series come back (bounded); then kills it by pid. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t prom_pid = -1;
static char body[1 << 16];

static void kill_prometheus(void)
{
    if (prom_pid > 0) {
        kill(prom_pid, SIGKILL);
        waitpid(prom_pid, NULL, 0);
        prom_pid = -1;
    }
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void start_prometheus(const daemon_t *d, int target_port, int port)
{
    char conf[400], tsdb[400], log[400], listen[64], cfgflag[420], tsdbflag[420];
    snprintf(conf, sizeof(conf), "%s/prometheus.yml", d->dir);
    snprintf(tsdb, sizeof(tsdb), "%s/tsdb", d->dir);
    snprintf(log, sizeof(log), "%s/prometheus.log", d->dir);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f,
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: sidecast\n    static_configs:\n"
            "      - targets: ['127.0.0.1:%d']\n",
            target_port);
    fclose(f);
    snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", port);
    snprintf(cfgflag, sizeof(cfgflag), "--config.file=%s", conf);
    snprintf(tsdbflag, sizeof(tsdbflag), "--storage.tsdb.path=%s", tsdb);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        execlp("prometheus", "prometheus", cfgflag, tsdbflag, listen, "--log.level=warn",
               (char *)NULL);
        _exit(127);
    }
    prom_pid = pid;
    atexit(kill_prometheus);
}

/* Poll the query API until `query` returns a sample (bounded). */
static bool query_has_result(int port, const char *query, const char *needle, int timeout_ms)
{
    char path[512];
    snprintf(path, sizeof(path), "/api/v1/query?query=%s", query);
    uint64_t end = now_ms_h() + (uint64_t)timeout_ms;
    while (now_ms_h() < end) {
        int st = waitpid(prom_pid, NULL, WNOHANG);
        if (st == prom_pid) {
            prom_pid = -1;
            fail_msg("prometheus exited early");
        }
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bool up = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(fd);
        if (up && http_get(port, path, body, sizeof(body)) == 200 &&
            strstr(body, "\"result\":[{") && strstr(body, needle))
            return true;
        usleep(250000);
    }
    fprintf(stderr, "last answer to %s: %s\n", query, body);
    return false;
}

static void test_prometheus_scrapes_sidecastd(void **state)
{
    daemon_t *d = daemon_start(NULL);
    sc_client *c = app_open(d, "app", NULL);
    assert_int_equal(sc_client_socket_up(c, "s1", "", "", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_sync(c, 0), 0);
    int target = daemon_http_port(d), port = free_port();
    start_prometheus(d, target, port);
    assert_true(query_has_result(port, "sidecast_build_info", "\"sidecast_build_info\"", 120000));
    /* a gauge with the live value, and the scrape itself healthy */
    assert_true(query_has_result(port, "sidecast_sockets", "\"1\"]", 30000));
    assert_true(query_has_result(port, "up%7Bjob%3D%22sidecast%22%7D", "\"1\"]", 30000));
    kill_prometheus();
    sc_client_close(c);
    daemon_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prometheus_scrapes_sidecastd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
