/* Integration: sidecast with nothing but the least-privilege Redis ACL that
 * packaging/README.md documents ("Redis ACL"), on a redis-server whose
 * default user is switched off, so that nothing works without that user.
 *
 * Three nodes go through every path that touches Redis: membership (the
 * heartbeat script), room subscriptions and a room emit, targeted emits (the
 * directory script, then the directory cache), an emit to a user, lookups,
 * session data written on one node and read on another, fetchSockets,
 * serverSideEmit and a broadcast with acks, a socket down (its directory
 * entries; its room unsubscribed after the linger), a node SIGKILLed and
 * reaped by a survivor, a node leaving cleanly. Then Redis must have logged
 * no ACL denial (ACL LOG, read as an admin user) and rejected no call, no
 * node may have counted a refused command (redis_errors), and sidecast must
 * have called every command of the rule (INFO commandstats, which counts the
 * scripts' calls too): none is there for nothing. The rule here must be the
 * documented one, word for word, and must allow every command the Lua
 * scripts call, including those of paths a test rarely reaches.
 *
 * The negative cases show that the test sees a missing permission: the rule
 * without +evalsha (refused, logged, counted, and the node's liveness
 * lapses), and a redis_url naming database 1 without +select. With
 * IT_ACL_DROP=<command> the full scenario runs with that command taken out
 * of the rule and must then fail: how each command was shown to be needed.
 *
 * The admin connection uses only commands outside the rule (ACL, AUTH,
 * CONFIG RESETSTAT, INFO, PUBSUB, TYPE, HMGET, SCARD, SELECT), so the
 * commandstats of the rule's commands are sidecast's alone. Every wait is
 * bounded and synchronised on state (counters, PUBSUB NUMSUB, keys);
 * loopback only; only processes the test started are signalled. */
#include "harness.h"

#include <hiredis/hiredis.h>

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <dirent.h>
#include <unistd.h>

#ifndef SC_SOURCE_DIR
#error "SC_SOURCE_DIR must point at the source tree (packaging/README.md)"
#endif

#define LIST(...)                                                                                  \
    (const char *const[]){__VA_ARGS__}, sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *)

/* The rule, exactly as packaging/README.md gives it (test_rule_is_documented). */
static const char RULE[] =
    "ACL SETUSER sidecast on >PASSWORD resetkeys resetchannels ~sidecast:* &sidecast:* -@all "
    "+ping +subscribe +unsubscribe +publish +script|load +eval +evalsha +get +set +exists +del "
    "+persist +pexpire +hget +hset +hdel +hexists +hgetall +hscan +sadd +srem +sismember +smembers";

#define PW "acl-test-pw"
#define ADMIN_PW "acl-admin-pw"

/* Poll the open apps until cond holds or ms pass; returns cond. */
#define WAIT_FOR(w, cond, ms)                                                                      \
    ({                                                                                             \
        uint64_t end_ = now_ms_h() + (ms);                                                         \
        while (!(cond) && now_ms_h() < end_)                                                       \
            poll_apps(w, 5);                                                                       \
        (cond);                                                                                    \
    })

typedef struct world {
    redis_srv *r;
    redisContext *adm;
    daemon_t *na, *nb, *nc;
    sc_client *a, *b, *c;
    recorder ra, rb, rc;
} world;

static void poll_apps(world *w, int ms)
{
    sc_client *apps[] = {w->a, w->b, w->c};
    for (size_t i = 0; i < 3; i++)
        if (apps[i])
            sc_client_poll(apps[i], ms);
    if (!w->a && !w->b && !w->c)
        usleep((useconds_t)ms * 1000);
}

/* ---- Redis, as the admin user ---------------------------------------------------- */

static redisContext *connect_plain(const redis_srv *r)
{
    struct timeval tv = {5, 0};
    redisContext *ctx = redisConnectWithTimeout("127.0.0.1", r->port, tv);
    assert_non_null(ctx);
    assert_int_equal(ctx->err, 0);
    redisSetTimeout(ctx, tv);
    return ctx;
}

