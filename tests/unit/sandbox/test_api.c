/*
 * test_api.c - in-process tests of the sandbox verbs (sb_api_handle): routing, create,
 * update, patch, delete, dry-run, error bodies (exact JSON of API-NOTES §6.2), RV no-op
 * behaviour, namespaces, finalizers, pagination and selectors.
 */
#include "api_harness.h"

#define CM_URL "/api/v1/namespaces/default/configmaps"
#define CM_BODY "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\"},\"data\":{\"a\":\"1\"}}"
#define JSON "application/json"
#define APPLY "application/apply-patch+yaml"
#define MERGE "application/merge-patch+json"

static void test_sandbox_api__routing_404s(void **state)
{
    (void)state;
    /* unknown resource under a served built-in group-version: JSON Status (§6.3) */
    assert_int_equal(h_req(H, "GET", "/api/v1/foos", NULL, NULL), 404);
    assert_string_equal(h_body(H),
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"the server could not find the requested "
                        "resource\",\"reason\":\"NotFound\",\"details\":{},\"code\":404}");
    /* unknown group: plain text */
    assert_int_equal(h_req(H, "GET", "/apis/example.com/v1/widgets", NULL, NULL), 404);
    assert_string_equal(H->resp.body.ptr, "404 page not found\n");
    assert_string_equal(H->resp.content_type, "text/plain; charset=utf-8");
    /* cluster-scoped type under a namespace */
    assert_int_equal(h_req(H, "GET", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/clusterroles", NULL, NULL), 404);
    assert_non_null(H->json);
    /* POST to the all-namespaces path: 405 */
    assert_int_equal(h_req(H, "POST", "/apis/apps/v1/deployments", JSON, "{}"), 405);
    assert_string_equal(h_str(H, "reason", NULL), "MethodNotAllowed");
    /* item GET of a missing object */
    assert_int_equal(h_req(H, "GET", "/apis/apps/v1/namespaces/default/deployments/web", NULL, NULL), 404);
    assert_string_equal(h_body(H),
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"deployments.apps \\\"web\\\" not found\","
                        "\"reason\":\"NotFound\",\"details\":{\"name\":\"web\",\"group\":\"apps\","
                        "\"kind\":\"deployments\"},\"code\":404}");
}

static void test_sandbox_api__create_get_conflict(void **state)
{
    (void)state;
    assert_int_equal(h_req(H, "POST", CM_URL, JSON, CM_BODY), 201);
    assert_string_equal(h_str(H, "kind", NULL), "ConfigMap");
    assert_string_equal(h_str(H, "metadata", "namespace", NULL), "default");
    assert_int_equal(strlen(h_str(H, "metadata", "uid", NULL)), 36);
    assert_non_null(h_str(H, "metadata", "creationTimestamp", NULL));
    assert_null(json_object_get(json_object_get(H->json, "metadata"), "generation"));
    /* four system namespaces were the first writes */
    assert_string_equal(h_str(H, "metadata", "resourceVersion", NULL), "5");
    /* key order of a real server: kind, apiVersion, metadata */
    const char *prefix = "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":"
                         "\"cfg\",\"namespace\":\"default\",\"uid\":";
    assert_true(strncmp(h_body(H), prefix, strlen(prefix)) == 0);

    assert_int_equal(h_req(H, "GET", CM_URL "/cfg", NULL, NULL), 200);
    assert_string_equal(h_str(H, "data", "a", NULL), "1");

    assert_int_equal(h_req(H, "POST", CM_URL, JSON, CM_BODY), 409);
    assert_string_equal(h_body(H),
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"configmaps \\\"cfg\\\" already exists\","
                        "\"reason\":\"AlreadyExists\",\"details\":{\"name\":\"cfg\",\"kind\":"
                        "\"configmaps\"},\"code\":409}");
}

static void test_sandbox_api__create_errors(void **state)
{
    (void)state;
    /* namespace mismatch (§3.2) */
    assert_int_equal(h_req(H, "POST", CM_URL, JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\",\"namespace\":\"other\"}}"),
                     400);
    assert_string_equal(h_body(H),
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"the namespace of the provided object does not "
                        "match the namespace sent on the request\",\"reason\":\"BadRequest\","
                        "\"code\":400}");
    /* apiVersion mismatch (§5.1) */
    assert_int_equal(h_req(H, "POST", CM_URL, JSON,
                           "{\"apiVersion\":\"apps/v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"}}"),
                     400);
    assert_string_equal(h_str(H, "message", NULL),
                        "the API version in the data (apps/v1) does not match the expected API "
                        "version (v1)");
    /* resourceVersion set: reason-less 500 (§5.1) */
    assert_int_equal(h_req(H, "POST", CM_URL, JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\",\"resourceVersion\":\"3\"}}"),
                     500);
    assert_string_equal(h_body(H),
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"resourceVersion should not be set on objects "
                        "to be created\",\"code\":500}");
    /* missing namespace (§3.3) */
    assert_int_equal(h_req(H, "POST", "/api/v1/namespaces/team-a/configmaps", JSON, CM_BODY), 404);
    assert_string_equal(h_body(H),
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"namespaces \\\"team-a\\\" not found\",\"reason\":"
                        "\"NotFound\",\"details\":{\"name\":\"team-a\",\"kind\":\"namespaces\"},"
                        "\"code\":404}");
    /* invalid name (§3.4, §6.2) */
    assert_int_equal(h_req(H, "POST", CM_URL, JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"Bad_Name\"}}"),
                     422);
    assert_string_equal(
        h_body(H),
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
        "\"message\":\"ConfigMap \\\"Bad_Name\\\" is invalid: metadata.name: Invalid value: "
        "\\\"Bad_Name\\\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
        "characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
        "'example.com', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\",\"reason\":"
        "\"Invalid\",\"details\":{\"name\":\"Bad_Name\",\"kind\":\"ConfigMap\",\"causes\":[{"
        "\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"Bad_Name\\\": a "
        "lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
        "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
        "used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\",\"field\":"
        "\"metadata.name\"}]},\"code\":422}");
    /* two errors are wrapped in [a, b] */
    assert_int_equal(h_req(H, "POST", "/apis/apps/v1/namespaces/default/deployments", JSON,
                           "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"},"
                           "\"spec\":{\"replicas\":-1,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
                           "\"template\":{\"metadata\":{\"labels\":{\"app\":\"x\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}"),
                     422);
    assert_string_equal(h_str(H, "message", NULL),
                        "Deployment.apps \"web\" is invalid: [spec.replicas: Invalid value: -1: "
                        "must be greater than or equal to 0, spec.template.metadata.labels: "
                        "Invalid value: {\"app\":\"x\"}: `selector` does not match template "
                        "`labels`]");
    assert_string_equal(h_str(H, "details", "kind", NULL), "Deployment");
    assert_string_equal(h_str(H, "details", "group", NULL), "apps");
    /* generateName */
    assert_int_equal(h_req(H, "POST", CM_URL, JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"generateName\":\"gen-\"}}"),
                     201);
    assert_int_equal(strlen(h_str(H, "metadata", "name", NULL)), 9);
    assert_true(strncmp(h_str(H, "metadata", "name", NULL), "gen-", 4) == 0);
}

