/*
 * kz_generators.c - ConfigMapGenerator / SecretGenerator, generator behaviors (create / merge /
 * replace) and the content-hash name suffix (HashTransformer).
 *
 * What it reproduces (kustomize v5):
 *  - the builtin generator configs (api/internal/builtins/ConfigMapGenerator.go,
 *    SecretGenerator.go; api/types/genargs.go, kvpairsources.go, generatoroptions.go), including
 *    MergeGlobalOptionsIntoLocal for the kustomization's `generatorOptions:`;
 *  - key/value loading (api/kv/kv.go): env files first, then literals, then files;
 *  - object construction (api/internal/generators, kyaml LoadMapIntoConfigMapData /
 *    LoadMapIntoSecretData): non-UTF-8 ConfigMap values go to binaryData, base64 is wrapped at
 *    70 columns, Secrets always carry a `data` map;
 *  - resWrangler.appendReplaceOrMerge and Resource.CopyMergeMetaDataFieldsFrom;
 *  - api/hasher: Go encoding/json of {kind, name, data[, binaryData]} (Secret: + type
 *    [, stringData]), sha256, kubectl's 10-character encode().
 *
 * What it deliberately does not do: key validation (kustomize v5's field validator accepts any
 * key), environment lookups for bare env-file keys (v5 uses ""), remote file sources (the loader
 * refuses them), and hashes of kinds other than ConfigMap/Secret (kustomize hashes those from
 * the yaml.Node struct, which only exec/KRM generator plugins can request).
 *
 * Callers: kz_builtins.c dispatches the builtin kinds here; kz_build.c absorbs generator output
 * with pl_kz_resmap_absorb and runs the hash transformer once at the top level.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kz.h"

#define ANN_ORIGIN "config.kubernetes.io/origin"

/*
 * Annotations kustomize treats as build bookkeeping (api/resource BuildAnnotations). When a
 * generator merges into or replaces an object, these come from the existing object only.
 */
static const char *const build_annotations[] = {
    PL_KZ_ANN_PREV_KINDS,
    PL_KZ_ANN_PREV_NAMES,
    PL_KZ_ANN_PREFIXES,
    PL_KZ_ANN_SUFFIXES,
    PL_KZ_ANN_PREV_NAMESPACES,
    PL_KZ_ANN_ALLOW_NAME_CHANGE,
    PL_KZ_ANN_ALLOW_KIND_CHANGE,
    "internal.config.kubernetes.io/refBy",
    "kustomize.config.k8s.io/behavior",
    "kustomize.config.k8s.io/needs-hash",
    "internal.config.kubernetes.io/path",
    "internal.config.kubernetes.io/index",
    "internal.config.kubernetes.io/seqindent",
    "internal.config.kubernetes.io/id",
    PL_KZ_ANN_ID,
    "config.kubernetes.io/path",
    "config.kubernetes.io/index",
    "config.k8s.io/id",
    "kustomize.config.k8s.io/helm-generated",
};

/* ---- UTF-8 and Go string helpers ------------------------------------------------------------ */

/*
 * Decode one UTF-8 sequence as Go's utf8.DecodeRune does: returns the rune and its length, or
 * -1 with length 1 for an invalid byte (overlong forms, surrogates and > U+10FFFF are invalid).
 */
static long utf8_decode(const unsigned char *s, size_t n, size_t *len)
{
    unsigned char c = s[0];
    long r;
    size_t need, i;

    *len = 1;
    if (c < 0x80)
        return c;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
        r = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        r = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        r = c & 0x07;
    } else {
        return -1;
    }
    if (n < need)
        return -1;
    for (i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        r = (r << 6) | (s[i] & 0x3F);
    }
    if ((need == 3 && (r < 0x800 || (r >= 0xD800 && r <= 0xDFFF))) ||
        (need == 4 && (r < 0x10000 || r > 0x10FFFF)))
        return -1;
    *len = need;
    return r;
}

static int utf8_valid(const char *s, size_t n)
{
    size_t i = 0, len;
    while (i < n) {
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        if (utf8_decode((const unsigned char *)s + i, n - i, &len) < 0)
            return 0;
        i += len;
    }
    return 1;
}

/* Go's unicode.IsSpace. */
static int go_is_space(long r)
{
    switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000: return 1;
    default: return r >= 0x2000 && r <= 0x200A;
    }
}

/* Go's path.Base (slash-separated, no cleaning beyond trailing slashes). Owned. */
static char *go_path_base(const char *p)
{
    size_t n = strlen(p), start;
    if (n == 0)
        return pl_strdup(".");
    while (n > 0 && p[n - 1] == '/')
        n--;
    if (n == 0)
        return pl_strdup("/");
    start = n;
    while (start > 0 && p[start - 1] != '/')
        start--;
    return pl_strndup(p + start, n - start);
}

/*
 * Base64 (standard alphabet, padded) split into lines of 70 characters, each followed by '\n'
 * when the encoding is 70 characters or longer (kyaml encodeBase64).
 */
static int base64_wrapped(pl_buf *out, const unsigned char *s, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const size_t line_len = 70;
    size_t enc_len = (n + 2) / 3 * 4, lines = enc_len / line_len + 1, col = 0;
    int error;

    if ((error = pl_buf_put(out, "", 0)) < 0)
        return error;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16;
        char q[4];
        if (i + 1 < n)
            v |= (unsigned)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        q[0] = tab[(v >> 18) & 63];
        q[1] = tab[(v >> 12) & 63];
        q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? tab[v & 63] : '=';
        for (int k = 0; k < 4; k++) {
            if ((error = pl_buf_putc(out, q[k])) < 0)
                return error;
            if (++col == line_len && lines > 1) {
                if ((error = pl_buf_putc(out, '\n')) < 0)
                    return error;
                col = 0;
            }
        }
    }
    if (lines > 1 && col > 0)
        return pl_buf_putc(out, '\n');
    return 0;
}

