/*
 * sb_fieldset.c - FieldsV1 field sets (API-NOTES §4.6): a trie of path elements
 * f:<name> / k:<compact JSON key> / v:<compact JSON value> / i:<index>, each node possibly a
 * member itself. Children are kept sorted in SMD order (f: by byte order, then k:, v:, i:,
 * values compared as SMD compares them), so serialisation and conflict reporting need no sort.
 */
#include <stdlib.h>
#include <string.h>

#include "sb_smd.h"

#define MAX_DEPTH 512

sb_fs *sb_fs_new(void) { return pl_calloc(1, sizeof(sb_fs)); }

static void node_dispose(sb_fs *s);

static void child_dispose(sb_fs_child *c)
{
    pl_free(c->heap);
    json_decref(c->val);
    node_dispose(&c->node);
}

/* Release what a node owns (not the node itself). */
static void node_dispose(sb_fs *s)
{
    for (size_t i = 0; i < s->n; i++)
        child_dispose(&s->c[i]);
    pl_free(s->c);
    s->c = NULL;
    s->n = s->cap = 0;
}

void sb_fs_free(sb_fs *s)
{
    if (!s)
        return;
    node_dispose(s);
    pl_free(s);
}

int sb_fs_empty(const sb_fs *s)
{
    if (!s)
        return 1;
    if (s->member)
        return 0;
    for (size_t i = 0; i < s->n; i++)
        if (!sb_fs_empty(&s->c[i].node))
            return 0;
    return 1;
}

/* ---- value ordering (SMD value.Compare) ---------------------------------------------------- */

static int type_rank(const json_t *v)
{
    if (!v || json_is_null(v))
        return 6;
    if (json_is_number(v))
        return 1;
    if (json_is_string(v))
        return 2;
    if (json_is_boolean(v))
        return 3;
    if (json_is_array(v))
        return 4;
    return 5; /* object */
}

static int cmp_num(double a, double b) { return a < b ? -1 : a > b ? 1 : 0; }

