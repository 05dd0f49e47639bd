/*
 * test_replace.c - kz_replace.c: ReplacementTransformer and vars as kustomize does them.
 *
 * Every expectation below was checked against `kubectl kustomize` (kustomize v5.5) on an
 * equivalent tree, except the regex target selection, which is kustomize v5.8 behaviour
 * (pinned by the corpus case replacementtransformer_test__*UsingRegex).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kz.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static json_t *yaml(const char *text)
{
    json_t *docs = NULL;
    int rc = pl_yaml_parse(&docs, text, strlen(text), "test", NULL);
    if (rc < 0)
        fail_msg("yaml: %s", pl_error_last()->message);
    return docs;
}

static void load(pl_kz_resmap *m, const char *text)
{
    json_t *docs = yaml(text);
    size_t i;
    json_t *d;

    pl_kz_resmap_init(m);
    json_array_foreach(docs, i, d)
    {
        assert_int_equal(pl_kz_resmap_append(m, pl_kz_res_new_take(json_incref(d))), 0);
    }
    json_decref(docs);
}

static pl_render_opts opts = PL_RENDER_OPTS_INIT;

static void ctx_init(pl_kz_ctx *ctx, pl_fs *fs, const char *dir)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->fs = fs;
    ctx->opts = &opts;
    ctx->dir = dir;
    ctx->root = dir;
}

/* run `replacements:` (a YAML list) over `res`; returns the code */
static int run_repl(pl_kz_resmap *m, const char *res, const char *repl)
{
    pl_kz_ctx ctx;
    json_t *cfg = json_object(), *docs = yaml(repl);
    int rc;

    ctx_init(&ctx, NULL, "/nonexistent");
    load(m, res);
    json_object_set(cfg, "replacements", json_array_get(docs, 0));
    rc = pl_kz_t_replacements(&ctx, m, cfg);
    json_decref(cfg);
    json_decref(docs);
    return rc;
}

/* the resource named `name` equals the YAML `want` exactly (types included) */
static void assert_res(const pl_kz_resmap *m, const char *name, const char *want)
{
    json_t *docs = yaml(want);
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(pl_kz_res_name(m->v[i]), name))
            continue;
        if (!json_equal(m->v[i]->obj, json_array_get(docs, 0))) {
            pl_buf got = PL_BUF_INIT, exp = PL_BUF_INIT;
            pl_yaml_emit(&got, m->v[i]->obj);
            pl_yaml_emit(&exp, json_array_get(docs, 0));
            print_error("got:\n%s\nwant:\n%s\n", got.ptr, exp.ptr);
            pl_buf_dispose(&got);
            pl_buf_dispose(&exp);
            json_decref(docs);
            fail();
        }
        json_decref(docs);
        return;
    }
    json_decref(docs);
    fail_msg("no resource %s", name);
}

static void assert_error(int rc, const char *want)
{
    assert_true(rc < 0);
    if (strcmp(pl_error_last()->message, want)) {
        print_error("got  %s\nwant %s\n", pl_error_last()->message, want);
        fail();
    }
}

/* ---- replacements: types -----------------------------------------------------------------------
 */

static const char *types_res = "apiVersion: v1\n"
                               "kind: ConfigMap\n"
                               "metadata: {name: src}\n"
                               "data: {s5: \"5\", strue: \"true\", abc: abc}\n"
                               "spec: {i7: 7}\n"
                               "---\n"
                               "apiVersion: v1\n"
                               "kind: ConfigMap\n"
                               "metadata: {name: dst}\n"
                               "data: {str: x, str2: y}\n"
                               "spec: {int: 3, map: {a: b}, list: [1], float: 1.5, map2: {a: 1}}\n";

