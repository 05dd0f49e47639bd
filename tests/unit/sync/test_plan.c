/* Sync planning: phases, waves, kind order, dependency bubbling, hooks, ApplySet ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "plumb/sync.h"

static json_t *objs_from(const char *yaml)
{
    json_t *out = NULL;
    pl_yaml_opts o = PL_YAML_OPTS_INIT;
    assert_int_equal(pl_yaml_parse(&out, yaml, strlen(yaml), "test.yaml", &o), 0);
    return out;
}

/* "phase/wave/Kind/name" per task, joined by spaces. */
static char *describe(const pl_sync_plan *p)
{
    pl_buf b = PL_BUF_INIT;
    for (size_t i = 0; i < p->ntasks; i++) {
        const char *name = pl_json_str(p->tasks[i].obj, "metadata", "name", NULL);
        pl_buf_printf(&b, "%s%d/%d/%s/%s", i ? " " : "", (int)p->tasks[i].phase, p->tasks[i].wave,
                      pl_json_str(p->tasks[i].obj, "kind", NULL), name ? name : "?");
    }
    return pl_buf_detach(&b);
}

static void test_sync_plan__kind_order_and_name(void **state)
{
    (void)state;
    json_t *o = objs_from("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\n"
                          "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: a}\n"
                          "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: a}\n"
                          "---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"
                          "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: a}\n");
    pl_sync_plan p;
    assert_int_equal(pl_sync_plan_build(&p, o), 0);
    char *d = describe(&p);
    assert_string_equal(d, "0/0/ConfigMap/a 0/0/ConfigMap/b 0/0/Service/web 0/0/Deployment/web "
                           "0/0/Widget/w");
    pl_free(d);
    pl_sync_plan_free(&p);
    json_decref(o);
}

static void test_sync_plan__waves_and_hooks(void **state)
{
    (void)state;
    json_t *o = objs_from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: late, namespace: a, annotations: {argocd.argoproj.io/sync-wave: '5'}}\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: early, namespace: a, annotations: {argocd.argoproj.io/sync-wave: '-2'}}\n"
        "---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate, namespace: a, annotations: {argocd.argoproj.io/hook: PreSync}}\n"
        "---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: smoke, namespace: a, annotations: {argocd.argoproj.io/hook: 'PostSync,SyncFail', argocd.argoproj.io/hook-delete-policy: HookSucceeded}}\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: skipped, namespace: a, annotations: {argocd.argoproj.io/hook: Skip}}\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: mid, namespace: a}\n");
    pl_sync_plan p;
    assert_int_equal(pl_sync_plan_build(&p, o), 0);
    char *d = describe(&p);
    assert_string_equal(d, "-1/0/Job/migrate 0/-2/ConfigMap/early 0/0/ConfigMap/mid "
                           "0/5/ConfigMap/late 1/0/Job/smoke 2/0/Job/smoke");
    assert_true(p.tasks[0].is_hook);
    assert_int_equal(p.tasks[0].hook_delete, PL_HOOK_DEL_BEFORE_CREATION);
    assert_int_equal(p.tasks[4].hook_delete, PL_HOOK_DEL_SUCCEEDED);
    assert_false(p.tasks[1].is_hook);
    pl_free(d);
    pl_sync_plan_free(&p);
    json_decref(o);
}

/* A namespace and a CRD in later waves are pulled in front of their first user. */
static void test_sync_plan__dependencies_bubble_up(void **state)
{
    (void)state;
    json_t *o = objs_from(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: team, annotations: {argocd.argoproj.io/sync-wave: '3'}}\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: team, annotations: {argocd.argoproj.io/sync-wave: '1'}}\n"
        "---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com, annotations: {argocd.argoproj.io/sync-wave: '2'}}\n"
        "spec: {group: example.com, names: {kind: Widget, plural: widgets}}\n"
        "---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, annotations: {argocd.argoproj.io/sync-wave: '-1'}}\n");
    pl_sync_plan p;
    assert_int_equal(pl_sync_plan_build(&p, o), 0);
    char *d = describe(&p);
    assert_string_equal(d, "0/-1/CustomResourceDefinition/widgets.example.com 0/-1/Widget/w "
                           "0/1/Namespace/team 0/1/ConfigMap/cfg");
    pl_free(d);
    pl_sync_plan_free(&p);
    json_decref(o);
}

static void test_sync_plan__bad_annotations(void **state)
{
    (void)state;
    json_t *o = objs_from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: a, "
                          "annotations: {argocd.argoproj.io/sync-wave: 'soon'}}\n");
    pl_sync_plan p;
    assert_int_equal(pl_sync_plan_build(&p, o), PL_EINVALID);
    assert_non_null(strstr(pl_error_last()->message, "ConfigMap/a/x"));
    assert_non_null(strstr(pl_error_last()->message, "soon"));
    json_decref(o);
    o = objs_from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: a, "
                  "annotations: {argocd.argoproj.io/hook: PreSink}}\n");
    assert_int_equal(pl_sync_plan_build(&p, o), PL_EINVALID);
    assert_non_null(strstr(pl_error_last()->message, "unknown hook type \"PreSink\""));
    json_decref(o);
}

static void test_sync_options__parse(void **state)
{
    (void)state;
    assert_int_equal(pl_sync_options_parse("Prune=false, Replace=true,Validate=false"),
                     PL_SOPT_PRUNE_FALSE | PL_SOPT_REPLACE);
    assert_int_equal(pl_sync_options_parse(NULL), 0);
    assert_int_equal(pl_sync_options_parse("PruneLast=true,SkipDryRunOnMissingResource=true"),
                     PL_SOPT_PRUNE_LAST | PL_SOPT_SKIP_DRYRUN_MISSING);
}

/* kubectl's own test vector (staging/src/k8s.io/kubectl/pkg/cmd/apply/applyset_test.go). */
static void test_applyset__id(void **state)
{
    (void)state;
    char id[64];
    pl_applyset_id(id, "test-foo", "test-ns", "Foo", "foo.bar");
    assert_string_equal(id, "applyset-f9Rk5tKHoB72oV1tU2iFKxDwL8MBZTjMHFQ8V9WNNlA-v1");
}

static void test_applyset__group_kinds(void **state)
{
    (void)state;
    json_t *o = objs_from("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n"
                          "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"
                          "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: c}\n");
    char *gk = pl_applyset_group_kinds(o);
    assert_string_equal(gk, "ConfigMap,Deployment.apps");
    pl_free(gk);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_plan__kind_order_and_name),
        cmocka_unit_test(test_sync_plan__waves_and_hooks),
        cmocka_unit_test(test_sync_plan__dependencies_bubble_up),
        cmocka_unit_test(test_sync_plan__bad_annotations),
        cmocka_unit_test(test_sync_options__parse),
        cmocka_unit_test(test_applyset__id),
        cmocka_unit_test(test_applyset__group_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
