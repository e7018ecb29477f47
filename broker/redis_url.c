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

int sc_redis_url_parse(const char *url, sc_redis_url *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof(*u));
    u->port = 6379;
    if (strncmp(url, "unix://", 7) == 0) {
        const char *p = url + 7, *q = strchr(p, '?');
        u->path = q ? sc_xstrndup(p, (size_t)(q - p)) : sc_xstrdup(p);
        if (q && strncmp(q, "?db=", 4) == 0)
            u->db = atoi(q + 4);
        if (u->path[0] != '/') {
            snprintf(err, errlen, "unix URL needs an absolute path: unix:///run/redis.sock");
            sc_redis_url_free(u);
            return -EINVAL;
        }
        return 0;
    }
    const char *p;
    if (strncmp(url, "redis://", 8) == 0) {
        p = url + 8;
    } else if (strncmp(url, "rediss://", 9) == 0) {
        p = url + 9;
        u->tls = true;
    } else {
        snprintf(err, errlen, "Redis URL must start with redis://, rediss:// (TLS) or unix://");
        return -EINVAL;
    }
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
    const char *hstart = p, *hend, *colon;
    if (*p == '[') { /* an IPv6 literal: redis://[::1]:6379 */
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (!rb) {
            snprintf(err, errlen, "Redis URL has an unclosed [: redis://[::1]:6379/0");
            sc_redis_url_free(u);
            return -EINVAL;
        }
        hstart = p + 1;
        hend = rb;
        if (rb + 1 < end && rb[1] != ':') {
            snprintf(err, errlen, "Redis URL: a port must follow ]: redis://[::1]:6379/0");
            sc_redis_url_free(u);
            return -EINVAL;
        }
        colon = rb + 1 < end ? rb + 1 : NULL;
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
        hend = colon ? colon : end;
    }
    if (hend == hstart) {
        snprintf(err, errlen, "Redis URL has no host: redis://host:6379/0");
        sc_redis_url_free(u);
        return -EINVAL;
    }
    u->host = sc_xstrndup(hstart, (size_t)(hend - hstart));
    if (colon) {
        char *e;
        long port = strtol(colon + 1, &e, 10);
        if (e != end || port <= 0 || port > 65535) {
            snprintf(err, errlen, "Redis URL port must be 1-65535");
            sc_redis_url_free(u);
            return -EINVAL;
        }
        u->port = (int)port;
    }
    if (slash && slash[1]) {
        char *e;
        long db = strtol(slash + 1, &e, 10);
        if (*e || db < 0 || db > 1000000) {
            snprintf(err, errlen, "Redis URL database must be a number: redis://host:6379/0");
            sc_redis_url_free(u);
            return -EINVAL;
        }
        u->db = (int)db;
    }
    return 0;
}

void sc_redis_url_free(sc_redis_url *u)
{
    if (!u)
        return;
    free(u->host);
    free(u->path);
    free(u->user);
    if (u->password)
        memset(u->password, 0, strlen(u->password));
    free(u->password);
    memset(u, 0, sizeof(*u));
}

const char *sc_redis_url_safe(const sc_redis_url *u)
{
    static char buf[320];
    if (u->path)
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
}
