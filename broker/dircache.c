/* dircache: socket id -> node entries in a string map plus an insertion-
 * ordered list (expiry and eviction from the old end), and shared node
 * records whose `gone` flag and `epoch` invalidate all their entries at
 * once. See dircache.h for the contract. */
#include "dircache.h"
#include "stats.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dc_entry {
    dc_entry *prev, *next; /* insertion order, oldest first */
    sc_dcnode *node;
    uint64_t expires_us;
    uint64_t due_us; /* a quarter of its ttl, then past expiry once reported due */
    uint32_t epoch;  /* node->epoch when resolved */
    uint32_t len;
    char id[];
};

static const char *entry_key(const void *item, size_t *len)
{
    const dc_entry *e = item;
    *len = e->len;
    return e->id;
}

static const char *node_key(const void *item, size_t *len)
{
    const sc_dcnode *n = item;
    *len = n->idlen;
    return n->id;
}

void sc_dircache_init(sc_dircache *d, const char *channel_prefix)
{
    memset(d, 0, sizeof(*d));
    sc_map_init(&d->entries, entry_key);
    sc_map_init(&d->nodes, node_key);
    snprintf(d->chprefix, sizeof(d->chprefix), "%s", channel_prefix);
}

void sc_dcnode_hold(sc_dcnode *n)
{
    n->refs++;
}

void sc_dcnode_release(sc_dcnode *n)
{
    if (n && --n->refs == 0)
        free(n); /* refs 0: no entry, no holder, not in the node table */
}

static sc_dcnode *node_get(sc_dircache *d, const char *id, size_t len)
{
    sc_dcnode *n = sc_map_get(&d->nodes, id, len);
    if (n)
        return n;
    size_t plen = strlen(d->chprefix);
    n = sc_xcalloc(1, sizeof(*n) + len + 1 + plen + len + 1);
    memcpy(n->id, id, len);
    char *ch = n->id + len + 1;
    memcpy(ch, d->chprefix, plen);
    memcpy(ch + plen, id, len);
    n->ch = ch;
    n->chlen = (uint32_t)(plen + len);
    n->idlen = (uint32_t)len;
    n->out = -1;
    n->live_mark = d->live_mark;
    n->refs = 1; /* the table's */
    sc_map_put(&d->nodes, n);
    return n;
}

/* The node table lets go of n: its entries are stale from now on. */
static void node_drop(sc_dircache *d, sc_dcnode *n)
{
    sc_map_del(&d->nodes, n->id, n->idlen);
    n->gone = true;
    sc_dcnode_release(n);
}

static bool entry_stale(const dc_entry *e)
{
    return e->node->gone || e->epoch != e->node->epoch;
}

static void list_unlink(sc_dircache *d, dc_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        d->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        d->tail = e->prev;
    e->prev = e->next = NULL;
}

static void list_append(sc_dircache *d, dc_entry *e)
{
    e->prev = d->tail;
    e->next = NULL;
    if (d->tail)
        d->tail->next = e;
    else
        d->head = e;
    d->tail = e;
}

typedef enum { WHY_EXPIRED, WHY_EVICTED, WHY_NOTICE, WHY_REFRESH, WHY_CLEARED } drop_why;

/* Remove and free e, counted under its reason; an entry whose node went
 * away counts as invalidated by the node whatever found it. */
static void entry_drop(sc_dircache *d, dc_entry *e, drop_why why)
{
    if (entry_stale(e))
        SC_COUNT(dircache_invalidated_node);
    else if (why == WHY_EXPIRED)
        SC_COUNT(dircache_expired);
    else if (why == WHY_EVICTED)
        SC_COUNT(dircache_evictions);
    else if (why == WHY_NOTICE)
        SC_COUNT(dircache_invalidated_stale);
    else if (why == WHY_REFRESH)
        SC_COUNT(dircache_refresh_dropped);
    list_unlink(d, e);
    sc_map_del(&d->entries, e->id, e->len);
    sc_dcnode_release(e->node);
    free(e);
}

static dc_entry *entry_get(sc_dircache *d, const char *id, size_t len, uint64_t now_us)
{
    dc_entry *e = sc_map_get(&d->entries, id, len);
    if (e && (entry_stale(e) || now_us >= e->expires_us)) {
        entry_drop(d, e, WHY_EXPIRED);
        return NULL;
    }
    return e;
}

sc_dcnode *sc_dircache_get(sc_dircache *d, const char *id, size_t len, uint64_t now_us)
{
    dc_entry *e = entry_get(d, id, len, now_us);
    return e ? e->node : NULL;
}

