/* Integration: faults in a cluster of sidecastd nodes on a real
 * redis-server. Redis killed and restarted, Redis frozen (SIGSTOP), a
 * subscription that goes silent while TCP looks fine, a node killed with
 * SIGKILL, a clean stop, a stop with a request pending, answers to an
 * origin longer than a node id, ACL credentials and key prefixes. Every wait is
 * bounded; only processes the test started are signalled. */
#include "harness.h"

#include "cluster.pb-c.h"

#include <hiredis/hiredis.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

static const char *feed[] = {"feed"};

/* Poll both apps until cond holds or timeout; returns cond. */
#define WAIT_FOR(cond, ms, a, b)                                                                   \
    ({                                                                                             \
        uint64_t end_ = now_ms_h() + (ms);                                                         \
        while (!(cond) && now_ms_h() < end_) {                                                     \
            sc_client_poll((a), 5);                                                                \
            sc_client_poll((b), 5);                                                                \
        }                                                                                          \
        (cond);                                                                                    \
    })

static void emit_feed(sc_client *a, int n, int first)
{
    sc_target t = {.rooms = feed, .n_rooms = 1};
    char p[32];
    for (int i = 0; i < n; i++) {
        snprintf(p, sizeof(p), "m%d", first + i);
        assert_int_equal(sc_client_emit(a, &t, NULL, (const uint8_t *)p, strlen(p)), 0);
    }
    assert_int_equal(sc_client_sync(a, 0), 0);
}

/* Subscribers of a channel (redis-cli prints the channel, then the count). */
static int numsub(redis_srv *r, const char *channel)
{
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "PUBSUB NUMSUB %s", channel);
    char *out = redis_cli(r, cmd), *nl = strchr(out, '\n');
    int n = nl ? atoi(nl + 1) : -1;
    free(out);
    return n;
}

static char *node_id_of(sc_client *c)
{
    return strdup(sc_client_node_id(c));
}

static void test_redis_restart_midstream(void **state)
{
    redis_srv *r = redis_start();
    daemon_t *na = node_start(r, "node-a", "--canary-interval-ms", "200", NULL);
    daemon_t *nb = node_start(r, "node-b", "--canary-interval-ms", "200", NULL);
    recorder ra, rb;
    sc_client *a = app_open(na, "app-a", &ra);
    sc_client *b = app_open(nb, "app-b", &rb);
    assert_int_equal(sc_client_socket_up(b, "b1", "sb1", "", NULL, 0, feed, 1), 0);
    assert_int_equal(sc_client_sync(b, 0), 0);
    assert_int_equal(wait_nodes(a, 2, 5000), 2);
    assert_true(WAIT_FOR(numsub(r, "sidecast:room:feed") == 1, 5000, a, b));

    emit_feed(a, 100, 0);
    assert_true(WAIT_FOR(rb.frames == 100, 5000, a, b));

    redis_kill(r);
    assert_true(WAIT_FOR(stat_of(a, "redis_pub_up") == 0, 5000, a, b));
    emit_feed(a, 50, 100); /* Redis is away: into the outbox */
    assert_int_equal(stat_of(a, "outbox_queued"), 50);
    /* local delivery never stops */
    recorder rl;
    sc_client *l = app_open(na, "app-local", &rl);
    assert_int_equal(sc_client_socket_up(l, "l1", "sl1", "", NULL, 0, feed, 1), 0);
    assert_int_equal(sc_client_sync(l, 0), 0);
    emit_feed(a, 1, 150);
    assert_true(WAIT_FOR(rl.frames == 1, 2000, l, b));

    redis_restart(r); /* empty: no persistence */
    assert_true(WAIT_FOR(stat_of(a, "outbox_messages") == 0 && stat_of(b, "redis_sub_up") == 1,
                         10000, a, b));
    /* every queued message was either sent or counted as dropped */
    uint64_t queued = stat_of(a, "outbox_queued");
    assert_int_equal(queued, stat_of(a, "outbox_flushed") + stat_of(a, "outbox_dropped_volatile") +
                                 stat_of(a, "outbox_dropped_full"));
    /* b's subscription was interrupted: its app is told, with the window */
    assert_true(WAIT_FOR(rb.gaps >= 1, 5000, a, b));
    assert_true(stat_of(b, "pubsub_gaps") >= 1);

    /* after both are back, nothing is lost */
    /* (node a subscribes to feed too now: app-local joined it) */
    assert_true(WAIT_FOR(stat_of(a, "redis_sub_up") == 1 && stat_of(b, "redis_sub_up") == 1 &&
                             numsub(r, "sidecast:room:feed") == 2,
                         5000, a, b));
    uint64_t before = rb.frames;
    emit_feed(a, 100, 200);
    assert_true(WAIT_FOR(rb.frames == before + 100, 5000, a, b));

    /* the emptied Redis got this node's directory and liveness back */
    char *bid = node_id_of(b), *out = redis_cli(r, "HGET sidecast:sockets b1");
    assert_non_null(strstr(out, bid));
    free(out);
    assert_true(stat_of(b, "directory_resyncs") >= 2);
    assert_int_equal(wait_nodes(a, 2, 5000), 2);
    free(bid);
    sc_client_close(l);
    sc_client_close(a);
    sc_client_close(b);
    daemon_free(na);
    daemon_free(nb);
    redis_free(r);
}

static void test_redis_frozen(void **state)
{
    redis_srv *r = redis_start();
    daemon_t *na = node_start(r, "node-a", NULL);
    daemon_t *nb = node_start(r, "node-b", NULL);
    recorder ra, rb;
    sc_client *a = app_open(na, "app-a", &ra);
    sc_client *b = app_open(nb, "app-b", &rb);
    assert_int_equal(sc_client_socket_up(b, "b1", "sb1", "", NULL, 0, feed, 1), 0);
    assert_int_equal(sc_client_socket_up(a, "a1", "sa1", "", NULL, 0, feed, 1), 0);
    assert_int_equal(sc_client_sync(b, 0), 0);
    assert_int_equal(sc_client_sync(a, 0), 0);
    assert_int_equal(wait_nodes(a, 2, 5000), 2);
    assert_true(WAIT_FOR(numsub(r, "sidecast:room:feed") == 2, 5000, a, b));

    redis_signal(r, SIGSTOP);
    /* the probe (redis_command_timeout_ms 1000) notices; nothing hangs */
    assert_true(WAIT_FOR(stat_of(a, "redis_pub_up") == 0, 5000, a, b));
    uint64_t t0 = now_ms_h();
    assert_int_equal(sc_client_ping(a, 1000, NULL), 0);
    sc_emit_flags self = {.include_self = true};
    sc_target t = {.rooms = feed, .n_rooms = 1};
    rec_reset(&ra);
    assert_int_equal(sc_client_emit(a, &t, &self, (const uint8_t *)"during", 6), 0);
    assert_int_equal(sc_client_sync(a, 0), 0);
    assert_true(WAIT_FOR(ra.frames == 1, 2000, a, b)); /* local delivery goes on */
    assert_true(now_ms_h() - t0 < 2000);
    assert_true(stat_of(a, "outbox_queued") >= 1);

    redis_signal(r, SIGCONT);
    assert_true(WAIT_FOR(stat_of(a, "redis_pub_up") == 1 && stat_of(b, "redis_sub_up") == 1 &&
                             stat_of(a, "outbox_messages") == 0,
                         10000, a, b));
    assert_true(WAIT_FOR(numsub(r, "sidecast:room:feed") == 2, 5000, a, b));
    uint64_t before = rb.frames;
    emit_feed(a, 20, 0);
    assert_true(WAIT_FOR(rb.frames >= before + 20, 5000, a, b));
    sc_client_close(a);
    sc_client_close(b);
    daemon_free(na);
    daemon_free(nb);
    redis_free(r);
}

