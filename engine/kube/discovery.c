/*
 * discovery.c - what the server serves, and the kind -> resource mapping (API-NOTES §1).
 *
 * GET /api and GET /apis go out together with kubectl's aggregated-discovery Accept (§1.3).
 * A response whose Content-Type names APIGroupDiscoveryList holds everything; anything else is
 * the legacy APIVersions / APIGroupList, after which every /api/{v} and /apis/{g}/{v} is fetched
 * in parallel. A failing group-version is logged and skipped (§1.2 item 5); /api answering 404
 * is tolerated, /apis failing is a hard error (client-go).
 *
 * The cache lives in the client; pl_kube_discovery_invalidate drops it after CRD writes, and a
 * mapping miss refreshes it once (a CRD may just have become Established, §1.2 item 3).
 */
#include <stdio.h>
#include <string.h>

#include "kube_int.h"

#define ACCEPT_DISCOVERY                                                                          \
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g="   \
    "apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
#define MISS_REFRESH_MS 250

void pl_kube__disc_clear(pl_kube_disc *d)
{
    size_t i;

    for (i = 0; i < d->n; i++) {
        pl_free(d->res[i].group);
        pl_free(d->res[i].version);
        pl_free(d->res[i].kind);
        pl_free(d->res[i].resource);
    }
    pl_free(d->res);
    memset(d, 0, sizeof(*d));
}

const pl_kube_res *pl_kube__disc_find(const pl_kube_disc *d, const char *group,
                                      const char *version, const char *kind)
{
    size_t i;

    for (i = 0; i < d->n; i++) {
        const pl_kube_res *r = &d->res[i];
        if (strcmp(r->kind, kind) == 0 && strcmp(r->version, version) == 0 &&
            strcmp(r->group, group) == 0)
            return r;
    }
    return NULL;
}

int pl_kube__disc_add(pl_kube_disc *d, const char *group, const char *version, const char *kind,
                      const char *resource, int namespaced, int can_patch)
{
    pl_kube_res *r;

    if (!resource || !*resource || strchr(resource, '/') || !kind || !*kind)
        return 0; /* subresources and nameless entries do not map kinds */
    if (pl_kube__disc_find(d, group, version, kind))
        return 0; /* first entry wins (a kind served by two resources is rare) */
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 128;
        pl_kube_res *v = pl_realloc(d->res, cap * sizeof(*v));
        if (!v)
            return pl_error_set(PL_ENOMEM, "out of memory");
        d->res = v;
        d->cap = cap;
    }
    r = &d->res[d->n];
    r->group = pl_strdup(group);
    r->version = pl_strdup(version);
    r->kind = pl_strdup(kind);
    r->resource = pl_strdup(resource);
    r->namespaced = namespaced;
    r->can_patch = can_patch;
    if (!r->group || !r->version || !r->kind || !r->resource) {
        pl_free(r->group);
        pl_free(r->version);
        pl_free(r->kind);
        pl_free(r->resource);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    d->n++;
    return 0;
}

static int has_verb(const json_t *verbs, const char *verb)
{
    size_t i;
    const json_t *v;

    json_array_foreach(verbs, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), verb) == 0)
            return 1;
    }
    return 0;
}

int pl_kube__disc_parse_resource_list(pl_kube_disc *d, const json_t *doc)
{
    const char *gv = pl_json_str(doc, "groupVersion", NULL), *slash;
    char group[256], version[64];
    const json_t *res = json_object_get(doc, "resources"), *r;
    size_t i;
    int error;

    if (!gv)
        return pl_error_set(PL_EINVALID, "discovery: APIResourceList without groupVersion");
    slash = strchr(gv, '/');
    if (slash) {
        snprintf(group, sizeof(group), "%.*s", (int)(slash - gv), gv);
        snprintf(version, sizeof(version), "%s", slash + 1);
    } else {
        group[0] = '\0';
        snprintf(version, sizeof(version), "%s", gv);
    }
    json_array_foreach(res, i, r) {
        if ((error = pl_kube__disc_add(d, group, version, pl_json_str(r, "kind", NULL),
                                       pl_json_str(r, "name", NULL),
                                       json_is_true(json_object_get(r, "namespaced")),
                                       has_verb(json_object_get(r, "verbs"), "patch"))) < 0)
            return error;
    }
    return 0;
}

int pl_kube__disc_parse_aggregated(pl_kube_disc *d, const json_t *doc)
{
    const json_t *items = json_object_get(doc, "items"), *it, *ver, *r;
    size_t i, j, l;
    int error;

    if (!json_is_array(items))
        return pl_error_set(PL_EINVALID, "discovery: APIGroupDiscoveryList without items");
    json_array_foreach(items, i, it) {
        const char *group = pl_json_str(it, "metadata", "name", NULL);
        json_array_foreach(json_object_get(it, "versions"), j, ver) {
            const char *version = pl_json_str(ver, "version", NULL);
            if (!version)
                continue;
            json_array_foreach(json_object_get(ver, "resources"), l, r) {
                const char *scope = pl_json_str(r, "scope", NULL);
                if ((error = pl_kube__disc_add(
                         d, group ? group : "", version,
                         pl_json_str(r, "responseKind", "kind", NULL),
                         pl_json_str(r, "resource", NULL), scope && !strcmp(scope, "Namespaced"),
                         has_verb(json_object_get(r, "verbs"), "patch"))) < 0)
                    return error;
            }
        }
    }
    return 0;
}

/* ---- fetching -------------------------------------------------------------------------------- */

