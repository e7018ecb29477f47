/* sidecastd: parse the configuration, then run the server until a signal. */
#include "config.h"
#include "credentials.h"
#include "log.h"
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
    if (sc_credentials_scrub_argv(argc, argv))
        sc_warn("the Redis password was given in --redis-url on the command line, where ps and "
                "/proc show it (masked now); use redis_password_file or LoadCredential= instead");
    signal(SIGPIPE, SIG_IGN);
    struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
    if (!loop) {
        sc_error("cannot initialise the event loop");
        sc_config_free(&cfg);
        return 2;
    }
    sc_server srv;
    int rc = 2;
    if (sc_server_init(&srv, loop, &cfg) == 0)
        rc = sc_server_run(&srv);
    else
        sc_server_cleanup(&srv);
    ev_loop_destroy(loop);
    sc_config_free(&cfg);
    return rc;
}