static void test_silent_subscription_canary(void **state)
{
    redis_srv *r = redis_start();
    daemon_t *na = node_start(r, "node-a", "--canary-interval-ms", "150",
                              "--redis-command-timeout-ms", "5000", NULL);
    recorder ra;
    sc_client *a = app_open(na, "app-a", &ra);
    assert_int_equal(wait_nodes(a, 1, 5000), 1);
    assert_true(WAIT_FOR(stat_of(a, "canaries_received") >= 2, 3000, a, a));
    /* Publishes stop being delivered while every connection stays up and
     * PING-able from outside: the canary is the only thing that notices. */
    char *out = redis_cli(r, "CLIENT PAUSE 1200 WRITE");
    free(out);
    assert_true(WAIT_FOR(stat_of(a, "canary_missed") >= 1, 3000, a, a));
    assert_true(daemon_log_contains(na, "pub/sub canary missing"));
    /* after the pause: resubscribed, canaries flow, the app hears of the gap */
    assert_true(WAIT_FOR(ra.gaps >= 1, 5000, a, a));
    uint64_t got = stat_of(a, "canaries_received");
    assert_true(WAIT_FOR(stat_of(a, "canaries_received") >= got + 2, 3000, a, a));
    sc_client_close(a);
    daemon_free(na);
    redis_free(r);
}

static void test_sigkill_node_reaped(void **state)
{
    redis_srv *r = redis_start();
    daemon_t *na = node_start(r, "node-a", NULL);
    daemon_t *nc = node_start(r, "node-c", NULL);
    sc_client *a = app_open(na, "app-a", NULL);
    sc_client *c = app_open(nc, "app-c", NULL);
    assert_int_equal(sc_client_socket_up(c, "c1", "sc1", "", NULL, 0, feed, 1), 0);
    assert_int_equal(sc_client_sync(c, 0), 0);
    assert_int_equal(wait_nodes(a, 2, 5000), 2);
    char *out = redis_cli(r, "HEXISTS sidecast:sockets c1");
    assert_int_equal(atoi(out), 1);
    free(out);

    uint64_t t0 = now_ms_h();
    daemon_kill(nc); /* SIGKILL: no goodbye */
    sc_client_close(c);
    /* liveness TTL 800 ms + one heartbeat (200 ms), with slack */
    assert_int_equal(wait_nodes(a, 1, 5000), 1);
    out = redis_cli(r, "HEXISTS sidecast:sockets c1");
    assert_int_equal(atoi(out), 0);
    free(out);
    assert_true(now_ms_h() - t0 < 2500);
    assert_true(stat_of(a, "dead_nodes_reaped") >= 1);
    sc_client_close(a);
    daemon_free(na);
    daemon_free(nc);
    redis_free(r);
}

static void test_clean_stop_leaves_at_once(void **state)
{
    redis_srv *r = redis_start();
    daemon_t *na = node_start(r, "node-a", "--node-ttl-ms", "60000", NULL);
    daemon_t *nb = node_start(r, "node-b", "--node-ttl-ms", "60000", NULL);
    sc_client *a = app_open(na, "app-a", NULL);
    sc_client *b = app_open(nb, "app-b", NULL);
    assert_int_equal(sc_client_socket_up(b, "b1", "sb1", "", NULL, 0, feed, 1), 0);
    assert_int_equal(sc_client_sync(b, 0), 0);
    assert_int_equal(wait_nodes(a, 2, 5000), 2);
    char key[128];
    snprintf(key, sizeof(key), "EXISTS sidecast:alive:%s", sc_client_node_id(b));
    sc_client_close(b);
    assert_int_equal(daemon_stop(nb), 0);
    /* gone without waiting for the 60 s TTL */
    char *out = redis_cli(r, key);
    assert_int_equal(atoi(out), 0);
    free(out);
    out = redis_cli(r, "HEXISTS sidecast:sockets b1");
    assert_int_equal(atoi(out), 0);
    free(out);
    assert_int_equal(wait_nodes(a, 1, 2000), 1);
    assert_true(daemon_log_contains(nb, "leaving the cluster"));
    sc_client_close(a);
    daemon_free(na);
    daemon_free(nb);
    redis_free(r);
}

typedef struct delayed_kill {
    pid_t pid;
    int sig, after_ms;
} delayed_kill;

static void *delayed_kill_main(void *arg)
{
    delayed_kill *k = arg;
    usleep((useconds_t)k->after_ms * 1000);
    kill(k->pid, k->sig);
    return NULL;
}

static void on_socket_ignored(void *ud, const sc_socket_view *s)
{
    (void)ud;
    (void)s;
}

/* A fetch waiting for a frozen node when its sidecastd is told to stop: the
 * app gets ERROR_SHUTTING_DOWN for it at once, not a closed connection. */
static void test_shutdown_answers_pending_requests(void **state)
{
    redis_srv *r = redis_start();
    daemon_t *na = node_start(r, "node-a", NULL);
    daemon_t *nb = node_start(r, "node-b", NULL);
    sc_client *a = app_open(na, "app-a", NULL);
    sc_client *b = app_open(nb, "app-b", NULL);
    assert_int_equal(wait_nodes(a, 2, 5000), 2);
    kill(nb->pid, SIGSTOP);
    delayed_kill k = {na->pid, SIGTERM, 300};
    pthread_t th;
    pthread_create(&th, NULL, delayed_kill_main, &k);
    uint64_t t0 = now_ms_h();
    int rc = sc_client_fetch_sockets(a, NULL, false, false, on_socket_ignored, NULL, 5000);
    pthread_join(th, NULL);
    kill(nb->pid, SIGCONT);
    assert_int_equal(rc, -ESHUTDOWN);
    assert_non_null(strstr(sc_client_last_error(a), "shutting down: fetch sockets not completed"));
    assert_true(now_ms_h() - t0 < 1900); /* before request_timeout_ms 2000 */
    for (uint64_t end = now_ms_h() + 5000;
         !daemon_log_contains(na, "answered 1 pending request(s) with ERROR_SHUTTING_DOWN") &&
         now_ms_h() < end;)
        usleep(10000);
    assert_true(daemon_log_contains(na, "answered 1 pending request(s) with ERROR_SHUTTING_DOWN"));
    sc_client_close(a);
    sc_client_close(b);
    daemon_free(na);
    daemon_free(nb);
    redis_free(r);
}

/* A TCP connection to r subscribed to channel (confirmed), or -1. */
static int raw_subscribe(redis_srv *r, const char *channel)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        return -1;
    char cmd[256];
    int n = snprintf(cmd, sizeof(cmd), "*2\r\n$9\r\nSUBSCRIBE\r\n$%zu\r\n%s\r\n",
                     strlen(channel), channel);
    raw_send(fd, cmd, (size_t)n);
    char buf[512] = {0};
    size_t got = 0;
    while (got < sizeof(buf) - 1 && !strstr(buf, ":1\r\n")) {
        struct pollfd pf = {fd, POLLIN, 0};
        ssize_t k = poll(&pf, 1, 5000) == 1 ? recv(fd, buf + got, sizeof(buf) - 1 - got, 0) : -1;
        if (k <= 0)
            return close(fd), -1;
        got += (size_t)k;
    }
    return fd;
}

/* An origin longer than a sidecast node id (anything may publish on the
 * cluster's channels): the answers to its server-side emit go to its whole
 * node channel, not to a truncated one. */
