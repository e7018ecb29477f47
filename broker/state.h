/* state: the daemon's state shared by its modules, as one struct that
 * server.c owns (creates in sc_server_init, frees in sc_server_cleanup)
 * and the modules below it read through the sc_server pointer they are
 * given: the loop and config, the registry, the app connections, the
 * requests and relays, this node's identity. Only the data: no functions,
 * so reading it is never a call back up into the server; the lifecycle is
 * server.h's. Modules reach the cluster, the HTTP endpoint and the server
 * itself only as opaque pointers here. */
#ifndef SC_STATE_H
#define SC_STATE_H

#include "access.h"
#include "config.h"
#include "conn.h"
#include "registry.h"
#include "table.h"
#include "wire.h"

#include <ev.h>

/* What requests need of the cluster, which sits above them: given by the
 * cluster when it starts (sc_server.request_hooks; request.c calls them), empty when standalone. */
typedef struct sc_request_hooks {
    void *ud;
    /* a node's name for messages, NULL when unknown */
    const char *(*node_name)(void *ud, const char *node_id);
    /* pass a relay's answers (last: and the end of this node's part) to the
     * node that asked */
    void (*progress)(void *ud, const char *origin, uint64_t req_id, uint32_t expect,
                     ProtobufCBinaryData *payloads, size_t n, bool last);
} sc_request_hooks;

typedef struct sc_server {
    struct ev_loop *loop;
    const sc_config *cfg;
    sc_registry reg;
    sc_arena arena;
    int listen_fd;
    bool own_socket_file; /* we created it, so we remove it */
    ev_io accept_io;
    ev_prepare flush_prep;
    ev_signal sigterm, sigint;
    ev_timer shutdown_timer;
    bool stopping;
    sc_conn_host conn_host; /* what each app connection may use of the server (conn.h) */
    sc_conn *conns;
    uint64_t nconns;
    uint64_t next_conn_id;
    sc_conn *flush_list;
    sc_conn *closed_list;
    sc_conn *doomed_list;
    struct sc_cluster *cluster; /* NULL when standalone */
    sc_map requests;            /* sc_request by id */
    sc_request_hooks request_hooks; /* set by the cluster (request.h) */
    sc_map relays;              /* sc_relay by ack id */
    sc_map session_data;        /* standalone session data (session.c) */
    uint64_t next_request_id;
    char node_id[40];
    char node_name[256];
    uint64_t started_us;
    struct sc_http *http;  /* operations endpoint, NULL when disabled */
    bool socket_activated; /* listener from systemd (sd_listen_fds) */
    char listen_path[128]; /* then: its path (getsockname), for logs */
    sc_access access;      /* peer allow-list (access.c) */
    /* file descriptors (server.c): how many app connections the fd limit
     * can serve, and the accept path's answer to running out of them */
    uint64_t fd_limit;          /* RLIMIT_NOFILE soft limit after startup */
    uint64_t fd_capacity;       /* app connections that limit can serve */
    int reserve_fd;             /* given up to refuse one client on EMFILE */
    ev_timer accept_retry;      /* re-arms accept_io after an fd backoff */
    unsigned accept_backoff_ms; /* 0: not backing off */
} sc_server;

#endif