static void test_kz_replace__scalar_types(void **state)
{
    pl_kz_resmap m;
    (void)state;
    assert_int_equal(
        run_repl(
            &m, types_res,
            "- source: {kind: ConfigMap, name: src, fieldPath: data.s5}\n"
            "  targets:\n"
            "  - select: {kind: ConfigMap, name: dst}\n"
            "    fieldPaths: [data.str, spec.int, spec.created, spec.map, spec.list, spec.float]\n"
            "    options: {create: true}\n"
            "- source: {kind: ConfigMap, name: src, fieldPath: spec.i7}\n"
            "  targets:\n"
            "  - select: {kind: ConfigMap, name: dst}\n"
            "    fieldPaths: [data.str2, spec.created2, spec.map2]\n"
            "    options: {create: true}\n"
            "- source: {kind: ConfigMap, name: src, fieldPath: data.strue}\n"
            "  targets:\n"
            "  - select: {kind: ConfigMap, name: dst}\n"
            "    fieldPaths: [spec.created3]\n"
            "    options: {create: true}\n"),
        0);
    /* string targets stay strings, int/float targets re-read the text, created fields are
     * untagged ("5" -> 5, "true" -> true), maps and lists take the source's type */
    assert_res(&m, "dst",
               "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dst}\n"
               "data: {str: \"5\", str2: \"7\"}\n"
               "spec: {created: 5, created2: 7, created3: true, float: 5.0, int: 5, list: \"5\",\n"
               "       map: \"5\", map2: 7}\n");
    pl_kz_resmap_dispose(&m);
}

static void test_kz_replace__tag_mismatch_errors(void **state)
{
    pl_kz_resmap m;
    (void)state;
    assert_error(run_repl(&m, types_res,
                          "- source: {kind: ConfigMap, name: src, fieldPath: data.abc}\n"
                          "  targets:\n"
                          "  - select: {kind: ConfigMap, name: dst}\n"
                          "    fieldPaths: [spec.int]\n"),
                 "ConfigMap/dst: yaml: cannot decode !!str `abc` as a !!int");
    pl_kz_resmap_dispose(&m);
}

/* ---- replacements: path matching
 * ------------------------------------------------------------------ */

static const char *deploy_res = "apiVersion: v1\n"
                                "kind: ConfigMap\n"
                                "metadata: {name: src}\n"
                                "data: {v: NEW}\n"
                                "---\n"
                                "apiVersion: apps/v1\n"
                                "kind: Deployment\n"
                                "metadata: {name: d}\n"
                                "spec:\n"
                                "  template:\n"
                                "    spec:\n"
                                "      containers:\n"
                                "      - name: app\n"
                                "        image: a\n"
                                "        env: [{name: X, value: \"1\"}, {name: XY, value: \"2\"}]\n"
                                "      - name: myapp\n"
                                "        image: b\n"
                                "      - name: other\n"
                                "        image: c\n"
                                "        env: [{name: X, value: \"3\"}]\n";

static void test_kz_replace__list_regex_and_wildcard(void **state)
{
    pl_kz_resmap m;
    (void)state;
    /* [name=app] is an unanchored regex (matches myapp too); * visits every element */
    assert_int_equal(run_repl(&m, deploy_res,
                              "- source: {kind: ConfigMap, name: src, fieldPath: data.v}\n"
                              "  targets:\n"
                              "  - select: {kind: Deployment}\n"
                              "    fieldPaths:\n"
                              "    - spec.template.spec.containers.[name=app].image\n"
                              "    - spec.template.spec.containers.*.env.[name=X].value\n"),
                     0);
    assert_res(
        &m, "d",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"
        "spec:\n  template:\n    spec:\n      containers:\n"
        "      - {name: app, image: NEW, env: [{name: X, value: NEW}, {name: XY, value: NEW}]}\n"
        "      - {name: myapp, image: NEW}\n"
        "      - {name: other, image: c, env: [{name: X, value: NEW}]}\n");
    pl_kz_resmap_dispose(&m);
}

static void test_kz_replace__create_paths(void **state)
{
    pl_kz_resmap m;
    (void)state;
    assert_int_equal(
        run_repl(&m,
                 "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: src}\ndata: {v: NEW}\n"
                 "---\n"
                 "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"
                 "spec:\n  nullfield: null\n  template:\n    spec:\n"
                 "      containers: [{name: app, image: a}]\n",
                 "- source: {kind: ConfigMap, fieldPath: data.v}\n"
                 "  targets:\n"
                 "  - select: {kind: Deployment}\n"
                 "    fieldPaths:\n"
                 "    - spec.nullfield.x\n"
                 "    - spec.template.spec.containers.[name=new].image\n"
                 "    - spec.template.spec.containers.2.image\n"
                 "    - spec.template.spec.initContainers.[name=i].image\n"
                 "    - spec.template.spec.args.[=foo]\n"
                 "    - spec.x.0.y\n"
                 "    - metadata.annotations.[a.b/c]\n"
                 "    options: {create: true}\n"),
        0);
    /* a null parent swallows what is created under it, as kyaml does */
    assert_res(&m, "d",
               "apiVersion: apps/v1\nkind: Deployment\n"
               "metadata: {name: d, annotations: {a.b/c: NEW}}\n"
               "spec:\n  nullfield: null\n  template:\n    spec:\n"
               "      args: [NEW]\n"
               "      containers: [{name: app, image: a}, {name: new, image: NEW}, {image: NEW}]\n"
               "      initContainers: [{name: i, image: NEW}]\n"
               "  x: [{\"y\": NEW}]\n");
    pl_kz_resmap_dispose(&m);
}