static void expect_ok(redisReply *rep, const char *what)
{
    if (!rep || rep->type == REDIS_REPLY_ERROR)
        fprintf(stderr, "%s: %s\n", what, rep ? rep->str : "no reply");
    assert_non_null(rep);
    assert_int_not_equal(rep->type, REDIS_REPLY_ERROR);
    freeReplyObject(rep);
}

/* A command as the admin; asserts it succeeded. Caller frees. */
static redisReply *adm(world *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *rep = redisvCommand(w->adm, fmt, ap);
    va_end(ap);
    if (!rep || rep->type == REDIS_REPLY_ERROR)
        fprintf(stderr, "admin %s: %s\n", fmt, rep ? rep->str : w->adm->errstr);
    assert_non_null(rep);
    assert_int_not_equal(rep->type, REDIS_REPLY_ERROR);
    return rep;
}

/* TYPE of a key: "none" when it does not exist. */
static bool key_is(world *w, const char *key, const char *type)
{
    redisReply *rep = adm(w, "TYPE %s", key);
    bool is = strcmp(rep->str, type) == 0;
    freeReplyObject(rep);
    return is;
}

/* Whether field f of hash key exists (HMGET: HEXISTS is the rule's). */
static bool field_exists(world *w, const char *key, const char *f)
{
    redisReply *rep = adm(w, "HMGET %s %s", key, f);
    bool there = rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
                 rep->element[0]->type != REDIS_REPLY_NIL;
    freeReplyObject(rep);
    return there;
}

static long long numsub(world *w, const char *channel)
{
    redisReply *rep = adm(w, "PUBSUB NUMSUB %s", channel);
    long long n = rep->elements == 2 ? rep->element[1]->integer : -1;
    freeReplyObject(rep);
    return n;
}

/* The ACL rule as argv for ACL SETUSER: PASSWORD filled in, "+drop" left
 * out (it must be in the rule), extra appended. */
static void apply_rule(world *w, const char *drop, const char *extra)
{
    char *copy = strdup(RULE), *save = NULL, pw[64], dropped[64];
    snprintf(pw, sizeof(pw), ">%s", PW);
    snprintf(dropped, sizeof(dropped), "+%s", drop ? drop : "");
    const char *argv[64];
    size_t lens[64];
    int n = 0, hits = 0;
    for (char *t = strtok_r(copy, " ", &save); t && n < 63; t = strtok_r(NULL, " ", &save)) {
        if (drop && strcmp(t, dropped) == 0) {
            hits++;
            continue;
        }
        argv[n] = strcmp(t, ">PASSWORD") == 0 ? pw : t;
        lens[n] = strlen(argv[n]);
        n++;
    }
    if (drop)
        assert_int_equal(hits, 1);
    if (extra) {
        argv[n] = extra;
        lens[n] = strlen(extra);
        n++;
    }
    expect_ok(redisCommandArgv(w->adm, n, argv, lens), "ACL SETUSER sidecast");
    free(copy);
}

/* A fresh redis-server where only two users exist: admin (for the test)
 * and sidecast with the rule. The default user is off: an unauthenticated
 * connection can do nothing. Nodes started after this use the sidecast user. */
static void lock_down(world *w, const char *drop, const char *extra)
{
    w->r = redis_start();
    w->adm = connect_plain(w->r);
    /* still the default user here (no password, every command) */
    expect_ok(redisCommand(w->adm, "ACL SETUSER admin on >%s ~* &* +@all", ADMIN_PW),
              "ACL SETUSER admin");
    expect_ok(redisCommand(w->adm, "AUTH admin %s", ADMIN_PW), "AUTH admin");
    apply_rule(w, drop, extra);
    expect_ok(redisCommand(w->adm, "ACL SETUSER default off"), "ACL SETUSER default off");
    redisContext *anon = connect_plain(w->r);
    redisReply *rep = redisCommand(anon, "DBSIZE");
    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_ERROR);
    assert_non_null(strstr(rep->str, "NOAUTH"));
    freeReplyObject(rep);
    redisFree(anon);
    freeReplyObject(adm(w, "ACL LOG RESET"));
    freeReplyObject(adm(w, "CONFIG RESETSTAT"));
    snprintf(w->r->url, sizeof(w->r->url), "redis://sidecast:%s@127.0.0.1:%d", PW, w->r->port);
}

