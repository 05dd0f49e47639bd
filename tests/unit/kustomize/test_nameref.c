/*
 * test_nameref.c - kz_nameref.c: references to renamed objects rewritten as kustomize v5.5
 * rewrites them.
 *
 * Resources are written the way earlier transformers leave them (previous names, prefixes and
 * suffixes in the internal build annotations); the expectations were checked against
 * `kubectl kustomize` on equivalent trees.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "kz.h"

/* ---- a small nameReference table (subset of kustomize's defaults) ------------------------- */

static pl_kz_fieldspec cm_refs[] = {
    {NULL, NULL, (char *)"Deployment", (char *)"spec/template/spec/volumes/configMap/name", 0},
    {NULL, NULL, (char *)"Deployment",
     (char *)"spec/template/spec/containers/envFrom/configMapRef/name", 0},
    {(char *)"rbac.authorization.k8s.io", NULL, (char *)"ClusterRole", (char *)"rules/resourceNames", 0},
};
static pl_kz_fieldspec sa_refs[] = {
    {(char *)"rbac.authorization.k8s.io", NULL, (char *)"RoleBinding", (char *)"subjects", 0},
    {(char *)"rbac.authorization.k8s.io", NULL, (char *)"ClusterRoleBinding", (char *)"subjects", 0},
};
static pl_kz_fieldspec role_refs[] = {
    {(char *)"rbac.authorization.k8s.io", NULL, (char *)"RoleBinding", (char *)"roleRef/name", 0},
};
static pl_kz_fieldspec crole_refs[] = {
    {(char *)"rbac.authorization.k8s.io", NULL, (char *)"RoleBinding", (char *)"roleRef/name", 0},
    {(char *)"rbac.authorization.k8s.io", NULL, (char *)"ClusterRoleBinding", (char *)"roleRef/name", 0},
};

#define N(a) (sizeof(a) / sizeof(*(a)))

static pl_kz_nameref table[] = {
    {NULL, (char *)"v1", (char *)"ConfigMap", {cm_refs, N(cm_refs), N(cm_refs)}},
    {NULL, (char *)"v1", (char *)"ServiceAccount", {sa_refs, N(sa_refs), N(sa_refs)}},
    {(char *)"rbac.authorization.k8s.io", NULL, (char *)"Role", {role_refs, N(role_refs), N(role_refs)}},
    {(char *)"rbac.authorization.k8s.io", NULL, (char *)"ClusterRole",
     {crole_refs, N(crole_refs), N(crole_refs)}},
};

static void hand_tconfig(pl_kz_tconfig *tc)
{
    memset(tc, 0, sizeof(*tc));
    tc->nameref = table;
    tc->nnameref = tc->nameref_cap = N(table);
}

/* ---- helpers ------------------------------------------------------------------------------ */

#define ANN "internal.config.kubernetes.io/"

static void load(pl_kz_resmap *m, const char *yaml)
{
    json_t *docs = NULL, *d;
    size_t i;
    pl_kz_resmap_init(m);
    assert_int_equal(pl_yaml_parse(&docs, yaml, strlen(yaml), "test.yaml", NULL), 0);
    json_array_foreach(docs, i, d) {
        assert_int_equal(pl_kz_resmap_append(m, pl_kz_res_new_take(json_incref(d))), 0);
    }
    json_decref(docs);
}

static pl_kz_res *find(pl_kz_resmap *m, const char *kind, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(pl_kz_res_kind(m->v[i]), kind) && !strcmp(pl_kz_res_name(m->v[i]), name))
            return m->v[i];
    fail_msg("no %s/%s", kind, name);
    return NULL;
}

static const char *str_at(const json_t *v, const char *path)
{
    /* dotted path, numeric parts index arrays */
    char buf[256];
    char *p;
    snprintf(buf, sizeof(buf), "%s", path);
    for (p = buf; p && *p;) {
        char *dot = strchr(p, '.');
        if (dot)
            *dot = '\0';
        if (json_is_array(v))
            v = json_array_get(v, (size_t)strtoul(p, NULL, 10));
        else
            v = json_object_get(v, p);
        p = dot ? dot + 1 : NULL;
    }
    return json_string_value(v);
}

/* ---- cases -------------------------------------------------------------------------------- */

