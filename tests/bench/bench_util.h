/* bench_util: helpers shared by the benchmarks in tests/bench (bench_local,
 * bench_cluster): clock, error messages, option parsing, /proc readers, a
 * sidecastd started by pid in a temporary directory, a latency histogram and
 * number formatting. Benchmark code only: not part of any installed library. */
#ifndef SC_BENCH_UTIL_H
#define SC_BENCH_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

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

/* An on_error callback that prints the refusal. */
void no_error_cb(void *ud, int code, const char *message, const char *ref);

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
