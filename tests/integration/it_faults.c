/* Integration: faults under load, with the books balanced.
 *
 * Each test keeps a real load running while the fault happens (Redis
 * SIGKILLed and restarted, Redis frozen with SIGSTOP, a sidecastd SIGKILLed
 * and restarted under its apps, a reader that stops reading, an app that
 * hangs up mid-frame, a flood of connects) and then checks:
 *   - nothing crashed (every daemon stops cleanly at the end);
 *   - every message sent was delivered once, or is accounted for: lost in a
 *     window the receiving app was told about (a Gap notice, or its own
 *     reconnect), or counted by a sidecar counter with a reason;
 *   - the daemon's gauges (sockets, rooms, output bytes, pending requests,
 *     outbox) are back to 0, its fd count is back to its baseline, and its
 *     RSS is back within RSS_SLACK_KB of its baseline (not checked under a
 *     wrapper such as valgrind, whose RSS is its own, nor under ASan).
 * Each test prints one "figures:" line (used for tests/README.md).
 * Loops are bounded in count and time; only processes the test started are
 * signalled, by pid. */
#include "harness.h"

#include "buf.h"
#include "wire.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RSS_SLACK_KB 4096
#define MAX_MSGS 12000
#define BATCH 20
#define MAX_GAPS 16

static const char *feed[] = {"feed"};

static bool under_wrapper(void)
{
    const char *w = getenv("SIDECAST_TEST_WRAPPER");
    return w && w[0];
}

/* ASan's quarantine and shadow memory make RSS meaningless too. */
static bool rss_meaningful(void)
{
#ifdef __SANITIZE_ADDRESS__
    return false;
#else
    return !under_wrapper();
#endif
}

/* ---- the receiving app: which sequence numbers arrived, and its gaps ------ */

typedef struct receiver {
    uint8_t seen[MAX_MSGS];
    uint64_t frames, fences, dupes;
    uint64_t gap_from[MAX_GAPS], gap_to[MAX_GAPS];
    unsigned gaps;
} receiver;

static void rx_deliver(void *ud, const char *socket_id, const uint8_t *p, size_t len)
{
    receiver *rx = ud;
    char buf[64];
    snprintf(buf, sizeof(buf), "%.*s", (int)(len < 63 ? len : 63), (const char *)p);
    unsigned seq;
    if (strncmp(buf, "fence", 5) == 0) {
        rx->fences++;
        return;
    }
    if (sscanf(buf, "m%u", &seq) == 1 && seq < MAX_MSGS) {
        if (rx->seen[seq])
            rx->dupes++;
        rx->seen[seq] = 1;
    }
}

static bool rx_delivery(void *ud, const sc_delivery *d)
{
    ((receiver *)ud)->frames++;
    return true;
}

static void rx_gap(void *ud, uint64_t from, uint64_t to, const char *reason)
{
    receiver *rx = ud;
    if (rx->gaps < MAX_GAPS) {
        rx->gap_from[rx->gaps] = from;
        rx->gap_to[rx->gaps] = to;
    }
    rx->gaps++;
}

static sc_client *rx_open(daemon_t *d, const char *name, receiver *rx)
{
    memset(rx, 0, sizeof(*rx));
    sc_client_options o = {.path = d->sock,
                           .name = name,
                           .timeout_ms = 10000,
                           .on_deliver = rx_deliver,
                           .on_delivery = rx_delivery,
                           .on_gap = rx_gap,
                           .ud = rx};
    sc_client *c;
    if (sc_client_open(&o, &c) < 0)
        fail_msg("open %s: %s", name, sc_client_last_error(c));
    return c;
}

/* ---- the load: numbered emits, their send times, and fences --------------- */

typedef struct load {
    unsigned sent;
    uint64_t sent_at[MAX_MSGS];
} load;

static void emit_batch(sc_client *a, load *ld, const sc_target *t, const sc_emit_flags *fl)
{
    char p[32];
    for (int i = 0; i < BATCH && ld->sent < MAX_MSGS; i++) {
        snprintf(p, sizeof(p), "m%u", ld->sent);
        ld->sent_at[ld->sent] = wall_ms_h();
        assert_int_equal(sc_client_emit(a, t, fl, (const uint8_t *)p, strlen(p)), 0);
        ld->sent++;
    }
    assert_int_equal(sc_client_sync(a, 0), 0);
}

