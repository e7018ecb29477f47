/* server: accept loop, flush-before-sleep, deferred frees and shutdown.
 *
 * Startup takes over a stale socket file (left by a crash) only after
 * checking that nothing answers on it; a live sidecastd on the same path is
 * an error, never silently replaced.
 *
 * File descriptors: startup raises the soft RLIMIT_NOFILE to the hard limit
 * and clamps max_connections (with a warning, as Redis does with maxclients)
 * to what that limit can serve once the listeners, the HTTP endpoint's
 * connections, Redis and a spare are counted. App connections never take
 * the fds kept for those. Running out anyway (the limit lowered at run time,
 * ENFILE) never spins: a reserve fd is given up to tell each waiting client
 * why (Error{LIMIT}) and close it, then accepting pauses for a backoff.
 *
 * It may not call up into http, exposition or main: they read it through
 * sc_server_ready, sc_server_status_line and a const sc_server. It handles
 * no frame itself (dispatch.c gets each through the sc_conn_host) and knows
 * the cluster only through cluster.h. */
#include "server.h"
#include "cluster.h"
#include "dispatch.h"
#include "log.h"
#include "notify.h"
#include "request.h"
#include "session.h"
#include "stats.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stddef.h>
#include <sys/un.h>
#include <unistd.h>

#define ACCEPTS_PER_EVENT 64
/* fds held besides app connections, listeners and HTTP connections: the
 * loop's own, the journal and notify sockets, a config or credentials file
 * read on reload, the /proc files a scrape reads, the stale-socket probe */
#define FD_SPARE 8
/* redis: the publish and subscribe connections, each with room for its
 * replacement while the old one is torn down */
#define FD_REDIS 4
/* accepting pauses this long after EMFILE/ENFILE (doubling to the max) */
#define ACCEPT_BACKOFF_MIN_MS 50
#define ACCEPT_BACKOFF_MAX_MS 1000

/* ---- file descriptor budget -------------------------------------------------- */

static bool http_enabled(const sc_config *cfg)
{
    return cfg->http_listen && cfg->http_listen[0];
}

/* fds app connections must leave free for others (read live: reloads). */
static uint64_t fd_headroom(const sc_config *cfg)
{
    uint64_t n = FD_SPARE;
    if (http_enabled(cfg))
        n += cfg->http_max_connections;
    if (cfg->redis_url && cfg->redis_url[0])
        n += FD_REDIS;
    return n;
}

/* fds for everything but app connections: the listeners, the reserve and
 * the headroom. */
static uint64_t fd_kept(const sc_config *cfg)
{
    return 1 + (http_enabled(cfg) ? 1 : 0) + 1 + fd_headroom(cfg);
}

uint64_t sc_server_fd_capacity(const sc_config *cfg, uint64_t fd_limit, uint64_t fds_open)
{
    uint64_t need = fds_open + fd_kept(cfg);
    return fd_limit > need ? fd_limit - need : 0;
}

uint64_t sc_server_max_connections(const sc_server *s)
{
    return SC_MIN(s->cfg->max_connections, s->fd_capacity);
}

static uint64_t count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 8; /* no /proc: stdio and the loop's fds, a guess */
    uint64_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n ? n - 1 : 0; /* less the directory's own fd */
}

static uint64_t rlim_value(rlim_t v)
{
    return v == RLIM_INFINITY ? UINT64_MAX : (uint64_t)v;
}

/* The soft limit now: an operator may lower it (prlimit) while we run. */
static uint64_t current_fd_limit(sc_server *s)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        s->fd_limit = rlim_value(rl.rlim_cur);
    return s->fd_limit;
}

/* Raise the soft fd limit to the hard one and bound app connections by what
 * it serves. A max_connections it cannot serve is clamped with a warning
 * rather than refused, so that a unit with a low LimitNOFILE still starts
 * and says why; a limit that cannot serve one app connection is an error. */
