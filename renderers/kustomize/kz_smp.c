/*
 * kz_smp.c - strategic merge patch as kustomize v5 applies it, and the merge-key table of the
 * Kubernetes types.
 *
 * kustomize does not use apimachinery's strategic merge here: PatchTransformer and
 * PatchStrategicMergeTransformer call kyaml's merge2.Merge (api/filters/patchstrategicmerge),
 * which walks target and patch together (kyaml/yaml/walk) with the "merge" visitor and
 * ListIncreaseDirection = MergeOptionsListPrepend. This file is a port of that walker onto
 * jansson values, quirks included, because the quirks show in the output:
 *
 *  - maps merge key by key; a patch value `null` removes the field; a `null` already in the
 *    target survives (kyaml keeps explicit nulls; it drops only an empty `key:`, which the JSON
 *    model cannot tell apart from `key: null`);
 *  - `$patch: delete|replace|merge` on a map (`delete` on the whole patch deletes the resource),
 *    `- $patch: delete|replace|merge` as the only key of a list element (applies to the list);
 *  - lists whose schema says x-kubernetes-patch-strategy: merge are merged by the merge keys
 *    (x-kubernetes-list-map-keys, else x-kubernetes-patch-merge-key; none = a primitive set
 *    like finalizers). The patch's elements come first, then the target's others (prepend);
 *    elements with an empty value for a key, null/`{}` elements and duplicates are handled the
 *    way kyaml's ElementSetter does (pinned by the unit tests, checked against kubectl);
 *  - every other list is replaced by the patch's; `$setElementOrder/..`, `$retainKeys`,
 *    `$deleteFromPrimitiveList/..` mean nothing to kyaml and are copied like any field;
 *  - a patch value of another kind than the target's (map vs list vs scalar) is an error;
 *  - the schema comes from the object's apiVersion/kind, also for maps nested anywhere that
 *    carry both fields (kyaml Walker.GetSchema). Without a schema (CRDs) every list is
 *    replaced. A custom `openapi:` document replaces the builtin schema, unless kustomize had
 *    already loaded the builtin one (pl_kz_smp_apply_ex): then it only adds to it;
 *  - at the top, only in-place changes count: `$patch: replace` on the whole patch is a no-op.
 *
 * Not done here: restoring name/kind/namespace after the patch, deciding which resources a
 * patch targets, and which schema is in force (kz_patch.c, kz_build.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kz.h"

/* ---- the builtin schema: Kubernetes v1.21.2 as compiled into kustomize v5 (kyaml) -------- */

/*
 * Only what changes the merge is kept: the list fields with patch strategy "merge" and the
 * object fields leading to them. A type is a "shape": its relevant fields. Any other field of
 * a known type has a schema without merge lists (SH_NONE); unlike a missing schema, that also
 * stops kyaml from looking for apiVersion/kind further down. Shapes shared by many types are
 * merged (e.g. SH_WORKLOAD is Deployment, StatefulSet, DaemonSet, ReplicaSet, Job and
 * ReplicationController). Generated from the swagger document embedded in kustomize 5.5 and
 * checked field by field against it.
 */
enum {
    SH_NONE,
    SH_META,            /* ObjectMeta */
    SH_RES,             /* a kind whose only merge lists are in its metadata */
    SH_CONTAINER,       /* Container */
    SH_EPHEMERAL,       /* EphemeralContainer (ports has no patch strategy there) */
    SH_VOLUME,          /* Volume */
    SH_EPHVOL,          /* EphemeralVolumeSource */
    SH_PODSPEC,         /* PodSpec */
    SH_PODSTATUS,       /* PodStatus */
    SH_POD,             /* Pod */
    SH_CONDS,           /* the *Status types whose conditions merge by type */
    SH_RES_CONDS,       /* APIService, Namespace, PersistentVolumeClaim, PodDisruptionBudget */
    SH_PODTEMPLATESPEC, /* PodTemplateSpec */
    SH_TEMPLATE_SPEC,   /* DeploymentSpec, JobSpec, ... (spec.template) */
    SH_WORKLOAD,        /* Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, RC */
    SH_COMPONENTSTATUS, /* ComponentStatus */
    SH_WEBHOOKS,        /* Mutating/ValidatingWebhookConfiguration */
    SH_SERVICEACCOUNT,  /* ServiceAccount */
    SH_CSINODESPEC,     /* CSINodeSpec */
    SH_CSINODE,         /* CSINode */
    SH_JOBTEMPLATE,     /* JobTemplateSpec */
    SH_CRONJOBSPEC,     /* CronJobSpec */
    SH_CRONJOB,         /* CronJob */
    SH_SERVICESPEC,     /* ServiceSpec */
    SH_SERVICE,         /* Service */
    SH_NODESPEC,        /* NodeSpec */
    SH_NODESTATUS,      /* NodeStatus */
    SH_NODE,            /* Node */
    SH_PODTEMPLATE,     /* PodTemplate */
    SH_COUNT
};

typedef struct sm_field {
    const char *name;
    unsigned char shape; /* shape of the value, or of each element of a merge list */
    unsigned char merge; /* 1: a list with x-kubernetes-patch-strategy "merge" */
    const char *keys[2]; /* its merge keys in order, NULL-terminated; none: primitive set */
} sm_field;

#define FLD(n, s) {n, s, 0, {NULL, NULL}}
#define LST(n, s, k1, k2) {n, s, 1, {k1, k2}}
#define END {NULL, 0, 0, {NULL, NULL}}

static const sm_field sh_none[] = {END};
static const sm_field sh_meta[] = {
    LST("finalizers", SH_NONE, NULL, NULL),
    LST("ownerReferences", SH_NONE, "uid", NULL),
    END,
};
static const sm_field sh_res[] = {FLD("metadata", SH_META), END};
static const sm_field sh_container[] = {
    LST("env", SH_NONE, "name", NULL),
    LST("ports", SH_NONE, "containerPort", "protocol"),
    LST("volumeDevices", SH_NONE, "devicePath", NULL),
    LST("volumeMounts", SH_NONE, "mountPath", NULL),
    END,
};
static const sm_field sh_ephemeral[] = {
    LST("env", SH_NONE, "name", NULL),
    LST("volumeDevices", SH_NONE, "devicePath", NULL),
    LST("volumeMounts", SH_NONE, "mountPath", NULL),
    END,
};
static const sm_field sh_volume[] = {FLD("ephemeral", SH_EPHVOL), END};
static const sm_field sh_ephvol[] = {FLD("volumeClaimTemplate", SH_RES), END};
static const sm_field sh_podspec[] = {
    LST("containers", SH_CONTAINER, "name", NULL),
    LST("ephemeralContainers", SH_EPHEMERAL, "name", NULL),
    LST("hostAliases", SH_NONE, "ip", NULL),
    LST("imagePullSecrets", SH_NONE, "name", NULL),
    LST("initContainers", SH_CONTAINER, "name", NULL),
    LST("topologySpreadConstraints", SH_NONE, "topologyKey", "whenUnsatisfiable"),
    LST("volumes", SH_VOLUME, "name", NULL), /* strategy "merge,retainKeys" */
    END,
};
static const sm_field sh_podstatus[] = {
    LST("conditions", SH_NONE, "type", NULL),
    LST("podIPs", SH_NONE, "ip", NULL),
    END,
};
static const sm_field sh_pod[] = {
    FLD("metadata", SH_META),
    FLD("spec", SH_PODSPEC),
    FLD("status", SH_PODSTATUS),
    END,
};
static const sm_field sh_conds[] = {LST("conditions", SH_NONE, "type", NULL), END};
static const sm_field sh_res_conds[] = {
    FLD("metadata", SH_META),
    FLD("status", SH_CONDS),
    END,
};
static const sm_field sh_podtemplatespec[] = {
    FLD("metadata", SH_META),
    FLD("spec", SH_PODSPEC),
    END,
};
static const sm_field sh_template_spec[] = {
    FLD("template", SH_PODTEMPLATESPEC),
    END,
};
static const sm_field sh_workload[] = {
    FLD("metadata", SH_META),
    FLD("spec", SH_TEMPLATE_SPEC),
    FLD("status", SH_CONDS),
    END,
};
static const sm_field sh_componentstatus[] = {
    LST("conditions", SH_NONE, "type", NULL),
    FLD("metadata", SH_META),
    END,
};
static const sm_field sh_webhooks[] = {
    FLD("metadata", SH_META),
    LST("webhooks", SH_NONE, "name", NULL),
    END,
};
static const sm_field sh_serviceaccount[] = {
    FLD("metadata", SH_META),
    LST("secrets", SH_NONE, "name", NULL),
    END,
};
static const sm_field sh_csinodespec[] = {LST("drivers", SH_NONE, "name", NULL), END};
static const sm_field sh_csinode[] = {
    FLD("metadata", SH_META),
    FLD("spec", SH_CSINODESPEC),
    END,
};
static const sm_field sh_jobtemplate[] = {
    FLD("metadata", SH_META),
    FLD("spec", SH_TEMPLATE_SPEC),
    END,
};
static const sm_field sh_cronjobspec[] = {FLD("jobTemplate", SH_JOBTEMPLATE), END};
static const sm_field sh_cronjob[] = {
    FLD("metadata", SH_META),
    FLD("spec", SH_CRONJOBSPEC),
    END,
};
static const sm_field sh_servicespec[] = {
    LST("ports", SH_NONE, "port", "protocol"),
    END,
};
static const sm_field sh_service[] = {
    FLD("metadata", SH_META),
    FLD("spec", SH_SERVICESPEC),
    FLD("status", SH_CONDS),
    END,
};
static const sm_field sh_nodespec[] = {LST("podCIDRs", SH_NONE, NULL, NULL), END};
static const sm_field sh_nodestatus[] = {
    LST("addresses", SH_NONE, "type", NULL),
    LST("conditions", SH_NONE, "type", NULL),
    END,
};
static const sm_field sh_node[] = {
    FLD("metadata", SH_META),
    FLD("spec", SH_NODESPEC),
    FLD("status", SH_NODESTATUS),
    END,
};
static const sm_field sh_podtemplate[] = {
    FLD("metadata", SH_META),
    FLD("template", SH_PODTEMPLATESPEC),
    END,
};

