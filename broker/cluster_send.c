/* cluster_send: how the cluster parts talk to Redis on the publish
 * connection. It owns the Lua scripts' loading (EVAL until SCRIPT LOAD has
 * answered, then EVALSHA) and the argv they and other commands are built
 * in (sc_cl_arg*), commands (sc_cl_command), PUBLISH formatted by hand and
 * batched per channel within a loop iteration (sc_cl_publish), and the
 * outbox that keeps emits while Redis is away.
 *
 * It sends what the other parts give it: it fills in an envelope's header
 * and wraps envelopes in a Batch, but reads none, and may not look at the
 * live list, the subscriptions or the directory. Before anything goes to
 * Redis it has the other parts send their pending work first (socket ups,
 * the targeted script call, cache-routed batches), so that Redis sees
 * everything in the order the apps sent it. */
#include "cluster_int.h"
#include "log.h"
#include "lua_scripts.h"
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Lua scripts (run atomically in Redis) -------------------------------- */

/* broker/lua/<name>.lua, embedded at build time (lua_scripts.h): each file
 * says what its ARGV and answer are. */

/* Scripts are sent with EVAL until SCRIPT LOAD has answered on the current
 * publish connection, then with EVALSHA: Redis no longer hashes a 500-byte
 * body per call. The load is the connection's first command, so every
 * EVALSHA after it finds the script. */

static const char **script_body(int i)
{
    static const char *bodies[S_COUNT];
    if (!bodies[0]) {
        bodies[S_TARGETED] = sc_lua_targeted;
        bodies[S_FORGET] = sc_lua_forget;
        bodies[S_REAP] = sc_lua_reap;
        bodies[S_UNREGISTER] = sc_lua_unregister;
        bodies[S_LOOKUP] = sc_lua_lookup;
        bodies[S_SGET] = sc_lua_session_get;
        bodies[S_SSET] = sc_lua_session_set;
        bodies[S_SDROP] = sc_lua_spread_drop;
        bodies[S_SFORGET] = sc_lua_spread_forget;
        bodies[S_NDROP] = sc_lua_node_drop;
    }
    return &bodies[i];
}

const char *sc_cl_script_body(int i)
{
    return *script_body(i);
}

void sc_cl_arg(argv_buf *a, const char *p, size_t len)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 64;
        a->argv = sc_xrealloc(a->argv, a->cap * sizeof(char *));
        a->lens = sc_xrealloc(a->lens, a->cap * sizeof(size_t));
    }
    a->argv[a->n] = p;
    a->lens[a->n++] = len;
}

void sc_cl_arg_str(argv_buf *a, const char *p)
{
    sc_cl_arg(a, p, strlen(p));
}

/* EVALSHA <sha> or EVAL <body>, then numkeys 0; on a Redis Cluster with
 * sharded pub/sub 1 and the home key, so that a script reaching another primary than the home
 * slot's is answered MOVED, never run there (the scripts read it as the
 * sign to SPUBLISH, see lua/targeted.lua). */
void sc_cl_arg_script(sc_cluster *c, argv_buf *a, int i)
{
    bool loaded = c->sha[i][0] && c->loaded_gen == c->pub_gen && sc_redis_is_up(c->pub);
    sc_cl_arg_str(a, loaded ? "EVALSHA" : "EVAL");
    sc_cl_arg_str(a, loaded ? c->sha[i] : *script_body(i));
    sc_cl_arg_str(a, c->sharded ? "1" : "0");
    if (c->sharded)
        sc_cl_arg_str(a, c->home_key);
}

typedef struct load_ctx {
    sc_cluster *c;
    int i;
    uint64_t gen;
} load_ctx;

static void on_script_loaded(sc_redis *rc, void *reply, void *pd)
{
    load_ctx *lc = pd;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_STRING && r->len == 40 && lc->gen == lc->c->pub_gen) {
        memcpy(lc->c->sha[lc->i], r->str, 40);
        lc->c->sha[lc->i][40] = 0;
        lc->c->loaded_gen = lc->gen;
    } else if (r && r->type == REDIS_REPLY_ERROR) {
        SC_COUNT(redis_errors);
        sc_log_limited(SC_LOG_WARN, "redis refused SCRIPT LOAD: %s (using EVAL)", SC_ESC(r->str));
    }
    free(lc);
}

void sc_cl_load_scripts(sc_cluster *c)
{
    for (int i = 0; i < S_COUNT; i++) {
        c->sha[i][0] = 0;
        load_ctx *lc = sc_xmalloc(sizeof(*lc));
        *lc = (load_ctx){c, i, c->pub_gen};
        const char *argv[] = {"SCRIPT", "LOAD", *script_body(i)};
        size_t lens[] = {6, 4, strlen(*script_body(i))};
        sc_cl_command(c, 3, argv, lens, false, false, on_script_loaded, lc);
    }
}

