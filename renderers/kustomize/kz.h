/*
 * kz.h - internals of the kustomize renderer (not a public header).
 *
 * Shape of the renderer, in reading order:
 *   kz_build.c      kustomization loader and accumulation (resources, components, generators,
 *                   transformers in kustomize's order), hash suffixes, back references, vars,
 *                   output sort and cleanup. Entry point pl_kustomize_build().
 *   kz_resmap.c     pl_kz_res / pl_kz_resmap: the ordered resource list and resource ids.
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
#ifndef PL_KZ_H_INTERNAL
#define PL_KZ_H_INTERNAL

#include <pthread.h>

#include "plumb/core.h"
#include "plumb/fs.h"
#include "plumb/render.h"

/* Build annotations (kustomize api/konfig + resource bookkeeping); stripped from output. */
#define PL_KZ_ANN_PREV_NAMES "internal.config.kubernetes.io/previousNames"
#define PL_KZ_ANN_PREV_KINDS "internal.config.kubernetes.io/previousKinds"
#define PL_KZ_ANN_PREV_NAMESPACES "internal.config.kubernetes.io/previousNamespaces"
#define PL_KZ_ANN_PREFIXES "internal.config.kubernetes.io/prefixes"
#define PL_KZ_ANN_SUFFIXES "internal.config.kubernetes.io/suffixes"
#define PL_KZ_ANN_ALLOW_NAME_CHANGE "internal.config.kubernetes.io/allowNameChange"
#define PL_KZ_ANN_ALLOW_KIND_CHANGE "internal.config.kubernetes.io/allowKindChange"
#define PL_KZ_ANN_ID "internal.config.kubernetes.io/annotations-migration-resource-id"

enum { PL_KZ_BEHAVIOR_UNSPECIFIED = 0, PL_KZ_BEHAVIOR_CREATE, PL_KZ_BEHAVIOR_MERGE, PL_KZ_BEHAVIOR_REPLACE };

/* ---- resources ---------------------------------------------------------------------------- */

typedef struct pl_kz_res {
    json_t *obj;          /* owned reference to the object */
    int behavior;         /* generator behavior (PL_KZ_BEHAVIOR_*) */
    int needs_hash;       /* generated with a name hash suffix still to append */
    int is_generated;     /* came from a generator */
    json_t *ref_by;       /* owned array of {apiVersion,kind,name,namespace} that refer to it, or NULL */
    json_t *ref_var_names; /* owned array of var names referencing it, or NULL */
    json_t *origin;       /* owned {path, repo, ref, configuredIn, configuredBy} or NULL */
} pl_kz_res;

typedef struct pl_kz_resmap {
    pl_kz_res **v;
    size_t n, cap;
} pl_kz_resmap;

/** Wrap `obj` (reference taken) into a new resource. NULL on OOM (obj released). */
pl_kz_res *pl_kz_res_new_take(json_t *obj);
/** Deep copy (owned). */
pl_kz_res *pl_kz_res_copy(const pl_kz_res *r);
void pl_kz_res_free(pl_kz_res *r);
/** Deep copy of a loop-free JSON value (much cheaper than json_deep_copy, same result).
 * Returns a new reference owned by the caller; NULL for NULL or out of memory. */
json_t *pl_kz_json_copy(const json_t *v);
/** json_object_get (borrowed result, NULL when obj is not an object or lacks key), faster
 *  for the small objects of resources: the first few keys are compared before hashing. */
json_t *pl_kz_obj_get(const json_t *obj, const char *key);
/** pl_kz_obj_get with the key's length given (klen == strlen(key)): for hot callers that
 *  know it already (literals, pre-split field-spec paths). Borrowed result. */
json_t *pl_kz_obj_getn(const json_t *obj, const char *key, size_t klen);

void pl_kz_resmap_init(pl_kz_resmap *m);
void pl_kz_resmap_dispose(pl_kz_resmap *m);
/** Append (takes ownership of r). */
int pl_kz_resmap_append(pl_kz_resmap *m, pl_kz_res *r);
/** Remove and free the i-th resource, keeping order. */
void pl_kz_resmap_remove(pl_kz_resmap *m, size_t i);
/** Deep copy of a whole resmap into an empty `out`. */
int pl_kz_resmap_copy(pl_kz_resmap *out, const pl_kz_resmap *src);

