/* server: accept loop, flush-before-sleep, deferred frees and shutdown.
 *
 * Startup takes over a stale socket file (left by a crash) only after
 * checking that nothing answers on it; a live sidecastd on the same path is
 * an error, never silently replaced. */
#include "server.h"
#include "cluster.h"
#include "log.h"
#include "notify.h"
#include "request.h"
#include "session.h"
#include "stats.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stddef.h>
#include <sys/un.h>
#include <unistd.h>

#define ACCEPTS_PER_EVENT 64

static int fill_addr(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(a->sun_path))
        return -ENAMETOOLONG;
    strcpy(a->sun_path, path);
    return 0;
}

/* 0 if the path is free (or was a stale socket, now removed). */
static int take_over_stale(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode)) {
        sc_error("%s exists and is not a socket; refusing to replace it", path);
        return -EEXIST;
    }
    struct sockaddr_un a;
    fill_addr(&a, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
    int err = errno;
    close(fd);
    if (r == 0) {
        sc_error("another process is already listening on %s (a running sidecastd?); "
                 "stop it or choose another socket path",
                 path);
        return -EADDRINUSE;
    }
    if (err != ECONNREFUSED) {
        sc_error("cannot probe existing socket %s: %s", path, strerror(err));
        return -err;
    }
    if (unlink(path) < 0)
        return -errno;
    sc_info("removed stale socket file %s (no process was listening on it)", path);
    return 0;
}

static int open_listener(sc_server *s)
{
    const char *path = s->cfg->socket_path;
    int afd;
    int ar = sc_notify_listen_fd(&afd);
    if (ar < 0)
        return ar;
    if (ar > 0) { /* systemd owns the socket file: no create, chmod or unlink */
        s->listen_fd = afd;
        s->own_socket_file = false;
        s->socket_activated = true;
        struct sockaddr_un a = {0};
        socklen_t al = sizeof(a);
        if (getsockname(afd, (struct sockaddr *)&a, &al) < 0 ||
            al <= offsetof(struct sockaddr_un, sun_path) || !a.sun_path[0])
            snprintf(s->listen_path, sizeof(s->listen_path), "the socket-activated fd %d", afd);
        else
            snprintf(s->listen_path, sizeof(s->listen_path), "%.*s", (int)sizeof(a.sun_path),
                     a.sun_path);
        sc_info("socket activation: using the listening socket systemd passed (fd %d, %s); the "
                "socket setting (%s) is not used",
                afd, s->listen_path, path);
        return 0;
    }
    sc_info("creating the app socket %s (not socket-activated)", path);
    struct sockaddr_un a;
    if (fill_addr(&a, path) < 0) {
        sc_error("socket path %s is too long (max %zu bytes)", path, sizeof(a.sun_path) - 1);
        return -ENAMETOOLONG;
    }
    int r = take_over_stale(path);
    if (r < 0)
        return r;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* Create the file with no access, then chmod: no window in which a
     * process outside the configured mode can connect. */
    mode_t old = umask(0777);
    r = bind(fd, (struct sockaddr *)&a, sizeof(a));
    umask(old);
    if (r == 0 && sc_access_own_socket(path, s->cfg) < 0) {
        unlink(path);
        close(fd);
        return -EACCES;
    }
    if (r < 0 || listen(fd, 1024) < 0) {
        int err = errno;
        sc_error("cannot listen on %s: %s", path, strerror(err));
        if (r == 0)
            unlink(path);
        close(fd);
        return -err;
    }
    s->listen_fd = fd;
    s->own_socket_file = true;
    return 0;
}

/* Best effort: the peer learns why, or just sees EOF. Closes fd. */
static void refuse_with(int fd, int code, const char *msg)
{
    Sidecast__V1__Error e = SIDECAST__V1__ERROR__INIT;
    e.code = code;
    e.message = (char *)msg;
    e.fatal = true;
    sc_frame f = SC_FRAME_INIT;
    f.msg_case = SIDECAST__V1__FRAME__MSG_ERROR;
    f.error = &e;
    sc_buf b;
    sc_buf_init(&b);
    sc_wire_append(&b, &f);
    ssize_t n = send(fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)n;
    sc_buf_free(&b);
    close(fd);
}

static void refuse_connection(int fd, uint64_t limit)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "too many app connections (max_connections %llu); try again later",
             (unsigned long long)limit);
    refuse_with(fd, SIDECAST__V1__ERROR_CODE__ERROR_LIMIT, msg);
}

/* allow_uids / allow_gids: false (counted, logged, refused) for a peer not
 * on the list. */
