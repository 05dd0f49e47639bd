/*
 * kz_patch.c - target selectors and the three patch builtins of kustomize:
 * PatchTransformer (`patches:`), PatchStrategicMergeTransformer (`patchesStrategicMerge:`)
 * and PatchJson6902Transformer (`patchesJson6902:`).
 *
 * Reproduces kustomize's api/internal/builtins/Patch*.go, api/types/selector.go,
 * api/resmap/reswrangler.go (Select, GetById, ApplySmPatch) and api/resource/resource.go
 * (ApplySmPatch, OrgId/PrevIds), as of the kustomize commit the conformance corpus pins:
 *  - a selector's group/version/kind/name/namespace are Go regexes anchored as ^(?:re)$;
 *    name and namespace match the original id or the current one, gvk the current one;
 *    namespaces compare in their "effective" form (unset -> default, cluster-scoped kinds ->
 *    a marker no real namespace equals); label/annotation selectors use the Kubernetes
 *    selector grammar;
 *  - a patch text is a strategic-merge patch when every document is an object with kind and
 *    metadata.name (*List kinds are flattened), a JSON 6902 patch when its first document is
 *    a list of operations; an empty text (blank, comments) is a no-op;
 *  - a strategic-merge patch without target applies to the one resource having the patch's
 *    gvk/name/namespace as its current or any previous id; with a target to every selected
 *    resource; name and kind come back unless options allow changing them (then the previous
 *    id is recorded first), the namespace always comes back; `$patch: delete` drops the
 *    resource;
 *  - JSON patches record the previous id first (PatchTransformer only), keep internal
 *    annotations, and pass the object through Go's JSON decoding (numbers become float64).
 *
 * Strategic merge itself is pl_kz_smp_apply (kz_smp.c); RFC 6902 is pl_kz_jsonpatch_apply.
 * Called through pl_kz_builtin_run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "kz.h"

/* kustomize's resid.TotallyNotANamespace: the effective namespace of cluster-scoped kinds */
#define NON_NAMESPACEABLE "_non_namespaceable_"

/* ---- builtin config access (Go encoding/json rules) ---------------------------------------- */

/*
 * Member `key` of a builtin config as Go's encoding/json assigns struct fields: keys match
 * the field name ignoring case and the last matching key wins. Borrowed; NULL when absent.
 */
static json_t *cfg_get(const json_t *cfg, const char *key)
{
    const char *k;
    json_t *v, *found = NULL;

    if (!json_is_object(cfg))
        return NULL;
    json_object_foreach ((json_t *)cfg, k, v) {
        if (!strcasecmp(k, key))
            found = v;
    }
    return found;
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    default:
        return "null";
    }
}

/* A string field: *out is "" when absent or null; a non-string is an error, as in Go. */
static int cfg_string(const char **out, const json_t *cfg, const char *key, const char *builtin)
{
    json_t *v = cfg_get(cfg, key);

    *out = "";
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return pl_error_set(PL_EINVALID, "%s: cannot unmarshal %s into field %s of type string",
                            builtin, json_type_name(v), key);
    *out = json_string_value(v);
    return 0;
}

/* ---- resource ids ------------------------------------------------------------------------- */

/* kustomize ResId.EffectiveNamespace (borrowed: ns or a constant). */
static const char *effective_ns(const char *api_version, const char *kind, const char *ns)
{
    if (pl_kz_is_cluster_scoped(api_version, kind))
        return NON_NAMESPACEABLE;
    if (!ns || !*ns)
        return "default";
    return ns;
}

/* group/version of an apiVersion (kustomize ParseGroupVersion); group copied into buf. */
static const char *split_api_version(const char *av, char *group, size_t groupsz)
{
    const char *slash = strchr(av, '/');
    size_t n = slash ? (size_t)(slash - av) : 0;

    if (n >= groupsz)
        n = groupsz - 1;
    memcpy(group, av, n);
    group[n] = '\0';
    return slash ? slash + 1 : av;
}

/* A resource id (kustomize resid.ResId); strings borrowed from the object or owned buffers. */
typedef struct res_id {
    char group[256];
    const char *api_version, *version, *kind, *name, *ns;
} res_id;

static void res_id_of_obj(res_id *id, const json_t *obj)
{
    const char *av = pl_json_str(obj, "apiVersion", NULL);
    const char *s;

    id->api_version = av ? av : "";
    id->version = split_api_version(id->api_version, id->group, sizeof(id->group));
    id->kind = (s = pl_json_str(obj, "kind", NULL)) ? s : "";
    id->name = (s = pl_json_str(obj, "metadata", "name", NULL)) ? s : "";
    id->ns = (s = pl_json_str(obj, "metadata", "namespace", NULL)) ? s : "";
}

/* kustomize ResId.Equals: same gvk, name and effective namespace. */
static int res_id_equal(const res_id *a, const res_id *b)
{
    return !strcmp(a->kind, b->kind) && !strcmp(a->name, b->name) &&
           !strcmp(a->group, b->group) && !strcmp(a->version, b->version) &&
           !strcmp(effective_ns(a->api_version, a->kind, a->ns),
                   effective_ns(b->api_version, b->kind, b->ns));
}

/* kustomize ResId.String: Kind.version.group/name.ns with [noX] placeholders. */
static void res_id_format(pl_buf *out, const res_id *id)
{
    pl_buf_printf(out, "%s.%s.%s/%s.%s", *id->kind ? id->kind : "[noKind]",
                  *id->version ? id->version : "[noVer]", *id->group ? id->group : "[noGrp]",
                  *id->name ? id->name : "[noName]", *id->ns ? id->ns : "[noNs]");
}

/* Prefix the current error with the resource it concerns ("Kind/ns/name"). */
static int prefix_res_error(const pl_kz_res *r)
{
    pl_objkey key;
    pl_buf b = PL_BUF_INIT;
    int code;

    pl_objkey_from(&key, r->obj);
    if (pl_objkey_format(&b, &key) < 0 || !b.ptr) {
        pl_buf_dispose(&b);
        return pl_error_last()->code;
    }
    code = pl_error_prefix("%s", b.ptr);
    pl_buf_dispose(&b);
    return code;
}

/* ---- Kubernetes label selectors ----------------------------------------------------------- */

/*
 * The grammar and semantics of k8s.io/apimachinery labels.Parse (vendored by kyaml for
 * RNode.MatchesLabelSelector / MatchesAnnotationSelector).
 */
enum { OP_EXISTS, OP_NOT_EXISTS, OP_IN, OP_NOT_IN, OP_GT, OP_LT };
enum { T_ERR, T_EOS, T_ID, T_NOT, T_EQ, T_DEQ, T_NEQ, T_GT, T_LT, T_OPEN, T_CLOSE, T_COMMA };

typedef struct lreq {
    char *key;
    int op;
    char **vals;
    size_t nvals;
} lreq;

typedef struct lsel {
    lreq *v;
    size_t n, cap;
} lsel;

typedef struct ltok {
    int type;
    const char *s; /* literal, not NUL-terminated */
    size_t len;
} ltok;

typedef struct lparser {
    const char *src;
    size_t pos;
    ltok la; /* lookahead */
    int has_la;
} lparser;

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_special(char c)
{
    return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '<' || c == '>';
}

