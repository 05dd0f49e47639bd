/*
 * kz_tconfig.c - the transformer configuration: kustomize's builtin field spec tables and the
 * merging of `configurations:` and `crds:` files into them.
 *
 * The tables below are kustomize v5.8's api/konfig/builtinpluginconsts constants, text for text
 * (namePrefix/nameSuffix, commonLabels, templateLabels, volumeClaimTemplateLabels,
 * commonAnnotations, namespace, varReference, nameReference, images, replicas), as
 * GetDefaultFieldSpecs() prints them (pinned by
 * tests/conformance/kustomize/customconfig_test__TestCustomConfigWithDefaultOverspecification,
 * whose config/defaults.yaml is that text). v5.5 differs only in templateLabels (it still holds
 * the volumeClaimTemplates spec) and images (no spec/volumes[]/image/reference). They are facts
 * of kustomize, so they are kept as the YAML kustomize itself parses, and parsed on each
 * pl_kz_tconfig_default() call (about 1 ms; no global state: the driver builds the defaults
 * once per build and copies them with pl_kz_tconfig_copy). The kustomize v5.8 keys `labels`
 * (extra specs for the `labels:` field) and `volumeClaimTemplateLabels` are supported.
 *
 * Like kustomize's TransformerConfig:
 *  - loading a config (the defaults, or one `configurations:` file) sorts every field spec
 *    list and the nameReference list by gvk (resid.Gvk.IsLessThan: the legacy kind order first,
 *    then "group_version_kind" with "~G"/"~V"/"~K" for empty parts); kustomize's sort is not
 *    stable, ours is, which only matters between specs of the same gvk;
 *  - merging appends the specs that are not already present (an existing spec is "present" if
 *    the incoming spec's non-empty group/version/kind equal it and the paths are equal); a
 *    present spec with a different `create` is an error ("conflicting fieldspecs"), as in
 *    api/types/fieldspec.go MergeOne; nameReference entries of the same gvk merge their
 *    referrers the same way.
 *
 * Not done here: reading the files (the driver loads them and hands over parsed JSON).
 */
#include <string.h>
#include <strings.h>

#include "kz.h"

/* ---- kustomize's builtin field specs (api/konfig/builtinpluginconsts, kustomize v5.8) ---- */

static const char name_prefix_specs[] =
    "namePrefix:\n"
    "- path: metadata/name\n";

static const char name_suffix_specs[] =
    "nameSuffix:\n"
    "- path: metadata/name\n";

/* workload pod-template label paths: shared by commonLabels and templateLabels (same in kustomize) */
#define TEMPLATE_LABEL_PATHS \
    "\n" \
    "- path: metadata/labels\n" \
    "  create: true\n" \
    "\n" \
    "- path: spec/template/metadata/labels\n" \
    "  create: true\n" \
    "  version: v1\n" \
    "  kind: ReplicationController\n" \
    "\n" \
    "- path: spec/template/metadata/labels\n" \
    "  create: true\n" \
    "  kind: Deployment\n" \
    "\n" \
    "- path: spec/template/metadata/labels\n" \
    "  create: true\n" \
    "  kind: ReplicaSet\n" \
    "\n" \
    "- path: spec/template/metadata/labels\n" \
    "  create: true\n" \
    "  kind: DaemonSet\n" \
    "\n" \
    "- path: spec/template/metadata/labels\n" \
    "  create: true\n" \
    "  group: apps\n" \
    "  kind: StatefulSet\n" \
    "\n" \
    "- path: spec/template/metadata/labels\n" \
    "  create: true\n" \
    "  group: batch\n" \
    "  kind: Job\n" \
    "\n" \
    "- path: spec/jobTemplate/metadata/labels\n" \
    "  create: true\n" \
    "  group: batch\n" \
    "  kind: CronJob\n" \
    "\n" \
    "- path: spec/jobTemplate/spec/template/metadata/labels\n" \
    "  create: true\n" \
    "  group: batch\n" \
    "  kind: CronJob\n"

static const char common_labels_specs[] =
    "commonLabels:\n"
    "- path: spec/selector\n"
    "  create: true\n"
    "  version: v1\n"
    "  kind: Service\n"
    "\n"
    "- path: spec/selector\n"
    "  create: true\n"
    "  version: v1\n"
    "  kind: ReplicationController\n"
    "- path: spec/selector/matchLabels\n"
    "  create: true\n"
    "  kind: Deployment\n"
    "\n"
    "- path: spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels\n"
    "  create: false\n"
    "  group: apps\n"
    "  kind: Deployment\n"
    "\n"
    "- path: spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels\n"
    "  create: false\n"
    "  group: apps\n"
    "  kind: Deployment\n"
    "\n"
    "- path: spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels\n"
    "  create: false\n"
    "  group: apps\n"
    "  kind: Deployment\n"
    "\n"
    "- path: spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels\n"
    "  create: false\n"
    "  group: apps\n"
    "  kind: Deployment\n"
    "\n"
    "- path: spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels\n"
    "  create: false\n"
    "  group: apps\n"
    "  kind: Deployment\n"
    "\n"
    "- path: spec/selector/matchLabels\n"
    "  create: true\n"
    "  kind: ReplicaSet\n"
    "\n"
    "- path: spec/selector/matchLabels\n"
    "  create: true\n"
    "  kind: DaemonSet\n"
    "\n"
    "- path: spec/selector/matchLabels\n"
    "  create: true\n"
    "  group: apps\n"
    "  kind: StatefulSet\n"
    "\n"
    "- path: spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels\n"
    "  create: false\n"
    "  group: apps\n"
    "  kind: StatefulSet\n"
    "\n"
    "- path: spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels\n"
    "  create: false\n"
    "  group: apps\n"
    "  kind: StatefulSet\n"
    "\n"
    "- path: spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels\n"
    "  create: false\n"
    "  group: apps\n"
    "  kind: StatefulSet\n"
    "\n"
    "- path: spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels\n"
    "  create: false\n"
    "  group: apps\n"
    "  kind: StatefulSet\n"
    "\n"
    "- path: spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels\n"
    "  create: false\n"
    "  group: apps\n"
    "  kind: StatefulSet\n"
    "\n"
    "- path: spec/selector/matchLabels\n"
    "  create: false\n"
    "  group: batch\n"
    "  kind: Job\n"
    "\n"
    "- path: spec/jobTemplate/spec/selector/matchLabels\n"
    "  create: false\n"
    "  group: batch\n"
    "  kind: CronJob\n"
    "\n"
    "- path: spec/selector/matchLabels\n"
    "  create: false\n"
    "  group: policy\n"
    "  kind: PodDisruptionBudget\n"
    "\n"
    "- path: spec/podSelector/matchLabels\n"
    "  create: false\n"
    "  group: networking.k8s.io\n"
    "  kind: NetworkPolicy\n"
    "\n"
    "- path: spec/ingress/from/podSelector/matchLabels\n"
    "  create: false\n"
    "  group: networking.k8s.io\n"
    "  kind: NetworkPolicy\n"
    "\n"
    "- path: spec/egress/to/podSelector/matchLabels\n"
    "  create: false\n"
    "  group: networking.k8s.io\n"
    "  kind: NetworkPolicy\n"
    TEMPLATE_LABEL_PATHS
    "\n"
    "- path: spec/volumeClaimTemplates[]/metadata/labels\n"
    "  create: true\n"
    "  group: apps\n"
    "  kind: StatefulSet\n";

static const char template_labels_specs[] =
    "templateLabels:\n"
    TEMPLATE_LABEL_PATHS;

