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

pl_kz_res *pl_kz_res_copy(const pl_kz_res *src)
{
    pl_kz_res *r = pl_calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    *r = *src;
    r->obj = json_deep_copy(src->obj);
    r->ref_by = src->ref_by ? json_deep_copy(src->ref_by) : NULL;
    r->ref_var_names = src->ref_var_names ? json_deep_copy(src->ref_var_names) : NULL;
    r->origin = src->origin ? json_deep_copy(src->origin) : NULL;
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

static const char *str_or_empty(const json_t *o, const char *a, const char *b)
{
    const char *s = b ? pl_json_str(o, a, b, NULL) : pl_json_str(o, a, NULL);
    return s ? s : "";
}

const char *pl_kz_res_kind(const pl_kz_res *r)
{
    return str_or_empty(r->obj, "kind", NULL);
}

const char *pl_kz_res_name(const pl_kz_res *r)
{
    return str_or_empty(r->obj, "metadata", "name");
}

const char *pl_kz_res_namespace(const pl_kz_res *r)
{
    return str_or_empty(r->obj, "metadata", "namespace");
}

const char *pl_kz_res_api_version(const pl_kz_res *r)
{
    return str_or_empty(r->obj, "apiVersion", NULL);
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
    return pl_json_str(r->obj, "metadata", "annotations", key, NULL);
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
    if (!(ann = pl_json_mkpath(r->obj, "metadata", "annotations", NULL)))
        return pl_error_set(PL_EINVALID, "metadata.annotations is not a map");
    if (json_object_set_new(ann, key, json_string(value)) < 0)
        return pl_error_set(PL_ENOMEM, "out of memory");
    return 0;
}

/* append ",value" (or "value") to a comma-separated build annotation */
static int append_list_annotation(pl_kz_res *r, const char *key, const char *value)
{
    const char *cur = pl_kz_res_annotation(r, key);
    pl_buf b = PL_BUF_INIT;
    int error;

    if (cur && *cur)
        pl_buf_printf(&b, "%s,%s", cur, value);
    else
        pl_buf_puts(&b, value);
    error = pl_kz_res_set_annotation(r, key, b.ptr ? b.ptr : "");
    pl_buf_dispose(&b);
    return error;
}

int pl_kz_res_store_previous_id(pl_kz_res *r)
{
    int error;
    if ((error = append_list_annotation(r, PL_KZ_ANN_PREV_NAMES, pl_kz_res_name(r))) < 0 ||
        (error = append_list_annotation(r, PL_KZ_ANN_PREV_KINDS, pl_kz_res_kind(r))) < 0 ||
        (error = append_list_annotation(r, PL_KZ_ANN_PREV_NAMESPACES,
                                        *pl_kz_res_namespace(r) ? pl_kz_res_namespace(r) : "default")) < 0)
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
        json_object_set(id, "kind", json_array_get(kinds, i) ? json_array_get(kinds, i)
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
