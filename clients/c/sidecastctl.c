/* sidecastctl: talk to a running sidecastd from a shell, for operators and
 * scripts. Human-readable output by default, --json for machines. */
#include "sidecast.h"
#include "sidecast_sio.h"
#include "sio.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SC_VERSION
#define SC_VERSION "0.0.0"
#endif

#define MAX_LIST 256

typedef struct list {
    const char *v[MAX_LIST];
    size_t n;
} list;

static bool json;
static bool first_item = true;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: sidecastctl [-s SOCKET] [--json] COMMAND [ARGS]\n"
            "Commands:\n"
            "  ping                          round trip to sidecastd\n"
            "  nodes                         live nodes of the cluster, with their\n"
            "                                cluster version and features\n"
            "  stats                         counters and gauges\n"
            "  rooms [NAME...]               every room with its size, or the named ones\n"
            "  sockets [--room R]... [--except-room R]... [--data] [--local]\n"
            "                                registered sockets (optionally in rooms; --local:\n"
            "                                this node's only, no redis needed)\n"
            "  emit [--room R]... [--socket ID]... [--user U]... [--all]\n"
            "       [--except-room R]... [--except-id ID]... [--volatile] PAYLOAD|-\n"
            "                                emit PAYLOAD (or stdin with -) to sockets\n"
            "  emit --event NAME [--nsp NSP] [--room R]... [--socket ID]...\n"
            "       [--except-room R]... [--volatile] [JSON-ARG]...\n"
            "                                a socket.io event to the clients of namespace\n"
            "                                NSP (default /), in rooms R, or sockets ID\n"
            "  server-emit --event NAME [--nsp NSP] [JSON-ARG]...\n"
            "                                io.serverSideEmit(NAME, ...) on every server\n"
            "  apply [--room R]... [--socket ID]... [--user U]... [--all]\n"
            "        [--join R]... [--leave R]... [--disconnect [--close]] [--local]\n"
            "        [--nsp NSP]\n"
            "                                make the selected sockets, on every node,\n"
            "                                join/leave rooms or disconnect (--nsp: rooms\n"
            "                                are socket.io rooms of NSP, --all its sockets)\n"
            "  lookup [--local] session|socket|user KEY\n"
            "                                which node holds it (cluster-wide; exit 3:\n"
            "                                not found)\n"
            "  presence USER                 is the user online, on how many nodes\n"
            "  session get SID | session set SID KEY=VALUE... [-KEY]...\n"
            "                                read or change a session's data\n"
            "Options:\n"
            "  -s, --socket PATH   sidecastd socket (default %s, or $SIDECAST_SOCKET)\n"
            "  -j, --json          machine-readable output\n"
            "  -t, --timeout MS    call timeout (default 5000)\n"
            "  -h, --help, -V, --version\n",
            SIDECAST_DEFAULT_SOCKET);
}

/* A value in text output: as it is when it cannot be mistaken for a
 * separator, else double-quoted with \\, \" and non-printable bytes
 * escaped (\xNN); an empty value is "". */
static void text_field(const char *label, const char *s, size_t len, bool quote)
{
    for (size_t i = 0; i < len && !quote; i++) {
        unsigned char ch = (unsigned char)s[i];
        quote = ch <= ' ' || ch >= 0x7f || strchr("\"\\,=[]", ch);
    }
    quote = quote || len == 0;
    printf("%s%s", label, quote ? "\"" : "");
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!quote)
            putchar(ch);
        else if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < ' ' || ch >= 0x7f)
            printf("\\x%02x", ch);
        else
            putchar(ch);
    }
    printf("%s", quote ? "\"" : "");
}

