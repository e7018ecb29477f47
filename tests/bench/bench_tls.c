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

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TARGET_CPU_RATIO 1.30 /* TLS CPU per message, of plain's */

#define PAYLOAD_HEADER 8 /* sequence number */
#define READY_TIMEOUT_NS (20 * NS_PER_S)
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
    pair_options pair; /* --messages, --rounds, --warmup, --window, --payload, --round-timeout */
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
        .pair = PAIR_OPTIONS(1000000, 100000, 3, 256),
    };
    const bench_opt opts[] = {
        BOPT_STR("sidecastd", &o->sidecastd),
        BOPT_STR("redis-server", &o->redis_server),
        BOPT_STR("openssl", &o->openssl),
        BOPT_PAIR(&o->pair, MAX_ROUNDS, PAYLOAD_HEADER), /* --messages ... --round-timeout */
        BOPT_FLAG("keep", &o->keep),
    };
    return parse_bench_options(argc, argv, opts, SC_BENCH_ARRAY_LEN(opts), usage);
}

/* ---- redis-server with a plain and a TLS port ------------------------------ */

typedef struct redis_tls_proc {
    redis_proc rp; /* pid, plain port, TLS port (port2), dir, log, out, url (plain), version */
    char tls_url[64];
    char ca[128], server_cert[128], server_key[128], client_cert[128], client_key[128];
} redis_tls_proc;

/* Files the certificates leave in the redis directory (removed at the end). */
static const char *const cert_files[] = {"ca.pem",     "ca.key",     "ca.srl",     "server.pem",
                                         "server.key", "server.csr", "server.ext", "client.pem",
                                         "client.key", "client.csr", "client.ext", "openssl.out"};

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
    if (run_bounded(ca_argv, out, OPENSSL_TIMEOUT_NS) < 0)
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
        if (run_bounded(req, out, OPENSSL_TIMEOUT_NS) < 0 || write_text(ext, certs[i].ext) < 0 ||
            run_bounded(sign, out, OPENSSL_TIMEOUT_NS) < 0)
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

/* redis-server on two free ports of 127.0.0.1 (plain and TLS, mutual TLS
 * required on the TLS one), no persistence, the certificates in its
 * directory; waits until the plain port answers PING and the TLS port
 * accepts connections (redis_launch). 0 or -1. */
static int redis_tls_start(const options *o, redis_tls_proc *r)
{
    memset(r, 0, sizeof(*r));
    if (redis_prepare(&r->rp, "redis", o->keep) < 0)
        return -1;
    if (make_certs(o, r) < 0) {
        redis_tls_stop(r);
        return fail("could not make the certificates with '%s'", o->openssl);
    }
    const char *tls[] = {"--tls-port",
                         REDIS_ARG_PORT2,
                         "--tls-cert-file",
                         r->server_cert,
                         "--tls-key-file",
                         r->server_key,
                         "--tls-ca-cert-file",
                         r->ca,
                         "--tls-auth-clients",
                         "yes",
                         NULL};
    if (redis_launch(&r->rp, o->redis_server, tls) < 0) {
        redis_tls_stop(r);
        return -1;
    }
    snprintf(r->tls_url, sizeof(r->tls_url), "rediss://127.0.0.1:%d", r->rp.port2);
    return 0;
}

/* ---- one mode: two nodes, app E on node 1, app R on node 2 ------------------- */

typedef struct round_result {
    uint64_t messages;
    double seconds;
    cpu_use cpu;        /* per message: sidecastd 1, sidecastd 2, redis-server */
    uint64_t publishes; /* redis_publishes of node 1 */
} round_result;

typedef struct mode {
    bench_pair p; /* first: a round gets the pair */
    bool tls;
    pid_t redis_pid;
    char tls_desc[128]; /* "TLSv1.3 TLS_AES_256_GCM_SHA384", from node 1's log */
    round_result res[MAX_ROUNDS];
    unsigned nres;
} mode;

static const char *const bench_room[] = {"bench"};
static const sc_target room_to = {.rooms = bench_room, .n_rooms = 1};

static void print_round(const mode *m, unsigned round, const round_result *r);