static void test_kz_replace__delimiter_and_reject_regex(void **state)
{
    pl_kz_resmap m;
    const char *res = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d1}\n---\n"
                      "apiVersion: apps/v1\nkind: ConfigMap\nmetadata: {name: cm1}\n---\n"
                      "apiVersion: apps/v1\nkind: ConfigMap\nmetadata: {name: cm2}\n---\n"
                      "apiVersion: apps/v1\nkind: postgresql\nmetadata: {name: pg1}\n";
    const char *repl = "- source: {kind: ConfigMap, name: cm1}\n"
                       "  targets:\n"
                       "  - reject: [{kind: ConfigMap, name: \"c.1\"}]\n"
                       "    select: {kind: Deployment|ConfigMap|postgresql}\n"
                       "    fieldPaths: [metadata.annotations.visitedby]\n"
                       "    options: {index: -1, delimiter: \",\", create: true}\n"
                       "- source: {kind: ConfigMap, name: cm2}\n"
                       "  targets:\n"
                       "  - reject: [{kind: ConfigMap, name: \".*2\"}]\n"
                       "    select: {kind: Deployment|ConfigMap|postgresql}\n"
                       "    fieldPaths: [metadata.annotations.visitedby]\n"
                       "    options: {index: -1, delimiter: \",\", create: true}\n";
    (void)state;
    assert_int_equal(run_repl(&m, res, repl), 0);
    assert_res(&m, "d1",
               "apiVersion: apps/v1\nkind: Deployment\n"
               "metadata: {name: d1, annotations: {visitedby: \"cm2,cm1,\"}}\n");
    assert_res(&m, "cm1",
               "apiVersion: apps/v1\nkind: ConfigMap\n"
               "metadata: {name: cm1, annotations: {visitedby: \"cm2,\"}}\n");
    assert_res(&m, "cm2",
               "apiVersion: apps/v1\nkind: ConfigMap\n"
               "metadata: {name: cm2, annotations: {visitedby: \"cm1,\"}}\n");
    pl_kz_resmap_dispose(&m);
}

static void test_kz_replace__source_delimiter_and_previous_names(void **state)
{
    pl_kz_resmap m;
    (void)state;
    /* the source is found by its original name; the target by a previous name too */
    assert_int_equal(
        run_repl(
            &m,
            "apiVersion: apps/v1\nkind: Deployment\n"
            "metadata:\n  name: p-source\n  annotations:\n"
            "    internal.config.kubernetes.io/previousNames: source\n"
            "    internal.config.kubernetes.io/previousKinds: Deployment\n"
            "    internal.config.kubernetes.io/previousNamespaces: default\n"
            "spec: {template: {spec: {containers: [{name: nginx, image: \"nginx:newtag\"}]}}}\n"
            "---\n"
            "apiVersion: apps/v1\nkind: Deployment\n"
            "metadata:\n  name: p-target\n  annotations:\n"
            "    internal.config.kubernetes.io/previousNames: target\n"
            "    internal.config.kubernetes.io/previousKinds: Deployment\n"
            "    internal.config.kubernetes.io/previousNamespaces: default\n"
            "spec: {template: {spec: {containers: [{name: nginx, image: \"nginx:old\"}]}}}\n",
            "- source:\n"
            "    name: source\n"
            "    fieldPath: spec.template.spec.containers.[name=nginx].image\n"
            "    options: {delimiter: \":\", index: 1}\n"
            "  targets:\n"
            "  - select: {name: target}\n"
            "    fieldPaths: [spec.template.spec.containers.0.image]\n"
            "    options: {delimiter: \":\", index: 1}\n"),
        0);
    assert_string_equal(pl_json_str(json_array_get(pl_json_path(m.v[1]->obj, "spec", "template",
                                                                "spec", "containers", NULL),
                                                   0),
                                    "image", NULL),
                        "nginx:newtag");
    pl_kz_resmap_dispose(&m);
}

