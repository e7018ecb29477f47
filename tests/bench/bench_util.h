/* bench_util: helpers shared by the benchmarks in tests/bench (bench_local,
 * bench_cluster, bench_lookup, bench_tls, bench_rcluster): clock, error
 * messages, option parsing, the report header, /proc readers, child
 * processes, a sidecastd and a private redis-server started by pid in
 * temporary directories, a raw RESP connection (hiredis's reply parser),
 * two sidecastd nodes with an emitting and a receiving app (saturated rounds,
 * CPU per message), idle-CPU spinners, a latency histogram, medians over
 * rounds and number formatting. Benchmark code only: not part of any
 * installed library. */
#ifndef SC_BENCH_UTIL_H
#define SC_BENCH_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

#include "sidecast.h"

#define NS_PER_S 1000000000ull
#define MAX_LOOP_ITERATIONS 100000000ull /* hard bound on any poll loop */
#define START_TIMEOUT_NS (30 * NS_PER_S) /* sidecastd answering ping (sanitizers are slow) */
#define STOP_TIMEOUT_NS (30 * NS_PER_S)
#define SC_BENCH_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SC_BENCH_MAX(a, b) ((a) > (b) ? (a) : (b))
#define SC_BENCH_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Set by tests/bench/CMakeLists.txt (the sidecastd it builds, the build
 * type); these only for a build without it. */
#ifndef SC_SIDECASTD_PATH
#define SC_SIDECASTD_PATH "sidecastd"
#endif
#ifndef SC_BUILD_TYPE
#define SC_BUILD_TYPE "unknown"
#endif

/* Name prefixed to messages ("bench_local: ..."); set it first thing in main. */
extern const char *bench_prog;

/* Set by on_sigint (install it for SIGINT): every loop checks it. */
extern volatile sig_atomic_t interrupted;
void on_sigint(int sig);

/* CLOCK_MONOTONIC in ns. */
uint64_t now_ns(void);

/* Print "<bench_prog>: <message>" to stderr; returns -1. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Option values: 0, or -1 after printing why ("--name must be ..."). */
int parse_double(const char *name, const char *s, double lo, double hi, double *ret);
int parse_uint(const char *name, const char *s, unsigned lo, unsigned hi, unsigned *ret);

/* One long option of a bench ("--name VALUE", or "--name" for a flag). */
typedef enum { OPT_STR, OPT_UINT, OPT_DOUBLE, OPT_FLAG } bench_opt_kind;
typedef struct bench_opt {
    const char *name;    /* without the "--" */
    bench_opt_kind kind; /* what val points to: const char *, unsigned, double, bool */
    void *val;           /* set from the argument (a flag: to true) */
    double lo, hi;       /* OPT_UINT, OPT_DOUBLE: the range (parse_uint, parse_double) */
} bench_opt;

/* Table entries, each checking the type its value points to. */
/* clang-format off */
#define BOPT_STR(name, p) {(name), OPT_STR, (void *)(1 ? (p) : (const char **)NULL), 0, 0}
#define BOPT_FLAG(name, p) {(name), OPT_FLAG, (void *)(1 ? (p) : (bool *)NULL), 0, 0}
#define BOPT_UINT(name, p, lo, hi) {(name), OPT_UINT, (void *)(1 ? (p) : (unsigned *)NULL), lo, hi}
#define BOPT_DOUBLE(name, p, lo, hi) {(name), OPT_DOUBLE, (void *)(1 ? (p) : (double *)NULL), lo, hi}
/* clang-format on */

/* getopt_long over opts (n of them) plus -h / --help; the values keep
 * what they hold unless given. 0 run, 1 exit 0 (--help printed usage to
 * stdout), -1 bad usage (usage, or why, printed to stderr). */
int parse_bench_options(int argc, char **argv, const bench_opt *opts, size_t n,
                        void (*usage)(FILE *out));

/* argv joined by spaces into buf (truncated to len). */
void join_cmdline(int argc, char **argv, char *buf, size_t len);

/* What a bench knows of its run, for its header and summary. */
typedef struct bench_run {
    char cmdline[2048]; /* argv joined */
    char when[64];      /* the start, "YYYY-MM-DD HH:MM UTC" */
    double load[3];     /* load averages at the start (0 if unreadable) */
    long ncpu;          /* CPUs online */
} bench_run;

