/*
 * test_status.c - the pure rules of engine/kube (status.c, discovery parsing): Status decoding
 * and the pl_code table (API-NOTES §6), retry classification, backoff, the token bucket, URL
 * building (§2), aggregated-discovery detection (§1.3) and discovery documents (§1.1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kube_int.h"

static char *dumps(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

/* ---- Status decoding -------------------------------------------------------------------- */

static void test_kube_status__json_status_kept(void **state)
{
    const char *body = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                       "\"Failure\",\"message\":\"configmaps \\\"cfg\\\" not found\",\"reason\":"
                       "\"NotFound\",\"details\":{\"name\":\"cfg\",\"kind\":\"configmaps\"},"
                       "\"code\":404}";
    json_t *st = NULL;
    char *s;

    (void)state;
    assert_int_equal(pl_kube__status_decode(&st, 404, "application/json", body, strlen(body), -1), 0);
    s = dumps(st);
    assert_string_equal(s, body);
    free(s);
    assert_int_equal(pl_kube__status_code(st, 404), PL_ENOTFOUND);
    json_decref(st);
}

static void test_kube_status__text_404(void **state)
{
    json_t *st = NULL;
    char *s;

    (void)state;
    /* §6.3: Go's http.NotFound body for an unknown group or a CR without its CRD */
    assert_int_equal(pl_kube__status_decode(&st, 404, "text/plain; charset=utf-8",
                                            "404 page not found\n", 19, -1),
                     0);
    s = dumps(st);
    assert_string_equal(s, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                           "\"Failure\",\"message\":\"the server could not find the requested "
                           "resource\",\"reason\":\"NotFound\",\"code\":404}");
    free(s);
    json_decref(st);
}

static void test_kube_status__apf_429(void **state)
{
    json_t *st = NULL;
    char *s;

    (void)state;
    /* §6.2: API Priority and Fairness answers in plain text with Retry-After */
    assert_int_equal(pl_kube__status_decode(&st, 429, "text/plain; charset=utf-8",
                                            "Too many requests, please try again later.\n", 43, 2),
                     0);
    s = dumps(st);
    assert_string_equal(s, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                           "\"Failure\",\"message\":\"the server has received too many requests "
                           "and has asked us to try again later\",\"reason\":\"TooManyRequests\","
                           "\"details\":{\"retryAfterSeconds\":2},\"code\":429}");
    free(s);
    assert_int_equal(pl_kube__status_code(st, 429), PL_EUNAVAIL);
    json_decref(st);
}

static void test_kube_status__text_500(void **state)
{
    json_t *st = NULL;

    (void)state;
    assert_int_equal(pl_kube__status_decode(&st, 502, "text/html", "<h1>bad\ngateway</h1>", 20, -1), 0);
    assert_string_equal(pl_json_str(st, "reason", NULL), "InternalError");
    assert_string_equal(pl_json_str(st, "message", NULL),
                        "an error on the server (\"<h1>bad gateway</h1>\") has prevented the "
                        "request from succeeding");
    json_decref(st);
}

typedef struct code_case {
    long http;
    const char *body;
    int code;
} code_case;

