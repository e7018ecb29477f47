/* Integration: sidecastd behind Redis Sentinel (redis+sentinel://): one
 * primary, one replica and three redis-sentinels, all started by the
 * harness on loopback and stopped by pid.
 *
 * What must hold: the nodes find the primary through a sentinel; after a
 * SENTINEL FAILOVER and after the primary is SIGKILLed they follow the new
 * primary (told by +switch-master), their apps get a Gap for the switch
 * window, and lookups, targeted emits and room emits work again with exact
 * counts; /metrics counts the switch; a sentinel that is down is skipped for
 * the next; a "primary" that answers ROLE as a replica is refused, with a
 * reason on /readyz; the sentinels' password is separate from Redis's.
 * (The message ledger through both failovers is in it_ledger.)
 * Every wait is bounded and synchronised on logs, counters or replies. */
#include "harness.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/wait.h>
#include <unistd.h>

static int readyz(daemon_t *d, char *body, size_t len)
{
    return http_get(daemon_http_port(d), "/readyz", body, len);
}

static void wait_ready(daemon_t *d, int ms)
{
    char body[1024] = "";
    uint64_t end = now_ms_h() + (uint64_t)ms;
    while (now_ms_h() < end && readyz(d, body, sizeof(body)) != 200)
        usleep(20000);
    if (readyz(d, body, sizeof(body)) != 200)
        fail_msg("not ready after %d ms: %s", ms, body);
}

static double metric(daemon_t *d, const char *series)
{
    static char body[262144];
    if (http_get(daemon_http_port(d), "/metrics", body, sizeof(body)) != 200)
        return -1;
    return metric_value(body, series);
}

typedef struct pair {
    sentinel_set *s;
    daemon_t *na, *nb;
    recorder ra, rb;
    sc_client *a, *b;
} pair;