/* Dispatch what b receives for ms (just wait when b is NULL). */
static void poll_for(sc_client *b, int ms)
{
    uint64_t end = now_ms_h() + (uint64_t)ms;
    if (!b)
        usleep((useconds_t)ms * 1000u);
    while (b && now_ms_h() < end)
        if (sc_client_poll(b, 2) < 0)
            break;
}

/* Emit fences until one arrives: everything sent before has then either
 * arrived or is lost (pub/sub keeps one publisher's order). */
static void fence(sc_client *a, sc_client *b, receiver *rx, const sc_target *t)
{
    uint64_t before = rx->fences, end = now_ms_h() + 20000;
    while (rx->fences == before && now_ms_h() < end) {
        assert_int_equal(sc_client_emit(a, t, NULL, (const uint8_t *)"fence", 5), 0);
        assert_int_equal(sc_client_sync(a, 0), 0);
        poll_for(b, 50);
    }
    assert_true(rx->fences > before);
    poll_for(b, 100);
}

/* A message sent at t falls in a reported window. `before`: how long the
 * receiving side may take to notice an interruption (its window starts
 * then, but messages were already being lost); nothing sent after the
 * window ends may be lost on its account (50 ms: clock granularity). */
static bool in_gap(const receiver *rx, uint64_t t, uint64_t before)
{
    for (unsigned i = 0; i < rx->gaps && i < MAX_GAPS; i++)
        if (t + before >= rx->gap_from[i] && t <= rx->gap_to[i] + 50)
            return true;
    return false;
}

typedef struct books {
    unsigned sent, delivered, in_gap, counted, lost;
} books;

/* Every message delivered at most once; each one lost lies in a window the
 * app was told about or is covered by the sender's drop counters. */
static books balance(const load *ld, const receiver *rx, uint64_t counted_drops,
                     uint64_t gap_slack_ms)
{
    books bk = {.sent = ld->sent};
    unsigned unexplained = 0;
    for (unsigned i = 0; i < ld->sent; i++) {
        if (rx->seen[i])
            bk.delivered++;
        else if (in_gap(rx, ld->sent_at[i], gap_slack_ms))
            bk.in_gap++;
        else
            unexplained++;
    }
    bk.lost = bk.sent - bk.delivered;
    assert_int_equal(rx->dupes, 0);
    assert_true(unexplained <= counted_drops);
    bk.counted = unexplained;
    assert_int_equal(bk.delivered + bk.in_gap + bk.counted, bk.sent);
    return bk;
}

typedef struct baseline {
    long rss_kb;
    int fds;
} baseline;

/* napps: app connections open now (their fds are not part of the base). */
static baseline take_baseline(const daemon_t *d, int napps)
{
    baseline b = {proc_rss_kb_h(d->pid), proc_fds_h(d->pid) - napps};
    return b;
}

/* The daemon's gauges back to 0 (probe is a connection with no sockets),
 * its fds and RSS back to the baseline. Returns the RSS drift in kB. */
static long assert_back_to_baseline(daemon_t *d, const baseline *b, bool cluster)
{
    sc_client *probe = app_open(d, "probe", NULL);
    uint64_t end = now_ms_h() + 10000;
    while (now_ms_h() < end &&
           (stat_of(probe, "app_connections") != 1 || stat_of(probe, "pending_requests") != 0 ||
            (cluster && stat_of(probe, "outbox_messages") != 0)))
        usleep(20000);
    assert_int_equal(stat_of(probe, "app_connections"), 1);
    assert_int_equal(stat_of(probe, "sockets"), 0);
    assert_int_equal(stat_of(probe, "rooms"), 0);
    assert_int_equal(stat_of(probe, "room_memberships"), 0);
    assert_int_equal(stat_of(probe, "output_buffer_bytes"), 0);
    assert_int_equal(stat_of(probe, "pending_requests"), 0);
    if (cluster) {
        assert_int_equal(stat_of(probe, "outbox_messages"), 0);
        assert_int_equal(stat_of(probe, "outbox_bytes"), 0);
    }
    sc_client_close(probe);
    /* the probe's own fd goes away asynchronously */
    end = now_ms_h() + 5000;
    while (proc_fds_h(d->pid) > b->fds && now_ms_h() < end)
        usleep(20000);
    assert_int_equal(proc_fds_h(d->pid), b->fds);
    long drift = proc_rss_kb_h(d->pid) - b->rss_kb;
    if (rss_meaningful() && drift > RSS_SLACK_KB)
        fail_msg("sidecastd RSS grew by %ld kB (baseline %ld kB, slack %d kB)", drift, b->rss_kb,
                 RSS_SLACK_KB);
    return drift;
}

