/*
 * sb_crd.c - CustomResourceDefinition lifecycle (API-NOTES §7.1): create-time defaults and
 * status, the naming/establishing controllers (after srv->crd_establish_delay_ms: NamesAccepted
 * and Established conditions, acceptedNames, a MODIFIED event, and registration of the served
 * versions with sb_types so routing and discovery see them), name conflicts, and deletion
 * (Terminating condition; every CR deleted; then the finalizer goes and the types with it).
 * Runs with the store lock held.
 */
#include <ctype.h>
#include <string.h>

#include "sb_api_int.h"

#define CRD_GROUP "apiextensions.k8s.io"
#define CRD_RES "customresourcedefinitions"
#define F_CRD_CLEANUP "customresourcecleanup.apiextensions.k8s.io"

static const char *storage_version(const json_t *crd)
{
    size_t i;
    json_t *v;
    json_array_foreach(pl_json_path(crd, "spec", "versions", NULL), i, v) {
        if (json_is_true(json_object_get(v, "storage")))
            return pl_json_str(v, "name", NULL);
    }
    return NULL;
}

void sb_crd_defaults(json_t *crd, int creating)
{
    json_t *spec = json_object_get(crd, "spec");
    if (!json_is_object(spec))
        return;
    json_t *names = json_object_get(spec, "names");
    const char *kind = pl_json_str(names, "kind", NULL);
    if (json_is_object(names) && kind != NULL) {
        const char *singular = pl_json_str(names, "singular", NULL);
        if (singular == NULL || singular[0] == '\0') {
            char low[256];
            size_t n = strlen(kind);
            if (n >= sizeof(low))
                n = sizeof(low) - 1;
            for (size_t i = 0; i < n; i++)
                low[i] = (char)tolower((unsigned char)kind[i]);
            low[n] = '\0';
            json_object_set_new(names, "singular", json_string(low));
        }
        const char *lk = pl_json_str(names, "listKind", NULL);
        if (lk == NULL || lk[0] == '\0') {
            pl_buf b = PL_BUF_INIT;
            pl_buf_printf(&b, "%sList", kind);
            json_object_set_new(names, "listKind", json_string(b.ptr));
            pl_buf_dispose(&b);
        }
    }
    if (json_object_get(spec, "conversion") == NULL)
        json_object_set_new(spec, "conversion", json_pack("{s:s}", "strategy", "None"));
    const char *sv = storage_version(crd);
    json_t *status = json_object_get(crd, "status");
    if (creating || !json_is_object(status)) {
        /* the create response's status (API-NOTES §7.1) */
        status = json_pack("{s:n,s:{s:s,s:s},s:[]}", "conditions", "acceptedNames", "plural", "",
                           "kind", "", "storedVersions");
        json_object_set_new(crd, "status", status);
    }
    json_t *stored = json_object_get(status, "storedVersions");
    if (!json_is_array(stored)) {
        stored = json_array();
        json_object_set_new(status, "storedVersions", stored);
    }
    if (sv != NULL) {
        int found = 0;
        size_t i;
        json_t *v;
        json_array_foreach(stored, i, v) {
            if (json_is_string(v) && strcmp(json_string_value(v), sv) == 0)
                found = 1;
        }
        if (!found)
            json_array_append_new(stored, json_string(sv));
    }
}

