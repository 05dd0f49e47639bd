/*
 * test_patch.c - merge (RFC 7386), JSON (RFC 6902) and strategic merge patches, with the error
 * bodies of kubernetes/apiserver's patch handler (sb_patch.c header comment).
 */
#include "smd_test_util.h"

static json_t *patch_json_ok(const char *live, const char *ops)
{
    json_t *l = J(live), *o = J(ops), *out = NULL, *err = NULL;
    assert_int_equal(sb_patch_json(&out, &err, l, o), 0);
    assert_null(err);
    json_decref(l);
    json_decref(o);
    return out;
}

static void test_patch__merge(void **state)
{
    (void)state;
    json_t *l = J("{\"metadata\":{\"name\":\"c\",\"finalizers\":[\"a\"]},\"data\":{\"x\":\"1\","
                  "\"y\":\"2\"},\"l\":[1,2]}");
    json_t *p = J("{\"metadata\":{\"finalizers\":null},\"data\":{\"x\":null,\"z\":\"9\"},\"l\":[3],"
                  "\"n\":{\"a\":{\"b\":null,\"c\":1}}}");
    json_t *out = NULL, *err = NULL;
    assert_int_equal(sb_patch_merge(&out, &err, l, p), 0);
    assert_json(out, "{\"metadata\":{\"name\":\"c\"},\"data\":{\"y\":\"2\",\"z\":\"9\"},\"l\":[3],"
                     "\"n\":{\"a\":{\"c\":1}}}");
    json_decref(out);
    json_decref(p);
    p = J("[1]");
    assert_int_equal(sb_patch_merge(&out, &err, l, p), PL_EINVALID);
    assert_json_text(err, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                          "\"Failure\",\"message\":\"Invalid JSON Patch\",\"reason\":\"BadRequest\","
                          "\"code\":400}");
    json_decref(err);
    json_decref(p);
    json_decref(l);
}

static void test_patch__json_ops(void **state)
{
    (void)state;
    json_t *out = patch_json_ok(
        "{\"metadata\":{\"annotations\":{\"a/b\":\"1\",\"m~n\":\"2\"}},\"spec\":{\"l\":[1,2,3]}}",
        "[{\"op\":\"add\",\"path\":\"/spec/l/-\",\"value\":4},"
        "{\"op\":\"add\",\"path\":\"/spec/l/0\",\"value\":0},"
        "{\"op\":\"remove\",\"path\":\"/metadata/annotations/a~1b\"},"
        "{\"op\":\"replace\",\"path\":\"/metadata/annotations/m~0n\",\"value\":\"3\"},"
        "{\"op\":\"copy\",\"from\":\"/spec/l\",\"path\":\"/spec/k\"},"
        "{\"op\":\"move\",\"from\":\"/spec/l/1\",\"path\":\"/spec/first\"},"
        "{\"op\":\"test\",\"path\":\"/spec/first\",\"value\":1}]");
    assert_json(out, "{\"metadata\":{\"annotations\":{\"m~n\":\"3\"}},\"spec\":{\"l\":[0,2,3,4],"
                     "\"k\":[0,1,2,3,4],\"first\":1}}");
    json_decref(out);
}

static void test_patch__json_errors(void **state)
{
    (void)state;
    const char *failing[] = {
        "[{\"op\":\"test\",\"path\":\"/a\",\"value\":2}]",
        "[{\"op\":\"remove\",\"path\":\"/missing\"}]",
        "[{\"op\":\"replace\",\"path\":\"/missing\",\"value\":1}]",
        "[{\"op\":\"add\",\"path\":\"/no/parent\",\"value\":1}]",
        "[{\"op\":\"bogus\",\"path\":\"/a\"}]",
    };
    json_t *l = J("{\"a\":1}");
    for (size_t i = 0; i < sizeof(failing) / sizeof(failing[0]); i++) {
        json_t *o = J(failing[i]), *out = NULL, *err = NULL;
        assert_int_equal(sb_patch_json(&out, &err, l, o), PL_EINVALID);
        assert_null(out);
        assert_json_text(err, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                              "\"status\":\"Failure\",\"message\":\"the server rejected our "
                              "request due to an error in our request\",\"reason\":\"Invalid\","
                              "\"details\":{},\"code\":422}");
        json_decref(err);
        json_decref(o);
    }
    json_t *o = J("{\"op\":\"add\"}"), *out = NULL, *err = NULL;
    assert_int_equal(sb_patch_json(&out, &err, l, o), PL_EINVALID);
    assert_string_equal(json_string_value(json_object_get(err, "message")),
                        "json: cannot unmarshal object into Go value of type jsonpatch.Patch");
    assert_int_equal(json_integer_value(json_object_get(err, "code")), 400);
    json_decref(err);
    json_decref(o);
    o = json_array();
    for (int i = 0; i < 10001; i++)
        json_array_append_new(o, json_pack("{s:s,s:s,s:i}", "op", "add", "path", "/x", "value", i));
    assert_int_equal(sb_patch_json(&out, &err, l, o), PL_ETOOBIG);
    assert_json_text(err, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                          "\"Failure\",\"message\":\"Request entity too large: The allowed maximum "
                          "operations in a JSON patch is 10000, got 10001\",\"reason\":"
                          "\"RequestEntityTooLarge\",\"code\":413}");
    json_decref(err);
    json_decref(o);
    json_decref(l);
}

