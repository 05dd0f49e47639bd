/*
 * test_preview.c - renderers/maas/maas_preview.c (mode preview, SPEC §3) and pl_maas_run
 * (maas.c): the worked example of §3.8 byte for byte in both profiles, then one case per
 * branch: which inputs count (§3.1), route resolution (§3.2), the AuthPolicy (§3.3), the
 * membership TRLP (§3.4), the selector TRLP (§3.5) and the mode dispatch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "maas.h"
#include "plumb/fs.h"
#include "plumb/render.h"

#define EXAMPLE PL_SOURCE_DIR "/../shared/maas/examples/preview-basic"

/* ---- helpers ---------------------------------------------------------------------------------- */

static json_t *yaml_docs(const char *text)
{
    json_t *docs = NULL;
    assert_int_equal(pl_yaml_parse(&docs, text, strlen(text), "test", NULL), 0);
    return docs;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    pl_buf b = PL_BUF_INIT;
    char chunk[4096];
    size_t n;

    if (!f)
        return NULL;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        pl_buf_put(&b, chunk, n);
    fclose(f);
    return pl_buf_detach(&b);
}

/* Expected files start with `#` comment lines that are not part of the output (§0.4). */
static const char *skip_comments(const char *s)
{
    while (*s == '#') {
        const char *nl = strchr(s, '\n');
        s = nl ? nl + 1 : s + strlen(s);
    }
    return s;
}

static json_t *example_input(void)
{
    static const char *const files[] = {"access.yaml", "models.yaml", "subscriptions.yaml"};
    json_t *all = json_array();
    for (size_t i = 0; i < 3; i++) {
        char path[512];
        char *text;
        json_t *docs;
        snprintf(path, sizeof(path), "%s/input/%s", EXAMPLE, files[i]);
        text = slurp(path);
        assert_non_null(text);
        docs = yaml_docs(text);
        json_array_extend(all, docs);
        json_decref(docs);
        pl_free(text);
    }
    return all;
}

static char *emit(const json_t *objs)
{
    pl_buf b = PL_BUF_INIT;
    assert_int_equal(pl_yaml_emit_stream(&b, objs), 0);
    return b.ptr ? pl_buf_detach(&b) : pl_strdup("");
}

/* Run preview over `input` (YAML text) with `config` (YAML text or NULL). */
static json_t *preview(const char *input, const char *config)
{
    json_t *objs = yaml_docs(input), *cfg = NULL, *out = NULL, *diags = json_array();
    if (config) {
        json_t *docs = yaml_docs(config);
        cfg = json_incref(json_array_get(docs, 0));
        json_decref(docs);
    }
    assert_int_equal(pl_maas_preview(&out, diags, objs, cfg), 0);
    assert_non_null(out);
    json_decref(objs);
    json_decref(cfg);
    json_decref(diags);
    return out;
}

static json_t *find(const json_t *objs, const char *kind, const char *name)
{
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o) {
        if (!strcmp(pl_json_str(o, "kind", NULL), kind) &&
            !strcmp(pl_json_str(o, "metadata", "name", NULL), name))
            return o;
    }
    return NULL;
}

static const char *ann(const json_t *o, const char *key)
{
    return pl_json_str(o, "metadata", "annotations", key, NULL);
}

static const char *route_of(const json_t *o)
{
    return pl_json_str(o, "spec", "targetRef", "name", NULL);
}

/* The `when` predicates of limits entry `key`, joined by " ;; " (owned). */
static char *when_of(const json_t *trlp, const char *key)
{
    json_t *entry = pl_json_path(trlp, "spec", "limits", key, NULL), *w;
    pl_buf b = PL_BUF_INIT;
    size_t i;

    if (!entry)
        return NULL;
    json_array_foreach(json_object_get(entry, "when"), i, w)
        pl_buf_printf(&b, "%s%s", i ? " ;; " : "", pl_json_str(w, "predicate", NULL));
    return b.ptr ? pl_buf_detach(&b) : pl_strdup("");
}

static void assert_when(const json_t *trlp, const char *key, const char *want)
{
    char *got = when_of(trlp, key);
    if (!got)
        fail_msg("no limits entry %s", key);
    assert_string_equal(got, want);
    pl_free(got);
}

#define MR(name, kind, target) \
    "apiVersion: maas.opendatahub.io/v1alpha1\nkind: MaaSModelRef\n" \
    "metadata: {name: " name ", namespace: llm}\n" \
    "spec: {modelRef: {kind: " kind ", name: " target "}}\n---\n"
