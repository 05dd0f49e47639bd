/*
 * maas_preview.c - mode preview (SPEC §3): the per-model Kuadrant AuthPolicy and
 * TokenRateLimitPolicy that maas-controller would create from the MaaS custom resources.
 *
 * Inputs that count (§3.1): valid MaaSModelRefs; MaaSAuthPolicies and MaaSSubscriptions that
 * live in subscriptionNamespace, pass their CRD schema and name an existing MaaSModelRef.
 * Everything else is silently left out here: the lint rules (MAAS020, MAAS021, MAAS022,
 * MAAS028 ...), which always run next to this mode, report why. The output predicts objects
 * owned by the controller; it is for diff, review and tests, never to be applied (§0.1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maas.h"

#define MAAS_GROUP "maas.opendatahub.io"
#define GW_GROUP "gateway.networking.k8s.io"
#define HDR "request.headers[\"x-maas-subscription\"]"
#define HAS "request.headers.exists(h, h == \"x-maas-subscription\")"
/* §2.4: since v0.1.1 the controller skips a subscription with a window over 366 days */
#define MAX_WINDOW_SECONDS (8784LL * 3600)

/* A CR contributing to a model: for subscriptions, `entry` is its first modelRefs entry for it. */
typedef struct member {
    const json_t *cr;
    const json_t *entry;
    json_int_t max; /* largest limit of entry's tokenRateLimits (membership ranking) */
} member;

typedef struct model {
    const json_t *ref; /* the MaaSModelRef */
    const char *ns, *name;
    member *auth, *subs; /* A(m), S(m) */
    size_t nauth, nsubs, cauth, csubs;
} model;

typedef struct preview {
    const json_t *config;
    int selector;
    model *models;
    size_t n, cap;
    json_t *index;  /* "ns/name" -> position in models */
    json_t *routes; /* HTTPRoutes labelled as an LLMInferenceService router */
} preview;

/* ---- small helpers ------------------------------------------------------------------------ */

static const char *nz(const char *s)
{
    return s ? s : "";
}

static const char *cr_name(const json_t *o)
{
    return nz(pl_json_str(o, "metadata", "name", NULL));
}

static const char *cr_ns(const json_t *o)
{
    return nz(pl_json_str(o, "metadata", "namespace", NULL));
}

static int cmp_member_id(const void *pa, const void *pb)
{
    const member *a = pa, *b = pb;
    int c = strcmp(cr_ns(a->cr), cr_ns(b->cr));
    return c ? c : strcmp(cr_name(a->cr), cr_name(b->cr));
}

/* §3.4 step 1: max(s) descending, ties by (namespace, name) */
static int cmp_member_rank(const void *pa, const void *pb)
{
    const member *a = pa, *b = pb;
    if (a->max != b->max)
        return a->max > b->max ? -1 : 1;
    return cmp_member_id(pa, pb);
}

static int cmp_cstr(const void *pa, const void *pb)
{
    return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

static int push_member(member **v, size_t *n, size_t *cap, const json_t *cr, const json_t *entry)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        member *p = pl_realloc(*v, nc * sizeof(*p));
        if (!p)
            return pl_error_set(PL_ENOMEM, "out of memory");
        *v = p;
        *cap = nc;
    }
    (*v)[*n].cr = cr;
    (*v)[*n].entry = entry;
    (*v)[*n].max = 0;
    (*n)++;
    return 0;
}

/* The controller refuses to splice `"` or `\` into CEL/OPA and fails the whole model (§3.1.5). */
static int unsafe(const char *s)
{
    return s && strpbrk(s, "\"\\") != NULL;
}

static int subjects_unsafe(const json_t *subjects)
{
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(subjects, "groups"), i, e) {
        if (unsafe(pl_json_str(e, "name", NULL)))
            return 1;
    }
    json_array_foreach(json_object_get(subjects, "users"), i, e) {
        if (unsafe(json_string_value(e)))
            return 1;
    }
    return 0;
}

/* Sorted unique strings of an array of borrowed C strings (in place); returns the new count. */
static size_t sort_unique(const char **v, size_t n)
{
    size_t out = 0;

    if (!n)
        return 0;
    qsort(v, n, sizeof(*v), cmp_cstr);
    for (size_t i = 0; i < n; i++)
        if (!out || strcmp(v[out - 1], v[i]))
            v[out++] = v[i];
    return out;
}