/* ---- Go encoding/json (the hash; replacements in structured fields, kz_replace.c) -------------------------------------------------------- */

/* A JSON string as Go's encoding/json writes it (HTMLEscape on, invalid UTF-8 -> U+FFFD). */
int pl_kz_go_json_string(pl_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, start = 0, len;
    int error = pl_buf_putc(b, '"');

    while (error == 0 && i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
                i++;
                continue;
            }
            if ((error = pl_buf_put(b, s + start, i - start)) < 0)
                break;
            switch (c) {
            case '"':
            case '\\':
                pl_buf_putc(b, '\\');
                error = pl_buf_putc(b, (char)c);
                break;
            case '\b': error = pl_buf_puts(b, "\\b"); break;
            case '\f': error = pl_buf_puts(b, "\\f"); break;
            case '\n': error = pl_buf_puts(b, "\\n"); break;
            case '\r': error = pl_buf_puts(b, "\\r"); break;
            case '\t': error = pl_buf_puts(b, "\\t"); break;
            default:
                pl_buf_puts(b, "\\u00");
                pl_buf_putc(b, hex[c >> 4]);
                error = pl_buf_putc(b, hex[c & 0xF]);
            }
            start = ++i;
            continue;
        }
        {
            long r = utf8_decode((const unsigned char *)s + i, n - i, &len);
            if (r >= 0 && r != 0x2028 && r != 0x2029) {
                i += len;
                continue;
            }
            if ((error = pl_buf_put(b, s + start, i - start)) < 0)
                break;
            if (r < 0)
                error = pl_buf_puts(b, "\\ufffd");
            else
                error = pl_buf_puts(b, r == 0x2028 ? "\\u2028" : "\\u2029");
            i += len;
            start = i;
        }
    }
    if (error == 0 && (error = pl_buf_put(b, s + start, n - start)) == 0)
        error = pl_buf_putc(b, '"');
    return error;
}

/*
 * A float64 as Go's encoding/json writes it: shortest round-trip digits, %f form for
 * 1e-6 <= |x| < 1e21, otherwise %e form with a two-digit-minimum exponent trimmed of its
 * leading zero ("1e-7", "1e+21").
 */
int pl_kz_go_json_float(pl_buf *b, double f)
{
    char tmp[64], digits[32];
    int prec, exp10, nd = 0;
    char *e;
    double a = fabs(f);

    if (!isfinite(f))
        return pl_error_set(PL_EINVALID, "json: unsupported value: %g", f);
    if (f == 0)
        return pl_buf_puts(b, signbit(f) ? "-0" : "0");
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, f);
        if (strtod(tmp, NULL) == f)
            break;
    }
    /* tmp = [-]d[.ddd]e[+-]XX: collect the digits and the exponent */
    for (const char *p = tmp; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && nd < (int)sizeof(digits) - 1)
            digits[nd++] = *p;
    digits[nd] = '\0';
    while (nd > 1 && digits[nd - 1] == '0')
        digits[--nd] = '\0';
    e = strchr(tmp, 'e');
    exp10 = e ? (int)strtol(e + 1, NULL, 10) : 0;
    if (f < 0)
        pl_buf_putc(b, '-');
    if (a < 1e-6 || a >= 1e21) {
        pl_buf_putc(b, digits[0]);
        if (nd > 1) {
            pl_buf_putc(b, '.');
            pl_buf_puts(b, digits + 1);
        }
        return pl_buf_printf(b, "e%c%d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    }
    if (exp10 < 0) {
        pl_buf_puts(b, "0.");
        for (int i = 0; i < -exp10 - 1; i++)
            pl_buf_putc(b, '0');
        return pl_buf_puts(b, digits);
    }
    for (int i = 0; i <= exp10 || i < nd; i++) {
        if (i == exp10 + 1)
            pl_buf_putc(b, '.');
        pl_buf_putc(b, i < nd ? digits[i] : '0');
    }
    return 0;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Go's json.Marshal of a value decoded into interface{} (maps sorted by key bytes). */
static int go_json_value(pl_buf *b, const json_t *v)
{
    int error = 0;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char **keys = pl_calloc(n ? n : 1, sizeof(*keys));
        const char *k;
        json_t *e;
        if (!keys)
            return pl_error_set(PL_ENOMEM, "out of memory");
        json_object_foreach((json_t *)v, k, e) keys[i++] = k;
        qsort(keys, n, sizeof(*keys), key_cmp);
        pl_buf_putc(b, '{');
        for (i = 0; i < n && error == 0; i++) {
            if (i)
                pl_buf_putc(b, ',');
            if ((error = pl_kz_go_json_string(b, keys[i], strlen(keys[i]))) == 0 &&
                (error = pl_buf_putc(b, ':')) == 0)
                error = go_json_value(b, json_object_get(v, keys[i]));
        }
        pl_free(keys);
        return error ? error : pl_buf_putc(b, '}');
    }
    case JSON_ARRAY:
        pl_buf_putc(b, '[');
        for (size_t i = 0; i < json_array_size(v) && error == 0; i++) {
            if (i)
                pl_buf_putc(b, ',');
            error = go_json_value(b, json_array_get(v, i));
        }
        return error ? error : pl_buf_putc(b, ']');
    case JSON_STRING: return pl_kz_go_json_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        /* decoded into float64 by kustomize before being marshalled again */
        return pl_kz_go_json_float(b, (double)json_integer_value(v));
    case JSON_REAL: return pl_kz_go_json_float(b, json_real_value(v));
    case JSON_TRUE: return pl_buf_puts(b, "true");
    case JSON_FALSE: return pl_buf_puts(b, "false");
    default: return pl_buf_puts(b, "null");
    }
}

