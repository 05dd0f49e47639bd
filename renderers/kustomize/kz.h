/*
 * kz.h - internals of the kustomize renderer (not a public header).
 *
 * Shape of the renderer, in reading order:
 *   kz_build.c      kustomization loader and accumulation (resources, components, generators,
 *                   transformers in kustomize's order), hash suffixes, back references, vars,
 *                   output sort and cleanup. Entry point pl_kustomize_build().
 *   kz_resmap.c     kz_res / kz_resmap: the ordered resource list and resource ids.
 *   kz_fieldspec.c  field specs (gvk + path) and walking them over an object.
 *   kz_tconfig.c    the default transformer configuration (kustomize's builtin field specs)
 *                   and `configurations:`/`crds:` merging.
 *   kz_builtins.c   dispatch table: builtin plugin kind -> function; the simple transformers
 *                   (namespace, prefix/suffix, labels, annotations, images, replicas,
 *                   value-add, sort-order).
 *   kz_generators.c ConfigMapGenerator / SecretGenerator, hash suffix.
 *   kz_smp.c        strategic merge patch + the merge-key table of the Kubernetes types.
 *   kz_jsonpatch.c  RFC 6902 JSON patch.
 *   kz_patch.c      PatchTransformer / PatchStrategicMergeTransformer /
 *                   PatchJson6902Transformer and target selectors.
 *   kz_nameref.c    name reference fixing (renamed objects updated where referenced).
 *   kz_replace.c    ReplacementTransformer and vars.
 *
 * Resources are plain JSON objects. Like kustomize, bookkeeping that must survive
 * transformations (previous names/kinds/namespaces, prefixes/suffixes) is kept in
 * metadata.annotations under the same internal keys kustomize uses, and removed on output.
 */
#ifndef PL_KZ_H
#define PL_KZ_H

#include "plumb/core.h"
#include "plumb/fs.h"
#include "plumb/render.h"

/* Build annotations (kustomize api/konfig + resource bookkeeping); stripped from output. */
#define KZ_ANN_PREV_NAMES "internal.config.kubernetes.io/previousNames"
#define KZ_ANN_PREV_KINDS "internal.config.kubernetes.io/previousKinds"
#define KZ_ANN_PREV_NAMESPACES "internal.config.kubernetes.io/previousNamespaces"
#define KZ_ANN_PREFIXES "internal.config.kubernetes.io/prefixes"
#define KZ_ANN_SUFFIXES "internal.config.kubernetes.io/suffixes"
#define KZ_ANN_ALLOW_NAME_CHANGE "internal.config.kubernetes.io/allowNameChange"
#define KZ_ANN_ALLOW_KIND_CHANGE "internal.config.kubernetes.io/allowKindChange"
#define KZ_ANN_ID "internal.config.kubernetes.io/annotations-migration-resource-id"

enum { KZ_BEHAVIOR_UNSPECIFIED = 0, KZ_BEHAVIOR_CREATE, KZ_BEHAVIOR_MERGE, KZ_BEHAVIOR_REPLACE };

/* ---- resources ---------------------------------------------------------------------------- */

typedef struct kz_res {
    json_t *obj;          /* owned reference to the object */
    int behavior;         /* generator behavior (KZ_BEHAVIOR_*) */
    int needs_hash;       /* generated with a name hash suffix still to append */
    int is_generated;     /* came from a generator */
    json_t *ref_by;       /* owned array of {apiVersion,kind,name,namespace} that refer to it, or NULL */
    json_t *ref_var_names; /* owned array of var names referencing it, or NULL */
    json_t *origin;       /* owned {path, repo, ref, configuredIn, configuredBy} or NULL */
} kz_res;

typedef struct kz_resmap {
    kz_res **v;
    size_t n, cap;
} kz_resmap;

/** Wrap `obj` (reference taken) into a new resource. NULL on OOM (obj released). */
kz_res *kz_res_new_take(json_t *obj);
/** Deep copy (owned). */
kz_res *kz_res_copy(const kz_res *r);
void kz_res_free(kz_res *r);

void kz_resmap_init(kz_resmap *m);
void kz_resmap_dispose(kz_resmap *m);
/** Append (takes ownership of r). */
int kz_resmap_append(kz_resmap *m, kz_res *r);
/** Remove and free the i-th resource, keeping order. */
void kz_resmap_remove(kz_resmap *m, size_t i);
/** Deep copy of a whole resmap into an empty `out`. */
int kz_resmap_copy(kz_resmap *out, const kz_resmap *src);

/* Accessors (borrowed, "" when absent). apiVersion "apps/v1" -> group "apps", version "v1". */
const char *kz_res_kind(const kz_res *r);
const char *kz_res_name(const kz_res *r);
const char *kz_res_namespace(const kz_res *r);
const char *kz_res_api_version(const kz_res *r);
/** Group part of apiVersion copied into buf ("" for core). */
void kz_res_group(const kz_res *r, char *buf, size_t bufsz);

