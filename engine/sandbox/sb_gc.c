/*
 * sb_gc.c - deletion (API-NOTES §5.4): deletionTimestamp and finalizers, propagation
 * policies, preconditions, completion when the last finalizer goes; and a minimal garbage
 * collector for ownerReferences: dependents of a deleted owner are deleted (Background), the
 * `orphan` finalizer strips the owner's references from its dependents, `foregroundDeletion`
 * deletes the dependents and waits for those with blockOwnerDeletion.
 *
 * Everything here runs with the store lock held.
 */
#include <stdlib.h>
#include <string.h>

#include "sb_api_int.h"

#define F_ORPHAN "orphan"
#define F_FOREGROUND "foregroundDeletion"
#define F_CRD_CLEANUP "customresourcecleanup.apiextensions.k8s.io"

static int is_coll(const sb_coll *c, const char *group, const char *resource)
{
    return strcmp(c->group, group) == 0 && strcmp(c->resource, resource) == 0;
}

static int has_finalizer(const json_t *obj, const char *f)
{
    size_t i;
    json_t *v;
    json_array_foreach(pl_json_path(obj, "metadata", "finalizers", NULL), i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), f) == 0)
            return 1;
    }
    return 0;
}

static void add_finalizer(json_t *obj, const char *f)
{
    if (has_finalizer(obj, f))
        return;
    json_t *meta = json_object_get(obj, "metadata");
    json_t *fs = json_object_get(meta, "finalizers");
    if (!json_is_array(fs)) {
        fs = json_array();
        json_object_set_new(meta, "finalizers", fs);
    }
    json_array_append_new(fs, json_string(f));
}

static void remove_finalizer(json_t *obj, const char *f)
{
    json_t *meta = json_object_get(obj, "metadata");
    json_t *fs = json_object_get(meta, "finalizers");
    for (size_t i = json_array_size(fs); i-- > 0;) {
        const char *s = json_string_value(json_array_get(fs, i));
        if (s != NULL && strcmp(s, f) == 0)
            json_array_remove(fs, i);
    }
    if (fs != NULL && json_array_size(fs) == 0)
        json_object_del(meta, "finalizers");
}

static int conflict_status(sb_coll *c, const char *name, const char *detail, json_t **err)
{
    pl_buf m = PL_BUF_INIT;
    pl_buf_printf(&m, "Operation cannot be fulfilled on %s%s%s \"%s\": %s", c->resource,
                  c->group[0] ? "." : "", c->group, name, detail);
    json_t *d = json_object();
    json_object_set_new(d, "name", json_string(name));
    if (c->group[0])
        json_object_set_new(d, "group", json_string(c->group));
    json_object_set_new(d, "kind", json_string(c->resource));
    *err = sb_status_new(409, "Conflict", m.ptr, d);
    json_decref(d);
    pl_buf_dispose(&m);
    return PL_ECONFLICT;
}

int sb_update_or_finish(sb_server *srv, sb_coll *c, json_t *obj, json_t **out, int *gone)
{
    sb_store *st = srv->store;
    int rc = 0;
    *gone = 0;
    if (out != NULL)
        *out = NULL;
    json_t *meta = json_object_get(obj, "metadata");
    int finish = json_object_get(meta, "deletionTimestamp") != NULL &&
                 json_array_size(json_object_get(meta, "finalizers")) == 0;
    if (finish && is_coll(c, "", "namespaces") &&
        json_array_size(pl_json_path(obj, "spec", "finalizers", NULL)) > 0)
        finish = 0; /* the namespace controller still has to empty it (API-NOTES §8) */
    if (finish) {
        const char *ns = c->namespaced ? pl_json_str(meta, "namespace", NULL) : "";
        sb_entry *e = sb_store_get(c, ns ? ns : "", pl_json_str(meta, "name", NULL));
        if (e == NULL) {
            json_decref(obj);
            return pl_error_set(PL_ENOTFOUND, "object to finish deleting is gone");
        }
        /* removing the last finalizer completes the deletion in that request (§5.4) */
        rc = sb_store_remove(st, c, e, obj, out);
        *gone = 1;
        if (rc == 0 && is_coll(c, "apiextensions.k8s.io", "customresourcedefinitions")) {
            const char *name = out && *out ? pl_json_str(*out, "metadata", "name", NULL) : NULL;
            if (name != NULL)
                sb_types_remove_crd(srv->types, name);
        }
        return rc;
    }
    sb_entry *e = NULL;
    rc = sb_store_put(st, c, obj, &e);
    if (rc == 0 && out != NULL)
        *out = json_incref(e->obj);
    return rc;
}

