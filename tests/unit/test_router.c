/* Unit tests for broker/router.c: which owners an emit reaches, and the
 * per-owner selector each of them gets. */
#include "unit.h"

#include "router.h"
#include "util.h"

/* ---- recording callback ---------------------------------------------------------- */

#define MAXCALLS 64
typedef struct call {
    sc_owner *o;
    sc_selector sel; /* copied; arrays other than socket_ids point into `to` */
    char ids[16][16];
    size_t nids;
} call;

typedef struct calls {
    call c[MAXCALLS];
    int n;
} calls;

static void on_route(sc_owner *o, const sc_selector *to, void *ud)
{
    calls *cs = ud;
    assert_true(cs->n < MAXCALLS);
    call *c = &cs->c[cs->n++];
    c->o = o;
    c->sel = *to;
    assert_true(to->n_socket_ids <= 16);
    c->nids = to->n_socket_ids;
    for (size_t i = 0; i < to->n_socket_ids; i++)
        snprintf(c->ids[i], sizeof(c->ids[i]), "%s", to->socket_ids[i]);
}

static const call *call_for(const calls *cs, const sc_owner *o)
{
    const call *found = NULL;
    for (int i = 0; i < cs->n; i++)
        if (cs->c[i].o == o) {
            if (found)
                fail_msg("owner %p called more than once", (const void *)o);
            found = &cs->c[i];
        }
    return found;
}

/* Asserts the socket ids the owner got, in order (space-separated). */
static void check_ids(const call *c, const char *want)
{
    assert_non_null(c);
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", want);
    size_t n = 0;
    for (char *save, *id = strtok_r(buf, " ", &save); id; id = strtok_r(NULL, " ", &save)) {
        if (n >= c->nids)
            fail_msg("missing id %s (want '%s', got %zu ids)", id, want, c->nids);
        assert_string_equal(c->ids[n], id);
        n++;
    }
    if (n != c->nids)
        fail_msg("got %zu ids, want '%s'", c->nids, want);
}

typedef struct sel_spec {
    const char *rooms[4];
    const char *ids[8];
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
    s.n_socket_ids = count_strs(sp->ids, 8);
    s.socket_ids = (char **)sp->ids;
    s.all = sp->all;
    s.n_except_rooms = count_strs(sp->except_rooms, 4);
    s.except_rooms = (char **)sp->except_rooms;
    s.n_except_ids = count_strs(sp->except_ids, 4);
    s.except_ids = (char **)sp->except_ids;
    return s;
}

/* ---- fixture ---------------------------------------------------------------------- */

/* Owners A (a1 a2), B (b1 b2), C (c1), D (no sockets).
 *   r1: a1 b1     r2: a2 b1 b2     r3: c1     big: a1 a2 b1 b2 c1 */
typedef struct fixture {
    sc_registry r;
    sc_owner a, b, c, d;
    calls cs;
} fixture;

static int fixture_setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    sc_registry_init(&f->r);
    sc_owner_init(&f->a, (void *)"A");
    sc_owner_init(&f->b, (void *)"B");
    sc_owner_init(&f->c, (void *)"C");
    sc_owner_init(&f->d, (void *)"D");
    static const struct {
        const char *id;
        char owner;
        const char *rooms[3];
    } socks[] = {
        {"a1", 'a', {"r1", "big"}}, {"a2", 'a', {"r2", "big"}}, {"b1", 'b', {"r1", "r2", "big"}},
        {"b2", 'b', {"r2", "big"}}, {"c1", 'c', {"r3", "big"}},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(socks); i++) {
        sc_owner *o = socks[i].owner == 'a' ? &f->a : socks[i].owner == 'b' ? &f->b : &f->c;
        sc_socket *s;
        if (sc_registry_add_socket(&f->r, o, socks[i].id, NULL, NULL, NULL, 0, &s) != 0)
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
    sc_owner *os[] = {&f->a, &f->b, &f->c, &f->d};
    for (size_t i = 0; i < SC_ARRAY_LEN(os); i++) {
        sc_registry_remove_owner(&f->r, os[i]);
        sc_owner_free(os[i]);
    }
    sc_registry_free(&f->r);
    free(f);
    return 0;
}