static const sm_field *const shapes[SH_COUNT] = {
    [SH_NONE] = sh_none,
    [SH_META] = sh_meta,
    [SH_RES] = sh_res,
    [SH_CONTAINER] = sh_container,
    [SH_EPHEMERAL] = sh_ephemeral,
    [SH_VOLUME] = sh_volume,
    [SH_EPHVOL] = sh_ephvol,
    [SH_PODSPEC] = sh_podspec,
    [SH_PODSTATUS] = sh_podstatus,
    [SH_POD] = sh_pod,
    [SH_CONDS] = sh_conds,
    [SH_RES_CONDS] = sh_res_conds,
    [SH_PODTEMPLATESPEC] = sh_podtemplatespec,
    [SH_TEMPLATE_SPEC] = sh_template_spec,
    [SH_WORKLOAD] = sh_workload,
    [SH_COMPONENTSTATUS] = sh_componentstatus,
    [SH_WEBHOOKS] = sh_webhooks,
    [SH_SERVICEACCOUNT] = sh_serviceaccount,
    [SH_CSINODESPEC] = sh_csinodespec,
    [SH_CSINODE] = sh_csinode,
    [SH_JOBTEMPLATE] = sh_jobtemplate,
    [SH_CRONJOBSPEC] = sh_cronjobspec,
    [SH_CRONJOB] = sh_cronjob,
    [SH_SERVICESPEC] = sh_servicespec,
    [SH_SERVICE] = sh_service,
    [SH_NODESPEC] = sh_nodespec,
    [SH_NODESTATUS] = sh_nodestatus,
    [SH_NODE] = sh_node,
    [SH_PODTEMPLATE] = sh_podtemplate,
};

typedef struct sm_kind {
    const char *api_version, *kind;
    unsigned char shape;
    unsigned char scoped; /* in kyaml's precomputed namespace-scope table */
} sm_kind;

/*
 * Every apiVersion/kind of the builtin schema (x-kubernetes-group-version-kind), sorted by
 * apiVersion then kind (strcmp) for bsearch. SH_NONE: known, but no merge lists (list kinds
 * replace their items).
 */
