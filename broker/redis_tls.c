/* redis_tls: OpenSSL client contexts for rediss://. See redis_tls.h for what
 * it owns and may not touch.
 *
 * SSL objects hold a reference to their SSL_CTX, so a reload may free the
 * old context while connections made with it go on. */
#include "redis_tls.h"
#include "util.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TLS_FILES 4

struct sc_tls {
    SSL_CTX *ctx;
    char *path[TLS_FILES]; /* ca_file, ca_dir, cert_file, key_file; NULL when unset */
    struct stat seen[TLS_FILES];
    char *server_name;
    sc_tls_verify verify;
};

int sc_tls_verify_parse(const char *s, sc_tls_verify *ret)
{
    static const char *const names[] = {"full", "ca", "none"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *ret = (sc_tls_verify)i;
            return 0;
        }
    return -1;
}

const char *sc_tls_verify_name(sc_tls_verify v)
{
    return v == SC_TLS_VERIFY_FULL ? "full" : v == SC_TLS_VERIFY_CA ? "ca" : "none";
}

sc_tls_verify sc_tls_get_verify(const sc_tls *t)
{
    return t->verify;
}

/* OpenSSL's last queued error as text, the queue emptied. */
static void ssl_error(char *buf, size_t len, const char *what, const char *file)
{
    unsigned long e = ERR_peek_last_error();
    char reason[200] = "unknown error";
    if (e)
        ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    snprintf(buf, len, "%s%s%s: %s", what, file ? " " : "", file ? file : "", reason);
}

static SSL_CTX *make_ctx(sc_tls *t, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        ssl_error(err, errlen, "cannot make a TLS context", NULL);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* TLS 1.3: the same three suites as OpenSSL's default, AES-128-GCM
     * first: every message is encrypted once by us and decrypted and
     * encrypted again by Redis, which follows the client's order unless told
     * otherwise (tls-prefer-server-ciphers), and it costs less per byte
     * (bench_tls) */
    SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:"
                                  "TLS_AES_256_GCM_SHA384");
    /* a write may be retried with the same bytes at another address (the
     * output buffer moves as it grows), and may complete in parts */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    const char *ca_file = t->path[0], *ca_dir = t->path[1];
    const char *cert = t->path[2], *key = t->path[3];
    if (ca_file || ca_dir) {
        if (SSL_CTX_load_verify_locations(ctx, ca_file, ca_dir) != 1) {
            ssl_error(err, errlen, "redis_tls_ca_file/redis_tls_ca_dir: cannot load",
                      ca_file ? ca_file : ca_dir);
            goto fail;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        ssl_error(err, errlen, "cannot load the system's trust store", NULL);
        goto fail;
    }
    if (cert) {
        if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
            ssl_error(err, errlen, "redis_tls_cert_file: cannot load", cert);
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
            ssl_error(err, errlen, "redis_tls_key_file: cannot load", key);
            goto fail;
        }
        if (SSL_CTX_check_private_key(ctx) != 1) {
            ssl_error(err, errlen, "redis_tls_key_file does not match redis_tls_cert_file", key);
            goto fail;
        }
    }
    SSL_CTX_set_verify(ctx, t->verify == SC_TLS_VERIFY_NONE ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
                       NULL);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

static void remember_files(sc_tls *t)
{
    for (int i = 0; i < TLS_FILES; i++)
        if (!t->path[i] || stat(t->path[i], &t->seen[i]) < 0)
            memset(&t->seen[i], 0, sizeof(t->seen[i]));
}

static char *opt_path(const char *s)
{
    return s && s[0] ? sc_xstrdup(s) : NULL;
}

sc_tls *sc_tls_new(const sc_tls_opts *o, char *err, size_t errlen)
{
    if (o->cert_file && o->cert_file[0] && !(o->key_file && o->key_file[0])) {
        snprintf(err, errlen, "redis_tls_cert_file needs redis_tls_key_file");
        return NULL;
    }
    if (o->key_file && o->key_file[0] && !(o->cert_file && o->cert_file[0])) {
        snprintf(err, errlen, "redis_tls_key_file needs redis_tls_cert_file");
        return NULL;
    }
    sc_tls *t = sc_xcalloc(1, sizeof(*t));
    t->path[0] = opt_path(o->ca_file);
    t->path[1] = opt_path(o->ca_dir);
    t->path[2] = opt_path(o->cert_file);
    t->path[3] = opt_path(o->key_file);
    t->server_name = opt_path(o->server_name);
    t->verify = o->verify;
    t->ctx = make_ctx(t, err, errlen);
    if (!t->ctx) {
        sc_tls_free(t);
        return NULL;
    }
    remember_files(t);
    return t;
}

