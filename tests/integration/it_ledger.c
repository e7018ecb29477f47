/* Integration: the message ledger (issue 14).
 *
 * Three nodes (node-a, node-b, node-c: each a sidecastd joined to one
 * private redis-server), an app on each with three registered sockets:
 *   <x>-room  in room "ledger"
 *   <x>-tgt   no room: the target of targeted emits
 *   <x>-usr   user "user-<x>"
 * An app "tx" on node-a emits numbered messages every EMIT_EVERY_MS, in
 * turn to the room, to the three -tgt socket ids, to the three users and to
 * everyone; a second connection to node-a sends a broadcast with acks to
 * the room every ACK_EVERY_MS, pipelined (many in flight while a fault
 * lasts), and every app answers for each of its sockets. Each payload
 * carries its kind, its sequence number and its send time (wall ms). One
 * fault per test is injected mid-stream and removed, the stream goes on,
 * and then fences of every kind are emitted until every app got them
 * (pub/sub keeps one publisher's order, so everything sent before has
 * arrived or is lost).
 *
 * The checker, per message and per socket it should reach:
 *   - delivered exactly once (a duplicate always fails), or
 *   - sent inside a window the receiving app was told about: a Gap
 *     [from_unix_ms - LEDGER_SLACK_BEFORE_MS, to_unix_ms +
 *     LEDGER_SLACK_AFTER_MS] (ledger.h; the slack: the send time is stamped
 *     by the test before the emit reaches node-a and Redis; nothing sent
 *     later than LEDGER_SLACK_AFTER_MS after the window may be lost on its
 *     account), or the time its own sidecar was down (sidecar SIGKILL: from
 *     the kill until the restarted sidecar reports its subscriptions up);
 *     never for node-a's own app, whose deliveries are local; or
 *   - counted: the number of messages missed outside every window must not
 *     exceed the increase, over the repetition, of the loss counters
 *     redis_commands_lost + outbox_dropped_volatile + outbox_dropped_full +
 *     dircache_unreceived + targeted_no_route + targeted_unreceived on the
 *     sender's node and dircache_stale_received on
 *     the receiving nodes (the counters count commands or messages, not
 *     receiving sockets: a message missed by several sockets counts once).
 *     An acked emit whose request failed or timed out is counted by the
 *     sender itself (it was told).
 * Acked emits: each request ends (within request_timeout_ms and slack) with
 * an error, a timeout, or as many answers as it announced, never fewer in
 * silence and never zero in silence. And after the fault is removed, a
 * lookup of node-b's socket and a targeted emit to it from node-c (a node
 * that never cached it) succeed
 * within PROBE_HEARTBEATS heartbeats (after Redis itself is back, for the
 * Redis faults: plus the longest reconnect delay).
 *
 * Faults: Redis SIGKILL + restart empty, Redis SIGSTOP/SIGCONT, node-b
 * SIGSTOP longer than the node TTL, FLUSHALL, node-b's sidecastd SIGKILL +
 * restart under its running app; and on a Sentinel topology (a primary, a
 * replica, three sentinels: sentinel_start; the nodes get the
 * redis+sentinel:// URL and follow the primary): SENTINEL FAILOVER mymaster
 * sent to a sentinel mid-stream, and the primary SIGKILLed (the sentinels
 * promote the replica after SENTINEL_DOWN_AFTER_MS and an election; the
 * killed server is then restarted empty, and Sentinel turns it into a
 * replica of the new primary). For these the fault counts as removed when
 * the sentinel the nodes ask first names the new primary (its failover
 * time, measured from the fault, is reported), and the probes start once
 * every node counted the switch (redis_sentinel_switches): the same bound
 * after that as for the Redis faults, i.e. the failover time plus the
 * heartbeats and the longest reconnect delay from the fault. Anything the
 * test asks Redis itself goes to the current primary (sentinel_primary_now).
 * SIDECAST_LEDGER_REPS=5 repeats each fault five times on the same cluster
 * (the long form; on Sentinel, each repetition after the first waits until
 * the sentinels list the other server as a replica in sync: a restarted or
 * demoted primary becomes one only some 10-20 s later, as Sentinel waits
 * 8 s before it converts a server that says it is a primary and refreshes
 * its view of a replica every 10 s); the default is 1.
 * Under IT_REDIS_TLS the Sentinel faults are skipped (the harness's Sentinel
 * set speaks plain text: they would only repeat the plain run).
 * SIDECAST_LEDGER_ONLY=<part of a test name> (e.g. flushall, sentinel) runs
 * only the matching faults.
 * Each repetition prints a "ledger:" report; a failing test prints what was
 * lost, when, against which windows and counters.
 *
 * The stream, the windows, the probes and the counters are ledger.{c,h}'s,
 * shared with it_rcluster (the ledger on a Redis Cluster).
 *
 * Every wait is bounded and waits on something observable; only processes
 * the test started are signalled, by pid; loopback only. */
#include "harness.h"
#include "ledger.h"

#include "wire.h"

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <time.h>
#include <unistd.h>

#define NAPPS 3
#define NSOCK 3
#define MAX_MSGS 3000
_Static_assert(MAX_MSGS <= LEDGER_MAX_MSGS, "the stream's record is ledger_stream's");
#define MAX_ACKS 400
#define MAX_SAMPLES 6
#define EMIT_EVERY_MS 4
#define ACK_EVERY_MS 20
#define HEARTBEAT_MS 200     /* node_start's --heartbeat-ms */
#define NODE_TTL_MS 800      /* node_start's --node-ttl-ms */
#define RECONNECT_MAX_MS 625 /* node_start's --redis-reconnect-max-ms 500, +25 % jitter */
#define PROBE_HEARTBEATS 3
#define PROBE_GIVEUP_MS 3000
#define PROBE_EVERY_MS 40
#define PRE_MS 300
#define POST_MS 1000
#define FENCE_MS 5000
/* Sentinel: the sentinels must have named a new primary within this after
 * the fault (theirs to take: down-after, an election that may be retried
 * after 2 x failover-timeout (4 s), the promotion; normally 1-4 s), every
 * node must count the switch within SWITCH_FOLLOW_MS after that, and the
 * topology must be whole again (the other server a replica in sync)
 * within WHOLE_MS before a further repetition */
#define SENTINEL_GIVEUP_MS 20000
#define SWITCH_FOLLOW_MS 5000
#define WHOLE_MS 40000

enum { K_ROOM, K_TGT, K_USER, K_ALL, K_ACK, NKINDS };
static const char kind_code[NKINDS] = {'r', 't', 'u', 'b', 'k'};
static const char *const kind_name[NKINDS] = {"room", "targeted", "user", "broadcast", "acked"};
/* which of an app's sockets (room, tgt, usr) each kind reaches */
static const bool kind_reaches[NKINDS][NSOCK] = {{true, false, false},
                                                 {false, true, false},
                                                 {false, false, true},
                                                 {true, true, true},
                                                 {true, false, false}};

typedef enum {
    F_REDIS_KILL,
    F_REDIS_STOP,
    F_NODE_STALL,
    F_FLUSHALL,
    F_SIDECAR_KILL,
    F_SENTINEL_FAILOVER,
    F_SENTINEL_KILL
} fault;
static const char *const fault_name[] = {"redis SIGKILL+restart empty",
                                         "redis SIGSTOP/SIGCONT",
                                         "node-b SIGSTOP > node TTL",
                                         "redis FLUSHALL",
                                         "node-b sidecastd SIGKILL+restart",
                                         "SENTINEL FAILOVER",
                                         "sentinel: primary SIGKILL (replica promoted)"};

