/*
 * sb_ssa.c - server-side apply and managedFields (API-NOTES §4.2-4.8), modelled on
 * structured-merge-diff's Updater (merge/update.go) and apimachinery's managedfields managers
 * (skip-non-applied "before-first-apply", managed-fields updater times, strip-meta, cap at 10
 * Update entries). All functions are pure: values in, values out.
 *
 * The walks (field set of an intent, merge, comparison, prune) each visit every value once;
 * list items are matched through a sorted index, so nothing is quadratic in list length.
 */
#include <stdlib.h>
#include <string.h>

#include "sb_smd.h"

#define MAX_DEPTH 256

/* ---- list item index ------------------------------------------------------------------------ */

typedef struct litem {
    json_t *key;  /* path element value (owned reference); NULL when it could not be computed */
    json_t *item; /* borrowed */
    int dup;      /* a repeated occurrence (ignored, as SMD ignores them) */
} litem;

typedef struct lord {
    json_t *key;
    size_t pos;
} lord;

typedef struct lindex {
    litem *v;
    size_t n;
    lord *ord; /* valid, non-duplicate keys sorted by value */
    size_t nord;
    sb_pe_kind kind;
    int sorted;
} lindex;

#define SMALL_LIST 8

static int lord_cmp(const void *a, const void *b)
{
    const lord *x = a, *y = b;
    int c = sb_value_cmp(x->key, y->key);
    if (c)
        return c;
    return x->pos < y->pos ? -1 : x->pos > y->pos ? 1 : 0;
}

int sb_list_item_key(json_t **out, const sb_snode *list, const json_t *item)
{
    *out = NULL;
    if (json_is_null(item))
        return pl_error_set(PL_EINVALID, "associative list with keys may not have a null element");
    if (!json_is_object(item))
        return pl_error_set(PL_EINVALID,
                            "associative list with keys may not have non-map elements");
    json_t *k = json_object();
    if (!k)
        return pl_error_set(PL_ENOMEM, "out of memory");
    const sb_snode *items = sb_snode_items(list);
    for (size_t i = 0; i < list->nkeys; i++) {
        json_t *v = json_object_get(item, list->keys[i]);
        if (!v) {
            int declared;
            const sb_snode *kn = sb_snode_child(items, list->keys[i], &declared);
            if (kn && kn->dflt && declared)
                v = kn->dflt;
        }
        if (!v) {
            json_decref(k);
            return pl_error_set(PL_EINVALID,
                                "associative list with keys has an element that omits key field "
                                "\"%s\" (and doesn't have default value)",
                                list->keys[i]);
        }
        json_object_set(k, list->keys[i], v);
    }
    *out = k;
    return 0;
}

typedef struct errs {
    pl_buf text; /* "path: message" lines joined by '\n' */
    size_t n;
} errs;

static void errs_add(errs *e, const sb_pe *path, size_t depth, const char *msg)
{
    if (!e)
        return;
    if (e->n)
        pl_buf_putc(&e->text, '\n');
    sb_path_render(&e->text, path, depth);
    if (depth)
        pl_buf_puts(&e->text, ": ");
    pl_buf_puts(&e->text, msg);
    e->n++;
}

static void lindex_dispose(lindex *ix)
{
    for (size_t i = 0; i < ix->n; i++)
        json_decref(ix->v[i].key);
    pl_free(ix->v);
    pl_free(ix->ord);
    memset(ix, 0, sizeof(*ix));
}

/* Index the items of a set or list-map. Errors (bad items, duplicates) go to `e` if given. */
static int lindex_build(lindex *ix, const sb_snode *list, const json_t *arr, errs *e,
                        const sb_pe *path, size_t depth)
{
    memset(ix, 0, sizeof(*ix));
    int lt = sb_snode_list_type(list);
    ix->kind = lt == SB_LIST_MAP ? SB_PE_KEY : SB_PE_VALUE;
    size_t n = json_array_size(arr);
    if (n == 0)
        return 0;
    ix->v = pl_calloc(n, sizeof(*ix->v));
    ix->ord = pl_calloc(n, sizeof(*ix->ord));
    if (!ix->v || !ix->ord) {
        lindex_dispose(ix);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    ix->n = n;
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_array_get(arr, i);
        ix->v[i].item = it;
        if (lt == SB_LIST_MAP) {
            if (sb_list_item_key(&ix->v[i].key, list, it) < 0 && e) {
                pl_buf m = PL_BUF_INIT;
                pl_buf_printf(&m, "element %zu: %s", i, pl_error_last()->message);
                errs_add(e, path, depth, m.ptr ? m.ptr : "");
                pl_buf_dispose(&m);
            }
        } else if (json_is_object(it) || json_is_array(it) || json_is_null(it)) {
            if (e)
                errs_add(e, path, depth,
                         json_is_object(it)
                             ? "associative list without keys has an element that's a map type"
                         : json_is_array(it)
                             ? "not supported: associative list with lists as elements"
                             : "associative list without keys has an element that's an explicit "
                               "null");
        } else {
            ix->v[i].key = json_incref(it);
        }
        if (ix->v[i].key) {
            ix->ord[ix->nord].key = ix->v[i].key;
            ix->ord[ix->nord].pos = i;
            ix->nord++;
        }
    }
    /* small lists (the common case) are searched linearly; larger ones through a sorted index */
    ix->sorted = ix->nord > SMALL_LIST;
    if (ix->sorted)
        qsort(ix->ord, ix->nord, sizeof(*ix->ord), lord_cmp);
    size_t w = 0;
    for (size_t i = 0; i < ix->nord; i++) {
        int dup = 0;
        if (ix->sorted)
            dup = w > 0 && sb_value_cmp(ix->ord[w - 1].key, ix->ord[i].key) == 0;
        else
            for (size_t j = 0; j < w && !dup; j++)
                dup = sb_value_cmp(ix->ord[j].key, ix->ord[i].key) == 0;
        if (dup) {
            ix->v[ix->ord[i].pos].dup = 1;
            if (e) {
                sb_pe pe = {ix->kind, NULL, ix->ord[i].key, 0};
                pl_buf m = PL_BUF_INIT;
                pl_buf_puts(&m, "duplicate entries for key ");
                sb_path_render(&m, &pe, 1);
                errs_add(e, path, depth, m.ptr ? m.ptr : "");
                pl_buf_dispose(&m);
            }
            continue;
        }
        ix->ord[w++] = ix->ord[i];
    }
    ix->nord = w;
    return 0;
}

