/*
 * test_api_watch.c - in-process tests of watch streams (API-NOTES §10), the CRD lifecycle
 * (§7) and --simulate-status.
 */
#include "api_harness.h"

#define CM_URL "/api/v1/namespaces/default/configmaps"
#define JSON "application/json"
#define APPLY "application/apply-patch+yaml"
#define MERGE "application/merge-patch+json"

static void mkcm(harness *h, const char *name, const char *extra_meta)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"%s%s}}",
             name, extra_meta ? "," : "", extra_meta ? extra_meta : "");
    assert_int_equal(h_req(h, "POST", CM_URL, JSON, body), 201);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        if (*s == '\n')
            n++;
    return n;
}

static void test_sandbox_watch__initial_and_resume(void **state)
{
    (void)state;
    mkcm(H, "w1", NULL);
    assert_int_equal(h_req(H, "GET", CM_URL, NULL, NULL), 200);
    char rv[32], url[256];
    snprintf(rv, sizeof(rv), "%s", h_str(H, "metadata", "resourceVersion", NULL));

    /* RV 0: a synthetic ADDED for what exists (§10.3a) */
    assert_int_equal(h_req(H, "GET", CM_URL "?watch=true&resourceVersion=0", NULL, NULL), 200);
    assert_non_null(H->resp.stream);
    sb_response wr0 = H->resp;
    memset(&H->resp, 0, sizeof(H->resp));
    /* from the list RV: only later changes */
    snprintf(url, sizeof(url), CM_URL "?watch=true&resourceVersion=%s", rv);
    assert_int_equal(h_req(H, "GET", url, NULL, NULL), 200);
    sb_response wr1 = H->resp;
    memset(&H->resp, 0, sizeof(H->resp));

    assert_int_equal(h_req(H, "PATCH", CM_URL "/w1", MERGE, "{\"data\":{\"k\":\"v\"}}"), 200);

    sb_resp_dispose(&H->resp);
    H->resp = wr0;
    char *ev = h_watch_read(H, 2, 2000);
    assert_int_equal(count_lines(ev), 2);
    assert_true(strncmp(ev, "{\"type\":\"ADDED\",\"object\":{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"w1\"", 80) == 0);
    assert_non_null(strstr(ev, "\n{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"ConfigMap\""));
    pl_free(ev);
    sb_resp_dispose(&H->resp);

    sb_resp_dispose(&H->resp);
    H->resp = wr1;
    ev = h_watch_read(H, 1, 2000);
    assert_int_equal(count_lines(ev), 1);
    assert_true(strncmp(ev, "{\"type\":\"MODIFIED\"", 18) == 0);
    /* nothing more: next() times out */
    pl_buf more = PL_BUF_INIT;
    assert_int_equal(H->resp.stream->next(H->resp.stream, &more, 30), 0);
    assert_int_equal(more.len, 0);
    pl_buf_dispose(&more);
    pl_free(ev);
}

static void test_sandbox_watch__finalizer_and_selectors(void **state)
{
    (void)state;
    mkcm(H, "keep", "\"labels\":{\"app\":\"x\"}");
    mkcm(H, "fin", "\"labels\":{\"app\":\"x\"},\"finalizers\":[\"x.io/f\"]");
    assert_int_equal(h_req(H, "GET", CM_URL "?watch=1&fieldSelector=metadata.name%3Dfin", NULL, NULL), 200);
    sb_response byname = H->resp;
    memset(&H->resp, 0, sizeof(H->resp));
    assert_int_equal(h_req(H, "GET", CM_URL "?watch=1&labelSelector=app%3Dx&resourceVersion=6", NULL, NULL), 200);
    sb_response bylabel = H->resp;
    memset(&H->resp, 0, sizeof(H->resp));

    assert_int_equal(h_req(H, "DELETE", CM_URL "/fin", NULL, NULL), 200);
    assert_int_equal(h_req(H, "PATCH", CM_URL "/fin", MERGE, "{\"metadata\":{\"finalizers\":null}}"), 200);
    /* "keep" stops matching the label selector: DELETED for that watch */
    assert_int_equal(h_req(H, "PATCH", CM_URL "/keep", MERGE, "{\"metadata\":{\"labels\":{\"app\":\"y\"}}}"), 200);

    sb_resp_dispose(&H->resp);
    H->resp = byname;
    char *ev = h_watch_read(H, 3, 2000);
    assert_int_equal(count_lines(ev), 3);
    assert_true(strncmp(ev, "{\"type\":\"ADDED\"", 15) == 0);
    char *second = strchr(ev, '\n') + 1;
    assert_true(strncmp(second, "{\"type\":\"MODIFIED\"", 18) == 0);
    assert_non_null(strstr(second, "deletionTimestamp"));
    char *third = strchr(second, '\n') + 1;
    assert_true(strncmp(third, "{\"type\":\"DELETED\"", 17) == 0);
    assert_null(strstr(third, "\"name\":\"keep\""));
    pl_free(ev);
    sb_resp_dispose(&H->resp);

    sb_resp_dispose(&H->resp);
    H->resp = bylabel;
    ev = h_watch_read(H, 3, 2000);
    assert_int_equal(count_lines(ev), 3);
    assert_non_null(strstr(ev, "{\"type\":\"DELETED\",\"object\":{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"keep\""));
    pl_free(ev);
}