int sb_value_cmp(const json_t *a, const json_t *b)
{
    int ra = type_rank(a), rb = type_rank(b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    switch (ra) {
    case 1:
        if (json_is_integer(a) && json_is_integer(b)) {
            json_int_t x = json_integer_value(a), y = json_integer_value(b);
            return x < y ? -1 : x > y ? 1 : 0;
        }
        return cmp_num(json_number_value(a), json_number_value(b));
    case 2: {
        size_t la = json_string_length(a), lb = json_string_length(b);
        int c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
        if (c)
            return c < 0 ? -1 : 1;
        return la < lb ? -1 : la > lb ? 1 : 0;
    }
    case 3:
        return (int)json_is_true(a) - (int)json_is_true(b);
    case 4: {
        size_t na = json_array_size(a), nb = json_array_size(b);
        for (size_t i = 0; i < na && i < nb; i++) {
            int c = sb_value_cmp(json_array_get(a, i), json_array_get(b, i));
            if (c)
                return c;
        }
        return na < nb ? -1 : na > nb ? 1 : 0;
    }
    case 5: {
        /* maps: compare as sorted field lists (name, then value) */
        void *ia = json_object_iter((json_t *)a), *ib = json_object_iter((json_t *)b);
        while (ia && ib) {
            int c = strcmp(json_object_iter_key(ia), json_object_iter_key(ib));
            if (c)
                return c < 0 ? -1 : 1;
            c = sb_value_cmp(json_object_iter_value(ia), json_object_iter_value(ib));
            if (c)
                return c;
            ia = json_object_iter_next((json_t *)a, ia);
            ib = json_object_iter_next((json_t *)b, ib);
        }
        return ia ? 1 : ib ? -1 : 0;
    }
    default:
        return 0;
    }
}

static const json_t *pe_value(const sb_pe *pe, json_t **tmp)
{
    *tmp = NULL;
    if (pe->val || !pe->text)
        return pe->val;
    *tmp = json_loads(pe->text, JSON_DECODE_ANY, NULL);
    return *tmp;
}

int sb_pe_cmp(const sb_pe *a, const sb_pe *b)
{
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    switch (a->kind) {
    case SB_PE_FIELD: {
        int c = strcmp(a->text, b->text);
        return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    case SB_PE_INDEX:
        return a->index < b->index ? -1 : a->index > b->index ? 1 : 0;
    default: {
        json_t *ta, *tb;
        const json_t *va = pe_value(a, &ta), *vb = pe_value(b, &tb);
        int c = sb_value_cmp(va, vb);
        json_decref(ta);
        json_decref(tb);
        return c;
    }
    }
}

static sb_pe child_pe(const sb_fs_child *c)
{
    sb_pe pe = {c->kind, c->kind == SB_PE_FIELD ? sb_fs_child_name(c) : NULL, c->val, c->index};
    return pe;
}

/* Binary search: index of pe, or -(insertion point) - 1. */
static long find(const sb_fs *s, const sb_pe *pe)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        sb_pe m = child_pe(&s->c[mid]);
        int c = sb_pe_cmp(&m, pe);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(long)lo - 1;
}

sb_fs *sb_fs_get(const sb_fs *s, const sb_pe *pe)
{
    if (!s || s->n == 0)
        return NULL;
    long i = find(s, pe);
    return i >= 0 ? &s->c[i].node : NULL;
}

sb_fs *sb_fs_ensure(sb_fs *s, const sb_pe *pe)
{
    long i = s->n ? find(s, pe) : -1;
    if (i >= 0)
        return &s->c[i].node;
    size_t at = (size_t)(-(i + 1));
    sb_fs_child c;
    memset(&c, 0, sizeof(c));
    c.kind = pe->kind;
    c.index = pe->index;
    if (pe->kind == SB_PE_FIELD) {
        size_t len = strlen(pe->text);
        if (len < sizeof(c.inl))
            memcpy(c.inl, pe->text, len + 1);
        else if (!(c.heap = pl_strdup(pe->text)))
            return NULL;
    } else if (pe->kind != SB_PE_INDEX) {
        /* path values are never modified, so a reference is enough */
        c.val = pe->val ? json_incref((json_t *)pe->val)
                        : json_loads(pe->text ? pe->text : "null", JSON_DECODE_ANY, NULL);
        if (!c.val)
            return NULL;
    }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 2;
        sb_fs_child *nb = pl_realloc(s->c, nc * sizeof(*nb));
        if (!nb) {
            child_dispose(&c);
            return NULL;
        }
        s->c = nb;
        s->cap = nc;
    }
    memmove(&s->c[at + 1], &s->c[at], (s->n - at) * sizeof(*s->c));
    s->c[at] = c;
    s->n++;
    return &s->c[at].node;
}

int sb_fs_insert(sb_fs *s, const sb_pe *path, size_t n)
{
    if (n == 0)
        return 0;
    sb_fs *cur = s;
    for (size_t i = 0; i < n; i++) {
        cur = sb_fs_ensure(cur, &path[i]);
        if (!cur)
            return pl_error_set(PL_ENOMEM, "out of memory");
    }
    cur->member = 1;
    return 0;
}

sb_fs *sb_fs_dup(const sb_fs *s)
{
    sb_fs *d = sb_fs_new();
    if (d && s && sb_fs_union_into(d, s) < 0) {
        sb_fs_free(d);
        return NULL;
    }
    if (d && s)
        d->member = s->member;
    return d;
}

