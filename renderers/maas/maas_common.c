/*
 * maas_common.c - what every MaaS mode shares: the configuration keys and their defaults
 * (SPEC §0.3), diagnostics as data (§0.4), the tier ConfigMap parser (§1.1), the CRD schema
 * check of the MaaS custom resources (§2, rule MAAS020) and the canonical object order (§0.4).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maas.h"

/* ---- configuration (§0.3) ----------------------------------------------------------------- */

typedef struct cfg_default {
    const char *key;
    const char *value; /* NULL for the boolean keys */
} cfg_default;

static const cfg_default cfg_defaults[] = {
    {"mode", "preview"},
    {"profile", "membership"},
    {"subscriptionNamespace", "models-as-a-service"},
    {"gateway.name", "maas-default-gateway"},
    {"gateway.namespace", "openshift-ingress"},
    {"maasApiNamespace", "opendatahub"},
    {"legacyMaasApiNamespace", "maas-api"},
    {"clusterAudience", "https://kubernetes.default.svc"},
    {"llmisvcRouteSuffix", "-kserve-route"},
    {"externalModelRoutePrefix", "maas-"},
    {"baseRevision", ""},
    {"migration.timestamp", ""},
    {"gatewayAuthOnly", NULL},
    {"migration.priorityFromLevel", NULL},
};

static const cfg_default *cfg_find(const char *key)
{
    for (size_t i = 0; i < sizeof(cfg_defaults) / sizeof(cfg_defaults[0]); i++)
        if (!strcmp(cfg_defaults[i].key, key))
            return &cfg_defaults[i];
    return NULL;
}

/*
 * The value of a dotted key: `gateway.name` is the `name` of the `gateway` mapping, as
 * maas-render.yaml writes it; a literal top-level "gateway.name" key is accepted too.
 */
static json_t *cfg_lookup(const json_t *config, const char *key)
{
    const char *dot;
    json_t *v;

    if (!json_is_object(config))
        return NULL;
    if ((v = json_object_get(config, key)) != NULL)
        return v;
    if (!(dot = strchr(key, '.')))
        return NULL;
    {
        char head[64];
        size_t n = (size_t)(dot - key);
        if (n >= sizeof(head))
            return NULL;
        memcpy(head, key, n);
        head[n] = '\0';
        return cfg_lookup(json_object_get(config, head), dot + 1);
    }
}

const char *pl_maas_cfg_str(const json_t *config, const char *key)
{
    const cfg_default *d = cfg_find(key);
    json_t *v = cfg_lookup(config, key);

    /* a present string wins even when empty: externalModelRoutePrefix "" is meaningful */
    if (json_is_string(v))
        return json_string_value(v);
    return d && d->value ? d->value : "";
}

int pl_maas_cfg_bool(const json_t *config, const char *key)
{
    json_t *v = cfg_lookup(config, key);

    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_string(v))
        return !strcmp(json_string_value(v), "true");
    return 0;
}

int pl_maas_cfg_check(const json_t *config)
{
    const char *mode, *profile;

    if (!config || json_is_null(config))
        return 0;
    if (!json_is_object(config))
        return pl_error_set(PL_EINVALID, "maas-render.yaml: the configuration must be a mapping");
    for (size_t i = 0; i < sizeof(cfg_defaults) / sizeof(cfg_defaults[0]); i++) {
        const cfg_default *d = &cfg_defaults[i];
        json_t *v = cfg_lookup(config, d->key);
        if (!v || json_is_null(v))
            continue;
        if (d->value && !json_is_string(v))
            return pl_error_set(PL_EINVALID, "maas-render.yaml: %s must be a string", d->key);
        if (!d->value && !json_is_boolean(v))
            return pl_error_set(PL_EINVALID, "maas-render.yaml: %s must be true or false",
                                d->key);
    }
    if (json_object_get(config, "gateway") && !json_is_object(json_object_get(config, "gateway")))
        return pl_error_set(PL_EINVALID, "maas-render.yaml: gateway must be a mapping");
    if (json_object_get(config, "migration") &&
        !json_is_object(json_object_get(config, "migration")))
        return pl_error_set(PL_EINVALID, "maas-render.yaml: migration must be a mapping");
    mode = pl_maas_cfg_str(config, "mode");
    if (strcmp(mode, "preview") && strcmp(mode, "migrate") && strcmp(mode, "lint"))
        return pl_error_set(PL_EINVALID,
                            "maas-render.yaml: mode \"%s\" is not one of preview, migrate, lint",
                            mode);
    profile = pl_maas_cfg_str(config, "profile");
    if (strcmp(profile, "membership") && strcmp(profile, "selector"))
        return pl_error_set(PL_EINVALID,
                            "maas-render.yaml: profile \"%s\" is not one of membership, selector",
                            profile);
    return 0;
}

