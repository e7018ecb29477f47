/* bench_util: helpers shared by the benchmarks in tests/bench (bench_local,
 * bench_cluster, bench_lookup): clock, error messages, option parsing, /proc
 * readers, a sidecastd and a private redis-server started by pid in temporary
 * directories, a raw RESP connection (hiredis's reply parser), idle-CPU
 * spinners, a latency histogram and number formatting. Benchmark code only:
 * not part of any installed library. */
#ifndef SC_BENCH_UTIL_H
#define SC_BENCH_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

#define NS_PER_S 1000000000ull
#define MAX_LOOP_ITERATIONS 100000000ull /* hard bound on any poll loop */
#define START_TIMEOUT_NS (30 * NS_PER_S) /* sidecastd answering ping (sanitizers are slow) */
#define STOP_TIMEOUT_NS (30 * NS_PER_S)
#define SC_BENCH_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SC_BENCH_MAX(a, b) ((a) > (b) ? (a) : (b))
#define SC_BENCH_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

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

/* argv joined by spaces into buf (truncated to len). */
void join_cmdline(int argc, char **argv, char *buf, size_t len);

/* ---- /proc readers ---------------------------------------------------------- */

/* utime + stime of a process, in clock ticks; 0 or a negative errno. */
int proc_cpu_ticks(pid_t pid, uint64_t *ret);
/* A "Name:   N kB" line of /proc/PID/status (pid <= 0: this process), in
 * kB; -1 if unreadable. */
long proc_status_kb(pid_t pid, const char *name);
/* This process's user + system CPU time, in seconds. */
double self_cpu_s(void);

void print_file(const char *path, FILE *out);
bool file_contains(const char *path, const char *needle);

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

/* Register n sockets ("rcv-%015u", session "ses-%015u") of client r in
 * `room`, syncing every 10,000 and at the end. 0, or -1 after printing why. */
struct sc_client;
int register_members(struct sc_client *r, unsigned n, const char *room);

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

typedef struct redis_proc {
    pid_t pid;
    int port;
    char dir[64];
    char log[128];
    char out[128]; /* its stdout / stderr (startup errors) */
    char url[64];  /* redis://127.0.0.1:PORT */
    bool keep;
} redis_proc;

/* A TCP port on 127.0.0.1 that was free a moment ago, or -1. */
int free_port(void);
/* Start redis-server (`path`) on a free port of 127.0.0.1, without
 * persistence, in a fresh temporary directory, and wait until it answers
 * PING. 0 or -1. */
int redis_start(redis_proc *r, const char *path, bool keep);
/* SIGTERM by pid, wait (bounded), SIGKILL if it does not exit; removes the
 * temporary directory unless keep. 0 or -1. */
int redis_stop(redis_proc *r);
/* One-shot command on a fresh connection; the caller frees the reply (NULL
 * on failure). */
redisReply *redis_query(int port, int argc, const char **argv);
/* calls and usec of command `cmd` in an INFO commandstats text (0 if never
 * called). */
void parse_cmdstat(const char *info, const char *cmd, uint64_t *calls, uint64_t *usec);

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

/* ---- formatting ----------------------------------------------------------------- */

/* 1234567.8 -> "1,234,568" (rotating static buffers: up to 8 per printf). */
const char *grp(double v);
/* qsort comparator for uint64_t. */
int cmp_u64(const void *a, const void *b);

#endif
