/*
 * smd_test_util.h - helpers shared by the structured-merge unit tests (test_ssa.c,
 * test_fieldset.c, test_patch.c, test_schema.c): JSON literals and exact comparisons.
 */
#ifndef SMD_TEST_UTIL_H
#define SMD_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sb.h"

/* Parse a JSON literal (test input; aborts the test when malformed). Owned. */
static inline json_t *J(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
    if (!v)
        fail_msg("bad JSON literal at %d: %s: %s", err.position, err.text, text);
    return v;
}

/* Assert that `got` equals the JSON literal `want` (key order ignored; values exact). */
#define assert_json(got, want) assert_json_at((got), (want), __FILE__, __LINE__)
static inline void assert_json_at(const json_t *got, const char *want, const char *file, int line)
{
    json_t *w = J(want);
    if (!json_equal((json_t *)got, w)) {
        char *g = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        fprintf(stderr, "%s:%d: JSON mismatch\n got: %s\nwant: %s\n", file, line,
                g ? g : "(null)", want);
        free(g);
        json_decref(w);
        _fail(file, line);
        return;
    }
    json_decref(w);
}

/* Assert the compact serialisation, key order included. */
#define assert_json_text(got, want) assert_json_text_at((got), (want), __FILE__, __LINE__)
static inline void assert_json_text_at(const json_t *got, const char *want, const char *file,
                                       int line)
{
    char *g = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (!g || strcmp(g, want) != 0) {
        fprintf(stderr, "%s:%d: JSON text mismatch\n got: %s\nwant: %s\n", file, line,
                g ? g : "(null)", want);
        free(g);
        _fail(file, line);
        return;
    }
    free(g);
}

#endif
