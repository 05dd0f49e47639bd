/*
 * test_common.c - renderers/maas/maas_common.c: configuration defaults (SPEC §0.3),
 * diagnostics, the tier ConfigMap parser (§1.1, MAAS007/MAAS008), the CRD schema check
 * (§2, MAAS020) and the canonical object order (§0.4).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "maas.h"

/* ---- helpers ---------------------------------------------------------------------------------- */

static json_t *yaml1(const char *text)
{
    json_t *docs = NULL, *doc;
    assert_int_equal(pl_yaml_parse(&docs, text, strlen(text), "test", NULL), 0);
    doc = json_incref(json_array_get(docs, 0));
    json_decref(docs);
    assert_non_null(doc);
    return doc;
}

/* A tier ConfigMap whose data.tiers is `tiers` (NULL: no data.tiers key). */
static json_t *tier_cm(const char *tiers)
{
    json_t *cm = yaml1("apiVersion: v1\nkind: ConfigMap\n"
                       "metadata: {name: tier-to-group-mapping, namespace: maas-api}\ndata: {}\n");
    if (tiers)
        json_object_set_new(json_object_get(cm, "data"), "tiers", json_string(tiers));
    return cm;
}

/* The only diagnostic's rule (asserting there is exactly one), or NULL when none. */
static const char *only_rule(const json_t *diags)
{
    if (!json_array_size(diags))
        return NULL;
    assert_int_equal(json_array_size(diags), 1);
    return json_string_value(json_object_get(json_array_get(diags, 0), "rule"));
}

/* Parse tiers; expect MAAS007 with a message containing `what`, and no tiers. */
static void expect_maas007(const char *tiers, const char *what)
{
    json_t *cm = tier_cm(tiers), *diags = json_array(), *out = (json_t *)1;
    const json_t *d;

    assert_int_equal(pl_maas_parse_tiers(&out, cm, diags), 0);
    assert_null(out);
    assert_string_equal(only_rule(diags), "MAAS007");
    d = json_array_get(diags, 0);
    assert_string_equal(json_string_value(json_object_get(d, "severity")), "error");
    assert_string_equal(json_string_value(json_object_get(d, "object")),
                        "ConfigMap/maas-api/tier-to-group-mapping");
    if (!strstr(json_string_value(json_object_get(d, "message")), what))
        fail_msg("message \"%s\" lacks \"%s\"", json_string_value(json_object_get(d, "message")),
                 what);
    json_decref(diags);
    json_decref(cm);
}

/* ---- configuration ---------------------------------------------------------------------------- */

static void test_maas_common__cfg_defaults(void **state)
{
    (void)state;
    assert_string_equal(pl_maas_cfg_str(NULL, "mode"), "preview");
    assert_string_equal(pl_maas_cfg_str(NULL, "profile"), "membership");
    assert_string_equal(pl_maas_cfg_str(NULL, "subscriptionNamespace"), "models-as-a-service");
    assert_string_equal(pl_maas_cfg_str(NULL, "gateway.name"), "maas-default-gateway");
    assert_string_equal(pl_maas_cfg_str(NULL, "gateway.namespace"), "openshift-ingress");
    assert_string_equal(pl_maas_cfg_str(NULL, "maasApiNamespace"), "opendatahub");
    assert_string_equal(pl_maas_cfg_str(NULL, "legacyMaasApiNamespace"), "maas-api");
    assert_string_equal(pl_maas_cfg_str(NULL, "clusterAudience"), "https://kubernetes.default.svc");
    assert_string_equal(pl_maas_cfg_str(NULL, "llmisvcRouteSuffix"), "-kserve-route");
    assert_string_equal(pl_maas_cfg_str(NULL, "externalModelRoutePrefix"), "maas-");
    assert_string_equal(pl_maas_cfg_str(NULL, "baseRevision"), "");
    assert_string_equal(pl_maas_cfg_str(NULL, "migration.timestamp"), "");
    assert_string_equal(pl_maas_cfg_str(NULL, "no-such-key"), "");
    assert_int_equal(pl_maas_cfg_bool(NULL, "gatewayAuthOnly"), 0);
    assert_int_equal(pl_maas_cfg_bool(NULL, "migration.priorityFromLevel"), 0);
}