static bool sentinel_fault(fault f)
{
    return f == F_SENTINEL_FAILOVER || f == F_SENTINEL_KILL;
}

typedef struct app {
    const char *name;
    int node;
    bool local; /* on the sender's node: deliveries never cross Redis */
    sc_client *c;
    bool up;
    char sock[NSOCK][16];
    char user[16];
    uint8_t cnt[NSOCK][MAX_MSGS];
    uint8_t ack_cnt[NSOCK][MAX_ACKS];
    unsigned dupes, junk, errors;
    char last_error[128];
    ledger_windows win; /* Gap notices, and its own sidecar's downtime */
    unsigned gaps;
    int fence[4]; /* last fence round seen per kind (room, tgt, user, all); -1 none */
    uint64_t probe_at;
} app;

typedef struct ack_res {
    uint64_t sent_at, done_at; /* done_at: 0 while unanswered */
    int rc;
    uint32_t expect, answers, nodes_expected, nodes_answered;
    bool done, timed_out;
    char err[112];
} ack_res;

typedef struct world {
    redis_srv *r;    /* the single redis-server, or NULL on Sentinel */
    sentinel_set *s; /* the Sentinel topology, or NULL */
    char note[512];  /* what a Sentinel fault saw, for the report */
    int rep;         /* the repetition under way, from 1 */
    daemon_t *node[NAPPS];
    app apps[NAPPS];
    sc_client *tx, *mon[NAPPS];
    int ackfd; /* raw connection "tx-ack" on node-a */
    char b_node_id[64];
    /* the stream of one repetition, from tx: room, targeted, user, broadcast */
    ledger_stream st;
    /* acked emits, pipelined: request ids ack_id_base + index */
    unsigned nacks;
    uint64_t ack_id_base, ack_next_id, next_ack;
    unsigned ack_stray;
    ack_res acks[MAX_ACKS];
    /* probes after the fault, from node-c */
    ledger_probe probe;
    uint64_t t_fault, t_resume, t_start;
} world;

static world W;

/* ---- the report ----------------------------------------------------------------- */

/* ms relative to the fault, signed */
static long long rel(uint64_t t)
{
    return (long long)t - (long long)W.t_fault;
}

/* ---- the receiving apps ----------------------------------------------------------- */

static int sock_index(const app *a, const char *id)
{
    for (int s = 0; s < NSOCK; s++)
        if (strcmp(a->sock[s], id) == 0)
            return s;
    return -1;
}

static int code_index(char k)
{
    for (int i = 0; i < NKINDS; i++)
        if (kind_code[i] == k)
            return i;
    return -1;
}

/* Payloads: "L<kind>:<seq>:<sent ms>", "F<kind>:<round>", "P:<n>". */
static void record(app *a, int s, const uint8_t *p, size_t len)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%.*s", (int)(len < 63 ? len : 63), (const char *)p);
    unsigned seq;
    int k = code_index(buf[1]);
    if (buf[0] == 'L' && k >= 0 && sscanf(buf + 2, ":%u:", &seq) == 1) {
        uint8_t *c = k == K_ACK ? (seq < MAX_ACKS ? &a->ack_cnt[s][seq] : NULL)
                                : (seq < MAX_MSGS ? &a->cnt[s][seq] : NULL);
        if (!c) {
            a->junk++;
            return;
        }
        if (*c)
            a->dupes++;
        if (*c < 255)
            (*c)++;
    } else if (buf[0] == 'F' && k >= 0 && k < K_ACK && sscanf(buf + 2, ":%u", &seq) == 1) {
        if ((int)seq > a->fence[k])
            a->fence[k] = (int)seq;
    } else if (buf[0] == 'P') {
        if (!a->probe_at)
            a->probe_at = wall_ms_h();
    } else {
        a->junk++;
    }
}

static void on_deliver(void *ud, const char *socket_id, const uint8_t *p, size_t len)
{
    app *a = ud;
    int s = sock_index(a, socket_id);
    if (s < 0) {
        a->junk++;
        return;
    }
    record(a, s, p, len);
}

typedef struct ack_ctx {
    app *a;
    uint64_t ack_id;
    const sc_delivery *d;
} ack_ctx;

static void ack_one(void *ud, const char *socket_id)
{
    ack_ctx *ax = ud;
    int s = sock_index(ax->a, socket_id);
    if (s >= 0)
        record(ax->a, s, ax->d->payload, ax->d->len);
    const uint8_t *ps[] = {(const uint8_t *)socket_id};
    size_t lens[] = {strlen(socket_id)};
    sc_client_ack(ax->a->c, ax->ack_id, 0, ps, lens, 1, false);
}

/* Every selected socket answers with its id (as a socket.io client would). */
static void on_deliver_ack(void *ud, uint64_t ack_id, const sc_delivery *d)
{
    app *a = ud;
    size_t n = sc_client_resolve(a->c, &d->to, NULL, NULL);
    sc_client_ack(a->c, ack_id, (uint32_t)n, NULL, NULL, 0, false);
    ack_ctx ax = {a, ack_id, d};
    sc_client_resolve(a->c, &d->to, ack_one, &ax);
    sc_client_ack(a->c, ack_id, 0, NULL, NULL, 0, true);
}

static void on_gap(void *ud, uint64_t from, uint64_t to, const char *reason)
{
    app *a = ud;
    a->gaps++;
    ledger_window_add(&a->win, from, to, wall_ms_h(), "Gap: ", reason);
}

static void on_error(void *ud, int code, const char *message, const char *ref)
{
    app *a = ud;
    a->errors++;
    snprintf(a->last_error, sizeof(a->last_error), "code %d: %s (%s)", code, message ? message : "",
             ref ? ref : "");
}

static void app_open_rx(world *w, int i)
{
    static const char *const names[] = {"rx-a", "rx-b", "rx-c"};
    static const char *const room[] = {"ledger"};
    app *a = &w->apps[i];
    memset(a, 0, sizeof(*a));
    a->name = names[i];
    a->node = i;
    a->local = i == 0;
    char x = (char)('a' + i);
    snprintf(a->sock[0], sizeof(a->sock[0]), "%c-room", x);
    snprintf(a->sock[1], sizeof(a->sock[1]), "%c-tgt", x);
    snprintf(a->sock[2], sizeof(a->sock[2]), "%c-usr", x);
    snprintf(a->user, sizeof(a->user), "user-%c", x);
    for (int k = 0; k < 4; k++)
        a->fence[k] = -1;
    sc_client_options o = {.path = w->node[i]->sock,
                           .name = a->name,
                           .timeout_ms = 10000,
                           .on_deliver = on_deliver,
                           .on_deliver_ack = on_deliver_ack,
                           .on_gap = on_gap,
                           .on_error = on_error,
                           .ud = a};
    if (sc_client_open(&o, &a->c) < 0)
        fail_msg("open %s: %s", a->name, sc_client_last_error(a->c));
    char sid[32];
    for (int s = 0; s < NSOCK; s++) {
        snprintf(sid, sizeof(sid), "s-%s", a->sock[s]);
        assert_int_equal(sc_client_socket_up(a->c, a->sock[s], sid, s == 2 ? a->user : "", NULL, 0,
                                             s == 0 ? room : NULL, s == 0 ? 1 : 0),
                         0);
    }
    assert_int_equal(sc_client_sync(a->c, 0), 0);
    a->up = true;
}

