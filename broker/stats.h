/* stats: the daemon's counters, in one table so that `stats` replies (and
 * later /metrics) list every one with its help text. Counters only go up;
 * gauges are computed when read. */
#ifndef SC_STATS_H
#define SC_STATS_H

#include <stdint.h>

#define SC_COUNTERS(X)                                                                             \
    X(connections_accepted, "app connections accepted")                                           \
    X(connections_closed, "app connections closed, for any reason")                               \
    X(connections_refused_limit, "connections refused: max_connections reached")                  \
    X(frames_in, "frames received from apps")                                                     \
    X(frames_out, "frames sent to apps")                                                          \
    X(bytes_in, "bytes received from apps")                                                       \
    X(bytes_out, "bytes written to apps")                                                         \
    X(emits_socket, "emits that named socket ids")                                                \
    X(emits_room, "emits to rooms")                                                               \
    X(emits_all, "emits to every socket")                                                         \
    X(deliver_frames, "Deliver frames queued for app connections")                                \
    X(sockets_registered, "sockets registered (socket up)")                                       \
    X(sockets_unregistered, "sockets unregistered (socket down or connection closed)")            \
    X(drops_volatile_slow_reader, "volatile Delivers dropped: reader over output_buffer_soft")    \
    X(disconnects_slow_reader, "connections closed: output over output_buffer_hard")              \
    X(refused_malformed, "frames refused: not a valid Frame (connection closed)")                 \
    X(refused_too_large, "frames refused: over max_frame_bytes (connection closed)")              \
    X(refused_unknown_message, "frames refused: unknown message (connection closed)")             \
    X(refused_handshake, "frames refused: before Hello or Hello twice (connection closed)")       \
    X(refused_version, "handshakes refused: protocol version mismatch (connection closed)")       \
    X(refused_duplicate, "socket ups refused: socket id already registered")                      \
    X(refused_not_found, "requests refused: no such socket on this connection")                   \
    X(refused_invalid, "requests refused: missing or invalid field")                              \
    X(shutdown_unflushed_bytes, "bytes still unsent when the shutdown timeout expired")

typedef struct sc_stats {
#define SC_STATS_FIELD(name, help) uint64_t name;
    SC_COUNTERS(SC_STATS_FIELD)
#undef SC_STATS_FIELD
} sc_stats;

extern sc_stats sc_stat;

#define SC_COUNT(name) (sc_stat.name++)
#define SC_COUNT_N(name, n) (sc_stat.name += (n))

typedef void (*sc_stats_visit_fn)(const char *name, const char *help, uint64_t value, void *ud);
void sc_stats_foreach(sc_stats_visit_fn fn, void *ud);

#endif
