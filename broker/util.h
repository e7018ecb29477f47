/* util: allocation wrappers that abort on out-of-memory (the only place the
 * daemon handles OOM), small string helpers and a monotonic clock. */
#ifndef SC_UTIL_H
#define SC_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Never return NULL: on allocation failure they log and abort(). */
void *sc_xmalloc(size_t n);
void *sc_xcalloc(size_t n, size_t size);
void *sc_xrealloc(void *p, size_t n);
char *sc_xstrdup(const char *s);
char *sc_xstrndup(const char *s, size_t n);

/* Monotonic time in microseconds. */
uint64_t sc_now_us(void);

/* Fill buf with n bytes from getrandom(); falls back to time+pid mixing. */
void sc_random_bytes(void *buf, size_t n);

#define SC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SC_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
