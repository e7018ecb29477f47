/* stats: counter storage and iteration. */
#include "stats.h"

sc_stats sc_stat;

void sc_stats_foreach(sc_stats_visit_fn fn, void *ud)
{
#define SC_STATS_VISIT(name, help) fn(#name, help, sc_stat.name, ud);
    SC_COUNTERS(SC_STATS_VISIT)
#undef SC_STATS_VISIT
}