static unsigned load_total(void)
{
    return under_wrapper() ? 600 : 3000;
}

/* Wait until node d's sidecar is connected both ways (pub and sub). */
static void wait_redis_up(sc_client *c, int ms)
{
    uint64_t end = now_ms_h() + (uint64_t)ms;
    while (now_ms_h() < end &&
           (stat_of(c, "redis_pub_up") != 1 || stat_of(c, "redis_sub_up") != 1 ||
            stat_of(c, "outbox_messages") != 0))
        usleep(20000);
    assert_int_equal(stat_of(c, "redis_pub_up"), 1);
    assert_int_equal(stat_of(c, "redis_sub_up"), 1);
}

/* FAULT_KILL_OUTBOX: killed, with an outbox of 8 KiB and every other batch
 * volatile, so that the outbox overflows and drops are counted. */
typedef enum { FAULT_KILL, FAULT_FREEZE, FAULT_KILL_OUTBOX } redis_fault;

static void redis_fault_under_load(redis_fault kind)
{
    redis_srv *r = redis_start();
    daemon_t *na = node_start(r, "node-a", "--canary-interval-ms", "200", "--outbox-max-bytes",
                              kind == FAULT_KILL_OUTBOX ? "8k" : "16m", NULL);
    daemon_t *nb = node_start(r, "node-b", "--canary-interval-ms", "200", NULL);
    sc_client *a = app_open(na, "emitter", NULL);
    static receiver rx;
    static load ld;
    memset(&ld, 0, sizeof(ld));
    sc_client *b = rx_open(nb, "receiver", &rx);
    bool kill = kind != FAULT_FREEZE;
    sc_emit_flags vol = {.is_volatile = true};
    const sc_emit_flags *fl[2] = {NULL, kind == FAULT_KILL_OUTBOX ? &vol : NULL};
    assert_int_equal(sc_client_socket_up(b, "b1", "sb1", "", NULL, 0, feed, 1), 0);
    assert_int_equal(sc_client_sync(b, 0), 0);
    assert_int_equal(wait_nodes(a, 2, 5000), 2);
    sc_target t = {.rooms = feed, .n_rooms = 1};
    fence(a, b, &rx, &t);
    baseline ba = take_baseline(na, 1), bb = take_baseline(nb, 1);

    /* a third of the load before the fault, a third during it (and at least
     * 40 batches (10 under valgrind) after node-a noticed: the PING probe takes up to
     * redis_command_timeout_ms when Redis is frozen), a third after */
    unsigned batches = load_total() / BATCH;
    for (unsigned k = 0; k < batches / 3; k++) {
        emit_batch(a, &ld, &t, fl[k % 2]);
        poll_for(b, 10);
    }
    kill ? redis_kill(r) : redis_signal(r, SIGSTOP);
    uint64_t end = now_ms_h() + 20000;
    unsigned after_down = 0, want_down = under_wrapper() ? 10 : 40;
    unsigned room_after = (batches / 3) * BATCH; /* keep room for the third phase */
    for (unsigned k = 0; (k < batches / 3 || (after_down < want_down && now_ms_h() < end)) &&
                         ld.sent + BATCH + room_after <= MAX_MSGS;
         k++) {
        emit_batch(a, &ld, &t, fl[k % 2]);
        poll_for(b, 10);
        after_down += stat_of(a, "redis_pub_up") == 0;
    }
    assert_true(after_down >= want_down);
    uint64_t t_resume = wall_ms_h();
    kill ? redis_restart(r) : redis_signal(r, SIGCONT);
    for (unsigned k = 0; k < batches / 3 && ld.sent + BATCH <= MAX_MSGS; k++) {
        emit_batch(a, &ld, &t, fl[k % 2]);
        poll_for(b, 10);
    }
    wait_redis_up(a, 15000);
    wait_redis_up(b, 15000);
    fence(a, b, &rx, &t);
    if (getenv("SC_TEST_DEBUG"))
        fprintf(stderr, "fault at %llu, resumed at %llu, last sent at %llu, gap %llu..%llu\n",
                (unsigned long long)ld.sent_at[batches / 3 * BATCH], (unsigned long long)t_resume,
                (unsigned long long)ld.sent_at[ld.sent - 1], (unsigned long long)rx.gap_from[0],
                (unsigned long long)rx.gap_to[0]);

    /* the sender's outbox: every queued message sent or counted dropped */
    uint64_t queued = stat_of(a, "outbox_queued"), flushed = stat_of(a, "outbox_flushed"),
             dropped = stat_of(a, "outbox_dropped_volatile") + stat_of(a, "outbox_dropped_full"),
             cmd_lost = stat_of(a, "redis_commands_lost");
    assert_int_equal(queued, flushed + dropped);
    /* the receiver: each message it took from Redis became one Deliver, and
     * its app got every Deliver */
    assert_int_equal(stat_of(b, "cluster_messages_received"), stat_of(b, "deliver_frames"));
    assert_int_equal(rx.frames, stat_of(b, "deliver_frames"));
    /* the canary (200 ms) notices a silent subscription within ~2 intervals */
    books bk = balance(&ld, &rx, dropped + cmd_lost, 1000);
    /* the fault did happen under load: node-a lost its connection */
    assert_true(stat_of(a, "redis_reconnects") >= 1);
    if (kill)
        assert_true(rx.gaps >= 1);
    if (kind == FAULT_KILL_OUTBOX) { /* volatile first, then the rest */
        assert_true(stat_of(a, "outbox_dropped_volatile") > 0);
        assert_true(daemon_log_contains(na, "outbox"));
    }
    sc_client_close(a);
    sc_client_close(b);
    long da = assert_back_to_baseline(na, &ba, true), db = assert_back_to_baseline(nb, &bb, true);
    printf("figures: redis %s under load: sent %u delivered %u lost-in-gap %u counted-dropped %u "
           "(outbox queued %llu flushed %llu dropped %llu, commands lost %llu, gaps %u); "
           "RSS drift %+ld / %+ld kB\n",
           kind == FAULT_FREEZE ? "SIGSTOP+SIGCONT"
           : kind == FAULT_KILL ? "killed+restarted"
                                : "killed+restarted, outbox 8k, half volatile",
           bk.sent, bk.delivered, bk.in_gap, bk.counted, (unsigned long long)queued,
           (unsigned long long)flushed, (unsigned long long)dropped, (unsigned long long)cmd_lost,
           rx.gaps, da, db);
    daemon_free(na);
    daemon_free(nb);
    redis_free(r);
}

