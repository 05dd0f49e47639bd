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
        json_t *f[5] = {NULL, NULL, NULL, NULL, NULL}; /* group version kind path create */

        if (!json_is_object(e))
            return pl_error_set(PL_EINVALID, "fieldSpecs[%zu]: expected a map", i);
        /* FieldSpec fields decode through encoding/json: case-insensitive keys, the last
         * one wins. One pass over the keys finds all five (the default tables have hundreds
         * of specs, decoded again by every transformer run). */
        for (void *it = json_object_iter(e); it; it = json_object_iter_next(e, it)) {
            const char *k = json_object_iter_key(it);
            int which = -1;

            switch (k[0] | 0x20) {
            case 'g': which = strcasecmp(k, "group") ? -1 : 0; break;
            case 'v': which = strcasecmp(k, "version") ? -1 : 1; break;
            case 'k': which = strcasecmp(k, "kind") ? -1 : 2; break;
            case 'p': which = strcasecmp(k, "path") ? -1 : 3; break;
            case 'c': which = strcasecmp(k, "create") ? -1 : 4; break;
            default: break;
            }
            if (which >= 0)
                f[which] = json_object_iter_value(it);
        }
        fs.group = json_is_string(f[0]) ? (char *)json_string_value(f[0]) : NULL;
        fs.version = json_is_string(f[1]) ? (char *)json_string_value(f[1]) : NULL;
        fs.kind = json_is_string(f[2]) ? (char *)json_string_value(f[2]) : NULL;
        fs.path = json_is_string(f[3]) ? (char *)json_string_value(f[3]) : NULL;
        fs.create = json_is_true(f[4]);
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
void pl_kz_objgvk_of(pl_kz_objgvk *out, const json_t *obj)
{
    json_t *k = pl_kz_obj_getn(obj, "kind", 4), *a = pl_kz_obj_getn(obj, "apiVersion", 10);
    const char *av = json_is_string(a) ? json_string_value(a) : "";
    const char *slash = strchr(av, '/');

    out->kind = json_is_string(k) ? json_string_value(k) : "";
    if (slash) {
        out->group = av;
        out->glen = (size_t)(slash - av);
        out->version = slash + 1;
    } else if (av[0] == 'v' && (av[1] == '1' || av[1] == '2')) {
        out->group = "";
        out->glen = 0;
        out->version = av;
    } else {
        out->group = av;
        out->glen = strlen(av);
        out->version = "";
    }
}

int pl_kz_fieldspec_matches_gvk(const pl_kz_fieldspec *fs, const pl_kz_objgvk *g)
{
    if (fs->kind && *fs->kind && strcmp(fs->kind, g->kind))
        return 0;
    if (fs->group && *fs->group && (strncmp(fs->group, g->group, g->glen) || fs->group[g->glen]))
        return 0;
    if (fs->version && *fs->version && strcmp(fs->version, g->version))
        return 0;
    return 1;
}

int pl_kz_fieldspec_matches(const pl_kz_fieldspec *fs, const json_t *obj)
{
    pl_kz_objgvk g;
    pl_kz_objgvk_of(&g, obj);
    return pl_kz_fieldspec_matches_gvk(fs, &g);
}

/* ---- walking --------------------------------------------------------------------------------- */

/* a path split into parts: names without "[]" (is_seq says it was there), NUL-separated in buf */
typedef struct split {
    char *buf;
    const char **parts;
    unsigned char *seq;
    size_t *lens; /* strlen of each part, for lookups that need not measure the key */
    size_t n;
} split;

typedef struct walk {
    const char *const *parts;
    const unsigned char *seq;
    const size_t *lens;
    size_t n;
    int create;
    const char *path;
    const json_t *root;
    pl_kz_field_cb cb;
    void *payload;
} walk;

/*
 * kustomize splitPath: split on '/', then a part ending in '\' absorbs the next part (the
 * backslash dropped, the slash kept). buf gets the parts NUL-separated (it needs strlen(path)+1
 * bytes); parts/seq/lens need one slot per '/' plus one.
 */
static size_t split_into(char *buf, const char **parts, unsigned char *seq, size_t *lens,
                         const char *path)
{
    size_t n = 0, o = 0;
    const char *p = path;

    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);

        if (n > 0 && o > 0 && o - 1 > (size_t)(parts[n - 1] - buf) && buf[o - 2] == '\\') {
            /* previous part ended in a backslash: replace it by the slash, append this part */
            o -= 1; /* back onto the previous NUL */
            buf[o - 1] = '/';
            memcpy(buf + o, p, len);
            o += len;
            buf[o++] = '\0';
        } else {
            parts[n++] = buf + o;
            memcpy(buf + o, p, len);
            o += len;
            buf[o++] = '\0';
        }
        if (!slash)
            break;
        p = slash + 1;
    }
    for (size_t i = 0; i < n; i++) {
        char *part = (char *)parts[i];
        size_t len = strlen(part);
        seq[i] = len >= 2 && part[len - 2] == '[' && part[len - 1] == ']';
        if (seq[i]) {
            part[len - 2] = '\0';
            len -= 2;
        }
        lens[i] = len;
    }
    return n;
}

static size_t count_parts(const char *path)
{
    size_t n = 1;
    for (const char *c = path; *c; c++)
        n += *c == '/';
    return n;
}

