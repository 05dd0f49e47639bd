/*
 * test_schema.c - CRD structural schemas (API-NOTES §7.2): the structural check, pruning with
 * `unknown field` warnings, defaults, and validation causes formatted as §6.2.
 */
#include "smd_test_util.h"

static const char *widget_schema =
    "{\"type\":\"object\",\"properties\":{\"spec\":{\"type\":\"object\",\"required\":[\"size\"],"
    "\"properties\":{\"size\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10},\"color\":{"
    "\"type\":\"string\",\"enum\":[\"red\",\"blue\"],\"default\":\"red\"},\"name\":{\"type\":"
    "\"string\",\"pattern\":\"^[a-z]+$\",\"maxLength\":5},\"port\":{\"x-kubernetes-int-or-string\":"
    "true},\"extra\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true},"
    "\"items\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"k\":{"
    "\"type\":\"string\"}}}},\"opts\":{\"type\":\"object\",\"default\":{},\"properties\":{"
    "\"retries\":{\"type\":\"integer\",\"default\":3}}}}},\"status\":{\"type\":\"object\","
    "\"x-kubernetes-preserve-unknown-fields\":true}}}";

static void test_schema__structural_check(void **state)
{
    (void)state;
    json_t *bad = J("{\"type\":\"object\",\"properties\":{\"spec\":{\"properties\":{}}}}");
    assert_null(sb_schema_from_openapi(bad));
    assert_string_equal(pl_error_last()->message,
                        "openAPIV3Schema.properties[spec].type: Required value: must not be empty "
                        "for specified object fields");
    json_decref(bad);
    bad = J("{\"properties\":{}}");
    assert_null(sb_schema_from_openapi(bad));
    assert_string_equal(pl_error_last()->message,
                        "openAPIV3Schema.type: Required value: must not be empty at the root");
    json_decref(bad);
    json_t *ok = J(widget_schema);
    sb_schema *s = sb_schema_from_openapi(ok);
    assert_non_null(s);
    sb_schema_free(s);
    json_decref(ok);
}

static void test_schema__prune_default_validate(void **state)
{
    (void)state;
    json_t *js = J(widget_schema);
    sb_schema *s = sb_schema_from_openapi(js);
    json_t *obj = J("{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{"
                    "\"name\":\"w\",\"labels\":{\"a\":\"b\"}},\"spec\":{\"size\":\"string\","
                    "\"foo\":1,\"port\":\"http\",\"extra\":{\"anything\":{\"x\":1}},\"items\":[{"
                    "\"k\":\"v\",\"junk\":true}]},\"status\":{\"free\":1}}");
    json_t *dropped = json_array(), *causes = json_array();
    assert_int_equal(sb_schema_prune_default_validate(s, obj, dropped, causes), 0);
    assert_json_text(dropped, "[\"unknown field \\\"spec.foo\\\"\",\"unknown field "
                              "\\\"spec.items[0].junk\\\"\"]");
    assert_json(obj, "{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{"
                     "\"name\":\"w\",\"labels\":{\"a\":\"b\"}},\"spec\":{\"size\":\"string\","
                     "\"port\":\"http\",\"extra\":{\"anything\":{\"x\":1}},\"items\":[{\"k\":\"v\"}],"
                     "\"color\":\"red\",\"opts\":{\"retries\":3}},\"status\":{\"free\":1}}");
    assert_json_text(causes, "[{\"reason\":\"FieldValueTypeInvalid\",\"message\":\"Invalid value: "
                             "\\\"string\\\": spec.size in body must be of type integer: "
                             "\\\"string\\\"\",\"field\":\"spec.size\"}]");
    json_decref(obj);
    json_decref(dropped);
    json_decref(causes);

    obj = J("{\"spec\":{\"color\":\"green\",\"name\":\"Abcdefg\",\"port\":1.5,\"opts\":{\"retries\":"
            "null}}}");
    causes = json_array();
    assert_int_equal(sb_schema_prune_default_validate(s, obj, NULL, causes), 0);
    assert_json(json_object_get(obj, "spec"),
                "{\"color\":\"green\",\"name\":\"Abcdefg\",\"port\":1.5,\"opts\":{\"retries\":3}}");
    assert_json_text(
        causes,
        "[{\"reason\":\"FieldValueRequired\",\"message\":\"Required value\",\"field\":\"spec.size\"},"
        "{\"reason\":\"FieldValueNotSupported\",\"message\":\"Unsupported value: \\\"green\\\": "
        "supported values: \\\"red\\\", \\\"blue\\\"\",\"field\":\"spec.color\"},"
        "{\"reason\":\"FieldValueTooLong\",\"message\":\"Too long: may not be more than 5 bytes\","
        "\"field\":\"spec.name\"},"
        "{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"Abcdefg\\\": spec.name "
        "in body should match '^[a-z]+$'\",\"field\":\"spec.name\"},"
        "{\"reason\":\"FieldValueTypeInvalid\",\"message\":\"Invalid value: \\\"number\\\": "
        "spec.port in body must be of type integer,string: \\\"number\\\"\",\"field\":\"spec.port\"}]");
    json_decref(obj);
    json_decref(causes);

    obj = J("{\"spec\":{\"size\":0}}");
    causes = json_array();
    sb_schema_prune_default_validate(s, obj, NULL, causes);
    assert_json_text(causes, "[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: 0: "
                             "spec.size in body should be greater than or equal to 1\",\"field\":"
                             "\"spec.size\"}]");
    json_decref(obj);
    json_decref(causes);
    sb_schema_free(s);
    json_decref(js);
}

static void test_schema__builtin_keys(void **state)
{
    (void)state;
    /* every pod template carries the container list-map (checked through an apply set) */
    const char *kinds[][3] = {
        {"apps", "StatefulSet", "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}}}"},
        {"batch", "CronJob", "{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{"
                             "\"containers\":[{\"name\":\"c\"}]}}}}}}"},
    };
    for (size_t i = 0; i < 2; i++) {
        sb_schema *s = sb_schema_builtin(kinds[i][0], kinds[i][1]);
        json_t *in = J(kinds[i][2]), *out = NULL, *err = NULL;
        json_object_set_new(in, "metadata", json_pack("{s:s}", "name", "x"));
        sb_fm_opts o = {"m", "v1", NULL, 0, "2024-05-01T10:00:00Z"};
        assert_int_equal(sb_ssa_apply(&out, &err, s, NULL, in, &o, 1, "x"), 0);
        char *t = json_dumps(pl_json_path(out, "metadata", "managedFields", NULL), JSON_COMPACT);
        assert_non_null(strstr(t, "\"f:containers\":{\"k:{\\\"name\\\":\\\"c\\\"}\":{\".\":{},"
                                  "\"f:name\":{}}}"));
        free(t);
        json_decref(out);
        json_decref(in);
        sb_schema_free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema__structural_check),
        cmocka_unit_test(test_schema__prune_default_validate),
        cmocka_unit_test(test_schema__builtin_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