static void test_sandbox_watch__expired_and_timeout(void **state)
{
    (void)state;
    harness *h = pl_calloc(1, sizeof(*h));
    h_init(h, NULL, 5);
    for (int i = 0; i < 8; i++) {
        char body[256];
        snprintf(body, sizeof(body),
                 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c%d\"}}", i);
        assert_int_equal(h_req(h, "POST", CM_URL, JSON, body), 201);
    }
    /* RV 12 now; history keeps 8..12 */
    assert_int_equal(h_req(h, "GET", CM_URL "?watch=1&resourceVersion=2", NULL, NULL), 200);
    char *ev = h_watch_read(h, 1, 1000);
    assert_string_equal(ev, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                            "\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource "
                            "version: 2 (8)\",\"reason\":\"Expired\",\"code\":410}}\n");
    pl_buf more = PL_BUF_INIT;
    assert_int_equal(h->resp.stream->next(h->resp.stream, &more, 10), -1);
    pl_buf_dispose(&more);
    pl_free(ev);
    /* within the history: fine */
    assert_int_equal(h_req(h, "GET", CM_URL "?watch=1&resourceVersion=9", NULL, NULL), 200);
    ev = h_watch_read(h, 3, 1000);
    assert_int_equal(count_lines(ev), 3);
    pl_free(ev);
    /* timeoutSeconds ends the stream */
    assert_int_equal(h_req(h, "GET", CM_URL "?watch=1&resourceVersion=12&timeoutSeconds=1", NULL, NULL), 200);
    int rc = 0, loops = 0;
    pl_buf out = PL_BUF_INIT;
    while ((rc = h->resp.stream->next(h->resp.stream, &out, 100)) == 0 && loops < 50)
        loops++;
    assert_int_equal(rc, -1);
    assert_true(loops >= 5);
    pl_buf_dispose(&out);
    h_fini(h);
    pl_free(h);
}

#define CRD_URL "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
#define CRD_BODY                                                                                    \
    "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","           \
    "\"metadata\":{\"name\":\"widgets.example.com\"},\"spec\":{\"group\":\"example.com\","          \
    "\"names\":{\"plural\":\"widgets\",\"kind\":\"Widget\",\"shortNames\":[\"wg\"]},"              \
    "\"scope\":\"Namespaced\",\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,"      \
    "\"subresources\":{\"status\":{}},"                                                             \
    "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"properties\":{\"spec\":{\"type\":"      \
    "\"object\",\"properties\":{\"size\":{\"type\":\"integer\"}}},\"status\":{\"type\":\"object\","  \
    "\"properties\":{\"conditions\":{\"type\":\"array\",\"items\":{\"type\":\"object\","             \
    "\"x-kubernetes-preserve-unknown-fields\":true}}}}}}}}]}}"
#define W_URL "/apis/example.com/v1/namespaces/default/widgets"