static void test_answers_reach_a_long_origin(void **state)
{
    redis_srv *r = redis_start();
    daemon_t *nb = node_start(r, "node-b", NULL);
    recorder rb;
    sc_client *b = app_open(nb, "app-b", &rb);
    assert_int_equal(wait_nodes(b, 1, 5000), 1);
    char origin[61], ch[128];
    memset(origin, 'z', 60);
    origin[60] = 0;
    snprintf(ch, sizeof(ch), "sidecast:node:%s", origin);
    int sub = raw_subscribe(r, ch);
    assert_true(sub >= 0);
    /* node-b counts itself before its subscriber is up (TLS makes that
     * window wider): wait until it listens on the broadcast channel */
    for (uint64_t end = now_ms_h() + 5000; now_ms_h() < end; usleep(10000)) {
        char *o = redis_cli(r, "PUBSUB NUMSUB sidecast:all");
        bool on = strstr(o, "\n1\n") != NULL;
        free(o);
        if (on)
            break;
    }

    Sidecast__V1__ServerEmit se = SIDECAST__V1__SERVER_EMIT__INIT;
    se.payload.data = (uint8_t *)"hello";
    se.payload.len = 5;
    se.want_ack = true;
    Sidecast__Cluster__V1__Request rq = SIDECAST__CLUSTER__V1__REQUEST__INIT;
    rq.id = 9;
    rq.kind_case = SIDECAST__CLUSTER__V1__REQUEST__KIND_SERVER_EMIT;
    rq.server_emit = &se;
    Sidecast__Cluster__V1__Envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    env.origin = origin;
    env.seq = 1;
    env.body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_REQUEST;
    env.request = &rq;
    uint8_t buf[256];
    size_t n = sidecast__cluster__v1__envelope__pack(&env, buf);
    assert_int_equal(redis_publish_raw(r, "sidecast:all", buf, n), 1);

    char got[4096] = {0};
    size_t len = 0;
    static const char ack[] = "ack-from-app-b";
    for (uint64_t end = now_ms_h() + 5000;
         now_ms_h() < end && !memmem(got, len, ack, sizeof(ack) - 1);) {
        sc_client_poll(b, 10); /* app b answers with its ack */
        struct pollfd pf = {sub, POLLIN, 0};
        ssize_t k = poll(&pf, 1, 0) == 1 ? recv(sub, got + len, sizeof(got) - 1 - len, 0) : 0;
        if (k > 0)
            len += (size_t)k;
    }
    assert_int_equal(rb.server_msgs, 1);
    assert_non_null(memmem(got, len, ack, sizeof(ack) - 1)); /* app b's answer came back */
    close(sub);
    sc_client_close(b);
    daemon_free(nb);
    redis_free(r);
}

static void test_acl_credentials_and_prefix(void **state)
{
    redis_srv *r = redis_start();
    char *out = redis_cli(r, "ACL SETUSER app on '>s3cret-pw' '~*' '&*' '+@all'");
    free(out);
    char url[128], bad[128];
    snprintf(url, sizeof(url), "redis://app:s3cret-pw@127.0.0.1:%d/0", r->port);
    snprintf(bad, sizeof(bad), "redis://app:wrong-pw@127.0.0.1:%d/0", r->port);
    daemon_t *ok = node_start(r, "node-acl", "--redis-url", url, "--redis-prefix", "appone", NULL);
    daemon_t *other = node_start(r, "node-other", "--redis-prefix", "apptwo", NULL);
    daemon_t *nope = node_start(r, "node-bad", "--redis-url", bad, NULL);
    char unix_url[400];
    snprintf(unix_url, sizeof(unix_url), "unix://%s/redis.sock?db=2", r->dir);
    daemon_t *viaunix = node_start(r, "node-unix", "--redis-url", unix_url, NULL);
    sc_client *a = app_open(ok, "app", NULL);
    sc_client *o = app_open(other, "other", NULL);
    /* namespaces do not see each other */
    assert_int_equal(wait_nodes(a, 1, 5000), 1);
    assert_int_equal(wait_nodes(o, 1, 5000), 1);
    out = redis_cli(r, "KEYS appone:alive:*");
    assert_non_null(strstr(out, "appone:alive:"));
    free(out);
    /* a Unix socket URL with a database number */
    sc_client *u = app_open(viaunix, "via-unix", NULL);
    assert_int_equal(wait_nodes(u, 1, 5000), 1);
    out = redis_cli(r, "-n 2 KEYS sidecast:alive:*");
    assert_non_null(strstr(out, sc_client_node_id(u)));
    free(out);
    sc_client_close(u);
    daemon_free(viaunix);
    /* wrong password: said clearly, and no credential in the log */
    uint64_t end = now_ms_h() + 3000;
    while (now_ms_h() < end && !daemon_log_contains(nope, "refused"))
        usleep(20000);
    assert_true(daemon_log_contains(nope, "AUTH/SELECT refused"));
    assert_false(daemon_log_contains(nope, "wrong-pw"));
    assert_false(daemon_log_contains(ok, "s3cret-pw"));
    sc_client_close(a);
    sc_client_close(o);
    daemon_free(ok);
    daemon_free(other);
    daemon_free(nope);
    redis_free(r);
}

/* ---- a node whose entries vanished from Redis rejoins whole ------------------ */

typedef struct rejoin {
    redis_srv *r;
    daemon_t *na, *nb;
    recorder ra, rb;
    sc_client *a, *b;
} rejoin;

static rejoin *rejoin_start(void)
{
    rejoin *w = calloc(1, sizeof(*w));
    w->r = redis_start();
    w->na = node_start(w->r, "node-a", "--canary-interval-ms", "200", NULL);
    w->nb = node_start(w->r, "node-b", "--canary-interval-ms", "200", NULL);
    w->a = app_open(w->na, "app-a", &w->ra);
    w->b = app_open(w->nb, "app-b", &w->rb);
    assert_int_equal(sc_client_socket_up(w->b, "b1", "sb1", "ub1", NULL, 0, feed, 1), 0);
    assert_int_equal(sc_client_sync(w->b, 0), 0);
    assert_int_equal(wait_nodes(w->a, 2, 5000), 2);
    assert_true(WAIT_FOR(sc_client_lookup(w->a, SC_BY_SOCKET, "b1", false, NULL, NULL, 0) == 1,
                         5000, w->a, w->b));
    return w;
}

static void rejoin_free(rejoin *w)
{
    sc_client_close(w->a);
    sc_client_close(w->b);
    daemon_free(w->na);
    daemon_free(w->nb);
    redis_free(w->r);
    free(w);
}

/* After the fault: within a few heartbeats (200 ms here) b1 is found by
 * session, socket and user again, b's app got a Gap, and a targeted emit
 * from a reaches b1 exactly once. */
static void assert_rejoined(rejoin *w, uint64_t gaps_before)
{
    sc_client *a = w->a, *b = w->b;
    assert_true(WAIT_FOR(sc_client_lookup(a, SC_BY_SOCKET, "b1", false, NULL, NULL, 0) == 1 &&
                             sc_client_lookup(a, SC_BY_SESSION, "sb1", false, NULL, NULL, 0) == 1 &&
                             sc_client_lookup(a, SC_BY_USER, "ub1", false, NULL, NULL, 0) == 1,
                         3000, a, b));
    assert_true(stat_of(b, "self_reaped") >= 1);
    assert_true(WAIT_FOR(w->rb.gaps > gaps_before, 3000, a, b));
    assert_int_equal(stat_of(b, "pubsub_gaps"), w->rb.gaps);
    const char *ids[] = {"b1"};
    sc_target t = {.socket_ids = ids, .n_socket_ids = 1};
    unsigned before = rec_count(&w->rb, "b1");
    assert_int_equal(sc_client_emit(a, &t, NULL, (const uint8_t *)"after", 5), 0);
    assert_int_equal(sc_client_sync(a, 0), 0);
    assert_true(WAIT_FOR(rec_count(&w->rb, "b1") == before + 1, 3000, a, b));
    app_drain(b, 50);
    assert_int_equal(rec_count(&w->rb, "b1"), before + 1);
}

/* Node b frozen (SIGSTOP) past its TTL: node a reaps it. Once resumed,
 * b's heartbeat finds its liveness and directory gone and rewrites them. */
static void test_stalled_node_rejoins_whole(void **state)
{
    rejoin *w = rejoin_start();
    uint64_t gaps = w->rb.gaps;
    assert_int_equal(kill(w->nb->pid, SIGSTOP), 0);
    assert_int_equal(wait_nodes(w->a, 1, 5000), 1); /* reaped */
    char *out = redis_cli(w->r, "HEXISTS sidecast:sockets b1");
    assert_int_equal(atoi(out), 0);
    free(out);
    uint64_t no_route = stat_of(w->a, "targeted_no_route");
    const char *ids[] = {"b1"};
    sc_target t = {.socket_ids = ids, .n_socket_ids = 1};
    assert_int_equal(sc_client_emit(w->a, &t, NULL, (const uint8_t *)"lost", 4), 0);
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    /* the emit found no directory entry: counted on the sender */
    assert_true(WAIT_FOR(stat_of(w->a, "targeted_no_route") == no_route + 1, 3000, w->a, w->a));
    assert_int_equal(kill(w->nb->pid, SIGCONT), 0);
    assert_rejoined(w, gaps);
    assert_int_equal(wait_nodes(w->a, 2, 3000), 2);
    assert_true(daemon_log_contains(w->nb, "rewriting its liveness and directory"));
    rejoin_free(w);
}

