/* test_discovery.c - discovery, OpenAPI and /version documents (API-NOTES §1, §14.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sb.h"
#include "sb_transport.h"

#define AGG_ACCEPT                                                                              \
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;"    \
    "g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"

static sb_types *types;

static int setup(void **state)
{
    (void)state;
    types = sb_types_new();
    return types ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    sb_types_free(types);
    return 0;
}

/* GET `target` with `accept`; returns 1 when handled, fills resp. */
static int get(sb_response *resp, const char *target, const char *accept)
{
    sb_req_owned r;
    memset(resp, 0, sizeof(*resp));
    assert_int_equal(sb_req_build(&r, "GET", target, NULL, accept, "test", NULL, 0), 0);
    int handled = sb_discovery_handle(types, &r.req, resp);
    sb_req_dispose(&r);
    return handled;
}

static json_t *body_json(const sb_response *resp)
{
    json_error_t err;
    json_t *j = json_loadb(resp->body.ptr, resp->body.len, 0, &err);
    assert_non_null(j);
    return j;
}

static char *dump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT);
}

static json_t *find_by(json_t *arr, const char *key, const char *value)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *s = json_string_value(json_object_get(v, key));
        if (s && strcmp(s, value) == 0)
            return v;
    }
    return NULL;
}

static const char *header(const sb_response *resp, const char *name)
{
    for (size_t i = 0; i < resp->nheaders; i++)
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    return NULL;
}

static void test_version(void **state)
{
    (void)state;
    sb_response resp;
    assert_int_equal(get(&resp, "/version?timeout=5s", "application/json, */*"), 1);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body.ptr,
                        "{\"major\":\"1\",\"minor\":\"33\",\"gitVersion\":\"v1.33.1\","
                        "\"gitCommit\":\"8adc0f041b8e7ad1d30e29cc59c6ae7a15e19828\","
                        "\"gitTreeState\":\"clean\",\"buildDate\":\"2025-05-15T08:19:08Z\","
                        "\"goVersion\":\"go1.24.2\",\"compiler\":\"gc\","
                        "\"platform\":\"linux/amd64\"}\n");
    assert_null(resp.content_type); /* application/json */
    sb_resp_dispose(&resp);
}

static void test_core_legacy(void **state)
{
    (void)state;
    sb_response resp;
    assert_int_equal(get(&resp, "/api/v1", "application/json"), 1);
    assert_int_equal(resp.status, 200);
    /* /api/v1 has no apiVersion (legacy quirk) */
    static const char head[] =
        "{\"kind\":\"APIResourceList\",\"groupVersion\":\"v1\",\"resources\":";
    assert_int_equal(strncmp(resp.body.ptr, head, sizeof(head) - 1), 0);
    json_t *doc = body_json(&resp);
    json_t *res = json_object_get(doc, "resources");
    char *s = dump(find_by(res, "name", "configmaps"));
    assert_string_equal(s, "{\"name\":\"configmaps\",\"singularName\":\"configmap\","
                           "\"namespaced\":true,\"kind\":\"ConfigMap\",\"verbs\":[\"create\","
                           "\"delete\",\"deletecollection\",\"get\",\"list\",\"patch\","
                           "\"update\",\"watch\"],\"shortNames\":[\"cm\"],"
                           "\"storageVersionHash\":\"qFsyl6wFWjQ=\"}");
    free(s);
    s = dump(find_by(res, "name", "namespaces"));
    assert_string_equal(s, "{\"name\":\"namespaces\",\"singularName\":\"namespace\","
                           "\"namespaced\":false,\"kind\":\"Namespace\",\"verbs\":[\"create\","
                           "\"delete\",\"get\",\"list\",\"patch\",\"update\",\"watch\"],"
                           "\"shortNames\":[\"ns\"],\"storageVersionHash\":\"Q3oi5N2YM8M=\"}");
    free(s);
    s = dump(find_by(res, "name", "namespaces/status"));
    assert_string_equal(s, "{\"name\":\"namespaces/status\",\"singularName\":\"\","
                           "\"namespaced\":false,\"kind\":\"Namespace\",\"verbs\":[\"get\","
                           "\"patch\",\"update\"]}");
    free(s);
    /* resources are sorted by name; subresources follow their parent */
    const char *prev = "";
    size_t i;
    json_t *v;
    json_array_foreach(res, i, v) {
        const char *n = json_string_value(json_object_get(v, "name"));
        assert_true(strcmp(prev, n) < 0);
        prev = n;
    }
    json_decref(doc);
    sb_resp_dispose(&resp);
}

