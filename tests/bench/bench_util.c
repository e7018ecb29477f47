/* bench_util: see bench_util.h. */
#include "bench_util.h"

#include "sidecast.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
    /* an HTTP endpoint on a free port: several nodes share the host */
    char *argv[40] = {(char *)path,          (char *)"--socket",      d->sock,
                      (char *)"--log-level", (char *)"warn",          (char *)"--http-listen",
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

static void redis_cleanup_dir(redis_proc *r)
{
    if (!r->dir[0])
        return;
    if (r->keep) {
        fprintf(stderr, "%s: kept %s (redis log: %s)\n", bench_prog, r->dir, r->log);
    } else {
        unlink(r->log);
        unlink(r->out);
        rmdir(r->dir);
    }
    r->dir[0] = '\0';
}

int redis_stop(redis_proc *r)
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
    redis_cleanup_dir(r);
    return rc;
}

/* Start redis-server on a free port and wait until it answers PING. A port
 * taken between choosing and binding it makes redis exit: try another. */
int redis_start(redis_proc *r, const char *path, bool keep)
{
    memset(r, 0, sizeof(*r));
    r->pid = -1;
    r->keep = keep;
    snprintf(r->dir, sizeof(r->dir), "/tmp/sidecast-bench-redis-XXXXXX");
    if (!mkdtemp(r->dir)) {
        r->dir[0] = '\0';
        return fail("mkdtemp: %s", strerror(errno));
    }
    snprintf(r->log, sizeof(r->log), "%s/redis.log", r->dir);
    snprintf(r->out, sizeof(r->out), "%s/redis.out", r->dir);
    for (int attempt = 0; attempt < 3; attempt++) {
        r->port = free_port();
        if (r->port <= 0) {
            redis_cleanup_dir(r);
            return fail("no free TCP port on 127.0.0.1");
        }
        snprintf(r->url, sizeof(r->url), "redis://127.0.0.1:%d", r->port);
        char port[16];
        snprintf(port, sizeof(port), "%d", r->port);
        pid_t pid = fork();
        if (pid < 0) {
            redis_cleanup_dir(r);
            return fail("fork: %s", strerror(errno));
        }
        if (pid == 0) {
            int fd = open(r->out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (fd >= 0) {
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
            }
            signal(SIGINT, SIG_IGN);
            const char *argv[] = {path,   "--port",       port, "--bind", "127.0.0.1", "--save",
                                  "",     "--appendonly", "no", "--dir",  r->dir,      "--logfile",
                                  r->log, "--daemonize",  "no", NULL};
            if (strchr(path, '/'))
                execv(path, (char **)argv);
            else
                execvp(path, (char **)argv);
            fprintf(stderr, "exec %s: %s\n", path, strerror(errno));
            _exit(127);
        }
        r->pid = pid;
        uint64_t end = now_ns() + REDIS_START_TIMEOUT_NS;
        bool exited = false;
        for (unsigned i = 0; i < 10000 && now_ns() < end; i++) {
            int st;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                r->pid = -1;
                exited = true;
                break;
            }
            resp_conn c;
            redisReply *rep = NULL;
            bool ok = conn_open(&c, r->port) == 0 &&
                      conn_command(&c, 1, (const char *[]){"PING"}, &rep) == 0 && rep &&
                      rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "PONG") == 0;
            if (rep)
                freeReplyObject(rep);
            conn_close(&c);
            if (ok)
                return 0;
            usleep(10000);
        }
        if (!exited) {
            redis_stop(r);
            return fail("redis-server (%s) did not answer PING within %llu s", path,
                        (unsigned long long)(REDIS_START_TIMEOUT_NS / NS_PER_S));
        }
        if (file_contains(r->out, "exec ")) /* not installed: no point retrying */
            break;
    }
    fprintf(stderr, "---- redis-server output ----\n");
    print_file(r->out, stderr);
    print_file(r->log, stderr);
    redis_cleanup_dir(r);
    return fail("redis-server (%s) exited during startup", path);
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

int register_members(sc_client *r, unsigned n, const char *room)
{
    const char *const rooms[] = {room};
    for (unsigned i = 0; i < n; i++) {
        char id[32], sid[32];
        snprintf(id, sizeof(id), "rcv-%015u", i);
        snprintf(sid, sizeof(sid), "ses-%015u", i);
        if (sc_client_socket_up(r, id, sid, NULL, NULL, 0, rooms, 1) < 0)
            return fail("socket up: %s", sc_client_last_error(r));
        if ((i + 1) % 10000 == 0 && sc_client_sync(r, 30000) < 0)
            return fail("sync: %s", sc_client_last_error(r));
    }
    if (sc_client_sync(r, 30000) < 0)
        return fail("sync: %s", sc_client_last_error(r));
    return 0;
}
