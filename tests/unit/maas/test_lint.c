/*
 * test_lint.c - the MAAS lint rules (renderers/maas/maas_lint.c, SPEC §5).
 *
 * Every rule has a case that triggers it and one that does not. Each case is a small object
 * set written as YAML: a clean baseline cluster (tier ConfigMap, gateway TRLP, one legacy
 * tier-annotated model, one subscription-model model with a MaaSAuthPolicy and a
 * MaaSSubscription) plus or minus the documents that provoke the rule. The lint-commit fixture
 * of ../shared/maas/examples is checked as a set of (rule, severity, object) when present.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "maas.h"
#include "plumb/fs.h"
#include "plumb/render.h"

/* ---- the baseline cluster ------------------------------------------------------------------ */

#define CM_HEAD                                                                                    \
    "apiVersion: v1\nkind: ConfigMap\n"                                                            \
    "metadata: {name: tier-to-group-mapping, namespace: maas-api}\n"
#define CM                                                                                         \
    CM_HEAD "data:\n  tiers: |\n"                                                                  \
            "    - name: free\n      level: 0\n      groups: [system:authenticated]\n"             \
            "    - name: premium\n      displayName: Premium\n      level: 10\n"                   \
            "      groups: [premium-users]\n"
#define TRLP_HEAD                                                                                  \
    "apiVersion: kuadrant.io/v1alpha1\nkind: TokenRateLimitPolicy\n"                               \
    "metadata: {name: gateway-tier-rate-limits, namespace: openshift-ingress}\n"                   \
    "spec:\n  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, "                       \
    "name: maas-default-gateway}\n  limits:\n"
#define LIMIT(key, tier, n)                                                                        \
    "    " key ":\n      rates: [{limit: " #n ", window: 1m}]\n"                                   \
    "      when: [{predicate: 'auth.identity.tier == \"" tier "\"'}]\n"                            \
    "      counters: [{expression: auth.identity.userid}]\n"
#define TRLP TRLP_HEAD LIMIT("free-tokens", "free", 100) LIMIT("premium-tokens", "premium", 5000)
#define ISVC(name, extra)                                                                          \
    "apiVersion: serving.kserve.io/v1alpha1\nkind: LLMInferenceService\n"                          \
    "metadata:\n  name: " name "\n  namespace: llm\n" extra "spec:\n  router:\n"                   \
    "    gateway:\n      refs: [{name: maas-default-gateway, namespace: openshift-ingress}]\n"
#define ANN(v) "  annotations:\n    alpha.maas.opendatahub.io/tiers: '" v "'\n"
#define LEGACY ISVC("legacy", ANN("[\"free\",\"premium\"]"))
#define MREF(name, kind, backend)                                                                  \
    "apiVersion: maas.opendatahub.io/v1alpha1\nkind: MaaSModelRef\n"                               \
    "metadata: {name: " name ", namespace: llm}\n"                                                 \
    "spec:\n  modelRef: {kind: " kind ", name: " backend "}\n"
#define AUTH(name, ns, models, subjects)                                                           \
    "apiVersion: maas.opendatahub.io/v1alpha1\nkind: MaaSAuthPolicy\n"                             \
    "metadata: {name: " name ", namespace: " ns "}\n"                                              \
    "spec:\n  modelRefs: " models "\n  subjects: " subjects "\n"
#define SUB(name, models, owner, extra)                                                            \
    "apiVersion: maas.opendatahub.io/v1alpha1\nkind: MaaSSubscription\n"                           \
    "metadata: {name: " name ", namespace: models-as-a-service}\n"                                 \
    "spec:\n  owner: " owner "\n  modelRefs: " models "\n" extra
#define QREF(limit, window)                                                                        \
    "[{name: qwen3, namespace: llm, tokenRateLimits: [{limit: " #limit ", window: " window "}]}]"
#define Q "[{name: qwen3, namespace: llm}]"
#define PREMIUM "{groups: [{name: premium-users}]}"
#define QWEN ISVC("qwen3", "") "---\n" MREF("qwen3", "LLMInferenceService", "qwen3")
#define QAUTH AUTH("qwen3-access", "models-as-a-service", Q, PREMIUM)
#define QSUB SUB("qwen3-sub", QREF(1000, "1m"), PREMIUM, "")
#define D "---\n"
#define BASELINE CM D TRLP D LEGACY D QWEN D QAUTH D QSUB

/* ---- helpers ------------------------------------------------------------------------------ */

static json_t *parse(const char *yaml)
{
    json_t *docs = NULL;
    if (!yaml)
        return NULL;
    assert_int_equal(pl_yaml_parse(&docs, yaml, strlen(yaml), "test.yaml", NULL), 0);
    return docs;
}

/* lint `objs` (with optional parent revision and maas-render.yaml text); owned diagnostics */
static json_t *lint3(const char *objs, const char *base, const char *cfg)
{
    json_t *o = parse(objs), *b = parse(base), *c = parse(cfg), *d = json_array();
    assert_int_equal(pl_maas_lint(d, o, b, c ? json_array_get(c, 0) : NULL), 0);
    json_decref(o);
    json_decref(b);
    json_decref(c);
    return d;
}