static int special_token(const char *s, size_t n)
{
    static const struct {
        const char *lit;
        int tok;
    } tab[] = {{")", T_CLOSE}, {",", T_COMMA}, {"!", T_NOT}, {"==", T_DEQ}, {"=", T_EQ},
               {">", T_GT},    {"<", T_LT},    {"!=", T_NEQ}, {"(", T_OPEN}};
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (strlen(tab[i].lit) == n && !memcmp(tab[i].lit, s, n))
            return tab[i].tok;
    return T_ERR;
}

/* The apimachinery lexer: longest special-symbol token, or an identifier run. */
static ltok lex_next(lparser *p)
{
    ltok t = {T_EOS, "", 0};
    const char *s = p->src;

    while (s[p->pos] && is_ws(s[p->pos]))
        p->pos++;
    if (!s[p->pos])
        return t;
    t.s = s + p->pos;
    if (is_special(s[p->pos])) {
        size_t n = 0, best = 0;
        int best_tok = T_ERR;
        while (s[p->pos + n] && is_special(s[p->pos + n])) {
            int tok = special_token(t.s, n + 1);
            n++;
            if (tok != T_ERR) {
                best = n;
                best_tok = tok;
            } else if (best_tok != T_ERR) {
                break;
            }
        }
        if (best_tok == T_ERR) {
            t.type = T_ERR;
            t.len = n;
            p->pos += n;
            return t;
        }
        t.type = best_tok;
        t.len = best;
        p->pos += best;
        return t;
    }
    while (s[p->pos] && !is_ws(s[p->pos]) && !is_special(s[p->pos]))
        p->pos++;
    t.type = T_ID;
    t.len = (size_t)(s + p->pos - t.s);
    return t;
}

static ltok lex_peek(lparser *p)
{
    if (!p->has_la) {
        p->la = lex_next(p);
        p->has_la = 1;
    }
    return p->la;
}

static ltok lex_take(lparser *p)
{
    ltok t = lex_peek(p);
    p->has_la = 0;
    return t;
}

static int tok_is(const ltok *t, const char *kw)
{
    return t->type == T_ID && t->len == strlen(kw) && !memcmp(t->s, kw, t->len);
}