/* One measured round of the pair (pair_round over the three processes):
 * its figures, node 1's publishes around it, printed. */
static int mode_round(bench_pair *p, unsigned round)
{
    mode *m = (mode *)p;
    round_result *res = &m->res[m->nres];
    const pid_t pids[NPROC] = {p->n1.pid, p->n2.pid, m->redis_pid};
    uint64_t pub0 = stat_or_zero(p->e, "redis_publishes");
    if (pair_round(p, p->opt->messages, pids, NPROC, &res->cpu, &res->seconds) < 0)
        return -1;
    res->messages = p->opt->messages;
    res->publishes = stat_or_zero(p->e, "redis_publishes") - pub0;
    m->nres++;
    print_round(m, round, res);
    return 0;
}

/* "TLSv1.3 TLS_AES_256_GCM_SHA384" from "... established over TLSv1.3 ..." in
 * node 1's log (info level). */
static void find_tls_desc(mode *m)
{
    FILE *f = fopen(m->p.n1.log, "r");
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
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "sidecast-bench-%s", m->p.name);
    const char *url = m->tls ? rs->tls_url : rs->rp.url;
    /* info: the "established over TLSv1.x cipher" line */
    const char *args[24] = {"--redis-url",          url, "--redis-prefix", prefix,
                            "--canary-interval-ms", "0", "--log-level",    "info"};
    if (m->tls) {
        const char *t[] = {"--redis-tls-ca-file",   rs->ca,
                           "--redis-tls-cert-file", rs->client_cert,
                           "--redis-tls-key-file",  rs->client_key};
        memcpy(&args[8], t, sizeof(t));
    }
    m->redis_pid = rs->rp.pid;
    if (pair_start(&m->p, &o->pair, &room_to, 1, o->sidecastd, o->keep, args) < 0 ||
        pair_wait_ready(&m->p, 20 * 1000 * 1000ull, 100 * 1000 * 1000ull, READY_TIMEOUT_NS) < 0)
        return -1;
    if (m->tls) {
        find_tls_desc(m);
        if (!m->tls_desc[0])
            return fail("%s: node 1's log does not say its Redis connection is TLS", m->p.name);
    }
    printf("%-5s node 1 sidecastd pid %d, node 2 pid %d, %s%s%s%s\n", m->p.name, (int)m->p.n1.pid,
           (int)m->p.n2.pid, url, m->tls ? " (mutual TLS, " : "", m->tls_desc, m->tls ? ")" : "");
    return 0;
}

/* ---- report ------------------------------------------------------------------ */

typedef double (*getter)(const round_result *, size_t);

/* Median, min and max of one figure of a mode's rounds. */
static stat3 figure(const mode *m, getter get, size_t idx)
{
    double v[MAX_ROUNDS];
    for (unsigned i = 0; i < m->nres; i++)
        v[i] = get(&m->res[i], idx);
    return stat3_of(v, m->nres);
}

static double get_rate(const round_result *r, size_t i)
{
    (void)i;
    return (double)r->messages / r->seconds;
}
/* i < NPROC: one process; NPROC: the three; NPROC + 1: both sidecastds. */
static double get_cpu(const round_result *r, size_t i)
{
    const double *t = r->cpu.tick_us;
    if (i < NPROC)
        return t[i];
    if (i == NPROC + 1)
        return t[0] + t[1];
    return t[0] + t[1] + t[2];
}
static double get_cpu_ns(const round_result *r, size_t i)
{
    const double *t = r->cpu.ns_us;
    if (i < NPROC)
        return t[i];
    return t[0] + t[1] + t[2];
}
static double get_self(const round_result *r, size_t i)
{
    (void)i;
    return r->cpu.self_us;
}
static double get_batch(const round_result *r, size_t i)
{
    (void)i;
    return r->publishes ? (double)r->messages / (double)r->publishes : 0;
}