/* A node whose liveness expired while it was still listed rewrites its
 * directory once more at the first heartbeat after a rewrite: survivors
 * reap a dead node's directory a chunk per heartbeat (lua/reap.lua), and a
 * chunk may have taken part of the rewrite. Made without survivors: the
 * liveness key deleted and the publish connection killed in one MULTI, so
 * that the first heartbeat after the reconnect's rewrite finds the node
 * listed, its marker there and its liveness gone (before f488c41 it took
 * the directory as whole). */
static void test_listed_but_expired_rewrites_again(void **state)
{
    redis_srv *r = redis_start();
    daemon_t *nb = node_start(r, "node-b", "--canary-interval-ms", "200", NULL);
    recorder rb = {0};
    sc_client *b = app_open(nb, "app-b", &rb);
    assert_int_equal(sc_client_socket_up(b, "b1", "sb1", "ub1", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_sync(b, 0), 0);
    assert_int_equal(wait_nodes(b, 1, 5000), 1);
    assert_true(WAIT_FOR(sc_client_lookup(b, SC_BY_SOCKET, "b1", false, NULL, NULL, 0) == 1, 5000,
                         b, b));
    uint64_t reaped = stat_of(b, "self_reaped");
    unsigned gaps = rb.gaps;
    redisContext *rc = redisConnect("127.0.0.1", r->port);
    assert_true(rc && !rc->err);
    char key[128];
    snprintf(key, sizeof(key), "sidecast:alive:%s", sc_client_node_id(b));
    redisAppendCommand(rc, "MULTI");
    redisAppendCommand(rc, "DEL %s", key);
    redisAppendCommand(rc, "CLIENT KILL TYPE normal"); /* the node's publish connection */
    redisAppendCommand(rc, "EXEC");
    for (int i = 0; i < 4; i++) {
        redisReply *rep = NULL;
        assert_int_equal(redisGetReply(rc, (void **)&rep), REDIS_OK);
        assert_true(rep->type != REDIS_REPLY_ERROR);
        freeReplyObject(rep);
    }
    redisFree(rc);
    assert_true(WAIT_FOR(stat_of(b, "self_reaped") == reaped + 1, 5000, b, b));
    assert_true(daemon_log_contains(nb, "liveness had expired while it was still listed"));
    assert_true(WAIT_FOR(rb.gaps > gaps, 5000, b, b));
    assert_true(WAIT_FOR(sc_client_lookup(b, SC_BY_SOCKET, "b1", false, NULL, NULL, 0) == 1, 5000,
                         b, b));
    assert_int_equal(stat_of(b, "self_reaped"), reaped + 1); /* once, not a loop */
    sc_client_close(b);
    daemon_free(nb);
    redis_free(r);
}

/* With session_grace_ms = 0, a node writing its directory again (here
 * after its connections were killed) keeps the data of the sessions still
 * connected: its forget before the rewrite used to delete it. */
static void test_no_grace_rewrite_keeps_session_data(void **state)
{
    (void)state;
    redis_srv *r = redis_start();
    daemon_t *nb = node_start(r, "node-b", "--session-grace-ms", "0", NULL);
    sc_client *b = app_open(nb, "app-b", NULL);
    assert_int_equal(sc_client_socket_up(b, "b1", "sb1", "", NULL, 0, NULL, 0), 0);
    assert_int_equal(wait_nodes(b, 1, 5000), 1);
    assert_true(
        WAIT_FOR(sc_client_lookup(b, SC_BY_SESSION, "sb1", false, NULL, NULL, 0) == 1, 5000, b, b));
    sc_session_entry e = {"k", (const uint8_t *)"v", 1};
    assert_int_equal(sc_client_session_set(b, "sb1", &e, 1, NULL, 0, 0), 0);
    uint64_t resyncs = stat_of(b, "directory_resyncs");
    free(redis_cli(r, "CLIENT KILL TYPE normal"));
    assert_true(WAIT_FOR(stat_of(b, "directory_resyncs") > resyncs &&
                             sc_client_lookup(b, SC_BY_SESSION, "sb1", false, NULL, NULL, 0) == 1,
                         10000, b, b));
    char *v = redis_cli(r, "HGET sidecast:sdata:sb1 k");
    assert_string_equal(v, "v\n");
    free(v);
    char *ttl = redis_cli(r, "PTTL sidecast:sdata:sb1");
    assert_string_equal(ttl, "-1\n"); /* connected: no expiry */
    free(ttl);
    /* and it goes as soon as its socket does */
    assert_int_equal(sc_client_socket_down(b, "b1"), 0);
    assert_int_equal(sc_client_sync(b, 0), 0);
    char *ex = NULL;
    for (uint64_t end = now_ms_h() + 5000; now_ms_h() < end; usleep(2000)) {
        free(ex);
        ex = redis_cli(r, "EXISTS sidecast:sdata:sb1");
        if (strcmp(ex, "0\n") == 0)
            break;
    }
    assert_string_equal(ex, "0\n");
    free(ex);
    sc_client_close(b);
    daemon_free(nb);
    redis_free(r);
}

/* FLUSHALL with every connection kept: both nodes find their entries gone
 * at their next heartbeat and write them again. */
static void test_flushall_rejoins_whole(void **state)
{
    rejoin *w = rejoin_start();
    uint64_t gaps = w->rb.gaps;
    free(redis_cli(w->r, "FLUSHALL"));
    assert_rejoined(w, gaps);
    assert_true(WAIT_FOR(stat_of(w->a, "self_reaped") >= 1, 3000, w->a, w->b));
    assert_int_equal(wait_nodes(w->a, 2, 3000), 2);
    assert_int_equal(stat_of(w->a, "redis_pub_up"), 1); /* no reconnect was needed */
    rejoin_free(w);
}

/* SCRIPT FLUSH: EVALSHA fails with NOSCRIPT; the node loads its scripts
 * again instead of failing every lookup and heartbeat from then on. */
static void test_script_flush_reloads(void **state)
{
    rejoin *w = rejoin_start();
    free(redis_cli(w->r, "SCRIPT FLUSH"));
    /* the next script call meets NOSCRIPT and its node loads the scripts
     * again (for every node: Redis keeps one script cache) */
    assert_true(WAIT_FOR(stat_of(w->a, "redis_scripts_reloaded") +
                                 stat_of(w->b, "redis_scripts_reloaded") >=
                             1,
                         3000, w->a, w->b));
    assert_true(WAIT_FOR(sc_client_lookup(w->a, SC_BY_SESSION, "sb1", false, NULL, NULL, 0) == 1,
                         3000, w->a, w->b));
    unsigned before = rec_count(&w->rb, "b1");
    const char *ids[] = {"b1"};
    sc_target t = {.socket_ids = ids, .n_socket_ids = 1};
    assert_int_equal(sc_client_emit(w->a, &t, NULL, (const uint8_t *)"x", 1), 0);
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    assert_true(WAIT_FOR(rec_count(&w->rb, "b1") == before + 1, 3000, w->a, w->b));
    assert_int_equal(wait_nodes(w->a, 2, 3000), 2);
    rejoin_free(w);
}

/* ---- versions and features (rolling upgrades) ----------------------------------- */

/* An envelope of a newer cluster major version is dropped and counted, not
 * misread; the same emit at this version is delivered. */
static void test_newer_version_dropped(void **state)
{
    redis_srv *r = redis_start();
    daemon_t *nb = node_start(r, "node-b", NULL);
    recorder rb;
    sc_client *b = app_open(nb, "app-b", &rb);
    assert_int_equal(sc_client_socket_up(b, "b1", "sb1", "", NULL, 0, feed, 1), 0);
    assert_int_equal(sc_client_sync(b, 0), 0);
    assert_true(WAIT_FOR(numsub(r, "sidecast:room:feed") == 1, 5000, b, b));
    char *rooms[] = {(char *)"feed"};
    Sidecast__V1__Selector sel = SIDECAST__V1__SELECTOR__INIT;
    sel.rooms = rooms;
    sel.n_rooms = 1;
    Sidecast__Cluster__V1__ClusterEmit em = SIDECAST__CLUSTER__V1__CLUSTER_EMIT__INIT;
    em.to = &sel;
    Sidecast__Cluster__V1__Envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    env.origin = (char *)"future-node";
    env.body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_EMIT;
    env.emit = &em;
    uint8_t buf[256];
    for (uint32_t version = 2; version >= 1; version--) {
        env.seq = 3 - version;
        env.version = version;
        em.payload.data = (uint8_t *)(version == 2 ? "v2" : "v1");
        em.payload.len = 2;
        size_t len = sidecast__cluster__v1__envelope__pack(&env, buf);
        assert_int_equal(redis_publish_raw(r, "sidecast:room:feed", buf, len), 1);
    }
    assert_true(WAIT_FOR(rb.frames == 1, 3000, b, b));
    assert_string_equal(rb.last_payload, "v1");
    assert_int_equal(stat_of(b, "cluster_newer_version_dropped"), 1);
    /* this version, a body it does not know (field 99): counted, ignored */
    static const uint8_t unknown[] = {0x0a, 11,  'f',  'u',  't',  'u', 'r', 'e', '-', 'n', 'o',
                                      'd',  'e', 0x10, 0x03, 0x30, 0x01, 0x9a, 0x06, 0x01, 'x'};
    assert_int_equal(redis_publish_raw(r, "sidecast:room:feed", unknown, sizeof(unknown)), 1);
    assert_true(WAIT_FOR(stat_of(b, "cluster_unknown_kind") == 1, 3000, b, b));
    assert_int_equal(rb.frames, 1);
    assert_true(daemon_log_contains(nb, "of cluster version 2: this node speaks version 1"));
    sc_client_close(b);
    daemon_free(nb);
    redis_free(r);
}

/* A subscriber of the test's own on `channel` (replies read with a 5 s
 * bound), to see what the nodes publish there. */
static redisContext *subscriber(redis_srv *r, const char *channel)
{
    redisContext *rc = redisConnect("127.0.0.1", r->port);
    assert_true(rc && !rc->err);
    struct timeval tv = {5, 0};
    redisSetTimeout(rc, tv);
    freeReplyObject(redisCommand(rc, "SUBSCRIBE %s", channel));
    return rc;
}

/* What a live node leaves in Redis, for a node that is not there: its
 * liveness (info "<len>:<name>") and, unless ver is NULL (a node from
 * before versioning), its version record. */
static void fake_node(redis_srv *r, const char *id, const char *name, const char *ver)
{
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "SET sidecast:alive:%s %zu:%s PX 60000", id, strlen(name), name);
    free(redis_cli(r, cmd));
    if (ver) {
        snprintf(cmd, sizeof(cmd), "SET sidecast:ver:%s %s PX 60000", id, ver);
        free(redis_cli(r, cmd));
    }
    snprintf(cmd, sizeof(cmd), "SADD sidecast:nodes %s", id);
    free(redis_cli(r, cmd));
}

