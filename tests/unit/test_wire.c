/* Unit tests for broker/core/wire.c (framing, field-level reading and writing,
 * unpack arena), the parts of broker/core/buf.c that framing relies on, and the
 * fetch answer encoder (sc_deliver_put_socket) that writes with it: what it
 * writes must be what protobuf-c packs, and what sc_wire_check_socket_list
 * accepts must be what protobuf-c decodes. */
#include "unit.h"

#include "buf.h"
#include "deliver.h"
#include "registry.h"
#include "server.h"
#include "util.h"
#include "wire.h"
#include "cluster.pb-c.h"
#include "cluster.h"
#include "lua_scripts.h"

#include <errno.h>
#include <inttypes.h>

#define MAX_FRAME (1u << 20)

/* ---- frame builders ----------------------------------------------------------- */

/* An Emit frame with two rooms and a payload of `plen` pattern bytes. The
 * caller frees the payload with emit_free. */
typedef struct emit_msg {
    sc_frame f;
    Sidecast__V1__Emit emit;
    Sidecast__V1__Selector sel;
    char *rooms[2];
    uint8_t *payload;
} emit_msg;

static uint8_t pattern(uint64_t id, size_t i)
{
    return (uint8_t)(id * 31 + i * 7 + (i >> 8));
}

static void emit_build(emit_msg *m, uint64_t id, size_t plen)
{
    sc_frame f = SC_FRAME_INIT;
    Sidecast__V1__Emit e = SIDECAST__V1__EMIT__INIT;
    Sidecast__V1__Selector s = SIDECAST__V1__SELECTOR__INIT;
    m->f = f;
    m->emit = e;
    m->sel = s;
    m->rooms[0] = "room:a";
    m->rooms[1] = "room:b";
    m->sel.n_rooms = 2;
    m->sel.rooms = m->rooms;
    m->payload = malloc(plen ? plen : 1);
    assert_non_null(m->payload);
    for (size_t i = 0; i < plen; i++)
        m->payload[i] = pattern(id, i);
    m->emit.to = &m->sel;
    m->emit.payload.data = m->payload;
    m->emit.payload.len = plen;
    m->emit.volatile_ = (id & 1) != 0;
    m->f.id = id;
    m->f.msg_case = SIDECAST__V1__FRAME__MSG_EMIT;
    m->f.emit = &m->emit;
}

static void emit_free(emit_msg *m)
{
    free(m->payload);
}

/* Asserts that f is the Emit that emit_build(id, plen) made. */
static void emit_check(const sc_frame *f, uint64_t id, size_t plen)
{
    assert_non_null(f);
    assert_int_equal(f->id, id);
    assert_int_equal(f->msg_case, SIDECAST__V1__FRAME__MSG_EMIT);
    assert_non_null(f->emit);
    assert_non_null(f->emit->to);
    assert_int_equal(f->emit->to->n_rooms, 2);
    assert_string_equal(f->emit->to->rooms[0], "room:a");
    assert_string_equal(f->emit->to->rooms[1], "room:b");
    assert_int_equal(f->emit->volatile_, (id & 1) != 0);
    assert_int_equal(f->emit->payload.len, plen);
    for (size_t i = 0; i < plen; i++)
        if (f->emit->payload.data[i] != pattern(id, i))
            fail_msg("payload byte %zu of frame %" PRIu64 " differs", i, id);
}

static void ping_build(sc_frame *f, Sidecast__V1__Ping *p, uint64_t id, uint64_t nonce)
{
    sc_frame fi = SC_FRAME_INIT;
    Sidecast__V1__Ping pi = SIDECAST__V1__PING__INIT;
    *f = fi;
    *p = pi;
    p->nonce = nonce;
    f->id = id;
    f->msg_case = SIDECAST__V1__FRAME__MSG_PING;
    f->ping = p;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- framing ---------------------------------------------------------------------- */

/* The prefix is the big-endian body length, and sc_wire_size agrees with
 * what sc_wire_append writes. */
static void append_prefix_and_size(void **state)
{
    (void)state;
    sc_buf b;
    sc_buf_init(&b);
    emit_msg m;
    emit_build(&m, 77, 300);
    size_t n = sc_wire_append(&b, &m.f);
    assert_int_equal(n, sc_wire_size(&m.f));
    assert_int_equal(sc_buf_used(&b), n);
    assert_int_equal(be32(sc_buf_head(&b)), n - SC_FRAME_HEADER);
    assert_int_equal(n - SC_FRAME_HEADER, sidecast__v1__frame__get_packed_size(&m.f));

    /* An all-default frame encodes to an empty body: a 4-byte frame. */
    sc_frame empty = SC_FRAME_INIT;
    assert_int_equal(sc_wire_size(&empty), SC_FRAME_HEADER);
    assert_int_equal(sc_wire_append(&b, &empty), SC_FRAME_HEADER);
    assert_int_equal(sc_buf_used(&b), n + SC_FRAME_HEADER);
    assert_memory_equal(sc_buf_head(&b) + n, "\0\0\0\0", 4);
    uint32_t len = 99;
    assert_int_equal(sc_wire_peek(sc_buf_head(&b) + n, 4, MAX_FRAME, &len), 1);
    assert_int_equal(len, 0);
    sc_arena a;
    sc_arena_init(&a, 256);
    sc_frame *f = sc_wire_unpack(&a, sc_buf_head(&b) + n + 4, 0);
    assert_non_null(f);
    assert_int_equal(f->msg_case, SIDECAST__V1__FRAME__MSG__NOT_SET);
    assert_int_equal(f->id, 0);
    sc_arena_free(&a);
    emit_free(&m);
    sc_buf_free(&b);
}

/* Every strict prefix of a frame is "need more"; the whole frame is ready. */
static void peek_every_prefix(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 100, 5000};
    sc_arena a;
    sc_arena_init(&a, 1024);
    for (size_t s = 0; s < SC_ARRAY_LEN(sizes); s++) {
        sc_buf b;
        sc_buf_init(&b);
        emit_msg m;
        emit_build(&m, 1000 + s, sizes[s]);
        size_t total = sc_wire_append(&b, &m.f);
        const uint8_t *p = sc_buf_head(&b);
        uint32_t body = (uint32_t)(total - SC_FRAME_HEADER);
        for (size_t avail = 0; avail < total; avail++) {
            uint32_t len = 0xdeadbeef;
            int r = sc_wire_peek(p, avail, MAX_FRAME, &len);
            if (r != 0)
                fail_msg("prefix %zu of %zu: peek returned %d", avail, total, r);
            if (avail >= SC_FRAME_HEADER)
                assert_int_equal(len, body);
        }
        uint32_t len = 0;
        assert_int_equal(sc_wire_peek(p, total, MAX_FRAME, &len), 1);
        assert_int_equal(len, body);
        /* Bytes of a next frame after it do not change the answer. */
        sc_wire_append(&b, &m.f);
        p = sc_buf_head(&b);
        for (size_t extra = 1; extra <= total; extra += 97) {
            assert_int_equal(sc_wire_peek(p, total + extra, MAX_FRAME, &len), 1);
            assert_int_equal(len, body);
        }
        emit_check(sc_wire_unpack(&a, p + SC_FRAME_HEADER, len), 1000 + s, sizes[s]);
        sc_arena_reset(&a);
        emit_free(&m);
        sc_buf_free(&b);
    }
    sc_arena_free(&a);
}

