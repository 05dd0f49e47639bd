/*
 * kz_nameref.c - name reference fixing: after prefixes, suffixes, namespaces and hash suffixes
 * renamed objects, rewrite every field that names one of them by an earlier name.
 *
 * Reproduces kustomize v5.5 api/internal/accumulator/namereferencetransformer.go and
 * api/filters/nameref (nameref.go, seqfilter.go), plus the pieces of resmap/resource they
 * lean on (SubsetThatCouldBeReferencedByResource, GroupedByOriginal/CurrentNamespace,
 * PrevIds, OrgId, PrefixesSuffixesEquals, Gvk.IsSelected, ResId.EffectiveNamespace).
 *
 * Shape: for each referrer (a resource whose ORIGINAL gvk is selected by a referrer field spec
 * of some nameReference entry), walk each such field; every value found (a string, a list of
 * strings, a map with name/namespace, or a list of those) is looked up among the resources
 * that ever carried that name (previous names only: an object never renamed is never a
 * referral), filtered exactly as kustomize's selectReferral sieves them.
 *
 * Kustomize recomputes the referrable subset and rescans the whole resmap per field value;
 * here an index (previous name -> resources, original namespace -> resources) is built once
 * per call, and the subset rules are evaluated per candidate, so the cost is proportional to
 * the number of matching candidates, not to the size of the build.
 *
 * Not here: vars ($(VAR)), replacements, the field-spec tables (kz_tconfig.c) and the path
 * walking itself (kz_fieldspec.c). Called once by kz_build.c at the end of the top-level
 * build, after hash suffixes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kz.h"

/* kustomize resid.TotallyNotANamespace: effective namespace of cluster-scoped objects */
#define NOT_A_NAMESPACE "_non_namespaceable_"


/* A comma-separated build annotation split as strings.Split does (absent: n == 0). */
typedef struct csv {
    const char **v;
    size_t n;
} csv;

/* One nameReference filter: entry t, referrer field spec s of the tconfig. */
typedef struct filt {
    size_t t, s;
} filt;

/* What the transformer needs to know about one resource, computed once per call. */
typedef struct rinfo {
    pl_kz_res *r;
    /* all strings below live in the call's arena */
    const char *group, *version; /* kyaml ParseGroupVersion of the current apiVersion */
    csv prev_names, prev_kinds, prev_nss; /* previous ids, oldest first */
    csv prefixes, suffixes;
    const char *org_kind; /* kind of OrgId (first previous id, else current) */
    const char *cur_ns;   /* effective namespace of CurId */
    const char *org_ns;   /* effective namespace of OrgId */
    int cluster;          /* current gvk certainly cluster-scoped */
    const filt *filters;  /* borrowed (shared by resources of the same original gvk) */
    size_t nfilters;
} rinfo;

/* A (key, resource index) pair; keys are borrowed from rinfo. */
typedef struct kentry {
    const char *key;
    size_t idx;
} kentry;

/*
 * A multimap key -> resource indexes preserving resmap order: the indexes grouped by key
 * (each group in increasing order) and a hash table from key to group. Built in one pass
 * over entries given in resmap order, where sorting them cost as much as the fixing itself
 * on large builds.
 */
typedef struct kindex {
    size_t n;          /* indexes held (0: empty) */
    size_t *idx;       /* owned: group g is idx[start[g] .. start[g + 1]) */
    size_t *start;     /* owned, ngroups + 1 */
    const char **gkey; /* owned array, borrowed keys */
    size_t ngroups;
    size_t *slot;      /* owned: open addressing, group + 1 (0: free) */
    size_t mask;
} kindex;

/* Bump allocator for the per-call strings: one free at the end instead of one per string. */
typedef struct ablock {
    struct ablock *next;
    size_t used, cap;
    max_align_t data[];
} ablock;

typedef struct arena {
    ablock *head;
} arena;

typedef struct fixer {
    pl_kz_resmap *m;
    const pl_kz_tconfig *tc;
    arena mem;
    rinfo *info;
    kindex by_name;  /* previous names */
    kindex by_orgns; /* original effective namespaces (cluster-scoped left out) */
    size_t *cand;     /* scratch: candidate indexes, capacity m->n */

    /* the referrer being processed */
    size_t ref;
    int ref_cluster;
    json_t *ref_id; /* owned: the referrer's id as recorded in referrals' ref_by, lazily made */
    char **rb_ns;   /* owned: ServiceAccount subject namespaces of a RoleBinding referrer */
    size_t nrb_ns;
    /* the filter being applied */
    const pl_kz_nameref *target;
    const pl_kz_fieldspec *spec;
    int is_roleref;
    /* referrer paths split once per nameReference entry (lazily), not once per resource */
    pl_kz_fsprep **prep; /* owned, tc->nnameref slots */
    /* when referrers are fixed on several threads: the referrals they record, applied in
     * referrer order afterwards (a referral's refBy list is another resource's state) */
    struct reflog *log;
} fixer;

/* A recorded referral: referrer i refers to resource j, whose ref_by gets `id`. */
typedef struct refent {
    size_t i, j;
    json_t *id; /* owned reference */
} refent;

typedef struct reflog {
    refent *v;
    size_t n, cap;
} reflog;

/* ---- small helpers -------------------------------------------------------------------------- */

static int oom(void)
{
    return pl_error_set(PL_ENOMEM, "out of memory");
}

