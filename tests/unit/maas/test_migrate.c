/*
 * test_migrate.c - mode migrate (SPEC §4): the two migration fixtures byte for byte, then one
 * case per branch of maas_migrate.c (limits, windows, annotations, MAAS040-MAAS044, labels).
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "maas.h"
#include "plumb/fs.h"
#include "plumb/render.h"

#ifndef PL_SOURCE_DIR
#define PL_SOURCE_DIR "."
#endif
#define EXAMPLES PL_SOURCE_DIR "/../shared/maas/examples"

/* ---- helpers ---------------------------------------------------------------------------- */

static json_t *parse(const char *yaml)
{
    json_t *docs = NULL;

    assert_int_equal(pl_yaml_parse(&docs, yaml, strlen(yaml), "test.yaml", NULL), 0);
    return docs;
}

/* run pl_maas_migrate over `objects_yaml` with `config_yaml` (NULL: defaults) */
static void migrate(json_t **out, json_t **diags, const char *objects_yaml, const char *config_yaml)
{
    json_t *objs = parse(objects_yaml), *cfgdocs = config_yaml ? parse(config_yaml) : NULL;

    *diags = json_array();
    assert_int_equal(pl_maas_migrate(out, *diags, objs, json_array_get(cfgdocs, 0)), 0);
    assert_non_null(*out);
    json_decref(objs);
    json_decref(cfgdocs);
}

static const json_t *find(const json_t *objs, const char *kind, const char *ns, const char *name)
{
    size_t i;
    json_t *o;

    json_array_foreach (objs, i, o) {
        const char *ons = pl_json_str(o, "metadata", "namespace", NULL);
        if (!strcmp(pl_json_str(o, "kind", NULL), kind) && !strcmp(ons ? ons : "", ns) &&
            !strcmp(pl_json_str(o, "metadata", "name", NULL), name))
            return o;
    }
    return NULL;
}

static size_t count_rule(const json_t *diags, const char *rule)
{
    size_t i, n = 0;
    json_t *d;

    json_array_foreach (diags, i, d) {
        if (!strcmp(json_string_value(json_object_get(d, "rule")), rule))
            n++;
    }
    return n;
}

static int has_diag(const json_t *diags, const char *rule, const char *sev, const char *object)
{
    size_t i;
    json_t *d;

    json_array_foreach (diags, i, d) {
        if (!strcmp(pl_json_str(d, "rule", NULL), rule) &&
            !strcmp(pl_json_str(d, "severity", NULL), sev) &&
            !strcmp(pl_json_str(d, "object", NULL), object))
            return 1;
    }
    return 0;
}

static const char *diag_message(const json_t *diags, const char *rule)
{
    size_t i;
    json_t *d;

    json_array_foreach (diags, i, d) {
        if (!strcmp(pl_json_str(d, "rule", NULL), rule))
            return pl_json_str(d, "message", NULL);
    }
    return NULL;
}

static char *emit(const json_t *objs)
{
    pl_buf b = PL_BUF_INIT;

    assert_int_equal(pl_yaml_emit_stream(&b, objs), 0);
    return b.ptr ? pl_buf_detach(&b) : pl_strdup("");
}

/* ---- fixtures ------------------------------------------------------------------------------ */

static char *read_text(const char *path)
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
    return b.ptr ? pl_buf_detach(&b) : pl_strdup("");
}

/* expected.yaml without its leading `#` comment lines (§0.4) */
static char *strip_comments(char *text)
{
    char *p = text;

    while (*p == '#') {
        char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : p + strlen(p);
    }
    memmove(text, p, strlen(p) + 1);
    return text;
}

/* the rules migrate owns (§5: MAAS040-MAAS044 are raised only in migrate) */
static int migrate_rule(const char *rule)
{
    return !strncmp(rule, "MAAS04", 6) && rule[6] >= '0' && rule[6] <= '4' && !rule[7];
}

static void check_fixture(const char *name)
{
    char dir[1024], path[1100];
    pl_fs *fs = NULL;
    pl_plain_opts popts = PL_PLAIN_OPTS_INIT;
    json_t *objs = NULL, *cfgdocs, *out = NULL, *diags, *want_d, *d;
    char *cfgtext, *want, *got, *dtext;
    size_t i, nwant = 0;

    snprintf(dir, sizeof(dir), "%s/%s", EXAMPLES, name);
    if (access(dir, R_OK) != 0)
        skip();
    diags = json_array(); /* after the skip, which never returns */
    snprintf(path, sizeof(path), "%s/input", dir);
    popts.exclude = "maas-render.yaml";
    assert_int_equal(pl_fs_dir_new(&fs), 0);
    assert_int_equal(pl_plain_render(&objs, fs, path, &popts), 0);
    snprintf(path, sizeof(path), "%s/input/maas-render.yaml", dir);
    cfgtext = read_text(path);
    assert_non_null(cfgtext);
    cfgdocs = parse(cfgtext);
    assert_int_equal(pl_maas_migrate(&out, diags, objs, json_array_get(cfgdocs, 0)), 0);

    snprintf(path, sizeof(path), "%s/expected.yaml", dir);
    want = strip_comments(read_text(path));
    got = emit(out);
    assert_string_equal(got, want);

    /* diagnostics of the migrate rules, compared as sets of (rule, severity, object) */
    snprintf(path, sizeof(path), "%s/expected-diagnostics.yaml", dir);
    dtext = read_text(path);
    want_d = parse(dtext);
    json_array_foreach (pl_json_path(json_array_get(want_d, 0), "diagnostics", NULL), i, d) {
        if (!migrate_rule(pl_json_str(d, "rule", NULL)))
            continue;
        nwant++;
        assert_true(has_diag(diags, pl_json_str(d, "rule", NULL), pl_json_str(d, "severity", NULL),
                             pl_json_str(d, "object", NULL)));
    }
    json_array_foreach (diags, i, d) {
        const char *sev = pl_json_str(d, "severity", NULL);
        if (strcmp(sev, "info") != 0)
            nwant--;
    }
    assert_int_equal(nwant, 0);

    pl_free(cfgtext);
    pl_free(want);
    pl_free(got);
    pl_free(dtext);
    json_decref(want_d);
    json_decref(cfgdocs);
    json_decref(objs);
    json_decref(out);
    json_decref(diags);
    pl_fs_free(fs);
}

static void test_maas_migrate__fixture_worksheet(void **state)
{
    (void)state;
    check_fixture("migrate-worksheet");
}

static void test_maas_migrate__fixture_dedicated_tiers(void **state)
{
    (void)state;
    check_fixture("migrate-dedicated-tiers");
}

/* ---- inline cases --------------------------------------------------------------------------- */

