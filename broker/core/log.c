/* log: one line per event on stderr: "LEVEL message", or to the sink. Timestamps are left to
 * the collector (journald, docker) unless stderr is a terminal. Strings from outside are
 * escaped (sc_log_escape) before they reach a line, the same for both outputs. See log.h for
 * what it may not touch. */
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static sc_log_level current = SC_LOG_INFO;
static sc_log_sink_fn sink;
static const char *names[] = {"error", "warn", "info", "debug"};

int sc_log_parse_level(const char *s, sc_log_level *ret)
{
    for (size_t i = 0; i < SC_ARRAY_LEN(names); i++) {
        if (strcmp(s, names[i]) == 0) {
            *ret = (sc_log_level)i;
            return 0;
        }
    }
    if (strcmp(s, "warning") == 0) {
        *ret = SC_LOG_WARN;
        return 0;
    }
    return -EINVAL;
}

const char *sc_log_level_name(sc_log_level l)
{
    return (unsigned)l < SC_ARRAY_LEN(names) ? names[l] : "?";
}

void sc_log_set_level(sc_log_level l)
{
    current = l;
}

sc_log_level sc_log_get_level(void)
{
    return current;
}

void sc_log_set_sink(sc_log_sink_fn fn)
{
    sink = fn;
}

char *sc_log_escape(char *buf, size_t len, const char *s)
{
    if (len == 0)
        return buf;
    if (!s)
        s = "(null)";
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = (const uint8_t *)s;
    size_t cap = len - 1; /* bytes before the NUL */
    size_t o = 0;         /* bytes written */
    size_t keep = 0;      /* where "..." goes if the rest does not fit */
    while (*p) {
        char piece[4];
        size_t plen, in = 1;
        uint8_t b = *p;
        if (b == '\\' || b == '\n' || b == '\r' || b == '\t') {
            piece[0] = '\\';
            piece[1] = b == '\n' ? 'n' : b == '\r' ? 'r' : b == '\t' ? 't' : '\\';
            plen = 2;
        } else if (b >= 0x20 && b < 0x7f) {
            piece[0] = (char)b;
            plen = 1;
        } else if (b >= 0x80 && (in = sc_utf8_seq(p, strnlen((const char *)p, 4)))) {
            memcpy(piece, p, in);
            plen = in;
        } else {
            in = 1;
            piece[0] = '\\';
            piece[1] = 'x';
            piece[2] = hex[b >> 4];
            piece[3] = hex[b & 15];
            plen = 4;
        }
        if (o + plen > cap) { /* does not fit: cut at the last boundary with room for "..." */
            o = keep;
            size_t dots = SC_MIN(cap - o, (size_t)3);
            memcpy(buf + o, "...", dots);
            o += dots;
            break;
        }
        memcpy(buf + o, piece, plen);
        o += plen;
        p += in;
        if (cap >= 3 && o <= cap - 3)
            keep = o;
    }
    buf[o] = '\0';
    return buf;
}

/* The last guard against forged lines: a call site that logs a string from
 * outside without SC_ESC still cannot end the line early. */
static void neutralize(char *line)
{
    for (unsigned char *p = (unsigned char *)line; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
}

__attribute__((format(printf, 2, 0))) static void vlog(sc_log_level l, const char *fmt,
                                                    va_list ap)
{
    char line[2048];
    int n = 0;
    if (sink) {
        va_list cp;
        va_copy(cp, ap);
        vsnprintf(line, sizeof(line), fmt, cp);
        va_end(cp);
        neutralize(line);
        if (sink(l, line) == 0)
            return;
    }
    if (isatty(STDERR_FILENO)) {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        n = (int)strftime(line, sizeof(line), "%H:%M:%S ", &tm);
    }
    n += snprintf(line + n, sizeof(line) - (size_t)n, "%-5s ", sc_log_level_name(l));
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    neutralize(line + n);
    fprintf(stderr, "%s\n", line);
}

void sc_log(sc_log_level l, const char *fmt, ...)
{
    if (l > current)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(l, fmt, ap);
    va_end(ap);
}

void sc_log_rl(sc_ratelimit *rl, sc_log_level l, const char *fmt, ...)
{
    if (l > current)
        return;
    uint64_t now = sc_now_us();
    if (now - rl->window_start >= rl->interval_us) {
        if (rl->suppressed)
            sc_log(l, "(%llu similar messages suppressed)", (unsigned long long)rl->suppressed);
        rl->window_start = now;
        rl->emitted = 0;
        rl->suppressed = 0;
    }
    if (rl->emitted >= rl->burst) {
        rl->suppressed++;
        return;
    }
    rl->emitted++;
    va_list ap;
    va_start(ap, fmt);
    vlog(l, fmt, ap);
    va_end(ap);
}
