/*
 * test_smp.c - strategic merge patch as kustomize v5 applies it (kz_smp.c).
 *
 * Every expected output below was produced by `kubectl kustomize` (kustomize v5.5) on a
 * kustomization with the target as resource and the patch under `patches:`; the table
 * pins the kyaml merge2 behaviours kz_smp.c reproduces: patch elements first (prepend),
 * two-key lists (ports), primitive sets, directives, elements without merge key, target list
 * normalisation, schema-less CRDs, nested apiVersion/kind, and a custom openapi schema.
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

/* want: expected YAML; NULL: the resource is deleted; SMP_ERROR: an error */
#define SMP_ERROR "<error>"

/* A custom schema in the shape of kustomize's openapicustomschema tests. */
static const char schema_json[] =
    "{\"definitions\": {\n"
    " \"v1alpha1.MyCRD\": {\n"
    "  \"x-kubernetes-group-version-kind\": [\n"
    "   {\"group\": \"example.com\", \"kind\": \"MyCRD\", \"version\": \"v1alpha1\"}],\n"
    "  \"properties\": {\n"
    "   \"metadata\": {\"type\": \"object\"},\n"
    "   \"spec\": {\"properties\": {\n"
    "    \"template\": {\"$ref\": \"#/definitions/io.k8s.api.core.v1.PodTemplateSpec\"}}}}},\n"
    " \"io.k8s.api.core.v1.PodTemplateSpec\": {\"properties\": {\n"
    "  \"spec\": {\"$ref\": \"#/definitions/io.k8s.api.core.v1.PodSpec\"}}},\n"
    " \"io.k8s.api.core.v1.PodSpec\": {\"properties\": {\n"
    "  \"containers\": {\"type\": \"array\",\n"
    "   \"items\": {\"$ref\": \"#/definitions/io.k8s.api.core.v1.Container\"},\n"
    "   \"x-kubernetes-patch-merge-key\": \"name\",\n"
    "   \"x-kubernetes-patch-strategy\": \"merge\"}}},\n"
    " \"io.k8s.api.core.v1.Container\": {\"properties\": {\n"
    "  \"ports\": {\"type\": \"array\", \"items\": {\"type\": \"object\"},\n"
    "   \"x-kubernetes-list-map-keys\": [\"containerPort\", \"protocol\"],\n"
    "   \"x-kubernetes-patch-merge-key\": \"containerPort\",\n"
    "   \"x-kubernetes-patch-strategy\": \"merge\"}}}}}\n";
#define SCHEMA schema_json

typedef struct smp_case {
    const char *name, *target, *patch, *openapi, *want;
} smp_case;

