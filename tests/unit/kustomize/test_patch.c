/*
 * test_patch.c - kz_jsonpatch.c (RFC 6902 as evanphx/json-patch v4 applies it) and kz_patch.c
 * (selectors, PatchTransformer / PatchStrategicMergeTransformer / PatchJson6902Transformer).
 *
 * Expected documents and error texts were checked against `kubectl kustomize` (v5.5) on
 * equivalent trees.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kz.h"

/* ---- helpers ------------------------------------------------------------------------------ */

/* first document of a YAML text (owned) */
static json_t *yaml1(const char *text)
{
    json_t *docs = NULL, *d;

    assert_int_equal(pl_yaml_parse(&docs, text, strlen(text), "test", NULL), 0);
    d = json_incref(json_array_get(docs, 0));
    json_decref(docs);
    return d;
}

static void assert_json_eq(const json_t *got, const char *want_yaml)
{
    json_t *want = yaml1(want_yaml);

    if (!json_equal((json_t *)got, want)) {
        char *g = json_dumps(got, JSON_SORT_KEYS), *w = json_dumps(want, JSON_SORT_KEYS);
        print_error("got  %s\nwant %s\n", g, w);
        free(g);
        free(w);
        json_decref(want);
        fail();
    }
    json_decref(want);
}

/* a resmap from a multi-document YAML text */
static void resmap_from(pl_kz_resmap *m, const char *text)
{
    json_t *docs = NULL, *d;
    size_t i;

    pl_kz_resmap_init(m);
    assert_int_equal(pl_yaml_parse(&docs, text, strlen(text), "test", NULL), 0);
    json_array_foreach (docs, i, d)
        assert_int_equal(pl_kz_resmap_append(m, pl_kz_res_new_take(json_incref(d))), 0);
    json_decref(docs);
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle)) {
        print_error("message \"%s\" lacks \"%s\"\n", hay, needle);
        fail();
    }
}

/* ---- JSON patch --------------------------------------------------------------------------- */

static const char *doc_text = "apiVersion: apps/v1\n"
                              "kind: Deployment\n"
                              "metadata: {name: web}\n"
                              "spec:\n"
                              "  replicas: 2\n"
                              "  arr: [a, b, c]\n"
                              "  a/b: slash\n"
                              "  t~x: tilde\n";