/* Routes sp from sender and returns the result; calls land in f->cs. */
static sc_route_result route(fixture *f, const sc_owner *sender, sel_spec sp, bool self,
                             sc_selector *ret_to)
{
    sc_selector to = make_sel(&sp);
    f->cs.n = 0;
    sc_route_result res = {99, 99};
    sc_route(&f->r, sender, &to, self, on_route, &f->cs, &res);
    assert_int_equal(res.owners, (uint32_t)f->cs.n);
    if (ret_to)
        *ret_to = to;
    return res;
}

/* ---- tests ------------------------------------------------------------------------- */

static void rooms_reach_owners_once(void **state)
{
    fixture *f = *state;
    sc_route_result res = route(f, NULL, (sel_spec){.rooms = {"r1"}}, false, NULL);
    assert_int_equal(res.owners, 2);
    assert_int_equal(res.skipped_self, 0);
    check_ids(call_for(&f->cs, &f->a), "");
    check_ids(call_for(&f->cs, &f->b), "");
    assert_null(call_for(&f->cs, &f->c));

    /* A via r1 (a1) and r2 (a2), B via both rooms with b1: each called once. */
    res = route(f, NULL, (sel_spec){.rooms = {"r1", "r2", "r1"}}, false, NULL);
    assert_int_equal(res.owners, 2);
    assert_non_null(call_for(&f->cs, &f->a));
    assert_non_null(call_for(&f->cs, &f->b));

    /* A room with every owner: O(owners), each once. */
    res = route(f, NULL, (sel_spec){.rooms = {"big", "r3"}}, false, NULL);
    assert_int_equal(res.owners, 3);
    assert_non_null(call_for(&f->cs, &f->c));
    assert_null(call_for(&f->cs, &f->d));

    res = route(f, NULL, (sel_spec){.rooms = {"missing"}}, false, NULL);
    assert_int_equal(res.owners, 0);
    res = route(f, NULL, (sel_spec){0}, false, NULL);
    assert_int_equal(res.owners, 0);
}

static void all_reaches_owners_with_sockets(void **state)
{
    fixture *f = *state;
    sc_route_result res = route(f, NULL, (sel_spec){.all = true}, false, NULL);
    assert_int_equal(res.owners, 3);
    check_ids(call_for(&f->cs, &f->a), "");
    check_ids(call_for(&f->cs, &f->b), "");
    check_ids(call_for(&f->cs, &f->c), "");
    assert_null(call_for(&f->cs, &f->d));
    assert_true(call_for(&f->cs, &f->a)->sel.all);

    /* all with ids listed: ids are not collected (all covers them). */
    res = route(f, NULL, (sel_spec){.all = true, .ids = {"a1", "c1"}}, false, NULL);
    assert_int_equal(res.owners, 3);
    check_ids(call_for(&f->cs, &f->a), "");
    check_ids(call_for(&f->cs, &f->c), "");

    /* An owner that lost its last socket is no longer reached. */
    sc_registry_remove_socket(&f->r, sc_registry_find_socket(&f->r, "c1"));
    res = route(f, NULL, (sel_spec){.all = true}, false, NULL);
    assert_int_equal(res.owners, 2);
    assert_null(call_for(&f->cs, &f->c));
}

