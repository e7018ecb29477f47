/* Integration: the operations side of sidecastd. /metrics under traffic
 * (every counter exported, labelled families moved by the expected amount,
 * promtool-clean), /healthz and /readyz, the HTTP endpoint under bad input,
 * sd_notify messages (READY, STATUS, WATCHDOG, RELOADING, STOPPING) on a
 * notify socket of the test's own, socket activation through
 * systemd-socket-activate, and SIGHUP reloads. */
#include "harness.h"
#include "stats.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define BODY_MAX (1 << 20)
#define LIST(...)                                                                                  \
    (const char *const[]){__VA_ARGS__}, sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *)

static char body[BODY_MAX];

static double scrape(int port, const char *series)
{
    assert_int_equal(http_get(port, "/metrics", body, sizeof(body)), 200);
    return metric_value(body, series);
}

/* Poll until series reaches at least want (bounded); returns the last value. */
static double wait_metric(int port, const char *series, double want, int timeout_ms)
{
    uint64_t end = now_ms_h() + (uint64_t)timeout_ms;
    double v = scrape(port, series);
    while (v < want && now_ms_h() < end) {
        usleep(20000);
        v = scrape(port, series);
    }
    return v;
}

/* ---- standalone ------------------------------------------------------------------ */

static void test_every_counter_exported(void **state)
{
    daemon_t *d = daemon_start(NULL);
    int port = daemon_http_port(d);
    assert_int_equal(http_get(port, "/metrics", body, sizeof(body)), 200);
    /* each counter on its own or as one label of a family (unit_metrics_once
     * checks which); here: the numbers add up on a live daemon */
    int n = 0, own = 0, labelled = 6; /* emits_total{scope="local"} x 4, lookups x 2 */
    char series[160];
#define CHECK_COUNTER(name, help)                                                                  \
    snprintf(series, sizeof(series), "# TYPE sidecast_%s_total counter", #name);                   \
    if (strstr(body, series)) {                                                                    \
        snprintf(series, sizeof(series), "sidecast_%s_total", #name);                              \
        assert_true(metric_value(body, series) >= 0);                                              \
        own++;                                                                                     \
    }                                                                                              \
    n++;
    SC_COUNTERS(CHECK_COUNTER)
#undef CHECK_COUNTER
    static const char *const families[] = {"\nsidecast_messages_lost_total{",
                                           "\nsidecast_refused_total{",
                                           "\nsidecast_http_refused_total{"};
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
        for (const char *p = strstr(body, families[i]); p; p = strstr(p + 1, families[i]))
            labelled++;
    assert_true(own > 40);
    assert_int_equal(own + labelled, n);
    assert_null(strstr(body, "sidecast_dropped_total"));
    assert_int_equal(metric_value(body, "sidecast_build_info{version=\"" SC_VERSION "\"}"), 1);
    assert_true(metric_value(body, "process_resident_memory_bytes") > 0);
    assert_true(metric_value(body, "process_open_fds") > 2);
    assert_true(metric_value(body, "process_start_time_seconds") > 1.6e9);
    assert_true(metric_value(body, "process_cpu_seconds_total") >= 0);
    assert_non_null(strstr(body, "sidecast_cluster_request_duration_seconds_bucket{kind=\"fetch\","
                                 "le=\"+Inf\"} 0"));
    daemon_free(d);
}

static void test_metrics_standalone_traffic(void **state)
{
    daemon_t *d = daemon_start(NULL);
    int port = daemon_http_port(d);
    recorder ra, rb;
    sc_client *a = app_open(d, "holder", &ra);
    sc_client *b = app_open(d, "sender", &rb);
    assert_int_equal(sc_client_socket_up(a, "s1", "sess1", "u1", NULL, 0, LIST("r1")), 0);
    assert_int_equal(sc_client_socket_up(a, "s2", "sess2", "u2", NULL, 0, LIST("r1", "r2")), 0);
    assert_int_equal(sc_client_sync(a, 0), 0);
    assert_int_equal(sc_client_socket_up(b, "s1", "dup", "", NULL, 0, NULL, 0), 0); /* refused */
    assert_int_equal(sc_client_sync(b, 0), 0);
    assert_int_equal(rb.errors, 1);
    double before_in = scrape(port, "sidecast_frames_received_total{type=\"emit\"}");
    assert_int_equal(before_in, 0);

    sc_target ts = {.socket_ids = (const char *const[]){"s1"}, .n_socket_ids = 1};
    sc_target tr = {.rooms = (const char *const[]){"r1"}, .n_rooms = 1};
    sc_target ta = {.all = true};
    sc_target tu = {.user_ids = (const char *const[]){"u2"}, .n_user_ids = 1};
    sc_target tx = {.rooms = (const char *const[]){"r2"},
                    .n_rooms = 1,
                    .user_ids = (const char *const[]){"u1"},
                    .n_user_ids = 1};
    const sc_target *targets[] = {&ts, &tr, &ta, &tu, &tx};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(sc_client_emit(b, targets[i], NULL, (const uint8_t *)"x", 1), 0);
    assert_int_equal(sc_client_sync(b, 0), 0);
    rec_wait_frames(a, &ra, 5, 5000);
    assert_int_equal(ra.frames, 5);
    assert_int_equal(sc_client_lookup(b, SC_BY_SOCKET, "s2", true, NULL, NULL, 0), 1);

    assert_int_equal(http_get(port, "/metrics", body, sizeof(body)), 200);
    assert_true(promtool_ok(body));
    assert_int_equal(metric_value(body, "sidecast_emits_total{kind=\"socket\",scope=\"local\"}"),
                     1);
    assert_int_equal(metric_value(body, "sidecast_emits_total{kind=\"room\",scope=\"local\"}"), 2);
    assert_int_equal(metric_value(body, "sidecast_emits_total{kind=\"all\",scope=\"local\"}"), 1);
    assert_int_equal(metric_value(body, "sidecast_emits_total{kind=\"user\",scope=\"local\"}"), 2);
    assert_int_equal(metric_value(body, "sidecast_emits_total{kind=\"room\",scope=\"remote\"}"), 0);
    assert_int_equal(metric_value(body, "sidecast_frames_received_total{type=\"emit\"}"), 5);
    assert_int_equal(metric_value(body, "sidecast_frames_received_total{type=\"socket_up\"}"), 3);
    assert_int_equal(metric_value(body, "sidecast_frames_received_total{type=\"lookup\"}"), 1);
    assert_true(metric_value(body, "sidecast_frames_sent_total{type=\"deliver\"}") >= 5);
    assert_int_equal(metric_value(body, "sidecast_frames_sent_total{type=\"lookup_result\"}"), 1);
    assert_int_equal(metric_value(body, "sidecast_deliveries_total{scope=\"local\"}"), 5);
    assert_int_equal(metric_value(body, "sidecast_deliveries_total{scope=\"remote\"}"), 0);
    assert_int_equal(metric_value(body, "sidecast_deliver_frames_total"), 5);
    /* a counter carried by a labelled family is not also exported on its own */
    assert_true(metric_value(body, "sidecast_emits_room_total") < 0);
    assert_true(metric_value(body, "sidecast_refused_duplicate_total") < 0);
    assert_int_equal(metric_value(body, "sidecast_refused_total{reason=\"duplicate_socket\"}"), 1);
    assert_int_equal(metric_value(body, "sidecast_directory_lookups_total{source=\"local\"}"), 1);
    assert_int_equal(metric_value(body, "sidecast_app_connections"), 2);
    assert_int_equal(metric_value(body, "sidecast_sockets"), 2);
    assert_int_equal(metric_value(body, "sidecast_rooms"), 2);
    assert_int_equal(metric_value(body, "sidecast_room_memberships"), 3);
    assert_int_equal(metric_value(body, "sidecast_cluster_mode"), 0);
    assert_int_equal(metric_value(body, "sidecast_ready"), 1);
    assert_true(metric_value(body, "sidecast_http_requests_total") >= 1); /* counted when sent */
    /* the stats reply reads the same counters */
    assert_int_equal(stat_of(b, "emits_room"), 2);
    assert_int_equal(stat_of(b, "refused_duplicate"), 1);

    assert_int_equal(http_get(port, "/healthz", body, sizeof(body)), 200);
    assert_string_equal(body, "ok\n");
    assert_int_equal(http_get(port, "/readyz", body, sizeof(body)), 200);
    assert_string_equal(body, "ready\n");
    static const char head[] = "HEAD /metrics HTTP/1.0\r\n\r\n";
    assert_int_equal(http_raw(port, head, sizeof(head) - 1, body, sizeof(body), 5000), 200);
    assert_string_equal(body, "");
    sc_client_close(a);
    sc_client_close(b);
    daemon_free(d);
}

/* ---- bad HTTP input ---------------------------------------------------------------- */

static void test_http_bad_input(void **state)
{
    daemon_t *d = daemon_start("--http-max-connections", "4", "--http-request-timeout-ms", "2000",
                               "--http-max-request-bytes", "1k", NULL);
    int port = daemon_http_port(d);
    static const char garbage[] = "\x01\x02\xff hello there\r\n\r\n";
    assert_int_equal(http_raw(port, garbage, sizeof(garbage) - 1, body, sizeof(body), 5000), 400);
    char big[4096];
    int n = snprintf(big, sizeof(big), "GET /metrics HTTP/1.1\r\nX-Big: ");
    memset(big + n, 'a', 3000);
    n += 3000;
    n += snprintf(big + n, sizeof(big) - (size_t)n, "\r\n\r\n");
    assert_int_equal(http_raw(port, big, (size_t)n, body, sizeof(body), 5000), 431);
    static const char post[] = "POST /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\nab";
    assert_int_equal(http_raw(port, post, sizeof(post) - 1, body, sizeof(body), 5000), 405);
    assert_int_equal(http_get(port, "/nope", body, sizeof(body)), 404);
    static const char nul[] = "GET /metrics HTTP/1.1\r\nBad\x01Name: x\r\n\r\n";
    assert_int_equal(http_raw(port, nul, sizeof(nul) - 1, body, sizeof(body), 5000), 400);

    /* slowloris: a request line with no end, held open past the timeout */
    int slow = tcp_connect(port);
    static const char partial[] = "GET /metrics HTTP/1.1\r\nX-Slow: a";
    raw_send(slow, partial, sizeof(partial) - 1);
    assert_true(raw_wait_eof(slow, 15000));
    close(slow);

    /* http_max_connections 4: four idle connections, the fifth is served
     * after the oldest idle one is closed to make room (it_limits) */
    int idle[4];
    for (int i = 0; i < 4; i++)
        idle[i] = tcp_connect(port);
    static const char get[] = "GET /healthz HTTP/1.1\r\n\r\n";
    assert_int_equal(http_raw(port, get, sizeof(get) - 1, body, sizeof(body), 5000), 200);
    assert_true(raw_wait_eof(idle[0], 5000));
    for (int i = 0; i < 4; i++)
        close(idle[i]);

    /* after all of it: apps are served, and so is /metrics */
    sc_client *a = app_open(d, "after", NULL);
    assert_int_equal(sc_client_ping(a, 0, NULL), 0);
    double served = 0;
    for (int i = 0; i < 200; i++) { /* the idle four may still be closing */
        int st = http_get(port, "/metrics", body, sizeof(body));
        if (st == 200) {
            served = 1;
            break;
        }
        usleep(20000);
    }
    assert_int_equal(served, 1);
#define HTTP_REFUSED(r) "sidecast_http_refused_total{reason=\"" r "\"}"
    assert_int_equal(metric_value(body, HTTP_REFUSED("bad_request")), 2);
    assert_int_equal(metric_value(body, HTTP_REFUSED("too_large")), 1);
    assert_int_equal(metric_value(body, HTTP_REFUSED("bad_method")), 1);
    assert_int_equal(metric_value(body, HTTP_REFUSED("not_found")), 1);
    assert_true(metric_value(body, HTTP_REFUSED("timeout")) >= 1);
    assert_true(metric_value(body, HTTP_REFUSED("evicted")) >= 1);
    /* HTTP noise is not message loss */
    assert_true(metric_value(body, "sidecast_messages_lost_total{reason=\"too_large\"}") < 0);
    assert_true(daemon_log_contains(d, "http: no whole request from 127.0.0.1"));
    assert_true(daemon_log_contains(d, "http_max_connections 4 open"));
    sc_client_close(a);
    daemon_free(d);
}

/* ---- cluster ------------------------------------------------------------------------ */

static void on_progress(void *ud, const sc_progress *p)
{
    if (p->done)
        *(int *)ud = p->timed_out ? 2 : 1;
}

static void ignore_socket(void *ud, const sc_socket_view *s)
{
    (*(int *)ud)++;
}

static double req_count(int port, const char *kind, const char *outcome)
{
    char series[160];
    snprintf(series, sizeof(series), "sidecast_cluster_requests_total{kind=\"%s\",outcome=\"%s\"}",
             kind, outcome);
    return scrape(port, series);
}

static void test_metrics_cluster(void **state)
{
    redis_srv *r = redis_start();
    /* a name that needs escaping as a label value; long TTL: node b frozen
     * for the timeout stays live */
    daemon_t *na = node_start(r, "node \"a\"\\1", "--node-ttl-ms", "10000", "--canary-interval-ms",
                              "200", NULL);
    daemon_t *nb =
        node_start(r, "node-b", "--node-ttl-ms", "10000", "--canary-interval-ms", "200", NULL);
    int pa = daemon_http_port(na), pb = daemon_http_port(nb);
    recorder ra, rb;
    sc_client *a = app_open(na, "app-a", &ra);
    sc_client *b = app_open(nb, "app-b", &rb);
    assert_int_equal(sc_client_socket_up(b, "b1", "sb1", "ub", NULL, 0, LIST("room")), 0);
    assert_int_equal(sc_client_sync(b, 0), 0);
    assert_int_equal(wait_nodes(a, 2, 10000), 2);
    assert_int_equal(wait_nodes(b, 2, 10000), 2);
    assert_int_equal(wait_metric(pa, "sidecast_ready", 1, 10000), 1);
    assert_int_equal(wait_metric(pb, "sidecast_ready", 1, 10000), 1);
    assert_int_equal(http_get(pa, "/readyz", body, sizeof(body)), 200);

    /* emits of each kind from node a reach node b as remote emits */
    sc_target ts = {.socket_ids = (const char *const[]){"b1"}, .n_socket_ids = 1};
    sc_target tr = {.rooms = (const char *const[]){"room"}, .n_rooms = 1};
    sc_target ta = {.all = true};
    sc_target tu = {.user_ids = (const char *const[]){"ub"}, .n_user_ids = 1};
    const sc_target *targets[] = {&ts, &tr, &ta, &tu};
    /* b's room subscription confirmed: Redis counts it */
    for (uint64_t end = now_ms_h() + 5000; now_ms_h() < end; usleep(10000)) {
        char *out = redis_cli(r, "PUBSUB NUMSUB sidecast:room:room"), *nl = strchr(out, '\n');
        bool up = nl && atoi(nl + 1) == 1;
        free(out);
        if (up)
            break;
    }
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(sc_client_emit(a, targets[i], NULL, (const uint8_t *)"x", 1), 0);
    assert_int_equal(sc_client_sync(a, 0), 0);
    rec_wait_frames(b, &rb, 4, 10000);
    assert_int_equal(rb.frames, 4);
    assert_int_equal(wait_metric(pb, "sidecast_deliveries_total{scope=\"remote\"}", 4, 5000), 4);
    assert_true(promtool_ok(body));
    const char *kinds[] = {"socket", "room", "all", "user"};
    for (int i = 0; i < 4; i++) {
        char series[160];
        snprintf(series, sizeof(series), "sidecast_emits_total{kind=\"%s\",scope=\"remote\"}",
                 kinds[i]);
        assert_int_equal(metric_value(body, series), 1);
        snprintf(series, sizeof(series), "sidecast_emits_total{kind=\"%s\",scope=\"local\"}",
                 kinds[i]);
        assert_int_equal(metric_value(body, series), 0);
    }
    assert_int_equal(metric_value(body, "sidecast_redis_connection_up{connection=\"publish\"}"), 1);
    assert_int_equal(metric_value(body, "sidecast_redis_connection_up{connection=\"subscribe\"}"),
                     1);
    assert_int_equal(metric_value(body, "sidecast_cluster_nodes"), 2);
    assert_int_equal(metric_value(body, "sidecast_cluster_mode"), 1);
    assert_true(metric_value(body, "sidecast_cluster_messages_received_total") >= 4);

    assert_int_equal(http_get(pa, "/metrics", body, sizeof(body)), 200);
    assert_true(promtool_ok(body));
    assert_int_equal(metric_value(body, "sidecast_emits_total{kind=\"room\",scope=\"local\"}"), 1);
    assert_true(metric_value(body, "sidecast_emits_remote_total") >= 4);
    /* the room and broadcast emits (socket and user ones go through the
     * directory script; canaries add more) */
    assert_true(metric_value(body, "sidecast_redis_publishes_total") >= 2);
    assert_non_null(strstr(body, "name=\"node \\\"a\\\"\\\\1\"} 1"));

    /* one cluster request of each kind, answered (b's app answers meanwhile) */
    app_pump p;
    int fetched = 0;
    app_pump_start(&p, &b, 1);
    assert_int_equal(sc_client_fetch_sockets(a, NULL, false, false, ignore_socket, &fetched, 0), 0);
    sc_apply join = {.filter = &ts, .join = (const char *const[]){"vip"}, .n_join = 1};
    assert_int_equal(sc_client_apply(a, &join, 5000), 0);
    int done = 0;
    assert_int_equal(
        sc_client_server_emit(a, (const uint8_t *)"hi", 2, false, on_progress, &done, 5000), 0);
    assert_int_equal(done, 1);
    done = 0;
    assert_int_equal(
        sc_client_emit_with_ack(a, &tr, NULL, (const uint8_t *)"ack?", 4, on_progress, &done, 5000),
        0);
    assert_int_equal(done, 1);
    app_pump_stop(&p);
    assert_int_equal(sc_client_lookup(a, SC_BY_SOCKET, "b1", false, NULL, NULL, 0), 1);
    assert_int_equal(fetched, 1);
    assert_int_equal(req_count(pa, "fetch", "ok"), 1);
    assert_int_equal(req_count(pa, "apply", "ok"), 1);
    assert_int_equal(req_count(pa, "server_emit", "ok"), 1);
    assert_int_equal(req_count(pa, "broadcast_ack", "ok"), 1);
    assert_int_equal(req_count(pa, "redis_call", "ok"), 1);
    assert_int_equal(metric_value(body, "sidecast_directory_lookups_total{source=\"redis\"}"), 1);
    assert_int_equal(
        metric_value(body, "sidecast_cluster_request_duration_seconds_count{kind=\"fetch\"}"), 1);
    assert_int_equal(
        metric_value(
            body, "sidecast_cluster_request_duration_seconds_bucket{kind=\"apply\",le=\"+Inf\"}"),
        1);
    assert_true(metric_value(body, "sidecast_redis_command_duration_seconds_count") >= 1);
    assert_true(scrape(pb, "sidecast_requests_served_total") >= 3); /* fetch, apply, emit */

    /* a timeout: node b frozen, the fetch waits for it (request_timeout_ms 2000) */
    kill(nb->pid, SIGSTOP);
    fetched = 0;
    assert_int_equal(sc_client_fetch_sockets(a, NULL, false, false, ignore_socket, &fetched, 8000),
                     -ETIMEDOUT);
    kill(nb->pid, SIGCONT);
    assert_int_equal(req_count(pa, "fetch", "timeout"), 1);
    assert_int_equal(metric_value(body, "sidecast_requests_timeout_total"), 1);
    assert_int_equal(
        metric_value(body, "sidecast_cluster_request_duration_seconds_count{kind=\"fetch\"}"), 2);
    assert_int_equal(metric_value(body, "sidecast_cluster_request_duration_seconds_bucket{kind="
                                        "\"fetch\",le=\"+Inf\"}"),
                     2);

    /* redis gone: not ready, with a reason; requests fail with outcome error */
    redis_kill(r);
    uint64_t end = now_ms_h() + 15000;
    int st;
    while ((st = http_get(pa, "/readyz", body, sizeof(body))) == 200 && now_ms_h() < end)
        usleep(50000);
    assert_int_equal(st, 503);
    assert_non_null(strstr(body, "redis"));
    assert_non_null(strstr(body, "connection down since"));
    assert_non_null(strstr(body, "reconnecting"));
    assert_true(sc_client_lookup(a, SC_BY_SOCKET, "b1", false, NULL, NULL, 0) < 0);
    assert_int_equal(req_count(pa, "redis_call", "error"), 1);
    assert_int_equal(metric_value(body, "sidecast_ready"), 0);
    assert_int_equal(metric_value(body, "sidecast_redis_connection_up{connection=\"publish\"}"), 0);
    assert_int_equal(http_get(pa, "/healthz", body, sizeof(body)), 200);

    /* and back */
    redis_restart(r);
    assert_int_equal(wait_metric(pa, "sidecast_ready", 1, 20000), 1);
    assert_true(metric_value(body, "sidecast_redis_reconnects_total{connection=\"publish\"}") >= 1);
    assert_int_equal(http_get(pa, "/readyz", body, sizeof(body)), 200);

    sc_client_close(a);
    sc_client_close(b);
    daemon_free(na);
    daemon_free(nb);
    redis_free(r);
}

/* ---- systemd ------------------------------------------------------------------------ */

typedef struct notify_log {
    int fd;
    char msgs[256][256];
    int n;
} notify_log;

static void notify_read(notify_log *nl, int ms)
{
    uint64_t end = now_ms_h() + (uint64_t)ms;
    while (now_ms_h() < end && nl->n < 256) {
        struct pollfd p = {nl->fd, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0)
            continue;
        ssize_t r = recv(nl->fd, nl->msgs[nl->n], sizeof(nl->msgs[0]) - 1, 0);
        if (r > 0) {
            nl->msgs[nl->n][r] = 0;
            nl->n++;
        }
    }
}

static int notify_count(const notify_log *nl, const char *needle)
{
    int k = 0;
    for (int i = 0; i < nl->n; i++)
        k += strstr(nl->msgs[i], needle) != NULL;
    return k;
}

/* Read until needle was seen `want` times (bounded). */
static bool notify_wait(notify_log *nl, const char *needle, int want, int timeout_ms)
{
    uint64_t end = now_ms_h() + (uint64_t)timeout_ms;
    while (notify_count(nl, needle) < want && now_ms_h() < end && nl->n < 256)
        notify_read(nl, 50);
    return notify_count(nl, needle) >= want;
}

static void test_sd_notify(void **state)
{
    daemon_t *d = daemon_prepare();
    notify_log *nl = calloc(1, sizeof(*nl));
    char path[400], env_sock[420];
    snprintf(path, sizeof(path), "%s/notify.sock", d->dir);
    nl->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    assert_true(strlen(path) < sizeof(a.sun_path));
    memcpy(a.sun_path, path, strlen(path) + 1);
    assert_int_equal(bind(nl->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    snprintf(env_sock, sizeof(env_sock), "NOTIFY_SOCKET=%s", path);
    const char *env[] = {env_sock, "WATCHDOG_USEC=400000", "WATCHDOG_PID=$PID", NULL};
    harness_child_env(env);
    daemon_launch(d, false, NULL);
    harness_child_env(NULL);

    assert_true(notify_wait(nl, "READY=1", 1, 10000));
    assert_true(notify_count(nl, "STATUS=serving 0 app connections") >= 1);
    assert_true(notify_wait(nl, "WATCHDOG=1", 3, 10000)); /* every 200 ms */
    assert_true(daemon_log_contains(d, "systemd watchdog enabled"));
    /* STATUS follows state changes */
    sc_client *c = app_open(d, "app", NULL);
    assert_int_equal(sc_client_socket_up(c, "s1", "", "", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_sync(c, 0), 0);
    assert_true(notify_wait(nl, "STATUS=serving 1 app connection, 1 sockets", 1, 10000));

    kill(d->pid, SIGHUP);
    assert_true(notify_wait(nl, "RELOADING=1", 1, 10000));
    assert_true(notify_count(nl, "MONOTONIC_USEC=") >= 1);
    assert_true(notify_wait(nl, "READY=1", 2, 10000));
    int watchdogs = notify_count(nl, "WATCHDOG=1");
    assert_true(notify_wait(nl, "WATCHDOG=1", watchdogs + 2, 10000)); /* still pinging */
    sc_client_close(c);
    assert_int_equal(daemon_stop(d), 0);
    notify_read(nl, 200);
    assert_true(notify_count(nl, "STOPPING=1") >= 1);
    close(nl->fd);
    free(nl);
    daemon_free(d);
}

static void test_socket_activation(void **state)
{
    daemon_t *d = daemon_prepare();
    char unused[400], wrapper[600];
    snprintf(unused, sizeof(unused), "%s/not-used.sock", d->dir);
    /* systemd-socket-activate listens on d->sock; the harness' first
     * connection makes it exec sidecastd (same pid) with the socket as fd 3 */
    snprintf(wrapper, sizeof(wrapper), "systemd-socket-activate -l %s", d->sock);
    const char *old = getenv("SIDECAST_TEST_WRAPPER");
    char *saved = old ? strdup(old) : NULL;
    setenv("SIDECAST_TEST_WRAPPER", wrapper, 1);
    daemon_launch(d, true, "--socket", unused, "--http-listen", "127.0.0.1:0", "--log-level",
                  "debug", NULL);
    if (saved) {
        setenv("SIDECAST_TEST_WRAPPER", saved, 1);
        free(saved);
    } else {
        unsetenv("SIDECAST_TEST_WRAPPER");
    }
    recorder rec;
    sc_client *c = app_open(d, "app", &rec);
    assert_int_equal(sc_client_socket_up(c, "s1", "", "", NULL, 0, LIST("r")), 0);
    sc_target t = {.rooms = (const char *const[]){"r"}, .n_rooms = 1};
    sc_emit_flags self = {.include_self = true};
    assert_int_equal(sc_client_emit(c, &t, &self, (const uint8_t *)"hi", 2), 0);
    rec_wait_frames(c, &rec, 1, 5000);
    assert_int_equal(rec_count(&rec, "s1"), 1);
    assert_int_equal(stat_of(c, "sockets"), 1);
    int port = daemon_http_port(d);
    assert_int_equal(http_get(port, "/readyz", body, sizeof(body)), 200);
    sc_client_close(c);
    assert_true(daemon_log_contains(d, "socket activation: using the listening socket"));
    char listening[340];
    snprintf(listening, sizeof(listening), "listening on %s,", d->sock); /* the passed one */
    assert_true(daemon_log_contains(d, listening));
    assert_int_equal(daemon_stop(d), 0);
    struct stat st;
    assert_int_equal(lstat(d->sock, &st), 0); /* systemd's file: left alone */
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(lstat(unused, &st), -1); /* and none created */
    daemon_free(d);
}

/* More than one socket passed (or not a listening stream socket): refused. */
static void test_socket_activation_refuses_two(void **state)
{
    daemon_t *d = daemon_prepare();
    char second[400], wrapper[900];
    snprintf(second, sizeof(second), "%s/second.sock", d->dir);
    snprintf(wrapper, sizeof(wrapper), "systemd-socket-activate -l %s -l %s", d->sock, second);
    setenv("SIDECAST_TEST_WRAPPER", wrapper, 1);
    daemon_launch(d, true, "--http-listen", "", NULL);
    unsetenv("SIDECAST_TEST_WRAPPER");
    uint64_t end = now_ms_h() + 10000;
    int st = -1;
    while (now_ms_h() < end) {
        int ws;
        if (waitpid(d->pid, &ws, WNOHANG) == d->pid) {
            st = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128;
            d->pid = -1;
            break;
        }
        usleep(20000);
    }
    assert_int_equal(st, 2);
    assert_true(daemon_log_contains(d, "systemd passed 2 sockets, sidecastd takes exactly one"));
    daemon_free(d);
}

/* stderr is "the journal" (JOURNAL_STREAM names it) but journald is not
 * running, as in this test environment: detected, and lines stay on stderr
 * instead of vanishing (sd_journal_sendv reports success without journald). */
static void test_journal_stream_detected(void **state)
{
    if (access("/run/systemd/journal/socket", F_OK) == 0)
        skip(); /* a real journald would take the lines away from the log file */
    daemon_t *d = daemon_prepare();
    FILE *f = fopen(d->log, "a");
    assert_non_null(f);
    fclose(f);
    struct stat sb;
    assert_int_equal(stat(d->log, &sb), 0);
    char js[128];
    snprintf(js, sizeof(js), "JOURNAL_STREAM=%llu:%llu", (unsigned long long)sb.st_dev,
             (unsigned long long)sb.st_ino);
    const char *env[] = {js, NULL};
    harness_child_env(env);
    daemon_launch(d, false, NULL);
    harness_child_env(NULL);
    sc_client *c = app_open(d, "app", NULL);
    assert_int_equal(sc_client_ping(c, 0, NULL), 0);
    sc_client_close(c);
    assert_true(daemon_log_contains(d, "is not there: logging to stderr"));
    assert_true(daemon_log_contains(d, "http: listening on"));
    daemon_free(d);
}

/* ---- SIGHUP reload ------------------------------------------------------------------- */

static void test_sighup_reload(void **state)
{
    daemon_t *d = daemon_prepare();
    char conf[400], text[2048];
    snprintf(conf, sizeof(conf), "%s/sidecast.conf", d->dir);
    snprintf(text, sizeof(text),
             "socket = %s\nlog_level = info\nmax_connections = 2\nhttp_listen = 127.0.0.1:0\n"
             "http_max_connections = 8\n",
             d->sock);
    write_file(conf, text);
    daemon_launch(d, true, "--config", conf, NULL);
    sc_client *a = app_open(d, "a", NULL);
    sc_client *b = app_open(d, "b", NULL);
    assert_int_equal(sc_client_ping(b, 0, NULL), 0);
    int fd = raw_connect(d->sock); /* the third: refused */
    assert_true(raw_wait_eof(fd, 5000));
    close(fd);
    assert_int_equal(stat_of(a, "connections_refused_limit"), 1);
    assert_false(daemon_log_contains(d, "connected (uid")); /* a debug line */

    /* change a reloadable limit, the level, and the socket path (restart) */
    snprintf(text, sizeof(text),
             "socket = %s/other.sock\nlog_level = debug\nmax_connections = 3\n"
             "http_listen = 127.0.0.1:0\nhttp_max_connections = 16\n",
             d->dir);
    write_file(conf, text);
    kill(d->pid, SIGHUP);
    assert_true(wait_log(d, "reload: max_connections changed from 2 to 3", 10000));
    assert_true(daemon_log_contains(d, "reload: log_level changed from info to debug"));
    assert_true(daemon_log_contains(d, "reload: http_max_connections changed from 8 to 16"));
    assert_true(daemon_log_contains(d, "need a restart to take effect (still running with the "
                                       "old values): socket"));
    sc_client *c = app_open(d, "c", NULL); /* the third now fits */
    assert_int_equal(sc_client_ping(c, 0, NULL), 0);
    assert_int_equal(stat_of(c, "connections_refused_limit"), 1);
    assert_int_equal(stat_of(c, "config_reloads"), 1);
    assert_true(wait_log(d, "connected (uid", 5000)); /* the new level is in force */

    /* a bad file keeps the running configuration */
    snprintf(text, sizeof(text), "socket = %s\nmax_connections = lots\nthis is not ini\n", d->sock);
    write_file(conf, text);
    kill(d->pid, SIGHUP);
    char want[512];
    snprintf(want, sizeof(want), "reload: %s:2: max_connections must be", conf);
    assert_true(wait_log(d, want, 10000));
    snprintf(want, sizeof(want), "reload: %s:3: syntax error", conf);
    assert_true(daemon_log_contains(d, want));
    assert_true(daemon_log_contains(d, "configuration rejected; still running with the previous"));
    assert_int_equal(stat_of(c, "config_reload_errors"), 1);
    fd = raw_connect(d->sock); /* a fourth: max_connections is still 3 */
    assert_true(raw_wait_eof(fd, 5000));
    close(fd);
    assert_int_equal(stat_of(c, "connections_refused_limit"), 2);
    sc_client_close(a);
    sc_client_close(b);
    sc_client_close(c);
    daemon_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_counter_exported),
        cmocka_unit_test(test_metrics_standalone_traffic),
        cmocka_unit_test(test_http_bad_input),
        cmocka_unit_test(test_metrics_cluster),
        cmocka_unit_test(test_sd_notify),
        cmocka_unit_test(test_socket_activation),
        cmocka_unit_test(test_socket_activation_refuses_two),
        cmocka_unit_test(test_journal_stream_detected),
        cmocka_unit_test(test_sighup_reload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
