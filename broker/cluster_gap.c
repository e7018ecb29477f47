/* cluster_gap: the window in which this node may have missed cluster
 * messages (a subscriber interruption, a lost directory, a missing canary),
 * and the Gap frame each app connection gets when it closes. Opened by
 * whichever part sees the loss, ended when both ways in are back (the
 * subscriptions and this node's directory). Below every other part; it
 * reads their flags and sends to app connections, nothing else. */
#include "cluster_int.h"
#include "log.h"
#include "stats.h"

#include <stdio.h>

#define M(name) SIDECAST__V1__FRAME__MSG_##name

/* ---- gaps ------------------------------------------------------------------------ */

/* Open a Gap from `from_ms` (or widen the open one back to it). A Gap
 * starts no later than the last message this node knows it got, so every
 * message it may have missed falls inside the window its apps are told. */
void sc_cl_gap_begin(sc_cluster *c, uint64_t from_ms, const char *reason)
{
    sc_cl_quiet_forget(c); /* an announcement may have been missed (sc_cl_quiet_on) */
    if (c->last_rx_ms && c->last_rx_ms < from_ms)
        from_ms = c->last_rx_ms;
    if (c->in_gap) {
        c->gap_from_ms = SC_MIN(c->gap_from_ms, from_ms);
        return;
    }
    c->in_gap = true;
    c->gap_from_ms = from_ms;
    snprintf(c->gap_reason, sizeof(c->gap_reason), "%s", reason);
}

static void end_gap(sc_cluster *c)
{
    if (!c->in_gap)
        return;
    c->in_gap = false;
    SC_COUNT(pubsub_gaps);
    Sidecast__V1__Gap g = SIDECAST__V1__GAP__INIT;
    g.from_unix_ms = c->gap_from_ms;
    g.to_unix_ms = wall_ms();
    g.reason = c->gap_reason;
    sc_warn("pub/sub was interrupted for %llu ms (%s): telling %llu app connection(s) to resync",
            (unsigned long long)(g.to_unix_ms - g.from_unix_ms), c->gap_reason,
            (unsigned long long)c->srv->nconns);
    sc_frame f = SC_FRAME_INIT;
    f.msg_case = M(GAP);
    f.gap = &g;
    for (sc_conn *conn = c->srv->conns; conn; conn = conn->next)
        if (conn->handshaken)
            sc_conn_send(conn, &f, false);
}

/* The Gap ends once both ways in are back: every subscription confirmed,
 * this node's directory (through which targeted emits find it) rewritten
 * and confirmed, and the Subscribed for its private rooms' channels heard
 * back (sc_cl_subs_unheard: until the others have it, they may leave those
 * channels out). */
void sc_cl_maybe_end_gap(sc_cluster *c)
{
    if (c->in_gap && c->sub_ready && c->dir_ready && !sc_cl_subs_unheard(c))
        end_gap(c);
}