static void socket_ids_split_per_owner(void **state)
{
    fixture *f = *state;
    sc_route_result res =
        route(f, NULL, (sel_spec){.ids = {"a1", "b2", "zz", "a2", "b1"}}, false, NULL);
    assert_int_equal(res.owners, 2);
    check_ids(call_for(&f->cs, &f->a), "a1 a2");
    check_ids(call_for(&f->cs, &f->b), "b2 b1");
    assert_null(call_for(&f->cs, &f->c));

    /* Unknown ids only: nobody. */
    res = route(f, NULL, (sel_spec){.ids = {"zz", "a1x", "A1"}}, false, NULL);
    assert_int_equal(res.owners, 0);

    /* A duplicate id is delivered once. */
    res = route(f, NULL, (sel_spec){.ids = {"b1", "b1", "b2", "b1"}}, false, NULL);
    assert_int_equal(res.owners, 1);
    check_ids(call_for(&f->cs, &f->b), "b1 b2");

    /* Rooms and ids together: C reached by r3 and by id, once, with its id. */
    res = route(f, NULL, (sel_spec){.rooms = {"r3"}, .ids = {"c1", "a1"}}, false, NULL);
    assert_int_equal(res.owners, 2);
    check_ids(call_for(&f->cs, &f->c), "c1");
    check_ids(call_for(&f->cs, &f->a), "a1");

    /* Room-reached owners get no stale ids from an earlier route. */
    res = route(f, NULL, (sel_spec){.rooms = {"r2"}}, false, NULL);
    check_ids(call_for(&f->cs, &f->a), "");
    check_ids(call_for(&f->cs, &f->b), "");
}

/* Except rules filter the socket ids; owners left with no id (and no room)
 * are not reached. Rooms are filtered by the receiver, so the selector keeps
 * the except lists. */
static void except_filters_ids(void **state)
{
    fixture *f = *state;
    sc_selector to;
    sc_route_result res =
        route(f, NULL, (sel_spec){.ids = {"a1", "a2", "b1"}, .except_ids = {"a2"}}, false, &to);
    assert_int_equal(res.owners, 2);
    check_ids(call_for(&f->cs, &f->a), "a1");
    check_ids(call_for(&f->cs, &f->b), "b1");

    res = route(f, NULL, (sel_spec){.ids = {"a2", "c1"}, .except_ids = {"a2"}}, false, NULL);
    assert_int_equal(res.owners, 1);
    assert_null(call_for(&f->cs, &f->a));
    check_ids(call_for(&f->cs, &f->c), "c1");

    /* except_rooms: r2 = a2 b1 b2 */
    res = route(f, NULL, (sel_spec){.ids = {"a1", "a2", "b2", "c1"}, .except_rooms = {"r2"}}, false,
                NULL);
    assert_int_equal(res.owners, 2);
    check_ids(call_for(&f->cs, &f->a), "a1");
    check_ids(call_for(&f->cs, &f->c), "c1");
    assert_null(call_for(&f->cs, &f->b));

    /* Exclusions from one route do not carry over to the next. */
    res = route(f, NULL, (sel_spec){.ids = {"a2", "b2"}}, false, NULL);
    check_ids(call_for(&f->cs, &f->a), "a2");
    check_ids(call_for(&f->cs, &f->b), "b2");

    /* Room targets are not filtered here: B is reached through r1 even though
     * its only member there is excluded, and evaluates the except list
     * itself. */
    res = route(f, NULL, (sel_spec){.rooms = {"r1"}, .except_ids = {"b1"}}, false, &to);
    assert_int_equal(res.owners, 2);
    const call *cb = call_for(&f->cs, &f->b);
    assert_non_null(cb);
    assert_int_equal(cb->sel.n_except_ids, 1);
    assert_string_equal(cb->sel.except_ids[0], "b1");
}

/* The selector an owner gets is the emit's, with only socket_ids replaced. */
static void selector_passed_through(void **state)
{
    fixture *f = *state;
    sc_selector to;
    route(f, NULL,
          (sel_spec){
              .rooms = {"r3", "r1"}, .ids = {"b2"}, .except_rooms = {"nope"}, .except_ids = {"zz"}},
          false, &to);
    assert_int_equal(f->cs.n, 3);
    for (int i = 0; i < f->cs.n; i++) {
        const sc_selector *s = &f->cs.c[i].sel;
        assert_int_equal(s->n_rooms, 2);
        assert_ptr_equal(s->rooms, to.rooms);
        assert_int_equal(s->n_except_rooms, 1);
        assert_ptr_equal(s->except_rooms, to.except_rooms);
        assert_int_equal(s->n_except_ids, 1);
        assert_ptr_equal(s->except_ids, to.except_ids);
        assert_false(s->all);
        assert_ptr_equal(s->base.descriptor, &sidecast__v1__selector__descriptor);
    }
    check_ids(call_for(&f->cs, &f->b), "b2");
    check_ids(call_for(&f->cs, &f->a), "");
    check_ids(call_for(&f->cs, &f->c), "");
}