/* One field of an ACL LOG entry (a flat key/value array), or "". */
static const char *entry_field(const redisReply *e, const char *name)
{
    for (size_t i = 0; e->type == REDIS_REPLY_ARRAY && i + 1 < e->elements; i += 2)
        if (e->element[i]->type == REDIS_REPLY_STRING && strcmp(e->element[i]->str, name) == 0)
            return e->element[i + 1]->type == REDIS_REPLY_STRING ? e->element[i + 1]->str : "";
    return "";
}

/* ACL LOG: the number of entries (each printed), and how many of them are
 * sidecast's user refused `object` (NULL: none counted). */
static size_t acl_log(world *w, const char *object, size_t *ret_matching)
{
    redisReply *rep = adm(w, "ACL LOG");
    assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
    size_t n = rep->elements, match = 0;
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = rep->element[i];
        fprintf(stderr, "ACL LOG: reason=%s context=%s object=%s username=%s\n",
                entry_field(e, "reason"), entry_field(e, "context"), entry_field(e, "object"),
                entry_field(e, "username"));
        match += object && strcmp(entry_field(e, "object"), object) == 0 &&
                 strcmp(entry_field(e, "username"), "sidecast") == 0;
    }
    freeReplyObject(rep);
    if (ret_matching)
        *ret_matching = match;
    return n;
}

/* calls and rejected_calls of one command in INFO commandstats (0 if never). */
static void cmdstat(const char *info, const char *cmd, long *ret_calls, long *ret_rejected)
{
    char needle[64];
    snprintf(needle, sizeof(needle), "cmdstat_%s:calls=", cmd);
    const char *p = strstr(info, needle);
    *ret_calls = p ? atol(p + strlen(needle)) : 0;
    const char *rj = p ? strstr(p, "rejected_calls=") : NULL;
    const char *eol = p ? strchr(p, '\n') : NULL;
    *ret_rejected = rj && (!eol || rj < eol) ? atol(rj + strlen("rejected_calls=")) : 0;
}

static void stop_world(world *w)
{
    if (w->a)
        sc_client_close(w->a);
    if (w->b)
        sc_client_close(w->b);
    if (w->c)
        sc_client_close(w->c);
    w->a = w->b = w->c = NULL;
    if (w->na)
        daemon_free(w->na);
    if (w->nb)
        daemon_free(w->nb);
    if (w->nc)
        daemon_free(w->nc);
    w->na = w->nb = w->nc = NULL;
    redisFree(w->adm);
    redis_free(w->r);
}

static bool readyz(daemon_t *d)
{
    char body[256];
    return http_get(daemon_http_port(d), "/readyz", body, sizeof(body)) == 200;
}

/* Ordering barrier: a server-side emit from a travels after everything a
 * published before it, and reaches b and c in that order too. */
static void barrier(world *w)
{
    unsigned b0 = w->rb.server_msgs, c0 = w->rc.server_msgs;
    assert_int_equal(
        sc_client_server_emit(w->a, (const uint8_t *)"barrier", 7, false, NULL, NULL, 0), 0);
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    assert_true(WAIT_FOR(w, w->rb.server_msgs == b0 + 1 && w->rc.server_msgs == c0 + 1, 20000));
    w->rb.server_msgs = b0;
    w->rc.server_msgs = c0;
}

static void reset_recs(world *w)
{
    rec_reset(&w->ra);
    rec_reset(&w->rb);
    rec_reset(&w->rc);
}

/* Wait (bounded) until c's counter `name` reaches at least v. */
static uint64_t wait_stat(world *w, sc_client *c, const char *name, uint64_t v)
{
    uint64_t got = 0;
    WAIT_FOR(w, (got = stat_of(c, name)) >= v, 15000);
    return got;
}

/* Answers come from the apps b and c while a blocks in its call. */
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

static void pump_start(pump *p, world *w)
{
    p->w = w;
    p->stop = 0;
    pthread_create(&p->th, NULL, pump_main, p);
}

static void pump_stop(pump *p)
{
    p->stop = 1;
    pthread_join(p->th, NULL);
}