static void test_sandbox_api__put_rv_and_noop(void **state)
{
    (void)state;
    assert_int_equal(h_req(H, "POST", CM_URL, JSON, CM_BODY), 201);
    char rv[32];
    snprintf(rv, sizeof(rv), "%s", h_str(H, "metadata", "resourceVersion", NULL));
    /* stale RV: 409 (§5.2) */
    assert_int_equal(h_req(H, "PUT", CM_URL "/cfg", JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\",\"resourceVersion\":\"1\"},\"data\":{\"a\":\"2\"}}"),
                     409);
    assert_string_equal(h_body(H),
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"Operation cannot be fulfilled on configmaps "
                        "\\\"cfg\\\": the object has been modified; please apply your changes to "
                        "the latest version and try again\",\"reason\":\"Conflict\",\"details\":"
                        "{\"name\":\"cfg\",\"kind\":\"configmaps\"},\"code\":409}");
    /* name mismatch (§3.2) */
    assert_int_equal(h_req(H, "PUT", CM_URL "/cfg", JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"other\"}}"),
                     400);
    assert_string_equal(h_str(H, "message", NULL),
                        "the name of the object (other) does not match the name on the URL (cfg)");
    /* unconditional update of a built-in works; RV bumps */
    assert_int_equal(h_req(H, "PUT", CM_URL "/cfg", JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\"},\"data\":{\"a\":\"2\"}}"),
                     200);
    assert_string_not_equal(h_str(H, "metadata", "resourceVersion", NULL), rv);
    snprintf(rv, sizeof(rv), "%s", h_str(H, "metadata", "resourceVersion", NULL));
    /* the same content again: nothing persisted (§4.2) */
    assert_int_equal(h_req(H, "PUT", CM_URL "/cfg", JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\"},\"data\":{\"a\":\"2\"}}"),
                     200);
    assert_string_equal(h_str(H, "metadata", "resourceVersion", NULL), rv);
    /* merge patch with no change */
    assert_int_equal(h_req(H, "PATCH", CM_URL "/cfg", MERGE, "{\"data\":{\"a\":\"2\"}}"), 200);
    assert_string_equal(h_str(H, "metadata", "resourceVersion", NULL), rv);
    /* missing object */
    assert_int_equal(h_req(H, "PUT", CM_URL "/nope", JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"nope\"}}"),
                     404);
    /* uid is immutable */
    assert_int_equal(h_req(H, "PUT", CM_URL "/cfg", JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\",\"uid\":\"x\"}}"),
                     422);
    assert_string_equal(h_str(H, "message", NULL),
                        "ConfigMap \"cfg\" is invalid: metadata.uid: Invalid value: \"x\": field "
                        "is immutable");
}