/** Annotation value (borrowed) or NULL. */
const char *kz_res_annotation(const kz_res *r, const char *key);
/** Set (value != NULL) or remove (value == NULL) an annotation; empty annotations map removed. */
int kz_res_set_annotation(kz_res *r, const char *key, const char *value);

/*
 * Record the current name/kind/namespace in the previous* build annotations before changing
 * them (kustomize Resource.StorePreviousId), so name references can find the resource by any
 * of its earlier ids.
 */
int kz_res_store_previous_id(kz_res *r);

/*
 * Previous ids of r: fills up to max entries of (kind, name, namespace) as owned strings in a
 * JSON array of objects {kind,name,namespace}. Owned result.
 */
json_t *kz_res_previous_ids(const kz_res *r);

/** Index of the resource with exactly this gvk/name/ns (current id), or -1. */
long kz_resmap_find(const kz_resmap *m, const char *group, const char *version, const char *kind,
                    const char *ns, const char *name);

/* ---- field specs ----------------------------------------------------------------------------- */

typedef struct kz_fieldspec {
    char *group, *version, *kind; /* NULL or "" matches any */
    char *path;                   /* "spec/template/metadata/labels", "a/b[]/c", escaped "\/" */
    int create;                   /* create missing fields */
} kz_fieldspec;

typedef struct kz_fslist {
    kz_fieldspec *v;
    size_t n, cap;
} kz_fslist;

void kz_fslist_dispose(kz_fslist *l);
/** Append a copy of fs (duplicates with the same gvk+path are merged, create OR'ed). */
int kz_fslist_add(kz_fslist *l, const kz_fieldspec *fs);
/** Append every element of a YAML/JSON list of {group,version,kind,path,create}. */
int kz_fslist_add_json(kz_fslist *l, const json_t *arr);
/** Copy of a list (owned). */
int kz_fslist_copy(kz_fslist *out, const kz_fslist *src);
/** Convert to JSON list form (owned). */
json_t *kz_fslist_to_json(const kz_fslist *l);

/** 1 if the field spec's gvk selects this object (empty parts match anything). */
int kz_fieldspec_matches(const kz_fieldspec *fs, const json_t *obj);

/*
 * Visit every value at fs->path in obj. For each matched field, cb gets the parent container
 * and the key (object parent) and a pointer to the slot; cb may replace *slot (new reference,
 * the old one is released by the walker). When fs->create is set, missing mappings along the
 * path are created and the last field is created as JSON null before cb sees it
 * (cb decides what to put). Returns the first negative cb return, else 0.
 */
typedef int (*kz_field_cb)(json_t **slot, const char *path_str, void *payload);
int kz_fieldspec_apply(json_t *obj, const kz_fieldspec *fs, kz_field_cb cb, void *payload);

/* ---- transformer configuration (field spec tables) ---------------------------------------------- */

typedef struct kz_nameref {
    char *group, *version, *kind; /* the referenced kind */
    kz_fslist referrers;          /* where it is referenced from */
} kz_nameref;

typedef struct kz_tconfig {
    kz_fslist name_prefix, name_suffix, name_space, common_labels, template_labels,
        common_annotations, var_reference, images, replicas;
    kz_nameref *nameref;
    size_t nnameref, nameref_cap;
} kz_tconfig;

/** The builtin defaults (kustomize api/konfig/builtinpluginconsts). Owned; kz_tconfig_free. */
int kz_tconfig_default(kz_tconfig **out);
int kz_tconfig_copy(kz_tconfig **out, const kz_tconfig *src);
void kz_tconfig_free(kz_tconfig *tc);
/** Merge a `configurations:` file (parsed YAML object with namePrefix:, nameReference: ...). */
int kz_tconfig_merge_json(kz_tconfig *tc, const json_t *cfg);
/** Merge field specs implied by a CRD file (`crds:`; x-kubernetes-object-ref-* hints). */
int kz_tconfig_merge_crd(kz_tconfig *tc, const json_t *crd);

/* ---- context ------------------------------------------------------------------------------------ */

typedef struct kz_ctx {
    pl_fs *fs;
    const pl_render_opts *opts;
    const char *dir;  /* absolute directory of the kustomization being processed */
    const char *root; /* load-restrictor root for file loads (== dir under RootOnly) */
    kz_tconfig *tc;   /* borrowed: transformer config of this kustomization */
    json_t *openapi;  /* borrowed: custom openapi schema (`openapi:` field) or NULL */
    const char *origin_path; /* kustomization file path for buildMetadata annotations, or NULL */
} kz_ctx;

/*
 * Read a file named in a kustomization (relative to ctx->dir), enforcing the load restrictor:
 * under RootOnly the resolved path (symlinks followed) must stay within ctx->root.
 * `*out_path` (optional, owned) receives the absolute path.
 */
int kz_load_file(const kz_ctx *ctx, const char *rel, pl_buf *out, char **out_path);

