/*
 * fs.c - pl_fs dispatch, the local-directory backend and path string helpers.
 *
 * The directory backend is deliberately thin: it reads whole files with a size cap and
 * resolves symlinks with realpath(3) so the kustomize load restrictor can check where a
 * path really points. Callers: renderers (through pl_fs_*), engine/cli.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plumb/fs.h"

#define DEFAULT_MAX_FILE (16u * 1024 * 1024)

/* ---- dispatch ---------------------------------------------------------------------------- */

void pl_fs_free(pl_fs *fs)
{
    if (fs)
        fs->ops->free(fs);
}

int pl_fs_read(pl_fs *fs, const char *path, pl_buf *out)
{
    int error = fs->ops->read(fs, path, out);
    if (error == 0 && fs->recorder)
        fs->recorder(path, fs->recorder_payload);
    return error;
}

pl_fs_kind pl_fs_kind_of(pl_fs *fs, const char *path)
{
    return fs->ops->kind(fs, path);
}

int pl_fs_list(pl_fs *fs, const char *path, char ***out, size_t *count)
{
    return fs->ops->list(fs, path, out, count);
}

void pl_fs_names_free(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        pl_free(names[i]);
    pl_free(names);
}

int pl_fs_realpath(pl_fs *fs, const char *path, char **out)
{
    return fs->ops->realpath(fs, path, out);
}

void pl_fs_set_recorder(pl_fs *fs, pl_fs_recorder rec, void *payload)
{
    fs->recorder = rec;
    fs->recorder_payload = payload;
}

/* ---- directory backend -------------------------------------------------------------------- */

/* open + fstat + read: one read call for the whole file in the common case */
static int dir_read(pl_fs *fs, const char *path, pl_buf *out)
{
    size_t max = fs->max_file ? fs->max_file : DEFAULT_MAX_FILE;
    struct stat st;
    int fd, error = 0;
    size_t total = 0;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return pl_error_set(errno == ENOENT || errno == ENOTDIR ? PL_ENOTFOUND : PL_ERROR,
                            "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0) {
        error = pl_error_set(PL_ERROR, "%s: %s", path, strerror(errno));
        goto done;
    }
    if (S_ISDIR(st.st_mode)) {
        error = pl_error_set(PL_EINVALID, "%s: is a directory", path);
        goto done;
    }
    if ((size_t)st.st_size > max) {
        error = pl_error_set(PL_ETOOBIG, "%s: larger than %zu bytes", path, max);
        goto done;
    }
    /* room for the whole file plus one byte, so the end of a regular file needs no extra
     * read call; a file that grew meanwhile is read on until end of file */
    for (;;) {
        ssize_t n;
        size_t want = (size_t)st.st_size + 1 > 4096 ? (size_t)st.st_size + 1 : 4096;
        if ((error = pl_buf_grow(out, want)) < 0)
            goto done;
        n = read(fd, out->ptr + out->len, out->cap - out->len - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            error = pl_error_set(PL_ERROR, "%s: read error: %s", path, strerror(errno));
            goto done;
        }
        total += (size_t)n;
        if (total > max) {
            error = pl_error_set(PL_ETOOBIG, "%s: larger than %zu bytes", path, max);
            goto done;
        }
        out->len += (size_t)n;
        out->ptr[out->len] = '\0';
        if (n == 0 || (S_ISREG(st.st_mode) && total == (size_t)st.st_size))
            break;
    }
done:
    close(fd);
    return error;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int dir_list(pl_fs *fs, const char *path, char ***out, size_t *count)
{
    DIR *d;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    (void)fs;

    *out = NULL;
    *count = 0;
    if (!(d = opendir(path)))
        return pl_error_set(PL_ENOTFOUND, "%s: cannot open directory", path);
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (n == cap) {
            char **p;
            cap = cap ? cap * 2 : 16;
            if (!(p = pl_realloc(names, cap * sizeof(char *)))) {
                closedir(d);
                pl_fs_names_free(names, n);
                return pl_error_set(PL_ENOMEM, "out of memory");
            }
            names = p;
        }
        names[n++] = pl_strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(char *), name_cmp);
    *out = names;
    *count = n;
    return 0;
}