int sb_fs_union_into(sb_fs *a, const sb_fs *b)
{
    if (!b)
        return 0;
    for (size_t i = 0; i < b->n; i++) {
        sb_pe pe = child_pe(&b->c[i]);
        if (sb_fs_empty(&b->c[i].node))
            continue;
        sb_fs *ac = sb_fs_ensure(a, &pe);
        if (!ac)
            return pl_error_set(PL_ENOMEM, "out of memory");
        if (b->c[i].node.member)
            ac->member = 1;
        if (sb_fs_union_into(ac, &b->c[i].node) < 0)
            return PL_ENOMEM;
    }
    return 0;
}

static void remove_at(sb_fs *s, size_t i)
{
    child_dispose(&s->c[i]);
    memmove(&s->c[i], &s->c[i + 1], (s->n - i - 1) * sizeof(*s->c));
    s->n--;
}

void sb_fs_compact(sb_fs *s)
{
    if (!s)
        return;
    for (size_t i = s->n; i-- > 0;) {
        sb_fs_compact(&s->c[i].node);
        if (!s->c[i].node.member && s->c[i].node.n == 0)
            remove_at(s, i);
    }
}

void sb_fs_diff_into(sb_fs *a, const sb_fs *b)
{
    if (!a || !b || b->n == 0)
        return;
    for (size_t i = a->n; i-- > 0;) {
        sb_pe pe = child_pe(&a->c[i]);
        sb_fs *bc = sb_fs_get(b, &pe);
        if (!bc)
            continue;
        if (bc->member)
            a->c[i].node.member = 0;
        sb_fs_diff_into(&a->c[i].node, bc);
        if (!a->c[i].node.member && a->c[i].node.n == 0)
            remove_at(a, i);
    }
}

void sb_fs_rdiff_into(sb_fs *a, const sb_fs *b)
{
    if (!a || !b || b->n == 0)
        return;
    for (size_t i = a->n; i-- > 0;) {
        sb_pe pe = child_pe(&a->c[i]);
        sb_fs *bc = sb_fs_get(b, &pe);
        if (!bc)
            continue;
        if (bc->member) {
            remove_at(a, i);
            continue;
        }
        sb_fs_rdiff_into(&a->c[i].node, bc);
        if (!a->c[i].node.member && a->c[i].node.n == 0)
            remove_at(a, i);
    }
}

static int intersect_into(sb_fs *out, const sb_fs *a, const sb_fs *b)
{
    for (size_t i = 0; i < a->n; i++) {
        sb_pe pe = child_pe(&a->c[i]);
        sb_fs *bc = sb_fs_get(b, &pe);
        if (!bc)
            continue;
        sb_fs tmp = {0};
        tmp.member = a->c[i].node.member && bc->member;
        if (intersect_into(&tmp, &a->c[i].node, bc) < 0) {
            node_dispose(&tmp);
            return PL_ENOMEM;
        }
        if (tmp.member || tmp.n) {
            sb_fs *oc = sb_fs_ensure(out, &pe);
            if (!oc) {
                node_dispose(&tmp);
                return PL_ENOMEM;
            }
            oc->member = tmp.member;
            /* move tmp's children into oc (oc is fresh and empty) */
            oc->c = tmp.c;
            oc->n = tmp.n;
            oc->cap = tmp.cap;
        } else {
            pl_free(tmp.c);
        }
    }
    return 0;
}

sb_fs *sb_fs_intersect(const sb_fs *a, const sb_fs *b)
{
    sb_fs *out = sb_fs_new();
    if (!out)
        return NULL;
    if (a && b && intersect_into(out, a, b) < 0) {
        sb_fs_free(out);
        return NULL;
    }
    return out;
}

size_t sb_fs_count(const sb_fs *s)
{
    size_t n = 0;
    if (!s)
        return 0;
    for (size_t i = 0; i < s->n; i++)
        n += (s->c[i].node.member ? 1 : 0) + sb_fs_count(&s->c[i].node);
    return n;
}

/* ---- FieldsV1 JSON ----------------------------------------------------------------------- */