/* one allocation: the parts array, then the lengths, then the seq flags, then the text */
static int split_path(split *out, const char *path)
{
    size_t cap = count_parts(path), len = strlen(path);
    char *mem;

    memset(out, 0, sizeof(*out));
    if (!(mem = pl_calloc(1, cap * (sizeof(*out->parts) + sizeof(*out->lens)) + cap + len + 1)))
        return pl_error_set(PL_ENOMEM, "out of memory");
    out->parts = (const char **)(void *)mem;
    out->lens = (size_t *)(void *)(mem + cap * sizeof(*out->parts));
    out->seq = (unsigned char *)(out->lens + cap);
    out->buf = (char *)out->seq + cap;
    out->n = split_into(out->buf, out->parts, out->seq, out->lens, path);
    return 0;
}

static void split_dispose(split *s)
{
    pl_free((void *)s->parts); /* owns seq and buf */
    memset(s, 0, sizeof(*s));
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
    int is_seq = w->seq[i];
    int last = i + 1 == w->n;
    int create = w->create && !is_seq;
    json_t *v = pl_kz_obj_getn(obj, part, w->lens[i]);

    if (!v) {
        if (!create)
            return 0;
        if (last)
            return call_cb(w, obj, part, NULL);
        if (!(v = json_object()) || json_object_set_new(obj, part, v) < 0)
            return pl_error_set(PL_ENOMEM, "out of memory");
    } else if (json_is_null(v) && (is_seq || (create && !last))) {
        /* a null where the path expects a list becomes an empty list; with create, a null
         * intermediate field becomes an empty map (kustomize retags the null node) */
        if (!(v = is_seq ? json_array() : json_object()) || json_object_set_new(obj, part, v) < 0)
            return pl_error_set(PL_ENOMEM, "out of memory");
    }
    if (last)
        return call_cb(w, obj, part, v);
    return walk_node(w, v, i + 1);
}

/* node is the value reached with parts[i..] still to go */
static int walk_node(const walk *w, json_t *node, size_t i)
{
    size_t k;
    json_t *e;
    int error;

    if (json_is_object(node))
        return walk_field(w, node, i);
    if (json_is_null(node))
        return 0;
    if (json_is_array(node)) {
        json_array_foreach(node, k, e) {
            if ((error = walk_node(w, e, i)) < 0)
                return error;
        }
        return 0;
    }
    return scalar_error(w);
}

static int run_walk(const char *const *parts, const unsigned char *seq, const size_t *lens,
                    size_t n, json_t *obj, const pl_kz_fieldspec *fs, pl_kz_field_cb cb,
                    void *payload)
{
    walk w;

    w.parts = parts;
    w.seq = seq;
    w.lens = lens;
    w.n = n;
    w.create = fs->create;
    w.path = fs->path ? fs->path : "";
    w.root = obj;
    w.cb = cb;
    w.payload = payload;
    return walk_node(&w, obj, 0);
}

int pl_kz_fieldspec_apply(json_t *obj, const pl_kz_fieldspec *fs, pl_kz_field_cb cb, void *payload)
{
    const char *path = fs->path ? fs->path : "";
    char buf[512];
    const char *parts[64];
    unsigned char seq[64];
    size_t lens[64];
    split s;
    size_t n;
    int error;

    if (!json_is_object(obj) || !pl_kz_fieldspec_matches(fs, obj))
        return 0;
    /* the common short path is split on the stack */
    if (strlen(path) < sizeof(buf) && count_parts(path) <= 64) {
        n = split_into(buf, parts, seq, lens, path);
        return run_walk(parts, seq, lens, n, obj, fs, cb, payload);
    }
    if ((error = split_path(&s, path)) < 0)
        return error;
    error = run_walk(s.parts, s.seq, s.lens, s.n, obj, fs, cb, payload);
    split_dispose(&s);
    return error;
}

/* ---- prepared lists ------------------------------------------------------------------------- */

struct pl_kz_fsprep {
    const pl_kz_fslist *l;
    split *v;
};

int pl_kz_fsprep_new(pl_kz_fsprep **out, const pl_kz_fslist *l)
{
    pl_kz_fsprep *p;
    int error;

    *out = NULL;
    if (!(p = pl_calloc(1, sizeof(*p))) || (l->n && !(p->v = pl_calloc(l->n, sizeof(*p->v))))) {
        pl_free(p);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    p->l = l;
    for (size_t i = 0; i < l->n; i++) {
        if ((error = split_path(&p->v[i], l->v[i].path ? l->v[i].path : "")) < 0) {
            pl_kz_fsprep_free(p);
            return error;
        }
    }
    *out = p;
    return 0;
}

void pl_kz_fsprep_free(pl_kz_fsprep *p)
{
    if (!p)
        return;
    for (size_t i = 0; p->v && i < p->l->n; i++)
        split_dispose(&p->v[i]);
    pl_free(p->v);
    pl_free(p);
}

int pl_kz_fsprep_walk(const pl_kz_fsprep *p, size_t i, json_t *obj, int create,
                      pl_kz_field_cb cb, void *payload)
{
    pl_kz_fieldspec fs = p->l->v[i];

    if (!json_is_object(obj))
        return 0;
    fs.create = create;
    return run_walk(p->v[i].parts, p->v[i].seq, p->v[i].lens, p->v[i].n, obj, &fs, cb,
                    payload);
}