static void test_sandbox_api__patch_options(void **state)
{
    (void)state;
    assert_int_equal(h_req(H, "POST", CM_URL, JSON, CM_BODY), 201);
    /* apply without fieldManager (§4.1) */
    assert_int_equal(h_req(H, "PATCH", CM_URL "/cfg", APPLY,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\"}}"),
                     422);
    assert_string_equal(h_body(H),
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"PatchOptions.meta.k8s.io \\\"\\\" is invalid: "
                        "fieldManager: Required value: is required for apply patch\",\"reason\":"
                        "\"Invalid\",\"details\":{\"group\":\"meta.k8s.io\",\"kind\":"
                        "\"PatchOptions\",\"causes\":[{\"reason\":\"FieldValueRequired\","
                        "\"message\":\"Required value: is required for apply patch\",\"field\":"
                        "\"fieldManager\"}]},\"code\":422}");
    /* version mismatch, managedFields, name mismatch */
    assert_int_equal(h_req(H, "PATCH", CM_URL "/cfg?fieldManager=t", APPLY,
                           "{\"apiVersion\":\"apps/v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\"}}"),
                     400);
    assert_string_equal(h_str(H, "message", NULL),
                        "Incorrect version specified in apply patch. Specified patch version: "
                        "apps/v1, expected: v1");
    assert_int_equal(h_req(H, "PATCH", CM_URL "/cfg?fieldManager=t", APPLY,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\",\"managedFields\":[]}}"),
                     400);
    assert_string_equal(h_str(H, "message", NULL), "metadata.managedFields must be nil");
    assert_int_equal(h_req(H, "PATCH", CM_URL "/cfg?fieldManager=t", APPLY,
                           "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"),
                     400);
    assert_string_equal(h_str(H, "message", NULL),
                        "the name of the object () does not match the name on the URL (cfg)");
    /* force on a non-apply patch */
    assert_int_equal(h_req(H, "PATCH", CM_URL "/cfg?force=true", MERGE, "{}"), 422);
    assert_string_equal(h_str(H, "message", NULL),
                        "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be "
                        "specified for non-apply patch");
    /* unknown content type */
    assert_int_equal(h_req(H, "PATCH", CM_URL "/cfg", "text/plain", "{}"), 415);
    assert_string_equal(h_body(H),
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"the body of the request was in an unknown "
                        "format - accepted media types include: application/json-patch+json, "
                        "application/merge-patch+json, application/strategic-merge-patch+json, "
                        "application/apply-patch+yaml\",\"reason\":\"UnsupportedMediaType\","
                        "\"code\":415}");
    /* dryRun with another value (§2) */
    assert_int_equal(h_req(H, "PATCH", CM_URL "/cfg?dryRun=Foo", MERGE, "{}"), 422);
    assert_string_equal(h_body(H),
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"PatchOptions.meta.k8s.io \\\"\\\" is invalid: "
                        "dryRun: Unsupported value: [\\\"Foo\\\"]: supported values: "
                        "\\\"All\\\"\",\"reason\":\"Invalid\",\"details\":{\"group\":"
                        "\"meta.k8s.io\",\"kind\":\"PatchOptions\",\"causes\":[{\"reason\":"
                        "\"FieldValueNotSupported\",\"message\":\"Unsupported value: "
                        "[\\\"Foo\\\"]: supported values: \\\"All\\\"\",\"field\":\"dryRun\"}]},"
                        "\"code\":422}");
    /* patch of a missing object */
    assert_int_equal(h_req(H, "PATCH", CM_URL "/nope", MERGE, "{}"), 404);
}

static void test_sandbox_api__apply_create_and_noop(void **state)
{
    (void)state;
    const char *body = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"ap\",\"namespace\":\"default\"},\"data\":{\"a\":\"1\"}}\n";
    assert_int_equal(h_req(H, "PATCH", CM_URL "/ap?fieldManager=gitops&force=false", APPLY, body), 201);
    char rv[32];
    snprintf(rv, sizeof(rv), "%s", h_str(H, "metadata", "resourceVersion", NULL));
    assert_int_equal(h_req(H, "PATCH", CM_URL "/ap?fieldManager=gitops&force=false", APPLY, body), 200);
    assert_string_equal(h_str(H, "metadata", "resourceVersion", NULL), rv);
    /* a YAML body works too */
    assert_int_equal(h_req(H, "PATCH", CM_URL "/ap?fieldManager=gitops", APPLY,
                           "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ap\ndata:\n  a: \"2\"\n"),
                     200);
    assert_string_equal(h_str(H, "data", "a", NULL), "2");
    /* create-on-apply in a missing namespace */
    assert_int_equal(h_req(H, "PATCH", "/api/v1/namespaces/nope/configmaps/ap?fieldManager=gitops", APPLY,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"ap\"}}"),
                     404);
    assert_string_equal(h_str(H, "details", "kind", NULL), "namespaces");
}

