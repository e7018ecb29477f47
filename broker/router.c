/* router: one pass per emit; owners and excluded sockets are marked with the
 * pass number so de-duplication costs no allocation and no clearing. See
 * router.h for what it may not touch. */
#include "router.h"
#include "util.h"

#include <stdlib.h>

static sc_owner **reached;
static uint32_t nreached, capreached;

static void reach(sc_owner *o, uint32_t pass)
{
    if (o->mark == pass)
        return;
    o->mark = pass;
    o->nids = 0;
    if (nreached == capreached) {
        capreached = capreached ? capreached * 2 : 64;
        reached = sc_xrealloc(reached, capreached * sizeof(*reached));
    }
    reached[nreached++] = o;
}

static void add_id(sc_owner *o, char *id)
{
    if (o->nids == o->capids) {
        o->capids = o->capids ? o->capids * 2 : 8;
        o->ids = sc_xrealloc(o->ids, o->capids * sizeof(*o->ids));
    }
    o->ids[o->nids++] = id;
}

static void reach_rooms(sc_registry *r, const sc_selector *to, uint32_t pass)
{
    for (size_t i = 0; i < to->n_rooms; i++) {
        sc_room *room = sc_registry_find_room(r, to->rooms[i]);
        if (!room)
            continue;
        uint32_t n = sc_pmap_scan_len(&room->owners);
        for (uint32_t j = 0; j < n; j++)
            if (room->owners.keys[j])
                reach(room->owners.keys[j], pass);
    }
}

static void reach_ids(sc_registry *r, const sc_selector *to, uint32_t pass)
{
    if (to->n_socket_ids == 0)
        return;
    if (to->n_except_rooms || to->n_except_ids)
        sc_registry_mark_excluded(r, to, pass);
    for (size_t i = 0; i < to->n_socket_ids; i++) {
        sc_socket *s = sc_registry_find_socket(r, to->socket_ids[i]);
        if (!s || s->xmark == pass || s->mark == pass)
            continue;
        s->mark = pass; /* the same id listed twice is delivered once */
        reach(s->owner, pass);
        add_id(s->owner, to->socket_ids[i]);
    }
}

/* Users: every owner of one of their sockets; the receiving app resolves
 * user_ids against its own sockets, so no id list is needed. */
static void reach_users(sc_registry *r, const sc_selector *to, uint32_t pass)
{
    for (size_t i = 0; i < to->n_user_ids; i++) {
        sc_user *u = sc_registry_find_user(r, to->user_ids[i]);
        if (!u)
            continue;
        uint32_t n;
        void *const *slots = sc_pset_slots(&u->sockets, &n);
        for (uint32_t j = 0; j < n; j++)
            if (slots[j])
                reach(((sc_socket *)slots[j])->owner, pass);
    }
}

void sc_route(sc_registry *r, const sc_owner *sender, const sc_selector *to, bool include_self,
              sc_route_cb cb, void *ud, sc_route_result *ret)
{
    sc_route_result res = {0, 0};
    uint32_t pass = sc_registry_next_pass(r);
    nreached = 0;
    if (to->all) {
        uint32_t n;
        void *const *slots = sc_pset_slots(&r->owners, &n);
        for (uint32_t j = 0; j < n; j++)
            if (slots[j])
                reach(slots[j], pass);
    } else {
        reach_rooms(r, to, pass);
        reach_ids(r, to, pass);
        reach_users(r, to, pass);
    }
    for (uint32_t i = 0; i < nreached; i++) {
        sc_owner *o = reached[i];
        if (o == sender && !include_self) {
            res.skipped_self++;
            continue;
        }
        sc_selector sel = *to;
        sel.socket_ids = o->ids;
        sel.n_socket_ids = o->nids;
        cb(o, &sel, ud);
        res.owners++;
    }
    if (ret)
        *ret = res;
}