static const smp_case cases[] = {
    {"containers_patch_first_then_target",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - {name: a, image: a}\n"
     "      - {name: b, image: b}\n",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - {name: c, image: c}\n"
     "      - {name: a, image: a2}\n",
     NULL,
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - image: c\n"
     "        name: c\n"
     "      - image: a2\n"
     "        name: a\n"
     "      - image: b\n"
     "        name: b\n"},
    {"ports_two_keys",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - name: a\n"
     "        ports:\n"
     "        - {containerPort: 80, protocol: TCP, name: http}\n"
     "        - {containerPort: 53, protocol: UDP, name: dns}\n",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - name: a\n"
     "        ports:\n"
     "        - {containerPort: 53, protocol: TCP, name: dnstcp}\n"
     "        - {containerPort: 80, name: http2}\n"
     "        - {containerPort: 8080, protocol: TCP}\n",
     NULL,
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - name: a\n"
     "        ports:\n"
     "        - containerPort: 53\n"
     "          name: dnstcp\n"
     "          protocol: TCP\n"
     "        - containerPort: 8080\n"
     "          protocol: TCP\n"
     "        - containerPort: 80\n"
     "          name: http\n"
     "          protocol: TCP\n"
     "        - containerPort: 53\n"
     "          name: dns\n"
     "          protocol: UDP\n"},
    {"service_ports_port_protocol",
     "apiVersion: v1\n"
     "kind: Service\n"
     "metadata:\n"
     "  name: s\n"
     "spec:\n"
     "  ports:\n"
     "  - {port: 80, targetPort: 8080}\n"
     "  - {port: 53, protocol: UDP}\n",
     "apiVersion: v1\n"
     "kind: Service\n"
     "metadata:\n"
     "  name: s\n"
     "spec:\n"
     "  ports:\n"
     "  - {port: 80, name: web}\n"
     "  - {port: 53, protocol: TCP}\n",
     NULL,
     "apiVersion: v1\n"
     "kind: Service\n"
     "metadata:\n"
     "  name: s\n"
     "spec:\n"
     "  ports:\n"
     "  - port: 53\n"
     "    protocol: TCP\n"
     "  - name: web\n"
     "    port: 80\n"
     "    targetPort: 8080\n"
     "  - port: 53\n"
     "    protocol: UDP\n"},
    {"finalizers_primitive_merge",
     "apiVersion: v1\n"
     "kind: ConfigMap\n"
     "metadata:\n"
     "  name: c\n"
     "  finalizers: [a, b]\n",
     "apiVersion: v1\n"
     "kind: ConfigMap\n"
     "metadata:\n"
     "  name: c\n"
     "  finalizers: [c, a]\n",
     NULL,
     "apiVersion: v1\n"
     "kind: ConfigMap\n"
     "metadata:\n"
     "  finalizers:\n"
     "  - c\n"
     "  - a\n"
     "  - b\n"
     "  name: c\n"},
    {"null_deletes_and_target_null_kept",
     "apiVersion: v1\n"
     "kind: ConfigMap\n"
     "metadata:\n"
     "  name: c\n"
     "data:\n"
     "  k: v\n"
     "  n: null\n",
     "apiVersion: v1\n"
     "kind: ConfigMap\n"
     "metadata:\n"
     "  name: c\n"
     "data:\n"
     "  k: null\n"
     "  z: null\n"
     "  e: {}\n",
     NULL,
     "apiVersion: v1\n"
     "data:\n"
     "  e: {}\n"
     "  \"n\": null\n"
     "kind: ConfigMap\n"
     "metadata:\n"
     "  name: c\n"},
    {"element_delete_and_replace",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      volumes:\n"
     "      - {name: v1, emptyDir: {}}\n"
     "      - {name: v2, configMap: {name: x}}\n"
     "      - {name: v3, secret: {secretName: s}}\n",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      volumes:\n"
     "      - {name: v2, $patch: delete}\n"
     "      - {name: v3, $patch: replace, emptyDir: {}}\n",
     NULL,
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      volumes:\n"
     "      - name: v3\n"
     "        secret:\n"
     "          secretName: s\n"
     "      - emptyDir: {}\n"
     "        name: v1\n"},
    {"list_replace_directive",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - {name: a, image: a}\n",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - $patch: replace\n"
     "      - {name: z, image: z}\n",
     NULL,
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - image: z\n"
     "        name: z\n"},
    {"list_delete_directive",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  replicas: 1\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - {name: a, image: a}\n",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - $patch: delete\n",
     NULL,
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  replicas: 1\n"
     "  template:\n"
     "    spec: {}\n"},
    {"map_directives",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "  labels: {a: \"1\"}\n"
     "  annotations: {x: y}\n"
     "spec:\n"
     "  template:\n"
     "    metadata:\n"
     "      labels: {a: \"1\"}\n",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "  labels:\n"
     "    $patch: replace\n"
     "    b: \"2\"\n"
     "  annotations:\n"
     "    $patch: merge\n"
     "    z: w\n"
     "spec:\n"
     "  template:\n"
     "    metadata:\n"
     "      $patch: delete\n",
     NULL,
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  annotations:\n"
     "    x: \"y\"\n"
     "    z: w\n"
     "  labels:\n"
     "    b: \"2\"\n"
     "  name: d\n"
     "spec:\n"
     "  template: {}\n"},
    {"sm_directives_kyaml_ignores",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "  finalizers: [a, b]\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - {name: a, image: a}\n",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "  $deleteFromPrimitiveList/finalizers: [a]\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      $setElementOrder/containers: [{name: a}]\n"
     "      containers:\n"
     "      - name: a\n"
     "        $retainKeys: [name]\n",
     NULL,
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  $deleteFromPrimitiveList/finalizers:\n"
     "  - a\n"
     "  finalizers:\n"
     "  - a\n"
     "  - b\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      $setElementOrder/containers:\n"
     "      - name: a\n"
     "      containers:\n"
     "      - $retainKeys:\n"
     "        - name\n"
     "        image: a\n"
     "        name: a\n"},
    {"nonassociative_lists_replaced",
     "apiVersion: v1\n"
     "kind: Pod\n"
     "metadata:\n"
     "  name: p\n"
     "spec:\n"
     "  tolerations: [{key: a}]\n"
     "  containers:\n"
     "  - {name: a, args: [x, y]}\n",
     "apiVersion: v1\n"
     "kind: Pod\n"
     "metadata:\n"
     "  name: p\n"
     "spec:\n"
     "  tolerations: [{key: b}]\n"
     "  containers:\n"
     "  - {name: a, args: [z]}\n",
     NULL,
     "apiVersion: v1\n"
     "kind: Pod\n"
     "metadata:\n"
     "  name: p\n"
     "spec:\n"
     "  containers:\n"
     "  - args:\n"
     "    - z\n"
     "    name: a\n"
     "  tolerations:\n"
     "  - key: b\n"},
    {"element_without_key",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - {name: a, image: a}\n"
     "      - {name: c, image: c}\n",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - {image: foo}\n"
     "      - {name: c, image: c2}\n",
     NULL,
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - image: c2\n"
     "        name: c\n"},
    {"target_list_normalized",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - {name: a, image: a1}\n"
     "      - {name: a, image: a2}\n"
     "      - {}\n"
     "      - {name: b}\n",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  replicas: 3\n",
     NULL,
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  replicas: 3\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - image: a1\n"
     "        name: a\n"},
    {"new_field_directives_applied",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  replicas: 1\n",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      volumes:\n"
     "      - {name: a, emptyDir: {}}\n"
     "      - {name: b, $patch: delete}\n"
     "      containers:\n"
     "      - name: x\n"
     "        resources:\n"
     "          $patch: replace\n"
     "          limits: {cpu: 1}\n",
     NULL,
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  replicas: 1\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - name: x\n"
     "        resources:\n"
     "          limits:\n"
     "            cpu: 1\n"
     "      volumes:\n"
     "      - emptyDir: {}\n"
     "        name: a\n"},
    {"crd_lists_replaced",
     "apiVersion: ex.com/v1\n"
     "kind: Foo\n"
     "metadata:\n"
     "  name: f\n"
     "  finalizers: [a]\n"
     "spec:\n"
     "  list: [{name: a, v: 1}, {name: b}]\n",
     "apiVersion: ex.com/v1\n"
     "kind: Foo\n"
     "metadata:\n"
     "  name: f\n"
     "  finalizers: [b]\n"
     "spec:\n"
     "  list: [{name: a, v: 2}]\n",
     NULL,
     "apiVersion: ex.com/v1\n"
     "kind: Foo\n"
     "metadata:\n"
     "  finalizers:\n"
     "  - b\n"
     "  name: f\n"
     "spec:\n"
     "  list:\n"
     "  - name: a\n"
     "    v: 2\n"},
    {"crd_embedded_kind_uses_its_schema",
     "apiVersion: ex.com/v1\n"
     "kind: Foo\n"
     "metadata:\n"
     "  name: f\n"
     "spec:\n"
     "  embedded:\n"
     "    apiVersion: v1\n"
     "    kind: Pod\n"
     "    spec:\n"
     "      containers: [{name: a}]\n",
     "apiVersion: ex.com/v1\n"
     "kind: Foo\n"
     "metadata:\n"
     "  name: f\n"
     "spec:\n"
     "  embedded:\n"
     "    spec:\n"
     "      containers: [{name: b}]\n",
     NULL,
     "apiVersion: ex.com/v1\n"
     "kind: Foo\n"
     "metadata:\n"
     "  name: f\n"
     "spec:\n"
     "  embedded:\n"
     "    apiVersion: v1\n"
     "    kind: Pod\n"
     "    spec:\n"
     "      containers:\n"
     "      - name: b\n"
     "      - name: a\n"},
    {"cronjob_pod_template",
     "apiVersion: batch/v1\n"
     "kind: CronJob\n"
     "metadata:\n"
     "  name: c\n"
     "spec:\n"
     "  jobTemplate:\n"
     "    spec:\n"
     "      template:\n"
     "        spec:\n"
     "          containers:\n"
     "          - {name: a, image: a}\n",
     "apiVersion: batch/v1\n"
     "kind: CronJob\n"
     "metadata:\n"
     "  name: c\n"
     "spec:\n"
     "  jobTemplate:\n"
     "    spec:\n"
     "      template:\n"
     "        spec:\n"
     "          containers:\n"
     "          - name: a\n"
     "            env: [{name: X, value: \"1\"}]\n"
     "          - {name: b, image: b}\n",
     NULL,
     "apiVersion: batch/v1\n"
     "kind: CronJob\n"
     "metadata:\n"
     "  name: c\n"
     "spec:\n"
     "  jobTemplate:\n"
     "    spec:\n"
     "      template:\n"
     "        spec:\n"
     "          containers:\n"
     "          - env:\n"
     "            - name: X\n"
     "              value: \"1\"\n"
     "            image: a\n"
     "            name: a\n"
     "          - image: b\n"
     "            name: b\n"},
    {"statefulset_topology_keys",
     "apiVersion: apps/v1\n"
     "kind: StatefulSet\n"
     "metadata:\n"
     "  name: s\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      topologySpreadConstraints:\n"
     "      - {topologyKey: zone, whenUnsatisfiable: DoNotSchedule, maxSkew: 1}\n",
     "apiVersion: apps/v1\n"
     "kind: StatefulSet\n"
     "metadata:\n"
     "  name: s\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      topologySpreadConstraints:\n"
     "      - {topologyKey: zone, maxSkew: 3}\n"
     "      - {topologyKey: host, whenUnsatisfiable: DoNotSchedule, maxSkew: 2}\n",
     NULL,
     "apiVersion: apps/v1\n"
     "kind: StatefulSet\n"
     "metadata:\n"
     "  name: s\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      topologySpreadConstraints:\n"
     "      - maxSkew: 2\n"
     "        topologyKey: host\n"
     "        whenUnsatisfiable: DoNotSchedule\n"
     "      - maxSkew: 1\n"
     "        topologyKey: zone\n"
     "        whenUnsatisfiable: DoNotSchedule\n"},
    {"webhooks_by_name",
     "apiVersion: admissionregistration.k8s.io/v1\n"
     "kind: ValidatingWebhookConfiguration\n"
     "metadata:\n"
     "  name: w\n"
     "webhooks:\n"
     "- {name: a, sideEffects: None}\n"
     "- {name: b}\n",
     "apiVersion: admissionregistration.k8s.io/v1\n"
     "kind: ValidatingWebhookConfiguration\n"
     "metadata:\n"
     "  name: w\n"
     "webhooks:\n"
     "- {name: a, failurePolicy: Ignore}\n",
     NULL,
     "apiVersion: admissionregistration.k8s.io/v1\n"
     "kind: ValidatingWebhookConfiguration\n"
     "metadata:\n"
     "  name: w\n"
     "webhooks:\n"
     "- failurePolicy: Ignore\n"
     "  name: a\n"
     "  sideEffects: None\n"
     "- name: b\n"},
    {"custom_schema_merges_its_kinds",
     "apiVersion: example.com/v1alpha1\n"
     "kind: MyCRD\n"
     "metadata:\n"
     "  name: c\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - name: a\n"
     "        ports: [{containerPort: 80}]\n",
     "apiVersion: example.com/v1alpha1\n"
     "kind: MyCRD\n"
     "metadata:\n"
     "  name: c\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - name: a\n"
     "        ports: [{containerPort: 81}]\n"
     "      - name: b\n",
     SCHEMA,
     "apiVersion: example.com/v1alpha1\n"
     "kind: MyCRD\n"
     "metadata:\n"
     "  name: c\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - name: a\n"
     "        ports:\n"
     "        - containerPort: 81\n"
     "        - containerPort: 80\n"
     "      - name: b\n"},
    {"custom_schema_hides_builtin",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers: [{name: a}]\n",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers: [{name: b}]\n",
     SCHEMA,
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    spec:\n"
     "      containers:\n"
     "      - name: b\n"},
    {"kind_mismatch_is_error",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  replicas: 1\n",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  replicas: {a: 1}\n",
     NULL,
     SMP_ERROR},
    {"unknown_directive_is_error",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template: {}\n",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  template:\n"
     "    $patch: foo\n",
     NULL,
     SMP_ERROR},
    {"delete_resource",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  replicas: 1\n",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "$patch: delete\n",
     NULL,
     NULL},
    {"replace_at_top_changes_nothing",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  replicas: 1\n",
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "$patch: replace\n"
     "spec:\n"
     "  replicas: 5\n",
     NULL,
     "apiVersion: apps/v1\n"
     "kind: Deployment\n"
     "metadata:\n"
     "  name: d\n"
     "spec:\n"
     "  replicas: 1\n"},
};