/* ---- collecting the inputs (§3.1) --------------------------------------------------------- */

static int add_model(preview *pv, const json_t *ref)
{
    const char *ns = cr_ns(ref), *name = cr_name(ref);
    pl_buf key = PL_BUF_INIT;
    int error = 0;

    if (!*name || pl_buf_printf(&key, "%s/%s", ns, name) < 0) {
        error = *name ? pl_error_set(PL_ENOMEM, "out of memory") : 0;
        goto done;
    }
    if (json_object_get(pv->index, key.ptr))
        goto done; /* the same object twice: the first counts */
    if (pv->n == pv->cap) {
        size_t nc = pv->cap ? pv->cap * 2 : 8;
        model *p = pl_realloc(pv->models, nc * sizeof(*p));
        if (!p) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
        pv->models = p;
        pv->cap = nc;
    }
    memset(&pv->models[pv->n], 0, sizeof(model));
    pv->models[pv->n].ref = ref;
    pv->models[pv->n].ns = ns;
    pv->models[pv->n].name = name;
    if (json_object_set_new(pv->index, key.ptr, json_integer((json_int_t)pv->n)) < 0) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    pv->n++;
done:
    pl_buf_dispose(&key);
    return error;
}

static int is_router_route(const json_t *o)
{
    json_t *labels = pl_json_path(o, "metadata", "labels", NULL);
    const char *c = json_string_value(json_object_get(labels, "app.kubernetes.io/component"));
    const char *p = json_string_value(json_object_get(labels, "app.kubernetes.io/part-of"));

    return pl_maas_is(o, GW_GROUP, "HTTPRoute") && c && !strcmp(c, "llminferenceservice-router") &&
           p && !strcmp(p, "llminferenceservice") &&
           json_is_string(json_object_get(labels, "app.kubernetes.io/name"));
}

/* Add a MaaSAuthPolicy or MaaSSubscription to the models it names (first entry per model wins). */
static int add_cr(preview *pv, const json_t *cr, int subscription)
{
    json_t *seen = json_object(), *e;
    pl_buf key = PL_BUF_INIT;
    size_t i;
    int error = 0;

    if (!seen)
        return pl_error_set(PL_ENOMEM, "out of memory");
    json_array_foreach(pl_json_path(cr, "spec", "modelRefs", NULL), i, e) {
        json_t *pos;
        model *m;
        pl_buf_clear(&key);
        if (pl_buf_printf(&key, "%s/%s", nz(pl_json_str(e, "namespace", NULL)),
                          nz(pl_json_str(e, "name", NULL))) < 0) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
        /* MAAS022 (missing MaaSModelRef) and MAAS037 (listed twice) are lint's to report */
        if (!(pos = json_object_get(pv->index, key.ptr)) || json_object_get(seen, key.ptr))
            continue;
        json_object_set_new(seen, key.ptr, json_true());
        m = &pv->models[json_integer_value(pos)];
        error = subscription ? push_member(&m->subs, &m->nsubs, &m->csubs, cr, e)
                             : push_member(&m->auth, &m->nauth, &m->cauth, cr, e);
        if (error < 0)
            goto done;
    }
done:
    json_decref(seen);
    pl_buf_dispose(&key);
    return error;
}

static int collect(preview *pv, const json_t *objects)
{
    const char *subns = pl_maas_cfg_str(pv->config, "subscriptionNamespace");
    size_t i;
    json_t *o;
    int error;

    /* models first: CRs may precede the MaaSModelRefs they name */
    json_array_foreach(objects, i, o) {
        if (pl_maas_is(o, MAAS_GROUP, "MaaSModelRef") && pl_maas_schema_valid(o, NULL) &&
            (error = add_model(pv, o)) < 0)
            return error;
        if (is_router_route(o) && json_array_append(pv->routes, o) < 0)
            return pl_error_set(PL_ENOMEM, "out of memory");
    }
    json_array_foreach(objects, i, o) {
        int sub = pl_maas_is(o, MAAS_GROUP, "MaaSSubscription");
        if (!sub && !pl_maas_is(o, MAAS_GROUP, "MaaSAuthPolicy"))
            continue;
        /* MAAS021 (outside the watched namespace) and MAAS020 (schema) are lint's to report */
        if (strcmp(cr_ns(o), subns) || !pl_maas_schema_valid(o, NULL))
            continue;
        if ((error = add_cr(pv, o, sub)) < 0)
            return error;
    }
    return 0;
}

