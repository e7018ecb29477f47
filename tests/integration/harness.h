/* harness: start and stop a real sidecastd for integration tests, and record
 * what each test app receives.
 *
 * The daemon runs on a Unix socket in a fresh temporary directory, logs to
 * a file there, and is stopped by pid. Set SIDECAST_TEST_WRAPPER (e.g.
 * "valgrind --error-exitcode=99") to run it under a tool; the wrapper's exit
 * code then decides daemon_stop's result. */
#ifndef SC_HARNESS_H
#define SC_HARNESS_H

#include "sidecast.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct daemon {
    pid_t pid;
    char dir[256];
    char sock[300];
    char log[300];
    char *args[48];
    int nargs;
    bool bare;       /* no implicit --socket/--log-level/--http-listen flags */
    const char *bin; /* the sidecastd binary (borrowed); NULL: SC_SIDECASTD_PATH */
} daemon_t;

/* A fresh temporary directory with sock and log paths, nothing started:
 * write files there, then daemon_launch. */
daemon_t *daemon_prepare(void);
/* Start sidecastd with these flags (NULL-terminated). bare: only them, so
 * a --config file decides socket, log_level and http_listen. */
void daemon_launch(daemon_t *d, bool bare, const char *first_arg, ...);
/* Environment for the daemons spawned after this call: "KEY=VALUE" items
 * (NULL-terminated, borrowed); a VALUE of "$PID" becomes the daemon's own
 * pid (WATCHDOG_PID). NULL: none. */
void harness_child_env(const char *const *env);

/* Start sidecastd with extra flags (NULL-terminated). Asserts on failure. */
daemon_t *daemon_start(const char *first_arg, ...);
/* Start again on the same socket path with the same flags. */
void daemon_restart(daemon_t *d);
/* SIGTERM and wait (bounded); returns the exit status (or 128+signal). The
 * temporary directory is removed only by daemon_free. */
int daemon_stop(daemon_t *d);
void daemon_kill(daemon_t *d);
/* Stop if running, assert a clean exit, print the log on failure, clean up. */
void daemon_free(daemon_t *d);
bool daemon_log_contains(const daemon_t *d, const char *needle);
/* n emits of `len` bytes ('x') to `room`, volatile or not, then a sync;
 * asserts each was accepted. */
void emit_to_room(sc_client *c, const char *room, int n, size_t len, bool vol);
/* A TCP connection to 127.0.0.1:port; asserts it connects. */
int tcp_connect(int port);
/* Wait (bounded) until the daemon's log contains needle; returns whether it does. */
bool wait_log(daemon_t *d, const char *needle, int timeout_ms);
/* Write text to path (a config file for a test); asserts on failure. */
void write_file(const char *path, const char *text);

/* Per-app record of deliveries: counts per socket id. */
#define REC_MAX 512
#define REC_NUMBERED 1024
typedef struct recorder {
    char ids[REC_MAX][64];
    unsigned counts[REC_MAX];
    size_t n;
    uint64_t frames;
    uint64_t sockets;
    int last_error_code;
    char last_error_ref[64];
    unsigned errors;
    char last_payload[256];
    /* a ledger of numbered payloads ("#<n>", n < REC_NUMBERED): deliveries
     * of each, over every socket (see rec_numbered_once) */
    uint8_t numbered[REC_NUMBERED];
    /* cluster callbacks */
    sc_client *self;        /* set by app_open, for answering acks */
    char name[32];
    unsigned server_msgs;
    char last_server_payload[128];
    unsigned applies, disconnects;
    unsigned gaps;
    unsigned ack_requests;
} recorder;

/* What a server emit or broadcast with acks got: pass answers_on_progress
 * with an answers as its ud; answers_has looks for one payload. */
typedef struct answers {
    uint32_t expect;
    int n;
    char got[16][32];
    bool done, timed_out;
    uint32_t nodes_expected, nodes_answered;
} answers;
struct sc_progress;
void answers_on_progress(void *ud, const struct sc_progress *p);
bool answers_has(const answers *a, const char *s);