static const sm_kind kinds[] = {
    {"admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", SH_WEBHOOKS, 1},
    {"admissionregistration.k8s.io/v1", "MutatingWebhookConfigurationList", SH_NONE, 0},
    {"admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", SH_WEBHOOKS, 1},
    {"admissionregistration.k8s.io/v1", "ValidatingWebhookConfigurationList", SH_NONE, 0},
    {"admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration", SH_WEBHOOKS, 1},
    {"admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfigurationList", SH_NONE, 0},
    {"admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration", SH_WEBHOOKS, 1},
    {"admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfigurationList", SH_NONE, 0},
    {"apiextensions.k8s.io/v1", "CustomResourceDefinition", SH_RES, 1},
    {"apiextensions.k8s.io/v1", "CustomResourceDefinitionList", SH_NONE, 0},
    {"apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", SH_RES, 1},
    {"apiextensions.k8s.io/v1beta1", "CustomResourceDefinitionList", SH_NONE, 0},
    {"apiregistration.k8s.io/v1", "APIService", SH_RES_CONDS, 1},
    {"apiregistration.k8s.io/v1", "APIServiceList", SH_NONE, 0},
    {"apiregistration.k8s.io/v1beta1", "APIService", SH_RES_CONDS, 1},
    {"apiregistration.k8s.io/v1beta1", "APIServiceList", SH_NONE, 0},
    {"apps/v1", "ControllerRevision", SH_RES, 1},
    {"apps/v1", "ControllerRevisionList", SH_NONE, 0},
    {"apps/v1", "DaemonSet", SH_WORKLOAD, 1},
    {"apps/v1", "DaemonSetList", SH_NONE, 0},
    {"apps/v1", "Deployment", SH_WORKLOAD, 1},
    {"apps/v1", "DeploymentList", SH_NONE, 0},
    {"apps/v1", "ReplicaSet", SH_WORKLOAD, 1},
    {"apps/v1", "ReplicaSetList", SH_NONE, 0},
    {"apps/v1", "StatefulSet", SH_WORKLOAD, 1},
    {"apps/v1", "StatefulSetList", SH_NONE, 0},
    {"authentication.k8s.io/v1", "TokenRequest", SH_RES, 0},
    {"authentication.k8s.io/v1", "TokenReview", SH_RES, 0},
    {"authentication.k8s.io/v1beta1", "TokenReview", SH_RES, 0},
    {"authorization.k8s.io/v1", "LocalSubjectAccessReview", SH_RES, 0},
    {"authorization.k8s.io/v1", "SelfSubjectAccessReview", SH_RES, 0},
    {"authorization.k8s.io/v1", "SelfSubjectRulesReview", SH_RES, 0},
    {"authorization.k8s.io/v1", "SubjectAccessReview", SH_RES, 0},
    {"authorization.k8s.io/v1beta1", "LocalSubjectAccessReview", SH_RES, 0},
    {"authorization.k8s.io/v1beta1", "SelfSubjectAccessReview", SH_RES, 0},
    {"authorization.k8s.io/v1beta1", "SelfSubjectRulesReview", SH_RES, 0},
    {"authorization.k8s.io/v1beta1", "SubjectAccessReview", SH_RES, 0},
    {"autoscaling/v1", "HorizontalPodAutoscaler", SH_RES, 1},
    {"autoscaling/v1", "HorizontalPodAutoscalerList", SH_NONE, 0},
    {"autoscaling/v1", "Scale", SH_RES, 1},
    {"autoscaling/v2beta1", "HorizontalPodAutoscaler", SH_RES, 1},
    {"autoscaling/v2beta1", "HorizontalPodAutoscalerList", SH_NONE, 0},
    {"autoscaling/v2beta2", "HorizontalPodAutoscaler", SH_RES, 1},
    {"autoscaling/v2beta2", "HorizontalPodAutoscalerList", SH_NONE, 0},
    {"batch/v1", "CronJob", SH_CRONJOB, 1},
    {"batch/v1", "CronJobList", SH_NONE, 0},
    {"batch/v1", "Job", SH_WORKLOAD, 1},
    {"batch/v1", "JobList", SH_NONE, 0},
    {"batch/v1beta1", "CronJob", SH_CRONJOB, 1},
    {"batch/v1beta1", "CronJobList", SH_NONE, 0},
    {"certificates.k8s.io/v1", "CertificateSigningRequest", SH_RES, 1},
    {"certificates.k8s.io/v1", "CertificateSigningRequestList", SH_NONE, 0},
    {"certificates.k8s.io/v1beta1", "CertificateSigningRequest", SH_RES, 1},
    {"certificates.k8s.io/v1beta1", "CertificateSigningRequestList", SH_NONE, 0},
    {"coordination.k8s.io/v1", "Lease", SH_RES, 1},
    {"coordination.k8s.io/v1", "LeaseList", SH_NONE, 0},
    {"coordination.k8s.io/v1beta1", "Lease", SH_RES, 1},
    {"coordination.k8s.io/v1beta1", "LeaseList", SH_NONE, 0},
    {"discovery.k8s.io/v1", "EndpointSlice", SH_RES, 1},
    {"discovery.k8s.io/v1", "EndpointSliceList", SH_NONE, 0},
    {"discovery.k8s.io/v1beta1", "EndpointSlice", SH_RES, 1},
    {"discovery.k8s.io/v1beta1", "EndpointSliceList", SH_NONE, 0},
    {"events.k8s.io/v1", "Event", SH_RES, 1},
    {"events.k8s.io/v1", "EventList", SH_NONE, 0},
    {"events.k8s.io/v1beta1", "Event", SH_RES, 1},
    {"events.k8s.io/v1beta1", "EventList", SH_NONE, 0},
    {"extensions/v1beta1", "Ingress", SH_RES, 1},
    {"extensions/v1beta1", "IngressList", SH_NONE, 0},
    {"flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", SH_RES, 1},
    {"flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchemaList", SH_NONE, 0},
    {"flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration", SH_RES, 1},
    {"flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfigurationList", SH_NONE, 0},
    {"networking.k8s.io/v1", "Ingress", SH_RES, 1},
    {"networking.k8s.io/v1", "IngressClass", SH_RES, 1},
    {"networking.k8s.io/v1", "IngressClassList", SH_NONE, 0},
    {"networking.k8s.io/v1", "IngressList", SH_NONE, 0},
    {"networking.k8s.io/v1", "NetworkPolicy", SH_RES, 1},
    {"networking.k8s.io/v1", "NetworkPolicyList", SH_NONE, 0},
    {"networking.k8s.io/v1beta1", "Ingress", SH_RES, 1},
    {"networking.k8s.io/v1beta1", "IngressClass", SH_RES, 1},
    {"networking.k8s.io/v1beta1", "IngressClassList", SH_NONE, 0},
    {"networking.k8s.io/v1beta1", "IngressList", SH_NONE, 0},
    {"node.k8s.io/v1", "RuntimeClass", SH_RES, 1},
    {"node.k8s.io/v1", "RuntimeClassList", SH_NONE, 0},
    {"node.k8s.io/v1beta1", "RuntimeClass", SH_RES, 1},
    {"node.k8s.io/v1beta1", "RuntimeClassList", SH_NONE, 0},
    {"policy/v1", "PodDisruptionBudget", SH_RES_CONDS, 1},
    {"policy/v1", "PodDisruptionBudgetList", SH_NONE, 0},
    {"policy/v1beta1", "Eviction", SH_RES, 0},
    {"policy/v1beta1", "PodDisruptionBudget", SH_RES_CONDS, 1},
    {"policy/v1beta1", "PodDisruptionBudgetList", SH_NONE, 0},
    {"policy/v1beta1", "PodSecurityPolicy", SH_RES, 1},
    {"policy/v1beta1", "PodSecurityPolicyList", SH_NONE, 0},
    {"rbac.authorization.k8s.io/v1", "ClusterRole", SH_RES, 1},
    {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", SH_RES, 1},
    {"rbac.authorization.k8s.io/v1", "ClusterRoleBindingList", SH_NONE, 0},
    {"rbac.authorization.k8s.io/v1", "ClusterRoleList", SH_NONE, 0},
    {"rbac.authorization.k8s.io/v1", "Role", SH_RES, 1},
    {"rbac.authorization.k8s.io/v1", "RoleBinding", SH_RES, 1},
    {"rbac.authorization.k8s.io/v1", "RoleBindingList", SH_NONE, 0},
    {"rbac.authorization.k8s.io/v1", "RoleList", SH_NONE, 0},
    {"rbac.authorization.k8s.io/v1beta1", "ClusterRole", SH_RES, 1},
    {"rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding", SH_RES, 1},
    {"rbac.authorization.k8s.io/v1beta1", "ClusterRoleBindingList", SH_NONE, 0},
    {"rbac.authorization.k8s.io/v1beta1", "ClusterRoleList", SH_NONE, 0},
    {"rbac.authorization.k8s.io/v1beta1", "Role", SH_RES, 1},
    {"rbac.authorization.k8s.io/v1beta1", "RoleBinding", SH_RES, 1},
    {"rbac.authorization.k8s.io/v1beta1", "RoleBindingList", SH_NONE, 0},
    {"rbac.authorization.k8s.io/v1beta1", "RoleList", SH_NONE, 0},
    {"scheduling.k8s.io/v1", "PriorityClass", SH_RES, 1},
    {"scheduling.k8s.io/v1", "PriorityClassList", SH_NONE, 0},
    {"scheduling.k8s.io/v1beta1", "PriorityClass", SH_RES, 1},
    {"scheduling.k8s.io/v1beta1", "PriorityClassList", SH_NONE, 0},
    {"storage.k8s.io/v1", "CSIDriver", SH_RES, 1},
    {"storage.k8s.io/v1", "CSIDriverList", SH_NONE, 0},
    {"storage.k8s.io/v1", "CSINode", SH_CSINODE, 1},
    {"storage.k8s.io/v1", "CSINodeList", SH_NONE, 0},
    {"storage.k8s.io/v1", "StorageClass", SH_RES, 1},
    {"storage.k8s.io/v1", "StorageClassList", SH_NONE, 0},
    {"storage.k8s.io/v1", "VolumeAttachment", SH_RES, 1},
    {"storage.k8s.io/v1", "VolumeAttachmentList", SH_NONE, 0},
    {"storage.k8s.io/v1beta1", "CSIDriver", SH_RES, 1},
    {"storage.k8s.io/v1beta1", "CSIDriverList", SH_NONE, 0},
    {"storage.k8s.io/v1beta1", "CSINode", SH_CSINODE, 1},
    {"storage.k8s.io/v1beta1", "CSINodeList", SH_NONE, 0},
    {"storage.k8s.io/v1beta1", "CSIStorageCapacity", SH_RES, 1},
    {"storage.k8s.io/v1beta1", "CSIStorageCapacityList", SH_NONE, 0},
    {"storage.k8s.io/v1beta1", "StorageClass", SH_RES, 1},
    {"storage.k8s.io/v1beta1", "StorageClassList", SH_NONE, 0},
    {"storage.k8s.io/v1beta1", "VolumeAttachment", SH_RES, 1},
    {"storage.k8s.io/v1beta1", "VolumeAttachmentList", SH_NONE, 0},
    {"v1", "APIGroup", SH_NONE, 0},
    {"v1", "APIGroupList", SH_NONE, 0},
    {"v1", "APIResourceList", SH_NONE, 0},
    {"v1", "APIVersions", SH_NONE, 0},
    {"v1", "Binding", SH_RES, 0},
    {"v1", "ComponentStatus", SH_COMPONENTSTATUS, 1},
    {"v1", "ComponentStatusList", SH_NONE, 0},
    {"v1", "ConfigMap", SH_RES, 1},
    {"v1", "ConfigMapList", SH_NONE, 0},
    {"v1", "Endpoints", SH_RES, 1},
    {"v1", "EndpointsList", SH_NONE, 0},
    {"v1", "Event", SH_RES, 1},
    {"v1", "EventList", SH_NONE, 0},
    {"v1", "LimitRange", SH_RES, 1},
    {"v1", "LimitRangeList", SH_NONE, 0},
    {"v1", "Namespace", SH_RES_CONDS, 1},
    {"v1", "NamespaceList", SH_NONE, 0},
    {"v1", "Node", SH_NODE, 1},
    {"v1", "NodeList", SH_NONE, 0},
    {"v1", "PersistentVolume", SH_RES, 1},
    {"v1", "PersistentVolumeClaim", SH_RES_CONDS, 1},
    {"v1", "PersistentVolumeClaimList", SH_NONE, 0},
    {"v1", "PersistentVolumeList", SH_NONE, 0},
    {"v1", "Pod", SH_POD, 1},
    {"v1", "PodList", SH_NONE, 0},
    {"v1", "PodTemplate", SH_PODTEMPLATE, 1},
    {"v1", "PodTemplateList", SH_NONE, 0},
    {"v1", "ReplicationController", SH_WORKLOAD, 1},
    {"v1", "ReplicationControllerList", SH_NONE, 0},
    {"v1", "ResourceQuota", SH_RES, 1},
    {"v1", "ResourceQuotaList", SH_NONE, 0},
    {"v1", "Secret", SH_RES, 1},
    {"v1", "SecretList", SH_NONE, 0},
    {"v1", "Service", SH_SERVICE, 1},
    {"v1", "ServiceAccount", SH_SERVICEACCOUNT, 1},
    {"v1", "ServiceAccountList", SH_NONE, 0},
    {"v1", "ServiceList", SH_NONE, 0},
    {"v1", "Status", SH_NONE, 0},
};

typedef struct sm_def {
    const char *name;
    unsigned char shape;
} sm_def;

/*
 * The builtin definitions with merge lists, by name, sorted (strcmp): what "$ref" names of a
 * custom schema resolve to when kustomize had loaded the builtin schema before it (see
 * pl_kz_smp_apply_ex). Other io.k8s.* definitions exist too but have no merge lists; for
 * those a custom definition of the same name is used (newer Kubernetes types).
 */
static const sm_def defs_by_name[] = {
    {"io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration", SH_WEBHOOKS},
    {"io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration", SH_WEBHOOKS},
    {"io.k8s.api.admissionregistration.v1beta1.MutatingWebhookConfiguration", SH_WEBHOOKS},
    {"io.k8s.api.admissionregistration.v1beta1.ValidatingWebhookConfiguration", SH_WEBHOOKS},
    {"io.k8s.api.apps.v1.ControllerRevision", SH_RES},
    {"io.k8s.api.apps.v1.DaemonSet", SH_WORKLOAD},
    {"io.k8s.api.apps.v1.DaemonSetSpec", SH_TEMPLATE_SPEC},
    {"io.k8s.api.apps.v1.DaemonSetStatus", SH_CONDS},
    {"io.k8s.api.apps.v1.Deployment", SH_WORKLOAD},
    {"io.k8s.api.apps.v1.DeploymentSpec", SH_TEMPLATE_SPEC},
    {"io.k8s.api.apps.v1.DeploymentStatus", SH_CONDS},
    {"io.k8s.api.apps.v1.ReplicaSet", SH_WORKLOAD},
    {"io.k8s.api.apps.v1.ReplicaSetSpec", SH_TEMPLATE_SPEC},
    {"io.k8s.api.apps.v1.ReplicaSetStatus", SH_CONDS},
    {"io.k8s.api.apps.v1.StatefulSet", SH_WORKLOAD},
    {"io.k8s.api.apps.v1.StatefulSetSpec", SH_TEMPLATE_SPEC},
    {"io.k8s.api.apps.v1.StatefulSetStatus", SH_CONDS},
    {"io.k8s.api.authentication.v1.TokenRequest", SH_RES},
    {"io.k8s.api.authentication.v1.TokenReview", SH_RES},
    {"io.k8s.api.authentication.v1beta1.TokenReview", SH_RES},
    {"io.k8s.api.authorization.v1.LocalSubjectAccessReview", SH_RES},
    {"io.k8s.api.authorization.v1.SelfSubjectAccessReview", SH_RES},
    {"io.k8s.api.authorization.v1.SelfSubjectRulesReview", SH_RES},
    {"io.k8s.api.authorization.v1.SubjectAccessReview", SH_RES},
    {"io.k8s.api.authorization.v1beta1.LocalSubjectAccessReview", SH_RES},
    {"io.k8s.api.authorization.v1beta1.SelfSubjectAccessReview", SH_RES},
    {"io.k8s.api.authorization.v1beta1.SelfSubjectRulesReview", SH_RES},
    {"io.k8s.api.authorization.v1beta1.SubjectAccessReview", SH_RES},
    {"io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler", SH_RES},
    {"io.k8s.api.autoscaling.v1.Scale", SH_RES},
    {"io.k8s.api.autoscaling.v2beta1.HorizontalPodAutoscaler", SH_RES},
    {"io.k8s.api.autoscaling.v2beta2.HorizontalPodAutoscaler", SH_RES},
    {"io.k8s.api.batch.v1.CronJob", SH_CRONJOB},
    {"io.k8s.api.batch.v1.CronJobSpec", SH_CRONJOBSPEC},
    {"io.k8s.api.batch.v1.Job", SH_WORKLOAD},
    {"io.k8s.api.batch.v1.JobSpec", SH_TEMPLATE_SPEC},
    {"io.k8s.api.batch.v1.JobStatus", SH_CONDS},
    {"io.k8s.api.batch.v1.JobTemplateSpec", SH_JOBTEMPLATE},
    {"io.k8s.api.batch.v1beta1.CronJob", SH_CRONJOB},
    {"io.k8s.api.batch.v1beta1.CronJobSpec", SH_CRONJOBSPEC},
    {"io.k8s.api.batch.v1beta1.JobTemplateSpec", SH_JOBTEMPLATE},
    {"io.k8s.api.certificates.v1.CertificateSigningRequest", SH_RES},
    {"io.k8s.api.certificates.v1beta1.CertificateSigningRequest", SH_RES},
    {"io.k8s.api.coordination.v1.Lease", SH_RES},
    {"io.k8s.api.coordination.v1beta1.Lease", SH_RES},
    {"io.k8s.api.core.v1.Binding", SH_RES},
    {"io.k8s.api.core.v1.ComponentStatus", SH_COMPONENTSTATUS},
    {"io.k8s.api.core.v1.ConfigMap", SH_RES},
    {"io.k8s.api.core.v1.Container", SH_CONTAINER},
    {"io.k8s.api.core.v1.Endpoints", SH_RES},
    {"io.k8s.api.core.v1.EphemeralContainer", SH_EPHEMERAL},
    {"io.k8s.api.core.v1.EphemeralVolumeSource", SH_EPHVOL},
    {"io.k8s.api.core.v1.Event", SH_RES},
    {"io.k8s.api.core.v1.LimitRange", SH_RES},
    {"io.k8s.api.core.v1.Namespace", SH_RES_CONDS},
    {"io.k8s.api.core.v1.NamespaceStatus", SH_CONDS},
    {"io.k8s.api.core.v1.Node", SH_NODE},
    {"io.k8s.api.core.v1.NodeSpec", SH_NODESPEC},
    {"io.k8s.api.core.v1.NodeStatus", SH_NODESTATUS},
    {"io.k8s.api.core.v1.PersistentVolume", SH_RES},
    {"io.k8s.api.core.v1.PersistentVolumeClaim", SH_RES_CONDS},
    {"io.k8s.api.core.v1.PersistentVolumeClaimStatus", SH_CONDS},
    {"io.k8s.api.core.v1.PersistentVolumeClaimTemplate", SH_RES},
    {"io.k8s.api.core.v1.Pod", SH_POD},
    {"io.k8s.api.core.v1.PodSpec", SH_PODSPEC},
    {"io.k8s.api.core.v1.PodStatus", SH_PODSTATUS},
    {"io.k8s.api.core.v1.PodTemplate", SH_PODTEMPLATE},
    {"io.k8s.api.core.v1.PodTemplateSpec", SH_PODTEMPLATESPEC},
    {"io.k8s.api.core.v1.ReplicationController", SH_WORKLOAD},
    {"io.k8s.api.core.v1.ReplicationControllerSpec", SH_TEMPLATE_SPEC},
    {"io.k8s.api.core.v1.ReplicationControllerStatus", SH_CONDS},
    {"io.k8s.api.core.v1.ResourceQuota", SH_RES},
    {"io.k8s.api.core.v1.Secret", SH_RES},
    {"io.k8s.api.core.v1.Service", SH_SERVICE},
    {"io.k8s.api.core.v1.ServiceAccount", SH_SERVICEACCOUNT},
    {"io.k8s.api.core.v1.ServiceSpec", SH_SERVICESPEC},
    {"io.k8s.api.core.v1.ServiceStatus", SH_CONDS},
    {"io.k8s.api.core.v1.Volume", SH_VOLUME},
    {"io.k8s.api.discovery.v1.EndpointSlice", SH_RES},
    {"io.k8s.api.discovery.v1beta1.EndpointSlice", SH_RES},
    {"io.k8s.api.events.v1.Event", SH_RES},
    {"io.k8s.api.events.v1beta1.Event", SH_RES},
    {"io.k8s.api.extensions.v1beta1.Ingress", SH_RES},
    {"io.k8s.api.flowcontrol.v1beta1.FlowSchema", SH_RES},
    {"io.k8s.api.flowcontrol.v1beta1.PriorityLevelConfiguration", SH_RES},
    {"io.k8s.api.networking.v1.Ingress", SH_RES},
    {"io.k8s.api.networking.v1.IngressClass", SH_RES},
    {"io.k8s.api.networking.v1.NetworkPolicy", SH_RES},
    {"io.k8s.api.networking.v1beta1.Ingress", SH_RES},
    {"io.k8s.api.networking.v1beta1.IngressClass", SH_RES},
    {"io.k8s.api.node.v1.RuntimeClass", SH_RES},
    {"io.k8s.api.node.v1beta1.RuntimeClass", SH_RES},
    {"io.k8s.api.policy.v1.PodDisruptionBudget", SH_RES_CONDS},
    {"io.k8s.api.policy.v1.PodDisruptionBudgetStatus", SH_CONDS},
    {"io.k8s.api.policy.v1beta1.Eviction", SH_RES},
    {"io.k8s.api.policy.v1beta1.PodDisruptionBudget", SH_RES_CONDS},
    {"io.k8s.api.policy.v1beta1.PodDisruptionBudgetStatus", SH_CONDS},
    {"io.k8s.api.policy.v1beta1.PodSecurityPolicy", SH_RES},
    {"io.k8s.api.rbac.v1.ClusterRole", SH_RES},
    {"io.k8s.api.rbac.v1.ClusterRoleBinding", SH_RES},
    {"io.k8s.api.rbac.v1.Role", SH_RES},
    {"io.k8s.api.rbac.v1.RoleBinding", SH_RES},
    {"io.k8s.api.rbac.v1beta1.ClusterRole", SH_RES},
    {"io.k8s.api.rbac.v1beta1.ClusterRoleBinding", SH_RES},
    {"io.k8s.api.rbac.v1beta1.Role", SH_RES},
    {"io.k8s.api.rbac.v1beta1.RoleBinding", SH_RES},
    {"io.k8s.api.scheduling.v1.PriorityClass", SH_RES},
    {"io.k8s.api.scheduling.v1beta1.PriorityClass", SH_RES},
    {"io.k8s.api.storage.v1.CSIDriver", SH_RES},
    {"io.k8s.api.storage.v1.CSINode", SH_CSINODE},
    {"io.k8s.api.storage.v1.CSINodeSpec", SH_CSINODESPEC},
    {"io.k8s.api.storage.v1.StorageClass", SH_RES},
    {"io.k8s.api.storage.v1.VolumeAttachment", SH_RES},
    {"io.k8s.api.storage.v1beta1.CSIDriver", SH_RES},
    {"io.k8s.api.storage.v1beta1.CSINode", SH_CSINODE},
    {"io.k8s.api.storage.v1beta1.CSINodeSpec", SH_CSINODESPEC},
    {"io.k8s.api.storage.v1beta1.CSIStorageCapacity", SH_RES},
    {"io.k8s.api.storage.v1beta1.StorageClass", SH_RES},
    {"io.k8s.api.storage.v1beta1.VolumeAttachment", SH_RES},
    {"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition", SH_RES},
    {"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1beta1.CustomResourceDefinition",
     SH_RES},
    {"io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", SH_META},
    {"io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService", SH_RES_CONDS},
    {"io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceStatus", SH_CONDS},
    {"io.k8s.kube-aggregator.pkg.apis.apiregistration.v1beta1.APIService", SH_RES_CONDS},
    {"io.k8s.kube-aggregator.pkg.apis.apiregistration.v1beta1.APIServiceStatus", SH_CONDS},
};

static int kind_cmp(const void *a, const void *b)
{
    const sm_kind *x = a, *y = b;
    int c = strcmp(x->api_version, y->api_version);
    return c ? c : strcmp(x->kind, y->kind);
}

/* ---- schema handles -------------------------------------------------------------------------- */

enum { SCH_NONE, SCH_SHAPE, SCH_LIST, SCH_JSON };

/* kyaml's *openapi.ResourceSchema: absent (NONE), or a builtin shape / merge-list field, or a
 * node of the custom document. */
typedef struct sch {
    int kind;
    unsigned char shape;  /* SCH_SHAPE */
    const sm_field *list; /* SCH_LIST: the merge-list field */
    const json_t *js;     /* SCH_JSON: resolved schema object */
} sch;

typedef struct pathseg {
    const struct pathseg *up;
    const char *name; /* NULL: a list element */
} pathseg;

/*
 * The schema in force. kustomize keeps one global schema: the builtin one, or a custom
 * document, or (when the builtin one had been loaded before the custom document was set) the
 * custom definitions added to the builtin ones, which keep their kinds and names.
 */
typedef struct wctx {
    const json_t *openapi; /* custom document or NULL */
    const json_t *defs;    /* its "definitions" */
    int builtin;           /* the builtin definitions are loaded too */
} wctx;

static const sch no_schema = {SCH_NONE, 0, NULL, NULL};

static int def_cmp(const void *a, const void *b)
{
    return strcmp(((const sm_def *)a)->name, ((const sm_def *)b)->name);
}

/* A builtin definition by name: its shape, SH_NONE for the others, SCH_NONE if unknown. */
static sch builtin_def(const char *name)
{
    sch r = no_schema;
    sm_def key = {name, 0};
    const sm_def *d = bsearch(&key, defs_by_name, sizeof(defs_by_name) / sizeof(defs_by_name[0]),
                              sizeof(defs_by_name[0]), def_cmp);

    if (d || strncmp(name, "io.k8s.", 7) == 0) {
        r.kind = SCH_SHAPE;
        r.shape = d ? d->shape : SH_NONE;
    }
    return r;
}

/* 1 if the builtin schema has a definition with merge lists of that name. */
static int builtin_has(const char *name)
{
    sm_def key = {name, 0};

    return bsearch(&key, defs_by_name, sizeof(defs_by_name) / sizeof(defs_by_name[0]),
                   sizeof(defs_by_name[0]), def_cmp) != NULL;
}

/* A definition of the custom document by name (borrowed), or NULL. */
static const json_t *custom_def(const wctx *w, const char *name)
{
    const json_t *d = w->defs && name ? pl_kz_obj_get(w->defs, name) : NULL;

    return json_is_object(d) ? d : NULL;
}

/*
 * Resolve the "$ref"s of a schema node of the custom document ("#/definitions/X", or any JSON
 * pointer into it). A definition the document lacks comes from the builtin schema when that
 * is loaded; otherwise the reference does not resolve (no schema).
 */
static sch sch_json(const wctx *w, const json_t *js)
{
    sch r = no_schema;
    int hops = 0;

    while (json_is_object(js)) {
        const char *ref = json_string_value(pl_kz_obj_get(js, "$ref"));
        const json_t *cur = w->openapi;
        const char *p;

        if (!ref || !*ref) {
            r.kind = SCH_JSON;
            r.js = js;
            return r;
        }
        if (++hops > 64 || ref[0] != '#')
            return r;
        if (strncmp(ref, "#/definitions/", 14) == 0 && !strpbrk(ref + 14, "/~")) {
            const char *name = ref + 14;

            /* definitions loaded first win: the builtin ones (as observed with kubectl) */
            if (w->builtin && builtin_has(name))
                return builtin_def(name);
            if ((js = custom_def(w, name)) != NULL)
                continue;
            return w->builtin ? builtin_def(name) : r;
        }
        p = ref + 1;
        while (*p == '/' && cur) {
            char tok[512];
            size_t n = 0;

            p++;
            while (*p && *p != '/' && n + 1 < sizeof(tok)) {
                if (p[0] == '~' && (p[1] == '0' || p[1] == '1')) {
                    tok[n++] = p[1] == '0' ? '~' : '/';
                    p += 2;
                } else {
                    tok[n++] = *p++;
                }
            }
            tok[n] = '\0';
            cur = json_is_object(cur) ? pl_kz_obj_get(cur, tok) : NULL;
        }
        if (*p)
            return r;
        js = cur;
    }
    return r;
}

/* ResourceSchema.Field: the schema of a map's value at `key`. */
static sch sch_field(const wctx *w, const sch *s, const char *key)
{
    sch r = no_schema;

    if (s->kind == SCH_SHAPE) {
        const sm_field *f;

        r.kind = SCH_SHAPE;
        r.shape = SH_NONE;
        for (f = shapes[s->shape]; f->name; f++) {
            if (strcmp(f->name, key) != 0)
                continue;
            if (f->merge) {
                r.kind = SCH_LIST;
                r.list = f;
            } else {
                r.shape = f->shape;
            }
            break;
        }
    } else if (s->kind == SCH_JSON) {
        const json_t *props = pl_kz_obj_get(s->js, "properties");
        const json_t *f = json_is_object(props) ? pl_kz_obj_get(props, key) : NULL;
        const json_t *ap = pl_kz_obj_get(s->js, "additionalProperties");

        if (!f && json_is_object(ap))
            f = ap;
        if (json_is_object(f))
            r = sch_json(w, f);
    }
    /* an array's schema (SCH_LIST) has no properties */
    return r;
}

/* ResourceSchema.Elements: the schema of an array's items. */
static sch sch_elements(const wctx *w, const sch *s)
{
    sch r = no_schema;

    if (s->kind == SCH_LIST) {
        r.kind = SCH_SHAPE;
        r.shape = s->list->shape;
    } else if (s->kind == SCH_JSON) {
        const json_t *t = pl_kz_obj_get(s->js, "type");
        const json_t *items = pl_kz_obj_get(s->js, "items");
        const char *ts = json_string_value(t);

        if (!ts && json_is_array(t) && json_array_size(t) == 1)
            ts = json_string_value(json_array_get(t, 0));
        if (ts && strcmp(ts, "array") == 0 && json_is_object(items))
            r = sch_json(w, items);
    }
    return r;
}

/* x-kubernetes-patch-strategy lists "merge" (kyaml schema.IsAssociative without inference). */
static int sch_is_merge(const sch *s)
{
    const char *ps, *p;

    if (s->kind == SCH_LIST)
        return 1;
    if (s->kind != SCH_JSON)
        return 0;
    ps = json_string_value(pl_kz_obj_get(s->js, "x-kubernetes-patch-strategy"));
    for (p = ps; p && *p;) {
        size_t n = strcspn(p, ",");

        if (n == 5 && strncmp(p, "merge", 5) == 0)
            return 1;
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

#define MAX_KEYS 16

/* PatchStrategyAndKeyList: x-kubernetes-list-map-keys, else [x-kubernetes-patch-merge-key],
 * else none. Keys are borrowed from the table or the document. */
static size_t sch_keys(const sch *s, const char **keys)
{
    size_t n = 0;

    if (s->kind == SCH_LIST) {
        while (n < 2 && s->list->keys[n]) {
            keys[n] = s->list->keys[n];
            n++;
        }
    } else if (s->kind == SCH_JSON) {
        const json_t *mk = pl_kz_obj_get(s->js, "x-kubernetes-list-map-keys");
        const char *k = json_string_value(pl_kz_obj_get(s->js, "x-kubernetes-patch-merge-key"));

        if (json_is_array(mk)) {
            size_t i;

            for (i = 0; i < json_array_size(mk) && n < MAX_KEYS; i++) {
                const char *v = json_string_value(json_array_get(mk, i));
                keys[n++] = v ? v : "";
            }
        } else if (k) {
            keys[n++] = k;
        }
    }
    return n;
}

/*
 * openapi.SchemaForResourceType: the schema of apiVersion/kind, or SCH_NONE. With both schemas
 * loaded, a builtin kind keeps its builtin schema (kubectl: a custom definition claiming
 * apps/v1 Deployment changes nothing once the builtin schema is in).
 */
static sch sch_for_type(const wctx *w, const char *api_version, const char *kind)
{
    sch r = no_schema;

    if (w->builtin) {
        sm_kind key = {api_version, kind, 0, 0};
        const sm_kind *k = bsearch(&key, kinds, sizeof(kinds) / sizeof(kinds[0]), sizeof(kinds[0]),
                                   kind_cmp);

        if (k) {
            r.kind = SCH_SHAPE;
            r.shape = k->shape;
            return r;
        }
    }
    if (w->defs) {
        const char *name;
        json_t *def;

        json_object_foreach((json_t *)w->defs, name, def) {
            json_t *gvks = pl_kz_obj_get(def, "x-kubernetes-group-version-kind");
            size_t i;

            (void)name;
            for (i = 0; json_is_array(gvks) && i < json_array_size(gvks); i++) {
                json_t *g = json_array_get(gvks, i);
                const char *gr = json_string_value(pl_kz_obj_get(g, "group"));
                const char *ve = json_string_value(pl_kz_obj_get(g, "version"));
                const char *ki = json_string_value(pl_kz_obj_get(g, "kind"));
                size_t gl;

                if (!ve || !ki || strcmp(ki, kind) != 0 || !json_is_object(def))
                    continue;
                gl = gr ? strlen(gr) : 0;
                if (gl ? (strncmp(api_version, gr, gl) == 0 && api_version[gl] == '/' &&
                          strcmp(api_version + gl + 1, ve) == 0)
                       : strcmp(api_version, ve) == 0) {
                    r.kind = SCH_JSON;
                    r.js = def;
                    return r;
                }
            }
        }
    }
    return r;
}

/* ---- node helpers (kyaml RNode semantics on jansson values) ---------------------------------- */

static int missing_or_null(const json_t *v)
{
    return !v || json_is_null(v);
}

/* IsEmptyMap: missing, null or a map without fields. */
static int empty_map(const json_t *v)
{
    return missing_or_null(v) || (json_is_object(v) && json_object_size(v) == 0);
}

/* IsNilOrEmpty of a field value: missing, null, {} or []. */
static int nil_or_empty(const json_t *v)
{
    return empty_map(v) || (json_is_array(v) && json_array_size(v) == 0);
}

enum { K_NONE, K_MAP, K_SEQ, K_SCALAR };

static int node_kind(const json_t *v)
{
    if (missing_or_null(v))
        return K_NONE;
    if (json_is_object(v))
        return K_MAP;
    if (json_is_array(v))
        return K_SEQ;
    return K_SCALAR;
}

static const char *kind_name(int k)
{
    return k == K_MAP ? "MappingNode" : k == K_SEQ ? "SequenceNode" : "ScalarNode";
}

/*
 * yaml.Node.Value: the text of a scalar (null is "null"; maps and lists have none). Reals are
 * printed in their shortest round-tripping form, which is how they were written in practice.
 */
static const char *node_text(const json_t *v, char *buf, size_t n)
{
    if (!v)
        return "";
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_value(v);
    case JSON_INTEGER:
        snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    case JSON_REAL: {
        int prec;

        for (prec = 1; prec <= 17; prec++) {
            snprintf(buf, n, "%.*g", prec, json_real_value(v));
            if (strtod(buf, NULL) == json_real_value(v))
                break;
        }
        return buf;
    }
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return "null";
    default:
        return "";
    }
}

/* GetValue: like node_text, but "" for null. */
static const char *node_value(const json_t *v, char *buf, size_t n)
{
    return missing_or_null(v) ? "" : node_text(v, buf, n);
}

static int wrong_kind(const pathseg *at, int want, int got)
{
    char path[512];
    size_t n = sizeof(path) - 1;
    const pathseg *p;

    path[n] = '\0';
    for (p = at; p && n > 0; p = p->up) {
        const char *name = p->name ? p->name : "[]";
        size_t l = strlen(name);

        if (n < l + 1)
            break;
        n -= l;
        memcpy(path + n, name, l);
        if (p->up && p->name)
            path[--n] = '.';
    }
    return pl_error_set(PL_EINVALID,
                        "strategic merge patch: wrong node kind at %s: expected %s but got %s",
                        n < sizeof(path) - 1 ? path + n : "top level", kind_name(want),
                        kind_name(got));
}

/*
 * kyaml FieldMatcher{Name, StringValue}: *hit = 1 when `e` has field `name` (whose text equals
 * `value` unless value is ""), or, with name "", when the scalar `e` has the text `value`.
 */
static int field_match(int *hit, const json_t *e, const char *name, const char *value)
{
    char buf[64];

    *hit = 0;
    if (missing_or_null(e))
        return 0;
    if (!*name) {
        if (node_kind(e) != K_SCALAR)
            return wrong_kind(NULL, K_SCALAR, node_kind(e));
        *hit = strcmp(node_value(e, buf, sizeof(buf)), value) == 0;
        return 0;
    }
    if (!json_is_object(e))
        return wrong_kind(NULL, K_MAP, node_kind(e));
    {
        const json_t *f = pl_kz_obj_get(e, name);

        if (f && (!*value || strcmp(node_text(f, buf, sizeof(buf)), value) == 0))
            *hit = 1;
    }
    return 0;
}

/*
 * kyaml ElementSetter on the list `rn` (changed in place): drop null and `{}` elements, then
 * replace the elements matching all keys/values with `elem` (or remove them when elem is
 * NULL), appending elem when nothing matched. With fewer values than keys the last match
 * stands for the rest; without values nothing matches and everything else is dropped.
 */
static int element_setter(json_t *rn, json_t *elem, const char *const *keys, size_t nkeys,
                          const char *const *values, size_t nvalues)
{
    static const char *const none[1] = {""};
    json_t *out = NULL;
    int mapping_setter, any = 0, error = 0;
    size_t i, j;

    if (nkeys == 0) {
        keys = none;
        nkeys = 1;
    }
    mapping_setter = keys[0][0] && nvalues > 0 && values[0][0];
    if (!(out = json_array()))
        return pl_error_set(PL_ENOMEM, "out of memory");
    for (i = 0; i < json_array_size(rn); i++) {
        json_t *e = json_array_get(rn, i);
        int found = 1, hit = 0;

        if (empty_map(e))
            continue;
        if (!json_is_object(e) && mapping_setter) {
            if (json_array_append(out, e) < 0)
                goto oom;
            continue;
        }
        for (j = 0; j < nkeys; j++) {
            if (j < nvalues && (error = field_match(&hit, e, keys[j], values[j])) < 0)
                goto done;
            if (!hit) {
                found = 0;
                break;
            }
        }
        if (!found) {
            if (nvalues > 0 && json_array_append(out, e) < 0)
                goto oom;
            continue;
        }
        any = 1;
        if (elem && json_array_append(out, elem) < 0)
            goto oom;
    }
    if (json_array_clear(rn) < 0 || json_array_extend(rn, out) < 0)
        goto oom;
    if (!missing_or_null(elem) && !any && json_array_append(rn, elem) < 0)
        goto oom;
    goto done;
oom:
    error = pl_error_set(PL_ENOMEM, "out of memory");
done:
    json_decref(out);
    return error;
}

/* kyaml ElementMatcher (RNode.ElementList): the first element matching all keys/values
 * (borrowed), or NULL. */
static json_t *element_list(json_t *rn, const char *const *keys, size_t nkeys,
                            const char *const *values, size_t nvalues)
{
    char buf[64];
    size_t i, j;

    if (!json_is_array(rn))
        return NULL;
    if (nkeys == 0 || !keys[0][0]) {
        const char *want = nvalues ? values[0] : "";

        for (i = 0; i < json_array_size(rn); i++) {
            json_t *e = json_array_get(rn, i);

            if (strcmp(node_text(e, buf, sizeof(buf)), want) == 0)
                return e;
        }
        return NULL;
    }
    if (nkeys != nvalues)
        return NULL;
    for (i = 0; i < json_array_size(rn); i++) {
        json_t *e = json_array_get(rn, i);
        int match = 1;

        if (!json_is_object(e))
            continue;
        for (j = 0; j < nkeys && match; j++) {
            const json_t *f = pl_kz_obj_get(e, keys[j]);

            match = f && strcmp(node_text(f, buf, sizeof(buf)), values[j]) == 0;
        }
        if (match)
            return e;
    }
    return NULL;
}

/* ---- patch directives ----------------------------------------------------------------------- */

enum { DIR_UNKNOWN, DIR_REPLACE, DIR_DELETE, DIR_MERGE };

static int directive_of(const char *v)
{
    if (strcmp(v, "delete") == 0)
        return DIR_DELETE;
    if (strcmp(v, "replace") == 0)
        return DIR_REPLACE;
    if (strcmp(v, "merge") == 0)
        return DIR_MERGE;
    return DIR_UNKNOWN;
}

/*
 * determineSmpDirective: read and remove the `$patch` directive of a patch map, or of a patch
 * list (an element whose only field is `$patch`; kyaml looks at the first element carrying the
 * key). Absent: DIR_MERGE. Unknown values are an error (*dir = DIR_UNKNOWN).
 */
static int directive(int *dir, json_t *patch)
{
    char buf[64];
    const char *v;

    *dir = DIR_MERGE;
    if (!patch)
        return 0;
    if (json_is_object(patch)) {
        json_t *d = pl_kz_obj_get(patch, "$patch");

        if (!d)
            return 0;
        v = node_text(d, buf, sizeof(buf));
        if ((*dir = directive_of(v)) == DIR_UNKNOWN)
            return pl_error_set(PL_EINVALID, "unknown patch strategy '%s'", v);
        json_object_del(patch, "$patch");
        return 0;
    }
    if (json_is_array(patch)) {
        static const char *const key[1] = {"$patch"};
        json_t *e = NULL, *d;
        const char *vals[1];
        size_t i;

        for (i = 0; i < json_array_size(patch); i++) {
            json_t *c = json_array_get(patch, i);

            if (json_is_object(c) && pl_kz_obj_get(c, "$patch")) {
                e = c;
                break;
            }
        }
        if (!e || json_object_size(e) > 1)
            return 0;
        d = pl_kz_obj_get(e, "$patch");
        v = node_text(d, buf, sizeof(buf));
        if ((*dir = directive_of(v)) == DIR_UNKNOWN)
            return pl_error_set(PL_EINVALID, "unknown patch strategy '%s'", v);
        {
            char *copy = pl_strdup(v); /* the directive element goes away with its text */
            int error;

            if (!copy)
                return pl_error_set(PL_ENOMEM, "out of memory");
            vals[0] = copy;
            error = element_setter(patch, NULL, key, 1, vals, 1);
            pl_free(copy);
            return error;
        }
    }
    *dir = DIR_UNKNOWN;
    return pl_error_set(PL_EINVALID, "no strategic merge patch strategy for a scalar");
}

/* ---- the walker ----------------------------------------------------------------------------- */

static int walk(json_t **out, int *keep, const wctx *w, const sch *s, const pathseg *at,
                json_t *dest, json_t *origin);

/* FieldSetter: set, or remove when the value is missing or null (unless a kept null). */
static int field_set(json_t *d, const char *key, json_t *val, int keep)
{
    if (!val || (json_is_null(val) && !keep)) {
        json_object_del(d, key);
        return 0;
    }
    if (json_object_set_nocheck(d, key, val) < 0)
        return pl_error_set(PL_ENOMEM, "out of memory");
    return 0;
}

/* A field to visit: its key and its values in the destination and the patch (borrowed). */
typedef struct mfield {
    const char *key;
    json_t *dv, *ov;
} mfield;

static int mfield_cmp(const void *a, const void *b)
{
    return strcmp(((const mfield *)a)->key, ((const mfield *)b)->key);
}

/*
 * walkMap + Merger.VisitMap. The values are captured while listing the keys: visiting a field
 * only changes that field of d, so they stay valid and no hash lookup is needed per field
 * (most of the target is not mentioned by the patch, and is visited with ov == NULL).
 */
static int walk_map(json_t **out, int *keep, const wctx *w, const sch *s, const pathseg *at,
                    json_t *dest, json_t *origin)
{
    mfield stack_fields[32];
    mfield *fields = stack_fields;
    json_t *d;
    size_t nf = 0, cap = 32, i;
    int dir, error = 0;

    if (missing_or_null(dest)) {
        /* add: errors of the directive are ignored here, as kyaml does */
        if (json_is_object(origin)) {
            if (directive(&dir, origin) < 0)
                pl_error_clear();
            else if (dir == DIR_DELETE)
                return 0;
        }
        if (!origin && dest) {
            /* kyaml keeps an explicit null of the target that the patch does not mention */
            *out = json_null();
            *keep = 1;
            return 0;
        }
        d = origin;
    } else if (origin && json_is_null(origin)) {
        return 0;
    } else {
        if ((error = directive(&dir, origin)) < 0)
            return error;
        d = dir == DIR_DELETE ? NULL : dir == DIR_REPLACE ? origin : dest;
    }
    if (!d)
        return 0;

    if (json_is_object(d)) {
        json_t *srcs[2];
        json_t *po = json_is_object(origin) ? origin : NULL;
        int k;

        srcs[0] = d;
        srcs[1] = po && po != d ? po : NULL;
        for (k = 0; k < 2; k++) {
            const char *key;
            json_t *v;

            if (!srcs[k])
                continue;
            for (void *it = json_object_iter(srcs[k]); it;
                 it = json_object_iter_next(srcs[k], it)) {
                mfield *f;

                key = json_object_iter_key(it);
                v = json_object_iter_value(it);
                if (k == 1 && pl_kz_obj_get(d, key))
                    continue;
                if (nf == cap) {
                    mfield *nfs = pl_malloc(cap * 2 * sizeof(*nfs));

                    if (!nfs) {
                        error = pl_error_set(PL_ENOMEM, "out of memory");
                        goto done;
                    }
                    memcpy(nfs, fields, nf * sizeof(*nfs));
                    if (fields != stack_fields)
                        pl_free(fields);
                    fields = nfs;
                    cap *= 2;
                }
                f = &fields[nf++];
                f->key = key;
                if (k == 0) {
                    f->dv = v;
                    f->ov = po == d ? v : po ? pl_kz_obj_get(po, key) : NULL;
                } else {
                    f->dv = NULL;
                    f->ov = v;
                }
            }
        }
        /* kyaml visits the fields sorted; the result does not depend on it */
        qsort(fields, nf, sizeof(*fields), mfield_cmp);
        for (i = 0; i < nf; i++) {
            const mfield *f = &fields[i];
            json_t *val = NULL;
            int vkeep = 0;
            sch fs = no_schema;
            pathseg here = {at, f->key};

            if (s->kind != SCH_NONE)
                fs = sch_field(w, s, f->key);
            error = walk(&val, &vkeep, w, &fs, &here, f->dv, f->ov);
            /* an unchanged value (kept as is) needs no store */
            if (error == 0 && !(val && val == f->dv && (vkeep || !json_is_null(val))))
                error = field_set(d, f->key, val, vkeep);
            json_decref(val);
            if (error < 0)
                goto done;
        }
    }
    *out = json_incref(d);
done:
    if (fields != stack_fields)
        pl_free(fields);
    return error;
}

/* ---- associative lists ---- */

/* Growable list of value tuples (one string per merge key), strings owned by the pool. */
typedef struct vtab {
    const char ***t; /* tuples */
    size_t n, cap, nk;
    void **pool;     /* allocations to free */
    size_t npool, poolcap;
} vtab;

static void vtab_dispose(vtab *v)
{
    size_t i;

    for (i = 0; i < v->npool; i++)
        pl_free(v->pool[i]);
    pl_free(v->pool);
    pl_free(v->t);
}

static void *vtab_keep(vtab *v, void *p)
{
    if (!p)
        return NULL;
    if (v->npool == v->poolcap) {
        size_t nc = v->poolcap ? v->poolcap * 2 : 32;
        void **np = pl_realloc(v->pool, nc * sizeof(*np));

        if (!np) {
            pl_free(p);
            return NULL;
        }
        v->pool = np;
        v->poolcap = nc;
    }
    v->pool[v->npool++] = p;
    return p;
}

static const char **vtab_tuple(vtab *v)
{
    return vtab_keep(v, pl_calloc(v->nk ? v->nk : 1, sizeof(const char *)));
}

static const char *vtab_str(vtab *v, const char *s)
{
    return vtab_keep(v, pl_strdup(s));
}

static int vtab_push(vtab *v, const char **t)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 16;
        const char ***nt = pl_realloc(v->t, nc * sizeof(*nt));

        if (!nt)
            return pl_error_set(PL_ENOMEM, "out of memory");
        v->t = nt;
        v->cap = nc;
    }
    v->t[v->n++] = t;
    return 0;
}

