/* wire: the local protocol's framing. A frame is a 4-byte big-endian length
 * and one encoded sidecast.v1.Frame. Shared by sidecastd and libsidecast.
 *
 * Decoding uses an arena: protobuf-c's unpack allocates every string and
 * sub-message, so a bump allocator reset after each dispatched frame makes a
 * decode cost a few pointer bumps instead of a dozen malloc/free pairs. */
#ifndef SC_WIRE_H
#define SC_WIRE_H

#include "buf.h"
#include "sidecast.pb-c.h"

#include <stddef.h>
#include <stdint.h>

typedef Sidecast__V1__Frame sc_frame;
typedef Sidecast__V1__Selector sc_selector;

#define SC_PROTOCOL_VERSION 1u
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

/* The bytes of the length-delimited field `field` in an encoded message,
 * or NULL when it is absent, occurs more than once (the decoded message
 * then matches no single occurrence) or the message is malformed. No
 * allocation. */
const uint8_t *sc_wire_find_bytes(const uint8_t *p, size_t len, uint32_t field,
                                  size_t *ret_len);
/* Append the fields numbered 1..max_field of an encoded message, as they
 * are (tags included). 0, or -1 if the message is malformed. */
int sc_wire_copy_fields(sc_buf *b, const uint8_t *p, size_t len, uint32_t max_field);
/* Append one field: a varint, or length-delimited bytes. */
void sc_wire_put_varint_field(sc_buf *b, uint32_t field, uint64_t v);
void sc_wire_put_bytes_field(sc_buf *b, uint32_t field, const void *data, size_t len);

/* Append a Frame whose oneof member `field` is the already-encoded message
 * `body` (and whose id is 0), with its length prefix. */
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
