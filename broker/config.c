/* config: the option table drives the INI reader, the flag parser, --help and
 * the reference file, so a setting is declared exactly once. See config.h
 * for what it owns and may not touch. */
#include "config.h"
#include "access.h"
#include "credentials.h"
#include "redis_tls.h"
#include "redis_url.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef SC_VERSION
#define SC_VERSION "0.0.0"
#endif

typedef enum { T_STRING, T_UINT, T_SIZE, T_MODE, T_LOGLEVEL } opt_type;

typedef struct option_def {
    const char *name;
    opt_type type;
    size_t offset;
    const char *def;
    uint64_t min, max;
    const char *help;
} option_def;

#define OFF(f) offsetof(sc_config, f)
#define KIB 1024ull
#define MIB (1024ull * 1024ull)

static const option_def options[] = {
    {"socket", T_STRING, OFF(socket_path), "/run/sidecast/sidecast.sock", 0, 107,
     "Unix socket path apps connect to"},
    {"socket_mode", T_MODE, OFF(socket_mode), "0660", 0, 0777,
     "file mode of the socket (octal); apps need write permission"},
    {"max_frame_bytes", T_SIZE, OFF(max_frame_bytes), "17m", 64, 64 * MIB,
     "largest frame accepted from an app; larger ones close the connection"},
    {"output_buffer_soft", T_SIZE, OFF(output_buffer_soft), "4m", 4 * KIB, 4096 * MIB,
     "unsent bytes for one app above which volatile messages are dropped"},
    {"output_buffer_hard", T_SIZE, OFF(output_buffer_hard), "64m", 4 * KIB, 4096 * MIB,
     "unsent bytes for one app above which it is disconnected as a slow reader"},
    {"max_connections", T_UINT, OFF(max_connections), "1024", 1, 1000000,
     "app connections accepted at once; more are refused"},
    {"shutdown_timeout_ms", T_UINT, OFF(shutdown_timeout_ms), "5000", 0, 600000,
     "on SIGTERM, how long to keep flushing output before exiting"},
    {"log_level", T_LOGLEVEL, OFF(log_level), "info", 0, 0, "error, warn, info or debug"},
    {"node_name", T_STRING, OFF(node_name), "", 0, 255,
     "human name of this node in logs and replies (default: host name)"},
    {"redis_url", T_STRING, OFF(redis_url), "", 0, 1024,
     "redis://[user:password@]host:port/db, rediss://... (TLS), redis+sentinel://s1,s2/name, "
     "redis+cluster://n1,n2 (Redis Cluster) or unix:///path; empty: standalone"},
    {"redis_tls_ca_file", T_STRING, OFF(redis_tls_ca_file), "", 0, 1024,
     "rediss://: PEM file of the CAs the server's certificate is checked against (empty, and "
     "no redis_tls_ca_dir: the system's trust store)"},
    {"redis_tls_ca_dir", T_STRING, OFF(redis_tls_ca_dir), "", 0, 1024,
     "rediss://: directory of hashed CA certificates (c_rehash), instead of or beside the file"},
    {"redis_tls_cert_file", T_STRING, OFF(redis_tls_cert_file), "", 0, 1024,
     "rediss://: client certificate (PEM, chain allowed) for servers that require one"},
    {"redis_tls_key_file", T_STRING, OFF(redis_tls_key_file), "", 0, 1024,
     "rediss://: the client certificate's private key (PEM)"},
    {"redis_tls_server_name", T_STRING, OFF(redis_tls_server_name), "", 0, 255,
     "rediss://: name sent as SNI and checked in the certificate (empty: the URL's host)"},
    {"redis_tls_verify", T_STRING, OFF(redis_tls_verify), "full", 1, 8,
     "rediss://: full (certificate and host name), ca (certificate only) or none (no check: "
     "logged as a warning)"},
    {"redis_prefix", T_STRING, OFF(redis_prefix), "sidecast", 1, 64,
     "prefix of every Redis key and channel, so several apps can share one Redis"},
    {"redis_connect_timeout_ms", T_UINT, OFF(redis_connect_timeout_ms), "2000", 50, 600000,
     "give up a Redis connection attempt after this long"},
    {"redis_command_timeout_ms", T_UINT, OFF(redis_command_timeout_ms), "3000", 100, 600000,
     "a Redis that answers nothing for this long is treated as down"},
    {"redis_reconnect_min_ms", T_UINT, OFF(redis_reconnect_min_ms), "100", 10, 600000,
     "first reconnect delay; doubles per failure (with jitter)"},
    {"redis_reconnect_max_ms", T_UINT, OFF(redis_reconnect_max_ms), "5000", 10, 600000,
     "longest reconnect delay"},
    {"heartbeat_ms", T_UINT, OFF(heartbeat_ms), "1000", 50, 600000,
     "how often this node refreshes its liveness and reaps dead nodes"},
    {"node_ttl_ms", T_UINT, OFF(node_ttl_ms), "3000", 100, 3600000,
     "a node whose liveness is not refreshed for this long is dead"},
    {"canary_interval_ms", T_UINT, OFF(canary_interval_ms), "1000", 0, 600000,
     "pub/sub self-check interval; two missed canaries force a resubscribe (0: off)"},
    {"redis_reply_defer_ms", T_UINT, OFF(redis_reply_defer_ms), "100", 0, 1000,
     "replies to room and broadcast PUBLISHes may wait this long unread, so they do not wake "
     "the node once per message (0: read every reply at once)"},
    {"outbox_max_bytes", T_SIZE, OFF(outbox_max_bytes), "16m", 0, 4096 * MIB,
     "cluster messages kept while Redis is away; beyond it they are dropped"},
    {"request_timeout_ms", T_UINT, OFF(request_timeout_ms), "5000", 10, 600000,
     "cluster requests (fetch sockets, acks...) fail after this long"},
    {"max_pending_requests", T_UINT, OFF(max_pending_requests), "1024", 1, 1000000,
     "cluster requests in flight at once; more are refused"},
    {"advertise_address", T_STRING, OFF(advertise_address), "", 0, 255,
     "address other nodes' apps reach this node's app server on (lookups return it)"},
    {"session_grace_ms", T_UINT, OFF(session_grace_ms), "30000", 0, 86400000,
     "session data outlives the session's socket this long, then expires"},
    {"session_data_max_bytes", T_SIZE, OFF(session_data_max_bytes), "4k", 0, 16 * MIB,
     "largest session data map (keys + values)"},
    {"session_data_max_keys", T_UINT, OFF(session_data_max_keys), "64", 0, 100000,
     "most keys in one session's data map"},
    {"room_linger_ms", T_UINT, OFF(room_linger_ms), "2000", 0, 600000,
     "keep a room's subscription this long after its last local member leaves"},
    {"private_rooms", T_UINT, OFF(private_rooms), "1", 0, 1,
     "1: a socket.io socket's id room is reached through the directory, not subscribed; 0 on "
     "any node subscribes them on every node (no second publish per emit to them)"},
    {"dircache_ttl_ms", T_UINT, OFF(dircache_ttl_ms), "10000", 0, 86400000,
     "how long a socket's node stays cached for targeted emits (0: no cache)"},
    {"dircache_max_entries", T_UINT, OFF(dircache_max_entries), "65536", 0, 10000000,
     "most socket ids cached for targeted emits; the oldest go first (0: no cache)"},
    /* access control and credentials */
    {"socket_user", T_STRING, OFF(socket_user), "", 0, 255,
     "owner of the socket file (user name or uid; empty: the daemon's user)"},
    {"socket_group", T_STRING, OFF(socket_group), "sidecast", 0, 255,
     "group of the socket file (name or gid; the default is skipped if no such group)"},
    {"allow_uids", T_STRING, OFF(allow_uids), "", 0, 1024,
     "comma-separated users or uids allowed to connect (empty: anyone the mode lets in)"},
    {"allow_gids", T_STRING, OFF(allow_gids), "", 0, 1024,
     "comma-separated groups or gids allowed to connect (empty: anyone the mode lets in)"},
    {"redis_password_file", T_STRING, OFF(redis_password_file), "", 0, 1024,
     "file holding the Redis password (default: $CREDENTIALS_DIRECTORY/redis-password)"},
    {"redis_sentinel_user", T_STRING, OFF(redis_sentinel_user), "", 0, 255,
     "redis+sentinel://: ACL user for the sentinels (empty: none, or the default user)"},
    {"redis_sentinel_password_file", T_STRING, OFF(redis_sentinel_password_file), "", 0, 1024,
     "redis+sentinel://: file holding the sentinels' password, which may differ from Redis's "
     "(default: $CREDENTIALS_DIRECTORY/redis-sentinel-password)"},
    /* limits per app connection */
    {"max_payload_bytes", T_SIZE, OFF(max_payload_bytes), "16m", 1, 64 * MIB,
     "largest emit, server emit or ack payload; larger ones are refused"},
    {"max_sockets_per_connection", T_UINT, OFF(max_sockets_per_connection), "200000", 1, 100000000,
     "sockets one app connection may register"},
    {"max_rooms_per_socket", T_UINT, OFF(max_rooms_per_socket), "1024", 1, 1000000,
     "rooms one socket may be in"},
    {"max_name_bytes", T_UINT, OFF(max_name_bytes), "1024", 1, 65535,
     "longest room name, socket id, session id or user id"},
    {"max_socket_data_bytes", T_SIZE, OFF(max_socket_data_bytes), "64k", 0, 16 * MIB,
     "largest data attached to one socket"},
    {"max_pending_per_connection", T_UINT, OFF(max_pending_per_connection), "256", 1, 1000000,
     "cluster requests one app connection may have in flight"},
    {"frame_timeout_ms", T_UINT, OFF(frame_timeout_ms), "10000", 0, 3600000,
     "an app connection that began a frame and has not sent all of it after this long is "
     "closed (0: no limit)"},
    {"max_client_memory", T_SIZE, OFF(max_client_memory), "1g", 0, 1024 * 1024 * MIB,
     "input and output buffers of all app connections together; beyond it volatile messages "
     "are dropped, then the connection holding the most is closed (0: no limit; else at least "
     "1m)"},
    {"http_listen", T_STRING, OFF(http_listen), "127.0.0.1:9466", 0, 255,
     "TCP address of the /metrics, /healthz and /readyz endpoint (host:port, [::1]:port); "
     "empty: off"},
    {"http_max_request_bytes", T_SIZE, OFF(http_max_request_bytes), "8k", 512, 64 * KIB,
     "largest HTTP request (request line and headers); larger ones get 431"},
    {"http_max_connections", T_UINT, OFF(http_max_connections), "64", 1, 100000,
     "HTTP connections open at once; more are accepted and closed"},
    {"http_request_timeout_ms", T_UINT, OFF(http_request_timeout_ms), "5000", 100, 600000,
     "an HTTP connection without a whole request after this long is closed"},
};