/* Forget what the apps recorded (a new repetition); windows too. */
static void apps_reset(world *w)
{
    for (int i = 0; i < NAPPS; i++) {
        app *a = &w->apps[i];
        memset(a->cnt, 0, sizeof(a->cnt));
        memset(a->ack_cnt, 0, sizeof(a->ack_cnt));
        a->dupes = a->junk = a->errors = 0;
        a->last_error[0] = 0;
        a->win.n = a->gaps = 0;
        a->probe_at = 0;
        for (int k = 0; k < 4; k++)
            a->fence[k] = -1;
    }
}

/* ---- targets ------------------------------------------------------------------------ */

static const char *const T_ROOMS[] = {"ledger"};
static const char *const T_IDS[] = {"a-tgt", "b-tgt", "c-tgt"};
static const char *const T_USERS[] = {"user-a", "user-b", "user-c"};

static sc_target target_of(void *ud, int k)
{
    sc_target t = {0};
    if (k == K_ROOM || k == K_ACK) {
        t.rooms = T_ROOMS;
        t.n_rooms = 1;
    } else if (k == K_TGT) {
        t.socket_ids = T_IDS;
        t.n_socket_ids = 3;
    } else if (k == K_USER) {
        t.user_ids = T_USERS;
        t.n_user_ids = 3;
    } else {
        t.all = true;
    }
    return t;
}

/* ---- the event loop of the test: apps, emits, probes ------------------------------ */

static void ack_send(world *w);
static void ack_read(world *w);

/* Read what the receiving apps, tx and the acks connection got within ms. */
static void pump(world *w, int ms)
{
    struct pollfd pf[NAPPS + 2];
    sc_client *cl[NAPPS + 1];
    app *ap[NAPPS + 1];
    int n = 0;
    for (int i = 0; i < NAPPS; i++) {
        if (!w->apps[i].up)
            continue;
        cl[n] = w->apps[i].c;
        ap[n] = &w->apps[i];
        pf[n] = (struct pollfd){sc_client_fd(cl[n]), POLLIN, 0};
        n++;
    }
    cl[n] = w->tx;
    ap[n] = NULL;
    pf[n] = (struct pollfd){sc_client_fd(w->tx), POLLIN, 0};
    n++;
    for (int i = 0; i < n; i++)
        if (sc_client_wants_write(cl[i]))
            pf[i].events |= POLLOUT;
    pf[n] = (struct pollfd){w->ackfd, POLLIN, 0};
    if (poll(pf, (nfds_t)n + 1, ms < 0 ? 0 : ms) <= 0)
        return;
    if (pf[n].revents)
        ack_read(w);
    for (int i = 0; i < n; i++) {
        int rc = 0;
        if (pf[i].revents & POLLOUT)
            rc = sc_client_flush(cl[i]) < 0 ? -1 : 0;
        if (rc == 0 && (pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
            rc = sc_client_read(cl[i]);
        if (rc < 0) {
            if (!ap[i])
                fail_msg("the sender tx lost its sidecar: %s", sc_client_last_error(w->tx));
            ap[i]->up = false; /* its sidecar went away: reconnected by the fault code */
        }
    }
}

/* From node-c (its directory cache never held b-tgt): where is b-tgt, and
 * an emit to it. Until each succeeded once. */
static void probe_step(world *w)
{
    sc_client *mc = w->mon[2];
    ledger_probe_lookup(&w->probe, mc, "b-tgt", w->b_node_id);
    if (!w->apps[1].probe_at) {
        const char *ids[] = {"b-tgt"};
        sc_target t = {.socket_ids = ids, .n_socket_ids = 1};
        char p[32];
        int n = snprintf(p, sizeof(p), "P:%u", w->probe.sent++);
        sc_client_emit(mc, &t, NULL, (const uint8_t *)p, (size_t)n);
        sc_client_flush(mc);
    }
    ledger_probe_next(&w->probe, w->probe.lookup_ok_at && w->apps[1].probe_at, PROBE_EVERY_MS,
                      PROBE_GIVEUP_MS);
}

/* One turn: an emit when it is due, a probe when due, then wait for input
 * up to the next emit (at most max_ms). */
static void service(world *w, int max_ms)
{
    uint64_t now = now_ms_h();
    ledger_stream_tick(&w->st, now);
    if (w->st.streaming && now >= w->next_ack) {
        ack_send(w);
        w->next_ack += ACK_EVERY_MS;
        if (w->next_ack + ACK_EVERY_MS < now)
            w->next_ack = now + ACK_EVERY_MS;
    }
    if (ledger_probe_due(&w->probe, now))
        probe_step(w);
    pump(w, ledger_stream_wait(&w->st, max_ms));
}

static void stream_for(world *w, int ms)
{
    uint64_t end = now_ms_h() + (uint64_t)ms;
    while (now_ms_h() < end)
        service(w, (int)(end - now_ms_h()));
}

/* ---- acked emits: pipelined on a raw connection ---------------------------------
 * libsidecast's emit with acks blocks for the whole request (up to
 * request_timeout_ms in a fault); a raw connection keeps one going every
 * ACK_EVERY_MS, so that a fault meets many of them in flight. */

static void ack_open(world *w)
{
    w->ackfd = raw_connect(w->node[0]->sock);
    assert_true(w->ackfd >= 0);
    raw_send_hello(w->ackfd, 1);
    sc_frame *f = raw_read_unpacked(w->ackfd, 5000);
    assert_non_null(f);
    assert_int_equal(f->msg_case, SIDECAST__V1__FRAME__MSG_WELCOME);
    sidecast__v1__frame__free_unpacked(f, NULL);
    w->ack_next_id = 1;
}

static void ack_send(world *w)
{
    if (w->nacks >= MAX_ACKS)
        return;
    unsigned i = w->nacks;
    ack_res *r = &w->acks[i];
    memset(r, 0, sizeof(*r));
    r->sent_at = wall_ms_h();
    char p[64];
    int n = snprintf(p, sizeof(p), "Lk:%u:%llu", i, (unsigned long long)r->sent_at);
    Sidecast__V1__Selector sel = SIDECAST__V1__SELECTOR__INIT;
    sel.rooms = (char **)T_ROOMS;
    sel.n_rooms = 1;
    Sidecast__V1__Emit e = SIDECAST__V1__EMIT__INIT;
    e.to = &sel;
    e.payload.data = (uint8_t *)p;
    e.payload.len = (size_t)n;
    e.want_ack = true;
    sc_frame f = SC_FRAME_INIT;
    f.id = w->ack_id_base + i;
    f.msg_case = SIDECAST__V1__FRAME__MSG_EMIT;
    f.emit = &e;
    raw_send_frame(w->ackfd, &f);
    w->nacks++;
    w->ack_next_id = w->ack_id_base + w->nacks;
}

static void ack_frame(world *w, const sc_frame *f)
{
    if (f->id == 0)
        return; /* a Gap, say */
    if (f->id < w->ack_id_base || f->id >= w->ack_id_base + w->nacks) {
        w->ack_stray++;
        return;
    }
    ack_res *r = &w->acks[f->id - w->ack_id_base];
    if (r->done_at) {
        r->answers += 1000; /* anything after the last frame: an extra answer */
        return;
    }
    if (f->msg_case == SIDECAST__V1__FRAME__MSG_PROGRESS) {
        const Sidecast__V1__Progress *pg = f->progress;
        r->expect += pg->expect;
        r->answers += (uint32_t)pg->n_payloads;
        r->timed_out = r->timed_out || pg->timed_out;
        r->nodes_expected = pg->nodes_expected;
        r->nodes_answered = pg->nodes_answered;
        r->done = pg->done;
    } else if (f->msg_case == SIDECAST__V1__FRAME__MSG_ERROR) {
        r->rc = -(int)f->error->code;
        snprintf(r->err, sizeof(r->err), "error code %d: %s", (int)f->error->code,
                 f->error->message ? f->error->message : "");
        r->done = true;
    } else {
        r->rc = -1000;
        snprintf(r->err, sizeof(r->err), "unexpected frame (message case %d)", (int)f->msg_case);
        r->done = true;
    }
    if (r->done)
        r->done_at = wall_ms_h();
}

/* Read the frames waiting on the acks connection (bounded). */
static void ack_read(world *w)
{
    for (int k = 0; k < 256; k++) {
        struct pollfd pf = {w->ackfd, POLLIN, 0};
        if (poll(&pf, 1, 0) <= 0)
            return;
        sc_frame *f = raw_read_unpacked(w->ackfd, 2000);
        if (!f)
            fail_msg("the acks connection to node-a broke (or sent a bad frame)");
        ack_frame(w, f);
        sidecast__v1__frame__free_unpacked(f, NULL);
    }
}

static unsigned acks_open(const world *w)
{
    unsigned n = 0;
    for (unsigned i = 0; i < w->nacks; i++)
        n += !w->acks[i].done_at;
    return n;
}

/* ---- waits on observable state --------------------------------------------------- */

/* The Redis the test talks to itself: on Sentinel, the current primary. */
static redis_srv *redis_now(world *w)
{
    return w->s ? sentinel_primary_now(w->s) : w->r;
}

/* Every node connected to Redis both ways (on Sentinel: and to a sentinel),
 * its outbox empty, and sees 3 live nodes; bounded. Returns a description
 * of what is not, or NULL. */
static const char *settle(world *w, int ms, char *why, size_t len)
{
    uint64_t end = now_ms_h() + (uint64_t)ms;
    for (;;) {
        why[0] = 0;
        for (int i = 0; i < NAPPS && !why[0]; i++) {
            sc_client *m = w->mon[i];
            int64_t pub = stat_or(m, "redis_pub_up"), sub = stat_or(m, "redis_sub_up"),
                    ob = stat_or(m, "outbox_messages"), nodes = stat_or(m, "cluster_nodes");
            int64_t sen = w->s ? stat_or(m, "redis_sentinel_up") : 1;
            if (pub != 1 || sub != 1 || ob != 0 || nodes != 3 || sen != 1)
                snprintf(why, len,
                         "node-%c: redis_pub_up %lld redis_sub_up %lld outbox_messages %lld "
                         "cluster_nodes %lld%s",
                         'a' + i, (long long)pub, (long long)sub, (long long)ob, (long long)nodes,
                         sen != 1 ? " redis_sentinel_up 0" : "");
        }
        if (!why[0])
            return NULL;
        if (now_ms_h() >= end)
            return why;
        stream_for(w, 20);
    }
}

/* The value on the line after the line `key` in redis-cli's output (a
 * flat list of names and values), or "" when there is none. */
static const char *cli_field(const char *out, const char *key, char *val, size_t len)
{
    size_t kl = strlen(key);
    val[0] = 0;
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, key, kl) != 0 || p[kl] != '\n')
            continue;
        const char *v = p + kl + 1, *e = strchr(v, '\n');
        size_t n = e ? (size_t)(e - v) : strlen(v);
        snprintf(val, len, "%.*s", (int)(n < len ? n : len - 1), v);
        break;
    }
    return val;
}

