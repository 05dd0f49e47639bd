/*
 * log.c - engine logging goes through one sink installed by the host (libgit2's git_trace).
 * The engine never prints; engine/cli and engine/daemon decide where lines go.
 */
#include <stdio.h>

#include "plumb/core.h"

static pl_log_sink sink;
static pl_log_level max_level = PL_LOG_WARN;
static void *sink_payload;

void pl_log_set_sink(pl_log_sink s, pl_log_level level, void *payload)
{
    sink = s;
    max_level = level;
    sink_payload = payload;
}

void pl_log(pl_log_level level, const char *comp, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;

    if (!sink || level > max_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sink(level, comp, msg, sink_payload);
}
