/*
 * sb_discovery.c - /version, legacy and aggregated discovery, OpenAPI v3/v2 documents
 * (API-NOTES §1.1-1.3, §14.2) and the health endpoints.
 *
 * The registry can change concurrently (CRDs becoming Established or deleted), so every
 * document is built from a private snapshot of the types taken under the registry's read lock.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "sb.h"

#define CT_AGG_V2 "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
#define CT_AGG_V2BETA1 "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
#define CT_OPENAPI_V2 "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
#define CT_TEXT "text/plain; charset=utf-8"

/* API-NOTES §1.1: the 1.33 fixture, so that /usr/bin/kubectl dispatches to kubectl 1.33.1. */
static const char VERSION_JSON[] =
    "{\"major\":\"1\",\"minor\":\"33\",\"gitVersion\":\"v1.33.1\","
    "\"gitCommit\":\"8adc0f041b8e7ad1d30e29cc59c6ae7a15e19828\",\"gitTreeState\":\"clean\","
    "\"buildDate\":\"2025-05-15T08:19:08Z\",\"goVersion\":\"go1.24.2\",\"compiler\":\"gc\","
    "\"platform\":\"linux/amd64\"}";

/* ---- snapshot of the registry -------------------------------------------------------------- */

typedef struct snap_type {
    char *group, *version, *resource, *singular, *kind;
    json_t *short_names, *categories; /* arrays or NULL */
    unsigned flags;
} snap_type;

typedef struct snap {
    snap_type *v;
    size_t n, cap;
    int oom;
} snap;

static json_t *list_json(char **l)
{
    if (l == NULL || l[0] == NULL)
        return NULL;
    json_t *a = json_array();
    for (char **p = l; *p; p++)
        json_array_append_new(a, json_string(*p));
    return a;
}

static void snap_cb(const sb_type *ty, void *ctx)
{
    snap *s = ctx;
    if (s->oom)
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        snap_type *v = pl_realloc(s->v, cap * sizeof(*v));
        if (v == NULL) {
            s->oom = 1;
            return;
        }
        s->v = v;
        s->cap = cap;
    }
    snap_type *st = &s->v[s->n++];
    st->group = pl_strdup(ty->group);
    st->version = pl_strdup(ty->version);
    st->resource = pl_strdup(ty->resource);
    st->singular = pl_strdup(ty->singular);
    st->kind = pl_strdup(ty->kind);
    st->short_names = list_json(ty->short_names);
    st->categories = list_json(ty->categories);
    st->flags = ty->flags;
    if (!st->group || !st->version || !st->resource || !st->singular || !st->kind)
        s->oom = 1;
}

static void snap_free(snap *s)
{
    for (size_t i = 0; i < s->n; i++) {
        snap_type *st = &s->v[i];
        pl_free(st->group);
        pl_free(st->version);
        pl_free(st->resource);
        pl_free(st->singular);
        pl_free(st->kind);
        json_decref(st->short_names);
        json_decref(st->categories);
    }
    pl_free(s->v);
    memset(s, 0, sizeof(*s));
}

static int snap_take(snap *s, sb_types *t)
{
    memset(s, 0, sizeof(*s));
    sb_types_each(t, snap_cb, s);
    if (s->oom) {
        snap_free(s);
        return pl_error_set(PL_ENOMEM, "out of memory building discovery");
    }
    return 0;
}

/* ---- version priority (kube-style: v10 > v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > other) --- */

/* Parse "v<major>[(alpha|beta)<minor>]"; returns 0 for non-kube-like versions. */
static int parse_kube_version(const char *v, long *major, int *stage, long *minor)
{
    if (v[0] != 'v' || !isdigit((unsigned char)v[1]))
        return 0;
    char *end;
    *major = strtol(v + 1, &end, 10);
    if (*end == '\0') {
        *stage = 3;
        *minor = 0;
        return 1;
    }
    if (strncmp(end, "alpha", 5) == 0) {
        *stage = 1;
        end += 5;
    } else if (strncmp(end, "beta", 4) == 0) {
        *stage = 2;
        end += 4;
    } else {
        return 0;
    }
    if (!isdigit((unsigned char)*end))
        return 0;
    *minor = strtol(end, &end, 10);
    return *end == '\0';
}