/* Open an app connection whose deliveries and errors go to rec. */
sc_client *app_open(daemon_t *d, const char *name, recorder *rec);
unsigned rec_count(const recorder *rec, const char *socket_id);
void rec_reset(recorder *rec);
/* Whether every numbered payload "#<n>", first <= n < end, was delivered
 * exactly once and no other numbered one at all (printing what was not). */
bool rec_numbered_once(const recorder *rec, unsigned first, unsigned end);
/* Poll c until rec->frames reaches at least `frames` or timeout_ms. */
void rec_wait_frames(sc_client *c, recorder *rec, uint64_t frames, int timeout_ms);
/* Dispatch everything that arrives within ms. */
void app_drain(sc_client *c, int ms);

uint64_t stat_of(sc_client *c, const char *name);
/* The same as a signed number, -1 when c is NULL or the call fails (this
 * sidecastd has no such stat, or the connection is gone): for counters
 * read before and after a fault. */
int64_t stat_or(sc_client *c, const char *name);

/* What a fetch of sockets got: pass fetched_on_socket with a
 * fetched_sockets as its ud. n counts every socket reported, the first
 * FETCHED_MAX kept; fetched_find gives the index of one socket id (-1:
 * not among them), fetched_node the node id it was reported on (NULL). */
#define FETCHED_MAX 32
typedef struct fetched_sockets {
    int n;
    char ids[FETCHED_MAX][32];
    char nodes[FETCHED_MAX][64];
} fetched_sockets;
void fetched_on_socket(void *ud, const sc_socket_view *v);
int fetched_find(const fetched_sockets *f, const char *id);
const char *fetched_node(const fetched_sockets *f, const char *id);

/* Polls the apps that answer a cluster request (5 ms each, in turn) on a
 * thread of its own while the test's thread blocks in the request. A
 * client is not thread-safe: the caller's own client must not be among
 * them. app_pump_start copies the list (at most APP_PUMP_MAX) and exits
 * the program when it cannot start the thread; app_pump_stop joins it. */
#define APP_PUMP_MAX 8
typedef struct app_pump {
    sc_client *apps[APP_PUMP_MAX];
    int n;
    volatile int stop;
    pthread_t th;
} app_pump;
void app_pump_start(app_pump *p, sc_client *const *apps, int n);
void app_pump_stop(app_pump *p);

/* Raw protocol access for malformed-input tests. */
int raw_connect(const char *path);
/* Read one frame (blocking, bounded); returns its message case, fills error
 * code when it is an Error; -1 on EOF/timeout. */
int raw_read_frame(int fd, int *ret_error_code, int timeout_ms);
/* True if the peer closes the connection within timeout_ms. */
bool raw_wait_eof(int fd, int timeout_ms);
void raw_send(int fd, const void *p, size_t n);
void raw_send_hello(int fd, uint32_t version);
/* A Join of one room for socket_id, with frame id `id`. */
void raw_send_join(int fd, uint64_t id, const char *socket_id, const char *room);
struct Sidecast__V1__Frame;
/* Encode f and send it (length prefix added). */
void raw_send_frame(int fd, const struct Sidecast__V1__Frame *f);
/* Read one frame (blocking, bounded) and decode it; NULL on EOF, timeout
 * or bytes that are not a Frame. Free with sidecast__v1__frame__free_unpacked. */
struct Sidecast__V1__Frame *raw_read_unpacked(int fd, int timeout_ms);

/* ---- HTTP endpoint ---------------------------------------------------------------
 * Daemons started by the harness listen on 127.0.0.1:0; the port comes from
 * their log. */
int daemon_http_port(const daemon_t *d);
/* Send `len` raw bytes to 127.0.0.1:port and read the answer until EOF
 * (bounded by timeout_ms). Returns the status code (-1: none), the body in
 * body (NUL-terminated, truncated to bodylen). */
int http_raw(int port, const char *req, size_t len, char *body, size_t bodylen, int timeout_ms);
/* GET path; returns the status code. */
int http_get(int port, const char *path, char *body, size_t bodylen);
/* The value of the sample `series` (name{labels} exactly as rendered) in a
 * /metrics body, or -1 when it is absent. */