static int setup_fd_limit(sc_server *s)
{
    const sc_config *cfg = s->cfg;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        int err = errno;
        sc_error("cannot read the limit on open files (RLIMIT_NOFILE): %s", strerror(err));
        return -err;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur != rl.rlim_max) {
        struct rlimit want = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &want) == 0) {
            sc_info("raised the limit on open files (RLIMIT_NOFILE) from %llu to the hard limit "
                    "%llu",
                    (unsigned long long)rl.rlim_cur, (unsigned long long)rlim_value(rl.rlim_max));
            rl.rlim_cur = rl.rlim_max;
        } else {
            sc_warn("cannot raise the limit on open files (RLIMIT_NOFILE) from %llu to the hard "
                    "limit %llu: %s; running with %llu",
                    (unsigned long long)rl.rlim_cur, (unsigned long long)rlim_value(rl.rlim_max),
                    strerror(errno), (unsigned long long)rl.rlim_cur);
        }
    }
    s->fd_limit = rlim_value(rl.rlim_cur);
    uint64_t open_now = count_open_fds();
    s->fd_capacity = sc_server_fd_capacity(cfg, s->fd_limit, open_now);
    uint64_t kept = fd_kept(cfg);
    if (s->fd_capacity == 0) {
        sc_error("the limit of %llu open files cannot serve one app connection (%llu open at "
                 "start, %llu needed for the listeners, HTTP (http_max_connections %llu), redis "
                 "and internal use); raise LimitNOFILE (ulimit -n) or lower "
                 "http_max_connections",
                 (unsigned long long)s->fd_limit, (unsigned long long)open_now,
                 (unsigned long long)kept, (unsigned long long)cfg->http_max_connections);
        return -EMFILE;
    }
    if (s->fd_capacity < cfg->max_connections)
        sc_warn("max_connections %llu is more than the limit of %llu open files can serve (%llu "
                "open at start, %llu kept for the listeners, HTTP (http_max_connections %llu), "
                "redis and internal use): clamped to max_connections %llu; raise LimitNOFILE "
                "(ulimit -n) or lower max_connections",
                (unsigned long long)cfg->max_connections, (unsigned long long)s->fd_limit,
                (unsigned long long)open_now, (unsigned long long)kept,
                (unsigned long long)cfg->http_max_connections, (unsigned long long)s->fd_capacity);
    else
        sc_info("limit on open files %llu: room for %llu app connections (max_connections %llu)",
                (unsigned long long)s->fd_limit, (unsigned long long)s->fd_capacity,
                (unsigned long long)cfg->max_connections);
    return 0;
}

static int open_reserve(void)
{
    return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

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
    sc_access_settings own = sc_config_access(s->cfg);
    if (r == 0 && sc_access_own_socket(path, &own) < 0) {
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
    sc_conn_tell_fd(fd, code, msg);
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
    snprintf(msg, sizeof(msg),
             "uid %u gid %u is not allowed to use this sidecastd (allow_uids, "
             "allow_gids)",
             (unsigned)uid, (unsigned)gid);
    refuse_with(fd, SIDECAST__V1__ERROR_CODE__ERROR_FORBIDDEN, msg);
    return false;
}

/* Closes fd; the caller logs. */
static void refuse_out_of_fds(sc_server *s, int fd)
{
    SC_COUNT(connections_refused_fd);
    char msg[160];
    snprintf(msg, sizeof(msg),
             "sidecastd is out of file descriptors (limit %llu, %llu app connections open); try "
             "again later",
             (unsigned long long)s->fd_limit, (unsigned long long)s->nconns);
    refuse_with(fd, SIDECAST__V1__ERROR_CODE__ERROR_LIMIT, msg);
}

/* Stop accepting for a backoff: a listener that stays readable while
 * accept fails would otherwise turn the loop as fast as it can. */
static void pause_accept(sc_server *s)
{
    s->accept_backoff_ms = s->accept_backoff_ms
                               ? SC_MIN(2 * s->accept_backoff_ms, ACCEPT_BACKOFF_MAX_MS)
                               : ACCEPT_BACKOFF_MIN_MS;
    ev_io_stop(s->loop, &s->accept_io);
    ev_timer_stop(s->loop, &s->accept_retry);
    ev_timer_set(&s->accept_retry, s->accept_backoff_ms / 1000.0, 0);
    ev_timer_start(s->loop, &s->accept_retry);
}

static void on_accept_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)revents;
    sc_server *s = w->data;
    if (s->reserve_fd < 0)
        s->reserve_fd = open_reserve();
    if (s->listen_fd >= 0 && !s->stopping)
        ev_io_start(loop, &s->accept_io);
}

