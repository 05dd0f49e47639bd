/*
 * maas_migrate.c - mode migrate (SPEC §4): the legacy tier model (tier ConfigMap, gateway
 * TokenRateLimitPolicy entries scoped to a tier, tier-annotated LLMInferenceServices) turned
 * into MaaSModelRef / MaaSAuthPolicy / MaaSSubscription objects.
 *
 * Owner: the migrate helper. The lint rules that also look at the legacy inputs (MAAS004,
 * MAAS005, MAAS009, MAAS010, MAAS035 ...) belong to maas_lint.c, which runs in every mode; this
 * file raises only the migration rules MAAS040-MAAS044 (§5: "raised only in migrate").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maas.h"

#define ANN_TIERS "alpha.maas.opendatahub.io/tiers"
#define LBL_GENERATED "migration.maas.opendatahub.io/generated"
#define LBL_FROM_TIER "migration.maas.opendatahub.io/from-tier"
#define ANN_ORIGINAL "migration.maas.opendatahub.io/original-tier"
#define ANN_TIMESTAMP "migration.maas.opendatahub.io/timestamp"
#define MAAS_API_VERSION "maas.opendatahub.io/v1alpha1"
#define TIER_CM_NAME "tier-to-group-mapping"
#define MAX_LIMIT 1000000000LL
/* §2.4: the controller skips windows over 366 days; a converted `Nd` must stay within it */
#define MAX_WINDOW_HOURS 8784

typedef struct tier {
    const char *name;    /* borrowed from the parsed tiers */
    const json_t *level; /* borrowed; NULL when absent */
    json_t *groups;      /* owned: unique group names, ConfigMap order */
    size_t *models;      /* owned: indexes into the sorted model table */
    size_t nmodels;
    int has_crs;   /* §4.2 step 1: models and groups */
    int has_limit; /* some TRLP entry is scoped to this tier */
    json_t *raw;   /* owned: array of {rate, policy} in sorted key order */
    json_t *rates; /* owned: Rates(t) after §4.2 step 2, NULL when unusable */
} tier;

typedef struct model {
    const json_t *obj;
    const char *ns;
    const char *name;
} model;

typedef struct limit_rec {
    size_t tier;
    const char *key;
    const char *policy_ns;
    const char *policy_name;
    const json_t *policy;
    const json_t *entry;
} limit_rec;

typedef struct migration {
    const json_t *objects;
    const json_t *config;
    json_t *diags;
    const json_t *cm;
    json_t *parsed; /* owned: pl_maas_parse_tiers output */
    tier *tiers;
    size_t ntiers;
    model *models;
    size_t nmodels;
    unsigned char *grants; /* nmodels x ntiers: model m may be called by tier t */
    json_t *existing;      /* owned: "Kind/ns/name" -> input object (borrowed) */
    const char *timestamp; /* borrowed; NULL when not configured */
    int variant_b;         /* tiers come from data.mapping.yaml (§1.1 B) */
} migration;

static const char *str_or(const char *s, const char *dflt)
{
    return s ? s : dflt;
}

static const char *api_group(const json_t *obj, char *buf, size_t size)
{
    const char *av = str_or(pl_json_str(obj, "apiVersion", NULL), "");
    const char *slash = strchr(av, '/');
    size_t n = slash ? (size_t)(slash - av) : 0;

    if (n >= size)
        n = size - 1;
    memcpy(buf, av, n);
    buf[n] = '\0';
    return buf;
}

static int is_kind(const json_t *obj, const char *group, const char *kind)
{
    return pl_maas_is(obj, group, kind);
}

/*
 * The tier ConfigMap of §1.1: the one in legacyMaasApiNamespace when several exist (the others
 * are MAAS007, raised by lint); otherwise the only one, or the first by namespace, so a tree
 * that keeps it elsewhere (seed 001's `maas`) still migrates.
 */