static void test_maas_common__cfg_values(void **state)
{
    json_t *c = yaml1("profile: selector\ngateway: {name: gw, namespace: ingress}\n"
                      "externalModelRoutePrefix: ''\ngatewayAuthOnly: true\n"
                      "migration: {priorityFromLevel: true, timestamp: '2026-03-14'}\n"
                      "maasApiNamespace: 5\n");
    json_t *lit = yaml1("gateway.name: literal\nmigration.priorityFromLevel: 'true'\n");
    (void)state;
    assert_string_equal(pl_maas_cfg_str(c, "profile"), "selector");
    assert_string_equal(pl_maas_cfg_str(c, "gateway.name"), "gw");
    assert_string_equal(pl_maas_cfg_str(c, "gateway.namespace"), "ingress");
    /* an explicitly empty prefix is a value (v0.1.0 ... v0.2.0 routes), not "use the default" */
    assert_string_equal(pl_maas_cfg_str(c, "externalModelRoutePrefix"), "");
    assert_string_equal(pl_maas_cfg_str(c, "migration.timestamp"), "2026-03-14");
    /* not a string: the default (pl_maas_cfg_check rejects such a config before use) */
    assert_string_equal(pl_maas_cfg_str(c, "maasApiNamespace"), "opendatahub");
    assert_int_equal(pl_maas_cfg_bool(c, "gatewayAuthOnly"), 1);
    assert_int_equal(pl_maas_cfg_bool(c, "migration.priorityFromLevel"), 1);
    assert_string_equal(pl_maas_cfg_str(lit, "gateway.name"), "literal");
    assert_int_equal(pl_maas_cfg_bool(lit, "migration.priorityFromLevel"), 1);
    json_decref(c);
    json_decref(lit);
}

static void expect_cfg_invalid(const char *text, const char *what)
{
    json_t *c = yaml1(text);
    assert_int_equal(pl_maas_cfg_check(c), PL_EINVALID);
    if (!strstr(pl_error_last()->message, what))
        fail_msg("\"%s\" lacks \"%s\"", pl_error_last()->message, what);
    json_decref(c);
}

static void test_maas_common__cfg_check(void **state)
{
    json_t *ok = yaml1("mode: lint\nprofile: selector\ngateway: {name: gw}\n"
                       "gatewayAuthOnly: false\nbaseRevision: ../base\n");
    json_t *list = yaml1("- mode\n");
    (void)state;
    assert_int_equal(pl_maas_cfg_check(NULL), 0);
    assert_int_equal(pl_maas_cfg_check(ok), 0);
    assert_int_equal(pl_maas_cfg_check(list), PL_EINVALID);
    expect_cfg_invalid("mode: render\n", "mode \"render\"");
    expect_cfg_invalid("profile: tiers\n", "profile \"tiers\"");
    expect_cfg_invalid("subscriptionNamespace: [a]\n", "subscriptionNamespace must be a string");
    expect_cfg_invalid("gatewayAuthOnly: yes-please\n", "gatewayAuthOnly must be true or false");
    expect_cfg_invalid("gateway: maas-default-gateway\n", "gateway must be a mapping");
    expect_cfg_invalid("migration: 1\n", "migration must be a mapping");
    json_decref(ok);
    json_decref(list);
}

/* ---- diagnostics and helpers -------------------------------------------------------------------- */

