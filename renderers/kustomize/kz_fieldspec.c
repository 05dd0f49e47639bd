/*
 * kz_fieldspec.c - field specs (gvk + path) and walking them over an object.
 *
 * A field spec names a field of some kinds of object, e.g. {kind: Deployment, path:
 * spec/template/metadata/labels, create: true}. Every transformer that touches "well-known
 * fields" (labels, annotations, names, namespaces, images, replicas, name references) walks its
 * field specs with pl_kz_fieldspec_apply() and does its own edit in a callback.
 *
 * The walk reproduces kustomize's api/filters/fieldspec Filter (the newest one, also used by
 * fsslice.Filter):
 *  - the path is split on '/', a part ending in '\' is joined with the next one ("a\/b" is
 *    the single key "a/b", as in annotation keys);
 *  - whenever the walk meets a list while parts remain, it visits every element with the same
 *    remaining parts, with or without a "[]" suffix on the list's name;
 *  - "name[]" only says the field is a list: it is never created, and a null value there
 *    becomes an empty list;
 *  - with create, a missing (or null) intermediate field becomes an empty map and a missing
 *    final field is created; without create, a missing field ends the walk quietly;
 *  - a null met with parts remaining ends the walk; a scalar met with parts remaining is an
 *    error ("expected sequence or mapping node");
 *  - gvk match: empty group/version/kind match anything, kind is compared exactly, and the
 *    group/version come from apiVersion with kustomize's quirk that an apiVersion without a
 *    slash that looks like a core version ("v1", "v2beta1") is the core group.
 *
 * It deliberately does not know what the callback writes (scalar or map): a created final field
 * reaches the callback as JSON null, like an existing null field, and the callback decides (see
 * pl_kz_fieldspec_apply in kz.h).
 */
#include <string.h>
#include <strings.h>

#include "kz.h"

/* ---- lists ------------------------------------------------------------------------------ */

static void fs_dispose(pl_kz_fieldspec *fs)
{
    pl_free(fs->group);
    pl_free(fs->version);
    pl_free(fs->kind);
    pl_free(fs->path);
    memset(fs, 0, sizeof(*fs));
}

void pl_kz_fslist_dispose(pl_kz_fslist *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        fs_dispose(&l->v[i]);
    pl_free(l->v);
    memset(l, 0, sizeof(*l));
}

static char *dup_or_null(const char *s)
{
    return s && *s ? pl_strdup(s) : NULL;
}

static int str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* append a copy of fs without looking for duplicates */
static int fslist_append(pl_kz_fslist *l, const pl_kz_fieldspec *fs)
{
    pl_kz_fieldspec *c;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        pl_kz_fieldspec *v = pl_realloc(l->v, cap * sizeof(*v));
        if (!v)
            return pl_error_set(PL_ENOMEM, "out of memory");
        l->v = v;
        l->cap = cap;
    }
    c = &l->v[l->n];
    memset(c, 0, sizeof(*c));
    c->group = dup_or_null(fs->group);
    c->version = dup_or_null(fs->version);
    c->kind = dup_or_null(fs->kind);
    c->path = pl_strdup(fs->path ? fs->path : "");
    c->create = fs->create ? 1 : 0;
    if ((fs->group && *fs->group && !c->group) || (fs->version && *fs->version && !c->version) ||
        (fs->kind && *fs->kind && !c->kind) || !c->path) {
        fs_dispose(c);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    l->n++;
    return 0;
}

int pl_kz_fslist_add(pl_kz_fslist *l, const pl_kz_fieldspec *fs)
{
    for (size_t i = 0; i < l->n; i++) {
        pl_kz_fieldspec *x = &l->v[i];
        if (str_eq(x->group, fs->group) && str_eq(x->version, fs->version) &&
            str_eq(x->kind, fs->kind) && str_eq(x->path, fs->path)) {
            x->create = x->create || fs->create;
            return 0;
        }
    }
    return fslist_append(l, fs);
}

/* FieldSpec fields decode through encoding/json: case-insensitive keys, the last one wins */
static json_t *json_field(const json_t *o, const char *key)
{
    const char *k;
    json_t *v, *found = NULL;

    json_object_foreach((json_t *)o, k, v) {
        if (!strcasecmp(k, key))
            found = v;
    }
    return found;
}