typedef struct found {
    int n;
    char ids[8][16], nodes[8][32];
} found;

static void on_loc(void *ud, const sc_location *l)
{
    found *f = ud;
    if (f->n < 8) {
        snprintf(f->ids[f->n], 16, "%s", l->socket_id);
        snprintf(f->nodes[f->n], 32, "%s", l->node_name);
        f->n++;
    }
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

static void count_socket(void *ud, const sc_socket_view *s)
{
    (*(int *)ud)++;
}

/* ---- the documented rule ------------------------------------------------------------ */

static void test_rule_is_documented(void **state)
{
    FILE *f = fopen(SC_SOURCE_DIR "/packaging/README.md", "r");
    assert_non_null(f);
    char line[4096];
    bool found_it = false;
    while (!found_it && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = 0;
        found_it = strcmp(line, RULE) == 0;
    }
    fclose(f);
    if (!found_it)
        fprintf(stderr, "packaging/README.md has no line that is exactly:\n%s\n", RULE);
    assert_true(found_it);
}

/* Whether the rule allows command `name` (lower case): a "+name" token. */
static bool rule_allows(const char *name)
{
    char tok[64];
    snprintf(tok, sizeof(tok), "+%s", name);
    size_t len = strlen(tok);
    for (const char *p = strstr(RULE, tok); p; p = strstr(p + 1, tok))
        if (p > RULE && p[-1] == ' ' && (p[len] == ' ' || p[len] == 0))
            return true;
    return false;
}

/* Every command the Lua scripts call is in the rule, including those only
 * a rare path reaches: a script that gains one fails here first. */
static void test_rule_covers_the_scripts(void **state)
{
    DIR *dir = opendir(SC_SOURCE_DIR "/broker/lua");
    assert_non_null(dir);
    int files = 0, calls = 0, missing = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        size_t nl = strlen(e->d_name);
        if (nl < 5 || strcmp(e->d_name + nl - 4, ".lua") != 0)
            continue;
        files++;
        char path[512];
        snprintf(path, sizeof(path), SC_SOURCE_DIR "/broker/lua/%s", e->d_name);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        char line[4096];
        while (fgets(line, sizeof(line), f)) {
            for (const char *p = strstr(line, "redis."); p; p = strstr(p + 1, "redis.")) {
                const char *q = p + 6;
                if (strncmp(q, "call('", 6) == 0)
                    q += 6;
                else if (strncmp(q, "pcall('", 7) == 0)
                    q += 7;
                else
                    continue;
                char name[32];
                size_t n = 0;
                for (; n < sizeof(name) - 1 && q[n] && q[n] != '\''; n++)
                    name[n] = (char)tolower((unsigned char)q[n]);
                name[n] = 0;
                calls++;
                if (!rule_allows(name)) {
                    fprintf(stderr, "%s calls %s, which the rule does not allow\n", e->d_name,
                            name);
                    missing++;
                }
            }
        }
        fclose(f);
    }
    closedir(dir);
    assert_true(files >= 8);
    assert_true(calls > 0);
    assert_int_equal(missing, 0);
}

/* ---- every path, nothing refused ---------------------------------------------------- */

