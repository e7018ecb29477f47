/* bench_lookup: session lookups on two sidecastd nodes over one redis-server,
 * against one plain Redis round trip for the same key, on this machine
 * (loopback only).
 *
 * One run starts a private redis-server (free port on 127.0.0.1, no
 * persistence, temporary directory) and two sidecastd nodes joined to it,
 * and stops all three by pid at the end. It measures:
 *
 *   socket up   app O on node 2 registers --sockets sockets, each with a
 *               session id and a user id (--per-user sockets per user), as
 *               one burst of fire-and-forget SocketUp frames (flushed every
 *               --batch calls, like an event loop iteration would). Two
 *               times from the first socket_up: until sc_client_sync returns
 *               (the sidecar has registered every socket: "sidecar" rate),
 *               and until the directory in Redis holds them all (HLEN
 *               P:sockets, P:sessions, P:nodesock:<node 2>, SCARD of the last
 *               user's set, polled on a raw connection: "directory" rate).
 *               Between rounds (--rounds) every socket goes down again, timed
 *               the same way.
 *   lookups     one in flight (sc_client_lookup is blocking), random existing
 *               keys, for --seconds each:
 *               - app L on node 1, cluster-wide (one Redis script call each)
 *                 by session id, by socket id, by user id;
 *               - app S on node 2 with local=true (answered from node 2's
 *                 registry, no Redis: what standalone mode does);
 *               - a raw RESP client (hiredis's reply parser) on the same
 *                 machine: HGET P:sessions <sid>, HGET P:sockets <id>,
 *                 SMEMBERS P:user:<uid>, i.e. the one Redis round trip an
 *                 app would make if it kept the directory itself.
 *               Every answer is checked (socket, session, user and node).
 *   diagnostic  the session lookup and the raw HGET again with one SCHED_IDLE
 *               spinner per CPU (see bench_util.h): how much of the
 *               difference is waking idle vCPUs once per process hop (the
 *               sidecast path has three processes, the raw one two).
 *
 * CPU per operation of each sidecastd and of redis-server comes from utime +
 * stime deltas in /proc/PID/stat, and Redis's own time per command from INFO
 * commandstats.
 *
 * Not a pass/fail test: it prints figures and ratios, and exits non-zero
 * only if the run itself failed (a process did not start, a lookup failed or
 * answered wrongly, a refusal, a sanitizer report in a daemon's log). Every
 * loop is bounded in iterations and in time. */
#include "bench_util.h"
#include "sidecast.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PREFIX "scbench" /* --redis-prefix of both nodes */
#define ADDR1 "127.0.0.1:3001"
#define ADDR2 "127.0.0.1:3002"
#define CALL_TIMEOUT_MS 10000                /* one blocking sidecast call */
#define SYNC_TIMEOUT_MS 120000               /* sc_client_sync after a burst */
#define DIRECTORY_TIMEOUT_NS (60 * NS_PER_S) /* burst reaching Redis */
#define READY_TIMEOUT_NS (10 * NS_PER_S)     /* node 1 sees node 2's sockets */
#define DIRECTORY_POLL_US 200
#define MAX_ROUNDS 10
#define MAX_LOOKUPS_PER_RUN 100000000ull
#define ID_LEN 32

/* ---- options ------------------------------------------------------------- */

typedef struct options {
    const char *sidecastd, *redis_server;
    unsigned sockets, per_user, rounds, batch, seed;
    double seconds, diag_seconds, warmup_seconds;
    bool no_spin, no_diag, keep;
} options;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: bench_lookup [OPTION]...\n"
            "Session lookups on two sidecastd nodes over a private redis-server, against a\n"
            "local lookup and one raw Redis round trip for the same key.\n"
            "  --sidecastd PATH        daemon binary (default: %s)\n"
            "  --redis-server PATH     (default: redis-server from PATH)\n"
            "  --sockets N             sockets registered on node 2 (default 10000)\n"
            "  --per-user K            sockets per user id (default 10)\n"
            "  --rounds R              socket-up bursts, each but the last followed by all\n"
            "                          sockets going down (default 3)\n"
            "  --batch B               flush the app's output every B socket_up calls\n"
            "                          (default 64)\n"
            "  --seconds S             each main lookup run (default 3)\n"
            "  --diag-seconds S        each secondary run: raw HGET P:sockets, raw SMEMBERS,\n"
            "                          local lookup by user, the idle-CPU runs (default 2)\n"
            "  --warmup-seconds S      unmeasured lookups before each run (default 0.2)\n"
            "  --seed N                random key sequence (default 1)\n"
            "  --no-diag               skip the secondary runs\n"
            "  --no-spin               skip the runs with idle CPUs kept busy\n"
            "  --keep                  keep the temporary directories and logs\n"
            "  -h, --help              this text\n",
            SC_SIDECASTD_PATH);
}