/* kustomize Gvk.IsSelected: empty selector parts are wildcards. */
static int gvk_selected(const char *g, const char *v, const char *k, const char *sg,
                        const char *sv, const char *sk)
{
    if (sg && *sg && strcmp(g, sg))
        return 0;
    if (sv && *sv && strcmp(v, sv))
        return 0;
    if (sk && *sk && strcmp(k, sk))
        return 0;
    return 1;
}

/* kustomize ResId.EffectiveNamespace */
static const char *effective_ns(int cluster, const char *ns)
{
    if (cluster)
        return NOT_A_NAMESPACE;
    if (!ns || !*ns || !strcmp(ns, "default"))
        return "default";
    return ns;
}

static void *arena_alloc(arena *a, size_t n)
{
    ablock *b = a->head;
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        if (!(b = pl_malloc(sizeof(*b) + cap)))
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    b->used += n;
    return (char *)b->data + b->used - n;
}

static char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static void arena_dispose(arena *a)
{
    while (a->head) {
        ablock *next = a->head->next;
        pl_free(a->head);
        a->head = next;
    }
}

/* Resource.getCsvAnnotation: absent -> empty; present -> strings.Split(value, ",") */
static int split_csv_annotation(csv *out, arena *a, const json_t *ann, const char *key)
{
    const char *s = json_string_value(pl_kz_obj_get(ann, key));
    size_t n = 1, len;
    const char *q;
    char *buf, *p;

    out->v = NULL;
    out->n = 0;
    if (!s)
        return 0;
    for (q = s; (q = strchr(q, ',')); q++)
        n++;
    len = strlen(s);
    if (!(out->v = arena_alloc(a, n * sizeof(*out->v))) || !(buf = arena_strndup(a, s, len)))
        return oom();
    out->v[0] = buf;
    for (p = buf; (p = strchr(p, ','));) {
        *p++ = '\0';
        out->v[++out->n] = p;
    }
    out->n++;
    return 0;
}

static const char *csv_at(const csv *c, size_t i)
{
    return i < c->n ? c->v[i] : "";
}

/* kustomize utils.SameEndingSubSlice */
static int same_ending(const csv *a, const csv *b)
{
    const csv *shortest = a, *longest = b;
    size_t diff;

    if (a->n > b->n) {
        shortest = b;
        longest = a;
    }
    diff = longest->n - shortest->n;
    if (shortest->n == 0)
        return diff == 0;
    for (size_t i = shortest->n; i-- > 0;)
        if (strcmp(longest->v[i + diff], shortest->v[i]))
            return 0;
    return 1;
}

/* kustomize Resource.PrefixesSuffixesEquals(o, allowEmpty) */
static int prefixes_suffixes_equal(const rinfo *x, const rinfo *y, int allow_empty)
{
    if (allow_empty) {
        int pe = x->prefixes.n == 0 || y->prefixes.n == 0;
        int se = x->suffixes.n == 0 || y->suffixes.n == 0;
        return (pe || same_ending(&x->prefixes, &y->prefixes)) &&
               (se || same_ending(&x->suffixes, &y->suffixes));
    }
    return same_ending(&x->prefixes, &y->prefixes) && same_ending(&x->suffixes, &y->suffixes);
}

/* kustomize ResId.String(): Kind.Version.Group/name.namespace with [no*] placeholders */
static void format_resid(pl_buf *out, const rinfo *ri)
{
    const char *kind = pl_kz_res_kind(ri->r), *name = pl_kz_res_name(ri->r),
               *ns = pl_kz_res_namespace(ri->r);
    pl_buf_printf(out, "%s.%s.%s/%s.%s", *kind ? kind : "[noKind]",
                  *ri->version ? ri->version : "[noVer]", *ri->group ? ri->group : "[noGrp]",
                  *name ? name : "[noName]", *ns ? ns : "[noNs]");
}

/* Text of a scalar as go-yaml holds it (node.Value); NULL for non-scalars. */
static const char *scalar_text(const json_t *v, char *buf, size_t bufsz)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, bufsz, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        snprintf(buf, bufsz, "%.17g", json_real_value(v));
        return buf;
    }
    if (json_is_boolean(v))
        return json_is_true(v) ? "true" : "false";
    if (json_is_null(v))
        return "";
    return NULL;
}

static uint64_t key_hash(const char *k)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)k; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

static void kindex_dispose(kindex *x)
{
    pl_free(x->idx);
    pl_free(x->start);
    pl_free(x->gkey);
    pl_free(x->slot);
    memset(x, 0, sizeof(*x));
}

/* The group of key, or (size_t)-1. */
static size_t kindex_group(const kindex *x, const char *key, uint64_t h)
{
    if (!x->slot)
        return (size_t)-1;
    for (size_t i = (size_t)h & x->mask; x->slot[i]; i = (i + 1) & x->mask)
        if (!strcmp(x->gkey[x->slot[i] - 1], key))
            return x->slot[i] - 1;
    return (size_t)-1;
}

/*
 * Index n entries given in increasing idx order. dedupe: an index is listed once per key
 * (a resource may carry the same previous name twice).
 */
