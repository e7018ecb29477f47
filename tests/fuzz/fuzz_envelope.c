/* fuzz_envelope: what arrives from Redis into the cluster receive path.
 * Anyone who can PUBLISH on the sidecast channels (another node, another
 * version, anyone with Redis access) controls these bytes.
 *
 * The daemon is a real in-process sidecastd (see fuzz.h) with a cluster
 * module that never connects: this file includes cluster_core.c and
 * cluster_subs.c, chrony-style,
 * to hand its static reply handlers (on_sub_reply, on_reap_reply) the
 * replies hiredis would build, so no Redis is needed. Before the input
 * runs, two apps hold sockets in rooms, the node list names two peers, and
 * four requests (ids 1-4: fetch, apply, server emit, broadcast ack) wait
 * for their answers.
 *
 * Input: one flags byte (bit 0: begin the graceful stop, as on SIGTERM,
 * after the records), then records:
 *   0 message:     [ch][len16][envelope]   pub/sub "message" on a channel
 *   1 subscribe:   [ch]                    subscription confirmed
 *   2 unsubscribe: [ch]                    unsubscription confirmed
 *   3 node list:   [n] n x ([len8][id][len8][info]) [dead] [flags]   heartbeat
 *                  reply; flags bits 0-2: alive, member, marker (see
 *                  lua/reap.lua), bit 3: the first heartbeat since a rewrite,
 *                  bits 4-5: every node's version record: '' (before
 *                  versioning), "1:3" (this version), "9:255", "x" 
 *   4 app frame:   [ctl][len16][frame]     from app A (ctl bit 0: B)
 *   5 timeouts:                            every pending request and relay times out
 * ch picks: this node's channel, all, room:r1, room:r2, room:none.
 *
 * Every Deliver an app receives while a message is handled must carry the
 * payload, volatile flag and selector (its socket_ids narrowed to the app's
 * own) of one of the message's emits: the envelope's own, or one a Batch
 * carries.
 * Every SocketList an app receives while a message is handled must be, entry
 * for entry and with more=true, the SocketList of one of the message's
 * envelopes (a Batch's included, in order) as protobuf-c decodes it: the
 * daemon passes most of them on without decoding them (read_raw_response),
 * and must neither change one nor pass on one that protobuf-c refuses. */
#include "../../broker/cluster_core.c"
#include "../../broker/cluster_subs.c"
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fz_daemon d;
static bool in_message;
/* the emits of the current message, decoded like the daemon does */
#define MAX_EMITS 256
static const Sidecast__Cluster__V1__ClusterEmit *expect_emits[MAX_EMITS];
static size_t n_expect_emits;
/* the SocketLists of the current message's envelopes, in order, and the
 * next one an app's SocketList may match (see check_socket_list) */
#define MAX_LISTS 256
static const Sidecast__V1__SocketList *expect_lists[MAX_LISTS];
static size_t n_expect_lists, next_list;
static Sidecast__Cluster__V1__Envelope *inner_envs[MAX_LISTS];
static size_t n_inner_envs;

static const char *channel_name(uint8_t ch, char *out, size_t len)
{
    sc_cluster *c = d.srv.cluster;
    static const char *const rooms[] = {"r1", "r2", "none"};
    switch (ch % 5) {
    case 0: snprintf(out, len, "%s", c->ch_node); break;
    case 1: snprintf(out, len, "%s", c->ch_all); break;
    default: channel_of(c, out, len, "room", rooms[ch % 5 - 2]); break;
    }
    return out;
}

/* A bulk-string reply as hiredis builds it: NUL-terminated copy. */
static redisReply *str_reply(const void *p, size_t len)
{
    redisReply *r = sc_xcalloc(1, sizeof(*r));
    r->type = REDIS_REPLY_STRING;
    r->str = sc_xmalloc(len + 1);
    memcpy(r->str, p, len);
    r->str[len] = '\0';
    r->len = len;
    return r;
}

static void free_reply(redisReply *r)
{
    for (size_t i = 0; i < r->elements; i++)
        free_reply(r->element[i]);
    free(r->element);
    free(r->str);
    free(r);
}