/* Frames arriving one byte at a time into an input buffer, as a connection
 * reads them, come out whole and in order. */
static void byte_by_byte_stream(void **state)
{
    (void)state;
    sc_buf out, in;
    sc_buf_init(&out);
    sc_buf_init(&in);
    enum { N = 20 };
    emit_msg m[N];
    for (int i = 0; i < N; i++) {
        emit_build(&m[i], (uint64_t)i + 1, (size_t)i * 53);
        sc_wire_append(&out, &m[i].f);
    }
    sc_arena a;
    sc_arena_init(&a, 512);
    int got = 0;
    const uint8_t *src = sc_buf_head(&out);
    size_t total = sc_buf_used(&out);
    for (size_t i = 0; i < total; i++) {
        sc_buf_append(&in, src + i, 1);
        uint32_t len;
        int r;
        while ((r = sc_wire_peek(sc_buf_head(&in), sc_buf_used(&in), MAX_FRAME, &len)) == 1) {
            emit_check(sc_wire_unpack(&a, sc_buf_head(&in) + SC_FRAME_HEADER, len),
                       (uint64_t)got + 1, (size_t)got * 53);
            sc_arena_reset(&a);
            sc_buf_consume(&in, SC_FRAME_HEADER + len);
            got++;
        }
        assert_int_equal(r, 0);
    }
    assert_int_equal(got, N);
    assert_int_equal(sc_buf_used(&in), 0);
    for (int i = 0; i < N; i++)
        emit_free(&m[i]);
    sc_arena_free(&a);
    sc_buf_free(&in);
    sc_buf_free(&out);
}

/* Many frames of different kinds and sizes in one buffer, parsed in sequence
 * while more are appended behind the read position (exercising the buffer's
 * compaction and growth). */
static void many_frames_one_buffer(void **state)
{
    (void)state;
    enum { N = 400 };
    sc_buf b;
    sc_buf_init(&b);
    sc_arena a;
    sc_arena_init(&a, 2048);
    uint64_t seed = 0xf4a3e5;
    size_t plen[N];
    int written = 0, read = 0;
    while (read < N) {
        /* Write a few, read a few. */
        int w = (int)unit_below(&seed, 5);
        for (int k = 0; k < w && written < N; k++, written++) {
            if (written % 3 == 2) {
                sc_frame f;
                Sidecast__V1__Ping p;
                ping_build(&f, &p, (uint64_t)written + 1, (uint64_t)written * 1000003u);
                sc_wire_append(&b, &f);
            } else {
                plen[written] = unit_below(&seed, 9000);
                emit_msg m;
                emit_build(&m, (uint64_t)written + 1, plen[written]);
                sc_wire_append(&b, &m.f);
                emit_free(&m);
            }
        }
        int rd = (int)unit_below(&seed, 6);
        for (int k = 0; k < rd && read < written; k++, read++) {
            uint32_t len;
            assert_int_equal(sc_wire_peek(sc_buf_head(&b), sc_buf_used(&b), MAX_FRAME, &len), 1);
            sc_frame *f = sc_wire_unpack(&a, sc_buf_head(&b) + SC_FRAME_HEADER, len);
            if (read % 3 == 2) {
                assert_non_null(f);
                assert_int_equal(f->id, (uint64_t)read + 1);
                assert_int_equal(f->msg_case, SIDECAST__V1__FRAME__MSG_PING);
                assert_int_equal(f->ping->nonce, (uint64_t)read * 1000003u);
            } else {
                emit_check(f, (uint64_t)read + 1, plen[read]);
            }
            sc_arena_reset(&a);
            sc_buf_consume(&b, SC_FRAME_HEADER + len);
        }
        if (read == written) {
            uint32_t len;
            assert_int_equal(sc_wire_peek(sc_buf_head(&b), sc_buf_used(&b), MAX_FRAME, &len), 0);
        }
    }
    assert_int_equal(sc_buf_used(&b), 0);
    sc_arena_free(&a);
    sc_buf_free(&b);
}

/* An announced length over the limit is refused as soon as the 4-byte
 * header is there, before any of the body. */