static int kindex_build(kindex *x, const kentry *e, size_t n, int dedupe)
{
    size_t size = 16, *grp = NULL, *fill = NULL;
    int error = 0;

    memset(x, 0, sizeof(*x));
    if (n == 0)
        return 0;
    while (size < 2 * n)
        size *= 2;
    x->mask = size - 1;
    if (!(x->slot = pl_calloc(size, sizeof(*x->slot))) ||
        !(x->gkey = pl_calloc(n, sizeof(*x->gkey))) || !(grp = pl_calloc(n, sizeof(*grp))) ||
        !(x->start = pl_calloc(n + 1, sizeof(*x->start))) ||
        !(x->idx = pl_calloc(n, sizeof(*x->idx)))) {
        error = oom();
        goto done;
    }
    /* groups in order of first appearance, and their sizes (in start[g + 1]) */
    for (size_t i = 0; i < n; i++) {
        uint64_t h = key_hash(e[i].key);
        size_t g = kindex_group(x, e[i].key, h);
        if (g == (size_t)-1) {
            size_t k = (size_t)h & x->mask;
            while (x->slot[k])
                k = (k + 1) & x->mask;
            g = x->ngroups++;
            x->slot[k] = g + 1;
            x->gkey[g] = e[i].key;
        }
        grp[i] = g;
        x->start[g + 1]++;
    }
    for (size_t g = 0; g < x->ngroups; g++)
        x->start[g + 1] += x->start[g];
    if (!(fill = pl_calloc(x->ngroups, sizeof(*fill)))) {
        error = oom();
        goto done;
    }
    /* place each index in its group, still in resmap order; then close the gaps left by
     * duplicates */
    for (size_t i = 0; i < n; i++) {
        size_t g = grp[i], at = x->start[g] + fill[g];
        if (dedupe && fill[g] && x->idx[at - 1] == e[i].idx)
            continue;
        x->idx[at] = e[i].idx;
        fill[g]++;
    }
    {
        size_t o = 0;
        for (size_t g = 0; g < x->ngroups; g++) {
            size_t from = x->start[g];
            x->start[g] = o;
            memmove(&x->idx[o], &x->idx[from], fill[g] * sizeof(*x->idx));
            o += fill[g];
        }
        x->start[x->ngroups] = o;
        x->n = o;
    }
done:
    pl_free(grp);
    pl_free(fill);
    if (error < 0)
        kindex_dispose(x);
    return error;
}

/* The indexes filed under key: x->idx[*from .. *to). */
static void kindex_find(const kindex *x, const char *key, size_t *from, size_t *to)
{
    size_t g = kindex_group(x, key, key_hash(key));
    *from = *to = 0;
    if (g != (size_t)-1) {
        *from = x->start[g];
        *to = x->start[g + 1];
    }
}

/* ---- per-resource facts and indexes ---------------------------------------------------------- */

static int rinfo_init(rinfo *ri, arena *a, pl_kz_res *r)
{
    const char *av = pl_kz_res_api_version(r);
    const char *slash = strchr(av, '/');
    const char *org_kind = pl_kz_res_kind(r), *org_ns = pl_kz_res_namespace(r);
    const json_t *ann;
    int error;

    memset(ri, 0, sizeof(*ri));
    ri->r = r;
    /*
     * kyaml resid.ParseGroupVersion ("builtin", the old plugin apiVersion, is a group). Copies:
     * a field update may replace the strings the object holds.
     */
    if (slash) {
        ri->group = arena_strndup(a, av, (size_t)(slash - av));
        ri->version = arena_strndup(a, slash + 1, strlen(slash + 1));
    } else if (!strcmp(av, "builtin")) {
        ri->group = arena_strndup(a, av, strlen(av));
        ri->version = "";
    } else {
        ri->group = "";
        ri->version = arena_strndup(a, av, strlen(av));
    }
    if (!ri->group || !ri->version)
        return oom();
    ri->cluster = pl_kz_is_cluster_scoped(av, pl_kz_res_kind(r));
    /* utils.PrevIds: names, namespaces and kinds are parallel lists */
    ann = pl_kz_obj_get(pl_kz_obj_get(r->obj, "metadata"), "annotations");
    if (json_is_object(ann) &&
        ((error = split_csv_annotation(&ri->prev_names, a, ann, PL_KZ_ANN_PREV_NAMES)) < 0 ||
         (error = split_csv_annotation(&ri->prev_kinds, a, ann, PL_KZ_ANN_PREV_KINDS)) < 0 ||
         (error = split_csv_annotation(&ri->prev_nss, a, ann, PL_KZ_ANN_PREV_NAMESPACES)) < 0 ||
         (error = split_csv_annotation(&ri->prefixes, a, ann, PL_KZ_ANN_PREFIXES)) < 0 ||
         (error = split_csv_annotation(&ri->suffixes, a, ann, PL_KZ_ANN_SUFFIXES)) < 0))
        return error;
    if (ri->prev_names.n) {
        org_kind = csv_at(&ri->prev_kinds, 0);
        org_ns = csv_at(&ri->prev_nss, 0);
    }
    /* previous ids keep the current gvk's scope (Resource.PrevIds copies GetGvk()) */
    org_ns = effective_ns(ri->cluster, org_ns);
    ri->org_kind = arena_strndup(a, org_kind, strlen(org_kind));
    ri->org_ns = arena_strndup(a, org_ns, strlen(org_ns));
    org_ns = effective_ns(ri->cluster, pl_kz_res_namespace(r));
    ri->cur_ns = arena_strndup(a, org_ns, strlen(org_ns));
    if (!ri->org_kind || !ri->org_ns || !ri->cur_ns)
        return oom();
    return 0;
}

