/*
 * applyset.c - ApplySet (KEP-3659) identity and bookkeeping values.
 *
 * plumb records each app's inventory the way `kubectl apply --prune --applyset` does, so the
 * objects it manages can be listed and pruned with kubectl too: a parent object carries the
 * id label and the group-kinds annotation, every member carries the part-of label.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "plumb/sync.h"

void pl_applyset_id(char out[64], const char *name, const char *ns, const char *kind,
                    const char *group)
{
    pl_buf key = PL_BUF_INIT, enc = PL_BUF_INIT;
    unsigned char md[SHA256_DIGEST_LENGTH];
    pl_buf_printf(&key, "%s.%s.%s.%s", name ? name : "", ns ? ns : "", kind ? kind : "",
                  group ? group : "");
    SHA256((const unsigned char *)(key.ptr ? key.ptr : ""), key.len, md);
    pl_buf_dispose(&key);
    pl_base64_encode(&enc, md, sizeof(md), 1); /* RFC 4648 URL-safe, unpadded: 43 characters */
    snprintf(out, 64, "applyset-%s-v1", enc.ptr ? enc.ptr : "");
    pl_buf_dispose(&enc);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *pl_applyset_group_kinds(const json_t *objs)
{
    size_t n = json_array_size(objs), count = 0;
    char **items = pl_calloc(n ? n : 1, sizeof(*items));
    pl_buf out = PL_BUF_INIT;
    if (!items)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(objs, i);
        const char *kind = pl_json_str(o, "kind", NULL);
        const char *av = pl_json_str(o, "apiVersion", NULL);
        const char *slash = av ? strchr(av, '/') : NULL;
        pl_buf b = PL_BUF_INIT;
        if (!kind)
            continue;
        if (slash)
            pl_buf_printf(&b, "%s.%.*s", kind, (int)(slash - av), av);
        else
            pl_buf_puts(&b, kind);
        items[count++] = pl_buf_detach(&b);
    }
    qsort(items, count, sizeof(*items), str_cmp);
    pl_buf_puts(&out, "");
    for (size_t i = 0; i < count; i++) {
        if (i == 0 || strcmp(items[i], items[i - 1])) {
            if (out.len)
                pl_buf_putc(&out, ',');
            pl_buf_puts(&out, items[i]);
        }
    }
    for (size_t i = 0; i < count; i++)
        pl_free(items[i]);
    pl_free(items);
    return pl_buf_detach(&out);
}