static void oversize_refused_early(void **state)
{
    (void)state;
    uint8_t hdr[4 + 16] = {0};
    uint32_t len;
    const uint32_t max = 1000;

    /* max + 1 */
    hdr[0] = 0, hdr[1] = 0, hdr[2] = 0x03, hdr[3] = 0xe9; /* 1001 */
    for (size_t avail = 0; avail < 4; avail++)
        assert_int_equal(sc_wire_peek(hdr, avail, max, &len), 0);
    len = 0;
    assert_int_equal(sc_wire_peek(hdr, 4, max, &len), -EMSGSIZE);
    assert_int_equal(len, 1001);
    assert_int_equal(sc_wire_peek(hdr, sizeof(hdr), max, &len), -EMSGSIZE);

    /* exactly max: waits for the body */
    hdr[3] = 0xe8; /* 1000 */
    assert_int_equal(sc_wire_peek(hdr, 4, max, &len), 0);
    assert_int_equal(len, 1000);
    assert_int_equal(sc_wire_peek(hdr, sizeof(hdr), max, &len), 0);

    /* 0xffffffff, and a length with only the top byte set (endianness) */
    memset(hdr, 0xff, 4);
    assert_int_equal(sc_wire_peek(hdr, 4, UINT32_MAX - 1, &len), -EMSGSIZE);
    assert_int_equal(len, UINT32_MAX);
    hdr[0] = 0x01, hdr[1] = 0, hdr[2] = 0, hdr[3] = 0;
    assert_int_equal(sc_wire_peek(hdr, 4, MAX_FRAME, &len), -EMSGSIZE);
    assert_int_equal(len, 1u << 24);

    /* A limit of 0 allows only empty bodies. */
    memset(hdr, 0, 4);
    assert_int_equal(sc_wire_peek(hdr, 4, 0, &len), 1);
    hdr[3] = 1;
    assert_int_equal(sc_wire_peek(hdr, 5, 0, &len), -EMSGSIZE);
}

/* Bodies that are not a valid Frame decode to NULL. */
static void malformed_body(void **state)
{
    (void)state;
    sc_arena a;
    sc_arena_init(&a, 256);
    static const struct {
        const char *what;
        uint8_t bytes[8];
        size_t len;
    } bad[] = {
        {"truncated varint", {0x08, 0xff}, 2},
        {"field number 0", {0x00, 0x01}, 2},
        {"end-group without start", {0x0c}, 1},
        {"hello with varint wire type", {0x50, 0x01}, 2},
        {"id with length wire type", {0x0a, 0x01, 0x00}, 3},
        {"length past the end", {0x52, 0x05, 0x00}, 3},
        {"sub-message truncated inside", {0x72, 0x02, 0x08, 0xff}, 4},
        {"fixed64 cut short", {0x09, 1, 2, 3}, 4},
        {"reserved wire type 6", {0x0e, 0x00}, 2},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(bad); i++) {
        sc_frame *f = sc_wire_unpack(&a, bad[i].bytes, bad[i].len);
        if (f)
            fail_msg("'%s' decoded to a frame (case %d)", bad[i].what, (int)f->msg_case);
        sc_arena_reset(&a);
    }

    /* A valid frame cut anywhere inside its last field does not decode. */
    sc_buf b;
    sc_buf_init(&b);
    emit_msg m;
    emit_build(&m, 5, 40);
    size_t total = sc_wire_append(&b, &m.f);
    const uint8_t *body = sc_buf_head(&b) + SC_FRAME_HEADER;
    size_t blen = total - SC_FRAME_HEADER;
    for (size_t cut = 1; cut <= 40; cut++)
        assert_null(sc_wire_unpack(&a, body, blen - cut));
    sc_arena_reset(&a);
    /* ...and the uncut one does. */
    emit_check(sc_wire_unpack(&a, body, blen), 5, 40);

    /* An unknown field alone is a valid Frame carrying no known message. */
    static const uint8_t unknown[] = {0xf8, 0x06, 0x01}; /* field 111, varint 1 */
    sc_frame *f = sc_wire_unpack(&a, unknown, sizeof(unknown));
    assert_non_null(f);
    assert_int_equal(f->msg_case, SIDECAST__V1__FRAME__MSG__NOT_SET);
    emit_free(&m);
    sc_buf_free(&b);
    sc_arena_free(&a);
}

/* ---- arena ---------------------------------------------------------------------- */

static void arena_alloc_reset(void **state)
{
    (void)state;
    sc_arena a;
    sc_arena_init(&a, 1024);
    assert_int_equal(a.size, 1024);
    uint8_t *p[64];
    size_t sz[64];
    for (int i = 0; i < 64; i++) {
        sz[i] = (size_t)(i * 37 % 300) + 1;
        p[i] = sc_arena_alloc(&a, sz[i]);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % 16, 0);
        memset(p[i], i, sz[i]);
    }
    /* Some went to the block, the rest to big allocations. */
    assert_true(a.used <= a.size);
    assert_true(a.nbig > 0);
    /* Nothing overlapped. */
    for (int i = 0; i < 64; i++)
        for (size_t j = 0; j < sz[i]; j++)
            assert_int_equal(p[i][j], i);

    /* Big allocations are freed at reset; the block is reused. */
    uint8_t *first = p[0];
    sc_arena_reset(&a);
    assert_int_equal(a.used, 0);
    assert_int_equal(a.nbig, 0);
    assert_ptr_equal(sc_arena_alloc(&a, 10), first);

    /* One allocation far larger than the block. */
    uint8_t *huge = sc_arena_alloc(&a, 3u << 20);
    memset(huge, 0xab, 3u << 20);
    assert_int_equal(a.nbig, 1);
    sc_arena_free(&a);
    assert_null(a.block);
    assert_null(a.big);
    assert_int_equal(a.nbig, 0);
    sc_arena_free(NULL);
}

/* Decoding frames whose payloads dwarf the arena block, many times over with
 * reset in between: results are intact and nothing leaks (ASan build). */