int sc_tls_reload(sc_tls *t, char *err, size_t errlen)
{
    SSL_CTX *ctx = make_ctx(t, err, errlen);
    if (!ctx)
        return -1;
    SSL_CTX_free(t->ctx);
    t->ctx = ctx;
    remember_files(t);
    return 0;
}

static bool file_changed(const struct stat *a, const char *path)
{
    struct stat b;
    if (stat(path, &b) < 0)
        return a->st_ino != 0; /* gone: reloading says so */
    return a->st_ino != b.st_ino || a->st_dev != b.st_dev || a->st_size != b.st_size ||
           a->st_mtim.tv_sec != b.st_mtim.tv_sec || a->st_mtim.tv_nsec != b.st_mtim.tv_nsec;
}

int sc_tls_refresh(sc_tls *t, char *err, size_t errlen)
{
    for (int i = 0; i < TLS_FILES; i++)
        if (t->path[i] && file_changed(&t->seen[i], t->path[i]))
            return sc_tls_reload(t, err, errlen) == 0 ? 1 : -1;
    return 0;
}

static bool is_ip(const char *name)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

/* Host-name checking: an IP literal is matched against the certificate's
 * IP addresses, anything else against its DNS names. */
static int expect_host(SSL *ssl, const char *name)
{
    if (is_ip(name))
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1 ? 0 : -1;
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return SSL_set1_host(ssl, name) == 1 ? 0 : -1;
}

SSL *sc_tls_session(sc_tls *t, int fd, const char *host, char *err, size_t errlen)
{
    SSL *ssl = SSL_new(t->ctx);
    if (!ssl) {
        ssl_error(err, errlen, "cannot start TLS", NULL);
        return NULL;
    }
    const char *name = t->server_name ? t->server_name : host;
    /* SNI carries names only (RFC 6066) */
    if (name && !is_ip(name) && SSL_set_tlsext_host_name(ssl, name) != 1) {
        ssl_error(err, errlen, "cannot set the server name", name);
        goto fail;
    }
    if (t->verify == SC_TLS_VERIFY_FULL && name && expect_host(ssl, name) < 0) {
        ssl_error(err, errlen, "cannot check the server name", name);
        goto fail;
    }
    if (SSL_set_fd(ssl, fd) != 1) {
        ssl_error(err, errlen, "cannot start TLS", NULL);
        goto fail;
    }
    SSL_set_connect_state(ssl);
    return ssl;
fail:
    SSL_free(ssl);
    return NULL;
}

void sc_tls_failure(SSL *ssl, int ret, char *buf, size_t len)
{
    long v = SSL_get_verify_result(ssl);
    if (v != X509_V_OK) {
        snprintf(buf, len,
                 "TLS: the server's certificate was refused: %s (check redis_tls_ca_file, "
                 "redis_tls_server_name and the certificate's dates)",
                 X509_verify_cert_error_string(v));
        ERR_clear_error();
        return;
    }
    unsigned long e = ERR_peek_last_error();
    if (!e) {
        snprintf(buf, len, "TLS handshake failed: the server closed the connection%s",
                 ret == 0 ? " (does it want a client certificate? redis_tls_cert_file)" : "");
        return;
    }
    char reason[200];
    ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    int r = ERR_GET_REASON(e);
    bool plain = r == SSL_R_WRONG_VERSION_NUMBER || r == SSL_R_PACKET_LENGTH_TOO_LONG;
    snprintf(buf, len, "TLS handshake failed: %s%s", reason,
             plain ? " (is this a plain-text port? rediss:// needs Redis's tls-port)" : "");
}

void sc_tls_free(sc_tls *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    for (int i = 0; i < TLS_FILES; i++)
        free(t->path[i]);
    free(t->server_name);
    free(t);
}
