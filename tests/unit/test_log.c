/* Unit tests for the text guards: UTF-8 validation (broker/core/util.c), checked
 * exhaustively up to three bytes against a decoder written from RFC 3629,
 * and the escaping of strings from outside for log lines (broker/core/log.c). */
#include "unit.h"

#include "log.h"
#include "util.h"

/* ---- UTF-8 --------------------------------------------------------------------- */

/* RFC 3629 the long way: decode the code point, then refuse overlong forms,
 * surrogates and anything above U+10FFFF. */
static bool ref_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t b = s[i];
        size_t n;
        uint32_t cp, min;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xe0) == 0xc0) {
            n = 2, cp = b & 0x1f, min = 0x80;
        } else if ((b & 0xf0) == 0xe0) {
            n = 3, cp = b & 0x0f, min = 0x800;
        } else if ((b & 0xf8) == 0xf0) {
            n = 4, cp = b & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (i + n > len)
            return false;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n;
    }
    return true;
}

static void utf8_examples(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t len; /* 0: strlen */
        bool ok;
    } cases[] = {
        {"", 0, true},
        {"socket-1", 0, true},
        {"caf\xc3\xa9", 0, true},       /* é */
        {"\xe2\x82\xac", 0, true},      /* € */
        {"\xf0\x9d\x84\x9e", 0, true},  /* U+1D11E */
        {"\xf4\x8f\xbf\xbf", 0, true},  /* U+10FFFF, the last */
        {"\xed\x9f\xbf", 0, true},      /* U+D7FF, below the surrogates */
        {"\xee\x80\x80", 0, true},      /* U+E000, above them */
        {"\xef\xbf\xbf", 0, true},      /* U+FFFF */
        {"a\0b", 3, true},              /* U+0000 is a character */
        {"\xc0\x80", 0, false},         /* overlong NUL */
        {"\xc1\xbf", 0, false},         /* overlong */
        {"\xe0\x80\x80", 0, false},     /* overlong */
        {"\xe0\x9f\xbf", 0, false},     /* overlong U+07FF */
        {"\xed\xa0\x80", 0, false},     /* U+D800, a surrogate */
        {"\xed\xbf\xbf", 0, false},     /* U+DFFF */
        {"\xf0\x8f\xbf\xbf", 0, false}, /* overlong U+FFFF */
        {"\xf4\x90\x80\x80", 0, false}, /* U+110000 */
        {"\xf5\x80\x80\x80", 0, false}, /* lead byte past F4 */
        {"\xff", 0, false},
        {"\x80", 0, false},  /* a lone continuation byte */
        {"a\xc3", 0, false}, /* cut short at the end */
        {"\xe2\x82", 0, false},
        {"\xf0\x9d\x84", 0, false},
        {"\xe2\x82z", 0, false},    /* continuation expected */
        {"\xc3\xa9\xa9", 0, false}, /* one continuation too many */
        {"\xc3\0", 2, false},       /* a NUL is not a continuation */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].s);
        if (sc_utf8_valid(cases[i].s, len) != cases[i].ok)
            fail_msg("case %zu: sc_utf8_valid should be %d", i, cases[i].ok);
        assert_int_equal(ref_valid((const uint8_t *)cases[i].s, len), cases[i].ok);
    }
    assert_int_equal(sc_utf8_seq((const uint8_t *)"\xf0\x9d\x84\x9e", 4), 4);
    assert_int_equal(sc_utf8_seq((const uint8_t *)"\xf0\x9d\x84\x9e", 3), 0); /* avail */
    assert_int_equal(sc_utf8_seq((const uint8_t *)"\xe2\x82\xac", 3), 3);
    assert_int_equal(sc_utf8_seq((const uint8_t *)"\xc3\xa9", 2), 2);
    assert_int_equal(sc_utf8_seq((const uint8_t *)"a", 1), 1);
    assert_int_equal(sc_utf8_seq((const uint8_t *)"a", 0), 0);
}

/* Every string of one, two and three bytes (16.8 million), then random
 * four- to eight-byte strings biased towards the interesting bytes. */
static void utf8_matches_reference(void **state)
{
    (void)state;
    uint8_t b[8];
    for (uint32_t v = 0; v < (1u << 24); v++) {
        b[0] = (uint8_t)(v >> 16), b[1] = (uint8_t)(v >> 8), b[2] = (uint8_t)v;
        for (size_t len = 1; len <= 3; len++) {
            if (len < 3 && (v & ((1u << (8 * (3 - len))) - 1)) != 0)
                continue; /* shorter strings: once each */
            if (sc_utf8_valid((const char *)b, len) != ref_valid(b, len))
                fail_msg("%zu bytes %02x %02x %02x: differs from the reference", len, b[0], b[1],
                         b[2]);
        }
    }
    static const uint8_t pick[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0,
                                   0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0,
                                   0xf1, 0xf3, 0xf4, 0xf5, 0xf7, 0xf8, 0xfe, 0xff};
    uint64_t seed = 0x5eed;
    for (int i = 0; i < 2000000; i++) {
        size_t len = 4 + unit_below(&seed, 5);
        for (size_t k = 0; k < len; k++)
            b[k] = unit_below(&seed, 4) ? pick[unit_below(&seed, sizeof(pick))]
                                        : (uint8_t)unit_rand(&seed);
        if (sc_utf8_valid((const char *)b, len) != ref_valid(b, len))
            fail_msg("random case %d differs from the reference", i);
    }
}