static void test_kube_status__code_table(void **state)
{
    static const code_case cases[] = {
        {400, "{\"kind\":\"Status\",\"reason\":\"BadRequest\",\"code\":400}", PL_EINVALID},
        {401, "{\"kind\":\"Status\",\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\",\"code\":401}", PL_EAUTH},
        {403, "{\"kind\":\"Status\",\"reason\":\"Forbidden\",\"code\":403}", PL_EAUTH},
        {404, "{\"kind\":\"Status\",\"reason\":\"NotFound\",\"code\":404}", PL_ENOTFOUND},
        {405, "{\"kind\":\"Status\",\"reason\":\"MethodNotAllowed\",\"code\":405}", PL_EINVALID},
        {409, "{\"kind\":\"Status\",\"reason\":\"AlreadyExists\",\"code\":409}", PL_ECONFLICT},
        {409, "{\"kind\":\"Status\",\"message\":\"Apply failed with 1 conflict: conflict with \\\"kubectl-edit\\\" using apps/v1: .spec.replicas\",\"reason\":\"Conflict\",\"details\":{\"causes\":[{\"reason\":\"FieldManagerConflict\",\"message\":\"conflict with \\\"kubectl-edit\\\" using apps/v1\",\"field\":\".spec.replicas\"}]},\"code\":409}", PL_ECONFLICT},
        {410, "{\"kind\":\"Status\",\"message\":\"too old resource version: 1000 (2000)\",\"reason\":\"Expired\",\"code\":410}", PL_ERROR},
        {413, "{\"kind\":\"Status\",\"reason\":\"RequestEntityTooLarge\",\"code\":413}", PL_ETOOBIG},
        {415, "{\"kind\":\"Status\",\"reason\":\"UnsupportedMediaType\",\"code\":415}", PL_EINVALID},
        {422, "{\"kind\":\"Status\",\"reason\":\"Invalid\",\"details\":{\"causes\":[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: -1: must be greater than or equal to 0\",\"field\":\"spec.replicas\"}]},\"code\":422}", PL_EINVALID},
        {422, "{\"kind\":\"Status\",\"reason\":\"Invalid\",\"details\":{\"causes\":[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: {\\\"matchLabels\\\":{\\\"app\\\":\\\"y\\\"}}: field is immutable\",\"field\":\"spec.selector\"}]},\"code\":422}", PL_EIMMUTABLE},
        {429, "{\"kind\":\"Status\",\"reason\":\"TooManyRequests\",\"code\":429}", PL_EUNAVAIL},
        {500, "{\"kind\":\"Status\",\"message\":\"failed to create typed patch object (demo/web; apps/v1, Kind=Deployment): .spec.foo: field not declared in schema\",\"code\":500}", PL_EINVALID},
        {500, "{\"kind\":\"Status\",\"message\":\"Internal error occurred: boom\",\"reason\":\"InternalError\",\"code\":500}", PL_EUNAVAIL},
        {500, "{\"kind\":\"Status\",\"reason\":\"ServerTimeout\",\"code\":500}", PL_ETIMEOUT},
        {502, "{\"kind\":\"Status\",\"code\":502}", PL_EUNAVAIL},
        {503, "{\"kind\":\"Status\",\"reason\":\"ServiceUnavailable\",\"code\":503}", PL_EUNAVAIL},
        {504, "{\"kind\":\"Status\",\"reason\":\"Timeout\",\"code\":504}", PL_ETIMEOUT},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *st = json_loads(cases[i].body, 0, NULL);
        assert_non_null(st);
        if (pl_kube__status_code(st, cases[i].http) != cases[i].code) {
            print_error("case %zu (%ld): got %d want %d\n", i, cases[i].http,
                        pl_kube__status_code(st, cases[i].http), cases[i].code);
            fail();
        }
        /* http 0: the code comes from the Status itself (watch ERROR events) */
        assert_int_equal(pl_kube__status_code(st, 0), cases[i].code);
        json_decref(st);
    }
}

/* ---- retry classification ----------------------------------------------------------------- */

