/*
 * yaml_write.c - JSON documents -> YAML text, byte for byte as kustomize prints them.
 *
 * kustomize prints each resource with sigs.k8s.io/yaml's JSONToYAML: the JSON is decoded by
 * go-yaml v2 into generic maps and marshalled again by go-yaml v2. So the output is fixed by
 * go-yaml v2's marshalling rules, which this file reproduces:
 *   - mapping keys sorted by go-yaml's keyList.Less (letters before other runes, runs of
 *     digits compared by value);
 *   - a string is written plain when go-yaml v2 would read it back as a string (not a bool
 *     `yes/on/y/...`, null, number, timestamp or base-60 float), in a literal block when it
 *     contains a newline, double-quoted otherwise;
 *   - numbers went through JSON: an integral float prints as an integer, other floats in
 *     Go's strconv 'g' shortest form ("1.5", "1e-07", "1.2345675e+06").
 * The emitter itself is libyaml's: go-yaml's is a port of it, and with width 80, indent 2 and
 * unicode on it makes the same fallbacks (single quotes where plain is not allowed, line
 * folding of long scalars). See DESIGN.md "A measured fact about YAML output".
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "plumb/core.h"

/* ---- go-yaml v2 key order ---------------------------------------------------------------- */

static size_t utf8_decode(const unsigned char *s, unsigned *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0 && s[1]) {
        *cp = ((unsigned)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if ((s[0] & 0xF0) == 0xE0 && s[1] && s[2]) {
        *cp = ((unsigned)(s[0] & 0x0F) << 12) | ((unsigned)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return 3;
    }
    if ((s[0] & 0xF8) == 0xF0 && s[1] && s[2] && s[3]) {
        *cp = ((unsigned)(s[0] & 0x07) << 18) | ((unsigned)(s[1] & 0x3F) << 12) |
              ((unsigned)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        return 4;
    }
    *cp = 0xFFFD;
    return 1;
}

static int is_letter(unsigned c)
{
    /* unicode.IsLetter; outside ASCII nearly every rune used in keys is a letter */
    if (c < 0x80)
        return (c | 32) >= 'a' && (c | 32) <= 'z';
    return c != 0xFFFD && !(c >= 0x2000 && c <= 0x2BFF) && !(c >= 0x3000 && c <= 0x303F);
}

static int is_digit(unsigned c)
{
    return c >= '0' && c <= '9';
}

#define MAXR 512

static size_t runes(const char *s, unsigned *out, size_t max)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;

    while (*p && n < max) {
        p += utf8_decode(p, &out[n]);
        n++;
    }
    return n;
}

int pl_yaml_key_cmp(const char *a, const char *b)
{
    unsigned ar[MAXR], br[MAXR];
    size_t an, bn, i;

    /* fast path: plain ASCII letters up to the first difference */
    an = runes(a, ar, MAXR);
    bn = runes(b, br, MAXR);
    for (i = 0; i < an && i < bn; i++) {
        int al, bl;
        long long av = 0, bv = 0;
        size_t ai, bi;

        if (ar[i] == br[i])
            continue;
        al = is_letter(ar[i]);
        bl = is_letter(br[i]);
        if (al && bl)
            return ar[i] < br[i] ? -1 : 1;
        if (al || bl)
            return bl ? -1 : 1;
        if (ar[i] == '0' || br[i] == '0') {
            for (size_t j = i; j-- > 0 && is_digit(ar[j]);) {
                if (ar[j] != '0') {
                    av = 1;
                    bv = 1;
                    break;
                }
            }
        }
        for (ai = i; ai < an && is_digit(ar[ai]); ai++)
            av = av * 10 + (ar[ai] - '0');
        for (bi = i; bi < bn && is_digit(br[bi]); bi++)
            bv = bv * 10 + (br[bi] - '0');
        if (av != bv)
            return av < bv ? -1 : 1;
        if (ai != bi)
            return ai < bi ? -1 : 1;
        return ar[i] < br[i] ? -1 : 1;
    }
    if (an != bn)
        return an < bn ? -1 : 1;
    return 0;
}

/* ---- go-yaml v2 resolve(): would this plain text read back as a non-string? ------------ */

static int go_parse_uint(const char *s, size_t n)
{
    unsigned base = 10;
    size_t i = 0;
    unsigned long long v = 0;

    if (!n)
        return 0;
    if (s[0] == '0' && n > 1) {
        char c = (char)tolower((unsigned char)s[1]);
        base = c == 'x' ? 16 : c == 'o' ? 8 : c == 'b' ? 2 : 8;
        i = (c == 'x' || c == 'o' || c == 'b') ? 2 : 1;
        if (i == n)
            return 0;
    }
    for (; i < n; i++) {
        unsigned d;
        char c = s[i];
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (isalpha((unsigned char)c))
            d = (unsigned)(tolower((unsigned char)c) - 'a' + 10);
        else
            return 0;
        if (d >= base)
            return 0;
        if (v > (~0ULL - d) / base)
            return 0;
        v = v * base + d;
    }
    return 1;
}

static int float_pattern(const char *s, size_t n)
{
    size_t i = 0, d;

    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    if (i < n && s[i] == '.') {
        for (i++, d = 0; i < n && isdigit((unsigned char)s[i]); i++, d++)
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

/* Go time.Parse with one of go-yaml's timestamp layouts */
static int num(const char *s, size_t n, size_t *i, int min, int max, int *out)
{
    int v = 0, k = 0;

    while (*i < n && isdigit((unsigned char)s[*i]) && k < max) {
        v = v * 10 + (s[*i] - '0');
        (*i)++;
        k++;
    }
    if (k < min)
        return 0;
    *out = v;
    return 1;
}

static int is_timestamp(const char *s, size_t n)
{
    size_t i = 0;
    int y, mo, d, h, mi, se;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    for (; i < n && isdigit((unsigned char)s[i]); i++)
        ;
    if (i != 4 || i == n || s[i] != '-')
        return 0;
    i = 0;
    if (!num(s, n, &i, 4, 4, &y) || i >= n || s[i++] != '-')
        return 0;
    if (!num(s, n, &i, 1, 2, &mo) || mo < 1 || mo > 12 || i >= n || s[i++] != '-')
        return 0;
    if (!num(s, n, &i, 1, 2, &d) || d < 1 || d > mdays[mo - 1])
        return 0;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 0;
    if (i == n)
        return 1;
    if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
        return 0;
    {
        int spaced = s[i] == ' ';
        i++;
        if (!num(s, n, &i, 1, 2, &h) || h > 23 || i >= n || s[i++] != ':')
            return 0;
        if (!num(s, n, &i, 1, 2, &mi) || mi > 59 || i >= n || s[i++] != ':')
            return 0;
        if (!num(s, n, &i, 1, 2, &se) || se > 59)
            return 0;
        if (i < n && s[i] == '.') {
            size_t st = ++i;
            while (i < n && isdigit((unsigned char)s[i]))
                i++;
            if (i == st)
                return 0;
        }
        if (i == n)
            return 1;
        if (spaced)
            return 0;
        if (s[i] == 'Z')
            return i + 1 == n;
        if (s[i] == '+' || s[i] == '-') {
            int zh, zm;
            i++;
            if (!num(s, n, &i, 2, 2, &zh) || i >= n || s[i++] != ':' || !num(s, n, &i, 2, 2, &zm))
                return 0;
            return i == n;
        }
    }
    return 0;
}

/* ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ */
static int base60_float(const char *s, size_t n)
{
    size_t i = 0;
    int groups = 0;

    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    if (i >= n || !isdigit((unsigned char)s[i]))
        return 0;
    for (i++; i < n && (isdigit((unsigned char)s[i]) || s[i] == '_'); i++)
        ;
    while (i < n && s[i] == ':') {
        size_t st = ++i;
        /* [0-5]?[0-9] */
        if (i < n && isdigit((unsigned char)s[i]))
            i++;
        else
            return 0;
        if (i < n && isdigit((unsigned char)s[i]) && s[st] <= '5')
            i++;
        groups++;
    }
    if (!groups)
        return 0;
    if (i < n && s[i] == '.')
        for (i++; i < n && (isdigit((unsigned char)s[i]) || s[i] == '_'); i++)
            ;
    return i == n;
}

int pl_yaml_plain_is_nonstring(const char *s, size_t n)
{
    static const char *const map_words[] = {
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
        "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "~", "null", "Null",
        "NULL", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
        "-.inf", "-.Inf", "-.INF", NULL};
    char c;

    if (n == 0)
        return 1; /* "" resolves to null */
    c = s[0];
    if (strchr("yYnNtTfFoO~.+-0123456789", c) == NULL)
        return 0;
    for (int i = 0; map_words[i]; i++)
        if (strlen(map_words[i]) == n && !memcmp(map_words[i], s, n))
            return 1;
    if (c == '.') {
        /* strconv.ParseFloat on ".5", ".5e3" */
        return float_pattern(s, n);
    }
    if (isdigit((unsigned char)c) || c == '+' || c == '-') {
        char tmp[128];
        size_t k = 0;
        const char *p;
        size_t m;

        if (isdigit((unsigned char)c) && is_timestamp(s, n))
            return 1;
        if (n >= sizeof(tmp))
            return 0;
        for (size_t i = 0; i < n; i++)
            if (s[i] != '_')
                tmp[k++] = s[i];
        tmp[k] = '\0';
        p = tmp;
        m = k;
        if (m && (p[0] == '+' || p[0] == '-')) {
            p++;
            m--;
        }
        if (go_parse_uint(p, m))
            return 1;
        if (float_pattern(tmp, k))
            return 1;
    }
    return 0;
}

/* ---- numbers as Go prints them after the JSON round trip --------------------------------- */

static void format_float(char *out, size_t outsz, double f)
{
    char digits[40];
    int prec, exp10;
    char *e;
    size_t nd;

    if (f == floor(f) && fabs(f) < 9.2e18) {
        /* the JSON text has no '.', so go-yaml v2 reads it back as an int */
        snprintf(out, outsz, "%lld", (long long)f);
        return;
    }
    /* shortest digits that round-trip, like strconv.FormatFloat(f, 'g', -1, 64) */
    for (prec = 1; prec <= 17; prec++) {
        snprintf(digits, sizeof(digits), "%.*e", prec - 1, f);
        if (strtod(digits, NULL) == f)
            break;
    }
    e = strchr(digits, 'e');
    exp10 = atoi(e + 1);
    *e = '\0';
    /* digits is now "-d.ddd" */
    {
        char mant[40];
        size_t k = 0;
        int neg = digits[0] == '-';
        for (char *p = digits + neg; *p; p++)
            if (*p != '.')
                mant[k++] = *p;
        mant[k] = '\0';
        nd = k;
        if (exp10 < -4 || exp10 >= 21 || (exp10 >= 6 && 1)) {
            /* %e form: d.ddde+XX (at least two exponent digits) */
            if (exp10 < -4 || exp10 >= 6) {
                snprintf(out, outsz, "%s%c%s%s%se%c%02d", neg ? "-" : "", mant[0], nd > 1 ? "." : "",
                         nd > 1 ? mant + 1 : "", "", exp10 < 0 ? '-' : '+', abs(exp10));
                return;
            }
        }
        /* %f form */
        {
            char buf[64];
            size_t b = 0;
            if (neg)
                buf[b++] = '-';
            if (exp10 < 0) {
                buf[b++] = '0';
                buf[b++] = '.';
                for (int z = 0; z < -exp10 - 1; z++)
                    buf[b++] = '0';
                for (size_t z = 0; z < nd; z++)
                    buf[b++] = mant[z];
            } else {
                for (int z = 0; z <= exp10; z++)
                    buf[b++] = (size_t)z < nd ? mant[z] : '0';
                if ((size_t)exp10 + 1 < nd) {
                    buf[b++] = '.';
                    for (size_t z = (size_t)exp10 + 1; z < nd; z++)
                        buf[b++] = mant[z];
                }
            }
            buf[b] = '\0';
            snprintf(out, outsz, "%s", buf);
        }
    }
}

/* ---- emitter ----------------------------------------------------------------------------- */

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
    return pl_buf_put((pl_buf *)data, buffer, size) == 0;
}

static int emit_scalar(yaml_emitter_t *em, const char *s, size_t n, yaml_scalar_style_t style)
{
    yaml_event_t ev;

    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n, 1, 1, style))
        return -1;
    return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int emit_string(yaml_emitter_t *em, const char *s, size_t n)
{
    yaml_scalar_style_t style;

    if (memchr(s, '\n', n))
        style = YAML_LITERAL_SCALAR_STYLE;
    else if (!pl_yaml_plain_is_nonstring(s, n) && !base60_float(s, n))
        style = YAML_PLAIN_SCALAR_STYLE;
    else
        style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    return emit_scalar(em, s, n, style);
}

typedef struct kv {
    const char *key;
    json_t *val;
} kv;

static int kv_cmp(const void *a, const void *b)
{
    return pl_yaml_key_cmp(((const kv *)a)->key, ((const kv *)b)->key);
}

static int emit_node(yaml_emitter_t *em, const json_t *j, int depth)
{
    yaml_event_t ev;
    char tmp[64];

    if (depth > 2000)
        return -1;
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(j), i = 0;
        kv stackbuf[16], *items = n <= 16 ? stackbuf : pl_malloc(n * sizeof(kv));
        const char *k;
        json_t *v;
        int rc = 0;

        if (!items)
            return -1;
        json_object_foreach((json_t *)j, k, v) {
            items[i].key = k;
            items[i].val = v;
            i++;
        }
        qsort(items, n, sizeof(kv), kv_cmp);
        if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
            !yaml_emitter_emit(em, &ev))
            rc = -1;
        for (i = 0; rc == 0 && i < n; i++) {
            if (emit_string(em, items[i].key, strlen(items[i].key)) < 0 ||
                emit_node(em, items[i].val, depth + 1) < 0)
                rc = -1;
        }
        if (items != stackbuf)
            pl_free(items);
        if (rc == 0 && (!yaml_mapping_end_event_initialize(&ev) || !yaml_emitter_emit(em, &ev)))
            rc = -1;
        return rc;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *v;
        if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
            !yaml_emitter_emit(em, &ev))
            return -1;
        json_array_foreach(j, i, v) {
            if (emit_node(em, v, depth + 1) < 0)
                return -1;
        }
        if (!yaml_sequence_end_event_initialize(&ev) || !yaml_emitter_emit(em, &ev))
            return -1;
        return 0;
    }
    case JSON_STRING:
        return emit_string(em, json_string_value(j), json_string_length(j));
    case JSON_INTEGER:
        snprintf(tmp, sizeof(tmp), "%lld", json_integer_value(j));
        return emit_scalar(em, tmp, strlen(tmp), YAML_PLAIN_SCALAR_STYLE);
    case JSON_REAL:
        format_float(tmp, sizeof(tmp), json_real_value(j));
        return emit_scalar(em, tmp, strlen(tmp), YAML_PLAIN_SCALAR_STYLE);
    case JSON_TRUE:
        return emit_scalar(em, "true", 4, YAML_PLAIN_SCALAR_STYLE);
    case JSON_FALSE:
        return emit_scalar(em, "false", 5, YAML_PLAIN_SCALAR_STYLE);
    case JSON_NULL:
    default:
        return emit_scalar(em, "null", 4, YAML_PLAIN_SCALAR_STYLE);
    }
}

