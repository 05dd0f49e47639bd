/*
 * sb_ns.c - namespaces (API-NOTES §3.3, §8): existence checks for creates, the system
 * namespaces created at start, and the namespace controller that empties a Terminating
 * namespace (honouring its objects' finalizers), then drops spec.finalizers so the namespace
 * goes away with a DELETED event. Runs with the store lock held.
 */
#include <string.h>

#include "sb_api_int.h"

#define NS_CLEANUP_DELAY_MS 300

static sb_coll *ns_coll(sb_store *st)
{
    return sb_store_coll(st, "", "namespaces", "Namespace", 0);
}

int sb_ns_state(sb_store *st, const char *ns)
{
    sb_entry *e = sb_store_get(ns_coll(st), "", ns ? ns : "");
    if (e == NULL)
        return 1;
    if (pl_json_path(e->obj, "metadata", "deletionTimestamp", NULL) != NULL)
        return 2;
    return 0;
}

int sb_ns_ensure(sb_server *srv, const char *ns)
{
    sb_store *st = srv->store;
    sb_coll *c = ns_coll(st);
    if (c == NULL)
        return PL_ENOMEM;
    if (sb_store_get(c, "", ns) != NULL)
        return 0;
    char uid[37], now[32];
    sb_uuid4(uid);
    sb_now_rfc3339(now, sizeof(now));
    json_t *obj = json_pack("{s:s,s:s,s:{s:s,s:s,s:s}}", "kind", "Namespace", "apiVersion", "v1",
                            "metadata", "name", ns, "uid", uid, "creationTimestamp", now);
    if (obj == NULL)
        return PL_ENOMEM;
    const sb_type *t = srv->types ? sb_types_by_resource(srv->types, "", "v1", "namespaces") : NULL;
    if (t != NULL) {
        sb_defaults_apply(t, obj, NULL);
        sb_fm_opts o = {"plumb-sandbox", "v1", NULL, 0, now};
        sb_ssa_update(obj, t->schema, NULL, &o);
    }
    return sb_store_put(st, c, obj, NULL);
}

void sb_ns_tick(sb_server *srv)
{
    sb_store *st = srv->store;
    sb_coll *nc = ns_coll(st);
    if (nc == NULL)
        return;
    /* names first: the loop below writes to the namespaces collection */
    json_t *term = json_array();
    int64_t now = sb_mono_ms();
    for (size_t i = 0; i < nc->n; i++) {
        if (pl_json_path(nc->items[i]->obj, "metadata", "deletionTimestamp", NULL) == NULL)
            continue;
        /* The real namespace controller starts after a moment (it is a queue worker behind an
         * informer); deleting right away would make `kubectl delete -f` of a namespace and its
         * contents report NotFound for the contents. */
        if (now - nc->items[i]->mtime_ms < NS_CLEANUP_DELAY_MS) {
            st->bg_dirty = 1;
            continue;
        }
        json_array_append_new(term, json_string(nc->items[i]->name));
    }
    size_t k;
    json_t *jn;
    json_array_foreach(term, k, jn) {
        const char *ns = json_string_value(jn);
        size_t remaining = 0;
        for (size_t i = 0; i < st->ncolls; i++) {
            sb_coll *c = st->colls[i];
            if (!c->namespaced)
                continue;
            size_t j = sb_store_lower_bound(c, ns, "");
            while (j < c->n && strcmp(c->items[j]->ns, ns) == 0) {
                sb_entry *e = c->items[j];
                if (pl_json_path(e->obj, "metadata", "deletionTimestamp", NULL) != NULL) {
                    remaining++;
                    j++;
                    continue;
                }
                sb_del_opts o;
                memset(&o, 0, sizeof(o));
                o.policy = "Background";
                json_t *out = NULL, *err = NULL;
                int gone = 0;
                sb_delete_entry(srv, c, e, &o, &out, &gone, &err);
                json_decref(out);
                json_decref(err);
                if (!gone) {
                    remaining++;
                    j++;
                }
                /* when gone, items shifted down: j now points at the next one */
            }
        }
        if (remaining > 0) {
            st->bg_dirty = 1; /* finalizers pending: look again */
            continue;
        }
        sb_entry *e = sb_store_get(nc, "", ns);
        if (e == NULL)
            continue;
        if (pl_json_path(e->obj, "spec", "finalizers", NULL) == NULL)
            continue; /* only metadata.finalizers left: their owners release them */
        json_t *n = json_deep_copy(e->obj);
        json_t *spec = json_object_get(n, "spec");
        if (json_is_object(spec))
            json_object_del(spec, "finalizers");
        json_t *out = NULL;
        int gone = 0;
        sb_update_or_finish(srv, nc, n, &out, &gone);
        json_decref(out);
    }
    json_decref(term);
}