/* ---- diagnostics -------------------------------------------------------------------------- */

int pl_maas_diag(json_t *diags, const char *rule, const char *severity, const char *object,
                 const char *fmt, ...)
{
    char small[512];
    char *msg = small;
    va_list ap;
    int n;
    json_t *d;

    if (!diags)
        return 0;
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return pl_error_set(PL_ERROR, "diagnostic message cannot be formatted");
    if ((size_t)n >= sizeof(small)) {
        if (!(msg = pl_malloc((size_t)n + 1)))
            return pl_error_set(PL_ENOMEM, "out of memory");
        va_start(ap, fmt);
        vsnprintf(msg, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    d = json_pack("{s:s, s:s, s:s, s:s}", "rule", rule, "severity", severity, "object",
                  object ? object : "", "message", msg);
    if (msg != small)
        pl_free(msg);
    if (!d || json_array_append_new(diags, d) < 0)
        return pl_error_set(PL_ENOMEM, "out of memory");
    return 0;
}

char *pl_maas_objref(const json_t *obj)
{
    const char *kind = pl_json_str(obj, "kind", NULL);
    const char *ns = pl_json_str(obj, "metadata", "namespace", NULL);
    const char *name = pl_json_str(obj, "metadata", "name", NULL);
    pl_buf b = PL_BUF_INIT;

    if (ns && *ns)
        pl_buf_printf(&b, "%s/%s/%s", kind ? kind : "", ns, name ? name : "");
    else
        pl_buf_printf(&b, "%s/%s", kind ? kind : "", name ? name : "");
    return pl_buf_detach(&b);
}

/* ---- object helpers ------------------------------------------------------------------------ */

/* The API group of an object: apiVersion up to the '/', "" for the core group. */
static const char *group_of(const json_t *obj, size_t *len)
{
    const char *av = pl_json_str(obj, "apiVersion", NULL);
    const char *slash = av ? strchr(av, '/') : NULL;

    *len = slash ? (size_t)(slash - av) : 0;
    return slash ? av : "";
}

int pl_maas_is(const json_t *obj, const char *group, const char *kind)
{
    size_t n;
    const char *g = group_of(obj, &n);
    const char *k = pl_json_str(obj, "kind", NULL);

    return k && !strcmp(k, kind) && strlen(group) == n && !strncmp(g, group, n);
}

/* ---- tiers (§1.1) ------------------------------------------------------------------------ */

/*
 * Text of a scalar as maas-api sees it: it decodes data.tiers with gopkg.in/yaml.v3 into
 * string fields, which takes any scalar's text (`name: 123` is the tier "123").
 */
static int scalar_text(pl_buf *out, const json_t *v)
{
    pl_buf_clear(out);
    if (json_is_string(v))
        return pl_buf_put(out, json_string_value(v), json_string_length(v));
    if (json_is_integer(v))
        return pl_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    if (json_is_boolean(v))
        return pl_buf_puts(out, json_is_true(v) ? "true" : "false");
    if (json_is_real(v))
        return pl_buf_printf(out, "%g", json_real_value(v));
    if (!v || json_is_null(v))
        return 0; /* absent: empty */
    return 1; /* a mapping or a list: not a scalar */
}

static int is_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != '\v' && *s != '\f')
            return 0;
    return 1;
}

/* Append the string `s` to the JSON array `arr` unless already there. */
static int append_unique(json_t *arr, const char *s)
{
    size_t i;
    json_t *e;

    json_array_foreach(arr, i, e) {
        if (!strcmp(json_string_value(e), s))
            return 0;
    }
    return json_array_append_new(arr, json_string(s)) < 0 ? pl_error_set(PL_ENOMEM, "out of memory")
                                                           : 0;
}

