/* Unit tests for broker/core/registry.c: sockets, rooms, owners, selection. */
#include "unit.h"

#include "registry.h"
#include "util.h"

#include <errno.h>

/* ---- helpers ---------------------------------------------------------------- */

static sc_socket *add(sc_registry *r, sc_owner *o, const char *id)
{
    sc_socket *s = NULL;
    int rc = sc_registry_add_socket(r, o, id, NULL, NULL, NULL, 0, &s);
    if (rc != 0)
        fail_msg("add_socket(%s) = %d", id, rc);
    assert_non_null(s);
    return s;
}

static uint32_t owner_count_in(const sc_room *room, const sc_owner *o)
{
    uint32_t *n = sc_pmap_get(&room->owners, o);
    return n ? *n : 0;
}

/* Selection results: ids visited, in order. */
typedef struct visits {
    const sc_socket *s[256];
    int n;
} visits;

static void record(sc_socket *s, void *ud)
{
    visits *v = ud;
    assert_true(v->n < 256);
    v->s[v->n++] = s;
}

/* Asserts that v holds exactly the sockets with the given ids (any order),
 * each once. `want` is a space-separated list. */
static void check_visits(const sc_registry *r, const visits *v, const char *want)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", want);
    int nwant = 0;
    for (char *save, *id = strtok_r(buf, " ", &save); id; id = strtok_r(NULL, " ", &save)) {
        const sc_socket *s = sc_registry_find_socket(r, id);
        assert_non_null(s);
        int seen = 0;
        for (int i = 0; i < v->n; i++)
            seen += v->s[i] == s;
        if (seen != 1)
            fail_msg("socket %s visited %d times (want once; selection '%s')", id, seen, want);
        nwant++;
    }
    if (v->n != nwant)
        fail_msg("visited %d sockets, want %d (%s)", v->n, nwant, want);
}

typedef struct sel_spec {
    const char *rooms[4];
    const char *ids[6];
    bool all;
    const char *except_rooms[4];
    const char *except_ids[4];
} sel_spec;

static size_t count_strs(const char *const *a, size_t max)
{
    size_t n = 0;
    while (n < max && a[n])
        n++;
    return n;
}

static sc_selector make_sel(sel_spec *sp)
{
    sc_selector s = SIDECAST__V1__SELECTOR__INIT;
    s.n_rooms = count_strs(sp->rooms, 4);
    s.rooms = (char **)sp->rooms;
    s.n_socket_ids = count_strs(sp->ids, 6);
    s.socket_ids = (char **)sp->ids;
    s.all = sp->all;
    s.n_except_rooms = count_strs(sp->except_rooms, 4);
    s.except_rooms = (char **)sp->except_rooms;
    s.n_except_ids = count_strs(sp->except_ids, 4);
    s.except_ids = (char **)sp->except_ids;
    return s;
}

static void select_check(sc_registry *r, const sc_owner *o, sel_spec sp, const char *want)
{
    sc_selector sel = make_sel(&sp);
    visits v = {.n = 0};
    sc_registry_select(r, o, &sel, record, &v);
    check_visits(r, &v, want);
}

/* ---- sockets ---------------------------------------------------------------- */

static void add_find_fields(void **state)
{
    (void)state;
    sc_registry r;
    sc_registry_init(&r);
    sc_owner o;
    sc_owner_init(&o, (void *)0x1234);
    assert_ptr_equal(o.ctx, (void *)0x1234);

    uint8_t data[] = {1, 2, 0, 4};
    sc_socket *s = NULL;
    assert_int_equal(sc_registry_add_socket(&r, &o, "sock-1", "sess", "user", data, 4, &s), 0);
    assert_non_null(s);
    data[0] = 99; /* copied, not referenced */
    assert_string_equal(sc_socket_id(s), "sock-1");
    assert_string_equal(sc_socket_sid(s), "sess");
    assert_string_equal(sc_socket_uid(s), "user");
    assert_int_equal(s->data_len, 4);
    assert_memory_equal(s->data, "\1\2\0\4", 4);
    assert_ptr_equal(s->owner, &o);
    assert_ptr_equal(sc_registry_find_socket(&r, "sock-1"), s);
    assert_null(sc_registry_find_socket(&r, "sock-2"));
    assert_null(sc_registry_find_socket(&r, "sock"));
    assert_true(sc_pset_has(&o.sockets, s));
    assert_true(sc_pset_has(&r.owners, &o));

    /* NULL session/user ids are empty strings; ret may be NULL. */
    assert_int_equal(sc_registry_add_socket(&r, &o, "sock-2", NULL, NULL, NULL, 0, NULL), 0);
    sc_socket *s2 = sc_registry_find_socket(&r, "sock-2");
    assert_non_null(s2);
    assert_string_equal(sc_socket_sid(s2), "");
    assert_string_equal(sc_socket_uid(s2), "");
    assert_null(s2->data);
    assert_int_equal(s2->data_len, 0);
    assert_int_equal(sc_pset_count(&o.sockets), 2);
    assert_int_equal(sc_pset_count(&r.owners), 1);

    /* set_data replaces and clears. */
    sc_registry_set_data(&r, s2, (const uint8_t *)"hello", 5);
    assert_int_equal(s2->data_len, 5);
    assert_memory_equal(s2->data, "hello", 5);
    sc_registry_set_data(&r, s2, (const uint8_t *)"x", 0);
    assert_null(s2->data);
    assert_int_equal(s2->data_len, 0);
    sc_registry_set_data(&r, s, NULL, 10);
    assert_null(s->data);

    size_t mem = sc_registry_memory(&r);
    sc_registry_set_data(&r, s, (const uint8_t *)"0123456789", 10);
    assert_int_equal(sc_registry_memory(&r), mem + 10);

    assert_int_equal(sc_registry_remove_owner(&r, &o), 2);
    sc_owner_free(&o);
    sc_registry_free(&r);
}

