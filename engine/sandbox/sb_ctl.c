/*
 * sb_ctl.c - object operations of the control endpoint (sb_api_control, sb.h):
 *   POST /_plumb/objects            load a YAML/JSON stream or List: each object is created or
 *                                   replaced as manager "plumb-sandbox" (Update), its status
 *                                   kept as given; namespaces are created as needed and CRDs
 *                                   are Established at once;
 *   PUT  /_plumb/status/<item path> set .status of one object (a real write);
 *   GET  /_plumb/objects            every stored object, as a v1 List.
 * The transport (sb_http.c) owns the rest of /_plumb/ (faults, request log).
 */
#include <string.h>

#include "sb_api_int.h"

#define CTL_MANAGER "plumb-sandbox"

static int is_crd(const json_t *o)
{
    const char *av = pl_json_str(o, "apiVersion", NULL);
    const char *k = pl_json_str(o, "kind", NULL);
    return av && k && strncmp(av, "apiextensions.k8s.io/", 21) == 0 &&
           strcmp(k, "CustomResourceDefinition") == 0;
}

static int is_ns(const json_t *o)
{
    const char *av = pl_json_str(o, "apiVersion", NULL);
    const char *k = pl_json_str(o, "kind", NULL);
    return av && k && strcmp(av, "v1") == 0 && strcmp(k, "Namespace") == 0;
}

static void split_gv(const char *av, char *group, size_t gn, const char **version)
{
    const char *slash = strchr(av, '/');
    if (slash == NULL) {
        group[0] = '\0';
        *version = av;
    } else {
        snprintf(group, gn, "%.*s", (int)(slash - av), av);
        *version = slash + 1;
    }
}

/* Store one object (borrowed). Returns 0 or fills *err (owned message). */
static int load_one(sb_server *srv, const json_t *in, json_t *items, char **err)
{
    sb_store *st = srv->store;
    const char *av = pl_json_str(in, "apiVersion", NULL);
    const char *kind = pl_json_str(in, "kind", NULL);
    const char *name = pl_json_str(in, "metadata", "name", NULL);
    pl_buf m = PL_BUF_INIT;
    int rc = 0;
    if (av == NULL || kind == NULL || name == NULL || name[0] == '\0') {
        pl_buf_puts(&m, "object without apiVersion, kind or metadata.name");
        goto fail;
    }
    char group[256];
    const char *version;
    split_gv(av, group, sizeof(group), &version);
    const sb_type *t = sb_types_by_kind(srv->types, group, version, kind);
    if (t == NULL) {
        pl_buf_printf(&m, "%s %s: no matches for kind \"%s\" in version \"%s\"", kind, name, kind,
                      av);
        goto fail;
    }
    sb_coll *c = sb_store_coll(st, t->group, t->resource, t->kind,
                               (t->flags & SB_T_NAMESPACED) != 0);
    if (c == NULL) {
        pl_buf_puts(&m, "out of memory");
        goto fail;
    }
    json_t *n = json_deep_copy(in);
    json_t *meta = json_object_get(n, "metadata");
    const char *ns = "";
    if (t->flags & SB_T_NAMESPACED) {
        ns = pl_json_str(meta, "namespace", NULL);
        if (ns == NULL || ns[0] == '\0') {
            json_object_set_new(meta, "namespace", json_string("default"));
            ns = "default";
        }
        if ((rc = sb_ns_ensure(srv, ns)) < 0) {
            json_decref(n);
            pl_buf_printf(&m, "namespace %s: %s", ns, pl_error_last()->message);
            goto fail;
        }
    } else {
        json_object_del(meta, "namespace");
    }
    sb_entry *old = sb_store_get(c, ns, name);
    char uid[37], now[32];
    sb_now_rfc3339(now, sizeof(now));
    sb_uuid4(uid);
    const json_t *o = old ? old->obj : NULL;
    json_object_set_new(meta, "uid",
                        json_string(o ? pl_json_str(o, "metadata", "uid", NULL) : uid));
    json_object_set_new(meta, "creationTimestamp",
                        json_string(o ? pl_json_str(o, "metadata", "creationTimestamp", NULL)
                                      : now));
    json_object_del(meta, "resourceVersion");
    json_object_del(meta, "managedFields");
    json_object_del(meta, "deletionTimestamp");
    json_object_del(meta, "deletionGracePeriodSeconds");
    if (t->flags & SB_T_GENERATION) {
        json_t *g = o ? pl_json_path(o, "metadata", "generation", NULL) : NULL;
        json_object_set_new(meta, "generation", json_integer(g ? json_integer_value(g) : 1));
    } else {
        json_object_del(meta, "generation");
    }
    json_object_set_new(n, "apiVersion", json_string(av));
    sb_defaults_apply(t, n, o);
    if (is_crd(n))
        sb_crd_defaults(n, o == NULL);
    json_t *causes = json_array();
    sb_validate_object(t, n, NULL, causes);
    if (is_crd(n))
        sb_crd_validate(n, causes);
    if ((t->flags & SB_T_CUSTOM) && t->schema != NULL) {
        json_t *dropped = json_array();
        sb_schema_prune_default_validate(t->schema, n, dropped, causes);
        json_decref(dropped);
    }
    if (json_array_size(causes) > 0) {
        json_t *s = sb_invalid_status(t->kind, t->group, name, causes);
        pl_buf_puts(&m, pl_json_str(s, "message", NULL));
        json_decref(s);
        json_decref(causes);
        json_decref(n);
        goto fail;
    }
    json_decref(causes);
    sb_fm_opts fo = {CTL_MANAGER, av, NULL, 0, now};
    sb_ssa_update(n, t->schema, o, &fo);
    sb_entry *e = old;
    if (o != NULL) {
        json_object_set(meta, "resourceVersion", pl_json_path(o, "metadata", "resourceVersion", NULL));
        if (sb_obj_equal_ignoring_times(o, n)) {
            json_decref(n);
            n = NULL;
        }
    }
    if (n != NULL && (rc = sb_store_put(st, c, n, &e)) < 0) {
        pl_buf_puts(&m, pl_error_last()->message);
        goto fail;
    }
    if (is_crd(e->obj)) {
        const char *est = NULL;
        size_t i;
        json_t *cd;
        json_array_foreach(pl_json_path(e->obj, "status", "conditions", NULL), i, cd) {
            const char *ty = pl_json_str(cd, "type", NULL);
            if (ty && strcmp(ty, "Established") == 0)
                est = pl_json_str(cd, "status", NULL);
        }
        if (est == NULL || strcmp(est, "True") != 0)
            sb_crd_establish_now(srv, c, e);
        else
            sb_crd_after_write(srv, e->obj);
        e = sb_store_get(c, "", name);
    }
    if (e != NULL)
        json_array_append(items, e->obj);
    return 0;
fail:
    *err = pl_buf_detach(&m);
    return rc < 0 ? rc : PL_EINVALID;
}