static int build_indexes(fixer *f)
{
    size_t n = f->m->n, nnames = 0, k = 0;
    kentry *e = NULL;
    int error = 0;

    for (size_t i = 0; i < n; i++)
        nnames += f->info[i].prev_names.n;
    if (!(e = pl_calloc(nnames > n ? nnames : n ? n : 1, sizeof(*e))))
        return oom();
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < f->info[i].prev_names.n; j++) {
            e[k].key = f->info[i].prev_names.v[j];
            e[k].idx = i;
            k++;
        }
    /* a resource listed once per distinct previous name (names repeat after ns moves) */
    if ((error = kindex_build(&f->by_name, e, k, 1)) < 0)
        goto done;
    k = 0;
    for (size_t i = 0; i < n; i++) {
        if (f->info[i].cluster)
            continue; /* GroupedByOriginalNamespace drops TotallyNotANamespace */
        e[k].key = f->info[i].org_ns;
        e[k].idx = i;
        k++;
    }
    if ((error = kindex_build(&f->by_orgns, e, k, 0)) < 0)
        goto done;
    if (n && !(f->cand = pl_calloc(n, sizeof(*f->cand))))
        error = oom();
done:
    pl_free(e);
    return error;
}

static int gvk_cmp(const rinfo *x, const rinfo *y)
{
    int c = strcmp(x->org_kind, y->org_kind);
    if (!c)
        c = strcmp(x->group, y->group);
    if (!c)
        c = strcmp(x->version, y->version);
    return c;
}

static int order_cmp(const void *a, const void *b)
{
    const rinfo *const *x = a, *const *y = b;
    int c = gvk_cmp(*x, *y);
    return c ? c : (*x < *y ? -1 : *x > *y);
}

/*
 * determineFilters: which (nameReference, field spec) pairs select each resource by its
 * original gvk, in table order. Computed once per distinct gvk and shared.
 */
static int assign_filters(fixer *f)
{
    const pl_kz_tconfig *tc = f->tc;
    size_t n = f->m->n, nspecs = 0;
    rinfo **order;
    int error = 0;

    for (size_t t = 0; t < tc->nnameref; t++)
        nspecs += tc->nameref[t].referrers.n;
    if (!n || !nspecs)
        return 0;
    if (!(order = pl_calloc(n, sizeof(*order))))
        return oom();
    for (size_t i = 0; i < n; i++)
        order[i] = &f->info[i];
    qsort(order, n, sizeof(*order), order_cmp);
    for (size_t i = 0; i < n;) {
        const rinfo *ri = order[i];
        filt *v = NULL;
        size_t nv = 0, j;
        for (size_t t = 0; t < tc->nnameref; t++) {
            const pl_kz_nameref *nr = &tc->nameref[t];
            for (size_t s = 0; s < nr->referrers.n; s++) {
                const pl_kz_fieldspec *fs = &nr->referrers.v[s];
                if (!gvk_selected(ri->group, ri->version, ri->org_kind, fs->group, fs->version,
                                  fs->kind))
                    continue;
                if (!v && !(v = arena_alloc(&f->mem, nspecs * sizeof(*v)))) {
                    error = oom();
                    goto done;
                }
                v[nv].t = t;
                v[nv].s = s;
                nv++;
            }
        }
        for (j = i; j < n && !gvk_cmp(ri, order[j]); j++) {
            order[j]->filters = v;
            order[j]->nfilters = nv;
        }
        i = j;
    }
done:
    pl_free(order);
    return error;
}

/* ---- the referrable subset (resWrangler.SubsetThatCouldBeReferencedByResource) ---------------- */

static void clear_rb_ns(fixer *f)
{
    for (size_t i = 0; i < f->nrb_ns; i++)
        pl_free(f->rb_ns[i]);
    pl_free(f->rb_ns);
    f->rb_ns = NULL;
    f->nrb_ns = 0;
}

/*
 * getNamespacesForRoleBinding: a RoleBinding may name ServiceAccounts of other namespaces in
 * its subjects, which makes those namespaces referrable. A ServiceAccount subject with a
 * namespace that is not a string is kustomize's "namespace is blank" error.
 */
static int collect_rolebinding_namespaces(fixer *f)
{
    const rinfo *ri = &f->info[f->ref];
    json_t *subjects, *s;
    size_t i;

    if (strcmp(pl_kz_res_kind(ri->r), "RoleBinding"))
        return 0;
    subjects = pl_kz_obj_get(ri->r->obj, "subjects");
    if (!json_is_array(subjects))
        return 0;
    json_array_foreach(subjects, i, s) {
        json_t *ns = pl_kz_obj_get(s, "namespace"), *kind = pl_kz_obj_get(s, "kind");
        char **p;
        if (!json_is_object(s) || !ns || !json_is_string(kind) ||
            strcmp(json_string_value(kind), "ServiceAccount"))
            continue;
        if (!json_is_string(ns)) {
            pl_buf id = PL_BUF_INIT;
            int error;
            format_resid(&id, ri);
            error = pl_error_set(PL_EINVALID, "Invalid Input: namespace is blank for resource \"%s\"",
                                 id.ptr ? id.ptr : "");
            pl_buf_dispose(&id);
            return error;
        }
        if (!(p = pl_realloc(f->rb_ns, (f->nrb_ns + 1) * sizeof(*p))))
            return oom();
        f->rb_ns = p;
        if (!(f->rb_ns[f->nrb_ns] = pl_strdup(json_string_value(ns))))
            return oom();
        f->nrb_ns++;
    }
    return 0;
}

