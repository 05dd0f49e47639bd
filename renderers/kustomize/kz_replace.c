/*
 * kz_replace.c - ReplacementTransformer (`replacements:`) and legacy `vars:`.
 *
 * Replacements copy one field of a source resource into fields of target resources. The
 * field paths use kyaml's syntax (kyaml/utils SmarterPathSplitter): dot-separated parts,
 * `\.` escapes, `[a.b/c]` map keys with dots, `[name=value]` list element selectors, numeric
 * indexes and (targets only) `*` wildcards. The source is read with kyaml's PathGetter
 * (exact `[name=value]` match, `-` = last element); targets are found with kyaml's
 * PathMatcher (`[name=value]` is an unanchored regex, `*` visits every element, `create`
 * makes missing parts). Target resources are chosen with anchored regexes on the current and
 * previous ids (api/types TargetSelectorRegex), the source with exact id matching
 * (resid.IsSelectedBy). This follows api/filters/replacement/replacement.go of kustomize v5.8.
 *
 * Types follow kyaml's node model: a scalar target keeps its YAML tag and only receives the
 * source's text, then the tree is serialized and re-read (go-yaml v3 encode/decode), so a
 * string target stays a string, an int target needs int text ("cannot decode ..." otherwise)
 * and a field created by `create: true` is untagged, so its text is resolved afresh ("5"
 * becomes 5). Maps, lists, and scalars copied over maps/lists keep the source's type.
 *
 * Vars ($(NAME) in varReference fields) follow api/internal/accumulator (MergeVars,
 * ResolveVars) and api/filters/refvar (expansion with `$$` escapes, whole-field references
 * keep the var's type).
 *
 * Not done here: loading kustomization files (kz_build.c), label selector parsing
 * (pl_kz_selector_match in kz_patch.c), field spec walking (kz_fieldspec.c).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kz.h"

/* ---- small helpers ----------------------------------------------------------------------- */

/*
 * Object member lookup the way encoding/json fills a Go struct: exact key first, then a
 * case-insensitive match (kustomize's own tests write `fieldpath:` for `fieldPath:`).
 */
static json_t *cfg_get(const json_t *o, const char *key)
{
    const char *k;
    json_t *v;

    if (!json_is_object(o))
        return NULL;
    if ((v = json_object_get(o, key)))
        return v;
    json_object_foreach((json_t *)o, k, v)
    {
        if (!strcasecmp(k, key))
            return v;
    }
    return NULL;
}

/* string member, "" when absent or null; PL_EINVALID when present with another type */
static int cfg_str(const char **out, const json_t *o, const char *key)
{
    json_t *v = cfg_get(o, key);

    *out = "";
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return pl_error_set(PL_EINVALID, "replacement field '%s' must be a string", key);
    *out = json_string_value(v);
    return 0;
}

static int oom(void)
{
    return pl_error_set(PL_ENOMEM, "out of memory");
}

/* Go's strconv.Atoi: optional sign, at least one digit, nothing else, fits in 64 bits */
static int go_atoi(const char *s, long long *out)
{
    const char *p = s;
    char *end;

    if (*p == '+' || *p == '-')
        p++;
    if (!*p)
        return -1;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return -1;
    errno = 0;
    *out = strtoll(s, &end, 10);
    return errno || *end ? -1 : 0;
}

/* Go's strings.Split(s, sep) for a non-empty sep (always at least one piece) */
static json_t *split_str(const char *s, const char *sep)
{
    json_t *a = json_array();
    size_t seplen = strlen(sep);
    const char *p = s;

    if (!a)
        return NULL;
    for (;;) {
        const char *c = strstr(p, sep);
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (json_array_append_new(a, json_stringn(p, n)) < 0) {
            json_decref(a);
            return NULL;
        }
        if (!c)
            break;
        p = c + seplen;
    }
    return a;
}

/* "apps/v1" -> group "apps", version "v1"; "builtin" is a group (resid.ParseGroupVersion) */
static void parse_gv(const char *av, char *g, size_t gsz, const char **v)
{
    const char *slash = strchr(av, '/');
    size_t n = 0;

    if (slash) {
        n = (size_t)(slash - av);
        *v = slash + 1;
    } else if (!strcmp(av, "builtin")) {
        n = strlen(av);
        *v = "";
    } else {
        *v = av;
    }
    if (n >= gsz)
        n = gsz - 1;
    memcpy(g, av, n);
    g[n] = '\0';
}

/* ---- scalar model: kyaml node tag + text ----------------------------------------------------- */

enum { T_NONE = 0, T_STR, T_INT, T_FLOAT, T_BOOL, T_NULL, T_MAP, T_SEQ };

static const char *const tag_names[] = {"", "str", "int", "float", "bool", "null", "map", "seq"};

static int json_tag(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return T_STR;
    case JSON_INTEGER:
        return T_INT;
    case JSON_REAL:
        return T_FLOAT;
    case JSON_TRUE:
    case JSON_FALSE:
        return T_BOOL;
    case JSON_OBJECT:
        return T_MAP;
    case JSON_ARRAY:
        return T_SEQ;
    case JSON_NULL:
    default:
        return T_NULL;
    }
}

static int is_scalar_tag(int t)
{
    return t != T_MAP && t != T_SEQ;
}

/* shortest "%g"-style digits that read back as f (the YAML text of a float) */
static void float_text(char *out, size_t outsz, double f)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, outsz, "%.*g", prec, f);
        if (strtod(out, NULL) == f)
            return;
    }
}

/*
 * The text kyaml keeps in Node.Value for a scalar (owned). The reader already resolved the
 * YAML, so an int written as 0x1F comes back as "31": the original spelling is not kept.
 * Maps and lists have no text ("").
 */
static char *scalar_text(const json_t *v)
{
    char tmp[64];

    switch (json_typeof(v)) {
    case JSON_STRING:
        return pl_strndup(json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        snprintf(tmp, sizeof(tmp), "%lld", (long long)json_integer_value(v));
        return pl_strdup(tmp);
    case JSON_REAL:
        float_text(tmp, sizeof(tmp), json_real_value(v));
        return pl_strdup(tmp);
    case JSON_TRUE:
        return pl_strdup("true");
    case JSON_FALSE:
        return pl_strdup("false");
    case JSON_NULL:
        return pl_strdup("null");
    default:
        return pl_strdup("");
    }
}

/*
 * go-yaml v3 resolve("", text): the type an untagged plain scalar with this text gets.
 * Only texts made of [A-Za-z0-9._+~-] can be anything but a string, so the YAML reader is
 * consulted for those alone. New reference; NULL on OOM.
 */
static json_t *resolve_plain(const char *text)
{
    size_t n = strlen(text);
    json_t *docs = NULL, *v = NULL;

    if (n == 0)
        return json_null();
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if (!isalnum(c) && !strchr("._+~-", c))
            return json_stringn(text, n);
    }
    if (pl_yaml_parse(&docs, text, n, "value", NULL) == 0 && json_array_size(docs) == 1) {
        json_t *d = json_array_get(docs, 0);
        if (!json_is_object(d) && !json_is_array(d))
            v = json_incref(d); /* the caller holds this reference */
    }
    pl_error_clear();
    json_decref(docs);
    return v ? v : json_stringn(text, n);
}

/*
 * What a scalar node tagged `tag` holding `text` reads back as after kustomize's
 * serialize/re-read round trip (go-yaml v3 encoder drops a tag the text already implies,
 * quotes strings that would resolve otherwise, and the decoder rejects a tag the text cannot
 * have). `what` names the resource for the error. New reference in *out.
 */
static int resolve_tagged(json_t **out, int tag, const char *text, const char *what)
{
    json_t *r;
    int rt;

    *out = NULL;
    if (tag == T_STR) {
        if (!(*out = json_string(text)))
            return oom();
        return 0;
    }
    if (tag == T_NONE) {
        if (!(*out = resolve_plain(text)))
            return oom();
        return 0;
    }
    if (!(r = resolve_plain(text)))
        return oom();
    rt = json_tag(r);
    if (rt == tag) {
        *out = r;
        return 0;
    }
    if (tag == T_FLOAT && rt == T_INT) {
        *out = json_real((double)json_integer_value(r));
        json_decref(r);
        return *out ? 0 : oom();
    }
    json_decref(r);
    return pl_error_set(PL_EINVALID, "%s: yaml: cannot decode !!%s `%s` as a !!%s", what,
                        tag_names[rt], text, tag_names[tag]);
}

/* ---- regexes (Go RE2 syntax, run with PCRE2) ------------------------------------------------ */

static void *rx_malloc(PCRE2_SIZE n, void *data)
{
    (void)data;
    return pl_malloc(n);
}

static void rx_free(void *p, void *data)
{
    (void)data;
    pl_free(p);
}

typedef struct rxenv {
    pcre2_general_context *gctx;
    pcre2_compile_context *cctx;
    pcre2_match_data *md;
} rxenv;

static int rxenv_init(rxenv *e)
{
    memset(e, 0, sizeof(*e));
    if (!(e->gctx = pcre2_general_context_create(rx_malloc, rx_free, NULL)) ||
        !(e->cctx = pcre2_compile_context_create(e->gctx)) ||
        !(e->md = pcre2_match_data_create(4, e->gctx)))
        return oom();
    return 0;
}

static void rxenv_dispose(rxenv *e)
{
    pcre2_match_data_free(e->md);
    pcre2_compile_context_free(e->cctx);
    pcre2_general_context_free(e->gctx);
    memset(e, 0, sizeof(*e));
}

/*
 * Compile `pat`; anchored wraps it as kustomize's anchorRegex does ("^(?:pat)$").
 * `$` is end-of-text only, as in Go.
 */
