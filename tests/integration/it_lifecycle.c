/* Integration: app disconnect cleanup, graceful shutdown with flush, stale
 * socket files, a second daemon on the same path, app re-registration after
 * a sidecar restart, configuration errors (a directory for a file, a key
 * given twice, at start and on SIGHUP), and a Redis URL naming a user. */
#include "harness.h"

#include <grp.h>
#include "wire.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *lobby[] = {"lobby"};

static void test_app_disconnect_cleanup(void **state)
{
    daemon_t *d = daemon_start(NULL);
    sc_client *a = app_open(d, "a", NULL);
    sc_client *b = app_open(d, "b", NULL);
    char id[32];
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof(id), "s%d", i);
        const char *rooms[] = {"lobby", i % 2 ? "odd" : "even"};
        assert_int_equal(sc_client_socket_up(a, id, id, "", NULL, 0, rooms, 2), 0);
    }
    assert_int_equal(sc_client_socket_up(b, "keep", "k", "", NULL, 0, lobby, 1), 0);
    assert_int_equal(sc_client_sync(a, 0), 0);
    assert_int_equal(sc_client_sync(b, 0), 0);
    assert_int_equal(stat_of(b, "sockets"), 101);
    assert_int_equal(stat_of(b, "room_memberships"), 201);
    sc_client_close(a);
    for (int i = 0; i < 200 && stat_of(b, "sockets") != 1; i++)
        usleep(10000);
    assert_int_equal(stat_of(b, "sockets"), 1);
    assert_int_equal(stat_of(b, "rooms"), 1); /* odd and even vanished */
    assert_int_equal(stat_of(b, "room_memberships"), 1);
    assert_int_equal(stat_of(b, "sockets_unregistered"), 100);
    sc_client_close(b);
    daemon_free(d);
}

static void test_graceful_shutdown_flushes(void **state)
{
    daemon_t *d = daemon_start(NULL);
    recorder rr;
    sc_client *r = app_open(d, "reader", &rr);
    sc_client *e = app_open(d, "emitter", NULL);
    assert_int_equal(sc_client_socket_up(r, "r1", "s", "", NULL, 0, lobby, 1), 0);
    assert_int_equal(sc_client_sync(r, 0), 0);
    static uint8_t payload[2048];
    memset(payload, 'p', sizeof(payload));
    sc_target t = {.rooms = lobby, .n_rooms = 1};
    const int n = 500; /* ~1 MiB: more than the kernel buffers, so some waits in sidecastd */
    for (int i = 0; i < n; i++)
        assert_int_equal(sc_client_emit(e, &t, NULL, payload, sizeof(payload)), 0);
    assert_int_equal(sc_client_sync(e, 0), 0);
    kill(d->pid, SIGTERM);
    /* the socket file goes at once: no new connections */
    for (int i = 0; i < 200 && access(d->sock, F_OK) == 0; i++)
        usleep(5000);
    assert_int_not_equal(access(d->sock, F_OK), 0);
    rec_wait_frames(r, &rr, n, 10000);
    assert_int_equal(rr.frames, n);
    assert_int_equal(sc_client_poll(r, 2000), -EPIPE); /* then it closes */
    assert_int_equal(daemon_stop(d), 0);
    assert_true(daemon_log_contains(d, "received SIGTERM"));
    assert_true(daemon_log_contains(d, "sidecastd stopped"));
    sc_client_close(r);
    sc_client_close(e);
    daemon_free(d);
}

