/* bench_local: what one sidecastd does on this machine, over its Unix socket.
 *
 * Starts its own sidecastd in a fresh temporary directory and measures:
 *
 *   memory  RSS of sidecastd per registered socket (100,000 sockets, ids of
 *           ~20 characters, no rooms) and per room membership (each socket
 *           then joins one of 10,000 rooms). Registration is pipelined:
 *           fire-and-forget calls with a periodic sc_client_sync.
 *   relay   app connection E emits small payloads (a send timestamp inside) to
 *           room "bench"; app connection R has 1,000 sockets in that room.
 *           E is flow-controlled: at most --window emits are in flight
 *           (emitted, not yet received by R as a Deliver). Both connections
 *           are driven from this one thread with poll(), so this process
 *           needs at most one core; whether the scheduler gives sidecastd the
 *           other one is up to it (--pin forces it). With a window of 512 the
 *           two processes largely take turns, so emits/s is bounded by that
 *           round trip; sidecastd's CPU time per emit (utime + stime from
 *           /proc/PID/stat) is the figure that says what a busy core can do.
 *           - saturated, raw: R takes each Deliver frame through on_delivery
 *             and returns false (no per-socket resolution);
 *           - saturated, resolved: R lets libsidecast resolve each Deliver to
 *             one on_deliver callback per member socket;
 *           - light load: a fixed emit rate, for latency without queueing.
 *
 * sidecastd sends ONE Deliver frame per app connection that has members in
 * the room (the frame names the room, not the members); the app resolves it
 * to its sockets. "socket deliveries/s" is therefore Deliver frames/s times
 * the room's members on R, not frames sidecastd wrote.
 *
 * Not a pass/fail test: it prints figures and their ratio to the targets. It
 * exits non-zero only if the run itself failed (daemon did not start, lost or
 * duplicated deliveries, sanitizer report in the daemon's log). Every loop is
 * bounded in iterations and in time. */
#include "bench_util.h"
#include "sidecast.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Targets the figures are compared with. */
#define TARGET_EMITS_PER_S 200000.0
#define TARGET_BYTES_PER_SOCKET 200.0
#define TARGET_BYTES_PER_MEMBERSHIP 64.0

#define DRAIN_TIMEOUT_NS (5 * NS_PER_S)  /* after a timed run, to get in-flight back */
#define MEMORY_PHASE_TIMEOUT_NS (120 * NS_PER_S)
#define PAYLOAD_HEADER 16 /* seq (8 bytes) + send time in ns (8 bytes) */

/* ---- options ------------------------------------------------------------- */

typedef struct options {
    const char *sidecastd;
    double seconds;         /* saturated raw relay */
    double resolve_seconds; /* saturated relay with per-socket callbacks */
    double warmup_seconds;
    double light_seconds;
    unsigned light_rate; /* emits/s */
    unsigned window;     /* emits in flight at most */
    unsigned members;    /* sockets of R in room "bench" */
    unsigned payload;    /* bytes per emit */
    unsigned mem_sockets;
    unsigned mem_rooms;
    bool no_memory, no_relay, keep, pin;
} options;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: bench_local [OPTION]...\n"
            "Measure one local sidecastd: relay rate, latency, CPU and memory.\n"
            "  --sidecastd PATH       daemon binary (default: %s)\n"
            "  --seconds S            saturated relay duration (default 5)\n"
            "  --resolve-seconds S    relay with per-socket callbacks (default 2)\n"
            "  --warmup-seconds S     unmeasured relay before the runs (default 0.5)\n"
            "  --light-rate N         emits/s of the light-load latency run (default 1000)\n"
            "  --light-seconds S      duration of the light-load run (default 2)\n"
            "  --window W             emits in flight at most (default 512)\n"
            "  --members N            sockets in the relay room (default 1000)\n"
            "  --payload BYTES        emit payload size, >= %d (default 32)\n"
            "  --mem-sockets N        sockets registered for the memory figure (default 100000)\n"
            "  --mem-rooms N          rooms they join, one each (default 10000)\n"
            "  --no-memory            skip the memory benchmark\n"
            "  --no-relay             skip the relay benchmarks\n"
            "  --pin                  run this process on CPU 0 and sidecastd on CPU 1\n"
            "  --keep                 keep the temporary directory and daemon logs\n"
            "  -h, --help             this text\n",
            SC_SIDECASTD_PATH, PAYLOAD_HEADER);
}

