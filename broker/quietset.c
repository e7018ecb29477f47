/* quietset: room name -> epoch marks in a string map plus a list in the
 * order they were set. See quietset.h for the contract. */
#include "quietset.h"
#include "stats.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct qs_entry {
    qs_entry *prev, *next; /* order set, oldest first */
    uint64_t expires_us;   /* 0: none */
    uint32_t epoch;
    uint32_t len;
    char id[];
};

static const char *entry_key(const void *item, size_t *len)
{
    const qs_entry *e = item;
    *len = e->len;
    return e->id;
}

void sc_quietset_init(sc_quietset *q)
{
    memset(q, 0, sizeof(*q));
    sc_map_init(&q->marks, entry_key);
}

static void unlink_entry(sc_quietset *q, qs_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        q->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        q->tail = e->prev;
}

static void drop(sc_quietset *q, qs_entry *e)
{
    unlink_entry(q, e);
    sc_map_del(&q->marks, e->id, e->len);
    free(e);
}

static bool holds(const qs_entry *e, uint32_t epoch, uint64_t now_us)
{
    return e->epoch == epoch && (!e->expires_us || now_us < e->expires_us);
}

bool sc_quietset_has(sc_quietset *q, const char *id, size_t len, uint32_t epoch, uint64_t now_us)
{
    qs_entry *e = sc_map_get(&q->marks, id, len);
    if (!e)
        return false;
    if (holds(e, epoch, now_us))
        return true;
    drop(q, e);
    return false;
}

void sc_quietset_put(sc_quietset *q, const char *id, size_t len, uint32_t epoch,
                     uint64_t expires_us, uint64_t max_entries)
{
    if (!max_entries)
        return;
    qs_entry *e = sc_map_get(&q->marks, id, len);
    if (e) {
        unlink_entry(q, e);
    } else {
        while (q->head && sc_map_count(&q->marks) >= max_entries) {
            drop(q, q->head);
            SC_COUNT(private_rooms_quiet_evicted);
        }
        e = sc_xmalloc(sizeof(*e) + len + 1);
        e->len = (uint32_t)len;
        memcpy(e->id, id, len);
        e->id[len] = '\0';
        sc_map_put(&q->marks, e);
    }
    e->epoch = epoch;
    e->expires_us = expires_us;
    e->prev = q->tail;
    e->next = NULL;
    if (q->tail)
        q->tail->next = e;
    else
        q->head = e;
    q->tail = e;
}

void sc_quietset_del(sc_quietset *q, const char *id, size_t len, uint32_t epoch)
{
    qs_entry *e = sc_map_get(&q->marks, id, len);
    if (e && e->epoch == epoch)
        drop(q, e);
}

size_t sc_quietset_expire(sc_quietset *q, uint32_t epoch, uint64_t now_us, size_t max)
{
    size_t n = 0;
    while (n < max && q->head && !holds(q->head, epoch, now_us)) {
        drop(q, q->head);
        n++;
    }
    return n;
}

void sc_quietset_clear(sc_quietset *q)
{
    while (q->head)
        drop(q, q->head);
}

void sc_quietset_free(sc_quietset *q)
{
    if (!q)
        return;
    sc_quietset_clear(q);
    sc_map_free(&q->marks);
}
