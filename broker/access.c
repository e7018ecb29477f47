/* access: socket ownership and the peer allow-list. Lists are "a,b,c" of
 * numbers or names, resolved once at startup (getpwnam/getgrnam), so the
 * accept path is a short array scan with no NSS lookups. See access.h for
 * what it owns and may not touch. */
#include "access.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PEER_GROUPS 256

/* A user or group name or number; -ENOENT if no such name. */
static int resolve_id(const char *s, bool group, unsigned long *ret)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*s && !*end && !errno && v < 0xffffffffUL) {
        *ret = v;
        return 0;
    }
    if (group) {
        const struct group *g = getgrnam(s);
        if (!g)
            return -ENOENT;
        *ret = g->gr_gid;
    } else {
        const struct passwd *p = getpwnam(s);
        if (!p)
            return -ENOENT;
        *ret = p->pw_uid;
    }
    return 0;
}

/* Parse "a, b,c" into a fresh array (NULL when the list is empty). */
static int parse_list(const char *key, const char *list, bool group, unsigned long **ret,
                      size_t *ret_n, FILE *err)
{
    *ret = NULL;
    *ret_n = 0;
    if (!list || !list[0])
        return 0;
    char *copy = sc_xstrdup(list), *save = NULL;
    int rc = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ' || *t == '\t')
            t++;
        for (char *e = t + strlen(t); e > t && (e[-1] == ' ' || e[-1] == '\t');)
            *--e = '\0';
        unsigned long v;
        if (!*t || resolve_id(t, group, &v) < 0) {
            fprintf(err, "%s: '%s' is not a %s name or number\n", key, t, group ? "group" : "user");
            rc = -EINVAL;
            continue;
        }
        *ret = sc_xrealloc(*ret, (*ret_n + 1) * sizeof(**ret));
        (*ret)[(*ret_n)++] = v;
    }
    free(copy);
    if (rc < 0) {
        free(*ret);
        *ret = NULL;
        *ret_n = 0;
    }
    return rc;
}

int sc_access_check_config(const sc_access_settings *cfg, FILE *err)
{
    unsigned long *ids, v;
    size_t n;
    int bad = 0;
    if (parse_list("allow_uids", cfg->allow_uids, false, &ids, &n, err) < 0)
        bad = 1;
    free(ids);
    if (parse_list("allow_gids", cfg->allow_gids, true, &ids, &n, err) < 0)
        bad = 1;
    free(ids);
    if (cfg->socket_user && cfg->socket_user[0] && resolve_id(cfg->socket_user, false, &v) < 0) {
        fprintf(err, "socket_user: no user '%s' on this system\n", cfg->socket_user);
        bad = 1;
    }
    if (cfg->socket_group_set && cfg->socket_group && cfg->socket_group[0] &&
        resolve_id(cfg->socket_group, true, &v) < 0) {
        fprintf(err, "socket_group: no group '%s' on this system\n", cfg->socket_group);
        bad = 1;
    }
    return bad ? -EINVAL : 0;
}

int sc_access_init(sc_access *a, const sc_access_settings *cfg)
{
    memset(a, 0, sizeof(*a));
    unsigned long *u = NULL, *g = NULL;
    size_t nu = 0, ng = 0;
    if (parse_list("allow_uids", cfg->allow_uids, false, &u, &nu, stderr) < 0 ||
        parse_list("allow_gids", cfg->allow_gids, true, &g, &ng, stderr) < 0) {
        free(u);
        return -EINVAL;
    }
    a->uids = nu ? sc_xmalloc(nu * sizeof(uid_t)) : NULL;
    a->gids = ng ? sc_xmalloc(ng * sizeof(gid_t)) : NULL;
    for (size_t i = 0; i < nu; i++)
        a->uids[a->n_uids++] = (uid_t)u[i];
    for (size_t i = 0; i < ng; i++)
        a->gids[a->n_gids++] = (gid_t)g[i];
    free(u);
    free(g);
    if (nu || ng)
        sc_info("peer allow-list: %zu uid(s), %zu gid(s) (allow_uids '%s', allow_gids '%s')", nu,
                ng, cfg->allow_uids, cfg->allow_gids);
    return 0;
}

void sc_access_free(sc_access *a)
{
    if (!a)
        return;
    free(a->uids);
    free(a->gids);
    memset(a, 0, sizeof(*a));
}

int sc_access_own_socket(const char *path, const sc_access_settings *cfg)
{
    unsigned long v;
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    if (cfg->socket_user && cfg->socket_user[0]) {
        if (resolve_id(cfg->socket_user, false, &v) < 0) {
            sc_error("socket_user: no user '%s' on this system", cfg->socket_user);
            return -ENOENT;
        }
        uid = (uid_t)v;
    }
    if (cfg->socket_group && cfg->socket_group[0]) {
        if (resolve_id(cfg->socket_group, true, &v) == 0)
            gid = (gid_t)v;
        else if (cfg->socket_group_set) {
            sc_error("socket_group: no group '%s' on this system", cfg->socket_group);
            return -ENOENT;
        } else
            sc_info("socket group '%s' does not exist; %s keeps the daemon's group %u",
                    cfg->socket_group, path, (unsigned)getegid());
    }
    if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) < 0) {
        int e = errno;
        sc_error("cannot give %s owner '%s' group '%s': %s (the daemon needs to be root, or a "
                 "member of the group)",
                 path, cfg->socket_user, cfg->socket_group, strerror(e));
        return -e;
    }
    if (chmod(path, cfg->socket_mode) < 0) {
        int e = errno;
        sc_error("cannot set mode %04o on %s: %s", (unsigned)cfg->socket_mode, path, strerror(e));
        return -e;
    }
    return 0;
}

static bool has_gid(const sc_access *a, gid_t g)
{
    for (size_t i = 0; i < a->n_gids; i++)
        if (a->gids[i] == g)
            return true;
    return false;
}

bool sc_access_peer_allowed(const sc_access *a, int fd, pid_t *ret_pid, uid_t *ret_uid,
                            gid_t *ret_gid)
{
    struct ucred cr = {.pid = -1, .uid = (uid_t)-1, .gid = (gid_t)-1};
    socklen_t len = sizeof(cr);
    bool known = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0;
    *ret_pid = cr.pid;
    *ret_uid = cr.uid;
    *ret_gid = cr.gid;
    if (a->n_uids == 0 && a->n_gids == 0)
        return true;
    if (!known)
        return false;
    if (cr.uid == 0 || cr.uid == geteuid())
        return true;
    for (size_t i = 0; i < a->n_uids; i++)
        if (a->uids[i] == cr.uid)
            return true;
    if (has_gid(a, cr.gid))
        return true;
    gid_t groups[MAX_PEER_GROUPS];
    len = sizeof(groups);
    if (a->n_gids && getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
        for (size_t i = 0; i < len / sizeof(gid_t); i++)
            if (has_gid(a, groups[i]))
                return true;
    return false;
}
