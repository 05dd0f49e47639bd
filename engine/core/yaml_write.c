/*
 * yaml_write.c - JSON documents -> YAML text, byte for byte as kustomize prints them.
 *
 * kustomize prints each resource with sigs.k8s.io/yaml's JSONToYAML: the resource is marshalled
 * to JSON (Go's encoding/json), the JSON text is read back by go-yaml v2 into generic maps and
 * marshalled again by go-yaml v2. The output is therefore fixed by three Go components, and this
 * file reproduces each of them:
 *
 *  1. encoding/json: integral floats below 1e21 are written without '.' or exponent, so go-yaml
 *     reads them back as integers (1e3 prints "1000"; 1.2e19 prints "12000000000000000000",
 *     which fits uint64); strings keep every character raw except C0 controls, '"', '\\' and
 *     U+2028/U+2029. go-yaml v2's reader then folds a raw NEL (U+0085) inside the quoted JSON
 *     string like any line break ("a\u0085b" prints "a b") and rejects raw DEL, C1 controls and
 *     U+FFFE/U+FFFF ("yaml: control characters are not allowed": kustomize fails, so do we).
 *  2. go-yaml v2's encoder: mapping keys sorted by keyList.Less (letters before other runes,
 *     digit runs compared by value; not a total order, see pl_yaml_key_cmp); a string is written
 *     in a literal block when it contains '\n', plain when go-yaml v2 would resolve the plain
 *     text back to a string (not a YAML 1.1 bool, null, int, float, timestamp, base-60 float),
 *     double-quoted otherwise; other floats in strconv's shortest 'g' form ("1.5", "1e-07").
 *  3. go-yaml v2's emitter (a port of libyaml's, width 80, indent 2, unicode on), including its
 *     style fallbacks (single quotes where plain is not allowed, double quotes where single is
 *     not), line folding of long flow scalars, "? " complex keys for multi-line or >128-byte
 *     keys, "{}"/"[]" for empty collections. It is re-implemented here directly over jansson
 *     values (no events): libyaml 0.2.5 differs from the Go port in corners that kustomize
 *     output shows, e.g. go-yaml escapes every character of a double-quoted string that starts
 *     with a BOM (its is_bom() tests the string start, not the current position:
 *     "\uFEFF\x61\x62"), and it writes no indentation before the closing quote of a
 *     single-quoted scalar that ends in a line break (U+2028).
 *
 * Callers: the kustomize driver (final output), the plain renderer, tests, the fuzz target.
 */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plumb/core.h"

/* Shared with yaml_read.c: go-yaml's parseTimestamp (Go time.Parse over its four layouts).
 * Returns 1 and, when out is non-NULL, the RFC 3339 text Go's Time.MarshalJSON prints;
 * -1 when it parses but MarshalJSON would fail (zone offset of 24h or more); 0 otherwise. */
int pl_yaml__timestamp(char *out, size_t outsz, const char *s, size_t n);

#define BEST_WIDTH 80
#define BEST_INDENT 2
#define MAX_SIMPLE_KEY 128
#define MAX_DEPTH 10000

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

/*
 * unicode.IsLetter. Exact for ASCII and Latin-1; beyond that the blocks where keys plausibly
 * carry non-letters (combining marks, punctuation, symbols, CJK punctuation, fullwidth forms,
 * emoji) are excluded and everything else counts as a letter.
 */
static bool is_letter(unsigned c)
{
    if (c < 0x80)
        return (c | 32) >= 'a' && (c | 32) <= 'z';
    if (c < 0x100)
        return c == 0xAA || c == 0xB5 || c == 0xBA || (c >= 0xC0 && c != 0xD7 && c != 0xF7);
    if (c >= 0x2C2 && c <= 0x2C5)
        return false;
    if (c >= 0x2D2 && c <= 0x2DF)
        return false;
    if (c >= 0x2E5 && c <= 0x36F) /* modifier symbols, combining marks */
        return false;
    if (c == 0x375 || c == 0x37E || c == 0x384 || c == 0x385 || c == 0x387 || c == 0x3F6)
        return false;
    if (c >= 0x482 && c <= 0x489)
        return false;
    if (c >= 0x2000 && c <= 0x2BFF) /* punctuation, symbols, arrows, math, boxes */
        return c == 0x2071 || c == 0x207F || (c >= 0x2090 && c <= 0x209C) || c == 0x2102 ||
               c == 0x2107 || (c >= 0x210A && c <= 0x2113) || c == 0x2115 ||
               (c >= 0x2119 && c <= 0x211D) || c == 0x2124 || c == 0x2126 || c == 0x2128 ||
               (c >= 0x212A && c <= 0x212D) || (c >= 0x212F && c <= 0x2139);
    if (c >= 0x3000 && c <= 0x303F)
        return c == 0x3005 || c == 0x3006 || (c >= 0x3031 && c <= 0x3035) || c == 0x303B ||
               c == 0x303C;
    if (c >= 0xFF00 && c <= 0xFFEF)
        return (c >= 0xFF21 && c <= 0xFF3A) || (c >= 0xFF41 && c <= 0xFF5A) ||
               (c >= 0xFF66 && c <= 0xFFDC);
    if (c >= 0xD800 && c <= 0xF8FF) /* surrogates, private use */
        return false;
    if (c >= 0x1F000) /* emoji and pictographs */
        return false;
    return c != 0xFFFD && c != 0xFEFF;
}

static bool is_digit(unsigned c)
{
    return c >= '0' && c <= '9';
}

/*
 * go-yaml's keyList.Less on two strings, as a three-way result. Less is not transitive
 * ("2" < "10" < "1a" < "2"), so for such key sets kustomize's own order depends on Go's
 * random map iteration; for every consistent set this gives go-yaml's order.
 * Go compares []rune slices and accumulates digit runs in a wrapping int64; the same is done
 * here on the UTF-8 bytes (the common prefix is skipped bytewise).
 */
int pl_yaml_key_cmp(const char *a, const char *b)
{
    const unsigned char *pa = (const unsigned char *)a, *pb = (const unsigned char *)b;
    size_t k = 0, ai, bi;
    unsigned ra, rb;
    unsigned long long an = 0, bn = 0;

    while (pa[k] && pa[k] == pb[k])
        k++;
    if (!pa[k] || !pb[k]) {
        /* one is a prefix of the other: fewer runes sorts first */
        if (!pa[k] && !pb[k])
            return 0;
        return !pa[k] ? -1 : 1;
    }
    while (k > 0 && (pa[k] & 0xC0) == 0x80) /* back to the start of the differing rune */
        k--;
    utf8_decode(pa + k, &ra);
    utf8_decode(pb + k, &rb);
    {
        bool al = is_letter(ra), bl = is_letter(rb);
        if (al && bl)
            return ra < rb ? -1 : 1;
        if (al || bl)
            return bl ? -1 : 1;
    }
    if (ra == '0' || rb == '0') {
        /* a zero inside a number ("10" vs "19") keeps the number's magnitude */
        for (size_t j = k; j-- > 0 && is_digit(pa[j]);) {
            if (pa[j] != '0') {
                an = 1;
                bn = 1;
                break;
            }
        }
    }
    for (ai = k; is_digit(pa[ai]); ai++)
        an = an * 10 + (unsigned)(pa[ai] - '0');
    for (bi = k; is_digit(pb[bi]); bi++)
        bn = bn * 10 + (unsigned)(pb[bi] - '0');
    if (an != bn)
        return (long long)an < (long long)bn ? -1 : 1;
    if (ai != bi)
        return ai < bi ? -1 : 1;
    return ra < rb ? -1 : 1;
}

