/*
 * kz_resmap.c - resources and the ordered resource map of a kustomize build.
 */
#include <stdio.h>
#include <string.h>

#include "kz.h"

pl_kz_res *pl_kz_res_new_take(json_t *obj)
{
    pl_kz_res *r = pl_calloc(1, sizeof(*r));
    if (!r) {
        json_decref(obj);
        return NULL;
    }
    r->obj = obj;
    return r;
}

/*
 * jansson's json_deep_copy keeps a hashtable of the objects on the current path (keyed by
 * snprintf("%p")) to detect reference loops, which costs a few thousand instructions per
 * object. Resource trees come from the YAML reader and cannot contain loops, so a plain
 * recursive copy is enough; it keeps the order of object keys like json_deep_copy does.
 */
json_t *pl_kz_json_copy(const json_t *v)
{
    json_t *out = NULL;

    if (!v)
        return NULL;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        void *it;

        if (!(out = json_object()))
            return NULL;
        for (it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it)) {
            json_t *c = pl_kz_json_copy(json_object_iter_value(it));

            if (!c || json_object_setn_new_nocheck(out, json_object_iter_key(it),
                                                   json_object_iter_key_len(it), c) < 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    case JSON_ARRAY: {
        size_t i, n = json_array_size(v);

        if (!(out = json_array()))
            return NULL;
        for (i = 0; i < n; i++) {
            if (json_array_append_new(out, pl_kz_json_copy(json_array_get(v, i))) < 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    case JSON_STRING:
        return json_stringn_nocheck(json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return json_integer(json_integer_value(v));
    case JSON_REAL:
        return json_real(json_real_value(v));
    default:
        /* true, false and null are shared singletons */
        return json_incref((json_t *)v);
    }
}

pl_kz_res *pl_kz_res_copy(const pl_kz_res *src)
{
    pl_kz_res *r = pl_calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    *r = *src;
    r->obj = pl_kz_json_copy(src->obj);
    r->ref_by = src->ref_by ? pl_kz_json_copy(src->ref_by) : NULL;
    r->ref_var_names = src->ref_var_names ? pl_kz_json_copy(src->ref_var_names) : NULL;
    r->origin = src->origin ? pl_kz_json_copy(src->origin) : NULL;
    if (!r->obj) {
        pl_kz_res_free(r);
        return NULL;
    }
    return r;
}

void pl_kz_res_free(pl_kz_res *r)
{
    if (!r)
        return;
    json_decref(r->obj);
    json_decref(r->ref_by);
    json_decref(r->ref_var_names);
    json_decref(r->origin);
    pl_free(r);
}

void pl_kz_resmap_init(pl_kz_resmap *m)
{
    memset(m, 0, sizeof(*m));
}

void pl_kz_resmap_dispose(pl_kz_resmap *m)
{
    for (size_t i = 0; i < m->n; i++)
        pl_kz_res_free(m->v[i]);
    pl_free(m->v);
    memset(m, 0, sizeof(*m));
}

int pl_kz_resmap_append(pl_kz_resmap *m, pl_kz_res *r)
{
    if (!r)
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        pl_kz_res **p = pl_realloc(m->v, cap * sizeof(*p));
        if (!p) {
            pl_kz_res_free(r);
            return pl_error_set(PL_ENOMEM, "out of memory");
        }
        m->v = p;
        m->cap = cap;
    }
    m->v[m->n++] = r;
    return 0;
}

void pl_kz_resmap_remove(pl_kz_resmap *m, size_t i)
{
    if (i >= m->n)
        return;
    pl_kz_res_free(m->v[i]);
    memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(*m->v));
    m->n--;
}

int pl_kz_resmap_copy(pl_kz_resmap *out, const pl_kz_resmap *src)
{
    int error;
    for (size_t i = 0; i < src->n; i++)
        if ((error = pl_kz_resmap_append(out, pl_kz_res_copy(src->v[i]))) < 0)
            return error;
    return 0;
}

/*
 * The iterator of `key` in obj, or NULL (also when obj is not an object). json_object_get
 * hashes the whole key (about 165 instructions a lookup), but the fields looked up here are
 * nearly always among the first few of their map ("apiVersion", "kind", "metadata" of a
 * resource, "name", "namespace" of its metadata, "spec", "template", "containers" on field
 * spec paths), so those are compared first; hashing is the fallback for larger maps.
 */
static void *iter_find(const json_t *obj, const char *key, size_t klen)
{
    void *it = json_object_iter((json_t *)obj);
    int i;

    for (i = 0; i < 4; i++) {
        if (!it)
            return NULL; /* all the keys were compared */
        if (json_object_iter_key_len(it) == klen && !memcmp(json_object_iter_key(it), key, klen))
            return it;
        it = json_object_iter_next((json_t *)obj, it);
    }
    return json_object_iter_at((json_t *)obj, key);
}

json_t *pl_kz_obj_getn(const json_t *obj, const char *key, size_t klen)
{
    void *it = iter_find(obj, key, klen);

    return it ? json_object_iter_value(it) : NULL;
}

json_t *pl_kz_obj_get(const json_t *obj, const char *key)
{
    return pl_kz_obj_getn(obj, key, strlen(key));
}

/* pl_kz_obj_getn on a string literal, without measuring it at run time */
#define OBJ_GET_LIT(obj, lit) pl_kz_obj_getn((obj), (lit), sizeof(lit) - 1)

/* These accessors run hundreds of thousands of times per build: plain lookups, no varargs. */
static const char *str_or_empty(const json_t *v)
{
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    return s ? s : "";
}

const char *pl_kz_res_kind(const pl_kz_res *r)
{
    return str_or_empty(OBJ_GET_LIT(r->obj, "kind"));
}

const char *pl_kz_res_name(const pl_kz_res *r)
{
    return str_or_empty(OBJ_GET_LIT(OBJ_GET_LIT(r->obj, "metadata"), "name"));
}

const char *pl_kz_res_namespace(const pl_kz_res *r)
{
    return str_or_empty(OBJ_GET_LIT(OBJ_GET_LIT(r->obj, "metadata"), "namespace"));
}

const char *pl_kz_res_api_version(const pl_kz_res *r)
{
    return str_or_empty(OBJ_GET_LIT(r->obj, "apiVersion"));
}

void pl_kz_res_group(const pl_kz_res *r, char *buf, size_t bufsz)
{
    const char *av = pl_kz_res_api_version(r);
    const char *slash = strchr(av, '/');
    size_t n = slash ? (size_t)(slash - av) : 0;
    if (n >= bufsz)
        n = bufsz - 1;
    memcpy(buf, av, n);
    buf[n] = '\0';
}

const char *pl_kz_res_annotation(const pl_kz_res *r, const char *key)
{
    const json_t *v =
        pl_kz_obj_get(OBJ_GET_LIT(OBJ_GET_LIT(r->obj, "metadata"), "annotations"), key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* pl_json_mkpath(r->obj, "metadata", "annotations"), with the cheaper lookups: the map
 * (created, also over a null, when missing), or NULL when something on the way is no map. */
static json_t *annotations_map(pl_kz_res *r)
{
    static const char *const path[2] = {"metadata", "annotations"};
    json_t *cur = r->obj;
    int i;

    for (i = 0; i < 2; i++) {
        json_t *next;

        if (!json_is_object(cur))
            return NULL;
        next = pl_kz_obj_get(cur, path[i]);
        if (!next || json_is_null(next)) {
            /* the keys are ASCII literals: no UTF-8 check needed */
            if (!(next = json_object()) || json_object_set_new_nocheck(cur, path[i], next) < 0)
                return NULL;
        }
        cur = next;
    }
    return json_is_object(cur) ? cur : NULL;
}

int pl_kz_res_set_annotation(pl_kz_res *r, const char *key, const char *value)
{
    json_t *ann;

    if (!value) {
        json_t *md = json_object_get(r->obj, "metadata");
        ann = json_object_get(md, "annotations");
        if (json_is_object(ann)) {
            json_object_del(ann, key);
            if (json_object_size(ann) == 0)
                json_object_del(md, "annotations");
        }
        return 0;
    }
    if (!(ann = annotations_map(r)))
        return pl_error_set(PL_EINVALID, "metadata.annotations is not a map");
    if (json_object_set_new(ann, key, json_string(value)) < 0)
        return pl_error_set(PL_ENOMEM, "out of memory");
    return 0;
}

/*
 * Append ",value" (or "value") to the comma-separated build annotation `key` of `ann`, whose
 * iterator `it` the caller found (NULL: the annotation is absent and is added). This runs for
 * every resource on every rename, so it avoids printf and the UTF-8 re-validation of jansson:
 * both parts are already valid JSON strings (or C literals) and the key is one of our constants.
 */
static int append_list_annotation(json_t *ann, void *it, const char *key, const char *value)
{
    const json_t *cur = it ? json_object_iter_value(it) : NULL;
    const char *cs = json_is_string(cur) ? json_string_value(cur) : NULL;
    size_t cl = cs ? json_string_length(cur) : 0, vl = strlen(value);
    char stack[256], *p = stack;
    json_t *s;

    if (cl + vl + 1 > sizeof(stack) && !(p = pl_malloc(cl + vl + 1)))
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (cl) {
        memcpy(p, cs, cl);
        p[cl++] = ',';
    }
    memcpy(p + cl, value, vl);
    s = json_stringn_nocheck(p, cl + vl);
    if (p != stack)
        pl_free(p);
    if (!s ||
        (it ? json_object_iter_set_new(ann, it, s) : json_object_set_new_nocheck(ann, key, s)) < 0)
        return pl_error_set(PL_ENOMEM, "out of memory");
    return 0;
}

int pl_kz_res_store_previous_id(pl_kz_res *r)
{
    static const struct {
        const char *key;
        size_t len;
    } keys[3] = {
        {PL_KZ_ANN_PREV_NAMES, sizeof(PL_KZ_ANN_PREV_NAMES) - 1},
        {PL_KZ_ANN_PREV_KINDS, sizeof(PL_KZ_ANN_PREV_KINDS) - 1},
        {PL_KZ_ANN_PREV_NAMESPACES, sizeof(PL_KZ_ANN_PREV_NAMESPACES) - 1},
    };
    json_t *md = OBJ_GET_LIT(r->obj, "metadata");
    const char *name = json_string_value(OBJ_GET_LIT(md, "name"));
    const char *ns = json_string_value(OBJ_GET_LIT(md, "namespace"));
    const char *values[3];
    void *its[3] = {NULL, NULL, NULL};
    json_t *ann;
    int error, k;

    values[0] = name ? name : "";
    values[1] = pl_kz_res_kind(r);
    values[2] = ns && *ns ? ns : "default";
    if (!(ann = annotations_map(r)))
        return pl_error_set(PL_EINVALID, "metadata.annotations is not a map");
    /* one pass over the (few) annotations finds all three lists, instead of a lookup each */
    for (void *it = json_object_iter(ann); it; it = json_object_iter_next(ann, it)) {
        size_t kl = json_object_iter_key_len(it);
        for (k = 0; k < 3; k++) {
            if (!its[k] && kl == keys[k].len && !memcmp(json_object_iter_key(it), keys[k].key, kl)) {
                its[k] = it;
                break;
            }
        }
    }
    /* existing lists are replaced in place first: adding a key may rehash the map, after
     * which its iterators are not to be used; the missing ones are added in the same order
     * (names, kinds, namespaces) as one append after the other would add them */
    for (k = 0; k < 3; k++)
        if (its[k] && (error = append_list_annotation(ann, its[k], keys[k].key, values[k])) < 0)
            return error;
    for (k = 0; k < 3; k++)
        if (!its[k] && (error = append_list_annotation(ann, NULL, keys[k].key, values[k])) < 0)
            return error;
    return 0;
}

/* split a comma-separated annotation into a JSON array of strings */
static json_t *split_csv(const char *s)
{
    json_t *a = json_array();
    const char *p = s;
    if (!s || !*s)
        return a;
    for (;;) {
        const char *c = strchr(p, ',');
        json_array_append_new(a, json_stringn(p, c ? (size_t)(c - p) : strlen(p)));
        if (!c)
            break;
        p = c + 1;
    }
    return a;
}

json_t *pl_kz_res_previous_ids(const pl_kz_res *r)
{
    json_t *names = split_csv(pl_kz_res_annotation(r, PL_KZ_ANN_PREV_NAMES));
    json_t *kinds = split_csv(pl_kz_res_annotation(r, PL_KZ_ANN_PREV_KINDS));
    json_t *nss = split_csv(pl_kz_res_annotation(r, PL_KZ_ANN_PREV_NAMESPACES));
    json_t *out = json_array();
    size_t n = json_array_size(names);

    for (size_t i = 0; i < n; i++) {
        json_t *id = json_object();
        const char *ns = json_string_value(json_array_get(nss, i));
        json_object_set(id, "name", json_array_get(names, i));
        json_object_set_new(id, "kind", json_array_get(kinds, i)
                                            ? json_incref(json_array_get(kinds, i))
                                            : json_string(""));
        json_object_set_new(id, "namespace",
                            json_string(ns && strcmp(ns, "default") ? ns : ""));
        json_array_append_new(out, id);
    }
    json_decref(names);
    json_decref(kinds);
    json_decref(nss);
    return out;
}

long pl_kz_resmap_find(const pl_kz_resmap *m, const char *group, const char *version, const char *kind,
                    const char *ns, const char *name)
{
    char g[256];
    for (size_t i = 0; i < m->n; i++) {
        const pl_kz_res *r = m->v[i];
        const char *av = pl_kz_res_api_version(r);
        const char *slash = strchr(av, '/');
        if (strcmp(pl_kz_res_kind(r), kind) || strcmp(pl_kz_res_name(r), name))
            continue;
        if (strcmp(pl_kz_res_namespace(r), ns ? ns : ""))
            continue;
        pl_kz_res_group(r, g, sizeof(g));
        if (group && strcmp(g, group))
            continue;
        if (version && *version && strcmp(slash ? slash + 1 : av, version))
            continue;
        return (long)i;
    }
    return -1;
}
