/*
 * kz_builtins.c - builtin plugin dispatch and the simple builtin transformers.
 *
 * pl_kz_builtin_run() maps a builtin plugin config (`kind: PrefixTransformer`, ...) to its
 * implementation, here or in the files that own the bigger ones (patches, replacements,
 * generators). The transformers implemented here reproduce kustomize's builtin plugins
 * (api/internal/builtins/<Name>.go) and the filters they use (api/filters/<name>/):
 *   NamespaceTransformer, PrefixTransformer, SuffixTransformer, PrefixSuffixTransformer (the
 *   deprecated pair), LabelTransformer, AnnotationsTransformer, ImageTagTransformer,
 *   ReplicaCountTransformer, ValueAddTransformer, SortOrderTransformer (+ the legacy order),
 *   LegacyOrderTransformer, and the IAMPolicyGenerator generator.
 *
 * Deliberately not supported: HelmChartInflationGenerator and KRM function plugins (exec,
 * container, starlark): they fail with a message naming the feature. Any other kind is not a
 * builtin and fails too (only builtin plugins are supported).
 *
 * Called by the driver (kz_build.c) for kustomization fields translated into builtin configs
 * and for user-written `transformers:`/`generators:` entries (checked first with
 * pl_kz_builtin_check_user()).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "kz.h"

/* ---- small helpers ------------------------------------------------------------------------ */

/*
 * A field of a plugin config. kustomize decodes configs with sigs.k8s.io/yaml into Go structs,
 * and encoding/json matches field names case-insensitively, the last matching key winning
 * ("Digest:" sets imageTag.digest). Data maps (labels, annotations) are not looked up this way.
 */
static json_t *cfg_get(const json_t *o, const char *key)
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

