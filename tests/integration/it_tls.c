/* Integration: sidecastd and a redis-server speaking TLS (rediss://), with
 * certificates the test makes with the openssl CLI. The harness runs in its
 * TLS mode (IT_REDIS_TLS=1, set below): Redis listens on a TLS port that
 * requires a client certificate, and keeps a plain port for the test's own
 * redis-cli.
 *
 * What must hold: a cluster works over mutual TLS; each failure - a CA that
 * did not sign the server's certificate, a host name the certificate lacks,
 * an expired server certificate, no client certificate, a plain-text port
 * reached with rediss:// and a TLS port with redis:// - gives a clear error
 * in the log, keeps /readyz not ready, is counted, and is retried with
 * backoff; turning checks off is explicit and logged; certificates are read
 * again on SIGHUP and, when they changed on disk, before a reconnect; a file
 * that does not load is refused by the reload, and the daemon goes on.
 * Every wait is bounded and synchronised on the log, a counter or /readyz. */
#include "harness.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return system(cmd);
}

static int readyz(daemon_t *d, char *body, size_t len)
{
    return http_get(daemon_http_port(d), "/readyz", body, len);
}

/* The node connects, then is never ready, retries (the counter grows past
 * one attempt), and its log says `why`. */
static void assert_refused(daemon_t *d, const char *why)
{
    assert_true(wait_log(d, why, 10000));
    recorder rec;
    sc_client *c = app_open(d, "app", &rec);
    uint64_t end = now_ms_h() + 10000;
    while (now_ms_h() < end && stat_of(c, "redis_tls_failures") < 2 &&
           !daemon_log_contains(d, "retrying"))
        usleep(20000);
    assert_true(daemon_log_contains(d, "retrying"));
    char body[1024] = "";
    assert_int_equal(readyz(d, body, sizeof(body)), 503);
    assert_non_null(strstr(body, "redis"));
    sc_client_close(c);
}

static void test_cluster_over_mutual_tls(void **state)
{
    redis_srv *r = redis_start();
    daemon_t *a = node_start(r, "node-a", NULL), *b = node_start(r, "node-b", NULL);
    recorder ra, rb;
    sc_client *ca = app_open(a, "app-a", &ra), *cb = app_open(b, "app-b", &rb);
    assert_int_equal(wait_nodes(ca, 2, 10000), 2);
    assert_int_equal(wait_nodes(cb, 2, 10000), 2);
    assert_true(daemon_log_contains(a, "established over TLSv1."));
    const char *lobby[] = {"lobby"};
    assert_int_equal(sc_client_socket_up(cb, "s1", "sess1", NULL, NULL, 0, lobby, 1), 0);
    assert_int_equal(sc_client_flush(cb), 0);
    /* the room subscription is in place once node-b confirms it to Redis */
    for (uint64_t end = now_ms_h() + 5000; now_ms_h() < end; usleep(10000)) {
        char *o = redis_cli(r, "PUBSUB NUMSUB sidecast:room:lobby");
        bool on = strstr(o, "\n1\n") != NULL;
        free(o);
        if (on)
            break;
    }
    emit_to_room(ca, "lobby", 10, 100, false);
    rec_wait_frames(cb, &rb, 10, 5000);
    assert_int_equal(rec_count(&rb, "s1"), 10);
    char body[256];
    assert_int_equal(readyz(a, body, sizeof(body)), 200);
    sc_client_close(ca);
    sc_client_close(cb);
    daemon_free(a);
    daemon_free(b);
    redis_free(r);
}

static void test_wrong_ca_is_refused(void **state)
{
    redis_srv *r = redis_start();
    tls_make_ca(r->dir, "rogue");
    char ca[320];
    snprintf(ca, sizeof(ca), "%s/rogue.pem", r->dir);
    daemon_t *d = node_start(r, "node-a", "--redis-tls-ca-file", ca, NULL);
    assert_refused(d, "the server's certificate was refused");
    daemon_free(d);
    redis_free(r);
}

