/* Integration: several app connections on one sidecastd; every emit kind
 * reaches each selected socket exactly once, with except rules honoured. */
#include "harness.h"
#include "buf.h"
#include "wire.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct world {
    daemon_t *d;
    sc_client *a, *b, *c;
    recorder ra, rb, rc;
} world;

#define ROOMS(...) (const char *const[]){__VA_ARGS__}, sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *)

static int setup(void **state)
{
    world *w = calloc(1, sizeof(*w));
    w->d = daemon_start(NULL);
    w->a = app_open(w->d, "app-a", &w->ra);
    w->b = app_open(w->d, "app-b", &w->rb);
    w->c = app_open(w->d, "app-c", &w->rc);
    assert_int_equal(sc_client_socket_up(w->a, "a1", "sa1", "alice", NULL, 0, ROOMS("r1", "r2")), 0);
    assert_int_equal(sc_client_socket_up(w->a, "a2", "sa2", "", NULL, 0, ROOMS("r2")), 0);
    assert_int_equal(sc_client_socket_up(w->b, "b1", "sb1", "bob", (const uint8_t *)"{\"x\":1}", 7,
                                         ROOMS("r1")),
                     0);
    assert_int_equal(sc_client_socket_up(w->b, "b2", "sb2", "", NULL, 0, ROOMS("r3")), 0);
    assert_int_equal(sc_client_socket_up(w->c, "c1", "sc1", "", NULL, 0, ROOMS("r1", "r2")), 0);
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    assert_int_equal(sc_client_sync(w->b, 0), 0);
    assert_int_equal(sc_client_sync(w->c, 0), 0);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    sc_client_close(w->a);
    sc_client_close(w->b);
    sc_client_close(w->c);
    daemon_free(w->d);
    free(w);
    return 0;
}

static void reset(world *w)
{
    rec_reset(&w->ra);
    rec_reset(&w->rb);
    rec_reset(&w->rc);
}

/* Emit from c, then let every app settle: a sync on c guarantees the sidecar
 * queued the Delivers before answering, and a sync on a/b reads them. */
static void emit_from_c(world *w, const sc_target *t, bool include_self)
{
    reset(w);
    sc_emit_flags fl = {.include_self = include_self};
    assert_int_equal(sc_client_emit(w->c, t, &fl, (const uint8_t *)"hi", 2), 0);
    assert_int_equal(sc_client_sync(w->c, 0), 0);
    assert_int_equal(sc_client_sync(w->a, 0), 0);
    assert_int_equal(sc_client_sync(w->b, 0), 0);
}

static void test_multi_room_once(void **state)
{
    world *w = *state;
    sc_target t = {.rooms = ROOMS("r1", "r2")};
    emit_from_c(w, &t, false);
    assert_int_equal(rec_count(&w->ra, "a1"), 1); /* in r1 and r2: once */
    assert_int_equal(rec_count(&w->ra, "a2"), 1);
    assert_int_equal(rec_count(&w->rb, "b1"), 1);
    assert_int_equal(rec_count(&w->rb, "b2"), 0);
    assert_int_equal(w->ra.frames, 1); /* one Deliver per app connection */
    assert_int_equal(w->rb.frames, 1);
    assert_int_equal(w->rc.sockets, 0); /* sender excluded by default */
    assert_string_equal(w->ra.last_payload, "hi");
}

static void test_include_self(void **state)
{
    world *w = *state;
    sc_target t = {.rooms = ROOMS("r1")};
    emit_from_c(w, &t, true);
    assert_int_equal(sc_client_sync(w->c, 0), 0);
    assert_int_equal(rec_count(&w->rc, "c1"), 1);
    assert_int_equal(rec_count(&w->ra, "a1"), 1);
    assert_int_equal(rec_count(&w->rb, "b1"), 1);
    assert_int_equal(w->ra.sockets + w->rb.sockets + w->rc.sockets, 3);
}

static void test_all_except_room(void **state)
{
    world *w = *state;
    sc_target t = {.all = true, .except_rooms = ROOMS("r3")};
    emit_from_c(w, &t, false);
    assert_int_equal(rec_count(&w->ra, "a1"), 1);
    assert_int_equal(rec_count(&w->ra, "a2"), 1);
    assert_int_equal(rec_count(&w->rb, "b1"), 1);
    assert_int_equal(rec_count(&w->rb, "b2"), 0);
    assert_int_equal(w->ra.sockets + w->rb.sockets, 3);
}