/* ---- sending ------------------------------------------------------------------- */

void sc_cl_outbox_unlink(sc_cluster *c, outbox_item *it)
{
    if (it->prev)
        it->prev->next = it->next;
    else
        c->ob_head = it->next;
    if (it->next)
        it->next->prev = it->prev;
    else
        c->ob_tail = it->prev;
    if (it->is_volatile) {
        if (it->vprev)
            it->vprev->vnext = it->vnext;
        else
            c->ob_vhead = it->vnext;
        if (it->vnext)
            it->vnext->vprev = it->vprev;
        else
            c->ob_vtail = it->vprev;
    }
    c->ob_bytes -= it->len;
    c->ob_count--;
    redisFreeCommand(it->cmd);
    free(it);
}

static void outbox_push(sc_cluster *c, char *cmd, size_t len, bool vol, int slot)
{
    uint64_t max = c->cfg->outbox_max_bytes;
    /* counted on arrival, so that queued = flushed + dropped_* + still held */
    SC_COUNT(outbox_queued);
    while (len <= max && c->ob_bytes + len > max && c->ob_vhead && !vol) {
        SC_COUNT(outbox_dropped_volatile); /* older volatile make room for this one */
        sc_cl_outbox_unlink(c, c->ob_vhead);
    }
    if (c->ob_bytes + len > max) {
        if (vol)
            SC_COUNT(outbox_dropped_volatile);
        else
            SC_COUNT(outbox_dropped_full);
        sc_log_limited(SC_LOG_WARN,
                       "redis unavailable and outbox full (%zu bytes, outbox_max_bytes %llu): "
                       "dropping a %s cluster message",
                       c->ob_bytes, (unsigned long long)max, vol ? "volatile" : "non-volatile");
        redisFreeCommand(cmd);
        return;
    }
    outbox_item *it = sc_xcalloc(1, sizeof(*it));
    it->cmd = cmd;
    it->len = len;
    it->slot = slot;
    it->is_volatile = vol;
    it->prev = c->ob_tail;
    if (c->ob_tail)
        c->ob_tail->next = it;
    else
        c->ob_head = it;
    c->ob_tail = it;
    if (vol) {
        it->vprev = c->ob_vtail;
        if (c->ob_vtail)
            c->ob_vtail->vnext = it;
        else
            c->ob_vhead = it;
        c->ob_vtail = it;
    }
    c->ob_bytes += len;
    c->ob_count++;
}

/* Send what the outbox holds for every connection that is up now (on a
 * Redis Cluster, room publishes go to their slot's primary); the rest
 * waits for theirs. Order per connection is kept. */
void sc_cl_outbox_flush(sc_cluster *c)
{
    size_t n = 0;
    for (outbox_item *it = c->ob_head, *next; it; it = next) {
        next = it->next;
        sc_shard *sh = it->slot < 0 ? &c->home : sc_cl_shard_of_slot(c, (uint16_t)it->slot);
        if (!sh || !sc_redis_is_up(sh->pub) ||
            sc_redis_command_formatted(sh->pub, sc_cl_on_cmd_reply, c, it->cmd, it->len) < 0)
            continue; /* kept for that connection */
        sc_cl_outbox_unlink(c, it);
        n++;
    }
    if (n) {
        SC_COUNT_N(outbox_flushed, n);
        sc_info("redis is back: sent %zu queued cluster message(s)", n);
    }
}

/* Default reply handler: a command whose reply is an error, or that was
 * still unanswered when its connection was dropped, is counted and logged.
 * A Redis Cluster's MOVED or ASK says the slot map is stale: the command is
 * lost (counted), and the map asked again. pd: the cluster, or NULL. */
void sc_cl_on_cmd_reply(sc_redis *rc, void *reply, void *pd)
{
    sc_cluster *c = pd;
    redisReply *r = reply;
    if (!r) {
        SC_COUNT(redis_commands_lost);
        return;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        SC_COUNT(redis_errors);
        bool moved = strncmp(r->str, "MOVED ", 6) == 0 || strncmp(r->str, "ASK ", 4) == 0;
        if (moved && c && c->topo) {
            SC_COUNT(redis_cluster_redirects);
            sc_topo_refresh(c->topo, r->str);
        }
        if (c && c->sharded && strstr(r->str, "unknown command") &&
            (strstr(r->str, "SPUBLISH") || strstr(r->str, "spublish")))
            sc_cl_sharded_off(c, r->str);
        sc_log_limited(SC_LOG_WARN, "redis refused a command: %s%s", SC_ESC(r->str),
                       moved ? " (the slot moved: the command is lost; asking for the slot "
                               "map again)"
                             : "");
    }
}