static void test_apps_legacy(void **state)
{
    (void)state;
    sb_response resp;
    assert_int_equal(get(&resp, "/apis/apps/v1", "application/json"), 1);
    json_t *doc = body_json(&resp);
    assert_string_equal(json_string_value(json_object_get(doc, "apiVersion")), "v1");
    json_t *res = json_object_get(doc, "resources");
    char *s = dump(find_by(res, "name", "deployments"));
    assert_string_equal(s, "{\"name\":\"deployments\",\"singularName\":\"deployment\","
                           "\"namespaced\":true,\"kind\":\"Deployment\",\"verbs\":[\"create\","
                           "\"delete\",\"deletecollection\",\"get\",\"list\",\"patch\","
                           "\"update\",\"watch\"],\"shortNames\":[\"deploy\"],"
                           "\"categories\":[\"all\"],\"storageVersionHash\":\"8aSe+NMegvE=\"}");
    free(s);
    s = dump(find_by(res, "name", "deployments/scale"));
    assert_string_equal(s, "{\"name\":\"deployments/scale\",\"singularName\":\"\","
                           "\"namespaced\":true,\"group\":\"autoscaling\",\"version\":\"v1\","
                           "\"kind\":\"Scale\",\"verbs\":[\"get\",\"patch\",\"update\"]}");
    free(s);
    s = dump(find_by(res, "name", "deployments/status"));
    assert_string_equal(s, "{\"name\":\"deployments/status\",\"singularName\":\"\","
                           "\"namespaced\":true,\"kind\":\"Deployment\",\"verbs\":[\"get\","
                           "\"patch\",\"update\"]}");
    free(s);
    assert_null(find_by(res, "name", "daemonsets/scale"));
    assert_non_null(find_by(res, "name", "daemonsets/status"));
    json_decref(doc);
    sb_resp_dispose(&resp);

    assert_int_equal(get(&resp, "/apis/apps", "application/json"), 1);
    assert_string_equal(resp.body.ptr,
                        "{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\",\"name\":\"apps\","
                        "\"versions\":[{\"groupVersion\":\"apps/v1\",\"version\":\"v1\"}],"
                        "\"preferredVersion\":{\"groupVersion\":\"apps/v1\",\"version\":\"v1\"}}"
                        "\n");
    sb_resp_dispose(&resp);
}

static void test_legacy_roots(void **state)
{
    (void)state;
    sb_response resp;
    assert_int_equal(get(&resp, "/api", "application/json"), 1);
    assert_null(resp.content_type);
    json_t *doc = body_json(&resp);
    assert_string_equal(json_string_value(json_object_get(doc, "kind")), "APIVersions");
    assert_null(json_object_get(doc, "apiVersion"));
    json_decref(doc);
    sb_resp_dispose(&resp);

    assert_int_equal(get(&resp, "/apis", NULL), 1);
    doc = body_json(&resp);
    assert_string_equal(json_string_value(json_object_get(doc, "kind")), "APIGroupList");
    json_t *groups = json_object_get(doc, "groups");
    /* apiregistration.k8s.io first, as the aggregator lists it */
    assert_string_equal(json_string_value(json_object_get(json_array_get(groups, 0), "name")),
                        "apiregistration.k8s.io");
    assert_non_null(find_by(groups, "name", "autoscaling"));
    json_decref(doc);
    sb_resp_dispose(&resp);
}