/* The start of a bench's main, once its options are read: SIGINT to
 * on_sigint (sigaction, no SA_RESTART), SIGPIPE ignored, stdout
 * line-buffered; fills r and prints the header:
 *   sidecast <bench_prog>: <what, printf-style> (build <SC_BUILD_TYPE>, <N> CPUs<where>)
 *   command: <argv>
 *   date: <when>, load average A B C at the start     (only if dated)
 *   sidecastd: <sidecastd>                            */
void bench_begin(bench_run *r, int argc, char **argv, const char *sidecastd, bool dated,
                 const char *where, const char *what, ...) __attribute__((format(printf, 7, 8)));

/* ---- /proc readers ---------------------------------------------------------- */

/* utime + stime of a process, in clock ticks; 0 or a negative errno. */
int proc_cpu_ticks(pid_t pid, uint64_t *ret);
/* A "Name:   N kB" line of /proc/PID/status (pid <= 0: this process), in
 * kB; -1 if unreadable. */
long proc_status_kb(pid_t pid, const char *name);
/* This process's user + system CPU time, in seconds. */
double self_cpu_s(void);

/* Run time of every thread of pid in ns (/proc/PID/task/STAR/schedstat,
 * first field; finer than /proc/PID/stat's ticks); 0 or a negative errno. */
int proc_sched_ns(pid_t pid, uint64_t *ret);

void print_file(const char *path, FILE *out);
bool file_contains(const char *path, const char *needle);

/* ---- child processes ------------------------------------------------------------ */

/* In a child just forked: stdout and stderr appended to `out` (unless NULL),
 * SIGINT ignored (Ctrl-C stops the bench, which then stops its children),
 * then argv[0] run with argv (execv when it holds a '/', else execvp, from
 * PATH). If that fails: "exec ARGV0: why" on stderr and exit status 127. */
_Noreturn void child_exec(const char *const *argv, const char *out);

/* Run argv (no shell) to its end, stdin from /dev/null, output appended to
 * `out`, bounded by timeout_ns (then SIGKILL by pid). 0 if it exited with 0;
 * otherwise -1 after printing its output and why. */
int run_bounded(const char *const *argv, const char *out, uint64_t timeout_ns);

/* ---- CPU time of a set of processes ------------------------------------------- */

#define CPU_PROCS_MAX 8

/* One reading of each process's CPU time. */
typedef struct cpu_snap {
    uint64_t ticks[CPU_PROCS_MAX]; /* utime + stime (proc_cpu_ticks) */
    uint64_t ns[CPU_PROCS_MAX];    /* run time (proc_sched_ns) */
    bool have_ns;                  /* a non-zero run time read for every process */
    double self_s;                 /* this process (self_cpu_s) */
} cpu_snap;

/* CPU per message of each process between two readings. */
typedef struct cpu_use {
    double tick_us[CPU_PROCS_MAX]; /* from ticks */
    double ns_us[CPU_PROCS_MAX];   /* from run time (meaningful if have_ns) */
    bool have_ns;                  /* both readings had it */
    double self_us;                /* this process */
    uint64_t min_ticks;            /* the fewest ticks a process used: the resolution */
} cpu_use;

/* pids[0..n), n <= CPU_PROCS_MAX. 0, or -1 after printing why. */
int cpu_read(const pid_t *pids, size_t n, cpu_snap *s);
void cpu_per_message(const cpu_snap *before, const cpu_snap *after, size_t n, uint64_t messages,
                     cpu_use *u);

/* ---- sidecastd ------------------------------------------------------------------ */

typedef struct daemon_proc {
    char dir[64];
    char sock[128];
    char log[128];
    pid_t pid;
    bool keep;
} daemon_proc;

/* Start sidecastd (`path`) on a socket in a fresh temporary directory with
 * `--socket S --log-level warn` plus `extra_args` (NULL-terminated, may be
 * NULL), pinned to `cpu` if >= 0, and wait until it answers ping. */
int daemon_start(daemon_proc *d, const char *path, bool keep, int cpu,
                 const char *const *extra_args);
/* SIGTERM by pid, wait (bounded), then check the exit status and the log
 * (sanitizer reports); prints the log when something is wrong. Removes the
 * temporary directory unless keep. 0 or -1. */
int daemon_stop(daemon_proc *d);

/* Register n sockets ("rcv-%015u", session "ses-%015u") of client r,
 * socket i in rooms[i % nrooms], syncing every 10,000 and at the end. 0, or
 * -1 after printing why. */
int register_members(sc_client *r, unsigned n, const char *const *rooms, unsigned nrooms);

/* An on_error callback that prints the refusal. */
void no_error_cb(void *ud, int code, const char *message, const char *ref);

