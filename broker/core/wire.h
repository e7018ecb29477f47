/* wire: the local protocol's framing. A frame is a 4-byte big-endian length
 * and one encoded sidecast.v1.Frame. Shared by sidecastd and libsidecast.
 *
 * Decoding uses an arena: protobuf-c's unpack allocates every string and
 * sub-message, so a bump allocator reset after each dispatched frame makes a
 * decode cost a few pointer bumps instead of a dozen malloc/free pairs.
 *
 * The sc_wire_next / sc_wire_write_* layer reads and writes protobuf fields
 * directly, for bytes that pass through the daemon (an emit's body, another
 * node's SocketList) and for messages written in bulk (fetch answers): what
 * it writes is what protobuf-c would pack, and it only accepts what
 * protobuf-c would decode.
 *
 * It owns the framing, the field-level codec and the arena, and does no
 * I/O: it reads and writes buffers (buf.h), and the fds are the caller's
 * (conn.c, libsidecast). Like all of core/ it includes nothing of the
 * daemon. */
#ifndef SC_WIRE_H
#define SC_WIRE_H

#include "buf.h"
#include "sidecast.pb-c.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef Sidecast__V1__Frame sc_frame;
typedef Sidecast__V1__Selector sc_selector;

#define SC_PROTOCOL_VERSION 1u
/* The oldest Hello.protocol_version accepted: this one and the one before
 * (sidecars upgraded before their apps). */
#define SC_PROTOCOL_MIN_VERSION 1u
/* Feature bits (sidecast.proto, enum Feature) this sidecastd has. */
#define SC_FEATURES                                                                                \
    ((uint64_t)(SIDECAST__V1__FEATURE__FEATURE_NODE_VERSIONS |                                     \
                SIDECAST__V1__FEATURE__FEATURE_KEPT_ANSWERS))
#define SC_FRAME_HEADER 4u

/* Initialise a Frame whose oneof carries `msg` of the given case. */
#define SC_FRAME_INIT SIDECAST__V1__FRAME__INIT

/* Look at buffered bytes. Returns 1 with *ret_len = body length when a whole
 * frame is there, 0 when more bytes are needed, -EMSGSIZE when the announced
 * length exceeds max (checked before anything is allocated). */
int sc_wire_peek(const uint8_t *p, size_t avail, uint32_t max, uint32_t *ret_len);

/* Append the length prefix and the encoded frame to b. Returns the number of
 * bytes appended. */
size_t sc_wire_append(sc_buf *b, const sc_frame *f);
/* Same, when the caller already has sc_wire_size(f): the packed-size walk
 * is a quarter of the cost of a frame, so do it once. */
size_t sc_wire_append_sized(sc_buf *b, const sc_frame *f, size_t size);
/* Encoded size including the prefix, without encoding. */
size_t sc_wire_size(const sc_frame *f);

/* ---- reading and writing encoded messages without protobuf-c ---------------
 * For the hot paths that pass bytes through (an emit's body, another node's
 * SocketList) or write many small messages (fetch answers). */

enum { SC_WIRE_VARINT = 0, SC_WIRE_FIXED64 = 1, SC_WIRE_LEN = 2, SC_WIRE_FIXED32 = 5 };
#define SC_WIRE_FIELD_MAX ((1u << 29) - 1)

/* Field numbers of SocketInfo (SC_SI_) and SocketList (SC_SL_) in
 * proto/sidecast.proto; unit_wire checks them against the descriptors. */
enum {
    SC_SI_SOCKET_ID = 1,
    SC_SI_SESSION_ID = 2,
    SC_SI_USER_ID = 3,
    SC_SI_DATA = 4,
    SC_SI_ROOMS = 5,
    SC_SI_NODE_ID = 6,
    SC_SI_FIELDS = 6, /* the highest */
    SC_SL_SOCKETS = 1,
    SC_SL_MORE = 2,
    SC_SL_NODE_ID = 3,
    SC_SL_ETAG = 4,
    SC_SL_UNCHANGED = 5,
};

/* One field of an encoded message. */
typedef struct sc_wire_field {
    uint32_t num;
    uint8_t type;       /* SC_WIRE_* */
    uint64_t varint;    /* a varint's value (a length for SC_WIRE_LEN) */
    const uint8_t *val; /* SC_WIRE_LEN: the bytes, len of them */
    size_t len;
} sc_wire_field;

