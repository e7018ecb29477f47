/* Integration: sidecastd on a Redis Cluster (redis+cluster://). Each test
 * starts a fresh set of three primaries (rcluster_start: with one replica
 * each where a failover is needed, none otherwise) on loopback, and
 * sidecastd nodes given its url (node_start_rcluster), all stopped by pid.
 * Under IT_REDIS_TLS (tls_it_rcluster) the cluster speaks mutual TLS,
 * its bus and replication too, and the sidecars rediss+cluster://.
 *
 * The layout the daemon follows on a Redis Cluster:
 *   - its liveness keys, node list and node and broadcast channels share
 *     one slot, the hash tag {sidecast}: "{sidecast}:node:<node id>",
 *     "{sidecast}:all", received with SSUBSCRIBE on the primary serving
 *     that slot;
 *   - the directory spreads over 64 buckets "{sidecast:<b>}", b the slot
 *     of the socket, session or user id modulo 64: "{sidecast:b}:sockets",
 *     ":sessions", ":sdata:<sid>", ":user:<uid>", ":nodesock:<node id>"
 *     (proto/README.md, Cluster mode);
 *   - a room's channel is "sidecast:room:<room>", in the slot of its whole
 *     name: SSUBSCRIBEd on (and SPUBLISHed to) the primary serving that slot,
 *     by the nodes with members only;
 *   - at most 2 connections per primary per sidecastd (commands and
 *     publishes; the subscriber); the slot map from CLUSTER SLOTS, asked
 *     again on MOVED and periodically; /metrics has
 *     sidecast_redis_cluster_shards (primaries known).
 *
 * What must hold:
 *   rooms_spread            rooms spread over the primaries, each room's
 *                           channel subscribed on its own primary by exactly
 *                           the nodes with members, and each member gets each
 *                           emit once;
 *   targeted_and_lookups    a targeted emit to another node, lookups by
 *                           session, socket and user, presence, fetch sockets,
 *                           a server-side emit and a broadcast with acks, each
 *                           answered exactly across nodes;
 *   connections_per_primary 200 rooms on two nodes: at most 2 connections per
 *                           sidecastd on every primary (connections told
 *                           apart by the process holding their client end);
 *   primary_killed_ledger   numbered room and targeted emits from node-1 to
 *                           node-2 while the primary serving the room's slot,
 *                           then the one serving {sidecast}, is SIGKILLed and
 *                           its replica promoted: every message delivered
 *                           exactly once, or sent inside a Gap window node-2's
 *                           app was told about, or counted by a loss counter;
 *                           lookups, targeted and room emits work again after
 *                           each failover, and each failover was told (a Gap);
 *   reshard_ledger          the same while the room's slot is moved to another
 *                           primary (CLUSTER SETSLOT IMPORTING / MIGRATING /
 *                           NODE): the ledger as above, the room's subscription
 *                           follows the slot, and new emits to the room arrive;
 *   directory_spread        120 sockets with sessions and users: directory keys
 *                           on every primary, each entry listed exactly once
 *                           in its node's bucket lists, lookups by socket,
 *                           session and user, targeted and user emits each
 *                           delivered exactly once, session data across nodes;
 *                           half the sockets down (their entries gone, their
 *                           session data expiring), then the primaries not
 *                           serving the home slot wiped (FLUSHALL): a bucket's
 *                           marker found gone, the directory rewritten;
 *   dead_node_forgotten     a sidecar SIGKILLed: a survivor removes its entries
 *                           from every bucket, then drops it from the node list;
 *   node_leaves             a sidecar stopped: it removes its own entries from
 *                           every bucket, its marker and its node list entry,
 *                           and exits without waiting for the shutdown timeout;
 *   stalled_node_returns    a sidecar frozen past node_ttl_ms, forgotten, then
 *                           thawed: it rewrites its directory twice (the second
 *                           after every node had a heartbeat) and every socket
 *                           is found again;
 *   bucket_primary_failover a primary holding buckets (not the home slot's)
 *                           SIGKILLed: the sidecar rewrites its directory on
 *                           the promoted replica and every socket is found.
 *
 * The ledger's books, as in it_ledger (its stream, windows, probes and
 * counters are ledger.{c,h}'s): per message and receiving socket,
 * delivered exactly once (a duplicate always fails), or sent within a Gap
 * window [from - LEDGER_SLACK_BEFORE_MS, to + LEDGER_SLACK_AFTER_MS], or
 * refused to the sender at emit time; the rest must not exceed the
 * increase of the loss counters (redis_commands_lost,
 * outbox_dropped_volatile, outbox_dropped_full, dircache_unreceived,
 * targeted_no_route, targeted_unreceived and, where the daemon has it,
 * redis_cluster_redirects on the sender; dircache_stale_received and, where
 * the daemon has it, cluster_late_skipped on the receiver).
 *
 * Every wait is bounded in time and count and waits on something observable
 * (replies, counters, PUBSUB SHARDNUMSUB, CLUSTER SLOTS); only processes the
 * test started are signalled, by pid; loopback only. */
#include "harness.h"
#include "ledger.h"

#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <hiredis/hiredis.h>
#include <unistd.h>

#define LIST(...)                                                                                  \
    (const char *const[]){__VA_ARGS__}, sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *)

#define NPRIMARIES 3
#define MAX_SIDECARS 8
#define READY_MS 30000
#define SUBS_MS 30000
#define DELIVER_MS 15000

static const char *const NODE_NAMES[MAX_SIDECARS] = {"node-1", "node-2", "node-3", "node-4",
                                                     "node-5", "node-6", "node-7", "node-8"};

/* ---- a cluster and its sidecars ---------------------------------------------------- */

typedef struct rig {
    rcluster_set *s;
    int nd;
    daemon_t *d[MAX_SIDECARS];
} rig;

static int readyz(daemon_t *d, char *body, size_t len)
{
    return http_get(daemon_http_port(d), "/readyz", body, len);
}

static double metric(daemon_t *d, const char *series)
{
    static char body[262144];
    if (http_get(daemon_http_port(d), "/metrics", body, sizeof(body)) != 200)
        return -1;
    return metric_value(body, series);
}

/* Ready, and knows every primary of the set (bounded). */
static void wait_cluster_ready(daemon_t *d, const char *name, int ms)
{
    char body[1024] = "";
    int st = -1;
    double shards = -1;
    uint64_t end = now_ms_h() + (uint64_t)ms;
    do {
        st = readyz(d, body, sizeof(body));
        shards = st == 200 ? metric(d, "sidecast_redis_cluster_shards") : -1;
        if (st == 200 && shards == NPRIMARIES)
            return;
        usleep(50000);
    } while (now_ms_h() < end);
    fail_msg("%s not ready on the Redis Cluster after %d ms: /readyz %d (%s), "
             "sidecast_redis_cluster_shards %g (want %d)",
             name, ms, st, body, shards, NPRIMARIES);
}

/* The rig of the test under way (static: a failed assertion leaves the
 * test function, and the teardown stops what it left running). */
static rig G;
static rig *live;

/* rig_start's Redis Cluster lacks sharded pub/sub (test_classic_fallback) */
static bool rig_unsharded;

static void rig_start(rig *g, int nreplicas, int nd, const char *first_extra, const char *second)
{
    memset(g, 0, sizeof(*g));
    live = g;
    g->s = rcluster_start_opts(NPRIMARIES, nreplicas, rig_unsharded);
    g->nd = nd;
    for (int i = 0; i < nd; i++)
        g->d[i] = node_start_rcluster(g->s, NODE_NAMES[i], first_extra, second, NULL);
    for (int i = 0; i < nd; i++)
        wait_cluster_ready(g->d[i], NODE_NAMES[i], READY_MS);
}

static void rig_free(rig *g)
{
    live = NULL;
    for (int i = 0; i < g->nd; i++)
        if (g->d[i])
            daemon_free(g->d[i]);
    if (g->s)
        rcluster_free(g->s);
    memset(g, 0, sizeof(*g));
}

/* After a failed test: its sidecars and Redis nodes stopped, directories
 * removed (its apps' connections are left to the exit). */
static int teardown(void **state)
{
    if (live)
        rig_free(live);
    return 0;
}

static void room_channel(const char *room, char *ch, size_t len)
{
    snprintf(ch, len, "sidecast:room:%s", room);
}

/* The index of the primary serving channel's slot now. */
static int channel_owner(rig *g, const char *ch)
{
    return rcluster_slot_owner(g->s, rcluster_key_slot(ch));
}

/* Until every room's channel has `want` subscribers on the primary serving
 * its slot (bounded). Returns the number of rooms that do not. */
static int wait_room_subs(rig *g, const char *const *rooms, int n, long want, int ms)
{
    int *owner = calloc((size_t)n, sizeof(int));
    char ch[160];
    for (int k = 0; k < n; k++) {
        room_channel(rooms[k], ch, sizeof(ch));
        owner[k] = channel_owner(g, ch);
    }
    int k = 0; /* rooms before k are done: a subscription, once made, stays */
    uint64_t end = now_ms_h() + (uint64_t)ms;
    while (k < n) {
        room_channel(rooms[k], ch, sizeof(ch));
        if (owner[k] >= 0 && rcluster_shard_numsub(g->s, owner[k], ch) == want) {
            k++;
            continue;
        }
        if (now_ms_h() >= end)
            break;
        usleep(20000);
    }
    free(owner);
    return n - k;
}

/* ---- tally: an app that counts what each of its sockets gets ---------------------- */

#define TALLY_MAX 256

typedef struct tally {
    sc_client *c;
    char name[16];
    int n;
    char id[TALLY_MAX][24];
    unsigned m[TALLY_MAX], f[TALLY_MAX]; /* payloads "M..." and "F..." */
    unsigned junk, gaps;
} tally;

static int tally_index(const tally *t, const char *id)
{
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->id[i], id) == 0)
            return i;
    return -1;
}

static void tally_deliver(void *ud, const char *socket_id, const uint8_t *p, size_t len)
{
    tally *t = ud;
    int i = tally_index(t, socket_id);
    if (i < 0 || len < 1)
        t->junk++;
    else if (p[0] == 'M')
        t->m[i]++;
    else if (p[0] == 'F')
        t->f[i]++;
    else
        t->junk++;
}

static void tally_gap(void *ud, uint64_t from, uint64_t to, const char *reason)
{
    ((tally *)ud)->gaps++;
}

static void tally_open(tally *t, daemon_t *d, const char *name)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%s", name);
    sc_client_options o = {.path = d->sock,
                           .name = name,
                           .timeout_ms = 10000,
                           .on_deliver = tally_deliver,
                           .on_gap = tally_gap,
                           .ud = t};
    if (sc_client_open(&o, &t->c) < 0)
        fail_msg("open %s: %s", name, sc_client_last_error(t->c));
}