static void json_str(const char *s, size_t len)
{
    putchar('"');
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static void print_stat(void *ud, const char *name, uint64_t value)
{
    (void)ud;
    if (json) {
        printf("%s", first_item ? "{" : ",");
        json_str(name, strlen(name));
        printf(":%llu", (unsigned long long)value);
    } else {
        printf("%-32s %llu\n", name, (unsigned long long)value);
    }
    first_item = false;
}

static void print_room(void *ud, const char *room, uint64_t size)
{
    (void)ud;
    if (json) {
        printf("%s{\"room\":", first_item ? "[" : ",");
        json_str(room, strlen(room));
        printf(",\"size\":%llu}", (unsigned long long)size);
    } else {
        printf("%-40s %llu\n", room, (unsigned long long)size);
    }
    first_item = false;
}

static void print_socket(void *ud, const sc_socket_view *s)
{
    bool with_data = *(bool *)ud;
    if (json) {
        printf("%s{\"id\":", first_item ? "[" : ",");
        json_str(s->socket_id, strlen(s->socket_id));
        printf(",\"session\":");
        json_str(s->session_id, strlen(s->session_id));
        printf(",\"user\":");
        json_str(s->user_id, strlen(s->user_id));
        printf(",\"node\":");
        json_str(s->node_id, strlen(s->node_id));
        printf(",\"rooms\":[");
        for (size_t i = 0; i < s->n_rooms; i++) {
            printf(i ? "," : "");
            json_str(s->rooms[i], strlen(s->rooms[i]));
        }
        printf("]");
        if (with_data) {
            printf(",\"data\":");
            json_str((const char *)s->data, s->data_len);
        }
        printf("}");
    } else {
        text_field("", s->socket_id, strlen(s->socket_id), false);
        text_field(" session=", s->session_id, strlen(s->session_id), false);
        text_field(" user=", s->user_id, strlen(s->user_id), false);
        printf(" rooms=");
        for (size_t i = 0; i < s->n_rooms; i++) /* always quoted: no name reads as a separator */
            text_field(i ? "," : "", s->rooms[i], strlen(s->rooms[i]), true);
        if (with_data)
            text_field(" data=", (const char *)s->data, s->data_len, false);
        printf("\n");
    }
    first_item = false;
}

/* A known cluster feature bit's name without the CLUSTER_FEATURE_ prefix,
 * in lower case ("announce"); false for a bit this sidecastctl does not know
 * (it shows only in the hex printed beside). */
static bool feature_name(int bit, char *out, size_t size)
{
    const char *name = sc_client_cluster_feature_name(UINT64_C(1) << bit);
    if (!name)
        return false;
    if (strncmp(name, "CLUSTER_FEATURE_", 16) == 0)
        name += 16;
    size_t n = 0;
    for (; *name && n + 1 < size; name++)
        out[n++] = (char)(*name >= 'A' && *name <= 'Z' ? *name - 'A' + 'a' : *name);
    out[n] = '\0';
    return true;
}

static void print_node(void *ud, const sc_node_info *nd)
{
    char name[64];
    bool any = false;
    if (json) {
        printf("%s{\"id\":", first_item ? "[" : ",");
        json_str(nd->node_id, strlen(nd->node_id));
        printf(",\"name\":");
        json_str(nd->node_name, strlen(nd->node_name));
        printf(",\"self\":%s", nd->self ? "true" : "false");
        if (!nd->versioned) { /* sidecastd predates version reporting */
            printf(",\"version\":null,\"features\":null,\"feature_names\":null}");
            first_item = false;
            return;
        }
        printf(",\"version\":%u,\"features\":%llu,\"feature_names\":[", nd->version,
               (unsigned long long)nd->features);
        for (int i = 0; i < 64; i++) {
            if ((nd->features >> i & 1) && feature_name(i, name, sizeof(name))) {
                printf(any ? "," : "");
                json_str(name, strlen(name));
                any = true;
            }
        }
        printf("]}");
    } else if (!nd->versioned) {
        printf("%-20s %s  (sidecastd predates version reporting)%s\n", nd->node_id, nd->node_name,
               nd->self ? "  (this node)" : "");
    } else {
        printf("%-20s %s  version %u%s  features ", nd->node_id, nd->node_name, nd->version,
               nd->version ? "" : " (predates versioning)");
        for (int i = 0; i < 64; i++) {
            if ((nd->features >> i & 1) && feature_name(i, name, sizeof(name))) {
                printf("%s%s", any ? "," : "", name);
                any = true;
            }
        }
        printf("%s(0x%llx)%s\n", any ? " " : "", (unsigned long long)nd->features,
               nd->self ? "  (this node)" : "");
    }
    first_item = false;
}

static void print_location(void *ud, const sc_location *l)
{
    if (json) {
        printf("%s{\"socket\":", first_item ? "[" : ",");
        json_str(l->socket_id, strlen(l->socket_id));
        printf(",\"session\":");
        json_str(l->session_id, strlen(l->session_id));
        printf(",\"user\":");
        json_str(l->user_id, strlen(l->user_id));
        printf(",\"node\":");
        json_str(l->node_id, strlen(l->node_id));
        printf(",\"node_name\":");
        json_str(l->node_name, strlen(l->node_name));
        printf(",\"address\":");
        json_str(l->address, strlen(l->address));
        printf(",\"local\":%s}", l->local ? "true" : "false");
    } else {
        printf("%s session=%s user=%s node=%s (%s) address=%s%s\n", l->socket_id, l->session_id,
               l->user_id[0] ? l->user_id : "-", l->node_name, l->node_id,
               l->address[0] ? l->address : "-", l->local ? " [this node]" : "");
    }
    first_item = false;
}

static void print_entry(void *ud, const char *key, const uint8_t *v, size_t len)
{
    if (json) {
        printf("%s", first_item ? "{" : ",");
        json_str(key, strlen(key));
        printf(":");
        json_str((const char *)v, len);
    } else {
        printf("%s=%.*s\n", key, (int)len, (const char *)v);
    }
    first_item = false;
}

static int cmd_lookup(sc_client *c, int argc, char **argv, int timeout)
{
    bool local = argc > 1 && strcmp(argv[1], "--local") == 0;
    if (local) {
        argc--;
        argv++;
    }
    if (argc != 3) {
        fprintf(stderr, "sidecastctl lookup: session|socket|user KEY\n");
        return 2;
    }
    sc_lookup_kind k = strcmp(argv[1], "session") == 0  ? SC_BY_SESSION
                       : strcmp(argv[1], "socket") == 0 ? SC_BY_SOCKET
                                                        : SC_BY_USER;
    if (k == SC_BY_USER && strcmp(argv[1], "user") != 0) {
        fprintf(stderr, "sidecastctl lookup: session|socket|user KEY\n");
        return 2;
    }
    int r = sc_client_lookup(c, k, argv[2], local, print_location, NULL, timeout);
    if (r < 0) {
        fprintf(stderr, "sidecastctl: %s\n", sc_client_last_error(c));
        return 1;
    }
    if (json)
        printf("%s]\n", first_item ? "[" : "");
    else if (r == 0)
        printf("not found: no %s %s on %s\n", argv[1], argv[2],
               local ? "this node" : "any live node");
    return r > 0 ? 0 : 3; /* 3: not found, like a lookup miss in scripts */
}

static int cmd_session(sc_client *c, int argc, char **argv, int timeout)
{
    if (argc >= 3 && strcmp(argv[1], "get") == 0) {
        bool connected;
        int r = sc_client_session_get(c, argv[2], print_entry, NULL, &connected, timeout);
        if (r < 0) {
            fprintf(stderr, "sidecastctl: %s\n", sc_client_last_error(c));
            return 1;
        }
        if (json)
            printf("%s}\n", first_item ? "{" : "");
        return 0;
    }
    if (argc >= 4 && strcmp(argv[1], "set") == 0) {
        sc_session_entry set[64];
        const char *del[64];
        size_t ns = 0, nd = 0;
        for (int i = 3; i < argc && ns < 64 && nd < 64; i++) {
            char *eq = strchr(argv[i], '=');
            if (argv[i][0] == '-' && !eq) {
                del[nd++] = argv[i] + 1;
            } else if (eq) {
                *eq = '\0';
                set[ns++] = (sc_session_entry){argv[i], (const uint8_t *)eq + 1, strlen(eq + 1)};
            } else {
                fprintf(stderr, "sidecastctl session set: KEY=VALUE or -KEY, not '%s'\n", argv[i]);
                return 2;
            }
        }
        if (sc_client_session_set(c, argv[2], set, ns, del, nd, timeout) < 0) {
            fprintf(stderr, "sidecastctl: %s\n", sc_client_last_error(c));
            return 1;
        }
        printf(json ? "{\"ok\":true}\n" : "ok\n");
        return 0;
    }
    fprintf(stderr, "sidecastctl session: get SID | set SID KEY=VALUE... [-KEY]...\n");
    return 2;
}

static int push(list *l, const char *v)
{
    if (l->n == MAX_LIST) {
        fprintf(stderr, "sidecastctl: at most %d values per option\n", MAX_LIST);
        return -1;
    }
    l->v[l->n++] = v;
    return 0;
}

static char *read_stdin(size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, stdin)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
        }
    }
    *len = n;
    return buf;
}