/* A request of a kind a node does not know (from a newer node) is answered
 * as unsupported by every node, so that its sender never waits for them. */
static void test_unknown_request_kind_answered(void **state)
{
    redis_srv *r = redis_start();
    daemon_t *na = node_start(r, "node-a", NULL);
    daemon_t *nb = node_start(r, "node-b", NULL);
    sc_client *a = app_open(na, "app-a", NULL);
    sc_client *b = app_open(nb, "app-b", NULL);
    assert_int_equal(wait_nodes(a, 2, 5000), 2);
    /* listed is not yet subscribed (a node is live from its first
     * heartbeat): both on the all channel first (bounded) */
    for (uint64_t end = now_ms_h() + 10000; numsub(r, "sidecast:all") < 2 && now_ms_h() < end;)
        usleep(20000);
    redisContext *rc = subscriber(r, "sidecast:node:newer-node");
    /* Envelope{origin "newer-node", seq 1, version 1, request {id 7, field
     * 99: a kind this version does not have}}, written by hand */
    static const uint8_t env[] = {0x0a, 10,   'n',  'e',  'w', 'e', 'r', '-', 'n', 'o',
                                  'd',  'e',  0x10, 0x01, 0x30, 0x01, 0x5a, 0x06, 0x08, 0x07,
                                  0x9a, 0x06, 0x01, 'x'};
    assert_int_equal(redis_publish_raw(r, "sidecast:all", env, sizeof(env)), 2);
    char *ids[2] = {0};
    for (int i = 0; i < 2; i++) {
        redisReply *rep = NULL;
        assert_int_equal(redisGetReply(rc, (void **)&rep), REDIS_OK);
        assert_true(rep->type == REDIS_REPLY_ARRAY && rep->elements == 3);
        Sidecast__Cluster__V1__Envelope *e = sidecast__cluster__v1__envelope__unpack(
            NULL, rep->element[2]->len, (const uint8_t *)rep->element[2]->str);
        assert_non_null(e);
        assert_int_equal(e->body_case, SIDECAST__CLUSTER__V1__ENVELOPE__BODY_RESPONSE);
        assert_int_equal(e->version, 1);
        assert_int_equal(e->response->id, 7);
        assert_true(e->response->unsupported && e->response->last);
        ids[i] = strdup(e->origin);
        sidecast__cluster__v1__envelope__free_unpacked(e, NULL);
        freeReplyObject(rep);
    }
    assert_string_not_equal(ids[0], ids[1]); /* one answer from each node */
    assert_true(strcmp(ids[0], sc_client_node_id(a)) == 0 || strcmp(ids[1], sc_client_node_id(a)) == 0);
    assert_true(strcmp(ids[0], sc_client_node_id(b)) == 0 || strcmp(ids[1], sc_client_node_id(b)) == 0);
    assert_int_equal(stat_of(a, "requests_unsupported_answered"), 1);
    assert_int_equal(stat_of(b, "requests_unsupported_answered"), 1);
    free(ids[0]);
    free(ids[1]);
    redisFree(rc);
    sc_client_close(a);
    sc_client_close(b);
    daemon_free(na);
    daemon_free(nb);
    redis_free(r);
}

/* Subscribers of b's private room's channel in test_features_follow_oldest_node. */
static long private_room_subscribers(redis_srv *r)
{
    char *out = redis_cli(r, "PUBSUB NUMSUB sidecast:room:/,privateSocketB000001");
    const char *nl = strchr(out, '\n');
    long n = nl ? atol(nl + 1) : -1;
    free(out);
    return n;
}

#define FULL_FEATURES                                                                              \
    (SC_CLUSTER_FEATURE_UNSUPPORTED_ANSWER | SC_CLUSTER_FEATURE_ANNOUNCE |                         \
     SC_CLUSTER_FEATURE_PRIVATE_ROOMS | SC_CLUSTER_FEATURE_QUIET_ROOMS)

/* private_rooms = 0 on one node turns private rooms off on every node:
 * the other node subscribes its sockets' id rooms like any room, and an
 * emit from the node that has them off reaches them once. */
