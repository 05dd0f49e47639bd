/*
 * test_yaml.c - the YAML layer against kustomize's real output.
 *
 * yaml_cases.inc pins, for ~300 values and key sets, the exact text `kubectl kustomize`
 * (kustomize v5.5.0) printed for them (regenerate with gen_yaml_cases.py). Each case is read
 * with pl_yaml_parse and written with pl_yaml_emit, so every row checks the reader's scalar
 * resolution and the writer's quoting, folding and key order together.
 *
 * Known, deliberate gaps (not in the table):
 *  - integers above 2^63-1 (kustomize keeps a uint64 exactly; jansson has no uint64, so they
 *    become doubles);
 *  - key sets on which go-yaml's keyList.Less is intransitive ("v1beta1" < "v2" < "v10" <
 *    "v1beta1"): kustomize's own order then changes from run to run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "plumb/core.h"

typedef struct yaml_case {
    const char *in;
    const char *want;
} yaml_case;

static const yaml_case cases[] = {
#include "yaml_cases.inc"
};

/* parse `in`, emit every document; the output (owned) or NULL with the error message */
static char *roundtrip(const char *in, int *code)
{
    json_t *docs = NULL;
    pl_buf out = PL_BUF_INIT;

    *code = pl_yaml_parse(&docs, in, strlen(in), "case.yaml", NULL);
    if (*code == 0)
        *code = pl_yaml_emit_stream(&out, docs);
    json_decref(docs);
    if (*code < 0) {
        pl_buf_dispose(&out);
        return NULL;
    }
    return pl_buf_detach(&out);
}

static void test_yaml__kustomize_table(void **state)
{
    size_t failed = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int code;
        char *got = roundtrip(cases[i].in, &code);
        if (!got || strcmp(got, cases[i].want) != 0) {
            print_message("case %zu: input:\n%s--- want:\n%s--- got:\n%s\n", i, cases[i].in,
                          cases[i].want, got ? got : pl_error_last()->message);
            failed++;
        }
        pl_free(got);
    }
    assert_int_equal(failed, 0);
}

static void expect_error(const char *in, int code, const char *message)
{
    int got_code;
    char *got = roundtrip(in, &got_code);

    if (got)
        print_message("unexpected success:\n%s", got);
    assert_null(got);
    assert_int_equal(got_code, code);
    assert_string_equal(pl_error_last()->message, message);
}

static void test_yaml__emit_values(void **state)
{
    json_t *doc = json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:I,s:s,s:b,s:n,s:[],s:{}}", "a", 1e3,
                            "b", 1.5, "c", 1e-7, "d", 1.2e19, "e", 1.8446744073709552e19, "f",
                            -0.0, "g", 1234567.5, "h", (json_int_t)INT64_MIN, "i", "",
                            "j", 0, "k", "l", "m");
    pl_buf out = PL_BUF_INIT;

    (void)state;
    assert_non_null(doc);
    assert_int_equal(pl_yaml_emit(&out, doc), 0);
    assert_string_equal(out.ptr, "a: 1000\n"
                                 "b: 1.5\n"
                                 "c: 1e-07\n"
                                 "d: 12000000000000000000\n"
                                 "e: 1.8446744073709552e+19\n"
                                 "f: 0\n"
                                 "g: 1.2345675e+06\n"
                                 "h: -9223372036854775808\n"
                                 "i: \"\"\n"
                                 "j: false\n"
                                 "k: null\n"
                                 "l: []\n"
                                 "m: {}\n");
    json_decref(doc);
    pl_buf_dispose(&out);
}

static void test_yaml__emit_stream_separator(void **state)
{
    json_t *docs = json_pack("[{s:s},{s:i},{}]", "a", "x", "b", 1);
    pl_buf out = PL_BUF_INIT;

    (void)state;
    assert_int_equal(pl_yaml_emit_stream(&out, docs), 0);
    assert_string_equal(out.ptr, "a: x\n---\nb: 1\n---\n{}\n");
    json_decref(docs);
    pl_buf_dispose(&out);
}

/* kustomize fails on these when it prints: go-yaml v2 rejects DEL and C1 controls, and
 * Time.MarshalJSON an offset of 24h. */