/** Parse YAML/JSON from a file named in a kustomization into an array of documents (owned). */
int kz_load_yaml(const kz_ctx *ctx, const char *rel, json_t **out);

/* ---- builtins ------------------------------------------------------------------------------------- */

/*
 * Run one builtin plugin, configured by `config` (a JSON object with apiVersion/kind as in
 * kustomize's builtin plugin configs: `kind: PrefixTransformer`, `prefix:`, `fieldSpecs:`...).
 * Transformers modify `m`; generators append to `m` (behavior handling: kz_resmap_absorb).
 * Unknown kinds: PL_EINVALID naming the kind. Helm/exec/container functions: PL_EINVALID
 * with a message naming the unsupported feature.
 */
int kz_builtin_run(const kz_ctx *ctx, kz_resmap *m, const json_t *config);
/** 1 if `kind` is a builtin generator (ConfigMapGenerator, SecretGenerator, ...). */
int kz_builtin_is_generator(const char *kind);

/* Individual builtins, each with the same contract as kz_builtin_run. */
int kz_t_namespace(const kz_ctx *ctx, kz_resmap *m, const json_t *cfg);
int kz_t_prefix_suffix(const kz_ctx *ctx, kz_resmap *m, const json_t *cfg); /* Prefix/SuffixTransformer */
int kz_t_labels(const kz_ctx *ctx, kz_resmap *m, const json_t *cfg);      /* LabelTransformer */
int kz_t_annotations(const kz_ctx *ctx, kz_resmap *m, const json_t *cfg); /* AnnotationsTransformer */
int kz_t_images(const kz_ctx *ctx, kz_resmap *m, const json_t *cfg);      /* ImageTagTransformer */
int kz_t_replicas(const kz_ctx *ctx, kz_resmap *m, const json_t *cfg);    /* ReplicaCountTransformer */
int kz_t_value_add(const kz_ctx *ctx, kz_resmap *m, const json_t *cfg);   /* ValueAddTransformer */
int kz_t_sort_order(const kz_ctx *ctx, kz_resmap *m, const json_t *cfg);  /* SortOrderTransformer */
int kz_t_patch(const kz_ctx *ctx, kz_resmap *m, const json_t *cfg);       /* PatchTransformer */
int kz_t_patch_sm(const kz_ctx *ctx, kz_resmap *m, const json_t *cfg);    /* PatchStrategicMergeTransformer */
int kz_t_patch_json6902(const kz_ctx *ctx, kz_resmap *m, const json_t *cfg); /* PatchJson6902Transformer */
int kz_t_replacements(const kz_ctx *ctx, kz_resmap *m, const json_t *cfg); /* ReplacementTransformer */
int kz_t_hash(const kz_ctx *ctx, kz_resmap *m, const json_t *cfg);        /* HashTransformer */
int kz_g_configmap(const kz_ctx *ctx, kz_resmap *m, const json_t *cfg);   /* ConfigMapGenerator */
int kz_g_secret(const kz_ctx *ctx, kz_resmap *m, const json_t *cfg);      /* SecretGenerator */

/*
 * Add generated resources `gen` into `m` honouring each one's behavior: create (error if the
 * id already exists), merge (data merged into the existing one, labels/annotations merged),
 * replace. Consumes the contents of gen (left empty).
 */
int kz_resmap_absorb(kz_resmap *m, kz_resmap *gen);

/** Name hash suffix of a ConfigMap/Secret as kustomize computes it (10 chars + NUL). */
int kz_hash_name_suffix(char out[11], const json_t *obj);

/* ---- patches ---------------------------------------------------------------------------------------- */

/*
 * Strategic merge `patch` (borrowed) into `*target` (replaced in place; the patch may delete
 * the whole object with `$patch: delete`, then *target becomes NULL). `openapi` is the
 * optional custom schema. apiVersion/kind of the target pick the merge keys.
 */
int kz_smp_apply(json_t **target, const json_t *patch, const json_t *openapi);

/** RFC 6902 patch (array of ops, borrowed) applied to *target (may be replaced). */
int kz_jsonpatch_apply(json_t **target, const json_t *ops);

/*
 * 1 if r is selected by a kustomize selector {group,version,kind,name,namespace,
 * labelSelector,annotationSelector} (name/namespace/kind are anchored regexes).
 * Negative on a malformed selector.
 */
int kz_selector_match(const json_t *selector, const kz_res *r);

/* ---- references -------------------------------------------------------------------------------------- */

/** Rewrite references to renamed objects everywhere (kustomize nameReference). */
int kz_nameref_fix(kz_resmap *m, const kz_tconfig *tc);

/** Resolve `vars:` ($(NAME) in varReference fields). `vars` is the accumulated JSON list. */
int kz_vars_resolve(kz_resmap *m, const json_t *vars, const kz_tconfig *tc);

/* ---- output -------------------------------------------------------------------------------------------- */

/** kustomize's legacy order (kind order table, then id). Stable. */
void kz_sort_legacy(kz_resmap *m);

#endif