static void test_redis_killed_under_load(void **state)
{
    redis_fault_under_load(FAULT_KILL);
}

static void test_redis_frozen_under_load(void **state)
{
    redis_fault_under_load(FAULT_FREEZE);
}

static void test_redis_killed_outbox_overflow(void **state)
{
    redis_fault_under_load(FAULT_KILL_OUTBOX);
}

/* Reconnect b to its restarted sidecar (bounded retries). */
static void reconnect_app(sc_client *b)
{
    uint64_t end = now_ms_h() + 15000;
    int rc;
    while ((rc = sc_client_reconnect(b)) < 0 && now_ms_h() < end)
        usleep(50000);
    assert_int_equal(rc, 0);
}

/* Run the harness' spawns under systemd-socket-activate (listening on
 * d->sock; it execs sidecastd, same pid, with the socket as fd 3) until
 * activation_end. Any wrapper already set (valgrind) runs inside it. */
static char *saved_wrapper;

static void activation_begin(const daemon_t *d)
{
    const char *old = getenv("SIDECAST_TEST_WRAPPER");
    saved_wrapper = old ? strdup(old) : NULL;
    char w[1024];
    snprintf(w, sizeof(w), "systemd-socket-activate -l %s %s", d->sock, old ? old : "");
    setenv("SIDECAST_TEST_WRAPPER", w, 1);
}

