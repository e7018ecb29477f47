/* bench_rcluster: two sidecastd nodes over one redis-server against the same
 * two nodes over a three-primary Redis Cluster, side by side in one run
 * (loopback only).
 *
 * One run starts, on free ports of 127.0.0.1, in temporary directories:
 *
 *   A ("single"):   one redis-server (no persistence), and two sidecastd
 *                   nodes with --redis-url redis://127.0.0.1:P;
 *   B ("rcluster"): three redis-server --cluster-enabled yes
 *                   --cluster-node-timeout 1000 --save '' --appendonly no
 *                   (each with its bus on a free port of its own), joined by
 *                   `redis-cli --cluster create ... --cluster-replicas 0
 *                   --cluster-yes`, waited for until all three say
 *                   cluster_state:ok, know three nodes and 16384 slots
 *                   (bounded); two sidecastd nodes with --redis-url
 *                   redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3.
 *
 * In each mode app R on node 2 registers --rooms sockets (300 by default),
 * socket i in room "bench-room-<i>", and app E on node 1 emits numbered room
 * emits (--payload bytes) to those rooms round-robin (emit k to room
 * k mod rooms), saturated: at most --window emits in flight (emitted and
 * not yet received by R; 4096 by default, as in the other benches). With 3
 * shards node 2 can see node 1's emits through the others up to about
 * 3 x --window ahead of one still queued on a lagging shard; since commit
 * 40e6c7d sidecastd checks only an envelope published on several channels
 * against its window of 4096 sequence numbers per origin, so these
 * single-room emits are never skipped as late (cluster_late_skipped, in the
 * report, stays 0).
 * On a Redis Cluster each room channel "sidecast:room:bench-room-<i>"
 * lives in its own slot, so the emits spread over the three primaries
 * (SPUBLISH on each one's publish connection, read by node 2 from its
 * SSUBSCRIBE connection to each); on one redis-server they are PUBLISHes
 * on one connection. Consecutive emits go to different rooms, so no two
 * share a PUBLISH (Batch envelope) in either mode: the same load for both.
 *
 * A round is a fixed count of emits (--messages); rounds alternate between
 * the modes (--rounds each, who goes first rotating), and the report gives
 * medians per mode, min-max and the ratios B / A:
 *   - room deliveries/s received by R;
 *   - CPU per message of each sidecastd and of the redis-servers together
 *     (B: the three), from /proc/PID/task/STAR/schedstat (ns of run time;
 *     utime + stime ticks from /proc/PID/stat as a cross-check), taken
 *     before the first emit of a round and 50 ms after its last delivery;
 *   - for B, per shard: the rooms whose slot it serves, node 2's channels
 *     there and node 1's publishes to it (sidecast_redis_shard_* in
 *     /metrics), cmdstat_spublish calls (INFO commandstats), and its share
 *     of the Redis CPU; the busiest shard's share against the goal
 *     (<= 40% of the Redis CPU with 300 rooms);
 *   - Redis client connections per sidecar, counted on every redis-server
 *     (CLIENT LIST, this bench's own connection left out; each connection
 *     is told to a sidecar by its local port, from /proc/PID/fd and
 *     /proc/net/tcp), against 2 x primaries;
 *   - what looked odd: counters of both nodes that should stay at zero
 *     (late or duplicate skips, redirects, sunsubscribes, lost commands,
 *     gaps...) and the sidecastd log's warnings and Redis Cluster lines.
 *
 * R checks that every message arrives once, in order per room (a Redis
 * Cluster keeps order per channel only) and in the room it was sent to.
 * Not a pass/fail test: it exits non-zero only if the run itself failed (a
 * process did not start, messages lost or reordered, a daemon that did not
 * stop cleanly). Every loop is bounded in iterations and in time; only the
 * processes this bench started are stopped, by pid. */
#include "bench_util.h"
#include "sidecast.h"

#include <hiredis/hiredis.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define GOAL_BUSIEST_SHARE 0.40 /* busiest shard's share of the Redis CPU */
#define GOAL_ROOMS 300          /* ... with this many rooms */

#define NPRIM 3               /* primaries of mode B */
#define NPROC_MAX (2 + NPRIM) /* sidecastd 1, sidecastd 2, the redis-servers */
#define PAYLOAD_HEADER 12     /* sequence number, probe room index */
#define READY_TIMEOUT_NS (30 * NS_PER_S)
#define PROBE_EVERY_NS (200 * 1000 * 1000ull)
#define PROBE_QUIET_NS (200 * 1000 * 1000ull) /* after the last room answered */
#define FINAL_QUIET_NS (300 * 1000 * 1000ull) /* nothing more may arrive after the last round */
#define TOOL_TIMEOUT_NS (60 * NS_PER_S)       /* redis-cli --cluster create */
#define CLUSTER_OK_TIMEOUT_NS (30 * NS_PER_S)
#define HTTP_TIMEOUT_NS (5 * NS_PER_S)
#define HTTP_MAX_BYTES (4u << 20)
#define MAX_ROUNDS 20
#define MAX_ROOMS 10000
#define COARSE_TICKS 20  /* fewer /proc/PID/stat ticks in a round: say it is coarse */
#define MAX_LOG_LINES 12 /* log lines shown per node */
#define SLOTS 16384

/* ---- options ------------------------------------------------------------- */

typedef struct options {
    const char *sidecastd, *redis_server, *redis_cli;
    pair_options pair; /* --messages, --rounds, --warmup, --window, --payload, --round-timeout */
    unsigned rooms;
    bool keep;
} options;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: bench_rcluster [OPTION]...\n"
            "Two sidecastd nodes over one redis-server and over a three-primary Redis Cluster,\n"
            "side by side: room emits round-robin over many rooms, deliveries/s, CPU per\n"
            "message of the sidecars and of Redis (per shard), connections per sidecar.\n"
            "  --sidecastd PATH      daemon binary (default: %s)\n"
            "  --redis-server PATH   (default: redis-server from PATH)\n"
            "  --redis-cli PATH      makes the cluster (default: redis-cli from PATH)\n"
            "  --rooms N             rooms on node 2, one socket each (default %u, at most %d)\n"
            "  --messages N          room emits per round (default 500000)\n"
            "  --rounds N            rounds per mode, alternating (default 5, at most %d)\n"
            "  --warmup N            unmeasured emits per mode before the rounds (default 50000)\n"
            "  --window W            emits in flight at most (default 4096)\n"
            "  --payload BYTES       emit payload, >= %d (default 64)\n"
            "  --round-timeout S     a round that takes longer fails the run (default 60)\n"
            "  --keep                keep the temporary directories and logs\n"
            "  -h, --help            this text\n"
            "A longer run: --rounds 10 --messages 2000000 (about 3.5 minutes here).\n",
            SC_SIDECASTD_PATH, GOAL_ROOMS, MAX_ROOMS, MAX_ROUNDS, PAYLOAD_HEADER);
}