static json_t *lint(const char *objs)
{
    return lint3(objs, NULL, NULL);
}

/* number of diagnostics with this rule (and severity/object when not NULL) */
static int count(const json_t *d, const char *rule, const char *sev, const char *obj)
{
    size_t i;
    json_t *x;
    int n = 0;
    json_array_foreach(d, i, x)
    {
        if (strcmp(json_string_value(json_object_get(x, "rule")), rule))
            continue;
        if (sev && strcmp(json_string_value(json_object_get(x, "severity")), sev))
            continue;
        if (obj && strcmp(json_string_value(json_object_get(x, "object")), obj))
            continue;
        n++;
    }
    return n;
}

/* assert that `objs` raises rule/sev on obj exactly once, and the baseline does not */
static void expect(const char *objs, const char *rule, const char *sev, const char *obj)
{
    json_t *d = lint(objs);
    if (count(d, rule, sev, obj) != 1) {
        print_error("wanted one %s %s on %s, got:\n", rule, sev, obj);
        json_dumpf(d, stderr, JSON_INDENT(1));
    }
    assert_int_equal(count(d, rule, sev, obj), 1);
    json_decref(d);
}

static void expect_none(const char *objs, const char *rule)
{
    json_t *d = lint(objs);
    if (count(d, rule, NULL, NULL) != 0) {
        print_error("wanted no %s, got:\n", rule);
        json_dumpf(d, stderr, JSON_INDENT(1));
    }
    assert_int_equal(count(d, rule, NULL, NULL), 0);
    json_decref(d);
}

#define CMREF "ConfigMap/maas-api/tier-to-group-mapping"
#define TRLPREF "TokenRateLimitPolicy/openshift-ingress/gateway-tier-rate-limits"
#define QREFOBJ "MaaSModelRef/llm/qwen3"
#define QAUTHREF "MaaSAuthPolicy/models-as-a-service/qwen3-access"
#define QSUBREF "MaaSSubscription/models-as-a-service/qwen3-sub"

/* ---- baseline ------------------------------------------------------------------------------ */

static void test_maas_lint__baseline_is_clean(void **state)
{
    json_t *d = lint(BASELINE);
    size_t i;
    json_t *x;
    (void)state;
    json_array_foreach(d, i, x)
    {
        /* only info entries (MAAS034: legacy limits and MaaS CRs on one gateway) */
        assert_string_equal(json_string_value(json_object_get(x, "severity")), "info");
    }
    json_decref(d);
}

/* ---- legacy tier rules ------------------------------------------------------------------------ */

#define CM_BASE_GOLD                                                                               \
    CM_HEAD "data:\n  tiers: |\n"                                                                  \
            "    - name: free\n      level: 0\n      groups: [system:authenticated]\n"             \
            "    - name: gold\n      level: 10\n      groups: [premium-users]\n"
#define CM_BASE_SILVER(level, group)                                                               \
    CM "    - name: silver\n      level: " #level "\n      groups: [" group "]\n"

static void test_maas_lint__maas001_rename(void **state)
{
    json_t *d;
    (void)state;
    d = lint3(BASELINE, CM_BASE_GOLD, NULL);
    assert_int_equal(count(d, "MAAS001", "error", CMREF), 1);
    json_decref(d);
    /* same names in base: nothing renamed */
    d = lint3(BASELINE, CM, NULL);
    assert_int_equal(count(d, "MAAS001", NULL, NULL), 0);
    json_decref(d);
    /* a removed tier with another level is a deletion, not a rename */
    d = lint3(BASELINE, CM_BASE_SILVER(5, "premium-users"), NULL);
    assert_int_equal(count(d, "MAAS001", NULL, NULL), 0);
    json_decref(d);
    /* without a base revision the rule is skipped */
    d = lint3(BASELINE, NULL, NULL);
    assert_int_equal(count(d, "MAAS001", NULL, NULL), 0);
    json_decref(d);
}

static void test_maas_lint__maas002_removed_tier_in_annotation(void **state)
{
    const char *objs = CM D TRLP D ISVC("old", ANN("[\"silver\"]"));
    json_t *d;
    (void)state;
    d = lint3(objs, CM_BASE_SILVER(5, "silver-users"), NULL);
    assert_int_equal(count(d, "MAAS002", "error", "LLMInferenceService/llm/old"), 1);
    assert_int_equal(count(d, "MAAS005", NULL, NULL), 0); /* superseded */
    json_decref(d);
    /* no base: the name is merely unknown (MAAS005) */
    d = lint3(objs, NULL, NULL);
    assert_int_equal(count(d, "MAAS002", NULL, NULL), 0);
    assert_int_equal(count(d, "MAAS005", "warning", "LLMInferenceService/llm/old"), 1);
    json_decref(d);
}

static void test_maas_lint__maas003_orphaned_groups(void **state)
{
    json_t *d;
    (void)state;
    d = lint3(BASELINE, CM_BASE_SILVER(5, "silver-users"), NULL);
    assert_int_equal(count(d, "MAAS003", "warning", CMREF), 1);
    {
        size_t i;
        json_t *x;
        json_array_foreach(d, i, x)
        {
            if (!strcmp(json_string_value(json_object_get(x, "rule")), "MAAS003"))
                assert_non_null(strstr(json_string_value(json_object_get(x, "message")),
                                       "silver-users"));
        }
    }
    json_decref(d);
    /* the removed tier's group lives on in premium */
    d = lint3(BASELINE, CM_BASE_SILVER(5, "premium-users"), NULL);
    assert_int_equal(count(d, "MAAS003", NULL, NULL), 0);
    json_decref(d);
}