/* ---- the socket.io mapping (sio.c) -------------------------------------------- */

/* socket.io names of one command: rooms and socket ids of namespace nsp. */
typedef struct sio_sel {
    const char *nsp;
    const list *rooms, *ids, *except;
} sio_sel;

/* Registry names ("nsp,R") of a list, into out; the namespace's own room
 * when want_nsp and the list is empty. Returns how many, -1 on no memory. */
static int sio_names(const char *nsp, const list *in, const list *more, bool want_nsp, list *out,
                     char **owned, size_t *nowned)
{
    const list *ls[] = {in, more};
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; ls[k] && i < ls[k]->n; i++) {
            char *name = sc_sio_room(nsp, ls[k]->v[i]);
            if (!name || push(out, name) < 0) {
                free(name);
                return -1;
            }
            owned[(*nowned)++] = name;
        }
    if (out->n == 0 && want_nsp) {
        char *name = sc_sio_room(nsp, NULL);
        if (!name)
            return -1;
        push(out, name);
        owned[(*nowned)++] = name;
    }
    return (int)out->n;
}

static void free_owned(char **owned, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(owned[i]);
}

/* emit --event: through libsidecast's emitter (sidecast_sio.h), to the
 * socket.io rooms and ids (a socket id is a room too), or the namespace. */