/* Position of the (first) item with this key, or -1. */
static long lindex_find(const lindex *ix, const json_t *key)
{
    if (!ix->sorted) {
        for (size_t i = 0; i < ix->nord; i++)
            if (sb_value_cmp(ix->ord[i].key, key) == 0)
                return (long)ix->ord[i].pos;
        return -1;
    }
    size_t lo = 0, hi = ix->nord;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = sb_value_cmp(ix->ord[mid].key, key);
        if (c == 0)
            return (long)ix->ord[mid].pos;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* ---- walk context --------------------------------------------------------------------------- */

typedef struct walk {
    sb_pe path[MAX_DEPTH];
    size_t depth;
    errs *e;
    int oom;
} walk;

/* A walk with an empty path: the path array (MAX_DEPTH entries) is not zeroed, only the
 * entries below depth are ever read. */
static walk *walk_new(void)
{
    walk *w = pl_malloc(sizeof(*w));
    if (w != NULL) {
        w->depth = 0;
        w->e = NULL;
        w->oom = 0;
    }
    return w;
}

static int push_field(walk *w, const char *name)
{
    if (w->depth >= MAX_DEPTH)
        return -1;
    sb_pe pe = {SB_PE_FIELD, name, NULL, 0};
    w->path[w->depth++] = pe;
    return 0;
}

static int push_item(walk *w, sb_pe_kind kind, const json_t *key)
{
    if (w->depth >= MAX_DEPTH)
        return -1;
    sb_pe pe = {kind, NULL, key, 0};
    w->path[w->depth++] = pe;
    return 0;
}

static void ins(walk *w, sb_fs *s)
{
    if (sb_fs_insert(s, w->path, w->depth) < 0)
        w->oom = 1;
}

/* ---- the applied set (§4.6 "Apply sets") ------------------------------------------------------ */

static void to_set(walk *w, sb_fs *set, const json_t *v, const sb_snode *n)
{
    if (json_is_object(v)) {
        if (sb_snode_map_atomic(n) || (json_object_size(v) == 0 && w->depth > 0)) {
            ins(w, set);
            return;
        }
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)v, key, val) {
            int declared;
            const sb_snode *cn = sb_snode_child(n, key, &declared);
            if (push_field(w, key) < 0)
                return;
            if (!cn) {
                errs_add(w->e, w->path, w->depth, "field not declared in schema");
            } else {
                to_set(w, set, val, cn);
                if (!declared)
                    ins(w, set);
            }
            w->depth--;
        }
    } else if (json_is_array(v)) {
        if (sb_snode_list_type(n) == SB_LIST_ATOMIC) {
            ins(w, set);
            return;
        }
        lindex ix;
        if (lindex_build(&ix, n, v, w->e, w->path, w->depth) < 0) {
            w->oom = 1;
            return;
        }
        const sb_snode *in = sb_snode_items(n);
        for (size_t i = 0; i < ix.n; i++) {
            if (!ix.v[i].key || ix.v[i].dup)
                continue;
            if (push_item(w, ix.kind, ix.v[i].key) < 0)
                break;
            if (ix.kind == SB_PE_KEY)
                to_set(w, set, ix.v[i].item, in);
            ins(w, set);
            w->depth--;
        }
        lindex_dispose(&ix);
    } else {
        ins(w, set); /* scalars and null */
    }
}

/* ---- merge (SMD ruleKeepRHS) ----------------------------------------------------------------- */

static int empty_container(const json_t *v)
{
    return !v || json_is_null(v) || (json_is_object(v) && json_object_size(v) == 0) ||
           (json_is_array(v) && json_array_size(v) == 0);
}

static json_t *merge(const json_t *l, const json_t *r, const sb_snode *n, int depth);

static json_t *merge_list(const json_t *l, const json_t *r, const sb_snode *n, int depth)
{
    lindex li, ri;
    json_t *out = NULL;
    if (lindex_build(&li, n, l, NULL, NULL, 0) < 0)
        return NULL;
    if (lindex_build(&ri, n, r, NULL, NULL, 0) < 0) {
        lindex_dispose(&li);
        return NULL;
    }
    const sb_snode *in = sb_snode_items(n);
    /* shared keys in RHS order (SMD visitListItems) */
    size_t *shared = pl_calloc(ri.n + 1, sizeof(size_t));
    size_t nshared = 0, si = 0;
    out = json_array();
    if (!shared || !out)
        goto fail;
    for (size_t i = 0; i < ri.n; i++)
        if (ri.v[i].key && !ri.v[i].dup && lindex_find(&li, ri.v[i].key) >= 0)
            shared[nshared++] = i;
    const json_t *next_shared = nshared ? ri.v[shared[si++]].key : NULL;
    size_t lI = 0, rI = 0;
    while (lI < li.n || rI < ri.n) {
        /* items without a usable key, and repeated ones: RHS ones are kept, LHS ones dropped */
        if (lI < li.n && (!li.v[lI].key || li.v[lI].dup)) {
            lI++;
            continue;
        }
        if (rI < ri.n && (!ri.v[rI].key || ri.v[rI].dup)) {
            if (!ri.v[rI].dup)
                json_array_append_new(out, json_deep_copy(ri.v[rI].item));
            rI++;
            continue;
        }
        size_t before_l = lI, before_r = rI;
        if (lI < li.n && rI < ri.n) {
            if (sb_value_cmp(li.v[lI].key, ri.v[rI].key) == 0) {
                json_t *m = merge(li.v[lI].item, ri.v[rI].item, in, depth + 1);
                if (!m)
                    goto fail;
                json_array_append_new(out, m);
                lI++;
                rI++;
                next_shared = si < nshared ? ri.v[shared[si++]].key : NULL;
                continue;
            }
            if (lindex_find(&ri, li.v[lI].key) >= 0 && next_shared &&
                sb_value_cmp(next_shared, li.v[lI].key) != 0) {
                lI++;
                continue;
            }
        }
        if (lI < li.n && lindex_find(&ri, li.v[lI].key) < 0) {
            json_array_append_new(out, json_deep_copy(li.v[lI].item));
            lI++;
            continue;
        }
        if (rI < ri.n) {
            long lp = lindex_find(&li, ri.v[rI].key);
            json_t *m = merge(lp >= 0 ? li.v[lp].item : NULL, ri.v[rI].item, in, depth + 1);
            if (!m)
                goto fail;
            json_array_append_new(out, m);
            if (next_shared && sb_value_cmp(next_shared, ri.v[rI].key) == 0)
                next_shared = si < nshared ? ri.v[shared[si++]].key : NULL;
            rI++;
        }
        if (lI == before_l && rI == before_r)
            lI++; /* shared LHS item already emitted through the RHS */
    }
    pl_free(shared);
    lindex_dispose(&li);
    lindex_dispose(&ri);
    return out;
fail:
    pl_free(shared);
    json_decref(out);
    lindex_dispose(&li);
    lindex_dispose(&ri);
    return NULL;
}