static void test_maas_common__diag(void **state)
{
    json_t *diags = json_array();
    char big[2000];
    const json_t *d;
    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(pl_maas_diag(diags, "MAAS020", "error", "Kind/ns/name", "bad %d", 7), 0);
    assert_int_equal(pl_maas_diag(diags, "MAAS040", "info", "K/n", "%s", big), 0);
    assert_int_equal(pl_maas_diag(NULL, "MAAS040", "info", "K/n", "dropped"), 0);
    assert_int_equal(json_array_size(diags), 2);
    d = json_array_get(diags, 0);
    assert_string_equal(json_string_value(json_object_get(d, "rule")), "MAAS020");
    assert_string_equal(json_string_value(json_object_get(d, "severity")), "error");
    assert_string_equal(json_string_value(json_object_get(d, "object")), "Kind/ns/name");
    assert_string_equal(json_string_value(json_object_get(d, "message")), "bad 7");
    /* long messages are not cut */
    assert_string_equal(json_string_value(json_object_get(json_array_get(diags, 1), "message")),
                        big);
    json_decref(diags);
}

static void test_maas_common__objref_and_is(void **state)
{
    json_t *ns = yaml1("apiVersion: maas.opendatahub.io/v1alpha1\nkind: MaaSModelRef\n"
                       "metadata: {name: qwen3, namespace: llm}\n");
    json_t *cl = yaml1("apiVersion: user.openshift.io/v1\nkind: Group\nmetadata: {name: devs}\n");
    json_t *core = yaml1("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
    char *a = pl_maas_objref(ns), *b = pl_maas_objref(cl);
    (void)state;
    assert_string_equal(a, "MaaSModelRef/llm/qwen3");
    assert_string_equal(b, "Group/devs");
    assert_int_equal(pl_maas_is(ns, "maas.opendatahub.io", "MaaSModelRef"), 1);
    assert_int_equal(pl_maas_is(ns, "maas.opendatahub.io", "MaaSAuthPolicy"), 0);
    assert_int_equal(pl_maas_is(ns, "maas.opendatahub", "MaaSModelRef"), 0);
    assert_int_equal(pl_maas_is(core, "", "ConfigMap"), 1);
    assert_int_equal(pl_maas_is(core, "v1", "ConfigMap"), 0);
    pl_free(a);
    pl_free(b);
    json_decref(ns);
    json_decref(cl);
    json_decref(core);
}

/* ---- tiers (§1.1) ----------------------------------------------------------------------------- */

static void test_maas_common__tiers_valid(void **state)
{
    json_t *cm = tier_cm("# comment\n"
                         "- name: free\n"
                         "  displayName: Free Tier      # change this, never the name\n"
                         "  level: 0\n"
                         "  groups: [system:authenticated]\n"
                         "- name: premium\n"
                         "  description: Premium tier\n"
                         "  level: 10\n"
                         "  unknownKey: ignored\n"
                         "  groups: [premium-users, premium-group, premium-users]\n"
                         "- name: 123\n"
                         "  displayName: ''\n");
    json_t *diags = json_array(), *out = NULL, *t;
    (void)state;
    assert_int_equal(pl_maas_parse_tiers(&out, cm, diags), 0);
    assert_null(only_rule(diags));
    assert_int_equal(json_array_size(out), 3);
    t = json_array_get(out, 0);
    assert_string_equal(json_string_value(json_object_get(t, "name")), "free");
    assert_string_equal(json_string_value(json_object_get(t, "displayName")), "Free Tier");
    assert_string_equal(json_string_value(json_object_get(t, "description")), "");
    assert_int_equal(json_integer_value(json_object_get(t, "level")), 0);
    t = json_array_get(out, 1);
    assert_string_equal(json_string_value(json_object_get(t, "displayName")), "premium");
    assert_string_equal(json_string_value(json_object_get(t, "description")), "Premium tier");
    assert_int_equal(json_integer_value(json_object_get(t, "level")), 10);
    /* order kept, duplicates dropped (§4.1) */
    assert_int_equal(json_array_size(json_object_get(t, "groups")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(t, "groups"), 1)),
                        "premium-group");
    /* maas-api decodes scalars into string fields by their text; level defaults to 0 */
    t = json_array_get(out, 2);
    assert_string_equal(json_string_value(json_object_get(t, "name")), "123");
    assert_string_equal(json_string_value(json_object_get(t, "displayName")), "123");
    assert_int_equal(json_integer_value(json_object_get(t, "level")), 0);
    assert_int_equal(json_array_size(json_object_get(t, "groups")), 0);
    json_decref(out);
    json_decref(diags);
    json_decref(cm);
}

