/*
 * plumb/apps.h - the Argo CD Application model and the App-of-Apps tree (engine/apps).
 *
 * PATH (a directory, or a file holding one argoproj.io Application) is the root app. Its
 * render is searched for argoproj.io Applications; each becomes a child app whose source is
 * rendered in turn, recursively (App-of-Apps). The tree is built once, then read-only.
 *
 * What this module does:
 *  - reads the Application fields plumb honours (source.repoURL/path/targetRevision,
 *    source.kustomize, source.directory, destination, syncPolicy, syncOptions,
 *    ignoreDifferences, the argocd.argoproj.io/sync-wave annotation of the Application);
 *  - resolves repoURL: the repository holding PATH (its git remotes, normalised), the root
 *    Application's own repoURL and `--repo-alias URL=DIR` resolve inside the same checkout or
 *    commit (the pl_fs given to the builder); other repositories are fetched (libgit2, the
 *    cache of engine/source/remote.c) at targetRevision;
 *  - applies source.kustomize the way Argo CD does (`kustomize edit set ...` on the app's own
 *    kustomization): the kustomization file is rewritten in memory, in a pl_fs layered over
 *    the source fs, so the kustomize renderer does the work;
 *  - applies destination.namespace to namespaced objects without a namespace;
 *  - checks for cycles and duplicate app names.
 * What it does not do: render by itself (the host passes a render callback, so pl_apps does
 * not link the renderers), apply anything, talk to a cluster, per-object annotations (hook,
 * hook-delete-policy, sync-options on objects: engine/sync reads them from the objects).
 *
 * Callers: engine/cli (render --apps, diff), engine/sync.
 */
#ifndef PLUMB_APPS_H
#define PLUMB_APPS_H

#include "plumb/core.h"
#include "plumb/fs.h"
#include "plumb/render.h"

/* The in-cluster destination server (Argo CD's "in-cluster"). */
#define PL_APP_IN_CLUSTER "https://kubernetes.default.svc"
#define PL_APP_WAVE_ANNOTATION "argocd.argoproj.io/sync-wave"

typedef enum {
    PL_APP_SOURCE_AUTO = 0, /* kustomize when the directory holds a kustomization, else plain */
    PL_APP_SOURCE_KUSTOMIZE = 1, /* source.kustomize given (Argo CD's explicit type) */
    PL_APP_SOURCE_DIRECTORY = 2, /* source.directory given: plain manifests */
} pl_app_source_type;

/* source.kustomize (Argo CD ApplicationSourceKustomize). Everything owned by the app. */
typedef struct pl_app_kustomize {
    int set;                   /* source.kustomize present */
    char *name_prefix;         /* NULL when unset */
    char *name_suffix;
    char *namespace;
    json_t *images;            /* array of strings, Argo form "[old=]new[:tag|@digest]"; or NULL */
    json_t *common_labels;     /* object of strings, or NULL */
    json_t *common_annotations;
    json_t *replicas;          /* array of {name, count} (count int or string), or NULL */
    json_t *patches;           /* array of kustomize patch entries, or NULL */
    json_t *components;        /* array of paths relative to the source path, or NULL */
} pl_app_kustomize;

/* source.directory (Argo CD ApplicationSourceDirectory). */
typedef struct pl_app_directory {
    int set;
    int recurse;
    char *include; /* glob(s), NULL = all */
    char *exclude;
} pl_app_directory;

/* syncPolicy + syncOptions. Flags are 0/1; strings owned, NULL when unset. */
typedef struct pl_app_sync {
    int automated; /* syncPolicy.automated present and not `enabled: false` */
    int prune;
    int self_heal;
    int allow_empty;
    int create_namespace;                 /* CreateNamespace=true */
    int apply_out_of_sync_only;           /* ApplyOutOfSyncOnly=true */
    int server_side_apply;                /* ServerSideApply=true */
    int prune_last;                       /* PruneLast=true */
    int replace;                          /* Replace=true */
    int respect_ignore_differences;       /* RespectIgnoreDifferences=true */
    int skip_dry_run_on_missing_resource; /* SkipDryRunOnMissingResource=true */
    int validate;                         /* Validate=false clears it; default 1 */
    char *prune_propagation_policy;       /* PrunePropagationPolicy=foreground|background|orphan */
    json_t *options;                      /* the raw syncOptions array (owned), never NULL */
} pl_app_sync;