static const char *cfg_str(const json_t *o, const char *key)
{
    json_t *v = cfg_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* a string field of an object (exact key) */
static const char *obj_str(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

/*
 * Text of a scalar as kustomize sees it in the YAML node (node.YNode().Value): strings as
 * they are, numbers and booleans as written, null as "".
 */
static int scalar_text(pl_buf *b, const json_t *v)
{
    pl_buf_clear(b);
    if (json_is_string(v))
        return pl_buf_put(b, json_string_value(v), json_string_length(v));
    if (json_is_integer(v))
        return pl_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    if (json_is_real(v)) {
        char tmp[64];
        snprintf(tmp, sizeof(tmp), "%.17g", json_real_value(v));
        /* shortest round-trip form, as go-yaml prints floats */
        for (int prec = 1; prec <= 17; prec++) {
            char t2[64];
            snprintf(t2, sizeof(t2), "%.*g", prec, json_real_value(v));
            if (strtod(t2, NULL) == json_real_value(v)) {
                memcpy(tmp, t2, sizeof(tmp));
                break;
            }
        }
        return pl_buf_puts(b, tmp);
    }
    if (json_is_true(v))
        return pl_buf_puts(b, "true");
    if (json_is_false(v))
        return pl_buf_puts(b, "false");
    return pl_buf_puts(b, "");
}

/* "Kind/ns/name" (or "Kind/name") for messages */
static const char *res_label(pl_buf *b, const pl_kz_res *r)
{
    pl_buf_clear(b);
    if (*pl_kz_res_namespace(r))
        pl_buf_printf(b, "%s/%s/%s", pl_kz_res_kind(r), pl_kz_res_namespace(r), pl_kz_res_name(r));
    else
        pl_buf_printf(b, "%s/%s", pl_kz_res_kind(r), pl_kz_res_name(r));
    return b->ptr ? b->ptr : "";
}

static const char *node_kind_name(const json_t *v)
{
    if (json_is_object(v))
        return "MappingNode";
    if (json_is_array(v))
        return "SequenceNode";
    return "ScalarNode";
}

/*
 * kyaml resid.ParseGroupVersion: "apps/v1" -> (apps, v1); "builtin" -> (builtin, ""); any
 * other slash-less apiVersion -> ("", apiVersion). Group is not NUL-terminated (glen).
 */
typedef struct gvref {
    const char *g;
    size_t glen;
    const char *v;
} gvref;

static gvref resid_gv(const char *av)
{
    gvref r;
    const char *slash = strchr(av, '/');

    if (slash) {
        r.g = av;
        r.glen = (size_t)(slash - av);
        r.v = slash + 1;
    } else if (!strcmp(av, "builtin")) {
        r.g = av;
        r.glen = strlen(av);
        r.v = "";
    } else {
        r.g = "";
        r.glen = 0;
        r.v = av;
    }
    return r;
}

/* resid.Gvk.IsSelected: the selector's non-empty group/version/kind must match */
static int gvk_selected(gvref gv, const char *kind, const char *sg, const char *sv, const char *sk)
{
    if (sg && *sg && (strlen(sg) != gv.glen || strncmp(sg, gv.g, gv.glen)))
        return 0;
    if (sv && *sv && strcmp(sv, gv.v))
        return 0;
    if (sk && *sk && strcmp(sk, nz(kind)))
        return 0;
    return 1;
}

/* i-th element (0-based) of a comma separated build annotation into b; 0 if absent */
static int csv_item(pl_buf *b, const char *csv, size_t i)
{
    const char *p = csv;

    pl_buf_clear(b);
    if (!csv)
        return 0;
    for (size_t k = 0;; k++) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (k == i) {
            pl_buf_put(b, p, len);
            return 1;
        }
        if (!c)
            return 0;
        p = c + 1;
    }
}

static size_t csv_count(const char *csv)
{
    size_t n = 1;
    if (!csv)
        return 0;
    for (const char *c = csv; *c; c++)
        n += *c == ',';
    return n;
}

/* kustomize appendCsvAnnotation: empty values are not recorded */
static int append_csv(pl_kz_res *r, const char *key, const char *value)
{
    const char *cur;
    pl_buf b = PL_BUF_INIT;
    int error;

    if (!value || !*value)
        return 0;
    cur = pl_kz_res_annotation(r, key);
    if (cur)
        pl_buf_printf(&b, "%s,%s", cur, value);
    else
        pl_buf_puts(&b, value);
    if (!b.ptr)
        return pl_error_set(PL_ENOMEM, "out of memory");
    error = pl_kz_res_set_annotation(r, key, b.ptr);
    pl_buf_dispose(&b);
    return error;
}

/* ---- cluster scope (kyaml openapi precomputedIsNamespaceScoped, the cluster-scoped half) ---- */

/*
 * kustomize decides "certainly cluster scoped" from this precomputed table of the builtin
 * schema (apiVersion + kind, compared exactly); anything else, including newer versions of the
 * same kinds, is treated as namespaced. Checked against kubectl kustomize v5.5.
 */
static const char *const cluster_scoped[][2] = {
    {"admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"},
    {"admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"},
    {"admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration"},
    {"admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration"},
    {"apiextensions.k8s.io/v1", "CustomResourceDefinition"},
    {"apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"},
    {"apiregistration.k8s.io/v1", "APIService"},
    {"apiregistration.k8s.io/v1beta1", "APIService"},
    {"certificates.k8s.io/v1", "CertificateSigningRequest"},
    {"certificates.k8s.io/v1beta1", "CertificateSigningRequest"},
    {"flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"},
    {"flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration"},
    {"networking.k8s.io/v1", "IngressClass"},
    {"networking.k8s.io/v1beta1", "IngressClass"},
    {"node.k8s.io/v1", "RuntimeClass"},
    {"node.k8s.io/v1beta1", "RuntimeClass"},
    {"policy/v1beta1", "PodSecurityPolicy"},
    {"rbac.authorization.k8s.io/v1", "ClusterRole"},
    {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding"},
    {"rbac.authorization.k8s.io/v1beta1", "ClusterRole"},
    {"rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"},
    {"scheduling.k8s.io/v1", "PriorityClass"},
    {"scheduling.k8s.io/v1beta1", "PriorityClass"},
    {"storage.k8s.io/v1", "CSIDriver"},
    {"storage.k8s.io/v1", "CSINode"},
    {"storage.k8s.io/v1", "StorageClass"},
    {"storage.k8s.io/v1", "VolumeAttachment"},
    {"storage.k8s.io/v1beta1", "CSIDriver"},
    {"storage.k8s.io/v1beta1", "CSINode"},
    {"storage.k8s.io/v1beta1", "StorageClass"},
    {"storage.k8s.io/v1beta1", "VolumeAttachment"},
    {"v1", "ComponentStatus"},
    {"v1", "Namespace"},
    {"v1", "Node"},
    {"v1", "NodeProxyOptions"},
    {"v1", "PersistentVolume"},
};

int pl_kz_is_cluster_scoped(const char *api_version, const char *kind)
{
    /* the key is the Gvk's ApiVersion(), which is the apiVersion itself for every entry */
    if (!api_version || !kind)
        return 0;
    /* first bytes compared inline: this runs several times per resource and transformer */
    for (size_t i = 0; i < sizeof(cluster_scoped) / sizeof(cluster_scoped[0]); i++)
        if (cluster_scoped[i][1][0] == kind[0] && cluster_scoped[i][1][1] == kind[1] &&
            !strcmp(cluster_scoped[i][1], kind) && !strcmp(cluster_scoped[i][0], api_version))
            return 1;
    return 0;
}

/* ---- field specs selected by an object's gvk ---------------------------------------------- */

/*
 * Which specs of a list select a gvk, remembered per distinct gvk: a transformer walks the same
 * few kinds over and over (every Deployment, Service...), so the matching runs once per kind
 * instead of once per resource and spec. Indexes stay in list order. Past SEL_SLOTS distinct
 * gvks the answer is computed into `scratch` each time.
 */
#define SEL_SLOTS 16
typedef struct spec_sel {
    const pl_kz_fslist *l;
    size_t n;
    pl_kz_objgvk gvk[SEL_SLOTS];
    size_t *idx[SEL_SLOTS], cnt[SEL_SLOTS];
    size_t *scratch;
} spec_sel;

static void spec_sel_init(spec_sel *s, const pl_kz_fslist *l)
{
    memset(s, 0, sizeof(*s));
    s->l = l;
}

static void spec_sel_dispose(spec_sel *s)
{
    for (size_t i = 0; i < s->n; i++) {
        pl_free(s->idx[i]);
        pl_free((char *)s->gvk[i].kind); /* owns version and group too */
    }
    pl_free(s->scratch);
    memset(s, 0, sizeof(*s));
}

static int same_objgvk(const pl_kz_objgvk *a, const pl_kz_objgvk *b)
{
    return a->glen == b->glen && !strcmp(a->kind, b->kind) && !strcmp(a->version, b->version) &&
           !memcmp(a->group, b->group, a->glen);
}

/* *out: indexes of the specs selecting g (borrowed from s), *nout of them */
static int spec_sel_get(spec_sel *s, const pl_kz_objgvk *g, const size_t **out, size_t *nout)
{
    size_t *v, n = 0;

    for (size_t i = 0; i < s->n; i++) {
        if (same_objgvk(&s->gvk[i], g)) {
            *out = s->idx[i];
            *nout = s->cnt[i];
            return 0;
        }
    }
    if (s->n < SEL_SLOTS) {
        v = s->l->n ? pl_malloc(s->l->n * sizeof(*v)) : NULL;
    } else {
        if (!s->scratch && s->l->n)
            s->scratch = pl_malloc(s->l->n * sizeof(*s->scratch));
        v = s->scratch;
    }
    if (s->l->n && !v)
        return pl_error_set(PL_ENOMEM, "out of memory");
    for (size_t j = 0; j < s->l->n; j++)
        if (pl_kz_fieldspec_matches_gvk(&s->l->v[j], g))
            v[n++] = j;
    if (s->n < SEL_SLOTS) {
        /* the gvk strings of g belong to an object a callback may change: keep copies */
        size_t kl = strlen(g->kind), vl = strlen(g->version);
        char *mem = pl_malloc(kl + vl + g->glen + 3);

        if (!mem) {
            pl_free(v);
            return pl_error_set(PL_ENOMEM, "out of memory");
        }
        memcpy(mem, g->kind, kl + 1);
        memcpy(mem + kl + 1, g->version, vl + 1);
        memcpy(mem + kl + vl + 2, g->group, g->glen);
        mem[kl + vl + 2 + g->glen] = '\0';
        s->gvk[s->n].kind = mem;
        s->gvk[s->n].version = mem + kl + 1;
        s->gvk[s->n].group = mem + kl + vl + 2;
        s->gvk[s->n].glen = g->glen;
        s->idx[s->n] = v;
        s->cnt[s->n] = n;
        s->n++;
    }
    *out = v;
    *nout = n;
    return 0;
}

/* ---- LabelTransformer / AnnotationsTransformer (api/filters/labels, annotations) ----------- */

typedef struct entries_cb {
    const json_t *values; /* map of key -> string */
    int create;           /* create flag of the field spec being walked */
    const pl_kz_res *r;
} entries_cb;

static int set_entries(json_t **slot, const char *path, void *payload)
{
    entries_cb *p = payload;
    const char *k;
    json_t *v;

    if (json_is_null(*slot)) {
        /*
         * A null reached without create stays null: kustomize's SetEntry on a null node
         * changes nothing visible. With create (missing or null) it becomes a new map.
         */
        if (!p->create)
            return 0;
        if (!(*slot = json_object()))
            return pl_error_set(PL_ENOMEM, "out of memory");
    } else if (!json_is_object(*slot)) {
        pl_buf b = PL_BUF_INIT;
        pl_error_set(PL_EINVALID, "%s: wrong node kind at %s: expected MappingNode, was %s",
                     res_label(&b, p->r), path, node_kind_name(*slot));
        pl_buf_dispose(&b);
        return PL_EINVALID;
    }
    /* a copy for each object, not a shared reference: objects are transformed on several
     * threads (pl_kz_parallel_ranges), and jansson's reference counts are only safe to
     * change concurrently, not to read while another thread changes them */
    json_object_foreach((json_t *)p->values, k, v) {
        if (json_object_set_new(*slot, k, json_copy(v)) < 0)
            return pl_error_set(PL_ENOMEM, "out of memory");
    }
    return 0;
}

/* the config's map, values made strings (kustomize decodes into map[string]string) */
static int string_map(json_t **out, const json_t *cfg, const char *key, const char *plugin)
{
    json_t *in = cfg_get(cfg, key), *res, *v;
    const char *k;
    pl_buf b = PL_BUF_INIT;

    *out = NULL;
    if (!in || json_is_null(in))
        return 0;
    if (!json_is_object(in))
        return pl_error_set(PL_EINVALID, "%s: %s must be a map", plugin, key);
    if (!(res = json_object()))
        return pl_error_set(PL_ENOMEM, "out of memory");
    json_object_foreach(in, k, v) {
        if (json_is_object(v) || json_is_array(v)) {
            json_decref(res);
            pl_buf_dispose(&b);
            return pl_error_set(PL_EINVALID, "%s: %s.%s must be a string", plugin, key, k);
        }
        scalar_text(&b, v);
        if (json_object_set_new(res, k, json_string(nz(b.ptr))) < 0) {
            json_decref(res);
            pl_buf_dispose(&b);
            return pl_error_set(PL_ENOMEM, "out of memory");
        }
    }
    pl_buf_dispose(&b);
    *out = res;
    return 0;
}

/* one range of a labels/annotations pass (pl_kz_parallel_ranges): its own spec selection */
typedef struct map_part {
    pl_kz_resmap *m;
    const pl_kz_fslist *fsl;
    const pl_kz_fsprep *prep;
    const json_t *values;
    spec_sel ss;
} map_part;

static int map_range(void *arg, size_t from, size_t to)
{
    map_part *mp = arg;
    entries_cb p;
    int error;

    p.values = mp->values;
    for (size_t i = from; i < to; i++) {
        pl_kz_objgvk g;
        const size_t *sel = NULL;
        size_t nsel = 0;

        p.r = mp->m->v[i];
        pl_kz_objgvk_of(&g, p.r->obj);
        if ((error = spec_sel_get(&mp->ss, &g, &sel, &nsel)) < 0)
            return error;
        for (size_t c = 0; c < nsel; c++) {
            size_t j = sel[c];

            p.create = mp->fsl->v[j].create;
            if ((error = pl_kz_fsprep_walk(mp->prep, j, p.r->obj, p.create, set_entries, &p)) < 0)
                return error;
        }
    }
    return 0;
}

/* resources per range of a pass split across threads: below this a thread costs more */
#define PAR_MIN 128
#define PAR_MAX 8

static int map_transform(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg, const char *key,
                         const char *plugin)
{
    pl_kz_fslist fsl;
    pl_kz_fsprep *prep = NULL;
    json_t *values = NULL;
    map_part parts[PAR_MAX];
    int error;

    memset(&fsl, 0, sizeof(fsl));
    memset(parts, 0, sizeof(parts));
    if ((error = string_map(&values, cfg, key, plugin)) < 0)
        return error;
    if (!values || json_object_size(values) == 0)
        goto done; /* kustomize: nothing to add, nothing touched */
    if ((error = pl_kz_fslist_add_json(&fsl, cfg_get(cfg, "fieldSpecs"))) < 0 ||
        (error = pl_kz_fsprep_new(&prep, &fsl)) < 0)
        goto done;
    for (size_t k = 0; k < PAR_MAX; k++) {
        parts[k].m = m;
        parts[k].fsl = &fsl;
        parts[k].prep = prep;
        parts[k].values = values;
        spec_sel_init(&parts[k].ss, &fsl);
    }
    error = pl_kz_parallel_ranges(ctx, m->n, PAR_MIN, map_range, parts, sizeof(parts[0]), PAR_MAX,
                                  NULL);
done:
    for (size_t k = 0; k < PAR_MAX; k++)
        spec_sel_dispose(&parts[k].ss);
    pl_kz_fsprep_free(prep);
    json_decref(values);
    pl_kz_fslist_dispose(&fsl);
    return error;
}

int pl_kz_t_labels(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    return map_transform(ctx, m, cfg, "labels", "LabelTransformer");
}

int pl_kz_t_annotations(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    return map_transform(ctx, m, cfg, "annotations", "AnnotationsTransformer");
}

/* ---- Prefix/Suffix (api/internal/builtins/PrefixTransformer.go, SuffixTransformer.go) ----- */

typedef struct affix_cb {
    const char *affix;
    int suffix;
    const pl_kz_res *r;
    pl_buf tmp, out; /* scratch, reused across calls */
} affix_cb;

/* kustomize SetScalar: only scalars (or null) can take a value */
static int not_scalar(const pl_kz_res *r, const char *path, const json_t *v)
{
    pl_buf b = PL_BUF_INIT;
    pl_error_set(PL_EINVALID, "%s: wrong node kind for %s: expected ScalarNode, was %s",
                 res_label(&b, r), path, node_kind_name(v));
    pl_buf_dispose(&b);
    return PL_EINVALID;
}

static int set_affix(json_t **slot, const char *path, void *payload)
{
    affix_cb *p = payload;
    json_t *s;

    if (json_is_object(*slot) || json_is_array(*slot))
        return not_scalar(p->r, path, *slot);
    scalar_text(&p->tmp, *slot);
    pl_buf_clear(&p->out);
    if (!p->suffix)
        pl_buf_puts(&p->out, p->affix);
    pl_buf_put(&p->out, nz(p->tmp.ptr), p->tmp.len);
    if (p->suffix)
        pl_buf_puts(&p->out, p->affix);
    s = json_stringn(nz(p->out.ptr), p->out.len);
    if (!s)
        return pl_error_set(PL_ENOMEM, "out of memory");
    *slot = s;
    return 0;
}

/* original id's kind: the first previous kind, else the current one */
static void org_kind(pl_buf *b, const pl_kz_res *r)
{
    if (!csv_item(b, pl_kz_res_annotation(r, PL_KZ_ANN_PREV_KINDS), 0)) {
        pl_buf_clear(b);
        pl_buf_puts(b, pl_kz_res_kind(r));
    }
}

/* one range of a prefix/suffix pass (pl_kz_parallel_ranges): its own scratch buffers */
typedef struct affix_part {
    pl_kz_resmap *m;
    const pl_kz_fslist *fsl;
    const pl_kz_fsprep *prep;
    json_t *selector; /* owned copy, or NULL */
    affix_cb p;
    pl_buf kind;
} affix_part;

static int affix_range(void *arg, size_t from, size_t to)
{
    affix_part *ap = arg;
    affix_cb *p = &ap->p;
    const char *affix = p->affix;
    int suffix = p->suffix, error;

    for (size_t i = from; i < to; i++) {
        pl_kz_res *r = ap->m->v[i];
        gvref gv = resid_gv(pl_kz_res_api_version(r));
        pl_kz_objgvk og;

        org_kind(&ap->kind, r);
        /* prefixFieldSpecsToSkip: CRDs, APIServices and Namespaces keep their names */
        if (gvk_selected(gv, ap->kind.ptr, NULL, NULL, "CustomResourceDefinition") ||
            gvk_selected(gv, ap->kind.ptr, "apiregistration.k8s.io", NULL, "APIService") ||
            gvk_selected(gv, ap->kind.ptr, NULL, NULL, "Namespace"))
            continue;
        if (ap->selector) {
            int match = pl_kz_selector_match(ap->selector, r);
            if (match < 0)
                return pl_error_prefix("error checking excludeLabelSelector");
            if (match)
                continue;
        }
        p->r = r;
        pl_kz_objgvk_of(&og, r->obj);
        for (size_t j = 0; j < ap->fsl->n; j++) {
            const pl_kz_fieldspec *fs = &ap->fsl->v[j];
            if (!gvk_selected(gv, ap->kind.ptr, fs->group, fs->version, fs->kind))
                continue;
            if (fs->path && !strcmp(fs->path, "metadata/name")) {
                /* record the affix for name references, then the id before the rename */
                if ((error = append_csv(r, suffix ? PL_KZ_ANN_SUFFIXES : PL_KZ_ANN_PREFIXES,
                                        affix)) < 0)
                    return error;
                if (*affix && (error = pl_kz_res_store_previous_id(r)) < 0)
                    return error;
            }
            if (pl_kz_fieldspec_matches_gvk(fs, &og) &&
                (error = pl_kz_fsprep_walk(ap->prep, j, r->obj, fs->create, set_affix, p)) < 0)
                return error;
        }
    }
    return 0;
}

static int affix_pass(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg, int suffix)
{
    const char *plugin = suffix ? "SuffixTransformer" : "PrefixTransformer";
    const char *affix = nz(cfg_str(cfg, suffix ? "suffix" : "prefix"));
    const char *exclude = suffix ? cfg_str(cfg, "excludeLabelSelector") : NULL;
    json_t *specs = cfg_get(cfg, "fieldSpecs");
    json_t *selector = NULL;
    pl_kz_fslist fsl;
    pl_kz_fsprep *prep = NULL;
    affix_part parts[PAR_MAX];
    int error;

    memset(&fsl, 0, sizeof(fsl));
    memset(parts, 0, sizeof(parts));
    if (!specs || json_is_null(specs))
        return pl_error_set(PL_EINVALID, "%s: fieldSpecs is not expected to be nil", plugin);
    if ((error = pl_kz_fslist_add_json(&fsl, specs)) < 0) {
        pl_kz_fslist_dispose(&fsl);
        return pl_error_prefix("%s", plugin);
    }
    if ((error = pl_kz_fsprep_new(&prep, &fsl)) < 0)
        goto done;
    if (exclude && *exclude) {
        if (!(selector = json_pack("{ss}", "labelSelector", exclude))) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
    }
    for (size_t k = 0; k < PAR_MAX; k++) {
        parts[k].m = m;
        parts[k].fsl = &fsl;
        parts[k].prep = prep;
        /* each thread its own copy: matching takes references to parts of it */
        if (selector && !(parts[k].selector = pl_kz_json_copy(selector))) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
        parts[k].p.affix = affix;
        parts[k].p.suffix = suffix;
    }
    error = pl_kz_parallel_ranges(ctx, m->n, PAR_MIN, affix_range, parts, sizeof(parts[0]),
                                  PAR_MAX, NULL);
done:
    for (size_t k = 0; k < PAR_MAX; k++) {
        json_decref(parts[k].selector);
        pl_buf_dispose(&parts[k].p.tmp);
        pl_buf_dispose(&parts[k].p.out);
        pl_buf_dispose(&parts[k].kind);
    }
    pl_kz_fsprep_free(prep);
    json_decref(selector);
    pl_kz_fslist_dispose(&fsl);
    return error;
}

int pl_kz_t_prefix_suffix(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    const char *kind = nz(cfg_str(cfg, "kind"));
    int error;

    if (!strcmp(kind, "SuffixTransformer"))
        return affix_pass(ctx, m, cfg, 1);
    if (!strcmp(kind, "PrefixSuffixTransformer")) {
        /* the deprecated pair: a PrefixTransformer then a SuffixTransformer, same config */
        if ((error = affix_pass(ctx, m, cfg, 0)) < 0)
            return error;
        return affix_pass(ctx, m, cfg, 1);
    }
    return affix_pass(ctx, m, cfg, 0);
}

/* ---- NamespaceTransformer (api/filters/namespace) ----------------------------------------- */

enum { SUBJECTS_DEFAULT_ONLY, SUBJECTS_ALL_SA, SUBJECTS_NONE };

typedef struct ns_cb {
    const char *ns;
    int unset_only;
    const pl_kz_res *r;
    int for_fieldspecs; /* errors get kustomize's "field specs must target scalar nodes" */
} ns_cb;

static int set_namespace(json_t **slot, const char *path, void *payload)
{
    ns_cb *p = payload;
    json_t *s;

    if (p->unset_only) {
        /* SetEntryIfEmpty: an existing non-empty scalar is kept */
        if (json_is_string(*slot) && json_string_length(*slot) > 0)
            return 0;
        if (json_is_number(*slot) || json_is_boolean(*slot))
            return 0;
    }
    if (json_is_object(*slot) || json_is_array(*slot)) {
        pl_buf b = PL_BUF_INIT, id = PL_BUF_INIT;
        gvref gv = resid_gv(pl_kz_res_api_version(p->r));
        pl_buf_printf(&id, "%s.%s.%.*s/%s.%s", pl_kz_res_kind(p->r), *gv.v ? gv.v : "[noVer]",
                      gv.glen ? (int)gv.glen : 7, gv.glen ? gv.g : "[noGrp]",
                      pl_kz_res_name(p->r),
                      *pl_kz_res_namespace(p->r) ? pl_kz_res_namespace(p->r) : "[noNs]");
        pl_error_set(PL_EINVALID,
                     "%sconsidering field '%s' of object %s: wrong node kind: expected ScalarNode "
                     "but got %s",
                     p->for_fieldspecs ? "namespace field specs must target scalar nodes: " : "",
                     path, nz(id.ptr), node_kind_name(*slot));
        pl_buf_dispose(&b);
        pl_buf_dispose(&id);
        return PL_EINVALID;
    }
    if (!(s = json_string(p->ns)))
        return pl_error_set(PL_ENOMEM, "out of memory");
    *slot = s;
    return 0;
}

static int set_subject_ns(json_t *subject, ns_cb *p)
{
    json_t *cur = json_object_get(subject, "namespace");
    json_t *slot = cur ? cur : json_null();
    int error;

    if ((error = set_namespace(&slot, "subjects/namespace", p)) < 0)
        return error;
    if (slot != (cur ? cur : json_null()) || !cur)
        if (json_object_set_new(subject, "namespace", slot) < 0)
            return pl_error_set(PL_ENOMEM, "out of memory");
    return 0;
}

/* roleBindingHack: which subjects of a (Cluster)RoleBinding get the namespace */
static int rolebinding_subjects(json_t *obj, int mode, ns_cb *p)
{
    json_t *subjects = json_object_get(obj, "subjects"), *s;
    size_t i;
    int error;

    if (mode == SUBJECTS_NONE || !json_is_array(subjects))
        return 0;
    json_array_foreach(subjects, i, s) {
        const char *want = mode == SUBJECTS_ALL_SA ? "kind" : "name";
        const char *val = mode == SUBJECTS_ALL_SA ? "ServiceAccount" : "default";
        const char *have;

        if (!json_is_object(s))
            continue;
        have = obj_str(s, want);
        if (!have || strcmp(have, val))
            continue;
        if ((error = set_subject_ns(s, p)) < 0)
            return error;
    }
    return 0;
}

/* the namespace filter on one object (no previous-id bookkeeping) */
static int namespace_filter(pl_kz_res *r, const char *ns, const pl_kz_fslist *fsl,
                            const pl_kz_fsprep *prep, int unset_only, int mode, spec_sel *ss,
                            const pl_kz_fsprep *meta_prep)
{
    const size_t *sel = NULL;
    size_t nsel = 0;
    pl_kz_objgvk og;
    const char *av = pl_kz_res_api_version(r);
    const char *kind = pl_kz_res_kind(r);
    int is_rb = !strcmp(kind, "RoleBinding") || !strcmp(kind, "ClusterRoleBinding");
    ns_cb p;
    int error;

    memset(&p, 0, sizeof(p));
    p.ns = ns;
    p.unset_only = unset_only;
    p.r = r;
    /* metadata.namespace is set here, and only on objects not certainly cluster scoped */
    if (!pl_kz_is_cluster_scoped(av, kind)) {
        pl_kz_fieldspec meta = {NULL, NULL, NULL, (char *)"metadata/namespace", 1};
        /* the prepared form (path split once) when the caller has one: same walk */
        if ((error = meta_prep ? pl_kz_fsprep_walk(meta_prep, 0, r->obj, 1, set_namespace, &p)
                               : pl_kz_fieldspec_apply(r->obj, &meta, set_namespace, &p)) < 0)
            return error;
    }
    if (is_rb && (error = rolebinding_subjects(r->obj, mode, &p)) < 0)
        return error;
    p.for_fieldspecs = 1;
    if (!fsl || fsl->n == 0)
        return 0;
    pl_kz_objgvk_of(&og, r->obj);
    if (ss && (error = spec_sel_get(ss, &og, &sel, &nsel)) < 0)
        return error;
    for (size_t c = 0; c < (ss ? nsel : fsl->n); c++) {
        size_t j = ss ? sel[c] : c;
        const pl_kz_fieldspec *fs = &fsl->v[j];
        const char *path = nz(fs->path);
        /* removeUnneededMetaFieldSpecs: metadata/namespace is handled above; metadata/name
         * (the Namespace object's own name) only for apiVersion v1 */
        if (!strcmp(path, "metadata/namespace"))
            continue;
        if (strcmp(av, "v1") && !strcmp(path, "metadata/name"))
            continue;
        /* removeRoleBindingSubjectFieldSpecs */
        if (is_rb && fs->kind &&
            (!strcmp(fs->kind, "RoleBinding") || !strcmp(fs->kind, "ClusterRoleBinding")) &&
            !strcmp(path, "subjects/namespace"))
            continue;
        if (!ss && !pl_kz_fieldspec_matches_gvk(fs, &og))
            continue;
        if ((error = pl_kz_fsprep_walk(prep, j, r->obj, fs->create, set_namespace, &p)) < 0)
            return error;
    }
    return 0;
}

/* kyaml ResId.EffectiveNamespace, for the ID conflict check */
static const char *effective_ns(const pl_kz_res *r)
{
    const char *ns = pl_kz_res_namespace(r);
    if (pl_kz_is_cluster_scoped(pl_kz_res_api_version(r), pl_kz_res_kind(r)))
        return "_non_namespaceable_";
    if (!*ns || !strcmp(ns, "default"))
        return "default";
    return ns;
}

static int id_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* after the transformation every current id must be unique */
static int check_id_conflicts(const pl_kz_resmap *m)
{
    char **ids = NULL;
    size_t n = 0;
    int error = 0;

    if (m->n < 2)
        return 0;
    if (!(ids = pl_calloc(m->n, sizeof(*ids))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    for (size_t i = 0; i < m->n; i++) {
        const pl_kz_res *r = m->v[i];
        const char *part[4];
        size_t len[4], total = 0, o = 0;
        if (!json_is_object(r->obj) || json_object_size(r->obj) == 0)
            continue;
        /* "apiVersion|kind|effective namespace|name" */
        part[0] = pl_kz_res_api_version(r);
        part[1] = pl_kz_res_kind(r);
        part[2] = effective_ns(r);
        part[3] = pl_kz_res_name(r);
        for (int k = 0; k < 4; k++)
            total += (len[k] = strlen(part[k])) + 1;
        if (!(ids[n] = pl_malloc(total))) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
        for (int k = 0; k < 4; k++) {
            memcpy(ids[n] + o, part[k], len[k]);
            o += len[k];
            ids[n][o++] = k < 3 ? '|' : '\0';
        }
        n++;
    }
    qsort(ids, n, sizeof(*ids), id_cmp);
    for (size_t i = 1; i < n; i++) {
        if (!strcmp(ids[i - 1], ids[i])) {
            error = pl_error_set(PL_EINVALID, "namespace transformation produces ID conflict: %s",
                                 ids[i]);
            goto done;
        }
    }
done:
    for (size_t i = 0; i < n; i++)
        pl_free(ids[i]);
    pl_free(ids);
    return error;
}

static int subjects_mode(int *out, const json_t *cfg)
{
    const char *s = cfg_str(cfg, "setRoleBindingSubjects");

    if (!s || !*s || !strcmp(s, "defaultOnly"))
        *out = SUBJECTS_DEFAULT_ONLY;
    else if (!strcmp(s, "allServiceAccounts"))
        *out = SUBJECTS_ALL_SA;
    else if (!strcmp(s, "none"))
        *out = SUBJECTS_NONE;
    else
        return pl_error_set(PL_EINVALID,
                            "invalid value \"%s\" for setRoleBindingSubjects: must be one of "
                            "\"defaultOnly\", \"none\" or \"allServiceAccounts\"",
                            s);
    return 0;
}

/* one range of a namespace pass (pl_kz_parallel_ranges): its own spec selection */
typedef struct ns_part {
    pl_kz_resmap *m;
    const char *ns;
    const pl_kz_fslist *fsl;
    const pl_kz_fsprep *prep, *meta_prep;
    int unset_only, mode;
    spec_sel ss;
} ns_part;

static int namespace_range(void *arg, size_t from, size_t to)
{
    ns_part *np = arg;
    int error;

    for (size_t i = from; i < to; i++) {
        pl_kz_res *r = np->m->v[i];
        if (!json_is_object(r->obj) || json_object_size(r->obj) == 0)
            continue;
        if ((error = pl_kz_res_store_previous_id(r)) < 0 ||
            (error = namespace_filter(r, np->ns, np->fsl, np->prep, np->unset_only, np->mode,
                                      &np->ss, np->meta_prep)) < 0)
            return error;
    }
    return 0;
}

int pl_kz_t_namespace(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    const char *ns = cfg_str(cfg_get(cfg, "metadata"), "namespace");
    json_t *unset = cfg_get(cfg, "unsetOnly");
    pl_kz_fieldspec meta = {NULL, NULL, NULL, (char *)"metadata/namespace", 1};
    pl_kz_fslist fsl, meta_l;
    pl_kz_fsprep *prep = NULL, *meta_prep = NULL;
    ns_part parts[PAR_MAX];
    int mode = SUBJECTS_DEFAULT_ONLY, error;

    memset(&fsl, 0, sizeof(fsl));
    memset(&meta_l, 0, sizeof(meta_l));
    memset(parts, 0, sizeof(parts));
    if ((error = subjects_mode(&mode, cfg)) < 0)
        return error;
    if (!ns || !*ns)
        return 0;
    if ((error = pl_kz_fslist_add_json(&fsl, cfg_get(cfg, "fieldSpecs"))) < 0) {
        pl_kz_fslist_dispose(&fsl);
        return pl_error_prefix("NamespaceTransformer");
    }
    if ((error = pl_kz_fsprep_new(&prep, &fsl)) < 0 ||
        (error = pl_kz_fslist_add(&meta_l, &meta)) < 0 ||
        (error = pl_kz_fsprep_new(&meta_prep, &meta_l)) < 0)
        goto done;
    for (size_t k = 0; k < PAR_MAX; k++) {
        parts[k].m = m;
        parts[k].ns = ns;
        parts[k].fsl = &fsl;
        parts[k].prep = prep;
        parts[k].meta_prep = meta_prep;
        parts[k].unset_only = json_is_true(unset);
        parts[k].mode = mode;
        spec_sel_init(&parts[k].ss, &fsl);
    }
    if ((error = pl_kz_parallel_ranges(ctx, m->n, PAR_MIN, namespace_range, parts,
                                       sizeof(parts[0]), PAR_MAX, NULL)) < 0)
        goto done;
    error = check_id_conflicts(m);
done:
    for (size_t k = 0; k < PAR_MAX; k++)
        spec_sel_dispose(&parts[k].ss);
    pl_kz_fsprep_free(meta_prep);
    pl_kz_fslist_dispose(&meta_l);
    pl_kz_fsprep_free(prep);
    pl_kz_fslist_dispose(&fsl);
    return error;
}

/* ---- ImageTagTransformer (api/filters/imagetag, api/image) --------------------------------- */

typedef struct image_cb {
    const char *name, *new_name, *new_tag, *digest, *tag_suffix;
    pcre2_code *re; /* ^NAME(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$ or NULL */
    pcre2_match_data *md;
    const pl_kz_res *r;
    pl_buf value;
} image_cb;

/*
 * image.Split: name, tag, digest of "[host[:port]/]path[:tag][@digest]"; a ':' before the
 * first '/' belongs to the host.
 */
static void image_split(const char *img, size_t *name_len, const char **tag, size_t *tag_len,
                        const char **digest)
{
    const char *slash = strchr(img, '/');
    size_t off = slash && slash > img ? (size_t)(slash - img) : 0;
    const char *search = img + off;
    const char *at = strchr(search, '@');
    const char *colon = strchr(search, ':');
    size_t len = strlen(img);

    *tag = "";
    *tag_len = 0;
    *digest = "";
    if (!at && !colon) {
        *name_len = len;
        return;
    }
    if (at && (!colon || at < colon)) {
        *name_len = (size_t)(at - img);
        *digest = at + 1;
        return;
    }
    if (at && colon) {
        *name_len = (size_t)(colon - img);
        *tag = colon + 1;
        *tag_len = (size_t)(at - colon - 1);
        *digest = at + 1;
        return;
    }
    *name_len = (size_t)(colon - img);
    *tag = colon + 1;
    *tag_len = len - *name_len - 1;
}

static int update_image(json_t **slot, const char *path, void *payload)
{
    image_cb *p = payload;
    const char *img, *tag, *digest;
    size_t name_len, tag_len;
    pl_buf out = PL_BUF_INIT;
    json_t *s;
    int rc;

    if (json_is_object(*slot) || json_is_array(*slot))
        return not_scalar(p->r, path, *slot);
    scalar_text(&p->value, *slot);
    img = nz(p->value.ptr);
    if (!p->re)
        return 0;
    rc = pcre2_match(p->re, (PCRE2_SPTR)img, strlen(img), 0, 0, p->md, NULL);
    if (rc < 0)
        return 0;
    image_split(img, &name_len, &tag, &tag_len, &digest);
    if (*p->new_name)
        pl_buf_puts(&out, p->new_name);
    else
        pl_buf_put(&out, img, name_len);
    /* a new tag or digest replaces both the old tag and the old digest */
    {
        pl_buf t = PL_BUF_INIT;
        const char *d = digest;
        if (*p->new_tag && *p->digest) {
            pl_buf_puts(&t, p->new_tag);
            d = p->digest;
        } else if (*p->new_tag) {
            pl_buf_puts(&t, p->new_tag);
            d = "";
        } else if (*p->digest) {
            d = p->digest;
        } else if (*p->tag_suffix) {
            pl_buf_put(&t, tag, tag_len);
            pl_buf_puts(&t, p->tag_suffix);
            d = "";
        } else {
            pl_buf_put(&t, tag, tag_len);
        }
        if (t.len)
            pl_buf_printf(&out, ":%s", t.ptr);
        if (*d)
            pl_buf_printf(&out, "@%s", d);
        pl_buf_dispose(&t);
    }
    s = json_string(nz(out.ptr));
    pl_buf_dispose(&out);
    if (!s)
        return pl_error_set(PL_ENOMEM, "out of memory");
    *slot = s;
    return 0;
}

/* "containers" or "initContainers" (first byte tested inline: most keys differ there) */
static int is_containers_key(const char *k)
{
    return (k[0] == 'c' && strcmp(k, "containers") == 0) ||
           (k[0] == 'i' && strcmp(k, "initContainers") == 0);
}

/*
 * LegacyFilter: any list under a "containers"/"initContainers" key, at any depth. This visits
 * every node of every resource, so scalars are skipped without a call (they hold nothing).
 */
static int legacy_images(json_t *node, image_cb *p)
{
    const char *k;
    json_t *v, *e;
    size_t i;
    int error;

    if (json_is_array(node)) {
        json_array_foreach(node, i, e) {
            if ((json_is_object(e) || json_is_array(e)) && (error = legacy_images(e, p)) < 0)
                return error;
        }
        return 0;
    }
    if (!json_is_object(node))
        return 0;
    /* plain iterator walk: json_object_foreach also maps each key back to its iterator, and
     * the key is only needed for lists */
    for (void *it = json_object_iter(node); it; it = json_object_iter_next(node, it)) {
        v = json_object_iter_value(it);
        if (!json_is_object(v) && !json_is_array(v))
            continue;
        if ((error = legacy_images(v, p)) < 0)
            return error;
        if (!json_is_array(v) || !is_containers_key((k = json_object_iter_key(it))))
            continue;
        json_array_foreach(v, i, e) {
            json_t *img = json_object_get(e, "image");
            json_t *slot = img;
            if (!json_is_object(e) || !img)
                continue;
            if ((error = update_image(&slot, "image", p)) < 0)
                return error;
            if (slot != img && json_object_set_new(e, "image", slot) < 0)
                return pl_error_set(PL_ENOMEM, "out of memory");
        }
    }
    return 0;
}

/*
 * One range of an images pass (pl_kz_parallel_ranges): its own callback state (match data,
 * scratch buffer) and spec selection. The legacy filter runs over every resource before the
 * field specs do, as in kustomize, so the two are separate passes.
 */
typedef struct image_part {
    pl_kz_resmap *m;
    const pl_kz_fsprep *prep;
    int legacy; /* 1: the legacy pass, 0: the field-spec pass */
    image_cb p;
    spec_sel ss;
} image_part;

static int image_range(void *arg, size_t from, size_t to)
{
    image_part *ip = arg;
    int error;

    for (size_t i = from; i < to; i++) {
        pl_kz_res *r = ip->m->v[i];
        pl_kz_objgvk og;
        const size_t *sel = NULL;
        size_t nsel = 0;

        ip->p.r = r;
        if (ip->legacy) {
            if (strcmp(pl_kz_res_kind(r), "CustomResourceDefinition") &&
                (error = legacy_images(r->obj, &ip->p)) < 0)
                return error;
            continue;
        }
        pl_kz_objgvk_of(&og, r->obj);
        if ((error = spec_sel_get(&ip->ss, &og, &sel, &nsel)) < 0)
            return error;
        for (size_t c = 0; c < nsel; c++) {
            /* the image filter has no create kind: `create` in its field specs is ignored */
            if ((error = pl_kz_fsprep_walk(ip->prep, sel[c], r->obj, 0, update_image, &ip->p)) < 0)
                return error;
        }
    }
    return 0;
}

int pl_kz_t_images(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    json_t *it = cfg_get(cfg, "imageTag");
    pl_kz_fslist fsl;
    pl_kz_fsprep *prep = NULL;
    pcre2_code *re = NULL;
    image_part parts[PAR_MAX];
    pl_buf pat = PL_BUF_INIT;
    const char *name = nz(cfg_str(it, "name"));
    int error = 0, errcode;
    PCRE2_SIZE erroff;

    memset(&fsl, 0, sizeof(fsl));
    memset(parts, 0, sizeof(parts));
    if ((error = pl_kz_fslist_add_json(&fsl, cfg_get(cfg, "fieldSpecs"))) < 0) {
        pl_kz_fslist_dispose(&fsl);
        return pl_error_prefix("ImageTagTransformer");
    }
    if ((error = pl_kz_fsprep_new(&prep, &fsl)) < 0)
        goto done;
    /* image.IsImageMatched: the name is used as a regular expression, unescaped */
    pl_buf_printf(&pat, "^%s(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$", name);
    if (!pat.ptr) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    /* a name that is not a valid pattern matches nothing; compiled once, matched with
     * per-range match data */
    re = pcre2_compile((PCRE2_SPTR)pat.ptr, pat.len, PCRE2_DOLLAR_ENDONLY, &errcode, &erroff,
                       NULL);
    for (size_t k = 0; k < PAR_MAX; k++) {
        image_cb *p = &parts[k].p;
        parts[k].m = m;
        parts[k].prep = prep;
        spec_sel_init(&parts[k].ss, &fsl);
        p->name = name;
        p->new_name = nz(cfg_str(it, "newName"));
        p->new_tag = nz(cfg_str(it, "newTag"));
        p->digest = nz(cfg_str(it, "digest"));
        p->tag_suffix = nz(cfg_str(it, "tagSuffix"));
        p->re = re;
        if (re && !(p->md = pcre2_match_data_create_from_pattern(re, NULL))) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
    }
    for (int legacy = 1; legacy >= 0; legacy--) {
        for (size_t k = 0; k < PAR_MAX; k++)
            parts[k].legacy = legacy;
        if ((error = pl_kz_parallel_ranges(ctx, m->n, PAR_MIN, image_range, parts,
                                           sizeof(parts[0]), PAR_MAX, NULL)) < 0)
            goto done;
    }
done:
    for (size_t k = 0; k < PAR_MAX; k++) {
        spec_sel_dispose(&parts[k].ss);
        pcre2_match_data_free(parts[k].p.md);
        pl_buf_dispose(&parts[k].p.value);
    }
    pl_kz_fsprep_free(prep);
    pcre2_code_free(re);
    pl_buf_dispose(&pat);
    pl_kz_fslist_dispose(&fsl);
    return error;
}

/* ---- ReplicaCountTransformer --------------------------------------------------------------- */

typedef struct replica_cb {
    json_int_t count;
    const pl_kz_res *r;
} replica_cb;

static int set_replicas(json_t **slot, const char *path, void *payload)
{
    replica_cb *p = payload;
    json_t *s;

    if (json_is_object(*slot) || json_is_array(*slot))
        return not_scalar(p->r, path, *slot);
    if (!(s = json_integer(p->count)))
        return pl_error_set(PL_ENOMEM, "out of memory");
    *slot = s;
    return 0;
}

/* cheap rejection: the name must appear among the current or previous names */
static int replica_name_may_match(const pl_kz_res *r, const char *name)
{
    const char *names;

    if (!strcmp(pl_kz_res_name(r), name))
        return 1;
    names = pl_kz_res_annotation(r, PL_KZ_ANN_PREV_NAMES);
    return names && strstr(names, name);
}

/* GetMatchingResourcesByAnyId: the current id or any previous one has the name and gvk */
static int replica_match(const pl_kz_res *r, const char *name, const pl_kz_fieldspec *fs)
{
    const char *names = pl_kz_res_annotation(r, PL_KZ_ANN_PREV_NAMES);
    const char *kinds;
    gvref gv;
    size_t n;
    pl_buf nb = PL_BUF_INIT, kb = PL_BUF_INIT;
    int match = 0;

    /* cheap rejection first (runs for every resource and field spec): the name must appear
     * among the current or previous names */
    if (strcmp(pl_kz_res_name(r), name) && (!names || !strstr(names, name)))
        return 0;
    gv = resid_gv(pl_kz_res_api_version(r));
    kinds = pl_kz_res_annotation(r, PL_KZ_ANN_PREV_KINDS);
    n = csv_count(names);
    for (size_t i = 0; i < n && !match; i++) {
        csv_item(&nb, names, i);
        if (!csv_item(&kb, kinds, i)) {
            pl_buf_clear(&kb);
            pl_buf_puts(&kb, pl_kz_res_kind(r));
        }
        match = !strcmp(nz(nb.ptr), name) &&
                gvk_selected(gv, nz(kb.ptr), fs->group, fs->version, fs->kind);
    }
    if (!match)
        match = !strcmp(pl_kz_res_name(r), name) &&
                gvk_selected(gv, pl_kz_res_kind(r), fs->group, fs->version, fs->kind);
    pl_buf_dispose(&nb);
    pl_buf_dispose(&kb);
    return match;
}

int pl_kz_t_replicas(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    json_t *rep = cfg_get(cfg, "replica");
    const char *name = nz(cfg_str(rep, "name"));
    json_t *count = cfg_get(rep, "count");
    pl_kz_fslist fsl;
    replica_cb p;
    size_t *cand = NULL, ncand = 0;
    int found = 0, error;

    (void)ctx;
    memset(&fsl, 0, sizeof(fsl));
    memset(&p, 0, sizeof(p));
    if (count && !json_is_null(count) && !json_is_integer(count))
        return pl_error_set(PL_EINVALID,
                            "ReplicaCountTransformer: replica.count must be an integer");
    p.count = json_integer_value(count);
    if ((error = pl_kz_fslist_add_json(&fsl, cfg_get(cfg, "fieldSpecs"))) < 0)
        return pl_error_prefix("ReplicaCountTransformer");
    /* the name test of replica_match does not depend on the field spec: done once per
     * resource, the (usually one or two) candidates are then checked against every spec */
    if (m->n && !(cand = pl_malloc(m->n * sizeof(*cand)))) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < m->n; i++)
        if (replica_name_may_match(m->v[i], name))
            cand[ncand++] = i;
    for (size_t j = 0; j < fsl.n; j++) {
        for (size_t c = 0; c < ncand; c++) {
            pl_kz_res *r = m->v[cand[c]];
            if (!replica_match(r, name, &fsl.v[j]))
                continue;
            found = 1;
            p.r = r;
            if ((error = pl_kz_fieldspec_apply(r->obj, &fsl.v[j], set_replicas, &p)) < 0)
                goto done;
        }
    }
    if (!found) {
        pl_buf b = PL_BUF_INIT;
        for (size_t j = 0; j < fsl.n; j++) {
            const pl_kz_fieldspec *fs = &fsl.v[j];
            pl_buf_printf(&b, "%s%s.%s.%s", j ? " " : "",
                          fs->kind && *fs->kind ? fs->kind : "[noKind]",
                          fs->version && *fs->version ? fs->version : "[noVer]",
                          fs->group && *fs->group ? fs->group : "[noGrp]");
        }
        error = pl_error_set(PL_EINVALID,
                             "resource with name %s does not match a config with the following "
                             "GVK [%s]",
                             name, nz(b.ptr));
        pl_buf_dispose(&b);
    }
done:
    pl_free(cand);
    pl_kz_fslist_dispose(&fsl);
    return error;
}

/* ---- ValueAddTransformer (api/filters/valueadd) --------------------------------------------- */

/* split "a/b/c" into parts; "\/" escapes a slash inside a part */
static int split_field_path(json_t **out, const char *path)
{
    json_t *parts = json_array();
    const char *p = path;

    if (!parts)
        return pl_error_set(PL_ENOMEM, "out of memory");
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        size_t n = json_array_size(parts);
        const char *prev = n ? json_string_value(json_array_get(parts, n - 1)) : NULL;
        size_t plen = prev ? strlen(prev) : 0;

        if (prev && plen && prev[plen - 1] == '\\') {
            pl_buf b = PL_BUF_INIT;
            pl_buf_put(&b, prev, plen - 1);
            pl_buf_putc(&b, '/');
            pl_buf_put(&b, p, len);
            json_array_set_new(parts, n - 1, json_string(nz(b.ptr)));
            pl_buf_dispose(&b);
        } else {
            json_array_append_new(parts, json_stringn(p, len));
        }
        if (!slash)
            break;
        p = slash + 1;
    }
    *out = parts;
    return 0;
}

static int is_index_part(const char *s)
{
    size_t n = strlen(s);
    return n >= 2 && s[0] == '[' && s[n - 1] == ']';
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    if (*s == '+' || *s == '-')
        s++;
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/*
 * kyaml PathGetter with Create(ScalarNode): walk (and create) the path. On success with
 * *found, the slot is parent[*key] (owned copy of the key) or parent[*idx] (when *key is NULL).
 * *found = 0 when an index part names no element (nothing is set then).
 */
static int path_lookup_create(json_t **parent, char **key, size_t *idx, int *found, json_t *obj,
                              const json_t *parts_in)
{
    json_t *parts = json_array(), *cur = obj, *e;
    size_t i, n;
    int error = 0;

    *parent = NULL;
    *key = NULL;
    *found = 0;
    if (!parts)
        return pl_error_set(PL_ENOMEM, "out of memory");
    /* cleanPath: trimmed, empty parts dropped */
    json_array_foreach(parts_in, i, e) {
        const char *s = json_string_value(e);
        size_t b = 0, l = strlen(s);
        while (b < l && (s[b] == ' ' || s[b] == '\t' || s[b] == '\n'))
            b++;
        while (l > b && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\n'))
            l--;
        if (l > b)
            json_array_append_new(parts, json_stringn(s + b, l - b));
    }
    n = json_array_size(parts);
    for (i = 0; i < n; i++) {
        const char *part = json_string_value(json_array_get(parts, i));
        const char *next = i + 1 < n ? json_string_value(json_array_get(parts, i + 1)) : NULL;
        int last = i + 1 == n;
        json_t *child;

        if (all_digits(part) || !strcmp(part, "-")) {
            long k;
            if (!json_is_array(cur))
                goto done; /* nothing found */
            k = !strcmp(part, "-") ? (long)json_array_size(cur) - 1 : strtol(part, NULL, 10);
            if (k < 0 || (size_t)k >= json_array_size(cur))
                goto done;
            if (last) {
                *parent = cur;
                *idx = (size_t)k;
                *found = 1;
                goto done;
            }
            cur = json_array_get(cur, (size_t)k);
            continue;
        }
        if (is_index_part(part)) {
            /* [name=value]: the matching element, appended when missing */
            char *inner = pl_strndup(part + 1, strlen(part) - 2);
            char *eq = inner ? strchr(inner, '=') : NULL;
            json_t *el = NULL, *x;
            size_t k = 0;
            if (!inner) {
                error = pl_error_set(PL_ENOMEM, "out of memory");
                goto done;
            }
            if (!eq) {
                pl_free(inner);
                error = pl_error_set(PL_EINVALID, "list path element must contain "
                                                  "fieldName=fieldValue for element to match");
                goto done;
            }
            *eq = '\0';
            if (!json_is_array(cur)) {
                pl_free(inner);
                error = pl_error_set(PL_EINVALID, "%s: expected a list", part);
                goto done;
            }
            json_array_foreach(cur, k, x) {
                json_t *f = *inner ? json_object_get(x, inner) : x;
                if (json_is_string(f) && !strcmp(json_string_value(f), eq + 1)) {
                    el = x;
                    break;
                }
            }
            if (!el) {
                el = *inner ? json_pack("{ss}", inner, eq + 1) : json_string(eq + 1);
                if (!el || json_array_append_new(cur, el) < 0) {
                    pl_free(inner);
                    error = pl_error_set(PL_ENOMEM, "out of memory");
                    goto done;
                }
                k = json_array_size(cur) - 1;
            }
            pl_free(inner);
            if (last) {
                *parent = cur;
                *idx = k;
                *found = 1;
                goto done;
            }
            cur = el;
            continue;
        }
        if (!json_is_object(cur)) {
            error = pl_error_set(PL_EINVALID, "wrong node kind at %s: expected MappingNode", part);
            goto done;
        }
        if (last) {
            if (!(*key = pl_strdup(part))) {
                error = pl_error_set(PL_ENOMEM, "out of memory");
                goto done;
            }
            *parent = cur;
            *found = 1;
            goto done;
        }
        child = json_object_get(cur, part);
        if (!child || json_is_null(child)) {
            child = next && is_index_part(next) ? json_array() : json_object();
            if (!child || json_object_set_new(cur, part, child) < 0) {
                error = pl_error_set(PL_ENOMEM, "out of memory");
                goto done;
            }
        }
        cur = child;
    }
done:
    json_decref(parts);
    return error;
}

/* kyaml filesys.InsertPathPart with Go's filepath.Join cleaning */
static void insert_path_part(pl_buf *out, const char *path, long pos, const char *part)
{
    json_t *parts = json_array();
    size_t n, i;
    int abs;
    json_t *joined;

    pl_buf_clear(out);
    if (!*part || !parts) {
        pl_buf_puts(out, path);
        json_decref(parts);
        return;
    }
    abs = path[0] == '/';
    if (*path) {
        const char *p = abs ? path + 1 : path;
        for (;;) {
            const char *s = strchr(p, '/');
            size_t len = s ? (size_t)(s - p) : strlen(p);
            if (len)
                json_array_append_new(parts, json_stringn(p, len));
            if (!s)
                break;
            p = s + 1;
        }
    }
    n = json_array_size(parts);
    if (pos < 0)
        pos = 0;
    if ((size_t)pos > n)
        pos = (long)n;
    json_array_insert_new(parts, (size_t)pos, json_string(part));
    joined = parts;
    if (abs)
        pl_buf_putc(out, '/');
    for (i = 0; i < json_array_size(joined); i++) {
        if (i)
            pl_buf_putc(out, '/');
        pl_buf_puts(out, json_string_value(json_array_get(joined, i)));
    }
    json_decref(parts);
}

static int value_add_one(pl_kz_res *r, const char *value, const char *field_path, long pos)
{
    json_t *parts = NULL, *parent = NULL, *cur;
    char *key = NULL;
    size_t idx = 0;
    int found = 0, error;
    pl_buf old = PL_BUF_INIT, nv = PL_BUF_INIT;
    json_t *s;

    if ((error = split_field_path(&parts, field_path)) < 0)
        return error;
    if ((error = path_lookup_create(&parent, &key, &idx, &found, r->obj, parts)) < 0)
        goto done;
    if (!found || !parent)
        goto done;
    cur = key ? json_object_get(parent, key) : json_array_get(parent, idx);
    if (json_is_object(cur) || json_is_array(cur)) {
        error = not_scalar(r, field_path, cur);
        goto done;
    }
    if (pos > 0) {
        scalar_text(&old, cur);
        insert_path_part(&nv, nz(old.ptr), pos - 1, value);
    } else {
        pl_buf_puts(&nv, value);
    }
    if (!(s = json_string(nz(nv.ptr)))) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if (key)
        error = json_object_set_new(parent, key, s) < 0 ? pl_error_set(PL_ENOMEM, "out of memory")
                                                        : 0;
    else
        error = json_array_set_new(parent, idx, s) < 0 ? pl_error_set(PL_ENOMEM, "out of memory")
                                                       : 0;
done:
    pl_free(key);
    pl_buf_dispose(&old);
    pl_buf_dispose(&nv);
    json_decref(parts);
    return error;
}

static void trim_space(pl_buf *out, const char *s)
{
    size_t b = 0, e = strlen(s);
    while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\n' || s[b] == '\r' ||
                     s[b] == '\v' || s[b] == '\f'))
        b++;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\n' ||
                     s[e - 1] == '\r' || s[e - 1] == '\v' || s[e - 1] == '\f'))
        e--;
    pl_buf_clear(out);
    pl_buf_put(out, s + b, e - b);
}