static int rx_compile(pcre2_code **out, rxenv *e, const char *pat, int anchored)
{
    pl_buf b = PL_BUF_INIT;
    int errcode;
    PCRE2_SIZE erroff;
    int error = 0;

    *out = NULL;
    if (anchored)
        error = pl_buf_printf(&b, "^(?:%s)$", pat);
    else
        error = pl_buf_puts(&b, pat);
    if (error < 0)
        goto done;
    *out = pcre2_compile((PCRE2_SPTR)(b.ptr ? b.ptr : ""), b.len,
                         PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY, &errcode,
                         &erroff, e->cctx);
    if (!*out) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(errcode, msg, sizeof(msg));
        error = pl_error_set(PL_EINVALID, "error parsing regexp: %s: `%s`", (const char *)msg, pat);
    }
done:
    pl_buf_dispose(&b);
    return error;
}

static int rx_match(rxenv *e, const pcre2_code *re, const char *s)
{
    return pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, e->md, NULL) >= 0;
}

/* ---- field paths (kyaml SmarterPathSplitter) ------------------------------------------------ */

enum { P_FIELD, P_INDEX, P_LIST, P_WILD };

typedef struct path_part {
    char *s;        /* the part as split */
    int type;       /* P_* as PathMatcher sees it */
    long long idx;  /* P_INDEX */
    char *lname;    /* P_LIST: field name ("" = primitive elements) */
    char *lvalue;   /* P_LIST: value (PathMatcher: regex) or NULL when malformed */
    pcre2_code *rx; /* compiled lvalue, on first use */
} path_part;

typedef struct fpath {
    path_part *v;
    size_t n;
} fpath;

static void fpath_dispose(fpath *p)
{
    for (size_t i = 0; i < p->n; i++) {
        pl_free(p->v[i].s);
        pl_free(p->v[i].lname);
        pl_free(p->v[i].lvalue);
        pcre2_code_free(p->v[i].rx);
    }
    pl_free(p->v);
    memset(p, 0, sizeof(*p));
}

static int is_list_index(const char *s)
{
    size_t n = strlen(s);
    return n >= 2 && s[0] == '[' && s[n - 1] == ']';
}

static int fpath_push(fpath *p, char *s)
{
    path_part *v;
    path_part *pp;
    long long idx;

    if (!s)
        return oom();
    if (!(v = pl_realloc(p->v, (p->n + 1) * sizeof(*v)))) {
        pl_free(s);
        return oom();
    }
    p->v = v;
    pp = &p->v[p->n++];
    memset(pp, 0, sizeof(*pp));
    pp->s = s;
    if (go_atoi(s, &idx) == 0 && idx >= 0) {
        pp->type = P_INDEX;
        pp->idx = idx;
    } else if (is_list_index(s)) {
        const char *eq = strchr(s, '=');
        size_t n = strlen(s);
        pp->type = P_LIST;
        if (eq) {
            if (!(pp->lname = pl_strndup(s + 1, (size_t)(eq - s - 1))) ||
                !(pp->lvalue = pl_strndup(eq + 1, (size_t)(s + n - 1 - eq - 1))))
                return oom();
        }
    } else if (!strcmp(s, "*")) {
        pp->type = P_WILD;
    } else {
        pp->type = P_FIELD;
    }
    return 0;
}

/*
 * Split like kyaml's SmarterPathSplitter(path, "."): `\.` joins, a part opening with '['
 * runs to the part closing with ']' and keeps its brackets when it holds '=' (list element
 * selector), else loses them (a map key containing dots).
 */
static int fpath_parse(fpath *out, const char *path)
{
    json_t *raw = NULL, *pieces = split_str(path, ".");
    size_t i, n;
    int error = 0;

    memset(out, 0, sizeof(*out));
    if (!pieces || !(raw = json_array())) {
        error = oom();
        goto done;
    }
    /* PathSplitter: a piece ending in '\' swallows the next one */
    n = json_array_size(pieces);
    for (i = 0; i < n; i++) {
        const char *p = json_string_value(json_array_get(pieces, i));
        size_t last = json_array_size(raw);
        const char *prev = last ? json_string_value(json_array_get(raw, last - 1)) : NULL;
        size_t plen = prev ? strlen(prev) : 0;
        if (prev && plen && prev[plen - 1] == '\\') {
            pl_buf b = PL_BUF_INIT;
            if (pl_buf_put(&b, prev, plen - 1) < 0 || pl_buf_putc(&b, '.') < 0 ||
                pl_buf_puts(&b, p) < 0 ||
                json_array_set_new(raw, last - 1, json_string(b.ptr)) < 0) {
                pl_buf_dispose(&b);
                error = oom();
                goto done;
            }
            pl_buf_dispose(&b);
        } else if (json_array_append_new(raw, json_string(p)) < 0) {
            error = oom();
            goto done;
        }
    }
    n = json_array_size(raw);
    for (i = 0; i < n; i++) {
        const char *e = json_string_value(json_array_get(raw, i));
        size_t elen = strlen(e);
        if (e[0] == '[' && !(elen && e[elen - 1] == ']')) {
            pl_buf b = PL_BUF_INIT;
            const char *s, *t;
            if ((error = pl_buf_puts(&b, e)) < 0)
                goto done;
            while (i < n - 1) {
                const char *nx = json_string_value(json_array_get(raw, ++i));
                size_t nlen = strlen(nx);
                if ((error = pl_buf_putc(&b, '.')) < 0 || (error = pl_buf_puts(&b, nx)) < 0) {
                    pl_buf_dispose(&b);
                    goto done;
                }
                if (nlen && nx[nlen - 1] == ']')
                    break;
            }
            if (strchr(b.ptr, '=')) {
                error = fpath_push(out, pl_buf_detach(&b));
            } else {
                /* strings.Trim(s, "[]") */
                s = b.ptr;
                t = b.ptr + b.len;
                while (s < t && (*s == '[' || *s == ']'))
                    s++;
                while (t > s && (t[-1] == '[' || t[-1] == ']'))
                    t--;
                error = fpath_push(out, pl_strndup(s, (size_t)(t - s)));
                pl_buf_dispose(&b);
            }
        } else {
            error = fpath_push(out, pl_strdup(e));
        }
        if (error < 0)
            goto done;
    }
done:
    json_decref(pieces);
    json_decref(raw);
    if (error < 0)
        fpath_dispose(out);
    return error;
}

/* compile a list part's regex on first use (PathMatcher compiles it per visit) */
static int part_rx(path_part *pp, rxenv *e)
{
    if (pp->rx)
        return 0;
    return rx_compile(&pp->rx, e, pp->lvalue, 0);
}

static const char *kind_name(const json_t *v)
{
    if (json_is_object(v))
        return "MappingNode";
    if (json_is_array(v))
        return "SequenceNode";
    return "ScalarNode";
}

static int wrong_kind(const char *want, const json_t *got)
{
    return pl_error_set(PL_EINVALID, "wrong node kind: expected %s but got %s", want,
                        kind_name(got));
}

/* the text of a scalar for `[name=value]` comparisons (non-scalars have none) */
static int scalar_eq(const json_t *v, const char *want)
{
    char *t;
    int eq;

    if (json_is_object(v) || json_is_array(v))
        return !*want;
    if (json_is_string(v))
        return !strcmp(json_string_value(v), want);
    if (!(t = scalar_text(v)))
        return 0;
    eq = !strcmp(t, want);
    pl_free(t);
    return eq;
}

/*
 * kyaml PathGetter (yaml.Lookup) over parts[0..n): borrowed result or NULL when absent.
 * Parts are trimmed and empty ones dropped first (cleanPath).
 */
static int path_get(json_t **out, json_t *node, char *const *parts, size_t n)
{
    json_t *cur = node;

    *out = NULL;
    for (size_t i = 0; i < n && cur; i++) {
        const char *raw = parts[i];
        char part[512];
        size_t len;
        long long idx;

        while (isspace((unsigned char)*raw))
            raw++;
        len = strlen(raw);
        while (len && isspace((unsigned char)raw[len - 1]))
            len--;
        if (!len)
            continue;
        if (len >= sizeof(part))
            return 0;
        memcpy(part, raw, len);
        part[len] = '\0';
        if (go_atoi(part, &idx) == 0) {
            if (idx < 0)
                return pl_error_set(PL_EINVALID, "array index %lld cannot be negative", idx);
            if (json_is_null(cur))
                return 0;
            if (!json_is_array(cur))
                return wrong_kind("SequenceNode", cur);
            cur = json_array_get(cur, (size_t)idx);
        } else if (!strcmp(part, "-")) {
            if (json_is_null(cur))
                return 0;
            if (!json_is_array(cur))
                return wrong_kind("SequenceNode", cur);
            cur = json_array_size(cur) ? json_array_get(cur, json_array_size(cur) - 1) : NULL;
        } else if (is_list_index(part)) {
            char *eq = strchr(part, '=');
            const char *name, *value;
            json_t *found = NULL, *e;
            size_t k;
            if (!eq)
                return pl_error_set(PL_EINVALID, "list path element must contain "
                                                 "fieldName=fieldValue for element to match");
            part[len - 1] = '\0';
            *eq = '\0';
            name = part + 1;
            value = eq + 1;
            if (json_is_null(cur))
                return 0;
            if (!json_is_array(cur))
                return wrong_kind("SequenceNode", cur);
            json_array_foreach(cur, k, e)
            {
                if (!*name) {
                    if (scalar_eq(e, value)) {
                        found = e;
                        break;
                    }
                } else if (json_is_object(e)) {
                    json_t *f = json_object_get(e, name);
                    if (f && !json_is_null(f) && scalar_eq(f, value)) {
                        found = e;
                        break;
                    }
                }
            }
            cur = found;
        } else {
            if (json_is_null(cur))
                return 0;
            if (!json_is_object(cur))
                return wrong_kind("MappingNode", cur);
            cur = json_object_get(cur, part);
        }
    }
    *out = cur;
    return 0;
}

