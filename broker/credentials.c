/* credentials: reading the Redis password from a file, and scrubbing it
 * from argv. The password is zeroed before it is freed, so a core dump
 * taken after shutdown does not hold it either. See credentials.h for what
 * it may not touch. */
#include "credentials.h"
#include "redis_url.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PASSWORD_MAX 1024

void sc_credentials_wipe(char **p)
{
    if (!p || !*p)
        return;
    volatile char *v = *p;
    while (*v)
        *v++ = 0;
    free(*p);
    *p = NULL;
}

/* Reads at most PASSWORD_MAX bytes; a trailing newline (echo > file) is
 * not part of the password. */
static int read_password(const char *setting, const char *path, char **ret, FILE *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(err, "%s: cannot open %s: %s\n", setting, path, strerror(errno));
        return -EINVAL;
    }
    char buf[PASSWORD_MAX + 2];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    int bad = ferror(f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    int rc = 0;
    if (bad)
        fprintf(err, "%s: cannot read %s\n", setting, path), rc = -EINVAL;
    else if (n == 0)
        fprintf(err, "%s: %s is empty\n", setting, path), rc = -EINVAL;
    else if (n > PASSWORD_MAX || memchr(buf, '\0', n))
        fprintf(err, "%s: %s must hold one password of at most %d bytes\n", setting, path,
                PASSWORD_MAX),
            rc = -EINVAL;
    if (rc == 0)
        *ret = sc_xstrdup(buf);
    memset(buf, 0, sizeof(buf));
    return rc;
}

int sc_credentials_load_named(const char *setting, const char *file, const char *credential,
                              char **password, FILE *err)
{
    sc_credentials_wipe(password);
    if (file && file[0])
        return read_password(setting, file, password, err);
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    if (!dir || !dir[0])
        return 0;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, credential);
    struct stat st;
    if (stat(path, &st) < 0)
        return 0; /* systemd passed other credentials, not this one */
    return read_password(setting, path, password, err);
}

int sc_credentials_load(const char *password_file, char **password, FILE *err)
{
    return sc_credentials_load_named("redis_password_file", password_file, "redis-password",
                                     password, err);
}

void sc_credentials_apply(const char *password, sc_redis_url *u)
{
    if (!password)
        return;
    sc_credentials_wipe(&u->password);
    u->password = sc_xstrdup(password);
}

/* The password part of a redis://, rediss:// or redis[s]+sentinel:// URL,
 * read as sc_redis_url_parse reads it: redis://[user]:PASSWORD@host.
 * redis://user@host has none. */
static bool mask_url(char *url)
{
    static const char *const schemes[] = {"redis://", "rediss://", "redis+sentinel://",
                                          "rediss+sentinel://"};
    char *p = NULL;
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]) && !p; i++)
        if (strncmp(url, schemes[i], strlen(schemes[i])) == 0)
            p = url + strlen(schemes[i]);
    if (!p)
        return false;
    char *at = strrchr(p, '@');
    if (!at)
        return false;
    char *colon = memchr(p, ':', (size_t)(at - p));
    if (!colon || colon + 1 == at)
        return false;
    memset(colon + 1, '*', (size_t)(at - colon - 1));
    return true;
}

bool sc_credentials_scrub_argv(int argc, char **argv)
{
    bool found = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--redis-url") == 0 && i + 1 < argc)
            found |= mask_url(argv[++i]);
        else if (strncmp(argv[i], "--redis-url=", 12) == 0)
            found |= mask_url(argv[i] + 12);
    }
    return found;
}

char **sc_credentials_argv_copy(int argc, char *const *argv)
{
    char **copy = sc_xcalloc((size_t)argc + 1, sizeof(*copy));
    for (int i = 0; i < argc; i++)
        copy[i] = sc_xstrdup(argv[i]);
    return copy;
}

void sc_credentials_argv_free(char **copy)
{
    for (char **p = copy; p && *p; p++)
        sc_credentials_wipe(p);
    free(copy);
}