static void test_every_path_under_the_acl(void **state)
{
    const char *drop = getenv("IT_ACL_DROP");
    world w = {0};
    lock_down(&w, drop && drop[0] ? drop : NULL, NULL);
    w.na = node_start(w.r, "node-a", "--node-ttl-ms", "2000", NULL);
    w.nb = node_start(w.r, "node-b", "--node-ttl-ms", "2000", NULL);
    w.nc = node_start(w.r, "node-c", "--node-ttl-ms", "2000", NULL);
    w.a = app_open(w.na, "app-a", &w.ra);
    w.b = app_open(w.nb, "app-b", &w.rb);
    w.c = app_open(w.nc, "app-c", &w.rc);
    assert_int_equal(sc_client_socket_up(w.a, "a1", "sa1", "alice", NULL, 0, LIST("r1")), 0);
    assert_int_equal(sc_client_socket_up(w.b, "b1", "sb1", "alice", NULL, 0, LIST("r1")), 0);
    assert_int_equal(sc_client_socket_up(w.b, "b2", "sb2", "bob", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_socket_up(w.c, "c1", "sc1", "carol", NULL, 0, LIST("r1")), 0);
    assert_int_equal(sc_client_sync(w.a, 0), 0);
    assert_int_equal(sc_client_sync(w.b, 0), 0);
    assert_int_equal(sc_client_sync(w.c, 0), 0);
    char *ida = strdup(sc_client_node_id(w.a)), *idb = strdup(sc_client_node_id(w.b)),
         *idc = strdup(sc_client_node_id(w.c));

    /* membership: the heartbeat script; every node sees all three, ready */
    assert_int_equal(wait_nodes(w.a, 3, 10000), 3);
    assert_int_equal(wait_nodes(w.b, 3, 10000), 3);
    assert_int_equal(wait_nodes(w.c, 3, 10000), 3);
    assert_true(WAIT_FOR(&w, readyz(w.na) && readyz(w.nb) && readyz(w.nc), 10000));

    /* a room emit across nodes, once every node's subscription is in */
    assert_true(WAIT_FOR(&w, numsub(&w, "sidecast:room:r1") == 3, 10000));
    reset_recs(&w);
    sc_target room = {.rooms = LIST("r1")};
    assert_int_equal(sc_client_emit(w.a, &room, NULL, (const uint8_t *)"room", 4), 0);
    assert_int_equal(sc_client_sync(w.a, 0), 0);
    barrier(&w);
    assert_int_equal(rec_count(&w.rb, "b1"), 1);
    assert_int_equal(rec_count(&w.rc, "c1"), 1);
    assert_int_equal(w.rb.frames, 1);
    assert_int_equal(w.rc.frames, 1);
    assert_int_equal(w.ra.sockets, 0); /* the sender's own: not by default */

    /* a targeted emit to a socket on another node: the directory script
     * first (it fills a's cache), then straight to the node's channel */
    reset_recs(&w);
    sc_target tb2 = {.socket_ids = LIST("b2")};
    assert_int_equal(sc_client_emit(w.a, &tb2, NULL, (const uint8_t *)"t1", 2), 0);
    assert_int_equal(sc_client_sync(w.a, 0), 0);
    assert_int_equal(wait_stat(&w, w.a, "dircache_filled", 1), 1);
    assert_int_equal(sc_client_emit(w.a, &tb2, NULL, (const uint8_t *)"t2", 2), 0);
    assert_int_equal(sc_client_sync(w.a, 0), 0);
    barrier(&w);
    assert_int_equal(rec_count(&w.rb, "b2"), 2);
    assert_int_equal(w.rb.frames, 2);
    assert_int_equal(w.rc.frames, 0);
    assert_int_equal(stat_of(w.a, "dircache_misses"), 1);
    assert_int_equal(stat_of(w.a, "dircache_hits"), 1);

    /* an emit to a user: the script reads the user's set */
    reset_recs(&w);
    sc_target alice = {.user_ids = LIST("alice")};
    assert_int_equal(sc_client_emit(w.c, &alice, NULL, (const uint8_t *)"u", 1), 0);
    assert_int_equal(sc_client_sync(w.c, 0), 0);
    assert_true(WAIT_FOR(&w, w.ra.frames == 1 && w.rb.frames == 1, 10000));
    barrier(&w); /* a's own emit: after c's, nothing more came */
    assert_int_equal(rec_count(&w.ra, "a1"), 1);
    assert_int_equal(rec_count(&w.rb, "b1"), 1);
    assert_int_equal(w.ra.frames, 1);
    assert_int_equal(w.rb.frames, 1);

    /* lookups: by session id from another node, by user */
    found f = {0};
    assert_int_equal(sc_client_lookup(w.c, SC_BY_SESSION, "sb1", false, on_loc, &f, 0), 1);
    assert_string_equal(f.ids[0], "b1");
    assert_string_equal(f.nodes[0], "node-b");
    memset(&f, 0, sizeof(f));
    assert_int_equal(sc_client_lookup(w.a, SC_BY_USER, "alice", false, on_loc, &f, 0), 2);
    assert_int_equal(sc_client_lookup(w.a, SC_BY_SOCKET, "c1", false, NULL, NULL, 0), 1);

    /* session data: written on a, read and changed on c, for b's session */
    sc_session_entry set[] = {{"theme", (const uint8_t *)"dark", 4},
                              {"lang", (const uint8_t *)"fr", 2}};
    assert_int_equal(sc_client_session_set(w.a, "sb1", set, 2, NULL, 0, 0), 0);
    kv k = {0};
    bool connected = false;
    assert_int_equal(sc_client_session_get(w.c, "sb1", on_kv, &k, &connected, 0), 2);
    assert_true(connected);
    assert_int_equal(sc_client_session_set(w.c, "sb1", NULL, 0, LIST("lang"), 0), 0);
    memset(&k, 0, sizeof(k));
    assert_int_equal(sc_client_session_get(w.a, "sb1", on_kv, &k, NULL, 0), 1);
    assert_string_equal(k.keys[0], "theme");
    assert_string_equal(k.vals[0], "dark");

    /* fetchSockets across nodes */
    int nsock = 0;
    assert_int_equal(sc_client_fetch_sockets(w.a, NULL, true, true, count_socket, &nsock, 0), 0);
    assert_int_equal(nsock, 4);

    /* serverSideEmit with ack, and a broadcast with acks */
    answers ans = {0};
    pump p;
    pump_start(&p, &w);
    int rc = sc_client_server_emit(w.a, (const uint8_t *)"ping", 4, false, answers_on_progress,
                                   &ans, 5000);
    answers room_ans = {0};
    int rc2 = sc_client_emit_with_ack(w.a, &room, NULL, (const uint8_t *)"q", 1,
                                      answers_on_progress, &room_ans, 5000);
    pump_stop(&p);
    assert_int_equal(rc, 0);
    assert_true(ans.done);
    assert_false(ans.timed_out);
    assert_int_equal(ans.n, 2);
    assert_true(answers_has(&ans, "ack-from-app-b"));
    assert_true(answers_has(&ans, "ack-from-app-c"));
    assert_int_equal(rc2, 0);
    assert_true(room_ans.done);
    assert_false(room_ans.timed_out);
    assert_int_equal(room_ans.n, 2);
    assert_true(answers_has(&room_ans, "b1"));
    assert_true(answers_has(&room_ans, "c1"));

    /* a socket down: its entries go, its session data starts its grace
     * period, and node b, left without members of r1, unsubscribes */
    uint64_t unsub0 = stat_of(w.b, "room_unsubscribes");
    assert_int_equal(sc_client_socket_down(w.b, "b1"), 0);
    assert_int_equal(sc_client_sync(w.b, 0), 0);
    assert_true(WAIT_FOR(&w, !field_exists(&w, "sidecast:sessions", "sb1"), 10000));
    assert_false(field_exists(&w, "sidecast:sockets", "b1"));
    assert_int_equal(sc_client_lookup(w.a, SC_BY_SESSION, "sb1", false, NULL, NULL, 0), 0);
    assert_int_equal(sc_client_session_get(w.a, "sb1", NULL, NULL, &connected, 0), 1);
    assert_false(connected);
    assert_true(WAIT_FOR(&w, numsub(&w, "sidecast:room:r1") == 2, 10000));
    assert_int_equal(wait_stat(&w, w.b, "room_unsubscribes", unsub0 + 1), unsub0 + 1);

    /* nothing refused so far on any node */
    assert_int_equal(stat_of(w.a, "redis_errors"), 0);
    assert_int_equal(stat_of(w.b, "redis_errors"), 0);
    assert_int_equal(stat_of(w.c, "redis_errors"), 0);

    /* node b killed: a survivor's heartbeat reaps it, exactly once */
    char key[160];
    daemon_kill(w.nb);
    sc_client_close(w.b);
    w.b = NULL;
    assert_int_equal(wait_nodes(w.a, 2, 15000), 2);
    assert_int_equal(wait_nodes(w.c, 2, 15000), 2);
    snprintf(key, sizeof(key), "sidecast:nodesock:%s", idb);
    assert_true(WAIT_FOR(&w, key_is(&w, key, "none"), 10000));
    assert_false(field_exists(&w, "sidecast:sockets", "b2"));
    snprintf(key, sizeof(key), "sidecast:ver:%s", idb);
    assert_true(key_is(&w, key, "none"));
    assert_int_equal(stat_of(w.a, "dead_nodes_reaped") + stat_of(w.c, "dead_nodes_reaped"), 1);

    /* node c leaves cleanly: its entries are gone when it has stopped */
    assert_int_equal(stat_of(w.c, "redis_errors"), 0);
    sc_client_close(w.c);
    w.c = NULL;
    assert_int_equal(daemon_stop(w.nc), 0);
    assert_true(daemon_log_contains(w.nc, "leaving the cluster"));
    snprintf(key, sizeof(key), "sidecast:alive:%s", idc);
    assert_true(key_is(&w, key, "none"));
    snprintf(key, sizeof(key), "sidecast:ver:%s", idc);
    assert_true(key_is(&w, key, "none"));
    snprintf(key, sizeof(key), "sidecast:nodesock:%s", idc);
    assert_true(key_is(&w, key, "none"));
    assert_false(field_exists(&w, "sidecast:sockets", "c1"));
    redisReply *rep = adm(&w, "SCARD sidecast:nodes");
    assert_int_equal(rep->integer, 1);
    freeReplyObject(rep);
    assert_int_equal(wait_nodes(w.a, 1, 10000), 1);
    snprintf(key, sizeof(key), "sidecast:alive:%s", ida);
    assert_true(key_is(&w, key, "string"));
    assert_int_equal(stat_of(w.a, "redis_errors"), 0);

    /* Redis refused nothing, and every command of the rule was used */
    size_t entries = acl_log(&w, NULL, NULL);
    assert_int_equal(entries, 0);
    rep = adm(&w, "INFO commandstats");
    char *info = strdup(rep->str);
    freeReplyObject(rep);
    char *copy = strdup(RULE), *save = NULL;
    int ncmds = 0, unused = 0;
    for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (t[0] != '+')
            continue;
        long calls, rejected;
        cmdstat(info, t + 1, &calls, &rejected);
        ncmds++;
        if (calls == 0 || rejected != 0) {
            fprintf(stderr, "%s: calls=%ld rejected_calls=%ld\n", t + 1, calls, rejected);
            unused++;
        }
    }
    assert_int_equal(ncmds, drop && drop[0] ? 22 : 23);
    assert_int_equal(unused, 0);
    /* and no command at all was rejected (ACL, arity, unknown...) */
    long rejected_all = 0;
    for (const char *q = strstr(info, "rejected_calls="); q; q = strstr(q + 1, "rejected_calls="))
        rejected_all += atol(q + strlen("rejected_calls="));
    assert_int_equal(rejected_all, 0);
    free(copy);
    free(info);
    free(ida);
    free(idb);
    free(idc);
    stop_world(&w);
}