/* 0 run, 1 exit 0 (help), -1 bad usage. */
static int parse_options(int argc, char **argv, options *o)
{
    *o = (options){
        .sidecastd = SC_SIDECASTD_PATH,
        .redis_server = "redis-server",
        .sockets = 10000,
        .per_user = 10,
        .rounds = 3,
        .batch = 64,
        .seed = 1,
        .seconds = 3,
        .diag_seconds = 2,
        .warmup_seconds = 0.2,
    };
    const bench_opt opts[] = {
        BOPT_STR("sidecastd", &o->sidecastd),
        BOPT_STR("redis-server", &o->redis_server),
        BOPT_UINT("sockets", &o->sockets, 1, 1000000),
        BOPT_UINT("per-user", &o->per_user, 1, 1000),
        BOPT_UINT("rounds", &o->rounds, 1, MAX_ROUNDS),
        BOPT_UINT("batch", &o->batch, 1, 1000000),
        BOPT_DOUBLE("seconds", &o->seconds, 0.1, 600),
        BOPT_DOUBLE("diag-seconds", &o->diag_seconds, 0.1, 600),
        BOPT_DOUBLE("warmup-seconds", &o->warmup_seconds, 0, 60),
        BOPT_UINT("seed", &o->seed, 0, 0xffffffffu),
        BOPT_FLAG("no-diag", &o->no_diag),
        BOPT_FLAG("no-spin", &o->no_spin),
        BOPT_FLAG("keep", &o->keep),
    };
    return parse_bench_options(argc, argv, opts, SC_BENCH_ARRAY_LEN(opts), usage);
}

/* ---- ids ------------------------------------------------------------------- */

/* 20 characters each, like socket.io socket ids and engine.io sids. */
static void sock_id(char *b, unsigned i)
{
    snprintf(b, ID_LEN, "sock-%015u", i);
}
static void sess_id(char *b, unsigned i)
{
    snprintf(b, ID_LEN, "sess-%015u", i);
}
static void user_id(char *b, unsigned u)
{
    snprintf(b, ID_LEN, "user-%015u", u);
}