#define CM(tiers)                                                                                  \
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tier-to-group-mapping, namespace: "         \
    "maas-api}\ndata:\n  tiers: |\n" tiers "---\n"

#define TIER(name, level, groups) "    - {name: " name ", level: " level ", groups: " groups "}\n"

#define TRLP(name, ns, gw, section, limits)                                                        \
    "apiVersion: kuadrant.io/v1alpha1\nkind: TokenRateLimitPolicy\nmetadata: {name: " name         \
    ", namespace: " ns "}\nspec:\n  targetRef: {group: gateway.networking.k8s.io, kind: "          \
    "Gateway, name: " gw "}\n" section limits "---\n"

#define LIMIT(key, limit, window, pred)                                                            \
    "    " key ":\n      rates: [{limit: " limit ", window: " window                               \
    "}]\n      when: [{predicate: " pred                                                           \
    "}]\n      counters: [{expression: auth.identity.userid}]\n"

#define MODEL(name, ns, ann)                                                                       \
    "apiVersion: serving.kserve.io/v1alpha1\nkind: LLMInferenceService\nmetadata:\n  name: " name  \
    "\n  namespace: " ns "\n  annotations: {alpha.maas.opendatahub.io/tiers: " ann "}\n---\n"

#define GW_TRLP(limits)                                                                            \
    TRLP("gateway-tier-rate-limits", "openshift-ingress", "maas-default-gateway", "  limits:\n",   \
         limits)

#define ONE_TIER CM(TIER("free", "0", "[system:authenticated]"))

static const json_t *sub_rates(const json_t *out, const char *tier)
{
    char name[128];
    const json_t *sub;

    snprintf(name, sizeof(name), "%s-models-subscription", tier);
    sub = find(out, "MaaSSubscription", "models-as-a-service", name);
    if (!sub)
        return NULL;
    return pl_json_path(json_array_get(pl_json_path(sub, "spec", "modelRefs", NULL), 0),
                        "tokenRateLimits", NULL);
}

static void test_maas_migrate__predicate_forms(void **state)
{
    json_t *out, *diags;

    (void)state;
    /* single quotes, no spaces, block-scalar newline: all scope the limit to the tier */
    migrate(&out, &diags,
            CM(TIER("a", "0", "[ga]") TIER("b", "1", "[gb]") TIER("c", "2", "[gc]")
                   TIER("d", "3", "[gd]"))
                GW_TRLP(LIMIT("a", "10", "1m", "\"auth.identity.tier == 'a'\"")
                            LIMIT("b", "20", "1m", "'auth.identity.tier==\"b\"'") LIMIT(
                                "c", "30", "1m", "\"  auth.identity.tier  ==  \\\"c\\\"\\n\"")
                                LIMIT("d", "40", "1m",
                                      "'auth.identity.tier == \"d\" && request.path != \"/x\"'"))
                    MODEL("m", "llm", "'[]'"),
            NULL);
    assert_int_equal(
        json_integer_value(pl_json_path(json_array_get(sub_rates(out, "a"), 0), "limit", NULL)),
        10);
    assert_int_equal(
        json_integer_value(pl_json_path(json_array_get(sub_rates(out, "b"), 0), "limit", NULL)),
        20);
    assert_int_equal(
        json_integer_value(pl_json_path(json_array_get(sub_rates(out, "c"), 0), "limit", NULL)),
        30);
    /* a compound predicate is not "scoped to d": d has no token limit (MAAS041) */
    assert_null(sub_rates(out, "d"));
    assert_true(has_diag(diags, "MAAS041", "error", "ConfigMap/maas-api/tier-to-group-mapping"));
    assert_non_null(strstr(diag_message(diags, "MAAS041"), "tier d"));
    assert_null(strstr(diag_message(diags, "MAAS041"), "tier a"));
    json_decref(out);
    json_decref(diags);
}

static void test_maas_migrate__limit_sections_and_order(void **state)
{
    json_t *out, *diags;
    const json_t *rates;

    (void)state;
    /* spec.limits, spec.defaults.limits and spec.overrides.limits all count; rates are
     * concatenated in sorted key order ("a-..." before "b-..." before "z-...") */
    migrate(&out, &diags,
            ONE_TIER TRLP("p1", "openshift-ingress", "maas-default-gateway", "  limits:\n",
                          LIMIT("z-tokens", "3", "1h", "auth.identity.tier == \"free\""))
                TRLP("p2", "openshift-ingress", "maas-default-gateway", "  defaults:\n   limits:\n",
                     " " LIMIT("b-tokens", "2", "1m", "auth.identity.tier == \"free\""))
                    TRLP("p3", "openshift-ingress", "maas-default-gateway",
                         "  overrides:\n   limits:\n",
                         " " LIMIT("a-tokens", "1", "30s", "auth.identity.tier == \"free\""))
                        MODEL("m", "llm", "'[\"free\"]'"),
            NULL);
    rates = sub_rates(out, "free");
    assert_int_equal(json_array_size(rates), 3);
    assert_int_equal(json_integer_value(pl_json_path(json_array_get(rates, 0), "limit", NULL)), 1);
    assert_string_equal(pl_json_str(json_array_get(rates, 0), "window", NULL), "30s");
    assert_int_equal(json_integer_value(pl_json_path(json_array_get(rates, 1), "limit", NULL)), 2);
    assert_int_equal(json_integer_value(pl_json_path(json_array_get(rates, 2), "limit", NULL)), 3);
    /* the description names the first rate */
    assert_string_equal(pl_json_str(find(out, "MaaSSubscription", "models-as-a-service",
                                         "free-models-subscription"),
                                    "metadata", "annotations", "description", NULL),
                        "Subscription for free tier models with 1 tokens/30s (migrated from "
                        "tier-based system)");
    json_decref(out);
    json_decref(diags);
}