static int cli_count(const char *out, const char *key)
{
    int n = 0;
    size_t kl = strlen(key);
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        n += strncmp(p, key, kl) == 0 && p[kl] == '\n';
    return n;
}

/* Sentinel: the topology whole again, as after sentinel_start: every
 * sentinel names the same primary, knows the two other sentinels and lists
 * the other server (and only it) as a replica of that primary, up, its link
 * ok; and the replica says its link is up. Bounded; the stream (if any)
 * goes on meanwhile. Returns a description of what is not, or NULL. */
static const char *topology_whole(world *w, int ms, char *why, size_t len)
{
    sentinel_set *s = w->s;
    uint64_t end = now_ms_h() + (uint64_t)ms;
    for (;;) {
        why[0] = 0;
        redis_srv *p = sentinel_primary_now(s);
        redis_srv *r = p == s->primary ? s->replica : s->primary;
        if (!p)
            snprintf(why, len, "no sentinel names a primary");
        for (int i = 0; i < 3 && !why[0]; i++) {
            char *out = sentinel_cli(s, i, "SENTINEL get-master-addr-by-name mymaster");
            char v[5][64];
            if (!strstr(out, "\n") || atoi(strchr(out, '\n') + 1) != p->port)
                snprintf(why, len, "sentinel %d names the primary %.60s, not port %d", i, out,
                         p->port);
            free(out);
            if (why[0])
                break;
            out = sentinel_cli(s, i, "SENTINEL sentinels mymaster");
            int others = cli_count(out, "name");
            free(out);
            out = sentinel_cli(s, i, "SENTINEL replicas mymaster");
            int nrep = cli_count(out, "name");
            cli_field(out, "port", v[0], sizeof(v[0]));
            cli_field(out, "flags", v[1], sizeof(v[1]));
            cli_field(out, "role-reported", v[2], sizeof(v[2]));
            cli_field(out, "master-link-status", v[3], sizeof(v[3]));
            cli_field(out, "master-port", v[4], sizeof(v[4]));
            free(out);
            if (others != 2 || nrep != 1 || atoi(v[0]) != r->port || strcmp(v[1], "slave") ||
                strcmp(v[2], "slave") || strcmp(v[3], "ok") || atoi(v[4]) != p->port)
                snprintf(why, len,
                         "sentinel %d: %d other sentinels, %d replicas (port %s flags %s "
                         "role-reported %s master-link-status %s master-port %s; want port %d "
                         "of %d)",
                         i, others, nrep, v[0], v[1], v[2], v[3], v[4], r->port, p->port);
        }
        if (!why[0] && r->pid > 0) {
            char *out = redis_cli(r, "INFO replication"), port[32];
            snprintf(port, sizeof(port), "master_port:%d\r", p->port);
            if (!strstr(out, "master_link_status:up") || !strstr(out, port))
                snprintf(why, len, "the replica on port %d is not in sync with port %d", r->port,
                         p->port);
            free(out);
        } else if (!why[0]) {
            snprintf(why, len, "the server on port %d is not running", r->port);
        }
        if (!why[0])
            return NULL;
        if (now_ms_h() >= end)
            return why;
        stream_for(w, 100);
    }
}

/* Fences of every kind from tx until every app got each kind, or FENCE_MS
 * (at most 1 s more once every app got a broadcast fence). Returns false
 * when some app never got a broadcast fence. */
static bool fences(world *w, sbuf *missing)
{
    uint64_t end = now_ms_h() + FENCE_MS, all_by = 0;
    unsigned first = w->st.fence_round;
    for (;;) {
        bool every = true, every_all = true;
        for (int i = 0; i < NAPPS; i++) {
            for (int k = 0; k < 4; k++)
                every = every && w->apps[i].fence[k] >= (int)first;
            every_all = every_all && w->apps[i].fence[K_ALL] >= (int)first;
        }
        if (every_all && !all_by)
            all_by = now_ms_h() + 1000;
        if (every || now_ms_h() >= end || (all_by && now_ms_h() >= all_by))
            break;
        ledger_fence_round(&w->st);
        stream_for(w, 60);
    }
    bool ok = true;
    for (int i = 0; i < NAPPS; i++)
        for (int k = 0; k < 4; k++)
            if (w->apps[i].fence[k] < (int)first) {
                sb_printf(missing, " %s never got a %s fence;", w->apps[i].name, kind_name[k]);
                ok = ok && k != K_ALL;
            }
    return ok;
}