/* 0 run, 1 exit 0 (help), -1 bad usage. */
static int parse_options(int argc, char **argv, options *o)
{
    *o = (options){
        .sidecastd = SC_SIDECASTD_PATH,
        .seconds = 5,
        .resolve_seconds = 2,
        .warmup_seconds = 0.5,
        .light_seconds = 2,
        .light_rate = 1000,
        .window = 512,
        .members = 1000,
        .payload = 32,
        .mem_sockets = 100000,
        .mem_rooms = 10000,
    };
    const bench_opt opts[] = {
        BOPT_STR("sidecastd", &o->sidecastd),
        BOPT_DOUBLE("seconds", &o->seconds, 0.1, 600),
        BOPT_DOUBLE("resolve-seconds", &o->resolve_seconds, 0, 600),
        BOPT_DOUBLE("warmup-seconds", &o->warmup_seconds, 0, 60),
        BOPT_UINT("light-rate", &o->light_rate, 1, 1000000),
        BOPT_DOUBLE("light-seconds", &o->light_seconds, 0, 600),
        BOPT_UINT("window", &o->window, 1, 1u << 20),
        BOPT_UINT("members", &o->members, 1, 1000000),
        BOPT_UINT("payload", &o->payload, PAYLOAD_HEADER, 65536),
        BOPT_UINT("mem-sockets", &o->mem_sockets, 1, 10000000),
        BOPT_UINT("mem-rooms", &o->mem_rooms, 1, 10000000),
        BOPT_FLAG("no-memory", &o->no_memory),
        BOPT_FLAG("no-relay", &o->no_relay),
        BOPT_FLAG("keep", &o->keep),
        BOPT_FLAG("pin", &o->pin),
    };
    return parse_bench_options(argc, argv, opts, SC_BENCH_ARRAY_LEN(opts), usage);
}

static const char *const daemon_args[] = {"--node-name", "bench", NULL};

/* ---- relay ------------------------------------------------------------------- */

typedef struct relay {
    sc_client *r, *e;
    const options *o;
    pid_t daemon_pid;
    /* receiver state, updated by the callbacks */
    bool resolve;         /* on_delivery's answer: resolve to per-socket callbacks? */
    uint64_t frames;      /* Deliver frames received by R */
    uint64_t sockets;     /* on_deliver callbacks */
    uint64_t bad_payload; /* Deliver frames without our header */
    uint64_t last_rx_ns;
    hist *lat;
    unsigned errors;
} relay;

typedef struct run_result {
    const char *name;
    uint64_t sent, frames, sockets;
    double seconds;
    double daemon_cpu_pct, self_cpu_pct;
    long daemon_rss_kb;
    hist lat;
    /* Deliver frames received in each whole second of the run */
    unsigned nsec;
    uint64_t per_sec[600];
} run_result;

static bool on_delivery(void *ud, const sc_delivery *d)
{
    relay *x = ud;
    uint64_t now = now_ns();
    x->frames++;
    x->last_rx_ns = now;
    if (d->len < PAYLOAD_HEADER) {
        x->bad_payload++;
        return x->resolve;
    }
    uint64_t sent;
    memcpy(&sent, d->payload + 8, sizeof(sent));
    hist_add(x->lat, now >= sent ? now - sent : 0);
    return x->resolve;
}

static void on_deliver(void *ud, const char *socket_id, const uint8_t *payload, size_t len)
{
    (void)socket_id;
    (void)payload;
    (void)len;
    ((relay *)ud)->sockets++;
}

static void on_relay_error(void *ud, int code, const char *message, const char *ref)
{
    ((relay *)ud)->errors++;
    no_error_cb(ud, code, message, ref);
}

/* One timed run. rate 0: saturate (keep `window` emits in flight); else emit
 * at that fixed rate (still never more than `window` in flight). After the
 * time is up, waits (bounded) until every emit has come back. */