static void test_maas_migrate__policies_not_on_the_gateway(void **state)
{
    json_t *out, *diags;

    (void)state;
    /* other namespace, other gateway, and a request-count RateLimitPolicy: none is a token
     * limit, so the tier has none (MAAS041) and gets no subscription */
    migrate(
        &out, &diags,
        ONE_TIER TRLP("x", "elsewhere", "maas-default-gateway", "  limits:\n",
                      LIMIT("t", "1", "1m", "auth.identity.tier == \"free\""))
            TRLP("y", "openshift-ingress", "other-gateway", "  limits:\n",
                 LIMIT("t", "1",
                       "1m", "auth.identity.tier == \"free\"")) "apiVersion: kuadrant.io/v1\nkind: "
                                                                "RateLimitPolicy\nmetadata: {name: "
                                                                "rl, "
                                                                "namespace: "
                                                                "openshift-ingress}\nspec:\n  "
                                                                "targetRef: {kind: Gateway, name: "
                                                                "maas-default-gateway}\n  "
                                                                "limits:\n" LIMIT(
                                                                    "t", "5", "1m",
                                                                    "auth.identity.tier == "
                                                                    "\"free\"") "---\n" MODEL("m",
                                                                                              "llm",
                                                                                              "'[]"
                                                                                              "'"),
        NULL);
    assert_null(find(out, "MaaSSubscription", "models-as-a-service", "free-models-subscription"));
    assert_non_null(find(out, "MaaSAuthPolicy", "models-as-a-service", "free-models-access"));
    assert_int_equal(count_rule(diags, "MAAS041"), 1);
    json_decref(out);
    json_decref(diags);

    /* the same limit on the configured gateway counts */
    migrate(&out, &diags,
            ONE_TIER TRLP("x", "gw-ns", "my-gw", "  limits:\n",
                          LIMIT("t", "7", "1m", "auth.identity.tier == \"free\""))
                MODEL("m", "llm", "'[]'"),
            "gateway: {name: my-gw, namespace: gw-ns}\n");
    assert_non_null(sub_rates(out, "free"));
    assert_int_equal(count_rule(diags, "MAAS041"), 0);
    json_decref(out);
    json_decref(diags);
}

static void test_maas_migrate__window_days_converted(void **state)
{
    json_t *out, *diags;
    const json_t *rates;

    (void)state;
    migrate(&out, &diags,
            ONE_TIER GW_TRLP(LIMIT("t", "1000", "1d", "auth.identity.tier == \"free\""))
                MODEL("m", "llm", "'[]'"),
            NULL);
    rates = sub_rates(out, "free");
    assert_non_null(rates);
    assert_string_equal(pl_json_str(json_array_get(rates, 0), "window", NULL), "24h");
    assert_true(has_diag(diags, "MAAS042", "warning",
                         "TokenRateLimitPolicy/openshift-ingress/gateway-tier-rate-limits"));
    json_decref(out);
    json_decref(diags);

    /* 366 days is the most a subscription window may be (8784h) */
    migrate(&out, &diags,
            ONE_TIER GW_TRLP(LIMIT("t", "1000", "366d", "auth.identity.tier == \"free\""))
                MODEL("m", "llm", "'[]'"),
            NULL);
    assert_string_equal(pl_json_str(json_array_get(sub_rates(out, "free"), 0), "window", NULL),
                        "8784h");
    json_decref(out);
    json_decref(diags);

    /* a CRD-valid window raises nothing */
    migrate(&out, &diags,
            ONE_TIER GW_TRLP(LIMIT("t", "1000", "9999s", "auth.identity.tier == \"free\""))
                MODEL("m", "llm", "'[]'"),
            NULL);
    assert_string_equal(pl_json_str(json_array_get(sub_rates(out, "free"), 0), "window", NULL),
                        "9999s");
    assert_int_equal(count_rule(diags, "MAAS042"), 0);
    json_decref(out);
    json_decref(diags);
}

static void check_bad_rate(const char *limit, const char *window)
{
    char yaml[4096];
    json_t *out, *diags;

    snprintf(yaml, sizeof(yaml),
             ONE_TIER "apiVersion: kuadrant.io/v1alpha1\nkind: TokenRateLimitPolicy\nmetadata: "
                      "{name: gateway-tier-rate-limits, namespace: openshift-ingress}\nspec:\n  "
                      "targetRef: {kind: Gateway, name: maas-default-gateway}\n  limits:\n    "
                      "ok:\n      rates: [{limit: 5, window: 1m}]\n      when: [{predicate: "
                      "'auth.identity.tier == \"free\"'}]\n    t:\n      rates: [{limit: %s, "
                      "window: %s}]\n      when: [{predicate: 'auth.identity.tier == \"free\"'}]\n"
                      "---\n" MODEL("m", "llm", "'[]'"),
             limit, window);
    migrate(&out, &diags, yaml, NULL);
    /* one bad rate takes the whole tier's subscription (§4.2 step 2); access stays */
    assert_null(find(out, "MaaSSubscription", "models-as-a-service", "free-models-subscription"));
    assert_non_null(find(out, "MaaSAuthPolicy", "models-as-a-service", "free-models-access"));
    assert_non_null(find(out, "MaaSModelRef", "llm", "m"));
    assert_true(has_diag(diags, "MAAS042", "error",
                         "TokenRateLimitPolicy/openshift-ingress/gateway-tier-rate-limits"));
    assert_int_equal(count_rule(diags, "MAAS042"), 1);
    assert_int_equal(count_rule(diags, "MAAS041"), 0);
    json_decref(out);
    json_decref(diags);
}

static void test_maas_migrate__window_or_limit_unusable(void **state)
{
    (void)state;
    check_bad_rate("100", "367d"); /* over 8784h */
    check_bad_rate("100", "0d");
    check_bad_rate("100", "10000s"); /* five digits: outside the CRD pattern */
    check_bad_rate("100", "0m");
    check_bad_rate("100", "1w");
    check_bad_rate("100", "1.5m");
    check_bad_rate("100", "60");
    check_bad_rate("1000000001", "1m"); /* over 10^9 */
    check_bad_rate("0", "1m");
    check_bad_rate("-5", "1m");
    check_bad_rate("'100'", "1m");
    check_bad_rate("1.5", "1m");
}

static void test_maas_migrate__limit_bounds_kept(void **state)
{
    json_t *out, *diags;

    (void)state;
    migrate(&out, &diags,
            ONE_TIER GW_TRLP(LIMIT("t", "1000000000", "1m", "auth.identity.tier == \"free\""))
                MODEL("m", "llm", "'[]'"),
            NULL);
    assert_int_equal(
        json_integer_value(pl_json_path(json_array_get(sub_rates(out, "free"), 0), "limit", NULL)),
        1000000000);
    assert_int_equal(json_array_size(diags), 0);
    json_decref(out);
    json_decref(diags);
}