static void tally_socket(tally *t, const char *id, const char *const *rooms, size_t n)
{
    assert_true(t->n < TALLY_MAX);
    snprintf(t->id[t->n++], sizeof(t->id[0]), "%s", id);
    assert_int_equal(sc_client_socket_up(t->c, id, "", "", NULL, 0, rooms, n), 0);
}

/* Poll the tallies until every socket of each has at least `fences` F
 * payloads (bounded); returns whether they all do. */
static bool tally_wait_fences(tally **ts, int nt, unsigned fences, int ms)
{
    uint64_t end = now_ms_h() + (uint64_t)ms;
    for (;;) {
        bool all = true;
        for (int i = 0; i < nt; i++)
            for (int k = 0; k < ts[i]->n; k++)
                all = all && ts[i]->f[k] >= fences;
        if (all)
            return true;
        if (now_ms_h() >= end)
            return false;
        for (int i = 0; i < nt; i++)
            if (sc_client_poll(ts[i]->c, 5) < 0)
                fail_msg("%s lost its sidecar: %s", ts[i]->name, sc_client_last_error(ts[i]->c));
    }
}

static void emit_payload(sc_client *c, const sc_target *t, const char *p)
{
    assert_int_equal(sc_client_emit(c, t, NULL, (const uint8_t *)p, strlen(p)), 0);
}

/* app-1, app-2 and app-3 on node-1, node-2 and node-3. */
static void tallies_open(rig *g, tally *a, tally *b, tally *c)
{
    tally_open(a, g->d[0], "app-1");
    tally_open(b, g->d[1], "app-2");
    tally_open(c, g->d[2], "app-3");
}

/* b's and c's sockets registered (their syncs answered), and a's sidecar
 * sees the three nodes. */
static void tallies_synced(tally *a, tally *b, tally *c)
{
    assert_int_equal(sc_client_sync(b->c, 0), 0);
    assert_int_equal(sc_client_sync(c->c, 0), 0);
    assert_int_equal(wait_nodes(a->c, 3, 15000), 3);
}

/* n rooms "<prefix>-NN" (names, rooms), each with a socket "b-NN" on b and
 * a socket "c-NN" on c; then tallies_synced. */
static void rooms_on_b_and_c(const char *prefix, char (*names)[24], const char **rooms, int n,
                             tally *a, tally *b, tally *c)
{
    for (int k = 0; k < n; k++) {
        snprintf(names[k], sizeof(names[k]), "%s-%02d", prefix, k);
        rooms[k] = names[k];
        char id[24];
        snprintf(id, sizeof(id), "b-%02d", k);
        tally_socket(b, id, &rooms[k], 1);
        snprintf(id, sizeof(id), "c-%02d", k);
        tally_socket(c, id, &rooms[k], 1);
    }
    tallies_synced(a, b, c);
}

/* From tx: one emit ("M") to each room, then a fence ("F") to each. A
 * room's channel keeps one publisher's order (channels on different
 * primaries do not, so one fence to all rooms would not do): once a
 * member's fence is in, the emit before it arrived as often as it ever
 * will. Then until every socket of the members has `want` fences
 * (bounded), and each must have got exactly `want` emits and `want`
 * fences. */
static void emit_rooms_fenced(tally *tx, const char *const *rooms, int n, tally **members, int nm,
                              unsigned want)
{
    for (int k = 0; k < n; k++) {
        sc_target t = {.rooms = &rooms[k], .n_rooms = 1};
        emit_payload(tx->c, &t, "M");
    }
    for (int k = 0; k < n; k++) {
        sc_target t = {.rooms = &rooms[k], .n_rooms = 1};
        emit_payload(tx->c, &t, "F");
    }
    assert_int_equal(sc_client_sync(tx->c, 0), 0);
    bool fenced = tally_wait_fences(members, nm, want, DELIVER_MS);
    app_drain(tx->c, 10);
    for (int i = 0; i < nm; i++)
        for (int k = 0; k < members[i]->n; k++)
            if (members[i]->m[k] != want || members[i]->f[k] != want)
                fail_msg("%s/%s got %u room emits and %u fences (want %u of each; all fenced: %d)",
                         members[i]->name, members[i]->id[k], members[i]->m[k], members[i]->f[k],
                         want, fenced);
}

/* ---- a. rooms spread over the primaries ----------------------------------------------- */

#define SPREAD_ROOMS 30

static void test_rooms_spread(void **state)
{
    rig *g = &G;
    rig_start(g, 0, 3, NULL, NULL);
    tally ta, tb, tc;
    tallies_open(g, &ta, &tb, &tc);
    char names[SPREAD_ROOMS][24];
    const char *rooms[SPREAD_ROOMS];
    rooms_on_b_and_c("spread", names, rooms, SPREAD_ROOMS, &ta, &tb, &tc);
    int missing = wait_room_subs(g, rooms, SPREAD_ROOMS, 2, SUBS_MS);
    if (missing)
        fail_msg("%d of %d rooms not subscribed by nodes 2 and 3 on their primary after %d ms",
                 missing, SPREAD_ROOMS, SUBS_MS);

    /* one emit to each room, then a fence to each: each member socket gets
     * its room's emit once */
    tally *members[] = {&tb, &tc};
    emit_rooms_fenced(&ta, rooms, SPREAD_ROOMS, members, 2, 1);
    assert_int_equal(tb.junk + tc.junk + ta.junk, 0);

    /* each room's channel: 2 subscribers on the primary serving its slot,
     * none on the others; and the rooms use more than one primary */
    bool used[RCLUSTER_MAX] = {false};
    int primaries = 0;
    for (int k = 0; k < SPREAD_ROOMS; k++) {
        char ch[64];
        room_channel(rooms[k], ch, sizeof(ch));
        int owner = channel_owner(g, ch);
        assert_true(owner >= 0);
        primaries += !used[owner];
        used[owner] = true;
        for (int i = 0; i < g->s->n; i++) {
            if (!rcluster_is_primary(g->s, i))
                continue;
            long n = rcluster_shard_numsub(g->s, i, ch);
            if (n != (i == owner ? 2 : 0))
                fail_msg("%s (slot %d, served by node %d): PUBSUB SHARDNUMSUB on node %d is %ld, "
                         "want %d",
                         ch, rcluster_key_slot(ch), owner, i, n, i == owner ? 2 : 0);
        }
    }
    printf("rooms_spread: %d rooms over %d primaries\n", SPREAD_ROOMS, primaries);
    assert_true(primaries >= 2);

    sc_client_close(ta.c);
    sc_client_close(tb.c);
    sc_client_close(tc.c);
    rig_free(g);
}

/* ---- b. targeted emits, lookups and cluster requests ------------------------------------ */

typedef struct located {
    int n;
    char socket[4][32], session[4][32], user[4][32], node[4][64];
} located;

static void on_located(void *ud, const sc_location *l)
{
    located *x = ud;
    if (x->n >= 4) {
        x->n++;
        return;
    }
    snprintf(x->socket[x->n], sizeof(x->socket[0]), "%s", l->socket_id ? l->socket_id : "");
    snprintf(x->session[x->n], sizeof(x->session[0]), "%s", l->session_id ? l->session_id : "");
    snprintf(x->user[x->n], sizeof(x->user[0]), "%s", l->user_id ? l->user_id : "");
    snprintf(x->node[x->n], sizeof(x->node[0]), "%s", l->node_id ? l->node_id : "");
    x->n++;
}

static int located_find(const located *x, const char *socket)
{
    for (int i = 0; i < x->n && i < 4; i++)
        if (strcmp(x->socket[i], socket) == 0)
            return i;
    return -1;
}

/* A lookup from c, asked again until it finds `want` sockets (the owners
 * write the directory after their sync answered), bounded. */
static located lookup_until(sc_client *c, sc_lookup_kind kind, const char *key, int want)
{
    located x;
    uint64_t end = now_ms_h() + 10000;
    int rc;
    do {
        memset(&x, 0, sizeof(x));
        rc = sc_client_lookup(c, kind, key, false, on_located, &x, 2000);
        if (rc == want && x.n == want)
            break;
        usleep(50000);
    } while (now_ms_h() < end);
    if (rc != want || x.n != want)
        fail_msg("lookup of %s: rc %d, %d found (want %d): %s", key, rc, x.n, want,
                 rc < 0 ? sc_client_last_error(c) : "");
    return x;
}

/* Poll b and c until the counts of their sockets reach the wanted ones
 * (bounded). */
static void wait_counts(sc_client *b, recorder *rb, sc_client *c, recorder *rc,
                        const char *const *ids, const unsigned *want, const bool *on_b, int n)
{
    uint64_t end = now_ms_h() + DELIVER_MS;
    for (;;) {
        bool all = true;
        for (int i = 0; i < n; i++)
            all = all && rec_count(on_b[i] ? rb : rc, ids[i]) >= want[i];
        if (all || now_ms_h() >= end)
            break;
        sc_client_poll(b, 5);
        sc_client_poll(c, 5);
    }
    for (int i = 0; i < n; i++)
        if (rec_count(on_b[i] ? rb : rc, ids[i]) != want[i])
            fail_msg("%s got %u targeted emits, want %u", ids[i],
                     rec_count(on_b[i] ? rb : rc, ids[i]), want[i]);
}

/* Targeted emits, lookups and cluster requests on a running rig of three
 * sidecars (test_targeted_and_lookups, and again under the ACL). */
