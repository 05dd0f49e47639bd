/*
 * test_fieldspec.c - field spec lists, gvk matching and the path walk (kz_fieldspec.c).
 *
 * The walk cases follow kustomize's api/filters/fieldspec Filter: lists are entered with or
 * without "[]", "[]" fields are never created (a null one becomes []), create makes missing
 * maps, "\/" escapes a slash inside a key, a scalar met with parts remaining is an error.
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

static json_t *parse1(const char *yaml)
{
    json_t *docs = NULL, *doc;
    assert_int_equal(pl_yaml_parse(&docs, yaml, strlen(yaml), "test", NULL), 0);
    doc = json_incref(json_array_get(docs, 0));
    json_decref(docs);
    assert_non_null(doc);
    return doc;
}

static void assert_yaml(const json_t *obj, const char *want)
{
    pl_buf b = PL_BUF_INIT;
    assert_int_equal(pl_yaml_emit(&b, obj), 0);
    assert_string_equal(b.ptr ? b.ptr : "", want);
    pl_buf_dispose(&b);
}

/* callback: a null slot becomes "X", a string gets "!" appended; counts calls */
typedef struct counter {
    int calls;
} counter;

static int mark(json_t **slot, const char *path, void *payload)
{
    counter *c = payload;
    (void)path;
    c->calls++;
    if (json_is_null(*slot)) {
        *slot = json_string("X");
    } else if (json_is_string(*slot)) {
        char buf[256];
        snprintf(buf, sizeof(buf), "%s!", json_string_value(*slot));
        *slot = json_string(buf);
    }
    return 0;
}

static int apply(json_t *obj, const char *kind, const char *group, const char *path, int create,
                 counter *c)
{
    pl_kz_fieldspec fs = {(char *)group, NULL, (char *)kind, (char *)path, create};
    return pl_kz_fieldspec_apply(obj, &fs, mark, c);
}

static void test_kz_fieldspec__lists_entered_without_brackets(void **state)
{
    json_t *o = parse1("kind: Deployment\napiVersion: apps/v1\nspec:\n  containers:\n"
                       "  - image: a\n  - image: b\n  - name: c\n");
    counter c = {0};
    (void)state;
    assert_int_equal(apply(o, NULL, NULL, "spec/containers/image", 0, &c), 0);
    assert_int_equal(c.calls, 2);
    assert_yaml(o, "apiVersion: apps/v1\nkind: Deployment\nspec:\n  containers:\n  - image: a!\n"
                   "  - image: b!\n  - name: c\n");
    json_decref(o);
}

static void test_kz_fieldspec__create_makes_maps_and_null_final(void **state)
{
    json_t *o = parse1("kind: Service\napiVersion: v1\n");
    counter c = {0};
    (void)state;
    assert_int_equal(apply(o, "Service", NULL, "metadata/annotations/a.b\\/c", 1, &c), 0);
    assert_int_equal(c.calls, 1);
    assert_yaml(o, "apiVersion: v1\nkind: Service\nmetadata:\n  annotations:\n    a.b/c: X\n");
    json_decref(o);
}

static void test_kz_fieldspec__missing_without_create_is_quiet(void **state)
{
    json_t *o = parse1("kind: Service\napiVersion: v1\nmetadata:\n  name: x\n");
    counter c = {0};
    (void)state;
    assert_int_equal(apply(o, NULL, NULL, "spec/selector", 0, &c), 0);
    assert_int_equal(c.calls, 0);
    assert_yaml(o, "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n");
    json_decref(o);
}

static void test_kz_fieldspec__brackets_never_create(void **state)
{
    /* spec is created (intermediate map), volumeClaimTemplates[] is not: kustomize leaves
     * the empty spec behind */
    json_t *o = parse1("kind: StatefulSet\napiVersion: apps/v1\n");
    json_t *n = parse1("kind: StatefulSet\napiVersion: apps/v1\nspec:\n  vct: null\n");
    counter c = {0};
    (void)state;
    assert_int_equal(apply(o, NULL, NULL, "spec/vct[]/metadata/labels", 1, &c), 0);
    assert_int_equal(c.calls, 0);
    assert_yaml(o, "apiVersion: apps/v1\nkind: StatefulSet\nspec: {}\n");
    /* a null list field becomes an empty list */
    assert_int_equal(apply(n, NULL, NULL, "spec/vct[]/metadata/labels", 1, &c), 0);
    assert_int_equal(c.calls, 0);
    assert_yaml(n, "apiVersion: apps/v1\nkind: StatefulSet\nspec:\n  vct: []\n");
    json_decref(o);
    json_decref(n);
}

