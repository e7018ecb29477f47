/* harness: process control and recording for the integration tests. */
#include "harness.h"

#include <dirent.h>
#include <hiredis/hiredis.h>

#include "buf.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#ifndef SC_SIDECASTD_PATH
#error "SC_SIDECASTD_PATH must point at the sidecastd binary"
#endif

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "harness: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

/* Every process a test started, so that an assertion that unwinds past
 * the test's own cleanup still leaves nothing running: killed by pid at
 * exit. */
#define MAX_CHILDREN 64
static pid_t children[MAX_CHILDREN];

static void forget_child(pid_t pid)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (children[i] == pid)
            children[i] = 0;
}

static void kill_children(void)
{
    for (int i = 0; i < MAX_CHILDREN; i++) {
        if (children[i] > 0) {
            kill(children[i], SIGCONT);
            kill(children[i], SIGKILL);
            waitpid(children[i], NULL, 0);
            children[i] = 0;
        }
    }
}

static void track_child(pid_t pid)
{
    static bool registered;
    if (!registered) {
        atexit(kill_children);
        registered = true;
    }
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (children[i] == 0) {
            children[i] = pid;
            return;
        }
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int wait_ready(daemon_t *d, int timeout_ms)
{
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    while (now_ms() < end) {
        int fd = raw_connect(d->sock);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        int st;
        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            forget_child(d->pid);
            d->pid = -1;
            return -1;
        }
        usleep(10000);
    }
    return -1;
}

static const char *const *child_env;

void harness_child_env(const char *const *env)
{
    child_env = env;
}

static void apply_child_env(void)
{
    for (const char *const *e = child_env; e && *e; e++) {
        char key[128];
        const char *eq = strchr(*e, '=');
        if (!eq || (size_t)(eq - *e) >= sizeof(key))
            continue;
        snprintf(key, sizeof(key), "%.*s", (int)(eq - *e), *e);
        char pid[32];
        snprintf(pid, sizeof(pid), "%d", (int)getpid());
        setenv(key, strcmp(eq + 1, "$PID") == 0 ? pid : eq + 1, 1);
    }
}

static void spawn(daemon_t *d)
{
    char *argv[80];
    int n = 0;
    char *wrapper = getenv("SIDECAST_TEST_WRAPPER");
    char *wcopy = wrapper && wrapper[0] ? strdup(wrapper) : NULL;
    for (char *save = NULL, *t = wcopy ? strtok_r(wcopy, " ", &save) : NULL; t && n < 16;
         t = strtok_r(NULL, " ", &save))
        argv[n++] = t;
    argv[n++] = (char *)(d->bin ? d->bin : SC_SIDECASTD_PATH);
    if (!d->bare) {
        argv[n++] = (char *)"--socket";
        argv[n++] = d->sock;
        argv[n++] = (char *)"--log-level";
        argv[n++] = (char *)"debug";
        /* the HTTP endpoint on a free port (tests run in parallel); a
         * test's own --http-listen comes later and wins */
        argv[n++] = (char *)"--http-listen";
        argv[n++] = (char *)"127.0.0.1:0";
    }
    for (int i = 0; i < d->nargs; i++)
        argv[n++] = d->args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            dup2(fd, STDOUT_FILENO);
        }
        apply_child_env();
        execvp(argv[0], argv);
        _exit(127);
    }
    free(wcopy);
    d->pid = pid;
    track_child(pid);
    int timeout = wrapper && wrapper[0] ? 30000 : 5000;
    if (wait_ready(d, timeout) < 0) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "cat %s >&2", d->log);
        if (system(cmd) != 0)
            fprintf(stderr, "(no log)\n");
        die("sidecastd did not start on %s", d->sock);
    }
}

daemon_t *daemon_prepare(void)
{
    daemon_t *d = calloc(1, sizeof(*d));
    snprintf(d->dir, sizeof(d->dir), "/tmp/sidecast-test-XXXXXX");
    if (!mkdtemp(d->dir))
        die("mkdtemp: %s", strerror(errno));
    snprintf(d->sock, sizeof(d->sock), "%s/sidecast.sock", d->dir);
    snprintf(d->log, sizeof(d->log), "%s/sidecastd.log", d->dir);
    return d;
}

void daemon_launch(daemon_t *d, bool bare, const char *first_arg, ...)
{
    d->bare = bare;
    va_list ap;
    va_start(ap, first_arg);
    for (const char *a = first_arg; a && d->nargs < 47; a = va_arg(ap, const char *))
        d->args[d->nargs++] = strdup(a);
    va_end(ap);
    spawn(d);
}

daemon_t *daemon_start(const char *first_arg, ...)
{
    daemon_t *d = daemon_prepare();
    va_list ap;
    va_start(ap, first_arg);
    for (const char *a = first_arg; a && d->nargs < 47; a = va_arg(ap, const char *))
        d->args[d->nargs++] = strdup(a);
    va_end(ap);
    spawn(d);
    return d;
}

void daemon_restart(daemon_t *d)
{
    spawn(d);
}