static int alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] of at most 63 characters (empty allowed if ok_empty) */
static int valid_name_part(const char *s, size_t n, int ok_empty)
{
    if (!n)
        return ok_empty;
    if (n > 63 || !alnum(s[0]) || !alnum(s[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return 0;
    return 1;
}

static int lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* DNS-1123 subdomain: dot-separated labels of [a-z0-9-], alphanumeric at both ends. */
static int valid_dns_subdomain(const char *s, size_t n)
{
    if (!n || n > 253)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int edge = i == 0 || i == n - 1 || s[i - 1] == '.' || s[i + 1] == '.';
        if (c == '.' ? (i == 0 || i == n - 1) : !(lower_alnum(c) || (c == '-' && !edge)))
            return 0;
        if (c == '.' && (!lower_alnum(s[i - 1]) || !lower_alnum(s[i + 1])))
            return 0;
    }
    return 1;
}

/* validation.IsQualifiedName: [prefix/]name */
static int valid_label_key(const char *s, size_t n)
{
    const char *slash = memchr(s, '/', n);

    if (!slash)
        return valid_name_part(s, n, 0);
    if (memchr(slash + 1, '/', n - (size_t)(slash - s) - 1))
        return 0;
    return valid_dns_subdomain(s, (size_t)(slash - s)) &&
           valid_name_part(slash + 1, n - (size_t)(slash - s) - 1, 0);
}

static int sel_error(const char *sel, const char *what, const ltok *t)
{
    return pl_error_set(PL_EINVALID,
                        "unable to parse requirement: found '%.*s', expected: %s (in selector "
                        "\"%s\")",
                        (int)t->len, t->s, what, sel);
}

static void lsel_dispose(lsel *s)
{
    for (size_t i = 0; i < s->n; i++) {
        pl_free(s->v[i].key);
        for (size_t j = 0; j < s->v[i].nvals; j++)
            pl_free(s->v[i].vals[j]);
        pl_free(s->v[i].vals);
    }
    pl_free(s->v);
    memset(s, 0, sizeof(*s));
}

static int lreq_add_value(lreq *r, const char *s, size_t n)
{
    char **v;

    /* a set: duplicates collapse */
    for (size_t i = 0; i < r->nvals; i++)
        if (strlen(r->vals[i]) == n && !memcmp(r->vals[i], s, n))
            return 0;
    if (!(v = pl_realloc(r->vals, (r->nvals + 1) * sizeof(*v))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    r->vals = v;
    if (!(v[r->nvals] = pl_strndup(s, n)))
        return pl_error_set(PL_ENOMEM, "out of memory");
    r->nvals++;
    return 0;
}

/* values of `in`/`notin`: "(" [id] {"," [id]} ")" */
static int parse_value_set(lparser *p, lreq *r)
{
    ltok t = lex_take(p);
    int error;

    if (t.type != T_OPEN)
        return sel_error(p->src, "'('", &t);
    t = lex_peek(p);
    if (t.type == T_CLOSE) {
        lex_take(p);
        return lreq_add_value(r, "", 0);
    }
    if (t.type != T_ID && t.type != T_COMMA)
        return sel_error(p->src, "',', ')' or identifier", &t);
    for (;;) {
        t = lex_take(p);
        if (t.type == T_ID) {
            if ((error = lreq_add_value(r, t.s, t.len)) < 0)
                return error;
            t = lex_peek(p);
            if (t.type == T_COMMA)
                continue;
            if (t.type == T_CLOSE) {
                lex_take(p);
                return 0;
            }
            return sel_error(p->src, "',' or ')'", &t);
        }
        if (t.type == T_COMMA) {
            /* empty members: "(,a" ",)" ",," all stand for the empty value */
            if (!r->nvals && (error = lreq_add_value(r, "", 0)) < 0)
                return error;
            t = lex_peek(p);
            if (t.type == T_CLOSE) {
                lex_take(p);
                return lreq_add_value(r, "", 0);
            }
            if (t.type == T_COMMA) {
                lex_take(p);
                if ((error = lreq_add_value(r, "", 0)) < 0)
                    return error;
            }
            continue;
        }
        return sel_error(p->src, "',', ')' or identifier", &t);
    }
}

static int parse_requirement(lparser *p, lreq *r)
{
    ltok t = lex_take(p), op;
    int error, not = 0;

    if (t.type == T_NOT) {
        not = 1;
        t = lex_take(p);
    }
    if (t.type != T_ID)
        return sel_error(p->src, "identifier", &t);
    if (!valid_label_key(t.s, t.len))
        return pl_error_set(PL_EINVALID, "invalid label key \"%.*s\" in selector \"%s\"",
                            (int)t.len, t.s, p->src);
    if (!(r->key = pl_strndup(t.s, t.len)))
        return pl_error_set(PL_ENOMEM, "out of memory");
    t = lex_peek(p);
    if (not || t.type == T_EOS || t.type == T_COMMA) {
        if (not && t.type != T_EOS && t.type != T_COMMA)
            return sel_error(p->src, "',' or 'end of string'", &t);
        r->op = not ? OP_NOT_EXISTS : OP_EXISTS;
        return 0;
    }
    op = lex_take(p);
    switch (op.type) {
    case T_EQ:
    case T_DEQ:
        r->op = OP_IN;
        break;
    case T_NEQ:
        r->op = OP_NOT_IN;
        break;
    case T_GT:
        r->op = OP_GT;
        break;
    case T_LT:
        r->op = OP_LT;
        break;
    default:
        /* `in` and `notin` are keywords only in operator position */
        if (tok_is(&op, "in"))
            r->op = OP_IN;
        else if (tok_is(&op, "notin"))
            r->op = OP_NOT_IN;
        else
            return sel_error(p->src, "'=', '!=', '==', 'in', notin'", &op);
        if ((error = parse_value_set(p, r)) < 0)
            return error;
        goto validate;
    }
    t = lex_peek(p);
    if (t.type == T_EOS || t.type == T_COMMA) {
        if ((error = lreq_add_value(r, "", 0)) < 0)
            return error;
    } else {
        t = lex_take(p);
        if (t.type != T_ID)
            return sel_error(p->src, "identifier", &t);
        if ((error = lreq_add_value(r, t.s, t.len)) < 0)
            return error;
    }
validate:
    for (size_t i = 0; i < r->nvals; i++) {
        if (r->op == OP_GT || r->op == OP_LT) {
            char *end;
            (void)strtoll(r->vals[i], &end, 10);
            if (!*r->vals[i] || *end)
                return pl_error_set(PL_EINVALID,
                                    "for 'Gt', 'Lt' operators, the value must be an integer "
                                    "(selector \"%s\")",
                                    p->src);
        }
        if (!valid_name_part(r->vals[i], strlen(r->vals[i]), 1)) {
            return pl_error_set(PL_EINVALID, "invalid label value \"%s\" in selector \"%s\"",
                                r->vals[i], p->src);
        }
    }
    return 0;
}

static int lsel_parse(lsel *out, const char *src)
{
    lparser p = {src, 0, {T_EOS, "", 0}, 0};
    int error;

    memset(out, 0, sizeof(*out));
    for (;;) {
        ltok t = lex_peek(&p);
        if (t.type == T_EOS)
            return 0;
        if (t.type != T_ID && t.type != T_NOT)
            return sel_error(src, "!, identifier, or 'end of string'", &t);
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 4;
            lreq *v = pl_realloc(out->v, cap * sizeof(*v));
            if (!v)
                return pl_error_set(PL_ENOMEM, "out of memory");
            out->v = v;
            out->cap = cap;
        }
        memset(&out->v[out->n], 0, sizeof(lreq));
        out->n++;
        if ((error = parse_requirement(&p, &out->v[out->n - 1])) < 0)
            return error;
        t = lex_take(&p);
        if (t.type == T_EOS)
            return 0;
        if (t.type != T_COMMA)
            return sel_error(src, "',' or 'end of string'", &t);
        t = lex_peek(&p);
        if (t.type != T_ID && t.type != T_NOT)
            return sel_error(src, "identifier after ','", &t);
    }
}

/* A label/annotation value as kyaml reads it (scalar text). Writes into buf. */
static const char *scalar_text(const json_t *v, char *buf, size_t bufsz)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_value(v);
    case JSON_INTEGER:
        snprintf(buf, bufsz, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    case JSON_REAL:
        snprintf(buf, bufsz, "%.17g", json_real_value(v));
        return buf;
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    default:
        return "";
    }
}

static int lreq_has(const lreq *r, const char *v)
{
    for (size_t i = 0; i < r->nvals; i++)
        if (!strcmp(r->vals[i], v))
            return 1;
    return 0;
}

/* labels.Selector.Matches over a metadata map (labels or annotations; may be NULL). */
static int lsel_matches(const lsel *s, const json_t *map)
{
    char buf[64];

    for (size_t i = 0; i < s->n; i++) {
        const lreq *r = &s->v[i];
        json_t *jv = json_is_object(map) ? json_object_get(map, r->key) : NULL;
        const char *v = jv ? scalar_text(jv, buf, sizeof(buf)) : NULL;
        int ok;

        switch (r->op) {
        case OP_EXISTS:
            ok = v != NULL;
            break;
        case OP_NOT_EXISTS:
            ok = v == NULL;
            break;
        case OP_IN:
            ok = v && lreq_has(r, v);
            break;
        case OP_NOT_IN:
            ok = !v || !lreq_has(r, v);
            break;
        default: {
            char *end;
            long long a, b;
            if (!v || !*v)
                return 0;
            a = strtoll(v, &end, 10);
            if (*end)
                return 0;
            b = strtoll(r->vals[0], &end, 10);
            ok = r->op == OP_GT ? a > b : a < b;
            break;
        }
        }
        if (!ok)
            return 0;
    }
    return 1;
}

/* ---- selectors ---------------------------------------------------------------------------- */

enum { RE_GROUP, RE_VERSION, RE_KIND, RE_NAME, RE_NAMESPACE, RE_COUNT };

struct pl_kz_selector {
    pcre2_code *re[RE_COUNT]; /* NULL: that part is empty and matches anything */
    /* the pattern itself when it has no regex syntax (most selectors: `kind: Deployment`):
     * the anchored match is then plain equality, without running the regex engine */
    char *lit[RE_COUNT];
    size_t litlen[RE_COUNT];
    pcre2_match_data *md;
    lsel labels, annotations;
    char *desc; /* for messages: the selector as kustomize prints it */
};

void pl_kz_selector_free(pl_kz_selector *sel)
{
    if (!sel)
        return;
    for (int i = 0; i < RE_COUNT; i++) {
        pcre2_code_free(sel->re[i]);
        pl_free(sel->lit[i]);
    }
    pcre2_match_data_free(sel->md);
    lsel_dispose(&sel->labels);
    lsel_dispose(&sel->annotations);
    pl_free(sel->desc);
    pl_free(sel);
}

/* Compile ^(?:pattern)$ with Go's end-of-text `$` (kustomize anchorRegex). */
static int compile_anchored(pcre2_code **out, const char *field, const char *pattern)
{
    pl_buf b = PL_BUF_INIT;
    int errcode, error = 0;
    PCRE2_SIZE erroff;

    *out = NULL;
    if (!*pattern)
        return 0;
    if ((error = pl_buf_printf(&b, "^(?:%s)$", pattern)) < 0)
        goto done;
    *out = pcre2_compile((PCRE2_SPTR)b.ptr, b.len, PCRE2_UTF | PCRE2_DOLLAR_ENDONLY, &errcode,
                         &erroff, NULL);
    if (!*out) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(errcode, msg, sizeof(msg));
        error = pl_error_set(PL_EINVALID, "selector %s: invalid regex \"%s\": %s", field,
                             pattern, (const char *)msg);
    }
done:
    pl_buf_dispose(&b);
    return error;
}

/* 1 if an anchored regex of this pattern matches exactly the pattern text and nothing else */
static int is_literal(const char *pattern)
{
    const char *c;

    for (c = pattern; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '-'))
            return 0;
    return 1;
}

