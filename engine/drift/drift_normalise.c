/*
 * drift_normalise.c - making two versions of an object comparable.
 *
 * What goes and why: the metadata the API server owns (API-NOTES §3.1: uid, resourceVersion,
 * generation, creationTimestamp, managedFields, selfLink, deletion fields) changes without any
 * change of intent; `status` is written by controllers; the last-applied annotation is a copy
 * of the object (and may carry Secret data); deployment.kubernetes.io/revision is set by the
 * Deployment controller (§9). A Secret's stringData is folded into data as base64, because the
 * server stores it that way (§4.10) and a manifest using stringData must equal its live form.
 *
 * ignoreDifferences follows Argo CD (util/argo/normalizers/diff_normalizer.go): jsonPointers
 * are removed (RFC 6901, "~1" and "~0" escapes); jqPathExpressions are evaluated as
 * `del(EXPR)` by a small evaluator that understands the path subset named in drift.h (others
 * are skipped with a warning); managedFieldsManagers remove every field the named managers own
 * in the live object's managedFields (fieldsV1: "f:name", "k:{...}", "v:value", "i:N").
 *
 * Callers: drift_compare.c, engine/sync (via pl_drift_normalise).
 */
#include <stdlib.h>
#include <string.h>

#include "drift_int.h"

/* ---- fixed normalisation ------------------------------------------------------------------- */

static void drop_empty(json_t *md, const char *key)
{
    json_t *v = json_object_get(md, key);
    if (v && (json_is_null(v) || (json_is_object(v) && json_object_size(v) == 0)))
        json_object_del(md, key);
}

static int fold_string_data(json_t *obj)
{
    json_t *sd = json_object_get(obj, "stringData"), *data, *v;
    const char *k;
    pl_buf b = PL_BUF_INIT;

    if (!json_is_object(sd))
        return 0;
    data = json_object_get(obj, "data");
    if (!json_is_object(data)) {
        data = json_object();
        if (!data || json_object_set_new(obj, "data", data) < 0)
            return pl_error_set(PL_ENOMEM, "out of memory");
    }
    json_object_foreach(sd, k, v)
    {
        const char *s = json_string_value(v);
        if (!s)
            continue; /* not a string: left for the server to reject; shown as is (redacted) */
        pl_buf_clear(&b);
        if (pl_base64_encode(&b, s, strlen(s), 0) < 0 ||
            json_object_set_new(data, k, json_string(b.ptr)) < 0) {
            pl_buf_dispose(&b);
            return pl_error_set(PL_ENOMEM, "out of memory");
        }
    }
    pl_buf_dispose(&b);
    /* only string values were folded; anything else stays visible (redacted) */
    {
        int all = 1;
        json_object_foreach(sd, k, v) all &= json_is_string(v);
        if (all)
            json_object_del(obj, "stringData");
    }
    return 0;
}

/* ---- JSON pointers ------------------------------------------------------------------------ */

/* Remove the value at RFC 6901 pointer `ptr` from `doc`; absent paths are not an error. */
static void remove_pointer(json_t *doc, const char *ptr)
{
    json_t *cur = doc, *parent = NULL;
    pl_buf tok = PL_BUF_INIT;
    const char *p = ptr;
    char *last = NULL;

    if (!*p || *p != '/')
        return;
    while (*p == '/') {
        const char *end = strchr(p + 1, '/');
        size_t n = end ? (size_t)(end - p - 1) : strlen(p + 1);
        pl_buf_clear(&tok);
        for (size_t i = 0; i < n; i++) {
            char c = p[1 + i];
            if (c == '~' && i + 1 < n && (p[2 + i] == '0' || p[2 + i] == '1')) {
                c = p[2 + i] == '0' ? '~' : '/';
                i++;
            }
            pl_buf_putc(&tok, c);
        }
        if (!tok.ptr && pl_buf_put(&tok, "", 0) < 0)
            break;
        parent = cur;
        pl_free(last);
        last = pl_strdup(tok.ptr);
        if (json_is_object(cur)) {
            cur = json_object_get(cur, tok.ptr);
        } else if (json_is_array(cur)) {
            char *e = NULL;
            long idx = strtol(tok.ptr, &e, 10);
            cur = (e && !*e && idx >= 0) ? json_array_get(cur, (size_t)idx) : NULL;
        } else {
            cur = NULL;
        }
        if (!cur)
            break;
        p = end ? end : p + 1 + n;
        if (!end)
            break;
    }
    if (cur && parent && last) {
        if (json_is_object(parent)) {
            json_object_del(parent, last);
        } else if (json_is_array(parent)) {
            long idx = strtol(last, NULL, 10);
            json_array_remove(parent, (size_t)idx);
        }
    }
    pl_free(last);
    pl_buf_dispose(&tok);
}