static void test_kube_status__retry_table(void **state)
{
    json_t *schema500 = json_loads("{\"kind\":\"Status\",\"message\":\".spec.foo: field not "
                                   "declared in schema\",\"code\":500}",
                                   0, NULL);
    json_t *plain = json_loads("{\"kind\":\"Status\",\"code\":500}", 0, NULL);

    (void)state;
    /* connection failures: before sending always, after sending only idempotent */
    assert_int_equal(pl_kube__should_retry(PL_KUBE_UNSAFE, 0, 0, NULL, 0, 5), 1);
    assert_int_equal(pl_kube__should_retry(PL_KUBE_UNSAFE, 0, 1, NULL, 0, 5), 0);
    assert_int_equal(pl_kube__should_retry(PL_KUBE_IDEMPOTENT, 0, 1, NULL, 0, 5), 1);
    /* 429 and 503 always */
    assert_int_equal(pl_kube__should_retry(PL_KUBE_UNSAFE, 429, 1, plain, 0, 5), 1);
    assert_int_equal(pl_kube__should_retry(PL_KUBE_UNSAFE, 503, 1, plain, 0, 5), 1);
    /* 500: idempotent only, bounded, never the schema error */
    assert_int_equal(pl_kube__should_retry(PL_KUBE_IDEMPOTENT, 500, 1, plain, 1, 5), 1);
    assert_int_equal(pl_kube__should_retry(PL_KUBE_IDEMPOTENT, 500, 1, plain, 5, 5), 0);
    assert_int_equal(pl_kube__should_retry(PL_KUBE_UNSAFE, 500, 1, plain, 1, 5), 0);
    assert_int_equal(pl_kube__should_retry(PL_KUBE_IDEMPOTENT, 500, 1, schema500, 1, 5), 0);
    /* 502/504: the write may have happened (§6.2) */
    assert_int_equal(pl_kube__should_retry(PL_KUBE_IDEMPOTENT, 504, 1, plain, 0, 5), 1);
    assert_int_equal(pl_kube__should_retry(PL_KUBE_UNSAFE, 504, 1, plain, 0, 5), 0);
    assert_int_equal(pl_kube__should_retry(PL_KUBE_IDEMPOTENT, 502, 1, plain, 0, 5), 1);
    /* never other 4xx */
    for (long h = 400; h < 429; h++)
        assert_int_equal(pl_kube__should_retry(PL_KUBE_IDEMPOTENT, h, 1, plain, 0, 5), 0);
    assert_int_equal(pl_kube__should_retry(PL_KUBE_IDEMPOTENT, 501, 1, plain, 0, 5), 0);
    json_decref(schema500);
    json_decref(plain);
}

static void test_kube_status__backoff(void **state)
{
    (void)state;
    /* equal jitter: [d/2, d) with d = base * 2^(n-1), capped */
    assert_int_equal(pl_kube__backoff_ms(1, 100, 5000, -1, 30000, 0.0), 50);
    assert_int_equal(pl_kube__backoff_ms(1, 100, 5000, -1, 30000, 0.5), 75);
    assert_int_equal(pl_kube__backoff_ms(3, 100, 5000, -1, 30000, 0.0), 200);
    assert_int_equal(pl_kube__backoff_ms(10, 100, 5000, -1, 30000, 0.0), 2500);
    assert_int_equal(pl_kube__backoff_ms(60, 100, 5000, -1, 30000, 0.0), 2500);
    assert_true(pl_kube__backoff_ms(10, 100, 5000, -1, 30000, 0.9999) < 5000);
    /* Retry-After wins, capped */
    assert_int_equal(pl_kube__backoff_ms(1, 100, 5000, 3, 30000, 0.7), 3000);
    assert_int_equal(pl_kube__backoff_ms(1, 100, 5000, 120, 30000, 0.7), 30000);
    /* Retry-After: 0 falls back to the exponential delay */
    assert_int_equal(pl_kube__backoff_ms(2, 100, 5000, 0, 30000, 0.0), 100);
}

static void test_kube_status__bucket(void **state)
{
    pl_kube_bucket b;
    int i;

    (void)state;
    pl_kube__bucket_init(&b, 10.0, 3, 1000);
    for (i = 0; i < 3; i++)
        assert_int_equal(pl_kube__bucket_take(&b, 1000), 0); /* the burst */
    assert_int_equal(pl_kube__bucket_take(&b, 1000), 100);  /* 10 qps: one token per 100 ms */
    assert_int_equal(pl_kube__bucket_take(&b, 1050), 50);
    assert_int_equal(pl_kube__bucket_take(&b, 1100), 0);
    assert_int_equal(pl_kube__bucket_take(&b, 1100), 100);
    /* refill never exceeds the burst */
    assert_int_equal(pl_kube__bucket_take(&b, 100000), 0);
    assert_int_equal(pl_kube__bucket_take(&b, 100000), 0);
    assert_int_equal(pl_kube__bucket_take(&b, 100000), 0);
    assert_int_equal(pl_kube__bucket_take(&b, 100000), 100);
    /* qps <= 0: unlimited */
    pl_kube__bucket_init(&b, 0, 1, 0);
    for (i = 0; i < 1000; i++)
        assert_int_equal(pl_kube__bucket_take(&b, 0), 0);
}

/* ---- URLs --------------------------------------------------------------------------------- */

static void expect_path(const char *g, const char *v, const char *res, const char *ns,
                        const char *name, const char *sub, const char *want)
{
    pl_buf b = PL_BUF_INIT;
    assert_int_equal(pl_kube__resource_path(&b, g, v, res, ns, name, sub), 0);
    assert_string_equal(b.ptr, want);
    pl_buf_dispose(&b);
}