/* ---- go-yaml v2 resolve(): would this plain text read back as a non-string? ------------ */

/* strconv.ParseUint(s, base, 64) on text without sign or '_': 1 ok, -2 out of range, 0 syntax.
 * (The go-yaml v2 in kubectl has no big.Int fallback: "0x9999999999999999999999" stays plain.) */
static int go_parse_uint(const char *s, size_t n, unsigned base_in)
{
    unsigned base = base_in;
    size_t i = 0;
    unsigned long long v = 0;
    int range = 0;

    if (!n)
        return 0;
    if (base == 0) {
        base = 10;
        if (s[0] == '0' && n > 1) {
            char c = (char)tolower((unsigned char)s[1]);
            base = c == 'x' ? 16 : c == 'o' ? 8 : c == 'b' ? 2 : 8;
            i = (c == 'x' || c == 'o' || c == 'b') ? 2 : 1;
            if (i == n)
                return 0;
        }
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
            range = 1;
        else
            v = v * base + d;
    }
    return range ? -2 : 1;
}

/* strconv.ParseInt(s, base, 64) accepts this (sign allowed, within int64) */
static bool go_parse_int_ok(const char *s, size_t n, unsigned base)
{
    bool neg = false;
    int r;

    if (n && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        s++;
        n--;
    }
    /* magnitude limit: 2^63-1, or 2^63 when negative */
    r = go_parse_uint(s, n, base);
    if (r != 1)
        return false;
    {
        unsigned long long v = 0;
        size_t i = 0;
        unsigned b = base;
        if (b == 0) {
            b = 10;
            if (s[0] == '0' && n > 1) {
                char c = (char)tolower((unsigned char)s[1]);
                b = c == 'x' ? 16 : c == 'o' ? 8 : c == 'b' ? 2 : 8;
                i = (c == 'x' || c == 'o' || c == 'b') ? 2 : 1;
            }
        }
        for (; i < n; i++) {
            char c = (char)tolower((unsigned char)s[i]);
            v = v * b + (unsigned)(isdigit((unsigned char)c) ? c - '0' : c - 'a' + 10);
        }
        return neg ? v <= 9223372036854775808ULL : v <= 9223372036854775807ULL;
    }
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool float_pattern(const char *s, size_t n)
{
    size_t i = 0, d;

    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    if (i < n && s[i] == '.') {
        for (i++, d = 0; i < n && isdigit((unsigned char)s[i]); i++, d++)
            ;
        if (!d)
            return false;
    } else {
        for (d = 0; i < n && isdigit((unsigned char)s[i]); i++, d++)
            ;
        if (!d)
            return false;
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
            return false;
    }
    return i == n;
}

/* strconv.ParseFloat succeeds on text matching float_pattern unless it overflows to Inf */
static bool parse_float_ok(const char *s, size_t n)
{
    char tmp[128];

    if (n >= sizeof(tmp))
        return true; /* digits only: a long mantissa does not overflow by itself... */
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return !isinf(strtod(tmp, NULL));
}

/* Go getnum(value, false): one or two digits */
static bool getnum(const char *s, size_t n, size_t *i, int *out)
{
    if (*i >= n || !isdigit((unsigned char)s[*i]))
        return false;
    *out = s[(*i)++] - '0';
    if (*i < n && isdigit((unsigned char)s[*i]))
        *out = *out * 10 + (s[(*i)++] - '0');
    return true;
}

static int days_in(int month, int year)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
        return 29;
    return mdays[month - 1];
}

int pl_yaml__timestamp(char *out, size_t outsz, const char *s, size_t n)
{
    size_t i = 0;
    int y, mo, d, h = 0, mi = 0, se = 0, zsign = 0, zmin = 0;
    long nsec = 0;
    char sep;

    /* quick check of parseTimestamp: all formats start with YYYY- */
    for (; i < n && isdigit((unsigned char)s[i]); i++)
        ;
    if (i != 4 || i == n || s[i] != '-')
        return 0;
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    i = 5;
    if (!getnum(s, n, &i, &mo) || mo < 1 || mo > 12 || i >= n || s[i++] != '-')
        return 0;
    if (!getnum(s, n, &i, &d))
        return 0;
    if (i < n) {
        /* "2006-1-2T15:4:5.999999999Z07:00", the same with 't', or
         * "2006-1-2 15:4:5.999999999" (no zone) */
        sep = s[i++];
        if (sep != 'T' && sep != 't' && sep != ' ')
            return 0;
        if (!getnum(s, n, &i, &h) || h > 23 || i >= n || s[i++] != ':')
            return 0;
        if (!getnum(s, n, &i, &mi) || mi > 59 || i >= n || s[i++] != ':')
            return 0;
        if (!getnum(s, n, &i, &se) || se > 59)
            return 0;
        if (i + 1 < n && (s[i] == '.' || s[i] == ',') && isdigit((unsigned char)s[i + 1])) {
            /* any number of digits; nanoseconds from the first nine */
            int k = 0;
            for (i++; i < n && isdigit((unsigned char)s[i]); i++, k++)
                if (k < 9)
                    nsec = nsec * 10 + (s[i] - '0');
            for (; k < 9; k++)
                nsec *= 10;
        }
        if (sep == ' ') {
            if (i != n)
                return 0;
        } else if (i < n && s[i] == 'Z') {
            if (++i != n)
                return 0;
        } else {
            int zh, zm;
            if (n - i != 6 || (s[i] != '+' && s[i] != '-') || s[i + 3] != ':')
                return 0;
            if (!isdigit((unsigned char)s[i + 1]) || !isdigit((unsigned char)s[i + 2]) ||
                !isdigit((unsigned char)s[i + 4]) || !isdigit((unsigned char)s[i + 5]))
                return 0;
            zh = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
            zm = (s[i + 4] - '0') * 10 + (s[i + 5] - '0');
            if (zh > 24 || zm > 60)
                return 0;
            zsign = s[i] == '-' ? -1 : 1;
            zmin = zh * 60 + zm;
        }
    }
    if (d < 1 || d > days_in(mo, y))
        return 0;
    if (zmin / 60 >= 24)
        return -1; /* Time.MarshalJSON: timezone hour outside of range [0,23] */
    if (out) {
        /* RFC 3339 with nanoseconds, trailing zeros of the fraction dropped */
        char frac[16] = "";
        if (nsec) {
            int len = snprintf(frac, sizeof(frac), ".%09ld", nsec);
            while (len > 1 && frac[len - 1] == '0')
                frac[--len] = '\0';
        }
        if (zmin == 0)
            snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", y, mo, d, h, mi, se, frac);
        else
            snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d%s%c%02d:%02d", y, mo, d, h, mi,
                     se, frac, zsign < 0 ? '-' : '+', zmin / 60, zmin % 60);
    }
    return 1;
}

/* ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ (go-yaml quotes these on output) */
static bool base60_float(const char *s, size_t n)
{
    size_t i = 0;
    int groups = 0;

    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    if (i >= n || !isdigit((unsigned char)s[i]))
        return false;
    for (i++; i < n && (isdigit((unsigned char)s[i]) || s[i] == '_'); i++)
        ;
    while (i < n && s[i] == ':') {
        size_t st = ++i;
        if (i < n && isdigit((unsigned char)s[i]))
            i++;
        else
            return false;
        if (i < n && isdigit((unsigned char)s[i]) && s[st] <= '5')
            i++;
        groups++;
    }
    if (!groups)
        return false;
    if (i < n && s[i] == '.')
        for (i++; i < n && (isdigit((unsigned char)s[i]) || s[i] == '_'); i++)
            ;
    return i == n;
}

/* s is one of three spellings of a word: lower, Title or UPPER case (go-yaml v2's resolve
 * table lists exactly these), e.g. "null", "Null", "NULL". */
static bool is_word3(const char *s, size_t n, const char *lower, const char *title,
                     const char *upper)
{
    return !memcmp(s, lower, n) || !memcmp(s, title, n) || !memcmp(s, upper, n);
}

int pl_yaml_plain_is_nonstring(const char *s, size_t n)
{
    char c;

    if (n == 0)
        return 1; /* "" resolves to null */
    c = s[0];
    /*
     * go-yaml v2's resolve table (YAML 1.1 bools, nulls, .inf/.nan), dispatched on the first
     * byte and the length: this runs for every key and string value of the output, and most of
     * them ("name", "namespace", "template") start with another letter or are longer.
     */
    switch (c) {
    case 'y': case 'Y':
        return n == 1 || (n == 3 && is_word3(s, n, "yes", "Yes", "YES"));
    case 'n': case 'N':
        return n == 1 || (n == 2 && is_word3(s, n, "no", "No", "NO")) ||
               (n == 4 && is_word3(s, n, "null", "Null", "NULL"));
    case 't': case 'T':
        return n == 4 && is_word3(s, n, "true", "True", "TRUE");
    case 'f': case 'F':
        return n == 5 && is_word3(s, n, "false", "False", "FALSE");
    case 'o': case 'O':
        return (n == 2 && is_word3(s, n, "on", "On", "ON")) ||
               (n == 3 && is_word3(s, n, "off", "Off", "OFF"));
    case '~':
        return n == 1;
    case '.':
        if (n == 4 && (is_word3(s, n, ".nan", ".NaN", ".NAN") || is_word3(s, n, ".inf", ".Inf", ".INF")))
            return 1;
        break;
    case '+': case '-':
        if (n == 5 && is_word3(s + 1, 4, ".inf", ".Inf", ".INF"))
            return 1;
        break;
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        break;
    default:
        return 0;
    }
    if (c == '.') /* strconv.ParseFloat(in) */
        return float_pattern(s, n) && parse_float_ok(s, n);
    if (isdigit((unsigned char)c) || c == '+' || c == '-') {
        char tmp[256];
        size_t k = 0;

        if (isdigit((unsigned char)c) && pl_yaml__timestamp(NULL, 0, s, n) != 0)
            return 1;
        if (n >= sizeof(tmp))
            return 0;
        for (size_t i = 0; i < n; i++) /* go-yaml drops every '_' before converting */
            if (s[i] != '_')
                tmp[k++] = s[i];
        tmp[k] = '\0';
        if (go_parse_int_ok(tmp, k, 0))
            return 1;
        if (go_parse_uint(tmp, k, 0) == 1) /* no sign allowed */
            return 1;
        if (float_pattern(tmp, k) && parse_float_ok(tmp, k))
            return 1;
        if (k > 2 && tmp[0] == '0' && tmp[1] == 'b' &&
            (go_parse_int_ok(tmp + 2, k - 2, 2) || go_parse_uint(tmp + 2, k - 2, 2) == 1))
            return 1; /* ParseInt(plain[2:], 2, 64) also takes a sign: "0b-1" is -1 */
        if (k > 3 && !memcmp(tmp, "-0b", 3) && tmp[3] != '+' && tmp[3] != '-') {
            /* ParseInt("-" + plain[3:], 2, 64) */
            char neg[256];
            neg[0] = '-';
            memcpy(neg + 1, tmp + 3, k - 3);
            if (go_parse_int_ok(neg, k - 2, 2))
                return 1;
        }
    }
    return 0;
}

/* ---- numbers as Go prints them after the JSON round trip --------------------------------- */

/* Shortest digits that read back as f (strconv's shortest): "d.ddd" mantissa digits, exp10. */
static void shortest_digits(double f, char *mant, size_t mantsz, int *nd, int *exp10)
{
    char digits[40];
    int prec, k = 0;
    char *e;

    for (prec = 1; prec <= 17; prec++) {
        snprintf(digits, sizeof(digits), "%.*e", prec - 1, fabs(f));
        if (strtod(digits, NULL) == fabs(f))
            break;
    }
    e = strchr(digits, 'e');
    *exp10 = (int)strtol(e + 1, NULL, 10);
    for (char *p = digits; p < e && (size_t)k + 1 < mantsz; p++)
        if (*p != '.')
            mant[k++] = *p;
    while (k > 1 && mant[k - 1] == '0')
        k--;
    mant[k] = '\0';
    *nd = k;
}

/* "18446744073709551615" >= digits (both without sign, no leading zeros) */
static bool digits_le(const char *digits, size_t n, const char *limit)
{
    size_t ln = strlen(limit);
    return n < ln || (n == ln && memcmp(digits, limit, n) <= 0);
}

static void format_float(char *out, size_t outsz, double f)
{
    char mant[40];
    int nd, exp10;
    bool neg = signbit(f) && f != 0;

    if (f == 0) {
        snprintf(out, outsz, "0"); /* JSON "0" or "-0": an int 0 for go-yaml */
        return;
    }
    shortest_digits(f, mant, sizeof(mant), &nd, &exp10);
    if (f == floor(f) && fabs(f) < 1e21) {
        /* encoding/json writes %f: digits and zeros, which go-yaml reads as int64 or uint64
         * when they fit (ParseInt, then ParseUint) and as a float otherwise */
        char buf[48];
        size_t b = 0;
        for (int z = 0; z <= exp10; z++)
            buf[b++] = z < nd ? mant[z] : '0';
        buf[b] = '\0';
        if (neg ? digits_le(buf, b, "9223372036854775808")
                : digits_le(buf, b, "18446744073709551615")) {
            snprintf(out, outsz, "%s%s", neg ? "-" : "", buf);
            return;
        }
    }
    /* strconv.FormatFloat(f, 'g', -1, 64): the shortest form decides %e vs %f as if the
     * precision were 6 (exponent < -4 or >= 6 gives %e, with at least two exponent digits) */
    if (exp10 < -4 || exp10 >= 6) {
        snprintf(out, outsz, "%s%c%s%se%c%02d", neg ? "-" : "", mant[0], nd > 1 ? "." : "",
                 nd > 1 ? mant + 1 : "", exp10 < 0 ? '-' : '+', abs(exp10));
        return;
    }
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
            for (int z = 0; z < nd; z++)
                buf[b++] = mant[z];
        } else {
            for (int z = 0; z <= exp10; z++)
                buf[b++] = z < nd ? mant[z] : '0';
            if (exp10 + 1 < nd) {
                buf[b++] = '.';
                for (int z = exp10 + 1; z < nd; z++)
                    buf[b++] = mant[z];
            }
        }
        buf[b] = '\0';
        snprintf(out, outsz, "%s", buf);
    }
}