static void sender_skipped_unless_include_self(void **state)
{
    fixture *f = *state;
    sc_route_result res = route(f, &f->a, (sel_spec){.rooms = {"r1"}}, false, NULL);
    assert_int_equal(res.owners, 1);
    assert_int_equal(res.skipped_self, 1);
    assert_null(call_for(&f->cs, &f->a));
    assert_non_null(call_for(&f->cs, &f->b));

    res = route(f, &f->a, (sel_spec){.rooms = {"r1"}}, true, NULL);
    assert_int_equal(res.owners, 2);
    assert_int_equal(res.skipped_self, 0);
    assert_non_null(call_for(&f->cs, &f->a));

    /* Sender not among the targets: nothing skipped. */
    res = route(f, &f->c, (sel_spec){.rooms = {"r1"}}, false, NULL);
    assert_int_equal(res.owners, 2);
    assert_int_equal(res.skipped_self, 0);

    /* By id, and with all. */
    res = route(f, &f->b, (sel_spec){.ids = {"b1", "a1"}}, false, NULL);
    assert_int_equal(res.owners, 1);
    assert_int_equal(res.skipped_self, 1);
    check_ids(call_for(&f->cs, &f->a), "a1");
    res = route(f, &f->b, (sel_spec){.ids = {"b1", "a1"}}, true, NULL);
    check_ids(call_for(&f->cs, &f->b), "b1");
    res = route(f, &f->c, (sel_spec){.all = true}, false, NULL);
    assert_int_equal(res.owners, 2);
    assert_int_equal(res.skipped_self, 1);
    /* A sender with no sockets is never "reached". */
    res = route(f, &f->d, (sel_spec){.all = true}, false, NULL);
    assert_int_equal(res.owners, 3);
    assert_int_equal(res.skipped_self, 0);

    /* ret may be NULL. */
    sel_spec sp = {.rooms = {"r1"}};
    sc_selector to = make_sel(&sp);
    f->cs.n = 0;
    sc_route(&f->r, NULL, &to, false, on_route, &f->cs, NULL);
    assert_int_equal(f->cs.n, 2);
}

/* Counts calls per owner of an array. */
typedef struct tally {
    sc_owner *base;
    uint32_t *per;
    uint32_t n;
} tally;

static void on_route_count(sc_owner *o, const sc_selector *to, void *ud)
{
    (void)to;
    tally *t = ud;
    t->per[o - t->base]++;
    t->n++;
}

/* Many owners: the router's list of reached owners grows past its first
 * allocation, and each owner is still called once. */