/* Send a command now, or keep it for later if `keep` (emits); directory
 * writes are not kept: the resync after reconnecting rewrites them. */
bool sc_cl_command(sc_cluster *c, int argc, const char **argv, const size_t *lens, bool keep,
                   bool vol, sc_redis_reply_fn *cb, void *pd)
{
    c->flush_ups(c); /* every later command sees the sockets registered before it */
    sc_cl_batch_flush(c);
    c->flush_emits(c);
    if (sc_redis_is_up(c->pub) &&
        sc_redis_command_argv(c->pub, cb ? cb : sc_cl_on_cmd_reply, cb ? pd : c, argc, argv,
                              lens) == 0) {
        SC_COUNT(redis_commands);
        return true;
    }
    if (!keep)
        return false;
    char *cmd;
    int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
    if (len > 0)
        outbox_push(c, cmd, (size_t)len, vol, -1);
    return false;
}

size_t sc_cl_pack_envelope(sc_cluster *c, sc_envelope *env, uint8_t **ret)
{
    env->origin = (char *)c->self;
    env->version = SC_CLUSTER_VERSION;
    env->seq = ++c->seq;
    env->sent_unix_ms = wall_ms();
    size_t len = sidecast__cluster__v1__envelope__get_packed_size(env);
    c->pack.off = c->pack.len = 0;
    uint8_t *buf = sc_buf_reserve(&c->pack, len ? len : 1);
    sidecast__cluster__v1__envelope__pack(env, buf);
    *ret = buf;
    return len;
}

/* PUBLISH is the hot command: format its RESP by hand into a reused buffer
 * (hiredis' generic argv formatter was a fifth of the publishing node's CPU).
 * SPUBLISH on a Redis Cluster: each message touches its channel's shard. */
static size_t publish_format(sc_cluster *c, const char *channel, size_t chlen, const uint8_t *env,
                             size_t len, char **ret)
{
    c->cmd.off = c->cmd.len = 0;
    char *p = (char *)sc_buf_reserve(&c->cmd, chlen + len + 64);
    int n = sprintf(p, c->sharded ? "*3\r\n$8\r\nSPUBLISH\r\n$%zu\r\n" : "*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n",
                    chlen);
    memcpy(p + n, channel, chlen);
    n += (int)chlen;
    n += sprintf(p + n, "\r\n$%zu\r\n", len);
    memcpy(p + n, env, len);
    n += (int)len;
    memcpy(p + n, "\r\n", 2);
    *ret = p;
    return (size_t)n + 2;
}

/* Returns true when hiredis took it (cb will run with pd), false when it
 * went to the outbox (cb never runs; the caller still owns pd). No cb: a
 * quiet command, whose reply only an error makes matter (sc_redis_send_quiet).
 * With cb the reply is deferred too (sc_redis_command_deferred): the count
 * of receivers is wanted, but not a wake-up of this node per message. */
bool sc_cl_publish_now_cb(sc_cluster *c, const char *channel, size_t chlen, const uint8_t *env,
                          size_t len, bool vol, sc_redis_reply_fn *cb, void *pd)
{
    char *p;
    size_t n = publish_format(c, channel, chlen, env, len, &p);
    SC_COUNT(redis_publishes);
    int slot = -1;
    sc_shard *sh = sc_cl_shard_of(c, channel, chlen, &slot);
    if (sh && sc_redis_is_up(sh->pub) &&
        (cb ? sc_redis_command_deferred(sh->pub, cb, pd, p, n)
            : sc_redis_send_quiet(sh->pub, p, n)) == 0) {
        SC_COUNT(redis_commands);
        sh->publishes++;
        return true;
    }
    char *copy = sc_xmalloc(n);
    memcpy(copy, p, n);
    outbox_push(c, copy, n, vol, slot);
    return false;
}

/* A publish whose reply tells nothing but errors (rooms, broadcasts,
 * requests): quiet, see sc_redis_send_quiet. */
static void publish_now(sc_cluster *c, const char *channel, size_t chlen, const uint8_t *env,
                        size_t len, bool vol)
{
    sc_cl_publish_now_cb(c, channel, chlen, env, len, vol, NULL, NULL);
}

