/*
 * yaml_read.c - YAML stream -> JSON documents, resolving scalars as kustomize does.
 *
 * kustomize keeps resources as go-yaml v3 nodes and, when it prints them, decodes each node
 * into map[string]interface{} with go-yaml v3 before marshalling to JSON. The types a scalar
 * ends up with are therefore go-yaml v3's resolution for interface{} targets:
 *   - plain `true/True/TRUE/false/...` are bools; `yes`, `on`, `y` stay strings (YAML 1.2);
 *   - plain ``, `~`, `null`, `Null`, `NULL` are null;
 *   - ints follow Go's strconv.ParseInt(s, 0, 64) after removing `_`: 0755 is octal (493),
 *     0x1F, 0o17, 0b101, +7; then the YAML float pattern;
 *   - plain timestamps (go-yaml's four time.Parse layouts: 2024-01-05, 2024-1-5T10:00:00Z,
 *     "2024-01-05 10:00:00", ...) become time.Time, which Go's JSON encoder prints in RFC 3339:
 *     they are stored as that string ("2024-01-05T00:00:00Z"); an offset of 24h or more makes
 *     Time.MarshalJSON fail, so kustomize fails and so does the parse;
 *   - quoted scalars and `!!str` are strings; `!!binary` is base64-decoded; scalars with a tag
 *     go-yaml cannot resolve (`!Ref 12`, `!!foo`) are strings; mapping keys keep their source
 *     text.
 * Aliases are expanded (deep copies), bounded by opts->max_nodes so an alias bomb stops early.
 *
 * Callers: every renderer (through the kustomize/plain loaders), tests and the fuzz target.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <strings.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "plumb/core.h"

/* yaml_write.c: go-yaml's parseTimestamp and Time.MarshalJSON (one implementation for both the
 * reader and the writer's quoting decision). */
int pl_yaml__timestamp(char *out, size_t outsz, const char *s, size_t n);

#define DEFAULT_MAX_ALIAS_NODES 1000000
#define DEFAULT_MAX_BYTES (64u * 1024 * 1024)
#define MAX_DEPTH 1000

typedef struct frame {
    json_t *node;
    size_t key_off; /* pending key of a mapping: offset in reader.keys */
    int has_key;
    int key_is_merge;
    json_t *explicit_keys; /* set of keys written explicitly, only after a merge */
    char *anchor;   /* anchor to register when the node completes (owned) */
    size_t key_line, key_col;
} frame;

typedef struct anchor_ent {
    char *name;
    json_t *node;   /* one reference held here */
    size_t count;   /* nodes in the subtree */
} anchor_ent;

typedef struct reader {
    const char *name;
    frame *stack;
    size_t depth, cap;
    anchor_ent *anchors;
    size_t nanchors, anchors_cap;
    size_t alias_nodes, max_alias_nodes;
    int dup_last_wins; /* go-yaml v2 semantics: a repeated key replaces the earlier value */
    pl_buf keys;       /* pending keys, a stack in step with the frames (no malloc per key) */
    json_t *docs;
    json_t *doc; /* current document root */
} reader;

static const char *frame_key(const reader *r, const frame *f)
{
    return r->keys.ptr + f->key_off;
}

/* make `s` the pending key of `f` (pushed on the key stack) */
static int set_key(reader *r, frame *f, const char *s, size_t n)
{
    int error;

    f->key_off = r->keys.len;
    if ((error = pl_buf_put(&r->keys, s, n)) < 0 || (error = pl_buf_putc(&r->keys, '\0')) < 0)
        return error;
    f->has_key = 1;
    return 0;
}

/* the pending key of `f` was used: pop it */
static void drop_key(reader *r, frame *f)
{
    if (f->has_key) {
        r->keys.len = f->key_off;
        f->has_key = 0;
    }
}

/* ---- Go strconv.ParseInt(s, 0, 64) / ParseUint equivalents ---------------------------- */