int pl_kz_t_value_add(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    json_t *targets = NULL, *t, *docs = NULL;
    pl_buf value = PL_BUF_INIT;
    const char *file = cfg_str(cfg, "targetFilePath");
    size_t i;
    int error = 0;

    trim_space(&value, nz(cfg_str(cfg, "value")));
    if (!value.len) {
        /* default: the base name of the kustomization root */
        const char *dir = ctx && ctx->dir ? ctx->dir : "";
        size_t l = strlen(dir);
        while (l > 1 && dir[l - 1] == '/')
            l--;
        {
            const char *b = dir + l;
            while (b > dir && b[-1] != '/')
                b--;
            pl_buf_clear(&value);
            if (l == 0)
                pl_buf_puts(&value, ".");
            else if (l == 1 && dir[0] == '/')
                pl_buf_puts(&value, "/");
            else
                pl_buf_put(&value, b, (size_t)(dir + l - b));
        }
    }
    if (!(targets = json_array())) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if (json_is_array(cfg_get(cfg, "targets")))
        json_array_extend(targets, cfg_get(cfg, "targets"));
    if (file && *file) {
        if ((error = pl_kz_load_yaml(ctx, file, &docs)) < 0)
            goto done;
        if (json_is_array(cfg_get(json_array_get(docs, 0), "targets")))
            json_array_extend(targets, cfg_get(json_array_get(docs, 0), "targets"));
    }
    if (json_array_size(targets) == 0) {
        error = pl_error_set(PL_EINVALID, "must specify at least one target");
        goto done;
    }
    json_array_foreach(targets, i, t) {
        const char *fp = cfg_str(t, "fieldPath");
        json_int_t pos = json_integer_value(cfg_get(t, "filePathPosition"));
        if (!fp || !*fp) {
            error = pl_error_set(PL_EINVALID, "fieldPath cannot be empty");
            goto done;
        }
        if (pos < 0) {
            error = pl_error_set(PL_EINVALID, "value of FilePathPosition (%" JSON_INTEGER_FORMAT
                                              ") cannot be negative", pos);
            goto done;
        }
    }
    json_array_foreach(targets, i, t) {
        const char *fp = cfg_str(t, "fieldPath");
        json_t *sel = cfg_get(t, "selector");
        long pos = (long)json_integer_value(cfg_get(t, "filePathPosition"));

        for (size_t k = 0; k < m->n; k++) {
            pl_kz_res *r = m->v[k];
            if (sel && !json_is_null(sel)) {
                int match = pl_kz_selector_match(sel, r);
                if (match < 0) {
                    error = match;
                    goto done;
                }
                if (!match)
                    continue;
            }
            if (!strcmp(fp, "metadata/namespace"))
                error = namespace_filter(r, nz(value.ptr), NULL, NULL, 0, SUBJECTS_DEFAULT_ONLY,
                                         NULL, NULL);
            else
                error = value_add_one(r, nz(value.ptr), fp, pos);
            if (error < 0)
                goto done;
        }
    }
done:
    json_decref(docs);
    json_decref(targets);
    pl_buf_dispose(&value);
    return error;
}