static void test_maas_common__tiers_empty_text(void **state)
{
    json_t *cm = tier_cm(""), *diags = json_array(), *out = NULL;
    (void)state;
    /* an empty text is an empty tier list (yaml.Unmarshal of nothing), not an error */
    assert_int_equal(pl_maas_parse_tiers(&out, cm, diags), 0);
    assert_non_null(out);
    assert_int_equal(json_array_size(out), 0);
    assert_null(only_rule(diags));
    json_decref(out);
    json_decref(diags);
    json_decref(cm);
}

static void test_maas_common__tiers_malformed(void **state)
{
    (void)state;
    expect_maas007(NULL, "data.tiers is missing");
    expect_maas007("- name: free\n  level: [\n", "does not parse");
    expect_maas007("name: free\nlevel: 1\n", "not a list of tiers");
    expect_maas007("- name: free\n  level: 1.5\n", "level is not an integer");
    expect_maas007("- name: free\n  level: high\n", "level is not an integer");
    expect_maas007("- name: free\n  level: \"1\"\n", "level is not an integer");
    expect_maas007("- name: ''\n", "empty name");
    expect_maas007("- level: 1\n", "empty name");
    expect_maas007("- name: [a]\n", "name is not a string");
    expect_maas007("- name: a\n- name: a\n", "duplicate tier name \"a\"");
    expect_maas007("- name: a\n  displayName: '   '\n", "whitespace-only displayName");
    expect_maas007("- name: a\n  displayName: {x: 1}\n", "displayName is not a string");
    expect_maas007("- name: a\n  description: [x]\n", "description is not a string");
    expect_maas007("- name: a\n  groups: devs\n", "groups is not a list");
    expect_maas007("- name: a\n  groups: [{name: devs}]\n", "group 0 is not a string");
    expect_maas007("- just-a-string\n", "not a mapping");
    expect_maas007("- name: a\n  name: b\n", "does not parse"); /* repeated key (yaml.v3) */
}

static void test_maas_common__tiers_not_string(void **state)
{
    json_t *cm = tier_cm(NULL), *diags = json_array(), *out = NULL;
    (void)state;
    json_object_set_new(json_object_get(cm, "data"), "tiers", json_integer(1));
    assert_int_equal(pl_maas_parse_tiers(&out, cm, diags), 0);
    assert_null(out);
    assert_string_equal(only_rule(diags), "MAAS007");
    json_decref(diags);
    json_decref(cm);
}

static void test_maas_common__tiers_variant_b(void **state)
{
    json_t *cm = tier_cm(NULL), *diags = json_array(), *out = NULL, *t;
    (void)state;
    json_object_set_new(json_object_get(cm, "data"), "mapping.yaml",
                        json_string("tiers:\n"
                                    "  free:    {groups: [system:authenticated], rateLimit: "
                                    "{requestsPerMinute: 10}}\n"
                                    "  premium: {groups: [premium-users], rateLimit: "
                                    "{requestsPerMinute: 100}}\n"));
    assert_int_equal(pl_maas_parse_tiers(&out, cm, diags), 0);
    /* maas-api never reads mapping.yaml (MAAS008) and finds no data.tiers (MAAS007) */
    assert_int_equal(json_array_size(diags), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(diags, 0), "rule")),
                        "MAAS008");
    assert_string_equal(json_string_value(json_object_get(json_array_get(diags, 1), "rule")),
                        "MAAS007");
    /* still parsed, so that lint and migration can explain it: document order, level 0 */
    assert_int_equal(json_array_size(out), 2);
    t = json_array_get(out, 1);
    assert_string_equal(json_string_value(json_object_get(t, "name")), "premium");
    assert_int_equal(json_integer_value(json_object_get(t, "level")), 0);
    assert_int_equal(json_integer_value(json_object_get(t, "requestsPerMinute")), 100);
    assert_string_equal(json_string_value(json_array_get(json_object_get(t, "groups"), 0)),
                        "premium-users");
    json_decref(out);
    json_decref(diags);
    json_decref(cm);
}