/* Accessors (borrowed, "" when absent). apiVersion "apps/v1" -> group "apps", version "v1". */
const char *pl_kz_res_kind(const pl_kz_res *r);
const char *pl_kz_res_name(const pl_kz_res *r);
const char *pl_kz_res_namespace(const pl_kz_res *r);
const char *pl_kz_res_api_version(const pl_kz_res *r);
/** Group part of apiVersion copied into buf ("" for core). */
void pl_kz_res_group(const pl_kz_res *r, char *buf, size_t bufsz);

/** Annotation value (borrowed) or NULL. */
const char *pl_kz_res_annotation(const pl_kz_res *r, const char *key);
/** Set (value != NULL) or remove (value == NULL) an annotation; empty annotations map removed. */
int pl_kz_res_set_annotation(pl_kz_res *r, const char *key, const char *value);

/*
 * Record the current name/kind/namespace in the previous* build annotations before changing
 * them (kustomize Resource.StorePreviousId), so name references can find the resource by any
 * of its earlier ids.
 */
int pl_kz_res_store_previous_id(pl_kz_res *r);

/*
 * Previous ids of r: fills up to max entries of (kind, name, namespace) as owned strings in a
 * JSON array of objects {kind,name,namespace}. Owned result.
 */
json_t *pl_kz_res_previous_ids(const pl_kz_res *r);

/** Index of the resource with exactly this gvk/name/ns (current id), or -1. */
long pl_kz_resmap_find(const pl_kz_resmap *m, const char *group, const char *version, const char *kind,
                    const char *ns, const char *name);

/* ---- field specs ----------------------------------------------------------------------------- */

typedef struct pl_kz_fieldspec {
    char *group, *version, *kind; /* NULL or "" matches any */
    char *path;                   /* "spec/template/metadata/labels", "a/b[]/c", escaped "\/" */
    int create;                   /* create missing fields */
} pl_kz_fieldspec;

typedef struct pl_kz_fslist {
    pl_kz_fieldspec *v;
    size_t n, cap;
} pl_kz_fslist;

void pl_kz_fslist_dispose(pl_kz_fslist *l);
/** Append a copy of fs (duplicates with the same gvk+path are merged, create OR'ed). */
int pl_kz_fslist_add(pl_kz_fslist *l, const pl_kz_fieldspec *fs);
/** Append every element of a YAML/JSON list of {group,version,kind,path,create}. */
int pl_kz_fslist_add_json(pl_kz_fslist *l, const json_t *arr);
/** Copy of a list (owned). */
int pl_kz_fslist_copy(pl_kz_fslist *out, const pl_kz_fslist *src);
/** Convert to JSON list form (owned). */
json_t *pl_kz_fslist_to_json(const pl_kz_fslist *l);

/** 1 if the field spec's gvk selects this object (empty parts match anything). */
int pl_kz_fieldspec_matches(const pl_kz_fieldspec *fs, const json_t *obj);

/*
 * Visit every value at fs->path in obj. For each matched field, cb gets the parent container
 * and the key (object parent) and a pointer to the slot; cb may replace *slot (new reference,
 * the old one is released by the walker). When fs->create is set, missing mappings along the
 * path are created and the last field is created as JSON null before cb sees it
 * (cb decides what to put). Returns the first negative cb return, else 0.
 */
typedef int (*pl_kz_field_cb)(json_t **slot, const char *path_str, void *payload);
int pl_kz_fieldspec_apply(json_t *obj, const pl_kz_fieldspec *fs, pl_kz_field_cb cb, void *payload);

/*
 * Fast paths for applying many field specs to many objects (added by kz_fieldspec.c's owner):
 * an object's gvk parsed once (pointers borrowed from obj; group is glen bytes, not
 * NUL-terminated), matched against specs without JSON lookups, and a list whose paths are
 * split once. pl_kz_fsprep borrows `l`, which must outlive it.
 */
typedef struct pl_kz_objgvk {
    const char *kind, *group, *version;
    size_t glen;
} pl_kz_objgvk;
void pl_kz_objgvk_of(pl_kz_objgvk *out, const json_t *obj);
int pl_kz_fieldspec_matches_gvk(const pl_kz_fieldspec *fs, const pl_kz_objgvk *gvk);

typedef struct pl_kz_fsprep pl_kz_fsprep;
int pl_kz_fsprep_new(pl_kz_fsprep **out, const pl_kz_fslist *l);
void pl_kz_fsprep_free(pl_kz_fsprep *p);
/** Walk spec i of the prepared list over obj (no gvk check: the caller matched), with the
 *  given create flag (kustomize ignores `create` when the filter has no create kind). */
int pl_kz_fsprep_walk(const pl_kz_fsprep *p, size_t i, json_t *obj, int create,
                      pl_kz_field_cb cb, void *payload);