static bool admit_peer(sc_server *s, int fd)
{
    pid_t pid;
    uid_t uid;
    gid_t gid;
    if (sc_access_peer_allowed(&s->access, fd, &pid, &uid, &gid))
        return true;
    SC_COUNT(connections_refused_peer);
    sc_log_limited(SC_LOG_WARN,
                   "refusing app connection from pid %d uid %u gid %u: not in allow_uids or "
                   "allow_gids",
                   (int)pid, (unsigned)uid, (unsigned)gid);
    char msg[160];
    snprintf(msg, sizeof(msg), "uid %u gid %u is not allowed to use this sidecastd (allow_uids, "
                               "allow_gids)",
             (unsigned)uid, (unsigned)gid);
    refuse_with(fd, SIDECAST__V1__ERROR_CODE__ERROR_FORBIDDEN, msg);
    return false;
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    sc_server *s = w->data;
    for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                sc_log_limited(SC_LOG_WARN, "accept failed: %s", strerror(errno));
            return;
        }
        if (!admit_peer(s, fd))
            continue;
        if (s->nconns >= s->cfg->max_connections) {
            SC_COUNT(connections_refused_limit);
            sc_log_limited(SC_LOG_WARN, "refusing app connection: max_connections %llu reached",
                           (unsigned long long)s->cfg->max_connections);
            refuse_connection(fd, s->cfg->max_connections);
            continue;
        }
        sc_conn *c = sc_conn_new(s, fd);
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->nconns++;
        SC_COUNT(connections_accepted);
        sc_debug("%s connected (uid %d)", sc_conn_label(c), (int)c->uid);
    }
}

void sc_server_want_flush(sc_server *s, sc_conn *c)
{
    if (c->queued)
        return;
    c->queued = true;
    c->flush_next = s->flush_list;
    s->flush_list = c;
}

void sc_server_closed(sc_server *s, sc_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    s->nconns--;
    c->closed_next = s->closed_list;
    s->closed_list = c;
}

void sc_server_doomed(sc_server *s, sc_conn *c)
{
    c->doomed_next = s->doomed_list;
    s->doomed_list = c;
}

static void close_doomed(sc_server *s)
{
    while (s->doomed_list) {
        sc_conn *c = s->doomed_list;
        s->doomed_list = c->doomed_next;
        sc_conn_close(c, c->doom_reason);
    }
}

uint64_t sc_server_output_bytes(const sc_server *s)
{
    uint64_t total = 0;
    for (const sc_conn *c = s->conns; c; c = c->next)
        total += sc_buf_used(&c->out);
    return total;
}

/* Runs once per loop iteration, just before the loop waits: one write per
 * connection for everything queued during the iteration, then the frees. */
static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)revents;
    sc_server *s = w->data;
    /* Closing a connection can answer others' requests (queueing output)
     * and flushing can close one that failed: go until both settle. */
    do {
        close_doomed(s);
        /* Redis first: when an app reads a reply (a sync barrier), the
         * directory writes its requests caused are already on the wire. */
        sc_cluster_flush(s->cluster);
        while (s->flush_list) {
            sc_conn *c = s->flush_list;
            s->flush_list = c->flush_next;
            c->queued = false;
            if (c->state == SC_CONN_OPEN || c->state == SC_CONN_DRAINING)
                sc_conn_flush(c);
        }
    } while (s->doomed_list || s->flush_list);
    sc_cluster_flush(s->cluster);
    while (s->closed_list) {
        sc_conn *c = s->closed_list;
        s->closed_list = c->closed_next;
        sc_conn_free(c);
    }
    if (s->stopping && s->nconns == 0 && sc_cluster_left(s->cluster))
        ev_break(loop, EVBREAK_ALL);
}

static void close_listener(sc_server *s)
{
    if (s->listen_fd < 0)
        return;
    ev_io_stop(s->loop, &s->accept_io);
    close(s->listen_fd);
    s->listen_fd = -1;
    if (s->own_socket_file && unlink(s->cfg->socket_path) < 0 && errno != ENOENT)
        sc_warn("could not remove socket file %s: %s", s->cfg->socket_path, strerror(errno));
    s->own_socket_file = false;
}

static void on_shutdown_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)revents;
    sc_server *s = w->data;
    uint64_t left = sc_server_output_bytes(s);
    SC_COUNT_N(shutdown_unflushed_bytes, left);
    sc_warn("shutdown timeout: closing %llu app connection(s) with %llu bytes unsent",
            (unsigned long long)s->nconns, (unsigned long long)left);
    while (s->conns)
        sc_conn_close(s->conns, "sidecastd shutting down (timeout)");
    ev_break(loop, EVBREAK_ALL);
}

