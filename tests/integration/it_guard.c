/* Integration: the security model and the per-connection limits.
 * Socket file owner, group and mode; the SO_PEERCRED allow-list (a child
 * process that drops to uid nobody is refused, or admitted by its group);
 * the Redis password kept out of logs, --help and ps (password file,
 * systemd credentials directory, a scrubbed --redis-url); and every limit
 * refused with an Error{LIMIT}, a counter, and the connection kept. */
#include "harness.h"

#include "buf.h"
#include "wire.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MC(name) SIDECAST__V1__FRAME__MSG_##name
#define NOBODY 65534

static int run_cmd(const char *cmd, char *out, size_t outlen)
{
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_socket_owner_group_mode(void **state)
{
    /* the default group `sidecast` does not exist here: kept, said once */
    daemon_t *d = daemon_start("--socket-mode", "0640", NULL);
    struct stat st;
    assert_int_equal(stat(d->sock, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    const struct group *g = getgrnam("sidecast");
    assert_int_equal(st.st_gid, g ? g->gr_gid : getegid());
    if (!g)
        assert_true(daemon_log_contains(d, "socket group 'sidecast' does not exist"));
    daemon_free(d);

    /* an explicit group (by number) is applied; as root, an owner too */
    char gid[16];
    snprintf(gid, sizeof(gid), "%u", (unsigned)getegid());
    d = geteuid() == 0 ? daemon_start("--socket-group", gid, "--socket-user", "nobody", NULL)
                       : daemon_start("--socket-group", gid, NULL);
    assert_int_equal(stat(d->sock, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0660);
    assert_int_equal(st.st_gid, getegid());
    if (geteuid() == 0)
        assert_int_equal(st.st_uid, NOBODY);
    daemon_free(d);

    /* an explicitly configured group or user that does not exist is a
     * configuration error, and so is a bad allow-list entry */
    char out[4096];
    assert_int_equal(run_cmd(SC_SIDECASTD_PATH " --socket-group no-such-group-x --check-config "
                                               "2>&1",
                             out, sizeof(out)),
                     1);
    assert_non_null(strstr(out, "socket_group: no group 'no-such-group-x'"));
    assert_int_equal(run_cmd(SC_SIDECASTD_PATH " --socket-user no-such-user-x --check-config 2>&1",
                             out, sizeof(out)),
                     1);
    assert_non_null(strstr(out, "socket_user: no user 'no-such-user-x'"));
    assert_int_equal(run_cmd(SC_SIDECASTD_PATH " --allow-uids '0, nobody,no-such-user-x' "
                                               "--check-config 2>&1",
                             out, sizeof(out)),
                     1);
    assert_non_null(strstr(out, "allow_uids: 'no-such-user-x' is not a user name or number"));
    assert_int_equal(run_cmd(SC_SIDECASTD_PATH " --allow-uids '0, nobody' --allow-gids 'root,7' "
                                               "--check-config 2>&1",
                             out, sizeof(out)),
                     0);
}

/* In a child that became uid/gid nobody: connect and handshake. Returns the
 * message case of the answer (Welcome or Error) and the error code. */
static int connect_as_nobody(const char *sock, int *ret_code)
{
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        int res[2] = {-1, 0};
        if (setgroups(0, NULL) == 0 && setgid(NOBODY) == 0 && setuid(NOBODY) == 0) {
            int fd = raw_connect(sock);
            if (fd >= 0) {
                /* a refused peer may be closed before its Hello is sent:
                 * ignore EPIPE, the refusal is still there to read */
                Sidecast__V1__Hello h = SIDECAST__V1__HELLO__INIT;
                h.protocol_version = 1;
                sc_frame f = SC_FRAME_INIT;
                f.id = 1;
                f.msg_case = MC(HELLO);
                f.hello = &h;
                sc_buf b;
                sc_buf_init(&b);
                sc_wire_append(&b, &f);
                (void)!send(fd, b.data, b.len, MSG_NOSIGNAL);
                sc_buf_free(&b);
                res[0] = raw_read_frame(fd, &res[1], 5000);
            }
        }
        ssize_t n = write(pfd[1], res, sizeof(res));
        _exit(n == sizeof(res) ? 0 : 1);
    }
    close(pfd[1]);
    int res[2] = {-1, 0};
    ssize_t n = read(pfd[0], res, sizeof(res));
    close(pfd[0]);
    waitpid(pid, NULL, 0);
    assert_int_equal(n, sizeof(res));
    *ret_code = res[1];
    return res[0];
}

static void test_peer_allow_list(void **state)
{
    if (geteuid() != 0) {
        fprintf(stderr, "not root: cannot start a peer with another uid; skipped\n");
        skip();
    }
    daemon_t *d = daemon_start("--socket-mode", "0666", "--allow-uids", "4242", NULL);
    assert_int_equal(chmod(d->dir, 0755), 0);
    int code = 0;
    assert_int_equal(connect_as_nobody(d->sock, &code), MC(ERROR));
    assert_int_equal(code, SC_ERR_FORBIDDEN);
    /* root (this test) is always let in; the refusal is counted and logged */
    sc_client *c = app_open(d, "root-app", NULL);
    assert_int_equal(stat_of(c, "connections_refused_peer"), 1);
    assert_int_equal(stat_of(c, "app_connections"), 1);
    assert_true(daemon_log_contains(d, "refusing app connection from pid"));
    assert_true(daemon_log_contains(d, "uid 65534"));
    sc_client_close(c);
    daemon_free(d);

    /* admitted by its group */
    d = daemon_start("--socket-mode", "0666", "--allow-uids", "4242", "--allow-gids", "nogroup",
                     NULL);
    assert_int_equal(chmod(d->dir, 0755), 0);
    assert_int_equal(connect_as_nobody(d->sock, &code), MC(WELCOME));
    c = app_open(d, "root-app", NULL);
    assert_int_equal(stat_of(c, "connections_refused_peer"), 0);
    sc_client_close(c);
    daemon_free(d);

    /* no list: the file mode alone decides */
    d = daemon_start("--socket-mode", "0666", NULL);
    assert_int_equal(chmod(d->dir, 0755), 0);
    assert_int_equal(connect_as_nobody(d->sock, &code), MC(WELCOME));
    daemon_free(d);
}

static bool file_contains(const char *path, const char *needle, size_t len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return false;
    static char buf[65536];
    ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    for (ssize_t i = 0; n > 0 && i + (ssize_t)len <= n; i++)
        if (memcmp(buf + i, needle, len) == 0)
            return true;
    return false;
}

/* A password rotated in its file is used at the next login, without a
 * restart or a reload: Redis's password changes, the node's connections
 * are dropped, and it gets back in with the new one. */
static void test_password_file_read_before_each_login(void **state)
{
    redis_srv *r = redis_start();
    free(redis_cli(r, "CONFIG SET requirepass first-pw"));
    char dir[] = "/tmp/sidecast-cred-XXXXXX", file[300];
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof(file), "%s/redis-password", dir);
    write_file(file, "first-pw\n");
    daemon_t *d = node_start(r, "node-file", "--redis-password-file", file, NULL);
    sc_client *c = app_open(d, "app", NULL);
    assert_int_equal(wait_nodes(c, 1, 5000), 1);
    write_file(file, "second-pw\n");
    free(redis_cli(r, "-a first-pw --no-auth-warning CONFIG SET requirepass second-pw"));
    free(redis_cli(r, "-a second-pw --no-auth-warning CLIENT KILL TYPE normal"));
    free(redis_cli(r, "-a second-pw --no-auth-warning CLIENT KILL TYPE pubsub"));
    assert_true(wait_log(d, "connection to 127.0.0.1", 5000));
    /* back: two publish connections established, the second with the new password */
    uint64_t end = now_ms_h() + 10000;
    int up = 0;
    while (now_ms_h() < end) {
        char cmd[600], out[64];
        snprintf(cmd, sizeof(cmd), "grep -c 'redis publish connection to .* established' %s",
                 d->log);
        FILE *p = popen(cmd, "r");
        up = p && fgets(out, sizeof(out), p) ? atoi(out) : 0;
        if (p)
            pclose(p);
        if (up >= 2)
            break;
        usleep(20000);
    }
    assert_true(up >= 2);
    assert_int_equal(wait_nodes(c, 1, 5000), 1);
    assert_false(daemon_log_contains(d, "second-pw"));
    sc_client_close(c);
    daemon_free(d);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    redis_free(r);
}

static void test_redis_password_sources(void **state)
{
    const char *pw = "Pw-4e9f-secret";
    redis_srv *r = redis_start();
    char *out = redis_cli(r, "CONFIG SET requirepass Pw-4e9f-secret");
    free(out);
    char dir[] = "/tmp/sidecast-cred-XXXXXX", file[300];
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof(file), "%s/redis-password", dir);
    write_file(file, "Pw-4e9f-secret\n");

    /* 1. redis_password_file */
    daemon_t *a = node_start(r, "node-file", "--redis-password-file", file, NULL);
    sc_client *ca = app_open(a, "app", NULL);
    assert_int_equal(wait_nodes(ca, 1, 5000), 1);
    /* 2. systemd LoadCredential: $CREDENTIALS_DIRECTORY/redis-password */
    setenv("CREDENTIALS_DIRECTORY", dir, 1);
    daemon_t *b = node_start(r, "node-cred", NULL);
    unsetenv("CREDENTIALS_DIRECTORY");
    sc_client *cb = app_open(b, "app", NULL);
    assert_int_equal(wait_nodes(cb, 2, 5000), 2);
    /* 3. in the URL on the command line: works, warned, scrubbed from argv */
    char url[128], cmdline[64];
    snprintf(url, sizeof(url), "redis://:%s@127.0.0.1:%d/0", pw, r->port);
    daemon_t *c = node_start(r, "node-url", "--redis-url", url, NULL);
    sc_client *cc = app_open(c, "app", NULL);
    assert_int_equal(wait_nodes(cc, 3, 5000), 3);
    assert_true(daemon_log_contains(c, "where ps and /proc show it"));
    /* (under a wrapper such as valgrind, /proc shows the wrapper's argv) */
    snprintf(cmdline, sizeof(cmdline), "/proc/%d/cmdline", (int)c->pid);
    const char *wrapper = getenv("SIDECAST_TEST_WRAPPER");
    if (!wrapper || !wrapper[0]) {
        assert_true(file_contains(cmdline, "127.0.0.1", 9));
        assert_false(file_contains(cmdline, pw, strlen(pw)));
    }
    /* never in a log line, the stats reply or --help */
    daemon_t *all[] = {a, b, c};
    for (int i = 0; i < 3; i++)
        assert_false(daemon_log_contains(all[i], pw));
    assert_false(daemon_log_contains(a, "where ps and /proc show it"));
    /* nor in /metrics */
    static char body[262144];
    assert_int_equal(http_get(daemon_http_port(c), "/metrics", body, sizeof(body)), 200);
    assert_non_null(strstr(body, "sidecast_"));
    assert_null(strstr(body, pw));
    /* a SIGHUP re-reads the real flags (argv itself is scrubbed): nothing
     * looks changed, and the connection keeps its password */
    kill(c->pid, SIGHUP);
    uint64_t end = now_ms_h() + 10000;
    while (!daemon_log_contains(c, "reload: configuration unchanged") && now_ms_h() < end)
        usleep(20000);
    assert_true(daemon_log_contains(c, "reload: configuration unchanged"));
    assert_false(daemon_log_contains(c, "need a restart"));
    char cmd[600], text[16384];
    snprintf(cmd, sizeof(cmd), SC_SIDECASTCTL_PATH " -s %s stats 2>&1", c->sock);
    assert_int_equal(run_cmd(cmd, text, sizeof(text)), 0);
    assert_null(strstr(text, pw));
    snprintf(cmd, sizeof(cmd), SC_SIDECASTD_PATH " --redis-password-file %s --help 2>&1", file);
    assert_int_equal(run_cmd(cmd, text, sizeof(text)), 0);
    assert_null(strstr(text, pw));
    /* a configured file that cannot be read is a configuration error */
    snprintf(cmd, sizeof(cmd),
             SC_SIDECASTD_PATH " --redis-password-file %s/none --check-config 2>&1", dir);
    assert_int_equal(run_cmd(cmd, text, sizeof(text)), 1);
    assert_non_null(strstr(text, "redis_password_file: cannot open"));

    sc_client_close(ca);
    sc_client_close(cb);
    sc_client_close(cc);
    daemon_free(a);
    daemon_free(b);
    daemon_free(c);
    redis_free(r);
    unlink(file);
    rmdir(dir);
}

/* Each limit: refused with LIMIT and counted; the connection goes on.
 * (libsidecast keeps a refused socket in its mirror, so each refused
 * socket up uses a new id.) */
static void expect_refusal(sc_client *c, recorder *rec, const char *counter, uint64_t want)
{
    assert_int_equal(sc_client_sync(c, 0), 0);
    assert_int_equal(rec->last_error_code, SC_ERR_LIMIT);
    assert_int_equal(stat_of(c, counter), want);
    rec_reset(rec);
}

static void test_limits(void **state)
{
    daemon_t *d = daemon_start("--max-payload-bytes", "100", "--max-sockets-per-connection", "3",
                               "--max-rooms-per-socket", "2", "--max-name-bytes", "16",
                               "--max-socket-data-bytes", "8", NULL);
    recorder rec;
    sc_client *c = app_open(d, "limited", &rec);
    const char *r2[] = {"r1", "r2"}, *r3[] = {"r1", "r2", "r3"}, *r_long[] = {"room-name-of-17-b"};
    assert_int_equal(sc_client_socket_up(c, "s1", "", "", NULL, 0, r2, 2), 0);
    assert_int_equal(sc_client_sync(c, 0), 0);
    assert_int_equal(rec.errors, 0);

    /* rooms per socket: re-joining rooms it is in is fine, a third is not */
    assert_int_equal(sc_client_join(c, "s1", r2, 2), 0);
    assert_int_equal(sc_client_sync(c, 0), 0);
    assert_int_equal(rec.errors, 0);
    assert_int_equal(sc_client_join(c, "s1", r3, 3), 0);
    expect_refusal(c, &rec, "refused_rooms_limit", 1);
    /* name length: room, socket id, user id */
    assert_int_equal(sc_client_join(c, "s1", r_long, 1), 0);
    expect_refusal(c, &rec, "refused_name_limit", 1);
    assert_int_equal(sc_client_socket_up(c, "socket-id-of-17-b", "", "", NULL, 0, NULL, 0), 0);
    expect_refusal(c, &rec, "refused_name_limit", 2);
    assert_int_equal(sc_client_socket_up(c, "s-user", "", "user-id-of-17-byt", NULL, 0, NULL, 0),
                     0);
    expect_refusal(c, &rec, "refused_name_limit", 3);
    /* socket data */
    assert_int_equal(
        sc_client_socket_up(c, "s-data", "", "", (const uint8_t *)"123456789", 9, NULL, 0), 0);
    expect_refusal(c, &rec, "refused_data_limit", 1);
    assert_int_equal(sc_client_set_data(c, "s1", (const uint8_t *)"123456789", 9), 0);
    expect_refusal(c, &rec, "refused_data_limit", 2);
    /* payload */
    char big[101];
    memset(big, 'x', sizeof(big));
    sc_target t = {.rooms = r2, .n_rooms = 1};
    assert_int_equal(sc_client_emit(c, &t, NULL, (const uint8_t *)big, sizeof(big)), 0);
    expect_refusal(c, &rec, "refused_payload_limit", 1);
    /* sockets per connection */
    assert_int_equal(sc_client_socket_up(c, "s2", "", "", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_socket_up(c, "s3", "", "", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_sync(c, 0), 0);
    assert_int_equal(rec.errors, 0);
    assert_int_equal(sc_client_socket_up(c, "s4", "", "", NULL, 0, NULL, 0), 0);
    expect_refusal(c, &rec, "refused_sockets_limit", 1);
    assert_true(daemon_log_contains(d, "max_sockets_per_connection"));
    /* the connection is intact: within-limit requests still work */
    assert_int_equal(stat_of(c, "sockets"), 3);
    sc_emit_flags self = {.include_self = true};
    assert_int_equal(sc_client_emit(c, &t, &self, (const uint8_t *)big, 100), 0);
    assert_int_equal(sc_client_sync(c, 0), 0);
    assert_int_equal(rec_count(&rec, "s1"), 1);
    assert_int_equal(rec.errors, 0);
    sc_client_close(c);
    daemon_free(d);
}

static void send_frame(int fd, sc_frame *f)
{
    sc_buf b;
    sc_buf_init(&b);
    sc_wire_append(&b, f);
    raw_send(fd, b.data, b.len);
    sc_buf_free(&b);
}

static void test_pending_per_connection(void **state)
{
    daemon_t *d =
        daemon_start("--max-pending-per-connection", "1", "--request-timeout-ms", "60000", NULL);
    /* an app that never acks: the first request stays pending */
    sc_client *silent = app_open(d, "never-acks", NULL);
    int fd = raw_connect(d->sock);
    assert_true(fd >= 0);
    raw_send_hello(fd, 1);
    assert_int_equal(raw_read_frame(fd, NULL, 5000), MC(WELCOME));
    Sidecast__V1__ServerEmit se = SIDECAST__V1__SERVER_EMIT__INIT;
    se.want_ack = true;
    sc_frame f = SC_FRAME_INIT;
    f.msg_case = MC(SERVER_EMIT);
    f.server_emit = &se;
    f.id = 2;
    send_frame(fd, &f);
    f.id = 3;
    send_frame(fd, &f);
    int code = 0, mc;
    /* the Progress(expect) of request 2 may come first */
    while ((mc = raw_read_frame(fd, &code, 5000)) == MC(PROGRESS))
        ;
    assert_int_equal(mc, MC(ERROR));
    assert_int_equal(code, SC_ERR_LIMIT);
    assert_int_equal(stat_of(silent, "refused_pending_limit"), 1);
    close(fd);
    /* the requester went away: its request no longer holds a slot */
    uint64_t end = now_ms_h() + 5000;
    while (stat_of(silent, "app_connections") != 1 && now_ms_h() < end)
        usleep(10000);
    sc_client_close(silent);
    daemon_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_socket_owner_group_mode), cmocka_unit_test(test_peer_allow_list),
        cmocka_unit_test(test_redis_password_sources),
        cmocka_unit_test(test_password_file_read_before_each_login),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_pending_per_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
