/*
 * plumb/sync.h - planning a sync, judging health, and the ApplySet inventory (engine/sync).
 *
 * The planner and the health checks are pure functions over objects: they never talk to the
 * API server, so they are unit-tested without one and reused by `plumb diff`. The executor
 * (which applies a plan through engine/kube) is declared further down.
 *
 * Ordering follows Argo CD's gitops-engine: phase (PreSync, Sync, PostSync, SyncFail), then
 * sync wave, then kind (Helm's install order; kinds not in the table come last), then name;
 * afterwards a Namespace is moved before the first object that lives in it and a CRD before
 * the first custom resource of its group/kind, taking that object's phase and wave.
 */
#ifndef PLUMB_SYNC_H
#define PLUMB_SYNC_H

#include "plumb/core.h"

#define PL_ANN_SYNC_WAVE "argocd.argoproj.io/sync-wave"
#define PL_ANN_HOOK "argocd.argoproj.io/hook"
#define PL_ANN_HOOK_DELETE "argocd.argoproj.io/hook-delete-policy"
#define PL_ANN_SYNC_OPTIONS "argocd.argoproj.io/sync-options"
#define PL_ANN_RESTART_ON_CHANGE "plumb.dev/restart-on-change"

typedef enum {
    PL_PHASE_PRESYNC = -1,
    PL_PHASE_SYNC = 0,
    PL_PHASE_POSTSYNC = 1,
    PL_PHASE_SYNCFAIL = 2,
} pl_sync_phase;

/* argocd.argoproj.io/hook-delete-policy values (bits). */
enum {
    PL_HOOK_DEL_BEFORE_CREATION = 1 << 0, /* default when none is given */
    PL_HOOK_DEL_SUCCEEDED = 1 << 1,
    PL_HOOK_DEL_FAILED = 1 << 2,
};

/* Per-resource argocd.argoproj.io/sync-options (bits), plus app-level ones the caller ORs in. */
enum {
    PL_SOPT_PRUNE_FALSE = 1 << 0,        /* Prune=false */
    PL_SOPT_REPLACE = 1 << 1,            /* Replace=true */
    PL_SOPT_FORCE = 1 << 2,              /* Force=true (with Replace: delete and recreate) */
    PL_SOPT_SKIP_DRYRUN_MISSING = 1 << 3, /* SkipDryRunOnMissingResource=true */
    PL_SOPT_PRUNE_LAST = 1 << 4,         /* PruneLast=true */
    PL_SOPT_SSA_FALSE = 1 << 5,          /* ServerSideApply=false (plumb applies server-side anyway) */
    PL_SOPT_DELETE_FALSE = 1 << 6,       /* Delete=false: never deleted */
};

typedef struct pl_sync_task {
    json_t *obj;           /* the desired object (a reference owned by the task) */
    pl_sync_phase phase;
    int wave;
    int is_hook;           /* hooks run in their phase and are not part of the inventory */
    unsigned hook_delete;  /* PL_HOOK_DEL_* (hooks only) */
    unsigned opts;         /* PL_SOPT_* from the object's sync-options annotation */
    size_t seq;            /* position in the input (ties keep input order) */
} pl_sync_task;

typedef struct pl_sync_plan {
    pl_sync_task *tasks;   /* owned, in execution order */
    size_t ntasks;
} pl_sync_plan;

/**
 * Order the desired objects of one app (`objs`, a borrowed JSON array) into tasks. A hook
 * annotated for several phases ("PreSync,PostSync") yields one task per phase; a Skip hook
 * yields none. Helm hook annotations (helm.sh/hook, helm.sh/hook-weight,
 * helm.sh/hook-delete-policy) are honoured when no Argo CD hook annotation is present.
 * Errors: PL_EINVALID naming the object for an unknown hook type, a non-integer sync wave, or
 * an unknown hook-delete-policy. `*out` is filled on success (release with pl_sync_plan_free).
 */
int pl_sync_plan_build(pl_sync_plan *out, const json_t *objs);
void pl_sync_plan_free(pl_sync_plan *plan);

/** The position of `kind` in the install order (negative; 0 for kinds not in the table). */
int pl_sync_kind_order(const char *kind);

/** Parse a sync-options annotation value ("Prune=false,Replace=true") into PL_SOPT_* bits. */
unsigned pl_sync_options_parse(const char *value);

/* ---- health ------------------------------------------------------------------------------ */

typedef enum {
    PL_HEALTH_HEALTHY = 0,
    PL_HEALTH_PROGRESSING,
    PL_HEALTH_SUSPENDED,
    PL_HEALTH_DEGRADED,
    PL_HEALTH_MISSING,
    PL_HEALTH_UNKNOWN,
} pl_health_status;

typedef struct pl_health {
    pl_health_status status;
    char message[256];
} pl_health;

/** "Healthy", "Progressing", ... (static string). */
const char *pl_health_name(pl_health_status s);

/**
 * Fetch another live object (for checks that look elsewhere: an OLM Subscription's installed
 * ClusterServiceVersion). Returns a new reference or NULL when absent or on error.
 */
typedef json_t *(*pl_health_lookup_fn)(void *payload, const char *api_version, const char *kind,
                                       const char *ns, const char *name);

/**
 * Judge the health of a live object (borrowed; NULL means Missing) as Argo CD does for the
 * built-in kinds (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, PVC, Service of type
 * LoadBalancer, Ingress, Namespace, CRD, APIService), OLM Subscription (Healthy when its
 * installed CSV's phase is Succeeded; `lookup` may be NULL, then the Subscription's own state
 * decides) and ClusterServiceVersion, MaaSModelRef (status.phase), and kstatus conventions for
 * everything else (observedGeneration behind generation: Progressing; Ready/Available
 * conditions). Objects without any status notion are Healthy.
 */
void pl_health_assess(pl_health *out, const json_t *live, pl_health_lookup_fn lookup,
                      void *payload);

/* ---- ApplySet (KEP-3659) ------------------------------------------------------------------- */

#define PL_APPLYSET_ID_LABEL "applyset.kubernetes.io/id"
#define PL_APPLYSET_PART_OF_LABEL "applyset.kubernetes.io/part-of"
#define PL_APPLYSET_TOOLING_ANN "applyset.kubernetes.io/tooling"
#define PL_APPLYSET_GKS_ANN "applyset.kubernetes.io/contains-group-kinds"
#define PL_APPLYSET_NS_ANN "applyset.kubernetes.io/additional-namespaces"

/**
 * The ApplySet id of a parent object: "applyset-" + unpadded base64url(sha256(
 * "<name>.<namespace>.<kind>.<group>")) + "-v1", written into `out` (NUL-terminated).
 */
void pl_applyset_id(char out[64], const char *name, const char *ns, const char *kind,
                    const char *group);

/**
 * The contains-group-kinds annotation value for a set of objects (borrowed JSON array):
 * distinct "Kind.group" ("Kind" for the core group), sorted, comma-separated. Owned string.
 */
char *pl_applyset_group_kinds(const json_t *objs);

#endif
