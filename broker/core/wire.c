/* wire: length-prefixed protobuf frames, field-level reading and writing,
 * and the unpack arena. See wire.h for what it may not touch. */
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

static inline int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
    if (*p < end && !(**p & 0x80)) { /* one byte: most tags and lengths */
        *ret = *(*p)++;
        return 0;
    }
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

static inline int next_field(const uint8_t **p, const uint8_t *end, sc_wire_field *f)
{
    if (*p >= end)
        return 0;
    const uint8_t *start = *p;
    uint64_t key;
    /* protobuf-c reads a tag of at most 5 bytes and refuses field 0 */
    if (read_varint(p, end, &key) < 0 || *p - start > 5 || (key >> 3) == 0 ||
        (key >> 3) > SC_WIRE_FIELD_MAX)
        return -1;
    f->num = (uint32_t)(key >> 3);
    f->type = (uint8_t)(key & 7);
    f->val = *p;
    f->len = 0;
    switch (f->type) {
    case SC_WIRE_VARINT: return read_varint(p, end, &f->varint) < 0 ? -1 : 1;
    case SC_WIRE_FIXED64:
        if (end - *p < 8)
            return -1;
        *p += 8;
        return 1;
    case SC_WIRE_FIXED32:
        if (end - *p < 4)
            return -1;
        *p += 4;
        return 1;
    case SC_WIRE_LEN:
        if (read_varint(p, end, &f->varint) < 0 || f->varint > (uint64_t)(end - *p))
            return -1;
        f->val = *p;
        f->len = (size_t)f->varint;
        *p += f->len;
        return 1;
    default: return -1; /* groups (3, 4) and 6, 7: nothing sidecast sends */
    }
}

int sc_wire_next(const uint8_t **p, const uint8_t *end, sc_wire_field *f)
{
    return next_field(p, end, f);
}

const uint8_t *sc_wire_find_bytes(const uint8_t *p, size_t len, uint32_t field, size_t *ret_len)
{
    const uint8_t *end = p + len, *found = NULL;
    sc_wire_field f;
    int r;
    while ((r = next_field(&p, end, &f)) > 0) {
        if (f.num != field)
            continue;
        /* a second occurrence replaces (or merges into) the first when
         * decoding: no single span of bytes is what the decoder saw */
        if (found || f.type != SC_WIRE_LEN)
            return NULL;
        found = f.val;
        *ret_len = f.len;
    }
    return r < 0 ? NULL : found;
}

int sc_wire_copy_fields(sc_buf *b, const uint8_t *p, size_t len, uint32_t max_field)
{
    const uint8_t *end = p + len, *start = p;
    sc_wire_field f;
    int r;
    while ((r = next_field(&p, end, &f)) > 0) {
        if (f.num <= max_field)
            sc_buf_append(b, start, (size_t)(p - start));
        start = p;
    }
    return r;
}

void sc_wire_put_varint_field(sc_buf *b, uint32_t field, uint64_t v)
{
    uint8_t *p = sc_buf_reserve(b, 20);
    sc_buf_commit(b, (size_t)(sc_wire_write_varint_field(p, field, v) - p));
}

void sc_wire_put_bytes_field(sc_buf *b, uint32_t field, const void *data, size_t len)
{
    uint8_t *p = sc_buf_reserve(b, 20 + len);
    sc_buf_commit(b, (size_t)(sc_wire_write_len_field(p, field, data, len) - p));
}

size_t sc_wire_frame_size(uint64_t id, uint32_t field, size_t len)
{
    size_t n = SC_FRAME_HEADER + sc_wire_len_field_size(field, len);
    return id ? n + 1 + sc_wire_varint_size(id) : n;
}

size_t sc_wire_append_frame(sc_buf *b, uint64_t id, uint32_t field, const uint8_t *body, size_t len,
                            const uint8_t *tail, size_t tail_len)
{
    size_t total = sc_wire_frame_size(id, field, len + tail_len), inner = total - SC_FRAME_HEADER;
    uint8_t *p = sc_buf_reserve(b, total), *at = p + SC_FRAME_HEADER;
    p[0] = (uint8_t)(inner >> 24);
    p[1] = (uint8_t)(inner >> 16);
    p[2] = (uint8_t)(inner >> 8);
    p[3] = (uint8_t)inner;
    if (id) /* Frame.id, first as protobuf-c packs it (a proto3 0 is left out) */
        at = sc_wire_write_varint_field(at, 1, id);
    at = sc_wire_write_len_head(at, field, len + tail_len);
    if (len)
        memcpy(at, body, len);
    if (tail_len)
        memcpy(at + len, tail, tail_len);
    sc_buf_commit(b, total);
    return total;
}

size_t sc_wire_raw_size(uint32_t field, size_t len)
{
    return sc_wire_frame_size(0, field, len);
}

size_t sc_wire_append_raw(sc_buf *b, uint32_t field, const uint8_t *body, size_t len)
{
    return sc_wire_append_frame(b, 0, field, body, len, NULL, 0);
}

/* SocketInfo: fields 1-6 are strings or bytes, 5 (rooms) is the repeated
 * one; a singular field twice would let decoders disagree (protobuf-c keeps
 * the last, a hand-written decoder may keep the first). */
static int check_socket_info(const uint8_t *p, size_t len)
{
    const uint8_t *end = p + len;
    uint32_t seen = 0;
    while (p < end) {
        uint32_t num = *p >> 3;
        uint64_t n;
        /* every field of this version: a one-byte tag, length-delimited */
        if (*p & 0x80 || num == 0 || num > SC_SI_FIELDS || (*p & 7) != SC_WIRE_LEN) {
            sc_wire_field f;
            /* malformed, or one of ours in another form (wire type, a tag
             * of several bytes): left to protobuf-c */
            if (next_field(&p, end, &f) < 0 || f.num <= SC_SI_FIELDS)
                return -1;
            continue; /* unknown to this version: protobuf-c keeps it too */
        }
        p++;
        if (read_varint(&p, end, &n) < 0 || n > (uint64_t)(end - p))
            return -1;
        p += n;
        if (num != SC_SI_ROOMS) {
            if (seen & 1u << num)
                return -1;
            seen |= 1u << num;
        }
    }
    return 0;
}

int sc_wire_check_socket_list(const uint8_t *p, size_t len, size_t *ret_n)
{
    const uint8_t *end = p + len;
    sc_wire_field f;
    size_t n = 0;
    int r;
    while ((r = next_field(&p, end, &f)) > 0) {
        if (f.num == SC_SL_SOCKETS) {
            if (f.type != SC_WIRE_LEN || check_socket_info(f.val, f.len) < 0)
                return -1;
            n++;
        } else if ((f.num == SC_SL_MORE || f.num == SC_SL_UNCHANGED) && f.type != SC_WIRE_VARINT) {
            return -1;
        } else if ((f.num == SC_SL_NODE_ID || f.num == SC_SL_ETAG) &&
                   (f.type != SC_WIRE_LEN || !sc_utf8_valid((const char *)f.val, f.len))) {
            return -1; /* protobuf-c and protobufjs would refuse these */
        }
    }
    if (r < 0)
        return -1;
    *ret_n = n;
    return 0;
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