static void test_private_rooms_off_on_one_node(void **state)
{
    (void)state;
    redis_srv *r = redis_start();
    daemon_t *na = node_start(r, "node-a", NULL);
    daemon_t *nb = node_start(r, "node-b", "--private-rooms", "0", NULL);
    recorder ra = {0};
    sc_client *a = app_open(na, "app-a", &ra);
    sc_client *b = app_open(nb, "app-b", NULL);
    assert_int_equal(wait_nodes(a, 2, 5000), 2);
    uint64_t without = FULL_FEATURES & ~(uint64_t)(SC_CLUSTER_FEATURE_PRIVATE_ROOMS |
                                                   SC_CLUSTER_FEATURE_QUIET_ROOMS);
    assert_true(WAIT_FOR(stat_of(a, "cluster_features") == without &&
                             stat_of(b, "cluster_features") == without,
                         5000, a, b));
    assert_true(wait_log(na, "reduced mode because of node node-b", 1000));
    /* a may have been ready alone (a slow start of b): its sweep notices */
    assert_true(WAIT_FOR(stat_of(a, "private_rooms_ready") == 0, 5000, a, b));
    const char *room = "/,privateSocketA000001";
    assert_int_equal(sc_client_socket_up(a, "privateSocketA000001", "", "", NULL, 0, &room, 1), 0);
    assert_int_equal(sc_client_sync(a, 0), 0);
    assert_int_equal(stat_of(a, "rooms_private"), 0);
    char *out = NULL;
    for (uint64_t end = now_ms_h() + 5000; now_ms_h() < end; usleep(2000)) {
        free(out);
        out = redis_cli(r, "PUBSUB NUMSUB sidecast:room:/,privateSocketA000001");
        if (strstr(out, "\n1"))
            break;
    }
    assert_non_null(strstr(out, "\n1"));
    free(out);
    out = NULL;
    sc_target t = {.rooms = &room, .n_rooms = 1};
    for (int i = 0; i < 10; i++)
        assert_int_equal(sc_client_emit(b, &t, NULL, (const uint8_t *)"x", 1), 0);
    assert_int_equal(sc_client_sync(b, 0), 0);
    assert_true(WAIT_FOR(rec_count(&ra, "privateSocketA000001") >= 10, 5000, a, b));
    app_drain(a, 50);
    assert_int_equal(rec_count(&ra, "privateSocketA000001"), 10);
    assert_int_equal(stat_of(b, "private_routes"), 0); /* one publish each */
    assert_int_equal(stat_of(b, "private_room_publishes_skipped"), 0);
    /* and the other way: a sends no copy to b, which does not advertise
     * private rooms (an older node would deliver both copies) */
    recorder rb2 = {0};
    sc_client *b2 = app_open(nb, "app-b2", &rb2);
    const char *broom = "/,privateSocketB000001";
    assert_int_equal(sc_client_socket_up(b2, "privateSocketB000001", "", "", NULL, 0, &broom, 1),
                     0);
    assert_int_equal(sc_client_sync(b2, 0), 0);
    for (uint64_t end = now_ms_h() + 5000; now_ms_h() < end; usleep(2000)) {
        free(out);
        out = redis_cli(r, "HGET sidecast:sockets privateSocketB000001");
        if (out[0] != '\n')
            break;
    }
    free(out);
    out = NULL;
    uint64_t dups = stat_of(b, "cluster_duplicates_skipped");
    sc_target tb = {.rooms = &broom, .n_rooms = 1};
    for (int i = 0; i < 10; i++)
        assert_int_equal(sc_client_emit(a, &tb, NULL, (const uint8_t *)"y", 1), 0);
    assert_int_equal(sc_client_sync(a, 0), 0);
    assert_true(WAIT_FOR(rec_count(&rb2, "privateSocketB000001") >= 10, 5000, a, b2));
    assert_int_equal(rec_count(&rb2, "privateSocketB000001"), 10);
    assert_int_equal(stat_of(b, "cluster_duplicates_skipped"), dups);
    /* nor leaves the room's channel out: b does not say when it subscribes one */
    assert_int_equal(stat_of(a, "private_room_publishes_skipped"), 0);
    sc_client_close(b2);
    sc_client_close(a);
    sc_client_close(b);
    daemon_free(na);
    daemon_free(nb);
    redis_free(r);
}

#define PF "privateSocketF000001"

/* Numbered emits first..end-1 ("#<n>") from app c to one room. */
static void emit_numbered(sc_client *c, const char *room, unsigned first, unsigned end)
{
    sc_target t = {.rooms = &room, .n_rooms = 1};
    for (unsigned i = first; i < end; i++) {
        char msg[16];
        int n = snprintf(msg, sizeof(msg), "#%u", i);
        assert_int_equal(sc_client_emit(c, &t, NULL, (const uint8_t *)msg, (size_t)n), 0);
    }
    assert_int_equal(sc_client_sync(c, 0), 0);
}

/* io.to(socket.id) on the socket's own node (canaries on): delivered
 * there, and once the room's channel is found without subscribers not
 * published at all; a member joining on b is announced, and the channel
 * published again. Each numbered emit reaches each member once. */
static void test_own_private_room_quiet(void **state)
{
    (void)state;
    redis_srv *r = redis_start();
    daemon_t *na = node_start(r, "node-a", NULL);
    daemon_t *nb = node_start(r, "node-b", NULL);
    recorder r1 = {0}, rb = {0};
    sc_client *a = app_open(na, "app-a", NULL);
    sc_client *a1 = app_open(na, "app-a1", &r1);
    sc_client *b = app_open(nb, "app-b", &rb);
    assert_int_equal(wait_nodes(a, 2, 5000), 2);
    assert_true(WAIT_FOR(stat_of(a, "cluster_features") == FULL_FEATURES &&
                             stat_of(b, "cluster_features") == FULL_FEATURES &&
                             stat_of(a, "private_rooms_ready") == 1,
                         10000, a, b));
    const char *room = "/," PF;
    assert_int_equal(sc_client_socket_up(a1, PF, "spf", "", NULL, 0, &room, 1), 0);
    assert_int_equal(sc_client_sync(a1, 0), 0);
    uint64_t found = stat_of(a, "private_rooms_found_quiet");
    emit_numbered(a, room, 0, 1);
    assert_true(WAIT_FOR(stat_of(a, "private_rooms_found_quiet") == found + 1, 5000, a, a1));
    uint64_t skipped = stat_of(a, "private_room_publishes_skipped");
    emit_numbered(a, room, 1, 101);
    assert_true(WAIT_FOR(r1.sockets >= 101, 5000, a1, b));
    app_drain(a1, 50);
    assert_true(rec_numbered_once(&r1, 0, 101));
    assert_int_equal(stat_of(a, "private_room_publishes_skipped"), skipped + 100);

    /* b1 joins it on b: b subscribes the channel and says so */
    uint64_t heard = stat_of(a, "private_subscribed_heard");
    assert_int_equal(sc_client_socket_up(b, "b1", "sb1", "", NULL, 0, &room, 1), 0);
    assert_int_equal(sc_client_sync(b, 0), 0);
    assert_true(WAIT_FOR(stat_of(a, "private_subscribed_heard") > heard, 5000, a, b));
    emit_numbered(a, room, 101, 151);
    assert_true(WAIT_FOR(r1.sockets >= 151 && rb.sockets >= 50, 5000, a1, b));
    app_drain(a1, 50);
    app_drain(b, 50);
    assert_true(rec_numbered_once(&r1, 0, 151));
    assert_true(rec_numbered_once(&rb, 101, 151));
    assert_int_equal(stat_of(a, "private_room_publishes_skipped"), skipped + 100);
    sc_client_close(a1);
    sc_client_close(a);
    sc_client_close(b);
    daemon_free(na);
    daemon_free(nb);
    redis_free(r);
}

/* What a node found about a private room's channel outlives the directory
 * cache entry of its socket (dircache_ttl_ms 1500 here): at light load
 * routes expire between two emits to a socket while the channel stays
 * quiet. With canaries it holds until something voids it; without them
 * it lasts dircache_ttl_ms too (nothing else would notice a stalled
 * subscriber). Each numbered emit reaches the socket once. */