/* ---- counters ---------------------------------------------------------------------- */

/* loss: summed as "counted on the sender / receiver with a reason" */
static const ledger_ctr CTRS[] = {
    LEDGER_SENDER_LOSSES(0),
    {1, "dircache_stale_received", true},
    {2, "dircache_stale_received", true},
    /* for the report only */
    {0, "outbox_queued", false},
    {0, "outbox_flushed", false},
    {0, "requests_timeout", false},
    {0, "requests_unavailable", false},
    {0, "responses_late", false},
    {0, "dircache_invalidated_node", false},
    {0, "dead_nodes_reaped", false},
    {0, "redis_reconnects", false},
    {1, "pubsub_gaps", false},
    {1, "canary_missed", false},
    {1, "self_reaped", false},
    {1, "directory_resyncs", false},
    {1, "redis_reconnects", false},
    {2, "pubsub_gaps", false},
    {2, "directory_resyncs", false},
    {0, "redis_sentinel_switches", false},
    {1, "redis_sentinel_switches", false},
    {2, "redis_sentinel_switches", false},
};
#define NCTRS (sizeof(CTRS) / sizeof(CTRS[0]))

/* ---- the checker --------------------------------------------------------------------- */

typedef struct books {
    unsigned msgs, told, expected, delivered, in_gap, missed, missed_msgs, dupes, local_lost;
    uint64_t first_missed, last_missed;
    unsigned nsamples;
    char samples[MAX_SAMPLES][96];
} books;

static void book(books *bk, const app *a, int s, unsigned seq, uint64_t sent, unsigned cnt,
                 bool told, bool *missed)
{
    bk->expected++;
    if (cnt == 1) {
        bk->delivered++;
        return;
    }
    if (cnt > 1) {
        bk->dupes++;
        if (bk->nsamples < MAX_SAMPLES)
            snprintf(bk->samples[bk->nsamples++], sizeof(bk->samples[0]),
                     "seq %u DUPLICATE x%u at %s/%s (sent fault%+lldms)", seq, cnt, a->name,
                     a->sock[s], rel(sent));
        return;
    }
    if (a->local) {
        bk->local_lost++;
    } else if (ledger_in_window(&a->win, sent)) {
        bk->in_gap++;
        return;
    } else if (told) {
        bk->told++;
        return;
    }
    bk->missed++;
    *missed = true;
    if (!bk->first_missed || sent < bk->first_missed)
        bk->first_missed = sent;
    if (sent > bk->last_missed)
        bk->last_missed = sent;
    if (bk->nsamples < MAX_SAMPLES)
        snprintf(bk->samples[bk->nsamples++], sizeof(bk->samples[0]),
                 "seq %u sent fault%+lldms (resume%+lldms) missed by %s/%s%s", seq, rel(sent),
                 (long long)sent - (long long)W.t_resume, a->name, a->sock[s],
                 a->local ? " (LOCAL)" : "");
}

/* Classify the acked emit i: ok (as many answers as announced), told (an
 * error or a timeout reached the sender), or a silent shortfall. */
typedef enum { ACK_OK, ACK_TOLD, ACK_SHORT, ACK_ZERO, ACK_NOANSWER, ACK_EXTRA } ack_class;

static ack_class ack_classify(const ack_res *r)
{
    if (!r->done_at)
        return ACK_NOANSWER;
    if (r->rc < 0)
        return ACK_TOLD;
    if (r->timed_out || r->nodes_answered < r->nodes_expected)
        return ACK_TOLD;
    if (r->answers > 3)
        return ACK_EXTRA;
    if (r->answers == 0)
        return ACK_ZERO;
    if (r->answers < r->expect)
        return ACK_SHORT;
    return ACK_OK;
}

/* ---- one repetition of a fault ---------------------------------------------------- */

static void reconnect(world *w, sc_client *c, const char *what, sbuf *fails)
{
    uint64_t end = now_ms_h() + 10000;
    int rc;
    while ((rc = sc_client_reconnect(c)) < 0 && now_ms_h() < end)
        stream_for(w, 50);
    if (rc < 0)
        sb_printf(fails, "%s could not reconnect to the restarted node-b: %s; ", what,
                  sc_client_last_error(c));
}

/* Sentinel: a failover asked of a sentinel, or the primary SIGKILLed;
 * until the sentinel the nodes ask first (sentinel 0, first in the URL)
 * names the other server (the fault's end: t_resume) and every node counted
 * the switch. Then the probes start, and the killed server is restarted
 * (empty: Sentinel makes it a replica of the new primary later). */
/* The server that is the primary now by its own ROLE (the sentinels' view
 * may lag a moment behind a failover of the test before). */
static redis_srv *primary_by_role(sentinel_set *s)
{
    redis_srv *both[] = {s->primary, s->replica};
    for (int i = 0; i < 2; i++) {
        if (both[i]->pid <= 0)
            continue;
        char *out = redis_cli(both[i], "ROLE");
        bool primary = out && strncmp(out, "master", 6) == 0;
        free(out);
        if (primary)
            return both[i];
    }
    return NULL;
}