static void test_sandbox_api__dry_run(void **state)
{
    (void)state;
    assert_int_equal(h_req(H, "POST", CM_URL "?dryRun=All", JSON, CM_BODY), 201);
    assert_int_equal(strlen(h_str(H, "metadata", "uid", NULL)), 36);
    assert_non_null(h_str(H, "metadata", "creationTimestamp", NULL));
    assert_null(h_str(H, "metadata", "resourceVersion", NULL));
    assert_int_equal(h_req(H, "GET", CM_URL "/cfg", NULL, NULL), 404);
    /* dry-run apply create */
    assert_int_equal(h_req(H, "PATCH", CM_URL "/cfg?dryRun=All&fieldManager=x", APPLY, CM_BODY), 201);
    assert_null(h_str(H, "metadata", "resourceVersion", NULL));
    assert_int_equal(h_req(H, "GET", CM_URL "/cfg", NULL, NULL), 404);
    /* dry-run update keeps the live RV and persists nothing */
    assert_int_equal(h_req(H, "POST", CM_URL, JSON, CM_BODY), 201);
    char rv[32];
    snprintf(rv, sizeof(rv), "%s", h_str(H, "metadata", "resourceVersion", NULL));
    assert_int_equal(h_req(H, "PATCH", CM_URL "/cfg?dryRun=All", MERGE, "{\"data\":{\"a\":\"9\"}}"), 200);
    assert_string_equal(h_str(H, "data", "a", NULL), "9");
    assert_string_equal(h_str(H, "metadata", "resourceVersion", NULL), rv);
    assert_int_equal(h_req(H, "GET", CM_URL "/cfg", NULL, NULL), 200);
    assert_string_equal(h_str(H, "data", "a", NULL), "1");
    /* dry-run delete */
    assert_int_equal(h_req(H, "DELETE", CM_URL "/cfg?dryRun=All", NULL, NULL), 200);
    assert_int_equal(h_req(H, "GET", CM_URL "/cfg", NULL, NULL), 200);
    assert_string_equal(h_str(H, "metadata", "resourceVersion", NULL), rv);
}

static void test_sandbox_api__delete_and_finalizers(void **state)
{
    (void)state;
    assert_int_equal(h_req(H, "POST", CM_URL, JSON, CM_BODY), 201);
    char uid[64];
    snprintf(uid, sizeof(uid), "%s", h_str(H, "metadata", "uid", NULL));
    assert_int_equal(h_req(H, "DELETE", CM_URL "/cfg", JSON, "{\"propagationPolicy\":\"Background\"}\n"), 200);
    char want[512];
    snprintf(want, sizeof(want),
             "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\","
             "\"details\":{\"name\":\"cfg\",\"kind\":\"configmaps\",\"uid\":\"%s\"}}",
             uid);
    assert_string_equal(h_body(H), want);
    assert_int_equal(h_req(H, "DELETE", CM_URL "/cfg", NULL, NULL), 404);

    /* with a finalizer: stays, Terminating (§5.4) */
    assert_int_equal(h_req(H, "POST", CM_URL, JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"fin\",\"finalizers\":[\"example.com/f\"]}}"),
                     201);
    assert_int_equal(h_req(H, "DELETE", CM_URL "/fin", JSON, "{\"propagationPolicy\":\"Background\"}"), 200);
    assert_string_equal(h_str(H, "kind", NULL), "ConfigMap");
    assert_non_null(h_str(H, "metadata", "deletionTimestamp", NULL));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(H->json, "metadata"), "deletionGracePeriodSeconds")), 0);
    /* repeated DELETE: 200 with the object */
    assert_int_equal(h_req(H, "DELETE", CM_URL "/fin", NULL, NULL), 200);
    assert_string_equal(h_str(H, "kind", NULL), "ConfigMap");
    /* create of the same name: prefixed AlreadyExists */
    assert_int_equal(h_req(H, "POST", CM_URL, JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"fin\"}}"),
                     409);
    assert_string_equal(h_str(H, "message", NULL),
                        "object is being deleted: configmaps \"fin\" already exists");
    /* no new finalizers while deleting */
    assert_int_equal(h_req(H, "PATCH", CM_URL "/fin", MERGE,
                           "{\"metadata\":{\"finalizers\":[\"example.com/f\",\"example.com/g\"]}}"),
                     422);
    /* removing the last finalizer deletes it in that request */
    assert_int_equal(h_req(H, "PATCH", CM_URL "/fin", MERGE, "{\"metadata\":{\"finalizers\":null}}"), 200);
    assert_non_null(h_str(H, "metadata", "deletionTimestamp", NULL));
    assert_int_equal(h_req(H, "GET", CM_URL "/fin", NULL, NULL), 404);

    /* preconditions */
    assert_int_equal(h_req(H, "POST", CM_URL, JSON, CM_BODY), 201);
    assert_int_equal(h_req(H, "DELETE", CM_URL "/cfg", JSON, "{\"preconditions\":{\"uid\":\"abc\"}}"), 409);
    assert_true(strstr(h_str(H, "message", NULL),
                       "Operation cannot be fulfilled on configmaps \"cfg\": Precondition failed: "
                       "UID in precondition: abc, UID in object meta: ") != NULL);
    /* invalid propagation policy */
    assert_int_equal(h_req(H, "DELETE", CM_URL "/cfg?propagationPolicy=Nope", NULL, NULL), 422);
    /* Job default: Orphan, with the warning */
    assert_int_equal(h_req(H, "POST", "/apis/batch/v1/namespaces/default/jobs", JSON,
                           "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"j\"},\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}"),
                     201);
    assert_int_equal(h_req(H, "DELETE", "/apis/batch/v1/namespaces/default/jobs/j", NULL, NULL), 200);
    assert_string_equal(h_header(H, "Warning"),
                        "299 - \"child pods are preserved by default when jobs are deleted; set "
                        "propagationPolicy=Background to remove them or set "
                        "propagationPolicy=Orphan to suppress this warning\"");
    assert_int_equal(h_wait_status(H, "/apis/batch/v1/namespaces/default/jobs/j", 404), 1);
}

