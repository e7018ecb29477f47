/* ledger: the message ledger's machinery (see ledger.h). */
#include "ledger.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* ---- Gap windows ------------------------------------------------------------------ */

void ledger_window_add(ledger_windows *ws, uint64_t from, uint64_t to, uint64_t got,
                       const char *prefix, const char *reason)
{
    if (ws->n >= LEDGER_MAX_WINDOWS)
        return;
    ledger_window *w = &ws->w[ws->n++];
    w->from = from;
    w->to = to;
    w->got = got;
    snprintf(w->reason, sizeof(w->reason), "%s%s", prefix, reason ? reason : "");
}

const ledger_window *ledger_in_window(const ledger_windows *ws, uint64_t t)
{
    for (unsigned i = 0; i < ws->n; i++)
        if (t + LEDGER_SLACK_BEFORE_MS >= ws->w[i].from && t <= ws->w[i].to + LEDGER_SLACK_AFTER_MS)
            return &ws->w[i];
    return NULL;
}

/* ---- the stream ------------------------------------------------------------------- */

void ledger_stream_init(ledger_stream *s, sc_client *tx, int nkinds, const char *codes,
                        ledger_target_fn target, void *ud, unsigned max, int every_ms)
{
    memset(s, 0, sizeof(*s));
    s->tx = tx;
    s->nkinds = nkinds;
    s->codes = codes;
    s->target = target;
    s->ud = ud;
    s->max = max < LEDGER_MAX_MSGS ? max : LEDGER_MAX_MSGS;
    s->every_ms = every_ms;
}

void ledger_stream_start(ledger_stream *s)
{
    s->nmsg = 0;
    s->streaming = true;
    s->next_emit = now_ms_h();
}

static void emit_one(ledger_stream *s)
{
    if (s->nmsg >= s->max)
        return;
    unsigned seq = s->nmsg;
    int k = (int)(seq % (unsigned)s->nkinds);
    sc_target t = s->target(s->ud, k);
    char p[64];
    uint64_t now = wall_ms_h();
    int n = snprintf(p, sizeof(p), "L%c:%u:%llu", s->codes[k], seq, (unsigned long long)now);
    s->kind[seq] = (uint8_t)k;
    s->sent_at[seq] = now;
    s->emit_rc[seq] = sc_client_emit(s->tx, &t, NULL, (const uint8_t *)p, (size_t)n);
    s->nmsg++;
    sc_client_flush(s->tx);
}

void ledger_stream_tick(ledger_stream *s, uint64_t now)
{
    if (!s->streaming || now < s->next_emit)
        return;
    emit_one(s);
    s->next_emit += (uint64_t)s->every_ms;
    if (s->next_emit + (uint64_t)s->every_ms < now) /* the loop was blocked: no burst */
        s->next_emit = now + (uint64_t)s->every_ms;
}

int ledger_stream_wait(const ledger_stream *s, int max_ms)
{
    if (!s->streaming)
        return max_ms;
    uint64_t now = now_ms_h();
    int until = s->next_emit > now ? (int)(s->next_emit - now) : 0;
    return until < max_ms ? until : max_ms;
}

void ledger_fence_round(ledger_stream *s)
{
    for (int k = 0; k < s->nkinds; k++) {
        sc_target t = s->target(s->ud, k);
        char p[32];
        int n = snprintf(p, sizeof(p), "F%c:%u", s->codes[k], s->fence_round);
        assert_int_equal(sc_client_emit(s->tx, &t, NULL, (const uint8_t *)p, (size_t)n), 0);
    }
    s->fence_round++;
}

/* ---- probes after a fault --------------------------------------------------------- */

void ledger_probe_start(ledger_probe *p, uint64_t start)
{
    memset(p, 0, sizeof(*p));
    p->on = true;
    p->start = start;
    p->next = now_ms_h();
}

bool ledger_probe_due(const ledger_probe *p, uint64_t now)
{
    return p->on && now >= p->next;
}

static void on_probe_lookup(void *ud, const sc_location *l)
{
    snprintf(ud, 64, "%s", l->node_id ? l->node_id : "");
}

void ledger_probe_lookup(ledger_probe *p, sc_client *c, const char *socket_id, const char *node_id)
{
    if (p->lookup_ok_at)
        return;
    char node[64] = "";
    int n = sc_client_lookup(c, SC_BY_SOCKET, socket_id, false, on_probe_lookup, node, 1000);
    p->lookups++;
    p->last_lookup_rc = n;
    snprintf(p->last_lookup_node, sizeof(p->last_lookup_node), "%s", node);
    if (n == 1 && strcmp(node, node_id) == 0)
        p->lookup_ok_at = wall_ms_h();
}

void ledger_probe_next(ledger_probe *p, bool done, int every_ms, int giveup_ms)
{
    p->next = now_ms_h() + (uint64_t)every_ms;
    if (done)
        p->on = false;
    if (wall_ms_h() > p->start + (uint64_t)giveup_ms)
        p->on = false;
}

/* ---- counters --------------------------------------------------------------------- */

void ledger_counters_read(const ledger_ctr *c, size_t n, sc_client *const *mons, int64_t *v)
{
    for (size_t i = 0; i < n; i++)
        v[i] = stat_or(mons[c[i].node], c[i].name);
}

int64_t ledger_delta(int64_t before, int64_t after)
{
    if (after < 0)
        return 0;
    if (before < 0)
        return after;
    return after >= before ? after - before : after;
}

int64_t ledger_counted(const ledger_ctr *c, size_t n, const int64_t *before, const int64_t *after)
{
    int64_t counted = 0;
    for (size_t i = 0; i < n; i++)
        if (c[i].loss)
            counted += ledger_delta(before[i], after[i]);
    return counted;
}