/*
 * One tier of variant A. Returns 0 with *tier set, 1 when the tier is invalid (the reason in
 * `why`), or a negative code.
 */
static int parse_tier(json_t **tier, const json_t *t, size_t idx, pl_buf *why)
{
    pl_buf text = PL_BUF_INIT;
    json_t *out = NULL, *groups = NULL, *v;
    int error = 0;

    *tier = NULL;
    if (!json_is_object(t) && !json_is_null(t)) {
        pl_buf_printf(why, "tier at index %zu is not a mapping", idx);
        error = 1;
        goto done;
    }
    if (!(out = json_object()) || !(groups = json_array())) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    /* name: required, non-empty (maas-api's validateTierConfig) */
    v = json_object_get(t, "name");
    if (scalar_text(&text, v) != 0) {
        pl_buf_printf(why, "tier at index %zu: name is not a string", idx);
        error = 1;
        goto done;
    }
    if (!text.len) {
        pl_buf_printf(why, "tier at index %zu has an empty name", idx);
        error = 1;
        goto done;
    }
    json_object_set_new(out, "name", json_string(text.ptr));
    /* displayName: defaults to the name; whitespace-only (but not empty) is rejected */
    v = json_object_get(t, "displayName");
    if (scalar_text(&text, v) != 0) {
        pl_buf_printf(why, "tier \"%s\": displayName is not a string",
                      json_string_value(json_object_get(out, "name")));
        error = 1;
        goto done;
    }
    if (text.len && is_blank(text.ptr)) {
        pl_buf_printf(why, "tier \"%s\" has a whitespace-only displayName",
                      json_string_value(json_object_get(out, "name")));
        error = 1;
        goto done;
    }
    json_object_set_new(out, "displayName",
                        json_string(text.len ? text.ptr
                                             : json_string_value(json_object_get(out, "name"))));
    v = json_object_get(t, "description");
    if (scalar_text(&text, v) != 0) {
        pl_buf_printf(why, "tier \"%s\": description is not a string",
                      json_string_value(json_object_get(out, "name")));
        error = 1;
        goto done;
    }
    json_object_set_new(out, "description", json_string(text.len ? text.ptr : ""));
    /* level: an integer; anything else (1.5, "high", a list) invalidates the document */
    v = json_object_get(t, "level");
    if (v && !json_is_null(v) && !json_is_integer(v)) {
        pl_buf_printf(why, "tier \"%s\": level is not an integer",
                      json_string_value(json_object_get(out, "name")));
        error = 1;
        goto done;
    }
    json_object_set_new(out, "level", json_integer(json_is_integer(v) ? json_integer_value(v) : 0));
    /* groups: a list of strings, order kept, duplicates dropped (§4.1) */
    v = json_object_get(t, "groups");
    if (v && !json_is_null(v) && !json_is_array(v)) {
        pl_buf_printf(why, "tier \"%s\": groups is not a list",
                      json_string_value(json_object_get(out, "name")));
        error = 1;
        goto done;
    }
    {
        size_t i;
        json_t *g;
        json_array_foreach(v, i, g) {
            if (scalar_text(&text, g) != 0) {
                pl_buf_printf(why, "tier \"%s\": group %zu is not a string",
                              json_string_value(json_object_get(out, "name")), i);
                error = 1;
                goto done;
            }
            if ((error = append_unique(groups, text.ptr ? text.ptr : "")) < 0)
                goto done;
        }
    }
    json_object_set_new(out, "groups", groups);
    groups = NULL;
    *tier = out;
    out = NULL;
done:
    json_decref(out);
    json_decref(groups);
    pl_buf_dispose(&text);
    return error;
}

