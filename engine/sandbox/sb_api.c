/*
 * sb_api.c - routing of resource URLs and the verbs of the sandbox (API-NOTES §2, §3, §4.1,
 * §5): GET/list, POST, PUT, PATCH (apply, merge, JSON, strategic), DELETE, deletecollection,
 * the /status and /scale subresources, dryRun=All, fieldValidation, and the control-endpoint
 * object operations (sb_api_control).
 *
 * What it does not do: HTTP, TLS, auth, faults (sb_http.c), discovery documents
 * (sb_discovery.c), the merge algorithms and managedFields (sb_ssa.c, sb_patch.c), CR schemas
 * (sb_schema.c). It calls those through sb.h.
 *
 * Every write runs under the store lock from the first read of the live object to the commit,
 * so a write is atomic for other requests, watchers and the background thread.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sb_api_int.h"

#define MAX_SEGS 12

typedef struct api_ctx {
    sb_server *srv;
    sb_store *st;
    const sb_request *req;
    sb_response *resp;
    const sb_type *t;
    sb_coll *coll;
    char *segbuf;
    const char *group, *version, *resource, *ns, *name, *sub;
    char gv[256];     /* "v1", "apps/v1" */
    char qres[320];   /* "configmaps", "deployments.apps" (messages) */
    int dry_run;
    int field_validation; /* 0 Ignore, 1 Warn, 2 Strict */
    const char *manager;
    char ua_manager[129];
    char now[32];
    sb_entry *written; /* the entry a write stored (valid while the lock is held) */
    json_t *pre_body;  /* the JSON object body, parsed before the store lock (owned) */
    /* a write's answer, serialised after the store lock is released (respond_later) */
    json_t *reply_obj; /* owned reference */
    int reply_code;
    char reply_kind[256];
} api_ctx;

enum { FV_IGNORE = 0, FV_WARN = 1, FV_STRICT = 2 };

/* ---- small helpers --------------------------------------------------------------------------- */

static int streq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static void plain_404(sb_response *resp)
{
    /* Go's http.NotFound through the apiextensions delegate chain (API-NOTES §6.3) */
    sb_resp_text(resp, 404, "text/plain; charset=utf-8", "404 page not found\n");
    sb_resp_header(resp, "X-Content-Type-Options", "nosniff");
}

static void json_404(sb_response *resp)
{
    json_t *d = json_object();
    sb_resp_status(resp, 404, "NotFound", "the server could not find the requested resource", d);
    json_decref(d);
}

/* A handler that answers again after respond_later (an error found afterwards) wins: the
 * deferred object is dropped. Caller holds the store lock. */
static void drop_reply(api_ctx *c)
{
    json_decref(c->reply_obj);
    c->reply_obj = NULL;
}

static void status_resp(api_ctx *c, int code, const char *reason, const char *msg,
                        json_t *details_take)
{
    drop_reply(c);
    sb_resp_status(c->resp, code, reason, msg, details_take);
    json_decref(details_take);
}

static void status_json(api_ctx *c, json_t *st_take)
{
    drop_reply(c);
    json_t *code = json_object_get(st_take, "code");
    sb_resp_json(c->resp, json_is_integer(code) ? (int)json_integer_value(code) : 500, st_take);
    json_decref(st_take);
}

/* details {"name","group","kind":<plural>} of NotFound/AlreadyExists/Conflict/Forbidden */
static json_t *details_nk(api_ctx *c, const char *name)
{
    json_t *d = json_object();
    if (name != NULL && name[0])
        json_object_set_new(d, "name", json_string(name));
    if (c->t->group[0])
        json_object_set_new(d, "group", json_string(c->t->group));
    json_object_set_new(d, "kind", json_string(c->t->resource));
    return d;
}

static void not_found(api_ctx *c, const char *name)
{
    pl_buf m = PL_BUF_INIT;
    pl_buf_printf(&m, "%s \"%s\" not found", c->qres, name);
    status_resp(c, 404, "NotFound", m.ptr, details_nk(c, name));
    pl_buf_dispose(&m);
}

static void bad_request(api_ctx *c, const char *msg)
{
    status_resp(c, 400, "BadRequest", msg, NULL);
}

static void rv_conflict(api_ctx *c, const char *name)
{
    pl_buf m = PL_BUF_INIT;
    pl_buf_printf(&m,
                  "Operation cannot be fulfilled on %s \"%s\": the object has been modified; "
                  "please apply your changes to the latest version and try again",
                  c->qres, name);
    status_resp(c, 409, "Conflict", m.ptr, details_nk(c, name));
    pl_buf_dispose(&m);
}

/* 422 for an invalid request option (dryRun, force, fieldManager): kind <Verb>Options. */
static void options_invalid(api_ctx *c, const char *opts_kind, json_t *cause_take)
{
    json_t *causes = json_array();
    json_array_append_new(causes, cause_take);
    json_t *st = sb_invalid_status(opts_kind, "meta.k8s.io", "", causes);
    json_decref(causes);
    status_json(c, st);
}

static void add_warning(api_ctx *c, const char *text)
{
    /* Warning: 299 - "<text>" with the text's quotes escaped (API-NOTES §0) */
    pl_buf b = PL_BUF_INIT;
    pl_buf_puts(&b, "299 - \"");
    for (const char *p = text; *p; p++) {
        if (*p == '"' || *p == '\\')
            pl_buf_putc(&b, '\\');
        pl_buf_putc(&b, *p);
    }
    pl_buf_putc(&b, '"');
    sb_resp_header(c->resp, "Warning", b.ptr);
    pl_buf_dispose(&b);
}

static const char *meta_str(const json_t *obj, const char *key)
{
    return pl_json_str(obj, "metadata", key, NULL);
}

static json_t *meta_of(json_t *obj)
{
    json_t *m = json_object_get(obj, "metadata");
    if (!json_is_object(m)) {
        m = json_object();
        json_object_set_new(obj, "metadata", m);
    }
    return m;
}

/* Respond with an object of the request's type, apiVersion set to the request's gv. */
static void respond_obj(api_ctx *c, int code, const json_t *obj)
{
    drop_reply(c);
    json_t *o = sb_obj_ordered(obj);
    if (o == NULL) {
        status_resp(c, 500, "InternalError", "out of memory", NULL);
        return;
    }
    if (json_object_get(o, "apiVersion") != NULL || json_object_get(o, "kind") != NULL)
        json_object_set_new(o, "apiVersion", json_string(c->gv));
    sb_resp_json(c->resp, code, o);
    json_decref(o);
}

static void respond_text_kind(api_ctx *c, int code, const sb_text *t, const char *kind)
{
    if (t == NULL) {
        status_resp(c, 500, "InternalError", "out of memory", NULL);
        return;
    }
    pl_buf_clear(&c->resp->body);
    const char *av = NULL;
    /* rewrite only when the stored apiVersion differs from the requested one */
    if (t->tm_len > 0) {
        char want[300];
        snprintf(want, sizeof(want), "\"apiVersion\":\"%s\",", c->gv);
        const char *p = strstr(t->s, "\"apiVersion\":");
        if (p == NULL || (size_t)(p - t->s) > t->tm_len || strncmp(p, want, strlen(want)) != 0)
            av = c->gv;
    }
    sb_text_append(&c->resp->body, t, kind, av, 1);
    pl_buf_putc(&c->resp->body, '\n');
    pl_free(c->resp->content_type);
    c->resp->content_type = NULL;
    c->resp->status = code;
}

static void respond_text(api_ctx *c, int code, const sb_text *t)
{
    drop_reply(c);
    respond_text_kind(c, code, t, c->t->kind);
}

/*
 * Answer a write with the object it stored. Serialising it is the largest single piece of
 * a write, and nobody else needs that text unless they read the object (sb_entry_text), so
 * the writer keeps a reference to the immutable stored object and serialises it after the
 * store lock is released (reply_now): other requests go on meanwhile.
 */
static void respond_later(api_ctx *c, int code, sb_entry *e)
{
    drop_reply(c);
    c->reply_obj = json_incref(e->obj);
    c->reply_code = code;
    snprintf(c->reply_kind, sizeof(c->reply_kind), "%s", c->t->kind);
    /* whatever the handler set before is replaced by the object */
    pl_buf_clear(&c->resp->body);
    c->resp->status = code;
}

/* Without the lock: the object is immutable and our reference keeps it alive. */
static void reply_now(api_ctx *c)
{
    json_t *obj = c->reply_obj;
    if (obj == NULL)
        return;
    c->reply_obj = NULL;
    sb_text *t = sb_text_new(obj);
    respond_text_kind(c, c->reply_code, t, c->reply_kind);
    sb_text_unref(t);
    sb_store_release(c->st, obj);
}

