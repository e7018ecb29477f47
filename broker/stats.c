/* stats: counter storage and iteration. See stats.h for what it owns and
 * may not touch. */
#include "stats.h"

sc_stats sc_stat;

void sc_stats_foreach(sc_stats_visit_fn fn, void *ud)
{
#define SC_STATS_VISIT(name, help) fn(#name, help, sc_stat.name, ud);
    SC_COUNTERS(SC_STATS_VISIT)
#undef SC_STATS_VISIT
}