static void expand(json_t *out, const json_t *doc)
{
    const json_t *items = json_object_get(doc, "items");
    const char *kind = pl_json_str(doc, "kind", NULL);
    size_t n = kind ? strlen(kind) : 0;
    if (json_is_array(items) && n >= 4 && strcmp(kind + n - 4, "List") == 0) {
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) expand(out, it);
    } else if (json_is_object(doc)) {
        json_array_append(out, (json_t *)doc);
    }
}

static void ctl_load(sb_server *srv, const sb_request *req, sb_response *resp)
{
    json_t *docs = NULL;
    pl_yaml_opts yo = PL_YAML_OPTS_INIT;
    if (pl_yaml_parse(&docs, req->body ? req->body : "", req->body ? req->body_len : 0,
                      "control objects", &yo) < 0) {
        sb_resp_status(resp, 400, "BadRequest", pl_error_last()->message, NULL);
        return;
    }
    json_t *all = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(docs, i, d) expand(all, d);
    json_decref(docs);
    /* CRDs, then Namespaces, then everything else (each group keeps its order) */
    json_t *ordered = json_array();
    for (int pass = 0; pass < 3; pass++) {
        json_array_foreach(all, i, d) {
            int which = is_crd(d) ? 0 : is_ns(d) ? 1 : 2;
            if (which == pass)
                json_array_append(ordered, d);
        }
    }
    json_decref(all);
    json_t *items = json_array();
    pl_buf errs = PL_BUF_INIT;
    pthread_mutex_lock(&srv->store->lock);
    json_array_foreach(ordered, i, d) {
        char *err = NULL;
        if (load_one(srv, d, items, &err) < 0) {
            pl_buf_printf(&errs, "%s%s", errs.len ? "; " : "", err ? err : "failed");
        }
        pl_free(err);
    }
    pthread_mutex_unlock(&srv->store->lock);
    json_decref(ordered);
    if (errs.len > 0) {
        sb_resp_status(resp, 400, "BadRequest", errs.ptr, NULL);
    } else {
        json_t *list = json_pack("{s:s,s:s,s:{},s:O}", "kind", "List", "apiVersion", "v1",
                                 "metadata", "items", items);
        sb_resp_json(resp, 200, list);
        json_decref(list);
    }
    pl_buf_dispose(&errs);
    json_decref(items);
}

static void ctl_dump(sb_server *srv, sb_response *resp)
{
    sb_store *st = srv->store;
    pl_buf out = PL_BUF_INIT;
    pl_buf_puts(&out, "{\"kind\":\"List\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[");
    pthread_mutex_lock(&st->lock);
    int first = 1;
    for (size_t i = 0; i < st->ncolls; i++) {
        sb_coll *c = st->colls[i];
        for (size_t j = 0; j < c->n; j++) {
            if (!first)
                pl_buf_putc(&out, ',');
            const sb_text *t = sb_entry_text(c->items[j]);
            if (t != NULL)
                sb_text_append(&out, t, NULL, NULL, 1);
            else /* out of memory: the caller sees a null item, not a broken document */
                pl_buf_puts(&out, "null");
            first = 0;
        }
    }
    pthread_mutex_unlock(&st->lock);
    pl_buf_puts(&out, "]}\n");
    pl_buf_dispose(&resp->body);
    resp->body = out;
    resp->status = 200;
    pl_free(resp->content_type);
    resp->content_type = NULL;
}