/* gen moves with every change a fetch answer shows, and only with those. */
static void gen_tracks_changes(void **state)
{
    (void)state;
    sc_registry r;
    sc_owner o;
    sc_registry_init(&r);
    sc_owner_init(&o, NULL);
    uint64_t g = r.gen;
    sc_socket *s;
    assert_int_equal(sc_registry_add_socket(&r, &o, "a", NULL, NULL, NULL, 0, &s), 0);
    assert_true(r.gen > g);
    g = r.gen;
    assert_int_equal(sc_registry_add_socket(&r, &o, "a", NULL, NULL, NULL, 0, NULL), -EEXIST);
    assert_null(sc_registry_find_room(&r, "x"));
    assert_int_equal(r.gen, g); /* refused: nothing changed */
    assert_int_equal(sc_registry_join(&r, s, "x"), 1);
    assert_true(r.gen > g);
    g = r.gen;
    assert_int_equal(sc_registry_join(&r, s, "x"), 0);
    assert_int_equal(sc_registry_leave(&r, s, "y"), 0);
    assert_int_equal(r.gen, g); /* already in, never in */
    sc_registry_set_data(&r, s, (const uint8_t *)"d", 1);
    assert_true(r.gen > g);
    g = r.gen;
    assert_int_equal(sc_registry_leave(&r, s, "x"), 1);
    assert_true(r.gen > g);
    g = r.gen;
    sc_registry_remove_socket(&r, s);
    assert_true(r.gen > g);
    sc_owner_free(&o);
    sc_registry_free(&r);
}

static void add_errors(void **state)
{
    (void)state;
    sc_registry r;
    sc_registry_init(&r);
    sc_owner a, b;
    sc_owner_init(&a, NULL);
    sc_owner_init(&b, NULL);
    sc_socket *s = add(&r, &a, "dup");
    sc_socket *ret = (sc_socket *)0x1;

    /* Same owner, and another owner: both refused, nothing changes. */
    assert_int_equal(sc_registry_add_socket(&r, &a, "dup", "x", "y", NULL, 0, &ret), -EEXIST);
    assert_int_equal(sc_registry_add_socket(&r, &b, "dup", NULL, NULL, NULL, 0, &ret), -EEXIST);
    assert_ptr_equal(ret, (sc_socket *)0x1); /* untouched on error */
    assert_ptr_equal(sc_registry_find_socket(&r, "dup"), s);
    assert_ptr_equal(s->owner, &a);
    assert_string_equal(sc_socket_sid(s), "");
    assert_int_equal(sc_pset_count(&a.sockets), 1);
    assert_int_equal(sc_pset_count(&b.sockets), 0);
    assert_false(sc_pset_has(&r.owners, &b));
    assert_int_equal(sc_map_count(&r.sockets), 1);

    assert_int_equal(sc_registry_add_socket(&r, &b, "", NULL, NULL, NULL, 0, &ret), -EINVAL);

    /* Length limits: SC_ID_MAX is allowed, one more is not (each string). */
    char *big = malloc(SC_ID_MAX + 2);
    assert_non_null(big);
    memset(big, 'i', SC_ID_MAX + 1);
    big[SC_ID_MAX + 1] = '\0';
    assert_int_equal(sc_registry_add_socket(&r, &b, big, NULL, NULL, NULL, 0, NULL), -ENAMETOOLONG);
    assert_int_equal(sc_registry_add_socket(&r, &b, "ok-id", big, NULL, NULL, 0, NULL),
                     -ENAMETOOLONG);
    assert_int_equal(sc_registry_add_socket(&r, &b, "ok-id", NULL, big, NULL, 0, NULL),
                     -ENAMETOOLONG);
    assert_null(sc_registry_find_socket(&r, "ok-id"));
    assert_int_equal(sc_map_count(&r.sockets), 1);
    big[SC_ID_MAX] = '\0';
    assert_int_equal(sc_registry_add_socket(&r, &b, big, big, big, NULL, 0, &ret), 0);
    assert_int_equal(ret->id_len, SC_ID_MAX);
    assert_string_equal(sc_socket_uid(ret), big);
    assert_ptr_equal(sc_registry_find_socket(&r, big), ret);

    /* After removal the id is free again, for any owner. */
    sc_registry_remove_socket(&r, s);
    assert_null(sc_registry_find_socket(&r, "dup"));
    assert_false(sc_pset_has(&r.owners, &a));
    sc_socket *s2 = add(&r, &b, "dup");
    assert_ptr_equal(s2->owner, &b);

    free(big);
    sc_registry_remove_owner(&r, &b);
    sc_owner_free(&a);
    sc_owner_free(&b);
    sc_registry_free(&r);
}