/*
 * realpath(3) resolves every component with readlink. Renders ask for the real path of every
 * file they read, and files sit in few directories: when the file itself is not a symlink, its
 * real path is its directory's (remembered) real path plus its name.
 */
typedef struct dirfs {
    pl_fs base;
    pthread_mutex_t lock; /* renders may read from several threads */
    json_t *real_dirs;    /* directory -> real path */
    /*
     * While a render runs (pl_fs_cache_begin/end) what lstat said about each path: a build
     * asks for the kind of every entry twice (once to plan the build, once to load it) and
     * then for its real path, three path walks in the kernel where one does.
     */
    int windows;  /* renders between begin and end */
    json_t *seen; /* path -> integer: pl_fs_kind, plus SEEN_LINK when a symlink */
} dirfs;

#define SEEN_LINK 4

/* What lstat (and, for a symlink, stat) says about path: a pl_fs_kind plus SEEN_LINK. */
static int probe(const char *path)
{
    struct stat st;
    int link = 0;

    if (lstat(path, &st) < 0)
        return PL_FS_NONE;
    if (S_ISLNK(st.st_mode)) {
        link = SEEN_LINK;
        if (stat(path, &st) < 0)
            return PL_FS_NONE | link;
    }
    return (S_ISDIR(st.st_mode) ? PL_FS_DIR : PL_FS_FILE) | link;
}

/* probe(path), remembered while a render runs */
static int seen(dirfs *d, const char *path)
{
    json_t *v;
    int r;

    pthread_mutex_lock(&d->lock);
    v = d->windows ? json_object_get(d->seen, path) : NULL;
    r = v ? (int)json_integer_value(v) : -1;
    pthread_mutex_unlock(&d->lock);
    if (r >= 0)
        return r;
    r = probe(path);
    pthread_mutex_lock(&d->lock);
    if (d->windows && d->seen)
        json_object_set_new(d->seen, path, json_integer(r));
    pthread_mutex_unlock(&d->lock);
    return r;
}

static pl_fs_kind dir_kind(pl_fs *fs, const char *path)
{
    return (pl_fs_kind)(seen((dirfs *)fs, path) & ~SEEN_LINK);
}

static int dir_realpath(pl_fs *fs, const char *path, char **out)
{
    dirfs *d = (dirfs *)fs;
    char buf[PATH_MAX];
    char *parent = NULL, *r = NULL;
    const char *real_parent;
    int k;

    *out = NULL;
    if (path[0] == '/' && (k = seen(d, path)) != PL_FS_NONE && !(k & SEEN_LINK) &&
        strcmp(path, "/") && (parent = pl_path_dir(path)) != NULL) {
        pthread_mutex_lock(&d->lock);
        real_parent = json_string_value(json_object_get(d->real_dirs, parent));
        if (!real_parent && realpath(parent, buf)) {
            json_object_set_new(d->real_dirs, parent, json_string(buf));
            real_parent = json_string_value(json_object_get(d->real_dirs, parent));
        }
        if (real_parent) {
            /* real parent + "/" (unless it is the root) + name, without printf */
            const char *base = pl_path_base(path);
            size_t pl = strlen(real_parent), bl = strlen(base), sep = strcmp(real_parent, "/") != 0;
            if ((r = pl_malloc(pl + sep + bl + 1)) != NULL) {
                memcpy(r, real_parent, pl);
                r[pl] = '/';
                memcpy(r + pl + sep, base, bl + 1);
            }
        }
        pthread_mutex_unlock(&d->lock);
        pl_free(parent);
        if (r) {
            *out = r;
            return 0;
        }
    }
    if (!realpath(path, buf))
        return pl_error_set(PL_ENOTFOUND, "%s: %s", path, strerror(errno));
    *out = pl_strdup(buf);
    return *out ? 0 : pl_error_set(PL_ENOMEM, "out of memory");
}

static void dir_free(pl_fs *fs)
{
    dirfs *d = (dirfs *)fs;
    pthread_mutex_destroy(&d->lock);
    json_decref(d->real_dirs);
    json_decref(d->seen);
    pl_free(d);
}

static const pl_fs_ops dir_ops = {dir_read, dir_kind, dir_list, dir_realpath, dir_free};

