/* sio: the socket.io mapping for the emitter API and sidecastctl (see sio.h). jansson checks
 * each argument and writes the array back compactly: what the clients'
 * socket.io-parser then reads is always one valid JSON array. */
#include "sio.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { KIND_BROADCAST = 1, KIND_SERVER_EMIT = 2, FLAG_VOLATILE = 2, CODEC_PLAIN = 0 };

/* socket.io refuses these in emit(): its own events */
static const char *const reserved[] = {"connect",       "connect_error", "disconnect",
                                       "disconnecting", "newListener",   "removeListener"};

int sc_sio_check_nsp(const char *nsp, char *why, size_t whylen)
{
    if (nsp[0] != '/' || strchr(nsp, ',')) {
        snprintf(why, whylen, "namespace '%s' must start with '/' and contain no ','", nsp);
        return -1;
    }
    return 0;
}

char *sc_sio_room(const char *nsp, const char *room)
{
    size_t nl = strlen(nsp), rl = room ? strlen(room) : 0;
    char *out = malloc(nl + rl + 2);
    if (!out)
        return NULL;
    memcpy(out, nsp, nl);
    if (room) {
        out[nl] = ',';
        memcpy(out + nl + 1, room, rl);
        out[nl + 1 + rl] = '\0';
    } else {
        out[nl] = '\0';
    }
    return out;
}

static int names_push(sc_sio_names *l, char *name)
{
    if (!name)
        return -1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **v = realloc(l->v, cap * sizeof(*v));
        if (!v) {
            free(name);
            return -1;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = name;
    return 0;
}

int sc_sio_names_add_nsp(sc_sio_names *l, const char *nsp)
{
    return names_push(l, sc_sio_room(nsp, NULL));
}

int sc_sio_names_add(sc_sio_names *l, const char *nsp, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (names_push(l, sc_sio_room(nsp, names[i])) < 0)
            return -1;
    return 0;
}

void sc_sio_names_free(sc_sio_names *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* [event, args...] as compact JSON text (malloc'd by jansson), or NULL with why. */
static char *event_array(const char *event, char *const *args, size_t n, char *why, size_t whylen)
{
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strcmp(event, reserved[i]) == 0) {
            snprintf(why, whylen, "'%s' is a reserved event name", event);
            return NULL;
        }
    json_t *arr = json_array(), *name = json_string(event);
    if (!arr || !name) {
        snprintf(why, whylen, "the event name is not UTF-8");
        json_decref(arr);
        json_decref(name);
        return NULL;
    }
    json_array_append_new(arr, name);
    for (size_t i = 0; i < n; i++) {
        json_error_t err;
        json_t *v = json_loads(args[i], JSON_DECODE_ANY, &err);
        if (!v) {
            snprintf(why, whylen, "argument %zu is not JSON: %s (line %d, column %d)", i + 1,
                     err.text, err.line, err.column);
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, v);
    }
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (!text)
        snprintf(why, whylen, "out of memory");
    return text;
}

uint8_t *sc_sio_broadcast_payload(const char *nsp, const char *event, char *const *args, size_t n,
                          bool is_volatile, size_t *ret_len, char *why, size_t whylen)
{
    if (sc_sio_check_nsp(nsp, why, whylen) < 0)
        return NULL;
    char *text = event_array(event, args, n, why, whylen);
    if (!text)
        return NULL;
    /* socket.io-parser's EVENT: type 2, the namespace unless "/", the array */
    bool root = strcmp(nsp, "/") == 0;
    size_t nl = root ? 0 : strlen(nsp) + 1, tl = strlen(text);
    uint8_t *out = malloc(2 + 1 + nl + tl);
    if (out) {
        out[0] = KIND_BROADCAST;
        out[1] = is_volatile ? FLAG_VOLATILE : 0;
        out[2] = '2';
        if (!root) {
            memcpy(out + 3, nsp, nl - 1);
            out[3 + nl - 1] = ',';
        }
        memcpy(out + 3 + nl, text, tl);
        *ret_len = 3 + nl + tl;
    } else {
        snprintf(why, whylen, "out of memory");
    }
    free(text);
    return out;
}

uint8_t *sc_sio_server_emit_payload(const char *nsp, const char *event, char *const *args, size_t n,
                            size_t *ret_len, char *why, size_t whylen)
{
    if (sc_sio_check_nsp(nsp, why, whylen) < 0)
        return NULL;
    size_t nl = strlen(nsp);
    if (nl > 0xffff) {
        snprintf(why, whylen, "namespace longer than 65535 bytes");
        return NULL;
    }
    char *text = event_array(event, args, n, why, whylen);
    if (!text)
        return NULL;
    size_t tl = strlen(text);
    uint8_t *out = malloc(3 + nl + 1 + tl);
    if (out) {
        out[0] = KIND_SERVER_EMIT;
        out[1] = (uint8_t)(nl >> 8);
        out[2] = (uint8_t)nl;
        memcpy(out + 3, nsp, nl);
        out[3 + nl] = CODEC_PLAIN;
        memcpy(out + 4 + nl, text, tl);
        *ret_len = 4 + nl + tl;
    } else {
        snprintf(why, whylen, "out of memory");
    }
    free(text);
    return out;
}
