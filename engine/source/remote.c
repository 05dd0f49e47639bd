/*
 * remote.c - kustomize remote resources (git URLs) fetched with libgit2 into a cache.
 * Placeholder until the fetcher lands: says plainly that remote resources are unavailable.
 */
#include <git2.h>

#include "plumb/source.h"

int pl_source_fetch_remote(char **out_dir, const char *url, void *payload)
{
    (void)payload;
    *out_dir = NULL;
    return pl_error_set(PL_EUNAVAIL, "%s: remote resources are not supported yet", url);
}
