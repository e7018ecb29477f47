/* bench_util: see bench_util.h. */
#include "bench_util.h"

#include "sidecast.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *bench_prog = "bench";
volatile sig_atomic_t interrupted;

void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", bench_prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return -1;
}

int parse_double(const char *name, const char *s, double lo, double hi, double *ret)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return fail("--%s must be a number from %g to %g, not '%s'", name, lo, hi, s);
    *ret = v;
    return 0;
}

int parse_uint(const char *name, const char *s, unsigned lo, unsigned hi, unsigned *ret)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v < lo || v > hi)
        return fail("--%s must be a whole number from %u to %u, not '%s'", name, lo, hi, s);
    *ret = (unsigned)v;
    return 0;
}

void join_cmdline(int argc, char **argv, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < argc && at < len - 1; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? " " : "", argv[i]);
    buf[len - 1] = '\0';
}

/* ---- /proc readers ----------------------------------------------------------- */

int proc_cpu_ticks(pid_t pid, uint64_t *ret)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name (which may hold spaces): state is 3,
     * utime 14, stime 15. */
    char *p = strrchr(buf, ')');
    if (!p)
        return -EINVAL;
    p++;
    unsigned long long utime = 0, stime = 0;
    int field = 2;
    for (char *save = NULL, *t = strtok_r(p, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        field++;
        if (field == 14)
            utime = strtoull(t, NULL, 10);
        else if (field == 15) {
            stime = strtoull(t, NULL, 10);
            break;
        }
    }
    if (field != 15)
        return -EINVAL;
    *ret = utime + stime;
    return 0;
}