static void test_maas_migrate__tier_without_models_or_groups(void **state)
{
    json_t *out, *diags;
    const json_t *ref;

    (void)state;
    /* "lonely" grants no model; "nogroups" has no groups: both MAAS044, one diagnostic on the
     * ConfigMap; a model reached only through "nogroups" gets no MaaSModelRef (§4.2 step 3) */
    migrate(&out, &diags,
            CM(TIER("free", "0", "[g1]") TIER("lonely", "1", "[g2]") TIER("nogroups", "2", "[]"))
                GW_TRLP(LIMIT("a", "1", "1m", "auth.identity.tier == \"free\"")
                            LIMIT("b", "1", "1m", "auth.identity.tier == \"lonely\"")
                                LIMIT("c", "1", "1m", "auth.identity.tier == \"nogroups\""))
                    MODEL("shared", "llm", "'[\"nogroups\", \"free\"]'")
                        MODEL("only", "llm", "'[\"nogroups\"]'"),
            NULL);
    assert_int_equal(count_rule(diags, "MAAS044"), 1);
    assert_true(has_diag(diags, "MAAS044", "warning", "ConfigMap/maas-api/tier-to-group-mapping"));
    assert_non_null(strstr(diag_message(diags, "MAAS044"), "tier lonely grants no model"));
    assert_non_null(strstr(diag_message(diags, "MAAS044"), "tier nogroups has no groups"));
    assert_null(find(out, "MaaSAuthPolicy", "models-as-a-service", "lonely-models-access"));
    assert_null(find(out, "MaaSAuthPolicy", "models-as-a-service", "nogroups-models-access"));
    assert_null(
        find(out, "MaaSSubscription", "models-as-a-service", "nogroups-models-subscription"));
    assert_null(find(out, "MaaSModelRef", "llm", "only"));
    ref = find(out, "MaaSModelRef", "llm", "shared");
    assert_non_null(ref);
    assert_string_equal(pl_json_str(ref, "metadata", "annotations",
                                    "migration.maas.opendatahub.io/original-tier", NULL),
                        "free");
    assert_int_equal(json_array_size(out), 3);
    json_decref(out);
    json_decref(diags);

    /* every tier with models and groups: no MAAS044 */
    migrate(&out, &diags,
            ONE_TIER GW_TRLP(LIMIT("a", "1", "1m", "auth.identity.tier == \"free\""))
                MODEL("m", "llm", "'[]'"),
            NULL);
    assert_int_equal(count_rule(diags, "MAAS044"), 0);
    json_decref(out);
    json_decref(diags);
}

static void test_maas_migrate__annotations(void **state)
{
    json_t *out, *diags;

    (void)state;
    migrate(&out, &diags,
            CM(TIER("free", "0", "[g1]") TIER("gold", "5", "[g2]"))
                GW_TRLP(LIMIT("a", "1", "1m", "auth.identity.tier == \"free\"")
                            LIMIT("b", "2", "1m", "auth.identity.tier == \"gold\""))
                    MODEL("all", "llm", "'[]'") MODEL("listed", "llm", "'[\"gold\", \"nosuch\"]'")
                        MODEL("unknown-only", "llm", "'[\"nosuch\"]'") MODEL("truncated", "llm",
                                                                             "'[\"gold\"'")
                            MODEL("object", "llm", "'{\"gold\": true}'") MODEL("numbers", "llm",
                                                                               "'[1, 2]'")
                                MODEL("scalar", "llm",
                                      "'\"gold\"'") "apiVersion: serving.kserve.io/v1alpha1\nkind: "
                                                    "LLMInferenceService\nmetadata: {name: bare, "
                                                    "namespace: llm}\n",
            NULL);
    /* '[]' = every tier; a list = the tiers of T it names */
    assert_string_equal(pl_json_str(find(out, "MaaSModelRef", "llm", "all"), "metadata",
                                    "annotations", "migration.maas.opendatahub.io/original-tier",
                                    NULL),
                        "free,gold");
    assert_string_equal(pl_json_str(find(out, "MaaSModelRef", "llm", "listed"), "metadata",
                                    "annotations", "migration.maas.opendatahub.io/original-tier",
                                    NULL),
                        "gold");
    /* unknown names only, malformed JSON, not a list of strings, no annotation: not migrated */
    assert_null(find(out, "MaaSModelRef", "llm", "unknown-only"));
    assert_null(find(out, "MaaSModelRef", "llm", "truncated"));
    assert_null(find(out, "MaaSModelRef", "llm", "object"));
    assert_null(find(out, "MaaSModelRef", "llm", "numbers"));
    assert_null(find(out, "MaaSModelRef", "llm", "scalar"));
    assert_null(find(out, "MaaSModelRef", "llm", "bare"));
    /* MAAS040 (info) only for the model without annotation; MAAS004/005 are lint's */
    assert_int_equal(count_rule(diags, "MAAS040"), 1);
    assert_true(has_diag(diags, "MAAS040", "info", "LLMInferenceService/llm/bare"));
    assert_int_equal(count_rule(diags, "MAAS004"), 0);
    assert_int_equal(count_rule(diags, "MAAS005"), 0);
    assert_int_equal(json_array_size(out), 6); /* 2 refs + 2 auth + 2 subs */
    json_decref(out);
    json_decref(diags);
}

static void test_maas_migrate__existing_objects_kept(void **state)
{
    json_t *out, *diags;

    (void)state;
    migrate(
        &out, &diags,
        ONE_TIER GW_TRLP(LIMIT("a", "1", "1m", "auth.identity.tier == \"free\"")) MODEL("m", "llm",
                                                                                        "'[]'")
            MODEL("n", "llm",
                  "'[]'") "apiVersion: maas.opendatahub.io/v1alpha1\nkind: MaaSModelRef\nmetadata: "
                          "{name: m, namespace: llm}\nspec: {modelRef: {kind: LLMInferenceService, "
                          "name: m}}\n---\napiVersion: maas.opendatahub.io/v1alpha1\nkind: "
                          "MaaSSubscription\nmetadata: {name: free-models-subscription, namespace: "
                          "models-as-a-service}\nspec: {}\n",
        NULL);
    assert_null(find(out, "MaaSModelRef", "llm", "m"));
    assert_null(find(out, "MaaSSubscription", "models-as-a-service", "free-models-subscription"));
    assert_non_null(find(out, "MaaSModelRef", "llm", "n"));
    assert_non_null(find(out, "MaaSAuthPolicy", "models-as-a-service", "free-models-access"));
    assert_true(has_diag(diags, "MAAS043", "info", "MaaSModelRef/llm/m"));
    assert_true(has_diag(diags, "MAAS043", "info",
                         "MaaSSubscription/models-as-a-service/free-models-subscription"));
    assert_int_equal(count_rule(diags, "MAAS043"), 2);
    /* the auth policy still references the kept MaaSModelRef */
    assert_int_equal(json_array_size(pl_json_path(
                         find(out, "MaaSAuthPolicy", "models-as-a-service", "free-models-access"),
                         "spec", "modelRefs", NULL)),
                     2);
    json_decref(out);
    json_decref(diags);
}