static void test_room_except_ids(void **state)
{
    world *w = *state;
    sc_target t = {.rooms = ROOMS("r2"), .except_ids = ROOMS("a2")};
    emit_from_c(w, &t, false);
    assert_int_equal(rec_count(&w->ra, "a1"), 1);
    assert_int_equal(rec_count(&w->ra, "a2"), 0);
    assert_int_equal(w->rb.frames, 0); /* b has no member of r2: no frame at all */
}

static void test_socket_ids(void **state)
{
    world *w = *state;
    sc_target t = {.socket_ids = ROOMS("a1", "b2", "b2", "nope")};
    emit_from_c(w, &t, false);
    assert_int_equal(rec_count(&w->ra, "a1"), 1);
    assert_int_equal(rec_count(&w->ra, "a2"), 0);
    assert_int_equal(rec_count(&w->rb, "b2"), 1);
    assert_int_equal(rec_count(&w->rb, "b1"), 0);
}

static void test_socket_ids_except_room(void **state)
{
    world *w = *state;
    sc_target t = {.socket_ids = ROOMS("a1", "b1", "b2"), .except_rooms = ROOMS("r3")};
    emit_from_c(w, &t, false);
    assert_int_equal(rec_count(&w->ra, "a1"), 1);
    assert_int_equal(rec_count(&w->rb, "b1"), 1);
    assert_int_equal(rec_count(&w->rb, "b2"), 0);
}

static void test_rooms_and_ids_union(void **state)
{
    world *w = *state;
    sc_target t = {.rooms = ROOMS("r3"), .socket_ids = ROOMS("b2", "a2")};
    emit_from_c(w, &t, false);
    assert_int_equal(rec_count(&w->rb, "b2"), 1); /* room member and listed: once */
    assert_int_equal(rec_count(&w->ra, "a2"), 1);
    assert_int_equal(w->ra.sockets + w->rb.sockets, 2);
}

static void test_emit_without_target_refused(void **state)
{
    world *w = *state;
    sc_target t = {0};
    reset(w);
    assert_int_equal(sc_client_emit(w->c, &t, NULL, (const uint8_t *)"x", 1), 0);
    assert_int_equal(sc_client_sync(w->c, 0), 0);
    assert_int_equal(w->rc.errors, 1);
    assert_int_equal(w->rc.last_error_code, SC_ERR_INVALID);
}

static void test_duplicate_refused(void **state)
{
    world *w = *state;
    reset(w);
    /* b tries to take a1, which a owns: refused, a1 still a's. */
    assert_int_equal(sc_client_socket_up(w->b, "a1", "x", "", NULL, 0, ROOMS("r9")), 0);
    assert_int_equal(sc_client_sync(w->b, 0), 0);
    assert_int_equal(w->rb.errors, 1);
    assert_int_equal(w->rb.last_error_code, SC_ERR_DUPLICATE);
    assert_string_equal(w->rb.last_error_ref, "a1");
    assert_true(stat_of(w->b, "refused_duplicate") >= 1);
    sc_target t = {.socket_ids = ROOMS("a1")};
    emit_from_c(w, &t, false);
    assert_int_equal(rec_count(&w->ra, "a1"), 1);
    assert_int_equal(w->rb.sockets, 0);
    assert_int_equal(stat_of(w->a, "sockets"), 5);
    assert_int_equal(stat_of(w->a, "rooms"), 3); /* the refused up created no room r9 */
}

typedef struct seen {
    char ids[16][32];
    char rooms[16][128];
    char data[16][32];
    int n;
} seen;

static void on_sock(void *ud, const sc_socket_view *s)
{
    seen *sn = ud;
    if (sn->n >= 16)
        return;
    snprintf(sn->ids[sn->n], 32, "%s", s->socket_id);
    sn->rooms[sn->n][0] = 0;
    for (size_t i = 0; i < s->n_rooms; i++) {
        strcat(sn->rooms[sn->n], s->rooms[i]);
        strcat(sn->rooms[sn->n], ",");
    }
    snprintf(sn->data[sn->n], 32, "%.*s", (int)s->data_len, (const char *)s->data);
    sn->n++;
}