static void arena_big_frames_reuse(void **state)
{
    (void)state;
    sc_arena a;
    sc_arena_init(&a, 128);
    for (int round = 0; round < 60; round++) {
        sc_buf b;
        sc_buf_init(&b);
        size_t plen = (size_t)(round % 7) * 50000 + (size_t)round;
        emit_msg m;
        emit_build(&m, (uint64_t)round, plen);
        size_t total = sc_wire_append(&b, &m.f);
        uint32_t len;
        assert_int_equal(sc_wire_peek(sc_buf_head(&b), total, MAX_FRAME, &len), 1);
        sc_frame *f = sc_wire_unpack(&a, sc_buf_head(&b) + SC_FRAME_HEADER, len);
        emit_check(f, (uint64_t)round, plen);
        if (plen > 128)
            assert_true(a.nbig > 0);
        /* Every other round, a failed decode before the reset too: its
         * partial allocations must also go at reset. */
        if (round % 2)
            assert_null(sc_wire_unpack(&a, sc_buf_head(&b) + SC_FRAME_HEADER, len - 1));
        sc_arena_reset(&a);
        assert_int_equal(a.nbig, 0);
        emit_free(&m);
        sc_buf_free(&b);
    }
    /* Many big allocations in one cycle grow the list of them. */
    for (int i = 0; i < 100; i++)
        memset(sc_arena_alloc(&a, 4096), i, 4096);
    assert_int_equal(a.nbig, 100);
    assert_true(a.capbig >= 100);
    sc_arena_free(&a);
}

static void msg_names(void **state)
{
    (void)state;
    assert_string_equal(sc_wire_msg_name(SIDECAST__V1__FRAME__MSG_HELLO), "hello");
    assert_string_equal(sc_wire_msg_name(SIDECAST__V1__FRAME__MSG_EMIT), "emit");
    assert_string_equal(sc_wire_msg_name(SIDECAST__V1__FRAME__MSG_STATS_REPLY), "stats_reply");
    assert_string_equal(sc_wire_msg_name(SIDECAST__V1__FRAME__MSG__NOT_SET), "unknown");
    assert_string_equal(sc_wire_msg_name(1), "unknown"); /* the id field, not a message */
    assert_string_equal(sc_wire_msg_name(16), "unknown");
    assert_string_equal(sc_wire_msg_name(-3), "unknown");
    assert_string_equal(sc_wire_msg_name(100000), "unknown");
}

/* ---- buf ------------------------------------------------------------------------ */

static void buf_consume_reserve_shrink(void **state)
{
    (void)state;
    sc_buf b;
    sc_buf_init(&b);
    uint8_t chunk[1000];
    for (size_t i = 0; i < sizeof(chunk); i++)
        chunk[i] = (uint8_t)i;
    for (int i = 0; i < 10; i++)
        sc_buf_append(&b, chunk, sizeof(chunk));
    assert_int_equal(sc_buf_used(&b), 10000);
    size_t cap = b.cap;
    assert_true(cap >= 10000);
    /* Consume most, then reserve: unread bytes are kept in order. */
    sc_buf_consume(&b, 9500);
    assert_int_equal(sc_buf_used(&b), 500);
    assert_memory_equal(sc_buf_head(&b), chunk + 500, 500);
    uint8_t *w = sc_buf_reserve(&b, cap - 600);
    memset(w, 0x5a, cap - 600);
    sc_buf_commit(&b, cap - 600);
    assert_int_equal(b.cap, cap); /* compacted instead of growing */
    assert_memory_equal(sc_buf_head(&b), chunk + 500, 500);
    assert_int_equal(sc_buf_head(&b)[500], 0x5a);
    /* Growing with unread data at an offset keeps it too. */
    sc_buf_consume(&b, 100);
    sc_buf_append(&b, chunk, sizeof(chunk));
    w = sc_buf_reserve(&b, 3 * cap);
    assert_true(b.cap - b.len >= 3 * cap);
    assert_memory_equal(sc_buf_head(&b), chunk + 600, 400);
    /* Consuming everything resets the offsets; shrink frees a big buffer. */
    sc_buf_consume(&b, sc_buf_used(&b));
    assert_int_equal(b.off, 0);
    assert_int_equal(b.len, 0);
    sc_buf_shrink(&b, 1u << 30);
    assert_non_null(b.data); /* under `keep`: kept */
    sc_buf_shrink(&b, 4096);
    assert_null(b.data);
    assert_int_equal(b.cap, 0);
    sc_buf_append(&b, chunk, 10);
    assert_memory_equal(sc_buf_head(&b), chunk, 10);
    sc_buf_shrink(&b, 0); /* not empty: kept */
    assert_int_equal(sc_buf_used(&b), 10);
    sc_buf_free(&b);
    sc_buf_free(NULL);
}

/* A node forwards another node's ClusterEmit bytes as a Deliver body: the
 * two messages must agree on fields 1-4, and the raw framing must decode. */