static const struct {
    const char *ops;
    const char *want;  /* expected spec (YAML), or NULL when an error is expected */
    const char *error; /* substring of the error */
} jp_cases[] = {
    /* add overwrites an existing key and creates a missing one */
    {"[{op: add, path: /spec/replicas, value: 5}, {op: add, path: /spec/new, value: {x: 1}}]",
     "{replicas: 5, arr: [a, b, c], a/b: slash, t~x: tilde, new: {x: 1}}", NULL},
    /* index == len appends, "-" appends, -1 on add is relative to len+1 (appends too) */
    {"[{op: add, path: /spec/arr/3, value: d}, {op: add, path: /spec/arr/-, value: e},"
     " {op: add, path: /spec/arr/-1, value: f}, {op: add, path: /spec/arr/0, value: z}]",
     "{replicas: 2, arr: [z, a, b, c, d, e, f], a/b: slash, t~x: tilde}", NULL},
    {"[{op: add, path: /spec/arr/-4, value: d}]",
     "{replicas: 2, arr: [d, a, b, c], a/b: slash, t~x: tilde}", NULL},
    {"[{op: add, path: /spec/arr/4, value: d}]", NULL,
     "error in add for path: '/spec/arr/4': Unable to access invalid index: 4"},
    {"[{op: add, path: /spec/arr/-5, value: d}]", NULL, "Unable to access invalid index: -5"},
    {"[{op: add, path: /spec/arr/x, value: d}]", NULL,
     "value was not a proper array index: 'x'"},
    {"[{op: add, path: /spec/x/y, value: 1}]", NULL,
     "add operation does not apply: doc is missing path: \"/spec/x/y\": missing value"},
    /* ~1 and ~0 decode to / and ~ */
    {"[{op: replace, path: /spec/a~1b, value: s2}, {op: remove, path: /spec/t~0x}]",
     "{replicas: 2, arr: [a, b, c], a/b: s2}", NULL},
    /* replace of a missing object key adds it (library v4); of a missing index fails */
    {"[{op: replace, path: /spec/nope, value: 1}]",
     "{replicas: 2, arr: [a, b, c], a/b: slash, t~x: tilde, nope: 1}", NULL},
    {"[{op: replace, path: /spec/arr/-1, value: z}]",
     "{replicas: 2, arr: [a, b, z], a/b: slash, t~x: tilde}", NULL},
    {"[{op: replace, path: /spec/arr/3, value: z}]", NULL,
     "replace operation does not apply: doc is missing key: /spec/arr/3: missing value"},
    {"[{op: replace, path: /spec/x/y, value: 1}]", NULL,
     "replace operation does not apply: doc is missing path: /spec/x/y: missing value"},
    {"[{op: remove, path: /spec/nope}]", NULL,
     "error in remove for path: '/spec/nope': Unable to remove nonexistent key: nope: missing "
     "value"},
    {"[{op: remove, path: /spec/arr/-1}]", "{replicas: 2, arr: [a, b], a/b: slash, t~x: tilde}",
     NULL},
    {"[{op: remove, path: /spec/arr/3}]", NULL,
     "error in remove for path: '/spec/arr/3': Unable to access invalid index: 3"},
    /* move and copy */
    {"[{op: move, from: /spec/arr/0, path: /spec/first}, {op: copy, from: /spec/replicas,"
     " path: /spec/arr/0}]",
     "{replicas: 2, arr: [2, b, c], a/b: slash, t~x: tilde, first: a}", NULL},
    {"[{op: copy, from: /spec/nope, path: /spec/x}]",
     "{replicas: 2, arr: [a, b, c], a/b: slash, t~x: tilde, x: null}", NULL},
    {"[{op: move, from: /spec/nope, path: /spec/x}]", NULL,
     "error in move for path: 'nope': Unable to remove nonexistent key: nope"},
    {"[{op: copy, from: /spec/arr, path: /spec/x/y}]", NULL,
     "copy operation does not apply: doc is missing destination path: /spec/x/y"},
    /* test */
    {"[{op: test, path: /spec/arr/0, value: a}, {op: test, path: /spec/replicas, value: 2.0}]",
     "{replicas: 2, arr: [a, b, c], a/b: slash, t~x: tilde}", NULL},
    {"[{op: test, path: /spec/arr/0, value: x}]", NULL,
     "testing value /spec/arr/0 failed: test failed"},
    {"[{op: test, path: /spec/nope, value: x}]", NULL, "testing value /spec/nope failed"},
    /* a missing value is null; malformed ops */
    {"[{op: add, path: /spec/n}]",
     "{replicas: 2, arr: [a, b, c], a/b: slash, t~x: tilde, n: null}", NULL},
    {"[{op: bogus, path: /spec}]", NULL, "Unexpected kind: bogus"},
    {"[{path: /spec}]", NULL, "Unexpected kind: unknown"},
    {"[{op: add, value: 1}]", NULL, "add operation failed to decode path"},
    {"[{op: add, path: '', value: 1}]", NULL, "add operation does not apply: doc is missing path"},
};

static void test_kz_jsonpatch__cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(jp_cases) / sizeof(jp_cases[0]); i++) {
        json_t *doc = yaml1(doc_text), *ops = yaml1(jp_cases[i].ops);
        int rc = pl_kz_jsonpatch_apply(&doc, ops);

        print_message("case %zu: %s\n", i, jp_cases[i].ops);
        if (jp_cases[i].want) {
            if (rc < 0)
                print_error("unexpected error: %s\n", pl_error_last()->message);
            assert_int_equal(rc, 0);
            assert_json_eq(json_object_get(doc, "spec"), jp_cases[i].want);
        } else {
            assert_true(rc < 0);
            assert_contains(pl_error_last()->message, jp_cases[i].error);
        }
        json_decref(doc);
        json_decref(ops);
    }
}

static void test_kz_jsonpatch__not_a_list(void **state)
{
    json_t *doc = yaml1(doc_text), *ops = yaml1("{op: add}");

    (void)state;
    assert_int_equal(pl_kz_jsonpatch_apply(&doc, ops), PL_EINVALID);
    assert_contains(pl_error_last()->message, "cannot unmarshal object");
    json_decref(ops);
    /* an op that is not a map fails before anything is applied */
    ops = yaml1("[{op: add, path: /spec/replicas, value: 9}, 5]");
    assert_int_equal(pl_kz_jsonpatch_apply(&doc, ops), PL_EINVALID);
    assert_int_equal(json_integer_value(pl_json_path(doc, "spec", "replicas", NULL)), 2);
    json_decref(ops);
    json_decref(doc);
}

/* ---- selectors ---------------------------------------------------------------------------- */