/* The scalar text of a value as kyaml's GetValue / node Value gives it (best effort). */
static int scalar_text(pl_buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING: return pl_buf_put(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: return pl_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL: return pl_kz_go_json_float(b, json_real_value(v));
    case JSON_TRUE: return pl_buf_puts(b, "true");
    case JSON_FALSE: return pl_buf_puts(b, "false");
    default: return pl_buf_put(b, "", 0);
    }
}

/*
 * One field of the hash input as hasher.getNodeValues reads it: absent -> "", a scalar -> its
 * text, a map -> the map, any other non-scalar -> null (a failed decode into a Go map).
 */
static int hash_field(pl_buf *b, const json_t *v)
{
    pl_buf t = PL_BUF_INIT;
    int error;

    if (!v || json_is_null(v))
        return pl_buf_puts(b, "\"\"");
    if (json_is_object(v))
        return go_json_value(b, v);
    if (json_is_array(v))
        return pl_buf_puts(b, "null");
    if ((error = scalar_text(&t, v)) == 0)
        error = pl_kz_go_json_string(b, t.ptr, t.len);
    pl_buf_dispose(&t);
    return error;
}

/* kubectl's hash encode(): the first 10 hex characters with 0,1,3,a,e replaced. */
static void hash_encode(char out[11], const char hex[65])
{
    for (int i = 0; i < 10; i++) {
        switch (hex[i]) {
        case '0': out[i] = 'g'; break;
        case '1': out[i] = 'h'; break;
        case '3': out[i] = 'k'; break;
        case 'a': out[i] = 'm'; break;
        case 'e': out[i] = 't'; break;
        default: out[i] = hex[i];
        }
    }
    out[10] = '\0';
}

int pl_kz_hash_name_suffix(char out[11], const json_t *obj)
{
    const char *kind = pl_json_str(obj, "kind", NULL);
    json_t *bin, *sd;
    pl_buf b = PL_BUF_INIT;
    char hex[65];
    int error = 0;

    out[0] = '\0';
    /*
     * kustomize looks the name up with the single path element "metadata/name", which never
     * matches, so the name is always "" in the hash input (pinned by the unit tests).
     * Keys are written in Go's sorted order.
     */
    if (kind && !strcmp(kind, "ConfigMap")) {
        bin = json_object_get(obj, "binaryData");
        pl_buf_puts(&b, "{");
        if (bin && !json_is_null(bin) && !json_is_string(bin) && !json_is_number(bin) &&
            !json_is_boolean(bin)) {
            pl_buf_puts(&b, "\"binaryData\":");
            if ((error = hash_field(&b, bin)) < 0)
                goto done;
            pl_buf_putc(&b, ',');
        }
        pl_buf_puts(&b, "\"data\":");
        if ((error = hash_field(&b, json_object_get(obj, "data"))) < 0)
            goto done;
        error = pl_buf_puts(&b, ",\"kind\":\"ConfigMap\",\"name\":\"\"}");
    } else if (kind && !strcmp(kind, "Secret")) {
        sd = json_object_get(obj, "stringData");
        pl_buf_puts(&b, "{\"data\":");
        if ((error = hash_field(&b, json_object_get(obj, "data"))) < 0)
            goto done;
        pl_buf_puts(&b, ",\"kind\":\"Secret\",\"name\":\"\"");
        if (sd && !json_is_null(sd) && !json_is_string(sd) && !json_is_number(sd) &&
            !json_is_boolean(sd)) {
            pl_buf_puts(&b, ",\"stringData\":");
            if ((error = hash_field(&b, sd)) < 0)
                goto done;
        }
        pl_buf_puts(&b, ",\"type\":");
        if ((error = hash_field(&b, json_object_get(obj, "type"))) < 0)
            goto done;
        error = pl_buf_putc(&b, '}');
    } else {
        error = pl_error_set(
            PL_EINVALID, "%s/%s: a name hash suffix is only supported for ConfigMap and Secret",
            kind ? kind : "?",
            pl_json_str(obj, "metadata", "name", NULL) ? pl_json_str(obj, "metadata", "name", NULL)
                                                       : "?");
        goto done;
    }
    if (error < 0)
        goto done;
    pl_sha256_hex(hex, b.ptr, b.len);
    hash_encode(out, hex);
done:
    pl_buf_dispose(&b);
    return error;
}

/* ---- generator arguments -------------------------------------------------------------------- */

typedef struct gen_args {
    const char *kind;  /* "ConfigMap" or "Secret" */
    const char *label; /* "configmap" / "secret" for messages */
    const char *name, *ns, *type;
    int behavior;
    const json_t *literals, *files, *envs; /* borrowed arrays of strings, or NULL */
    const char *env;                       /* deprecated single env file, or NULL */
    json_t *labels, *annotations;          /* owned merged string maps, or NULL */
    int disable_hash, immutable;
} gen_args;

typedef struct kv_pair {
    char *key;
    char *val;
    size_t len;
} kv_pair;

typedef struct kv_list {
    kv_pair *v;
    size_t n, cap;
} kv_list;

static void kv_list_dispose(kv_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        pl_free(l->v[i].key);
        pl_free(l->v[i].val);
    }
    pl_free(l->v);
    memset(l, 0, sizeof(*l));
}

static int kv_add(kv_list *l, const char *key, size_t klen, const char *val, size_t vlen)
{
    kv_pair *p;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        kv_pair *nv = pl_realloc(l->v, cap * sizeof(*nv));
        if (!nv)
            return pl_error_set(PL_ENOMEM, "out of memory");
        l->v = nv;
        l->cap = cap;
    }
    p = &l->v[l->n];
    p->key = pl_strndup(key, klen);
    p->val = pl_malloc(vlen + 1);
    if (!p->key || !p->val) {
        pl_free(p->key);
        pl_free(p->val);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    memcpy(p->val, val, vlen);
    p->val[vlen] = '\0';
    p->len = vlen;
    l->n++;
    return 0;
}