static void *field(sc_config *cfg, const option_def *o)
{
    return (char *)cfg + o->offset;
}

static const option_def *find_option(const char *name)
{
    for (size_t i = 0; i < SC_ARRAY_LEN(options); i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}

/* Sizes take an optional k/m/g suffix (binary units). */
static int parse_uint(const char *s, bool size, uint64_t *ret)
{
    char *end;
    if (*s == '-' || *s == '\0')
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -ERANGE;
    if (size && *end) {
        uint64_t mul = 1;
        switch (*end | 0x20) {
        case 'k': mul = KIB; break;
        case 'm': mul = MIB; break;
        case 'g': mul = 1024 * MIB; break;
        default: return -EINVAL;
        }
        end++;
        if ((*end | 0x20) == 'b' || (*end | 0x20) == 'i')
            end += ((*end | 0x20) == 'i' && (end[1] | 0x20) == 'b') ? 2 : 1;
        if (v > UINT64_MAX / mul)
            return -ERANGE;
        v *= mul;
    }
    if (*end)
        return -EINVAL;
    *ret = v;
    return 0;
}

/* Apply one value; on error writes what was expected into why. */
static int set_option(sc_config *cfg, const option_def *o, const char *value, char *why,
                      size_t whylen)
{
    uint64_t v = 0;
    int r = 0;
    switch (o->type) {
    case T_STRING:
        if (strlen(value) < o->min) {
            snprintf(why, whylen, "%s must not be empty", o->name);
            return -EINVAL;
        }
        if (strlen(value) > o->max) {
            snprintf(why, whylen, "%s is longer than %" PRIu64 " characters", o->name, o->max);
            return -EINVAL;
        }
        free(*(char **)field(cfg, o));
        *(char **)field(cfg, o) = sc_xstrdup(value);
        if (o->offset == OFF(socket_group))
            cfg->socket_group_set = true;
        return 0;
    case T_LOGLEVEL:
        if (sc_log_parse_level(value, (sc_log_level *)field(cfg, o)) < 0) {
            snprintf(why, whylen, "%s must be error, warn, info or debug, not '%s'", o->name,
                     value);
            return -EINVAL;
        }
        return 0;
    case T_MODE: {
        char *end;
        unsigned long m = strtoul(value, &end, 8);
        if (*value == '\0' || *end || m > o->max) {
            snprintf(why, whylen, "%s must be an octal file mode like 0660, not '%s'", o->name,
                     value);
            return -EINVAL;
        }
        *(uint32_t *)field(cfg, o) = (uint32_t)m;
        return 0;
    }
    case T_UINT:
    case T_SIZE:
        r = parse_uint(value, o->type == T_SIZE, &v);
        if (r < 0 || v < o->min || v > o->max) {
            snprintf(why, whylen, "%s must be %s from %" PRIu64 " to %" PRIu64 ", not '%s'",
                     o->name, o->type == T_SIZE ? "a size (bytes, or with k/m/g)" : "a number",
                     o->min, o->max, value);
            return -EINVAL;
        }
        *(uint64_t *)field(cfg, o) = v;
        return 0;
    }
    return -EINVAL;
}

void sc_config_defaults(sc_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    char why[256];
    for (size_t i = 0; i < SC_ARRAY_LEN(options); i++)
        set_option(cfg, &options[i], options[i].def, why, sizeof(why));
    cfg->socket_group_set = false;
}

void sc_config_free(sc_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < SC_ARRAY_LEN(options); i++)
        if (options[i].type == T_STRING) {
            free(*(char **)field(cfg, &options[i]));
            *(char **)field(cfg, &options[i]) = NULL;
        }
    sc_credentials_wipe(&cfg->redis_password);
    sc_credentials_wipe(&cfg->redis_sentinel_password);
}

