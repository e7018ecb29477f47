/* notify: every call into libsystemd, in one place (Knot DNS' systemd.c):
 * sd_notify (READY, STATUS, RELOADING, STOPPING, WATCHDOG), socket
 * activation (sd_listen_fds) and logging to the journal. Outside systemd
 * (no NOTIFY_SOCKET, no LISTEN_FDS, stderr not the journal) each of them
 * does nothing and the daemon behaves as before.
 *
 * It owns the watchdog and STATUS timers and the journal sink. It includes
 * nothing of the daemon but log and util: the server's STATUS line comes
 * through the callback main.c gives sc_notify_init. */
#ifndef SC_NOTIFY_H
#define SC_NOTIFY_H

#include <stdbool.h>

#include <ev.h>
#include <stddef.h>

/* Writes the STATUS line ("serving 3 app connections, ...") into out. */
typedef void (*sc_notify_status_fn)(const void *ud, char *out, size_t len);

/* Start the watchdog pings (WATCHDOG=1 from a loop timer at half of
 * WATCHDOG_USEC, when sd_watchdog_enabled says so) and the periodic STATUS
 * update (status(ud, ...) every second; sent only when the line changed). */
void sc_notify_init(struct ev_loop *loop, sc_notify_status_fn status, const void *ud);
/* Stop the timers. Safe without init. */
void sc_notify_free(void);

/* READY=1 with a fresh STATUS line: after the app socket listens and Redis
 * (if configured) is connected or being retried; again after a reload. */
void sc_notify_ready(void);
/* RELOADING=1 (with MONOTONIC_USEC) when a SIGHUP reload begins. */
void sc_notify_reloading(void);
/* STOPPING=1 when the SIGTERM drain begins. */
void sc_notify_stopping(void);
/* Send the STATUS line now if it changed ("serving 3 app connections, ..."). */
void sc_notify_status(void);
/* Send a STATUS line of your own (for events: "reload failed: ..."). */
void sc_notify_status_text(const char *text);

/* Socket activation: take the listening socket systemd passed. Returns 1
 * and *ret_fd (non-blocking) when there is one, 0 when the daemon was not
 * socket-activated, or -EINVAL (logged) when systemd passed more than one
 * fd or one that is not a listening AF_UNIX SOCK_STREAM socket. */
int sc_notify_listen_fd(int *ret_fd);

/* When stderr is the journal (JOURNAL_STREAM matches stderr's device and
 * inode), route log lines to sd_journal_sendv with PRIORITY= and SIDECAST_*
 * fields; otherwise leave stderr logging alone. Call once at startup. */
void sc_notify_setup_logging(const char *node_name);

#endif