/* ---- transformer configuration (field spec tables) ---------------------------------------------- */

typedef struct pl_kz_nameref {
    char *group, *version, *kind; /* the referenced kind */
    pl_kz_fslist referrers;          /* where it is referenced from */
} pl_kz_nameref;

typedef struct pl_kz_tconfig {
    pl_kz_fslist name_prefix, name_suffix, name_space, common_labels, template_labels,
        common_annotations, var_reference, images, replicas;
    pl_kz_nameref *nameref;
    size_t nnameref, nameref_cap;
    /* kustomize v5.8 TransformerConfig additions (keys `labels`, `volumeClaimTemplateLabels`):
     * extra field specs for the `labels:` field, and the StatefulSet volumeClaimTemplates label
     * specs used by `labels: [{includeTemplates: true}]` (no longer part of templateLabels). */
    pl_kz_fslist labels, volume_claim_template_labels;
} pl_kz_tconfig;

/** The builtin defaults (kustomize api/konfig/builtinpluginconsts). Owned; pl_kz_tconfig_free. */
int pl_kz_tconfig_default(pl_kz_tconfig **out);
int pl_kz_tconfig_copy(pl_kz_tconfig **out, const pl_kz_tconfig *src);
void pl_kz_tconfig_free(pl_kz_tconfig *tc);
/** Merge a `configurations:` file (parsed YAML object with namePrefix:, nameReference: ...). */
int pl_kz_tconfig_merge_json(pl_kz_tconfig *tc, const json_t *cfg);
/** Merge field specs implied by a CRD file (`crds:`; x-kubernetes-object-ref-* hints). */
int pl_kz_tconfig_merge_crd(pl_kz_tconfig *tc, const json_t *crd);
/*
 * kustomize TransformerConfig.Merge: src's specs not already in dst are appended (conflicting
 * `create` flags are PL_EINVALID), nameReference entries of the same gvk merge, and every list
 * is re-sorted. `src` is borrowed; on error dst may hold part of src.
 */
int pl_kz_tconfig_merge(pl_kz_tconfig *dst, const pl_kz_tconfig *src);

/* ---- context ------------------------------------------------------------------------------------ */

/*
 * The spare worker threads of one build (kz_build.c owns the counter): a pass over many
 * resources may borrow some of them while it runs (pl_kz_parallel_ranges).
 */
typedef struct pl_kz_workers {
    pthread_mutex_t *lock; /* guards *free */
    int *free;             /* threads that may still be started */
} pl_kz_workers;

typedef struct pl_kz_ctx {
    pl_fs *fs;
    const pl_render_opts *opts;
    const char *dir;  /* absolute directory of the kustomization being processed */
    const char *root; /* load-restrictor root for file loads (== dir under RootOnly) */
    pl_kz_tconfig *tc;   /* borrowed: transformer config of this kustomization */
    json_t *openapi;  /* borrowed: custom openapi schema (`openapi:` field) or NULL */
    const char *origin_path; /* absolute path of the kustomization file (for messages), or NULL */
    const char *origin_rel;  /* kustomization file relative to the top one ("../base/kustomization.yaml") */
    int track_origin;        /* buildMetadata present: record origins/transformations */
    int origin_named;        /* transformer configs from `transformers:` name themselves */
    const pl_kz_workers *workers; /* borrowed: spare threads for passes over resources, or NULL */
} pl_kz_ctx;

/*
 * A pass over resources [0, n) whose steps on different resources are independent, spread
 * over this thread and spare threads of ctx->workers while there are any (ctx NULL or no
 * workers: one call fn(parts, 0, n) here). Each thread has its own state: parts holds
 * nparts_max states of part_size bytes, set up by the caller, who also merges and disposes
 * them; thread k calls fn(part k, from, to) on consecutive chunks of the resources, any
 * number of times. A thread is started only for every min_per_range resources.
 * *nused (optional) receives the number of threads (parts) used.
 * Returns 0, or the error of the first failing chunk in resource order (the one a sequential
 * pass would have met), with its message set in this thread.
 */
typedef int (*pl_kz_range_fn)(void *part, size_t from, size_t to);
int pl_kz_parallel_ranges(const pl_kz_ctx *ctx, size_t n, size_t min_per_range, pl_kz_range_fn fn,
                          void *parts, size_t part_size, size_t nparts_max, size_t *nused);

/*
 * Read a file named in a kustomization (relative to ctx->dir), enforcing the load restrictor:
 * under RootOnly the resolved path (symlinks followed) must stay within ctx->root.
 * `*out_path` (optional, owned) receives the absolute path.
 */
