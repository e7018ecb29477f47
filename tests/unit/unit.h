/* unit: what every cmocka unit test file shares: the includes cmocka
 * needs, a main() that runs the file's `tests` group, and a small PRNG. */
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

/* main() of a unit test file: runs `tests`; takes no arguments. */
#define UNIT_MAIN(tests)                                                                           \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        if (argc != 1) {                                                                           \
            fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);                                \
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
