/* ledger: the message ledger's machinery, shared by it_ledger (one Redis,
 * Sentinel) and it_rcluster (a Redis Cluster): a stream of numbered
 * messages from one sender through a fault, the Gap windows the receiving
 * apps were told about, the probes that wait for every path to work again
 * after the fault, and the loss counters read before and after it. The
 * books themselves (who should have got what) are each suite's own.
 *
 * Payloads: "L<code>:<seq>:<sent wall ms>" for the stream's messages,
 * "F<code>:<round>" for its fences (a letter per kind of target, the
 * suite's); every wait is the suite's own loop, bounded. */
#ifndef SC_IT_LEDGER_H
#define SC_IT_LEDGER_H

#include "harness.h"

/* ---- Gap windows ------------------------------------------------------------------
 * What an app was told it may have missed: a message sent within a window
 * [from - LEDGER_SLACK_BEFORE_MS, to + LEDGER_SLACK_AFTER_MS] (wall ms) and
 * not delivered is accounted for. The slack: the send time is stamped by
 * the test before the emit reaches the sidecar and Redis; nothing sent
 * later than LEDGER_SLACK_AFTER_MS after the window may be lost on its
 * account. */
#define LEDGER_MAX_WINDOWS 32
#define LEDGER_SLACK_BEFORE_MS 100
#define LEDGER_SLACK_AFTER_MS 50

typedef struct ledger_window {
    uint64_t from, to, got; /* wall ms; got: when the app was told */
    char reason[96];
} ledger_window;

typedef struct ledger_windows {
    ledger_window w[LEDGER_MAX_WINDOWS];
    unsigned n;
} ledger_windows;

/* Keep the window [from, to], told at got, its reason prefix + reason
 * (NULL: ""), while there is room (the first LEDGER_MAX_WINDOWS). */
void ledger_window_add(ledger_windows *ws, uint64_t from, uint64_t to, uint64_t got,
                       const char *prefix, const char *reason);
/* The window a message sent at t (wall ms) falls in, with the slack; NULL
 * when none. */
const ledger_window *ledger_in_window(const ledger_windows *ws, uint64_t t);

/* ---- the stream -------------------------------------------------------------------
 * From tx, one message every every_ms while streaming, at most max: message
 * seq goes to target(ud, seq % nkinds), its payload names codes[kind]. The
 * suite sets the first fields (ledger_stream_init) and keeps what arrived;
 * kind, sent_at (wall ms) and emit_rc (what sc_client_emit returned: < 0,
 * the sender was told) are the stream's record, nmsg long. */
#define LEDGER_MAX_MSGS 4000

typedef sc_target (*ledger_target_fn)(void *ud, int kind);

typedef struct ledger_stream {
    sc_client *tx;
    int nkinds;
    const char *codes;
    ledger_target_fn target;
    void *ud;
    unsigned max;
    int every_ms;
    bool streaming;
    unsigned nmsg;
    uint64_t next_emit; /* now_ms_h */
    uint8_t kind[LEDGER_MAX_MSGS];
    uint64_t sent_at[LEDGER_MAX_MSGS];
    int emit_rc[LEDGER_MAX_MSGS];
    unsigned fence_round; /* the next fence round's number (never reset) */
} ledger_stream;

void ledger_stream_init(ledger_stream *s, sc_client *tx, int nkinds, const char *codes,
                        ledger_target_fn target, void *ud, unsigned max, int every_ms);
/* A new stream (nmsg 0), its first message due now. */
void ledger_stream_start(ledger_stream *s);
/* The next message, when streaming and it is due at now (now_ms_h); the
 * one after every_ms later (a loop that was blocked makes no burst). */
void ledger_stream_tick(ledger_stream *s, uint64_t now);
/* How long the suite's loop may wait for input: until the next message is
 * due while streaming, at most max_ms. */
int ledger_stream_wait(const ledger_stream *s, int max_ms);
/* A fence of every kind from tx, "F<code>:<fence_round>" (asserts each
 * was accepted), then fence_round + 1. A kind's channel keeps one
 * publisher's order: once a receiver got a round's fence, every message
 * sent before it arrived or is lost. */
void ledger_fence_round(ledger_stream *s);

/* ---- probes after a fault ---------------------------------------------------------
 * From the fault's end (start, wall ms), a step every every_ms until every
 * path the suite probes worked once or giveup_ms passed. The lookup is
 * shared: until it found the socket on the node where it is. */
typedef struct ledger_probe {
    bool on;
    uint64_t start;         /* wall ms */
    uint64_t next;          /* now_ms_h of the next step */
    uint64_t lookup_ok_at;  /* wall ms of the first lookup that found it; 0: none yet */
    unsigned lookups, sent; /* lookups asked; probes the suite sent (its payload numbers) */
    int last_lookup_rc;
    char last_lookup_node[64];
} ledger_probe;

/* Probing from start (wall ms), the first step due now; the counts at 0. */
void ledger_probe_start(ledger_probe *p, uint64_t start);
/* Probing, and its next step is due at now (now_ms_h). */
bool ledger_probe_due(const ledger_probe *p, uint64_t now);
/* Unless it succeeded already: where is socket_id, asked of c; it succeeds
 * when exactly one socket is found, on node_id. */
void ledger_probe_lookup(ledger_probe *p, sc_client *c, const char *socket_id, const char *node_id);
/* After a step: the next in every_ms; probing ends when done (every probe
 * succeeded) or giveup_ms after start. */
void ledger_probe_next(ledger_probe *p, bool done, int every_ms, int giveup_ms);

/* ---- counters ---------------------------------------------------------------------
 * A stat read on node `node` (an index into the suite's monitor
 * connections) before and after; loss: one of the counters that account
 * for messages lost with a reason, summed against the ledger's misses. */
typedef struct ledger_ctr {
    int node;
    const char *name;
    bool loss;
} ledger_ctr;

/* The loss counters of a sender (node): commands or messages it lost,
 * each counted once however many sockets missed it. */
/* clang-format off */
#define LEDGER_SENDER_LOSSES(node)               \
    {node, "redis_commands_lost", true},         \
    {node, "outbox_dropped_volatile", true},     \
    {node, "outbox_dropped_full", true},         \
    {node, "dircache_unreceived", true},         \
    {node, "targeted_no_route", true},           \
    {node, "targeted_unreceived", true}
/* clang-format on */

/* v[i]: stat_or(mons[c[i].node], c[i].name) (-1: absent). */
void ledger_counters_read(const ledger_ctr *c, size_t n, sc_client *const *mons, int64_t *v);
/* A counter's increase: 0 when absent after; all of it when absent before
 * or lower than before (a restarted sidecar starts at 0 again). */
int64_t ledger_delta(int64_t before, int64_t after);
/* The increase of the loss counters, summed. */
int64_t ledger_counted(const ledger_ctr *c, size_t n, const int64_t *before, const int64_t *after);

#endif