#define AP(name, ns, refs, subjects) \
    "apiVersion: maas.opendatahub.io/v1alpha1\nkind: MaaSAuthPolicy\n" \
    "metadata: {name: " name ", namespace: " ns "}\n" \
    "spec: {modelRefs: " refs ", subjects: " subjects "}\n---\n"
#define SUB(name, ns, owner, refs) \
    "apiVersion: maas.opendatahub.io/v1alpha1\nkind: MaaSSubscription\n" \
    "metadata: {name: " name ", namespace: " ns "}\n" \
    "spec: {owner: " owner ", modelRefs: " refs "}\n---\n"
#define REF(model, limits) "{name: " model ", namespace: llm, tokenRateLimits: " limits "}"
#define SNS "models-as-a-service"

#define HDR "request.headers[\"x-maas-subscription\"]"
#define HAS "request.headers.exists(h, h == \"x-maas-subscription\")"

/* ---- the worked example (§3.8) ----------------------------------------------------------------- */

static void check_example(const char *expected_file, const char *profile)
{
    char path[512];
    char *want, *got;
    json_t *objs, *out = NULL, *diags, *cfg;

    snprintf(path, sizeof(path), "%s/%s", EXAMPLE, expected_file);
    if (access(path, R_OK) != 0)
        skip(); /* the shared fixtures live beside the repository */
    diags = json_array(); /* after the skip, which never returns */
    objs = example_input();
    cfg = json_pack("{s:s, s:s}", "mode", "preview", "profile", profile);
    assert_int_equal(pl_maas_preview(&out, diags, objs, cfg), 0);
    want = slurp(path);
    got = emit(out);
    assert_string_equal(got, skip_comments(want));
    pl_free(want);
    pl_free(got);
    json_decref(out);
    json_decref(diags);
    json_decref(objs);
    json_decref(cfg);
}

static void test_maas_preview__example_membership(void **state)
{
    (void)state;
    check_example("expected.yaml", "membership");
}

static void test_maas_preview__example_selector(void **state)
{
    (void)state;
    check_example("expected.selector.yaml", "selector");
}

/* ---- which inputs count (§3.1) ------------------------------------------------------------------ */

static void test_maas_preview__inputs_that_count(void **state)
{
    /* stray (wrong namespace), broken (schema) and orphan (missing model) contribute nothing */
    json_t *out = preview(MR("q", "LLMInferenceService", "q")
                              AP("ok", SNS, "[{name: q, namespace: llm}]", "{groups: [{name: a}]}")
                                  AP("stray", "llm", "[{name: q, namespace: llm}]",
                                     "{groups: [{name: b}]}")
                                      AP("broken", SNS, "[{name: q, namespace: llm}]",
                                         "{groups: []}")
                                          AP("orphan", SNS, "[{name: gone, namespace: llm}]",
                                             "{groups: [{name: c}]}")
                                              SUB("bad", SNS, "{groups: [{name: a}]}",
                                                  "[" REF("q", "[{limit: 1, window: 1d}]") "]"),
                          NULL);
    const json_t *ap;
    (void)state;
    assert_int_equal(json_array_size(out), 1); /* no TRLP: the only subscription is invalid */
    ap = find(out, "AuthPolicy", "maas-auth-q");
    assert_non_null(ap);
    assert_string_equal(ann(ap, "maas.opendatahub.io/auth-policies"), "ok");
    json_decref(out);
}

static void test_maas_preview__invalid_modelref(void **state)
{
    /* a MaaSModelRef failing its schema does not exist for the CRs naming it */
    json_t *out = preview("apiVersion: maas.opendatahub.io/v1alpha1\nkind: MaaSModelRef\n"
                          "metadata: {name: q, namespace: llm}\nspec: {modelRef: {kind: llmisvc, "
                          "name: q}}\n---\n" AP("a", SNS, "[{name: q, namespace: llm}]",
                                                "{users: [u]}"),
                          NULL);
    (void)state;
    assert_int_equal(json_array_size(out), 0);
    json_decref(out);
}

static void test_maas_preview__subscription_namespace_config(void **state)
{
    json_t *out = preview(MR("q", "LLMInferenceService", "q")
                              AP("a", "tenant-a", "[{name: q, namespace: llm}]", "{users: [u]}"),
                          "subscriptionNamespace: tenant-a\n");
    (void)state;
    assert_non_null(find(out, "AuthPolicy", "maas-auth-q"));
    json_decref(out);
}

