/* sio: the socket.io mapping (proto/README.md, "The socket.io mapping") for
 * the emitter API (emitter.c, sidecast_sio.h) and sidecastctl: names ("nsp,room"), event packets as socket.io-parser
 * encodes them, and the payloads the socket.io adapter reads. Arguments
 * are JSON text, checked and normalised with jansson, so a malformed one
 * is refused here instead of breaking the clients that would decode it.
 * It owns the bytes it returns (malloc'd, the caller frees) and sends
 * nothing. */
#ifndef SC_SIO_H
#define SC_SIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 0 when nsp is a socket.io namespace ("/", "/chat": a leading '/', no ','),
 * else -1 with why. */
int sc_sio_check_nsp(const char *nsp, char *why, size_t whylen);

/* The registry name of room `room` of namespace `nsp`: "nsp,room" (the
 * namespace's own room, every socket of it, when room is NULL). malloc'd. */
char *sc_sio_room(const char *nsp, const char *room);

/* A growing list of registry names (malloc'd strings). */
typedef struct sc_sio_names {
    char **v;
    size_t n, cap;
} sc_sio_names;
/* Append "nsp,R" for each of names[0..n); the namespace's own room "nsp"
 * (every socket of it). 0, or -1 out of memory. */
int sc_sio_names_add(sc_sio_names *l, const char *nsp, const char *const *names, size_t n);
int sc_sio_names_add_nsp(sc_sio_names *l, const char *nsp);
void sc_sio_names_free(sc_sio_names *l);

/* The broadcast payload of event `event` with the JSON arguments args[0..n)
 * for namespace nsp: [1][flags] then the EVENT packet "2[nsp,][event,
 * args...]". NULL with why when the event name is reserved or not UTF-8,
 * or an argument is not JSON (why names it, with line and column). */
uint8_t *sc_sio_broadcast_payload(const char *nsp, const char *event, char *const *args, size_t n,
                          bool is_volatile, size_t *ret_len, char *why, size_t whylen);

/* The server-side emit payload (io.serverSideEmit): [2][u16 nsp length]
 * [nsp] then the codec value (0x00 and JSON) of [event, args...]. NULL
 * with why as above. */
uint8_t *sc_sio_server_emit_payload(const char *nsp, const char *event, char *const *args, size_t n,
                            size_t *ret_len, char *why, size_t whylen);

#endif