static const char *sel_resources =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
    "  labels: {app: web, tier: front, n: 5}\n"
    "  annotations: {team: blue}\n"
    "---\n"
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-canary\n  namespace: prod\n"
    "  labels: {app: web}\n"
    "---\n"
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\n"
    "---\n"
    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n"
    "---\n"
    "apiVersion: example.com/v1alpha1\nkind: MyKind\nmetadata:\n  name: p-thing\n"
    "  annotations:\n"
    "    internal.config.kubernetes.io/previousNames: thing\n"
    "    internal.config.kubernetes.io/previousKinds: MyKind\n"
    "    internal.config.kubernetes.io/previousNamespaces: default\n";

static const struct {
    const char *selector;
    const char *want; /* 1 char per resource */
} sel_cases[] = {
    {"{}", "11111"},
    {"{kind: Deployment}", "11000"},
    /* anchored: "web" is not a prefix match, but the regex can say so */
    {"{name: web}", "10100"},
    {"{name: 'web.*'}", "11100"},
    {"{name: 'eb'}", "00000"},
    {"{kind: 'Deployment|Service'}", "11100"},
    {"{group: apps}", "11000"},
    {"{version: 'v\\d'}", "11110"},
    {"{group: '\\w{4}'}", "11000"},
    /* unset namespace counts as default; cluster-scoped kinds have none */
    {"{namespace: default}", "10101"},
    {"{namespace: prod}", "01000"},
    {"{namespace: '.*'}", "11111"},
    /* the original name still selects */
    {"{name: thing}", "00001"},
    {"{name: p-thing}", "00001"},
    /* label selectors */
    {"{labelSelector: app=web}", "11000"},
    {"{labelSelector: 'app==web,tier=front'}", "10000"},
    {"{labelSelector: 'tier!=front'}", "01111"},
    {"{labelSelector: 'tier in (front, back)'}", "10000"},
    {"{labelSelector: 'tier notin (front)'}", "01111"},
    {"{labelSelector: 'tier'}", "10000"},
    {"{labelSelector: '!tier'}", "01111"},
    {"{labelSelector: 'n>4'}", "10000"},
    {"{labelSelector: 'n<5'}", "00000"},
    {"{annotationSelector: team=blue}", "10000"},
    {"{kind: Deployment, labelSelector: app=web, namespace: prod}", "01000"},
};

static void test_kz_selector__cases(void **state)
{
    pl_kz_resmap m;

    (void)state;
    resmap_from(&m, sel_resources);
    assert_int_equal(m.n, 5);
    for (size_t i = 0; i < sizeof(sel_cases) / sizeof(sel_cases[0]); i++) {
        json_t *sel = yaml1(sel_cases[i].selector);
        pl_kz_selector *cs = NULL;
        char got[8] = {0};

        assert_int_equal(pl_kz_selector_compile(&cs, sel), 0);
        for (size_t r = 0; r < m.n; r++) {
            int rc = pl_kz_selector_matches(cs, m.v[r]);
            assert_true(rc >= 0);
            got[r] = rc ? '1' : '0';
            /* the convenience form agrees */
            assert_int_equal(pl_kz_selector_match(sel, m.v[r]), rc);
        }
        if (strcmp(got, sel_cases[i].want))
            print_error("selector %s: got %s want %s\n", sel_cases[i].selector, got,
                        sel_cases[i].want);
        assert_string_equal(got, sel_cases[i].want);
        pl_kz_selector_free(cs);
        json_decref(sel);
    }
    pl_kz_resmap_dispose(&m);
}

static void test_kz_selector__invalid(void **state)
{
    static const char *bad[] = {
        "{name: '(unclosed'}",
        "{labelSelector: 'app in web'}",
        "{labelSelector: 'app=web,'}",
        "{labelSelector: 'a b'}",
        "{labelSelector: 'n>x'}",
        "{labelSelector: 'bad key!'}",
        "{labelSelector: 'app=has space'}",
        "{name: 5}",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *sel = yaml1(bad[i]);
        pl_kz_selector *cs = NULL;
        print_message("selector %s\n", bad[i]);
        assert_int_equal(pl_kz_selector_compile(&cs, sel), PL_EINVALID);
        assert_null(cs);
        json_decref(sel);
    }
}

/* ---- builtins (JSON patches; strategic merge lives in kz_smp.c) --------------------------- */