static void test_quiet_mark_outlives_route(void **state)
{
    (void)state;
    const char *room = "/," PF;
    for (int canaries = 1; canaries >= 0; canaries--) {
        redis_srv *r = redis_start();
        daemon_t *na = node_start(r, "node-a", "--dircache-ttl-ms", "1500", "--canary-interval-ms",
                                  canaries ? "1000" : "0", NULL);
        daemon_t *nb = node_start(r, "node-b", NULL);
        recorder rb = {0};
        sc_client *a = app_open(na, "app-a", NULL);
        sc_client *b = app_open(nb, "app-b", &rb);
        assert_int_equal(wait_nodes(a, 2, 5000), 2);
        assert_true(WAIT_FOR(stat_of(a, "cluster_features") == FULL_FEATURES &&
                                 stat_of(b, "cluster_features") == FULL_FEATURES &&
                                 stat_of(b, "private_rooms_ready") == 1,
                             10000, a, b));
        assert_int_equal(sc_client_socket_up(b, PF, "spf", "", NULL, 0, &room, 1), 0);
        assert_int_equal(sc_client_sync(b, 0), 0);
        /* through the script, and the channel answers 0 */
        emit_numbered(a, room, 0, 1);
        assert_true(WAIT_FOR(stat_of(a, "private_rooms_found_quiet") == 1 &&
                                 stat_of(a, "dircache_filled") == 1,
                             5000, a, b));
        assert_int_equal(stat_of(a, "private_rooms_quiet"), 1);

        /* the route expires; the mark stays, or goes too without canaries */
        assert_true(WAIT_FOR(stat_of(a, "dircache_entries") == 0 &&
                                 (canaries || stat_of(a, "private_rooms_quiet") == 0),
                             5000, a, b));
        uint64_t misses = stat_of(a, "dircache_misses");
        uint64_t skipped = stat_of(a, "private_room_publishes_skipped");
        emit_numbered(a, room, 1, 2); /* looked up again; published again without canaries */
        assert_true(WAIT_FOR(stat_of(a, "dircache_filled") == 2 &&
                                 stat_of(a, "private_rooms_found_quiet") == 2 - (uint64_t)canaries,
                             5000, a, b));
        emit_numbered(a, room, 2, 52); /* by the cache, the channel left out */
        assert_true(WAIT_FOR(rb.sockets >= 52, 5000, a, b));
        app_drain(b, 50);
        assert_true(rec_numbered_once(&rb, 0, 52));
        assert_int_equal(stat_of(a, "dircache_misses"), misses + 1);
        assert_int_equal(stat_of(a, "private_room_publishes_skipped"), skipped + 50 + canaries);
        assert_int_equal(stat_of(a, "private_rooms_found_quiet"), 2 - (uint64_t)canaries);
        sc_client_close(a);
        sc_client_close(b);
        daemon_free(na);
        daemon_free(nb);
        redis_free(r);
    }
}

/* A Subscribed lost with a publish connection would let another node leave
 * a private room's channel out until something else voids its mark (with
 * canaries on, maybe never): each node says it again when its publish
 * connection comes back. */
static void test_quiet_rooms_announced_again(void **state)
{
    (void)state;
    redis_srv *r = redis_start();
    daemon_t *na = node_start(r, "node-a", NULL);
    daemon_t *nb = node_start(r, "node-b", NULL);
    sc_client *a = app_open(na, "app-a", NULL);
    sc_client *b = app_open(nb, "app-b", NULL);
    assert_int_equal(wait_nodes(a, 2, 5000), 2);
    assert_true(WAIT_FOR(stat_of(a, "cluster_features") == FULL_FEATURES &&
                             stat_of(b, "cluster_features") == FULL_FEATURES,
                         5000, a, b));
    uint64_t sent = stat_of(b, "private_subscribed_sent");
    uint64_t heard = stat_of(a, "private_subscribed_heard");
    free(redis_cli(r, "CLIENT KILL TYPE normal")); /* both nodes' publish connections */
    assert_true(WAIT_FOR(stat_of(b, "private_subscribed_sent") > sent &&
                             stat_of(a, "private_subscribed_heard") > heard,
                         10000, a, b));
    sc_client_close(a);
    sc_client_close(b);
    daemon_free(na);
    daemon_free(nb);
    redis_free(r);
}

/* The features every live node has: all of them among current nodes; none
 * while a node from before versioning (liveness but no version record) is
 * live, with a log line naming it; all again once it is gone. */
static void test_features_follow_oldest_node(void **state)
{
    redis_srv *r = redis_start();
    daemon_t *na = node_start(r, "node-a", NULL);
    daemon_t *nb = node_start(r, "node-b", NULL);
    recorder rb = {0};
    sc_client *a = app_open(na, "app-a", NULL);
    sc_client *b = app_open(nb, "app-b", &rb);
    assert_int_equal(wait_nodes(a, 2, 5000), 2);
    assert_true(WAIT_FOR(stat_of(a, "cluster_features") == FULL_FEATURES, 3000, a, b));
    assert_int_equal(stat_of(a, "cluster_nodes_reduced"), 0);
    assert_true(daemon_log_contains(na, "advertise_address is not set"));
    /* b leaves its socket's id room unsubscribed (proto/README.md, private rooms) */
    assert_true(WAIT_FOR(stat_of(b, "private_rooms_ready") == 1, 10000, a, b));
    const char *room = "/,privateSocketB000001";
    assert_int_equal(sc_client_socket_up(b, "privateSocketB000001", "", "", NULL, 0, &room, 1), 0);
    assert_int_equal(sc_client_sync(b, 0), 0);
    assert_int_equal(stat_of(b, "rooms_private"), 1);
    assert_int_equal(private_room_subscribers(r), 0);
    /* what a node of the version before negotiation leaves in Redis */
    fake_node(r, "0ld0ld0ld0ld0ld0", "old-node", NULL);
    assert_true(WAIT_FOR(stat_of(a, "cluster_features") == 0 &&
                             stat_of(b, "cluster_nodes_reduced") == 1,
                         3000, a, b));
    /* that node would publish to the room's channel only: b subscribes it, with a Gap */
    assert_true(WAIT_FOR(private_room_subscribers(r) == 1 && rb.gaps >= 1, 5000, a, b));
    assert_true(wait_log(nb, "subscribing this node's 1 such rooms", 1000));
    assert_int_equal(stat_of(b, "private_rooms_ready"), 0);
    assert_int_equal(wait_nodes(a, 3, 1000), 3);
    assert_true(wait_log(na, "reduced mode because of node old-node", 1000));
    static char body[65536];
    assert_int_equal(http_get(daemon_http_port(na), "/metrics", body, sizeof(body)), 200);
    assert_true(promtool_ok(body));
    assert_non_null(strstr(body, "sidecast_cluster_node_info{node_id=\"0ld0ld0ld0ld0ld0\","
                                 "node_name=\"old-node\",version=\"0\",features=\"0\"} 1"));
    char want[96];
    snprintf(want, sizeof(want), "node_name=\"node-b\",version=\"1\",features=\"%llu\"} 1",
             (unsigned long long)FULL_FEATURES);
    assert_non_null(strstr(body, want));
    assert_int_equal(metric_value(body, "sidecast_cluster_features"), 0);
    free(redis_cli(r, "DEL sidecast:alive:0ld0ld0ld0ld0ld0")); /* it died */
    assert_true(WAIT_FOR(stat_of(a, "cluster_features") == FULL_FEATURES &&
                             stat_of(b, "cluster_nodes_reduced") == 0,
                         3000, a, b));
    assert_true(wait_log(na, "no reduced mode", 1000));
    /* and b leaves the room to the directory again, after room_linger_ms */
    assert_true(WAIT_FOR(stat_of(b, "private_rooms_ready") == 1, 10000, a, b));
    assert_true(WAIT_FOR(private_room_subscribers(r) == 0, 10000, a, b));
    assert_true(wait_log(nb, "leaving this node's 1 such rooms unsubscribed", 1000));
    sc_client_close(a);
    sc_client_close(b);
    daemon_free(na);
    daemon_free(nb);
    redis_free(r);
}

/* ---- membership announcements -------------------------------------------------- */

static void count_sockets(void *ud, const sc_socket_view *s)
{
    (*(int *)ud)++;
}

/* With heartbeats 10 s apart, a node's arrival and clean departure still
 * reach the other node at once: they are announced. */