/* ---- rooms ------------------------------------------------------------------ */

/* A room named "<namespace>,<id>" by the socket with that socket.io-shaped
 * id that creates it is private (room->own); it stops being so when that
 * socket leaves it with others in it, and the hook hears "created" again. */
typedef struct hook_log {
    int created, gone;
    const sc_room *last;
} hook_log;

static void log_hook(void *ud, const sc_room *room, bool created)
{
    hook_log *h = ud;
    if (created)
        h->created++;
    else
        h->gone++;
    h->last = room;
}

static void private_rooms(void **state)
{
    (void)state;
    const char *id = "AbCdEfGhIjKlMnOp_-12"; /* 20 characters of base64url */
    assert_string_equal(sc_private_room_id("/,AbCdEfGhIjKlMnOp_-12", 22), id);
    assert_string_equal(sc_private_room_id("/chat,AbCdEfGhIjKlMnOp_-12", 26), id);
    assert_null(sc_private_room_id(",AbCdEfGhIjKlMnOp_-12", 21));  /* no namespace */
    assert_null(sc_private_room_id("/,AbCdEfGhIjKlMnOp_-1", 21));  /* 19 characters */
    assert_null(sc_private_room_id("/,AbCdEfGhIjKlMnOp+-12", 22)); /* not base64url */
    assert_null(sc_private_room_id("/.AbCdEfGhIjKlMnOp_-12", 22)); /* no comma */
    assert_null(sc_private_room_id("/,lobby", 7));

    sc_registry r;
    sc_registry_init(&r);
    hook_log h = {0};
    r.on_room = log_hook;
    r.on_room_ud = &h;
    sc_owner o;
    sc_owner_init(&o, NULL);
    sc_socket *s = add(&r, &o, id), *t = add(&r, &o, "zYxWvUtSrQpOnMlKjIhG");
    /* another socket creating s's room: an ordinary room */
    assert_int_equal(sc_registry_join(&r, t, "/,AbCdEfGhIjKlMnOp_-12"), 1);
    assert_null(sc_registry_find_room(&r, "/,AbCdEfGhIjKlMnOp_-12")->own);
    assert_int_equal(sc_registry_leave(&r, t, "/,AbCdEfGhIjKlMnOp_-12"), 1);
    assert_int_equal(h.gone, 1);
    /* s creating it: private; others may join */
    assert_int_equal(sc_registry_join(&r, s, "/,AbCdEfGhIjKlMnOp_-12"), 1);
    sc_room *own = sc_registry_find_room(&r, "/,AbCdEfGhIjKlMnOp_-12");
    assert_ptr_equal(own->own, s);
    assert_int_equal(sc_registry_join(&r, t, "/,AbCdEfGhIjKlMnOp_-12"), 1);
    assert_int_equal(sc_registry_join(&r, t, "/,zYxWvUtSrQpOnMlKjIhG"), 1);
    assert_ptr_equal(sc_registry_find_room(&r, "/,zYxWvUtSrQpOnMlKjIhG")->own, t);
    assert_int_equal(h.created, 3);
    /* s leaves with t still in it: an ordinary room, the hook told again */
    assert_int_equal(sc_registry_leave(&r, s, "/,AbCdEfGhIjKlMnOp_-12"), 1);
    assert_null(own->own);
    assert_int_equal(h.created, 4);
    assert_ptr_equal(h.last, own);
    /* t's own room goes with its last member: gone, not "created" */
    sc_registry_remove_socket(&r, t);
    assert_int_equal(h.created, 4);
    assert_int_equal(h.gone, 3);
    r.on_room = NULL;
    sc_registry_remove_owner(&r, &o);
    sc_owner_free(&o);
    sc_registry_free(&r);
}

