/* reload: the SIGHUP handler (a libev signal watcher, so it runs between
 * events like any other callback) and the list of settings that may change
 * at run time: those the daemon reads each time it uses them. Socket paths,
 * addresses, Redis and cluster timings are bound at startup and need a
 * restart. See reload.h for what it may not touch. */
#include "reload.h"
#include "cluster.h"
#include "log.h"
#include "notify.h"
#include "state.h"
#include "stats.h"
#include "util.h"

#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const reloadable[] = {
    "log_level",
    "output_buffer_soft",
    "output_buffer_hard",
    "max_connections",
    "max_frame_bytes",
    "shutdown_timeout_ms",
    "request_timeout_ms",
    "max_pending_requests",
    "session_data_max_bytes",
    "session_data_max_keys",
    "http_max_request_bytes",
    "http_max_connections",
    "http_request_timeout_ms",
    "dircache_ttl_ms",
    "dircache_max_entries",
    "redis_reply_defer_ms",
    "frame_timeout_ms",
    "max_client_memory",
};

static struct {
    sc_server *srv;
    sc_config *live;
    int argc;
    char **argv;
    ev_signal sighup;
    bool started;
} st;

bool sc_reload_is_reloadable(const char *name)
{
    for (size_t i = 0; i < SC_ARRAY_LEN(reloadable); i++)
        if (strcmp(reloadable[i], name) == 0)
            return true;
    return false;
}

int sc_reload_apply(sc_config *live, const sc_config *next)
{
    char restart[1024] = "";
    size_t rlen = 0;
    int applied = 0;
    for (size_t i = 0; i < sc_config_count(); i++) {
        char a[1100], b[1100];
        sc_config_format(live, i, a, sizeof(a));
        sc_config_format(next, i, b, sizeof(b));
        if (strcmp(a, b) == 0)
            continue;
        const char *name = sc_config_name(i);
        if (!sc_reload_is_reloadable(name)) {
            int n =
                snprintf(restart + rlen, sizeof(restart) - rlen, "%s%s", rlen ? ", " : "", name);
            if (n > 0 && (size_t)n < sizeof(restart) - rlen)
                rlen += (size_t)n;
            continue;
        }
        sc_config_copy(live, next, i);
        sc_info("reload: %s changed from %s to %s", name, a, b);
        applied++;
    }
    sc_log_set_level(live->log_level);
    if (rlen)
        sc_warn("reload: changed settings need a restart to take effect (still running with "
                "the old values): %s",
                restart);
    if (!applied && !rlen)
        sc_info("reload: configuration unchanged");
    return applied;
}

/* Errors of the new configuration, one log line each. */
static void log_errors(char *text)
{
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save))
        sc_error("reload: %s", line);
}

static void on_sighup(struct ev_loop *loop, ev_signal *w, int revents)
{
    sc_info("received SIGHUP: reloading the configuration");
    sc_notify_reloading();
    char *errs = NULL;
    size_t errlen = 0;
    FILE *err = open_memstream(&errs, &errlen);
    sc_config next;
    sc_command cmd;
    int r = sc_config_load(&next, st.argc, st.argv, &cmd, err ? err : stderr);
    if (err)
        fclose(err);
    if (r < 0) {
        SC_COUNT(config_reload_errors);
        if (errs)
            log_errors(errs);
        sc_error("reload: configuration rejected; still running with the previous one");
        sc_notify_ready();
        sc_notify_status_text("reload failed (bad configuration, see the log); running with "
                              "the previous configuration");
    } else {
        sc_reload_apply(st.live, &next);
        /* certificates may be renewed in place: read them again */
        sc_cluster_reload_tls(st.srv->cluster);
        SC_COUNT(config_reloads);
        sc_notify_ready();
    }
    free(errs);
    sc_config_free(&next);
}

void sc_reload_init(sc_server *srv, sc_config *live, int argc, char **argv)
{
    st.srv = srv;
    st.live = live;
    st.argc = argc;
    st.argv = argv;
    ev_signal_init(&st.sighup, on_sighup, SIGHUP);
    ev_signal_start(srv->loop, &st.sighup);
    st.started = true;
}

void sc_reload_free(void)
{
    if (!st.started)
        return;
    ev_signal_stop(st.srv->loop, &st.sighup);
    st.started = false;
}
