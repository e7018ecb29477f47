/* sio: the socket.io mapping (proto/README.md, "The socket.io mapping") for
 * sidecastctl: names ("nsp,room"), event packets as socket.io-parser
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

/* The broadcast payload of event `event` with the JSON arguments args[0..n)
 * for namespace nsp: [1][flags] then the EVENT packet "2[nsp,][event,
 * args...]". NULL with why when the event name is reserved or not UTF-8,
 * or an argument is not JSON (why names it, with line and column). */
uint8_t *sc_sio_broadcast(const char *nsp, const char *event, char *const *args, size_t n,
                          bool is_volatile, size_t *ret_len, char *why, size_t whylen);

/* The server-side emit payload (io.serverSideEmit): [2][u16 nsp length]
 * [nsp] then the codec value (0x00 and JSON) of [event, args...]. NULL
 * with why as above. */
uint8_t *sc_sio_server_emit(const char *nsp, const char *event, char *const *args, size_t n,
                            size_t *ret_len, char *why, size_t whylen);

#endif
