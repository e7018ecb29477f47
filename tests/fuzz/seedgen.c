/* seedgen: writes the seed corpora of the frame and envelope targets from
 * real encoded messages, so the fuzzers start from inputs that reach every
 * handler. Usage: fuzz_seedgen tests/fuzz/corpus (the output is committed;
 * rerun after a protocol change). Formats: see fuzz_frame.c and
 * fuzz_envelope.c. */
#include "buf.h"
#include "cluster.pb-c.h"
#include "wire.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define M(name) SIDECAST__V1__FRAME__MSG_##name
#define S(x) ((char *)(x))
#define LIT(s) sc_buf_append(&seed, s, sizeof(s) - 1)

static const char *outdir;
static sc_buf seed;

static void begin(uint8_t flags)
{
    sc_buf_free(&seed);
    sc_buf_init(&seed);
    sc_buf_append(&seed, &flags, 1);
}

static void finish(const char *target, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(sc_buf_head(&seed), 1, sc_buf_used(&seed), f) != sc_buf_used(&seed)) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

static void put16(size_t len)
{
    uint8_t h[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    sc_buf_append(&seed, h, 2);
}

/* A frame record for the frame target (ctl: bit 0 = app B). */
static void frame_rec(uint8_t ctl, uint64_t id, int msg_case, void *msg)
{
    sc_frame f = SC_FRAME_INIT;
    f.id = id;
    f.msg_case = msg_case;
    f.hello = msg;
    size_t len = sidecast__v1__frame__get_packed_size(&f);
    uint8_t *p = malloc(len + 1);
    sidecast__v1__frame__pack(&f, p);
    sc_buf_append(&seed, &ctl, 1);
    put16(len);
    sc_buf_append(&seed, p, len);
    free(p);
}

/* The same frame as raw stream bytes (length prefix included). */
static void frame_raw(uint64_t id, int msg_case, void *msg)
{
    sc_frame f = SC_FRAME_INIT;
    f.id = id;
    f.msg_case = msg_case;
    f.hello = msg;
    sc_wire_append(&seed, &f);
}

static void socket_up(uint8_t ctl, uint64_t id, const char *sid, const char *sess, const char *uid,
                      char **rooms, size_t n)
{
    Sidecast__V1__SocketUp u = SIDECAST__V1__SOCKET_UP__INIT;
    u.socket_id = S(sid);
    u.session_id = S(sess);
    u.user_id = S(uid);
    u.data.data = (uint8_t *)"{\"a\":1}";
    u.data.len = 7;
    u.rooms = rooms;
    u.n_rooms = n;
    frame_rec(ctl, id, M(SOCKET_UP), &u);
}

static void emit(uint8_t ctl, uint64_t id, sc_selector *to, const char *payload, bool vol,
                 bool self, bool ack)
{
    Sidecast__V1__Emit e = SIDECAST__V1__EMIT__INIT;
    e.to = to;
    e.payload.data = (uint8_t *)payload;
    e.payload.len = strlen(payload);
    e.volatile_ = vol;
    e.include_self = self;
    e.want_ack = ack;
    frame_rec(ctl, id, M(EMIT), &e);
}

static void ack(uint8_t ctl, uint64_t ack_id, uint32_t expect, const char *answer, bool done)
{
    Sidecast__V1__Ack a = SIDECAST__V1__ACK__INIT;
    ProtobufCBinaryData pl = {answer ? strlen(answer) : 0, (uint8_t *)answer};
    a.ack_id = ack_id;
    a.expect = expect;
    a.payloads = answer ? &pl : NULL;
    a.n_payloads = answer ? 1 : 0;
    a.done = done;
    frame_rec(ctl, 0, M(ACK), &a);
}

static char *R1[] = {S("r1")}, *R12[] = {S("r1"), S("r2")}, *R3[] = {S("r3")};

/* Every app -> sidecar message on one connection. */
static void all_messages(uint8_t ctl)
{
    socket_up(ctl, 2, "s1", "sess1", "u1", R12, 2);
    socket_up(ctl, 3, "s2", "sess2", "", NULL, 0);
    Sidecast__V1__Join j = SIDECAST__V1__JOIN__INIT;
    j.socket_id = S("s1");
    j.rooms = R3;
    j.n_rooms = 1;
    frame_rec(ctl, 4, M(JOIN), &j);
    Sidecast__V1__Leave l = SIDECAST__V1__LEAVE__INIT;
    l.socket_id = S("s1");
    l.rooms = R1;
    l.n_rooms = 1;
    frame_rec(ctl, 5, M(LEAVE), &l);
    Sidecast__V1__SetData sd = SIDECAST__V1__SET_DATA__INIT;
    sd.socket_id = S("s1");
    sd.data.data = (uint8_t *)"xyz";
    sd.data.len = 3;
    frame_rec(ctl, 6, M(SET_DATA), &sd);
    Sidecast__V1__Ping ping = SIDECAST__V1__PING__INIT;
    ping.nonce = 42;
    frame_rec(ctl, 7, M(PING), &ping);
    Sidecast__V1__StatsRequest st = SIDECAST__V1__STATS_REQUEST__INIT;
    frame_rec(ctl, 8, M(STATS), &st);
    Sidecast__V1__RoomsRequest rr = SIDECAST__V1__ROOMS_REQUEST__INIT;
    frame_rec(ctl, 9, M(ROOMS), &rr);
    char *names[] = {S("r2"), S("nope")};
    rr.names = names;
    rr.n_names = 2;
    frame_rec(ctl, 10, M(ROOMS), &rr);
    sc_selector filt = SIDECAST__V1__SELECTOR__INIT;
    filt.rooms = R12;
    filt.n_rooms = 2;
    Sidecast__V1__FetchSockets fs = SIDECAST__V1__FETCH_SOCKETS__INIT;
    fs.filter = &filt;
    fs.with_data = fs.with_rooms = true;
    frame_rec(ctl, 11, M(FETCH_SOCKETS), &fs);
    fs.filter = NULL;
    fs.local = true;
    frame_rec(ctl, 12, M(FETCH_SOCKETS), &fs);
    Sidecast__V1__NodesRequest nr = SIDECAST__V1__NODES_REQUEST__INIT;
    frame_rec(ctl, 13, M(NODES), &nr);
    Sidecast__V1__Lookup lk = SIDECAST__V1__LOOKUP__INIT;
    lk.key_case = SIDECAST__V1__LOOKUP__KEY_SESSION_ID;
    lk.session_id = S("sess1");
    frame_rec(ctl, 14, M(LOOKUP), &lk);
    lk.key_case = SIDECAST__V1__LOOKUP__KEY_SOCKET_ID;
    lk.socket_id = S("s2");
    lk.local = true;
    frame_rec(ctl, 15, M(LOOKUP), &lk);
    lk.key_case = SIDECAST__V1__LOOKUP__KEY_USER_ID;
    lk.user_id = S("u1");
    frame_rec(ctl, 16, M(LOOKUP), &lk);
    Sidecast__V1__SessionEntry e1 = SIDECAST__V1__SESSION_ENTRY__INIT, *set[] = {&e1};
    e1.key = S("k");
    e1.value.data = (uint8_t *)"v";
    e1.value.len = 1;
    char *del[] = {S("old")};
    Sidecast__V1__SessionSet ss = SIDECAST__V1__SESSION_SET__INIT;
    ss.session_id = S("sess1");
    ss.set = set;
    ss.n_set = 1;
    ss.delete_ = del;
    ss.n_delete_ = 1;
    frame_rec(ctl, 17, M(SESSION_SET), &ss);
    Sidecast__V1__SessionGet sg = SIDECAST__V1__SESSION_GET__INIT;
    sg.session_id = S("sess1");
    frame_rec(ctl, 18, M(SESSION_GET), &sg);
    sc_selector to = SIDECAST__V1__SELECTOR__INIT;
    to.rooms = R12;
    to.n_rooms = 2;
    emit(ctl, 19, &to, "hello", false, true, false);
    Sidecast__V1__Apply ap = SIDECAST__V1__APPLY__INIT;
    ap.filter = &filt;
    ap.join = R3;
    ap.n_join = 1;
    ap.leave = R1;
    ap.n_leave = 1;
    frame_rec(ctl, 20, M(APPLY), &ap);
    Sidecast__V1__ServerEmit se = SIDECAST__V1__SERVER_EMIT__INIT;
    se.payload.data = (uint8_t *)"srv";
    se.payload.len = 3;
    frame_rec(ctl, 21, M(SERVER_EMIT), &se);
    l.n_rooms = 0;
    frame_rec(ctl, 22, M(LEAVE), &l);
    Sidecast__V1__SocketDown dn = SIDECAST__V1__SOCKET_DOWN__INIT;
    dn.socket_id = S("s1");
    frame_rec(ctl, 23, M(SOCKET_DOWN), &dn);
}

/* Two apps: emits of every kind between them, acks, server emits, apply. */
static void two_apps(void)
{
    socket_up(0, 2, "a1", "sa1", "u1", R1, 1);
    socket_up(0, 3, "a2", "sa2", "u2", R12, 2);
    socket_up(1, 2, "b1", "sb1", "u1", R1, 1);
    socket_up(1, 3, "b2", "", "u3", NULL, 0);
    sc_selector to = SIDECAST__V1__SELECTOR__INIT;
    to.rooms = R1;
    to.n_rooms = 1;
    emit(0, 4, &to, "room", false, false, false);
    emit(0, 0, &to, "volatile", true, true, false);
    /* standalone: request 1, relay (ack id) 2 */
    emit(0, 5, &to, "with ack", false, false, true);
    ack(1, 2, 1, "answer", false);
    ack(1, 2, 0, "late", true);
    sc_selector all = SIDECAST__V1__SELECTOR__INIT;
    all.all = true;
    char *except[] = {S("a1")};
    all.except_ids = except;
    all.n_except_ids = 1;
    emit(1, 6, &all, "all", false, true, false);
    sc_selector ids = SIDECAST__V1__SELECTOR__INIT;
    char *sids[] = {S("b1"), S("a2"), S("b1"), S("zz")}, *uids[] = {S("u3")};
    ids.socket_ids = sids;
    ids.n_socket_ids = 4;
    ids.user_ids = uids;
    ids.n_user_ids = 1;
    ids.except_rooms = R12 + 1;
    ids.n_except_rooms = 1;
    emit(0, 7, &ids, "ids", false, false, false);
    /* request 3, relay 4 */
    Sidecast__V1__ServerEmit se = SIDECAST__V1__SERVER_EMIT__INIT;
    se.payload.data = (uint8_t *)"srv";
    se.payload.len = 3;
    se.want_ack = true;
    frame_rec(0, 8, M(SERVER_EMIT), &se);
    ack(1, 4, 0, "pong", true);
    sc_selector filt = SIDECAST__V1__SELECTOR__INIT;
    filt.user_ids = uids;
    filt.n_user_ids = 1;
    Sidecast__V1__Apply ap = SIDECAST__V1__APPLY__INIT;
    ap.filter = &filt;
    ap.disconnect = ap.close = true;
    frame_rec(1, 9, M(APPLY), &ap);
    Sidecast__V1__SocketDown dn = SIDECAST__V1__SOCKET_DOWN__INIT;
    dn.socket_id = S("b2");
    frame_rec(1, 10, M(SOCKET_DOWN), &dn);
    frame_rec(0, 11, M(SOCKET_DOWN), &dn); /* not A's socket */
    /* a session with a socket per namespace, on both apps: its oldest goes */
    socket_up(0, 12, "a3", "sa1", "", NULL, 0);
    socket_up(1, 13, "b3", "sa1", "", NULL, 0);
    dn.socket_id = S("a1");
    frame_rec(0, 14, M(SOCKET_DOWN), &dn);
}

static void frame_seeds(void)
{
    begin(0x00);
    all_messages(0);
    finish("frame", "all-messages");
    begin(0x10);
    all_messages(0);
    finish("frame", "all-messages-cluster");
    begin(0x04);
    two_apps();
    finish("frame", "two-apps");
    begin(0x14);
    two_apps();
    finish("frame", "two-apps-cluster");

    /* acks that never come: the relay and the request time out */
    for (uint8_t flags = 0x04; flags <= 0x14; flags += 0x10) {
        begin(flags);
        socket_up(0, 2, "a1", "sa1", "", NULL, 0);
        socket_up(1, 2, "b1", "sb1", "", R1, 1);
        sc_selector r1 = SIDECAST__V1__SELECTOR__INIT;
        r1.rooms = R1;
        r1.n_rooms = 1;
        emit(0, 3, &r1, "ack me", false, false, true);
        Sidecast__V1__ServerEmit se = SIDECAST__V1__SERVER_EMIT__INIT;
        se.want_ack = se.local = true;
        frame_rec(0, 4, M(SERVER_EMIT), &se);
        Sidecast__V1__Ping ping = SIDECAST__V1__PING__INIT;
        frame_rec(0x40, 5, M(PING), &ping);
        ack(1, 2, 1, "too late", true);
        finish("frame", flags & 0x10 ? "timeouts-cluster" : "timeouts");
    }
    /* SIGTERM while a relay waits for acks and output is queued */
    for (uint8_t flags = 0x04; flags <= 0x14; flags += 0x10) {
        begin(flags);
        socket_up(1, 2, "b1", "sb1", "", R1, 1);
        sc_selector r1 = SIDECAST__V1__SELECTOR__INIT;
        r1.rooms = R1;
        r1.n_rooms = 1;
        emit(0x80, 3, &r1, "ack me", false, false, true);
        ack(1, 2, 1, "after the stop", true);
        finish("frame", flags & 0x10 ? "shutdown-cluster" : "shutdown");
    }
    /* session data outliving its socket by a grace of 0, and tiny frames */
    begin(0x40 | 0x80);
    socket_up(0, 2, "s1", "sess", "", NULL, 0);
    Sidecast__V1__SessionEntry ge = SIDECAST__V1__SESSION_ENTRY__INIT, *gset[] = {&ge};
    ge.key = S("k");
    Sidecast__V1__SessionSet gss = SIDECAST__V1__SESSION_SET__INIT;
    gss.session_id = S("sess");
    gss.set = gset;
    gss.n_set = 1;
    frame_rec(0, 3, M(SESSION_SET), &gss);
    Sidecast__V1__SocketDown gdn = SIDECAST__V1__SOCKET_DOWN__INIT;
    gdn.socket_id = S("s1");
    frame_rec(0, 4, M(SOCKET_DOWN), &gdn);
    Sidecast__V1__SessionGet gsg = SIDECAST__V1__SESSION_GET__INIT;
    gsg.session_id = S("sess");
    frame_rec(0, 5, M(SESSION_GET), &gsg);
    socket_up(0, 6, "a-socket-id-long-enough-to-make-this-frame-over-64-bytes", "", "", R12, 2);
    finish("frame", "grace0-tiny");

    /* B never reads: A's emits fill its output past the bounds */
    begin(0x0c);
    socket_up(1, 2, "b1", "", "", R1, 1);
    static char big[3000];
    memset(big, 'x', sizeof(big) - 1);
    sc_selector to = SIDECAST__V1__SELECTOR__INIT;
    to.rooms = R1;
    to.n_rooms = 1;
    emit(15 << 2, 0, &to, big, true, false, false);  /* 16 volatile */
    emit(15 << 2, 0, &to, big, false, false, false); /* 16 more: over the hard bound */
    finish("frame", "slow-reader");

    /* refusals that keep the connection, then fatal ones */
    begin(0x00);
    socket_up(0, 2, "s1", "", "", R1, 1);
    socket_up(0, 3, "s1", "", "", NULL, 0);
    socket_up(0, 4, "", "", "", NULL, 0);
    char *empty[] = {S("")};
    socket_up(0, 5, "s2", "", "", empty, 1);
    Sidecast__V1__Join j = SIDECAST__V1__JOIN__INIT;
    j.socket_id = S("nope");
    frame_rec(0, 6, M(JOIN), &j);
    sc_selector none = SIDECAST__V1__SELECTOR__INIT;
    emit(0, 7, &none, "x", false, false, false);
    emit(0, 0, &to, "x", false, false, true);
    Sidecast__V1__Lookup lk = SIDECAST__V1__LOOKUP__INIT;
    frame_rec(0, 0, M(LOOKUP), &lk);
    Sidecast__V1__Apply ap = SIDECAST__V1__APPLY__INIT;
    frame_rec(0, 8, M(APPLY), &ap);
    Sidecast__V1__SessionEntry e1 = SIDECAST__V1__SESSION_ENTRY__INIT, *set[] = {&e1};
    e1.key = S("");
    Sidecast__V1__SessionSet ss = SIDECAST__V1__SESSION_SET__INIT;
    ss.session_id = S("x");
    ss.set = set;
    ss.n_set = 1;
    frame_rec(0, 9, M(SESSION_SET), &ss);
    e1.key = S("k");
    e1.value.data = (uint8_t *)big;
    e1.value.len = 2000;
    frame_rec(0, 10, M(SESSION_SET), &ss);
    emit(9 << 2, 20, &to, "acked", false, false, true); /* 10: over max_pending_requests */
    Sidecast__V1__Welcome w = SIDECAST__V1__WELCOME__INIT;
    frame_rec(0, 11, M(WELCOME), &w);
    finish("frame", "refusals");

    begin(0x00);
    Sidecast__V1__Hello h = SIDECAST__V1__HELLO__INIT;
    h.protocol_version = 1;
    frame_rec(0, 2, M(HELLO), &h);
    finish("frame", "hello-twice");
    begin(0x00);
    LIT("\x00\x00\x05\x08\x01\xfa\x06\x00"); /* field 99: unknown */
    finish("frame", "unknown-message");
    begin(0x00);
    LIT("\x00\x00\x04\xff\xff\xff\xff");
    finish("frame", "malformed");
    begin(0x01);
    h.protocol_version = 2;
    frame_rec(0, 1, M(HELLO), &h);
    finish("frame", "bad-version");
    begin(0x01);
    Sidecast__V1__Ping ping = SIDECAST__V1__PING__INIT;
    frame_rec(0, 1, M(PING), &ping);
    finish("frame", "before-hello");

    /* the raw stream: prefixes by hand, a frame over max_frame_bytes */
    begin(0x03);
    h.protocol_version = 1;
    h.client_name = S("raw\x01name");
    frame_raw(1, M(HELLO), &h);
    frame_raw(2, M(PING), &ping);
    LIT("\x00\x01\x00\x00");
    finish("frame", "raw-too-large");
    begin(0x03);
    frame_raw(1, M(HELLO), &h);
    frame_raw(2, M(PING), &ping);
    LIT("\x00\x00\x00\x10\x08"); /* truncated */
    finish("frame", "raw-truncated");
}

/* ---- envelopes ---- */

static uint64_t seq;

/* A message record with hand-built envelope bytes (malformed ones too). */
static void env_raw(uint8_t ch, const sc_buf *env)
{
    uint8_t k[2] = {0, ch};
    sc_buf_append(&seed, k, 2);
    put16(sc_buf_used(env));
    sc_buf_append(&seed, sc_buf_head(env), sc_buf_used(env));
}

/* The envelope as `origin` sends it (the next seq unless one is set),
 * packed into malloc'd bytes. */
static uint8_t *env_pack(const char *origin, Sidecast__Cluster__V1__Envelope *env, size_t *len)
{
    env->origin = S(origin);
    if (!env->seq)
        env->seq = ++seq;
    env->sent_unix_ms = 1700000000000ull;
    *len = sidecast__cluster__v1__envelope__get_packed_size(env);
    uint8_t *p = malloc(*len + 1);
    sidecast__cluster__v1__envelope__pack(env, p);
    return p;
}

static void env_rec(uint8_t ch, const char *origin, Sidecast__Cluster__V1__Envelope *env)
{
    size_t len;
    uint8_t *p = env_pack(origin, env, &len);
    uint8_t k[2] = {0, ch};
    sc_buf_append(&seed, k, 2);
    put16(len);
    sc_buf_append(&seed, p, len);
    free(p);
}

static void emit_env(Sidecast__Cluster__V1__Envelope *env, Sidecast__Cluster__V1__ClusterEmit *em,
                     sc_selector *to, const char *payload, bool vol, uint64_t ack_id)
{
    em->to = to;
    em->payload.data = (uint8_t *)payload;
    em->payload.len = strlen(payload);
    em->volatile_ = vol;
    em->ack_id = ack_id;
    env->body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_EMIT;
    env->emit = em;
}

static void env_emit(uint8_t ch, const char *origin, sc_selector *to, const char *payload, bool vol,
                     uint64_t ack_id)
{
    Sidecast__Cluster__V1__ClusterEmit em = SIDECAST__CLUSTER__V1__CLUSTER_EMIT__INIT;
    Sidecast__Cluster__V1__Envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    emit_env(&env, &em, to, payload, vol, ack_id);
    env_rec(ch, origin, &env);
}

/* Room emits from `origin` in one Batch, as its sidecastd sends
 * consecutive publishes to one channel: payloads[i] to tos[i]. */
static void env_emit_batch(uint8_t ch, const char *origin, sc_selector **tos,
                           const char *const *payloads, size_t n)
{
    sc_buf items, batch;
    sc_buf_init(&items);
    sc_buf_init(&batch);
    for (size_t i = 0; i < n; i++) {
        Sidecast__Cluster__V1__ClusterEmit em = SIDECAST__CLUSTER__V1__CLUSTER_EMIT__INIT;
        Sidecast__Cluster__V1__Envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
        emit_env(&env, &em, tos[i], payloads[i], false, 0);
        size_t len;
        uint8_t *p = env_pack(origin, &env, &len);
        sc_wire_put_bytes_field(&items, 1, p, len);
        free(p);
    }
    sc_wire_put_bytes_field(&batch, 1, origin, strlen(origin));
    sc_wire_put_bytes_field(&batch, SIDECAST__CLUSTER__V1__ENVELOPE__BODY_BATCH, sc_buf_head(&items),
                            sc_buf_used(&items));
    env_raw(ch, &batch);
    sc_buf_free(&items);
    sc_buf_free(&batch);
}

/* A targeted emit as the origin's directory cache sends it: `routed` names
 * (by index into to.socket_ids) the sockets the cache sent here. */
static void env_routed_emit(const char *origin, sc_selector *to, uint32_t *routed, size_t n)
{
    Sidecast__Cluster__V1__ClusterEmit em = SIDECAST__CLUSTER__V1__CLUSTER_EMIT__INIT;
    em.to = to;
    em.payload.data = (uint8_t *)"cached";
    em.payload.len = 6;
    Sidecast__Cluster__V1__Envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    env.body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_EMIT;
    env.emit = &em;
    env.routed = routed;
    env.n_routed = n;
    env_rec(0, origin, &env);
}

static void env_stale(const char *origin, char **ids, size_t n)
{
    Sidecast__Cluster__V1__Stale st = SIDECAST__CLUSTER__V1__STALE__INIT;
    st.socket_ids = ids;
    st.n_socket_ids = n;
    Sidecast__Cluster__V1__Envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    env.body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_STALE;
    env.stale = &st;
    env_rec(0, origin, &env);
}

static void env_request(uint8_t ch, uint64_t id, int kind, void *msg)
{
    Sidecast__Cluster__V1__Request rq = SIDECAST__CLUSTER__V1__REQUEST__INIT;
    rq.id = id;
    rq.kind_case = kind;
    rq.fetch_sockets = msg;
    Sidecast__Cluster__V1__Envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    env.body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_REQUEST;
    env.request = &rq;
    env_rec(ch, "peer-a", &env);
}

static void env_response(const char *origin, uint64_t id, bool last, int kind, void *msg)
{
    Sidecast__Cluster__V1__Response rs = SIDECAST__CLUSTER__V1__RESPONSE__INIT;
    rs.id = id;
    rs.last = last;
    rs.kind_case = kind;
    rs.sockets = msg;
    Sidecast__Cluster__V1__Envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    env.body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_RESPONSE;
    env.response = &rs;
    env_rec(0, origin, &env);
}

/* Envelope{origin, seq, response{id, last, sockets = list}} with the
 * list's bytes as given, fields in the order sidecastd writes them; `last`
 * is the encoded Response.last field (last_len bytes, tag included). */
static void response_bytes(sc_buf *out, const char *origin, uint64_t id, const char *last,
                           size_t last_len, const sc_buf *list)
{
    sc_buf rs;
    sc_buf_init(&rs);
    sc_wire_put_varint_field(&rs, 1, id);
    sc_buf_append(&rs, last, last_len);
    sc_wire_put_bytes_field(&rs, SIDECAST__CLUSTER__V1__RESPONSE__KIND_SOCKETS, sc_buf_head(list),
                            sc_buf_used(list));
    out->off = out->len = 0;
    sc_wire_put_bytes_field(out, 1, origin, strlen(origin));
    sc_wire_put_varint_field(out, 2, ++seq);
    sc_wire_put_varint_field(out, 3, 1700000000000ull);
    sc_wire_put_bytes_field(out, SIDECAST__CLUSTER__V1__ENVELOPE__BODY_RESPONSE, sc_buf_head(&rs),
                            sc_buf_used(&rs));
    sc_buf_free(&rs);
}

/* One SocketInfo field: its tag byte and value (a varint field's value is
 * the string's length). */
typedef struct info_field {
    uint8_t tag;
    const char *value;
} info_field;
#define FIELDS(...)                                                                                \
    (const info_field[]){__VA_ARGS__},                                                             \
        sizeof((const info_field[]){__VA_ARGS__}) / sizeof(info_field)

/* Append one SocketList entry made of these fields, in this order. */
static void list_entry(sc_buf *list, const info_field *fields, size_t n)
{
    sc_buf si;
    sc_buf_init(&si);
    for (size_t i = 0; i < n; i++) {
        uint32_t num = fields[i].tag >> 3;
        size_t len = strlen(fields[i].value);
        if ((fields[i].tag & 7) == SC_WIRE_VARINT)
            sc_wire_put_varint_field(&si, num, len);
        else
            sc_wire_put_bytes_field(&si, num, fields[i].value, len);
    }
    sc_wire_put_bytes_field(list, 1, sc_buf_head(&si), sc_buf_used(&si));
    sc_buf_free(&si);
}

/* Fetch answers for request 1 (fetch, app A) as sidecastd writes them, in a
 * Batch, with fields this version does not know, and malformed or unusual
 * ones that must go the protobuf-c way: a socket id twice, a wire type
 * protobuf-c refuses, a truncated list, a NUL in the origin, a bool in two
 * bytes. */
static void socket_list_seeds(void)
{
    sc_buf list, env, batch, inner;
    sc_buf_init(&list);
    sc_buf_init(&env);
    sc_buf_init(&batch);
    sc_buf_init(&inner);
    seq = 100;
    begin(0);
    list_entry(&list, FIELDS({0x0a, "p1"}, {0x12, "sess-p1"}, {0x1a, "u1"}, {0x22, "data"},
                             {0x2a, "r1"}, {0x2a, "p1"}, {0x32, "peer-a"}));
    list_entry(&list, FIELDS({0x0a, "p2"}, {0x32, "peer-a"}));
    response_bytes(&env, "peer-a", 1, NULL, 0, &list);
    env_raw(0, &env);
    /* the same two in one Batch with a second chunk */
    batch.off = batch.len = 0;
    sc_wire_put_bytes_field(&batch, 1, "peer-a", 6);
    sc_buf b2;
    sc_buf_init(&b2);
    response_bytes(&inner, "peer-a", 1, NULL, 0, &list);
    sc_wire_put_bytes_field(&b2, 1, sc_buf_head(&inner), sc_buf_used(&inner));
    list.off = list.len = 0;
    list_entry(&list, FIELDS({0x0a, "p3"}, {0x32, "peer-a"}));
    response_bytes(&inner, "peer-a", 1, NULL, 0, &list);
    sc_wire_put_bytes_field(&b2, 1, sc_buf_head(&inner), sc_buf_used(&inner));
    sc_wire_put_bytes_field(&batch, SIDECAST__CLUSTER__V1__ENVELOPE__BODY_BATCH, sc_buf_head(&b2),
                            sc_buf_used(&b2));
    sc_buf_free(&b2);
    env_raw(0, &batch);
    /* unknown fields in a SocketInfo (varint 9, bytes 10) and in the list */
    list.off = list.len = 0;
    list_entry(&list, FIELDS({0x0a, "p4"}, {0x48, "xyz"}, {0x52, "later"}, {0x32, "peer-a"}));
    sc_wire_put_varint_field(&list, 7, 3);
    response_bytes(&env, "peer-a", 1, NULL, 0, &list);
    env_raw(0, &env);
    /* a socket id twice: protobuf-c keeps the last */
    list.off = list.len = 0;
    list_entry(&list, FIELDS({0x0a, "first"}, {0x0a, "second"}, {0x32, "peer-a"}));
    response_bytes(&env, "peer-a", 1, NULL, 0, &list);
    env_raw(0, &env);
    /* socket_id as a varint: protobuf-c refuses the envelope */
    list.off = list.len = 0;
    list_entry(&list, FIELDS({0x08, "abc"}, {0x32, "peer-a"}));
    response_bytes(&env, "peer-a", 1, NULL, 0, &list);
    env_raw(0, &env);
    /* a list whose last entry runs past its end */
    list.off = list.len = 0;
    list_entry(&list, FIELDS({0x0a, "p5"}, {0x32, "peer-a"}));
    list.len--;
    response_bytes(&env, "peer-a", 1, NULL, 0, &list);
    env_raw(0, &env);
    /* a NUL in the origin */
    list.off = list.len = 0;
    list_entry(&list, FIELDS({0x0a, "p6"}));
    response_bytes(&env, "peer-a", 1, NULL, 0, &list);
    env.data[3] = 0; /* "p\0er-a" */
    env_raw(0, &env);
    /* last=true written in two bytes (0x81 0x00): protobuf-c reads true */
    response_bytes(&env, "peer-b", 1, "\x10\x81\x00", 3, &list);
    env_raw(0, &env);
    /* and the usual last=true, from peer-a */
    response_bytes(&env, "peer-a", 1, "\x10\x01", 2, &list);
    env_raw(0, &env);
    finish("envelope", "socket-lists");
    sc_buf_free(&list);
    sc_buf_free(&env);
    sc_buf_free(&batch);
    sc_buf_free(&inner);
}

static void app_ack(uint8_t app, uint64_t ack_id, const char *answer, bool done)
{
    LIT("\x04");
    ack(app, ack_id, 1, answer, done); /* a frame record: [ctl][len16][frame] */
}

static void envelope_seeds(void)
{
    sc_selector r1 = SIDECAST__V1__SELECTOR__INIT, all = SIDECAST__V1__SELECTOR__INIT,
                ids = SIDECAST__V1__SELECTOR__INIT;
    r1.rooms = R1;
    r1.n_rooms = 1;
    all.all = true;
    char *sids[] = {S("a1"), S("b2"), S("zz")}, *uids[] = {S("u2")}, *ex[] = {S("a2")};
    ids.socket_ids = sids;
    ids.n_socket_ids = 3;
    ids.user_ids = uids;
    ids.n_user_ids = 1;
    ids.except_ids = ex;
    ids.n_except_ids = 1;

    seq = 0;
    begin(0);
    env_emit(2, "peer-a", &r1, "to r1", false, 0);
    env_emit(1, "peer-a", &all, "to all", true, 0);
    env_emit(0, "peer-b", &ids, "to ids", false, 0);
    seq = 0;
    env_emit(2, "peer-a", &r1, "duplicate seq", false, 0);
    finish("envelope", "emits");

    /* a Batch of room emits, then two of them again (seen already) */
    seq = 0;
    begin(0);
    sc_selector *tos[] = {&r1, &all, &ids};
    const char *const pls[] = {"batched r1", "batched all", "batched ids"};
    env_emit_batch(2, "peer-a", tos, pls, 3);
    seq = 1;
    env_emit_batch(2, "peer-a", tos, pls, 2);
    finish("envelope", "emit-batch");

    /* a broadcast with acks: relay (ack id) 5 after the four requests */
    seq = 10;
    begin(0);
    env_emit(1, "peer-a", &all, "acked", false, 77);
    app_ack(0, 5, "from a", true);
    app_ack(1, 5, "from b", false);
    app_ack(1, 5, NULL, true);
    finish("envelope", "emit-acks");

    seq = 20;
    begin(0);
    Sidecast__V1__FetchSockets fs = SIDECAST__V1__FETCH_SOCKETS__INIT;
    fs.filter = &r1;
    fs.with_data = fs.with_rooms = true;
    env_request(1, 9, SIDECAST__CLUSTER__V1__REQUEST__KIND_FETCH_SOCKETS, &fs);
    fs.filter = NULL;
    env_request(1, 10, SIDECAST__CLUSTER__V1__REQUEST__KIND_FETCH_SOCKETS, &fs);
    Sidecast__V1__Apply ap = SIDECAST__V1__APPLY__INIT;
    ap.filter = &r1;
    ap.join = R3;
    ap.n_join = 1;
    env_request(1, 11, SIDECAST__CLUSTER__V1__REQUEST__KIND_APPLY, &ap);
    Sidecast__V1__ServerEmit se = SIDECAST__V1__SERVER_EMIT__INIT;
    se.payload.data = (uint8_t *)"srv";
    se.payload.len = 3;
    se.want_ack = true;
    env_request(1, 12, SIDECAST__CLUSTER__V1__REQUEST__KIND_SERVER_EMIT, &se);
    app_ack(0, 5, "pong a", true);
    app_ack(1, 5, "pong b", true);
    env_request(1, 13, 0, NULL);
    finish("envelope", "requests");

    /* relays whose apps never answer, requests whose nodes never do */
    seq = 50;
    begin(0);
    env_emit(1, "peer-b", &all, "acked, unanswered", false, 78);
    env_request(1, 14, SIDECAST__CLUSTER__V1__REQUEST__KIND_SERVER_EMIT, &se);
    LIT("\x05");
    app_ack(0, 5, "late", true);
    finish("envelope", "timeouts");

    seq = 60;
    begin(1); /* SIGTERM after the records */
    env_emit(1, "peer-b", &all, "acked", false, 79);
    env_request(1, 15, SIDECAST__CLUSTER__V1__REQUEST__KIND_FETCH_SOCKETS, &fs);
    finish("envelope", "shutdown");

    seq = 30;
    begin(0);
    Sidecast__V1__SocketInfo si = SIDECAST__V1__SOCKET_INFO__INIT, *sis[] = {&si};
    si.socket_id = S("x1");
    si.node_id = S("peer-a");
    si.rooms = R1;
    si.n_rooms = 1;
    Sidecast__V1__SocketList sl = SIDECAST__V1__SOCKET_LIST__INIT;
    sl.sockets = sis;
    sl.n_sockets = 1;
    env_response("peer-a", 1, false, SIDECAST__CLUSTER__V1__RESPONSE__KIND_SOCKETS, &sl);
    env_response("peer-a", 1, true, SIDECAST__CLUSTER__V1__RESPONSE__KIND_SOCKETS, &sl);
    env_response("peer-b", 1, true, 0, NULL);
    env_response("peer-a", 2, true, 0, NULL);
    Sidecast__V1__Progress pg = SIDECAST__V1__PROGRESS__INIT;
    ProtobufCBinaryData pl = {2, (uint8_t *)"ok"};
    pg.expect = 2;
    pg.payloads = &pl;
    pg.n_payloads = 1;
    env_response("peer-a", 3, false, SIDECAST__CLUSTER__V1__RESPONSE__KIND_PROGRESS, &pg);
    env_response("peer-b", 4, true, SIDECAST__CLUSTER__V1__RESPONSE__KIND_PROGRESS, &pg);
    env_response("unknown-node", 4, true, 0, NULL);
    env_response("peer-a", 99, true, 0, NULL);
    finish("envelope", "responses");

    /* own messages, canaries, garbage, subscription replies, node lists */
    seq = 40;
    begin(0);
    Sidecast__Cluster__V1__Canary can = SIDECAST__CLUSTER__V1__CANARY__INIT;
    Sidecast__Cluster__V1__Envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    env.body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_CANARY;
    env.canary = &can;
    env_rec(0, "5e1f000000000001", &env);
    env_rec(0, "peer-a", &env);
    env_emit(2, "5e1f000000000001", &r1, "own", false, 0);
    env_emit(2, "", &r1, "no origin", false, 0);
    LIT("\x00\x01\x00\x03\xff\xfe\xfd");
    LIT("\x01\x00\x01\x01\x01\x02\x02\x02\x02\x03\x02\x04");
    /* node list: peer-b gone, this node missing (reaped: flags 0), then
     * whole (7), then its marker alone on the first heartbeat (12) */
    LIT("\x03\x01\x06peer-a\x08"
        "6:node-a\x02\x00");
    LIT("\x03\x02\x10"
        "5e1f000000000001\x03"
        "bad\x06peer-c\x00\x00\x07");
    LIT("\x03\x00\x00\x0c");
    finish("envelope", "control");

    /* directory cache: routes to sockets held here (a1), not held (zz: a
     * Stale notice to the origin), out of range; Stale notices received */
    seq = 70;
    begin(0);
    uint32_t held[] = {0}, stale[] = {2, 2, 1}, bad[] = {0, 9};
    env_routed_emit("peer-a", &ids, held, 1);
    env_routed_emit("peer-a", &ids, stale, 3);
    env_routed_emit("peer-b", &ids, stale, 1);
    env_routed_emit("peer-b", &ids, bad, 2);
    char *gone[] = {S("x1"), S("zz")};
    env_stale("peer-a", gone, 2);
    env_stale("peer-b", NULL, 0);
    finish("envelope", "dircache");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    sc_buf_init(&seed);
    frame_seeds();
    envelope_seeds();
    socket_list_seeds();
    sc_buf_free(&seed);
    return 0;
}