static void test_sandbox_crd__lifecycle(void **state)
{
    (void)state;
    H->srv.crd_establish_delay_ms = 300;
    assert_int_equal(h_req(H, "POST", CRD_URL, JSON, CRD_BODY), 201);
    assert_string_equal(pl_json_str(H->json, "spec", "names", "singular", NULL), "widget");
    assert_string_equal(pl_json_str(H->json, "spec", "names", "listKind", NULL), "WidgetList");
    assert_string_equal(pl_json_str(H->json, "spec", "conversion", "strategy", NULL), "None");
    assert_int_equal(json_integer_value(pl_json_path(H->json, "metadata", "generation", NULL)), 1);
    char *st = json_dumps(json_object_get(H->json, "status"), JSON_COMPACT);
    assert_string_equal(st, "{\"conditions\":null,\"acceptedNames\":{\"plural\":\"\",\"kind\":\"\"},\"storedVersions\":[\"v1\"]}");
    free(st);
    /* not yet Established: the CR path is a plain 404 (§6.3) */
    assert_int_equal(h_req(H, "GET", W_URL, NULL, NULL), 404);
    assert_string_equal(H->resp.body.ptr, "404 page not found\n");
    assert_int_equal(h_wait_status(H, W_URL, 200), 1);
    assert_int_equal(h_req(H, "GET", CRD_URL "/widgets.example.com", NULL, NULL), 200);
    st = json_dumps(json_object_get(H->json, "status"), JSON_COMPACT);
    assert_non_null(strstr(st, "{\"type\":\"NamesAccepted\",\"status\":\"True\",\"lastTransitionTime\":"));
    assert_non_null(strstr(st, "\"reason\":\"NoConflicts\",\"message\":\"no conflicts found\"}"));
    assert_non_null(strstr(st, "\"reason\":\"InitialNamesAccepted\",\"message\":\"the initial names have been accepted\"}"));
    assert_non_null(strstr(st, "\"acceptedNames\":{\"plural\":\"widgets\",\"singular\":\"widget\",\"shortNames\":[\"wg\"],\"kind\":\"Widget\",\"listKind\":\"WidgetList\"}"));
    free(st);
    assert_non_null(sb_types_by_resource(H->srv.types, "example.com", "v1", "widgets"));

    /* CRs */
    assert_int_equal(h_req(H, "POST", W_URL, JSON,
                           "{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w1\"},\"spec\":{\"size\":1}}"),
                     201);
    assert_int_equal(json_integer_value(pl_json_path(H->json, "metadata", "generation", NULL)), 1);
    assert_int_equal(h_req(H, "GET", W_URL, NULL, NULL), 200);
    assert_string_equal(pl_json_str(json_array_get(json_object_get(H->json, "items"), 0), "kind", NULL), "Widget");
    /* PUT without RV (§5.2) */
    assert_int_equal(h_req(H, "PUT", W_URL "/w1", JSON,
                           "{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w1\"},\"spec\":{\"size\":2}}"),
                     422);
    assert_string_equal(h_body(H),
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"widgets.example.com \\\"w1\\\" is invalid: "
                        "metadata.resourceVersion: Invalid value: 0: must be specified for an "
                        "update\",\"reason\":\"Invalid\",\"details\":{\"name\":\"w1\",\"group\":"
                        "\"example.com\",\"kind\":\"widgets\",\"causes\":[{\"reason\":"
                        "\"FieldValueInvalid\",\"message\":\"Invalid value: 0: must be specified "
                        "for an update\",\"field\":\"metadata.resourceVersion\"}]},\"code\":422}");
    /* strategic merge on a CR: 415 (§7.2) */
    assert_int_equal(h_req(H, "PATCH", W_URL "/w1", "application/strategic-merge-patch+json", "{}"), 415);
    assert_string_equal(h_str(H, "message", NULL),
                        "the body of the request was in an unknown format - accepted media types "
                        "include: application/json-patch+json, application/merge-patch+json, "
                        "application/apply-patch+yaml");
    /* a spec change bumps generation; a merge patch keeps working */
    assert_int_equal(h_req(H, "PATCH", W_URL "/w1", MERGE, "{\"spec\":{\"size\":3}}"), 200);
    assert_int_equal(json_integer_value(pl_json_path(H->json, "metadata", "generation", NULL)), 2);
    /* wrong scope: plain 404 */
    assert_int_equal(h_req(H, "GET", "/apis/example.com/v1/widgets/w1", NULL, NULL), 404);
    assert_string_equal(H->resp.body.ptr, "404 page not found\n");
    /* all-namespaces list works */
    assert_int_equal(h_req(H, "GET", "/apis/example.com/v1/widgets", NULL, NULL), 200);

    /* deletion: a CR with a finalizer holds the CRD in Terminating */
    assert_int_equal(h_req(H, "POST", W_URL, JSON,
                           "{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"held\",\"finalizers\":[\"x.io/f\"]}}"),
                     201);
    assert_int_equal(h_req(H, "DELETE", CRD_URL "/widgets.example.com", NULL, NULL), 200);
    assert_non_null(pl_json_str(H->json, "metadata", "deletionTimestamp", NULL));
    assert_int_equal(h_wait_status(H, W_URL "/w1", 404), 1);
    assert_int_equal(h_req(H, "POST", W_URL, JSON,
                           "{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"late\"}}"),
                     403);
    assert_string_equal(h_str(H, "message", NULL),
                        "widgets.example.com \"late\" is forbidden: create not allowed while "
                        "custom resource definition is terminating");
    assert_int_equal(h_req(H, "PATCH", W_URL "/held", MERGE, "{\"metadata\":{\"finalizers\":null}}"), 200);
    assert_int_equal(h_wait_status(H, CRD_URL "/widgets.example.com", 404), 1);
    assert_int_equal(h_req(H, "GET", W_URL, NULL, NULL), 404);
    assert_string_equal(H->resp.body.ptr, "404 page not found\n");
    assert_null(sb_types_by_resource(H->srv.types, "example.com", "v1", "widgets"));
}

