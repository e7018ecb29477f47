/* log: leveled logging to stderr or to a sink (journald, see notify.h), with a rate limiter for
 * messages that a misbehaving peer could otherwise trigger in a loop. */
#ifndef SC_LOG_H
#define SC_LOG_H

#include <stdint.h>

typedef enum { SC_LOG_ERROR = 0, SC_LOG_WARN, SC_LOG_INFO, SC_LOG_DEBUG } sc_log_level;

/* Parse "error", "warn", "info", "debug"; returns 0 or -EINVAL. */
int sc_log_parse_level(const char *s, sc_log_level *ret);
const char *sc_log_level_name(sc_log_level l);
void sc_log_set_level(sc_log_level l);
sc_log_level sc_log_get_level(void);

void sc_log(sc_log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Where formatted lines go instead of stderr (the daemon's journal sink,
 * notify.c): the sink gets the level and the message without a prefix and
 * returns 0, or negative to have the line written to stderr after all.
 * NULL restores stderr. The sink lives outside this file so that
 * libsidecast, which shares it, does not depend on libsystemd. */
typedef int (*sc_log_sink_fn)(sc_log_level l, const char *msg);
void sc_log_set_sink(sc_log_sink_fn fn);

/* Rate limiter state, one per call site (static). At most `burst` messages
 * per `interval_us`; the first message after a quiet period says how many
 * were suppressed. */
typedef struct sc_ratelimit {
    uint64_t interval_us;
    uint32_t burst;
    uint64_t window_start;
    uint32_t emitted;
    uint64_t suppressed;
} sc_ratelimit;

#define SC_RATELIMIT_INIT {5000000u, 10, 0, 0, 0}

void sc_log_rl(sc_ratelimit *rl, sc_log_level l, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define sc_error(...) sc_log(SC_LOG_ERROR, __VA_ARGS__)
#define sc_warn(...) sc_log(SC_LOG_WARN, __VA_ARGS__)
#define sc_info(...) sc_log(SC_LOG_INFO, __VA_ARGS__)
#define sc_debug(...)                                                                              \
    do {                                                                                           \
        if (sc_log_get_level() >= SC_LOG_DEBUG)                                                    \
            sc_log(SC_LOG_DEBUG, __VA_ARGS__);                                                     \
    } while (0)

/* Rate-limited log with a per-call-site limiter. */
#define sc_log_limited(level, ...)                                                                 \
    do {                                                                                           \
        static sc_ratelimit rl_ = SC_RATELIMIT_INIT;                                               \
        sc_log_rl(&rl_, level, __VA_ARGS__);                                                       \
    } while (0)

#endif