/* 0 run, 1 exit 0 (help), -1 bad usage. */
static int parse_options(int argc, char **argv, options *o)
{
    *o = (options){
        .sidecastd = SC_SIDECASTD_PATH,
        .redis_server = "redis-server",
        .redis_cli = "redis-cli",
        .pair = PAIR_OPTIONS(500000, 50000, 5, 64),
        .rooms = GOAL_ROOMS,
    };
    const bench_opt opts[] = {
        BOPT_STR("sidecastd", &o->sidecastd),
        BOPT_STR("redis-server", &o->redis_server),
        BOPT_STR("redis-cli", &o->redis_cli),
        BOPT_UINT("rooms", &o->rooms, 1, MAX_ROOMS),
        BOPT_PAIR(&o->pair, MAX_ROUNDS, PAYLOAD_HEADER), /* --messages ... --round-timeout */
        BOPT_FLAG("keep", &o->keep),
    };
    return parse_bench_options(argc, argv, opts, SC_BENCH_ARRAY_LEN(opts), usage);
}

/* ---- Redis Cluster ------------------------------------------------------------ */

/* What a cluster node writes in its directory (nodes.conf, an RDB it may
 * leave) and redis-cli --cluster create's output (node 0's directory). */
static const char *const cnode_files[] = {"nodes.conf", "dump.rdb", "create.out", NULL};

static uint16_t crc16(const char *p, size_t n)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)((uint16_t)(unsigned char)p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

/* Redis Cluster's key -> slot (CRC16 of the key or of its {hash tag}). */
static int key_slot(const char *key)
{
    size_t len = strlen(key);
    const char *open = strchr(key, '{');
    if (open) {
        const char *close = strchr(open + 1, '}');
        if (close && close > open + 1)
            return crc16(open + 1, (size_t)(close - open - 1)) & (SLOTS - 1);
    }
    return crc16(key, len) & (SLOTS - 1);
}

/* One cluster-enabled redis-server (redis_launch: its cluster bus on a
 * second free port, port2), in a temporary directory of its own. 0 or -1
 * (stopped, cleaned up). */
static int cnode_start(const options *o, redis_proc *n)
{
    const char *const cluster[] = {"--cluster-enabled",
                                   "yes",
                                   "--cluster-config-file",
                                   "nodes.conf",
                                   "--cluster-node-timeout",
                                   "1000",
                                   "--cluster-port",
                                   REDIS_ARG_PORT2,
                                   NULL};
    if (redis_prepare(n, "rcluster", o->keep) < 0)
        return -1;
    n->files = cnode_files;
    if (redis_launch(n, o->redis_server, cluster) < 0) {
        redis_stop(n);
        return -1;
    }
    return 0;
}

/* "field:value" of an INFO-style text as an integer; -1 if absent. */
static long long info_field(const char *text, const char *field)
{
    char needle[64];
    snprintf(needle, sizeof(needle), "%s:", field);
    const char *p = strstr(text, needle);
    return p ? strtoll(p + strlen(needle), NULL, 10) : -1;
}

/* Every node says cluster_state:ok, knows all the nodes and all 16384
 * slots as ok. */
static bool cluster_whole(const redis_proc *nodes, int n)
{
    for (int i = 0; i < n; i++) {
        redisReply *r = redis_query(nodes[i].port, 2, (const char *[]){"CLUSTER", "INFO"});
        bool ok = r && r->type == REDIS_REPLY_STRING && strstr(r->str, "cluster_state:ok") &&
                  info_field(r->str, "cluster_known_nodes") == n &&
                  info_field(r->str, "cluster_slots_ok") == SLOTS &&
                  info_field(r->str, "cluster_size") == n;
        if (r)
            freeReplyObject(r);
        if (!ok)
            return false;
    }
    return true;
}

/* slot -> index into nodes (by port) from node `asked`'s CLUSTER SLOTS; -1
 * for a slot without a primary of ours. 0, or -1 if it gave no usable map. */
static int cluster_slot_map(const redis_proc *nodes, int n, int asked, int8_t *owner)
{
    memset(owner, -1, SLOTS);
    redisReply *r = redis_query(nodes[asked].port, 2, (const char *[]){"CLUSTER", "SLOTS"});
    int rc = r && r->type == REDIS_REPLY_ARRAY ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
            e->element[0]->type != REDIS_REPLY_INTEGER ||
            e->element[1]->type != REDIS_REPLY_INTEGER ||
            e->element[2]->type != REDIS_REPLY_ARRAY || e->element[2]->elements < 2 ||
            e->element[2]->element[1]->type != REDIS_REPLY_INTEGER) {
            rc = -1;
            break;
        }
        int port = (int)e->element[2]->element[1]->integer, idx = -1;
        for (int k = 0; k < n; k++)
            if (nodes[k].port == port)
                idx = k;
        for (long long s = e->element[0]->integer; s <= e->element[1]->integer; s++)
            if (s >= 0 && s < SLOTS)
                owner[s] = (int8_t)idx;
    }
    if (r)
        freeReplyObject(r);
    return rc;
}

/* Three cluster nodes, joined with redis-cli --cluster create, waited for
 * (bounded). On failure every node started is stopped. 0 or -1. */