static void inject_sentinel(world *w, fault f, sbuf *fails)
{
    sentinel_set *s = w->s;
    redis_srv *old = primary_by_role(s);
    if (old && old != sentinel_primary_now(s))
        printf("  (the sentinels named the other server as primary before the fault; "
               "port %d says it is the primary)\n", old->port);
    int64_t sw0[NAPPS];
    for (int i = 0; i < NAPPS; i++)
        sw0[i] = stat_or(w->mon[i], "redis_sentinel_switches");
    /* the sentinels in turn, starting with one the nodes do not ask (they
     * ask sentinel 0 first): then they hear of the switch from a sentinel
     * that learnt it from the leader */
    int via = w->rep % 3;
    w->t_fault = wall_ms_h();
    uint64_t t0 = now_ms_h();
    if (!old) {
        sb_printf(fails, "no sentinel named a primary before the fault; ");
        w->t_resume = wall_ms_h();
        return;
    }
    int len = snprintf(w->note, sizeof(w->note), "primary was port %d", old->port);
    if (f == F_SENTINEL_FAILOVER) {
        char *out = sentinel_cli(s, via, "SENTINEL FAILOVER mymaster");
        if (!strstr(out, "OK"))
            sb_printf(fails, "sentinel %d answered SENTINEL FAILOVER with %s; ", via, out);
        len += snprintf(w->note + len, sizeof(w->note) - (size_t)len,
                        ", SENTINEL FAILOVER sent to sentinel %d", via);
        free(out);
    } else {
        redis_kill(old);
    }
    /* until sentinel 0 names the other one (asked every ~30 ms: each
     * question is a redis-cli, and the stream waits meanwhile); the fault
     * ends when the question that saw it was asked */
    redis_srv *now = old;
    while (now_ms_h() < t0 + SENTINEL_GIVEUP_MS) {
        stream_for(w, 20);
        w->t_resume = wall_ms_h();
        now = sentinel_primary_now(s);
        if (now && now != old)
            break;
    }
    if (!now || now == old) {
        sb_printf(fails, "the sentinels named no new primary within %d ms of the fault; ",
                  SENTINEL_GIVEUP_MS);
        return;
    }
    len += snprintf(w->note + len, sizeof(w->note) - (size_t)len,
                    "; sentinel 0 named port %d at fault%+lldms (the failover time)", now->port,
                    rel(w->t_resume));
    /* until every node counted the switch: then the probes start */
    uint64_t at[NAPPS] = {0};
    int n = 0;
    uint64_t end = now_ms_h() + SWITCH_FOLLOW_MS;
    for (;;) {
        for (int i = 0; i < NAPPS; i++)
            if (!at[i] && stat_or(w->mon[i], "redis_sentinel_switches") > sw0[i]) {
                at[i] = wall_ms_h();
                n++;
            }
        if (n == NAPPS || now_ms_h() >= end)
            break;
        stream_for(w, 5);
    }
    len += snprintf(w->note + len, sizeof(w->note) - (size_t)len, "; switch counted by");
    for (int i = 0; i < NAPPS; i++) {
        if (at[i])
            len += snprintf(w->note + len, sizeof(w->note) - (size_t)len, " node-%c fault%+lldms",
                            'a' + i, rel(at[i]));
        else
            sb_printf(fails,
                      "node-%c never counted the switch to port %d (redis_sentinel_switches "
                      "still %lld %d ms after the sentinels named it); ",
                      'a' + i, now->port, (long long)stat_or(w->mon[i], "redis_sentinel_switches"),
                      SWITCH_FOLLOW_MS);
    }
    ledger_probe_start(&w->probe, w->t_resume);
    if (f == F_SENTINEL_KILL) {
        /* back empty, as a primary of nothing, on the address every node
         * has left (the sentinels name the new one): Sentinel converts it
         * into a replica some 8 s later */
        redis_restart(old);
        snprintf(w->note + len, sizeof(w->note) - (size_t)len,
                 "; killed server restarted fault%+lldms", rel(wall_ms_h()));
    }
}

static void inject(world *w, fault f, sbuf *fails)
{
    w->t_fault = wall_ms_h();
    uint64_t t0 = now_ms_h();
    switch (f) {
    case F_REDIS_KILL:
    case F_REDIS_STOP: {
        redis_srv *r = redis_now(w);
        if (f == F_REDIS_KILL)
            redis_kill(r);
        else
            redis_signal(r, SIGSTOP);
        /* until node-a noticed (the PING probe: redis_command_timeout_ms
         * 1000 when frozen), and at least 500 / 1500 ms */
        int min_ms = f == F_REDIS_KILL ? 500 : 1500;
        bool noticed = false;
        while (now_ms_h() < t0 + 6000 && (!noticed || now_ms_h() < t0 + (uint64_t)min_ms)) {
            stream_for(w, 50);
            noticed = noticed || stat_or(w->mon[0], "redis_pub_up") == 0;
        }
        if (!noticed)
            sb_printf(fails, "node-a never reported redis_pub_up 0 during the fault; ");
        if (f == F_REDIS_KILL)
            redis_restart(r);
        else
            redis_signal(r, SIGCONT);
        w->t_resume = wall_ms_h();
        break;
    }
    case F_NODE_STALL: {
        kill(w->node[1]->pid, SIGSTOP);
        /* longer than the TTL, until node-a reaped node-b */
        bool reaped = false;
        while (now_ms_h() < t0 + 6000 && (!reaped || now_ms_h() < t0 + 2 * NODE_TTL_MS)) {
            stream_for(w, 50);
            reaped = reaped || stat_or(w->mon[0], "cluster_nodes") == 2;
        }
        kill(w->node[1]->pid, SIGCONT);
        w->t_resume = wall_ms_h();
        if (!reaped)
            sb_printf(fails, "node-a never dropped the stalled node-b from its node list; ");
        break;
    }
    case F_FLUSHALL: {
        char *out = redis_cli(redis_now(w), "FLUSHALL");
        w->t_resume = wall_ms_h();
        if (!strstr(out, "OK"))
            sb_printf(fails, "FLUSHALL answered %s; ", out);
        free(out);
        break;
    }
    case F_SIDECAR_KILL: {
        daemon_kill(w->node[1]);
        stream_for(w, 300);         /* rx-b notices (EOF) */
        daemon_restart(w->node[1]); /* takes over the stale socket file */
        reconnect(w, w->apps[1].c, "rx-b", fails);
        reconnect(w, w->mon[1], "mon-b", fails);
        w->apps[1].up = true;
        snprintf(w->b_node_id, sizeof(w->b_node_id), "%s", sc_client_node_id(w->apps[1].c));
        /* the app's window ends when its new sidecar reports its
         * subscriptions up (as it_faults does) */
        uint64_t end = now_ms_h() + 5000;
        while (now_ms_h() < end &&
               (stat_or(w->mon[1], "redis_sub_up") != 1 || stat_or(w->mon[1], "room_channels") < 1))
            stream_for(w, 10);
        w->t_resume = wall_ms_h();
        ledger_window_add(&w->apps[1].win, w->t_fault, w->t_resume, w->t_resume, "",
                          "own sidecar down (killed, restarted, app reconnected)");
        break;
    }
    case F_SENTINEL_FAILOVER:
    case F_SENTINEL_KILL: inject_sentinel(w, f, fails); break;
    }
}

/* After the fault's end (for the Redis faults, Redis back; on Sentinel, the
 * sentinels naming the new primary): heartbeats, plus the longest reconnect
 * delay when the connections to Redis went down. */
static uint64_t probe_bound(fault f)
{
    uint64_t b = PROBE_HEARTBEATS * HEARTBEAT_MS;
    return f == F_REDIS_KILL || f == F_REDIS_STOP || sentinel_fault(f) ? b + RECONNECT_MAX_MS : b;
}