static void pair_start(pair *p)
{
    memset(p, 0, sizeof(*p));
    p->s = sentinel_start();
    p->na = node_start(p->s->primary, "node-a", "--redis-url", p->s->url, NULL);
    p->nb = node_start(p->s->primary, "node-b", "--redis-url", p->s->url, NULL);
    p->a = app_open(p->na, "app-a", &p->ra);
    p->b = app_open(p->nb, "app-b", &p->rb);
    assert_int_equal(wait_nodes(p->a, 2, 15000), 2);
    assert_int_equal(wait_nodes(p->b, 2, 15000), 2);
    const char *lobby[] = {"lobby"};
    assert_int_equal(sc_client_socket_up(p->b, "b-room", "sess-b1", NULL, NULL, 0, lobby, 1), 0);
    assert_int_equal(sc_client_socket_up(p->b, "b-tgt", "sess-b2", NULL, NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_sync(p->b, 5000), 0);
}

static void pair_free(pair *p)
{
    sc_client_close(p->a);
    sc_client_close(p->b);
    daemon_free(p->na);
    daemon_free(p->nb);
    sentinel_free(p->s);
}

static void on_found(void *ud, const sc_location *l)
{
    (void)ud;
    (void)l;
}

/* node-a finds b-tgt, reaches it by a targeted emit, and the room: each
 * exactly once. Retried only until the node routes again (the lookup
 * answers), then counted once. */
static void everything_works(pair *p)
{
    wait_ready(p->na, 20000);
    wait_ready(p->nb, 20000);
    int found = 0;
    for (uint64_t end = now_ms_h() + 10000; found != 1 && now_ms_h() < end; usleep(50000))
        found = sc_client_lookup(p->a, SC_BY_SOCKET, "b-tgt", false, on_found, NULL, 2000);
    assert_int_equal(found, 1);
    rec_reset(&p->rb);
    sc_target t = {0};
    const char *ids[] = {"b-tgt"};
    t.socket_ids = ids;
    t.n_socket_ids = 1;
    assert_int_equal(sc_client_emit(p->a, &t, NULL, (const uint8_t *)"t", 1), 0);
    assert_int_equal(sc_client_sync(p->a, 5000), 0);
    emit_to_room(p->a, "lobby", 5, 10, false);
    rec_wait_frames(p->b, &p->rb, 6, 10000);
    app_drain(p->b, 100);
    assert_int_equal(rec_count(&p->rb, "b-tgt"), 1);
    assert_int_equal(rec_count(&p->rb, "b-room"), 5);
}

/* The sentinels name another server, and both nodes learnt it: by
 * +switch-master, or by asking again when their connection dropped. */
static void wait_switch(pair *p, redis_srv *before)
{
    redis_srv *now = NULL;
    for (uint64_t end = now_ms_h() + 30000; now_ms_h() < end; usleep(50000))
        if ((now = sentinel_primary_now(p->s)) && now != before)
            break;
    assert_true(now && now != before);
    char needle[96];
    snprintf(needle, sizeof(needle), "primary 'mymaster' is at 127.0.0.1:%d",
             sentinel_redis_port(now));
    assert_true(wait_log(p->na, needle, 30000));
    assert_true(wait_log(p->nb, needle, 30000));
}

static void test_failover_followed(void **state)
{
    pair p;
    pair_start(&p);
    everything_works(&p);
    redis_srv *before = sentinel_primary_now(p.s);
    free(sentinel_cli(p.s, 0, "SENTINEL FAILOVER mymaster"));
    wait_switch(&p, before);
    everything_works(&p);
    /* the switch window was told, not hidden */
    app_drain(p.b, 50);
    assert_true(p.rb.gaps >= 1);
    assert_true(metric(p.na, "sidecast_redis_sentinel_switches_total") >= 1);
    assert_true(metric(p.na, "sidecast_redis_sentinel_up") == 1);
    pair_free(&p);
}

static void test_primary_killed(void **state)
{
    pair p;
    pair_start(&p);
    redis_srv *before = sentinel_primary_now(p.s);
    assert_non_null(before);
    redis_kill(before);
    char body[1024] = "";
    /* until the sentinels agree, the nodes say where they try to go */
    for (uint64_t end = now_ms_h() + 10000; now_ms_h() < end; usleep(20000))
        if (readyz(p.na, body, sizeof(body)) == 503)
            break;
    assert_non_null(strstr(body, "the primary the sentinels name"));
    wait_switch(&p, before);
    everything_works(&p);
    app_drain(p.b, 50);
    assert_true(p.rb.gaps >= 1);
    pair_free(&p);
}

static void test_next_sentinel_when_one_is_down(void **state)
{
    sentinel_set *s = sentinel_start();
    sentinel_kill(s, 0);
    daemon_t *d = node_start(s->primary, "node-a", "--redis-url", s->url, NULL);
    assert_true(wait_log(d, "trying the next sentinel", 10000));
    wait_ready(d, 15000);
    /* a name that does not resolve fails at once, before any connect: the
     * next sentinel is tried all the same */
    /* (in TLS mode: the sentinels' TLS ports, and TLS to them and Redis) */
    const char *scheme = tls_mode() ? "rediss+sentinel" : "redis+sentinel";
    int port1 = s->tls_port[1] ? s->tls_port[1] : s->port[1];
    char url[300];
    snprintf(url, sizeof(url), "%s://nonexistent.invalid:26379,127.0.0.1:%d/mymaster", scheme,
             port1);
    daemon_t *e = node_start(s->primary, "node-b", "--redis-url", url, NULL);
    assert_true(wait_log(e, "cannot resolve nonexistent.invalid", 10000));
    wait_ready(e, 15000);
    /* a name no sentinel knows: said, not ready, retried with a backoff */
    snprintf(url, sizeof(url), "%s://127.0.0.1:%d/nosuch", scheme, port1);
    daemon_t *f = node_start(s->primary, "node-c", "--redis-url", url, NULL);
    assert_true(wait_log(f, "knows no primary named 'nosuch'", 10000));
    char body[1024] = "";
    assert_int_equal(readyz(f, body, sizeof(body)), 503);
    recorder rf;
    sc_client *cf = app_open(f, "app-c", &rf);
    assert_true(stat_of(cf, "redis_sentinel_refusals") >= 1);
    sc_client_close(cf);
    daemon_free(d);
    daemon_free(e);
    daemon_free(f);
    sentinel_free(s);
}

/* A sentinel of its own that calls the replica "mymaster": the node must
 * not take a replica for the primary. */
static void test_replica_named_primary_is_refused(void **state)
{
    sentinel_set *s = sentinel_start();
    char conf[400], log[400], url[200];
    int port = harness_free_port();
    snprintf(conf, sizeof(conf), "%s/liar.conf", s->dir);
    snprintf(log, sizeof(log), "%s/liar.log", s->dir);
    char text[1400];
    snprintf(text, sizeof(text),
             "port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n"
             "sentinel monitor mymaster 127.0.0.1 %d 1\n",
             port, s->dir, log, s->replica->port);
    write_file(conf, text);
    pid_t pid = fork();
    if (pid == 0) {
        execlp("redis-sentinel", "redis-sentinel", conf, (char *)NULL);
        _exit(127);
    }
    snprintf(url, sizeof(url), "redis+sentinel://127.0.0.1:%d/mymaster", port);
    daemon_t *d = node_start(s->primary, "node-a", "--redis-url", url, NULL);
    assert_true(wait_log(d, "is not a primary (ROLE: slave)", 15000));
    char body[1024] = "";
    assert_int_equal(readyz(d, body, sizeof(body)), 503);
    daemon_free(d);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    sentinel_free(s);
}

/* A Sentinel set with passwords ("redis-pw" for Redis, "sentinel-pw" for
 * the sentinels): the URL with Redis's (url), and a file holding the
 * sentinels' (pwfile, in the set's directory). */
static sentinel_set *sentinel_with_passwords(char *url, size_t ulen, char *pwfile, size_t plen)
{
    sentinel_set *s = sentinel_start_auth("redis-pw", "sentinel-pw");
    const char *rest = strstr(s->url, "://") + 3;
    snprintf(url, ulen, "%.*s:redis-pw@%s", (int)(rest - s->url), s->url, rest);
    snprintf(pwfile, plen, "%s/sentinel-pw", s->dir);
    write_file(pwfile, "sentinel-pw\n");
    return s;
}

static void test_sentinel_password_separate(void **state)
{
    char url[300], pwfile[300];
    /* the URL's password is Redis's; the sentinels' comes from its file */
    sentinel_set *s = sentinel_with_passwords(url, sizeof(url), pwfile, sizeof(pwfile));
    daemon_t *ok = node_start(s->primary, "node-ok", "--redis-url", url,
                              "--redis-sentinel-password-file", pwfile, NULL);
    wait_ready(ok, 15000);
    daemon_t *no = node_start(s->primary, "node-no", "--redis-url", url, NULL);
    assert_true(wait_log(no, "redis sentinel to ", 10000));
    assert_true(wait_log(no, "refused: NOAUTH", 10000));
    char body[1024] = "";
    assert_int_equal(readyz(no, body, sizeof(body)), 503);
    assert_non_null(strstr(body, "sentinel"));
    daemon_free(ok);
    daemon_free(no);
    sentinel_free(s);
}

/* The sentinels' password rotated: their file is read again before each
 * login to a sentinel, so the reconnect after the rotation logs in with
 * the new one, without a restart (as Redis's own password file). */
static void test_sentinel_password_rotated(void **state)
{
    char url[300], pwfile[300];
    sentinel_set *s = sentinel_with_passwords(url, sizeof(url), pwfile, sizeof(pwfile));
    daemon_t *d = node_start(s->primary, "node-rot", "--redis-url", url,
                             "--redis-sentinel-password-file", pwfile, NULL);
    wait_ready(d, 15000);
    assert_true(metric(d, "sidecast_redis_sentinel_up") == 1);
    /* the new password on every sentinel and in the file, then every
     * client connection of the sentinels cut: the node must log in again */
    for (int i = 0; i < 3; i++)
        free(sentinel_cli(s, i, "ACL SETUSER default resetpass '>sentinel-pw2'"));
    snprintf(s->password, sizeof(s->password), "%s", "sentinel-pw2");
    write_file(pwfile, "sentinel-pw2\n");
    for (int i = 0; i < 3; i++) {
        free(sentinel_cli(s, i, "CLIENT KILL TYPE normal"));
        free(sentinel_cli(s, i, "CLIENT KILL TYPE pubsub"));
    }
    assert_true(wait_log(d, "sentinel connection to", 10000));
    assert_true(wait_log(d, "lost", 10000)); /* cut: it logs in again now */
    uint64_t end = now_ms_h() + 15000;
    while (metric(d, "sidecast_redis_sentinel_up") != 1 && now_ms_h() < end)
        usleep(50000);
    assert_true(metric(d, "sidecast_redis_sentinel_up") == 1);
    assert_false(daemon_log_contains(d, "WRONGPASS"));
    char body[1024] = "";
    assert_int_equal(readyz(d, body, sizeof(body)), 200);
    daemon_free(d);
    sentinel_free(s);
}

/* Without Sentinel: a primary demoted under open connections (a
 * provider's failover behind one endpoint) answers writes with READONLY;
 * the node leaves it, is not ready while it only finds a replica there, and
 * is back once the name leads to a primary again. */
static void test_readonly_recycled(void **state)
{
    redis_srv *a = redis_start(), *b = redis_start();
    daemon_t *d = node_start(a, "node-a", NULL);
    wait_ready(d, 10000);
    char args[64];
    snprintf(args, sizeof(args), "REPLICAOF 127.0.0.1 %d", b->port);
    free(redis_cli(a, args));
    assert_true(wait_log(d, "READONLY", 10000));
    char body[1024] = "";
    uint64_t end = now_ms_h() + 10000;
    while (now_ms_h() < end && readyz(d, body, sizeof(body)) == 200)
        usleep(20000);
    assert_int_equal(readyz(d, body, sizeof(body)), 503);
    free(redis_cli(a, "REPLICAOF NO ONE"));
    wait_ready(d, 15000);
    daemon_free(d);
    redis_free(a);
    redis_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failover_followed),
        cmocka_unit_test(test_primary_killed),
        cmocka_unit_test(test_next_sentinel_when_one_is_down),
        cmocka_unit_test(test_replica_named_primary_is_refused),
        cmocka_unit_test(test_sentinel_password_separate),
        cmocka_unit_test(test_sentinel_password_rotated),
        cmocka_unit_test(test_readonly_recycled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