void sc_server_shutdown(sc_server *s)
{
    if (s->stopping)
        return;
    s->stopping = true;
    sc_notify_stopping();
    sc_info("shutting down: no new connections, flushing %llu app connection(s) for up to %llu ms",
            (unsigned long long)s->nconns, (unsigned long long)s->cfg->shutdown_timeout_ms);
    close_listener(s);
    sc_requests_shutdown(s);
    sc_cluster_leave(s->cluster);
    for (sc_conn *c = s->conns; c; c = c->next)
        sc_conn_drain(c);
    ev_timer_init(&s->shutdown_timer, on_shutdown_timeout, s->cfg->shutdown_timeout_ms / 1000.0, 0);
    s->shutdown_timer.data = s;
    ev_timer_start(s->loop, &s->shutdown_timer);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)revents;
    sc_info("received %s", w->signum == SIGINT ? "SIGINT" : "SIGTERM");
    sc_server_shutdown(w->data);
}

static void room_hook(void *ud, const sc_room *room, bool created)
{
    sc_server *s = ud;
    sc_cluster_room(s->cluster, room, created);
}

static void make_node_id(sc_server *s)
{
    uint8_t raw[8];
    sc_random_bytes(raw, sizeof(raw));
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(s->node_id + 2 * i, 3, "%02x", raw[i]);
    if (s->cfg->node_name && s->cfg->node_name[0])
        snprintf(s->node_name, sizeof(s->node_name), "%s", s->cfg->node_name);
    else if (gethostname(s->node_name, sizeof(s->node_name) - 1) < 0)
        snprintf(s->node_name, sizeof(s->node_name), "sidecast");
}

int sc_server_init(sc_server *s, struct ev_loop *loop, const sc_config *cfg)
{
    memset(s, 0, sizeof(*s));
    s->loop = loop;
    s->cfg = cfg;
    s->listen_fd = -1;
    s->started_us = sc_now_us();
    sc_registry_init(&s->reg);
    sc_arena_init(&s->arena, 256 * 1024);
    sc_requests_init(s);
    sc_sessions_init(s);
    make_node_id(s);
    /* Before the socket exists: a SIGTERM from a supervisor that saw the
     * socket appear must be a clean stop, not the default action. */
    ev_signal_init(&s->sigterm, on_signal, SIGTERM);
    ev_signal_init(&s->sigint, on_signal, SIGINT);
    s->sigterm.data = s->sigint.data = s;
    ev_signal_start(loop, &s->sigterm);
    ev_signal_start(loop, &s->sigint);
    int r = sc_access_init(&s->access, cfg);
    if (r < 0)
        return r;
    r = open_listener(s);
    if (r < 0)
        return r;
    s->cluster = sc_cluster_new(s);
    if (s->cluster) {
        s->reg.on_room = room_hook;
        s->reg.on_room_ud = s;
        sc_cluster_start(s->cluster);
    }
    ev_io_init(&s->accept_io, on_accept, s->listen_fd, EV_READ);
    s->accept_io.data = s;
    ev_io_start(loop, &s->accept_io);
    ev_prepare_init(&s->flush_prep, on_prepare);
    s->flush_prep.data = s;
    ev_prepare_start(loop, &s->flush_prep);
    sc_info("sidecastd node %s (%s) listening on %s, %s", s->node_name, s->node_id,
            s->socket_activated ? s->listen_path : cfg->socket_path,
            s->cluster ? "cluster mode" : "standalone");
    return 0;
}

int sc_server_run(sc_server *s)
{
    ev_run(s->loop, 0);
    /* The loop is over; stopping its signal watchers restores the default
     * action, and a repeated SIGTERM (an impatient supervisor) must not turn
     * this clean exit into a kill. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    sc_server_cleanup(s);
    sc_info("sidecastd stopped");
    return 0;
}

void sc_server_cleanup(sc_server *s)
{
    close_doomed(s);
    while (s->conns)
        sc_conn_close(s->conns, "sidecastd stopped");
    while (s->closed_list) {
        sc_conn *c = s->closed_list;
        s->closed_list = c->closed_next;
        sc_conn_free(c);
    }
    close_listener(s);
    ev_prepare_stop(s->loop, &s->flush_prep);
    ev_signal_stop(s->loop, &s->sigterm);
    ev_signal_stop(s->loop, &s->sigint);
    ev_timer_stop(s->loop, &s->shutdown_timer);
    sc_requests_free(s);
    sc_sessions_free(s);
    s->reg.on_room = NULL; /* the cluster goes first; rooms are freed below */
    sc_cluster_free(s->cluster);
    s->cluster = NULL;
    sc_registry_free(&s->reg);
    sc_arena_free(&s->arena);
    sc_access_free(&s->access);
}