static int vtab_has(const vtab *v, const char *const *t)
{
    size_t i, k;

    for (i = 0; i < v->n; i++) {
        for (k = 0; k < v->nk; k++)
            if (strcmp(v->t[i][k], t[k]) != 0)
                break;
        if (k == v->nk)
            return 1;
    }
    return 0;
}

/*
 * elementValues (prepend order: the patch's elements first, then the target's): the distinct
 * tuples of merge-key values; a missing or empty value is "".
 */
static int element_values(vtab *v, json_t *first, json_t *second, const char *const *keys)
{
    json_t *srcs[2] = {first, second};
    char buf[64];
    size_t i, k;
    int s;

    if (v->nk == 0)
        return 0;
    for (s = 0; s < 2; s++) {
        for (i = 0; json_is_array(srcs[s]) && i < json_array_size(srcs[s]); i++) {
            json_t *e = json_array_get(srcs[s], i);
            const char **t = vtab_tuple(v);

            if (!t)
                return pl_error_set(PL_ENOMEM, "out of memory");
            for (k = 0; k < v->nk; k++) {
                json_t *f = json_is_object(e) ? pl_kz_obj_get(e, keys[k]) : NULL;

                t[k] = nil_or_empty(f) ? "" : vtab_str(v, node_text(f, buf, sizeof(buf)));
                if (!t[k])
                    return pl_error_set(PL_ENOMEM, "out of memory");
            }
            if (!vtab_has(v, t) && vtab_push(v, t) < 0)
                return PL_ENOMEM;
        }
    }
    return 0;
}

