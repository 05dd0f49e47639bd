/*
 * test_ssa.c - server-side apply and managedFields against API-NOTES §4.3-4.8: the §4.6 example,
 * the whole §4.7 worked example step by step, shared ownership, multi-manager conflicts,
 * before-first-apply, typed-conversion failures, Update ownership and the 10-entry cap.
 */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include "smd_test_util.h"

#define T1 "2024-05-01T10:00:00Z"
#define T2 "2024-05-01T10:01:00Z"
#define T3 "2024-05-01T10:02:00Z"
#define T4 "2024-05-01T10:03:00Z"
#define T5 "2024-05-01T10:04:00Z"
#define T6 "2024-05-01T10:05:00Z"

#define DEPLOY_CTX "demo/web; apps/v1, Kind=Deployment"

static const char *intent_web =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
    "\"namespace\":\"demo\",\"labels\":{\"app\":\"web\",\"tier\":\"fe\"}},\"spec\":{\"replicas\":2,"
    "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{"
    "\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.25\","
    "\"ports\":[{\"containerPort\":80}]}]}}}}";

/* E1's fieldsV1 of §4.7, with and without f:replicas / f:tier */
#define E1_TEMPLATE                                                                              \
    "\"f:template\":{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{\"f:containers\":{" \
    "\"k:{\\\"name\\\":\\\"web\\\"}\":{\".\":{},\"f:image\":{},\"f:name\":{},\"f:ports\":{"     \
    "\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},"                  \
    "\"f:containerPort\":{}}}}}}}"
#define E1_FIELDS                                                                                \
    "{\"f:metadata\":{\"f:labels\":{\"f:app\":{},\"f:tier\":{}}},\"f:spec\":{\"f:replicas\":{}," \
    "\"f:selector\":{}," E1_TEMPLATE "}}"
#define E1_FIELDS_NO_REPLICAS                                                                    \
    "{\"f:metadata\":{\"f:labels\":{\"f:app\":{},\"f:tier\":{}}},\"f:spec\":{"                   \
    "\"f:selector\":{}," E1_TEMPLATE "}}"
#define E1_FIELDS_NO_TIER                                                                        \
    "{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{\"f:replicas\":{},"               \
    "\"f:selector\":{}," E1_TEMPLATE "}}"
#define ENTRY(mgr, op, gv, time, fields)                                                         \
    "{\"manager\":\"" mgr "\",\"operation\":\"" op "\",\"apiVersion\":\"" gv "\",\"time\":\""   \
    time "\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":" fields "}"

static sb_fm_opts opts(const char *manager, const char *gv, const char *now, int force)
{
    sb_fm_opts o = {manager, gv, NULL, force, now};
    return o;
}

static json_t *mf_of(const json_t *obj)
{
    return pl_json_path(obj, "metadata", "managedFields", NULL);
}

static json_t *apply_ok(const sb_schema *s, const json_t *live, const char *intent,
                        sb_fm_opts o)
{
    json_t *out = NULL, *err = NULL, *in = J(intent);
    int rc = sb_ssa_apply(&out, &err, s, live, in, &o, 1, DEPLOY_CTX);
    if (rc != 0) {
        char *t = err ? json_dumps(err, JSON_COMPACT) : NULL;
        fprintf(stderr, "apply failed %d: %s %s\n", rc, pl_error_last()->message, t ? t : "");
        free(t);
    }
    assert_int_equal(rc, 0);
    assert_null(err);
    json_decref(in);
    return out;
}

/* ---- §4.6: the ConfigMap example ---------------------------------------------------------- */

static const char *cm_intent =
    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\",\"namespace\":"
    "\"default\",\"labels\":{\"app\":\"x\"},\"finalizers\":[\"example.com/f\"]},\"data\":{\"a\":"
    "\"1\"}}";