/* ---- the emitter: go-yaml v2 emitterc.go over jansson values ----------------------------- */

#define EM_BUFSZ 8192

typedef enum { STYLE_PLAIN, STYLE_SINGLE, STYLE_DOUBLE, STYLE_LITERAL } scalar_style;

typedef struct emitter {
    pl_buf *out;
    int error;
    size_t pos;
    int column;
    int indent;
    bool whitespace, indention, open_ended;
    bool root_context, mapping_context, simple_key_context;
    pl_buf scratch; /* NEL-folded copies of strings */
    unsigned char buf[EM_BUFSZ];
} emitter;

typedef struct analysis {
    bool multiline, flow_plain_allowed, block_plain_allowed, single_quoted_allowed,
        block_allowed;
    /* printable ASCII (is_simple_text): no line break, one column per byte, nothing for
     * prepare_string to fold or reject. Lets the writers skip their own scans. */
    bool ascii;
    /* flow_plain_allowed is kept for fidelity to go-yaml's analysis, but the block emitter
     * never reads it, and the is_simple_text shortcut does not compute it */
} analysis;

static void flush(emitter *e)
{
    if (e->pos) {
        int error = pl_buf_put(e->out, e->buf, e->pos);
        if (error < 0 && !e->error)
            e->error = error;
        e->pos = 0;
    }
}

static inline void reserve(emitter *e, size_t n)
{
    if (e->pos + n > EM_BUFSZ)
        flush(e);
}

static inline void put(emitter *e, unsigned char c)
{
    reserve(e, 1);
    e->buf[e->pos++] = c;
    e->column++;
}

static inline void put_break(emitter *e)
{
    reserve(e, 1);
    e->buf[e->pos++] = '\n';
    e->column = 0;
}

static inline int width(unsigned char c)
{
    if ((c & 0x80) == 0)
        return 1;
    if ((c & 0xE0) == 0xC0)
        return 2;
    if ((c & 0xF0) == 0xE0)
        return 3;
    return (c & 0xF8) == 0xF0 ? 4 : 1;
}

static inline unsigned char at(const unsigned char *s, size_t n, size_t i)
{
    return i < n ? s[i] : 0;
}

/* copy one character, count one column */
static inline void write_char(emitter *e, const unsigned char *s, size_t n, size_t *i)
{
    int w = width(s[*i]);
    if (*i + (size_t)w > n)
        w = (int)(n - *i);
    reserve(e, 4);
    memcpy(e->buf + e->pos, s + *i, (size_t)w);
    e->pos += (size_t)w;
    e->column++;
    *i += (size_t)w;
}

/* copy bytes known to hold `chars` characters and no line break */
static void write_run(emitter *e, const unsigned char *s, size_t n, size_t chars)
{
    if (n > EM_BUFSZ) {
        flush(e);
        if (!e->error)
            e->error = pl_buf_put(e->out, s, n);
    } else {
        reserve(e, n);
        memcpy(e->buf + e->pos, s, n);
        e->pos += n;
    }
    e->column += (int)chars;
}

static size_t count_chars(const unsigned char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += (s[i] & 0xC0) != 0x80;
    return c;
}

static inline bool is_space(const unsigned char *s, size_t n, size_t i)
{
    return i < n && s[i] == ' ';
}

static inline bool is_blank(const unsigned char *s, size_t n, size_t i)
{
    return i < n && (s[i] == ' ' || s[i] == '\t');
}

static inline bool is_break(const unsigned char *s, size_t n, size_t i)
{
    if (i >= n)
        return false;
    return s[i] == '\r' || s[i] == '\n' || (s[i] == 0xC2 && at(s, n, i + 1) == 0x85) ||
           (s[i] == 0xE2 && at(s, n, i + 1) == 0x80 &&
            (at(s, n, i + 2) == 0xA8 || at(s, n, i + 2) == 0xA9));
}

static inline bool is_breakz(const unsigned char *s, size_t n, size_t i)
{
    return i >= n || s[i] == 0 || is_break(s, n, i);
}

static inline bool is_blankz(const unsigned char *s, size_t n, size_t i)
{
    return is_blank(s, n, i) || is_breakz(s, n, i);
}

static inline bool is_printable(const unsigned char *s, size_t n, size_t i)
{
    unsigned char c = s[i], c1 = at(s, n, i + 1), c2 = at(s, n, i + 2);
    return c == 0x0A || (c >= 0x20 && c <= 0x7E) || (c == 0xC2 && c1 >= 0xA0) ||
           (c > 0xC2 && c < 0xED) || (c == 0xED && c1 < 0xA0) || c == 0xEE ||
           (c == 0xEF && !(c1 == 0xBB && c2 == 0xBF) &&
            !(c1 == 0xBF && (c2 == 0xBE || c2 == 0xBF)));
}

static void write_indent(emitter *e)
{
    int indent = e->indent < 0 ? 0 : e->indent;

    if (!e->indention || e->column > indent || (e->column == indent && !e->whitespace))
        put_break(e);
    if (e->column < indent) {
        /* the run of spaces in one go (indents are far below the buffer size) */
        size_t k = (size_t)(indent - e->column);
        if (k > EM_BUFSZ) {
            while (e->column < indent)
                put(e, ' ');
        } else {
            reserve(e, k);
            memset(e->buf + e->pos, ' ', k);
            e->pos += k;
            e->column = indent;
        }
    }
    e->whitespace = true;
    e->indention = true;
}

static void write_indicator(emitter *e, const char *ind, bool need_whitespace, bool is_whitespace,
                            bool is_indention)
{
    if (need_whitespace && !e->whitespace)
        put(e, ' ');
    while (*ind)
        put(e, (unsigned char)*ind++);
    e->whitespace = is_whitespace;
    e->indention = e->indention && is_indention;
    e->open_ended = false;
}

static void increase_indent(emitter *e, bool flow, bool indentless)
{
    if (e->indent < 0)
        e->indent = flow ? BEST_INDENT : 0;
    else if (!indentless)
        e->indent += BEST_INDENT;
}

static analysis analyze_scalar_full(const unsigned char *v, size_t n);

/*
 * Byte classes for is_simple_text: 0 = not printable ASCII (or a leading indicator, in
 * first_ok), 1 = plain text, 2 = ':' or '#', whose effect depends on the neighbours.
 * Only the analysis results the block emitter reads matter here (multiline and the block
 * plain / single-quoted / literal permissions): ',', '?', '[', ']', '{', '}' after the first
 * byte only forbid *flow* plain scalars, which kustomize output never contains.
 */