/* ---- SortOrderTransformer and the legacy order ----------------------------------------------- */

typedef struct sort_key {
    pl_kz_res *r;
    int order;         /* position in orderFirst (negative) / orderLast (positive), else 0 */
    const char *g, *v; /* parsed group and version */
    const char *gvk;   /* "group_version_kind" with ~G/~V/~K */
    const char *kind;
    const char *id; /* "ns|name" with ~X/~N */
    char *mem;      /* owns g, v, gvk and id */
    int cls;        /* equal for equal (g, v, kind); -1 when not numbered (compare strings) */
} sort_key;

static int same_gvk(const sort_key *a, const sort_key *b)
{
    if (a->cls >= 0 && b->cls >= 0)
        return a->cls == b->cls;
    return !strcmp(a->g, b->g) && !strcmp(a->v, b->v) && !strcmp(a->kind, b->kind);
}

static int key_less(const sort_key *a, const sort_key *b)
{
    int c;
    if (!same_gvk(a, b)) {
        if (a->order != b->order)
            return a->order < b->order;
        return strcmp(a->gvk, b->gvk) < 0;
    }
    c = strcmp(a->id, b->id);
    return c < 0;
}

static void merge_sort(sort_key *v, sort_key *tmp, size_t n)
{
    size_t mid, i, j, k;
    if (n < 2)
        return;
    mid = n / 2;
    merge_sort(v, tmp, mid);
    merge_sort(v + mid, tmp, n - mid);
    i = 0;
    j = mid;
    k = 0;
    while (i < mid && j < n) {
        /* take from the right only when strictly less: stable */
        if (key_less(&v[j], &v[i]))
            tmp[k++] = v[j++];
        else
            tmp[k++] = v[i++];
    }
    while (i < mid)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof(*v));
}