static void join_leave(void **state)
{
    (void)state;
    sc_registry r;
    sc_registry_init(&r);
    sc_owner o;
    sc_owner_init(&o, NULL);
    sc_socket *s = add(&r, &o, "s1"), *t = add(&r, &o, "s2");

    assert_null(sc_registry_find_room(&r, "lobby"));
    assert_int_equal(sc_room_size(NULL), 0);
    assert_int_equal(sc_registry_join(&r, s, "lobby"), 1);
    assert_int_equal(sc_registry_join(&r, s, "lobby"), 0);
    sc_room *lobby = sc_registry_find_room(&r, "lobby");
    assert_non_null(lobby);
    assert_string_equal(lobby->name, "lobby");
    assert_int_equal(sc_room_size(lobby), 1);
    assert_int_equal(r.memberships, 1);
    assert_true(sc_pset_has(&s->rooms, lobby));
    assert_true(sc_pset_has(&lobby->members, s));

    assert_int_equal(sc_registry_join(&r, t, "lobby"), 1);
    assert_ptr_equal(sc_registry_find_room(&r, "lobby"), lobby); /* same room */
    assert_int_equal(sc_room_size(lobby), 2);
    assert_int_equal(owner_count_in(lobby, &o), 2);
    assert_int_equal(r.memberships, 2);

    assert_int_equal(sc_registry_join(&r, s, ""), -EINVAL);
    char *big = malloc(SC_ID_MAX + 2);
    assert_non_null(big);
    memset(big, 'r', SC_ID_MAX + 1);
    big[SC_ID_MAX + 1] = '\0';
    assert_int_equal(sc_registry_join(&r, s, big), -ENAMETOOLONG);
    assert_null(sc_registry_find_room(&r, big));
    big[SC_ID_MAX] = '\0';
    assert_int_equal(sc_registry_join(&r, s, big), 1);
    assert_int_equal(sc_registry_leave(&r, s, big), 1);
    assert_null(sc_registry_find_room(&r, big));
    free(big);
    assert_int_equal(r.memberships, 2);

    assert_int_equal(sc_registry_leave(&r, s, "lobby"), 1);
    assert_int_equal(sc_registry_leave(&r, s, "lobby"), 0);
    assert_int_equal(sc_registry_leave(&r, s, "nowhere"), 0);
    assert_int_equal(sc_registry_leave(&r, s, ""), 0);
    assert_int_equal(sc_room_size(lobby), 1);
    assert_int_equal(owner_count_in(lobby, &o), 1);
    assert_int_equal(sc_pset_count(&s->rooms), 0);
    assert_int_equal(r.memberships, 1);

    /* The last member leaving deletes the room; joining again recreates it. */
    assert_int_equal(sc_registry_leave(&r, t, "lobby"), 1);
    assert_null(sc_registry_find_room(&r, "lobby"));
    assert_int_equal(sc_map_count(&r.rooms), 0);
    assert_int_equal(r.memberships, 0);
    assert_int_equal(sc_registry_join(&r, t, "lobby"), 1);
    assert_int_equal(sc_room_size(sc_registry_find_room(&r, "lobby")), 1);

    sc_registry_remove_owner(&r, &o);
    sc_owner_free(&o);
    sc_registry_free(&r);
}

static void leave_all_frees_empty_rooms(void **state)
{
    (void)state;
    sc_registry r;
    sc_registry_init(&r);
    sc_owner o;
    sc_owner_init(&o, NULL);
    sc_socket *s = add(&r, &o, "s"), *t = add(&r, &o, "t");
    char name[16];
    for (int i = 0; i < 12; i++) { /* 12 rooms: s's room set is hashed */
        snprintf(name, sizeof(name), "r%d", i);
        assert_int_equal(sc_registry_join(&r, s, name), 1);
        if (i % 3 == 0)
            assert_int_equal(sc_registry_join(&r, t, name), 1);
    }
    assert_int_equal(r.memberships, 16);
    assert_int_equal(sc_map_count(&r.rooms), 12);
    sc_registry_leave_all(&r, s);
    assert_int_equal(sc_pset_count(&s->rooms), 0);
    assert_int_equal(r.memberships, 4);
    assert_int_equal(sc_map_count(&r.rooms), 4);
    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof(name), "r%d", i);
        sc_room *room = sc_registry_find_room(&r, name);
        if (i % 3 == 0) {
            assert_non_null(room);
            assert_int_equal(sc_room_size(room), 1);
            assert_false(sc_pset_has(&room->members, s));
            assert_int_equal(owner_count_in(room, &o), 1);
        } else {
            assert_null(room);
        }
    }
    /* Leaving all with no rooms is a no-op; s is still registered. */
    sc_registry_leave_all(&r, s);
    assert_int_equal(r.memberships, 4);
    assert_ptr_equal(sc_registry_find_socket(&r, "s"), s);
    assert_int_equal(sc_registry_join(&r, s, "r1"), 1);
    assert_int_equal(r.memberships, 5);
    sc_registry_remove_owner(&r, &o);
    assert_int_equal(r.memberships, 0);
    assert_int_equal(sc_map_count(&r.rooms), 0);
    sc_owner_free(&o);
    sc_registry_free(&r);
}