static void targeted_and_lookups(rig *g)
{
    recorder ra, rb, rc;
    sc_client *a = app_open(g->d[0], "app-a", &ra);
    sc_client *b = app_open(g->d[1], "app-b", &rb);
    sc_client *c = app_open(g->d[2], "app-c", &rc);
    char nb[64], nc[64];
    snprintf(nb, sizeof(nb), "%s", sc_client_node_id(b));
    snprintf(nc, sizeof(nc), "%s", sc_client_node_id(c));
    assert_int_equal(sc_client_socket_up(b, "b-tgt", "sess-b", "user-x", NULL, 0, LIST("shared")),
                     0);
    assert_int_equal(sc_client_socket_up(c, "c-tgt", "sess-c", "user-x", NULL, 0, LIST("shared")),
                     0);
    assert_int_equal(sc_client_socket_up(c, "c-solo", "sess-c2", "user-y", NULL, 0, LIST("solo")),
                     0);
    assert_int_equal(sc_client_sync(b, 0), 0);
    assert_int_equal(sc_client_sync(c, 0), 0);
    sc_client *apps[] = {a, b, c};
    for (int i = 0; i < 3; i++)
        assert_int_equal(wait_nodes(apps[i], 3, 15000), 3);
    assert_int_equal(wait_room_subs(g, LIST("shared"), 2, SUBS_MS), 0);
    assert_int_equal(wait_room_subs(g, LIST("solo"), 1, SUBS_MS), 0);

    /* targeted: to another node's socket, to two nodes at once, then a
     * fence to all three (a node channel keeps one publisher's order:
     * nothing of the first rounds can come after it) */
    sc_target t1 = {.socket_ids = LIST("b-tgt")};
    sc_target t2 = {.socket_ids = LIST("b-tgt", "c-tgt")};
    sc_target t3 = {.socket_ids = LIST("c-solo")};
    assert_int_equal(sc_client_emit(a, &t1, NULL, (const uint8_t *)"t1", 2), 0);
    assert_int_equal(sc_client_emit(a, &t2, NULL, (const uint8_t *)"t2", 2), 0);
    assert_int_equal(sc_client_emit(a, &t3, NULL, (const uint8_t *)"t3", 2), 0);
    assert_int_equal(sc_client_sync(a, 0), 0);
    const char *ids[] = {"b-tgt", "c-tgt", "c-solo"};
    const bool on_b[] = {true, false, false};
    unsigned want[] = {2, 1, 1};
    wait_counts(b, &rb, c, &rc, ids, want, on_b, 3);
    sc_target fence = {.socket_ids = LIST("b-tgt", "c-tgt", "c-solo")};
    assert_int_equal(sc_client_emit(a, &fence, NULL, (const uint8_t *)"f", 1), 0);
    assert_int_equal(sc_client_sync(a, 0), 0);
    unsigned want2[] = {3, 2, 2};
    wait_counts(b, &rb, c, &rc, ids, want2, on_b, 3);
    app_drain(a, 10);
    assert_int_equal(ra.sockets, 0);
    assert_int_equal(rb.errors + rc.errors + ra.errors, 0);

    /* lookups across nodes, from node-1 and node-3 */
    located x = lookup_until(a, SC_BY_SESSION, "sess-c", 1);
    assert_string_equal(x.socket[0], "c-tgt");
    assert_string_equal(x.node[0], nc);
    x = lookup_until(a, SC_BY_SOCKET, "b-tgt", 1);
    assert_string_equal(x.session[0], "sess-b");
    assert_string_equal(x.user[0], "user-x");
    assert_string_equal(x.node[0], nb);
    x = lookup_until(c, SC_BY_SOCKET, "b-tgt", 1);
    assert_string_equal(x.node[0], nb);
    x = lookup_until(a, SC_BY_USER, "user-x", 2);
    assert_true(located_find(&x, "b-tgt") >= 0 && located_find(&x, "c-tgt") >= 0);
    assert_string_equal(x.node[located_find(&x, "b-tgt")], nb);
    assert_string_equal(x.node[located_find(&x, "c-tgt")], nc);
    sc_presence pr = {0};
    assert_int_equal(sc_client_presence(a, "user-x", &pr, 5000), 0);
    assert_true(pr.online);
    assert_int_equal(pr.sockets, 2);
    assert_int_equal(pr.nodes, 2);

    /* cluster requests: fetch sockets (a room, then all), a server-side
     * emit with acks, a broadcast with acks */
    fetched_sockets f = {0};
    sc_target shared = {.rooms = LIST("shared")};
    assert_int_equal(sc_client_fetch_sockets(a, &shared, false, false, fetched_on_socket, &f, 5000),
                     0);
    assert_int_equal(f.n, 2);
    assert_non_null(fetched_node(&f, "b-tgt"));
    assert_non_null(fetched_node(&f, "c-tgt"));
    assert_string_equal(fetched_node(&f, "b-tgt"), nb);
    assert_string_equal(fetched_node(&f, "c-tgt"), nc);
    memset(&f, 0, sizeof(f));
    assert_int_equal(sc_client_fetch_sockets(a, NULL, false, false, fetched_on_socket, &f, 5000),
                     0);
    assert_int_equal(f.n, 3);
    assert_non_null(fetched_node(&f, "c-solo"));

    /* b and c answer while a blocks in its call */
    sc_client *const answering[] = {b, c};
    answers ans = {0};
    app_pump p;
    app_pump_start(&p, answering, 2);
    int rcode = sc_client_server_emit(a, (const uint8_t *)"ping", 4, false, answers_on_progress,
                                      &ans, 5000);
    app_pump_stop(&p);
    assert_int_equal(rcode, 0);
    assert_true(ans.done);
    assert_false(ans.timed_out);
    assert_int_equal(ans.n, 2);
    assert_true(answers_has(&ans, "ack-from-app-b"));
    assert_true(answers_has(&ans, "ack-from-app-c"));
    assert_int_equal(ans.nodes_expected, 3);
    assert_int_equal(ans.nodes_answered, 3);

    memset(&ans, 0, sizeof(ans));
    app_pump_start(&p, answering, 2);
    rcode = sc_client_emit_with_ack(a, &shared, NULL, (const uint8_t *)"q", 1, answers_on_progress,
                                    &ans, 5000);
    app_pump_stop(&p);
    assert_int_equal(rcode, 0);
    assert_true(ans.done);
    assert_false(ans.timed_out);
    assert_int_equal(ans.expect, 2);
    assert_int_equal(ans.n, 2);
    assert_true(answers_has(&ans, "b-tgt"));
    assert_true(answers_has(&ans, "c-tgt"));

    sc_client_close(a);
    sc_client_close(b);
    sc_client_close(c);
}

static void test_targeted_and_lookups(void **state)
{
    rig *g = &G;
    rig_start(g, 0, 3, NULL, NULL);
    targeted_and_lookups(g);
    rig_free(g);
}

/* The README's ACL rule for a Redis Cluster (packaging/README.md, Redis
 * ACL), on every node, default user off for the sidecars: the same
 * traffic as targeted_and_lookups plus room emits, and no node's ACL LOG
 * has an entry, no sidecar counted a Redis error. */
#define ACL_RULE                                                                                   \
    "on >sidecast-pw resetkeys resetchannels ~{sidecast}:* ~{sidecast:*}:* &{sidecast}:* "         \
    "&sidecast:room:* "                                                                            \
    "-@all +ping +role +cluster|slots +ssubscribe +sunsubscribe +spublish +script|load +eval "     \
    "+evalsha +get +set +exists +del +persist +pexpire +hget +hmget +hset +hdel +hexists "         \
    "+hgetall "                                                                                    \
    "+hscan +sadd +srem +sismember +smembers"

static redisReply *node_command(rcluster_set *s, int i, const char *cmd)
{
    redisContext *rc = redisConnect("127.0.0.1", s->port[i]);
    assert_true(rc && !rc->err);
    redisReply *r = redisCommand(rc, cmd);
    redisFree(rc);
    assert_non_null(r);
    return r;
}

static void test_acl_rule(void **state)
{
    rig *g = &G;
    memset(g, 0, sizeof(*g));
    live = g;
    g->s = rcluster_start(NPRIMARIES, 0);
    for (int i = 0; i < g->s->n; i++) {
        redisReply *r = node_command(g->s, i, "ACL SETUSER sidecast " ACL_RULE);
        assert_int_equal(r->type, REDIS_REPLY_STATUS);
        freeReplyObject(r);
    }
    /* the sidecars log in as that user: redis[s]+cluster://sidecast:pw@... */
    char url[sizeof(g->s->url)];
    const char *rest = strstr(g->s->url, "://") + 3;
    snprintf(url, sizeof(url), "%.*ssidecast:sidecast-pw@%s", (int)(rest - g->s->url), g->s->url,
             rest);
    snprintf(g->s->url, sizeof(g->s->url), "%s", url);
    g->nd = 3;
    for (int i = 0; i < g->nd; i++)
        g->d[i] = node_start_rcluster(g->s, NODE_NAMES[i], NULL);
    for (int i = 0; i < g->nd; i++)
        wait_cluster_ready(g->d[i], NODE_NAMES[i], READY_MS);
    targeted_and_lookups(g);
    for (int i = 0; i < g->s->n; i++) {
        redisReply *r = node_command(g->s, i, "ACL LOG");
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 0)
            fail_msg("redis node %d (port %d) refused the sidecast user %zu time(s): see its "
                     "ACL LOG",
                     i, g->s->port[i], r->type == REDIS_REPLY_ARRAY ? r->elements : 0);
        freeReplyObject(r);
    }
    for (int i = 0; i < g->nd; i++)
        assert_true(metric(g->d[i], "sidecast_redis_errors_total") == 0);
    rig_free(g);
}

/* ---- c. connections per primary ------------------------------------------------------------ */

#define MANY_ROOMS 200

static void test_connections_per_primary(void **state)
{
    rig *g = &G;
    rig_start(g, 0, 3, NULL, NULL);
    tally ta, tb, tc;
    tallies_open(g, &ta, &tb, &tc);
    static char names[MANY_ROOMS][24];
    static const char *rooms[MANY_ROOMS];
    for (int k = 0; k < MANY_ROOMS; k++) {
        snprintf(names[k], sizeof(names[k]), "many-%03d", k);
        rooms[k] = names[k];
    }
    tally_socket(&tb, "b-many", rooms, MANY_ROOMS);
    tally_socket(&tc, "c-many", rooms, MANY_ROOMS);
    tallies_synced(&ta, &tb, &tc);
    int missing = wait_room_subs(g, rooms, MANY_ROOMS, 2, SUBS_MS);
    if (missing)
        fail_msg("%d of %d rooms not subscribed by nodes 2 and 3 after %d ms", missing, MANY_ROOMS,
                 SUBS_MS);
    /* node-1 publishes to every primary: one emit per room, then a fence
     * per room; b-many and c-many get MANY_ROOMS of each */
    tally *members[] = {&tb, &tc};
    emit_rooms_fenced(&ta, rooms, MANY_ROOMS, members, 2, MANY_ROOMS);

    /* every primary: each sidecastd's connections at most 2, and they are
     * all the normal clients it has; every primary first, then the verdict */
    sbuf bad = {0};
    for (int i = 0; i < g->s->n; i++) {
        if (!rcluster_is_primary(g->s, i))
            continue;
        /* a connection just closed (a redis-cli of the harness's, or a
         * sidecar's map connection closing once its publish connection
         * answers) may still be listed: bounded re-reads until the
         * sidecars' connections are all the normal clients */
        int total = 0, sum = 0;
        for (int tries = 0; tries < 20; tries++) {
            total = rcluster_clients(g->s, i, NULL);
            sum = 0;
            for (int j = 0; j < g->nd; j++)
                sum += rcluster_clients_of_pid(g->s, i, g->d[j]->pid);
            if (sum == total)
                break;
            usleep(100 * 1000);
        }
        sum = 0;
        bool show = false;
        printf("connections_per_primary: node %d (port %d): %d clients:", i, g->s->port[i], total);
        for (int j = 0; j < g->nd; j++) {
            int n = rcluster_clients_of_pid(g->s, i, g->d[j]->pid);
            printf(" %s %d", NODE_NAMES[j], n);
            sum += n;
            if (n > 2)
                sb_printf(&bad, "%s holds %d connections to the primary on port %d (at most 2); ",
                          NODE_NAMES[j], n, g->s->port[i]);
            /* nodes 2 and 3 subscribe there (200 rooms cover every
             * primary), node-1 published there */
            if (n < 1)
                sb_printf(&bad, "%s holds no connection to the primary on port %d; ", NODE_NAMES[j],
                          g->s->port[i]);
            show = show || n > 2 || n < 1;
        }
        printf(" (named sidecast*: %d)\n", rcluster_clients(g->s, i, "sidecast"));
        if (sum != total) {
            sb_printf(&bad, "port %d: %d normal clients, %d of them the sidecars'; ", g->s->port[i],
                      total, sum);
            show = true;
        }
        if (show) {
            char *list = rcluster_cli(g->s, i, "CLIENT LIST");
            printf("CLIENT LIST of the primary on port %d (sidecastd pids:", g->s->port[i]);
            for (int k = 0; k < g->nd; k++)
                printf(" %s %d", NODE_NAMES[k], (int)g->d[k]->pid);
            printf("):\n%s", list);
            free(list);
        }
    }
    fflush(stdout);
    if (bad.len)
        fail_msg("connections per primary: %s", bad.p);
    sc_client_close(ta.c);
    sc_client_close(tb.c);
    sc_client_close(tc.c);
    rig_free(g);
}

