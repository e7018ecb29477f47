/* fuzz_http: the raw bytes of an HTTP request into sc_http_respond, the
 * parser (libhttp-parser) and router that the live /metrics, /healthz and
 * /readyz connections use, against a real daemon state (cluster mode with
 * Redis down, one app with sockets in rooms), so /metrics renders every
 * family. The live path calls it again with every read's bytes so far:
 * the target also answers a prefix of the input, as a short read would.
 *
 * Input: flags byte (bit 0: no server state; bit 1: max_bytes 512 instead
 * of http_max_request_bytes; bits 2-7: where the prefix ends, in 64ths),
 * then the request bytes. Every answer must be one whole HTTP response
 * whose Content-Length matches its body; "incomplete" must write nothing. */
#include "fuzz.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fz_daemon d;

static void setup(void)
{
    fz_start(&d, true);
    int a = fz_connect(&d, true, true);
    char *rooms[] = {(char *)"r1", (char *)"r2"};
    Sidecast__V1__SocketUp u = SIDECAST__V1__SOCKET_UP__INIT;
    u.socket_id = (char *)"s1";
    u.session_id = (char *)"sess1";
    u.user_id = (char *)"u1";
    u.rooms = rooms;
    u.n_rooms = 2;
    sc_frame f = SC_FRAME_INIT;
    f.msg_case = SIDECAST__V1__FRAME__MSG_SOCKET_UP;
    f.socket_up = &u;
    fz_send(&d, a, &f);
    fz_pump(&d);
}

static void check_response(int code, const sc_buf *out)
{
    size_t n = sc_buf_used(out);
    if (code == 0) {
        if (n)
            fz_fail("an incomplete request got %zu bytes of response", n);
        return;
    }
    if (n == 0)
        fz_fail("status %d without a response", code);
    const char *p = (const char *)sc_buf_head(out);
    if (code != 200 && code != 400 && code != 404 && code != 405 && code != 414 && code != 431 &&
        code != 503)
        fz_fail("unexpected status %d", code);
    char *text = malloc(n + 1);
    memcpy(text, p, n);
    text[n] = '\0';
    int status = 0;
    if (sscanf(text, "HTTP/1.1 %d ", &status) != 1 || status != code)
        fz_fail("response does not start with its status line (%d)", code);
    const char *end = strstr(text, "\r\n\r\n");
    const char *cl = strstr(text, "\r\nContent-Length: ");
    if (!end || !cl || cl > end)
        fz_fail("response headers incomplete");
    size_t clen = strtoul(cl + 18, NULL, 10), body = n - (size_t)(end + 4 - text);
    if (body != clen && body != 0) /* HEAD: headers only */
        fz_fail("Content-Length %zu but %zu body bytes", clen, body);
    free(text);
}

static void answer(const sc_server *srv, const uint8_t *p, size_t len, size_t max)
{
    /* an exact-size copy: ASan sees any read past the end */
    uint8_t *req = malloc(len ? len : 1);
    memcpy(req, p, len);
    sc_buf out;
    sc_buf_init(&out);
    int code = sc_http_respond(srv, req, len, max, &out);
    check_response(code, &out);
    sc_buf_free(&out);
    free(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!d.up)
        setup();
    fz_reader r = {data, size};
    uint8_t flags = fz_u8(&r);
    const sc_server *srv = flags & 1 ? NULL : &d.srv;
    size_t max = flags & 2 ? 512 : d.cfg.http_max_request_bytes;
    answer(srv, r.p, r.n, max);
    answer(srv, r.p, r.n * (flags >> 2) / 64, max);
    return 0;
}