static void test_kube_status__urls(void **state)
{
    pl_buf b = PL_BUF_INIT;

    (void)state;
    expect_path("", "v1", "configmaps", "default", NULL, NULL, "/api/v1/namespaces/default/configmaps");
    expect_path("", "v1", "configmaps", "default", "cfg", NULL, "/api/v1/namespaces/default/configmaps/cfg");
    expect_path("", "v1", "namespaces", NULL, "team-a", NULL, "/api/v1/namespaces/team-a");
    expect_path("", "v1", "nodes", "", NULL, NULL, "/api/v1/nodes");
    expect_path("apps", "v1", "deployments", "demo", "web", "status",
                "/apis/apps/v1/namespaces/demo/deployments/web/status");
    expect_path("apps", "v1", "deployments", "", NULL, NULL, "/apis/apps/v1/deployments");
    expect_path("rbac.authorization.k8s.io", "v1", "clusterroles", NULL, "system:aggregate-to-edit",
                NULL, "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:aggregate-to-edit");
    expect_path("example.com", "v1", "widgets", "ns", "a b/c", NULL,
                "/apis/example.com/v1/namespaces/ns/widgets/a%20b%2Fc");

    assert_int_equal(pl_kube__query_escape(&b, "metadata.name=x,app in (a,b)"), 0);
    assert_string_equal(b.ptr, "metadata.name%3Dx%2Capp%20in%20%28a%2Cb%29");
    pl_buf_clear(&b);
    assert_int_equal(pl_kube__query_escape(&b, "applyset.kubernetes.io/part-of=applyset-x-v1"), 0);
    assert_string_equal(b.ptr, "applyset.kubernetes.io%2Fpart-of%3Dapplyset-x-v1");
    pl_buf_clear(&b);

    assert_int_equal(pl_kube__subject(&b, "apps", "Deployment", "demo", "web"), 0);
    assert_string_equal(b.ptr, "Deployment.apps/demo/web");
    pl_buf_clear(&b);
    assert_int_equal(pl_kube__subject(&b, "", "ConfigMap", "ns", "name"), 0);
    assert_string_equal(b.ptr, "ConfigMap/ns/name");
    pl_buf_clear(&b);
    assert_int_equal(pl_kube__subject(&b, "", "Namespace", "", "team-a"), 0);
    assert_string_equal(b.ptr, "Namespace/team-a");
    pl_buf_dispose(&b);
}