/* Read the field at *p (bounded by end) and step over it. 1, 0 at the end,
 * -1 when malformed: bad or overlong varint, value past end, field number 0
 * or over SC_WIRE_FIELD_MAX, a wire type other than SC_WIRE_*. Whatever it
 * reads, protobuf-c's unpack reads the same way. */
int sc_wire_next(const uint8_t **p, const uint8_t *end, sc_wire_field *f);

/* The bytes of the length-delimited field `field` in an encoded message,
 * or NULL when it is absent, occurs more than once (the decoded message
 * then matches no single occurrence) or the message is malformed. No
 * allocation. */
const uint8_t *sc_wire_find_bytes(const uint8_t *p, size_t len, uint32_t field,
                                  size_t *ret_len);
/* Append the fields numbered 1..max_field of an encoded message, as they
 * are (tags included). 0, or -1 if the message is malformed. */
int sc_wire_copy_fields(sc_buf *b, const uint8_t *p, size_t len, uint32_t max_field);

/* Check an encoded SocketList before its bytes go to an app as they are:
 * 0 (with *ret_n = its number of entries) when protobuf-c would decode it
 * and no SocketInfo repeats a singular field, so every decoder reads the
 * same values from it; -1 otherwise. Unknown fields are allowed, as
 * protobuf-c allows (and keeps) them. No allocation. */
int sc_wire_check_socket_list(const uint8_t *p, size_t len, size_t *ret_n);

static inline size_t sc_wire_varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* The writers below return the end of what they wrote; the caller reserved
 * the room (sizes from sc_wire_varint_size / sc_wire_len_field_size). */
static inline uint8_t *sc_wire_write_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static inline uint8_t *sc_wire_write_varint_field(uint8_t *p, uint32_t field, uint64_t v)
{
    return sc_wire_write_varint(sc_wire_write_varint(p, (uint64_t)field << 3), v);
}

/* Tag and length of a length-delimited field; its len bytes come next. */
static inline uint8_t *sc_wire_write_len_head(uint8_t *p, uint32_t field, size_t len)
{
    return sc_wire_write_varint(sc_wire_write_varint(p, (uint64_t)field << 3 | SC_WIRE_LEN), len);
}

static inline uint8_t *sc_wire_write_len_field(uint8_t *p, uint32_t field, const void *data,
                                               size_t len)
{
    p = sc_wire_write_len_head(p, field, len);
    if (len)
        memcpy(p, data, len);
    return p + len;
}

static inline size_t sc_wire_len_field_size(uint32_t field, size_t len)
{
    return sc_wire_varint_size((uint64_t)field << 3) + sc_wire_varint_size(len) + len;
}

/* Append one field: a varint, or length-delimited bytes. */
void sc_wire_put_varint_field(sc_buf *b, uint32_t field, uint64_t v);
void sc_wire_put_bytes_field(sc_buf *b, uint32_t field, const void *data, size_t len);

/* Append a Frame with request id `id` (0: none) whose oneof member `field`
 * is the already-encoded message body followed by tail (fields the caller
 * adds to bytes it passes through), with its length prefix. Returns the
 * bytes appended, sc_wire_frame_size(id, field, len + tail_len). */
size_t sc_wire_append_frame(sc_buf *b, uint64_t id, uint32_t field, const uint8_t *body, size_t len,
                            const uint8_t *tail, size_t tail_len);
size_t sc_wire_frame_size(uint64_t id, uint32_t field, size_t len);
/* The same with id 0 and no tail. */
size_t sc_wire_append_raw(sc_buf *b, uint32_t field, const uint8_t *body, size_t len);
size_t sc_wire_raw_size(uint32_t field, size_t len);

/* Bump allocator for unpacking. */
typedef struct sc_arena {
    uint8_t *block;
    size_t size;
    size_t used;
    void **big; /* allocations that did not fit, freed on reset */
    size_t nbig, capbig;
    ProtobufCAllocator pb;
} sc_arena;

void sc_arena_init(sc_arena *a, size_t block_size);
/* Scratch memory valid until the next reset. */
void *sc_arena_alloc(sc_arena *a, size_t n);
void sc_arena_reset(sc_arena *a);
void sc_arena_free(sc_arena *a);

/* Decode one frame body. Returns NULL when the bytes are not a valid Frame.
 * The result lives in the arena until sc_arena_reset. */
sc_frame *sc_wire_unpack(sc_arena *a, const uint8_t *p, size_t len);

/* Human name of a frame's message case, for logs and stats. */
const char *sc_wire_msg_name(int msg_case);

#endif