int sb_delete_entry(sb_server *srv, sb_coll *c, sb_entry *e, const sb_del_opts *o,
                    json_t **out_obj, int *gone, json_t **err_status)
{
    sb_store *st = srv->store;
    const json_t *obj = e->obj;
    const char *uid = pl_json_str(obj, "metadata", "uid", NULL);
    const char *rv = pl_json_str(obj, "metadata", "resourceVersion", NULL);
    char now[32];
    *out_obj = NULL;
    *gone = 0;
    *err_status = NULL;
    sb_now_rfc3339(now, sizeof(now));

    if (o->pre_uid != NULL && (uid == NULL || strcmp(o->pre_uid, uid) != 0)) {
        pl_buf d = PL_BUF_INIT;
        pl_buf_printf(&d, "Precondition failed: UID in precondition: %s, UID in object meta: %s",
                      o->pre_uid, uid ? uid : "");
        int rc = conflict_status(c, e->name, d.ptr, err_status);
        pl_buf_dispose(&d);
        return rc;
    }
    if (o->pre_rv != NULL && (rv == NULL || strcmp(o->pre_rv, rv) != 0)) {
        pl_buf d = PL_BUF_INIT;
        pl_buf_printf(&d,
                      "Precondition failed: ResourceVersion in precondition: %s, "
                      "ResourceVersion in meta: %s",
                      o->pre_rv, rv ? rv : "");
        int rc = conflict_status(c, e->name, d.ptr, err_status);
        pl_buf_dispose(&d);
        return rc;
    }
    int is_ns = is_coll(c, "", "namespaces");
    if (is_ns && (strcmp(e->name, "default") == 0 || strcmp(e->name, "kube-system") == 0 ||
                  strcmp(e->name, "kube-public") == 0)) {
        pl_buf m = PL_BUF_INIT;
        pl_buf_printf(&m, "namespaces \"%s\" is forbidden: this namespace may not be deleted",
                      e->name);
        json_t *d = json_pack("{s:s,s:s}", "name", e->name, "kind", "namespaces");
        *err_status = sb_status_new(403, "Forbidden", m.ptr, d);
        json_decref(d);
        pl_buf_dispose(&m);
        return PL_EAUTH;
    }
    /* already terminating: 200 with the object (API-NOTES §5.4, §8) */
    if (pl_json_path(obj, "metadata", "deletionTimestamp", NULL) != NULL) {
        *out_obj = json_deep_copy(obj);
        return 0;
    }
    const char *policy = o->policy;
    if (policy == NULL && is_coll(c, "batch", "jobs"))
        policy = "Orphan"; /* batch/v1 Job default (API-NOTES §5.4) */
    json_t *n = json_deep_copy(obj);
    json_t *meta = json_object_get(n, "metadata");
    if (policy != NULL && strcmp(policy, "Orphan") == 0)
        add_finalizer(n, F_ORPHAN);
    else if (policy != NULL && strcmp(policy, "Foreground") == 0)
        add_finalizer(n, F_FOREGROUND);
    int is_crd = is_coll(c, "apiextensions.k8s.io", "customresourcedefinitions");
    if (is_ns) {
        /* Terminating, no deletionGracePeriodSeconds (API-NOTES §8) */
        json_object_set_new(meta, "deletionTimestamp", json_string(now));
        json_t *status = json_object_get(n, "status");
        if (!json_is_object(status)) {
            status = json_object();
            json_object_set_new(n, "status", status);
        }
        json_object_set_new(status, "phase", json_string("Terminating"));
    } else if (is_crd || json_array_size(json_object_get(meta, "finalizers")) > 0) {
        if (is_crd) {
            /* CRD deletion: Terminating condition + cleanup finalizer (API-NOTES §7.1) */
            add_finalizer(n, F_CRD_CLEANUP);
            json_t *status = json_object_get(n, "status");
            if (!json_is_object(status)) {
                status = json_object();
                json_object_set_new(n, "status", status);
            }
            json_t *conds = json_object_get(status, "conditions");
            if (!json_is_array(conds)) {
                conds = json_array();
                json_object_set_new(status, "conditions", conds);
            }
            json_array_append_new(conds,
                                  json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", "Terminating",
                                            "status", "True", "lastTransitionTime", now, "reason",
                                            "InstanceDeletionInProgress", "message",
                                            "CustomResource deletion is in progress"));
        }
        json_object_set_new(meta, "deletionTimestamp", json_string(now));
        json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(0));
        json_t *g = json_object_get(meta, "generation");
        if (json_is_integer(g) && json_integer_value(g) > 0)
            json_object_set_new(meta, "generation", json_integer(json_integer_value(g) + 1));
    } else {
        /* nothing keeps it: gone now */
        *gone = 1;
        if (o->dry_run) {
            *out_obj = n;
            return 0;
        }
        json_decref(n);
        return sb_store_remove(st, c, e, NULL, out_obj);
    }
    if (o->dry_run) {
        *out_obj = n;
        return 0;
    }
    int rc = sb_store_put(st, c, n, &e);
    if (rc == 0)
        *out_obj = json_incref(e->obj);
    if (is_crd && rc == 0)
        sb_crd_after_write(srv, e->obj);
    sb_store_kick(st);
    return rc;
}