static int parse_go_uint(const char *s, size_t n, unsigned long long *out)
{
    unsigned base = 10;
    unsigned long long v = 0;
    size_t i = 0;

    if (n == 0)
        return -1;
    if (s[0] == '0' && n > 1) {
        char c = (char)tolower((unsigned char)s[1]);
        if (c == 'x') {
            base = 16;
            i = 2;
        } else if (c == 'o') {
            base = 8;
            i = 2;
        } else if (c == 'b') {
            base = 2;
            i = 2;
        } else {
            base = 8;
            i = 1;
        }
        if (i == n)
            return -1;
    }
    for (; i < n; i++) {
        unsigned d;
        char c = s[i];
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'z')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'Z')
            d = (unsigned)(c - 'A' + 10);
        else
            return -1;
        if (d >= base)
            return -1;
        if (v > (~0ULL - d) / base)
            return -2; /* range */
        v = v * base + d;
    }
    *out = v;
    return 0;
}

/* 0: int64 in *iv; 1: only fits uint64 (*uv); -1: not an integer */
static int parse_go_int(const char *in, size_t n, long long *iv, unsigned long long *uv)
{
    char tmp[128];
    size_t m = 0;
    int neg = 0;
    unsigned long long u;
    const char *s = tmp;

    for (size_t i = 0; i < n; i++) {
        if (in[i] == '_')
            continue;
        if (m + 1 >= sizeof(tmp))
            return -1;
        tmp[m++] = in[i];
    }
    tmp[m] = '\0';
    if (m && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        s++;
        m--;
    }
    if (parse_go_uint(s, m, &u) < 0)
        return -1;
    if (neg) {
        if (u > (unsigned long long)LLONG_MAX + 1)
            return -1;
        *iv = u == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)u;
        return 0;
    }
    if (u <= (unsigned long long)LLONG_MAX) {
        *iv = (long long)u;
        return 0;
    }
    if (tmp[0] == '+')
        return -1; /* ParseUint takes no sign */
    *uv = u;
    return 1;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static int yaml_style_float(const char *s, size_t n)
{
    size_t i = 0, d;

    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    if (i < n && s[i] == '.') {
        i++;
        for (d = 0; i < n && isdigit((unsigned char)s[i]); i++, d++)
            ;
        if (!d)
            return 0;
    } else {
        for (d = 0; i < n && isdigit((unsigned char)s[i]); i++, d++)
            ;
        if (!d)
            return 0;
        if (i < n && s[i] == '.')
            for (i++; i < n && isdigit((unsigned char)s[i]); i++)
                ;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        for (d = 0; i < n && isdigit((unsigned char)s[i]); i++, d++)
            ;
        if (!d)
            return 0;
    }
    return i == n;
}

static int parse_float(const char *s, size_t n, double *out)
{
    char tmp[128];
    char *end;
    size_t m = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_')
            continue;
        if (m + 1 >= sizeof(tmp))
            return -1;
        tmp[m++] = s[i];
    }
    tmp[m] = '\0';
    errno = 0;
    *out = strtod(tmp, &end);
    if (*end || isinf(*out))
        return -1; /* Go's ParseFloat reports overflow as an error: the value stays a string */
    return 0;
}

/*
 * A plain timestamp: the RFC 3339 string Go's encoding/json prints for the time.Time go-yaml v3
 * decodes. Returns 1 with *out set, 0 when `s` is no timestamp, or an error code when
 * kustomize would fail on it.
 */
static int resolve_timestamp(json_t **out, const char *s, size_t n, const char *name,
                             const yaml_mark_t *m)
{
    char buf[64];
    int r;

    *out = NULL;
    if (n < 8 || s[4] != '-')
        return 0;
    r = pl_yaml__timestamp(buf, sizeof(buf), s, n);
    if (r == 0)
        return 0;
    if (r < 0)
        return pl_error_set(PL_EINVALID,
                            "%s:%zu:%zu: timestamp %.*s: timezone hour outside of range [0,23]",
                            name, m->line + 1, m->column + 1, (int)(n > 40 ? 40 : n), s);
    if (!(*out = json_string(buf)))
        return pl_error_set(PL_ENOMEM, "out of memory");
    return 1;
}

/* Go's json encoder writes invalid UTF-8 bytes as U+FFFD, one per byte. */
static json_t *string_from_bytes(const unsigned char *p, size_t n)
{
    pl_buf b = PL_BUF_INIT;
    json_t *j;

    if ((j = json_stringn((const char *)p, n)) != NULL || n == 0)
        return j ? j : json_string("");
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        size_t w = c < 0x80               ? 1
                   : (c & 0xE0) == 0xC0 ? 2
                   : (c & 0xF0) == 0xE0 ? 3
                   : (c & 0xF8) == 0xF0 ? 4
                                        : 0;
        json_t *probe = w && i + w <= n ? json_stringn((const char *)p + i, w) : NULL;
        if (probe) {
            json_decref(probe);
            pl_buf_put(&b, p + i, w);
            i += w;
        } else {
            pl_buf_put(&b, "\xEF\xBF\xBD", 3);
            i++;
        }
    }
    j = b.ptr ? json_stringn(b.ptr, b.len) : NULL;
    pl_buf_dispose(&b);
    return j;
}