void sb_crd_validate(const json_t *crd, json_t *causes)
{
    const char *name = pl_json_str(crd, "metadata", "name", NULL);
    const json_t *spec = json_object_get(crd, "spec");
    const char *group = pl_json_str(spec, "group", NULL);
    const char *plural = pl_json_str(spec, "names", "plural", NULL);
    const char *kind = pl_json_str(spec, "names", "kind", NULL);
    const char *scope = pl_json_str(spec, "scope", NULL);
    if (group == NULL || group[0] == '\0')
        json_array_append_new(causes, sb_cause("FieldValueRequired", "spec.group", NULL, NULL));
    if (plural == NULL || plural[0] == '\0')
        json_array_append_new(causes,
                              sb_cause("FieldValueRequired", "spec.names.plural", NULL, NULL));
    if (kind == NULL || kind[0] == '\0')
        json_array_append_new(causes, sb_cause("FieldValueRequired", "spec.names.kind", NULL, NULL));
    if (name != NULL && group != NULL && plural != NULL) {
        pl_buf want = PL_BUF_INIT;
        pl_buf_printf(&want, "%s.%s", plural, group);
        if (strcmp(want.ptr, name) != 0) {
            json_t *v = json_string(name);
            json_array_append_new(causes,
                                  sb_cause("FieldValueInvalid", "metadata.name", v,
                                           "must be spec.names.plural+\".\"+spec.group"));
            json_decref(v);
        }
        pl_buf_dispose(&want);
    }
    if (scope == NULL || (strcmp(scope, "Namespaced") != 0 && strcmp(scope, "Cluster") != 0)) {
        json_t *v = json_string(scope ? scope : "");
        json_array_append_new(causes, sb_cause("FieldValueNotSupported", "spec.scope", v,
                                               "supported values: \"Cluster\", \"Namespaced\""));
        json_decref(v);
    }
    const json_t *versions = json_object_get(spec, "versions");
    size_t nstorage = 0, i;
    json_t *v;
    if (json_array_size(versions) == 0)
        json_array_append_new(causes,
                              sb_cause("FieldValueRequired", "spec.versions", NULL,
                                       "must have exactly one version marked as storage version"));
    json_array_foreach(versions, i, v) {
        char field[128];
        if (json_is_true(json_object_get(v, "storage")))
            nstorage++;
        const json_t *schema = pl_json_path(v, "schema", "openAPIV3Schema", NULL);
        if (schema == NULL) {
            snprintf(field, sizeof(field), "spec.versions[%zu].schema.openAPIV3Schema", i);
            json_array_append_new(causes, sb_cause("FieldValueRequired", field, NULL,
                                                   "schemas are required"));
            continue;
        }
        sb_schema *s = sb_schema_from_openapi(schema);
        if (s == NULL) {
            snprintf(field, sizeof(field), "spec.versions[%zu].schema.openAPIV3Schema", i);
            json_array_append_new(causes, sb_cause("FieldValueInvalid", field, NULL,
                                                   pl_error_last()->message));
        }
        sb_schema_free(s);
    }
    if (json_array_size(versions) > 0 && nstorage != 1)
        json_array_append_new(causes,
                              sb_cause("FieldValueInvalid", "spec.versions", NULL,
                                       "must have exactly one version marked as storage version"));
}

static json_t *condition(const char *type, const char *status, const char *now,
                         const char *reason, const char *message)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", type, "status", status,
                     "lastTransitionTime", now, "reason", reason, "message", message);
}

static int cond_true(const json_t *crd, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(pl_json_path(crd, "status", "conditions", NULL), i, c) {
        if (strcmp(pl_json_str(c, "type", NULL) ? pl_json_str(c, "type", NULL) : "", type) == 0)
            return strcmp(pl_json_str(c, "status", NULL) ? pl_json_str(c, "status", NULL) : "",
                          "True") == 0;
    }
    return 0;
}

static int has_cond(const json_t *crd, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(pl_json_path(crd, "status", "conditions", NULL), i, c) {
        const char *t = pl_json_str(c, "type", NULL);
        if (t != NULL && strcmp(t, type) == 0)
            return 1;
    }
    return 0;
}

/* Name conflicts with another accepted CRD of the same group (API-NOTES §7.1 item 2). */
static const char *conflict(sb_coll *c, const json_t *crd, char *msg, size_t n)
{
    const char *name = pl_json_str(crd, "metadata", "name", NULL);
    const char *group = pl_json_str(crd, "spec", "group", NULL);
    const char *plural = pl_json_str(crd, "spec", "names", "plural", NULL);
    const char *singular = pl_json_str(crd, "spec", "names", "singular", NULL);
    const char *kind = pl_json_str(crd, "spec", "names", "kind", NULL);
    const char *lk = pl_json_str(crd, "spec", "names", "listKind", NULL);
    for (size_t i = 0; i < c->n; i++) {
        const json_t *o = c->items[i]->obj;
        if (strcmp(c->items[i]->name, name ? name : "") == 0)
            continue;
        const char *og = pl_json_str(o, "spec", "group", NULL);
        if (og == NULL || group == NULL || strcmp(og, group) != 0)
            continue;
        const json_t *an = pl_json_path(o, "status", "acceptedNames", NULL);
        const char *ap = pl_json_str(an, "plural", NULL);
        const char *as = pl_json_str(an, "singular", NULL);
        const char *ak = pl_json_str(an, "kind", NULL);
        const char *al = pl_json_str(an, "listKind", NULL);
        if (plural && ap && strcmp(plural, ap) == 0) {
            snprintf(msg, n, "\"%s\" is already in use", plural);
            return "PluralConflict";
        }
        if (singular && as && strcmp(singular, as) == 0) {
            snprintf(msg, n, "\"%s\" is already in use", singular);
            return "SingularConflict";
        }
        if (kind && ak && strcmp(kind, ak) == 0) {
            snprintf(msg, n, "\"%s\" is already in use", kind);
            return "KindConflict";
        }
        if (lk && al && strcmp(lk, al) == 0) {
            snprintf(msg, n, "\"%s\" is already in use", lk);
            return "ListKindConflict";
        }
    }
    return NULL;
}