static void many_owners(void **state)
{
    (void)state;
    enum { N = 300 };
    sc_registry r;
    sc_registry_init(&r);
    sc_owner *own = calloc(N, sizeof(*own));
    uint32_t *per = calloc(N, sizeof(*per));
    assert_non_null(own);
    assert_non_null(per);
    char id[16];
    for (int i = 0; i < N; i++) {
        sc_owner_init(&own[i], NULL);
        for (int j = 0; j < 3; j++) {
            sc_socket *s;
            snprintf(id, sizeof(id), "o%d-%d", i, j);
            assert_int_equal(sc_registry_add_socket(&r, &own[i], id, NULL, NULL, NULL, 0, &s), 0);
            sc_registry_join(&r, s, "all-in");
            if (i % 2 == 0)
                sc_registry_join(&r, s, "even");
        }
    }
    tally t = {own, per, 0};
    sc_route_result res;
    sel_spec sp = {.rooms = {"even"}};
    sc_selector to = make_sel(&sp);
    sc_route(&r, NULL, &to, false, on_route_count, &t, &res);
    assert_int_equal(t.n, N / 2);
    assert_int_equal(res.owners, N / 2);
    for (int i = 0; i < N; i++)
        assert_int_equal(per[i], i % 2 == 0);

    memset(per, 0, N * sizeof(*per));
    t.n = 0;
    sp = (sel_spec){.rooms = {"all-in", "even"}};
    to = make_sel(&sp);
    sc_route(&r, &own[7], &to, false, on_route_count, &t, &res);
    assert_int_equal(t.n, N - 1);
    assert_int_equal(res.owners, N - 1);
    assert_int_equal(res.skipped_self, 1);
    for (int i = 0; i < N; i++)
        assert_int_equal(per[i], i != 7);
    for (int i = 0; i < N; i++) {
        sc_registry_remove_owner(&r, &own[i]);
        sc_owner_free(&own[i]);
    }
    free(own);
    free(per);
    sc_registry_free(&r);
}

/* ---- differential test ------------------------------------------------------------- */

/* Random registries and selectors against a brute-force model of the
 * routing rules in router.h:
 *   reached(o) = o has sockets and (all, or a target room has a member of
 *                o, or a listed socket of o is not excluded)
 *   ids(o)     = listed sockets of o that are not excluded, first occurrence
 *                order, each once; none when `all`. */
enum { D_OWN = 6, D_SOCK = 40, D_ROOM = 8 };

typedef struct dcall {
    uint32_t count;
    size_t nids;
    const char *ids[16];
} dcall;

typedef struct dstate {
    sc_owner *own;
    dcall got[D_OWN];
} dstate;

static void on_route_diff(sc_owner *o, const sc_selector *to, void *ud)
{
    dstate *d = ud;
    dcall *c = &d->got[o - d->own];
    c->count++;
    assert_true(to->n_socket_ids <= 16);
    c->nids = to->n_socket_ids;
    for (size_t i = 0; i < to->n_socket_ids; i++)
        c->ids[i] = to->socket_ids[i];
}