static int relay_run(relay *x, const char *name, double seconds, unsigned rate, bool resolve,
                     run_result *res)
{
    const options *o = x->o;
    memset(res, 0, sizeof(*res));
    res->name = name;
    x->resolve = resolve;
    x->frames = x->sockets = x->bad_payload = 0;
    x->lat = &res->lat;

    uint8_t *payload = malloc(o->payload);
    if (!payload)
        return fail("out of memory");
    memset(payload, 'x', o->payload);
    static const char *const rooms[] = {"bench"};
    const sc_target to = {.rooms = rooms, .n_rooms = 1};

    uint64_t cpu0 = 0, cpu1 = 0;
    proc_cpu_ticks(x->daemon_pid, &cpu0);
    double self0 = self_cpu_s();
    uint64_t t0 = now_ns();
    uint64_t stop = t0 + (uint64_t)(seconds * (double)NS_PER_S);
    uint64_t sent = 0, next_sec = t0 + NS_PER_S, frames_at_sec = 0;
    int rc = 0;
    uint64_t it;
    for (it = 0; it < MAX_LOOP_ITERATIONS; it++) {
        uint64_t now = now_ns();
        uint64_t inflight = sent - x->frames;
        if (now >= next_sec && next_sec <= stop && res->nsec < SC_BENCH_ARRAY_LEN(res->per_sec)) {
            res->per_sec[res->nsec++] = x->frames - frames_at_sec;
            frames_at_sec = x->frames;
            next_sec += NS_PER_S;
        }
        if (interrupted) {
            rc = fail("interrupted");
            break;
        }
        if (now < stop) {
            uint64_t want = o->window - inflight;
            if (rate) {
                uint64_t due = (now - t0) * rate / NS_PER_S + 1;
                want = due > sent ? SC_BENCH_MIN(want, due - sent) : 0;
            }
            for (uint64_t i = 0; i < want; i++) {
                uint64_t ts = now_ns();
                memcpy(payload, &sent, 8);
                memcpy(payload + 8, &ts, 8);
                int r = sc_client_emit(x->e, &to, NULL, payload, o->payload);
                if (r == -ENOBUFS)
                    break; /* output queue full: wait for the socket */
                if (r < 0) {
                    rc = fail("emit: %s", sc_client_last_error(x->e));
                    goto out;
                }
                sent++;
            }
            int r = sc_client_flush(x->e);
            if (r < 0) {
                rc = fail("flush: %s", sc_client_last_error(x->e));
                break;
            }
        } else if (inflight == 0) {
            break;
        } else if (now >= stop + DRAIN_TIMEOUT_NS) {
            rc = fail("%s: %" PRIu64 " emits still not delivered %llu s after the run",
                      name, inflight, (unsigned long long)(DRAIN_TIMEOUT_NS / NS_PER_S));
            break;
        }

        struct pollfd p[2] = {{sc_client_fd(x->r), POLLIN, 0},
                              {sc_client_fd(x->e), POLLIN, 0}};
        if (sc_client_wants_write(x->e))
            p[1].events |= POLLOUT;
        struct timespec ts = {0, 100 * 1000 * 1000}; /* wake up to check the clock */
        if (rate && now < stop) {
            uint64_t next = t0 + (sent * NS_PER_S) / rate;
            uint64_t wait = next > now ? next - now : 0;
            if (wait < 100 * 1000 * 1000ull)
                ts.tv_nsec = (long)wait;
        }
        int n = ppoll(p, 2, &ts, NULL);
        if (n < 0 && errno != EINTR) {
            rc = fail("poll: %s", strerror(errno));
            break;
        }
        if (n <= 0)
            continue;
        if (p[0].revents && sc_client_read(x->r) < 0) {
            rc = fail("receiver: %s", sc_client_last_error(x->r));
            break;
        }
        if ((p[1].revents & POLLOUT) && sc_client_flush(x->e) < 0) {
            rc = fail("emitter flush: %s", sc_client_last_error(x->e));
            break;
        }
        if ((p[1].revents & ~POLLOUT) && sc_client_read(x->e) < 0) {
            rc = fail("emitter: %s", sc_client_last_error(x->e));
            break;
        }
    }
    if (it == MAX_LOOP_ITERATIONS)
        rc = fail("%s: loop bound reached", name);
out:
    free(payload);
    uint64_t t1 = x->frames ? x->last_rx_ns : now_ns();
    proc_cpu_ticks(x->daemon_pid, &cpu1);
    double secs = (double)(t1 - t0) / (double)NS_PER_S;
    if (secs <= 0)
        secs = 1e-9;
    res->sent = sent;
    res->frames = x->frames;
    res->sockets = x->sockets;
    res->seconds = secs;
    res->daemon_cpu_pct =
        100.0 * (double)(cpu1 - cpu0) / (double)sysconf(_SC_CLK_TCK) / secs;
    res->self_cpu_pct = 100.0 * (self_cpu_s() - self0) / secs;
    res->daemon_rss_kb = proc_status_kb(x->daemon_pid, "VmRSS");
    if (rc == 0 && x->frames != sent)
        rc = fail("%s: %" PRIu64 " emits but %" PRIu64 " Deliver frames", name, sent, x->frames);
    if (rc == 0 && x->bad_payload)
        rc = fail("%s: %" PRIu64 " Deliver frames with a foreign payload", name, x->bad_payload);
    if (rc == 0 && resolve && x->sockets != x->frames * o->members)
        rc = fail("%s: %" PRIu64 " Deliver frames resolved to %" PRIu64
                  " socket callbacks, expected %u each",
                  name, x->frames, x->sockets, o->members);
    if (rc == 0 && x->errors)
        rc = fail("%s: sidecastd refused %u request(s)", name, x->errors);
    x->lat = NULL;
    return rc;
}

