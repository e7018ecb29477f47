/* client_int: what the library's other files (emitter.c) need of client.c
 * and apps do not see. Hidden in libsidecast.so (no SC_API). */
#ifndef SC_CLIENT_INT_H
#define SC_CLIENT_INT_H

#include "sidecast.h"

/* Set sc_client_last_error to why and return rc. */
int sc_internal_fail(sc_client *c, int rc, const char *why);

#endif