/* ---- resource ids ---------------------------------------------------------------------------- */

typedef struct resid {
    char group[256];
    const char *version, *kind, *name, *ns; /* borrowed */
} resid;

typedef struct resids {
    resid *v;
    size_t n;
    json_t *hold; /* owned: split annotation strings the previous ids point into */
} resids;

static void resids_dispose(resids *ids)
{
    pl_free(ids->v);
    json_decref(ids->hold);
    memset(ids, 0, sizeof(*ids));
}

/*
 * Current id plus the previous ids recorded in the build annotations
 * (api/internal/utils MakeResIds). Previous ids take the current group/version.
 */
static int make_resids(resids *out, const pl_kz_res *r)
{
    const char *pn = pl_kz_res_annotation(r, PL_KZ_ANN_PREV_NAMES);
    const char *pns = pl_kz_res_annotation(r, PL_KZ_ANN_PREV_NAMESPACES);
    const char *pk = pl_kz_res_annotation(r, PL_KZ_ANN_PREV_KINDS);
    json_t *names = NULL, *nss = NULL, *kinds = NULL;
    size_t n = 0;
    int error = 0;

    memset(out, 0, sizeof(*out));
    if (pn) {
        names = split_str(pn, ",");
        nss = split_str(pns ? pns : "", ",");
        kinds = split_str(pk ? pk : "", ",");
        if (!names || !nss || !kinds || !(out->hold = json_pack("[ooo]", names, nss, kinds))) {
            json_decref(names);
            json_decref(nss);
            json_decref(kinds);
            return oom();
        }
        n = json_array_size(names);
        if (n != json_array_size(nss) || n != json_array_size(kinds)) {
            error = pl_error_set(PL_EINVALID, "number of previous names, number of previous "
                                              "namespaces, number of previous kinds not equal");
            goto fail;
        }
    }
    if (!(out->v = pl_calloc(n + 1, sizeof(*out->v)))) {
        error = oom();
        goto fail;
    }
    parse_gv(pl_kz_res_api_version(r), out->v[0].group, sizeof(out->v[0].group),
             &out->v[0].version);
    out->v[0].kind = pl_kz_res_kind(r);
    out->v[0].name = pl_kz_res_name(r);
    out->v[0].ns = pl_kz_res_namespace(r);
    for (size_t i = 0; i < n; i++) {
        resid *id = &out->v[i + 1];
        memcpy(id->group, out->v[0].group, sizeof(id->group));
        id->version = out->v[0].version;
        id->name = json_string_value(json_array_get(names, i));
        id->ns = json_string_value(json_array_get(nss, i));
        id->kind = json_string_value(json_array_get(kinds, i));
    }
    out->n = n + 1;
    return 0;
fail:
    resids_dispose(out);
    return error;
}

static const char *eff_ns(const char *ns)
{
    return !*ns || !strcmp(ns, "default") ? "default" : ns;
}

/* ResId.String(): Kind.Version.Group/name.namespace with kustomize's placeholders */
static int resid_string(pl_buf *b, const char *g, const char *v, const char *k, const char *name,
                        const char *ns)
{
    return pl_buf_printf(b, "%s.%s.%s/%s.%s", *k ? k : "[noKind]", *v ? v : "[noVer]",
                         *g ? g : "[noGrp]", *name ? name : "[noName]", *ns ? ns : "[noNs]");
}

/* ---- replacement configuration -------------------------------------------------------------- */

typedef struct fopts {
    const char *delimiter; /* "" = none */
    long long index;
    int create;
    int present; /* options given (for the selector's string form) */
} fopts;

static int parse_opts(fopts *o, const json_t *j)
{
    json_t *v;
    int error;

    memset(o, 0, sizeof(*o));
    o->delimiter = "";
    if (!j || json_is_null(j))
        return 0;
    if (!json_is_object(j))
        return pl_error_set(PL_EINVALID, "replacement options must be a map");
    o->present = 1;
    if ((error = cfg_str(&o->delimiter, j, "delimiter")) < 0)
        return error;
    if ((v = cfg_get(j, "index")) && !json_is_null(v)) {
        if (!json_is_integer(v))
            return pl_error_set(PL_EINVALID, "replacement options.index must be an integer");
        o->index = json_integer_value(v);
    }
    if ((v = cfg_get(j, "create")) && !json_is_null(v)) {
        if (!json_is_boolean(v))
            return pl_error_set(PL_EINVALID, "replacement options.create must be a boolean");
        o->create = json_is_true(v);
    }
    return 0;
}

/* a selector's id part, compiled (TargetSelectorRegex); NULL regex = field not given */
typedef struct sel {
    const char *group, *version, *kind, *name, *ns;
    const char *label_sel, *anno_sel;
    pcre2_code *rg, *rv, *rk, *rn, *rns;
} sel;

static void sel_dispose(sel *s)
{
    pcre2_code_free(s->rg);
    pcre2_code_free(s->rv);
    pcre2_code_free(s->rk);
    pcre2_code_free(s->rn);
    pcre2_code_free(s->rns);
    memset(s, 0, sizeof(*s));
}

static int sel_parse(sel *s, const json_t *j)
{
    int error;

    memset(s, 0, sizeof(*s));
    if ((error = cfg_str(&s->group, j, "group")) < 0 ||
        (error = cfg_str(&s->version, j, "version")) < 0 ||
        (error = cfg_str(&s->kind, j, "kind")) < 0 || (error = cfg_str(&s->name, j, "name")) < 0 ||
        (error = cfg_str(&s->ns, j, "namespace")) < 0 ||
        (error = cfg_str(&s->label_sel, j, "labelSelector")) < 0 ||
        (error = cfg_str(&s->anno_sel, j, "annotationSelector")) < 0)
        return error;
    return 0;
}

static int sel_id_empty(const sel *s)
{
    return !*s->group && !*s->version && !*s->kind && !*s->name && !*s->ns;
}

static int sel_compile(sel *s, rxenv *e)
{
    int error = 0;

    if ((*s->group && (error = rx_compile(&s->rg, e, s->group, 1)) < 0) ||
        (*s->version && (error = rx_compile(&s->rv, e, s->version, 1)) < 0) ||
        (*s->kind && (error = rx_compile(&s->rk, e, s->kind, 1)) < 0) ||
        (*s->name && (error = rx_compile(&s->rn, e, s->name, 1)) < 0) ||
        (*s->ns && (error = rx_compile(&s->rns, e, s->ns, 1)) < 0))
        return pl_error_prefix("error creating target selector");
    return error;
}

/* SelectorRegex MatchGvk && MatchName && MatchNamespace (raw namespace) */
static int sel_rx_match(const sel *s, rxenv *e, const resid *id)
{
    return (!s->rg || rx_match(e, s->rg, id->group)) &&
           (!s->rv || rx_match(e, s->rv, id->version)) &&
           (!s->rk || rx_match(e, s->rk, id->kind)) && (!s->rn || rx_match(e, s->rn, id->name)) &&
           (!s->rns || rx_match(e, s->rns, id->ns));
}

/* label/annotation part of a selector, via the shared selector code; 1 when both match */
static int sel_labels_match(const sel *s, const pl_kz_res *r)
{
    json_t *j;
    int m;

    if (!*s->label_sel && !*s->anno_sel)
        return 1;
    if (!(j = json_object()))
        return oom();
    if ((*s->label_sel && json_object_set_new(j, "labelSelector", json_string(s->label_sel)) < 0) ||
        (*s->anno_sel &&
         json_object_set_new(j, "annotationSelector", json_string(s->anno_sel)) < 0)) {
        json_decref(j);
        return oom();
    }
    m = pl_kz_selector_match(j, r);
    json_decref(j);
    return m;
}

/* ---- the value being copied ----------------------------------------------------------------- */

/*
 * The source value. Without a source delimiter kyaml keeps a pointer to the live source node,
 * so a target that rewrites that very scalar changes what later targets receive: `live`
 * follows such rewrites. With a delimiter the value is a detached copy (tag + refined text).
 */
typedef struct rval {
    json_t *live; /* owned reference, or NULL when detached */
    int tag;      /* detached: tag of the source */
    char *text;   /* detached: refined text */
} rval;

static void rval_dispose(rval *v)
{
    json_decref(v->live);
    pl_free(v->text);
    memset(v, 0, sizeof(*v));
}

static int rval_tag(const rval *v)
{
    return v->live ? json_tag(v->live) : v->tag;
}

static char *rval_text(const rval *v)
{
    return v->live ? scalar_text(v->live) : pl_strdup(v->text);
}

/* ---- target matching (kyaml PathMatcher) ---------------------------------------------------- */

enum { K_NONE = 0, K_SCALAR, K_MAP, K_SEQ };

typedef struct tmatch {
    json_t *parent;  /* borrowed: object or array holding the field */
    const char *key; /* object key (borrowed from the path) or NULL */
    size_t idx;      /* array index */
    int created;     /* untagged scalar made by `create` */
} tmatch;

typedef struct pm {
    fpath *fp;
    rxenv *rx;
    int create; /* K_* kind of the leaf to create, K_NONE = no create */
    tmatch *v;
    size_t n, cap;
    json_t *scratch; /* detached containers (kyaml writes into a null node and loses it) */
} pm;

static int pm_add(pm *p, json_t *parent, const char *key, size_t idx, int created)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        tmatch *v = pl_realloc(p->v, cap * sizeof(*v));
        if (!v)
            return oom();
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n].parent = parent;
    p->v[p->n].key = key;
    p->v[p->n].idx = idx;
    p->v[p->n].created = created;
    p->n++;
    return 0;
}