static void cluster_emit_bytes_are_a_deliver(void **state)
{
    (void)state;
    char *rooms[] = {(char *)"r1", (char *)"r2"};
    char *xids[] = {(char *)"x"};
    sc_selector to = SIDECAST__V1__SELECTOR__INIT;
    to.rooms = rooms;
    to.n_rooms = 2;
    to.except_ids = xids;
    to.n_except_ids = 1;
    Sidecast__Cluster__V1__ClusterEmit em = SIDECAST__CLUSTER__V1__CLUSTER_EMIT__INIT;
    em.to = &to;
    em.payload.data = (uint8_t *)"\x00payload\xff";
    em.payload.len = 9;
    em.volatile_ = true;
    Sidecast__Cluster__V1__Envelope env = SIDECAST__CLUSTER__V1__ENVELOPE__INIT;
    env.origin = (char *)"node-1";
    env.seq = 300;
    env.sent_unix_ms = 1234567890123ull;
    env.body_case = SIDECAST__CLUSTER__V1__ENVELOPE__BODY_EMIT;
    env.emit = &em;
    uint8_t buf[512];
    size_t n = sidecast__cluster__v1__envelope__pack(&env, buf);
    size_t blen = 0;
    const uint8_t *body =
        sc_wire_find_bytes(buf, n, SIDECAST__CLUSTER__V1__ENVELOPE__BODY_EMIT, &blen);
    assert_non_null(body);
    assert_int_equal(blen, sidecast__cluster__v1__cluster_emit__get_packed_size(&em));
    assert_null(sc_wire_find_bytes(buf, n, 99, &blen));
    assert_null(sc_wire_find_bytes(buf, n - 3, SIDECAST__CLUSTER__V1__ENVELOPE__BODY_EMIT, &blen));
    /* emit twice: the decoder keeps the last, so neither span may be used */
    assert_true(blen < 128);
    size_t tag_at = (size_t)(body - buf) - 2;
    uint8_t dup[1024];
    memcpy(dup, buf, n);
    memcpy(dup + n, buf + tag_at, n - tag_at);
    assert_null(sc_wire_find_bytes(dup, n + (n - tag_at),
                                   SIDECAST__CLUSTER__V1__ENVELOPE__BODY_EMIT, &blen));
    blen = 0;
    body = sc_wire_find_bytes(buf, n, SIDECAST__CLUSTER__V1__ENVELOPE__BODY_EMIT, &blen);

    sc_buf b;
    sc_buf_init(&b);
    size_t wrote = sc_wire_append_raw(&b, SIDECAST__V1__FRAME__MSG_DELIVER, body,
                                      sidecast__cluster__v1__cluster_emit__get_packed_size(&em));
    assert_int_equal(wrote, sc_buf_used(&b));
    uint32_t flen;
    assert_int_equal(sc_wire_peek(sc_buf_head(&b), sc_buf_used(&b), 1 << 20, &flen), 1);
    sc_frame *f = sidecast__v1__frame__unpack(NULL, flen, sc_buf_head(&b) + SC_FRAME_HEADER);
    assert_non_null(f);
    assert_int_equal(f->msg_case, SIDECAST__V1__FRAME__MSG_DELIVER);
    assert_int_equal(f->id, 0);
    const Sidecast__V1__Deliver *d = f->deliver;
    assert_int_equal(d->to->n_rooms, 2);
    assert_string_equal(d->to->rooms[1], "r2");
    assert_string_equal(d->to->except_ids[0], "x");
    assert_int_equal(d->payload.len, 9);
    assert_memory_equal(d->payload.data, "\x00payload\xff", 9);
    assert_true(d->volatile_);
    assert_int_equal(d->ack_id, 0);
    sidecast__v1__frame__free_unpacked(f, NULL);
    sc_buf_free(&b);
}

/* The sending node copies an app's Emit fields 1-3 into the envelope: the
 * copy must equal ClusterEmit{to, payload, volatile} encoded, whatever the
 * Emit's other fields hold. */
static void emit_fields_copy_to_cluster_emit(void **state)
{
    (void)state;
    char *rooms[] = {(char *)"lobby"};
    sc_selector to = SIDECAST__V1__SELECTOR__INIT;
    to.rooms = rooms;
    to.n_rooms = 1;
    to.all = true;
    Sidecast__V1__Emit e = SIDECAST__V1__EMIT__INIT;
    e.to = &to;
    e.payload.data = (uint8_t *)"abc";
    e.payload.len = 3;
    e.volatile_ = true;
    e.include_self = true;
    e.local = false;
    e.want_ack = true;
    uint8_t raw[256];
    size_t rn = sidecast__v1__emit__pack(&e, raw);
    sc_buf b;
    sc_buf_init(&b);
    assert_int_equal(sc_wire_copy_fields(&b, raw, rn, 3), 0);
    Sidecast__Cluster__V1__ClusterEmit em = SIDECAST__CLUSTER__V1__CLUSTER_EMIT__INIT;
    em.to = &to;
    em.payload = e.payload;
    em.volatile_ = true;
    uint8_t want[256];
    size_t wn = sidecast__cluster__v1__cluster_emit__pack(&em, want);
    assert_int_equal(sc_buf_used(&b), wn);
    assert_memory_equal(sc_buf_head(&b), want, wn);
    sc_buf_free(&b);
    sc_buf_init(&b);
    assert_int_equal(sc_wire_copy_fields(&b, raw, rn - 1, 3), -1); /* truncated */
    sc_buf_free(&b);
}

/* ---- field-level reading and fetch answers ---------------------------------- */

/* The field numbers wire.h names, and what sc_wire_check_socket_list
 * assumes about SocketInfo (every field a string or bytes), are the
 * .proto's: a field added there must be added here and in the checker. */
static void socket_info_fields_match_the_proto(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *si = &sidecast__v1__socket_info__descriptor,
                                     *sl = &sidecast__v1__socket_list__descriptor;
    static const struct {
        unsigned num;
        const char *name;
    } want[] = {{SC_SI_SOCKET_ID, "socket_id"}, {SC_SI_SESSION_ID, "session_id"},
                {SC_SI_USER_ID, "user_id"},     {SC_SI_DATA, "data"},
                {SC_SI_ROOMS, "rooms"},         {SC_SI_NODE_ID, "node_id"}};
    assert_int_equal(si->n_fields, SC_SI_FIELDS);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const ProtobufCFieldDescriptor *fd =
            protobuf_c_message_descriptor_get_field(si, want[i].num);
        assert_non_null(fd);
        assert_string_equal(fd->name, want[i].name);
        assert_true(fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_BYTES);
        assert_int_equal(fd->label == PROTOBUF_C_LABEL_REPEATED, want[i].num == SC_SI_ROOMS);
    }
    assert_int_equal(sl->n_fields, 5);
    const ProtobufCFieldDescriptor *fs = protobuf_c_message_descriptor_get_field(sl, SC_SL_SOCKETS),
                                   *fm = protobuf_c_message_descriptor_get_field(sl, SC_SL_MORE);
    assert_string_equal(fs->name, "sockets");
    assert_ptr_equal(fs->descriptor, si);
    assert_string_equal(fm->name, "more");
    assert_int_equal(fm->type, PROTOBUF_C_TYPE_BOOL);
    static const struct {
        unsigned num;
        const char *name;
        ProtobufCType type;
    } meta[] = {{SC_SL_NODE_ID, "node_id", PROTOBUF_C_TYPE_STRING},
                {SC_SL_ETAG, "etag", PROTOBUF_C_TYPE_STRING},
                {SC_SL_UNCHANGED, "unchanged", PROTOBUF_C_TYPE_BOOL}};
    for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++) {
        const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field(sl, meta[i].num);
        assert_non_null(fd);
        assert_string_equal(fd->name, meta[i].name);
        assert_int_equal(fd->type, meta[i].type);
    }
}