void pl_fs_cache_begin(pl_fs *fs)
{
    dirfs *d = (dirfs *)fs;

    if (!fs || fs->ops != &dir_ops)
        return;
    pthread_mutex_lock(&d->lock);
    if (d->windows++ == 0 && !d->seen)
        d->seen = json_object();
    pthread_mutex_unlock(&d->lock);
}

void pl_fs_cache_end(pl_fs *fs)
{
    dirfs *d = (dirfs *)fs;

    if (!fs || fs->ops != &dir_ops)
        return;
    pthread_mutex_lock(&d->lock);
    /* the tree may change before the next render: forget it all */
    if (d->windows > 0 && --d->windows == 0) {
        json_decref(d->seen);
        d->seen = NULL;
    }
    pthread_mutex_unlock(&d->lock);
}

int pl_fs_dir_new(pl_fs **out)
{
    dirfs *d = pl_calloc(1, sizeof(*d));
    if (!d || !(d->real_dirs = json_object())) {
        pl_free(d);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&d->lock, NULL);
    d->base.ops = &dir_ops;
    *out = &d->base;
    return 0;
}

/* ---- path strings ------------------------------------------------------------------------ */

char *pl_path_clean(const char *p)
{
    size_t n = strlen(p);
    char *out = pl_malloc(n + 2);
    int abs = p[0] == '/';
    size_t o = 0, i = 0;
    size_t dotdot = 0; /* length of the prefix that ".." cannot remove */

    if (!out)
        return NULL;
    if (abs) {
        out[o++] = '/';
        dotdot = 1;
        i = 1;
    }
    while (i < n) {
        if (p[i] == '/') {
            i++;
        } else if (p[i] == '.' && (i + 1 == n || p[i + 1] == '/')) {
            i++;
        } else if (p[i] == '.' && p[i + 1] == '.' && (i + 2 == n || p[i + 2] == '/')) {
            i += 2;
            if (o > dotdot) {
                o--;
                while (o > dotdot && out[o] != '/')
                    o--;
            } else if (!abs) {
                if (o > 0)
                    out[o++] = '/';
                out[o++] = '.';
                out[o++] = '.';
                dotdot = o;
            }
        } else {
            if ((abs && o != 1) || (!abs && o != 0))
                out[o++] = '/';
            while (i < n && p[i] != '/')
                out[o++] = p[i++];
        }
    }
    if (o == 0)
        out[o++] = '.';
    out[o] = '\0';
    return out;
}

char *pl_path_join(const char *base, const char *rel)
{
    pl_buf b = PL_BUF_INIT;
    char *r;

    if (rel[0] == '/')
        return pl_path_clean(rel);
    if (pl_buf_puts(&b, base) < 0 || pl_buf_putc(&b, '/') < 0 || pl_buf_puts(&b, rel) < 0) {
        pl_buf_dispose(&b);
        return NULL;
    }
    r = pl_path_clean(b.ptr);
    pl_buf_dispose(&b);
    return r;
}

char *pl_path_dir(const char *p)
{
    const char *slash = strrchr(p, '/');
    if (!slash)
        return pl_strdup(".");
    if (slash == p)
        return pl_strdup("/");
    return pl_strndup(p, (size_t)(slash - p));
}

const char *pl_path_base(const char *p)
{
    const char *slash = strrchr(p, '/');
    return slash ? slash + 1 : p;
}

int pl_path_within(const char *p, const char *root)
{
    size_t n = strlen(root);
    if (!strcmp(root, "/"))
        return p[0] == '/';
    return strncmp(p, root, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

char *pl_fs_find_upwards(pl_fs *fs, const char *start, const char *rel, int want_dir)
{
    char *cur = pl_strdup(start);

    while (cur) {
        char *p = pl_path_join(cur, rel), *up;
        pl_fs_kind k = p ? pl_fs_kind_of(fs, p) : PL_FS_NONE;
        pl_free(p);
        if (want_dir ? k == PL_FS_DIR : k != PL_FS_NONE)
            return cur;
        if (!strcmp(cur, "/") || !strcmp(cur, "."))
            break;
        up = pl_path_dir(cur);
        pl_free(cur);
        cur = up;
    }
    pl_free(cur);
    return NULL;
}
