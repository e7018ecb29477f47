/* config: every setting in one table (name, type, default, range, help), read
 * from an INI file (libinih) and then from command-line flags, which win.
 * `[section] key` in the file is the same setting as `section_key`, and as the
 * flag `--section-key`. Errors name the file and line, or the flag.
 *
 * It owns sc_config and the option table, and applies nothing: each module
 * reads its settings when it uses them, and reload.c copies those that may
 * change at run time. Besides core/ (log, util) it calls only access,
 * credentials, redis's URL parser and redis_tls (to load the TLS files), so a
 * value is checked (the password read) by the code that uses it; it may not start anything: no listener,
 * connection or Redis. */
#ifndef SC_CONFIG_H
#define SC_CONFIG_H

#include "access.h"
#include "redis_tls.h"
#include "log.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

typedef struct sc_config {
    char *socket_path;
    uint32_t socket_mode;
    uint64_t max_frame_bytes;
    uint64_t output_buffer_soft;
    uint64_t output_buffer_hard;
    uint64_t max_connections;
    uint64_t shutdown_timeout_ms;
    sc_log_level log_level;
    char *node_name;
    /* cluster (all unused when redis_url is empty: standalone) */
    char *redis_url;
    char *redis_tls_ca_file; /* rediss:// (redis_tls.c) */
    char *redis_tls_ca_dir;
    char *redis_tls_cert_file;
    char *redis_tls_key_file;
    char *redis_tls_server_name;
    char *redis_tls_verify; /* full, ca or none */
    char *redis_prefix;
    uint64_t redis_connect_timeout_ms;
    uint64_t redis_command_timeout_ms;
    uint64_t redis_reconnect_min_ms;
    uint64_t redis_reconnect_max_ms;
    uint64_t heartbeat_ms;
    uint64_t node_ttl_ms;
    uint64_t canary_interval_ms;
    uint64_t redis_reply_defer_ms; /* quiet replies may wait unread this long */
    uint64_t outbox_max_bytes;
    uint64_t request_timeout_ms;
    uint64_t max_pending_requests;
    uint64_t room_linger_ms;
    uint64_t private_rooms;        /* 1: this node routes private rooms (cluster_subs.c) */
    uint64_t dircache_ttl_ms;      /* directory cache entry lifetime; 0: no cache */
    uint64_t dircache_max_entries; /* directory cache bound; 0: no cache */
    /* sessions */
    char *advertise_address;
    uint64_t session_grace_ms;
    uint64_t session_data_max_bytes;
    uint64_t session_data_max_keys;
    /* operations endpoint (http.c) */
    char *http_listen;
    uint64_t http_max_request_bytes;
    uint64_t http_max_connections;
    uint64_t http_request_timeout_ms;
    /* access control (access.c) */
    char *socket_user;
    char *socket_group;
    bool socket_group_set; /* given in the file or a flag, not the default */
    char *allow_uids;
    char *allow_gids;
    /* credentials (credentials.c): the password read from redis_password_file
     * or $CREDENTIALS_DIRECTORY/redis-password; not a setting, never printed */
    char *redis_password_file;
    char *redis_password;
    char *redis_sentinel_user; /* redis+sentinel:// (redis_sentinel.c) */
    char *redis_sentinel_password_file;
    char *redis_sentinel_password; /* read like redis_password; never printed */
    /* limits on what one app connection may ask for */
    uint64_t max_payload_bytes;
    uint64_t max_sockets_per_connection;
    uint64_t max_rooms_per_socket;
    uint64_t max_name_bytes;
    uint64_t max_socket_data_bytes;
    uint64_t max_pending_per_connection;
    /* bounds across app connections (conn.c) */
    uint64_t frame_timeout_ms;  /* a frame begun must be whole within this; 0: off */
    uint64_t max_client_memory; /* input + output buffers of all app connections; 0: off */
} sc_config;

typedef enum { SC_CMD_RUN, SC_CMD_EXIT_OK, SC_CMD_CHECK } sc_command;

/* Parse argv (and the file named by --config). On success fills *cfg and
 * *cmd and returns 0; for --help/--version prints and sets SC_CMD_EXIT_OK.
 * On error prints every problem to `err` and returns -EINVAL. */
int sc_config_load(sc_config *cfg, int argc, char **argv, sc_command *cmd, FILE *err);

/* Parse only the INI file over the values already in cfg (call
 * sc_config_defaults first). For tests and fuzzing. Every bad line is
 * reported as file:line, a key given twice too (naming both lines).
 * Returns 0, -ENOENT (cannot open), -EISDIR (path is a directory) or
 * -EINVAL. */
int sc_config_load_file(sc_config *cfg, const char *path, FILE *err);

void sc_config_defaults(sc_config *cfg);
/* Cross-setting checks (soft <= hard, ...). Returns 0 or -EINVAL. */
int sc_config_validate(const sc_config *cfg, FILE *err);
void sc_config_free(sc_config *cfg);
/* For reloads: the settings by index (0 .. count-1), each value formatted
 * as in a config file, and copying one setting's value from src to dst. */
size_t sc_config_count(void);
const char *sc_config_name(size_t i);
void sc_config_format(const sc_config *cfg, size_t i, char *out, size_t len);
void sc_config_copy(sc_config *dst, const sc_config *src, size_t i);
/* Print every setting as a commented INI file (the reference). */
void sc_config_print_reference(FILE *out);

/* The settings access.c uses (it reads no sc_config). */
sc_access_settings sc_config_access(const sc_config *cfg);
/* The redis_tls_* settings, for redis_tls.c (which reads no sc_config);
 * the strings are borrowed from cfg. */
sc_tls_opts sc_config_tls(const sc_config *cfg);

/* http_listen's form (http.c listens on it). */
/* Parse "host:port" or "[v6addr]:port" (port 0: any free port). Returns 0
 * and the address, or -EINVAL with what was expected in why. */
int sc_config_parse_listen(const char *spec, struct sockaddr_storage *ret, socklen_t *ret_len,
                           char *why, size_t whylen);

#endif