typedef struct relay_results {
    bool done;
    run_result raw, resolved, light;
    long rss_before_kb, rss_after_kb, hwm_kb;
    uint64_t deliver_frames; /* sidecastd's own counter, over all runs */
    uint64_t expected_frames;
} relay_results;

static int stat_of(sc_client *c, const char *name, uint64_t *v)
{
    int r = sc_client_stat(c, name, v);
    if (r < 0)
        return fail("stat %s: %s", name, sc_client_last_error(c));
    return 0;
}

static int bench_relay(const options *o, relay_results *out)
{
    daemon_proc d;
    if (daemon_start(&d, o->sidecastd, o->keep, o->pin ? 1 : -1, daemon_args) < 0)
        return -1;
    int rc = -1;
    relay *x = calloc(1, sizeof(*x));
    run_result *warm = calloc(1, sizeof(*warm));
    if (!x || !warm) {
        fail("out of memory");
        goto done;
    }
    x->o = o;
    x->daemon_pid = d.pid;
    out->rss_before_kb = proc_status_kb(d.pid, "VmRSS");

    const sc_client_options cb = {
        .on_delivery = on_delivery, .on_deliver = on_deliver, .on_error = on_relay_error, .ud = x};
    if (open_apps(d.sock, d.sock, &cb, "", &x->e, &x->r) < 0)
        goto done;
    if (register_members(x->r, o->members, (const char *const[]){"bench"}, 1) < 0)
        goto done;
    uint64_t members = 0, frames0 = 0, frames1 = 0;
    if (stat_of(x->e, "room_memberships", &members) < 0 ||
        stat_of(x->e, "deliver_frames", &frames0) < 0)
        goto done;
    if (members != o->members) {
        fail("room bench has %" PRIu64 " members, expected %u", members, o->members);
        goto done;
    }

    uint64_t expected = 0;
    if (o->warmup_seconds > 0) {
        if (relay_run(x, "warmup", o->warmup_seconds, 0, false, warm) < 0)
            goto done;
        expected += warm->sent;
    }
    if (relay_run(x, "saturated, raw", o->seconds, 0, false, &out->raw) < 0)
        goto done;
    expected += out->raw.sent;
    out->hwm_kb = proc_status_kb(d.pid, "VmHWM");
    if (o->resolve_seconds > 0) {
        if (relay_run(x, "saturated, resolved", o->resolve_seconds, 0, true, &out->resolved) < 0)
            goto done;
        expected += out->resolved.sent;
    }
    if (o->light_seconds > 0) {
        if (relay_run(x, "light load", o->light_seconds, o->light_rate, false, &out->light) < 0)
            goto done;
        expected += out->light.sent;
    }
    if (stat_of(x->e, "deliver_frames", &frames1) < 0)
        goto done;
    out->deliver_frames = frames1 - frames0;
    out->expected_frames = expected;
    if (out->deliver_frames != expected) {
        fail("sidecastd counted %" PRIu64 " Deliver frames, expected %" PRIu64,
             out->deliver_frames, expected);
        goto done;
    }
    out->rss_after_kb = proc_status_kb(d.pid, "VmRSS");
    out->done = true;
    rc = 0;
done:
    if (x) {
        sc_client_close(x->e);
        sc_client_close(x->r);
    }
    free(x);
    free(warm);
    if (daemon_stop(&d) < 0)
        rc = -1;
    return rc;
}