/* base64.StdEncoding.DecodeString: padding required, '\r' and '\n' ignored. */
static json_t *decode_binary(const char *s, size_t n, const char *name, const yaml_mark_t *m)
{
    unsigned char *out = pl_malloc(n / 4 * 3 + 3);
    size_t o = 0, q = 0, pad = 0;
    unsigned acc = 0;
    json_t *j = NULL;

    if (!out) {
        pl_error_set(PL_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int v;
        if (c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            pad++;
            v = 0;
        } else if (pad) {
            goto bad; /* data after padding */
        } else if (c >= 'A' && c <= 'Z') {
            v = c - 'A';
        } else if (c >= 'a' && c <= 'z') {
            v = c - 'a' + 26;
        } else if (c >= '0' && c <= '9') {
            v = c - '0' + 52;
        } else if (c == '+') {
            v = 62;
        } else if (c == '/') {
            v = 63;
        } else {
            goto bad;
        }
        acc = (acc << 6) | (unsigned)v;
        if (++q == 4) {
            if (pad > 2)
                goto bad;
            out[o++] = (unsigned char)(acc >> 16);
            if (pad < 2)
                out[o++] = (unsigned char)(acc >> 8);
            if (pad < 1)
                out[o++] = (unsigned char)acc;
            q = 0;
            acc = 0;
            if (pad)
                pad = 3; /* nothing may follow a padded quantum */
        }
    }
    if (q != 0)
        goto bad;
    j = string_from_bytes(out, o);
    pl_free(out);
    if (!j)
        pl_error_set(PL_ENOMEM, "out of memory");
    return j;
bad:
    pl_free(out);
    pl_error_set(PL_EINVALID, "%s:%zu:%zu: !!binary value contains invalid base64 data", name,
                 m->line + 1, m->column + 1);
    return NULL;
}

/*
 * Resolve a plain, untagged scalar the way go-yaml v3 does for interface{}.
 * Returns a new reference, or NULL with an error set.
 */
static json_t *resolve_plain(const char *s, size_t n, const char *name, const yaml_mark_t *m)
{
    long long iv;
    unsigned long long uv;
    double fv;
    char c = n ? s[0] : 'N';

    if (n == 0 || (n == 1 && s[0] == '~'))
        return json_null();
    switch (c) {
    case 't':
    case 'T':
        if ((n == 4 && (!memcmp(s, "true", 4) || !memcmp(s, "True", 4) || !memcmp(s, "TRUE", 4))))
            return json_true();
        break;
    case 'f':
    case 'F':
        if (n == 5 && (!memcmp(s, "false", 5) || !memcmp(s, "False", 5) || !memcmp(s, "FALSE", 5)))
            return json_false();
        break;
    case 'n':
    case 'N':
        if (n == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)))
            return json_null();
        break;
    case '.':
        if ((n == 4 && (!memcmp(s, ".inf", 4) || !memcmp(s, ".Inf", 4) || !memcmp(s, ".INF", 4) ||
                        !memcmp(s, ".nan", 4) || !memcmp(s, ".NaN", 4) || !memcmp(s, ".NAN", 4)))) {
            pl_error_set(PL_EINVALID, "%s:%zu:%zu: unsupported value %.*s (no JSON form)", name,
                         m->line + 1, m->column + 1, (int)n, s);
            return NULL;
        }
        if (yaml_style_float(s, n) && parse_float(s, n, &fv) == 0)
            return json_real(fv);
        break;
    case '+':
    case '-':
        if (n == 5 && s[1] == '.' &&
            (!memcmp(s + 1, ".inf", 4) || !memcmp(s + 1, ".Inf", 4) || !memcmp(s + 1, ".INF", 4))) {
            pl_error_set(PL_EINVALID, "%s:%zu:%zu: unsupported value %.*s (no JSON form)", name,
                         m->line + 1, m->column + 1, (int)n, s);
            return NULL;
        }
        /* fall through */
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9': {
        int r;
        if (c >= '0' && c <= '9') {
            json_t *t;
            if (resolve_timestamp(&t, s, n, name, m) != 0)
                return t;
        }
        r = parse_go_int(s, n, &iv, &uv);
        if (r == 0)
            return json_integer(iv);
        if (r == 1)
            return json_real((double)uv); /* beyond int64: jansson has no uint64 */
        {
            /* strip '_' for the float pattern as go-yaml does */
            char tmp[128];
            size_t k = 0;
            for (size_t i = 0; i < n && k + 1 < sizeof(tmp); i++)
                if (s[i] != '_')
                    tmp[k++] = s[i];
            if (n < sizeof(tmp) && yaml_style_float(tmp, k) && parse_float(tmp, k, &fv) == 0)
                return json_real(fv);
        }
        break;
    }
    default:
        break;
    }
    return json_stringn_nocheck(s, n);
}

