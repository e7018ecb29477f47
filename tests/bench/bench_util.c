/* bench_util: see bench_util.h. */
#include "bench_util.h"

#include "sidecast.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
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

int parse_bench_options(int argc, char **argv, const bench_opt *opts, size_t n,
                        void (*usage)(FILE *out))
{
    struct option lo[64];
    if (n + 2 > SC_BENCH_ARRAY_LEN(lo))
        return fail("too many options");
    for (size_t i = 0; i < n; i++)
        lo[i] = (struct option){opts[i].name,
                                opts[i].kind == OPT_FLAG ? no_argument : required_argument, NULL,
                                1000 + (int)i};
    lo[n] = (struct option){"help", no_argument, NULL, 'h'};
    lo[n + 1] = (struct option){NULL, 0, NULL, 0};
    int c, r = 0;
    while (r == 0 && (c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 1;
        }
        if (c < 1000 || c >= 1000 + (int)n) {
            usage(stderr);
            return -1;
        }
        const bench_opt *op = &opts[c - 1000];
        switch (op->kind) {
        case OPT_STR: *(const char **)op->val = optarg; break;
        case OPT_FLAG: *(bool *)op->val = true; break;
        case OPT_UINT:
            r = parse_uint(op->name, optarg, (unsigned)op->lo, (unsigned)op->hi, op->val);
            break;
        case OPT_DOUBLE: r = parse_double(op->name, optarg, op->lo, op->hi, op->val); break;
        }
    }
    if (r == 0 && optind < argc) {
        fail("unexpected argument '%s'", argv[optind]);
        r = -1;
    }
    return r;
}

void join_cmdline(int argc, char **argv, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < argc && at < len - 1; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? " " : "", argv[i]);
    buf[len - 1] = '\0';
}

void bench_begin(bench_run *r, int argc, char **argv, const char *sidecastd, bool dated,
                 const char *where, const char *what, ...)
{
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {0};
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);

    join_cmdline(argc, argv, r->cmdline, sizeof(r->cmdline));
    r->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    time_t now = time(NULL);
    strftime(r->when, sizeof(r->when), "%Y-%m-%d %H:%M UTC", gmtime(&now));
    r->load[0] = r->load[1] = r->load[2] = 0;
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (fscanf(lf, "%lf %lf %lf", &r->load[0], &r->load[1], &r->load[2]) != 3)
            r->load[0] = r->load[1] = r->load[2] = 0;
        fclose(lf);
    }
    va_list ap;
    va_start(ap, what);
    printf("sidecast %s: ", bench_prog);
    vprintf(what, ap);
    va_end(ap);
    printf(" (build %s, %ld CPUs%s)\n", SC_BUILD_TYPE, r->ncpu, where);
    printf("command: %s\n", r->cmdline);
    if (dated)
        printf("date: %s, load average %.2f %.2f %.2f at the start\n", r->when, r->load[0],
               r->load[1], r->load[2]);
    printf("sidecastd: %s\n", sidecastd);
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