static const unsigned char text_class[256] = {
    [' '] = 1, ['!'] = 1, ['"'] = 1, ['#'] = 2, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
    ['('] = 1, [')'] = 1, ['*'] = 1, ['+'] = 1, [','] = 1, ['-'] = 1, ['.'] = 1, ['/'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, [':'] = 2, [';'] = 1, ['<'] = 1, ['='] = 1, ['>'] = 1, ['?'] = 1,
    ['@'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
    ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1,
    ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1,
    ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['['] = 1, ['\\'] = 1, [']'] = 1, ['^'] = 1, ['_'] = 1,
    ['`'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
    ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1,
    ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1,
    ['x'] = 1, ['y'] = 1, ['z'] = 1, ['{'] = 1, ['|'] = 1, ['}'] = 1, ['~'] = 1,
};

/* Printable ASCII that is an indicator as the first byte of a scalar ('-' is handled apart). */
static const bool leading_indicator[128] = {
    ['#'] = true, [','] = true, ['['] = true, [']'] = true, ['{'] = true, ['}'] = true,
    ['&'] = true, ['*'] = true, ['!'] = true, ['|'] = true, ['>'] = true, ['\''] = true,
    ['"'] = true, ['%'] = true, ['@'] = true, ['`'] = true, ['?'] = true, [':'] = true,
};

/*
 * Most values are printable ASCII for which analyze_scalar_full allows every block style:
 * no line break, no leading or trailing space, no leading indicator (a '-' only when it is
 * followed by a space or starts "---"), no "..." start, no ':' followed by a space or ending
 * the text, no '#' after a space. For them the full analysis can be skipped; image
 * references ("nginx:1.25") and flags ("--port") are among them.
 */
static bool is_simple_text(const unsigned char *v, size_t n)
{
    if (n == 0 || v[0] >= 0x80 || leading_indicator[v[0]] || v[0] == ' ' || v[n - 1] == ' ')
        return false;
    if (v[0] == '-' && (n == 1 || v[1] == ' ' || (n >= 3 && v[1] == '-' && v[2] == '-')))
        return false;
    if (n >= 3 && v[0] == '.' && v[1] == '.' && v[2] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = text_class[v[i]];
        if (c == 1)
            continue;
        if (c == 0)
            return false;
        if (v[i] == ':' ? i + 1 == n || v[i + 1] == ' ' : v[i - 1] == ' ')
            return false;
    }
    return true;
}

static analysis simple_analysis(void)
{
    analysis a;

    a.multiline = false;
    a.flow_plain_allowed = a.block_plain_allowed = true;
    a.single_quoted_allowed = a.block_allowed = true;
    a.ascii = true;
    return a;
}

static analysis analyze_scalar(const unsigned char *v, size_t n)
{
    if (is_simple_text(v, n))
        return simple_analysis();
    return analyze_scalar_full(v, n);
}

static analysis analyze_scalar_full(const unsigned char *v, size_t n)
{
    analysis a;
    bool block_indicators = false, flow_indicators = false, line_breaks = false,
         special_characters = false, leading_space = false, leading_break = false,
         trailing_space = false, trailing_break = false, break_space = false,
         space_break = false, preceded_by_whitespace, followed_by_whitespace,
         previous_space = false, previous_break = false;

    a.ascii = false;
    if (n == 0) {
        a.multiline = false;
        a.flow_plain_allowed = false;
        a.block_plain_allowed = true;
        a.single_quoted_allowed = true;
        a.block_allowed = false;
        return a;
    }
    if (n >= 3 && ((v[0] == '-' && v[1] == '-' && v[2] == '-') ||
                   (v[0] == '.' && v[1] == '.' && v[2] == '.'))) {
        block_indicators = true;
        flow_indicators = true;
    }
    preceded_by_whitespace = true;
    for (size_t i = 0, w; i < n; i += w) {
        w = (size_t)width(v[i]);
        followed_by_whitespace = i + w >= n || is_blank(v, n, i + w);
        if (i == 0) {
            switch (v[i]) {
            case '#': case ',': case '[': case ']': case '{': case '}': case '&': case '*':
            case '!': case '|': case '>': case '\'': case '"': case '%': case '@': case '`':
                flow_indicators = true;
                block_indicators = true;
                break;
            case '?':
            case ':':
                flow_indicators = true;
                if (followed_by_whitespace)
                    block_indicators = true;
                break;
            case '-':
                if (followed_by_whitespace) {
                    flow_indicators = true;
                    block_indicators = true;
                }
                break;
            default:
                break;
            }
        } else {
            switch (v[i]) {
            case ',': case '?': case '[': case ']': case '{': case '}':
                flow_indicators = true;
                break;
            case ':':
                flow_indicators = true;
                if (followed_by_whitespace)
                    block_indicators = true;
                break;
            case '#':
                if (preceded_by_whitespace) {
                    flow_indicators = true;
                    block_indicators = true;
                }
                break;
            default:
                break;
            }
        }
        if (!is_printable(v, n, i))
            special_characters = true;
        if (is_space(v, n, i)) {
            if (i == 0)
                leading_space = true;
            if (i + w == n)
                trailing_space = true;
            if (previous_break)
                break_space = true;
            previous_space = true;
            previous_break = false;
        } else if (is_break(v, n, i)) {
            line_breaks = true;
            if (i == 0)
                leading_break = true;
            if (i + w == n)
                trailing_break = true;
            if (previous_space)
                space_break = true;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blankz(v, n, i);
    }
    a.multiline = line_breaks;
    a.flow_plain_allowed = true;
    a.block_plain_allowed = true;
    a.single_quoted_allowed = true;
    a.block_allowed = true;
    if (leading_space || leading_break || trailing_space || trailing_break) {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if (trailing_space)
        a.block_allowed = false;
    if (break_space) {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if (space_break || special_characters) {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if (line_breaks) {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if (flow_indicators)
        a.flow_plain_allowed = false;
    if (block_indicators)
        a.block_plain_allowed = false;
    return a;
}

/* write_break: '\n' through put_break, other break characters copied (column reset) */
static void write_break(emitter *e, const unsigned char *v, size_t n, size_t *i)
{
    if (v[*i] == '\n') {
        put_break(e);
        (*i)++;
    } else {
        write_char(e, v, n, i);
        e->column = 0;
    }
}

static void write_plain(emitter *e, const unsigned char *v, size_t n, bool allow_breaks,
                        bool ascii)
{
    bool spaces = false, breaks = false;
    size_t chars;

    if (!e->whitespace)
        put(e, ' ');
    chars = ascii ? n : count_chars(v, n);
    if (!allow_breaks || (size_t)e->column + chars <= BEST_WIDTH + 1) {
        /* no space can be reached beyond the width: nothing folds (plain text has no breaks) */
        write_run(e, v, n, chars);
    } else {
        for (size_t i = 0; i < n;) {
            if (is_space(v, n, i)) {
                if (allow_breaks && !spaces && e->column > BEST_WIDTH && !is_space(v, n, i + 1)) {
                    write_indent(e);
                    i += (size_t)width(v[i]);
                } else {
                    write_char(e, v, n, &i);
                }
                spaces = true;
            } else if (is_break(v, n, i)) {
                if (!breaks && v[i] == '\n')
                    put_break(e);
                write_break(e, v, n, &i);
                e->indention = true;
                breaks = true;
            } else {
                if (breaks)
                    write_indent(e);
                write_char(e, v, n, &i);
                e->indention = false;
                spaces = false;
                breaks = false;
            }
        }
    }
    e->whitespace = false;
    e->indention = false;
    if (e->root_context)
        e->open_ended = true;
}

static void write_single_quoted(emitter *e, const unsigned char *v, size_t n, bool allow_breaks)
{
    bool spaces = false, breaks = false;

    write_indicator(e, "'", true, false, false);
    for (size_t i = 0; i < n;) {
        if (is_space(v, n, i)) {
            if (allow_breaks && !spaces && e->column > BEST_WIDTH && i > 0 && i < n - 1 &&
                !is_space(v, n, i + 1)) {
                write_indent(e);
                i += (size_t)width(v[i]);
            } else {
                write_char(e, v, n, &i);
            }
            spaces = true;
        } else if (is_break(v, n, i)) {
            if (!breaks && v[i] == '\n')
                put_break(e);
            write_break(e, v, n, &i);
            e->indention = true;
            breaks = true;
        } else {
            if (breaks)
                write_indent(e);
            if (v[i] == '\'')
                put(e, '\'');
            write_char(e, v, n, &i);
            e->indention = false;
            spaces = false;
            breaks = false;
        }
    }
    /* unlike libyaml 0.2.5, go-yaml writes no indentation after a trailing break here */
    write_indicator(e, "'", false, false, false);
    e->whitespace = false;
    e->indention = false;
}

static void write_double_quoted(emitter *e, const unsigned char *v, size_t n, bool allow_breaks)
{
    bool spaces = false;
    /* go-yaml's is_bom(value, i) looks at value[0..2], whatever i is */
    bool bom = n >= 3 && v[0] == 0xEF && v[1] == 0xBB && v[2] == 0xBF;

    write_indicator(e, "\"", true, false, false);
    for (size_t i = 0; i < n;) {
        if (!is_printable(v, n, i) || bom || is_break(v, n, i) || v[i] == '"' || v[i] == '\\') {
            unsigned char octet = v[i];
            int w = width(octet);
            unsigned cp;
            char esc = 0;

            if (w == 1)
                cp = octet & 0x7F;
            else if (w == 2)
                cp = octet & 0x1F;
            else if (w == 3)
                cp = octet & 0x0F;
            else
                cp = octet & 0x07;
            for (int k = 1; k < w; k++)
                cp = (cp << 6) + (at(v, n, i + (size_t)k) & 0x3F);
            i += (size_t)w;
            put(e, '\\');
            switch (cp) {
            case 0x00: esc = '0'; break;
            case 0x07: esc = 'a'; break;
            case 0x08: esc = 'b'; break;
            case 0x09: esc = 't'; break;
            case 0x0A: esc = 'n'; break;
            case 0x0B: esc = 'v'; break;
            case 0x0C: esc = 'f'; break;
            case 0x0D: esc = 'r'; break;
            case 0x1B: esc = 'e'; break;
            case 0x22: esc = '"'; break;
            case 0x5C: esc = '\\'; break;
            case 0x85: esc = 'N'; break;
            case 0xA0: esc = '_'; break;
            case 0x2028: esc = 'L'; break;
            case 0x2029: esc = 'P'; break;
            default: break;
            }
            if (esc) {
                put(e, (unsigned char)esc);
            } else {
                int digits = cp <= 0xFF ? 2 : cp <= 0xFFFF ? 4 : 8;
                put(e, cp <= 0xFF ? 'x' : cp <= 0xFFFF ? 'u' : 'U');
                for (int k = (digits - 1) * 4; k >= 0; k -= 4) {
                    unsigned dgt = (cp >> k) & 0x0F;
                    put(e, (unsigned char)(dgt < 10 ? '0' + dgt : 'A' + dgt - 10));
                }
            }
            spaces = false;
        } else if (is_space(v, n, i)) {
            if (allow_breaks && !spaces && e->column > BEST_WIDTH && i > 0 && i < n - 1) {
                write_indent(e);
                if (is_space(v, n, i + 1))
                    put(e, '\\');
                i += (size_t)width(v[i]);
            } else {
                write_char(e, v, n, &i);
            }
            spaces = true;
        } else {
            write_char(e, v, n, &i);
            spaces = false;
        }
    }
    write_indicator(e, "\"", false, false, false);
    e->whitespace = false;
    e->indention = false;
}

static void write_block_scalar_hints(emitter *e, const unsigned char *v, size_t n)
{
    char chomp[2] = {0, 0};

    if (is_space(v, n, 0) || is_break(v, n, 0)) {
        char hint[2] = {(char)('0' + BEST_INDENT), 0};
        write_indicator(e, hint, false, false, false);
    }
    e->open_ended = false;
    if (n == 0) {
        chomp[0] = '-';
    } else {
        size_t i = n - 1;
        while (i > 0 && (v[i] & 0xC0) == 0x80)
            i--;
        if (!is_break(v, n, i)) {
            chomp[0] = '-';
        } else if (i == 0) {
            chomp[0] = '+';
            e->open_ended = true;
        } else {
            i--;
            while (i > 0 && (v[i] & 0xC0) == 0x80)
                i--;
            if (is_break(v, n, i)) {
                chomp[0] = '+';
                e->open_ended = true;
            }
        }
    }
    if (chomp[0])
        write_indicator(e, chomp, false, false, false);
}

static void write_literal(emitter *e, const unsigned char *v, size_t n)
{
    bool breaks = true;

    write_indicator(e, "|", true, false, false);
    write_block_scalar_hints(e, v, n);
    put_break(e);
    e->indention = true;
    e->whitespace = true;
    for (size_t i = 0; i < n;) {
        if (is_break(v, n, i)) {
            write_break(e, v, n, &i);
            e->indention = true;
            breaks = true;
        } else {
            size_t j = i;
            if (breaks)
                write_indent(e);
            /* the rest of the line in one copy */
            while (j < n && v[j] != '\n' && !is_break(v, n, j))
                j++;
            write_run(e, v + i, j - i, count_chars(v + i, j - i));
            i = j;
            e->indention = false;
            breaks = false;
        }
    }
}

/*
 * What go-yaml v2's reader does to the JSON text of a string before the encoder sees it:
 * a raw NEL is a line break inside the double-quoted JSON scalar and is folded (spaces around
 * it dropped, one break -> one space, n breaks -> n-1 newlines); raw DEL, C1 controls and
 * U+FFFE/U+FFFF are rejected. Everything else Go's JSON encoder escapes, so it survives.
 * On success the out pointers name the original bytes or e->scratch.
 */
static int prepare_string(emitter *e, const unsigned char *s, size_t n, const unsigned char **out,
                          size_t *outn)
{
    bool nel = false;

    *out = s;
    *outn = n;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c < 0x7F)
            continue;
        if (c == 0x7F || (c == 0xC2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F &&
                          s[i + 1] != 0x85) ||
            (c == 0xEF && i + 2 < n && s[i + 1] == 0xBF && (s[i + 2] == 0xBE || s[i + 2] == 0xBF)))
            return pl_error_set(PL_EINVALID, "yaml: control characters are not allowed");
        if (c == 0xC2 && i + 1 < n && s[i + 1] == 0x85)
            nel = true;
    }
    if (!nel)
        return 0;
    pl_buf_clear(&e->scratch);
    for (size_t i = 0; i < n;) {
        bool is_nel = s[i] == 0xC2 && i + 1 < n && s[i + 1] == 0x85;
        if (s[i] != ' ' && !is_nel) {
            pl_buf_putc(&e->scratch, (char)s[i++]);
            continue;
        }
        {
            /* a run of raw spaces and NELs */
            size_t st = i, breaks = 0;
            while (i < n && (s[i] == ' ' || (s[i] == 0xC2 && i + 1 < n && s[i + 1] == 0x85))) {
                if (s[i] == ' ') {
                    i++;
                } else {
                    breaks++;
                    i += 2;
                }
            }
            if (!breaks)
                pl_buf_put(&e->scratch, s + st, i - st);
            else if (breaks == 1)
                pl_buf_putc(&e->scratch, ' ');
            else
                for (size_t k = 1; k < breaks; k++)
                    pl_buf_putc(&e->scratch, '\n');
        }
    }
    if (!e->scratch.ptr)
        return pl_error_set(PL_ENOMEM, "out of memory");
    *out = (const unsigned char *)e->scratch.ptr;
    *outn = e->scratch.len;
    return 0;
}

/* go-yaml v2 encoder.stringv + emitter select_scalar_style + process_scalar */
static void emit_string(emitter *e, const unsigned char *v, size_t n, analysis *a)
{
    scalar_style style;
    bool simple_key = e->simple_key_context;

    if (!a->ascii && memchr(v, '\n', n))
        style = STYLE_LITERAL;
    else if (!pl_yaml_plain_is_nonstring((const char *)v, n) && !base60_float((const char *)v, n))
        style = STYLE_PLAIN;
    else
        style = STYLE_DOUBLE;

    if (simple_key && a->multiline)
        style = STYLE_DOUBLE;
    if (style == STYLE_PLAIN) {
        if (!a->block_plain_allowed || (n == 0 && simple_key))
            style = STYLE_SINGLE;
    }
    if (style == STYLE_SINGLE && !a->single_quoted_allowed)
        style = STYLE_DOUBLE;
    if (style == STYLE_LITERAL && (!a->block_allowed || simple_key))
        style = STYLE_DOUBLE;

    switch (style) {
    case STYLE_PLAIN:
        write_plain(e, v, n, !simple_key, a->ascii);
        break;
    case STYLE_SINGLE:
        write_single_quoted(e, v, n, !simple_key);
        break;
    case STYLE_DOUBLE:
        write_double_quoted(e, v, n, !simple_key);
        break;
    case STYLE_LITERAL:
        write_literal(e, v, n);
        break;
    }
}

/* a scalar node: emitter.emit_scalar (the scalar's own indentation level); a string's
 * analysis is given, other scalars (numbers, bools, null) are plain ASCII words */
static int emit_scalar_node(emitter *e, const unsigned char *v, size_t n, const analysis *str)
{
    int saved = e->indent;

    increase_indent(e, true, false);
    if (str) {
        analysis a = *str;
        emit_string(e, v, n, &a);
    } else {
        write_plain(e, v, n, !e->simple_key_context, true);
    }
    e->indent = saved;
    return 0;
}

typedef struct kv {
    const char *key;
    size_t klen; /* strlen(key) */
    json_t *val;
} kv;

static int kv_cmp(const void *a, const void *b)
{
    return pl_yaml_key_cmp(((const kv *)a)->key, ((const kv *)b)->key);
}

/*
 * Sort the keys of a mapping in go-yaml's order. On ASCII keys without digits keyList.Less is
 * a total order (letters first, then by byte; a prefix first), so any sort gives the one
 * result, and an insertion sort beats qsort's merge sort and indirect calls on the few, mostly
 * presorted keys of a resource map. Digit runs make Less intransitive, and invalid UTF-8 makes
 * it inconsistent: such key sets keep the qsort order they always had.
 */
static void sort_keys(kv *items, size_t n, bool plain_ascii)
{
    if (n > 16 || !plain_ascii) {
        qsort(items, n, sizeof(kv), kv_cmp);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        kv x = items[i];
        size_t j = i;

        while (j > 0 && pl_yaml_key_cmp(items[j - 1].key, x.key) > 0) {
            items[j] = items[j - 1];
            j--;
        }
        items[j] = x;
    }
}

/* no digit and no byte outside ASCII */
static bool ascii_without_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 || (c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

static int emit_node(emitter *e, const json_t *j, bool root, bool mapping, bool simple_key,
                     int depth);

static int emit_mapping(emitter *e, const json_t *j, int depth)
{
    size_t n = json_object_size(j), i = 0;
    kv stackbuf[32], *items;
    const char *k;
    json_t *v;
    int saved = e->indent, error = 0;
    bool plain_ascii = true;

    if (n == 0) {
        /* check_empty_mapping: a flow "{}" */
        write_indicator(e, "{", true, true, false);
        write_indicator(e, "}", false, false, false);
        return 0;
    }
    items = n <= 32 ? stackbuf : pl_malloc(n * sizeof(kv));
    if (!items)
        return pl_error_set(PL_ENOMEM, "out of memory");
    json_object_foreach((json_t *)j, k, v) {
        items[i].key = k;
        items[i].klen = strlen(k);
        items[i].val = v;
        plain_ascii = plain_ascii && ascii_without_digits(k, items[i].klen);
        i++;
    }
    if (n > 1)
        sort_keys(items, n, plain_ascii);
    increase_indent(e, false, false);
    for (i = 0; i < n && error == 0; i++) {
        const unsigned char *key = (const unsigned char *)items[i].key;
        size_t klen = items[i].klen;
        analysis a;

        /* printable ASCII needs no folding: one scan instead of prepare + analyze */
        if (is_simple_text(key, klen)) {
            a = simple_analysis();
        } else {
            if ((error = prepare_string(e, key, klen, &key, &klen)) < 0)
                break;
            a = analyze_scalar(key, klen);
        }
        write_indent(e);
        if (!a.multiline && klen <= MAX_SIMPLE_KEY) {
            /* simple key "k: v" */
            e->root_context = false;
            e->mapping_context = true;
            e->simple_key_context = true;
            {
                int ksaved = e->indent;
                increase_indent(e, true, false);
                emit_string(e, key, klen, &a);
                e->indent = ksaved;
            }
            write_indicator(e, ":", false, false, false);
        } else {
            /* complex key "? k\n: v" */
            write_indicator(e, "?", true, false, true);
            e->root_context = false;
            e->mapping_context = true;
            e->simple_key_context = false;
            {
                int ksaved = e->indent;
                increase_indent(e, true, false);
                emit_string(e, key, klen, &a);
                e->indent = ksaved;
            }
            write_indent(e);
            write_indicator(e, ":", true, false, true);
        }
        error = emit_node(e, items[i].val, false, true, false, depth + 1);
    }
    e->indent = saved;
    if (items != stackbuf)
        pl_free(items);
    return error;
}

static int emit_sequence(emitter *e, const json_t *j, int depth)
{
    size_t i;
    json_t *v;
    int saved = e->indent, error = 0;

    if (json_array_size(j) == 0) {
        write_indicator(e, "[", true, true, false);
        write_indicator(e, "]", false, false, false);
        return 0;
    }
    /* a sequence that is a mapping value starts on the key's column ("k:\n- a") */
    increase_indent(e, false, e->mapping_context && !e->indention);
    json_array_foreach(j, i, v) {
        write_indent(e);
        write_indicator(e, "-", true, false, true);
        if ((error = emit_node(e, v, false, false, false, depth + 1)) < 0)
            break;
    }
    e->indent = saved;
    return error;
}

static int emit_node(emitter *e, const json_t *j, bool root, bool mapping, bool simple_key,
                     int depth)
{
    char tmp[64];

    if (depth > MAX_DEPTH)
        return pl_error_set(PL_ETOOBIG, "yaml: document nested deeper than %d levels", MAX_DEPTH);
    e->root_context = root;
    e->mapping_context = mapping;
    e->simple_key_context = simple_key;
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return emit_mapping(e, j, depth);
    case JSON_ARRAY:
        return emit_sequence(e, j, depth);
    case JSON_STRING: {
        const unsigned char *v = (const unsigned char *)json_string_value(j);
        size_t n = json_string_length(j);
        analysis a;
        int error;

        /* printable ASCII needs no folding: one scan instead of prepare + analyze */
        if (is_simple_text(v, n)) {
            a = simple_analysis();
        } else {
            if ((error = prepare_string(e, v, n, &v, &n)) < 0)
                return error;
            a = analyze_scalar(v, n);
        }
        return emit_scalar_node(e, v, n, &a);
    }
    case JSON_INTEGER:
        snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        return emit_scalar_node(e, (const unsigned char *)tmp, strlen(tmp), NULL);
    case JSON_REAL:
        format_float(tmp, sizeof(tmp), json_real_value(j));
        return emit_scalar_node(e, (const unsigned char *)tmp, strlen(tmp), NULL);
    case JSON_TRUE:
        return emit_scalar_node(e, (const unsigned char *)"true", 4, NULL);
    case JSON_FALSE:
        return emit_scalar_node(e, (const unsigned char *)"false", 5, NULL);
    case JSON_NULL:
    default:
        return emit_scalar_node(e, (const unsigned char *)"null", 4, NULL);
    }
}

/* One document into out with the emitter e (state reset here; scratch kept for reuse). */
static int emit_doc(emitter *e, pl_buf *out, const json_t *doc)
{
    int error;

    e->out = out;
    e->error = 0;
    e->pos = 0;
    e->column = 0;
    e->indent = -1;
    e->whitespace = true;
    e->indention = true;
    e->open_ended = false;
    e->root_context = e->mapping_context = e->simple_key_context = false;
    pl_buf_clear(&e->scratch);
    /* implicit document start; the root node; document end = write_indent (no "...") */
    error = emit_node(e, doc, true, false, false, 0);
    if (error == 0) {
        e->indent = -1;
        write_indent(e);
        flush(e);
        error = e->error;
    }
    return error;
}

int pl_yaml_emit(pl_buf *out, const json_t *doc)
{
    emitter *e;
    int error;

    if (!(e = pl_malloc(sizeof(*e))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    e->scratch = (pl_buf)PL_BUF_INIT;
    error = emit_doc(e, out, doc);
    pl_buf_dispose(&e->scratch);
    pl_free(e);
    return error;
}

/* Emit docs[from, to) into out, "---\n" before every document but the stream's first. */
static int emit_range(pl_buf *out, const json_t *docs, size_t from, size_t to)
{
    emitter *e;
    int error = 0;

    /* one emitter (and its 8 KiB buffer) for the whole range, not one per document */
    if (!(e = pl_malloc(sizeof(*e))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    e->scratch = (pl_buf)PL_BUF_INIT;
    for (size_t i = from; i < to && error == 0; i++) {
        if (i && (error = pl_buf_puts(out, "---\n")) < 0)
            break;
        error = emit_doc(e, out, json_array_get(docs, i));
    }
    pl_buf_dispose(&e->scratch);
    pl_free(e);
    return error;
}

/*
 * A stream is emitted in chunks of CHUNK_DOCS documents, each into its own buffer, by up to
 * MAX_THREADS threads that take the next chunk as they finish one: documents differ a lot
 * in size (a sorted stream has its small ConfigMaps first and its Deployments last), so
 * fixed halves kept one core busy long after the other had finished.
 */
enum { CHUNK_DOCS = 32, MAX_THREADS = 4 };

typedef struct emit_chunk {
    pl_buf out;
    int error;
    char msg[sizeof(((pl_error *)0)->message)];
} emit_chunk;

typedef struct emit_job {
    const json_t *docs;
    size_t ndocs, nchunks;
    emit_chunk *chunks;
    size_t next; /* next chunk to take (atomic) */
} emit_job;

static void *emit_worker(void *arg)
{
    emit_job *job = arg;
    size_t c;

    /* the chunk buffers and the emitters' scratch are many short-lived blocks */
    pl_alloc_pool_enter();
    while ((c = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED)) < job->nchunks) {
        emit_chunk *ch = &job->chunks[c];
        size_t to = (c + 1) * CHUNK_DOCS < job->ndocs ? (c + 1) * CHUNK_DOCS : job->ndocs;
        if ((ch->error = emit_range(&ch->out, job->docs, c * CHUNK_DOCS, to)) < 0)
            snprintf(ch->msg, sizeof(ch->msg), "%s", pl_error_last()->message);
    }
    pl_alloc_pool_leave();
    return NULL;
}

/* Documents are independent: the chunks are joined in order, the same bytes as one pass. */
int pl_yaml_emit_stream(pl_buf *out, const json_t *docs)
{
    emit_job job;
    pthread_t th[MAX_THREADS];
    int started[MAX_THREADS] = {0}, error = 0;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nthreads, total = 0;

    memset(&job, 0, sizeof(job));
    job.docs = docs;
    job.ndocs = json_array_size(docs);
    job.nchunks = (job.ndocs + CHUNK_DOCS - 1) / CHUNK_DOCS;
    if (job.nchunks <= 1)
        return emit_range(out, docs, 0, job.ndocs);
    if (!(job.chunks = pl_calloc(job.nchunks, sizeof(*job.chunks))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    for (size_t c = 0; c < job.nchunks; c++)
        job.chunks[c].out.max = out->max;
    nthreads = cpus > 1 ? (size_t)(cpus > MAX_THREADS ? MAX_THREADS : cpus) : 1;
    if (nthreads > job.nchunks / 2)
        nthreads = job.nchunks / 2 ? job.nchunks / 2 : 1;
    /* threads 1.. beside this one; a thread that cannot start leaves its share to the others */
    for (size_t k = 1; k < nthreads; k++)
        started[k] = pthread_create(&th[k], NULL, emit_worker, &job) == 0;
    emit_worker(&job);
    for (size_t k = 1; k < nthreads; k++)
        if (started[k])
            pthread_join(th[k], NULL);
    for (size_t c = 0; c < job.nchunks; c++)
        total += job.chunks[c].out.len;
    if (out->max && out->len + total > out->max)
        total = 0; /* pl_buf_put reports it */
    error = pl_buf_grow(out, total);
    for (size_t c = 0; c < job.nchunks && error == 0; c++) {
        emit_chunk *ch = &job.chunks[c];
        if (ch->error < 0)
            error = pl_error_set(ch->error, "%s", ch->msg);
        else
            error = pl_buf_put(out, ch->out.ptr ? ch->out.ptr : "", ch->out.len);
    }
    for (size_t c = 0; c < job.nchunks; c++)
        pl_buf_dispose(&job.chunks[c].out);
    pl_free(job.chunks);
    return error;
}