static const char *deployments =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: myDeploy\n"
    "spec:\n  replica: 2\n  template:\n    spec:\n      containers:\n"
    "      - {name: nginx, image: nginx}\n"
    "---\n"
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: yourDeploy\n"
    "  annotations: {config.kubernetes.io/index: '3'}\n"
    "spec:\n  replica: 1\n  big: 12345678901234567\n"
    "---\n"
    "apiVersion: apps/v1\nkind: MyKind\nmetadata:\n  name: myDeploy\n";

static void test_kz_patch__json_with_target(void **state)
{
    pl_kz_resmap m;
    json_t *cfg = yaml1("apiVersion: builtin\nkind: PatchTransformer\n"
                        "Patch: '[{\"op\": \"replace\", \"path\": \"/spec/replica\", \"value\": 7},"
                        " {\"op\": \"remove\", \"path\": \"/spec/nothere\"}]'\n"
                        "target: {name: '.*Deploy', kind: Deployment}\n");

    (void)state;
    resmap_from(&m, deployments);
    /* the failing op names the resource, the operation and the path */
    assert_int_equal(pl_kz_t_patch(NULL, &m, cfg), PL_EINVALID);
    assert_contains(pl_error_last()->message, "Deployment.apps/myDeploy: ");
    assert_contains(pl_error_last()->message,
                    "error in remove for path: '/spec/nothere': Unable to remove nonexistent key");
    pl_kz_resmap_dispose(&m);
    json_decref(cfg);

    cfg = yaml1("patch: |\n  - op: replace\n    path: /spec/replica\n    value: 7\n"
                "  - op: add\n    path: /metadata/annotations\n    value: {}\n"
                "target: {name: '.*Deploy', kind: Deployment}\n");
    resmap_from(&m, deployments);
    assert_int_equal(pl_kz_t_patch(NULL, &m, cfg), 0);
    /* the previous id is recorded; internal annotations survive the patch */
    assert_json_eq(m.v[0]->obj,
                   "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: myDeploy\n"
                   "  annotations:\n"
                   "    internal.config.kubernetes.io/previousNames: myDeploy\n"
                   "    internal.config.kubernetes.io/previousKinds: Deployment\n"
                   "    internal.config.kubernetes.io/previousNamespaces: default\n"
                   "spec:\n  replica: 7\n  template:\n    spec:\n      containers:\n"
                   "      - {name: nginx, image: nginx}\n");
    /* config.kubernetes.io/index is internal too; integers went through float64 */
    assert_json_eq(m.v[1]->obj,
                   "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: yourDeploy\n"
                   "  annotations:\n"
                   "    config.kubernetes.io/index: '3'\n"
                   "    internal.config.kubernetes.io/previousNames: yourDeploy\n"
                   "    internal.config.kubernetes.io/previousKinds: Deployment\n"
                   "    internal.config.kubernetes.io/previousNamespaces: default\n"
                   "spec:\n  replica: 7\n  big: 12345678901234568\n");
    assert_json_eq(m.v[2]->obj, "apiVersion: apps/v1\nkind: MyKind\nmetadata:\n  name: myDeploy\n");
    pl_kz_resmap_dispose(&m);
    json_decref(cfg);
}

static void test_kz_patch__config_errors(void **state)
{
    static const struct {
        const char *cfg, *error;
    } cases[] = {
        {"{patch: '  '}", "must specify one of patch and path"},
        {"{Path: a.yaml, Patch: something}", "patch and path can't be set at the same time"},
        {"{patch: thisIsNotAPatch}", "unable to parse SM or JSON patch"},
        {"{patch: '[{\"op\": \"add\", \"path\": \"/x\", \"value\": 1}]'}",
         "must specify a target for JSON patch"},
        {"patch: |\n  kind: Deployment\n  spec: {}\n", "unable to parse SM or JSON patch"},
        {"patch: |\n  apiVersion: v1\n  kind: A\n  metadata: {name: a}\n  ---\n"
         "  apiVersion: v1\n  kind: B\n  metadata: {name: b}\ntarget: {kind: A}\n",
         "Multiple Strategic-Merge Patches in one `patches` entry"},
        {"{patch: 5}", "cannot unmarshal number"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pl_kz_resmap m;
        json_t *cfg = yaml1(cases[i].cfg);
        print_message("config %s\n", cases[i].cfg);
        resmap_from(&m, deployments);
        assert_true(pl_kz_t_patch(NULL, &m, cfg) < 0);
        assert_contains(pl_error_last()->message, cases[i].error);
        pl_kz_resmap_dispose(&m);
        json_decref(cfg);
    }
}

static void test_kz_patch__blank_patch_is_noop(void **state)
{
    static const char *cfgs[] = {"{patch: '# only a comment'}", "{patch: '---'}",
                                 "{patch: '[]', target: {kind: Deployment}}"};
    (void)state;
    for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++) {
        pl_kz_resmap m;
        json_t *cfg = yaml1(cfgs[i]), *before;
        resmap_from(&m, deployments);
        before = json_deep_copy(m.v[1]->obj);
        assert_int_equal(pl_kz_t_patch(NULL, &m, cfg), 0);
        assert_int_equal(m.n, 3);
        assert_true(json_equal(before, m.v[1]->obj));
        json_decref(before);
        pl_kz_resmap_dispose(&m);
        json_decref(cfg);
    }
}