static void test_kz_fieldspec__null_intermediate(void **state)
{
    json_t *a = parse1("kind: A\nspec: null\n");
    json_t *b = parse1("kind: A\nspec: null\n");
    counter c = {0};
    (void)state;
    /* without create a null ends the walk */
    assert_int_equal(apply(a, NULL, NULL, "spec/x", 0, &c), 0);
    assert_int_equal(c.calls, 0);
    assert_yaml(a, "kind: A\nspec: null\n");
    /* with create it becomes a map */
    assert_int_equal(apply(b, NULL, NULL, "spec/x", 1, &c), 0);
    assert_int_equal(c.calls, 1);
    assert_yaml(b, "kind: A\nspec:\n  x: X\n");
    json_decref(a);
    json_decref(b);
}

static void test_kz_fieldspec__scalar_in_the_way_is_an_error(void **state)
{
    json_t *o = parse1("kind: A\nmetadata:\n  name: n\nspec: text\n");
    counter c = {0};
    (void)state;
    assert_int_equal(apply(o, NULL, NULL, "spec/x", 1, &c), PL_EINVALID);
    assert_non_null(strstr(pl_error_last()->message, "expected sequence or mapping node"));
    json_decref(o);
}

static void test_kz_fieldspec__gvk_matching(void **state)
{
    json_t *core = parse1("apiVersion: v1\nkind: Service\n");
    json_t *apps = parse1("apiVersion: apps/v1\nkind: Deployment\n");
    json_t *odd = parse1("apiVersion: foo\nkind: Thing\n");
    pl_kz_fieldspec any = {NULL, NULL, NULL, (char *)"x", 0};
    pl_kz_fieldspec svc = {NULL, (char *)"v1", (char *)"Service", (char *)"x", 0};
    pl_kz_fieldspec core_grp = {(char *)"", NULL, (char *)"Service", (char *)"x", 0};
    pl_kz_fieldspec apps_grp = {(char *)"apps", NULL, NULL, (char *)"x", 0};
    pl_kz_fieldspec lower = {NULL, NULL, (char *)"deployment", (char *)"x", 0};
    pl_kz_fieldspec foo_grp = {(char *)"foo", NULL, NULL, (char *)"x", 0};
    (void)state;
    assert_true(pl_kz_fieldspec_matches(&any, core));
    assert_true(pl_kz_fieldspec_matches(&svc, core));
    assert_false(pl_kz_fieldspec_matches(&svc, apps));
    assert_true(pl_kz_fieldspec_matches(&core_grp, core));
    assert_true(pl_kz_fieldspec_matches(&apps_grp, apps));
    assert_false(pl_kz_fieldspec_matches(&apps_grp, core));
    assert_false(pl_kz_fieldspec_matches(&lower, apps)); /* kind is exact */
    /* a slash-less apiVersion that does not look like v1/v2 is a group (parseGV quirk) */
    assert_true(pl_kz_fieldspec_matches(&foo_grp, odd));
    json_decref(core);
    json_decref(apps);
    json_decref(odd);
}

static void test_kz_fieldspec__nested_lists_and_kind_filter(void **state)
{
    json_t *o = parse1("apiVersion: v1\nkind: Pod\nspec:\n  volumes:\n  - projected:\n"
                       "      sources:\n      - configMap:\n          name: a\n"
                       "      - secret:\n          name: s\n");
    counter c = {0};
    (void)state;
    assert_int_equal(apply(o, "Deployment", NULL, "spec/volumes/projected/sources/configMap/name",
                           0, &c),
                     0);
    assert_int_equal(c.calls, 0);
    assert_int_equal(apply(o, "Pod", NULL, "spec/volumes/projected/sources/configMap/name", 0, &c),
                     0);
    assert_int_equal(c.calls, 1);
    assert_string_equal(pl_json_str(json_array_get(pl_json_path(json_array_get(pl_json_path(
                                                                    o, "spec", "volumes", NULL),
                                                                                0),
                                                                "projected", "sources", NULL),
                                                   0),
                                    "configMap", "name", NULL),
                        "a!");
    json_decref(o);
}