static int parse_node(sb_fs *s, const json_t *obj, int depth)
{
    const char *key;
    json_t *val;
    if (!json_is_object(obj) || depth > MAX_DEPTH)
        return pl_error_set(PL_EINVALID, "fieldsV1: expected an object");
    json_object_foreach((json_t *)obj, key, val) {
        if (strcmp(key, ".") == 0) {
            s->member = 1;
            continue;
        }
        if (strlen(key) < 2 || key[1] != ':')
            return pl_error_set(PL_EINVALID, "fieldsV1: bad path element \"%s\"", key);
        sb_pe pe = {SB_PE_FIELD, key + 2, NULL, 0};
        json_t *tmp = NULL;
        switch (key[0]) {
        case 'f':
            break;
        case 'k':
            pe.kind = SB_PE_KEY;
            tmp = json_loads(key + 2, 0, NULL);
            if (!json_is_object(tmp)) {
                json_decref(tmp);
                return pl_error_set(PL_EINVALID, "fieldsV1: bad key \"%s\"", key);
            }
            pe.val = tmp;
            break;
        case 'v':
            pe.kind = SB_PE_VALUE;
            tmp = json_loads(key + 2, JSON_DECODE_ANY, NULL);
            if (!tmp)
                return pl_error_set(PL_EINVALID, "fieldsV1: bad value \"%s\"", key);
            pe.val = tmp;
            break;
        case 'i': {
            char *end = NULL;
            pe.kind = SB_PE_INDEX;
            pe.index = strtol(key + 2, &end, 10);
            if (!end || *end || end == key + 2)
                return pl_error_set(PL_EINVALID, "fieldsV1: bad index \"%s\"", key);
            break;
        }
        default:
            return pl_error_set(PL_EINVALID, "fieldsV1: bad path element \"%s\"", key);
        }
        sb_fs *c = sb_fs_ensure(s, &pe);
        json_decref(tmp);
        if (!c)
            return pl_error_set(PL_ENOMEM, "out of memory");
        if (!json_is_object(val))
            return pl_error_set(PL_EINVALID, "fieldsV1: expected an object");
        if (json_object_size(val) == 0)
            c->member = 1;
        else if (parse_node(c, val, depth + 1) < 0)
            return PL_EINVALID;
    }
    return 0;
}

int sb_fs_from_json(sb_fs **out, const json_t *fields_v1)
{
    *out = NULL;
    sb_fs *s = sb_fs_new();
    if (!s)
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (parse_node(s, fields_v1, 0) < 0) {
        sb_fs_free(s);
        return PL_EINVALID;
    }
    s->member = 0;
    *out = s;
    return 0;
}

static const char kind_prefix[] = {'f', 'k', 'v', 'i'};