static const char volume_claim_template_labels_specs[] =
    "volumeClaimTemplateLabels:\n"
    "\n"
    "- path: spec/volumeClaimTemplates[]/metadata/labels\n"
    "  create: true\n"
    "  group: apps\n"
    "  kind: StatefulSet\n";

static const char common_annotations_specs[] =
    "commonAnnotations:\n"
    "- path: metadata/annotations\n"
    "  create: true\n"
    "\n"
    "- path: spec/template/metadata/annotations\n"
    "  create: true\n"
    "  version: v1\n"
    "  kind: ReplicationController\n"
    "\n"
    "- path: spec/template/metadata/annotations\n"
    "  create: true\n"
    "  kind: Deployment\n"
    "\n"
    "- path: spec/template/metadata/annotations\n"
    "  create: true\n"
    "  kind: ReplicaSet\n"
    "\n"
    "- path: spec/template/metadata/annotations\n"
    "  create: true\n"
    "  kind: DaemonSet\n"
    "\n"
    "- path: spec/template/metadata/annotations\n"
    "  create: true\n"
    "  kind: StatefulSet\n"
    "\n"
    "- path: spec/template/metadata/annotations\n"
    "  create: true\n"
    "  group: batch\n"
    "  kind: Job\n"
    "\n"
    "- path: spec/jobTemplate/metadata/annotations\n"
    "  create: true\n"
    "  group: batch\n"
    "  kind: CronJob\n"
    "\n"
    "- path: spec/jobTemplate/spec/template/metadata/annotations\n"
    "  create: true\n"
    "  group: batch\n"
    "  kind: CronJob\n";

static const char namespace_specs[] =
    "namespace:\n"
    "- path: metadata/name\n"
    "  kind: Namespace\n"
    "  create: true\n"
    "- path: spec/service/namespace\n"
    "  group: apiregistration.k8s.io\n"
    "  kind: APIService\n"
    "  create: true\n"
    "- path: spec/conversion/webhook/clientConfig/service/namespace\n"
    "  group: apiextensions.k8s.io\n"
    "  kind: CustomResourceDefinition\n";

static const char var_reference_specs[] =
    "varReference:\n"
    "- path: spec/jobTemplate/spec/template/spec/containers/args\n"
    "  kind: CronJob\n"
    "\n"
    "- path: spec/jobTemplate/spec/template/spec/containers/command\n"
    "  kind: CronJob\n"
    "\n"
    "- path: spec/jobTemplate/spec/template/spec/containers/env/value\n"
    "  kind: CronJob\n"
    "\n"
    "- path: spec/jobTemplate/spec/template/spec/containers/volumeMounts/mountPath\n"
    "  kind: CronJob\n"
    "\n"
    "- path: spec/jobTemplate/spec/template/spec/initContainers/args\n"
    "  kind: CronJob\n"
    "\n"
    "- path: spec/jobTemplate/spec/template/spec/initContainers/command\n"
    "  kind: CronJob\n"
    "\n"
    "- path: spec/jobTemplate/spec/template/spec/initContainers/env/value\n"
    "  kind: CronJob\n"
    "\n"
    "- path: spec/jobTemplate/spec/template/spec/initContainers/volumeMounts/mountPath\n"
    "  kind: CronJob\n"
    "\n"
    "- path: spec/jobTemplate/spec/template/volumes/nfs/server\n"
    "  kind: CronJob\n"
    "\n"
    "- path: spec/template/spec/containers/args\n"
    "  kind: DaemonSet\n"
    "\n"
    "- path: spec/template/spec/containers/command\n"
    "  kind: DaemonSet\n"
    "\n"
    "- path: spec/template/spec/containers/env/value\n"
    "  kind: DaemonSet\n"
    "\n"
    "- path: spec/template/spec/containers/volumeMounts/mountPath\n"
    "  kind: DaemonSet\n"
    "\n"
    "- path: spec/template/spec/initContainers/args\n"
    "  kind: DaemonSet\n"
    "\n"
    "- path: spec/template/spec/initContainers/command\n"
    "  kind: DaemonSet\n"
    "\n"
    "- path: spec/template/spec/initContainers/env/value\n"
    "  kind: DaemonSet\n"
    "\n"
    "- path: spec/template/spec/initContainers/volumeMounts/mountPath\n"
    "  kind: DaemonSet\n"
    "\n"
    "- path: spec/template/spec/volumes/nfs/server\n"
    "  kind: DaemonSet\n"
    "\n"
    "- path: spec/template/spec/containers/args\n"
    "  kind: Deployment\n"
    "\n"
    "- path: spec/template/spec/containers/command\n"
    "  kind: Deployment\n"
    "\n"
    "- path: spec/template/spec/containers/env/value\n"
    "  kind: Deployment\n"
    "\n"
    "- path: spec/template/spec/containers/volumeMounts/mountPath\n"
    "  kind: Deployment\n"
    "\n"
    "- path: spec/template/spec/initContainers/args\n"
    "  kind: Deployment\n"
    "\n"
    "- path: spec/template/spec/initContainers/command\n"
    "  kind: Deployment\n"
    "\n"
    "- path: spec/template/spec/initContainers/env/value\n"
    "  kind: Deployment\n"
    "\n"
    "- path: spec/template/spec/initContainers/volumeMounts/mountPath\n"
    "  kind: Deployment\n"
    "\n"
    "- path: spec/template/spec/volumes/nfs/server\n"
    "  kind: Deployment\n"
    "\n"
    "- path: spec/template/metadata/annotations\n"
    "  kind: Deployment\n"
    "\n"
    "- path: spec/rules/host\n"
    "  kind: Ingress\n"
    "\n"
    "- path: spec/tls/hosts\n"
    "  kind: Ingress\n"
    "  \n"
    "- path: spec/tls/secretName\n"
    "  kind: Ingress\n"
    "\n"
    "- path: spec/template/spec/containers/args\n"
    "  kind: Job\n"
    "\n"
    "- path: spec/template/spec/containers/command\n"
    "  kind: Job\n"
    "\n"
    "- path: spec/template/spec/containers/env/value\n"
    "  kind: Job\n"
    "\n"
    "- path: spec/template/spec/containers/volumeMounts/mountPath\n"
    "  kind: Job\n"
    "\n"
    "- path: spec/template/spec/initContainers/args\n"
    "  kind: Job\n"
    "\n"
    "- path: spec/template/spec/initContainers/command\n"
    "  kind: Job\n"
    "\n"
    "- path: spec/template/spec/initContainers/env/value\n"
    "  kind: Job\n"
    "\n"
    "- path: spec/template/spec/initContainers/volumeMounts/mountPath\n"
    "  kind: Job\n"
    "\n"
    "- path: spec/template/spec/volumes/nfs/server\n"
    "  kind: Job\n"
    "\n"
    "- path: spec/containers/args\n"
    "  kind: Pod\n"
    "\n"
    "- path: spec/containers/command\n"
    "  kind: Pod\n"
    "\n"
    "- path: spec/containers/env/value\n"
    "  kind: Pod\n"
    "\n"
    "- path: spec/containers/volumeMounts/mountPath\n"
    "  kind: Pod\n"
    "\n"
    "- path: spec/initContainers/args\n"
    "  kind: Pod\n"
    "\n"
    "- path: spec/initContainers/command\n"
    "  kind: Pod\n"
    "\n"
    "- path: spec/initContainers/env/value\n"
    "  kind: Pod\n"
    "\n"
    "- path: spec/initContainers/volumeMounts/mountPath\n"
    "  kind: Pod\n"
    "\n"
    "- path: spec/volumes/nfs/server\n"
    "  kind: Pod\n"
    "\n"
    "- path: spec/template/spec/containers/args\n"
    "  kind: ReplicaSet\n"
    "\n"
    "- path: spec/template/spec/containers/command\n"
    "  kind: ReplicaSet\n"
    "\n"
    "- path: spec/template/spec/containers/env/value\n"
    "  kind: ReplicaSet\n"
    "\n"
    "- path: spec/template/spec/containers/volumeMounts/mountPath\n"
    "  kind: ReplicaSet\n"
    "\n"
    "- path: spec/template/spec/initContainers/args\n"
    "  kind: ReplicaSet\n"
    "\n"
    "- path: spec/template/spec/initContainers/command\n"
    "  kind: ReplicaSet\n"
    "\n"
    "- path: spec/template/spec/initContainers/env/value\n"
    "  kind: ReplicaSet\n"
    "\n"
    "- path: spec/template/spec/initContainers/volumeMounts/mountPath\n"
    "  kind: ReplicaSet\n"
    "\n"
    "- path: spec/template/spec/volumes/nfs/server\n"
    "  kind: ReplicaSet\n"
    "\n"
    "- path: spec/ports/port\n"
    "  kind: Service\n"
    "\n"
    "- path: spec/ports/targetPort\n"
    "  kind: Service\n"
    "\n"
    "- path: spec/template/spec/containers/args\n"
    "  kind: StatefulSet\n"
    "\n"
    "- path: spec/template/spec/containers/command\n"
    "  kind: StatefulSet\n"
    "\n"
    "- path: spec/template/spec/containers/env/value\n"
    "  kind: StatefulSet\n"
    "\n"
    "- path: spec/template/spec/containers/volumeMounts/mountPath\n"
    "  kind: StatefulSet\n"
    "\n"
    "- path: spec/template/spec/initContainers/args\n"
    "  kind: StatefulSet\n"
    "\n"
    "- path: spec/template/spec/initContainers/command\n"
    "  kind: StatefulSet\n"
    "\n"
    "- path: spec/template/spec/initContainers/env/value\n"
    "  kind: StatefulSet\n"
    "\n"
    "- path: spec/template/spec/initContainers/volumeMounts/mountPath\n"
    "  kind: StatefulSet\n"
    "\n"
    "- path: spec/volumeClaimTemplates/spec/nfs/server\n"
    "  kind: StatefulSet\n"
    "\n"
    "- path: spec/nfs/server\n"
    "  kind: PersistentVolume\n"
    "\n"
    "- path: metadata/labels\n"
    "\n"
    "- path: metadata/annotations\n";

