/* bench_tls: the cost of TLS to Redis, against plain text, side by side in
 * one run (loopback only).
 *
 * One run starts a private redis-server on 127.0.0.1 with BOTH a plain port
 * and a TLS port (mutual TLS: --tls-auth-clients yes; a CA, a server and a
 * client certificate made with the openssl CLI in its temporary directory),
 * and two pairs of sidecastd nodes on it:
 *
 *   plain: --redis-url redis://127.0.0.1:PLAIN
 *   tls:   --redis-url rediss://127.0.0.1:TLS --redis-tls-ca-file ca.pem
 *          --redis-tls-cert-file client.pem --redis-tls-key-file client.key
 *
 * each pair with its own --redis-prefix, so that the two never see each
 * other's channels. In each pair app R on node 2 has one socket in room
 * "bench" and app E on node 1 emits numbered room emits (--payload bytes,
 * default 256) to it, saturated: at most --window emits in flight (emitted
 * and not yet received by R). A round is a fixed count of messages
 * (--messages); rounds alternate between the modes (--rounds each, who goes
 * first rotating), so both see the same machine conditions, and the report
 * gives medians per mode: messages/s, and CPU per message of each sidecastd
 * and of redis-server (utime + stime deltas from /proc/PID/stat, taken
 * before the first emit of the round and 50 ms after its last delivery, so
 * that late reads of deferred replies are counted), plus the ratios TLS /
 * plain and a verdict against the goal (TLS CPU per message at most 1.3x
 * plain, all three processes together). A finer cross-check of the CPU
 * comes from /proc/PID/task/STAR/schedstat (ns of run time).
 *
 * R checks that every message arrives once and in order (and, at the end,
 * that nothing more arrives). Not a pass/fail test: it exits non-zero only
 * if the run itself failed (a process did not start, messages lost or
 * reordered, a daemon that did not stop cleanly). Every loop is bounded in
 * iterations and in time; only the processes this bench started are
 * stopped, by pid. */
#include "bench_util.h"
#include "sidecast.h"

#include <hiredis/hiredis.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SC_SIDECASTD_PATH
#define SC_SIDECASTD_PATH "sidecastd"
#endif
#ifndef SC_BUILD_TYPE
#define SC_BUILD_TYPE "unknown"
#endif

#define TARGET_CPU_RATIO 1.30 /* TLS CPU per message, of plain's */

#define PAYLOAD_HEADER 8     /* sequence number */
#define PROBE_SEQ UINT64_MAX /* readiness probes, not counted */
#define READY_TIMEOUT_NS (20 * NS_PER_S)
#define SETTLE_NS (50 * 1000 * 1000ull)       /* after a round, before its last CPU reading */
#define FINAL_QUIET_NS (300 * 1000 * 1000ull) /* nothing more may arrive after the last round */
#define OPENSSL_TIMEOUT_NS (30 * NS_PER_S)
#define MAX_ROUNDS 20
#define COARSE_TICKS 20 /* fewer /proc/PID/stat ticks in a round: say it is coarse */
#define NPROC 3         /* sidecastd 1, sidecastd 2, redis-server */

static const char *const proc_label[NPROC] = {"sidecastd 1 (sends)", "sidecastd 2 (receives)",
                                              "redis-server"};

/* ---- options ------------------------------------------------------------- */

typedef struct options {
    const char *sidecastd, *redis_server, *openssl;
    unsigned messages, warmup, rounds, window, payload;
    double round_timeout;
    bool keep;
} options;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: bench_tls [OPTION]...\n"
            "Two sidecastd nodes over plain text and over TLS to one private redis-server,\n"
            "side by side: messages/s and CPU per message at saturation, TLS against plain.\n"
            "  --sidecastd PATH      daemon binary (default: %s)\n"
            "  --redis-server PATH   (default: redis-server from PATH)\n"
            "  --openssl PATH        openssl CLI, makes the certificates (default: openssl)\n"
            "  --messages N          room emits per round (default 1000000)\n"
            "  --rounds N            rounds per mode, alternating (default 3, at most %d)\n"
            "  --warmup N            unmeasured emits per mode before the rounds (default 100000)\n"
            "  --window W            emits in flight at most (default 4096)\n"
            "  --payload BYTES       emit payload, >= %d (default 256)\n"
            "  --round-timeout S     a round that takes longer fails the run (default 60)\n"
            "  --keep                keep the temporary directories, logs and certificates\n"
            "  -h, --help            this text\n",
            SC_SIDECASTD_PATH, MAX_ROUNDS, PAYLOAD_HEADER);
}