static void test_maas_preview__duplicate_entry_first_wins(void **state)
{
    json_t *out = preview(MR("q", "LLMInferenceService", "q")
                              SUB("s", SNS, "{users: [u]}",
                                  "[" REF("q", "[{limit: 5, window: 1m}]") ", " REF(
                                      "q", "[{limit: 9, window: 1h}]") "]"),
                          NULL);
    const json_t *t = find(out, "TokenRateLimitPolicy", "maas-trlp-q");
    json_t *rates = pl_json_path(t, "spec", "limits", "s-q-tokens", "rates", NULL);
    (void)state;
    assert_int_equal(json_array_size(rates), 1);
    assert_int_equal(json_integer_value(pl_json_path(json_array_get(rates, 0), "limit", NULL)), 5);
    /* the AuthPolicy is missing (no MaaSAuthPolicy): only the TRLP */
    assert_int_equal(json_array_size(out), 1);
    json_decref(out);
}

/* ---- route resolution (§3.2) ---------------------------------------------------------------- */

#define ROUTE(name, ns, app, comp)                                                          \
    "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: " name \
    "\n  namespace: " ns "\n  labels:\n    app.kubernetes.io/name: " app                 \
    "\n    app.kubernetes.io/component: " comp                                            \
    "\n    app.kubernetes.io/part-of: llminferenceservice\n---\n"
#define ANYONE "{groups: [{name: system:authenticated}]}"

static void test_maas_preview__route_from_httproute(void **state)
{
    json_t *out = preview(MR("q", "LLMInferenceService", "qwen")
                              ROUTE("zz-route", "llm", "qwen", "llminferenceservice-router")
                                  ROUTE("aa-route", "llm", "qwen", "llminferenceservice-router")
                                      ROUTE("other-ns", "prod", "qwen", "llminferenceservice-router")
                                          ROUTE("0-wrong-comp", "llm", "qwen", "workload")
                                              AP("a", SNS, "[{name: q, namespace: llm}]", ANYONE),
                          NULL);
    (void)state;
    /* the first by name among the matching routes in the model's namespace */
    assert_string_equal(route_of(find(out, "AuthPolicy", "maas-auth-q")), "aa-route");
    json_decref(out);
}

static void test_maas_preview__route_predicted(void **state)
{
    json_t *out = preview(MR("q", "LLMInferenceService", "qwen")
                              ROUTE("r", "llm", "other-model", "llminferenceservice-router")
                                  AP("a", SNS, "[{name: q, namespace: llm}]", ANYONE),
                          NULL);
    json_t *out2 = preview(MR("q", "LLMInferenceService", "qwen")
                               AP("a", SNS, "[{name: q, namespace: llm}]", ANYONE),
                           "llmisvcRouteSuffix: -route\n");
    (void)state;
    /* KServe's default name from spec.modelRef.name, not the MaaSModelRef's name */
    assert_string_equal(route_of(find(out, "AuthPolicy", "maas-auth-q")), "qwen-kserve-route");
    assert_string_equal(route_of(find(out2, "AuthPolicy", "maas-auth-q")), "qwen-route");
    json_decref(out);
    json_decref(out2);
}

static void test_maas_preview__route_external_model(void **state)
{
    json_t *out = preview(MR("g", "ExternalModel", "gpt-4o")
                              AP("a", SNS, "[{name: g, namespace: llm}]", ANYONE),
                          NULL);
    json_t *out2 = preview(MR("g", "ExternalModel", "gpt-4o")
                               AP("a", SNS, "[{name: g, namespace: llm}]", ANYONE),
                           "externalModelRoutePrefix: ''\n");
    (void)state;
    assert_string_equal(route_of(find(out, "AuthPolicy", "maas-auth-g")), "maas-gpt-4o");
    assert_string_equal(route_of(find(out2, "AuthPolicy", "maas-auth-g")), "gpt-4o");
    json_decref(out);
    json_decref(out2);
}

