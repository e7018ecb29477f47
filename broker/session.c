/* session: a small map per session with an expiry timer (libev's timer heap
 * keeps each O(log n)). See session.h for what it may not touch. */
#include "session.h"
#include "log.h"
#include "registry.h"
#include "state.h"
#include "stats.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *key;
    uint8_t *val;
    size_t vlen;
} entry;

typedef struct sc_sess {
    sc_server *srv;
    entry *entries;
    size_t n, cap;
    size_t bytes;
    ev_timer expiry;
    uint32_t len;
    char sid[];
} sc_sess;

static const char *sess_key(const void *item, size_t *len)
{
    const sc_sess *s = item;
    *len = s->len;
    return s->sid;
}

void sc_sessions_init(sc_server *srv)
{
    sc_map_init(&srv->session_data, sess_key);
}

static void sess_free(sc_sess *s)
{
    ev_timer_stop(s->srv->loop, &s->expiry);
    sc_map_del(&s->srv->session_data, s->sid, s->len);
    for (size_t i = 0; i < s->n; i++) {
        free(s->entries[i].key);
        free(s->entries[i].val);
    }
    free(s->entries);
    free(s);
}

void sc_sessions_free(sc_server *srv)
{
    while (sc_map_count(&srv->session_data)) {
        for (uint32_t i = 0; i < srv->session_data.cap; i++)
            if (srv->session_data.items[i]) {
                sess_free(srv->session_data.items[i]);
                break;
            }
    }
    sc_map_free(&srv->session_data);
}

static void on_expiry(struct ev_loop *loop, ev_timer *w, int revents)
{
    SC_COUNT(sessions_expired);
    sess_free(w->data);
}

static sc_sess *find(sc_server *srv, const char *sid)
{
    return sc_map_get(&srv->session_data, sid, strlen(sid));
}

void sc_session_get(sc_server *srv, const char *sid, sc_arena *a, Sidecast__V1__SessionData *out)
{
    sidecast__v1__session_data__init(out);
    out->connected = sc_registry_find_session(&srv->reg, sid) != NULL;
    sc_sess *s = find(srv, sid);
    if (!s || s->n == 0)
        return;
    out->found = true;
    out->entries = sc_arena_alloc(a, sizeof(*out->entries) * s->n);
    Sidecast__V1__SessionEntry *es = sc_arena_alloc(a, sizeof(*es) * s->n);
    for (size_t i = 0; i < s->n; i++) {
        sidecast__v1__session_entry__init(&es[i]);
        es[i].key = s->entries[i].key;
        es[i].value.data = s->entries[i].val;
        es[i].value.len = s->entries[i].vlen;
        out->entries[i] = &es[i];
    }
    out->n_entries = s->n;
}

static ssize_t index_of(const sc_sess *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++) /* bounded by session_data_max_keys */
        if (strcmp(s->entries[i].key, key) == 0)
            return (ssize_t)i;
    return -1;
}

static void remove_at(sc_sess *s, size_t i)
{
    s->bytes -= strlen(s->entries[i].key) + s->entries[i].vlen;
    free(s->entries[i].key);
    free(s->entries[i].val);
    s->entries[i] = s->entries[--s->n];
}

/* Size and key count after applying ss, without changing anything. */
static void predict(const sc_sess *s, const Sidecast__V1__SessionSet *ss, size_t *keys,
                    size_t *bytes)
{
    size_t k = s ? s->n : 0, b = s ? s->bytes : 0;
    for (size_t i = 0; s && i < s->n; i++) {
        bool gone = false, replaced = false;
        for (size_t j = 0; j < ss->n_delete_ && !gone; j++)
            gone = strcmp(ss->delete_[j], s->entries[i].key) == 0;
        for (size_t j = 0; j < ss->n_set && !replaced; j++)
            replaced = strcmp(ss->set[j]->key, s->entries[i].key) == 0;
        if (gone || replaced) {
            k--;
            b -= strlen(s->entries[i].key) + s->entries[i].vlen;
        }
    }
    for (size_t j = 0; j < ss->n_set; j++) {
        bool dup = false;
        for (size_t m = j + 1; m < ss->n_set && !dup; m++)
            dup = strcmp(ss->set[m]->key, ss->set[j]->key) == 0;
        if (!dup) {
            k++;
            b += strlen(ss->set[j]->key) + ss->set[j]->value.len;
        }
    }
    *keys = k;
    *bytes = b;
}

int sc_session_set(sc_server *srv, const Sidecast__V1__SessionSet *ss, char *err, size_t errlen)
{
    const sc_config *cfg = srv->cfg;
    sc_sess *s = find(srv, ss->session_id);
    size_t keys, bytes;
    predict(s, ss, &keys, &bytes);
    if (keys > cfg->session_data_max_keys || bytes > cfg->session_data_max_bytes) {
        snprintf(err, errlen,
                 "session data would hold %zu keys, %zu bytes (max %llu keys, %llu bytes)", keys,
                 bytes, (unsigned long long)cfg->session_data_max_keys,
                 (unsigned long long)cfg->session_data_max_bytes);
        return -ENOSPC;
    }
    if (!s) {
        size_t len = strlen(ss->session_id);
        s = sc_xcalloc(1, sizeof(*s) + len + 1);
        s->srv = srv;
        s->len = (uint32_t)len;
        memcpy(s->sid, ss->session_id, len + 1);
        ev_timer_init(&s->expiry, on_expiry, 0, 0);
        s->expiry.data = s;
        sc_map_put(&srv->session_data, s);
    }
    for (size_t j = 0; j < ss->n_delete_; j++) {
        ssize_t i = index_of(s, ss->delete_[j]);
        if (i >= 0)
            remove_at(s, (size_t)i);
    }
    for (size_t j = 0; j < ss->n_set; j++) {
        ssize_t i = index_of(s, ss->set[j]->key);
        if (i >= 0)
            remove_at(s, (size_t)i);
        if (s->n == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 4;
            s->entries = sc_xrealloc(s->entries, s->cap * sizeof(entry));
        }
        entry *e = &s->entries[s->n++];
        e->key = sc_xstrdup(ss->set[j]->key);
        e->vlen = ss->set[j]->value.len;
        e->val = sc_xmalloc(e->vlen ? e->vlen : 1);
        if (e->vlen) /* an empty value has no data pointer */
            memcpy(e->val, ss->set[j]->value.data, e->vlen);
        s->bytes += strlen(e->key) + e->vlen;
    }
    if (s->n == 0)
        sess_free(s);
    else if (!sc_registry_find_session(&srv->reg, s->sid) && !ev_is_active(&s->expiry))
        sc_session_socket_down(srv, s->sid); /* written while disconnected: grace applies */
    return 0;
}

void sc_session_socket_up(sc_server *srv, const char *sid)
{
    sc_sess *s = sid[0] ? find(srv, sid) : NULL;
    if (s)
        ev_timer_stop(srv->loop, &s->expiry);
}

void sc_session_socket_down(sc_server *srv, const char *sid)
{
    sc_sess *s = sid[0] ? find(srv, sid) : NULL;
    if (!s || sc_registry_find_session(&srv->reg, sid))
        return;
    if (srv->cfg->session_grace_ms == 0) {
        sess_free(s);
        return;
    }
    ev_timer_stop(srv->loop, &s->expiry);
    ev_timer_set(&s->expiry, srv->cfg->session_grace_ms / 1000.0, 0);
    ev_timer_start(srv->loop, &s->expiry);
}