/* ---- memory ------------------------------------------------------------------ */

typedef struct memory_results {
    bool done;
    unsigned sockets, rooms;
    long rss0_kb, rss1_kb, rss2_kb;       /* sidecastd: empty, sockets, + rooms */
    long self0_kb, self1_kb, self2_kb;    /* this process (libsidecast mirror) */
    double register_s, join_s;
    double per_socket, per_membership;    /* sidecastd bytes */
    double app_per_socket, app_per_membership;
} memory_results;

typedef struct mem_ctx {
    unsigned errors;
} mem_ctx;

static void on_mem_error(void *ud, int code, const char *message, const char *ref)
{
    ((mem_ctx *)ud)->errors++;
    no_error_cb(ud, code, message, ref);
}

static int bench_memory(const options *o, memory_results *out)
{
    daemon_proc d;
    if (daemon_start(&d, o->sidecastd, o->keep, o->pin ? 1 : -1, daemon_args) < 0)
        return -1;
    int rc = -1;
    mem_ctx mx = {0};
    sc_client *c = NULL;
    /* Blocking client: a full output queue (max_output, 8 MiB) makes the
     * fire-and-forget calls wait for sidecastd to read, which is the point. */
    sc_client_options co = {.path = d.sock, .name = "bench-memory", .timeout_ms = 30000,
                            .on_error = on_mem_error, .ud = &mx};
    if (sc_client_open(&co, &c) < 0) {
        fail("memory client: %s", sc_client_last_error(c));
        goto done;
    }
    if (sc_client_sync(c, 0) < 0) {
        fail("sync: %s", sc_client_last_error(c));
        goto done;
    }
    out->sockets = o->mem_sockets;
    out->rooms = o->mem_rooms;
    out->rss0_kb = proc_status_kb(d.pid, "VmRSS");
    out->self0_kb = proc_status_kb(0, "VmRSS");
    uint64_t end = now_ns() + MEMORY_PHASE_TIMEOUT_NS;

    uint64_t t = now_ns();
    for (unsigned i = 0; i < o->mem_sockets; i++) {
        char id[32], sid[32];
        snprintf(id, sizeof(id), "sock-%015u", i);  /* 20 characters */
        snprintf(sid, sizeof(sid), "sess-%015u", i);
        if (sc_client_socket_up(c, id, sid, NULL, NULL, 0, NULL, 0) < 0) {
            fail("socket up %s: %s", id, sc_client_last_error(c));
            goto done;
        }
        if ((i + 1) % 20000 == 0) {
            if (sc_client_sync(c, 0) < 0) {
                fail("sync: %s", sc_client_last_error(c));
                goto done;
            }
            if (now_ns() > end || interrupted) {
                fail("registering %u sockets took longer than %llu s", o->mem_sockets,
                     (unsigned long long)(MEMORY_PHASE_TIMEOUT_NS / NS_PER_S));
                goto done;
            }
        }
    }
    if (sc_client_sync(c, 0) < 0) {
        fail("sync: %s", sc_client_last_error(c));
        goto done;
    }
    out->register_s = (double)(now_ns() - t) / (double)NS_PER_S;
    uint64_t n = 0;
    if (stat_of(c, "sockets", &n) < 0)
        goto done;
    if (n != o->mem_sockets || mx.errors) {
        fail("sidecastd holds %" PRIu64 " sockets, expected %u (%u refusals)", n,
             o->mem_sockets, mx.errors);
        goto done;
    }
    out->rss1_kb = proc_status_kb(d.pid, "VmRSS");
    out->self1_kb = proc_status_kb(0, "VmRSS");

    t = now_ns();
    for (unsigned i = 0; i < o->mem_sockets; i++) {
        char id[32], room[32];
        snprintf(id, sizeof(id), "sock-%015u", i);
        snprintf(room, sizeof(room), "room-%04u", i % o->mem_rooms);
        const char *rooms[] = {room};
        if (sc_client_join(c, id, rooms, 1) < 0) {
            fail("join %s: %s", id, sc_client_last_error(c));
            goto done;
        }
        if ((i + 1) % 20000 == 0) {
            if (sc_client_sync(c, 0) < 0) {
                fail("sync: %s", sc_client_last_error(c));
                goto done;
            }
            if (now_ns() > end || interrupted) {
                fail("joining rooms took longer than the phase limit");
                goto done;
            }
        }
    }
    if (sc_client_sync(c, 0) < 0) {
        fail("sync: %s", sc_client_last_error(c));
        goto done;
    }
    out->join_s = (double)(now_ns() - t) / (double)NS_PER_S;
    uint64_t memberships = 0, rooms = 0;
    if (stat_of(c, "room_memberships", &memberships) < 0 || stat_of(c, "rooms", &rooms) < 0)
        goto done;
    unsigned want_rooms = o->mem_rooms < o->mem_sockets ? o->mem_rooms : o->mem_sockets;
    if (memberships != o->mem_sockets || rooms != want_rooms || mx.errors) {
        fail("sidecastd holds %" PRIu64 " memberships in %" PRIu64
             " rooms, expected %u in %u (%u refusals)",
             memberships, rooms, o->mem_sockets, want_rooms, mx.errors);
        goto done;
    }
    out->rss2_kb = proc_status_kb(d.pid, "VmRSS");
    out->self2_kb = proc_status_kb(0, "VmRSS");
    out->per_socket = (double)(out->rss1_kb - out->rss0_kb) * 1024.0 / o->mem_sockets;
    out->per_membership = (double)(out->rss2_kb - out->rss1_kb) * 1024.0 / o->mem_sockets;
    out->app_per_socket = (double)(out->self1_kb - out->self0_kb) * 1024.0 / o->mem_sockets;
    out->app_per_membership = (double)(out->self2_kb - out->self1_kb) * 1024.0 / o->mem_sockets;
    out->done = true;
    rc = 0;
done:
    sc_client_close(c);
    if (daemon_stop(&d) < 0)
        rc = -1;
    return rc;
}