static json_t *parse1(const char *yaml)
{
    json_t *docs = NULL, *doc;
    assert_int_equal(pl_yaml_parse(&docs, yaml, strlen(yaml), "test", NULL), 0);
    doc = json_incref(json_array_get(docs, 0));
    json_decref(docs);
    assert_non_null(doc);
    return doc;
}

static void run_case(const char *name)
{
    const smp_case *c = NULL;
    json_t *target, *patch, *openapi = NULL;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (strcmp(cases[i].name, name) == 0)
            c = &cases[i];
    assert_non_null(c);
    target = parse1(c->target);
    patch = parse1(c->patch);
    if (c->openapi)
        openapi = parse1(c->openapi);
    rc = pl_kz_smp_apply(&target, patch, openapi);
    if (c->want && strcmp(c->want, SMP_ERROR) == 0) {
        assert_true(rc < 0);
        assert_true(pl_error_last()->message[0] != '\0');
    } else if (!c->want) {
        assert_int_equal(rc, 0);
        assert_null(target);
    } else {
        pl_buf b = PL_BUF_INIT;

        assert_int_equal(rc, 0);
        assert_non_null(target);
        assert_int_equal(pl_yaml_emit(&b, target), 0);
        assert_string_equal(b.ptr ? b.ptr : "", c->want);
        pl_buf_dispose(&b);
    }
    json_decref(target);
    json_decref(patch);
    json_decref(openapi);
}