/* Where each setting's value came from, so that an error about a
 * combination of settings names the line that set it: line[i] > 0 is a
 * line of `path`, -1 a command-line flag, 0 the default. */
typedef struct config_origin {
    const char *path;
    int line[SC_ARRAY_LEN(options)];
} config_origin;

typedef struct ini_state {
    sc_config *cfg;
    const char *path;
    FILE *err;
    int errors;
    int line;                        /* maintained by the reader hook below */
    int seen[SC_ARRAY_LEN(options)]; /* line that first set each option; 0: none */
} ini_state;

static int on_ini_line(void *user, const char *section, const char *name, const char *value)
{
    ini_state *st = user;
    char full[128];
    if (section[0])
        snprintf(full, sizeof(full), "%s_%s", section, name);
    else
        snprintf(full, sizeof(full), "%s", name);
    const option_def *o = find_option(full);
    char why[320];
    if (!o) {
        snprintf(why, sizeof(why), "unknown setting '%s'%s", full,
                 section[0] ? " (section and key joined with _)" : "");
    } else if (st->seen[o - options]) {
        /* a second value is a mistake (which one did the author mean?), not an override */
        snprintf(why, sizeof(why), "key '%s' already set on line %d", full, st->seen[o - options]);
    } else {
        st->seen[o - options] = st->line;
        if (set_option(st->cfg, o, value, why, sizeof(why)) == 0)
            return 1;
    }
    fprintf(st->err, "%s:%d: %s\n", st->path, st->line, why);
    st->errors++;
    return 1; /* keep going: report every bad line at once */
}

