/*
 * alloc.c - the only place that calls the C allocator.
 *
 * Everything in the engine allocates through pl_malloc & co so tests can count or fail
 * allocations (curl's curlx_ memdebug, libgit2's failalloc). The hooks are also handed to
 * jansson so JSON trees follow the same policy. libyaml has no hook.
 */
#include <stdlib.h>
#include <string.h>

#include "plumb/core.h"

static pl_alloc_hooks hooks = {malloc, realloc, free};

void pl_alloc_set_hooks(const pl_alloc_hooks *h)
{
    if (h) {
        hooks = *h;
    } else {
        hooks.malloc_fn = malloc;
        hooks.realloc_fn = realloc;
        hooks.free_fn = free;
    }
    json_set_alloc_funcs(hooks.malloc_fn, hooks.free_fn);
}

void *pl_malloc(size_t n)
{
    return hooks.malloc_fn(n ? n : 1);
}

void *pl_calloc(size_t n, size_t size)
{
    void *p;

    if (size && n > SIZE_MAX / size)
        return NULL;
    p = hooks.malloc_fn(n * size != 0 ? n * size : 1);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *pl_realloc(void *p, size_t n)
{
    return hooks.realloc_fn(p, n ? n : 1);
}

char *pl_strndup(const char *s, size_t n)
{
    char *p = pl_malloc(n + 1);

    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *pl_strdup(const char *s)
{
    return s ? pl_strndup(s, strlen(s)) : NULL;
}

void pl_free(void *p)
{
    if (p)
        hooks.free_fn(p);
}