/* The Envelope and Batch fields cluster_send.c and lua/targeted.lua write by
 * hand are the .proto's, and so are the tag bytes the script writes. */
static void envelope_fields_match_the_proto(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *env = &sidecast__cluster__v1__envelope__descriptor,
                                     *batch = &sidecast__cluster__v1__batch__descriptor;
    static const struct {
        unsigned num;
        const char *name;
        ProtobufCType type;
    } want[] = {{SC_ENV_ORIGIN, "origin", PROTOBUF_C_TYPE_STRING},
                {SC_ENV_SEQ, "seq", PROTOBUF_C_TYPE_UINT64},
                {SC_ENV_SENT_MS, "sent_unix_ms", PROTOBUF_C_TYPE_UINT64},
                {SC_ENV_ROUTED, "routed", PROTOBUF_C_TYPE_UINT32},
                {SC_ENV_VERSION, "version", PROTOBUF_C_TYPE_UINT32},
                {SIDECAST__CLUSTER__V1__ENVELOPE__BODY_EMIT, "emit", PROTOBUF_C_TYPE_MESSAGE},
                {SIDECAST__CLUSTER__V1__ENVELOPE__BODY_BATCH, "batch", PROTOBUF_C_TYPE_MESSAGE}};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const ProtobufCFieldDescriptor *fd =
            protobuf_c_message_descriptor_get_field(env, want[i].num);
        assert_non_null(fd);
        assert_string_equal(fd->name, want[i].name);
        assert_int_equal(fd->type, want[i].type);
    }
    /* routed is written packed */
    assert_true(protobuf_c_message_descriptor_get_field(env, SC_ENV_ROUTED)->flags &
                PROTOBUF_C_FIELD_FLAG_PACKED);
    const ProtobufCFieldDescriptor *be =
        protobuf_c_message_descriptor_get_field(batch, SC_BATCH_ENVELOPES);
    assert_string_equal(be->name, "envelopes");
    assert_int_equal(be->type, PROTOBUF_C_TYPE_BYTES);
    assert_int_equal(be->label, PROTOBUF_C_LABEL_REPEATED);
    /* targeted.lua's batch: origin (LEN), version 1 (VARINT), batch (LEN),
     * each inner envelope as Batch.envelopes (LEN) */
    assert_non_null(strstr(sc_lua_targeted, "{'\\n', varint(#origin), origin, '0\\1', 'r',"));
    assert_non_null(strstr(sc_lua_targeted, "parts[#parts + 1] = '\\n'"));
    assert_int_equal('\n', SC_ENV_ORIGIN << 3 | 2);
    assert_int_equal('0', SC_ENV_VERSION << 3 | 0);
    assert_int_equal(SC_CLUSTER_VERSION, 1);
    assert_int_equal('r', SIDECAST__CLUSTER__V1__ENVELOPE__BODY_BATCH << 3 | 2);
    assert_int_equal('\n', SC_BATCH_ENVELOPES << 3 | 2);
}

/* An encoded message written byte by byte, and its length. */
#define BYTES(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

static int next_of(const uint8_t *p, size_t len, sc_wire_field *f)
{
    return sc_wire_next(&p, p + len, f);
}

static void wire_next_reads_what_protobuf_c_reads(void **state)
{
    (void)state;
    sc_wire_field f;
    assert_int_equal(next_of(BYTES(0x08, 0x96, 0x01), &f), 1); /* field 1 = 150 */
    assert_int_equal(f.num, 1);
    assert_int_equal(f.type, SC_WIRE_VARINT);
    assert_int_equal(f.varint, 150);
    assert_int_equal(next_of(BYTES(0x12, 0x03, 'a', 'b', 'c'), &f), 1);
    assert_int_equal(f.type, SC_WIRE_LEN);
    assert_int_equal(f.len, 3);
    assert_memory_equal(f.val, "abc", 3);
    assert_int_equal(next_of(BYTES(0x80, 0x01, 0x05), &f), 1); /* field 16, two-byte tag */
    assert_int_equal(f.num, 16);
    assert_int_equal(next_of(BYTES(0x0d, 1, 2, 3, 4), &f), 1);             /* fixed32 */
    assert_int_equal(next_of(BYTES(0x09, 1, 2, 3, 4, 5, 6, 7, 8), &f), 1); /* fixed64 */
    assert_int_equal(
        next_of(BYTES(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), &f), 1);
    assert_int_equal(f.varint, UINT64_MAX);
    assert_int_equal(next_of(NULL, 0, &f), 0);
    /* refused */
    assert_int_equal(next_of(BYTES(0x02, 0x00), &f), -1);                            /* field 0 */
    assert_int_equal(next_of(BYTES(0x80, 0x00, 0x00), &f), -1);                      /* long form */
    assert_int_equal(next_of(BYTES(0x88, 0x80, 0x80, 0x80, 0x80, 0x00, 1), &f), -1); /* 6 bytes */
    assert_int_equal(next_of(BYTES(0x0b), &f), -1);                                  /* group */
    assert_int_equal(next_of(BYTES(0x0e, 0x00), &f), -1);                            /* type 6 */
    assert_int_equal(
        next_of(BYTES(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1), &f),
        -1);                                                             /* an 11-byte varint */
    assert_int_equal(next_of(BYTES(0x08, 0x96), &f), -1);                /* varint cut */
    assert_int_equal(next_of(BYTES(0x12, 0x04, 'a', 'b', 'c'), &f), -1); /* past the end */
    assert_int_equal(next_of(BYTES(0x0d, 1, 2, 3), &f), -1);
}

