/* Integration: malformed, oversized, unknown and out-of-order frames get an
 * Error frame saying why and the connection is closed; the daemon and every
 * other connection carry on. Ids and names that are not UTF-8 are refused,
 * strings from frames cannot forge log lines, and a refused SocketUp names
 * its socket. */
#include "harness.h"

#include "buf.h"
#include "util.h"
#include "wire.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#define MC_ERROR SIDECAST__V1__FRAME__MSG_ERROR
#define MC_WELCOME SIDECAST__V1__FRAME__MSG_WELCOME
#define MC_PONG SIDECAST__V1__FRAME__MSG_PONG
#define MC_OK SIDECAST__V1__FRAME__MSG_OK

typedef struct world {
    daemon_t *d;
    sc_client *good;
    recorder rgood;
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof(*w));
    w->d = daemon_start("--max-frame-bytes", "4096", NULL);
    w->good = app_open(w->d, "good-app", &w->rgood);
    const char *rooms[] = {"lobby"};
    assert_int_equal(sc_client_socket_up(w->good, "g1", "s", "", NULL, 0, rooms, 1), 0);
    assert_int_equal(sc_client_sync(w->good, 0), 0);
    *state = w;
    return 0;
}

/* After each bad connection: the good app still works, its socket is still
 * registered, and it still receives emits. */
static void assert_good_app_unaffected(world *w)
{
    assert_int_equal(sc_client_ping(w->good, 0, NULL), 0);
    assert_int_equal(stat_of(w->good, "sockets"), 1);
    const char *rooms[] = {"lobby"};
    sc_target t = {.rooms = rooms, .n_rooms = 1};
    sc_emit_flags fl = {.include_self = true};
    rec_reset(&w->rgood);
    assert_int_equal(sc_client_emit(w->good, &t, &fl, (const uint8_t *)"ok", 2), 0);
    assert_int_equal(sc_client_sync(w->good, 0), 0);
    assert_int_equal(rec_count(&w->rgood, "g1"), 1);
}

static int teardown(void **state)
{
    world *w = *state;
    assert_good_app_unaffected(w);
    sc_client_close(w->good);
    daemon_free(w->d);
    free(w);
    return 0;
}

static void expect_fatal(world *w, int fd, int code)
{
    int got = 0;
    int mc = raw_read_frame(fd, &got, 5000);
    assert_int_equal(mc, MC_ERROR);
    assert_int_equal(got, code);
    assert_true(raw_wait_eof(fd, 5000));
    close(fd);
    assert_good_app_unaffected(w);
}

static int hello_ok(world *w)
{
    int fd = raw_connect(w->d->sock);
    assert_true(fd >= 0);
    raw_send_hello(fd, SC_PROTOCOL_VERSION);
    assert_int_equal(raw_read_frame(fd, NULL, 5000), MC_WELCOME);
    return fd;
}