/* Lines go to libinih through this reader, which (1) counts lines so that
 * every message names its own, (2) reports every syntax error, not only the
 * first, (3) refuses lines longer than libinih's 200-byte buffer instead of
 * letting it split them, and (4) strips indentation, which libinih would
 * otherwise take as a continuation of the previous value. */
#define INI_LINE_MAX 199

static bool line_is_valid(const char *p)
{
    if (*p == '\0' || *p == '\n' || *p == '\r' || *p == ';' || *p == '#')
        return true;
    if (*p == '[')
        return strchr(p, ']') != NULL;
    const char *eq = strpbrk(p, "=:");
    return eq && eq != p;
}

static char *read_ini_line(char *str, int num, void *stream)
{
    ini_state *st = ((void **)stream)[1];
    FILE *f = ((void **)stream)[0];
    char line[INI_LINE_MAX + 2];
    if (!fgets(line, sizeof(line), f))
        return NULL;
    st->line++;
    size_t len = strlen(line);
    if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
        int ch;
        while ((ch = fgetc(f)) != EOF && ch != '\n')
            ;
        fprintf(st->err, "%s:%d: line longer than %d characters (give long values as flags)\n",
                st->path, st->line, INI_LINE_MAX);
        st->errors++;
        snprintf(str, (size_t)num, ";\n");
        return str;
    }
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!line_is_valid(p)) {
        fprintf(st->err, "%s:%d: syntax error: expected 'key = value', '[section]' or a comment\n",
                st->path, st->line);
        st->errors++;
        p = ";\n";
    }
    snprintf(str, (size_t)num, "%s", p);
    return str;
}