static int emit_event(sc_client *c, const sio_sel *s, const char *event, char *const *args,
                      size_t n, bool is_volatile)
{
    sc_sio_to to = {s->nsp,        s->rooms->v,  s->rooms->n, s->ids->v,
                    s->ids->n,     s->except->v, s->except->n};
    int r = sc_sio_emit(c, &to, is_volatile, event, (const char *const *)args, n);
    if (r == 0)
        r = sc_client_sync(c, 0);
    if (r < 0) {
        fprintf(stderr, "sidecastctl emit: %s\n", sc_client_last_error(c));
        return r == -EINVAL ? 2 : 1;
    }
    size_t nrooms = s->rooms->n + s->ids->n;
    printf(json ? "{\"ok\":true}\n" : "emitted event %s to %zu room(s) of %s\n", event,
           nrooms ? nrooms : 1, s->nsp);
    return 0;
}

/* server-emit: io.serverSideEmit(NAME, args...) on every socket.io server. */
static int cmd_server_emit(sc_client *c, int argc, char **argv)
{
    static const struct option lo[] = {{"event", required_argument, NULL, 'e'},
                                       {"nsp", required_argument, NULL, 'n'},
                                       {0}};
    const char *event = NULL, *nsp = "/";
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "+e:n:", lo, NULL)) != -1) {
        if (o == 'e')
            event = optarg;
        else if (o == 'n')
            nsp = optarg;
        else
            return 2;
    }
    if (!event) {
        fprintf(stderr, "sidecastctl server-emit: need --event NAME\n");
        return 2;
    }
    int r = sc_sio_server_side_emit(c, nsp, event, (const char *const *)(argv + optind),
                                    (size_t)(argc - optind));
    if (r == 0)
        r = sc_client_sync(c, 0);
    if (r < 0) {
        fprintf(stderr, "sidecastctl server-emit: %s\n", sc_client_last_error(c));
        return r == -EINVAL ? 2 : 1;
    }
    printf(json ? "{\"ok\":true}\n" : "server-side emit %s sent to %s\n", event, nsp);
    return 0;
}