static void test_maas_preview__route_external_model_long(void **state)
{
    char name[254], text[2048], want[300], hash[65];
    json_t *out;
    const char *got;
    (void)state;
    /* 253 characters: with the prefix it is too long, so it is cut and hashed */
    memset(name, 'a', 253);
    name[253] = '\0';
    name[238] = '-'; /* the last kept character (253 - 5 - 9 = 239 kept): trimmed */
    snprintf(text, sizeof(text),
             "apiVersion: maas.opendatahub.io/v1alpha1\nkind: MaaSModelRef\n"
             "metadata: {name: g, namespace: llm}\n"
             "spec: {modelRef: {kind: ExternalModel, name: %s}}\n---\n" AP(
                 "a", SNS, "[{name: g, namespace: llm}]", ANYONE),
             name);
    out = preview(text, NULL);
    pl_sha256_hex(hash, name, 253);
    snprintf(want, sizeof(want), "maas-%.238s-%.8s", name, hash);
    got = route_of(find(out, "AuthPolicy", "maas-auth-g"));
    assert_non_null(got);
    assert_int_equal(strlen(got), 252);
    assert_string_equal(got, want);
    json_decref(out);

    /* a name of separators only leaves the hash alone */
    memset(name, '-', 253);
    snprintf(text, sizeof(text),
             "apiVersion: maas.opendatahub.io/v1alpha1\nkind: MaaSModelRef\n"
             "metadata: {name: g, namespace: llm}\n"
             "spec: {modelRef: {kind: ExternalModel, name: '%s'}}\n---\n" AP(
                 "a", SNS, "[{name: g, namespace: llm}]", ANYONE),
             name);
    out = preview(text, NULL);
    pl_sha256_hex(hash, name, 253);
    snprintf(want, sizeof(want), "maas-%.8s", hash);
    assert_string_equal(route_of(find(out, "AuthPolicy", "maas-auth-g")), want);
    json_decref(out);
}

/* ---- AuthPolicy (§3.3) ----------------------------------------------------------------------- */

static void test_maas_preview__auth_single_condition(void **state)
{
    json_t *out = preview(MR("q", "LLMInferenceService", "q")
                              AP("b", SNS, "[{name: q, namespace: llm}]", "{users: [bob]}")
                                  AP("a", SNS, "[{name: q, namespace: llm}]", "{users: [bob]}"),
                          NULL);
    const json_t *ap = find(out, "AuthPolicy", "maas-auth-q");
    json_t *patterns = pl_json_path(ap, "spec", "rules", "authorization",
                                    "require-group-membership", "patternMatching", "patterns",
                                    NULL);
    (void)state;
    /* one condition after de-duplication stands alone, without `any` */
    assert_int_equal(json_array_size(patterns), 1);
    assert_null(json_object_get(json_array_get(patterns, 0), "any"));
    assert_string_equal(pl_json_str(json_array_get(patterns, 0), "operator", NULL), "eq");
    assert_string_equal(pl_json_str(json_array_get(patterns, 0), "value", NULL), "bob");
    assert_string_equal(ann(ap, "maas.opendatahub.io/auth-policies"), "a,b");
    /* membership has no subscription lookup */
    assert_null(pl_json_path(ap, "spec", "rules", "metadata", NULL));
    json_decref(out);
}

static void test_maas_preview__auth_audiences_from_config(void **state)
{
    json_t *out = preview(MR("q", "LLMInferenceService", "q")
                              AP("a", SNS, "[{name: q, namespace: llm}]", ANYONE),
                          "gateway: {name: gw}\nclusterAudience: aud\nprofile: selector\n"
                          "maasApiNamespace: maas\n");
    const json_t *ap = find(out, "AuthPolicy", "maas-auth-q");
    json_t *aud = pl_json_path(ap, "spec", "rules", "authentication", "service-accounts",
                               "kubernetesTokenReview", "audiences", NULL);
    (void)state;
    assert_string_equal(json_string_value(json_array_get(aud, 0)), "gw-sa");
    assert_string_equal(json_string_value(json_array_get(aud, 1)), "aud");
    assert_string_equal(pl_json_str(ap, "spec", "rules", "metadata", "subscription-info", "http",
                                    "url", NULL),
                        "https://maas-api.maas.svc.cluster.local:8443/internal/v1/subscriptions/"
                        "select");
    json_decref(out);
}

static void test_maas_preview__auth_unsafe_subject(void **state)
{
    /* MAAS028: a quote in any subject of A(m) fails the model's AuthPolicy; the TRLP stays */
    json_t *out = preview(MR("q", "LLMInferenceService", "q") MR("r", "LLMInferenceService", "r")
                              AP("a", SNS, "[{name: q, namespace: llm}]",
                                 "{groups: [{name: 'team-\"g'}]}")
                                  AP("b", SNS, "[{name: q, namespace: llm}, {name: r, namespace: llm}]",
                                     "{users: [ok]}")
                                      SUB("s", SNS, "{users: [ok]}",
                                          "[" REF("q", "[{limit: 1, window: 1m}]") "]"),
                          NULL);
    json_t *out2 = preview(MR("q", "LLMInferenceService", "q")
                               AP("a", SNS, "[{name: q, namespace: llm}]", "{users: ['a\\\\b']}"),
                           NULL);
    (void)state;
    assert_null(find(out, "AuthPolicy", "maas-auth-q"));
    assert_non_null(find(out, "AuthPolicy", "maas-auth-r"));
    assert_non_null(find(out, "TokenRateLimitPolicy", "maas-trlp-q"));
    assert_int_equal(json_array_size(out2), 0);
    json_decref(out);
    json_decref(out2);
}