static void random_differential(void **state)
{
    (void)state;
    sc_registry r;
    sc_registry_init(&r);
    sc_owner own[D_OWN];
    for (int i = 0; i < D_OWN; i++)
        sc_owner_init(&own[i], NULL);
    static char sid[D_SOCK][8], rname[D_ROOM + 2][8];
    for (int i = 0; i < D_SOCK; i++)
        snprintf(sid[i], sizeof(sid[i]), "s%d", i);
    for (int k = 0; k < D_ROOM + 2; k++) /* the last two never exist */
        snprintf(rname[k], sizeof(rname[k]), "r%d", k);
    sc_socket *sock[D_SOCK] = {0};
    int sowner[D_SOCK] = {0};
    bool in[D_SOCK][D_ROOM];
    uint64_t seed = 0x2047e5;

    for (int iter = 0; iter < 3000; iter++) {
        /* Mutate the registry a little. */
        for (int m = 0; m < 6; m++) {
            int i = (int)unit_below(&seed, D_SOCK), k = (int)unit_below(&seed, D_ROOM);
            if (!sock[i]) {
                sowner[i] = (int)unit_below(&seed, D_OWN);
                memset(in[i], 0, sizeof(in[i]));
                assert_int_equal(sc_registry_add_socket(&r, &own[sowner[i]], sid[i], NULL, NULL,
                                                        NULL, 0, &sock[i]),
                                 0);
            } else if (unit_below(&seed, 10) < 7) {
                sc_registry_join(&r, sock[i], rname[k]);
                in[i][k] = true;
            } else if (unit_below(&seed, 10) < 8) {
                sc_registry_leave(&r, sock[i], rname[k]);
                in[i][k] = false;
            } else {
                sc_registry_remove_socket(&r, sock[i]);
                sock[i] = NULL;
            }
        }
        /* A random selector. */
        const char *rooms[3], *ids[8], *xrooms[2], *xids[3];
        sc_selector to = SIDECAST__V1__SELECTOR__INIT;
        to.n_rooms = unit_below(&seed, 4);
        for (size_t j = 0; j < to.n_rooms; j++)
            rooms[j] = rname[unit_below(&seed, D_ROOM + 2)];
        to.n_socket_ids = unit_below(&seed, 9);
        for (size_t j = 0; j < to.n_socket_ids; j++)
            ids[j] = sid[unit_below(&seed, D_SOCK)];
        to.all = unit_below(&seed, 8) == 0;
        to.n_except_rooms = unit_below(&seed, 3);
        for (size_t j = 0; j < to.n_except_rooms; j++)
            xrooms[j] = rname[unit_below(&seed, D_ROOM + 2)];
        to.n_except_ids = unit_below(&seed, 4);
        for (size_t j = 0; j < to.n_except_ids; j++)
            xids[j] = sid[unit_below(&seed, D_SOCK)];
        to.rooms = (char **)rooms;
        to.socket_ids = (char **)ids;
        to.except_rooms = (char **)xrooms;
        to.except_ids = (char **)xids;
        int sender = (int)unit_below(&seed, D_OWN + 1) - 1; /* -1: none */
        bool self = unit_below(&seed, 2);

        /* Model. */
        bool reached[D_OWN] = {0};
        size_t wn[D_OWN] = {0};
        const char *wids[D_OWN][8];
        bool listed[D_SOCK] = {0};
        int nsockets[D_OWN] = {0};
        for (int i = 0; i < D_SOCK; i++)
            if (sock[i])
                nsockets[sowner[i]]++;
        if (to.all) {
            for (int o = 0; o < D_OWN; o++)
                reached[o] = nsockets[o] > 0;
        } else {
            for (size_t j = 0; j < to.n_rooms; j++) {
                int k = rooms[j][1] - '0';
                for (int i = 0; i < D_SOCK && k < D_ROOM; i++)
                    if (sock[i] && in[i][k])
                        reached[sowner[i]] = true;
            }
            for (size_t j = 0; j < to.n_socket_ids; j++) {
                int i = atoi(ids[j] + 1);
                if (!sock[i] || listed[i])
                    continue;
                bool excluded = false;
                for (size_t x = 0; x < to.n_except_ids; x++)
                    excluded |= strcmp(xids[x], ids[j]) == 0;
                for (size_t x = 0; x < to.n_except_rooms; x++) {
                    int k = xrooms[x][1] - '0';
                    excluded |= k < D_ROOM && in[i][k];
                }
                if (excluded)
                    continue;
                listed[i] = true;
                reached[sowner[i]] = true;
                wids[sowner[i]][wn[sowner[i]]++] = ids[j];
            }
        }
        uint32_t want_owners = 0, want_skipped = 0;
        for (int o = 0; o < D_OWN; o++) {
            if (!reached[o])
                continue;
            if (o == sender && !self)
                want_skipped++;
            else
                want_owners++;
        }

        dstate d;
        memset(&d, 0, sizeof(d));
        d.own = own;
        sc_route_result res;
        sc_route(&r, sender >= 0 ? &own[sender] : NULL, &to, self, on_route_diff, &d, &res);
        assert_int_equal(res.owners, want_owners);
        assert_int_equal(res.skipped_self, want_skipped);
        for (int o = 0; o < D_OWN; o++) {
            bool want = reached[o] && !(o == sender && !self);
            if (d.got[o].count != (want ? 1u : 0u))
                fail_msg("iter %d: owner %d called %u times, want %d", iter, o, d.got[o].count,
                         want);
            if (!want)
                continue;
            assert_int_equal(d.got[o].nids, wn[o]);
            for (size_t j = 0; j < wn[o]; j++)
                assert_string_equal(d.got[o].ids[j], wids[o][j]);
        }
    }
    for (int o = 0; o < D_OWN; o++) {
        sc_registry_remove_owner(&r, &own[o]);
        sc_owner_free(&own[o]);
    }
    sc_registry_free(&r);
}

