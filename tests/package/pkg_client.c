/* An app built against the installed libsidecast-dev (pkg-config sidecast):
 * it registers one socket in a room, says "ready" on stdout, and waits for
 * one delivery to that socket, which test_deb.sh sends with sidecastctl.
 * Exit 0 once the expected payload arrived, 1 on any failure or after the
 * deadline. */
#include <sidecast.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *want;
static int got;

static void on_deliver(void *ud, const char *socket_id, const uint8_t *p, size_t n)
{
    printf("delivered %s %.*s\n", socket_id, (int)n, (const char *)p);
    if (strcmp(socket_id, "pkg-1") == 0 && n == strlen(want) && memcmp(p, want, n) == 0)
        got = 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: pkg_client SOCKET PAYLOAD\n");
        return 2;
    }
    want = argv[2];
    sc_client_options o = {.path = argv[1], .name = "pkg-test", .on_deliver = on_deliver};
    sc_client *c;
    int rc = 1;
    if (sc_client_open(&o, &c) < 0) {
        fprintf(stderr, "open %s: %s\n", argv[1], sc_client_last_error(c));
        goto out;
    }
    const char *rooms[] = {"pkgtest"};
    if (sc_client_socket_up(c, "pkg-1", "sid-1", "user-1", NULL, 0, rooms, 1) < 0 ||
        sc_client_sync(c, 0) < 0) {
        fprintf(stderr, "register: %s\n", sc_client_last_error(c));
        goto out;
    }
    printf("ready node=%s\n", sc_client_node_name(c));
    fflush(stdout);
    time_t deadline = time(NULL) + 120;
    for (int i = 0; i < 1200 && !got && time(NULL) < deadline; i++) {
        if (sc_client_poll(c, 100) < 0) {
            fprintf(stderr, "poll: %s\n", sc_client_last_error(c));
            goto out;
        }
    }
    rc = got ? 0 : 1;
    if (!got)
        fprintf(stderr, "no delivery of '%s' before the deadline\n", want);
out:
    fflush(stdout);
    sc_client_close(c);
    return rc;
}