static const json_t *find_tier_cm(const json_t *objects, const char *legacy_ns)
{
    const json_t *best = NULL;
    size_t i;
    json_t *o;

    json_array_foreach (objects, i, o) {
        const char *name = pl_json_str(o, "metadata", "name", NULL);
        const char *ns = str_or(pl_json_str(o, "metadata", "namespace", NULL), "");
        if (!is_kind(o, "", "ConfigMap") || !name || strcmp(name, TIER_CM_NAME))
            continue;
        if (!strcmp(ns, legacy_ns))
            return o;
        if (!best || strcmp(ns, str_or(pl_json_str(best, "metadata", "namespace", NULL), "")) < 0)
            best = o;
    }
    return best;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * §1.4: a predicate scopes a limit to tier t when, trimmed, it reads `auth.identity.tier == "t"`
 * (single quotes allowed, any spacing around `==`). Sets the name and its length to t and
 * returns 1.
 */
static int predicate_tier(const char **name, size_t *len, const char *pred)
{
    static const char lhs[] = "auth.identity.tier";
    const char *p = pred, *end;
    char q;

    while (is_space(*p))
        p++;
    if (strncmp(p, lhs, sizeof(lhs) - 1))
        return 0;
    p += sizeof(lhs) - 1;
    while (is_space(*p))
        p++;
    if (p[0] != '=' || p[1] != '=')
        return 0;
    p += 2;
    while (is_space(*p))
        p++;
    if (*p != '"' && *p != '\'')
        return 0;
    q = *p++;
    end = strchr(p, q);
    if (!end)
        return 0;
    *name = p;
    *len = (size_t)(end - p);
    for (p = end + 1; is_space(*p); p++)
        ;
    return *p == '\0';
}

static long find_tier(const migration *mg, const char *name, size_t len)
{
    for (size_t t = 0; t < mg->ntiers; t++)
        if (strlen(mg->tiers[t].name) == len && !memcmp(mg->tiers[t].name, name, len))
            return (long)t;
    return -1;
}

static int limit_rec_cmp(const void *a, const void *b)
{
    const limit_rec *x = a, *y = b;
    int c;

    if (x->tier != y->tier)
        return x->tier < y->tier ? -1 : 1;
    if ((c = strcmp(x->key, y->key)))
        return c;
    if ((c = strcmp(x->policy_ns, y->policy_ns)))
        return c;
    return strcmp(x->policy_name, y->policy_name);
}

/* Every TRLP limit entry scoped to a known tier, from one of the three limit maps. */
static int collect_limits(limit_rec **recs, size_t *n, size_t *cap, const migration *mg,
                          const json_t *policy, const json_t *limits)
{
    const char *key;
    json_t *entry;

    if (!json_is_object(limits))
        return 0;
    json_object_foreach ((json_t *)limits, key, entry) {
        json_t *when = json_object_get(entry, "when");
        size_t i;
        json_t *w;
        long seen = -1;

        json_array_foreach (when, i, w) {
            const char *pred = pl_json_str(w, "predicate", NULL), *tn;
            size_t tl;
            long t;
            if (!pred || !predicate_tier(&tn, &tl, pred) || (t = find_tier(mg, tn, tl)) < 0 ||
                t == seen)
                continue;
            seen = t;
            if (*n == *cap) {
                size_t ncap = *cap ? *cap * 2 : 16;
                limit_rec *nr = pl_realloc(*recs, ncap * sizeof(**recs));
                if (!nr)
                    return pl_error_set(PL_ENOMEM, "out of memory");
                *recs = nr;
                *cap = ncap;
            }
            (*recs)[*n].tier = (size_t)t;
            (*recs)[*n].key = key;
            (*recs)[*n].policy_ns = str_or(pl_json_str(policy, "metadata", "namespace", NULL), "");
            (*recs)[*n].policy_name = str_or(pl_json_str(policy, "metadata", "name", NULL), "");
            (*recs)[*n].policy = policy;
            (*recs)[*n].entry = entry;
            (*n)++;
        }
    }
    return 0;
}

/*
 * §1.4: the token limit of tier t is the concatenation of the `rates` of every gateway TRLP
 * entry scoped to t, in sorted key order (ties between policies by namespace/name). Only
 * TokenRateLimitPolicies count: request-count RateLimitPolicies have no successor (MAAS035).
 */
static int read_limits(migration *mg)
{
    const char *gw_name = pl_maas_cfg_str(mg->config, "gateway.name");
    const char *gw_ns = pl_maas_cfg_str(mg->config, "gateway.namespace");
    limit_rec *recs = NULL;
    size_t n = 0, cap = 0, i;
    json_t *o;
    int error = 0;

    json_array_foreach (mg->objects, i, o) {
        const char *ns = str_or(pl_json_str(o, "metadata", "namespace", NULL), "");
        const char *tk = pl_json_str(o, "spec", "targetRef", "kind", NULL);
        const char *tn = pl_json_str(o, "spec", "targetRef", "name", NULL);
        if (!is_kind(o, "kuadrant.io", "TokenRateLimitPolicy") || strcmp(ns, gw_ns) || !tk ||
            strcmp(tk, "Gateway") || !tn || strcmp(tn, gw_name))
            continue;
        if ((error = collect_limits(&recs, &n, &cap, mg, o,
                                    pl_json_path(o, "spec", "limits", NULL))) < 0 ||
            (error = collect_limits(&recs, &n, &cap, mg, o,
                                    pl_json_path(o, "spec", "defaults", "limits", NULL))) < 0 ||
            (error = collect_limits(&recs, &n, &cap, mg, o,
                                    pl_json_path(o, "spec", "overrides", "limits", NULL))) < 0)
            goto done;
    }
    if (n)
        qsort(recs, n, sizeof(*recs), limit_rec_cmp);
    for (i = 0; i < n; i++) {
        tier *t = &mg->tiers[recs[i].tier];
        json_t *rates = json_object_get(recs[i].entry, "rates");
        size_t j;
        json_t *r;
        t->has_limit = 1;
        json_array_foreach (rates, j, r) {
            if (json_array_append_new(t->raw, json_pack("{s:O,s:O}", "rate", r, "policy",
                                                        (json_t *)recs[i].policy)) < 0) {
                error = pl_error_set(PL_ENOMEM, "out of memory");
                goto done;
            }
        }
    }
done:
    pl_free(recs);
    return error;
}

static int model_cmp(const void *a, const void *b)
{
    const model *x = a, *y = b;
    int c = strcmp(x->ns, y->ns);

    return c ? c : strcmp(x->name, y->name);
}

/*
 * §4.1 models: every LLMInferenceService with a parseable tier annotation. '[]' grants every
 * tier, a list grants the tiers of T it names (unknown names are MAAS005, malformed JSON MAAS004,
 * both raised by lint); no annotation means not exposed today (MAAS040) and not migrated.
 */
static int read_models(migration *mg)
{
    size_t i, n = 0;
    json_t *o;

    json_array_foreach (mg->objects, i, o) {
        if (is_kind(o, "serving.kserve.io", "LLMInferenceService") &&
            pl_json_str(o, "metadata", "name", NULL))
            n++;
    }
    mg->models = pl_calloc(n ? n : 1, sizeof(*mg->models));
    mg->grants = pl_calloc((n ? n : 1) * (mg->ntiers ? mg->ntiers : 1), 1);
    if (!mg->models || !mg->grants)
        return pl_error_set(PL_ENOMEM, "out of memory");
    json_array_foreach (mg->objects, i, o) {
        const char *name = pl_json_str(o, "metadata", "name", NULL);
        const json_t *ann;
        if (!is_kind(o, "serving.kserve.io", "LLMInferenceService") || !name)
            continue;
        ann = pl_json_path(o, "metadata", "annotations", ANN_TIERS, NULL);
        if (!ann) {
            char *ref = pl_maas_objref(o);
            int error = pl_maas_diag(mg->diags, "MAAS040", "info", ref ? ref : name,
                                     "no %s annotation: the model is not exposed through MaaS "
                                     "today and is not migrated",
                                     ANN_TIERS);
            pl_free(ref);
            if (error < 0)
                return error;
            continue;
        }
        mg->models[mg->nmodels].obj = o;
        mg->models[mg->nmodels].name = name;
        /* a namespaced object without a namespace lands in `default` when applied as is */
        mg->models[mg->nmodels].ns =
            str_or(pl_json_str(o, "metadata", "namespace", NULL), "default");
        mg->nmodels++;
    }
    if (mg->nmodels) {
        size_t kept = 1;
        qsort(mg->models, mg->nmodels, sizeof(*mg->models), model_cmp);
        /* one model per identity: a tree listing the same object twice migrates it once */
        for (size_t m = 1; m < mg->nmodels; m++)
            if (model_cmp(&mg->models[kept - 1], &mg->models[m]) != 0)
                mg->models[kept++] = mg->models[m];
        mg->nmodels = kept;
    }
    for (size_t m = 0; m < mg->nmodels; m++) {
        const char *text =
            pl_json_str(mg->models[m].obj, "metadata", "annotations", ANN_TIERS, NULL);
        json_t *list = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
        int ok = json_is_array(list);
        size_t j;
        json_t *e;

        json_array_foreach (list, j, e) {
            if (!json_is_string(e))
                ok = 0;
        }
        if (ok && json_array_size(list) == 0) {
            memset(mg->grants + m * mg->ntiers, 1, mg->ntiers);
        } else if (ok) {
            json_array_foreach (list, j, e) {
                long t = find_tier(mg, json_string_value(e), json_string_length(e));
                if (t >= 0)
                    mg->grants[m * mg->ntiers + (size_t)t] = 1;
            }
        }
        json_decref(list);
    }
    return 0;
}

/* `out` gets the CRD form of a legacy window: 0 kept, 1 converted from days, -1 unusable. */
static int convert_window(char *out, size_t size, const char *w)
{
    size_t len = strlen(w), digits = 0;
    long long n = 0;

    while (digits < len && w[digits] >= '0' && w[digits] <= '9') {
        if (n < 100000)
            n = n * 10 + (w[digits] - '0');
        digits++;
    }
    if (digits == 0 || digits + 1 != len)
        return -1;
    /* CRD pattern ^[1-9]\d{0,3}(s|m|h)$ */
    if ((w[digits] == 's' || w[digits] == 'm' || w[digits] == 'h') && w[0] != '0' && digits <= 4) {
        snprintf(out, size, "%s", w);
        return 0;
    }
    if (w[digits] == 'd' && n >= 1 && n * 24 <= MAX_WINDOW_HOURS) {
        snprintf(out, size, "%lldh", n * 24);
        return 1;
    }
    return -1;
}

/* One MAAS042 per gateway policy (§5: a rule reports an object at most once). */
static int note_window(json_t *notes, const json_t *policy, const char *severity, const char *msg)
{
    char *ref = pl_maas_objref(policy);
    json_t *n;
    int error = 0;

    if (!ref)
        return pl_error_set(PL_ENOMEM, "out of memory");
    n = json_object_get(notes, ref);
    if (!n) {
        n = json_pack("{s:s,s:[]}", "severity", severity, "messages");
        if (!n || json_object_set_new(notes, ref, n) < 0)
            error = pl_error_set(PL_ENOMEM, "out of memory");
    } else if (!strcmp(severity, "error")) {
        json_object_set_new(n, "severity", json_string("error"));
    }
    if (!error && json_array_append_new(json_object_get(n, "messages"), json_string(msg)) < 0)
        error = pl_error_set(PL_ENOMEM, "out of memory");
    pl_free(ref);
    return error;
}

/*
 * §4.2 step 2: Rates(t). Windows in the CRD pattern are kept, `Nd` becomes hours (warning),
 * anything else or a limit outside the CRD range 1..10^9 is an error and t gets no subscription.
 */
static int convert_rates(migration *mg, tier *t, json_t *notes)
{
    json_t *rates = json_array(), *item;
    size_t i;
    int bad = 0, error = 0;
    char msg[512];

    if (!rates)
        return pl_error_set(PL_ENOMEM, "out of memory");
    json_array_foreach (t->raw, i, item) {
        const json_t *rate = json_object_get(item, "rate");
        const json_t *policy = json_object_get(item, "policy");
        const json_t *lim = json_object_get(rate, "limit");
        const char *win = json_string_value(json_object_get(rate, "window"));
        char conv[32];
        int wc = win ? convert_window(conv, sizeof(conv), win) : -1;
        if (!json_is_integer(lim) || json_integer_value(lim) < 1 ||
            json_integer_value(lim) > MAX_LIMIT) {
            char lbuf[64];
            if (json_is_integer(lim))
                snprintf(lbuf, sizeof(lbuf), "%lld", (long long)json_integer_value(lim));
            else
                snprintf(lbuf, sizeof(lbuf), "%s",
                         json_is_null(lim) || !lim ? "missing" : "not an integer");
            snprintf(msg, sizeof(msg),
                     "tier %s: token limit %s is outside the subscription range 1..1000000000; "
                     "no MaaSSubscription generated",
                     t->name, lbuf);
            bad = 1;
            if ((error = note_window(notes, policy, "error", msg)) < 0)
                break;
            continue;
        }
        if (wc < 0) {
            snprintf(msg, sizeof(msg),
                     "tier %s: window %s cannot be expressed as a subscription window "
                     "(^[1-9][0-9]{0,3}(s|m|h)$, at most %dh); no MaaSSubscription generated",
                     t->name, win ? win : "(missing)", MAX_WINDOW_HOURS);
            bad = 1;
            if ((error = note_window(notes, policy, "error", msg)) < 0)
                break;
            continue;
        }
        if (wc == 1) {
            snprintf(msg, sizeof(msg), "tier %s: window %s converted to %s (the CRD has no days)",
                     t->name, win, conv);
            if ((error = note_window(notes, policy, "warning", msg)) < 0)
                break;
        }
        if (json_array_append_new(rates, json_pack("{s:I,s:s}", "limit",
                                                   (json_int_t)json_integer_value(lim), "window",
                                                   conv)) < 0) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            break;
        }
    }
    if (error < 0 || bad || json_array_size(rates) == 0) {
        json_decref(rates);
        return error;
    }
    t->rates = rates;
    (void)mg;
    return 0;
}

