/*
 * obj.c - resource identity (pl_objkey) and small JSON path helpers over jansson.
 * Identity is always group/version/kind/namespace/name, never an ad-hoc string.
 */
#include <string.h>

#include <openssl/evp.h>

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

void pl_sha256_hex(char out[65], const void *data, size_t len)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";

    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}