static void test_maas_lint__maas004_bad_annotation(void **state)
{
    (void)state;
    expect(CM D TRLP D ISVC("m", ANN("[\"free\"")), "MAAS004", "error", "LLMInferenceService/llm/m");
    expect(CM D TRLP D ISVC("m", ANN("{\"free\": 1}")), "MAAS004", "error",
           "LLMInferenceService/llm/m");
    expect(CM D TRLP D ISVC("m", ANN("[\"free\", 1]")), "MAAS004", "error",
           "LLMInferenceService/llm/m");
    expect_none(CM D TRLP D ISVC("m", ANN("[]")), "MAAS004");
    expect_none(BASELINE, "MAAS004");
}

static void test_maas_lint__maas005_unknown_tier(void **state)
{
    (void)state;
    expect(CM D TRLP D ISVC("m", ANN("[\"free\",\"gold\"]")), "MAAS005", "warning",
           "LLMInferenceService/llm/m");
    expect_none(BASELINE, "MAAS005");
    /* no tier ConfigMap in the set: nothing to compare against */
    expect_none(ISVC("m", ANN("[\"gold\"]")), "MAAS005");
}

#define CM2(l1, l2)                                                                                \
    CM_HEAD "data:\n  tiers: |\n"                                                                  \
            "    - name: free\n      level: " #l1 "\n      groups: [partners]\n"                   \
            "    - name: premium\n      level: " #l2 "\n      groups: [partners, premium-users]\n"

static void test_maas_lint__maas006_group_in_several_tiers(void **state)
{
    (void)state;
    expect(CM2(0, 10) D TRLP, "MAAS006", "warning", CMREF);
    expect(CM2(10, 10) D TRLP, "MAAS006", "error", CMREF);
    expect_none(BASELINE, "MAAS006");
}

static void test_maas_lint__maas007_invalid_or_extra_configmap(void **state)
{
    (void)state;
    expect(BASELINE D "apiVersion: v1\nkind: ConfigMap\n"
                      "metadata: {name: tier-to-group-mapping, namespace: maas}\n"
                      "data: {tiers: '[]'}\n",
           "MAAS007", "error", "ConfigMap/maas/tier-to-group-mapping");
    expect(CM_HEAD "data:\n  tiers: |\n    - name: free\n      level: high\n" D TRLP, "MAAS007",
           "error", CMREF);
    expect(CM_HEAD "data:\n  tiers: '- name: [unclosed'\n", "MAAS007", "error", CMREF);
    expect_none(BASELINE, "MAAS007");
}

static void test_maas_lint__maas008_mapping_yaml(void **state)
{
    (void)state;
    expect(CM_HEAD "data:\n  mapping.yaml: |\n    tiers:\n      free: {groups: [a]}\n", "MAAS008",
           "error", CMREF);
    expect_none(BASELINE, "MAAS008");
}

static void test_maas_lint__maas009_tier_without_limit(void **state)
{
    (void)state;
    expect(CM D TRLP_HEAD LIMIT("free-tokens", "free", 100) D LEGACY, "MAAS009", "warning", CMREF);
    expect_none(BASELINE, "MAAS009");
    /* single quotes and spacing still scope the entry to the tier (§1.4) */
    expect_none(CM D TRLP_HEAD LIMIT("free-tokens", "free", 100)
                    "    p:\n      rates: [{limit: 9000, window: 1m}]\n"
                    "      when: [{predicate: \"  auth.identity.tier=='premium'\\n\"}]\n"
                    "      counters: [{expression: auth.identity.userid}]\n",
                "MAAS009");
}

static void test_maas_lint__maas010_dangling_predicate(void **state)
{
    (void)state;
    expect(BASELINE D TRLP_HEAD LIMIT("gold-tokens", "gold", 1), "MAAS010", "warning", TRLPREF);
    expect_none(BASELINE, "MAAS010");
    /* a policy on another gateway is not a tier policy */
    expect_none(CM D "apiVersion: kuadrant.io/v1alpha1\nkind: TokenRateLimitPolicy\n"
                     "metadata: {name: other, namespace: openshift-ingress}\n"
                     "spec:\n  targetRef: {kind: Gateway, name: other-gateway}\n  limits:\n" LIMIT(
                         "gold-tokens", "gold", 1),
                "MAAS010");
}

static void test_maas_lint__maas011_tier_namespace(void **state)
{
    (void)state;
    expect(CM_HEAD "data:\n  tiers: |\n    - name: Bad_Tier\n      groups: [a]\n", "MAAS011",
           "warning", CMREF);
    expect(CM_HEAD "data:\n  tiers: |\n    - name: "
                   "a-very-long-tier-name-that-does-not-fit-in-a-label\n      groups: [a]\n",
           "MAAS011", "warning", CMREF);
    expect_none(BASELINE, "MAAS011");
}