static void test_maas_preview__gateway_auth_only(void **state)
{
    json_t *out = preview(MR("q", "LLMInferenceService", "q")
                              AP("a", SNS, "[{name: q, namespace: llm}]", ANYONE)
                                  SUB("s", SNS, ANYONE, "[" REF("q", "[{limit: 1, window: 1m}]") "]"),
                          "profile: selector\ngatewayAuthOnly: true\n");
    const json_t *t = find(out, "TokenRateLimitPolicy", "maas-trlp-q");
    (void)state;
    assert_int_equal(json_array_size(out), 1); /* v0.2+: auth moved to the gateway */
    assert_string_equal(ann(t, "maas.opendatahub.io/subscriptions"), SNS "/s");
    json_decref(out);
}

/* ---- membership TRLP (§3.4) ----------------------------------------------------------------- */

static void test_maas_preview__membership_ranking_ties(void **state)
{
    /* equal max limits: ties by name; the window is ignored (raw numbers) */
    json_t *out = preview(MR("q", "LLMInferenceService", "q")
                              SUB("zeta", SNS, "{groups: [{name: z}]}",
                                  "[" REF("q", "[{limit: 10, window: 1h}]") "]")
                                  SUB("alpha", SNS, "{groups: [{name: a}, {name: a}]}",
                                      "[" REF("q", "[{limit: 3, window: 1m}, {limit: 10, window: 1s}]") "]")
                                      SUB("big", SNS, "{users: [u1, u2]}",
                                          "[" REF("q", "[{limit: 99, window: 1m}]") "]"),
                          NULL);
    const json_t *t = find(out, "TokenRateLimitPolicy", "maas-trlp-q");
    (void)state;
    assert_string_equal(ann(t, "maas.opendatahub.io/subscriptions"), "big,alpha,zeta");
    /* users only: no groups_str part; duplicates kept in MEM */
    assert_when(t, "big-q-tokens",
                "auth.identity.userid == \"u1\" || auth.identity.userid == \"u2\" ;; " HDR
                " == \"big\" || (!" HAS ")");
    assert_when(t, "alpha-q-tokens",
                "auth.identity.groups_str.split(\",\").exists(g, g == \"a\" || g == \"a\") ;; " HDR
                " == \"alpha\" || (!" HAS " && !(auth.identity.userid == \"u1\" || "
                "auth.identity.userid == \"u2\"))");
    assert_when(t, "zeta-q-tokens",
                "auth.identity.groups_str.split(\",\").exists(g, g == \"z\") ;; " HDR
                " == \"zeta\" || (!" HAS " && !(auth.identity.groups_str.split(\",\").exists(g, "
                "g == \"a\" || g == \"a\") || auth.identity.userid == \"u1\" || "
                "auth.identity.userid == \"u2\"))");
    assert_when(t, "deny-unsubscribed-q",
                "!(auth.identity.groups_str.split(\",\").exists(g, g == \"a\" || g == \"a\" || g "
                "== \"z\") || auth.identity.userid == \"u1\" || auth.identity.userid == \"u2\")");
    assert_when(t, "deny-invalid-header-q",
                HAS " ;; " HDR " != \"big\" ;; " HDR " != \"alpha\" ;; " HDR " != \"zeta\"");
    json_decref(out);
}

static void test_maas_preview__membership_empty_owner(void **state)
{
    /* an owner with no members gets no entries but still counts for the header check */
    json_t *out = preview(MR("q", "LLMInferenceService", "q")
                              SUB("nobody", SNS, "{}", "[" REF("q", "[{limit: 5, window: 1m}]") "]"),
                          NULL);
    json_t *out2 = preview(MR("q", "LLMInferenceService", "q")
                               SUB("nobody", SNS, "{groups: [], users: []}",
                                   "[" REF("q", "[{limit: 500, window: 1m}]") "]")
                                   SUB("some", SNS, "{users: [u]}",
                                       "[" REF("q", "[{limit: 5, window: 1m}]") "]"),
                           NULL);
    const json_t *t = find(out, "TokenRateLimitPolicy", "maas-trlp-q");
    const json_t *t2 = find(out2, "TokenRateLimitPolicy", "maas-trlp-q");
    (void)state;
    assert_int_equal(json_object_size(pl_json_path(t, "spec", "limits", NULL)), 1);
    assert_when(t, "deny-invalid-header-q", HAS " ;; " HDR " != \"nobody\"");
    assert_string_equal(ann(t, "maas.opendatahub.io/subscriptions"), "nobody");
    /* ranked first but empty: X for "some" stays empty, so AUTO is just !HAS */
    assert_string_equal(ann(t2, "maas.opendatahub.io/subscriptions"), "nobody,some");
    assert_when(t2, "some-q-tokens",
                "auth.identity.userid == \"u\" ;; " HDR " == \"some\" || (!" HAS ")");
    assert_when(t2, "deny-unsubscribed-q", "!(auth.identity.userid == \"u\")");
    assert_null(pl_json_path(t2, "spec", "limits", "nobody-q-tokens", NULL));
    json_decref(out);
    json_decref(out2);
}