/* getPathPartKind of the part after position i */
static int next_kind(const pm *p, size_t i)
{
    const path_part *nx;

    if (i + 1 >= p->fp->n)
        return p->create;
    nx = &p->fp->v[i + 1];
    if (!*nx->s)
        return p->create;
    if (nx->type == P_LIST || nx->type == P_INDEX)
        return K_SEQ;
    return K_MAP;
}

/* a node of kind k as `create` makes it (a scalar starts as a null placeholder) */
static json_t *new_node(int k)
{
    if (k == K_MAP)
        return json_object();
    if (k == K_SEQ)
        return json_array();
    return json_null();
}

/* a detached container standing in for a null node kyaml would write into */
static json_t *scratch(pm *p, json_t *c)
{
    if (!c || json_array_append_new(p->scratch, c) < 0)
        return NULL;
    return c;
}

static int pm_walk(pm *p, json_t *node, size_t i);

static int pm_step(pm *p, json_t *parent, const char *key, size_t idx, json_t *node, size_t i,
                   int created)
{
    if (i == p->fp->n)
        return pm_add(p, parent, key, idx, created);
    return pm_walk(p, node, i);
}

static int pm_field(pm *p, json_t *node, size_t i)
{
    const char *name = p->fp->v[i].s;
    json_t *child;
    int k;

    if (json_is_null(node)) {
        if (!p->create)
            return 0;
        if (!(node = scratch(p, json_object())))
            return oom();
    } else if (!json_is_object(node)) {
        return wrong_kind("MappingNode", node);
    }
    if ((child = json_object_get(node, name)))
        return pm_step(p, node, name, 0, child, i + 1, 0);
    if (!p->create)
        return 0;
    k = next_kind(p, i);
    if (!(child = new_node(k)) || json_object_set_new(node, name, child) < 0)
        return oom();
    return pm_step(p, node, name, 0, child, i + 1, k == K_SCALAR);
}

static int pm_index(pm *p, json_t *node, size_t i)
{
    const path_part *pp = &p->fp->v[i];
    size_t n;
    int k, created = 0;

    if (json_is_null(node)) {
        if (!(node = scratch(p, json_array())))
            return oom();
    } else if (!json_is_array(node)) {
        return wrong_kind("SequenceNode", node);
    }
    n = json_array_size(node);
    if ((unsigned long long)pp->idx == n && p->create) {
        k = next_kind(p, i);
        if (json_array_append_new(node, new_node(k)) < 0)
            return oom();
        created = k == K_SCALAR;
        n++;
    }
    if ((unsigned long long)pp->idx >= n)
        return pl_error_set(PL_EINVALID, "index %lld specified but only %zu elements found",
                            pp->idx, n);
    return pm_step(p, node, NULL, (size_t)pp->idx, json_array_get(node, (size_t)pp->idx), i + 1,
                   created);
}

static int pm_list(pm *p, json_t *node, size_t i)
{
    path_part *pp = &p->fp->v[i];
    size_t k, n0 = p->n;
    json_t *e;
    int error;

    if (!pp->lvalue)
        return pl_error_set(PL_EINVALID, "list path element must contain fieldName=fieldValue "
                                         "for element to match");
    if (json_is_null(node)) {
        if (!p->create)
            return 0;
        if (!(node = scratch(p, json_array())))
            return oom();
    } else if (!json_is_array(node)) {
        return wrong_kind("SequenceNode", node);
    }
    json_array_foreach(node, k, e)
    {
        json_t *f = e;
        char *t;
        int m;
        if (*pp->lname) {
            if (!json_is_object(e) || !(f = json_object_get(e, pp->lname)))
                continue;
        }
        if (json_is_object(f) || json_is_array(f))
            continue;
        if ((error = part_rx(pp, p->rx)) < 0)
            return error;
        if (!(t = scalar_text(f)))
            return oom();
        m = rx_match(p->rx, pp->rx, t);
        pl_free(t);
        if (!m)
            continue;
        /* a primitive element is itself the match, whatever path follows (kyaml) */
        error = *pp->lname ? pm_step(p, node, NULL, k, e, i + 1, 0) : pm_add(p, node, NULL, k, 0);
        if (error < 0)
            return error;
    }
    if (p->n > n0 || !p->create)
        return 0;
    /* nothing matched: append {name: value} (or the bare value) and continue into it */
    {
        json_t *v = resolve_plain(pp->lvalue), *elem = v;
        size_t at = json_array_size(node);
        if (!v)
            return oom();
        if (*pp->lname) {
            if (!(elem = json_object()) || json_object_set_new(elem, pp->lname, v) < 0) {
                json_decref(elem);
                json_decref(v);
                return oom();
            }
        }
        if (json_array_append_new(node, elem) < 0)
            return oom();
        if (!*pp->lname)
            return pm_add(p, node, NULL, at, 1);
        return pm_step(p, node, NULL, at, elem, i + 1, 0);
    }
}

static int pm_wild(pm *p, json_t *node, size_t i)
{
    size_t k;
    json_t *e;
    int error;

    if (json_is_null(node))
        return 0;
    if (!json_is_array(node))
        return wrong_kind("SequenceNode", node);
    json_array_foreach(node, k, e)
    {
        if ((error = pm_step(p, node, NULL, k, e, i + 1, 0)) < 0)
            return error;
    }
    return 0;
}

static int pm_walk(pm *p, json_t *node, size_t i)
{
    switch (p->fp->v[i].type) {
    case P_INDEX:
        return pm_index(p, node, i);
    case P_LIST:
        return pm_list(p, node, i);
    case P_WILD:
        return pm_wild(p, node, i);
    default:
        return pm_field(p, node, i);
    }
}

static json_t *slot_get(const tmatch *m)
{
    return m->key ? json_object_get(m->parent, m->key) : json_array_get(m->parent, m->idx);
}

static int slot_set(const tmatch *m, json_t *v)
{
    int rc = m->key ? json_object_set_new(m->parent, m->key, v)
                    : json_array_set_new(m->parent, m->idx, v);
    return rc < 0 ? oom() : 0;
}

/* setFieldValue: copy the value into one matched field */
static int set_field(const tmatch *m, rval *val, const fopts *o, const char *what)
{
    json_t *cur = slot_get(m), *nv = NULL;
    int ttag = m->created ? T_NONE : json_tag(cur);
    int vtag = rval_tag(val);
    char *text = NULL, *ttext = NULL;
    json_t *pieces = NULL;
    int error = 0;

    if (!(text = rval_text(val))) {
        error = oom();
        goto done;
    }
    if (*o->delimiter) {
        pl_buf b = PL_BUF_INIT;
        size_t n, k;
        if (!is_scalar_tag(ttag)) {
            error =
                pl_error_set(PL_EINVALID, "delimiter option can only be used with scalar nodes");
            goto done;
        }
        if (!(ttext = m->created ? pl_strdup("") : scalar_text(cur)) ||
            !(pieces = split_str(ttext, o->delimiter))) {
            error = oom();
            goto done;
        }
        n = json_array_size(pieces);
        if (o->index < 0)
            error = json_array_insert_new(pieces, 0, json_string(text));
        else if ((unsigned long long)o->index >= n)
            error = json_array_append_new(pieces, json_string(text));
        else
            error = json_array_set_new(pieces, (size_t)o->index, json_string(text));
        if (error < 0) {
            error = oom();
            goto done;
        }
        for (k = 0; k < json_array_size(pieces); k++) {
            if ((k && pl_buf_puts(&b, o->delimiter) < 0) ||
                pl_buf_puts(&b, json_string_value(json_array_get(pieces, k))) < 0) {
                pl_buf_dispose(&b);
                error = oom();
                goto done;
            }
        }
        pl_free(text);
        text = b.ptr ? pl_buf_detach(&b) : pl_strdup("");
        if (!text) {
            error = oom();
            goto done;
        }
    }
    if (is_scalar_tag(ttag)) {
        /* a scalar target keeps its tag and takes the text only */
        if ((error = resolve_tagged(&nv, ttag, text, what)) < 0)
            goto done;
    } else if (is_scalar_tag(vtag)) {
        if ((error = resolve_tagged(&nv, vtag, text, what)) < 0)
            goto done;
    } else if (!(nv = json_deep_copy(val->live))) {
        error = oom();
        goto done;
    }
    /* the live source scalar itself was rewritten: later targets see the new text */
    if (val->live && cur == val->live && (json_is_string(cur) || json_is_number(cur))) {
        json_decref(val->live);
        val->live = json_incref(nv); /* rval holds this reference */
    }
    error = slot_set(m, nv);
    nv = NULL;
done:
    json_decref(nv);
    json_decref(pieces);
    pl_free(text);
    pl_free(ttext);
    return error;
}

/* ---- one replacement ------------------------------------------------------------------------ */

static int res_what(pl_buf *b, const pl_kz_res *r)
{
    const char *ns = pl_kz_res_namespace(r);
    return *ns ? pl_buf_printf(b, "%s/%s/%s", pl_kz_res_kind(r), ns, pl_kz_res_name(r))
               : pl_buf_printf(b, "%s/%s", pl_kz_res_kind(r), pl_kz_res_name(r));
}

/* the source selector's string form (SourceSelector.String) appended to b */
static int source_string(pl_buf *b, const sel *s, const char *field_path, const fopts *o)
{
    int error;

    if ((error = resid_string(b, s->group, s->version, s->kind, s->name, s->ns)) < 0)
        return error;
    if (*field_path && (error = pl_buf_printf(b, ":%s", field_path)) < 0)
        return error;
    if (o->present && (*o->delimiter || o->create))
        error = pl_buf_printf(b, ":%s(%lld), create=%s", o->delimiter, o->index,
                              o->create ? "true" : "false");
    return error;
}