static const char name_reference_specs[] =
    "nameReference:\n"
    "- kind: Deployment\n"
    "  fieldSpecs:\n"
    "  - path: spec/scaleTargetRef/name\n"
    "    kind: HorizontalPodAutoscaler\n"
    "\n"
    "- kind: ReplicationController\n"
    "  fieldSpecs:\n"
    "  - path: spec/scaleTargetRef/name\n"
    "    kind: HorizontalPodAutoscaler\n"
    "\n"
    "- kind: ReplicaSet\n"
    "  fieldSpecs:\n"
    "  - path: spec/scaleTargetRef/name\n"
    "    kind: HorizontalPodAutoscaler\n"
    "\n"
    "- kind: StatefulSet\n"
    "  fieldSpecs:\n"
    "  - path: spec/scaleTargetRef/name\n"
    "    kind: HorizontalPodAutoscaler\n"
    "\n"
    "- kind: ConfigMap\n"
    "  version: v1\n"
    "  fieldSpecs:\n"
    "  - path: spec/volumes/configMap/name\n"
    "    version: v1\n"
    "    kind: Pod\n"
    "  - path: spec/containers/env/valueFrom/configMapKeyRef/name\n"
    "    version: v1\n"
    "    kind: Pod\n"
    "  - path: spec/initContainers/env/valueFrom/configMapKeyRef/name\n"
    "    version: v1\n"
    "    kind: Pod\n"
    "  - path: spec/containers/envFrom/configMapRef/name\n"
    "    version: v1\n"
    "    kind: Pod\n"
    "  - path: spec/initContainers/envFrom/configMapRef/name\n"
    "    version: v1\n"
    "    kind: Pod\n"
    "  - path: spec/volumes/projected/sources/configMap/name\n"
    "    version: v1\n"
    "    kind: Pod\n"
    "  - path: template/spec/volumes/configMap/name\n"
    "    kind: PodTemplate\n"
    "  - path: template/spec/containers/env/valueFrom/configMapKeyRef/name\n"
    "    kind: PodTemplate\n"
    "  - path: template/spec/initContainers/env/valueFrom/configMapKeyRef/name\n"
    "    kind: PodTemplate\n"
    "  - path: template/spec/containers/envFrom/configMapRef/name\n"
    "    kind: PodTemplate\n"
    "  - path: template/spec/initContainers/envFrom/configMapRef/name\n"
    "    kind: PodTemplate\n"
    "  - path: template/spec/volumes/projected/sources/configMap/name\n"
    "    kind: PodTemplate\n"
    "  - path: spec/template/spec/volumes/configMap/name\n"
    "    kind: Deployment\n"
    "  - path: spec/template/spec/containers/env/valueFrom/configMapKeyRef/name\n"
    "    kind: Deployment\n"
    "  - path: spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name\n"
    "    kind: Deployment\n"
    "  - path: spec/template/spec/containers/envFrom/configMapRef/name\n"
    "    kind: Deployment\n"
    "  - path: spec/template/spec/initContainers/envFrom/configMapRef/name\n"
    "    kind: Deployment\n"
    "  - path: spec/template/spec/volumes/projected/sources/configMap/name\n"
    "    kind: Deployment\n"
    "  - path: spec/template/spec/volumes/configMap/name\n"
    "    kind: ReplicaSet\n"
    "  - path: spec/template/spec/containers/env/valueFrom/configMapKeyRef/name\n"
    "    kind: ReplicaSet\n"
    "  - path: spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name\n"
    "    kind: ReplicaSet\n"
    "  - path: spec/template/spec/containers/envFrom/configMapRef/name\n"
    "    kind: ReplicaSet\n"
    "  - path: spec/template/spec/initContainers/envFrom/configMapRef/name\n"
    "    kind: ReplicaSet\n"
    "  - path: spec/template/spec/volumes/projected/sources/configMap/name\n"
    "    kind: ReplicaSet\n"
    "  - path: spec/template/spec/volumes/configMap/name\n"
    "    kind: DaemonSet\n"
    "  - path: spec/template/spec/containers/env/valueFrom/configMapKeyRef/name\n"
    "    kind: DaemonSet\n"
    "  - path: spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name\n"
    "    kind: DaemonSet\n"
    "  - path: spec/template/spec/containers/envFrom/configMapRef/name\n"
    "    kind: DaemonSet\n"
    "  - path: spec/template/spec/initContainers/envFrom/configMapRef/name\n"
    "    kind: DaemonSet\n"
    "  - path: spec/template/spec/volumes/projected/sources/configMap/name\n"
    "    kind: DaemonSet\n"
    "  - path: spec/template/spec/volumes/configMap/name\n"
    "    kind: StatefulSet\n"
    "  - path: spec/template/spec/containers/env/valueFrom/configMapKeyRef/name\n"
    "    kind: StatefulSet\n"
    "  - path: spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name\n"
    "    kind: StatefulSet\n"
    "  - path: spec/template/spec/containers/envFrom/configMapRef/name\n"
    "    kind: StatefulSet\n"
    "  - path: spec/template/spec/initContainers/envFrom/configMapRef/name\n"
    "    kind: StatefulSet\n"
    "  - path: spec/template/spec/volumes/projected/sources/configMap/name\n"
    "    kind: StatefulSet\n"
    "  - path: spec/template/spec/volumes/configMap/name\n"
    "    kind: Job\n"
    "  - path: spec/template/spec/containers/env/valueFrom/configMapKeyRef/name\n"
    "    kind: Job\n"
    "  - path: spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name\n"
    "    kind: Job\n"
    "  - path: spec/template/spec/containers/envFrom/configMapRef/name\n"
    "    kind: Job\n"
    "  - path: spec/template/spec/initContainers/envFrom/configMapRef/name\n"
    "    kind: Job\n"
    "  - path: spec/template/spec/volumes/projected/sources/configMap/name\n"
    "    kind: Job\n"
    "  - path: spec/jobTemplate/spec/template/spec/volumes/configMap/name\n"
    "    kind: CronJob\n"
    "  - path: spec/jobTemplate/spec/template/spec/volumes/projected/sources/configMap/name\n"
    "    kind: CronJob\n"
    "  - path: spec/jobTemplate/spec/template/spec/containers/env/valueFrom/configMapKeyRef/name\n"
    "    kind: CronJob\n"
    "  - path: spec/jobTemplate/spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name\n"
    "    kind: CronJob\n"
    "  - path: spec/jobTemplate/spec/template/spec/containers/envFrom/configMapRef/name\n"
    "    kind: CronJob\n"
    "  - path: spec/jobTemplate/spec/template/spec/initContainers/envFrom/configMapRef/name\n"
    "    kind: CronJob\n"
    "  - path: spec/configSource/configMap\n"
    "    kind: Node\n"
    "  - path: rules/resourceNames\n"
    "    kind: Role\n"
    "  - path: rules/resourceNames\n"
    "    kind: ClusterRole\n"
    "  - path: metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap\n"
    "    kind: Ingress\n"
    "\n"
    "- kind: Secret\n"
    "  version: v1\n"
    "  fieldSpecs:\n"
    "  - path: spec/volumes/secret/secretName\n"
    "    version: v1\n"
    "    kind: Pod\n"
    "  - path: spec/containers/env/valueFrom/secretKeyRef/name\n"
    "    version: v1\n"
    "    kind: Pod\n"
    "  - path: spec/initContainers/env/valueFrom/secretKeyRef/name\n"
    "    version: v1\n"
    "    kind: Pod\n"
    "  - path: spec/containers/envFrom/secretRef/name\n"
    "    version: v1\n"
    "    kind: Pod\n"
    "  - path: spec/initContainers/envFrom/secretRef/name\n"
    "    version: v1\n"
    "    kind: Pod\n"
    "  - path: spec/imagePullSecrets/name\n"
    "    version: v1\n"
    "    kind: Pod\n"
    "  - path: spec/volumes/projected/sources/secret/name\n"
    "    version: v1\n"
    "    kind: Pod\n"
    "  - path: template/spec/volumes/secret/secretName\n"
    "    kind: PodTemplate\n"
    "  - path: template/spec/containers/env/valueFrom/secretKeyRef/name\n"
    "    kind: PodTemplate\n"
    "  - path: template/spec/initContainers/env/valueFrom/secretKeyRef/name\n"
    "    kind: PodTemplate\n"
    "  - path: template/spec/containers/envFrom/secretRef/name\n"
    "    kind: PodTemplate\n"
    "  - path: template/spec/initContainers/envFrom/secretRef/name\n"
    "    kind: PodTemplate\n"
    "  - path: template/spec/imagePullSecrets/name\n"
    "    kind: PodTemplate\n"
    "  - path: template/spec/volumes/projected/sources/secret/name\n"
    "    kind: PodTemplate\n"
    "  - path: spec/template/spec/volumes/secret/secretName\n"
    "    kind: Deployment\n"
    "  - path: spec/template/spec/containers/env/valueFrom/secretKeyRef/name\n"
    "    kind: Deployment\n"
    "  - path: spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name\n"
    "    kind: Deployment\n"
    "  - path: spec/template/spec/containers/envFrom/secretRef/name\n"
    "    kind: Deployment\n"
    "  - path: spec/template/spec/initContainers/envFrom/secretRef/name\n"
    "    kind: Deployment\n"
    "  - path: spec/template/spec/imagePullSecrets/name\n"
    "    kind: Deployment\n"
    "  - path: spec/template/spec/volumes/projected/sources/secret/name\n"
    "    kind: Deployment\n"
    "  - path: spec/template/spec/volumes/secret/secretName\n"
    "    kind: ReplicaSet\n"
    "  - path: spec/template/spec/containers/env/valueFrom/secretKeyRef/name\n"
    "    kind: ReplicaSet\n"
    "  - path: spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name\n"
    "    kind: ReplicaSet\n"
    "  - path: spec/template/spec/containers/envFrom/secretRef/name\n"
    "    kind: ReplicaSet\n"
    "  - path: spec/template/spec/initContainers/envFrom/secretRef/name\n"
    "    kind: ReplicaSet\n"
    "  - path: spec/template/spec/imagePullSecrets/name\n"
    "    kind: ReplicaSet\n"
    "  - path: spec/template/spec/volumes/projected/sources/secret/name\n"
    "    kind: ReplicaSet\n"
    "  - path: spec/template/spec/volumes/secret/secretName\n"
    "    kind: DaemonSet\n"
    "  - path: spec/template/spec/containers/env/valueFrom/secretKeyRef/name\n"
    "    kind: DaemonSet\n"
    "  - path: spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name\n"
    "    kind: DaemonSet\n"
    "  - path: spec/template/spec/containers/envFrom/secretRef/name\n"
    "    kind: DaemonSet\n"
    "  - path: spec/template/spec/initContainers/envFrom/secretRef/name\n"
    "    kind: DaemonSet\n"
    "  - path: spec/template/spec/imagePullSecrets/name\n"
    "    kind: DaemonSet\n"
    "  - path: spec/template/spec/volumes/projected/sources/secret/name\n"
    "    kind: DaemonSet\n"
    "  - path: spec/template/spec/volumes/secret/secretName\n"
    "    kind: StatefulSet\n"
    "  - path: spec/template/spec/containers/env/valueFrom/secretKeyRef/name\n"
    "    kind: StatefulSet\n"
    "  - path: spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name\n"
    "    kind: StatefulSet\n"
    "  - path: spec/template/spec/containers/envFrom/secretRef/name\n"
    "    kind: StatefulSet\n"
    "  - path: spec/template/spec/initContainers/envFrom/secretRef/name\n"
    "    kind: StatefulSet\n"
    "  - path: spec/template/spec/imagePullSecrets/name\n"
    "    kind: StatefulSet\n"
    "  - path: spec/template/spec/volumes/projected/sources/secret/name\n"
    "    kind: StatefulSet\n"
    "  - path: spec/template/spec/volumes/secret/secretName\n"
    "    kind: Job\n"
    "  - path: spec/template/spec/containers/env/valueFrom/secretKeyRef/name\n"
    "    kind: Job\n"
    "  - path: spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name\n"
    "    kind: Job\n"
    "  - path: spec/template/spec/containers/envFrom/secretRef/name\n"
    "    kind: Job\n"
    "  - path: spec/template/spec/initContainers/envFrom/secretRef/name\n"
    "    kind: Job\n"
    "  - path: spec/template/spec/imagePullSecrets/name\n"
    "    kind: Job\n"
    "  - path: spec/template/spec/volumes/projected/sources/secret/name\n"
    "    kind: Job\n"
    "  - path: spec/jobTemplate/spec/template/spec/volumes/secret/secretName\n"
    "    kind: CronJob\n"
    "  - path: spec/jobTemplate/spec/template/spec/volumes/projected/sources/secret/name\n"
    "    kind: CronJob\n"
    "  - path: spec/jobTemplate/spec/template/spec/containers/env/valueFrom/secretKeyRef/name\n"
    "    kind: CronJob\n"
    "  - path: spec/jobTemplate/spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name\n"
    "    kind: CronJob\n"
    "  - path: spec/jobTemplate/spec/template/spec/containers/envFrom/secretRef/name\n"
    "    kind: CronJob\n"
    "  - path: spec/jobTemplate/spec/template/spec/initContainers/envFrom/secretRef/name\n"
    "    kind: CronJob\n"
    "  - path: spec/jobTemplate/spec/template/spec/imagePullSecrets/name\n"
    "    kind: CronJob\n"
    "  - path: spec/tls/secretName\n"
    "    kind: Ingress\n"
    "  - path: metadata/annotations/ingress.kubernetes.io\\/auth-secret\n"
    "    kind: Ingress\n"
    "  - path: metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret\n"
    "    kind: Ingress\n"
    "  - path: metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret\n"
    "    kind: Ingress\n"
    "  - path: spec/tls/secretName\n"
    "    kind: Ingress\n"
    "  - path: imagePullSecrets/name\n"
    "    kind: ServiceAccount\n"
    "  - path: parameters/secretName\n"
    "    kind: StorageClass\n"
    "  - path: parameters/adminSecretName\n"
    "    kind: StorageClass\n"
    "  - path: parameters/userSecretName\n"
    "    kind: StorageClass\n"
    "  - path: parameters/secretRef\n"
    "    kind: StorageClass\n"
    "  - path: rules/resourceNames\n"
    "    kind: Role\n"
    "  - path: rules/resourceNames\n"
    "    kind: ClusterRole\n"
    "  - path: spec/template/spec/containers/env/valueFrom/secretKeyRef/name\n"
    "    kind: Service\n"
    "    group: serving.knative.dev\n"
    "    version: v1\n"
    "  - path: spec/azureFile/secretName\n"
    "    kind: PersistentVolume\n"
    "\n"
    "- kind: Service\n"
    "  version: v1\n"
    "  fieldSpecs:\n"
    "  - path: spec/serviceName\n"
    "    kind: StatefulSet\n"
    "    group: apps\n"
    "  - path: spec/rules/http/paths/backend/serviceName\n"
    "    kind: Ingress\n"
    "  - path: spec/backend/serviceName\n"
    "    kind: Ingress\n"
    "  - path: spec/rules/http/paths/backend/service/name\n"
    "    kind: Ingress\n"
    "  - path: spec/defaultBackend/service/name\n"
    "    kind: Ingress\n"
    "  - path: spec/service/name\n"
    "    kind: APIService\n"
    "    group: apiregistration.k8s.io\n"
    "  - path: webhooks/clientConfig/service\n"
    "    kind: ValidatingWebhookConfiguration\n"
    "    group: admissionregistration.k8s.io\n"
    "  - path: webhooks/clientConfig/service\n"
    "    kind: MutatingWebhookConfiguration\n"
    "    group: admissionregistration.k8s.io\n"
    "\n"
    "- kind: Role\n"
    "  group: rbac.authorization.k8s.io\n"
    "  fieldSpecs:\n"
    "  - path: roleRef/name\n"
    "    kind: RoleBinding\n"
    "    group: rbac.authorization.k8s.io\n"
    "\n"
    "- kind: ClusterRole\n"
    "  group: rbac.authorization.k8s.io\n"
    "  fieldSpecs:\n"
    "  - path: roleRef/name\n"
    "    kind: RoleBinding\n"
    "    group: rbac.authorization.k8s.io\n"
    "  - path: roleRef/name\n"
    "    kind: ClusterRoleBinding\n"
    "    group: rbac.authorization.k8s.io\n"
    "\n"
    "- kind: ServiceAccount\n"
    "  version: v1\n"
    "  fieldSpecs:\n"
    "  - path: subjects\n"
    "    kind: RoleBinding\n"
    "    group: rbac.authorization.k8s.io\n"
    "  - path: subjects\n"
    "    kind: ClusterRoleBinding\n"
    "    group: rbac.authorization.k8s.io\n"
    "  - path: spec/serviceAccountName\n"
    "    kind: Pod\n"
    "  - path: spec/template/spec/serviceAccountName\n"
    "    kind: StatefulSet\n"
    "  - path: spec/template/spec/serviceAccountName\n"
    "    kind: Deployment\n"
    "  - path: spec/template/spec/serviceAccountName\n"
    "    kind: ReplicationController\n"
    "  - path: spec/jobTemplate/spec/template/spec/serviceAccountName\n"
    "    kind: CronJob\n"
    "  - path: spec/template/spec/serviceAccountName\n"
    "    kind: Job\n"
    "  - path: spec/template/spec/serviceAccountName\n"
    "    kind: DaemonSet\n"
    "\n"
    "- kind: PersistentVolumeClaim\n"
    "  version: v1\n"
    "  fieldSpecs:\n"
    "  - path: spec/volumes/persistentVolumeClaim/claimName\n"
    "    kind: Pod\n"
    "  - path: spec/template/spec/volumes/persistentVolumeClaim/claimName\n"
    "    kind: StatefulSet\n"
    "  - path: spec/template/spec/volumes/persistentVolumeClaim/claimName\n"
    "    kind: Deployment\n"
    "  - path: spec/template/spec/volumes/persistentVolumeClaim/claimName\n"
    "    kind: ReplicationController\n"
    "  - path: spec/jobTemplate/spec/template/spec/volumes/persistentVolumeClaim/claimName\n"
    "    kind: CronJob\n"
    "  - path: spec/template/spec/volumes/persistentVolumeClaim/claimName\n"
    "    kind: Job\n"
    "  - path: spec/template/spec/volumes/persistentVolumeClaim/claimName\n"
    "    kind: DaemonSet\n"
    "\n"
    "- kind: PersistentVolume\n"
    "  version: v1\n"
    "  fieldSpecs:\n"
    "  - path: spec/volumeName\n"
    "    kind: PersistentVolumeClaim\n"
    "  - path: rules/resourceNames\n"
    "    kind: ClusterRole\n"
    "\n"
    "- kind: StorageClass\n"
    "  version: v1\n"
    "  group: storage.k8s.io\n"
    "  fieldSpecs:\n"
    "  - path: spec/storageClassName\n"
    "    kind: PersistentVolume\n"
    "  - path: spec/storageClassName\n"
    "    kind: PersistentVolumeClaim\n"
    "  - path: spec/volumeClaimTemplates/spec/storageClassName\n"
    "    kind: StatefulSet\n"
    "\n"
    "- kind: PriorityClass\n"
    "  version: v1\n"
    "  group: scheduling.k8s.io\n"
    "  fieldSpecs:\n"
    "  - path: spec/priorityClassName\n"
    "    kind: Pod\n"
    "  - path: spec/template/spec/priorityClassName\n"
    "    kind: StatefulSet\n"
    "  - path: spec/template/spec/priorityClassName\n"
    "    kind: Deployment\n"
    "  - path: spec/template/spec/priorityClassName\n"
    "    kind: ReplicationController\n"
    "  - path: spec/jobTemplate/spec/template/spec/priorityClassName\n"
    "    kind: CronJob\n"
    "  - path: spec/template/spec/priorityClassName\n"
    "    kind: Job\n"
    "  - path: spec/template/spec/priorityClassName\n"
    "    kind: DaemonSet\n"
    "\n"
    "- kind: IngressClass\n"
    "  version: v1\n"
    "  group: networking.k8s.io/v1\n"
    "  fieldSpecs:\n"
    "  - path: spec/ingressClassName\n"
    "    kind: Ingress\n"
    "\n"
    "- kind: ValidatingAdmissionPolicy\n"
    "  group: admissionregistration.k8s.io\n"
    "  fieldSpecs:\n"
    "  - path: spec/policyName\n"
    "    kind: ValidatingAdmissionPolicyBinding\n"
    "    group: admissionregistration.k8s.io\n";