static void test_maas_common__tiers_both_variants(void **state)
{
    json_t *cm = tier_cm("- name: gold\n  level: 3\n"), *diags = json_array(), *out = NULL;
    (void)state;
    json_object_set_new(json_object_get(cm, "data"), "mapping.yaml", json_string("tiers: {}\n"));
    assert_int_equal(pl_maas_parse_tiers(&out, cm, diags), 0);
    assert_string_equal(only_rule(diags), "MAAS008");
    assert_int_equal(json_array_size(out), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(out, 0), "name")),
                        "gold");
    json_decref(out);
    json_decref(diags);
    json_decref(cm);
}

static void test_maas_common__tiers_variant_b_malformed(void **state)
{
    json_t *cm = tier_cm(NULL), *diags = json_array(), *out = NULL;
    (void)state;
    json_object_set_new(json_object_get(cm, "data"), "mapping.yaml", json_string("tiers: [\n"));
    assert_int_equal(pl_maas_parse_tiers(&out, cm, diags), 0);
    assert_null(out);
    assert_int_equal(json_array_size(diags), 2);
    json_decref(diags);
    json_decref(cm);
}

/* ---- schema (§2, MAAS020) ------------------------------------------------------------------- */

#define MR_HEAD "apiVersion: maas.opendatahub.io/v1alpha1\nkind: MaaSModelRef\n" \
                "metadata: {name: m, namespace: llm}\n"
#define AP_HEAD "apiVersion: maas.opendatahub.io/v1alpha1\nkind: MaaSAuthPolicy\n" \
                "metadata: {name: a, namespace: models-as-a-service}\n"
#define SUB_HEAD "apiVersion: maas.opendatahub.io/v1alpha1\nkind: MaaSSubscription\n" \
                 "metadata: {name: s, namespace: models-as-a-service}\n"
#define EM_HEAD "apiVersion: maas.opendatahub.io/v1alpha1\nkind: ExternalModel\n" \
                "metadata: {name: e, namespace: llm}\n"

static void expect_schema(const char *text, int valid, const char *what)
{
    json_t *o = yaml1(text), *diags = json_array();
    assert_int_equal(pl_maas_schema_valid(o, diags), valid);
    assert_int_equal(pl_maas_schema_valid(o, NULL), valid);
    if (valid) {
        assert_null(only_rule(diags));
    } else {
        const char *msg;
        assert_string_equal(only_rule(diags), "MAAS020");
        msg = json_string_value(json_object_get(json_array_get(diags, 0), "message"));
        if (what && !strstr(msg, what))
            fail_msg("\"%s\" lacks \"%s\"", msg, what);
    }
    json_decref(diags);
    json_decref(o);
}