static const sb_type *crd_type(sb_server *srv)
{
    return sb_types_by_resource(srv->types, CRD_GROUP, "v1", CRD_RES);
}

int sb_crd_establish_now(sb_server *srv, sb_coll *c, sb_entry *e)
{
    char now[32], msg[300];
    sb_now_rfc3339(now, sizeof(now));
    json_t *n = json_deep_copy(e->obj);
    json_t *status = json_object_get(n, "status");
    if (!json_is_object(status)) {
        status = json_object();
        json_object_set_new(n, "status", status);
    }
    json_t *conds = json_array();
    const char *why = conflict(c, n, msg, sizeof(msg));
    int ok = why == NULL;
    if (ok) {
        json_array_append_new(conds, condition("NamesAccepted", "True", now, "NoConflicts",
                                               "no conflicts found"));
        json_array_append_new(conds,
                              condition("Established", "True", now, "InitialNamesAccepted",
                                        "the initial names have been accepted"));
        /* acceptedNames in Go struct order: plural, singular, shortNames, kind, listKind,
         * categories */
        const json_t *names = pl_json_path(n, "spec", "names", NULL);
        json_t *an = json_object();
        static const char *const keys[] = {"plural", "singular", "shortNames", "kind",
                                           "listKind", "categories", NULL};
        for (int i = 0; keys[i]; i++) {
            json_t *v = json_object_get(names, keys[i]);
            if (v != NULL)
                json_object_set(an, keys[i], v);
        }
        json_object_set_new(status, "acceptedNames", an);
    } else {
        json_array_append_new(conds, condition("NamesAccepted", "False", now, why, msg));
        json_array_append_new(conds, condition("Established", "False", now, "NotAccepted",
                                               "not all names are accepted"));
    }
    json_t *old_conds = json_object_get(status, "conditions");
    size_t i;
    json_t *oc;
    json_array_foreach(old_conds, i, oc) {
        const char *t = pl_json_str(oc, "type", NULL);
        if (t != NULL && strcmp(t, "NamesAccepted") != 0 && strcmp(t, "Established") != 0)
            json_array_append(conds, oc);
    }
    json_object_set_new(status, "conditions", conds);
    /* key order of CustomResourceDefinitionStatus */
    json_t *ordered = json_object();
    static const char *const skeys[] = {"conditions", "acceptedNames", "storedVersions", NULL};
    for (int k = 0; skeys[k]; k++) {
        json_t *v = json_object_get(status, skeys[k]);
        if (v != NULL)
            json_object_set(ordered, skeys[k], v);
    }
    json_object_set_new(n, "status", ordered);
    const sb_type *ct = crd_type(srv);
    sb_fm_opts o = {"kube-apiserver", "apiextensions.k8s.io/v1", "status", 0, now};
    sb_ssa_update(n, ct ? ct->schema : NULL, e->obj, &o);
    sb_entry *ne = NULL;
    int rc = sb_store_put(srv->store, c, n, &ne);
    if (rc == 0 && ok)
        sb_crd_after_write(srv, ne->obj);
    return rc;
}