/* Whether a publish to `channel` would go out now (its shard is up). */
static bool channel_up(sc_cluster *c, const char *channel, size_t chlen)
{
    sc_shard *sh = sc_cl_shard_of(c, channel, chlen, NULL);
    return sh && sc_redis_is_up(sh->pub);
}

/* Read the varint at *p (bounded by end); advances *p. -1 if malformed. */
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
    uint64_t v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *ret = v;
            return 0;
        }
    }
    return -1;
}

/* Walk the envelopes of c->batch (entries we wrote: tag 1, length, bytes). */
const uint8_t *sc_cl_batch_next(const uint8_t **p, const uint8_t *end, size_t *ret_len)
{
    uint64_t tag, len;
    if (read_varint(p, end, &tag) < 0 || read_varint(p, end, &len) < 0 ||
        len > (uint64_t)(end - *p))
        return NULL;
    const uint8_t *body = *p;
    *p += len;
    *ret_len = (size_t)len;
    return body;
}

/* Wrap encoded Batch.envelopes fields into a Batch envelope, in c->batch_out. */
void sc_cl_batch_wrap(sc_cluster *c, const uint8_t *items, size_t len)
{
    c->batch_out.off = c->batch_out.len = 0;
    sc_wire_put_bytes_field(&c->batch_out, SC_ENV_ORIGIN, c->self, strlen(c->self));
    sc_wire_put_varint_field(&c->batch_out, SC_ENV_VERSION, SC_CLUSTER_VERSION);
    sc_wire_put_bytes_field(&c->batch_out, SIDECAST__CLUSTER__V1__ENVELOPE__BODY_BATCH, items, len);
}

/* Send the pending batch: one envelope as it is, several wrapped in one
 * Batch envelope, so a burst to one channel costs Redis one PUBLISH and
 * the subscribers one message. If Redis went away meanwhile, each envelope
 * goes to the outbox on its own, so drops there stay counted per message. */
void sc_cl_batch_flush(sc_cluster *c)
{
    if (!c->batch_n)
        return;
    const uint8_t *p = c->batch.data, *end = p + c->batch.len, *env;
    size_t len;
    if (c->batch_n == 1 || !channel_up(c, c->batch_ch, c->batch_chlen)) {
        while (p < end && (env = sc_cl_batch_next(&p, end, &len)))
            publish_now(c, c->batch_ch, c->batch_chlen, env, len, false);
    } else {
        sc_cl_batch_wrap(c, c->batch.data, c->batch.len);
        publish_now(c, c->batch_ch, c->batch_chlen, c->batch_out.data, c->batch_out.len, false);
        SC_COUNT(cluster_batches_sent);
        SC_COUNT_N(cluster_batched_envelopes, c->batch_n);
    }
    c->batch_n = 0;
    c->batch.off = c->batch.len = 0;
    sc_buf_shrink(&c->batch, BATCH_MAX_BYTES);
}

/* Publish an envelope now, after everything pending, with a reply callback
 * (read deferred, see sc_cl_publish_now_cb); never batched. Returns as
 * sc_cl_publish_now_cb does. */
bool sc_cl_publish_cb(sc_cluster *c, const char *channel, const uint8_t *env, size_t len, bool vol,
                      sc_redis_reply_fn *cb, void *pd)
{
    c->flush_ups(c);
    c->flush_emits(c);
    sc_cl_batch_flush(c);
    return sc_cl_publish_now_cb(c, channel, strlen(channel), env, len, vol, cb, pd);
}

/* Publish an envelope. While Redis is up, consecutive envelopes for the
 * same channel are held until the loop is about to sleep (cluster_core.c's flush)
 * or another command or channel comes: order between channels and commands
 * is kept, which the receivers' seq de-duplication relies on. */
void sc_cl_publish(sc_cluster *c, const char *channel, const uint8_t *env, size_t len, bool vol)
{
    c->flush_ups(c);
    c->flush_emits(c);
    size_t chlen = strlen(channel);
    if (!channel_up(c, channel, chlen) || len > BATCH_MAX_BYTES) {
        sc_cl_batch_flush(c);
        publish_now(c, channel, chlen, env, len, vol);
        return;
    }
    if (c->batch_n && (chlen != c->batch_chlen || memcmp(channel, c->batch_ch, chlen) != 0 ||
                       c->batch.len + len + 16 > BATCH_MAX_BYTES))
        sc_cl_batch_flush(c);
    if (!c->batch_n) {
        memcpy(c->batch_ch, channel, chlen + 1);
        c->batch_chlen = chlen;
    }
    sc_wire_put_bytes_field(&c->batch, 1, env, len);
    c->batch_n++;
}