/* A registry with sockets that reach every branch of the encoder: empty
 * session and user ids, no data, data with lengths of one, two and three
 * varint bytes, rooms beyond the small-set size. */
typedef struct sockets_fx {
    sc_registry reg;
    sc_owner owner;
    sc_server srv;
    sc_socket *s[5];
} sockets_fx;

static void sockets_fx_init(sockets_fx *x)
{
    memset(x, 0, sizeof(*x));
    sc_registry_init(&x->reg);
    sc_owner_init(&x->owner, NULL);
    snprintf(x->srv.node_id, sizeof(x->srv.node_id), "%s", "5e1f0123456789ab");
    static uint8_t data[20000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    static const struct {
        const char *id, *sid, *uid;
        size_t data_len, rooms;
    } def[] = {{"full", "sess-full", "user-1", 5, 2},
               {"bare", "", "", 0, 0},
               {"two-byte", "s2", "", 300, 1},
               {"three-byte", "", "u3", 20000, 0},
               {"many-rooms", "s5", "u5", 1, 40}};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(sc_registry_add_socket(&x->reg, &x->owner, def[i].id, def[i].sid,
                                                def[i].uid, data, def[i].data_len, &x->s[i]),
                         0);
        for (size_t k = 0; k < def[i].rooms; k++) {
            char room[32];
            snprintf(room, sizeof(room), "room-%zu-%zu", i, k);
            assert_int_equal(sc_registry_join(&x->reg, x->s[i], room), 1);
        }
    }
}

static void sockets_fx_free(sockets_fx *x)
{
    sc_registry_remove_owner(&x->reg, &x->owner);
    sc_owner_free(&x->owner);
    sc_registry_free(&x->reg);
}

/* SocketList{sockets = s[0..n)} packed by protobuf-c from the messages that
 * sc_deliver_socket_info fills. */
static size_t pack_list_pbc(sockets_fx *x, bool with_data, bool with_rooms, uint8_t **ret)
{
    sc_arena a;
    sc_arena_init(&a, 4096);
    Sidecast__V1__SocketInfo infos[5], *ptrs[5];
    for (size_t i = 0; i < 5; i++) {
        sc_deliver_socket_info(&x->srv, &a, x->s[i], with_data, with_rooms, &infos[i]);
        ptrs[i] = &infos[i];
    }
    Sidecast__V1__SocketList l = SIDECAST__V1__SOCKET_LIST__INIT;
    l.sockets = ptrs;
    l.n_sockets = 5;
    size_t n = sidecast__v1__socket_list__get_packed_size(&l);
    *ret = malloc(n);
    sidecast__v1__socket_list__pack(&l, *ret);
    sc_arena_free(&a);
    return n;
}

static void put_socket_packs_like_protobuf_c(void **state)
{
    (void)state;
    sockets_fx x;
    sockets_fx_init(&x);
    for (int mode = 0; mode < 4; mode++) {
        bool with_data = mode & 1, with_rooms = mode & 2;
        sc_socket_enc e = {x.srv.node_id, strlen(x.srv.node_id), with_data, with_rooms};
        sc_buf b;
        sc_buf_init(&b);
        for (size_t i = 0; i < 5; i++)
            sc_deliver_put_socket(&b, &e, x.s[i]);
        uint8_t *want;
        size_t n = pack_list_pbc(&x, with_data, with_rooms, &want);
        assert_int_equal(sc_buf_used(&b), n);
        assert_memory_equal(sc_buf_head(&b), want, n);
        size_t count = 0;
        assert_int_equal(sc_wire_check_socket_list(sc_buf_head(&b), n, &count), 0);
        assert_int_equal(count, 5);
        free(want);
        sc_buf_free(&b);
    }
    sockets_fx_free(&x);
}

/* Whatever the checker accepts, protobuf-c decodes, with as many entries:
 * every truncation and every single-bit flip of a valid list. */
static void check_socket_list_accepts_only_what_decodes(void **state)
{
    (void)state;
    sockets_fx x;
    sockets_fx_init(&x);
    uint8_t *list;
    size_t n = pack_list_pbc(&x, false, true, &list); /* small: the loops below are n * 8 */
    uint8_t *m = malloc(n);
    size_t accepted = 0, refused = 0;
    for (size_t len = 0; len <= n; len++) {
        for (int bit = -1; bit < 8; bit++) {
            size_t mlen = bit < 0 ? len : n;
            memcpy(m, list, n);
            if (bit >= 0) {
                if (len == n)
                    break;
                m[len] ^= (uint8_t)(1u << bit);
            }
            size_t count = 0;
            Sidecast__V1__SocketList *l = sidecast__v1__socket_list__unpack(NULL, mlen, m);
            if (sc_wire_check_socket_list(m, mlen, &count) == 0) {
                assert_non_null(l);
                assert_int_equal(count, l->n_sockets);
                accepted++;
            } else {
                refused++;
            }
            sidecast__v1__socket_list__free_unpacked(l, NULL);
        }
    }
    assert_true(accepted > 0 && refused > 0);
    free(m);
    free(list);
    sockets_fx_free(&x);
}