static int find(const seen *sn, const char *id)
{
    for (int i = 0; i < sn->n; i++)
        if (strcmp(sn->ids[i], id) == 0)
            return i;
    return -1;
}

static void test_fetch_sockets(void **state)
{
    world *w = *state;
    seen sn = {0};
    sc_target f = {.rooms = ROOMS("r1"), .except_ids = ROOMS("c1")};
    assert_int_equal(sc_client_fetch_sockets(w->a, &f, true, true, on_sock, &sn, 0), 0);
    assert_int_equal(sn.n, 2);
    int i = find(&sn, "b1");
    assert_true(i >= 0);
    assert_string_equal(sn.data[i], "{\"x\":1}");
    assert_string_equal(sn.rooms[i], "r1,");
    assert_true(find(&sn, "a1") >= 0);
    memset(&sn, 0, sizeof(sn));
    assert_int_equal(sc_client_fetch_sockets(w->a, NULL, false, false, on_sock, &sn, 0), 0);
    assert_int_equal(sn.n, 5);
}

/* ---- FetchSockets.exclude_self, over a raw connection (the C client does
 * not expose the flag) ---- */

static void raw_frame(int fd, uint64_t id, int msg_case, void *msg)
{
    sc_frame f = SC_FRAME_INIT;
    f.id = id;
    f.msg_case = msg_case;
    f.hello = msg; /* all oneof members share storage */
    sc_buf b;
    sc_buf_init(&b);
    sc_wire_append(&b, &f);
    raw_send(fd, b.data, b.len);
    sc_buf_free(&b);
}

static bool recv_all(int fd, uint8_t *p, size_t n)
{
    for (size_t got = 0; got < n;) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 10000) <= 0)
            return false;
        ssize_t r = recv(fd, p + got, n - got, 0);
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

static sc_frame *raw_frame_read(int fd)
{
    uint8_t h[4];
    if (!recv_all(fd, h, 4))
        return NULL;
    uint32_t len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    uint8_t *body = malloc(len ? len : 1);
    sc_frame *f = recv_all(fd, body, len) ? sidecast__v1__frame__unpack(NULL, len, body) : NULL;
    free(body);
    return f;
}

/* Sockets in the SocketList answer to request `id`; *saw set if `own` is among them. */
static int raw_fetch(int fd, uint64_t id, bool exclude_self, const char *own, bool *saw)
{
    sc_selector sel = SIDECAST__V1__SELECTOR__INIT;
    char *rooms[] = {(char *)"r1"};
    sel.rooms = rooms;
    sel.n_rooms = 1;
    Sidecast__V1__FetchSockets q = SIDECAST__V1__FETCH_SOCKETS__INIT;
    q.filter = &sel;
    q.exclude_self = exclude_self;
    raw_frame(fd, id, SIDECAST__V1__FRAME__MSG_FETCH_SOCKETS, &q);
    int n = 0;
    *saw = false;
    for (int guard = 0; guard < 100; guard++) {
        sc_frame *f = raw_frame_read(fd);
        assert_non_null(f);
        bool last = false;
        if (f->id == id && f->msg_case == SIDECAST__V1__FRAME__MSG_SOCKET_LIST) {
            for (size_t i = 0; i < f->socket_list->n_sockets; i++, n++)
                if (strcmp(f->socket_list->sockets[i]->socket_id, own) == 0)
                    *saw = true;
            last = !f->socket_list->more;
        }
        sidecast__v1__frame__free_unpacked(f, NULL);
        if (last)
            return n;
    }
    fail_msg("no last SocketList for request %llu", (unsigned long long)id);
    return -1;
}