int proc_sched_ns(pid_t pid, uint64_t *ret)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -errno;
    uint64_t sum = 0;
    unsigned n = 0;
    struct dirent *e;
    for (unsigned i = 0; i < 4096 && (e = readdir(d)) != NULL; i++) {
        if (e->d_name[0] == '.')
            continue;
        char p[300];
        snprintf(p, sizeof(p), "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
        FILE *f = fopen(p, "r");
        if (!f)
            continue; /* the thread exited meanwhile */
        unsigned long long v = 0;
        if (fscanf(f, "%llu", &v) == 1) {
            sum += v;
            n++;
        }
        fclose(f);
    }
    closedir(d);
    if (!n)
        return -ENOENT;
    *ret = sum;
    return 0;
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

/* ---- child processes ---------------------------------------------------------- */

void child_exec(const char *const *argv, const char *out)
{
    if (out) {
        int fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
    }
    signal(SIGINT, SIG_IGN);
    if (strchr(argv[0], '/'))
        execv(argv[0], (char **)argv);
    else
        execvp(argv[0], (char **)argv);
    fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int run_bounded(const char *const *argv, const char *out, uint64_t timeout_ns)
{
    pid_t pid = fork();
    if (pid < 0)
        return fail("fork: %s", strerror(errno));
    if (pid == 0) {
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (nul >= 0)
            dup2(nul, STDIN_FILENO);
        child_exec(argv, out);
    }
    uint64_t end = now_ns() + timeout_ns;
    int st = 0;
    pid_t w = 0;
    for (unsigned i = 0; i < 100000 && (w = waitpid(pid, &st, WNOHANG)) == 0 && now_ns() < end; i++)
        usleep(2000);
    if (w != pid) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        return fail("%s (pid %d) still running after %llu s; killed", argv[0], (int)pid,
                    (unsigned long long)(timeout_ns / NS_PER_S));
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "---- %s output ----\n", argv[0]);
        print_file(out, stderr);
        return fail("%s %s exited with %s %d", argv[0], argv[1],
                    WIFEXITED(st) ? "status" : "signal",
                    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    }
    return 0;
}

/* ---- CPU time of a set of processes ------------------------------------------- */

int cpu_read(const pid_t *pids, size_t n, cpu_snap *s)
{
    s->have_ns = true;
    for (size_t i = 0; i < n && i < CPU_PROCS_MAX; i++) {
        int r = proc_cpu_ticks(pids[i], &s->ticks[i]);
        if (r < 0)
            return fail("cannot read /proc/%d/stat: %s", (int)pids[i], strerror(-r));
        if (proc_sched_ns(pids[i], &s->ns[i]) < 0 || s->ns[i] == 0)
            s->have_ns = false;
    }
    s->self_s = self_cpu_s();
    return 0;
}

void cpu_per_message(const cpu_snap *a, const cpu_snap *b, size_t n, uint64_t messages, cpu_use *u)
{
    double tck = (double)sysconf(_SC_CLK_TCK), msgs = messages ? (double)messages : 1;
    u->have_ns = a->have_ns && b->have_ns;
    u->min_ticks = UINT64_MAX;
    for (size_t i = 0; i < n && i < CPU_PROCS_MAX; i++) {
        u->min_ticks = SC_BENCH_MIN(u->min_ticks, b->ticks[i] - a->ticks[i]);
        u->tick_us[i] = (double)(b->ticks[i] - a->ticks[i]) / tck * 1e6 / msgs;
        u->ns_us[i] = (double)(b->ns[i] - a->ns[i]) / 1e3 / msgs;
    }
    u->self_us = (b->self_s - a->self_s) * 1e6 / msgs;
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
    /* an HTTP endpoint on a free port: several nodes share the host */
    char *argv[40] = {(char *)path,          (char *)"--socket", d->sock,
                      (char *)"--log-level", (char *)"warn",     (char *)"--http-listen",
                      (char *)"127.0.0.1:0"};
    size_t argc = 7;
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
        if (cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            sched_setaffinity(0, sizeof(set), &set);
        }
        child_exec((const char *const *)argv, d->log);
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

/* ---- RESP connection (raw socket, hiredis's reply parser) ------------------- */

/* A connected TCP socket to 127.0.0.1:port (nonblocking, TCP_NODELAY), or -1. */
int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

int conn_open(resp_conn *c, int port)
{
    memset(c, 0, sizeof(*c));
    c->fd = tcp_connect(port);
    if (c->fd < 0)
        return -1;
    c->rd = redisReaderCreate();
    if (!c->rd) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

void conn_close(resp_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    if (c->rd)
        redisReaderFree(c->rd);
    c->rd = NULL;
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = c->out_cap = 0;
}

int conn_queue(resp_conn *c, const char *p, size_t n)
{
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_len + n > c->out_cap) {
        if (c->out_off) { /* compact first */
            memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
            c->out_len -= c->out_off;
            c->out_off = 0;
        }
        if (c->out_len + n > c->out_cap) {
            size_t cap = c->out_cap ? c->out_cap : 65536;
            while (cap < c->out_len + n)
                cap *= 2;
            char *o = realloc(c->out, cap);
            if (!o)
                return -ENOMEM;
            c->out = o;
            c->out_cap = cap;
        }
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return 0;
}

bool conn_wants_write(const resp_conn *c)
{
    return c->out_off < c->out_len;
}

/* 0 all written, 1 some remain, negative errno. */
int conn_flush(resp_conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 1;
            return -errno;
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    return 0;
}

/* Read what is available into the parser. 0, or -EPIPE at EOF / error. */
int conn_read(resp_conn *c)
{
    static char buf[READ_CHUNK];
    ssize_t n = read(c->fd, buf, sizeof(buf));
    if (n == 0) {
        c->eof = true;
        return -EPIPE;
    }
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -EPIPE;
    if (redisReaderFeed(c->rd, buf, (size_t)n) != REDIS_OK)
        return -EPROTO;
    return 0;
}

/* Next complete reply (1), none yet (0), or a protocol error (-EPROTO). */
int conn_next(resp_conn *c, redisReply **ret)
{
    void *r = NULL;
    if (redisReaderGetReply(c->rd, &r) != REDIS_OK)
        return -EPROTO;
    *ret = r;
    return r != NULL;
}

/* Send one command and wait (bounded) for its reply. */
int conn_command(resp_conn *c, int argc, const char **argv, redisReply **ret)
{
    *ret = NULL;
    char *cmd = NULL;
    int len = redisFormatCommandArgv(&cmd, argc, argv, NULL);
    if (len < 0)
        return -ENOMEM;
    int r = conn_queue(c, cmd, (size_t)len);
    redisFreeCommand(cmd);
    if (r < 0)
        return r;
    uint64_t end = now_ns() + IO_TIMEOUT_NS;
    for (unsigned it = 0; it < 1000000 && now_ns() < end && !interrupted; it++) {
        if ((r = conn_flush(c)) < 0)
            return r;
        if ((r = conn_next(c, ret)) != 0)
            return r < 0 ? r : 0;
        struct pollfd p = {c->fd, (short)(POLLIN | (conn_wants_write(c) ? POLLOUT : 0)), 0};
        if (poll(&p, 1, 100) > 0 && (p.revents & ~POLLOUT) && (r = conn_read(c)) < 0)
            return r;
    }
    return -ETIMEDOUT;
}

/* ---- redis-server ------------------------------------------------------------ */

int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* The files it writes in its directory besides log and out. */
static void redis_remove_files(redis_proc *r)
{
    for (size_t i = 0; r->files && r->files[i] && i < 64; i++) {
        char p[192];
        snprintf(p, sizeof(p), "%s/%s", r->dir, r->files[i]);
        unlink(p);
    }
}

static void redis_cleanup_dir(redis_proc *r)
{
    if (!r->dir[0])
        return;
    if (r->keep) {
        fprintf(stderr, "%s: kept %s (redis log: %s)\n", bench_prog, r->dir, r->log);
    } else {
        redis_remove_files(r);
        unlink(r->log);
        unlink(r->out);
        rmdir(r->dir);
    }
    r->dir[0] = '\0';
}

/* SIGTERM by pid, wait (bounded), SIGKILL if it does not exit. 0 or -1. */
static int redis_kill(redis_proc *r)
{
    int rc = 0;
    if (r->pid > 0) {
        int st = 0;
        kill(r->pid, SIGTERM);
        uint64_t end = now_ns() + REDIS_STOP_TIMEOUT_NS;
        pid_t w = 0;
        while ((w = waitpid(r->pid, &st, WNOHANG)) == 0 && now_ns() < end)
            usleep(5000);
        if (w != r->pid) {
            kill(r->pid, SIGKILL);
            waitpid(r->pid, &st, 0);
            rc = fail("redis-server (pid %d) did not exit within %llu s of SIGTERM; killed",
                      (int)r->pid, (unsigned long long)(REDIS_STOP_TIMEOUT_NS / NS_PER_S));
        }
        r->pid = -1;
    }
    return rc;
}

int redis_stop(redis_proc *r)
{
    int rc = redis_kill(r);
    redis_cleanup_dir(r);
    return rc;
}

bool redis_pings(int port)
{
    resp_conn c;
    redisReply *rep = NULL;
    bool ok = conn_open(&c, port) == 0 &&
              conn_command(&c, 1, (const char *[]){"PING"}, &rep) == 0 && rep &&
              rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "PONG") == 0;
    if (rep)
        freeReplyObject(rep);
    conn_close(&c);
    return ok;
}

int redis_prepare(redis_proc *r, const char *tag, bool keep)
{
    memset(r, 0, sizeof(*r));
    r->pid = -1;
    r->keep = keep;
    snprintf(r->dir, sizeof(r->dir), "/tmp/sidecast-bench-%s-XXXXXX", tag);
    if (!mkdtemp(r->dir)) {
        r->dir[0] = '\0';
        return fail("mkdtemp: %s", strerror(errno));
    }
    snprintf(r->log, sizeof(r->log), "%s/redis.log", r->dir);
    snprintf(r->out, sizeof(r->out), "%s/redis.out", r->dir);
    return 0;
}

/* redis_version from INFO server into r->version ("?" if it does not say). */
static void redis_read_version(redis_proc *r)
{
    redisReply *ver = redis_query(r->port, 2, (const char *[]){"INFO", "server"});
    const char *vs =
        ver && ver->type == REDIS_REPLY_STRING ? strstr(ver->str, "redis_version:") : NULL;
    snprintf(r->version, sizeof(r->version), "%.*s", vs ? (int)strcspn(vs + 14, "\r\n") : 1,
             vs ? vs + 14 : "?");
    if (ver)
        freeReplyObject(ver);
}

/* Up and ready: PING answered, and port2 (if any) accepting. */
static bool redis_ready(const redis_proc *r)
{
    if (!redis_pings(r->port))
        return false;
    if (r->port2 <= 0)
        return true;
    int fd = tcp_connect(r->port2);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

int redis_launch(redis_proc *r, const char *path, const char *const *extra)
{
    bool two = false;
    size_t nextra = 0;
    for (; extra && extra[nextra]; nextra++)
        two = two || strcmp(extra[nextra], REDIS_ARG_PORT2) == 0;
    const char *base[] = {"--bind", "127.0.0.1", "--save",    "",     "--appendonly", "no",
                          "--dir",  r->dir,      "--logfile", r->log, "--daemonize",  "no"};
    const char *argv[64];
    if (3 + SC_BENCH_ARRAY_LEN(base) + nextra + 1 > SC_BENCH_ARRAY_LEN(argv))
        return fail("too many redis-server arguments");
    for (int attempt = 0; attempt < 3; attempt++) {
        r->port = free_port();
        r->port2 = 0;
        for (int k = 0; two && k < 50 && (r->port2 <= 0 || r->port2 == r->port); k++)
            r->port2 = free_port();
        if (r->port <= 0 || (two && (r->port2 <= 0 || r->port2 == r->port)))
            return fail("no free TCP ports on 127.0.0.1");
        snprintf(r->url, sizeof(r->url), "redis://127.0.0.1:%d", r->port);
        redis_remove_files(r); /* a failed attempt's */
        char port[16], port2[16];
        snprintf(port, sizeof(port), "%d", r->port);
        snprintf(port2, sizeof(port2), "%d", r->port2);
        size_t a = 0;
        argv[a++] = path;
        argv[a++] = "--port";
        argv[a++] = port;
        for (size_t i = 0; i < SC_BENCH_ARRAY_LEN(base); i++)
            argv[a++] = base[i];
        for (size_t i = 0; i < nextra; i++)
            argv[a++] = strcmp(extra[i], REDIS_ARG_PORT2) == 0 ? port2 : extra[i];
        argv[a] = NULL;
        pid_t pid = fork();
        if (pid < 0)
            return fail("fork: %s", strerror(errno));
        if (pid == 0)
            child_exec(argv, r->out);
        r->pid = pid;
        uint64_t end = now_ns() + REDIS_START_TIMEOUT_NS;
        bool exited = false;
        for (unsigned i = 0; i < 10000 && now_ns() < end && !interrupted; i++) {
            int st;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                r->pid = -1;
                exited = true;
                break;
            }
            if (redis_ready(r)) {
                redis_read_version(r);
                return 0;
            }
            usleep(10000);
        }
        if (!exited) {
            redis_kill(r);
            return fail("redis-server (%s) did not answer %s within %llu s", path,
                        two ? "on both ports" : "PING",
                        (unsigned long long)(REDIS_START_TIMEOUT_NS / NS_PER_S));
        }
        if (file_contains(r->out, "exec ")) /* not installed: no point retrying */
            break;
    }
    fprintf(stderr, "---- redis-server output ----\n");
    print_file(r->out, stderr);
    print_file(r->log, stderr);
    return fail("redis-server (%s) exited during startup", path);
}

int redis_start(redis_proc *r, const char *path, bool keep)
{
    if (redis_prepare(r, "redis", keep) < 0)
        return -1;
    if (redis_launch(r, path, NULL) < 0) {
        redis_stop(r);
        return -1;
    }
    return 0;
}

/* One-shot command on a fresh connection; the caller frees the reply. */
redisReply *redis_query(int port, int argc, const char **argv)
{
    resp_conn c;
    redisReply *rep = NULL;
    if (conn_open(&c, port) == 0 && conn_command(&c, argc, argv, &rep) < 0)
        rep = NULL;
    conn_close(&c);
    return rep;
}

void parse_cmdstat(const char *info, const char *cmd, uint64_t *calls, uint64_t *usec)
{
    char needle[64];
    snprintf(needle, sizeof(needle), "cmdstat_%s:calls=", cmd);
    const char *p = strstr(info, needle);
    *calls = *usec = 0;
    if (!p)
        return;
    *calls = strtoull(p + strlen(needle), NULL, 10);
    const char *u = strstr(p, "usec=");
    if (u)
        *usec = strtoull(u + 5, NULL, 10);
}

/* ---- two sidecastd nodes: app E emits on node 1, app R receives on node 2 ---- */

uint64_t stat_or_zero(sc_client *c, const char *name)
{
    uint64_t v = 0;
    if (sc_client_stat(c, name, &v) < 0)
        fail("stat %s: %s", name, sc_client_last_error(c));
    return v;
}

static bool pair_on_delivery(void *ud, const sc_delivery *d)
{
    bench_pair *p = ud;
    if (d->len < 8) {
        p->bad++;
        return false;
    }
    uint64_t seq;
    memcpy(&seq, d->payload, 8);
    if (seq == PROBE_SEQ) {
        uint32_t k = 0;
        if (d->len >= 12)
            memcpy(&k, d->payload + 8, 4);
        if (k < p->nto && !p->probe_seen[k]) {
            p->probe_seen[k] = true;
            p->nprobe_seen++;
        }
        return false;
    }
    unsigned k = (unsigned)(seq % p->nto);
    if (d->to.n_rooms != 1 || strcmp(d->to.rooms[0], p->to[k].rooms[0]) != 0)
        p->bad++;
    if (seq != p->next[k])
        p->reordered++;
    p->next[k] = seq + p->nto;
    p->received++;
    return false; /* no per-socket resolution: one Deliver frame = one room delivery */
}

static void pair_on_error(void *ud, int code, const char *message, const char *ref)
{
    ((bench_pair *)ud)->errors++;
    no_error_cb(ud, code, message, ref);
}

static void pair_on_gap(void *ud, uint64_t from, uint64_t to, const char *reason)
{
    ((bench_pair *)ud)->errors++;
    fail("%s: sidecastd reports a pub/sub gap of %" PRIu64 " ms: %s", ((bench_pair *)ud)->name,
         to - from, reason);
}

int open_apps(const char *e_sock, const char *r_sock, const sc_client_options *cb,
              const char *label, sc_client **e, sc_client **r)
{
    bool two = strcmp(e_sock, r_sock) != 0;
    sc_client_options ro = *cb, eo = {.on_error = cb->on_error, .on_gap = cb->on_gap, .ud = cb->ud};
    ro.path = r_sock;
    ro.name = "bench-receiver";
    ro.nonblocking = true;
    eo.path = e_sock;
    eo.name = "bench-emitter";
    eo.nonblocking = true;
    if (sc_client_open(&ro, r) < 0)
        return fail("%sreceiver%s: %s", label, two ? " on node 2" : "", sc_client_last_error(*r));
    if (sc_client_open(&eo, e) < 0)
        return fail("%semitter%s: %s", label, two ? " on node 1" : "", sc_client_last_error(*e));
    return 0;
}

int pair_start(bench_pair *p, const pair_options *opt, const sc_target *to, unsigned nto,
               const char *path, bool keep, const char *const *args)
{
    p->opt = opt;
    p->to = to;
    p->nto = nto;
    p->n1.pid = p->n2.pid = -1;
    p->e = p->r = NULL;
    p->seq_next = p->received = p->bad = p->reordered = p->errors = 0;
    p->nprobe_seen = 0;
    p->next = calloc(nto, sizeof(*p->next));
    p->probe_seen = calloc(nto, sizeof(*p->probe_seen));
    if (!p->next || !p->probe_seen)
        return fail("out of memory");
    for (unsigned k = 0; k < nto; k++)
        p->next[k] = k;
    const char *argv[2][40];
    char names[2][48];
    for (size_t k = 0; k < 2; k++) {
        size_t a = 0;
        for (; args && args[a] && a + 3 < SC_BENCH_ARRAY_LEN(argv[k]); a++)
            argv[k][a] = args[a];
        snprintf(names[k], sizeof(names[k]), "bench-%s-%zu", p->name, k + 1);
        argv[k][a++] = "--node-name";
        argv[k][a++] = names[k];
        argv[k][a] = NULL;
    }
    if (daemon_start(&p->n1, path, keep, -1, argv[0]) < 0 ||
        daemon_start(&p->n2, path, keep, -1, argv[1]) < 0)
        return fail("%s: sidecastd did not start", p->name);
    const sc_client_options cb = {
        .on_delivery = pair_on_delivery, .on_error = pair_on_error, .on_gap = pair_on_gap, .ud = p};
    char label[64];
    snprintf(label, sizeof(label), "%s: ", p->name);
    if (open_apps(p->n1.sock, p->n2.sock, &cb, label, &p->e, &p->r) < 0)
        return -1;
    const char **rooms = calloc(nto, sizeof(*rooms));
    if (!rooms)
        return fail("out of memory");
    for (unsigned k = 0; k < nto; k++)
        rooms[k] = to[k].rooms[0];
    int rc = register_members(p->r, nto, rooms, nto);
    free(rooms);
    return rc;
}

/* One poll of both connections (timeout_ms), reading what arrived. */
static int pair_poll(bench_pair *p, int timeout_ms)
{
    struct pollfd f[2] = {{sc_client_fd(p->r), POLLIN, 0}, {sc_client_fd(p->e), POLLIN, 0}};
    if (sc_client_wants_write(p->e))
        f[1].events |= POLLOUT;
    int n = poll(f, 2, timeout_ms);
    if (n < 0 && errno != EINTR)
        return fail("poll: %s", strerror(errno));
    if (n <= 0)
        return 0;
    if (f[0].revents && sc_client_read(p->r) < 0)
        return fail("%s: receiver: %s", p->name, sc_client_last_error(p->r));
    if ((f[1].revents & POLLOUT) && sc_client_flush(p->e) < 0)
        return fail("%s: emitter flush: %s", p->name, sc_client_last_error(p->e));
    if ((f[1].revents & ~POLLOUT) && sc_client_read(p->e) < 0)
        return fail("%s: emitter: %s", p->name, sc_client_last_error(p->e));
    return 0;
}

/* Polls for `ns` without emitting (late reads). */
static int pair_idle(bench_pair *p, uint64_t ns)
{
    uint64_t end = now_ns() + ns;
    for (unsigned i = 0; i < 100000 && !interrupted; i++) {
        uint64_t now = now_ns();
        if (now >= end)
            break;
        int ms = (int)SC_BENCH_MIN((end - now) / 1000000 + 1, 100);
        if (pair_poll(p, ms) < 0)
            return -1;
    }
    return 0;
}

uint8_t *probe_payload(size_t len)
{
    uint8_t *p = calloc(1, len < 8 ? 8 : len);
    if (!p) {
        fail("out of memory");
        return NULL;
    }
    uint64_t probe = PROBE_SEQ;
    memcpy(p, &probe, 8);
    return p;
}

int pair_wait_ready(bench_pair *p, uint64_t every_ns, uint64_t quiet_ns, uint64_t timeout_ns)
{
    unsigned len = p->opt->payload;
    uint8_t *buf = probe_payload(len);
    if (!buf)
        return -1;
    uint64_t end = now_ns() + timeout_ns, quiet_until = 0, next_probe = 0;
    int rc = -1;
    for (uint64_t it = 0; it < MAX_LOOP_ITERATIONS && !interrupted && !p->errors; it++) {
        uint64_t now = now_ns();
        if (p->nprobe_seen == p->nto && !quiet_until)
            quiet_until = now + quiet_ns;
        if (quiet_until && now >= quiet_until) {
            rc = 0;
            break;
        }
        if (now >= end) {
            fail("%s: %u of %u rooms answered a probe within %llu s (see the sidecastd logs)",
                 p->name, p->nprobe_seen, p->nto, (unsigned long long)(timeout_ns / NS_PER_S));
            break;
        }
        if (!quiet_until && now >= next_probe) {
            for (uint32_t k = 0; k < p->nto; k++) {
                if (p->probe_seen[k])
                    continue;
                if (len >= 12)
                    memcpy(buf + 8, &k, 4);
                int r = sc_client_emit(p->e, &p->to[k], NULL, buf, len);
                if (r == -ENOBUFS)
                    break;
                if (r < 0) {
                    fail("%s: emit: %s", p->name, sc_client_last_error(p->e));
                    goto out;
                }
            }
            next_probe = now + every_ns;
        }
        if (sc_client_flush(p->e) < 0) {
            fail("%s: emitter flush: %s", p->name, sc_client_last_error(p->e));
            break;
        }
        if (pair_poll(p, 10) < 0)
            break;
    }
out:
    free(buf);
    return rc;
}

/* 0 to go on with a round, or -1 after printing why it stops. */
static int pair_check(bench_pair *p, uint64_t deadline, uint64_t got, uint64_t n)
{
    if (interrupted)
        return fail("interrupted");
    if (p->errors)
        return fail("%s: errors reported (see above)", p->name);
    if (p->reordered || p->bad)
        return fail("%s: %" PRIu64
                    " messages out of order, repeated or lost in their room, %" PRIu64
                    " in the wrong room or malformed; node 2 counts cluster_late_skipped %" PRIu64
                    ", cluster_duplicates_skipped %" PRIu64,
                    p->name, p->reordered, p->bad, stat_or_zero(p->r, "cluster_late_skipped"),
                    stat_or_zero(p->r, "cluster_duplicates_skipped"));
    if (now_ns() >= deadline)
        return fail("%s: %" PRIu64 " of %" PRIu64 " messages received after %.0f s "
                    "(--round-timeout)",
                    p->name, got, n, p->opt->round_timeout);
    return 0;
}

int pair_run(bench_pair *p, uint64_t n, double *secs)
{
    const pair_options *o = p->opt;
    uint8_t *payload = malloc(o->payload);
    if (!payload)
        return fail("out of memory");
    memset(payload, 'x', o->payload);
    int rc = 0;
    uint64_t rx0 = p->received, sent = 0, got = 0, last_rx = 0;
    uint64_t t0 = now_ns();
    uint64_t deadline = t0 + (uint64_t)(o->round_timeout * (double)NS_PER_S);
    uint64_t it;
    for (it = 0; it < MAX_LOOP_ITERATIONS; it++) {
        got = p->received - rx0;
        if (got >= n || (rc = pair_check(p, deadline, got, n)) < 0)
            break;
        while (sent < n && sent - got < o->window) {
            uint64_t seq = p->seq_next;
            memcpy(payload, &seq, 8);
            int r = sc_client_emit(p->e, &p->to[seq % p->nto], NULL, payload, o->payload);
            if (r == -ENOBUFS)
                break; /* output queue full: wait for the socket */
            if (r < 0) {
                rc = fail("%s: emit: %s", p->name, sc_client_last_error(p->e));
                goto out;
            }
            p->seq_next++;
            sent++;
        }
        if (sc_client_flush(p->e) < 0) {
            rc = fail("%s: emitter flush: %s", p->name, sc_client_last_error(p->e));
            break;
        }
        uint64_t before = p->received;
        if (pair_poll(p, 100) < 0) {
            rc = -1;
            break;
        }
        if (p->received != before)
            last_rx = now_ns();
    }
    if (it == MAX_LOOP_ITERATIONS)
        rc = fail("%s: loop bound reached", p->name);
out:
    free(payload);
    got = p->received - rx0;
    if (rc == 0 && got != n)
        rc = fail("%s: sent %" PRIu64 " but received %" PRIu64, p->name, sent, got);
    if (rc == 0 && (p->bad || p->reordered))
        rc = fail("%s: %" PRIu64 " foreign payloads or in the wrong room, %" PRIu64
                  " out of order or repeated",
                  p->name, p->bad, p->reordered);
    if (rc == 0 && secs) {
        double s = (double)((last_rx ? last_rx : now_ns()) - t0) / (double)NS_PER_S;
        *secs = s > 0 ? s : 1e-9;
    }
    return rc;
}

int pair_round(bench_pair *p, uint64_t n, const pid_t *pids, size_t np, cpu_use *cpu, double *secs)
{
    cpu_snap c0 = {0}, c1 = {0};
    if (cpu_read(pids, np, &c0) < 0 || pair_run(p, n, secs) < 0 ||
        pair_idle(p, PAIR_SETTLE_NS) < 0 || cpu_read(pids, np, &c1) < 0)
        return -1;
    cpu_per_message(&c0, &c1, np, n, cpu);
    return 0;
}

int pair_alternate(bench_pair *const pairs[2], uint64_t quiet_ns,
                   int (*round)(bench_pair *p, unsigned r))
{
    for (unsigned r = 0; r < pairs[0]->opt->rounds; r++)
        for (unsigned j = 0; j < 2; j++)
            if (round(pairs[(r + j) % 2], r) < 0)
                return -1;
    for (size_t k = 0; k < 2; k++)
        if (pair_quiet(pairs[k], quiet_ns) < 0)
            return -1;
    return 0;
}

int pair_quiet(bench_pair *p, uint64_t ns)
{
    uint64_t before = p->received;
    if (pair_idle(p, ns) < 0)
        return -1;
    if (p->received != before || p->reordered || p->bad)
        return fail("%s: %" PRIu64 " messages arrived after the last round", p->name,
                    p->received - before);
    return 0;
}

int pair_stop(bench_pair *p)
{
    sc_client_close(p->e);
    sc_client_close(p->r);
    p->e = p->r = NULL;
    int rc = 0;
    if (daemon_stop(&p->n1) < 0)
        rc = -1;
    if (daemon_stop(&p->n2) < 0)
        rc = -1;
    free(p->next);
    free(p->probe_seen);
    p->next = NULL;
    p->probe_seen = NULL;
    return rc;
}

/* ---- idle-CPU spinners ------------------------------------------------------- */

void spinners_stop(spinners *sp)
{
    for (int i = 0; i < sp->n; i++)
        if (sp->pid[i] > 0)
            kill(sp->pid[i], SIGKILL);
    for (int i = 0; i < sp->n; i++)
        if (sp->pid[i] > 0)
            waitpid(sp->pid[i], NULL, 0);
    sp->n = 0;
}

int spinners_start(spinners *sp)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    sp->n = 0;
    for (long i = 0; i < ncpu && i < SPIN_MAX; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            spinners_stop(sp);
            return fail("fork: %s", strerror(errno));
        }
        if (pid == 0) {
            signal(SIGINT, SIG_IGN);
            struct sched_param sp0 = {0};
            if (sched_setscheduler(0, SCHED_IDLE, &sp0) < 0 && nice(19) < 0)
                _exit(1);
            uint64_t end = now_ns() + SPIN_LIMIT_S * NS_PER_S;
            for (uint64_t k = 0; k < (1ull << 50); k++)
                if ((k & 0xfffff) == 0 && now_ns() > end)
                    break;
            _exit(0);
        }
        sp->pid[sp->n++] = pid;
    }
    usleep(20000); /* let them get going */
    return 0;
}

