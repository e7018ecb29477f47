/* libsidecast: connection, framing, the local mirror of registrations, and
 * blocking calls built on a single poll loop that also dispatches whatever
 * else arrives (deliveries keep flowing while a call waits). */
#include "sidecast.h"
#include "client_int.h"

#include "buf.h"
#include "cluster.pb-c.h"
#include "registry.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <sys/stat.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define M(name) SIDECAST__V1__FRAME__MSG_##name
#define CLIENT_MAX_FRAME (64u * 1024u * 1024u)
#define READ_CHUNK (64 * 1024)

/* The public header spells the proto's feature bits without including
 * generated code; they must stay the same numbers. */
_Static_assert(SC_FEATURE_NODE_VERSIONS == SIDECAST__V1__FEATURE__FEATURE_NODE_VERSIONS,
               "SC_FEATURE_NODE_VERSIONS differs from sidecast.proto");
_Static_assert(SC_CLUSTER_FEATURE_UNSUPPORTED_ANSWER ==
                   SIDECAST__CLUSTER__V1__CLUSTER_FEATURE__CLUSTER_FEATURE_UNSUPPORTED_ANSWER,
               "SC_CLUSTER_FEATURE_UNSUPPORTED_ANSWER differs from cluster.proto");
_Static_assert(SC_CLUSTER_FEATURE_ANNOUNCE ==
                   SIDECAST__CLUSTER__V1__CLUSTER_FEATURE__CLUSTER_FEATURE_ANNOUNCE,
               "SC_CLUSTER_FEATURE_ANNOUNCE differs from cluster.proto");
_Static_assert(SC_CLUSTER_FEATURE_PRIVATE_ROOMS ==
                   SIDECAST__CLUSTER__V1__CLUSTER_FEATURE__CLUSTER_FEATURE_PRIVATE_ROOMS,
               "SC_CLUSTER_FEATURE_PRIVATE_ROOMS differs from cluster.proto");
_Static_assert(SC_CLUSTER_FEATURE_QUIET_ROOMS ==
                   SIDECAST__CLUSTER__V1__CLUSTER_FEATURE__CLUSTER_FEATURE_QUIET_ROOMS,
               "SC_CLUSTER_FEATURE_QUIET_ROOMS differs from cluster.proto");

typedef void (*reply_fn)(sc_client *c, const sc_frame *f, void *ud);

struct sc_client {
    sc_client_options opts;
    char *path, *name;
    int fd;
    sc_buf in, out;
    sc_arena arena;
    sc_registry mirror;
    sc_owner me;
    uint64_t next_id;
    char last_error[512];
    char node_id[64];
    char node_name[256];
    /* from the last Welcome: 0 when sidecastd predates negotiation */
    uint64_t server_features;
    uint32_t server_protocol, server_min_protocol;
    /* the one blocking call in progress */
    uint64_t wait_id;
    bool wait_done;
    int wait_rc;
    reply_fn wait_cb;
    void *wait_ud;
    bool broken;
};

static int set_error(sc_client *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int set_error(sc_client *c, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
    va_end(ap);
    return rc;
}

int sc_internal_fail(sc_client *c, int rc, const char *why)
{
    return set_error(c, rc, "%s", why);
}

const char *sc_client_last_error(const sc_client *c)
{
    return c->last_error;
}
const char *sc_client_node_id(const sc_client *c)
{
    return c->node_id;
}
const char *sc_client_node_name(const sc_client *c)
{
    return c->node_name;
}
uint64_t sc_client_server_features(const sc_client *c)
{
    return c->server_features;
}
uint32_t sc_client_server_protocol_version(const sc_client *c)
{
    return c->server_protocol;
}
uint32_t sc_client_server_min_protocol_version(const sc_client *c)
{
    return c->server_min_protocol;
}
bool sc_client_has_features(const sc_client *c, uint64_t features)
{
    return (c->server_features & SC_CLIENT_FEATURES & features) == features;
}

/* A single bit's name from the generated enum descriptor, so a bit added to
 * the .proto is named without touching this file. */
static const char *bit_name(const ProtobufCEnumDescriptor *d, uint64_t bit)
{
    if (bit == 0 || (bit & (bit - 1)) != 0 || bit > INT32_MAX)
        return NULL;
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, (int)bit);
    return v ? v->name : NULL;
}
const char *sc_client_feature_name(uint64_t bit)
{
    return bit_name(&sidecast__v1__feature__descriptor, bit);
}
const char *sc_client_cluster_feature_name(uint64_t bit)
{
    return bit_name(&sidecast__cluster__v1__cluster_feature__descriptor, bit);
}
int sc_client_fd(const sc_client *c)
{
    return c->fd;
}
bool sc_client_wants_write(const sc_client *c)
{
    return sc_buf_used(&c->out) > 0;
}

static int timeout_of(const sc_client *c, int timeout_ms)
{
    return timeout_ms > 0 ? timeout_ms : c->opts.timeout_ms;
}

static int code_to_errno(int code)
{
    switch (code) {
    case SC_ERR_DUPLICATE: return -EEXIST;
    case SC_ERR_NOT_FOUND: return -ENOENT;
    case SC_ERR_INVALID: return -EINVAL;
    case SC_ERR_LIMIT: return -ENOSPC;
    case SC_ERR_TOO_LARGE: return -EMSGSIZE;
    case SC_ERR_SHUTTING_DOWN: return -ESHUTDOWN;
    case SC_ERR_TIMEOUT: return -ETIMEDOUT;
    case SC_ERR_UNAVAILABLE: return -EAGAIN;
    default: return -EPROTO;
    }
}

/* ---- output ------------------------------------------------------------ */