static void test_maas_preview__membership_unsafe_owner(void **state)
{
    const char *in = MR("q", "LLMInferenceService", "q")
        SUB("s", SNS, "{users: ['x\"y']}", "[" REF("q", "[{limit: 5, window: 1m}]") "]");
    json_t *out = preview(in, NULL);
    json_t *out2 = preview(in, "profile: selector\n");
    (void)state;
    /* MAAS028 fails the membership TRLP; the selector TRLP does not splice owners into CEL */
    assert_int_equal(json_array_size(out), 0);
    assert_non_null(find(out2, "TokenRateLimitPolicy", "maas-trlp-q"));
    json_decref(out);
    json_decref(out2);
}

/* ---- selector TRLP (§3.5) ------------------------------------------------------------------- */

static void test_maas_preview__selector_skips_long_windows(void **state)
{
    json_t *out = preview(MR("q", "LLMInferenceService", "q")
                              SUB("yearly", SNS, ANYONE,
                                  "[" REF("q", "[{limit: 5, window: 1m}, {limit: 9, window: 8785h}]") "]")
                                  SUB("daily", SNS, ANYONE,
                                      "[" REF("q", "[{limit: 5, window: 8784h}]") "]"),
                          "profile: selector\n");
    json_t *out2 = preview(MR("q", "LLMInferenceService", "q")
                               SUB("yearly", SNS, ANYONE,
                                   "[" REF("q", "[{limit: 9, window: 9000h}]") "]"),
                           "profile: selector\n");
    json_t *out3 = preview(MR("q", "LLMInferenceService", "q")
                               SUB("yearly", SNS, ANYONE,
                                   "[" REF("q", "[{limit: 9, window: 9000h}]") "]"),
                           NULL);
    const json_t *t = find(out, "TokenRateLimitPolicy", "maas-trlp-q");
    (void)state;
    assert_string_equal(ann(t, "maas.opendatahub.io/subscriptions"), "daily");
    assert_string_equal(pl_json_str(t, "metadata", "labels", "maas.opendatahub.io/model-namespace",
                                    NULL),
                        "llm");
    assert_when(t, SNS "-daily-q-tokens",
                "auth.identity.selected_subscription_key == \"" SNS "/daily@llm/q\" && "
                "!request.path.endsWith(\"/v1/models\")");
    assert_null(pl_json_path(t, "spec", "limits", SNS "-yearly-q-tokens", NULL));
    /* every subscription skipped: no TRLP at all */
    assert_int_equal(json_array_size(out2), 0);
    /* membership (pre-v0.1.1) keeps it */
    assert_non_null(find(out3, "TokenRateLimitPolicy", "maas-trlp-q"));
    json_decref(out);
    json_decref(out2);
    json_decref(out3);
}

/* ---- pl_maas_run (maas.c) ------------------------------------------------------------------- */