static void test_kz_patch__multi_document_json_uses_first(void **state)
{
    pl_kz_resmap m;
    json_t *cfg = yaml1("patch: |-\n  - op: replace\n    path: /spec/replica\n    value: 9\n"
                        "  ---\n  - op: replace\n    path: /spec/replica\n    value: 10\n"
                        "target: {name: yourDeploy}\n");
    (void)state;
    resmap_from(&m, deployments);
    assert_int_equal(pl_kz_t_patch(NULL, &m, cfg), 0);
    assert_int_equal(json_integer_value(pl_json_path(m.v[1]->obj, "spec", "replica", NULL)), 9);
    pl_kz_resmap_dispose(&m);
    json_decref(cfg);
}

static void test_kz_patch__json6902_transformer(void **state)
{
    pl_kz_resmap m;
    json_t *cfg;

    (void)state;
    resmap_from(&m, deployments);
    cfg = yaml1("target: {group: apps, version: v1, kind: Deployment, name: myDeploy}\n"
                "jsonOp: '[{\"op\": \"add\", \"path\": \"/spec/template/spec/dnsPolicy\","
                " \"value\": \"ClusterFirst\"}]'\n");
    assert_int_equal(pl_kz_t_patch_json6902(NULL, &m, cfg), 0);
    assert_string_equal(pl_json_str(m.v[0]->obj, "spec", "template", "spec", "dnsPolicy", NULL),
                        "ClusterFirst");
    /* no previous id recorded by this builtin */
    assert_null(pl_json_path(m.v[0]->obj, "metadata", "annotations", NULL));
    json_decref(cfg);

    cfg = yaml1("target: {kind: Deployment, name: nothere}\n"
                "jsonOp: '- {op: add, path: /x, value: 1}'\n");
    assert_int_equal(pl_kz_t_patch_json6902(NULL, &m, cfg), PL_ENOTFOUND);
    assert_contains(pl_error_last()->message, "patchesJson6902 target not found for");
    json_decref(cfg);

    cfg = yaml1("target: {kind: Deployment}\njsonOp: '[]'\n");
    assert_int_equal(pl_kz_t_patch_json6902(NULL, &m, cfg), PL_EINVALID);
    assert_contains(pl_error_last()->message, "must specify the target name");
    json_decref(cfg);

    cfg = yaml1("target: {name: myDeploy}\njsonOp: '\"a string\"'\n");
    assert_int_equal(pl_kz_t_patch_json6902(NULL, &m, cfg), PL_EINVALID);
    assert_contains(pl_error_last()->message,
                    "cannot unmarshal string into Go value of type jsonpatch");
    json_decref(cfg);

    cfg = yaml1("target: {name: myDeploy}\n");
    assert_int_equal(pl_kz_t_patch_json6902(NULL, &m, cfg), PL_EINVALID);
    assert_contains(pl_error_last()->message, "empty file path and empty jsonOp");
    json_decref(cfg);
    pl_kz_resmap_dispose(&m);
}

static void test_kz_patch__sm_errors(void **state)
{
    pl_kz_resmap m;
    json_t *cfg;

    (void)state;
    resmap_from(&m, deployments);
    /* no target and no resource with the patch's id (apiVersion is part of it) */
    cfg = yaml1("patch: |\n  kind: Deployment\n  metadata: {name: myDeploy}\n"
                "  spec: {replica: 3}\n");
    assert_int_equal(pl_kz_t_patch(NULL, &m, cfg), PL_ENOTFOUND);
    assert_contains(pl_error_last()->message,
                    "no matches for Id Deployment.[noVer].[noGrp]/myDeploy.[noNs]");
    json_decref(cfg);

    cfg = yaml1("{}");
    assert_int_equal(pl_kz_t_patch_sm(NULL, &m, cfg), PL_EINVALID);
    assert_contains(pl_error_last()->message, "empty file path and empty patch content");
    json_decref(cfg);

    cfg = yaml1("patches: '# nothing'\n");
    assert_int_equal(pl_kz_t_patch_sm(NULL, &m, cfg), PL_EINVALID);
    assert_contains(pl_error_last()->message, "patch appears to be empty");
    json_decref(cfg);
    pl_kz_resmap_dispose(&m);
}

