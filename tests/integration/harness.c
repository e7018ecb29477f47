/* harness: process control and recording for the integration tests. */
#include "harness.h"

#include "buf.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
            d->pid = -1;
            return -1;
        }
        usleep(10000);
    }
    return -1;
}

static void spawn(daemon_t *d)
{
    char *argv[64];
    int n = 0;
    char *wrapper = getenv("SIDECAST_TEST_WRAPPER");
    char *wcopy = wrapper && wrapper[0] ? strdup(wrapper) : NULL;
    for (char *save = NULL, *t = wcopy ? strtok_r(wcopy, " ", &save) : NULL; t && n < 16;
         t = strtok_r(NULL, " ", &save))
        argv[n++] = t;
    argv[n++] = (char *)SC_SIDECASTD_PATH;
    argv[n++] = (char *)"--socket";
    argv[n++] = d->sock;
    argv[n++] = (char *)"--log-level";
    argv[n++] = (char *)"debug";
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
        execvp(argv[0], argv);
        _exit(127);
    }
    free(wcopy);
    d->pid = pid;
    int timeout = wrapper && wrapper[0] ? 30000 : 5000;
    if (wait_ready(d, timeout) < 0) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "cat %s >&2", d->log);
        if (system(cmd) != 0)
            fprintf(stderr, "(no log)\n");
        die("sidecastd did not start on %s", d->sock);
    }
}

daemon_t *daemon_start(const char *first_arg, ...)
{
    daemon_t *d = calloc(1, sizeof(*d));
    snprintf(d->dir, sizeof(d->dir), "/tmp/sidecast-test-XXXXXX");
    if (!mkdtemp(d->dir))
        die("mkdtemp: %s", strerror(errno));
    snprintf(d->sock, sizeof(d->sock), "%s/sidecast.sock", d->dir);
    snprintf(d->log, sizeof(d->log), "%s/sidecastd.log", d->dir);
    va_list ap;
    va_start(ap, first_arg);
    for (const char *a = first_arg; a && d->nargs < 31; a = va_arg(ap, const char *))
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
            d->pid = -1;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        usleep(10000);
    }
    kill(d->pid, SIGKILL);
    waitpid(d->pid, &st, 0);
    d->pid = -1;
    return 255;
}

void daemon_kill(daemon_t *d)
{
    if (d->pid <= 0)
        return;
    kill(d->pid, SIGKILL);
    waitpid(d->pid, NULL, 0);
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

sc_client *app_open(daemon_t *d, const char *name, recorder *rec)
{
    sc_client_options o = {.path = d->sock, .name = name, .timeout_ms = 10000};
    if (rec) {
        memset(rec, 0, sizeof(*rec));
        o.on_deliver = rec_deliver;
        o.on_delivery = rec_delivery;
        o.on_error = rec_error;
        o.ud = rec;
    }
    sc_client *c;
    if (sc_client_open(&o, &c) < 0)
        die("app %s: %s", name, sc_client_last_error(c));
    return c;
}

unsigned rec_count(const recorder *rec, const char *socket_id)
{
    for (size_t i = 0; i < rec->n; i++)
        if (strcmp(rec->ids[i], socket_id) == 0)
            return rec->counts[i];
    return 0;
}

void rec_reset(recorder *rec)
{
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

void raw_send_hello(int fd, uint32_t version)
{
    Sidecast__V1__Hello h = SIDECAST__V1__HELLO__INIT;
    h.protocol_version = version;
    h.client_name = (char *)"raw-test";
    sc_frame f = SC_FRAME_INIT;
    f.id = 1;
    f.msg_case = SIDECAST__V1__FRAME__MSG_HELLO;
    f.hello = &h;
    sc_buf b;
    sc_buf_init(&b);
    sc_wire_append(&b, &f);
    raw_send(fd, b.data, b.len);
    sc_buf_free(&b);
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
