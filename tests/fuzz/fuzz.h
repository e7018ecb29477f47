/* fuzz: what the fuzz targets share. Each target defines
 * LLVMFuzzerTestOneInput; the same file is linked with libFuzzer
 * (build-fuzz, clang) or with replay.c (every build, CTest), so a crash input
 * committed under regressions/ is a test everywhere.
 *
 * fz_daemon is a real in-process sidecastd: sc_server_init on a socket in a
 * temporary directory, real app connections over it, and the real event loop
 * turned by hand (ev_run EVRUN_NOWAIT) until nothing moves. Every frame the
 * daemon sends back is decoded: a frame an app cannot decode is a bug. A
 * target that finds an invariant broken calls fz_fail (abort), which
 * libFuzzer reports as a crash with the input that caused it. */
#ifndef SC_FUZZ_H
#define SC_FUZZ_H

#include "buf.h"
#include "config.h"
#include "server.h"
#include "wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FZ_MAX_CLIENTS 4

struct fz_daemon;
/* Called with every frame the daemon sent to client i (decoded; freed after). */
typedef void (*fz_frame_fn)(struct fz_daemon *d, int i, const sc_frame *f, void *ud);

typedef struct fz_client {
    int fd;         /* -1 once closed (by us, or EOF from the daemon) */
    bool drain;     /* read what the daemon sends; false: a slow reader */
    bool saw_fatal; /* got an Error with fatal: the daemon must close */
    sc_buf in;
    uint64_t *ids; /* request ids this app sent (with track_ids) */
    size_t nids, capids;
} fz_client;

typedef struct fz_daemon {
    struct ev_loop *loop;
    sc_config cfg;
    sc_server srv;
    bool up;
    fz_client cl[FZ_MAX_CLIENTS];
    int ncl;
    fz_frame_fn on_frame;
    void *ud;
    bool track_ids;       /* every id the daemon answers must be one the app sent */
    uint64_t slow_closes; /* disconnects_slow_reader when the daemon started */
} fz_daemon;

/* Abort with a message: the fuzzer's "crash". */
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Once per process: quiet logs, SIGPIPE ignored, a temporary directory
 * (removed at exit) for the daemon's socket. */
void fz_init_once(void);

/* Small limits so the bounds are reachable from small inputs. The caller
 * may change cfg before fz_start. */
void fz_config(sc_config *cfg);
/* Start the daemon. With cluster, it also has a cluster module (as if
 * redis_url were set) that is never started: Redis stays "down", so
 * emits go to the outbox and cluster requests are refused. */
void fz_start(fz_daemon *d, bool cluster);
/* Connect an app; with hello, send a valid Hello first. Returns its index. */
int fz_connect(fz_daemon *d, bool drain, bool hello);
/* The daemon's side of client i, or NULL once it is closed. */
sc_conn *fz_conn(fz_daemon *d, int i);
/* Write bytes to client i's socket (as the app would). */
void fz_write(fz_daemon *d, int i, const void *p, size_t len);
/* Write one frame (length prefix added) to client i. */
void fz_send_frame(fz_daemon *d, int i, const void *body, size_t len);
/* Encode and send f. */
void fz_send(fz_daemon *d, int i, const sc_frame *f);
/* Turn the loop until the daemon has read everything and flushed. */
void fz_pump(fz_daemon *d);
/* Time out every pending request and relay now (their timers fire as if
 * request_timeout_ms had passed), then pump. */
void fz_fire_timeouts(fz_daemon *d);
/* Check the registry against the connections; aborts if broken. */
void fz_check(fz_daemon *d);
/* Close every app connection, check that everything they held is gone,
 * then stop the daemon and free it all. */
void fz_stop(fz_daemon *d);

/* Splits a fuzz input into records. */
typedef struct fz_reader {
    const uint8_t *p;
    size_t n;
} fz_reader;

static inline bool fz_more(const fz_reader *r)
{
    return r->n > 0;
}
static inline uint8_t fz_u8(fz_reader *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}
static inline uint16_t fz_u16(fz_reader *r)
{
    uint16_t hi = fz_u8(r);
    return (uint16_t)(hi << 8 | fz_u8(r));
}
/* Up to len bytes (fewer at the end of the input). */
static inline const uint8_t *fz_bytes(fz_reader *r, size_t *len)
{
    if (*len > r->n)
        *len = r->n;
    const uint8_t *p = r->p;
    r->p += *len;
    r->n -= *len;
    return p;
}

#endif