static void test_sandbox_api__generation(void **state)
{
    (void)state;
    const char *url = "/apis/apps/v1/namespaces/default/deployments";
    const char *d1 = "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"},"
                     "\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
                     "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.25\"}]}}}}";
    assert_int_equal(h_req(H, "POST", url, JSON, d1), 201);
    json_t *meta = json_object_get(H->json, "metadata");
    assert_int_equal(json_integer_value(json_object_get(meta, "generation")), 1);
    /* defaults (§9) */
    assert_int_equal(json_integer_value(pl_json_path(H->json, "spec", "revisionHistoryLimit", NULL)), 10);
    assert_string_equal(pl_json_str(H->json, "spec", "strategy", "rollingUpdate", "maxSurge", NULL), "25%");
    assert_string_equal(pl_json_str(json_array_get(pl_json_path(H->json, "spec", "template", "spec", "containers", NULL), 0),
                                    "imagePullPolicy", NULL),
                        "IfNotPresent");
    assert_null(json_object_get(H->json, "status"));
    assert_int_equal(h_req(H, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web", MERGE, "{\"spec\":{\"replicas\":3}}"), 200);
    assert_int_equal(json_integer_value(pl_json_path(H->json, "metadata", "generation", NULL)), 2);
    /* Deployment: annotations bump generation too (§3.1) */
    assert_int_equal(h_req(H, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web", MERGE,
                           "{\"metadata\":{\"annotations\":{\"a\":\"b\"}}}"),
                     200);
    assert_int_equal(json_integer_value(pl_json_path(H->json, "metadata", "generation", NULL)), 3);
    /* labels do not */
    assert_int_equal(h_req(H, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web", MERGE,
                           "{\"metadata\":{\"labels\":{\"a\":\"b\"}}}"),
                     200);
    assert_int_equal(json_integer_value(pl_json_path(H->json, "metadata", "generation", NULL)), 3);
    /* status on the main resource is ignored; /status changes only status */
    assert_int_equal(h_req(H, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web", MERGE,
                           "{\"status\":{\"replicas\":7}}"),
                     200);
    assert_null(json_object_get(H->json, "status"));
    assert_int_equal(h_req(H, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web/status", MERGE,
                           "{\"status\":{\"replicas\":7},\"spec\":{\"replicas\":9}}"),
                     200);
    assert_int_equal(json_integer_value(pl_json_path(H->json, "status", "replicas", NULL)), 7);
    assert_int_equal(json_integer_value(pl_json_path(H->json, "spec", "replicas", NULL)), 3);
    assert_int_equal(json_integer_value(pl_json_path(H->json, "metadata", "generation", NULL)), 3);
    /* scale */
    assert_int_equal(h_req(H, "GET", "/apis/apps/v1/namespaces/default/deployments/web/scale", NULL, NULL), 200);
    assert_string_equal(h_str(H, "kind", NULL), "Scale");
    assert_string_equal(h_str(H, "apiVersion", NULL), "autoscaling/v1");
    assert_string_equal(h_str(H, "status", "selector", NULL), "app=web");
    assert_int_equal(h_req(H, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale", MERGE,
                           "{\"spec\":{\"replicas\":5}}"),
                     200);
    assert_int_equal(json_integer_value(pl_json_path(H->json, "spec", "replicas", NULL)), 5);
    /* selector is immutable */
    assert_int_equal(h_req(H, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web", MERGE,
                           "{\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"x\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"x\"}}}}}"),
                     422);
    assert_true(strstr(h_str(H, "message", NULL), "spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"x\"}}: field is immutable") != NULL);
}

static void test_sandbox_api__secret_and_service_defaults(void **state)
{
    (void)state;
    assert_int_equal(h_req(H, "POST", "/api/v1/namespaces/default/secrets", JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"stringData\":{\"user\":\"admin\"}}"),
                     201);
    assert_string_equal(pl_json_str(H->json, "data", "user", NULL), "YWRtaW4=");
    assert_string_equal(h_str(H, "type", NULL), "Opaque");
    assert_null(json_object_get(H->json, "stringData"));
    assert_int_equal(h_req(H, "POST", "/api/v1/namespaces/default/services", JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\"},\"spec\":{\"ports\":[{\"port\":80}]}}"),
                     201);
    assert_string_equal(pl_json_str(H->json, "spec", "type", NULL), "ClusterIP");
    const char *ip = pl_json_str(H->json, "spec", "clusterIP", NULL);
    assert_non_null(ip);
    char ipc[32];
    snprintf(ipc, sizeof(ipc), "%s", ip);
    assert_int_equal(json_integer_value(pl_json_path(json_array_get(pl_json_path(H->json, "spec", "ports", NULL), 0), "targetPort", NULL)), 80);
    /* PUT without clusterIP keeps the allocation */
    assert_int_equal(h_req(H, "PUT", "/api/v1/namespaces/default/services/web", JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\"},\"spec\":{\"ports\":[{\"port\":80}]}}"),
                     200);
    assert_string_equal(pl_json_str(H->json, "spec", "clusterIP", NULL), ipc);
    /* Service names are DNS-1035 labels */
    assert_int_equal(h_req(H, "POST", "/api/v1/namespaces/default/services", JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"1web\"}}"),
                     422);
}

