/*
 * test_compare.c - normalisation, comparison, Secret redaction and report writers
 * (engine/drift). Objects are written inline as YAML; expectations are exact strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plumb/core.h"
#include "plumb/drift.h"

static json_t *y(const char *text)
{
    json_t *docs = NULL, *o;
    assert_int_equal(pl_yaml_parse(&docs, text, strlen(text), "inline.yaml", NULL), 0);
    o = json_incref(json_array_get(docs, 0));
    json_decref(docs);
    return o;
}

static pl_drift_result *cmp(const char *desired, const char *live, const pl_drift_opts *opts)
{
    json_t *d = desired ? y(desired) : NULL, *l = live ? y(live) : NULL;
    pl_drift_result *r = NULL;
    assert_int_equal(pl_drift_compare(&r, d, NULL, l, opts), 0);
    json_decref(d);
    json_decref(l);
    return r;
}

static void test_drift_normalise__server_fields(void **state)
{
    json_t *o = y("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: n\n"
                  "  uid: 1234\n  resourceVersion: \"9\"\n  generation: 2\n"
                  "  creationTimestamp: \"2024-01-01T00:00:00Z\"\n  selfLink: /x\n"
                  "  managedFields: [{manager: kubectl}]\n  labels: {}\n  annotations:\n"
                  "    kubectl.kubernetes.io/last-applied-configuration: '{}'\n"
                  "    deployment.kubernetes.io/revision: \"3\"\ndata:\n  k: v\nstatus:\n  x: 1\n"),
           *n = NULL;
    char *s;
    (void)state;
    assert_int_equal(pl_drift_normalise(&n, o, NULL), 0);
    s = json_dumps(n, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"apiVersion\":\"v1\",\"data\":{\"k\":\"v\"},\"kind\":\"ConfigMap\","
                           "\"metadata\":{\"name\":\"a\",\"namespace\":\"n\"}}");
    free(s);
    json_decref(n);
    json_decref(o);
}

static void test_drift_compare__configmap(void **state)
{
    pl_drift_result *r;
    (void)state;
    r = cmp("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: demo\n"
            "data:\n  a: same\n  k: new\n",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: demo\n"
            "data:\n  a: same\n  k: old\n",
            NULL);
    assert_int_equal(r->action, PL_DRIFT_CHANGED);
    assert_string_equal(r->key, "ConfigMap/demo/cfg");
    assert_int_equal(json_array_size(r->fields), 1);
    assert_string_equal(json_string_value(json_array_get(r->fields, 0)), "data.k");
    assert_null(r->secret_keys);
    assert_string_equal(r->diff, "diff --git a/ConfigMap/demo/cfg b/ConfigMap/demo/cfg\n"
                                 "--- a/ConfigMap/demo/cfg\n"
                                 "+++ b/ConfigMap/demo/cfg\n"
                                 "@@ -1,7 +1,7 @@\n"
                                 " apiVersion: v1\n"
                                 " data:\n"
                                 "   a: same\n"
                                 "-  k: old\n"
                                 "+  k: new\n"
                                 " kind: ConfigMap\n"
                                 " metadata:\n"
                                 "   name: cfg\n");
    pl_drift_result_free(r);

    r = cmp("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new\n", NULL, NULL);
    assert_int_equal(r->action, PL_DRIFT_ADDED);
    assert_non_null(strstr(r->diff, "+kind: ConfigMap\n"));
    pl_drift_result_free(r);
    r = cmp(NULL, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\n", NULL);
    assert_int_equal(r->action, PL_DRIFT_REMOVED);
    assert_non_null(strstr(r->diff, "-kind: ConfigMap\n"));
    pl_drift_result_free(r);
    r = cmp("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: same\n",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: same\n  uid: x\n", NULL);
    assert_int_equal(r->action, PL_DRIFT_UNCHANGED);
    assert_string_equal(r->diff, "");
    pl_drift_result_free(r);
}

static void test_drift_compare__secret_redacted(void **state)
{
    pl_drift_result *r;
    char *s;
    (void)state;
    /* dG9wc2VjcmV0 = "topsecret", b2xkc2VjcmV0 = "oldsecret", YWRtaW4= = "admin" */
    r = cmp("apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: demo\n"
            "stringData:\n  password: topsecret\n  user: admin\n  token: brandnew\n",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: demo\n"
            "data:\n  password: b2xkc2VjcmV0\n  user: YWRtaW4=\n  gone: eA==\n",
            NULL);
    assert_int_equal(r->action, PL_DRIFT_CHANGED);
    s = json_dumps(r->secret_keys, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"gone\":\"removed\",\"password\":\"changed\",\"token\":\"added\","
                           "\"user\":\"unchanged\"}");
    free(s);
    assert_null(strstr(r->diff, "topsecret"));
    assert_null(strstr(r->diff, "dG9wc2VjcmV0"));
    assert_null(strstr(r->diff, "b2xkc2VjcmV0"));
    assert_null(strstr(r->diff, "YWRtaW4"));
    assert_null(strstr(r->diff, "brandnew"));
    assert_null(strstr(r->diff, "eA=="));
    assert_non_null(strstr(r->diff, "-  password: '*** (before)'\n+  password: '*** (after)'\n"));
    assert_non_null(strstr(r->diff, "   user: '***'\n"));
    pl_drift_result_free(r);

    /* stringData and its base64 form in data are the same Secret */
    r = cmp("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  user: admin\n",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  user: YWRtaW4=\n", NULL);
    assert_int_equal(r->action, PL_DRIFT_UNCHANGED);
    pl_drift_result_free(r);
}