/* ---- route resolution (§3.2) -------------------------------------------------------------- */

static int route_name(pl_buf *out, const preview *pv, const model *m)
{
    const char *kind = nz(pl_json_str(m->ref, "spec", "modelRef", "kind", NULL));
    const char *target = nz(pl_json_str(m->ref, "spec", "modelRef", "name", NULL));
    const char *best = NULL;
    size_t i;
    json_t *r;

    pl_buf_clear(out);
    if (!strcmp(kind, "ExternalModel")) {
        const char *prefix = pl_maas_cfg_str(pv->config, "externalModelRoutePrefix");
        size_t plen = strlen(prefix), tlen = strlen(target);
        char hash[65];
        if (plen + tlen <= 253)
            return pl_buf_printf(out, "%s%s", prefix, target);
        /*
         * Too long for a name (maas-controller v0.2.1+): the prefix, the model name cut to
         * fit with separators trimmed at both ends, then "-" and 8 hex digits of its SHA-256.
         */
        pl_sha256_hex(hash, target, tlen);
        {
            size_t keep = plen + 9 < 253 ? 253 - plen - 9 : 0, start = 0, end;
            end = keep < tlen ? keep : tlen;
            while (start < end && (target[start] == '-' || target[start] == '.'))
                start++;
            while (end > start && (target[end - 1] == '-' || target[end - 1] == '.'))
                end--;
            if (end == start)
                return pl_buf_printf(out, "%s%.8s", prefix, hash);
            return pl_buf_printf(out, "%s%.*s-%.8s", prefix, (int)(end - start), target + start,
                                 hash);
        }
    }
    /* LLMInferenceService: KServe's router route in the model's namespace, first by name */
    json_array_foreach(pv->routes, i, r) {
        const char *n = cr_name(r);
        if (strcmp(cr_ns(r), m->ns) ||
            strcmp(nz(pl_json_str(r, "metadata", "labels", "app.kubernetes.io/name", NULL)),
                   target))
            continue;
        if (!best || strcmp(n, best) < 0)
            best = n;
    }
    if (best)
        return pl_buf_puts(out, best);
    return pl_buf_printf(out, "%s%s", target, pl_maas_cfg_str(pv->config, "llmisvcRouteSuffix"));
}

/* ---- the generated objects ---------------------------------------------------------------- */

/* metadata + targetRef shared by both policies */
static json_t *policy_shell(const char *api_version, const char *kind, const char *name,
                            const model *m, json_t *labels, const char *ann_key,
                            const char *ann_value, const char *route)
{
    if (!labels)
        return NULL;
    return json_pack("{s:s, s:s, s:{s:{s:s}, s:o, s:s, s:s}, s:{s:{s:s, s:s, s:s}}}",
                     "apiVersion", api_version, "kind", kind, "metadata", "annotations", ann_key,
                     ann_value, "labels", labels, "name", name, "namespace", m->ns, "spec",
                     "targetRef", "group", GW_GROUP, "kind", "HTTPRoute", "name", route);
}