int sc_client_flush(sc_client *c)
{
    if (c->fd < 0)
        return -ENOTCONN;
    while (sc_buf_used(&c->out) > 0) {
        ssize_t n = send(c->fd, sc_buf_head(&c->out), sc_buf_used(&c->out), MSG_NOSIGNAL);
        if (n > 0) {
            sc_buf_consume(&c->out, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 1;
        c->broken = true;
        return set_error(c, -EPIPE, "write to sidecastd failed: %s",
                         n < 0 ? strerror(errno) : "closed");
    }
    return 0;
}

static int pump(sc_client *c, int timeout_ms);

static int queue_frame(sc_client *c, const sc_frame *f)
{
    if (c->fd < 0 || c->broken)
        return set_error(c, -ENOTCONN, "not connected to sidecastd");
    size_t need = sc_wire_size(f);
    uint64_t deadline = sc_now_us() + (uint64_t)c->opts.timeout_ms * 1000u;
    while (sc_buf_used(&c->out) > 0 && sc_buf_used(&c->out) + need > c->opts.max_output) {
        if (c->opts.nonblocking)
            return set_error(c, -ENOBUFS, "output queue full (%zu bytes)", sc_buf_used(&c->out));
        uint64_t now = sc_now_us();
        if (now >= deadline)
            return set_error(c, -ETIMEDOUT, "sidecastd did not read for %d ms",
                             c->opts.timeout_ms);
        int r = pump(c, (int)((deadline - now) / 1000u) + 1);
        if (r < 0)
            return r;
    }
    sc_wire_append_sized(&c->out, f, need);
    return 0;
}

/* ---- input ------------------------------------------------------------- */

typedef struct resolve_ctx {
    sc_client *c;
    const Sidecast__V1__Deliver *d;
} resolve_ctx;

static void resolve_cb(sc_socket *s, void *ud)
{
    resolve_ctx *rc = ud;
    rc->c->opts.on_deliver(rc->c->opts.ud, sc_socket_id(s), rc->d->payload.data,
                           rc->d->payload.len);
}

static void target_from(sc_target *t, const sc_selector *s)
{
    memset(t, 0, sizeof(*t));
    if (!s)
        return;
    t->rooms = (const char *const *)s->rooms;
    t->n_rooms = s->n_rooms;
    t->socket_ids = (const char *const *)s->socket_ids;
    t->n_socket_ids = s->n_socket_ids;
    t->all = s->all;
    t->except_rooms = (const char *const *)s->except_rooms;
    t->n_except_rooms = s->n_except_rooms;
    t->except_ids = (const char *const *)s->except_ids;
    t->n_except_ids = s->n_except_ids;
    t->user_ids = (const char *const *)s->user_ids;
    t->n_user_ids = s->n_user_ids;
}

static void on_deliver(sc_client *c, const Sidecast__V1__Deliver *d)
{
    bool resolve = true;
    if (c->opts.on_delivery || (d->ack_id && c->opts.on_deliver_ack)) {
        sc_delivery dv = {d->payload.data, d->payload.len, d->volatile_, {0}};
        target_from(&dv.to, d->to);
        if (d->ack_id && c->opts.on_deliver_ack) {
            c->opts.on_deliver_ack(c->opts.ud, d->ack_id, &dv);
            return;
        }
        resolve = c->opts.on_delivery(c->opts.ud, &dv);
    }
    if (resolve && c->opts.on_deliver && d->to) {
        resolve_ctx rc = {c, d};
        sc_registry_select(&c->mirror, NULL, d->to, resolve_cb, &rc);
    }
}

static void on_async_error(sc_client *c, const Sidecast__V1__Error *e)
{
    /* A refused socket up must not stay in the mirror, or a reconnect would
     * register a socket the sidecar never accepted. */
    if ((int)e->code == SC_ERR_DUPLICATE && e->ref && e->ref[0]) {
        sc_socket *s = sc_registry_find_socket(&c->mirror, e->ref);
        if (s)
            sc_registry_remove_socket(&c->mirror, s);
    }
    if (e->fatal)
        set_error(c, -EPROTO, "sidecastd: %s", e->message);
    if (c->opts.on_error)
        c->opts.on_error(c->opts.ud, e->code, e->message, e->ref);
}

static bool has_more(const sc_frame *f)
{
    if (f->msg_case == M(SOCKET_LIST))
        return f->socket_list->more;
    if (f->msg_case == M(ROOM_LIST))
        return f->room_list->more;
    if (f->msg_case == M(PROGRESS))
        return !f->progress->done;
    return false;
}

static int send_join_leave(sc_client *c, int msg_case, const char *id, char **rooms, size_t n);

typedef struct apply_ctx {
    sc_client *c;
    const Sidecast__V1__Apply *a;
    char **ids;
    size_t n;
} apply_ctx;

static void apply_collect(sc_socket *s, void *ud)
{
    apply_ctx *ax = ud;
    ax->ids[ax->n++] = (char *)sc_socket_id(s);
}

/* A cluster request for our sockets: apply it to the registration, tell
 * the sidecar what changed, and let the app act (close connections). */
static void on_apply(sc_client *c, const Sidecast__V1__Apply *a)
{
    if (!a->filter)
        return;
    apply_ctx ax = {c, a, sc_xmalloc(sizeof(char *) * (c->mirror.sockets.count + 1)), 0};
    sc_registry_select(&c->mirror, NULL, a->filter, apply_collect, &ax);
    for (size_t i = 0; i < ax.n; i++) {
        /* copy: the id's storage goes with the socket on disconnect */
        char *id = sc_xstrdup(ax.ids[i]);
        sc_socket *s = sc_registry_find_socket(&c->mirror, id);
        for (size_t j = 0; s && j < a->n_join; j++)
            sc_registry_join(&c->mirror, s, a->join[j]);
        for (size_t j = 0; s && j < a->n_leave; j++)
            sc_registry_leave(&c->mirror, s, a->leave[j]);
        if (!a->disconnect) {
            if (a->n_join)
                send_join_leave(c, M(JOIN), id, a->join, a->n_join);
            if (a->n_leave)
                send_join_leave(c, M(LEAVE), id, a->leave, a->n_leave);
        }
        if (c->opts.on_apply)
            c->opts.on_apply(c->opts.ud, id, (const char *const *)a->join, a->n_join,
                             (const char *const *)a->leave, a->n_leave, a->disconnect, a->close);
        if (a->disconnect && sc_registry_find_socket(&c->mirror, id))
            sc_client_socket_down(c, id);
        free(id);
    }
    free(ax.ids);
}

static void dispatch(sc_client *c, const sc_frame *f)
{
    if (f->id != 0 && f->id == c->wait_id && !c->wait_done) {
        if (f->msg_case == M(ERROR)) {
            c->wait_rc = code_to_errno(f->error->code);
            set_error(c, c->wait_rc, "sidecastd: %s", f->error->message);
            c->wait_done = true;
            return;
        }
        if (c->wait_cb)
            c->wait_cb(c, f, c->wait_ud);
        c->wait_done = !has_more(f);
        return;
    }
    if (f->msg_case == M(DELIVER)) {
        on_deliver(c, f->deliver);
    } else if (f->msg_case == M(ERROR)) {
        on_async_error(c, f->error);
    } else if (f->msg_case == M(APPLY)) {
        on_apply(c, f->apply);
    } else if (f->msg_case == M(SERVER_MESSAGE)) {
        const Sidecast__V1__ServerMessage *m = f->server_message;
        if (c->opts.on_server_message)
            c->opts.on_server_message(c->opts.ud, m->payload.data, m->payload.len, m->ack_id,
                                      m->origin_node);
        else if (m->ack_id) /* nobody to answer: say so, so nobody waits */
            sc_client_ack(c, m->ack_id, 0, NULL, NULL, 0, true);
    } else if (f->msg_case == M(GAP)) {
        if (c->opts.on_gap)
            c->opts.on_gap(c->opts.ud, f->gap->from_unix_ms, f->gap->to_unix_ms, f->gap->reason);
    }
}

static int process_input(sc_client *c)
{
    for (;;) {
        uint32_t len;
        int r = sc_wire_peek(sc_buf_head(&c->in), sc_buf_used(&c->in), CLIENT_MAX_FRAME, &len);
        if (r == 0)
            return 0;
        if (r < 0) {
            c->broken = true;
            return set_error(c, -EMSGSIZE, "sidecastd sent a frame of %u bytes", len);
        }
        sc_frame *f = sc_wire_unpack(&c->arena, sc_buf_head(&c->in) + SC_FRAME_HEADER, len);
        if (!f) {
            c->broken = true;
            return set_error(c, -EPROTO, "sidecastd sent a malformed frame");
        }
        dispatch(c, f);
        sc_arena_reset(&c->arena);
        sc_buf_consume(&c->in, SC_FRAME_HEADER + len);
    }
}

int sc_client_read(sc_client *c)
{
    if (c->fd < 0)
        return -ENOTCONN;
    for (int i = 0; i < 16; i++) {
        uint8_t *p = sc_buf_reserve(&c->in, READ_CHUNK);
        ssize_t n = recv(c->fd, p, READ_CHUNK, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            c->broken = true;
            process_input(c);
            if (!c->last_error[0] || strncmp(c->last_error, "sidecastd:", 10) != 0)
                set_error(c, -EPIPE, "sidecastd closed the connection");
            return -EPIPE;
        }
        sc_buf_commit(&c->in, (size_t)n);
        int r = process_input(c);
        if (r < 0)
            return r;
        if ((size_t)n < READ_CHUNK)
            break;
    }
    sc_buf_shrink(&c->in, 256 * 1024);
    return 0;
}

/* Wait for input or writability once, up to timeout_ms, and handle it. */
static int pump(sc_client *c, int timeout_ms)
{
    struct pollfd p = {c->fd, POLLIN, 0};
    if (sc_buf_used(&c->out) > 0) {
        int r = sc_client_flush(c);
        if (r < 0)
            return r;
        if (r == 1)
            p.events |= POLLOUT;
    }
    int n = poll(&p, 1, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    if (n == 0)
        return 0;
    if (p.revents & POLLOUT) {
        int r = sc_client_flush(c);
        if (r < 0)
            return r;
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR))
        return sc_client_read(c);
    return 0;
}

int sc_client_poll(sc_client *c, int timeout_ms)
{
    if (c->fd < 0)
        return -ENOTCONN;
    return pump(c, timeout_ms);
}

/* Send a request and wait for its answer(s); cb sees each reply frame. */
static int call(sc_client *c, sc_frame *f, reply_fn cb, void *ud, int timeout_ms)
{
    if (c->wait_id)
        return set_error(c, -EBUSY, "a blocking call is already in progress");
    f->id = ++c->next_id;
    int r = queue_frame(c, f);
    if (r < 0)
        return r;
    c->wait_id = f->id;
    c->wait_done = false;
    c->wait_rc = 0;
    c->wait_cb = cb;
    c->wait_ud = ud;
    uint64_t deadline = sc_now_us() + (uint64_t)timeout_of(c, timeout_ms) * 1000u;
    while (!c->wait_done) {
        uint64_t now = sc_now_us();
        if (now >= deadline) {
            r = set_error(c, -ETIMEDOUT, "no answer from sidecastd within %d ms",
                          timeout_of(c, timeout_ms));
            break;
        }
        r = pump(c, (int)((deadline - now + 999) / 1000u));
        if (r < 0)
            break;
    }
    if (c->wait_done)
        r = c->wait_rc;
    c->wait_id = 0;
    c->wait_cb = NULL;
    return r;
}

/* ---- connection -------------------------------------------------------- */

static void on_welcome(sc_client *c, const sc_frame *f, void *ud)
{
    (void)ud;
    if (f->msg_case != M(WELCOME))
        return;
    snprintf(c->node_id, sizeof(c->node_id), "%s", f->welcome->node_id);
    snprintf(c->node_name, sizeof(c->node_name), "%s", f->welcome->node_name);
    /* absent fields (a sidecastd from before negotiation) decode as 0 */
    c->server_features = f->welcome->features;
    c->server_protocol = f->welcome->protocol_version;
    c->server_min_protocol = f->welcome->min_protocol_version;
}

/* What to do about a failed connect, for people: the socket's directory
 * missing, its group when permission is denied, nothing listening. */
static void connect_hint(const char *path, int err, char *out, size_t len)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    snprintf(dir, sizeof(dir), "%s", path);
    struct stat st;
    out[0] = '\0';
    if (err == ENOENT && stat(dirname(dir), &st) < 0) {
        snprintf(out, len, " (directory %s does not exist: is sidecastd installed and started? "
                           "systemctl start sidecast)", dir);
    } else if (err == ENOENT) {
        snprintf(out, len, " (no socket there: is sidecastd running, and is this its socket "
                           "setting?)");
    } else if (err == ECONNREFUSED) {
        snprintf(out, len, " (nothing listens on it: sidecastd stopped and left the file)");
    } else if (err == EACCES && stat(path, &st) == 0) {
        const struct group *g = getgrgid(st.st_gid);
        const struct passwd *pw = getpwuid(geteuid());
        char gname[64];
        snprintf(gname, sizeof(gname), "%s", g ? g->gr_name : "?");
        snprintf(out, len,
                 " (the socket is mode %04o, group %s: add this user to it, e.g. usermod -aG %s "
                 "%s, and log in again; or set allow_uids / socket_group in sidecast.conf)",
                 (unsigned)(st.st_mode & 07777), gname, gname, pw ? pw->pw_name : "USER");
    }
}

static int connect_and_hello(sc_client *c)
{
    struct sockaddr_un a = {0};
    a.sun_family = AF_UNIX;
    if (strlen(c->path) >= sizeof(a.sun_path))
        return set_error(c, -ENAMETOOLONG, "socket path too long: %s", c->path);
    strcpy(a.sun_path, c->path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return set_error(c, -errno, "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        int err = errno;
        close(fd);
        char hint[400];
        connect_hint(c->path, err, hint, sizeof(hint));
        return set_error(c, -err, "cannot connect to sidecastd at %s: %s%s", c->path,
                         strerror(err), hint);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    c->fd = fd;
    c->broken = false;
    sc_buf_free(&c->in);
    sc_buf_free(&c->out);
    c->server_features = 0;
    c->server_protocol = c->server_min_protocol = 0;
    Sidecast__V1__Hello h = SIDECAST__V1__HELLO__INIT;
    h.protocol_version = SC_PROTOCOL_VERSION;
    h.client_name = c->name;
    h.pid = (uint32_t)getpid();
    h.features = SC_CLIENT_FEATURES;
    sc_frame f = SC_FRAME_INIT;
    f.msg_case = M(HELLO);
    f.hello = &h;
    int r = call(c, &f, on_welcome, NULL, 0);
    if (r < 0) {
        close(c->fd);
        c->fd = -1;
    }
    return r;
}

int sc_client_open(const sc_client_options *opts, sc_client **ret)
{
    sc_client *c = sc_xcalloc(1, sizeof(*c));
    c->opts = *opts;
    c->path = sc_xstrdup(opts->path ? opts->path : SIDECAST_DEFAULT_SOCKET);
    c->name = sc_xstrdup(opts->name ? opts->name : "libsidecast");
    c->opts.path = c->path;
    c->opts.name = c->name;
    if (c->opts.timeout_ms <= 0)
        c->opts.timeout_ms = 5000;
    if (c->opts.max_output == 0)
        c->opts.max_output = 8u * 1024u * 1024u;
    c->fd = -1;
    sc_buf_init(&c->in);
    sc_buf_init(&c->out);
    sc_arena_init(&c->arena, 64 * 1024);
    sc_registry_init(&c->mirror);
    sc_owner_init(&c->me, c);
    int r = connect_and_hello(c);
    if (r < 0) {
        *ret = c; /* caller reads sc_client_last_error, then closes */
        return r;
    }
    *ret = c;
    return 0;
}

void sc_client_close(sc_client *c)
{
    if (!c)
        return;
    if (c->fd >= 0) {
        /* Bounded: queued fire-and-forget frames get their chance to go. */
        uint64_t deadline = sc_now_us() + (uint64_t)c->opts.timeout_ms * 1000u;
        while (!c->broken && sc_buf_used(&c->out) > 0 && !c->opts.nonblocking &&
               sc_now_us() < deadline)
            if (pump(c, 50) < 0)
                break;
        close(c->fd);
    }
    sc_registry_free(&c->mirror);
    sc_owner_free(&c->me);
    sc_buf_free(&c->in);
    sc_buf_free(&c->out);
    sc_arena_free(&c->arena);
    free(c->path);
    free(c->name);
    free(c);
}

/* ---- registration ------------------------------------------------------ */

static sc_frame frame_of(int msg_case, void *msg)
{
    sc_frame f = SC_FRAME_INIT;
    f.msg_case = msg_case;
    f.hello = msg; /* all oneof members share storage */
    return f;
}

static int send_socket_up(sc_client *c, const sc_socket *s)
{
    uint32_t n;
    void *const *slots = sc_pset_slots(&s->rooms, &n);
    char **rooms = sc_xmalloc(sizeof(char *) * (sc_pset_count(&s->rooms) + 1));
    size_t nr = 0;
    for (uint32_t i = 0; i < n; i++)
        if (slots[i])
            rooms[nr++] = ((sc_room *)slots[i])->name;
    Sidecast__V1__SocketUp u = SIDECAST__V1__SOCKET_UP__INIT;
    u.socket_id = (char *)sc_socket_id(s);
    u.session_id = (char *)sc_socket_sid(s);
    u.user_id = (char *)sc_socket_uid(s);
    u.data.data = s->data;
    u.data.len = s->data_len;
    u.rooms = rooms;
    u.n_rooms = nr;
    sc_frame f = frame_of(M(SOCKET_UP), &u);
    int r = queue_frame(c, &f);
    free(rooms);
    return r;
}

int sc_client_socket_up(sc_client *c, const char *socket_id, const char *session_id,
                        const char *user_id, const uint8_t *data, size_t data_len,
                        const char *const *rooms, size_t n_rooms)
{
    sc_socket *s;
    int r = sc_registry_add_socket(&c->mirror, &c->me, socket_id, session_id, user_id, data,
                                   data_len, &s);
    if (r < 0)
        return set_error(c, r, "socket %s: %s", socket_id,
                         r == -EEXIST ? "already registered by this client" : "invalid id");
    for (size_t i = 0; i < n_rooms; i++) {
        if (sc_registry_join(&c->mirror, s, rooms[i]) < 0) {
            sc_registry_remove_socket(&c->mirror, s);
            return set_error(c, -EINVAL, "socket %s: invalid room name", socket_id);
        }
    }
    r = send_socket_up(c, s);
    if (r < 0)
        sc_registry_remove_socket(&c->mirror, s);
    return r;
}

static sc_socket *mine(sc_client *c, const char *socket_id)
{
    sc_socket *s = sc_registry_find_socket(&c->mirror, socket_id);
    if (!s)
        set_error(c, -ENOENT, "socket %s is not registered by this client", socket_id);
    return s;
}

int sc_client_socket_down(sc_client *c, const char *socket_id)
{
    sc_socket *s = mine(c, socket_id);
    if (!s)
        return -ENOENT;
    sc_registry_remove_socket(&c->mirror, s);
    Sidecast__V1__SocketDown d = SIDECAST__V1__SOCKET_DOWN__INIT;
    d.socket_id = (char *)socket_id;
    sc_frame f = frame_of(M(SOCKET_DOWN), &d);
    return queue_frame(c, &f);
}

static int send_join_leave(sc_client *c, int msg_case, const char *id, char **rooms, size_t n)
{
    /* Join and Leave have the same shape */
    Sidecast__V1__Join j = SIDECAST__V1__JOIN__INIT;
    j.socket_id = (char *)id;
    j.rooms = rooms;
    j.n_rooms = n;
    Sidecast__V1__Leave l = SIDECAST__V1__LEAVE__INIT;
    l.socket_id = (char *)id;
    l.rooms = rooms;
    l.n_rooms = n;
    sc_frame f = frame_of(msg_case, msg_case == M(JOIN) ? (void *)&j : (void *)&l);
    return queue_frame(c, &f);
}

int sc_client_join(sc_client *c, const char *socket_id, const char *const *rooms, size_t n)
{
    sc_socket *s = mine(c, socket_id);
    if (!s)
        return -ENOENT;
    for (size_t i = 0; i < n; i++)
        if (sc_registry_join(&c->mirror, s, rooms[i]) < 0)
            return set_error(c, -EINVAL, "socket %s: invalid room name", socket_id);
    return send_join_leave(c, M(JOIN), socket_id, (char **)rooms, n);
}

int sc_client_leave(sc_client *c, const char *socket_id, const char *const *rooms, size_t n)
{
    sc_socket *s = mine(c, socket_id);
    if (!s)
        return -ENOENT;
    if (n == 0)
        sc_registry_leave_all(&c->mirror, s);
    for (size_t i = 0; i < n; i++)
        sc_registry_leave(&c->mirror, s, rooms[i]);
    return send_join_leave(c, M(LEAVE), socket_id, (char **)rooms, n);
}

int sc_client_set_data(sc_client *c, const char *socket_id, const uint8_t *data, size_t len)
{
    sc_socket *s = mine(c, socket_id);
    if (!s)
        return -ENOENT;
    sc_registry_set_data(&c->mirror, s, data, len);
    Sidecast__V1__SetData d = SIDECAST__V1__SET_DATA__INIT;
    d.socket_id = (char *)socket_id;
    d.data.data = (uint8_t *)data;
    d.data.len = len;
    sc_frame f = frame_of(M(SET_DATA), &d);
    return queue_frame(c, &f);
}

static void selector_from(sc_selector *s, const sc_target *t)
{
    sidecast__v1__selector__init(s);
    if (!t)
        return;
    s->rooms = (char **)t->rooms;
    s->n_rooms = t->n_rooms;
    s->socket_ids = (char **)t->socket_ids;
    s->n_socket_ids = t->n_socket_ids;
    s->all = t->all;
    s->except_rooms = (char **)t->except_rooms;
    s->n_except_rooms = t->n_except_rooms;
    s->except_ids = (char **)t->except_ids;
    s->n_except_ids = t->n_except_ids;
    s->user_ids = (char **)t->user_ids;
    s->n_user_ids = t->n_user_ids;
}

int sc_client_emit(sc_client *c, const sc_target *to, const sc_emit_flags *flags,
                   const uint8_t *payload, size_t len)
{
    sc_selector sel;
    selector_from(&sel, to);
    Sidecast__V1__Emit e = SIDECAST__V1__EMIT__INIT;
    e.to = &sel;
    e.payload.data = (uint8_t *)payload;
    e.payload.len = len;
    if (flags) {
        e.volatile_ = flags->is_volatile;
        e.include_self = flags->include_self;
        e.local = flags->local;
    }
    sc_frame f = frame_of(M(EMIT), &e);
    return queue_frame(c, &f);
}

int sc_client_reconnect(sc_client *c)
{
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    int r = connect_and_hello(c);
    if (r < 0)
        return r;
    for (uint32_t i = 0; i < c->mirror.sockets.cap; i++) {
        sc_socket *s = c->mirror.sockets.items[i];
        if (s && (r = send_socket_up(c, s)) < 0)
            return r;
    }
    return sc_client_sync(c, 0);
}

/* ---- blocking calls ------------------------------------------------------- */

int sc_client_ping(sc_client *c, int timeout_ms, uint64_t *ret_rtt_us)
{
    Sidecast__V1__Ping p = SIDECAST__V1__PING__INIT;
    p.nonce = sc_now_us();
    sc_frame f = frame_of(M(PING), &p);
    uint64_t t0 = sc_now_us();
    int r = call(c, &f, NULL, NULL, timeout_ms);
    if (r == 0 && ret_rtt_us)
        *ret_rtt_us = sc_now_us() - t0;
    return r;
}

int sc_client_sync(sc_client *c, int timeout_ms)
{
    return sc_client_ping(c, timeout_ms, NULL);
}

typedef struct stats_ctx {
    sc_stat_cb cb;
    void *ud;
} stats_ctx;

static void on_stats_reply(sc_client *c, const sc_frame *f, void *ud)
{
    (void)c;
    stats_ctx *sx = ud;
    if (f->msg_case != M(STATS_REPLY))
        return;
    for (size_t i = 0; i < f->stats_reply->n_stats; i++)
        sx->cb(sx->ud, f->stats_reply->stats[i]->name, f->stats_reply->stats[i]->value);
}

int sc_client_stats(sc_client *c, sc_stat_cb cb, void *ud, int timeout_ms)
{
    Sidecast__V1__StatsRequest q = SIDECAST__V1__STATS_REQUEST__INIT;
    sc_frame f = frame_of(M(STATS), &q);
    stats_ctx sx = {cb, ud};
    return call(c, &f, on_stats_reply, &sx, timeout_ms);
}

typedef struct one_stat {
    const char *name;
    uint64_t value;
    bool found;
} one_stat;

static void pick_stat(void *ud, const char *name, uint64_t value)
{
    one_stat *o = ud;
    if (strcmp(name, o->name) == 0) {
        o->value = value;
        o->found = true;
    }
}

int sc_client_stat(sc_client *c, const char *name, uint64_t *ret_value)
{
    one_stat o = {name, 0, false};
    int r = sc_client_stats(c, pick_stat, &o, 0);
    if (r < 0)
        return r;
    if (!o.found)
        return set_error(c, -ENOENT, "no stat named %s", name);
    *ret_value = o.value;
    return 0;
}

typedef struct fetch_ctx {
    sc_socket_cb cb;
    void *ud;
} fetch_ctx;

static void on_socket_list(sc_client *c, const sc_frame *f, void *ud)
{
    (void)c;
    fetch_ctx *fx = ud;
    if (f->msg_case != M(SOCKET_LIST))
        return;
    for (size_t i = 0; i < f->socket_list->n_sockets; i++) {
        const Sidecast__V1__SocketInfo *in = f->socket_list->sockets[i];
        sc_socket_view v = {in->socket_id, in->session_id,      in->user_id,
                            in->data.data, in->data.len,        (const char *const *)in->rooms,
                            in->n_rooms,   in->node_id};
        fx->cb(fx->ud, &v);
    }
}

int sc_client_fetch_sockets(sc_client *c, const sc_target *filter, bool with_data,
                            bool with_rooms, sc_socket_cb cb, void *ud, int timeout_ms)
{
    return sc_client_fetch_sockets_ex(c, filter, with_data, with_rooms, false, cb, ud,
                                      timeout_ms);
}

int sc_client_fetch_sockets_ex(sc_client *c, const sc_target *filter, bool with_data,
                               bool with_rooms, bool local, sc_socket_cb cb, void *ud,
                               int timeout_ms)
{
    sc_selector sel;
    selector_from(&sel, filter);
    Sidecast__V1__FetchSockets q = SIDECAST__V1__FETCH_SOCKETS__INIT;
    q.filter = &sel;
    q.with_data = with_data;
    q.with_rooms = with_rooms;
    q.local = local;
    sc_frame f = frame_of(M(FETCH_SOCKETS), &q);
    fetch_ctx fx = {cb, ud};
    return call(c, &f, on_socket_list, &fx, timeout_ms);
}

typedef struct rooms_ctx {
    sc_room_cb cb;
    void *ud;
} rooms_ctx;

static void on_room_list(sc_client *c, const sc_frame *f, void *ud)
{
    (void)c;
    rooms_ctx *rx = ud;
    if (f->msg_case != M(ROOM_LIST))
        return;
    for (size_t i = 0; i < f->room_list->n_rooms; i++)
        rx->cb(rx->ud, f->room_list->rooms[i]->name, f->room_list->rooms[i]->size);
}

int sc_client_rooms(sc_client *c, const char *const *names, size_t n, sc_room_cb cb, void *ud,
                    int timeout_ms)
{
    Sidecast__V1__RoomsRequest q = SIDECAST__V1__ROOMS_REQUEST__INIT;
    q.names = (char **)names;
    q.n_names = n;
    sc_frame f = frame_of(M(ROOMS), &q);
    rooms_ctx rx = {cb, ud};
    return call(c, &f, on_room_list, &rx, timeout_ms);
}

/* ---- cluster calls ------------------------------------------------------------ */

typedef struct nodes_ctx {
    sc_node_cb cb;
    void *ud;
} nodes_ctx;

static void on_node_list(sc_client *c, const sc_frame *f, void *ud)
{
    nodes_ctx *nx = ud;
    if (f->msg_case != M(NODE_LIST))
        return;
    for (size_t i = 0; i < f->node_list->n_nodes; i++)
        nx->cb(nx->ud, f->node_list->nodes[i]->node_id, f->node_list->nodes[i]->node_name,
               f->node_list->nodes[i]->self);
}

int sc_client_nodes(sc_client *c, sc_node_cb cb, void *ud, int timeout_ms)
{
    Sidecast__V1__NodesRequest q = SIDECAST__V1__NODES_REQUEST__INIT;
    sc_frame f = frame_of(M(NODES), &q);
    nodes_ctx nx = {cb, ud};
    return call(c, &f, on_node_list, &nx, timeout_ms);
}

typedef struct nodes_info_ctx {
    sc_node_info_cb cb;
    void *ud;
} nodes_info_ctx;

static void on_node_info_list(sc_client *c, const sc_frame *f, void *ud)
{
    nodes_info_ctx *nx = ud;
    if (f->msg_case != M(NODE_LIST))
        return;
    /* Without the feature on both sides the fields mean nothing, whatever
     * they hold. */
    bool versioned = sc_client_has_features(c, SC_FEATURE_NODE_VERSIONS);
    for (size_t i = 0; i < f->node_list->n_nodes; i++) {
        const Sidecast__V1__NodeInfo *in = f->node_list->nodes[i];
        sc_node_info n = {
            .node_id = in->node_id,
            .node_name = in->node_name,
            .self = in->self,
            .versioned = versioned,
            .version = versioned ? in->version : 0,
            .features = versioned ? in->features : 0,
        };
        nx->cb(nx->ud, &n);
    }
}

int sc_client_nodes_info(sc_client *c, sc_node_info_cb cb, void *ud, int timeout_ms)
{
    Sidecast__V1__NodesRequest q = SIDECAST__V1__NODES_REQUEST__INIT;
    sc_frame f = frame_of(M(NODES), &q);
    nodes_info_ctx nx = {cb, ud};
    return call(c, &f, on_node_info_list, &nx, timeout_ms);
}

int sc_client_apply(sc_client *c, const sc_apply *a, int timeout_ms)
{
    sc_selector sel;
    selector_from(&sel, a->filter);
    if (!a->filter)
        sel.all = true;
    Sidecast__V1__Apply m = SIDECAST__V1__APPLY__INIT;
    m.filter = &sel;
    m.join = (char **)a->join;
    m.n_join = a->n_join;
    m.leave = (char **)a->leave;
    m.n_leave = a->n_leave;
    m.disconnect = a->disconnect;
    m.close = a->close;
    m.local = a->local;
    sc_frame f = frame_of(M(APPLY), &m);
    return call(c, &f, NULL, NULL, timeout_ms);
}

typedef struct progress_ctx {
    sc_progress_cb cb;
    void *ud;
} progress_ctx;

static void on_progress(sc_client *c, const sc_frame *f, void *ud)
{
    progress_ctx *px = ud;
    if (f->msg_case != M(PROGRESS) || !px->cb)
        return;
    const Sidecast__V1__Progress *p = f->progress;
    const uint8_t **payloads = sc_arena_alloc(&c->arena, sizeof(uint8_t *) * (p->n_payloads + 1));
    size_t *lens = sc_arena_alloc(&c->arena, sizeof(size_t) * (p->n_payloads + 1));
    for (size_t i = 0; i < p->n_payloads; i++) {
        payloads[i] = p->payloads[i].data;
        lens[i] = p->payloads[i].len;
    }
    sc_progress pr = {p->expect,  payloads,          lens,         p->n_payloads,
                      p->done,    p->timed_out,      p->nodes_expected, p->nodes_answered};
    px->cb(px->ud, &pr);
}

int sc_client_server_emit(sc_client *c, const uint8_t *payload, size_t len, bool local,
                          sc_progress_cb cb, void *ud, int timeout_ms)
{
    Sidecast__V1__ServerEmit e = SIDECAST__V1__SERVER_EMIT__INIT;
    e.payload.data = (uint8_t *)payload;
    e.payload.len = len;
    e.want_ack = cb != NULL;
    e.local = local;
    sc_frame f = frame_of(M(SERVER_EMIT), &e);
    progress_ctx px = {cb, ud};
    return call(c, &f, on_progress, &px, timeout_ms);
}

int sc_client_emit_with_ack(sc_client *c, const sc_target *to, const sc_emit_flags *flags,
                            const uint8_t *payload, size_t len, sc_progress_cb cb, void *ud,
                            int timeout_ms)
{
    sc_selector sel;
    selector_from(&sel, to);
    Sidecast__V1__Emit e = SIDECAST__V1__EMIT__INIT;
    e.to = &sel;
    e.payload.data = (uint8_t *)payload;
    e.payload.len = len;
    e.want_ack = true;
    if (flags) {
        e.volatile_ = flags->is_volatile;
        e.include_self = flags->include_self;
        e.local = flags->local;
    }
    sc_frame f = frame_of(M(EMIT), &e);
    progress_ctx px = {cb, ud};
    return call(c, &f, on_progress, &px, timeout_ms);
}

int sc_client_ack(sc_client *c, uint64_t ack_id, uint32_t expect, const uint8_t *const *payloads,
                  const size_t *lens, size_t n, bool done)
{
    ProtobufCBinaryData *bins = sc_xmalloc(sizeof(*bins) * (n + 1));
    for (size_t i = 0; i < n; i++) {
        bins[i].data = (uint8_t *)payloads[i];
        bins[i].len = lens[i];
    }
    Sidecast__V1__Ack a = SIDECAST__V1__ACK__INIT;
    a.ack_id = ack_id;
    a.expect = expect;
    a.payloads = bins;
    a.n_payloads = n;
    a.done = done;
    sc_frame f = frame_of(M(ACK), &a);
    int r = queue_frame(c, &f);
    free(bins);
    return r;
}

typedef struct resolve_count {
    void (*cb)(void *ud, const char *socket_id);
    void *ud;
    size_t n;
} resolve_count;

static void count_cb(sc_socket *s, void *ud)
{
    resolve_count *rc = ud;
    rc->n++;
    if (rc->cb)
        rc->cb(rc->ud, sc_socket_id(s));
}

size_t sc_client_resolve(sc_client *c, const sc_target *to,
                         void (*cb)(void *ud, const char *socket_id), void *ud)
{
    sc_selector sel;
    selector_from(&sel, to);
    resolve_count rc = {cb, ud, 0};
    sc_registry_select(&c->mirror, NULL, &sel, count_cb, &rc);
    return rc.n;
}

/* ---- lookups and session data ------------------------------------------------- */

typedef struct lookup_ctx {
    sc_location_cb cb;
    void *ud;
    int n;
    uint32_t nodes;
} lookup_ctx;

static void on_lookup_result(sc_client *c, const sc_frame *f, void *ud)
{
    lookup_ctx *lx = ud;
    if (f->msg_case != M(LOOKUP_RESULT))
        return;
    lx->nodes = f->lookup_result->nodes;
    for (size_t i = 0; i < f->lookup_result->n_sockets; i++) {
        const Sidecast__V1__SocketLocation *l = f->lookup_result->sockets[i];
        sc_location loc = {l->socket_id, l->session_id, l->user_id, l->node_id,
                           l->node_name, l->address,    l->local};
        if (lx->cb)
            lx->cb(lx->ud, &loc);
        lx->n++;
    }
}

static int lookup(sc_client *c, sc_lookup_kind kind, const char *key, bool local,
                  lookup_ctx *lx, int timeout_ms)
{
    Sidecast__V1__Lookup q = SIDECAST__V1__LOOKUP__INIT;
    q.local = local;
    if (kind == SC_BY_SESSION) {
        q.key_case = SIDECAST__V1__LOOKUP__KEY_SESSION_ID;
        q.session_id = (char *)key;
    } else if (kind == SC_BY_SOCKET) {
        q.key_case = SIDECAST__V1__LOOKUP__KEY_SOCKET_ID;
        q.socket_id = (char *)key;
    } else {
        q.key_case = SIDECAST__V1__LOOKUP__KEY_USER_ID;
        q.user_id = (char *)key;
    }
    sc_frame f = frame_of(M(LOOKUP), &q);
    int r = call(c, &f, on_lookup_result, lx, timeout_ms);
    return r < 0 ? r : lx->n;
}

int sc_client_lookup(sc_client *c, sc_lookup_kind kind, const char *key, bool local,
                     sc_location_cb cb, void *ud, int timeout_ms)
{
    lookup_ctx lx = {cb, ud, 0, 0};
    return lookup(c, kind, key, local, &lx, timeout_ms);
}

int sc_client_presence(sc_client *c, const char *user_id, sc_presence *ret, int timeout_ms)
{
    lookup_ctx lx = {NULL, NULL, 0, 0};
    int r = lookup(c, SC_BY_USER, user_id, false, &lx, timeout_ms);
    if (r < 0)
        return r;
    ret->online = lx.n > 0;
    ret->sockets = (uint32_t)lx.n;
    ret->nodes = lx.nodes;
    return 0;
}

typedef struct session_ctx {
    sc_session_entry_cb cb;
    void *ud;
    int n;
    bool connected;
} session_ctx;

static void on_session_data(sc_client *c, const sc_frame *f, void *ud)
{
    session_ctx *sx = ud;
    if (f->msg_case != M(SESSION_DATA))
        return;
    sx->connected = f->session_data->connected;
    for (size_t i = 0; i < f->session_data->n_entries; i++) {
        const Sidecast__V1__SessionEntry *e = f->session_data->entries[i];
        if (sx->cb)
            sx->cb(sx->ud, e->key, e->value.data, e->value.len);
        sx->n++;
    }
}

int sc_client_session_get(sc_client *c, const char *session_id, sc_session_entry_cb cb, void *ud,
                          bool *ret_connected, int timeout_ms)
{
    Sidecast__V1__SessionGet q = SIDECAST__V1__SESSION_GET__INIT;
    q.session_id = (char *)session_id;
    sc_frame f = frame_of(M(SESSION_GET), &q);
    session_ctx sx = {cb, ud, 0, false};
    int r = call(c, &f, on_session_data, &sx, timeout_ms);
    if (r < 0)
        return r;
    if (ret_connected)
        *ret_connected = sx.connected;
    return sx.n;
}

int sc_client_session_set(sc_client *c, const char *session_id, const sc_session_entry *set,
                          size_t n_set, const char *const *del, size_t n_del, int timeout_ms)
{
    Sidecast__V1__SessionEntry *es = sc_xcalloc(n_set + 1, sizeof(*es));
    Sidecast__V1__SessionEntry **ptrs = sc_xcalloc(n_set + 1, sizeof(*ptrs));
    for (size_t i = 0; i < n_set; i++) {
        sidecast__v1__session_entry__init(&es[i]);
        es[i].key = (char *)set[i].key;
        es[i].value.data = (uint8_t *)set[i].value;
        es[i].value.len = set[i].len;
        ptrs[i] = &es[i];
    }
    Sidecast__V1__SessionSet q = SIDECAST__V1__SESSION_SET__INIT;
    q.session_id = (char *)session_id;
    q.set = ptrs;
    q.n_set = n_set;
    q.delete_ = (char **)del;
    q.n_delete_ = n_del;
    sc_frame f = frame_of(M(SESSION_SET), &q);
    int r = call(c, &f, NULL, NULL, timeout_ms);
    free(ptrs);
    free(es);
    return r;
}