/* Variant A: data.tiers, a YAML list of tiers. *out NULL (with MAAS007) when unusable. */
static int parse_variant_a(json_t **out, const json_t *text, const char *ref, json_t *diags)
{
    json_t *docs = NULL, *list, *tiers = NULL, *t;
    pl_buf why = PL_BUF_INIT;
    pl_yaml_opts yo = PL_YAML_OPTS_INIT;
    size_t i;
    int error = 0;

    *out = NULL;
    if (!json_is_string(text)) {
        error = pl_maas_diag(diags, "MAAS007", "error", ref,
                             "data.tiers is not a string; maas-api rejects the whole tier "
                             "configuration");
        goto done;
    }
    yo.max_nodes = 100000; /* a ConfigMap value: alias bombs are malformed input, not work */
    if (pl_yaml_parse(&docs, json_string_value(text), json_string_length(text), "data.tiers",
                      &yo) < 0) {
        error = pl_maas_diag(diags, "MAAS007", "error", ref,
                             "data.tiers does not parse (%s); maas-api rejects the whole tier "
                             "configuration",
                             pl_error_last()->message);
        pl_error_clear();
        goto done;
    }
    if (!(tiers = json_array())) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    /* yaml.Unmarshal reads the first document; an empty text is an empty list */
    list = json_array_get(docs, 0);
    if (list && !json_is_array(list)) {
        error = pl_maas_diag(diags, "MAAS007", "error", ref,
                             "data.tiers is not a list of tiers; maas-api rejects the whole tier "
                             "configuration");
        goto done;
    }
    json_array_foreach(list, i, t) {
        json_t *tier = NULL;
        int rc = parse_tier(&tier, t, i, &why);
        if (rc < 0) {
            error = rc;
            goto done;
        }
        if (rc == 0) {
            const char *name = json_string_value(json_object_get(tier, "name"));
            size_t j;
            json_t *prev;
            json_array_foreach(tiers, j, prev) {
                if (!strcmp(json_string_value(json_object_get(prev, "name")), name)) {
                    pl_buf_printf(&why, "duplicate tier name \"%s\"", name);
                    rc = 1;
                    break;
                }
            }
        }
        if (rc == 1) {
            json_decref(tier);
            error = pl_maas_diag(diags, "MAAS007", "error", ref,
                                 "data.tiers: %s; maas-api rejects the whole tier configuration",
                                 why.ptr ? why.ptr : "invalid tier");
            goto done;
        }
        if (json_array_append_new(tiers, tier) < 0) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
    }
    *out = tiers;
    tiers = NULL;
done:
    json_decref(docs);
    json_decref(tiers);
    pl_buf_dispose(&why);
    return error;
}

/*
 * Variant B: data["mapping.yaml"], `tiers:` keyed by tier name (§1.1 B). maas-api never reads
 * it; the tiers are returned (level 0, document order, request limit kept as
 * requestsPerMinute) only so that lint and migration can explain it. NULL when unusable.
 */
static json_t *parse_variant_b(const json_t *text)
{
    json_t *docs = NULL, *map, *tiers = NULL, *v;
    pl_yaml_opts yo = PL_YAML_OPTS_INIT;
    pl_buf gtext = PL_BUF_INIT;
    const char *key;

    yo.max_nodes = 100000;
    if (!json_is_string(text) || pl_yaml_parse(&docs, json_string_value(text),
                                               json_string_length(text), "mapping.yaml", &yo) < 0) {
        pl_error_clear();
        goto fail;
    }
    map = json_object_get(json_array_get(docs, 0), "tiers");
    if (!json_is_object(map) || !(tiers = json_array()))
        goto fail;
    json_object_foreach(map, key, v) {
        json_t *t = json_object(), *groups = json_array(), *g;
        json_t *rpm = json_object_get(json_object_get(v, "rateLimit"), "requestsPerMinute");
        size_t i;
        if (!t || !groups || json_array_append_new(tiers, t) < 0) {
            json_decref(groups);
            goto fail;
        }
        json_object_set_new(t, "name", json_string(key));
        json_object_set_new(t, "displayName", json_string(key));
        json_object_set_new(t, "description", json_string(""));
        json_object_set_new(t, "level", json_integer(0));
        json_array_foreach(json_object_get(v, "groups"), i, g) {
            if (scalar_text(&gtext, g) == 0 && append_unique(groups, gtext.ptr ? gtext.ptr : "") < 0)
                break;
        }
        json_object_set_new(t, "groups", groups);
        if (json_is_integer(rpm))
            json_object_set(t, "requestsPerMinute", rpm);
    }
    json_decref(docs);
    pl_buf_dispose(&gtext);
    return tiers;
fail:
    json_decref(docs);
    json_decref(tiers);
    pl_buf_dispose(&gtext);
    return NULL;
}