static uint64_t rng_state;
static uint64_t rng_next(void)
{
    uint64_t x = rng_state; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* ---- state ------------------------------------------------------------------- */

typedef struct bench {
    const options *o;
    redis_proc rs;
    daemon_proc n1, n2;
    sc_client *owner;  /* app O on node 2: holds the sockets */
    sc_client *looker; /* app L on node 1: cluster lookups */
    sc_client *local;  /* app S on node 2: local lookups */
    resp_conn mon;     /* raw: directory counts */
    resp_conn raw;     /* raw: the HGET / SMEMBERS runs */
    char node1[64], node2[64];
    unsigned users;
    unsigned errors; /* refusals, gaps */
} bench;

static unsigned user_sockets(const bench *b, unsigned u)
{
    unsigned first = u * b->o->per_user;
    return SC_BENCH_MIN(b->o->per_user, b->o->sockets - first);
}

static void on_error_cb(void *ud, int code, const char *message, const char *ref)
{
    ((bench *)ud)->errors++;
    no_error_cb(ud, code, message, ref);
}

static void on_gap_cb(void *ud, uint64_t from, uint64_t to, const char *reason)
{
    ((bench *)ud)->errors++;
    fail("sidecastd reports a pub/sub gap of %" PRIu64 " ms: %s", to - from, reason);
}

static uint64_t proc_ticks(pid_t pid)
{
    uint64_t t = 0;
    return proc_cpu_ticks(pid, &t) == 0 ? t : 0;
}

static double ticks_us(uint64_t ticks)
{
    return (double)ticks * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

/* Integer reply of one command on the monitor connection, or -1. */
static long long mon_int(bench *b, int argc, const char **argv)
{
    redisReply *rep = NULL;
    long long v = -1;
    if (conn_command(&b->mon, argc, argv, &rep) == 0 && rep && rep->type == REDIS_REPLY_INTEGER)
        v = rep->integer;
    else
        fail("redis %s %s: %s", argv[0], argc > 1 ? argv[1] : "",
             rep && rep->type == REDIS_REPLY_ERROR ? rep->str : "no integer reply");
    if (rep)
        freeReplyObject(rep);
    return v;
}

/* The directory's entries for node 2's sockets, as Redis holds them. */
typedef struct dir_counts {
    long long sockets, sessions, nodesock, last_user;
} dir_counts;

static int directory_counts(bench *b, dir_counts *d)
{
    char nodesock[128], ukey[128], uid[ID_LEN];
    snprintf(nodesock, sizeof(nodesock), PREFIX ":nodesock:%s", b->node2);
    user_id(uid, b->users - 1);
    snprintf(ukey, sizeof(ukey), PREFIX ":user:%s", uid);
    d->sockets = mon_int(b, 2, (const char *[]){"HLEN", PREFIX ":sockets"});
    d->sessions = mon_int(b, 2, (const char *[]){"HLEN", PREFIX ":sessions"});
    /* less the marker field '' every directory rewrite adds (cluster_directory.c) */
    d->nodesock = mon_int(b, 2, (const char *[]){"HLEN", nodesock});
    if (d->nodesock > 0 && mon_int(b, 3, (const char *[]){"HEXISTS", nodesock, ""}) == 1)
        d->nodesock--;
    d->last_user = mon_int(b, 2, (const char *[]){"SCARD", ukey});
    return d->sockets < 0 || d->sessions < 0 || d->nodesock < 0 || d->last_user < 0 ? -1 : 0;
}

/* Poll until the directory holds every socket (up) or none (down). Polls
 * HLEN P:sockets alone while it is short of the goal (one round trip per
 * poll), then all four counts. Returns the time it was complete, or 0. */
static uint64_t wait_directory(bench *b, bool up, uint64_t t0)
{
    long long want = up ? (long long)b->o->sockets : 0;
    long long want_user = up ? (long long)user_sockets(b, b->users - 1) : 0;
    uint64_t end = t0 + DIRECTORY_TIMEOUT_NS;
    dir_counts d = {0};
    for (unsigned it = 0; it < 1000000 && !interrupted; it++) {
        long long n = mon_int(b, 2, (const char *[]){"HLEN", PREFIX ":sockets"});
        if (n < 0)
            return 0;
        if (n == want) {
            uint64_t t = now_ns();
            if (directory_counts(b, &d) < 0)
                return 0;
            if (d.sockets == want && d.sessions == want && d.nodesock == want &&
                d.last_user == want_user)
                return t;
        }
        if (now_ns() > end)
            break;
        usleep(DIRECTORY_POLL_US);
    }
    if (!interrupted)
        fail("the directory in redis did not reach %lld sockets within %llu s (sockets %lld, "
             "sessions %lld, nodesock %lld, last user %lld)",
             want, (unsigned long long)(DIRECTORY_TIMEOUT_NS / NS_PER_S), d.sockets, d.sessions,
             d.nodesock, d.last_user);
    return 0;
}

/* ---- socket up / down bursts -------------------------------------------------- */

typedef struct burst {
    bool done;
    double sidecar_s;           /* sc_client_sync returned */
    double redis_s;             /* directory complete in Redis */
    uint64_t commands;          /* Redis commands node 2 sent */
    uint64_t cpu_n2, cpu_redis; /* ticks */
} burst;

static int run_burst(bench *b, bool up, burst *out)
{
    const options *o = b->o;
    memset(out, 0, sizeof(*out));
    uint64_t k0 = stat_or_zero(b->owner, "redis_commands");
    uint64_t c2 = proc_ticks(b->n2.pid), cr = proc_ticks(b->rs.pid);
    char id[ID_LEN], sid[ID_LEN], uid[ID_LEN];
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < o->sockets && !interrupted; i++) {
        sock_id(id, i);
        int r;
        if (up) {
            sess_id(sid, i);
            user_id(uid, i / o->per_user);
            r = sc_client_socket_up(b->owner, id, sid, uid, NULL, 0, NULL, 0);
        } else {
            r = sc_client_socket_down(b->owner, id);
        }
        if (r == 0 && (i + 1) % o->batch == 0)
            r = sc_client_flush(b->owner);
        if (r < 0)
            return fail("socket %s %s: %s", up ? "up" : "down", id, sc_client_last_error(b->owner));
    }
    if (interrupted)
        return -1;
    if (sc_client_sync(b->owner, SYNC_TIMEOUT_MS) < 0)
        return fail("sync after the burst: %s", sc_client_last_error(b->owner));
    uint64_t t_sync = now_ns();
    uint64_t t_dir = wait_directory(b, up, t0);
    if (!t_dir)
        return -1;
    out->cpu_n2 = proc_ticks(b->n2.pid) - c2;
    out->cpu_redis = proc_ticks(b->rs.pid) - cr;
    out->sidecar_s = (double)(t_sync - t0) / (double)NS_PER_S;
    out->redis_s = (double)(t_dir - t0) / (double)NS_PER_S;
    out->commands = stat_or_zero(b->owner, "redis_commands") - k0;
    out->done = true;
    return 0;
}

/* ---- lookup runs ---------------------------------------------------------------- */

typedef enum { K_SESSION, K_SOCKET, K_USER } key_kind;

typedef enum { V_CLUSTER, V_LOCAL, V_RAW } via;

typedef struct lrun {
    const char *label;
    const char *raw_cmd; /* redis command name in commandstats, for V_RAW */
    key_kind kind;
    via how;
    bool spin;
    bool done;
    uint64_t n;
    double secs;
    hist lat;                                         /* ns */
    double cpu_sidecar_us, cpu_redis_us, cpu_self_us; /* per lookup */
    double redis_usec_per_call;                       /* Redis's own time, commandstats */
    uint64_t redis_calls;
} lrun;

/* What one lookup must answer. */
typedef struct expect {
    const bench *b;
    const char *node;
    bool local;
    unsigned index; /* socket index, or user index */
    key_kind kind;
    unsigned seen, bad;
} expect;

static void check_location(void *ud, const sc_location *l)
{
    expect *e = ud;
    char want_sock[ID_LEN], want_sess[ID_LEN], want_user[ID_LEN];
    e->seen++;
    unsigned i = e->index;
    if (e->kind == K_USER) {
        user_id(want_user, i);
        if (strcmp(l->user_id, want_user) != 0 || strncmp(l->socket_id, "sock-", 5) != 0 ||
            (unsigned)atoi(l->socket_id + 5) / e->b->o->per_user != i)
            e->bad++;
    } else {
        sock_id(want_sock, i);
        sess_id(want_sess, i);
        user_id(want_user, i / e->b->o->per_user);
        if (strcmp(l->socket_id, want_sock) != 0 || strcmp(l->session_id, want_sess) != 0 ||
            strcmp(l->user_id, want_user) != 0)
            e->bad++;
    }
    if (strcmp(l->node_id, e->node) != 0 || l->local != e->local ||
        strcmp(l->address, ADDR2) != 0 || strcmp(l->node_name, "bench-node2") != 0)
        e->bad++;
}

/* One lookup of a random existing key; 0 or -1 (reported). */
static int lookup_once(bench *b, const lrun *run)
{
    unsigned count = run->kind == K_USER ? b->users : b->o->sockets;
    unsigned i = (unsigned)(rng_next() % count);
    char key[ID_LEN];
    if (run->kind == K_SESSION)
        sess_id(key, i);
    else if (run->kind == K_SOCKET)
        sock_id(key, i);
    else
        user_id(key, i);
    unsigned want = run->kind == K_USER ? user_sockets(b, i) : 1;

    if (run->how != V_RAW) {
        sc_client *c = run->how == V_LOCAL ? b->local : b->looker;
        expect e = {
            .b = b, .node = b->node2, .local = run->how == V_LOCAL, .index = i, .kind = run->kind};
        static const sc_lookup_kind kinds[] = {SC_BY_SESSION, SC_BY_SOCKET, SC_BY_USER};
        int n = sc_client_lookup(c, kinds[run->kind], key, run->how == V_LOCAL, check_location, &e,
                                 CALL_TIMEOUT_MS);
        if (n < 0)
            return fail("%s of %s: %s", run->label, key, sc_client_last_error(c));
        if ((unsigned)n != want || e.seen != want || e.bad)
            return fail("%s of %s: %d socket(s), %u reported, %u wrong; expected %u", run->label,
                        key, n, e.seen, e.bad, want);
        return 0;
    }

    char ukey[128], want_str[64] = "";
    const char *argv[3] = {"HGET", NULL, key};
    int argc = 3;
    if (run->kind == K_SESSION) {
        argv[1] = PREFIX ":sessions";
        sock_id(want_str, i);
    } else if (run->kind == K_SOCKET) {
        argv[1] = PREFIX ":sockets";
        snprintf(want_str, sizeof(want_str), "%s", b->node2);
    } else {
        snprintf(ukey, sizeof(ukey), PREFIX ":user:%s", key);
        argv[0] = "SMEMBERS";
        argv[1] = ukey;
        argc = 2;
    }
    redisReply *rep = NULL;
    int r = conn_command(&b->raw, argc, argv, &rep);
    bool ok =
        r == 0 && rep &&
        (run->kind == K_USER ? rep->type == REDIS_REPLY_ARRAY && rep->elements == want
                             : rep->type == REDIS_REPLY_STRING && strcmp(rep->str, want_str) == 0);
    if (!ok)
        fail("%s of %s: %s", run->label, key,
             r < 0                            ? strerror(-r)
             : !rep                           ? "no reply"
             : rep->type == REDIS_REPLY_ERROR ? rep->str
                                              : "unexpected reply");
    if (rep)
        freeReplyObject(rep);
    return ok ? 0 : -1;
}

static void redis_cmd_totals(bench *b, const char *const *cmds, uint64_t *calls, uint64_t *usec)
{
    *calls = *usec = 0;
    redisReply *rep = redis_query(b->rs.port, 2, (const char *[]){"INFO", "commandstats"});
    if (rep && rep->type == REDIS_REPLY_STRING) {
        for (size_t i = 0; cmds[i]; i++) {
            uint64_t c = 0, u = 0;
            parse_cmdstat(rep->str, cmds[i], &c, &u);
            *calls += c;
            *usec += u;
        }
    }
    if (rep)
        freeReplyObject(rep);
}

/* Sequential lookups for `seconds`, after an unmeasured warmup. */
static int run_lookups(bench *b, lrun *run, double seconds)
{
    static const char *const script_cmds[] = {"evalsha", "eval", NULL};
    const char *raw_cmds[] = {run->raw_cmd, NULL};
    const char *const *cmds = run->how == V_RAW ? raw_cmds : script_cmds;
    printf("  %s...\n", run->label);
    fflush(stdout);
    spinners sp = {.n = 0};
    if (run->spin && spinners_start(&sp) < 0)
        return -1;
    int rc = -1;
    uint64_t end = now_ns() + (uint64_t)(b->o->warmup_seconds * (double)NS_PER_S);
    for (uint64_t k = 0; k < MAX_LOOKUPS_PER_RUN && now_ns() < end && !interrupted; k++)
        if (lookup_once(b, run) < 0)
            goto out;
    pid_t sidecar = run->how == V_LOCAL ? b->n2.pid : b->n1.pid;
    uint64_t calls0, usec0, calls1, usec1;
    redis_cmd_totals(b, cmds, &calls0, &usec0);
    uint64_t cs = proc_ticks(sidecar), cr = proc_ticks(b->rs.pid);
    double self0 = self_cpu_s();
    uint64_t t0 = now_ns(), now = t0;
    end = t0 + (uint64_t)(seconds * (double)NS_PER_S);
    uint64_t n = 0;
    while (n < MAX_LOOKUPS_PER_RUN && now < end && !interrupted) {
        if (lookup_once(b, run) < 0)
            goto out;
        uint64_t t = now_ns();
        hist_add(&run->lat, t - now);
        now = t;
        n++;
    }
    if (interrupted)
        goto out;
    run->secs = (double)(now - t0) / (double)NS_PER_S;
    run->n = n;
    double d = (double)SC_BENCH_MAX(n, 1);
    run->cpu_sidecar_us = run->how == V_RAW ? 0 : ticks_us(proc_ticks(sidecar) - cs) / d;
    run->cpu_redis_us = ticks_us(proc_ticks(b->rs.pid) - cr) / d;
    run->cpu_self_us = (self_cpu_s() - self0) * 1e6 / d;
    redis_cmd_totals(b, cmds, &calls1, &usec1);
    run->redis_calls = calls1 - calls0;
    run->redis_usec_per_call =
        run->redis_calls ? (double)(usec1 - usec0) / (double)run->redis_calls : 0;
    run->done = true;
    rc = 0;
out:
    if (run->spin)
        spinners_stop(&sp);
    return rc;
}

/* ---- setup -------------------------------------------------------------------- */

static int open_client(const char *path, const char *name, bench *b, sc_client **ret)
{
    sc_client_options co = {.path = path,
                            .name = name,
                            .timeout_ms = CALL_TIMEOUT_MS,
                            .on_error = on_error_cb,
                            .on_gap = on_gap_cb,
                            .ud = b};
    if (sc_client_open(&co, ret) < 0)
        return fail("%s: %s", name, sc_client_last_error(*ret));
    return 0;
}

/* Node 1 answers a cluster lookup for node 2's first socket (node 2's
 * liveness key is written and its script loaded). */
static int wait_ready(bench *b)
{
    uint64_t end = now_ns() + READY_TIMEOUT_NS;
    char sid[ID_LEN];
    sess_id(sid, 0);
    for (unsigned it = 0; it < 10000 && !interrupted; it++) {
        int n = sc_client_lookup(b->looker, SC_BY_SESSION, sid, false, NULL, NULL, CALL_TIMEOUT_MS);
        if (n == 1)
            return 0;
        if (n < 0)
            return fail("lookup from node 1: %s", sc_client_last_error(b->looker));
        if (now_ns() > end)
            break;
        usleep(10000);
    }
    return fail("node 1 did not find node 2's sockets within %llu s",
                (unsigned long long)(READY_TIMEOUT_NS / NS_PER_S));
}

/* ---- report ------------------------------------------------------------------- */

static double us(uint64_t ns)
{
    return (double)ns / 1e3;
}

static double p50_us(const lrun *r)
{
    return us(hist_pct(&r->lat, 0.50));
}

static double p99_us(const lrun *r)
{
    return us(hist_pct(&r->lat, 0.99));
}

static double rate(const lrun *r)
{
    return r->secs > 0 ? (double)r->n / r->secs : 0;
}

static void print_lrun(const lrun *r, const lrun *ref)
{
    if (!r->done)
        return;
    char cmd[48] = "-", sc_cpu[16] = "-", ratio[24] = "-";
    if (r->redis_calls && r->how != V_LOCAL) /* local: only the heartbeats' scripts ran */
        snprintf(cmd, sizeof(cmd), "%.2f %s", r->redis_usec_per_call,
                 r->how == V_RAW ? r->raw_cmd : "evalsha");
    if (r->how != V_RAW)
        snprintf(sc_cpu, sizeof(sc_cpu), "%.1f", r->cpu_sidecar_us);
    if (ref && ref->done && ref != r)
        snprintf(ratio, sizeof(ratio), "%.2fx", p50_us(r) / p50_us(ref));
    printf("| %-44s | %7.1f | %7.1f | %8.1f | %9s | %8s | %8.1f | %7.1f | %-17s | %-7s |\n",
           r->label, p50_us(r), p99_us(r), us(r->lat.max), grp(rate(r)), sc_cpu, r->cpu_redis_us,
           r->cpu_self_us, cmd, ratio);
}

static double median(const double *v, unsigned n)
{
    double s[MAX_ROUNDS]; /* a copy: stat3_of sorts it */
    memcpy(s, v, n * sizeof(s[0]));
    return stat3_of(s, n).med;
}

/* ---- main --------------------------------------------------------------------- */

enum {
    R_SESSION,
    R_SOCKET,
    R_USER,
    R_LOCAL_SESSION,
    R_RAW_SESSION,
    R_RAW_SOCKET,
    R_RAW_USER,
    R_LOCAL_USER,
    R_SPIN_SESSION,
    R_SPIN_RAW,
    R_COUNT
};

int main(int argc, char **argv)
{
    bench_prog = "bench_lookup";
    options o;
    int pr = parse_options(argc, argv, &o);
    if (pr != 0)
        return pr > 0 ? 0 : 2;
    signal(SIGINT, on_sigint);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    rng_state = 0x9E3779B97F4A7C15ull ^ ((uint64_t)o.seed << 17 | 1);

    char cmdline[1024];
    join_cmdline(argc, argv, cmdline, sizeof(cmdline));
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("sidecast bench_lookup: session lookups on two sidecastd nodes over one "
           "redis-server (build %s, %ld CPUs, loopback)\n",
           SC_BUILD_TYPE, ncpu);
    printf("command: %s\n", cmdline);
    printf("sidecastd: %s\n", o.sidecastd);

    bench *b = calloc(1, sizeof(*b));
    lrun *runs = calloc(R_COUNT, sizeof(*runs));
    burst *ups = calloc(MAX_ROUNDS, sizeof(*ups)), *downs = calloc(MAX_ROUNDS, sizeof(*downs));
    if (!b || !runs || !ups || !downs) {
        free(b);
        free(runs);
        free(ups);
        free(downs);
        fail("out of memory");
        return 1;
    }
    b->o = &o;
    b->users = (o.sockets + o.per_user - 1) / o.per_user;
    b->n1.pid = b->n2.pid = -1;
    b->mon.fd = b->raw.fd = -1;

    runs[R_SESSION] = (lrun){
        .label = "cluster, by session id (app on node 1)", .kind = K_SESSION, .how = V_CLUSTER};
    runs[R_SOCKET] = (lrun){
        .label = "cluster, by socket id (app on node 1)", .kind = K_SOCKET, .how = V_CLUSTER};
    runs[R_USER] =
        (lrun){.label = "cluster, by user id (app on node 1)", .kind = K_USER, .how = V_CLUSTER};
    runs[R_LOCAL_SESSION] = (lrun){
        .label = "local=true, by session id (app on node 2)", .kind = K_SESSION, .how = V_LOCAL};
    runs[R_RAW_SESSION] = (lrun){.label = "raw redis: HGET " PREFIX ":sessions <sid>",
                                 .raw_cmd = "hget",
                                 .kind = K_SESSION,
                                 .how = V_RAW};
    runs[R_RAW_SOCKET] = (lrun){.label = "raw redis: HGET " PREFIX ":sockets <id>",
                                .raw_cmd = "hget",
                                .kind = K_SOCKET,
                                .how = V_RAW};
    runs[R_RAW_USER] = (lrun){.label = "raw redis: SMEMBERS " PREFIX ":user:<uid>",
                              .raw_cmd = "smembers",
                              .kind = K_USER,
                              .how = V_RAW};
    runs[R_LOCAL_USER] =
        (lrun){.label = "local=true, by user id (app on node 2)", .kind = K_USER, .how = V_LOCAL};
    runs[R_SPIN_SESSION] = (lrun){.label = "cluster, by session id, idle CPUs busy",
                                  .kind = K_SESSION,
                                  .how = V_CLUSTER,
                                  .spin = true};
    runs[R_SPIN_RAW] = (lrun){.label = "raw redis: HGET sessions, idle CPUs busy",
                              .raw_cmd = "hget",
                              .kind = K_SESSION,
                              .how = V_RAW,
                              .spin = true};

    int rc = 0;
    uint64_t t_start = now_ns();
    unsigned nup = 0, ndown = 0;
    if (redis_start(&b->rs, o.redis_server, o.keep) < 0) {
        rc = 1;
        goto stop;
    }
    printf("redis-server: pid %d, port %d, version %s\n", (int)b->rs.pid, b->rs.port,
           b->rs.version);

    const char *a1[] = {"--redis-url",
                        b->rs.url,
                        "--redis-prefix",
                        PREFIX,
                        "--node-name",
                        "bench-node1",
                        "--advertise-address",
                        ADDR1,
                        "--canary-interval-ms",
                        "0",
                        NULL};
    const char *a2[] = {"--redis-url",
                        b->rs.url,
                        "--redis-prefix",
                        PREFIX,
                        "--node-name",
                        "bench-node2",
                        "--advertise-address",
                        ADDR2,
                        "--canary-interval-ms",
                        "0",
                        NULL};
    if (daemon_start(&b->n1, o.sidecastd, o.keep, -1, a1) < 0 ||
        daemon_start(&b->n2, o.sidecastd, o.keep, -1, a2) < 0) {
        rc = 1;
        goto stop;
    }
    if (open_client(b->n2.sock, "bench-owner", b, &b->owner) < 0 ||
        open_client(b->n1.sock, "bench-lookup-node1", b, &b->looker) < 0 ||
        open_client(b->n2.sock, "bench-lookup-node2", b, &b->local) < 0) {
        rc = 1;
        goto stop;
    }
    snprintf(b->node1, sizeof(b->node1), "%s", sc_client_node_id(b->looker));
    snprintf(b->node2, sizeof(b->node2), "%s", sc_client_node_id(b->owner));
    if (conn_open(&b->mon, b->rs.port) < 0 || conn_open(&b->raw, b->rs.port) < 0) {
        fail("connect to redis on port %d: %s", b->rs.port, strerror(errno));
        rc = 1;
        goto stop;
    }
    printf("node 1: sidecastd pid %d, node id %s; node 2: sidecastd pid %d, node id %s\n",
           (int)b->n1.pid, b->node1, (int)b->n2.pid, b->node2);

    /* 1. socket up bursts */
    printf("\nsocket up: %s sockets on node 2 (%s users x %u), one app, flushed every %u "
           "calls, %u round(s)...\n",
           grp(o.sockets), grp(b->users), o.per_user, o.batch, o.rounds);
    for (unsigned r = 0; r < o.rounds && !interrupted; r++) {
        if (run_burst(b, true, &ups[nup]) < 0) {
            rc = 1;
            goto stop;
        }
        printf("  round %u up: sidecar %.1f ms, directory in redis %.1f ms\n", r + 1,
               ups[nup].sidecar_s * 1e3, ups[nup].redis_s * 1e3);
        nup++;
        if (r + 1 < o.rounds) {
            if (run_burst(b, false, &downs[ndown]) < 0) {
                rc = 1;
                goto stop;
            }
            printf("  round %u down: sidecar %.1f ms, directory in redis %.1f ms\n", r + 1,
                   downs[ndown].sidecar_s * 1e3, downs[ndown].redis_s * 1e3);
            ndown++;
        }
    }
    if (interrupted || wait_ready(b) < 0) {
        rc = 1;
        goto stop;
    }

    /* 2. lookups */
    printf("\nlookups: one in flight, random existing keys, %.1f s each (secondary %.1f s)...\n",
           o.seconds, o.diag_seconds);
    /* each sidecast run next to the raw run it is compared with */
    static const int order[] = {R_RAW_SESSION, R_SESSION,     R_LOCAL_SESSION, R_SOCKET,
                                R_RAW_SOCKET,  R_USER,        R_RAW_USER,      R_LOCAL_USER,
                                R_SPIN_RAW,    R_SPIN_SESSION};
    for (size_t k = 0; k < SC_BENCH_ARRAY_LEN(order) && !interrupted; k++) {
        int i = order[k];
        bool diag = i >= R_RAW_SOCKET;
        if ((diag && o.no_diag) || (runs[i].spin && o.no_spin))
            continue;
        if (run_lookups(b, &runs[i], diag ? o.diag_seconds : o.seconds) < 0) {
            rc = 1;
            break;
        }
    }
    if (b->errors) {
        fail("%u refusal(s) or gap(s) reported by sidecastd", b->errors);
        rc = 1;
    }

stop:
    sc_client_close(b->owner);
    sc_client_close(b->looker);
    sc_client_close(b->local);
    conn_close(&b->mon);
    conn_close(&b->raw);
    if (daemon_stop(&b->n1) < 0)
        rc = 1;
    if (daemon_stop(&b->n2) < 0)
        rc = 1;
    if (redis_stop(&b->rs) < 0)
        rc = 1;
    double total_s = (double)(now_ns() - t_start) / (double)NS_PER_S;
    if (interrupted)
        rc = 1;

    /* ---- report ---- */
    double up_dir[MAX_ROUNDS], up_sc[MAX_ROUNDS], down_dir[MAX_ROUNDS], down_sc[MAX_ROUNDS];
    uint64_t up_cmds = 0, up_cpu2 = 0, up_cpur = 0, down_cmds = 0, down_cpu2 = 0, down_cpur = 0;
    for (unsigned i = 0; i < nup; i++) {
        up_dir[i] = o.sockets / ups[i].redis_s;
        up_sc[i] = o.sockets / ups[i].sidecar_s;
        up_cmds += ups[i].commands;
        up_cpu2 += ups[i].cpu_n2;
        up_cpur += ups[i].cpu_redis;
    }
    for (unsigned i = 0; i < ndown; i++) {
        down_dir[i] = o.sockets / downs[i].redis_s;
        down_sc[i] = o.sockets / downs[i].sidecar_s;
        down_cmds += downs[i].commands;
        down_cpu2 += downs[i].cpu_n2;
        down_cpur += downs[i].cpu_redis;
    }
    double nsock = (double)o.sockets;
    if (nup) {
        printf("\nSocket up: %s sockets, each with a session id and a user id (%u per user), "
               "one app on node 2\n",
               grp(o.sockets), o.per_user);
        printf("| %-6s | %-10s | %-11s | %-18s | %-16s | %-18s |\n", "burst", "sidecar ms",
               "redis ms", "sidecar sockets/s", "in redis sockets/s", "redis cmds/socket");
        printf("|--------|------------|-------------|--------------------|------------------|"
               "--------------------|\n");
        for (unsigned i = 0; i < nup; i++) {
            printf("| up %-3u | %10.1f | %11.1f | %18s | %16s | %18.2f |\n", i + 1,
                   ups[i].sidecar_s * 1e3, ups[i].redis_s * 1e3, grp(up_sc[i]), grp(up_dir[i]),
                   (double)ups[i].commands / nsock);
            if (i < ndown)
                printf("| down %-1u | %10.1f | %11.1f | %18s | %16s | %18.2f |\n", i + 1,
                       downs[i].sidecar_s * 1e3, downs[i].redis_s * 1e3, grp(down_sc[i]),
                       grp(down_dir[i]), (double)downs[i].commands / nsock);
        }
        printf("socket up, median of %u: %s sockets/s into the redis directory, %s sockets/s "
               "through the sidecar alone\n",
               nup, grp(median(up_dir, nup)), grp(median(up_sc, nup)));
        printf("  CPU per socket up: sidecastd 2 %.2f us, redis %.2f us; redis commands per "
               "socket: %.2f\n",
               ticks_us(up_cpu2) / (nsock * nup), ticks_us(up_cpur) / (nsock * nup),
               (double)up_cmds / (nsock * nup));
        if (ndown)
            printf("socket down, median of %u: %s sockets/s out of the redis directory, %s "
                   "sockets/s through the sidecar; CPU per socket down: sidecastd 2 %.2f us, "
                   "redis %.2f us; redis commands per socket: %.2f\n",
                   ndown, grp(median(down_dir, ndown)), grp(median(down_sc, ndown)),
                   ticks_us(down_cpu2) / (nsock * ndown), ticks_us(down_cpur) / (nsock * ndown),
                   (double)down_cmds / (nsock * ndown));
    }

    const lrun *raw_s = &runs[R_RAW_SESSION];
    bool any = false;
    for (int i = 0; i < R_COUNT; i++)
        any |= runs[i].done;
    if (any) {
        printf("\nLookups, one in flight, random existing keys among %s sockets / %s users "
               "(CPU in us per lookup; redis us/call from INFO commandstats; last column: p50 / "
               "p50 of the raw HGET %s:sessions, the idle-CPU row against the idle-CPU HGET)\n",
               grp(o.sockets), grp(b->users), PREFIX);
        printf("| %-44s | %7s | %7s | %8s | %9s | %8s | %8s | %7s | %-17s | %-7s |\n", "lookup",
               "p50 us", "p99 us", "max us", "lookups/s", "sidecar", "redis", "bench",
               "redis us/call", "vs HGET");
        printf("|----------------------------------------------|---------|---------|----------|"
               "-----------|----------|----------|---------|-------------------|---------|\n");
        for (int i = 0; i < R_COUNT; i++)
            print_lrun(&runs[i], runs[i].spin ? &runs[R_SPIN_RAW] : raw_s);

        bool header = false;
        struct {
            int a, b;
            const char *what;
        } pairs[] = {
            {R_SESSION, R_RAW_SESSION, "cluster by session / raw HGET sessions"},
            {R_SOCKET, R_RAW_SOCKET, "cluster by socket / raw HGET sockets"},
            {R_USER, R_RAW_USER, "cluster by user / raw SMEMBERS user"},
            {R_LOCAL_SESSION, R_RAW_SESSION, "local by session / raw HGET sessions"},
            {R_LOCAL_USER, R_RAW_USER, "local by user / raw SMEMBERS user"},
            {R_SESSION, R_LOCAL_SESSION, "cluster by session / local by session"},
            {R_SPIN_SESSION, R_SPIN_RAW, "idle CPUs busy: cluster by session / raw HGET"},
        };
        for (size_t i = 0; i < SC_BENCH_ARRAY_LEN(pairs); i++) {
            const lrun *x = &runs[pairs[i].a], *y = &runs[pairs[i].b];
            if (!x->done || !y->done)
                continue;
            if (!header)
                printf("\nRatios (latency p50 / p50, throughput lookups/s / lookups/s)\n");
            header = true;
            printf("  %-48s %5.2fx latency (%+.1f us), %5.2fx lookups/s\n", pairs[i].what,
                   p50_us(x) / p50_us(y), p50_us(x) - p50_us(y), rate(x) / rate(y));
        }
    }

    const lrun *cs = &runs[R_SESSION], *ck = &runs[R_SOCKET], *cu = &runs[R_USER],
               *ls = &runs[R_LOCAL_SESSION];
    if (nup && cs->done && ck->done && cu->done && ls->done && raw_s->done) {
        printf("\nsummary: %s sockets (%u per user), %ld CPUs, %s: socket up %s/s into the "
               "redis directory (%s/s through the sidecar); cluster lookup p50/p99 by session "
               "%.0f/%.0f us (%s/s), by socket %.0f/%.0f us, by user (%u sockets) %.0f/%.0f us "
               "= %.2fx a raw redis HGET (%.0f us p50, %s/s; +%.0f us); local lookup by session "
               "%.0f us p50 (%s/s)\n",
               grp(o.sockets), o.per_user, ncpu, SC_BUILD_TYPE, grp(median(up_dir, nup)),
               grp(median(up_sc, nup)), p50_us(cs), p99_us(cs), grp(rate(cs)), p50_us(ck),
               p99_us(ck), o.per_user, p50_us(cu), p99_us(cu), p50_us(cs) / p50_us(raw_s),
               p50_us(raw_s), grp(rate(raw_s)), p50_us(cs) - p50_us(raw_s), p50_us(ls),
               grp(rate(ls)));
    }
    printf("\ncommand: %s\n", cmdline);
    printf("total run time %.1f s%s\n", total_s,
           interrupted ? " (interrupted)"
           : rc        ? " (the run FAILED, see above)"
                       : "");
    free(b);
    free(runs);
    free(ups);
    free(downs);
    return rc;
}