static void test_yaml__kustomize_errors(void **state)
{
    (void)state;
    expect_error("a: \"\\x7f\"\n", PL_EINVALID, "yaml: control characters are not allowed");
    expect_error("a: \"x\\u0090\"\n", PL_EINVALID, "yaml: control characters are not allowed");
    expect_error("a: \"\\uffff\"\n", PL_EINVALID, "yaml: control characters are not allowed");
    expect_error("a: 2024-01-05T10:00:00+24:00\n", PL_EINVALID,
                 "case.yaml:1:4: timestamp 2024-01-05T10:00:00+24:00: timezone hour outside "
                 "of range [0,23]");
    expect_error("a: !!binary a===\n", PL_EINVALID,
                 "case.yaml:1:4: !!binary value contains invalid base64 data");
}

static void test_yaml__malformed(void **state)
{
    (void)state;
    expect_error("a: b\n c: d\n", PL_EINVALID,
                 "case.yaml:2:3: mapping values are not allowed in this context");
    expect_error("a: [1, 2\n", PL_EINVALID,
                 "case.yaml:2:1: did not find expected ',' or ']' while parsing a flow sequence");
    expect_error("a: \"abc\n", PL_EINVALID,
                 "case.yaml:2:1: found unexpected end of stream while scanning a quoted scalar");
    expect_error("a:\n\tb: 1\n", PL_EINVALID,
                 "case.yaml:2:1: found character that cannot start any token while scanning "
                 "for the next token");
    expect_error("a: *nope\n", PL_EINVALID, "case.yaml:1:4: unknown anchor 'nope' referenced");
    expect_error("a: .inf\n", PL_EINVALID, "case.yaml:1:4: unsupported value .inf (no JSON form)");
}

static void test_yaml__duplicate_keys(void **state)
{
    (void)state;
    expect_error("a: 1\nb: 2\na: 3\n", PL_EINVALID,
                 "case.yaml:3:1: mapping key \"a\" already defined");
    /* quoted and plain spellings of one key collide, as in go-yaml v3 */
    expect_error("m:\n  \"10\": 1\n  '10': 2\n", PL_EINVALID,
                 "case.yaml:3:3: mapping key \"10\" already defined");
}

static void test_yaml__deep_nesting(void **state)
{
    pl_buf in = PL_BUF_INIT;
    json_t *docs = NULL;
    int code;

    (void)state;
    for (int i = 0; i < 5000; i++)
        pl_buf_putc(&in, '[');
    code = pl_yaml_parse(&docs, in.ptr, in.len, "deep.yaml", NULL);
    assert_int_equal(code, PL_ETOOBIG);
    assert_non_null(strstr(pl_error_last()->message, "nesting deeper than"));
    assert_null(docs);
    pl_buf_dispose(&in);
}

/* billion laughs, 9 levels of 9 aliases: 9^9 nodes if expanded */
static void test_yaml__alias_bomb(void **state)
{
    static const char bomb[] = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
                               "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                               "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                               "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                               "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                               "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                               "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
                               "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
                               "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    json_t *docs = NULL;
    clock_t t0 = clock();
    int code;

    (void)state;
    code = pl_yaml_parse(&docs, bomb, sizeof(bomb) - 1, "bomb.yaml", NULL);
    assert_int_equal(code, PL_ETOOBIG);
    assert_null(docs);
    assert_non_null(strstr(pl_error_last()->message, "bomb.yaml:"));
    /* stops long before expanding 387 million nodes */
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
}

static void test_yaml__alias_budget_option(void **state)
{
    static const char in[] = "a: &a [1, 2, 3]\nb: [*a, *a]\n";
    pl_yaml_opts opts = PL_YAML_OPTS_INIT;
    json_t *docs = NULL;

    (void)state;
    opts.max_nodes = 4; /* one expansion of *a is 4 nodes */
    assert_int_equal(pl_yaml_parse(&docs, in, sizeof(in) - 1, "x", &opts), PL_ETOOBIG);
    opts.max_nodes = 8;
    assert_int_equal(pl_yaml_parse(&docs, in, sizeof(in) - 1, "x", &opts), 0);
    assert_int_equal(json_array_size(json_object_get(json_array_get(docs, 0), "b")), 2);
    json_decref(docs);
}

