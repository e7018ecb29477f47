/* log: one line per event on stderr: "LEVEL message", or to the sink. Timestamps are left to
 * the collector (journald, docker) unless stderr is a terminal. */
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