static void test_maas_lint__maas012_no_counters(void **state)
{
    (void)state;
    expect(CM D TRLP_HEAD LIMIT("free-tokens", "free", 100)
               "    premium-tokens:\n      rates: [{limit: 5000, window: 1m}]\n"
               "      when: [{predicate: 'auth.identity.tier == \"premium\"'}]\n",
           "MAAS012", "warning", TRLPREF);
    expect_none(BASELINE, "MAAS012");
}

static void test_maas_lint__maas013_level_vs_limit(void **state)
{
    (void)state;
    expect(CM D TRLP_HEAD LIMIT("free-tokens", "free", 100) LIMIT("premium-tokens", "premium", 50),
           "MAAS013", "warning", CMREF);
    expect_none(BASELINE, "MAAS013");
}

static void test_maas_lint__maas014_configmap_changed(void **state)
{
    json_t *d;
    (void)state;
    d = lint3(BASELINE, CM_BASE_GOLD, NULL);
    assert_int_equal(count(d, "MAAS014", "info", CMREF), 1);
    json_decref(d);
    d = lint3(BASELINE, CM, NULL);
    assert_int_equal(count(d, "MAAS014", NULL, NULL), 0);
    json_decref(d);
}

static void test_maas_lint__maas035_request_limits(void **state)
{
    const char *rlp = "apiVersion: kuadrant.io/v1\nkind: RateLimitPolicy\n"
                      "metadata: {name: gateway-rate-limits, namespace: openshift-ingress}\n"
                      "spec:\n  targetRef: {kind: Gateway, name: maas-default-gateway}\n"
                      "  limits:\n" LIMIT("free", "free", 5);
    const char *plain = "apiVersion: kuadrant.io/v1\nkind: RateLimitPolicy\n"
                        "metadata: {name: gateway-rate-limits, namespace: openshift-ingress}\n"
                        "spec:\n  targetRef: {kind: Gateway, name: maas-default-gateway}\n"
                        "  limits:\n    all:\n      rates: [{limit: 5, window: 1m}]\n";
    (void)state;
    {
        char buf[8192];
        snprintf(buf, sizeof(buf), "%s---\n%s", BASELINE, rlp);
        expect(buf, "MAAS035", "warning", "RateLimitPolicy/openshift-ingress/gateway-rate-limits");
        snprintf(buf, sizeof(buf), "%s---\n%s", BASELINE, plain);
        expect_none(buf, "MAAS035");
    }
}

/* ---- subscription model ---------------------------------------------------------------------- */

static void test_maas_lint__maas020_schema(void **state)
{
    const char *bad = QWEN D QAUTH D SUB("qwen3-sub", QREF(1000, "1d"), PREMIUM, "");
    json_t *d;
    (void)state;
    d = lint(bad);
    assert_int_equal(count(d, "MAAS020", "error", QSUBREF), 1);
    /* the invalid subscription takes part in no other rule: qwen3 looks unsubscribed */
    assert_int_equal(count(d, "MAAS023", "warning", QREFOBJ), 1);
    json_decref(d);
    expect(QWEN D QAUTH D SUB("qwen3-sub", QREF(1000, "1m"), PREMIUM, "  tokenRateLimits: []\n"),
           "MAAS020", "error", QSUBREF);
    expect(QWEN D AUTH("qwen3-access", "models-as-a-service", Q, "{groups: []}") D QSUB, "MAAS020",
           "error", QAUTHREF);
    expect_none(BASELINE, "MAAS020");
}

static void test_maas_lint__maas021_namespace(void **state)
{
    (void)state;
    expect(BASELINE D AUTH("stray", "llm", Q, PREMIUM), "MAAS021", "error",
           "MaaSAuthPolicy/llm/stray");
    expect_none(BASELINE, "MAAS021");
    /* a configured subscription namespace moves the boundary */
    {
        json_t *d = lint3(BASELINE, NULL, "subscriptionNamespace: llm\n");
        assert_int_equal(count(d, "MAAS021", "error", QAUTHREF), 1);
        json_decref(d);
    }
}

static void test_maas_lint__maas022_missing_modelref(void **state)
{
    (void)state;
    expect(BASELINE D SUB("ghost-sub",
                          "[{name: ghost, namespace: llm, tokenRateLimits: [{limit: 1, window: 1m}]}]",
                          PREMIUM, ""),
           "MAAS022", "error", "MaaSSubscription/models-as-a-service/ghost-sub");
    expect_none(BASELINE, "MAAS022");
}

static void test_maas_lint__maas023_024_one_gate_missing(void **state)
{
    (void)state;
    expect(QWEN D QAUTH, "MAAS023", "warning", QREFOBJ);
    expect(QWEN D QSUB, "MAAS024", "warning", QREFOBJ);
    expect_none(BASELINE, "MAAS023");
    expect_none(BASELINE, "MAAS024");
}