static void remove_socket_and_owner(void **state)
{
    (void)state;
    sc_registry r;
    sc_registry_init(&r);
    sc_owner a, b;
    sc_owner_init(&a, NULL);
    sc_owner_init(&b, NULL);
    char id[32], name[32];
    /* a: 20 sockets; b: 5 sockets. Rooms "shared-k" hold both owners'
     * sockets, "a-only-k" only a's. */
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof(id), "a%d", i);
        sc_socket *s = add(&r, &a, id);
        snprintf(name, sizeof(name), "shared-%d", i % 4);
        sc_registry_join(&r, s, name);
        snprintf(name, sizeof(name), "a-only-%d", i % 3);
        sc_registry_join(&r, s, name);
        sc_registry_join(&r, s, "everyone");
    }
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof(id), "b%d", i);
        sc_socket *s = add(&r, &b, id);
        snprintf(name, sizeof(name), "shared-%d", i % 4);
        sc_registry_join(&r, s, name);
        sc_registry_join(&r, s, "everyone");
    }
    assert_int_equal(r.memberships, 20 * 3 + 5 * 2);
    sc_room *shared0 = sc_registry_find_room(&r, "shared-0");
    assert_int_equal(sc_room_size(shared0), 5 + 2);
    assert_int_equal(owner_count_in(shared0, &a), 5);
    assert_int_equal(owner_count_in(shared0, &b), 2);
    sc_room *every = sc_registry_find_room(&r, "everyone");
    assert_int_equal(owner_count_in(every, &a), 20);
    assert_int_equal(owner_count_in(every, &b), 5);
    assert_int_equal(sc_pmap_count(&every->owners), 2);
    assert_int_equal(sc_pset_count(&r.owners), 2);

    /* Removing one socket: counts drop, rooms stay while non-empty. */
    sc_socket *a0 = sc_registry_find_socket(&r, "a0");
    sc_registry_remove_socket(&r, a0);
    assert_null(sc_registry_find_socket(&r, "a0"));
    assert_int_equal(owner_count_in(shared0, &a), 4);
    assert_int_equal(owner_count_in(every, &a), 19);
    assert_int_equal(sc_room_size(every), 24);
    assert_int_equal(sc_pset_count(&a.sockets), 19);
    assert_int_equal(r.memberships, 70 - 3);

    /* Removing owner a removes all its sockets from all rooms. */
    assert_int_equal(sc_registry_remove_owner(&r, &a), 19);
    assert_int_equal(sc_pset_count(&a.sockets), 0);
    assert_false(sc_pset_has(&r.owners, &a));
    assert_true(sc_pset_has(&r.owners, &b));
    assert_int_equal(sc_map_count(&r.sockets), 5);
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof(id), "a%d", i);
        assert_null(sc_registry_find_socket(&r, id));
    }
    for (int k = 0; k < 3; k++) {
        snprintf(name, sizeof(name), "a-only-%d", k);
        assert_null(sc_registry_find_room(&r, name));
    }
    for (int k = 0; k < 4; k++) {
        snprintf(name, sizeof(name), "shared-%d", k);
        sc_room *room = sc_registry_find_room(&r, name);
        assert_non_null(room);
        assert_int_equal(sc_room_size(room), k == 0 ? 2 : 1);
        assert_null(sc_pmap_get(&room->owners, &a));
        assert_int_equal(owner_count_in(room, &b), sc_room_size(room));
        assert_int_equal(sc_pmap_count(&room->owners), 1);
    }
    every = sc_registry_find_room(&r, "everyone");
    assert_int_equal(sc_room_size(every), 5);
    assert_int_equal(sc_pmap_count(&every->owners), 1);
    assert_int_equal(r.memberships, 10);
    /* Removing an owner without sockets is harmless. */
    assert_int_equal(sc_registry_remove_owner(&r, &a), 0);

    assert_int_equal(sc_registry_remove_owner(&r, &b), 5);
    assert_int_equal(r.memberships, 0);
    assert_int_equal(sc_map_count(&r.rooms), 0);
    assert_int_equal(sc_map_count(&r.sockets), 0);
    assert_int_equal(sc_pset_count(&r.owners), 0);
    sc_owner_free(&a);
    sc_owner_free(&b);
    sc_registry_free(&r);
}

/* sc_registry_free releases sockets and rooms still registered (ASan checks
 * that nothing leaks). */
