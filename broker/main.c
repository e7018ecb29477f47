/* sidecastd: parse the configuration, then run the server (with its HTTP
 * endpoint, systemd notifications and SIGHUP reloads) until a signal.
 *
 * It owns the process: the event loop, the configuration, the copy of argv
 * that SIGHUP re-reads, and the wiring of notify's status callback to the
 * server. It calls only the entry points of config, credentials, log,
 * server, http, notify and reload: the cluster and the app connections are
 * the server's to start and stop. */
#include "config.h"
#include "credentials.h"
#include "http.h"
#include "log.h"
#include "notify.h"
#include "reload.h"
#include "server.h"

#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>

/* fds open when the server counts them: stdio and the event loop's */
#define FDS_AT_START 6

/* --check-config: what the fd limit the daemon would run with (the hard
 * limit: it raises the soft one to it) does to max_connections. 0, or -1
 * when it cannot serve one app connection (the daemon would not start). */
static int check_fd_limit(const sc_config *cfg)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max == RLIM_INFINITY)
        return 0;
    unsigned long long limit = (unsigned long long)rl.rlim_max;
    uint64_t cap = sc_server_fd_capacity(cfg, limit, FDS_AT_START);
    if (cap == 0) {
        printf("error: the limit of %llu open files (LimitNOFILE, ulimit -n) cannot serve one app "
               "connection with http_max_connections %llu; raise it\n",
               limit, (unsigned long long)cfg->http_max_connections);
        return -1;
    }
    if (cap < cfg->max_connections)
        printf("warning: max_connections %llu is more than the limit of %llu open files "
               "(LimitNOFILE, ulimit -n) can serve; sidecastd will clamp it to about %llu\n",
               (unsigned long long)cfg->max_connections, limit, (unsigned long long)cap);
    return 0;
}

/* systemd's STATUS line, for notify (which knows nothing of the server). */
static void status_line(const void *srv, char *out, size_t len)
{
    sc_server_status_line(srv, out, len);
}

int main(int argc, char **argv)
{
    sc_config cfg;
    sc_command cmd;
    if (sc_config_load(&cfg, argc, argv, &cmd, stderr) < 0) {
        sc_config_free(&cfg);
        return 1;
    }
    if (cmd == SC_CMD_EXIT_OK) {
        sc_config_free(&cfg);
        return 0;
    }
    if (cmd == SC_CMD_CHECK) {
        int bad = check_fd_limit(&cfg);
        if (!bad)
            printf("configuration OK\n");
        sc_config_free(&cfg);
        return bad ? 1 : 0;
    }
    sc_log_set_level(cfg.log_level);
    /* SIGHUP re-reads the flags: from a copy, since argv itself is scrubbed */
    char **flags = sc_credentials_argv_copy(argc, argv);
    if (sc_credentials_scrub_argv(argc, argv))
        sc_warn("the Redis password was given in --redis-url on the command line, where ps and "
                "/proc show it (masked now); use redis_password_file or LoadCredential= instead");
    signal(SIGPIPE, SIG_IGN);
    struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
    if (!loop) {
        sc_error("cannot initialise the event loop");
        sc_config_free(&cfg);
        sc_credentials_argv_free(flags);
        return 2;
    }
    sc_server srv;
    int rc = 2;
    if (sc_server_init(&srv, loop, &cfg) == 0 && sc_http_new(&srv, &srv.http) == 0) {
        sc_notify_setup_logging(srv.node_name);
        sc_notify_init(loop, status_line, &srv);
        sc_reload_init(&srv, &cfg, argc, flags);
        sc_notify_ready();
        rc = sc_server_run(&srv);
        sc_reload_free();
        sc_notify_free();
        sc_http_free(srv.http);
        srv.http = NULL;
    } else {
        sc_server_cleanup(&srv);
    }
    ev_loop_destroy(loop);
    sc_config_free(&cfg);
    sc_credentials_argv_free(flags);
    return rc;
}