static void test_maas_lint__maas025_coverage(void **state)
{
    (void)state;
    expect(QWEN D AUTH("qwen3-access", "models-as-a-service", Q,
                       "{groups: [{name: premium-users}, {name: interns}]}") D QSUB,
           "MAAS025", "warning", QAUTHREF);
    expect(QWEN D QAUTH D SUB("qwen3-sub", QREF(1000, "1m"),
                              "{groups: [{name: premium-users}], users: [bob]}", ""),
           "MAAS025", "warning", QSUBREF);
    /* system:authenticated on the owner side covers every subject (but is itself uncovered:
     * everyone else passes the subscription and gets 403) */
    {
        json_t *d = lint(QWEN D AUTH("qwen3-access", "models-as-a-service", Q,
                                     "{groups: [{name: interns}], users: [bob]}") D
                             SUB("qwen3-sub", QREF(1000, "1m"),
                                 "{groups: [{name: system:authenticated}]}", ""));
        assert_int_equal(count(d, "MAAS025", NULL, QAUTHREF), 0);
        assert_int_equal(count(d, "MAAS025", "warning", QSUBREF), 1);
        json_decref(d);
    }
    /* a group never covers a user */
    expect(QWEN D AUTH("qwen3-access", "models-as-a-service", Q, "{users: [bob]}") D QSUB,
           "MAAS025", "warning", QAUTHREF);
    expect_none(BASELINE, "MAAS025");
}

#define SUB2(name, limit, window, owner, extra)                                                    \
    SUB(name, QREF(limit, window), owner, extra)

static void test_maas_lint__maas026_tie(void **state)
{
    const char *tie = BASELINE D SUB2("qwen3-sub2", 1000, "1m", PREMIUM, "");
    const char *sel = "profile: selector\n";
    json_t *d;
    (void)state;
    expect(tie, "MAAS026", "warning", QREFOBJ);
    expect_none(BASELINE D SUB2("qwen3-sub2", 2000, "1m", PREMIUM, ""), "MAAS026");
    /* no shared member: no tie */
    expect_none(BASELINE D SUB2("qwen3-sub2", 1000, "1m", "{groups: [{name: others}]}", ""),
                "MAAS026");
    /* selector: equal priority (the default 0) is the tie; distinct priorities are not */
    d = lint3(tie, NULL, sel);
    assert_int_equal(count(d, "MAAS026", "warning", QREFOBJ), 1);
    json_decref(d);
    d = lint3(BASELINE D SUB2("qwen3-sub2", 1000, "1m", PREMIUM, "  priority: 5\n"), NULL, sel);
    assert_int_equal(count(d, "MAAS026", NULL, NULL), 0);
    json_decref(d);
}

static void test_maas_lint__maas027_overlap(void **state)
{
    const char *sel = "profile: selector\n";
    const char *same = BASELINE D SUB2("qwen3-sub2", 2000, "1m", PREMIUM, "");
    json_t *d;
    (void)state;
    /* membership: overlapping owners with different windows */
    expect(BASELINE D SUB2("qwen3-sub2", 2000, "1h", "{groups: [{name: system:authenticated}]}", ""),
           "MAAS027", "warning", QREFOBJ);
    expect_none(same, "MAAS027");
    /* selector: any overlap */
    d = lint3(same, NULL, sel);
    assert_int_equal(count(d, "MAAS027", "warning", QREFOBJ), 1);
    json_decref(d);
    /* an owner without members overlaps nothing (only MAAS031) */
    d = lint3(BASELINE D SUB2("qwen3-sub2", 2000, "1m", "{groups: [], users: []}", ""), NULL, sel);
    assert_int_equal(count(d, "MAAS027", NULL, NULL), 0);
    assert_int_equal(count(d, "MAAS031", "warning",
                           "MaaSSubscription/models-as-a-service/qwen3-sub2"),
                     1);
    json_decref(d);
}

static void test_maas_lint__maas028_quotes(void **state)
{
    const char *owner = QWEN D QAUTH D SUB("qwen3-sub", QREF(1000, "1m"),
                                           "{groups: [{name: premium-users}], users: ['a\\b']}", "");
    json_t *d;
    (void)state;
    expect(QWEN D AUTH("qwen3-access", "models-as-a-service", Q, "{groups: [{name: 'x\"y'}]}") D QSUB,
           "MAAS028", "error", QAUTHREF);
    expect(owner, "MAAS028", "error", QSUBREF);
    /* selector TRLPs never splice owners into CEL */
    d = lint3(owner, NULL, "profile: selector\n");
    assert_int_equal(count(d, "MAAS028", NULL, NULL), 0);
    json_decref(d);
    expect_none(BASELINE, "MAAS028");
}

static void test_maas_lint__maas029_backend_missing(void **state)
{
    (void)state;
    expect(MREF("qwen3", "LLMInferenceService", "qwen3") D QAUTH D QSUB, "MAAS029", "warning",
           QREFOBJ);
    expect(MREF("ext", "ExternalModel", "gpt"), "MAAS029", "warning", "MaaSModelRef/llm/ext");
    expect_none(BASELINE, "MAAS029");
}

