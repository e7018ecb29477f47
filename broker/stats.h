/* stats: the daemon's counters, in one table so that `stats` replies list
 * every one with its help text, and /metrics exports each exactly once (on
 * its own, or as a label of a family: see exposition.c). Counters only go up;
 * gauges are computed when read.
 *
 * It owns the counters (sc_stat) and nothing else, and includes nothing of
 * the daemon, so every layer can count here; their text is dispatch.c's
 * (`stats`) and exposition.c's (/metrics). */
#ifndef SC_STATS_H
#define SC_STATS_H

#include <stdint.h>

#define SC_COUNTERS(X)                                                                             \
    X(connections_accepted, "app connections accepted")                                            \
    X(connections_closed, "app connections closed, for any reason")                                \
    X(connections_refused_limit, "connections refused: max_connections reached")                   \
    X(connections_refused_fd, "connections refused: out of file descriptors (EMFILE, ENFILE)")     \
    X(frames_in, "frames received from apps")                                                      \
    X(frames_out, "frames sent to apps")                                                           \
    X(bytes_in, "bytes received from apps")                                                        \
    X(bytes_out, "bytes written to apps")                                                          \
    X(emits_socket, "emits that named socket ids")                                                 \
    X(emits_room, "emits to rooms")                                                                \
    X(emits_all, "emits to every socket")                                                          \
    X(deliver_frames, "Deliver frames queued for app connections")                                 \
    X(sockets_registered, "sockets registered (socket up)")                                        \
    X(sockets_unregistered, "sockets unregistered (socket down or connection closed)")             \
    X(drops_volatile_slow_reader, "volatile Delivers dropped: reader over output_buffer_soft")     \
    X(disconnects_slow_reader, "connections closed: output over output_buffer_hard")               \
    X(frame_timeouts, "connections closed: a frame begun and not completed within "               \
                      "frame_timeout_ms")                                                          \
    X(drops_volatile_client_memory, "volatile Delivers dropped: app connection buffers at "        \
                                    "max_client_memory")                                           \
    X(disconnects_client_memory, "connections closed: app connection buffers over "                \
                                 "max_client_memory, this one the largest")                        \
    X(refused_malformed, "frames refused: not a valid Frame (connection closed)")                  \
    X(refused_too_large, "frames refused: over max_frame_bytes (connection closed)")               \
    X(refused_unknown_message, "frames refused: unknown message (connection closed)")              \
    X(refused_handshake, "frames refused: before Hello or Hello twice (connection closed)")        \
    X(refused_version, "handshakes refused: protocol version mismatch (connection closed)")        \
    X(refused_duplicate, "socket ups refused: socket id already registered")                       \
    X(refused_not_found, "requests refused: no such socket on this connection")                    \
    X(refused_invalid, "requests refused: missing or invalid field")                               \
    X(shutdown_unflushed_bytes, "bytes still unsent when the shutdown timeout expired")            \
    X(emits_remote, "emits published to redis for other nodes")                                    \
    X(redis_commands, "commands sent to redis on the publish connection")                          \
    X(redis_publishes, "PUBLISH commands sent (or queued in the outbox)")                          \
    X(outbox_queued, "cluster messages for the outbox while redis was away (kept or dropped)")     \
    X(outbox_flushed, "queued cluster messages sent after redis came back")                        \
    X(outbox_dropped_volatile, "volatile cluster messages dropped: outbox full")                   \
    X(outbox_dropped_full, "cluster messages dropped: outbox full of non-volatile messages")       \
    X(cluster_messages_received, "cluster messages from other nodes processed")                    \
    X(cluster_duplicates_skipped, "cluster messages skipped: already seen on another channel")     \
    X(cluster_own_skipped, "own room publishes received back and skipped")                         \
    X(cluster_malformed, "cluster messages dropped: not a valid envelope")                         \
    X(room_subscribes, "room channels subscribed")                                                 \
    X(room_unsubscribes, "room channels unsubscribed after room_linger_ms without members")        \
    X(rooms_private, "socket id rooms left unsubscribed (reached via the directory)")              \
    X(private_routes, "socket id rooms an emit named whose socket is not here (routed)")           \
    X(private_room_publishes_skipped, "socket id room publishes left out: no subscriber")          \
    X(private_rooms_found_quiet, "socket id room channels found without subscribers")              \
    X(private_rooms_quiet_evicted, "socket id room channels found quiet, forgotten: table full")   \
    X(private_subscribed_sent, "announcements of socket id room subscriptions sent")               \
    X(private_subscribed_heard, "announcements of socket id room subscriptions heard")             \
    X(canaries_sent, "pub/sub canaries published")                                                 \
    X(canaries_received, "pub/sub canaries received back")                                         \
    X(canary_missed, "subscriber reconnects forced by a missing canary")                           \
    X(pubsub_gaps, "gap notices: subscription interrupted, apps told to resync")                   \
    X(dead_nodes_reaped, "dead nodes whose directory entries this node removed")                   \
    X(directory_resyncs, "directory rewrites after connecting to redis")                           \
    X(requests_started, "cluster requests started by apps")                                        \
    X(requests_published, "cluster requests published to other nodes")                             \
    X(requests_served, "cluster requests from other nodes answered")                               \
    X(fetch_answers_unchanged, "fetch answers sent as unchanged (the asker kept the answer)")         \
    X(requests_ok, "cluster requests completed")                                                   \
    X(requests_timeout, "cluster requests that timed out (request_timeout_ms)")                    \
    X(requests_node_lost, "cluster requests ended early: a node they waited for left the cluster " \
                          "without a goodbye (its liveness expired)")                             \
    X(requests_refused_limit, "cluster requests refused: max_pending_requests reached")            \
    X(requests_unavailable, "cluster requests refused: redis unreachable")                         \
    X(responses_late, "answers that arrived after their request timed out")                        \
    X(relay_timeouts, "ack relays that expired before every app answered")                         \
    X(acks_unknown, "acks for unknown or expired ack ids")                                         \
    X(redis_errors, "redis commands answered with an error")                                       \
    X(redis_commands_lost, "redis commands unanswered when their connection was dropped")          \
    X(announcements_sent, "arrivals and clean departures of this node announced to the cluster")   \
    X(announcements_received, "arrivals and clean departures announced by other nodes")            \
    X(cluster_unknown_kind, "cluster messages of a kind this node does not know, ignored")          \
    X(cluster_newer_version_dropped, "cluster messages dropped: from a node of a newer cluster "     \
                                     "protocol version")                                         \
    X(requests_unsupported_answered, "cluster requests of an unknown kind answered as "            \
                                     "unsupported")                                              \
    X(responses_unsupported, "answers from nodes that did not know a request's kind")              \
    X(redis_scripts_reloaded, "times redis had lost sidecast's scripts (NOSCRIPT) and they were "    \
                              "loaded again")                                                    \
    X(self_reaped, "times this node found its entries gone from redis and rewrote its directory")  \
    X(cluster_unknown_origin_dropped, "messages dropped: too many origins tracked")                \
    X(emits_fanout_all, "multi-room emits sent once to all nodes (per-room copies too large)")     \
    X(lookups_local, "lookups answered from this node's registry")                                 \
    X(lookups_redis, "lookups answered from the cluster directory")                                \
    X(emits_user, "emits to users")                                                                \
    X(session_data_refused, "session data writes refused: over the size or key limit")             \
    X(sessions_expired, "session data expired after session_grace_ms (standalone)")                \
    /* ops: HTTP endpoint and reloads */                                                           \
    X(http_requests, "HTTP requests answered on http_listen (any status)")                         \
    X(http_bad_requests, "HTTP requests refused: not valid HTTP (400)")                            \
    X(http_too_large, "HTTP requests refused: over http_max_request_bytes (431)")                  \
    X(http_not_found, "HTTP requests for an unknown path (404)")                                   \
    X(http_bad_method, "HTTP requests refused: method not GET or HEAD (405)")                      \
    X(http_refused_limit, "HTTP connections refused: http_max_connections reached")                \
    X(http_timeouts, "HTTP connections closed: no whole request within http_request_timeout_ms")   \
    X(http_accept_paused, "times the HTTP listener paused 100 ms: out of file descriptors or "      \
                          "memory")                                                              \
    X(http_evicted, "HTTP connections closed to admit a new one at http_max_connections: the "     \
                    "oldest still without a whole request")                                        \
    X(config_reloads, "configuration reloads (SIGHUP) applied")                                    \
    X(config_reload_errors, "configuration reloads rejected (bad config, old one kept)")           \
    /* perf: publish batching */                                                                   \
    X(cluster_batches_sent, "PUBLISH commands that carried a batch of several envelopes")          \
    X(cluster_batched_envelopes, "envelopes sent inside batches (one PUBLISH for several)")        \
    /* guard: access control and limits */                                                         \
    X(connections_refused_peer, "connections refused: peer not in allow_uids/allow_gids")          \
    X(refused_payload_limit, "requests refused: payload over max_payload_bytes")                   \
    X(refused_name_limit, "requests refused: a name or id over max_name_bytes")                    \
    X(refused_sockets_limit, "socket ups refused: max_sockets_per_connection reached")             \
    X(refused_rooms_limit, "joins refused: max_rooms_per_socket reached")                          \
    X(refused_data_limit, "socket ups / set data refused: data over max_socket_data_bytes")        \
    X(refused_pending_limit, "cluster requests refused: max_pending_per_connection reached")       \
    X(output_discarded_bytes, "queued output discarded when its connection closed (slow "          \
                              "reader...)")                                                        \
    /* perf: fetch answers */                                                                      \
    X(cluster_socket_lists_passed, "SocketLists from other nodes passed to apps as received "      \
                                   "(not re-encoded)")                                             \
    /* perf: the directory cache of targeted emits (dircache_ttl_ms) */                            \
    X(dircache_hits, "targeted emit socket ids routed by the directory cache, no script call")     \
    X(dircache_misses, "targeted emit socket ids resolved by the directory script instead")        \
    X(dircache_filled, "directory cache entries added or refreshed from script answers")           \
    X(dircache_refreshes, "directory cache entries in use looked up again (HGET, half their ttl)") \
    X(dircache_renewed, "directory cache entries in use renewed by a plain directory lookup")      \
    X(dircache_refresh_dropped, "directory cache entries dropped: the directory, asked again, "    \
                                "names another node")                                              \
    X(dircache_expired, "directory cache entries dropped after dircache_ttl_ms")                   \
    X(dircache_evictions, "directory cache entries evicted: dircache_max_entries reached")         \
    X(dircache_invalidated_node, "directory cache entries dropped: their node left or was "        \
                                 "unreachable")                                                    \
    X(dircache_invalidated_stale, "directory cache entries dropped on a stale notice from their "  \
                                  "node")                                                          \
    X(dircache_unreceived, "cache-routed messages lost: their PUBLISH reached no subscriber")      \
    X(targeted_no_route, "targeted messages to socket ids found on no node in the directory")     \
    X(targeted_unreceived, "directory-routed targeted messages whose PUBLISH reached nobody")      \
    X(dircache_stale_received, "socket ids another node's cache routed here that are not here "    \
                               "(lost for them)")                                                  \
    X(dircache_notices_sent, "stale notices sent to nodes whose directory cache is stale")         \
    X(dircache_notices_suppressed, "stale socket ids not reported: notice full or rate limit")     \
    X(dircache_notices_received, "stale notices received from other nodes")                        \
    X(redis_deferred_reads, "reads of the publish connection made for quiet replies only, "        \
                            "redis_reply_defer_ms after them")                                     \
    X(redis_sentinel_refusals, "sentinel answers that named no primary (unknown name, refused "  \
                               "command): the next sentinel is asked after a backoff")            \
    X(redis_tls_failures, "TLS handshakes with Redis that failed (the log says why: certificate, "  \
                          "server name, plain-text port)")                                         \
    X(requests_shutdown, "requests answered with ERROR_SHUTTING_DOWN: the daemon stopped first")  \
    X(cluster_late_skipped, "cluster messages skipped: more than 4096 behind their origin's "      \
                            "newest (a lagging Redis Cluster shard); cannot be told from copies") \
    X(redis_cluster_redirects, "MOVED or ASK answers from a Redis Cluster: the command was lost "  \
                               "(counted) and the slot map is asked again")                     \
    X(redis_cluster_sunsubscribes, "room or node channels a Redis Cluster shard dropped (slot "    \
                                   "moved or failover): subscribed again where the slot is now")

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
