/*
 * kz_build.c - `kustomize build`: load a kustomization, accumulate its resources, run its
 * generators and transformers, and finish the top-level build (hash suffixes, back
 * references, vars, local-config removal, sort, build-annotation cleanup).
 *
 * The order of operations is kustomize's (api/internal/target/kusttarget.go):
 *   resources -> configurations -> crds -> generators -> components -> transformers ->
 *   vars merge; then, for the top-level kustomization only: hash suffixes, name back
 *   references, vars resolution, local-config removal, sort, cleanup.
 * Builtin transformers run in kustomize's fixed order (kusttarget_configplugin.go):
 *   patchesStrategicMerge, patches, namespace, prefix, suffix, labels (+commonLabels),
 *   commonAnnotations, patchesJson6902, replicas, images, replacements; then the
 *   `transformers:` field.
 *
 * What it does not do: any transformation itself (kz_builtins.c and friends), fetching
 * remote bases (the host's fetch_remote callback), printing.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "kz.h"

#define MAX_DEPTH 64

static const char *const kust_file_names[] = {"kustomization.yaml", "kustomization.yml",
                                              "Kustomization"};

static const char *const known_fields[] = {
    "apiVersion", "kind", "metadata", "openapi", "namePrefix", "nameSuffix", "namespace",
    "commonLabels", "labels", "commonAnnotations", "patchesStrategicMerge", "patchesJson6902",
    "patches", "images", "imageTags", "replacements", "replicas", "vars", "sortOptions",
    "resources", "components", "crds", "bases", "configMapGenerator", "secretGenerator",
    "helmGlobals", "helmCharts", "helmChartInflationGenerator", "generatorOptions",
    "configurations", "generators", "transformers", "validators", "inventory",
    "buildMetadata", NULL};

typedef struct accum accum;

/*
 * Build results of sub-kustomizations by real path. A kustomization's accumulated result is a
 * pure function of its directory, so when several overlays pull the same base (clusters/big/all
 * pulls every base four times) the base is built once and copied afterwards.
 */
typedef struct cache_ent {
    char *dir;
    accum *ra;
} cache_ent;

/*
 * State shared by the threads of one build. Sibling kustomizations (the bases of an overlay,
 * the overlays of a cluster) are independent, so they may be built concurrently on the
 * machine's cores and merged afterwards in their listed order; everything below is guarded by
 * `lock`. Each thread works on its own copy of `build`.
 */
typedef struct shared {
    pthread_mutex_t lock;
    cache_ent *cache;
    size_t ncache, cache_cap;
    json_t *uses;     /* real path -> how many more times the build will pull it in */
    int threads_free; /* worker threads that may still be started */
    int parallel;     /* 0 when build order matters (openapi, buildMetadata) */
    pl_kz_workers workers; /* {&lock, &threads_free}: lent to passes over resources */
} shared;

typedef struct build {
    shared *sh;
    pl_fs *fs;
    const pl_render_opts *opts;
    const char *visited[MAX_DEPTH]; /* roots of the kustomizations being built (cycle check) */
    size_t depth;
    json_t *build_metadata; /* owned: the top kustomization's buildMetadata */
    json_t *openapi;        /* owned: the custom schema in force (kustomize keeps it global) */
    const char *top_dir;
    unsigned openapi_changes; /* a custom schema seen: results depend on build order */
    int openapi_set;          /* some kustomization chose the schema (path or version) */
    int builtin_schema_used;  /* kustomize has loaded its builtin schema by now */
    pl_kz_tconfig *tc_default; /* owned: the builtin field specs, parsed once per build */
    json_t *seen;              /* prescan: components already visited (top thread only) */
} build;

struct accum {
    pl_kz_resmap rm;
    /* id set over rm for conflict checks while resources accumulate; rebuilt when anything
     * other than appending may have changed rm (generators, transformers, components) */
    pl_kz_res **ids;
    uint64_t *id_hashes;
    size_t ids_size, ids_count;
    int ids_valid;
    /* the transformer config; while tc_owned is 0 it is the build's shared, read-only
     * defaults (b->tc_default, which outlives every accum): most kustomizations never change
     * it, and copying the default tables for each one cost more than some transformers.
     * accum_own_tc() makes the private copy before the first change. */
    pl_kz_tconfig *tc;
    int tc_owned;
    json_t *vars;  /* owned array */
    int tc_custom; /* tc differs from the defaults (configurations, crds, or a custom base) */
};

static int build_dir(build *b, accum *ra, const char *dir, int is_component, json_t *origin_path,
                     json_t **sort_options);
static int accumulate_serial(build *b, const pl_kz_ctx *ctx, accum *ra, json_t *list,
                             json_t *origin_path, const unsigned char *kinds);

/* ---- small helpers ------------------------------------------------------------------------ */

static int accum_init(accum *a, const pl_kz_tconfig *tc_default)
{
    int error;
    pl_kz_resmap_init(&a->rm);
    a->vars = json_array();
    a->tc_custom = 0;
    a->ids = NULL;
    a->id_hashes = NULL;
    a->ids_size = a->ids_count = 0;
    a->ids_valid = 0;
    a->tc = NULL;
    a->tc_owned = 0;
    if (tc_default) {
        a->tc = (pl_kz_tconfig *)tc_default; /* shared until changed (see accum) */
    } else {
        if ((error = pl_kz_tconfig_default(&a->tc)) < 0)
            return error;
        a->tc_owned = 1;
    }
    return a->vars ? 0 : pl_error_set(PL_ENOMEM, "out of memory");
}

/* Give a its own copy of the transformer config before changing it. */
static int accum_own_tc(accum *a)
{
    pl_kz_tconfig *copy = NULL;
    int error;

    if (a->tc_owned)
        return 0;
    if ((error = pl_kz_tconfig_copy(&copy, a->tc)) < 0)
        return error;
    a->tc = copy;
    a->tc_owned = 1;
    return 0;
}

static void ids_drop(accum *a)
{
    pl_free(a->ids);
    pl_free(a->id_hashes);
    a->ids = NULL;
    a->id_hashes = NULL;
    a->ids_size = a->ids_count = 0;
    a->ids_valid = 0;
}

static void accum_dispose(accum *a)
{
    ids_drop(a);
    pl_kz_resmap_dispose(&a->rm);
    if (a->tc_owned)
        pl_kz_tconfig_free(a->tc);
    json_decref(a->vars);
    a->tc = NULL;
    a->tc_owned = 0;
    a->vars = NULL;
}

static int accum_copy(accum *out, const accum *src)
{
    int error;
    pl_kz_resmap_init(&out->rm);
    out->ids = NULL;
    out->id_hashes = NULL;
    out->ids_size = out->ids_count = 0;
    out->ids_valid = 0;
    out->vars = json_deep_copy(src->vars);
    out->tc = NULL;
    out->tc_owned = 0;
    out->tc_custom = src->tc_custom;
    if (!src->tc_owned) {
        out->tc = src->tc; /* the shared defaults */
    } else {
        if ((error = pl_kz_tconfig_copy(&out->tc, src->tc)) < 0)
            return error;
        out->tc_owned = 1;
    }
    if ((error = pl_kz_resmap_copy(&out->rm, &src->rm)) < 0)
        return error;
    return out->vars ? 0 : pl_error_set(PL_ENOMEM, "out of memory");
}

/*
 * The cached result for dir, copied into *out (or moved, when this is its last use).
 * 1 on a hit, 0 on a miss, negative on error. Copies happen under the lock so a concurrent
 * last use cannot take the entry away mid-copy.
 */
