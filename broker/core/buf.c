/* buf: contiguous buffer; appends at the end, consumes from the front. See
 * buf.h for what it may not touch. */
#include "buf.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

void sc_buf_init(sc_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void sc_buf_free(sc_buf *b)
{
    if (!b)
        return;
    free(b->data);
    sc_buf_init(b);
}

uint8_t *sc_buf_reserve(sc_buf *b, size_t n)
{
    if (b->cap - b->len >= n)
        return b->data + b->len;
    size_t used = b->len - b->off;
    if (b->off > 0 && b->cap - used >= n && b->off >= used) {
        memmove(b->data, b->data + b->off, used);
        b->off = 0;
        b->len = used;
        return b->data + b->len;
    }
    if (b->off > 0) {
        memmove(b->data, b->data + b->off, used);
        b->off = 0;
        b->len = used;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < n)
        cap *= 2;
    b->data = sc_xrealloc(b->data, cap);
    b->cap = cap;
    return b->data + b->len;
}

void sc_buf_append(sc_buf *b, const void *p, size_t n)
{
    memcpy(sc_buf_reserve(b, n), p, n);
    b->len += n;
}

void sc_buf_consume(sc_buf *b, size_t n)
{
    b->off += n;
    if (b->off >= b->len)
        b->off = b->len = 0;
}

void sc_buf_shrink(sc_buf *b, size_t keep)
{
    if (b->len == b->off && b->cap > keep) {
        free(b->data);
        b->data = NULL;
        b->cap = b->off = b->len = 0;
    }
}
