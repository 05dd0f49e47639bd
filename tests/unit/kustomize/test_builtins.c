/*
 * test_builtins.c - builtin dispatch, the simple builtin transformers and the transformer
 * configuration (kz_builtins.c, kz_tconfig.c).
 *
 * Expected outputs were checked against `kubectl kustomize` (kustomize v5.5) on equivalent
 * trees where the behaviour is the same in v5.8 (the corpus version).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kz.h"

static json_t *parse_all(const char *yaml)
{
    json_t *docs = NULL;
    assert_int_equal(pl_yaml_parse(&docs, yaml, strlen(yaml), "test", NULL), 0);
    return docs;
}

static json_t *parse1(const char *yaml)
{
    json_t *docs = parse_all(yaml), *doc = json_incref(json_array_get(docs, 0));
    json_decref(docs);
    assert_non_null(doc);
    return doc;
}

static void load(pl_kz_resmap *m, const char *yaml)
{
    json_t *docs = parse_all(yaml), *d;
    size_t i;
    pl_kz_resmap_init(m);
    json_array_foreach(docs, i, d) {
        assert_int_equal(pl_kz_resmap_append(m, pl_kz_res_new_take(json_incref(d))), 0);
    }
    json_decref(docs);
}

/* the resmap as a YAML stream */
static char *dump(const pl_kz_resmap *m)
{
    pl_buf b = PL_BUF_INIT;
    for (size_t i = 0; i < m->n; i++) {
        if (i)
            pl_buf_puts(&b, "---\n");
        assert_int_equal(pl_yaml_emit(&b, m->v[i]->obj), 0);
    }
    return pl_buf_detach(&b);
}

static void assert_dump(const pl_kz_resmap *m, const char *want)
{
    char *s = dump(m);
    assert_string_equal(s ? s : "", want);
    pl_free(s);
}

/* run one builtin config (YAML) over resources (YAML); returns the error code */
static int run(pl_kz_resmap *m, const char *resources, const char *config)
{
    pl_kz_ctx ctx;
    json_t *cfg = parse1(config);
    int error;

    memset(&ctx, 0, sizeof(ctx));
    ctx.dir = "/tmp/clusters/prod";
    load(m, resources);
    error = pl_kz_builtin_run(&ctx, m, cfg);
    json_decref(cfg);
    return error;
}

static void test_kz_builtins__labels_default_specs(void **state)
{
    pl_kz_resmap m;
    pl_kz_tconfig *tc = NULL;
    json_t *cfg = parse1("apiVersion: builtin\nkind: LabelTransformer\nlabels:\n  app: web\n"
                         "  num: 1\n");
    pl_kz_ctx ctx;
    (void)state;
    memset(&ctx, 0, sizeof(ctx));
    assert_int_equal(pl_kz_tconfig_default(&tc), 0);
    json_object_set_new(cfg, "fieldSpecs", pl_kz_fslist_to_json(&tc->common_labels));
    load(&m, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n"
             "    spec:\n      containers: []\n---\napiVersion: v1\nkind: ConfigMap\n"
             "metadata:\n  name: c\n  labels: {x: y}\n");
    assert_int_equal(pl_kz_builtin_run(&ctx, &m, cfg), 0);
    assert_dump(&m, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels:\n    app: web\n"
                    "    num: \"1\"\n  name: d\nspec:\n  selector:\n    matchLabels:\n      app: web\n"
                    "      num: \"1\"\n  template:\n    metadata:\n      labels:\n        app: web\n"
                    "        num: \"1\"\n    spec:\n      containers: []\n---\napiVersion: v1\n"
                    "kind: ConfigMap\nmetadata:\n  labels:\n    app: web\n    num: \"1\"\n"
                    "    x: \"y\"\n  name: c\n");
    json_decref(cfg);
    pl_kz_resmap_dispose(&m);
    pl_kz_tconfig_free(tc);
}