static void test_fetch_exclude_self(void **state)
{
    world *w = *state;
    int fd = raw_connect(w->d->sock);
    assert_true(fd >= 0);
    raw_send_hello(fd, 1);
    sc_frame *welcome = raw_frame_read(fd);
    assert_non_null(welcome);
    assert_int_equal(welcome->msg_case, SIDECAST__V1__FRAME__MSG_WELCOME);
    sidecast__v1__frame__free_unpacked(welcome, NULL);
    char *rooms[] = {(char *)"r1"};
    Sidecast__V1__SocketUp up = SIDECAST__V1__SOCKET_UP__INIT;
    up.socket_id = (char *)"raw1";
    up.rooms = rooms;
    up.n_rooms = 1;
    raw_frame(fd, 0, SIDECAST__V1__FRAME__MSG_SOCKET_UP, &up);
    bool saw;
    /* r1: a1, b1, c1 of the other apps, plus raw1 */
    assert_int_equal(raw_fetch(fd, 7, false, "raw1", &saw), 4);
    assert_true(saw);
    assert_int_equal(raw_fetch(fd, 8, true, "raw1", &saw), 3);
    assert_false(saw);
    /* gone before the next test counts room sizes */
    Sidecast__V1__SocketDown down = SIDECAST__V1__SOCKET_DOWN__INIT;
    down.socket_id = (char *)"raw1";
    raw_frame(fd, 9, SIDECAST__V1__FRAME__MSG_SOCKET_DOWN, &down);
    sc_frame *ok = raw_frame_read(fd);
    assert_non_null(ok);
    assert_int_equal(ok->id, 9);
    assert_int_equal(ok->msg_case, SIDECAST__V1__FRAME__MSG_OK);
    sidecast__v1__frame__free_unpacked(ok, NULL);
    close(fd);
}

typedef struct roomsizes {
    char names[16][32];
    uint64_t sizes[16];
    int n;
} roomsizes;

static void on_room(void *ud, const char *room, uint64_t size)
{
    roomsizes *rs = ud;
    if (rs->n < 16) {
        snprintf(rs->names[rs->n], 32, "%s", room);
        rs->sizes[rs->n++] = size;
    }
}

static void test_rooms_and_sizes(void **state)
{
    world *w = *state;
    roomsizes rs = {0};
    assert_int_equal(sc_client_rooms(w->a, ROOMS("r1", "r2", "r3", "zz"), on_room, &rs, 0), 0);
    assert_int_equal(rs.n, 4);
    assert_int_equal(rs.sizes[0], 3);
    assert_int_equal(rs.sizes[1], 3);
    assert_int_equal(rs.sizes[2], 1);
    assert_int_equal(rs.sizes[3], 0);
    memset(&rs, 0, sizeof(rs));
    assert_int_equal(sc_client_rooms(w->a, NULL, 0, on_room, &rs, 0), 0);
    assert_int_equal(rs.n, 3);
}

static void test_join_leave_set_data(void **state)
{
    world *w = *state;
    assert_int_equal(sc_client_join(w->b, "b2", ROOMS("r1")), 0);
    sc_target t = {.rooms = ROOMS("r1")};
    emit_from_c(w, &t, false);
    assert_int_equal(rec_count(&w->rb, "b2"), 1);
    assert_int_equal(rec_count(&w->rb, "b1"), 1);
    assert_int_equal(sc_client_leave(w->b, "b2", ROOMS("r1")), 0);
    emit_from_c(w, &t, false);
    assert_int_equal(rec_count(&w->rb, "b2"), 0);
    assert_int_equal(sc_client_set_data(w->b, "b2", (const uint8_t *)"new", 3), 0);
    assert_int_equal(sc_client_sync(w->b, 0), 0);
    seen sn = {0};
    sc_target f = {.rooms = ROOMS("r3")};
    assert_int_equal(sc_client_fetch_sockets(w->a, &f, true, false, on_sock, &sn, 0), 0);
    assert_int_equal(sn.n, 1);
    assert_string_equal(sn.data[0], "new");
    /* the sidecar refuses joins for a socket this connection does not own */
    assert_int_equal(sc_client_join(w->b, "a1", ROOMS("r1")), -ENOENT); /* refused locally */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multi_room_once),
        cmocka_unit_test(test_include_self),
        cmocka_unit_test(test_all_except_room),
        cmocka_unit_test(test_room_except_ids),
        cmocka_unit_test(test_socket_ids),
        cmocka_unit_test(test_socket_ids_except_room),
        cmocka_unit_test(test_rooms_and_ids_union),
        cmocka_unit_test(test_emit_without_target_refused),
        cmocka_unit_test(test_duplicate_refused),
        cmocka_unit_test(test_fetch_sockets),
        cmocka_unit_test(test_fetch_exclude_self),
        cmocka_unit_test(test_rooms_and_sizes),
        cmocka_unit_test(test_join_leave_set_data),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