int daemon_stop(daemon_t *d)
{
    if (d->pid <= 0)
        return 0;
    kill(d->pid, SIGTERM);
    int st = 0;
    uint64_t end = now_ms() + 60000;
    while (now_ms() < end) {
        pid_t r = waitpid(d->pid, &st, WNOHANG);
        if (r == d->pid) {
            forget_child(d->pid);
            d->pid = -1;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        usleep(10000);
    }
    kill(d->pid, SIGKILL);
    waitpid(d->pid, &st, 0);
    forget_child(d->pid);
    d->pid = -1;
    return 255;
}

void daemon_kill(daemon_t *d)
{
    if (d->pid <= 0)
        return;
    kill(d->pid, SIGKILL);
    waitpid(d->pid, NULL, 0);
    forget_child(d->pid);
    d->pid = -1;
}

bool daemon_log_contains(const daemon_t *d, const char *needle)
{
    FILE *f = fopen(d->log, "r");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

void daemon_free(daemon_t *d)
{
    int rc = daemon_stop(d);
    char cmd[400];
    if (rc != 0 || getenv("SIDECAST_TEST_SHOW_LOG")) {
        fprintf(stderr, "---- sidecastd log (exit %d) ----\n", rc);
        snprintf(cmd, sizeof(cmd), "cat %s >&2", d->log);
        if (system(cmd) != 0)
            fprintf(stderr, "(no log)\n");
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", d->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", d->dir);
    for (int i = 0; i < d->nargs; i++)
        free(d->args[i]);
    free(d);
    if (rc != 0)
        die("sidecastd exited with status %d (expected 0)", rc);
}

/* ---- recorder ---------------------------------------------------------------- */

static void rec_deliver(void *ud, const char *socket_id, const uint8_t *payload, size_t len)
{
    recorder *rec = ud;
    rec->sockets++;
    snprintf(rec->last_payload, sizeof(rec->last_payload), "%.*s", (int)len,
             (const char *)payload);
    if (len > 1 && payload[0] == '#') {
        unsigned long n = strtoul(rec->last_payload + 1, NULL, 10);
        if (n < REC_NUMBERED && rec->numbered[n] < UINT8_MAX)
            rec->numbered[n]++;
    }
    for (size_t i = 0; i < rec->n; i++) {
        if (strcmp(rec->ids[i], socket_id) == 0) {
            rec->counts[i]++;
            return;
        }
    }
    if (rec->n < REC_MAX) {
        snprintf(rec->ids[rec->n], sizeof(rec->ids[0]), "%s", socket_id);
        rec->counts[rec->n++] = 1;
    }
}

static bool rec_delivery(void *ud, const sc_delivery *dv)
{
    ((recorder *)ud)->frames++;
    return true;
}

static void rec_error(void *ud, int code, const char *message, const char *ref)
{
    recorder *rec = ud;
    rec->errors++;
    rec->last_error_code = code;
    snprintf(rec->last_error_ref, sizeof(rec->last_error_ref), "%s", ref ? ref : "");
}

/* Server-side emits are answered "ack-from-<app name>". */
static void rec_server_message(void *ud, const uint8_t *p, size_t len, uint64_t ack_id,
                               const char *origin)
{
    recorder *rec = ud;
    rec->server_msgs++;
    snprintf(rec->last_server_payload, sizeof(rec->last_server_payload), "%.*s", (int)len,
             (const char *)p);
    if (ack_id) {
        char answer[64];
        snprintf(answer, sizeof(answer), "ack-from-%s", rec->name);
        const uint8_t *ps[] = {(const uint8_t *)answer};
        size_t lens[] = {strlen(answer)};
        sc_client_ack(rec->self, ack_id, 0, ps, lens, 1, true);
    }
}

/* Broadcast with acks: every selected local socket answers "<socket id>". */
typedef struct ack_ctx {
    recorder *rec;
    uint64_t ack_id;
} ack_ctx;

static void ack_one(void *ud, const char *socket_id)
{
    ack_ctx *ax = ud;
    const uint8_t *ps[] = {(const uint8_t *)socket_id};
    size_t lens[] = {strlen(socket_id)};
    sc_client_ack(ax->rec->self, ax->ack_id, 0, ps, lens, 1, false);
}

static void rec_deliver_ack(void *ud, uint64_t ack_id, const sc_delivery *d)
{
    recorder *rec = ud;
    rec->ack_requests++;
    size_t n = sc_client_resolve(rec->self, &d->to, NULL, NULL);
    sc_client_ack(rec->self, ack_id, (uint32_t)n, NULL, NULL, 0, false);
    ack_ctx ax = {rec, ack_id};
    sc_client_resolve(rec->self, &d->to, ack_one, &ax);
    sc_client_ack(rec->self, ack_id, 0, NULL, NULL, 0, true);
}

static void rec_apply(void *ud, const char *socket_id, const char *const *join, size_t n_join,
                      const char *const *leave, size_t n_leave, bool disconnect, bool close)
{
    recorder *rec = ud;
    rec->applies++;
    if (disconnect)
        rec->disconnects++;
}

static void rec_gap(void *ud, uint64_t from, uint64_t to, const char *reason)
{
    ((recorder *)ud)->gaps++;
}

sc_client *app_open(daemon_t *d, const char *name, recorder *rec)
{
    sc_client_options o = {.path = d->sock, .name = name, .timeout_ms = 10000};
    if (rec) {
        memset(rec, 0, sizeof(*rec));
        snprintf(rec->name, sizeof(rec->name), "%s", name);
        o.on_deliver = rec_deliver;
        o.on_delivery = rec_delivery;
        o.on_error = rec_error;
        o.on_server_message = rec_server_message;
        o.on_deliver_ack = rec_deliver_ack;
        o.on_apply = rec_apply;
        o.on_gap = rec_gap;
        o.ud = rec;
    }
    sc_client *c;
    if (sc_client_open(&o, &c) < 0)
        die("app %s: %s", name, sc_client_last_error(c));
    if (rec)
        rec->self = c;
    return c;
}

unsigned rec_count(const recorder *rec, const char *socket_id)
{
    for (size_t i = 0; i < rec->n; i++)
        if (strcmp(rec->ids[i], socket_id) == 0)
            return rec->counts[i];
    return 0;
}

bool rec_numbered_once(const recorder *rec, unsigned first, unsigned end)
{
    bool ok = true;
    for (unsigned n = 0; n < REC_NUMBERED; n++) {
        unsigned want = n >= first && n < end;
        if (rec->numbered[n] != want) {
            fprintf(stderr, "%s: message #%u delivered %u time(s), expected %u\n", rec->name, n,
                    rec->numbered[n], want);
            ok = false;
        }
    }
    return ok;
}

void rec_reset(recorder *rec)
{
    memset(rec->numbered, 0, sizeof(rec->numbered));
    rec->n = 0;
    rec->frames = rec->sockets = 0;
    rec->errors = 0;
    rec->last_error_code = 0;
    rec->last_error_ref[0] = 0;
}

void rec_wait_frames(sc_client *c, recorder *rec, uint64_t frames, int timeout_ms)
{
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    while (rec->frames < frames && now_ms() < end)
        if (sc_client_poll(c, 20) < 0)
            break;
}

void app_drain(sc_client *c, int ms)
{
    uint64_t end = now_ms() + (uint64_t)ms;
    while (now_ms() < end)
        if (sc_client_poll(c, 10) < 0)
            break;
}

uint64_t stat_of(sc_client *c, const char *name)
{
    uint64_t v = 0;
    if (sc_client_stat(c, name, &v) < 0)
        die("stat %s: %s", name, sc_client_last_error(c));
    return v;
}

int64_t stat_or(sc_client *c, const char *name)
{
    uint64_t v = 0;
    if (!c || sc_client_stat(c, name, &v) < 0)
        return -1;
    return (int64_t)v;
}

void fetched_on_socket(void *ud, const sc_socket_view *v)
{
    fetched_sockets *f = ud;
    if (f->n < FETCHED_MAX) {
        snprintf(f->ids[f->n], sizeof(f->ids[0]), "%s", v->socket_id);
        snprintf(f->nodes[f->n], sizeof(f->nodes[0]), "%s", v->node_id);
    }
    f->n++;
}

int fetched_find(const fetched_sockets *f, const char *id)
{
    for (int i = 0; i < f->n && i < FETCHED_MAX; i++)
        if (strcmp(f->ids[i], id) == 0)
            return i;
    return -1;
}

const char *fetched_node(const fetched_sockets *f, const char *id)
{
    int i = fetched_find(f, id);
    return i < 0 ? NULL : f->nodes[i];
}

static void *app_pump_main(void *arg)
{
    app_pump *p = arg;
    while (!p->stop)
        for (int i = 0; i < p->n; i++)
            sc_client_poll(p->apps[i], 5);
    return NULL;
}

void app_pump_start(app_pump *p, sc_client *const *apps, int n)
{
    if (n < 0 || n > APP_PUMP_MAX)
        die("app_pump_start: %d apps (at most %d)", n, APP_PUMP_MAX);
    for (int i = 0; i < n; i++)
        p->apps[i] = apps[i];
    p->n = n;
    p->stop = 0;
    int rc = pthread_create(&p->th, NULL, app_pump_main, p);
    if (rc != 0)
        die("app_pump_start: pthread_create: %s", strerror(rc));
}

void app_pump_stop(app_pump *p)
{
    p->stop = 1;
    pthread_join(p->th, NULL);
}

/* ---- raw protocol ------------------------------------------------------------ */

int raw_connect(const char *path)
{
    struct sockaddr_un a = {0};
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void raw_send(int fd, const void *p, size_t n)
{
    if (send(fd, p, n, MSG_NOSIGNAL) != (ssize_t)n)
        die("raw send failed: %s", strerror(errno));
}

void raw_send_frame(int fd, const sc_frame *f)
{
    sc_buf b;
    sc_buf_init(&b);
    sc_wire_append(&b, f);
    raw_send(fd, b.data, b.len);
    sc_buf_free(&b);
}

void raw_send_hello(int fd, uint32_t version)
{
    Sidecast__V1__Hello h = SIDECAST__V1__HELLO__INIT;
    h.protocol_version = version;
    h.client_name = (char *)"raw-test";
    sc_frame f = SC_FRAME_INIT;
    f.id = 1;
    f.msg_case = SIDECAST__V1__FRAME__MSG_HELLO;
    f.hello = &h;
    raw_send_frame(fd, &f);
}

void raw_send_join(int fd, uint64_t id, const char *socket_id, const char *room)
{
    Sidecast__V1__Join j = SIDECAST__V1__JOIN__INIT;
    char *rooms[] = {(char *)room};
    j.socket_id = (char *)socket_id;
    j.rooms = rooms;
    j.n_rooms = 1;
    sc_frame f = SC_FRAME_INIT;
    f.id = id;
    f.msg_case = SIDECAST__V1__FRAME__MSG_JOIN;
    f.join = &j;
    raw_send_frame(fd, &f);
}

static int read_full(int fd, uint8_t *p, size_t n, int timeout_ms)
{
    size_t got = 0;
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    while (got < n) {
        struct pollfd pf = {fd, POLLIN, 0};
        int left = (int)(end > now_ms() ? end - now_ms() : 0);
        if (left == 0 || poll(&pf, 1, left) <= 0)
            return -1;
        ssize_t r = recv(fd, p + got, n - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

int raw_read_frame(int fd, int *ret_error_code, int timeout_ms)
{
    uint8_t hdr[4];
    if (read_full(fd, hdr, 4, timeout_ms) < 0)
        return -1;
    uint32_t len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    if (len > 16u * 1024 * 1024)
        return -1;
    uint8_t *body = malloc(len ? len : 1);
    int mc = -1;
    if (read_full(fd, body, len, timeout_ms) == 0) {
        sc_frame *f = sidecast__v1__frame__unpack(NULL, len, body);
        if (f) {
            mc = (int)f->msg_case;
            if (ret_error_code)
                *ret_error_code = f->msg_case == SIDECAST__V1__FRAME__MSG_ERROR
                                      ? (int)f->error->code
                                      : 0;
            sidecast__v1__frame__free_unpacked(f, NULL);
        }
    }
    free(body);
    return mc;
}

sc_frame *raw_read_unpacked(int fd, int timeout_ms)
{
    uint8_t hdr[4];
    if (read_full(fd, hdr, 4, timeout_ms) < 0)
        return NULL;
    uint32_t len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    if (len > 16u * 1024 * 1024)
        return NULL;
    uint8_t *body = malloc(len ? len : 1);
    sc_frame *f = read_full(fd, body, len, timeout_ms) == 0
                      ? sidecast__v1__frame__unpack(NULL, len, body)
                      : NULL;
    free(body);
    return f;
}

bool raw_wait_eof(int fd, int timeout_ms)
{
    uint8_t buf[4096];
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    while (now_ms() < end) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 50) <= 0)
            continue;
        ssize_t r = recv(fd, buf, sizeof(buf), 0);
        if (r <= 0)
            return true;
    }
    return false;
}

/* ---- Redis ------------------------------------------------------------------------ */

uint64_t now_ms_h(void)
{
    return now_ms();
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        die("bind: %s", strerror(errno));
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

int harness_free_port(void)
{
    return free_port();
}

/* A free port other than `taken`: the kernel may hand the port just
 * released by free_port out again, and a redis-server given the same port
 * twice (plain and TLS) exits at start. */
static int free_port_besides(int taken)
{
    int p;
    for (int i = 0; i < 100 && (p = free_port()) == taken; i++)
        ;
    return p;
}

static bool redis_answers(redis_srv *r)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

/* ---- TLS ------------------------------------------------------------------------ */

static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return system(cmd);
}

void tls_make_ca(const char *dir, const char *name)
{
    if (sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
           "-keyout %s.key -out %s.pem -days 3650 -subj /CN=%s >/dev/null 2>&1",
           dir, name, name, name) != 0)
        die("openssl: cannot make the test CA %s in %s", name, dir);
}

void tls_make_cert(const char *dir, const char *ca, const char *name, const char *cn,
                   const char *ext)
{
    if (sh("cd %s && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
           "-keyout %s.key -out %s.csr -subj /CN=%s >/dev/null 2>&1 && printf '%%s\\n' '%s' > "
           "%s.ext && openssl x509 -req -in %s.csr -CA %s.pem -CAkey %s.key -CAcreateserial "
           "-out %s.pem -days 3650 -extfile %s.ext >/dev/null 2>&1 && chmod 644 %s.key",
           dir, name, name, cn, ext, name, name, ca, ca, name, name, name) != 0)
        die("openssl: cannot make the test certificate %s in %s", name, dir);
}

bool tls_mode(void)
{
    const char *e = getenv("IT_REDIS_TLS");
    return e && *e && strcmp(e, "0") != 0;
}

/* A CA, a certificate for the server (localhost, 127.0.0.1) and one for the
 * client (sidecastd), all signed by the CA. */
static void redis_tls_setup(redis_srv *r)
{
    r->tls_port = free_port_besides(r->port);
    tls_make_ca(r->dir, "ca");
    tls_make_cert(r->dir, "ca", "server", "localhost",
                  "subjectAltName=DNS:localhost,IP:127.0.0.1");
    tls_make_cert(r->dir, "ca", "client", "sidecast-test", "extendedKeyUsage=clientAuth");
    snprintf(r->url, sizeof(r->url), "rediss://127.0.0.1:%d", r->tls_port);
}

/* Redis keeps its plain port for the tests' own clients (redis-cli,
 * hiredis); sidecastd is given the TLS one, with mutual TLS required.
 * False when redis-server exited before answering (reaped): a port that
 * free_port found free was taken meanwhile, by another test running in
 * parallel, so the caller may pick others. */
static bool redis_try_spawn(redis_srv *r)
{
    char port[16], tport[16], log[300], unixsock[300], cert[300], key[300], ca[300];
    snprintf(port, sizeof(port), "%d", r->port);
    snprintf(tport, sizeof(tport), "%d", r->tls_port);
    snprintf(log, sizeof(log), "%s/redis.log", r->dir);
    snprintf(unixsock, sizeof(unixsock), "%s/redis.sock", r->dir);
    const char *certs = r->tls_dir[0] ? r->tls_dir : r->dir;
    snprintf(cert, sizeof(cert), "%s/server.pem", certs);
    snprintf(key, sizeof(key), "%s/server.key", certs);
    snprintf(ca, sizeof(ca), "%s/ca.pem", certs);
    const char *argv[48] = {"redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no", "--dir", r->dir, "--logfile", log,
                            "--daemonize", "no", "--unixsocket", unixsock, "--unixsocketperm",
                            "700"};
    int n = 19;
    char primary_port[16];
    if (r->password[0]) {
        argv[n++] = "--requirepass";
        argv[n++] = r->password;
        argv[n++] = "--masterauth";
        argv[n++] = r->password;
    }
    if (r->replicaof_port) {
        snprintf(primary_port, sizeof(primary_port), "%d", r->replicaof_port);
        argv[n++] = "--replicaof";
        argv[n++] = "127.0.0.1";
        argv[n++] = primary_port;
    }
    if (r->tls_port) {
        const char *t[] = {"--tls-port", tport, "--tls-cert-file", cert, "--tls-key-file", key,
                           "--tls-ca-cert-file", ca, "--tls-auth-clients", "yes"};
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
            argv[n++] = t[i];
        if (r->tls_dir[0]) { /* a Sentinel set: replication over TLS too */
            argv[n++] = "--tls-replication";
            argv[n++] = "yes";
        }
    }
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        execvp("redis-server", (char *const *)argv);
        _exit(127);
    }
    r->pid = pid;
    track_child(pid);
    uint64_t end = now_ms() + 10000;
    while (now_ms() < end && !redis_answers(r)) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            forget_child(pid);
            r->pid = 0;
            return false;
        }
        usleep(10000);
    }
    if (!redis_answers(r))
        die("redis-server did not start on port %d (is it installed?)", r->port);
    return true;
}

