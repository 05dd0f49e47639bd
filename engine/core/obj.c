/*
 * obj.c - resource identity (pl_objkey) and small JSON path helpers over jansson.
 * Identity is always group/version/kind/namespace/name, never an ad-hoc string.
 */
#include <stdint.h>
#include <string.h>

#include "plumb/core.h"

static const char *nz(const char *s)
{
    return s ? s : "";
}

void pl_objkey_from(pl_objkey *out, const json_t *obj)
{
    const char *av = pl_json_str(obj, "apiVersion", NULL);
    const char *slash;

    out->group = "";
    out->version = "";
    if (av) {
        /* "apps/v1" -> group apps; "v1" -> core. The group part points into the string, so
         * it is exposed only through pl_objkey_cmp/format via group_len semantics below. */
        slash = strchr(av, '/');
        out->version = slash ? slash + 1 : av;
        out->group = slash ? av : "";
    }
    out->kind = nz(pl_json_str(obj, "kind", NULL));
    out->ns = nz(pl_json_str(obj, "metadata", "namespace", NULL));
    out->name = nz(pl_json_str(obj, "metadata", "name", NULL));
}

/* group is "apps/v1"-style (up to the slash) or "" */
static size_t group_len(const char *g)
{
    const char *slash = strchr(g, '/');
    return slash ? (size_t)(slash - g) : strlen(g);
}

int pl_objkey_cmp(const pl_objkey *a, const pl_objkey *b)
{
    size_t la = group_len(a->group), lb = group_len(b->group);
    int c = strncmp(a->group, b->group, la < lb ? la : lb);

    if (c == 0 && la != lb)
        c = la < lb ? -1 : 1;
    if (c)
        return c;
    if ((c = strcmp(a->version, b->version)))
        return c;
    if ((c = strcmp(a->kind, b->kind)))
        return c;
    if ((c = strcmp(a->ns, b->ns)))
        return c;
    return strcmp(a->name, b->name);
}

int pl_objkey_format(pl_buf *out, const pl_objkey *key)
{
    size_t gl = group_len(key->group);
    int error;

    if ((error = pl_buf_puts(out, key->kind)) < 0)
        return error;
    if (gl && ((error = pl_buf_putc(out, '.')) < 0 || (error = pl_buf_put(out, key->group, gl)) < 0))
        return error;
    if (*key->ns && (error = pl_buf_printf(out, "/%s", key->ns)) < 0)
        return error;
    return pl_buf_printf(out, "/%s", key->name);
}

static json_t *vpath(const json_t *obj, va_list ap)
{
    const char *k;
    json_t *cur = (json_t *)obj;

    while ((k = va_arg(ap, const char *)) != NULL) {
        if (!json_is_object(cur))
            return NULL;
        cur = json_object_get(cur, k);
        if (!cur)
            return NULL;
    }
    return cur;
}

json_t *pl_json_path(const json_t *obj, ...)
{
    va_list ap;
    json_t *r;

    va_start(ap, obj);
    r = vpath(obj, ap);
    va_end(ap);
    return r;
}

const char *pl_json_str(const json_t *obj, ...)
{
    va_list ap;
    json_t *r;

    va_start(ap, obj);
    r = vpath(obj, ap);
    va_end(ap);
    return json_is_string(r) ? json_string_value(r) : NULL;
}

json_t *pl_json_mkpath(json_t *obj, ...)
{
    va_list ap;
    const char *k;
    json_t *cur = obj, *next;

    va_start(ap, obj);
    while ((k = va_arg(ap, const char *)) != NULL) {
        if (!json_is_object(cur)) {
            cur = NULL;
            break;
        }
        next = json_object_get(cur, k);
        if (!next || json_is_null(next)) {
            next = json_object();
            if (!next || json_object_set_new(cur, k, next) < 0) {
                cur = NULL;
                break;
            }
        }
        cur = next;
    }
    va_end(ap);
    return json_is_object(cur) ? cur : NULL;
}

/*
 * SHA-256 (FIPS 180-4). A local implementation rather than OpenSSL's EVP_Digest: the first
 * EVP call of a process initialises OpenSSL 3 and fetches the digest from its default
 * provider, about five million instructions, more than a whole kustomize render spends on
 * all its generator hashes; the inputs here are small and hashed once.
 */
static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
};

static uint32_t ror32(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

/* one 64-byte block into the state h */
static void sha256_block(uint32_t h[8], const unsigned char *p)
{
    uint32_t w[64], a, b, c, d, e, f, g, hh;

    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) + ((e & f) ^ (~e & g)) +
                      sha256_k[i] + w[i];
        uint32_t t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

void pl_sha256_hex(char out[65], const void *data, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const unsigned char *p = data;
    unsigned char tail[128];
    size_t rest = len % 64, tlen = rest < 56 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;

    for (size_t off = 0; off + 64 <= len; off += 64)
        sha256_block(h, p + off);
    /* the last partial block, the 0x80 marker, zeros and the bit length (big endian) */
    memset(tail, 0, sizeof(tail));
    if (rest)
        memcpy(tail, p + (len - rest), rest);
    tail[rest] = 0x80;
    for (int i = 0; i < 8; i++)
        tail[tlen - 1 - i] = (unsigned char)(bits >> (8 * i));
    sha256_block(h, tail);
    if (tlen == 128)
        sha256_block(h, tail + 64);
    for (int i = 0; i < 32; i++) {
        unsigned char byte = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
        out[2 * i] = hex[byte >> 4];
        out[2 * i + 1] = hex[byte & 15];
    }
    out[64] = '\0';
}

int pl_base64_encode(pl_buf *out, const void *data, size_t len, int url)
{
    const char *tab = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                          : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = data;
    int error = pl_buf_grow(out, (len + 2) / 3 * 4 + 1);
    for (size_t i = 0; error == 0 && i < len; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < len ? (unsigned)s[i + 1] << 8 : 0) |
                     (i + 2 < len ? s[i + 2] : 0);
        char q[4] = {tab[v >> 18 & 63], tab[v >> 12 & 63], i + 1 < len ? tab[v >> 6 & 63] : '=',
                     i + 2 < len ? tab[v & 63] : '='};
        size_t n = 4;
        if (url) /* no padding */
            n = i + 2 < len ? 4 : i + 1 < len ? 3 : 2;
        error = pl_buf_put(out, q, n);
    }
    if (error == 0 && !out->ptr)
        error = pl_buf_put(out, "", 0);
    return error;
}