/* <0 when a is preferred over b (sorts first). */
static int version_cmp(const char *a, const char *b)
{
    long ma = 0, mia = 0, mb = 0, mib = 0;
    int sa = 0, sb = 0;
    int ka = parse_kube_version(a, &ma, &sa, &mia);
    int kb = parse_kube_version(b, &mb, &sb, &mib);
    if (ka && kb) {
        if (sa != sb)
            return sb - sa;
        if (ma != mb)
            return ma > mb ? -1 : 1;
        if (mia != mib)
            return mia > mib ? -1 : 1;
        return 0;
    }
    if (ka != kb)
        return ka ? -1 : 1;
    return strcmp(a, b);
}

/* ---- helpers ------------------------------------------------------------------------------- */

static int streq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* API-NOTES §1.1: base64(sha256("<group>/<version>/<kind>")[:8]), as the real server computes. */
static json_t *storage_version_hash(const char *group, const char *version, const char *kind)
{
    pl_buf b = PL_BUF_INIT;
    unsigned char md[SHA256_DIGEST_LENGTH];
    unsigned char out[16];
    pl_buf_printf(&b, "%s/%s/%s", group, version, kind);
    SHA256((const unsigned char *)(b.ptr ? b.ptr : ""), b.len, md);
    pl_buf_dispose(&b);
    EVP_EncodeBlock(out, md, 8);
    return json_string((const char *)out);
}

static json_t *verbs_json(unsigned flags)
{
    json_t *a = json_array();
    json_array_append_new(a, json_string("create"));
    json_array_append_new(a, json_string("delete"));
    if (!(flags & SB_T_NO_DELETECOLLECTION))
        json_array_append_new(a, json_string("deletecollection"));
    json_array_append_new(a, json_string("get"));
    json_array_append_new(a, json_string("list"));
    json_array_append_new(a, json_string("patch"));
    json_array_append_new(a, json_string("update"));
    json_array_append_new(a, json_string("watch"));
    return a;
}

static json_t *sub_verbs_json(void)
{
    json_t *a = json_array();
    json_array_append_new(a, json_string("get"));
    json_array_append_new(a, json_string("patch"));
    json_array_append_new(a, json_string("update"));
    return a;
}

/* Indices of the snapshot's types in group/version, sorted by resource name. */
static size_t *types_of_gv(const snap *s, const char *group, const char *version, size_t *n)
{
    size_t *idx = pl_calloc(s->n + 1, sizeof(*idx));
    *n = 0;
    if (idx == NULL)
        return NULL;
    for (size_t i = 0; i < s->n; i++) {
        if (streq(s->v[i].group, group) && streq(s->v[i].version, version))
            idx[(*n)++] = i;
    }
    for (size_t i = 1; i < *n; i++) { /* insertion sort: lists are short */
        size_t x = idx[i], j = i;
        while (j > 0 && strcmp(s->v[idx[j - 1]].resource, s->v[x].resource) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = x;
    }
    return idx;
}

/* Group names in registry order (built-ins as tabled, then CRD groups), excluding core. */
static char **groups_of(const snap *s, size_t *n)
{
    char **g = pl_calloc(s->n + 1, sizeof(*g));
    *n = 0;
    if (g == NULL)
        return NULL;
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].group[0] == '\0')
            continue;
        size_t j;
        for (j = 0; j < *n && strcmp(g[j], s->v[i].group) != 0; j++)
            ;
        if (j == *n)
            g[(*n)++] = s->v[i].group;
    }
    return g;
}