/* ---- RESP connection (raw socket, hiredis's reply parser) -------------------- */

#define IO_TIMEOUT_NS (10 * NS_PER_S) /* a synchronous Redis command */
#define READ_CHUNK (256 * 1024)

typedef struct resp_conn {
    int fd;
    redisReader *rd;
    char *out;
    size_t out_len, out_off, out_cap;
    bool eof;
} resp_conn;

/* A connected TCP socket to 127.0.0.1:port (nonblocking, TCP_NODELAY), or -1. */
int tcp_connect(int port);
/* 0, or -1 (c->fd is -1 then; conn_close is still safe). */
int conn_open(resp_conn *c, int port);
void conn_close(resp_conn *c);
/* Append raw bytes (already RESP) to the output queue; 0 or -ENOMEM. */
int conn_queue(resp_conn *c, const char *p, size_t n);
bool conn_wants_write(const resp_conn *c);
/* 0 all written, 1 some remain, negative errno. */
int conn_flush(resp_conn *c);
/* Read what is available into the parser. 0, or -EPIPE at EOF / error. */
int conn_read(resp_conn *c);
/* Next complete reply (1), none yet (0), or a protocol error (-EPROTO). */
int conn_next(resp_conn *c, redisReply **ret);
/* Send one command and wait (bounded by IO_TIMEOUT_NS) for its reply; the
 * caller frees *ret with freeReplyObject. */
int conn_command(resp_conn *c, int argc, const char **argv, redisReply **ret);

/* ---- redis-server --------------------------------------------------------------- */

#define REDIS_START_TIMEOUT_NS (10 * NS_PER_S)
#define REDIS_STOP_TIMEOUT_NS (10 * NS_PER_S)

/* In redis_launch's extra arguments: the second port, as a number. */
#define REDIS_ARG_PORT2 "$PORT2"

typedef struct redis_proc {
    pid_t pid;
    int port;
    int port2; /* a second port of its own (TLS, cluster bus) if asked, else 0 */
    char dir[64];
    char log[128];
    char out[128];    /* its stdout / stderr (startup errors) */
    char url[64];     /* redis://127.0.0.1:PORT */
    char version[32]; /* redis_version of INFO server, "?" if it did not say */
    bool keep;
    /* Files (names in dir) it writes besides log and out, such as
     * nodes.conf: removed before each start attempt and by redis_stop. */
    const char *const *files;
} redis_proc;

/* A TCP port on 127.0.0.1 that was free a moment ago, or -1. */
int free_port(void);
/* Start redis-server (`path`) on a free port of 127.0.0.1, without
 * persistence, in a fresh temporary directory, and wait until it answers
 * PING (redis_prepare, then redis_launch). 0 or -1 (stopped, cleaned up). */
int redis_start(redis_proc *r, const char *path, bool keep);
/* Its fresh temporary directory "/tmp/sidecast-bench-<tag>-XXXXXX" (for
 * files to make before it starts, such as certificates), log and output
 * paths; pid -1. 0 or -1. */
int redis_prepare(redis_proc *r, const char *tag, bool keep);
/* Start it in that directory, on a free port, without persistence, with
 * `extra` arguments too (NULL-terminated, may be NULL; an argument
 * REDIS_ARG_PORT2 asks for a second free port, r->port2, and stands for it),
 * and wait (bounded) until it answers PING and port2, if any, accepts
 * connections; then r->version. A port taken between choosing and binding
 * it makes redis exit: it tries others. 0, or -1 with the process gone and
 * the directory left for redis_stop. */
int redis_launch(redis_proc *r, const char *path, const char *const *extra);
/* SIGTERM by pid, wait (bounded), SIGKILL if it does not exit; removes the
 * temporary directory unless keep. 0 or -1. */
int redis_stop(redis_proc *r);
/* PING answered with PONG on a fresh connection. */
bool redis_pings(int port);
/* One-shot command on a fresh connection; the caller frees the reply (NULL
 * on failure). */
redisReply *redis_query(int port, int argc, const char **argv);
/* calls and usec of command `cmd` in an INFO commandstats text (0 if never
 * called). */
void parse_cmdstat(const char *info, const char *cmd, uint64_t *calls, uint64_t *usec);

/* ---- two sidecastd nodes: app E emits on node 1, app R receives on node 2 ---- */

/* Open app R ("bench-receiver", on r_sock, with cb's callbacks) and app E
 * ("bench-emitter", on e_sock, with cb's on_error and on_gap only), both
 * nonblocking, both with cb->ud. 0, or -1 after printing why, prefixed with
 * label ("receiver on node 2: ...", "on node N" only if the sockets differ). */