/* The patch is borrowed: applying it twice to two targets gives the same result twice. */
static void test_kz_smp__patch_not_consumed(void **state)
{
    json_t *patch = parse1("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n"
                           "  containers:\n  - name: a\n    $patch: delete\n  - name: b\n");
    json_t *before = json_deep_copy(patch);
    int i;

    (void)state;
    for (i = 0; i < 2; i++) {
        json_t *t = parse1("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n"
                           "  containers:\n  - name: a\n");
        pl_buf b = PL_BUF_INIT;

        assert_int_equal(pl_kz_smp_apply(&t, patch, NULL), 0);
        assert_int_equal(pl_yaml_emit(&b, t), 0);
        assert_string_equal(b.ptr, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n"
                                   "  containers:\n  - name: b\n");
        pl_buf_dispose(&b);
        json_decref(t);
    }
    assert_true(json_equal(patch, before));
    json_decref(patch);
    json_decref(before);
}

static void test_kz_smp__containers_patch_first_then_target(void **state)
{
    (void)state;
    run_case("containers_patch_first_then_target");
}

static void test_kz_smp__ports_two_keys(void **state)
{
    (void)state;
    run_case("ports_two_keys");
}

static void test_kz_smp__service_ports_port_protocol(void **state)
{
    (void)state;
    run_case("service_ports_port_protocol");
}