/* Versions of a group in preference order (borrowed strings). */
static char **versions_of(const snap *s, const char *group, size_t *n)
{
    char **v = pl_calloc(s->n + 1, sizeof(*v));
    *n = 0;
    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < s->n; i++) {
        if (!streq(s->v[i].group, group))
            continue;
        size_t j;
        for (j = 0; j < *n && strcmp(v[j], s->v[i].version) != 0; j++)
            ;
        if (j == *n)
            v[(*n)++] = s->v[i].version;
    }
    for (size_t i = 1; i < *n; i++) {
        char *x = v[i];
        size_t j = i;
        while (j > 0 && version_cmp(v[j - 1], x) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
    return v;
}

static json_t *gv_entry(const char *group, const char *version)
{
    json_t *o = json_object();
    pl_buf b = PL_BUF_INIT;
    pl_buf_printf(&b, "%s/%s", group, version);
    json_object_set_new(o, "groupVersion", json_string(b.ptr));
    json_object_set_new(o, "version", json_string(version));
    pl_buf_dispose(&b);
    return o;
}

/* ---- legacy documents ---------------------------------------------------------------------- */

static json_t *api_group_json(const snap *s, const char *group, int with_kind)
{
    size_t nv = 0;
    char **vs = versions_of(s, group, &nv);
    json_t *o = json_object();
    if (with_kind) {
        json_object_set_new(o, "kind", json_string("APIGroup"));
        json_object_set_new(o, "apiVersion", json_string("v1"));
    }
    json_object_set_new(o, "name", json_string(group));
    json_t *arr = json_array();
    for (size_t i = 0; i < nv; i++)
        json_array_append_new(arr, gv_entry(group, vs[i]));
    json_object_set_new(o, "versions", arr);
    if (nv > 0)
        json_object_set_new(o, "preferredVersion", gv_entry(group, vs[0]));
    pl_free(vs);
    return o;
}

static json_t *resource_list_json(const snap *s, const char *group, const char *version)
{
    size_t n = 0;
    size_t *idx = types_of_gv(s, group, version, &n);
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string("APIResourceList"));
    /* /api/v1 leaves apiVersion out (legacy quirk, API-NOTES §1.1) */
    if (group[0] != '\0')
        json_object_set_new(o, "apiVersion", json_string("v1"));
    pl_buf gv = PL_BUF_INIT;
    if (group[0] != '\0')
        pl_buf_printf(&gv, "%s/%s", group, version);
    else
        pl_buf_puts(&gv, version);
    json_object_set_new(o, "groupVersion", json_string(gv.ptr));
    pl_buf_dispose(&gv);
    json_t *res = json_array();
    for (size_t k = 0; k < n; k++) {
        const snap_type *st = &s->v[idx[k]];
        int ns = (st->flags & SB_T_NAMESPACED) != 0;
        json_t *r = json_object();
        json_object_set_new(r, "name", json_string(st->resource));
        json_object_set_new(r, "singularName", json_string(st->singular));
        json_object_set_new(r, "namespaced", json_boolean(ns));
        json_object_set_new(r, "kind", json_string(st->kind));
        json_object_set_new(r, "verbs", verbs_json(st->flags));
        if (st->short_names)
            json_object_set(r, "shortNames", st->short_names);
        if (st->categories)
            json_object_set(r, "categories", st->categories);
        json_object_set_new(r, "storageVersionHash",
                            storage_version_hash(group, version, st->kind));
        json_array_append_new(res, r);
        /* subresources sort after their parent: "x" < "x/scale" < "x/status" */
        pl_buf name = PL_BUF_INIT;
        if (st->flags & SB_T_SCALE) {
            pl_buf_printf(&name, "%s/scale", st->resource);
            r = json_object();
            json_object_set_new(r, "name", json_string(name.ptr));
            json_object_set_new(r, "singularName", json_string(""));
            json_object_set_new(r, "namespaced", json_boolean(ns));
            json_object_set_new(r, "group", json_string("autoscaling"));
            json_object_set_new(r, "version", json_string("v1"));
            json_object_set_new(r, "kind", json_string("Scale"));
            json_object_set_new(r, "verbs", sub_verbs_json());
            json_array_append_new(res, r);
        }
        if (st->flags & SB_T_STATUS) {
            pl_buf_clear(&name);
            pl_buf_printf(&name, "%s/status", st->resource);
            r = json_object();
            json_object_set_new(r, "name", json_string(name.ptr));
            json_object_set_new(r, "singularName", json_string(""));
            json_object_set_new(r, "namespaced", json_boolean(ns));
            json_object_set_new(r, "kind", json_string(st->kind));
            json_object_set_new(r, "verbs", sub_verbs_json());
            json_array_append_new(res, r);
        }
        pl_buf_dispose(&name);
    }
    json_object_set_new(o, "resources", res);
    pl_free(idx);
    return o;
}