static void test_maas_lint__maas030_gateway_ref(void **state)
{
    const char *nogw = "apiVersion: serving.kserve.io/v1alpha1\nkind: LLMInferenceService\n"
                       "metadata: {name: qwen3, namespace: llm}\nspec:\n  router: {route: {}}\n";
    char buf[4096];
    (void)state;
    snprintf(buf, sizeof(buf), "%s---\n%s---\n%s---\n%s", nogw,
             MREF("qwen3", "LLMInferenceService", "qwen3"), QAUTH, QSUB);
    expect(buf, "MAAS030", "warning", "LLMInferenceService/llm/qwen3");
    /* a model MaaS does not expose may sit anywhere */
    expect_none(nogw, "MAAS030");
    expect_none(BASELINE, "MAAS030");
}

static void test_maas_lint__maas031_empty_owner(void **state)
{
    (void)state;
    expect(QWEN D QAUTH D SUB("qwen3-sub", QREF(1000, "1m"), "{}", ""), "MAAS031", "warning",
           QSUBREF);
    expect(QWEN D AUTH("qwen3-access", "models-as-a-service", Q,
                       "{groups: [{name: premium-users}, {name: ''}]}") D QSUB,
           "MAAS031", "warning", QAUTHREF);
    expect_none(BASELINE, "MAAS031");
}

static void test_maas_lint__maas032_long_name(void **state)
{
    (void)state;
    expect(MREF("a123456789a123456789a123456789a123456789a123456789a123456789abcd",
                "LLMInferenceService", "qwen3") D ISVC("qwen3", ""),
           "MAAS032", "error",
           "MaaSModelRef/llm/a123456789a123456789a123456789a123456789a123456789a123456789abcd");
    expect_none(BASELINE, "MAAS032");
}

#define FOREIGN_AP(labels)                                                                         \
    "apiVersion: kuadrant.io/v1\nkind: AuthPolicy\n"                                               \
    "metadata:\n  name: qwen3-kserve-route-authn\n  namespace: llm\n" labels                       \
    "spec:\n  targetRef: {group: gateway.networking.k8s.io, kind: HTTPRoute, "                     \
    "name: qwen3-kserve-route}\n"

static void test_maas_lint__maas033_conflicting_authpolicy(void **state)
{
    (void)state;
    expect(BASELINE D FOREIGN_AP(""), "MAAS033", "warning",
           "AuthPolicy/llm/qwen3-kserve-route-authn");
    expect_none(BASELINE D FOREIGN_AP("  labels: {app.kubernetes.io/managed-by: maas-controller}\n"),
                "MAAS033");
    /* a route found in Git by its labels replaces the predicted name */
    expect_none(BASELINE D FOREIGN_AP("") D
                    "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
                    "metadata:\n  name: qwen3-route\n  namespace: llm\n  labels:\n"
                    "    app.kubernetes.io/name: qwen3\n"
                    "    app.kubernetes.io/component: llminferenceservice-router\n"
                    "    app.kubernetes.io/part-of: llminferenceservice\n",
                "MAAS033");
    expect_none(BASELINE, "MAAS033");
}

static void test_maas_lint__maas034_double_enforcement(void **state)
{
    (void)state;
    expect(CM D TRLP D ISVC("qwen3", ANN("[]")) D MREF("qwen3", "LLMInferenceService", "qwen3") D
               QAUTH D QSUB,
           "MAAS034", "info", QREFOBJ);
    expect_none(QWEN D QAUTH D QSUB, "MAAS034");
}

static void test_maas_lint__maas036_long_window(void **state)
{
    (void)state;
    expect(QWEN D QAUTH D SUB("qwen3-sub", QREF(1000, "9000h"), PREMIUM, ""), "MAAS036", "warning",
           QSUBREF);
    expect_none(QWEN D QAUTH D SUB("qwen3-sub", QREF(1000, "8784h"), PREMIUM, ""), "MAAS036");
}

static void test_maas_lint__maas037_duplicate_model(void **state)
{
    (void)state;
    expect(QWEN D AUTH("qwen3-access", "models-as-a-service",
                       "[{name: qwen3, namespace: llm}, {name: qwen3, namespace: llm}]", PREMIUM) D
               QSUB,
           "MAAS037", "warning", QAUTHREF);
    expect_none(BASELINE, "MAAS037");
}

#define EXT                                                                                        \
    "apiVersion: maas.opendatahub.io/v1alpha1\nkind: ExternalModel\n"                              \
    "metadata: {name: gpt, namespace: llm}\n"                                                      \
    "spec: {provider: openai, targetModel: gpt-4o, endpoint: api.openai.com, "                     \
    "credentialRef: {name: openai-key}}\n"
#define SECRET(data)                                                                               \
    "apiVersion: v1\nkind: Secret\nmetadata: {name: openai-key, namespace: llm}\n" data

static void test_maas_lint__maas038_external_secret(void **state)
{
    (void)state;
    expect(EXT, "MAAS038", "warning", "ExternalModel/llm/gpt");
    expect(EXT D SECRET("stringData: {token: x}\n"), "MAAS038", "warning", "ExternalModel/llm/gpt");
    expect_none(EXT D SECRET("stringData: {api-key: x}\n"), "MAAS038");
    expect_none(EXT D SECRET("data: {api-key: eA==}\n"), "MAAS038");
}