static void test_maas_preview__run_modes(void **state)
{
    json_t *objs = yaml_docs(MR("q", "LLMInferenceService", "q")
                                 AP("a", SNS, "[{name: q, namespace: llm}]", ANYONE)
                                     SUB("s", SNS, ANYONE, "[" REF("q", "[{limit: 1, window: 1m}]") "]"));
    json_t *out = NULL, *diags = NULL, *cfg;
    (void)state;
    /* default mode: preview, objects in canonical order (kuadrant.io AuthPolicy first) */
    assert_int_equal(pl_maas_run(&out, &diags, objs, NULL, NULL), 0);
    assert_int_equal(json_array_size(out), 2);
    assert_string_equal(pl_json_str(json_array_get(out, 0), "kind", NULL), "AuthPolicy");
    assert_true(json_is_array(diags));
    json_decref(out);
    json_decref(diags);
    /* lint: diagnostics only */
    cfg = json_pack("{s:s}", "mode", "lint");
    assert_int_equal(pl_maas_run(&out, &diags, objs, NULL, cfg), 0);
    assert_int_equal(json_array_size(out), 0);
    json_decref(out);
    json_decref(diags);
    json_decref(cfg);
    /* unusable configuration or input: an error, no output */
    cfg = json_pack("{s:s}", "mode", "render");
    assert_int_equal(pl_maas_run(&out, &diags, objs, NULL, cfg), PL_EINVALID);
    assert_null(out);
    assert_null(diags);
    json_decref(cfg);
    cfg = json_pack("{s:s}", "mode", "preview");
    assert_int_equal(pl_maas_run(&out, &diags, cfg, NULL, NULL), PL_EINVALID);
    json_decref(cfg);
    /* no input at all is an empty cluster */
    assert_int_equal(pl_maas_run(&out, &diags, NULL, NULL, NULL), 0);
    assert_int_equal(json_array_size(out), 0);
    json_decref(out);
    json_decref(diags);
    json_decref(objs);
}

static void test_maas_preview__run_diagnostics_deduplicated(void **state)
{
    /* a broken tier ConfigMap read by both migrate and lint is reported once */
    json_t *objs = yaml_docs("apiVersion: v1\nkind: ConfigMap\n"
                             "metadata: {name: tier-to-group-mapping, namespace: maas-api}\n"
                             "data:\n  tiers: |\n    - name: a\n      level: x\n");
    json_t *out = NULL, *diags = NULL, *cfg = json_pack("{s:s}", "mode", "migrate"), *d;
    size_t i, n007 = 0;
    (void)state;
    assert_int_equal(pl_maas_run(&out, &diags, objs, NULL, cfg), 0);
    json_array_foreach(diags, i, d) {
        if (!strcmp(pl_json_str(d, "rule", NULL), "MAAS007"))
            n007++;
    }
    assert_int_equal(n007, 1);
    json_decref(out);
    json_decref(diags);
    json_decref(objs);
    json_decref(cfg);
}

/* ---- the kustomize generator hook (render.h pl_render_opts.generator) ----------------------- */

typedef struct gen_call {
    int calls;
    size_t seen; /* objects accumulated when called */
} gen_call;