static int cache_fetch(build *b, const char *dir, long left, accum *out)
{
    shared *sh = b->sh;
    int rc = 0;

    pthread_mutex_lock(&sh->lock);
    for (size_t i = 0; i < sh->ncache; i++) {
        if (strcmp(sh->cache[i].dir, dir))
            continue;
        if (left <= 0) {
            *out = *sh->cache[i].ra;
            pl_free(sh->cache[i].ra);
            pl_free(sh->cache[i].dir);
            sh->cache[i] = sh->cache[--sh->ncache];
            rc = 1;
        } else {
            rc = accum_copy(out, sh->cache[i].ra) < 0 ? PL_ENOMEM : 1;
        }
        break;
    }
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

/*
 * Store a copy of ra as the result for dir (take != 0: ra itself, which is left empty for
 * the caller to dispose; a prebuilt base has no other use, and copying it cost as much as a
 * quarter of its build).
 */
static void cache_store(build *b, const char *dir, accum *ra, int take)
{
    shared *sh = b->sh;
    accum *copy;

    pthread_mutex_lock(&sh->lock);
    for (size_t i = 0; i < sh->ncache; i++) {
        if (!strcmp(sh->cache[i].dir, dir)) { /* a concurrent build stored it first */
            pthread_mutex_unlock(&sh->lock);
            return;
        }
    }
    if (sh->ncache == sh->cache_cap) {
        size_t cap = sh->cache_cap ? sh->cache_cap * 2 : 16;
        cache_ent *p = pl_realloc(sh->cache, cap * sizeof(*p));
        if (!p)
            goto out; /* the cache is an optimisation only */
        sh->cache = p;
        sh->cache_cap = cap;
    }
    if (!(copy = pl_calloc(1, sizeof(*copy))))
        goto out;
    if (take) {
        *copy = *ra;
        memset(ra, 0, sizeof(*ra));
        /* the id set points into the resource list; the next user rebuilds it */
        ids_drop(copy);
    } else if (accum_copy(copy, ra) < 0) {
        accum_dispose(copy);
        pl_free(copy);
        goto out;
    }
    sh->cache[sh->ncache].dir = pl_strdup(dir);
    sh->cache[sh->ncache].ra = copy;
    sh->ncache++;
out:
    pthread_mutex_unlock(&sh->lock);
}

static void cache_put(build *b, const char *dir, const accum *ra)
{
    cache_store(b, dir, (accum *)ra, 0);
}

/* Remaining uses of a directory after this one (from the prescan; unknown dirs: none). */
static long use_once(build *b, const char *dir)
{
    json_t *n;
    long left = 0;

    pthread_mutex_lock(&b->sh->lock);
    n = json_object_get(b->sh->uses, dir);
    if (json_is_integer(n)) {
        left = (long)json_integer_value(n) - 1;
        json_integer_set(n, left);
    }
    pthread_mutex_unlock(&b->sh->lock);
    return left;
}

static void cache_free(shared *sh)
{
    for (size_t i = 0; i < sh->ncache; i++) {
        pl_free(sh->cache[i].dir);
        accum_dispose(sh->cache[i].ra);
        pl_free(sh->cache[i].ra);
    }
    pl_free(sh->cache);
}

static int has_build_metadata(const build *b, const char *opt)
{
    size_t i;
    json_t *v;
    json_array_foreach(b->build_metadata, i, v) {
        if (json_is_string(v) && !strcmp(json_string_value(v), opt))
            return 1;
    }
    return 0;
}

/* Two ids are the same resource (kustomize ResId.Equals: "" and "default" namespaces match). */
static int ns_equal(const char *a, const char *b)
{
    if (!*a)
        a = "default";
    if (!*b)
        b = "default";
    return !strcmp(a, b);
}

static int same_id(const pl_kz_res *x, const pl_kz_res *y)
{
    char gx[256], gy[256];
    if (strcmp(pl_kz_res_kind(x), pl_kz_res_kind(y)) || strcmp(pl_kz_res_name(x), pl_kz_res_name(y)))
        return 0;
    pl_kz_res_group(x, gx, sizeof(gx));
    pl_kz_res_group(y, gy, sizeof(gy));
    if (strcmp(gx, gy))
        return 0;
    {
        const char *vx = strchr(pl_kz_res_api_version(x), '/');
        const char *vy = strchr(pl_kz_res_api_version(y), '/');
        vx = vx ? vx + 1 : pl_kz_res_api_version(x);
        vy = vy ? vy + 1 : pl_kz_res_api_version(y);
        if (strcmp(vx, vy))
            return 0;
    }
    return ns_equal(pl_kz_res_namespace(x), pl_kz_res_namespace(y));
}

static void format_id(pl_buf *out, const pl_kz_res *r)
{
    char g[256];
    const char *av = pl_kz_res_api_version(r);
    const char *slash = strchr(av, '/');
    pl_kz_res_group(r, g, sizeof(g));
    pl_buf_printf(out, "%s%s%s.%s/%s.%s", g, *g ? "_" : "", slash ? slash + 1 : av,
                  pl_kz_res_kind(r), pl_kz_res_name(r),
                  *pl_kz_res_namespace(r) ? pl_kz_res_namespace(r) : "[noNs]");
}

/* Append with kustomize's id-conflict check (resWrangler.Append). */
static int append_checked(pl_kz_resmap *m, pl_kz_res *r)
{
    for (size_t i = 0; i < m->n; i++) {
        if (same_id(m->v[i], r)) {
            pl_buf b = PL_BUF_INIT;
            format_id(&b, r);
            pl_error_set(PL_EINVALID, "may not add resource with an already registered id: %s",
                         b.ptr ? b.ptr : "?");
            pl_buf_dispose(&b);
            pl_kz_res_free(r);
            return PL_EINVALID;
        }
    }
    return pl_kz_resmap_append(m, r);
}

/* FNV-1a over the parts of a resource id; "" and "default" namespaces hash alike. */
static uint64_t id_hash(const pl_kz_res *r)
{
    const char *parts[4];
    uint64_t h = 1469598103934665603ULL;
    /* the same strings as pl_kz_res_namespace/name, with one metadata lookup for both */
    const json_t *md = pl_kz_obj_getn(r->obj, "metadata", 8);
    const json_t *nsv = pl_kz_obj_getn(md, "namespace", 9), *namev = pl_kz_obj_getn(md, "name", 4);
    const char *ns = json_is_string(nsv) ? json_string_value(nsv) : "";
    const char *name = json_is_string(namev) ? json_string_value(namev) : "";

    parts[0] = pl_kz_res_api_version(r);
    parts[1] = pl_kz_res_kind(r);
    parts[2] = *ns ? ns : "default";
    parts[3] = name;
    for (int i = 0; i < 4; i++) {
        for (const unsigned char *p = (const unsigned char *)parts[i]; *p; p++) {
            h ^= *p;
            h *= 1099511628211ULL;
        }
        h ^= 0xff; /* part separator */
        h *= 1099511628211ULL;
    }
    return h;
}

/* Insert into an open-addressing set of resources; 1 if an equal id is already there. */
static int idset_insert(pl_kz_res **slots, size_t mask, pl_kz_res *r)
{
    size_t i = (size_t)id_hash(r) & mask;
    while (slots[i]) {
        if (same_id(slots[i], r))
            return 1;
        i = (i + 1) & mask;
    }
    slots[i] = r;
    return 0;
}

/*
 * Append every resource of src to dst with the id-conflict check (resWrangler.Append),
 * using a hash set of ids so that accumulating many bases stays linear. src is left empty.
 */
static int append_all(pl_kz_resmap *dst, pl_kz_resmap *src)
{
    int error = 0;
    size_t i, size = 16, mask;
    pl_kz_res **slots;

    while (size < 2 * (dst->n + src->n))
        size *= 2;
    mask = size - 1;
    if (!(slots = pl_calloc(size, sizeof(*slots))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    for (i = 0; i < dst->n; i++)
        idset_insert(slots, mask, dst->v[i]);
    for (i = 0; i < src->n; i++) {
        pl_kz_res *r = src->v[i];
        src->v[i] = NULL;
        if (idset_insert(slots, mask, r)) {
            pl_buf b = PL_BUF_INIT;
            format_id(&b, r);
            error = pl_error_set(PL_EINVALID,
                                 "may not add resource with an already registered id: %s",
                                 b.ptr ? b.ptr : "?");
            pl_buf_dispose(&b);
            pl_kz_res_free(r);
            i++;
            break;
        }
        if ((error = pl_kz_resmap_append(dst, r)) < 0) {
            i++;
            break;
        }
    }
    pl_free(slots);
    for (; i < src->n; i++)
        pl_kz_res_free(src->v[i]);
    src->n = 0;
    return error;
}

/* Probe for r (hash h) in a's id set; 1 if an equal id is there, else insert it. */
static int ids_insert(accum *a, pl_kz_res *r, uint64_t h)
{
    size_t mask = a->ids_size - 1, i = (size_t)h & mask;
    while (a->ids[i]) {
        if (a->id_hashes[i] == h && same_id(a->ids[i], r))
            return 1;
        i = (i + 1) & mask;
    }
    a->ids[i] = r;
    a->id_hashes[i] = h;
    a->ids_count++;
    return 0;
}

/* Make a's id set cover exactly a->rm with room for `extra` more entries. */
static int ids_sync(accum *a, size_t extra)
{
    size_t size = 64;
    if (a->ids_valid && a->ids_count == a->rm.n && 2 * (a->rm.n + extra) <= a->ids_size)
        return 0;
    ids_drop(a);
    while (size < 2 * (a->rm.n + extra))
        size *= 2;
    a->ids = pl_calloc(size, sizeof(*a->ids));
    a->id_hashes = pl_calloc(size, sizeof(*a->id_hashes));
    if (!a->ids || !a->id_hashes) {
        ids_drop(a);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    a->ids_size = size;
    for (size_t i = 0; i < a->rm.n; i++)
        ids_insert(a, a->rm.v[i], id_hash(a->rm.v[i]));
    a->ids_count = a->rm.n; /* duplicates already in rm (after transformations) count once each */
    a->ids_valid = 1;
    return 0;
}

/*
 * Append every resource of src to the accumulator with the id-conflict check
 * (resWrangler.Append). The id set persists across the appends of one resources phase, so
 * accumulating many files and bases stays linear. src is left empty.
 */
static int append_into(accum *dst, pl_kz_resmap *src)
{
    int error;
    size_t i;

    if ((error = ids_sync(dst, src->n)) < 0)
        return error;
    for (i = 0; i < src->n; i++) {
        pl_kz_res *r = src->v[i];
        src->v[i] = NULL;
        if (ids_insert(dst, r, id_hash(r))) {
            pl_buf b = PL_BUF_INIT;
            format_id(&b, r);
            error = pl_error_set(PL_EINVALID,
                                 "may not add resource with an already registered id: %s",
                                 b.ptr ? b.ptr : "?");
            pl_buf_dispose(&b);
            pl_kz_res_free(r);
            dst->ids_valid = 0;
            i++;
            break;
        }
        if ((error = pl_kz_resmap_append(&dst->rm, r)) < 0) {
            dst->ids_valid = 0; /* r is freed but was inserted */
            i++;
            break;
        }
    }
    for (; i < src->n; i++)
        pl_kz_res_free(src->v[i]);
    src->n = 0;
    return error;
}

/* ---- file loading with the load restrictor ------------------------------------------------- */

int pl_kz_load_file(const pl_kz_ctx *ctx, const char *rel, pl_buf *out, char **out_path)
{
    char *path = NULL, *real = NULL;
    int error;

    if (out_path)
        *out_path = NULL;
    if (!rel || !*rel)
        return pl_error_set(PL_EINVALID, "%s: empty file path", ctx->dir);
    if (!(path = pl_path_join(ctx->dir, rel)))
        return pl_error_set(PL_ENOMEM, "out of memory");
    /* no stat up front: the realpath and read calls fail on a missing file anyway, and the
     * message is decided on that (rare) path */
    if (ctx->opts->restrictor == PL_LOAD_ROOT_ONLY) {
        if ((error = pl_fs_realpath(ctx->fs, path, &real)) < 0)
            goto not_file;
        if (!pl_path_within(real, ctx->root)) {
            error = pl_error_set(PL_EINVALID,
                                 "security; file '%s' is not in or below '%s' (load restrictor "
                                 "LoadRestrictionsRootOnly)",
                                 real, ctx->root);
            goto done;
        }
    }
    if ((error = pl_fs_read(ctx->fs, path, out)) < 0)
        goto not_file;
    if (out_path) {
        *out_path = path;
        path = NULL;
    }
    goto done;
not_file:
    if (pl_fs_kind_of(ctx->fs, path) != PL_FS_FILE)
        error = pl_error_set(PL_ENOTFOUND, "%s: no such file (named in %s)", path,
                             ctx->origin_path ? ctx->origin_path : ctx->dir);
done:
    pl_free(path);
    pl_free(real);
    return error;
}

int pl_kz_load_yaml(const pl_kz_ctx *ctx, const char *rel, json_t **out)
{
    pl_buf buf = PL_BUF_INIT;
    char *path = NULL;
    int error;

    *out = NULL;
    if ((error = pl_kz_load_file(ctx, rel, &buf, &path)) < 0)
        goto done;
    error = pl_yaml_parse(out, buf.ptr, buf.len, path, NULL);
done:
    pl_buf_dispose(&buf);
    pl_free(path);
    return error;
}

/* ---- kustomization file ------------------------------------------------------------------- */

int pl_kustomize_detect(pl_fs *fs, const char *dir)
{
    for (size_t i = 0; i < sizeof(kust_file_names) / sizeof(*kust_file_names); i++) {
        char *p = pl_path_join(dir, kust_file_names[i]);
        int found = p && pl_fs_kind_of(fs, p) == PL_FS_FILE;
        pl_free(p);
        if (found)
            return 1;
    }
    return 0;
}

static int check_string_list(const json_t *k, const char *field, const char *file)
{
    json_t *v = json_object_get(k, field), *e;
    size_t i;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return pl_error_set(PL_EINVALID, "%s: field %s must be a list of strings", file, field);
    json_array_foreach(v, i, e) {
        if (!json_is_string(e))
            return pl_error_set(PL_EINVALID, "%s: %s[%zu] must be a string", file, field, i);
    }
    return 0;
}

static int check_string_map(json_t *k, const char *field, const char *file)
{
    json_t *v = json_object_get(k, field), *e;
    const char *key;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return pl_error_set(PL_EINVALID, "%s: field %s must be a map of strings", file, field);
    json_object_foreach(v, key, e) {
        /* sigs.k8s.io/yaml converts scalars to the string a map[string]string wants */
        if (json_is_integer(e)) {
            char tmp[32];
            snprintf(tmp, sizeof(tmp), "%lld", json_integer_value(e));
            json_object_set_new(v, key, json_string(tmp));
        } else if (json_is_boolean(e)) {
            json_object_set_new(v, key, json_string(json_is_true(e) ? "true" : "false"));
        } else if (json_is_null(e)) {
            json_object_set_new(v, key, json_string(""));
        } else if (!json_is_string(e)) {
            return pl_error_set(PL_EINVALID, "%s: %s.%s must be a string", file, field, key);
        }
    }
    return 0;
}

/* Load and validate the kustomization in dir. *out owned; *out_file owned path. */
static int load_kustomization(build *b, const char *dir, json_t **out, char **out_file)
{
    char *found = NULL;
    int matches = 0, error = 0;
    pl_buf buf = PL_BUF_INIT;
    json_t *docs = NULL, *k = NULL;
    const char *key;
    json_t *v;

    *out = NULL;
    *out_file = NULL;
    for (size_t i = 0; i < sizeof(kust_file_names) / sizeof(*kust_file_names); i++) {
        char *p = pl_path_join(dir, kust_file_names[i]);
        if (p && pl_fs_kind_of(b->fs, p) == PL_FS_FILE) {
            matches++;
            pl_free(found);
            found = p;
        } else {
            pl_free(p);
        }
    }
    if (matches == 0) {
        error = pl_error_set(PL_ENOTFOUND,
                             "unable to find one of 'kustomization.yaml', 'kustomization.yml' or "
                             "'Kustomization' in directory '%s'",
                             dir);
        goto done;
    }
    if (matches > 1) {
        error = pl_error_set(PL_EINVALID, "found multiple kustomization files under: %s", dir);
        goto done;
    }
    if ((error = pl_fs_read(b->fs, found, &buf)) < 0)
        goto done;
    {
        /* kustomize reads its own file with sigs.k8s.io/yaml (go-yaml v2): repeated keys allowed */
        pl_yaml_opts yo = PL_YAML_OPTS_INIT;
        yo.duplicate_keys_last_wins = 1;
        if ((error = pl_yaml_parse(&docs, buf.ptr, buf.len, found, &yo)) < 0)
            goto done;
    }
    k = json_array_get(docs, 0);
    if (!k) {
        error = pl_error_set(PL_EINVALID, "%s: kustomization.yaml is empty", found);
        goto done;
    }
    if (!json_is_object(k)) {
        error = pl_error_set(PL_EINVALID, "%s: kustomization must be a map", found);
        goto done;
    }
    json_incref(k); /* held by *out */
    {
        /* kustomize decodes its file with encoding/json, which matches field names without
         * regard to case: `nameprefix:` is namePrefix */
        void *tmp;
        json_object_foreach_safe(k, tmp, key, v) {
            for (int i = 0; known_fields[i]; i++) {
                if (strcmp(known_fields[i], key) && !strcasecmp(known_fields[i], key) &&
                    !json_object_get(k, known_fields[i])) {
                    json_object_set(k, known_fields[i], v);
                    json_object_del(k, key);
                    break;
                }
            }
        }
    }
    json_object_foreach(k, key, v) {
        int ok = 0;
        for (int i = 0; known_fields[i]; i++)
            if (!strcmp(known_fields[i], key))
                ok = 1;
        if (!ok) {
            error = pl_error_set(PL_EINVALID, "%s: invalid kustomization: json: unknown field \"%s\"",
                                 found, key);
            goto fail;
        }
    }
    {
        const char *kind = pl_json_str(k, "kind", NULL);
        const char *av = pl_json_str(k, "apiVersion", NULL);
        int is_comp = kind && !strcmp(kind, "Component");
        if (kind && *kind && strcmp(kind, "Kustomization") && !is_comp) {
            error = pl_error_set(PL_EINVALID, "%s: kind should be Kustomization or Component", found);
            goto fail;
        }
        if (av && *av &&
            strcmp(av, is_comp ? "kustomize.config.k8s.io/v1alpha1" : "kustomize.config.k8s.io/v1beta1")) {
            error = pl_error_set(PL_EINVALID, "%s: apiVersion for %s should be %s", found,
                                 is_comp ? "Component" : "Kustomization",
                                 is_comp ? "kustomize.config.k8s.io/v1alpha1"
                                         : "kustomize.config.k8s.io/v1beta1");
            goto fail;
        }
    }
    {
        size_t n = 0;
        json_object_foreach(k, key, v) {
            if (strcmp(key, "apiVersion") && strcmp(key, "kind") && strcmp(key, "metadata"))
                n++;
        }
        if (n == 0) {
            error = pl_error_set(PL_EINVALID, "%s: kustomization.yaml is empty", found);
            goto fail;
        }
    }
    if ((error = check_string_list(k, "resources", found)) < 0 ||
        (error = check_string_list(k, "bases", found)) < 0 ||
        (error = check_string_list(k, "components", found)) < 0 ||
        (error = check_string_list(k, "crds", found)) < 0 ||
        (error = check_string_list(k, "configurations", found)) < 0 ||
        (error = check_string_list(k, "generators", found)) < 0 ||
        (error = check_string_list(k, "transformers", found)) < 0 ||
        (error = check_string_list(k, "validators", found)) < 0 ||
        (error = check_string_list(k, "patchesStrategicMerge", found)) < 0 ||
        (error = check_string_map(k, "commonLabels", found)) < 0 ||
        (error = check_string_map(k, "commonAnnotations", found)) < 0)
        goto fail;
    {
        json_t *ns = json_object_get(k, "namespace");
        if (ns && !json_is_string(ns) && !json_is_null(ns)) {
            error = pl_error_set(PL_EINVALID, "%s: namespace must be a string", found);
            goto fail;
        }
    }
    if (json_object_get(k, "helmCharts") || json_object_get(k, "helmChartInflationGenerator") ||
        json_object_get(k, "helmGlobals")) {
        error = pl_error_set(PL_EINVALID,
                             "%s: helm charts (helmCharts/helmChartInflationGenerator) are not "
                             "supported by plumb render",
                             found);
        goto fail;
    }
    *out = k;
    *out_file = found;
    found = NULL;
    goto done;
fail:
    json_decref(k);
done:
    json_decref(docs);
    pl_buf_dispose(&buf);
    pl_free(found);
    return error;
}

/* ---- resources ------------------------------------------------------------------------------ */

static int looks_remote(const char *p)
{
    return strstr(p, "://") != NULL || !strncmp(p, "git@", 4) || !strncmp(p, "github.com/", 11) ||
           !strncmp(p, "gitlab.com/", 11) || !strncmp(p, "bitbucket.org/", 14);
}

/*
 * kustomize reads metadata.annotations as strings: a scalar like `port: 8080` comes out as
 * "8080" (labels keep their type). The parser has already resolved the scalar, so the text is
 * rebuilt from the value; forms like 0x10 or 1e3 are the known approximation.
 */
static void stringify_annotations(json_t *obj)
{
    json_t *ann = pl_json_path(obj, "metadata", "annotations", NULL);
    const char *k;
    json_t *v;
    char tmp[64];

    if (!json_is_object(ann))
        return;
    json_object_foreach(ann, k, v) {
        if (json_is_integer(v)) {
            snprintf(tmp, sizeof(tmp), "%lld", json_integer_value(v));
            json_object_set_new(ann, k, json_string(tmp));
        } else if (json_is_real(v)) {
            snprintf(tmp, sizeof(tmp), "%.17g", json_real_value(v));
            for (int p = 1; p <= 17; p++) {
                snprintf(tmp, sizeof(tmp), "%.*g", p, json_real_value(v));
                if (strtod(tmp, NULL) == json_real_value(v))
                    break;
            }
            json_object_set_new(ann, k, json_string(tmp));
        } else if (json_is_boolean(v)) {
            json_object_set_new(ann, k, json_string(json_is_true(v) ? "true" : "false"));
        }
    }
}

/* Flatten `kind: *List` documents into their items (kustomize's resource factory). */
static int add_docs(pl_kz_resmap *out, json_t *docs, const char *file)
{
    size_t i;
    json_t *d;
    int error;

    json_array_foreach(docs, i, d) {
        const char *kind;
        json_t *items;
        if (!json_is_object(d))
            return pl_error_set(PL_EINVALID, "%s: document %zu is not a map", file, i + 1);
        kind = pl_json_str(d, "kind", NULL);
        items = json_object_get(d, "items");
        /* kind List, or any *List kind that really has items (kind MyResourceList without
         * items is an ordinary resource) */
        if (kind && ((!strcmp(kind, "List") && (!items || json_is_array(items) || json_is_null(items))) ||
                     (strlen(kind) > 4 && !strcmp(kind + strlen(kind) - 4, "List") &&
                      json_is_array(items)))) {
            if (json_is_array(items) && (error = add_docs(out, items, file)) < 0)
                return error;
            continue;
        }
        if (!kind || !*kind)
            return pl_error_set(PL_EINVALID, "%s: missing kind in object %zu", file, i + 1);
        if (!pl_json_str(d, "metadata", "name", NULL) &&
            !pl_json_str(d, "metadata", "generateName", NULL))
            return pl_error_set(PL_EINVALID, "%s: missing metadata.name in object %s", file, kind);
        stringify_annotations(d);
        if ((error = append_checked(out, pl_kz_res_new_take(json_incref(d)))) < 0)
            return pl_error_prefix("%s", file);
    }
    return 0;
}

/* Join origin paths, which are relative to the top kustomization ("" at the top). Owned. */
static char *origin_join(json_t *origin_path, const char *rel)
{
    const char *base = json_string_value(origin_path);
    pl_buf b = PL_BUF_INIT;
    char *r;
    if (!base || !*base)
        return pl_path_clean(rel);
    pl_buf_printf(&b, "%s/%s", base, rel);
    r = pl_path_clean(b.ptr ? b.ptr : rel);
    pl_buf_dispose(&b);
    return r;
}

/* Origin of objects read from a file: kustomize's Origin.String() for {path}. */
static int set_origin_path(pl_kz_resmap *m, const char *path)
{
    pl_buf b = PL_BUF_INIT;
    int error = pl_buf_printf(&b, "path: %s\n", path);

    for (size_t i = 0; error == 0 && i < m->n; i++)
        error = pl_kz_res_set_annotation(m->v[i], "config.kubernetes.io/origin", b.ptr);
    pl_buf_dispose(&b);
    return error;
}

static int accumulate_file(const pl_kz_ctx *ctx, accum *into, const char *rel,
                           json_t *origin_path)
{
    json_t *docs = NULL;
    pl_kz_resmap tmp;
    int error;

    pl_kz_resmap_init(&tmp);
    if ((error = pl_kz_load_yaml(ctx, rel, &docs)) < 0)
        goto done;
    if ((error = add_docs(&tmp, docs, rel)) < 0)
        goto done;
    if (ctx->track_origin) {
        char *p = origin_join(origin_path, rel);
        error = set_origin_path(&tmp, p ? p : rel);
        pl_free(p);
        if (error < 0)
            goto done;
    }
    error = append_into(into, &tmp);
done:
    pl_kz_resmap_dispose(&tmp);
    json_decref(docs);
    return error;
}

/* kustomize's loader cycle check: a new root may not contain a root being built. */
static int check_cycle(build *b, const char *real)
{
    for (size_t i = 0; i < b->depth; i++) {
        if (pl_path_within(b->visited[i], real))
            return pl_error_set(PL_EINVALID, "cycle detected: candidate root '%s' contains visited root '%s'",
                                real, b->visited[i]);
    }
    if (b->depth >= MAX_DEPTH)
        return pl_error_set(PL_ETOOBIG, "%s: kustomizations nested deeper than %d", real, MAX_DEPTH);
    return 0;
}

static int merge_accum(accum *dst, accum *src)
{
    int error;
    size_t i;
    json_t *v;

    if ((error = append_into(dst, &src->rm)) < 0)
        return error;
    /* a sub-target that only has the defaults adds nothing to merge */
    if (src->tc_custom) {
        if ((error = accum_own_tc(dst)) < 0 || (error = pl_kz_tconfig_merge(dst->tc, src->tc)) < 0)
            return error;
        dst->tc_custom = 1;
    }
    json_array_foreach(src->vars, i, v) {
        const char *name = pl_json_str(v, "name", NULL);
        size_t j;
        json_t *w;
        json_array_foreach(dst->vars, j, w) {
            const char *wn = pl_json_str(w, "name", NULL);
            if (name && wn && !strcmp(name, wn))
                return pl_error_set(PL_EINVALID, "var '%s' already encountered", name);
        }
        json_array_append(dst->vars, v);
    }
    return 0;
}

/*
 * Resolve a resources/components entry naming a directory (or a remote base) to its real
 * path (owned) and check it does not close a cycle.
 */
static int resolve_dir(build *b, const pl_kz_ctx *ctx, const char *rel, int is_component,
                       const char *file_error, char **out_real)
{
    char *path = NULL, *remote = NULL;
    int error = 0;

    *out_real = NULL;
    if (!(path = pl_path_join(ctx->dir, rel)))
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (pl_fs_kind_of(b->fs, path) != PL_FS_DIR) {
        if (looks_remote(rel)) {
            if (!b->opts->fetch_remote) {
                error = pl_error_set(PL_EUNAVAIL, "%s: remote resources are disabled", rel);
                goto done;
            }
            /* the fetcher keeps process-wide state: one fetch at a time */
            pthread_mutex_lock(&b->sh->lock);
            error = b->opts->fetch_remote(&remote, rel, b->opts->fetch_payload);
            pthread_mutex_unlock(&b->sh->lock);
            if (error < 0)
                goto done;
            pl_free(path);
            path = pl_strdup(remote);
        } else if (file_error) {
            error = pl_error_set(PL_ENOTFOUND, "%s: %s", ctx->origin_path, file_error);
            goto done;
        } else {
            error = pl_error_set(PL_ENOTFOUND, "%s: %s '%s' is not a directory (resolved: %s)",
                                 ctx->origin_path, is_component ? "component" : "resource", rel, path);
            goto done;
        }
    }
    if ((error = pl_fs_realpath(b->fs, path, out_real)) < 0)
        goto done;
    if ((error = check_cycle(b, *out_real)) < 0) {
        pl_free(*out_real);
        *out_real = NULL;
    }
done:
    pl_free(path);
    pl_free(remote);
    return error;
}

/*
 * The accumulated result of the kustomization at `real` (a resources entry `rel`), from the
 * cache or built now, into *sub (initialised here; the caller disposes it).
 */
static int produce_sub(build *b, const pl_kz_ctx *ctx, const char *rel, const char *real,
                       json_t *origin_path, accum *sub)
{
    int cacheable = !ctx->track_origin && !b->openapi_changes;
    long left = use_once(b, real);
    unsigned oa = b->openapi_changes;
    json_t *sub_origin;
    char *op;
    int error, hit;

    memset(sub, 0, sizeof(*sub));
    if (cacheable && (hit = cache_fetch(b, real, left, sub)) != 0)
        return hit < 0 ? pl_error_set(PL_ENOMEM, "out of memory") : 0;
    if ((error = accum_init(sub, b->tc_default)) < 0)
        return error;
    op = origin_join(origin_path, rel);
    sub_origin = json_string(op ? op : rel);
    pl_free(op);
    error = build_dir(b, sub, real, 0, sub_origin, NULL);
    json_decref(sub_origin);
    /* keep a copy only for directories the build will pull in again */
    if (error == 0 && left > 0 && oa == b->openapi_changes && !ctx->track_origin)
        cache_put(b, real, sub);
    return error;
}

/* A resources/components entry that is a directory (or remote base). */
static int accumulate_dir(build *b, const pl_kz_ctx *ctx, accum *ra, const char *rel, int is_component,
                          json_t *origin_path, const char *file_error)
{
    char *real = NULL;
    accum sub;
    int error;

    if ((error = resolve_dir(b, ctx, rel, is_component, file_error, &real)) < 0)
        return error;
    if (is_component) {
        /* components run directly on the parent's accumulator */
        char *op = origin_join(origin_path, rel);
        json_t *sub_origin = json_string(op ? op : rel);
        pl_free(op);
        error = build_dir(b, ra, real, 1, sub_origin, NULL);
        json_decref(sub_origin);
    } else {
        if ((error = produce_sub(b, ctx, rel, real, origin_path, &sub)) == 0)
            error = merge_accum(ra, &sub);
        accum_dispose(&sub);
    }
    pl_free(real);
    return error;
}

/* ---- concurrent sub-builds ------------------------------------------------------------------ */

typedef struct subtask {
    const char *rel;
    char *real;       /* owned; NULL for entries that are files */
    accum result;
    int error;        /* the sub-build's code; its message is kept in msg */
    char msg[sizeof(((pl_error *)0)->message)];
} subtask;

typedef struct taskset {
    build proto;      /* snapshot of the spawning thread's build, taken before any task runs */
    const pl_kz_ctx *ctx;
    json_t *origin_path;
    subtask *tasks;
    size_t ntasks;
    size_t next;      /* next task to take, under proto->sh->lock */
} taskset;

static void run_tasks(taskset *ts, build *b)
{
    for (;;) {
        subtask *t;
        pthread_mutex_lock(&b->sh->lock);
        t = ts->next < ts->ntasks ? &ts->tasks[ts->next++] : NULL;
        pthread_mutex_unlock(&b->sh->lock);
        if (!t)
            return;
        if (!t->real)
            continue;
        pl_error_clear();
        t->error = produce_sub(b, ts->ctx, t->rel, t->real, ts->origin_path, &t->result);
        if (t->error < 0)
            snprintf(t->msg, sizeof(t->msg), "%s", pl_error_last()->message);
    }
}

static void *worker_main(void *arg)
{
    taskset *ts = arg;
    build mine = ts->proto; /* own cycle-check chain; shared state through mine.sh */
    pl_alloc_pool_enter();
    run_tasks(ts, &mine);
    pl_alloc_pool_leave();
    pthread_mutex_lock(&mine.sh->lock);
    mine.sh->threads_free++;
    pthread_mutex_unlock(&mine.sh->lock);
    return NULL;
}

/*
 * Build the directory entries of one resources list concurrently, then merge everything in
 * list order exactly as the sequential loop would (files appended, bases merged). The first
 * failing entry in list order decides the error, as it would sequentially.
 */
static int accumulate_parallel(build *b, const pl_kz_ctx *ctx, accum *ra, json_t *list,
                               json_t *origin_path, const unsigned char *kinds)
{
    taskset ts;
    size_t i, n = json_array_size(list);
    json_t *e;
    pthread_t th;
    int started = 0, error = 0;

    memset(&ts, 0, sizeof(ts));
    ts.proto = *b; /* the main thread's chain changes while it runs tasks */
    ts.ctx = ctx;
    ts.origin_path = origin_path;
    if (!(ts.tasks = pl_calloc(n, sizeof(*ts.tasks))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    ts.ntasks = n;
    /* resolve directories up front, in order: resolution errors stay sequential */
    json_array_foreach(list, i, e) {
        const char *rel = json_string_value(e);
        int is_dir = kinds[i] == PL_FS_DIR;
        ts.tasks[i].rel = rel;
        if (is_dir && (error = resolve_dir(b, ctx, rel, 0, NULL, &ts.tasks[i].real)) < 0) {
            n = i; /* entries after a failing one are never looked at */
            break;
        }
    }
    ts.ntasks = n;
    pthread_mutex_lock(&b->sh->lock);
    if (b->sh->threads_free > 0) {
        b->sh->threads_free--;
        started = 1;
    }
    pthread_mutex_unlock(&b->sh->lock);
    if (started && pthread_create(&th, NULL, worker_main, &ts) != 0) {
        started = 0;
        pthread_mutex_lock(&b->sh->lock);
        b->sh->threads_free++;
        pthread_mutex_unlock(&b->sh->lock);
    }
    run_tasks(&ts, b);
    if (started)
        pthread_join(th, NULL);

    /* merge in list order */
    for (i = 0; i < ts.ntasks && error == 0; i++) {
        subtask *t = &ts.tasks[i];
        if (!t->real) {
            size_t n0 = ra->rm.n;
            if ((error = accumulate_file(ctx, ra, t->rel, origin_path)) < 0)
                break;
            for (size_t j = n0; j < ra->rm.n && !b->builtin_schema_used; j++)
                if (!pl_kz_smp_builtin_kind(pl_kz_res_api_version(ra->rm.v[j]),
                                            pl_kz_res_kind(ra->rm.v[j])))
                    b->builtin_schema_used = 1;
        } else if (t->error < 0) {
            error = pl_error_set(t->error, "%s", t->msg);
        } else {
            error = merge_accum(ra, &t->result);
        }
    }
    for (i = 0; i < json_array_size(list); i++) {
        if (ts.tasks[i].real) {
            accum_dispose(&ts.tasks[i].result); /* untouched results are all zero: safe */
            pl_free(ts.tasks[i].real);
        }
    }
    pl_free(ts.tasks);
    return error;
}

static int accumulate_resources(build *b, const pl_kz_ctx *ctx, accum *ra, json_t *list,
                                json_t *origin_path)
{
    size_t i, ndirs = 0, n = json_array_size(list);
    json_t *e;
    int error;
    unsigned char stack_kinds[64], *kinds = n <= 64 ? stack_kinds : pl_malloc(n);

    if (!kinds)
        return pl_error_set(PL_ENOMEM, "out of memory");
    /* one stat per entry: file, directory or neither */
    json_array_foreach(list, i, e) {
        char *path = pl_path_join(ctx->dir, json_string_value(e));
        kinds[i] = (unsigned char)(path ? pl_fs_kind_of(b->fs, path) : PL_FS_NONE);
        ndirs += kinds[i] == PL_FS_DIR;
        pl_free(path);
    }
    if (b->sh->parallel && !ctx->track_origin && ndirs >= 2 && b->sh->threads_free > 0) {
        error = accumulate_parallel(b, ctx, ra, list, origin_path, kinds);
        if (kinds != stack_kinds)
            pl_free(kinds);
        return error;
    }
    error = accumulate_serial(b, ctx, ra, list, origin_path, kinds);
    if (kinds != stack_kinds)
        pl_free(kinds);
    return error;
}

static int accumulate_serial(build *b, const pl_kz_ctx *ctx, accum *ra, json_t *list,
                             json_t *origin_path, const unsigned char *kinds)
{
    size_t i;
    json_t *e;
    int error;

    json_array_foreach(list, i, e) {
        const char *rel = json_string_value(e);
        pl_fs_kind kind = (pl_fs_kind)kinds[i];
        if (kind == PL_FS_FILE) {
            size_t n0 = ra->rm.n;
            if ((error = accumulate_file(ctx, ra, rel, origin_path)) < 0)
                return error;
            /* a kind outside the builtin schema makes kustomize load that schema */
            for (size_t j = n0; j < ra->rm.n && !b->builtin_schema_used; j++)
                if (!pl_kz_smp_builtin_kind(pl_kz_res_api_version(ra->rm.v[j]),
                                            pl_kz_res_kind(ra->rm.v[j])))
                    b->builtin_schema_used = 1;
        } else {
            char msg[1024];
            char *abs = pl_path_join(ctx->dir, rel);
            snprintf(msg, sizeof(msg), "resource '%s': no such file or directory (%s)", rel,
                     abs ? abs : rel);
            pl_free(abs);
            if ((error = accumulate_dir(b, ctx, ra, rel, 0, origin_path, kind == PL_FS_NONE && !looks_remote(rel) ? msg : NULL)) < 0)
                return error;
        }
    }
    return 0;
}

/* ---- builtin configs from kustomization fields ---------------------------------------------- */

static json_t *builtin_cfg(const char *kind)
{
    json_t *c = json_object();
    json_object_set_new(c, "apiVersion", json_string("builtin"));
    json_object_set_new(c, "kind", json_string(kind));
    return c;
}

/*
 * buildMetadata: transformerAnnotations. After a transformer ran, every resource records it
 * (kustomize resWrangler.AddTransformerAnnotation): a resource without an origin gets the
 * transformer as its origin, the others get an entry appended to the transformations list.
 */
static void note_transformer(const pl_kz_ctx *ctx, accum *ra, const json_t *cfg)
{
    pl_buf entry = PL_BUF_INIT;
    const char *name = pl_json_str(cfg, "metadata", "name", NULL);
    const char *ns = pl_json_str(cfg, "metadata", "namespace", NULL);
    const char *configured_in = ctx->origin_rel ? ctx->origin_rel : "kustomization.yaml";

    if (!ctx->track_origin)
        return;
    pl_buf_printf(&entry, "configuredIn: %s\nconfiguredBy:\n  apiVersion: %s\n  kind: %s\n",
                  configured_in, pl_json_str(cfg, "apiVersion", NULL),
                  pl_json_str(cfg, "kind", NULL));
    if (name && ctx->origin_named)
        pl_buf_printf(&entry, "  name: %s\n", name);
    if (ns && ctx->origin_named)
        pl_buf_printf(&entry, "  namespace: %s\n", ns);
    for (size_t i = 0; i < ra->rm.n; i++) {
        pl_kz_res *r = ra->rm.v[i];
        const char *cur = pl_kz_res_annotation(r, "config.kubernetes.io/origin");
        if (!cur) {
            pl_kz_res_set_annotation(r, "config.kubernetes.io/origin", entry.ptr);
        } else {
            const char *t = pl_kz_res_annotation(r, "alpha.config.kubernetes.io/transformations");
            pl_buf nb = PL_BUF_INIT;
            if (t)
                pl_buf_puts(&nb, t);
            /* one list item: "- " then the entry indented by two */
            for (const char *p = entry.ptr; *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                pl_buf_puts(&nb, p == entry.ptr ? "- " : "  ");
                pl_buf_put(&nb, p, len);
                pl_buf_putc(&nb, '\n');
                p += len + (nl ? 1 : 0);
            }
            pl_kz_res_set_annotation(r, "alpha.config.kubernetes.io/transformations", nb.ptr);
            pl_buf_dispose(&nb);
        }
    }
    pl_buf_dispose(&entry);
}

static int run_cfg_take(const pl_kz_ctx *ctx, accum *ra, json_t *cfg)
{
    int error = pl_kz_builtin_run(ctx, &ra->rm, cfg);
    if (error == 0)
        note_transformer(ctx, ra, cfg);
    json_decref(cfg);
    return error;
}

static int run_generators(const pl_kz_ctx *ctx, accum *ra, json_t *k, json_t *origin_path)
{
    static const char *const fields[] = {"configMapGenerator", "secretGenerator"};
    static const char *const kinds[] = {"ConfigMapGenerator", "SecretGenerator"};
    json_t *gopts = json_object_get(k, "generatorOptions");
    int error;

    for (int f = 0; f < 2; f++) {
        json_t *list = json_object_get(k, fields[f]), *e;
        size_t i;
        if (list && !json_is_array(list))
            return pl_error_set(PL_EINVALID, "%s: %s must be a list", ctx->origin_path, fields[f]);
        json_array_foreach(list, i, e) {
            pl_kz_resmap gen;
            json_t *cfg;
            if (!json_is_object(e))
                return pl_error_set(PL_EINVALID, "%s: %s[%zu] must be a map", ctx->origin_path,
                                    fields[f], i);
            cfg = json_deep_copy(e);
            json_object_set_new(cfg, "apiVersion", json_string("builtin"));
            json_object_set_new(cfg, "kind", json_string(kinds[f]));
            if (gopts)
                json_object_set(cfg, "generatorOptions", gopts);
            pl_kz_resmap_init(&gen);
            error = pl_kz_builtin_run(ctx, &gen, cfg);
            json_decref(cfg);
            if (error == 0 && ctx->track_origin) {
                /* generated objects record the kustomization that configured them */
                pl_buf ob = PL_BUF_INIT;
                char *ci = origin_join(origin_path, pl_path_base(ctx->origin_path));
                pl_buf_printf(&ob, "configuredIn: %s\nconfiguredBy:\n  apiVersion: builtin\n  kind: %s\n",
                              ci, kinds[f]);
                for (size_t j = 0; j < gen.n; j++)
                    pl_kz_res_set_annotation(gen.v[j], "config.kubernetes.io/origin", ob.ptr);
                pl_buf_dispose(&ob);
                pl_free(ci);
            }
            if (error == 0)
                error = pl_kz_resmap_absorb(&ra->rm, &gen);
            pl_kz_resmap_dispose(&gen);
            if (error < 0)
                return error;
        }
    }
    return 0;
}

/*
 * Entries of `generators:`/`transformers:` are inline YAML configs or paths (files holding
 * configs, or kustomization directories whose output are configs).
 */
static int load_plugin_configs(build *b, const pl_kz_ctx *ctx, json_t *list, pl_kz_resmap *out,
                               json_t *origin_path)
{
    size_t i;
    json_t *e;
    int error;
    accum tmp;

    if ((error = accum_init(&tmp, b->tc_default)) < 0) {
        accum_dispose(&tmp);
        return error;
    }
    json_array_foreach(list, i, e) {
        const char *s = json_string_value(e);
        json_t *docs = NULL;
        /* inline: parses as YAML holding at least one map with a kind */
        if (strchr(s, '\n') || strchr(s, ':')) {
            if (pl_yaml_parse(&docs, s, strlen(s), ctx->origin_path, NULL) == 0 &&
                json_array_size(docs) && json_is_object(json_array_get(docs, 0))) {
                error = add_docs(&tmp.rm, docs, ctx->origin_path);
                json_decref(docs);
                if (error < 0)
                    goto done;
                continue;
            }
            json_decref(docs);
        }
        {
            json_t *one = json_array();
            json_array_append(one, e);
            error = accumulate_resources(b, ctx, &tmp, one, origin_path);
            json_decref(one);
            if (error < 0)
                goto done;
        }
    }
    error = append_all(out, &tmp.rm); /* plugin configs: a one-off set */
done:
    accum_dispose(&tmp);
    return error;
}

static int run_plugin_list(build *b, const pl_kz_ctx *ctx, accum *ra, json_t *list, int generators,
                           json_t *origin_path)
{
    pl_kz_resmap cfgs;
    int error = 0;

    if (!list || !json_array_size(list))
        return 0;
    pl_kz_resmap_init(&cfgs);
    if ((error = load_plugin_configs(b, ctx, list, &cfgs, origin_path)) < 0)
        goto done;
    for (size_t i = 0; i < cfgs.n; i++) {
        json_t *cfg = cfgs.v[i]->obj;
        const char *av = pl_json_str(cfg, "apiVersion", NULL);
        const char *kind = pl_json_str(cfg, "kind", NULL);
        json_t *ann = pl_json_path(cfg, "metadata", "annotations", NULL);
        if (json_object_get(ann, "config.kubernetes.io/function") ||
            json_object_get(ann, "config.k8s.io/function")) {
            error = pl_error_set(PL_EINVALID,
                                 "%s: %s/%s: KRM functions (exec/container/starlark) are not "
                                 "supported by plumb render",
                                 ctx->origin_path, kind ? kind : "?",
                                 pl_json_str(cfg, "metadata", "name", NULL) ? pl_json_str(cfg, "metadata", "name", NULL) : "?");
            goto done;
        }
        /*
         * plumb's own generators (apiVersion plumb.dev/v1alpha1, e.g. kind MaaSRender) are not
         * kustomize plugins: the host runs them through opts->generator, fed with the resources
         * accumulated so far, and their objects join the resmap with plain create behaviour.
         * kubectl kustomize cannot run them (renderers/maas/README.md).
         */
        if (generators && av && !strcmp(av, "plumb.dev/v1alpha1") && ctx->opts->generator) {
            json_t *acc = json_array(), *made = NULL, *o;
            pl_kz_resmap gen;
            size_t j;
            pl_kz_resmap_init(&gen);
            for (j = 0; acc && j < ra->rm.n; j++)
                json_array_append(acc, ra->rm.v[j]->obj);
            error = acc ? ctx->opts->generator(&made, cfg, acc, ctx->opts->generator_payload)
                        : pl_error_set(PL_ENOMEM, "out of memory");
            json_array_foreach(error == 0 ? made : NULL, j, o) {
                /* a copy: the generator's objects may share parts with its input */
                json_t *copy = pl_kz_json_copy(o);
                pl_kz_res *r = copy ? pl_kz_res_new_take(copy) : NULL;
                if (r)
                    r->behavior = PL_KZ_BEHAVIOR_CREATE;
                if ((error = pl_kz_resmap_append(&gen, r)) < 0)
                    break;
            }
            if (error == 0)
                error = pl_kz_resmap_absorb(&ra->rm, &gen);
            pl_kz_resmap_dispose(&gen);
            json_decref(made);
            json_decref(acc);
            if (error < 0) {
                pl_error_prefix("%s", ctx->origin_path);
                goto done;
            }
            continue;
        }
        if ((error = pl_kz_builtin_check_user(cfg)) < 0) {
            pl_error_prefix("%s", ctx->origin_path);
            goto done;
        }
        if (kind && !strcmp(kind, "SortOrderTransformer")) {
            /* kustomize only runs it from sortOptions, never as a plugin */
            error = pl_error_set(PL_EINVALID,
                                 "%s: unable to load builtin SortOrderTransformer.builtin.[noGrp]: "
                                 "use the sortOptions field instead",
                                 ctx->origin_path);
            goto done;
        }
        if (!av || (strcmp(av, "builtin") && strncmp(av, "builtin/", 8))) {
            error = pl_error_set(PL_EINVALID,
                                 "%s: plugin %s (apiVersion %s) is not a builtin; external "
                                 "plugins are not supported by plumb render",
                                 ctx->origin_path, kind ? kind : "?", av ? av : "");
            goto done;
        }
        if (generators) {
            pl_kz_resmap gen;
            pl_kz_resmap_init(&gen);
            error = pl_kz_builtin_run(ctx, &gen, cfg);
            if (error == 0 && ctx->track_origin) {
                /* generated objects name the config that made them (Origin.configuredBy) */
                const char *co = pl_kz_res_annotation(cfgs.v[i], "config.kubernetes.io/origin");
                const char *name = pl_json_str(cfg, "metadata", "name", NULL);
                pl_buf ob = PL_BUF_INIT;
                if (co && !strncmp(co, "path: ", 6))
                    pl_buf_printf(&ob, "configuredIn: %.*s\n", (int)strcspn(co + 6, "\n"), co + 6);
                else
                    pl_buf_printf(&ob, "configuredIn: %s\n", ctx->origin_rel ? ctx->origin_rel : "kustomization.yaml");
                pl_buf_printf(&ob, "configuredBy:\n  apiVersion: %s\n  kind: %s\n", av, kind);
                if (name)
                    pl_buf_printf(&ob, "  name: %s\n", name);
                for (size_t j = 0; j < gen.n; j++)
                    if (!pl_kz_res_annotation(gen.v[j], "config.kubernetes.io/origin"))
                        pl_kz_res_set_annotation(gen.v[j], "config.kubernetes.io/origin", ob.ptr);
                pl_buf_dispose(&ob);
            }
            if (error == 0)
                error = pl_kz_resmap_absorb(&ra->rm, &gen);
            pl_kz_resmap_dispose(&gen);
        } else {
            error = pl_kz_builtin_run(ctx, &ra->rm, cfg);
            if (error == 0) {
                pl_kz_ctx named = *ctx;
                named.origin_named = 1;
                note_transformer(&named, ra, cfg);
            }
        }
        if (error < 0)
            goto done;
    }
done:
    pl_kz_resmap_dispose(&cfgs);
    return error;
}

/* Run builtin `kind` configured with {key: value, fieldSpecs: specs} (value borrowed). */
static int run_with_specs(const pl_kz_ctx *ctx, accum *ra, const char *kind, const char *key,
                          json_t *value, const pl_kz_fslist *specs)
{
    json_t *cfg = builtin_cfg(kind);
    json_object_set(cfg, key, value);
    json_object_set_new(cfg, "fieldSpecs", pl_kz_fslist_to_json(specs));
    return run_cfg_take(ctx, ra, cfg);
}

static int run_builtin_transformers(const pl_kz_ctx *ctx, accum *ra, json_t *k)
{
    json_t *v, *e, *cfg;
    size_t i;
    int error;
    pl_kz_tconfig *tc = ra->tc;

    /* patchesStrategicMerge */
    if ((v = json_object_get(k, "patchesStrategicMerge")) && json_array_size(v)) {
        cfg = builtin_cfg("PatchStrategicMergeTransformer");
        json_object_set(cfg, "paths", v);
        if ((error = run_cfg_take(ctx, ra, cfg)) < 0)
            return error;
    }
    /* patches */
    v = json_object_get(k, "patches");
    json_array_foreach(v, i, e) {
        if (!json_is_object(e))
            return pl_error_set(PL_EINVALID, "%s: patches[%zu] must be a map", ctx->origin_path, i);
        cfg = builtin_cfg("PatchTransformer");
        json_object_update_missing(cfg, e);
        if ((error = run_cfg_take(ctx, ra, cfg)) < 0)
            return error;
    }
    /* namespace */
    if ((v = json_object_get(k, "namespace")) && json_is_string(v) && *json_string_value(v)) {
        cfg = builtin_cfg("NamespaceTransformer");
        json_object_set_new(cfg, "metadata", json_pack("{s:s,s:O}", "name", "namespace", "namespace", v));
        json_object_set_new(cfg, "fieldSpecs", pl_kz_fslist_to_json(&tc->name_space));
        if ((error = run_cfg_take(ctx, ra, cfg)) < 0)
            return error;
    }
    /* namePrefix / nameSuffix */
    if ((v = json_object_get(k, "namePrefix")) && json_is_string(v) && *json_string_value(v)) {
        if ((error = run_with_specs(ctx, ra, "PrefixTransformer", "prefix", v, &tc->name_prefix)) < 0)
            return error;
    }
    if ((v = json_object_get(k, "nameSuffix")) && json_is_string(v) && *json_string_value(v)) {
        if ((error = run_with_specs(ctx, ra, "SuffixTransformer", "suffix", v, &tc->name_suffix)) < 0)
            return error;
    }
    /* labels: entries, then commonLabels */
    v = json_object_get(k, "labels");
    json_array_foreach(v, i, e) {
        pl_kz_fslist fss;
        json_t *pairs = json_object_get(e, "pairs");
        memset(&fss, 0, sizeof(fss));
        if (!json_is_object(e))
            return pl_error_set(PL_EINVALID, "%s: labels[%zu] must be a map", ctx->origin_path, i);
        if ((error = pl_kz_fslist_add_json(&fss, json_object_get(e, "fields"))) < 0) {
            pl_kz_fslist_dispose(&fss);
            return error;
        }
        /* the `labels` table of the config applies to every labels entry (not commonLabels) */
        for (size_t j = 0; j < tc->labels.n; j++)
            pl_kz_fslist_add(&fss, &tc->labels.v[j]);
        if (json_is_true(json_object_get(e, "includeVolumeClaimTemplates")))
            for (size_t j = 0; j < tc->volume_claim_template_labels.n; j++)
                pl_kz_fslist_add(&fss, &tc->volume_claim_template_labels.v[j]);
        if (json_is_true(json_object_get(e, "includeSelectors"))) {
            for (size_t j = 0; j < tc->common_labels.n; j++)
                pl_kz_fslist_add(&fss, &tc->common_labels.v[j]);
        } else {
            {
                pl_kz_fieldspec md = {NULL, NULL, NULL, (char *)"metadata/labels", 1};
                if (json_is_true(json_object_get(e, "includeTemplates")))
                    for (size_t j = 0; j < tc->template_labels.n; j++)
                        pl_kz_fslist_add(&fss, &tc->template_labels.v[j]);
                pl_kz_fslist_add(&fss, &md);
            }
        }
        cfg = builtin_cfg("LabelTransformer");
        json_object_set_new(cfg, "labels", pairs ? json_incref(pairs) : json_object());
        json_object_set_new(cfg, "fieldSpecs", pl_kz_fslist_to_json(&fss));
        pl_kz_fslist_dispose(&fss);
        if (json_object_get(cfg, "labels") && (error = check_string_map(cfg, "labels", ctx->origin_path)) < 0) {
            json_decref(cfg);
            return error;
        }
        if ((error = run_cfg_take(ctx, ra, cfg)) < 0)
            return error;
    }
    if ((v = json_object_get(k, "commonLabels")) && json_object_size(v)) {
        if ((error = run_with_specs(ctx, ra, "LabelTransformer", "labels", v, &tc->common_labels)) < 0)
            return error;
    }
    if ((v = json_object_get(k, "commonAnnotations")) && json_object_size(v)) {
        if ((error = run_with_specs(ctx, ra, "AnnotationsTransformer", "annotations", v, &tc->common_annotations)) < 0)
            return error;
    }
    /* patchesJson6902 */
    v = json_object_get(k, "patchesJson6902");
    json_array_foreach(v, i, e) {
        cfg = builtin_cfg("PatchJson6902Transformer");
        if (json_object_get(e, "target"))
            json_object_set(cfg, "target", json_object_get(e, "target"));
        if (json_object_get(e, "path"))
            json_object_set(cfg, "path", json_object_get(e, "path"));
        if (json_object_get(e, "patch"))
            json_object_set(cfg, "jsonOp", json_object_get(e, "patch"));
        if ((error = run_cfg_take(ctx, ra, cfg)) < 0)
            return error;
    }
    /* replicas */
    v = json_object_get(k, "replicas");
    json_array_foreach(v, i, e) {
        if ((error = run_with_specs(ctx, ra, "ReplicaCountTransformer", "replica", e, &tc->replicas)) < 0)
            return error;
    }
    /* images (imageTags is the deprecated spelling, appended) */
    for (int f = 0; f < 2; f++) {
        v = json_object_get(k, f ? "imageTags" : "images");
        json_array_foreach(v, i, e) {
            if ((error = run_with_specs(ctx, ra, "ImageTagTransformer", "imageTag", e, &tc->images)) < 0)
                return error;
        }
    }
    /* replacements */
    if ((v = json_object_get(k, "replacements")) && json_array_size(v)) {
        cfg = builtin_cfg("ReplacementTransformer");
        json_object_set(cfg, "replacements", v);
        if ((error = run_cfg_take(ctx, ra, cfg)) < 0)
            return error;
    }
    return 0;
}

/* ---- one kustomization ------------------------------------------------------------------------ */

static int build_dir(build *b, accum *ra, const char *dir, int is_component, json_t *origin_path,
                     json_t **sort_options)
{
    json_t *k = NULL, *v, *e;
    char *kfile = NULL, *origin_rel = NULL;
    pl_kz_ctx ctx;
    size_t i;
    int error;
    const char *kind;

    if ((error = load_kustomization(b, dir, &k, &kfile)) < 0)
        return error;
    kind = pl_json_str(k, "kind", NULL);
    if (is_component && (!kind || strcmp(kind, "Component"))) {
        error = pl_error_set(PL_EINVALID, "expected kind 'Component' for path '%s' but got '%s'",
                             dir, kind ? kind : "Kustomization");
        goto done;
    }
    /* a Component may be built directly, but not pulled in as a resource */
    if (!is_component && b->depth > 0 && kind && !strcmp(kind, "Component")) {
        error = pl_error_set(PL_EINVALID, "expected kind != 'Component' for path '%s'", dir);
        goto done;
    }
    if (b->depth == 0 && !b->build_metadata) /* the top one applies everywhere; held by b */
        b->build_metadata = json_incref(json_object_get(k, "buildMetadata"));
    b->visited[b->depth++] = dir;

    memset(&ctx, 0, sizeof(ctx));
    ctx.fs = b->fs;
    ctx.opts = b->opts;
    ctx.workers = b->sh->parallel ? &b->sh->workers : NULL;
    ctx.dir = dir;
    ctx.root = dir;
    ctx.origin_path = kfile;
    ctx.track_origin = b->build_metadata && json_array_size(b->build_metadata) > 0;
    origin_rel = origin_join(origin_path, pl_path_base(kfile));
    ctx.origin_rel = origin_rel;

    /*
     * openapi: kustomize keeps one schema for the whole build. The first kustomization to
     * set one (the top one first, then bases in build order) wins; later ones do not
     * override it.
     */
    if ((v = json_object_get(k, "openapi")) && json_is_object(v)) {
        const char *p = pl_json_str(v, "path", NULL);
        if (p && json_object_get(v, "version")) {
            error = pl_error_set(PL_EINVALID, "%s: builtin version and custom schema provided, "
                                 "cannot use both", kfile);
            goto done;
        }
        if ((p || json_object_get(v, "version")) && !b->openapi_set) {
            b->openapi_set = 1; /* a builtin version also fixes the schema for the build */
        } else {
            p = NULL;
        }
        if (p) {
            json_t *docs = NULL;
            if ((error = pl_kz_load_yaml(&ctx, p, &docs)) < 0)
                goto done;
            json_decref(b->openapi);
            b->openapi = json_incref(json_array_get(docs, 0));
            if (b->depth > 1 && b->builtin_schema_used && json_is_object(b->openapi))
                json_object_set_new(b->openapi, PL_KZ_OPENAPI_WITH_BUILTIN, json_true());
            b->openapi_changes++;
            json_decref(docs);
        }
    }
    ctx.openapi = b->openapi;

    /* resources (bases is the deprecated spelling, appended) */
    if ((error = accumulate_resources(b, &ctx, ra, json_object_get(k, "resources"), origin_path)) < 0 ||
        (error = accumulate_resources(b, &ctx, ra, json_object_get(k, "bases"), origin_path)) < 0)
        goto done;
    /* configurations */
    v = json_object_get(k, "configurations");
    json_array_foreach(v, i, e) {
        json_t *docs = NULL;
        if ((error = pl_kz_load_yaml(&ctx, json_string_value(e), &docs)) < 0)
            goto done;
        if ((error = accum_own_tc(ra)) < 0) {
            json_decref(docs);
            goto done;
        }
        for (size_t j = 0; j < json_array_size(docs) && error == 0; j++)
            error = pl_kz_tconfig_merge_json(ra->tc, json_array_get(docs, j));
        ra->tc_custom = 1;
        json_decref(docs);
        if (error < 0) {
            pl_error_prefix("%s", json_string_value(e));
            goto done;
        }
    }
    /* crds */
    v = json_object_get(k, "crds");
    json_array_foreach(v, i, e) {
        json_t *docs = NULL;
        if ((error = pl_kz_load_yaml(&ctx, json_string_value(e), &docs)) < 0)
            goto done;
        if ((error = accum_own_tc(ra)) < 0) {
            json_decref(docs);
            goto done;
        }
        for (size_t j = 0; j < json_array_size(docs) && error == 0; j++)
            error = pl_kz_tconfig_merge_crd(ra->tc, json_array_get(docs, j));
        ra->tc_custom = 1;
        json_decref(docs);
        if (error < 0)
            goto done;
    }
    ctx.tc = ra->tc;
    /* generators */
    if ((error = run_generators(&ctx, ra, k, origin_path)) < 0 ||
        (error = run_plugin_list(b, &ctx, ra, json_object_get(k, "generators"), 1, origin_path)) < 0)
        goto done;
    ra->ids_valid = 0; /* generators may have merged into or replaced resources */
    /* components */
    v = json_object_get(k, "components");
    json_array_foreach(v, i, e) {
        if ((error = accumulate_dir(b, &ctx, ra, json_string_value(e), 1, origin_path, NULL)) < 0)
            goto done;
        ra->ids_valid = 0; /* the component's transformers ran on ra */
    }
    ctx.tc = ra->tc;
    ctx.openapi = b->openapi; /* a base or component may have set it */
    /* transformers */
    if (json_array_size(json_object_get(k, "patchesStrategicMerge")) ||
        json_array_size(json_object_get(k, "patches")))
        b->builtin_schema_used = 1; /* a strategic merge loads the builtin schema */
    if ((error = run_builtin_transformers(&ctx, ra, k)) < 0 ||
        (error = run_plugin_list(b, &ctx, ra, json_object_get(k, "transformers"), 0, origin_path)) < 0)
        goto done;
    ra->ids_valid = 0; /* transformers renamed, moved or removed resources */
    if ((v = json_object_get(k, "validators")) && json_array_size(v)) {
        error = pl_error_set(PL_EINVALID, "%s: validators are not supported by plumb render", kfile);
        goto done;
    }
    /* vars: tag the resources they refer to now, while their original ids are unambiguous */
    v = json_object_get(k, "vars");
    if (json_array_size(v) && (error = pl_kz_vars_merge(&ra->rm, v)) < 0)
        goto done;
    json_array_foreach(v, i, e) {
        const char *name = pl_json_str(e, "name", NULL);
        size_t j;
        json_t *w;
        json_array_foreach(ra->vars, j, w) {
            const char *wn = pl_json_str(w, "name", NULL);
            if (name && wn && !strcmp(name, wn)) {
                error = pl_error_set(PL_EINVALID, "%s: var '%s' already encountered", kfile, name);
                goto done;
            }
        }
        json_array_append(ra->vars, e);
    }
    if (sort_options)
        *sort_options = json_incref(json_object_get(k, "sortOptions"));
done:
    if (b->depth && b->visited[b->depth - 1] == dir)
        b->depth--;
    /* name the kustomization unless the message already names a file */
    if (error < 0 && kfile && pl_error_last()->message[0] != '/' &&
        !strstr(pl_error_last()->message, kfile))
        pl_error_prefix("%s", kfile);
    json_decref(k);
    pl_free(kfile);
    pl_free(origin_rel);
    return error;
}

/*
 * Count how often each kustomization directory is pulled in as a resource, following each
 * directory once. Errors are ignored here: the build itself reports them.
 */
static void prescan(build *b, const char *dir, int depth)
{
    json_t *k = NULL;
    char *kfile = NULL;
    static const char *const fields[] = {"resources", "bases"};

    if (depth > MAX_DEPTH || load_kustomization(b, dir, &k, &kfile) < 0) {
        pl_error_clear();
        return;
    }
    /* a custom schema, build metadata or remote bases make results depend on build order
     * (kustomize's global schema) or on process-wide state: build sequentially then */
    if (json_object_get(k, "openapi") || json_object_get(k, "buildMetadata"))
        b->sh->parallel = 0;
    {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(k, "resources"), i, e)
            if (json_is_string(e) && looks_remote(json_string_value(e)))
                b->sh->parallel = 0;
        json_array_foreach(json_object_get(k, "components"), i, e) {
            char *path = json_is_string(e) ? pl_path_join(dir, json_string_value(e)) : NULL;
            char *real = NULL;
            if (path && pl_fs_kind_of(b->fs, path) == PL_FS_DIR &&
                pl_fs_realpath(b->fs, path, &real) == 0 && !json_object_get(b->seen, real)) {
                json_object_set_new(b->seen, real, json_true());
                prescan(b, real, depth + 1);
            }
            pl_free(path);
            pl_free(real);
        }
    }
    for (int f = 0; f < 2; f++) {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(k, fields[f]), i, e) {
            char *path = pl_path_join(dir, json_string_value(e)), *real = NULL;
            json_t *n;
            if (path && pl_fs_kind_of(b->fs, path) == PL_FS_DIR &&
                pl_fs_realpath(b->fs, path, &real) == 0) {
                n = json_object_get(b->sh->uses, real);
                if (n) {
                    json_integer_set(n, json_integer_value(n) + 1);
                } else {
                    json_object_set_new(b->sh->uses, real, json_integer(1));
                    prescan(b, real, depth + 1);
                }
            }
            pl_free(path);
            pl_free(real);
        }
    }
    pl_error_clear();
    json_decref(k);
    pl_free(kfile);
}

/*
 * Bases that several kustomizations pull in are built first, spread over the threads, and
 * cached; the builds that include them then only copy them. Results are the same: a base's
 * build depends only on its directory when no openapi or buildMetadata is involved (the only
 * case in which threads are used). A prebuild that fails is simply not cached: the real build
 * meets the same error at the point kustomize would.
 */
typedef struct prebuild_set {
    build proto;
    const char **dirs;
    size_t n, next;
} prebuild_set;

static void prebuild_run(prebuild_set *ps, build *b)
{
    for (;;) {
        const char *dir;
        accum sub;
        json_t *origin;
        pthread_mutex_lock(&b->sh->lock);
        dir = ps->next < ps->n ? ps->dirs[ps->next++] : NULL;
        pthread_mutex_unlock(&b->sh->lock);
        if (!dir)
            return;
        if (accum_init(&sub, b->tc_default) == 0) {
            origin = json_string(dir);
            if (build_dir(b, &sub, dir, 0, origin, NULL) == 0)
                cache_store(b, dir, &sub, 1);
            json_decref(origin);
        }
        accum_dispose(&sub);
        pl_error_clear();
    }
}

static void *prebuild_main(void *arg)
{
    prebuild_set *ps = arg;
    build mine = ps->proto;
    pl_alloc_pool_enter();
    prebuild_run(ps, &mine);
    pl_alloc_pool_leave();
    pthread_mutex_lock(&mine.sh->lock);
    mine.sh->threads_free++;
    pthread_mutex_unlock(&mine.sh->lock);
    return NULL;
}

static void prebuild_shared_bases(build *b, const char *top)
{
    prebuild_set ps;
    const char *key;
    json_t *v;
    pthread_t th;
    int started = 0;

    if (!b->sh->parallel || b->sh->threads_free < 1)
        return;
    memset(&ps, 0, sizeof(ps));
    if (!(ps.dirs = pl_calloc(json_object_size(b->sh->uses) + 1, sizeof(*ps.dirs))))
        return;
    json_object_foreach(b->sh->uses, key, v) {
        if (json_integer_value(v) > 1)
            ps.dirs[ps.n++] = key;
    }
    if (ps.n >= 2) {
        /* as if pulled in by the top kustomization: cycle checks and the Component rule apply */
        ps.proto = *b;
        ps.proto.visited[0] = top;
        ps.proto.depth = 1;
        pthread_mutex_lock(&b->sh->lock);
        b->sh->threads_free--;
        pthread_mutex_unlock(&b->sh->lock);
        started = pthread_create(&th, NULL, prebuild_main, &ps) == 0;
        if (!started) {
            pthread_mutex_lock(&b->sh->lock);
            b->sh->threads_free++;
            pthread_mutex_unlock(&b->sh->lock);
        }
        {
            build mine = ps.proto;
            prebuild_run(&ps, &mine);
        }
        if (started)
            pthread_join(th, NULL);
    }
    pl_free(ps.dirs);
}

/* ---- output cleanup ------------------------------------------------------------------------------ */

static int strip_annotations(pl_kz_resmap *m, int keep_origin, int keep_transformer)
{
    for (size_t i = 0; i < m->n; i++) {
        json_t *md = json_object_get(m->v[i]->obj, "metadata");
        json_t *ann = json_object_get(md, "annotations");
        const char *key;
        json_t *v;
        void *tmp;
        if (!json_is_object(ann))
            continue;
        json_object_foreach_safe(ann, tmp, key, v) {
            if (!strncmp(key, "internal.config.kubernetes.io/", 30) ||
                !strcmp(key, "config.kubernetes.io/local-config-internal") ||
                (!keep_origin && !strcmp(key, "config.kubernetes.io/origin")) ||
                (!keep_transformer && !strcmp(key, "alpha.config.kubernetes.io/transformations")))
                json_object_del(ann, key);
        }
        if (json_object_size(ann) == 0)
            json_object_del(md, "annotations");
    }
    return 0;
}

static int drop_local_config(pl_kz_resmap *m)
{
    for (size_t i = 0; i < m->n;) {
        const char *v = pl_kz_res_annotation(m->v[i], "config.kubernetes.io/local-config");
        if (v && strcmp(v, "false"))
            pl_kz_resmap_remove(m, i);
        else
            i++;
    }
    return 0;
}

typedef struct tc_job {
    pl_kz_tconfig *tc;
    int error;
    char msg[sizeof(((pl_error *)0)->message)];
} tc_job;

static void *tconfig_default_main(void *arg)
{
    tc_job *job = arg;
    pl_alloc_pool_enter();
    if ((job->error = pl_kz_tconfig_default(&job->tc)) < 0)
        snprintf(job->msg, sizeof(job->msg), "%s", pl_error_last()->message);
    pl_alloc_pool_leave();
    return NULL;
}

int pl_kustomize_build(json_t **out, pl_fs *fs, const char *dir, const pl_render_opts *opts)
{
    build b;
    shared sh;
    accum ra;
    json_t *sort_options = NULL, *result = NULL;
    pl_render_opts defaults = PL_RENDER_OPTS_INIT;
    pl_kz_ctx ctx;
    int error;

    *out = NULL;
    /* a build churns through small JSON nodes: pooled blocks (see pl_alloc_pool_enter) */
    pl_alloc_pool_enter();
    /* the tree is read for this build only: the fs may remember what it stats */
    pl_fs_cache_begin(fs);
    memset(&b, 0, sizeof(b));
    memset(&ra, 0, sizeof(ra));
    b.fs = fs;
    b.opts = opts ? opts : &defaults;
    b.top_dir = dir;
    /* the default field-spec tables are parsed on another core while the tree is scanned */
    {
        tc_job job = {NULL, 0, {0}};
        pthread_t th;
        int threaded = b.opts->max_threads != 1 &&
                       pthread_create(&th, NULL, tconfig_default_main, &job) == 0;
        memset(&sh, 0, sizeof(sh));
        pthread_mutex_init(&sh.lock, NULL);
        sh.uses = json_object();
        sh.parallel = b.opts->max_threads != 1;
        sh.workers.lock = &sh.lock;
        sh.workers.free = &sh.threads_free;
        {
            long cpus = sysconf(_SC_NPROCESSORS_ONLN);
            long want = b.opts->max_threads > 0 ? b.opts->max_threads : (cpus > 0 ? cpus : 1);
            sh.threads_free = (int)((want > 8 ? 8 : want) - 1);
        }
        b.sh = &sh;
        b.seen = json_object();
        prescan(&b, dir, 0);
        if (threaded)
            pthread_join(th, NULL);
        else
            tconfig_default_main(&job);
        b.tc_default = job.tc;
        if ((error = job.error) < 0) {
            pl_error_set(job.error, "%s", job.msg);
            goto done;
        }
    }
    if ((error = accum_init(&ra, b.tc_default)) < 0)
        goto done;
    prebuild_shared_bases(&b, dir);
    {
        json_t *origin = json_string("");
        error = build_dir(&b, &ra, dir, 0, origin, &sort_options);
        json_decref(origin);
    }
    if (error < 0)
        goto done;

    memset(&ctx, 0, sizeof(ctx));
    ctx.fs = fs;
    ctx.opts = b.opts;
    ctx.workers = sh.parallel ? &sh.workers : NULL;
    ctx.dir = dir;
    ctx.root = dir;
    ctx.tc = ra.tc;
    ctx.openapi = b.openapi;
    /* name hash suffixes, then references to renamed objects, then vars */
    for (size_t i = 0; i < ra.rm.n; i++) {
        json_t *cfg;
        if (!ra.rm.v[i]->needs_hash)
            continue;
        cfg = builtin_cfg("HashTransformer");
        error = pl_kz_t_hash(&ctx, &ra.rm, cfg);
        json_decref(cfg);
        if (error < 0)
            goto done;
        break;
    }
    if ((error = pl_kz_nameref_fix_ctx(&ctx, &ra.rm, ra.tc)) < 0)
        goto done;
    if ((error = pl_kz_vars_resolve(&ra.rm, ra.vars, ra.tc)) < 0)
        goto done;
    drop_local_config(&ra.rm);

    /* sort: the kustomization's sortOptions win over --reorder; legacy is the default */
    if (sort_options && !json_is_null(sort_options)) {
        json_t *cfg = builtin_cfg("SortOrderTransformer");
        json_object_set(cfg, "sortOptions", sort_options);
        error = pl_kz_t_sort_order(&ctx, &ra.rm, cfg);
        json_decref(cfg);
        if (error < 0)
            goto done;
    } else if (b.opts->reorder != PL_REORDER_NONE) {
        pl_kz_sort_legacy(&ra.rm);
    }
    if (b.opts->add_managedby_label || has_build_metadata(&b, "managedByLabel")) {
        json_t *cfg = builtin_cfg("LabelTransformer");
        json_object_set_new(cfg, "labels", json_pack("{s:s}", "app.kubernetes.io/managed-by",
                                                     "kustomize-v5.5.0"));
        json_object_set_new(cfg, "fieldSpecs",
                            json_pack("[{s:s,s:b}]", "path", "metadata/labels", "create", 1));
        error = pl_kz_t_labels(&ctx, &ra.rm, cfg);
        json_decref(cfg);
        if (error < 0)
            goto done;
    }
    strip_annotations(&ra.rm, has_build_metadata(&b, "originAnnotations"),
                      has_build_metadata(&b, "transformerAnnotations"));

    if (!(result = json_array())) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < ra.rm.n; i++)
        json_array_append(result, ra.rm.v[i]->obj);
    *out = result;
    result = NULL;
done:
    json_decref(result);
    json_decref(sort_options);
    json_decref(b.openapi);
    json_decref(b.build_metadata);
    pl_kz_tconfig_free(b.tc_default);
    json_decref(b.seen);
    if (b.sh) {
        cache_free(&sh);
        json_decref(sh.uses);
        pthread_mutex_destroy(&sh.lock);
    }
    accum_dispose(&ra);
    pl_fs_cache_end(fs);
    pl_alloc_pool_leave();
    return error;
}
