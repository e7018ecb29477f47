/* redis_sentinel: where the primary is, for redis+sentinel:// URLs. It asks
 * the sentinels in turn (SENTINEL get-master-addr-by-name), follows
 * +switch-master on a second connection to the same sentinel, and asks
 * again whenever the owner says its connection to the primary dropped or
 * reached a node that is not a primary (sc_sentinel_refresh). A sentinel
 * that fails, does not know the name, or refuses the login is left for the
 * next one in the list.
 *
 * It owns its two connections (sc_redis, one for questions and one
 * subscribed) and the address it last learnt; it tells its owner
 * (cluster_core.c) of each new address through the callback it is given,
 * and knows nothing of what the primary carries. */
#ifndef SC_REDIS_SENTINEL_H
#define SC_REDIS_SENTINEL_H

#include "redis.h"

typedef struct sc_sentinel sc_sentinel;
/* The primary is now at host:port (the first answer, or a switch). */
typedef void (*sc_sentinel_fn)(void *ud, const char *host, int port, const char *why);

typedef struct sc_sentinel_opts {
    const char *user;     /* the sentinels' ACL user, or NULL */
    const char *password; /* their password, or NULL */
    /* NULL, or asked before every login to a sentinel (a rotated file):
     * as sc_redis_opts.password, with password_ud */
    sc_redis_password_fn fresh_password;
    void *password_ud;
    const sc_redis_opts *base; /* timeouts, backoff and TLS, as for the primary */
} sc_sentinel_opts;

/* url: a parsed redis[s]+sentinel:// URL (copied). */
sc_sentinel *sc_sentinel_new(struct ev_loop *loop, const sc_redis_url *url,
                             const sc_sentinel_opts *o, sc_sentinel_fn fn, void *ud);
void sc_sentinel_start(sc_sentinel *s);
/* The primary's address, when one is known. host borrowed. */
bool sc_sentinel_primary(const sc_sentinel *s, const char **host, int *port);
/* Ask again now (the owner's connection dropped, or found a replica). */
void sc_sentinel_refresh(sc_sentinel *s);
/* A sentinel answers (the question connection is up), and which. */
bool sc_sentinel_is_up(const sc_sentinel *s);
const char *sc_sentinel_current(const sc_sentinel *s);
/* Switches followed since the start. */
uint64_t sc_sentinel_switches(const sc_sentinel *s);
void sc_sentinel_free(sc_sentinel *s);

#endif