static json_t *merge(const json_t *l, const json_t *r, const sb_snode *n, int depth)
{
    if (depth > MAX_DEPTH)
        return json_deep_copy(r ? r : l);
    if (!r)
        return json_deep_copy(l);
    if (!l)
        return json_deep_copy(r);
    if (json_is_object(r) && json_is_object(l) && !sb_snode_map_atomic(n)) {
        if (json_object_size(l) == 0 && json_object_size(r) == 0)
            return json_deep_copy(r);
        json_t *out = json_object();
        const char *key;
        json_t *lv, *rv;
        if (!out)
            return NULL;
        json_object_foreach((json_t *)l, key, lv) {
            rv = json_object_get(r, key);
            json_t *m;
            if (rv) {
                int declared;
                const sb_snode *cn = sb_snode_child(n, key, &declared);
                m = merge(lv, rv, cn ? cn : &sb_snode_deduced, depth + 1);
            } else {
                m = json_deep_copy(lv);
            }
            if (!m || json_object_set_new(out, key, m) < 0) {
                json_decref(out);
                return NULL;
            }
        }
        json_object_foreach((json_t *)r, key, rv) {
            if (json_object_get(l, key))
                continue;
            if (json_object_set_new(out, key, json_deep_copy(rv)) < 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    if (json_is_null(r) && !empty_container(l) && (json_is_object(l) || json_is_array(l)) &&
        !sb_snode_map_atomic(n) && (json_is_object(l) || sb_snode_list_type(n) != SB_LIST_ATOMIC))
        return json_deep_copy(l); /* SMD keeps LHS items when RHS is null */
    if (json_is_array(r) && json_is_array(l) && sb_snode_list_type(n) != SB_LIST_ATOMIC &&
        !(json_array_size(l) == 0 && json_array_size(r) == 0))
        return merge_list(l, r, n, depth);
    return json_deep_copy(r);
}

/* ---- comparison (SMD TypedValue.Compare) ----------------------------------------------------- */

typedef struct cmpres {
    sb_fs *added, *modified, *removed;
} cmpres;

static int same_kind(const json_t *a, const json_t *b)
{
    int ka = json_is_object(a) ? 1 : json_is_array(a) ? 2 : 0;
    int kb = json_is_object(b) ? 1 : json_is_array(b) ? 2 : 0;
    return ka == kb;
}

static void compare(walk *w, cmpres *c, const json_t *l, const json_t *r, const sb_snode *n)
{
    /* one value on both sides (an update that shares the unchanged parts of the stored
     * object, such as a status write): nothing added, modified or removed below it */
    if (l != NULL && l == r)
        return;
    const json_t *v = r ? r : l;
    int leaf = 1;
    if (l && r && !same_kind(l, r) && !json_is_null(l) && !json_is_null(r))
        leaf = 1;
    else if (json_is_object(v) || (json_is_null(v) && json_is_object(l ? l : r)))
        leaf = sb_snode_map_atomic(n) || (empty_container(l) && empty_container(r));
    else if (json_is_array(v))
        leaf = sb_snode_list_type(n) == SB_LIST_ATOMIC || (empty_container(l) && empty_container(r));
    if (leaf) {
        if (!l)
            ins(w, c->added);
        else if (!r)
            ins(w, c->removed);
        else if (!json_equal((json_t *)l, (json_t *)r))
            ins(w, c->modified);
        return;
    }
    if (l && r && !same_kind(l, r)) {
        /* null on one side: a container appears or disappears */
        ins(w, c->modified);
        return;
    }
    if (json_is_object(v)) {
        const char *key;
        json_t *x;
        if (json_is_object(l)) {
            json_object_foreach((json_t *)l, key, x) {
                int declared;
                const sb_snode *cn = sb_snode_child(n, key, &declared);
                if (push_field(w, key) < 0)
                    return;
                compare(w, c, x, json_is_object(r) ? json_object_get(r, key) : NULL,
                        cn ? cn : &sb_snode_deduced);
                w->depth--;
            }
        }
        if (json_is_object(r)) {
            json_object_foreach((json_t *)r, key, x) {
                if (json_is_object(l) && json_object_get(l, key))
                    continue;
                int declared;
                const sb_snode *cn = sb_snode_child(n, key, &declared);
                if (push_field(w, key) < 0)
                    return;
                compare(w, c, NULL, x, cn ? cn : &sb_snode_deduced);
                w->depth--;
            }
        }
    } else {
        lindex li, ri;
        memset(&li, 0, sizeof(li));
        memset(&ri, 0, sizeof(ri));
        if ((l && lindex_build(&li, n, l, NULL, NULL, 0) < 0) ||
            (r && lindex_build(&ri, n, r, NULL, NULL, 0) < 0)) {
            w->oom = 1;
            lindex_dispose(&li);
            return;
        }
        const sb_snode *in = sb_snode_items(n);
        sb_pe_kind kind = sb_snode_list_type(n) == SB_LIST_MAP ? SB_PE_KEY : SB_PE_VALUE;
        for (size_t i = 0; i < li.n; i++) {
            if (!li.v[i].key || li.v[i].dup)
                continue;
            long rp = r ? lindex_find(&ri, li.v[i].key) : -1;
            if (push_item(w, kind, li.v[i].key) < 0)
                break;
            compare(w, c, li.v[i].item, rp >= 0 ? ri.v[rp].item : NULL, in);
            w->depth--;
        }
        for (size_t i = 0; i < ri.n; i++) {
            if (!ri.v[i].key || ri.v[i].dup || (l && lindex_find(&li, ri.v[i].key) >= 0))
                continue;
            if (push_item(w, kind, ri.v[i].key) < 0)
                break;
            compare(w, c, NULL, ri.v[i].item, in);
            w->depth--;
        }
        lindex_dispose(&li);
        lindex_dispose(&ri);
    }
    if (!l)
        ins(w, c->added);
    else if (!r)
        ins(w, c->removed);
}

static int cmp_run(cmpres *c, const json_t *l, const json_t *r, const sb_snode *root)
{
    c->added = sb_fs_new();
    c->modified = sb_fs_new();
    c->removed = sb_fs_new();
    walk *w = walk_new();
    if (!c->added || !c->modified || !c->removed || !w) {
        pl_free(w);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    compare(w, c, l, r, root);
    int oom = w->oom;
    pl_free(w);
    return oom ? pl_error_set(PL_ENOMEM, "out of memory") : 0;
}

static void cmp_dispose(cmpres *c)
{
    sb_fs_free(c->added);
    sb_fs_free(c->modified);
    sb_fs_free(c->removed);
}

/* ---- prune (SMD Updater.prune, with EnsureNamedFieldsAreMembers) ------------------------------ */

static int named_member(const sb_fs *s, int declared)
{
    return s && (s->member || (declared && !sb_fs_empty(s)));
}

static void prune(json_t *v, const sb_snode *n, const sb_fs *last, const sb_fs *mgd, int depth)
{
    if (!last || depth > MAX_DEPTH)
        return;
    if (json_is_object(v) && !sb_snode_map_atomic(n)) {
        const char *key;
        json_t *val;
        void *tmp;
        json_object_foreach_safe(v, tmp, key, val) {
            sb_pe pe = {SB_PE_FIELD, key, NULL, 0};
            const sb_fs *lc = sb_fs_get(last, &pe);
            if (!lc)
                continue;
            int declared;
            const sb_snode *cn = sb_snode_child(n, key, &declared);
            const sb_fs *mc = mgd ? sb_fs_get(mgd, &pe) : NULL;
            /* the intent always names the object, so SMD's own set of the applier always
             * holds metadata.name (stripped only afterwards): metadata, apiVersion and kind are
             * never removed wholesale */
            int root_meta = depth == 0 && (strcmp(key, "metadata") == 0 ||
                                           strcmp(key, "apiVersion") == 0 ||
                                           strcmp(key, "kind") == 0);
            if (!root_meta && named_member(lc, declared) && !named_member(mc, declared)) {
                json_object_del(v, key);
                continue;
            }
            if (lc->n) {
                int was_empty = empty_container(val);
                prune(val, cn ? cn : &sb_snode_deduced, lc, mc, depth + 1);
                if (!was_empty && empty_container(val) && !json_is_null(val) && !root_meta)
                    json_object_del(v, key);
            }
        }
    } else if (json_is_array(v) && sb_snode_list_type(n) != SB_LIST_ATOMIC) {
        lindex ix;
        if (lindex_build(&ix, n, v, NULL, NULL, 0) < 0)
            return;
        const sb_snode *in = sb_snode_items(n);
        size_t *del = pl_calloc(ix.n + 1, sizeof(size_t));
        size_t ndel = 0;
        for (size_t i = 0; del && i < ix.n; i++) {
            if (!ix.v[i].key)
                continue;
            sb_pe pe = {ix.kind, NULL, ix.v[i].key, 0};
            const sb_fs *lc = sb_fs_get(last, &pe);
            if (!lc)
                continue;
            const sb_fs *mc = mgd ? sb_fs_get(mgd, &pe) : NULL;
            if (lc->member && !(mc && mc->member)) {
                del[ndel++] = i;
                continue;
            }
            if (lc->n)
                prune(ix.v[i].item, in, lc, mc, depth + 1);
        }
        lindex_dispose(&ix);
        while (ndel > 0)
            json_array_remove(v, del[--ndel]);
        pl_free(del);
    }
}

/* ---- managedFields entries ------------------------------------------------------------------ */

typedef struct mfe {
    char *manager, *operation, *api_version, *time, *subresource; /* owned; time/sub may be NULL */
    sb_fs *set;
} mfe;

typedef struct mfl {
    mfe *e;
    size_t n, cap;
} mfl;

static void mfe_dispose(mfe *e)
{
    pl_free(e->manager);
    pl_free(e->operation);
    pl_free(e->api_version);
    pl_free(e->time);
    pl_free(e->subresource);
    sb_fs_free(e->set);
}

static void mfl_dispose(mfl *l)
{
    for (size_t i = 0; i < l->n; i++)
        mfe_dispose(&l->e[i]);
    pl_free(l->e);
    memset(l, 0, sizeof(*l));
}

static char *dup_or_null(const char *s) { return s && *s ? pl_strdup(s) : NULL; }

static int streq_null(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static mfe *mfl_add(mfl *l, const char *manager, const char *op, const char *gv,
                    const char *time, const char *sub)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 8;
        mfe *ne = pl_realloc(l->e, nc * sizeof(*ne));
        if (!ne)
            return NULL;
        l->e = ne;
        l->cap = nc;
    }
    mfe *e = &l->e[l->n];
    memset(e, 0, sizeof(*e));
    e->manager = pl_strdup(manager ? manager : "");
    e->operation = pl_strdup(op);
    e->api_version = pl_strdup(gv ? gv : "");
    e->time = dup_or_null(time);
    e->subresource = dup_or_null(sub);
    e->set = sb_fs_new();
    if (!e->manager || !e->operation || !e->api_version || !e->set) {
        mfe_dispose(e);
        return NULL;
    }
    l->n++;
    return e;
}

static void mfl_remove(mfl *l, size_t i)
{
    mfe_dispose(&l->e[i]);
    memmove(&l->e[i], &l->e[i + 1], (l->n - i - 1) * sizeof(*l->e));
    l->n--;
}

/* Identity (§4.6): Apply = manager+operation+subresource; Update adds apiVersion. */
static long mfl_find(const mfl *l, const char *manager, const char *op, const char *gv,
                     const char *sub)
{
    int apply = strcmp(op, "Apply") == 0;
    for (size_t i = 0; i < l->n; i++) {
        const mfe *e = &l->e[i];
        if (strcmp(e->manager, manager) == 0 && strcmp(e->operation, op) == 0 &&
            streq_null(e->subresource, sub) && (apply || streq_null(e->api_version, gv)))
            return (long)i;
    }
    return -1;
}

/* Decode metadata.managedFields; PL_EINVALID when any entry is malformed (caller resets). */
static int mfl_decode(mfl *l, const json_t *mf)
{
    size_t i;
    json_t *it;
    memset(l, 0, sizeof(*l));
    if (!mf || json_is_null(mf))
        return 0;
    if (!json_is_array(mf))
        return PL_EINVALID;
    json_array_foreach(mf, i, it) {
        const char *op = json_string_value(json_object_get(it, "operation"));
        const char *ft = json_string_value(json_object_get(it, "fieldsType"));
        json_t *f = json_object_get(it, "fieldsV1");
        if (!json_is_object(it) || !op || (strcmp(op, "Apply") && strcmp(op, "Update")) ||
            (ft && strcmp(ft, "FieldsV1")) || (f && !json_is_object(f)))
            goto bad;
        mfe *e = mfl_add(l, json_string_value(json_object_get(it, "manager")), op,
                         json_string_value(json_object_get(it, "apiVersion")),
                         json_string_value(json_object_get(it, "time")),
                         json_string_value(json_object_get(it, "subresource")));
        if (!e)
            goto bad;
        if (f) {
            sb_fs *s;
            if (sb_fs_from_json(&s, f) < 0)
                goto bad;
            sb_fs_free(e->set);
            e->set = s;
        }
    }
    return 0;
bad:
    mfl_dispose(l);
    return PL_EINVALID;
}

static int mfe_order(const void *a, const void *b)
{
    const mfe *x = a, *y = b;
    int c = strcmp(x->operation, y->operation);
    if (c)
        return c;
    /* RFC 3339 whole seconds in UTC compare as strings; a missing time counts as 0 */
    c = strcmp(x->time ? x->time : "", y->time ? y->time : "");
    if (c)
        return c;
    if ((c = strcmp(x->manager, y->manager)) != 0)
        return c;
    if ((c = strcmp(x->api_version, y->api_version)) != 0)
        return c;
    return strcmp(x->subresource ? x->subresource : "", y->subresource ? y->subresource : "");
}

static json_t *mfl_encode(mfl *l)
{
    qsort(l->e, l->n, sizeof(*l->e), mfe_order);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < l->n; i++) {
        mfe *e = &l->e[i];
        json_t *o = json_object();
        json_object_set_new(o, "manager", json_string(e->manager));
        json_object_set_new(o, "operation", json_string(e->operation));
        json_object_set_new(o, "apiVersion", json_string(e->api_version));
        if (e->time)
            json_object_set_new(o, "time", json_string(e->time));
        json_object_set_new(o, "fieldsType", json_string("FieldsV1"));
        json_object_set_new(o, "fieldsV1", sb_fs_to_json(e->set));
        if (e->subresource)
            json_object_set_new(o, "subresource", json_string(e->subresource));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* Remove the never-tracked paths of §4.3 (apimachinery stripmeta: exact paths). */
static void strip_meta(sb_fs *s)
{
    static const char *const top[] = {"apiVersion", "kind"};
    static const char *const meta[] = {"name", "namespace", "creationTimestamp", "selfLink",
                                       "uid", "clusterName", "generation", "managedFields",
                                       "resourceVersion"};
    for (size_t i = 0; i < 2; i++) {
        sb_pe pe = {SB_PE_FIELD, top[i], NULL, 0};
        sb_fs *c = sb_fs_get(s, &pe);
        if (c)
            c->member = 0;
    }
    sb_pe mpe = {SB_PE_FIELD, "metadata", NULL, 0};
    sb_fs *m = sb_fs_get(s, &mpe);
    if (m) {
        m->member = 0;
        for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++) {
            sb_pe pe = {SB_PE_FIELD, meta[i], NULL, 0};
            sb_fs *c = sb_fs_get(m, &pe);
            if (c)
                c->member = 0;
        }
        /* managedFields is never a path anyone owns, children included */
        sb_pe pe = {SB_PE_FIELD, "managedFields", NULL, 0};
        sb_fs *c = sb_fs_get(m, &pe);
        if (c) {
            sb_fs *tmp = sb_fs_new();
            if (tmp) {
                /* move the children out and free them */
                tmp->c = c->c;
                tmp->n = c->n;
                tmp->cap = c->cap;
                c->c = NULL;
                c->n = c->cap = 0;
                sb_fs_free(tmp);
            }
        }
    }
    sb_fs_compact(s);
}

static void strip_status(sb_fs *s)
{
    sb_fs *st = sb_fs_new();
    sb_pe pe = {SB_PE_FIELD, "status", NULL, 0};
    if (st && sb_fs_insert(st, &pe, 1) == 0)
        sb_fs_rdiff_into(s, st);
    sb_fs_free(st);
}

/*
 * A read-only view of obj without metadata.managedFields: new top-level and metadata objects
 * whose other members are shared references (never modified through the view), so a large live
 * object is not copied on every write.
 */
static json_t *view_without_mf(const json_t *obj)
{
    if (!obj)
        return NULL;
    json_t *c = json_object();
    const char *k;
    json_t *v;
    if (!c)
        return NULL;
    json_object_foreach((json_t *)obj, k, v) {
        if (strcmp(k, "metadata") == 0 && json_is_object(v)) {
            json_t *m = json_object();
            const char *mk;
            json_t *mv;
            json_object_foreach(v, mk, mv) {
                if (strcmp(mk, "managedFields") != 0)
                    json_object_set(m, mk, mv);
            }
            json_object_set_new(c, k, m);
        } else {
            json_object_set(c, k, v);
        }
    }
    return c;
}

static void set_mf(json_t *obj, mfl *l)
{
    json_t *m = json_object_get(obj, "metadata");
    if (!json_is_object(m)) {
        if (l->n == 0)
            return;
        m = json_object();
        json_object_set_new(obj, "metadata", m);
    }
    if (l->n == 0)
        json_object_del(m, "managedFields");
    else
        json_object_set_new(m, "managedFields", mfl_encode(l));
}

static const sb_snode *root_of(const sb_schema *s)
{
    return s && s->root ? s->root : &sb_snode_deduced;
}

/* ---- status bodies ------------------------------------------------------------------------ */

/* printManager of apimachinery's conflict.go */
static void print_manager(pl_buf *b, const mfe *e)
{
    pl_buf_printf(b, "\"%s\"", e->manager);
    if (e->subresource)
        pl_buf_printf(b, " with subresource \"%s\"", e->subresource);
    if (strcmp(e->operation, "Update") == 0)
        pl_buf_printf(b, " using %s", e->api_version);
}

typedef struct conflict_acc {
    json_t *causes;
    pl_buf *msg;
    const char *cause_msg;
    int single;
} conflict_acc;

static int conflict_visit(const sb_pe *path, size_t n, void *payload)
{
    conflict_acc *a = payload;
    pl_buf field = PL_BUF_INIT;
    sb_path_render(&field, path, n);
    const char *f = field.ptr ? field.ptr : "";
    json_array_append_new(a->causes, json_pack("{s:s,s:s,s:s}", "reason", "FieldManagerConflict",
                                               "message", a->cause_msg, "field", f));
    if (a->single)
        pl_buf_puts(a->msg, f);
    else
        pl_buf_printf(a->msg, "\n- %s", f);
    pl_buf_dispose(&field);
    return 0;
}

static int conflict_mgr_cmp(const void *a, const void *b)
{
    const mfe *const *x = a, *const *y = b;
    int c = strcmp((*x)->manager, (*y)->manager);
    if (c)
        return c;
    if ((c = strcmp((*x)->operation, (*y)->operation)) != 0)
        return c;
    return strcmp((*x)->api_version, (*y)->api_version);
}

/* The 409 of §4.7: message grouped by sorted manager, details with causes only. */
static json_t *conflict_status(mfl *l, sb_fs **conf)
{
    size_t total = 0, nm = 0;
    const mfe **mgrs = pl_calloc(l->n + 1, sizeof(*mgrs));
    sb_fs **sets = pl_calloc(l->n + 1, sizeof(*sets));
    if (!mgrs || !sets) {
        pl_free(mgrs);
        pl_free(sets);
        return NULL;
    }
    for (size_t i = 0; i < l->n; i++) {
        if (!conf[i] || sb_fs_empty(conf[i]))
            continue;
        total += sb_fs_count(conf[i]);
        mgrs[nm++] = &l->e[i];
    }
    qsort(mgrs, nm, sizeof(*mgrs), conflict_mgr_cmp);
    for (size_t i = 0; i < nm; i++)
        sets[i] = conf[mgrs[i] - l->e];
    pl_buf msg = PL_BUF_INIT;
    json_t *causes = json_array();
    if (total == 1)
        pl_buf_puts(&msg, "Apply failed with 1 conflict: ");
    else
        pl_buf_printf(&msg, "Apply failed with %zu conflicts: ", total);
    for (size_t i = 0; i < nm; i++) {
        pl_buf cm = PL_BUF_INIT;
        pl_buf_puts(&cm, "conflict with ");
        print_manager(&cm, mgrs[i]);
        if (total == 1) {
            pl_buf_printf(&msg, "%s: ", cm.ptr);
        } else {
            if (i)
                pl_buf_putc(&msg, '\n');
            pl_buf_puts(&msg, "conflicts with ");
            print_manager(&msg, mgrs[i]);
            pl_buf_putc(&msg, ':');
        }
        conflict_acc a = {causes, &msg, cm.ptr ? cm.ptr : "", total == 1};
        sb_fs_each(sets[i], conflict_visit, &a);
        pl_buf_dispose(&cm);
    }
    json_t *details = json_object();
    json_object_set_new(details, "causes", causes);
    json_t *st = sb_status_new(409, "Conflict", msg.ptr ? msg.ptr : "", details);
    json_decref(details);
    pl_buf_dispose(&msg);
    pl_free(mgrs);
    pl_free(sets);
    return st;
}

/* ---- apply ---------------------------------------------------------------------------------- */

/* taken: NULL, or intent itself with the caller's reference handed over (released here) */
static int apply_impl(json_t **out, json_t **err_status, const sb_schema *schema,
                      const json_t *live, const json_t *intent, json_t *taken,
                      const sb_fm_opts *opts, int reset_status, const char *typed_ctx)
{
    int rc = 0;
    json_t *live_clean = NULL, *merged = NULL, *empty = NULL;
    sb_fs *applied = NULL, *last = NULL, *all = NULL, *ma = NULL, **conf = NULL;
    mfl l;
    cmpres cmp = {0};
    errs e = {PL_BUF_INIT, 0};
    walk *w = NULL;
    const sb_snode *root = root_of(schema);
    const char *sub = opts->subresource;

    *out = NULL;
    *err_status = NULL;
    memset(&l, 0, sizeof(l));
    if (!json_is_object(intent)) {
        json_decref(taken);
        return pl_error_set(PL_EINVALID, "apply: the intent is not an object");
    }

    /* 1. the applied set; undeclared fields and duplicate keys fail like SMD's typed
     *    conversion (§4.1: a reason-less 500) */
    w = walk_new();
    applied = sb_fs_new();
    if (!w || !applied) {
        rc = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    w->e = &e;
    to_set(w, applied, intent, root);
    if (w->oom) {
        rc = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if (e.n) {
        pl_buf m = PL_BUF_INIT;
        pl_buf_printf(&m, "failed to create typed patch object (%s): %s%s",
                      typed_ctx ? typed_ctx : "", e.n > 1 ? "errors:\n  " : "", "");
        if (e.n > 1) {
            /* ValidationErrors.Error(): "errors:" then each error indented by two spaces */
            for (const char *p = e.text.ptr; p && *p; p++) {
                pl_buf_putc(&m, *p);
                if (*p == '\n')
                    pl_buf_puts(&m, "  ");
            }
        } else {
            pl_buf_puts(&m, e.text.ptr ? e.text.ptr : "");
        }
        *err_status = sb_status_new(500, NULL, m.ptr ? m.ptr : "", NULL);
        rc = pl_error_set(PL_EINVALID, "%s", m.ptr ? m.ptr : "apply failed");
        pl_buf_dispose(&m);
        goto done;
    }
    strip_meta(applied);
    if (reset_status)
        strip_status(applied);

    /* 2. existing managers; before-first-apply (§4.3 item 6) */
    if (live) {
        const json_t *mf = pl_json_path(live, "metadata", "managedFields", NULL);
        if (mfl_decode(&l, mf) < 0)
            memset(&l, 0, sizeof(l));
        live_clean = view_without_mf(live);
        if (l.n == 0) {
            cmpres b = {0};
            empty = json_object();
            if (cmp_run(&b, empty, live_clean, root) < 0) {
                cmp_dispose(&b);
                rc = PL_ENOMEM;
                goto done;
            }
            strip_meta(b.added);
            if (reset_status)
                strip_status(b.added);
            if (!sb_fs_empty(b.added)) {
                mfe *bf = mfl_add(&l, "before-first-apply", "Update", opts->api_version,
                                  opts->now, NULL);
                if (bf) {
                    sb_fs_free(bf->set);
                    bf->set = b.added;
                    b.added = NULL;
                }
            }
            cmp_dispose(&b);
        }
    }

    /* 3. merge, then record the applier's new set */
    if (taken != NULL && live_clean == NULL) {
        /* nothing live: the merge is the intent itself, which nobody else holds */
        merged = taken;
        taken = NULL;
    } else {
        merged = merge(live_clean, intent, root, 0);
    }
    if (!merged) {
        rc = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    long ai = mfl_find(&l, opts->manager, "Apply", NULL, sub);
    if (ai >= 0) {
        last = l.e[ai].set;
        l.e[ai].set = applied;
        pl_free(l.e[ai].api_version);
        l.e[ai].api_version = pl_strdup(opts->api_version ? opts->api_version : "");
    } else {
        mfe *ne = mfl_add(&l, opts->manager, "Apply", opts->api_version, NULL, sub);
        if (!ne) {
            rc = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
        sb_fs_free(ne->set);
        ne->set = applied;
        ai = (long)(l.n - 1);
    }
    applied = NULL;

    /* 4. prune what the applier owned last time, sends no more, and nobody else owns */
    if (last && !sb_fs_empty(last)) {
        all = sb_fs_new();
        for (size_t i = 0; all && i < l.n; i++)
            sb_fs_union_into(all, l.e[i].set);
        prune(merged, root, last, all, 0);
    }

    /* 5. conflicts: changed or added paths owned by other managers */
    if (cmp_run(&cmp, live_clean ? live_clean : (empty ? empty : (empty = json_object())), merged,
                root) < 0) {
        rc = PL_ENOMEM;
        goto done;
    }
    if (reset_status) {
        strip_status(cmp.added);
        strip_status(cmp.modified);
        strip_status(cmp.removed);
    }
    ma = sb_fs_dup(cmp.modified);
    conf = pl_calloc(l.n + 1, sizeof(*conf));
    if (!ma || !conf || sb_fs_union_into(ma, cmp.added) < 0) {
        rc = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    int nconf = 0;
    for (size_t i = 0; i < l.n; i++) {
        if ((long)i == ai)
            continue;
        conf[i] = sb_fs_intersect(l.e[i].set, ma);
        if (conf[i] && !sb_fs_empty(conf[i]))
            nconf++;
    }
    if (nconf && !opts->force) {
        *err_status = conflict_status(&l, conf);
        rc = pl_error_set(PL_ECONFLICT, "apply conflict for manager %s", opts->manager);
        goto done;
    }
    for (size_t i = 0; i < l.n; i++) {
        if ((long)i == ai)
            continue;
        if (conf[i])
            sb_fs_diff_into(l.e[i].set, conf[i]);
        sb_fs_diff_into(l.e[i].set, cmp.removed);
    }

    /* 6. times (§4.6): the applier's only when the object changed */
    int changed = !live_clean || !json_equal(live_clean, merged);
    if (changed) {
        pl_free(l.e[ai].time);
        l.e[ai].time = dup_or_null(opts->now);
    }
    for (size_t i = l.n; i-- > 0;) {
        strip_meta(l.e[i].set);
        if (sb_fs_empty(l.e[i].set))
            mfl_remove(&l, i);
    }
    set_mf(merged, &l);
    *out = merged;
    merged = NULL;

done:
    if (conf) {
        for (size_t i = 0; i < l.n + 1; i++)
            sb_fs_free(conf[i]);
        pl_free(conf);
    }
    sb_fs_free(ma);
    cmp_dispose(&cmp);
    sb_fs_free(all);
    sb_fs_free(last);
    sb_fs_free(applied);
    mfl_dispose(&l);
    json_decref(merged);
    json_decref(taken);
    json_decref(live_clean);
    json_decref(empty);
    pl_buf_dispose(&e.text);
    pl_free(w);
    return rc;
}

int sb_ssa_apply(json_t **out, json_t **err_status, const sb_schema *schema, const json_t *live,
                 const json_t *intent, const sb_fm_opts *opts, int reset_status,
                 const char *typed_ctx)
{
    return apply_impl(out, err_status, schema, live, intent, NULL, opts, reset_status,
                      typed_ctx);
}

int sb_ssa_apply_new(json_t **out, json_t **err_status, const sb_schema *schema, json_t *intent,
                     const sb_fm_opts *opts, int reset_status, const char *typed_ctx)
{
    return apply_impl(out, err_status, schema, NULL, intent, intent, opts, reset_status,
                      typed_ctx);
}

/* ---- update (§4.8) -------------------------------------------------------------------------- */

#define MAX_UPDATE_MANAGERS 10

static int cap_order(const void *a, const void *b)
{
    const mfe *const *x = a, *const *y = b;
    int c = strcmp((*x)->time ? (*x)->time : "", (*y)->time ? (*y)->time : "");
    if (c)
        return c;
    if ((c = strcmp((*x)->manager, (*y)->manager)) != 0)
        return c;
    return strcmp((*x)->api_version, (*y)->api_version);
}

/* apimachinery capmanagers: merge the oldest Update entries, per apiVersion, into
 * "ancient-changes" until at most 10 remain. */
static int cap_updates(mfl *l)
{
    size_t nu = 0;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->e[i].operation, "Update") == 0)
            nu++;
    if (nu <= MAX_UPDATE_MANAGERS)
        return 0;
    mfe **u = pl_calloc(nu, sizeof(*u));
    char **names = pl_calloc(nu, sizeof(*names));
    if (!u || !names) {
        pl_free(u);
        pl_free(names);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->e[i].operation, "Update") == 0)
            u[k++] = &l->e[i];
    qsort(u, nu, sizeof(*u), cap_order);
    /* work on identities (pointers move when entries are removed) */
    typedef struct ident {
        char *manager, *gv, *sub;
    } ident;
    ident *ids = pl_calloc(nu, sizeof(*ids));
    for (size_t i = 0; ids && i < nu; i++) {
        ids[i].manager = pl_strdup(u[i]->manager);
        ids[i].gv = pl_strdup(u[i]->api_version);
        ids[i].sub = u[i]->subresource ? pl_strdup(u[i]->subresource) : NULL;
    }
    pl_free(u);
    size_t length = nu;
    for (size_t i = 0; ids && i < nu && length > MAX_UPDATE_MANAGERS; i++) {
        long me = mfl_find(l, ids[i].manager, "Update", ids[i].gv, ids[i].sub);
        if (me < 0)
            continue;
        long first = -1;
        for (size_t j = 0; j < i; j++)
            if (names[j] && strcmp(ids[j].gv, ids[i].gv) == 0) {
                first = (long)j;
                break;
            }
        if (first < 0) {
            names[i] = ids[i].gv; /* marks "first seen for this version" */
            continue;
        }
        long bucket = mfl_find(l, "ancient-changes", "Update", ids[i].gv, NULL);
        if (bucket < 0) {
            long fe = mfl_find(l, ids[first].manager, "Update", ids[first].gv, ids[first].sub);
            if (fe < 0)
                continue;
            pl_free(l->e[fe].manager);
            l->e[fe].manager = pl_strdup("ancient-changes");
            pl_free(l->e[fe].subresource);
            l->e[fe].subresource = NULL;
            bucket = fe;
            me = mfl_find(l, ids[i].manager, "Update", ids[i].gv, ids[i].sub);
            if (me < 0 || me == bucket)
                continue;
        }
        sb_fs_union_into(l->e[bucket].set, l->e[me].set);
        pl_free(l->e[bucket].time);
        l->e[bucket].time = l->e[me].time ? pl_strdup(l->e[me].time) : NULL;
        mfl_remove(l, (size_t)me);
        length--;
    }
    for (size_t i = 0; ids && i < nu; i++) {
        pl_free(ids[i].manager);
        pl_free(ids[i].gv);
        pl_free(ids[i].sub);
    }
    pl_free(ids);
    pl_free(names);
    return 0;
}

static int mf_is_wipe(const json_t *mf)
{
    if (!json_is_array(mf))
        return 0;
    if (json_array_size(mf) == 0)
        return 1;
    return json_array_size(mf) == 1 && json_is_object(json_array_get(mf, 0)) &&
           json_object_size(json_array_get(mf, 0)) == 0;
}

int sb_ssa_update(json_t *newobj, const sb_schema *schema, const json_t *old,
                  const sb_fm_opts *opts)
{
    int rc = 0;
    mfl l;
    cmpres cmp = {0};
    json_t *old_clean = NULL, *new_clean = NULL;
    sb_fs *ma = NULL;
    const sb_snode *root = root_of(schema);
    memset(&l, 0, sizeof(l));
    if (!json_is_object(newobj))
        return pl_error_set(PL_EINVALID, "update: the object is not a JSON object");

    json_t *meta = json_object_get(newobj, "metadata");
    json_t *client_mf = json_is_object(meta) ? json_object_get(meta, "managedFields") : NULL;
    const json_t *old_mf = old ? pl_json_path(old, "metadata", "managedFields", NULL) : NULL;
    int from_client = 0;
    if (!opts->subresource && client_mf && !json_is_null(client_mf)) {
        if (mf_is_wipe(client_mf)) {
            /* [] or [{}] wipes (§3.1); later updates are not tracked */
            json_object_del(meta, "managedFields");
            return 0;
        }
        if (mfl_decode(&l, client_mf) == 0)
            from_client = 1;
    }
    if (!from_client && old_mf && mfl_decode(&l, old_mf) < 0)
        memset(&l, 0, sizeof(l));
    if (old && l.n == 0) {
        /* no tracking for objects without managedFields (§4.6), only on create */
        if (json_is_object(meta))
            json_object_del(meta, "managedFields");
        return 0;
    }
    old_clean = old ? view_without_mf(old) : json_object();
    new_clean = view_without_mf(newobj);
    if (!old_clean || !new_clean) {
        rc = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = cmp_run(&cmp, old_clean, new_clean, root)) < 0)
        goto done;
    strip_meta(cmp.added);
    strip_meta(cmp.modified);
    strip_meta(cmp.removed);
    ma = sb_fs_dup(cmp.modified);
    if (!ma || sb_fs_union_into(ma, cmp.added) < 0) {
        rc = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    long self = mfl_find(&l, opts->manager, "Update", opts->api_version, opts->subresource);
    for (size_t i = 0; i < l.n; i++) {
        if ((long)i != self)
            sb_fs_diff_into(l.e[i].set, ma);
        sb_fs_diff_into(l.e[i].set, cmp.removed);
    }
    if (!sb_fs_empty(ma)) {
        if (self < 0) {
            if (!mfl_add(&l, opts->manager, "Update", opts->api_version, NULL,
                         opts->subresource)) {
                rc = pl_error_set(PL_ENOMEM, "out of memory");
                goto done;
            }
            self = (long)(l.n - 1);
        }
        sb_fs_union_into(l.e[self].set, ma);
        pl_free(l.e[self].time);
        l.e[self].time = dup_or_null(opts->now);
    }
    for (size_t i = l.n; i-- > 0;) {
        strip_meta(l.e[i].set);
        if (sb_fs_empty(l.e[i].set))
            mfl_remove(&l, i);
    }
    if ((rc = cap_updates(&l)) < 0)
        goto done;
    set_mf(newobj, &l);

done:
    sb_fs_free(ma);
    cmp_dispose(&cmp);
    mfl_dispose(&l);
    json_decref(old_clean);
    json_decref(new_clean);
    return rc;
}

/* ---- no-op check (§4.2) --------------------------------------------------------------------- */

static int equal_mf(const json_t *a, const json_t *b)
{
    if (!json_is_array(a) || !json_is_array(b))
        return json_equal((json_t *)a, (json_t *)b);
    if (json_array_size(a) != json_array_size(b))
        return 0;
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *x = json_array_get(a, i), *y = json_array_get(b, i);
        if (!json_is_object(x) || !json_is_object(y)) {
            if (!json_equal((json_t *)x, (json_t *)y))
                return 0;
            continue;
        }
        const char *k;
        json_t *v;
        size_t nx = 0, ny = 0;
        json_object_foreach((json_t *)x, k, v) {
            if (strcmp(k, "time") == 0)
                continue;
            nx++;
            if (!json_equal(v, json_object_get(y, k)))
                return 0;
        }
        json_object_foreach((json_t *)y, k, v) if (strcmp(k, "time") != 0) ny++;
        if (nx != ny)
            return 0;
    }
    return 1;
}

int sb_obj_equal_ignoring_times(const json_t *a, const json_t *b)
{
    if (!json_is_object(a) || !json_is_object(b))
        return json_equal((json_t *)a, (json_t *)b);
    if (json_object_size(a) != json_object_size(b))
        return 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v) {
        json_t *w = json_object_get(b, k);
        if (!w)
            return 0;
        if (strcmp(k, "metadata") == 0 && json_is_object(v) && json_is_object(w)) {
            if (json_object_size(v) != json_object_size(w))
                return 0;
            const char *mk;
            json_t *mv;
            json_object_foreach(v, mk, mv) {
                json_t *mw = json_object_get(w, mk);
                if (!mw)
                    return 0;
                if (strcmp(mk, "managedFields") == 0 ? !equal_mf(mv, mw) : !json_equal(mv, mw))
                    return 0;
            }
            continue;
        }
        if (!json_equal(v, w))
            return 0;
    }
    return 1;
}
