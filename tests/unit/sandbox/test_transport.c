/* test_transport.c - Status builder, request building/query decoding, fault specs, credentials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sb.h"
#include "sb_transport.h"

static void test_status_builder(void **state)
{
    (void)state;
    sb_response resp = {0};
    assert_int_equal(sb_resp_status(&resp, 401, "Unauthorized", "Unauthorized", NULL), 0);
    assert_int_equal(resp.status, 401);
    assert_string_equal(resp.body.ptr,
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\","
                        "\"code\":401}\n");
    sb_resp_dispose(&resp);

    json_t *det = json_pack("{s:s,s:s}", "name", "team-a", "kind", "namespaces");
    json_t *st = sb_status_new(404, "NotFound", "namespaces \"team-a\" not found", det);
    char *s = json_dumps(st, JSON_COMPACT);
    assert_string_equal(s, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                           "\"status\":\"Failure\",\"message\":\"namespaces \\\"team-a\\\" not "
                           "found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"team-a\","
                           "\"kind\":\"namespaces\"},\"code\":404}");
    free(s);
    json_decref(st);
    json_decref(det);

    /* no reason (unclassified 500), empty details kept; success status for 2xx */
    det = json_object();
    st = sb_status_new(500, NULL, "boom", det);
    s = json_dumps(st, JSON_COMPACT);
    assert_string_equal(s, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                           "\"status\":\"Failure\",\"message\":\"boom\",\"details\":{},"
                           "\"code\":500}");
    free(s);
    json_decref(st);
    json_decref(det);
    st = sb_status_new(200, NULL, NULL, NULL);
    s = json_dumps(st, JSON_COMPACT);
    assert_string_equal(s, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                           "\"status\":\"Success\",\"code\":200}");
    free(s);
    json_decref(st);

    /* retryAfterSeconds is mirrored in Retry-After */
    det = json_pack("{s:i}", "retryAfterSeconds", 5);
    assert_int_equal(sb_resp_status(&resp, 503, "ServiceUnavailable", "later", det), 0);
    assert_int_equal(resp.nheaders, 1);
    assert_string_equal(resp.headers[0].name, "Retry-After");
    assert_string_equal(resp.headers[0].value, "5");
    json_decref(det);
    sb_resp_dispose(&resp);

    assert_int_equal(sb_resp_text(&resp, 404, "text/plain; charset=utf-8", "404 page not found\n"),
                     0);
    assert_string_equal(resp.content_type, "text/plain; charset=utf-8");
    assert_int_equal(resp.body.len, 19);
    sb_resp_dispose(&resp);
}

static void test_query_decoding(void **state)
{
    (void)state;
    sb_req_owned r;
    /* kubectl's encoding: url.Values.Encode, '+' for spaces (API-NOTES §2) */
    assert_int_equal(sb_req_build(&r, "GET",
                                  "/api/v1/namespaces/default/configmaps?allowWatchBookmarks=true"
                                  "&fieldSelector=metadata.name%3Dx&labelSelector=app+in+%28a%2Cb%29"
                                  "&watch&empty=&resourceVersion=5",
                                  NULL, "application/json", "kubectl", NULL, 0),
                     0);
    assert_string_equal(r.req.path, "/api/v1/namespaces/default/configmaps");
    assert_int_equal(r.req.nargs, 6);
    assert_string_equal(r.req.args[0].key, "allowWatchBookmarks");
    assert_string_equal(sb_req_arg(&r.req, "fieldSelector"), "metadata.name=x");
    assert_string_equal(sb_req_arg(&r.req, "labelSelector"), "app in (a,b)");
    assert_string_equal(sb_req_arg(&r.req, "watch"), "");
    assert_string_equal(sb_req_arg(&r.req, "empty"), "");
    assert_string_equal(sb_req_arg(&r.req, "resourceVersion"), "5");
    assert_null(sb_req_arg(&r.req, "limit"));
    assert_null(r.req.body);
    assert_string_equal(r.req.raw_target,
                        "/api/v1/namespaces/default/configmaps?allowWatchBookmarks=true"
                        "&fieldSelector=metadata.name%3Dx&labelSelector=app+in+%28a%2Cb%29"
                        "&watch&empty=&resourceVersion=5");
    sb_req_dispose(&r);

    /* path is percent-decoded ('+' stays), body copied and NUL-terminated */
    assert_int_equal(sb_req_build(&r, "PATCH", "/api/v1/namespaces/a%2Db/configmaps/x+y?&&",
                                  "application/apply-patch+yaml", NULL, NULL, "{}xx", 2),
                     0);
    assert_string_equal(r.req.path, "/api/v1/namespaces/a-b/configmaps/x+y");
    assert_int_equal(r.req.nargs, 0);
    assert_string_equal(r.req.body, "{}");
    assert_int_equal(r.req.body_len, 2);
    assert_string_equal(r.req.content_type, "application/apply-patch+yaml");
    sb_req_dispose(&r);

    /* broken escapes are kept literally; bad targets rejected */
    assert_int_equal(sb_req_build(&r, "GET", "/x%zz%4?a=%", NULL, NULL, NULL, NULL, 0), 0);
    assert_string_equal(r.req.path, "/x%zz%4");
    assert_string_equal(sb_req_arg(&r.req, "a"), "%");
    sb_req_dispose(&r);
    assert_int_equal(sb_req_build(&r, "GET", "x", NULL, NULL, NULL, NULL, 0), PL_EINVALID);
    pl_error_clear();
}

