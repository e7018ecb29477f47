/* router: decides which app connections (owners) an emit reaches, without
 * walking room members: rooms keep per-owner member counts, so the cost of a
 * room emit is O(target rooms + owners reached), whatever the room size.
 *
 * Each owner reached gets one selector to evaluate against its own sockets:
 * the emit's rooms/all/except lists unchanged, and only those of the emit's
 * socket ids that it owns and that the except rules do not exclude.
 *
 * It reads the registry and marks owners and sockets with its pass number,
 * but never changes who is where, and sends nothing: each owner reached
 * goes to the caller's callback (deliver.c's). Its only state is the list
 * of owners reached in the current pass. */
#ifndef SC_ROUTER_H
#define SC_ROUTER_H

#include "registry.h"

typedef struct sc_route_result {
    uint32_t owners;       /* owners a Deliver was produced for */
    uint32_t skipped_self; /* the sender was reached but not included */
} sc_route_result;

/* Called once per owner reached, sender excluded unless include_self. The
 * selector and its arrays are valid during the call only. */
typedef void (*sc_route_cb)(sc_owner *o, const sc_selector *to, void *ud);

void sc_route(sc_registry *r, const sc_owner *sender, const sc_selector *to, bool include_self,
              sc_route_cb cb, void *ud, sc_route_result *ret);

#endif