static json_t *auth_rules(const preview *pv, const model *m, json_t *patterns)
{
    const char *gw = pl_maas_cfg_str(pv->config, "gateway.name");
    pl_buf aud = PL_BUF_INIT, url = PL_BUF_INIT, body = PL_BUF_INIT, key = PL_BUF_INIT;
    json_t *rules = NULL;

    if (!patterns)
        return NULL;
    pl_buf_printf(&aud, "%s-sa", gw);
    rules = json_pack(
        "{s:{s:{s:{s:{s:s}, s:i}, s:{s:{s:s}}, s:{s:[s, s]}, s:b, s:i}},"
        " s:{s:{s:b, s:{s:o}, s:i}},"
        " s:{s:{s:{s:{s:{s:{s:{s:s}, s:{s:s}, s:{s:s}}}, s:b, s:i}}},"
        "    s:{s:i, s:{s:s}}, s:{s:i, s:{s:s}}}}",
        "authentication", "service-accounts", "cache", "key", "selector",
        "context.request.http.headers.authorization.@case:lower", "ttl", 600, "defaults",
        "userid", "selector", "auth.identity.user.username", "kubernetesTokenReview", "audiences",
        aud.ptr ? aud.ptr : "", pl_maas_cfg_str(pv->config, "clusterAudience"), "metrics", 0,
        "priority", 0,
        "authorization", "require-group-membership", "metrics", 0, "patternMatching", "patterns",
        patterns, "priority", 0,
        "response", "success", "filters", "identity", "json", "properties", "groups",
        "expression", "auth.identity.user.groups", "groups_str", "expression",
        "auth.identity.user.groups.join(\",\")", "userid", "selector", "auth.identity.userid",
        "metrics", 1, "priority", 0,
        "unauthenticated", "code", 401, "message", "value", "Authentication required",
        "unauthorized", "code", 403, "message", "value", "Access denied");
    if (rules && pv->selector) {
        /* §3.5: ask maas-api which subscription the request uses, and require one */
        json_t *props = pl_json_path(rules, "response", "success", "filters", "identity", "json",
                                     "properties", NULL);
        pl_buf_printf(&url,
                      "https://maas-api.%s.svc.cluster.local:8443/internal/v1/subscriptions/select",
                      pl_maas_cfg_str(pv->config, "maasApiNamespace"));
        pl_buf_printf(&body,
                      "{\"groups\": auth.identity.user.groups, \"username\": "
                      "auth.identity.user.username, \"requestedSubscription\": "
                      "\"x-maas-subscription\" in request.headers ? "
                      "request.headers[\"x-maas-subscription\"] : \"\", \"requestedModel\": "
                      "\"%s/%s\"}",
                      m->ns, m->name);
        pl_buf_printf(&key,
                      "has(auth.metadata[\"subscription-info\"].namespace) && "
                      "has(auth.metadata[\"subscription-info\"].name) ? "
                      "auth.metadata[\"subscription-info\"].namespace + \"/\" + "
                      "auth.metadata[\"subscription-info\"].name + \"@%s/%s\" : \"\"",
                      m->ns, m->name);
        if (!url.ptr || !body.ptr || !key.ptr || !props ||
            json_object_set_new(
                rules, "metadata",
                json_pack("{s:{s:{s:s, s:s, s:s, s:{s:s}}, s:b, s:i}}", "subscription-info",
                          "http", "url", url.ptr, "method", "POST", "contentType",
                          "application/json", "body", "expression", body.ptr, "metrics", 0,
                          "priority", 0)) < 0 ||
            json_object_set_new(
                json_object_get(rules, "authorization"), "subscription-selected",
                json_pack("{s:b, s:{s:[{s:s, s:s, s:s}]}, s:i}", "metrics", 0,
                          "patternMatching", "patterns", "operator", "neq", "selector",
                          "auth.metadata.subscription-info.name", "value", "", "priority", 0)) <
                0 ||
            json_object_set_new(props, "selected_subscription_key",
                                json_pack("{s:s}", "expression", key.ptr)) < 0) {
            json_decref(rules);
            rules = NULL;
        }
    }
    pl_buf_dispose(&aud);
    pl_buf_dispose(&url);
    pl_buf_dispose(&body);
    pl_buf_dispose(&key);
    return rules;
}

