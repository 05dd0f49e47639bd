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
    int kind_order;        /* pl_sync_kind_order of the object's kind (the sort key) */
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

/**
 * 0 when the health of `obj` (borrowed; desired or live) cannot depend on anything the server
 * or a controller adds (ConfigMap, Secret, ServiceAccount, RBAC, a Service that is not a
 * LoadBalancer): pl_health_assess of the object as sent is its health. 1 otherwise (a
 * Deployment as sent says nothing about its rollout).
 */
int pl_health_needs_live(const json_t *obj);

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

/* ---- the executor (exec.c): one app, step by step ------------------------------------------ */

#define PL_ANN_APPLIED_HASH "plumb.dev/applied-hash"

typedef enum {
    PL_ACT_NONE = 0,   /* not reached (an earlier wave failed) */
    PL_ACT_CREATED,
    PL_ACT_CONFIGURED,
    PL_ACT_UNCHANGED,
    PL_ACT_PRUNED,
    PL_ACT_SKIPPED,    /* hooks of an in-sync app, prunes not allowed, Prune=false, dry run */
    PL_ACT_FAILED,
} pl_sync_action;

/** "created", "configured", ... (static string). */
const char *pl_sync_action_name(pl_sync_action a);

typedef struct pl_sync_item {
    char *id;            /* "Kind[.group]/ns/name" (owned) */
    char *api_version;   /* owned */
    char *kind;          /* owned */
    char *ns;            /* owned, "" when cluster-scoped */
    char *name;          /* owned */
    pl_sync_phase phase;
    int wave;
    int is_hook;
    pl_sync_action action;
    char *reason;        /* owned one-line reason (why skipped/failed, what changed); or NULL */
    pl_health health;    /* last health seen (Unknown before any check) */
} pl_sync_item;

typedef struct pl_sync_app_opts {
    unsigned int version;
    const char *name;               /* app name: names the ApplySet parent (required) */
    const char *dest_namespace;     /* namespace for namespaced objects that name none; NULL:
                                       the client's context namespace */
    int prune;                      /* --prune or syncPolicy.automated.prune */
    int prune_confirm;              /* allows pruning Namespaces and CRDs */
    int allow_empty;                /* syncPolicy.automated.allowEmpty */
    int dry_run;                    /* --dry-run: report what would change, write nothing */
    int create_namespace;           /* CreateNamespace=true: create dest_namespace first */
    int prune_last;                 /* PruneLast=true (plumb prunes after the last wave anyway) */
    unsigned app_options;           /* PL_SOPT_* from the app's syncOptions (Replace=true, ...) */
    const char *prune_propagation;  /* foreground|background|orphan (Argo spelling); NULL:
                                       foreground, as Argo CD prunes */
    long wave_timeout_ms;           /* health wait per wave (0: 300000) */
    const char *inventory_namespace; /* where the ApplySet parent ConfigMap lives (kube-system) */
    const char *field_manager;      /* NULL: "plumb" */
    int max_parallel;               /* applies in flight per wave (0: 64) */
    int poll_ms;                    /* health poll interval (0: 500) */
    int observe;                    /* `plumb diff`: a dry run that keeps, per object, the
                                       server's dry-run result and the live object, and reads
                                       the live state of inventory members no longer in Git
                                       (pl_sync_app_observation); hooks are not compared */
    const json_t *ignore_differences; /* borrowed, Argo CD shape (pl_app.ignore_differences):
                                       differences only in these fields do not make an object
                                       changed (no write); NULL: none */
    int respect_ignore_differences; /* RespectIgnoreDifferences=true: the ignored fields keep
                                       their live values when an object is applied */
} pl_sync_app_opts;
#define PL_SYNC_APP_OPTS_INIT                                                                    \
    {1, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, NULL, 0, NULL, NULL, 0, 0, 0, NULL, 0}

struct pl_kube;
typedef struct pl_sync_app pl_sync_app;

/**
 * Prepare the sync of one app: `desired` (borrowed JSON array, the app's rendered objects) is
 * copied; `k` is borrowed and must outlive the app. Nothing is sent yet. A render error must
 * never reach this point (the caller reports it and prunes nothing). `*out` owned by the caller.
 * PL_EINVALID for bad hook/wave annotations (naming the object).
 */
int pl_sync_app_new(pl_sync_app **out, struct pl_kube *k, const json_t *desired,
                    const pl_sync_app_opts *opts);

/**
 * Advance the sync without blocking on health: submits requests, consumes finished ones,
 * polls health. Returns 1 while work remains (call again; *wait_ms says how long the caller
 * may wait first, 0 = at once), 0 when finished (see pl_sync_app_ok). The executor never
 * sleeps; several apps can be stepped in turn on one thread and one client.
 */
int pl_sync_app_step(pl_sync_app *a, int *wait_ms);

/** 1 when finished with every object synced (or unchanged) and healthy. */
int pl_sync_app_ok(const pl_sync_app *a);
/** App-level failure (empty render, timeout, failed wave...) or NULL. Borrowed. */
const char *pl_sync_app_error(const pl_sync_app *a);
/** The per-object report (borrowed, in plan order, pruned objects last). */
size_t pl_sync_app_items(const pl_sync_app *a, const pl_sync_item **items);
/** Write requests sent (apply, create, delete, patch; dry runs excluded). */
size_t pl_sync_app_writes(const pl_sync_app *a);
/* One compared object of an observing app (opts.observe), all borrowed from the app. */
typedef struct pl_sync_observation {
    const json_t *desired;   /* what plumb applies: the rendered object with plumb's ApplySet
                                label and applied-hash annotation; NULL for an inventory member
                                that left Git */
    const json_t *predicted; /* the server's dry-run apply result; NULL when not asked (the
                                object is missing, or plumb's applied hash and a field-by-field
                                check show it unchanged) or when the dry run failed */
    const json_t *live;      /* the object in the cluster; NULL when missing */
    const pl_sync_item *item; /* its report item (a dry run that failed: action
                                PL_ACT_FAILED with the reason); NULL for inventory extras */
} pl_sync_observation;

/**
 * The i-th observation of a finished observing app: desired objects in plan order (hooks and
 * CreateNamespace namespaces excluded), then inventory members no longer in Git that still
 * exist. Returns 1 with *out filled, 0 past the end.
 */
int pl_sync_app_observation(const pl_sync_app *a, size_t i, pl_sync_observation *out);
void pl_sync_app_free(pl_sync_app *a);

#endif