double metric_value(const char *body, const char *series);
/* promtool check metrics on body; prints promtool's output when it fails. */
bool promtool_ok(const char *body);

/* ---- Redis for cluster tests ---------------------------------------------------
 * A private redis-server on 127.0.0.1 at a free port, no persistence, in a
 * temporary directory; stopped by pid. */
typedef struct redis_srv {
    pid_t pid;
    int port;
    int tls_port;       /* 0 unless TLS (tls_mode) */
    int replicaof_port; /* a replica of 127.0.0.1:replicaof_port, or 0 */
    char password[64];  /* requirepass and masterauth, or "" (redis_cli uses it) */
    char tls_dir[256];  /* where its certificates are, if not in dir (a Sentinel set) */
    char dir[256];
    char url[512]; /* what sidecastd is given: rediss://...:tls_port under TLS */
    /* IT_REDIS_CLUSTER: the Redis Cluster this stands for (see redis_start) */
    struct rcluster_set *rcluster;
} redis_srv;

/* IT_REDIS_TLS=1: every Redis the harness starts also listens with TLS
 * (mutual: it asks for a client certificate), with a CA and certificates
 * made by the openssl CLI in its directory (ca, server, client .pem/.key);
 * node_start gives sidecastd the rediss:// URL and the client files, while
 * the tests' own clients keep the plain port. */
bool tls_mode(void);
/* A TCP port on 127.0.0.1 free right now. */
int harness_free_port(void);
/* openssl CLI: a self-signed CA dir/name.{pem,key}; a certificate
 * dir/name.{pem,key} with common name cn, signed by dir/ca, with one
 * extension line (e.g. "subjectAltName=DNS:localhost,IP:127.0.0.1"). */
void tls_make_ca(const char *dir, const char *name);
void tls_make_cert(const char *dir, const char *ca, const char *name, const char *cn,
                   const char *ext);

/* IT_REDIS_CLUSTER=1 (rcluster_it_* suites): redis_start starts a
 * three-primary Redis Cluster instead (rcluster_start, TLS too under
 * IT_REDIS_TLS) and returns a redis_srv standing for it: url names every
 * node, port is the primary serving the home slot ({sidecast}: the keys,
 * node and broadcast channels), redis_free stops them all. redis_kill,
 * redis_restart and redis_signal end the test program there: a suite
 * skips what needs them (rcluster_mode()). */
bool rcluster_mode(void);
/* The command the node and all channels are published with: "publish", or
 * "spublish" on a Redis Cluster (for redis_calls). */
const char *publish_verb(void);
/* CONFIG RESETSTAT on r, or on every node of its Redis Cluster; the calls
 * of cmd (redis_calls) summed over every primary of it. */
void redis_resetstat_all(redis_srv *r);
long redis_calls_all(redis_srv *r, const char *cmd);
/* The node id the directory has socket_id on, or "" (either layout: one
 * Redis's P:sockets, a cluster's bucket); caller frees. */
char *directory_node_of(redis_srv *r, const char *socket_id);
redis_srv *redis_start(void);
/* Sentinel: a primary, one replica and three redis-sentinels watching them
 * as "mymaster" (quorum 2, down after SENTINEL_DOWN_AFTER_MS); returned
 * once the replica is in sync and each sentinel knows the replica and the
 * two others, so a failover can happen. url: redis+sentinel://... for
 * sidecastd (give it as --redis-url to node_start(s->primary, ...)). */
#define SENTINEL_DOWN_AFTER_MS 1000
typedef struct sentinel_set {
    redis_srv *primary, *replica; /* as started: a failover swaps their roles */
    pid_t pid[3];
    int port[3];
    char dir[256];
    char url[256];
    char password[64]; /* the sentinels' requirepass, or "" */
    int tls_port[3];   /* IT_REDIS_TLS: the sentinels' TLS ports (url names them) */
} sentinel_set;
sentinel_set *sentinel_start(void);
/* The port the sentinels know r by: its TLS port in a TLS Sentinel set
 * (IT_REDIS_TLS: replication and sentinels over TLS too), else r->port. */
