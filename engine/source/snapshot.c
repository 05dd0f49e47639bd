/*
 * snapshot.c - a read-only pl_fs over the tree of one revision of a local git repository.
 *
 * `plumb lint --since REV` renders the parent revision with exactly the code that renders the
 * working tree: the renderers read through pl_fs, so this backend answers the same absolute
 * host paths (<workdir>/a/b.yaml) from the tree of REV instead of the disk, reading blobs
 * straight from the object store. Nothing is checked out and no temporary directory is
 * written, which keeps a pre-commit hook fast and leaves the working tree alone.
 *
 * Deliberately not done: submodules (a gitlink reads as an empty directory), files outside
 * the working directory (PL_ENOTFOUND: the revision has no such file), the index or the
 * working tree's uncommitted changes (that is what the directory backend is for).
 *
 * Symlinks stored in the tree (mode 120000) are followed inside the tree, as the directory
 * backend follows them on disk; realpath reports the resolved path, so the kustomize load
 * restrictor sees where a link really points.
 *
 * Thread-safety: renders may read from several threads; a libgit2 repository handle is not
 * safe for concurrent use, so every operation holds the backend's mutex.
 * Callers: engine/cli (cmd_lint.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "plumb/fs.h"
#include "plumb/source.h"

#define DEFAULT_MAX_FILE (16u * 1024 * 1024)
#define MAX_LINK_DEPTH 16

typedef struct gitfs {
    pl_fs base;
    pthread_mutex_t lock;
    git_repository *repo;
    git_tree *tree;
    char *root; /* the working directory, real path without trailing '/' */
} gitfs;

static const char *git_msg(void)
{
    const git_error *e = git_error_last();
    return e && e->message && *e->message ? e->message : "unknown error";
}

/*
 * Resolve `path` (absolute host path) to a tree entry, following symlinks stored in the tree.
 * *out_entry is NULL for the root itself (a directory). *out_real gets the resolved path
 * (owned). Returns 0, or PL_ENOTFOUND.
 */