static void test_kz_smp__finalizers_primitive_merge(void **state)
{
    (void)state;
    run_case("finalizers_primitive_merge");
}

static void test_kz_smp__null_deletes_and_target_null_kept(void **state)
{
    (void)state;
    run_case("null_deletes_and_target_null_kept");
}

static void test_kz_smp__element_delete_and_replace(void **state)
{
    (void)state;
    run_case("element_delete_and_replace");
}

static void test_kz_smp__list_replace_directive(void **state)
{
    (void)state;
    run_case("list_replace_directive");
}

static void test_kz_smp__list_delete_directive(void **state)
{
    (void)state;
    run_case("list_delete_directive");
}

static void test_kz_smp__map_directives(void **state)
{
    (void)state;
    run_case("map_directives");
}

static void test_kz_smp__sm_directives_kyaml_ignores(void **state)
{
    (void)state;
    run_case("sm_directives_kyaml_ignores");
}

static void test_kz_smp__nonassociative_lists_replaced(void **state)
{
    (void)state;
    run_case("nonassociative_lists_replaced");
}

static void test_kz_smp__element_without_key(void **state)
{
    (void)state;
    run_case("element_without_key");
}

static void test_kz_smp__target_list_normalized(void **state)
{
    (void)state;
    run_case("target_list_normalized");
}

