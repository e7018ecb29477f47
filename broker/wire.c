/* wire: length-prefixed protobuf frames and the unpack arena. */
#include "wire.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int sc_wire_peek(const uint8_t *p, size_t avail, uint32_t max, uint32_t *ret_len)
{
    if (avail < SC_FRAME_HEADER)
        return 0;
    uint32_t len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    if (len > max) {
        *ret_len = len;
        return -EMSGSIZE;
    }
    *ret_len = len;
    return avail - SC_FRAME_HEADER >= len ? 1 : 0;
}

size_t sc_wire_size(const sc_frame *f)
{
    return SC_FRAME_HEADER + sidecast__v1__frame__get_packed_size(f);
}

size_t sc_wire_append(sc_buf *b, const sc_frame *f)
{
    return sc_wire_append_sized(b, f, sc_wire_size(f));
}

size_t sc_wire_append_sized(sc_buf *b, const sc_frame *f, size_t size)
{
    size_t len = size - SC_FRAME_HEADER;
    uint8_t *p = sc_buf_reserve(b, SC_FRAME_HEADER + len);
    p[0] = (uint8_t)(len >> 24);
    p[1] = (uint8_t)(len >> 16);
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    sidecast__v1__frame__pack(f, p + SC_FRAME_HEADER);
    sc_buf_commit(b, SC_FRAME_HEADER + len);
    return SC_FRAME_HEADER + len;
}

static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *ret = v;
            return 0;
        }
    }
    return -1;
}

/* One field of an encoded message: [start, end) spans its tag and value;
 * for length-delimited fields [val, end) is the value. 1, 0 at the end,
 * -1 if malformed. */
static int next_field(const uint8_t **p, const uint8_t *end, uint32_t *field, const uint8_t **start,
                      const uint8_t **val)
{
    if (*p >= end)
        return 0;
    *start = *p;
    uint64_t key, v;
    if (read_varint(p, end, &key) < 0)
        return -1;
    *field = (uint32_t)(key >> 3);
    *val = *p;
    switch (key & 7) {
    case 0:
        return read_varint(p, end, &v) < 0 ? -1 : 1;
    case 1:
        if (end - *p < 8)
            return -1;
        *p += 8;
        return 1;
    case 5:
        if (end - *p < 4)
            return -1;
        *p += 4;
        return 1;
    case 2:
        if (read_varint(p, end, &v) < 0 || v > (uint64_t)(end - *p))
            return -1;
        *val = *p;
        *p += v;
        return 1;
    default:
        return -1;
    }
}

const uint8_t *sc_wire_find_bytes(const uint8_t *p, size_t len, uint32_t field, size_t *ret_len)
{
    const uint8_t *end = p + len, *start, *val, *found = NULL;
    uint32_t f;
    int r;
    while ((r = next_field(&p, end, &f, &start, &val)) > 0) {
        if (f != field)
            continue;
        /* a second occurrence replaces (or merges into) the first when
         * decoding: no single span of bytes is what the decoder saw */
        if (found || (*start & 7) != 2)
            return NULL;
        found = val;
        *ret_len = (size_t)(p - val);
    }
    return r < 0 ? NULL : found;
}

int sc_wire_copy_fields(sc_buf *b, const uint8_t *p, size_t len, uint32_t max_field)
{
    const uint8_t *end = p + len, *start, *val;
    uint32_t f;
    int r;
    while ((r = next_field(&p, end, &f, &start, &val)) > 0)
        if (f >= 1 && f <= max_field)
            sc_buf_append(b, start, (size_t)(p - start));
    return r;
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

void sc_wire_put_varint_field(sc_buf *b, uint32_t field, uint64_t v)
{
    uint8_t *p = sc_buf_reserve(b, 20);
    size_t n = put_varint(p, (uint64_t)field << 3);
    n += put_varint(p + n, v);
    sc_buf_commit(b, n);
}

void sc_wire_put_bytes_field(sc_buf *b, uint32_t field, const void *data, size_t len)
{
    uint8_t *p = sc_buf_reserve(b, 20 + len);
    size_t n = put_varint(p, (uint64_t)field << 3 | 2);
    n += put_varint(p + n, len);
    memcpy(p + n, data, len);
    sc_buf_commit(b, n + len);
}

size_t sc_wire_raw_size(uint32_t field, size_t len)
{
    return SC_FRAME_HEADER + varint_size((uint64_t)field << 3 | 2) + varint_size(len) + len;
}

size_t sc_wire_append_raw(sc_buf *b, uint32_t field, const uint8_t *body, size_t len)
{
    size_t total = sc_wire_raw_size(field, len), inner = total - SC_FRAME_HEADER;
    uint8_t *p = sc_buf_reserve(b, total);
    p[0] = (uint8_t)(inner >> 24);
    p[1] = (uint8_t)(inner >> 16);
    p[2] = (uint8_t)(inner >> 8);
    p[3] = (uint8_t)inner;
    size_t at = SC_FRAME_HEADER;
    at += put_varint(p + at, (uint64_t)field << 3 | 2);
    at += put_varint(p + at, len);
    memcpy(p + at, body, len);
    sc_buf_commit(b, total);
    return total;
}

static void *arena_alloc(void *ud, size_t n)
{
    sc_arena *a = ud;
    n = (n + 15) & ~(size_t)15;
    if (a->size - a->used >= n) {
        void *p = a->block + a->used;
        a->used += n;
        return p;
    }
    if (a->nbig == a->capbig) {
        a->capbig = a->capbig ? a->capbig * 2 : 16;
        a->big = sc_xrealloc(a->big, a->capbig * sizeof(void *));
    }
    void *p = sc_xmalloc(n);
    a->big[a->nbig++] = p;
    return p;
}

static void arena_nofree(void *ud, void *p)
{
    (void)ud;
    (void)p; /* everything goes at reset */
}

void *sc_arena_alloc(sc_arena *a, size_t n)
{
    return arena_alloc(a, n);
}

void sc_arena_init(sc_arena *a, size_t block_size)
{
    memset(a, 0, sizeof(*a));
    a->block = sc_xmalloc(block_size);
    a->size = block_size;
    a->pb.alloc = arena_alloc;
    a->pb.free = arena_nofree;
    a->pb.allocator_data = a;
}

void sc_arena_reset(sc_arena *a)
{
    for (size_t i = 0; i < a->nbig; i++)
        free(a->big[i]);
    a->nbig = 0;
    a->used = 0;
}

void sc_arena_free(sc_arena *a)
{
    if (!a)
        return;
    sc_arena_reset(a);
    free(a->big);
    free(a->block);
    memset(a, 0, sizeof(*a));
}

sc_frame *sc_wire_unpack(sc_arena *a, const uint8_t *p, size_t len)
{
    return sidecast__v1__frame__unpack(&a->pb, len, p);
}

const char *sc_wire_msg_name(int msg_case)
{
    const ProtobufCFieldDescriptor *fd =
        protobuf_c_message_descriptor_get_field(&sidecast__v1__frame__descriptor, (unsigned)msg_case);
    return fd && msg_case != 1 ? fd->name : "unknown";
}