int pl_maas_parse_tiers(json_t **out, const json_t *cm, json_t *diags)
{
    json_t *data = json_object_get(cm, "data");
    json_t *a = json_object_get(data, "tiers");
    json_t *b = json_object_get(data, "mapping.yaml");
    char *ref = pl_maas_objref(cm);
    int error = 0;

    *out = NULL;
    if (!ref)
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (b && (error = pl_maas_diag(diags, "MAAS008", "error", ref,
                                   "data.mapping.yaml is a tier format maas-api never reads; "
                                   "use data.tiers")) < 0)
        goto done;
    if (!a) {
        error = pl_maas_diag(diags, "MAAS007", "error", ref,
                             "data.tiers is missing; maas-api rejects the tier configuration");
        if (error == 0 && b)
            *out = parse_variant_b(b);
        goto done;
    }
    error = parse_variant_a(out, a, ref, diags);
done:
    pl_free(ref);
    return error;
}

/* ---- CRD schema of the MaaS custom resources (§2, MAAS020) --------------------------------- */

/* Record why a CR fails its schema; returns 1 (invalid) for `return fail(...)`. */
static int fail(pl_buf *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(pl_buf *why, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pl_buf_clear(why);
    pl_buf_puts(why, msg);
    return 1;
}

/* Keys of `o` not in the NULL-terminated `known`: the first one, or NULL. */
static const char *unknown_key(const json_t *o, const char *const *known)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)o, k, v) {
        size_t i;
        for (i = 0; known[i]; i++)
            if (!strcmp(known[i], k))
                break;
        if (!known[i])
            return k;
    }
    return NULL;
}

static int str_len_in(const json_t *v, size_t lo, size_t hi)
{
    return json_is_string(v) && json_string_length(v) >= lo && json_string_length(v) <= hi;
}

/* `^[1-9]\d{0,3}(s|m|h)$`: the window pattern of the current CRD (no days). */
int pl_maas_window_valid(const char *w)
{
    size_t n = w ? strlen(w) : 0;

    if (n < 2 || n > 5 || w[0] < '1' || w[0] > '9')
        return 0;
    for (size_t i = 1; i + 1 < n; i++)
        if (w[i] < '0' || w[i] > '9')
            return 0;
    return w[n - 1] == 's' || w[n - 1] == 'm' || w[n - 1] == 'h';
}

long long pl_maas_window_seconds(const char *w)
{
    long long v = 0;
    size_t n = w ? strlen(w) : 0;

    if (!pl_maas_window_valid(w))
        return -1;
    for (size_t i = 0; i + 1 < n; i++)
        v = v * 10 + (w[i] - '0');
    return w[n - 1] == 'h' ? v * 3600 : w[n - 1] == 'm' ? v * 60 : v;
}

/* {organizationId, costCenter, labels} of meteringMetadata / tokenMetadata */
static int check_metadata(const json_t *m, const char *field, pl_buf *why)
{
    static const char *const known[] = {"organizationId", "costCenter", "labels", NULL};
    const char *k;
    json_t *v;

    if (!json_is_object(m))
        return fail(why, "spec.%s must be an object", field);
    if ((k = unknown_key(m, known)))
        return fail(why, "spec.%s.%s is not a field of the CRD", field, k);
    if ((v = json_object_get(m, "organizationId")) && !json_is_string(v))
        return fail(why, "spec.%s.organizationId must be a string", field);
    if ((v = json_object_get(m, "costCenter")) && !json_is_string(v))
        return fail(why, "spec.%s.costCenter must be a string", field);
    if ((v = json_object_get(m, "labels"))) {
        json_t *l;
        if (!json_is_object(v))
            return fail(why, "spec.%s.labels must be a map of strings", field);
        json_object_foreach(v, k, l) {
            if (!json_is_string(l))
                return fail(why, "spec.%s.labels.%s must be a string", field, k);
        }
    }
    return 0;
}