static void test_kz_fieldspec__fslist_add_and_json(void **state)
{
    pl_kz_fslist l, c;
    pl_kz_fieldspec a = {NULL, NULL, (char *)"Deployment", (char *)"spec/x", 0};
    pl_kz_fieldspec b = {NULL, NULL, (char *)"Deployment", (char *)"spec/x", 1};
    json_t *in = parse1("- kind: Foo\n  Path: a/b\n  CREATE: true\n- path: c\n- path: c\n");
    json_t *out;
    char *s;
    (void)state;
    memset(&l, 0, sizeof(l));
    assert_int_equal(pl_kz_fslist_add(&l, &a), 0);
    assert_int_equal(pl_kz_fslist_add(&l, &b), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.v[0].create, 1); /* create OR'ed */
    /* plugin configs keep duplicates; keys decode case-insensitively */
    assert_int_equal(pl_kz_fslist_add_json(&l, in), 0);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.v[1].path, "a/b");
    assert_int_equal(l.v[1].create, 1);
    assert_int_equal(pl_kz_fslist_copy(&c, &l), 0);
    out = pl_kz_fslist_to_json(&c);
    s = json_dumps(out, JSON_COMPACT);
    assert_string_equal(s, "[{\"kind\":\"Deployment\",\"path\":\"spec/x\",\"create\":true},"
                           "{\"kind\":\"Foo\",\"path\":\"a/b\",\"create\":true},{\"path\":\"c\"},"
                           "{\"path\":\"c\"}]");
    free(s);
    json_decref(out);
    json_decref(in);
    pl_kz_fslist_dispose(&l);
    pl_kz_fslist_dispose(&c);
    memset(&l, 0, sizeof(l));
    in = json_string("x");
    assert_int_equal(pl_kz_fslist_add_json(&l, in), PL_EINVALID);
    json_decref(in);
    pl_kz_fslist_dispose(&l);
}

static void test_kz_fieldspec__prepared_list(void **state)
{
    json_t *o = parse1("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n"
                       "  annotations:\n    a/b: v\n");
    json_t *specs = parse1("- path: metadata/name\n- path: metadata/annotations/a\\/b\n"
                           "- path: spec/x\n  create: true\n  kind: Service\n"
                           "- path: spec/y[]\n  create: true\n");
    pl_kz_fslist l;
    pl_kz_fsprep *p = NULL;
    pl_kz_objgvk g;
    counter c = {0};
    (void)state;
    memset(&l, 0, sizeof(l));
    assert_int_equal(pl_kz_fslist_add_json(&l, specs), 0);
    assert_int_equal(pl_kz_fsprep_new(&p, &l), 0);
    pl_kz_objgvk_of(&g, o);
    assert_string_equal(g.kind, "Deployment");
    assert_int_equal(g.glen, 4);
    assert_string_equal(g.version, "v1");
    for (size_t i = 0; i < l.n; i++)
        if (pl_kz_fieldspec_matches_gvk(&l.v[i], &g))
            assert_int_equal(pl_kz_fsprep_walk(p, i, o, l.v[i].create, mark, &c), 0);
    assert_int_equal(c.calls, 2);
    /* spec/y[] created spec (an intermediate map) but not the list */
    assert_yaml(o, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  annotations:\n"
                   "    a/b: v!\n  name: d!\nspec: {}\n");
    /* create is the caller's choice: kustomize's image filter ignores it */
    assert_int_equal(pl_kz_fsprep_walk(p, 2, o, 0, mark, &c), 0);
    assert_int_equal(c.calls, 2);
    pl_kz_fsprep_free(p);
    pl_kz_fslist_dispose(&l);
    json_decref(specs);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kz_fieldspec__lists_entered_without_brackets),
        cmocka_unit_test(test_kz_fieldspec__create_makes_maps_and_null_final),
        cmocka_unit_test(test_kz_fieldspec__missing_without_create_is_quiet),
        cmocka_unit_test(test_kz_fieldspec__brackets_never_create),
        cmocka_unit_test(test_kz_fieldspec__null_intermediate),
        cmocka_unit_test(test_kz_fieldspec__scalar_in_the_way_is_an_error),
        cmocka_unit_test(test_kz_fieldspec__gvk_matching),
        cmocka_unit_test(test_kz_fieldspec__nested_lists_and_kind_filter),
        cmocka_unit_test(test_kz_fieldspec__fslist_add_and_json),
        cmocka_unit_test(test_kz_fieldspec__prepared_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