/* elementPrimitiveValues: the distinct scalar texts, patch first. */
static int element_primitive_values(vtab *v, json_t *first, json_t *second)
{
    json_t *srcs[2] = {first, second};
    char buf[64];
    size_t i;
    int s;

    for (s = 0; s < 2; s++) {
        for (i = 0; json_is_array(srcs[s]) && i < json_array_size(srcs[s]); i++) {
            const char *txt = node_text(json_array_get(srcs[s], i), buf, sizeof(buf));
            const char **t;

            if (vtab_has(v, &txt))
                continue;
            if (!(t = vtab_tuple(v)) || !(t[0] = vtab_str(v, txt)))
                return pl_error_set(PL_ENOMEM, "out of memory");
            if (vtab_push(v, t) < 0)
                return PL_ENOMEM;
        }
    }
    return 0;
}

/*
 * mergeValues: tuples that agree where both have a value (and share one) become the same
 * tuple, e.g. a port without protocol and the same port with TCP.
 */
static int merge_values(vtab *v)
{
    size_t i, j, k;

    for (i = 0; i < v->n; i++) {
        const char **a = v->t[i];

        for (j = 0; j < v->n; j++) {
            const char **b = v->t[j], *res[MAX_KEYS], **t;
            int common = 0, ok = 1;

            for (k = 0; k < v->nk && ok; k++) {
                if (strcmp(a[k], b[k]) == 0) {
                    common = 1;
                    res[k] = a[k];
                } else if (a[k][0] && b[k][0]) {
                    ok = 0;
                } else {
                    res[k] = a[k][0] ? a[k] : b[k];
                }
            }
            if (ok && common) {
                if (!(t = vtab_tuple(v)))
                    return pl_error_set(PL_ENOMEM, "out of memory");
                memcpy(t, res, v->nk * sizeof(*t));
                v->t[i] = t;
                v->t[j] = t;
            }
        }
    }
    return 0;
}