static void test_ssa__apply_set_configmap(void **state)
{
    (void)state;
    sb_schema *s = sb_schema_builtin("", "ConfigMap");
    sb_fm_opts o = opts("gitops", "v1", T1, 0);
    json_t *out = NULL, *err = NULL, *in = J(cm_intent);
    assert_int_equal(sb_ssa_apply(&out, &err, s, NULL, in, &o, 0, "default/cfg; /v1, Kind=ConfigMap"), 0);
    assert_json_text(mf_of(out),
                     "[" ENTRY("gitops", "Apply", "v1", T1,
                               "{\"f:data\":{\"f:a\":{}},\"f:metadata\":{\"f:finalizers\":{"
                               "\"v:\\\"example.com/f\\\"\":{}},\"f:labels\":{\"f:app\":{}}}}") "]");
    /* the object is the intent plus managedFields */
    json_object_del(json_object_get(out, "metadata"), "managedFields");
    assert_true(json_equal(out, in));
    json_decref(out);
    json_decref(in);
    sb_schema_free(s);
}

static void test_ssa__create_by_update_configmap(void **state)
{
    (void)state;
    sb_schema *s = sb_schema_builtin("", "ConfigMap");
    sb_fm_opts o = opts("kubectl-create", "v1", T1, 0);
    json_t *obj = J(cm_intent);
    assert_int_equal(sb_ssa_update(obj, s, NULL, &o), 0);
    assert_json_text(mf_of(obj),
                     "[" ENTRY("kubectl-create", "Update", "v1", T1,
                               "{\"f:data\":{\".\":{},\"f:a\":{}},\"f:metadata\":{\"f:finalizers\":{"
                               "\".\":{},\"v:\\\"example.com/f\\\"\":{}},\"f:labels\":{\".\":{},"
                               "\"f:app\":{}}}}") "]");
    json_decref(obj);
    sb_schema_free(s);
}

/* ---- §4.7 worked example ------------------------------------------------------------------ */

