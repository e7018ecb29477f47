/* redis_url: what redis_url says: where Redis is (TCP host and port, or a
 * Unix socket), whether to speak TLS (rediss://), the ACL user, password and
 * database. Parsed for the config check and for the connections alike.
 *
 * It owns the parsed strings and nothing else: no I/O, no settings. */
#ifndef SC_REDIS_URL_H
#define SC_REDIS_URL_H

#include <stdbool.h>
#include <stddef.h>

#define SC_SENTINELS_MAX 16

typedef struct sc_redis_url {
    char *host; /* TCP, or NULL */
    int port;
    char *path; /* Unix socket, or NULL */
    char *user;
    char *password;
    int db;
    bool tls; /* rediss:// */
    /* redis+sentinel://: the sentinels to ask and the primary's name;
     * host and port are then the primary's, once a sentinel named it */
    bool sentinel;
    char *master;
    int nsentinels;
    char *sentinel_host[SC_SENTINELS_MAX];
    int sentinel_port[SC_SENTINELS_MAX];
    /* redis+cluster://: a Redis Cluster; the sentinel_* arrays then hold
     * its seed nodes (port 6379 by default), and db is 0 */
    bool cluster;
} sc_redis_url;

/* Parse redis[s]://[user:password@]host[:port][/db] (host may be an IPv6
 * literal in brackets), unix:///path[?db=N], or
 * redis[s]+sentinel://[user:password@]s1[:26379][,s2...]/master[/db] (the
 * user and password are Redis's; the sentinels' are settings of their own), or
 * redis[s]+cluster://[user:password@]n1[:6379][,n2...][/] (seed nodes of a
 * Redis Cluster). The userinfo reads as in
 * RFC 3986: redis://user@host names a user and no password,
 * redis://:password@host a password alone. Returns 0 or -EINVAL with a
 * reason in err. */
int sc_redis_url_parse(const char *url, sc_redis_url *ret, char *err, size_t errlen);
void sc_redis_url_free(sc_redis_url *u);
/* Deep copy. */
void sc_redis_url_copy(sc_redis_url *dst, const sc_redis_url *src);
/* "host:port/db", "tls:host:port/db" or "unix:/path/db": never the
 * credentials. Static buffer. */
const char *sc_redis_url_safe(const sc_redis_url *u);

#endif