/* ---- aggregated documents (API-NOTES §1.3) ------------------------------------------------- */

static json_t *response_kind(const char *g, const char *v, const char *k)
{
    json_t *o = json_object();
    json_object_set_new(o, "group", json_string(g));
    json_object_set_new(o, "version", json_string(v));
    json_object_set_new(o, "kind", json_string(k));
    return o;
}

static json_t *agg_version_json(const snap *s, const char *group, const char *version)
{
    size_t n = 0;
    size_t *idx = types_of_gv(s, group, version, &n);
    json_t *res = json_array();
    for (size_t k = 0; k < n; k++) {
        const snap_type *st = &s->v[idx[k]];
        json_t *r = json_object();
        json_object_set_new(r, "resource", json_string(st->resource));
        json_object_set_new(r, "responseKind", response_kind(group, version, st->kind));
        json_object_set_new(r, "scope", json_string(st->flags & SB_T_NAMESPACED ? "Namespaced"
                                                                                : "Cluster"));
        json_object_set_new(r, "singularResource", json_string(st->singular));
        json_object_set_new(r, "verbs", verbs_json(st->flags));
        if (st->short_names)
            json_object_set(r, "shortNames", st->short_names);
        if (st->categories)
            json_object_set(r, "categories", st->categories);
        if (st->flags & (SB_T_SCALE | SB_T_STATUS)) {
            json_t *subs = json_array();
            if (st->flags & SB_T_SCALE) {
                json_t *sr = json_object();
                json_object_set_new(sr, "subresource", json_string("scale"));
                json_object_set_new(sr, "responseKind", response_kind("autoscaling", "v1",
                                                                      "Scale"));
                json_object_set_new(sr, "verbs", sub_verbs_json());
                json_array_append_new(subs, sr);
            }
            if (st->flags & SB_T_STATUS) {
                json_t *sr = json_object();
                json_object_set_new(sr, "subresource", json_string("status"));
                json_object_set_new(sr, "responseKind", response_kind(group, version, st->kind));
                json_object_set_new(sr, "verbs", sub_verbs_json());
                json_array_append_new(subs, sr);
            }
            json_object_set_new(r, "subresources", subs);
        }
        json_array_append_new(res, r);
    }
    pl_free(idx);
    json_t *o = json_object();
    json_object_set_new(o, "version", json_string(version));
    json_object_set_new(o, "resources", res);
    json_object_set_new(o, "freshness", json_string("Current"));
    return o;
}

static json_t *agg_group_json(const snap *s, const char *group)
{
    json_t *item = json_object();
    json_t *md = json_object();
    if (group[0] != '\0')
        json_object_set_new(md, "name", json_string(group));
    json_object_set_new(md, "creationTimestamp", json_null());
    json_object_set_new(item, "metadata", md);
    size_t nv = 0;
    char **vs = versions_of(s, group, &nv);
    json_t *versions = json_array();
    for (size_t i = 0; i < nv; i++)
        json_array_append_new(versions, agg_version_json(s, group, vs[i]));
    pl_free(vs);
    json_object_set_new(item, "versions", versions);
    return item;
}

/*
 * Which aggregated format the Accept header asks for (API-NOTES §1.3): 2 = v2, 1 = v2beta1,
 * 0 = legacy. The first media range that names one wins.
 */