static void test_aggregated(void **state)
{
    (void)state;
    sb_response resp;
    assert_int_equal(get(&resp, "/api", AGG_ACCEPT), 1);
    assert_string_equal(resp.content_type,
                        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    json_t *doc = body_json(&resp);
    assert_string_equal(json_string_value(json_object_get(doc, "apiVersion")),
                        "apidiscovery.k8s.io/v2");
    json_t *v1 = json_array_get(json_object_get(json_array_get(json_object_get(doc, "items"), 0),
                                                "versions"),
                                0);
    assert_string_equal(json_string_value(json_object_get(v1, "version")), "v1");
    char *s = dump(find_by(json_object_get(v1, "resources"), "resource", "namespaces"));
    assert_string_equal(s, "{\"resource\":\"namespaces\",\"responseKind\":{\"group\":\"\","
                           "\"version\":\"v1\",\"kind\":\"Namespace\"},\"scope\":\"Cluster\","
                           "\"singularResource\":\"namespace\",\"verbs\":[\"create\",\"delete\","
                           "\"get\",\"list\",\"patch\",\"update\",\"watch\"],"
                           "\"shortNames\":[\"ns\"],\"subresources\":[{\"subresource\":"
                           "\"status\",\"responseKind\":{\"group\":\"\",\"version\":\"v1\","
                           "\"kind\":\"Namespace\"},\"verbs\":[\"get\",\"patch\",\"update\"]}]}");
    free(s);
    assert_null(find_by(json_object_get(v1, "resources"), "resource", "namespaces/status"));
    assert_string_equal(json_string_value(json_object_get(v1, "freshness")), "Current");
    assert_non_null(header(&resp, "Etag"));
    json_decref(doc);
    sb_resp_dispose(&resp);

    /* parameter order and whitespace do not matter; v2beta1 alone is answered in v2beta1 */
    assert_int_equal(get(&resp, "/apis",
                         "application/json; as=APIGroupDiscoveryList; v=v2beta1; "
                         "g=apidiscovery.k8s.io"),
                     1);
    assert_string_equal(resp.content_type, "application/json;g=apidiscovery.k8s.io;v=v2beta1;"
                                           "as=APIGroupDiscoveryList");
    doc = body_json(&resp);
    json_t *apps = json_array_get(json_object_get(doc, "items"), 0);
    assert_string_equal(pl_json_str(apps, "metadata", "name", NULL), "apiregistration.k8s.io");
    json_decref(doc);
    sb_resp_dispose(&resp);
}

static void test_unknown_group(void **state)
{
    (void)state;
    sb_response resp;
    const char *paths[] = {"/apis/nope", "/apis/nope/v1", "/apis/apps/v2", "/api/v2"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(get(&resp, paths[i], NULL), 1);
        assert_int_equal(resp.status, 404);
        assert_string_equal(resp.content_type, "text/plain; charset=utf-8");
        assert_string_equal(resp.body.ptr, "404 page not found\n");
        assert_string_equal(header(&resp, "X-Content-Type-Options"), "nosniff");
        sb_resp_dispose(&resp);
    }
    /* resource URLs are not discovery's */
    assert_int_equal(get(&resp, "/api/v1/namespaces", NULL), 0);
    assert_int_equal(get(&resp, "/apis/apps/v1/deployments", NULL), 0);
    assert_int_equal(get(&resp, "/apis/nope/v1/widgets", NULL), 0);
    assert_int_equal(get(&resp, "/foo", NULL), 0);
    sb_resp_dispose(&resp);
}

static const char CRD[] =
    "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
    "\"metadata\":{\"name\":\"widgets.example.com\"},\"spec\":{\"group\":\"example.com\","
    "\"scope\":\"Namespaced\",\"names\":{\"plural\":\"widgets\",\"singular\":\"widget\","
    "\"kind\":\"Widget\",\"listKind\":\"WidgetList\",\"shortNames\":[\"wd\"],"
    "\"categories\":[\"all\"]},\"versions\":["
    "{\"name\":\"v1\",\"served\":true,\"storage\":false,\"schema\":{\"openAPIV3Schema\":"
    "{\"type\":\"object\"}},\"subresources\":{\"status\":{}}},"
    "{\"name\":\"v2\",\"served\":true,\"storage\":true,\"schema\":{\"openAPIV3Schema\":"
    "{\"type\":\"object\"}},\"subresources\":{\"status\":{},\"scale\":{"
    "\"specReplicasPath\":\".spec.replicas\",\"statusReplicasPath\":\".status.replicas\"}}},"
    "{\"name\":\"v0\",\"served\":false,\"storage\":false}]}}";

static void test_crd(void **state)
{
    (void)state;
    sb_response resp;
    json_t *crd = json_loads(CRD, 0, NULL);
    assert_non_null(crd);
    assert_int_equal(get(&resp, "/apis/example.com/v1", NULL), 1);
    assert_int_equal(resp.status, 404);
    sb_resp_dispose(&resp);

    assert_int_equal(sb_types_add_crd(types, crd), 0);
    assert_true(sb_types_serves(types, "example.com", "v1"));
    assert_true(sb_types_serves(types, "example.com", "v2"));
    assert_false(sb_types_serves(types, "example.com", "v0"));
    const sb_type *t = sb_types_by_kind(types, "example.com", "v2", "Widget");
    assert_non_null(t);
    assert_int_equal(t->flags, SB_T_NAMESPACED | SB_T_STATUS | SB_T_SCALE | SB_T_GENERATION |
                                   SB_T_CUSTOM);
    assert_false(sb_types_group_is_builtin(types, "example.com"));
    assert_true(sb_types_group_is_builtin(types, "apps"));

    /* versions in priority order: v2 preferred */
    assert_int_equal(get(&resp, "/apis/example.com", NULL), 1);
    assert_string_equal(resp.body.ptr,
                        "{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\",\"name\":\"example.com\","
                        "\"versions\":[{\"groupVersion\":\"example.com/v2\",\"version\":\"v2\"},"
                        "{\"groupVersion\":\"example.com/v1\",\"version\":\"v1\"}],"
                        "\"preferredVersion\":{\"groupVersion\":\"example.com/v2\","
                        "\"version\":\"v2\"}}\n");
    sb_resp_dispose(&resp);

    assert_int_equal(get(&resp, "/apis/example.com/v1", NULL), 1);
    json_t *doc = body_json(&resp);
    char *s = dump(find_by(json_object_get(doc, "resources"), "name", "widgets"));
    static const char want[] = "{\"name\":\"widgets\",\"singularName\":\"widget\","
                           "\"namespaced\":true,\"kind\":\"Widget\",\"verbs\":[\"create\","
                           "\"delete\",\"deletecollection\",\"get\",\"list\",\"patch\","
                           "\"update\",\"watch\"],\"shortNames\":[\"wd\"],"
                           "\"categories\":[\"all\"],\"storageVersionHash\":\"";
    assert_int_equal(strncmp(s, want, sizeof(want) - 1), 0);
    free(s);
    /* v1 has a status subresource but no scale */
    assert_null(find_by(json_object_get(doc, "resources"), "name", "widgets/scale"));
    assert_non_null(find_by(json_object_get(doc, "resources"), "name", "widgets/status"));
    json_decref(doc);
    sb_resp_dispose(&resp);

    assert_int_equal(get(&resp, "/openapi/v3", NULL), 1);
    doc = body_json(&resp);
    const char *url = pl_json_str(doc, "paths", "apis/example.com/v2", "serverRelativeURL", NULL);
    assert_non_null(url);
    assert_int_equal(strncmp(url, "/openapi/v3/apis/example.com/v2?hash=", 37), 0);
    assert_non_null(pl_json_str(doc, "paths", "api/v1", "serverRelativeURL", NULL));
    sb_resp_dispose(&resp);
    assert_int_equal(get(&resp, url, NULL), 1);
    json_decref(doc);
    doc = body_json(&resp);
    json_t *op = pl_json_path(doc, "paths",
                              "/apis/example.com/v2/namespaces/{namespace}/widgets/{name}", "patch",
                              NULL);
    assert_non_null(op);
    assert_non_null(find_by(json_object_get(op, "parameters"), "name", "fieldValidation"));
    s = dump(json_object_get(op, "x-kubernetes-group-version-kind"));
    assert_string_equal(s, "{\"group\":\"example.com\",\"version\":\"v2\",\"kind\":\"Widget\"}");
    free(s);
    json_decref(doc);
    sb_resp_dispose(&resp);

    /* re-registration replaces; removal hides the group again */
    assert_int_equal(sb_types_add_crd(types, crd), 0);
    sb_types_remove_crd(types, "widgets.example.com");
    assert_false(sb_types_serves(types, "example.com", "v2"));
    assert_int_equal(get(&resp, "/apis/example.com", NULL), 1);
    assert_int_equal(resp.status, 404);
    sb_resp_dispose(&resp);
    json_decref(crd);
}

static void test_openapi(void **state)
{
    (void)state;
    sb_response resp;
    assert_int_equal(get(&resp, "/openapi/v3/api/v1", NULL), 1);
    json_t *doc = body_json(&resp);
    json_t *op = pl_json_path(doc, "paths", "/api/v1/namespaces/{namespace}/configmaps/{name}",
                              "patch", NULL);
    assert_non_null(op);
    assert_non_null(find_by(json_object_get(op, "parameters"), "name", "fieldValidation"));
    assert_string_equal(json_string_value(json_object_get(op, "operationId")),
                        "patchCoreV1NamespacedConfigMap");
    assert_non_null(pl_json_path(doc, "paths", "/api/v1/namespaces/{name}", "patch", NULL));
    json_decref(doc);
    sb_resp_dispose(&resp);

    assert_int_equal(get(&resp, "/openapi/v3/apis/rbac.authorization.k8s.io/v1", NULL), 1);
    doc = body_json(&resp);
    op = pl_json_path(doc, "paths", "/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}",
                      "patch", NULL);
    assert_string_equal(json_string_value(json_object_get(op, "operationId")),
                        "patchRbacAuthorizationV1ClusterRole");
    json_decref(doc);
    sb_resp_dispose(&resp);

    assert_int_equal(get(&resp, "/openapi/v3/apis/nope/v1", NULL), 1);
    assert_int_equal(resp.status, 404);
    sb_resp_dispose(&resp);

    assert_int_equal(get(&resp, "/openapi/v2?timeout=32s",
                         "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"),
                     1);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body.len, 0);
    assert_string_equal(resp.content_type,
                        "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
    sb_resp_dispose(&resp);
}

static void test_types_table(void **state)
{
    (void)state;
    static const char *const kinds[][3] = {
        {"", "v1", "Namespace"}, {"", "v1", "ConfigMap"}, {"", "v1", "Secret"},
        {"", "v1", "Service"}, {"", "v1", "ServiceAccount"}, {"", "v1", "Endpoints"},
        {"", "v1", "Pod"}, {"", "v1", "PersistentVolumeClaim"}, {"", "v1", "PersistentVolume"},
        {"", "v1", "Event"}, {"", "v1", "Node"}, {"", "v1", "LimitRange"},
        {"", "v1", "ResourceQuota"}, {"apps", "v1", "Deployment"},
        {"apps", "v1", "StatefulSet"}, {"apps", "v1", "DaemonSet"}, {"apps", "v1", "ReplicaSet"},
        {"apps", "v1", "ControllerRevision"}, {"batch", "v1", "Job"}, {"batch", "v1", "CronJob"},
        {"rbac.authorization.k8s.io", "v1", "Role"},
        {"rbac.authorization.k8s.io", "v1", "RoleBinding"},
        {"rbac.authorization.k8s.io", "v1", "ClusterRole"},
        {"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"},
        {"networking.k8s.io", "v1", "Ingress"}, {"networking.k8s.io", "v1", "IngressClass"},
        {"networking.k8s.io", "v1", "NetworkPolicy"}, {"policy", "v1", "PodDisruptionBudget"},
        {"autoscaling", "v2", "HorizontalPodAutoscaler"}, {"coordination.k8s.io", "v1", "Lease"},
        {"discovery.k8s.io", "v1", "EndpointSlice"},
        {"apiextensions.k8s.io", "v1", "CustomResourceDefinition"},
        {"storage.k8s.io", "v1", "StorageClass"}, {"scheduling.k8s.io", "v1", "PriorityClass"},
        {"admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration"},
        {"admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration"},
        {"apiregistration.k8s.io", "v1", "APIService"},
    };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        const sb_type *t = sb_types_by_kind(types, kinds[i][0], kinds[i][1], kinds[i][2]);
        assert_non_null(t);
        assert_ptr_equal(sb_types_by_resource(types, t->group, t->version, t->resource), t);
    }
    const sb_type *t = sb_types_by_resource(types, "batch", "v1", "cronjobs");
    assert_int_equal(t->max_name_len, 52);
    assert_int_equal(sb_types_by_kind(types, "", "v1", "Namespace")->name_rule, SB_NAME_LABEL);
    assert_int_equal(sb_types_by_kind(types, "", "v1", "Service")->name_rule, SB_NAME_DNS1035);
    assert_int_equal(sb_types_by_kind(types, "rbac.authorization.k8s.io", "v1", "Role")->name_rule,
                     SB_NAME_PATHSEG);
    assert_true(sb_types_by_kind(types, "apps", "v1", "Deployment")->flags & SB_T_GENERATION);
    assert_false(sb_types_by_kind(types, "", "v1", "ConfigMap")->flags & SB_T_GENERATION);
    assert_null(sb_types_by_resource(types, "apps", "v1", "widgets"));
    assert_string_equal(sb_types_by_kind(types, "", "v1", "Endpoints")->singular, "endpoints");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),     cmocka_unit_test(test_core_legacy),
        cmocka_unit_test(test_apps_legacy), cmocka_unit_test(test_legacy_roots),
        cmocka_unit_test(test_aggregated),  cmocka_unit_test(test_unknown_group),
        cmocka_unit_test(test_crd),         cmocka_unit_test(test_openapi),
        cmocka_unit_test(test_types_table),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