static int list_index(const json_t *list, const char *kind, int *out)
{
    /* the map of newLegacyIDSorter: a later duplicate overrides an earlier one */
    size_t i;
    json_t *e;
    int found = 0;
    json_array_foreach(list, i, e) {
        if (json_is_string(e) && !strcmp(json_string_value(e), kind)) {
            *out = (int)i;
            found = 1;
        }
    }
    return found;
}

/*
 * The distinct (group, version, kind) seen so far, with their order: resources of a build
 * share a handful of kinds, so each kind's position in the order lists is looked up once and
 * comparisons of keys of the same gvk test one integer. Past MAX_CLASSES distinct gvks the
 * remaining keys are compared by their strings (cls -1).
 */
#define MAX_CLASSES 64
typedef struct gvk_classes {
    const sort_key *rep[MAX_CLASSES];
    size_t n;
} gvk_classes;

static int key_class(gvk_classes *c, const sort_key *k)
{
    for (size_t i = 0; i < c->n; i++) {
        const sort_key *r = c->rep[i];
        if (!strcmp(r->kind, k->kind) && !strcmp(r->v, k->v) && !strcmp(r->g, k->g))
            return (int)i;
    }
    return -1;
}

static int legacy_sort(pl_kz_resmap *m, const json_t *first, const json_t *last)
{
    sort_key *keys = NULL, *tmp = NULL;
    size_t n = m->n, i;
    gvk_classes classes;
    int error = 0;

    classes.n = 0;

    if (n < 2)
        return 0;
    keys = pl_calloc(n, sizeof(*keys));
    tmp = pl_calloc(n, sizeof(*tmp));
    if (!keys || !tmp) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < n; i++) {
        sort_key *k = &keys[i];
        pl_kz_res *r = m->v[i];
        gvref gv = resid_gv(pl_kz_res_api_version(r));
        const char *ns = pl_kz_res_namespace(r), *name = pl_kz_res_name(r);
        int idx;

        k->r = r;
        k->kind = pl_kz_res_kind(r);
        k->order = 0;
        k->cls = -1;
        /* one allocation: g \0 v \0 g_v_k \0 ns|name \0 */
        {
            const char *gs = gv.glen ? NULL : "~G", *vs = *gv.v ? gv.v : "~V";
            const char *ks = *k->kind ? k->kind : "~K", *nss = *ns ? ns : "~X";
            const char *nms = *name ? name : "~N";
            size_t gl = gv.glen, vl = strlen(gv.v), vsl = strlen(vs), kl = strlen(ks);
            size_t nsl = strlen(nss), nml = strlen(nms), o = 0;
            size_t total = gl + 1 + vl + 1 + (gs ? 2 : gl) + 1 + vsl + 1 + kl + 1 + nsl + 1 +
                           nml + 1;
            char *p = k->mem = pl_malloc(total);
            if (!p) {
                error = pl_error_set(PL_ENOMEM, "out of memory");
                goto done;
            }
            k->g = p + o;
            memcpy(p + o, gv.g, gl);
            o += gl;
            p[o++] = '\0';
            k->v = p + o;
            memcpy(p + o, gv.v, vl + 1);
            o += vl + 1;
            k->gvk = p + o;
            memcpy(p + o, gs ? gs : gv.g, gs ? 2 : gl);
            o += gs ? 2 : gl;
            p[o++] = '_';
            memcpy(p + o, vs, vsl);
            o += vsl;
            p[o++] = '_';
            memcpy(p + o, ks, kl + 1);
            o += kl + 1;
            k->id = p + o;
            memcpy(p + o, nss, nsl);
            o += nsl;
            p[o++] = '|';
            memcpy(p + o, nms, nml + 1);
        }
        /* the order depends on the kind only */
        if ((k->cls = key_class(&classes, k)) >= 0) {
            k->order = classes.rep[k->cls]->order;
            continue;
        }
        if (list_index(last, k->kind, &idx))
            k->order = 1 + idx;
        if (list_index(first, k->kind, &idx))
            k->order = -(int)json_array_size(first) + idx;
        if (classes.n < MAX_CLASSES) {
            k->cls = (int)classes.n;
            classes.rep[classes.n++] = k;
        }
    }
    merge_sort(keys, tmp, n);
    for (i = 0; i < n; i++)
        m->v[i] = keys[i].r;