static void test_maas_common__schema_modelref(void **state)
{
    (void)state;
    expect_schema(MR_HEAD "spec: {modelRef: {kind: LLMInferenceService, name: qwen3}}\n", 1, NULL);
    expect_schema(MR_HEAD "spec: {modelRef: {kind: ExternalModel, name: gpt}, endpointOverride: "
                          "x, tenantRef: team-1}\n",
                  1, NULL);
    expect_schema(MR_HEAD, 0, "spec is required");
    expect_schema(MR_HEAD "spec: {}\n", 0, "spec.modelRef is required");
    expect_schema(MR_HEAD "spec: {modelRef: {kind: llmisvc, name: q}}\n", 0, "kind must be");
    expect_schema(MR_HEAD "spec: {modelRef: {kind: LLMInferenceService, name: ''}}\n", 0,
                  "modelRef.name");
    expect_schema(MR_HEAD "spec: {modelRef: {kind: LLMInferenceService, name: q, extra: 1}}\n", 0,
                  "spec.modelRef.extra is not a field");
    expect_schema(MR_HEAD "spec: {modelRef: {kind: LLMInferenceService, name: q}, foo: 1}\n", 0,
                  "spec.foo is not a field");
    expect_schema(MR_HEAD "spec: {modelRef: {kind: LLMInferenceService, name: q}, tenantRef: "
                          "Team_1}\n",
                  0, "tenantRef");
    expect_schema(MR_HEAD "spec: {modelRef: {kind: LLMInferenceService, name: q}, tenantRef: "
                          "team-}\n",
                  0, "tenantRef");
    expect_schema(MR_HEAD "spec: {modelRef: {kind: LLMInferenceService, name: q}, "
                          "endpointOverride: 1}\n",
                  0, "endpointOverride");
}

static void test_maas_common__schema_authpolicy(void **state)
{
    (void)state;
    expect_schema(AP_HEAD "spec:\n  modelRefs: [{name: q, namespace: llm}]\n"
                          "  subjects: {groups: [{name: ''}]}\n"
                          "  meteringMetadata: {organizationId: o, labels: {a: b}}\n",
                  1, NULL);
    expect_schema(AP_HEAD "spec:\n  modelRefs: [{name: q, namespace: llm}]\n"
                          "  subjects: {users: [alice]}\n",
                  1, NULL);
    /* the CRD's CEL rule: no subjects at all */
    expect_schema(AP_HEAD "spec:\n  modelRefs: [{name: q, namespace: llm}]\n"
                          "  subjects: {groups: [], users: []}\n",
                  0, "at least one group or user");
    expect_schema(AP_HEAD "spec:\n  modelRefs: [{name: q, namespace: llm}]\n", 0,
                  "spec.subjects is required");
    expect_schema(AP_HEAD "spec:\n  modelRefs: []\n  subjects: {users: [a]}\n", 0,
                  "at least one entry");
    expect_schema(AP_HEAD "spec:\n  modelRefs: [{name: q}]\n  subjects: {users: [a]}\n", 0,
                  "namespace is required");
    expect_schema(AP_HEAD "spec:\n  modelRefs: [{name: q, namespace: llm, "
                          "tokenRateLimits: []}]\n  subjects: {users: [a]}\n",
                  0, "tokenRateLimits is not a field");
    expect_schema(AP_HEAD "spec:\n  modelRefs: [{name: q, namespace: llm}]\n"
                          "  subjects: {groups: [premium]}\n",
                  0, "groups[0].name is required");
    expect_schema(AP_HEAD "spec:\n  modelRefs: [{name: q, namespace: llm}]\n"
                          "  subjects: {users: [{name: a}]}\n",
                  0, "users[0] must be a string");
    expect_schema(AP_HEAD "spec:\n  modelRefs: [{name: q, namespace: llm}]\n"
                          "  subjects: {users: [a]}\n  meteringMetadata: {labels: {a: 1}}\n",
                  0, "labels.a must be a string");
}

#define SUB_SPEC(rates) \
    SUB_HEAD "spec:\n  owner: {groups: [{name: g}]}\n  modelRefs:\n  - name: q\n" \
             "    namespace: llm\n    tokenRateLimits: " rates "\n"