static void test_maas_migrate__priority_and_timestamp(void **state)
{
    json_t *out, *diags;
    size_t i;
    json_t *o;
    const char *yaml = CM(TIER("free", "0", "[g1]") TIER("gold", "7", "[g2]")) GW_TRLP(
        LIMIT("a", "1", "1m", "auth.identity.tier == \"free\"")
            LIMIT("b", "2", "1m", "auth.identity.tier == \"gold\"")) MODEL("m", "llm", "'[]'");

    (void)state;
    migrate(&out, &diags, yaml,
            "migration: {priorityFromLevel: true, timestamp: '2026-03-14T10:00:00Z'}\n");
    assert_int_equal(
        json_integer_value(pl_json_path(
            find(out, "MaaSSubscription", "models-as-a-service", "gold-models-subscription"),
            "spec", "priority", NULL)),
        7);
    assert_int_equal(
        json_integer_value(pl_json_path(
            find(out, "MaaSSubscription", "models-as-a-service", "free-models-subscription"),
            "spec", "priority", NULL)),
        0);
    json_array_foreach (out, i, o) {
        assert_string_equal(pl_json_str(o, "metadata", "annotations",
                                        "migration.maas.opendatahub.io/timestamp", NULL),
                            "2026-03-14T10:00:00Z");
    }
    json_decref(out);
    json_decref(diags);

    /* defaults: no priority, no timestamp */
    migrate(&out, &diags, yaml, NULL);
    json_array_foreach (out, i, o) {
        assert_null(pl_json_path(o, "spec", "priority", NULL));
        assert_null(pl_json_path(o, "metadata", "annotations",
                                 "migration.maas.opendatahub.io/timestamp", NULL));
        assert_string_equal(
            pl_json_str(o, "metadata", "labels", "migration.maas.opendatahub.io/generated", NULL),
            "true");
    }
    json_decref(out);
    json_decref(diags);
}

static void test_maas_migrate__subscription_namespace(void **state)
{
    json_t *out, *diags;

    (void)state;
    migrate(&out, &diags,
            ONE_TIER GW_TRLP(LIMIT("a", "1", "1m", "auth.identity.tier == \"free\""))
                MODEL("m", "llm", "'[]'"),
            "subscriptionNamespace: subs\n");
    assert_non_null(find(out, "MaaSAuthPolicy", "subs", "free-models-access"));
    assert_non_null(find(out, "MaaSSubscription", "subs", "free-models-subscription"));
    assert_non_null(find(out, "MaaSModelRef", "llm", "m"));
    json_decref(out);
    json_decref(diags);
}

static void test_maas_migrate__tier_configmap_choice(void **state)
{
    json_t *out, *diags;
    const char *other = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tier-to-group-mapping, "
                        "namespace: maas}\ndata:\n  tiers: |\n    - {name: other, groups: [x]}\n"
                        "---\n";

    (void)state;
    /* the one in legacyMaasApiNamespace wins over a further copy */
    migrate(&out, &diags, ONE_TIER "" MODEL("m", "llm", "'[]'"), NULL);
    json_decref(out);
    json_decref(diags);
    {
        char yaml[2048];
        snprintf(yaml, sizeof(yaml), "%s%s%s", other, ONE_TIER, MODEL("m", "llm", "'[]'"));
        migrate(&out, &diags, yaml, NULL);
        assert_non_null(find(out, "MaaSAuthPolicy", "models-as-a-service", "free-models-access"));
        assert_null(find(out, "MaaSAuthPolicy", "models-as-a-service", "other-models-access"));
        json_decref(out);
        json_decref(diags);
        /* a single copy elsewhere is still read */
        snprintf(yaml, sizeof(yaml), "%s%s", other, MODEL("m", "llm", "'[]'"));
        migrate(&out, &diags, yaml, NULL);
        assert_non_null(find(out, "MaaSAuthPolicy", "models-as-a-service", "other-models-access"));
        json_decref(out);
        json_decref(diags);
        /* ...unless another legacyMaasApiNamespace is configured and holds one */
        snprintf(yaml, sizeof(yaml), "%s%s%s", other, ONE_TIER, MODEL("m", "llm", "'[]'"));
        migrate(&out, &diags, yaml, "legacyMaasApiNamespace: maas\n");
        assert_non_null(find(out, "MaaSAuthPolicy", "models-as-a-service", "other-models-access"));
        assert_null(find(out, "MaaSAuthPolicy", "models-as-a-service", "free-models-access"));
        json_decref(out);
        json_decref(diags);
    }
}

static void test_maas_migrate__nothing_to_migrate(void **state)
{
    json_t *out, *diags;

    (void)state;
    /* no tier ConfigMap */
    migrate(&out, &diags, MODEL("m", "llm", "'[]'"), NULL);
    assert_int_equal(json_array_size(out), 0);
    json_decref(out);
    json_decref(diags);
    /* a tier document that does not parse, or is not a list: no output, no crash */
    migrate(&out, &diags,
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tier-to-group-mapping, namespace: "
            "maas-api}\ndata:\n  tiers: '- name: [unclosed'\n---\n" MODEL("m", "llm", "'[]'"),
            NULL);
    assert_int_equal(json_array_size(out), 0);
    json_decref(out);
    json_decref(diags);
    migrate(&out, &diags,
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tier-to-group-mapping, namespace: "
            "maas-api}\ndata: {}\n---\n" MODEL("m", "llm", "'[]'"),
            NULL);
    assert_int_equal(json_array_size(out), 0);
    json_decref(out);
    json_decref(diags);
    /* not an array of objects at all */
    {
        json_t *obj = json_object(), *d = json_array(), *o = NULL;
        assert_int_equal(pl_maas_migrate(&o, d, obj, NULL), 0);
        assert_int_equal(json_array_size(o), 0);
        json_decref(o);
        json_decref(d);
        json_decref(obj);
    }
}

