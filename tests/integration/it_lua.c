/* Integration: each Lua script of broker/lua, as embedded in the daemon
 * (lua_scripts.h), run with EVAL on a private redis-server against keys the
 * test writes, checking its answer and the keys and messages it leaves.
 * The cluster suites run them through sidecastd; these pin each script's
 * contract (its header in broker/lua/<name>.lua) on its own. */
#include "harness.h"

#include "cluster.pb-c.h"
#include "lua_scripts.h"

#include <hiredis/hiredis.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

typedef struct lua_world {
    redis_srv *r;
    redisContext *c; /* commands and EVAL */
} lua_world;

static int setup(void **state)
{
    lua_world *w = calloc(1, sizeof(*w));
    w->r = redis_start();
    w->c = redisConnect("127.0.0.1", w->r->port);
    assert_true(w->c && !w->c->err);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    lua_world *w = *state;
    redisFree(w->c);
    redis_free(w->r);
    free(w);
    return 0;
}

/* A command from a format; asserts it was answered, not refused. */
static void cmd(lua_world *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(w->c, fmt, ap);
    va_end(ap);
    assert_non_null(r);
    if (r->type == REDIS_REPLY_ERROR)
        fail_msg("redis refused '%s': %s", fmt, r->str);
    freeReplyObject(r);
}