sc_dcnode *sc_dircache_get_due(sc_dircache *d, const char *id, size_t len, uint64_t now_us,
                               bool *due)
{
    dc_entry *e = entry_get(d, id, len, now_us);
    *due = e && now_us >= e->due_us;
    if (*due)
        e->due_us = UINT64_MAX; /* once per fill or renewal */
    return e ? e->node : NULL;
}

/* e lives ttl_us from now_us: it moves to the young end. */
static void entry_restart(sc_dircache *d, dc_entry *e, uint64_t now_us, uint64_t ttl_us)
{
    list_unlink(d, e);
    e->expires_us = now_us + ttl_us;
    e->due_us = now_us + ttl_us / 4;
    list_append(d, e);
}

void sc_dircache_renew(sc_dircache *d, const char *id, size_t len, const char *node, size_t nlen,
                       uint64_t now_us, uint64_t ttl_us)
{
    dc_entry *e = sc_map_get(&d->entries, id, len);
    if (!e)
        return;
    if (entry_stale(e) || e->node->idlen != nlen || memcmp(e->node->id, node, nlen) != 0) {
        entry_drop(d, e, WHY_REFRESH);
        return;
    }
    entry_restart(d, e, now_us, ttl_us);
    SC_COUNT(dircache_renewed);
}

void sc_dircache_put(sc_dircache *d, const char *id, size_t len, const char *node, size_t nlen,
                     uint64_t now_us, uint64_t ttl_us, uint64_t max_entries)
{
    if (!ttl_us || !max_entries)
        return;
    sc_dcnode *n = node_get(d, node, nlen);
    dc_entry *e = sc_map_get(&d->entries, id, len);
    if (e) { /* refreshed: the script resolved it again */
        sc_dcnode_release(e->node);
    } else {
        while (d->head && sc_map_count(&d->entries) >= max_entries)
            entry_drop(d, d->head, WHY_EVICTED);
        e = sc_xmalloc(sizeof(*e) + len + 1);
        e->len = (uint32_t)len;
        memcpy(e->id, id, len);
        e->id[len] = '\0';
        sc_map_put(&d->entries, e);
        list_append(d, e);
    }
    sc_dcnode_hold(n);
    e->node = n;
    e->epoch = n->epoch;
    entry_restart(d, e, now_us, ttl_us);
    SC_COUNT(dircache_filled);
}

bool sc_dircache_forget(sc_dircache *d, const char *id, size_t len, const char *node, size_t nlen)
{
    dc_entry *e = sc_map_get(&d->entries, id, len);
    if (!e || e->node->idlen != nlen || memcmp(e->node->id, node, nlen) != 0)
        return false; /* re-resolved elsewhere meanwhile, or never cached */
    entry_drop(d, e, WHY_NOTICE);
    return true;
}

void sc_dircache_node_unreachable(sc_dircache *d, sc_dcnode *n)
{
    n->epoch++;
}

void sc_dircache_set_live(sc_dircache *d, char *const *ids, size_t n)
{
    uint32_t mark = ++d->live_mark;
    for (size_t i = 0; i < n; i++) {
        sc_dcnode *nd = sc_map_get(&d->nodes, ids[i], strlen(ids[i]));
        if (nd)
            nd->live_mark = mark;
    }
    /* collect first: the table must not change while it is scanned */
    sc_dcnode **dead = NULL;
    size_t ndead = 0;
    for (uint32_t i = 0; i < d->nodes.cap; i++) {
        sc_dcnode *nd = d->nodes.items[i];
        if (!nd || nd->live_mark == mark)
            continue;
        dead = sc_xrealloc(dead, (ndead + 1) * sizeof(*dead));
        dead[ndead++] = nd;
    }
    for (size_t i = 0; i < ndead; i++)
        node_drop(d, dead[i]);
    free(dead);
}

size_t sc_dircache_expire(sc_dircache *d, uint64_t now_us, size_t max)
{
    size_t n = 0;
    while (n < max && d->head && (now_us >= d->head->expires_us || entry_stale(d->head))) {
        entry_drop(d, d->head, WHY_EXPIRED);
        n++;
    }
    return n;
}

void sc_dircache_clear(sc_dircache *d)
{
    while (d->head)
        entry_drop(d, d->head, WHY_CLEARED);
}

void sc_dircache_free(sc_dircache *d)
{
    if (!d)
        return;
    sc_dircache_clear(d);
    sc_dcnode **all = sc_xcalloc(d->nodes.count + 1, sizeof(*all));
    size_t n = 0;
    for (uint32_t i = 0; i < d->nodes.cap; i++)
        if (d->nodes.items[i])
            all[n++] = d->nodes.items[i];
    for (size_t i = 0; i < n; i++)
        node_drop(d, all[i]);
    free(all);
    sc_map_free(&d->entries);
    sc_map_free(&d->nodes);
}