static void redis_spawn(redis_srv *r)
{
    if (!redis_try_spawn(r))
        die("redis-server exited at start on port %d: see %s/redis.log", r->port, r->dir);
}

bool rcluster_mode(void)
{
    const char *e = getenv("IT_REDIS_CLUSTER");
    return e && e[0] && strcmp(e, "0") != 0;
}

static redis_srv *redis_start_rcluster(void)
{
    rcluster_set *s = rcluster_start(3, 0);
    redis_srv *r = calloc(1, sizeof(*r));
    r->rcluster = s;
    snprintf(r->dir, sizeof(r->dir), "%s", s->dir); /* its certificates, under TLS */
    snprintf(r->url, sizeof(r->url), "%s", s->url);
    int home = rcluster_slot_owner(s, rcluster_key_slot("{sidecast}"));
    if (home < 0)
        die("Redis Cluster: no primary serves the home slot");
    r->port = s->port[home];
    r->tls_port = s->tls_port[home];
    r->pid = -1; /* not one process: rcluster_free stops them */
    return r;
}

const char *publish_verb(void)
{
    return rcluster_mode() ? "spublish" : "publish";
}

redis_srv *redis_start(void)
{
    if (rcluster_mode())
        return redis_start_rcluster();
    redis_srv *r = calloc(1, sizeof(*r));
    snprintf(r->dir, sizeof(r->dir), "/tmp/sidecast-redis-XXXXXX");
    if (!mkdtemp(r->dir))
        die("mkdtemp: %s", strerror(errno));
    r->port = free_port();
    snprintf(r->url, sizeof(r->url), "redis://127.0.0.1:%d", r->port);
    if (tls_mode())
        redis_tls_setup(r);
    for (int attempt = 1; !redis_try_spawn(r); attempt++) { /* bounded: 3 tries */
        if (attempt == 3)
            die("redis-server exited at start 3 times: see %s/redis.log", r->dir);
        fprintf(stderr, "harness: redis-server exited at start (port %d taken?), new ports\n",
                r->port);
        r->port = free_port();
        snprintf(r->url, sizeof(r->url), "redis://127.0.0.1:%d", r->port);
        if (r->tls_port) {
            r->tls_port = free_port_besides(r->port);
            snprintf(r->url, sizeof(r->url), "rediss://127.0.0.1:%d", r->tls_port);
        }
    }
    return r;
}

/* ---- Sentinel ------------------------------------------------------------------- */

static redis_srv *redis_new_dir(void)
{
    redis_srv *r = calloc(1, sizeof(*r));
    snprintf(r->dir, sizeof(r->dir), "/tmp/sidecast-redis-XXXXXX");
    if (!mkdtemp(r->dir))
        die("mkdtemp: %s", strerror(errno));
    r->port = free_port();
    snprintf(r->url, sizeof(r->url), "redis://127.0.0.1:%d", r->port);
    return r;
}

static int sentinel_cli_count(int port, const char *pw, const char *args, const char *needle)
{
    char cmd[512], auth[120] = "";
    if (pw && pw[0])
        snprintf(auth, sizeof(auth), "--no-auth-warning -a %s ", pw);
    snprintf(cmd, sizeof(cmd), "redis-cli -p %d %s%s 2>/dev/null | grep -c '%s'", port, auth, args,
             needle);
    FILE *p = popen(cmd, "r");
    int n = 0;
    if (p && fscanf(p, "%d", &n) != 1)
        n = 0;
    if (p)
        pclose(p);
    return n;
}