/* resid.IsSelectedBy: exact group/version/kind/name, effective namespace */
static int id_selected_by(const resid *id, const sel *s)
{
    return (!*s->name || !strcmp(s->name, id->name)) &&
           (!*s->ns || !strcmp(eff_ns(s->ns), eff_ns(id->ns))) &&
           (!*s->group || !strcmp(s->group, id->group)) &&
           (!*s->version || !strcmp(s->version, id->version)) &&
           (!*s->kind || !strcmp(s->kind, id->kind));
}

/* getReplacement: find the source resource and read (and refine) the value */
static int get_value(rval *out, pl_kz_resmap *m, const json_t *src)
{
    sel s;
    fopts o;
    const char *fp_str, *fp_used;
    fpath fp = {0};
    char **parts = NULL;
    const pl_kz_res *found = NULL;
    json_t *node = NULL;
    pl_buf b = PL_BUF_INIT;
    int error;

    memset(out, 0, sizeof(*out));
    if ((error = sel_parse(&s, src)) < 0 || (error = cfg_str(&fp_str, src, "fieldPath")) < 0 ||
        (error = parse_opts(&o, cfg_get(src, "options"))) < 0)
        goto done;
    for (size_t i = 0; i < m->n; i++) {
        resids ids;
        int hit = 0;
        if ((error = make_resids(&ids, m->v[i])) < 0)
            goto done;
        for (size_t k = 0; k < ids.n && !hit; k++)
            hit = id_selected_by(&ids.v[k], &s);
        resids_dispose(&ids);
        if (!hit)
            continue;
        if (found) {
            if ((error = source_string(&b, &s, fp_str, &o)) < 0)
                goto done;
            error = pl_error_set(PL_EINVALID, "multiple matches for selector %s", b.ptr);
            goto done;
        }
        found = m->v[i];
    }
    if (!found) {
        if ((error = source_string(&b, &s, fp_str, &o)) < 0)
            goto done;
        error = pl_error_set(PL_EINVALID, "nothing selected by %s", b.ptr);
        goto done;
    }
    fp_used = *fp_str ? fp_str : "metadata.name";
    if ((error = fpath_parse(&fp, fp_used)) < 0)
        goto done;
    if (!(parts = pl_calloc(fp.n + 1, sizeof(*parts)))) {
        error = oom();
        goto done;
    }
    for (size_t i = 0; i < fp.n; i++)
        parts[i] = fp.v[i].s;
    if ((error = path_get(&node, found->obj, parts, fp.n)) < 0) {
        pl_error_prefix("error looking up replacement source");
        goto done;
    }
    if (!node || json_is_null(node) || (json_is_object(node) && !json_object_size(node)) ||
        (json_is_array(node) && !json_array_size(node))) {
        if ((error = resid_string(&b, s.group, s.version, s.kind, s.name, s.ns)) < 0)
            goto done;
        error = pl_error_set(PL_EINVALID, "fieldPath `%s` is missing for replacement source %s",
                             fp_used, b.ptr);
        goto done;
    }
    if (!*o.delimiter) {
        out->live = json_incref(node); /* rval holds this reference */
        goto done;
    }
    /* getRefinedValue: one piece of a delimited scalar */
    {
        json_t *pieces = NULL;
        char *t;
        if (!is_scalar_tag(json_tag(node))) {
            error =
                pl_error_set(PL_EINVALID, "delimiter option can only be used with scalar nodes");
            goto done;
        }
        if (!(t = scalar_text(node)) || !(pieces = split_str(t, o.delimiter))) {
            pl_free(t);
            error = oom();
            goto done;
        }
        if (o.index < 0 || (unsigned long long)o.index >= json_array_size(pieces)) {
            error = pl_error_set(PL_EINVALID, "options.index %lld is out of bounds for value %s",
                                 o.index, t);
        } else {
            out->tag = json_tag(node);
            if (!(out->text =
                      pl_strdup(json_string_value(json_array_get(pieces, (size_t)o.index)))))
                error = oom();
        }
        pl_free(t);
        json_decref(pieces);
    }
done:
    pl_buf_dispose(&b);
    pl_free(parts);
    fpath_dispose(&fp);
    if (error < 0)
        rval_dispose(out);
    return error;
}

/* ---- structured data inside scalar fields (kustomize v5.8, PR #5679) ------------------------- */

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* json.Marshal (indent 0) or json.MarshalIndent(v, "", "  ") of a decoded YAML value */
static int go_json(pl_buf *b, const json_t *v, int pretty, int depth)
{
    int error = 0;

    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v), k = 0;
        const char **keys;
        const char *key;
        json_t *e;
        if (!n)
            return pl_buf_puts(b, "{}");
        if (!(keys = pl_calloc(n, sizeof(*keys))))
            return oom();
        json_object_foreach((json_t *)v, key, e) keys[k++] = key;
        qsort(keys, n, sizeof(*keys), cmp_keys);
        error = pl_buf_putc(b, '{');
        for (k = 0; k < n && error >= 0; k++) {
            if (k)
                error = pl_buf_putc(b, ',');
            if (error >= 0 && pretty)
                error = pl_buf_printf(b, "\n%*s", 2 * (depth + 1), "");
            if (error >= 0)
                error = pl_kz_go_json_string(b, keys[k], strlen(keys[k]));
            if (error >= 0)
                error = pl_buf_puts(b, pretty ? ": " : ":");
            if (error >= 0)
                error = go_json(b, json_object_get(v, keys[k]), pretty, depth + 1);
        }
        pl_free(keys);
        if (error >= 0 && pretty)
            error = pl_buf_printf(b, "\n%*s", 2 * depth, "");
        return error < 0 ? error : pl_buf_putc(b, '}');
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        if (!n)
            return pl_buf_puts(b, "[]");
        error = pl_buf_putc(b, '[');
        for (size_t k = 0; k < n && error >= 0; k++) {
            if (k)
                error = pl_buf_putc(b, ',');
            if (error >= 0 && pretty)
                error = pl_buf_printf(b, "\n%*s", 2 * (depth + 1), "");
            if (error >= 0)
                error = go_json(b, json_array_get(v, k), pretty, depth + 1);
        }
        if (error >= 0 && pretty)
            error = pl_buf_printf(b, "\n%*s", 2 * depth, "");
        return error < 0 ? error : pl_buf_putc(b, ']');
    }
    case JSON_STRING:
        return pl_kz_go_json_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return pl_buf_printf(b, "%lld", (long long)json_integer_value(v));
    case JSON_REAL:
        return pl_kz_go_json_float(b, json_real_value(v));
    case JSON_TRUE:
        return pl_buf_puts(b, "true");
    case JSON_FALSE:
        return pl_buf_puts(b, "false");
    default:
        return pl_buf_puts(b, "null");
    }
}

/*
 * setValueInStructuredData: when a leading part of the field path reaches a string holding
 * a JSON or YAML map/list, the rest of the path is followed inside it and the string is
 * rewritten (JSON: keys sorted, compact, or indented by two when the original was
 * multi-line and indented; YAML: re-emitted). Delimiter options do not apply there (as in
 * kustomize). *handled = 0 means kustomize falls back to the ordinary path walk.
 */
static int try_structured(int *handled, pl_kz_res *r, const rval *val, fpath *fp, int create_kind,
                          rxenv *rx)
{
    char **parts = NULL;
    json_t *node = NULL, *docs = NULL, *doc;
    fpath sub;
    pm p;
    pl_buf out = PL_BUF_INIT;
    const char *text, *t;
    size_t i;
    int error = 0, ok = 1;

    *handled = 0;
    memset(&p, 0, sizeof(p));
    if (fp->n < 2)
        return 0;
    if (!(parts = pl_calloc(fp->n, sizeof(*parts))))
        return oom();
    for (i = 0; i < fp->n; i++)
        parts[i] = fp->v[i].s;
    for (i = 1; i < fp->n; i++) {
        if (path_get(&node, r->obj, parts, i) < 0) {
            node = NULL;
            continue;
        }
        if (node && !json_is_object(node) && !json_is_array(node))
            break;
    }
    pl_error_clear();
    /* only a string can hold a map or list; other scalars make the walk fail and fall back */
    if (i == fp->n || !json_is_string(node))
        goto done;
    text = json_string_value(node);
    if (pl_yaml_parse(&docs, text, json_string_length(node), "value", NULL) < 0) {
        pl_error_clear();
        goto done;
    }
    doc = json_array_get(docs, 0);
    if (!json_is_object(doc) && !json_is_array(doc))
        goto done;
    sub.v = fp->v + i;
    sub.n = fp->n - i;
    p.fp = &sub;
    p.rx = rx;
    p.create = create_kind;
    if (!(p.scratch = json_array())) {
        error = oom();
        goto done;
    }
    if (pm_walk(&p, doc, 0) < 0 || !p.n) {
        pl_error_clear();
        goto done;
    }
    for (size_t k = 0; k < p.n && ok; k++) {
        json_t *cur = slot_get(&p.v[k]), *nv = NULL;
        int ttag = p.v[k].created ? T_NONE : json_tag(cur), vtag = rval_tag(val);
        char *vt = rval_text(val);
        if (!vt) {
            error = oom();
            goto done;
        }
        if (is_scalar_tag(ttag))
            ok = resolve_tagged(&nv, ttag, vt, "") == 0;
        else if (is_scalar_tag(vtag))
            ok = resolve_tagged(&nv, vtag, vt, "") == 0;
        else
            ok = (nv = json_deep_copy(val->live)) != NULL;
        pl_free(vt);
        if (ok && (error = slot_set(&p.v[k], nv)) < 0)
            goto done;
    }
    if (!ok) {
        /* the rewritten data would not read back: kustomize falls back (and fails) */
        pl_error_clear();
        goto done;
    }
    for (t = text; isspace((unsigned char)*t); t++)
        ;
    if (*t == '{' || *t == '[') {
        int pretty = strchr(text, '\n') && strstr(text, "  ");
        error = go_json(&out, doc, pretty, 0);
    } else {
        error = pl_yaml_emit(&out, doc);
        while (error >= 0 && out.len && isspace((unsigned char)out.ptr[out.len - 1]))
            out.ptr[--out.len] = '\0';
    }
    if (error < 0)
        goto done;
    /* the field keeps its node (and tag); only its text changes */
    if (json_string_set(node, out.ptr ? out.ptr : "") < 0) {
        error = oom();
        goto done;
    }
    *handled = 1;
done:
    pl_buf_dispose(&out);
    pl_free(p.v);
    json_decref(p.scratch);
    json_decref(docs);
    pl_free(parts);
    return error;
}