/* §3.3: AuthPolicy maas-auth-<m> from A(m) (sorted unique names, groups and users). */
static int emit_auth(json_t *out, const preview *pv, model *m, const char *route)
{
    size_t ng = 0, nu = 0, nn = 0, i, j, cap_g = 0, cap_u = 0;
    const char **groups = NULL, **users = NULL, **names = NULL;
    json_t *conds = NULL, *patterns = NULL, *rules = NULL, *obj = NULL, *e;
    pl_buf ann = PL_BUF_INIT, name = PL_BUF_INIT;
    int error = 0;

    for (i = 0; i < m->nauth; i++) {
        const json_t *subj = pl_json_path(m->auth[i].cr, "spec", "subjects", NULL);
        if (subjects_unsafe(subj))
            return 0; /* MAAS028: the controller builds no AuthPolicy for this model */
        cap_g += json_array_size(json_object_get(subj, "groups"));
        cap_u += json_array_size(json_object_get(subj, "users"));
    }
    names = pl_calloc(m->nauth + 1, sizeof(*names));
    groups = pl_calloc(cap_g + 1, sizeof(*groups));
    users = pl_calloc(cap_u + 1, sizeof(*users));
    if (!names || !groups || !users) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < m->nauth; i++) {
        const json_t *subj = pl_json_path(m->auth[i].cr, "spec", "subjects", NULL);
        names[nn++] = cr_name(m->auth[i].cr);
        json_array_foreach(json_object_get(subj, "groups"), j, e)
            groups[ng++] = nz(pl_json_str(e, "name", NULL));
        json_array_foreach(json_object_get(subj, "users"), j, e)
            users[nu++] = nz(json_string_value(e));
    }
    nn = sort_unique(names, nn);
    ng = sort_unique(groups, ng);
    nu = sort_unique(users, nu);
    if (!(conds = json_array())) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < ng; i++)
        json_array_append_new(conds, json_pack("{s:s, s:s, s:s}", "operator", "incl", "selector",
                                               "auth.identity.user.groups", "value", groups[i]));
    for (i = 0; i < nu; i++)
        json_array_append_new(conds, json_pack("{s:s, s:s, s:s}", "operator", "eq", "selector",
                                               "auth.identity.user.username", "value", users[i]));
    if (json_array_size(conds) != ng + nu) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    /* one condition stands alone; several are OR-ed under `any` */
    patterns = json_array_size(conds) == 1 ? json_pack("[O]", json_array_get(conds, 0))
                                           : json_pack("[{s:O}]", "any", conds);
    for (i = 0; i < nn; i++)
        pl_buf_printf(&ann, "%s%s", i ? "," : "", names[i]);
    pl_buf_printf(&name, "maas-auth-%s", m->name);
    rules = auth_rules(pv, m, patterns);
    patterns = NULL; /* taken by auth_rules */
    obj = policy_shell("kuadrant.io/v1", "AuthPolicy", name.ptr ? name.ptr : "", m,
                       json_pack("{s:s, s:s, s:s, s:s}", "app.kubernetes.io/component",
                                 "auth-policy", "app.kubernetes.io/managed-by", "maas-controller",
                                 "app.kubernetes.io/part-of", "maas-auth-policy",
                                 "maas.opendatahub.io/model", m->name),
                       "maas.opendatahub.io/auth-policies", ann.ptr ? ann.ptr : "", route);
    if (!rules || !obj) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    error = json_object_set_new(json_object_get(obj, "spec"), "rules", rules);
    rules = NULL; /* taken by set_new, also when it fails */
    if (error < 0) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if (json_array_append(out, obj) < 0)
        error = pl_error_set(PL_ENOMEM, "out of memory");
done:
    json_decref(obj);
    json_decref(rules);
    json_decref(patterns);
    json_decref(conds);
    pl_free(names);
    pl_free(groups);
    pl_free(users);
    pl_buf_dispose(&ann);
    pl_buf_dispose(&name);
    return error;
}

/* The owners (Gs, Us) of a subscription, appended to `groups` / `users` in spec order. */
static void owners_of(const json_t *sub, json_t *groups, json_t *users)
{
    size_t i;
    json_t *e;

    json_array_foreach(pl_json_path(sub, "spec", "owner", "groups", NULL), i, e)
        json_array_append_new(groups, json_string(nz(pl_json_str(e, "name", NULL))));
    json_array_foreach(pl_json_path(sub, "spec", "owner", "users", NULL), i, e)
        json_array_append(users, e);
}

