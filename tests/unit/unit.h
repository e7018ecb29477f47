/* unit: what every cmocka unit test file shares.
 *
 * Each test file has two groups: `tests`, which must pass, and `known_bugs`,
 * tests that expose a bug in broker/ that is not fixed yet. A known-bug test
 * reports the bug with fail_msg("KNOWN BUG <tag>: ...") once it has freed
 * everything (so a sanitizer build stays clean). CMakeLists.txt runs each one
 * alone (`unit_x --known-bug NAME`) and passes it only when that exact
 * message appears: the test must fail, and for the right reason. When the
 * bug is fixed the message disappears and ctest flags the test, which then
 * belongs in `tests`.
 *
 * Usage: unit_x                      run `tests`
 *        unit_x --known-bug NAME     run the known-bug test NAME only
 *        unit_x --known-bugs         run every known-bug test */
#ifndef SC_UNIT_H
#define SC_UNIT_H

/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNIT_MAIN(tests, known_bugs)                                                               \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        if (argc == 3 && strcmp(argv[1], "--known-bug") == 0) {                                    \
            cmocka_set_test_filter(argv[2]);                                                       \
            return cmocka_run_group_tests_name("known_bugs", known_bugs, NULL, NULL);              \
        }                                                                                          \
        if (argc == 2 && strcmp(argv[1], "--known-bugs") == 0)                                     \
            return cmocka_run_group_tests_name("known_bugs", known_bugs, NULL, NULL);              \
        if (argc != 1) {                                                                           \
            fprintf(stderr, "usage: %s [--known-bugs | --known-bug NAME]\n", argv[0]);             \
            return 2;                                                                              \
        }                                                                                          \
        return cmocka_run_group_tests_name("tests", tests, NULL, NULL);                            \
    }

/* For files without known-bug tests. */
#define UNIT_MAIN_NO_KNOWN_BUGS(tests)                                                             \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        if (argc != 1) {                                                                           \
            fprintf(stderr, "usage: %s (this file has no known-bug tests)\n", argv[0]);            \
            return 2;                                                                              \
        }                                                                                          \
        return cmocka_run_group_tests_name("tests", tests, NULL, NULL);                            \
    }

/* Small deterministic PRNG (xorshift64*), so randomized tests are repeatable. */
static inline uint64_t unit_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static inline uint32_t unit_below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(unit_rand(s) % n);
}

#endif