/* copyValueToTarget for one resource and every field path of the target */
static int copy_to_target(pl_kz_res *r, rval *val, fpath *fps, const char *const *fp_strs,
                          size_t nfp, const fopts *o, rxenv *rx)
{
    pl_buf what = PL_BUF_INIT;
    int create_kind = K_NONE;
    int error = 0;

    if (o->create) {
        int t = rval_tag(val);
        create_kind = t == T_MAP ? K_MAP : t == T_SEQ ? K_SEQ : K_SCALAR;
    }
    if ((error = res_what(&what, r)) < 0)
        goto done;
    for (size_t f = 0; f < nfp; f++) {
        pm p;
        int handled;
        if ((error = try_structured(&handled, r, val, &fps[f], create_kind, rx)) < 0)
            goto done;
        if (handled)
            continue;
        memset(&p, 0, sizeof(p));
        p.fp = &fps[f];
        p.rx = rx;
        p.create = create_kind;
        if (!(p.scratch = json_array())) {
            error = oom();
            goto done;
        }
        error = pm_walk(&p, r->obj, 0);
        if (error < 0) {
            pl_error_prefix("unable to find %sfield \"%s\" in replacement target",
                            o->create ? "or create " : "", fp_strs[f]);
        } else if (!p.n) {
            error = pl_error_set(PL_EINVALID, "unable to find %sfield \"%s\" in replacement target",
                                 o->create ? "or create " : "", fp_strs[f]);
        }
        for (size_t k = 0; error >= 0 && k < p.n; k++)
            error = set_field(&p.v[k], val, o, what.ptr);
        pl_free(p.v);
        json_decref(p.scratch);
        if (error < 0)
            goto done;
    }
done:
    pl_buf_dispose(&what);
    return error;
}

/* applyReplacement for one target selector */
static int apply_target(pl_kz_resmap *m, rval *val, const json_t *t, rxenv *rx)
{
    json_t *jsel = cfg_get(t, "select"), *jrej = cfg_get(t, "reject"),
           *jfps = cfg_get(t, "fieldPaths");
    sel s;
    sel *rej = NULL;
    size_t nrej = 0, nfp = 0;
    fpath *fps = NULL;
    const char **fp_strs = NULL;
    fopts o;
    int error;

    memset(&s, 0, sizeof(s));
    if (!jsel || json_is_null(jsel)) {
        error = pl_error_set(PL_EINVALID, "target must specify resources to select");
        goto done;
    }
    if ((error = parse_opts(&o, cfg_get(t, "options"))) < 0 || (error = sel_parse(&s, jsel)) < 0 ||
        (error = sel_compile(&s, rx)) < 0)
        goto done;
    if (jrej && !json_is_null(jrej) && !json_is_array(jrej)) {
        error = pl_error_set(PL_EINVALID, "replacement target reject must be a list");
        goto done;
    }
    if (json_array_size(jrej) && !(rej = pl_calloc(json_array_size(jrej), sizeof(*rej)))) {
        error = oom();
        goto done;
    }
    for (size_t i = 0; i < json_array_size(jrej); i++) {
        json_t *rj = json_array_get(jrej, i);
        if (json_is_null(rj))
            continue;
        if ((error = sel_parse(&rej[nrej], rj)) < 0)
            goto done;
        nrej++;
        if (!sel_id_empty(&rej[nrej - 1]) && (error = sel_compile(&rej[nrej - 1], rx)) < 0)
            goto done;
    }
    /* field paths, parsed once for all resources (default metadata.name) */
    if (jfps && !json_is_null(jfps) && !json_is_array(jfps)) {
        error = pl_error_set(PL_EINVALID, "replacement target fieldPaths must be a list");
        goto done;
    }
    nfp = json_array_size(jfps) ? json_array_size(jfps) : 1;
    if (!(fps = pl_calloc(nfp, sizeof(*fps))) || !(fp_strs = pl_calloc(nfp, sizeof(*fp_strs)))) {
        error = oom();
        goto done;
    }
    for (size_t i = 0; i < nfp; i++) {
        json_t *e = json_array_get(jfps, i);
        if (e && !json_is_string(e)) {
            error = pl_error_set(PL_EINVALID, "replacement target fieldPaths must be strings");
            goto done;
        }
        fp_strs[i] = e ? json_string_value(e) : "metadata.name";
        if ((error = fpath_parse(&fps[i], fp_strs[i])) < 0)
            goto done;
    }
    for (size_t i = 0; i < m->n; i++) {
        pl_kz_res *r = m->v[i];
        resids ids;
        int ok, hit = 0, rejected = 0;
        /* label and annotation selectors of select and of rejects that have them */
        if ((ok = sel_labels_match(&s, r)) < 0) {
            error = ok;
            goto done;
        }
        for (size_t k = 0; ok && k < nrej; k++) {
            int rm;
            if (!*rej[k].label_sel && !*rej[k].anno_sel)
                continue;
            if ((rm = sel_labels_match(&rej[k], r)) < 0) {
                error = rm;
                goto done;
            }
            if (rm)
                ok = 0;
        }
        if (!ok)
            continue;
        if ((error = make_resids(&ids, r)) < 0)
            goto done;
        /* rejected when any id matches any reject that names an id */
        for (size_t k = 0; k < nrej && !rejected; k++) {
            if (sel_id_empty(&rej[k]))
                continue;
            for (size_t j = 0; j < ids.n && !rejected; j++)
                rejected = sel_rx_match(&rej[k], rx, &ids.v[j]);
        }
        for (size_t j = 0; j < ids.n && !rejected && !hit; j++)
            hit = sel_rx_match(&s, rx, &ids.v[j]);
        resids_dispose(&ids);
        if (rejected || !hit)
            continue;
        if ((error = copy_to_target(r, val, fps, fp_strs, nfp, &o, rx)) < 0)
            goto done;
    }
done:
    for (size_t i = 0; fps && i < nfp; i++)
        fpath_dispose(&fps[i]);
    pl_free(fps);
    pl_free(fp_strs);
    for (size_t i = 0; i < nrej; i++)
        sel_dispose(&rej[i]);
    pl_free(rej);
    sel_dispose(&s);
    return error;
}

static int apply_replacement(pl_kz_resmap *m, const json_t *rep, rxenv *rx)
{
    json_t *src = cfg_get(rep, "source"), *targets = cfg_get(rep, "targets");
    json_t *sv = cfg_get(rep, "sourceValue");
    rval val;
    int error = 0;

    memset(&val, 0, sizeof(val));
    if (src && json_is_null(src))
        src = NULL;
    if (sv && json_is_null(sv))
        sv = NULL;
    if ((!src && !sv) || !targets || json_is_null(targets))
        return pl_error_set(PL_EINVALID,
                            "replacements must specify a source and at least one target");
    if (src && sv)
        return pl_error_set(PL_EINVALID, "value and resource selectors are mutually exclusive");
    if ((src && !json_is_object(src)) || (sv && !json_is_string(sv)) || !json_is_array(targets))
        return pl_error_set(PL_EINVALID, "replacement source must be a map, sourceValue a string "
                                         "and targets a list");
    if (sv) {
        /* sourceValue: an untagged scalar (yaml.NewScalarRNode) */
        val.tag = T_NONE;
        if (!(val.text = pl_strdup(json_string_value(sv))))
            return oom();
    } else if ((error = get_value(&val, m, src)) < 0) {
        return error;
    }
    for (size_t i = 0; i < json_array_size(targets) && error >= 0; i++)
        error = apply_target(m, &val, json_array_get(targets, i), rx);
    rval_dispose(&val);
    return error;
}

/* Go reflect kind names for the "unsupported replacement type" error */
static const char *go_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "float64";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    default:
        return "invalid";
    }
}

/*
 * Collect the replacement list: inline entries as they are, `path:` entries loaded from their
 * file (one replacement or a list of them; only the first YAML document counts, as with
 * sigs.k8s.io/yaml). Mirrors ReplacementTransformerPlugin.Config.
 */
static int collect(json_t *out, const pl_kz_ctx *ctx, const json_t *list)
{
    size_t i;
    json_t *e;
    int error;

    json_array_foreach(list, i, e)
    {
        const char *path;
        json_t *docs = NULL, *d, *targets = cfg_get(e, "targets");
        if (!json_is_object(e))
            return pl_error_set(PL_EINVALID, "replacements entries must be maps");
        if ((error = cfg_str(&path, e, "path")) < 0)
            return error;
        if (!*path) {
            if (json_array_append(out, e) < 0)
                return oom();
            continue;
        }
        if ((cfg_get(e, "source") && !json_is_null(cfg_get(e, "source"))) ||
            json_array_size(targets))
            return pl_error_set(PL_EINVALID, "cannot specify both path and inline replacement");
        if ((error = pl_kz_load_yaml(ctx, path, &docs)) < 0)
            return error;
        d = json_array_get(docs, 0);
        if (json_is_array(d)) {
            if (json_array_extend(out, d) < 0)
                error = oom();
        } else if (json_is_object(d)) {
            if (json_array_append(out, d) < 0)
                error = oom();
        } else {
            error = pl_error_set(PL_EINVALID,
                                 "unsupported replacement type encountered within replacement "
                                 "path: %s",
                                 d ? go_kind(d) : "invalid");
        }
        json_decref(docs);
        if (error < 0)
            return error;
    }
    return 0;
}