int pl_kz_load_file(const pl_kz_ctx *ctx, const char *rel, pl_buf *out, char **out_path);

/** Parse YAML/JSON from a file named in a kustomization into an array of documents (owned). */
int pl_kz_load_yaml(const pl_kz_ctx *ctx, const char *rel, json_t **out);

/* ---- builtins ------------------------------------------------------------------------------------- */

/*
 * Run one builtin plugin, configured by `config` (a JSON object with apiVersion/kind as in
 * kustomize's builtin plugin configs: `kind: PrefixTransformer`, `prefix:`, `fieldSpecs:`...).
 * Transformers modify `m`; generators append to `m` (behavior handling: pl_kz_resmap_absorb).
 * Unknown kinds: PL_EINVALID naming the kind. Helm/exec/container functions: PL_EINVALID
 * with a message naming the unsupported feature.
 */
int pl_kz_builtin_run(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *config);
/** 1 if `kind` is a builtin generator (ConfigMapGenerator, SecretGenerator, ...). */
int pl_kz_builtin_is_generator(const char *kind);

/*
 * Check a user-written `transformers:`/`generators:` entry before pl_kz_builtin_run: it must
 * be `apiVersion: builtin` with a kind kustomize lets users load (SortOrderTransformer is not:
 * "unable to load builtin SortOrderTransformer.builtin.[noGrp]"), and not a KRM function or
 * helm chart. 0 or PL_EINVALID with the message. `config` is borrowed.
 */
int pl_kz_builtin_check_user(const json_t *config);

/*
 * 1 if kustomize treats apiVersion/kind as certainly cluster scoped (kyaml's precomputed
 * openapi table, exact apiVersion + kind), else 0 (unknown kinds count as namespaced).
 */
int pl_kz_is_cluster_scoped(const char *api_version, const char *kind);

/* Individual builtins, each with the same contract as pl_kz_builtin_run. */
int pl_kz_t_namespace(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg);
int pl_kz_t_prefix_suffix(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg); /* Prefix/SuffixTransformer */
int pl_kz_t_labels(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg);      /* LabelTransformer */
int pl_kz_t_annotations(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg); /* AnnotationsTransformer */
int pl_kz_t_images(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg);      /* ImageTagTransformer */
int pl_kz_t_replicas(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg);    /* ReplicaCountTransformer */
int pl_kz_t_value_add(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg);   /* ValueAddTransformer */
int pl_kz_t_sort_order(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg);  /* SortOrderTransformer */
int pl_kz_t_patch(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg);       /* PatchTransformer */
int pl_kz_t_patch_sm(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg);    /* PatchStrategicMergeTransformer */
int pl_kz_t_patch_json6902(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg); /* PatchJson6902Transformer */
int pl_kz_t_replacements(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg); /* ReplacementTransformer */
int pl_kz_t_hash(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg);        /* HashTransformer */
int pl_kz_g_configmap(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg);   /* ConfigMapGenerator */
int pl_kz_g_secret(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg);      /* SecretGenerator */

/*
 * Add generated resources `gen` into `m` honouring each one's behavior: create (error if the
 * id already exists), merge (data merged into the existing one, labels/annotations merged),
 * replace. Consumes the contents of gen (left empty).
 */
int pl_kz_resmap_absorb(pl_kz_resmap *m, pl_kz_resmap *gen);

/** Name hash suffix of a ConfigMap/Secret as kustomize computes it (10 chars + NUL). */
int pl_kz_hash_name_suffix(char out[11], const json_t *obj);

/* ---- patches ---------------------------------------------------------------------------------------- */

/*
 * Strategic merge `patch` (borrowed) into `*target` (replaced in place; the patch may delete
 * the whole object with `$patch: delete`, then *target becomes NULL). `openapi` is the
 * optional custom schema. apiVersion/kind of the target pick the merge keys.
 */
int pl_kz_smp_apply(json_t **target, const json_t *patch, const json_t *openapi);

/*
 * pl_kz_smp_apply with the schema state spelled out. kustomize's schema is global and only
 * grows: when the builtin schema had already been loaded (kyaml loads it the first time it
 * needs one: a resource of a kind outside the builtin list is accumulated, or a strategic
 * merge patch runs) before a base or component set `openapi: path:`, the custom definitions
 * are added to the builtin ones. Pass with_builtin = 1 then: builtin kinds and definitions
 * keep their builtin schema, the custom document adds its kinds, and its "$ref"s to io.k8s.*
 * definitions resolve to the builtin ones. With openapi == NULL the builtin schema is used
 * regardless.
 */
