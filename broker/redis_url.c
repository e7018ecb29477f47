/* redis_url: parsing Redis URLs. See redis_url.h. */
#include "redis_url.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *pct_decode(const char *s, size_t n)
{
    char *out = sc_xmalloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
            isxdigit((unsigned char)s[i + 2])) {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            *o++ = (char)strtol(hex, NULL, 16);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = 0;
    return out;
}

static int fail(sc_redis_url *u, char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "%s", why);
    sc_redis_url_free(u);
    return -EINVAL;
}

/* host[:port] or [v6]:port in [p, end); *host allocated. */
static int parse_hostport(const char *p, const char *end, int defport, char **host, int *port,
                          char *err, size_t errlen)
{
    const char *hstart = p, *hend, *colon;
    if (*p == '[') { /* an IPv6 literal: redis://[::1]:6379 */
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (!rb) {
            snprintf(err, errlen, "Redis URL has an unclosed [: redis://[::1]:6379/0");
            return -1;
        }
        if (rb + 1 < end && rb[1] != ':') {
            snprintf(err, errlen, "Redis URL: a port must follow ]: redis://[::1]:6379/0");
            return -1;
        }
        hstart = p + 1;
        hend = rb;
        colon = rb + 1 < end ? rb + 1 : NULL;
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
        hend = colon ? colon : end;
    }
    if (hend == hstart) {
        snprintf(err, errlen, "Redis URL has no host: redis://host:6379/0");
        return -1;
    }
    *port = defport;
    if (colon) {
        char *e;
        long v = strtol(colon + 1, &e, 10);
        if (e != end || v <= 0 || v > 65535) {
            snprintf(err, errlen, "Redis URL port must be 1-65535");
            return -1;
        }
        *port = (int)v;
    }
    *host = sc_xstrndup(hstart, (size_t)(hend - hstart));
    return 0;
}

static int parse_db(const char *s, int *db)
{
    char *e;
    long v = strtol(s, &e, 10);
    if (!*s || *e || v < 0 || v > 1000000)
        return -1;
    *db = (int)v;
    return 0;
}

/* A host list h1[:port],h2[:port] in [p, end) into the sentinel_* arrays
 * (sentinels, or a cluster's seed nodes): `what` names them in errors,
 * `example` shows a good URL. */
static int parse_hosts(sc_redis_url *u, const char *p, const char *end, int defport,
                       const char *what, const char *example, char *err, size_t errlen)
{
    char why[200];
    for (const char *q = p; q < end;) {
        const char *comma = memchr(q, ',', (size_t)(end - q));
        const char *e = comma ? comma : end;
        if (e == q || u->nsentinels == SC_SENTINELS_MAX) {
            if (e == q)
                snprintf(why, sizeof(why), "a Redis URL has an empty %s address: %s", what,
                         example);
            else
                snprintf(why, sizeof(why), "Redis URL names more than %d %ss",
                         SC_SENTINELS_MAX, what);
            return fail(u, err, errlen, why);
        }
        int i = u->nsentinels;
        if (parse_hostport(q, e, defport, &u->sentinel_host[i], &u->sentinel_port[i], err,
                           errlen) < 0) {
            sc_redis_url_free(u);
            return -EINVAL;
        }
        u->nsentinels++;
        q = comma ? comma + 1 : end;
    }
    if (u->nsentinels == 0 || end[-1] == ',') {
        snprintf(why, sizeof(why), "the Redis URL names no %s, or ends with a comma: %s", what,
                 example);
        return fail(u, err, errlen, why);
    }
    return 0;
}

/* A Redis Cluster's seeds n1:6379,n2:6379 in [p, end); a path may only be
 * "/" or "/0": a cluster has database 0 alone. */
static int parse_seeds(sc_redis_url *u, const char *p, const char *end, const char *path,
                       char *err, size_t errlen)
{
    if (parse_hosts(u, p, end, 6379, "cluster node", "redis+cluster://n1:6379,n2:6379", err,
                    errlen) < 0)
        return -EINVAL;
    if (path && path[1] && strcmp(path, "/0") != 0)
        return fail(u, err, errlen, "a Redis Cluster has database 0 only: redis+cluster://n1:6379/0");
    u->host = sc_xstrdup(u->sentinel_host[0]);
    u->port = u->sentinel_port[0];
    return 0;
}

/* s1:26379,s2:26379 in [p, end), then /master[/db] in path. */
static int parse_sentinels(sc_redis_url *u, const char *p, const char *end, const char *path,
                           char *err, size_t errlen)
{
    if (parse_hosts(u, p, end, 26379, "sentinel", "redis+sentinel://s1:26379,s2:26379/mymaster",
                    err, errlen) < 0)
        return -EINVAL;
    const char *name = path && path[0] == '/' ? path + 1 : NULL;
    const char *slash = name ? strchr(name, '/') : NULL;
    size_t nlen = name ? (slash ? (size_t)(slash - name) : strlen(name)) : 0;
    if (!nlen)
        return fail(u, err, errlen,
                    "a sentinel URL names the primary: redis+sentinel://s1:26379,s2:26379/mymaster");
    u->master = sc_xstrndup(name, nlen);
    if (slash && slash[1] && parse_db(slash + 1, &u->db) < 0)
        return fail(u, err, errlen,
                    "Redis URL database must be a number: redis+sentinel://s1/mymaster/0");
    return 0;
}

