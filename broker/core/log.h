/* log: leveled logging to stderr or to a sink (journald, see notify.h), with a rate limiter for
 * messages that a misbehaving peer could otherwise trigger in a loop.
 *
 * It owns the level, the sink pointer and the stderr format. It includes nothing but util and
 * knows nothing of the journal: the daemon's sink is notify.c's, set with sc_log_set_sink. */
#ifndef SC_LOG_H
#define SC_LOG_H

#include <stddef.h>
#include <stdint.h>

typedef enum { SC_LOG_ERROR = 0, SC_LOG_WARN, SC_LOG_INFO, SC_LOG_DEBUG } sc_log_level;

/* Parse "error", "warn", "info", "debug"; returns 0 or -EINVAL. */
int sc_log_parse_level(const char *s, sc_log_level *ret);
const char *sc_log_level_name(sc_log_level l);
void sc_log_set_level(sc_log_level l);
sc_log_level sc_log_get_level(void);

/* Log one line. Control characters that reach it anyway (a string from
 * outside that a call site did not pass through SC_ESC) become '?', so no
 * message can start a second line. */
void sc_log(sc_log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A copy, for a log line or an Error message, of a string that came from
 * outside (a frame, a cluster message, a Redis reply): printable and
 * bounded. Backslash, newline, CR and tab become \\ \n \r \t; other control
 * bytes, DEL, and every byte that is not part of well-formed UTF-8 become
 * \xNN (lower-case hex); well-formed UTF-8 stays as it is. A copy longer than
 * len - 1 bytes is cut at a character boundary and ends in "...". Writes
 * into buf (len >= 4; always NUL-terminated) and returns buf; NULL becomes
 * "(null)". Reads at most about len bytes of s, however long s is. */
char *sc_log_escape(char *buf, size_t len, const char *s);

/* sc_log_escape into a buffer that lives until the end of the enclosing
 * block, for a printf-style argument:
 *     sc_warn("%s: socket %s refused", sc_conn_label(c), SC_ESC(sid)); */
#define SC_ESC_LEN 128
#define SC_ESC(s) sc_log_escape((char[SC_ESC_LEN]){0}, SC_ESC_LEN, (s))

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