static void test_maas_lint__maas039_unmanaged_claim(void **state)
{
    const char *claim = "apiVersion: kuadrant.io/v1\nkind: AuthPolicy\n"
                        "metadata:\n  name: maas-auth-qwen3\n  namespace: llm\n"
                        "  annotations: {opendatahub.io/managed: 'false'}\n"
                        "spec:\n  targetRef: {kind: HTTPRoute, name: elsewhere}\n";
    const char *managed = "apiVersion: kuadrant.io/v1\nkind: AuthPolicy\n"
                          "metadata: {name: maas-auth-qwen3, namespace: llm}\n"
                          "spec:\n  targetRef: {kind: HTTPRoute, name: elsewhere}\n";
    char buf[8192];
    (void)state;
    snprintf(buf, sizeof(buf), "%s---\n%s", BASELINE, claim);
    expect(buf, "MAAS039", "info", "AuthPolicy/llm/maas-auth-qwen3");
    snprintf(buf, sizeof(buf), "%s---\n%s", BASELINE, managed);
    expect_none(buf, "MAAS039");
}

#define GROUP(n) "apiVersion: user.openshift.io/v1\nkind: Group\nmetadata: {name: " n "}\nusers: []\n"

static void test_maas_lint__maas045_undefined_group(void **state)
{
    json_t *d;
    (void)state;
    /* Group objects exist: premium-users is not among them (system:* is exempt) */
    d = lint(BASELINE D GROUP("premium-user"));
    assert_int_equal(count(d, "MAAS045", "warning", CMREF), 1);
    assert_int_equal(count(d, "MAAS045", "warning", QAUTHREF), 1);
    assert_int_equal(count(d, "MAAS045", "warning", QSUBREF), 1);
    json_decref(d);
    expect_none(BASELINE D GROUP("premium-users"), "MAAS045");
    /* without Group objects groups may come from an identity provider */
    expect_none(BASELINE, "MAAS045");
}

/* ---- robustness ------------------------------------------------------------------------------ */

static void test_maas_lint__malformed_objects_never_crash(void **state)
{
    const char *junk = "- 1\n- [a]\n- {kind: ConfigMap}\n"
                       "- {apiVersion: v1, kind: ConfigMap, metadata: {name: tier-to-group-mapping}, "
                       "data: {tiers: 7}}\n"
                       "- {apiVersion: serving.kserve.io/v1alpha1, kind: LLMInferenceService, "
                       "metadata: {annotations: {alpha.maas.opendatahub.io/tiers: [a]}}}\n"
                       "- {apiVersion: maas.opendatahub.io/v1alpha1, kind: MaaSSubscription, "
                       "metadata: null, spec: {owner: 3, modelRefs: {a: 1}}}\n"
                       "- {apiVersion: maas.opendatahub.io/v1alpha1, kind: MaaSModelRef, spec: 1}\n"
                       "- {apiVersion: kuadrant.io/v1alpha1, kind: TokenRateLimitPolicy, metadata: "
                       "{namespace: openshift-ingress}, spec: {targetRef: {kind: Gateway, name: "
                       "maas-default-gateway}, limits: {a: {when: [{predicate: 3}, 7]}, b: 2}}}\n";
    json_t *docs = parse(junk), *d = json_array();
    (void)state;
    assert_int_equal(pl_maas_lint(d, json_array_get(docs, 0), NULL, NULL), 0);
    assert_true(count(d, "MAAS020", "error", NULL) >= 2);
    assert_int_equal(count(d, "MAAS004", "error", NULL), 1);
    assert_int_equal(count(d, "MAAS007", "error", NULL), 1);
    json_decref(docs);
    json_decref(d);
}

static void test_maas_lint__existing_diagnostics_not_repeated(void **state)
{
    json_t *o = parse(BASELINE D AUTH("stray", "llm", Q, PREMIUM)), *d = json_array();
    size_t n;
    (void)state;
    assert_int_equal(pl_maas_lint(d, o, NULL, NULL), 0);
    n = json_array_size(d);
    assert_int_equal(count(d, "MAAS021", NULL, NULL), 1);
    assert_int_equal(pl_maas_lint(d, o, NULL, NULL), 0);
    assert_int_equal(json_array_size(d), n);
    json_decref(o);
    json_decref(d);
}

/* ---- the lint-commit fixture (../shared/maas/examples) ----------------------------------------- */

static json_t *load_dir(pl_fs *fs, const char *dir)
{
    json_t *o = NULL;
    pl_plain_opts po = PL_PLAIN_OPTS_INIT;
    if (pl_plain_render(&o, fs, dir, &po) < 0)
        return NULL;
    return o;
}