static void gen_args_dispose(gen_args *a)
{
    json_decref(a->labels);
    json_decref(a->annotations);
}

static int parse_behavior(const char *s)
{
    /* types.NewGenerationBehavior: anything else is "unspecified", never an error */
    if (!s)
        return PL_KZ_BEHAVIOR_UNSPECIFIED;
    if (!strcmp(s, "create"))
        return PL_KZ_BEHAVIOR_CREATE;
    if (!strcmp(s, "merge"))
        return PL_KZ_BEHAVIOR_MERGE;
    if (!strcmp(s, "replace"))
        return PL_KZ_BEHAVIOR_REPLACE;
    return PL_KZ_BEHAVIOR_UNSPECIFIED;
}

/* A config field that Go decodes into a string: absent/null -> NULL, non-string -> error. */
static int get_string(const char **out, const json_t *obj, const char *field, const char *what)
{
    json_t *v = json_object_get(obj, field);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return pl_error_set(PL_EINVALID, "%s: field %s must be a string", what, field);
    *out = json_string_value(v);
    return 0;
}

static int get_string_list(const json_t **out, const json_t *obj, const char *field,
                           const char *what)
{
    json_t *v = json_object_get(obj, field), *e;
    size_t i;
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return pl_error_set(PL_EINVALID, "%s: field %s must be a list of strings", what, field);
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e))
            return pl_error_set(PL_EINVALID, "%s: %s[%zu] must be a string", what, field, i);
    }
    *out = v;
    return 0;
}

/*
 * Merge the string map `src` (borrowed, options.labels or .annotations) into *dst: with
 * `keep_existing`, keys already in *dst win (generatorOptions overrideMap).
 */
static int merge_string_map(json_t **dst, const json_t *src, int keep_existing, const char *what,
                            const char *field)
{
    const char *k;
    json_t *v;

    if (!src || json_is_null(src))
        return 0;
    if (!json_is_object(src))
        return pl_error_set(PL_EINVALID, "%s: options.%s must be a map of strings", what, field);
    if (!*dst && !(*dst = json_object()))
        return pl_error_set(PL_ENOMEM, "out of memory");
    json_object_foreach((json_t *)src, k, v)
    {
        json_t *s;
        /* Go's map[string]string: null decodes to "", other non-strings are errors */
        if (json_is_null(v))
            s = json_string("");
        else if (json_is_string(v))
            s = json_incref(v); /* reference held by *dst after the set below */
        else
            return pl_error_set(PL_EINVALID, "%s: options.%s.%s must be a string", what, field, k);
        if (keep_existing && json_object_get(*dst, k)) {
            json_decref(s);
            continue;
        }
        if (json_object_set_new(*dst, k, s) < 0)
            return pl_error_set(PL_ENOMEM, "out of memory");
    }
    return 0;
}

static int get_bool(int *out, const json_t *opts, const char *field, const char *what)
{
    json_t *v = json_object_get(opts, field);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return pl_error_set(PL_EINVALID, "%s: options.%s must be a boolean", what, field);
    *out = json_is_true(v);
    return 0;
}

static int parse_gen_args(gen_args *a, const json_t *cfg, int secret)
{
    const json_t *local = json_object_get(cfg, "options");
    const json_t *global = json_object_get(cfg, "generatorOptions");
    const json_t *md = json_object_get(cfg, "metadata");
    const char *what = secret ? "SecretGenerator" : "ConfigMapGenerator";
    const char *s;
    int error, g;

    memset(a, 0, sizeof(*a));
    a->kind = secret ? "Secret" : "ConfigMap";
    a->label = secret ? "secret" : "configmap";
    if (!json_is_object(cfg))
        return pl_error_set(PL_EINVALID, "%s: config must be a map", what);
    if (md && !json_is_null(md) && !json_is_object(md))
        return pl_error_set(PL_EINVALID, "%s: metadata must be a map", what);
    /* top-level name/namespace (GeneratorArgs) win; metadata fills them when empty */
    if ((error = get_string(&a->name, cfg, "name", what)) < 0 ||
        (error = get_string(&a->ns, cfg, "namespace", what)) < 0)
        return error;
    if (!a->name || !*a->name) {
        if ((error = get_string(&s, md, "name", what)) < 0)
            return error;
        if (s)
            a->name = s;
    }
    if (!a->ns || !*a->ns) {
        if ((error = get_string(&s, md, "namespace", what)) < 0)
            return error;
        if (s)
            a->ns = s;
    }
    if ((error = get_string(&s, cfg, "behavior", what)) < 0)
        return error;
    a->behavior = parse_behavior(s);
    if ((error = get_string_list(&a->literals, cfg, "literals", what)) < 0 ||
        (error = get_string_list(&a->files, cfg, "files", what)) < 0 ||
        (error = get_string_list(&a->envs, cfg, "envs", what)) < 0 ||
        (error = get_string(&a->env, cfg, "env", what)) < 0)
        return error;
    if (secret && (error = get_string(&a->type, cfg, "type", what)) < 0)
        return error;

    if (local && !json_is_null(local) && !json_is_object(local))
        return pl_error_set(PL_EINVALID, "%s: options must be a map", what);
    if (global && !json_is_null(global) && !json_is_object(global))
        return pl_error_set(PL_EINVALID, "%s: generatorOptions must be a map", what);
    /* local options first; MergeGlobalOptionsIntoLocal adds global keys the local lacks */
    if ((error = merge_string_map(&a->labels, json_object_get(local, "labels"), 0, what,
                                  "labels")) < 0 ||
        (error = merge_string_map(&a->annotations, json_object_get(local, "annotations"), 0, what,
                                  "annotations")) < 0 ||
        (error = get_bool(&a->disable_hash, local, "disableNameSuffixHash", what)) < 0 ||
        (error = get_bool(&a->immutable, local, "immutable", what)) < 0)
        return error;
    if ((error = merge_string_map(&a->labels, json_object_get(global, "labels"), 1, what,
                                  "labels")) < 0 ||
        (error = merge_string_map(&a->annotations, json_object_get(global, "annotations"), 1, what,
                                  "annotations")) < 0)
        return error;
    g = 0;
    if ((error = get_bool(&g, global, "disableNameSuffixHash", what)) < 0)
        return error;
    if (g)
        a->disable_hash = 1;
    g = 0;
    if ((error = get_bool(&g, global, "immutable", what)) < 0)
        return error;
    if (g)
        a->immutable = 1;
    return 0;
}