static void test_maas_common__schema_subscription(void **state)
{
    (void)state;
    expect_schema(SUB_SPEC("[{limit: 100, window: 1m}, {limit: 1000000000, window: 9999h}]"), 1,
                  NULL);
    /* owner may be empty: the CRD allows it (MAAS031 is a lint warning) */
    expect_schema(SUB_HEAD "spec:\n  owner: {}\n  priority: -3\n  modelRefs:\n  - name: q\n"
                           "    namespace: llm\n    tokenRateLimits: [{limit: 1, window: 2s}]\n"
                           "    billingRate: {perToken: '0.01'}\n",
                  1, NULL);
    expect_schema(SUB_SPEC("[{limit: 100, window: 1d}]"), 0, "window must match");
    expect_schema(SUB_SPEC("[{limit: 100, window: 10000h}]"), 0, "window must match");
    expect_schema(SUB_SPEC("[{limit: 100, window: 01m}]"), 0, "window must match");
    expect_schema(SUB_SPEC("[{limit: 100, window: 1}]"), 0, "window must match");
    expect_schema(SUB_SPEC("[{limit: 0, window: 1m}]"), 0, "limit must be");
    expect_schema(SUB_SPEC("[{limit: 1000000001, window: 1m}]"), 0, "limit must be");
    expect_schema(SUB_SPEC("[{limit: 1.5, window: 1m}]"), 0, "limit must be");
    expect_schema(SUB_SPEC("[]"), 0, "tokenRateLimits is required");
    expect_schema(SUB_SPEC("[{limit: 1, window: 1m, burst: 2}]"), 0, "burst is not a field");
    /* seed 000's flattened shape: spec.tokenRateLimits is an unknown field */
    expect_schema(SUB_HEAD "spec:\n  owner: {groups: [{name: g}]}\n"
                           "  tokenRateLimits: [{limit: 1, window: 1m}]\n"
                           "  modelRefs: [{name: q, namespace: llm, tokenRateLimits: "
                           "[{limit: 1, window: 1m}]}]\n",
                  0, "spec.tokenRateLimits is not a field");
    expect_schema(SUB_HEAD "spec:\n  modelRefs: [{name: q, namespace: llm, tokenRateLimits: "
                           "[{limit: 1, window: 1m}]}]\n",
                  0, "spec.owner is required");
    expect_schema(SUB_HEAD "spec:\n  owner: {}\n  priority: high\n"
                           "  modelRefs: [{name: q, namespace: llm, tokenRateLimits: "
                           "[{limit: 1, window: 1m}]}]\n",
                  0, "priority");
    expect_schema(SUB_HEAD "spec:\n  owner: {}\n  modelRefs: [{name: q, namespace: llm, "
                           "billingRate: {}, tokenRateLimits: [{limit: 1, window: 1m}]}]\n",
                  0, "perToken");
    expect_schema(SUB_HEAD "spec:\n  owner: {}\n  tokenMetadata: 3\n  modelRefs: [{name: q, "
                           "namespace: llm, tokenRateLimits: [{limit: 1, window: 1m}]}]\n",
                  0, "tokenMetadata must be an object");
}

static void test_maas_common__schema_external_and_others(void **state)
{
    (void)state;
    expect_schema(EM_HEAD "spec: {provider: openai, targetModel: gpt-4o, endpoint: "
                          "api.openai.com, credentialRef: {name: key}}\n",
                  1, NULL);
    expect_schema(EM_HEAD "spec: {provider: openai, targetModel: gpt-4o, endpoint: "
                          "'https://api.openai.com', credentialRef: {name: key}}\n",
                  0, "spec.endpoint");
    expect_schema(EM_HEAD "spec: {provider: openai, targetModel: gpt-4o, endpoint: "
                          "-bad.example.com, credentialRef: {name: key}}\n",
                  0, "spec.endpoint");
    expect_schema(EM_HEAD "spec: {targetModel: gpt-4o, endpoint: a.b, credentialRef: {name: k}}\n",
                  0, "spec.provider");
    expect_schema(EM_HEAD "spec: {provider: p, endpoint: a.b, credentialRef: {name: k}}\n", 0,
                  "spec.targetModel");
    expect_schema(EM_HEAD "spec: {provider: p, targetModel: t, endpoint: a.b}\n", 0,
                  "credentialRef");
    /* not a MaaS CR, or another group: nothing to check */
    expect_schema("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", 1, NULL);
    expect_schema("apiVersion: other.example.com/v1\nkind: MaaSModelRef\nmetadata: {name: c}\n", 1,
                  NULL);
}

