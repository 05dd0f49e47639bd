/* Health checks: the built-in kinds, OLM, MaaS phases and kstatus conditions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "plumb/sync.h"

static json_t *obj(const char *yaml)
{
    json_t *docs = NULL;
    pl_yaml_opts o = PL_YAML_OPTS_INIT;
    assert_int_equal(pl_yaml_parse(&docs, yaml, strlen(yaml), "t.yaml", &o), 0);
    json_t *one = json_incref(json_array_get(docs, 0));
    json_decref(docs);
    return one;
}

static pl_health judge(const char *yaml)
{
    pl_health h;
    json_t *o = obj(yaml);
    pl_health_assess(&h, o, NULL, NULL);
    json_decref(o);
    return h;
}

static void test_health__deployment(void **state)
{
    (void)state;
    pl_health h = judge("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, generation: 2}\n"
                        "spec: {replicas: 3}\nstatus: {observedGeneration: 1}\n");
    assert_int_equal(h.status, PL_HEALTH_PROGRESSING);
    assert_string_equal(h.message, "Waiting for rollout to finish: observed deployment generation "
                                   "less than desired generation");
    h = judge("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, generation: 2}\n"
              "spec: {replicas: 3}\nstatus: {observedGeneration: 2, replicas: 3, updatedReplicas: 1}\n");
    assert_int_equal(h.status, PL_HEALTH_PROGRESSING);
    assert_string_equal(h.message, "Waiting for rollout to finish: 1 out of 3 new replicas have "
                                   "been updated...");
    h = judge("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, generation: 2}\n"
              "spec: {replicas: 3}\nstatus: {observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3}\n");
    assert_int_equal(h.status, PL_HEALTH_HEALTHY);
    h = judge("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {paused: true}\n");
    assert_int_equal(h.status, PL_HEALTH_SUSPENDED);
    h = judge("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, generation: 1}\n"
              "status: {observedGeneration: 1, conditions: [{type: Progressing, status: 'False', reason: ProgressDeadlineExceeded}]}\n");
    assert_int_equal(h.status, PL_HEALTH_DEGRADED);
    assert_string_equal(h.message, "Deployment \"web\" exceeded its progress deadline");
}

static void test_health__job_pvc_service_crd(void **state)
{
    (void)state;
    assert_int_equal(judge("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n"
                           "status: {conditions: [{type: Complete, status: 'True'}]}\n").status,
                     PL_HEALTH_HEALTHY);
    assert_int_equal(judge("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n"
                           "status: {conditions: [{type: Failed, status: 'True', message: BackoffLimitExceeded}]}\n").status,
                     PL_HEALTH_DEGRADED);
    assert_int_equal(judge("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n").status,
                     PL_HEALTH_PROGRESSING);
    assert_int_equal(judge("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c}\n"
                           "status: {phase: Bound}\n").status, PL_HEALTH_HEALTHY);
    assert_int_equal(judge("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: LoadBalancer}\n").status,
                     PL_HEALTH_PROGRESSING);
    assert_int_equal(judge("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: ClusterIP}\n").status,
                     PL_HEALTH_HEALTHY);
    assert_int_equal(judge("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
                           "metadata: {name: a.b}\nstatus: {conditions: [{type: Established, status: 'True'}]}\n").status,
                     PL_HEALTH_HEALTHY);
    assert_int_equal(judge("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
                           "metadata: {name: a.b}\nstatus: {conditions: null}\n").status,
                     PL_HEALTH_PROGRESSING);
    assert_int_equal(judge("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, deletionTimestamp: '2026-01-01T00:00:00Z'}\n").status,
                     PL_HEALTH_PROGRESSING);
    pl_health h;
    pl_health_assess(&h, NULL, NULL, NULL);
    assert_int_equal(h.status, PL_HEALTH_MISSING);
}

static json_t *csv_lookup(void *payload, const char *av, const char *kind, const char *ns,
                          const char *name)
{
    (void)av;
    assert_string_equal(kind, "ClusterServiceVersion");
    assert_string_equal(ns, "openshift-nfd");
    assert_string_equal(name, "nfd.v4.18.0");
    return obj((const char *)payload);
}

static void test_health__olm_subscription(void **state)
{
    (void)state;
    json_t *sub = obj("apiVersion: operators.coreos.com/v1alpha1\nkind: Subscription\n"
                      "metadata: {name: nfd, namespace: openshift-nfd}\n"
                      "status: {installedCSV: nfd.v4.18.0, state: AtLatestKnown}\n");
    pl_health h;
    pl_health_assess(&h, sub, csv_lookup,
                     "apiVersion: operators.coreos.com/v1alpha1\nkind: ClusterServiceVersion\n"
                     "metadata: {name: nfd.v4.18.0}\nstatus: {phase: Installing}\n");
    assert_int_equal(h.status, PL_HEALTH_PROGRESSING);
    assert_string_equal(h.message, "nfd.v4.18.0: ClusterServiceVersion phase Installing");
    pl_health_assess(&h, sub, csv_lookup,
                     "apiVersion: operators.coreos.com/v1alpha1\nkind: ClusterServiceVersion\n"
                     "metadata: {name: nfd.v4.18.0}\nstatus: {phase: Succeeded}\n");
    assert_int_equal(h.status, PL_HEALTH_HEALTHY);
    json_decref(sub);
    assert_int_equal(judge("apiVersion: operators.coreos.com/v1alpha1\nkind: Subscription\n"
                           "metadata: {name: nfd, namespace: x}\nspec: {installPlanApproval: Manual}\n"
                           "status: {state: UpgradePending}\n").status, PL_HEALTH_PROGRESSING);
}

static void test_health__maas_and_kstatus(void **state)
{
    (void)state;
    assert_int_equal(judge("apiVersion: maas.opendatahub.io/v1alpha1\nkind: MaaSModelRef\n"
                           "metadata: {name: m}\nstatus: {phase: Ready}\n").status, PL_HEALTH_HEALTHY);
    assert_int_equal(judge("apiVersion: maas.opendatahub.io/v1alpha1\nkind: MaaSModelRef\n"
                           "metadata: {name: m}\nstatus: {phase: Failed}\n").status, PL_HEALTH_DEGRADED);
    assert_int_equal(judge("apiVersion: maas.opendatahub.io/v1alpha1\nkind: MaaSModelRef\n"
                           "metadata: {name: m}\n").status, PL_HEALTH_PROGRESSING);
    pl_health h = judge("apiVersion: serving.kserve.io/v1alpha1\nkind: LLMInferenceService\n"
                        "metadata: {name: l, generation: 3}\n"
                        "status: {observedGeneration: 3, conditions: [{type: Ready, status: 'False', reason: Deploying}]}\n");
    assert_int_equal(h.status, PL_HEALTH_PROGRESSING);
    assert_string_equal(h.message, "Ready=False: Deploying");
    assert_int_equal(judge("apiVersion: serving.kserve.io/v1alpha1\nkind: LLMInferenceService\n"
                           "metadata: {name: l, generation: 3}\n"
                           "status: {observedGeneration: 2, conditions: [{type: Ready, status: 'True'}]}\n").status,
                     PL_HEALTH_PROGRESSING);
    assert_int_equal(judge("apiVersion: serving.kserve.io/v1alpha1\nkind: LLMInferenceService\n"
                           "metadata: {name: l, generation: 3}\n"
                           "status: {observedGeneration: 3, conditions: [{type: Ready, status: 'True'}]}\n").status,
                     PL_HEALTH_HEALTHY);
    assert_int_equal(judge("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n").status,
                     PL_HEALTH_HEALTHY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health__deployment),
        cmocka_unit_test(test_health__job_pvc_service_crd),
        cmocka_unit_test(test_health__olm_subscription),
        cmocka_unit_test(test_health__maas_and_kstatus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