static void test_sandbox_api__list_pagination_selectors(void **state)
{
    (void)state;
    const char *names[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++) {
        char body[256];
        snprintf(body, sizeof(body),
                 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\",\"labels\":{\"app\":\"%s\",\"tier\":\"t%d\"}}}",
                 names[i], i < 2 ? "x" : "y", i);
        assert_int_equal(h_req(H, "POST", CM_URL, JSON, body), 201);
    }
    assert_int_equal(h_req(H, "GET", CM_URL, NULL, NULL), 200);
    assert_string_equal(h_str(H, "kind", NULL), "ConfigMapList");
    assert_string_equal(h_str(H, "metadata", "resourceVersion", NULL), "9");
    json_t *items = json_object_get(H->json, "items");
    assert_int_equal(json_array_size(items), 5);
    /* list items of built-ins carry no kind/apiVersion (§10.4) */
    assert_null(json_object_get(json_array_get(items, 0), "kind"));
    const char *prefix = "{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\",\"metadata\":{"
                         "\"resourceVersion\":\"9\"},\"items\":[{\"metadata\":{\"name\":\"a\"";
    assert_true(strncmp(h_body(H), prefix, strlen(prefix)) == 0);
    /* pagination */
    assert_int_equal(h_req(H, "GET", CM_URL "?limit=2", NULL, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(H->json, "items")), 2);
    char tok[512];
    snprintf(tok, sizeof(tok), "%s", h_str(H, "metadata", "continue", NULL));
    char url[1024];
    snprintf(url, sizeof(url), CM_URL "?limit=2&continue=%s", tok);
    assert_int_equal(h_req(H, "GET", url, NULL, NULL), 200);
    assert_string_equal(pl_json_str(json_array_get(json_object_get(H->json, "items"), 0), "metadata", "name", NULL), "c");
    snprintf(tok, sizeof(tok), "%s", h_str(H, "metadata", "continue", NULL));
    snprintf(url, sizeof(url), CM_URL "?limit=2&continue=%s", tok);
    assert_int_equal(h_req(H, "GET", url, NULL, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(H->json, "items")), 1);
    assert_null(h_str(H, "metadata", "continue", NULL));
    assert_int_equal(h_req(H, "GET", CM_URL "?limit=2&continue=garbage", NULL, NULL), 410);
    assert_string_equal(h_str(H, "reason", NULL), "Expired");
    /* label selectors */
    assert_int_equal(h_req(H, "GET", CM_URL "?labelSelector=app%3Dx", NULL, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(H->json, "items")), 2);
    assert_int_equal(h_req(H, "GET", CM_URL "?labelSelector=app!%3Dx,tier", NULL, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(H->json, "items")), 3);
    assert_int_equal(h_req(H, "GET", CM_URL "?labelSelector=tier%20in%20(t0,t4)", NULL, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(H->json, "items")), 2);
    assert_int_equal(h_req(H, "GET", CM_URL "?labelSelector=tier%20notin%20(t0,t4)", NULL, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(H->json, "items")), 3);
    assert_int_equal(h_req(H, "GET", CM_URL "?labelSelector=!app", NULL, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(H->json, "items")), 0);
    assert_int_equal(h_req(H, "GET", CM_URL "?labelSelector=a%20b%20c", NULL, NULL), 400);
    /* field selectors */
    assert_int_equal(h_req(H, "GET", CM_URL "?fieldSelector=metadata.name%3Dc", NULL, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(H->json, "items")), 1);
    assert_int_equal(h_req(H, "GET", "/api/v1/configmaps?fieldSelector=metadata.namespace!%3Ddefault", NULL, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(H->json, "items")), 0);
    assert_int_equal(h_req(H, "GET", CM_URL "?fieldSelector=spec.foo%3D1", NULL, NULL), 400);
    assert_string_equal(h_body(H),
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"\\\"spec.foo\\\" is not a known field "
                        "selector: only \\\"metadata.name\\\", \\\"metadata.namespace\\\"\","
                        "\"reason\":\"BadRequest\",\"code\":400}");
    /* deletecollection */
    assert_int_equal(h_req(H, "DELETE", CM_URL "?labelSelector=app%3Dy", NULL, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(H->json, "items")), 3);
    assert_int_equal(h_req(H, "GET", CM_URL, NULL, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(H->json, "items")), 2);
}