static void test_patch__strategic(void **state)
{
    (void)state;
    sb_schema *s = sb_schema_builtin("apps", "Deployment");
    json_t *l = J("{\"metadata\":{\"name\":\"web\",\"finalizers\":[\"a\"],\"labels\":{\"x\":\"1\"}},"
                  "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":"
                  "\"nginx:1\",\"ports\":[{\"containerPort\":80,\"name\":\"http\"}],\"args\":[\"-a\"]},"
                  "{\"name\":\"side\",\"image\":\"busybox\"}],\"tolerations\":[{\"key\":\"k\"}]}}}}");
    json_t *p = J("{\"metadata\":{\"finalizers\":[\"b\"],\"labels\":{\"x\":null,\"y\":\"2\"}},"
                  "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":"
                  "\"nginx:2\",\"ports\":[{\"containerPort\":443}],\"args\":[\"-b\"]},{\"name\":\"side\","
                  "\"$patch\":\"delete\"},{\"name\":\"new\",\"image\":\"x\"}],\"tolerations\":[{\"key\":"
                  "\"j\"}]}}}}");
    json_t *out = NULL, *err = NULL;
    assert_int_equal(sb_patch_strategic(&out, &err, s, l, p), 0);
    assert_json(out, "{\"metadata\":{\"name\":\"web\",\"finalizers\":[\"a\",\"b\"],\"labels\":{"
                     "\"y\":\"2\"}},\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":"
                     "\"web\",\"image\":\"nginx:2\",\"ports\":[{\"containerPort\":80,\"name\":"
                     "\"http\"},{\"containerPort\":443}],\"args\":[\"-b\"]},{\"name\":\"new\","
                     "\"image\":\"x\"}],\"tolerations\":[{\"key\":\"j\"}]}}}}");
    json_decref(out);
    json_decref(p);

    /* directives: $deleteFromPrimitiveList, $setElementOrder, $retainKeys, $patch: replace */
    p = J("{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"a\"]},\"spec\":{\"template\":"
          "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"side\"},{\"name\":\"web\"}],"
          "\"containers\":[{\"name\":\"web\",\"$retainKeys\":[\"name\",\"image\"],\"image\":"
          "\"nginx:3\"}]}}}}");
    assert_int_equal(sb_patch_strategic(&out, &err, s, l, p), 0);
    assert_json(out, "{\"metadata\":{\"name\":\"web\",\"finalizers\":[],\"labels\":{\"x\":\"1\"}},"
                     "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"side\",\"image\":"
                     "\"busybox\"},{\"name\":\"web\",\"image\":\"nginx:3\"}],\"tolerations\":[{"
                     "\"key\":\"k\"}]}}}}");
    json_decref(out);
    json_decref(p);
    p = J("{\"metadata\":{\"labels\":{\"$patch\":\"replace\",\"z\":\"1\"}}}");
    assert_int_equal(sb_patch_strategic(&out, &err, s, l, p), 0);
    assert_json(pl_json_path(out, "metadata", "labels", NULL), "{\"z\":\"1\"}");
    json_decref(out);
    json_decref(p);
    p = J("[]");
    assert_int_equal(sb_patch_strategic(&out, &err, s, l, p), PL_EINVALID);
    assert_int_equal(json_integer_value(json_object_get(err, "code")), 400);
    json_decref(err);
    json_decref(p);
    json_decref(l);
    sb_schema_free(s);

    /* Service ports merge by port (patchMergeKey), not by port+protocol */
    s = sb_schema_builtin("", "Service");
    l = J("{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080}]}}");
    p = J("{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9090}]}}");
    assert_int_equal(sb_patch_strategic(&out, &err, s, l, p), 0);
    assert_json(out, "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9090}]}}");
    json_decref(out);
    json_decref(p);
    json_decref(l);
    sb_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_patch__merge),
        cmocka_unit_test(test_patch__json_ops),
        cmocka_unit_test(test_patch__json_errors),
        cmocka_unit_test(test_patch__strategic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