static const char images_specs[] =
    "images:\n"
    "- path: spec/containers[]/image\n"
    "  create: true\n"
    "- path: spec/initContainers[]/image\n"
    "  create: true\n"
    "- path: spec/volumes[]/image/reference\n"
    "  create: true\n"
    "- path: spec/template/spec/containers[]/image\n"
    "  create: true\n"
    "- path: spec/template/spec/initContainers[]/image\n"
    "  create: true\n"
    "- path: spec/template/spec/volumes[]/image/reference\n"
    "  create: true\n";

static const char replicas_specs[] =
    "replicas:\n"
    "- path: spec/replicas\n"
    "  create: true\n"
    "  kind: Deployment\n"
    "\n"
    "- path: spec/replicas\n"
    "  create: true\n"
    "  kind: ReplicationController\n"
    "\n"
    "- path: spec/replicas\n"
    "  create: true\n"
    "  kind: ReplicaSet\n"
    "\n"
    "- path: spec/replicas\n"
    "  create: true\n"
    "  kind: StatefulSet\n";

static const char *const default_tables[] = {
    name_prefix_specs,
    name_suffix_specs,
    common_labels_specs,
    template_labels_specs,
    volume_claim_template_labels_specs,
    common_annotations_specs,
    namespace_specs,
    var_reference_specs,
    name_reference_specs,
    images_specs,
    replicas_specs,
};