int pl_yaml_emit(pl_buf *out, const json_t *doc)
{
    yaml_emitter_t em;
    yaml_event_t ev;
    int ok;

    if (!yaml_emitter_initialize(&em))
        return pl_error_set(PL_ENOMEM, "out of memory");
    yaml_emitter_set_output(&em, write_handler, out);
    yaml_emitter_set_width(&em, 80);
    yaml_emitter_set_indent(&em, 2);
    yaml_emitter_set_unicode(&em, 1);
    ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) && yaml_emitter_emit(&em, &ev) &&
         yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
         yaml_emitter_emit(&em, &ev) && emit_node(&em, doc, 0) == 0 &&
         yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&em, &ev) &&
         yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev) &&
         yaml_emitter_flush(&em);
    yaml_emitter_delete(&em);
    if (!ok)
        return pl_error_last()->code == PL_ETOOBIG ? PL_ETOOBIG
                                                   : pl_error_set(PL_ERROR, "cannot write YAML");
    return 0;
}

int pl_yaml_emit_stream(pl_buf *out, const json_t *docs)
{
    size_t i;
    json_t *d;
    int error;

    json_array_foreach(docs, i, d) {
        if (i && (error = pl_buf_puts(out, "---\n")) < 0)
            return error;
        if ((error = pl_yaml_emit(out, d)) < 0)
            return error;
    }
    return 0;
}