static const char *scheme(sc_redis_url *u, const char *url)
{
    static const struct {
        const char *s;
        bool tls, sentinel, cluster;
    } kinds[] = {{"redis://", false, false, false},
                 {"rediss://", true, false, false},
                 {"redis+sentinel://", false, true, false},
                 {"rediss+sentinel://", true, true, false},
                 {"redis+cluster://", false, false, true},
                 {"rediss+cluster://", true, false, true}};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strncmp(url, kinds[i].s, strlen(kinds[i].s)) == 0) {
            u->tls = kinds[i].tls;
            u->sentinel = kinds[i].sentinel;
            u->cluster = kinds[i].cluster;
            return url + strlen(kinds[i].s);
        }
    return NULL;
}

static int parse_unix(sc_redis_url *u, const char *p, char *err, size_t errlen)
{
    const char *q = strchr(p, '?');
    u->path = q ? sc_xstrndup(p, (size_t)(q - p)) : sc_xstrdup(p);
    if (q && (strncmp(q, "?db=", 4) != 0 || parse_db(q + 4, &u->db) < 0))
        return fail(u, err, errlen, "unix URL takes ?db=N (a number): unix:///run/redis.sock?db=0");
    if (u->path[0] != '/')
        return fail(u, err, errlen, "unix URL needs an absolute path: unix:///run/redis.sock");
    return 0;
}

int sc_redis_url_parse(const char *url, sc_redis_url *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof(*u));
    u->port = 6379;
    if (strncmp(url, "unix://", 7) == 0)
        return parse_unix(u, url + 7, err, errlen);
    const char *p = scheme(u, url);
    if (!p)
        return fail(u, err, errlen,
                    "Redis URL must start with redis://, rediss:// (TLS), redis+sentinel://, "
                    "rediss+sentinel://, redis+cluster://, rediss+cluster:// or unix://");
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        /* as RFC 3986 userinfo: redis://user@host names a user and no password
         * (which then comes from redis_password_file); an empty one is none */
        if (colon) {
            if (colon > p)
                u->user = pct_decode(p, (size_t)(colon - p));
            if (at > colon + 1)
                u->password = pct_decode(colon + 1, (size_t)(at - colon - 1));
        } else if (at > p) {
            u->user = pct_decode(p, (size_t)(at - p));
        }
        p = at + 1;
    }
    const char *slash = strchr(p, '/');
    const char *end = slash ? slash : p + strlen(p);
    if (u->sentinel)
        return parse_sentinels(u, p, end, slash, err, errlen);
    if (u->cluster)
        return parse_seeds(u, p, end, slash, err, errlen);
    if (parse_hostport(p, end, 6379, &u->host, &u->port, err, errlen) < 0) {
        sc_redis_url_free(u);
        return -EINVAL;
    }
    if (slash && slash[1] && parse_db(slash + 1, &u->db) < 0)
        return fail(u, err, errlen, "Redis URL database must be a number: redis://host:6379/0");
    return 0;
}

void sc_redis_url_free(sc_redis_url *u)
{
    if (!u)
        return;
    free(u->host);
    free(u->path);
    free(u->user);
    free(u->master);
    for (int i = 0; i < u->nsentinels; i++)
        free(u->sentinel_host[i]);
    if (u->password)
        memset(u->password, 0, strlen(u->password));
    free(u->password);
    memset(u, 0, sizeof(*u));
}

const char *sc_redis_url_safe(const sc_redis_url *u)
{
    static char buf[320];
    if (u->sentinel)
        snprintf(buf, sizeof(buf), "%ssentinel:%s@%s:%d(+%d)/%d", u->tls ? "tls:" : "", u->master,
                 u->sentinel_host[0], u->sentinel_port[0], u->nsentinels - 1, u->db);
    else if (u->cluster)
        snprintf(buf, sizeof(buf), "%scluster:%s:%d(+%d)", u->tls ? "tls:" : "",
                 u->sentinel_host[0], u->sentinel_port[0], u->nsentinels - 1);
    else if (u->path)
        snprintf(buf, sizeof(buf), "unix:%s/%d", u->path, u->db);
    else
        snprintf(buf, sizeof(buf), "%s%s:%d/%d", u->tls ? "tls:" : "", u->host ? u->host : "?",
                 u->port, u->db);
    return buf;
}

void sc_redis_url_copy(sc_redis_url *dst, const sc_redis_url *src)
{
    *dst = *src;
    dst->host = src->host ? sc_xstrdup(src->host) : NULL;
    dst->path = src->path ? sc_xstrdup(src->path) : NULL;
    dst->user = src->user ? sc_xstrdup(src->user) : NULL;
    dst->password = src->password ? sc_xstrdup(src->password) : NULL;
    dst->master = src->master ? sc_xstrdup(src->master) : NULL;
    for (int i = 0; i < src->nsentinels; i++)
        dst->sentinel_host[i] = sc_xstrdup(src->sentinel_host[i]);
}