int sentinel_redis_port(const redis_srv *r);
/* The same with passwords: redis_pw on the primary and replica (masterauth
 * too), sentinel_pw on the sentinels; NULL: none. */
sentinel_set *sentinel_start_auth(const char *redis_pw, const char *sentinel_pw);
/* redis-cli against sentinel i (with its password); caller frees. */
char *sentinel_cli(sentinel_set *s, int i, const char *args);
/* The server the sentinels name as primary now (primary or replica). */
redis_srv *sentinel_primary_now(sentinel_set *s);
void sentinel_kill(sentinel_set *s, int i);
void sentinel_free(sentinel_set *s);

/* ---- Redis Cluster ----------------------------------------------------------------
 * A private Redis Cluster on 127.0.0.1: nprimaries primaries with nreplicas
 * replicas each (n = nprimaries * (1 + nreplicas) <= RCLUSTER_MAX nodes),
 * each a redis-server (--cluster-enabled yes, --cluster-node-timeout
 * RCLUSTER_NODE_TIMEOUT_MS, no persistence) in its own subdirectory of dir
 * (redis.log there), started by fork/exec and stopped by pid only; created
 * with redis-cli --cluster create. rcluster_start returns once every node
 * says cluster_state:ok, agrees on the slot owners, knows every other node
 * and every replica's link to its primary is up (so a failover can happen),
 * bounded by RCLUSTER_START_MS; it ends the test program (exit 1) otherwise.
 *
 * i is only an index into pid/port/id. Right after rcluster_start nodes
 * 0..nprimaries-1 are the primaries (the harness asks every node's ROLE
 * after the creation and reorders its arrays if redis-cli chose others),
 * the rest their replicas; a failover or a reshard changes who
 * serves what: ask rcluster_is_primary / rcluster_slot_owner.
 * url: "redis+cluster://127.0.0.1:p0,127.0.0.1:p1,..." naming every node
 * started, for sidecastd (node_start_rcluster). */
#define RCLUSTER_MAX 12
#define RCLUSTER_NODE_TIMEOUT_MS 1000
#define RCLUSTER_START_MS 30000
typedef struct rcluster_set {
    int nprimaries, nreplicas; /* replicas per primary */
    int n;                     /* nodes = nprimaries * (1 + nreplicas) */
    pid_t pid[RCLUSTER_MAX];   /* node i's; 0 once killed */
    int port[RCLUSTER_MAX];
    char id[RCLUSTER_MAX][48]; /* node i's cluster node id (CLUSTER MYID) */
    char dir[256];
    char url[512];
    bool unsharded; /* started without sharded pub/sub (see rcluster_start_opts) */
    /* IT_REDIS_TLS: each node also listens with TLS on tls_port[i] (mutual,
     * certificates in dir), the cluster bus and replication speak TLS, and
     * url is rediss+cluster:// on those ports; the harness's own commands
     * stay on port[i]. 0: no TLS. */
    int tls_port[RCLUSTER_MAX];
} rcluster_set;
rcluster_set *rcluster_start(int nprimaries, int nreplicas);
/* The same; unsharded: every node renames SSUBSCRIBE and SPUBLISH away, as
 * a cluster of Redis 6 (which lacks them) would refuse them. */
rcluster_set *rcluster_start_opts(int nprimaries, int nreplicas, bool unsharded);
/* redis-cli -p port[i] args (stderr too); caller frees. */
char *rcluster_cli(rcluster_set *s, int i, const char *args);
/* The index of the primary serving slot now, by CLUSTER SLOTS asked of
 * the first live node that answers; -1 if none does or no node of the set
 * serves it. */
int rcluster_slot_owner(rcluster_set *s, int slot);
/* The hash slot of key (CRC16/XMODEM mod 16384 of the key or of its first
 * non-empty {hash tag}): what CLUSTER KEYSLOT answers. */
