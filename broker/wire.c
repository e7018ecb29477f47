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