int pl_kz_t_replacements(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    json_t *list = cfg_get(cfg, "replacements"), *all = NULL;
    rxenv rx;
    int error;

    memset(&rx, 0, sizeof(rx));
    if (list && !json_is_null(list) && !json_is_array(list))
        return pl_error_set(PL_EINVALID, "replacements must be a list");
    if (!(all = json_array()))
        return oom();
    if ((error = collect(all, ctx, list)) < 0 || (error = rxenv_init(&rx)) < 0)
        goto done;
    for (size_t i = 0; i < json_array_size(all); i++) {
        json_t *rep = json_array_get(all, i);
        if (!json_is_object(rep)) {
            error = pl_error_set(PL_EINVALID, "replacements entries must be maps");
            goto done;
        }
        if ((error = apply_replacement(m, rep, &rx)) < 0)
            goto done;
    }
done:
    rxenv_dispose(&rx);
    json_decref(all);
    return error;
}

/* ---- vars ------------------------------------------------------------------------------------ */

/* a var's objref with apiVersion folded into group/version (types.Target.GVK) */
typedef struct varref {
    const char *name; /* var name */
    char group[256];
    const char *version;
    const char *kind, *objname, *ns;
    const char *field_path; /* defaulted to metadata.name */
} varref;

static int varref_parse(varref *v, const json_t *j)
{
    json_t *obj, *fr;
    const char *av, *g;
    int error;

    memset(v, 0, sizeof(*v));
    if (!json_is_object(j))
        return pl_error_set(PL_EINVALID, "vars entries must be maps");
    obj = cfg_get(j, "objref");
    fr = cfg_get(j, "fieldref");
    if ((error = cfg_str(&v->name, j, "name")) < 0 ||
        (error = cfg_str(&av, obj, "apiVersion")) < 0 || (error = cfg_str(&g, obj, "group")) < 0 ||
        (error = cfg_str(&v->version, obj, "version")) < 0 ||
        (error = cfg_str(&v->kind, obj, "kind")) < 0 ||
        (error = cfg_str(&v->objname, obj, "name")) < 0 ||
        (error = cfg_str(&v->ns, obj, "namespace")) < 0 ||
        (error = cfg_str(&v->field_path, fr, "fieldPath")) < 0)
        return error;
    snprintf(v->group, sizeof(v->group), "%s", g);
    if (*av) {
        /* strings.Split(apiVersion, "/"): two parts = group/version, one = version */
        const char *slash = strchr(av, '/');
        if (!slash) {
            v->version = av;
        } else if (!strchr(slash + 1, '/')) {
            size_t n = (size_t)(slash - av);
            if (n >= sizeof(v->group))
                n = sizeof(v->group) - 1;
            memcpy(v->group, av, n);
            v->group[n] = '\0';
            v->version = slash + 1;
        }
    }
    if (!*v->field_path)
        v->field_path = "metadata.name";
    return 0;
}

/* fmt %v of a types.Var: {NAME Kind.Version.Group {fieldPath}} */
static int varref_string(pl_buf *b, const varref *v, int defaulted)
{
    return pl_buf_printf(b, "{%s %s.%s.%s {%s}}", v->name, *v->kind ? v->kind : "[noKind]",
                         *v->version ? v->version : "[noVer]", *v->group ? v->group : "[noGrp]",
                         defaulted ? v->field_path : "");
}

/*
 * Resources whose original id (first previous id, else current) is the var's objref:
 * exact group/version/kind/name, and the effective namespace too when objref names one
 * (ResAccumulator.MergeVars). Indexes into *out (owned), count in *n.
 */
static int find_by_original_id(size_t **out, size_t *n, const pl_kz_resmap *m, const varref *v)
{
    size_t *hits = NULL, nh = 0;

    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < m->n; i++) {
        resids ids;
        const resid *org;
        int error;
        if ((error = make_resids(&ids, m->v[i])) < 0) {
            pl_free(hits);
            return error;
        }
        org = ids.n > 1 ? &ids.v[1] : &ids.v[0];
        if (!strcmp(org->name, v->objname) && !strcmp(org->kind, v->kind) &&
            !strcmp(org->group, v->group) && !strcmp(org->version, v->version) &&
            (!*v->ns || !strcmp(eff_ns(v->ns), eff_ns(org->ns)))) {
            size_t *nhits = pl_realloc(hits, (nh + 1) * sizeof(*hits));
            if (!nhits) {
                resids_dispose(&ids);
                pl_free(hits);
                return oom();
            }
            hits = nhits;
            hits[nh++] = i;
        }
        resids_dispose(&ids);
    }
    *out = hits;
    *n = nh;
    return 0;
}

static int ambiguous(size_t n, const varref *v)
{
    pl_buf b = PL_BUF_INIT;
    int error;

    if ((error = varref_string(&b, v, 0)) < 0)
        return error;
    error = pl_error_set(PL_EINVALID, "found %zu resId matches for var %s (unable to disambiguate)",
                         n, b.ptr);
    pl_buf_dispose(&b);
    return error;
}

static int add_ref_var_name(pl_kz_res *r, const char *name)
{
    if (!r->ref_var_names && !(r->ref_var_names = json_array()))
        return oom();
    if (json_array_append_new(r->ref_var_names, json_string(name)) < 0)
        return oom();
    return 0;
}

int pl_kz_vars_merge(pl_kz_resmap *m, const json_t *vars)
{
    size_t i;
    json_t *j;
    int error;

    json_array_foreach(vars, i, j)
    {
        varref v;
        size_t *hits = NULL, n = 0;
        if ((error = varref_parse(&v, j)) < 0 ||
            (error = find_by_original_id(&hits, &n, m, &v)) < 0)
            return error;
        if (n > 1)
            error = ambiguous(n, &v);
        else if (n == 1)
            error = add_ref_var_name(m->v[hits[0]], v.name);
        pl_free(hits);
        if (error < 0)
            return error;
    }
    return 0;
}

/* one resolved var */
typedef struct varval {
    const char *name; /* borrowed from the vars list */
    varref ref;       /* the declaration (strings borrowed from the vars list) */
    json_t *value;    /* owned copy; NULL when not a primitive (left as $(NAME)) */
    int used;
} varval;

typedef struct varctx {
    varval *v;
    size_t n;
    const pl_kz_res *res; /* resource being rewritten, for messages */
} varctx;

static int varval_cmp(const void *a, const void *b)
{
    return strcmp(((const varval *)a)->name, ((const varval *)b)->name);
}

/* ports[0] -> ports, 0 (RNode.GetFieldValue's convertSliceIndex) */
static int split_var_path(json_t **out, const char *path)
{
    json_t *pieces = split_str(path, "."), *res = json_array();
    size_t i;
    json_t *e;

    *out = NULL;
    if (!pieces || !res)
        goto oom;
    json_array_foreach(pieces, i, e)
    {
        const char *s = json_string_value(e);
        size_t n = strlen(s);
        const char *br = n && s[n - 1] == ']' ? strrchr(s, '[') : NULL;
        int digits = br && br + 2 < s + n;
        for (const char *p = br ? br + 1 : s; digits && p < s + n - 1; p++)
            if (*p < '0' || *p > '9')
                digits = 0;
        if (!digits) {
            if (json_array_append(res, e) < 0)
                goto oom;
            continue;
        }
        if ((br > s && json_array_append_new(res, json_stringn(s, (size_t)(br - s))) < 0) ||
            json_array_append_new(res, json_stringn(br + 1, (size_t)(s + n - 1 - br - 1))) < 0)
            goto oom;
    }
    json_decref(pieces);
    *out = res;
    return 0;
oom:
    json_decref(pieces);
    json_decref(res);
    return oom();
}

/* GetFieldValue: the var's value (owned copy) or NULL for maps and lists */
static int var_field_value(json_t **out, const pl_kz_res *r, const varref *v)
{
    json_t *parts = NULL, *node = NULL;
    char **pv = NULL;
    size_t n;
    int error;

    *out = NULL;
    if ((error = split_var_path(&parts, v->field_path)) < 0)
        return error;
    n = json_array_size(parts);
    if (!(pv = pl_calloc(n + 1, sizeof(*pv)))) {
        json_decref(parts);
        return oom();
    }
    for (size_t i = 0; i < n; i++)
        pv[i] = (char *)json_string_value(json_array_get(parts, i));
    error = path_get(&node, r->obj, pv, n);
    pl_free(pv);
    if (error < 0 || !node) {
        pl_buf b = PL_BUF_INIT;
        json_decref(parts);
        if ((error = varref_string(&b, v, 1)) < 0)
            return error;
        error = pl_error_set(
            PL_EINVALID, "field specified in var '%s' not found in corresponding resource", b.ptr);
        pl_buf_dispose(&b);
        return error;
    }
    json_decref(parts);
    if (json_is_object(node) || json_is_array(node))
        return 0;
    /* an untyped (null) scalar comes back as its text */
    *out = json_is_null(node) ? json_string("null") : json_deep_copy(node);
    return *out ? 0 : oom();
}