static int load_file_at(sc_config *cfg, const char *path, FILE *err, config_origin *o)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(err, "%s: cannot open config file: %s\n", path, strerror(errno));
        return -ENOENT;
    }
    /* fopen() opens a directory, and reading it looks like an empty file:
     * every setting would silently be its default */
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        fprintf(err, "%s: cannot read config file: is a directory\n", path);
        fclose(f);
        return -EISDIR;
    }
    ini_state st = {.cfg = cfg, .path = path, .err = err};
    void *stream[2] = {f, &st};
    int r = ini_parse_stream(read_ini_line, stream, on_ini_line, &st);
    if (ferror(f)) {
        fprintf(err, "%s: cannot read config file: %s (after line %d)\n", path, strerror(errno),
                st.line);
        st.errors++;
    }
    fclose(f);
    if (r > 0 && st.errors == 0) {
        /* libinih found something our pre-check let through */
        fprintf(err, "%s:%d: syntax error\n", path, r);
        st.errors++;
    }
    if (o) {
        o->path = path;
        memcpy(o->line, st.seen, sizeof(o->line));
    }
    return st.errors ? -EINVAL : 0;
}

int sc_config_load_file(sc_config *cfg, const char *path, FILE *err)
{
    return load_file_at(cfg, path, err, NULL);
}

/* "FILE:LINE: " or "--flag: " before an error about the setting at `off`,
 * when its value did not come from the defaults. */
static void at(FILE *err, const config_origin *o, size_t off)
{
    for (size_t i = 0; o && i < SC_ARRAY_LEN(options); i++) {
        if (options[i].offset != off)
            continue;
        if (o->line[i] > 0)
            fprintf(err, "%s:%d: ", o->path, o->line[i]);
        else if (o->line[i] < 0)
            fprintf(err, "command line: ");
        return;
    }
}

/* The redis_tls_* settings: a known verify mode, and with rediss:// their
 * files loadable now, so --check-config finds a wrong path or a key that does not
 * match its certificate. */
static int check_tls(const sc_config *cfg, const sc_redis_url *u, FILE *err,
                     const config_origin *o)
{
    sc_tls_verify v;
    if (sc_tls_verify_parse(cfg->redis_tls_verify, &v) < 0) {
        at(err, o, OFF(redis_tls_verify));
        fprintf(err, "redis_tls_verify must be full, ca or none, not '%s'\n",
                cfg->redis_tls_verify);
        return -1;
    }
    if (!u->tls)
        return 0; /* the cluster warns that they are unused */
    sc_tls_opts to = sc_config_tls(cfg);
    char why[400];
    sc_tls *t = sc_tls_new(&to, why, sizeof(why));
    if (!t) {
        at(err, o, OFF(redis_tls_ca_file));
        fprintf(err, "%s\n", why);
        return -1;
    }
    sc_tls_free(t);
    return 0;
}

