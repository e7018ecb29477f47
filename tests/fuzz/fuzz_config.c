/* fuzz_config: the INI reader and value checks (sc_config_load_file on a
 * file holding the input), then the flag parser (sc_config_load) with an
 * argv split from the input.
 *
 * Input: flags byte; bit 0 selects the flag parser, else the INI file. For
 * flags, the rest is split at NUL bytes into argv[1..]; an argument "@"
 * becomes the path of a file holding the text after a 0xFF byte (if any),
 * so --config gets exercised. '/' in arguments is replaced: the fuzzer must
 * not make the parser read arbitrary files (/dev/zero never ends). */
#include "fuzz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ARGS 64

static char path[128];

static void write_file(const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        fz_fail("cannot write %s: %s", path, strerror(errno));
    if (n && fwrite(p, 1, n, f) != n)
        fz_fail("short write to %s", path);
    fclose(f);
}

static void check_loaded(const sc_config *cfg)
{
    /* what the daemon relies on after a successful load */
    if (!cfg->socket_path || strlen(cfg->socket_path) > 107)
        fz_fail("socket path missing or over 107 bytes after a successful load");
    if (cfg->output_buffer_soft > cfg->output_buffer_hard ||
        cfg->max_frame_bytes > cfg->output_buffer_hard || cfg->node_ttl_ms <= cfg->heartbeat_ms)
        fz_fail("a cross-setting rule was not enforced");
    if (!cfg->redis_prefix || !cfg->redis_prefix[0] || strlen(cfg->redis_prefix) > 64)
        fz_fail("redis_prefix out of range after a successful load");
}

static void run_ini(const uint8_t *p, size_t n)
{
    write_file(p, n);
    sc_config cfg;
    sc_config_defaults(&cfg);
    FILE *err = fopen("/dev/null", "w");
    if (sc_config_load_file(&cfg, path, err) == 0 && sc_config_validate(&cfg, err) == 0)
        check_loaded(&cfg);
    fclose(err);
    sc_config_free(&cfg);
}

static void run_flags(const uint8_t *p, size_t n)
{
    const uint8_t *ff = memchr(p, 0xff, n);
    size_t argn = ff ? (size_t)(ff - p) : n;
    if (ff)
        write_file(ff + 1, n - argn - 1);
    else
        write_file(NULL, 0);
    char *text = malloc(argn + 1);
    memcpy(text, p, argn);
    text[argn] = '\0';
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = (char *)"sidecastd";
    for (size_t at = 0; at <= argn && argc < MAX_ARGS + 1;) {
        char *arg = text + at;
        size_t l = strlen(arg);
        for (char *q = arg; *q; q++)
            if (*q == '/')
                *q = '_';
        argv[argc++] = strcmp(arg, "@") == 0 ? path : arg;
        at += l + 1;
    }
    argv[argc] = NULL;
    sc_config cfg;
    sc_command cmd;
    FILE *err = fopen("/dev/null", "w");
    if (sc_config_load(&cfg, argc, argv, &cmd, err) == 0 && cmd != SC_CMD_EXIT_OK)
        check_loaded(&cfg);
    fclose(err);
    sc_config_free(&cfg);
    free(text);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init_once();
    snprintf(path, sizeof(path), "/tmp/sc-fuzz-config.%d", (int)getpid());
    /* --help and --version print to stdout: keep the fuzzer's output clean */
    if (!freopen("/dev/null", "w", stdout))
        fz_fail("cannot redirect stdout");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0])
        LLVMFuzzerInitialize(NULL, NULL);
    fz_reader r = {data, size};
    uint8_t flags = fz_u8(&r);
    if (flags & 1)
        run_flags(r.p, r.n);
    else
        run_ini(r.p, r.n);
    unlink(path);
    return 0;
}