static json_t *to_json_node(const sb_fs *s)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int has_children = 0;
    for (size_t i = 0; i < s->n; i++)
        if (!sb_fs_empty(&s->c[i].node))
            has_children = 1;
    if (s->member && has_children)
        json_object_set_new(o, ".", json_object());
    for (size_t i = 0; i < s->n; i++) {
        const sb_fs_child *c = &s->c[i];
        if (sb_fs_empty(&c->node))
            continue;
        char small[256], num[32];
        char *key = small, *dumped = NULL;
        const char *text;
        if (c->kind == SB_PE_FIELD) {
            text = sb_fs_child_name(c);
        } else if (c->kind == SB_PE_INDEX) {
            snprintf(num, sizeof(num), "%ld", c->index);
            text = num;
        } else {
            dumped = json_dumps(c->val, JSON_COMPACT | JSON_ENCODE_ANY |
                                            (c->kind == SB_PE_KEY ? JSON_SORT_KEYS : 0));
            text = dumped ? dumped : "";
        }
        size_t tl = strlen(text);
        if (tl + 3 > sizeof(small) && !(key = pl_malloc(tl + 3))) {
            pl_free(dumped);
            json_decref(o);
            return NULL;
        }
        key[0] = kind_prefix[c->kind];
        key[1] = ':';
        memcpy(key + 2, text, tl + 1);
        pl_free(dumped);
        json_t *v = to_json_node(&c->node);
        int bad = !v || json_object_set_new(o, key, v) < 0;
        if (key != small)
            pl_free(key);
        if (bad) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

json_t *sb_fs_to_json(const sb_fs *s)
{
    if (!s)
        return json_object();
    sb_fs root = *s;
    root.member = 0;
    return to_json_node(&root);
}

/* ---- iteration and rendering ------------------------------------------------------------- */

typedef struct walk_ctx {
    sb_pe path[MAX_DEPTH];
    sb_fs_visit_fn fn;
    void *payload;
} walk_ctx;

static int each_node(const sb_fs *s, walk_ctx *w, size_t depth)
{
    for (size_t i = 0; i < s->n; i++) {
        if (depth >= MAX_DEPTH)
            return pl_error_set(PL_EINVALID, "field set too deep");
        w->path[depth] = child_pe(&s->c[i]);
        if (s->c[i].node.member) {
            int rc = w->fn(w->path, depth + 1, w->payload);
            if (rc)
                return rc;
        }
        int rc = each_node(&s->c[i].node, w, depth + 1);
        if (rc)
            return rc;
    }
    return 0;
}

int sb_fs_each(const sb_fs *s, sb_fs_visit_fn fn, void *payload)
{
    if (!s)
        return 0;
    walk_ctx *w = pl_malloc(sizeof(*w));
    if (!w)
        return pl_error_set(PL_ENOMEM, "out of memory");
    w->fn = fn;
    w->payload = payload;
    int rc = each_node(s, w, 0);
    pl_free(w);
    return rc;
}

int sb_value_render(pl_buf *out, const json_t *v)
{
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!t)
        return pl_error_set(PL_ENOMEM, "out of memory");
    int rc = pl_buf_puts(out, t);
    pl_free(t);
    return rc;
}

int sb_path_render(pl_buf *out, const sb_pe *path, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const sb_pe *pe = &path[i];
        json_t *tmp = NULL;
        const json_t *v;
        switch (pe->kind) {
        case SB_PE_FIELD:
            rc = pl_buf_printf(out, ".%s", pe->text);
            break;
        case SB_PE_INDEX:
            rc = pl_buf_printf(out, "[%ld]", pe->index);
            break;
        case SB_PE_VALUE:
            v = pe_value(pe, &tmp);
            rc = pl_buf_puts(out, "[=");
            if (rc == 0)
                rc = sb_value_render(out, v ? v : json_null());
            if (rc == 0)
                rc = pl_buf_putc(out, ']');
            break;
        case SB_PE_KEY: {
            v = pe_value(pe, &tmp);
            rc = pl_buf_putc(out, '[');
            /* key fields sorted by name (SMD FieldList.Sort) */
            size_t nk = json_object_size(v);
            const char **names = pl_calloc(nk ? nk : 1, sizeof(*names));
            const char *k;
            json_t *kv;
            size_t j = 0;
            if (!names) {
                rc = PL_ENOMEM;
                break;
            }
            json_object_foreach((json_t *)v, k, kv) names[j++] = k;
            for (size_t a = 1; a < nk; a++)
                for (size_t b = a; b > 0 && strcmp(names[b - 1], names[b]) > 0; b--) {
                    const char *t = names[b];
                    names[b] = names[b - 1];
                    names[b - 1] = t;
                }
            for (j = 0; j < nk && rc == 0; j++) {
                rc = pl_buf_printf(out, "%s%s=", j ? "," : "", names[j]);
                if (rc == 0)
                    rc = sb_value_render(out, json_object_get(v, names[j]));
            }
            pl_free(names);
            if (rc == 0)
                rc = pl_buf_putc(out, ']');
            break;
        }
        }
        json_decref(tmp);
    }
    return rc;
}