static void test_kz_builtins__annotations_no_create_leaves_null(void **state)
{
    pl_kz_resmap m;
    (void)state;
    assert_int_equal(run(&m, "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n"
                             "  a: null\n",
                         "apiVersion: builtin\nkind: AnnotationsTransformer\nannotations:\n"
                         "  k: v\nfieldSpecs:\n- path: metadata/annotations\n  create: true\n"
                         "- path: spec/a\n- path: spec/b\n"),
                     0);
    assert_dump(&m, "apiVersion: v1\nkind: Service\nmetadata:\n  annotations:\n    k: v\n"
                    "  name: s\nspec:\n  a: null\n");
    pl_kz_resmap_dispose(&m);
}

static void test_kz_builtins__prefix_suffix(void **state)
{
    pl_kz_resmap m;
    (void)state;
    assert_int_equal(
        run(&m,
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: apple\n---\napiVersion: v1\n"
            "kind: Namespace\nmetadata:\n  name: ns\n---\napiVersion: apiextensions.k8s.io/v1\n"
            "kind: CustomResourceDefinition\nmetadata:\n  name: crd\n",
            "apiVersion: builtin\nkind: PrefixSuffixTransformer\nmetadata:\n  name: x\n"
            "prefix: baked-\nsuffix: -pie\nfieldSpecs:\n- path: metadata/name\n"),
        0);
    assert_string_equal(pl_kz_res_name(m.v[0]), "baked-apple-pie");
    assert_string_equal(pl_kz_res_annotation(m.v[0], PL_KZ_ANN_PREFIXES), "baked-");
    assert_string_equal(pl_kz_res_annotation(m.v[0], PL_KZ_ANN_SUFFIXES), "-pie");
    assert_string_equal(pl_kz_res_annotation(m.v[0], PL_KZ_ANN_PREV_NAMES),
                        "apple,baked-apple");
    assert_string_equal(pl_kz_res_name(m.v[1]), "ns");
    assert_string_equal(pl_kz_res_name(m.v[2]), "crd");
    assert_null(pl_kz_res_annotation(m.v[1], PL_KZ_ANN_PREFIXES));
    pl_kz_resmap_dispose(&m);

    /* fieldSpecs are required */
    assert_int_equal(run(&m, "kind: A\nmetadata:\n  name: a\n",
                         "apiVersion: builtin\nkind: PrefixTransformer\nprefix: p-\n"),
                     PL_EINVALID);
    assert_non_null(strstr(pl_error_last()->message, "fieldSpecs is not expected to be nil"));
    pl_kz_resmap_dispose(&m);

    /* other fields get the prefix too; a kind filter applies */
    assert_int_equal(run(&m, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n"
                             "  MY_ENV: foo\n---\napiVersion: v1\nkind: Secret\nmetadata:\n"
                             "  name: s\n",
                         "apiVersion: builtin\nkind: PrefixTransformer\nprefix: bob-\n"
                         "fieldSpecs:\n- path: data/MY_ENV\n- path: metadata/name\n"
                         "  kind: ConfigMap\n"),
                     0);
    assert_dump(&m, "apiVersion: v1\ndata:\n  MY_ENV: bob-foo\nkind: ConfigMap\nmetadata:\n"
                    "  annotations:\n    internal.config.kubernetes.io/prefixes: bob-\n"
                    "    internal.config.kubernetes.io/previousKinds: ConfigMap\n"
                    "    internal.config.kubernetes.io/previousNames: c\n"
                    "    internal.config.kubernetes.io/previousNamespaces: default\n"
                    "  name: bob-c\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n");
    pl_kz_resmap_dispose(&m);
}