int sentinel_redis_port(const redis_srv *r)
{
    return r->tls_dir[0] ? r->tls_port : r->port;
}

static void sentinel_spawn(sentinel_set *s, int i)
{
    char conf[400], log[400];
    snprintf(conf, sizeof(conf), "%s/sentinel%d.conf", s->dir, i);
    snprintf(log, sizeof(log), "%s/sentinel%d.log", s->dir, i);
    FILE *f = fopen(conf, "w");
    if (!f)
        die("cannot write %s", conf);
    fprintf(f,
            "port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n"
            "sentinel monitor mymaster 127.0.0.1 %d 2\n"
            "sentinel down-after-milliseconds mymaster %d\n"
            "sentinel failover-timeout mymaster 4000\n",
            s->port[i], s->dir, log, sentinel_redis_port(s->primary), SENTINEL_DOWN_AFTER_MS);
    if (s->primary->password[0])
        fprintf(f, "sentinel auth-pass mymaster %s\n", s->primary->password);
    if (s->password[0]) /* its own, and the one it gives the other sentinels */
        fprintf(f, "requirepass %s\nsentinel sentinel-pass %s\n", s->password, s->password);
    if (s->tls_port[i]) /* TLS for sidecastd, and to Redis and the other sentinels */
        fprintf(f,
                "tls-port %d\ntls-cert-file %s/server.pem\ntls-key-file %s/server.key\n"
                "tls-ca-cert-file %s/ca.pem\ntls-auth-clients yes\ntls-replication yes\n",
                s->tls_port[i], s->dir, s->dir, s->dir);
    fclose(f);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        execlp("redis-sentinel", "redis-sentinel", conf, (char *)NULL);
        _exit(127);
    }
    s->pid[i] = pid;
    track_child(pid);
}

sentinel_set *sentinel_start(void)
{
    return sentinel_start_auth(NULL, NULL);
}

/* IT_REDIS_TLS: one CA and server/client certificates in the set's
 * directory for the primary, the replica and the sentinels. */
static void sentinel_tls_setup(sentinel_set *s)
{
    tls_make_ca(s->dir, "ca");
    tls_make_cert(s->dir, "ca", "server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1");
    tls_make_cert(s->dir, "ca", "client", "sidecast-test", "extendedKeyUsage=clientAuth");
    redis_srv *rs[] = {s->primary, s->replica};
    for (int i = 0; i < 2; i++) {
        rs[i]->tls_port = free_port_besides(rs[i]->port);
        snprintf(rs[i]->tls_dir, sizeof(rs[i]->tls_dir), "%s", s->dir);
    }
}

sentinel_set *sentinel_start_auth(const char *redis_pw, const char *sentinel_pw)
{
    sentinel_set *s = calloc(1, sizeof(*s));
    snprintf(s->password, sizeof(s->password), "%s", sentinel_pw ? sentinel_pw : "");
    snprintf(s->dir, sizeof(s->dir), "/tmp/sidecast-sentinel-XXXXXX");
    if (!mkdtemp(s->dir))
        die("mkdtemp: %s", strerror(errno));
    s->primary = redis_new_dir();
    s->replica = redis_new_dir();
    if (tls_mode())
        sentinel_tls_setup(s);
    snprintf(s->primary->password, sizeof(s->primary->password), "%s", redis_pw ? redis_pw : "");
    redis_spawn(s->primary);
    snprintf(s->replica->password, sizeof(s->replica->password), "%s", s->primary->password);
    s->replica->replicaof_port = sentinel_redis_port(s->primary);
    redis_spawn(s->replica);
    int len = snprintf(s->url, sizeof(s->url), "%s", tls_mode() ? "rediss+sentinel://" : "redis+sentinel://");
    for (int i = 0; i < 3; i++) {
        /* ports taken just before each start: a port found free earlier
         * may meanwhile be some connection's own (replication's) */
        s->port[i] = free_port();
        if (tls_mode())
            s->tls_port[i] = free_port_besides(s->port[i]);
        sentinel_spawn(s, i);
        len += snprintf(s->url + len, sizeof(s->url) - (size_t)len, "%s127.0.0.1:%d",
                        i ? "," : "", s->tls_port[i] ? s->tls_port[i] : s->port[i]);
    }
    snprintf(s->url + len, sizeof(s->url) - (size_t)len, "/mymaster");
    /* a failover needs the replica in sync and every sentinel aware of the
     * replica and of the two other sentinels */
    uint64_t end = now_ms() + 30000;
    const char *pw = s->password;
    for (bool ok = false; !ok && now_ms() < end; usleep(50000)) {
        ok = sentinel_cli_count(s->replica->port, s->replica->password, "INFO replication",
                                "master_link_status:up") == 1;
        for (int i = 0; ok && i < 3; i++)
            ok = sentinel_cli_count(s->port[i], pw, "SENTINEL replicas mymaster", "^name$") == 1 &&
                 sentinel_cli_count(s->port[i], pw, "SENTINEL sentinels mymaster", "^name$") == 2;
    }
    for (int i = 0; i < 3; i++)
        if (sentinel_cli_count(s->port[i], pw, "SENTINEL sentinels mymaster", "^name$") != 2)
            die("sentinel %d did not find the others within 30 s", i);
    return s;
}

redis_srv *sentinel_primary_now(sentinel_set *s)
{
    for (int i = 0; i < 3; i++) {
        if (s->pid[i] <= 0)
            continue;
        char needle[32];
        snprintf(needle, sizeof(needle), "^%d$", sentinel_redis_port(s->replica));
        if (sentinel_cli_count(s->port[i], s->password, "SENTINEL get-master-addr-by-name mymaster",
                               needle))
            return s->replica;
        snprintf(needle, sizeof(needle), "^%d$", sentinel_redis_port(s->primary));
        if (sentinel_cli_count(s->port[i], s->password, "SENTINEL get-master-addr-by-name mymaster",
                               needle))
            return s->primary;
    }
    return NULL;
}

char *sentinel_cli(sentinel_set *s, int i, const char *args)
{
    redis_srv fake = {.port = s->port[i]};
    snprintf(fake.password, sizeof(fake.password), "%s", s->password);
    return redis_cli(&fake, args);
}

void sentinel_kill(sentinel_set *s, int i)
{
    if (s->pid[i] <= 0)
        return;
    kill(s->pid[i], SIGKILL);
    waitpid(s->pid[i], NULL, 0);
    forget_child(s->pid[i]);
    s->pid[i] = -1;
}

void sentinel_free(sentinel_set *s)
{
    for (int i = 0; i < 3; i++)
        if (s->pid[i] > 0) {
            kill(s->pid[i], SIGTERM);
            waitpid(s->pid[i], NULL, 0);
            forget_child(s->pid[i]);
        }
    redis_free(s->primary);
    redis_free(s->replica);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", s->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", s->dir);
    free(s);
}

/* ---- Redis Cluster ------------------------------------------------------------- */

/* One command to 127.0.0.1:port on a connection of its own (connect and
 * replies bounded); NULL if the node does not answer. */
static redisReply *rc_command(int port, const char *fmt, ...)
{
    struct timeval tv = {0, 500000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!c || c->err) {
        if (c)
            redisFree(c);
        return NULL;
    }
    struct timeval rtv = {2, 0};
    redisSetTimeout(c, rtv);
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    return r;
}

static int rc_index_of_port(const rcluster_set *s, long port)
{
    for (int i = 0; i < s->n; i++)
        if (s->port[i] == port)
            return i;
    return -1;
}

/* CLUSTER SLOTS of node i as owner[slot] = index of its primary (-1: no
 * owner; -2: a node not of the set). Returns false when i does not answer. */
static bool rc_slot_map(rcluster_set *s, int i, int8_t *owner)
{
    redisReply *r = rc_command(s->port[i], "CLUSTER SLOTS");
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        if (r)
            freeReplyObject(r);
        return false;
    }
    memset(owner, -1, 16384);
    for (size_t e = 0; e < r->elements; e++) {
        redisReply *x = r->element[e];
        if (x->type != REDIS_REPLY_ARRAY || x->elements < 3 ||
            x->element[0]->type != REDIS_REPLY_INTEGER ||
            x->element[1]->type != REDIS_REPLY_INTEGER ||
            x->element[2]->type != REDIS_REPLY_ARRAY || x->element[2]->elements < 2 ||
            x->element[2]->element[1]->type != REDIS_REPLY_INTEGER)
            continue;
        long long from = x->element[0]->integer, to = x->element[1]->integer;
        int idx = rc_index_of_port(s, (long)x->element[2]->element[1]->integer);
        for (long long k = from; k <= to && k < 16384; k++)
            if (k >= 0)
                owner[k] = (int8_t)(idx < 0 ? -2 : idx);
    }
    freeReplyObject(r);
    return true;
}