/* ---- d, e. the ledger through a failover and a reshard ------------------------------------ */

#define MAX_MSGS 4000
_Static_assert(MAX_MSGS <= LEDGER_MAX_MSGS, "the stream's record is ledger_stream's");
#define MAX_SAMPLES 6
#define EMIT_EVERY_MS 5
#define PRE_MS 500
#define POST_MS 1000
#define FAILOVER_GIVEUP_MS 20000
#define RESHARD_GIVEUP_MS 10000
#define PROBE_GIVEUP_MS 10000
#define PROBE_EVERY_MS 50
#define FENCE_MS 10000
#define SETTLE_MS 15000

enum { K_ROOM, K_TGT, NK };
static const char kind_code[NK] = {'r', 't'};
static const char *const kind_name[NK] = {"room", "targeted"};

typedef struct flow {
    rig g;
    char room[32], room_ch[64], node_ch[128];
    sc_client *tx, *mon_a, *mon_b, *rx;
    char b_node_id[64];
    /* what rx (node-2: b-room in the room, b-tgt) got */
    uint8_t cnt[NK][MAX_MSGS];
    unsigned dupes, junk, errors;
    ledger_windows win; /* its Gap notices */
    unsigned gaps;
    int fence[NK];
    int probe_phase;       /* probes carry it: "P<phase>:<n>" */
    uint64_t probe_at[NK]; /* when the phase's room / targeted probe arrived */
    /* the stream, from tx: to the room and to b-tgt in turn */
    ledger_stream st;
    /* probes after a fault: the lookup, the emits, node-2's subscriptions */
    ledger_probe probe;
    uint64_t subs_ok_at;
    uint64_t t0; /* wall ms of the stream's start */
} flow;

static flow F;

static long long rel(const flow *f, uint64_t t)
{
    return (long long)t - (long long)f->t0;
}

static void rx_record(flow *f, int k, const uint8_t *p, size_t len)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%.*s", (int)(len < 63 ? len : 63), (const char *)p);
    unsigned seq, phase;
    int kk = buf[0] == 'L' || buf[0] == 'F' ? (buf[1] == 'r'   ? K_ROOM
                                               : buf[1] == 't' ? K_TGT
                                                               : -1)
                                            : -1;
    if (buf[0] == 'L' && kk == k && sscanf(buf + 2, ":%u:", &seq) == 1 && seq < MAX_MSGS) {
        if (f->cnt[k][seq])
            f->dupes++;
        if (f->cnt[k][seq] < 255)
            f->cnt[k][seq]++;
    } else if (buf[0] == 'F' && kk == k && sscanf(buf + 2, ":%u", &seq) == 1) {
        if ((int)seq > f->fence[k])
            f->fence[k] = (int)seq;
    } else if (buf[0] == 'P' && sscanf(buf + 1, "%u:", &phase) == 1) {
        if ((int)phase == f->probe_phase && !f->probe_at[k])
            f->probe_at[k] = wall_ms_h();
    } else {
        f->junk++;
    }
}

static void rx_deliver(void *ud, const char *socket_id, const uint8_t *p, size_t len)
{
    flow *f = ud;
    if (strcmp(socket_id, "b-room") == 0)
        rx_record(f, K_ROOM, p, len);
    else if (strcmp(socket_id, "b-tgt") == 0)
        rx_record(f, K_TGT, p, len);
    else
        f->junk++;
}

static void rx_gap(void *ud, uint64_t from, uint64_t to, const char *reason)
{
    flow *f = ud;
    f->gaps++;
    ledger_window_add(&f->win, from, to, wall_ms_h(), "", reason);
}

static void rx_error(void *ud, int code, const char *message, const char *ref)
{
    ((flow *)ud)->errors++;
}