static redisReply *array_reply(size_t n)
{
    redisReply *r = sc_xcalloc(1, sizeof(*r));
    r->type = REDIS_REPLY_ARRAY;
    r->elements = n;
    r->element = sc_xcalloc(n ? n : 1, sizeof(*r->element));
    return r;
}

static void pubsub(const char *kind, const char *channel, const uint8_t *p, size_t len)
{
    redisReply *r = array_reply(3);
    r->element[0] = str_reply(kind, strlen(kind));
    r->element[1] = str_reply(channel, strlen(channel));
    if (p) {
        r->element[2] = str_reply(p, len);
    } else {
        r->element[2] = sc_xcalloc(1, sizeof(redisReply));
        r->element[2]->type = REDIS_REPLY_INTEGER;
        r->element[2]->integer = 1;
    }
    on_sub_reply(NULL, r, d.srv.cluster);
    free_reply(r);
}

static void node_list(const char *const *ids, const char *const *infos, size_t n, const char *dead,
                      uint8_t flags)
{
    static const char *const vers[] = {"", "1:3", "9:255", "x"};
    const char *ver = vers[(flags >> 4) & 3];
    redisReply *r = array_reply(3 * n + 2);
    for (size_t i = 0; i < n; i++) {
        r->element[3 * i] = str_reply(ids[i], strlen(ids[i]));
        r->element[3 * i + 1] = str_reply(infos[i], strlen(infos[i]));
        r->element[3 * i + 2] = str_reply(ver, strlen(ver));
    }
    r->element[3 * n] = str_reply(dead, strlen(dead));
    char f[3] = {flags & 1 ? '1' : '0', flags & 2 ? '1' : '0', flags & 4 ? '1' : '0'};
    r->element[3 * n + 1] = str_reply(f, 3);
    beat_pd *bp = sc_xmalloc(sizeof(*bp)); /* freed by on_reap_reply */
    *bp = (beat_pd){d.srv.cluster, wall_ms_of(d.srv.loop), ++d.srv.cluster->beats_sent,
                    d.srv.cluster->resync_gen, (flags & 8) != 0, false};
    on_reap_reply(NULL, r, bp);
    free_reply(r);
}

static bool same_strings(char **a, size_t na, char **b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return true;
}

static bool listed(char *const *ids, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return true;
    return false;
}

/* Why Deliver dv is not what emit em delivers, or NULL if it is. */
static const char *deliver_differs(const Sidecast__V1__Deliver *dv,
                                   const Sidecast__Cluster__V1__ClusterEmit *em)
{
    const sc_selector *want = em->to, *got = dv->to;
    if (dv->payload.len != em->payload.len ||
        (em->payload.len && memcmp(dv->payload.data, em->payload.data, em->payload.len) != 0))
        return "payload";
    if (dv->volatile_ != em->volatile_ || !dv->ack_id != !em->ack_id)
        return "volatile/ack";
    if (!got || got->all != want->all ||
        !same_strings(got->rooms, got->n_rooms, want->rooms, want->n_rooms) ||
        !same_strings(got->except_rooms, got->n_except_rooms, want->except_rooms,
                      want->n_except_rooms) ||
        !same_strings(got->except_ids, got->n_except_ids, want->except_ids, want->n_except_ids) ||
        !same_strings(got->user_ids, got->n_user_ids, want->user_ids, want->n_user_ids))
        return "selector";
    for (size_t k = 0; k < got->n_socket_ids; k++)
        if (!listed(want->socket_ids, want->n_socket_ids, got->socket_ids[k]))
            return "socket_ids";
    return NULL;
}

static void check_deliver(fz_daemon *dd, int i, const sc_frame *f, void *ud)
{
    (void)dd;
    (void)ud;
    if (!in_message || f->msg_case != SIDECAST__V1__FRAME__MSG_DELIVER)
        return;
    if (!n_expect_emits)
        fz_fail("app %d got a Deliver for no emit", i);
    const char *why = NULL;
    for (size_t k = 0; k < n_expect_emits; k++)
        if (!(why = deliver_differs(f->deliver, expect_emits[k])))
            return;
    fz_fail("app %d got a Deliver that no emit of the message makes (%s differs%s)", i, why,
            n_expect_emits > 1 ? " from the last one" : "");
}