/* Regression (broker/core/registry.c, sc_registry_next_pass, the wrap branch): when
 * the pass counter wraps, marks are cleared only for owners in r->owners,
 * i.e. owners that have sockets at that moment. An owner that had been
 * reached at pass P, and had no sockets when the counter wrapped, keeps
 * mark == P; if it registers sockets again, the router's reach() believes it
 * was already reached when the new cycle gets to pass P, and that emit is
 * not delivered to it. With ~4e9 emits per cycle this is rare but real for
 * a long-running daemon (2^32 emits at 100k/s is under 12 hours); here the
 * counter is moved by hand. */
static void stale_owner_mark_after_pass_wrap(void **state)
{
    (void)state;
    sc_registry r;
    sc_registry_init(&r);
    sc_owner a, b;
    sc_owner_init(&a, NULL);
    sc_owner_init(&b, NULL);
    sc_socket *sa, *sb;
    sc_registry_add_socket(&r, &a, "a1", NULL, NULL, NULL, 0, &sa);
    sc_registry_add_socket(&r, &b, "b1", NULL, NULL, NULL, 0, &sb);
    sc_registry_join(&r, sa, "x");
    sc_registry_join(&r, sb, "x");
    char *rooms[] = {"x"};
    sc_selector to = SIDECAST__V1__SELECTOR__INIT;
    to.n_rooms = 1;
    to.rooms = rooms;

    /* Pass 10 reaches A and B. */
    r.pass = 9;
    sc_route_result res;
    calls *cs = calloc(1, sizeof(*cs));
    assert_non_null(cs);
    sc_route(&r, NULL, &to, false, on_route, cs, &res);
    uint32_t first = res.owners;

    /* A drops its only socket, the counter wraps, A comes back. */
    sc_registry_remove_socket(&r, sa);
    r.pass = UINT32_MAX;
    cs->n = 0;
    sc_route(&r, NULL, &to, false, on_route, cs, &res); /* wraps to pass 1 */
    uint32_t pass_after_wrap = r.pass;
    sc_registry_add_socket(&r, &a, "a1", NULL, NULL, NULL, 0, &sa);
    sc_registry_join(&r, sa, "x");
    while (r.pass < 9)
        sc_registry_next_pass(&r);

    /* Pass 10 again: both owners have a member in x. */
    cs->n = 0;
    sc_route(&r, NULL, &to, false, on_route, cs, &res);
    bool a_called = false, b_called = false;
    for (int i = 0; i < cs->n; i++) {
        a_called |= cs->c[i].o == &a;
        b_called |= cs->c[i].o == &b;
    }
    uint32_t owners = res.owners;
    free(cs);
    sc_registry_remove_owner(&r, &a);
    sc_registry_remove_owner(&r, &b);
    sc_owner_free(&a);
    sc_owner_free(&b);
    sc_registry_free(&r);

    /* Preconditions of the scenario. */
    assert_int_equal(first, 2);
    assert_int_equal(pass_after_wrap, 1);
    assert_true(b_called);
    if (!a_called || owners != 2)
        fail_msg("owner-mark-wrap: after the pass counter wrapped, an emit to room x "
                 "reached %u owner(s); owner A (member of x) was %s",
                 owners, a_called ? "called" : "skipped");
}

#define FIX(t) cmocka_unit_test_setup_teardown(t, fixture_setup, fixture_teardown)

static const struct CMUnitTest tests[] = {
    FIX(rooms_reach_owners_once),    FIX(all_reaches_owners_with_sockets),
    FIX(socket_ids_split_per_owner), FIX(except_filters_ids),
    FIX(selector_passed_through),    FIX(sender_skipped_unless_include_self),
    cmocka_unit_test(many_owners),   cmocka_unit_test(random_differential),
    cmocka_unit_test(stale_owner_mark_after_pass_wrap),
};

UNIT_MAIN(tests)