static const char *user_agent_manager(api_ctx *c)
{
    /* default manager: the User-Agent up to its first '/' (API-NOTES §4.8) */
    const char *ua = c->req->user_agent;
    if (ua == NULL || ua[0] == '\0')
        return "unknown";
    size_t n = strcspn(ua, "/");
    if (n >= sizeof(c->ua_manager))
        n = sizeof(c->ua_manager) - 1;
    memcpy(c->ua_manager, ua, n);
    c->ua_manager[n] = '\0';
    return c->ua_manager;
}

static void fm_opts(api_ctx *c, sb_fm_opts *o, const char *manager)
{
    memset(o, 0, sizeof(*o));
    o->manager = manager;
    o->api_version = c->gv;
    o->subresource = c->sub;
    o->now = c->now;
}

static const char *media_type(const char *ct, char *buf, size_t n)
{
    /* parameters (";charset=utf-8") are stripped (API-NOTES §5.3) */
    if (ct == NULL)
        return "";
    size_t len = strcspn(ct, ";");
    while (len > 0 && isspace((unsigned char)ct[len - 1]))
        len--;
    if (len >= n)
        len = n - 1;
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)tolower((unsigned char)ct[i]);
    buf[len] = '\0';
    return buf;
}

/* ---- body decoding ------------------------------------------------------------------------- */

/*
 * Every request runs under the store lock, so what can be done before it is done there: a
 * body that is a JSON object (what clients send for every write) is parsed before the lock is
 * taken (parse_early) and handed to the first handler that asks for it (take_body). Anything
 * else - YAML, an invalid body, arrays, scalars - is parsed where it always was, so errors and
 * their order (a 404 before a 400) do not change.
 */
