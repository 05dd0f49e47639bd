/*
 * plumb/render.h - the renderer interface: a directory in, an ordered list of objects out.
 *
 * Renderers are pure functions of the files they read through a pl_fs: they never talk to
 * Git or Kubernetes. Anything remote (kustomize git URLs) is delegated to a callback the host
 * provides (engine/cli wires it to engine/source).
 */
#ifndef PLUMB_RENDER_H
#define PLUMB_RENDER_H

#include "plumb/core.h"
#include "plumb/fs.h"

typedef enum { PL_REORDER_LEGACY = 0, PL_REORDER_NONE = 1, PL_REORDER_UNSET = 2 } pl_reorder;
typedef enum { PL_LOAD_ROOT_ONLY = 0, PL_LOAD_NONE = 1 } pl_load_restrictor;

/**
 * Materialise a remote kustomize resource (git URL) as a local directory.
 * `*out_dir` is owned by the caller. Return PL_ENOTFOUND/PL_EUNAVAIL with a message.
 */
typedef int (*pl_fetch_remote_fn)(char **out_dir, const char *url, void *payload);

typedef struct pl_render_opts {
    unsigned int version;
    pl_reorder reorder;           /* --reorder; UNSET lets sortOptions decide (legacy default) */
    pl_load_restrictor restrictor; /* --load-restrictor */
    int add_managedby_label;      /* --enable-managedby-label */
    pl_fetch_remote_fn fetch_remote; /* NULL: remote resources are an error */
    void *fetch_payload;
    /*
     * Threads for independent sub-kustomizations: 0 = one per core (at most 8), 1 = build
     * sequentially. With more than one, pl_fs reads (and the fs recorder) may happen on
     * several threads at once; fetch_remote is always called one at a time.
     */
    int max_threads;
    /*
     * Generators the host implements: a kustomization `generators:` entry whose config has
     * apiVersion plumb.dev/v1alpha1 (e.g. kind MaaSRender) is handed to this callback with the
     * resources accumulated so far (`accumulated`, a borrowed JSON array of objects); it sets
     * `*out` to a JSON array of new objects (owned by the caller) and returns 0, or a negative
     * pl_code with pl_error_set. NULL: such generators are an error. engine/cli wires it to
     * the MaaS renderer (renderers/maas); kubectl kustomize cannot run these generators.
     * It may be called from several build threads at once, so it must be reentrant.
     */
    int (*generator)(json_t **out, const json_t *config, const json_t *accumulated, void *payload);
    void *generator_payload;
} pl_render_opts;
#define PL_RENDER_OPTS_INIT {1, PL_REORDER_UNSET, PL_LOAD_ROOT_ONLY, 0, NULL, NULL, 0, NULL, NULL}

/**
 * kustomize build of the kustomization in `dir` (absolute path in `fs`).
 * `*out` is a JSON array of objects in output order (owned by the caller).
 * Errors: PL_ENOTFOUND (missing file), PL_EINVALID (bad input), PL_ETOOBIG; the message
 * names the file.
 */
int pl_kustomize_build(json_t **out, pl_fs *fs, const char *dir, const pl_render_opts *opts);

/** 1 if `dir` holds a kustomization file (kustomization.yaml|.yml|Kustomization). */
int pl_kustomize_detect(pl_fs *fs, const char *dir);

typedef struct pl_plain_opts {
    unsigned int version;
    int recurse;           /* descend into sub-directories (Argo CD directory.recurse) */
    const char *include;   /* glob(s) "{a,b}" on the relative path; NULL = all */
    const char *exclude;   /* glob(s); NULL = none */
} pl_plain_opts;
#define PL_PLAIN_OPTS_INIT {1, 0, NULL, NULL}

/**
 * Plain manifests: a file, or every .yaml, .yml and .json file in a directory (sorted by path).
 * `*out` is a JSON array of objects (owned). Lists (kind: List / *List) are flattened.
 */
int pl_plain_render(json_t **out, pl_fs *fs, const char *path, const pl_plain_opts *opts);

#endif