/* ---- key/value sources (api/kv) ------------------------------------------------------------- */

/* One env-file line: blank or comment lines add nothing (kv.keyValuesFromLine). */
static int env_line(kv_list *out, const char *line, size_t n, size_t lineno, const char *file)
{
    size_t i = 0, len;
    const char *eq;

    if (!utf8_valid(line, n))
        return pl_error_set(PL_EINVALID, "%s: line %zu has invalid utf8 bytes", file, lineno + 1);
    if (lineno == 0 && n >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < n) {
        long r = utf8_decode((const unsigned char *)line + i, n - i, &len);
        if (!go_is_space(r))
            break;
        i += len;
    }
    if (i == n || line[i] == '#')
        return 0;
    eq = memchr(line + i, '=', n - i);
    if (eq == line + i)
        return 0; /* empty key: kustomize drops the line */
    if (!eq)
        return kv_add(out, line + i, n - i, "", 0);
    return kv_add(out, line + i, (size_t)(eq - (line + i)), eq + 1, n - (size_t)(eq + 1 - line));
}

/*
 * Lines as Go's bufio.ScanLines yields them: split on '\n', one trailing '\r' dropped. A line
 * longer than bufio's 64 KiB token limit ends the scan silently, as kustomize ignores
 * scanner.Err().
 */
static int env_file(kv_list *out, const pl_kz_ctx *ctx, const char *rel)
{
    pl_buf buf = PL_BUF_INIT;
    size_t pos = 0, lineno = 0;
    int error;

    if ((error = pl_kz_load_file(ctx, rel, &buf, NULL)) < 0)
        goto done;
    while (pos < buf.len) {
        const char *line = buf.ptr + pos;
        const char *nl = memchr(line, '\n', buf.len - pos);
        size_t n = nl ? (size_t)(nl - line) : buf.len - pos;
        if (n >= 65536)
            break;
        pos += n + (nl ? 1 : 0);
        if (n > 0 && line[n - 1] == '\r')
            n--;
        if ((error = env_line(out, line, n, lineno++, rel)) < 0)
            goto done;
    }
done:
    pl_buf_dispose(&buf);
    return error;
}

/* kv.parseLiteralSource: key=value split at the first '=', matching outer quotes removed. */
static int literal_source(kv_list *out, const char *src)
{
    const char *eq = strchr(src, '='), *v;
    size_t vlen;

    if (!eq || eq == src)
        return pl_error_set(PL_EINVALID, "invalid literal source %s, expected key=value", src);
    v = eq + 1;
    vlen = strlen(v);
    if (vlen >= 2 && v[0] == v[vlen - 1] && (v[0] == '"' || v[0] == '\'')) {
        v++;
        vlen -= 2;
    }
    return kv_add(out, src, (size_t)(eq - src), v, vlen);
}

/* generators.ParseFileSource + load: `path` (key = base name) or `key=path`. */
static int file_source(kv_list *out, const pl_kz_ctx *ctx, const char *src)
{
    const char *eq = strchr(src, '=');
    char *key = NULL, *path = NULL;
    pl_buf buf = PL_BUF_INIT;
    int error;

    if (!eq) {
        key = go_path_base(src);
        path = pl_strdup(src);
    } else if (eq == src) {
        return pl_error_set(PL_EINVALID, "missing key name for file path \"%s\" in source \"%s\"",
                            src + 1, src);
    } else {
        if (strchr(eq + 1, '='))
            return pl_error_set(PL_EINVALID, "source \"%s\" key name or file path contains '='",
                                src);
        if (!eq[1])
            return pl_error_set(PL_EINVALID,
                                "missing file path for key name \"%.*s\" in source \"%s\"",
                                (int)(eq - src), src, src);
        key = pl_strndup(src, (size_t)(eq - src));
        path = pl_strdup(eq + 1);
    }
    if (!key || !path) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if ((error = pl_kz_load_file(ctx, path, &buf, NULL)) < 0)
        goto done;
    error = kv_add(out, key, strlen(key), buf.ptr ? buf.ptr : "", buf.len);
done:
    pl_free(key);
    pl_free(path);
    pl_buf_dispose(&buf);
    return error;
}

/*
 * kv.Load order: env files, then literals, then files; then makeValidatedDataMap rejects
 * repeated keys (its message says "configmap" for Secrets too).
 */
