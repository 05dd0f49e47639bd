/*
 * json_write.c - compact JSON text of jansson values, for the hot paths.
 *
 * The sandbox serialises every object it stores (the text answers GETs, LISTs and watch
 * events) and the client every object it applies. jansson's json_dumps spends most of its time
 * on a reference-loop check: for each object and array it formats the container's address with
 * snprintf and looks it up in a hash table; that was a third of the sandbox's CPU time in a
 * 1,000-object sync. The values written here are trees built or parsed by plumb, which cannot
 * contain loops, so this writer walks them directly (with a depth bound instead of the loop
 * check) and writes
 * the same bytes json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) writes: keys in insertion
 * order, `,` and `:` without spaces, strings with jansson's escapes (`\"`, `\\`, `\b`, `\f`,
 * `\n`, `\r`, `\t`, other control characters as `\u00XX` with upper-case hex, everything else
 * as UTF-8), integers in decimal, reals as "%.17g" with jansson's fix-ups (a ".0" when there
 * is neither '.' nor 'e', no '+' or leading zeros in the exponent). NaN and infinities fail,
 * as they do in jansson. tests/unit/core/test_json_write.c compares the two byte for byte.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "plumb/core.h"

#define MAX_DEPTH 2048

/* pl_buf_putc without the call and the copy when there is room: the writer emits a quote,
 * colon or comma between every two tokens */
static inline int put1(pl_buf *out, char c)
{
    if (out->len + 2 <= out->cap && (out->max == 0 || out->len + 1 <= out->max)) {
        out->ptr[out->len++] = c;
        out->ptr[out->len] = '\0';
        return 0;
    }
    return pl_buf_putc(out, c);
}

/* decimal text of an integer (what "%" JSON_INTEGER_FORMAT prints) without snprintf */
static int put_int(pl_buf *out, json_int_t v)
{
    char b[24], *p = b + sizeof(b);
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--p = '-';
    return pl_buf_put(out, p, (size_t)(b + sizeof(b) - p));
}

/* Length of the prefix of s that needs no escape: 8 bytes at a time while no byte is a
 * control character, '"' or '\\' (the "has a byte less than n" and "has a zero byte" word
 * tests: exact as a yes/no for the whole word, which is all that is asked here). */
static size_t plain_prefix(const char *s, size_t len)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v, q, b;
        memcpy(&v, s + i, 8);
        q = v ^ (ones * '"');
        b = v ^ (ones * '\\');
        if ((((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs)
            break;
    }
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\')
            break;
        i++;
    }
    return i;
}

int pl_json_write_string(pl_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t plain = plain_prefix(s, len);

    /* the common case, nothing to escape: one copy between the quotes */
    if (plain == len && out->len + len + 3 <= out->cap &&
        (out->max == 0 || out->len + len + 2 <= out->max)) {
        char *p = out->ptr + out->len;
        p[0] = '"';
        memcpy(p + 1, s, len);
        p[len + 1] = '"';
        p[len + 2] = '\0';
        out->len += len + 2;
        return 0;
    }

    size_t run = 0; /* start of the bytes not yet copied */
    int rc = put1(out, '"');
    for (size_t i = plain; rc == 0 && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7];
        size_t n = 2;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        if ((rc = pl_buf_put(out, s + run, i - run)) == 0)
            rc = pl_buf_put(out, esc, n);
        run = i + 1;
    }
    if (rc == 0)
        rc = pl_buf_put(out, s + run, len - run);
    return rc == 0 ? put1(out, '"') : rc;
}

static int dump_real(pl_buf *out, double v)
{
    char b[64], *e;
    int n;

    if (!isfinite(v))
        return pl_error_set(PL_EINVALID, "json: a real that is not finite");
    n = snprintf(b, sizeof(b), "%.17g", v);
    if (n < 0 || (size_t)n + 3 >= sizeof(b))
        return pl_error_set(PL_EINVALID, "json: a real that does not print");
    if (!strchr(b, '.') && !strchr(b, 'e')) {
        memcpy(b + n, ".0", 3);
        n += 2;
    }
    if ((e = strchr(b, 'e')) != NULL) {
        char *start = e + 1, *end;
        if (*start == '-')
            start++;
        end = start;
        while (*end == '+' || *end == '0')
            end++;
        if (!*end) /* an exponent of zero keeps one digit */
            end--;
        memmove(start, end, strlen(end) + 1);
        n = (int)strlen(b);
    }
    return pl_buf_put(out, b, (size_t)n);
}

static int dump(pl_buf *out, const json_t *v, int depth)
{
    int rc = 0;

    if (depth > MAX_DEPTH)
        return pl_error_set(PL_EINVALID, "json: nested deeper than %d levels", MAX_DEPTH);
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *val;
        int first = 1;
        if ((rc = put1(out, '{')) < 0)
            return rc;
        json_object_foreach((json_t *)v, key, val)
        {
            if ((!first && (rc = put1(out, ',')) < 0) ||
                (rc = pl_json_write_string(out, key, strlen(key))) < 0 ||
                (rc = put1(out, ':')) < 0 || (rc = dump(out, val, depth + 1)) < 0)
                return rc;
            first = 0;
        }
        return put1(out, '}');
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        if ((rc = put1(out, '[')) < 0)
            return rc;
        for (size_t i = 0; i < n; i++)
            if ((i && (rc = put1(out, ',')) < 0) ||
                (rc = dump(out, json_array_get(v, i), depth + 1)) < 0)
                return rc;
        return put1(out, ']');
    }
    case JSON_STRING:
        return pl_json_write_string(out, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return put_int(out, json_integer_value(v));
    case JSON_REAL:
        return dump_real(out, json_real_value(v));
    case JSON_TRUE:
        return pl_buf_put(out, "true", 4);
    case JSON_FALSE:
        return pl_buf_put(out, "false", 5);
    case JSON_NULL:
        return pl_buf_put(out, "null", 4);
    }
    return pl_error_set(PL_EINVALID, "json: unknown value type");
}

int pl_json_write(pl_buf *out, const json_t *v)
{
    if (!v)
        return pl_error_set(PL_EINVALID, "json: no value");
    return dump(out, v, 0);
}