static void free_with_live_sockets(void **state)
{
    (void)state;
    sc_registry r;
    sc_registry_init(&r);
    sc_owner o;
    sc_owner_init(&o, NULL);
    char id[16];
    for (int i = 0; i < 50; i++) {
        snprintf(id, sizeof(id), "s%d", i);
        sc_socket *s = NULL;
        assert_int_equal(
            sc_registry_add_socket(&r, &o, id, "x", "y", (const uint8_t *)"data", 4, &s), 0);
        sc_registry_join(&r, s, i % 2 ? "odd" : "even");
        sc_registry_join(&r, s, id);
    }
    assert_true(sc_registry_memory(&r) > 50 * sizeof(sc_socket));
    sc_registry_free(&r);
    sc_owner_free(&o); /* its set points at freed sockets; only the set goes */
    sc_registry_free(NULL);
    sc_owner_free(NULL);
}

/* ---- selection ---------------------------------------------------------------- */

/* Owners A (a1..a4) and B (b1..b3).
 *   r1: a1 a2 b1      r2: a2 a3 b1 b2     r3: b3      solo: a4 */
typedef struct fixture {
    sc_registry r;
    sc_owner a, b;
} fixture;

static int fixture_setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    sc_registry_init(&f->r);
    sc_owner_init(&f->a, NULL);
    sc_owner_init(&f->b, NULL);
    static const struct {
        const char *id;
        char owner;
        const char *rooms[3];
    } socks[] = {
        {"a1", 'a', {"r1"}},   {"a2", 'a', {"r1", "r2"}}, {"a3", 'a', {"r2"}},
        {"a4", 'a', {"solo"}}, {"b1", 'b', {"r1", "r2"}}, {"b2", 'b', {"r2"}},
        {"b3", 'b', {"r3"}},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(socks); i++) {
        sc_socket *s;
        if (sc_registry_add_socket(&f->r, socks[i].owner == 'a' ? &f->a : &f->b, socks[i].id, NULL,
                                   NULL, NULL, 0, &s) != 0)
            return -1;
        for (int j = 0; j < 3 && socks[i].rooms[j]; j++)
            if (sc_registry_join(&f->r, s, socks[i].rooms[j]) != 1)
                return -1;
    }
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    fixture *f = *state;
    sc_registry_remove_owner(&f->r, &f->a);
    sc_registry_remove_owner(&f->r, &f->b);
    sc_owner_free(&f->a);
    sc_owner_free(&f->b);
    sc_registry_free(&f->r);
    free(f);
    return 0;
}

static void select_rooms_ids_all(void **state)
{
    fixture *f = *state;
    sc_registry *r = &f->r;
    select_check(r, NULL, (sel_spec){.rooms = {"r1"}}, "a1 a2 b1");
    /* a2 and b1 are in both rooms: visited once. */
    select_check(r, NULL, (sel_spec){.rooms = {"r1", "r2"}}, "a1 a2 b1 a3 b2");
    select_check(r, NULL, (sel_spec){.rooms = {"r2", "r1", "r2"}}, "a1 a2 b1 a3 b2");
    select_check(r, NULL, (sel_spec){.rooms = {"nope"}}, "");
    select_check(r, NULL, (sel_spec){.ids = {"a1", "b3", "nope", "a1"}}, "a1 b3");
    /* Rooms and ids overlapping. */
    select_check(r, NULL, (sel_spec){.rooms = {"r3"}, .ids = {"b3", "a4", "b3"}}, "b3 a4");
    select_check(r, NULL, (sel_spec){.all = true}, "a1 a2 a3 a4 b1 b2 b3");
    /* all wins over rooms and ids. */
    select_check(r, NULL, (sel_spec){.all = true, .rooms = {"r3"}, .ids = {"a1"}},
                 "a1 a2 a3 a4 b1 b2 b3");
    select_check(r, NULL, (sel_spec){0}, "");
}

static void select_except(void **state)
{
    fixture *f = *state;
    sc_registry *r = &f->r;
    select_check(r, NULL, (sel_spec){.all = true, .except_rooms = {"r2"}}, "a1 a4 b3");
    select_check(r, NULL, (sel_spec){.all = true, .except_ids = {"a1", "b3", "zz"}},
                 "a2 a3 a4 b1 b2");
    select_check(r, NULL,
                 (sel_spec){.all = true, .except_rooms = {"r1", "nope"}, .except_ids = {"a4"}},
                 "a3 b2 b3");
    select_check(r, NULL, (sel_spec){.rooms = {"r1", "r2"}, .except_rooms = {"r1"}}, "a3 b2");
    /* Excluded ids win over being listed. */
    select_check(r, NULL, (sel_spec){.ids = {"a1", "a2", "b1"}, .except_ids = {"a2"}}, "a1 b1");
    select_check(r, NULL, (sel_spec){.ids = {"a1", "a2", "b1"}, .except_rooms = {"r2"}}, "a1");
    select_check(r, NULL, (sel_spec){.rooms = {"r1"}, .except_rooms = {"r1"}}, "");
    /* An exclusion in one pass does not leak into the next. */
    select_check(r, NULL, (sel_spec){.rooms = {"r1"}}, "a1 a2 b1");
}