/*
 * validateKeys: keep the keys that have a value somewhere (in `set`), and the matching values;
 * when no key has a value anywhere, keep them all.
 */
static size_t validate_keys(const char **ok, const char **ov, const char *const *keys,
                            const char *const *vals, size_t nk, const int *set)
{
    size_t i, n = 0;
    int any = 0;

    for (i = 0; i < nk; i++)
        any |= set[i];
    for (i = 0; i < nk; i++) {
        if (any && !set[i])
            continue;
        ok[n] = keys[i];
        ov[n] = vals[i];
        n++;
    }
    return n;
}

/* Which keys (by name) have a non-empty value in any of `tuples`. */
static void keys_set(int *set, const char *const *keys, size_t nk, const char **const *tuples,
                     size_t n)
{
    size_t i, j, k;

    for (i = 0; i < nk; i++)
        set[i] = 0;
    for (j = 0; j < n; j++)
        for (k = 0; k < nk; k++)
            if (tuples[j][k][0])
                for (i = 0; i < nk; i++)
                    if (strcmp(keys[i], keys[k]) == 0)
                        set[i] = 1;
}

/* Parse the text of a scalar kyaml writes untagged (the value of a merge key it adds back). */
static json_t *untagged_scalar(const char *text)
{
    json_t *docs = NULL, *v = NULL;

    if (!pl_yaml_plain_is_nonstring(text, strlen(text)))
        return json_string(text);
    if (pl_yaml_parse(&docs, text, strlen(text), "merge key", NULL) == 0 &&
        json_array_size(docs) == 1 && !json_is_object(json_array_get(docs, 0)) &&
        !json_is_array(json_array_get(docs, 0)))
        v = json_incref(json_array_get(docs, 0));
    json_decref(docs);
    pl_error_clear();
    return v ? v : json_string(text);
}