sc_tls_opts sc_config_tls(const sc_config *cfg)
{
    sc_tls_verify v = SC_TLS_VERIFY_FULL;
    sc_tls_verify_parse(cfg->redis_tls_verify, &v);
    return (sc_tls_opts){cfg->redis_tls_ca_file,   cfg->redis_tls_ca_dir,
                         cfg->redis_tls_cert_file, cfg->redis_tls_key_file,
                         cfg->redis_tls_server_name, v};
}

static int validate_at(const sc_config *cfg, FILE *err, const config_origin *o)
{
    int bad = 0;
    if (cfg->output_buffer_soft > cfg->output_buffer_hard) {
        at(err, o, OFF(output_buffer_soft));
        fprintf(err, "output_buffer_soft (%" PRIu64 ") must not exceed output_buffer_hard (%" PRIu64
                     ")\n",
                cfg->output_buffer_soft, cfg->output_buffer_hard);
        bad = 1;
    }
    if (cfg->max_frame_bytes > cfg->output_buffer_hard) {
        at(err, o, OFF(max_frame_bytes));
        fprintf(err, "max_frame_bytes (%" PRIu64 ") must not exceed output_buffer_hard (%" PRIu64
                     ")\n",
                cfg->max_frame_bytes, cfg->output_buffer_hard);
        bad = 1;
    }
    if (cfg->max_client_memory && cfg->max_client_memory < MIB) {
        at(err, o, OFF(max_client_memory));
        fprintf(err, "max_client_memory (%" PRIu64 ") must be 0 (no limit) or at least 1m\n",
                cfg->max_client_memory);
        bad = 1;
    }
    if (cfg->node_ttl_ms <= cfg->heartbeat_ms) {
        at(err, o, OFF(node_ttl_ms));
        fprintf(err, "node_ttl_ms (%" PRIu64 ") must be greater than heartbeat_ms (%" PRIu64 ")\n",
                cfg->node_ttl_ms, cfg->heartbeat_ms);
        bad = 1;
    }
    if (cfg->redis_reconnect_min_ms > cfg->redis_reconnect_max_ms) {
        at(err, o, OFF(redis_reconnect_min_ms));
        fprintf(err, "redis_reconnect_min_ms must not exceed redis_reconnect_max_ms\n");
        bad = 1;
    }
    if (cfg->redis_url && cfg->redis_url[0]) {
        sc_redis_url u;
        char why[160];
        if (sc_redis_url_parse(cfg->redis_url, &u, why, sizeof(why)) < 0) {
            at(err, o, OFF(redis_url));
            fprintf(err, "redis_url: %s\n", why);
            bad = 1;
        } else {
            if (check_tls(cfg, &u, err, o) < 0)
                bad = 1;
            /* the keys' hash tag is {prefix}: a brace inside would split it */
            if (u.cluster && strpbrk(cfg->redis_prefix, "{}")) {
                at(err, o, OFF(redis_prefix));
                fprintf(err, "redis_prefix must not contain { or } with a redis+cluster:// URL "
                             "(sidecastd puts it in braces as the keys' hash tag)\n");
                bad = 1;
            }
            sc_redis_url_free(&u);
        }
    }
    if (cfg->http_listen && cfg->http_listen[0]) {
        struct sockaddr_storage ss;
        socklen_t sl;
        char why[320];
        if (sc_config_parse_listen(cfg->http_listen, &ss, &sl, why, sizeof(why)) < 0) {
            at(err, o, OFF(http_listen));
            fprintf(err, "%s\n", why);
            bad = 1;
        }
    }
    if (!cfg->socket_path || !cfg->socket_path[0]) {
        at(err, o, OFF(socket_path));
        fprintf(err, "socket must not be empty\n");
        bad = 1;
    }
    sc_access_settings as = sc_config_access(cfg);
    if (sc_access_check_config(&as, err) < 0)
        bad = 1;
    return bad ? -EINVAL : 0;
}

int sc_config_validate(const sc_config *cfg, FILE *err)
{
    return validate_at(cfg, err, NULL);
}

static void flag_name(const char *opt, char *out, size_t len)
{
    snprintf(out, len, "%s", opt);
    for (char *p = out; *p; p++)
        if (*p == '_')
            *p = '-';
}

