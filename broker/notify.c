/* notify: the daemon's side of systemd.
 *
 * The watchdog is pinged from a timer in the event loop, never from a
 * thread: a loop that stops turning stops the pings and systemd restarts
 * the service. The STATUS line is rebuilt every second (by the callback the
 * daemon gave: notify knows nothing of the server) and sent only when it
 * changed, so a busy node costs at most one datagram a second. */
#include "notify.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

static struct {
    struct ev_loop *loop;
    sc_notify_status_fn status_fn;
    const void *status_ud;
    ev_timer watchdog, status;
    bool started;
    char last[256];
    char node[128];
} st;

static void status_line(char *out, size_t len)
{
    if (!st.status_fn) {
        snprintf(out, len, "starting");
        return;
    }
    st.status_fn(st.status_ud, out, len);
}

void sc_notify_status(void)
{
    char line[256];
    status_line(line, sizeof(line));
    if (strcmp(line, st.last) == 0)
        return;
    snprintf(st.last, sizeof(st.last), "%s", line);
    sd_notifyf(0, "STATUS=%s", line);
}

void sc_notify_status_text(const char *text)
{
    snprintf(st.last, sizeof(st.last), "%s", text);
    sd_notifyf(0, "STATUS=%s", text);
}

static void on_watchdog(struct ev_loop *loop, ev_timer *w, int revents)
{
    sd_notify(0, "WATCHDOG=1");
}

static void on_status(struct ev_loop *loop, ev_timer *w, int revents)
{
    sc_notify_status();
}

void sc_notify_init(struct ev_loop *loop, sc_notify_status_fn status, const void *ud)
{
    st.loop = loop;
    st.status_fn = status;
    st.status_ud = ud;
    uint64_t usec = 0;
    ev_timer_init(&st.status, on_status, 1.0, 1.0);
    ev_timer_init(&st.watchdog, on_watchdog, 0, 0);
    if (getenv("NOTIFY_SOCKET"))
        ev_timer_start(loop, &st.status);
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        double half = (double)usec / 2e6;
        ev_timer_set(&st.watchdog, half, half);
        ev_timer_start(loop, &st.watchdog);
        sc_info("systemd watchdog enabled: pinging every %.3f s (WATCHDOG_USEC %" PRIu64 ")", half,
                usec);
    }
    st.started = true;
}

void sc_notify_free(void)
{
    if (!st.started)
        return;
    ev_timer_stop(st.loop, &st.watchdog);
    ev_timer_stop(st.loop, &st.status);
    st.started = false;
    st.status_fn = NULL;
}

void sc_notify_ready(void)
{
    char line[256];
    status_line(line, sizeof(line));
    snprintf(st.last, sizeof(st.last), "%s", line);
    sd_notifyf(0, "READY=1\nSTATUS=%s", line);
}

void sc_notify_reloading(void)
{
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64 "\nSTATUS=reloading configuration",
               sc_now_us());
}

void sc_notify_stopping(void)
{
    sd_notify(0, "STOPPING=1\nSTATUS=stopping: draining app connections");
}

/* ---- socket activation ------------------------------------------------------ */

int sc_notify_listen_fd(int *ret_fd)
{
    int n = sd_listen_fds(1);
    if (n == 0)
        return 0;
    if (n < 0) {
        sc_error("socket activation: cannot read the sockets systemd passed: %s", strerror(-n));
        return -EINVAL;
    }
    if (n > 1) {
        sc_error("socket activation: systemd passed %d sockets, sidecastd takes exactly one "
                 "(one ListenStream= in sidecast.socket)",
                 n);
        return -EINVAL;
    }
    int fd = SD_LISTEN_FDS_START;
    if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
        sc_error("socket activation: fd %d is not a listening AF_UNIX SOCK_STREAM socket "
                 "(ListenStream= must be a path)",
                 fd);
        return -EINVAL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        sc_error("socket activation: cannot make fd %d non-blocking: %s", fd, strerror(errno));
        return -errno;
    }
    *ret_fd = fd;
    return 1;
}

/* ---- journal ------------------------------------------------------------------ */

static int journal_priority(sc_log_level l)
{
    switch (l) {
    case SC_LOG_ERROR: return 3;
    case SC_LOG_WARN: return 4;
    case SC_LOG_INFO: return 6;
    case SC_LOG_DEBUG: return 7;
    }
    return 6;
}

/* "conn 12 (...)" anywhere in the line becomes SIDECAST_CONN=12. */
static bool conn_of(const char *msg, char *out, size_t len)
{
    const char *p = strstr(msg, "conn ");
    if (!p || p[5] < '0' || p[5] > '9')
        return false;
    size_t n = strspn(p + 5, "0123456789");
    snprintf(out, len, "SIDECAST_CONN=%.*s", (int)SC_MIN(n, 20), p + 5);
    return true;
}

static int journal_sink(sc_log_level l, const char *msg)
{
    char m[2100], prio[16], level[32], node[160], conn[40];
    struct iovec iov[6];
    int n = 0;
#define ADD(buf, ...)                                                                              \
    do {                                                                                           \
        int len_ = snprintf(buf, sizeof(buf), __VA_ARGS__);                                        \
        iov[n].iov_base = buf;                                                                     \
        iov[n++].iov_len = (size_t)SC_MIN((size_t)len_, sizeof(buf) - 1);                          \
    } while (0)
    ADD(m, "MESSAGE=%s", msg);
    ADD(prio, "PRIORITY=%d", journal_priority(l));
    ADD(level, "SIDECAST_LEVEL=%s", sc_log_level_name(l));
    ADD(node, "SIDECAST_NODE=%s", st.node);
    iov[n].iov_base = (void *)"SYSLOG_IDENTIFIER=sidecastd";
    iov[n++].iov_len = strlen("SYSLOG_IDENTIFIER=sidecastd");
    if (conn_of(msg, conn, sizeof(conn))) {
        iov[n].iov_base = conn;
        iov[n++].iov_len = strlen(conn);
    }
#undef ADD
    return sd_journal_sendv(iov, n) < 0 ? -1 : 0; /* on failure: stderr */
}

void sc_notify_setup_logging(const char *node_name)
{
    snprintf(st.node, sizeof(st.node), "%s", node_name ? node_name : "");
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat sb;
    if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &sb) < 0)
        return;
    if ((unsigned long long)sb.st_dev != dev || (unsigned long long)sb.st_ino != ino)
        return;
    /* sd_journal_sendv reports success when journald is absent (lines
     * would vanish): stay on stderr then */
    if (access("/run/systemd/journal/socket", W_OK) < 0) {
        sc_info("stderr is the journal stream %s, but /run/systemd/journal/socket is not "
                "there: logging to stderr",
                js);
        return;
    }
    sc_log_set_sink(journal_sink);
    sc_debug("logging to the journal (stderr is the journal stream %s)", js);
}