static uint16_t rc_crc16(const char *p, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)((uint16_t)(unsigned char)p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

int rcluster_key_slot(const char *key)
{
    size_t len = strlen(key);
    const char *lb = strchr(key, '{');
    if (lb) {
        const char *rb = strchr(lb + 1, '}');
        if (rb && rb > lb + 1)
            return rc_crc16(lb + 1, (size_t)(rb - lb - 1)) & 16383;
    }
    return rc_crc16(key, len) & 16383;
}

/* bus_port: the cluster bus on a port of its own (port + 10000 may be
 * taken, or above 65535) */
static void rcluster_spawn(rcluster_set *s, int i, int bus_port)
{
    char port[16], bus[16], dir[300], log[320];
    snprintf(port, sizeof(port), "%d", s->port[i]);
    snprintf(bus, sizeof(bus), "%d", bus_port);
    snprintf(dir, sizeof(dir), "%s/node%d", s->dir, i);
    snprintf(log, sizeof(log), "%s/redis.log", dir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        die("mkdir %s: %s", dir, strerror(errno));
    char timeout[16];
    snprintf(timeout, sizeof(timeout), "%d", RCLUSTER_NODE_TIMEOUT_MS);
    const char *argv[] = {"redis-server",
                          "--port",
                          port,
                          "--bind",
                          "127.0.0.1",
                          "--cluster-enabled",
                          "yes",
                          "--cluster-config-file",
                          "nodes.conf",
                          "--cluster-node-timeout",
                          timeout,
                          "--cluster-port",
                          bus,
                          "--save",
                          "",
                          "--appendonly",
                          "no",
                          "--dir",
                          dir,
                          "--logfile",
                          log,
                          "--daemonize",
                          "no",
                          NULL};
    /* then TLS (IT_REDIS_TLS: bus and replication too), then, for a
     * cluster without sharded pub/sub, SSUBSCRIBE and SPUBLISH renamed away */
    char tport[16], cert[300], key[300], ca[300];
    snprintf(tport, sizeof(tport), "%d", s->tls_port[i]);
    snprintf(cert, sizeof(cert), "%s/server.pem", s->dir);
    snprintf(key, sizeof(key), "%s/server.key", s->dir);
    snprintf(ca, sizeof(ca), "%s/ca.pem", s->dir);
    const char *tls_args[] = {"--tls-port", tport, "--tls-cert-file", cert, "--tls-key-file",
                              key, "--tls-ca-cert-file", ca, "--tls-auth-clients", "yes",
                              "--tls-cluster", "yes", "--tls-replication", "yes", NULL};
    const char *unsharded[] = {"--rename-command", "SSUBSCRIBE", "", "--rename-command",
                               "SPUBLISH", "", NULL};
    const char *full[64];
    size_t nfull = 0;
    for (size_t k = 0; argv[k]; k++)
        full[nfull++] = argv[k];
    for (size_t k = 0; s->tls_port[i] && tls_args[k]; k++)
        full[nfull++] = tls_args[k];
    for (size_t k = 0; s->unsharded && unsharded[k]; k++)
        full[nfull++] = unsharded[k];
    full[nfull] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        execvp("redis-server", (char *const *)full);
        _exit(127);
    }
    s->pid[i] = pid;
    track_child(pid);
    redis_srv probe = {.port = s->port[i]};
    uint64_t end = now_ms() + 10000;
    while (now_ms() < end && !redis_answers(&probe)) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            forget_child(pid);
            s->pid[i] = 0;
            die("cluster node %d (port %d) exited at start: see %s", i, s->port[i], log);
        }
        usleep(10000);
    }
    if (!redis_answers(&probe))
        die("cluster node %d did not start on port %d: see %s", i, s->port[i], log);
}

/* Every live node knows every other one as connected and not failing,
 * every live replica's link to its primary is up. */
