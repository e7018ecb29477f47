/* credentials: the Redis password kept out of command lines, logs and
 * replies. It comes from redis_password_file, or from systemd's
 * LoadCredential= ($CREDENTIALS_DIRECTORY/redis-password), or - still
 * accepted, with a warning when given as a flag - from redis_url.
 *
 * It owns the password's handling: reading it, wiping it, scrubbing it from
 * argv. It reads no sc_config (the config hands it the file name and keeps
 * the result), knows Redis only as the sc_redis_url it fills in (redis_url.h),
 * connects to nothing and logs nothing: its errors go to the FILE given. */
#ifndef SC_CREDENTIALS_H
#define SC_CREDENTIALS_H

#include <stdbool.h>
#include <stdio.h>

struct sc_redis_url;

/* Read the password file named by cfg->redis_password_file, or else
 * $CREDENTIALS_DIRECTORY/redis-password if it exists, into
 * cfg->redis_password (owned by cfg; sc_config_free wipes it). No file
 * configured and none passed by systemd: 0 and nothing set. A configured
 * file that cannot be read, or is empty: -EINVAL with the reason on err. */
int sc_credentials_load(const char *password_file, char **password, FILE *err);

/* The same for another password: `file`, or else
 * $CREDENTIALS_DIRECTORY/<credential>; errors name `setting`. */
int sc_credentials_load_named(const char *setting, const char *file, const char *credential,
                              char **password, FILE *err);

/* Put cfg's password (if any) into u, replacing one parsed from the URL. */
void sc_credentials_apply(const char *password, struct sc_redis_url *u);

/* Overwrite, in place, the password of every --redis-url value in argv with
 * '*', so that ps and /proc/PID/cmdline no longer show it. Returns true if
 * there was one (the caller warns: it was visible until now). */
bool sc_credentials_scrub_argv(int argc, char **argv);

/* A deep copy of argv (argc strings and a NULL), made before scrubbing, for
 * re-reading the flags on SIGHUP. Free with sc_credentials_argv_free. */
char **sc_credentials_argv_copy(int argc, char *const *argv);
/* Zero and free a copy from sc_credentials_argv_copy. NULL-safe. */
void sc_credentials_argv_free(char **copy);

/* Zero and free *p, then set it to NULL. NULL-safe. */
void sc_credentials_wipe(char **p);

#endif