/* `s` is one of three spellings (go-yaml v3's resolve table lists exactly these) */
static int is_word(const char *s, size_t n, const char *a, const char *b, const char *c)
{
    size_t len = strlen(a);
    return n == len && (!memcmp(s, a, n) || !memcmp(s, b, n) || !memcmp(s, c, n));
}

static int tag_is(const char *tag, const char *short_name)
{
    static const char prefix[] = "tag:yaml.org,2002:";
    if (!tag)
        return 0;
    if (!strncmp(tag, prefix, sizeof(prefix) - 1))
        return !strcmp(tag + sizeof(prefix) - 1, short_name);
    return tag[0] == '!' && tag[1] == '!' && !strcmp(tag + 2, short_name);
}

static json_t *make_scalar(reader *r, yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    long long iv;
    unsigned long long uv;
    double fv;

    if (tag && !(tag[0] == '!' && tag[1] == '\0')) {
        if (tag_is(tag, "str"))
            return json_stringn_nocheck(s, n);
        if (tag_is(tag, "binary"))
            return decode_binary(s, n, r->name, &ev->start_mark);
        if (tag_is(tag, "timestamp")) {
            json_t *t;
            if (resolve_timestamp(&t, s, n, r->name, &ev->start_mark) != 0)
                return t;
        } else if (tag_is(tag, "null")) {
            if (n == 0 || (n == 1 && s[0] == '~') || is_word(s, n, "null", "Null", "NULL"))
                return json_null();
        } else if (tag_is(tag, "bool")) {
            if (is_word(s, n, "true", "True", "TRUE"))
                return json_true();
            if (is_word(s, n, "false", "False", "FALSE"))
                return json_false();
        } else if (tag_is(tag, "int")) {
            if (parse_go_int(s, n, &iv, &uv) == 0)
                return json_integer(iv);
        } else if (tag_is(tag, "float")) {
            if (parse_go_int(s, n, &iv, &uv) == 0)
                return json_real((double)iv);
            if (yaml_style_float(s, n) && parse_float(s, n, &fv) == 0)
                return json_real(fv);
        } else {
            /* a tag go-yaml cannot resolve (!Ref, !!foo): the text, as a string */
            return json_stringn_nocheck(s, n);
        }
        pl_error_set(PL_EINVALID, "%s:%zu:%zu: cannot decode %.*s as %s", r->name,
                     ev->start_mark.line + 1, ev->start_mark.column + 1, (int)(n > 40 ? 40 : n), s,
                     tag);
        return NULL;
    }
    /* no tag, or the non-specific "!": plain text is resolved, quoted text is a string */
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return json_stringn_nocheck(s, n);
    return resolve_plain(s, n, r->name, &ev->start_mark);
}

static size_t count_nodes(const json_t *j)
{
    size_t n = 1;
    const char *k;
    json_t *v;
    size_t i;

    if (json_is_object(j)) {
        json_object_foreach((json_t *)j, k, v) n += count_nodes(v);
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v) n += count_nodes(v);
    }
    return n;
}