/* ---- do-nothing relay ------------------------------------------------------------ */

typedef struct relay_dir {
    int from, to;
    char buf[RELAY_BUF];
    size_t len, off;
} relay_dir;

/* Read what there is (if room), then write what is held at once, so that
 * a message costs the relay one wake-up. -1 at EOF or error. */
static int relay_move(relay_dir *d, bool readable)
{
    if (readable && d->len < sizeof(d->buf)) {
        ssize_t n = read(d->from, d->buf + d->len, sizeof(d->buf) - d->len);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            return -1;
        if (n > 0)
            d->len += (size_t)n;
    }
    if (d->off < d->len) {
        ssize_t n = write(d->to, d->buf + d->off, d->len - d->off);
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return -1;
        if (n > 0)
            d->off += (size_t)n;
        if (d->off == d->len)
            d->off = d->len = 0;
    }
    return 0;
}

static void relay_child(int lfd, int upstream_port)
{
    signal(SIGINT, SIG_IGN);
    struct pollfd a = {lfd, POLLIN, 0};
    if (poll(&a, 1, 10000) != 1)
        _exit(1);
    int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    int u = tcp_connect(upstream_port);
    if (c < 0 || u < 0)
        _exit(1);
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    static relay_dir up, down;
    up.from = down.to = c;
    up.to = down.from = u;
    uint64_t end = now_ns() + RELAY_LIMIT_S * NS_PER_S;
    for (uint64_t k = 0; k < (1ull << 40) && now_ns() < end; k++) {
        struct pollfd p[2] = {{c, 0, 0}, {u, 0, 0}};
        p[0].events = (short)((up.len < sizeof(up.buf) ? POLLIN : 0) | (down.len ? POLLOUT : 0));
        p[1].events = (short)((down.len < sizeof(down.buf) ? POLLIN : 0) | (up.len ? POLLOUT : 0));
        if (poll(p, 2, 1000) < 0 && errno != EINTR)
            break;
        if (relay_move(&up, p[0].revents & (POLLIN | POLLHUP | POLLERR)) < 0 ||
            relay_move(&down, p[1].revents & (POLLIN | POLLHUP | POLLERR)) < 0)
            break;
    }
    _exit(0);
}