static void select_owner_restricted(void **state)
{
    fixture *f = *state;
    sc_registry *r = &f->r;
    select_check(r, &f->a, (sel_spec){.all = true}, "a1 a2 a3 a4");
    select_check(r, &f->b, (sel_spec){.all = true}, "b1 b2 b3");
    select_check(r, &f->a, (sel_spec){.rooms = {"r1", "r2"}}, "a1 a2 a3");
    select_check(r, &f->b, (sel_spec){.rooms = {"r1", "r2"}}, "b1 b2");
    select_check(r, &f->a, (sel_spec){.ids = {"b1", "b2", "a4"}}, "a4");
    select_check(r, &f->b, (sel_spec){.ids = {"a1"}}, "");
    select_check(r, &f->a, (sel_spec){.all = true, .except_rooms = {"r2"}, .except_ids = {"a4"}},
                 "a1");
    /* An owner without sockets selects nothing. */
    sc_owner c;
    sc_owner_init(&c, NULL);
    select_check(r, &c, (sel_spec){.all = true}, "");
    select_check(r, &c, (sel_spec){.rooms = {"r1"}}, "");
    sc_owner_free(&c);
}

/* Marks are per pass: thousands of selections, across the wrap of the pass
 * counter, keep giving the same answers. */
static void select_many_passes_and_wrap(void **state)
{
    fixture *f = *state;
    sc_registry *r = &f->r;
    for (int i = 0; i < 2000; i++) {
        sel_spec sp = {.rooms = {"r1", "r2"}, .except_ids = {i % 2 ? "a1" : "b2"}};
        select_check(r, NULL, sp, i % 2 ? "a2 b1 a3 b2" : "a1 a2 b1 a3");
    }
    r->pass = UINT32_MAX - 2;
    for (int i = 0; i < 6; i++) {
        select_check(r, NULL, (sel_spec){.rooms = {"r1", "r2"}, .except_ids = {"a3"}},
                     "a1 a2 b1 b2");
        assert_int_not_equal(r->pass, 0);
    }
    assert_true(r->pass < 10);
    r->pass = UINT32_MAX;
    assert_int_equal(sc_registry_next_pass(r), 1);
    assert_int_equal(sc_registry_next_pass(r), 2);
}

/* ---- randomized consistency ------------------------------------------------------ */

/* Random joins, leaves, socket and owner removals against a reference
 * membership matrix; checks room sizes, per-owner counts, memberships, room
 * existence and both sides of every membership. */
static void random_consistency(void **state)
{
    (void)state;
    enum { NOWN = 4, NSOCK = 300, NROOM = 40, OPS = 30000 };
    sc_registry r;
    sc_registry_init(&r);
    sc_owner own[NOWN];
    for (int i = 0; i < NOWN; i++)
        sc_owner_init(&own[i], NULL);
    sc_socket *sock[NSOCK] = {0};
    int sowner[NSOCK];
    static bool in[NSOCK][NROOM];
    memset(in, 0, sizeof(in));
    char id[16], name[16];
    uint64_t seed = 0x7e9157;
    for (int op = 0; op < OPS; op++) {
        int si = (int)unit_below(&seed, NSOCK), ri = (int)unit_below(&seed, NROOM);
        uint32_t dice = unit_below(&seed, 100);
        snprintf(id, sizeof(id), "s%d", si);
        snprintf(name, sizeof(name), "room%d", ri);
        if (!sock[si]) {
            sowner[si] = (int)unit_below(&seed, NOWN);
            sock[si] = add(&r, &own[sowner[si]], id);
        } else if (dice < 55) {
            assert_int_equal(sc_registry_join(&r, sock[si], name), in[si][ri] ? 0 : 1);
            in[si][ri] = true;
        } else if (dice < 90) {
            assert_int_equal(sc_registry_leave(&r, sock[si], name), in[si][ri] ? 1 : 0);
            in[si][ri] = false;
        } else if (dice < 96) {
            sc_registry_leave_all(&r, sock[si]);
            memset(in[si], 0, sizeof(in[si]));
        } else if (dice < 99) {
            sc_registry_remove_socket(&r, sock[si]);
            sock[si] = NULL;
            memset(in[si], 0, sizeof(in[si]));
        } else {
            int o = (int)unit_below(&seed, NOWN);
            size_t want = 0;
            for (int i = 0; i < NSOCK; i++)
                if (sock[i] && sowner[i] == o) {
                    want++;
                    sock[i] = NULL;
                    memset(in[i], 0, sizeof(in[i]));
                }
            assert_int_equal(sc_registry_remove_owner(&r, &own[o]), want);
        }
        if (op % 500 != 499)
            continue;
        uint64_t total = 0;
        uint32_t nsock = 0, nrooms = 0;
        for (int i = 0; i < NSOCK; i++)
            if (sock[i]) {
                nsock++;
                snprintf(id, sizeof(id), "s%d", i);
                assert_ptr_equal(sc_registry_find_socket(&r, id), sock[i]);
                uint32_t nr = 0;
                for (int k = 0; k < NROOM; k++)
                    nr += in[i][k];
                assert_int_equal(sc_pset_count(&sock[i]->rooms), nr);
            }
        for (int k = 0; k < NROOM; k++) {
            snprintf(name, sizeof(name), "room%d", k);
            sc_room *room = sc_registry_find_room(&r, name);
            uint32_t size = 0, per[NOWN] = {0};
            for (int i = 0; i < NSOCK; i++)
                if (in[i][k]) {
                    assert_non_null(room);
                    size++;
                    per[sowner[i]]++;
                    assert_true(sc_pset_has(&room->members, sock[i]));
                    assert_true(sc_pset_has(&sock[i]->rooms, room));
                }
            total += size;
            if (size == 0) {
                assert_null(room);
                continue;
            }
            nrooms++;
            assert_int_equal(sc_room_size(room), size);
            uint32_t nown = 0;
            for (int o = 0; o < NOWN; o++) {
                assert_int_equal(owner_count_in(room, &own[o]), per[o]);
                nown += per[o] > 0;
            }
            assert_int_equal(sc_pmap_count(&room->owners), nown);
        }
        assert_int_equal(r.memberships, total);
        assert_int_equal(sc_map_count(&r.sockets), nsock);
        assert_int_equal(sc_map_count(&r.rooms), nrooms);
        for (int o = 0; o < NOWN; o++) {
            uint32_t n = 0;
            for (int i = 0; i < NSOCK; i++)
                n += sock[i] && sowner[i] == o;
            assert_int_equal(sc_pset_count(&own[o].sockets), n);
            assert_int_equal(sc_pset_has(&r.owners, &own[o]), n > 0);
        }
    }
    for (int o = 0; o < NOWN; o++) {
        sc_registry_remove_owner(&r, &own[o]);
        sc_owner_free(&own[o]);
    }
    assert_int_equal(r.memberships, 0);
    sc_registry_free(&r);
}