static void run_rep(world *w, fault f, int rep, int reps, sbuf *fails)
{
    char why[512];
    sbuf rf = {0}; /* this repetition's failures */
    w->rep = rep;
    w->note[0] = 0;
    /* a further failover needs the other server a replica in sync again */
    if (w->s && rep > 1) {
        uint64_t t0 = now_ms_h();
        if (topology_whole(w, WHOLE_MS, why, sizeof(why)))
            sb_printf(&rf, "Sentinel topology not whole %d ms after the last repetition: %s; ",
                      WHOLE_MS, why);
        else
            printf("ledger: Sentinel topology whole again after %llu ms more\n",
                   (unsigned long long)(now_ms_h() - t0));
    }
    if (settle(w, 10000, why, sizeof(why)))
        sb_printf(&rf, "cluster not settled before the fault: %s; ", why);
    apps_reset(w);
    w->nacks = w->ack_stray = 0;
    w->ack_id_base = w->ack_next_id;
    memset(&w->probe, 0, sizeof(w->probe));
    int64_t before[NCTRS], after[NCTRS];
    ledger_counters_read(CTRS, NCTRS, w->mon, before);

    w->t_start = wall_ms_h();
    ledger_stream_start(&w->st);
    w->next_ack = w->st.next_emit;
    stream_for(w, PRE_MS);
    inject(w, f, &rf);
    /* after the fault: the stream goes on; node-c probes node-b (on
     * Sentinel, inject started them once every node counted the switch) */
    if (!w->probe.on)
        ledger_probe_start(&w->probe, w->t_resume);
    uint64_t post_end = now_ms_h() + POST_MS;
    while (now_ms_h() < post_end || w->probe.on)
        stream_for(w, 20);
    w->st.streaming = false;
    /* every acked emit answered: within request_timeout_ms (2000) and slack */
    uint64_t acks_end = now_ms_h() + 4000;
    while (acks_open(w) && now_ms_h() < acks_end)
        stream_for(w, 10);
    uint64_t t_end = wall_ms_h();
    sbuf missing = {0};
    bool fenced = fences(w, &missing);
    if (settle(w, 10000, why, sizeof(why)))
        sb_printf(&rf, "cluster not recovered after the fault: %s; ", why);
    ledger_counters_read(CTRS, NCTRS, w->mon, after);

    /* ---- the books ---- */
    books bk[NKINDS];
    memset(bk, 0, sizeof(bk));
    for (unsigned seq = 0; seq < w->st.nmsg; seq++) {
        int k = w->st.kind[seq];
        bool told = w->st.emit_rc[seq] < 0, missed = false;
        bk[k].msgs++;
        for (int i = 0; i < NAPPS; i++)
            for (int s = 0; s < NSOCK; s++)
                if (kind_reaches[k][s])
                    book(&bk[k], &w->apps[i], s, seq, w->st.sent_at[seq], w->apps[i].cnt[s][seq],
                         told, &missed);
        bk[k].missed_msgs += missed;
    }
    unsigned nacks = w->nacks, ack_by[ACK_EXTRA + 1] = {0};
    char ack_errs[2][256] = {"", ""};
    for (unsigned i = 0; i < nacks; i++) {
        const ack_res *r = &w->acks[i];
        ack_class cls = ack_classify(r);
        ack_by[cls]++;
        bool told = cls == ACK_TOLD || cls == ACK_NOANSWER, missed = false;
        if (told && !ack_errs[0][0])
            snprintf(ack_errs[0], sizeof(ack_errs[0]),
                     "first: ack %u sent fault%+lldms: %s%s, %u/%u answers, nodes %u/%u", i,
                     rel(r->sent_at), r->rc < 0 ? "error " : "",
                     r->rc < 0      ? r->err
                     : r->timed_out ? "timed out"
                                    : "not every node answered",
                     r->answers, r->expect, r->nodes_answered, r->nodes_expected);
        if (cls >= ACK_SHORT && !ack_errs[1][0])
            snprintf(ack_errs[1], sizeof(ack_errs[1]),
                     "ack %u sent fault%+lldms: rc %d, %u/%u answers, nodes %u/%u, done %d", i,
                     rel(r->sent_at), r->rc, r->answers, r->expect, r->nodes_answered,
                     r->nodes_expected, r->done);
        bk[K_ACK].msgs++;
        for (int i2 = 0; i2 < NAPPS; i2++)
            for (int s = 0; s < NSOCK; s++)
                if (kind_reaches[K_ACK][s])
                    book(&bk[K_ACK], &w->apps[i2], s, i, r->sent_at, w->apps[i2].ack_cnt[s][i],
                         told, &missed);
        bk[K_ACK].missed_msgs += missed;
    }
    int64_t counted = ledger_counted(CTRS, NCTRS, before, after);
    unsigned unaccounted = 0, dupes = 0, local_lost = 0, msgs = 0;
    for (int k = 0; k < NKINDS; k++) {
        unaccounted += bk[k].missed_msgs;
        dupes += bk[k].dupes;
        local_lost += bk[k].local_lost;
        msgs += bk[k].msgs;
    }

    /* ---- the report ---- */
    sbuf rep_out = {0};
    sb_printf(&rep_out,
              "ledger: %s, repetition %d/%d: fault at %llu (stream start fault%+lldms), removed "
              "fault%+lldms, stream end fault%+lldms; %u messages + %u acked\n",
              fault_name[f], rep, reps, (unsigned long long)w->t_fault, rel(w->t_start),
              rel(w->t_resume), rel(t_end), w->st.nmsg, nacks);
    for (int i = 0; i < NAPPS; i++) {
        const app *a = &w->apps[i];
        sb_printf(&rep_out, "  %s windows:", a->name);
        if (!a->win.n)
            sb_printf(&rep_out, " none");
        for (unsigned g = 0; g < a->win.n; g++)
            sb_printf(&rep_out, " [fault%+lld..%+lld told %+lld: %s]", rel(a->win.w[g].from),
                      rel(a->win.w[g].to), rel(a->win.w[g].got), a->win.w[g].reason);
        if (a->errors || a->junk)
            sb_printf(&rep_out, " (errors %u, last %s; unparsed deliveries %u)", a->errors,
                      a->last_error, a->junk);
        sb_printf(&rep_out, "\n");
    }
    for (int k = 0; k < NKINDS; k++) {
        books *b = &bk[k];
        sb_printf(&rep_out,
                  "  %-9s: %4u msgs, %5u socket deliveries expected: %5u delivered, %4u in a "
                  "window, %4u sender told, %4u missed (%u msgs), %u duplicates",
                  kind_name[k], b->msgs, b->expected, b->delivered, b->in_gap, b->told, b->missed,
                  b->missed_msgs, b->dupes);
        if (b->missed)
            sb_printf(&rep_out, ", missed ones sent fault%+lld..%+lldms", rel(b->first_missed),
                      rel(b->last_missed));
        sb_printf(&rep_out, "\n");
        for (unsigned s = 0; s < b->nsamples; s++)
            sb_printf(&rep_out, "      e.g. %s\n", b->samples[s]);
    }
    sb_printf(&rep_out,
              "  acks: %u requests: %u answered in full, %u told (error/timeout: %s), %u short "
              "in silence, %u zero in silence, %u never answered, %u with extra answers, %u frames "
              "for ids not in flight%s%s\n",
              nacks, ack_by[ACK_OK], ack_by[ACK_TOLD], ack_errs[0][0] ? ack_errs[0] : "-",
              ack_by[ACK_SHORT], ack_by[ACK_ZERO], ack_by[ACK_NOANSWER], ack_by[ACK_EXTRA],
              w->ack_stray, ack_errs[1][0] ? "; first bad: " : "", ack_errs[1]);
    if (w->note[0])
        sb_printf(&rep_out, "  sentinel: %s\n", w->note);
    sb_printf(&rep_out, "  counters (delta):");
    for (size_t i = 0; i < NCTRS; i++)
        if (before[i] >= 0 || after[i] >= 0) /* absent: a gauge of Sentinel mode */
            sb_printf(&rep_out, " %snode-%c %s %+lld", CTRS[i].loss ? "*" : "", 'a' + CTRS[i].node,
                      CTRS[i].name, (long long)ledger_delta(before[i], after[i]));
    sb_printf(&rep_out, "\n  counted losses (* above) %lld; unaccounted messages %u\n",
              (long long)counted, unaccounted);
    uint64_t bound = probe_bound(f);
    long long lk = w->probe.lookup_ok_at ? (long long)(w->probe.lookup_ok_at - w->t_resume) : -1,
              pr = w->apps[1].probe_at ? (long long)(w->apps[1].probe_at - w->t_resume) : -1;
    sb_printf(&rep_out,
              "  probes from node-c after the fault was removed (fault%+lldms; bound %llu ms "
              "after that): lookup b-tgt "
              "%s%lld ms (%u tries, last rc %d node '%s', node-b is '%s'); targeted emit to "
              "b-tgt %s%lld ms (%u sent)\n",
              rel(w->t_resume), (unsigned long long)bound,
              lk < 0 ? "never, gave up after " : "ok after ",
              lk < 0 ? (long long)PROBE_GIVEUP_MS : lk, w->probe.lookups, w->probe.last_lookup_rc,
              w->probe.last_lookup_node, w->b_node_id,
              pr < 0 ? "never, gave up after " : "arrived after ",
              pr < 0 ? (long long)PROBE_GIVEUP_MS : pr, w->probe.sent);
    if (missing.len)
        sb_printf(&rep_out, "  fences:%s\n", missing.p);
    printf("%s", rep_out.p);
    fflush(stdout);

    /* ---- verdicts ---- */
    if (dupes)
        sb_printf(&rf, "%u duplicate deliveries; ", dupes);
    if (local_lost)
        sb_printf(&rf, "%u local deliveries (node-a's own app) lost; ", local_lost);
    if ((int64_t)unaccounted > counted) {
        sb_printf(&rf,
                  "%u of %u messages lost outside every window the apps were told about and "
                  "more than the %lld counted (",
                  unaccounted, msgs, (long long)counted);
        for (int k = 0; k < NKINDS; k++)
            sb_printf(&rf, "%s%s %u", k ? ", " : "", kind_name[k], bk[k].missed_msgs);
        sb_printf(&rf, "); ");
    }
    if (ack_by[ACK_SHORT] + ack_by[ACK_ZERO] + ack_by[ACK_NOANSWER] + ack_by[ACK_EXTRA])
        sb_printf(&rf,
                  "acked emits: %u short in silence, %u zero in silence, %u never answered, "
                  "%u extra (%s); ",
                  ack_by[ACK_SHORT], ack_by[ACK_ZERO], ack_by[ACK_NOANSWER], ack_by[ACK_EXTRA],
                  ack_errs[1]);
    if (w->ack_stray)
        sb_printf(&rf, "%u answers to acked emits not in flight; ", w->ack_stray);
    if (lk < 0 || (uint64_t)lk > bound)
        sb_printf(&rf, "lookup of b-tgt from node-c %s (bound %llu ms after the fault ended); ",
                  lk < 0 ? "never succeeded" : "succeeded late", (unsigned long long)bound);
    if (pr < 0 || (uint64_t)pr > bound)
        sb_printf(&rf, "targeted emit to b-tgt from node-c %s (bound %llu ms); ",
                  pr < 0 ? "never arrived" : "arrived late", (unsigned long long)bound);
    if (!fenced)
        sb_printf(&rf, "fences lost:%s ", missing.p);
    if (f == F_REDIS_KILL || f == F_REDIS_STOP || sentinel_fault(f))
        for (int i = 1; i < NAPPS; i++)
            if (!w->apps[i].gaps)
                sb_printf(&rf, "%s got no Gap notice; ", w->apps[i].name);
    if (rf.len)
        sb_printf(fails, "[%s, rep %d/%d] %s\n", fault_name[f], rep, reps, rf.p);
    free(rf.p);
    free(missing.p);
    free(rep_out.p);
}