/* {groups: [{name}], users: [string]} of subjects / owner */
static int check_subjects(const json_t *s, const char *field, pl_buf *why)
{
    static const char *const known[] = {"groups", "users", NULL};
    static const char *const gknown[] = {"name", NULL};
    const char *k;
    json_t *v, *e;
    size_t i;

    if (!json_is_object(s))
        return fail(why, "spec.%s is required and must be an object", field);
    if ((k = unknown_key(s, known)))
        return fail(why, "spec.%s.%s is not a field of the CRD", field, k);
    v = json_object_get(s, "groups");
    if (v && !json_is_array(v))
        return fail(why, "spec.%s.groups must be a list", field);
    json_array_foreach(v, i, e) {
        if (!json_is_object(e) || !json_is_string(json_object_get(e, "name")))
            return fail(why, "spec.%s.groups[%zu].name is required", field, i);
        if ((k = unknown_key(e, gknown)))
            return fail(why, "spec.%s.groups[%zu].%s is not a field of the CRD", field,
                                 i, k);
    }
    v = json_object_get(s, "users");
    if (v && !json_is_array(v))
        return fail(why, "spec.%s.users must be a list", field);
    json_array_foreach(v, i, e) {
        if (!json_is_string(e))
            return fail(why, "spec.%s.users[%zu] must be a string", field, i);
    }
    return 0;
}

/* modelRefs: minItems 1, each {name 1-63, namespace 1-63} (+ the subscription's fields) */
static int check_model_refs(const json_t *refs, int subscription, pl_buf *why)
{
    static const char *const aknown[] = {"name", "namespace", NULL};
    static const char *const sknown[] = {"name", "namespace", "tokenRateLimits", "billingRate",
                                         NULL};
    static const char *const rknown[] = {"limit", "window", NULL};
    size_t i, j;
    json_t *e, *r;
    const char *k;

    if (!json_is_array(refs) || !json_array_size(refs))
        return fail(why, "spec.modelRefs is required and needs at least one entry");
    json_array_foreach(refs, i, e) {
        json_t *trl, *br;
        if (!json_is_object(e))
            return fail(why, "spec.modelRefs[%zu] must be an object", i);
        if ((k = unknown_key(e, subscription ? sknown : aknown)))
            return fail(why, "spec.modelRefs[%zu].%s is not a field of the CRD", i, k);
        if (!str_len_in(json_object_get(e, "name"), 1, 63))
            return fail(why, "spec.modelRefs[%zu].name is required (1-63 characters)",
                                 i);
        if (!str_len_in(json_object_get(e, "namespace"), 1, 63))
            return pl_buf_printf(why,
                                 "spec.modelRefs[%zu].namespace is required (1-63 characters)",
                                 i),
                   1;
        if (!subscription)
            continue;
        trl = json_object_get(e, "tokenRateLimits");
        if (!json_is_array(trl) || !json_array_size(trl))
            return fail(why, "spec.modelRefs[%zu].tokenRateLimits is required and needs "
                                      "at least one entry",
                                 i);
        json_array_foreach(trl, j, r) {
            json_t *lim = json_object_get(r, "limit");
            json_t *win = json_object_get(r, "window");
            if (!json_is_object(r))
                return fail(why, "spec.modelRefs[%zu].tokenRateLimits[%zu] must be an "
                                          "object",
                                     i, j);
            if ((k = unknown_key(r, rknown)))
                return pl_buf_printf(why,
                                     "spec.modelRefs[%zu].tokenRateLimits[%zu].%s is not a field "
                                     "of the CRD",
                                     i, j, k),
                       1;
            if (!json_is_integer(lim) || json_integer_value(lim) < 1 ||
                json_integer_value(lim) > 1000000000)
                return pl_buf_printf(why,
                                     "spec.modelRefs[%zu].tokenRateLimits[%zu].limit must be an "
                                     "integer from 1 to 1000000000",
                                     i, j),
                       1;
            if (!json_is_string(win) || !pl_maas_window_valid(json_string_value(win)))
                return pl_buf_printf(why,
                                     "spec.modelRefs[%zu].tokenRateLimits[%zu].window must match "
                                     "^[1-9]\\d{0,3}(s|m|h)$ (e.g. 24h, not 1d)",
                                     i, j),
                       1;
        }
        if ((br = json_object_get(e, "billingRate")) &&
            (!json_is_object(br) || !json_is_string(json_object_get(br, "perToken"))))
            return fail(why, "spec.modelRefs[%zu].billingRate.perToken is required", i);
    }
    return 0;
}