/* ---- jq subset --------------------------------------------------------------------------- */

typedef enum { JQ_FIELD, JQ_INDEX, JQ_ITER, JQ_SELECT } jq_kind;

typedef struct jq_step {
    jq_kind kind;
    char *field;
    long index;
    struct jq_step *sel; /* SELECT: the path to test (FIELD/INDEX steps) */
    size_t nsel;
    int negate;
    json_t *literal;
} jq_step;

typedef struct jq_path {
    jq_step *v;
    size_t n;
} jq_path;

static void jq_free(jq_path *p)
{
    for (size_t i = 0; i < p->n; i++) {
        pl_free(p->v[i].field);
        if (p->v[i].sel) {
            jq_path sub = {p->v[i].sel, p->v[i].nsel};
            jq_free(&sub);
        }
        json_decref(p->v[i].literal);
    }
    pl_free(p->v);
    p->v = NULL;
    p->n = 0;
}

static int jq_push(jq_path *p, jq_step s)
{
    jq_step *v = pl_realloc(p->v, (p->n + 1) * sizeof(*v));
    if (!v)
        return -1;
    p->v = v;
    p->v[p->n++] = s;
    return 0;
}

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* a JSON string literal at s ("..."): owned copy of its value in *out; end in *end */
static int jq_string(char **out, const char *s, const char **end)
{
    const char *q = s + 1;
    json_t *v;
    while (*q && *q != '"')
        q += (*q == '\\' && q[1]) ? 2 : 1;
    if (*q != '"')
        return -1;
    v = json_loadb(s, (size_t)(q - s + 1), JSON_DECODE_ANY, NULL);
    if (!json_is_string(v)) {
        json_decref(v);
        return -1;
    }
    *out = pl_strdup(json_string_value(v));
    json_decref(v);
    *end = q + 1;
    return *out ? 0 : -1;
}

static int jq_parse_path(jq_path *p, const char **sp, int in_select);