/* EMFILE/ENFILE: give up the reserve fd for each waiting client in turn, to
 * tell it why and close it, rather than leave it hanging in the backlog;
 * then pause. Bounded by ACCEPTS_PER_EVENT; the rest waits for the retry. */
static void out_of_fds(sc_server *s, int err)
{
    unsigned refused = 0;
    bool had_reserve = s->reserve_fd >= 0;
    for (int i = 0; i < ACCEPTS_PER_EVENT && s->reserve_fd >= 0; i++) {
        close(s->reserve_fd);
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            refuse_out_of_fds(s, fd);
            refused++;
        }
        s->reserve_fd = open_reserve();
        if (fd < 0)
            break;
    }
    pause_accept(s);
    if (err == ENFILE)
        sc_log_limited(SC_LOG_WARN,
                       "the system is out of file descriptors (ENFILE, fs.file-max): refused %u "
                       "app connection(s)%s, %llu open; accepting again in %u ms; raise "
                       "fs.file-max or lower max_connections",
                       refused, had_reserve ? "" : " (no reserve fd: the rest wait)",
                       (unsigned long long)s->nconns, s->accept_backoff_ms);
    else
        sc_log_limited(SC_LOG_WARN,
                       "out of file descriptors (EMFILE, limit %llu): refused %u app "
                       "connection(s)%s, %llu open; accepting again in %u ms; raise LimitNOFILE "
                       "or lower max_connections",
                       (unsigned long long)current_fd_limit(s), refused,
                       had_reserve ? "" : " (no reserve fd: the rest wait)",
                       (unsigned long long)s->nconns, s->accept_backoff_ms);
}

/* accept4 failed with err; true to go on accepting in this event. */
static bool accept_failed(sc_server *s, int err)
{
    switch (err) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EINTR: return false;
    case ECONNABORTED: /* that client is gone; the next one may be there */
    case EPROTO: return true;
    case EMFILE:
    case ENFILE: out_of_fds(s, err); return false;
    default: /* ENOBUFS, ENOMEM...: retrying at once would spin */
        pause_accept(s);
        sc_log_limited(SC_LOG_WARN, "accept failed: %s; accepting again in %u ms", strerror(err),
                       s->accept_backoff_ms);
        return false;
    }
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    sc_server *s = w->data;
    uint64_t fd_limit = current_fd_limit(s);
    for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (accept_failed(s, errno))
                continue;
            return;
        }
        if (!admit_peer(s, fd))
            continue;
        uint64_t max = sc_server_max_connections(s);
        if (s->nconns >= max) {
            SC_COUNT(connections_refused_limit);
            if (max < s->cfg->max_connections)
                sc_log_limited(SC_LOG_WARN,
                               "refusing app connection: max_connections %llu reached (clamped "
                               "from %llu: the limit of %llu open files serves no more)",
                               (unsigned long long)max, (unsigned long long)s->cfg->max_connections,
                               (unsigned long long)s->fd_limit);
            else
                sc_log_limited(SC_LOG_WARN, "refusing app connection: max_connections %llu reached",
                               (unsigned long long)max);
            refuse_connection(fd, max);
            continue;
        }
        /* fds are allocated lowest first: at this one, fewer than the
         * headroom are left for HTTP, redis and the daemon's own files */
        uint64_t headroom = fd_headroom(s->cfg);
        if ((uint64_t)fd + headroom >= fd_limit) {
            sc_log_limited(SC_LOG_WARN,
                           "out of file descriptors (fd %d, limit %llu, %llu kept for HTTP, redis "
                           "and internal use): refusing app connection, %llu open; raise "
                           "LimitNOFILE or lower max_connections",
                           fd, (unsigned long long)fd_limit, (unsigned long long)headroom,
                           (unsigned long long)s->nconns);
            refuse_out_of_fds(s, fd);
            continue;
        }
        s->accept_backoff_ms = 0;
        sc_conn *c = sc_conn_new(&s->conn_host, s, fd);
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->nconns++;
        SC_COUNT(connections_accepted);
        sc_debug("%s connected (uid %d)", sc_conn_label(c), (int)c->uid);
    }
}

static void conn_want_flush(sc_conn *c)
{
    sc_server *s = c->srv;
    if (c->queued)
        return;
    c->queued = true;
    c->flush_next = s->flush_list;
    s->flush_list = c;
}