void sb_gc_note_deleted(sb_store *st, const char *uid)
{
    if (st->gc_n == st->gc_cap) {
        size_t cap = st->gc_cap ? st->gc_cap * 2 : 16;
        char **n = pl_realloc(st->gc_uids, cap * sizeof(*n));
        if (n == NULL)
            return;
        st->gc_uids = n;
        st->gc_cap = cap;
    }
    char *u = pl_strdup(uid);
    if (u != NULL)
        st->gc_uids[st->gc_n++] = u;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted array of every live uid (borrowed strings; valid until the next write). */
static const char **live_uids(sb_store *st, size_t *n)
{
    size_t total = 0;
    for (size_t i = 0; i < st->ncolls; i++)
        total += st->colls[i]->n;
    const char **u = pl_calloc(total + 1, sizeof(*u));
    if (u == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < st->ncolls; i++)
        for (size_t j = 0; j < st->colls[i]->n; j++) {
            const char *uid = pl_json_str(st->colls[i]->items[j]->obj, "metadata", "uid", NULL);
            if (uid != NULL)
                u[k++] = uid;
        }
    qsort(u, k, sizeof(*u), cmp_str);
    *n = k;
    return u;
}

static int refs_uid(const json_t *obj, const char *uid)
{
    size_t i;
    json_t *r;
    json_array_foreach(pl_json_path(obj, "metadata", "ownerReferences", NULL), i, r) {
        const char *u = pl_json_str(r, "uid", NULL);
        if (u != NULL && strcmp(u, uid) == 0)
            return 1;
    }
    return 0;
}

typedef struct dep_ref {
    sb_coll *c;
    char *ns, *name;
} dep_ref;

/* Dependents of uid (owned array of keys; entries may change while processing). */
static dep_ref *dependents(sb_store *st, const char *uid, size_t *n)
{
    dep_ref *d = NULL;
    size_t nd = 0, cap = 0;
    for (size_t i = 0; i < st->ncolls; i++) {
        sb_coll *c = st->colls[i];
        for (size_t j = 0; j < c->n; j++) {
            if (!refs_uid(c->items[j]->obj, uid))
                continue;
            if (nd == cap) {
                cap = cap ? cap * 2 : 8;
                dep_ref *x = pl_realloc(d, cap * sizeof(*x));
                if (x == NULL)
                    break;
                d = x;
            }
            d[nd].c = c;
            d[nd].ns = pl_strdup(c->items[j]->ns);
            d[nd].name = pl_strdup(c->items[j]->name);
            nd++;
        }
    }
    *n = nd;
    return d;
}

static void free_deps(dep_ref *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        pl_free(d[i].ns);
        pl_free(d[i].name);
    }
    pl_free(d);
}

static void delete_quiet(sb_server *srv, sb_coll *c, sb_entry *e, const char *policy)
{
    sb_del_opts o;
    memset(&o, 0, sizeof(o));
    o.policy = policy;
    json_t *out = NULL, *err = NULL;
    int gone = 0;
    sb_delete_entry(srv, c, e, &o, &out, &gone, &err);
    json_decref(out);
    json_decref(err);
}

/* Dependents of deleted owners: delete those whose owners are all gone (Background GC). */
static void collect_orphans(sb_server *srv)
{
    sb_store *st = srv->store;
    if (st->gc_n == 0)
        return;
    char **gone_uids = st->gc_uids;
    size_t ngone = st->gc_n;
    st->gc_uids = NULL;
    st->gc_n = st->gc_cap = 0;
    size_t nlive = 0;
    const char **live = live_uids(st, &nlive);
    for (size_t g = 0; g < ngone && live != NULL; g++) {
        size_t nd = 0;
        dep_ref *deps = dependents(st, gone_uids[g], &nd);
        for (size_t k = 0; k < nd; k++) {
            sb_entry *e = sb_store_get(deps[k].c, deps[k].ns, deps[k].name);
            if (e == NULL || pl_json_path(e->obj, "metadata", "deletionTimestamp", NULL))
                continue;
            int alive = 0;
            size_t i;
            json_t *r;
            json_array_foreach(pl_json_path(e->obj, "metadata", "ownerReferences", NULL), i, r) {
                const char *u = pl_json_str(r, "uid", NULL);
                if (u != NULL && bsearch(&u, live, nlive, sizeof(*live), cmp_str) != NULL)
                    alive = 1;
            }
            if (!alive)
                delete_quiet(srv, deps[k].c, e, "Background");
        }
        free_deps(deps, nd);
        /* deletions above may have invalidated the uid snapshot */
        pl_free(live);
        live = live_uids(st, &nlive);
    }
    pl_free(live);
    for (size_t g = 0; g < ngone; g++)
        pl_free(gone_uids[g]);
    pl_free(gone_uids);
}