void sb_crd_after_write(sb_server *srv, const json_t *crd)
{
    if (!cond_true(crd, "Established"))
        return;
    const char *group = pl_json_str(crd, "spec", "group", NULL);
    const char *plural = pl_json_str(crd, "spec", "names", "plural", NULL);
    const char *kind = pl_json_str(crd, "spec", "names", "kind", NULL);
    const char *scope = pl_json_str(crd, "spec", "scope", NULL);
    if (group == NULL || plural == NULL)
        return;
    sb_store_coll(srv->store, group, plural, kind,
                  scope == NULL || strcmp(scope, "Cluster") != 0);
    if (sb_types_add_crd(srv->types, crd) < 0)
        pl_log(PL_LOG_WARN, "sandbox", "customresourcedefinition %s: %s",
               pl_json_str(crd, "metadata", "name", NULL), pl_error_last()->message);
}

int sb_crd_terminating(sb_store *st, const char *group, const char *resource)
{
    sb_coll *c = sb_store_find_coll(st, CRD_GROUP, CRD_RES);
    if (c == NULL)
        return 0;
    pl_buf name = PL_BUF_INIT;
    pl_buf_printf(&name, "%s.%s", resource, group);
    sb_entry *e = sb_store_get(c, "", name.ptr);
    pl_buf_dispose(&name);
    return e != NULL && pl_json_path(e->obj, "metadata", "deletionTimestamp", NULL) != NULL;
}

void sb_crd_tick(sb_server *srv)
{
    sb_store *st = srv->store;
    sb_coll *c = sb_store_find_coll(st, CRD_GROUP, CRD_RES);
    if (c == NULL)
        return;
    int64_t now = sb_mono_ms();
    json_t *todo = json_array();
    for (size_t i = 0; i < c->n; i++)
        json_array_append_new(todo, json_string(c->items[i]->name));
    size_t k;
    json_t *jn;
    json_array_foreach(todo, k, jn) {
        sb_entry *e = sb_store_get(c, "", json_string_value(jn));
        if (e == NULL)
            continue;
        if (pl_json_path(e->obj, "metadata", "deletionTimestamp", NULL) != NULL) {
            /* delete every CR, then release the cleanup finalizer (API-NOTES §7.1) */
            const char *group = pl_json_str(e->obj, "spec", "group", NULL);
            const char *plural = pl_json_str(e->obj, "spec", "names", "plural", NULL);
            sb_coll *cr = (group && plural) ? sb_store_find_coll(st, group, plural) : NULL;
            size_t j = 0;
            while (cr != NULL && j < cr->n) {
                sb_entry *x = cr->items[j];
                if (pl_json_path(x->obj, "metadata", "deletionTimestamp", NULL) != NULL) {
                    j++;
                    continue;
                }
                sb_del_opts o;
                memset(&o, 0, sizeof(o));
                o.policy = "Background";
                json_t *out = NULL, *err = NULL;
                int gone = 0;
                sb_delete_entry(srv, cr, x, &o, &out, &gone, &err);
                json_decref(out);
                json_decref(err);
                if (!gone)
                    j++;
            }
            if (cr != NULL && cr->n > 0)
                continue;
            json_t *fs = pl_json_path(e->obj, "metadata", "finalizers", NULL);
            int has = 0;
            size_t i;
            json_t *f;
            json_array_foreach(fs, i, f) {
                if (json_is_string(f) && strcmp(json_string_value(f), F_CRD_CLEANUP) == 0)
                    has = 1;
            }
            if (!has)
                continue;
            json_t *n = json_deep_copy(e->obj);
            json_t *nf = pl_json_path(n, "metadata", "finalizers", NULL);
            for (size_t x = json_array_size(nf); x-- > 0;) {
                const char *s = json_string_value(json_array_get(nf, x));
                if (s != NULL && strcmp(s, F_CRD_CLEANUP) == 0)
                    json_array_remove(nf, x);
            }
            if (json_array_size(nf) == 0)
                json_object_del(json_object_get(n, "metadata"), "finalizers");
            json_t *out = NULL;
            int gone = 0;
            sb_update_or_finish(srv, c, n, &out, &gone);
            json_decref(out);
            continue;
        }
        if (!has_cond(e->obj, "NamesAccepted") &&
            now - e->mtime_ms >= srv->crd_establish_delay_ms)
            sb_crd_establish_now(srv, c, e);
    }
    json_decref(todo);
}