static void test_maas_migrate__groups_and_models(void **state)
{
    json_t *out, *diags;
    const json_t *ap, *refs, *groups;

    (void)state;
    /* duplicate groups dropped (order kept); models sorted by (namespace, name); a model
     * without namespace lands in default */
    migrate(
        &out, &diags,
        CM(TIER("free", "0", "[b, a, b]")) GW_TRLP(
            LIMIT("a", "1", "1m", "auth.identity.tier == \"free\"")) MODEL("z", "aaa", "'[]'")
            MODEL("b", "zzz", "'[]'") MODEL(
                "a", "zzz",
                "'[]'") "apiVersion: serving.kserve.io/v1alpha1\nkind: LLMInferenceService\n"
                        "metadata:\n  name: nons\n  annotations: {alpha.maas.opendatahub.io/tiers: "
                        "'[]'}\n",
        NULL);
    ap = find(out, "MaaSAuthPolicy", "models-as-a-service", "free-models-access");
    groups = pl_json_path(ap, "spec", "subjects", "groups", NULL);
    assert_int_equal(json_array_size(groups), 2);
    assert_string_equal(pl_json_str(json_array_get(groups, 0), "name", NULL), "b");
    assert_string_equal(pl_json_str(json_array_get(groups, 1), "name", NULL), "a");
    assert_int_equal(json_array_size(pl_json_path(ap, "spec", "subjects", "users", NULL)), 0);
    refs = pl_json_path(ap, "spec", "modelRefs", NULL);
    assert_int_equal(json_array_size(refs), 4);
    assert_string_equal(pl_json_str(json_array_get(refs, 0), "namespace", NULL), "aaa");
    assert_string_equal(pl_json_str(json_array_get(refs, 1), "namespace", NULL), "default");
    assert_string_equal(pl_json_str(json_array_get(refs, 2), "name", NULL), "a");
    assert_string_equal(pl_json_str(json_array_get(refs, 3), "name", NULL), "b");
    assert_non_null(find(out, "MaaSModelRef", "default", "nons"));
    json_decref(out);
    json_decref(diags);

    /* the same model twice in the input is migrated once */
    migrate(&out, &diags,
            ONE_TIER GW_TRLP(LIMIT("a", "1", "1m", "auth.identity.tier == \"free\""))
                MODEL("m", "llm", "'[]'") MODEL("m", "llm", "'[]'"),
            NULL);
    assert_int_equal(json_array_size(out), 3);
    assert_int_equal(json_array_size(pl_json_path(
                         find(out, "MaaSAuthPolicy", "models-as-a-service", "free-models-access"),
                         "spec", "modelRefs", NULL)),
                     1);
    json_decref(out);
    json_decref(diags);
}

static void test_maas_migrate__shared_model_ref_labels(void **state)
{
    json_t *out, *diags;
    const json_t *ref;

    (void)state;
    /* from-tier is the first granting tier in ConfigMap order, not the lowest level */
    migrate(&out, &diags,
            CM(TIER("gold", "9", "[g1]") TIER("free", "0", "[g2]"))
                GW_TRLP(LIMIT("a", "1", "1m", "auth.identity.tier == \"free\"")
                            LIMIT("b", "2", "1m", "auth.identity.tier == \"gold\""))
                    MODEL("m", "llm", "'[\"free\", \"gold\"]'"),
            NULL);
    ref = find(out, "MaaSModelRef", "llm", "m");
    assert_string_equal(
        pl_json_str(ref, "metadata", "labels", "migration.maas.opendatahub.io/from-tier", NULL),
        "gold");
    assert_string_equal(pl_json_str(ref, "metadata", "annotations",
                                    "migration.maas.opendatahub.io/original-tier", NULL),
                        "gold,free");
    assert_null(pl_json_path(ref, "metadata", "annotations", "description", NULL));
    json_decref(out);
    json_decref(diags);
}

static void test_maas_migrate__mapping_yaml_variant(void **state)
{
    json_t *out, *diags;

    (void)state;
    /* §1.1 B: tiers from data.mapping.yaml have no token limit, even if a gateway predicate
     * names them (maas-api never resolved them): access is migrated, MAAS041 explains the rest */
    migrate(&out, &diags,
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tier-to-group-mapping, namespace: "
            "maas-api}\ndata:\n  mapping.yaml: |\n    tiers:\n      free: {groups: "
            "[system:authenticated], rateLimit: {requestsPerMinute: 10}}\n---\n" GW_TRLP(
                LIMIT("a", "100", "1m", "auth.identity.tier == \"free\""))
                MODEL("m", "llm", "'[\"free\"]'"),
            NULL);
    assert_non_null(find(out, "MaaSAuthPolicy", "models-as-a-service", "free-models-access"));
    assert_null(find(out, "MaaSSubscription", "models-as-a-service", "free-models-subscription"));
    assert_true(has_diag(diags, "MAAS041", "error", "ConfigMap/maas-api/tier-to-group-mapping"));
    json_decref(out);
    json_decref(diags);
}

/* ---- plumb maas migrate (engine/cli/cmd_maas_migrate.c, compiled into this test) ------------ */

/*
 * The CLI source is included so its flag handling and file output are tested in-process; the
 * symbols it takes from the rest of the plumb binary are stubbed here (the tree reader with
 * the same choice cmd_render.c makes, without remote bases or MaaSRender generators).
 */
#include "../../../engine/cli/cmd_maas_migrate.c"

void pl_cli_print_error(void)
{
    fprintf(stderr, "plumb: error: %s\n", pl_error_last()->message);
}

int pl_cli_render_tree(json_t **out, pl_fs *fs, const char *path, pl_render_opts *opts,
                       const pl_plain_opts *popts, int force_kustomize)
{
    if (pl_fs_kind_of(fs, path) == PL_FS_DIR && (force_kustomize || pl_kustomize_detect(fs, path)))
        return pl_kustomize_build(out, fs, path, opts);
    return pl_plain_render(out, fs, path, popts);
}

