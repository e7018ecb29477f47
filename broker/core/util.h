/* util: allocation wrappers that abort on out-of-memory (the only place the
 * daemon handles OOM), small string helpers and a monotonic clock.
 *
 * It keeps no state and is the bottom of every layer: it includes nothing
 * of sidecast and calls no other module, so everything may use it. */
#ifndef SC_UTIL_H
#define SC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Never return NULL: on allocation failure they log and abort(). */
void *sc_xmalloc(size_t n);
void *sc_xcalloc(size_t n, size_t size);
void *sc_xrealloc(void *p, size_t n);
char *sc_xstrdup(const char *s);
char *sc_xstrndup(const char *s, size_t n);

/* UTF-8 as RFC 3629 defines it: shortest forms only, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF. sc_utf8_seq: the length (1 to 4)
 * of the well-formed sequence starting at p, or 0 if p[0..avail) does not
 * start with one (avail 0 included). sc_utf8_valid: whether s[0..len) is
 * well-formed, in one O(len) pass; a NUL byte is U+0000 and valid. */
size_t sc_utf8_seq(const uint8_t *p, size_t avail);
bool sc_utf8_valid(const char *s, size_t len);

/* Monotonic time in microseconds. */
uint64_t sc_now_us(void);

/* Fill buf with n bytes from getrandom(); falls back to time+pid mixing. */
void sc_random_bytes(void *buf, size_t n);

#define SC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SC_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
