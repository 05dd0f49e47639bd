/*
 * buf.c - a growable, NUL-terminated byte buffer with an optional maximum (curl's dynbuf).
 * Every buffer fed from a repository or the network is given a maximum so hostile input
 * turns into PL_ETOOBIG instead of exhausting memory.
 */
#include <stdio.h>
#include <string.h>

#include "plumb/core.h"

static int grow(pl_buf *b, size_t need)
{
    size_t cap;
    char *p;

    if (b->max && need > b->max)
        return pl_error_set(PL_ETOOBIG, "buffer exceeds %zu bytes", b->max);
    if (need + 1 <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need + 1)
        cap *= 2;
    if (!(p = pl_realloc(b->ptr, cap)))
        return pl_error_set(PL_ENOMEM, "out of memory");
    b->ptr = p;
    b->cap = cap;
    return 0;
}

int pl_buf_grow(pl_buf *b, size_t extra)
{
    return grow(b, b->len + extra);
}

int pl_buf_put(pl_buf *b, const void *data, size_t len)
{
    size_t need = b->len + len;
    int error;

    /* the YAML reader and writer append small pieces many times over: the common case
     * (room left, within the maximum) goes straight to the copy */
    if ((need + 1 > b->cap || (b->max && need > b->max)) && (error = grow(b, need)) < 0)
        return error;
    if (len)
        memcpy(b->ptr + b->len, data, len);
    b->len += len;
    b->ptr[b->len] = '\0';
    return 0;
}

int pl_buf_puts(pl_buf *b, const char *s)
{
    return pl_buf_put(b, s, strlen(s));
}

int pl_buf_putc(pl_buf *b, char c)
{
    return pl_buf_put(b, &c, 1);
}

int pl_buf_printf(pl_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n, error;

    /* print straight into the spare room; measure first only when there is none (formatting
     * twice was a visible cost where requests and keys are built) */
    size_t room = b->cap > b->len ? b->cap - b->len : 0;
    va_start(ap, fmt);
    n = vsnprintf(room ? b->ptr + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        if (b->ptr)
            b->ptr[b->len] = '\0';
        return pl_error_set(PL_ERROR, "bad format");
    }
    if ((size_t)n < room && (!b->max || b->len + (size_t)n <= b->max)) {
        b->len += (size_t)n;
        return 0;
    }
    if (b->ptr)
        b->ptr[b->len] = '\0'; /* undo the partial text */
    if ((error = grow(b, b->len + (size_t)n)) < 0)
        return error;
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void pl_buf_clear(pl_buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

void pl_buf_dispose(pl_buf *b)
{
    pl_free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}

char *pl_buf_detach(pl_buf *b)
{
    char *p = b->ptr;

    if (!p)
        p = pl_strdup("");
    b->ptr = NULL;
    b->len = b->cap = 0;
    return p;
}