/* What engine/cli does for kind MaaSRender: the renderer over the accumulated objects. */
static int maas_generator(json_t **out, const json_t *config, const json_t *accumulated,
                          void *payload)
{
    gen_call *gc = payload;
    json_t *diags = NULL;
    int error;

    gc->calls++;
    gc->seen = json_array_size(accumulated);
    if (strcmp(pl_json_str(config, "kind", NULL), "MaaSRender"))
        return pl_error_set(PL_EINVALID, "unknown generator %s", pl_json_str(config, "kind", NULL));
    error = pl_maas_run(out, &diags, accumulated, NULL, config);
    json_decref(diags);
    return error;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Build a kustomization tree made of `kust` and the preview inputs; returns the error code. */
static int build_tree(json_t **out, const char *kust, const char *gen, gen_call *gc, int hook)
{
    char dir[] = "/tmp/pl_maas_gen_XXXXXX";
    pl_render_opts opts = PL_RENDER_OPTS_INIT;
    pl_fs *fs = NULL;
    char cmd[600];
    int error;

    assert_non_null(mkdtemp(dir));
    write_file(dir, "kustomization.yaml", kust);
    write_file(dir, "gen.yaml", gen);
    write_file(dir, "cr.yaml",
               MR("q", "LLMInferenceService", "q")
                   AP("a", SNS, "[{name: q, namespace: llm}]", ANYONE)
                       SUB("s", SNS, ANYONE, "[" REF("q", "[{limit: 1, window: 1m}]") "]"));
    opts.max_threads = 1;
    if (hook) {
        opts.generator = maas_generator;
        opts.generator_payload = gc;
    }
    assert_int_equal(pl_fs_dir_new(&fs), 0);
    *out = NULL;
    error = pl_kustomize_build(out, fs, dir, &opts);
    pl_fs_free(fs);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return error;
}

#define GEN_CFG "apiVersion: plumb.dev/v1alpha1\nkind: MaaSRender\nmetadata: {name: p}\n"

static void test_maas_preview__kustomize_generator(void **state)
{
    gen_call gc = {0, 0};
    json_t *out = NULL;
    (void)state;
    assert_int_equal(build_tree(&out,
                                "resources: [cr.yaml]\ngenerators: [gen.yaml]\n"
                                "labels: [{pairs: {team: x}}]\n",
                                GEN_CFG "profile: selector\n", &gc, 1),
                     0);
    assert_int_equal(gc.calls, 1);
    assert_int_equal(gc.seen, 3); /* the resources accumulated before the generator */
    assert_int_equal(json_array_size(out), 5);
    /* the generated objects joined the build: later transformers apply to them */
    assert_non_null(find(out, "AuthPolicy", "maas-auth-q"));
    assert_string_equal(pl_json_str(find(out, "TokenRateLimitPolicy", "maas-trlp-q"), "metadata",
                                    "labels", "team", NULL),
                        "x");
    assert_non_null(pl_json_path(find(out, "AuthPolicy", "maas-auth-q"), "spec", "rules",
                                 "metadata", "subscription-info", NULL));
    json_decref(out);
}

static void test_maas_preview__kustomize_generator_errors(void **state)
{
    gen_call gc = {0, 0};
    json_t *out = NULL;
    (void)state;
    /* without a host callback a plumb.dev generator is an unsupported external plugin */
    assert_int_equal(build_tree(&out, "resources: [cr.yaml]\ngenerators: [gen.yaml]\n", GEN_CFG,
                                &gc, 0),
                     PL_EINVALID);
    assert_non_null(strstr(pl_error_last()->message, "external plugins"));
    assert_null(out);
    /* the callback's error names the kustomization */
    assert_int_equal(build_tree(&out, "resources: [cr.yaml]\ngenerators: [gen.yaml]\n",
                                "apiVersion: plumb.dev/v1alpha1\nkind: Other\nmetadata: {name: "
                                "o}\n",
                                &gc, 1),
                     PL_EINVALID);
    assert_non_null(strstr(pl_error_last()->message, "kustomization.yaml"));
    assert_non_null(strstr(pl_error_last()->message, "unknown generator Other"));
    /* a plumb.dev config under transformers: is not a generator */
    gc.calls = 0;
    assert_int_equal(build_tree(&out, "resources: [cr.yaml]\ntransformers: [gen.yaml]\n",
                                GEN_CFG, &gc, 1),
                     PL_EINVALID);
    assert_int_equal(gc.calls, 0);
}

static void test_maas_preview__kustomize_generator_conflict(void **state)
{
    gen_call gc = {0, 0};
    json_t *out = NULL;
    (void)state;
    /* two MaaSRender generators: the second predicts the same policy (create, id exists) */
    assert_int_equal(build_tree(&out,
                                "resources: [cr.yaml]\ngenerators: [gen.yaml]\n",
                                GEN_CFG "---\napiVersion: plumb.dev/v1alpha1\nkind: MaaSRender\n"
                                        "metadata: {name: p2}\n",
                                &gc, 1),
                     PL_EINVALID);
    assert_non_null(strstr(pl_error_last()->message, "id exists"));
    assert_int_equal(gc.calls, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maas_preview__example_membership),
        cmocka_unit_test(test_maas_preview__example_selector),
        cmocka_unit_test(test_maas_preview__inputs_that_count),
        cmocka_unit_test(test_maas_preview__invalid_modelref),
        cmocka_unit_test(test_maas_preview__subscription_namespace_config),
        cmocka_unit_test(test_maas_preview__duplicate_entry_first_wins),
        cmocka_unit_test(test_maas_preview__route_from_httproute),
        cmocka_unit_test(test_maas_preview__route_predicted),
        cmocka_unit_test(test_maas_preview__route_external_model),
        cmocka_unit_test(test_maas_preview__route_external_model_long),
        cmocka_unit_test(test_maas_preview__auth_single_condition),
        cmocka_unit_test(test_maas_preview__auth_audiences_from_config),
        cmocka_unit_test(test_maas_preview__auth_unsafe_subject),
        cmocka_unit_test(test_maas_preview__gateway_auth_only),
        cmocka_unit_test(test_maas_preview__membership_ranking_ties),
        cmocka_unit_test(test_maas_preview__membership_empty_owner),
        cmocka_unit_test(test_maas_preview__membership_unsafe_owner),
        cmocka_unit_test(test_maas_preview__selector_skips_long_windows),
        cmocka_unit_test(test_maas_preview__run_modes),
        cmocka_unit_test(test_maas_preview__run_diagnostics_deduplicated),
        cmocka_unit_test(test_maas_preview__kustomize_generator),
        cmocka_unit_test(test_maas_preview__kustomize_generator_errors),
        cmocka_unit_test(test_maas_preview__kustomize_generator_conflict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
