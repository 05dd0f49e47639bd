/*
 * test_fieldset.c - FieldsV1 sets (API-NOTES §4.6): parsing and serialising with the "."
 * marker and SMD key order, set operations, and the dotted rendering used in conflicts.
 */
#include "smd_test_util.h"
#include "sb_smd.h"

static sb_fs *FS(const char *text)
{
    json_t *j = J(text);
    sb_fs *s = NULL;
    assert_int_equal(sb_fs_from_json(&s, j), 0);
    json_decref(j);
    return s;
}

static void check(const sb_fs *s, const char *want)
{
    json_t *j = sb_fs_to_json(s);
    assert_json_text(j, want);
    json_decref(j);
}

static void test_fieldset__order_and_dot(void **state)
{
    (void)state;
    /* input deliberately unordered: v: before k: before f:, numbers as SMD orders them */
    sb_fs *s = FS("{\"v:\\\"b\\\"\":{},\"f:z\":{},\"k:{\\\"port\\\":443}\":{\"f:name\":{}},"
                  "\"k:{\\\"port\\\":80}\":{\".\":{},\"f:name\":{}},\"f:a\":{\"f:x\":{},\".\":{}},"
                  "\"i:2\":{},\"v:\\\"a\\\"\":{}}");
    check(s, "{\"f:a\":{\".\":{},\"f:x\":{}},\"f:z\":{},\"k:{\\\"port\\\":80}\":{\".\":{},"
             "\"f:name\":{}},\"k:{\\\"port\\\":443}\":{\"f:name\":{}},\"v:\\\"a\\\"\":{},"
             "\"v:\\\"b\\\"\":{},\"i:2\":{}}");
    assert_int_equal(sb_fs_count(s), 9);
    sb_fs_free(s);
}

static void test_fieldset__set_ops(void **state)
{
    (void)state;
    sb_fs *a = FS("{\"f:spec\":{\"f:replicas\":{},\"f:selector\":{}},\"f:data\":{\".\":{},\"f:a\":{}}}");
    sb_fs *b = FS("{\"f:spec\":{\"f:replicas\":{}},\"f:data\":{\"f:b\":{}}}");
    sb_fs *i = sb_fs_intersect(a, b);
    check(i, "{\"f:spec\":{\"f:replicas\":{}}}");
    sb_fs *u = sb_fs_dup(a);
    assert_int_equal(sb_fs_union_into(u, b), 0);
    check(u, "{\"f:data\":{\".\":{},\"f:a\":{},\"f:b\":{}},\"f:spec\":{\"f:replicas\":{},"
             "\"f:selector\":{}}}");
    sb_fs_diff_into(u, b);
    check(u, "{\"f:data\":{\".\":{},\"f:a\":{}},\"f:spec\":{\"f:selector\":{}}}");
    /* exact difference keeps children of a removed member; recursive difference does not */
    sb_fs *d = FS("{\"f:data\":{}}");
    sb_fs *u2 = sb_fs_dup(u);
    sb_fs_diff_into(u, d);
    check(u, "{\"f:data\":{\"f:a\":{}},\"f:spec\":{\"f:selector\":{}}}");
    sb_fs_rdiff_into(u2, d);
    check(u2, "{\"f:spec\":{\"f:selector\":{}}}");
    assert_true(sb_fs_empty(NULL));
    sb_fs *e = sb_fs_intersect(d, b);
    assert_true(sb_fs_empty(e));
    check(e, "{}");
    sb_fs_free(a);
    sb_fs_free(b);
    sb_fs_free(i);
    sb_fs_free(u);
    sb_fs_free(u2);
    sb_fs_free(d);
    sb_fs_free(e);
}

typedef struct acc {
    pl_buf out;
} acc;

static int render(const sb_pe *path, size_t n, void *payload)
{
    acc *a = payload;
    if (a->out.len)
        pl_buf_putc(&a->out, '|');
    return sb_path_render(&a->out, path, n);
}

static void test_fieldset__render(void **state)
{
    (void)state;
    sb_fs *s = FS("{\"f:spec\":{\"f:template\":{\"f:spec\":{\"f:containers\":{"
                  "\"k:{\\\"name\\\":\\\"web\\\"}\":{\"f:image\":{}}}}},\"f:ports\":{"
                  "\"k:{\\\"port\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\"f:targetPort\":{}}}},"
                  "\"f:metadata\":{\"f:finalizers\":{\"v:\\\"example.com/x\\\"\":{}}},"
                  "\"f:list\":{\"i:3\":{}}}");
    acc a = {PL_BUF_INIT};
    assert_int_equal(sb_fs_each(s, render, &a), 0);
    assert_string_equal(a.out.ptr, ".list[3]|.metadata.finalizers[=\"example.com/x\"]|"
                                   ".spec.ports[port=80,protocol=\"TCP\"].targetPort|"
                                   ".spec.template.spec.containers[name=\"web\"].image");
    pl_buf_dispose(&a.out);
    sb_fs_free(s);
}

static void test_fieldset__malformed(void **state)
{
    (void)state;
    const char *bad[] = {"[]", "{\"x:y\":{}}", "{\"f:a\":1}", "{\"k:notjson\":{}}", "{\"i:x\":{}}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = J(bad[i]);
        sb_fs *s = NULL;
        assert_int_equal(sb_fs_from_json(&s, j), PL_EINVALID);
        assert_null(s);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fieldset__order_and_dot),
        cmocka_unit_test(test_fieldset__set_ops),
        cmocka_unit_test(test_fieldset__render),
        cmocka_unit_test(test_fieldset__malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