/* PUT /_plumb/status/<api item path>: body = the new .status. */
static void ctl_status(sb_server *srv, const sb_request *req, sb_response *resp,
                       const char *path)
{
    char *buf = pl_strdup(path);
    const char *seg[10];
    int n = 0;
    for (char *p = buf; p && *p && n < 10;) {
        if (*p == '/') {
            p++;
            continue;
        }
        seg[n++] = p;
        char *s = strchr(p, '/');
        if (s == NULL)
            break;
        *s = '\0';
        p = s + 1;
    }
    const char *group = NULL, *version = NULL, *ns = NULL, *res = NULL, *name = NULL;
    int r = 0;
    if (n >= 2 && strcmp(seg[0], "api") == 0) {
        group = "";
        version = seg[1];
        r = 2;
    } else if (n >= 3 && strcmp(seg[0], "apis") == 0) {
        group = seg[1];
        version = seg[2];
        r = 3;
    }
    if (version != NULL && n - r == 4 && strcmp(seg[r], "namespaces") == 0) {
        ns = seg[r + 1];
        res = seg[r + 2];
        name = seg[r + 3];
    } else if (version != NULL && n - r == 2) {
        res = seg[r];
        name = seg[r + 1];
    }
    json_error_t jerr;
    json_t *status = req->body ? json_loadb(req->body, req->body_len, 0, &jerr) : NULL;
    if (!json_is_object(status)) {
        sb_resp_status(resp, 400, "BadRequest", "the body must be the status object", NULL);
        goto done;
    }
    /* the type pointer is only valid under the store lock (sb.h) */
    pthread_mutex_lock(&srv->store->lock);
    const sb_type *t = res ? sb_types_by_resource(srv->types, group, version, res) : NULL;
    if (t == NULL || name == NULL) {
        pthread_mutex_unlock(&srv->store->lock);
        json_t *d = json_object();
        sb_resp_status(resp, 404, "NotFound", "no such object path", d);
        json_decref(d);
        goto done;
    }
    sb_coll *c = sb_store_find_coll(srv->store, t->group, t->resource);
    sb_entry *e = c ? sb_store_get(c, (t->flags & SB_T_NAMESPACED) && ns ? ns : "", name) : NULL;
    if (e == NULL) {
        pthread_mutex_unlock(&srv->store->lock);
        pl_buf m = PL_BUF_INIT;
        pl_buf_printf(&m, "%s%s%s \"%s\" not found", t->resource, t->group[0] ? "." : "",
                      t->group, name);
        sb_resp_status(resp, 404, "NotFound", m.ptr, NULL);
        pl_buf_dispose(&m);
        goto done;
    }
    char now[32], gv[300];
    sb_now_rfc3339(now, sizeof(now));
    snprintf(gv, sizeof(gv), "%s%s%s", t->group, t->group[0] ? "/" : "", t->version);
    json_t *obj = json_deep_copy(e->obj);
    json_object_set(obj, "status", status);
    sb_fm_opts fo = {CTL_MANAGER, gv, "status", 0, now};
    sb_ssa_update(obj, t->schema, e->obj, &fo);
    json_t *out = NULL;
    int gone = 0;
    if (json_equal(status, json_object_get(e->obj, "status"))) {
        out = json_incref(e->obj);
        json_decref(obj);
    } else {
        sb_update_or_finish(srv, c, obj, &out, &gone);
    }
    pthread_mutex_unlock(&srv->store->lock);
    sb_resp_json(resp, 200, out);
    json_decref(out);
done:
    json_decref(status);
    pl_free(buf);
}

int sb_api_control(sb_server *srv, const sb_request *req, sb_response *resp)
{
    const char *path = req->path ? req->path : "";
    const char *m = req->method ? req->method : "";
    if (srv->store == NULL)
        return 0;
    if (strcmp(path, "/_plumb/objects") == 0) {
        if (strcmp(m, "POST") == 0)
            ctl_load(srv, req, resp);
        else if (strcmp(m, "GET") == 0)
            ctl_dump(srv, resp);
        else
            sb_resp_status(resp, 405, "MethodNotAllowed",
                           "the server does not allow this method on the requested resource",
                           NULL);
        return 1;
    }
    if (strncmp(path, "/_plumb/status/", 15) == 0) {
        if (strcmp(m, "PUT") == 0)
            ctl_status(srv, req, resp, path + 14);
        else
            sb_resp_status(resp, 405, "MethodNotAllowed",
                           "the server does not allow this method on the requested resource",
                           NULL);
        return 1;
    }
    return 0;
}