static bool rc_whole(rcluster_set *s)
{
    for (int i = 0; i < s->n; i++) {
        if (s->pid[i] <= 0)
            continue;
        redisReply *r = rc_command(s->port[i], "CLUSTER NODES");
        if (!r || r->type != REDIS_REPLY_STRING) {
            if (r)
                freeReplyObject(r);
            return false;
        }
        int known = 0;
        bool bad = false;
        /* <id> <ip:port@cport> <flags> <primary> <ping> <pong> <epoch> <link> <slots>... */
        for (const char *l = r->str; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
            char flags[128], link[32];
            if (sscanf(l, "%*s %*s %127s %*s %*s %*s %*s %31s", flags, link) != 2)
                continue;
            known++;
            char *save = NULL;
            for (char *t = strtok_r(flags, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (!strcmp(t, "fail") || !strcmp(t, "fail?") || !strcmp(t, "handshake") ||
                    !strcmp(t, "noaddr"))
                    bad = true;
            if (strcmp(link, "connected") != 0)
                bad = true;
        }
        freeReplyObject(r);
        if (bad || known != s->n)
            return false;
        r = rc_command(s->port[i], "ROLE");
        bool replica = r && r->type == REDIS_REPLY_ARRAY && r->elements >= 4 &&
                       r->element[0]->type == REDIS_REPLY_STRING &&
                       strcmp(r->element[0]->str, "slave") == 0;
        bool synced = replica && r->element[3]->type == REDIS_REPLY_STRING &&
                      strcmp(r->element[3]->str, "connected") == 0;
        bool answered = r != NULL;
        if (r)
            freeReplyObject(r);
        if (!answered || (replica && !synced))
            return false;
    }
    return true;
}

rcluster_set *rcluster_start(int nprimaries, int nreplicas)
{
    return rcluster_start_opts(nprimaries, nreplicas, false);
}

rcluster_set *rcluster_start_opts(int nprimaries, int nreplicas, bool unsharded)
{
    if (nprimaries < 3 || nreplicas < 0 || nprimaries * (1 + nreplicas) > RCLUSTER_MAX)
        die("rcluster_start(%d, %d): 3 or more primaries, at most %d nodes", nprimaries, nreplicas,
            RCLUSTER_MAX);
    rcluster_set *s = calloc(1, sizeof(*s));
    s->nprimaries = nprimaries;
    s->nreplicas = nreplicas;
    s->unsharded = unsharded;
    s->n = nprimaries * (1 + nreplicas);
    snprintf(s->dir, sizeof(s->dir), "/tmp/sidecast-rcluster-XXXXXX");
    if (!mkdtemp(s->dir))
        die("mkdtemp: %s", strerror(errno));
    uint64_t t0 = now_ms();
    int taken[3 * RCLUSTER_MAX], ntaken = 0;
    if (tls_mode()) { /* mutual TLS: one CA, a server and a client certificate */
        tls_make_ca(s->dir, "ca");
        tls_make_cert(s->dir, "ca", "server", "localhost",
                      "subjectAltName=DNS:localhost,IP:127.0.0.1");
        tls_make_cert(s->dir, "ca", "client", "sidecast-test", "extendedKeyUsage=clientAuth");
    }
    for (int i = 0; i < s->n; i++) {
        /* taken just before each start (a port found free earlier may
         * meanwhile be some connection's own), distinct from the others */
        int pair[2];
        for (int k = 0; k < 2; k++) {
            for (int tries = 0; tries < 50; tries++) {
                pair[k] = free_port();
                bool dup = k == 1 && pair[1] == pair[0];
                for (int t = 0; t < ntaken; t++)
                    dup = dup || taken[t] == pair[k];
                if (!dup)
                    break;
            }
        }
        taken[ntaken++] = s->port[i] = pair[0];
        taken[ntaken++] = pair[1];
        if (tls_mode()) { /* a third port, distinct likewise */
            int tp = 0;
            for (int tries = 0; tries < 50; tries++) {
                tp = free_port();
                bool dup = false;
                for (int t = 0; t < ntaken; t++)
                    dup = dup || taken[t] == tp;
                if (!dup)
                    break;
            }
            s->tls_port[i] = taken[ntaken++] = tp;
        }
        rcluster_spawn(s, i, pair[1]);
    }
    char cmd[1400];
    /* bounded: redis-cli waits for the nodes to agree without a limit */
    int len = snprintf(cmd, sizeof(cmd), "timeout 60 redis-cli --cluster create");
    for (int i = 0; i < s->n; i++)
        len += snprintf(cmd + len, sizeof(cmd) - (size_t)len, " 127.0.0.1:%d", s->port[i]);
    snprintf(cmd + len, sizeof(cmd) - (size_t)len,
             " --cluster-replicas %d --cluster-yes > %s/create.log 2>&1 < /dev/null", nreplicas,
             s->dir);
    int st = system(cmd);
    char logpath[300];
    snprintf(logpath, sizeof(logpath), "%s/create.log", s->dir);
    FILE *f = fopen(logpath, "r");
    bool covered = false;
    for (char line[1024]; f && fgets(line, sizeof(line), f);)
        covered = covered || strstr(line, "All 16384 slots covered") != NULL;
    if (f)
        fclose(f);
    if (st != 0 || !covered) {
        snprintf(cmd, sizeof(cmd), "cat %s >&2", logpath);
        if (system(cmd) != 0)
            fprintf(stderr, "(no output)\n");
        die("redis-cli --cluster create failed (status %d)", st);
    }
    /* node ids, and the primaries first (in the order redis-cli started
     * them), as ROLE says */
    bool primary[RCLUSTER_MAX];
    for (int i = 0; i < s->n; i++) {
        redisReply *r = rc_command(s->port[i], "CLUSTER MYID");
        if (!r || r->type != REDIS_REPLY_STRING)
            die("cluster node %d (port %d): no answer to CLUSTER MYID", i, s->port[i]);
        snprintf(s->id[i], sizeof(s->id[i]), "%s", r->str);
        freeReplyObject(r);
        primary[i] = rcluster_is_primary(s, i);
    }
    pid_t pid[RCLUSTER_MAX];
    int port[RCLUSTER_MAX], tport[RCLUSTER_MAX];
    char id[RCLUSTER_MAX][48];
    int k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < s->n; i++)
            if (primary[i] == (pass == 0)) {
                pid[k] = s->pid[i];
                port[k] = s->port[i];
                tport[k] = s->tls_port[i];
                memcpy(id[k], s->id[i], sizeof(id[k]));
                k++;
            }
    int nprim = 0;
    for (int i = 0; i < s->n; i++)
        nprim += primary[i];
    if (nprim != nprimaries)
        die("redis-cli --cluster create made %d primaries, not %d", nprim, nprimaries);
    memcpy(s->pid, pid, sizeof(pid));
    memcpy(s->port, port, sizeof(port));
    memcpy(s->tls_port, tport, sizeof(tport));
    memcpy(s->id, id, sizeof(id));
    /* the subdirectories keep the names they were started with: node<i> of
     * the start order (the log names its port) */
    len = snprintf(s->url, sizeof(s->url), "%s", tls_mode() ? "rediss+cluster://" : "redis+cluster://");
    for (int i = 0; i < s->n; i++)
        len += snprintf(s->url + len, sizeof(s->url) - (size_t)len, "%s127.0.0.1:%d", i ? "," : "",
                        tls_mode() ? s->tls_port[i] : s->port[i]);
    uint64_t end = t0 + RCLUSTER_START_MS;
    bool ok = false;
    while (!ok && now_ms() < end) {
        ok = rcluster_wait_ok(s, 0) && rc_whole(s);
        if (!ok)
            usleep(50000);
    }
    if (!ok)
        die("Redis Cluster (%d nodes, %s) not whole within %d ms", s->n, s->dir, RCLUSTER_START_MS);
    return s;
}

char *rcluster_cli(rcluster_set *s, int i, const char *args)
{
    redis_srv fake = {.port = s->port[i]};
    return redis_cli(&fake, args);
}

int rcluster_slot_owner(rcluster_set *s, int slot)
{
    if (slot < 0 || slot >= 16384)
        return -1;
    int8_t owner[16384];
    for (int i = 0; i < s->n; i++)
        if (s->pid[i] > 0 && rc_slot_map(s, i, owner))
            return owner[slot] >= 0 ? owner[slot] : -1;
    return -1;
}

void rcluster_kill(rcluster_set *s, int i)
{
    if (s->pid[i] <= 0)
        return;
    kill(s->pid[i], SIGKILL);
    waitpid(s->pid[i], NULL, 0);
    forget_child(s->pid[i]);
    s->pid[i] = 0;
}

static bool rc_ok_once(rcluster_set *s)
{
    static int8_t ref[16384], map[16384];
    bool have_ref = false;
    for (int i = 0; i < s->n; i++) {
        if (s->pid[i] <= 0)
            continue;
        redisReply *r = rc_command(s->port[i], "CLUSTER INFO");
        bool ok = r && r->type == REDIS_REPLY_STRING && strstr(r->str, "cluster_state:ok");
        if (r)
            freeReplyObject(r);
        if (!ok || !rc_slot_map(s, i, have_ref ? map : ref))
            return false;
        if (!have_ref) {
            for (int k = 0; k < 16384; k++)
                if (ref[k] < 0 || s->pid[ref[k]] <= 0)
                    return false;
            have_ref = true;
        } else if (memcmp(ref, map, sizeof(map)) != 0) {
            return false;
        }
    }
    return have_ref;
}

bool rcluster_wait_ok(rcluster_set *s, int timeout_ms)
{
    uint64_t end = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        if (rc_ok_once(s))
            return true;
        if (now_ms() >= end)
            return false;
        usleep(20000);
    }
}

bool rcluster_is_primary(rcluster_set *s, int i)
{
    if (s->pid[i] <= 0)
        return false;
    redisReply *r = rc_command(s->port[i], "ROLE");
    bool yes = r && r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
               r->element[0]->type == REDIS_REPLY_STRING &&
               strcmp(r->element[0]->str, "master") == 0;
    if (r)
        freeReplyObject(r);
    return yes;
}

long rcluster_shard_numsub(rcluster_set *s, int i, const char *channel)
{
    if (s->pid[i] <= 0)
        return -1;
    redisReply *r = rc_command(s->port[i], "PUBSUB SHARDNUMSUB %s", channel);
    long n = -1;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[1]->type == REDIS_REPLY_INTEGER)
        n = (long)r->element[1]->integer;
    if (r)
        freeReplyObject(r);
    return n;
}

/* CLIENT LIST of node i, asked on a connection named "sidecast-harness"
 * (which the callers skip); NULL if it does not answer. Caller frees. */
static char *rc_client_list(rcluster_set *s, int i)
{
    if (s->pid[i] <= 0)
        return NULL;
    struct timeval tv = {0, 500000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port[i], tv);
    if (!c || c->err) {
        if (c)
            redisFree(c);
        return NULL;
    }
    struct timeval rtv = {2, 0};
    redisSetTimeout(c, rtv);
    redisReply *r = redisCommand(c, "CLIENT SETNAME sidecast-harness");
    if (r)
        freeReplyObject(r);
    r = redisCommand(c, "CLIENT LIST");
    char *out = r && r->type == REDIS_REPLY_STRING ? strdup(r->str) : NULL;
    if (r)
        freeReplyObject(r);
    redisFree(c);
    return out;
}

/* The value of field key= in a CLIENT LIST line (up to the next space). */
static void rc_field(const char *line, const char *key, char *val, size_t len)
{
    char pat[32];
    snprintf(pat, sizeof(pat), " %s=", key);
    const char *p = strncmp(line, pat + 1, strlen(pat + 1)) == 0 ? line + strlen(pat + 1)
                    : strstr(line, pat)                          ? strstr(line, pat) + strlen(pat)
                                                                 : NULL;
    val[0] = 0;
    if (!p)
        return;
    size_t n = strcspn(p, " \r\n");
    snprintf(val, len, "%.*s", (int)(n < len ? n : len - 1), p);
}

/* Count the lines of a CLIENT LIST (normal clients: replication links and
 * the harness's own connection skipped) that match. */
static int rc_count_clients(const char *list, bool (*match)(const char *line, void *ud), void *ud)
{
    int n = 0;
    for (const char *l = list; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        char line[2048], name[128], flags[32];
        snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len : sizeof(line) - 1), l);
        if (!strstr(line, "id="))
            continue;
        rc_field(line, "name", name, sizeof(name));
        rc_field(line, "flags", flags, sizeof(flags));
        if (strcmp(name, "sidecast-harness") == 0 || strchr(flags, 'S') || strchr(flags, 'M'))
            continue;
        n += match(line, ud);
    }
    return n;
}

static bool rc_match_name(const char *line, void *ud)
{
    const char *prefix = ud;
    char name[128];
    rc_field(line, "name", name, sizeof(name));
    return !prefix || strncmp(name, prefix, strlen(prefix)) == 0;
}

int rcluster_clients(rcluster_set *s, int i, const char *name_prefix)
{
    char *list = rc_client_list(s, i);
    if (!list)
        return -1;
    int n = rc_count_clients(list, rc_match_name, (void *)name_prefix);
    free(list);
    return n;
}

typedef struct rc_ports {
    int n;
    int port[512];
} rc_ports;