done:
    for (i = 0; keys && i < n; i++)
        pl_free(keys[i].mem);
    pl_free(keys);
    pl_free(tmp);
    return error;
}

/* api/internal/builtins/SortOrderTransformer.go defaultOrderFirst / defaultOrderLast */
static json_t *default_order(int last)
{
    if (last)
        return json_pack("[ss]", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration");
    return json_pack("[ssssssssssssssssssssss]", "Namespace", "ResourceQuota", "StorageClass",
                     "CustomResourceDefinition", "ServiceAccount", "PodSecurityPolicy", "Role",
                     "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ConfigMap", "Secret",
                     "Endpoints", "Service", "LimitRange", "PriorityClass", "PersistentVolume",
                     "PersistentVolumeClaim", "Deployment", "StatefulSet", "CronJob",
                     "PodDisruptionBudget");
}

void pl_kz_sort_legacy(pl_kz_resmap *m)
{
    json_t *first = default_order(0), *last = default_order(1);

    /* on allocation failure the order is left as it is (nothing to report through void) */
    if (first && last)
        (void)legacy_sort(m, first, last);
    json_decref(first);
    json_decref(last);
}

int pl_kz_t_sort_order(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    json_t *opts = cfg_get(cfg, "sortOptions");
    json_t *legacy = cfg_get(opts, "legacySortOptions");
    const char *order = "fifo";
    json_t *first = NULL, *last = NULL;
    int error;

    (void)ctx;
    if (opts && !json_is_null(opts))
        order = nz(cfg_str(opts, "order"));
    if (strcmp(order, "fifo") && strcmp(order, "legacy"))
        return pl_error_set(PL_EINVALID,
                            "the field 'sortOptions.order' must be one of [fifo, legacy]");
    if (!strcmp(order, "fifo")) {
        if (legacy && !json_is_null(legacy))
            return pl_error_set(PL_EINVALID,
                                "the field 'sortOptions.legacySortOptions' is set but the selected "
                                "sort order is 'fifo', not 'legacy'");
        return 0;
    }
    if (legacy && !json_is_null(legacy)) {
        first = json_incref(cfg_get(legacy, "orderFirst"));
        last = json_incref(cfg_get(legacy, "orderLast"));
        if (!first)
            first = json_array();
        if (!last)
            last = json_array();
    } else {
        first = default_order(0);
        last = default_order(1);
    }
    if (!first || !last)
        error = pl_error_set(PL_ENOMEM, "out of memory");
    else
        error = legacy_sort(m, first, last);
    json_decref(first);
    json_decref(last);
    return error;
}

static int legacy_order_transformer(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    (void)ctx;
    (void)cfg;
    pl_kz_sort_legacy(m);
    return 0;
}

/* ---- IAMPolicyGenerator (api/filters/iampolicygenerator) ------------------------------------- */

static int iam_policy_generator(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    const char *cloud = nz(cfg_str(cfg, "cloud"));
    json_t *ks = cfg_get(cfg, "kubernetesService");
    json_t *sa = cfg_get(cfg, "serviceAccount");
    pl_kz_resmap gen;
    pl_buf ann = PL_BUF_INIT;
    json_t *obj;
    int error;

    (void)ctx;
    if (strcmp(cloud, "gke"))
        return pl_error_set(PL_EINVALID, "IAMPolicyGenerator: cloud provider %s not supported yet",
                            cloud);
    pl_buf_printf(&ann, "%s@%s.iam.gserviceaccount.com", nz(cfg_str(sa, "name")),
                  nz(cfg_str(sa, "projectId")));
    obj = json_pack("{ss ss s{s{ss} ss}}", "apiVersion", "v1", "kind", "ServiceAccount",
                    "metadata", "annotations", "iam.gke.io/gcp-service-account", nz(ann.ptr),
                    "name", nz(cfg_str(ks, "name")));
    pl_buf_dispose(&ann);
    if (!obj)
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (cfg_str(ks, "namespace") && *cfg_str(ks, "namespace"))
        json_object_set_new(json_object_get(obj, "metadata"), "namespace",
                            json_string(cfg_str(ks, "namespace")));
    pl_kz_resmap_init(&gen);
    if ((error = pl_kz_resmap_append(&gen, pl_kz_res_new_take(obj))) < 0 ||
        (error = pl_kz_resmap_absorb(m, &gen)) < 0) {
        pl_kz_resmap_dispose(&gen);
        return error;
    }
    pl_kz_resmap_dispose(&gen);
    return 0;
}

/* ---- dispatch -------------------------------------------------------------------------------- */

typedef int (*builtin_fn)(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg);

/*
 * `user` marks the kinds a `transformers:`/`generators:` entry may name (kustomize's
 * builtinhelpers Generator/TransformerFactories); SortOrderTransformer is only reachable from
 * the kustomization's sortOptions.
 */
static const struct {
    const char *kind;
    builtin_fn fn;
    int generator;
    int user;
} builtins[] = {
    {"AnnotationsTransformer", pl_kz_t_annotations, 0, 1},
    {"ConfigMapGenerator", pl_kz_g_configmap, 1, 1},
    {"HashTransformer", pl_kz_t_hash, 0, 1},
    {"IAMPolicyGenerator", iam_policy_generator, 1, 1},
    {"ImageTagTransformer", pl_kz_t_images, 0, 1},
    {"LabelTransformer", pl_kz_t_labels, 0, 1},
    {"LegacyOrderTransformer", legacy_order_transformer, 0, 1},
    {"NamespaceTransformer", pl_kz_t_namespace, 0, 1},
    {"PatchJson6902Transformer", pl_kz_t_patch_json6902, 0, 1},
    {"PatchStrategicMergeTransformer", pl_kz_t_patch_sm, 0, 1},
    {"PatchTransformer", pl_kz_t_patch, 0, 1},
    {"PrefixSuffixTransformer", pl_kz_t_prefix_suffix, 0, 1},
    {"PrefixTransformer", pl_kz_t_prefix_suffix, 0, 1},
    {"SuffixTransformer", pl_kz_t_prefix_suffix, 0, 1},
    {"ReplacementTransformer", pl_kz_t_replacements, 0, 1},
    {"ReplicaCountTransformer", pl_kz_t_replicas, 0, 1},
    {"SecretGenerator", pl_kz_g_secret, 1, 1},
    {"SortOrderTransformer", pl_kz_t_sort_order, 0, 0},
    {"ValueAddTransformer", pl_kz_t_value_add, 0, 1},
};

static int find_builtin(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof(builtins) / sizeof(builtins[0]); i++)
        if (!strcmp(builtins[i].kind, kind))
            return (int)i;
    return -1;
}