static int run_cli(const char *const *args)
{
    char *argv[64];
    int argc = 0, rc, saved_out, saved_err, devnull;

    argv[argc++] = (char *)"migrate";
    for (; *args; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    /* the command's own output (dry-run YAML, diagnostics) stays out of the test log */
    fflush(stdout);
    fflush(stderr);
    saved_out = dup(1);
    saved_err = dup(2);
    devnull = open("/dev/null", O_WRONLY);
    assert_true(saved_out >= 0 && saved_err >= 0 && devnull >= 0);
    dup2(devnull, 1);
    dup2(devnull, 2);
    rc = pl_cli_maas_migrate(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    close(devnull);
    return rc;
}

static int doc_cmp(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* the files of `dir` (sorted by content), or the documents of `expected` */
static json_t *sorted_docs(const char *dir, const char *expected)
{
    json_t *docs = json_array(), **v;
    size_t n;

    if (dir) {
        DIR *d = opendir(dir);
        struct dirent *e;
        assert_non_null(d);
        while ((e = readdir(d)) != NULL) {
            char path[2048];
            char *text;
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            text = read_text(path);
            json_array_append_new(docs, json_string(text));
            pl_free(text);
        }
        closedir(d);
    } else {
        const char *p = expected;
        while (*p) {
            const char *end = strstr(p, "---\n");
            size_t len = end ? (size_t)(end - p) : strlen(p);
            json_array_append_new(docs, json_stringn(p, len));
            p += len + (end ? 4 : 0);
        }
    }
    n = json_array_size(docs);
    v = pl_malloc((n ? n : 1) * sizeof(*v));
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(docs, i));
    qsort(v, n, sizeof(*v), doc_cmp);
    json_array_clear(docs);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(docs, v[i]);
    pl_free(v);
    return docs;
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        char path[2048];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void make_tmp(char *out, size_t size)
{
    snprintf(out, size, "/tmp/pl-maas-migrate-XXXXXX");
    assert_non_null(mkdtemp(out));
}

static void expect_same_docs(const char *dir, const char *fixture)
{
    char path[1024];
    char *want;
    json_t *got_docs, *want_docs;

    snprintf(path, sizeof(path), "%s/%s/expected.yaml", EXAMPLES, fixture);
    want = strip_comments(read_text(path));
    got_docs = sorted_docs(dir, NULL);
    want_docs = sorted_docs(NULL, want);
    assert_int_equal(json_array_size(got_docs), json_array_size(want_docs));
    for (size_t i = 0; i < json_array_size(want_docs); i++)
        assert_string_equal(json_string_value(json_array_get(got_docs, i)),
                            json_string_value(json_array_get(want_docs, i)));
    json_decref(got_docs);
    json_decref(want_docs);
    pl_free(want);
}

static void test_maas_migrate__cli_worksheet_flags(void **state)
{
    char tmp[64], out[128];
    const char *const args[] = {"--tier",
                                "free",
                                "--models",
                                "simulator,qwen3",
                                "--groups",
                                "system:authenticated",
                                "--rate-limit",
                                "100",
                                "--tier",
                                "premium",
                                "--models",
                                "llama, qwen3, simulator",
                                "--groups",
                                "premium-users,premium-group",
                                "--rate-limit",
                                "50000",
                                "--window",
                                "1m",
                                "--tier",
                                "enterprise",
                                "--models",
                                "gpt,llama,qwen3,simulator,",
                                "--groups",
                                "enterprise-users,admin-group",
                                "--rate-limit=100000",
                                "--output",
                                out,
                                NULL};
    char path[256];

    (void)state;
    if (access(EXAMPLES, R_OK) != 0)
        skip();
    make_tmp(tmp, sizeof(tmp));
    snprintf(out, sizeof(out), "%s/crs", tmp);
    assert_int_equal(run_cli(args), 0);
    /* the script's file names, one object each */
    snprintf(path, sizeof(path), "%s/maasmodelref-qwen3.yaml", out);
    assert_int_equal(access(path, R_OK), 0);
    snprintf(path, sizeof(path), "%s/maasauthpolicy-premium.yaml", out);
    assert_int_equal(access(path, R_OK), 0);
    snprintf(path, sizeof(path), "%s/maassubscription-enterprise.yaml", out);
    assert_int_equal(access(path, R_OK), 0);
    expect_same_docs(out, "migrate-worksheet");
    rm_tree(out);
    rmdir(tmp);
}

static void test_maas_migrate__cli_from_tree(void **state)
{
    char tmp[64], out[128], from[512];
    const char *const args[] = {"--from", from, "--output", out, NULL};

    (void)state;
    if (access(EXAMPLES, R_OK) != 0)
        skip();
    make_tmp(tmp, sizeof(tmp));
    snprintf(out, sizeof(out), "%s/crs", tmp);
    snprintf(from, sizeof(from), "%s/migrate-worksheet/input", EXAMPLES);
    assert_int_equal(run_cli(args), 0);
    expect_same_docs(out, "migrate-worksheet");
    rm_tree(out);
    /* MAAS041 is an error diagnostic: files are written, exit 1 */
    snprintf(from, sizeof(from), "%s/migrate-dedicated-tiers/input", EXAMPLES);
    assert_int_equal(run_cli(args), 1);
    expect_same_docs(out, "migrate-dedicated-tiers");
    rm_tree(out);
    rmdir(tmp);
}

static void test_maas_migrate__cli_from_tier_filter(void **state)
{
    char tmp[64], out[128], from[512], path[256];
    const char *const args[] = {"--from", from, "--tier", "premium", "--output", out, NULL};

    (void)state;
    if (access(EXAMPLES, R_OK) != 0)
        skip();
    make_tmp(tmp, sizeof(tmp));
    snprintf(out, sizeof(out), "%s/crs", tmp);
    snprintf(from, sizeof(from), "%s/migrate-worksheet/input", EXAMPLES);
    assert_int_equal(run_cli(args), 0);
    snprintf(path, sizeof(path), "%s/maassubscription-premium.yaml", out);
    assert_int_equal(access(path, R_OK), 0);
    snprintf(path, sizeof(path), "%s/maasmodelref-qwen3.yaml", out); /* shared with premium */
    assert_int_equal(access(path, R_OK), 0);
    snprintf(path, sizeof(path), "%s/maassubscription-free.yaml", out);
    assert_int_not_equal(access(path, R_OK), 0);
    snprintf(path, sizeof(path), "%s/maasmodelref-gpt.yaml", out); /* enterprise only */
    assert_int_not_equal(access(path, R_OK), 0);
    rm_tree(out);
    rmdir(tmp);
}

static void test_maas_migrate__cli_bad_flags(void **state)
{
    static const char *const cases[][16] = {
        {"--tier", "free", "--models", "a", "--groups", "g", "--rate-limit", "1", "--window", "1d"},
        {"--tier", "free", "--models", "a", "--groups", "g", "--rate-limit", "0"},
        {"--tier", "free", "--models", "a", "--groups", "g", "--rate-limit", "1.5"},
        {"--tier", "free", "--models", "a", "--groups", "g", "--rate-limit", "ten"},
        {"--tier", "free", "--models", "a", "--groups", "g", "--rate-limit", "-1"},
        {"--tier", "free", "--models", "a", "--groups", "g", "--rate-limit", "1000000001"},
        {"--tier", "free", "--models", "a", "--groups", "g", "--rate-limit", "1", "--window", "0m"},
        {"--tier", "free", "--models", "a", "--groups", "g", "--rate-limit", "1", "--window",
         "10000s"},
        {"--tier", "free", "--models", "a", "--groups", "g", "--rate-limit", "1", "--window"},
        {"--tier", "free", "--models", "a", "--rate-limit", "1"}, /* no --groups */
        {"--tier", "free", "--groups", "g", "--rate-limit", "1"}, /* no --models */
        {"--tier", "free", "--models", "a", "--groups", "g"},     /* no --rate-limit */
        {"--models", "a", "--groups", "g", "--rate-limit", "1"},  /* no --tier */
        {"--tier", "Free", "--models", "a", "--groups", "g", "--rate-limit", "1"},
        {"--tier", "free", "--models", "A_1", "--groups", "g", "--rate-limit", "1"},
        {"--tier", "free", "--models", ",", "--groups", "g", "--rate-limit", "1"},
        {"--tier", "free", "--models", "a", "--groups", "x\"y", "--rate-limit", "1"},
        {"--tier", "free", "--models", "a", "--groups", "g", "--rate-limit", "1", "--bogus"},
        {"--tier", "free", "--models", "a", "--groups", "g", "--rate-limit", "1", "stray"},
        {"--tier", "free", "--models", "a", "--models", "b", "--groups", "g", "--rate-limit", "1"},
        {"--models", "a", "--tier", "x", "--tier", "y", "--groups", "g", "--rate-limit", "1"},
        {"--tier", "x", "--tier", "x"},
        {"--tier", "free", "--models", "a", "--groups", "g", "--rate-limit", "1",
         "--subscription-ns", "Bad_NS"},
        {"--from", "/nonexistent/plumb-test"},
        {"--from", "/tmp", "--rate-limit", "1"},
        {"--from", "/tmp", "--model-ns", "llm"},
        {"--tier", "free", "--models", "a", "--groups", "g", "--rate-limit", "1", "--apply"},
        {NULL},
    };
    char tmp[64], out[128], path[160];

    (void)state;
    make_tmp(tmp, sizeof(tmp));
    snprintf(out, sizeof(out), "%s/crs", tmp);
    for (size_t i = 0; cases[i][0]; i++) {
        const char *args[24];
        size_t n = 0;
        for (; n < 16 && cases[i][n]; n++)
            args[n] = cases[i][n];
        args[n++] = "--output";
        args[n++] = out;
        args[n] = NULL;
        if (run_cli(args) != 2)
            fail_msg("case %zu (%s %s ...) did not exit 2", i, cases[i][0], cases[i][1]);
        /* nothing was written */
        snprintf(path, sizeof(path), "%s", out);
        assert_int_not_equal(access(path, F_OK), 0);
    }
    rmdir(tmp);
}

static void test_maas_migrate__cli_dry_run_and_help(void **state)
{
    char tmp[64], out[128];
    const char *const dry[] = {
        "--tier",       "free", "--models", "llm/a,other/a", "--groups",  "g",
        "--rate-limit", "5",    "--window", "24h",           "--dry-run", "--verbose",
        "--output",     out,    NULL};
    const char *const help[] = {"--help", NULL};

    (void)state;
    make_tmp(tmp, sizeof(tmp));
    snprintf(out, sizeof(out), "%s/crs", tmp);
    assert_int_equal(run_cli(dry), 0);
    assert_int_not_equal(access(out, F_OK), 0); /* --dry-run writes no file at all */
    assert_int_equal(run_cli(help), 0);
    rmdir(tmp);
}

static void test_maas_migrate__cli_files_and_stale(void **state)
{
    char tmp[64], out[128], path[256];
    const char *const first[] = {
        "--tier",   "free", "--models", "llm/a,other/a,b", "--groups", "g", "--rate-limit", "5",
        "--output", out,    NULL};
    const char *const second[] = {"--tier",       "free", "--models", "c", "--groups", "g",
                                  "--rate-limit", "5",    "--output", out, NULL};
    FILE *f;
    char *text;

    (void)state;
    make_tmp(tmp, sizeof(tmp));
    snprintf(out, sizeof(out), "%s/crs", tmp);
    assert_int_equal(run_cli(first), 0);
    /* a model name used in two namespaces gets the namespace in its file name */
    snprintf(path, sizeof(path), "%s/maasmodelref-llm-a.yaml", out);
    assert_int_equal(access(path, R_OK), 0);
    snprintf(path, sizeof(path), "%s/maasmodelref-other-a.yaml", out);
    assert_int_equal(access(path, R_OK), 0);
    snprintf(path, sizeof(path), "%s/maasmodelref-b.yaml", out);
    text = read_text(path);
    assert_non_null(strstr(text, "migration.maas.opendatahub.io/from-tier: free\n"));
    assert_non_null(strstr(text, "migration.maas.opendatahub.io/generated: \"true\"\n"));
    pl_free(text);
    /* files of ours without the generated label, and other files, are not ours to remove */
    snprintf(path, sizeof(path), "%s/maasmodelref-handmade.yaml", out);
    f = fopen(path, "w");
    fputs("kind: MaaSModelRef\n", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/notes.yaml", out);
    f = fopen(path, "w");
    fputs("x: 1\n", f);
    fclose(f);
    assert_int_equal(run_cli(second), 0);
    snprintf(path, sizeof(path), "%s/maasmodelref-b.yaml", out); /* stale: removed */
    assert_int_not_equal(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/maasmodelref-llm-a.yaml", out);
    assert_int_not_equal(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/maasmodelref-c.yaml", out);
    assert_int_equal(access(path, R_OK), 0);
    snprintf(path, sizeof(path), "%s/maasmodelref-handmade.yaml", out);
    assert_int_equal(access(path, R_OK), 0);
    snprintf(path, sizeof(path), "%s/notes.yaml", out);
    assert_int_equal(access(path, R_OK), 0);
    rm_tree(out);
    rmdir(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maas_migrate__fixture_worksheet),
        cmocka_unit_test(test_maas_migrate__fixture_dedicated_tiers),
        cmocka_unit_test(test_maas_migrate__predicate_forms),
        cmocka_unit_test(test_maas_migrate__limit_sections_and_order),
        cmocka_unit_test(test_maas_migrate__policies_not_on_the_gateway),
        cmocka_unit_test(test_maas_migrate__window_days_converted),
        cmocka_unit_test(test_maas_migrate__window_or_limit_unusable),
        cmocka_unit_test(test_maas_migrate__limit_bounds_kept),
        cmocka_unit_test(test_maas_migrate__tier_without_models_or_groups),
        cmocka_unit_test(test_maas_migrate__annotations),
        cmocka_unit_test(test_maas_migrate__existing_objects_kept),
        cmocka_unit_test(test_maas_migrate__priority_and_timestamp),
        cmocka_unit_test(test_maas_migrate__subscription_namespace),
        cmocka_unit_test(test_maas_migrate__tier_configmap_choice),
        cmocka_unit_test(test_maas_migrate__nothing_to_migrate),
        cmocka_unit_test(test_maas_migrate__groups_and_models),
        cmocka_unit_test(test_maas_migrate__shared_model_ref_labels),
        cmocka_unit_test(test_maas_migrate__mapping_yaml_variant),
        cmocka_unit_test(test_maas_migrate__cli_worksheet_flags),
        cmocka_unit_test(test_maas_migrate__cli_from_tree),
        cmocka_unit_test(test_maas_migrate__cli_from_tier_filter),
        cmocka_unit_test(test_maas_migrate__cli_bad_flags),
        cmocka_unit_test(test_maas_migrate__cli_dry_run_and_help),
        cmocka_unit_test(test_maas_migrate__cli_files_and_stale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