static int cmd_emit(sc_client *c, int argc, char **argv)
{
    static const struct option lo[] = {{"room", required_argument, NULL, 'r'},
                                       {"socket", required_argument, NULL, 'i'},
                                       {"all", no_argument, NULL, 'a'},
                                       {"except-room", required_argument, NULL, 'R'},
                                       {"except-id", required_argument, NULL, 'I'},
                                       {"volatile", no_argument, NULL, 'v'},
                                       {"user", required_argument, NULL, 'u'},
                                       {"event", required_argument, NULL, 'e'},
                                       {"nsp", required_argument, NULL, 'n'},
                                       {0}};
    list rooms = {0}, ids = {0}, xrooms = {0}, xids = {0}, users = {0};
    sc_emit_flags fl = {0};
    bool all = false;
    const char *event = NULL, *nsp = NULL;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "+r:i:aR:I:vu:e:n:", lo, NULL)) != -1) {
        int r = 0;
        switch (o) {
        case 'r': r = push(&rooms, optarg); break;
        case 'i': r = push(&ids, optarg); break;
        case 'a': all = true; break;
        case 'R': r = push(&xrooms, optarg); break;
        case 'I': r = push(&xids, optarg); break;
        case 'v': fl.is_volatile = true; break;
        case 'u': r = push(&users, optarg); break;
        case 'e': event = optarg; break;
        case 'n': nsp = optarg; break;
        default: return 2;
        }
        if (r < 0)
            return 2;
    }
    if (event || nsp) {
        if (!event || users.n || xids.n) {
            fprintf(stderr, "sidecastctl emit: --nsp goes with --event, which takes --room, "
                            "--socket, --except-room, --all and --volatile\n");
            return 2;
        }
        sio_sel sel = {nsp ? nsp : "/", &rooms, &ids, &xrooms};
        return emit_event(c, &sel, event, argv + optind, (size_t)(argc - optind), fl.is_volatile);
    }
    if (optind != argc - 1 || (!all && !rooms.n && !ids.n && !users.n)) {
        fprintf(stderr, "sidecastctl emit: need a target (--room, --socket, --user or --all) "
                        "and one PAYLOAD (or - for stdin)\n");
        return 2;
    }
    size_t len = 0;
    bool from_stdin = strcmp(argv[optind], "-") == 0;
    char *payload = from_stdin ? read_stdin(&len) : strdup(argv[optind]);
    if (!payload)
        return 1;
    if (!from_stdin)
        len = strlen(payload);
    sc_target t = {rooms.v, rooms.n, ids.v, ids.n, all, xrooms.v, xrooms.n, xids.v, xids.n,
                   users.v, users.n};
    int r = sc_client_emit(c, &t, &fl, (const uint8_t *)payload, len);
    free(payload);
    if (r == 0)
        r = sc_client_sync(c, 0);
    if (r < 0) {
        fprintf(stderr, "sidecastctl: emit failed: %s\n", sc_client_last_error(c));
        return 1;
    }
    if (json)
        printf("{\"ok\":true}\n");
    else
        printf("emitted %zu bytes\n", len);
    return 0;
}