static void test_stale_socket_file(void **state)
{
    daemon_t *d = daemon_start(NULL);
    assert_int_equal(daemon_stop(d), 0);
    /* leave a socket file behind the way a crash does: bound, nobody listening */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    assert_true(strlen(d->sock) < sizeof(a.sun_path));
    memcpy(a.sun_path, d->sock, strlen(d->sock) + 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    close(fd);
    assert_int_equal(access(d->sock, F_OK), 0);
    daemon_restart(d);
    assert_true(daemon_log_contains(d, "removed stale socket file"));
    sc_client *c = app_open(d, "after-stale", NULL);
    assert_int_equal(sc_client_ping(c, 0, NULL), 0);
    sc_client_close(c);
    daemon_free(d);
}

static int run_sidecastd(const char *const *args, char *out, size_t outlen)
{
    char cmd[2048] = SC_SIDECASTD_PATH;
    for (const char *const *a = args; *a; a++) {
        strcat(cmd, " '");
        strcat(cmd, *a);
        strcat(cmd, "'");
    }
    strcat(cmd, " 2>&1");
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_second_daemon_refused(void **state)
{
    daemon_t *d = daemon_start(NULL);
    char out[4096];
    const char *args[] = {"--socket", d->sock, NULL};
    assert_int_equal(run_sidecastd(args, out, sizeof(out)), 2);
    assert_non_null(strstr(out, "already listening"));
    /* the first one is untouched */
    sc_client *c = app_open(d, "still-here", NULL);
    assert_int_equal(sc_client_ping(c, 0, NULL), 0);
    sc_client_close(c);

    char path[400];
    snprintf(path, sizeof(path), "%s/regular-file", d->dir);
    FILE *f = fopen(path, "w");
    fclose(f);
    const char *args2[] = {"--socket", path, NULL};
    assert_int_equal(run_sidecastd(args2, out, sizeof(out)), 2);
    assert_non_null(strstr(out, "is not a socket"));
    daemon_free(d);
}

static void test_restart_reregisters(void **state)
{
    daemon_t *d = daemon_start(NULL);
    recorder ra;
    sc_client *a = app_open(d, "worker", &ra);
    const char *rooms[] = {"lobby", "vip"};
    assert_int_equal(sc_client_socket_up(a, "x1", "sx1", "u1", (const uint8_t *)"d1", 2, rooms, 2), 0);
    assert_int_equal(sc_client_socket_up(a, "x2", "sx2", "", NULL, 0, lobby, 1), 0);
    assert_int_equal(sc_client_leave(a, "x1", (const char *[]){"vip"}, 1), 0);
    assert_int_equal(sc_client_sync(a, 0), 0);

    assert_int_equal(daemon_stop(d), 0);
    assert_int_not_equal(sc_client_ping(a, 500, NULL), 0); /* sidecar gone */
    daemon_restart(d);
    assert_int_equal(sc_client_reconnect(a), 0);
    assert_int_equal(stat_of(a, "sockets"), 2);
    assert_int_equal(stat_of(a, "room_memberships"), 2); /* lobby x2, not vip */
    assert_int_equal(stat_of(a, "rooms"), 1);

    sc_client *e = app_open(d, "emitter", NULL);
    sc_target t = {.rooms = lobby, .n_rooms = 1};
    rec_reset(&ra);
    assert_int_equal(sc_client_emit(e, &t, NULL, (const uint8_t *)"again", 5), 0);
    assert_int_equal(sc_client_sync(e, 0), 0);
    rec_wait_frames(a, &ra, 1, 5000);
    assert_int_equal(rec_count(&ra, "x1"), 1);
    assert_int_equal(rec_count(&ra, "x2"), 1);
    sc_client_close(e);
    sc_client_close(a);
    daemon_free(d);
}

static void test_check_config(void **state)
{
    char dir[] = "/tmp/sidecast-cfg-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], out[4096];
    snprintf(path, sizeof(path), "%s/bad.conf", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "# comment\nsocket = /tmp/x.sock\nmax_frame_bytes = lots\n\nsocket_mode = 999\n");
    fclose(f);
    const char *args[] = {"--config", path, "--check-config", NULL};
    assert_int_equal(run_sidecastd(args, out, sizeof(out)), 1);
    char want[200];
    snprintf(want, sizeof(want), "%s:3: max_frame_bytes must be", path);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof(want), "%s:5: socket_mode must be an octal file mode", path);
    assert_non_null(strstr(out, want));

    f = fopen(path, "w");
    fprintf(f, "socket = /tmp/x.sock\n[output]\nbuffer_soft = 1m\n");
    fclose(f);
    assert_int_equal(run_sidecastd(args, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "configuration OK"));
    /* flags win over the file: soft above hard is caught */
    const char *args3[] = {"--config", path, "--output-buffer-hard", "512k", "--check-config", NULL};
    assert_int_equal(run_sidecastd(args3, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "must not exceed output_buffer_hard"));
    unlink(path);
    rmdir(dir);
}

/* A directory where the config file should be: refused by --check-config
 * and at start (it used to read as an empty file: every default); a key
 * given twice names both lines. */
static void test_config_directory_and_duplicates(void **state)
{
    char dir[] = "/tmp/sidecast-cfg-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char conf[128], out[4096], want[300];
    snprintf(conf, sizeof(conf), "%s/sidecast.conf", dir);
    assert_int_equal(mkdir(conf, 0755), 0);
    const char *check[] = {"--config", conf, "--check-config", NULL};
    assert_int_equal(run_sidecastd(check, out, sizeof(out)), 1);
    snprintf(want, sizeof(want), "%s: cannot read config file: is a directory", conf);
    assert_non_null(strstr(out, want));
    assert_null(strstr(out, "configuration OK"));
    char sock[160];
    snprintf(sock, sizeof(sock), "%s/s.sock", dir);
    const char *run[] = {"-c", conf, "--socket", sock, "--http-listen", "", NULL};
    assert_int_equal(run_sidecastd(run, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "is a directory"));
    assert_int_equal(rmdir(conf), 0);

    FILE *f = fopen(conf, "w");
    fprintf(f, "# line 1\nmax_connections = 8\nlog_level = info\n\n[max]\nconnections = 9\n");
    fclose(f);
    assert_int_equal(run_sidecastd(check, out, sizeof(out)), 1);
    snprintf(want, sizeof(want), "%s:6: key 'max_connections' already set on line 2", conf);
    if (!strstr(out, want))
        fail_msg("no '%s' in:\n%s", want, out);
    unlink(conf);
    rmdir(dir);
}

/* SIGHUP after the config file became a directory (or got a duplicate
 * key): the reload is refused and counted, and every setting keeps its
 * value, max_connections (reloadable, 2 here, 1024 by default) included. */
static void test_reload_refuses_directory(void **state)
{
    daemon_t *d = daemon_prepare();
    char conf[400], text[1024];
    snprintf(conf, sizeof(conf), "%s/sidecast.conf", d->dir);
    snprintf(text, sizeof(text),
             "socket = %s\nlog_level = info\nmax_connections = 2\nhttp_listen = 127.0.0.1:0\n",
             d->sock);
    FILE *f = fopen(conf, "w");
    fputs(text, f);
    fclose(f);
    daemon_launch(d, true, "--config", conf, NULL);
    sc_client *a = app_open(d, "a", NULL);
    sc_client *b = app_open(d, "b", NULL);
    assert_int_equal(sc_client_ping(b, 0, NULL), 0);

    assert_int_equal(unlink(conf), 0);
    assert_int_equal(mkdir(conf, 0755), 0);
    kill(d->pid, SIGHUP);
    char want[600];
    snprintf(want, sizeof(want), "reload: %s: cannot read config file: is a directory", conf);
    assert_true(wait_log(d, "configuration rejected; still running with the previous one", 10000));
    assert_true(daemon_log_contains(d, want));
    assert_false(daemon_log_contains(d, "changed from"));
    assert_int_equal(stat_of(a, "config_reload_errors"), 1);
    assert_int_equal(stat_of(a, "config_reloads"), 0);
    int fd = raw_connect(d->sock); /* a third: max_connections is still 2 */
    assert_true(raw_wait_eof(fd, 5000));
    close(fd);
    assert_int_equal(stat_of(a, "connections_refused_limit"), 1);

    /* a file again, with a key twice: refused as well */
    assert_int_equal(rmdir(conf), 0);
    f = fopen(conf, "w");
    fprintf(f, "%smax_connections = 3\n", text);
    fclose(f);
    kill(d->pid, SIGHUP);
    snprintf(want, sizeof(want), "reload: %s:5: key 'max_connections' already set on line 3", conf);
    assert_true(wait_log(d, want, 10000));
    for (int i = 0; i < 500 && stat_of(a, "config_reload_errors") != 2; i++)
        usleep(10000);
    assert_int_equal(stat_of(a, "config_reload_errors"), 2);
    fd = raw_connect(d->sock);
    assert_true(raw_wait_eof(fd, 5000));
    close(fd);
    assert_int_equal(stat_of(a, "connections_refused_limit"), 2);

    /* and a good file is applied: the daemon was not left half-reloaded */
    f = fopen(conf, "w");
    fprintf(f, "socket = %s\nlog_level = info\nmax_connections = 3\nhttp_listen = 127.0.0.1:0\n",
            d->sock);
    fclose(f);
    kill(d->pid, SIGHUP);
    assert_true(wait_log(d, "reload: max_connections changed from 2 to 3", 10000));
    sc_client *c = app_open(d, "c", NULL);
    assert_int_equal(sc_client_ping(c, 0, NULL), 0);
    assert_int_equal(stat_of(c, "config_reloads"), 1);
    sc_client_close(a);
    sc_client_close(b);
    sc_client_close(c);
    daemon_free(d);
}

/* redis://default@host names a user and no password: no "password on the
 * command line" warning, and no AUTH (a password "default" would be
 * refused by a Redis without one): the node joins. */
static void test_redis_url_user_only(void **state)
{
    redis_srv *r = redis_start();
    char url[128];
    snprintf(url, sizeof(url), "redis://default@127.0.0.1:%d/0", r->port);
    daemon_t *d = node_start(r, "user-only", "--redis-url", url, NULL);
    sc_client *c = app_open(d, "app", NULL);
    assert_int_equal(wait_nodes(c, 1, 5000), 1);
    /* ready: Redis answered what followed an AUTH, had there been one */
    char body[512];
    int port = daemon_http_port(d), status = 0;
    uint64_t end = now_ms_h() + 5000;
    while ((status = http_get(port, "/readyz", body, sizeof(body))) != 200 && now_ms_h() < end)
        usleep(20000);
    assert_int_equal(status, 200);
    assert_false(daemon_log_contains(d, "password was given in --redis-url"));
    assert_false(daemon_log_contains(d, "AUTH"));
    assert_false(daemon_log_contains(d, "names a user but gives no password"));
    sc_client_close(c);
    daemon_free(d);
    /* another user without a password: likely the old password form, said */
    snprintf(url, sizeof(url), "redis://s3cret@127.0.0.1:%d/0", r->port);
    d = node_start(r, "old-form", "--redis-url", url, NULL);
    assert_true(wait_log(d, "names a user but gives no password", 5000));
    assert_true(wait_log(d, "write redis://:PASSWORD@host", 1000));
    daemon_free(d);
    redis_free(r);
}

/* The shipped config file passes --check-config and documents every
 * setting sidecastd has (as `key`, or `key` under its `[section]`). */
static void test_shipped_config_complete(void **state)
{
    char path[512], out[16384];
    snprintf(path, sizeof(path), "%s/packaging/sidecast.conf", SC_SOURCE_DIR);
    const char *args[] = {"--config", path, "--check-config", NULL};
    assert_int_equal(run_sidecastd(args, out, sizeof(out)), 0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = 0;
    fclose(f);
    const char *pargs[] = {"--print-config", NULL};
    assert_int_equal(run_sidecastd(pargs, out, sizeof(out)), 0);
    int checked = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char name[64];
        if (sscanf(line, "#%63[a-z_] =", name) != 1)
            continue;
        const char *key = strncmp(name, "redis_", 6) == 0 ? name + 6 : name;
        char want[80];
        snprintf(want, sizeof(want), "%s =", key);
        if (!strstr(text, want))
            fail_msg("packaging/sidecast.conf does not document %s", name);
        checked++;
    }
    assert_true(checked >= 20);
}

static void test_sidecastctl(void **state)
{
    daemon_t *d = daemon_start(NULL);
    recorder ra;
    sc_client *a = app_open(d, "app", &ra);
    assert_int_equal(sc_client_socket_up(a, "s1", "sess", "", NULL, 0, lobby, 1), 0);
    assert_int_equal(sc_client_sync(a, 0), 0);
    char cmd[600], out[4096];
    snprintf(cmd, sizeof(cmd), "%s -s %s --json rooms", SC_SIDECASTCTL_PATH, d->sock);
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = 0;
    assert_int_equal(pclose(p), 0);
    assert_string_equal(out, "[{\"room\":\"lobby\",\"size\":1}]\n");
    snprintf(cmd, sizeof(cmd), "%s -s %s emit --room lobby hello-from-ctl", SC_SIDECASTCTL_PATH,
             d->sock);
    assert_int_equal(system(cmd), 0);
    rec_wait_frames(a, &ra, 1, 5000);
    assert_string_equal(ra.last_payload, "hello-from-ctl");
    snprintf(cmd, sizeof(cmd), "%s -s %s/nope ping 2>/dev/null", SC_SIDECASTCTL_PATH, d->dir);
    assert_int_not_equal(system(cmd), 0);
    sc_client_close(a);
    daemon_free(d);
}

/* The Welcome says what this sidecastd has; libsidecast keeps it. */
static void test_welcome_features(void **state)
{
    daemon_t *d = daemon_start(NULL);
    sc_client *a = app_open(d, "app", NULL);
    assert_int_equal(sc_client_server_features(a), SC_FEATURES);
    assert_int_equal(sc_client_server_protocol_version(a), SC_PROTOCOL_VERSION);
    assert_int_equal(sc_client_server_min_protocol_version(a), SC_PROTOCOL_MIN_VERSION);
    assert_true(sc_client_has_features(a, SC_FEATURE_NODE_VERSIONS));
    assert_int_equal(sc_client_reconnect(a), 0); /* kept across a reconnect */
    assert_int_equal(sc_client_server_features(a), SC_FEATURES);
    char cmd[600], out[2048];
    snprintf(cmd, sizeof(cmd), "%s -s %s nodes", SC_SIDECASTCTL_PATH, d->sock);
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = 0;
    assert_int_equal(pclose(p), 0);
    assert_non_null(strstr(out, "(this node)"));
    assert_null(strstr(out, "predates version reporting"));
    sc_client_close(a);
    daemon_free(d);
}

/* A sidecastd from before negotiation: answers Hello with a Welcome without
 * features, and NodesRequest with a NodeList. It puts nonsense in the
 * version fields to show that the library does not read them then. */
typedef struct old_sidecastd {
    int lfd;
    int conns; /* connections to serve, one after the other */
    uint64_t hello_features;
} old_sidecastd;

static void *old_sidecastd_main(void *arg)
{
    old_sidecastd *o = arg;
    for (int i = 0; i < o->conns; i++) {
        int fd = accept(o->lfd, NULL, NULL);
        if (fd < 0)
            break;
        sc_frame *in;
        while ((in = raw_read_unpacked(fd, 5000))) {
            sc_frame f = SC_FRAME_INIT;
            f.id = in->id;
            Sidecast__V1__Welcome w = SIDECAST__V1__WELCOME__INIT;
            Sidecast__V1__NodeInfo ni = SIDECAST__V1__NODE_INFO__INIT;
            Sidecast__V1__NodeInfo *nis[] = {&ni};
            Sidecast__V1__NodeList nl = SIDECAST__V1__NODE_LIST__INIT;
            Sidecast__V1__Pong pong = SIDECAST__V1__PONG__INIT;
            if (in->msg_case == SIDECAST__V1__FRAME__MSG_HELLO) {
                o->hello_features = in->hello->features;
                w.protocol_version = 1;
                w.server_version = (char *)"0.1.0";
                w.node_id = (char *)"old-node";
                w.node_name = (char *)"old";
                w.max_frame_bytes = 1 << 20;
                f.msg_case = SIDECAST__V1__FRAME__MSG_WELCOME;
                f.welcome = &w;
            } else if (in->msg_case == SIDECAST__V1__FRAME__MSG_NODES) {
                ni.node_id = (char *)"old-node";
                ni.node_name = (char *)"old";
                ni.self = true;
                ni.version = 77;
                ni.features = 0xff;
                nl.nodes = nis;
                nl.n_nodes = 1;
                f.msg_case = SIDECAST__V1__FRAME__MSG_NODE_LIST;
                f.node_list = &nl;
            } else {
                pong.nonce = in->msg_case == SIDECAST__V1__FRAME__MSG_PING ? in->ping->nonce : 0;
                f.msg_case = SIDECAST__V1__FRAME__MSG_PONG;
                f.pong = &pong;
            }
            sidecast__v1__frame__free_unpacked(in, NULL);
            raw_send_frame(fd, &f);
        }
        close(fd);
    }
    return NULL;
}

static void on_old_node(void *ud, const sc_node_info *nd)
{
    sc_node_info *out = ud;
    *out = *nd;
    out->node_id = out->node_name = NULL; /* valid during the callback only */
}

static void test_sidecastd_before_negotiation(void **state)
{
    char dir[] = "/tmp/sc-old-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/old.sock", dir);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    old_sidecastd o = {socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), 2, 0};
    assert_true(o.lfd >= 0);
    assert_int_equal(bind(o.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(o.lfd, 4), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, old_sidecastd_main, &o), 0);

    sc_client_options opts = {.path = path, .name = "app"};
    sc_client *c;
    assert_int_equal(sc_client_open(&opts, &c), 0);
    assert_int_equal(o.hello_features, SC_CLIENT_FEATURES); /* the Hello says what we have */
    assert_int_equal(sc_client_server_features(c), 0);
    assert_int_equal(sc_client_server_min_protocol_version(c), 0);
    assert_false(sc_client_has_features(c, SC_FEATURE_NODE_VERSIONS));
    sc_node_info nd = {0};
    assert_int_equal(sc_client_nodes_info(c, on_old_node, &nd, 0), 0);
    assert_true(nd.self);
    assert_false(nd.versioned);
    assert_int_equal(nd.version, 0);
    assert_int_equal(nd.features, 0);
    sc_client_close(c);

    char cmd[600], out[2048];
    snprintf(cmd, sizeof(cmd), "%s -s %s nodes", SC_SIDECASTCTL_PATH, path);
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = 0;
    assert_int_equal(pclose(p), 0);
    assert_non_null(strstr(out, "old  (sidecastd predates version reporting)  (this node)"));
    pthread_join(t, NULL);
    close(o.lfd);
    unlink(path);
    rmdir(dir);
}