int pl_kz_selector_compile(pl_kz_selector **out, const json_t *selector)
{
    static const char *fields[RE_COUNT] = {"group", "version", "kind", "name", "namespace"};
    pl_kz_selector *sel = NULL;
    const char *vals[RE_COUNT], *ls, *as;
    pl_buf desc = PL_BUF_INIT;
    int error;

    *out = NULL;
    if (selector && !json_is_null(selector) && !json_is_object(selector))
        return pl_error_set(PL_EINVALID, "selector: expected a map, got %s",
                            json_type_name(selector));
    if (!(sel = pl_calloc(1, sizeof(*sel))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    for (int i = 0; i < RE_COUNT; i++) {
        if ((error = cfg_string(&vals[i], selector, fields[i], "selector")) < 0 ||
            (error = compile_anchored(&sel->re[i], fields[i], vals[i])) < 0)
            goto done;
        if (sel->re[i] && is_literal(vals[i])) {
            if (!(sel->lit[i] = pl_strdup(vals[i]))) {
                error = pl_error_set(PL_ENOMEM, "out of memory");
                goto done;
            }
            sel->litlen[i] = strlen(vals[i]);
        }
        if (sel->re[i] && !sel->md &&
            !(sel->md = pcre2_match_data_create(4, NULL))) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
    }
    if ((error = cfg_string(&ls, selector, "labelSelector", "selector")) < 0 ||
        (error = cfg_string(&as, selector, "annotationSelector", "selector")) < 0 ||
        (error = lsel_parse(&sel->labels, ls)) < 0 ||
        (error = lsel_parse(&sel->annotations, as)) < 0)
        goto done;
    /* kustomize's Selector.String: Kind.version.group/name.ns:a=...:l=... */
    {
        res_id id;
        memset(&id, 0, sizeof(id));
        snprintf(id.group, sizeof(id.group), "%s", vals[RE_GROUP]);
        id.version = vals[RE_VERSION];
        id.kind = vals[RE_KIND];
        id.name = vals[RE_NAME];
        id.ns = vals[RE_NAMESPACE];
        res_id_format(&desc, &id);
        pl_buf_printf(&desc, ":a=%s:l=%s", as, ls);
        sel->desc = pl_buf_detach(&desc);
    }
    *out = sel;
    sel = NULL;
done:
    pl_buf_dispose(&desc);
    pl_kz_selector_free(sel);
    return error;
}

static int re_match_n(const pl_kz_selector *sel, int which, const char *s, size_t n)
{
    if (!sel->re[which])
        return 1;
    if (sel->lit[which])
        return n == sel->litlen[which] && memcmp(s, sel->lit[which], n) == 0;
    return pcre2_match(sel->re[which], (PCRE2_SPTR)s, n, 0, 0, sel->md, NULL) >= 0;
}

static int re_match(const pl_kz_selector *sel, int which, const char *s)
{
    return re_match_n(sel, which, s, strlen(s));
}

/* First element of a comma-separated build annotation, in place ("" when absent). */
static const char *csv_first_ref(const pl_kz_res *r, const char *key, size_t *n)
{
    const char *s = pl_kz_res_annotation(r, key), *c;

    if (!s)
        s = "";
    c = strchr(s, ',');
    *n = c ? (size_t)(c - s) : strlen(s);
    return s;
}

/* Namespace regex against the original id's effective namespace (no allocation). */
static int org_ns_matches(const pl_kz_selector *sel, const pl_kz_res *r, const res_id *cur)
{
    char kind[256];
    size_t kn, nn;
    const char *k = csv_first_ref(r, PL_KZ_ANN_PREV_KINDS, &kn);
    const char *ns = csv_first_ref(r, PL_KZ_ANN_PREV_NAMESPACES, &nn);

    if (kn >= sizeof(kind))
        kn = sizeof(kind) - 1; /* no cluster-scoped kind is that long */
    memcpy(kind, k, kn);
    kind[kn] = '\0';
    if (pl_kz_is_cluster_scoped(cur->api_version, kind))
        return re_match(sel, RE_NAMESPACE, NON_NAMESPACEABLE);
    if (!nn)
        return re_match(sel, RE_NAMESPACE, "default");
    return re_match_n(sel, RE_NAMESPACE, ns, nn);
}

int pl_kz_selector_matches(const pl_kz_selector *sel, const pl_kz_res *r)
{
    res_id cur;
    int has_org;

    /*
     * The result is the conjunction of side-effect-free tests, so the cheapest one goes first:
     * most selectors name a kind, and most resources are rejected by it.
     */
    if (sel->re[RE_KIND] && !re_match(sel, RE_KIND, pl_kz_res_kind(r)))
        return 0;
    /* the original id is the first previous one (kustomize Resource.OrgId) */
    has_org = pl_kz_res_annotation(r, PL_KZ_ANN_PREV_NAMES) != NULL;
    res_id_of_obj(&cur, r->obj);
    if (sel->re[RE_NAMESPACE] &&
        !re_match(sel, RE_NAMESPACE, effective_ns(cur.api_version, cur.kind, cur.ns)) &&
        !(has_org && org_ns_matches(sel, r, &cur)))
        return 0;
    if (sel->re[RE_NAME] && !re_match(sel, RE_NAME, cur.name)) {
        size_t n;
        const char *org = csv_first_ref(r, PL_KZ_ANN_PREV_NAMES, &n);
        if (!has_org || !re_match_n(sel, RE_NAME, org, n))
            return 0;
    }
    if (!re_match(sel, RE_GROUP, cur.group) || !re_match(sel, RE_VERSION, cur.version) ||
        !re_match(sel, RE_KIND, cur.kind))
        return 0;
    if (sel->labels.n &&
        !lsel_matches(&sel->labels, pl_json_path(r->obj, "metadata", "labels", NULL)))
        return 0;
    if (sel->annotations.n &&
        !lsel_matches(&sel->annotations, pl_json_path(r->obj, "metadata", "annotations", NULL)))
        return 0;
    return 1;
}

int pl_kz_selector_match(const json_t *selector, const pl_kz_res *r)
{
    pl_kz_selector *sel;
    int rc;

    if ((rc = pl_kz_selector_compile(&sel, selector)) < 0)
        return rc;
    rc = pl_kz_selector_matches(sel, r);
    pl_kz_selector_free(sel);
    return rc;
}

/* Indexes of the resources selected (kustomize resWrangler.Select), in resmap order. Owned. */
static int select_indexes(size_t **out, size_t *nout, const pl_kz_resmap *m,
                          const pl_kz_selector *sel)
{
    size_t *v = NULL, n = 0;

    *out = NULL;
    *nout = 0;
    if (m->n && !(v = pl_malloc(m->n * sizeof(*v))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    for (size_t i = 0; i < m->n; i++) {
        int rc = pl_kz_selector_matches(sel, m->v[i]);
        if (rc < 0) {
            pl_free(v);
            return rc;
        }
        if (rc)
            v[n++] = i;
    }
    *out = v;
    *nout = n;
    return 0;
}

/* ---- patch documents ---------------------------------------------------------------------- */

/*
 * Strategic-merge patches from parsed documents, as kustomize's resource factory reads them
 * (RNodesFromBytes): empty and local-config documents are dropped, every document must be a
 * map with a kind and (unless a *List) a metadata.name, and *List items are appended after
 * the remaining documents. Returns 0 with *out (owned array of borrowed-then-increfed
 * objects), or PL_EINVALID saying why the text is not a strategic-merge patch.
 */
static int sm_from_docs(json_t **out, const json_t *docs)
{
    json_t *queue = json_array(), *res = json_array();
    int error = 0;

    *out = NULL;
    if (!queue || !res) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < json_array_size(docs); i++)
        json_array_append(queue, json_array_get(docs, i));
    for (size_t i = 0; i < json_array_size(queue); i++) {
        json_t *d = json_array_get(queue, i);
        const char *kind, *name;
        size_t kl;

        if (json_is_null(d) || (json_is_object(d) && !json_object_size(d)))
            continue;
        if (!json_is_object(d)) {
            error = pl_error_set(PL_EINVALID, "document is a %s, not a map", json_type_name(d));
            goto done;
        }
        if (!(kind = pl_json_str(d, "kind", NULL)) || !*kind) {
            error = pl_error_set(PL_EINVALID, "missing kind in object");
            goto done;
        }
        if (pl_json_path(d, "metadata", "annotations", "config.kubernetes.io/local-config", NULL))
            continue;
        kl = strlen(kind);
        if (kl >= 4 && !strcmp(kind + kl - 4, "List")) {
            json_t *items = json_object_get(d, "items");
            if (!items || json_is_null(items))
                continue;
            if (!json_is_array(items)) {
                error = pl_error_set(PL_EINVALID, "expected array in %s/items, but found %s", kind,
                                     json_type_name(items));
                goto done;
            }
            for (size_t j = 0; j < json_array_size(items); j++)
                json_array_append(queue, json_array_get(items, j));
            continue;
        }
        if (!(name = pl_json_str(d, "metadata", "name", NULL)) || !*name) {
            error = pl_error_set(PL_EINVALID, "missing metadata.name in object %s", kind);
            goto done;
        }
        if (json_array_append(res, d) < 0) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
    }
    *out = res;
    res = NULL;
done:
    json_decref(queue);
    json_decref(res);
    return error;
}

/*
 * JSON 6902 operations from parsed documents: only the first document counts (YAMLToJSON
 * reads one), and it must be a list of maps. Empty text gives an empty list. Owned.
 */
static int ops_from_docs(json_t **out, const json_t *docs)
{
    json_t *first = json_array_get(docs, 0);

    *out = NULL;
    if (!first || json_is_null(first)) {
        *out = json_array();
        return *out ? 0 : pl_error_set(PL_ENOMEM, "out of memory");
    }
    if (!json_is_array(first))
        return pl_error_set(PL_EINVALID,
                            "json: cannot unmarshal %s into Go value of type jsonpatch.Patch",
                            json_type_name(first));
    for (size_t i = 0; i < json_array_size(first); i++)
        if (!json_is_object(json_array_get(first, i)))
            return pl_error_set(PL_EINVALID,
                                "json: cannot unmarshal %s into Go value of type "
                                "jsonpatch.Operation",
                                json_type_name(json_array_get(first, i)));
    *out = json_incref(first); /* caller holds the new reference */
    return 0;
}

/* Text of a patch: inline, or the file at `path` (load restrictor applies). Owned in *out. */
static int load_text(pl_buf *out, const pl_kz_ctx *ctx, const char *path)
{
    int error = pl_kz_load_file(ctx, path, out, NULL);

    if (error >= 0 && !out->ptr && (error = pl_buf_puts(out, "")) < 0)
        return error;
    return error;
}

static int parse_docs(json_t **out, const char *text, size_t len, const char *name)
{
    return pl_yaml_parse(out, text, len, name, NULL);
}

/* ---- applying patches to resources ---------------------------------------------------------- */

static int set_meta_string(pl_kz_res *r, const char *field, const char *value)
{
    json_t *md = pl_json_mkpath(r->obj, "metadata", NULL);

    if (!md)
        return pl_error_set(PL_EINVALID, "metadata is not a map");
    if (!value || !*value) {
        json_object_del(md, field);
        return 0;
    }
    if (json_object_set_new(md, field, json_string(value)) < 0)
        return pl_error_set(PL_ENOMEM, "out of memory");
    return 0;
}

static int annotation_true(const json_t *patch, const char *key)
{
    const char *v = pl_json_str(patch, "metadata", "annotations", key, NULL);
    return v && !strcmp(v, "true");
}

/*
 * Strategic-merge `patch` into r (kustomize resWrangler.ApplySmPatch + Resource.ApplySmPatch):
 * the patch takes the resource's apiVersion; name and kind are restored unless allowed to
 * change (then the previous id is recorded first); the namespace is always restored.
 * *deleted is set when the patch removed the whole object.
 */
static int apply_sm(const pl_kz_ctx *ctx, pl_kz_res *r, const json_t *patch, int allow_name,
                    int allow_kind, int *deleted)
{
    char *name = pl_strdup(pl_kz_res_name(r));
    char *ns = pl_strdup(pl_kz_res_namespace(r));
    char *kind = pl_strdup(pl_kz_res_kind(r));
    json_t *pc = json_copy((json_t *)patch); /* shallow: only apiVersion is replaced */
    json_t *av = json_object_get(r->obj, "apiVersion");
    int error = 0;

    *deleted = 0;
    allow_name = allow_name || annotation_true(patch, PL_KZ_ANN_ALLOW_NAME_CHANGE);
    allow_kind = allow_kind || annotation_true(patch, PL_KZ_ANN_ALLOW_KIND_CHANGE);
    if (!name || !ns || !kind || !pc) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if (av)
        error = json_object_set(pc, "apiVersion", av);
    else
        json_object_del(pc, "apiVersion");
    if (error < 0) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if ((allow_name || allow_kind) && (error = pl_kz_res_store_previous_id(r)) < 0)
        goto done;
    if ((error = pl_kz_smp_apply(&r->obj, pc, ctx ? ctx->openapi : NULL)) < 0) {
        if (r->obj)
            prefix_res_error(r);
        goto done;
    }
    if (!r->obj || json_is_null(r->obj) || (json_is_object(r->obj) && !json_object_size(r->obj))) {
        *deleted = 1;
        goto done;
    }
    if (!allow_kind && strcmp(pl_kz_res_kind(r), kind) &&
        json_object_set_new(r->obj, "kind", json_string(kind)) < 0) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if ((!allow_name && (error = set_meta_string(r, "name", name)) < 0) ||
        (error = set_meta_string(r, "namespace", ns)) < 0)
        goto done;
done:
    json_decref(pc);
    pl_free(name);
    pl_free(ns);
    pl_free(kind);
    return error;
}

/* kioutil.GetInternalAnnotations: kustomize-internal keys a JSON patch must not lose. */
static int is_internal_annotation(const char *k)
{
    return !strncmp(k, "internal.config.kubernetes.io/", 30) ||
           !strcmp(k, "config.kubernetes.io/path") || !strcmp(k, "config.kubernetes.io/index") ||
           !strcmp(k, "config.k8s.io/id");
}

/*
 * Integers go through float64 in kyaml's RNode.UnmarshalJSON after a JSON patch: values
 * beyond 2^53 come back rounded.
 */
static void float64_roundtrip(json_t *v)
{
    const char *k;
    json_t *c;
    size_t i;

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        json_object_foreach (v, k, c)
            float64_roundtrip(c);
        break;
    case JSON_ARRAY:
        json_array_foreach (v, i, c)
            float64_roundtrip(c);
        break;
    case JSON_INTEGER: {
        json_int_t n = json_integer_value(v);
        const json_int_t lim = (json_int_t)1 << 53;
        if (n > lim || n < -lim) {
            double d = (double)n;
            if (d < 9223372036854775807.0 && d >= -9223372036854775808.0)
                json_integer_set(v, (json_int_t)d);
        }
        break;
    }
    default:
        break;
    }
}

/*
 * Annotations after a JSON patch (the transformers' GetAnnotations/SetAnnotations round):
 * internal ones restored, values read as strings, an empty map removed.
 */
static int restore_annotations(pl_kz_res *r, json_t *saved)
{
    json_t *md = json_object_get(r->obj, "metadata"), *ann, *v;
    const char *k;
    char buf[64];

    if (!json_is_object(md)) {
        if (!json_object_size(saved))
            return 0;
        if (!(md = pl_json_mkpath(r->obj, "metadata", NULL)))
            return pl_error_set(PL_EINVALID, "metadata is not a map");
    }
    ann = json_object_get(md, "annotations");
    if (ann && !json_is_object(ann)) {
        json_object_del(md, "annotations");
        ann = NULL;
    }
    if (json_object_size(saved)) {
        if (!(ann = pl_json_mkpath(md, "annotations", NULL)) || json_object_update(ann, saved) < 0)
            return pl_error_set(PL_ENOMEM, "out of memory");
    }
    if (!ann)
        return 0;
    if (!json_object_size(ann)) {
        json_object_del(md, "annotations");
        return 0;
    }
    json_object_foreach (ann, k, v) {
        if (!json_is_string(v) &&
            json_object_set_new(ann, k, json_string(scalar_text(v, buf, sizeof(buf)))) < 0)
            return pl_error_set(PL_ENOMEM, "out of memory");
    }
    return 0;
}

/* JSON patch `ops` into r as the patchjson6902 filter inside the transformers does. */
static int apply_json(pl_kz_res *r, const json_t *ops, int store_previous)
{
    json_t *saved = json_object(), *ann, *v;
    const char *k;
    int error;

    if (!saved)
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (store_previous && (error = pl_kz_res_store_previous_id(r)) < 0)
        goto done;
    ann = pl_json_path(r->obj, "metadata", "annotations", NULL);
    if (json_is_object(ann)) {
        json_object_foreach (ann, k, v) {
            if (is_internal_annotation(k) && json_object_set(saved, k, v) < 0) {
                error = pl_error_set(PL_ENOMEM, "out of memory");
                goto done;
            }
        }
    }
    if ((error = pl_kz_jsonpatch_apply(&r->obj, ops)) < 0) {
        prefix_res_error(r);
        goto done;
    }
    if ((error = restore_annotations(r, saved)) < 0)
        goto done;
    float64_roundtrip(r->obj);
done:
    json_decref(saved);
    return error;
}

/* Drop the resources flagged in `gone` (same length as m) keeping order. */
static void drop_flagged(pl_kz_resmap *m, const unsigned char *gone)
{
    size_t j = 0;

    for (size_t i = 0; i < m->n; i++) {
        if (gone[i])
            pl_kz_res_free(m->v[i]);
        else
            m->v[j++] = m->v[i];
    }
    m->n = j;
}

/* After renames: two resources may not share an id (resWrangler.appendAll). */
static int check_unique_ids(const pl_kz_resmap *m, const size_t *changed, size_t nchanged)
{
    for (size_t c = 0; c < nchanged; c++) {
        res_id a;
        res_id_of_obj(&a, m->v[changed[c]]->obj);
        for (size_t i = 0; i < m->n; i++) {
            res_id b;
            if (i == changed[c])
                continue;
            res_id_of_obj(&b, m->v[i]->obj);
            if (res_id_equal(&a, &b)) {
                pl_buf s = PL_BUF_INIT;
                int error;
                res_id_format(&s, &a);
                error = pl_error_set(PL_EINVALID,
                                     "may not add resource with an already registered id: %s",
                                     s.ptr ? s.ptr : "");
                pl_buf_dispose(&s);
                return error;
            }
        }
    }
    return 0;
}

/*
 * The one resource whose current or any previous id equals the patch's id
 * (kustomize resWrangler.GetById over GetMatchingResourcesByAnyId).
 */
static int find_by_any_id(size_t *out, const pl_kz_resmap *m, const json_t *patch)
{
    res_id want;
    size_t count = 0;
    pl_buf s = PL_BUF_INIT;
    int error;

    res_id_of_obj(&want, patch);
    for (size_t i = 0; i < m->n; i++) {
        const pl_kz_res *r = m->v[i];
        const char *prev_names = pl_kz_res_annotation(r, PL_KZ_ANN_PREV_NAMES);
        res_id cur;
        int hit;

        /* cheap rejection first: neither the current name nor a previous one can match */
        if (strcmp(pl_kz_res_name(r), want.name) &&
            (!prev_names || !strstr(prev_names, want.name)))
            continue;
        res_id_of_obj(&cur, r->obj);
        hit = res_id_equal(&want, &cur);
        if (!hit && prev_names) {
            json_t *prev = pl_kz_res_previous_ids(r);
            for (size_t j = 0; !hit && j < json_array_size(prev); j++) {
                json_t *p = json_array_get(prev, j);
                res_id pid = cur;
                const char *s2;
                pid.kind = (s2 = pl_json_str(p, "kind", NULL)) ? s2 : "";
                pid.name = (s2 = pl_json_str(p, "name", NULL)) ? s2 : "";
                pid.ns = (s2 = pl_json_str(p, "namespace", NULL)) ? s2 : "";
                hit = res_id_equal(&want, &pid);
            }
            json_decref(prev);
        }
        if (hit) {
            *out = i;
            count++;
        }
    }
    if (count == 1)
        return 0;
    res_id_format(&s, &want);
    if (count > 1)
        error = pl_error_set(PL_EINVALID,
                             "multiple matches for Id %s; failed to find unique target for patch %s",
                             s.ptr, s.ptr);
    else
        error = pl_error_set(PL_ENOTFOUND,
                             "no resource matches strategic merge patch \"%s\": no matches for Id "
                             "%s; failed to find unique target for patch %s",
                             s.ptr, s.ptr, s.ptr);
    pl_buf_dispose(&s);
    return error;
}

/*
 * Patch targets are patched independently, so a patch on many targets is split across the
 * build's spare threads (pl_kz_parallel_ranges); ranges of PATCH_PAR_MIN targets at least.
 */
#define PATCH_PAR_MIN 64
#define PATCH_PAR_MAX 8

typedef struct patch_part {
    const pl_kz_ctx *ctx;
    pl_kz_resmap *m;
    const size_t *idx;   /* the targets */
    json_t *patch;       /* this thread's copy of the patch (or of the JSON ops) */
    unsigned char *gone; /* per resource: deleted by the patch (each target its own entry) */
    int allow_name, allow_kind;
    int any_gone;
} patch_part;

static int sm_range(void *arg, size_t from, size_t to)
{
    patch_part *pp = arg;
    int error;

    for (size_t i = from; i < to; i++) {
        int deleted;
        if ((error = apply_sm(pp->ctx, pp->m->v[pp->idx[i]], pp->patch, pp->allow_name,
                              pp->allow_kind, &deleted)) < 0)
            return error;
        pp->gone[pp->idx[i]] = (unsigned char)deleted;
        pp->any_gone |= deleted;
    }
    return 0;
}

static int json_range(void *arg, size_t from, size_t to)
{
    patch_part *pp = arg;
    int error;

    for (size_t i = from; i < to; i++)
        if ((error = apply_json(pp->m->v[pp->idx[i]], pp->patch, 1)) < 0)
            return error;
    return 0;
}

/*
 * Apply `patch` to the n targets idx[] with fn (sm_range or json_range), spread over the
 * build's spare threads. Each thread works with its own copy of the patch: applying one
 * takes references to its nodes, and jansson's reference counts may be changed
 * concurrently but not read while another thread changes them.
 */
static int run_parts(const pl_kz_ctx *ctx, size_t n, pl_kz_range_fn fn, const json_t *patch,
                     pl_kz_resmap *m, const size_t *idx, unsigned char *gone, int allow_name,
                     int allow_kind, int *any_gone)
{
    patch_part parts[PATCH_PAR_MAX];
    size_t nparts = n >= 2 * PATCH_PAR_MIN && ctx && ctx->workers ? PATCH_PAR_MAX : 1;
    int error = 0;

    memset(parts, 0, sizeof(parts));
    for (size_t k = 0; k < nparts && error == 0; k++) {
        parts[k] = (patch_part){ctx, m, idx, NULL, gone, allow_name, allow_kind, 0};
        if (!(parts[k].patch = k ? pl_kz_json_copy(patch) : json_incref((json_t *)patch)))
            error = pl_error_set(PL_ENOMEM, "out of memory");
    }
    if (error == 0)
        error = pl_kz_parallel_ranges(ctx, n, PATCH_PAR_MIN, fn, parts, sizeof(parts[0]), nparts,
                                      NULL);
    for (size_t k = 0; k < nparts; k++) {
        if (any_gone)
            *any_gone |= parts[k].any_gone;
        json_decref(parts[k].patch);
    }
    return error;
}

/*
 * Apply each strategic-merge patch either to its own target (by id) or, with a selector, to
 * every selected resource. Deleted resources are dropped; renamed ones checked for clashes.
 */
static int run_sm_patches(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *patches,
                          const pl_kz_selector *sel, int allow_name, int allow_kind)
{
    size_t *idx = NULL, n = 0, one = 0;
    unsigned char *gone = NULL;
    int error = 0;

    for (size_t p = 0; p < json_array_size(patches); p++) {
        const json_t *patch = json_array_get(patches, p);
        int any_gone = 0;

        pl_free(idx);
        idx = NULL;
        if (sel) {
            if ((error = select_indexes(&idx, &n, m, sel)) < 0)
                goto done;
        } else {
            if ((error = find_by_any_id(&one, m, patch)) < 0)
                goto done;
            if (!(idx = pl_malloc(sizeof(*idx)))) {
                error = pl_error_set(PL_ENOMEM, "out of memory");
                goto done;
            }
            idx[0] = one;
            n = 1;
        }
        pl_free(gone);
        if (!(gone = pl_calloc(m->n ? m->n : 1, 1))) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
        if ((error = run_parts(ctx, n, sm_range, patch, m, idx, gone, allow_name, allow_kind,
                               &any_gone)) < 0)
            goto done;
        if ((allow_name || allow_kind || annotation_true(patch, PL_KZ_ANN_ALLOW_NAME_CHANGE) ||
             annotation_true(patch, PL_KZ_ANN_ALLOW_KIND_CHANGE))) {
            /* only the survivors can clash */
            size_t k = 0;
            for (size_t i = 0; i < n; i++)
                if (!gone[idx[i]])
                    idx[k++] = idx[i];
            if ((error = check_unique_ids(m, idx, k)) < 0)
                goto done;
        }
        if (any_gone)
            drop_flagged(m, gone);
    }
done:
    pl_free(idx);
    pl_free(gone);
    return error;
}

/* ---- builtins ------------------------------------------------------------------------------ */

static int cfg_bool_option(int *out, const json_t *options, const char *key)
{
    json_t *v = json_object_get(options, key);

    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return pl_error_set(PL_EINVALID,
                            "PatchTransformer: cannot unmarshal %s into options.%s of type bool",
                            json_type_name(v), key);
    *out = json_is_true(v);
    return 0;
}

/* strings.TrimSpace for the inline patch (ASCII white space is what matters here). */
static char *trim_dup(const char *s)
{
    size_t n;

    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f')
        s++;
    n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r' ||
                 s[n - 1] == '\v' || s[n - 1] == '\f'))
        n--;
    return pl_strndup(s, n);
}

