/* redis_tls: the TLS side of the Redis connections (rediss:// URLs): an
 * OpenSSL client context built from the redis_tls_* settings, and one TLS
 * session per connection with SNI and certificate and host-name checks.
 *
 * Verification is on unless the settings turn it off (verify "ca" skips the
 * host name, "none" everything; both are logged as warnings by the owner).
 * Without a CA file or directory the system's trust store is used, as for
 * managed Redis with a public certificate.
 *
 * The files are read when the context is made, again on sc_tls_reload
 * (SIGHUP), and before a connect when one of them changed on disk
 * (sc_tls_refresh), so a rotated client certificate or CA needs no restart.
 * A reload that fails keeps the context that worked and says why.
 *
 * It owns its SSL_CTX and nothing else: it knows no sc_config (the owner
 * passes sc_tls_opts) and no connection (redis.c asks it for an SSL). */
#ifndef SC_REDIS_TLS_H
#define SC_REDIS_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
    SC_TLS_VERIFY_FULL, /* chain and host name (the default) */
    SC_TLS_VERIFY_CA,   /* chain only: for servers reached by an address their certificate lacks */
    SC_TLS_VERIFY_NONE, /* nothing: encryption without authentication */
} sc_tls_verify;

/* Parse "full", "ca" or "none". Returns 0 or -1. */
int sc_tls_verify_parse(const char *s, sc_tls_verify *ret);
const char *sc_tls_verify_name(sc_tls_verify v);

typedef struct sc_tls_opts {
    const char *ca_file;     /* PEM bundle, or NULL/"" */
    const char *ca_dir;      /* c_rehash'ed directory, or NULL/"" */
    const char *cert_file;   /* client certificate (mutual TLS), or NULL/"" */
    const char *key_file;    /* its key; needed with cert_file */
    const char *server_name; /* SNI and the name checked; NULL/"": the URL's host */
    sc_tls_verify verify;
} sc_tls_opts;

typedef struct sc_tls sc_tls;

/* Build the context. NULL with a reason in err when a file is missing or
 * unreadable, a key does not match its certificate, and so on. */
sc_tls *sc_tls_new(const sc_tls_opts *o, char *err, size_t errlen);
/* Re-read the files now. 0, or -1 with the reason (the old context stays). */
int sc_tls_reload(sc_tls *t, char *err, size_t errlen);
/* Re-read them if one changed on disk since the last read: 1 reloaded, 0
 * unchanged, -1 failed (the old context stays, err says why). */
int sc_tls_refresh(sc_tls *t, char *err, size_t errlen);
/* A TLS session over the connected socket fd, for a server reached as
 * `host` (checked unless verify says otherwise). NULL with a reason. */
SSL *sc_tls_session(sc_tls *t, int fd, const char *host, char *err, size_t errlen);
/* Why a handshake failed, for people: the verification result when the
 * certificate was refused, else OpenSSL's error queue, with a hint. */
void sc_tls_failure(SSL *ssl, int ret, char *buf, size_t len);
sc_tls_verify sc_tls_get_verify(const sc_tls *t);
void sc_tls_free(sc_tls *t);

#endif