static void test_ssa__worked_example(void **state)
{
    (void)state;
    sb_schema *s = sb_schema_builtin("apps", "Deployment");

    /* (1) create by apply */
    json_t *live1 = apply_ok(s, NULL, intent_web, opts("gitops", "apps/v1", T1, 0));
    assert_json_text(mf_of(live1), "[" ENTRY("gitops", "Apply", "apps/v1", T1, E1_FIELDS) "]");
    assert_int_equal(json_integer_value(pl_json_path(live1, "spec", "replicas", NULL)), 2);

    /* (2) kubectl edit: replicas 5 (a PUT of the GET result, managedFields included) */
    json_t *live2 = json_deep_copy(live1);
    json_object_set_new(pl_json_path(live2, "spec", NULL), "replicas", json_integer(5));
    sb_fm_opts edit = opts("kubectl-edit", "apps/v1", T2, 0);
    assert_int_equal(sb_ssa_update(live2, s, live1, &edit), 0);
    assert_json_text(mf_of(live2),
                     "[" ENTRY("gitops", "Apply", "apps/v1", T1, E1_FIELDS_NO_REPLICAS) "," ENTRY(
                         "kubectl-edit", "Update", "apps/v1", T2, "{\"f:spec\":{\"f:replicas\":{}}}") "]");

    /* (3) re-apply without force: 409 */
    json_t *out = NULL, *err = NULL, *in = J(intent_web);
    sb_fm_opts o3 = opts("gitops", "apps/v1", T3, 0);
    assert_int_equal(sb_ssa_apply(&out, &err, s, live2, in, &o3, 1, DEPLOY_CTX), PL_ECONFLICT);
    assert_null(out);
    assert_json_text(
        err, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
             "\"message\":\"Apply failed with 1 conflict: conflict with \\\"kubectl-edit\\\" using "
             "apps/v1: .spec.replicas\",\"reason\":\"Conflict\",\"details\":{\"causes\":[{\"reason\":"
             "\"FieldManagerConflict\",\"message\":\"conflict with \\\"kubectl-edit\\\" using "
             "apps/v1\",\"field\":\".spec.replicas\"}]},\"code\":409}");
    json_decref(err);
    json_decref(in);

    /* had the intent said replicas 5: no conflict, shared ownership */
    json_t *shared = J(intent_web);
    json_object_set_new(pl_json_path(shared, "spec", NULL), "replicas", json_integer(5));
    char *shared_text = json_dumps(shared, JSON_COMPACT);
    json_t *live_sh = apply_ok(s, live2, shared_text, opts("gitops", "apps/v1", T3, 0));
    assert_json_text(mf_of(live_sh),
                     "[" ENTRY("gitops", "Apply", "apps/v1", T1, E1_FIELDS) "," ENTRY(
                         "kubectl-edit", "Update", "apps/v1", T2, "{\"f:spec\":{\"f:replicas\":{}}}") "]");
    free(shared_text);
    json_decref(shared);
    json_decref(live_sh);

    /* (4) force: replicas 2, f:replicas back in E1, kubectl-edit's entry disappears */
    json_t *live4 = apply_ok(s, live2, intent_web, opts("gitops", "apps/v1", T4, 1));
    assert_int_equal(json_integer_value(pl_json_path(live4, "spec", "replicas", NULL)), 2);
    assert_json_text(mf_of(live4), "[" ENTRY("gitops", "Apply", "apps/v1", T4, E1_FIELDS) "]");

    /* (5) drop tier: gitops was the only owner, so the label goes */
    json_t *i5 = J(intent_web);
    json_object_del(pl_json_path(i5, "metadata", "labels", NULL), "tier");
    char *i5t = json_dumps(i5, JSON_COMPACT);
    json_t *live5 = apply_ok(s, live4, i5t, opts("gitops", "apps/v1", T5, 0));
    assert_json(pl_json_path(live5, "metadata", "labels", NULL), "{\"app\":\"web\"}");
    assert_json_text(mf_of(live5), "[" ENTRY("gitops", "Apply", "apps/v1", T5, E1_FIELDS_NO_TIER) "]");

    /* no-op re-apply: identical object, time untouched */
    json_t *live6 = apply_ok(s, live5, i5t, opts("gitops", "apps/v1", T6, 0));
    assert_true(json_equal(live6, live5));
    assert_true(sb_obj_equal_ignoring_times(live6, live5));

    /* a second applier sending the same value co-owns it: no conflict, no time (§4.2) */
    json_t *co = apply_ok(s, live5,
                          "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
                          "\"name\":\"web\",\"namespace\":\"demo\"},\"spec\":{\"replicas\":2}}",
                          opts("other", "apps/v1", T6, 0));
    assert_json_text(
        mf_of(co), "[{\"manager\":\"other\",\"operation\":\"Apply\",\"apiVersion\":\"apps/v1\","
                   "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{\"f:replicas\":{}}}}," ENTRY(
                       "gitops", "Apply", "apps/v1", T5, E1_FIELDS_NO_TIER) "]");
    /* ... and when gitops stops sending replicas, the value stays (still owned by other) */
    json_t *i7 = J(i5t);
    json_object_del(json_object_get(i7, "spec"), "replicas");
    char *i7t = json_dumps(i7, JSON_COMPACT);
    json_t *live7 = apply_ok(s, co, i7t, opts("gitops", "apps/v1", T6, 0));
    assert_int_equal(json_integer_value(pl_json_path(live7, "spec", "replicas", NULL)), 2);
    /* whereas "other" dropping it now (sole owner) removes it */
    json_t *live8 = apply_ok(s, live7,
                             "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
                             "\"name\":\"web\",\"namespace\":\"demo\",\"labels\":{\"x\":\"1\"}}}",
                             opts("other", "apps/v1", T6, 0));
    assert_null(pl_json_path(live8, "spec", "replicas", NULL));
    assert_non_null(pl_json_path(live8, "spec", "template", NULL));

    free(i5t);
    free(i7t);
    json_decref(i5);
    json_decref(i7);
    json_decref(live1);
    json_decref(live2);
    json_decref(live4);
    json_decref(live5);
    json_decref(live6);
    json_decref(live7);
    json_decref(live8);
    json_decref(co);
    sb_schema_free(s);
}