/* ---- a missing permission is seen ---------------------------------------------------- */

/* Without +evalsha: the first script calls of a connection go as EVAL and
 * work, every later one is refused. sidecast says so in its log and its
 * counters, Redis's ACL LOG names the command, and the node's liveness key
 * lapses although the process runs: it has fallen out of the cluster, and
 * /readyz says why. */
static void test_missing_evalsha_is_seen(void **state)
{
    world w = {0};
    lock_down(&w, "evalsha", NULL);
    w.na = node_start(w.r, "node-x", NULL);
    w.a = app_open(w.na, "app-x", &w.ra);
    assert_int_equal(sc_client_socket_up(w.a, "x1", "sx1", "", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_sync(w.a, 0), 0);
    assert_true(wait_log(w.na,
                         "redis refused a command: NOPERM this user has no permissions to run the "
                         "'evalsha' command",
                         10000));
    assert_true(wait_stat(&w, w.a, "redis_errors", 1) >= 1);
    char key[160];
    snprintf(key, sizeof(key), "sidecast:alive:%s", sc_client_node_id(w.a));
    assert_true(WAIT_FOR(&w, key_is(&w, key, "none"), 10000));
    /* and /readyz says so: no heartbeat renewed the liveness past node_ttl_ms */
    char body[512] = "";
    assert_true(WAIT_FOR(&w, http_get(daemon_http_port(w.na), "/readyz", body, sizeof(body)) == 503,
                         10000));
    assert_non_null(strstr(body, "no heartbeat renewed this node's liveness"));
    size_t evalsha = 0, entries = acl_log(&w, "evalsha", &evalsha);
    assert_true(entries >= 1);
    assert_int_equal(evalsha, entries); /* nothing but EVALSHA was refused */
    stop_world(&w);
}

/* A redis_url naming a database needs +select on top of the rule: refused
 * (sidecast says which), then accepted once the user may select. */
static void test_select_needs_its_permission(void **state)
{
    world w = {0};
    lock_down(&w, NULL, NULL);
    char url[sizeof(w.r->url) + 8];
    snprintf(url, sizeof(url), "%s/1", w.r->url);
    w.na = node_start(w.r, "node-db1", "--redis-url", url, NULL);
    w.a = app_open(w.na, "app-db1", &w.ra);
    assert_true(wait_log(w.na, "AUTH/SELECT refused: NOPERM", 10000));
    assert_false(daemon_log_contains(w.na, PW));
    size_t select = 0, entries = acl_log(&w, "select", &select);
    assert_true(entries >= 1);
    assert_int_equal(select, entries);
    /* a refused SELECT leaves the connection down: nothing was written to
     * database 0 (the PING after the SELECT used to make the connection
     * count as up for one round of writes there) */
    redisReply *db0 = adm(&w, "DBSIZE");
    assert_int_equal(db0->integer, 0);
    freeReplyObject(db0);
    assert_false(readyz(w.na));

    expect_ok(redisCommand(w.adm, "ACL SETUSER sidecast +select"), "ACL SETUSER +select");
    freeReplyObject(adm(&w, "ACL LOG RESET"));
    char key[160];
    snprintf(key, sizeof(key), "sidecast:alive:%s", sc_client_node_id(w.a));
    freeReplyObject(adm(&w, "SELECT 1"));
    assert_true(WAIT_FOR(&w, key_is(&w, key, "string"), 10000));
    freeReplyObject(adm(&w, "SELECT 0"));
    assert_int_equal(wait_nodes(w.a, 1, 10000), 1);
    assert_true(WAIT_FOR(&w, readyz(w.na), 10000));
    assert_int_equal(acl_log(&w, NULL, NULL), 0);
    stop_world(&w);
}

/* The rule without its channel pattern (&sidecast:*): every SUBSCRIBE is
 * refused. The node says so in its log and counters and on /readyz (which
 * used to wait for confirmations forever, in silence), retries, and is
 * ready once the channels are allowed. */
static void test_refused_subscription_is_seen(void **state)
{
    world w = {0};
    lock_down(&w, NULL, NULL);
    expect_ok(redisCommand(w.adm, "ACL SETUSER sidecast resetchannels"), "resetchannels");
    w.na = node_start(w.r, "node-nochan", NULL);
    w.a = app_open(w.na, "app-nochan", &w.ra);
    assert_true(wait_log(w.na, "redis refused a subscription: NOPERM", 10000));
    assert_true(wait_stat(&w, w.a, "redis_errors", 1) >= 1);
    char body[512] = "";
    assert_true(WAIT_FOR(&w, http_get(daemon_http_port(w.na), "/readyz", body, sizeof(body)) == 503,
                         10000));
    assert_non_null(strstr(body, "redis refused a channel subscription: NOPERM"));
    expect_ok(redisCommand(w.adm, "ACL SETUSER sidecast &sidecast:*"), "ACL SETUSER &sidecast:*");
    /* the deadline (redis_command_timeout_ms) recycles the subscriber */
    assert_true(WAIT_FOR(&w, readyz(w.na), 15000));
    stop_world(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_is_documented),
        cmocka_unit_test(test_rule_covers_the_scripts),
        cmocka_unit_test(test_every_path_under_the_acl),
        cmocka_unit_test(test_missing_evalsha_is_seen),
        cmocka_unit_test(test_select_needs_its_permission),
        cmocka_unit_test(test_refused_subscription_is_seen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