int rcluster_key_slot(const char *key);
/* SIGKILL node i by pid, waitpid; pid[i] becomes 0. */
void rcluster_kill(rcluster_set *s, int i);
/* Bounded wait (at least one check, even with timeout_ms 0) until every
 * live node answers cluster_state:ok and the same CLUSTER SLOTS primaries
 * for all 16384 slots, each of them a live node of the set (so right after
 * rcluster_kill of a primary this waits for the failover). */
bool rcluster_wait_ok(rcluster_set *s, int timeout_ms);
/* ROLE on node i says master (false if it does not answer). */
bool rcluster_is_primary(rcluster_set *s, int i);
/* PUBSUB SHARDNUMSUB channel on node i (its own subscribers only; no
 * redirection); -1 if it does not answer. */
long rcluster_shard_numsub(rcluster_set *s, int i, const char *channel);
/* CLIENT LIST on node i: the normal connections (replication links and
 * the harness's own query connection left out) whose name starts with
 * name_prefix, or all of them (name_prefix NULL). -1 if it does not
 * answer. */
int rcluster_clients(rcluster_set *s, int i, const char *name_prefix);
/* CLIENT LIST on node i: the connections made by process pid (their
 * client address is the local end of a TCP socket pid holds open, found in
 * /proc/<pid>/fd and /proc/net/tcp); -1 if node i does not answer. */
int rcluster_clients_of_pid(rcluster_set *s, int i, pid_t pid);
/* Those connections' CLIENT LIST lines, on stderr (a failure's evidence). */
void rcluster_print_clients_of_pid(rcluster_set *s, int i, pid_t pid);
/* SIGTERM (then SIGKILL after 5 s) every live node by pid, remove dir. */
void rcluster_free(rcluster_set *s);

/* Start again on the same port (an empty Redis: no persistence). */
void redis_restart(redis_srv *r);
void redis_kill(redis_srv *r);
void redis_signal(redis_srv *r, int sig);
void redis_free(redis_srv *r);
/* Run redis-cli against it; returns its output (caller frees). */
char *redis_cli(redis_srv *r, const char *args);
/* PUBLISH binary bytes (what another node, or anything else, could send
 * on a sidecast channel); returns the number of receivers, -1 on error. */
long redis_publish_raw(redis_srv *r, const char *channel, const void *p, size_t len);
/* "calls=N" of one command in INFO commandstats (0 if never called). */
long redis_calls(redis_srv *r, const char *cmd);

/* Start a sidecastd node joined to r with fast test timings plus extra flags. */
daemon_t *node_start(redis_srv *r, const char *name, const char *first_extra, ...);
/* The same with another sidecastd binary (bin, borrowed: an older build for
 * the mixed-version tests). The flags above must be ones bin knows. */
daemon_t *node_start_bin(const char *bin, redis_srv *r, const char *name, const char *first_extra,
                         ...);
/* The same with the Redis URL given as is (a redis+cluster:// URL, say):
 * no TLS files. */
/* A sidecastd on a Redis Cluster set: its url, and under IT_REDIS_TLS the
 * set's client certificate files. */
daemon_t *node_start_rcluster(rcluster_set *s, const char *name, const char *first_extra, ...);
/* Wait until c's sidecar sees `n` live nodes; returns the count seen. */
int wait_nodes(sc_client *c, int n, int timeout_ms);
uint64_t now_ms_h(void);
/* Wall-clock ms (CLOCK_REALTIME: comparable with Gap windows). */
uint64_t wall_ms_h(void);
/* A process's resident set (VmRSS) in kB, or -1; its open fds, or 0. */
long proc_rss_kb_h(pid_t pid);
int proc_fds_h(pid_t pid);

/* ---- reports and test selection ----------------------------------------------------
 * A growing string for a test's report or its list of failures: start it
 * {0}, sb_printf appends (p is NULL until the first), free(p) at the end. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;
void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Run the cmocka tests all[0..n-1] as group `group`: only those whose name
 * contains the value of the environment variable `env` when it is set and
 * not empty (SIDECAST_LEDGER_ONLY=flushall, say). Returns what
 * cmocka_run_group_tests does. */
struct CMUnitTest;
int run_tests_matching(const char *group, const struct CMUnitTest *all, size_t n, const char *env);

#endif