static int register_anchor(reader *r, char *name, json_t *node)
{
    anchor_ent *e;

    /* a later anchor of the same name shadows the earlier one */
    for (size_t i = 0; i < r->nanchors; i++) {
        if (!strcmp(r->anchors[i].name, name)) {
            json_decref(r->anchors[i].node);
            r->anchors[i].node = json_incref(node); /* held by the anchor table */
            r->anchors[i].count = count_nodes(node);
            pl_free(name);
            return 0;
        }
    }
    if (r->nanchors == r->anchors_cap) {
        size_t cap = r->anchors_cap ? r->anchors_cap * 2 : 8;
        anchor_ent *p = pl_realloc(r->anchors, cap * sizeof(*p));
        if (!p) {
            pl_free(name);
            return pl_error_set(PL_ENOMEM, "out of memory");
        }
        r->anchors = p;
        r->anchors_cap = cap;
    }
    e = &r->anchors[r->nanchors++];
    e->name = name;
    e->node = json_incref(node); /* held by the anchor table */
    e->count = count_nodes(node);
    return 0;
}

static void reset_anchors(reader *r)
{
    for (size_t i = 0; i < r->nanchors; i++) {
        pl_free(r->anchors[i].name);
        json_decref(r->anchors[i].node);
    }
    r->nanchors = 0;
}

/* merge `src` mapping into `dst` without overriding keys already present (YAML merge key) */
static int merge_into(reader *r, frame *f, json_t *src, const yaml_mark_t *m)
{
    const char *k;
    json_t *v;
    size_t i;

    if (json_is_array(src)) {
        json_array_foreach(src, i, v) {
            if (!json_is_object(v))
                goto bad;
            if (merge_into(r, f, v, m) < 0)
                return PL_EINVALID;
        }
        return 0;
    }
    if (!json_is_object(src))
        goto bad;
    json_object_foreach(src, k, v) {
        if (!json_object_get(f->node, k) && json_object_set(f->node, k, v) < 0)
            return pl_error_set(PL_ENOMEM, "out of memory");
    }
    return 0;
bad:
    return pl_error_set(PL_EINVALID,
                        "%s:%zu:%zu: map merge requires map or sequence of maps as the value",
                        r->name, m->line + 1, m->column + 1);
}

/* Attach a completed node (reference consumed) to the parent frame or the document. */
static int attach(reader *r, json_t *node, const yaml_mark_t *m, int is_scalar_key_candidate,
                  yaml_event_t *ev)
{
    frame *f;
    int error = 0;

    if (r->depth == 0) {
        r->doc = node;
        return 0;
    }
    f = &r->stack[r->depth - 1];
    if (json_is_array(f->node)) {
        if (json_array_append_new(f->node, node) < 0)
            return pl_error_set(PL_ENOMEM, "out of memory");
        return 0;
    }
    /* mapping */
    if (!f->has_key) {
        /* this node is a key: mappings use the key's source text */
        if (is_scalar_key_candidate) {
            error = set_key(r, f, (const char *)ev->data.scalar.value, ev->data.scalar.length);
            f->key_is_merge = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                              ev->data.scalar.length == 2 &&
                              !memcmp(ev->data.scalar.value, "<<", 2) && !ev->data.scalar.tag;
        } else if (json_is_string(node)) {
            error = set_key(r, f, json_string_value(node), strlen(json_string_value(node)));
            f->key_is_merge = 0;
        } else if (json_is_integer(node)) {
            char tmp[32];
            snprintf(tmp, sizeof(tmp), "%lld", json_integer_value(node));
            error = set_key(r, f, tmp, strlen(tmp));
            f->key_is_merge = 0;
        } else {
            json_decref(node);
            return pl_error_set(PL_EINVALID, "%s:%zu:%zu: mapping keys must be scalars", r->name,
                                m->line + 1, m->column + 1);
        }
        f->key_line = m->line;
        f->key_col = m->column;
        json_decref(node);
        return error;
    }
    if (f->key_is_merge) {
        if (!f->explicit_keys) {
            const char *k;
            json_t *v;
            f->explicit_keys = json_object();
            json_object_foreach(f->node, k, v) {
                json_object_set_new(f->explicit_keys, k, json_true());
            }
        }
        error = merge_into(r, f, node, m);
        json_decref(node);
    } else if (!f->explicit_keys && !r->dup_last_wins) {
        /* the common case: one hash operation; a repeated key shows as an unchanged size */
        size_t before = json_object_size(f->node);
        if (json_object_set_new_nocheck(f->node, frame_key(r, f), node) < 0)
            error = pl_error_set(PL_ENOMEM, "out of memory");
        else if (json_object_size(f->node) == before)
            error = pl_error_set(PL_EINVALID, "%s:%zu:%zu: mapping key \"%s\" already defined",
                                 r->name, f->key_line + 1, f->key_col + 1, frame_key(r, f));
    } else {
        const char *key = frame_key(r, f);
        json_t *prev = json_object_get(f->node, key);
        if (prev && !r->dup_last_wins &&
            (!f->explicit_keys || json_object_get(f->explicit_keys, key))) {
            error = pl_error_set(PL_EINVALID, "%s:%zu:%zu: mapping key \"%s\" already defined",
                                 r->name, f->key_line + 1, f->key_col + 1, key);
            json_decref(node);
        } else {
            if (f->explicit_keys)
                json_object_set_new_nocheck(f->explicit_keys, key, json_true());
            if (json_object_set_new_nocheck(f->node, key, node) < 0)
                error = pl_error_set(PL_ENOMEM, "out of memory");
        }
    }
    drop_key(r, f);
    return error;
}