/*
 * appendListNode(dst, src): put src's elements into dst by key, replacing a match or
 * appending. An element without a key is appended, then (kyaml quirk) the element setter
 * without values leaves it alone in dst.
 */
static int append_list_node(json_t *dst, json_t *src, const char *const *keys, size_t nk)
{
    const char *vals[MAX_KEYS];
    char bufs[MAX_KEYS][64];
    size_t i, k, nv;
    int error = 0;

    for (i = 0; i < json_array_size(src); i++) {
        json_t *e = json_array_get(src, i);

        if (nk == 0 || !keys[0][0]) {
            const char *one[1];

            one[0] = node_text(e, bufs[0], sizeof(bufs[0]));
            if ((error = element_setter(dst, e, keys, nk ? nk : 1, one, 1)) < 0)
                return error;
            continue;
        }
        nv = 0;
        for (k = 0; k < nk; k++) {
            json_t *f;

            if (!missing_or_null(e) && !json_is_object(e))
                return wrong_kind(NULL, K_MAP, node_kind(e));
            f = missing_or_null(e) ? NULL : pl_kz_obj_get(e, keys[k]);
            if (!f) {
                if (json_array_append(dst, e) < 0)
                    return pl_error_set(PL_ENOMEM, "out of memory");
                continue;
            }
            vals[nv] = node_text(f, bufs[nv], sizeof(bufs[nv]));
            nv++;
        }
        if (nk > 1 && (error = element_setter(dst, NULL, keys, nk, vals, nv)) < 0)
            return error;
        if ((error = element_setter(dst, e, keys, nk, vals, nv)) < 0)
            return error;
    }
    return 0;
}

/* walkAssociativeSequence + setAssociativeSequenceElements (prepend), after VisitList. */
static int merge_assoc(json_t **out, const wctx *w, const sch *s, const pathseg *at, json_t *d,
                       json_t *origin)
{
    static const char *const prim_keys[1] = {""};
    const char *skeys[MAX_KEYS], *vk[MAX_KEYS], *vv[MAX_KEYS], *ek[MAX_KEYS], *ev[MAX_KEYS];
    const char *const *keys = skeys;
    int set[MAX_KEYS], eset[MAX_KEYS];
    size_t nk, nvk = 0, i, k;
    vtab v = {0};
    json_t *items = NULL;
    sch es = sch_elements(w, s);
    pathseg here = {at, NULL};
    int error = 0;

    nk = sch_keys(s, skeys);
    v.nk = nk;
    if ((error = element_values(&v, origin, d, keys)) < 0)
        goto done;
    if (v.n == 0 && nk == 0) {
        keys = prim_keys;
        nk = v.nk = 1;
        if ((error = element_primitive_values(&v, origin, d)) < 0)
            goto done;
    }
    if (!(items = json_array())) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if (nk > 1 && (error = merge_values(&v)) < 0)
        goto done;
    keys_set(set, keys, nk, (const char **const *)v.t, v.n);

    for (i = 0; i < v.n; i++) {
        const char *const *t = v.t[i];
        json_t *de, *oe, *val = NULL;
        size_t nek;
        int keep = 0;

        nvk = validate_keys(vk, vv, keys, t, nk, set);
        /* elementValueList validates again against this tuple alone */
        for (k = 0; k < nvk; k++)
            eset[k] = vv[k][0] != '\0';
        nek = validate_keys(ek, ev, vk, vv, nvk, eset);
        de = element_list(d, ek, nek, ev, nek);
        oe = origin ? element_list(origin, ek, nek, ev, nek) : NULL;
        if ((error = walk(&val, &keep, w, &es, &here, de, oe)) < 0)
            goto done;
        if (!keep && empty_map(val)) {
            json_decref(val);
            if ((error = element_setter(d, NULL, vk, nvk, vv, nvk)) < 0)
                goto done;
            continue;
        }
        for (k = 0; k < nvk; k++) {
            /* make sure the merged element carries its key (kyaml SetField) */
            if (!vv[k][0] || (json_is_object(val) && pl_kz_obj_get(val, vk[k])))
                continue;
            if (!vk[k][0]) {
                if (json_is_object(val) || json_is_array(val))
                    error = wrong_kind(&here, K_SCALAR, node_kind(val));
            } else if (!json_is_object(val)) {
                error = wrong_kind(&here, K_MAP, node_kind(val));
            } else {
                json_t *kv = untagged_scalar(vv[k]);

                if (!kv || json_object_set_new_nocheck(val, vk[k], kv) < 0)
                    error = pl_error_set(PL_ENOMEM, "out of memory");
            }
            if (error < 0)
                break;
        }
        if (error == 0)
            error = element_setter(items, val, vk, nvk, vv, nvk);
        json_decref(val);
        if (error < 0)
            goto done;
    }
    if (v.n > 0) {
        if ((error = append_list_node(items, d, vk, nvk)) < 0)
            goto done;
        *out = items;
        items = NULL;
    } else {
        *out = json_incref(d);
    }
done:
    json_decref(items);
    vtab_dispose(&v);
    return error;
}

