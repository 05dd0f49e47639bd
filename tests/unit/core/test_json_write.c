/* test_json_write.c - pl_json_write writes what json_dumps(v, JSON_COMPACT) writes. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plumb/core.h"

/* pl_json_write(v) must equal jansson's own compact text of v */
static void same_as_jansson(const json_t *v)
{
    pl_buf b = PL_BUF_INIT;
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

    assert_non_null(want);
    assert_int_equal(pl_json_write(&b, v), 0);
    assert_non_null(b.ptr);
    assert_string_equal(b.ptr, want);
    free(want); /* jansson's allocator */
    pl_buf_dispose(&b);
}

static void test_json_write__scalars(void **state)
{
    static const double reals[] = {0.0,     -0.0,     1.5,      3.0,       0.1,         1e16,
                                   1e17,    1e20,     1e-5,     1e-10,     1e300,       -2.5e-300,
                                   123456789.123, 1.0 / 3.0, 5e-324, 1.7976931348623157e308};
    static const json_int_t ints[] = {0, 1, -1, 42, LLONG_MAX, LLONG_MIN};
    (void)state;
    for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
        json_t *r = json_real(reals[i]);
        same_as_jansson(r);
        json_decref(r);
    }
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        json_t *n = json_integer(ints[i]);
        same_as_jansson(n);
        json_decref(n);
    }
    same_as_jansson(json_true());
    same_as_jansson(json_false());
    same_as_jansson(json_null());
}

static void test_json_write__strings(void **state)
{
    char all[64];
    (void)state;
    /* every control character, the quote, the backslash, the slash, DEL */
    for (int i = 1; i < 32; i++)
        all[i - 1] = (char)i;
    memcpy(all + 31, "\"\\/\x7f end", 9);
    json_t *s = json_stringn(all, 31 + 8);
    assert_non_null(s);
    same_as_jansson(s);
    json_decref(s);
    s = json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 plain"); /* é € 😀 stay UTF-8 */
    same_as_jansson(s);
    json_decref(s);
    s = json_stringn("nul\0inside", 10); /* \u0000 */
    same_as_jansson(s);
    json_decref(s);
    s = json_string("");
    same_as_jansson(s);
    json_decref(s);
}

/* The writer looks at 8 bytes at a time: every length up to 40, with one character that needs
 * an escape at every position (and with none), next to bytes on both sides of each boundary
 * the word test uses (0x1f/0x20, '"'/'#', '\\'/']'; UTF-8 bytes >= 0x80 are in the test above). */
static void test_json_write__escape_at_every_position(void **state)
{
    static const char specials[] = {'"', '\\', '\n', '\x01', '\x1f', '\0'};
    static const char filler[] = " #]~!\x7f[]";
    char text[48] = {0};
    (void)state;
    for (size_t len = 0; len <= 40; len++) {
        for (size_t k = 0; k < len; k++)
            text[k] = filler[k % (sizeof(filler) - 1)];
        json_t *plain = json_stringn(text, len);
        assert_non_null(plain);
        same_as_jansson(plain);
        json_decref(plain);
        for (size_t at = 0; at < len; at++) {
            for (size_t sp = 0; sp < sizeof(specials); sp++) {
                char keep = text[at];
                text[at] = specials[sp];
                json_t *s = json_stringn(text, len);
                assert_non_null(s);
                same_as_jansson(s);
                json_decref(s);
                text[at] = keep;
            }
        }
    }
}

static void test_json_write__containers_keep_insertion_order(void **state)
{
    (void)state;
    json_t *o = json_object();
    json_object_set_new(o, "zeta", json_integer(1));
    json_object_set_new(o, "alpha", json_array());
    json_object_set_new(o, "mid\"key\n", json_object());
    json_object_set_new(o, "gone", json_true());
    json_object_del(o, "gone");
    json_object_set_new(o, "back", json_pack("[i,s,n,b,f,{s:[]}]", 7, "x", 0, 1.25, "e"));
    same_as_jansson(o);
    pl_buf b = PL_BUF_INIT;
    assert_int_equal(pl_json_write(&b, o), 0);
    assert_string_equal(b.ptr, "{\"zeta\":1,\"alpha\":[],\"mid\\\"key\\n\":{},\"back\":"
                               "[7,\"x\",null,false,1.25,{\"e\":[]}]}");
    pl_buf_dispose(&b);
    json_decref(o);
}

static void test_json_write__a_stored_object(void **state)
{
    (void)state;
    const char *text =
        "{\"kind\":\"Deployment\",\"apiVersion\":\"apps/v1\",\"metadata\":{\"name\":\"web\","
        "\"namespace\":\"team-a\",\"uid\":\"8b1c\",\"resourceVersion\":\"42\",\"generation\":3,"
        "\"labels\":{\"app\":\"web\"},\"annotations\":{\"note\":\"a\\tb\\u0001\"},"
        "\"managedFields\":[{\"manager\":\"plumb\",\"operation\":\"Apply\",\"fieldsType\":"
        "\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{\"f:replicas\":{},\"k:{\\\"name\\\":\\\"web\\\"}\""
        ":{\".\":{}}}}}]},\"spec\":{\"replicas\":2,\"cpu\":0.25,\"paused\":false,\"x\":null},"
        "\"status\":{\"conditions\":[]}}";
    json_t *v = json_loads(text, 0, NULL);
    assert_non_null(v);
    same_as_jansson(v);
    json_decref(v);
}

static void test_json_write__depth_bound(void **state)
{
    (void)state;
    json_t *top = json_array(), *cur = top;
    for (int i = 0; i < 3000; i++) {
        json_t *next = json_array();
        json_array_append_new(cur, next);
        cur = next;
    }
    pl_buf b = PL_BUF_INIT;
    assert_int_equal(pl_json_write(&b, top), PL_EINVALID);
    pl_buf_dispose(&b);
    json_decref(top);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_write__scalars),
        cmocka_unit_test(test_json_write__strings),
        cmocka_unit_test(test_json_write__escape_at_every_position),
        cmocka_unit_test(test_json_write__containers_keep_insertion_order),
        cmocka_unit_test(test_json_write__a_stored_object),
        cmocka_unit_test(test_json_write__depth_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
