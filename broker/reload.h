/* reload: SIGHUP re-reads the configuration (the --config file, then the
 * same flags, which still win) and applies the settings that can change
 * while running. A bad file keeps the running configuration.
 *
 * It owns the SIGHUP watcher and the list of reloadable settings. It calls
 * only config, notify and log, changes only the live sc_config (and the log
 * level), and reads nothing of the server but its loop: the modules see a
 * new value the next time they read it. */
#ifndef SC_RELOAD_H
#define SC_RELOAD_H

#include "config.h"

#include <stdbool.h>

struct sc_server;

/* Watch SIGHUP on srv's loop. `live` is the configuration srv runs with
 * (changed in place on reload); argv must outlive the watcher. */
void sc_reload_init(struct sc_server *srv, sc_config *live, int argc, char **argv);
void sc_reload_free(void);

/* Apply `next` over `live`: copies every changed setting that can be
 * reloaded, logs one line per change and one line naming the changed
 * settings that need a restart. Returns how many settings were applied. */
int sc_reload_apply(sc_config *live, const sc_config *next);
/* True for settings sc_reload_apply copies. */
bool sc_reload_is_reloadable(const char *name);

#endif