/* select(PATH == LITERAL) / select(PATH != LITERAL) */
static int jq_parse_select(jq_path *p, const char **sp)
{
    const char *s = skip_ws(*sp + 7), *lit, *close;
    jq_path sub = {NULL, 0};
    jq_step st;

    memset(&st, 0, sizeof(st));
    st.kind = JQ_SELECT;
    if (jq_parse_path(&sub, &s, 1) < 0)
        goto bad;
    s = skip_ws(s);
    if (!strncmp(s, "==", 2))
        st.negate = 0;
    else if (!strncmp(s, "!=", 2))
        st.negate = 1;
    else
        goto bad;
    lit = skip_ws(s + 2);
    close = strrchr(lit, ')');
    if (!close)
        goto bad;
    /* the literal runs to the last ')' of this select (no nested parentheses supported) */
    {
        const char *e = close;
        while (e > lit && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (!(st.literal = json_loadb(lit, (size_t)(e - lit), JSON_DECODE_ANY, NULL)))
            goto bad;
        for (const char *x = lit; x < e; x++)
            if (*x == ')')
                goto bad;
    }
    st.sel = sub.v;
    st.nsel = sub.n;
    if (jq_push(p, st) < 0) {
        json_decref(st.literal);
        goto bad;
    }
    *sp = close + 1;
    return 0;
bad:
    json_decref(st.literal);
    jq_free(&sub);
    return -1;
}

/* Path steps until end, '|' or (in a select) a comparison operator. */
static int jq_parse_path(jq_path *p, const char **sp, int in_select)
{
    const char *s = skip_ws(*sp);
    for (;;) {
        jq_step st;
        memset(&st, 0, sizeof(st));
        s = skip_ws(s);
        if (!*s || *s == '|' || (in_select && (*s == '=' || *s == '!')))
            break;
        if (*s == '.' && (s[1] == '"' || s[1] == '[')) {
            s++;
            continue;
        }
        if (*s == '.' && (s[1] == '\0' || s[1] == ' ' || s[1] == '|')) {
            s++; /* identity */
            continue;
        }
        if (*s == '.') {
            const char *b = ++s;
            while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                   (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '$')
                s++;
            if (s == b || !(st.field = pl_strndup(b, (size_t)(s - b))))
                return -1;
            st.kind = JQ_FIELD;
        } else if (*s == '"') {
            if (jq_string(&st.field, s, &s) < 0)
                return -1;
            st.kind = JQ_FIELD;
        } else if (*s == '[') {
            s = skip_ws(s + 1);
            if (*s == ']') {
                st.kind = JQ_ITER;
                s++;
            } else if (*s == '"') {
                if (jq_string(&st.field, s, &s) < 0)
                    return -1;
                st.kind = JQ_FIELD;
                s = skip_ws(s);
                if (*s++ != ']') {
                    pl_free(st.field);
                    return -1;
                }
            } else {
                char *e = NULL;
                st.index = strtol(s, &e, 10);
                if (!e || e == s || st.index < 0)
                    return -1;
                s = skip_ws(e);
                if (*s++ != ']')
                    return -1;
                st.kind = JQ_INDEX;
            }
        } else if (!in_select && !strncmp(s, "select(", 7)) {
            if (jq_parse_select(p, &s) < 0)
                return -1;
            continue;
        } else {
            return -1;
        }
        if (jq_push(p, st) < 0) {
            pl_free(st.field);
            return -1;
        }
    }
    *sp = s;
    return 0;
}

static int jq_parse(jq_path *p, const char *expr)
{
    const char *s = expr;
    memset(p, 0, sizeof(*p));
    for (;;) {
        if (jq_parse_path(p, &s, 0) < 0) {
            jq_free(p);
            return -1;
        }
        s = skip_ws(s);
        if (!*s)
            break;
        if (*s != '|') {
            jq_free(p);
            return -1;
        }
        s++;
    }
    return p->n ? 0 : -1;
}

typedef struct jq_del {
    json_t *parent;
    char *key; /* NULL: array element `index` */
    size_t index;
} jq_del;

typedef struct jq_dels {
    jq_del *v;
    size_t n;
} jq_dels;

static json_t *jq_get(json_t *cur, const jq_step *steps, size_t n)
{
    for (size_t i = 0; i < n && cur; i++) {
        if (steps[i].kind == JQ_FIELD)
            cur = json_object_get(cur, steps[i].field);
        else if (steps[i].kind == JQ_INDEX)
            cur = json_array_get(cur, (size_t)steps[i].index);
        else
            return NULL;
    }
    return cur;
}

static void jq_record(jq_dels *d, json_t *parent, const char *key, size_t index)
{
    jq_del *v;
    if (!parent)
        return;
    if (!(v = pl_realloc(d->v, (d->n + 1) * sizeof(*v))))
        return;
    d->v = v;
    d->v[d->n].parent = parent;
    d->v[d->n].key = key ? pl_strdup(key) : NULL;
    d->v[d->n].index = index;
    d->n++;
}

static void jq_eval(jq_dels *d, json_t *cur, const jq_step *steps, size_t n, json_t *parent,
                    const char *key, size_t index)
{
    json_t *child;
    if (n == 0) {
        jq_record(d, parent, key, index);
        return;
    }
    switch (steps[0].kind) {
    case JQ_FIELD:
        if (json_is_object(cur) && (child = json_object_get(cur, steps[0].field)))
            jq_eval(d, child, steps + 1, n - 1, cur, steps[0].field, 0);
        break;
    case JQ_INDEX:
        if (json_is_array(cur) && (child = json_array_get(cur, (size_t)steps[0].index)))
            jq_eval(d, child, steps + 1, n - 1, cur, NULL, (size_t)steps[0].index);
        break;
    case JQ_ITER:
        if (json_is_array(cur)) {
            size_t i;
            json_array_foreach(cur, i, child) jq_eval(d, child, steps + 1, n - 1, cur, NULL, i);
        } else if (json_is_object(cur)) {
            const char *k;
            json_object_foreach(cur, k, child) jq_eval(d, child, steps + 1, n - 1, cur, k, 0);
        }
        break;
    case JQ_SELECT: {
        json_t *v = jq_get(cur, steps[0].sel, steps[0].nsel);
        int eq = v && json_equal(v, steps[0].literal);
        if (!v && json_is_null(steps[0].literal))
            eq = 1; /* jq: a missing field is null */
        if (eq != steps[0].negate)
            jq_eval(d, cur, steps + 1, n - 1, parent, key, index);
        break;
    }
    }
}

static int del_cmp(const void *a, const void *b)
{
    const jq_del *x = a, *y = b;
    /* array elements from the highest index down, so earlier removals do not shift later ones */
    if (x->index != y->index)
        return x->index < y->index ? 1 : -1;
    return 0;
}

static void apply_jq(json_t *doc, const char *expr)
{
    jq_path p;
    jq_dels d = {NULL, 0};

    if (jq_parse(&p, expr) < 0) {
        pl_log(PL_LOG_WARN, "drift", "ignoreDifferences: unsupported jqPathExpression %s", expr);
        return;
    }
    jq_eval(&d, doc, p.v, p.n, NULL, NULL, 0);
    if (d.n)
        qsort(d.v, d.n, sizeof(*d.v), del_cmp);
    for (size_t i = 0; i < d.n; i++) {
        if (d.v[i].key)
            json_object_del(d.v[i].parent, d.v[i].key);
        else
            json_array_remove(d.v[i].parent, d.v[i].index);
        pl_free(d.v[i].key);
    }
    pl_free(d.v);
    jq_free(&p);
}

/* ---- managedFields ----------------------------------------------------------------------- */

/* 1 if array element `e` has every field of `keyobj` equal */
static int key_match(const json_t *e, const json_t *keyobj)
{
    const char *k;
    json_t *v;
    if (!json_is_object(e))
        return 0;
    json_object_foreach((json_t *)keyobj, k, v)
    {
        if (!json_equal(json_object_get(e, k), v))
            return 0;
    }
    return 1;
}

/* Remove from `obj` what the fieldsV1 set `fs` names (structured-merge-diff path elements). */
void pl_drift__remove_fieldset(json_t *obj, const json_t *fs)
{
    const char *k;
    json_t *sub;
    if (!json_is_object(fs) || !obj)
        return;
    json_object_foreach((json_t *)fs, k, sub)
    {
        int leaf = json_is_object(sub) && json_object_size(sub) == 0;
        if (!strncmp(k, "f:", 2) && json_is_object(obj)) {
            json_t *child = json_object_get(obj, k + 2);
            if (!child)
                continue;
            if (leaf)
                json_object_del(obj, k + 2);
            else
                pl_drift__remove_fieldset(child, sub);
        } else if ((!strncmp(k, "k:", 2) || !strncmp(k, "v:", 2) || !strncmp(k, "i:", 2)) &&
                   json_is_array(obj)) {
            json_t *want = k[0] == 'i' ? NULL : json_loads(k + 2, JSON_DECODE_ANY, NULL);
            size_t i, hit = (size_t)-1;
            json_t *e;
            if (k[0] == 'i') {
                char *end = NULL;
                long idx = strtol(k + 2, &end, 10);
                if (end && !*end && idx >= 0 && (size_t)idx < json_array_size(obj))
                    hit = (size_t)idx;
            } else if (want) {
                json_array_foreach(obj, i, e)
                {
                    if (k[0] == 'k' ? key_match(e, want) : json_equal(e, want)) {
                        hit = i;
                        break;
                    }
                }
            }
            json_decref(want);
            if (hit == (size_t)-1)
                continue;
            if (leaf || k[0] == 'v')
                json_array_remove(obj, hit);
            else
                pl_drift__remove_fieldset(json_array_get(obj, hit), sub);
        }
    }
}

/* ---- ignoreDifferences -------------------------------------------------------------------- */

int pl_drift__rule_matches(const json_t *rule, const json_t *obj)
{
    const char *kind = pl_json_str(rule, "kind", NULL), *group = pl_json_str(rule, "group", NULL);
    const char *name = pl_json_str(rule, "name", NULL), *ns = pl_json_str(rule, "namespace", NULL);
    pl_objkey key;
    size_t glen;

    pl_objkey_from(&key, obj);
    if (!kind || (strcmp(kind, "*") && strcmp(kind, key.kind)))
        return 0;
    /* pl_objkey's group points into apiVersion ("apps/v1"): compare up to the '/' */
    glen = strcspn(key.group, "/");
    if (group && strcmp(group, "*") && (strlen(group) != glen || strncmp(group, key.group, glen)))
        return 0;
    if (!group && glen) /* Argo CD: an empty group means the core group */
        return 0;
    if (name && *name && strcmp(name, key.name))
        return 0;
    if (ns && *ns && strcmp(ns, key.ns))
        return 0;
    return 1;
}

int pl_drift_normalise(json_t **out, const json_t *obj, const pl_drift_opts *opts)
{
    json_t *o, *md, *ann;
    size_t i;
    static const char *const meta_drop[] = {"managedFields",     "resourceVersion",
                                            "uid",               "generation",
                                            "creationTimestamp", "selfLink",
                                            "deletionTimestamp", "deletionGracePeriodSeconds"};
    /* plumb.dev/applied-hash is plumb's own bookkeeping: it changes with every real change,
     * which the diff shows anyway */
    static const char *const ann_drop[] = {"kubectl.kubernetes.io/last-applied-configuration",
                                           "deployment.kubernetes.io/revision",
                                           "plumb.dev/applied-hash"};

    *out = NULL;
    if (!json_is_object(obj))
        return pl_error_set(PL_EINVALID, "drift: not an object");
    if (!(o = json_deep_copy(obj)))
        return pl_error_set(PL_ENOMEM, "out of memory");
    json_object_del(o, "status");
    md = json_object_get(o, "metadata");
    if (json_is_object(md)) {
        for (i = 0; i < sizeof(meta_drop) / sizeof(meta_drop[0]); i++)
            json_object_del(md, meta_drop[i]);
        ann = json_object_get(md, "annotations");
        for (i = 0; json_is_object(ann) && i < sizeof(ann_drop) / sizeof(ann_drop[0]); i++)
            json_object_del(ann, ann_drop[i]);
    }
    if (pl_drift__is_secret(o) && fold_string_data(o) < 0) {
        json_decref(o);
        return PL_ENOMEM;
    }
    pl_drift__remove_ignored(o, obj, opts);
    /* after the rules: removing the last annotation leaves an empty map the server drops */
    pl_drift__tidy(o);
    *out = o;
    return 0;
}

void pl_drift__remove_ignored(json_t *o, const json_t *match, const pl_drift_opts *opts)
{
    json_t *rule, *v;
    size_t i, j;

    json_array_foreach(opts ? opts->ignore_differences : NULL, i, rule)
    {
        if (!pl_drift__rule_matches(rule, match))
            continue;
        json_array_foreach(json_object_get(rule, "jsonPointers"), j, v)
        {
            if (json_is_string(v))
                remove_pointer(o, json_string_value(v));
        }
        json_array_foreach(json_object_get(rule, "jqPathExpressions"), j, v)
        {
            if (json_is_string(v))
                apply_jq(o, json_string_value(v));
        }
    }
}

void pl_drift__tidy(json_t *obj)
{
    json_t *md = json_object_get(obj, "metadata");
    if (json_is_object(md)) {
        drop_empty(md, "annotations");
        drop_empty(md, "labels");
    }
}

int pl_drift__is_secret(const json_t *obj)
{
    const char *kind = pl_json_str(obj, "kind", NULL), *av = pl_json_str(obj, "apiVersion", NULL);
    return kind && !strcmp(kind, "Secret") && (!av || !strcmp(av, "v1"));
}