typedef struct disc_run {
    pl_kube *k;
    pl_kube_disc d;
    size_t pending;
    int error;          /* first fatal error */
    char message[2048]; /* its message */
} disc_run;

static void fatal(disc_run *run, int code, const char *msg)
{
    if (run->error == 0) {
        run->error = code;
        snprintf(run->message, sizeof(run->message), "%s", msg);
    }
}

static void gv_done(pl_kube_req *r, void *ctx)
{
    disc_run *run = ctx;
    pl_kube_result *res = pl_kube__req_result(r);

    run->pending--;
    if (res->code < 0) {
        /* §1.2 item 5: skip a broken group-version (aggregated API down), do not fail */
        pl_log(PL_LOG_WARN, "kube", "discovery: skipping %s", res->message ? res->message : "?");
        return;
    }
    if (pl_kube__disc_parse_resource_list(&run->d, res->object) < 0)
        pl_log(PL_LOG_WARN, "kube", "%s", pl_error_last()->message);
}

static void submit_gv(disc_run *run, const char *prefix, const char *gv)
{
    pl_buf path = PL_BUF_INIT;

    if (pl_buf_printf(&path, "%s/%s", prefix, gv) < 0) {
        fatal(run, PL_ENOMEM, "out of memory");
    } else if (pl_kube__submit_get(run->k, path.ptr, "application/json", path.ptr, gv_done, run) < 0) {
        fatal(run, PL_ENOMEM, "out of memory");
    } else {
        run->pending++;
    }
    pl_buf_dispose(&path);
}

static void root_done(pl_kube_req *r, void *ctx, int core)
{
    disc_run *run = ctx;
    pl_kube_result *res = pl_kube__req_result(r);
    const json_t *doc = res->object, *v, *g;
    size_t i, j;

    run->pending--;
    if (res->code < 0) {
        if (core && res->http_status == 404)
            return; /* client-go treats a missing /api as "no core group" */
        fatal(run, res->code, res->message ? res->message : "discovery failed");
        return;
    }
    if (pl_kube__is_aggregated_ctype(pl_kube__req_ctype(r))) {
        if (pl_kube__disc_parse_aggregated(&run->d, doc) < 0)
            fatal(run, pl_error_last()->code, pl_error_last()->message);
        return;
    }
    if (core) {
        json_array_foreach(json_object_get(doc, "versions"), i, v) {
            if (json_is_string(v))
                submit_gv(run, "/api", json_string_value(v));
        }
        return;
    }
    json_array_foreach(json_object_get(doc, "groups"), i, g) {
        json_array_foreach(json_object_get(g, "versions"), j, v) {
            const char *gv = pl_json_str(v, "groupVersion", NULL);
            if (gv)
                submit_gv(run, "/apis", gv);
        }
    }
}

static void api_done(pl_kube_req *r, void *ctx)
{
    root_done(r, ctx, 1);
}

static void apis_done(pl_kube_req *r, void *ctx)
{
    root_done(r, ctx, 0);
}

int pl_kube__discover(pl_kube *k)
{
    disc_run run;
    pl_kube_disc *cache = pl_kube__disc(k);
    int error;

    memset(&run, 0, sizeof(run));
    run.k = k;
    if (!pl_kube__can_block(k))
        return pl_error_set(PL_ERROR, "kube: discovery is not possible inside a watch callback");
    if ((error = pl_kube__submit_get(k, "/api", ACCEPT_DISCOVERY, "discovery /api", api_done,
                                     &run)) < 0)
        return error;
    run.pending++;
    if ((error = pl_kube__submit_get(k, "/apis", ACCEPT_DISCOVERY, "discovery /apis", apis_done,
                                     &run)) < 0) {
        fatal(&run, error, "out of memory");
    } else {
        run.pending++;
    }
    /* the queued requests point at `run`: they must all finish before it goes out of scope */
    pl_kube__wait_counter(k, &run.pending); /* cannot fail: can_block was checked */
    if (run.error < 0) {
        pl_kube__disc_clear(&run.d);
        return pl_error_set(run.error, "%s", run.message);
    }
    pl_kube__disc_clear(cache);
    *cache = run.d;
    cache->valid = 1;
    cache->fetched_ms = pl_kube__now_ms();
    pl_log(PL_LOG_DEBUG, "kube", "discovery: %zu resources", cache->n);
    return 0;
}

int pl_kube_mapping_get(pl_kube_mapping *out, pl_kube *k, const char *group, const char *version,
                        const char *kind)
{
    pl_kube_disc *d = pl_kube__disc(k);
    const pl_kube_res *r;
    int error;

    memset(out, 0, sizeof(*out));
    if (!group)
        group = "";
    if (!d->valid && (error = pl_kube__discover(k)) < 0)
        return error;
    r = pl_kube__disc_find(d, group, version, kind);
    if (!r && pl_kube__now_ms() - d->fetched_ms >= MISS_REFRESH_MS) {
        if ((error = pl_kube__discover(k)) < 0)
            return error;
        r = pl_kube__disc_find(d, group, version, kind);
    }
    if (!r) {
        if (*group)
            return pl_error_set(PL_ENOTFOUND, "no matches for kind \"%s\" in version \"%s/%s\"",
                                kind, group, version);
        return pl_error_set(PL_ENOTFOUND, "no matches for kind \"%s\" in version \"%s\"", kind,
                            version);
    }
    snprintf(out->resource, sizeof(out->resource), "%s", r->resource);
    out->namespaced = r->namespaced;
    out->can_patch = r->can_patch;
    return 0;
}
