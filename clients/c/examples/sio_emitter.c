/* sio_emitter: reach socket.io clients from a C process, through the node's
 * sidecastd, with libsidecast's emitter API (sidecast_sio.h). What it does,
 * in socket.io terms, on a cluster whose servers use the sidecast adapter:
 *
 *     io.to("r1").emit("from-c", 1, "two", {three: [3]})
 *     io.of("/chat").to("r1").emit("c-chat", null)
 *     io.in("r1").socketsJoin("c-joined")
 *     io.serverSideEmit("ping-servers", "c")
 *     io.in("c-bye").disconnectSockets(true)
 *
 * and it shows an argument that is not JSON refused before anything is sent.
 * Build: cc sio_emitter.c $(pkg-config --cflags --libs sidecast)
 * Run:   sio_emitter [/run/sidecast/sidecast.sock] */
#include <sidecast.h>
#include <sidecast_sio.h>

#include <stdio.h>

static int check(sc_client *c, int rc, const char *what)
{
    if (rc < 0)
        fprintf(stderr, "sio_emitter: %s: %s\n", what, sc_client_last_error(c));
    else
        printf("%s\n", what);
    return rc;
}

int main(int argc, char **argv)
{
    sc_client_options o = {.path = argc > 1 ? argv[1] : SIDECAST_DEFAULT_SOCKET,
                           .name = "sio_emitter"};
    sc_client *c;
    if (sc_client_open(&o, &c) < 0) {
        fprintf(stderr, "sio_emitter: cannot reach sidecastd at %s\n", o.path);
        return 1;
    }
    const char *r1[] = {"r1"}, *joined[] = {"c-joined"}, *bye[] = {"c-bye"};
    const char *args[] = {"1", "\"two\"", "{\"three\": [3]}"}, *null[] = {"null"};
    const char *who[] = {"\"c\""}, *bad[] = {"{not json"};
    sc_sio_to to_r1 = {.rooms = r1, .n_rooms = 1};
    sc_sio_to chat_r1 = {.nsp = "/chat", .rooms = r1, .n_rooms = 1};
    sc_sio_to to_bye = {.rooms = bye, .n_rooms = 1};
    int rc = 0;
    rc |= check(c, sc_sio_emit(c, &to_r1, false, "from-c", args, 3), "emit from-c to r1");
    rc |= check(c, sc_sio_emit(c, &chat_r1, false, "c-chat", null, 1), "emit c-chat to /chat r1");
    if (sc_sio_emit(c, &to_r1, false, "bad", bad, 1) == 0) {
        fprintf(stderr, "sio_emitter: an argument that is not JSON was accepted\n");
        rc = -1;
    } else {
        printf("refused: %s\n", sc_client_last_error(c));
    }
    rc |= check(c, sc_sio_sockets_join(c, &to_r1, joined, 1, 5000), "r1 joined c-joined");
    rc |= check(c, sc_sio_server_side_emit(c, "/", "ping-servers", who, 1),
                "server-side emit ping-servers");
    rc |= check(c, sc_sio_disconnect_sockets(c, &to_bye, true, 5000), "c-bye disconnected");
    rc |= check(c, sc_client_sync(c, 5000), "sync");
    sc_client_close(c);
    return rc < 0 ? 1 : 0;
}
