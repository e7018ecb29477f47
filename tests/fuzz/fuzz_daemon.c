/* fuzz_daemon: a real sidecastd inside the fuzzer process (see fuzz.h).
 * Everything here goes through the daemon's own entry points: the listening
 * socket, accept, the read path of conn.c, dispatch, the prepare step that
 * flushes and frees. Only the cluster module is made by hand (never
 * started), so no Redis is needed. */
#include "fuzz.h"
#include "cluster.h"
#include "log.h"
#include "registry.h"
#include "request.h"
#include "stats.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define PUMP_MAX_ROUNDS 10000
#define FRAME_OUT_MAX (64u * 1024 * 1024)

static char tmpdir[64];
static char sockpath[sizeof(((struct sockaddr_un *)0)->sun_path)];
static struct ev_loop *loop;

void fz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz invariant broken: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

static void remove_tmpdir(void)
{
    unlink(sockpath);
    rmdir(tmpdir);
}

void fz_init_once(void)
{
    if (loop)
        return;
    const char *lv = getenv("SC_FUZZ_LOG");
    sc_log_level l = SC_LOG_ERROR;
    if (lv)
        sc_log_parse_level(lv, &l);
    /* "error" still prints what the daemon would print at that level;
     * hostile input must never reach it except for real errors */
    sc_log_set_level(l);
    signal(SIGPIPE, SIG_IGN);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/sc-fuzz.XXXXXX");
    if (!mkdtemp(tmpdir))
        fz_fail("mkdtemp: %s", strerror(errno));
    snprintf(sockpath, sizeof(sockpath), "%s/sidecast.sock", tmpdir);
    atexit(remove_tmpdir);
    loop = ev_default_loop(0);
    if (!loop)
        fz_fail("no event loop");
}

static void set_str(char **field, const char *v)
{
    free(*field);
    *field = sc_xstrdup(v);
}

void fz_config(sc_config *cfg)
{
    fz_init_once();
    sc_config_defaults(cfg);
    set_str(&cfg->socket_path, sockpath);
    set_str(&cfg->node_name, "fuzz-node");
    set_str(&cfg->advertise_address, "10.0.0.9:3000");
    set_str(&cfg->http_listen, ""); /* main() opens it; never here */
    cfg->max_frame_bytes = 8 * 1024;
    cfg->output_buffer_soft = 4 * 1024;
    cfg->output_buffer_hard = 16 * 1024;
    cfg->max_connections = FZ_MAX_CLIENTS;
    /* no timer may fire while an input runs: results must not depend on
     * how fast the machine is */
    cfg->request_timeout_ms = 600000;
    cfg->session_grace_ms = 600000;
    cfg->max_pending_requests = 8;
    cfg->outbox_max_bytes = 64 * 1024;
    cfg->session_data_max_keys = 8;
    cfg->session_data_max_bytes = 1024;
}

static void room_hook(void *ud, const sc_room *room, bool created)
{
    sc_server *s = ud;
    sc_cluster_room(s->cluster, room, created);
}

void fz_start(fz_daemon *d, bool cluster)
{
    fz_init_once();
    d->loop = loop;
    if (!d->cfg.socket_path)
        fz_config(&d->cfg);
    if (sc_server_init(&d->srv, loop, &d->cfg) < 0)
        fz_fail("sc_server_init failed");
    /* a fixed node id: inputs can name this node */
    snprintf(d->srv.node_id, sizeof(d->srv.node_id), "5e1f000000000001");
    if (cluster) {
        set_str(&d->cfg.redis_url, "redis://127.0.0.1:1/0");
        d->srv.cluster = sc_cluster_new(&d->srv);
        if (!d->srv.cluster)
            fz_fail("sc_cluster_new failed");
        d->srv.reg.on_room = room_hook;
        d->srv.reg.on_room_ud = &d->srv;
    }
    d->up = true;
    d->ncl = 0;
    d->slow_closes = sc_stat.disconnects_slow_reader;
}

sc_conn *fz_conn(fz_daemon *d, int i)
{
    /* connection ids count from 1 in accept order, one per client */
    for (sc_conn *c = d->srv.conns; c; c = c->next)
        if (c->id == (uint64_t)i + 1)
            return c;
    return NULL;
}

static bool sent_id(const fz_client *cl, uint64_t id)
{
    for (size_t k = 0; k < cl->nids; k++)
        if (cl->ids[k] == id)
            return true;
    return false;
}