static int emit_notes(migration *mg, json_t *notes)
{
    const char *ref;
    json_t *n;

    json_object_foreach (notes, ref, n) {
        pl_buf msg = PL_BUF_INIT;
        size_t i;
        json_t *m;
        int error;
        json_array_foreach (json_object_get(n, "messages"), i, m) {
            if (i)
                pl_buf_puts(&msg, "; ");
            pl_buf_puts(&msg, json_string_value(m));
        }
        error =
            pl_maas_diag(mg->diags, "MAAS042", json_string_value(json_object_get(n, "severity")),
                         ref, "%s", msg.ptr ? msg.ptr : "");
        pl_buf_dispose(&msg);
        if (error < 0)
            return error;
    }
    return 0;
}

/* Builds "a, b, c" from the names of the tiers with `flag`. */
static int tier_list_diag(migration *mg, const char *rule, const char *severity, const int *flags,
                          const char *what)
{
    pl_buf list = PL_BUF_INIT;
    size_t count = 0;
    char *ref;
    int error;

    for (size_t t = 0; t < mg->ntiers; t++) {
        if (!flags[t])
            continue;
        if (count++)
            pl_buf_puts(&list, "; ");
        pl_buf_printf(&list, "tier %s %s", mg->tiers[t].name,
                      flags[t] == 2 ? "has no groups" : what);
    }
    if (!count)
        return 0;
    ref = pl_maas_objref(mg->cm);
    error = pl_maas_diag(mg->diags, rule, severity, ref ? ref : TIER_CM_NAME, "%s", list.ptr);
    pl_free(ref);
    pl_buf_dispose(&list);
    return error;
}

