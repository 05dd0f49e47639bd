/*
 * plumb/fs.h - the read-only file tree renderers read through (pl_fs).
 *
 * A pl_fs is a table of operations over absolute, '/'-separated paths. The directory backend
 * lives in engine/core (it needs only POSIX); engine/source adds a git-tree backend that reads
 * a commit straight from the object store. Every successful read can be reported to a recorder
 * callback, which is how a render learns its input set (the cache key of DESIGN.md).
 */
#ifndef PLUMB_FS_H
#define PLUMB_FS_H

#include "plumb/core.h"

typedef enum { PL_FS_NONE = 0, PL_FS_FILE = 1, PL_FS_DIR = 2 } pl_fs_kind;

typedef struct pl_fs pl_fs;

typedef struct pl_fs_ops {
    /* append the file's bytes to out; PL_ENOTFOUND, PL_ETOOBIG (over max_file) */
    int (*read)(pl_fs *fs, const char *path, pl_buf *out);
    /* PL_FS_FILE, PL_FS_DIR or PL_FS_NONE (following symlinks) */
    pl_fs_kind (*kind)(pl_fs *fs, const char *path);
    /* sorted entry names of a directory (owned array of owned strings, free with pl_fs_names_free) */
    int (*list)(pl_fs *fs, const char *path, char ***out, size_t *count);
    /* the path with symlinks resolved (owned); PL_ENOTFOUND */
    int (*realpath)(pl_fs *fs, const char *path, char **out);
    void (*free)(pl_fs *fs);
} pl_fs_ops;

typedef void (*pl_fs_recorder)(const char *path, void *payload);

struct pl_fs {
    const pl_fs_ops *ops;
    pl_fs_recorder recorder;
    void *recorder_payload;
    size_t max_file; /* bytes; 0 = 16 MiB */
};

/** A backend over the local file system (paths are absolute host paths). Owned; pl_fs_free. */
int pl_fs_dir_new(pl_fs **out);
void pl_fs_free(pl_fs *fs);

/** Read a whole file (recorded). `out` is appended to. */
int pl_fs_read(pl_fs *fs, const char *path, pl_buf *out);
pl_fs_kind pl_fs_kind_of(pl_fs *fs, const char *path);
/**
 * The first of `start` and its ancestors (up to "/") under which `rel` exists (as a directory
 * when want_dir), or NULL. Owned by the caller. For "the repository root" (rel ".git") and
 * "the base an Application's source.path is relative to".
 */
char *pl_fs_find_upwards(pl_fs *fs, const char *start, const char *rel, int want_dir);
int pl_fs_list(pl_fs *fs, const char *path, char ***out, size_t *count);
void pl_fs_names_free(char **names, size_t count);
int pl_fs_realpath(pl_fs *fs, const char *path, char **out);
/**
 * A render is about to read the tree (begin) or has finished (end); nestable, from any
 * thread. In between, a backend may remember what it learnt about paths (the directory
 * backend: whether each exists, is a directory, is a symlink), taking the tree not to change
 * during a render; after the last end it forgets everything. No effect on other backends.
 */
void pl_fs_cache_begin(pl_fs *fs);
void pl_fs_cache_end(pl_fs *fs);
/** Report every path read to `rec` (NULL to stop). */
void pl_fs_set_recorder(pl_fs *fs, pl_fs_recorder rec, void *payload);

/* ---- path strings (pure) --------------------------------------------------------------- */

/** Join `rel` onto directory `base` (rel may be absolute) and clean "."/".."/"//". Owned. */
char *pl_path_join(const char *base, const char *rel);
/** Lexically clean an absolute or relative path (Go's filepath.Clean). Owned. */
char *pl_path_clean(const char *p);
/** Directory part of a cleaned path ("/a/b" -> "/a", "/a" -> "/"). Owned. */
char *pl_path_dir(const char *p);
/** Last element of a path (borrowed pointer into p). */
const char *pl_path_base(const char *p);
/** 1 if `p` equals `root` or lies under it (both cleaned, absolute). */
int pl_path_within(const char *p, const char *root);

#endif