static int wants_aggregated(const char *accept)
{
    if (accept == NULL)
        return 0;
    const char *p = accept;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int as = 0, g = 0, v = 0;
        const char *q = p, *rend = p + len;
        while (q < rend) {
            const char *semi = memchr(q, ';', (size_t)(rend - q));
            const char *te = semi ? semi : rend;
            while (q < te && (*q == ' ' || *q == '\t'))
                q++;
            size_t tl = (size_t)(te - q);
            while (tl > 0 && (q[tl - 1] == ' ' || q[tl - 1] == '\t'))
                tl--;
#define TOK_IS(lit) (tl == sizeof(lit) - 1 && memcmp(q, lit, tl) == 0)
            if (TOK_IS("as=APIGroupDiscoveryList"))
                as = 1;
            else if (TOK_IS("g=apidiscovery.k8s.io"))
                g = 1;
            else if (TOK_IS("v=v2"))
                v = 2;
            else if (TOK_IS("v=v2beta1"))
                v = 1;
#undef TOK_IS
            q = semi ? semi + 1 : rend;
        }
        if (as && g && v)
            return v;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}

static void set_json_with_etag(sb_response *resp, const json_t *doc, const char *ct)
{
    sb_resp_json(resp, 200, doc);
    if (ct != NULL) {
        pl_free(resp->content_type);
        resp->content_type = pl_strdup(ct);
        char hex[65];
        pl_sha256_hex(hex, resp->body.ptr ? resp->body.ptr : "", resp->body.len);
        pl_buf etag = PL_BUF_INIT;
        pl_buf_printf(&etag, "\"%.32s\"", hex);
        sb_resp_header(resp, "Etag", etag.ptr);
        pl_buf_dispose(&etag);
    }
    sb_resp_header(resp, "Vary", "Accept");
}

static void text_404(sb_response *resp)
{
    /* Go's http.NotFound (API-NOTES §6.3) */
    sb_resp_text(resp, 404, CT_TEXT, "404 page not found\n");
    sb_resp_header(resp, "X-Content-Type-Options", "nosniff");
}

/* ---- OpenAPI (API-NOTES §14.2) ------------------------------------------------------------- */

static void camel_group(pl_buf *b, const char *group)
{
    if (group[0] == '\0') {
        pl_buf_puts(b, "Core");
        return;
    }
    /* "rbac.authorization.k8s.io" -> "RbacAuthorization"; other groups keep every part */
    size_t len = strlen(group);
    const char *suffix = ".k8s.io";
    if (len > strlen(suffix) && strcmp(group + len - strlen(suffix), suffix) == 0)
        len -= strlen(suffix);
    int up = 1;
    for (size_t i = 0; i < len; i++) {
        char c = group[i];
        if (c == '.' || c == '-') {
            up = 1;
            continue;
        }
        pl_buf_putc(b, up ? (char)toupper((unsigned char)c) : c);
        up = 0;
    }
}

static json_t *query_param(const char *name, const char *desc)
{
    json_t *p = json_object();
    json_object_set_new(p, "name", json_string(name));
    json_object_set_new(p, "in", json_string("query"));
    json_object_set_new(p, "description", json_string(desc));
    json_object_set_new(p, "schema", json_pack("{s:s,s:b}", "type", "string", "uniqueItems", 1));
    return p;
}