static long long num(lua_world *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(w->c, fmt, ap);
    va_end(ap);
    assert_true(r && r->type == REDIS_REPLY_INTEGER);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

/* EVAL script with NULL-terminated ARGV; the caller frees the reply. */
static redisReply *eval(lua_world *w, const char *script, ...)
{
    const char *argv[64] = {"EVAL", script, "0"};
    size_t lens[64] = {4, strlen(script), 1};
    int n = 3;
    va_list ap;
    va_start(ap, script);
    for (const char *a; (a = va_arg(ap, const char *)) && n < 64; n++) {
        argv[n] = a;
        lens[n] = strlen(a);
    }
    va_end(ap);
    redisReply *r = redisCommandArgv(w->c, n, argv, lens);
    assert_non_null(r);
    return r;
}

static const char *str_at(const redisReply *r, size_t i)
{
    assert_true(r->type == REDIS_REPLY_ARRAY && i < r->elements);
    return r->element[i]->str ? r->element[i]->str : "";
}

/* ---- targeted.lua ----------------------------------------------------------- */

/* Reads every message on P:node:* (a pattern subscriber of the test's). */
static redisContext *node_listener(lua_world *w)
{
    redisContext *s = redisConnect("127.0.0.1", w->r->port);
    assert_true(s && !s->err);
    struct timeval tv = {5, 0};
    redisSetTimeout(s, tv);
    freeReplyObject(redisCommand(s, "PSUBSCRIBE p:node:*"));
    return s;
}

static Sidecast__Cluster__V1__Envelope *next_envelope(redisContext *s, char *ret_channel)
{
    redisReply *m = NULL;
    assert_int_equal(redisGetReply(s, (void **)&m), REDIS_OK);
    assert_true(m->type == REDIS_REPLY_ARRAY && m->elements == 4); /* pmessage */
    snprintf(ret_channel, 64, "%s", m->element[2]->str);
    Sidecast__Cluster__V1__Envelope *e = sidecast__cluster__v1__envelope__unpack(
        NULL, m->element[3]->len, (const uint8_t *)m->element[3]->str);
    freeReplyObject(m);
    return e;
}

/* An envelope as the script gets it: origin and one byte of body is
 * enough to tell them apart (protobuf: field 1 "o", field 2 seq). */
static void envelope_bytes(char *out, size_t len, uint64_t seq)
{
    Sidecast__Cluster__V1__Envelope e = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    e.origin = (char *)"origin";
    e.seq = seq;
    e.version = 1;
    uint8_t buf[64];
    size_t n = sidecast__cluster__v1__envelope__pack(&e, buf);
    assert_true(n < len);
    memcpy(out, buf, n);
    out[n] = 0; /* no NUL inside: seq < 128 */
}

static void test_targeted(void **state)
{
    lua_world *w = *state;
    cmd(w, "HSET p:sockets s1 nodeA s2 nodeB s3 origin");
    cmd(w, "SADD p:user:u1 s2 s9");
    redisContext *l = node_listener(w);
    char e1[64], e2[64], e3[64];
    envelope_bytes(e1, sizeof(e1), 1);
    envelope_bytes(e2, sizeof(e2), 2);
    envelope_bytes(e3, sizeof(e3), 3);
    /* emit 1: s1 (nodeA), gone (nowhere), s3 (the origin itself);
     * emit 2: user u1 (s2 on nodeB, s9 nowhere), and the private rooms of
     * s2 (nodeB again: one copy) and of nowhere (no loss: not counted);
     * emit 3: s1 again */
    redisReply *r =
        eval(w, sc_lua_targeted, "p", "origin", "1", e1, "3", "0", "0", "s1", "gone", "s3", e2, "0",
             "1", "2", "u1", "s2", "nowhere", e3, "1", "0", "0", "s1", NULL);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    /* report: s1 -> nodeA, s2 -> nodeB (a private room's, for the cache; a
     * user's member is not reported); then 1 listed id found nowhere, 0
     * unreceived */
    assert_int_equal(r->elements, 6);
    assert_string_equal(str_at(r, 0), "s1");
    assert_string_equal(str_at(r, 1), "nodeA");
    assert_string_equal(str_at(r, 2), "s2");
    assert_string_equal(str_at(r, 3), "nodeB");
    assert_int_equal(r->element[4]->integer, 1);
    assert_int_equal(r->element[5]->integer, 0);
    freeReplyObject(r);
    /* nodeA: one PUBLISH with a Batch of emits 1 and 3 (version 1);
     * nodeB: emit 2 as it is */
    bool seen_a = false, seen_b = false;
    for (int i = 0; i < 2; i++) {
        char ch[64];
        Sidecast__Cluster__V1__Envelope *e = next_envelope(l, ch);
        assert_non_null(e);
        if (strcmp(ch, "p:node:nodeA") == 0) {
            seen_a = true;
            assert_int_equal(e->body_case, SIDECAST__CLUSTER__V1__ENVELOPE__BODY_BATCH);
            assert_string_equal(e->origin, "origin");
            assert_int_equal(e->version, 1);
            assert_int_equal(e->batch->n_envelopes, 2);
            assert_memory_equal(e->batch->envelopes[0].data, e1, strlen(e1));
            assert_memory_equal(e->batch->envelopes[1].data, e3, strlen(e3));
        } else {
            seen_b = true;
            assert_string_equal(ch, "p:node:nodeB");
            assert_int_equal(e->seq, 2);
        }
        sidecast__cluster__v1__envelope__free_unpacked(e, NULL);
    }
    assert_true(seen_a && seen_b);
    redisFree(l);
    /* Redis drops the closed listener's subscription when it reads the close */
    uint64_t end = now_ms_h() + 5000;
    while (num(w, "PUBSUB NUMPAT") != 0 && now_ms_h() < end)
        usleep(2000);
    assert_int_equal(num(w, "PUBSUB NUMPAT"), 0);
    /* with nobody subscribed, the PUBLISH reaches no one: counted */
    r = eval(w, sc_lua_targeted, "p", "origin", "0", e1, "1", "0", "0", "s1", NULL);
    assert_int_equal(r->elements, 2);
    assert_int_equal(r->element[0]->integer, 0);
    assert_int_equal(r->element[1]->integer, 1);
    freeReplyObject(r);
    /* a private room's copy goes only to a node that advertises private
     * rooms (bit 4 of P:ver:<node>): s4's node does not, s1's does */
    cmd(w, "HSET p:sockets s4 nodeC");
    cmd(w, "SET p:ver:nodeA 1:7");
    cmd(w, "SET p:ver:nodeC 1:3");
    r = eval(w, sc_lua_targeted, "p", "origin", "0", e1, "0", "0", "2", "s4", "s1", NULL);
    assert_int_equal(r->elements, 2);
    assert_int_equal(r->element[0]->integer, 0);
    assert_int_equal(r->element[1]->integer, 1); /* one PUBLISH, to nodeA */
    freeReplyObject(r);
}

/* ---- directory.lua through forget.lua and unregister.lua ----------------------- */

static void directory_of(lua_world *w, const char *node)
{
    /* a1: session sa, user ua; a2: session sb; b1 moved to another node */
    cmd(w, "HSET p:sockets a1 %s a2 %s b1 other", node, node);
    cmd(w, "HSET p:nodesock:%s a1 2:saua a2 2:sb b1 0: %b 0:", node, "", (size_t)0);
    cmd(w, "HSET p:sessions sa a1 sb a2");
    cmd(w, "SADD p:user:ua a1");
    cmd(w, "HSET p:sdata:sa k v");
    cmd(w, "HSET p:sdata:sb k v");
}

static void test_forget(void **state)
{
    lua_world *w = *state;
    directory_of(w, "n1");
    redisReply *r = eval(w, sc_lua_forget, "p", "n1", "0", "1000", NULL);
    assert_int_equal(r->integer, 1);
    freeReplyObject(r);
    assert_int_equal(num(w, "HEXISTS p:sockets a1"), 0);
    assert_int_equal(num(w, "HEXISTS p:sockets a2"), 0);
    assert_int_equal(num(w, "HEXISTS p:sockets b1"), 1); /* another node's now */
    assert_int_equal(num(w, "EXISTS p:nodesock:n1"), 0);
    assert_int_equal(num(w, "HLEN p:sessions"), 0);
    assert_int_equal(num(w, "EXISTS p:user:ua"), 0);
    assert_int_equal(num(w, "EXISTS p:sdata:sa"), 0); /* grace 0: data goes at once */
}

/* A directory larger than the budget goes in several calls, each
 * answering 0 until the last; nothing of it is left then. */
static void test_forget_chunked(void **state)
{
    lua_world *w = *state;
    for (int i = 0; i < 600; i++) {
        cmd(w, "HSET p:sockets s%d n1", i);
        cmd(w, "HSET p:nodesock:n1 s%d 0:", i);
    }
    int calls = 0;
    long long gone = 0;
    while (!gone && calls < 50) {
        redisReply *r = eval(w, sc_lua_forget, "p", "n1", "0", "100", NULL);
        gone = r->integer;
        freeReplyObject(r);
        calls++;
    }
    assert_int_equal(gone, 1);
    assert_true(calls >= 2);
    assert_int_equal(num(w, "EXISTS p:nodesock:n1"), 0);
    assert_int_equal(num(w, "HLEN p:sockets"), 0);
}

static void test_unregister(void **state)
{
    lua_world *w = *state;
    directory_of(w, "n1");
    /* a1 goes, a3 (same session, this node) inherits the session */
    redisReply *r = eval(w, sc_lua_unregister, "p", "n1", "a1", "5000", "a3", NULL);
    freeReplyObject(r);
    assert_int_equal(num(w, "HEXISTS p:sockets a1"), 0);
    assert_int_equal(num(w, "HEXISTS p:nodesock:n1 a1"), 0);
    redisReply *s = redisCommand(w->c, "HGET p:sessions sa");
    assert_string_equal(s->str, "a3");
    freeReplyObject(s);
    assert_int_equal(num(w, "SISMEMBER p:user:ua a1"), 0);
    assert_int_equal(num(w, "PTTL p:sdata:sa"), -1); /* the heir keeps it */
    /* a2 goes with no heir: its session ends, its data lasts the grace */
    r = eval(w, sc_lua_unregister, "p", "n1", "a2", "5000", "", NULL);
    freeReplyObject(r);
    assert_int_equal(num(w, "HEXISTS p:sessions sb"), 0);
    long long ttl = num(w, "PTTL p:sdata:sb");
    assert_true(ttl > 0 && ttl <= 5000);
    /* an unknown socket: nothing changes */
    r = eval(w, sc_lua_unregister, "p", "n1", "zz", "5000", "", NULL);
    assert_int_equal(r->integer, 1);
    freeReplyObject(r);
    assert_int_equal(num(w, "HEXISTS p:sockets b1"), 1);
}

/* ---- reap.lua ---------------------------------------------------------------- */

static void test_reap(void **state)
{
    lua_world *w = *state;
    /* a dead node (listed, no liveness) with a directory; a live old node
     * (liveness, no version record) */
    directory_of(w, "dead");
    cmd(w, "SADD p:nodes dead old");
    cmd(w, "SET p:alive:old 3:old PX 60000");
    cmd(w, "SET p:ver:dead 1:3");
    /* first heartbeat of node me: nothing of it there yet */
    redisReply *r = eval(w, sc_lua_reap, "p", "0", "me", "2:me10.0.0.1:80", "60000", "1:3", NULL);
    /* triples for old and me (any order), then reaped 1, then flags */
    assert_int_equal(r->elements, 2 * 3 + 2);
    for (size_t i = 0; i < 6; i += 3) {
        if (strcmp(str_at(r, i), "old") == 0) {
            assert_string_equal(str_at(r, i + 1), "3:old");
            assert_string_equal(str_at(r, i + 2), ""); /* before versioning */
        } else {
            assert_string_equal(str_at(r, i), "me");
            assert_string_equal(str_at(r, i + 1), "2:me10.0.0.1:80");
            assert_string_equal(str_at(r, i + 2), "1:3");
        }
    }
    assert_string_equal(str_at(r, 6), "1");
    assert_string_equal(str_at(r, 7), "000");
    freeReplyObject(r);
    assert_int_equal(num(w, "SISMEMBER p:nodes dead"), 0);
    assert_int_equal(num(w, "EXISTS p:nodesock:dead"), 0);
    assert_int_equal(num(w, "EXISTS p:ver:dead"), 0);
    assert_int_equal(num(w, "HEXISTS p:sockets a1"), 0);
    /* after a directory rewrite (the marker), the next heartbeat finds it whole */
    cmd(w, "HSET p:nodesock:me %b 0:", "", (size_t)0);
    r = eval(w, sc_lua_reap, "p", "0", "me", "2:me10.0.0.1:80", "60000", "1:3", NULL);
    assert_string_equal(str_at(r, r->elements - 1), "111");
    assert_string_equal(str_at(r, r->elements - 2), "0");
    freeReplyObject(r);
    /* the marker gone (a wipe of the directory alone): told */
    cmd(w, "DEL p:nodesock:me");
    r = eval(w, sc_lua_reap, "p", "0", "me", "2:me10.0.0.1:80", "60000", "1:3", NULL);
    assert_string_equal(str_at(r, r->elements - 1), "110");
    freeReplyObject(r);
}

/* A dead node with more entries than one heartbeat's budget: each call
 * drops at least the budget, the node stays listed (not live, not counted
 * reaped) until a call finds nothing left. */
static void test_reap_in_chunks(void **state)
{
    lua_world *w = *state;
    enum { N = 600, BUDGET = 100 }; /* over 128 entries: a real hash table, scanned in parts */
    for (int i = 0; i < N; i++) {
        cmd(w, "HSET p:sockets big%d big", i);
        cmd(w, "HSET p:nodesock:big big%d 0:", i);
    }
    cmd(w, "SADD p:nodes big");
    long long left = N, calls = 0;
    const char *reaped = "0";
    while (strcmp(reaped, "1") != 0 && calls < 2 * N) {
        redisReply *r = eval(w, sc_lua_reap, "p", "0", "me", "2:me", "60000", "1:3", "100", NULL);
        calls++;
        reaped = strcmp(str_at(r, r->elements - 2), "1") == 0 ? "1" : "0";
        freeReplyObject(r);
        long long now = num(w, "HLEN p:nodesock:big");
        if (strcmp(reaped, "0") == 0) {
            assert_true(left - now >= BUDGET); /* at least the budget per call */
            assert_int_equal(num(w, "SISMEMBER p:nodes big"), 1);
        }
        left = now;
    }
    assert_string_equal(reaped, "1");
    assert_true(calls >= 2 && calls <= (N + BUDGET - 1) / BUDGET);
    assert_int_equal(num(w, "EXISTS p:nodesock:big"), 0);
    assert_int_equal(num(w, "SISMEMBER p:nodes big"), 0);
    assert_int_equal(num(w, "HLEN p:sockets"), 0);
}

/* ---- lookup.lua, session_get.lua, session_set.lua ---------------------------- */

static void test_lookup(void **state)
{
    lua_world *w = *state;
    directory_of(w, "n1");
    cmd(w, "SET p:alive:n1 2:n110.0.0.1:80 PX 60000");
    /* b1's node "other" is not live: never returned */
    cmd(w, "SADD p:user:ua b1");
    redisReply *r = eval(w, sc_lua_lookup, "p", "session", "sa", NULL);
    assert_int_equal(r->elements, 4);
    assert_string_equal(str_at(r, 0), "a1");
    assert_string_equal(str_at(r, 1), "n1");
    assert_string_equal(str_at(r, 2), "2:n110.0.0.1:80");
    assert_string_equal(str_at(r, 3), "2:saua");
    freeReplyObject(r);
    r = eval(w, sc_lua_lookup, "p", "user", "ua", NULL);
    assert_int_equal(r->elements, 4); /* a1 only */
    freeReplyObject(r);
    r = eval(w, sc_lua_lookup, "p", "socket", "nosuch", NULL);
    assert_int_equal(r->elements, 0);
    freeReplyObject(r);
}

static void test_session_data(void **state)
{
    lua_world *w = *state;
    directory_of(w, "n1");
    /* connected session: set k2, delete k, within bounds */
    redisReply *r = eval(w, sc_lua_session_set, "p", "sa", "100", "4", "5000", "1", "k", "k2",
                         "v2", NULL);
    assert_int_equal(r->integer, 1);
    freeReplyObject(r);
    r = eval(w, sc_lua_session_get, "p", "sa", NULL);
    assert_int_equal(r->elements, 3);
    assert_int_equal(r->element[0]->integer, 1); /* connected */
    assert_string_equal(str_at(r, 1), "k2");
    assert_string_equal(str_at(r, 2), "v2");
    freeReplyObject(r);
    assert_int_equal(num(w, "PTTL p:sdata:sa"), -1);
    /* over the bound: refused whole, nothing written */
    r = eval(w, sc_lua_session_set, "p", "sa", "10", "4", "5000", "0", "big", "0123456789",
             NULL);
    assert_int_equal(r->type, REDIS_REPLY_ERROR);
    assert_non_null(strstr(r->str, "LIMIT session data would hold 2 keys"));
    freeReplyObject(r);
    assert_int_equal(num(w, "HEXISTS p:sdata:sa big"), 0);
    /* a session no socket holds: its data expires after the grace */
    r = eval(w, sc_lua_session_set, "p", "gone", "100", "4", "5000", "0", "x", "1", NULL);
    freeReplyObject(r);
    long long ttl = num(w, "PTTL p:sdata:gone");
    assert_true(ttl > 0 && ttl <= 5000);
    r = eval(w, sc_lua_session_get, "p", "gone", NULL);
    assert_int_equal(r->element[0]->integer, 0);
    freeReplyObject(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_targeted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forget_chunked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unregister, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reap_in_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_data, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