static void test_host_name_checked_unless_told(void **state)
{
    redis_srv *r = redis_start();
    daemon_t *d = node_start(r, "node-a", "--redis-tls-server-name", "redis.example.org", NULL);
    assert_refused(d, "the server's certificate was refused");
    /* verify = ca: the chain is still checked, the name is not; said aloud */
    daemon_t *e = node_start(r, "node-b", "--redis-tls-server-name", "redis.example.org",
                             "--redis-tls-verify", "ca", NULL);
    assert_true(wait_log(e, "established over TLS", 10000));
    assert_true(daemon_log_contains(e, "host name is not checked"));
    /* verify = none: even a CA that signed nothing here; said aloud */
    tls_make_ca(r->dir, "rogue");
    char ca[320];
    snprintf(ca, sizeof(ca), "%s/rogue.pem", r->dir);
    daemon_t *f = node_start(r, "node-c", "--redis-tls-ca-file", ca, "--redis-tls-verify", "none",
                             NULL);
    assert_true(wait_log(f, "established over TLS", 10000));
    assert_true(daemon_log_contains(f, "certificate is not checked"));
    daemon_free(d);
    daemon_free(e);
    daemon_free(f);
    redis_free(r);
}

/* openssl ca lets a test choose the validity dates (x509 -days cannot go
 * back in time): a server certificate that expired in 2021. */
static void make_expired_server_cert(const char *dir)
{
    assert_int_equal(
        sh("cd %s && printf '[ca]\\ndefault_ca=d\\n[d]\\ndir=.\\ndatabase=index.txt\\n"
           "new_certs_dir=.\\nserial=serial.txt\\ndefault_md=sha256\\npolicy=p\\n"
           "copy_extensions=copy\\nunique_subject=no\\n[p]\\ncommonName=supplied\\n' > ca.cnf && "
           ": > index.txt && echo 1000 > serial.txt && "
           "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "
           "expired.key -out expired.csr -subj /CN=localhost "
           "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1 && "
           "openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr "
           "-out expired.pem -notext -startdate 20200101000000Z -enddate 20210101000000Z "
           ">/dev/null 2>&1 && cp expired.pem server.pem && cp expired.key server.key && "
           "chmod 644 server.key",
           dir),
        0);
}

static void test_expired_server_certificate(void **state)
{
    redis_srv *r = redis_start();
    redis_kill(r);
    make_expired_server_cert(r->dir);
    redis_restart(r);
    daemon_t *d = node_start(r, "node-a", NULL);
    assert_refused(d, "certificate has expired");
    daemon_free(d);
    redis_free(r);
}

static void test_client_certificate_required(void **state)
{
    redis_srv *r = redis_start();
    daemon_t *d =
        node_start(r, "node-a", "--redis-tls-cert-file", "", "--redis-tls-key-file", "", NULL);
    /* TLS 1.3 sends the server's refusal after the handshake: the first
     * read fails with the alert's name */
    assert_true(wait_log(d, "certificate required", 10000));
    char body[1024] = "";
    assert_int_equal(readyz(d, body, sizeof(body)), 503);
    daemon_free(d);
    redis_free(r);
}

static void test_wrong_port_kinds(void **state)
{
    redis_srv *r = redis_start();
    char url[128];
    snprintf(url, sizeof(url), "rediss://127.0.0.1:%d", r->port);
    daemon_t *d = node_start(r, "node-a", "--redis-url", url, NULL);
    assert_refused(d, "is this a plain-text port?");
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", r->tls_port);
    daemon_t *e = node_start(r, "node-b", "--redis-url", url, NULL);
    assert_true(wait_log(e, "a TLS port reached with redis://?", 10000));
    assert_true(wait_log(e, "retrying", 10000));
    daemon_free(d);
    daemon_free(e);
    redis_free(r);
}

/* Both connections of every client of Redis dropped (the test's own
 * redis-cli is skipped): sidecastd reconnects with what it reads now. */
static void kill_clients(redis_srv *r)
{
    free(redis_cli(r, "CLIENT KILL TYPE normal"));
    free(redis_cli(r, "CLIENT KILL TYPE pubsub"));
}