static int resolve(gitfs *g, const char *path, git_tree_entry **out_entry, char **out_real)
{
    char *cur = pl_path_clean(path);
    int error = 0;

    *out_entry = NULL;
    *out_real = NULL;
    if (!cur)
        return pl_error_set(PL_ENOMEM, "out of memory");
    for (int depth = 0;; depth++) {
        git_tree_entry *e = NULL;
        size_t n = strlen(g->root);
        const char *rel;
        char *next = NULL, *dir = NULL;
        const char *slash;
        pl_buf part = PL_BUF_INIT;

        if (!pl_path_within(cur, g->root)) {
            error = pl_error_set(PL_ENOTFOUND, "%s: outside the repository", path);
            break;
        }
        rel = cur[n] == '/' ? cur + n + 1 : cur + n;
        if (!*rel) {
            *out_real = cur;
            return 0;
        }
        /*
         * Walk component by component so a symlinked directory in the middle of the path is
         * followed too: the first link found is replaced by its target and the walk restarts.
         */
        slash = rel;
        for (;;) {
            const char *end = strchr(slash, '/');
            size_t len = end ? (size_t)(end - rel) : strlen(rel);
            pl_buf_clear(&part);
            pl_buf_put(&part, rel, len);
            if (!part.ptr || git_tree_entry_bypath(&e, g->tree, part.ptr) < 0) {
                error = pl_error_set(PL_ENOTFOUND, "%s: not in the revision", path);
                break;
            }
            if (git_tree_entry_filemode(e) == GIT_FILEMODE_LINK) {
                git_blob *blob = NULL;
                pl_buf target = PL_BUF_INIT, link = PL_BUF_INIT;
                if (depth >= MAX_LINK_DEPTH ||
                    git_blob_lookup(&blob, g->repo, git_tree_entry_id(e)) < 0) {
                    error = pl_error_set(PL_ENOTFOUND, "%s: unresolvable symlink", path);
                    git_tree_entry_free(e);
                    e = NULL;
                    break;
                }
                pl_buf_put(&target, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
                git_blob_free(blob);
                pl_buf_printf(&link, "%s/%.*s", g->root, (int)len, rel);
                dir = link.ptr ? pl_path_dir(link.ptr) : NULL;
                if (dir && target.ptr) {
                    char *joined = pl_path_join(dir, target.ptr);
                    if (joined && end) {
                        pl_buf rest = PL_BUF_INIT;
                        pl_buf_printf(&rest, "%s%s", joined, end);
                        next = rest.ptr ? pl_path_clean(rest.ptr) : NULL;
                        pl_buf_dispose(&rest);
                        pl_free(joined);
                    } else {
                        next = joined;
                    }
                }
                pl_free(dir);
                pl_buf_dispose(&target);
                pl_buf_dispose(&link);
                git_tree_entry_free(e);
                e = NULL;
                if (!next)
                    error = pl_error_set(PL_ENOMEM, "out of memory");
                break;
            }
            if (!end)
                break; /* e is the entry of the whole path */
            git_tree_entry_free(e);
            e = NULL;
            slash = end + 1;
        }
        pl_buf_dispose(&part);
        if (error < 0)
            break;
        if (next) {
            pl_free(cur);
            cur = next;
            continue;
        }
        *out_entry = e;
        *out_real = cur;
        return 0;
    }
    pl_free(cur);
    return error;
}

static int gitfs_read(pl_fs *fs, const char *path, pl_buf *out)
{
    gitfs *g = (gitfs *)fs;
    size_t max = fs->max_file ? fs->max_file : DEFAULT_MAX_FILE;
    git_tree_entry *e = NULL;
    git_blob *blob = NULL;
    char *real = NULL;
    int error;

    pthread_mutex_lock(&g->lock);
    if ((error = resolve(g, path, &e, &real)) < 0)
        goto done;
    if (!e || git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
        error = pl_error_set(PL_EINVALID, "%s: is a directory", path);
        goto done;
    }
    if (git_blob_lookup(&blob, g->repo, git_tree_entry_id(e)) < 0) {
        error = pl_error_set(PL_ERROR, "%s: %s", path, git_msg());
        goto done;
    }
    if ((size_t)git_blob_rawsize(blob) > max) {
        error = pl_error_set(PL_ETOOBIG, "%s: larger than %zu bytes", path, max);
        goto done;
    }
    error = pl_buf_put(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
done:
    git_blob_free(blob);
    git_tree_entry_free(e);
    pl_free(real);
    pthread_mutex_unlock(&g->lock);
    return error;
}

static pl_fs_kind gitfs_kind(pl_fs *fs, const char *path)
{
    gitfs *g = (gitfs *)fs;
    git_tree_entry *e = NULL;
    char *real = NULL;
    pl_fs_kind kind = PL_FS_NONE;

    pthread_mutex_lock(&g->lock);
    if (resolve(g, path, &e, &real) == 0) {
        if (!e)
            kind = PL_FS_DIR;
        else if (git_tree_entry_type(e) == GIT_OBJECT_TREE ||
                 git_tree_entry_type(e) == GIT_OBJECT_COMMIT)
            kind = PL_FS_DIR;
        else
            kind = PL_FS_FILE;
    } else {
        pl_error_clear();
    }
    git_tree_entry_free(e);
    pl_free(real);
    pthread_mutex_unlock(&g->lock);
    return kind;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int gitfs_list(pl_fs *fs, const char *path, char ***out, size_t *count)
{
    gitfs *g = (gitfs *)fs;
    git_tree_entry *e = NULL;
    git_tree *sub = NULL;
    const git_tree *t;
    char *real = NULL, **names = NULL;
    size_t n = 0;
    int error;

    *out = NULL;
    *count = 0;
    pthread_mutex_lock(&g->lock);
    if ((error = resolve(g, path, &e, &real)) < 0)
        goto done;
    if (!e) {
        t = g->tree;
    } else if (git_tree_entry_type(e) == GIT_OBJECT_COMMIT) {
        goto done; /* a submodule: empty */
    } else if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
        error = pl_error_set(PL_ENOTFOUND, "%s: cannot open directory", path);
        goto done;
    } else {
        if (git_tree_lookup(&sub, g->repo, git_tree_entry_id(e)) < 0) {
            error = pl_error_set(PL_ERROR, "%s: %s", path, git_msg());
            goto done;
        }
        t = sub;
    }
    n = git_tree_entrycount(t);
    if (n && !(names = pl_calloc(n, sizeof(char *)))) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(names[i] = pl_strdup(git_tree_entry_name(git_tree_entry_byindex(t, i))))) {
            pl_fs_names_free(names, i);
            names = NULL;
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
    }
    /* git orders directories as if their names ended in '/'; callers expect bytewise order */
    if (n)
        qsort(names, n, sizeof(char *), name_cmp);
    *out = names;
    *count = n;
done:
    git_tree_free(sub);
    git_tree_entry_free(e);
    pl_free(real);
    pthread_mutex_unlock(&g->lock);
    return error;
}

static int gitfs_realpath(pl_fs *fs, const char *path, char **out)
{
    gitfs *g = (gitfs *)fs;
    git_tree_entry *e = NULL;
    int error;

    pthread_mutex_lock(&g->lock);
    error = resolve(g, path, &e, out);
    git_tree_entry_free(e);
    pthread_mutex_unlock(&g->lock);
    return error;
}

static void gitfs_free(pl_fs *fs)
{
    gitfs *g = (gitfs *)fs;
    git_tree_free(g->tree);
    git_repository_free(g->repo);
    pl_free(g->root);
    pthread_mutex_destroy(&g->lock);
    pl_free(g);
    git_libgit2_shutdown();
}

static const pl_fs_ops gitfs_ops = {gitfs_read, gitfs_kind, gitfs_list, gitfs_realpath,
                                    gitfs_free};

int pl_fs_git_new(pl_fs **out, const char *repo_path, const char *rev)
{
    gitfs *g = NULL;
    git_object *obj = NULL;
    char real[PATH_MAX];
    const char *wd;
    int error = 0;

    *out = NULL;
    if (git_libgit2_init() < 0)
        return pl_error_set(PL_ERROR, "cannot initialise libgit2");
    if (!(g = pl_calloc(1, sizeof(*g)))) {
        git_libgit2_shutdown();
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&g->lock, NULL);
    g->base.ops = &gitfs_ops;
    if (git_repository_open_ext(&g->repo, repo_path, 0, NULL) < 0) {
        error = pl_error_set(PL_ENOTFOUND, "%s: not inside a git repository", repo_path);
        goto done;
    }
    if (!(wd = git_repository_workdir(g->repo))) {
        error = pl_error_set(PL_EINVALID, "%s: a bare repository has no working directory",
                             repo_path);
        goto done;
    }
    /* host paths reach us through realpath(3); compare against the same form */
    if (!realpath(wd, real)) {
        error = pl_error_set(PL_ENOTFOUND, "%s: cannot resolve the working directory", wd);
        goto done;
    }
    if (!(g->root = pl_strdup(real))) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if (git_revparse_single(&obj, g->repo, rev) < 0) {
        error = pl_error_set(PL_ENOTFOUND, "%s: unknown revision %s: %s", repo_path, rev,
                             git_msg());
        goto done;
    }
    if (git_object_peel((git_object **)&g->tree, obj, GIT_OBJECT_TREE) < 0) {
        error = pl_error_set(PL_EINVALID, "%s: revision %s has no tree: %s", repo_path, rev,
                             git_msg());
        goto done;
    }
    *out = &g->base;
    g = NULL;
done:
    git_object_free(obj);
    if (g)
        gitfs_free(&g->base);
    return error;
}