static void test_maas_lint__fixture_lint_commit(void **state)
{
    const char *root = PL_SOURCE_DIR "/../shared/maas/examples/lint-commit";
    pl_fs *fs = NULL;
    json_t *in, *base, *want, *cfg, *d = json_array();
    pl_buf b = PL_BUF_INIT;
    char path[1024];
    size_t i, n = 0;
    json_t *x;
    (void)state;
    assert_int_equal(pl_fs_dir_new(&fs), 0);
    snprintf(path, sizeof(path), "%s/input", root);
    if (pl_fs_kind_of(fs, path) != PL_FS_DIR) {
        pl_fs_free(fs);
        json_decref(d);
        skip();
    }
    in = load_dir(fs, path);
    snprintf(path, sizeof(path), "%s/base", root);
    base = load_dir(fs, path);
    assert_non_null(in);
    assert_non_null(base);
    snprintf(path, sizeof(path), "%s/input/maas-render.yaml", root);
    assert_int_equal(pl_fs_read(fs, path, &b), 0);
    cfg = parse(b.ptr);
    pl_buf_dispose(&b);
    snprintf(path, sizeof(path), "%s/expected-diagnostics.yaml", root);
    assert_int_equal(pl_fs_read(fs, path, &b), 0);
    want = parse(b.ptr);
    pl_buf_dispose(&b);
    assert_int_equal(pl_maas_lint(d, in, base, json_array_get(cfg, 0)), 0);
    /* every expected (rule, severity, object) is there ... */
    json_array_foreach(json_object_get(json_array_get(want, 0), "diagnostics"), i, x)
    {
        const char *rule = json_string_value(json_object_get(x, "rule"));
        const char *sev = json_string_value(json_object_get(x, "severity"));
        const char *obj = json_string_value(json_object_get(x, "object"));
        if (count(d, rule, sev, obj) < 1)
            print_error("missing %s %s %s\n", rule, sev, obj);
        assert_true(count(d, rule, sev, obj) >= 1);
    }
    /* ... and no other error or warning */
    json_array_foreach(d, i, x)
    {
        const char *sev = json_string_value(json_object_get(x, "severity"));
        size_t j;
        json_t *w;
        int found = 0;
        if (!strcmp(sev, "info"))
            continue;
        n++;
        json_array_foreach(json_object_get(json_array_get(want, 0), "diagnostics"), j, w)
        {
            if (json_equal(json_object_get(w, "rule"), json_object_get(x, "rule")) &&
                json_equal(json_object_get(w, "severity"), json_object_get(x, "severity")) &&
                json_equal(json_object_get(w, "object"), json_object_get(x, "object")))
                found = 1;
        }
        if (!found)
            print_error("unexpected %s %s %s\n", json_string_value(json_object_get(x, "rule")),
                        sev, json_string_value(json_object_get(x, "object")));
        assert_true(found);
    }
    assert_true(n >= 13);
    json_decref(in);
    json_decref(base);
    json_decref(cfg);
    json_decref(want);
    json_decref(d);
    pl_fs_free(fs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maas_lint__baseline_is_clean),
        cmocka_unit_test(test_maas_lint__maas001_rename),
        cmocka_unit_test(test_maas_lint__maas002_removed_tier_in_annotation),
        cmocka_unit_test(test_maas_lint__maas003_orphaned_groups),
        cmocka_unit_test(test_maas_lint__maas004_bad_annotation),
        cmocka_unit_test(test_maas_lint__maas005_unknown_tier),
        cmocka_unit_test(test_maas_lint__maas006_group_in_several_tiers),
        cmocka_unit_test(test_maas_lint__maas007_invalid_or_extra_configmap),
        cmocka_unit_test(test_maas_lint__maas008_mapping_yaml),
        cmocka_unit_test(test_maas_lint__maas009_tier_without_limit),
        cmocka_unit_test(test_maas_lint__maas010_dangling_predicate),
        cmocka_unit_test(test_maas_lint__maas011_tier_namespace),
        cmocka_unit_test(test_maas_lint__maas012_no_counters),
        cmocka_unit_test(test_maas_lint__maas013_level_vs_limit),
        cmocka_unit_test(test_maas_lint__maas014_configmap_changed),
        cmocka_unit_test(test_maas_lint__maas035_request_limits),
        cmocka_unit_test(test_maas_lint__maas020_schema),
        cmocka_unit_test(test_maas_lint__maas021_namespace),
        cmocka_unit_test(test_maas_lint__maas022_missing_modelref),
        cmocka_unit_test(test_maas_lint__maas023_024_one_gate_missing),
        cmocka_unit_test(test_maas_lint__maas025_coverage),
        cmocka_unit_test(test_maas_lint__maas026_tie),
        cmocka_unit_test(test_maas_lint__maas027_overlap),
        cmocka_unit_test(test_maas_lint__maas028_quotes),
        cmocka_unit_test(test_maas_lint__maas029_backend_missing),
        cmocka_unit_test(test_maas_lint__maas030_gateway_ref),
        cmocka_unit_test(test_maas_lint__maas031_empty_owner),
        cmocka_unit_test(test_maas_lint__maas032_long_name),
        cmocka_unit_test(test_maas_lint__maas033_conflicting_authpolicy),
        cmocka_unit_test(test_maas_lint__maas034_double_enforcement),
        cmocka_unit_test(test_maas_lint__maas036_long_window),
        cmocka_unit_test(test_maas_lint__maas037_duplicate_model),
        cmocka_unit_test(test_maas_lint__maas038_external_secret),
        cmocka_unit_test(test_maas_lint__maas039_unmanaged_claim),
        cmocka_unit_test(test_maas_lint__maas045_undefined_group),
        cmocka_unit_test(test_maas_lint__malformed_objects_never_crash),
        cmocka_unit_test(test_maas_lint__existing_diagnostics_not_repeated),
        cmocka_unit_test(test_maas_lint__fixture_lint_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