static void test_sandbox_api__namespaces(void **state)
{
    (void)state;
    assert_int_equal(h_req(H, "POST", "/api/v1/namespaces", JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"demo\"}}"),
                     201);
    assert_string_equal(pl_json_str(H->json, "metadata", "labels", "kubernetes.io/metadata.name", NULL), "demo");
    assert_string_equal(pl_json_str(json_array_get(pl_json_path(H->json, "spec", "finalizers", NULL), 0), NULL), "kubernetes");
    assert_string_equal(pl_json_str(H->json, "status", "phase", NULL), "Active");
    assert_int_equal(h_req(H, "POST", "/api/v1/namespaces/demo/configmaps", JSON, CM_BODY), 201);
    assert_int_equal(h_req(H, "POST", "/api/v1/namespaces/demo/configmaps", JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"held\",\"finalizers\":[\"x.io/f\"]}}"),
                     201);
    assert_int_equal(h_req(H, "DELETE", "/api/v1/namespaces/demo", JSON, "{\"propagationPolicy\":\"Background\"}"), 200);
    assert_string_equal(h_str(H, "kind", NULL), "Namespace");
    assert_string_equal(pl_json_str(H->json, "status", "phase", NULL), "Terminating");
    assert_null(json_object_get(json_object_get(H->json, "metadata"), "deletionGracePeriodSeconds"));
    /* create into a terminating namespace: 403 (§8) */
    assert_int_equal(h_req(H, "POST", "/api/v1/namespaces/demo/configmaps", JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"late\"}}"),
                     403);
    assert_string_equal(h_body(H),
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"configmaps \\\"late\\\" is forbidden: unable to "
                        "create new content in namespace demo because it is being terminated\","
                        "\"reason\":\"Forbidden\",\"details\":{\"name\":\"late\",\"kind\":"
                        "\"configmaps\",\"causes\":[{\"reason\":\"NamespaceTerminating\","
                        "\"message\":\"namespace demo is being terminated\",\"field\":"
                        "\"metadata.namespace\"}]},\"code\":403}");
    assert_int_equal(h_wait_status(H, "/api/v1/namespaces/demo/configmaps/cfg", 404), 1);
    /* the finalizer holds the namespace */
    h_sleep_ms(100);
    assert_int_equal(h_req(H, "GET", "/api/v1/namespaces/demo", NULL, NULL), 200);
    assert_int_equal(h_req(H, "PATCH", "/api/v1/namespaces/demo/configmaps/held", MERGE, "{\"metadata\":{\"finalizers\":[]}}"), 200);
    assert_int_equal(h_wait_status(H, "/api/v1/namespaces/demo", 404), 1);
    /* system namespaces cannot be deleted */
    assert_int_equal(h_req(H, "DELETE", "/api/v1/namespaces/default", NULL, NULL), 403);
    assert_string_equal(h_body(H),
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"namespaces \\\"default\\\" is forbidden: this "
                        "namespace may not be deleted\",\"reason\":\"Forbidden\",\"details\":{"
                        "\"name\":\"default\",\"kind\":\"namespaces\"},\"code\":403}");
    /* namespace names are DNS-1123 labels */
    assert_int_equal(h_req(H, "POST", "/api/v1/namespaces", JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a.b\"}}"),
                     422);
}

static void test_sandbox_api__gc(void **state)
{
    (void)state;
    assert_int_equal(h_req(H, "POST", CM_URL, JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"owner\"}}"),
                     201);
    char uid[64];
    snprintf(uid, sizeof(uid), "%s", h_str(H, "metadata", "uid", NULL));
    char body[512];
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"dep\",\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"owner\",\"uid\":\"%s\",\"blockOwnerDeletion\":true}]}}",
             uid);
    assert_int_equal(h_req(H, "POST", CM_URL, JSON, body), 201);
    /* Orphan: the dependent stays, without the reference */
    assert_int_equal(h_req(H, "DELETE", CM_URL "/owner", JSON, "{\"propagationPolicy\":\"Orphan\"}"), 200);
    assert_string_equal(pl_json_str(json_array_get(pl_json_path(H->json, "metadata", "finalizers", NULL), 0), NULL), "orphan");
    assert_int_equal(h_wait_status(H, CM_URL "/owner", 404), 1);
    assert_int_equal(h_req(H, "GET", CM_URL "/dep", NULL, NULL), 200);
    assert_null(pl_json_path(H->json, "metadata", "ownerReferences", NULL));
    /* Background: the dependent goes after the owner */
    assert_int_equal(h_req(H, "POST", CM_URL, JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"owner2\"}}"),
                     201);
    snprintf(uid, sizeof(uid), "%s", h_str(H, "metadata", "uid", NULL));
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"dep2\",\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"owner2\",\"uid\":\"%s\",\"blockOwnerDeletion\":true}]}}",
             uid);
    assert_int_equal(h_req(H, "POST", CM_URL, JSON, body), 201);
    assert_int_equal(h_req(H, "DELETE", CM_URL "/owner2", NULL, NULL), 200);
    assert_int_equal(h_wait_status(H, CM_URL "/dep2", 404), 1);
    /* Foreground: owner waits for the dependent */
    assert_int_equal(h_req(H, "POST", CM_URL, JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"owner3\"}}"),
                     201);
    snprintf(uid, sizeof(uid), "%s", h_str(H, "metadata", "uid", NULL));
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"dep3\",\"finalizers\":[\"x.io/hold\"],\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"owner3\",\"uid\":\"%s\",\"blockOwnerDeletion\":true}]}}",
             uid);
    assert_int_equal(h_req(H, "POST", CM_URL, JSON, body), 201);
    assert_int_equal(h_req(H, "DELETE", CM_URL "/owner3", JSON, "{\"propagationPolicy\":\"Foreground\"}"), 200);
    assert_string_equal(pl_json_str(json_array_get(pl_json_path(H->json, "metadata", "finalizers", NULL), 0), NULL), "foregroundDeletion");
    h_sleep_ms(100);
    assert_int_equal(h_req(H, "GET", CM_URL "/owner3", NULL, NULL), 200);
    assert_int_equal(h_req(H, "GET", CM_URL "/dep3", NULL, NULL), 200);
    assert_non_null(pl_json_str(H->json, "metadata", "deletionTimestamp", NULL));
    assert_int_equal(h_req(H, "PATCH", CM_URL "/dep3", MERGE, "{\"metadata\":{\"finalizers\":null}}"), 200);
    assert_int_equal(h_wait_status(H, CM_URL "/owner3", 404), 1);
}