static bool same_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool same_info(const Sidecast__V1__SocketInfo *a, const Sidecast__V1__SocketInfo *b)
{
    return same_str(a->socket_id, b->socket_id) && same_str(a->session_id, b->session_id) &&
           same_str(a->user_id, b->user_id) && same_str(a->node_id, b->node_id) &&
           a->data.len == b->data.len &&
           (!a->data.len || memcmp(a->data.data, b->data.data, a->data.len) == 0) &&
           same_strings(a->rooms, a->n_rooms, b->rooms, b->n_rooms);
}

static bool same_list(const Sidecast__V1__SocketList *a, const Sidecast__V1__SocketList *b)
{
    if (a->n_sockets != b->n_sockets)
        return false;
    for (size_t i = 0; i < a->n_sockets; i++)
        if (!same_info(a->sockets[i], b->sockets[i]))
            return false;
    return true;
}

static void check_socket_list(int i, const sc_frame *f)
{
    if (!in_message || f->msg_case != SIDECAST__V1__FRAME__MSG_SOCKET_LIST)
        return;
    if (!f->socket_list->more) {
        if (f->socket_list->n_sockets) /* only the request's own end is empty */
            fz_fail("app %d got a SocketList with more=false for another node's answer", i);
        return;
    }
    while (next_list < n_expect_lists && !same_list(expect_lists[next_list], f->socket_list))
        next_list++;
    if (next_list == n_expect_lists)
        fz_fail("app %d got a SocketList of %zu sockets that no envelope of the message carries "
                "as protobuf-c decodes it",
                i, f->socket_list->n_sockets);
    next_list++;
}

static void check_frame(fz_daemon *dd, int i, const sc_frame *f, void *ud)
{
    check_deliver(dd, i, f, ud);
    check_socket_list(i, f);
}

static void expect_of(const Sidecast__Cluster__V1__Envelope *env)
{
    if (env->body_case == SIDECAST__CLUSTER__V1__ENVELOPE__BODY_EMIT && env->emit->to &&
        n_expect_emits < MAX_EMITS)
        expect_emits[n_expect_emits++] = env->emit;
    if (env->body_case == SIDECAST__CLUSTER__V1__ENVELOPE__BODY_RESPONSE &&
        env->response->kind_case == SIDECAST__CLUSTER__V1__RESPONSE__KIND_SOCKETS &&
        n_expect_lists < MAX_LISTS)
        expect_lists[n_expect_lists++] = env->response->sockets;
}

/* What the daemon may pass on for this envelope: its list and emit, or (a
 * Batch) the lists and emits of the inner envelopes protobuf-c decodes. */
static void expect_lists_of(const Sidecast__Cluster__V1__Envelope *env)
{
    n_expect_lists = next_list = n_inner_envs = n_expect_emits = 0;
    if (!env)
        return;
    expect_of(env);
    if (env->body_case != SIDECAST__CLUSTER__V1__ENVELOPE__BODY_BATCH)
        return;
    const Sidecast__Cluster__V1__Batch *b = env->batch;
    for (size_t k = 0; k < b->n_envelopes && n_inner_envs < MAX_LISTS; k++) {
        Sidecast__Cluster__V1__Envelope *in = sidecast__cluster__v1__envelope__unpack(
            NULL, b->envelopes[k].len, b->envelopes[k].data);
        if (!in)
            continue;
        inner_envs[n_inner_envs++] = in;
        expect_of(in);
    }
}

static void socket_up(int app, const char *id, const char *sid, const char *uid, char **rooms,
                      size_t n)
{
    Sidecast__V1__SocketUp u = SIDECAST__V1__SOCKET_UP__INIT;
    u.socket_id = (char *)id;
    u.session_id = (char *)sid;
    u.user_id = (char *)uid;
    u.data.data = (uint8_t *)"data";
    u.data.len = 4;
    u.rooms = rooms;
    u.n_rooms = n;
    sc_frame f = SC_FRAME_INIT;
    f.msg_case = SIDECAST__V1__FRAME__MSG_SOCKET_UP;
    f.socket_up = &u;
    fz_send(&d, app, &f);
}