static void test_ssa__multi_manager_conflict(void **state)
{
    (void)state;
    sb_schema *s = sb_schema_builtin("apps", "Deployment");
    json_t *live = J(
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
        "\"namespace\":\"demo\",\"managedFields\":[" ENTRY("hpa-controller", "Apply", "apps/v1", T1,
                                                          "{\"f:spec\":{\"f:replicas\":{}}}") "," ENTRY(
            "kubectl-client-side-apply", "Update", "apps/v1", T1,
            "{\"f:spec\":{\"f:template\":{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"web\\\"}\":{"
            "\".\":{},\"f:image\":{},\"f:name\":{}}}}}}}") "]},\"spec\":{\"replicas\":3,\"template\":{\"spec\":"
        "{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.24\"}]}}}}");
    json_t *in = J("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":"
                   "\"web\",\"namespace\":\"demo\"},\"spec\":{\"replicas\":2,\"template\":{\"spec\":"
                   "{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.25\"}]}}}}");
    json_t *out = NULL, *err = NULL;
    sb_fm_opts o = opts("gitops", "apps/v1", T2, 0);
    assert_int_equal(sb_ssa_apply(&out, &err, s, live, in, &o, 1, DEPLOY_CTX), PL_ECONFLICT);
    assert_string_equal(
        json_string_value(json_object_get(err, "message")),
        "Apply failed with 2 conflicts: conflicts with \"hpa-controller\":\n- .spec.replicas\n"
        "conflicts with \"kubectl-client-side-apply\" using apps/v1:\n- "
        ".spec.template.spec.containers[name=\"web\"].image");
    assert_json(pl_json_path(err, "details", NULL),
                "{\"causes\":[{\"reason\":\"FieldManagerConflict\",\"message\":\"conflict with "
                "\\\"hpa-controller\\\"\",\"field\":\".spec.replicas\"},{\"reason\":"
                "\"FieldManagerConflict\",\"message\":\"conflict with "
                "\\\"kubectl-client-side-apply\\\" using apps/v1\",\"field\":"
                "\".spec.template.spec.containers[name=\\\"web\\\"].image\"}]}");
    json_decref(err);

    /* force: both lose exactly the conflicting paths and keep their times */
    o.force = 1;
    assert_int_equal(sb_ssa_apply(&out, &err, s, live, in, &o, 1, DEPLOY_CTX), 0);
    assert_json_text(
        mf_of(out),
        "[" ENTRY("gitops", "Apply", "apps/v1", T2,
                  "{\"f:spec\":{\"f:replicas\":{},\"f:template\":{\"f:spec\":{\"f:containers\":{"
                  "\"k:{\\\"name\\\":\\\"web\\\"}\":{\".\":{},\"f:image\":{},\"f:name\":{}}}}}}}") "," ENTRY(
            "kubectl-client-side-apply", "Update", "apps/v1", T1,
            "{\"f:spec\":{\"f:template\":{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"web\\\"}\":{"
            "\".\":{},\"f:name\":{}}}}}}}") "]");
    json_decref(out);
    json_decref(in);
    json_decref(live);
    sb_schema_free(s);
}

