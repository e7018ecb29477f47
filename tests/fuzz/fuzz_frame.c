/* fuzz_frame: bytes from app connections into a real in-process sidecastd
 * (see fuzz.h): accept, the length prefix and max_frame_bytes check, decode
 * into the arena, dispatch of every message type, replies, backpressure,
 * closing. After every input the registry is checked against the
 * connections, and after the apps close it must be empty; every answer
 * carries 0 or a request id its app sent.
 *
 * Input: one flags byte, then either the raw byte stream of app A (flag
 * RAW: length prefixes are up to the fuzzer) or records
 *   [ctl][len16 BE][len bytes]
 * each sent as one frame (prefix added) to app A or B (ctl bit 0), with
 * the loop turned after it unless ctl bit 1 (then frames pile up and are
 * read in one go), 1 + (ctl bits 2-5) times in a row (so a small input can
 * fill an output buffer); with ctl bit 6, every pending request and relay
 * times out first; with ctl bit 7, the daemon begins its graceful stop
 * (what SIGTERM does) after the record. Flags GRACE0 and TINY set session_grace_ms 0 and
 * max_frame_bytes 64 (its minimum). A and B get a valid Hello first unless NO_HELLO. */
#include "fuzz.h"

#include <unistd.h>

#define F_NO_HELLO 0x01
#define F_RAW 0x02
#define F_TWO_APPS 0x04
#define F_B_SLOW 0x08 /* app B never reads: a slow reader */
#define F_CLUSTER 0x10
#define F_CLOSE_A_EARLY 0x20 /* A hangs up before B's last frames */
#define F_GRACE0 0x40
#define F_TINY 0x80

static fz_daemon d;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_reader r = {data, size};
    uint8_t flags = fz_u8(&r);
    fz_config(&d.cfg);
    if (flags & F_GRACE0)
        d.cfg.session_grace_ms = 0;
    if (flags & F_TINY)
        d.cfg.max_frame_bytes = 64;
    fz_start(&d, flags & F_CLUSTER);
    d.track_ids = !(flags & F_RAW); /* raw bytes are not split into frames here */
    bool hello = !(flags & F_NO_HELLO);
    int a = fz_connect(&d, true, hello);
    int b = flags & F_TWO_APPS ? fz_connect(&d, !(flags & F_B_SLOW), hello) : -1;
    if (flags & F_RAW) {
        fz_write(&d, a, r.p, r.n);
        fz_pump(&d);
    } else {
        while (fz_more(&r)) {
            uint8_t ctl = fz_u8(&r);
            size_t len = fz_u16(&r);
            const uint8_t *body = fz_bytes(&r, &len);
            int to = (ctl & 1) && b >= 0 ? b : a;
            if ((flags & F_CLOSE_A_EARLY) && to == b && r.n == 0 && d.cl[a].fd >= 0) {
                close(d.cl[a].fd);
                d.cl[a].fd = -1;
            }
            if (ctl & 0x40)
                fz_fire_timeouts(&d);
            for (int k = 0; k <= (ctl >> 2 & 15); k++) {
                fz_send_frame(&d, to, body, len);
                if (!(ctl & 2))
                    fz_pump(&d);
            }
            if (ctl & 0x80) {
                sc_server_shutdown(&d.srv);
                fz_pump(&d);
            }
        }
        fz_pump(&d);
    }
    fz_check(&d);
    fz_stop(&d);
    return 0;
}