static int cmd_apply(sc_client *c, int argc, char **argv, int timeout)
{
    static const struct option lo[] = {{"room", required_argument, NULL, 'r'},
                                       {"socket", required_argument, NULL, 'i'},
                                       {"user", required_argument, NULL, 'u'},
                                       {"all", no_argument, NULL, 'a'},
                                       {"join", required_argument, NULL, 'j'},
                                       {"leave", required_argument, NULL, 'l'},
                                       {"disconnect", no_argument, NULL, 'd'},
                                       {"close", no_argument, NULL, 'c'},
                                       {"local", no_argument, NULL, 'L'},
                                       {"nsp", required_argument, NULL, 'n'},
                                       {0}};
    list rooms = {0}, ids = {0}, users = {0}, join = {0}, leave = {0};
    sc_apply a = {0};
    bool all = false;
    const char *nsp = NULL;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "+r:i:u:aj:l:dcLn:", lo, NULL)) != -1) {
        int r = 0;
        switch (o) {
        case 'r': r = push(&rooms, optarg); break;
        case 'i': r = push(&ids, optarg); break;
        case 'u': r = push(&users, optarg); break;
        case 'a': all = true; break;
        case 'j': r = push(&join, optarg); break;
        case 'l': r = push(&leave, optarg); break;
        case 'd': a.disconnect = true; break;
        case 'c': a.close = true; break;
        case 'L': a.local = true; break;
        case 'n': nsp = optarg; break;
        default: return 2;
        }
        if (r < 0)
            return 2;
    }
    if (!all && !rooms.n && !ids.n && !users.n) {
        fprintf(stderr, "sidecastctl apply: select sockets with --room, --socket, --user or "
                        "--all\n");
        return 2;
    }
    if (!join.n && !leave.n && !a.disconnect) {
        fprintf(stderr, "sidecastctl apply: give --join, --leave or --disconnect\n");
        return 2;
    }
    list srooms = {0}, sjoin = {0}, sleave = {0};
    char *owned[4 * MAX_LIST + 1];
    size_t nowned = 0;
    if (nsp) {
        /* socket.io names: rooms and socket ids of nsp (--all: its own room) */
        char why[300];
        if (sc_sio_check_nsp(nsp, why, sizeof(why)) < 0 || users.n) {
            fprintf(stderr, "sidecastctl apply: %s\n",
                    users.n ? "--user does not go with --nsp" : why);
            return 2;
        }
        if (sio_names(nsp, &rooms, &ids, all, &srooms, owned, &nowned) < 0 ||
            sio_names(nsp, &join, NULL, false, &sjoin, owned, &nowned) < 0 ||
            sio_names(nsp, &leave, NULL, false, &sleave, owned, &nowned) < 0) {
            free_owned(owned, nowned);
            fprintf(stderr, "sidecastctl apply: too many names\n");
            return 2;
        }
        rooms = srooms;
        ids.n = 0;
        all = false;
        join = sjoin;
        leave = sleave;
    }
    sc_target t = {rooms.v, rooms.n, ids.v, ids.n, all, NULL, 0, NULL, 0, users.v, users.n};
    a.filter = &t;
    a.join = join.v;
    a.n_join = join.n;
    a.leave = leave.v;
    a.n_leave = leave.n;
    int ar = sc_client_apply(c, &a, timeout);
    free_owned(owned, nowned);
    if (ar < 0) {
        fprintf(stderr, "sidecastctl: %s\n", sc_client_last_error(c));
        return 1;
    }
    printf(json ? "{\"ok\":true}\n" : "applied on every live node\n");
    return 0;
}