/* ---- replacements: sourceValue and structured data (kustomize v5.8) ----------------------------
 */

static void test_kz_replace__source_value_and_structured_data(void **state)
{
    pl_kz_resmap m;
    (void)state;
    /* from kustomize issue #6028: a string holding YAML is edited in place and delimiter
     * options apply only outside structured data */
    assert_int_equal(
        run_repl(
            &m,
            "apiVersion: v1\nkind: ConfigMap\n"
            "metadata: {name: c, annotations: {example.com/foo: a/b/c}}\n"
            "data:\n"
            "  config.yaml: \"foo: a/b/c\\n\"\n"
            "  c.json: '{\"config\": {\"id\": \"42\", \"hostname\": \"x\", \"html\": \"<&>\"}}'\n"
            "  p.json: \"{\\n  \\\"b\\\": [1, 2],\\n  \\\"a\\\": {\\\"port\\\": 1}\\n}\"\n",
            "- sourceValue: zzz\n"
            "  targets:\n"
            "  - select: {kind: ConfigMap, name: c}\n"
            "    fieldPaths:\n"
            "    - data.config\\.yaml.foo\n"
            "    - metadata.annotations.example\\.com/foo\n"
            "    - data.[c.json].config.hostname\n"
            "    options: {delimiter: /, index: 1}\n"
            "- sourceValue: \"8080\"\n"
            "  targets:\n"
            "  - select: {kind: ConfigMap, name: c}\n"
            "    fieldPaths: [data.p\\.json.a.port, data.p\\.json.a.new]\n"
            "    options: {create: true}\n"),
        0);
    assert_res(
        &m, "c",
        "apiVersion: v1\nkind: ConfigMap\n"
        "metadata: {name: c, annotations: {example.com/foo: a/zzz/c}}\n"
        "data:\n"
        "  config.yaml: \"foo: zzz\"\n"
        "  c.json: '{\"config\":{\"hostname\":\"zzz\",\"html\":\"\\u003c\\u0026\\u003e\",\"id\":\"42\"}}'\n"
        "  p.json: \"{\\n  \\\"a\\\": {\\n    \\\"new\\\": 8080,\\n    \\\"port\\\": 8080\\n  },\\n"
        "  \\\"b\\\": [\\n    1,\\n    2\\n  ]\\n}\"\n");
    pl_kz_resmap_dispose(&m);

    assert_error(
        run_repl(&m, types_res, "- sourceValue: x\n  source: {kind: ConfigMap}\n  targets: []\n"),
        "value and resource selectors are mutually exclusive");
    pl_kz_resmap_dispose(&m);
}

/* ---- replacements: errors -------------------------------------------------------------------- */