/* Remember the request id of a frame body an app sends (if it decodes). */
static void track_id(fz_daemon *d, int i, const uint8_t *body, size_t len)
{
    fz_client *cl = &d->cl[i];
    if (!d->track_ids)
        return;
    sc_frame *f = sidecast__v1__frame__unpack(NULL, len, body);
    if (f && f->id && !sent_id(cl, f->id)) {
        if (cl->nids == cl->capids) {
            cl->capids = cl->capids ? cl->capids * 2 : 16;
            cl->ids = sc_xrealloc(cl->ids, cl->capids * sizeof(*cl->ids));
        }
        cl->ids[cl->nids++] = f->id;
    }
    if (f)
        sidecast__v1__frame__free_unpacked(f, NULL);
}

/* Decode every whole frame client i has received. */
static void parse_frames(fz_daemon *d, int i)
{
    fz_client *cl = &d->cl[i];
    while (sc_buf_used(&cl->in) >= SC_FRAME_HEADER) {
        const uint8_t *h = sc_buf_head(&cl->in);
        uint32_t len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
        if (len > FRAME_OUT_MAX)
            fz_fail("daemon sent a frame of %u bytes to client %d", len, i);
        if (sc_buf_used(&cl->in) < SC_FRAME_HEADER + len)
            break;
        sc_frame *f = sidecast__v1__frame__unpack(NULL, len, h + SC_FRAME_HEADER);
        if (!f)
            fz_fail("daemon sent client %d a frame of %u bytes that does not decode", i, len);
        if (d->track_ids && f->id && !sent_id(cl, f->id))
            fz_fail("daemon answered client %d under id %llu, which it never sent", i,
                    (unsigned long long)f->id);
        if (cl->saw_fatal)
            fz_fail("daemon sent client %d a frame (%s) after a fatal error", i,
                    sc_wire_msg_name(f->msg_case));
        if (f->msg_case == SIDECAST__V1__FRAME__MSG_ERROR && f->error->fatal)
            cl->saw_fatal = true;
        if (getenv("SC_FUZZ_TRACE"))
            fprintf(stderr, "app %d <- %s id %llu%s%s\n", i, sc_wire_msg_name(f->msg_case),
                    (unsigned long long)f->id,
                    f->msg_case == SIDECAST__V1__FRAME__MSG_ERROR ? ": " : "",
                    f->msg_case == SIDECAST__V1__FRAME__MSG_ERROR ? f->error->message : "");
        if (d->on_frame)
            d->on_frame(d, i, f, d->ud);
        sidecast__v1__frame__free_unpacked(f, NULL);
        sc_buf_consume(&cl->in, SC_FRAME_HEADER + len);
    }
}

static void drain_client(fz_daemon *d, int i, bool *moved)
{
    fz_client *cl = &d->cl[i];
    for (;;) {
        uint8_t *p = sc_buf_reserve(&cl->in, 64 * 1024);
        ssize_t n = recv(cl->fd, p, 64 * 1024, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            /* EOF, or ECONNRESET: the daemon closed with our bytes unread */
            /* only a slow reader is cut off mid-frame: its output is lost */
            if (sc_buf_used(&cl->in) && sc_stat.disconnects_slow_reader == d->slow_closes)
                fz_fail("daemon closed client %d in the middle of a frame", i);
            close(cl->fd);
            cl->fd = -1;
            *moved = true;
            return;
        }
        *moved = true;
        sc_buf_commit(&cl->in, (size_t)n);
        parse_frames(d, i);
    }
}

static bool daemon_busy(fz_daemon *d)
{
    sc_server *s = &d->srv;
    if (s->flush_list || s->closed_list || s->doomed_list)
        return true;
    for (sc_conn *c = s->conns; c; c = c->next) {
        int avail = 0;
        if (c->state == SC_CONN_OPEN && ioctl(c->fd, FIONREAD, &avail) == 0 && avail > 0)
            return true;
    }
    return false;
}

void fz_pump(fz_daemon *d)
{
    for (int round = 0; round < PUMP_MAX_ROUNDS; round++) {
        ev_run(d->loop, EVRUN_NOWAIT);
        bool moved = false;
        for (int i = 0; i < d->ncl; i++)
            if (d->cl[i].fd >= 0 && d->cl[i].drain)
                drain_client(d, i, &moved);
        if (!moved && !daemon_busy(d))
            return;
    }
    fz_fail("the daemon did not settle after %d loop iterations", PUMP_MAX_ROUNDS);
}