/* ---- gvk order (kyaml resid.Gvk.IsLessThan) ---------------------------------------------- */

/* the legacy kind order of resid/gvk.go typeOrders: orderFirst negative, orderLast positive */
static int type_order(const char *kind)
{
    static const char *const first[] = {
        "Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition",
        "ServiceAccount", "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding",
        "ClusterRoleBinding", "ConfigMap", "Secret", "Endpoints", "Service", "LimitRange",
        "PriorityClass", "PersistentVolume", "PersistentVolumeClaim", "Deployment",
        "StatefulSet", "CronJob", "PodDisruptionBudget",
    };
    static const char *const last[] = {"MutatingWebhookConfiguration",
                                       "ValidatingWebhookConfiguration"};
    const int nfirst = (int)(sizeof(first) / sizeof(first[0]));

    if (!kind)
        return 0;
    for (int i = 0; i < nfirst; i++)
        if (!strcmp(kind, first[i]))
            return -nfirst + i;
    for (int i = 0; i < (int)(sizeof(last) / sizeof(last[0])); i++)
        if (!strcmp(kind, last[i]))
            return 1 + i;
    return 0;
}

/*
 * Compare "group_version_kind" strings ("~G"/"~V"/"~K" standing for empty parts) without
 * building them: walk both virtual concatenations byte by byte.
 */