static void test_kz_replace__errors(void **state)
{
    static const struct {
        const char *repl, *msg;
    } cases[] = {
        {"- source: {kind: ConfigMap, name: nope}\n  targets: [{select: {kind: Deployment}}]\n",
         "nothing selected by ConfigMap.[noVer].[noGrp]/nope.[noNs]"},
        {"- source: {version: v1, fieldPath: metadata.name}\n  targets: []\n",
         "multiple matches for selector [noKind].v1.[noGrp]/[noName].[noNs]:metadata.name"},
        {"- source: {kind: ConfigMap, fieldPath: data.zz}\n  targets: []\n",
         "fieldPath `data.zz` is missing for replacement source ConfigMap.[noVer].[noGrp]/[noName]."
         "[noNs]"},
        {"- source: {kind: ConfigMap, fieldPath: data.v}\n"
         "  targets: [{select: {kind: Deployment}, fieldPaths: [spec.nothere.x]}]\n",
         "unable to find field \"spec.nothere.x\" in replacement target"},
        {"- source: {kind: ConfigMap, fieldPath: data.v}\n"
         "  targets: [{select: {kind: Deployment}, fieldPaths: [spec.template.spec.containers.5.image]}]\n",
         "unable to find field \"spec.template.spec.containers.5.image\" in replacement target: "
         "index 5 specified but only 3 elements found"},
        {"- source: {kind: ConfigMap, fieldPath: data.v}\n"
         "  targets: [{select: {kind: Deployment}, fieldPaths: [spec.template.spec.containers.image]}]\n",
         "unable to find field \"spec.template.spec.containers.image\" in replacement target: "
         "wrong node kind: expected MappingNode but got SequenceNode"},
        {"- source: {kind: ConfigMap, fieldPath: data.v, options: {delimiter: E, index: 5}}\n"
         "  targets: []\n",
         "options.index 5 is out of bounds for value NEW"},
        {"- source: {kind: ConfigMap, fieldPath: data}\n"
         "  targets: [{select: {kind: Deployment}, options: {delimiter: x}, fieldPaths: [spec]}]\n",
         "delimiter option can only be used with scalar nodes"},
        {"- targets: [{select: {kind: Deployment}}]\n",
         "replacements must specify a source and at least one target"},
        {"- source: {kind: ConfigMap, fieldPath: data}\n  targets: [{fieldPaths: [spec]}]\n",
         "target must specify resources to select"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        pl_kz_resmap m;
        assert_error(run_repl(&m, deploy_res, cases[i].repl), cases[i].msg);
        pl_kz_resmap_dispose(&m);
    }
}

/* ---- replacements: path: files -----------------------------------------------------------------
 */

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_non_null(f = fopen(path, "w"));
    fputs(text, f);
    fclose(f);
}