static void test_sandbox_crd__validation(void **state)
{
    (void)state;
    assert_int_equal(h_req(H, "POST", CRD_URL, JSON,
                           "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
                           "\"metadata\":{\"name\":\"gadgets.example.com\"},\"spec\":{\"group\":\"example.com\","
                           "\"names\":{\"plural\":\"widgets\",\"kind\":\"Widget\"},\"scope\":\"Namespaced\","
                           "\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\"}}}]}}"),
                     422);
    assert_string_equal(h_str(H, "message", NULL),
                        "CustomResourceDefinition.apiextensions.k8s.io \"gadgets.example.com\" is "
                        "invalid: metadata.name: Invalid value: \"gadgets.example.com\": must be "
                        "spec.names.plural+\".\"+spec.group");
    assert_string_equal(h_str(H, "details", "kind", NULL), "CustomResourceDefinition");
}

static void test_sandbox_crd__cr_pruning_warning(void **state)
{
    (void)state;
    assert_int_equal(h_req(H, "POST", CRD_URL, JSON, CRD_BODY), 201);
    assert_int_equal(h_wait_status(H, W_URL, 200), 1);
    assert_int_equal(h_req(H, "POST", W_URL, JSON,
                           "{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"size\":1,\"foo\":2}}"),
                     201);
    assert_null(pl_json_path(H->json, "spec", "foo", NULL));
    assert_string_equal(h_header(H, "Warning"), "299 - \"unknown field \\\"spec.foo\\\"\"");
    assert_int_equal(h_req(H, "POST", W_URL "?fieldValidation=Strict", JSON,
                           "{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"q\"},\"spec\":{\"foo\":2}}"),
                     400);
    assert_string_equal(h_str(H, "message", NULL), "strict decoding error: unknown field \"spec.foo\"");
}