static int check_modelref(const json_t *spec, pl_buf *why)
{
    static const char *const known[] = {"modelRef", "endpointOverride", "tenantRef", NULL};
    static const char *const mknown[] = {"kind", "name", NULL};
    json_t *mr = json_object_get(spec, "modelRef"), *v;
    const char *k, *kind;

    if ((k = unknown_key(spec, known)))
        return fail(why, "spec.%s is not a field of the CRD", k);
    if (!json_is_object(mr))
        return fail(why, "spec.modelRef is required");
    if ((k = unknown_key(mr, mknown)))
        return fail(why, "spec.modelRef.%s is not a field of the CRD", k);
    kind = json_string_value(json_object_get(mr, "kind"));
    if (!kind || (strcmp(kind, "LLMInferenceService") && strcmp(kind, "ExternalModel")))
        return fail(why, "spec.modelRef.kind must be LLMInferenceService or "
                                  "ExternalModel");
    if (!str_len_in(json_object_get(mr, "name"), 1, 253))
        return fail(why, "spec.modelRef.name is required (1-253 characters)");
    if ((v = json_object_get(spec, "endpointOverride")) && !json_is_string(v))
        return fail(why, "spec.endpointOverride must be a string");
    if ((v = json_object_get(spec, "tenantRef"))) {
        const char *s = json_string_value(v);
        size_t n = s ? strlen(s) : 0, i;
        int ok = s && n >= 1 && n <= 253;
        for (i = 0; ok && i < n; i++) {
            char c = s[i];
            int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
            if (!alnum && !(c == '-' && i > 0 && i + 1 < n))
                ok = 0;
        }
        if (!ok)
            return fail(why, "spec.tenantRef must match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ "
                                      "(at most 253 characters)");
    }
    return 0;
}

static int check_authpolicy(const json_t *spec, pl_buf *why)
{
    static const char *const known[] = {"modelRefs", "subjects", "meteringMetadata", NULL};
    const char *k;
    json_t *s, *m;
    int rc;

    if ((k = unknown_key(spec, known)))
        return fail(why, "spec.%s is not a field of the CRD", k);
    if ((rc = check_model_refs(json_object_get(spec, "modelRefs"), 0, why)) != 0)
        return rc;
    s = json_object_get(spec, "subjects");
    if ((rc = check_subjects(s, "subjects", why)) != 0)
        return rc;
    /* the CRD's CEL rule: size(groups) > 0 || size(users) > 0 */
    if (!json_array_size(json_object_get(s, "groups")) &&
        !json_array_size(json_object_get(s, "users")))
        return fail(why, "spec.subjects needs at least one group or user");
    if ((m = json_object_get(spec, "meteringMetadata")) &&
        (rc = check_metadata(m, "meteringMetadata", why)) != 0)
        return rc;
    return 0;
}

static int check_subscription(const json_t *spec, pl_buf *why)
{
    static const char *const known[] = {"owner", "modelRefs", "tokenMetadata", "priority", NULL};
    const char *k;
    json_t *m, *p;
    int rc;

    if ((k = unknown_key(spec, known)))
        return fail(why, "spec.%s is not a field of the CRD", k);
    if ((rc = check_subjects(json_object_get(spec, "owner"), "owner", why)) != 0)
        return rc;
    if ((rc = check_model_refs(json_object_get(spec, "modelRefs"), 1, why)) != 0)
        return rc;
    if ((m = json_object_get(spec, "tokenMetadata")) &&
        (rc = check_metadata(m, "tokenMetadata", why)) != 0)
        return rc;
    if ((p = json_object_get(spec, "priority")) &&
        (!json_is_integer(p) || json_integer_value(p) < INT32_MIN ||
         json_integer_value(p) > INT32_MAX))
        return fail(why, "spec.priority must be a 32-bit integer");
    return 0;
}

/* `^[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)*$` */
static int fqdn_valid(const char *s)
{
    size_t n = strlen(s), start = 0;

    if (!n)
        return 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (i == start || s[start] == '-' || s[i - 1] == '-')
                return 0;
            start = i + 1;
            continue;
        }
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    }
    return 1;
}