static void test_maas_common__windows(void **state)
{
    (void)state;
    assert_int_equal(pl_maas_window_valid("1m"), 1);
    assert_int_equal(pl_maas_window_valid("9999h"), 1);
    assert_int_equal(pl_maas_window_valid("0m"), 0);
    assert_int_equal(pl_maas_window_valid("1d"), 0);
    assert_int_equal(pl_maas_window_valid("99999h"), 0);
    assert_int_equal(pl_maas_window_valid("m"), 0);
    assert_int_equal(pl_maas_window_valid("1x1m"), 0);
    assert_int_equal(pl_maas_window_valid(NULL), 0);
    assert_true(pl_maas_window_seconds("30s") == 30);
    assert_true(pl_maas_window_seconds("2m") == 120);
    assert_true(pl_maas_window_seconds("8784h") == 8784LL * 3600);
    assert_true(pl_maas_window_seconds("1d") == -1);
}

/* ---- output order (§0.4) -------------------------------------------------------------------- */

static void test_maas_common__sort_objects(void **state)
{
    json_t *objs = NULL;
    const char *text =
        "apiVersion: kuadrant.io/v1alpha1\nkind: TokenRateLimitPolicy\n"
        "metadata: {name: b, namespace: llm}\n---\n"
        "apiVersion: kuadrant.io/v1\nkind: AuthPolicy\nmetadata: {name: z, namespace: llm}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n---\n"
        "apiVersion: kuadrant.io/v1\nkind: AuthPolicy\nmetadata: {name: a, namespace: llm}\n---\n"
        "apiVersion: kuadrant.io/v1\nkind: AuthPolicy\nmetadata: {name: a, namespace: b}\n---\n"
        "apiVersion: kuadrant.iox/v1\nkind: AuthPolicy\nmetadata: {name: a, namespace: b}\n";
    static const char *const want[] = {"ConfigMap/a/c",   "AuthPolicy/b/a",
                                       "AuthPolicy/llm/a", "AuthPolicy/llm/z",
                                       "TokenRateLimitPolicy/llm/b", "AuthPolicy/b/a"};
    (void)state;
    assert_int_equal(pl_yaml_parse(&objs, text, strlen(text), "t", NULL), 0);
    pl_maas_sort_objects(objs);
    for (size_t i = 0; i < 6; i++) {
        char *ref = pl_maas_objref(json_array_get(objs, i));
        assert_string_equal(ref, want[i]);
        pl_free(ref);
    }
    /* group "kuadrant.iox" sorts after "kuadrant.io" */
    assert_string_equal(pl_json_str(json_array_get(objs, 5), "apiVersion", NULL),
                        "kuadrant.iox/v1");
    json_decref(objs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maas_common__cfg_defaults),
        cmocka_unit_test(test_maas_common__cfg_values),
        cmocka_unit_test(test_maas_common__cfg_check),
        cmocka_unit_test(test_maas_common__diag),
        cmocka_unit_test(test_maas_common__objref_and_is),
        cmocka_unit_test(test_maas_common__tiers_valid),
        cmocka_unit_test(test_maas_common__tiers_empty_text),
        cmocka_unit_test(test_maas_common__tiers_malformed),
        cmocka_unit_test(test_maas_common__tiers_not_string),
        cmocka_unit_test(test_maas_common__tiers_variant_b),
        cmocka_unit_test(test_maas_common__tiers_both_variants),
        cmocka_unit_test(test_maas_common__tiers_variant_b_malformed),
        cmocka_unit_test(test_maas_common__schema_modelref),
        cmocka_unit_test(test_maas_common__schema_authpolicy),
        cmocka_unit_test(test_maas_common__schema_subscription),
        cmocka_unit_test(test_maas_common__schema_external_and_others),
        cmocka_unit_test(test_maas_common__windows),
        cmocka_unit_test(test_maas_common__sort_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