static int rcluster_start(const options *o, redis_proc *nodes, char *url, size_t urllen)
{
    for (int i = 0; i < NPRIM; i++)
        nodes[i].pid = -1;
    int i;
    for (i = 0; i < NPRIM; i++)
        if (cnode_start(o, &nodes[i]) < 0)
            break;
    if (i < NPRIM) {
        for (int k = 0; k < i; k++)
            redis_stop(&nodes[k]);
        return -1;
    }
    char create[160];
    snprintf(create, sizeof(create), "%s/create.out", nodes[0].dir);
    char addr[NPRIM][32];
    const char *argv[NPRIM + 8] = {o->redis_cli, "--cluster", "create"};
    size_t a = 3;
    size_t len = (size_t)snprintf(url, urllen, "redis+cluster://");
    for (int k = 0; k < NPRIM; k++) {
        snprintf(addr[k], sizeof(addr[k]), "127.0.0.1:%d", nodes[k].port);
        argv[a++] = addr[k];
        len += (size_t)snprintf(url + len, len < urllen ? urllen - len : 0, "%s%s", k ? "," : "",
                                addr[k]);
    }
    argv[a++] = "--cluster-replicas";
    argv[a++] = "0";
    argv[a++] = "--cluster-yes";
    argv[a] = NULL;
    int rc = run_bounded(argv, create, TOOL_TIMEOUT_NS);
    if (rc == 0 && !file_contains(create, "All 16384 slots covered")) {
        fprintf(stderr, "---- redis-cli --cluster create output ----\n");
        print_file(create, stderr);
        rc = fail("redis-cli --cluster create did not cover the 16384 slots");
    }
    uint64_t t0 = now_ns(), end = t0 + CLUSTER_OK_TIMEOUT_NS;
    bool whole = false;
    for (unsigned k = 0; rc == 0 && k < 100000 && !interrupted && now_ns() < end; k++) {
        if ((whole = cluster_whole(nodes, NPRIM)))
            break;
        usleep(50000);
    }
    /* and the same slot map on every node */
    int8_t ref[SLOTS], map[SLOTS];
    for (int k = 0; rc == 0 && whole && k < NPRIM; k++) {
        if (cluster_slot_map(nodes, NPRIM, k, k ? map : ref) < 0 ||
            (k && memcmp(ref, map, SLOTS) != 0))
            whole = false;
    }
    if (rc == 0 && !whole)
        rc = fail("the Redis Cluster did not say cluster_state:ok with 3 nodes and 16384 slots "
                  "on every node within %llu s",
                  (unsigned long long)(CLUSTER_OK_TIMEOUT_NS / NS_PER_S));
    if (rc < 0) {
        for (int k = 0; k < NPRIM; k++)
            redis_stop(&nodes[k]);
        return -1;
    }
    printf("rcluster: 3 primaries up and agreeing in %.1f s after redis-cli --cluster create\n",
           (double)(now_ns() - t0) / (double)NS_PER_S);
    return 0;
}

/* ---- HTTP /metrics ------------------------------------------------------------ */

/* GET path from 127.0.0.1:port (HTTP/1.1, Connection: close), bounded by
 * HTTP_TIMEOUT_NS and HTTP_MAX_BYTES. The whole response, malloc'd, or NULL. */
static char *http_get(int port, const char *path)
{
    int fd = tcp_connect(port);
    if (fd < 0)
        return NULL;
    char req[256];
    int rl = snprintf(req, sizeof(req),
                      "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    size_t off = 0, cap = 65536, len = 0;
    char *buf = malloc(cap);
    uint64_t end = now_ns() + HTTP_TIMEOUT_NS;
    bool ok = buf != NULL, done = false;
    for (unsigned it = 0; ok && !done && it < 100000 && now_ns() < end; it++) {
        struct pollfd p = {fd, (short)(off < (size_t)rl ? POLLOUT : POLLIN), 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        if (off < (size_t)rl) {
            ssize_t n = write(fd, req + off, (size_t)rl - off);
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                ok = false;
            else if (n > 0)
                off += (size_t)n;
            continue;
        }
        if (len + 4096 > cap) {
            if (cap >= HTTP_MAX_BYTES) {
                ok = false;
                break;
            }
            char *b = realloc(buf, cap * 2);
            if (!b) {
                ok = false;
                break;
            }
            buf = b;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n == 0)
            done = true;
        else if (n < 0 && errno != EAGAIN && errno != EINTR)
            ok = false;
        else if (n > 0)
            len += (size_t)n;
    }
    close(fd);
    if (!ok || !done || strncmp(buf, "HTTP/1.1 200", 12) != 0) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

/* The value of metric `name` with label shard="host:PORT" for each port of
 * ports (n of them) into vals (left as is where absent). 0, or -1 if the
 * metrics could not be read. */
static int shard_metric(int http_port, const char *name, const int *ports, int n, uint64_t *vals)
{
    char *text = http_get(http_port, "/metrics");
    if (!text)
        return fail("GET http://127.0.0.1:%d/metrics failed", http_port);
    char needle[128];
    int nl = snprintf(needle, sizeof(needle), "\n%s{shard=\"", name);
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) {
        const char *addr = p + nl, *q = strchr(addr, '"');
        if (!q)
            break;
        const char *colon = memrchr(addr, ':', (size_t)(q - addr));
        int port = colon ? atoi(colon + 1) : -1;
        const char *close = strchr(q, '}');
        if (!close)
            break;
        for (int i = 0; i < n; i++)
            if (ports[i] == port)
                vals[i] = strtoull(close + 1, NULL, 10);
    }
    free(text);
    return 0;
}

/* Lines of the metrics text that start with `prefix` (sidecast_redis_shard_up,
 * sidecast_redis_cluster_shards), indented, to out. */
static void print_metric_lines(int http_port, const char *prefix, const char *indent)
{
    char *text = http_get(http_port, "/metrics");
    if (!text) {
        printf("%s(no /metrics)\n", indent);
        return;
    }
    size_t pl = strlen(prefix);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, prefix, pl) == 0)
            printf("%s%.*s\n", indent, (int)strcspn(l, "\r\n"), l);
    free(text);
}

/* "http: listening on 127.0.0.1:PORT" in a sidecastd log (info level). */
static int find_http_port(const char *log)
{
    FILE *f = fopen(log, "r");
    if (!f)
        return -1;
    char line[1024];
    int port = -1;
    for (unsigned i = 0; i < 100000 && port < 0 && fgets(line, sizeof(line), f); i++) {
        char *p = strstr(line, "http: listening on ");
        if (p) {
            p = strchr(p + 19, ' ');
            char *colon = p ? memrchr(line, ':', (size_t)(p - line)) : NULL;
            if (colon)
                port = atoi(colon + 1);
        }
    }
    fclose(f);
    return port;
}

/* ---- connections per sidecar ---------------------------------------------------- */

#define MAX_PORTS 1024