static void test_ssa__before_first_apply(void **state)
{
    (void)state;
    sb_schema *s = sb_schema_builtin("", "ConfigMap");
    json_t *live = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\","
                     "\"namespace\":\"default\",\"uid\":\"u1\",\"resourceVersion\":\"5\","
                     "\"creationTimestamp\":\"" T1 "\"},\"data\":{\"a\":\"1\",\"b\":\"2\"}}");
    json_t *in = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\","
                   "\"namespace\":\"default\"},\"data\":{\"a\":\"9\"}}");
    json_t *out = NULL, *err = NULL;
    sb_fm_opts o = opts("kubectl", "v1", T2, 0);
    assert_int_equal(sb_ssa_apply(&out, &err, s, live, in, &o, 0, "default/cfg; /v1, Kind=ConfigMap"),
                     PL_ECONFLICT);
    assert_string_equal(json_string_value(json_object_get(err, "message")),
                        "Apply failed with 1 conflict: conflict with \"before-first-apply\" using "
                        "v1: .data.a");
    json_decref(err);
    o.force = 1;
    assert_int_equal(sb_ssa_apply(&out, &err, s, live, in, &o, 0, "x"), 0);
    assert_json(json_object_get(out, "data"), "{\"a\":\"9\",\"b\":\"2\"}");
    assert_json_text(mf_of(out),
                     "[" ENTRY("kubectl", "Apply", "v1", T2, "{\"f:data\":{\"f:a\":{}}}") "," ENTRY(
                         "before-first-apply", "Update", "v1", T2, "{\"f:data\":{\".\":{},\"f:b\":{}}}") "]");
    json_decref(out);
    json_decref(in);
    json_decref(live);
    sb_schema_free(s);
}

static void test_ssa__typed_errors(void **state)
{
    (void)state;
    sb_schema *s = sb_schema_builtin("apps", "Deployment");
    json_t *in = J("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":"
                   "\"web\",\"namespace\":\"demo\"},\"spec\":{\"template\":{\"spec\":{"
                   "\"containers\":[{\"name\":\"web\",\"image\":\"a\"},{\"name\":\"web\","
                   "\"image\":\"b\"}]}}}}");
    json_t *out = NULL, *err = NULL;
    sb_fm_opts o = opts("gitops", "apps/v1", T1, 0);
    assert_int_equal(sb_ssa_apply(&out, &err, s, NULL, in, &o, 1, DEPLOY_CTX), PL_EINVALID);
    assert_json_text(err, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                          "\"Failure\",\"message\":\"failed to create typed patch object (" DEPLOY_CTX
                          "): .spec.template.spec.containers: duplicate entries for key "
                          "[name=\\\"web\\\"]\",\"code\":500}");
    json_decref(err);
    json_decref(in);
    sb_schema_free(s);

    /* CR: undeclared field (not preserved) */
    json_t *oa = J("{\"type\":\"object\",\"properties\":{\"spec\":{\"type\":\"object\","
                   "\"properties\":{\"size\":{\"type\":\"integer\"}}}}}");
    s = sb_schema_from_openapi(oa);
    assert_non_null(s);
    in = J("{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w1\","
           "\"namespace\":\"default\"},\"spec\":{\"size\":1,\"foo\":2}}");
    o = opts("gitops", "example.com/v1", T1, 0);
    assert_int_equal(sb_ssa_apply(&out, &err, s, NULL, in, &o, 0,
                                  "default/w1; example.com/v1, Kind=Widget"),
                     PL_EINVALID);
    assert_string_equal(json_string_value(json_object_get(err, "message")),
                        "failed to create typed patch object (default/w1; example.com/v1, "
                        "Kind=Widget): .spec.foo: field not declared in schema");
    json_decref(err);
    json_decref(in);
    sb_schema_free(s);
    json_decref(oa);
}