/* ---- escaping -------------------------------------------------------------------- */

static void escape_examples(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"socket-1", "socket-1"},
        {"", ""},
        {"a\nINFO forged", "a\\nINFO forged"},
        {"\r\t\\", "\\r\\t\\\\"},
        {"\x01\x1b[31m\x7f", "\\x01\\x1b[31m\\x7f"},
        {"caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac"}, /* UTF-8 stays */
        {"\xff\xfe", "\\xff\\xfe"},
        {"a\xc3", "a\\xc3"},                 /* cut short */
        {"\xed\xa0\x80", "\\xed\\xa0\\x80"}, /* a surrogate */
        {"\xc3\xa9\xa9", "\xc3\xa9\\xa9"},
        {"\xe2\x82z", "\\xe2\\x82z"},
    };
    char buf[SC_ESC_LEN];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(sc_log_escape(buf, sizeof(buf), cases[i].in), cases[i].out);
    assert_string_equal(sc_log_escape(buf, sizeof(buf), NULL), "(null)");
    /* what SC_ESC gives is printable and valid UTF-8 whatever came in */
    char in[256];
    for (int i = 0; i < 255; i++)
        in[i] = (char)(i + 1);
    in[255] = '\0';
    const char *out = sc_log_escape(buf, sizeof(buf), in);
    for (const char *p = out; *p; p++)
        assert_false((unsigned char)*p < 0x20 || *p == 0x7f);
    assert_true(sc_utf8_valid(out, strlen(out)));
    char line[300];
    snprintf(line, sizeof(line), "socket %s refused", SC_ESC("x\ny"));
    assert_string_equal(line, "socket x\\ny refused");
}

static void escape_bounded(void **state)
{
    (void)state;
    char buf[16]; /* 15 bytes and the NUL */
    assert_string_equal(sc_log_escape(buf, sizeof(buf), "123456789012345"), "123456789012345");
    assert_string_equal(sc_log_escape(buf, sizeof(buf), "1234567890123456"), "123456789012...");
    /* an escape that fits exactly; one that does not */
    assert_string_equal(sc_log_escape(buf, sizeof(buf), "1234567890123\n"), "1234567890123\\n");
    assert_string_equal(sc_log_escape(buf, sizeof(buf), "12345678901234\n"), "123456789012...");
    assert_string_equal(sc_log_escape(buf, sizeof(buf), "12345678901\xff"), "12345678901\\xff");
    assert_string_equal(sc_log_escape(buf, sizeof(buf), "123456789012\xff"), "123456789012...");
    /* never cut inside a character */
    assert_string_equal(sc_log_escape(buf, sizeof(buf), "123456789012\xe2\x82\xac"),
                        "123456789012\xe2\x82\xac");
    assert_string_equal(sc_log_escape(buf, sizeof(buf), "1234567890\xe2\x82\xac\xe2\x82\xac"),
                        "1234567890...");
    /* tiny buffers stay NUL-terminated */
    char tiny[4];
    assert_string_equal(sc_log_escape(tiny, sizeof(tiny), "abc"), "abc");
    assert_string_equal(sc_log_escape(tiny, sizeof(tiny), "abcd"), "...");
    assert_string_equal(sc_log_escape(tiny, 2, "abcd"), ".");
    assert_string_equal(sc_log_escape(tiny, 1, "abcd"), "");
    /* a long string costs what fits, not its length */
    size_t big = 8u << 20;
    char *s = malloc(big + 1);
    assert_non_null(s);
    memset(s, '\n', big);
    s[big] = '\0';
    char out[SC_ESC_LEN];
    sc_log_escape(out, sizeof(out), s);
    assert_int_equal(strlen(out), SC_ESC_LEN - 1); /* 62 "\n" pairs (124 bytes) and "..." */
    assert_string_equal(out + strlen(out) - 3, "...");
    free(s);
}

/* ---- the line guard ----------------------------------------------------------------- */

static char sunk[2100];
static int sink_count;

static int test_sink(sc_log_level l, const char *msg)
{
    (void)l;
    snprintf(sunk, sizeof(sunk), "%s", msg);
    sink_count++;
    return 0;
}

static void line_guard(void **state)
{
    (void)state;
    sc_log_set_sink(test_sink);
    sc_log_level old = sc_log_get_level();
    sc_log_set_level(SC_LOG_INFO);
    sink_count = 0;
    /* a call site that forgot SC_ESC still writes one line */
    sc_info("socket %s refused", "a\ninfo  forged\r\x1b");
    assert_int_equal(sink_count, 1);
    assert_string_equal(sunk, "socket a?info  forged?? refused");
    /* escaped, it stays as the escape says */
    sc_info("socket %s refused", SC_ESC("a\ninfo  forged"));
    assert_string_equal(sunk, "socket a\\ninfo  forged refused");
    /* UTF-8 passes */
    sc_info("room %s", "caf\xc3\xa9");
    assert_string_equal(sunk, "room caf\xc3\xa9");
    sc_log_set_level(old);
    sc_log_set_sink(NULL);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(utf8_examples),   cmocka_unit_test(utf8_matches_reference),
    cmocka_unit_test(escape_examples), cmocka_unit_test(escape_bounded),
    cmocka_unit_test(line_guard),
};

UNIT_MAIN(tests)