typedef struct pl_app pl_app;

/*
 * One app of the tree. Read-only for callers; owned by the tree (valid until
 * pl_app_tree_free). Strings are never NULL unless documented.
 */
struct pl_app {
    char *name;            /* metadata.name; a directory root is named after the directory */
    char *app_namespace;   /* metadata.namespace of the Application ("" for a directory root) */
    const pl_app *parent;  /* NULL for the root */
    const pl_app **children; /* in render order */
    size_t nchildren;
    int depth;             /* 0 for the root */
    long wave;             /* the Application's sync-wave annotation (0 when absent) */
    json_t *application;   /* the Application object as rendered (owned); NULL for a dir root */

    /* source */
    char *repo_url;        /* as written ("" for a directory root) */
    char *target_revision; /* as written ("" = HEAD) */
    char *source_path;     /* as written */
    pl_app_source_type source_type;
    pl_app_kustomize kustomize;
    pl_app_directory directory;
    int remote;            /* 1: fetched from another repository into the cache */
    char *dir;             /* resolved absolute path (a directory, or the PATH file); NULL
                              when resolution failed */
    pl_fs *fs;             /* borrowed from the tree: where `dir` is read; NULL when failed */

    /* destination */
    char *dest_server;     /* "" when unset */
    char *dest_name;       /* destination.name, "" when unset */
    char *dest_namespace;  /* "" when unset */
    int in_cluster;        /* destination is the target cluster (in-cluster server or name) */
    char *context;         /* --cluster mapping of dest_server; NULL when in-cluster or unmapped */

    pl_app_sync sync;
    json_t *ignore_differences; /* Argo CD shape (owned array, never NULL): [{group, kind, name,
                                   namespace, jsonPointers, jqPathExpressions,
                                   managedFieldsManagers}] */

    /* render result */
    json_t *objects;       /* desired objects (owned array) with destination.namespace applied;
                              NULL when the app failed */
    int error_code;        /* 0, or the pl_code of the failure */
    char *error;           /* one-line message naming the file; NULL when ok */
};

/* --repo-alias URL=DIR and --cluster URL=CONTEXT pairs (borrowed strings). */
typedef struct pl_app_mapping {
    const char *url;
    const char *target;
} pl_app_mapping;

/* What the render callback is asked to render. All borrowed, valid during the call. */
typedef struct pl_app_render_req {
    pl_fs *fs;                     /* may be a layer over the app's fs (source.kustomize) */
    const char *path;              /* absolute directory (or file, for a plain root) */
    pl_app_source_type type;
    const pl_plain_opts *plain;    /* source.directory options (recurse, include, exclude) */
    const pl_app *app;             /* the app being rendered (objects not yet set) */
} pl_app_render_req;

/*
 * Render callback: set *out to a JSON array of objects (owned by the caller) and return 0, or
 * return a negative pl_code with pl_error_set (the message names the file). Called from the
 * builder's thread, one app at a time.
 */
typedef int (*pl_app_render_fn)(json_t **out, const pl_app_render_req *req, void *payload);

/*
 * Scope callback: set *cluster_scoped to 1 (cluster-scoped), 0 (namespaced) or -1 (unknown:
 * the built-in table and the CRDs of the tree decide). Optional.
 */
typedef int (*pl_app_scope_fn)(int *cluster_scoped, const char *api_version, const char *kind,
                               void *payload);