static const char *json_str_field(const json_t *o, const char *key)
{
    json_t *v = json_field(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/*
 * Plugin configs are decoded by kustomize into []FieldSpec, which keeps duplicates: a prefix
 * listed twice is applied twice. So this appends every element as it is.
 */
int pl_kz_fslist_add_json(pl_kz_fslist *l, const json_t *arr)
{
    size_t i;
    json_t *e;
    int error;

    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return pl_error_set(PL_EINVALID, "fieldSpecs: expected a list");
    json_array_foreach(arr, i, e) {
        pl_kz_fieldspec fs;
        json_t *create;

        if (!json_is_object(e))
            return pl_error_set(PL_EINVALID, "fieldSpecs[%zu]: expected a map", i);
        fs.group = (char *)json_str_field(e, "group");
        fs.version = (char *)json_str_field(e, "version");
        fs.kind = (char *)json_str_field(e, "kind");
        fs.path = (char *)json_str_field(e, "path");
        create = json_field(e, "create");
        fs.create = json_is_true(create);
        if ((error = fslist_append(l, &fs)) < 0)
            return error;
    }
    return 0;
}

int pl_kz_fslist_copy(pl_kz_fslist *out, const pl_kz_fslist *src)
{
    int error;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < src->n; i++) {
        if ((error = fslist_append(out, &src->v[i])) < 0) {
            pl_kz_fslist_dispose(out);
            return error;
        }
    }
    return 0;
}

/* Same key order as kustomize's FieldSpec struct marshals (group, version, kind, path, create). */
json_t *pl_kz_fslist_to_json(const pl_kz_fslist *l)
{
    json_t *arr = json_array();

    if (!arr)
        return NULL;
    for (size_t i = 0; i < l->n; i++) {
        const pl_kz_fieldspec *fs = &l->v[i];
        json_t *o = json_object();
        if (!o)
            goto oom;
        if (fs->group && *fs->group)
            json_object_set_new(o, "group", json_string(fs->group));
        if (fs->version && *fs->version)
            json_object_set_new(o, "version", json_string(fs->version));
        if (fs->kind && *fs->kind)
            json_object_set_new(o, "kind", json_string(fs->kind));
        json_object_set_new(o, "path", json_string(fs->path ? fs->path : ""));
        if (fs->create)
            json_object_set_new(o, "create", json_true());
        if (json_array_append_new(arr, o) < 0)
            goto oom;
    }
    return arr;
oom:
    json_decref(arr);
    return NULL;
}

/* ---- matching ----------------------------------------------------------------------------- */

/*
 * kustomize api/filters/fieldspec/gvk.go parseGV: "apps/v1" -> (apps, v1); "v1" -> (core, v1)
 * because 'v' followed by '1' or '2' looks like a core version; any other slash-less apiVersion
 * is taken as a group with no version.
 */
static void parse_gv(const char *av, const char **g, size_t *glen, const char **v)
{
    const char *slash = strchr(av, '/');

    if (slash) {
        *g = av;
        *glen = (size_t)(slash - av);
        *v = slash + 1;
        return;
    }
    if (av[0] == 'v' && (av[1] == '1' || av[1] == '2')) {
        *g = "";
        *glen = 0;
        *v = av;
        return;
    }
    *g = av;
    *glen = strlen(av);
    *v = "";
}

int pl_kz_fieldspec_matches(const pl_kz_fieldspec *fs, const json_t *obj)
{
    const char *kind = pl_json_str(obj, "kind", NULL);
    const char *av = pl_json_str(obj, "apiVersion", NULL);
    const char *g, *v;
    size_t glen;

    if (fs->kind && *fs->kind && strcmp(fs->kind, kind ? kind : ""))
        return 0;
    parse_gv(av ? av : "", &g, &glen, &v);
    if (fs->group && *fs->group && (strlen(fs->group) != glen || strncmp(fs->group, g, glen)))
        return 0;
    if (fs->version && *fs->version && strcmp(fs->version, v))
        return 0;
    return 1;
}

/* ---- walking ---------------------------------------------------------------------------------- */

typedef struct walk {
    char **parts;
    size_t n;
    int create;
    const char *path;
    const json_t *root;
    pl_kz_field_cb cb;
    void *payload;
} walk;

static void free_parts(char **parts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pl_free(parts[i]);
    pl_free(parts);
}

/*
 * kustomize splitPath: split on '/', then a part ending in '\' absorbs the next part (the
 * backslash dropped, the slash kept).
 */
static int split_path(char ***out, size_t *nout, const char *path)
{
    size_t cap = 1, n = 0;
    const char *p = path;
    char **parts;

    for (const char *c = path; *c; c++)
        if (*c == '/')
            cap++;
    if (!(parts = pl_calloc(cap, sizeof(*parts))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        size_t plen;

        if (n > 0 && (plen = strlen(parts[n - 1])) > 0 && parts[n - 1][plen - 1] == '\\') {
            /* previous part ended in a backslash: "prev\" + "/" + this */
            char *j = pl_malloc(plen + len + 1);
            if (!j)
                goto oom;
            memcpy(j, parts[n - 1], plen - 1);
            j[plen - 1] = '/';
            memcpy(j + plen, p, len);
            j[plen + len] = '\0';
            pl_free(parts[n - 1]);
            parts[n - 1] = j;
        } else {
            if (!(parts[n] = pl_strndup(p, len)))
                goto oom;
            n++;
        }
        if (!slash)
            break;
        p = slash + 1;
    }
    *out = parts;
    *nout = n;
    return 0;
oom:
    free_parts(parts, n);
    return pl_error_set(PL_ENOMEM, "out of memory");
}

static int scalar_error(const walk *w)
{
    const char *kind = pl_json_str(w->root, "kind", NULL);
    const char *name = pl_json_str(w->root, "metadata", "name", NULL);

    return pl_error_set(PL_EINVALID, "%s/%s: at path '%s': expected sequence or mapping node",
                        kind ? kind : "", name ? name : "", w->path);
}

/* hand the field obj[key] (value v, NULL when just created) to the callback */
static int call_cb(const walk *w, json_t *obj, const char *key, json_t *v)
{
    json_t *orig = v ? v : json_null();
    json_t *slot = orig;
    int error;

    if ((error = w->cb(&slot, w->path, w->payload)) < 0) {
        if (slot && slot != orig)
            json_decref(slot);
        return error;
    }
    if (slot == orig && v)
        return 0;
    if (!slot) {
        if (v)
            json_object_del(obj, key);
        return 0;
    }
    /* the callback's new reference (or the created null) goes into obj; the old is released */
    if (json_object_set_new(obj, key, slot) < 0)
        return pl_error_set(PL_ENOMEM, "out of memory");
    return 0;
}

static int walk_node(const walk *w, json_t *node, size_t i);

/* look up parts[i] in the map obj */
static int walk_field(const walk *w, json_t *obj, size_t i)
{
    const char *part = w->parts[i];
    size_t plen = strlen(part);
    int is_seq = plen >= 2 && part[plen - 2] == '[' && part[plen - 1] == ']';
    int last = i + 1 == w->n;
    int create = w->create && !is_seq;
    char *name = NULL;
    json_t *v;
    int error;

    if (is_seq) {
        if (!(name = pl_strndup(part, plen - 2)))
            return pl_error_set(PL_ENOMEM, "out of memory");
        part = name;
    }
    v = json_object_get(obj, part);
    if (!v) {
        if (!create) {
            error = 0;
            goto done;
        }
        if (last) {
            error = call_cb(w, obj, part, NULL);
            goto done;
        }
        if (!(v = json_object()) || json_object_set_new(obj, part, v) < 0) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
    } else if (json_is_null(v) && (is_seq || (create && !last))) {
        /* a null where the path expects a list becomes an empty list; with create, a null
         * intermediate field becomes an empty map (kustomize retags the null node) */
        if (!(v = is_seq ? json_array() : json_object()) || json_object_set_new(obj, part, v) < 0) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (last)
        error = call_cb(w, obj, part, v);
    else
        error = walk_node(w, v, i + 1);
done:
    pl_free(name);
    return error;
}

/* node is the value reached with parts[i..] still to go */
static int walk_node(const walk *w, json_t *node, size_t i)
{
    size_t k;
    json_t *e;
    int error;

    if (json_is_null(node))
        return 0;
    if (json_is_array(node)) {
        json_array_foreach(node, k, e) {
            if ((error = walk_node(w, e, i)) < 0)
                return error;
        }
        return 0;
    }
    if (!json_is_object(node))
        return scalar_error(w);
    return walk_field(w, node, i);
}

int pl_kz_fieldspec_apply(json_t *obj, const pl_kz_fieldspec *fs, pl_kz_field_cb cb, void *payload)
{
    walk w;
    int error;

    if (!json_is_object(obj) || !pl_kz_fieldspec_matches(fs, obj))
        return 0;
    memset(&w, 0, sizeof(w));
    w.path = fs->path ? fs->path : "";
    w.create = fs->create;
    w.root = obj;
    w.cb = cb;
    w.payload = payload;
    if ((error = split_path(&w.parts, &w.n, w.path)) < 0)
        return error;
    error = walk_node(&w, obj, 0);
    free_parts(w.parts, w.n);
    return error;
}