int fz_connect(fz_daemon *d, bool drain, bool hello)
{
    if (d->ncl == FZ_MAX_CLIENTS)
        fz_fail("too many clients");
    int i = d->ncl++;
    fz_client *cl = &d->cl[i];
    memset(cl, 0, sizeof(*cl));
    sc_buf_init(&cl->in);
    cl->drain = drain;
    cl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", sockpath);
    if (cl->fd < 0 || connect(cl->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        fz_fail("connect %s: %s", sockpath, strerror(errno));
    fz_pump(d);
    sc_conn *c = fz_conn(d, i);
    if (!c)
        fz_fail("client %d was not accepted", i);
    /* the smallest socket buffer: a few frames fill it, so partial writes
     * and the output bounds are reached by small inputs */
    int small = 4096;
    setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    if (hello) {
        Sidecast__V1__Hello h = SIDECAST__V1__HELLO__INIT;
        h.protocol_version = SC_PROTOCOL_VERSION;
        h.client_name = (char *)"fuzz";
        sc_frame f = SC_FRAME_INIT;
        f.id = 1;
        f.msg_case = SIDECAST__V1__FRAME__MSG_HELLO;
        f.hello = &h;
        fz_send(d, i, &f);
        fz_pump(d);
    }
    return i;
}

void fz_write(fz_daemon *d, int i, const void *p, size_t len)
{
    fz_client *cl = &d->cl[i];
    const uint8_t *b = p;
    for (int tries = 0; len > 0 && cl->fd >= 0 && tries < 1000; tries++) {
        ssize_t n = send(cl->fd, b, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            b += n;
            len -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            fz_pump(d); /* let the daemon read */
        } else {
            return; /* the daemon closed it: the rest is never read */
        }
    }
}

void fz_send_frame(fz_daemon *d, int i, const void *body, size_t len)
{
    track_id(d, i, body, len);
    uint8_t h[SC_FRAME_HEADER] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                                  (uint8_t)len};
    fz_write(d, i, h, sizeof(h));
    fz_write(d, i, body, len);
}

void fz_send(fz_daemon *d, int i, const sc_frame *f)
{
    sc_buf b;
    sc_buf_init(&b);
    sc_wire_append(&b, f);
    track_id(d, i, sc_buf_head(&b) + SC_FRAME_HEADER, sc_buf_used(&b) - SC_FRAME_HEADER);
    fz_write(d, i, sc_buf_head(&b), sc_buf_used(&b));
    sc_buf_free(&b);
}

static void feed_timers(fz_daemon *d, sc_map *m, size_t offset)
{
    for (uint32_t i = 0; i < m->cap; i++) {
        ev_timer *t = m->items[i] ? (ev_timer *)((char *)m->items[i] + offset) : NULL;
        if (t && ev_is_active(t))
            ev_feed_event(d->loop, t, EV_TIMER);
    }
}

void fz_fire_timeouts(fz_daemon *d)
{
    /* pending events of a watcher that a callback stops are discarded by
     * libev, so one timeout freeing another object is safe here too */
    feed_timers(d, &d->srv.requests, offsetof(sc_request, timer));
    feed_timers(d, &d->srv.relays, offsetof(sc_relay, timer));
    fz_pump(d);
}

static bool is_live_owner(fz_daemon *d, const sc_owner *o)
{
    for (sc_conn *c = d->srv.conns; c; c = c->next)
        if (&c->owner == o)
            return true;
    return false;
}

/* A socket with a session id is on the list of the socket the session map
 * names for it. */
static void check_session(const sc_registry *reg, const sc_socket *sk)
{
    if (!sk->sid_len)
        return;
    const sc_socket *h = sc_registry_find_session(reg, sc_socket_sid(sk));
    if (!h || h->sess_prev || strcmp(sc_socket_sid(h), sc_socket_sid(sk)) != 0)
        fz_fail("socket %s: its session %s maps to %s", sc_socket_id(sk), sc_socket_sid(sk),
                h ? sc_socket_id(h) : "nothing");
    for (uint32_t n = 0; h && n <= sc_map_count(&reg->sockets); h = h->sess_next, n++)
        if (h == sk)
            return;
    fz_fail("socket %s is not on the list of its session %s", sc_socket_id(sk),
            sc_socket_sid(sk));
}

void fz_check(fz_daemon *d)
{
    sc_server *s = &d->srv;
    sc_registry *reg = &s->reg;
    uint64_t nconns = 0, owned = 0;
    for (sc_conn *c = s->conns; c; c = c->next) {
        nconns++;
        owned += sc_pset_count(&c->owner.sockets);
    }
    if (nconns != s->nconns)
        fz_fail("nconns %llu but %llu connections listed", (unsigned long long)s->nconns,
                (unsigned long long)nconns);
    if (owned != sc_map_count(&reg->sockets))
        fz_fail("connections own %llu sockets, registry has %u", (unsigned long long)owned,
                sc_map_count(&reg->sockets));
    uint64_t memberships = 0;
    for (uint32_t i = 0; i < reg->sockets.cap; i++) {
        sc_socket *sk = reg->sockets.items[i];
        if (!sk)
            continue;
        if (!is_live_owner(d, sk->owner))
            fz_fail("socket %s belongs to no live connection", sc_socket_id(sk));
        if (!sc_pset_has(&sk->owner->sockets, sk))
            fz_fail("socket %s is missing from its owner's set", sc_socket_id(sk));
        check_session(reg, sk);
        uint32_t n;
        void *const *slots = sc_pset_slots(&sk->rooms, &n);
        for (uint32_t j = 0; j < n; j++) {
            sc_room *room = slots[j];
            if (!room)
                continue;
            memberships++;
            if (!sc_pset_has(&room->members, sk))
                fz_fail("socket %s lists room %s, which does not list it", sc_socket_id(sk),
                        room->name);
            if (sc_registry_find_room(reg, room->name) != room)
                fz_fail("socket %s is in room %s, which the registry does not know",
                        sc_socket_id(sk), room->name);
        }
    }
    uint64_t members = 0;
    for (uint32_t i = 0; i < reg->rooms.cap; i++) {
        sc_room *room = reg->rooms.items[i];
        if (!room)
            continue;
        if (sc_room_size(room) == 0)
            fz_fail("room %s exists without members", room->name);
        members += sc_room_size(room);
    }
    if (memberships != reg->memberships || members != reg->memberships)
        fz_fail("memberships: counter %llu, sockets list %llu, rooms list %llu",
                (unsigned long long)reg->memberships, (unsigned long long)memberships,
                (unsigned long long)members);
    if (sc_pset_count(&reg->owners) > nconns)
        fz_fail("%u owners for %llu connections", sc_pset_count(&reg->owners),
                (unsigned long long)nconns);
}

void fz_stop(fz_daemon *d)
{
    if (!d->up)
        return;
    fz_pump(d);
    fz_check(d);
    for (int i = 0; i < d->ncl; i++) {
        if (d->cl[i].fd >= 0)
            close(d->cl[i].fd);
        d->cl[i].fd = -1;
    }
    fz_pump(d);
    sc_server *s = &d->srv;
    sc_registry *reg = &s->reg;
    if (s->nconns || s->conns)
        fz_fail("%llu connections left after every app closed", (unsigned long long)s->nconns);
    if (sc_map_count(&reg->sockets) || sc_map_count(&reg->rooms) || sc_map_count(&reg->users) ||
        sc_map_count(&reg->sessions) || reg->memberships || sc_pset_count(&reg->owners))
        fz_fail("registry not empty after every app closed: %u sockets, %u rooms, %u users, "
                "%u sessions, %llu memberships, %u owners",
                sc_map_count(&reg->sockets), sc_map_count(&reg->rooms), sc_map_count(&reg->users),
                sc_map_count(&reg->sessions), (unsigned long long)reg->memberships,
                sc_pset_count(&reg->owners));
    if (sc_map_count(&s->relays))
        fz_fail("%u relays left after every app closed", sc_map_count(&s->relays));
    sc_server_cleanup(s);
    /* every watcher of the daemon must be stopped now: one left running
     * would fire later on freed memory */
    if (ev_run(d->loop, EVRUN_NOWAIT))
        fz_fail("event watchers still active after sc_server_cleanup");
    for (int i = 0; i < d->ncl; i++) {
        sc_buf_free(&d->cl[i].in);
        free(d->cl[i].ids);
    }
    sc_config_free(&d->cfg);
    d->up = false;
}