static void test_ssa__preserve_unknown_deduced(void **state)
{
    (void)state;
    json_t *oa = J("{\"type\":\"object\",\"properties\":{\"spec\":{\"type\":\"object\","
                   "\"x-kubernetes-preserve-unknown-fields\":true}}}");
    sb_schema *s = sb_schema_from_openapi(oa);
    json_t *in = J("{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":"
                   "\"w1\"},\"spec\":{\"a\":{\"b\":1},\"l\":[1,2]}}");
    json_t *out = NULL, *err = NULL;
    sb_fm_opts o = opts("m", "example.com/v1", T1, 0);
    assert_int_equal(sb_ssa_apply(&out, &err, s, NULL, in, &o, 0, "x"), 0);
    /* map entries under a schemaless subtree are members; nested objects carry "." */
    assert_json_text(pl_json_path(mf_of(out), NULL) ? json_object_get(json_array_get(mf_of(out), 0),
                                                                       "fieldsV1")
                                                    : NULL,
                     "{\"f:spec\":{\"f:a\":{\".\":{},\"f:b\":{}},\"f:l\":{}}}");
    json_decref(out);
    json_decref(in);
    sb_schema_free(s);
    json_decref(oa);
}

static void test_ssa__prune_keeps_metadata(void **state)
{
    (void)state;
    sb_schema *s = sb_schema_builtin("", "ConfigMap");
    json_t *live = apply_ok(s, NULL,
                            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                            "\"c\",\"labels\":{\"a\":\"1\"}},\"data\":{\"x\":\"1\"}}",
                            opts("m", "v1", T1, 0));
    json_t *out = apply_ok(s, live,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                           "\"c\"},\"data\":{\"x\":\"1\"}}",
                           opts("m", "v1", T2, 0));
    json_object_del(json_object_get(out, "metadata"), "managedFields");
    assert_json(out, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                     "\"c\"},\"data\":{\"x\":\"1\"}}");
    json_decref(out);
    json_decref(live);
    sb_schema_free(s);
}

static void test_ssa__list_merge_order(void **state)
{
    (void)state;
    sb_schema *s = sb_schema_builtin("", "Pod");
    json_t *live = apply_ok(s, NULL,
                            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
                            "\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"1\"},{\"name\":"
                            "\"b\",\"image\":\"1\"}]}}",
                            opts("one", "v1", T1, 0));
    json_t *out = apply_ok(s, live,
                           "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
                           "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"2\"},{\"name\":"
                           "\"a\",\"image\":\"2\"}]}}",
                           opts("two", "v1", T2, 1));
    assert_json(pl_json_path(out, "spec", "containers", NULL),
                "[{\"name\":\"c\",\"image\":\"2\"},{\"name\":\"a\",\"image\":\"2\"},{\"name\":\"b\","
                "\"image\":\"1\"}]");
    json_decref(out);
    json_decref(live);
    sb_schema_free(s);
}

/* ---- Update operations (§4.8) -------------------------------------------------------------- */