int pl_kz_t_patch(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    const char *path, *patch_raw;
    char *patch = NULL;
    json_t *target, *options, *docs = NULL, *sm = NULL, *ops = NULL;
    pl_kz_selector *sel = NULL;
    pl_buf text = PL_BUF_INIT;
    size_t *idx = NULL, n = 0;
    int allow_name, allow_kind, error, sm_err, ops_err;
    char sm_why[sizeof(((pl_error *)0)->message)];

    if ((error = cfg_string(&path, cfg, "path", "PatchTransformer")) < 0 ||
        (error = cfg_string(&patch_raw, cfg, "patch", "PatchTransformer")) < 0)
        goto done;
    target = cfg_get(cfg, "target");
    options = cfg_get(cfg, "options");
    if (options && !json_is_null(options) && !json_is_object(options)) {
        error = pl_error_set(PL_EINVALID, "PatchTransformer: options must be a map");
        goto done;
    }
    if ((error = cfg_bool_option(&allow_name, options, "allowNameChange")) < 0 ||
        (error = cfg_bool_option(&allow_kind, options, "allowKindChange")) < 0)
        goto done;
    if (!(patch = trim_dup(patch_raw))) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if (!*patch && !*path) {
        error = pl_error_set(PL_EINVALID, "PatchTransformer: must specify one of patch and path in "
                                          "config");
        goto done;
    }
    if (*patch && *path) {
        error = pl_error_set(PL_EINVALID,
                             "PatchTransformer: patch and path can't be set at the same time "
                             "(path %s)",
                             path);
        goto done;
    }
    if (*path) {
        if ((error = load_text(&text, ctx, path)) < 0)
            goto done;
    } else if ((error = pl_buf_puts(&text, patch)) < 0) {
        goto done;
    }
    if ((error = parse_docs(&docs, text.ptr, text.len, *path ? path : "patch")) < 0) {
        pl_error_prefix("unable to parse SM or JSON patch from [%s]", *path ? path : "patch");
        goto done;
    }
    /* kustomize tries both readings; exactly one may succeed (or neither, for empty text) */
    sm_err = sm_from_docs(&sm, docs);
    snprintf(sm_why, sizeof(sm_why), "%s", pl_error_last()->message);
    ops_err = ops_from_docs(&ops, docs);
    if (sm_err < 0 && ops_err < 0) {
        error = pl_error_set(PL_EINVALID, "unable to parse SM or JSON patch from [%s]: %s; %s",
                             *path ? path : patch, sm_why, pl_error_last()->message);
        goto done;
    }
    if (sm_err == PL_ENOMEM || ops_err == PL_ENOMEM) {
        error = PL_ENOMEM;
        goto done;
    }
    if (target && !json_is_null(target) && (error = pl_kz_selector_compile(&sel, target)) < 0)
        goto done;
    if (sm_err == 0 && json_array_size(sm) > 0) {
        if (sel && json_array_size(sm) > 1) {
            error = pl_error_set(PL_EINVALID,
                                 "Multiple Strategic-Merge Patches in one `patches` entry is not "
                                 "allowed to set `patches.target` field: [%s]",
                                 *path ? path : "patch");
            goto done;
        }
        error = run_sm_patches(ctx, m, sm, sel, allow_name, allow_kind);
        goto done;
    }
    if (ops_err < 0 || json_array_size(ops) == 0)
        goto done; /* nothing to apply: blank or comment-only patch */
    if (!sel) {
        error = pl_error_set(PL_EINVALID, "must specify a target for JSON patch [%s]",
                             *path ? path : patch);
        goto done;
    }
    if ((error = select_indexes(&idx, &n, m, sel)) < 0)
        goto done;
    error = run_parts(ctx, n, json_range, ops, m, idx, NULL, 0, 0, NULL);
done:
    pl_free(idx);
    pl_kz_selector_free(sel);
    json_decref(docs);
    json_decref(sm);
    json_decref(ops);
    pl_buf_dispose(&text);
    pl_free(patch);
    return error;
}