static int in_subset(const fixer *f, size_t j)
{
    const rinfo *c = &f->info[j];
    const char *ns;

    if (f->ref_cluster || c->cluster)
        return 1;
    if (!strcmp(c->cur_ns, f->info[f->ref].cur_ns))
        return 1;
    ns = pl_kz_res_namespace(c->r);
    for (size_t i = 0; i < f->nrb_ns; i++)
        if (!strcmp(f->rb_ns[i], ns))
            return 1;
    return 0;
}

/* ---- selectReferral sieves ---------------------------------------------------------------------- */

/* previousIdSelectedByGvk: some previous id (current group/version, previous kind) matches */
static int prev_id_selected(const rinfo *c, const char *g, const char *v, const char *k)
{
    for (size_t i = 0; i < c->prev_names.n; i++)
        if (gvk_selected(c->group, c->version, csv_at(&c->prev_kinds, i), g, v, k))
            return 1;
    return 0;
}

/* sameCurrentNamespaceAsReferrer */
static int same_ns_as_referrer(const fixer *f, size_t j)
{
    const rinfo *c = &f->info[j];
    if (f->ref_cluster || c->cluster)
        return 1;
    if (!strcmp(pl_kz_res_kind(c->r), "ServiceAccount"))
        return 1;
    return !strcmp(c->cur_ns, f->info[f->ref].cur_ns);
}

/* getRoleRefGvk: roleRef with apiGroup and kind, else no roleRef restriction */
static int roleref_gvk(const fixer *f, const char **group, const char **kind, char *gbuf,
                       char *kbuf, size_t bufsz)
{
    json_t *rr = pl_kz_obj_get(f->info[f->ref].r->obj, "roleRef");
    json_t *g = pl_kz_obj_get(rr, "apiGroup"), *k = pl_kz_obj_get(rr, "kind");
    if (!json_is_object(rr) || !g || !k)
        return 0;
    *group = scalar_text(g, gbuf, bufsz);
    *kind = scalar_text(k, kbuf, bufsz);
    return *group && *kind;
}

/*
 * Has the referrable subset some resource whose original namespace is `ns`? Decides between
 * GroupedByOriginalNamespace and the GroupedByCurrentNamespace fallback of
 * filterMapCandidatesByNamespace.
 */
static int subset_has_orgns(const fixer *f, const char *ns)
{
    size_t from, to;

    kindex_find(&f->by_orgns, ns, &from, &to);
    for (size_t e = from; e < to; e++)
        if (in_subset(f, f->by_orgns.idx[e]))
            return 1;
    return 0;
}

enum { NS_ANY, NS_ORIGINAL, NS_CURRENT };

/*
 * kustomize Filter.selectReferral. `ns_mode`/`ns` restrict candidates for map values that
 * carry a namespace. *out = index of the referral or -1 when none (nothing to do).
 */
static int select_referral(long *out, fixer *f, const char *old_name, int ns_mode, const char *ns,
                           int is_map)
{
    const pl_kz_nameref *t = f->target;
    const char *rr_group = NULL, *rr_kind = NULL;
    char gbuf[64], kbuf[64];
    int roleref = 0;
    size_t k = 0, e, e_end;

    *out = -1;
    if (f->is_roleref)
        roleref = roleref_gvk(f, &rr_group, &rr_kind, gbuf, kbuf, sizeof(gbuf));
    kindex_find(&f->by_name, old_name, &e, &e_end);
    for (; e < e_end; e++) {
        size_t j = f->by_name.idx[e];
        const rinfo *c = &f->info[j];
        if (!in_subset(f, j))
            continue;
        if (ns_mode == NS_ORIGINAL && (c->cluster || strcmp(c->org_ns, ns)))
            continue;
        if (ns_mode == NS_CURRENT && (c->cluster || strcmp(c->cur_ns, ns)))
            continue;
        if (!prev_id_selected(c, t->group, t->version, t->kind))
            continue;
        if (roleref && !prev_id_selected(c, rr_group, NULL, rr_kind))
            continue;
        if (!same_ns_as_referrer(f, j))
            continue;
        f->cand[k++] = j;
    }
    if (k > 1) {
        /* coarse pass first (an empty prefix/suffix list matches anything), then exact */
        for (int pass = 0; pass < 2 && k > 1; pass++) {
            size_t kk = 0;
            for (size_t i = 0; i < k; i++)
                if (prefixes_suffixes_equal(&f->info[f->cand[i]], &f->info[f->ref], pass == 0))
                    f->cand[kk++] = f->cand[i];
            k = kk;
        }
    }
    if (k == 0)
        return 0;
    if (k > 1) {
        /* allNamesAreTheSame / allNamesAndNamespacesAreTheSame: take the first */
        const pl_kz_res *first = f->info[f->cand[0]].r;
        for (size_t i = 1; i < k; i++) {
            const pl_kz_res *o = f->info[f->cand[i]].r;
            if (strcmp(pl_kz_res_name(first), pl_kz_res_name(o)) ||
                (is_map && strcmp(pl_kz_res_namespace(first), pl_kz_res_namespace(o)))) {
                pl_buf msg = PL_BUF_INIT;
                int error;
                pl_buf_printf(&msg, "updating name reference in '%s' field of '", f->spec->path);
                format_resid(&msg, &f->info[f->ref]);
                pl_buf_printf(&msg, "': considering field '%s' of object ", f->spec->path);
                format_resid(&msg, &f->info[f->ref]);
                pl_buf_puts(&msg, ": found multiple possible referrals: ");
                for (size_t c = 0; c < k; c++) {
                    if (c)
                        pl_buf_puts(&msg, ", ");
                    format_resid(&msg, &f->info[f->cand[c]]);
                }
                error = pl_error_set(PL_EINVALID, "%s", msg.ptr ? msg.ptr : "");
                pl_buf_dispose(&msg);
                return error;
            }
        }
    }
    *out = (long)f->cand[0];
    return 0;
}