static void check_socket_list_cases(void **state)
{
    (void)state;
    size_t n = 99;
    assert_int_equal(sc_wire_check_socket_list(NULL, 0, &n), 0);
    assert_int_equal(n, 0);
    /* two entries, more=true, and fields this version does not know (9 in
     * an entry, 9 in the list): protobuf-c keeps those, so may we */
    assert_int_equal(sc_wire_check_socket_list(BYTES(0x0a, 0x06, 0x0a, 0x02, 's', '1', 0x48, 0x07,
                                                     0x0a, 0x00, 0x10, 0x01, 0x48, 0x05),
                                               &n),
                     0);
    assert_int_equal(n, 2);
    /* a socket id twice: protobuf-c keeps the last, another decoder might
     * not, so the bytes are not passed on as they are */
    assert_int_equal(sc_wire_check_socket_list(
                         BYTES(0x0a, 0x08, 0x0a, 0x02, 's', '1', 0x0a, 0x02, 's', '2'), &n),
                     -1);
    /* rooms twice is a list of two */
    assert_int_equal(sc_wire_check_socket_list(
                         BYTES(0x0a, 0x08, 0x2a, 0x02, 'r', '1', 0x2a, 0x02, 'r', '2'), &n),
                     0);
    /* each known field of SocketInfo as a varint: protobuf-c refuses */
    for (uint8_t fnum = 1; fnum <= SC_SI_FIELDS; fnum++) {
        uint8_t bad[] = {0x0a, 0x02, (uint8_t)(fnum << 3), 0x01};
        assert_int_equal(sc_wire_check_socket_list(bad, sizeof(bad), &n), -1);
        assert_null(sidecast__v1__socket_list__unpack(NULL, sizeof(bad), bad));
    }
    assert_int_equal(sc_wire_check_socket_list(BYTES(0x12, 0x01, 0x01), &n), -1); /* more: bytes */
    /* a cached answer's own fields (node_id, etag, unchanged) before its entries */
    assert_int_equal(sc_wire_check_socket_list(BYTES(0x1a, 0x01, 'n', 0x22, 0x02, 'e', '1', 0x28,
                                                     0x01, 0x0a, 0x00),
                                               &n),
                     0);
    assert_int_equal(n, 1);
    static const uint8_t wrong[][3] = {
        {0x18, 0x01, 0x00}, /* node_id: varint */
        {0x20, 0x01, 0x00}, /* etag: varint */
        {0x2a, 0x01, 0x01}, /* unchanged: bytes */
        {0x1a, 0x01, 0xff}, /* node_id: not UTF-8 */
    };
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        size_t len = wrong[i][0] & 2 ? 3 : 2;
        assert_int_equal(sc_wire_check_socket_list(wrong[i], len, &n), -1);
        if (i < 2) /* protobuf-c reads a length-delimited bool (as packed); it may take that path */
            assert_null(sidecast__v1__socket_list__unpack(NULL, len, wrong[i]));
    }
    assert_int_equal(sc_wire_check_socket_list(BYTES(0x08, 0x01), &n), -1); /* sockets: varint */
    assert_int_equal(sc_wire_check_socket_list(BYTES(0x0a, 0x05, 0x0a, 0x02, 's', '1'), &n),
                     -1); /* an entry past the end */
}

/* The frame an app gets for another node's SocketList: the list's bytes,
 * then more=true; the same bytes protobuf-c packs for that Frame. */
static void append_frame_with_tail(void **state)
{
    (void)state;
    sockets_fx x;
    sockets_fx_init(&x);
    uint8_t *list;
    size_t n = pack_list_pbc(&x, true, true, &list);
    static const uint8_t more[] = {SC_SL_MORE << 3, 1};
    static const uint64_t ids[] = {0, 101, 1ull << 40};
    for (size_t k = 0; k < 3; k++) {
        sc_buf b;
        sc_buf_init(&b);
        size_t wrote = sc_wire_append_frame(&b, ids[k], SIDECAST__V1__FRAME__MSG_SOCKET_LIST, list,
                                            n, more, sizeof(more));
        assert_int_equal(wrote, sc_buf_used(&b));
        assert_int_equal(wrote, sc_wire_frame_size(ids[k], SIDECAST__V1__FRAME__MSG_SOCKET_LIST,
                                                   n + sizeof(more)));
        uint32_t flen;
        assert_int_equal(sc_wire_peek(sc_buf_head(&b), wrote, 1 << 20, &flen), 1);
        sc_frame *f = sidecast__v1__frame__unpack(NULL, flen, sc_buf_head(&b) + SC_FRAME_HEADER);
        assert_non_null(f);
        assert_int_equal(f->id, ids[k]);
        assert_int_equal(f->msg_case, SIDECAST__V1__FRAME__MSG_SOCKET_LIST);
        assert_int_equal(f->socket_list->n_sockets, 5);
        assert_true(f->socket_list->more);
        assert_string_equal(f->socket_list->sockets[3]->socket_id, "three-byte");
        assert_int_equal(f->socket_list->sockets[3]->data.len, 20000);
        assert_int_equal(f->socket_list->sockets[4]->n_rooms, 40);
        /* byte for byte what protobuf-c packs */
        sc_buf want;
        sc_buf_init(&want);
        assert_int_equal(sc_wire_append(&want, f), wrote);
        assert_memory_equal(sc_buf_head(&want), sc_buf_head(&b), wrote);
        sc_buf_free(&want);
        sidecast__v1__frame__free_unpacked(f, NULL);
        sc_buf_free(&b);
    }
    free(list);
    sockets_fx_free(&x);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(socket_info_fields_match_the_proto),
    cmocka_unit_test(envelope_fields_match_the_proto),
    cmocka_unit_test(wire_next_reads_what_protobuf_c_reads),
    cmocka_unit_test(put_socket_packs_like_protobuf_c),
    cmocka_unit_test(check_socket_list_accepts_only_what_decodes),
    cmocka_unit_test(check_socket_list_cases),
    cmocka_unit_test(append_frame_with_tail),
    cmocka_unit_test(emit_fields_copy_to_cluster_emit),
    cmocka_unit_test(cluster_emit_bytes_are_a_deliver),
    cmocka_unit_test(append_prefix_and_size),
    cmocka_unit_test(peek_every_prefix),
    cmocka_unit_test(byte_by_byte_stream),
    cmocka_unit_test(many_frames_one_buffer),
    cmocka_unit_test(oversize_refused_early),
    cmocka_unit_test(malformed_body),
    cmocka_unit_test(arena_alloc_reset),
    cmocka_unit_test(arena_big_frames_reuse),
    cmocka_unit_test(msg_names),
    cmocka_unit_test(buf_consume_reserve_shrink),
};

UNIT_MAIN(tests)