int open_apps(const char *e_sock, const char *r_sock, const sc_client_options *cb,
              const char *label, sc_client **e, sc_client **r);

/* The first 8 bytes of a readiness probe's payload, where a counted
 * message has its sequence number. */
#define PROBE_SEQ UINT64_MAX
/* A probe's payload of len (>= 8) bytes: PROBE_SEQ, then zeros; the caller
 * frees it. NULL after printing why. */
uint8_t *probe_payload(size_t len);

#define PAIR_SETTLE_NS (50 * 1000 * 1000ull) /* after a round, before its last CPU reading */

/* The options of a bench of two setups side by side, each a bench_pair,
 * in saturated rounds (bench_tls, bench_rcluster). */
typedef struct pair_options {
    unsigned messages;    /* emits per round */
    unsigned warmup;      /* unmeasured emits per setup before the rounds */
    unsigned rounds;      /* per setup, alternating */
    unsigned window;      /* emits in flight at most: emitted, not yet received */
    unsigned payload;     /* bytes per emit, >= 8 */
    double round_timeout; /* s: a round that takes longer fails */
} pair_options;

/* Their defaults: a bench's own counts and payload, 4096 emits in flight
 * and 60 s a round at most for all. */
/* clang-format off */
#define PAIR_OPTIONS(messages_, warmup_, rounds_, payload_)                                        \
    {.messages = (messages_), .warmup = (warmup_), .rounds = (rounds_), .window = 4096,           \
     .payload = (payload_), .round_timeout = 60}

/* Their bench_opt entries: --messages, --rounds (at most max_rounds),
 * --warmup, --window, --payload (at least min_payload), --round-timeout. */
#define BOPT_PAIR(po, max_rounds, min_payload)                                                     \
    BOPT_UINT("messages", &(po)->messages, 1000, 100000000),                                       \
    BOPT_UINT("rounds", &(po)->rounds, 1, max_rounds),                                             \
    BOPT_UINT("warmup", &(po)->warmup, 0, 100000000),                                              \
    BOPT_UINT("window", &(po)->window, 1, 1u << 16),                                               \
    BOPT_UINT("payload", &(po)->payload, min_payload, 65536),                                      \
    BOPT_DOUBLE("round-timeout", &(po)->round_timeout, 1, 3600)
/* clang-format on */

/* Two nodes, E and R. Every message E emits is a payload whose first 8
 * bytes are a sequence number (then 'x'), to one of the pair's targets (one
 * room each): the one with sequence number s to to[s % nto]. R checks that
 * each arrives once, in order per target, in its target's room. A probe has
 * its target's index after PROBE_SEQ (4 bytes) when the payload has room.
 * Set name, and n1.pid = n2.pid = -1 (pair_stop is then safe even without
 * pair_start), before pair_start. */
typedef struct bench_pair {
    const char *name; /* the setup, in messages and node names */
    /* the rest is pair_start's */
    const pair_options *opt;
    const sc_target *to; /* the targets, one room each */
    unsigned nto;
    daemon_proc n1, n2;
    sc_client *e, *r;  /* app E on node 1, app R on node 2 */
    uint64_t seq_next; /* E's next sequence number */
    /* R's counts; bad: foreign, malformed or in the wrong room */
    uint64_t received, bad, reordered;
    uint64_t errors;  /* refusals and gaps reported to E or R */
    uint64_t *next;   /* per target: the sequence number R expects next */
    bool *probe_seen; /* per target: a probe came back */
    unsigned nprobe_seen;
} bench_pair;

/* Start node 1 and node 2 (sidecastd `path`, daemon_start) with `args`
 * (NULL-terminated) and "--node-name bench-<name>-<1|2>", open E on node 1
 * and R on node 2 (open_apps), and register on R one socket per target in
 * its room (register_members). opt and to[0..nto) must outlive the pair.
 * 0, or -1 after printing why; pair_stop in either case. */
int pair_start(bench_pair *p, const pair_options *opt, const sc_target *to, unsigned nto,
               const char *path, bool keep, const char *const *args);
/* Probe every target not heard from yet, every every_ns, until each has
 * come back once (node 2 subscribed, node 1 publishing), then quiet_ns more
 * so that late probes do not land in a round. 0, or -1 (timeout_ns). */
