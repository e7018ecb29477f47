/* access: who may talk to sidecastd. The socket file's owner, group and
 * mode (when the daemon creates the file itself; a socket passed in by
 * systemd keeps SocketUser/SocketGroup/SocketMode), and an optional
 * allow-list of peer uids and gids checked with SO_PEERCRED (and
 * SO_PEERGROUPS) when a connection is accepted.
 *
 * It owns the resolved lists (sc_access) and nothing else. It reads no
 * sc_config (the config hands it sc_access_settings) and includes nothing
 * of the daemon but log and util: accepting, refusing and closing a
 * connection are the server's. */
#ifndef SC_ACCESS_H
#define SC_ACCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* The settings access uses, as the config holds them (sc_config_access):
 * access reads no sc_config, so the config can check them through it. */
typedef struct sc_access_settings {
    const char *allow_uids, *allow_gids; /* comma lists of names or numbers */
    const char *socket_user, *socket_group;
    bool socket_group_set; /* socket_group given, not the default */
    uint32_t socket_mode;
} sc_access_settings;

typedef struct sc_access {
    uid_t *uids;
    size_t n_uids;
    gid_t *gids;
    size_t n_gids;
} sc_access;

/* Check the access settings (lists parse, names resolve, an explicitly
 * configured socket_user/socket_group exists). Problems go to err; returns
 * 0 or -EINVAL. Used by --check-config. */
int sc_access_check_config(const sc_access_settings *cfg, FILE *err);

/* Resolve the allow-lists into a (zeroed) a. Returns 0 or -EINVAL (logged). */
int sc_access_init(sc_access *a, const sc_access_settings *cfg);
void sc_access_free(sc_access *a);

/* Give the socket file at path its configured owner, group and mode. Only
 * for a socket file this daemon created. Returns 0 or a negative errno
 * (logged). */
int sc_access_own_socket(const char *path, const sc_access_settings *cfg);

/* True if the peer on fd may connect: no allow-list is set, or its uid is in
 * allow_uids, or its gid or one of its supplementary groups is in
 * allow_gids. Root and the daemon's own uid are always allowed. Fills the
 * peer's credentials for the log. */
bool sc_access_peer_allowed(const sc_access *a, int fd, pid_t *ret_pid, uid_t *ret_uid,
                            gid_t *ret_gid);

#endif