static void test_kz_builtins__namespace(void **state)
{
    pl_kz_resmap m;
    pl_kz_tconfig *tc = NULL;
    json_t *cfg = parse1("apiVersion: builtin\nkind: NamespaceTransformer\nmetadata:\n"
                         "  name: x\n  namespace: prod\n");
    pl_kz_ctx ctx;
    (void)state;
    memset(&ctx, 0, sizeof(ctx));
    assert_int_equal(pl_kz_tconfig_default(&tc), 0);
    json_object_set_new(cfg, "fieldSpecs", pl_kz_fslist_to_json(&tc->name_space));
    load(&m, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\napiVersion: v1\n"
             "kind: Namespace\nmetadata:\n  name: old\n---\n"
             "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n"
             "  name: cr\n---\napiVersion: rbac.authorization.k8s.io/v2\nkind: ClusterRole\n"
             "metadata:\n  name: cr2\n---\napiVersion: rbac.authorization.k8s.io/v1\n"
             "kind: RoleBinding\nmetadata:\n  name: rb\nsubjects:\n- kind: ServiceAccount\n"
             "  name: default\n- kind: ServiceAccount\n  name: other\n  namespace: x\n");
    assert_int_equal(pl_kz_builtin_run(&ctx, &m, cfg), 0);
    assert_string_equal(pl_kz_res_namespace(m.v[0]), "prod");
    /* the Namespace object (apiVersion v1) is renamed, and is cluster scoped */
    assert_string_equal(pl_kz_res_name(m.v[1]), "prod");
    assert_string_equal(pl_kz_res_namespace(m.v[1]), "");
    assert_string_equal(pl_kz_res_namespace(m.v[2]), "");
    /* an unknown version of a cluster kind counts as namespaced */
    assert_string_equal(pl_kz_res_namespace(m.v[3]), "prod");
    assert_string_equal(pl_json_str(m.v[4]->obj, "subjects", NULL) ? "" : "ok", "ok");
    assert_string_equal(pl_json_str(json_array_get(pl_json_path(m.v[4]->obj, "subjects", NULL), 0),
                                    "namespace", NULL),
                        "prod");
    assert_string_equal(pl_json_str(json_array_get(pl_json_path(m.v[4]->obj, "subjects", NULL), 1),
                                    "namespace", NULL),
                        "x");
    assert_string_equal(pl_kz_res_annotation(m.v[1], PL_KZ_ANN_PREV_NAMES), "old");
    pl_kz_resmap_dispose(&m);

    /* allServiceAccounts + unsetOnly */
    json_object_set_new(cfg, "setRoleBindingSubjects", json_string("allServiceAccounts"));
    json_object_set_new(cfg, "unsetOnly", json_true());
    load(&m, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: keep\n---\n"
             "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n"
             "  name: rb\nsubjects:\n- kind: ServiceAccount\n  name: a\n- kind: User\n  name: b\n");
    assert_int_equal(pl_kz_builtin_run(&ctx, &m, cfg), 0);
    assert_string_equal(pl_kz_res_namespace(m.v[0]), "keep");
    assert_string_equal(pl_json_str(json_array_get(pl_json_path(m.v[1]->obj, "subjects", NULL), 0),
                                    "namespace", NULL),
                        "prod");
    assert_null(json_object_get(json_array_get(pl_json_path(m.v[1]->obj, "subjects", NULL), 1),
                                "namespace"));
    pl_kz_resmap_dispose(&m);

    /* bad mode */
    json_object_set_new(cfg, "setRoleBindingSubjects", json_string("some"));
    load(&m, "");
    assert_int_equal(pl_kz_builtin_run(&ctx, &m, cfg), PL_EINVALID);
    assert_non_null(strstr(pl_error_last()->message, "invalid value \"some\""));
    pl_kz_resmap_dispose(&m);

    /* two objects that end up with the same id */
    json_object_del(cfg, "setRoleBindingSubjects");
    json_object_del(cfg, "unsetOnly");
    load(&m, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: a\n---\n"
             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: b\n");
    assert_int_equal(pl_kz_builtin_run(&ctx, &m, cfg), PL_EINVALID);
    assert_non_null(strstr(pl_error_last()->message, "ID conflict"));
    pl_kz_resmap_dispose(&m);

    /* field specs hitting a list */
    json_object_set_new(cfg, "fieldSpecs",
                        parse1("- path: subjects\n  kind: ClusterRoleBinding\n"));
    load(&m, "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n"
             "  name: rb\nsubjects:\n- name: a\n");
    assert_int_equal(pl_kz_builtin_run(&ctx, &m, cfg), PL_EINVALID);
    assert_non_null(strstr(pl_error_last()->message,
                           "namespace field specs must target scalar nodes"));
    pl_kz_resmap_dispose(&m);
    json_decref(cfg);
    pl_kz_tconfig_free(tc);
}

static void test_kz_builtins__images(void **state)
{
    pl_kz_resmap m;
    (void)state;
    assert_int_equal(
        run(&m,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n"
            "    spec:\n      containers:\n      - image: nginx:1.7.9\n      - image: nginx\n"
            "      - image: my.reg:5000/nginx:1.0\n      - image: nginx@sha256:1111\n"
            "      - image: nginxx\n      initContainers:\n      - image: nginx:1.2@sha256:22\n"
            "---\napiVersion: example.com/v1\nkind: Custom\nmetadata:\n  name: c\n"
            "spec:\n  deep:\n    containers:\n    - image: nginx\n  other:\n    image: nginx\n",
            "apiVersion: builtin\nkind: ImageTagTransformer\nimageTag:\n  name: nginx\n"
            "  newName: reg.io/nginx\n  Digest: sha256:2222\nfieldSpecs:\n"
            "- path: spec/template/spec/containers[]/image\n  create: true\n"
            "- path: spec/other/image\n"),
        0);
    assert_dump(&m, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n"
                    "  template:\n    spec:\n      containers:\n"
                    "      - image: reg.io/nginx@sha256:2222\n"
                    "      - image: reg.io/nginx@sha256:2222\n"
                    "      - image: my.reg:5000/nginx:1.0\n"
                    "      - image: reg.io/nginx@sha256:2222\n      - image: nginxx\n"
                    "      initContainers:\n      - image: reg.io/nginx@sha256:2222\n---\n"
                    "apiVersion: example.com/v1\nkind: Custom\nmetadata:\n  name: c\nspec:\n"
                    "  deep:\n    containers:\n    - image: reg.io/nginx@sha256:2222\n"
                    "  other:\n    image: reg.io/nginx@sha256:2222\n");
    pl_kz_resmap_dispose(&m);

    /* registry with a port: the name is matched as a whole; new tag drops the digest */
    assert_int_equal(run(&m,
                         "kind: Pod\nspec:\n  containers:\n  - image: my.reg:5000/app:1.0@sha256:9\n"
                         "  - image: my.reg:5000/app\n",
                         "apiVersion: builtin\nkind: ImageTagTransformer\nimageTag:\n"
                         "  name: my.reg:5000/app\n  newTag: v2\n"),
                     0);
    assert_dump(&m, "kind: Pod\nspec:\n  containers:\n  - image: my.reg:5000/app:v2\n"
                    "  - image: my.reg:5000/app:v2\n");
    pl_kz_resmap_dispose(&m);
}

static void test_kz_builtins__replicas(void **state)
{
    pl_kz_resmap m;
    (void)state;
    assert_int_equal(
        run(&m,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: p-web\n  annotations:\n"
            "    internal.config.kubernetes.io/previousNames: web\n"
            "    internal.config.kubernetes.io/previousKinds: Deployment\n"
            "    internal.config.kubernetes.io/previousNamespaces: default\n---\n"
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\nspec:\n"
            "  replicas: 1\n",
            "apiVersion: builtin\nkind: ReplicaCountTransformer\nreplica:\n  name: web\n"
            "  count: 5\nfieldSpecs:\n- path: spec/replicas\n  create: true\n  kind: Deployment\n"
            "- path: spec/replicas\n  create: true\n  kind: StatefulSet\n"),
        0);
    assert_int_equal(json_integer_value(pl_json_path(m.v[0]->obj, "spec", "replicas", NULL)), 5);
    assert_int_equal(json_integer_value(pl_json_path(m.v[1]->obj, "spec", "replicas", NULL)), 5);
    pl_kz_resmap_dispose(&m);

    assert_int_equal(run(&m, "apiVersion: v1\nkind: Service\nmetadata:\n  name: service\n",
                         "apiVersion: builtin\nkind: ReplicaCountTransformer\nreplica:\n"
                         "  name: service\n  count: 3\nfieldSpecs:\n- path: spec/replicas\n"
                         "  kind: Deployment\n"),
                     PL_EINVALID);
    assert_string_equal(pl_error_last()->message,
                        "resource with name service does not match a config with the following "
                        "GVK [Deployment.[noVer].[noGrp]]");
    pl_kz_resmap_dispose(&m);
}

static void test_kz_builtins__sort_legacy(void **state)
{
    pl_kz_resmap m;
    static const char in[] =
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: b\n---\n"
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n"
        "metadata:\n  name: v\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        "  name: d\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  namespace: z\n"
        "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n---\napiVersion: x/v1\n"
        "kind: Zebra\nmetadata:\n  name: z\n---\napiVersion: v1\nkind: Service\nmetadata:\n"
        "  name: a\n";
    (void)state;
    load(&m, in);
    pl_kz_sort_legacy(&m);
    assert_string_equal(pl_kz_res_kind(m.v[0]), "Namespace");
    assert_string_equal(pl_kz_res_kind(m.v[1]), "Service");
    assert_string_equal(pl_kz_res_namespace(m.v[1]), "z"); /* "z|a" < "~X|a" */
    assert_string_equal(pl_kz_res_name(m.v[2]), "a");
    assert_string_equal(pl_kz_res_name(m.v[3]), "b");
    assert_string_equal(pl_kz_res_kind(m.v[4]), "Deployment");
    assert_string_equal(pl_kz_res_kind(m.v[5]), "Zebra");
    assert_string_equal(pl_kz_res_kind(m.v[6]), "ValidatingWebhookConfiguration");
    pl_kz_resmap_dispose(&m);

    /* custom order; fifo leaves it alone; validation messages */
    assert_int_equal(run(&m, in,
                         "apiVersion: builtin\nkind: SortOrderTransformer\nsortOptions:\n"
                         "  order: legacy\n  legacySortOptions:\n    orderFirst: [Zebra]\n"
                         "    orderLast: [Namespace]\n"),
                     0);
    assert_string_equal(pl_kz_res_kind(m.v[0]), "Zebra");
    assert_string_equal(pl_kz_res_kind(m.v[6]), "Namespace");
    pl_kz_resmap_dispose(&m);
    assert_int_equal(run(&m, in, "kind: SortOrderTransformer\nsortOptions:\n  order: fifo\n"), 0);
    assert_string_equal(pl_kz_res_name(m.v[0]), "b");
    pl_kz_resmap_dispose(&m);
    assert_int_equal(run(&m, in, "kind: SortOrderTransformer\nsortOptions:\n  order: other\n"),
                     PL_EINVALID);
    assert_string_equal(pl_error_last()->message,
                        "the field 'sortOptions.order' must be one of [fifo, legacy]");
    pl_kz_resmap_dispose(&m);
}

static void test_kz_builtins__value_add(void **state)
{
    pl_kz_resmap m;
    (void)state;
    assert_int_equal(run(&m, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n"
                             "  path: /a/b\n",
                         "apiVersion: builtin\nkind: ValueAddTransformer\nvalue: PEACH\n"
                         "targets:\n- fieldPath: data/path\n  filePathPosition: 2\n"
                         "- fieldPath: data/new\n- fieldPath: metadata/namespace\n"
                         "- selector:\n    kind: Secret\n  fieldPath: data/skip\n"),
                     0);
    assert_dump(&m, "apiVersion: v1\ndata:\n  new: PEACH\n  path: /a/PEACH/b\nkind: ConfigMap\n"
                    "metadata:\n  name: c\n  namespace: PEACH\n");
    pl_kz_resmap_dispose(&m);
    /* the value defaults to the kustomization directory's base name */
    assert_int_equal(run(&m, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
                         "kind: ValueAddTransformer\ntargets:\n- fieldPath: data/x\n"),
                     0);
    assert_string_equal(pl_json_str(m.v[0]->obj, "data", "x", NULL), "prod");
    pl_kz_resmap_dispose(&m);
    assert_int_equal(run(&m, "", "kind: ValueAddTransformer\nvalue: v\n"), PL_EINVALID);
    assert_string_equal(pl_error_last()->message, "must specify at least one target");
    pl_kz_resmap_dispose(&m);
}

static void test_kz_builtins__iam_and_dispatch(void **state)
{
    pl_kz_resmap m;
    json_t *c;
    (void)state;
    assert_int_equal(run(&m, "", "apiVersion: builtin\nkind: IAMPolicyGenerator\ncloud: gke\n"
                                 "kubernetesService:\n  name: ksa\n  namespace: ns1\n"
                                 "serviceAccount:\n  name: gsa\n  projectId: p\n"),
                     0);
    assert_dump(&m, "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  annotations:\n"
                    "    iam.gke.io/gcp-service-account: gsa@p.iam.gserviceaccount.com\n"
                    "  name: ksa\n  namespace: ns1\n");
    pl_kz_resmap_dispose(&m);

    assert_int_equal(run(&m, "", "apiVersion: builtin\nkind: Frobnicator\n"), PL_EINVALID);
    assert_non_null(strstr(pl_error_last()->message, "Frobnicator"));
    assert_non_null(strstr(pl_error_last()->message, "only builtin plugins"));
    pl_kz_resmap_dispose(&m);
    assert_int_equal(run(&m, "", "apiVersion: builtin\nkind: HelmChartInflationGenerator\n"),
                     PL_EINVALID);
    assert_non_null(strstr(pl_error_last()->message, "HelmChartInflationGenerator"));
    pl_kz_resmap_dispose(&m);
    assert_int_equal(run(&m, "", "apiVersion: example.com/v1\nkind: Fn\nmetadata:\n  name: f\n"
                                 "  annotations:\n    config.kubernetes.io/function: |\n"
                                 "      container:\n        image: x\n"),
                     PL_EINVALID);
    assert_non_null(strstr(pl_error_last()->message, "container function plugins"));
    pl_kz_resmap_dispose(&m);

    assert_true(pl_kz_builtin_is_generator("SecretGenerator"));
    assert_true(pl_kz_builtin_is_generator("IAMPolicyGenerator"));
    assert_false(pl_kz_builtin_is_generator("PrefixTransformer"));

    c = parse1("apiVersion: builtin\nkind: SortOrderTransformer\n");
    assert_int_equal(pl_kz_builtin_check_user(c), PL_EINVALID);
    assert_string_equal(pl_error_last()->message,
                        "unable to load builtin SortOrderTransformer.builtin.[noGrp]");
    json_decref(c);
    c = parse1("apiVersion: someteam.example.com/v1\nkind: StringPrefixer\n");
    assert_int_equal(pl_kz_builtin_check_user(c), PL_EINVALID);
    json_decref(c);
    c = parse1("apiVersion: builtin\nkind: PrefixSuffixTransformer\n");
    assert_int_equal(pl_kz_builtin_check_user(c), 0);
    json_decref(c);

    assert_true(pl_kz_is_cluster_scoped("v1", "Namespace"));
    assert_true(pl_kz_is_cluster_scoped("storage.k8s.io/v1", "StorageClass"));
    assert_false(pl_kz_is_cluster_scoped("storage.k8s.io/v2", "StorageClass"));
    assert_false(pl_kz_is_cluster_scoped("v1", "ConfigMap"));
}

static void test_kz_tconfig__defaults(void **state)
{
    pl_kz_tconfig *tc = NULL, *cp = NULL;
    size_t refs = 0;
    (void)state;
    assert_int_equal(pl_kz_tconfig_default(&tc), 0);
    assert_int_equal(tc->name_prefix.n, 1);
    assert_string_equal(tc->name_prefix.v[0].path, "metadata/name");
    assert_int_equal(tc->name_suffix.n, 1);
    assert_int_equal(tc->name_space.n, 3);
    assert_int_equal(tc->common_labels.n, 32);
    assert_int_equal(tc->template_labels.n, 9);
    assert_int_equal(tc->volume_claim_template_labels.n, 1);
    assert_int_equal(tc->common_annotations.n, 9);
    assert_int_equal(tc->images.n, 6);
    assert_int_equal(tc->replicas.n, 4);
    assert_int_equal(tc->var_reference.n, 72);
    assert_int_equal(tc->labels.n, 0);
    assert_int_equal(tc->nnameref, 16);
    /* sorted by resid.Gvk.IsLessThan: the legacy kind order first */
    assert_string_equal(tc->nameref[0].kind, "StorageClass");
    assert_string_equal(tc->nameref[1].kind, "ServiceAccount");
    assert_string_equal(tc->nameref[2].kind, "Role");
    assert_string_equal(tc->nameref[tc->nnameref - 1].kind, "ReplicationController");
    for (size_t i = 0; i < tc->nnameref; i++)
        refs += tc->nameref[i].referrers.n;
    assert_int_equal(refs, 167);
    /* the escaped slash is kept for the walker */
    for (size_t i = 0; i < tc->nnameref; i++)
        if (!strcmp(tc->nameref[i].kind, "ConfigMap"))
            assert_string_equal(tc->nameref[i].referrers.v[tc->nameref[i].referrers.n - 1].path,
                                "metadata/annotations/nginx.ingress.kubernetes.io\\/"
                                "fastcgi-params-configmap");
    assert_int_equal(pl_kz_tconfig_copy(&cp, tc), 0);
    assert_int_equal(cp->nnameref, tc->nnameref);
    assert_int_equal(cp->common_labels.n, 32);
    pl_kz_tconfig_free(cp);
    pl_kz_tconfig_free(tc);
}

static void test_kz_tconfig__merge(void **state)
{
    pl_kz_tconfig *tc = NULL;
    json_t *cfg;
    size_t n;
    (void)state;
    assert_int_equal(pl_kz_tconfig_default(&tc), 0);
    n = tc->nnameref;
    cfg = parse1("namePrefix:\n- path: metadata/name\n- path: spec/x\n  kind: Foo\n"
                 "nameReference:\n- kind: Gorilla\n  fieldSpecs:\n  - kind: AnimalPark\n"
                 "    path: spec/gorillaRef/name\n- kind: Secret\n  version: v1\n  fieldSpecs:\n"
                 "  - kind: Foo\n    path: spec/secret\n"
                 "Labels:\n- path: spec/selectors/labels\n  create: true\n  kind: Sample\n");
    assert_int_equal(pl_kz_tconfig_merge_json(tc, cfg), 0);
    json_decref(cfg);
    assert_int_equal(tc->name_prefix.n, 2);
    assert_int_equal(tc->labels.n, 1);
    assert_int_equal(tc->nnameref, n + 1);
    for (size_t i = 0; i < tc->nnameref; i++)
        if (!strcmp(tc->nameref[i].kind, "Secret"))
            assert_string_equal(tc->nameref[i].referrers.v[tc->nameref[i].referrers.n - 1].path,
                                "spec/secret");
    /* merging a whole config (TransformerConfig.Merge) */
    {
        pl_kz_tconfig *d = NULL;
        assert_int_equal(pl_kz_tconfig_default(&d), 0);
        assert_int_equal(pl_kz_tconfig_merge(d, tc), 0);
        assert_int_equal(d->name_prefix.n, 2);
        assert_int_equal(d->labels.n, 1);
        assert_int_equal(d->nnameref, n + 1);
        pl_kz_tconfig_free(d);
    }
    /* the same spec with another create flag conflicts */
    cfg = parse1("commonLabels:\n- path: spec/selector\n  kind: Service\n  version: v1\n");
    assert_int_equal(pl_kz_tconfig_merge_json(tc, cfg), PL_EINVALID);
    assert_non_null(strstr(pl_error_last()->message, "conflicting fieldspecs"));
    json_decref(cfg);
    pl_kz_tconfig_free(tc);
}

static void test_kz_tconfig__crd(void **state)
{
    pl_kz_tconfig *tc = NULL;
    json_t *crd = parse1(
        "{\"g.com/v1.MyKind\": {\"Schema\": {\"properties\": {\"apiVersion\": {}, \"kind\": {},"
        " \"metadata\": {}, \"spec\": {\"$ref\": \"g.com/v1.MyKindSpec\"}}}},"
        " \"g.com/v1.MyKindSpec\": {\"Schema\": {\"properties\": {"
        "   \"secretRef\": {\"x-kubernetes-object-ref-api-version\": \"v1\","
        "                   \"x-kubernetes-object-ref-kind\": \"Secret\"},"
        "   \"beeRef\": {\"x-kubernetes-object-ref-api-version\": \"v1beta1\","
        "                \"x-kubernetes-object-ref-kind\": \"Bee\", "
        "                \"x-kubernetes-object-ref-name-key\": \"id\"},"
        "   \"sel\": {\"x-kubernetes-label-selector\": \"\"},"
        "   \"ident\": {\"x-kubernetes-identity\": \"\"}}}}}");
    int bee = 0, secret = 0;
    (void)state;
    assert_int_equal(pl_kz_tconfig_default(&tc), 0);
    assert_int_equal(pl_kz_tconfig_merge_crd(tc, crd), 0);
    for (size_t i = 0; i < tc->nnameref; i++) {
        pl_kz_nameref *nr = &tc->nameref[i];
        if (!strcmp(nr->kind, "Bee")) {
            bee = 1;
            assert_string_equal(nr->version, "v1beta1");
            assert_int_equal(nr->referrers.n, 1);
            assert_string_equal(nr->referrers.v[0].kind, "MyKind");
            assert_string_equal(nr->referrers.v[0].path, "spec/beeRef/id");
        }
        if (!strcmp(nr->kind, "Secret")) {
            secret = 1;
            assert_string_equal(nr->referrers.v[nr->referrers.n - 1].path, "spec/secretRef/name");
        }
    }
    assert_true(bee && secret);
    {
        int sel = 0;
        for (size_t i = 0; i < tc->common_labels.n; i++)
            sel += !strcmp(tc->common_labels.v[i].path, "spec/sel") &&
                   !strcmp(tc->common_labels.v[i].kind, "MyKind");
        assert_int_equal(sel, 1);
    }
    assert_int_equal(tc->name_prefix.n, 2);
    json_decref(crd);
    pl_kz_tconfig_free(tc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kz_builtins__labels_default_specs),
        cmocka_unit_test(test_kz_builtins__annotations_no_create_leaves_null),
        cmocka_unit_test(test_kz_builtins__prefix_suffix),
        cmocka_unit_test(test_kz_builtins__namespace),
        cmocka_unit_test(test_kz_builtins__images),
        cmocka_unit_test(test_kz_builtins__replicas),
        cmocka_unit_test(test_kz_builtins__sort_legacy),
        cmocka_unit_test(test_kz_builtins__value_add),
        cmocka_unit_test(test_kz_builtins__iam_and_dispatch),
        cmocka_unit_test(test_kz_tconfig__defaults),
        cmocka_unit_test(test_kz_tconfig__merge),
        cmocka_unit_test(test_kz_tconfig__crd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