static void test_kz_nameref__scalar_and_list_values(void **state)
{
    pl_kz_resmap m;
    pl_kz_tconfig tc;
    pl_kz_res *d, *cr, *cm;
    (void)state;

    hand_tconfig(&tc);
    load(&m, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: p-cm\n  annotations:\n"
             "    " ANN "previousNames: cm\n    " ANN "previousKinds: ConfigMap\n"
             "    " ANN "previousNamespaces: default\n    " ANN "prefixes: p-\n"
             "---\n"
             "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: p-d\n  annotations:\n"
             "    " ANN "previousNames: d\n    " ANN "previousKinds: Deployment\n"
             "    " ANN "previousNamespaces: default\n    " ANN "prefixes: p-\n"
             "spec:\n  template:\n    spec:\n"
             "      volumes:\n      - name: v\n        configMap: {name: cm}\n"
             "      - name: w\n        configMap: {name: other}\n"
             "      - name: x\n        secret: {secretName: cm}\n"
             "      containers:\n      - name: c\n        envFrom:\n"
             "        - configMapRef: {name: cm}\n"
             "---\n"
             "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: cr}\n"
             "rules:\n- resourceNames: [cm, x, cm]\n");
    assert_int_equal(pl_kz_nameref_fix(&m, &tc), 0);
    d = find(&m, "Deployment", "p-d");
    assert_string_equal(str_at(d->obj, "spec.template.spec.volumes.0.configMap.name"), "p-cm");
    assert_string_equal(str_at(d->obj, "spec.template.spec.volumes.1.configMap.name"), "other");
    assert_string_equal(str_at(d->obj, "spec.template.spec.volumes.2.secret.secretName"), "cm");
    assert_string_equal(
        str_at(d->obj, "spec.template.spec.containers.0.envFrom.0.configMapRef.name"), "p-cm");
    cr = find(&m, "ClusterRole", "cr");
    assert_string_equal(str_at(cr->obj, "rules.0.resourceNames.0"), "p-cm");
    assert_string_equal(str_at(cr->obj, "rules.0.resourceNames.1"), "x");
    assert_string_equal(str_at(cr->obj, "rules.0.resourceNames.2"), "p-cm");
    /* refBy: two fields of the Deployment, two list items of the ClusterRole */
    cm = find(&m, "ConfigMap", "p-cm");
    assert_non_null(cm->ref_by);
    assert_int_equal(json_array_size(cm->ref_by), 4);
    assert_string_equal(str_at(cm->ref_by, "0.kind"), "Deployment");
    assert_string_equal(str_at(cm->ref_by, "0.name"), "p-d");
    assert_string_equal(str_at(cm->ref_by, "3.kind"), "ClusterRole");
    pl_kz_resmap_dispose(&m);
}

/* A namespaced referrer only sees candidates of its own namespace. */
static void test_kz_nameref__same_namespace_only(void **state)
{
    pl_kz_resmap m;
    pl_kz_tconfig tc;
    pl_kz_res *d;
    (void)state;

    hand_tconfig(&tc);
    load(&m, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-b\n  namespace: b\n"
             "  annotations:\n    " ANN "previousNames: cm\n    " ANN "previousKinds: ConfigMap\n"
             "    " ANN "previousNamespaces: b\n"
             "---\n"
             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-a\n  namespace: a\n"
             "  annotations:\n    " ANN "previousNames: cm\n    " ANN "previousKinds: ConfigMap\n"
             "    " ANN "previousNamespaces: a\n"
             "---\n"
             "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: a}\n"
             "spec:\n  template:\n    spec:\n      volumes:\n      - configMap: {name: cm}\n"
             "---\n"
             "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: e, namespace: c}\n"
             "spec:\n  template:\n    spec:\n      volumes:\n      - configMap: {name: cm}\n");
    assert_int_equal(pl_kz_nameref_fix(&m, &tc), 0);
    d = find(&m, "Deployment", "d");
    assert_string_equal(str_at(d->obj, "spec.template.spec.volumes.0.configMap.name"), "cm-a");
    d = find(&m, "Deployment", "e");
    assert_string_equal(str_at(d->obj, "spec.template.spec.volumes.0.configMap.name"), "cm");
    pl_kz_resmap_dispose(&m);
}

/*
 * ClusterRoleBinding subjects: a namespace not among the original namespaces falls back to
 * current namespaces; a subject without namespace gets the referral's. Mirrors a base with
 * `namespace: newns` + `namePrefix: x-` over a ServiceAccount originally in `old`.
 */