static void test_membership_announced(void **state)
{
    redis_srv *r = redis_start();
    daemon_t *na = node_start(r, "node-a", "--heartbeat-ms", "10000", "--node-ttl-ms", "30000",
                              NULL);
    sc_client *a = app_open(na, "app-a", NULL);
    assert_int_equal(wait_nodes(a, 1, 3000), 1);
    daemon_t *nb = node_start(r, "node-b", "--heartbeat-ms", "10000", "--node-ttl-ms", "30000",
                              NULL);
    sc_client *b = app_open(nb, "app-b", NULL);
    assert_int_equal(sc_client_socket_up(b, "b1", "sb1", "", NULL, 0, feed, 1), 0);
    assert_int_equal(sc_client_sync(b, 0), 0);
    assert_int_equal(wait_nodes(b, 2, 3000), 2); /* b's first heartbeat lists a */
    uint64_t t0 = now_ms_h();
    assert_int_equal(wait_nodes(a, 2, 2000), 2); /* a's next heartbeat is 10 s away */
    assert_true(now_ms_h() - t0 < 2000);
    assert_true(stat_of(a, "announcements_received") >= 1);
    sc_target all = {.all = true};
    int n = 0;
    assert_int_equal(sc_client_fetch_sockets(a, &all, false, false, count_sockets, &n, 5000), 0);
    assert_int_equal(n, 1); /* b1, from node b */
    sc_client_close(b);
    assert_int_equal(daemon_stop(nb), 0);
    t0 = now_ms_h();
    assert_int_equal(wait_nodes(a, 1, 2000), 1);
    assert_true(now_ms_h() - t0 < 2000);
    n = 0;
    uint64_t tmo = stat_of(a, "requests_timeout");
    assert_int_equal(sc_client_fetch_sockets(a, &all, false, false, count_sockets, &n, 5000), 0);
    assert_int_equal(n, 0);
    assert_int_equal(stat_of(a, "requests_timeout"), tmo);
    sc_client_close(a);
    daemon_free(na);
    daemon_free(nb);
    redis_free(r);
}

/* Waits for the request on the all channel (rc is subscribed), then
 * publishes the fake node's departure. */
typedef struct departer {
    redisContext *rc;
    redis_srv *r;
} departer;

static void *depart_main(void *arg)
{
    departer *d = arg;
    redisReply *rep = NULL;
    bool seen = false;
    for (int i = 0; i < 50 && !seen && redisGetReply(d->rc, (void **)&rep) == REDIS_OK; i++) {
        Sidecast__Cluster__V1__Envelope *e =
            rep->elements == 3 ? sidecast__cluster__v1__envelope__unpack(
                                     NULL, rep->element[2]->len, (const uint8_t *)rep->element[2]->str)
                               : NULL;
        seen = e && e->body_case == SIDECAST__CLUSTER__V1__ENVELOPE__BODY_REQUEST;
        if (e)
            sidecast__cluster__v1__envelope__free_unpacked(e, NULL);
        freeReplyObject(rep);
    }
    Sidecast__Cluster__V1__Announce an = SIDECAST__CLUSTER__V1__ANNOUNCE__INIT;
    an.joined = false;
    Sidecast__Cluster__V1__Envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    env.origin = (char *)"fake-node-0001";
    env.seq = 1;
    env.version = 1;
    env.body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_ANNOUNCE;
    env.announce = &an;
    uint8_t buf[128];
    size_t len = sidecast__cluster__v1__envelope__pack(&env, buf);
    redis_publish_raw(d->r, "sidecast:all", buf, len);
    return NULL;
}

/* A request waiting for a node stops waiting when that node announces its
 * departure: the fake node here never answers, and the fetch still
 * completes long before request_timeout_ms. */
static void test_departure_releases_requests(void **state)
{
    redis_srv *r = redis_start();
    daemon_t *na = node_start(r, "node-a", "--request-timeout-ms", "10000", NULL);
    sc_client *a = app_open(na, "app-a", NULL);
    /* a live node that never answers anything */
    fake_node(r, "fake-node-0001", "fake-node", "1:3");
    assert_int_equal(wait_nodes(a, 2, 3000), 2);
    departer d = {subscriber(r, "sidecast:all"), r};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, depart_main, &d), 0);
    sc_target all = {.all = true};
    int n = 0;
    uint64_t t0 = now_ms_h();
    assert_int_equal(sc_client_fetch_sockets(a, &all, false, false, count_sockets, &n, 15000), 0);
    assert_true(now_ms_h() - t0 < 5000); /* not request_timeout_ms (10 s) */
    pthread_join(th, NULL);
    assert_int_equal(stat_of(a, "requests_timeout"), 0);
    /* released by the departure (its keys are left, so the heartbeats list
     * it as live again: counting live nodes here would race the next one) */
    assert_int_equal(stat_of(a, "announcements_received"), 1);
    redisFree(d.rc);
    sc_client_close(a);
    daemon_free(na);
    redis_free(r);
}

/* A node that dies without a goodbye (killed, cut off) is not waited for
 * past the heartbeat that finds its liveness gone: a request started while
 * it was still listed ends then, naming the node as a timeout would, not
 * at request_timeout_ms. Made with a listed node that never answers and
 * whose liveness key expires. */
static void test_expired_node_releases_requests(void **state)
{
    redis_srv *r = redis_start();
    daemon_t *na = node_start(r, "node-a", "--request-timeout-ms", "10000", NULL);
    sc_client *a = app_open(na, "app-a", NULL);
    fake_node(r, "dying-node-0001", "dying-node", "1:3");
    assert_int_equal(wait_nodes(a, 2, 3000), 2);
    free(redis_cli(r, "PEXPIRE sidecast:alive:dying-node-0001 1000"));
    sc_target all = {.all = true};
    int n = 0;
    uint64_t t0 = now_ms_h();
    assert_true(sc_client_fetch_sockets(a, &all, false, false, count_sockets, &n, 15000) < 0);
    /* its liveness expires after 1 s, the next heartbeat (200 ms apart)
     * drops it: well before request_timeout_ms (10 s) */
    assert_true(now_ms_h() - t0 < 5000);
    const char *why = sc_client_last_error(a);
    assert_non_null(strstr(why, "left the cluster without a goodbye"));
    assert_non_null(strstr(why, "no answer from gone (dying-node-0001)"));
    assert_int_equal(stat_of(a, "requests_timeout"), 0);
    assert_int_equal(stat_of(a, "requests_node_lost"), 1);
    assert_int_equal(wait_nodes(a, 1, 1000), 1);
    sc_client_close(a);
    daemon_free(na);
    redis_free(r);
}

/* A request that times out names the node that did not answer. */
static void test_timeout_names_missing_node(void **state)
{
    redis_srv *r = redis_start();
    daemon_t *na = node_start(r, "node-a", "--request-timeout-ms", "500", NULL);
    sc_client *a = app_open(na, "app-a", NULL);
    fake_node(r, "silent-node-01", "silent-node", "1:3");
    assert_int_equal(wait_nodes(a, 2, 3000), 2);
    sc_target all = {.all = true};
    int n = 0;
    assert_true(sc_client_fetch_sockets(a, &all, false, false, count_sockets, &n, 5000) < 0);
    const char *why = sc_client_last_error(a);
    assert_non_null(strstr(why, "1 of 2 nodes answered"));
    assert_non_null(strstr(why, "no answer from silent-node (silent-node-01)"));
    assert_true(daemon_log_contains(na, "no answer from silent-node (silent-node-01)"));
    sc_client_close(a);
    daemon_free(na);
    redis_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redis_restart_midstream),
        cmocka_unit_test(test_redis_frozen),
        cmocka_unit_test(test_silent_subscription_canary),
        cmocka_unit_test(test_sigkill_node_reaped),
        cmocka_unit_test(test_clean_stop_leaves_at_once),
        cmocka_unit_test(test_shutdown_answers_pending_requests),
        cmocka_unit_test(test_answers_reach_a_long_origin),
        cmocka_unit_test(test_acl_credentials_and_prefix),
        cmocka_unit_test(test_stalled_node_rejoins_whole),
        cmocka_unit_test(test_flushall_rejoins_whole),
        cmocka_unit_test(test_script_flush_reloads),
        cmocka_unit_test(test_newer_version_dropped),
        cmocka_unit_test(test_unknown_request_kind_answered),
        cmocka_unit_test(test_features_follow_oldest_node),
        cmocka_unit_test(test_private_rooms_off_on_one_node),
        cmocka_unit_test(test_quiet_rooms_announced_again),
        cmocka_unit_test(test_quiet_mark_outlives_route),
        cmocka_unit_test(test_own_private_room_quiet),
        cmocka_unit_test(test_no_grace_rewrite_keeps_session_data),
        cmocka_unit_test(test_membership_announced),
        cmocka_unit_test(test_departure_releases_requests),
        cmocka_unit_test(test_expired_node_releases_requests),
        cmocka_unit_test(test_timeout_names_missing_node),
        cmocka_unit_test(test_listed_but_expired_rewrites_again),
    };
    if (getenv("SIDECAST_TEST_FILTER"))
        cmocka_set_test_filter(getenv("SIDECAST_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