static void test_kz_smp__new_field_directives_applied(void **state)
{
    (void)state;
    run_case("new_field_directives_applied");
}

static void test_kz_smp__crd_lists_replaced(void **state)
{
    (void)state;
    run_case("crd_lists_replaced");
}

static void test_kz_smp__crd_embedded_kind_uses_its_schema(void **state)
{
    (void)state;
    run_case("crd_embedded_kind_uses_its_schema");
}

static void test_kz_smp__cronjob_pod_template(void **state)
{
    (void)state;
    run_case("cronjob_pod_template");
}

static void test_kz_smp__statefulset_topology_keys(void **state)
{
    (void)state;
    run_case("statefulset_topology_keys");
}

static void test_kz_smp__webhooks_by_name(void **state)
{
    (void)state;
    run_case("webhooks_by_name");
}

static void test_kz_smp__custom_schema_merges_its_kinds(void **state)
{
    (void)state;
    run_case("custom_schema_merges_its_kinds");
}

static void test_kz_smp__custom_schema_hides_builtin(void **state)
{
    (void)state;
    run_case("custom_schema_hides_builtin");
}

static void test_kz_smp__kind_mismatch_is_error(void **state)
{
    (void)state;
    run_case("kind_mismatch_is_error");
}

static void test_kz_smp__unknown_directive_is_error(void **state)
{
    (void)state;
    run_case("unknown_directive_is_error");
}

static void test_kz_smp__delete_resource(void **state)
{
    (void)state;
    run_case("delete_resource");
}

static void test_kz_smp__replace_at_top_changes_nothing(void **state)
{
    (void)state;
    run_case("replace_at_top_changes_nothing");
}

/*
 * A component's schema set after kustomize had loaded the builtin one (pinned with kubectl on
 * a base holding a custom resource): the custom kind is added, its "$ref" to the builtin
 * PodTemplateSpec resolves, and builtin kinds keep merging. Without the builtin schema loaded,
 * both lists are replaced.
 */