/* recordTheReferral: the referral remembers who refers to it (kustomize refBy) */
static int record_referral(fixer *f, size_t j)
{
    pl_kz_res *referral = f->info[j].r, *referrer = f->info[f->ref].r;

    if (!f->ref_id) {
        /* built by hand: json_pack parses its format string on every call */
        json_t *id = json_object();
        if (!id || json_object_set_new_nocheck(id, "apiVersion",
                                               json_string(pl_kz_res_api_version(referrer))) < 0 ||
            json_object_set_new_nocheck(id, "kind", json_string(pl_kz_res_kind(referrer))) < 0 ||
            json_object_set_new_nocheck(id, "name", json_string(pl_kz_res_name(referrer))) < 0 ||
            json_object_set_new_nocheck(id, "namespace",
                                        json_string(pl_kz_res_namespace(referrer))) < 0) {
            json_decref(id);
            return oom();
        }
        f->ref_id = id;
    }
    if (f->log) {
        reflog *l = f->log;
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 64;
            refent *v = pl_realloc(l->v, cap * sizeof(*v));
            if (!v)
                return oom();
            l->v = v;
            l->cap = cap;
        }
        l->v[l->n++] = (refent){f->ref, j, json_incref(f->ref_id)};
        return 0;
    }
    if (!referral->ref_by && !(referral->ref_by = json_array()))
        return oom();
    /* the id object is shared (read-only) by every referral of this referrer */
    if (json_array_append(referral->ref_by, f->ref_id) < 0)
        return oom();
    return 0;
}

/* ---- setting values (nameref Filter.set / setScalar / setMapping) ------------------------------ */

/* A scalar naming the referral: *slot replaced by the new name when it changed. */
static int set_scalar(fixer *f, json_t **slot)
{
    char buf[64];
    const char *old = scalar_text(*slot, buf, sizeof(buf));
    const char *nm;
    long j;
    int error;

    if (!old)
        return 0;
    if ((error = select_referral(&j, f, old, NS_ANY, NULL, 0)) < 0 || j < 0)
        return error;
    if ((error = record_referral(f, (size_t)j)) < 0)
        return error;
    nm = pl_kz_res_name(f->info[j].r);
    if (!strcmp(nm, old))
        return 0; /* the name has not changed */
    {
        json_t *s = json_string(nm);
        if (!s)
            return oom();
        json_decref(*slot);
        *slot = s;
    }
    return 0;
}

/* A map {name, namespace?}: both fields come from the referral. */
static int set_mapping(fixer *f, json_t *map)
{
    json_t *name = pl_kz_obj_get(map, "name"), *nsv;
    char buf[64], nsbuf[64];
    const char *old, *ns = NULL, *new_name, *new_ns;
    int ns_mode = NS_ANY, error;
    long j;

    if (!name) {
        pl_buf id = PL_BUF_INIT;
        format_resid(&id, &f->info[f->ref]);
        error = pl_error_set(PL_EINVALID,
                             "updating name reference in '%s' field of '%s': path config error; "
                             "no 'name' field in node",
                             f->spec->path, id.ptr ? id.ptr : "");
        pl_buf_dispose(&id);
        return error;
    }
    if ((nsv = pl_kz_obj_get(map, "namespace"))) {
        ns = scalar_text(nsv, nsbuf, sizeof(nsbuf));
        if (!ns)
            ns = "";
        /* filterMapCandidatesByNamespace: original namespaces first, then current ones */
        ns_mode = subset_has_orgns(f, ns) ? NS_ORIGINAL : NS_CURRENT;
    }
    old = scalar_text(name, buf, sizeof(buf));
    if (!old)
        old = "";
    if ((error = select_referral(&j, f, old, ns_mode, ns, 1)) < 0 || j < 0)
        return error;
    if ((error = record_referral(f, (size_t)j)) < 0)
        return error;
    new_name = pl_kz_res_name(f->info[j].r);
    new_ns = pl_kz_res_namespace(f->info[j].r);
    if (!strcmp(new_name, old) && !*new_ns)
        return 0;
    if (json_object_set_new(map, "name", json_string(new_name)) < 0)
        return oom();
    /* an empty namespace is a wildcard here, never written over "default" */
    if (*new_ns && json_object_set_new(map, "namespace", json_string(new_ns)) < 0)
        return oom();
    return 0;
}

static int is_scalar(const json_t *v)
{
    return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}