static void test_kz_replace__path_files(void **state)
{
    char dir[] = "/tmp/pl_test_replace_XXXXXX";
    char path[600];
    pl_fs *fs = NULL;
    pl_kz_ctx ctx;
    pl_kz_resmap m;
    json_t *cfg;
    (void)state;

    assert_non_null(mkdtemp(dir));
    write_file(dir, "list.yaml",
               "- source: {kind: Deployment, fieldPath: spec.template.spec.containers.0.image}\n"
               "  targets:\n"
               "  - select: {kind: Deployment}\n"
               "    fieldPaths: [spec.template.spec.containers.1.image]\n"
               "- source: {kind: Deployment, fieldPath: spec.template.spec.containers.0.name}\n"
               "  targets:\n"
               "  - select: {kind: Deployment}\n"
               "    fieldPaths: [spec.template.spec.containers.1.name]");
    write_file(dir, "one.yaml",
               "source: {kind: Deployment}\n"
               "targets:\n"
               "- select: {kind: Deployment}\n"
               "  fieldPaths: [metadata.annotations.n]\n"
               "  options: {create: true}\n");
    write_file(dir, "bad.yaml", "just a string\n");
    assert_int_equal(pl_fs_dir_new(&fs), 0);
    ctx_init(&ctx, fs, dir);

    load(&m,
         "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: deploy}\n"
         "spec: {template: {spec: {containers: [{image: \"foobar:1\", name: first},\n"
         "                                     {image: \"postgres:1.8.0\", name: second}]}}}\n");
    cfg = yaml("replacements: [{path: list.yaml}, {path: one.yaml}]\n");
    assert_int_equal(pl_kz_t_replacements(&ctx, &m, json_array_get(cfg, 0)), 0);
    json_decref(cfg);
    assert_res(&m, "deploy",
               "apiVersion: apps/v1\nkind: Deployment\n"
               "metadata: {name: deploy, annotations: {n: deploy}}\n"
               "spec: {template: {spec: {containers: [{image: \"foobar:1\", name: first},\n"
               "                                     {image: \"foobar:1\", name: first}]}}}\n");

    cfg = yaml("replacements: [{path: bad.yaml}]\n");
    assert_error(pl_kz_t_replacements(&ctx, &m, json_array_get(cfg, 0)),
                 "unsupported replacement type encountered within replacement path: string");
    json_decref(cfg);
    cfg = yaml("replacements: [{path: one.yaml, source: {kind: Deployment}}]\n");
    assert_error(pl_kz_t_replacements(&ctx, &m, json_array_get(cfg, 0)),
                 "cannot specify both path and inline replacement");
    json_decref(cfg);
    pl_kz_resmap_dispose(&m);
    pl_fs_free(fs);
    for (size_t i = 0; i < 3; i++) {
        static const char *names[] = {"list.yaml", "one.yaml", "bad.yaml"};
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* ---- vars
 * ---------------------------------------------------------------------------------------- */

static pl_kz_fieldspec var_specs[] = {
    {NULL, NULL, (char *)"Pod", (char *)"spec/containers/command", 0},
    {NULL, NULL, (char *)"Pod", (char *)"spec/containers/args", 0},
    {NULL, NULL, (char *)"Pod", (char *)"spec/containers/env/value", 0},
    {NULL, NULL, NULL, (char *)"metadata/labels", 0},
};

static void var_tconfig(pl_kz_tconfig *tc)
{
    memset(tc, 0, sizeof(*tc));
    tc->var_reference.v = var_specs;
    tc->var_reference.n = tc->var_reference.cap = sizeof(var_specs) / sizeof(*var_specs);
}

static const char *vars_res = "apiVersion: v1\n"
                              "kind: ConfigMap\n"
                              "metadata: {name: src}\n"
                              "data: {s: hello}\n"
                              "spec: {i: 42, f: 1.50, b: true, l: [a, b], n: null}\n"
                              "---\n"
                              "apiVersion: v1\n"
                              "kind: Pod\n"
                              "metadata: {name: p, labels: {l: $(STR), n: 5}}\n"
                              "spec:\n"
                              "  containers:\n"
                              "  - name: c\n"
                              "    image: $(STR)\n"
                              "    command: [\"$(INT)\", \"$(FLT)\", \"$(BOOL)\", "
                              "\"x$(INT)y$(FLT)z$(BOOL)\", \"$(MAP)\", \"a$(MAP)\", \"$(LIST)\", "
                              "\"$$(STR)\", \"$(UNDEF)\", \"$(NUL)\", \"a$(NUL)\", \"$\", \"$x\", "
                              "\"$(STR\", \"$$\"]\n"
                              "    args: [\"$(STR)\"]\n"
                              "    env: [{name: A, value: \"$(INT)\"}]\n";

static const char *vars_decl = "- name: INT\n"
                               "  objref: {apiVersion: v1, kind: ConfigMap, name: src}\n"
                               "  fieldref: {fieldPath: spec.i}\n"
                               "- name: FLT\n"
                               "  objref: {apiVersion: v1, kind: ConfigMap, name: src}\n"
                               "  fieldref: {fieldpath: spec.f}\n"
                               "- name: BOOL\n"
                               "  objref: {apiVersion: v1, kind: ConfigMap, name: src}\n"
                               "  fieldref: {fieldPath: spec.b}\n"
                               "- name: STR\n"
                               "  objref: {apiVersion: v1, kind: ConfigMap, name: src}\n"
                               "  fieldref: {fieldPath: data.s}\n"
                               "- name: MAP\n"
                               "  objref: {apiVersion: v1, kind: ConfigMap, name: src}\n"
                               "  fieldref: {fieldPath: data}\n"
                               "- name: LIST\n"
                               "  objref: {apiVersion: v1, kind: ConfigMap, name: src}\n"
                               "  fieldref: {fieldPath: \"spec.l[1]\"}\n"
                               "- name: UNUSED\n"
                               "  objref: {apiVersion: v1, kind: ConfigMap, name: src}\n"
                               "- name: NUL\n"
                               "  objref: {apiVersion: v1, kind: ConfigMap, name: src}\n"
                               "  fieldref: {fieldPath: spec.n}\n";

static void test_kz_vars__substitution(void **state)
{
    pl_kz_resmap m;
    pl_kz_tconfig tc;
    json_t *vars = yaml(vars_decl);
    (void)state;

    var_tconfig(&tc);
    load(&m, vars_res);
    assert_int_equal(pl_kz_vars_merge(&m, json_array_get(vars, 0)), 0);
    assert_int_equal(pl_kz_vars_resolve(&m, json_array_get(vars, 0), &tc), 0);
    /* whole-field references keep the type; maps stay unreplaced; $$ is a literal $ */
    assert_res(&m, "p",
               "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {l: hello, n: 5}}\n"
               "spec:\n"
               "  containers:\n"
               "  - name: c\n"
               "    image: $(STR)\n"
               "    command: [42, 1.5, true, x42y1.5ztrue, $(MAP), a$(MAP), b, $(STR), $(UNDEF),\n"
               "              \"null\", anull, $, $x, $(STR, $]\n"
               "    args: [hello]\n"
               "    env: [{name: A, value: 42}]\n");
    json_decref(vars);
    pl_kz_resmap_dispose(&m);
}

static void test_kz_vars__errors(void **state)
{
    pl_kz_resmap m;
    pl_kz_tconfig tc;
    json_t *vars;
    (void)state;

    var_tconfig(&tc);
    /* the objref's version must match exactly */
    vars = yaml("- name: A\n  objref: {kind: ConfigMap, name: src}\n");
    load(&m, vars_res);
    assert_int_equal(pl_kz_vars_merge(&m, json_array_get(vars, 0)), 0);
    assert_error(pl_kz_vars_resolve(&m, json_array_get(vars, 0), &tc),
                 "var '{A ConfigMap.[noVer].[noGrp] {metadata.name}}' cannot be mapped to a field "
                 "in the set of known resources");
    json_decref(vars);
    pl_kz_resmap_dispose(&m);

    vars = yaml("- name: B\n  objref: {kind: ConfigMap, name: src, apiVersion: v1}\n"
                "  fieldref: {fieldPath: data.y}\n");
    load(&m, vars_res);
    assert_error(pl_kz_vars_resolve(&m, json_array_get(vars, 0), &tc),
                 "field specified in var '{B ConfigMap.v1.[noGrp] {data.y}}' not found in "
                 "corresponding resource");
    json_decref(vars);
    pl_kz_resmap_dispose(&m);

    vars = yaml("- name: B\n  objref: {kind: ConfigMap, name: src, apiVersion: v1}\n"
                "- name: B\n  objref: {kind: Pod, name: p, apiVersion: v1}\n");
    load(&m, vars_res);
    assert_error(pl_kz_vars_resolve(&m, json_array_get(vars, 0), &tc),
                 "var 'B' already encountered");
    json_decref(vars);
    pl_kz_resmap_dispose(&m);
}

/* two resources with one original id: merge tags the one visible where the var is declared */
static void test_kz_vars__merge_disambiguates(void **state)
{
    pl_kz_resmap m, other;
    pl_kz_tconfig tc;
    json_t *vars = yaml("- name: SVC\n  objref: {kind: Service, name: es, apiVersion: v1}\n"
                        "  fieldref: {fieldPath: metadata.namespace}\n");
    (void)state;

    var_tconfig(&tc);
    load(&m, "apiVersion: v1\nkind: Service\nmetadata: {name: es, namespace: dev}\n---\n"
             "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {ns: $(SVC)}}\n");
    assert_int_equal(pl_kz_vars_merge(&m, json_array_get(vars, 0)), 0);
    load(&other, "apiVersion: v1\nkind: Service\nmetadata: {name: es, namespace: test}\n");
    assert_int_equal(pl_kz_resmap_append(&m, pl_kz_res_copy(other.v[0])), 0);
    pl_kz_resmap_dispose(&other);
    assert_int_equal(pl_kz_vars_resolve(&m, json_array_get(vars, 0), &tc), 0);
    assert_res(&m, "p", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {ns: dev}}\n");
    /* merging at a level that sees both is ambiguous */
    assert_error(pl_kz_vars_merge(&m, json_array_get(vars, 0)),
                 "found 2 resId matches for var {SVC Service.v1.[noGrp] {}} (unable to "
                 "disambiguate)");
    json_decref(vars);
    pl_kz_resmap_dispose(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kz_replace__scalar_types),
        cmocka_unit_test(test_kz_replace__tag_mismatch_errors),
        cmocka_unit_test(test_kz_replace__list_regex_and_wildcard),
        cmocka_unit_test(test_kz_replace__create_paths),
        cmocka_unit_test(test_kz_replace__delimiter_and_reject_regex),
        cmocka_unit_test(test_kz_replace__source_delimiter_and_previous_names),
        cmocka_unit_test(test_kz_replace__source_value_and_structured_data),
        cmocka_unit_test(test_kz_replace__errors),
        cmocka_unit_test(test_kz_replace__path_files),
        cmocka_unit_test(test_kz_vars__substitution),
        cmocka_unit_test(test_kz_vars__errors),
        cmocka_unit_test(test_kz_vars__merge_disambiguates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