/* Merger.VisitList + the walk of a list. */
static int walk_list(json_t **out, const wctx *w, const sch *s, const pathseg *at, json_t *dest,
                     json_t *origin)
{
    json_t *d;
    int dir;
    int error;

    if (!sch_is_merge(s)) {
        /* not associative: the patch's list (or null) replaces the target's */
        *out = json_incref(origin ? origin : dest);
        return 0;
    }
    if (missing_or_null(dest)) {
        d = origin;
    } else if (origin && json_is_null(origin)) {
        return 0;
    } else {
        if ((error = directive(&dir, origin)) < 0)
            return error;
        d = dir == DIR_DELETE ? NULL : dir == DIR_REPLACE ? origin : dest;
    }
    if (!d)
        return 0;
    if ((error = merge_assoc(out, w, s, at, d, origin)) < 0)
        return error;
    if (*out && json_is_null(*out)) {
        json_decref(*out);
        *out = NULL;
    }
    return 0;
}

/* Walker.GetSchema: the given schema, else the one of the apiVersion/kind of a source map. */
static sch get_schema(const wctx *w, const sch *s, json_t *dest, json_t *origin)
{
    json_t *srcs[2] = {dest, origin};
    int i;

    if (s->kind != SCH_NONE)
        return *s;
    for (i = 0; i < 2; i++) {
        json_t *av, *kd;
        char b1[64], b2[64];
        const char *avs, *kds;

        if (!json_is_object(srcs[i]))
            continue;
        av = pl_kz_obj_get(srcs[i], "apiVersion");
        kd = pl_kz_obj_get(srcs[i], "kind");
        if (nil_or_empty(av) || nil_or_empty(kd))
            continue;
        avs = node_text(av, b1, sizeof(b1));
        kds = node_text(kd, b2, sizeof(b2));
        if (*avs && *kds) {
            sch r = sch_for_type(w, avs, kds);

            if (r.kind != SCH_NONE)
                return r;
        }
    }
    return *s;
}

/* ---- parts of the target the patch does not mention ---------------------------------------- */

static int unchanged(const wctx *w, const sch *in, json_t *dest);

/*
 * With no patch list, merge_assoc rebuilds a list with the same elements in the same order
 * when its elements are "plain": non-empty maps that all carry a non-empty string or integer
 * for every merge key that any element carries, with distinct key tuples (a multi-key list is
 * rotated through once by append_list_node, which restores the order). Anything else
 * (duplicates, missing keys, `{}` or null elements, primitive lists) takes the full merge,
 * which may drop, merge or reorder elements.
 */
static int plain_assoc(const json_t *d, const char *const *keys, size_t nk)
{
    char bufs[2][MAX_KEYS][32];
    int used[MAX_KEYS];
    size_t n = json_array_size(d), i, j, k;
    int any = 0;

    if (nk == 0)
        return 0;
    for (k = 0; k < nk; k++) {
        used[k] = 0;
        if (!keys[k][0])
            return 0;
    }
    for (i = 0; i < n; i++) {
        const json_t *e = json_array_get(d, i);

        if (!json_is_object(e) || json_object_size(e) == 0)
            return 0;
        for (k = 0; k < nk; k++)
            if (!nil_or_empty(pl_kz_obj_get(e, keys[k])))
                used[k] = any = 1;
    }
    if (!any)
        return 0;
    for (i = 0; i < n; i++) {
        const json_t *e = json_array_get(d, i);

        for (k = 0; k < nk; k++) {
            const json_t *f = used[k] ? pl_kz_obj_get(e, keys[k]) : NULL;

            if (used[k] && !(json_is_string(f) && json_string_length(f) > 0) &&
                !json_is_integer(f))
                return 0;
        }
    }
    /* distinct tuples (lists are short: pairwise is fine) */
    for (i = 0; i < n; i++) {
        for (j = i + 1; j < n; j++) {
            int same = 1;

            for (k = 0; k < nk && same; k++) {
                if (!used[k])
                    continue;
                same = strcmp(node_text(pl_kz_obj_get(json_array_get(d, i), keys[k]),
                                        bufs[0][k], sizeof(bufs[0][k])),
                              node_text(pl_kz_obj_get(json_array_get(d, j), keys[k]),
                                        bufs[1][k], sizeof(bufs[1][k]))) == 0;
            }
            if (same)
                return 0;
        }
    }
    return 1;
}

/*
 * 1 when walking `dest` with no patch (origin NULL) would give `dest` back untouched: scalars,
 * nulls and non-associative lists are kept as they are, maps when all their fields are, and
 * associative lists when plain_assoc holds and all their elements are kept. This lets the
 * walk skip the (large) parts of a resource a patch does not mention, without allocating.
 */
static int unchanged(const wctx *w, const sch *in, json_t *dest)
{
    sch s = get_schema(w, in, dest, NULL);

    if (json_is_object(dest)) {
        /* plain iterator walk (json_object_foreach also maps every key back to its iterator);
         * the key is only needed for the schema of a nested value */
        for (void *it = json_object_iter(dest); it; it = json_object_iter_next(dest, it)) {
            json_t *v = json_object_iter_value(it);
            sch fs = no_schema;

            if (json_is_object(v) || json_is_array(v)) {
                if (s.kind != SCH_NONE)
                    fs = sch_field(w, &s, json_object_iter_key(it));
                if (!unchanged(w, &fs, v))
                    return 0;
            }
        }
        return 1;
    }
    if (json_is_array(dest) && sch_is_merge(&s)) {
        const char *keys[MAX_KEYS];
        size_t nk = sch_keys(&s, keys), i;
        sch es;

        if (!plain_assoc(dest, keys, nk))
            return 0;
        es = sch_elements(w, &s);
        for (i = 0; i < json_array_size(dest); i++)
            if (!unchanged(w, &es, json_array_get(dest, i)))
                return 0;
    }
    return 1;
}

/* Walker.Walk: dispatch on the kind of the first present source. *out: new reference or NULL
 * (remove); *keep: a null to keep. */
static int walk(json_t **out, int *keep, const wctx *w, const sch *in, const pathseg *at,
                json_t *dest, json_t *origin)
{
    sch s;
    int kd, ko, kind;

    *out = NULL;
    *keep = 0;
    if (!origin && dest && !json_is_null(dest) && unchanged(w, in, dest)) {
        *out = json_incref(dest);
        return 0;
    }
    s = get_schema(w, in, dest, origin);
    kd = node_kind(dest);
    ko = node_kind(origin);
    kind = kd != K_NONE ? kd : ko;
    if (kind != K_NONE && ((kd != K_NONE && kd != kind) || (ko != K_NONE && ko != kind)))
        return wrong_kind(at, kind, kd != kind ? kd : ko);
    switch (kind) {
    case K_SEQ:
        return walk_list(out, w, &s, at, dest, origin);
    case K_SCALAR:
        *out = json_incref(origin ? origin : dest);
        return 0;
    default:
        return walk_map(out, keep, w, &s, at, dest, origin);
    }
}

int pl_kz_smp_apply(json_t **target, const json_t *patch, const json_t *openapi)
{
    /* the driver marks a custom schema that was added on top of the builtin one */
    return pl_kz_smp_apply_ex(target, patch, openapi,
                              openapi == NULL ||
                                  json_is_true(pl_kz_obj_get(openapi, PL_KZ_OPENAPI_WITH_BUILTIN)));
}

int pl_kz_smp_apply_ex(json_t **target, const json_t *patch, const json_t *openapi,
                       int with_builtin)
{
    wctx w;
    sch none = no_schema;
    json_t *p = NULL, *res = NULL;
    int keep = 0, error;

    if (!target || !*target || !json_is_object(*target) || !json_is_object(patch))
        return pl_error_set(PL_EINVALID, "strategic merge patch: target and patch must be maps");
    w.openapi = json_is_object(openapi) ? openapi : NULL;
    w.defs = w.openapi ? pl_kz_obj_get(w.openapi, "definitions") : NULL;
    if (!json_is_object(w.defs))
        w.defs = NULL;
    w.builtin = !w.openapi || with_builtin;
    /* the walk consumes the patch (directives removed, nodes moved into the target) */
    if (!(p = pl_kz_json_copy(patch)))
        return pl_error_set(PL_ENOMEM, "out of memory");
    error = walk(&res, &keep, &w, &none, NULL, *target, p);
    json_decref(p);
    if (error < 0) {
        json_decref(res);
        return error;
    }
    /*
     * kustomize keeps only what the walk changed in the target node itself
     * (Resource.ApplyFilter ignores the returned node unless there is none): a top-level
     * `$patch: replace` therefore changes nothing, `$patch: delete` deletes the resource.
     */
    if (!res) {
        json_decref(*target);
        *target = NULL;
    }
    json_decref(res);
    return 0;
}

int pl_kz_smp_builtin_kind(const char *api_version, const char *kind)
{
    /* kinds of kyaml's scope table that have no x-kubernetes-group-version-kind definition */
    static const char *const options[] = {"NodeProxyOptions", "PodAttachOptions", "PodExecOptions",
                                          "PodPortForwardOptions", "PodProxyOptions",
                                          "ServiceProxyOptions"};
    sm_kind key = {api_version, kind, 0, 0};
    const sm_kind *k;
    size_t i;

    if (!api_version || !kind)
        return 0;
    k = bsearch(&key, kinds, sizeof(kinds) / sizeof(kinds[0]), sizeof(kinds[0]), kind_cmp);
    if (k)
        return k->scoped;
    for (i = 0; strcmp(api_version, "v1") == 0 && i < sizeof(options) / sizeof(options[0]); i++)
        if (strcmp(kind, options[i]) == 0)
            return 1;
    return 0;
}