typedef struct vstr {
    const char *seg[5];
    size_t i;
    const char *p;
} vstr;

static void vstr_init(vstr *s, const char *g, const char *v, const char *k)
{
    s->seg[0] = g && *g ? g : "~G";
    s->seg[1] = "_";
    s->seg[2] = v && *v ? v : "~V";
    s->seg[3] = "_";
    s->seg[4] = k && *k ? k : "~K";
    s->i = 0;
    s->p = s->seg[0];
}

/* next byte, or -1 at the end */
static int vstr_next(vstr *s)
{
    while (!*s->p) {
        if (++s->i == 5)
            return -1;
        s->p = s->seg[s->i];
    }
    return (unsigned char)*s->p++;
}

static int stable_cmp(const char *g1, const char *v1, const char *k1, const char *g2,
                      const char *v2, const char *k2)
{
    vstr a, b;
    vstr_init(&a, g1, v1, k1);
    vstr_init(&b, g2, v2, k2);
    for (;;) {
        int x = vstr_next(&a), y = vstr_next(&b);
        if (x != y)
            return x < y ? -1 : 1;
        if (x < 0)
            return 0;
    }
}

static int gvk_less(const char *g1, const char *v1, const char *k1, const char *g2,
                    const char *v2, const char *k2)
{
    int o1 = type_order(k1), o2 = type_order(k2);

    if (o1 != o2)
        return o1 < o2;
    return stable_cmp(g1, v1, k1, g2, v2, k2) < 0;
}

/* stable insertion sort: the lists are a few dozen entries */
static void sort_fslist(pl_kz_fslist *l)
{
    for (size_t i = 1; i < l->n; i++) {
        pl_kz_fieldspec x = l->v[i];
        size_t j = i;
        while (j > 0 && gvk_less(x.group, x.version, x.kind, l->v[j - 1].group,
                                 l->v[j - 1].version, l->v[j - 1].kind)) {
            l->v[j] = l->v[j - 1];
            j--;
        }
        l->v[j] = x;
    }
}

static void sort_nameref(pl_kz_tconfig *tc)
{
    for (size_t i = 1; i < tc->nnameref; i++) {
        pl_kz_nameref x = tc->nameref[i];
        size_t j = i;
        while (j > 0 && gvk_less(x.group, x.version, x.kind, tc->nameref[j - 1].group,
                                 tc->nameref[j - 1].version, tc->nameref[j - 1].kind)) {
            tc->nameref[j] = tc->nameref[j - 1];
            j--;
        }
        tc->nameref[j] = x;
    }
}

static pl_kz_fslist *lists(pl_kz_tconfig *tc, size_t i)
{
    pl_kz_fslist *all[] = {&tc->name_prefix,       &tc->name_suffix,
                           &tc->name_space,        &tc->common_labels,
                           &tc->template_labels,   &tc->common_annotations,
                           &tc->var_reference,     &tc->images,
                           &tc->replicas,          &tc->labels,
                           &tc->volume_claim_template_labels};
    return i < sizeof(all) / sizeof(all[0]) ? all[i] : NULL;
}

static void sort_all(pl_kz_tconfig *tc)
{
    pl_kz_fslist *l;
    for (size_t i = 0; (l = lists(tc, i)) != NULL; i++)
        sort_fslist(l);
    sort_nameref(tc);
}

/* ---- lifetime ------------------------------------------------------------------------------- */

static void nameref_dispose(pl_kz_nameref *nr)
{
    pl_free(nr->group);
    pl_free(nr->version);
    pl_free(nr->kind);
    pl_kz_fslist_dispose(&nr->referrers);
    memset(nr, 0, sizeof(*nr));
}

void pl_kz_tconfig_free(pl_kz_tconfig *tc)
{
    pl_kz_fslist *l;

    if (!tc)
        return;
    for (size_t i = 0; (l = lists(tc, i)) != NULL; i++)
        pl_kz_fslist_dispose(l);
    for (size_t i = 0; i < tc->nnameref; i++)
        nameref_dispose(&tc->nameref[i]);
    pl_free(tc->nameref);
    pl_free(tc);
}

static char *dup_nonempty(const char *s)
{
    return s && *s ? pl_strdup(s) : NULL;
}