static void activation_end(void)
{
    if (saved_wrapper)
        setenv("SIDECAST_TEST_WRAPPER", saved_wrapper, 1);
    else
        unsetenv("SIDECAST_TEST_WRAPPER");
    free(saved_wrapper);
    saved_wrapper = NULL;
}

/* A cluster node like node_start's, optionally socket-activated. */
static daemon_t *start_node_b(redis_srv *r, bool activated)
{
    if (!activated)
        return node_start(r, "node-b", NULL);
    daemon_t *d = daemon_prepare();
    activation_begin(d);
    daemon_launch(d, false, "--redis-url", r->url, "--node-name", "node-b", "--heartbeat-ms", "200",
                  "--node-ttl-ms", "800", "--request-timeout-ms", "2000", "--room-linger-ms", "300",
                  "--redis-command-timeout-ms", "1000", "--redis-reconnect-max-ms", "500", NULL);
    activation_end();
    return d;
}

/* node-b is SIGKILLed under load and started again on the same socket (by
 * the harness, or by systemd-socket-activate); its app notices, reconnects
 * and re-registers; node-a's emits reach it again, by room and by socket id
 * (the directory points at the new node). */
static void sidecar_killed_and_restarted(bool activated)
{
    redis_srv *r = redis_start();
    daemon_t *na = node_start(r, "node-a", NULL);
    daemon_t *nb = start_node_b(r, activated);
    sc_client *a = app_open(na, "emitter", NULL);
    static receiver rx;
    static load ld;
    memset(&ld, 0, sizeof(ld));
    sc_client *b = rx_open(nb, "receiver", &rx);
    assert_int_equal(sc_client_socket_up(b, "b1", "sb1", "u1", NULL, 0, feed, 1), 0);
    assert_int_equal(sc_client_sync(b, 0), 0);
    assert_int_equal(wait_nodes(a, 2, 5000), 2);
    sc_target t = {.rooms = feed, .n_rooms = 1};
    fence(a, b, &rx, &t);
    baseline ba = take_baseline(na, 1);

    unsigned total = load_total(), batches = total / BATCH;
    uint64_t t_kill = 0, t_back = 0;
    bool b_up = true;
    for (unsigned i = 0; i < batches; i++) {
        if (i == batches / 3) {
            t_kill = wall_ms_h();
            daemon_kill(nb);
            b_up = false;
        }
        if (i == 2 * batches / 3) {
            if (activated)
                activation_begin(nb);
            daemon_restart(nb); /* takes over the stale socket file */
            if (activated)
                activation_end();
            reconnect_app(b);
            b_up = true;
            uint64_t end = now_ms_h() + 10000;
            while (now_ms_h() < end &&
                   (stat_of(b, "redis_sub_up") != 1 || stat_of(b, "room_channels") < 1))
                usleep(10000);
            t_back = wall_ms_h();
        }
        emit_batch(a, &ld, &t, NULL);
        poll_for(b_up ? b : NULL, 10);
    }
    assert_true(t_back > 0);
    wait_redis_up(b, 10000);
    fence(a, b, &rx, &t);
    /* a targeted emit finds b1 on the new node through the directory */
    assert_int_equal(wait_nodes(a, 2, 10000), 2);
    const char *ids[] = {"b1"};
    sc_target by_id = {.socket_ids = ids, .n_socket_ids = 1};
    fence(a, b, &rx, &by_id);
    assert_int_equal(stat_of(b, "sockets"), 1);
    /* the old node-b was reaped by a survivor (node-a or the new node-b) */
    assert_true(stat_of(a, "dead_nodes_reaped") + stat_of(b, "dead_nodes_reaped") >= 1);

    /* The messages lost are those sent between the kill (less what was in
     * flight, 500 ms) and the new node's subscription: the app knows that
     * window, it is the one its connection was down for. */
    receiver window = rx;
    window.gap_from[0] = t_kill;
    window.gap_to[0] = t_back;
    window.gaps = 1;
    books bk = balance(&ld, &window, 0, 500);
    sc_client_close(a);
    sc_client_close(b);
    long da = assert_back_to_baseline(na, &ba, true);
    if (activated) { /* systemd's socket: used as passed, never created or chmod-ed */
        assert_true(daemon_log_contains(nb, "socket activation: using the listening socket"));
        assert_false(daemon_log_contains(nb, "creating the app socket"));
    }
    printf("figures: sidecastd SIGKILLed+restarted under load%s: sent %u delivered %u lost in "
           "the %llu ms restart window %u; survivor RSS drift %+ld kB\n",
           activated ? " (socket-activated)" : "", bk.sent, bk.delivered,
           (unsigned long long)(t_back - t_kill), bk.in_gap, da);
    daemon_free(na);
    daemon_free(nb);
    redis_free(r);
}