/* labels + annotations of §4.3; `annotations` is consumed */
static json_t *migration_meta(const migration *mg, const char *name, const char *ns,
                              const char *from_tier, json_t *annotations)
{
    json_t *meta;

    if (!annotations)
        return NULL;
    if (mg->timestamp)
        json_object_set_new(annotations, ANN_TIMESTAMP, json_string(mg->timestamp));
    meta = json_pack("{s:s,s:s,s:{s:s,s:s},s:o}", "name", name, "namespace", ns, "labels",
                     LBL_GENERATED, "true", LBL_FROM_TIER, from_tier, "annotations", annotations);
    return meta;
}

static json_t *new_object(const char *kind, json_t *meta, json_t *spec)
{
    if (!meta || !spec) {
        json_decref(meta);
        json_decref(spec);
        return NULL;
    }
    return json_pack("{s:s,s:s,s:o,s:o}", "apiVersion", MAAS_API_VERSION, "kind", kind, "metadata",
                     meta, "spec", spec);
}

/* §4.2 step 6: an object already in the input is kept as is (MAAS043) and not emitted. */
static int add_output(migration *mg, json_t *out, json_t *obj)
{
    pl_buf key = PL_BUF_INIT;
    const json_t *have;
    int error = 0;

    if (!obj)
        return pl_error_set(PL_ENOMEM, "out of memory");
    pl_buf_printf(&key, "%s/%s/%s", pl_json_str(obj, "kind", NULL),
                  pl_json_str(obj, "metadata", "namespace", NULL),
                  pl_json_str(obj, "metadata", "name", NULL));
    have = json_object_get(mg->existing, key.ptr);
    if (have) {
        char *ref = pl_maas_objref(have);
        error = pl_maas_diag(mg->diags, "MAAS043", "info", ref ? ref : key.ptr,
                             "already in Git: the migrated %s is not generated, the existing "
                             "object is kept as is",
                             pl_json_str(obj, "kind", NULL));
        pl_free(ref);
        json_decref(obj);
    } else if (json_array_append_new(out, obj) < 0) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
    }
    pl_buf_dispose(&key);
    return error;
}