static int load_pairs(kv_list *out, const pl_kz_ctx *ctx, const gen_args *a)
{
    json_t *seen = NULL, *e;
    size_t i;
    int error = 0;

    json_array_foreach(a->envs, i, e)
    {
        if ((error = env_file(out, ctx, json_string_value(e))) < 0)
            goto prefix;
    }
    /* the deprecated `env:` is appended to `envs:` when the kustomization is read */
    if (a->env && *a->env && (error = env_file(out, ctx, a->env)) < 0)
        goto prefix;
    json_array_foreach(a->literals, i, e)
    {
        if ((error = literal_source(out, json_string_value(e))) < 0)
            goto prefix;
    }
    json_array_foreach(a->files, i, e)
    {
        if ((error = file_source(out, ctx, json_string_value(e))) < 0)
            goto prefix;
    }
    if (!(seen = json_object()))
        return pl_error_set(PL_ENOMEM, "out of memory");
    for (i = 0; i < out->n; i++) {
        if (json_object_get(seen, out->v[i].key)) {
            error = pl_error_set(PL_EINVALID, "configmap %s illegally repeats the key `%s`",
                                 a->name, out->v[i].key);
            goto done;
        }
        if (json_object_set_new(seen, out->v[i].key, json_true()) < 0) {
            error = pl_error_set(PL_EINVALID, "%s %s: key is not valid utf-8", a->label, a->name);
            goto done;
        }
    }
    goto done;
prefix:
    pl_error_prefix("%s %s: loading KV pairs", a->label, a->name);
done:
    json_decref(seen);
    return error;
}

/* ---- object construction -------------------------------------------------------------------- */

static int set_str(json_t *obj, const char *key, const char *val, size_t len)
{
    json_t *s = json_stringn(val, len);
    if (!s || json_object_set_new(obj, key, s) < 0)
        return pl_error_set(PL_ENOMEM, "out of memory");
    return 0;
}

static int set_base64(json_t *obj, const char *key, const char *val, size_t len)
{
    pl_buf b = PL_BUF_INIT;
    int error;
    if ((error = base64_wrapped(&b, (const unsigned char *)val, len)) == 0)
        error = set_str(obj, key, b.ptr, b.len);
    pl_buf_dispose(&b);
    return error;
}

static int make_object(json_t **out, const gen_args *a, const kv_list *kv)
{
    json_t *obj = json_object(), *md = json_object(), *data = NULL, *bin = NULL;
    int error = 0;

    *out = NULL;
    if (!obj || !md) {
        json_decref(obj);
        json_decref(md);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    json_object_set_new(obj, "apiVersion", json_string("v1"));
    json_object_set_new(obj, "kind", json_string(a->kind));
    json_object_set_new(obj, "metadata", md);
    json_object_set_new(md, "name", json_string(a->name));
    if (a->ns && *a->ns)
        json_object_set_new(md, "namespace", json_string(a->ns));
    if (a->labels && json_object_size(a->labels))
        json_object_set(md, "labels", a->labels); /* reference held by md */
    if (a->annotations && json_object_size(a->annotations))
        json_object_set(md, "annotations", a->annotations); /* reference held by md */
    if (!strcmp(a->kind, "Secret")) {
        /* LoadMapIntoSecretData creates `data` even when there is nothing to load */
        json_object_set_new(obj, "type", json_string(a->type && *a->type ? a->type : "Opaque"));
        data = json_object();
        json_object_set_new(obj, "data", data);
        for (size_t i = 0; i < kv->n && error == 0; i++)
            error = set_base64(data, kv->v[i].key, kv->v[i].val, kv->v[i].len);
    } else {
        for (size_t i = 0; i < kv->n && error == 0; i++) {
            const kv_pair *p = &kv->v[i];
            if (utf8_valid(p->val, p->len)) {
                if (!data && (data = json_object()))
                    json_object_set_new(obj, "data", data);
                error = data ? set_str(data, p->key, p->val, p->len)
                             : pl_error_set(PL_ENOMEM, "out of memory");
            } else {
                if (!bin && (bin = json_object()))
                    json_object_set_new(obj, "binaryData", bin);
                error = bin ? set_base64(bin, p->key, p->val, p->len)
                            : pl_error_set(PL_ENOMEM, "out of memory");
            }
        }
    }
    if (error == 0 && a->immutable)
        json_object_set_new(obj, "immutable", json_true());
    if (error < 0) {
        json_decref(obj);
        return error;
    }
    *out = obj;
    return 0;
}

static int generate(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg, int secret)
{
    gen_args a;
    kv_list kv = {0};
    json_t *obj = NULL;
    pl_kz_res *r;
    int error;

    if ((error = parse_gen_args(&a, cfg, secret)) < 0)
        goto done;
    if (!a.name || !*a.name) {
        /* generators.makeBaseNode says "configmap" for both kinds */
        error = pl_error_set(PL_EINVALID, "a configmap must have a name");
        goto done;
    }
    if ((error = load_pairs(&kv, ctx, &a)) < 0)
        goto done;
    if ((error = make_object(&obj, &a, &kv)) < 0)
        goto done;
    r = pl_kz_res_new_take(obj);
    obj = NULL;
    if (!r) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    r->is_generated = 1;
    r->behavior = a.behavior;
    r->needs_hash = !a.disable_hash;
    error = pl_kz_resmap_append(m, r);
done:
    json_decref(obj);
    kv_list_dispose(&kv);
    gen_args_dispose(&a);
    return error;
}

int pl_kz_g_configmap(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    return generate(ctx, m, cfg, 0);
}

int pl_kz_g_secret(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    return generate(ctx, m, cfg, 1);
}

/* ---- hash transformer ----------------------------------------------------------------------- */

int pl_kz_t_hash(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    pl_buf name = PL_BUF_INIT;
    char h[11];
    int error = 0;

    (void)ctx;
    (void)cfg;
    for (size_t i = 0; i < m->n; i++) {
        pl_kz_res *r = m->v[i];
        json_t *md;
        if (!r->needs_hash)
            continue;
        if ((error = pl_kz_hash_name_suffix(h, r->obj)) < 0)
            break;
        if ((error = pl_kz_res_store_previous_id(r)) < 0)
            break;
        pl_buf_clear(&name);
        if ((error = pl_buf_printf(&name, "%s-%s", pl_kz_res_name(r), h)) < 0)
            break;
        if (!(md = pl_json_mkpath(r->obj, "metadata", NULL))) {
            error = pl_error_set(PL_EINVALID, "%s: metadata is not a map", pl_kz_res_name(r));
            break;
        }
        if ((error = set_str(md, "name", name.ptr, name.len)) < 0)
            break;
        /* the suffix is added once; kz_build runs this transformer at the top level only */
        r->needs_hash = 0;
    }
    pl_buf_dispose(&name);
    return error;
}

/* ---- absorbing generator output (resWrangler.appendReplaceOrMerge) -------------------------- */

/* ResId.IsNsEquals for namespaced kinds: "" and "default" are the same namespace. */
static int ns_equal(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen == 0 || (alen == 7 && !memcmp(a, "default", 7))) {
        a = "default";
        alen = 7;
    }
    if (blen == 0)
        b = "default", blen = 7;
    return alen == blen && !memcmp(a, b, alen);
}