static bool rc_match_port(const char *line, void *ud)
{
    const rc_ports *p = ud;
    char addr[128];
    rc_field(line, "addr", addr, sizeof(addr));
    const char *colon = strrchr(addr, ':');
    int port = colon ? atoi(colon + 1) : -1;
    for (int k = 0; k < p->n; k++)
        if (p->port[k] == port)
            return true;
    return false;
}

/* The local ports of pid's TCP sockets (IPv4 and IPv6). */
static void rc_pid_ports(pid_t pid, rc_ports *out)
{
    unsigned long inodes[1024];
    int ni = 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    for (struct dirent *e; d && (e = readdir(d)) && ni < 1024;) {
        char lp[320], target[128];
        snprintf(lp, sizeof(lp), "%s/%s", path, e->d_name);
        ssize_t k = readlink(lp, target, sizeof(target) - 1);
        if (k <= 0)
            continue;
        target[k] = 0;
        unsigned long ino;
        if (sscanf(target, "socket:[%lu]", &ino) == 1)
            inodes[ni++] = ino;
    }
    if (d)
        closedir(d);
    out->n = 0;
    const char *tables[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    for (int t = 0; t < 2; t++) {
        FILE *f = fopen(tables[t], "r");
        char line[512];
        if (f && !fgets(line, sizeof(line), f)) { /* the header */
            fclose(f);
            f = NULL;
        }
        while (f && fgets(line, sizeof(line), f)) {
            char local[128];
            unsigned long ino = 0;
            /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
            if (sscanf(line, "%*s %127s %*s %*s %*s %*s %*s %*s %*s %lu", local, &ino) != 2)
                continue;
            const char *colon = strrchr(local, ':');
            if (!colon)
                continue;
            for (int k = 0; k < ni; k++)
                if (inodes[k] == ino && out->n < 512) {
                    out->port[out->n++] = (int)strtol(colon + 1, NULL, 16);
                    break;
                }
        }
        if (f)
            fclose(f);
    }
}

int rcluster_clients_of_pid(rcluster_set *s, int i, pid_t pid)
{
    char *list = rc_client_list(s, i);
    if (!list)
        return -1;
    rc_ports ports;
    rc_pid_ports(pid, &ports);
    int n = rc_count_clients(list, rc_match_port, &ports);
    free(list);
    return n;
}

static bool rc_print_port(const char *line, void *ud)
{
    if (rc_match_port(line, ud))
        fprintf(stderr, "  %s\n", line);
    return false;
}

void rcluster_print_clients_of_pid(rcluster_set *s, int i, pid_t pid)
{
    char *list = rc_client_list(s, i);
    rc_ports ports;
    rc_pid_ports(pid, &ports);
    rc_count_clients(list, rc_print_port, &ports);
    free(list);
}

void rcluster_free(rcluster_set *s)
{
    for (int i = 0; i < s->n; i++)
        if (s->pid[i] > 0) {
            kill(s->pid[i], SIGCONT);
            kill(s->pid[i], SIGTERM);
        }
    uint64_t end = now_ms() + 5000;
    for (int i = 0; i < s->n; i++) {
        if (s->pid[i] <= 0)
            continue;
        bool reaped = false;
        while (!reaped && now_ms() < end) {
            reaped = waitpid(s->pid[i], NULL, WNOHANG) != 0;
            if (!reaped)
                usleep(10000);
        }
        if (!reaped) { /* bounded: then SIGKILL */
            kill(s->pid[i], SIGKILL);
            waitpid(s->pid[i], NULL, 0);
        }
        forget_child(s->pid[i]);
        s->pid[i] = 0;
    }
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", s->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", s->dir);
    free(s);
}

void redis_restart(redis_srv *r)
{
    if (r->rcluster)
        die("%s: not on a Redis Cluster (IT_REDIS_CLUSTER): skip the test", __func__);
    redis_spawn(r);
}

void redis_signal(redis_srv *r, int sig)
{
    if (r->rcluster)
        die("%s: not on a Redis Cluster (IT_REDIS_CLUSTER): skip the test", __func__);
    if (r->pid > 0)
        kill(r->pid, sig);
}

void redis_kill(redis_srv *r)
{
    if (r->rcluster)
        die("%s: not on a Redis Cluster (IT_REDIS_CLUSTER): skip the test", __func__);
    if (r->pid <= 0)
        return;
    kill(r->pid, SIGKILL);
    waitpid(r->pid, NULL, 0);
    forget_child(r->pid);
    r->pid = -1;
}

void redis_free(redis_srv *r)
{
    if (r->rcluster) {
        rcluster_free(r->rcluster);
        free(r);
        return;
    }
    if (r->pid > 0) {
        kill(r->pid, SIGCONT);
        kill(r->pid, SIGTERM);
        waitpid(r->pid, NULL, 0);
        forget_child(r->pid);
    }
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", r->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", r->dir);
    free(r);
}

char *redis_cli(redis_srv *r, const char *args)
{
    char cmd[1024];
    char auth[120] = "";
    if (r->password[0])
        snprintf(auth, sizeof(auth), "--no-auth-warning -a %s ", r->password);
    snprintf(cmd, sizeof(cmd), "redis-cli -p %d %s%s 2>&1", r->port, auth, args);
    FILE *p = popen(cmd, "r");
    size_t cap = 65536, n = 0;
    char *out = malloc(cap);
    size_t k;
    while ((k = fread(out + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (n + 1 >= cap)
            out = realloc(out, cap *= 2);
    }
    out[n] = 0;
    pclose(p);
    return out;
}

long redis_publish_raw(redis_srv *r, const char *channel, const void *p, size_t len)
{
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)r->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        die("connect to redis: %s", strerror(errno));
    char head[512];
    /* on a Redis Cluster the node and all channels are shard channels of
     * the home slot, which r->port serves */
    int n = rcluster_mode()
                ? snprintf(head, sizeof(head), "*3\r\n$8\r\nSPUBLISH\r\n$%zu\r\n%s\r\n$%zu\r\n",
                           strlen(channel), channel, len)
                : snprintf(head, sizeof(head), "*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n%s\r\n$%zu\r\n",
                           strlen(channel), channel, len);
    raw_send(fd, head, (size_t)n);
    raw_send(fd, p, len);
    raw_send(fd, "\r\n", 2);
    char reply[64] = {0};
    size_t got = 0;
    while (got < sizeof(reply) - 1 && !strchr(reply, '\n')) { /* ":<receivers>\r\n" */
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 5000) <= 0)
            break;
        ssize_t k = recv(fd, reply + got, sizeof(reply) - 1 - got, 0);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    return reply[0] == ':' ? atol(reply + 1) : -1;
}

long redis_calls(redis_srv *r, const char *cmd)
{
    char *out = redis_cli(r, "INFO commandstats");
    char needle[64];
    snprintf(needle, sizeof(needle), "cmdstat_%s:calls=", cmd);
    char *p = strstr(out, needle);
    long v = p ? atol(p + strlen(needle)) : 0;
    free(out);
    return v;
}

/* redis-cli args on node i of r's Redis Cluster. */
static char *cli_on_primary(redis_srv *r, int i, const char *args)
{
    redis_srv tmp = *r;
    tmp.port = r->rcluster->port[i];
    return redis_cli(&tmp, args);
}

void redis_resetstat_all(redis_srv *r)
{
    if (!r->rcluster) {
        free(redis_cli(r, "CONFIG RESETSTAT"));
        return;
    }
    for (int i = 0; i < r->rcluster->n; i++)
        if (r->rcluster->pid[i] > 0)
            free(cli_on_primary(r, i, "CONFIG RESETSTAT"));
}

long redis_calls_all(redis_srv *r, const char *cmd)
{
    if (!r->rcluster)
        return redis_calls(r, cmd);
    long sum = 0;
    for (int i = 0; i < r->rcluster->n; i++)
        if (r->rcluster->pid[i] > 0 && rcluster_is_primary(r->rcluster, i)) {
            redis_srv tmp = *r;
            tmp.port = r->rcluster->port[i];
            sum += redis_calls(&tmp, cmd);
        }
    return sum;
}

char *directory_node_of(redis_srv *r, const char *socket_id)
{
    char args[300];
    if (!r->rcluster) {
        snprintf(args, sizeof(args), "HGET sidecast:sockets %s", socket_id);
        char *out = redis_cli(r, args);
        out[strcspn(out, "\r\n")] = '\0';
        return out;
    }
    /* the bucket of the id (cluster_buckets.c): "<len>:<node><...>" */
    char key[200];
    snprintf(key, sizeof(key), "{sidecast:%d}:sockets", rcluster_key_slot(socket_id) % 64);
    int owner = rcluster_slot_owner(r->rcluster, rcluster_key_slot(key));
    snprintf(args, sizeof(args), "HGET %s %s", key, socket_id);
    char *out = owner < 0 ? strdup("") : cli_on_primary(r, owner, args);
    out[strcspn(out, "\r\n")] = '\0';
    char *colon = strchr(out, ':');
    size_t len = colon ? (size_t)strtoul(out, NULL, 10) : 0;
    if (colon && strlen(colon + 1) >= len)
        memmove(out, colon + 1, len), out[len] = '\0';
    else
        out[0] = '\0';
    return out;
}