int pl_kz_builtin_is_generator(const char *kind)
{
    int i = find_builtin(kind);
    return (i >= 0 && builtins[i].generator) ||
           (kind && !strcmp(kind, "HelmChartInflationGenerator"));
}

/* KRM function annotations (config.kubernetes.io/function and its legacy spelling) */
static const char *function_kind(const json_t *config)
{
    json_t *ann = pl_json_path(config, "metadata", "annotations", NULL);
    const char *spec = obj_str(ann, "config.kubernetes.io/function");

    if (!spec)
        spec = obj_str(ann, "config.k8s.io/function");
    if (!spec)
        return NULL;
    if (strstr(spec, "exec:") || strstr(spec, "exec\":"))
        return "exec";
    if (strstr(spec, "starlark"))
        return "starlark";
    if (strstr(spec, "container"))
        return "container";
    return "KRM function";
}

static int unsupported(const json_t *config)
{
    const char *kind = nz(cfg_str(config, "kind"));
    const char *name = nz(pl_json_str(config, "metadata", "name", NULL));
    const char *fn = function_kind(config);

    if (fn)
        return pl_error_set(PL_EINVALID,
                            "%s/%s: %s function plugins are not supported (only builtin plugins "
                            "are)",
                            kind, name, fn);
    if (!strcmp(kind, "HelmChartInflationGenerator"))
        return pl_error_set(PL_EINVALID,
                            "%s/%s: helm chart inflation (HelmChartInflationGenerator, helmCharts) "
                            "is not supported",
                            kind, name);
    return 0;
}

