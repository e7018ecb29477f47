/* Integration: session lookups on three nodes over a real redis-server
 * (by session, socket and user; presence; emit to a user; user-wide
 * join/leave/disconnect; session data across nodes with its grace period;
 * node death; Redis restart), and the same local features standalone. */
#include "harness.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#define LIST(...) (const char *const[]){__VA_ARGS__}, sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *)

typedef struct world {
    redis_srv *redis;
    daemon_t *na, *nb, *nc;
    sc_client *a, *b, *c;
    recorder ra, rb, rc;
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof(*w));
    w->redis = redis_start();
    w->na = node_start(w->redis, "node-a", "--advertise-address", "10.0.0.1:3000",
                       "--session-grace-ms", "800", NULL);
    w->nb = node_start(w->redis, "node-b", "--advertise-address", "10.0.0.2:3000",
                       "--session-grace-ms", "800", NULL);
    w->nc = node_start(w->redis, "node-c", "--advertise-address", "10.0.0.3:3000",
                       "--session-grace-ms", "800", NULL);
    w->a = app_open(w->na, "app-a", &w->ra);
    w->b = app_open(w->nb, "app-b", &w->rb);
    w->c = app_open(w->nc, "app-c", &w->rc);
    assert_int_equal(sc_client_socket_up(w->a, "a1", "sa1", "alice", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_socket_up(w->b, "b1", "sb1", "alice", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_socket_up(w->b, "b2", "sb2", "bob", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_socket_up(w->c, "c1", "sc1", "alice", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    assert_int_equal(sc_client_sync(w->b, 0), 0);
    assert_int_equal(sc_client_sync(w->c, 0), 0);
    assert_int_equal(wait_nodes(w->a, 3, 5000), 3);
    assert_int_equal(wait_nodes(w->c, 3, 5000), 3);
    assert_false(daemon_log_contains(w->na, "advertise_address is not set"));
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    sc_client_close(w->a);
    sc_client_close(w->b);
    sc_client_close(w->c);
    daemon_free(w->na);
    daemon_free(w->nb);
    daemon_free(w->nc);
    redis_free(w->redis);
    free(w);
    return 0;
}

typedef struct found {
    int n;
    char ids[8][16], nodes[8][32], addrs[8][32], sids[8][16], uids[8][16];
    bool local[8];
} found;

static void on_loc(void *ud, const sc_location *l)
{
    found *f = ud;
    if (f->n >= 8)
        return;
    snprintf(f->ids[f->n], 16, "%s", l->socket_id);
    snprintf(f->nodes[f->n], 32, "%s", l->node_name);
    snprintf(f->addrs[f->n], 32, "%s", l->address);
    snprintf(f->sids[f->n], 16, "%s", l->session_id);
    snprintf(f->uids[f->n], 16, "%s", l->user_id);
    f->local[f->n] = l->local;
    f->n++;
}

static void test_lookups(void **state)
{
    world *w = *state;
    found f = {0};
    assert_int_equal(sc_client_lookup(w->c, SC_BY_SESSION, "sb1", false, on_loc, &f, 0), 1);
    assert_string_equal(f.ids[0], "b1");
    assert_string_equal(f.nodes[0], "node-b");
    assert_string_equal(f.addrs[0], "10.0.0.2:3000");
    assert_string_equal(f.uids[0], "alice");
    assert_false(f.local[0]);
    memset(&f, 0, sizeof(f));
    assert_int_equal(sc_client_lookup(w->c, SC_BY_SOCKET, "a1", false, on_loc, &f, 0), 1);
    assert_string_equal(f.nodes[0], "node-a");
    assert_string_equal(f.sids[0], "sa1");
    memset(&f, 0, sizeof(f));
    assert_int_equal(sc_client_lookup(w->b, SC_BY_USER, "alice", false, on_loc, &f, 0), 3);
    assert_int_equal(sc_client_lookup(w->b, SC_BY_SESSION, "nope", false, NULL, NULL, 0), 0);

    sc_presence p;
    assert_int_equal(sc_client_presence(w->a, "alice", &p, 0), 0);
    assert_true(p.online);
    assert_int_equal(p.sockets, 3);
    assert_int_equal(p.nodes, 3);
    assert_int_equal(sc_client_presence(w->a, "bob", &p, 0), 0);
    assert_int_equal(p.sockets, 1);
    assert_int_equal(p.nodes, 1);
    assert_int_equal(sc_client_presence(w->a, "carol", &p, 0), 0);
    assert_false(p.online);
    /* one round trip each: answered from the directory, counted */
    assert_true(stat_of(w->a, "lookups_redis") >= 3);
}

static void settle(world *w, int ms)
{
    uint64_t end = now_ms_h() + (uint64_t)ms;
    while (now_ms_h() < end) {
        sc_client_poll(w->a, 5);
        sc_client_poll(w->b, 5);
        sc_client_poll(w->c, 5);
    }
}

static void test_emit_to_user(void **state)
{
    world *w = *state;
    rec_reset(&w->ra);
    rec_reset(&w->rb);
    rec_reset(&w->rc);
    sc_target t = {.user_ids = LIST("alice")};
    sc_emit_flags fl = {.include_self = true};
    assert_int_equal(sc_client_emit(w->b, &t, &fl, (const uint8_t *)"hi", 2), 0);
    assert_int_equal(sc_client_sync(w->b, 0), 0);
    settle(w, 200);
    assert_int_equal(rec_count(&w->ra, "a1"), 1);
    assert_int_equal(rec_count(&w->rb, "b1"), 1);
    assert_int_equal(rec_count(&w->rc, "c1"), 1);
    assert_int_equal(rec_count(&w->rb, "b2"), 0);
    assert_int_equal(w->ra.sockets + w->rb.sockets + w->rc.sockets, 3);
}

typedef struct pump {
    world *w;
    volatile int stop;
    pthread_t th;
} pump;

static void *pump_main(void *arg)
{
    pump *p = arg;
    while (!p->stop) {
        sc_client_poll(p->w->b, 5);
        sc_client_poll(p->w->c, 5);
    }
    return NULL;
}

static void test_user_wide_apply(void **state)
{
    world *w = *state;
    pump p = {w, 0, 0};
    sc_target f = {.user_ids = LIST("alice")};
    sc_apply join = {.filter = &f, .join = LIST("fans")};
    pthread_create(&p.th, NULL, pump_main, &p);
    assert_int_equal(sc_client_apply(w->a, &join, 5000), 0);
    p.stop = 1;
    pthread_join(p.th, NULL);
    settle(w, 150);
    uint64_t size = 0;
    for (int i = 0; i < 50 && size != 3; i++) {
        settle(w, 20);
        /* room sizes are per node: sum over the three sidecars */
        size = stat_of(w->a, "room_memberships") + stat_of(w->b, "room_memberships") +
               stat_of(w->c, "room_memberships");
    }
    assert_int_equal(size, 3);

    /* disconnect bob everywhere */
    sc_target fb = {.user_ids = LIST("bob")};
    sc_apply dis = {.filter = &fb, .disconnect = true};
    p.stop = 0;
    pthread_create(&p.th, NULL, pump_main, &p);
    assert_int_equal(sc_client_apply(w->a, &dis, 5000), 0);
    p.stop = 1;
    pthread_join(p.th, NULL);
    settle(w, 150);
    assert_int_equal(w->rb.disconnects, 1);
    sc_presence pr;
    assert_int_equal(sc_client_presence(w->a, "bob", &pr, 0), 0);
    assert_false(pr.online);
}

typedef struct kv {
    int n;
    char keys[8][16], vals[8][32];
} kv;

static void on_kv(void *ud, const char *key, const uint8_t *v, size_t len)
{
    kv *k = ud;
    if (k->n < 8) {
        snprintf(k->keys[k->n], 16, "%s", key);
        snprintf(k->vals[k->n], 32, "%.*s", (int)len, (const char *)v);
        k->n++;
    }
}

static void test_session_data_and_grace(void **state)
{
    world *w = *state;
    sc_session_entry set[] = {{"theme", (const uint8_t *)"dark", 4}, {"lang", (const uint8_t *)"fr", 2}};
    /* written on node a, for a session that lives on node b */
    assert_int_equal(sc_client_session_set(w->a, "sb1", set, 2, NULL, 0, 0), 0);
    kv k = {0};
    bool connected = false;
    assert_int_equal(sc_client_session_get(w->c, "sb1", on_kv, &k, &connected, 0), 2);
    assert_true(connected);
    assert_int_equal(sc_client_session_set(w->c, "sb1", NULL, 0, LIST("lang"), 0), 0);
    memset(&k, 0, sizeof(k));
    assert_int_equal(sc_client_session_get(w->a, "sb1", on_kv, &k, NULL, 0), 1);
    assert_string_equal(k.keys[0], "theme");
    assert_string_equal(k.vals[0], "dark");

    /* bounded: 4 KiB by default */
    static uint8_t big[5000];
    memset(big, 'x', sizeof(big));
    sc_session_entry huge[] = {{"blob", big, sizeof(big)}};
    assert_int_equal(sc_client_session_set(w->a, "sb1", huge, 1, NULL, 0, 0), -ENOSPC);
    assert_non_null(strstr(sc_client_last_error(w->a), "max"));

    /* the socket goes: data stays for the grace period, lookups stop */
    assert_int_equal(sc_client_socket_down(w->b, "b1"), 0);
    assert_int_equal(sc_client_sync(w->b, 0), 0);
    /* node b removes the entry over its own Redis connection: another
     * node's lookup is not ordered with it, so give it a moment */
    int n = -1;
    for (int i = 0; i < 100 && n != 0; i++) {
        n = sc_client_lookup(w->a, SC_BY_SESSION, "sb1", false, NULL, NULL, 0);
        if (n != 0)
            usleep(10000);
    }
    assert_int_equal(n, 0);
    memset(&k, 0, sizeof(k));
    assert_int_equal(sc_client_session_get(w->a, "sb1", on_kv, &k, &connected, 0), 1);
    assert_false(connected);

    /* a client that reconnects to another node within the grace period
     * keeps its data (recognised by its session id) */
    assert_int_equal(sc_client_socket_up(w->c, "b1-again", "sb1", "alice", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_sync(w->c, 0), 0);
    usleep(1200 * 1000); /* past the 800 ms grace */
    assert_int_equal(sc_client_session_get(w->a, "sb1", NULL, NULL, &connected, 0), 1);
    assert_true(connected);

    /* and one that does not, loses it after the grace period */
    sc_session_entry s2[] = {{"cart", (const uint8_t *)"3", 1}};
    assert_int_equal(sc_client_session_set(w->a, "sa1", s2, 1, NULL, 0, 0), 0);
    assert_int_equal(sc_client_socket_down(w->a, "a1"), 0);
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    assert_int_equal(sc_client_session_get(w->b, "sa1", NULL, NULL, NULL, 0), 1);
    usleep(1200 * 1000);
    assert_int_equal(sc_client_session_get(w->b, "sa1", NULL, NULL, NULL, 0), 0);
}

/* One engine.io connection with a socket per namespace registers them all
 * with its session id. The session (lookups, its data) lasts until the last
 * of them goes, whichever order they go in: "sn" loses its newest socket
 * first (the one Redis's session entry names), "so" its oldest (the one the
 * node's registry names). */
static void test_session_over_namespaces(void **state)
{
    world *w = *state;
    const char *sock[] = {"n-root", "n-chat", "o-root", "o-chat"};
    const char *sess[] = {"sn", "sn", "so", "so"};
    for (int i = 0; i < 4; i++)
        assert_int_equal(sc_client_socket_up(w->a, sock[i], sess[i], "", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    sc_session_entry e[] = {{"k", (const uint8_t *)"v", 1}};
    assert_int_equal(sc_client_session_set(w->a, "sn", e, 1, NULL, 0, 0), 0);
    assert_int_equal(sc_client_session_set(w->a, "so", e, 1, NULL, 0, 0), 0);

    assert_int_equal(sc_client_socket_down(w->a, "n-chat"), 0);
    assert_int_equal(sc_client_socket_down(w->a, "o-root"), 0);
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    /* node a's lookups go over the connection its unregistrations took:
     * they see them, no waiting */
    found f = {0};
    assert_int_equal(sc_client_lookup(w->a, SC_BY_SESSION, "sn", false, on_loc, &f, 0), 1);
    assert_int_equal(sc_client_lookup(w->a, SC_BY_SESSION, "so", false, on_loc, &f, 0), 1);
    assert_string_equal(f.ids[0], "n-root");
    assert_string_equal(f.ids[1], "o-chat");
    bool connected = false;
    assert_int_equal(sc_client_session_get(w->a, "sn", NULL, NULL, &connected, 0), 1);
    assert_true(connected);
    usleep(1200 * 1000); /* past the 800 ms grace: nothing started it */
    assert_int_equal(sc_client_session_get(w->c, "sn", NULL, NULL, NULL, 0), 1);
    assert_int_equal(sc_client_session_get(w->c, "so", NULL, NULL, NULL, 0), 1);

    assert_int_equal(sc_client_socket_down(w->a, "n-root"), 0);
    assert_int_equal(sc_client_socket_down(w->a, "o-chat"), 0);
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    assert_int_equal(sc_client_lookup(w->a, SC_BY_SESSION, "sn", false, NULL, NULL, 0), 0);
    assert_int_equal(sc_client_lookup(w->a, SC_BY_SESSION, "so", false, NULL, NULL, 0), 0);
    assert_int_equal(sc_client_session_get(w->a, "so", NULL, NULL, &connected, 0), 1);
    assert_false(connected); /* gone, and its grace period runs */
}

static void test_redis_restart_then_node_death(void **state)
{
    if (rcluster_mode())
        skip(); /* one Redis restarted empty: not a Redis Cluster's fault */
    world *w = *state;
    redis_kill(w->redis);
    redis_restart(w->redis); /* empty */
    /* each node writes its directory again */
    int n = 0;
    for (int i = 0; i < 100 && n != 1; i++) {
        usleep(50000);
        n = sc_client_lookup(w->a, SC_BY_SESSION, "sc1", false, NULL, NULL, 0);
    }
    assert_int_equal(n, 1);
    assert_int_equal(wait_nodes(w->a, 3, 5000), 3);

    /* node c dies: its sockets leave lookups once its liveness expires */
    daemon_kill(w->nc);
    found f = {0};
    n = -1;
    for (int i = 0; i < 60 && n != 0; i++) {
        usleep(50000);
        n = sc_client_lookup(w->a, SC_BY_SESSION, "sc1", false, NULL, NULL, 0);
    }
    assert_int_equal(n, 0);
    assert_int_equal(sc_client_lookup(w->a, SC_BY_USER, "alice", false, on_loc, &f, 0), 0 + f.n);
    for (int i = 0; i < f.n; i++)
        assert_string_not_equal(f.nodes[i], "node-c");
}

/* A sidecastd killed and started again on the same socket: its app registers
 * the same socket ids, sessions and users on the new node. Reaping the dead
 * node must not take the new node's entries with it. */
static void test_restarted_node_keeps_moved_sessions(void **state)
{
    world *w = *state;
    daemon_t *nd = node_start(w->redis, "node-d", NULL);
    recorder rd = {0};
    sc_client *d = app_open(nd, "app-d", &rd);
    assert_int_equal(sc_client_socket_up(d, "m1", "sm1", "mover", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_sync(d, 0), 0);
    /* the sync says node d has it; its directory write to Redis may still be
     * on the way (a node just started may not be connected yet): bounded wait */
    int n = 0;
    for (int i = 0; i < 200 && n != 1; i++) {
        n = sc_client_lookup(w->a, SC_BY_SESSION, "sm1", false, NULL, NULL, 0);
        if (n != 1)
            usleep(25000);
    }
    assert_int_equal(n, 1);
    /* any survivor may be the one that reaps it: count them all */
    uint64_t reaped = stat_of(w->a, "dead_nodes_reaped") + stat_of(w->b, "dead_nodes_reaped") +
                      stat_of(w->c, "dead_nodes_reaped");

    daemon_kill(nd);
    sc_client_close(d);
    daemon_restart(nd);
    d = app_open(nd, "app-d", &rd);
    assert_int_equal(sc_client_socket_up(d, "m1", "sm1", "mover", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_sync(d, 0), 0);
    /* the old node's liveness expires and a survivor reaps it */
    uint64_t now = reaped;
    for (int i = 0; i < 800 && now == reaped; i++) { /* 20 s: valgrind is slow */
        usleep(25000);
        now = stat_of(w->a, "dead_nodes_reaped") + stat_of(w->b, "dead_nodes_reaped") +
              stat_of(w->c, "dead_nodes_reaped") + stat_of(d, "dead_nodes_reaped");
    }
    assert_true(now > reaped);
    found f = {0};
    assert_int_equal(sc_client_lookup(w->a, SC_BY_SESSION, "sm1", false, on_loc, &f, 0), 1);
    assert_string_equal(f.ids[0], "m1");
    assert_string_equal(f.nodes[0], "node-d");
    sc_presence p;
    assert_int_equal(sc_client_presence(w->b, "mover", &p, 0), 0);
    assert_int_equal(p.sockets, 1);
    sc_client_close(d);
    daemon_free(nd);
}

/* ---- standalone --------------------------------------------------------------------- */

/* Run sidecastctl against d; its stdout into out. */
static void ctl(daemon_t *d, const char *args, char *out, size_t len)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "%s -s %s %s", SC_SIDECASTCTL_PATH, d->sock, args);
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, len - 1, p);
    out[n] = 0;
    assert_int_equal(pclose(p), 0);
}

static void test_standalone(void **state)
{
    daemon_t *d = daemon_start("--session-grace-ms", "300", "--advertise-address", "me:1", NULL);
    recorder r1, r2;
    sc_client *a = app_open(d, "w1", &r1);
    sc_client *b = app_open(d, "w2", &r2);
    assert_int_equal(sc_client_socket_up(a, "x1", "s1", "u1", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_socket_up(b, "x2", "s2", "u1", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_sync(a, 0), 0);
    assert_int_equal(sc_client_sync(b, 0), 0);
    found f = {0};
    assert_int_equal(sc_client_lookup(a, SC_BY_SESSION, "s2", false, on_loc, &f, 0), 1);
    assert_string_equal(f.ids[0], "x2");
    assert_string_equal(f.addrs[0], "me:1");
    assert_true(f.local[0]);
    sc_presence p;
    assert_int_equal(sc_client_presence(a, "u1", &p, 0), 0);
    assert_int_equal(p.sockets, 2);
    sc_target t = {.user_ids = LIST("u1")};
    assert_int_equal(sc_client_emit(a, &t, NULL, (const uint8_t *)"u", 1), 0);
    assert_int_equal(sc_client_sync(a, 0), 0);
    rec_wait_frames(b, &r2, 1, 2000);
    assert_int_equal(rec_count(&r2, "x2"), 1);
    assert_int_equal(r1.sockets, 0);

    /* the same through sidecastctl */
    char out[4096];
    ctl(d, "presence u1", out, sizeof(out));
    assert_non_null(strstr(out, "u1: online, 2 socket(s) on 1 node(s)"));
    ctl(d, "--json lookup session s2", out, sizeof(out));
    assert_non_null(strstr(out, "\"socket\":\"x2\""));
    assert_non_null(strstr(out, "\"address\":\"me:1\""));
    ctl(d, "session set s1 color=blue size=9", out, sizeof(out));
    ctl(d, "session set s1 -size", out, sizeof(out));
    ctl(d, "session get s1", out, sizeof(out));
    assert_string_equal(out, "color=blue\n");
    ctl(d, "apply --user u1 --join vip", out, sizeof(out));
    assert_non_null(strstr(out, "applied"));
    app_drain(a, 100);
    app_drain(b, 100);
    assert_int_equal(sc_client_sync(a, 0), 0);
    assert_int_equal(sc_client_sync(b, 0), 0);
    assert_int_equal(stat_of(a, "room_memberships"), 2); /* x1 and x2 joined vip */

    /* two sockets of one session (two namespaces): the first going keeps
     * the session, its data does not expire */
    sc_session_entry e[] = {{"k", (const uint8_t *)"v", 1}};
    assert_int_equal(sc_client_socket_up(a, "y1", "s3", "", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_socket_up(a, "y2", "s3", "", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_session_set(a, "s3", e, 1, NULL, 0, 0), 0);
    assert_int_equal(sc_client_socket_down(a, "y1"), 0);
    assert_int_equal(sc_client_sync(a, 0), 0);
    memset(&f, 0, sizeof(f));
    assert_int_equal(sc_client_lookup(b, SC_BY_SESSION, "s3", false, on_loc, &f, 0), 1);
    assert_string_equal(f.ids[0], "y2");
    usleep(600 * 1000);
    bool connected = false;
    assert_int_equal(sc_client_session_get(b, "s3", NULL, NULL, &connected, 0), 1);
    assert_true(connected);
    assert_int_equal(sc_client_socket_down(a, "y2"), 0);
    assert_int_equal(sc_client_sync(a, 0), 0);

    assert_int_equal(sc_client_session_set(b, "s2", e, 1, NULL, 0, 0), 0);
    assert_int_equal(sc_client_socket_down(b, "x2"), 0);
    assert_int_equal(sc_client_sync(b, 0), 0);
    assert_int_equal(sc_client_session_get(a, "s2", NULL, NULL, NULL, 0), 1);
    usleep(600 * 1000);
    assert_int_equal(sc_client_session_get(a, "s2", NULL, NULL, NULL, 0), 0);
    assert_int_equal(stat_of(a, "sessions_expired"), 2); /* s3's too */
    sc_client_close(a);
    sc_client_close(b);
    daemon_free(d);
}

int main(void)
{
    const struct CMUnitTest cluster[] = {
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_emit_to_user),
        cmocka_unit_test(test_user_wide_apply),
        cmocka_unit_test(test_session_data_and_grace),
        cmocka_unit_test(test_session_over_namespaces),
        cmocka_unit_test(test_restarted_node_keeps_moved_sessions),
        cmocka_unit_test(test_redis_restart_then_node_death),
    };
    const struct CMUnitTest standalone[] = {
        cmocka_unit_test(test_standalone),
    };
    int failed = cmocka_run_group_tests_name("cluster", cluster, setup, teardown);
    failed += cmocka_run_group_tests_name("standalone", standalone, NULL, NULL);
    return failed;
}