static void test_certificates_read_again(void **state)
{
    redis_srv *r = redis_start();
    tls_make_ca(r->dir, "rogue");
    tls_make_cert(r->dir, "rogue", "stranger", "stranger", "extendedKeyUsage=clientAuth");
    char cert[320], key[320];
    snprintf(cert, sizeof(cert), "%s/live.pem", r->dir);
    snprintf(key, sizeof(key), "%s/live.key", r->dir);
    assert_int_equal(sh("cp %s/client.pem %s && cp %s/client.key %s", r->dir, cert, r->dir, key), 0);
    daemon_t *d = node_start(r, "node-a", "--redis-tls-cert-file", cert, "--redis-tls-key-file",
                             key, NULL);
    recorder rec;
    sc_client *c = app_open(d, "app", &rec);
    assert_int_equal(wait_nodes(c, 1, 10000), 1);

    /* a certificate Redis does not trust, put in place without a SIGHUP:
     * read before the reconnect, which Redis then refuses */
    assert_int_equal(sh("cp %s/stranger.pem %s && cp %s/stranger.key %s", r->dir, cert, r->dir,
                        key), 0);
    kill_clients(r);
    assert_true(wait_log(d, "TLS files changed on disk, read them again", 10000));
    char body[1024] = "";
    uint64_t end = now_ms_h() + 10000;
    while (now_ms_h() < end && readyz(d, body, sizeof(body)) == 200)
        usleep(20000);
    assert_int_equal(readyz(d, body, sizeof(body)), 503);

    /* a file that does not load: the reload is refused, nothing changes */
    write_file(cert, "not a certificate\n");
    kill(d->pid, SIGHUP);
    assert_true(wait_log(d, "configuration rejected", 10000));

    /* the trusted certificate back, and a SIGHUP: read again, and the next
     * reconnect gets in */
    assert_int_equal(sh("cp %s/client.pem %s && cp %s/client.key %s", r->dir, cert, r->dir, key), 0);
    kill(d->pid, SIGHUP);
    assert_true(wait_log(d, "certificates and keys read again", 10000));
    end = now_ms_h() + 10000;
    while (now_ms_h() < end && readyz(d, body, sizeof(body)) != 200)
        usleep(20000);
    assert_int_equal(readyz(d, body, sizeof(body)), 200);
    sc_client_close(c);
    daemon_free(d);
    redis_free(r);
}

static void test_check_config_loads_the_files(void **state)
{
    daemon_t *d = daemon_prepare();
    char conf[400], out[400];
    snprintf(conf, sizeof(conf), "%s/sidecast.conf", d->dir);
    snprintf(out, sizeof(out), "%s/check.out", d->dir);
    write_file(conf, "[redis]\nurl = rediss://127.0.0.1:6380\ntls_ca_file = /nonexistent/ca.pem\n");
    int rc = sh("%s --check-config --config %s > %s 2>&1", SC_SIDECASTD_PATH, conf, out);
    assert_int_not_equal(rc, 0);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "grep -q 'sidecast.conf:3.*redis_tls_ca_file' %s", out);
    assert_int_equal(system(cmd), 0);
    write_file(conf, "[redis]\nurl = rediss://127.0.0.1:6380\ntls_verify = maybe\n");
    rc = sh("%s --check-config --config %s > %s 2>&1", SC_SIDECASTD_PATH, conf, out);
    assert_int_not_equal(rc, 0);
    snprintf(cmd, sizeof(cmd), "grep -q 'redis_tls_verify must be full, ca or none' %s", out);
    assert_int_equal(system(cmd), 0);
    daemon_free(d);
}

int main(void)
{
    setenv("IT_REDIS_TLS", "1", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cluster_over_mutual_tls),
        cmocka_unit_test(test_wrong_ca_is_refused),
        cmocka_unit_test(test_host_name_checked_unless_told),
        cmocka_unit_test(test_expired_server_certificate),
        cmocka_unit_test(test_client_certificate_required),
        cmocka_unit_test(test_wrong_port_kinds),
        cmocka_unit_test(test_certificates_read_again),
        cmocka_unit_test(test_check_config_loads_the_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