static void usage(FILE *out)
{
    fprintf(out, "Usage: sidecastd [--config FILE] [--check-config] [--SETTING VALUE]...\n"
                 "Pub/sub sidecar for socket servers. Settings (file key, or flag):\n");
    for (size_t i = 0; i < SC_ARRAY_LEN(options); i++) {
        char flag[64];
        flag_name(options[i].name, flag, sizeof(flag));
        fprintf(out, "  --%-22s %s (default: %s)\n", flag, options[i].help,
                options[i].def[0] ? options[i].def : "none");
    }
    fprintf(out, "  -c, --config FILE        read settings from FILE (INI); flags win over it\n"
                 "      --check-config       validate settings, print the result and exit\n"
                 "      --print-config       print a commented reference config and exit\n"
                 "  -h, --help               this text\n"
                 "  -V, --version            print the version and exit\n");
}

size_t sc_config_count(void)
{
    return SC_ARRAY_LEN(options);
}

const char *sc_config_name(size_t i)
{
    return i < SC_ARRAY_LEN(options) ? options[i].name : NULL;
}

void sc_config_format(const sc_config *cfg, size_t i, char *out, size_t len)
{
    const option_def *o = &options[i];
    const void *f = (const char *)cfg + o->offset;
    switch (o->type) {
    case T_STRING: snprintf(out, len, "%s", *(char *const *)f ? *(char *const *)f : ""); break;
    case T_LOGLEVEL: snprintf(out, len, "%s", sc_log_level_name(*(const sc_log_level *)f)); break;
    case T_MODE: snprintf(out, len, "%04o", (unsigned)*(const uint32_t *)f); break;
    case T_UINT:
    case T_SIZE: snprintf(out, len, "%" PRIu64, *(const uint64_t *)f); break;
    }
}

void sc_config_copy(sc_config *dst, const sc_config *src, size_t i)
{
    const option_def *o = &options[i];
    const void *from = (const char *)src + o->offset;
    void *to = field(dst, o);
    switch (o->type) {
    case T_STRING:
        free(*(char **)to);
        *(char **)to = *(char *const *)from ? sc_xstrdup(*(char *const *)from) : NULL;
        break;
    case T_LOGLEVEL: *(sc_log_level *)to = *(const sc_log_level *)from; break;
    case T_MODE: *(uint32_t *)to = *(const uint32_t *)from; break;
    case T_UINT:
    case T_SIZE: *(uint64_t *)to = *(const uint64_t *)from; break;
    }
}

void sc_config_print_reference(FILE *out)
{
    fprintf(out, "# sidecastd configuration. Every setting is also a flag: --name-with-dashes.\n");
    for (size_t i = 0; i < SC_ARRAY_LEN(options); i++)
        fprintf(out, "\n# %s\n#%s = %s\n", options[i].help, options[i].name, options[i].def);
}

enum { F_HELP = 1000, F_VERSION, F_CONFIG, F_CHECK, F_PRINT, F_OPT0 };

