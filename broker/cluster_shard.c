/* cluster_shard: on a Redis Cluster (redis[s]+cluster://), one shard per
 * primary of the slot map (redis_topology.c) and the routing of channels to
 * them. Every key, the node and broadcast channels and the scripts share
 * the home slot (that of "{prefix}"), on c->home, whose connections are
 * c->pub and c->sub and follow that slot wherever it goes. Room channels
 * ("prefix:room:<name>", no braces) spread over the slots; each goes to
 * its slot's primary: published with SPUBLISH on the shard's publish
 * connection, received with SSUBSCRIBE on its subscriber, which starts only
 * once a room of that shard has members here. So a sidecar holds at most
 * two connections per primary, however many rooms.
 *
 * It owns the shards (connections, counters) and the table of them; what
 * their subscriptions carry belongs to cluster_subs.c, which it reaches
 * through c->shard_state. Without a Redis Cluster there is one shard,
 * c->home, and every channel routes there. */
#include "cluster_int.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sc_shard *sc_cl_shard_of_slot(sc_cluster *c, uint16_t slot)
{
    const char *host;
    int port;
    int i = sc_topo_owner(c->topo, slot, &host, &port);
    return i >= 0 && i < c->nshards ? c->shards[i] : NULL;
}

sc_shard *sc_cl_shard_of(sc_cluster *c, const char *channel, size_t len, int *slot)
{
    if (slot)
        *slot = -1;
    if (!c->sharded)
        return &c->home;
    size_t pl = strlen(c->prefix);
    if (len > pl && memcmp(channel, c->prefix, pl) == 0 && channel[pl] == ':')
        return &c->home; /* "{prefix}:node:...", "{prefix}:all" */
    uint16_t s = sc_slot(channel, len);
    if (slot)
        *slot = s;
    return sc_cl_shard_of_slot(c, s);
}

sc_shard *sc_cl_shard_by_sub(sc_cluster *c, const sc_redis *rc)
{
    if (rc == c->sub)
        return &c->home;
    for (int i = 0; i < c->nshards; i++)
        if (c->shards[i] && c->shards[i]->sub == rc)
            return c->shards[i];
    return NULL;
}

void sc_cl_shard_start_sub(sc_cluster *c, sc_shard *sh)
{
    if (sh->sub_started)
        return;
    sh->sub_started = true;
    sc_redis_start(sh->sub);
}

sc_redis *sc_cl_shard_any_up(void *ud)
{
    sc_cluster *c = ud;
    if (sc_redis_is_up(c->pub))
        return c->pub;
    for (int i = 0; i < c->nshards; i++)
        if (c->shards[i] && sc_redis_is_up(c->shards[i]->pub))
            return c->shards[i]->pub;
    return NULL;
}

void sc_cl_sharded_off(sc_cluster *c, const char *err)
{
    if (!c->sharded)
        return;
    c->sharded = false;
    sc_warn("redis cluster: %s: it has no sharded pub/sub (Redis before 7.0); falling back to "
            "PUBLISH and SUBSCRIBE on the home shard. It works, but Redis Cluster sends every "
            "such message to all its nodes: upgrade Redis to 7.0 for pub/sub that scales with "
            "the shards (sidecast_redis_cluster_sharded_pubsub is 0 meanwhile)",
            err);
    /* their subscriptions come back through the reconnect, all at home now */
    sc_redis_reconnect(c->sub, "falling back to classic pub/sub");
    for (int i = 0; i < c->nshards; i++)
        if (c->shards[i] && !c->shards[i]->home && c->shards[i]->sub_started)
            sc_redis_reconnect(c->shards[i]->sub, "falling back to classic pub/sub");
}

bool sc_cl_home_target(void *ud, const char **host, int *port)
{
    sc_cluster *c = ud;
    return sc_topo_owner(c->topo, c->home_slot, host, port) >= 0;
}

static void on_pub_state(sc_redis *r, bool up, const char *why, void *ud)
{
    sc_shard *sh = ud;
    sh->c->shard_state(sh->c, sh, false, up, why);
}