int pl_kz_smp_apply_ex(json_t **target, const json_t *patch, const json_t *openapi,
                       int with_builtin);

/** 1 if apiVersion/kind is a kind of the builtin schema (kustomize knows its scope without
 * loading the schema); borrowed strings. */
int pl_kz_smp_builtin_kind(const char *api_version, const char *kind);

/*
 * Key the driver sets (true) in a custom openapi document that kustomize would add to the
 * builtin schema instead of replacing it: the builtin schema was already loaded (a strategic
 * merge ran, or a resource of a non-builtin kind was read) before a base or component set it.
 */
#define PL_KZ_OPENAPI_WITH_BUILTIN "x-plumb-with-builtin-schema"

/** RFC 6902 patch (array of ops, borrowed) applied to *target (may be replaced). */
int pl_kz_jsonpatch_apply(json_t **target, const json_t *ops);

/*
 * 1 if r is selected by a kustomize selector {group,version,kind,name,namespace,
 * labelSelector,annotationSelector} (name/namespace/kind are anchored regexes).
 * Negative on a malformed selector.
 */
int pl_kz_selector_match(const json_t *selector, const pl_kz_res *r);

/*
 * A compiled selector (regexes compiled once, label/annotation selectors parsed once), for
 * matching many resources. pl_kz_selector_compile: *out owned (pl_kz_selector_free);
 * `selector` borrowed, NULL or JSON null selects everything; PL_EINVALID on a bad regex or
 * selector expression. pl_kz_selector_matches: 1/0 as kustomize resWrangler.Select decides
 * (name/namespace against the original or the current id, effective namespaces, gvk against
 * the current id); never fails. Not thread-safe (one match buffer per selector).
 * Defined in kz_patch.c.
 */
typedef struct pl_kz_selector pl_kz_selector;
int pl_kz_selector_compile(pl_kz_selector **out, const json_t *selector);
int pl_kz_selector_matches(const pl_kz_selector *sel, const pl_kz_res *r);
void pl_kz_selector_free(pl_kz_selector *sel);

/* ---- references -------------------------------------------------------------------------------------- */

/** Rewrite references to renamed objects everywhere (kustomize nameReference). */
int pl_kz_nameref_fix(pl_kz_resmap *m, const pl_kz_tconfig *tc);
/** pl_kz_nameref_fix with the build's context (ctx borrowed, may be NULL): large builds fix
 *  their referrers on the build's spare threads (ctx->workers); same result. */
int pl_kz_nameref_fix_ctx(const pl_kz_ctx *ctx, pl_kz_resmap *m, const pl_kz_tconfig *tc);

/** Resolve `vars:` ($(NAME) in varReference fields). `vars` is the accumulated JSON list. */
int pl_kz_vars_resolve(pl_kz_resmap *m, const json_t *vars, const pl_kz_tconfig *tc);

/*
 * Attach one kustomization's own `vars:` (borrowed JSON list) to the resources they name,
 * as kustomize's ResAccumulator.MergeVars does after that kustomization's transformers: the
 * resource whose *original* id (first previous id, else current) has the objref's exact
 * group/version/kind/name (and effective namespace when objref gives one) gets the var name
 * appended to its ref_var_names. More than one such resource: PL_EINVALID "found N resId
 * matches for var ... (unable to disambiguate)". No match is not an error here.
 * pl_kz_vars_resolve reads values from the tagged resources (falling back to the same
 * original-id search for vars nobody tagged).
 */
int pl_kz_vars_merge(pl_kz_resmap *m, const json_t *vars);

/* ---- Go encoding/json (kz_generators.c) ---------------------------------------------------------- */

/* A JSON string as Go's encoding/json writes it: HTML-safe (<, >, & escaped), U+2028/9
 * escaped, invalid UTF-8 as U+FFFD. Used by the generator hash and by replacements inside
 * structured string fields. */
int pl_kz_go_json_string(pl_buf *b, const char *s, size_t n);
/* A float64 as Go's encoding/json writes it (shortest round-trip digits; %e form below 1e-6
 * and from 1e21). PL_EINVALID for NaN and infinities. */
int pl_kz_go_json_float(pl_buf *b, double f);

/* ---- output -------------------------------------------------------------------------------------------- */

/** kustomize's legacy order (kind order table, then id). Stable. */
void pl_kz_sort_legacy(pl_kz_resmap *m);

#endif