static int index_existing(migration *mg)
{
    size_t i;
    json_t *o;

    mg->existing = json_object();
    if (!mg->existing)
        return pl_error_set(PL_ENOMEM, "out of memory");
    json_array_foreach (mg->objects, i, o) {
        const char *kind = pl_json_str(o, "kind", NULL);
        const char *name = pl_json_str(o, "metadata", "name", NULL);
        const char *ns = str_or(pl_json_str(o, "metadata", "namespace", NULL), "default");
        pl_buf key = PL_BUF_INIT;
        char g[128];
        int error = 0;
        if (!kind || !name || strcmp(api_group(o, g, sizeof(g)), "maas.opendatahub.io"))
            continue;
        pl_buf_printf(&key, "%s/%s/%s", kind, ns, name);
        if (!key.ptr || json_object_set(mg->existing, key.ptr, o) < 0)
            error = pl_error_set(PL_ENOMEM, "out of memory");
        pl_buf_dispose(&key);
        if (error < 0)
            return error;
    }
    return 0;
}

static json_t *group_refs(const json_t *groups)
{
    json_t *out = json_array(), *g;
    size_t i;

    json_array_foreach (groups, i, g) {
        if (json_array_append_new(out, json_pack("{s:O}", "name", g)) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static int generate(migration *mg, json_t *out)
{
    int error = 0;

    /* §4.2 step 3: one MaaSModelRef per model granted by a tier that gets CRs */
    for (size_t m = 0; m < mg->nmodels; m++) {
        const model *md = &mg->models[m];
        pl_buf orig = PL_BUF_INIT;
        const char *first = NULL;
        json_t *obj;
        for (size_t t = 0; t < mg->ntiers; t++) {
            if (!mg->tiers[t].has_crs || !mg->grants[m * mg->ntiers + t])
                continue;
            if (!first)
                first = mg->tiers[t].name;
            else
                pl_buf_putc(&orig, ',');
            pl_buf_puts(&orig, mg->tiers[t].name);
        }
        if (!first) {
            pl_buf_dispose(&orig);
            continue;
        }
        obj = new_object(
            "MaaSModelRef",
            migration_meta(mg, md->name, md->ns, first, json_pack("{s:s}", ANN_ORIGINAL, orig.ptr)),
            json_pack("{s:{s:s,s:s}}", "modelRef", "kind", "LLMInferenceService", "name",
                      md->name));
        pl_buf_dispose(&orig);
        if ((error = add_output(mg, out, obj)) < 0)
            return error;
    }

    /* steps 4 and 5: per tier a MaaSAuthPolicy, and a MaaSSubscription when Rates(t) is usable */
    for (size_t ti = 0; ti < mg->ntiers; ti++) {
        const tier *t = &mg->tiers[ti];
        const char *sub_ns = pl_maas_cfg_str(mg->config, "subscriptionNamespace");
        json_t *auth_refs, *sub_refs, *obj, *spec;
        pl_buf name = PL_BUF_INIT, desc = PL_BUF_INIT;

        if (!t->has_crs)
            continue;
        auth_refs = json_array();
        sub_refs = json_array();
        for (size_t k = 0; k < t->nmodels; k++) {
            const model *md = &mg->models[t->models[k]];
            json_array_append_new(auth_refs,
                                  json_pack("{s:s,s:s}", "name", md->name, "namespace", md->ns));
            if (t->rates)
                json_array_append_new(sub_refs,
                                      json_pack("{s:s,s:s,s:O}", "name", md->name, "namespace",
                                                md->ns, "tokenRateLimits", t->rates));
        }
        pl_buf_printf(&name, "%s-models-access", t->name);
        pl_buf_printf(&desc, "Access policy for %s tier models (migrated from tier-based system)",
                      t->name);
        spec = json_pack("{s:o,s:{s:o,s:[]}}", "modelRefs", auth_refs, "subjects", "groups",
                         group_refs(t->groups), "users");
        obj = new_object(
            "MaaSAuthPolicy",
            migration_meta(mg, name.ptr, sub_ns, t->name,
                           json_pack("{s:s,s:s}", "description", desc.ptr, ANN_ORIGINAL, t->name)),
            spec);
        error = add_output(mg, out, obj);
        if (error == 0 && t->rates) {
            const json_t *r0 = json_array_get(t->rates, 0);
            pl_buf_clear(&name);
            pl_buf_clear(&desc);
            pl_buf_printf(&name, "%s-models-subscription", t->name);
            pl_buf_printf(&desc,
                          "Subscription for %s tier models with %lld tokens/%s (migrated from "
                          "tier-based system)",
                          t->name, (long long)json_integer_value(json_object_get(r0, "limit")),
                          json_string_value(json_object_get(r0, "window")));
            spec = json_pack("{s:O,s:{s:o,s:[]}}", "modelRefs", sub_refs, "owner", "groups",
                             group_refs(t->groups), "users");
            /* §0.3 migration.priorityFromLevel: the old "highest level wins" as priority */
            if (spec && pl_maas_cfg_bool(mg->config, "migration.priorityFromLevel"))
                json_object_set_new(
                    spec, "priority",
                    json_integer(json_is_integer(t->level) ? json_integer_value(t->level) : 0));
            obj = new_object("MaaSSubscription",
                             migration_meta(mg, name.ptr, sub_ns, t->name,
                                            json_pack("{s:s,s:s}", "description", desc.ptr,
                                                      ANN_ORIGINAL, t->name)),
                             spec);
            error = add_output(mg, out, obj);
        }
        json_decref(sub_refs);
        pl_buf_dispose(&name);
        pl_buf_dispose(&desc);
        if (error < 0)
            return error;
    }
    return 0;
}

/* §4.1 tiers: name, level, groups with duplicates dropped (order kept). */
static int load_tiers(migration *mg)
{
    size_t i;
    json_t *tj;

    mg->ntiers = json_array_size(mg->parsed);
    mg->tiers = pl_calloc(mg->ntiers ? mg->ntiers : 1, sizeof(*mg->tiers));
    if (!mg->tiers)
        return pl_error_set(PL_ENOMEM, "out of memory");
    json_array_foreach (mg->parsed, i, tj) {
        tier *t = &mg->tiers[i];
        size_t j;
        json_t *g;
        t->name = str_or(pl_json_str(tj, "name", NULL), "");
        t->level = json_object_get(tj, "level");
        t->groups = json_array();
        t->raw = json_array();
        if (!t->groups || !t->raw)
            return pl_error_set(PL_ENOMEM, "out of memory");
        json_array_foreach (json_object_get(tj, "groups"), j, g) {
            size_t k;
            json_t *h;
            int dup = 0;
            if (!json_is_string(g))
                continue;
            json_array_foreach (t->groups, k, h) {
                if (json_equal(g, h))
                    dup = 1;
            }
            if (!dup && json_array_append(t->groups, g) < 0)
                return pl_error_set(PL_ENOMEM, "out of memory");
        }
    }
    return 0;
}

static void migration_dispose(migration *mg)
{
    for (size_t t = 0; mg->tiers && t < mg->ntiers; t++) {
        json_decref(mg->tiers[t].groups);
        json_decref(mg->tiers[t].raw);
        json_decref(mg->tiers[t].rates);
        pl_free(mg->tiers[t].models);
    }
    pl_free(mg->tiers);
    pl_free(mg->models);
    pl_free(mg->grants);
    json_decref(mg->parsed);
    json_decref(mg->existing);
}

int pl_maas_migrate(json_t **out, json_t *diags, const json_t *objects, const json_t *config)
{
    migration mg;
    json_t *result = NULL, *scratch = NULL, *notes = NULL;
    const char *ts;
    int *flags41 = NULL, *flags44 = NULL;
    int error = 0;

    memset(&mg, 0, sizeof(mg));
    *out = NULL;
    mg.objects = objects;
    mg.config = config;
    mg.diags = diags;
    if (!(result = json_array()) || !(notes = json_object()))
        goto oom;
    if (!json_is_array(objects))
        goto finish;
    ts = pl_maas_cfg_str(config, "migration.timestamp");
    if (*ts)
        mg.timestamp = ts;

    mg.cm = find_tier_cm(objects, pl_maas_cfg_str(config, "legacyMaasApiNamespace"));
    if (!mg.cm)
        goto finish; /* nothing to migrate from */
    /* the tier document's own problems (MAAS007, MAAS008 ...) are lint's to report */
    if (!(scratch = json_array()))
        goto oom;
    if ((error = pl_maas_parse_tiers(&mg.parsed, mg.cm, scratch)) < 0)
        goto done;
    if (!json_is_array(mg.parsed))
        goto finish; /* maas-api rejects the whole document: no tier can be migrated */

    if ((error = load_tiers(&mg)) < 0)
        goto done;
    /*
     * §1.1 variant B (data.mapping.yaml without data.tiers): maas-api never resolves those
     * tiers, so no gateway predicate on them ever matched; they have no token limit, and the
     * migration explains that with MAAS041 instead of inventing one.
     */
    if (pl_json_path(mg.cm, "data", "tiers", NULL) == NULL)
        mg.variant_b = 1;
    if ((!mg.variant_b && (error = read_limits(&mg)) < 0) || (error = read_models(&mg)) < 0 ||
        (error = index_existing(&mg)) < 0)
        goto done;

    flags41 = pl_calloc(mg.ntiers ? mg.ntiers : 1, sizeof(int));
    flags44 = pl_calloc(mg.ntiers ? mg.ntiers : 1, sizeof(int));
    if (!flags41 || !flags44)
        goto oom;
    for (size_t t = 0; t < mg.ntiers; t++) {
        tier *tr = &mg.tiers[t];
        tr->models = pl_calloc(mg.nmodels ? mg.nmodels : 1, sizeof(size_t));
        if (!tr->models)
            goto oom;
        for (size_t m = 0; m < mg.nmodels; m++)
            if (mg.grants[m * mg.ntiers + t])
                tr->models[tr->nmodels++] = m;
        /* §4.2 step 1: a tier without models or without groups gets no CRs (MAAS044) */
        if (!tr->nmodels)
            flags44[t] = 1;
        else if (json_array_size(tr->groups) == 0)
            flags44[t] = 2;
        tr->has_crs = !flags44[t];
        if (!tr->has_crs)
            continue;
        if (!tr->has_limit || json_array_size(tr->raw) == 0)
            flags41[t] = 1;
        else if ((error = convert_rates(&mg, tr, notes)) < 0)
            goto done;
    }
    if ((error = tier_list_diag(&mg, "MAAS044", "warning", flags44, "grants no model")) < 0 ||
        (error = tier_list_diag(&mg, "MAAS041", "error", flags41,
                                "grants models but has no token limit in a gateway "
                                "TokenRateLimitPolicy: no MaaSSubscription generated, its users "
                                "get 429 after cut-over")) < 0 ||
        (error = emit_notes(&mg, notes)) < 0 || (error = generate(&mg, result)) < 0)
        goto done;

finish:
    pl_maas_sort_objects(result);
    *out = result;
    result = NULL;
    goto done;
oom:
    error = pl_error_set(PL_ENOMEM, "out of memory");
done:
    json_decref(result);
    json_decref(scratch);
    json_decref(notes);
    pl_free(flags41);
    pl_free(flags44);
    migration_dispose(&mg);
    return error;
}