static void test_kz_smp__custom_schema_added_to_loaded_builtin(void **state)
{
    static const char *const targets[2] = {
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n"
        "    spec:\n      containers:\n      - name: a\n",
        "apiVersion: ex.com/v1\nkind: Foo\nmetadata:\n  name: f\nspec:\n  template:\n"
        "    spec:\n      containers:\n      - name: a\n",
    };
    static const char *const patches[2] = {
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n"
        "    spec:\n      containers:\n      - name: b\n",
        "apiVersion: ex.com/v1\nkind: Foo\nmetadata:\n  name: f\nspec:\n  template:\n"
        "    spec:\n      containers:\n      - name: b\n",
    };
    json_t *openapi = parse1(
        "{\"definitions\": {\"ex.Foo\": {\n"
        "  \"x-kubernetes-group-version-kind\": [{\"group\": \"ex.com\", \"version\": \"v1\",\n"
        "                                       \"kind\": \"Foo\"}],\n"
        "  \"properties\": {\"spec\": {\"properties\": {\"template\":\n"
        "    {\"$ref\": \"#/definitions/io.k8s.api.core.v1.PodTemplateSpec\"}}}}}}}\n");
    int i, with_builtin;

    (void)state;
    for (with_builtin = 0; with_builtin < 2; with_builtin++) {
        for (i = 0; i < 2; i++) {
            json_t *t = parse1(targets[i]), *p = parse1(patches[i]);
            json_t *c;

            assert_int_equal(pl_kz_smp_apply_ex(&t, p, openapi, with_builtin), 0);
            c = json_object_get(pl_json_path(t, "spec", "template", "spec", NULL), "containers");
            assert_int_equal(json_array_size(c), with_builtin ? 2 : 1);
            assert_string_equal(pl_json_str(json_array_get(c, 0), "name", NULL), "b");
            json_decref(t);
            json_decref(p);
        }
    }
    json_decref(openapi);
}

/* Kinds whose scope kyaml knows without loading its schema (its precomputed table). */
static void test_kz_smp__builtin_kind(void **state)
{
    (void)state;
    assert_int_equal(pl_kz_smp_builtin_kind("apps/v1", "Deployment"), 1);
    assert_int_equal(pl_kz_smp_builtin_kind("v1", "Namespace"), 1);
    assert_int_equal(pl_kz_smp_builtin_kind("v1", "PodExecOptions"), 1);
    assert_int_equal(pl_kz_smp_builtin_kind("apps/v1", "DeploymentList"), 0);
    assert_int_equal(pl_kz_smp_builtin_kind("v1", "Binding"), 0);
    assert_int_equal(pl_kz_smp_builtin_kind("apps/v1beta1", "Deployment"), 0);
    assert_int_equal(pl_kz_smp_builtin_kind("ex.com/v1", "Foo"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kz_smp__containers_patch_first_then_target),
        cmocka_unit_test(test_kz_smp__ports_two_keys),
        cmocka_unit_test(test_kz_smp__service_ports_port_protocol),
        cmocka_unit_test(test_kz_smp__finalizers_primitive_merge),
        cmocka_unit_test(test_kz_smp__null_deletes_and_target_null_kept),
        cmocka_unit_test(test_kz_smp__element_delete_and_replace),
        cmocka_unit_test(test_kz_smp__list_replace_directive),
        cmocka_unit_test(test_kz_smp__list_delete_directive),
        cmocka_unit_test(test_kz_smp__map_directives),
        cmocka_unit_test(test_kz_smp__sm_directives_kyaml_ignores),
        cmocka_unit_test(test_kz_smp__nonassociative_lists_replaced),
        cmocka_unit_test(test_kz_smp__element_without_key),
        cmocka_unit_test(test_kz_smp__target_list_normalized),
        cmocka_unit_test(test_kz_smp__new_field_directives_applied),
        cmocka_unit_test(test_kz_smp__crd_lists_replaced),
        cmocka_unit_test(test_kz_smp__crd_embedded_kind_uses_its_schema),
        cmocka_unit_test(test_kz_smp__cronjob_pod_template),
        cmocka_unit_test(test_kz_smp__statefulset_topology_keys),
        cmocka_unit_test(test_kz_smp__webhooks_by_name),
        cmocka_unit_test(test_kz_smp__custom_schema_merges_its_kinds),
        cmocka_unit_test(test_kz_smp__custom_schema_hides_builtin),
        cmocka_unit_test(test_kz_smp__kind_mismatch_is_error),
        cmocka_unit_test(test_kz_smp__unknown_directive_is_error),
        cmocka_unit_test(test_kz_smp__delete_resource),
        cmocka_unit_test(test_kz_smp__replace_at_top_changes_nothing),
        cmocka_unit_test(test_kz_smp__patch_not_consumed),
        cmocka_unit_test(test_kz_smp__custom_schema_added_to_loaded_builtin),
        cmocka_unit_test(test_kz_smp__builtin_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