static void test_kz_nameref__subjects_namespaces(void **state)
{
    pl_kz_resmap m;
    pl_kz_tconfig tc;
    pl_kz_res *crb;
    (void)state;

    hand_tconfig(&tc);
    load(&m, "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: x-sa\n  namespace: newns\n"
             "  annotations:\n    " ANN "previousNames: sa,sa\n"
             "    " ANN "previousKinds: ServiceAccount,ServiceAccount\n"
             "    " ANN "previousNamespaces: old,newns\n    " ANN "prefixes: x-\n"
             "---\n"
             "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n"
             "metadata: {name: crb}\n"
             "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}\n"
             "subjects:\n"
             "- {kind: ServiceAccount, name: sa, namespace: newns}\n"
             "- {kind: ServiceAccount, name: sa, namespace: old}\n"
             "- {kind: ServiceAccount, name: sa}\n"
             "- {kind: ServiceAccount, name: sa, namespace: other}\n");
    assert_int_equal(pl_kz_nameref_fix(&m, &tc), 0);
    crb = find(&m, "ClusterRoleBinding", "crb");
    assert_string_equal(str_at(crb->obj, "subjects.0.name"), "x-sa");
    assert_string_equal(str_at(crb->obj, "subjects.0.namespace"), "newns");
    assert_string_equal(str_at(crb->obj, "subjects.1.name"), "x-sa");
    assert_string_equal(str_at(crb->obj, "subjects.1.namespace"), "newns");
    assert_string_equal(str_at(crb->obj, "subjects.2.name"), "x-sa");
    assert_string_equal(str_at(crb->obj, "subjects.2.namespace"), "newns");
    assert_string_equal(str_at(crb->obj, "subjects.3.name"), "sa");
    assert_string_equal(str_at(crb->obj, "subjects.3.namespace"), "other");
    pl_kz_resmap_dispose(&m);
}

/*
 * Two ConfigMaps once named cm: q-cm (prefix q-) and cm-s (suffix -s); the referrer has
 * prefix p-. The coarse pass (empty lists match) keeps only cm-s.
 */
static void test_kz_nameref__prefix_suffix_disambiguation(void **state)
{
    pl_kz_resmap m;
    pl_kz_tconfig tc;
    pl_kz_res *d;
    (void)state;

    hand_tconfig(&tc);
    load(&m, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: p-d\n  annotations:\n"
             "    " ANN "previousNames: d\n    " ANN "previousKinds: Deployment\n"
             "    " ANN "previousNamespaces: default\n    " ANN "prefixes: p-\n"
             "spec:\n  template:\n    spec:\n      volumes:\n      - configMap: {name: cm}\n"
             "---\n"
             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: q-cm\n  annotations:\n"
             "    " ANN "previousNames: cm\n    " ANN "previousKinds: ConfigMap\n"
             "    " ANN "previousNamespaces: default\n    " ANN "prefixes: q-\n"
             "---\n"
             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-s\n  annotations:\n"
             "    " ANN "previousNames: cm\n    " ANN "previousKinds: ConfigMap\n"
             "    " ANN "previousNamespaces: default\n    " ANN "suffixes: -s\n");
    assert_int_equal(pl_kz_nameref_fix(&m, &tc), 0);
    d = find(&m, "Deployment", "p-d");
    assert_string_equal(str_at(d->obj, "spec.template.spec.volumes.0.configMap.name"), "cm-s");
    pl_kz_resmap_dispose(&m);
}