static json_t *openapi_gv_doc(const snap *s, const char *group, const char *version)
{
    size_t n = 0;
    size_t *idx = types_of_gv(s, group, version, &n);
    json_t *paths = json_object();
    for (size_t k = 0; k < n; k++) {
        const snap_type *st = &s->v[idx[k]];
        int ns = (st->flags & SB_T_NAMESPACED) != 0;
        pl_buf path = PL_BUF_INIT, opid = PL_BUF_INIT, vcap = PL_BUF_INIT;
        if (group[0] == '\0')
            pl_buf_printf(&path, "/api/%s/", version);
        else
            pl_buf_printf(&path, "/apis/%s/%s/", group, version);
        if (ns)
            pl_buf_puts(&path, "namespaces/{namespace}/");
        pl_buf_printf(&path, "%s/{name}", st->resource);
        pl_buf_printf(&vcap, "%c%s", toupper((unsigned char)version[0]), version + 1);
        pl_buf_puts(&opid, "patch");
        camel_group(&opid, group);
        pl_buf_printf(&opid, "%s%s%s", vcap.ptr, ns ? "Namespaced" : "", st->kind);

        json_t *params = json_array();
        json_array_append_new(params, query_param("dryRun", "When present, indicates that "
                                                  "modifications should not be persisted."));
        json_array_append_new(params, query_param("fieldManager", "fieldManager is a name "
                                                  "associated with the actor or entity that is "
                                                  "making these changes."));
        json_array_append_new(params, query_param("fieldValidation", "fieldValidation instructs "
                                                  "the server on how to handle objects in the "
                                                  "request containing unknown or duplicate "
                                                  "fields."));
        json_t *force = query_param("force", "Force is going to \"force\" Apply requests.");
        json_object_set_new(force, "schema", json_pack("{s:s,s:b}", "type", "boolean",
                                                       "uniqueItems", 1));
        json_array_append_new(params, force);

        pl_buf desc = PL_BUF_INIT;
        pl_buf_printf(&desc, "partially update the specified %s", st->kind);
        json_t *op = json_object();
        json_object_set_new(op, "description", json_string(desc.ptr));
        json_object_set_new(op, "operationId", json_string(opid.ptr));
        json_object_set_new(op, "parameters", params);
        json_object_set_new(op, "responses",
                            json_pack("{s:{s:s},s:{s:s},s:{s:s}}", "200", "description", "OK",
                                      "201", "description", "Created", "401", "description",
                                      "Unauthorized"));
        json_object_set_new(op, "x-kubernetes-action", json_string("patch"));
        json_object_set_new(op, "x-kubernetes-group-version-kind",
                            response_kind(group, version, st->kind));
        json_t *item = json_object();
        json_object_set_new(item, "patch", op);
        json_object_set_new(paths, path.ptr, item);
        pl_buf_dispose(&path);
        pl_buf_dispose(&opid);
        pl_buf_dispose(&vcap);
        pl_buf_dispose(&desc);
    }
    pl_free(idx);
    json_t *doc = json_object();
    json_object_set_new(doc, "openapi", json_string("3.0.0"));
    json_object_set_new(doc, "info", json_pack("{s:s,s:s}", "title", "Kubernetes", "version",
                                               "v1.33.1"));
    json_object_set_new(doc, "paths", paths);
    json_object_set_new(doc, "components", json_pack("{s:{}}", "schemas"));
    return doc;
}

/* Hash the server puts into serverRelativeURL: upper-case hex digest of the document. */
static void doc_hash(char out[65], const json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    pl_sha256_hex(out, text ? text : "", text ? strlen(text) : 0);
    pl_free(text);
    for (char *p = out; *p; p++)
        *p = (char)toupper((unsigned char)*p);
}

static json_t *openapi_root(const snap *s)
{
    json_t *paths = json_object();
    size_t ng = 0;
    /* core first, then every group/version */
    char **groups = groups_of(s, &ng);
    for (size_t gi = 0; gi <= ng; gi++) {
        const char *g = gi == 0 ? "" : groups[gi - 1];
        size_t nv = 0;
        char **vs = versions_of(s, g, &nv);
        for (size_t vi = 0; vi < nv; vi++) {
            pl_buf key = PL_BUF_INIT, url = PL_BUF_INIT;
            if (g[0] == '\0')
                pl_buf_printf(&key, "api/%s", vs[vi]);
            else
                pl_buf_printf(&key, "apis/%s/%s", g, vs[vi]);
            json_t *doc = openapi_gv_doc(s, g, vs[vi]);
            char hash[65];
            doc_hash(hash, doc);
            json_decref(doc);
            pl_buf_printf(&url, "/openapi/v3/%s?hash=%s", key.ptr, hash);
            json_object_set_new(paths, key.ptr, json_pack("{s:s}", "serverRelativeURL", url.ptr));
            pl_buf_dispose(&key);
            pl_buf_dispose(&url);
        }
        pl_free(vs);
    }
    pl_free(groups);
    json_t *root = json_object();
    json_object_set_new(root, "paths", paths);
    return root;
}