/* The local TCP ports of pid's sockets (IPv4 and IPv6). */
static int pid_ports(pid_t pid, int *ports, int max)
{
    static unsigned long inodes[4096];
    int ni = 0, n = 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    for (unsigned i = 0; i < 100000 && ni < 4096 && (e = readdir(d)) != NULL; i++) {
        char lp[320], target[128];
        snprintf(lp, sizeof(lp), "%s/%s", path, e->d_name);
        ssize_t k = readlink(lp, target, sizeof(target) - 1);
        if (k <= 0)
            continue;
        target[k] = '\0';
        unsigned long ino;
        if (sscanf(target, "socket:[%lu]", &ino) == 1)
            inodes[ni++] = ino;
    }
    closedir(d);
    const char *tables[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    for (int t = 0; t < 2; t++) {
        FILE *f = fopen(tables[t], "r");
        if (!f)
            continue;
        char line[512];
        for (unsigned i = 0; i < 1000000 && fgets(line, sizeof(line), f); i++) {
            char local[128];
            unsigned long ino = 0;
            /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
            if (sscanf(line, "%*s %127s %*s %*s %*s %*s %*s %*s %*s %lu", local, &ino) != 2)
                continue;
            const char *colon = strrchr(local, ':');
            if (!colon || !ino)
                continue;
            for (int k = 0; k < ni; k++)
                if (inodes[k] == ino && n < max) {
                    ports[n++] = (int)strtol(colon + 1, NULL, 16);
                    break;
                }
        }
        fclose(f);
    }
    return n;
}

/* The value of field key= in a CLIENT LIST line (up to the next space). */
static void client_field(const char *line, const char *key, char *val, size_t len)
{
    char pat[32];
    snprintf(pat, sizeof(pat), " %s=", key);
    const char *p = strncmp(line, pat + 1, strlen(pat + 1)) == 0 ? line + strlen(pat + 1)
                    : strstr(line, pat)                          ? strstr(line, pat) + strlen(pat)
                                                                 : NULL;
    val[0] = '\0';
    if (!p)
        return;
    size_t n = strcspn(p, " \r\n");
    snprintf(val, len, "%.*s", (int)(n < len ? n : len - 1), p);
}

/* Client connections of one redis-server: of sidecastd 1, of sidecastd 2,
 * of anyone else (this bench's own left out); with sub = those of each
 * sidecar in pub/sub mode (flags P). */
typedef struct census_srv {
    int n[3], sub[3];
} census_srv;

typedef struct census {
    bool ok;
    census_srv srv[NPRIM];
} census;

static bool port_in(const int *ports, int n, int port)
{
    for (int i = 0; i < n; i++)
        if (ports[i] == port)
            return true;
    return false;
}

/* ---- one mode: redis-server(s), two nodes, app E on node 1, app R on node 2 ---- */

typedef struct round_result {
    uint64_t messages;
    double seconds;
    cpu_use cpu;               /* per message: sidecastd 1, sidecastd 2, the redis-servers */
    uint64_t publishes;        /* redis_publishes of node 1 */
    uint64_t shard_pub[NPRIM]; /* node 1's sidecast_redis_shard_publishes_total (B) */
    uint64_t cmd_calls[NPRIM]; /* cmdstat_(s)publish calls per server */
    uint64_t cmd_usec[NPRIM];
} round_result;

typedef struct mode {
    bench_pair p; /* first: a round gets the pair */
    bool rcluster;
    int nsrv; /* redis-servers: 1 (A) or NPRIM (B) */
    int srv_port[NPRIM];
    pid_t srv_pid[NPRIM];
    char url[256];
    int http1, http2;
    /* B: rooms whose slot each server serves; which one has the home slot */
    unsigned rooms_on[NPRIM];
    int home;
    census cs_start, cs_end;
    round_result res[MAX_ROUNDS];
    unsigned nres;
} mode;

static unsigned g_rooms;
static char (*g_room_name)[32];
static const char **g_room_ptr; /* g_room_ptr[i] = g_room_name[i] */
static sc_target *g_room_to;

static size_t mode_nproc(const mode *m)
{
    return 2 + (size_t)m->nsrv;
}

static void mode_pids(const mode *m, pid_t *pids)
{
    pids[0] = m->p.n1.pid;
    pids[1] = m->p.n2.pid;
    for (int i = 0; i < m->nsrv; i++)
        pids[2 + i] = m->srv_pid[i];
}

/* Counters read before and after a round (outside its CPU window). */
typedef struct counters {
    uint64_t publishes;
    uint64_t shard_pub[NPRIM];
    uint64_t cmd_calls[NPRIM], cmd_usec[NPRIM];
} counters;

static int counters_read(mode *m, counters *k)
{
    memset(k, 0, sizeof(*k));
    k->publishes = stat_or_zero(m->p.e, "redis_publishes");
    if (m->rcluster && shard_metric(m->http1, "sidecast_redis_shard_publishes_total", m->srv_port,
                                    m->nsrv, k->shard_pub) < 0)
        return -1;
    for (int i = 0; i < m->nsrv; i++) {
        redisReply *r = redis_query(m->srv_port[i], 2, (const char *[]){"INFO", "commandstats"});
        if (!r || r->type != REDIS_REPLY_STRING) {
            if (r)
                freeReplyObject(r);
            return fail("%s: INFO commandstats on port %d failed", m->p.name, m->srv_port[i]);
        }
        parse_cmdstat(r->str, m->rcluster ? "spublish" : "publish", &k->cmd_calls[i],
                      &k->cmd_usec[i]);
        freeReplyObject(r);
    }
    return 0;
}

static void print_round(const mode *m, unsigned round, const round_result *r);

/* One measured round of the pair (pair_round over the mode's processes):
 * its figures, the counters around it, printed. */
static int mode_round(bench_pair *p, unsigned round)
{
    mode *m = (mode *)p;
    round_result *res = &m->res[m->nres];
    pid_t pids[NPROC_MAX];
    mode_pids(m, pids);
    counters k0, k1;
    if (counters_read(m, &k0) < 0 ||
        pair_round(p, p->opt->messages, pids, mode_nproc(m), &res->cpu, &res->seconds) < 0 ||
        counters_read(m, &k1) < 0)
        return -1;
    res->messages = p->opt->messages;
    res->publishes = k1.publishes - k0.publishes;
    for (int i = 0; i < m->nsrv; i++) {
        res->shard_pub[i] = k1.shard_pub[i] - k0.shard_pub[i];
        res->cmd_calls[i] = k1.cmd_calls[i] - k0.cmd_calls[i];
        res->cmd_usec[i] = k1.cmd_usec[i] - k0.cmd_usec[i];
    }
    m->nres++;
    print_round(m, round, res);
    return 0;
}

/* CLIENT LIST of every redis-server of the mode, each connection told to
 * sidecastd 1, sidecastd 2 or someone else by its local port. */
static int mode_census(mode *m, census *cs)
{
    memset(cs, 0, sizeof(*cs));
    static int p1[MAX_PORTS], p2[MAX_PORTS];
    int n1 = pid_ports(m->p.n1.pid, p1, MAX_PORTS), n2 = pid_ports(m->p.n2.pid, p2, MAX_PORTS);
    if (n1 < 0 || n2 < 0)
        return fail("%s: cannot read the sidecastds' sockets from /proc", m->p.name);
    for (int s = 0; s < m->nsrv; s++) {
        resp_conn c;
        redisReply *r = NULL;
        if (conn_open(&c, m->srv_port[s]) < 0 ||
            conn_command(&c, 3, (const char *[]){"CLIENT", "SETNAME", "bench-census"}, &r) < 0) {
            if (r)
                freeReplyObject(r);
            conn_close(&c);
            return fail("%s: CLIENT SETNAME on port %d failed", m->p.name, m->srv_port[s]);
        }
        freeReplyObject(r);
        r = NULL;
        int q = conn_command(&c, 2, (const char *[]){"CLIENT", "LIST"}, &r);
        conn_close(&c);
        if (q < 0 || !r || r->type != REDIS_REPLY_STRING) {
            if (r)
                freeReplyObject(r);
            return fail("%s: CLIENT LIST on port %d failed", m->p.name, m->srv_port[s]);
        }
        for (const char *l = r->str; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
            size_t len = strcspn(l, "\n");
            char line[2048], name[128], flags[32], addr[128];
            snprintf(line, sizeof(line), "%.*s", (int)SC_BENCH_MIN(len, sizeof(line) - 1), l);
            if (!strstr(line, "id="))
                continue;
            client_field(line, "name", name, sizeof(name));
            client_field(line, "flags", flags, sizeof(flags));
            client_field(line, "addr", addr, sizeof(addr));
            if (strcmp(name, "bench-census") == 0 || strchr(flags, 'S') || strchr(flags, 'M'))
                continue;
            const char *colon = strrchr(addr, ':');
            int port = colon ? atoi(colon + 1) : -1;
            int who = port_in(p1, n1, port) ? 0 : port_in(p2, n2, port) ? 1 : 2;
            cs->srv[s].n[who]++;
            if (strchr(flags, 'P'))
                cs->srv[s].sub[who]++;
        }
        freeReplyObject(r);
    }
    cs->ok = true;
    return 0;
}

static int census_total(const mode *m, const census *cs, int who)
{
    int t = 0;
    for (int s = 0; s < m->nsrv; s++)
        t += cs->srv[s].n[who];
    return t;
}

static void print_census(const mode *m, const census *cs, const char *when)
{
    if (!cs->ok) {
        printf("  %-8s %s: (not counted)\n", m->p.name, when);
        return;
    }
    int target = 2 * m->nsrv;
    for (int who = 0; who < 3; who++) {
        int t = census_total(m, cs, who);
        if (who == 2) {
            printf("  %-8s %s: other clients %d\n", m->p.name, when, t);
            break;
        }
        printf("  %-8s %s: sidecastd %d: %d connections (%s 2 x primaries = %d)  [", m->p.name,
               when, who + 1, t,
               t == target  ? "="
               : t < target ? "<"
                            : ">",
               target);
        for (int s = 0; s < m->nsrv; s++)
            printf("%s:%d %d (%d pub/sub)%s", m->home == s && m->rcluster ? "home " : "",
                   m->srv_port[s], cs->srv[s].n[who], cs->srv[s].sub[who],
                   s + 1 < m->nsrv ? ", " : "");
        printf("]\n");
    }
}

static int mode_start(const options *o, mode *m)
{
    const char *args[] = {
        "--redis-url",          m->url, "--log-level", "info", /* the HTTP port, cluster lines */
        "--canary-interval-ms", "0",    NULL};
    if (pair_start(&m->p, &o->pair, g_room_to, g_rooms, o->sidecastd, o->keep, args) < 0)
        return -1;
    m->http1 = find_http_port(m->p.n1.log);
    m->http2 = find_http_port(m->p.n2.log);
    if (m->http1 <= 0 || m->http2 <= 0)
        return fail("%s: no 'http: listening on' line in the sidecastd logs", m->p.name);
    uint64_t t0 = now_ns();
    if (pair_wait_ready(&m->p, PROBE_EVERY_NS, PROBE_QUIET_NS, READY_TIMEOUT_NS) < 0)
        return -1;
    printf("%-8s all %u rooms answered a probe after %.2f s\n", m->p.name, g_rooms,
           (double)(now_ns() - t0) / (double)NS_PER_S);
    printf("%-8s node 1 sidecastd pid %d (http %d), node 2 pid %d (http %d), %s\n", m->p.name,
           (int)m->p.n1.pid, m->http1, (int)m->p.n2.pid, m->http2, m->url);
    return 0;
}

/* Lines of a sidecastd log worth reporting: warnings and errors (but the
 * advertise_address one, expected here), and info lines about the Redis
 * Cluster or MOVED. At most MAX_LOG_LINES, then a count of the rest. */
static void print_log_lines(const char *label, const char *log)
{
    FILE *f = fopen(log, "r");
    if (!f) {
        printf("  %s: (no log)\n", label);
        return;
    }
    char line[2048];
    unsigned shown = 0, more = 0, warns = 0;
    for (unsigned i = 0; i < 1000000 && fgets(line, sizeof(line), f); i++) {
        bool warn = strncmp(line, "warn", 4) == 0 || strncmp(line, "error", 5) == 0;
        bool cl = strstr(line, "redis cluster") || strstr(line, "MOVED") || strstr(line, "ASK ") ||
                  strstr(line, "shard") || strstr(line, "slot");
        if (strstr(line, "advertise_address is not set"))
            continue;
        if (!warn && !cl)
            continue;
        warns += warn;
        if (shown < MAX_LOG_LINES) {
            printf("  %s: %.*s\n", label, (int)strcspn(line, "\r\n"), line);
            shown++;
        } else {
            more++;
        }
    }
    fclose(f);
    if (!shown)
        printf("  %s: nothing (no warning, no Redis Cluster line)\n", label);
    if (more)
        printf("  %s: ... and %u more such lines\n", label, more);
    (void)warns;
}

/* Counters that should stay at zero in a run like this one, or that say
 * how the Redis Cluster was used; printed when not zero. */
static const char *const watch_stats[] = {
    "cluster_late_skipped",
    "cluster_duplicates_skipped",
    "redis_cluster_redirects",
    "redis_cluster_sunsubscribes",
    "redis_errors",
    "redis_commands_lost",
    "outbox_queued",
    "outbox_dropped_volatile",
    "outbox_dropped_full",
    "pubsub_gaps",
    "canary_missed",
    "drops_volatile_slow_reader",
    "disconnects_slow_reader",
    "cluster_unknown_origin_dropped",
    "cluster_malformed",
    "redis_deferred_reads",
};

static void print_watch_stats(const char *label, sc_client *c)
{
    printf("  %s:", label);
    unsigned shown = 0;
    for (size_t i = 0; i < SC_BENCH_ARRAY_LEN(watch_stats); i++) {
        uint64_t v = 0;
        if (sc_client_stat(c, watch_stats[i], &v) == 0 && v) {
            printf(" %s %s", watch_stats[i], grp((double)v));
            shown++;
        }
    }
    printf("%s\n", shown ? "" : " all zero");
}

/* ---- report ------------------------------------------------------------------ */

typedef double (*getter)(const mode *m, const round_result *, size_t);

/* Median, min and max of one figure of a mode's rounds. */
static stat3 figure(const mode *m, getter get, size_t idx)
{
    double v[MAX_ROUNDS];
    for (unsigned i = 0; i < m->nres; i++)
        v[i] = get(m, &m->res[i], idx);
    return stat3_of(v, m->nres);
}

/* CPU per message of process i: from schedstat, or ticks without it. */
static double cpu_us(const round_result *r, size_t i)
{
    return r->cpu.have_ns ? r->cpu.ns_us[i] : r->cpu.tick_us[i];
}

static double get_rate(const mode *m, const round_result *r, size_t i)
{
    return (double)r->messages / r->seconds;
}
static double redis_cpu(const mode *m, const round_result *r)
{
    double t = 0;
    for (int i = 0; i < m->nsrv; i++)
        t += cpu_us(r, 2 + (size_t)i);
    return t;
}
enum { G_N1, G_N2, G_SIDECARS, G_REDIS, G_TOTAL, G_TICKS_TOTAL };
static double get_cpu(const mode *m, const round_result *r, size_t i)
{
    switch (i) {
    case G_N1: return cpu_us(r, 0);
    case G_N2: return cpu_us(r, 1);
    case G_SIDECARS: return cpu_us(r, 0) + cpu_us(r, 1);
    case G_REDIS: return redis_cpu(m, r);
    case G_TOTAL: return cpu_us(r, 0) + cpu_us(r, 1) + redis_cpu(m, r);
    default: {
        double t = 0;
        for (size_t k = 0; k < mode_nproc(m); k++)
            t += r->cpu.tick_us[k];
        return t;
    }
    }
}
static double get_self(const mode *m, const round_result *r, size_t i)
{
    return r->cpu.self_us;
}
static double get_batch(const mode *m, const round_result *r, size_t i)
{
    return r->publishes ? (double)r->messages / (double)r->publishes : 0;
}
/* Redis's own time per (S)PUBLISH (INFO commandstats usec / calls, all servers). */
static double get_cmd_us(const mode *m, const round_result *r, size_t i)
{
    uint64_t calls = 0, usec = 0;
    for (int k = 0; k < m->nsrv; k++) {
        calls += r->cmd_calls[k];
        usec += r->cmd_usec[k];
    }
    return calls ? (double)usec / (double)calls : 0;
}
/* Server i's share of the Redis CPU (B). */
static double get_share(const mode *m, const round_result *r, size_t i)
{
    double t = redis_cpu(m, r);
    return t > 0 ? cpu_us(r, 2 + (size_t)i) / t : 0;
}
/* The busiest server's share of the Redis CPU in the round. */
static double get_busiest(const mode *m, const round_result *r, size_t i)
{
    double best = 0;
    for (int k = 0; k < m->nsrv; k++)
        best = SC_BENCH_MAX(best, get_share(m, r, (size_t)k));
    return best;
}
static double get_srv_cpu(const mode *m, const round_result *r, size_t i)
{
    return cpu_us(r, 2 + (size_t)i);
}

static void print_round(const mode *m, unsigned round, const round_result *r)
{
    printf("  round %u/%u %-8s %s msgs in %.2f s = %9s/s; CPU us/msg: sidecastd 1 %.3f, "
           "sidecastd 2 %.3f, redis %.3f",
           round + 1, m->p.opt->rounds, m->p.name, grp((double)r->messages), r->seconds,
           grp(get_rate(m, r, 0)), cpu_us(r, 0), cpu_us(r, 1), redis_cpu(m, r));
    if (m->nsrv > 1) {
        printf(" (");
        for (int i = 0; i < m->nsrv; i++)
            printf("%s%.3f", i ? " + " : "", cpu_us(r, 2 + (size_t)i));
        printf("; busiest %.0f%%)", 100 * get_busiest(m, r, 0));
    }
    printf(", total %.3f (ticks %.3f); apps %.3f; %.2f emits/PUBLISH", get_cpu(m, r, G_TOTAL),
           get_cpu(m, r, G_TICKS_TOTAL), r->cpu.self_us, get_batch(m, r, 0));
    if (r->cpu.min_ticks < COARSE_TICKS)
        printf(" (coarse: a process used only %" PRIu64 " ticks)", r->cpu.min_ticks);
    printf("\n");
}

/* One table row: A and B medians (min-max), the ratio of medians B / A. */
static double row(const char *label, const mode *a, const mode *b, getter get, size_t idx,
                  int decimals, const char *unit)
{
    return print_row(label, 38, figure(a, get, idx), figure(b, get, idx), decimals, unit);
}

static uint64_t pooled(const mode *m, size_t off_field, int i)
{
    uint64_t t = 0;
    for (unsigned k = 0; k < m->nres; k++) {
        const uint64_t *arr = (const uint64_t *)((const char *)&m->res[k] + off_field);
        t += arr[i];
    }
    return t;
}

int main(int argc, char **argv)
{
    bench_prog = "bench_rcluster";
    options o;
    int pr = parse_options(argc, argv, &o);
    if (pr != 0)
        return pr > 0 ? 0 : 2;
    bench_run run;
    bench_begin(&run, argc, argv, o.sidecastd, true, ", loopback",
                "two sidecastd nodes over one redis-server (A) and over a %d-primary Redis "
                "Cluster (B)",
                NPRIM);
    printf("%u room emits of %u bytes per round, round-robin over %u rooms (one socket each on "
           "node 2), window %u, %u rounds per mode (alternating), %u warm-up emits per mode\n",
           o.pair.messages, o.pair.payload, o.rooms, o.pair.window, o.pair.rounds, o.pair.warmup);

    /* the rooms */
    g_rooms = o.rooms;
    g_room_name = calloc(g_rooms, sizeof(*g_room_name));
    g_room_ptr = calloc(g_rooms, sizeof(*g_room_ptr));
    g_room_to = calloc(g_rooms, sizeof(*g_room_to));
    if (!g_room_name || !g_room_ptr || !g_room_to)
        return fail("out of memory"), 1;
    for (unsigned i = 0; i < g_rooms; i++) {
        snprintf(g_room_name[i], sizeof(g_room_name[i]), "bench-room-%u", i);
        g_room_ptr[i] = g_room_name[i];
        g_room_to[i] = (sc_target){.rooms = &g_room_ptr[i], .n_rooms = 1};
    }

    int rc = 0;
    uint64_t t_start = now_ns();
    mode modes[2];
    memset(modes, 0, sizeof(modes));
    modes[0].p.name = "single";
    modes[0].nsrv = 1;
    modes[1].p.name = "rcluster";
    modes[1].rcluster = true;
    modes[1].nsrv = NPRIM;
    for (size_t k = 0; k < 2; k++) {
        modes[k].p.n1.pid = modes[k].p.n2.pid = -1;
        modes[k].home = -1;
    }
    mode *ma = &modes[0], *mb = &modes[1];

    /* A: one redis-server */
    redis_proc single;
    if (redis_start(&single, o.redis_server, o.keep) < 0)
        return 1;
    ma->srv_port[0] = single.port;
    ma->srv_pid[0] = single.pid;
    snprintf(ma->url, sizeof(ma->url), "%s", single.url);
    /* B: the Redis Cluster */
    redis_proc nodes[NPRIM];
    if (rcluster_start(&o, nodes, mb->url, sizeof(mb->url)) < 0) {
        redis_stop(&single);
        return 1;
    }
    for (int i = 0; i < NPRIM; i++) {
        mb->srv_port[i] = nodes[i].port;
        mb->srv_pid[i] = nodes[i].pid;
    }
    printf("redis-server %s: A pid %d port %d; B pids %d %d %d ports %d %d %d (buses %d %d %d), "
           "cluster-node-timeout 1000, no replicas\n",
           nodes[0].version, (int)single.pid, single.port, (int)nodes[0].pid, (int)nodes[1].pid,
           (int)nodes[2].pid, nodes[0].port, nodes[1].port, nodes[2].port, nodes[0].port2,
           nodes[1].port2, nodes[2].port2);
    /* where the rooms' channels and the home slot ("{sidecast}") live */
    {
        int8_t owner[SLOTS];
        if (cluster_slot_map(nodes, NPRIM, 0, owner) < 0) {
            rc = fail("CLUSTER SLOTS gave no usable map");
        } else {
            for (unsigned i = 0; i < g_rooms; i++) {
                char ch[64];
                snprintf(ch, sizeof(ch), "sidecast:room:%s", g_room_name[i]);
                int s = owner[key_slot(ch)];
                if (s >= 0)
                    mb->rooms_on[s]++;
            }
            mb->home = owner[key_slot("{sidecast}")];
            printf("rcluster: room channels sidecast:room:bench-room-N by slot: ");
            for (int i = 0; i < NPRIM; i++)
                printf("%s:%d %u%s", i ? ", " : "", nodes[i].port, mb->rooms_on[i],
                       mb->home == i ? " (+ home slot of {sidecast})" : "");
            printf("\n");
        }
    }

    for (size_t k = 0; k < 2 && rc == 0; k++)
        if (mode_start(&o, &modes[k]) < 0)
            rc = 1;

    /* warm-up, unmeasured, then the connections, then the rounds */
    for (size_t k = 0; k < 2 && rc == 0 && o.pair.warmup; k++)
        if (pair_run(&modes[k].p, o.pair.warmup, NULL) < 0)
            rc = 1;
    for (size_t k = 0; k < 2 && rc == 0; k++)
        if (mode_census(&modes[k], &modes[k].cs_start) < 0)
            rc = 1;
    if (rc == 0)
        printf("\nrounds (CPU per message from /proc/PID/task/*/schedstat; ticks = utime+stime "
               "from /proc/PID/stat, all processes; apps = this process, which drives E and R):\n");
    bench_pair *const pairs[2] = {&ma->p, &mb->p};
    if (rc == 0 && pair_alternate(pairs, FINAL_QUIET_NS, mode_round) < 0)
        rc = 1;
    /* what the daemons say, before they stop */
    bool started = ma->p.e && ma->p.r && mb->p.e && mb->p.r;
    if (started) {
        for (size_t k = 0; k < 2; k++)
            if (mode_census(&modes[k], &modes[k].cs_end) < 0)
                rc = 1;
        printf("\nRedis client connections per sidecar (CLIENT LIST on every redis-server, told "
               "apart by local port; this bench's own left out):\n");
        for (size_t k = 0; k < 2; k++) {
            print_census(&modes[k], &modes[k].cs_start, "after warm-up");
            print_census(&modes[k], &modes[k].cs_end, "at the end   ");
        }
        printf("\nper-shard gauges (node 1, then node 2):\n");
        print_metric_lines(mb->http1, "sidecast_redis_cluster_shards", "  node 1 ");
        print_metric_lines(mb->http1, "sidecast_redis_shard_up", "  node 1 ");
        print_metric_lines(mb->http2, "sidecast_redis_shard_up", "  node 2 ");
        print_metric_lines(mb->http2, "sidecast_redis_shard_channels", "  node 2 ");
        printf("\ncounters that should stay at zero (and deferred reads), at the end:\n");
        for (size_t k = 0; k < 2; k++) {
            char l[64];
            snprintf(l, sizeof(l), "%-8s node 1", modes[k].p.name);
            print_watch_stats(l, modes[k].p.e);
            snprintf(l, sizeof(l), "%-8s node 2", modes[k].p.name);
            print_watch_stats(l, modes[k].p.r);
        }
        printf("\nsidecastd log lines (warnings, errors, Redis Cluster):\n");
        for (size_t k = 0; k < 2; k++) {
            char l[64];
            snprintf(l, sizeof(l), "%s node 1", modes[k].p.name);
            print_log_lines(l, modes[k].p.n1.log);
            snprintf(l, sizeof(l), "%s node 2", modes[k].p.name);
            print_log_lines(l, modes[k].p.n2.log);
        }
    }
    for (size_t k = 0; k < 2; k++)
        if (pair_stop(&modes[k].p) < 0)
            rc = 1;
    if (redis_stop(&single) < 0)
        rc = 1;
    for (int i = 0; i < NPRIM; i++)
        if (redis_stop(&nodes[i]) < 0)
            rc = 1;
    double total_s = (double)(now_ns() - t_start) / (double)NS_PER_S;

    if (ma->nres && mb->nres) {
        printf("\nMedians over %u rounds per mode (min-max in brackets); CPU in us per message "
               "from schedstat\n",
               SC_BENCH_MIN(ma->nres, mb->nres));
        printf("  %-38s %12s %-19s %12s %-19s %7s\n", "figure", "A single", "", "B rcluster", "",
               "B/A");
        double r_rate = row("room deliveries/s (app R, node 2)", ma, mb, get_rate, 0, -1, "/s");
        double r_n1 = row("CPU/msg sidecastd 1 (emits)", ma, mb, get_cpu, G_N1, 3, " us");
        double r_n2 = row("CPU/msg sidecastd 2 (receives)", ma, mb, get_cpu, G_N2, 3, " us");
        double r_sc = row("CPU/msg both sidecastds", ma, mb, get_cpu, G_SIDECARS, 3, " us");
        double r_redis =
            row("CPU/msg Redis (A: 1, B: 3 servers)", ma, mb, get_cpu, G_REDIS, 3, " us");
        double r_tot = row("CPU/msg sidecars + Redis", ma, mb, get_cpu, G_TOTAL, 3, " us");
        row("  same from /proc/PID/stat ticks", ma, mb, get_cpu, G_TICKS_TOTAL, 3, " us");
        row("apps E + R (this process) CPU/msg", ma, mb, get_self, 0, 3, " us");
        row("Redis time per (S)PUBLISH (cmdstat)", ma, mb, get_cmd_us, 0, 3, " us");
        row("emits per PUBLISH (node 1)", ma, mb, get_batch, 0, 2, "");

        /* B per shard */
        uint64_t pub_tot = 0, cmd_tot = 0;
        for (int i = 0; i < NPRIM; i++) {
            pub_tot += pooled(mb, offsetof(round_result, shard_pub), i);
            cmd_tot += pooled(mb, offsetof(round_result, cmd_calls), i);
        }
        printf("\nB per shard (publishes pooled over the %u measured rounds; CPU medians):\n",
               mb->nres);
        printf("  %-22s %6s %19s %19s %8s %18s %19s\n", "shard", "rooms", "node 1 publishes",
               "cmdstat_spublish", "us/call", "CPU us/msg", "share of Redis CPU");
        for (int i = 0; i < NPRIM; i++) {
            uint64_t p = pooled(mb, offsetof(round_result, shard_pub), i);
            uint64_t c = pooled(mb, offsetof(round_result, cmd_calls), i);
            uint64_t u = pooled(mb, offsetof(round_result, cmd_usec), i);
            stat3 cpu = figure(mb, get_srv_cpu, (size_t)i), sh = figure(mb, get_share, (size_t)i);
            char lab[40], pubs[40], cmds[40], shs[40], cpus[40];
            snprintf(lab, sizeof(lab), "127.0.0.1:%d%s", mb->srv_port[i],
                     mb->home == i ? " (home)" : "");
            snprintf(pubs, sizeof(pubs), "%s (%.1f%%)", grp((double)p),
                     pub_tot ? 100.0 * (double)p / (double)pub_tot : 0);
            snprintf(cmds, sizeof(cmds), "%s (%.1f%%)", grp((double)c),
                     cmd_tot ? 100.0 * (double)c / (double)cmd_tot : 0);
            snprintf(cpus, sizeof(cpus), "%.3f (%.3f-%.3f)", cpu.med, cpu.lo, cpu.hi);
            snprintf(shs, sizeof(shs), "%.1f%% (%.1f-%.1f)", 100 * sh.med, 100 * sh.lo,
                     100 * sh.hi);
            printf("  %-22s %6u %19s %19s %8.3f %18s %19s\n", lab, mb->rooms_on[i], pubs, cmds,
                   c ? (double)u / (double)c : 0, cpus, shs);
        }
        stat3 busiest = figure(mb, get_busiest, 0);
        bool met = busiest.med <= GOAL_BUSIEST_SHARE;
        printf("\nverdict: the busiest shard takes %.1f%% of the Redis CPU (median of each "
               "round's busiest; %.1f-%.1f%%), goal <= %.0f%% with %u rooms: %s%s\n",
               100 * busiest.med, 100 * busiest.lo, 100 * busiest.hi, 100 * GOAL_BUSIEST_SHARE,
               g_rooms, met ? "MET" : "NOT MET",
               g_rooms != GOAL_ROOMS ? " (the goal is stated for 300 rooms)" : "");
        int ca1 = census_total(ma, &ma->cs_start, 0), ca2 = census_total(ma, &ma->cs_start, 1);
        int cb1 = census_total(mb, &mb->cs_start, 0), cb2 = census_total(mb, &mb->cs_start, 1);
        printf("connections per sidecar: A %d and %d (2 x 1 primary = 2), B %d and %d "
               "(2 x %d primaries = %d): B/A %.2fx and %.2fx\n",
               ca1, ca2, cb1, cb2, NPRIM, 2 * NPRIM, ca1 ? (double)cb1 / ca1 : 0,
               ca2 ? (double)cb2 / ca2 : 0);
        printf("ratios B/A: deliveries/s %.2fx; CPU/msg Redis %.2fx, sidecastd 1 %.2fx, "
               "sidecastd 2 %.2fx, both sidecastds %.2fx, all %.2fx\n",
               r_rate, r_redis, r_n1, r_n2, r_sc, r_tot);
        if (strstr(SC_BUILD_TYPE, "sanitizers"))
            printf("NOTE: sanitizer build: these figures say nothing about sidecast's speed\n");
        printf("summary: sidecast bench_rcluster (%s, %ld CPUs, %s, %u x %u-byte emits per round "
               "round-robin over %u rooms, window %u, %u rounds per mode): A %s deliveries/s at "
               "%.3f us Redis + %.3f us sidecars CPU/msg; B %s deliveries/s at %.3f us Redis "
               "(busiest shard %.0f%%) + %.3f us sidecars = %.2fx throughput, %.2fx Redis CPU, "
               "%.2fx sidecar CPU; connections per sidecar %d/%d vs %d/%d; run took %.0f s.\n",
               SC_BUILD_TYPE, run.ncpu, run.when, o.pair.messages, o.pair.payload, g_rooms,
               o.pair.window, SC_BENCH_MIN(ma->nres, mb->nres), grp(figure(ma, get_rate, 0).med),
               figure(ma, get_cpu, G_REDIS).med, figure(ma, get_cpu, G_SIDECARS).med,
               grp(figure(mb, get_rate, 0).med), figure(mb, get_cpu, G_REDIS).med,
               100 * busiest.med, figure(mb, get_cpu, G_SIDECARS).med, r_rate, r_redis, r_sc, ca1,
               ca2, cb1, cb2, total_s);
    }
    if (rc)
        fprintf(stderr, "bench_rcluster: the run failed (see above); figures are incomplete\n");
    return rc;
}
