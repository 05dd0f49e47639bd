/*
 * test_resmap.c - resource helpers of kz_resmap.c (copy, field access, previous ids) and the
 * strategic merge shortcut for parts of a target that a patch does not mention (kz_smp.c).
 *
 * The SMP expectations were produced by `kubectl kustomize` (kustomize v5.5) with the target
 * as resource and the patch under `patches:`.
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

static void assert_yaml(const json_t *doc, const char *want)
{
    pl_buf out = PL_BUF_INIT;

    assert_int_equal(pl_yaml_emit(&out, doc), 0);
    assert_string_equal(out.ptr ? out.ptr : "", want);
    pl_buf_dispose(&out);
}

static void test_kz_resmap__json_copy_is_deep_and_ordered(void **state)
{
    json_t *src = json_pack("{s:s,s:[i,f,b,n],s:{s:s}}", "z", "1", "a", 7, 1.5, 1, "m", "k", "v");
    json_t *nul = json_stringn("a\0b", 3), *c;

    (void)state;
    json_object_set_new(src, "nul", nul);
    c = pl_kz_json_copy(src);
    assert_non_null(c);
    assert_true(json_equal(c, src));
    /* same key order as the source */
    assert_string_equal(json_object_iter_key(json_object_iter(c)), "z");
    assert_int_equal(json_string_length(json_object_get(c, "nul")), 3);
    assert_true(json_is_real(json_array_get(json_object_get(c, "a"), 1)));
    /* independent of the source */
    assert_ptr_not_equal(json_object_get(c, "m"), json_object_get(src, "m"));
    json_object_set_new(json_object_get(src, "m"), "k", json_string("changed"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(c, "m"), "k")), "v");
    assert_null(pl_kz_json_copy(NULL));
    json_decref(c);
    json_decref(src);
}

static void test_kz_resmap__obj_get(void **state)
{
    json_t *o = json_pack("{s:i,s:i,s:i,s:i,s:i,s:i}", "names", 1, "a", 2, "b", 3, "c", 4, "d", 5,
                          "name", 6);

    (void)state;
    assert_int_equal(json_integer_value(pl_kz_obj_get(o, "a")), 2);
    /* beyond the first keys: the hash lookup */
    assert_int_equal(json_integer_value(pl_kz_obj_get(o, "name")), 6);
    assert_int_equal(json_integer_value(pl_kz_obj_get(o, "names")), 1);
    assert_null(pl_kz_obj_get(o, "nam"));
    assert_null(pl_kz_obj_get(o, "missing"));
    assert_null(pl_kz_obj_get(json_object_get(o, "a"), "a"));
    assert_null(pl_kz_obj_get(NULL, "a"));
    json_decref(o);
}

static void test_kz_resmap__store_previous_id_appends(void **state)
{
    pl_kz_res *r = pl_kz_res_new_take(parse1("apiVersion: v1\n"
                                             "kind: ConfigMap\n"
                                             "metadata:\n"
                                             "  name: a\n"));

    (void)state;
    assert_non_null(r);
    assert_int_equal(pl_kz_res_store_previous_id(r), 0);
    json_object_set_new(json_object_get(r->obj, "metadata"), "name", json_string("b"));
    json_object_set_new(json_object_get(r->obj, "metadata"), "namespace", json_string("ns"));
    assert_int_equal(pl_kz_res_store_previous_id(r), 0);
    assert_string_equal(pl_kz_res_annotation(r, PL_KZ_ANN_PREV_NAMES), "a,b");
    assert_string_equal(pl_kz_res_annotation(r, PL_KZ_ANN_PREV_KINDS), "ConfigMap,ConfigMap");
    assert_string_equal(pl_kz_res_annotation(r, PL_KZ_ANN_PREV_NAMESPACES), "default,ns");
    assert_string_equal(pl_kz_res_name(r), "b");
    assert_string_equal(pl_kz_res_namespace(r), "ns");
    pl_kz_res_free(r);
}

static void smp(const char *target, const char *patch, const char *want)
{
    json_t *t = parse1(target), *p = parse1(patch);

    assert_int_equal(pl_kz_smp_apply(&t, p, NULL), 0);
    assert_yaml(t, want);
    json_decref(t);
    json_decref(p);
}

/* A merge list the patch does not mention is still normalised when it is not plain: the
 * duplicate container name keeps the last element, the element without a key goes. */
static void test_kz_resmap__smp_untouched_list_with_duplicates(void **state)
{
    (void)state;
    smp("apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        "  name: web\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "      - {name: a, image: x}\n"
        "      - {name: a, image: y}\n"
        "      - {name: b, image: z}\n"
        "      initContainers:\n"
        "      - image: noname\n",
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        "  name: web\n"
        "  labels: {x: y}\n",
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        "  labels:\n"
        "    x: \"y\"\n"
        "  name: web\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "      - image: \"y\"\n"
        "        name: a\n"
        "      - image: z\n"
        "        name: b\n"
        "      initContainers:\n"
        "      - image: noname\n");
}

/* Plain lists the patch does not mention keep their order, two-key lists included. */
static void test_kz_resmap__smp_untouched_plain_lists_kept(void **state)
{
    (void)state;
    smp("apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        "  name: web\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "      - name: a\n"
        "        ports:\n"
        "        - {containerPort: 81, protocol: UDP}\n"
        "        - {containerPort: 80, protocol: TCP}\n"
        "        - {containerPort: 80, protocol: UDP}\n"
        "      - name: b\n",
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        "  name: web\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "      - {name: b, image: zz}\n",
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        "  name: web\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "      - image: zz\n"
        "        name: b\n"
        "      - name: a\n"
        "        ports:\n"
        "        - containerPort: 81\n"
        "          protocol: UDP\n"
        "        - containerPort: 80\n"
        "          protocol: TCP\n"
        "        - containerPort: 80\n"
        "          protocol: UDP\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kz_resmap__json_copy_is_deep_and_ordered),
        cmocka_unit_test(test_kz_resmap__obj_get),
        cmocka_unit_test(test_kz_resmap__store_previous_id_appends),
        cmocka_unit_test(test_kz_resmap__smp_untouched_list_with_duplicates),
        cmocka_unit_test(test_kz_resmap__smp_untouched_plain_lists_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