/* Run sidecastctl with a command line (shell words, quoted by the caller);
 * stdout and stderr into out. Returns the exit status. */
static int run_ctl(const daemon_t *d, const char *args, char *out, size_t outlen)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "%s -s %s %s 2>&1", SC_SIDECASTCTL_PATH, d->sock, args);
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* sidecastctl: names with separators in them stay readable, lookup says
 * "not found", and --local works for sockets and lookup. */
static void test_ctl_output(void **state)
{
    daemon_t *d = daemon_start(NULL);
    sc_client *a = app_open(d, "app", NULL);
    const char *rooms[] = {"/", "a,b", "q\"t"};
    assert_int_equal(sc_client_socket_up(a, "s,1", "sid 1", "", NULL, 0, rooms, 3), 0);
    assert_int_equal(sc_client_sync(a, 0), 0);
    char out[4096];
    assert_int_equal(run_ctl(d, "sockets", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "\"s,1\" session=\"sid 1\" user=\"\" rooms="));
    assert_non_null(strstr(out, "\"/\""));
    assert_non_null(strstr(out, "\"a,b\""));
    assert_non_null(strstr(out, "\"q\\\"t\""));
    assert_int_equal(run_ctl(d, "sockets --local --room /", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "\"s,1\""));
    assert_int_equal(run_ctl(d, "lookup --local socket 's,1'", out, sizeof(out)), 0);
    assert_int_equal(run_ctl(d, "lookup socket nosuch", out, sizeof(out)), 3);
    assert_non_null(strstr(out, "not found: no socket nosuch on any live node"));
    sc_client_close(a);
    daemon_free(d);
}