static void test_kz_patch__sm_semantics(void **state)
{
    pl_kz_resmap m;
    json_t *cfg;

    (void)state;
    resmap_from(&m, deployments);
    /* with a target: the patch's name and kind are ignored, the namespace never changes */
    cfg = yaml1("target: {name: myDeploy}\n"
                "patch: |\n  apiVersion: apps/v1\n  kind: StatefulSet\n"
                "  metadata: {name: other, namespace: elsewhere}\n  spec: {replica: 77}\n");
    assert_int_equal(pl_kz_t_patch(NULL, &m, cfg), 0);
    assert_json_eq(m.v[2]->obj, "apiVersion: apps/v1\nkind: MyKind\nmetadata:\n  name: myDeploy\n"
                                "spec: {replica: 77}\n");
    assert_int_equal(json_integer_value(pl_json_path(m.v[0]->obj, "spec", "replica", NULL)), 77);
    assert_string_equal(pl_json_str(m.v[0]->obj, "kind", NULL), "Deployment");
    assert_null(pl_json_path(m.v[0]->obj, "metadata", "annotations", NULL));
    json_decref(cfg);

    /* allowed name change: previous id recorded, then found by it without a target */
    cfg = yaml1("target: {kind: MyKind}\noptions: {allowNameChange: true}\n"
                "patch: |\n  apiVersion: apps/v1\n  kind: MyKind\n  metadata: {name: renamed}\n");
    assert_int_equal(pl_kz_t_patch(NULL, &m, cfg), 0);
    assert_string_equal(pl_kz_res_name(m.v[2]), "renamed");
    assert_string_equal(pl_kz_res_annotation(m.v[2], PL_KZ_ANN_PREV_NAMES), "myDeploy");
    json_decref(cfg);
    cfg = yaml1("patch: |\n  apiVersion: apps/v1\n  kind: MyKind\n  metadata: {name: myDeploy}\n"
                "  spec: {found: byPreviousName}\n");
    assert_int_equal(pl_kz_t_patch(NULL, &m, cfg), 0);
    assert_string_equal(pl_json_str(m.v[2]->obj, "spec", "found", NULL), "byPreviousName");
    assert_string_equal(pl_kz_res_name(m.v[2]), "renamed");
    json_decref(cfg);

    /* renaming two resources to one id is refused */
    cfg = yaml1("target: {kind: Deployment}\noptions: {allowNameChange: true}\n"
                "patch: |\n  apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: same}\n");
    assert_int_equal(pl_kz_t_patch(NULL, &m, cfg), PL_EINVALID);
    assert_contains(pl_error_last()->message,
                    "may not add resource with an already registered id: "
                    "Deployment.v1.apps/same.[noNs]");
    json_decref(cfg);
    pl_kz_resmap_dispose(&m);

    /* $patch: delete drops the resource (inline patchesStrategicMerge entry) */
    resmap_from(&m, deployments);
    cfg = yaml1("paths:\n- |\n  apiVersion: apps/v1\n  kind: Deployment\n"
                "  metadata: {name: yourDeploy}\n  $patch: delete\n");
    assert_int_equal(pl_kz_t_patch_sm(NULL, &m, cfg), 0);
    assert_int_equal(m.n, 2);
    assert_string_equal(pl_kz_res_kind(m.v[1]), "MyKind");
    json_decref(cfg);
    pl_kz_resmap_dispose(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kz_jsonpatch__cases),
        cmocka_unit_test(test_kz_jsonpatch__not_a_list),
        cmocka_unit_test(test_kz_selector__cases),
        cmocka_unit_test(test_kz_selector__invalid),
        cmocka_unit_test(test_kz_patch__json_with_target),
        cmocka_unit_test(test_kz_patch__config_errors),
        cmocka_unit_test(test_kz_patch__blank_patch_is_noop),
        cmocka_unit_test(test_kz_patch__multi_document_json_uses_first),
        cmocka_unit_test(test_kz_patch__json6902_transformer),
        cmocka_unit_test(test_kz_patch__sm_errors),
        cmocka_unit_test(test_kz_patch__sm_semantics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