int pl_kz_t_patch_sm(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    json_t *paths = cfg_get(cfg, "paths"), *all = json_array(), *docs = NULL, *sm = NULL;
    const char *inline_patches;
    pl_buf text = PL_BUF_INIT;
    int error;

    if (!all) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if ((error = cfg_string(&inline_patches, cfg, "patches", "PatchStrategicMergeTransformer")) < 0)
        goto done;
    if (paths && !json_is_null(paths) && !json_is_array(paths)) {
        error = pl_error_set(PL_EINVALID, "PatchStrategicMergeTransformer: paths must be a list");
        goto done;
    }
    if (!json_array_size(paths) && !*inline_patches) {
        error = pl_error_set(PL_EINVALID,
                             "PatchStrategicMergeTransformer: empty file path and empty patch "
                             "content");
        goto done;
    }
    for (size_t i = 0; i < json_array_size(paths); i++) {
        const char *p = json_string_value(json_array_get(paths, i));

        if (!p) {
            error = pl_error_set(PL_EINVALID,
                                 "PatchStrategicMergeTransformer: paths[%zu] is not a string", i);
            goto done;
        }
        /* for legacy reasons an entry may be the patch itself; failing that it is a file */
        json_decref(docs);
        docs = NULL;
        json_decref(sm);
        sm = NULL;
        if (pl_yaml_parse(&docs, p, strlen(p), "patchesStrategicMerge", NULL) < 0 ||
            sm_from_docs(&sm, docs) < 0) {
            json_decref(docs);
            docs = NULL;
            pl_buf_clear(&text);
            if ((error = load_text(&text, ctx, p)) < 0)
                goto done;
            if ((error = parse_docs(&docs, text.ptr, text.len, p)) < 0)
                goto done;
            if ((error = sm_from_docs(&sm, docs)) < 0) {
                pl_error_prefix("%s", p);
                goto done;
            }
        }
        if (json_array_extend(all, sm) < 0) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (*inline_patches) {
        json_decref(docs);
        docs = NULL;
        json_decref(sm);
        sm = NULL;
        if ((error = parse_docs(&docs, inline_patches, strlen(inline_patches), "patches")) < 0 ||
            (error = sm_from_docs(&sm, docs)) < 0 || json_array_extend(all, sm) < 0) {
            if (error >= 0)
                error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (!json_array_size(all)) {
        error = pl_error_set(PL_EINVALID, "patch appears to be empty; files=%zu, Patch=%s",
                             json_array_size(paths), inline_patches);
        goto done;
    }
    error = run_sm_patches(ctx, m, all, NULL, 0, 0);
done:
    json_decref(all);
    json_decref(docs);
    json_decref(sm);
    pl_buf_dispose(&text);
    return error;
}

int pl_kz_t_patch_json6902(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    json_t *target = cfg_get(cfg, "target"), *docs = NULL, *ops = NULL;
    const char *path, *json_op, *name = "";
    pl_kz_selector *sel = NULL;
    pl_buf text = PL_BUF_INIT;
    size_t *idx = NULL, n = 0;
    int error;

    if ((error = cfg_string(&path, cfg, "path", "PatchJson6902Transformer")) < 0 ||
        (error = cfg_string(&json_op, cfg, "jsonOp", "PatchJson6902Transformer")) < 0)
        goto done;
    if (json_is_object(target) && (error = cfg_string(&name, target, "name", "target")) < 0)
        goto done;
    if (!*name) {
        error = pl_error_set(PL_EINVALID, "PatchJson6902Transformer: must specify the target name");
        goto done;
    }
    if (!*path && !*json_op) {
        error = pl_error_set(PL_EINVALID,
                             "PatchJson6902Transformer: empty file path and empty jsonOp");
        goto done;
    }
    if (*path) {
        if (*json_op) {
            error = pl_error_set(PL_EINVALID, "PatchJson6902Transformer: must specify a file path "
                                              "or jsonOp, not both");
            goto done;
        }
        if ((error = load_text(&text, ctx, path)) < 0)
            goto done;
        if (!text.len) {
            error = pl_error_set(PL_EINVALID, "patch file '%s' empty seems to be empty", path);
            goto done;
        }
    } else if ((error = pl_buf_puts(&text, json_op)) < 0) {
        goto done;
    }
    if ((error = parse_docs(&docs, text.ptr, text.len, *path ? path : "jsonOp")) < 0 ||
        (error = ops_from_docs(&ops, docs)) < 0) {
        pl_error_prefix("decoding %s", *path ? path : "jsonOp");
        goto done;
    }
    if (!json_array_size(ops)) {
        error = pl_error_set(PL_EINVALID, "patch appears to be empty; file=%s, JsonOp=%s", path,
                             json_op);
        goto done;
    }
    if ((error = pl_kz_selector_compile(&sel, target)) < 0 ||
        (error = select_indexes(&idx, &n, m, sel)) < 0)
        goto done;
    if (!n) {
        error = pl_error_set(PL_ENOTFOUND, "patchesJson6902 target not found for %s", sel->desc);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        if ((error = apply_json(m->v[idx[i]], ops, 0)) < 0)
            goto done;
done:
    pl_free(idx);
    pl_kz_selector_free(sel);
    json_decref(docs);
    json_decref(ops);
    pl_buf_dispose(&text);
    return error;
}