static int set_value(json_t **slot, const char *path_str, void *payload)
{
    fixer *f = payload;
    json_t *v = *slot;
    (void)path_str;

    if (!v || json_is_null(v))
        return 0;
    if (is_scalar(v)) {
        /*
         * *slot is borrowed: the walker stores a replacement and releases the old value
         * itself, while set_scalar releases what it replaces. Hand it a reference of its own,
         * as the list case below does.
         */
        json_t *cur = json_incref(v);
        int error = set_scalar(f, &cur);
        if (error < 0 || cur == v) {
            json_decref(cur);
            return error;
        }
        *slot = cur;
        return 0;
    }
    if (json_is_object(v))
        return set_mapping(f, v);
    if (json_is_array(v)) {
        /* seqfilter: strings (rules/resourceNames) and maps (subjects); others skipped */
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *e = json_array_get(v, i);
            int error;
            if (is_scalar(e)) {
                json_t *cur = json_incref(e); /* held by cur while set_scalar may swap it */
                if ((error = set_scalar(f, &cur)) < 0) {
                    json_decref(cur);
                    return error;
                }
                if (cur != e && json_array_set(v, i, cur) < 0) {
                    json_decref(cur);
                    return oom();
                }
                json_decref(cur);
            } else if (json_is_object(e)) {
                if ((error = set_mapping(f, e)) < 0)
                    return error;
            }
        }
    }
    return 0;
}

/* ---- driver ------------------------------------------------------------------------------------------ */

static int fix_referrer(fixer *f, size_t i)
{
    const rinfo *ri = &f->info[i];
    int error = 0;

    if (ri->nfilters == 0)
        return 0;
    f->ref = i;
    f->ref_cluster = ri->cluster;
    /* the referrable subset is fixed once per referrer, before any of its fields change */
    if ((error = collect_rolebinding_namespaces(f)) < 0)
        goto done;
    if (f->by_name.n == 0)
        goto done; /* nothing was ever renamed: no value can match */
    /* filters in nameReference order, then field spec order (determineFilters) */
    for (size_t k = 0; k < ri->nfilters; k++) {
        const pl_kz_nameref *nr = &f->tc->nameref[ri->filters[k].t];
        const pl_kz_fieldspec *fs = &nr->referrers.v[ri->filters[k].s];
        size_t len = fs->path ? strlen(fs->path) : 0;
        pl_kz_fsprep **prep = &f->prep[ri->filters[k].t];

        if (!*prep && (error = pl_kz_fsprep_new(prep, &nr->referrers)) < 0)
            goto done;
        f->target = nr;
        f->spec = fs;
        f->is_roleref = len >= 12 && !strcmp(fs->path + len - 12, "roleRef/name");
        /* the referrer was selected by its original gvk: walk whatever its gvk is now
         * (fsprep_walk does no gvk check) */
        if ((error = pl_kz_fsprep_walk(*prep, ri->filters[k].s, ri->r->obj, fs->create, set_value,
                                       f)) < 0)
            goto done;
    }
done:
    json_decref(f->ref_id);
    f->ref_id = NULL;
    clear_rb_ns(f);
    return error;
}

/*
 * Referrers may be fixed on several threads when each only changes its own fields and reads
 * of other resources (candidates' kind, name, namespace) cannot meet a change: no referrer
 * field spec creates fields (which could add keys to a map another thread reads) or points
 * at metadata itself, metadata/name, metadata/namespace, kind or apiVersion (what is read of
 * candidates) or below them. Values are replaced in place and maps found at a spec path
 * belong to the referrer (the default Ingress annotation spec qualifies). Custom
 * configurations may ask for more; those builds stay sequential.
 */
static int parallel_safe(const pl_kz_tconfig *tc)
{
    static const char *const read_elsewhere[] = {"metadata/name", "metadata/namespace", "kind",
                                                 "apiVersion", "metadata"};
    for (size_t t = 0; t < tc->nnameref; t++) {
        const pl_kz_fslist *l = &tc->nameref[t].referrers;
        for (size_t s = 0; s < l->n; s++) {
            const char *p = l->v[s].path ? l->v[s].path : "";
            if (l->v[s].create)
                return 0;
            for (size_t k = 0; k < sizeof(read_elsewhere) / sizeof(*read_elsewhere); k++) {
                size_t n = strlen(read_elsewhere[k]);
                /* the field itself or anything below it (a segment boundary follows) */
                if (!strncmp(p, read_elsewhere[k], n) && (p[n] == '\0' || p[n] == '/' ||
                                                          p[n] == '[') &&
                    (k != 4 || p[n] == '\0'))
                    return 0;
            }
        }
    }
    return 1;
}

typedef struct fix_part {
    fixer f; /* this thread's copy: own referrer state, scratch and log */
    reflog log;
} fix_part;

static int fix_range(void *arg, size_t from, size_t to)
{
    fix_part *p = arg;
    int error;

    /* candidate scratch, made by the thread that uses it (most parts never run) */
    if (!p->f.cand && !(p->f.cand = pl_calloc(p->f.m->n, sizeof(*p->f.cand))))
        return oom();
    for (size_t i = from; i < to; i++)
        if ((error = fix_referrer(&p->f, i)) < 0)
            return error;
    return 0;
}

#define NAMEREF_PAR_MIN 256
#define NAMEREF_PAR_MAX 8