/* Read what rx and tx got within ms. */
static void pump_flow(flow *f, int ms)
{
    struct pollfd pf[2] = {{sc_client_fd(f->rx), POLLIN, 0}, {sc_client_fd(f->tx), POLLIN, 0}};
    sc_client *cl[2] = {f->rx, f->tx};
    for (int i = 0; i < 2; i++)
        if (sc_client_wants_write(cl[i]))
            pf[i].events |= POLLOUT;
    if (poll(pf, 2, ms < 0 ? 0 : ms) <= 0)
        return;
    for (int i = 0; i < 2; i++) {
        int rc = 0;
        if (pf[i].revents & POLLOUT)
            rc = sc_client_flush(cl[i]) < 0 ? -1 : 0;
        if (rc == 0 && (pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
            rc = sc_client_read(cl[i]);
        if (rc < 0)
            fail_msg("%s lost its sidecar: %s", i ? "tx" : "rx", sc_client_last_error(cl[i]));
    }
}

static sc_target flow_target(void *ud, int k)
{
    flow *f = ud;
    static const char *room[1];
    static const char *const ids[] = {"b-tgt"};
    sc_target t = {0};
    if (k == K_ROOM) {
        room[0] = f->room;
        t.rooms = room;
        t.n_rooms = 1;
    } else {
        t.socket_ids = ids;
        t.n_socket_ids = 1;
    }
    return t;
}

/* After a fault: a lookup of b-tgt from node-1, a targeted and a room
 * emit to node-2's sockets, and node-2's subscriptions where the slots
 * are served now; until each succeeded once (or PROBE_GIVEUP_MS). */
static void probe_step(flow *f)
{
    ledger_probe_lookup(&f->probe, f->mon_a, "b-tgt", f->b_node_id);
    for (int k = 0; k < NK; k++) {
        if (f->probe_at[k])
            continue;
        sc_target t = flow_target(f, k);
        char p[32];
        int n = snprintf(p, sizeof(p), "P%d:%u", f->probe_phase, f->probe.sent++);
        sc_client_emit(f->mon_a, &t, NULL, (const uint8_t *)p, (size_t)n);
        sc_client_flush(f->mon_a);
    }
    if (!f->subs_ok_at) {
        int ro = channel_owner(&f->g, f->room_ch), no = channel_owner(&f->g, f->node_ch);
        if (ro >= 0 && no >= 0 && rcluster_shard_numsub(f->g.s, ro, f->room_ch) == 1 &&
            rcluster_shard_numsub(f->g.s, no, f->node_ch) == 1)
            f->subs_ok_at = wall_ms_h();
    }
    ledger_probe_next(&f->probe,
                      f->probe.lookup_ok_at && f->probe_at[K_ROOM] && f->probe_at[K_TGT] &&
                          f->subs_ok_at,
                      PROBE_EVERY_MS, PROBE_GIVEUP_MS);
}

/* One turn: an emit when it is due, a probe step when due, then what rx
 * and tx got until the next emit (at most max_ms). */
static void service(flow *f, int max_ms)
{
    uint64_t now = now_ms_h();
    ledger_stream_tick(&f->st, now);
    if (ledger_probe_due(&f->probe, now))
        probe_step(f);
    pump_flow(f, ledger_stream_wait(&f->st, max_ms));
}

static void stream_for(flow *f, int ms)
{
    uint64_t end = now_ms_h() + (uint64_t)ms;
    while (now_ms_h() < end)
        service(f, (int)(end - now_ms_h()));
}

/* Both sidecars: ready, outbox empty, each sees the other (bounded; the
 * stream goes on). Returns what is not, or NULL. */
static const char *settle(flow *f, int ms, char *why, size_t len)
{
    uint64_t end = now_ms_h() + (uint64_t)ms;
    sc_client *mons[] = {f->mon_a, f->mon_b};
    for (;;) {
        why[0] = 0;
        for (int i = 0; i < 2 && !why[0]; i++) {
            char body[512] = "";
            int st = readyz(f->g.d[i], body, sizeof(body));
            int64_t ob = stat_or(mons[i], "outbox_messages"),
                    nodes = stat_or(mons[i], "cluster_nodes");
            if (st != 200 || ob != 0 || nodes != 2)
                snprintf(why, len,
                         "%s: /readyz %d (%.200s) outbox_messages %lld cluster_nodes %lld",
                         NODE_NAMES[i], st, body, (long long)ob, (long long)nodes);
        }
        if (!why[0])
            return NULL;
        if (now_ms_h() >= end)
            return why;
        stream_for(f, 50);
    }
}

/* Fences of both kinds until rx got each (bounded). */
static bool fences(flow *f, sbuf *missing)
{
    uint64_t end = now_ms_h() + FENCE_MS;
    unsigned first = f->st.fence_round;
    for (;;) {
        bool every = f->fence[K_ROOM] >= (int)first && f->fence[K_TGT] >= (int)first;
        if (every || now_ms_h() >= end)
            break;
        ledger_fence_round(&f->st);
        stream_for(f, 100);
    }
    bool ok = true;
    for (int k = 0; k < NK; k++)
        if (f->fence[k] < (int)first) {
            sb_printf(missing, " rx never got a %s fence;", kind_name[k]);
            ok = false;
        }
    return ok;
}

/* The loss counters (as in it_ledger); redis_cluster_redirects (a command
 * answered MOVED/ASK is lost, counted) and cluster_late_skipped (messages a
 * receiver skipped as too far behind) where the daemon has them (absent:
 * no increase). The rest for the report. Node 0: node-1 (the sender, read
 * by mon-1), 1: node-2 (the receiver, mon-2). */
static const ledger_ctr CTRS[] = {
    LEDGER_SENDER_LOSSES(0),
    {0, "redis_cluster_redirects", true},
    {1, "dircache_stale_received", true},
    {1, "cluster_late_skipped", true},
    {0, "outbox_queued", false},
    {0, "outbox_flushed", false},
    {0, "redis_reconnects", false},
    {0, "redis_cluster_sunsubscribes", false},
    {0, "dead_nodes_reaped", false},
    {1, "pubsub_gaps", false},
    {1, "canary_missed", false},
    {1, "self_reaped", false},
    {1, "directory_resyncs", false},
    {1, "redis_reconnects", false},
    {1, "redis_cluster_redirects", false},
    {1, "redis_cluster_sunsubscribes", false},
};
#define NCTRS (sizeof(CTRS) / sizeof(CTRS[0]))

static void counters_read(flow *f, int64_t *v)
{
    sc_client *const mons[] = {f->mon_a, f->mon_b};
    ledger_counters_read(CTRS, NCTRS, mons, v);
}

/* A room whose slot is served by another primary than {sidecast}'s. */
static void pick_room(flow *f)
{
    int tag_owner = channel_owner(&f->g, "{sidecast}");
    assert_true(tag_owner >= 0);
    for (int i = 0; i < 1000; i++) {
        snprintf(f->room, sizeof(f->room), "ledger-%d", i);
        room_channel(f->room, f->room_ch, sizeof(f->room_ch));
        int o = channel_owner(&f->g, f->room_ch);
        if (o >= 0 && o != tag_owner)
            return;
    }
    fail_msg("no room name in a slot away from {sidecast}'s primary");
}

static void flow_start(flow *f, int nreplicas)
{
    memset(f, 0, sizeof(*f));
    /* canaries every 200 ms, as in it_ledger: a receiver notices losses */
    rig_start(&f->g, nreplicas, 2, "--canary-interval-ms", "200");
    pick_room(f);
    f->fence[K_ROOM] = f->fence[K_TGT] = -1;
    sc_client_options o = {.path = f->g.d[1]->sock,
                           .name = "rx-2",
                           .timeout_ms = 10000,
                           .on_deliver = rx_deliver,
                           .on_gap = rx_gap,
                           .on_error = rx_error,
                           .ud = f};
    if (sc_client_open(&o, &f->rx) < 0)
        fail_msg("open rx-2: %s", sc_client_last_error(f->rx));
    const char *room[] = {f->room};
    assert_int_equal(sc_client_socket_up(f->rx, "b-room", "s-b-room", "", NULL, 0, room, 1), 0);
    assert_int_equal(sc_client_socket_up(f->rx, "b-tgt", "s-b-tgt", "", NULL, 0, NULL, 0), 0);
    assert_int_equal(sc_client_sync(f->rx, 0), 0);
    f->tx = app_open(f->g.d[0], "tx", NULL);
    f->mon_a = app_open(f->g.d[0], "mon-1", NULL);
    f->mon_b = app_open(f->g.d[1], "mon-2", NULL);
    ledger_stream_init(&f->st, f->tx, NK, kind_code, flow_target, f, MAX_MSGS, EMIT_EVERY_MS);
    snprintf(f->b_node_id, sizeof(f->b_node_id), "%s", sc_client_node_id(f->rx));
    snprintf(f->node_ch, sizeof(f->node_ch), "{sidecast}:node:%s", f->b_node_id);
    assert_int_equal(wait_nodes(f->mon_a, 2, 15000), 2);
    assert_int_equal(wait_nodes(f->mon_b, 2, 15000), 2);
    /* node-2 subscribed: the room's channel and its own */
    assert_int_equal(wait_room_subs(&f->g, room, 1, 1, SUBS_MS), 0);
    uint64_t end = now_ms_h() + SUBS_MS;
    int no = channel_owner(&f->g, f->node_ch);
    while (now_ms_h() < end && rcluster_shard_numsub(f->g.s, no, f->node_ch) != 1)
        usleep(20000);
    if (rcluster_shard_numsub(f->g.s, no, f->node_ch) != 1)
        fail_msg("%s: no subscriber on node %d (the primary serving it)", f->node_ch, no);
    /* every path works before the fault */
    sbuf missing = {0};
    if (!fences(f, &missing))
        fail_msg("before any fault:%s", missing.p);
    free(missing.p);
    char why[512];
    if (settle(f, SETTLE_MS, why, sizeof(why)))
        fail_msg("not settled before the fault: %s", why);
    printf("ledger: room '%s' (%s, slot %d, node %d); {sidecast} slot %d on node %d\n", f->room,
           f->room_ch, rcluster_key_slot(f->room_ch), channel_owner(&f->g, f->room_ch),
           rcluster_key_slot("{sidecast}"), channel_owner(&f->g, "{sidecast}"));
}

static void flow_free(flow *f)
{
    sc_client_close(f->rx);
    sc_client_close(f->tx);
    sc_client_close(f->mon_a);
    sc_client_close(f->mon_b);
    rig_free(&f->g);
}

/* After a fault ended (at resume_wall): probes until each succeeded, the
 * stream going on, then POST_MS more. Failures into fails. */
static void after_fault(flow *f, const char *what, uint64_t fault_wall, uint64_t resume_wall,
                        sbuf *report, sbuf *fails)
{
    ledger_probe_start(&f->probe, resume_wall);
    f->subs_ok_at = 0;
    f->probe_at[K_ROOM] = f->probe_at[K_TGT] = 0;
    while (f->probe.on)
        stream_for(f, 20);
    stream_for(f, POST_MS);
    uint64_t at[] = {f->probe.lookup_ok_at, f->probe_at[K_TGT], f->probe_at[K_ROOM], f->subs_ok_at};
    const char *names[] = {"lookup of b-tgt from node-1", "targeted emit to b-tgt",
                           "room emit to b-room", "node-2's subscriptions where the slots are"};
    sb_printf(report, "  %s: fault at +%lld ms, cluster ok again at +%lld ms;", what,
              rel(f, fault_wall), rel(f, resume_wall));
    for (int i = 0; i < 4; i++) {
        if (at[i])
            sb_printf(report, " %s ok after %lld ms;", names[i],
                      (long long)at[i] - (long long)resume_wall);
        else {
            sb_printf(report, " %s NEVER (gave up after %d ms);", names[i], PROBE_GIVEUP_MS);
            sb_printf(fails, "%s: %s did not work again within %d ms after the cluster was ok; ",
                      what, names[i], PROBE_GIVEUP_MS);
        }
    }
    sb_printf(report, " (%u lookups, last rc %d)\n", f->probe.lookups, f->probe.last_lookup_rc);
}

/* Kill the primary serving slot; stream on until the cluster is ok again
 * with another (live) node serving it. */
static void kill_phase(flow *f, int phase, const char *slot_of, sbuf *report, sbuf *fails)
{
    f->probe_phase = phase;
    stream_for(f, PRE_MS);
    int slot = rcluster_key_slot(slot_of);
    int victim = rcluster_slot_owner(f->g.s, slot);
    assert_true(victim >= 0);
    unsigned gaps0 = f->gaps;
    char what[160];
    snprintf(what, sizeof(what),
             "failover %d (primary node %d, port %d, serving slot %d of %s, SIGKILLed)", phase,
             victim, f->g.s->port[victim], slot, slot_of);
    uint64_t fault = wall_ms_h(), t0 = now_ms_h();
    rcluster_kill(f->g.s, victim);
    bool ok = false;
    int now = -1;
    while (!ok && now_ms_h() < t0 + FAILOVER_GIVEUP_MS) {
        stream_for(f, 50);
        ok = rcluster_wait_ok(f->g.s, 0);
        now = ok ? rcluster_slot_owner(f->g.s, slot) : -1;
        ok = ok && now >= 0 && now != victim;
    }
    uint64_t resume = wall_ms_h();
    if (!ok) {
        sb_printf(fails, "%s: the cluster was not ok again within %d ms; ", what,
                  FAILOVER_GIVEUP_MS);
        return;
    }
    snprintf(what + strlen(what), sizeof(what) - strlen(what), " -> node %d", now);
    after_fault(f, what, fault, resume, report, fails);
    if (f->gaps == gaps0)
        sb_printf(fails, "%s: node-2's app got no Gap for it; ", what);
}

/* One step of a reshard: redis-cli args on node i, then the stream for
 * 100 ms; an answer without OK goes to fails. */
static void reshard_step(flow *f, const char *what, int i, const char *args, sbuf *fails)
{
    char *out = rcluster_cli(f->g.s, i, args);
    if (!strstr(out, "OK"))
        sb_printf(fails, "%s: node %d answered '%s' with %s; ", what, i, args, out);
    free(out);
    stream_for(f, 100);
}

/* Move the room's slot to another primary, the stream going on. */
static void reshard_phase(flow *f, int phase, sbuf *report, sbuf *fails)
{
    rcluster_set *s = f->g.s;
    f->probe_phase = phase;
    stream_for(f, PRE_MS);
    int slot = rcluster_key_slot(f->room_ch);
    int src = rcluster_slot_owner(s, slot), dst = -1;
    assert_true(src >= 0);
    for (int i = 0; i < s->n && dst < 0; i++)
        if (i != src && rcluster_is_primary(s, i))
            dst = i;
    assert_true(dst >= 0);
    char what[160], args[256];
    snprintf(what, sizeof(what), "reshard (slot %d of %s from node %d to node %d)", slot,
             f->room_ch, src, dst);
    uint64_t fault = wall_ms_h(), t0 = now_ms_h();
    /* IMPORTING on the target, MIGRATING on the source, the keys (none
     * expected: a room's channel is no key), then NODE on the target, the
     * source and the other live nodes; messages flow between the steps */
    snprintf(args, sizeof(args), "CLUSTER SETSLOT %d IMPORTING %s", slot, s->id[src]);
    reshard_step(f, what, dst, args, fails);
    snprintf(args, sizeof(args), "CLUSTER SETSLOT %d MIGRATING %s", slot, s->id[dst]);
    reshard_step(f, what, src, args, fails);
    for (int round = 0; round < 100; round++) { /* bounded: 100 x 100 keys */
        snprintf(args, sizeof(args), "CLUSTER GETKEYSINSLOT %d 100", slot);
        char *keys = rcluster_cli(s, src, args);
        int n = 0;
        for (char *save = NULL, *k = strtok_r(keys, "\n", &save); k;
             k = strtok_r(NULL, "\n", &save)) {
            if (!*k || strchr(k, '\''))
                continue;
            snprintf(args, sizeof(args), "MIGRATE 127.0.0.1 %d '%s' 0 5000", s->port[dst], k);
            free(rcluster_cli(s, src, args));
            n++;
        }
        free(keys);
        if (!n)
            break;
    }
    stream_for(f, 100);
    snprintf(args, sizeof(args), "CLUSTER SETSLOT %d NODE %s", slot, s->id[dst]);
    reshard_step(f, what, dst, args, fails);
    reshard_step(f, what, src, args, fails);
    for (int i = 0; i < s->n; i++)
        if (i != src && i != dst && s->pid[i] > 0)
            reshard_step(f, what, i, args, fails);
    bool ok = false;
    while (!ok && now_ms_h() < t0 + RESHARD_GIVEUP_MS) {
        ok = rcluster_wait_ok(s, 0) && rcluster_slot_owner(s, slot) == dst;
        if (!ok)
            stream_for(f, 50);
    }
    uint64_t resume = wall_ms_h();
    if (!ok) {
        sb_printf(fails, "%s: the nodes did not agree on the new owner within %d ms; ", what,
                  RESHARD_GIVEUP_MS);
        return;
    }
    after_fault(f, what, fault, resume, report, fails);
    /* the room's subscription followed the slot: on dst, not on src */
    long on_dst = rcluster_shard_numsub(s, dst, f->room_ch),
         on_src = rcluster_shard_numsub(s, src, f->room_ch);
    if (on_dst != 1 || on_src != 0)
        sb_printf(fails,
                  "%s: PUBSUB SHARDNUMSUB %s is %ld on the new owner (want 1) and %ld on "
                  "the old one (want 0); ",
                  what, f->room_ch, on_dst, on_src);
}

typedef struct books {
    unsigned msgs, delivered, in_gap, told, missed, dupes;
    unsigned nsamples;
    char samples[MAX_SAMPLES][112];
} books;

/* The books over the whole stream; prints the report; fails the test on
 * a violation. */
static void ledger_check(flow *f, const char *test, int64_t *before, sbuf *report, sbuf *fails)
{
    f->st.streaming = false;
    sbuf missing = {0};
    bool fenced = fences(f, &missing);
    char why[512];
    if (settle(f, SETTLE_MS, why, sizeof(why)))
        sb_printf(fails, "not settled after the faults: %s; ", why);
    int64_t after[NCTRS];
    counters_read(f, after);
    books bk[NK];
    memset(bk, 0, sizeof(bk));
    unsigned missed_msgs = 0;
    for (unsigned seq = 0; seq < f->st.nmsg; seq++) {
        int k = f->st.kind[seq];
        books *b = &bk[k];
        unsigned c = f->cnt[k][seq];
        b->msgs++;
        const char *what = NULL;
        if (c == 1) {
            b->delivered++;
        } else if (c > 1) {
            b->dupes++;
            what = "DUPLICATE";
        } else if (ledger_in_window(&f->win, f->st.sent_at[seq])) {
            b->in_gap++;
        } else if (f->st.emit_rc[seq] < 0) {
            b->told++;
        } else {
            b->missed++;
            missed_msgs++;
            what = "missed";
        }
        if (what && b->nsamples < MAX_SAMPLES)
            snprintf(b->samples[b->nsamples++], sizeof(b->samples[0]),
                     "seq %u (%s) sent +%lld ms: %s x%u", seq, kind_name[k],
                     rel(f, f->st.sent_at[seq]), what, c);
    }
    int64_t counted = ledger_counted(CTRS, NCTRS, before, after);
    sb_printf(report, "  node-2's app: %u Gap(s):", f->gaps);
    for (unsigned i = 0; i < f->win.n; i++)
        sb_printf(report, " [+%lld..+%lld told +%lld: %s]", rel(f, f->win.w[i].from),
                  rel(f, f->win.w[i].to), rel(f, f->win.w[i].got), f->win.w[i].reason);
    sb_printf(report, "; errors %u, unparsed deliveries %u\n", f->errors, f->junk);
    for (int k = 0; k < NK; k++) {
        books *b = &bk[k];
        sb_printf(report,
                  "  %-8s: %4u msgs: %4u delivered once, %4u in a Gap window, %4u refused at emit, "
                  "%4u missed, %u duplicates\n",
                  kind_name[k], b->msgs, b->delivered, b->in_gap, b->told, b->missed, b->dupes);
        for (unsigned i = 0; i < b->nsamples; i++)
            sb_printf(report, "      e.g. %s\n", b->samples[i]);
    }
    sb_printf(report, "  counters (delta, * = loss):");
    for (size_t i = 0; i < NCTRS; i++)
        if (after[i] >= 0)
            sb_printf(report, " %s%s %s %+lld", CTRS[i].loss ? "*" : "", NODE_NAMES[CTRS[i].node],
                      CTRS[i].name, (long long)ledger_delta(before[i], after[i]));
    sb_printf(report, "\n  counted losses %lld; missed messages %u\n", (long long)counted,
              missed_msgs);
    if (missing.len)
        sb_printf(report, "  fences:%s\n", missing.p);
    printf("ledger: %s: %u messages\n%s", test, f->st.nmsg, report->p ? report->p : "");
    fflush(stdout);

    unsigned dupes = bk[K_ROOM].dupes + bk[K_TGT].dupes;
    if (dupes)
        sb_printf(fails, "%u duplicate deliveries; ", dupes);
    if ((int64_t)missed_msgs > counted)
        sb_printf(fails,
                  "%u messages lost outside every Gap window and more than the %lld counted "
                  "(room %u, targeted %u); ",
                  missed_msgs, (long long)counted, bk[K_ROOM].missed, bk[K_TGT].missed);
    if (!fenced)
        sb_printf(fails, "fences lost:%s ", missing.p);
    if (f->junk)
        sb_printf(fails, "%u deliveries rx could not parse; ", f->junk);
    free(missing.p);
}

/* The ledger of test: a rig with nreplicas per primary (flow_start), the
 * stream from now on through faults(), then the books (ledger_check); the
 * test fails with every violation. */
static void ledger_test(const char *test, int nreplicas,
                        void (*faults)(flow *f, sbuf *report, sbuf *fails))
{
    flow *f = &F;
    flow_start(f, nreplicas);
    sbuf report = {0}, fails = {0};
    int64_t before[NCTRS];
    counters_read(f, before);
    f->t0 = wall_ms_h();
    ledger_stream_start(&f->st);
    faults(f, &report, &fails);
    ledger_check(f, test, before, &report, &fails);
    flow_free(f);
    if (fails.len)
        fail_msg("%s: %s", test, fails.p);
    free(report.p);
    free(fails.p);
}

/* The primary serving the room's channel, then the one serving {sidecast}
 * (keys, node and broadcast channels): pick_room put them on different
 * primaries. */
static void two_failovers(flow *f, sbuf *report, sbuf *fails)
{
    kill_phase(f, 1, f->room_ch, report, fails);
    kill_phase(f, 2, "{sidecast}", report, fails);
}

static void one_reshard(flow *f, sbuf *report, sbuf *fails)
{
    reshard_phase(f, 1, report, fails);
}

static void test_primary_killed_ledger(void **state)
{
    ledger_test("primary_killed_ledger", 1, two_failovers);
}

static void test_reshard_ledger(void **state)
{
    ledger_test("reshard_ledger", 0, one_reshard);
}

/* A cluster without sharded pub/sub (Redis 6; here SSUBSCRIBE and SPUBLISH
 * renamed away): every sidecar says so (the gauge), falls back to classic
 * SUBSCRIBE/PUBLISH on the home primary, and rooms and targeted emits work
 * as before, each delivery exactly once. */
static void test_classic_fallback(void **state)
{
    rig *g = &G;
    rig_unsharded = true;
    rig_start(g, 0, 3, NULL, NULL);
    rig_unsharded = false;
    for (int i = 0; i < g->nd; i++) {
        uint64_t end = now_ms_h() + READY_MS;
        while (metric(g->d[i], "sidecast_redis_cluster_sharded_pubsub") != 0 && now_ms_h() < end)
            usleep(50000);
        assert_true(metric(g->d[i], "sidecast_redis_cluster_sharded_pubsub") == 0);
        wait_cluster_ready(g->d[i], NODE_NAMES[i], READY_MS);
    }
    tally ta, tb, tc;
    tallies_open(g, &ta, &tb, &tc);
    enum { N = 10 };
    char names[N][24];
    const char *rooms[N];
    rooms_on_b_and_c("classic", names, rooms, N, &ta, &tb, &tc);
    /* classic SUBSCRIBE: both members' sidecars, on the home primary */
    int home = channel_owner(g, "{sidecast}");
    assert_true(home >= 0);
    for (int k = 0; k < N; k++) {
        char args[96], want[64];
        snprintf(args, sizeof(args), "PUBSUB NUMSUB sidecast:room:%s", rooms[k]);
        snprintf(want, sizeof(want), "sidecast:room:%s\n2", rooms[k]);
        uint64_t end = now_ms_h() + SUBS_MS;
        char *out = NULL;
        for (;;) {
            free(out);
            out = rcluster_cli(g->s, home, args);
            if ((out && strstr(out, want)) || now_ms_h() > end)
                break;
            usleep(50000);
        }
        if (!out || !strstr(out, want))
            fail_msg("room %s: PUBSUB NUMSUB on the home primary says %s (want 2 subscribers)",
                     rooms[k], out ? out : "nothing");
        free(out);
    }
    tally *members[] = {&tb, &tc};
    emit_rooms_fenced(&ta, rooms, N, members, 2, 1);
    /* targeted: the script PUBLISHes to the node's channel */
    const char *one[] = {"b-03"};
    sc_target t = {.socket_ids = one, .n_socket_ids = 1};
    emit_payload(ta.c, &t, "F");
    assert_int_equal(sc_client_sync(ta.c, 0), 0);
    int bi = tally_index(&tb, "b-03");
    for (uint64_t end = now_ms_h() + DELIVER_MS; tb.f[bi] < 2 && now_ms_h() < end;)
        assert_true(sc_client_poll(tb.c, 5) >= 0);
    app_drain(tb.c, 10);
    assert_int_equal(tb.f[bi], 2);
    assert_int_equal(tb.junk + tc.junk + ta.junk, 0);
    for (int i = 0; i < g->nd; i++)
        assert_true(metric(g->d[i], "sidecast_redis_cluster_sharded_pubsub") == 0);
    sc_client_close(ta.c);
    sc_client_close(tb.c);
    sc_client_close(tc.c);
    rig_free(g);
}

/* Eight sidecars on three primaries: node-1 emits once to each of 24
 * rooms, every other node has a member in 12 of them (room k on nodes
 * with (k + node) even, so every room has members on 3 or 4 nodes). Each
 * member gets each emit exactly once; the publishes per shard (node-1's
 * per-shard counters) add up to one per room and reach every primary;
 * every sidecar holds at most two connections per primary, and they are
 * all the connections each primary has. */
#define EIGHT_ROOMS 24

/* Sidecar i's sidecast_redis_shard_publishes_total for primary p (the
 * address it was given: the TLS port under IT_REDIS_TLS). */
static double shard_publishes(rig *g, int i, int p)
{
    char series[160];
    snprintf(series, sizeof(series), "sidecast_redis_shard_publishes_total{shard=\"127.0.0.1:%d\"}",
             g->s->tls_port[p] ? g->s->tls_port[p] : g->s->port[p]);
    return metric(g->d[i], series);
}

static void test_eight_sidecars(void **state)
{
    rig *g = &G;
    rig_start(g, 0, 8, NULL, NULL);
    tally t[8];
    char names[EIGHT_ROOMS][24];
    const char *rooms[EIGHT_ROOMS];
    for (int k = 0; k < EIGHT_ROOMS; k++) {
        snprintf(names[k], sizeof(names[k]), "eight-%02d", k);
        rooms[k] = names[k];
    }
    long members[EIGHT_ROOMS] = {0};
    for (int i = 0; i < 8; i++) {
        tally_open(&t[i], g->d[i], NODE_NAMES[i]);
        for (int k = 0; i > 0 && k < EIGHT_ROOMS; k++) {
            if ((k + i) % 2)
                continue;
            char id[32];
            snprintf(id, sizeof(id), "s%d-%02d", i, k);
            tally_socket(&t[i], id, &rooms[k], 1);
            members[k]++;
        }
        assert_int_equal(sc_client_sync(t[i].c, 0), 0);
    }
    assert_int_equal(wait_nodes(t[0].c, 8, 15000), 8);
    for (int k = 0; k < EIGHT_ROOMS; k++)
        if (wait_room_subs(g, &rooms[k], 1, members[k], SUBS_MS))
            fail_msg("room %s: not %ld subscribers on its primary after %d ms", rooms[k],
                     members[k], SUBS_MS);
    double before[NPRIMARIES];
    for (int p = 0; p < NPRIMARIES; p++)
        before[p] = shard_publishes(g, 0, p);
    tally *m[7];
    for (int i = 1; i < 8; i++)
        m[i - 1] = &t[i];
    emit_rooms_fenced(&t[0], rooms, EIGHT_ROOMS, m, 7, 1);
    /* publishes per shard: 2 per room (emit and fence), on the room's primary */
    double sum = 0;
    int expect[NPRIMARIES] = {0};
    for (int k = 0; k < EIGHT_ROOMS; k++) {
        char ch[64];
        room_channel(rooms[k], ch, sizeof(ch));
        int owner = channel_owner(g, ch);
        assert_true(owner >= 0 && owner < NPRIMARIES);
        expect[owner] += 2;
    }
    printf("eight_sidecars: publishes per shard from node-1:");
    for (int p = 0; p < NPRIMARIES; p++) {
        double d = shard_publishes(g, 0, p) - before[p];
        printf(" %g (rooms' %d)", d, expect[p]);
        sum += d;
        /* the room publishes of a shard, plus on the home one the node
         * channels' traffic (canaries, heartbeat-driven announcements) */
        assert_true(d >= expect[p]);
        assert_true(expect[p] > 0);
    }
    printf("\n");
    /* connections: at most 2 per sidecar per primary, and all of them. A
     * third may be the slot map's own, opened while none was up and closed
     * at its next periodic ask (SC_TOPO_REFRESH_MS, 5 s): given 12 s. */
    for (int p = 0; p < NPRIMARIES; p++) {
        int total = 0, sidecars = 0, over = -1, n = 0;
        uint64_t end = now_ms_h() + 12000;
        for (int tries = 0; tries < 200; tries++) {
            total = rcluster_clients(g->s, p, NULL);
            sidecars = 0;
            over = -1;
            for (int i = 0; i < 8; i++) {
                int k = rcluster_clients_of_pid(g->s, p, g->d[i]->pid);
                if (k > 2 && over < 0) {
                    over = i;
                    n = k;
                }
                sidecars += k;
            }
            if ((sidecars == total && over < 0) || now_ms_h() >= end)
                break;
            usleep(100 * 1000);
        }
        if (over >= 0) {
            rcluster_print_clients_of_pid(g->s, p, g->d[over]->pid);
            fail_msg("%s holds %d connections to primary %d", NODE_NAMES[over], n, p);
        }
        printf("eight_sidecars: primary %d: %d connections from 8 sidecars\n", p, sidecars);
        assert_int_equal(sidecars, total);
        assert_true(sidecars <= 16);
    }
    for (int i = 0; i < 8; i++)
        sc_client_close(t[i].c);
    rig_free(g);
}

/* SIDECAST_RCLUSTER_ONLY=<part of a test name> runs just the matching ones. */

/* ---- h. the directory spread over buckets ------------------------------------------------ */

#define DIR_N 120
#define DIR_USERS 12
#define DIR_BUCKETS 64 /* cluster_buckets.c's SC_DIR_BUCKETS: part of the layout */
/* a node's list in each bucket holds the marker field '' too */
#define DIR_MARKERS DIR_BUCKETS

/* A command on node i with one key argument (hiredis formats it). */
static redisReply *node_key_command(rcluster_set *s, int i, const char *verb, const char *key,
                                    const char *arg)
{
    redisContext *rc = redisConnect("127.0.0.1", s->port[i]);
    assert_true(rc && !rc->err);
    redisReply *r =
        arg ? redisCommand(rc, "%s %s %s", verb, key, arg) : redisCommand(rc, "%s %s", verb, key);
    redisFree(rc);
    assert_non_null(r);
    return r;
}

/* An integer answer of verb key [arg] from the primary serving key's slot. */
static long long key_int(rig *g, const char *verb, const char *key, const char *arg)
{
    int owner = rcluster_slot_owner(g->s, rcluster_key_slot(key));
    assert_true(owner >= 0);
    redisReply *r = node_key_command(g->s, owner, verb, key, arg);
    if (r->type != REDIS_REPLY_INTEGER)
        fail_msg("%s %s on node %d: %s", verb, key, owner,
                 r->type == REDIS_REPLY_ERROR ? r->str : "?");
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

/* The bucket of a socket, session or user id, and its key "{sidecast:b}:<rest>". */
static void bucket_key(const char *id, const char *rest, char *out, size_t len)
{
    snprintf(out, len, "{sidecast:%d}:%s", rcluster_key_slot(id) % DIR_BUCKETS, rest);
}

/* Sum over the buckets of HLEN {sidecast:b}:<what>. */
static long long buckets_hlen(rig *g, const char *what)
{
    long long n = 0;
    char key[200];
    for (int b = 0; b < DIR_BUCKETS; b++) {
        snprintf(key, sizeof(key), "{sidecast:%d}:%s", b, what);
        n += key_int(g, "HLEN", key, NULL);
    }
    return n;
}

/* Keys named "{sidecast:*" on node i (SCAN through redis-cli). */
static int dir_keys_on(rig *g, int i)
{
    char *out = rcluster_cli(g->s, i, "--scan --pattern {sidecast:*");
    int n = 0;
    for (char *p = out; p && *p; p++)
        n += *p == '\n';
    free(out);
    return n;
}

/* DIR_N sockets "d-NNN" of sessions "ds-NNN" and users "du-NN" on t. */
static void dir_sockets(tally *t)
{
    for (int i = 0; i < DIR_N; i++) {
        char id[24], sid[24], uid[24];
        snprintf(id, sizeof(id), "d-%03d", i);
        snprintf(sid, sizeof(sid), "ds-%03d", i);
        snprintf(uid, sizeof(uid), "du-%02d", i % DIR_USERS);
        snprintf(t->id[t->n++], sizeof(t->id[0]), "%s", id);
        assert_int_equal(sc_client_socket_up(t->c, id, sid, uid, NULL, 0, NULL, 0), 0);
    }
}

/* Every socket of node-2 found by socket id and session id from a, each
 * user's sockets by user id; `every`: only ids with i % every == 0. */
static void dir_lookups(sc_client *a, const char *node, int every)
{
    for (int i = 0; i < DIR_N; i += every) {
        char id[24], sid[24];
        snprintf(id, sizeof(id), "d-%03d", i);
        snprintf(sid, sizeof(sid), "ds-%03d", i);
        located x = lookup_until(a, SC_BY_SOCKET, id, 1);
        assert_string_equal(x.node[0], node);
        assert_string_equal(x.session[0], sid);
        x = lookup_until(a, SC_BY_SESSION, sid, 1);
        assert_string_equal(x.socket[0], id);
        assert_string_equal(x.node[0], node);
    }
}

static void on_session_kv(void *ud, const char *key, const uint8_t *v, size_t len)
{
    (*(int *)ud)++;
}

/* Until the sum of counter `name` over apps a and b (b may be NULL) is at
 * least `want`, bounded by 20 s; returns the sum then. */
static int64_t wait_counter(sc_client *a, sc_client *b, const char *name, int64_t want)
{
    int64_t v = 0;
    for (uint64_t end = now_ms_h() + 20000;; usleep(50000)) {
        v = stat_or(a, name) + (b ? stat_or(b, name) : 0);
        if (v >= want || now_ms_h() >= end)
            return v;
    }
}

/* A rig of three sidecars (nreplicas replicas per primary) with DIR_N
 * sockets on node-2 (dir_sockets), registered; nb: node-2's id, what: its
 * list's key name in a bucket. */
typedef struct dir_rig {
    rig *g;
    tally ta, tb, tc;
    char nb[64], what[128];
} dir_rig;

static void dir_start(dir_rig *d, int nreplicas)
{
    d->g = &G;
    rig_start(d->g, nreplicas, 3, NULL, NULL);
    tallies_open(d->g, &d->ta, &d->tb, &d->tc);
    dir_sockets(&d->tb);
    tallies_synced(&d->ta, &d->tb, &d->tc);
    snprintf(d->nb, sizeof(d->nb), "%s", sc_client_node_id(d->tb.c));
    snprintf(d->what, sizeof(d->what), "nodesock:%s", d->nb);
}

static void dir_end(dir_rig *d)
{
    sc_client_close(d->ta.c);
    if (d->tb.c)
        sc_client_close(d->tb.c);
    sc_client_close(d->tc.c);
    rig_free(d->g);
}

static void test_directory_spread(void **state)
{
    dir_rig d;
    dir_start(&d, 0);
    rig *g = d.g;
    dir_lookups(d.ta.c, d.nb, 1);
    for (int u = 0; u < DIR_USERS; u++) {
        char uid[24];
        snprintf(uid, sizeof(uid), "du-%02d", u);
        located x = lookup_until(d.tc.c, SC_BY_USER, uid, DIR_N / DIR_USERS);
        assert_string_equal(x.node[0], d.nb);
    }

    /* the directory's keys are on every primary, none in the home slot's
     * old hashes; node-2 listed each entry it wrote: socket, session, user */
    int on[NPRIMARIES];
    for (int i = 0; i < NPRIMARIES; i++) {
        on[i] = dir_keys_on(g, i);
        printf("directory_spread: primary %d holds %d directory keys\n", i, on[i]);
        assert_true(on[i] > 0);
    }
    assert_int_equal(key_int(g, "EXISTS", "{sidecast}:sockets", NULL), 0);
    assert_int_equal(buckets_hlen(g, d.what), 3 * DIR_N + DIR_MARKERS);
    assert_int_equal(buckets_hlen(g, "sockets"), DIR_N);
    assert_int_equal(buckets_hlen(g, "sessions"), DIR_N);

    /* targeted: "M" to each socket, then "F" to each user: each socket gets
     * one of each (one publisher's messages keep their order on node-2's
     * channel, so once the fences are in, nothing else is coming) */
    for (int i = 0; i < DIR_N; i++) {
        sc_target t = {.socket_ids = (const char *const[]){d.tb.id[i]}, .n_socket_ids = 1};
        emit_payload(d.ta.c, &t, "M");
    }
    for (int u = 0; u < DIR_USERS; u++) {
        char uid[24];
        snprintf(uid, sizeof(uid), "du-%02d", u);
        sc_target t = {.user_ids = (const char *const[]){uid}, .n_user_ids = 1};
        emit_payload(d.ta.c, &t, "F");
    }
    assert_int_equal(sc_client_sync(d.ta.c, 0), 0);
    tally *members[] = {&d.tb};
    bool fenced = tally_wait_fences(members, 1, 1, DELIVER_MS);
    for (int i = 0; i < DIR_N; i++)
        if (d.tb.m[i] != 1 || d.tb.f[i] != 1)
            fail_msg("%s got %u targeted and %u user emits, want 1 of each (fenced: %d)",
                     d.tb.id[i], d.tb.m[i], d.tb.f[i], fenced);
    assert_int_equal(d.ta.junk + d.tb.junk + d.tc.junk, 0);

    /* session data: written from node-1, read from node-3 */
    sc_session_entry set[] = {{"lang", (const uint8_t *)"fr", 2}, {"n", (const uint8_t *)"1", 1}};
    assert_int_equal(sc_client_session_set(d.ta.c, "ds-007", set, 2, NULL, 0, 5000), 0);
    int kv = 0;
    bool connected = false;
    assert_int_equal(sc_client_session_get(d.tc.c, "ds-007", on_session_kv, &kv, &connected, 5000),
                     2);
    assert_int_equal(kv, 2);
    assert_true(connected);

    /* half the sockets leave: their entries go from every bucket, the
     * session data of theirs expires (session_grace_ms), the rest stay */
    for (int i = 1; i < DIR_N; i += 2)
        assert_int_equal(sc_client_socket_down(d.tb.c, d.tb.id[i]), 0);
    assert_int_equal(sc_client_sync(d.tb.c, 0), 0);
    lookup_until(d.ta.c, SC_BY_SOCKET, "d-119", 0);
    lookup_until(d.ta.c, SC_BY_USER, "du-01", 0);
    lookup_until(d.ta.c, SC_BY_USER, "du-00", DIR_N / DIR_USERS);
    assert_int_equal(buckets_hlen(g, d.what), 3 * DIR_N / 2 + DIR_MARKERS);
    assert_int_equal(buckets_hlen(g, "sockets"), DIR_N / 2);
    assert_int_equal(buckets_hlen(g, "sessions"), DIR_N / 2);
    char key[128];
    bucket_key("ds-007", "sdata:ds-007", key, sizeof(key));
    assert_true(key_int(g, "PTTL", key, NULL) > 0);
    bucket_key("ds-006", "sdata:ds-006", key, sizeof(key));
    assert_int_equal(key_int(g, "EXISTS", key, NULL), 0);

    /* the primaries not serving the home slot wiped, their connections
     * kept: node-2's heartbeat finds a bucket's marker gone and rewrites
     * its directory into every bucket */
    int home = rcluster_slot_owner(g->s, rcluster_key_slot("{sidecast}"));
    int64_t resyncs = stat_or(d.tb.c, "directory_resyncs");
    for (int i = 0; i < NPRIMARIES; i++)
        if (i != home)
            freeReplyObject(node_command(g->s, i, "FLUSHALL"));
    assert_true(wait_counter(d.tb.c, NULL, "directory_resyncs", resyncs + 1) > resyncs);
    dir_lookups(d.ta.c, d.nb, 2);
    assert_int_equal(buckets_hlen(g, d.what), 3 * DIR_N / 2 + DIR_MARKERS);

    dir_end(&d);
}

/* node-2 killed: a survivor's heartbeat names it dead, and its entries go
 * from every bucket before it leaves the node list. */
static void test_dead_node_forgotten(void **state)
{
    dir_rig d;
    dir_start(&d, 0);
    rig *g = d.g;
    lookup_until(d.ta.c, SC_BY_SOCKET, "d-000", 1);
    lookup_until(d.ta.c, SC_BY_SOCKET, "d-119", 1);
    assert_int_equal(buckets_hlen(g, d.what), 3 * DIR_N + DIR_MARKERS);
    sc_client_close(d.tb.c);
    d.tb.c = NULL;
    daemon_kill(g->d[1]); /* rig_free frees it */
    assert_true(wait_counter(d.ta.c, d.tc.c, "dead_nodes_reaped", 1) >= 1);
    assert_int_equal(buckets_hlen(g, d.what), 0);
    assert_int_equal(buckets_hlen(g, "sockets"), 0);
    assert_int_equal(buckets_hlen(g, "sessions"), 0);
    for (int u = 0; u < DIR_USERS; u++) {
        char uid[24], key[128], rest[64];
        snprintf(uid, sizeof(uid), "du-%02d", u);
        snprintf(rest, sizeof(rest), "user:%s", uid);
        bucket_key(uid, rest, key, sizeof(key));
        assert_int_equal(key_int(g, "EXISTS", key, NULL), 0);
    }
    assert_int_equal(key_int(g, "SISMEMBER", "{sidecast}:nodes", d.nb), 0);
    lookup_until(d.ta.c, SC_BY_USER, "du-00", 0);
    dir_end(&d);
}

/* node-2 stopped (SIGTERM) with its sockets: it removes its entries from
 * every bucket and its marker, leaves the node list and exits at once (no
 * shutdown timeout); nobody had to reap it. */
static void test_node_leaves(void **state)
{
    dir_rig d;
    dir_start(&d, 0);
    rig *g = d.g;
    char marker[160];
    snprintf(marker, sizeof(marker), "{sidecast}:nodesock:%s", d.nb);
    lookup_until(d.ta.c, SC_BY_SOCKET, "d-119", 1);
    assert_int_equal(buckets_hlen(g, d.what), 3 * DIR_N + DIR_MARKERS);
    assert_int_equal(daemon_stop(g->d[1]), 0);
    assert_false(daemon_log_contains(g->d[1], "shutdown timeout"));
    assert_true(daemon_log_contains(g->d[1], "leaving the cluster"));
    sc_client_close(d.tb.c);
    d.tb.c = NULL;
    assert_int_equal(buckets_hlen(g, d.what), 0);
    assert_int_equal(buckets_hlen(g, "sockets"), 0);
    assert_int_equal(buckets_hlen(g, "sessions"), 0);
    assert_int_equal(key_int(g, "EXISTS", marker, NULL), 0);
    assert_int_equal(key_int(g, "SISMEMBER", "{sidecast}:nodes", d.nb), 0);
    assert_int_equal(stat_or(d.ta.c, "dead_nodes_reaped") + stat_or(d.tc.c, "dead_nodes_reaped"),
                     0);
    dir_end(&d);
}

/* node-2 frozen (SIGSTOP) past node_ttl_ms: the survivors forget it from
 * every bucket; thawed, it rewrites its directory, and once more after
 * every node had a heartbeat, and every socket is found again. */
static void test_stalled_node_returns(void **state)
{
    dir_rig d;
    dir_start(&d, 0);
    rig *g = d.g;
    dir_lookups(d.ta.c, d.nb, 1);
    int64_t resyncs = stat_or(d.tb.c, "directory_resyncs");
    kill(g->d[1]->pid, SIGSTOP);
    assert_true(wait_counter(d.ta.c, d.tc.c, "dead_nodes_reaped", 1) >= 1);
    assert_int_equal(buckets_hlen(g, d.what), 0);
    kill(g->d[1]->pid, SIGCONT);
    assert_true(wait_counter(d.tb.c, NULL, "directory_resyncs", resyncs + 2) >= resyncs + 2);
    assert_true(stat_or(d.tb.c, "self_reaped") >= 1);
    dir_lookups(d.ta.c, d.nb, 1);
    assert_int_equal(buckets_hlen(g, d.what), 3 * DIR_N + DIR_MARKERS);
    dir_end(&d);
}

/* A primary holding buckets, not the home slot's, SIGKILLed and its
 * replica promoted: node-2 rewrites its directory there, and every socket
 * is found again. */
static void test_bucket_primary_failover(void **state)
{
    dir_rig d;
    dir_start(&d, 1);
    rig *g = d.g;
    dir_lookups(d.ta.c, d.nb, 1);
    int home = rcluster_slot_owner(g->s, rcluster_key_slot("{sidecast}")), victim = -1;
    for (int i = 0; i < NPRIMARIES && victim < 0; i++)
        if (i != home && dir_keys_on(g, i) > 0)
            victim = i;
    assert_true(victim >= 0);
    int64_t resyncs = stat_or(d.tb.c, "directory_resyncs");
    rcluster_kill(g->s, victim);
    assert_true(rcluster_wait_ok(g->s, 30000));
    assert_true(wait_counter(d.tb.c, NULL, "directory_resyncs", resyncs + 1) > resyncs);
    dir_lookups(d.ta.c, d.nb, 1);
    dir_end(&d);
}

int main(void)
{
    const struct CMUnitTest all[] = {
        cmocka_unit_test_teardown(test_rooms_spread, teardown),
        cmocka_unit_test_teardown(test_targeted_and_lookups, teardown),
        cmocka_unit_test_teardown(test_connections_per_primary, teardown),
        cmocka_unit_test_teardown(test_primary_killed_ledger, teardown),
        cmocka_unit_test_teardown(test_reshard_ledger, teardown),
        cmocka_unit_test_teardown(test_classic_fallback, teardown),
        cmocka_unit_test_teardown(test_eight_sidecars, teardown),
        cmocka_unit_test_teardown(test_acl_rule, teardown),
        cmocka_unit_test_teardown(test_directory_spread, teardown),
        cmocka_unit_test_teardown(test_dead_node_forgotten, teardown),
        cmocka_unit_test_teardown(test_node_leaves, teardown),
        cmocka_unit_test_teardown(test_stalled_node_returns, teardown),
        cmocka_unit_test_teardown(test_bucket_primary_failover, teardown),
    };
    return run_tests_matching("it_rcluster", all, sizeof(all) / sizeof(all[0]),
                              "SIDECAST_RCLUSTER_ONLY");
}