static void test_sandbox_crd__served_versions(void **state)
{
    (void)state;
    assert_int_equal(h_req(H, "POST", CRD_URL, JSON,
                           "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
                           "\"metadata\":{\"name\":\"gizmos.example.com\"},\"spec\":{\"group\":\"example.com\","
                           "\"names\":{\"plural\":\"gizmos\",\"kind\":\"Gizmo\"},\"scope\":\"Cluster\","
                           "\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true}}},"
                           "{\"name\":\"v2\",\"served\":true,\"storage\":false,\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true}}}]}}"),
                     201);
    assert_int_equal(h_wait_status(H, "/apis/example.com/v2/gizmos", 200), 1);
    assert_int_equal(h_req(H, "POST", "/apis/example.com/v2/gizmos", JSON,
                           "{\"apiVersion\":\"example.com/v2\",\"kind\":\"Gizmo\",\"metadata\":{\"name\":\"g\"},\"spec\":{\"a\":1}}"),
                     201);
    assert_string_equal(h_str(H, "apiVersion", NULL), "example.com/v2");
    assert_int_equal(h_req(H, "GET", "/apis/example.com/v1/gizmos/g", NULL, NULL), 200);
    assert_string_equal(h_str(H, "apiVersion", NULL), "example.com/v1");
    assert_int_equal(h_req(H, "GET", "/apis/example.com/v2/gizmos", NULL, NULL), 200);
    assert_string_equal(pl_json_str(json_array_get(json_object_get(H->json, "items"), 0), "apiVersion", NULL),
                        "example.com/v2");
    /* the stored object is in the storage version */
    assert_int_equal(h_req(H, "GET", "/_plumb/objects", NULL, NULL), 200);
    assert_non_null(strstr(h_body(H), "{\"kind\":\"Gizmo\",\"apiVersion\":\"example.com/v1\""));
    /* an unserved version is a plain 404 */
    assert_int_equal(h_req(H, "GET", "/apis/example.com/v3/gizmos", NULL, NULL), 404);
    assert_string_equal(H->resp.body.ptr, "404 page not found\n");
}

static void test_sandbox_sim__status(void **state)
{
    (void)state;
    H->srv.simulate_status = 1;
    H->srv.simulate_delay_ms = 50;
    assert_int_equal(h_req(H, "POST", "/apis/apps/v1/namespaces/default/deployments", JSON,
                           "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"},"
                           "\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
                           "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx\"}]}}}}"),
                     201);
    assert_int_equal(h_req(H, "POST", "/apis/batch/v1/namespaces/default/jobs", JSON,
                           "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"j\"},\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}"),
                     201);
    assert_int_equal(h_req(H, "POST", CRD_URL, JSON, CRD_BODY), 201);
    assert_int_equal(h_wait_status(H, W_URL, 200), 1);
    assert_int_equal(h_req(H, "POST", W_URL, JSON,
                           "{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w\"}}"),
                     201);
    int ok = 0;
    for (int i = 0; i < 200 && !ok; i++) {
        h_sleep_ms(10);
        h_req(H, "GET", "/apis/apps/v1/namespaces/default/deployments/web", NULL, NULL);
        ok = json_integer_value(pl_json_path(H->json, "status", "readyReplicas", NULL)) == 2;
    }
    assert_true(ok);
    assert_int_equal(json_integer_value(pl_json_path(H->json, "status", "observedGeneration", NULL)), 1);
    ok = 0;
    for (int i = 0; i < 200 && !ok; i++) {
        h_sleep_ms(10);
        h_req(H, "GET", "/apis/batch/v1/namespaces/default/jobs/j", NULL, NULL);
        ok = json_integer_value(pl_json_path(H->json, "status", "succeeded", NULL)) == 1;
    }
    assert_true(ok);
    ok = 0;
    for (int i = 0; i < 200 && !ok; i++) {
        h_sleep_ms(10);
        h_req(H, "GET", W_URL "/w", NULL, NULL);
        const char *s = pl_json_str(json_array_get(pl_json_path(H->json, "status", "conditions", NULL), 0), "status", NULL);
        ok = s != NULL && strcmp(s, "True") == 0;
    }
    assert_true(ok);
    /* a spec change is simulated again */
    assert_int_equal(h_req(H, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web", MERGE, "{\"spec\":{\"replicas\":4}}"), 200);
    ok = 0;
    for (int i = 0; i < 200 && !ok; i++) {
        h_sleep_ms(10);
        h_req(H, "GET", "/apis/apps/v1/namespaces/default/deployments/web", NULL, NULL);
        ok = json_integer_value(pl_json_path(H->json, "status", "readyReplicas", NULL)) == 4;
    }
    assert_true(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sandbox_watch__initial_and_resume, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_watch__finalizer_and_selectors, h_setup, h_teardown),
        cmocka_unit_test(test_sandbox_watch__expired_and_timeout),
        cmocka_unit_test_setup_teardown(test_sandbox_crd__lifecycle, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_crd__validation, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_crd__cr_pruning_warning, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_crd__served_versions, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_sim__status, h_setup, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