static int tok_eq(const char *t, size_t n, const char *s)
{
    return strlen(s) == n && !memcmp(t, s, n);
}

/* next comma-separated token of *p (advances *p; NULL when exhausted) */
static const char *next_tok(const char **p, size_t *n)
{
    const char *s = *p, *c;
    if (!s)
        return NULL;
    c = strchr(s, ',');
    *n = c ? (size_t)(c - s) : strlen(s);
    *p = c ? c + 1 : NULL;
    return s;
}

/*
 * 1 if r's current id or one of its previous ids equals (group/version of gen, kind, name, ns)
 * (GetMatchingResourcesByAnyId with ResId.Equals). Previous ids keep r's current apiVersion.
 */
static int matches_any_id(const pl_kz_res *r, const char *api_version, const char *kind,
                          const char *name, const char *ns)
{
    const char *names, *kinds, *nss;
    const char *tn, *tk, *ts;
    size_t nn, nk, ns_len;

    if (!json_is_object(r->obj) || json_object_size(r->obj) == 0)
        return 0;
    if (strcmp(pl_kz_res_api_version(r), api_version))
        return 0;
    if (!strcmp(pl_kz_res_kind(r), kind) && !strcmp(pl_kz_res_name(r), name) &&
        ns_equal(pl_kz_res_namespace(r), strlen(pl_kz_res_namespace(r)), ns))
        return 1;
    names = pl_kz_res_annotation(r, PL_KZ_ANN_PREV_NAMES);
    if (!names)
        return 0;
    kinds = pl_kz_res_annotation(r, PL_KZ_ANN_PREV_KINDS);
    nss = pl_kz_res_annotation(r, PL_KZ_ANN_PREV_NAMESPACES);
    if (!kinds)
        kinds = "";
    if (!nss)
        nss = "";
    while ((tn = next_tok(&names, &nn))) {
        tk = next_tok(&kinds, &nk);
        ts = next_tok(&nss, &ns_len);
        if (!tk) {
            tk = "";
            nk = 0;
        }
        if (!ts) {
            ts = "";
            ns_len = 0;
        }
        if (tok_eq(tn, nn, name) && tok_eq(tk, nk, kind) && ns_equal(ts, ns_len, ns))
            return 1;
    }
    return 0;
}

static int is_build_annotation(const char *k)
{
    for (size_t i = 0; i < sizeof(build_annotations) / sizeof(*build_annotations); i++)
        if (!strcmp(k, build_annotations[i]))
            return 1;
    return 0;
}

/* string map of metadata.<field> with kyaml GetValue-style stringified values (owned) */
static json_t *string_map(const json_t *m)
{
    json_t *out = json_object(), *v;
    const char *k;
    if (!out)
        return NULL;
    if (!json_is_object(m))
        return out;
    json_object_foreach((json_t *)m, k, v)
    {
        pl_buf t = PL_BUF_INIT;
        if (scalar_text(&t, v) < 0 ||
            json_object_set_new(out, k, json_stringn(t.ptr ? t.ptr : "", t.len)) < 0) {
            pl_buf_dispose(&t);
            json_decref(out);
            return NULL;
        }
        pl_buf_dispose(&t);
    }
    return out;
}

/* Replace obj[field] with map (reference taken), or remove the field when map is empty. */
static int set_or_clear_take(json_t *obj, const char *field, json_t *map)
{
    if (!map)
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (json_object_size(map) == 0) {
        json_decref(map);
        json_object_del(obj, field);
        return 0;
    }
    if (json_object_set_new(obj, field, map) < 0)
        return pl_error_set(PL_ENOMEM, "out of memory");
    return 0;
}

/* merged = stringified(old[field]) overlaid with stringified(new[field]) (new wins). Owned. */
static json_t *merged_string_map(const json_t *old_map, const json_t *new_map)
{
    json_t *out = string_map(old_map), *n = string_map(new_map);
    if (!out || !n || json_object_update(out, n) < 0) {
        json_decref(out);
        json_decref(n);
        return NULL;
    }
    json_decref(n);
    return out;
}

/*
 * Resource.CopyMergeMetaDataFieldsFrom(old) on nw, plus the data merges of the merge behavior.
 * Labels: old overlaid by new. Annotations: old overlaid by new, except build annotations,
 * which come from old only (the needs-hash one survives only if new has it too). Name and
 * namespace are old's.
 */