static void test_garbage(void **state)
{
    world *w = *state;
    int fd = hello_ok(w);
    uint8_t junk[] = {0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    raw_send(fd, junk, sizeof(junk));
    expect_fatal(w, fd, SC_ERR_MALFORMED);
}

static void test_oversized(void **state)
{
    world *w = *state;
    int fd = hello_ok(w);
    uint8_t hdr[] = {0, 0x10, 0, 0}; /* 1 MiB announced, limit 4096 */
    raw_send(fd, hdr, sizeof(hdr));
    expect_fatal(w, fd, SC_ERR_TOO_LARGE);
    assert_true(stat_of(w->good, "refused_too_large") >= 1);
}

static void test_unknown_message(void **state)
{
    world *w = *state;
    int fd = hello_ok(w);
    /* field 99, wire type 2 (bytes), length 1: a message this version does
     * not know (what a newer client might send) */
    uint8_t frame[] = {0, 0, 0, 4, 0x9a, 0x06, 0x01, 0x00};
    raw_send(fd, frame, sizeof(frame));
    expect_fatal(w, fd, SC_ERR_UNKNOWN_MESSAGE);
}

static void test_before_hello(void **state)
{
    world *w = *state;
    int fd = raw_connect(w->d->sock);
    Sidecast__V1__Ping p = SIDECAST__V1__PING__INIT;
    sc_frame f = SC_FRAME_INIT;
    f.id = 7;
    f.msg_case = SIDECAST__V1__FRAME__MSG_PING;
    f.ping = &p;
    sc_buf b;
    sc_buf_init(&b);
    sc_wire_append(&b, &f);
    raw_send(fd, b.data, b.len);
    sc_buf_free(&b);
    expect_fatal(w, fd, SC_ERR_HANDSHAKE);
}

static void test_hello_twice(void **state)
{
    world *w = *state;
    int fd = hello_ok(w);
    raw_send_hello(fd, SC_PROTOCOL_VERSION);
    expect_fatal(w, fd, SC_ERR_HANDSHAKE);
}

static void test_version_mismatch(void **state)
{
    world *w = *state;
    int fd = raw_connect(w->d->sock);
    raw_send_hello(fd, 99);
    expect_fatal(w, fd, SC_ERR_VERSION);
    assert_true(daemon_log_contains(w->d, "protocol version 99 is not supported"));
}

static void test_server_only_message(void **state)
{
    world *w = *state;
    int fd = hello_ok(w);
    Sidecast__V1__Deliver d = SIDECAST__V1__DELIVER__INIT;
    sc_frame f = SC_FRAME_INIT;
    f.msg_case = SIDECAST__V1__FRAME__MSG_DELIVER;
    f.deliver = &d;
    sc_buf b;
    sc_buf_init(&b);
    sc_wire_append(&b, &f);
    raw_send(fd, b.data, b.len);
    sc_buf_free(&b);
    expect_fatal(w, fd, SC_ERR_INVALID);
}

static void test_disconnect_mid_frame(void **state)
{
    world *w = *state;
    int fd = hello_ok(w);
    /* a socket registered, then half a frame, then gone */
    Sidecast__V1__SocketUp u = SIDECAST__V1__SOCKET_UP__INIT;
    u.socket_id = (char *)"half";
    sc_frame f = SC_FRAME_INIT;
    f.msg_case = SIDECAST__V1__FRAME__MSG_SOCKET_UP;
    f.socket_up = &u;
    sc_buf b;
    sc_buf_init(&b);
    sc_wire_append(&b, &f);
    raw_send(fd, b.data, b.len);
    raw_send(fd, b.data, b.len - 2);
    sc_buf_free(&b);
    assert_int_equal(sc_client_sync(w->good, 0), 0);
    assert_int_equal(stat_of(w->good, "sockets"), 2);
    close(fd);
    /* the sidecar notices the close and unregisters "half" */
    for (int i = 0; i < 100 && stat_of(w->good, "sockets") != 1; i++)
        usleep(10000);
    assert_int_equal(stat_of(w->good, "sockets"), 1);
    assert_true(daemon_log_contains(w->d, "in the middle of a frame"));
}

static void test_refusal_keeps_connection(void **state)
{
    world *w = *state;
    int fd = hello_ok(w);
    /* join for a socket this connection does not own: refused, not fatal */
    raw_send_join(fd, 5, "g1", "x");
    int code = 0;
    assert_int_equal(raw_read_frame(fd, &code, 5000), MC_ERROR);
    assert_int_equal(code, SC_ERR_NOT_FOUND);
    assert_false(raw_wait_eof(fd, 200)); /* still open */
    close(fd);
}

/* ---- frames with names --------------------------------------------------------- */

static void send_msg(int fd, uint64_t id, int msg_case, void *msg)
{
    sc_frame f = SC_FRAME_INIT;
    f.id = id;
    f.msg_case = msg_case;
    f.hello = msg; /* every oneof member shares this storage */
    raw_send_frame(fd, &f);
}

static void send_socket_up(int fd, uint64_t id, const char *sid, const char *session,
                           const char *user, const char *const *rooms, size_t n)
{
    Sidecast__V1__SocketUp u = SIDECAST__V1__SOCKET_UP__INIT;
    u.socket_id = (char *)sid;
    u.session_id = (char *)(session ? session : "");
    u.user_id = (char *)(user ? user : "");
    u.rooms = (char **)rooms;
    u.n_rooms = n;
    send_msg(fd, id, SIDECAST__V1__FRAME__MSG_SOCKET_UP, &u);
}

static void send_ping(int fd, uint64_t id)
{
    Sidecast__V1__Ping p = SIDECAST__V1__PING__INIT;
    send_msg(fd, id, SIDECAST__V1__FRAME__MSG_PING, &p);
}

/* The next frame is a non-fatal Error with this code, id and ref, whose
 * message contains `what`; every string in it is UTF-8. */
static void expect_error(int fd, uint64_t id, int code, const char *ref, const char *what)
{
    Sidecast__V1__Frame *f = raw_read_unpacked(fd, 5000);
    assert_non_null(f);
    if (f->msg_case != MC_ERROR)
        fail_msg("expected an Error about '%s', got message %d", what, (int)f->msg_case);
    const Sidecast__V1__Error *e = f->error;
    if ((int)e->code != code || !strstr(e->message, what) || strcmp(e->ref, ref) != 0)
        fail_msg("expected Error %d ref '%s' '...%s...', got %d ref '%s' '%s'", code, ref, what,
                 (int)e->code, e->ref, e->message);
    assert_int_equal(f->id, id);
    assert_false(e->fatal);
    assert_true(sc_utf8_valid(e->message, strlen(e->message)));
    assert_true(sc_utf8_valid(e->ref, strlen(e->ref)));
    sidecast__v1__frame__free_unpacked(f, NULL);
}

static void expect_msg(int fd, uint64_t id, int msg_case)
{
    Sidecast__V1__Frame *f = raw_read_unpacked(fd, 5000);
    assert_non_null(f);
    if ((int)f->msg_case != msg_case)
        fail_msg("expected message %d, got %d (%s)", msg_case, (int)f->msg_case,
                 f->msg_case == MC_ERROR ? f->error->message : "");
    assert_int_equal(f->id, id);
    sidecast__v1__frame__free_unpacked(f, NULL);
}

/* Whether a line of the daemon's log starts with prefix (after a level and
 * a timestamp, if the log has them, it would be the start of the line). */
static bool log_has_line_starting(const daemon_t *d, const char *prefix)
{
    FILE *f = fopen(d->log, "r");
    assert_non_null(f);
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = strncmp(line, prefix, strlen(prefix)) == 0;
    fclose(f);
    return found;
}

/* After fd closes, wait (bounded) until only the good app's socket is left. */
static void close_and_settle(world *w, int fd)
{
    close(fd);
    for (int i = 0; i < 500 && stat_of(w->good, "sockets") != 1; i++)
        usleep(10000);
    assert_int_equal(stat_of(w->good, "sockets"), 1);
}

/* A socket id with a newline and a fake log line in it: the refusal is
 * logged with the id escaped, on one line, and nothing in the log starts
 * with the forged text; the app's own ref comes back as it sent it. */
static void test_log_lines_not_forged(void **state)
{
    world *w = *state;
    int fd = hello_ok(w);
    const char *forged = "ghost\nerror forged: all sockets lost\r\tthe end\\";
    raw_send_join(fd, 9, forged, "lobby");
    expect_error(fd, 9, SC_ERR_NOT_FOUND, forged,
                 "socket ghost\\nerror forged: all sockets lost\\r\\tthe end\\\\ is not");
    /* a long one is cut with "..." */
    char longid[600];
    memset(longid, 'L', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    longid[300] = '\n';
    raw_send_join(fd, 10, longid, "lobby");
    expect_error(fd, 10, SC_ERR_NOT_FOUND, longid, "LLL... is not registered");
    /* the log line is written before the Error is sent: it is there now */
    assert_true(daemon_log_contains(w->d, "socket ghost\\nerror forged: all sockets lost\\r\\tthe "
                                          "end\\\\ is not registered"));
    assert_true(daemon_log_contains(w->d, "LLL... is not registered"));
    assert_false(log_has_line_starting(w->d, "error forged"));
    assert_false(daemon_log_contains(w->d, "forged: all sockets lost\r"));
    assert_false(daemon_log_contains(w->d, "\tthe end"));
    /* bytes that are not UTF-8 reach the log as \xNN */
    send_socket_up(fd, 11, "bad\xff\xfe", NULL, NULL, NULL, 0);
    expect_error(fd, 11, SC_ERR_INVALID, "bad\\xff\\xfe", "socket_id is not valid UTF-8");
    assert_true(daemon_log_contains(w->d, "socket_id is not valid UTF-8: \"bad\\xff\\xfe\""));
    assert_false(daemon_log_contains(w->d, "bad\xff"));
    close(fd);
}

/* Every id and name an app sends must be UTF-8 (protobuf `string`, which
 * protobuf-c does not check): refused with INVALID naming the field and the
 * socket or session; the connection stays; nothing is registered. */
static void test_invalid_utf8_refused(void **state)
{
    world *w = *state;
    int fd = hello_ok(w);
    uint64_t refused = stat_of(w->good, "refused_invalid");
    const char *bad_room[] = {"lobby", "caf\xc3"};
    send_socket_up(fd, 1, "u1", NULL, NULL, bad_room, 2);
    expect_error(fd, 1, SC_ERR_INVALID, "u1",
                 "rooms of socket u1 is not valid UTF-8: \"caf\\xc3\"");
    send_socket_up(fd, 2, "u2", "\xed\xa0\x80", NULL, NULL, 0); /* a surrogate */
    expect_error(fd, 2, SC_ERR_INVALID, "u2", "session_id of socket u2 is not valid UTF-8");
    send_socket_up(fd, 3, "u3", "s3", "\xc0\x80", NULL, 0); /* an overlong NUL */
    expect_error(fd, 3, SC_ERR_INVALID, "u3", "user_id of socket u3 is not valid UTF-8");
    send_socket_up(fd, 0, "u4\x80", NULL, NULL, NULL, 0); /* id 0: refused all the same */
    expect_error(fd, 0, SC_ERR_INVALID, "u4\\x80", "socket_id is not valid UTF-8");

    /* UTF-8 is welcome */
    const char *rooms[] = {"caf\xc3\xa9", "\xf0\x9f\x8e\xb2"};
    send_socket_up(fd, 4, "s-\xc3\xa9", "sess-\xe2\x82\xac", "user-\xc3\xa9", rooms, 2);
    expect_msg(fd, 4, MC_OK);

    Sidecast__V1__Join j = SIDECAST__V1__JOIN__INIT;
    char *jrooms[] = {(char *)"ok", (char *)"x\x80"};
    j.socket_id = (char *)"s-\xc3\xa9";
    j.rooms = jrooms;
    j.n_rooms = 2;
    send_msg(fd, 5, SIDECAST__V1__FRAME__MSG_JOIN, &j);
    expect_error(fd, 5, SC_ERR_INVALID, "s-\xc3\xa9", "rooms of socket s-\xc3\xa9 is not valid");

    Sidecast__V1__Leave l = SIDECAST__V1__LEAVE__INIT;
    l.socket_id = (char *)"s-\xc3\xa9";
    l.rooms = jrooms + 1;
    l.n_rooms = 1;
    send_msg(fd, 6, SIDECAST__V1__FRAME__MSG_LEAVE, &l);
    expect_error(fd, 6, SC_ERR_INVALID, "s-\xc3\xa9", "rooms of socket");

    Sidecast__V1__Selector sel = SIDECAST__V1__SELECTOR__INIT;
    char *ex[] = {(char *)"\xff"};
    sel.all = true;
    sel.except_rooms = ex;
    sel.n_except_rooms = 1;
    Sidecast__V1__Emit e = SIDECAST__V1__EMIT__INIT;
    e.to = &sel;
    send_msg(fd, 7, SIDECAST__V1__FRAME__MSG_EMIT, &e);
    expect_error(fd, 7, SC_ERR_INVALID, "\\xff", "to.except_rooms is not valid UTF-8");

    Sidecast__V1__FetchSockets q = SIDECAST__V1__FETCH_SOCKETS__INIT;
    Sidecast__V1__Selector qsel = SIDECAST__V1__SELECTOR__INIT;
    qsel.user_ids = ex;
    qsel.n_user_ids = 1;
    q.filter = &qsel;
    send_msg(fd, 8, SIDECAST__V1__FRAME__MSG_FETCH_SOCKETS, &q);
    expect_error(fd, 8, SC_ERR_INVALID, "\\xff", "filter.user_ids is not valid UTF-8");

    Sidecast__V1__RoomsRequest rr = SIDECAST__V1__ROOMS_REQUEST__INIT;
    rr.names = ex;
    rr.n_names = 1;
    send_msg(fd, 9, SIDECAST__V1__FRAME__MSG_ROOMS, &rr);
    expect_error(fd, 9, SC_ERR_INVALID, "\\xff", "names is not valid UTF-8");

    Sidecast__V1__Apply a = SIDECAST__V1__APPLY__INIT;
    a.join = ex;
    a.n_join = 1;
    send_msg(fd, 10, SIDECAST__V1__FRAME__MSG_APPLY, &a);
    expect_error(fd, 10, SC_ERR_INVALID, "\\xff", "join is not valid UTF-8");

    Sidecast__V1__Lookup lk = SIDECAST__V1__LOOKUP__INIT;
    lk.key_case = SIDECAST__V1__LOOKUP__KEY_USER_ID;
    lk.user_id = (char *)"\xfe";
    send_msg(fd, 11, SIDECAST__V1__FRAME__MSG_LOOKUP, &lk);
    expect_error(fd, 11, SC_ERR_INVALID, "\\xfe", "user_id is not valid UTF-8");

    Sidecast__V1__SessionEntry entry = SIDECAST__V1__SESSION_ENTRY__INIT;
    Sidecast__V1__SessionEntry *entries[] = {&entry};
    entry.key = (char *)"k\xff";
    Sidecast__V1__SessionSet ss = SIDECAST__V1__SESSION_SET__INIT;
    ss.session_id = (char *)"sess-1";
    ss.set = entries;
    ss.n_set = 1;
    send_msg(fd, 12, SIDECAST__V1__FRAME__MSG_SESSION_SET, &ss);
    expect_error(fd, 12, SC_ERR_INVALID, "sess-1", "set.key of session sess-1 is not valid UTF-8");

    Sidecast__V1__SessionGet sg = SIDECAST__V1__SESSION_GET__INIT;
    sg.session_id = (char *)"\xf5\x80\x80\x80";
    send_msg(fd, 13, SIDECAST__V1__FRAME__MSG_SESSION_GET, &sg);
    expect_error(fd, 13, SC_ERR_INVALID, "\\xf5\\x80\\x80\\x80", "session_id is not valid");

    Sidecast__V1__SocketDown sd = SIDECAST__V1__SOCKET_DOWN__INIT;
    sd.socket_id = (char *)"s-\xc3";
    send_msg(fd, 14, SIDECAST__V1__FRAME__MSG_SOCKET_DOWN, &sd);
    expect_error(fd, 14, SC_ERR_INVALID, "s-\\xc3", "socket_id is not valid UTF-8");

    /* still open, and only the UTF-8 socket was registered */
    send_ping(fd, 15);
    expect_msg(fd, 15, MC_PONG);
    assert_int_equal(stat_of(w->good, "sockets"), 2);
    assert_int_equal(stat_of(w->good, "refused_invalid"), refused + 14);
    close_and_settle(w, fd);
}

/* SocketUps pipelined with id 0: each refusal's ref is the socket id of
 * the SocketUp it refuses, whatever the reason (it used to be the room
 * name, or nothing). */
static void test_pipelined_socket_up_ref(void **state)
{
    (void)state;
    daemon_t *d = daemon_start("--max-rooms-per-socket", "2", "--max-name-bytes", "16",
                               "--max-socket-data-bytes", "0", NULL);
    int fd = raw_connect(d->sock);
    raw_send_hello(fd, SC_PROTOCOL_VERSION);
    assert_int_equal(raw_read_frame(fd, NULL, 5000), MC_WELCOME);
    const char *three[] = {"a", "b", "c"};
    const char *long_room[] = {"a-room-name-over-16"};
    send_socket_up(fd, 0, "p1", NULL, NULL, three, 3);     /* rooms per socket */
    send_socket_up(fd, 0, "p2", NULL, NULL, long_room, 1); /* room name length */
    send_socket_up(fd, 0, "p3", "a-session-over-16", NULL, NULL, 0);
    send_socket_up(fd, 0, "p4", NULL, "a-user-id-over-16", NULL, 0);
    send_socket_up(fd, 0, "p5-socket-id-over-16", NULL, NULL, NULL, 0);
    send_socket_up(fd, 0, "p6", NULL, NULL, three, 2); /* fine */
    send_socket_up(fd, 0, "p6", NULL, NULL, NULL, 0);  /* duplicate */
    send_ping(fd, 77);
    expect_error(fd, 0, SC_ERR_LIMIT, "p1", "rooms per socket");
    expect_error(fd, 0, SC_ERR_LIMIT, "p2", "room name");
    expect_error(fd, 0, SC_ERR_LIMIT, "p3", "session id");
    expect_error(fd, 0, SC_ERR_LIMIT, "p4", "user id");
    expect_error(fd, 0, SC_ERR_LIMIT, "p5-socket-id-over-16", "socket id");
    expect_error(fd, 0, SC_ERR_DUPLICATE, "p6", "already registered");
    expect_msg(fd, 77, MC_PONG);
    sc_client *c = app_open(d, "observer", NULL);
    assert_int_equal(stat_of(c, "sockets"), 1);
    sc_client_close(c);
    close(fd);
    daemon_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_unknown_message),
        cmocka_unit_test(test_before_hello),
        cmocka_unit_test(test_hello_twice),
        cmocka_unit_test(test_version_mismatch),
        cmocka_unit_test(test_server_only_message),
        cmocka_unit_test(test_disconnect_mid_frame),
        cmocka_unit_test(test_refusal_keeps_connection),
        cmocka_unit_test(test_log_lines_not_forged),
        cmocka_unit_test(test_invalid_utf8_refused),
        cmocka_unit_test(test_pipelined_socket_up_ref),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