typedef struct pl_app_tree_opts {
    unsigned int version;
    pl_app_render_fn render; /* required */
    void *render_payload;
    pl_fetch_remote_fn fetch; /* other repositories; NULL = pl_source_fetch_remote */
    void *fetch_payload;
    pl_app_scope_fn scope;    /* NULL = built-in table + CRDs found in the tree */
    void *scope_payload;
    const pl_app_mapping *repo_aliases; /* URL -> directory (absolute, in the builder's fs) */
    size_t nrepo_aliases;
    const pl_app_mapping *clusters;     /* destination.server URL -> kubeconfig context */
    size_t nclusters;
    /* where to look for the git repository whose remotes are "this repository"; NULL = PATH */
    const char *repo_path;
    size_t max_apps; /* 0 = 1000 */
} pl_app_tree_opts;
#define PL_APP_TREE_OPTS_INIT {1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, 0}

typedef struct pl_app_tree pl_app_tree;

/**
 * Build the app tree of `path` (absolute path in `fs`; `fs` borrowed, must outlive the tree).
 *
 * A render failure of one app is recorded in that app (error, error_code, objects NULL) and
 * the build goes on with the others: the call still returns 0. Hard errors return a negative
 * code and no tree: PL_ENOTFOUND (PATH missing), PL_EINVALID (an app cycle, named as a chain
 * "a -> b -> a"; a duplicate app name; a bad PATH manifest), PL_ETOOBIG (more than max_apps).
 * An Application whose name and source equal an ancestor's is that ancestor's own manifest
 * (a self-managing root), not a new app.
 * `*out` is owned by the caller (pl_app_tree_free). Not thread-safe for one tree; separate
 * trees may be built on separate threads when the callbacks allow it.
 */
int pl_app_tree_build(pl_app_tree **out, pl_fs *fs, const char *path,
                      const pl_app_tree_opts *opts);

void pl_app_tree_free(pl_app_tree *tree);

/** Number of apps; the root is index 0, then depth-first in render order. */
size_t pl_app_tree_count(const pl_app_tree *tree);
/** App `i` (borrowed from the tree), NULL when out of range. */
const pl_app *pl_app_tree_get(const pl_app_tree *tree, size_t i);
/** App by name (borrowed), NULL when absent. */
const pl_app *pl_app_tree_find(const pl_app_tree *tree, const char *name);
/** Number of apps whose render or resolution failed. */
size_t pl_app_tree_failed(const pl_app_tree *tree);

/**
 * The kubeconfig context of the app's destination: *out = NULL for the target cluster (the
 * current context), the --cluster mapping otherwise (borrowed). PL_ENOTFOUND with a message
 * naming the app and the server when the destination is another cluster without a mapping.
 */
int pl_app_cluster_context(const char **out, const pl_app *app);

/**
 * Parse an Application object (borrowed) into `app` (fields owned by `app`, release with
 * pl_app_dispose); source resolution and render fields are left empty. PL_EINVALID with a
 * message naming the Application for a missing name or source, a multi-source or Helm
 * source, or a bad sync-wave.
 */
int pl_app_parse(pl_app *app, const json_t *application);
void pl_app_dispose(pl_app *app);

/** 1 if `obj` (borrowed) is an argoproj.io Application. */
int pl_app_is_application(const json_t *obj);

/**
 * The argocd.argoproj.io/sync-wave annotation of `obj` (borrowed) in *out (0 when absent).
 * PL_EINVALID when it is not an integer.
 */
int pl_app_wave(long *out, const json_t *obj);

/**
 * Normalise a git repository URL for comparison, as Argo CD compares them: lower case,
 * scheme, user and a trailing "/" or ".git" dropped, scp form (git@host:org/repo) made equal
 * to https://host/org/repo. Owned result; NULL on allocation failure.
 */
char *pl_app_normalize_repo_url(const char *url);

/**
 * 1 if `kind` of `api_version` is cluster-scoped in the built-in table of well-known kinds
 * (Kubernetes, OpenShift, OLM, common operators), 0 if namespaced or unknown.
 */
int pl_app_kind_is_cluster_scoped(const char *api_version, const char *kind);

#endif
