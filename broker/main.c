/* sidecastd: parse the configuration, then run the server (with its HTTP
 * endpoint, systemd notifications and SIGHUP reloads) until a signal. */
#include "config.h"
#include "http.h"
#include "log.h"
#include "notify.h"
#include "reload.h"
#include "server.h"

#include <signal.h>
#include <stdio.h>

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
        printf("configuration OK\n");
        sc_config_free(&cfg);
        return 0;
    }
    sc_log_set_level(cfg.log_level);
    signal(SIGPIPE, SIG_IGN);
    struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
    if (!loop) {
        sc_error("cannot initialise the event loop");
        sc_config_free(&cfg);
        return 2;
    }
    sc_server srv;
    int rc = 2;
    if (sc_server_init(&srv, loop, &cfg) == 0 && sc_http_new(&srv, &srv.http) == 0) {
        sc_notify_setup_logging(srv.node_name);
        sc_notify_init(&srv);
        sc_reload_init(&srv, &cfg, argc, argv);
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
    return rc;
}