/* MEM(G, U) of §3.4: lists used as given (order and duplicates kept). */
static void mem_expr(pl_buf *out, const json_t *groups, const json_t *users)
{
    size_t i;
    json_t *e;
    int parts = 0;

    if (json_array_size(groups)) {
        pl_buf_puts(out, "auth.identity.groups_str.split(\",\").exists(g, ");
        json_array_foreach(groups, i, e)
            pl_buf_printf(out, "%sg == \"%s\"", i ? " || " : "", json_string_value(e));
        pl_buf_puts(out, ")");
        parts++;
    }
    json_array_foreach(users, i, e)
        pl_buf_printf(out, "%sauth.identity.userid == \"%s\"", parts++ ? " || " : "",
                      json_string_value(e));
}

/* One limits entry: rates (borrowed, copied), predicates (owned strings array). */
static int add_limit(json_t *limits, const char *key, const json_t *rates, json_t *preds)
{
    json_t *when = json_array(), *entry;
    size_t i;
    json_t *p;

    if (!when || !preds) {
        json_decref(when);
        json_decref(preds);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    json_array_foreach(preds, i, p)
        json_array_append_new(when, json_pack("{s:O}", "predicate", p));
    entry = json_pack("{s:[{s:s}], s:o, s:o}", "counters", "expression", "auth.identity.userid",
                      "rates", json_deep_copy(rates), "when", when);
    json_decref(preds);
    if (!entry || json_object_set_new(limits, key, entry) < 0)
        return pl_error_set(PL_ENOMEM, "out of memory");
    return 0;
}

static json_t *deny_rates(void)
{
    return json_pack("[{s:i, s:s}]", "limit", 0, "window", "1m");
}

/* §3.4: membership profile, highest limit wins. */
static int limits_membership(json_t *limits, pl_buf *ann, model *m)
{
    json_t *xg = json_array(), *xu = json_array(), *deny = deny_rates();
    pl_buf mem = PL_BUF_INIT, x = PL_BUF_INIT, k = PL_BUF_INIT, p1 = PL_BUF_INIT,
           p2 = PL_BUF_INIT;
    size_t i, j;
    int error = 0;

    if (!xg || !xu || !deny) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < m->nsubs; i++) {
        json_t *e;
        m->subs[i].max = 0;
        json_array_foreach(json_object_get(m->subs[i].entry, "tokenRateLimits"), j, e) {
            json_int_t l = json_integer_value(json_object_get(e, "limit"));
            if (j == 0 || l > m->subs[i].max)
                m->subs[i].max = l;
        }
    }
    qsort(m->subs, m->nsubs, sizeof(*m->subs), cmp_member_rank);
    for (i = 0; i < m->nsubs; i++) {
        const json_t *s = m->subs[i].cr;
        const char *sn = cr_name(s);
        json_t *gs = json_array(), *us = json_array();
        pl_buf_printf(ann, "%s%s", i ? "," : "", sn);
        if (!gs || !us) {
            json_decref(gs);
            json_decref(us);
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
        owners_of(s, gs, us);
        if (json_array_size(gs) || json_array_size(us)) {
            pl_buf_clear(&mem);
            pl_buf_clear(&x);
            mem_expr(&mem, gs, us);
            /* AUTO: no header, and not a member of any higher-ranked subscription */
            pl_buf_clear(&p2);
            pl_buf_printf(&p2, HDR " == \"%s\" || (!" HAS, sn);
            if (json_array_size(xg) || json_array_size(xu)) {
                mem_expr(&x, xg, xu);
                pl_buf_printf(&p2, " && !(%s)", x.ptr);
            }
            pl_buf_puts(&p2, ")");
            pl_buf_clear(&k);
            pl_buf_printf(&k, "%s-%s-tokens", sn, m->name);
            if ((error = add_limit(limits, k.ptr,
                                   json_object_get(m->subs[i].entry, "tokenRateLimits"),
                                   json_pack("[s, s]", mem.ptr, p2.ptr))) < 0)
                goto sub_done;
            pl_buf_clear(&k);
            pl_buf_printf(&k, "deny-not-member-%s-%s", sn, m->name);
            pl_buf_clear(&p1);
            pl_buf_printf(&p1, HDR " == \"%s\"", sn);
            pl_buf_clear(&p2);
            pl_buf_printf(&p2, "!(%s)", mem.ptr);
            if ((error = add_limit(limits, k.ptr, deny, json_pack("[s, s]", p1.ptr, p2.ptr))) <
                0)
                goto sub_done;
        }
        json_array_extend(xg, gs);
        json_array_extend(xu, us);
    sub_done:
        json_decref(gs);
        json_decref(us);
        if (error < 0)
            goto done;
    }
    /* every owner, in ranking order: a user owning none is denied */
    if (json_array_size(xg) || json_array_size(xu)) {
        pl_buf_clear(&mem);
        mem_expr(&mem, xg, xu);
        pl_buf_clear(&k);
        pl_buf_printf(&k, "deny-unsubscribed-%s", m->name);
        pl_buf_clear(&p1);
        pl_buf_printf(&p1, "!(%s)", mem.ptr);
        if ((error = add_limit(limits, k.ptr, deny, json_pack("[s]", p1.ptr))) < 0)
            goto done;
    }
    /* a header naming none of this model's subscriptions */
    {
        json_t *preds = json_pack("[s]", HAS);
        for (i = 0; preds && i < m->nsubs; i++) {
            pl_buf_clear(&p1);
            pl_buf_printf(&p1, HDR " != \"%s\"", cr_name(m->subs[i].cr));
            json_array_append_new(preds, json_string(p1.ptr));
        }
        pl_buf_clear(&k);
        pl_buf_printf(&k, "deny-invalid-header-%s", m->name);
        error = add_limit(limits, k.ptr, deny, preds);
    }
done:
    json_decref(xg);
    json_decref(xu);
    json_decref(deny);
    pl_buf_dispose(&mem);
    pl_buf_dispose(&x);
    pl_buf_dispose(&k);
    pl_buf_dispose(&p1);
    pl_buf_dispose(&p2);
    return error;
}

/* §3.5: selector profile, one entry per subscription keyed by the subscription maas-api chose. */
static int limits_selector(json_t *limits, pl_buf *ann, const preview *pv, model *m)
{
    int qualified = pl_maas_cfg_bool(pv->config, "gatewayAuthOnly");
    pl_buf k = PL_BUF_INIT, p = PL_BUF_INIT;
    json_t *listed = json_array(), *e;
    const char **names = NULL;
    size_t i, j;
    int error = 0;

    if (!listed)
        return pl_error_set(PL_ENOMEM, "out of memory");
    qsort(m->subs, m->nsubs, sizeof(*m->subs), cmp_member_id);
    for (i = 0; i < m->nsubs; i++) {
        const json_t *s = m->subs[i].cr;
        const json_t *rates = json_object_get(m->subs[i].entry, "tokenRateLimits");
        int skip = 0;
        /* v0.1.1+: a window over 366 days makes the controller skip the subscription */
        json_array_foreach(rates, j, e) {
            if (pl_maas_window_seconds(json_string_value(json_object_get(e, "window"))) >
                MAX_WINDOW_SECONDS)
                skip = 1;
        }
        if (skip)
            continue;
        pl_buf_clear(&k);
        pl_buf_printf(&k, "%s-%s-%s-tokens", cr_ns(s), cr_name(s), m->name);
        pl_buf_clear(&p);
        pl_buf_printf(&p,
                      "auth.identity.selected_subscription_key == \"%s/%s@%s/%s\" && "
                      "!request.path.endsWith(\"/v1/models\")",
                      cr_ns(s), cr_name(s), m->ns, m->name);
        if ((error = add_limit(limits, k.ptr, rates, json_pack("[s]", p.ptr))) < 0)
            goto done;
        /* v0.2.0+ (gatewayAuthOnly) names subscriptions with their namespace */
        pl_buf_clear(&k);
        if (qualified)
            pl_buf_printf(&k, "%s/%s", cr_ns(s), cr_name(s));
        else
            pl_buf_puts(&k, cr_name(s));
        if (json_array_append_new(listed, json_string(k.ptr ? k.ptr : "")) < 0) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
    }
    /* the annotation lists the subscriptions that got an entry, sorted bytewise */
    if (!(names = pl_calloc(json_array_size(listed) + 1, sizeof(*names)))) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    json_array_foreach(listed, i, e)
        names[i] = json_string_value(e);
    qsort(names, json_array_size(listed), sizeof(*names), cmp_cstr);
    for (i = 0; i < json_array_size(listed); i++)
        pl_buf_printf(ann, "%s%s", i ? "," : "", names[i]);
done:
    pl_free(names);
    json_decref(listed);
    pl_buf_dispose(&k);
    pl_buf_dispose(&p);
    return error;
}

/* §3.4 / §3.5: TokenRateLimitPolicy maas-trlp-<m> from S(m). */
static int emit_trlp(json_t *out, const preview *pv, model *m, const char *route)
{
    json_t *limits = json_object(), *labels = NULL, *obj = NULL;
    pl_buf ann = PL_BUF_INIT, name = PL_BUF_INIT;
    size_t i;
    int error = 0;

    if (!limits)
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (!pv->selector) {
        /* MAAS028: an owner the controller cannot splice into CEL fails the whole model */
        for (i = 0; i < m->nsubs; i++)
            if (subjects_unsafe(pl_json_path(m->subs[i].cr, "spec", "owner", NULL)))
                goto done;
        error = limits_membership(limits, &ann, m);
    } else {
        error = limits_selector(limits, &ann, pv, m);
    }
    if (error < 0 || !json_object_size(limits))
        goto done; /* selector: every subscription skipped, no policy */
    labels = json_pack("{s:s, s:s, s:s, s:s}", "app.kubernetes.io/component",
                       "token-rate-limit-policy", "app.kubernetes.io/managed-by",
                       "maas-controller", "app.kubernetes.io/part-of", "maas-subscription",
                       "maas.opendatahub.io/model", m->name);
    if (labels && pv->selector)
        json_object_set_new(labels, "maas.opendatahub.io/model-namespace", json_string(m->ns));
    pl_buf_printf(&name, "maas-trlp-%s", m->name);
    obj = policy_shell("kuadrant.io/v1alpha1", "TokenRateLimitPolicy", name.ptr ? name.ptr : "",
                       m, labels, "maas.opendatahub.io/subscriptions", ann.ptr ? ann.ptr : "",
                       route);
    if (!obj || json_object_set(json_object_get(obj, "spec"), "limits", limits) < 0 ||
        json_array_append(out, obj) < 0)
        error = pl_error_set(PL_ENOMEM, "out of memory");
done:
    json_decref(obj);
    json_decref(limits);
    pl_buf_dispose(&ann);
    pl_buf_dispose(&name);
    return error;
}

int pl_maas_preview(json_t **out, json_t *diags, const json_t *objects, const json_t *config)
{
    preview pv;
    json_t *result = json_array();
    pl_buf route = PL_BUF_INIT;
    int error = 0, auth = !pl_maas_cfg_bool(config, "gatewayAuthOnly");

    (void)diags; /* every finding of this mode is a lint rule (maas_lint.c) */
    *out = NULL;
    memset(&pv, 0, sizeof(pv));
    pv.config = config;
    pv.selector = !strcmp(pl_maas_cfg_str(config, "profile"), "selector");
    pv.index = json_object();
    pv.routes = json_array();
    if (!result || !pv.index || !pv.routes) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if ((error = collect(&pv, objects)) < 0)
        goto done;
    for (size_t i = 0; i < pv.n; i++) {
        model *m = &pv.models[i];
        if (!m->nauth && !m->nsubs)
            continue;
        if (m->nauth)
            qsort(m->auth, m->nauth, sizeof(*m->auth), cmp_member_id);
        if ((error = route_name(&route, &pv, m)) < 0)
            goto done;
        if (auth && m->nauth && (error = emit_auth(result, &pv, m, route.ptr)) < 0)
            goto done;
        if (m->nsubs && (error = emit_trlp(result, &pv, m, route.ptr)) < 0)
            goto done;
    }
    pl_maas_sort_objects(result);
    *out = result;
    result = NULL;
done:
    for (size_t i = 0; i < pv.n; i++) {
        pl_free(pv.models[i].auth);
        pl_free(pv.models[i].subs);
    }
    pl_free(pv.models);
    json_decref(pv.index);
    json_decref(pv.routes);
    json_decref(result);
    pl_buf_dispose(&route);
    return error;
}