static void conn_closed(sc_conn *c)
{
    sc_server *s = c->srv;
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

static void conn_doomed(sc_conn *c)
{
    sc_server *s = c->srv;
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

void sc_server_health(const sc_server *s, sc_health *ret)
{
    *ret = (sc_health){.now_us = sc_now_us()};
    if (!s)
        return;
    ret->running = true;
    ret->stopping = s->stopping;
    ret->listening = s->listen_fd >= 0;
    ret->conns = s->nconns;
    ret->clustered = s->cluster != NULL;
    if (s->cluster)
        sc_cluster_health_get(s->cluster, &ret->cluster);
}

bool sc_server_ready(const sc_server *s, char *why, size_t len)
{
    sc_health h;
    sc_server_health(s, &h);
    return sc_health_ready(&h, why, len);
}

void sc_server_status_line(const sc_server *s, char *out, size_t len)
{
    int n = snprintf(out, len, "%s %llu app connection%s, %llu sockets, %llu rooms; ",
                     s->stopping ? "stopping: draining" : "serving", (unsigned long long)s->nconns,
                     s->nconns == 1 ? "" : "s", (unsigned long long)sc_map_count(&s->reg.sockets),
                     (unsigned long long)sc_map_count(&s->reg.rooms));
    if (n < 0 || (size_t)n >= len)
        return;
    if (!s->cluster) {
        snprintf(out + n, len - (size_t)n, "standalone");
        return;
    }
    sc_health h;
    sc_server_health(s, &h);
    char why[200];
    if (s->stopping || sc_health_ready(&h, why, sizeof(why)))
        snprintf(out + n, len - (size_t)n, "redis connected, %llu node%s",
                 (unsigned long long)h.cluster.nodes, h.cluster.nodes == 1 ? "" : "s");
    else
        snprintf(out + n, len - (size_t)n, "not ready: %.150s", why); /* the /readyz reason */
}

static void conn_closing(sc_conn *c)
{
    sc_requests_conn_closed(c->srv, c);
}

static void conn_remove_socket(sc_conn *c, sc_socket *sock)
{
    sc_dispatch_remove_socket(c->srv, sock);
}

static void init_conn_host(sc_server *s)
{
    s->conn_host = (sc_conn_host){
        .loop = s->loop,
        .cfg = s->cfg,
        .arena = &s->arena,
        .conns = &s->conns,
        .next_id = &s->next_conn_id,
        .frame = sc_dispatch,
        .conn_closing = conn_closing,
        .remove_socket = conn_remove_socket,
        .closed = conn_closed,
        .doomed = conn_doomed,
        .want_flush = conn_want_flush,
    };
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
    ev_timer_stop(s->loop, &s->accept_retry);
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
    uint64_t left = sc_conn_output_bytes(s->conns);
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
    s->reserve_fd = -1;
    ev_timer_init(&s->accept_retry, on_accept_retry, 0, 0);
    s->accept_retry.data = s;
    s->started_us = sc_now_us();
    sc_registry_init(&s->reg);
    /* fetch answers' etags: a restart never repeats a gen another node kept */
    sc_random_bytes(&s->reg.gen, sizeof(s->reg.gen));
    sc_arena_init(&s->arena, 256 * 1024);
    init_conn_host(s);
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
    sc_access_settings as = sc_config_access(cfg);
    int r = sc_access_init(&s->access, &as);
    if (r < 0)
        return r;
    r = setup_fd_limit(s);
    if (r < 0)
        return r;
    r = open_listener(s);
    if (r < 0)
        return r;
    /* opened early, so it is a low fd: under a limit lowered at run time it
     * is still one accept can reuse */
    s->reserve_fd = open_reserve();
    if (s->reserve_fd < 0)
        sc_warn("cannot open a reserve fd (/dev/null): %s; when out of file descriptors, "
                "waiting clients are not told why",
                strerror(errno));
    s->cluster = sc_cluster_new(s);
    if (!s->cluster && cfg->redis_url && cfg->redis_url[0])
        return -EINVAL; /* it said why; never fall back to standalone quietly */
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
    ev_timer_stop(s->loop, &s->accept_retry);
    if (s->reserve_fd >= 0)
        close(s->reserve_fd);
    s->reserve_fd = -1;
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