static int cmd_sockets(sc_client *c, int argc, char **argv)
{
    static const struct option lo[] = {{"room", required_argument, NULL, 'r'},
                                       {"except-room", required_argument, NULL, 'R'},
                                       {"data", no_argument, NULL, 'd'},
                                       {"local", no_argument, NULL, 'L'},
                                       {0}};
    list rooms = {0}, xrooms = {0};
    bool with_data = false, local = false;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "+r:R:dL", lo, NULL)) != -1) {
        if (o == 'r' && push(&rooms, optarg) == 0)
            continue;
        if (o == 'R' && push(&xrooms, optarg) == 0)
            continue;
        if (o == 'd' || o == 'L') {
            *(o == 'd' ? &with_data : &local) = true;
            continue;
        }
        return 2;
    }
    sc_target t = {rooms.v, rooms.n, NULL, 0, rooms.n == 0, xrooms.v, xrooms.n, NULL, 0, NULL, 0};
    int r = sc_client_fetch_sockets_ex(c, &t, with_data, true, local, print_socket, &with_data, 0);
    if (r < 0) {
        fprintf(stderr, "sidecastctl: %s\n", sc_client_last_error(c));
        return 1;
    }
    if (json)
        printf("%s]\n", first_item ? "[" : "");
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {{"socket", required_argument, NULL, 's'},
                                       {"json", no_argument, NULL, 'j'},
                                       {"timeout", required_argument, NULL, 't'},
                                       {"help", no_argument, NULL, 'h'},
                                       {"version", no_argument, NULL, 'V'},
                                       {0}};
    const char *path = getenv("SIDECAST_SOCKET");
    int timeout = 5000, o;
    while ((o = getopt_long(argc, argv, "+s:jt:hV", lo, NULL)) != -1) {
        switch (o) {
        case 's': path = optarg; break;
        case 'j': json = true; break;
        case 't': timeout = atoi(optarg); break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("sidecastctl %s\n", SC_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[optind];
    if (strcmp(cmd, "ping") && strcmp(cmd, "nodes") && strcmp(cmd, "stats") &&
        strcmp(cmd, "lookup") && strcmp(cmd, "presence") && strcmp(cmd, "session") &&
        strcmp(cmd, "apply") && strcmp(cmd, "rooms") &&
        strcmp(cmd, "sockets") && strcmp(cmd, "emit") && strcmp(cmd, "server-emit")) {
        fprintf(stderr, "sidecastctl: unknown command '%s' (see --help)\n", cmd);
        return 2;
    }
    sc_client_options opts = {.path = path, .name = "sidecastctl", .timeout_ms = timeout};
    sc_client *c;
    if (sc_client_open(&opts, &c) < 0) {
        fprintf(stderr, "sidecastctl: %s\n", sc_client_last_error(c));
        sc_client_close(c);
        return 1;
    }
    int rc = 0, r = 0;
    int sub_argc = argc - optind;
    char **sub_argv = argv + optind;
    if (strcmp(cmd, "ping") == 0) {
        uint64_t rtt;
        r = sc_client_ping(c, timeout, &rtt);
        if (r == 0 && json)
            printf("{\"node_id\":\"%s\",\"node_name\":\"%s\",\"rtt_us\":%llu}\n",
                   sc_client_node_id(c), sc_client_node_name(c), (unsigned long long)rtt);
        else if (r == 0)
            printf("PONG from %s (node %s) in %llu us\n", sc_client_node_name(c),
                   sc_client_node_id(c), (unsigned long long)rtt);
    } else if (strcmp(cmd, "apply") == 0) {
        rc = cmd_apply(c, sub_argc, sub_argv, timeout);
    } else if (strcmp(cmd, "lookup") == 0) {
        rc = cmd_lookup(c, sub_argc, sub_argv, timeout);
    } else if (strcmp(cmd, "session") == 0) {
        rc = cmd_session(c, sub_argc, sub_argv, timeout);
    } else if (strcmp(cmd, "presence") == 0) {
        sc_presence p;
        if (sub_argc != 2) {
            fprintf(stderr, "sidecastctl presence: USER\n");
            rc = 2;
        } else if ((r = sc_client_presence(c, sub_argv[1], &p, timeout)) == 0) {
            if (json)
                printf("{\"online\":%s,\"sockets\":%u,\"nodes\":%u}\n",
                       p.online ? "true" : "false", p.sockets, p.nodes);
            else
                printf("%s: %s, %u socket(s) on %u node(s)\n", sub_argv[1],
                       p.online ? "online" : "offline", p.sockets, p.nodes);
        }
    } else if (strcmp(cmd, "nodes") == 0) {
        r = sc_client_nodes_info(c, print_node, NULL, timeout);
        if (r == 0 && json)
            printf("%s]\n", first_item ? "[" : "");
    } else if (strcmp(cmd, "stats") == 0) {
        r = sc_client_stats(c, print_stat, NULL, timeout);
        if (r == 0 && json)
            printf("%s}\n", first_item ? "{" : "");
    } else if (strcmp(cmd, "rooms") == 0) {
        r = sc_client_rooms(c, (const char *const *)sub_argv + 1, (size_t)sub_argc - 1,
                            print_room, NULL, timeout);
        if (r == 0 && json)
            printf("%s]\n", first_item ? "[" : "");
    } else if (strcmp(cmd, "sockets") == 0) {
        rc = cmd_sockets(c, sub_argc, sub_argv);
    } else if (strcmp(cmd, "server-emit") == 0) {
        rc = cmd_server_emit(c, sub_argc, sub_argv);
    } else {
        rc = cmd_emit(c, sub_argc, sub_argv);
    }
    if (r < 0) {
        fprintf(stderr, "sidecastctl: %s\n", sc_client_last_error(c));
        rc = 1;
    }
    sc_client_close(c);
    return rc;
}