static json_t *parse_early(const sb_request *req)
{
    const char *b = req->body;
    size_t n = req->body ? req->body_len : 0, i = 0;
    while (i < n && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t'))
        i++;
    if (i == n || b[i] != '{')
        return NULL;
    json_t *doc = json_loadb(b, n, JSON_DECODE_ANY, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* The body parsed as json_loadb(body, flags) would; the caller owns the result. */
static json_t *take_body(api_ctx *c, size_t flags, json_error_t *jerr)
{
    json_t *doc = c->pre_body;
    if (doc != NULL) {
        c->pre_body = NULL; /* an object parses the same with or without JSON_DECODE_ANY */
        return doc;
    }
    return json_loadb(c->req->body ? c->req->body : "", c->req->body ? c->req->body_len : 0,
                      flags, jerr);
}

/* Parse a JSON (or YAML when allowed) object body. Fills a 400/415 response on failure. */
static json_t *decode_body(api_ctx *c, int allow_yaml, const char *what)
{
    char mt[128];
    const char *ct = media_type(c->req->content_type, mt, sizeof(mt));
    const char *body = c->req->body ? c->req->body : "";
    size_t len = c->req->body ? c->req->body_len : 0;
    json_t *doc = NULL;
    int yaml = 0;
    if (strcmp(ct, "application/yaml") == 0 && allow_yaml) {
        yaml = 1;
    } else if (ct[0] != '\0' && strcmp(ct, "application/json") != 0) {
        status_resp(c, 415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types "
                    "include: application/json, application/yaml, "
                    "application/vnd.kubernetes.protobuf",
                    NULL);
        return NULL;
    }
    if (yaml) {
        json_t *docs = NULL;
        pl_yaml_opts yo = PL_YAML_OPTS_INIT;
        if (pl_yaml_parse(&docs, body, len, what, &yo) < 0 || json_array_size(docs) != 1) {
            pl_buf m = PL_BUF_INIT;
            pl_buf_printf(&m, "couldn't get version/kind; yaml parse error: %s",
                          docs ? "expected exactly one document" : pl_error_last()->message);
            bad_request(c, m.ptr);
            pl_buf_dispose(&m);
            json_decref(docs);
            return NULL;
        }
        doc = json_incref(json_array_get(docs, 0));
        json_decref(docs);
    } else {
        json_error_t jerr;
        doc = take_body(c, JSON_DECODE_ANY, &jerr);
        if (doc == NULL) {
            pl_buf m = PL_BUF_INIT;
            pl_buf_printf(&m, "couldn't get version/kind; json parse error: %s", jerr.text);
            bad_request(c, m.ptr);
            pl_buf_dispose(&m);
            return NULL;
        }
        if (c->field_validation == FV_STRICT && json_is_object(doc)) {
            json_t *strict = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
            if (strict == NULL) {
                pl_buf m = PL_BUF_INIT;
                pl_buf_printf(&m, "strict decoding error: %s", jerr.text);
                bad_request(c, m.ptr);
                pl_buf_dispose(&m);
                json_decref(doc);
                return NULL;
            }
            json_decref(strict);
        }
    }
    if (!json_is_object(doc)) {
        pl_buf m = PL_BUF_INIT;
        pl_buf_printf(&m, "the object provided is unrecognized (must be of type %s): "
                          "couldn't get version/kind; json parse error: expected an object",
                      c->t->kind);
        bad_request(c, m.ptr);
        pl_buf_dispose(&m);
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* apiVersion/kind of a POST/PUT body against the URL (API-NOTES §5.1). */
static int check_type_meta(api_ctx *c, json_t *obj)
{
    const char *av = pl_json_str(obj, "apiVersion", NULL);
    const char *kind = pl_json_str(obj, "kind", NULL);
    char want[300];
    snprintf(want, sizeof(want), "%s", c->gv);
    if (c->sub != NULL && strcmp(c->sub, "scale") == 0)
        snprintf(want, sizeof(want), "autoscaling/v1");
    const char *want_kind = (c->sub && strcmp(c->sub, "scale") == 0) ? "Scale" : c->t->kind;
    if (kind == NULL || kind[0] == '\0') {
        char *text = json_dumps(obj, JSON_COMPACT);
        pl_buf m = PL_BUF_INIT;
        pl_buf_printf(&m, "Object 'Kind' is missing in '%s'", text ? text : "");
        bad_request(c, m.ptr);
        pl_buf_dispose(&m);
        pl_free(text);
        return -1;
    }
    if (av != NULL && av[0] && strcmp(av, want) != 0) {
        pl_buf m = PL_BUF_INIT;
        pl_buf_printf(&m,
                      "the API version in the data (%s) does not match the expected API "
                      "version (%s)",
                      av, want);
        bad_request(c, m.ptr);
        pl_buf_dispose(&m);
        return -1;
    }
    if (strcmp(kind, want_kind) != 0) {
        pl_buf m = PL_BUF_INIT;
        pl_buf_printf(&m, "%s in version \"%s\" cannot be handled as a %s: no kind \"%s\" is "
                          "registered for version \"%s\"",
                      kind, c->version, want_kind, kind, want);
        bad_request(c, m.ptr);
        pl_buf_dispose(&m);
        return -1;
    }
    json_object_set_new(obj, "apiVersion", json_string(want));
    return 0;
}

/* ---- shared write steps ------------------------------------------------------------------- */

static void meta_del(json_t *obj, const char *key)
{
    json_t *m = json_object_get(obj, "metadata");
    if (json_is_object(m))
        json_object_del(m, key);
}

/* CR pruning/defaults/validation for non-apply writes (API-NOTES §7.2). -1 = responded. */
static int cr_schema_pass(api_ctx *c, json_t *obj, int apply)
{
    if (!(c->t->flags & SB_T_CUSTOM) || c->t->schema == NULL)
        return 0;
    json_t *dropped = json_array(), *causes = json_array();
    sb_schema_prune_default_validate(c->t->schema, obj, dropped, causes);
    int rc = 0;
    if (!apply && json_array_size(dropped) > 0) {
        if (c->field_validation == FV_STRICT) {
            pl_buf m = PL_BUF_INIT;
            pl_buf_puts(&m, "strict decoding error: ");
            size_t i;
            json_t *d;
            json_array_foreach(dropped, i, d) {
                if (i)
                    pl_buf_puts(&m, ", ");
                pl_buf_puts(&m, json_string_value(d) ? json_string_value(d) : "");
            }
            bad_request(c, m.ptr);
            pl_buf_dispose(&m);
            rc = -1;
        } else if (c->field_validation == FV_WARN) {
            size_t i;
            json_t *d;
            json_array_foreach(dropped, i, d) {
                if (json_is_string(d))
                    add_warning(c, json_string_value(d));
            }
        }
    }
    if (rc == 0 && json_array_size(causes) > 0) {
        status_json(c, sb_invalid_status(c->t->kind, c->t->group, meta_str(obj, "name"), causes));
        rc = -1;
    }
    json_decref(dropped);
    json_decref(causes);
    return rc;
}

static int validate_or_respond(api_ctx *c, json_t *obj, const json_t *old)
{
    json_t *causes = json_array();
    sb_validate_object(c->t, obj, old, causes);
    if (streq(c->t->group, "apiextensions.k8s.io") &&
        streq(c->t->resource, "customresourcedefinitions"))
        sb_crd_validate(obj, causes);
    int rc = 0;
    if (json_array_size(causes) > 0) {
        const char *name = meta_str(obj, "name");
        status_json(c, sb_invalid_status(c->t->kind, c->t->group, name ? name : "", causes));
        rc = -1;
    }
    json_decref(causes);
    return rc;
}

static int is_crd_type(const sb_type *t)
{
    return streq(t->group, "apiextensions.k8s.io") &&
           streq(t->resource, "customresourcedefinitions");
}

/* Fields of an object outside metadata (and status when excluded) differ? (generation, §3.1) */
static int spec_changed(const json_t *a, const json_t *b, int skip_status, int deployment)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v) {
        if (strcmp(k, "metadata") == 0 || strcmp(k, "kind") == 0 || strcmp(k, "apiVersion") == 0 ||
            (skip_status && strcmp(k, "status") == 0))
            continue;
        json_t *w = json_object_get(b, k);
        if (w == NULL || !json_equal(v, w))
            return 1;
    }
    json_object_foreach((json_t *)b, k, v) {
        if (strcmp(k, "metadata") == 0 || strcmp(k, "kind") == 0 || strcmp(k, "apiVersion") == 0 ||
            (skip_status && strcmp(k, "status") == 0))
            continue;
        if (json_object_get(a, k) == NULL)
            return 1;
    }
    if (deployment) {
        /* Deployment's generation also follows metadata.annotations (API-NOTES §3.1) */
        json_t *aa = pl_json_path(a, "metadata", "annotations", NULL);
        json_t *ba = pl_json_path(b, "metadata", "annotations", NULL);
        int ea = aa == NULL || json_object_size(aa) == 0;
        int eb = ba == NULL || json_object_size(ba) == 0;
        if (!(ea && eb) && (aa == NULL || ba == NULL || !json_equal(aa, ba)))
            return 1;
    }
    return 0;
}

static void typed_ctx(api_ctx *c, const char *name, char *out, size_t n)
{
    /* "(ns/name; group/version, Kind=K)"; core group prints empty (API-NOTES §4.1) */
    if (c->ns != NULL && c->t->flags & SB_T_NAMESPACED)
        snprintf(out, n, "(%s/%s; %s/%s, Kind=%s)", c->ns, name, c->t->group, c->version,
                 c->t->kind);
    else
        snprintf(out, n, "(%s; %s/%s, Kind=%s)", name, c->t->group, c->version, c->t->kind);
}

/*
 * Objects are stored in the CRD's storage version; the served versions differ only by
 * apiVersion (conversion strategy None, API-NOTES §7.1). Built-ins have one version.
 */
static void to_storage_version(api_ctx *c, json_t *obj)
{
    if (!(c->t->flags & SB_T_CUSTOM) || c->t->crd == NULL)
        return;
    size_t i;
    json_t *v;
    json_array_foreach(pl_json_path(c->t->crd, "spec", "versions", NULL), i, v) {
        const char *name = pl_json_str(v, "name", NULL);
        if (name != NULL && json_is_true(json_object_get(v, "storage")) &&
            strcmp(name, c->version) != 0) {
            pl_buf b = PL_BUF_INIT;
            pl_buf_printf(&b, "%s/%s", c->t->group, name);
            json_object_set_new(obj, "apiVersion", json_string(b.ptr));
            pl_buf_dispose(&b);
        }
    }
}

/* ---- create ------------------------------------------------------------------------------- */

/*
 * The create path shared by POST and create-on-apply (obj taken). `applied` means SSA already
 * produced managedFields.
 */
static void do_create(api_ctx *c, json_t *obj, int applied)
{
    json_t *meta = meta_of(obj);
    const sb_type *t = c->t;
    char uid[37];
    int had_rv = meta_str(obj, "resourceVersion") != NULL && meta_str(obj, "resourceVersion")[0];

    if (t->flags & SB_T_NAMESPACED)
        json_object_set_new(meta, "namespace", json_string(c->ns));
    else
        json_object_del(meta, "namespace");
    const char *name = meta_str(obj, "name");
    const char *gen = meta_str(obj, "generateName");
    if ((name == NULL || name[0] == '\0') && gen != NULL && gen[0]) {
        char suffix[8];
        sb_random_suffix(suffix, 5);
        pl_buf b = PL_BUF_INIT;
        pl_buf_printf(&b, "%s%s", gen, suffix);
        json_object_set_new(meta, "name", json_string(b.ptr));
        pl_buf_dispose(&b);
    }
    sb_uuid4(uid);
    json_object_set_new(meta, "uid", json_string(uid));
    json_object_set_new(meta, "creationTimestamp", json_string(c->now));
    json_object_del(meta, "resourceVersion");
    json_object_del(meta, "deletionTimestamp");
    json_object_del(meta, "deletionGracePeriodSeconds");
    json_object_del(meta, "selfLink");
    if (t->flags & SB_T_GENERATION)
        json_object_set_new(meta, "generation", json_integer(1));
    else
        json_object_del(meta, "generation");
    /* the main resource clears status on create for types with a status subresource (§4.9) */
    if (t->flags & SB_T_STATUS)
        json_object_del(obj, "status");
    if (cr_schema_pass(c, obj, applied) < 0)
        goto done;
    sb_defaults_apply(t, obj, NULL);
    if (is_crd_type(t))
        sb_crd_defaults(obj, 1);
    to_storage_version(c, obj);
    if (validate_or_respond(c, obj, NULL) < 0)
        goto done;
    name = meta_str(obj, "name");

    /* admission: namespace lifecycle (API-NOTES §3.3, §8) */
    if (t->flags & SB_T_NAMESPACED) {
        int s = sb_ns_state(c->st, c->ns);
        if (s == 1) {
            pl_buf m = PL_BUF_INIT;
            pl_buf_printf(&m, "namespaces \"%s\" not found", c->ns);
            status_resp(c, 404, "NotFound", m.ptr,
                        json_pack("{s:s,s:s}", "name", c->ns, "kind", "namespaces"));
            pl_buf_dispose(&m);
            goto done;
        }
        if (s == 2) {
            pl_buf m = PL_BUF_INIT, cm = PL_BUF_INIT;
            pl_buf_printf(&m,
                          "%s \"%s\" is forbidden: unable to create new content in namespace "
                          "%s because it is being terminated",
                          c->qres, name, c->ns);
            pl_buf_printf(&cm, "namespace %s is being terminated", c->ns);
            json_t *d = details_nk(c, name);
            json_object_set_new(d, "causes",
                                json_pack("[{s:s,s:s,s:s}]", "reason", "NamespaceTerminating",
                                          "message", cm.ptr, "field", "metadata.namespace"));
            status_resp(c, 403, "Forbidden", m.ptr, d);
            pl_buf_dispose(&m);
            pl_buf_dispose(&cm);
            goto done;
        }
    }
    if ((t->flags & SB_T_CUSTOM) && sb_crd_terminating(c->st, t->group, t->resource)) {
        pl_buf m = PL_BUF_INIT;
        pl_buf_printf(&m,
                      "%s \"%s\" is forbidden: create not allowed while custom resource "
                      "definition is terminating",
                      c->qres, name);
        status_resp(c, 403, "Forbidden", m.ptr, details_nk(c, name));
        pl_buf_dispose(&m);
        goto done;
    }
    /* storage: a set resourceVersion is a reason-less 500 (API-NOTES §5.1); not on dry run */
    if (had_rv && !c->dry_run && !applied) {
        status_resp(c, 500, NULL, "resourceVersion should not be set on objects to be created",
                    NULL);
        goto done;
    }
    sb_entry *old = sb_store_get(c->coll, (t->flags & SB_T_NAMESPACED) ? c->ns : "", name);
    if (old != NULL) {
        pl_buf m = PL_BUF_INIT;
        if (meta_str(old->obj, "deletionTimestamp") != NULL)
            pl_buf_puts(&m, "object is being deleted: ");
        pl_buf_printf(&m, "%s \"%s\" already exists", c->qres, name);
        status_resp(c, 409, "AlreadyExists", m.ptr, details_nk(c, name));
        pl_buf_dispose(&m);
        goto done;
    }
    if (!applied) {
        sb_fm_opts o;
        fm_opts(c, &o, c->manager);
        o.subresource = NULL;
        sb_ssa_update(obj, t->schema, NULL, &o);
    }
    if (c->dry_run) {
        /* dry-run create: uid and creationTimestamp, no resourceVersion (API-NOTES §4.4) */
        respond_obj(c, 201, obj);
        goto done;
    }
    sb_entry *e = NULL;
    int rc = sb_store_put(c->st, c->coll, obj, &e);
    obj = NULL;
    if (rc < 0) {
        status_resp(c, 500, "InternalError", pl_error_last()->message, NULL);
        goto done;
    }
    if (is_crd_type(t)) {
        sb_store_kick(c->st);
    }
    c->written = e;
    respond_later(c, 201, e);
done:
    json_decref(obj);
}

/* ---- update ---------------------------------------------------------------------------------- */

/*
 * The update path shared by PUT, PATCH (all types) and apply of an existing object.
 * `obj` (taken) is the intended new state of the main resource (for /status: the object
 * whose .status is taken). `applied`: SSA already rewrote managedFields.
 */
static void do_update(api_ctx *c, sb_entry *old, json_t *obj, int applied)
{
    const sb_type *t = c->t;
    const json_t *live = old->obj;
    const char *name = old->name;
    json_t *res = NULL;

    /* resourceVersion precondition (API-NOTES §5.2, §4.1) */
    const char *rv = meta_str(obj, "resourceVersion");
    if (rv != NULL && rv[0] && strcmp(rv, meta_str(live, "resourceVersion")) != 0) {
        rv_conflict(c, name);
        goto done;
    }
    if (c->sub != NULL && strcmp(c->sub, "status") == 0) {
        /* /status changes only .status (API-NOTES §4.9) */
        res = json_deep_copy(live);
        json_t *s = json_object_get(obj, "status");
        if (s != NULL)
            json_object_set(res, "status", s);
        else
            json_object_del(res, "status");
        if (applied) {
            json_t *mf = pl_json_path(obj, "metadata", "managedFields", NULL);
            if (mf != NULL)
                json_object_set(meta_of(res), "managedFields", mf);
        }
        json_decref(obj);
        obj = NULL;
    } else {
        res = obj;
        obj = NULL;
        to_storage_version(c, res);
        json_t *meta = meta_of(res);
        const char *uid = meta_str(res, "uid");
        if (uid != NULL && uid[0] && !streq(uid, meta_str(live, "uid"))) {
            json_t *causes = json_array();
            json_array_append_new(causes, sb_cause("FieldValueInvalid", "metadata.uid",
                                                   json_object_get(meta, "uid"),
                                                   "field is immutable"));
            status_json(c, sb_invalid_status(t->kind, t->group, name, causes));
            json_decref(causes);
            goto done;
        }
        static const char *const keep[] = {"uid", "creationTimestamp", "deletionTimestamp",
                                           "deletionGracePeriodSeconds", "generation", NULL};
        for (int i = 0; keep[i]; i++) {
            json_t *v = pl_json_path(live, "metadata", keep[i], NULL);
            if (v != NULL)
                json_object_set(meta, keep[i], v);
            else
                json_object_del(meta, keep[i]);
        }
        json_object_set_new(meta, "name", json_string(name));
        if (t->flags & SB_T_NAMESPACED)
            json_object_set_new(meta, "namespace", json_string(old->ns));
        else
            json_object_del(meta, "namespace");
        json_object_del(meta, "selfLink");
        if (t->flags & SB_T_STATUS) {
            json_t *s = json_object_get(live, "status");
            if (s != NULL)
                json_object_set(res, "status", s);
            else
                json_object_del(res, "status");
        }
        /* no new finalizers once deletion started (API-NOTES §3.1) */
        if (meta_str(live, "deletionTimestamp") != NULL) {
            json_t *nf = json_object_get(meta, "finalizers");
            json_t *of = pl_json_path(live, "metadata", "finalizers", NULL);
            json_t *added = json_array();
            size_t i;
            json_t *f;
            json_array_foreach(nf, i, f) {
                int found = 0;
                size_t j;
                json_t *g;
                json_array_foreach(of, j, g) {
                    if (json_equal(f, g))
                        found = 1;
                }
                if (!found)
                    json_array_append(added, f);
            }
            if (json_array_size(added) > 0) {
                pl_buf d = PL_BUF_INIT;
                pl_buf_puts(&d, "no new finalizers can be added if the object is being deleted, "
                                "found new finalizers []string{");
                json_array_foreach(added, i, f) {
                    pl_buf_printf(&d, "%s\"%s\"", i ? ", " : "",
                                  json_string_value(f) ? json_string_value(f) : "");
                }
                pl_buf_puts(&d, "}");
                json_t *causes = json_array();
                json_array_append_new(causes,
                                      sb_cause("FieldValueForbidden", "metadata.finalizers", NULL,
                                               d.ptr));
                status_json(c, sb_invalid_status(t->kind, t->group, name, causes));
                json_decref(causes);
                pl_buf_dispose(&d);
                json_decref(added);
                goto done;
            }
            json_decref(added);
        }
        if (cr_schema_pass(c, res, applied) < 0)
            goto done;
        sb_defaults_apply(t, res, live);
        if (is_crd_type(t))
            sb_crd_defaults(res, 0);
        if (validate_or_respond(c, res, live) < 0)
            goto done;
        /* generation (API-NOTES §3.1) */
        json_t *g = pl_json_path(live, "metadata", "generation", NULL);
        if (json_is_integer(g) &&
            spec_changed(live, res, (t->flags & SB_T_STATUS) != 0,
                         streq(t->group, "apps") && streq(t->kind, "Deployment")))
            json_object_set_new(meta, "generation", json_integer(json_integer_value(g) + 1));
    }
    if (!applied) {
        sb_fm_opts o;
        fm_opts(c, &o, c->manager);
        sb_ssa_update(res, t->schema, live, &o);
    }
    /* a write that changes nothing is not persisted (API-NOTES §3.1, §4.2) */
    json_object_set(meta_of(res), "resourceVersion",
                    pl_json_path(live, "metadata", "resourceVersion", NULL));
    if (sb_obj_equal_ignoring_times(live, res)) {
        respond_later(c, 200, old);
        goto done;
    }
    if (c->dry_run) {
        respond_obj(c, 200, res);
        goto done;
    }
    json_t *stored = NULL;
    int gone = 0;
    int rc = sb_update_or_finish(c->srv, c->coll, res, &stored, &gone);
    res = NULL;
    if (rc < 0) {
        status_resp(c, 500, "InternalError", pl_error_last()->message, NULL);
        goto done;
    }
    if (is_crd_type(t) && !gone)
        sb_crd_after_write(c->srv, stored);
    if (!gone)
        c->written = sb_store_get(c->coll, c->coll->namespaced ? meta_str(stored, "namespace") : "",
                                  meta_str(stored, "name"));
    /* the stored text is this very object, already serialised by the store */
    if (c->written != NULL && c->written->obj == stored)
        respond_later(c, 200, c->written);
    else
        respond_obj(c, 200, stored);
    json_decref(stored);
done:
    json_decref(obj);
    json_decref(res);
}

/* ---- scale subresource (API-NOTES §2) ------------------------------------------------------ */

static json_t *scale_of(api_ctx *c, const json_t *obj)
{
    json_t *meta = json_object();
    static const char *const keys[] = {"name", "namespace", "uid", "resourceVersion",
                                       "creationTimestamp", NULL};
    for (int i = 0; keys[i]; i++) {
        json_t *v = pl_json_path(obj, "metadata", keys[i], NULL);
        if (v != NULL)
            json_object_set(meta, keys[i], v);
    }
    json_t *replicas = pl_json_path(obj, "spec", "replicas", NULL);
    json_t *sreplicas = pl_json_path(obj, "status", "replicas", NULL);
    pl_buf sel = PL_BUF_INIT;
    json_t *ml = pl_json_path(obj, "spec", "selector", "matchLabels", NULL);
    const char *k;
    json_t *v;
    int first = 1;
    json_object_foreach(ml, k, v) {
        pl_buf_printf(&sel, "%s%s=%s", first ? "" : ",", k,
                      json_string_value(v) ? json_string_value(v) : "");
        first = 0;
    }
    json_t *status = json_pack("{s:I}", "replicas",
                               (json_int_t)(json_is_integer(sreplicas)
                                                ? json_integer_value(sreplicas)
                                                : 0));
    if (sel.ptr != NULL)
        json_object_set_new(status, "selector", json_string(sel.ptr));
    pl_buf_dispose(&sel);
    json_t *spec = json_object();
    json_object_set_new(spec, "replicas",
                        json_integer(json_is_integer(replicas) ? json_integer_value(replicas) : 1));
    (void)c;
    return json_pack("{s:s,s:s,s:o,s:o,s:o}", "kind", "Scale", "apiVersion", "autoscaling/v1",
                     "metadata", meta, "spec", spec, "status", status);
}

/* PUT or PATCH of /scale: `scale` (taken) is the new Scale. */
static void scale_write(api_ctx *c, sb_entry *old, json_t *scale)
{
    const char *rv = pl_json_str(scale, "metadata", "resourceVersion", NULL);
    if (rv != NULL && rv[0] && strcmp(rv, meta_str(old->obj, "resourceVersion")) != 0) {
        rv_conflict(c, old->name);
        json_decref(scale);
        return;
    }
    json_t *r = pl_json_path(scale, "spec", "replicas", NULL);
    json_t *obj = json_deep_copy(old->obj);
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec)) {
        spec = json_object();
        json_object_set_new(obj, "spec", spec);
    }
    json_object_set(spec, "replicas", json_is_integer(r) ? r : json_integer(0));
    json_t *g = pl_json_path(old->obj, "metadata", "generation", NULL);
    if (json_is_integer(g) && !json_equal(r, pl_json_path(old->obj, "spec", "replicas", NULL)))
        json_object_set_new(meta_of(obj), "generation", json_integer(json_integer_value(g) + 1));
    sb_fm_opts o;
    fm_opts(c, &o, c->manager);
    sb_ssa_update(obj, c->t->schema, old->obj, &o);
    json_decref(scale);
    if (sb_obj_equal_ignoring_times(old->obj, obj)) {
        json_t *s = scale_of(c, old->obj);
        sb_resp_json(c->resp, 200, s);
        json_decref(s);
        json_decref(obj);
        return;
    }
    if (c->dry_run) {
        json_t *s = scale_of(c, obj);
        sb_resp_json(c->resp, 200, s);
        json_decref(s);
        json_decref(obj);
        return;
    }
    json_t *stored = NULL;
    int gone = 0;
    sb_update_or_finish(c->srv, c->coll, obj, &stored, &gone);
    json_t *s = scale_of(c, stored);
    sb_resp_json(c->resp, 200, s);
    json_decref(s);
    json_decref(stored);
}

/* ---- verbs ----------------------------------------------------------------------------------- */

static void handle_get(api_ctx *c)
{
    sb_entry *e = sb_store_get(c->coll, c->ns ? c->ns : "", c->name);
    if (e == NULL) {
        not_found(c, c->name);
        return;
    }
    if (c->sub != NULL && strcmp(c->sub, "scale") == 0) {
        json_t *s = scale_of(c, e->obj);
        sb_resp_json(c->resp, 200, s);
        json_decref(s);
        return;
    }
    respond_text(c, 200, sb_entry_text(e));
}

static int b64_encode(pl_buf *out, const unsigned char *data, size_t len)
{
    size_t n = 4 * ((len + 2) / 3);
    if (pl_buf_grow(out, n + 1) < 0)
        return PL_ENOMEM;
    EVP_EncodeBlock((unsigned char *)out->ptr + out->len, data, (int)len);
    out->len += n;
    out->ptr[out->len] = '\0';
    return 0;
}

static json_t *continue_decode(const char *tok)
{
    size_t n = strlen(tok);
    if (n == 0 || n % 4 != 0 || n > 4096)
        return NULL;
    unsigned char *buf = pl_malloc(n);
    if (buf == NULL)
        return NULL;
    int len = EVP_DecodeBlock(buf, (const unsigned char *)tok, (int)n);
    json_t *j = NULL;
    if (len > 0) {
        while (len > 0 && buf[len - 1] == '\0')
            len--;
        j = json_loadb((const char *)buf, (size_t)len, 0, NULL);
    }
    pl_free(buf);
    if (j != NULL && (!json_is_integer(json_object_get(j, "rv")) ||
                      !json_is_string(json_object_get(j, "ns")) ||
                      !json_is_string(json_object_get(j, "name")))) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

static int parse_selectors(api_ctx *c, sb_selector **ls, sb_selector **fs)
{
    char *err = NULL;
    *ls = NULL;
    *fs = NULL;
    if (sb_labelsel_parse(ls, sb_req_arg(c->req, "labelSelector"), &err) < 0 ||
        sb_fieldsel_parse(fs, sb_req_arg(c->req, "fieldSelector"), c->t->resource,
                          (c->t->flags & SB_T_CUSTOM) != 0, &err) < 0) {
        bad_request(c, err ? err : "invalid selector");
        pl_free(err);
        sb_selector_free(*ls);
        *ls = NULL;
        return -1;
    }
    return 0;
}

static int want_typemeta_in_items(const sb_type *t)
{
    return (t->flags & SB_T_CUSTOM) != 0; /* API-NOTES §10.4 */
}


static void handle_list(api_ctx *c)
{
    sb_selector *ls = NULL, *fs = NULL;
    if (parse_selectors(c, &ls, &fs) < 0)
        return;
    const char *w = sb_req_arg(c->req, "watch");
    if (w != NULL && (strcmp(w, "1") == 0 || strcmp(w, "true") == 0)) {
        const char *ts = sb_req_arg(c->req, "timeoutSeconds");
        long timeout = ts ? strtol(ts, NULL, 10) : 0;
        if (timeout <= 0)
            timeout = 1800; /* a real server picks 30-60 min */
        sb_watch_open(c->srv, c->resp, c->coll, c->t, c->ns, ls, fs,
                      sb_req_arg(c->req, "resourceVersion"), (int)timeout, c->gv);
        return;
    }
    const char *lim = sb_req_arg(c->req, "limit");
    long limit = lim ? strtol(lim, NULL, 10) : 0;
    const char *cont = sb_req_arg(c->req, "continue");
    json_t *tok = NULL;
    pl_buf out = PL_BUF_INIT;
    int with_tm = want_typemeta_in_items(c->t);

    uint64_t list_rv = c->st->rv;
    size_t start = 0, end = c->coll->n;
    const char *ns = (c->t->flags & SB_T_NAMESPACED) ? c->ns : NULL;
    if (ns != NULL) {
        start = sb_store_lower_bound(c->coll, ns, "");
        end = start;
        while (end < c->coll->n && strcmp(c->coll->items[end]->ns, ns) == 0)
            end++;
    }
    if (cont != NULL && cont[0]) {
        tok = continue_decode(cont);
        if (tok == NULL || (uint64_t)json_integer_value(json_object_get(tok, "rv")) <
                               c->st->ring_floor) {
            status_resp(c, 410, "Expired",
                        "The provided continue parameter is too old to display a consistent "
                        "list result. You can start a new list without the continue parameter.",
                        NULL);
            goto done;
        }
        list_rv = (uint64_t)json_integer_value(json_object_get(tok, "rv"));
        const char *tns = json_string_value(json_object_get(tok, "ns"));
        const char *tname = json_string_value(json_object_get(tok, "name"));
        size_t i = sb_store_lower_bound(c->coll, tns, tname);
        /* resume strictly after the last key served */
        if (i < c->coll->n && strcmp(c->coll->items[i]->ns, tns) == 0 &&
            strcmp(c->coll->items[i]->name, tname) == 0)
            i++;
        if (i > start)
            start = i;
    }
    pl_buf_printf(&out, "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":"
                        "\"%llu\"",
                  c->t->list_kind, c->gv, (unsigned long long)list_rv);
    pl_buf items = PL_BUF_INIT;
    pl_buf_puts(&items, "\"items\":[");
    long count = 0;
    sb_entry *last = NULL;
    int more = 0;
    int rewrite = with_tm && !streq(c->version, "");
    for (size_t i = start; i < end; i++) {
        sb_entry *e = c->coll->items[i];
        if (!sb_selector_match(ls, e->obj) || !sb_selector_match(fs, e->obj))
            continue;
        if (limit > 0 && count >= limit) {
            more = 1;
            break;
        }
        if (count > 0)
            pl_buf_putc(&items, ',');
        const char *sav = pl_json_str(e->obj, "apiVersion", NULL);
        const sb_text *et = sb_entry_text(e);
        if (et == NULL) {
            pl_buf_dispose(&items);
            status_resp(c, 500, "InternalError", "out of memory", NULL);
            goto done;
        }
        sb_text_append(&items, et, c->t->kind,
                       (rewrite && !streq(sav, c->gv)) ? c->gv : NULL, with_tm);
        count++;
        last = e;
    }
    if (more && last != NULL) {
        json_t *j = json_pack("{s:s,s:I,s:s,s:s}", "v", "meta.k8s.io/v1", "rv",
                              (json_int_t)list_rv, "ns", last->ns, "name", last->name);
        char *js = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (js != NULL) {
            pl_buf_puts(&out, ",\"continue\":\"");
            b64_encode(&out, (const unsigned char *)js, strlen(js));
            pl_buf_putc(&out, '"');
            pl_free(js);
        }
    }
    pl_buf_puts(&out, "},");
    pl_buf_put(&out, items.ptr, items.len);
    pl_buf_puts(&out, "]}\n");
    pl_buf_dispose(&items);
    pl_buf_dispose(&c->resp->body);
    c->resp->body = out;
    memset(&out, 0, sizeof(out));
    c->resp->status = 200;
    pl_free(c->resp->content_type);
    c->resp->content_type = NULL;
done:
    pl_buf_dispose(&out);
    json_decref(tok);
    sb_selector_free(ls);
    sb_selector_free(fs);
}

static void handle_post(api_ctx *c)
{
    json_t *obj = decode_body(c, 1, "request body");
    if (obj == NULL)
        return;
    if (check_type_meta(c, obj) < 0) {
        json_decref(obj);
        return;
    }
    const char *bns = meta_str(obj, "namespace");
    if ((c->t->flags & SB_T_NAMESPACED) && bns != NULL && bns[0] && strcmp(bns, c->ns) != 0) {
        bad_request(c, "the namespace of the provided object does not match the namespace sent "
                       "on the request");
        json_decref(obj);
        return;
    }
    do_create(c, obj, 0);
}

/* Identity checks of PUT and PATCH results (API-NOTES §3.2). -1 = responded. */
static int check_identity(api_ctx *c, const json_t *obj)
{
    const char *bname = meta_str(obj, "name");
    const char *bns = meta_str(obj, "namespace");
    if ((c->t->flags & SB_T_NAMESPACED) && bns != NULL && bns[0] && strcmp(bns, c->ns) != 0) {
        pl_buf m = PL_BUF_INIT;
        pl_buf_printf(&m,
                      "the namespace of the object (%s) does not match the namespace on the "
                      "request (%s)",
                      bns, c->ns);
        bad_request(c, m.ptr);
        pl_buf_dispose(&m);
        return -1;
    }
    if (bname == NULL || strcmp(bname, c->name) != 0) {
        pl_buf m = PL_BUF_INIT;
        pl_buf_printf(&m, "the name of the object (%s) does not match the name on the URL (%s)",
                      bname ? bname : "", c->name);
        bad_request(c, m.ptr);
        pl_buf_dispose(&m);
        return -1;
    }
    return 0;
}

static void handle_put(api_ctx *c)
{
    json_t *obj = decode_body(c, 1, "request body");
    if (obj == NULL)
        return;
    if (check_type_meta(c, obj) < 0 || check_identity(c, obj) < 0) {
        json_decref(obj);
        return;
    }
    sb_entry *old = sb_store_get(c->coll, c->ns ? c->ns : "", c->name);
    if (old == NULL) {
        not_found(c, c->name);
        json_decref(obj);
        return;
    }
    if (c->sub != NULL && strcmp(c->sub, "scale") == 0) {
        scale_write(c, old, obj);
        return;
    }
    const char *rv = meta_str(obj, "resourceVersion");
    if ((c->t->flags & SB_T_CUSTOM) && (rv == NULL || rv[0] == '\0')) {
        /* CRs require a resourceVersion on update (API-NOTES §5.2); details kind = plural */
        pl_buf m = PL_BUF_INIT;
        pl_buf_printf(&m,
                      "%s \"%s\" is invalid: metadata.resourceVersion: Invalid value: 0: must be "
                      "specified for an update",
                      c->qres, c->name);
        json_t *d = details_nk(c, c->name);
        json_object_set_new(d, "causes",
                            json_pack("[{s:s,s:s,s:s}]", "reason", "FieldValueInvalid", "message",
                                      "Invalid value: 0: must be specified for an update",
                                      "field", "metadata.resourceVersion"));
        status_resp(c, 422, "Invalid", m.ptr, d);
        pl_buf_dispose(&m);
        json_decref(obj);
        return;
    }
    do_update(c, old, obj, 0);
}

static void handle_apply(api_ctx *c)
{
    const char *fm = sb_req_arg(c->req, "fieldManager");
    if (fm == NULL || fm[0] == '\0') {
        options_invalid(c, "PatchOptions",
                        json_pack("{s:s,s:s,s:s}", "reason", "FieldValueRequired", "message",
                                  "Required value: is required for apply patch", "field",
                                  "fieldManager"));
        return;
    }
    json_t *docs = NULL;
    pl_yaml_opts yo = PL_YAML_OPTS_INIT;
    const char *body = c->req->body ? c->req->body : "";
    size_t blen = c->req->body ? c->req->body_len : 0;
    /* clients send JSON (valid YAML) almost always: decode it directly, and fall back to the
     * YAML reader for anything jansson refuses, so the error text is the YAML one */
    size_t lead = 0;
    while (lead < blen && (body[lead] == ' ' || body[lead] == '\n' || body[lead] == '\r' ||
                           body[lead] == '\t'))
        lead++;
    if (lead < blen && body[lead] == '{') {
        json_t *one = take_body(c, 0, NULL);
        if (json_is_object(one)) {
            docs = json_array();
            json_array_append_new(docs, one);
        } else {
            json_decref(one);
        }
    }
    if ((!docs && pl_yaml_parse(&docs, body, blen, "apply patch", &yo) < 0) ||
        json_array_size(docs) != 1 || !json_is_object(json_array_get(docs, 0))) {
        pl_buf m = PL_BUF_INIT;
        pl_buf_printf(&m, "error decoding YAML: %s",
                      docs ? "expected exactly one object" : pl_error_last()->message);
        bad_request(c, m.ptr);
        pl_buf_dispose(&m);
        json_decref(docs);
        return;
    }
    json_t *intent = json_incref(json_array_get(docs, 0));
    json_decref(docs);
    const char *av = pl_json_str(intent, "apiVersion", NULL);
    const char *kind = pl_json_str(intent, "kind", NULL);
    if (pl_json_path(intent, "metadata", "managedFields", NULL) != NULL) {
        bad_request(c, "metadata.managedFields must be nil");
        json_decref(intent);
        return;
    }
    if (!streq(av, c->gv)) {
        pl_buf m = PL_BUF_INIT;
        pl_buf_printf(&m,
                      "Incorrect version specified in apply patch. Specified patch version: %s, "
                      "expected: %s",
                      av ? av : "", c->gv);
        bad_request(c, m.ptr);
        pl_buf_dispose(&m);
        json_decref(intent);
        return;
    }
    if (!streq(kind, c->t->kind)) {
        pl_buf m = PL_BUF_INIT;
        pl_buf_printf(&m,
                      "Incorrect kind specified in apply patch. Specified patch kind: %s, "
                      "expected: %s",
                      kind ? kind : "", c->t->kind);
        bad_request(c, m.ptr);
        pl_buf_dispose(&m);
        json_decref(intent);
        return;
    }
    if (check_identity(c, intent) < 0) {
        json_decref(intent);
        return;
    }
    const char *force = sb_req_arg(c->req, "force");
    sb_fm_opts o;
    fm_opts(c, &o, fm);
    o.force = force != NULL && strcmp(force, "true") == 0;
    char tctx[600];
    typed_ctx(c, c->name, tctx, sizeof(tctx));
    int reset_status = (c->t->flags & SB_T_STATUS) && c->sub == NULL;

    sb_entry *old = sb_store_get(c->coll, c->ns ? c->ns : "", c->name);
    json_t *out = NULL, *err = NULL;
    if (old == NULL && c->sub != NULL) {
        not_found(c, c->name);
        goto unlock;
    }
    if (old == NULL) {
        /* create-on-apply; a resourceVersion in the intent is wiped (API-NOTES §4.1) */
        meta_del(intent, "resourceVersion");
        json_t *taken = intent;
        intent = NULL; /* sb_ssa_apply_new owns it now */
        if (sb_ssa_apply_new(&out, &err, c->t->schema, taken, &o, reset_status, tctx) < 0) {
            if (err != NULL)
                status_json(c, err);
            else
                status_resp(c, 500, NULL, pl_error_last()->message, NULL);
            goto unlock;
        }
        do_create(c, out, 1);
        goto unlock;
    }
    if (sb_ssa_apply(&out, &err, c->t->schema, old->obj, intent, &o, reset_status, tctx) < 0) {
        if (err != NULL)
            status_json(c, err);
        else
            status_resp(c, 500, NULL, pl_error_last()->message, NULL);
        goto unlock;
    }
    /* the intent's resourceVersion is a precondition (API-NOTES §4.1) */
    const char *irv = meta_str(intent, "resourceVersion");
    if (irv != NULL && irv[0])
        json_object_set_new(meta_of(out), "resourceVersion", json_string(irv));
    else
        meta_del(out, "resourceVersion");
    do_update(c, old, out, 1);
unlock:
    json_decref(intent);
}

static void handle_patch(api_ctx *c)
{
    char mt[128];
    const char *ct = media_type(c->req->content_type, mt, sizeof(mt));
    int custom = (c->t->flags & SB_T_CUSTOM) != 0;
    int is_apply = strcmp(ct, "application/apply-patch+yaml") == 0;
    int is_merge = strcmp(ct, "application/merge-patch+json") == 0;
    int is_json = strcmp(ct, "application/json-patch+json") == 0;
    int is_smp = strcmp(ct, "application/strategic-merge-patch+json") == 0 && !custom;
    if (!is_apply && !is_merge && !is_json && !is_smp) {
        status_resp(c, 415, "UnsupportedMediaType",
                    custom ? "the body of the request was in an unknown format - accepted media "
                             "types include: application/json-patch+json, "
                             "application/merge-patch+json, application/apply-patch+yaml"
                           : "the body of the request was in an unknown format - accepted media "
                             "types include: application/json-patch+json, "
                             "application/merge-patch+json, "
                             "application/strategic-merge-patch+json, "
                             "application/apply-patch+yaml",
                    NULL);
        return;
    }
    if (!is_apply && sb_req_arg(c->req, "force") != NULL) {
        options_invalid(c, "PatchOptions",
                        json_pack("{s:s,s:s,s:s}", "reason", "FieldValueForbidden", "message",
                                  "Forbidden: may not be specified for non-apply patch", "field",
                                  "force"));
        return;
    }
    if (is_apply) {
        if (c->sub != NULL && strcmp(c->sub, "scale") == 0) {
            status_resp(c, 415, "UnsupportedMediaType",
                        "the body of the request was in an unknown format - accepted media "
                        "types include: application/json-patch+json, "
                        "application/merge-patch+json",
                        NULL);
            return;
        }
        handle_apply(c);
        return;
    }
    json_error_t jerr;
    json_t *patch = take_body(c, JSON_DECODE_ANY, &jerr);
    if (patch == NULL) {
        pl_buf m = PL_BUF_INIT;
        pl_buf_printf(&m, "error decoding patch: %s", jerr.text);
        bad_request(c, m.ptr);
        pl_buf_dispose(&m);
        return;
    }
    sb_entry *old = sb_store_get(c->coll, c->ns ? c->ns : "", c->name);
    json_t *out = NULL, *err = NULL, *base = NULL;
    if (old == NULL) {
        not_found(c, c->name);
        goto unlock;
    }
    int scale = c->sub != NULL && strcmp(c->sub, "scale") == 0;
    base = scale ? scale_of(c, old->obj) : json_deep_copy(old->obj);
    if (!scale)
        json_object_set_new(base, "apiVersion", json_string(c->gv));
    int rc;
    if (is_merge)
        rc = sb_patch_merge(&out, &err, base, patch);
    else if (is_json)
        rc = sb_patch_json(&out, &err, base, patch);
    else
        rc = sb_patch_strategic(&out, &err, scale ? NULL : c->t->schema, base, patch);
    if (rc < 0) {
        if (err != NULL)
            status_json(c, err);
        else
            status_resp(c, 500, "InternalError", pl_error_last()->message, NULL);
        goto unlock;
    }
    if (!json_is_object(out)) {
        bad_request(c, "the patch produced something other than an object");
        goto unlock;
    }
    if (scale) {
        scale_write(c, old, out);
        out = NULL;
        goto unlock;
    }
    if (check_identity(c, out) < 0)
        goto unlock;
    do_update(c, old, out, 0);
    out = NULL;
unlock:
    json_decref(out);
    json_decref(base);
    json_decref(patch);
}

/* DeleteOptions from the body and the query (API-NOTES §2, §5.4). -1 = responded. */
static int delete_options(api_ctx *c, sb_del_opts *o, json_t **holder)
{
    memset(o, 0, sizeof(*o));
    o->dry_run = c->dry_run;
    *holder = NULL;
    if (c->req->body != NULL && c->req->body_len > 0) {
        json_error_t jerr;
        json_t *b = take_body(c, 0, &jerr);
        if (!json_is_object(b)) {
            pl_buf m = PL_BUF_INIT;
            pl_buf_printf(&m, "couldn't get version/kind; json parse error: %s", jerr.text);
            bad_request(c, m.ptr);
            pl_buf_dispose(&m);
            json_decref(b);
            return -1;
        }
        *holder = b;
        o->policy = pl_json_str(b, "propagationPolicy", NULL);
        o->pre_uid = pl_json_str(b, "preconditions", "uid", NULL);
        o->pre_rv = pl_json_str(b, "preconditions", "resourceVersion", NULL);
        json_t *orphan = json_object_get(b, "orphanDependents");
        if (o->policy == NULL && json_is_boolean(orphan))
            o->policy = json_is_true(orphan) ? "Orphan" : "Background";
        json_t *dr = json_object_get(b, "dryRun");
        if (json_array_size(dr) > 0)
            o->dry_run = 1;
    }
    const char *qp = sb_req_arg(c->req, "propagationPolicy");
    if (qp != NULL && qp[0])
        o->policy = qp;
    const char *qo = sb_req_arg(c->req, "orphanDependents");
    if (o->policy == NULL && qo != NULL)
        o->policy = strcmp(qo, "true") == 0 ? "Orphan" : "Background";
    if (o->policy != NULL && strcmp(o->policy, "Foreground") != 0 &&
        strcmp(o->policy, "Background") != 0 && strcmp(o->policy, "Orphan") != 0) {
        json_t *v = json_string(o->policy);
        options_invalid(c, "DeleteOptions",
                        sb_cause("FieldValueNotSupported", "propagationPolicy", v,
                                 "supported values: \"Foreground\", \"Background\", \"Orphan\""));
        json_decref(v);
        /* o->policy may point into the body: release it here, the callers only keep it on
         * success */
        o->policy = NULL;
        json_decref(*holder);
        *holder = NULL;
        return -1;
    }
    return 0;
}

static int returns_object_on_delete(const sb_type *t)
{
    /* most types answer a success Status; these return the deleted object (API-NOTES §5.4) */
    if (t->group[0] == '\0')
        return streq(t->resource, "pods") || streq(t->resource, "serviceaccounts");
    return streq(t->resource, "storageclasses");
}

static void success_status(api_ctx *c, const json_t *last)
{
    json_t *d = json_object();
    json_object_set_new(d, "name", json_string(meta_str(last, "name")));
    if (c->t->group[0])
        json_object_set_new(d, "group", json_string(c->t->group));
    json_object_set_new(d, "kind", json_string(c->t->resource));
    const char *uid = meta_str(last, "uid");
    if (uid != NULL)
        json_object_set_new(d, "uid", json_string(uid));
    json_t *st = json_pack("{s:s,s:s,s:{},s:s,s:o}", "kind", "Status", "apiVersion", "v1",
                           "metadata", "status", "Success", "details", d);
    sb_resp_json(c->resp, 200, st);
    json_decref(st);
}

static void handle_delete(api_ctx *c)
{
    sb_del_opts o;
    json_t *holder = NULL;
    if (delete_options(c, &o, &holder) < 0)
        return;
    int job_default =
        o.policy == NULL && streq(c->t->group, "batch") && streq(c->t->resource, "jobs");
    sb_entry *e = sb_store_get(c->coll, c->ns ? c->ns : "", c->name);
    if (e == NULL) {
        not_found(c, c->name);
        json_decref(holder);
        return;
    }
    json_t *out = NULL, *err = NULL;
    int gone = 0;
    int had_dt = meta_str(e->obj, "deletionTimestamp") != NULL;
    int rc = sb_delete_entry(c->srv, c->coll, e, &o, &out, &gone, &err);
    if (rc < 0) {
        if (err != NULL)
            status_json(c, err);
        else
            status_resp(c, 500, "InternalError", pl_error_last()->message, NULL);
    } else {
        if (job_default && !had_dt)
            add_warning(c, "child pods are preserved by default when jobs are deleted; set "
                           "propagationPolicy=Background to remove them or set "
                           "propagationPolicy=Orphan to suppress this warning");
        if (gone && !returns_object_on_delete(c->t))
            success_status(c, out);
        else
            respond_obj(c, 200, out);
    }
    json_decref(out);
    json_decref(holder);
}

static void handle_deletecollection(api_ctx *c)
{
    sb_del_opts o;
    json_t *holder = NULL;
    sb_selector *ls = NULL, *fs = NULL;
    if (delete_options(c, &o, &holder) < 0)
        return;
    if (parse_selectors(c, &ls, &fs) < 0) {
        json_decref(holder);
        return;
    }
    json_t *items = json_array();
    /* collect keys first: deleting changes the collection */
    json_t *keys = json_array();
    for (size_t i = 0; i < c->coll->n; i++) {
        sb_entry *e = c->coll->items[i];
        if ((c->t->flags & SB_T_NAMESPACED) && c->ns != NULL && strcmp(e->ns, c->ns) != 0)
            continue;
        if (sb_selector_match(ls, e->obj) && sb_selector_match(fs, e->obj))
            json_array_append_new(keys, json_pack("[ss]", e->ns, e->name));
    }
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k) {
        sb_entry *e = sb_store_get(c->coll, json_string_value(json_array_get(k, 0)),
                                   json_string_value(json_array_get(k, 1)));
        json_t *out = NULL, *err = NULL;
        int gone = 0;
        if (e != NULL && sb_delete_entry(c->srv, c->coll, e, &o, &out, &gone, &err) == 0) {
            json_t *ord = sb_obj_ordered(out);
            if (!want_typemeta_in_items(c->t)) {
                json_object_del(ord, "kind");
                json_object_del(ord, "apiVersion");
            }
            json_array_append_new(items, ord);
        }
        json_decref(out);
        json_decref(err);
    }
    json_decref(keys);
    char rvs[32];
    snprintf(rvs, sizeof(rvs), "%llu", (unsigned long long)c->st->rv);
    json_t *list = json_pack("{s:s,s:s,s:{s:s},s:o}", "kind", c->t->list_kind, "apiVersion",
                             c->gv, "metadata", "resourceVersion", rvs, "items", items);
    sb_resp_json(c->resp, 200, list);
    json_decref(list);
    json_decref(holder);
    sb_selector_free(ls);
    sb_selector_free(fs);
}

/* ---- routing ----------------------------------------------------------------------------------- */

static void method_not_allowed(sb_response *resp)
{
    sb_resp_status(resp, 405, "MethodNotAllowed",
                   "the server does not allow this method on the requested resource", NULL);
}

/* Split the path into segments (in c->segbuf). Returns the count or -1. */
static int split_path(api_ctx *c, const char *path, const char **segs)
{
    c->segbuf = pl_strdup(path);
    if (c->segbuf == NULL)
        return -1;
    int n = 0;
    char *p = c->segbuf;
    if (*p == '/')
        p++;
    while (*p) {
        if (n == MAX_SEGS)
            return -1;
        segs[n++] = p;
        char *slash = strchr(p, '/');
        if (slash == NULL)
            break;
        *slash = '\0';
        p = slash + 1;
        if (*p == '\0')
            return -1; /* trailing slash: no route */
    }
    for (int i = 0; i < n; i++)
        if (segs[i][0] == '\0')
            return -1;
    return n;
}

/* Options common to writes: dryRun (API-NOTES §2), fieldValidation, fieldManager. */
static int write_options(api_ctx *c, const char *opts_kind)
{
    const char *dr = sb_req_arg(c->req, "dryRun");
    if (dr != NULL && dr[0]) {
        if (strcmp(dr, "All") != 0) {
            json_t *v = json_pack("[s]", dr);
            options_invalid(c, opts_kind,
                            sb_cause("FieldValueNotSupported", "dryRun", v,
                                     "supported values: \"All\""));
            json_decref(v);
            return -1;
        }
        c->dry_run = 1;
    }
    const char *fv = sb_req_arg(c->req, "fieldValidation");
    c->field_validation = FV_WARN;
    if (fv != NULL && strcmp(fv, "Strict") == 0)
        c->field_validation = FV_STRICT;
    else if (fv != NULL && strcmp(fv, "Ignore") == 0)
        c->field_validation = FV_IGNORE;
    const char *fm = sb_req_arg(c->req, "fieldManager");
    c->manager = (fm != NULL && fm[0]) ? fm : user_agent_manager(c);
    return 0;
}

void sb_api_handle(sb_server *srv, const sb_request *req, sb_response *resp)
{
    api_ctx ctx;
    api_ctx *c = &ctx;
    const char *segs[MAX_SEGS];
    memset(c, 0, sizeof(*c));
    c->srv = srv;
    c->st = srv->store;
    c->req = req;
    c->resp = resp;
    sb_now_rfc3339(c->now, sizeof(c->now));

    if (srv->types != NULL && sb_discovery_handle(srv->types, req, resp))
        return;
    int n = split_path(c, req->path ? req->path : "", segs);
    int r = 0, locked = 0;
    if (req->method != NULL && strcmp(req->method, "GET") != 0)
        c->pre_body = parse_early(req);
    if (n < 2 || c->st == NULL) {
        plain_404(resp);
        goto done;
    }
    if (strcmp(segs[0], "api") == 0) {
        c->group = "";
        c->version = segs[1];
        r = 2;
    } else if (strcmp(segs[0], "apis") == 0 && n >= 3) {
        c->group = segs[1];
        c->version = segs[2];
        r = 3;
    } else {
        plain_404(resp);
        goto done;
    }
    int builtin = sb_types_group_is_builtin(srv->types, c->group);
    if (!sb_types_serves(srv->types, c->group, c->version) || n == r) {
        plain_404(resp);
        goto done;
    }
    const char **rest = segs + r;
    int nrest = n - r;
    if (strcmp(rest[0], "namespaces") == 0 && nrest >= 3 &&
        !(c->group[0] == '\0' && nrest == 3 &&
          (strcmp(rest[2], "status") == 0 || strcmp(rest[2], "finalize") == 0))) {
        if (nrest > 5)
            goto no_route;
        c->ns = rest[1];
        c->resource = rest[2];
        c->name = nrest > 3 ? rest[3] : NULL;
        c->sub = nrest > 4 ? rest[4] : NULL;
    } else {
        if (nrest > 3)
            goto no_route;
        c->resource = rest[0];
        c->name = nrest > 1 ? rest[1] : NULL;
        c->sub = nrest > 2 ? rest[2] : NULL;
    }
    snprintf(c->gv, sizeof(c->gv), "%s%s%s", c->group, c->group[0] ? "/" : "", c->version);

    /* The store lock is held from the type lookup to the end of the request: a CRD update or
     * removal (which frees its sb_type) cannot happen under a request's feet (sb.h). Watches
     * release it while they stream. */
    pthread_mutex_lock(&c->st->lock);
    locked = 1;
    c->t = sb_types_by_resource(srv->types, c->group, c->version, c->resource);
    if (c->t != NULL)
        c->coll = sb_store_coll(c->st, c->t->group, c->t->resource, c->t->kind,
                                (c->t->flags & SB_T_NAMESPACED) != 0);
    if (c->t == NULL || c->coll == NULL)
        goto no_route;
    builtin = !(c->t->flags & SB_T_CUSTOM);
    if (c->t->group[0])
        snprintf(c->qres, sizeof(c->qres), "%s.%s", c->t->resource, c->t->group);
    else
        snprintf(c->qres, sizeof(c->qres), "%s", c->t->resource);

    const char *m = req->method ? req->method : "";
    int namespaced = (c->t->flags & SB_T_NAMESPACED) != 0;
    if (!namespaced && c->ns != NULL)
        goto no_route;
    if (namespaced && c->ns == NULL) {
        /* all-namespaces path: list and watch only (API-NOTES §2) */
        if (c->name != NULL)
            goto no_route;
        if (strcmp(m, "GET") != 0) {
            if (!builtin)
                goto no_route;
            method_not_allowed(resp);
            goto done;
        }
    }
    /* a subresource (status, scale) answers GET, PUT and PATCH; the object itself DELETE too */
    if (c->sub != NULL && !((strcmp(c->sub, "status") == 0 && (c->t->flags & SB_T_STATUS)) ||
                            (strcmp(c->sub, "scale") == 0 && (c->t->flags & SB_T_SCALE))))
        goto no_route;
    if (c->name == NULL) {
        if (strcmp(m, "GET") == 0) {
            handle_list(c);
        } else if (strcmp(m, "POST") == 0) {
            if (write_options(c, "CreateOptions") == 0)
                handle_post(c);
        } else if (strcmp(m, "DELETE") == 0 && !(c->t->flags & SB_T_NO_DELETECOLLECTION)) {
            if (write_options(c, "DeleteOptions") == 0)
                handle_deletecollection(c);
        } else {
            method_not_allowed(resp);
        }
        goto done;
    }
    if (strcmp(m, "GET") == 0) {
        handle_get(c);
    } else if (strcmp(m, "PUT") == 0) {
        if (write_options(c, "UpdateOptions") == 0)
            handle_put(c);
    } else if (strcmp(m, "PATCH") == 0) {
        if (write_options(c, "PatchOptions") == 0)
            handle_patch(c);
    } else if (strcmp(m, "DELETE") == 0 && c->sub == NULL) {
        if (write_options(c, "DeleteOptions") == 0)
            handle_delete(c);
    } else {
        method_not_allowed(resp);
    }
    goto done;

no_route:
    /* unknown resource under a served built-in group-version: JSON Status; CRD paths: text
     * (API-NOTES §6.3) */
    if (builtin)
        json_404(resp);
    else
        plain_404(resp);
done:
    if (locked && c->written != NULL)
        sb_sim_written(srv, c->coll, c->written); /* the reply keeps the object written */
    if (locked) {
        sb_store_drain_released(c->st);
        pthread_mutex_unlock(&c->st->lock);
    }
    reply_now(c);
    json_decref(c->pre_body);
    pl_free(c->segbuf);
}