static void test_yaml__max_bytes(void **state)
{
    pl_yaml_opts opts = PL_YAML_OPTS_INIT;
    json_t *docs = NULL;

    (void)state;
    opts.max_bytes = 4;
    assert_int_equal(pl_yaml_parse(&docs, "a: bcd\n", 7, "big.yaml", &opts), PL_ETOOBIG);
    assert_string_equal(pl_error_last()->message, "big.yaml: larger than 4 bytes");
}

static void test_yaml__documents(void **state)
{
    static const char in[] = "---\n---\na: 1\n---\n# only a comment\n---\nnull\n...\n---\nb: 2\n";
    json_t *docs = NULL;

    (void)state;
    assert_int_equal(pl_yaml_parse(&docs, in, sizeof(in) - 1, "x", NULL), 0);
    /* empty and null documents are no resources */
    assert_int_equal(json_array_size(docs), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(docs, 1), "b")), 2);
    json_decref(docs);
}

static void test_yaml__merge_keys(void **state)
{
    static const char in[] = "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n";
    json_t *docs = NULL;
    json_t *m;

    (void)state;
    assert_int_equal(pl_yaml_parse(&docs, in, sizeof(in) - 1, "x", NULL), 0);
    m = json_object_get(json_array_get(docs, 0), "m");
    assert_int_equal(json_integer_value(json_object_get(m, "x")), 1);
    assert_int_equal(json_integer_value(json_object_get(m, "y")), 3);
    assert_null(json_object_get(m, "<<"));
    json_decref(docs);
}

static void test_yaml__key_cmp(void **state)
{
    (void)state;
    assert_true(pl_yaml_key_cmp("a9", "a10") < 0);
    assert_true(pl_yaml_key_cmp("a10", "a9") > 0);
    assert_true(pl_yaml_key_cmp("a-b", "ab") < 0); /* letters after other runes */
    assert_true(pl_yaml_key_cmp("B", "a") < 0);
    assert_true(pl_yaml_key_cmp("1", "a") < 0);
    assert_true(pl_yaml_key_cmp("a1", "a01") < 0);
    assert_true(pl_yaml_key_cmp("x10", "x19") < 0);
    assert_true(pl_yaml_key_cmp("ab", "abc") < 0);
    assert_int_equal(pl_yaml_key_cmp("same", "same"), 0);
    assert_true(pl_yaml_key_cmp("é", "z") > 0);
    /* digit runs longer than int64 wrap as in Go instead of overflowing */
    assert_true(pl_yaml_key_cmp("k99999999999999999999999", "k1") != 0);
}

static void test_yaml__plain_is_nonstring(void **state)
{
    static const char *const nonstring[] = {"yes", "Off", "~", "", "0x1F", "0o17", "0b101",
                                            "1_000", "1e3", ".5", "+1", "-0", "2024-01-05",
                                            "2024-1-5T1:2:3Z", "99999999999999999999", "0b-1",
                                            NULL};
    static const char *const string[] = {"1e400", ".5e400", "0x", "1:20", "abc", "2024-02-30",
                                         "2024-01-05T10:00:00", "<<", "_1", "1,000",
                                         "0x99999999999999999999", NULL};

    (void)state;
    for (int i = 0; nonstring[i]; i++)
        assert_true(pl_yaml_plain_is_nonstring(nonstring[i], strlen(nonstring[i])));
    for (int i = 0; string[i]; i++)
        assert_false(pl_yaml_plain_is_nonstring(string[i], strlen(string[i])));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml__kustomize_table),
        cmocka_unit_test(test_yaml__emit_values),
        cmocka_unit_test(test_yaml__emit_stream_separator),
        cmocka_unit_test(test_yaml__kustomize_errors),
        cmocka_unit_test(test_yaml__malformed),
        cmocka_unit_test(test_yaml__duplicate_keys),
        cmocka_unit_test(test_yaml__deep_nesting),
        cmocka_unit_test(test_yaml__alias_bomb),
        cmocka_unit_test(test_yaml__alias_budget_option),
        cmocka_unit_test(test_yaml__max_bytes),
        cmocka_unit_test(test_yaml__documents),
        cmocka_unit_test(test_yaml__merge_keys),
        cmocka_unit_test(test_yaml__key_cmp),
        cmocka_unit_test(test_yaml__plain_is_nonstring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
