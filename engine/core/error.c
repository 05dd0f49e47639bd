/*
 * error.c - the thread-local error record (libgit2's git_error_last model).
 *
 * Engine code returns a pl_code and leaves a one-line human message here; only engine/cli
 * prints it. Messages are never re-worded on the way up, only prefixed with where it happened.
 */
#include <stdio.h>
#include <string.h>

#include "plumb/core.h"

static _Thread_local pl_error last_error;

const pl_error *pl_error_last(void)
{
    return &last_error;
}

int pl_error_set(int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_error.message, sizeof(last_error.message), fmt, ap);
    va_end(ap);
    last_error.code = code;
    return code;
}

int pl_error_prefix(const char *fmt, ...)
{
    char prefix[1024];
    /* prefix is at most 1023 bytes, so plen + 3 < sizeof(tmp) */
    char tmp[sizeof(last_error.message)];
    size_t plen;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    plen = strlen(prefix);
    /* already says where: keep it as is */
    if (strncmp(last_error.message, prefix, plen) == 0 && last_error.message[plen] == ':')
        return last_error.code;
    /* prefix first, then as much of the old message as fits */
    memcpy(tmp, prefix, plen);
    tmp[plen] = ':';
    tmp[plen + 1] = ' ';
    memcpy(tmp + plen + 2, last_error.message, sizeof(tmp) - plen - 3);
    tmp[sizeof(tmp) - 1] = '\0';
    memcpy(last_error.message, tmp, sizeof(tmp));
    return last_error.code;
}

void pl_error_clear(void)
{
    last_error.code = 0;
    last_error.message[0] = '\0';
}
