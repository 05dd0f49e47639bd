/* test_store_text.c - the store's serialised text of an object and its type-meta prefix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sb_api_int.h"

static void test_store_text__prefix(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:s,s:s,s:{s:s}}", "kind", "ConfigMap", "apiVersion", "v1",
                          "metadata", "name", "x");
    sb_text *t = sb_text_new(v);
    assert_non_null(t);
    assert_string_equal(t->s, "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":"
                              "{\"name\":\"x\"}}");
    /* the bytes after the brace that hold kind, apiVersion and their comma */
    assert_int_equal(t->tm_len, strlen("{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\""));
    sb_text_unref(t);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_text__prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