/* ---- dispatcher ---------------------------------------------------------------------------- */

/* Split path (after `prefix`) into up to 3 segments; returns the count or -1 for more. */
static int split3(const char *rest, char seg[3][256])
{
    int n = 0;
    const char *p = rest;
    if (*p == '\0')
        return 0;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (n == 3 || len == 0 || len >= 256)
            return -1;
        memcpy(seg[n], p, len);
        seg[n][len] = '\0';
        n++;
        if (e == NULL)
            break;
        p = e + 1;
        if (*p == '\0')
            return -1; /* trailing slash */
    }
    return n;
}

static int is_get(const sb_request *req)
{
    return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

static void method_not_allowed(sb_response *resp)
{
    sb_resp_status(resp, 405, "MethodNotAllowed",
                   "the server does not allow this method on the requested resource", NULL);
}

int sb_discovery_handle(sb_types *t, const sb_request *req, sb_response *resp)
{
    const char *path = req->path;
    if (path == NULL)
        return 0;

    if (strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0 ||
        strcmp(path, "/readyz") == 0) {
        sb_resp_text(resp, 200, CT_TEXT, "ok");
        sb_resp_header(resp, "X-Content-Type-Options", "nosniff");
        return 1;
    }
    if (strcmp(path, "/version") == 0) {
        if (!is_get(req)) {
            method_not_allowed(resp);
            return 1;
        }
        json_t *v = json_loads(VERSION_JSON, 0, NULL);
        sb_resp_json(resp, 200, v);
        json_decref(v);
        return 1;
    }
    if (strcmp(path, "/openapi/v2") == 0) {
        /* An empty document: kubectl then skips client-side validation (API-NOTES §14.2) */
        sb_resp_text(resp, 200, CT_OPENAPI_V2, "");
        return 1;
    }

    int is_api = strncmp(path, "/api", 4) == 0 && (path[4] == '\0' || path[4] == '/');
    int is_apis = strncmp(path, "/apis", 5) == 0 && (path[5] == '\0' || path[5] == '/');
    int is_openapi = strcmp(path, "/openapi/v3") == 0 || strncmp(path, "/openapi/v3/", 12) == 0;
    if (!is_api && !is_apis && !is_openapi)
        return 0;

    char seg[3][256];
    int nseg;
    if (is_openapi)
        nseg = path[11] == '\0' ? 0 : split3(path + 12, seg);
    else if (is_apis)
        nseg = path[5] == '\0' ? 0 : split3(path + 6, seg);
    else
        nseg = path[4] == '\0' ? 0 : split3(path + 5, seg);

    /* longer paths are resource URLs: sb_api's */
    if (nseg < 0)
        return is_openapi ? (text_404(resp), 1) : 0;
    if (!is_openapi && ((is_api && nseg > 1) || (is_apis && nseg > 2)))
        return 0;

    snap s;
    if (snap_take(&s, t) != 0) {
        sb_resp_status(resp, 500, "InternalError", "Internal error occurred: out of memory",
                       NULL);
        return 1;
    }
    int handled = 1;
    json_t *doc = NULL;

    if (is_openapi) {
        if (!is_get(req)) {
            method_not_allowed(resp);
        } else if (nseg == 0) {
            doc = openapi_root(&s);
            sb_resp_json(resp, 200, doc);
        } else {
            const char *g = NULL, *v = NULL;
            if (nseg == 2 && strcmp(seg[0], "api") == 0) {
                g = "";
                v = seg[1];
            } else if (nseg == 3 && strcmp(seg[0], "apis") == 0) {
                g = seg[1];
                v = seg[2];
            }
            if (g != NULL && sb_types_serves(t, g, v) && v[0] != '\0') {
                doc = openapi_gv_doc(&s, g, v);
                sb_resp_json(resp, 200, doc);
                sb_resp_header(resp, "Cache-Control", "public, immutable");
            } else {
                text_404(resp);
            }
        }
        goto done;
    }

    if (is_api) {
        if (nseg == 0) {
            if (!is_get(req)) {
                method_not_allowed(resp);
            } else if (wants_aggregated(req->accept)) {
                int v = wants_aggregated(req->accept);
                doc = json_object();
                json_object_set_new(doc, "kind", json_string("APIGroupDiscoveryList"));
                json_object_set_new(doc, "apiVersion",
                                    json_string(v == 2 ? "apidiscovery.k8s.io/v2"
                                                       : "apidiscovery.k8s.io/v2beta1"));
                json_object_set_new(doc, "metadata", json_object());
                json_t *items = json_array();
                json_array_append_new(items, agg_group_json(&s, ""));
                json_object_set_new(doc, "items", items);
                set_json_with_etag(resp, doc, v == 2 ? CT_AGG_V2 : CT_AGG_V2BETA1);
            } else {
                /* no apiVersion (legacy quirk, API-NOTES §1.1) */
                doc = json_pack("{s:s,s:[s],s:[{s:s,s:s}]}", "kind", "APIVersions", "versions",
                                "v1", "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0",
                                "serverAddress", "127.0.0.1:6443");
                set_json_with_etag(resp, doc, NULL);
            }
        } else if (sb_types_serves(t, "", seg[0])) {
            if (!is_get(req)) {
                method_not_allowed(resp);
            } else {
                doc = resource_list_json(&s, "", seg[0]);
                sb_resp_json(resp, 200, doc);
            }
        } else {
            text_404(resp);
        }
        goto done;
    }

    /* /apis... */
    if (nseg == 0) {
        if (!is_get(req)) {
            method_not_allowed(resp);
            goto done;
        }
        size_t ng = 0;
        char **groups = groups_of(&s, &ng);
        int v = wants_aggregated(req->accept);
        doc = json_object();
        if (v) {
            json_object_set_new(doc, "kind", json_string("APIGroupDiscoveryList"));
            json_object_set_new(doc, "apiVersion",
                                json_string(v == 2 ? "apidiscovery.k8s.io/v2"
                                                   : "apidiscovery.k8s.io/v2beta1"));
            json_object_set_new(doc, "metadata", json_object());
        } else {
            json_object_set_new(doc, "kind", json_string("APIGroupList"));
            json_object_set_new(doc, "apiVersion", json_string("v1"));
        }
        json_t *arr = json_array();
        for (size_t i = 0; i < ng; i++)
            json_array_append_new(arr, v ? agg_group_json(&s, groups[i])
                                         : api_group_json(&s, groups[i], 0));
        json_object_set_new(doc, v ? "items" : "groups", arr);
        pl_free(groups);
        set_json_with_etag(resp, doc, v == 2 ? CT_AGG_V2 : v == 1 ? CT_AGG_V2BETA1 : NULL);
        goto done;
    }
    {
        size_t nv = 0;
        char **vs = versions_of(&s, seg[0], &nv);
        pl_free(vs);
        if (nv == 0 || (nseg == 2 && !sb_types_serves(t, seg[0], seg[1]))) {
            /* unknown group or version: nobody serves the path (API-NOTES §6.3) */
            text_404(resp);
        } else if (!is_get(req)) {
            method_not_allowed(resp);
        } else {
            doc = nseg == 1 ? api_group_json(&s, seg[0], 1)
                            : resource_list_json(&s, seg[0], seg[1]);
            sb_resp_json(resp, 200, doc);
        }
    }

done:
    json_decref(doc);
    snap_free(&s);
    return handled;
}