/* A failed connect says what to do: the socket's directory is missing, or
 * this user is not in the socket's group (checked as nobody, since root
 * passes every permission check). */
static void test_connect_hints(void **state)
{
    char path[300];
    snprintf(path, sizeof(path), "/tmp/sidecast-no-such-dir-%d/s.sock", (int)getpid());
    sc_client_options o = {0};
    o.path = path;
    o.name = "hint";
    sc_client *c = NULL;
    assert_true(sc_client_open(&o, &c) < 0);
    assert_non_null(strstr(sc_client_last_error(c), "does not exist"));
    sc_client_close(c);

    daemon_t *d = daemon_start(NULL);
    assert_int_equal(chmod(d->sock, 0660), 0);
    assert_int_equal(chmod(d->dir, 0755), 0);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
            _exit(1);
        sc_client_options co = {0};
        co.path = d->sock;
        co.name = "nobody";
        sc_client *cc = NULL;
        int r = sc_client_open(&co, &cc);
        const char *why = sc_client_last_error(cc);
        ssize_t w = write(pfd[1], why, strlen(why));
        (void)w;
        _exit(r == -EACCES ? 0 : 2);
    }
    close(pfd[1]);
    char why[600] = {0};
    ssize_t n = read(pfd[0], why, sizeof(why) - 1);
    close(pfd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    assert_true(n > 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_non_null(strstr(why, "group"));
    assert_non_null(strstr(why, "usermod -aG"));
    daemon_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_app_disconnect_cleanup),
        cmocka_unit_test(test_graceful_shutdown_flushes),
        cmocka_unit_test(test_stale_socket_file),
        cmocka_unit_test(test_second_daemon_refused),
        cmocka_unit_test(test_restart_reregisters),
        cmocka_unit_test(test_check_config),
        cmocka_unit_test(test_config_directory_and_duplicates),
        cmocka_unit_test(test_reload_refuses_directory),
        cmocka_unit_test(test_redis_url_user_only),
        cmocka_unit_test(test_sidecastctl),
        cmocka_unit_test(test_shipped_config_complete),
        cmocka_unit_test(test_welcome_features),
        cmocka_unit_test(test_sidecastd_before_negotiation),
        cmocka_unit_test(test_ctl_output),
        cmocka_unit_test(test_connect_hints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
