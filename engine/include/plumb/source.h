/*
 * plumb/source.h - Git access through libgit2: remote kustomize bases (cached clones) and,
 * later, pl_fs over a commit's tree.
 */
#ifndef PLUMB_SOURCE_H
#define PLUMB_SOURCE_H

#include "plumb/core.h"

/**
 * pl_fetch_remote_fn for kustomize remote resources: parses a kustomize git URL
 * (https://host/org/repo//path?ref=v1, git@host:org/repo, github.com/org/repo/path?ref=...),
 * clones it once into the cache (PLUMB_CACHE_DIR or $XDG_CACHE_HOME/plumb or ~/.cache/plumb),
 * checks out the ref, and returns the absolute directory of the path in `*out_dir` (owned).
 * Errors: PL_EUNAVAIL when the remote cannot be reached, PL_ENOTFOUND for a missing ref/path.
 */
int pl_source_fetch_remote(char **out_dir, const char *url, void *payload);

#endif