static void on_sub_state(sc_redis *r, bool up, const char *why, void *ud)
{
    sc_shard *sh = ud;
    sh->c->shard_state(sh->c, sh, true, up, why);
}

static sc_shard *shard_new(sc_cluster *c, int i)
{
    sc_shard *sh = sc_xcalloc(1, sizeof(*sh));
    sh->c = c;
    snprintf(sh->addr, sizeof(sh->addr), "%s", sc_topo_addr(c->topo, i));
    const char *host;
    int port;
    for (int s = 0; s < SC_SLOTS; s++) /* any slot of primary i names its address */
        if (sc_topo_owner(c->topo, (uint16_t)s, &host, &port) == i)
            break;
    sc_redis_url u = c->url; /* borrowed strings: sc_redis_new copies them */
    u.host = (char *)host;
    u.port = port;
    u.nsentinels = 0;
    sc_redis_opts po = c->popts, so = c->sopts;
    po.name = "publish-shard";
    po.target = so.target = NULL;
    so.name = "subscribe-shard";
    sh->pub = sc_redis_new(c->srv->loop, &u, &po, on_pub_state, sh);
    sh->sub = sc_redis_new(c->srv->loop, &u, &so, on_sub_state, sh);
    sc_redis_start(sh->pub);
    return sh;
}

void sc_cl_shard_free(sc_shard *sh)
{
    if (!sh || sh->home)
        return;
    sc_redis_free(sh->pub);
    sc_redis_free(sh->sub);
    free(sh);
}

/* The home slot is now at `addr`: its connections go there (each checks
 * ROLE first). The subscriber's reconnect opens a Gap, and the publish
 * connection's rewrites this node's liveness and directory, which the new
 * primary lacks if the slot was moved rather than failed over. */
static void home_moved(sc_cluster *c, const char *addr)
{
    bool first = !c->home.addr[0];
    snprintf(c->home.addr, sizeof(c->home.addr), "%s", addr);
    if (!first)
        sc_warn("redis cluster: the home slot %u (every key of prefix '%s') is now served by %s",
                c->home_slot, c->prefix, addr);
    char msg[400];
    snprintf(msg, sizeof(msg), "redis cluster: the home slot moved to %s", addr);
    sc_redis *conns[] = {c->pub, c->sub};
    for (int i = 0; i < 2; i++) {
        if (sc_redis_is_down(conns[i]))
            sc_redis_connect_soon(conns[i]); /* waiting out a backoff (or for the map): go now */
        else if (!first)
            sc_redis_reconnect(conns[i], msg);
    }
}

int sc_cl_shards_build(sc_cluster *c, sc_shard **old)
{
    sc_shard *prev[SC_TOPO_PRIMARIES_MAX];
    int nprev = c->nshards, nold = 0, n = sc_topo_nprimaries(c->topo);
    memcpy(prev, c->shards, sizeof(prev));
    memset(c->shards, 0, sizeof(c->shards));
    const char *host;
    int port;
    int h = sc_topo_owner(c->topo, c->home_slot, &host, &port);
    for (int i = 0; i < n; i++) {
        const char *addr = sc_topo_addr(c->topo, i);
        if (i == h) {
            c->shards[i] = &c->home;
            continue;
        }
        sc_shard *sh = NULL;
        for (int j = 0; j < nprev && !sh; j++)
            if (prev[j] && !prev[j]->home && strcmp(prev[j]->addr, addr) == 0) {
                sh = prev[j];
                prev[j] = NULL;
            }
        c->shards[i] = sh ? sh : shard_new(c, i);
    }
    c->nshards = n;
    for (int j = 0; j < nprev; j++)
        if (prev[j] && !prev[j]->home)
            old[nold++] = prev[j];
    if (h >= 0 && strcmp(c->home.addr, sc_topo_addr(c->topo, h)) != 0)
        home_moved(c, sc_topo_addr(c->topo, h));
    return nold;
}