/* append a new nameReference entry for gvk (copying referrers when given) */
static int nameref_append(pl_kz_tconfig *tc, const char *g, const char *v, const char *k,
                          const pl_kz_fslist *referrers)
{
    pl_kz_nameref *nr;
    int error;

    if (tc->nnameref == tc->nameref_cap) {
        size_t cap = tc->nameref_cap ? tc->nameref_cap * 2 : 16;
        pl_kz_nameref *p = pl_realloc(tc->nameref, cap * sizeof(*p));
        if (!p)
            return pl_error_set(PL_ENOMEM, "out of memory");
        tc->nameref = p;
        tc->nameref_cap = cap;
    }
    nr = &tc->nameref[tc->nnameref];
    memset(nr, 0, sizeof(*nr));
    nr->group = dup_nonempty(g);
    nr->version = dup_nonempty(v);
    nr->kind = dup_nonempty(k);
    if ((g && *g && !nr->group) || (v && *v && !nr->version) || (k && *k && !nr->kind)) {
        nameref_dispose(nr);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    if (referrers && (error = pl_kz_fslist_copy(&nr->referrers, referrers)) < 0) {
        nameref_dispose(nr);
        return error;
    }
    tc->nnameref++;
    return 0;
}

int pl_kz_tconfig_copy(pl_kz_tconfig **out, const pl_kz_tconfig *src)
{
    pl_kz_tconfig *tc = NULL;
    pl_kz_fslist *l;
    int error = 0;

    *out = NULL;
    if (!(tc = pl_calloc(1, sizeof(*tc))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    for (size_t i = 0; (l = lists(tc, i)) != NULL; i++)
        if ((error = pl_kz_fslist_copy(l, lists((pl_kz_tconfig *)src, i))) < 0)
            goto done;
    for (size_t i = 0; i < src->nnameref; i++) {
        const pl_kz_nameref *nr = &src->nameref[i];
        if ((error = nameref_append(tc, nr->group, nr->version, nr->kind, &nr->referrers)) < 0)
            goto done;
    }
    *out = tc;
    tc = NULL;
done:
    pl_kz_tconfig_free(tc);
    return error;
}

/* ---- parsing a config document --------------------------------------------------------------- */

/*
 * Go's encoding/json (behind sigs.k8s.io/yaml) matches struct keys case-insensitively; the
 * last matching key of the document wins.
 */
static json_t *get_ci(const json_t *o, const char *key)
{
    const char *k;
    json_t *v, *found = NULL;

    if (!json_is_object(o))
        return NULL;
    json_object_foreach((json_t *)o, k, v) {
        if (!strcasecmp(k, key))
            found = v;
    }
    return found;
}

static const char *get_str_ci(const json_t *o, const char *key)
{
    json_t *v = get_ci(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* TransformerConfig json keys, in the order of `lists()` */
static const char *const list_keys[] = {
    "namePrefix",   "nameSuffix", "namespace", "commonLabels", "templateLabels",
    "commonAnnotations", "varReference", "images", "replicas", "labels",
    "volumeClaimTemplateLabels"};

/* decode one TransformerConfig document into an empty tc (kept as written, then sorted) */
static int parse_config(pl_kz_tconfig *tc, const json_t *cfg, const char *what)
{
    json_t *nrs, *e;
    size_t i;
    int error;

    if (json_is_null(cfg))
        return 0;
    if (!json_is_object(cfg))
        return pl_error_set(PL_EINVALID, "%s: transformer configuration must be a map", what);
    for (i = 0; i < sizeof(list_keys) / sizeof(list_keys[0]); i++) {
        if ((error = pl_kz_fslist_add_json(lists(tc, i), get_ci(cfg, list_keys[i]))) < 0)
            return pl_error_prefix("%s: %s", what, list_keys[i]);
    }
    nrs = get_ci(cfg, "nameReference");
    if (nrs && !json_is_null(nrs)) {
        if (!json_is_array(nrs))
            return pl_error_set(PL_EINVALID, "%s: nameReference: expected a list", what);
        json_array_foreach(nrs, i, e) {
            if (!json_is_object(e))
                return pl_error_set(PL_EINVALID, "%s: nameReference[%zu]: expected a map", what,
                                    i);
            if ((error = nameref_append(tc, get_str_ci(e, "group"), get_str_ci(e, "version"),
                                        get_str_ci(e, "kind"), NULL)) < 0)
                return error;
            if ((error = pl_kz_fslist_add_json(&tc->nameref[tc->nnameref - 1].referrers,
                                               get_ci(e, "fieldSpecs"))) < 0)
                return pl_error_prefix("%s: nameReference[%zu]", what, i);
        }
    }
    sort_all(tc);
    return 0;
}

/* ---- merging (api/types/fieldspec.go MergeOne, builtinconfig nbrSlice.mergeOne) ------------- */

static int nz_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* x is selected by sel: sel's non-empty parts must equal x's (resid.Gvk.IsSelected) */
static int gvk_selected(const pl_kz_fieldspec *x, const pl_kz_fieldspec *sel)
{
    if (sel->group && *sel->group && !nz_eq(x->group, sel->group))
        return 0;
    if (sel->version && *sel->version && !nz_eq(x->version, sel->version))
        return 0;
    if (sel->kind && *sel->kind && !nz_eq(x->kind, sel->kind))
        return 0;
    return 1;
}

static void fs_string(pl_buf *b, const pl_kz_fieldspec *fs)
{
    pl_buf_printf(b, "%s.%s.%s:%s:%s", fs->kind && *fs->kind ? fs->kind : "[noKind]",
                  fs->version && *fs->version ? fs->version : "[noVer]",
                  fs->group && *fs->group ? fs->group : "[noGrp]", fs->create ? "true" : "false",
                  fs->path ? fs->path : "");
}

static int merge_one(pl_kz_fslist *dst, const pl_kz_fieldspec *x)
{
    for (size_t i = 0; i < dst->n; i++) {
        const pl_kz_fieldspec *e = &dst->v[i];
        if (nz_eq(e->path, x->path) && gvk_selected(e, x)) {
            if (!e->create != !x->create) {
                pl_buf b = PL_BUF_INIT;
                fs_string(&b, x);
                pl_buf_puts(&b, " vs ");
                fs_string(&b, e);
                pl_error_set(PL_EINVALID, "conflicting fieldspecs: %s", b.ptr ? b.ptr : "");
                pl_buf_dispose(&b);
                return PL_EINVALID;
            }
            return 0;
        }
    }
    /* absent: append (an exact duplicate would have been found above) */
    return pl_kz_fslist_add(dst, x);
}

static int merge_all(pl_kz_fslist *dst, const pl_kz_fslist *src)
{
    int error;
    for (size_t i = 0; i < src->n; i++)
        if ((error = merge_one(dst, &src->v[i])) < 0)
            return error;
    return 0;
}

static int merge_config(pl_kz_tconfig *dst, const pl_kz_tconfig *src)
{
    pl_kz_fslist *l;
    int error;

    for (size_t i = 0; (l = lists(dst, i)) != NULL; i++)
        if ((error = merge_all(l, lists((pl_kz_tconfig *)src, i))) < 0)
            return error;
    for (size_t i = 0; i < src->nnameref; i++) {
        const pl_kz_nameref *in = &src->nameref[i];
        int found = 0;
        for (size_t j = 0; j < dst->nnameref; j++) {
            pl_kz_nameref *c = &dst->nameref[j];
            if (nz_eq(c->group, in->group) && nz_eq(c->version, in->version) &&
                nz_eq(c->kind, in->kind)) {
                if ((error = merge_all(&c->referrers, &in->referrers)) < 0)
                    return error;
                found = 1;
            }
        }
        if (!found &&
            (error = nameref_append(dst, in->group, in->version, in->kind, &in->referrers)) < 0)
            return error;
    }
    sort_all(dst);
    return 0;
}

/* ---- public ---------------------------------------------------------------------------------- */

int pl_kz_tconfig_default(pl_kz_tconfig **out)
{
    pl_kz_tconfig *tc = NULL;
    json_t *docs = NULL;
    int error = 0;

    *out = NULL;
    if (!(tc = pl_calloc(1, sizeof(*tc))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    /* kustomize joins the tables into one document and decodes it once */
    for (size_t t = 0; t < sizeof(default_tables) / sizeof(default_tables[0]); t++) {
        size_t i;
        json_t *doc;
        if ((error = pl_yaml_parse(&docs, default_tables[t], strlen(default_tables[t]),
                                   "builtin field specs", NULL)) < 0)
            goto done;
        json_array_foreach(docs, i, doc) {
            json_t *nrs;
            size_t k;
            for (k = 0; k < sizeof(list_keys) / sizeof(list_keys[0]); k++)
                if ((error = pl_kz_fslist_add_json(lists(tc, k),
                                                   json_object_get(doc, list_keys[k]))) < 0)
                    goto done;
            nrs = json_object_get(doc, "nameReference");
            if (json_is_array(nrs)) {
                json_t *e;
                json_array_foreach(nrs, k, e) {
                    if ((error = nameref_append(tc, pl_json_str(e, "group", NULL),
                                                pl_json_str(e, "version", NULL),
                                                pl_json_str(e, "kind", NULL), NULL)) < 0 ||
                        (error = pl_kz_fslist_add_json(&tc->nameref[tc->nnameref - 1].referrers,
                                                       json_object_get(e, "fieldSpecs"))) < 0)
                        goto done;
                }
            }
        }
        json_decref(docs);
        docs = NULL;
    }
    sort_all(tc);
    *out = tc;
    tc = NULL;
done:
    json_decref(docs);
    pl_kz_tconfig_free(tc);
    return error;
}

int pl_kz_tconfig_merge(pl_kz_tconfig *dst, const pl_kz_tconfig *src)
{
    return merge_config(dst, src);
}

int pl_kz_tconfig_merge_json(pl_kz_tconfig *tc, const json_t *cfg)
{
    pl_kz_tconfig *in = NULL;
    int error;

    if (!(in = pl_calloc(1, sizeof(*in))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    if ((error = parse_config(in, cfg, "configurations")) < 0)
        goto done;
    error = merge_config(tc, in);
done:
    pl_kz_tconfig_free(in);
    return error;
}

/* ---- crds: (api/internal/accumulator/loadconfigfromcrds.go) ---------------------------------- */

/* OpenAPI extension lookup: go-openapi lower-cases extension keys; only string values count */
static const char *ext_str(const json_t *prop, const char *key)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)prop, k, v) {
        if (!strcasecmp(k, key))
            return json_is_string(v) ? json_string_value(v) : NULL;
    }
    return NULL;
}

typedef struct crd_walk {
    pl_kz_tconfig *tc;
    const json_t *defs;
    const char *kind;
    pl_buf path;
} crd_walk;

static int add_spec(pl_kz_fslist *l, const char *kind, const char *path)
{
    pl_kz_fieldspec fs;

    memset(&fs, 0, sizeof(fs));
    fs.kind = (char *)kind;
    fs.path = (char *)path;
    return merge_one(l, &fs);
}

static int crd_type(crd_walk *w, const char *type_name, int depth)
{
    json_t *def = json_object_get(w->defs, type_name);
    json_t *props = get_ci(get_ci(def, "Schema"), "properties");
    const char *name;
    json_t *prop;
    int error;

    /* kustomize recurses through $ref without a guard; stop runaway cycles here */
    if (!json_is_object(props) || depth > 64)
        return 0;
    json_object_foreach(props, name, prop) {
        size_t saved = w->path.len;
        const char *ver, *kind, *ref;

        if (!json_is_object(prop))
            continue;
        if (w->path.len)
            pl_buf_putc(&w->path, '/');
        pl_buf_puts(&w->path, name);
        if (ext_str(prop, "x-kubernetes-annotation") &&
            (error = add_spec(&w->tc->common_annotations, w->kind, w->path.ptr)) < 0)
            return error;
        if (ext_str(prop, "x-kubernetes-label-selector") &&
            (error = add_spec(&w->tc->common_labels, w->kind, w->path.ptr)) < 0)
            return error;
        if (ext_str(prop, "x-kubernetes-identity") &&
            (error = add_spec(&w->tc->name_prefix, w->kind, w->path.ptr)) < 0)
            return error;
        ver = ext_str(prop, "x-kubernetes-object-ref-api-version");
        kind = ext_str(prop, "x-kubernetes-object-ref-kind");
        if (ver && kind) {
            const char *key = ext_str(prop, "x-kubernetes-object-ref-name-key");
            pl_kz_tconfig one;
            pl_buf p = PL_BUF_INIT;

            memset(&one, 0, sizeof(one));
            pl_buf_printf(&p, "%s/%s", w->path.ptr, key ? key : "name");
            error = nameref_append(&one, NULL, ver, kind, NULL);
            if (!error)
                error = add_spec(&one.nameref[0].referrers, w->kind, p.ptr);
            pl_buf_dispose(&p);
            if (!error) {
                /* AddNamereferenceFieldSpec: merge into the entry of the same gvk */
                int found = 0;
                for (size_t j = 0; j < w->tc->nnameref && !error; j++) {
                    pl_kz_nameref *c = &w->tc->nameref[j];
                    if (nz_eq(c->group, NULL) && nz_eq(c->version, ver) && nz_eq(c->kind, kind)) {
                        error = merge_all(&c->referrers, &one.nameref[0].referrers);
                        found = 1;
                    }
                }
                if (!found && !error)
                    error = nameref_append(w->tc, NULL, ver, kind, &one.nameref[0].referrers);
            }
            for (size_t j = 0; j < one.nnameref; j++)
                nameref_dispose(&one.nameref[j]);
            pl_free(one.nameref);
            if (error < 0)
                return error;
        }
        ref = pl_json_str(prop, "$ref", NULL);
        if (ref && (error = crd_type(w, ref, depth + 1)) < 0)
            return error;
        w->path.len = saved;
        if (w->path.ptr)
            w->path.ptr[saved] = '\0';
    }
    return 0;
}

int pl_kz_tconfig_merge_crd(pl_kz_tconfig *tc, const json_t *crd)
{
    pl_kz_tconfig *in = NULL;
    const char *type_name;
    json_t *def;
    int error = 0;

    if (!json_is_object(crd))
        return pl_error_set(PL_EINVALID,
                            "crds: expected a map of type names to open API definitions");
    if (!(in = pl_calloc(1, sizeof(*in))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    json_object_foreach((json_t *)crd, type_name, def) {
        json_t *props = get_ci(get_ci(def, "Schema"), "properties");
        const char *dot = strrchr(type_name, '.');
        int ndots = 0;
        crd_walk w;

        /* looksLikeAk8sType: kind, apiVersion and metadata properties */
        if (!json_is_object(props) || !json_object_get(props, "kind") ||
            !json_object_get(props, "apiVersion") || !json_object_get(props, "metadata"))
            continue;
        memset(&w, 0, sizeof(w));
        w.tc = in;
        w.defs = crd;
        w.kind = dot ? dot + 1 : type_name;
        error = crd_type(&w, type_name, 0);
        pl_buf_dispose(&w.path);
        if (error < 0)
            goto done;
        /* registerCrdScheme wants group.version.kind */
        for (const char *c = type_name; *c; c++)
            ndots += *c == '.';
        if (ndots < 2) {
            error = pl_error_set(PL_EINVALID,
                                 "`api` should be specified in dot notation: group.version.kind");
            goto done;
        }
    }
    sort_all(in);
    error = merge_config(tc, in);
done:
    pl_kz_tconfig_free(in);
    return error;
}