/* Fix every referrer on the build's spare threads, then record the referrals in order. */
static int fix_parallel(const pl_kz_ctx *ctx, fixer *f)
{
    fix_part parts[NAMEREF_PAR_MAX];
    size_t *pos = NULL;
    int error = 0;

    memset(parts, 0, sizeof(parts));
    /* the split paths are shared: make every one the referrers need now */
    for (size_t i = 0; i < f->m->n && error == 0; i++) {
        const rinfo *ri = &f->info[i];
        for (size_t k = 0; k < ri->nfilters && error == 0; k++) {
            size_t t = ri->filters[k].t;
            if (!f->prep[t])
                error = pl_kz_fsprep_new(&f->prep[t], &f->tc->nameref[t].referrers);
        }
    }
    for (size_t k = 0; k < NAMEREF_PAR_MAX && error == 0; k++) {
        parts[k].f = *f;
        parts[k].f.ref_id = NULL;
        parts[k].f.rb_ns = NULL;
        parts[k].f.nrb_ns = 0;
        parts[k].f.log = &parts[k].log;
        parts[k].f.cand = NULL;
    }
    if (error == 0)
        error = pl_kz_parallel_ranges(ctx, f->m->n, NAMEREF_PAR_MIN, fix_range, parts,
                                      sizeof(parts[0]), NAMEREF_PAR_MAX, NULL);
    /* each log is in referrer order: merging them gives the order of a sequential pass */
    if (error == 0 && !(pos = pl_calloc(NAMEREF_PAR_MAX, sizeof(*pos))))
        error = oom();
    while (error == 0) {
        refent *e = NULL;
        size_t best = 0;
        pl_kz_res *referral;
        for (size_t k = 0; k < NAMEREF_PAR_MAX; k++) {
            if (pos[k] < parts[k].log.n && (!e || parts[k].log.v[pos[k]].i < e->i)) {
                e = &parts[k].log.v[pos[k]];
                best = k;
            }
        }
        if (!e)
            break;
        pos[best]++;
        referral = f->info[e->j].r;
        if ((!referral->ref_by && !(referral->ref_by = json_array())) ||
            json_array_append(referral->ref_by, e->id) < 0)
            error = oom();
    }
    for (size_t k = 0; k < NAMEREF_PAR_MAX; k++) {
        for (size_t x = 0; x < parts[k].log.n; x++)
            json_decref(parts[k].log.v[x].id);
        pl_free(parts[k].log.v);
        pl_free(parts[k].f.cand);
    }
    pl_free(pos);
    return error;
}

/* Per-resource facts of resources [from, to), with strings in the part's own arena. */
typedef struct info_part {
    fixer *f;
    arena mem;  /* a thread's own blocks */
    arena *use; /* &mem, or the fixer's arena when there is one part */
} info_part;

static int info_range(void *arg, size_t from, size_t to)
{
    info_part *p = arg;
    int error;

    for (size_t i = from; i < to; i++)
        if ((error = rinfo_init(&p->f->info[i], p->use, p->f->m->v[i])) < 0)
            return error;
    return 0;
}

static int info_parallel(const pl_kz_ctx *ctx, fixer *f)
{
    info_part parts[NAMEREF_PAR_MAX];
    int error;

    memset(parts, 0, sizeof(parts));
    for (size_t k = 0; k < NAMEREF_PAR_MAX; k++) {
        parts[k].f = f;
        parts[k].use = &parts[k].mem;
    }
    error = pl_kz_parallel_ranges(ctx, f->m->n, NAMEREF_PAR_MIN, info_range, parts,
                                  sizeof(parts[0]), NAMEREF_PAR_MAX, NULL);
    /* the strings live as long as the fixer: hand every part's blocks to its arena */
    for (size_t k = 0; k < NAMEREF_PAR_MAX; k++) {
        ablock *b = parts[k].mem.head;
        while (b) {
            ablock *next = b->next;
            b->next = f->mem.head;
            f->mem.head = b;
            b = next;
        }
    }
    return error;
}

int pl_kz_nameref_fix(pl_kz_resmap *m, const pl_kz_tconfig *tc)
{
    return pl_kz_nameref_fix_ctx(NULL, m, tc);
}

int pl_kz_nameref_fix_ctx(const pl_kz_ctx *ctx, pl_kz_resmap *m, const pl_kz_tconfig *tc)
{
    fixer f;
    int error = 0, par;

    if (!m || !tc || m->n == 0 || tc->nnameref == 0)
        return 0;
    memset(&f, 0, sizeof(f));
    f.m = m;
    f.tc = tc;
    if (!(f.info = pl_calloc(m->n, sizeof(*f.info))) ||
        !(f.prep = pl_calloc(tc->nnameref, sizeof(*f.prep)))) {
        error = oom();
        goto done;
    }
    par = ctx && ctx->workers && m->n >= 2 * NAMEREF_PAR_MIN && parallel_safe(tc);
    if (par) {
        error = info_parallel(ctx, &f);
    } else {
        info_part one = {&f, {NULL}, &f.mem};
        error = info_range(&one, 0, m->n);
    }
    if (error < 0 || (error = assign_filters(&f)) < 0 || (error = build_indexes(&f)) < 0)
        goto done;
    if (par) {
        error = fix_parallel(ctx, &f);
        goto done;
    }
    for (size_t i = 0; i < m->n; i++)
        if ((error = fix_referrer(&f, i)) < 0)
            goto done;
done:
    for (size_t t = 0; f.prep && t < tc->nnameref; t++)
        pl_kz_fsprep_free(f.prep[t]);
    pl_free(f.prep);
    pl_free(f.info);
    kindex_dispose(&f.by_name);
    kindex_dispose(&f.by_orgns);
    pl_free(f.cand);
    json_decref(f.ref_id);
    clear_rb_ns(&f);
    arena_dispose(&f.mem);
    return error;
}