/* 0 run, 1 exit 0 (help), -1 bad usage. */
static int parse_options(int argc, char **argv, options *o)
{
    *o = (options){
        .sidecastd = SC_SIDECASTD_PATH,
        .redis_server = "redis-server",
        .openssl = "openssl",
        .messages = 1000000,
        .warmup = 100000,
        .rounds = 3,
        .window = 4096,
        .payload = 256,
        .round_timeout = 60,
    };
    enum {
        O_DAEMON = 1000,
        O_RSERVER,
        O_OPENSSL,
        O_MESSAGES,
        O_ROUNDS,
        O_WARMUP,
        O_WINDOW,
        O_PAYLOAD,
        O_TIMEOUT,
        O_KEEP
    };
    static const struct option lo[] = {
        {"sidecastd", required_argument, NULL, O_DAEMON},
        {"redis-server", required_argument, NULL, O_RSERVER},
        {"openssl", required_argument, NULL, O_OPENSSL},
        {"messages", required_argument, NULL, O_MESSAGES},
        {"rounds", required_argument, NULL, O_ROUNDS},
        {"warmup", required_argument, NULL, O_WARMUP},
        {"window", required_argument, NULL, O_WINDOW},
        {"payload", required_argument, NULL, O_PAYLOAD},
        {"round-timeout", required_argument, NULL, O_TIMEOUT},
        {"keep", no_argument, NULL, O_KEEP},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, r = 0;
    while (r == 0 && (c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case O_DAEMON: o->sidecastd = optarg; break;
        case O_RSERVER: o->redis_server = optarg; break;
        case O_OPENSSL: o->openssl = optarg; break;
        case O_MESSAGES: r = parse_uint("messages", optarg, 1000, 100000000, &o->messages); break;
        case O_ROUNDS: r = parse_uint("rounds", optarg, 1, MAX_ROUNDS, &o->rounds); break;
        case O_WARMUP: r = parse_uint("warmup", optarg, 0, 100000000, &o->warmup); break;
        case O_WINDOW: r = parse_uint("window", optarg, 1, 1u << 16, &o->window); break;
        case O_PAYLOAD:
            r = parse_uint("payload", optarg, PAYLOAD_HEADER, 65536, &o->payload);
            break;
        case O_TIMEOUT:
            r = parse_double("round-timeout", optarg, 1, 3600, &o->round_timeout);
            break;
        case O_KEEP: o->keep = true; break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return -1;
        }
    }
    if (r == 0 && optind < argc) {
        fail("unexpected argument '%s'", argv[optind]);
        r = -1;
    }
    return r;
}

/* ---- CPU time ------------------------------------------------------------ */

/* Run time of every thread of pid, in ns (/proc/PID/task/STAR/schedstat,
 * first field); 0 or a negative errno. Finer than /proc/PID/stat's ticks. */
static int proc_sched_ns(pid_t pid, uint64_t *ret)
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

typedef struct cpu_snap {
    uint64_t ticks[NPROC], ns[NPROC];
    bool have_ns;
    double self_s;
} cpu_snap;

static int cpu_read(const pid_t pids[NPROC], cpu_snap *s)
{
    s->have_ns = true;
    for (size_t i = 0; i < NPROC; i++) {
        int r = proc_cpu_ticks(pids[i], &s->ticks[i]);
        if (r < 0)
            return fail("cannot read /proc/%d/stat: %s", (int)pids[i], strerror(-r));
        if (proc_sched_ns(pids[i], &s->ns[i]) < 0)
            s->have_ns = false;
    }
    s->self_s = self_cpu_s();
    return 0;
}

/* ---- redis-server with a plain and a TLS port ------------------------------ */

typedef struct redis_tls_proc {
    redis_proc rp; /* pid, plain port, dir, log, out, url (plain); stopped with redis_stop */
    int tls_port;
    char tls_url[64];
    char ca[128], server_cert[128], server_key[128], client_cert[128], client_key[128];
    char version[32];
} redis_tls_proc;

/* Files the certificates leave in the redis directory (removed at the end). */
static const char *const cert_files[] = {"ca.pem",     "ca.key",     "ca.srl",     "server.pem",
                                         "server.key", "server.csr", "server.ext", "client.pem",
                                         "client.key", "client.csr", "client.ext", "openssl.out"};

/* Run argv (no shell), output appended to `out`, bounded by
 * OPENSSL_TIMEOUT_NS. 0 if it exited with 0. */
static int run_bounded(const char *const *argv, const char *out)
{
    pid_t pid = fork();
    if (pid < 0)
        return fail("fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (nul >= 0)
            dup2(nul, STDIN_FILENO);
        signal(SIGINT, SIG_IGN);
        if (strchr(argv[0], '/'))
            execv(argv[0], (char **)argv);
        else
            execvp(argv[0], (char **)argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    uint64_t end = now_ns() + OPENSSL_TIMEOUT_NS;
    int st = 0;
    pid_t w = 0;
    for (unsigned i = 0; i < 100000 && (w = waitpid(pid, &st, WNOHANG)) == 0 && now_ns() < end; i++)
        usleep(2000);
    if (w != pid) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        return fail("%s (pid %d) still running after %llu s; killed", argv[0], (int)pid,
                    (unsigned long long)(OPENSSL_TIMEOUT_NS / NS_PER_S));
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

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return fail("%s: %s", path, strerror(errno));
    fputs(text, f);
    return fclose(f) == 0 ? 0 : fail("%s: write error", path);
}

/* A CA, a server certificate (localhost, 127.0.0.1) and a client
 * certificate (clientAuth), all EC P-256 signed by the CA, in dir. */
static int make_certs(const options *o, redis_tls_proc *r)
{
    const char *dir = r->rp.dir;
    char out[128], key[128], pem[128], csr[128], ext[128], cakey[128];
    snprintf(out, sizeof(out), "%s/openssl.out", dir);
    snprintf(cakey, sizeof(cakey), "%s/ca.key", dir);
    snprintf(r->ca, sizeof(r->ca), "%s/ca.pem", dir);
    const char *ca_argv[] = {o->openssl,
                             "req",
                             "-x509",
                             "-newkey",
                             "ec",
                             "-pkeyopt",
                             "ec_paramgen_curve:prime256v1",
                             "-nodes",
                             "-keyout",
                             cakey,
                             "-out",
                             r->ca,
                             "-days",
                             "3650",
                             "-subj",
                             "/CN=sidecast-bench-ca",
                             NULL};
    if (run_bounded(ca_argv, out) < 0)
        return -1;
    const struct {
        const char *name, *cn, *ext;
        char *cert, *key;
    } certs[] = {
        {"server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\n", r->server_cert,
         r->server_key},
        {"client", "/CN=sidecast-bench", "extendedKeyUsage=clientAuth\n", r->client_cert,
         r->client_key},
    };
    for (size_t i = 0; i < SC_BENCH_ARRAY_LEN(certs); i++) {
        snprintf(key, sizeof(key), "%s/%s.key", dir, certs[i].name);
        snprintf(pem, sizeof(pem), "%s/%s.pem", dir, certs[i].name);
        snprintf(csr, sizeof(csr), "%s/%s.csr", dir, certs[i].name);
        snprintf(ext, sizeof(ext), "%s/%s.ext", dir, certs[i].name);
        const char *req[] = {
            o->openssl,  "req",     "-newkey", "ec",   "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes",    "-keyout", key,       "-out", csr,        "-subj",
            certs[i].cn, NULL};
        char serial[128];
        snprintf(serial, sizeof(serial), "%s/ca.srl", dir);
        const char *sign[] = {o->openssl,  "x509",     "-req",   "-in", csr,
                              "-CA",       r->ca,      "-CAkey", cakey, "-CAcreateserial",
                              "-CAserial", serial,     "-out",   pem,   "-days",
                              "3650",      "-extfile", ext,      NULL};
        if (run_bounded(req, out) < 0 || write_text(ext, certs[i].ext) < 0 ||
            run_bounded(sign, out) < 0)
            return -1;
        snprintf(certs[i].cert, 128, "%s", pem);
        snprintf(certs[i].key, 128, "%s", key);
    }
    return 0;
}

static void remove_certs(redis_tls_proc *r)
{
    if (r->rp.keep || !r->rp.dir[0])
        return;
    for (size_t i = 0; i < SC_BENCH_ARRAY_LEN(cert_files); i++) {
        char p[160];
        snprintf(p, sizeof(p), "%s/%s", r->rp.dir, cert_files[i]);
        unlink(p);
    }
}

/* SIGTERM by pid (redis_stop), after removing the certificates so that
 * redis_stop can remove the directory. */
static int redis_tls_stop(redis_tls_proc *r)
{
    remove_certs(r);
    return redis_stop(&r->rp);
}

static bool redis_pings(int port)
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

/* redis-server on two free ports of 127.0.0.1 (plain and TLS, mutual TLS
 * required on the TLS one), no persistence; waits until the plain port
 * answers PING and the TLS port accepts connections. A port taken between
 * choosing and binding it makes redis exit: try others. 0 or -1. */
static int redis_tls_start(const options *o, redis_tls_proc *r)
{
    memset(r, 0, sizeof(*r));
    redis_proc *rp = &r->rp;
    rp->pid = -1;
    rp->keep = o->keep;
    snprintf(rp->dir, sizeof(rp->dir), "/tmp/sidecast-bench-redis-XXXXXX");
    if (!mkdtemp(rp->dir)) {
        rp->dir[0] = '\0';
        return fail("mkdtemp: %s", strerror(errno));
    }
    snprintf(rp->log, sizeof(rp->log), "%s/redis.log", rp->dir);
    snprintf(rp->out, sizeof(rp->out), "%s/redis.out", rp->dir);
    if (make_certs(o, r) < 0) {
        redis_tls_stop(r);
        return fail("could not make the certificates with '%s'", o->openssl);
    }
    for (int attempt = 0; attempt < 3; attempt++) {
        rp->port = free_port();
        r->tls_port = free_port();
        if (rp->port <= 0 || r->tls_port <= 0 || rp->port == r->tls_port) {
            redis_tls_stop(r);
            return fail("no free TCP ports on 127.0.0.1");
        }
        snprintf(rp->url, sizeof(rp->url), "redis://127.0.0.1:%d", rp->port);
        snprintf(r->tls_url, sizeof(r->tls_url), "rediss://127.0.0.1:%d", r->tls_port);
        char port[16], tport[16];
        snprintf(port, sizeof(port), "%d", rp->port);
        snprintf(tport, sizeof(tport), "%d", r->tls_port);
        pid_t pid = fork();
        if (pid < 0) {
            redis_tls_stop(r);
            return fail("fork: %s", strerror(errno));
        }
        if (pid == 0) {
            int fd = open(rp->out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (fd >= 0) {
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
            }
            signal(SIGINT, SIG_IGN);
            const char *opts[][2] = {{"--port", port},
                                     {"--bind", "127.0.0.1"},
                                     {"--save", ""},
                                     {"--appendonly", "no"},
                                     {"--dir", rp->dir},
                                     {"--logfile", rp->log},
                                     {"--daemonize", "no"},
                                     {"--tls-port", tport},
                                     {"--tls-cert-file", r->server_cert},
                                     {"--tls-key-file", r->server_key},
                                     {"--tls-ca-cert-file", r->ca},
                                     {"--tls-auth-clients", "yes"}};
            const char *argv[2 * SC_BENCH_ARRAY_LEN(opts) + 2] = {o->redis_server};
            for (size_t i = 0; i < SC_BENCH_ARRAY_LEN(opts); i++) {
                argv[1 + 2 * i] = opts[i][0];
                argv[2 + 2 * i] = opts[i][1];
            }
            if (strchr(argv[0], '/'))
                execv(argv[0], (char **)argv);
            else
                execvp(argv[0], (char **)argv);
            fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
            _exit(127);
        }
        rp->pid = pid;
        uint64_t end = now_ns() + REDIS_START_TIMEOUT_NS;
        bool exited = false, up = false;
        for (unsigned i = 0; i < 10000 && now_ns() < end; i++) {
            int st;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                rp->pid = -1;
                exited = true;
                break;
            }
            int tfd = -1;
            if (redis_pings(rp->port) && (tfd = tcp_connect(r->tls_port)) >= 0) {
                close(tfd);
                up = true;
                break;
            }
            usleep(10000);
        }
        if (up) {
            redisReply *ver = redis_query(rp->port, 2, (const char *[]){"INFO", "server"});
            const char *vs =
                ver && ver->type == REDIS_REPLY_STRING ? strstr(ver->str, "redis_version:") : NULL;
            snprintf(r->version, sizeof(r->version), "%.*s", vs ? (int)strcspn(vs + 14, "\r\n") : 1,
                     vs ? vs + 14 : "?");
            if (ver)
                freeReplyObject(ver);
            return 0;
        }
        if (!exited) {
            redis_tls_stop(r);
            return fail("redis-server (%s) did not answer on both ports within %llu s",
                        o->redis_server, (unsigned long long)(REDIS_START_TIMEOUT_NS / NS_PER_S));
        }
        if (file_contains(rp->out, "exec ")) /* not installed: no point retrying */
            break;
    }
    fprintf(stderr, "---- redis-server output ----\n");
    print_file(rp->out, stderr);
    print_file(rp->log, stderr);
    redis_tls_stop(r);
    return fail("redis-server (%s) exited during startup (see its output above)", o->redis_server);
}

/* ---- one mode: two nodes, app E on node 1, app R on node 2 ------------------- */

typedef struct round_result {
    bool done;
    uint64_t messages;
    double seconds;
    double cpu_us[NPROC];    /* per message, /proc/PID/stat */
    double cpu_ns_us[NPROC]; /* per message, schedstat (when have_ns) */
    bool have_ns;
    double self_us; /* this process (apps E and R) per message */
    uint64_t publishes;
    uint64_t min_ticks; /* fewest /proc/PID/stat ticks of the three in the round */
} round_result;

typedef struct mode {
    const char *name;
    bool tls;
    daemon_proc n1, n2;
    sc_client *e, *r;
    char tls_desc[128]; /* "TLSv1.3 TLS_AES_256_GCM_SHA384", from node 1's log */
    /* receive accounting */
    uint64_t seq_next, rx_next, received, probes, bad, reordered, errors;
    round_result res[MAX_ROUNDS];
    unsigned nres;
} mode;

static bool on_delivery(void *ud, const sc_delivery *d)
{
    mode *m = ud;
    if (d->len < PAYLOAD_HEADER) {
        m->bad++;
        return false;
    }
    uint64_t seq;
    memcpy(&seq, d->payload, 8);
    if (seq == PROBE_SEQ) {
        m->probes++;
        return false;
    }
    if (seq != m->rx_next)
        m->reordered++;
    m->rx_next = seq + 1;
    m->received++;
    return false; /* no per-socket resolution: one Deliver frame = one emit */
}

static void on_error(void *ud, int code, const char *message, const char *ref)
{
    ((mode *)ud)->errors++;
    no_error_cb(ud, code, message, ref);
}

static void on_gap(void *ud, uint64_t from, uint64_t to, const char *reason)
{
    ((mode *)ud)->errors++;
    fail("%s: sidecastd reports a pub/sub gap of %" PRIu64 " ms: %s", ((mode *)ud)->name, to - from,
         reason);
}

static const char *const bench_room[] = {"bench"};
static const sc_target room_to = {.rooms = bench_room, .n_rooms = 1};

static uint64_t stat_or_zero(sc_client *c, const char *name)
{
    uint64_t v = 0;
    if (sc_client_stat(c, name, &v) < 0)
        fail("stat %s: %s", name, sc_client_last_error(c));
    return v;
}

/* One poll of both connections (timeout_ms), reading what arrived. */
static int mode_poll(mode *m, int timeout_ms)
{
    struct pollfd p[2] = {{sc_client_fd(m->r), POLLIN, 0}, {sc_client_fd(m->e), POLLIN, 0}};
    if (sc_client_wants_write(m->e))
        p[1].events |= POLLOUT;
    int n = poll(p, 2, timeout_ms);
    if (n < 0 && errno != EINTR)
        return fail("poll: %s", strerror(errno));
    if (n <= 0)
        return 0;
    if (p[0].revents && sc_client_read(m->r) < 0)
        return fail("%s: receiver: %s", m->name, sc_client_last_error(m->r));
    if ((p[1].revents & POLLOUT) && sc_client_flush(m->e) < 0)
        return fail("%s: emitter flush: %s", m->name, sc_client_last_error(m->e));
    if ((p[1].revents & ~POLLOUT) && sc_client_read(m->e) < 0)
        return fail("%s: emitter: %s", m->name, sc_client_last_error(m->e));
    return 0;
}

/* Emit probes until one comes back (node 2 subscribed to the room channel,
 * both nodes connected to Redis), then 100 ms more so that late probes do
 * not land in a run (they are not counted anyway). */
static int mode_wait_ready(mode *m, unsigned payload_len)
{
    uint8_t *p = calloc(1, payload_len);
    if (!p)
        return fail("out of memory");
    uint64_t probe = PROBE_SEQ;
    memcpy(p, &probe, 8);
    uint64_t end = now_ns() + READY_TIMEOUT_NS, quiet_until = 0, next_probe = 0;
    int rc = -1;
    m->probes = 0;
    for (uint64_t it = 0; it < MAX_LOOP_ITERATIONS && !interrupted && !m->errors; it++) {
        uint64_t now = now_ns();
        if (m->probes && !quiet_until)
            quiet_until = now + 100 * 1000 * 1000ull;
        if (quiet_until && now >= quiet_until) {
            rc = 0;
            break;
        }
        if (now >= end) {
            fail("%s: no room emit came through within %llu s (see the sidecastd logs)", m->name,
                 (unsigned long long)(READY_TIMEOUT_NS / NS_PER_S));
            break;
        }
        if (!m->probes && now >= next_probe) {
            int r = sc_client_emit(m->e, &room_to, NULL, p, payload_len);
            if (r < 0 && r != -ENOBUFS) {
                fail("%s: emit: %s", m->name, sc_client_last_error(m->e));
                break;
            }
            next_probe = now + 20 * 1000 * 1000ull;
        }
        if (sc_client_flush(m->e) < 0) {
            fail("%s: emitter flush: %s", m->name, sc_client_last_error(m->e));
            break;
        }
        if (mode_poll(m, 10) < 0)
            break;
    }
    free(p);
    return rc;
}

/* Polls for `ns` without emitting (late reads, nothing expected). */
static int mode_idle(mode *m, uint64_t ns)
{
    uint64_t end = now_ns() + ns;
    for (unsigned i = 0; i < 100000 && !interrupted; i++) {
        uint64_t now = now_ns();
        if (now >= end)
            break;
        int ms = (int)SC_BENCH_MIN((end - now) / 1000000 + 1, 100);
        if (mode_poll(m, ms) < 0)
            return -1;
    }
    return 0;
}

/* Exactly n room emits, at most `window` in flight, until R has them all.
 * With res (a measured round): CPU of the three processes before the first
 * emit and SETTLE_NS after the last delivery. */
static int mode_run(const options *o, mode *m, uint64_t n, const pid_t pids[NPROC],
                    round_result *res)
{
    uint8_t *payload = malloc(o->payload);
    if (!payload)
        return fail("out of memory");
    memset(payload, 'x', o->payload);
    int rc = 0;
    cpu_snap c0 = {0}, c1 = {0};
    uint64_t pub0 = 0;
    if (res) {
        memset(res, 0, sizeof(*res));
        pub0 = stat_or_zero(m->e, "redis_publishes");
        if (cpu_read(pids, &c0) < 0) {
            free(payload);
            return -1;
        }
    }
    uint64_t rx0 = m->received, sent = 0, got = 0, last_rx = 0;
    uint64_t t0 = now_ns();
    uint64_t deadline = t0 + (uint64_t)(o->round_timeout * (double)NS_PER_S);
    uint64_t it;
    for (it = 0; it < MAX_LOOP_ITERATIONS; it++) {
        got = m->received - rx0;
        if (got >= n)
            break;
        if (interrupted) {
            rc = fail("interrupted");
            break;
        }
        if (m->errors) {
            rc = fail("%s: errors reported (see above)", m->name);
            break;
        }
        if (now_ns() >= deadline) {
            rc = fail("%s: %" PRIu64 " of %" PRIu64 " messages received after %.0f s "
                      "(--round-timeout)",
                      m->name, got, n, o->round_timeout);
            break;
        }
        while (sent < n && sent - got < o->window) {
            uint64_t seq = m->seq_next;
            memcpy(payload, &seq, 8);
            int r = sc_client_emit(m->e, &room_to, NULL, payload, o->payload);
            if (r == -ENOBUFS)
                break; /* output queue full: wait for the socket */
            if (r < 0) {
                rc = fail("%s: emit: %s", m->name, sc_client_last_error(m->e));
                goto out;
            }
            m->seq_next++;
            sent++;
        }
        if (sc_client_flush(m->e) < 0) {
            rc = fail("%s: emitter flush: %s", m->name, sc_client_last_error(m->e));
            break;
        }
        uint64_t before = m->received;
        if (mode_poll(m, 100) < 0) {
            rc = -1;
            break;
        }
        if (m->received != before)
            last_rx = now_ns();
    }
    if (it == MAX_LOOP_ITERATIONS)
        rc = fail("%s: loop bound reached", m->name);
out:
    free(payload);
    got = m->received - rx0;
    if (rc == 0 && got != n)
        rc = fail("%s: sent %" PRIu64 " but received %" PRIu64, m->name, sent, got);
    if (rc == 0 && (m->bad || m->reordered))
        rc = fail("%s: %" PRIu64 " foreign payloads, %" PRIu64 " out of order or repeated", m->name,
                  m->bad, m->reordered);
    if (rc == 0 && res) {
        double secs = (double)((last_rx ? last_rx : now_ns()) - t0) / (double)NS_PER_S;
        if (mode_idle(m, SETTLE_NS) < 0 || cpu_read(pids, &c1) < 0)
            return -1;
        double tck = (double)sysconf(_SC_CLK_TCK);
        res->messages = n;
        res->seconds = secs > 0 ? secs : 1e-9;
        res->have_ns = c0.have_ns && c1.have_ns;
        res->min_ticks = UINT64_MAX;
        for (size_t i = 0; i < NPROC; i++) {
            res->min_ticks = SC_BENCH_MIN(res->min_ticks, c1.ticks[i] - c0.ticks[i]);
            res->cpu_us[i] = (double)(c1.ticks[i] - c0.ticks[i]) / tck * 1e6 / (double)n;
            res->cpu_ns_us[i] = (double)(c1.ns[i] - c0.ns[i]) / 1e3 / (double)n;
        }
        res->self_us = (c1.self_s - c0.self_s) * 1e6 / (double)n;
        res->publishes = stat_or_zero(m->e, "redis_publishes") - pub0;
        res->done = true;
    }
    return rc;
}

/* "TLSv1.3 TLS_AES_256_GCM_SHA384" from "... established over TLSv1.3 ..." in
 * node 1's log (info level). */
static void find_tls_desc(mode *m)
{
    FILE *f = fopen(m->n1.log, "r");
    if (!f)
        return;
    char line[1024];
    for (unsigned i = 0; i < 100000 && fgets(line, sizeof(line), f); i++) {
        char *p = strstr(line, "established over ");
        if (p) {
            snprintf(m->tls_desc, sizeof(m->tls_desc), "%.*s", (int)strcspn(p + 17, "\r\n"),
                     p + 17);
            break;
        }
    }
    fclose(f);
}

static int mode_start(const options *o, const redis_tls_proc *rs, mode *m)
{
    char n1name[32], n2name[32], prefix[32];
    snprintf(n1name, sizeof(n1name), "bench-%s-1", m->name);
    snprintf(n2name, sizeof(n2name), "bench-%s-2", m->name);
    snprintf(prefix, sizeof(prefix), "sidecast-bench-%s", m->name);
    const char *url = m->tls ? rs->tls_url : rs->rp.url;
    /* info: the "established over TLSv1.x cipher" line */
    const char *args[2][24];
    const char *names[2] = {n1name, n2name};
    for (size_t k = 0; k < 2; k++) {
        size_t a = 0;
        const char *base[] = {"--redis-url",    url,    "--node-name",          names[k],
                              "--redis-prefix", prefix, "--canary-interval-ms", "0",
                              "--log-level",    "info"};
        for (size_t i = 0; i < SC_BENCH_ARRAY_LEN(base); i++)
            args[k][a++] = base[i];
        if (m->tls) {
            const char *t[] = {"--redis-tls-ca-file",   rs->ca,
                               "--redis-tls-cert-file", rs->client_cert,
                               "--redis-tls-key-file",  rs->client_key};
            for (size_t i = 0; i < SC_BENCH_ARRAY_LEN(t); i++)
                args[k][a++] = t[i];
        }
        args[k][a] = NULL;
    }
    if (daemon_start(&m->n1, o->sidecastd, o->keep, -1, args[0]) < 0 ||
        daemon_start(&m->n2, o->sidecastd, o->keep, -1, args[1]) < 0)
        return fail("%s: sidecastd did not start", m->name);
    sc_client_options ro = {.path = m->n2.sock,
                            .name = "bench-receiver",
                            .nonblocking = true,
                            .on_delivery = on_delivery,
                            .on_error = on_error,
                            .on_gap = on_gap,
                            .ud = m};
    sc_client_options eo = {.path = m->n1.sock,
                            .name = "bench-emitter",
                            .nonblocking = true,
                            .on_error = on_error,
                            .on_gap = on_gap,
                            .ud = m};
    if (sc_client_open(&ro, &m->r) < 0)
        return fail("%s: receiver on node 2: %s", m->name, sc_client_last_error(m->r));
    if (sc_client_open(&eo, &m->e) < 0)
        return fail("%s: emitter on node 1: %s", m->name, sc_client_last_error(m->e));
    if (register_members(m->r, 1, "bench") < 0)
        return -1;
    if (mode_wait_ready(m, o->payload) < 0)
        return -1;
    if (m->tls) {
        find_tls_desc(m);
        if (!m->tls_desc[0])
            return fail("%s: node 1's log does not say its Redis connection is TLS", m->name);
    }
    printf("%-5s node 1 sidecastd pid %d, node 2 pid %d, %s%s%s%s\n", m->name, (int)m->n1.pid,
           (int)m->n2.pid, url, m->tls ? " (mutual TLS, " : "", m->tls_desc, m->tls ? ")" : "");
    return 0;
}

/* Closes the apps, stops both nodes by pid; -1 if one did not stop cleanly. */
static int mode_stop(mode *m)
{
    sc_client_close(m->e);
    sc_client_close(m->r);
    m->e = m->r = NULL;
    int rc = 0;
    if (daemon_stop(&m->n1) < 0)
        rc = -1;
    if (daemon_stop(&m->n2) < 0)
        rc = -1;
    return rc;
}

/* ---- report ------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median, min and max of one figure of a mode's rounds. */
typedef struct stat3 {
    double med, lo, hi;
} stat3;

static stat3 figure(const mode *m, double (*get)(const round_result *, size_t), size_t idx)
{
    double v[MAX_ROUNDS];
    size_t n = 0;
    for (unsigned i = 0; i < m->nres; i++)
        if (m->res[i].done)
            v[n++] = get(&m->res[i], idx);
    stat3 s = {0, 0, 0};
    if (!n)
        return s;
    qsort(v, n, sizeof(v[0]), cmp_double);
    s.lo = v[0];
    s.hi = v[n - 1];
    s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return s;
}

static double get_rate(const round_result *r, size_t i)
{
    (void)i;
    return (double)r->messages / r->seconds;
}
/* i < NPROC: one process; NPROC: the three; NPROC + 1: both sidecastds. */
static double get_cpu(const round_result *r, size_t i)
{
    if (i < NPROC)
        return r->cpu_us[i];
    if (i == NPROC + 1)
        return r->cpu_us[0] + r->cpu_us[1];
    return r->cpu_us[0] + r->cpu_us[1] + r->cpu_us[2];
}
static double get_cpu_ns(const round_result *r, size_t i)
{
    if (i < NPROC)
        return r->cpu_ns_us[i];
    return r->cpu_ns_us[0] + r->cpu_ns_us[1] + r->cpu_ns_us[2];
}
static double get_self(const round_result *r, size_t i)
{
    (void)i;
    return r->self_us;
}
static double get_batch(const round_result *r, size_t i)
{
    (void)i;
    return r->publishes ? (double)r->messages / (double)r->publishes : 0;
}

static void print_round(const mode *m, unsigned round, unsigned nrounds, const round_result *r)
{
    printf("  round %u/%u %-5s %s msgs in %.2f s = %9s/s; CPU us/msg: sidecastd 1 %.3f, "
           "sidecastd 2 %.3f, redis %.3f, total %.3f",
           round + 1, nrounds, m->name, grp((double)r->messages), r->seconds, grp(get_rate(r, 0)),
           r->cpu_us[0], r->cpu_us[1], r->cpu_us[2], get_cpu(r, NPROC));
    if (r->have_ns)
        printf(" (schedstat %.3f)", get_cpu_ns(r, NPROC));
    printf("; apps %.3f; %.1f emits/PUBLISH", r->self_us, get_batch(r, 0));
    if (r->min_ticks < COARSE_TICKS)
        printf(" (coarse: a process used only %" PRIu64 " ticks, raise --messages)", r->min_ticks);
    printf("\n");
}

/* One table row: plain and TLS medians (min-max), the ratio of medians;
 * decimals < 0: whole numbers with thousands separators. */
static void fmt_value(char *buf, size_t len, double v, int decimals)
{
    if (decimals < 0)
        snprintf(buf, len, "%s", grp(v));
    else
        snprintf(buf, len, "%.*f", decimals, v);
}

static double row(const char *label, const mode *pl, const mode *tl,
                  double (*get)(const round_result *, size_t), size_t idx, int decimals,
                  const char *unit)
{
    stat3 s[2] = {figure(pl, get, idx), figure(tl, get, idx)};
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
    printf("  %-34s %12s %-19s %12s %-19s %6.2fx\n", label, v[0], range[0], v[1], range[1], ratio);
    return ratio;
}

int main(int argc, char **argv)
{
    bench_prog = "bench_tls";
    options o;
    int pr = parse_options(argc, argv, &o);
    if (pr != 0)
        return pr > 0 ? 0 : 2;
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {0};
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);

    char cmdline[2048];
    join_cmdline(argc, argv, cmdline, sizeof(cmdline));
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime(&now));
    double load[3] = {0, 0, 0};
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (fscanf(lf, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = load[1] = load[2] = 0;
        fclose(lf);
    }
    printf("sidecast bench_tls: two sidecastd nodes over plain text and over TLS to one "
           "redis-server (build %s, %ld CPUs, loopback)\n",
           SC_BUILD_TYPE, ncpu);
    printf("command: %s\n", cmdline);
    printf("date: %s, load average %.2f %.2f %.2f at the start\n", when, load[0], load[1], load[2]);
    printf("sidecastd: %s\n", o.sidecastd);
    printf("%u room emits of %u bytes per round, window %u, %u rounds per mode (alternating), "
           "%u warm-up emits per mode\n",
           o.messages, o.payload, o.window, o.rounds, o.warmup);

    int rc = 0;
    uint64_t t_start = now_ns();
    redis_tls_proc rs;
    mode modes[2];
    memset(modes, 0, sizeof(modes));
    modes[0].name = "plain";
    modes[1].name = "tls";
    modes[1].tls = true;
    for (size_t k = 0; k < 2; k++)
        modes[k].n1.pid = modes[k].n2.pid = -1;

    if (redis_tls_start(&o, &rs) < 0)
        return 1;
    printf("redis-server %s: pid %d, plain port %d, TLS port %d (--tls-auth-clients yes), "
           "certificates EC P-256 in %s\n",
           rs.version, (int)rs.rp.pid, rs.rp.port, rs.tls_port, rs.rp.dir);

    for (size_t k = 0; k < 2 && rc == 0; k++)
        if (mode_start(&o, &rs, &modes[k]) < 0)
            rc = 1;

    /* warm-up, unmeasured, then the rounds */
    for (size_t k = 0; k < 2 && rc == 0 && o.warmup; k++)
        if (mode_run(&o, &modes[k], o.warmup, NULL, NULL) < 0)
            rc = 1;
    if (rc == 0)
        printf("\nrounds (CPU per message from /proc/PID/stat utime+stime; apps = this process, "
               "which drives E and R):\n");
    for (unsigned r = 0; r < o.rounds && rc == 0; r++) {
        for (unsigned j = 0; j < 2 && rc == 0; j++) {
            mode *m = &modes[(r + j) % 2]; /* who goes first rotates */
            pid_t pids[NPROC] = {m->n1.pid, m->n2.pid, rs.rp.pid};
            round_result *res = &m->res[m->nres];
            if (mode_run(&o, m, o.messages, pids, res) < 0) {
                rc = 1;
                break;
            }
            m->nres++;
            print_round(m, r, o.rounds, res);
        }
    }
    /* nothing more may arrive: no repeats after the last round */
    for (size_t k = 0; k < 2 && rc == 0; k++) {
        uint64_t before = modes[k].received;
        if (mode_idle(&modes[k], FINAL_QUIET_NS) < 0)
            rc = 1;
        else if (modes[k].received != before || modes[k].reordered || modes[k].bad)
            rc = fail("%s: %" PRIu64 " messages arrived after the last round", modes[k].name,
                      modes[k].received - before);
    }
    for (size_t k = 0; k < 2; k++)
        if (mode_stop(&modes[k]) < 0)
            rc = 1;
    if (redis_tls_stop(&rs) < 0)
        rc = 1;
    double total_s = (double)(now_ns() - t_start) / (double)NS_PER_S;

    const mode *pl = &modes[0], *tl = &modes[1];
    if (pl->nres && tl->nres) {
        printf("\nMedians over %u rounds per mode (min-max in brackets); CPU in us per message, "
               "utime+stime from /proc/PID/stat (%ld ticks/s)\n",
               SC_BENCH_MIN(pl->nres, tl->nres), sysconf(_SC_CLK_TCK));
        printf("  %-34s %12s %-19s %12s %-19s %7s\n", "figure", "plain", "", "tls", "",
               "tls/plain");
        double r_rate = row("messages/s", pl, tl, get_rate, 0, -1, "/s");
        double r_cpu[NPROC + 2];
        for (size_t i = 0; i < NPROC; i++) {
            char l[64];
            snprintf(l, sizeof(l), "CPU/msg %s", proc_label[i]);
            r_cpu[i] = row(l, pl, tl, get_cpu, i, 3, " us");
        }
        r_cpu[NPROC + 1] =
            row("CPU/msg both sidecastds (1 + 2)", pl, tl, get_cpu, NPROC + 1, 3, " us");
        r_cpu[NPROC] = row("CPU/msg total (the three)", pl, tl, get_cpu, NPROC, 3, " us");
        bool have_ns = true;
        for (unsigned i = 0; i < pl->nres; i++)
            have_ns = have_ns && pl->res[i].have_ns;
        for (unsigned i = 0; i < tl->nres; i++)
            have_ns = have_ns && tl->res[i].have_ns;
        double r_ns = 0;
        if (have_ns)
            r_ns = row("  same from schedstat (ns clock)", pl, tl, get_cpu_ns, NPROC, 3, " us");
        row("apps E + R (this process) CPU/msg", pl, tl, get_self, 0, 3, " us");
        row("emits per PUBLISH (node 1)", pl, tl, get_batch, 0, 1, "");

        /* where TLS costs most: the largest increase in us per message */
        size_t worst = 0;
        double worst_d = -1e9;
        for (size_t i = 0; i < NPROC; i++) {
            double d = figure(tl, get_cpu, i).med - figure(pl, get_cpu, i).med;
            if (d > worst_d) {
                worst_d = d;
                worst = i;
            }
        }
        bool met = r_cpu[NPROC] <= TARGET_CPU_RATIO;
        printf("\nverdict: TLS CPU per message = %.2fx plain, the three processes together "
               "(sidecastd 1 %.2fx, sidecastd 2 %.2fx, redis %.2fx%s%.2fx), goal <= %.2fx: %s; "
               "the sidecastds alone %.2fx (%s); throughput %.2fx; the largest increase is %s "
               "(%+.3f us/msg)\n",
               r_cpu[NPROC], r_cpu[0], r_cpu[1], r_cpu[2], have_ns ? "; schedstat total " : "",
               have_ns ? r_ns : r_cpu[NPROC], TARGET_CPU_RATIO, met ? "MET" : "NOT MET",
               r_cpu[NPROC + 1], r_cpu[NPROC + 1] <= TARGET_CPU_RATIO ? "within" : "over", r_rate,
               proc_label[worst], worst_d);
        if (strstr(SC_BUILD_TYPE, "sanitizers"))
            printf("NOTE: sanitizer build: these figures say nothing about sidecast's speed\n");
        printf(
            "summary: sidecast bench_tls (%s, %ld CPUs, %s, %u x %u-byte room emits per round, "
            "window %u, %u rounds per mode): plain %s msgs/s at %.3f us CPU/msg, TLS (%s) %s "
            "msgs/s at %.3f us CPU/msg = %.2fx CPU (sidecastds alone %.2fx), %.2fx throughput; run "
            "took %.0f s.\n",
            SC_BUILD_TYPE, ncpu, when, o.messages, o.payload, o.window,
            SC_BENCH_MIN(pl->nres, tl->nres), grp(figure(pl, get_rate, 0).med),
            figure(pl, get_cpu, NPROC).med, tl->tls_desc, grp(figure(tl, get_rate, 0).med),
            figure(tl, get_cpu, NPROC).med, r_cpu[NPROC], r_cpu[NPROC + 1], r_rate, total_s);
    }
    if (rc)
        fprintf(stderr, "bench_tls: the run failed (see above); figures are incomplete\n");
    return rc;
}