static void test_drift_compare__ignore_differences(void **state)
{
    pl_drift_opts opts = PL_DRIFT_OPTS_INIT;
    json_t *ign = y("- group: apps\n  kind: Deployment\n  jsonPointers: [/spec/replicas]\n"
                    "  jqPathExpressions:\n"
                    "  - '.spec.template.spec.containers[] | select(.name == \"sidecar\") | .image'\n"
                    "  - '.metadata.annotations[\"a.b/c\"]'\n"
                    "  managedFieldsManagers: [hpa-controller]\n");
    const char *desired =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n"
        "  paused: false\n  template:\n    spec:\n      containers:\n      - name: app\n"
        "        image: app:1\n      - name: sidecar\n        image: side:1\n";
    const char *live =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations:\n"
        "    a.b/c: x\n  managedFields:\n  - manager: hpa-controller\n    fieldsV1:\n"
        "      f:spec:\n        f:paused: {}\nspec:\n  replicas: 5\n  paused: true\n"
        "  template:\n    spec:\n      containers:\n      - name: app\n        image: app:1\n"
        "      - name: sidecar\n        image: side:2\n";
    pl_drift_result *r;
    (void)state;
    assert_true(json_is_array(ign));
    r = cmp(desired, live, NULL);
    assert_int_equal(r->action, PL_DRIFT_CHANGED);
    assert_int_equal(json_array_size(r->fields), 4);
    pl_drift_result_free(r);
    opts.ignore_differences = ign;
    r = cmp(desired, live, &opts);
    assert_int_equal(r->action, PL_DRIFT_UNCHANGED);
    pl_drift_result_free(r);
    json_decref(ign);
}

static void test_drift_compare__live_projection(void **state)
{
    pl_drift_opts opts = PL_DRIFT_OPTS_INIT;
    const char *desired = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: d\n"
                          "spec:\n  ports:\n  - port: 80\n  selector:\n    app: s\n";
    const char *live = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: d\n"
                       "  uid: u\nspec:\n  type: ClusterIP\n  clusterIP: 10.0.0.1\n  ports:\n"
                       "  - port: 80\n    protocol: TCP\n    targetPort: 80\n  selector:\n"
                       "    app: s\n  sessionAffinity: None\nstatus: {}\n";
    pl_drift_result *r;
    (void)state;
    r = cmp(desired, live, &opts);
    assert_int_equal(r->action, PL_DRIFT_CHANGED); /* offline semantics: exact */
    pl_drift_result_free(r);
    opts.live = 1;
    r = cmp(desired, live, &opts);
    assert_int_equal(r->action, PL_DRIFT_UNCHANGED); /* server defaults are not drift */
    pl_drift_result_free(r);
    r = cmp(desired,
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: d\nspec:\n  ports:\n"
            "  - port: 81\n  selector:\n    app: s\n",
            &opts);
    assert_int_equal(r->action, PL_DRIFT_CHANGED);
    assert_string_equal(json_string_value(json_array_get(r->fields, 0)), "spec.ports[0].port");
    pl_drift_result_free(r);
}