/* One engine.io connection, a socket per namespace, one session id: the
 * session stays found while any of them is registered, whichever goes first. */
static void session_shared_by_sockets(void **state)
{
    (void)state;
    sc_registry r;
    sc_registry_init(&r);
    sc_owner o;
    sc_owner_init(&o, NULL);
    sc_socket *ns[4];
    const char *ids[] = {"root", "chat", "admin", "other"};
    for (int i = 0; i < 4; i++)
        assert_int_equal(sc_registry_add_socket(&r, &o, ids[i], i < 3 ? "sess" : "sess2", "",
                                                NULL, 0, &ns[i]),
                         0);
    assert_ptr_equal(sc_registry_find_session(&r, "sess"), ns[0]); /* the oldest */
    assert_int_equal(sc_map_count(&r.sessions), 2);
    assert_null(sc_registry_session_other(ns[3]));
    assert_non_null(sc_registry_session_other(ns[0]));

    sc_registry_remove_socket(&r, ns[1]); /* from the middle */
    assert_ptr_equal(sc_registry_find_session(&r, "sess"), ns[0]);
    assert_ptr_equal(sc_registry_session_other(ns[0]), ns[2]);
    assert_ptr_equal(sc_registry_session_other(ns[2]), ns[0]);

    sc_registry_remove_socket(&r, ns[0]); /* the one the map held */
    assert_ptr_equal(sc_registry_find_session(&r, "sess"), ns[2]);
    assert_null(sc_registry_session_other(ns[2]));
    assert_ptr_equal(sc_registry_find_session(&r, "sess2"), ns[3]);

    sc_registry_remove_socket(&r, ns[2]);
    assert_null(sc_registry_find_session(&r, "sess"));
    assert_int_equal(sc_map_count(&r.sessions), 1);
    sc_registry_remove_owner(&r, &o);
    assert_int_equal(sc_map_count(&r.sessions), 0);
    sc_owner_free(&o);
    sc_registry_free(&r);
}

#define FIX(t) cmocka_unit_test_setup_teardown(t, fixture_setup, fixture_teardown)

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(add_find_fields),
    cmocka_unit_test(add_errors),
    cmocka_unit_test(gen_tracks_changes),
    cmocka_unit_test(join_leave),
    cmocka_unit_test(private_rooms),
    cmocka_unit_test(leave_all_frees_empty_rooms),
    cmocka_unit_test(remove_socket_and_owner),
    cmocka_unit_test(free_with_live_sockets),
    cmocka_unit_test(session_shared_by_sockets),
    FIX(select_rooms_ids_all),
    FIX(select_except),
    FIX(select_owner_restricted),
    FIX(select_many_passes_and_wrap),
    cmocka_unit_test(random_consistency),
};

UNIT_MAIN(tests)