int pl_kz_builtin_check_user(const json_t *config)
{
    const char *av, *kind;
    int error, i;

    if (!json_is_object(config))
        return pl_error_set(PL_EINVALID, "plugin config must be a map");
    if ((error = unsupported(config)) < 0)
        return error;
    av = nz(cfg_str(config, "apiVersion"));
    kind = nz(cfg_str(config, "kind"));
    if (strcmp(av, "builtin"))
        return pl_error_set(PL_EINVALID,
                            "%s.%s/%s: external plugins are not supported: only builtin plugins "
                            "(apiVersion: builtin) are",
                            kind, av, nz(pl_json_str(config, "metadata", "name", NULL)));
    i = find_builtin(kind);
    if (i < 0 || !builtins[i].user)
        /* kustomize's message names the gvk as Kind.Version.Group, version "builtin" */
        return pl_error_set(PL_EINVALID, "unable to load builtin %s.builtin.[noGrp]",
                            *kind ? kind : "[noKind]");
    return 0;
}

int pl_kz_builtin_run(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *config)
{
    const char *kind;
    int error, i;

    if (!json_is_object(config))
        return pl_error_set(PL_EINVALID, "builtin plugin config must be a map");
    if ((error = unsupported(config)) < 0)
        return error;
    kind = cfg_str(config, "kind");
    i = find_builtin(kind);
    if (i < 0)
        return pl_error_set(PL_EINVALID,
                            "unknown plugin kind '%s': only builtin plugins are supported",
                            kind ? kind : "");
    return builtins[i].fn(ctx, m, config);
}
