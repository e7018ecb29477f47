/* Unit tests for broker/config.c: INI files, flags, validation, and error
 * messages that name the file and line. */
#include "unit.h"
#include "reload.h"

#include "config.h"
#include "credentials.h"
#include "redis.h"
#include "redis_topology.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------------- */

/* A temporary file with the given content; the caller unlinks and frees. */
static char *temp_file(const char *content)
{
    const char *dir = getenv("TMPDIR");
    char *path = malloc(4096);
    assert_non_null(path);
    snprintf(path, 4096, "%s/sc-unit-config-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(content);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    close(fd);
    return path;
}

static void temp_done(char *path)
{
    unlink(path);
    free(path);
}

/* Output captured from a FILE*. */
typedef struct capture {
    FILE *f;
    char *text;
    size_t len;
} capture;

static void capture_open(capture *c)
{
    c->text = NULL;
    c->len = 0;
    c->f = open_memstream(&c->text, &c->len);
    assert_non_null(c->f);
}

/* Closes the stream; c->text stays valid until capture_free. */
static const char *capture_close(capture *c)
{
    fclose(c->f);
    c->f = NULL;
    return c->text;
}

static void capture_free(capture *c)
{
    free(c->text);
    c->text = NULL;
}

/* Loads content as a config file over defaults. Returns the return code and
 * puts the error text (caller frees) in *err_text and the path in *ret_path
 * (caller temp_done()s it) when asked. */
static int load_text(sc_config *cfg, const char *content, char **err_text, char **ret_path)
{
    char *path = temp_file(content);
    capture c;
    capture_open(&c);
    sc_config_defaults(cfg);
    int rc = sc_config_load_file(cfg, path, c.f);
    capture_close(&c);
    if (err_text)
        *err_text = c.text;
    else
        capture_free(&c);
    if (ret_path)
        *ret_path = path;
    else
        temp_done(path);
    return rc;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Asserts that err has a line starting "path:LINE: " and containing what. */
static void expect_error_at(const char *err, const char *path, int line, const char *what)
{
    char prefix[4200];
    snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
    size_t plen = strlen(prefix);
    for (const char *p = err; *p;) {
        const char *eol = strchr(p, '\n');
        size_t llen = eol ? (size_t)(eol - p) : strlen(p);
        if (llen >= plen && memcmp(p, prefix, plen) == 0) {
            char *l = sc_xstrndup(p, llen);
            bool ok = strstr(l, what) != NULL;
            free(l);
            if (ok)
                return;
        }
        p += llen + (eol ? 1 : 0);
    }
    fail_msg("no error '%s...%s' in:\n%s", prefix, what, err);
}

/* ---- defaults and valid files ------------------------------------------------------ */

static void defaults(void **state)
{
    (void)state;
    sc_config cfg;
    sc_config_defaults(&cfg);
    assert_string_equal(cfg.socket_path, "/run/sidecast/sidecast.sock");
    assert_int_equal(cfg.socket_mode, 0660);
    assert_int_equal(cfg.max_frame_bytes, 17u << 20);
    assert_int_equal(cfg.output_buffer_soft, 4u << 20);
    assert_int_equal(cfg.output_buffer_hard, 64u << 20);
    assert_int_equal(cfg.max_connections, 1024);
    assert_int_equal(cfg.shutdown_timeout_ms, 5000);
    assert_int_equal(cfg.log_level, SC_LOG_INFO);
    assert_string_equal(cfg.node_name, "");
    capture c;
    capture_open(&c);
    assert_int_equal(sc_config_validate(&cfg, c.f), 0);
    assert_string_equal(capture_close(&c), "");
    capture_free(&c);
    sc_config_free(&cfg);
    assert_null(cfg.socket_path);
    assert_null(cfg.node_name);
    sc_config_free(NULL);
}

static void valid_file(void **state)
{
    (void)state;
    sc_config cfg;
    char *err;
    int rc = load_text(&cfg,
                       "; sidecastd test config\n"
                       "# both comment styles\n"
                       "\n"
                       "socket = /tmp/sc-test.sock\n"
                       "socket_mode = 0600\n"
                       "max_frame_bytes = 2m\n"
                       "output_buffer_soft   =   8m  \n"
                       "output_buffer_hard = 64m ; inline comment\n"
                       "max_connections = 10\n"
                       "shutdown_timeout_ms = 0\n"
                       "log_level = debug\n"
                       "node_name = edge-1\n",
                       &err, NULL);
    assert_string_equal(err, "");
    assert_int_equal(rc, 0);
    assert_string_equal(cfg.socket_path, "/tmp/sc-test.sock");
    assert_int_equal(cfg.socket_mode, 0600);
    assert_int_equal(cfg.max_frame_bytes, 2u << 20);
    assert_int_equal(cfg.output_buffer_soft, 8u << 20);
    assert_int_equal(cfg.output_buffer_hard, 64u << 20);
    assert_int_equal(cfg.max_connections, 10);
    assert_int_equal(cfg.shutdown_timeout_ms, 0);
    assert_int_equal(cfg.log_level, SC_LOG_DEBUG);
    assert_string_equal(cfg.node_name, "edge-1");
    free(err);

    /* "warning" is warn; an empty file changes nothing. */
    sc_config_free(&cfg);
    rc = load_text(&cfg, "max_connections = 11\nlog_level = warning\n", NULL, NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(cfg.max_connections, 11);
    assert_int_equal(cfg.log_level, SC_LOG_WARN);
    sc_config_free(&cfg);
    rc = load_text(&cfg, "", &err, NULL);
    assert_int_equal(rc, 0);
    assert_string_equal(err, "");
    assert_int_equal(cfg.max_connections, 1024);
    free(err);
    sc_config_free(&cfg);
}

/* `[section] key` is the setting section_key. */
static void sections(void **state)
{
    (void)state;
    sc_config cfg;
    char *err, *path;
    int rc = load_text(&cfg,
                       "[output_buffer]\n"
                       "soft = 5m\n"
                       "hard = 6m\n"
                       "[log]\n"
                       "level = error\n"
                       "[max]\n"
                       "connections = 7\n"
                       "frame_bytes = 128k\n"
                       "[socket]\n"
                       "mode = 640\n",
                       &err, NULL);
    assert_string_equal(err, "");
    assert_int_equal(rc, 0);
    assert_int_equal(cfg.output_buffer_soft, 5u << 20);
    assert_int_equal(cfg.output_buffer_hard, 6u << 20);
    assert_int_equal(cfg.log_level, SC_LOG_ERROR);
    assert_int_equal(cfg.max_connections, 7);
    assert_int_equal(cfg.max_frame_bytes, 128u << 10);
    assert_int_equal(cfg.socket_mode, 0640);
    free(err);
    sc_config_free(&cfg);

    /* A plain key inside a section is not the top-level setting. */
    rc =
        load_text(&cfg, "[server]\nmax_connections = 3\n[output_buffer]\nbogus = 1\n", &err, &path);
    assert_int_equal(rc, -EINVAL);
    expect_error_at(err, path, 2, "unknown setting 'server_max_connections'");
    expect_error_at(err, path, 2, "(section and key joined with _)");
    expect_error_at(err, path, 4, "unknown setting 'output_buffer_bogus'");
    assert_int_equal(count_lines(err), 2);
    assert_int_equal(cfg.max_connections, 1024);
    free(err);
    temp_done(path);
    sc_config_free(&cfg);
}

/* ---- bad values ----------------------------------------------------------------------- */

static void unknown_key(void **state)
{
    (void)state;
    sc_config cfg;
    char *err, *path;
    int rc = load_text(&cfg, "max_connections = 5\nmax_conections = 6\n", &err, &path);
    assert_int_equal(rc, -EINVAL);
    expect_error_at(err, path, 2, "unknown setting 'max_conections'");
    assert_null(strstr(err, "section and key"));
    assert_int_equal(count_lines(err), 1);
    /* Good lines are still applied. */
    assert_int_equal(cfg.max_connections, 5);
    free(err);
    temp_done(path);
    sc_config_free(&cfg);
}

/* Every bad line is reported with its own line number, in one pass. */
static void each_bad_line_reported(void **state)
{
    (void)state;
    sc_config cfg;
    char *err, *path;
    int rc = load_text(&cfg,
                       "# line 1\n"
                       "max_connections = abc\n"           /* 2 */
                       "max_pending_requests = 0\n"        /* 3: below 1 */
                       "\n"                                /* 4 */
                       "max_rooms_per_socket = 1000001\n"  /* 5: above 1000000 */
                       "max_sockets_per_connection = -1\n" /* 6 */
                       "log_level = loud\n"                /* 7 */
                       "; comment\n"                       /* 8 */
                       "socket_mode = 0999\n"              /* 9 */
                       "http_max_request_bytes = 65k\n"    /* 10: above 64k */
                       "shutdown_timeout_ms = 5000\n"      /* 11: fine */
                       "max_frame_bytes = 1x\n"            /* 12 */
                       "max_socket_data_bytes = 17m\n"     /* 13: above 16m */
                       "output_buffer_hard = 1.5m\n"       /* 14 */
                       "[weird]\n"                         /* 15 */
                       "key = 1\n"                         /* 16 */
                       "[]\n"                              /* 17: empty section name */
                       "session_data_max_keys = 12\n",     /* 18: fine (no section) */
                       &err, &path);
    assert_int_equal(rc, -EINVAL);
    expect_error_at(err, path, 2, "max_connections must be a number from 1 to 1000000, not 'abc'");
    expect_error_at(err, path, 3, "not '0'");
    expect_error_at(err, path, 5, "not '1000001'");
    expect_error_at(err, path, 6, "not '-1'");
    expect_error_at(err, path, 7, "log_level must be error, warn, info or debug, not 'loud'");
    expect_error_at(err, path, 9, "octal file mode like 0660, not '0999'");
    expect_error_at(err, path, 10, "not '65k'");
    expect_error_at(err, path, 12, "max_frame_bytes must be a size");
    expect_error_at(err, path, 13, "not '17m'");
    expect_error_at(err, path, 14, "not '1.5m'");
    expect_error_at(err, path, 16, "unknown setting 'weird_key'");
    assert_int_equal(count_lines(err), 11);
    assert_int_equal(cfg.session_data_max_keys, 12);
    assert_int_equal(cfg.shutdown_timeout_ms, 5000);
    free(err);
    temp_done(path);
    sc_config_free(&cfg);
}

static void size_suffixes(void **state)
{
    (void)state;
    static const struct {
        const char *v;
        uint64_t want; /* 0: refused */
    } cases[] = {
        {"4096", 4096},
        {"4k", 4ull << 10},
        {"4K", 4ull << 10},
        {"4kb", 4ull << 10},
        {"4KiB", 4ull << 10},
        {"4kib", 4ull << 10},
        {"4ki", 4ull << 10},
        {"3m", 3ull << 20},
        {"3MB", 3ull << 20},
        {"3MiB", 3ull << 20},
        {"1g", 1ull << 30},
        {"2GiB", 2ull << 30},
        {"4g", 4ull << 30}, /* the maximum */
        {"4096m", 4ull << 30},
        {"4097m", 0}, /* over the maximum */
        {"5g", 0},
        {"4095", 0}, /* under 4k */
        {"1t", 0},
        {"4kk", 0},
        {"4kB2", 0},
        {"4 k", 0},
        {"k", 0},
        {"4.5k", 0},
        {"0x1000", 0},
        {"-4k", 0},
        {"99999999999999999999", 0}, /* over UINT64_MAX */
        {"18014398509481984k", 0},   /* 2^54 KiB overflows when multiplied */
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(cases); i++) {
        char text[128];
        snprintf(text, sizeof(text), "# size\noutput_buffer_hard = %s\n", cases[i].v);
        sc_config cfg;
        char *err, *path;
        int rc = load_text(&cfg, text, &err, &path);
        if (cases[i].want) {
            if (rc != 0)
                fail_msg("'%s' refused: %s", cases[i].v, err);
            assert_int_equal(cfg.output_buffer_hard, cases[i].want);
            assert_string_equal(err, "");
        } else {
            if (rc != -EINVAL)
                fail_msg("'%s' accepted as %" PRIu64, cases[i].v, cfg.output_buffer_hard);
            char what[96];
            snprintf(what, sizeof(what), "not '%s'", cases[i].v);
            expect_error_at(err, path, 2, what);
            assert_int_equal(cfg.output_buffer_hard, 64u << 20); /* unchanged */
        }
        free(err);
        temp_done(path);
        sc_config_free(&cfg);
    }
}

static void octal_mode(void **state)
{
    (void)state;
    static const struct {
        const char *v;
        int want; /* -1: refused */
    } cases[] = {
        {"0660", 0660}, {"0600", 0600}, {"660", 0660}, {"0777", 0777}, {"0", 0},   {"00640", 0640},
        {"0800", -1},   {"01000", -1},  {"rw", -1},    {"0660x", -1},  {"-1", -1}, {"", -1},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(cases); i++) {
        char text[64];
        snprintf(text, sizeof(text), "socket_mode = %s\n", cases[i].v);
        sc_config cfg;
        char *err, *path;
        int rc = load_text(&cfg, text, &err, &path);
        if (cases[i].want >= 0) {
            if (rc != 0)
                fail_msg("mode '%s' refused: %s", cases[i].v, err);
            assert_int_equal(cfg.socket_mode, cases[i].want);
        } else {
            if (rc != -EINVAL)
                fail_msg("mode '%s' accepted as %o", cases[i].v, cfg.socket_mode);
            expect_error_at(err, path, 1, "must be an octal file mode");
            assert_int_equal(cfg.socket_mode, 0660);
        }
        free(err);
        temp_done(path);
        sc_config_free(&cfg);
    }
}

static void string_limits(void **state)
{
    (void)state;
    char text[512], path107[120];
    memset(path107, 'p', 107);
    path107[0] = '/';
    path107[107] = '\0';
    sc_config cfg;
    char *err, *path;
    snprintf(text, sizeof(text), "socket = %s\n", path107);
    assert_int_equal(load_text(&cfg, text, &err, NULL), 0);
    assert_string_equal(cfg.socket_path, path107);
    free(err);
    sc_config_free(&cfg);
    snprintf(text, sizeof(text), "\nsocket = %sp\n", path107); /* 108 */
    assert_int_equal(load_text(&cfg, text, &err, &path), -EINVAL);
    expect_error_at(err, path, 2, "socket is longer than 107 characters");
    assert_string_equal(cfg.socket_path, "/run/sidecast/sidecast.sock");
    free(err);
    temp_done(path);
    sc_config_free(&cfg);
}

static void syntax_error(void **state)
{
    (void)state;
    sc_config cfg;
    char *err, *path;
    int rc = load_text(&cfg,
                       "max_connections = 5\n"
                       "[output_buffer]\n"
                       "this line has no equals sign\n" /* 3 */
                       "soft = 5m\n",
                       &err, &path);
    assert_int_equal(rc, -EINVAL);
    expect_error_at(err, path, 3, "syntax error");
    assert_int_equal(count_lines(err), 1);
    /* Parsing went on after the bad line. */
    assert_int_equal(cfg.max_connections, 5);
    assert_int_equal(cfg.output_buffer_soft, 5u << 20);
    free(err);
    temp_done(path);
    sc_config_free(&cfg);

    /* A syntax error and value errors: all of them reported. */
    rc = load_text(&cfg,
                   "max_connections = x\n" /* 1 */
                   "[unterminated\n"       /* 2 */
                   "log_level = nope\n"    /* 3 */
                   "\n"
                   "node_name = ok\n",
                   &err, &path);
    assert_int_equal(rc, -EINVAL);
    expect_error_at(err, path, 1, "max_connections must be a number");
    expect_error_at(err, path, 2, "syntax error");
    expect_error_at(err, path, 3, "log_level must be");
    assert_int_equal(count_lines(err), 3);
    assert_string_equal(cfg.node_name, "ok");
    free(err);
    temp_done(path);
    sc_config_free(&cfg);
}

/* A key given twice is an error naming both lines, whichever way it is
 * spelt, and whether or not the first value was good; the first stays. */
static void duplicate_keys(void **state)
{
    (void)state;
    sc_config cfg;
    char *err, *path;
    int rc = load_text(&cfg,
                       "max_connections = 10\n" /* 1 */
                       "log_level = loud\n"     /* 2: bad value */
                       "max_connections = 11\n" /* 3 */
                       "[max]\n"                /* 4 */
                       "connections = 12\n"     /* 5: the same setting */
                       "[]\n"                   /* 6 */
                       "log_level = debug\n"    /* 7 */
                       "max_connections = x\n", /* 8: a duplicate first */
                       &err, &path);
    assert_int_equal(rc, -EINVAL);
    expect_error_at(err, path, 2, "not 'loud'");
    expect_error_at(err, path, 3, "key 'max_connections' already set on line 1");
    expect_error_at(err, path, 5, "key 'max_connections' already set on line 1");
    expect_error_at(err, path, 7, "key 'log_level' already set on line 2");
    expect_error_at(err, path, 8, "key 'max_connections' already set on line 1");
    assert_int_equal(count_lines(err), 5);
    assert_int_equal(cfg.max_connections, 10);
    assert_int_equal(cfg.log_level, SC_LOG_INFO);
    /* the exact message, as an operator sees it */
    char want[4200];
    snprintf(want, sizeof(want), "%s:3: key 'max_connections' already set on line 1\n", path);
    assert_non_null(strstr(err, want));
    free(err);
    temp_done(path);
    sc_config_free(&cfg);

    /* --check-config fails on it, even when both lines say the same */
    path = temp_file("max_connections = 10\nmax_connections = 10\n");
    capture c;
    capture_open(&c);
    char a0[] = "sidecastd", a1[] = "-c", a3[] = "--check-config";
    char *argv[] = {a0, a1, path, a3, NULL};
    sc_command cmd;
    rc = sc_config_load(&cfg, 4, argv, &cmd, c.f);
    assert_int_equal(rc, -EINVAL);
    assert_non_null(strstr(capture_close(&c), "already set on line 1"));
    capture_free(&c);
    sc_config_free(&cfg);
    temp_done(path);
}

/* A directory opens like a file and reads like an empty one: it must be
 * refused, not taken as "every setting at its default". */
static void directory_refused(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/sc-unit-confdir-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    sc_config cfg;
    sc_config_defaults(&cfg);
    capture c;
    capture_open(&c);
    assert_int_equal(sc_config_load_file(&cfg, dir, c.f), -EISDIR);
    char want[4200];
    snprintf(want, sizeof(want), "%s: cannot read config file: is a directory\n", dir);
    assert_string_equal(capture_close(&c), want);
    capture_free(&c);
    sc_config_free(&cfg);

    /* -c DIR --check-config: an error, not "configuration OK" */
    capture_open(&c);
    char a0[] = "sidecastd", a1[] = "-c", a3[] = "--check-config";
    char *argv[] = {a0, a1, dir, a3, NULL};
    sc_command cmd;
    assert_int_equal(sc_config_load(&cfg, 4, argv, &cmd, c.f), -EINVAL);
    assert_non_null(strstr(capture_close(&c), "is a directory"));
    capture_free(&c);
    sc_config_free(&cfg);
    assert_int_equal(rmdir(dir), 0);
}

static void missing_file(void **state)
{
    (void)state;
    sc_config cfg;
    sc_config_defaults(&cfg);
    capture c;
    capture_open(&c);
    int rc = sc_config_load_file(&cfg, "/nonexistent/sidecast.ini", c.f);
    const char *err = capture_close(&c);
    assert_int_equal(rc, -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/sidecast.ini: cannot open config file"));
    capture_free(&c);
    sc_config_free(&cfg);
}

/* ---- command line ----------------------------------------------------------------------- */

typedef struct load_result {
    int rc;
    sc_command cmd;
    char *err;
} load_result;

/* Runs sc_config_load on a NULL-terminated argument list (argv[0] added).
 * stdout is sent to /dev/null meanwhile (--help and friends print there). */
static load_result load_args(sc_config *cfg, const char *first, ...)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "sidecastd";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        assert_true(argc < 31);
        argv[argc++] = (char *)a;
    }
    va_end(ap);
    argv[argc] = NULL;

    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int devnull = open("/dev/null", O_WRONLY);
    assert_true(saved >= 0 && devnull >= 0);
    dup2(devnull, STDOUT_FILENO);
    close(devnull);

    capture c;
    capture_open(&c);
    load_result res;
    res.cmd = (sc_command)-1;
    res.rc = sc_config_load(cfg, argc, argv, &res.cmd, c.f);
    capture_close(&c);
    res.err = c.text;

    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    return res;
}

static void args_defaults_and_flags(void **state)
{
    (void)state;
    sc_config cfg;
    load_result r = load_args(&cfg, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.cmd, SC_CMD_RUN);
    assert_string_equal(r.err, "");
    assert_int_equal(cfg.max_connections, 1024);
    free(r.err);
    sc_config_free(&cfg);

    r = load_args(&cfg, "--max-connections", "77", "--socket=/tmp/x.sock", "--socket-mode", "0640",
                  "--log-level", "debug", "--output-buffer-hard", "64MiB", "--node-name", "n1",
                  NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    assert_int_equal(r.cmd, SC_CMD_RUN);
    assert_int_equal(cfg.max_connections, 77);
    assert_string_equal(cfg.socket_path, "/tmp/x.sock");
    assert_int_equal(cfg.socket_mode, 0640);
    assert_int_equal(cfg.log_level, SC_LOG_DEBUG);
    assert_int_equal(cfg.output_buffer_hard, 64u << 20);
    assert_string_equal(cfg.node_name, "n1");
    free(r.err);
    sc_config_free(&cfg);
}

/* Flags win over the file, wherever --config is on the command line. */
static void args_override_file(void **state)
{
    (void)state;
    char *path = temp_file("max_connections = 10\n"
                           "shutdown_timeout_ms = 100\n"
                           "[log]\nlevel = warn\n");
    sc_config cfg;
    load_result r = load_args(&cfg, "--config", path, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(cfg.max_connections, 10);
    assert_int_equal(cfg.shutdown_timeout_ms, 100);
    assert_int_equal(cfg.log_level, SC_LOG_WARN);
    free(r.err);
    sc_config_free(&cfg);

    r = load_args(&cfg, "--max-connections", "20", "-c", path, "--log-level", "error", NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    assert_int_equal(cfg.max_connections, 20);
    assert_int_equal(cfg.shutdown_timeout_ms, 100); /* from the file */
    assert_int_equal(cfg.log_level, SC_LOG_ERROR);
    free(r.err);
    sc_config_free(&cfg);

    char opt[4200];
    snprintf(opt, sizeof(opt), "--config=%s", path);
    r = load_args(&cfg, opt, "--shutdown-timeout-ms", "0", NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(cfg.max_connections, 10);
    assert_int_equal(cfg.shutdown_timeout_ms, 0);
    free(r.err);
    sc_config_free(&cfg);
    temp_done(path);
}

static void args_check_config(void **state)
{
    (void)state;
    sc_config cfg;
    load_result r = load_args(&cfg, "--check-config", NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.cmd, SC_CMD_CHECK);
    free(r.err);
    sc_config_free(&cfg);

    /* Settings are still read and validated in check mode. */
    r = load_args(&cfg, "--max-connections", "3", "--check-config", NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.cmd, SC_CMD_CHECK);
    assert_int_equal(cfg.max_connections, 3);
    free(r.err);
    sc_config_free(&cfg);
    r = load_args(&cfg, "--check-config", "--max-connections", "0", NULL);
    assert_int_equal(r.rc, -EINVAL);
    assert_int_equal(r.cmd, SC_CMD_CHECK);
    assert_non_null(strstr(r.err, "--max-connections: max_connections must be a number"));
    free(r.err);
    sc_config_free(&cfg);

    /* One-shot commands. */
    static const char *const oneshot[] = {"--help", "-h", "--version", "-V", "--print-config"};
    for (size_t i = 0; i < SC_ARRAY_LEN(oneshot); i++) {
        r = load_args(&cfg, oneshot[i], NULL);
        assert_int_equal(r.rc, 0);
        assert_int_equal(r.cmd, SC_CMD_EXIT_OK);
        assert_string_equal(r.err, "");
        free(r.err);
        sc_config_free(&cfg);
    }
}

static void args_errors(void **state)
{
    (void)state;
    sc_config cfg;
    load_result r = load_args(&cfg, "--bogus", NULL);
    assert_int_equal(r.rc, -EINVAL);
    assert_non_null(strstr(r.err, "unknown option '--bogus'"));
    free(r.err);
    sc_config_free(&cfg);

    r = load_args(&cfg, "--max-connections", "5", "-x", NULL);
    assert_int_equal(r.rc, -EINVAL);
    assert_non_null(strstr(r.err, "unknown option '-x'"));
    free(r.err);
    sc_config_free(&cfg);

    r = load_args(&cfg, "--max-connections", NULL);
    assert_int_equal(r.rc, -EINVAL);
    assert_non_null(strstr(r.err, "missing value for '--max-connections'"));
    free(r.err);
    sc_config_free(&cfg);

    r = load_args(&cfg, "--max-connections", "5", "stray", NULL);
    assert_int_equal(r.rc, -EINVAL);
    assert_non_null(strstr(r.err, "unexpected argument 'stray'"));
    free(r.err);
    sc_config_free(&cfg);

    /* The underscore spelling is the file key, not a flag. */
    r = load_args(&cfg, "--max_connections", "5", NULL);
    assert_int_equal(r.rc, -EINVAL);
    assert_non_null(strstr(r.err, "unknown option"));
    free(r.err);
    sc_config_free(&cfg);

    r = load_args(&cfg, "--output-buffer-soft", "lots", NULL);
    assert_int_equal(r.rc, -EINVAL);
    assert_non_null(strstr(r.err,
                           "sidecastd: --output-buffer-soft: output_buffer_soft must be a "
                           "size (bytes, or with k/m/g) from 4096 to 4294967296, not 'lots'"));
    free(r.err);
    sc_config_free(&cfg);

    r = load_args(&cfg, "--log-level", "verbose", NULL);
    assert_int_equal(r.rc, -EINVAL);
    assert_non_null(strstr(r.err, "--log-level: log_level must be error, warn, info or debug"));
    free(r.err);
    sc_config_free(&cfg);

    /* A bad config file fails the load with its file:line message. */
    char *path = temp_file("max_connections = 5\nlog_level = 7\n");
    r = load_args(&cfg, "-c", path, NULL);
    assert_int_equal(r.rc, -EINVAL);
    expect_error_at(r.err, path, 2, "log_level must be");
    free(r.err);
    sc_config_free(&cfg);
    temp_done(path);

    r = load_args(&cfg, "--config", "/nonexistent/sc.ini", NULL);
    assert_int_equal(r.rc, -EINVAL);
    assert_non_null(strstr(r.err, "/nonexistent/sc.ini: cannot open config file"));
    free(r.err);
    sc_config_free(&cfg);

    /* A good call after errors works (getopt state is reset). */
    r = load_args(&cfg, "--max-connections", "9", NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(cfg.max_connections, 9);
    free(r.err);
    sc_config_free(&cfg);
}

static void validate_cross_settings(void **state)
{
    (void)state;
    sc_config cfg;
    capture c;

    sc_config_defaults(&cfg);
    cfg.output_buffer_soft = cfg.output_buffer_hard; /* equal is fine */
    capture_open(&c);
    assert_int_equal(sc_config_validate(&cfg, c.f), 0);
    capture_close(&c);
    capture_free(&c);

    cfg.output_buffer_soft = cfg.output_buffer_hard + 1;
    capture_open(&c);
    assert_int_equal(sc_config_validate(&cfg, c.f), -EINVAL);
    assert_non_null(strstr(capture_close(&c), "output_buffer_soft (67108865) must not exceed "
                                              "output_buffer_hard (67108864)"));
    capture_free(&c);

    sc_config_free(&cfg);
    sc_config_defaults(&cfg);
    cfg.max_frame_bytes = 64u << 20;
    cfg.output_buffer_hard = 32u << 20;
    cfg.output_buffer_soft = 4096;
    capture_open(&c);
    assert_int_equal(sc_config_validate(&cfg, c.f), -EINVAL);
    assert_non_null(strstr(capture_close(&c), "max_frame_bytes (67108864) must not exceed"));
    capture_free(&c);

    free(cfg.socket_path);
    cfg.socket_path = sc_xstrdup("");
    cfg.max_frame_bytes = 1024;
    capture_open(&c);
    assert_int_equal(sc_config_validate(&cfg, c.f), -EINVAL);
    assert_non_null(strstr(capture_close(&c), "socket must not be empty"));
    capture_free(&c);
    sc_config_free(&cfg);

    /* Through sc_config_load: soft > hard from flags is refused. */
    load_result r =
        load_args(&cfg, "--output-buffer-soft", "8m", "--output-buffer-hard", "4m", NULL);
    assert_int_equal(r.rc, -EINVAL);
    assert_non_null(strstr(r.err, "output_buffer_soft (8388608) must not exceed "
                                  "output_buffer_hard (4194304)"));
    free(r.err);
    sc_config_free(&cfg);
    /* ...and from a file. */
    char *path = temp_file("[output_buffer]\nsoft = 128m\n");
    r = load_args(&cfg, "-c", path, NULL);
    assert_int_equal(r.rc, -EINVAL);
    assert_non_null(strstr(r.err, "must not exceed output_buffer_hard"));
    free(r.err);
    sc_config_free(&cfg);
    /* A flag can repair what the file got wrong. */
    r = load_args(&cfg, "-c", path, "--output-buffer-hard", "1g", NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(cfg.output_buffer_soft, 128u << 20);
    free(r.err);
    sc_config_free(&cfg);
    temp_done(path);
}

/* --check-config reports every error in one pass: bad lines, bad flags
 * and settings that do not go together, each where it was set. */
static void every_error_in_one_pass(void **state)
{
    (void)state;
    sc_config cfg;
    char *path = temp_file("max_connections = abc\n[output_buffer]\nsoft = 128m\n");
    load_result r = load_args(&cfg, "-c", path, "--heartbeat-ms", "5000", "--node-ttl-ms",
                              "1000", "--check-config", NULL);
    assert_int_equal(r.rc, -EINVAL);
    char want[600];
    snprintf(want, sizeof(want), "%s:1: max_connections must be a number", path);
    assert_non_null(strstr(r.err, want));
    snprintf(want, sizeof(want), "%s:3: output_buffer_soft (134217728) must not exceed", path);
    assert_non_null(strstr(r.err, want));
    assert_non_null(strstr(r.err, "command line: node_ttl_ms (1000) must be greater than"));
    free(r.err);
    sc_config_free(&cfg);
    temp_done(path);
}

/* The shipped sidecast.conf names exactly the settings a SIGHUP applies
 * (reload.c's list), every one by its full name. */
static void shipped_reload_list(void **state)
{
    (void)state;
    FILE *f = fopen(SC_SOURCE_DIR "/packaging/sidecast.conf", "r");
    assert_non_null(f);
    char line[512], para[4096] = "";
    bool in = false;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "# SIGHUP re-reads", 17) == 0)
            in = true;
        if (in && line[0] != '#')
            break;
        if (in && strlen(para) + strlen(line) < sizeof(para))
            strcat(para, line);
    }
    fclose(f);
    assert_true(para[0]);
    capture c;
    capture_open(&c);
    sc_config_print_reference(c.f);
    char *ref = strdup(capture_close(&c));
    capture_free(&c);
    int names = 0;
    for (char *p = ref; (p = strstr(p, "\n#")); p++) {
        char name[64];
        if (sscanf(p + 2, "%63[a-z_] =", name) != 1)
            continue; /* "# help text", not "#name = value" */
        names++;
        bool listed = false;
        size_t n = strlen(name);
        for (const char *q = para; (q = strstr(q, name)); q += n)
            listed = listed || ((q == para || !(q[-1] == '_' || (q[-1] >= 'a' && q[-1] <= 'z'))) &&
                                !(q[n] == '_' || (q[n] >= 'a' && q[n] <= 'z')));
        if (listed != sc_reload_is_reloadable(name))
            fail_msg("packaging/sidecast.conf's SIGHUP list %s %s, but reload.c %s it",
                     listed ? "names" : "leaves out", name,
                     sc_reload_is_reloadable(name) ? "reloads" : "does not reload");
    }
    assert_true(names > 40);
    free(ref);
}

static void print_reference(void **state)
{
    (void)state;
    capture c;
    capture_open(&c);
    sc_config_print_reference(c.f);
    const char *text = capture_close(&c);
    assert_non_null(strstr(text, "#max_frame_bytes = 17m\n"));
    assert_non_null(strstr(text, "#socket_mode = 0660\n"));
    /* The reference, uncommented, is a valid config file with the defaults. */
    char *uncommented = sc_xstrdup(text);
    char *w = uncommented;
    for (const char *p = text; *p; p++) {
        if (*p == '#' && p[1] != ' ' && (p == text || p[-1] == '\n'))
            continue;
        *w++ = *p;
    }
    *w = '\0';
    sc_config cfg, def;
    char *err;
    int rc = load_text(&cfg, uncommented, &err, NULL);
    assert_string_equal(err, "");
    assert_int_equal(rc, 0);
    sc_config_defaults(&def);
    assert_string_equal(cfg.socket_path, def.socket_path);
    assert_int_equal(cfg.max_frame_bytes, def.max_frame_bytes);
    assert_int_equal(cfg.output_buffer_hard, def.output_buffer_hard);
    assert_int_equal(cfg.socket_mode, def.socket_mode);
    assert_int_equal(cfg.log_level, def.log_level);
    free(err);
    free(uncommented);
    sc_config_free(&cfg);
    sc_config_free(&def);
    capture_free(&c);
}

/* Lines longer than libinih's buffer are refused with their own line number
 * (libinih would otherwise split them and misnumber every later line), and
 * the lines after them are still numbered right. */
static void long_comment_line(void **state)
{
    (void)state;
    char text[512];
    char xs[251];
    memset(xs, 'x', 250);
    xs[250] = '\0';
    snprintf(text, sizeof(text),
             "# %s\n"                /* 1: a long line */
             "max_connections = 7\n" /* 2 */
             "log_level = loud\n",   /* 3 */
             xs);
    sc_config cfg;
    char *err, *path;
    int rc = load_text(&cfg, text, &err, &path);
    char want1[4200], want3[4200];
    snprintf(want1, sizeof(want1), "%s:1: line longer than 199 characters", path);
    snprintf(want3, sizeof(want3), "%s:3: log_level must be error, warn, info or debug, not 'loud'",
             path);
    assert_int_equal(rc, -EINVAL);
    assert_non_null(strstr(err, want1));
    assert_non_null(strstr(err, want3));
    assert_int_equal(cfg.max_connections, 7);
    free(err);
    temp_done(path);
    sc_config_free(&cfg);
}

/* A value that makes its line too long is refused in a file (with a reason
 * that points to flags) and accepted as a flag, up to its own limit. */
static void long_node_name_in_file(void **state)
{
    (void)state;
    char name[201], text[300];
    memset(name, 'n', 200);
    name[200] = '\0';
    snprintf(text, sizeof(text), "node_name = %s\n", name);
    sc_config cfg;
    char *err;
    int rc = load_text(&cfg, text, &err, NULL);
    assert_int_equal(rc, -EINVAL);
    assert_non_null(strstr(err, ":1: line longer than 199 characters (give long values as flags)"));
    free(err);
    sc_config_free(&cfg);
    load_result r = load_args(&cfg, "--node-name", name, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(strlen(cfg.node_name), 200);
    free(r.err);
    sc_config_free(&cfg);
}

/* Every syntax error is reported with its line, not only the first; an
 * indented line is a line of its own, not a continuation. */
static void several_syntax_errors(void **state)
{
    (void)state;
    sc_config cfg;
    char *err, *path;
    int rc = load_text(&cfg,
                       "max_connections = 5\n"
                       "no equals sign here\n" /* 2 */
                       "[unterminated\n"       /* 3 */
                       "  log_level = debug\n" /* 4: indented, still valid */
                       "also bad\n",           /* 5 */
                       &err, &path);
    char p2[4200], p3[4200], p5[4200];
    snprintf(p2, sizeof(p2), "%s:2: syntax error", path);
    snprintf(p3, sizeof(p3), "%s:3: syntax error", path);
    snprintf(p5, sizeof(p5), "%s:5: syntax error", path);
    assert_int_equal(rc, -EINVAL);
    assert_non_null(strstr(err, p2));
    assert_non_null(strstr(err, p3));
    assert_non_null(strstr(err, p5));
    assert_int_equal(cfg.log_level, SC_LOG_DEBUG);
    free(err);
    temp_done(path);
    sc_config_free(&cfg);
}

/* ---- guard: access, credentials and limits --------------------------------------- */

static void guard_defaults(void **state)
{
    sc_config cfg;
    sc_config_defaults(&cfg);
    assert_string_equal(cfg.socket_group, "sidecast");
    assert_false(cfg.socket_group_set);
    assert_string_equal(cfg.allow_uids, "");
    assert_int_equal(cfg.max_payload_bytes, 16 * 1024 * 1024);
    assert_int_equal(cfg.max_sockets_per_connection, 200000);
    assert_int_equal(cfg.max_rooms_per_socket, 1024);
    assert_int_equal(cfg.max_name_bytes, 1024);
    assert_int_equal(cfg.max_socket_data_bytes, 64 * 1024);
    assert_int_equal(cfg.max_pending_per_connection, 256);
    assert_null(cfg.redis_password);
    sc_config_free(&cfg);
}

static void guard_group_set_tracked(void **state)
{
    sc_config cfg;
    char *err = NULL;
    assert_int_equal(load_text(&cfg, "socket_group = sidecast\n", &err, NULL), 0);
    assert_true(cfg.socket_group_set); /* explicit, even with the default's value */
    free(err);
    sc_config_free(&cfg);
}

static void guard_password_file(void **state)
{
    char *path = temp_file("pa ss:w@rd\n");
    sc_config cfg;
    sc_config_defaults(&cfg);
    free(cfg.redis_password_file);
    cfg.redis_password_file = sc_xstrdup(path);
    capture c;
    capture_open(&c);
    assert_int_equal(sc_credentials_load(cfg.redis_password_file, &cfg.redis_password, c.f), 0);
    assert_string_equal(cfg.redis_password, "pa ss:w@rd"); /* newline is not part of it */
    capture_close(&c);
    capture_free(&c);
    sc_config_free(&cfg);
    assert_null(cfg.redis_password);
    temp_done(path);

    path = temp_file("\n");
    sc_config_defaults(&cfg);
    free(cfg.redis_password_file);
    cfg.redis_password_file = sc_xstrdup(path);
    capture_open(&c);
    assert_int_equal(sc_credentials_load(cfg.redis_password_file, &cfg.redis_password, c.f), -EINVAL);
    assert_non_null(strstr(capture_close(&c), "is empty"));
    capture_free(&c);
    sc_config_free(&cfg);
    temp_done(path);
}

static void guard_scrub_argv(void **state)
{
    char a0[] = "sidecastd", a1[] = "--redis-url", a2[] = "redis://app:s3cret@h:1/0",
         a3[] = "--redis-url=redis://:pw@h", a4[] = "--redis-url", a5[] = "redis://h:1/0",
         a6[] = "--node-name", a7[] = "redis://x:y@z";
    char *argv[] = {a0, a1, a2, a3, a4, a5, a6, a7, NULL};
    assert_true(sc_credentials_scrub_argv(8, argv));
    assert_string_equal(a2, "redis://app:******@h:1/0");
    assert_string_equal(a3, "--redis-url=redis://:**@h");
    assert_string_equal(a5, "redis://h:1/0");
    assert_string_equal(a7, "redis://x:y@z"); /* not a --redis-url value */
    char *none[] = {a0, a4, a5, NULL};
    assert_false(sc_credentials_scrub_argv(3, none));
}

/* redis://user@host names a user, not a password: no warning, nothing to
 * mask, and the parser agrees with the scrubber on every form. */
static void guard_url_user_without_password(void **state)
{
    (void)state;
    static const struct {
        const char *url, *user, *password, *masked; /* masked: NULL if nothing to mask */
    } cases[] = {
        {"redis://default@h:1/0", "default", NULL, NULL},
        {"redis://app@h", "app", NULL, NULL},
        {"redis://app:@h", "app", NULL, NULL},
        {"redis://:@h", NULL, NULL, NULL},
        {"redis://@h", NULL, NULL, NULL},
        {"redis://h:6379/0", NULL, NULL, NULL},
        {"redis://:pw@h", NULL, "pw", "redis://:**@h"},
        {"redis://app:s3cret@h:1/0", "app", "s3cret", "redis://app:******@h:1/0"},
        {"redis://app:p%40ss@h", "app", "p@ss", "redis://app:******@h"},
        {"redis://a:b:c@h", "a", "b:c", "redis://a:***@h"},
        {"rediss://app:pw@h:6380/0", "app", "pw", "rediss://app:**@h:6380/0"},
        {"redis+sentinel://:pw@s1,s2:26380/mymaster", NULL, "pw",
         "redis+sentinel://:**@s1,s2:26380/mymaster"},
        {"rediss+sentinel://u:pw@s1/m/2", "u", "pw", "rediss+sentinel://u:**@s1/m/2"},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(cases); i++) {
        sc_redis_url u;
        char why[160];
        assert_int_equal(sc_redis_url_parse(cases[i].url, &u, why, sizeof(why)), 0);
        if (cases[i].user)
            assert_string_equal(u.user, cases[i].user);
        else
            assert_null(u.user);
        if (cases[i].password)
            assert_string_equal(u.password, cases[i].password);
        else
            assert_null(u.password);
        sc_redis_url_free(&u);
        char a0[] = "sidecastd", a1[] = "--redis-url", a2[64];
        snprintf(a2, sizeof(a2), "%s", cases[i].url);
        char *argv[] = {a0, a1, a2, NULL};
        assert_int_equal(sc_credentials_scrub_argv(3, argv), cases[i].masked != NULL);
        assert_string_equal(a2, cases[i].masked ? cases[i].masked : cases[i].url);
    }
}

/* The URL forms and what each gives. */
static void redis_url_forms(void **state)
{
    (void)state;
    sc_redis_url u;
    char why[200];
    assert_int_equal(sc_redis_url_parse("rediss://[::1]:6380/3", &u, why, sizeof(why)), 0);
    assert_true(u.tls);
    assert_false(u.sentinel);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 3);
    sc_redis_url_free(&u);
    assert_int_equal(
        sc_redis_url_parse("redis+sentinel://s1,[::1]:26380,s3:1/mymaster/2", &u, why, sizeof(why)),
        0);
    assert_true(u.sentinel);
    assert_false(u.tls);
    assert_int_equal(u.nsentinels, 3);
    assert_string_equal(u.sentinel_host[0], "s1");
    assert_int_equal(u.sentinel_port[0], 26379);
    assert_string_equal(u.sentinel_host[1], "::1");
    assert_int_equal(u.sentinel_port[1], 26380);
    assert_int_equal(u.sentinel_port[2], 1);
    assert_string_equal(u.master, "mymaster");
    assert_int_equal(u.db, 2);
    assert_null(u.host);
    sc_redis_url_free(&u);
    static const char *const bad[] = {"redis+sentinel://s1:26379", "redis+sentinel://s1:26379/",
                                      "redis+sentinel://s1:0/m", "redis+sentinel://s1/m/x",
                                      "rediss://[::1", "rediss://[::1]x", "http://h",
                                      "redis+sentinel://,/m", "redis+sentinel:///m",
                                      "redis+sentinel://:pw@/m", "redis+sentinel://s1,/m",
                                      "unix:///run/r.sock?db=-5", "unix:///run/r.sock?x=1"};
    for (size_t i = 0; i < SC_ARRAY_LEN(bad); i++) {
        why[0] = 0;
        assert_int_equal(sc_redis_url_parse(bad[i], &u, why, sizeof(why)), -EINVAL);
        assert_true(why[0] != 0);
    }
}

/* redis+cluster://: seeds, database 0 only; and the key -> slot function
 * against values Redis's CLUSTER KEYSLOT gives. */
static void redis_url_cluster(void **state)
{
    (void)state;
    sc_redis_url u;
    char why[200];
    assert_int_equal(sc_redis_url_parse("rediss+cluster://u:pw@n1,[::1]:7001/0", &u, why,
                                        sizeof(why)),
                     0);
    assert_true(u.cluster && u.tls);
    assert_false(u.sentinel);
    assert_int_equal(u.nsentinels, 2);
    assert_string_equal(u.sentinel_host[0], "n1");
    assert_int_equal(u.sentinel_port[0], 6379);
    assert_string_equal(u.sentinel_host[1], "::1");
    assert_int_equal(u.sentinel_port[1], 7001);
    assert_string_equal(u.user, "u");
    assert_string_equal(u.password, "pw");
    assert_string_equal(sc_redis_url_safe(&u), "tls:cluster:n1:6379(+1)");
    sc_redis_url_free(&u);
    static const char *const bad[] = {"redis+cluster://", "redis+cluster://n1,", "redis+cluster://n1/3",
                                      "redis+cluster://,n1", "redis+cluster://n1:0"};
    for (size_t i = 0; i < SC_ARRAY_LEN(bad); i++) {
        why[0] = 0;
        assert_int_equal(sc_redis_url_parse(bad[i], &u, why, sizeof(why)), -EINVAL);
        assert_true(why[0] != 0);
    }
    /* redis-cli CLUSTER KEYSLOT */
    assert_int_equal(sc_slot("foo", 3), 12182);
    assert_int_equal(sc_slot("123456789", 9), 12739);
    assert_int_equal(sc_slot("{sidecast}:nodes", 16), 3793);
    assert_int_equal(sc_slot("sidecast", 8), 3793);
    assert_int_equal(sc_slot("{P}", 3), 6901);
    assert_int_equal(sc_slot("P:room:abc", 10), 102);
    assert_int_equal(sc_slot("{}x", 3), 10595); /* an empty tag: the whole key */
    assert_int_equal(sc_slot("a{b", 3), 13340); /* no closing brace: the whole key */
}

/* A hash tag in the prefix would split the keys' slot. */
static void redis_cluster_prefix(void **state)
{
    (void)state;
    sc_config cfg;
    capture c;
    sc_config_defaults(&cfg);
    free(cfg.redis_url);
    cfg.redis_url = sc_xstrdup("redis+cluster://n1");
    free(cfg.redis_prefix);
    cfg.redis_prefix = sc_xstrdup("a{b}");
    capture_open(&c);
    assert_int_equal(sc_config_validate(&cfg, c.f), -EINVAL);
    assert_non_null(strstr(capture_close(&c), "redis_prefix must not contain { or }"));
    capture_free(&c);
    sc_config_free(&cfg);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(redis_url_cluster),
    cmocka_unit_test(redis_cluster_prefix),
    cmocka_unit_test(guard_defaults),
    cmocka_unit_test(guard_group_set_tracked),
    cmocka_unit_test(guard_password_file),
    cmocka_unit_test(guard_scrub_argv),
    cmocka_unit_test(guard_url_user_without_password),
    cmocka_unit_test(redis_url_forms),
    cmocka_unit_test(defaults),
    cmocka_unit_test(valid_file),
    cmocka_unit_test(sections),
    cmocka_unit_test(unknown_key),
    cmocka_unit_test(each_bad_line_reported),
    cmocka_unit_test(size_suffixes),
    cmocka_unit_test(octal_mode),
    cmocka_unit_test(string_limits),
    cmocka_unit_test(syntax_error),
    cmocka_unit_test(missing_file),
    cmocka_unit_test(duplicate_keys),
    cmocka_unit_test(directory_refused),
    cmocka_unit_test(args_defaults_and_flags),
    cmocka_unit_test(args_override_file),
    cmocka_unit_test(args_check_config),
    cmocka_unit_test(args_errors),
    cmocka_unit_test(validate_cross_settings),
    cmocka_unit_test(every_error_in_one_pass),
    cmocka_unit_test(shipped_reload_list),
    cmocka_unit_test(print_reference),
    cmocka_unit_test(long_comment_line),
    cmocka_unit_test(long_node_name_in_file),
    cmocka_unit_test(several_syntax_errors),
};

UNIT_MAIN(tests)