/* resourceconflict_test TestMultibasesWithConflict: both ServiceAccounts fit: an error. */
static void test_kz_nameref__ambiguous_referral(void **state)
{
    pl_kz_resmap m;
    pl_kz_tconfig tc;
    (void)state;

    hand_tconfig(&tc);
    load(&m,
         "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a-serviceaccount-suffixA\n"
         "  annotations:\n    " ANN "previousNames: serviceaccount,a-serviceaccount\n"
         "    " ANN "previousKinds: ServiceAccount,ServiceAccount\n"
         "    " ANN "previousNamespaces: default,default\n    " ANN "prefixes: a-\n"
         "    " ANN "suffixes: -suffixA\n"
         "---\n"
         "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a-pfx-serviceaccount-sfx-suffixA\n"
         "  annotations:\n    " ANN "previousNames: serviceaccount,pfx-serviceaccount\n"
         "    " ANN "previousKinds: ServiceAccount,ServiceAccount\n"
         "    " ANN "previousNamespaces: default,default\n    " ANN "prefixes: pfx-,a-\n"
         "    " ANN "suffixes: -sfx,-suffixA\n"
         "---\n"
         "apiVersion: rbac.authorization.k8s.io/v1beta1\nkind: RoleBinding\nmetadata:\n"
         "  name: a-pfx-rolebinding-sfx-suffixA\n"
         "  annotations:\n    " ANN "previousNames: rolebinding,pfx-rolebinding\n"
         "    " ANN "previousKinds: RoleBinding,RoleBinding\n"
         "    " ANN "previousNamespaces: default,default\n    " ANN "prefixes: pfx-,a-\n"
         "    " ANN "suffixes: -sfx,-suffixA\n"
         "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: role}\n"
         "subjects:\n- {kind: ServiceAccount, name: serviceaccount}\n");
    assert_int_equal(pl_kz_nameref_fix(&m, &tc), PL_EINVALID);
    assert_non_null(strstr(pl_error_last()->message,
                           "found multiple possible referrals: "
                           "ServiceAccount.v1.[noGrp]/a-serviceaccount-suffixA.[noNs], "
                           "ServiceAccount.v1.[noGrp]/a-pfx-serviceaccount-sfx-suffixA.[noNs]"));
    assert_non_null(strstr(pl_error_last()->message,
                           "RoleBinding.v1beta1.rbac.authorization.k8s.io/"
                           "a-pfx-rolebinding-sfx-suffixA.[noNs]"));
    pl_kz_resmap_dispose(&m);
}

/* blankvalues_test TestBlankNamespace4240: fails even though nothing was renamed. */
static void test_kz_nameref__rolebinding_blank_namespace(void **state)
{
    pl_kz_resmap m;
    pl_kz_tconfig tc;
    (void)state;

    hand_tconfig(&tc);
    load(&m, "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: test}\n---\n"
             "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: test}\n"
             "subjects:\n- kind: ServiceAccount\n  name: test\n  namespace:\n"
             "roleRef: {kind: Role, name: test, apiGroup: rbac.authorization.k8s.io}\n");
    assert_int_equal(pl_kz_nameref_fix(&m, &tc), PL_EINVALID);
    assert_string_equal(pl_error_last()->message,
                        "Invalid Input: namespace is blank for resource "
                        "\"RoleBinding.v1.rbac.authorization.k8s.io/test.[noNs]\"");
    pl_kz_resmap_dispose(&m);
}

/* roleRef/name: the roleRef's kind decides between a Role and a ClusterRole once named r. */
static void test_kz_nameref__roleref_kind(void **state)
{
    pl_kz_resmap m;
    pl_kz_tconfig tc;
    (void)state;

    hand_tconfig(&tc);
    load(&m, "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: p-r\n"
             "  annotations:\n    " ANN "previousNames: r\n    " ANN "previousKinds: Role\n"
             "    " ANN "previousNamespaces: default\n    " ANN "prefixes: p-\n"
             "---\n"
             "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r-s\n"
             "  annotations:\n    " ANN "previousNames: r\n    " ANN "previousKinds: ClusterRole\n"
             "    " ANN "previousNamespaces: default\n    " ANN "suffixes: -s\n"
             "---\n"
             "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb}\n"
             "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}\n"
             "---\n"
             "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb2}\n"
             "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\n");
    assert_int_equal(pl_kz_nameref_fix(&m, &tc), 0);
    assert_string_equal(str_at(find(&m, "RoleBinding", "rb")->obj, "roleRef.name"), "r-s");
    assert_string_equal(str_at(find(&m, "RoleBinding", "rb2")->obj, "roleRef.name"), "p-r");
    pl_kz_resmap_dispose(&m);
}

/* A field never renamed stays as is; referrers selected by their original kind. */
static void test_kz_nameref__original_kind_selects_referrer(void **state)
{
    pl_kz_resmap m;
    pl_kz_tconfig tc;
    pl_kz_res *s;
    (void)state;

    hand_tconfig(&tc);
    load(&m, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm2\n  annotations:\n"
             "    " ANN "previousNames: cm\n    " ANN "previousKinds: ConfigMap\n"
             "    " ANN "previousNamespaces: default\n"
             "---\n"
             "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: d\n  annotations:\n"
             "    " ANN "previousNames: d\n    " ANN "previousKinds: Deployment\n"
             "    " ANN "previousNamespaces: default\n"
             "spec:\n  template:\n    spec:\n      volumes:\n      - configMap: {name: cm}\n");
    assert_int_equal(pl_kz_nameref_fix(&m, &tc), 0);
    s = find(&m, "StatefulSet", "d");
    assert_string_equal(str_at(s->obj, "spec.template.spec.volumes.0.configMap.name"), "cm2");
    pl_kz_resmap_dispose(&m);
}