static void setup(void)
{
    fz_start(&d, true);
    d.on_frame = check_frame;
    sc_cluster *c = d.srv.cluster;
    const char *ids[] = {c->self, "peer-a", "peer-b"};
    const char *infos[] = {"9:fuzz-node10.0.0.9:3000", "6:node-a10.0.0.1:3000", "6:node-b"};
    node_list(ids, infos, 3, "0", 7 | 1 << 4); /* this node whole, every node current */
    int a = fz_connect(&d, true, true), b = fz_connect(&d, true, true);
    char *r12[] = {(char *)"r1", (char *)"r2"}, *r2[] = {(char *)"r2"}, *r1[] = {(char *)"r1"};
    socket_up(a, "a1", "sess-a1", "u1", r12, 2);
    socket_up(a, "a2", "sess-a2", "", r2, 1);
    socket_up(b, "b1", "sess-b1", "u1", r1, 1);
    socket_up(b, "b2", "", "u2", NULL, 0);
    fz_pump(&d);
    sc_conn *ca = fz_conn(&d, a);
    sc_cluster_request(c, SC_REQ_FETCH, ca, 101);
    sc_cluster_request(c, SC_REQ_APPLY, ca, 102);
    sc_cluster_request(c, SC_REQ_SERVER_EMIT, ca, 103);
    sc_cluster_request(c, SC_REQ_BROADCAST_ACK, ca, 104);
}

static void message(fz_reader *r)
{
    char ch[256];
    channel_name(fz_u8(r), ch, sizeof(ch));
    size_t len = fz_u16(r);
    const uint8_t *p = fz_bytes(r, &len);
    Sidecast__Cluster__V1__Envelope *env = sidecast__cluster__v1__envelope__unpack(NULL, len, p);
    expect_lists_of(env);
    in_message = true;
    pubsub("message", ch, p, len);
    fz_pump(&d);
    in_message = false;
    n_expect_emits = 0;
    for (size_t i = 0; i < n_inner_envs; i++)
        sidecast__cluster__v1__envelope__free_unpacked(inner_envs[i], NULL);
    n_expect_lists = n_inner_envs = 0;
    if (env)
        sidecast__cluster__v1__envelope__free_unpacked(env, NULL);
}

static void reap(fz_reader *r)
{
    size_t n = fz_u8(r) % 4;
    char id[4][256], info[4][256];
    const char *ids[4], *infos[4];
    for (size_t i = 0; i < n; i++) {
        size_t l = fz_u8(r);
        const uint8_t *p = fz_bytes(r, &l);
        memcpy(id[i], p, l);
        id[i][l] = '\0';
        l = fz_u8(r);
        p = fz_bytes(r, &l);
        memcpy(info[i], p, l);
        info[i][l] = '\0';
        ids[i] = id[i];
        infos[i] = info[i];
    }
    char dead[8];
    snprintf(dead, sizeof(dead), "%u", fz_u8(r) % 4);
    node_list(ids, infos, n, dead, fz_u8(r));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_reader r = {data, size};
    uint8_t flags = fz_u8(&r);
    setup();
    while (fz_more(&r)) {
        char ch[256];
        switch (fz_u8(&r) % 6) {
        case 0: message(&r); break;
        case 1: pubsub("subscribe", channel_name(fz_u8(&r), ch, sizeof(ch)), NULL, 0); break;
        case 2: pubsub("unsubscribe", channel_name(fz_u8(&r), ch, sizeof(ch)), NULL, 0); break;
        case 3: reap(&r); break;
        case 4: {
            int app = fz_u8(&r) & 1;
            size_t len = fz_u16(&r);
            const uint8_t *p = fz_bytes(&r, &len);
            fz_send_frame(&d, app, p, len);
            break;
        }
        case 5: fz_fire_timeouts(&d); break;
        }
        fz_pump(&d);
        fz_check(&d);
    }
    if (flags & 1) {
        sc_server_shutdown(&d.srv);
        fz_pump(&d);
    }
    fz_stop(&d);
    return 0;
}