static int merge_into_new(pl_kz_res *nw, const pl_kz_res *old, int merge)
{
    json_t *omd = json_object_get(old->obj, "metadata");
    json_t *md = pl_json_mkpath(nw->obj, "metadata", NULL), *ann, *v;
    json_t *old_ann = json_object_get(omd, "annotations");
    const char *k, *s;
    void *tmp;
    int error;

    if (!md)
        return pl_error_set(PL_EINVALID, "%s: metadata is not a map", pl_kz_res_name(nw));
    if ((error = set_or_clear_take(
             md, "labels",
             merged_string_map(json_object_get(omd, "labels"), json_object_get(md, "labels")))) < 0)
        return error;
    if (!(ann = merged_string_map(old_ann, json_object_get(md, "annotations"))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    json_object_foreach_safe(ann, tmp, k, v)
    {
        if (is_build_annotation(k) && !json_object_get(old_ann, k))
            json_object_del(ann, k);
        else if (is_build_annotation(k))
            json_object_set(ann, k, json_object_get(old_ann, k)); /* reference held by ann */
    }
    /* the merge behavior restores the existing object's origin annotation */
    if (merge && json_is_string(json_object_get(old_ann, ANN_ORIGIN)))
        json_object_set(ann, ANN_ORIGIN, json_object_get(old_ann, ANN_ORIGIN));
    if ((error = set_or_clear_take(md, "annotations", ann)) < 0)
        return error;

    if ((error = set_str(md, "name", pl_kz_res_name(old), strlen(pl_kz_res_name(old)))) < 0)
        return error;
    s = pl_kz_res_namespace(old);
    if (*s)
        error = set_str(md, "namespace", s, strlen(s));
    else
        json_object_del(md, "namespace");
    if (error < 0)
        return error;

    if (merge) {
        /* Resource.MergeDataMapFrom / MergeBinaryDataMapFrom: new keys win, empty maps vanish */
        if ((error = set_or_clear_take(nw->obj, "data",
                                       merged_string_map(json_object_get(old->obj, "data"),
                                                         json_object_get(nw->obj, "data")))) < 0 ||
            (error = set_or_clear_take(nw->obj, "binaryData",
                                       merged_string_map(json_object_get(old->obj, "binaryData"),
                                                         json_object_get(nw->obj, "binaryData")))) <
                0)
            return error;
    }

    /* kustomize-side fields: refBy is a build annotation and var names are copied from old */
    json_decref(nw->ref_by);
    nw->ref_by = old->ref_by ? json_deep_copy(old->ref_by) : NULL;
    json_decref(nw->ref_var_names);
    nw->ref_var_names = old->ref_var_names ? json_deep_copy(old->ref_var_names) : NULL;
    if (merge && old->origin) {
        json_decref(nw->origin);
        nw->origin = json_deep_copy(old->origin);
    } else if (!nw->origin && old->origin) {
        nw->origin = json_deep_copy(old->origin);
    }
    /* behavior and needs-hash live in build annotations in kustomize: old's, hash only if both */
    nw->needs_hash = nw->needs_hash && old->needs_hash;
    nw->behavior = old->is_generated ? old->behavior : PL_KZ_BEHAVIOR_UNSPECIFIED;
    nw->is_generated = 1;
    return 0;
}

static int format_id(pl_buf *b, const pl_kz_res *r)
{
    pl_objkey key;
    pl_objkey_from(&key, r->obj);
    return pl_objkey_format(b, &key);
}

static int absorb_one(pl_kz_resmap *m, pl_kz_res *r, int *consumed)
{
    const char *av = pl_kz_res_api_version(r), *kind = pl_kz_res_kind(r);
    const char *name = pl_kz_res_name(r), *ns = pl_kz_res_namespace(r);
    long found = -1;
    size_t count = 0;
    pl_buf id = PL_BUF_INIT;
    int error = 0;

    *consumed = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (matches_any_id(m->v[i], av, kind, name, ns)) {
            if (count++ == 0)
                found = (long)i;
        }
    }
    format_id(&id, r);
    if (count == 0) {
        if (r->behavior == PL_KZ_BEHAVIOR_MERGE || r->behavior == PL_KZ_BEHAVIOR_REPLACE) {
            error = pl_error_set(PL_EINVALID, "%s: id does not exist; cannot merge or replace",
                                 id.ptr ? id.ptr : "?");
            goto done;
        }
        *consumed = 1;
        error = pl_kz_resmap_append(m, r);
        goto done;
    }
    if (count > 1) {
        error = pl_error_set(PL_EINVALID, "%s: found %zu objects that could accept the merge",
                             id.ptr ? id.ptr : "?", count);
        goto done;
    }
    if (r->behavior != PL_KZ_BEHAVIOR_MERGE && r->behavior != PL_KZ_BEHAVIOR_REPLACE) {
        error = pl_error_set(PL_EINVALID, "%s: id exists; behavior must be merge or replace",
                             id.ptr ? id.ptr : "?");
        goto done;
    }
    if ((error = merge_into_new(r, m->v[found], r->behavior == PL_KZ_BEHAVIOR_MERGE)) < 0)
        goto done;
    pl_kz_res_free(m->v[found]);
    m->v[found] = r;
    *consumed = 1;
done:
    pl_buf_dispose(&id);
    return error;
}

int pl_kz_resmap_absorb(pl_kz_resmap *m, pl_kz_resmap *gen)
{
    int error = 0, consumed;

    for (size_t i = 0; i < gen->n; i++) {
        pl_kz_res *r = gen->v[i];
        gen->v[i] = NULL;
        error = absorb_one(m, r, &consumed);
        if (!consumed)
            pl_kz_res_free(r);
        if (error < 0) {
            for (size_t j = i + 1; j < gen->n; j++) {
                pl_kz_res_free(gen->v[j]);
                gen->v[j] = NULL;
            }
            break;
        }
    }
    gen->n = 0;
    return error;
}