static int push(reader *r, json_t *node, yaml_char_t *anchor, const yaml_mark_t *m)
{
    frame *f;

    if (r->depth >= MAX_DEPTH) {
        json_decref(node);
        return pl_error_set(PL_ETOOBIG, "%s:%zu:%zu: nesting deeper than %d levels", r->name,
                            m->line + 1, m->column + 1, MAX_DEPTH);
    }
    if (r->depth == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        frame *p = pl_realloc(r->stack, cap * sizeof(*p));
        if (!p) {
            json_decref(node);
            return pl_error_set(PL_ENOMEM, "out of memory");
        }
        r->stack = p;
        r->cap = cap;
    }
    f = &r->stack[r->depth++];
    memset(f, 0, sizeof(*f));
    f->node = node;
    f->anchor = anchor ? pl_strdup((const char *)anchor) : NULL;
    return 0;
}

static void unwind(reader *r)
{
    while (r->depth) {
        frame *f = &r->stack[--r->depth];
        json_decref(f->node);
        json_decref(f->explicit_keys);
        pl_free(f->anchor);
    }
}

static int fail_parser(reader *r, yaml_parser_t *p)
{
    const yaml_mark_t *m = p->problem ? &p->problem_mark : &p->context_mark;
    return pl_error_set(PL_EINVALID, "%s:%zu:%zu: %s%s%s", r->name, m->line + 1, m->column + 1,
                        p->problem ? p->problem : "invalid YAML", p->context ? " " : "",
                        p->context ? p->context : "");
}