static void test_kube_status__aggregated_ctype(void **state)
{
    (void)state;
    assert_true(pl_kube__is_aggregated_ctype(
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"));
    assert_true(pl_kube__is_aggregated_ctype(
        "application/json; as=APIGroupDiscoveryList; v=v2; g=apidiscovery.k8s.io; charset=utf-8"));
    assert_true(pl_kube__is_aggregated_ctype(
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"));
    assert_false(pl_kube__is_aggregated_ctype("application/json"));
    assert_false(pl_kube__is_aggregated_ctype(NULL));
    assert_false(pl_kube__is_aggregated_ctype("application/json;g=apidiscovery.k8s.io;v=v2"));
    assert_false(pl_kube__is_aggregated_ctype(
        "application/yaml;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"));
}

/* ---- discovery documents -------------------------------------------------------------------- */

static void test_kube_status__discovery_docs(void **state)
{
    pl_kube_disc d;
    const pl_kube_res *r;
    json_t *legacy = json_loads(
        "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"apps/v1\","
        "\"resources\":[{\"name\":\"deployments\",\"singularName\":\"deployment\",\"namespaced\":"
        "true,\"kind\":\"Deployment\",\"verbs\":[\"create\",\"get\",\"patch\"]},{\"name\":"
        "\"deployments/scale\",\"singularName\":\"\",\"namespaced\":true,\"group\":\"autoscaling\","
        "\"version\":\"v1\",\"kind\":\"Scale\",\"verbs\":[\"get\",\"patch\"]}]}",
        0, NULL);
    json_t *core = json_loads(
        "{\"kind\":\"APIResourceList\",\"groupVersion\":\"v1\",\"resources\":[{\"name\":"
        "\"namespaces\",\"singularName\":\"namespace\",\"namespaced\":false,\"kind\":\"Namespace\","
        "\"verbs\":[\"get\"]},{\"name\":\"namespaces/status\",\"singularName\":\"\",\"namespaced\":"
        "false,\"kind\":\"Namespace\",\"verbs\":[\"get\",\"patch\"]}]}",
        0, NULL);
    json_t *agg = json_loads(
        "{\"kind\":\"APIGroupDiscoveryList\",\"apiVersion\":\"apidiscovery.k8s.io/v2\",\"metadata\":"
        "{},\"items\":[{\"metadata\":{\"name\":\"example.com\"},\"versions\":[{\"version\":\"v2\","
        "\"resources\":[{\"resource\":\"widgets\",\"responseKind\":{\"group\":\"example.com\","
        "\"version\":\"v2\",\"kind\":\"Widget\"},\"scope\":\"Namespaced\",\"verbs\":[\"get\","
        "\"patch\"]}]},{\"version\":\"v1\",\"resources\":[{\"resource\":\"widgets\",\"responseKind\":"
        "{\"group\":\"example.com\",\"version\":\"v1\",\"kind\":\"Widget\"},\"scope\":\"Namespaced\","
        "\"verbs\":[\"get\"]}]}]},{\"metadata\":{},\"versions\":[{\"version\":\"v1\",\"resources\":"
        "[{\"resource\":\"persistentvolumes\",\"responseKind\":{\"group\":\"\",\"version\":\"v1\","
        "\"kind\":\"PersistentVolume\"},\"scope\":\"Cluster\",\"verbs\":[\"patch\"],\"subresources\":"
        "[{\"subresource\":\"status\",\"responseKind\":{\"kind\":\"PersistentVolume\"}}]}]}]}]}",
        0, NULL);

    (void)state;
    memset(&d, 0, sizeof(d));
    assert_int_equal(pl_kube__disc_parse_resource_list(&d, legacy), 0);
    assert_int_equal(pl_kube__disc_parse_resource_list(&d, core), 0);
    assert_int_equal(pl_kube__disc_parse_aggregated(&d, agg), 0);
    assert_int_equal(d.n, 5);
    r = pl_kube__disc_find(&d, "apps", "v1", "Deployment");
    assert_non_null(r);
    assert_string_equal(r->resource, "deployments");
    assert_int_equal(r->namespaced, 1);
    assert_int_equal(r->can_patch, 1);
    assert_null(pl_kube__disc_find(&d, "apps", "v1", "Scale")); /* subresource only */
    r = pl_kube__disc_find(&d, "", "v1", "Namespace");
    assert_non_null(r);
    assert_string_equal(r->resource, "namespaces");
    assert_int_equal(r->namespaced, 0);
    assert_int_equal(r->can_patch, 0); /* the patch verb was on namespaces/status only */
    r = pl_kube__disc_find(&d, "example.com", "v1", "Widget");
    assert_non_null(r);
    assert_int_equal(r->namespaced, 1);
    assert_int_equal(r->can_patch, 0);
    assert_non_null(pl_kube__disc_find(&d, "example.com", "v2", "Widget"));
    r = pl_kube__disc_find(&d, "", "v1", "PersistentVolume");
    assert_non_null(r);
    assert_int_equal(r->namespaced, 0);
    assert_null(pl_kube__disc_find(&d, "example.com", "v3", "Widget"));
    pl_kube__disc_clear(&d);
    json_decref(legacy);
    json_decref(core);
    json_decref(agg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kube_status__json_status_kept),
        cmocka_unit_test(test_kube_status__text_404),
        cmocka_unit_test(test_kube_status__apf_429),
        cmocka_unit_test(test_kube_status__text_500),
        cmocka_unit_test(test_kube_status__code_table),
        cmocka_unit_test(test_kube_status__retry_table),
        cmocka_unit_test(test_kube_status__backoff),
        cmocka_unit_test(test_kube_status__bucket),
        cmocka_unit_test(test_kube_status__urls),
        cmocka_unit_test(test_kube_status__aggregated_ctype),
        cmocka_unit_test(test_kube_status__discovery_docs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