static void test_drift_report__writers(void **state)
{
    pl_drift_report *rep = NULL;
    json_t *from = json_array(), *to = json_array(), *doc;
    pl_buf out = PL_BUF_INIT;
    (void)state;

    json_array_append_new(from, y("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n"
                                  "  namespace: demo\ndata:\n  k: old\n"));
    json_array_append_new(from, y("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gone\n"
                                  "  namespace: demo\n"));
    json_array_append_new(from, y("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: same\n"
                                  "  namespace: demo\n"));
    json_array_append_new(to, y("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: same\n"
                                "  namespace: demo\n"));
    json_array_append_new(to, y("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n"
                                "  namespace: demo\ndata:\n  k: new\n"));
    json_array_append_new(to, y("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: added\n"
                                "  namespace: demo\n"));
    assert_int_equal(pl_drift_report_new(&rep), 0);
    assert_int_equal(pl_drift_report_set_title(rep, "A..B"), 0);
    assert_int_equal(pl_drift_report_compare_sets(rep, "demo", to, from, NULL), 0);
    assert_int_equal(pl_drift_report_compare_sets(rep, "quiet", to, to, NULL), 0);
    assert_int_equal(pl_drift_report_changes(rep), 3);

    assert_int_equal(pl_drift_report_write(&out, rep, PL_DRIFT_TEXT), 0);
    assert_non_null(strstr(out.ptr, "app demo: 1 added, 1 removed, 1 changed\n"
                                    "  added    ConfigMap/demo/added\n"
                                    "  changed  ConfigMap/demo/cfg: data.k\n"
                                    "  removed  ConfigMap/demo/gone\n"));
    assert_non_null(strstr(out.ptr, "app quiet: no changes\n"));
    assert_non_null(strstr(out.ptr, "3 objects differ in 1 app\n"));
    pl_buf_clear(&out);

    assert_int_equal(pl_drift_report_write(&out, rep, PL_DRIFT_JSON), 0);
    doc = json_loads(out.ptr, 0, NULL);
    assert_non_null(doc);
    assert_int_equal(json_integer_value(pl_json_path(doc, "summary", "changed", NULL)), 1);
    assert_int_equal(json_integer_value(pl_json_path(doc, "summary", "added", NULL)), 1);
    assert_string_equal(pl_json_str(json_array_get(pl_json_path(json_array_get(
                                                       json_object_get(doc, "apps"), 0),
                                                   "objects", NULL), 1),
                                    "action", NULL),
                        "changed");
    json_decref(doc);
    pl_buf_clear(&out);

    assert_int_equal(pl_drift_report_write(&out, rep, PL_DRIFT_MARKDOWN), 0);
    assert_non_null(strstr(out.ptr, "### plumb diff A..B\n\n| App | Added | Removed | Changed |\n"
                                    "|---|---:|---:|---:|\n| demo | 1 | 1 | 1 |\n"
                                    "| quiet | 0 | 0 | 0 |\n"));
    assert_non_null(strstr(out.ptr, "<details><summary><b>demo</b>: 1 added, 1 removed, 1 "
                                    "changed</summary>\n"));
    assert_non_null(strstr(out.ptr, "```diff\ndiff --git a/ConfigMap/demo/added"));
    pl_buf_dispose(&out);
    pl_drift_report_free(rep);
    json_decref(from);
    json_decref(to);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drift_normalise__server_fields),
        cmocka_unit_test(test_drift_compare__configmap),
        cmocka_unit_test(test_drift_compare__secret_redacted),
        cmocka_unit_test(test_drift_compare__ignore_differences),
        cmocka_unit_test(test_drift_compare__live_projection),
        cmocka_unit_test(test_drift_report__writers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