/* Go's fmt %v of a float64: strconv 'g' with the shortest digits, exponent from 1e+06 */
static void go_float_v(pl_buf *b, double f)
{
    char digits[40], mant[40];
    int exp10, neg;
    size_t nd = 0;
    char *e;

    if (isnan(f)) {
        pl_buf_puts(b, "NaN");
        return;
    }
    if (isinf(f)) {
        pl_buf_puts(b, f > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (f == 0) {
        pl_buf_puts(b, signbit(f) ? "-0" : "0");
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(digits, sizeof(digits), "%.*e", prec - 1, f);
        if (strtod(digits, NULL) == f)
            break;
    }
    e = strchr(digits, 'e');
    exp10 = (int)strtol(e + 1, NULL, 10);
    *e = '\0';
    neg = digits[0] == '-';
    for (char *p = digits + neg; *p; p++)
        if (*p != '.')
            mant[nd++] = *p;
    while (nd > 1 && mant[nd - 1] == '0')
        nd--;
    mant[nd] = '\0';
    if (neg)
        pl_buf_putc(b, '-');
    if (exp10 < -4 || exp10 >= 6) {
        pl_buf_putc(b, mant[0]);
        if (nd > 1) {
            pl_buf_putc(b, '.');
            pl_buf_puts(b, mant + 1);
        }
        pl_buf_printf(b, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
        return;
    }
    if (exp10 < 0) {
        pl_buf_puts(b, "0.");
        for (int k = -1; k > exp10; k--)
            pl_buf_putc(b, '0');
        pl_buf_puts(b, mant);
        return;
    }
    {
        size_t dp = (size_t)exp10 + 1;
        for (size_t k = 0; k < (dp > nd ? dp : nd); k++) {
            if (k == dp)
                pl_buf_putc(b, '.');
            pl_buf_putc(b, k < nd ? mant[k] : '0');
        }
    }
}

/* fmt %v of a var value inside a longer string */
static int put_value_text(pl_buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return pl_buf_put(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return pl_buf_printf(b, "%lld", (long long)json_integer_value(v));
    case JSON_REAL:
        go_float_v(b, json_real_value(v));
        return 0;
    case JSON_TRUE:
        return pl_buf_puts(b, "true");
    case JSON_FALSE:
        return pl_buf_puts(b, "false");
    default:
        return pl_buf_puts(b, "null");
    }
}

static varval *var_lookup(varctx *c, const char *name, size_t len)
{
    size_t lo = 0, hi = c->n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = strncmp(c->v[mid].name, name, len);
        if (!cmp && c->v[mid].name[len])
            cmp = 1;
        if (!cmp)
            return &c->v[mid];
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/*
 * refvar DoReplacements over one string: `$(NAME)` becomes the var's value (a whole-field
 * reference keeps the value's type), `$$` is a literal `$`, unknown names and non-primitive
 * values stay as written. *out is a new value, or NULL when nothing changed.
 */
static int expand(json_t **out, varctx *c, const char *in, size_t len)
{
    pl_buf b = PL_BUF_INIT;
    size_t checkpoint = 0;
    int changed = 0, error = 0;

    *out = NULL;
    for (size_t cur = 0; cur < len; cur++) {
        const char *rest;
        size_t adv;
        if (in[cur] != '$' || cur + 1 >= len)
            continue;
        if ((error = pl_buf_put(&b, in + checkpoint, cur - checkpoint)) < 0)
            goto done;
        rest = in + cur + 1;
        if (rest[0] == '$') {
            error = pl_buf_putc(&b, '$');
            adv = 1;
            changed = 1;
        } else if (rest[0] == '(') {
            const char *close = memchr(rest + 1, ')', len - cur - 2);
            if (!close) {
                error = pl_buf_puts(&b, "$(");
                adv = 1;
            } else {
                size_t nlen = (size_t)(close - rest - 1);
                varval *vv = var_lookup(c, rest + 1, nlen);
                adv = nlen + 2;
                if (vv && vv->value) {
                    vv->used = 1;
                    changed = 1;
                    if (cur == 0 && adv + 1 == len) {
                        /* the whole field is the reference: keep the value's type */
                        *out = json_deep_copy(vv->value);
                        error = *out ? 0 : oom();
                        goto done;
                    }
                    error = put_value_text(&b, vv->value);
                } else {
                    error = pl_buf_put(&b, rest - 1, nlen + 3);
                }
            }
        } else {
            /* Go appends string(byte): a byte >= 0x80 becomes that code point's UTF-8 */
            unsigned char ch = (unsigned char)rest[0];
            error = pl_buf_putc(&b, '$');
            if (error >= 0 && ch < 0x80) {
                error = pl_buf_putc(&b, (char)ch);
            } else if (error >= 0) {
                changed = 1;
                if ((error = pl_buf_putc(&b, (char)(0xC0 | (ch >> 6)))) >= 0)
                    error = pl_buf_putc(&b, (char)(0x80 | (ch & 0x3F)));
            }
            adv = 1;
        }
        if (error < 0)
            goto done;
        cur += adv;
        checkpoint = cur + 1;
    }
    if (!changed)
        goto done;
    if (checkpoint < len && (error = pl_buf_put(&b, in + checkpoint, len - checkpoint)) < 0)
        goto done;
    /* a `$` before a non-ASCII byte can leave invalid UTF-8 (as in kustomize): keep the bytes */
    if (!(*out = json_stringn(b.ptr ? b.ptr : "", b.len)) &&
        !(*out = json_stringn_nocheck(b.ptr ? b.ptr : "", b.len)))
        error = oom();
done:
    pl_buf_dispose(&b);
    return error;
}

/* refvar Filter.set: a string, the string values of a map, or a list of strings */
static int var_cb(json_t **slot, const char *path_str, void *payload)
{
    varctx *c = payload;
    json_t *v = *slot, *nv = NULL;
    const char *k;
    json_t *e;
    size_t i;
    int error;

    (void)path_str;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        if ((error = expand(&nv, c, json_string_value(v), json_string_length(v))) < 0)
            return error;
        if (nv)
            *slot = nv; /* the walker takes this reference */
        return 0;
    }
    if (json_is_object(v)) {
        json_object_foreach(v, k, e)
        {
            if (!json_is_string(e))
                continue;
            if ((error = expand(&nv, c, json_string_value(e), json_string_length(e))) < 0)
                return error;
            if (nv && json_object_set_new(v, k, nv) < 0)
                return oom();
        }
        return 0;
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, e)
        {
            if (!json_is_string(e)) {
                pl_buf b = PL_BUF_INIT;
                if ((error = res_what(&b, c->res)) < 0)
                    return error;
                error = pl_error_set(PL_EINVALID, "%s: invalid value type expect a string", b.ptr);
                pl_buf_dispose(&b);
                return error;
            }
            if ((error = expand(&nv, c, json_string_value(e), json_string_length(e))) < 0)
                return error;
            if (nv && json_array_set_new(v, i, nv) < 0)
                return oom();
        }
    }
    return 0;
}

/* the resource a var reads from: the one MergeVars tagged, else by original id */
static int var_source(const pl_kz_res **out, const pl_kz_resmap *m, const varref *v)
{
    size_t *hits = NULL, n = 0;
    int error;

    *out = NULL;
    for (size_t i = 0; i < m->n; i++) {
        size_t k;
        json_t *e;
        json_array_foreach(m->v[i]->ref_var_names, k, e)
        {
            if (!strcmp(json_string_value(e), v->name)) {
                *out = m->v[i];
                return 0;
            }
        }
    }
    if ((error = find_by_original_id(&hits, &n, m, v)) < 0)
        return error;
    if (n > 1)
        error = ambiguous(n, v);
    else if (n == 1)
        *out = m->v[hits[0]];
    pl_free(hits);
    if (error < 0 || *out)
        return error;
    {
        pl_buf b = PL_BUF_INIT;
        if ((error = varref_string(&b, v, 1)) < 0)
            return error;
        error = pl_error_set(PL_EINVALID,
                             "var '%s' cannot be mapped to a field in the set of known resources",
                             b.ptr);
        pl_buf_dispose(&b);
        return error;
    }
}

int pl_kz_vars_resolve(pl_kz_resmap *m, const json_t *vars, const pl_kz_tconfig *tc)
{
    varctx c;
    pl_buf unused = PL_BUF_INIT;
    size_t n = json_array_size(vars);
    int error = 0;

    memset(&c, 0, sizeof(c));
    if (!n)
        return 0;
    if (!(c.v = pl_calloc(n, sizeof(*c.v))))
        return oom();
    for (size_t i = 0; i < n; i++) {
        if ((error = varref_parse(&c.v[i].ref, json_array_get(vars, i))) < 0)
            goto done;
        c.v[i].name = c.v[i].ref.name;
    }
    qsort(c.v, n, sizeof(*c.v), varval_cmp);
    c.n = n;
    for (size_t i = 1; i < n; i++) {
        if (!strcmp(c.v[i - 1].name, c.v[i].name)) {
            error = pl_error_set(PL_EINVALID, "var '%s' already encountered", c.v[i].name);
            goto done;
        }
    }
    /* values first (makeVarReplacementMap, in name order), then substitution */
    for (size_t i = 0; i < n; i++) {
        const pl_kz_res *src;
        if ((error = var_source(&src, m, &c.v[i].ref)) < 0 ||
            (error = var_field_value(&c.v[i].value, src, &c.v[i].ref)) < 0)
            goto done;
    }
    for (size_t i = 0; i < m->n; i++) {
        c.res = m->v[i];
        for (size_t k = 0; k < tc->var_reference.n; k++) {
            const pl_kz_fieldspec *fs = &tc->var_reference.v[k];
            if (!pl_kz_fieldspec_matches(fs, m->v[i]->obj))
                continue;
            if ((error = pl_kz_fieldspec_apply(m->v[i]->obj, fs, var_cb, &c)) < 0)
                goto done;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (c.v[i].used)
            continue;
        pl_buf_printf(&unused, "%s%s", unused.len ? "," : "", c.v[i].name);
    }
    if (unused.len)
        pl_log(PL_LOG_WARN, "kustomize", "well-defined vars that were never replaced: %s",
               unused.ptr);
done:
    for (size_t i = 0; i < n; i++)
        json_decref(c.v[i].value);
    pl_free(c.v);
    pl_buf_dispose(&unused);
    return error;
}
