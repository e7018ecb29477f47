/* util: the one place where out-of-memory is handled (by aborting: a sidecar
 * that cannot allocate cannot keep its bounds honest), plus UTF-8 checking,
 * clock and random. See util.h for what it may not touch. */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static void oom(size_t n)
{
    fprintf(stderr, "sidecast: out of memory allocating %zu bytes, aborting\n", n);
    abort();
}

void *sc_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *sc_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *sc_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *sc_xstrndup(const char *s, size_t n)
{
    char *p = sc_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *sc_xstrdup(const char *s)
{
    return sc_xstrndup(s, strlen(s));
}

size_t sc_utf8_seq(const uint8_t *p, size_t avail)
{
    if (avail == 0)
        return 0;
    uint8_t b = p[0];
    if (b < 0x80)
        return 1;
    /* The second byte's range depends on the first (RFC 3629, section 4):
     * E0 and F0 exclude overlong forms, ED surrogates, F4 what is above
     * U+10FFFF; C0, C1 and F5..FF never appear. */
    size_t n;
    uint8_t lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf)
        n = 2;
    else if (b >= 0xe0 && b <= 0xef) {
        n = 3;
        if (b == 0xe0)
            lo = 0xa0;
        else if (b == 0xed)
            hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
        n = 4;
        if (b == 0xf0)
            lo = 0x90;
        else if (b == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (avail < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

bool sc_utf8_valid(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + len;
    while (p < end) {
        if (*p < 0x80) { /* ASCII: the common case, one byte at a time */
            p++;
            continue;
        }
        size_t n = sc_utf8_seq(p, (size_t)(end - p));
        if (n == 0)
            return false;
        p += n;
    }
    return true;
}

uint64_t sc_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void sc_random_bytes(void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        p += r;
        n -= (size_t)r;
    }
    /* getrandom() only fails on ancient kernels; still never leave it zero. */
    uint64_t x = sc_now_us() ^ ((uint64_t)getpid() << 32);
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
}