int sc_config_load(sc_config *cfg, int argc, char **argv, sc_command *cmd, FILE *err)
{
    size_t nopt = SC_ARRAY_LEN(options);
    struct option *lo = sc_xcalloc(nopt + 6, sizeof(*lo));
    char (*names)[64] = sc_xcalloc(nopt, 64);
    for (size_t i = 0; i < nopt; i++) {
        flag_name(options[i].name, names[i], 64);
        lo[i] = (struct option){names[i], required_argument, NULL, F_OPT0 + (int)i};
    }
    lo[nopt] = (struct option){"help", no_argument, NULL, F_HELP};
    lo[nopt + 1] = (struct option){"version", no_argument, NULL, F_VERSION};
    lo[nopt + 2] = (struct option){"config", required_argument, NULL, F_CONFIG};
    lo[nopt + 3] = (struct option){"check-config", no_argument, NULL, F_CHECK};
    lo[nopt + 4] = (struct option){"print-config", no_argument, NULL, F_PRINT};

    /* Pass 1: find --config and the one-shot commands; pass 2 applies flags
     * over the file's values. */
    const char *path = NULL;
    int bad = 0, c;
    *cmd = SC_CMD_RUN;
    sc_config_defaults(cfg);
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":c:hV", lo, NULL)) != -1) {
        if (c == 'h' || c == F_HELP) {
            usage(stdout);
            *cmd = SC_CMD_EXIT_OK;
        } else if (c == 'V' || c == F_VERSION) {
            printf("sidecastd %s (protocol 1)\n", SC_VERSION);
            *cmd = SC_CMD_EXIT_OK;
        } else if (c == F_PRINT) {
            sc_config_print_reference(stdout);
            *cmd = SC_CMD_EXIT_OK;
        } else if (c == 'c' || c == F_CONFIG) {
            path = optarg;
        } else if (c == F_CHECK) {
            *cmd = SC_CMD_CHECK;
        } else if (c == '?' || c == ':') {
            fprintf(err, "sidecastd: %s '%s' (see --help)\n",
                    c == ':' ? "missing value for" : "unknown option", argv[optind - 1]);
            bad = 1;
        }
    }
    if (optind < argc) {
        fprintf(err, "sidecastd: unexpected argument '%s' (see --help)\n", argv[optind]);
        bad = 1;
    }
    /* Every error in one pass: the file's, the flags', then those of
     * settings that do not go together, each where it was set. */
    bool go = !bad && *cmd != SC_CMD_EXIT_OK;
    config_origin *origin = sc_xcalloc(1, sizeof(*origin));
    if (go && path && load_file_at(cfg, path, err, origin) < 0)
        bad = 1;
    optind = 1;
    while (go && (c = getopt_long(argc, argv, ":c:hV", lo, NULL)) != -1) {
        if (c < F_OPT0)
            continue;
        char why[320];
        if (set_option(cfg, &options[c - F_OPT0], optarg, why, sizeof(why)) < 0) {
            fprintf(err, "sidecastd: --%s: %s\n", names[c - F_OPT0], why);
            bad = 1;
        } else {
            origin->line[c - F_OPT0] = -1;
        }
    }
    free(lo);
    free(names);
    if (go && validate_at(cfg, err, origin) < 0)
        bad = 1;
    free(origin);
    if (!bad && *cmd != SC_CMD_EXIT_OK &&
        (sc_credentials_load(cfg->redis_password_file, &cfg->redis_password, err) < 0 ||
         sc_credentials_load_named("redis_sentinel_password_file",
                                   cfg->redis_sentinel_password_file, "redis-sentinel-password",
                                   &cfg->redis_sentinel_password, err) < 0))
        bad = 1;
    return bad ? -EINVAL : 0;
}

sc_access_settings sc_config_access(const sc_config *cfg)
{
    return (sc_access_settings){cfg->allow_uids, cfg->allow_gids,       cfg->socket_user,
                                cfg->socket_group, cfg->socket_group_set, cfg->socket_mode};
}

/* ---- listen address ------------------------------------------------------------ */

int sc_config_parse_listen(const char *spec, struct sockaddr_storage *ret, socklen_t *ret_len,
                         char *why, size_t whylen)
{
    char host[256];
    const char *port;
    if (spec[0] == '[') {
        const char *end = strchr(spec, ']');
        if (!end || end[1] != ':' || (size_t)(end - spec - 1) >= sizeof(host))
            goto bad;
        snprintf(host, sizeof(host), "%.*s", (int)(end - spec - 1), spec + 1);
        port = end + 2;
    } else {
        const char *colon = strrchr(spec, ':');
        if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof(host) ||
            memchr(spec, ':', (size_t)(colon - spec)))
            goto bad;
        snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
        port = colon + 1;
    }
    char *end;
    long pn = strtol(port, &end, 10);
    if (!*port || *end || pn < 0 || pn > 65535)
        goto bad;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    int r = getaddrinfo(host, port, &hints, &ai);
    if (r != 0 || !ai) {
        snprintf(why, whylen, "http_listen host '%s' does not resolve: %s", host, gai_strerror(r));
        return -EINVAL;
    }
    memcpy(ret, ai->ai_addr, ai->ai_addrlen);
    *ret_len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
bad:
    snprintf(why, whylen,
             "http_listen must be host:port or [ipv6]:port (e.g. 127.0.0.1:9466), or empty to "
             "disable, not '%s'",
             spec);
    return -EINVAL;
}