static void test_sidecar_killed_and_restarted(void **state)
{
    sidecar_killed_and_restarted(false);
}

static void test_sidecar_killed_and_restarted_activated(void **state)
{
    sidecar_killed_and_restarted(true);
}

/* A reader that stops reading: volatile messages to it are dropped (each
 * counted), then non-volatile ones push it over the hard bound and it is
 * disconnected (counted, its queued bytes counted as discarded); a second
 * reader gets everything throughout; the slow one reconnects. */
static void test_slow_consumer(void **state)
{
    daemon_t *d = daemon_start("--output-buffer-soft", "32k", "--output-buffer-hard", "256k",
                               "--max-frame-bytes", "64k", NULL);
    static receiver fast, slow;
    sc_client *e = app_open(d, "emitter", NULL);
    sc_client *f = rx_open(d, "fast", &fast);
    sc_client *s = rx_open(d, "slow", &slow);
    assert_int_equal(sc_client_socket_up(f, "f1", "sf", "", NULL, 0, feed, 1), 0);
    assert_int_equal(sc_client_socket_up(s, "s1", "ss", "", NULL, 0, feed, 1), 0);
    assert_int_equal(sc_client_sync(f, 0), 0);
    assert_int_equal(sc_client_sync(s, 0), 0);
    /* shrink the slow reader's receive buffer so that its backlog builds up
     * in the sidecar, where the bounds apply */
    int small = 4096;
    setsockopt(sc_client_fd(s), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    baseline b0 = take_baseline(d, 3);

    static uint8_t payload[512];
    sc_target t = {.rooms = feed, .n_rooms = 1};
    sc_emit_flags vol = {.is_volatile = true};
    unsigned n_vol = 0;
    for (unsigned i = 0; i < 1000; i++, n_vol++) {
        snprintf((char *)payload, sizeof(payload), "m%u", i);
        assert_int_equal(sc_client_emit(e, &t, &vol, payload, sizeof(payload)), 0);
        if (i % 50 == 49) {
            assert_int_equal(sc_client_sync(e, 0), 0);
            poll_for(f, 5);
        }
    }
    assert_int_equal(sc_client_sync(e, 0), 0);
    uint64_t dropped = stat_of(e, "drops_volatile_slow_reader");
    assert_true(dropped > 0);
    assert_int_equal(stat_of(e, "disconnects_slow_reader"), 0);
    poll_for(s, 500); /* now it reads what was queued */
    uint64_t end = now_ms_h() + 5000;
    while (slow.frames + dropped < n_vol && now_ms_h() < end)
        poll_for(s, 20);
    poll_for(f, 200);
    assert_int_equal(fast.frames, n_vol);
    assert_int_equal(slow.frames + dropped, n_vol); /* the books balance */
    uint64_t slow_got = slow.frames;

    /* non-volatile while it stalls again: disconnected past the hard bound */
    unsigned n_hard = 0;
    for (unsigned i = 0; i < 2000 && stat_of(e, "disconnects_slow_reader") == 0; i++, n_hard++) {
        snprintf((char *)payload, sizeof(payload), "m%u", 1000 + i);
        assert_int_equal(sc_client_emit(e, &t, NULL, payload, sizeof(payload)), 0);
        if (i % 50 == 49) {
            assert_int_equal(sc_client_sync(e, 0), 0);
            poll_for(f, 5);
        }
    }
    assert_int_equal(sc_client_sync(e, 0), 0);
    assert_int_equal(stat_of(e, "disconnects_slow_reader"), 1);
    uint64_t discarded = stat_of(e, "output_discarded_bytes");
    assert_true(discarded > 0);
    end = now_ms_h() + 5000;
    while (fast.frames < n_vol + n_hard && now_ms_h() < end)
        poll_for(f, 20);
    assert_int_equal(fast.frames, n_vol + n_hard);
    assert_true(daemon_log_contains(d, "slow reader"));
    /* the slow app learns it was cut off, reconnects and re-registers */
    end = now_ms_h() + 5000;
    while (sc_client_poll(s, 20) == 0 && now_ms_h() < end)
        ;
    reconnect_app(s);
    assert_int_equal(stat_of(e, "sockets"), 2);
    sc_client_close(s);
    sc_client_close(f);
    sc_client_close(e);
    long drift = assert_back_to_baseline(d, &b0, false);
    printf("figures: slow consumer: %u volatile sent, slow reader got %llu + %llu dropped "
           "(counted); %u more non-volatile: disconnected once, %llu queued bytes discarded "
           "(counted); fast reader got all %u; RSS drift %+ld kB\n",
           n_vol, (unsigned long long)slow_got, (unsigned long long)dropped, n_hard,
           (unsigned long long)discarded, n_vol + n_hard, drift);
    daemon_free(d);
}

static void send_frame_bytes(int fd, const sc_frame *f, size_t cut)
{
    sc_buf b;
    sc_buf_init(&b);
    sc_wire_append(&b, f);
    raw_send(fd, b.data, cut && cut < b.len ? cut : b.len);
    sc_buf_free(&b);
}

/* connections_closed once the harness' readiness probe is gone too. */
static uint64_t settled_closed(sc_client *w)
{
    uint64_t end = now_ms_h() + 5000;
    while (stat_of(w, "app_connections") != 1 && now_ms_h() < end)
        usleep(5000);
    return stat_of(w, "connections_closed");
}

/* Apps that hang up in the middle of a frame (header only, half a body),
 * some after registering sockets: each is cleaned up, nobody else notices. */
static void test_disconnect_mid_frame(void **state)
{
    daemon_t *d = daemon_start(NULL);
    recorder rw;
    sc_client *w = app_open(d, "witness", &rw);
    assert_int_equal(sc_client_socket_up(w, "w1", "sw", "", NULL, 0, feed, 1), 0);
    assert_int_equal(sc_client_sync(w, 0), 0);
    uint64_t closed0 = settled_closed(w);
    baseline b0 = take_baseline(d, 1);
    Sidecast__V1__SocketUp up = SIDECAST__V1__SOCKET_UP__INIT;
    char id[32], *rooms[] = {(char *)"feed", (char *)"other"};
    up.socket_id = id;
    up.rooms = rooms;
    up.n_rooms = 2;
    sc_frame f = SC_FRAME_INIT;
    f.msg_case = SIDECAST__V1__FRAME__MSG_SOCKET_UP;
    f.socket_up = &up;
    unsigned n = under_wrapper() ? 40 : 200;
    for (unsigned i = 0; i < n; i++) {
        int fd = raw_connect(d->sock);
        assert_true(fd >= 0);
        raw_send_hello(fd, 1);
        /* read the Welcome: a peer closing with data unread resets the
         * connection, and the daemon would never see the partial frame */
        assert_int_equal(raw_read_frame(fd, NULL, 10000), SIDECAST__V1__FRAME__MSG_WELCOME);
        snprintf(id, sizeof(id), "x%u", i);
        if (i % 2)
            send_frame_bytes(fd, &f, 0); /* a whole socket up first */
        snprintf(id, sizeof(id), "y%u", i);
        send_frame_bytes(fd, &f, i % 3 == 0 ? 2 : (i % 3 == 1 ? 4 : 9));
        close(fd);
    }
    uint64_t end = now_ms_h() + 10000;
    while (now_ms_h() < end && stat_of(w, "connections_closed") < closed0 + n)
        usleep(10000);
    assert_int_equal(stat_of(w, "connections_closed") - closed0, n);
    assert_int_equal(stat_of(w, "sockets"), 1);
    assert_true(daemon_log_contains(d, "in the middle of a frame"));
    rec_reset(&rw);
    sc_emit_flags self = {.include_self = true};
    sc_target t = {.rooms = feed, .n_rooms = 1};
    assert_int_equal(sc_client_emit(w, &t, &self, (const uint8_t *)"ok", 2), 0);
    assert_int_equal(sc_client_sync(w, 0), 0);
    assert_int_equal(rec_count(&rw, "w1"), 1);
    sc_client_close(w);
    long drift = assert_back_to_baseline(d, &b0, false);
    printf("figures: %u apps hung up mid-frame: all cleaned up; RSS drift %+ld kB\n", n, drift);
    daemon_free(d);
}

/* Bursts of connects and disconnects, over max_connections: the excess is
 * refused (counted), every connection is cleaned up, fds and RSS return. */
static void test_connect_flood(void **state)
{
    daemon_t *d = daemon_start("--max-connections", "64", NULL);
    sc_client *w = app_open(d, "witness", NULL);
    uint64_t closed0 = settled_closed(w), accepted0 = stat_of(w, "connections_accepted");
    baseline b0 = take_baseline(d, 1);
    enum { BURST = 80 };
    Sidecast__V1__Hello h = SIDECAST__V1__HELLO__INIT;
    h.protocol_version = 1;
    sc_frame hf = SC_FRAME_INIT;
    hf.id = 1;
    hf.msg_case = SIDECAST__V1__FRAME__MSG_HELLO;
    hf.hello = &h;
    sc_buf hello;
    sc_buf_init(&hello);
    sc_wire_append(&hello, &hf);
    int fds[BURST];
    unsigned rounds = under_wrapper() ? 5 : 40, opened = 0;
    for (unsigned r = 0; r < rounds; r++) {
        for (int i = 0; i < BURST; i++) {
            fds[i] = raw_connect(d->sock);
            assert_true(fds[i] >= 0);
            opened++;
            if (i % 2) /* refused ones may be closed already: ignore EPIPE */
                (void)!send(fds[i], hello.data, hello.len, MSG_NOSIGNAL);
        }
        /* all of the burst accepted or refused before any closes, so the
         * split is exact: 63 accepted (the witness is the 64th), 17 refused */
        uint64_t end = now_ms_h() + 20000;
        while (now_ms_h() < end &&
               stat_of(w, "connections_accepted") + stat_of(w, "connections_refused_limit") <
                   opened + accepted0)
            usleep(5000);
        for (int i = 0; i < BURST; i++)
            close(fds[i]);
        end = now_ms_h() + 20000;
        while (now_ms_h() < end && stat_of(w, "app_connections") != 1)
            usleep(5000);
    }
    uint64_t accepted = stat_of(w, "connections_accepted") - accepted0,
             refused = stat_of(w, "connections_refused_limit");
    assert_int_equal(accepted, 63 * rounds);
    assert_int_equal(refused, (BURST - 63) * rounds);
    assert_int_equal(stat_of(w, "connections_closed"), accepted + closed0);
    sc_buf_free(&hello);
    assert_int_equal(sc_client_ping(w, 0, NULL), 0);
    sc_client_close(w);
    long drift = assert_back_to_baseline(d, &b0, false);
    printf("figures: connect flood: %u connects in bursts of %d, %llu accepted, %llu refused over "
           "max_connections (counted); RSS drift %+ld kB\n",
           opened, BURST, (unsigned long long)accepted, (unsigned long long)refused, drift);
    daemon_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redis_killed_under_load),
        cmocka_unit_test(test_redis_frozen_under_load),
        cmocka_unit_test(test_redis_killed_outbox_overflow),
        cmocka_unit_test(test_sidecar_killed_and_restarted),
        cmocka_unit_test(test_sidecar_killed_and_restarted_activated),
        cmocka_unit_test(test_slow_consumer),
        cmocka_unit_test(test_disconnect_mid_frame),
        cmocka_unit_test(test_connect_flood),
    };
    if (getenv("SC_TEST_FILTER")) /* e.g. SC_TEST_FILTER='*frozen*' */
        cmocka_set_test_filter(getenv("SC_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