int pair_wait_ready(bench_pair *p, uint64_t every_ns, uint64_t quiet_ns, uint64_t timeout_ns);
/* Exactly n emits, at most opt->window in flight, until R has them all;
 * fails at once on an error reported, a message lost, repeated, out of
 * order or misplaced, after opt->round_timeout, or on SIGINT. *secs (may be
 * NULL): from the first emit to the last delivery. 0, or -1 after printing
 * why. */
int pair_run(bench_pair *p, uint64_t n, double *secs);
/* pair_run between two CPU readings of pids[0..np): before the first emit
 * and PAIR_SETTLE_NS after the last delivery (late reads counted). */
int pair_round(bench_pair *p, uint64_t n, const pid_t *pids, size_t np, cpu_use *cpu, double *secs);
/* The measured rounds of two setups: for r < opt->rounds, round(pair, r)
 * on pairs[(r + j) % 2] for j = 0, 1 (who goes first rotates), up to the
 * first that fails; then, as nothing more may arrive, pair_quiet(quiet_ns)
 * on each. 0 or -1. */
int pair_alternate(bench_pair *const pairs[2], uint64_t quiet_ns,
                   int (*round)(bench_pair *p, unsigned r));
/* Polls for ns and fails if anything arrived meanwhile. 0 or -1. */
int pair_quiet(bench_pair *p, uint64_t ns);
/* Closes the apps, stops both nodes by pid (daemon_stop); -1 if one did
 * not stop cleanly. */
int pair_stop(bench_pair *p);
/* A counter of sc_client_stat (0 after printing why if it cannot be read). */
uint64_t stat_or_zero(sc_client *c, const char *name);

/* ---- idle-CPU spinners ------------------------------------------------------------ */

/* One SCHED_IDLE busy loop per CPU: they run only when nothing else wants the
 * CPU, so they take no time from the processes measured, but they keep idle
 * CPUs from entering idle states (on a VM: halted vCPUs that the host must
 * wake). A light-load run with and without them separates the cost of waking
 * idle CPUs, once per process hop, from the processes' own work. */
#define SPIN_MAX 64
#define SPIN_LIMIT_S 300 /* a spinner exits by itself after this */

typedef struct spinners {
    pid_t pid[SPIN_MAX];
    int n;
} spinners;

int spinners_start(spinners *sp);
/* SIGKILL each by pid and reap it. */
void spinners_stop(spinners *sp);

/* ---- do-nothing relay ------------------------------------------------------------ */

/* The smallest process hop there is: a child that accepts one connection on
 * a free 127.0.0.1 port and copies bytes between it and 127.0.0.1:upstream,
 * both ways, with one read and one write per wake-up (poll). Two of them
 * around the raw Redis hop cost what any sidecar's two extra hops cost on
 * this machine before it does any work. It exits at EOF on either side, or
 * after RELAY_LIMIT_S. */
#define RELAY_LIMIT_S 600
#define RELAY_BUF (256 * 1024)

typedef struct relay_proc {
    pid_t pid;
    int port; /* connect here */
} relay_proc;

int relay_start(relay_proc *rp, int upstream_port);
/* SIGKILL by pid and reap; NULL-safe for one never started (pid <= 0). */
void relay_stop(relay_proc *rp);

/* ---- latency histogram (log-linear, 32 sub-buckets per power of two, ~3%) -- */

#define HIST_SUB 32u
#define HIST_N (64u + 58u * HIST_SUB)

typedef struct hist {
    uint64_t n, max;
    uint64_t b[HIST_N];
} hist;

void hist_add(hist *h, uint64_t v);
/* The p-quantile (0..1) of the recorded values; 0 when empty. */
uint64_t hist_pct(const hist *h, double p);

/* ---- medians over rounds ------------------------------------------------------ */

typedef struct stat3 {
    double med, lo, hi;
} stat3;

/* Median, min and max of v[0..n) (sorted in place); all 0 when n is 0. */
stat3 stat3_of(double *v, size_t n);
/* One row of a table of two setups side by side: the label (in label_width
 * columns), each setup's median with unit and (min-max), the ratio of the
 * medians b / a (0 when a's is 0), which it returns. decimals < 0: whole
 * numbers with thousands separators. */
double print_row(const char *label, int label_width, stat3 a, stat3 b, int decimals,
                 const char *unit);

/* ---- formatting ----------------------------------------------------------------- */

/* 1234567.8 -> "1,234,568" (rotating static buffers: up to 8 per printf). */
const char *grp(double v);
/* qsort comparator for uint64_t. */
int cmp_u64(const void *a, const void *b);

#endif