long proc_status_kb(pid_t pid, const char *name)
{
    char path[64], line[256];
    if (pid > 0)
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    else
        snprintf(path, sizeof(path), "/proc/self/status");
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    size_t nl = strlen(name);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, name, nl) == 0 && line[nl] == ':') {
            kb = strtol(line + nl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

void print_file(const char *path, FILE *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[1024];
    while (fgets(line, sizeof(line), f))
        fputs(line, out);
    fclose(f);
}

bool file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

/* ---- the daemon -------------------------------------------------------------- */

static void cleanup_dir(daemon_proc *d)
{
    if (!d->dir[0])
        return;
    if (d->keep) {
        fprintf(stderr, "%s: kept %s (daemon log: %s)\n", bench_prog, d->dir, d->log);
    } else {
        unlink(d->sock);
        unlink(d->log);
        rmdir(d->dir);
    }
    d->dir[0] = '\0';
}

int daemon_stop(daemon_proc *d)
{
    if (d->pid <= 0) {
        cleanup_dir(d);
        return 0;
    }
    int st = 0, rc = 0;
    kill(d->pid, SIGTERM);
    uint64_t end = now_ns() + STOP_TIMEOUT_NS;
    pid_t w = 0;
    while ((w = waitpid(d->pid, &st, WNOHANG)) == 0 && now_ns() < end)
        usleep(5000);
    if (w != d->pid) {
        kill(d->pid, SIGKILL);
        waitpid(d->pid, &st, 0);
        rc = fail("sidecastd (pid %d) did not exit within %llu s of SIGTERM; killed", (int)d->pid,
                  (unsigned long long)(STOP_TIMEOUT_NS / NS_PER_S));
    } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        rc = fail("sidecastd (pid %d) exited with %s %d", (int)d->pid,
                  WIFEXITED(st) ? "status" : "signal",
                  WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    }
    d->pid = -1;
    if (file_contains(d->log, "Sanitizer") || file_contains(d->log, "runtime error:"))
        rc = fail("sanitizer report in the sidecastd log");
    if (rc < 0) {
        fprintf(stderr, "---- sidecastd log %s ----\n", d->log);
        print_file(d->log, stderr);
        fprintf(stderr, "---- end of log ----\n");
    }
    cleanup_dir(d);
    return rc;
}

void no_error_cb(void *ud, int code, const char *message, const char *ref)
{
    (void)ud;
    fprintf(stderr, "%s: sidecastd refused a request: %s (code %d, ref %s)\n", bench_prog, message,
            code, ref);
}

int daemon_start(daemon_proc *d, const char *path, bool keep, int cpu,
                 const char *const *extra_args)
{
    memset(d, 0, sizeof(*d));
    d->pid = -1;
    d->keep = keep;
    snprintf(d->dir, sizeof(d->dir), "/tmp/sidecast-bench-XXXXXX");
    if (!mkdtemp(d->dir)) {
        d->dir[0] = '\0';
        return fail("mkdtemp: %s", strerror(errno));
    }
    snprintf(d->sock, sizeof(d->sock), "%s/sidecast.sock", d->dir);
    snprintf(d->log, sizeof(d->log), "%s/sidecastd.log", d->dir);
    char *argv[40] = {(char *)path, (char *)"--socket", d->sock, (char *)"--log-level",
                      (char *)"warn"};
    size_t argc = 5;
    for (size_t i = 0; extra_args && extra_args[i]; i++) {
        if (argc + 1 >= SC_BENCH_ARRAY_LEN(argv)) {
            cleanup_dir(d);
            return fail("too many sidecastd arguments");
        }
        argv[argc++] = (char *)extra_args[i];
    }
    argv[argc] = NULL;
    pid_t pid = fork();
    if (pid < 0) {
        cleanup_dir(d);
        return fail("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        signal(SIGINT, SIG_IGN); /* Ctrl-C stops the bench, which then stops us */
        if (cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            sched_setaffinity(0, sizeof(set), &set);
        }
        if (strchr(path, '/'))
            execv(path, argv);
        else
            execvp(path, argv);
        fprintf(stderr, "exec %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    d->pid = pid;
    uint64_t end = now_ns() + START_TIMEOUT_NS;
    for (unsigned attempt = 0; attempt < 100000 && now_ns() < end; attempt++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            d->pid = -1;
            fprintf(stderr, "---- sidecastd log ----\n");
            print_file(d->log, stderr);
            cleanup_dir(d);
            return fail("sidecastd (%s) exited during startup", path);
        }
        struct stat sb;
        if (stat(d->sock, &sb) == 0) {
            sc_client_options co = {.path = d->sock,
                                    .name = "bench-probe",
                                    .timeout_ms = 2000,
                                    .on_error = no_error_cb};
            sc_client *c = NULL;
            int r = sc_client_open(&co, &c);
            if (r == 0)
                r = sc_client_ping(c, 2000, NULL);
            sc_client_close(c);
            if (r == 0)
                return 0;
        }
        usleep(10000);
    }
    daemon_stop(d);
    return fail("sidecastd (%s) did not answer ping within %llu s", path,
                (unsigned long long)(START_TIMEOUT_NS / NS_PER_S));
}

/* ---- latency histogram --------------------------------------------------------- */

static unsigned hist_index(uint64_t v)
{
    if (v < 64)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v); /* >= 6 */
    unsigned shift = msb - 5u;
    return 64u + (msb - 6u) * HIST_SUB + (unsigned)((v >> shift) - HIST_SUB);
}

static uint64_t hist_mid(unsigned i)
{
    if (i < 64)
        return i;
    unsigned k = i - 64u, msb = k / HIST_SUB + 6u, shift = msb - 5u;
    uint64_t lo = (uint64_t)(HIST_SUB + k % HIST_SUB) << shift;
    return lo + ((1ull << shift) >> 1);
}

void hist_add(hist *h, uint64_t v)
{
    h->b[hist_index(v)]++;
    h->n++;
    if (v > h->max)
        h->max = v;
}

uint64_t hist_pct(const hist *h, double p)
{
    if (h->n == 0)
        return 0;
    uint64_t want = (uint64_t)(p * (double)h->n + 0.5), seen = 0;
    if (want < 1)
        want = 1;
    for (unsigned i = 0; i < HIST_N; i++) {
        seen += h->b[i];
        if (seen >= want)
            return SC_BENCH_MIN(hist_mid(i), h->max);
    }
    return h->max;
}

/* ---- formatting ------------------------------------------------------------------ */

const char *grp(double v)
{
    static char bufs[8][32];
    static unsigned at;
    char *out = bufs[at++ % 8];
    char tmp[32];
    bool neg = v < 0;
    unsigned long long u = (unsigned long long)((neg ? -v : v) + 0.5);
    int n = snprintf(tmp, sizeof(tmp), "%llu", u);
    int j = 0;
    if (neg)
        out[j++] = '-';
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            out[j++] = ',';
        out[j++] = tmp[i];
    }
    out[j] = '\0';
    return out;
}

int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}