/* url: what --redis-url gets; tls_dir: where the client certificate files
 * are (the rediss:// URL of a Redis the harness started), or NULL. */
static daemon_t *node_start_v(const char *bin, const char *url, const char *tls_dir,
                              const char *name, const char *first_extra, va_list ap)
{
    daemon_t *d = calloc(1, sizeof(*d));
    d->bin = bin;
    snprintf(d->dir, sizeof(d->dir), "/tmp/sidecast-test-XXXXXX");
    if (!mkdtemp(d->dir))
        die("mkdtemp: %s", strerror(errno));
    snprintf(d->sock, sizeof(d->sock), "%s/sidecast.sock", d->dir);
    snprintf(d->log, sizeof(d->log), "%s/sidecastd.log", d->dir);
    const char *base[] = {"--redis-url", url, "--node-name", name, "--heartbeat-ms", "200",
                          "--node-ttl-ms", "800", "--request-timeout-ms", "2000",
                          "--room-linger-ms", "300", "--redis-command-timeout-ms", "1000",
                          "--redis-reconnect-max-ms", "500", NULL};
    for (const char **a = base; *a; a++)
        d->args[d->nargs++] = strdup(*a);
    if (tls_dir) {
        const char *files[][2] = {{"--redis-tls-ca-file", "ca.pem"},
                                  {"--redis-tls-cert-file", "client.pem"},
                                  {"--redis-tls-key-file", "client.key"}};
        for (size_t i = 0; i < 3; i++) {
            char path[320];
            snprintf(path, sizeof(path), "%s/%s", tls_dir, files[i][1]);
            d->args[d->nargs++] = strdup(files[i][0]);
            d->args[d->nargs++] = strdup(path);
        }
    }
    for (const char *a = first_extra; a && d->nargs < 47; a = va_arg(ap, const char *))
        d->args[d->nargs++] = strdup(a);
    spawn(d);
    return d;
}

static const char *node_tls_dir(const redis_srv *r)
{
    return !r->tls_port ? NULL : r->tls_dir[0] ? r->tls_dir : r->dir;
}

daemon_t *node_start(redis_srv *r, const char *name, const char *first_extra, ...)
{
    va_list ap;
    va_start(ap, first_extra);
    daemon_t *d = node_start_v(NULL, r->url, node_tls_dir(r), name, first_extra, ap);
    va_end(ap);
    return d;
}

daemon_t *node_start_rcluster(rcluster_set *s, const char *name, const char *first_extra, ...)
{
    va_list ap;
    va_start(ap, first_extra);
    daemon_t *d = node_start_v(NULL, s->url, s->tls_port[0] ? s->dir : NULL, name, first_extra, ap);
    va_end(ap);
    return d;
}

daemon_t *node_start_bin(const char *bin, redis_srv *r, const char *name, const char *first_extra,
                         ...)
{
    va_list ap;
    va_start(ap, first_extra);
    daemon_t *d = node_start_v(bin, r->url, node_tls_dir(r), name, first_extra, ap);
    va_end(ap);
    return d;
}

static void count_node(void *ud, const char *id, const char *name, bool self)
{
    (*(int *)ud)++;
}

int wait_nodes(sc_client *c, int n, int timeout_ms)
{
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    int seen = 0;
    do {
        seen = 0;
        if (sc_client_nodes(c, count_node, &seen, 0) < 0)
            return -1;
        if (seen == n)
            return seen;
        usleep(20000);
    } while (now_ms() < end);
    return seen;
}

/* ---- HTTP endpoint ---------------------------------------------------------------- */

int daemon_http_port(const daemon_t *d)
{
    static const char key[] = "http: listening on 127.0.0.1:";
    int port = -1;
    for (int tries = 0; tries < 500 && port < 0; tries++) {
        FILE *f = fopen(d->log, "r");
        char line[4096];
        while (f && fgets(line, sizeof(line), f)) {
            const char *p = strstr(line, key);
            if (p)
                port = atoi(p + sizeof(key) - 1); /* the last one: after restarts */
        }
        if (f)
            fclose(f);
        if (port < 0)
            usleep(10000);
    }
    if (port <= 0)
        die("no 'http: listening on' line in %s", d->log);
    return port;
}

int http_raw(int port, const char *req, size_t len, char *body, size_t bodylen, int timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        die("http: connect to port %d: %s", port, strerror(errno));
    if (len)
        raw_send(fd, req, len);
    size_t cap = 1 << 20, n = 0;
    char *resp = malloc(cap + 1);
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    while (n < cap && now_ms() < end) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t r = recv(fd, resp + n, cap - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    resp[n] = 0;
    int status = -1;
    if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
        status = -1;
    const char *b = strstr(resp, "\r\n\r\n");
    if (body && bodylen)
        snprintf(body, bodylen, "%s", b ? b + 4 : "");
    free(resp);
    return status;
}

int http_get(int port, const char *path, char *body, size_t bodylen)
{
    char req[512];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    return http_raw(port, req, (size_t)n, body, bodylen, 10000);
}

double metric_value(const char *body, const char *series)
{
    size_t len = strlen(series);
    for (const char *p = body; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, series, len) == 0 && p[len] == ' ')
            return strtod(p + len + 1, NULL);
    }
    return -1;
}

bool promtool_ok(const char *body)
{
    char path[] = "/tmp/sidecast-metrics-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        die("mkstemp: %s", strerror(errno));
    size_t len = strlen(body);
    if (write(fd, body, len) != (ssize_t)len)
        die("write %s", path);
    close(fd);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
    FILE *p = popen(cmd, "r");
    char out[8192];
    size_t n = p ? fread(out, 1, sizeof(out) - 1, p) : 0;
    out[n] = 0;
    int st = p ? pclose(p) : -1;
    unlink(path);
    bool ok = st == 0;
    if (!ok)
        fprintf(stderr, "promtool check metrics failed (status %d):\n%s\n", st, out);
    return ok;
}

uint64_t wall_ms_h(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

long proc_rss_kb_h(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

int proc_fds_h(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

bool wait_log(daemon_t *d, const char *needle, int timeout_ms)
{
    uint64_t end = now_ms_h() + (uint64_t)timeout_ms;
    while (!daemon_log_contains(d, needle) && now_ms_h() < end)
        usleep(20000);
    return daemon_log_contains(d, needle);
}

void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        die("cannot write %s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}

void answers_on_progress(void *ud, const sc_progress *p)
{
    answers *a = ud;
    a->expect += p->expect;
    for (size_t i = 0; i < p->n && a->n < 16; i++, a->n++)
        snprintf(a->got[a->n], 32, "%.*s", (int)p->lens[i], (const char *)p->payloads[i]);
    if (p->done) {
        a->done = true;
        a->timed_out = p->timed_out;
        a->nodes_expected = p->nodes_expected;
        a->nodes_answered = p->nodes_answered;
    }
}

bool answers_has(const answers *a, const char *s)
{
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->got[i], s) == 0)
            return true;
    return false;
}

void emit_to_room(sc_client *c, const char *room, int n, size_t len, bool vol)
{
    uint8_t *payload = malloc(len ? len : 1);
    if (!payload)
        die("out of memory");
    memset(payload, 'x', len);
    const char *rooms[] = {room};
    sc_target t = {.rooms = rooms, .n_rooms = 1};
    sc_emit_flags fl = {.is_volatile = vol};
    for (int i = 0; i < n; i++)
        if (sc_client_emit(c, &t, &fl, payload, len) != 0)
            die("emit %d of %d to room %s refused: %s", i + 1, n, room, sc_client_last_error(c));
    free(payload);
    if (sc_client_sync(c, 0) != 0)
        die("sync after emits to room %s: %s", room, sc_client_last_error(c));
}

int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        die("connect to 127.0.0.1:%d: %s", port, strerror(errno));
    return fd;
}

/* ---- reports and test selection ------------------------------------------------------ */

void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

int run_tests_matching(const char *group, const struct CMUnitTest *all, size_t n, const char *env)
{
    struct CMUnitTest *tests = calloc(n ? n : 1, sizeof(*tests));
    if (!tests)
        die("run_tests_matching: out of memory");
    size_t k = 0;
    const char *only = getenv(env);
    for (size_t i = 0; i < n; i++)
        if (!only || !only[0] || strstr(all[i].name, only))
            tests[k++] = all[i];
    int rc = _cmocka_run_group_tests(group, tests, k, NULL, NULL);
    free(tests);
    return rc;
}