static void test_sandbox_api__control_objects(void **state)
{
    (void)state;
    assert_int_equal(h_req(H, "POST", "/_plumb/objects", "application/yaml",
                           "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1, namespace: loaded}\ndata: {a: b}\n"
                           "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: loaded}\n"
                           "spec: {selector: {matchLabels: {app: d}}, template: {metadata: {labels: {app: d}}, spec: {containers: [{name: c, image: i}]}}}\n"
                           "status: {readyReplicas: 1}\n"),
                     200);
    assert_int_equal(json_array_size(json_object_get(H->json, "items")), 2);
    assert_int_equal(h_req(H, "GET", "/api/v1/namespaces/loaded", NULL, NULL), 200);
    assert_int_equal(h_req(H, "GET", "/apis/apps/v1/namespaces/loaded/deployments/d", NULL, NULL), 200);
    assert_int_equal(json_integer_value(pl_json_path(H->json, "status", "readyReplicas", NULL)), 1);
    assert_int_equal(h_req(H, "PUT", "/_plumb/status/apis/apps/v1/namespaces/loaded/deployments/d", JSON,
                           "{\"readyReplicas\":3}"),
                     200);
    assert_int_equal(json_integer_value(pl_json_path(H->json, "status", "readyReplicas", NULL)), 3);
    assert_int_equal(h_req(H, "GET", "/_plumb/objects", NULL, NULL), 200);
    assert_true(json_array_size(json_object_get(H->json, "items")) >= 7);
    assert_int_equal(h_req(H, "POST", "/_plumb/objects", "application/yaml",
                           "apiVersion: example.com/v1\nkind: Nope\nmetadata: {name: x}\n"),
                     400);
}

static void test_sandbox_api__state_persistence(void **state)
{
    (void)state;
    char dir[] = "/tmp/plumb-sb-state-XXXXXX";
    assert_non_null(mkdtemp(dir));
    harness *h = pl_calloc(1, sizeof(*h));
    h_init(h, dir, 100);
    assert_int_equal(h_req(h, "POST", CM_URL, JSON, CM_BODY), 201);
    assert_int_equal(h_req(h, "POST", CM_URL, JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"gone\"}}"),
                     201);
    assert_int_equal(h_req(h, "DELETE", CM_URL "/gone", NULL, NULL), 200);
    assert_int_equal(h_req(h, "GET", CM_URL "/cfg", NULL, NULL), 200);
    char uid[64];
    snprintf(uid, sizeof(uid), "%s", h_str(h, "metadata", "uid", NULL));
    h_fini(h);
    h_init(h, dir, 100);
    assert_int_equal(h_req(h, "GET", CM_URL "/cfg", NULL, NULL), 200);
    assert_string_equal(h_str(h, "metadata", "uid", NULL), uid);
    assert_string_equal(h_str(h, "metadata", "resourceVersion", NULL), "5");
    assert_int_equal(h_req(h, "GET", CM_URL "/gone", NULL, NULL), 404);
    /* the RV counter survives: the next write is 8 (5 cfg, 6 gone, 7 delete) */
    assert_int_equal(h_req(h, "POST", CM_URL, JSON,
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"new\"}}"),
                     201);
    assert_string_equal(h_str(h, "metadata", "resourceVersion", NULL), "8");
    /* a watch from before the restart is too old */
    assert_int_equal(h_req(h, "GET", CM_URL "?watch=1&resourceVersion=3", NULL, NULL), 200);
    char *ev = h_watch_read(h, 1, 1000);
    assert_non_null(strstr(ev, "\"type\":\"ERROR\""));
    assert_non_null(strstr(ev, "\"code\":410"));
    pl_free(ev);
    h_fini(h);
    pl_free(h);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sandbox_api__routing_404s, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_api__create_get_conflict, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_api__create_errors, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_api__put_rv_and_noop, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_api__patch_options, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_api__apply_create_and_noop, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_api__dry_run, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_api__delete_and_finalizers, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_api__generation, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_api__secret_and_service_defaults, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_api__list_pagination_selectors, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_api__namespaces, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_api__gc, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_api__control_objects, h_setup, h_teardown),
        cmocka_unit_test(test_sandbox_api__state_persistence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