static void test_ssa__update_rules(void **state)
{
    (void)state;
    sb_schema *s = sb_schema_builtin("", "ConfigMap");
    json_t *old = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\","
                    "\"managedFields\":[" ENTRY("a", "Update", "v1", T1,
                                                "{\"f:data\":{\".\":{},\"f:x\":{},\"f:y\":{}}}") "]},"
                    "\"data\":{\"x\":\"1\",\"y\":\"1\"}}");
    /* b changes x, re-sends y unchanged, deletes nothing: b gains x only */
    json_t *n = json_deep_copy(old);
    json_object_set_new(json_object_get(n, "data"), "x", json_string("2"));
    sb_fm_opts o = opts("b", "v1", T2, 0);
    assert_int_equal(sb_ssa_update(n, s, old, &o), 0);
    assert_json_text(mf_of(n), "[" ENTRY("a", "Update", "v1", T1, "{\"f:data\":{\".\":{},\"f:y\":{}}}") "," ENTRY(
                                   "b", "Update", "v1", T2, "{\"f:data\":{\"f:x\":{}}}") "]");
    /* c removes y: it leaves every set */
    json_t *n2 = json_deep_copy(n);
    json_object_del(json_object_get(n2, "data"), "y");
    o = opts("c", "v1", T3, 0);
    assert_int_equal(sb_ssa_update(n2, s, n, &o), 0);
    assert_json_text(mf_of(n2), "[" ENTRY("a", "Update", "v1", T1, "{\"f:data\":{}}") "," ENTRY(
                                    "b", "Update", "v1", T2, "{\"f:data\":{\"f:x\":{}}}") "]");
    /* the same manager through another apiVersion is another entry */
    json_t *n3 = json_deep_copy(n2);
    json_object_set_new(json_object_get(n3, "data"), "z", json_string("1"));
    o = opts("b", "v2", T4, 0);
    assert_int_equal(sb_ssa_update(n3, s, n2, &o), 0);
    assert_int_equal(json_array_size(mf_of(n3)), 3);
    /* [] wipes; afterwards updates are not tracked */
    json_t *n4 = json_deep_copy(n3);
    json_object_set_new(json_object_get(n4, "metadata"), "managedFields", json_array());
    assert_int_equal(sb_ssa_update(n4, s, n3, &o), 0);
    assert_null(mf_of(n4));
    json_t *n5 = json_deep_copy(n4);
    json_object_set_new(json_object_get(n5, "data"), "q", json_string("1"));
    assert_int_equal(sb_ssa_update(n5, s, n4, &o), 0);
    assert_null(mf_of(n5));
    json_decref(old);
    json_decref(n);
    json_decref(n2);
    json_decref(n3);
    json_decref(n4);
    json_decref(n5);
    sb_schema_free(s);
}

static void test_ssa__update_cap(void **state)
{
    (void)state;
    sb_schema *s = sb_schema_builtin("", "ConfigMap");
    json_t *cur = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},"
                    "\"data\":{}}");
    sb_fm_opts o = opts("creator", "v1", "2024-05-01T09:00:00Z", 0);
    json_object_set_new(json_object_get(cur, "data"), "k", json_string("v"));
    assert_int_equal(sb_ssa_update(cur, s, NULL, &o), 0);
    for (int i = 0; i < 10; i++) {
        char mgr[16], key[16], now[32];
        snprintf(mgr, sizeof(mgr), "m%02d", i);
        snprintf(key, sizeof(key), "k%02d", i);
        snprintf(now, sizeof(now), "2024-05-01T10:%02d:00Z", i);
        json_t *n = json_deep_copy(cur);
        json_object_set_new(json_object_get(n, "data"), key, json_string("v"));
        o = opts(mgr, "v1", now, 0);
        assert_int_equal(sb_ssa_update(n, s, cur, &o), 0);
        json_decref(cur);
        cur = n;
    }
    /* 11 updaters -> the two oldest merged into ancient-changes, with the newer time */
    json_t *mf = mf_of(cur);
    assert_int_equal(json_array_size(mf), 10);
    assert_string_equal(json_string_value(json_object_get(json_array_get(mf, 0), "manager")),
                        "ancient-changes");
    assert_json_text(json_array_get(mf, 0),
                     ENTRY("ancient-changes", "Update", "v1", "2024-05-01T10:00:00Z",
                           "{\"f:data\":{\".\":{},\"f:k\":{},\"f:k00\":{}}}"));
    json_decref(cur);
    sb_schema_free(s);
}