/* Release one finalizer of entry (c, ns, name) and store (or finish) it. */
static void release_finalizer(sb_server *srv, sb_coll *c, const char *ns, const char *name,
                              const char *f)
{
    sb_entry *e = sb_store_get(c, ns, name);
    if (e == NULL)
        return;
    json_t *n = json_deep_copy(e->obj);
    remove_finalizer(n, f);
    json_t *out = NULL;
    int gone = 0;
    sb_update_or_finish(srv, c, n, &out, &gone);
    json_decref(out);
}

void sb_gc_tick(sb_server *srv)
{
    sb_store *st = srv->store;
    collect_orphans(srv);
    /* objects waiting on orphan/foregroundDeletion finalizers */
    typedef struct pend {
        sb_coll *c;
        char *ns, *name, *uid;
        int orphan, fg;
    } pend;
    pend *p = NULL;
    size_t np = 0, cap = 0;
    for (size_t i = 0; i < st->ncolls; i++) {
        sb_coll *c = st->colls[i];
        for (size_t j = 0; j < c->n; j++) {
            const json_t *o = c->items[j]->obj;
            if (pl_json_path(o, "metadata", "deletionTimestamp", NULL) == NULL)
                continue;
            int orphan = has_finalizer(o, F_ORPHAN), fg = has_finalizer(o, F_FOREGROUND);
            if (!orphan && !fg)
                continue;
            if (np == cap) {
                cap = cap ? cap * 2 : 8;
                pend *x = pl_realloc(p, cap * sizeof(*x));
                if (x == NULL)
                    break;
                p = x;
            }
            p[np].c = c;
            p[np].ns = pl_strdup(c->items[j]->ns);
            p[np].name = pl_strdup(c->items[j]->name);
            p[np].uid = pl_strdup(pl_json_str(o, "metadata", "uid", NULL) ? pl_json_str(o, "metadata", "uid", NULL) : "");
            p[np].orphan = orphan;
            p[np].fg = fg;
            np++;
        }
    }
    for (size_t k = 0; k < np; k++) {
        size_t nd = 0;
        dep_ref *deps = dependents(st, p[k].uid, &nd);
        if (p[k].orphan) {
            /* Orphan: strip the owner's references from every dependent, then release */
            for (size_t d = 0; d < nd; d++) {
                sb_entry *e = sb_store_get(deps[d].c, deps[d].ns, deps[d].name);
                if (e == NULL)
                    continue;
                json_t *n = json_deep_copy(e->obj);
                json_t *refs = pl_json_path(n, "metadata", "ownerReferences", NULL);
                for (size_t r = json_array_size(refs); r-- > 0;) {
                    const char *u = pl_json_str(json_array_get(refs, r), "uid", NULL);
                    if (u != NULL && strcmp(u, p[k].uid) == 0)
                        json_array_remove(refs, r);
                }
                if (refs != NULL && json_array_size(refs) == 0)
                    json_object_del(json_object_get(n, "metadata"), "ownerReferences");
                sb_store_put(st, deps[d].c, n, NULL);
            }
            release_finalizer(srv, p[k].c, p[k].ns, p[k].name, F_ORPHAN);
        } else if (p[k].fg) {
            /* Foreground: delete dependents; the owner waits for blockOwnerDeletion ones */
            int blocking = 0;
            for (size_t d = 0; d < nd; d++) {
                sb_entry *e = sb_store_get(deps[d].c, deps[d].ns, deps[d].name);
                if (e == NULL)
                    continue;
                size_t r;
                json_t *ref;
                json_array_foreach(pl_json_path(e->obj, "metadata", "ownerReferences", NULL), r,
                                   ref) {
                    const char *u = pl_json_str(ref, "uid", NULL);
                    if (u != NULL && strcmp(u, p[k].uid) == 0 &&
                        json_is_true(json_object_get(ref, "blockOwnerDeletion")))
                        blocking = 1;
                }
                if (pl_json_path(e->obj, "metadata", "deletionTimestamp", NULL) == NULL)
                    delete_quiet(srv, deps[d].c, e, "Foreground");
            }
            if (!blocking)
                release_finalizer(srv, p[k].c, p[k].ns, p[k].name, F_FOREGROUND);
            else
                st->bg_dirty = 1;
        }
        free_deps(deps, nd);
    }
    for (size_t k = 0; k < np; k++) {
        pl_free(p[k].ns);
        pl_free(p[k].name);
        pl_free(p[k].uid);
    }
    pl_free(p);
}