/* 4,000 objects: the index keeps this in milliseconds. */
static void test_kz_nameref__large_build_is_fast(void **state)
{
    pl_kz_resmap m;
    pl_kz_tconfig tc;
    pl_buf y = PL_BUF_INIT;
    struct timespec t0, t1;
    double secs;
    (void)state;

    hand_tconfig(&tc);
    for (int i = 0; i < 2000; i++) {
        pl_buf_printf(&y,
                      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: p-cm%d\n  annotations:\n"
                      "    " ANN "previousNames: cm%d\n    " ANN "previousKinds: ConfigMap\n"
                      "    " ANN "previousNamespaces: default\n    " ANN "prefixes: p-\n---\n",
                      i, i);
        pl_buf_printf(&y,
                      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: p-d%d\n"
                      "  annotations:\n    " ANN "previousNames: d%d\n"
                      "    " ANN "previousKinds: Deployment\n"
                      "    " ANN "previousNamespaces: default\n    " ANN "prefixes: p-\n"
                      "spec:\n  template:\n    spec:\n      volumes:\n"
                      "      - configMap: {name: cm%d}\n      - configMap: {name: cm%d}\n---\n",
                      i, i, i, (i + 1) % 2000);
    }
    load(&m, y.ptr);
    pl_buf_dispose(&y);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(pl_kz_nameref_fix(&m, &tc), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_string_equal(str_at(find(&m, "Deployment", "p-d1999")->obj,
                               "spec.template.spec.volumes.1.configMap.name"),
                        "p-cm0");
    assert_string_equal(str_at(find(&m, "Deployment", "p-d7")->obj,
                               "spec.template.spec.volumes.0.configMap.name"),
                        "p-cm7");
    print_message("nameref over 4000 objects: %.1f ms\n", secs * 1e3);
    assert_true(secs < 1.0); /* generous for sanitizer builds; ~ms in release */
    pl_kz_resmap_dispose(&m);
}

/* The builtin table, when the tconfig helper provides it: Secret via imagePullSecrets. */
static void test_kz_nameref__default_table(void **state)
{
    pl_kz_resmap m;
    pl_kz_tconfig *tc = NULL;
    pl_kz_res *d;
    (void)state;

    assert_int_equal(pl_kz_tconfig_default(&tc), 0);
    if (tc->nnameref == 0) {
        pl_kz_tconfig_free(tc);
        skip();
    }
    load(&m, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s-hash\n  annotations:\n"
             "    " ANN "previousNames: s\n    " ANN "previousKinds: Secret\n"
             "    " ANN "previousNamespaces: default\n"
             "---\n"
             "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"
             "spec:\n  template:\n    spec:\n      imagePullSecrets:\n      - name: s\n"
             "      containers:\n      - name: c\n        env:\n        - name: E\n"
             "          valueFrom:\n            secretKeyRef: {name: s, key: k}\n"
             "      volumes:\n      - projected:\n          sources:\n"
             "          - secret: {name: s}\n");
    assert_int_equal(pl_kz_nameref_fix(&m, tc), 0);
    d = find(&m, "Deployment", "d");
    assert_string_equal(str_at(d->obj, "spec.template.spec.imagePullSecrets.0.name"), "s-hash");
    assert_string_equal(
        str_at(d->obj, "spec.template.spec.containers.0.env.0.valueFrom.secretKeyRef.name"),
        "s-hash");
    assert_string_equal(
        str_at(d->obj, "spec.template.spec.volumes.0.projected.sources.0.secret.name"), "s-hash");
    pl_kz_resmap_dispose(&m);
    pl_kz_tconfig_free(tc);
}

/* ---- on the build's spare threads --------------------------------------------------------- */

/* 400 renamed ConfigMaps, 400 Deployments naming two each, 2 ClusterRoles naming them all. */
static void big_map(pl_kz_resmap *m)
{
    pl_buf y = PL_BUF_INIT;

    for (int i = 0; i < 400; i++) {
        pl_buf_printf(&y, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: p-cm-%d\n"
                          "  annotations:\n    " ANN "previousNames: cm-%d\n"
                          "    " ANN "previousKinds: ConfigMap\n"
                          "    " ANN "previousNamespaces: default\n    " ANN "prefixes: p-\n",
                      i, i);
        pl_buf_printf(&y, "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d-%d\n"
                          "spec:\n  template:\n    spec:\n"
                          "      volumes:\n      - name: v\n        configMap: {name: cm-%d}\n"
                          "      containers:\n      - name: c\n        envFrom:\n"
                          "        - configMapRef: {name: cm-%d}\n",
                      i, i, (i + 1) % 400);
    }
    for (int r = 0; r < 2; r++) {
        pl_buf_printf(&y, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
                          "metadata: {name: cr-%d}\nrules:\n- resourceNames: [",
                      r);
        for (int i = 0; i < 400; i++)
            pl_buf_printf(&y, "%scm-%d", i ? ", " : "", i);
        pl_buf_puts(&y, "]\n");
    }
    load(m, y.ptr);
    pl_buf_dispose(&y);
}

static void test_kz_nameref__threads_same_result(void **state)
{
    pl_kz_resmap seq, par;
    pl_kz_tconfig tc;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    int spare = 3;
    pl_kz_workers w = {&lock, &spare};
    pl_kz_ctx ctx;
    pl_kz_res *cm;
    (void)state;

    hand_tconfig(&tc);
    memset(&ctx, 0, sizeof(ctx));
    ctx.workers = &w;
    big_map(&seq);
    big_map(&par);
    assert_int_equal(pl_kz_nameref_fix(&seq, &tc), 0);
    assert_int_equal(pl_kz_nameref_fix_ctx(&ctx, &par, &tc), 0);
    assert_int_equal(spare, 3);
    assert_int_equal(seq.n, par.n);
    for (size_t i = 0; i < seq.n; i++) {
        assert_true(json_equal(seq.v[i]->obj, par.v[i]->obj));
        /* who refers to whom, in the same order */
        assert_true((!seq.v[i]->ref_by && !par.v[i]->ref_by) ||
                    json_equal(seq.v[i]->ref_by, par.v[i]->ref_by));
    }
    assert_string_equal(str_at(find(&par, "Deployment", "d-7")->obj,
                               "spec.template.spec.volumes.0.configMap.name"),
                        "p-cm-7");
    assert_string_equal(str_at(find(&par, "Deployment", "d-399")->obj,
                               "spec.template.spec.containers.0.envFrom.0.configMapRef.name"),
                        "p-cm-0");
    assert_string_equal(str_at(find(&par, "ClusterRole", "cr-1")->obj, "rules.0.resourceNames.250"),
                        "p-cm-250");
    /* cm-7 is named by d-6 (envFrom) before d-7 (volume), then by both ClusterRoles */
    cm = find(&par, "ConfigMap", "p-cm-7");
    assert_int_equal(json_array_size(cm->ref_by), 4);
    assert_string_equal(str_at(cm->ref_by, "0.name"), "d-6");
    assert_string_equal(str_at(cm->ref_by, "1.name"), "d-7");
    assert_string_equal(str_at(cm->ref_by, "2.name"), "cr-0");
    assert_string_equal(str_at(cm->ref_by, "3.name"), "cr-1");
    pl_kz_resmap_dispose(&seq);
    pl_kz_resmap_dispose(&par);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kz_nameref__scalar_and_list_values),
        cmocka_unit_test(test_kz_nameref__same_namespace_only),
        cmocka_unit_test(test_kz_nameref__subjects_namespaces),
        cmocka_unit_test(test_kz_nameref__prefix_suffix_disambiguation),
        cmocka_unit_test(test_kz_nameref__ambiguous_referral),
        cmocka_unit_test(test_kz_nameref__rolebinding_blank_namespace),
        cmocka_unit_test(test_kz_nameref__roleref_kind),
        cmocka_unit_test(test_kz_nameref__original_kind_selects_referrer),
        cmocka_unit_test(test_kz_nameref__large_build_is_fast),
        cmocka_unit_test(test_kz_nameref__default_table),
        cmocka_unit_test(test_kz_nameref__threads_same_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