int relay_start(relay_proc *rp, int upstream_port)
{
    rp->pid = -1;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 1) < 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &al) < 0) {
        if (lfd >= 0)
            close(lfd);
        return fail("relay: listen: %s", strerror(errno));
    }
    rp->port = ntohs(a.sin_port);
    pid_t pid = fork();
    if (pid < 0) {
        close(lfd);
        return fail("fork: %s", strerror(errno));
    }
    if (pid == 0)
        relay_child(lfd, upstream_port);
    close(lfd);
    rp->pid = pid;
    return 0;
}

void relay_stop(relay_proc *rp)
{
    if (rp->pid <= 0)
        return;
    kill(rp->pid, SIGKILL);
    waitpid(rp->pid, NULL, 0);
    rp->pid = -1;
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

/* ---- medians over rounds -------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

stat3 stat3_of(double *v, size_t n)
{
    stat3 s = {0, 0, 0};
    if (!n)
        return s;
    qsort(v, n, sizeof(v[0]), cmp_double);
    s.lo = v[0];
    s.hi = v[n - 1];
    s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return s;
}

static void fmt_value(char *buf, size_t len, double v, int decimals)
{
    if (decimals < 0)
        snprintf(buf, len, "%s", grp(v));
    else
        snprintf(buf, len, "%.*f", decimals, v);
}

double print_row(const char *label, int label_width, stat3 a, stat3 b, int decimals,
                 const char *unit)
{
    const stat3 s[2] = {a, b};
    char v[2][48], range[2][80];
    for (size_t k = 0; k < 2; k++) {
        char med[32], lo[32], hi[32];
        fmt_value(med, sizeof(med), s[k].med, decimals);
        fmt_value(lo, sizeof(lo), s[k].lo, decimals);
        fmt_value(hi, sizeof(hi), s[k].hi, decimals);
        snprintf(v[k], sizeof(v[k]), "%s%s", med, unit);
        snprintf(range[k], sizeof(range[k]), "(%s-%s)", lo, hi);
    }
    double ratio = s[0].med > 0 ? s[1].med / s[0].med : 0;
    printf("  %-*s %12s %-19s %12s %-19s %6.2fx\n", label_width, label, v[0], range[0], v[1],
           range[1], ratio);
    return ratio;
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

int register_members(sc_client *r, unsigned n, const char *const *rooms, unsigned nrooms)
{
    for (unsigned i = 0; i < n; i++) {
        char id[32], sid[32];
        snprintf(id, sizeof(id), "rcv-%015u", i);
        snprintf(sid, sizeof(sid), "ses-%015u", i);
        if (sc_client_socket_up(r, id, sid, NULL, NULL, 0, &rooms[i % nrooms], 1) < 0)
            return fail("socket up: %s", sc_client_last_error(r));
        if ((i + 1) % 10000 == 0 && sc_client_sync(r, 30000) < 0)
            return fail("sync: %s", sc_client_last_error(r));
    }
    if (sc_client_sync(r, 30000) < 0)
        return fail("sync: %s", sc_client_last_error(r));
    return 0;
}
