/* buf: a growable byte buffer with a read offset, used for connection input
 * and output. Callers enforce their own bounds (see conn.c); buf only grows
 * when asked to.
 *
 * It owns its bytes and nothing else: it does no I/O, knows nothing of
 * connections, and includes nothing but util. */
#ifndef SC_BUF_H
#define SC_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct sc_buf {
    uint8_t *data;
    size_t off; /* first unread byte */
    size_t len; /* end of written bytes */
    size_t cap;
} sc_buf;

void sc_buf_init(sc_buf *b);
/* Frees the storage; the buf may be reused after sc_buf_init. NULL-safe. */
void sc_buf_free(sc_buf *b);

static inline size_t sc_buf_used(const sc_buf *b)
{
    return b->len - b->off;
}

static inline const uint8_t *sc_buf_head(const sc_buf *b)
{
    return b->data + b->off;
}

/* Ensure n writable bytes after the data; returns where to write them.
 * Moves unread data to the front when that makes room. */
uint8_t *sc_buf_reserve(sc_buf *b, size_t n);
/* Mark n bytes written after a reserve. */
static inline void sc_buf_commit(sc_buf *b, size_t n)
{
    b->len += n;
}
void sc_buf_append(sc_buf *b, const void *p, size_t n);
/* Drop n read bytes from the front. */
void sc_buf_consume(sc_buf *b, size_t n);
/* Release memory above `keep` bytes of capacity when the buffer is empty, so
 * one burst does not pin a large allocation for the connection's lifetime. */
void sc_buf_shrink(sc_buf *b, size_t keep);

#endif