static int check_external(const json_t *spec, pl_buf *why)
{
    json_t *ep = json_object_get(spec, "endpoint");

    if (!str_len_in(json_object_get(spec, "provider"), 1, 63))
        return fail(why, "spec.provider is required (1-63 characters)");
    if (!str_len_in(json_object_get(spec, "targetModel"), 1, 253))
        return fail(why, "spec.targetModel is required (1-253 characters)");
    if (!str_len_in(ep, 1, 253) || !fqdn_valid(json_string_value(ep)))
        return fail(why, "spec.endpoint is required and must be a host name "
                                  "(no scheme, port or path)");
    if (!str_len_in(pl_json_path(spec, "credentialRef", "name", NULL), 1, 253))
        return fail(why, "spec.credentialRef.name is required (1-253 characters)");
    return 0;
}

int pl_maas_schema_valid(const json_t *obj, json_t *diags)
{
    static const char *const kinds[] = {"MaaSModelRef", "MaaSAuthPolicy", "MaaSSubscription",
                                        "ExternalModel", NULL};
    const char *kind = pl_json_str(obj, "kind", NULL);
    json_t *spec = json_object_get(obj, "spec");
    pl_buf why = PL_BUF_INIT;
    size_t i;
    int rc = 0;

    for (i = 0; kinds[i]; i++)
        if (pl_maas_is(obj, "maas.opendatahub.io", kinds[i]))
            break;
    if (!kinds[i])
        return 1; /* not a MaaS custom resource */
    if (!json_is_object(spec))
        rc = fail(&why, "spec is required");
    else if (!strcmp(kind, "MaaSModelRef"))
        rc = check_modelref(spec, &why);
    else if (!strcmp(kind, "MaaSAuthPolicy"))
        rc = check_authpolicy(spec, &why);
    else if (!strcmp(kind, "MaaSSubscription"))
        rc = check_subscription(spec, &why);
    else
        rc = check_external(spec, &why);
    if (rc && diags) {
        char *ref = pl_maas_objref(obj);
        if (ref)
            pl_maas_diag(diags, "MAAS020", "error", ref,
                         "%s; the API server rejects or prunes it and the controller ignores it",
                         why.ptr ? why.ptr : "invalid");
        pl_free(ref);
    }
    pl_buf_dispose(&why);
    return !rc;
}

/* ---- output (§0.4) -------------------------------------------------------------------------- */

typedef struct sort_item {
    json_t *obj;
    size_t idx;
} sort_item;

static int cmp_str0(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int cmp_objects(const void *pa, const void *pb)
{
    const sort_item *a = pa, *b = pb;
    size_t na, nb;
    const char *ga = group_of(a->obj, &na), *gb = group_of(b->obj, &nb);
    int c = memcmp(ga, gb, na < nb ? na : nb);

    if (c == 0 && na != nb)
        c = na < nb ? -1 : 1;
    if (c == 0)
        c = cmp_str0(pl_json_str(a->obj, "kind", NULL), pl_json_str(b->obj, "kind", NULL));
    if (c == 0)
        c = cmp_str0(pl_json_str(a->obj, "metadata", "namespace", NULL),
                     pl_json_str(b->obj, "metadata", "namespace", NULL));
    if (c == 0)
        c = cmp_str0(pl_json_str(a->obj, "metadata", "name", NULL),
                     pl_json_str(b->obj, "metadata", "name", NULL));
    if (c == 0)
        c = a->idx < b->idx ? -1 : a->idx > b->idx;
    return c;
}

void pl_maas_sort_objects(json_t *objects)
{
    size_t n = json_array_size(objects), i;
    sort_item *items;

    if (n < 2 || !(items = pl_malloc(n * sizeof(*items))))
        return;
    for (i = 0; i < n; i++) {
        items[i].obj = json_incref(json_array_get(objects, i));
        items[i].idx = i;
    }
    qsort(items, n, sizeof(*items), cmp_objects);
    for (i = 0; i < n; i++)
        json_array_set_new(objects, i, items[i].obj); /* hands back the reference taken above */
    pl_free(items);
}