/* Turn one parser event into JSON (shared by the libyaml path and the fast path). */
static int handle_event(reader *r, yaml_event_t *ev, int *done)
{
    int error = 0;

    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        *done = 1;
        break;
    case YAML_DOCUMENT_START_EVENT:
        r->doc = NULL;
        reset_anchors(r);
        break;
    case YAML_DOCUMENT_END_EVENT:
        /* empty and null documents are not resources */
        if (r->doc && !json_is_null(r->doc)) {
            if (json_array_append_new(r->docs, r->doc) < 0)
                error = pl_error_set(PL_ENOMEM, "out of memory");
        } else {
            json_decref(r->doc);
        }
        r->doc = NULL;
        break;
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT: {
        int is_map = ev->type == YAML_MAPPING_START_EVENT;
        json_t *node = is_map ? json_object() : json_array();
        if (!node) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            break;
        }
        error = push(r, node,
                     is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor,
                     &ev->start_mark);
        break;
    }
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT: {
        frame f = r->stack[--r->depth];
        drop_key(r, &f);
        json_decref(f.explicit_keys);
        if (f.anchor)
            error = register_anchor(r, f.anchor, f.node);
        if (error == 0)
            error = attach(r, f.node, &ev->start_mark, 0, ev);
        else
            json_decref(f.node);
        break;
    }
    case YAML_SCALAR_EVENT: {
        json_t *node;
        frame *f = r->depth ? &r->stack[r->depth - 1] : NULL;
        int is_key = f && json_is_object(f->node) && !f->has_key;
        /* keys keep their text; build a cheap placeholder for them */
        node = is_key ? json_null() : make_scalar(r, ev);
        if (!node) {
            error = pl_error_last()->code ? pl_error_last()->code : PL_ENOMEM;
            break;
        }
        if (ev->data.scalar.anchor && !is_key) {
            error = register_anchor(r, pl_strdup((const char *)ev->data.scalar.anchor), node);
            if (error < 0) {
                json_decref(node);
                break;
            }
        }
        error = attach(r, node, &ev->start_mark, is_key, ev);
        break;
    }
    case YAML_ALIAS_EVENT: {
        anchor_ent *a = NULL;
        json_t *copy;
        for (size_t i = 0; i < r->nanchors; i++)
            if (!strcmp(r->anchors[i].name, (const char *)ev->data.alias.anchor))
                a = &r->anchors[i];
        if (!a) {
            error = pl_error_set(PL_EINVALID, "%s:%zu:%zu: unknown anchor '%s' referenced",
                                 r->name, ev->start_mark.line + 1, ev->start_mark.column + 1,
                                 (const char *)ev->data.alias.anchor);
            break;
        }
        r->alias_nodes += a->count;
        if (r->alias_nodes > r->max_alias_nodes) {
            error = pl_error_set(PL_ETOOBIG,
                                 "%s:%zu:%zu: YAML aliases expand to more than %zu nodes "
                                 "(alias bomb?)",
                                 r->name, ev->start_mark.line + 1, ev->start_mark.column + 1,
                                 r->max_alias_nodes);
            break;
        }
        {
            frame *f = r->depth ? &r->stack[r->depth - 1] : NULL;
            if (f && json_is_object(f->node) && !f->has_key && json_is_string(a->node)) {
                /* alias used as a key */
                error = set_key(r, f, json_string_value(a->node),
                                strlen(json_string_value(a->node)));
                f->key_is_merge = 0;
                f->key_line = ev->start_mark.line;
                f->key_col = ev->start_mark.column;
                break;
            }
        }
        copy = json_deep_copy(a->node);
        if (!copy) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            break;
        }
        error = attach(r, copy, &ev->start_mark, 0, ev);
        break;
    }
    default:
        break;
    }
    return error;
}

#include "yaml_fast.inc"

int pl_yaml_parse(json_t **out, const char *data, size_t len, const char *name,
                  const pl_yaml_opts *opts)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    reader r;
    int error = 0, done = 0;
    size_t max_bytes = opts && opts->max_bytes ? opts->max_bytes : DEFAULT_MAX_BYTES;

    *out = NULL;
    memset(&r, 0, sizeof(r));
    r.name = name ? name : "<input>";
    r.max_alias_nodes = opts && opts->max_nodes ? opts->max_nodes : DEFAULT_MAX_ALIAS_NODES;
    r.dup_last_wins = opts && opts->duplicate_keys_last_wins;
    if (len > max_bytes)
        return pl_error_set(PL_ETOOBIG, "%s: larger than %zu bytes", r.name, max_bytes);
    if (!(r.docs = json_array()))
        return pl_error_set(PL_ENOMEM, "out of memory");

    /* most manifests are plain block YAML: try the fast scanner, libyaml for anything else */
    if (!(opts && opts->no_fast_path) && fast_parse(&r, data, len) == 0) {
        unwind(&r);
        pl_buf_dispose(&r.keys);
        reset_anchors(&r);
        pl_free(r.anchors);
        pl_free(r.stack);
        *out = r.docs;
        return 0;
    }
    unwind(&r);
    pl_buf_clear(&r.keys);
    reset_anchors(&r);
    r.alias_nodes = 0;
    json_decref(r.doc);
    r.doc = NULL;
    json_decref(r.docs);
    if (!(r.docs = json_array()))
        return pl_error_set(PL_ENOMEM, "out of memory");
    pl_error_clear();

    if (!yaml_parser_initialize(&parser)) {
        json_decref(r.docs);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);

    while (!done && error == 0) {
        if (!yaml_parser_parse(&parser, &ev)) {
            error = fail_parser(&r, &parser);
            break;
        }
        error = handle_event(&r, &ev, &done);
        yaml_event_delete(&ev);
    }

    unwind(&r);
    pl_buf_dispose(&r.keys);
    reset_anchors(&r);
    pl_free(r.anchors);
    pl_free(r.stack);
    yaml_parser_delete(&parser);
    if (error < 0) {
        json_decref(r.doc);
        json_decref(r.docs);
        return error;
    }
    *out = r.docs;
    return 0;
}