static void test_ssa__equal_ignoring_times(void **state)
{
    (void)state;
    json_t *a = J("{\"metadata\":{\"name\":\"x\",\"managedFields\":[{\"manager\":\"m\",\"time\":"
                  "\"" T1 "\"}]},\"data\":{\"a\":\"1\"}}");
    json_t *b = J("{\"metadata\":{\"name\":\"x\",\"managedFields\":[{\"manager\":\"m\",\"time\":"
                  "\"" T2 "\"}]},\"data\":{\"a\":\"1\"}}");
    json_t *c = J("{\"metadata\":{\"name\":\"x\",\"managedFields\":[{\"manager\":\"n\",\"time\":"
                  "\"" T2 "\"}]},\"data\":{\"a\":\"1\"}}");
    assert_true(sb_obj_equal_ignoring_times(a, b));
    assert_false(sb_obj_equal_ignoring_times(a, c));
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

/* ---- performance: a ~50-field Deployment (a sync pushes ~1000 objects) ---------------------- */

static void test_ssa__performance(void **state)
{
    (void)state;
    sb_schema *s = sb_schema_builtin("apps", "Deployment");
    const char *big =
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
        "\"namespace\":\"demo\",\"labels\":{\"app\":\"web\",\"tier\":\"fe\",\"team\":\"a\"},"
        "\"annotations\":{\"a\":\"1\",\"b\":\"2\"}},\"spec\":{\"replicas\":3,\"revisionHistoryLimit\":"
        "5,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"strategy\":{\"type\":\"RollingUpdate\","
        "\"rollingUpdate\":{\"maxSurge\":1,\"maxUnavailable\":0}},\"template\":{\"metadata\":{"
        "\"labels\":{\"app\":\"web\"},\"annotations\":{\"x\":\"y\"}},\"spec\":{\"serviceAccountName\":"
        "\"web\",\"terminationGracePeriodSeconds\":30,\"nodeSelector\":{\"k\":\"v\"},\"volumes\":[{"
        "\"name\":\"cfg\",\"configMap\":{\"name\":\"cfg\"}},{\"name\":\"tmp\",\"emptyDir\":{}}],"
        "\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.25\",\"args\":[\"-a\",\"-b\"],"
        "\"ports\":[{\"containerPort\":80,\"name\":\"http\"},{\"containerPort\":443,\"name\":"
        "\"https\"}],\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"2\"},{"
        "\"name\":\"C\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}}],"
        "\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},\"requests\":{\"cpu\":\"100m\","
        "\"memory\":\"128Mi\"}},\"volumeMounts\":[{\"name\":\"cfg\",\"mountPath\":\"/etc/cfg\"},{"
        "\"name\":\"tmp\",\"mountPath\":\"/tmp\"}],\"readinessProbe\":{\"httpGet\":{\"path\":\"/\","
        "\"port\":80},\"periodSeconds\":5}},{\"name\":\"side\",\"image\":\"busybox\",\"command\":["
        "\"sleep\",\"inf\"]}]}}}}";
    json_t *live = apply_ok(s, NULL, big, opts("gitops", "apps/v1", T1, 0));
    json_t *in = J(big);
    sb_fm_opts o = opts("gitops", "apps/v1", T2, 0);
    int n = 500;
    struct timespec a, b;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    for (int i = 0; i < n; i++) {
        json_t *out = NULL, *err = NULL;
        assert_int_equal(sb_ssa_apply(&out, &err, s, live, in, &o, 1, DEPLOY_CTX), 0);
        json_decref(out);
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    double us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / n;
    fprintf(stderr, "sb_ssa_apply (re-apply, ~50 fields): %.1f us per call\n", us);
    /* generous bound: sanitizer builds are several times slower than release */
    assert_true(us < 5000.0);
    json_decref(in);
    json_decref(live);
    sb_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ssa__apply_set_configmap),
        cmocka_unit_test(test_ssa__create_by_update_configmap),
        cmocka_unit_test(test_ssa__worked_example),
        cmocka_unit_test(test_ssa__multi_manager_conflict),
        cmocka_unit_test(test_ssa__before_first_apply),
        cmocka_unit_test(test_ssa__typed_errors),
        cmocka_unit_test(test_ssa__preserve_unknown_deduced),
        cmocka_unit_test(test_ssa__prune_keeps_metadata),
        cmocka_unit_test(test_ssa__list_merge_order),
        cmocka_unit_test(test_ssa__update_rules),
        cmocka_unit_test(test_ssa__update_cap),
        cmocka_unit_test(test_ssa__equal_ignoring_times),
        cmocka_unit_test(test_ssa__performance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