static void print_round(const mode *m, unsigned round, const round_result *r)
{
    const double *t = r->cpu.tick_us;
    printf("  round %u/%u %-5s %s msgs in %.2f s = %9s/s; CPU us/msg: sidecastd 1 %.3f, "
           "sidecastd 2 %.3f, redis %.3f, total %.3f",
           round + 1, m->p.opt->rounds, m->p.name, grp((double)r->messages), r->seconds,
           grp(get_rate(r, 0)), t[0], t[1], t[2], get_cpu(r, NPROC));
    if (r->cpu.have_ns)
        printf(" (schedstat %.3f)", get_cpu_ns(r, NPROC));
    printf("; apps %.3f; %.1f emits/PUBLISH", r->cpu.self_us, get_batch(r, 0));
    if (r->cpu.min_ticks < COARSE_TICKS)
        printf(" (coarse: a process used only %" PRIu64 " ticks, raise --messages)",
               r->cpu.min_ticks);
    printf("\n");
}

/* One table row: plain and TLS medians (min-max), the ratio of medians. */
static double row(const char *label, const mode *pl, const mode *tl, getter get, size_t idx,
                  int decimals, const char *unit)
{
    return print_row(label, 34, figure(pl, get, idx), figure(tl, get, idx), decimals, unit);
}

int main(int argc, char **argv)
{
    bench_prog = "bench_tls";
    options o;
    int pr = parse_options(argc, argv, &o);
    if (pr != 0)
        return pr > 0 ? 0 : 2;
    bench_run run;
    bench_begin(&run, argc, argv, o.sidecastd, true, ", loopback",
                "two sidecastd nodes over plain text and over TLS to one redis-server");
    printf("%u room emits of %u bytes per round, window %u, %u rounds per mode (alternating), "
           "%u warm-up emits per mode\n",
           o.pair.messages, o.pair.payload, o.pair.window, o.pair.rounds, o.pair.warmup);

    int rc = 0;
    uint64_t t_start = now_ns();
    redis_tls_proc rs;
    mode modes[2];
    memset(modes, 0, sizeof(modes));
    modes[0].p.name = "plain";
    modes[1].p.name = "tls";
    modes[1].tls = true;
    for (size_t k = 0; k < 2; k++)
        modes[k].p.n1.pid = modes[k].p.n2.pid = -1;

    if (redis_tls_start(&o, &rs) < 0)
        return 1;
    printf("redis-server %s: pid %d, plain port %d, TLS port %d (--tls-auth-clients yes), "
           "certificates EC P-256 in %s\n",
           rs.rp.version, (int)rs.rp.pid, rs.rp.port, rs.rp.port2, rs.rp.dir);

    for (size_t k = 0; k < 2 && rc == 0; k++)
        if (mode_start(&o, &rs, &modes[k]) < 0)
            rc = 1;

    /* warm-up, unmeasured, then the rounds */
    for (size_t k = 0; k < 2 && rc == 0 && o.pair.warmup; k++)
        if (pair_run(&modes[k].p, o.pair.warmup, NULL) < 0)
            rc = 1;
    if (rc == 0)
        printf("\nrounds (CPU per message from /proc/PID/stat utime+stime; apps = this process, "
               "which drives E and R):\n");
    bench_pair *const pairs[2] = {&modes[0].p, &modes[1].p};
    if (rc == 0 && pair_alternate(pairs, FINAL_QUIET_NS, mode_round) < 0)
        rc = 1;
    for (size_t k = 0; k < 2; k++)
        if (pair_stop(&modes[k].p) < 0)
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
            have_ns = have_ns && pl->res[i].cpu.have_ns;
        for (unsigned i = 0; i < tl->nres; i++)
            have_ns = have_ns && tl->res[i].cpu.have_ns;
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
            SC_BUILD_TYPE, run.ncpu, run.when, o.pair.messages, o.pair.payload, o.pair.window,
            SC_BENCH_MIN(pl->nres, tl->nres), grp(figure(pl, get_rate, 0).med),
            figure(pl, get_cpu, NPROC).med, tl->tls_desc, grp(figure(tl, get_rate, 0).med),
            figure(tl, get_cpu, NPROC).med, r_cpu[NPROC], r_cpu[NPROC + 1], r_rate, total_s);
    }
    if (rc)
        fprintf(stderr, "bench_tls: the run failed (see above); figures are incomplete\n");
    return rc;
}