/* ---- report ------------------------------------------------------------------ */
static double rate_of(const run_result *r, uint64_t count)
{
    return (double)count / r->seconds;
}

/* sidecastd CPU time per relayed emit, in ns. */
static double cpu_ns_per_emit(const run_result *r)
{
    return r->frames ? r->daemon_cpu_pct / 100.0 * r->seconds * 1e9 / (double)r->frames : 0;
}

static void print_run(const run_result *r, unsigned members, bool light)
{
    double emits = rate_of(r, r->frames);
    printf("  %-22s %9.2f s  %12s emits/s  %15s socket deliveries/s\n", r->name, r->seconds,
           grp(emits), grp(emits * members));
    if (!light && r->nsec >= 2) {
        uint64_t sorted[SC_BENCH_ARRAY_LEN(r->per_sec)];
        memcpy(sorted, r->per_sec, r->nsec * sizeof(sorted[0]));
        qsort(sorted, r->nsec, sizeof(sorted[0]), cmp_u64);
        printf("  %-22s emits/s in each second: min %s, median %s, max %s\n", "",
               grp((double)sorted[0]), grp((double)sorted[r->nsec / 2]),
               grp((double)sorted[r->nsec - 1]));
    }
    printf("  %-22s latency emit->deliver p50 %.1f us, p99 %.1f us, max %.1f us (%s samples)\n",
           "", hist_pct(&r->lat, 0.50) / 1e3, hist_pct(&r->lat, 0.99) / 1e3, r->lat.max / 1e3,
           grp((double)r->lat.n));
    if (light)
        printf("  %-22s sidecastd CPU %.1f%% of one core, bench process CPU %.1f%%\n", "",
               r->daemon_cpu_pct, r->self_cpu_pct);
    else
        printf("  %-22s sidecastd CPU %.0f%% of one core (%.0f ns per emit), bench process CPU "
               "%.0f%% (emitter + receiver, one thread)\n",
               "", r->daemon_cpu_pct, cpu_ns_per_emit(r), r->self_cpu_pct);
}