/* ---- setup, the tests ------------------------------------------------------------- */

static int reps_wanted(void)
{
    const char *e = getenv("SIDECAST_LEDGER_REPS");
    int n = e ? atoi(e) : 1;
    return n < 1 ? 1 : n > 20 ? 20 : n;
}

static void ledger_test(fault f)
{
    world *w = &W;
    memset(w, 0, sizeof(*w));
    static const char *const names[] = {"node-a", "node-b", "node-c"};
    if (sentinel_fault(f)) {
        /* the nodes find the primary through the sentinels (a later
         * --redis-url wins over node_start's own) */
        w->s = sentinel_start();
        for (int i = 0; i < NAPPS; i++)
            w->node[i] = node_start(w->s->primary, names[i], "--canary-interval-ms", "200",
                                    "--redis-url", w->s->url, NULL);
    } else {
        w->r = redis_start();
        for (int i = 0; i < NAPPS; i++)
            w->node[i] = node_start(w->r, names[i], "--canary-interval-ms", "200", NULL);
    }
    for (int i = 0; i < NAPPS; i++) {
        app_open_rx(w, i);
        static const char *const mons[] = {"mon-a", "mon-b", "mon-c"};
        w->mon[i] = app_open(w->node[i], mons[i], NULL);
    }
    w->tx = app_open(w->node[0], "tx", NULL);
    /* acks on their own connection (ack_send), not in the stream */
    ledger_stream_init(&w->st, w->tx, 4, kind_code, target_of, NULL, MAX_MSGS, EMIT_EVERY_MS);
    ack_open(w);
    snprintf(w->b_node_id, sizeof(w->b_node_id), "%s", sc_client_node_id(w->apps[1].c));
    for (int i = 0; i < NAPPS; i++)
        assert_int_equal(wait_nodes(w->mon[i], 3, 5000), 3);
    /* every path works before the fault: each app gets each kind of fence */
    sbuf missing = {0};
    fences(w, &missing);
    if (missing.len)
        fail_msg("before any fault:%s", missing.p);
    free(missing.p);

    sbuf fails = {0};
    int reps = reps_wanted();
    for (int rep = 1; rep <= reps; rep++)
        run_rep(w, f, rep, reps, &fails);

    for (int i = 0; i < NAPPS; i++) {
        sc_client_close(w->apps[i].c);
        sc_client_close(w->mon[i]);
    }
    sc_client_close(w->tx);
    close(w->ackfd);
    for (int i = 0; i < NAPPS; i++)
        daemon_free(w->node[i]);
    if (w->s)
        sentinel_free(w->s);
    else
        redis_free(w->r);
    if (fails.len) {
        fprintf(stderr, "ledger violations:\n%s", fails.p);
        fail_msg("%s: ledger violated (details above)", fault_name[f]);
    }
    free(fails.p);
}

static void test_ledger_redis_sigkill_restart(void **state)
{
    ledger_test(F_REDIS_KILL);
}

static void test_ledger_redis_sigstop_sigcont(void **state)
{
    ledger_test(F_REDIS_STOP);
}

static void test_ledger_node_stall_past_ttl(void **state)
{
    ledger_test(F_NODE_STALL);
}

static void test_ledger_flushall(void **state)
{
    ledger_test(F_FLUSHALL);
}

static void test_ledger_sidecar_sigkill_restart(void **state)
{
    ledger_test(F_SIDECAR_KILL);
}

/* The harness's Sentinel set has no TLS: under IT_REDIS_TLS these would
 * only repeat the plain run. */
static void test_ledger_sentinel_failover(void **state)
{
    if (tls_mode())
        skip();
    ledger_test(F_SENTINEL_FAILOVER);
}

static void test_ledger_sentinel_primary_kill(void **state)
{
    if (tls_mode())
        skip();
    ledger_test(F_SENTINEL_KILL);
}

/* SIDECAST_LEDGER_ONLY=<part of a test name> runs just the matching faults. */
int main(void)
{
    const struct CMUnitTest all[] = {
        cmocka_unit_test(test_ledger_redis_sigkill_restart),
        cmocka_unit_test(test_ledger_redis_sigstop_sigcont),
        cmocka_unit_test(test_ledger_node_stall_past_ttl),
        cmocka_unit_test(test_ledger_flushall),
        cmocka_unit_test(test_ledger_sidecar_sigkill_restart),
        cmocka_unit_test(test_ledger_sentinel_failover),
        cmocka_unit_test(test_ledger_sentinel_primary_kill),
    };
    return run_tests_matching("it_ledger", all, sizeof(all) / sizeof(all[0]),
                              "SIDECAST_LEDGER_ONLY");
}
