/*
 * plumb/source.h - Git access through libgit2: remote kustomize bases (cached clones) and,
 * later, pl_fs over a commit's tree.
 */
#ifndef PLUMB_SOURCE_H
#define PLUMB_SOURCE_H

#include "plumb/core.h"
#include "plumb/fs.h"

/**
 * pl_fetch_remote_fn for kustomize remote resources: parses a kustomize git URL
 * (https://host/org/repo//path?ref=v1, git@host:org/repo, github.com/org/repo/path?ref=...),
 * clones it once into the cache (PLUMB_CACHE_DIR or $XDG_CACHE_HOME/plumb or ~/.cache/plumb),
 * checks out the ref, and returns the absolute directory of the path in `*out_dir` (owned).
 * Errors: PL_EUNAVAIL when the remote cannot be reached, PL_ENOTFOUND for a missing ref/path.
 */
int pl_source_fetch_remote(char **out_dir, const char *url, void *payload);

/**
 * A read-only pl_fs over the tree of revision `rev` (anything git rev-parse accepts: HEAD~1,
 * a branch, a tag, a commit id) of the git repository containing `repo_path` (discovered
 * upwards, as git does). Paths are the same absolute host paths as for the directory backend:
 * <workdir>/a/b.yaml reads the blob a/b.yaml of that tree, so a renderer runs unchanged on an
 * older revision without a checkout. Paths outside the working directory are PL_ENOTFOUND.
 * `*out` is owned (pl_fs_free). Errors: PL_ENOTFOUND (no repository, unknown revision),
 * PL_EINVALID (bare repository, revision without a tree). Safe for concurrent reads.
 * Implemented in engine/source/snapshot.c.
 */
int pl_fs_git_new(pl_fs **out, const char *repo_path, const char *rev);

#endif