int main(int argc, char **argv)
{
    bench_prog = "bench_local";
    options o;
    int pr = parse_options(argc, argv, &o);
    if (pr != 0)
        return pr > 0 ? 0 : 2;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (o.pin) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(0, &set);
        if (ncpu < 2 || sched_setaffinity(0, sizeof(set), &set) < 0) {
            fprintf(stderr, "bench_local: --pin needs 2 CPUs; running unpinned\n");
            o.pin = false;
        }
    }
    bench_run run;
    bench_begin(&run, argc, argv, o.sidecastd, false, "", "one sidecastd over its Unix socket");
    printf("CPUs: %s\n\n", o.pin ? "this process on CPU 0, sidecastd on CPU 1 (--pin)"
                                 : "not pinned (the scheduler may run both processes on one "
                                   "CPU; --pin puts them on two)");

    int rc = 0;
    memory_results mem = {0};
    relay_results rel = {0};
    if (!o.no_memory) {
        printf("memory: registering %s sockets (pipelined, sync every 20,000), then one room "
               "membership each in %s rooms...\n",
               grp(o.mem_sockets), grp(o.mem_rooms));
        if (bench_memory(&o, &mem) < 0)
            rc = 1;
    }
    if (!o.no_relay && !interrupted) {
        printf("relay: %u sockets of one app connection in room \"bench\", %u-byte payloads, "
               "window %u emits in flight...\n",
               o.members, o.payload, o.window);
        if (bench_relay(&o, &rel) < 0)
            rc = 1;
    }
    printf("\n");

    if (mem.done) {
        printf("Memory (sidecastd VmRSS deltas, %s sockets, ids 20 chars, session ids 20 "
               "chars, no user ids or data)\n",
               grp(mem.sockets));
        printf("  empty %s KiB -> %s KiB with sockets (%.2f s to register) -> %s KiB with "
               "memberships (%.2f s to join)\n",
               grp((double)mem.rss0_kb), grp((double)mem.rss1_kb), mem.register_s,
               grp((double)mem.rss2_kb), mem.join_s);
        printf("  the app's libsidecast mirror of the same: %.0f B/socket, %.0f B/membership "
               "(bench process RSS)\n\n",
               mem.app_per_socket, mem.app_per_membership);
    }
    if (rel.done) {
        printf("Relay (sidecastd sends ONE Deliver frame per app connection with members in "
               "the room; the app resolves it to its %u member sockets, so socket "
               "deliveries/s = Deliver frames/s x %u)\n",
               o.members, o.members);
        print_run(&rel.raw, o.members, false);
        if (o.resolve_seconds > 0) {
            print_run(&rel.resolved, o.members, false);
            printf("  %-22s %s on_deliver callbacks/s; resolving in libsidecast divides the "
                   "emit rate by %.1f\n",
                   "", grp(rate_of(&rel.resolved, rel.resolved.sockets)),
                   rate_of(&rel.raw, rel.raw.frames) /
                       SC_BENCH_MAX(rate_of(&rel.resolved, rel.resolved.frames), 1e-9));
        }
        if (o.light_seconds > 0)
            print_run(&rel.light, o.members, true);
        printf("  sidecastd VmRSS %s KiB before, %s KiB after (peak %s KiB); %s Deliver "
               "frames counted by sidecastd = emits\n\n",
               grp((double)rel.rss_before_kb), grp((double)rel.rss_after_kb),
               grp((double)rel.hwm_kb), grp((double)rel.deliver_frames));
    }

    if (!rel.done && !mem.done) {
        fprintf(stderr, "bench_local: the run failed (see above); no figures\n");
        return 1;
    }
    if (strstr(SC_BUILD_TYPE, "sanitizers"))
        printf("NOTE: sanitizer build: these figures say nothing about sidecast's speed or "
               "memory\n");
    printf("%-44s %18s %18s %8s %s\n", "figure", "measured", "target", "ratio", "");
    if (rel.done) {
        double emits = rate_of(&rel.raw, rel.raw.frames);
        printf("%-44s %18s %18s %7.2fx %s\n", "emits/s relayed (saturated, raw)", grp(emits),
               ">= 200,000", emits / TARGET_EMITS_PER_S,
               emits >= TARGET_EMITS_PER_S ? "meets target" : "BELOW TARGET");
        printf("%-44s %18s %18s %8s\n", "socket deliveries/s (x members)",
               grp(emits * o.members), "-", "");
        if (o.resolve_seconds > 0) {
            double re = rate_of(&rel.resolved, rel.resolved.frames);
            printf("%-44s %18s %18s %7.2fx %s\n", "emits/s with per-socket on_deliver (app)", grp(re),
                   ">= 200,000", re / TARGET_EMITS_PER_S,
                   re >= TARGET_EMITS_PER_S ? "meets target" : "below target");
        }
        char v[64];
        snprintf(v, sizeof(v), "%.1f / %.1f", hist_pct(&rel.raw.lat, 0.5) / 1e3,
                 hist_pct(&rel.raw.lat, 0.99) / 1e3);
        printf("%-44s %18s %18s %8s\n", "p50 / p99 us, saturated (queueing in window)", v, "-",
               "");
        if (o.light_seconds > 0) {
            char name[64];
            snprintf(name, sizeof(name), "p50 / p99 us at %s emits/s", grp(o.light_rate));
            snprintf(v, sizeof(v), "%.1f / %.1f", hist_pct(&rel.light.lat, 0.5) / 1e3,
                     hist_pct(&rel.light.lat, 0.99) / 1e3);
            printf("%-44s %18s %18s %8s\n", name, v, "-", "");
        }
        snprintf(v, sizeof(v), "%.0f%%", rel.raw.daemon_cpu_pct);
        printf("%-44s %18s %18s %8s\n", "sidecastd CPU, saturated (% of one core)", v, "-", "");
        double ns = cpu_ns_per_emit(&rel.raw);
        snprintf(v, sizeof(v), "%.0f ns", ns);
        printf("%-44s %18s %18s %8s\n", "sidecastd CPU time per relayed emit", v, "-", "");
        if (ns > 0) {
            double cap = 1e9 / ns;
            printf("%-44s %18s %18s %7.2fx %s\n", "=> emits/s one busy sidecastd core can relay",
                   grp(cap), ">= 200,000", cap / TARGET_EMITS_PER_S, "(derived)");
        }
        snprintf(v, sizeof(v), "%s KiB", grp((double)rel.hwm_kb));
        printf("%-44s %18s %18s %8s\n", "sidecastd peak RSS during relay", v, "-", "");
    }
    if (mem.done) {
        char v[64];
        snprintf(v, sizeof(v), "%.0f B", mem.per_socket);
        printf("%-44s %18s %18s %7.2fx %s\n", "sidecastd RSS per registered socket", v,
               "<= 200 B", mem.per_socket / TARGET_BYTES_PER_SOCKET,
               mem.per_socket <= TARGET_BYTES_PER_SOCKET ? "within budget" : "OVER BUDGET");
        snprintf(v, sizeof(v), "%.0f B", mem.per_membership);
        printf("%-44s %18s %18s %7.2fx %s\n", "sidecastd RSS per room membership", v, "<= 64 B",
               mem.per_membership / TARGET_BYTES_PER_MEMBERSHIP,
               mem.per_membership <= TARGET_BYTES_PER_MEMBERSHIP ? "within budget"
                                                                  : "OVER BUDGET");
    }
    printf("(ratio = measured / target: higher is better for rates, lower for bytes)\n\n");

    if (rel.done || mem.done) {
        printf("summary: sidecast bench_local (%s, %ld CPUs):", SC_BUILD_TYPE, ncpu);
        if (rel.done) {
            double emits = rate_of(&rel.raw, rel.raw.frames);
            printf(" %s emits/s relayed to a %s-member room with %u in flight (%.2fx target; "
                   "one Deliver frame per app connection, %s socket deliveries/s after "
                   "app-side resolution",
                   grp(emits), grp(o.members), o.window, emits / TARGET_EMITS_PER_S,
                   grp(emits * o.members));
            if (o.resolve_seconds > 0)
                printf(", %s emits/s with per-socket callbacks",
                       grp(rate_of(&rel.resolved, rel.resolved.frames)));
            printf("), sidecastd %.0f ns CPU per emit", cpu_ns_per_emit(&rel.raw));
            if (o.light_seconds > 0)
                printf("; p50/p99 emit->deliver %.0f/%.0f us at %s emits/s",
                       hist_pct(&rel.light.lat, 0.5) / 1e3, hist_pct(&rel.light.lat, 0.99) / 1e3,
                       grp(o.light_rate));
            fputs(mem.done ? ";" : ".", stdout);
        }
        if (mem.done)
            printf(" %.0f B RSS per socket (%.2fx budget), %.0f B per room membership (%.2fx "
                   "budget) with %s sockets.",
                   mem.per_socket, mem.per_socket / TARGET_BYTES_PER_SOCKET, mem.per_membership,
                   mem.per_membership / TARGET_BYTES_PER_MEMBERSHIP, grp(mem.sockets));
        printf("\n");
    }
    if (rc)
        fprintf(stderr, "bench_local: the run failed (see above); figures are incomplete\n");
    return rc;
}