static void test_faults(void **state)
{
    (void)state;
    sb_faults f;
    assert_int_equal(sb_faults_parse(&f, "500=0.1,503=0.05,429=0.05,latency=5ms,drop=0.01"), 0);
    assert_true(f.rate_500 == 0.1 && f.rate_503 == 0.05 && f.rate_429 == 0.05);
    assert_true(f.rate_drop == 0.01);
    assert_int_equal(f.latency_ms, 5);
    assert_int_equal(sb_faults_parse(&f, "latency=2s"), 0);
    assert_int_equal(f.latency_ms, 2000);
    assert_true(f.rate_500 == 0);
    assert_int_equal(sb_faults_parse(&f, ""), 0);
    assert_int_equal(sb_faults_parse(&f, "500=2"), PL_EINVALID);
    assert_int_equal(sb_faults_parse(&f, "404=0.1"), PL_EINVALID);
    assert_int_equal(sb_faults_parse(&f, "latency=5h"), PL_EINVALID);
    assert_int_equal(sb_faults_parse(&f, "drop"), PL_EINVALID);
    pl_error_clear();

    assert_int_equal(sb_parse_duration_ms("500ms"), 500);
    assert_int_equal(sb_parse_duration_ms("1.5s"), 1500);
    assert_int_equal(sb_parse_duration_ms("250"), 250);
    assert_int_equal(sb_parse_duration_ms("-1s"), -1);
    assert_int_equal(sb_parse_duration_ms("x"), -1);

    sb_faults g = {0};
    json_t *j = json_pack("{s:f,s:i,s:f}", "503", 0.25, "latency_ms", 7, "drop", 0.5);
    assert_int_equal(sb_faults_from_json(&g, j, NULL), 0);
    assert_true(g.rate_503 == 0.25 && g.rate_drop == 0.5 && g.rate_500 == 0);
    assert_int_equal(g.latency_ms, 7);
    json_decref(j);
    j = json_pack("{s:f}", "500", 1.5);
    assert_int_equal(sb_faults_from_json(&g, j, NULL), PL_EINVALID);
    json_decref(j);
    j = json_pack("{s:s}", "500", "x");
    assert_int_equal(sb_faults_from_json(&g, j, NULL), PL_EINVALID);
    json_decref(j);
    pl_error_clear();
    json_t *out = sb_faults_to_json(&f);
    char *s = json_dumps(out, JSON_COMPACT);
    assert_string_equal(s, "{\"500\":0.0,\"503\":0.0,\"429\":0.0,\"latency_ms\":0,\"drop\":0.0}");
    free(s);
    json_decref(out);
}

static unsigned char *pem_to_der(const char *pem, size_t *len)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *c = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    assert_non_null(c);
    unsigned char *der = NULL;
    int n = i2d_X509(c, &der);
    X509_free(c);
    assert_true(n > 0);
    *len = (size_t)n;
    return der;
}

static void test_tls(void **state)
{
    (void)state;
    char dir[] = "/tmp/sb_tls_test_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char state_dir[256], kc[256];
    snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
    snprintf(kc, sizeof(kc), "%s/kubeconfig", dir);

    sb_tls a, b, other;
    assert_int_equal(sb_tls_init(&a, state_dir, "10.1.2.3"), 0);
    assert_int_equal(sb_tls_init(&b, state_dir, NULL), 0);
    /* reused from the state directory */
    assert_string_equal(a.token, b.token);
    assert_string_equal(a.ca_cert_pem, b.ca_cert_pem);
    assert_string_equal(a.client_cert_pem, b.client_cert_pem);
    assert_int_equal(strlen(a.token), 48);

    size_t len;
    unsigned char *der = pem_to_der(a.client_cert_pem, &len);
    char *user = NULL;
    assert_int_equal(sb_tls_verify_client(&b, &user, der, len), 0);
    assert_string_equal(user, "plumb-admin");
    pl_free(user);
    /* a certificate from another CA is refused */
    assert_int_equal(sb_tls_init(&other, NULL, NULL), 0);
    assert_int_equal(sb_tls_verify_client(&other, &user, der, len), PL_EAUTH);
    assert_null(user);
    assert_int_equal(sb_tls_verify_client(&other, &user, (const unsigned char *)"xx", 2),
                     PL_EAUTH);
    pl_error_clear();
    OPENSSL_free(der);
    /* the server certificate is a leaf of the CA, not a client certificate */
    der = pem_to_der(a.server_cert_pem, &len);
    assert_int_equal(sb_tls_verify_client(&a, &user, der, len), PL_EAUTH);
    pl_error_clear();
    OPENSSL_free(der);

    assert_int_equal(sb_tls_write_kubeconfig(&a, kc, "https://127.0.0.1:6443"), 0);
    struct stat st;
    assert_int_equal(stat(kc, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    json_t *doc = NULL;
    FILE *f = fopen(kc, "r");
    char buf[16384];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_int_equal(pl_yaml_parse(&doc, buf, n, kc, NULL), 0);
    json_t *d0 = json_is_array(doc) ? json_array_get(doc, 0) : doc;
    assert_string_equal(pl_json_str(d0, "current-context", NULL), "plumb-sandbox");
    assert_string_equal(pl_json_str(json_array_get(json_object_get(d0, "clusters"), 0), "cluster",
                                    "server", NULL),
                        "https://127.0.0.1:6443");
    assert_string_equal(pl_json_str(json_array_get(json_object_get(d0, "users"), 0), "user",
                                    "token", NULL),
                        a.token);
    assert_string_equal(pl_json_str(json_array_get(json_object_get(d0, "contexts"), 1), "name",
                                    NULL),
                        "plumb-sandbox-cert");
    json_decref(doc);

    sb_tls_dispose(&a);
    sb_tls_dispose(&b);
    sb_tls_dispose(&other);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_builder),
        cmocka_unit_test(test_query_decoding),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_tls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
