/*
 * plain.c - the "plain manifests" renderer: a file, or a directory of YAML/JSON files.
 *
 * Reproduces how Argo CD's repo-server reads a directory-type source
 * (reposerver/repository/repository.go: getPotentiallyValidManifests, findManifests,
 * getObjsFromYAMLOrJson):
 *  - files whose names end in .yaml, .yml or .json, visited in filepath.Walk order (entry names
 *    sorted per directory, depth first); sub-directories only with `recurse`;
 *  - include/exclude are gobwas globs on the path relative to the root, with no separator
 *    characters, so `*` also matches '/'; `{a,b}` alternatives are expanded once per render and
 *    each alternative is matched with fnmatch(3) without FNM_PATHNAME;
 *  - a YAML file that does not decode into objects and does not even look like a manifest
 *    (lacks "apiVersion:", "kind:" and "metadata:") is an unrelated file and is skipped; a JSON
 *    file must hold exactly one object;
 *  - objects whose `items` is a list and whose kind is List or ends in "List" are flattened
 *    (Unstructured.EachListItem); `items: null` is an empty list.
 * Deliberate differences: hidden sub-directories (".git", ".github") are not entered, directory
 * symlinks are not followed (filepath.Walk does not either), and every object must carry
 * apiVersion, kind and metadata.name (or generateName) - Argo CD finds that out only at apply.
 *
 * Reads go through pl_fs only, so the same code renders a checkout or a git tree.
 * Callers: engine/cli (plumb render on a directory without a kustomization), the daemon.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "plumb/render.h"

/* STYLE.md 2.4: one render is at most 20k objects. */
#define MAX_OBJECTS 20000
/* brace expansion of one include/exclude pattern; more alternatives is a mistake, not a glob */
#define MAX_ALTERNATIVES 1024
#define MAX_DEPTH 128

typedef struct patterns {
    char **v;
    size_t n, cap;
} patterns;

typedef struct walker {
    pl_fs *fs;
    int recurse;
    patterns include; /* empty and !has_include: everything */
    patterns exclude;
    int has_include;
    json_t *out; /* borrowed: the result array being filled */
} walker;

/* ---- globs ------------------------------------------------------------------------------ */

static void patterns_dispose(patterns *p)
{
    for (size_t i = 0; i < p->n; i++)
        pl_free(p->v[i]);
    pl_free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}

static int patterns_add(patterns *p, const char *s, size_t len)
{
    if (p->n == MAX_ALTERNATIVES)
        return pl_error_set(PL_EINVALID, "glob expands to more than %d alternatives",
                            MAX_ALTERNATIVES);
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        char **v = pl_realloc(p->v, cap * sizeof(char *));
        if (!v)
            return pl_error_set(PL_ENOMEM, "out of memory");
        p->v = v;
        p->cap = cap;
    }
    if (!(p->v[p->n] = pl_strndup(s, len)))
        return pl_error_set(PL_ENOMEM, "out of memory");
    p->n++;
    return 0;
}

/* Index just past a bracket expression starting at s[i] == '[' (fnmatch rules: a leading '!'
 * or '^' and a leading ']' are part of the set), or i + 1 when it is not closed. */
static size_t skip_bracket(const char *s, size_t len, size_t i)
{
    size_t j = i + 1;
    if (j < len && (s[j] == '!' || s[j] == '^'))
        j++;
    if (j < len && s[j] == ']')
        j++;
    for (; j < len; j++) {
        if (s[j] == '\\' && j + 1 < len)
            j++;
        else if (s[j] == ']')
            return j + 1;
    }
    return i + 1;
}

/*
 * Expand the first top-level {a,b,...} group of s (nested groups are handled by recursing on
 * each result), appending brace-free patterns to out. gobwas/glob treats braces as
 * alternation anywhere, nesting included; a '{' without its '}' stays literal.
 */
static int expand_braces(patterns *out, const char *s, size_t len)
{
    size_t open = len, close = len, i;
    int depth = 0, error = 0;
    pl_buf tmp = PL_BUF_INIT;

    for (i = 0; i < len; i++) {
        if (s[i] == '\\' && i + 1 < len) {
            i++;
        } else if (s[i] == '[') {
            i = skip_bracket(s, len, i) - 1;
        } else if (s[i] == '{') {
            if (depth++ == 0)
                open = i;
        } else if (s[i] == '}' && depth > 0) {
            if (--depth == 0) {
                close = i;
                break;
            }
        }
    }
    if (open == len || close == len)
        return patterns_add(out, s, len);

    /* split the group body on top-level commas */
    size_t start = open + 1;
    depth = 0;
    for (i = open + 1; i <= close; i++) {
        if (i < close && s[i] == '\\' && i + 1 < close) {
            i++;
            continue;
        }
        if (i < close && s[i] == '[') {
            size_t e = skip_bracket(s, close, i);
            if (e > i + 1) {
                i = e - 1;
                continue;
            }
        }
        if (i < close && s[i] == '{') {
            depth++;
        } else if (i < close && s[i] == '}') {
            depth--;
        } else if (i == close || (s[i] == ',' && depth == 0)) {
            pl_buf_clear(&tmp);
            if ((error = pl_buf_put(&tmp, s, open)) < 0 ||
                (error = pl_buf_put(&tmp, s + start, i - start)) < 0 ||
                (error = pl_buf_put(&tmp, s + close + 1, len - close - 1)) < 0)
                goto done;
            if ((error = expand_braces(out, tmp.ptr, tmp.len)) < 0)
                goto done;
            start = i + 1;
        }
    }
done:
    pl_buf_dispose(&tmp);
    return error;
}

static int glob_match(const patterns *p, const char *rel)
{
    for (size_t i = 0; i < p->n; i++)
        if (fnmatch(p->v[i], rel, 0) == 0)
            return 1;
    return 0;
}

/* ---- objects ---------------------------------------------------------------------------- */

static int nonempty_str(const json_t *v)
{
    return json_is_string(v) && json_string_length(v) > 0;
}

/* A top-level kind List, or any *List kind carrying `items` (kubectl get -o yaml output). */
static int is_list(const json_t *obj)
{
    const char *kind = pl_json_str(obj, "kind", NULL);
    size_t n;
    json_t *items = json_object_get(obj, "items");

    if (!kind || !items)
        return 0;
    n = strlen(kind);
    if (n < 4 || strcmp(kind + n - 4, "List") != 0)
        return 0;
    /* Argo CD's isNullList: `items: null` without spec/status is an empty list */
    if (json_is_null(items))
        return !json_object_get(obj, "spec") && !json_object_get(obj, "status");
    return json_is_array(items);
}

/* Argo CD decodes each document into an Unstructured: a null document is skipped, anything
 * that is not a mapping with a kind fails to decode. Returns 1 when decodable. */
static int decodable(const json_t *doc)
{
    return json_is_object(doc) && nonempty_str(json_object_get(doc, "kind"));
}

static int check_object(const json_t *obj, const char *path, size_t doc, size_t item)
{
    const char *what = NULL;
    json_t *md = json_object_get(obj, "metadata");
    char where[64] = "";

    if (item)
        snprintf(where, sizeof(where), ": item %zu", item);
    if (!json_is_object(obj))
        return pl_error_set(PL_EINVALID, "%s: document %zu%s: not an object", path, doc, where);
    if (!nonempty_str(json_object_get(obj, "apiVersion")))
        what = "missing apiVersion";
    else if (!nonempty_str(json_object_get(obj, "kind")))
        what = "missing kind";
    else if (!json_is_object(md))
        what = "missing metadata";
    else if (!nonempty_str(json_object_get(md, "name")) &&
             !nonempty_str(json_object_get(md, "generateName")))
        what = "missing metadata.name";
    if (what)
        return pl_error_set(PL_EINVALID, "%s: document %zu%s: %s", path, doc, where, what);
    return 0;
}

static int append_object(walker *w, json_t *obj, const char *path)
{
    if (json_array_size(w->out) >= MAX_OBJECTS)
        return pl_error_set(PL_ETOOBIG, "%s: render has more than %d objects", path,
                            MAX_OBJECTS);
    if (json_array_append(w->out, obj) < 0) /* the result array holds a new reference */
        return pl_error_set(PL_ENOMEM, "out of memory");
    return 0;
}

/* 1 if the raw bytes look like a Kubernetes manifest (Argo CD's test for "irrelevant" YAML). */
static int looks_like_manifest(const pl_buf *b)
{
    return b->ptr && strstr(b->ptr, "apiVersion:") && strstr(b->ptr, "kind:") &&
           strstr(b->ptr, "metadata:");
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int load_file(walker *w, const char *path)
{
    pl_buf data = PL_BUF_INIT;
    json_t *docs = NULL;
    int is_json = has_suffix(path, ".json");
    size_t ndocs, i, accepted = 0;
    int error;

    if ((error = pl_fs_read(w->fs, path, &data)) < 0)
        goto done;
    if (data.ptr && memchr(data.ptr, '\0', data.len)) {
        /* a binary file named *.yaml: never a manifest */
        if (is_json || looks_like_manifest(&data))
            error = pl_error_set(PL_EINVALID, "%s: binary content", path);
        goto done;
    }
    if ((error = pl_yaml_parse(&docs, data.ptr, data.len, path, NULL)) < 0) {
        if (!is_json && !looks_like_manifest(&data)) {
            pl_log(PL_LOG_DEBUG, "render", "%s: skipped, not a manifest", path);
            pl_error_clear();
            error = 0;
        }
        goto done;
    }
    ndocs = json_array_size(docs);
    if (is_json && ndocs > 1) {
        error = pl_error_set(PL_EINVALID, "%s: only one object is allowed in a JSON file", path);
        goto done;
    }
    /* decode pass first: an unrelated YAML file is skipped as a whole */
    for (i = 0; i < ndocs; i++) {
        json_t *doc = json_array_get(docs, i);
        if (json_is_null(doc))
            continue;
        if (!decodable(doc)) {
            if (!is_json && accepted == 0 && !looks_like_manifest(&data)) {
                pl_log(PL_LOG_DEBUG, "render", "%s: skipped, not a manifest", path);
                goto done;
            }
            error = check_object(doc, path, i + 1, 0);
            if (error == 0) /* kind present but empty, or not a mapping */
                error = pl_error_set(PL_EINVALID, "%s: document %zu: missing kind", path, i + 1);
            goto done;
        }
        accepted++;
    }
    for (i = 0; i < ndocs; i++) {
        json_t *doc = json_array_get(docs, i);
        if (json_is_null(doc))
            continue;
        if (is_list(doc)) {
            json_t *items = json_object_get(doc, "items");
            for (size_t k = 0; k < json_array_size(items); k++) {
                json_t *item = json_array_get(items, k);
                if ((error = check_object(item, path, i + 1, k + 1)) < 0 ||
                    (error = append_object(w, item, path)) < 0)
                    goto done;
            }
            continue;
        }
        if ((error = check_object(doc, path, i + 1, 0)) < 0 ||
            (error = append_object(w, doc, path)) < 0)
            goto done;
    }
done:
    json_decref(docs);
    pl_buf_dispose(&data);
    return error;
}

/* ---- walking ---------------------------------------------------------------------------- */

static int manifest_name(const char *name)
{
    return has_suffix(name, ".yaml") || has_suffix(name, ".yml") || has_suffix(name, ".json");
}

static int selected(const walker *w, const char *rel)
{
    if (w->exclude.n && glob_match(&w->exclude, rel))
        return 0;
    if (w->has_include && !glob_match(&w->include, rel))
        return 0;
    return 1;
}

/*
 * Visit `dir` (its resolved path is `real`, `rel` its path below the root with a trailing '/'
 * or ""). A sub-directory is entered only when its resolved path is the parent's resolved path
 * plus its name, i.e. when it is not a symlink: this keeps filepath.Walk's behaviour and makes
 * symlink loops impossible.
 */
static int walk(walker *w, const char *dir, const char *real, const char *rel, int depth)
{
    char **names = NULL;
    size_t count = 0;
    char *path = NULL, *child_real = NULL, *expect = NULL;
    pl_buf child_rel = PL_BUF_INIT;
    int error;

    if (depth > MAX_DEPTH)
        return pl_error_set(PL_EINVALID, "%s: directories nested too deeply", dir);
    if ((error = pl_fs_list(w->fs, dir, &names, &count)) < 0)
        return error;
    for (size_t i = 0; i < count; i++) {
        const char *name = names[i];
        pl_fs_kind kind;

        pl_free(path);
        path = pl_path_join(dir, name);
        pl_buf_clear(&child_rel);
        if (!path || (error = pl_buf_printf(&child_rel, "%s%s", rel, name)) < 0) {
            error = error < 0 ? error : pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
        kind = pl_fs_kind_of(w->fs, path);
        if (kind == PL_FS_DIR) {
            if (!w->recurse || name[0] == '.')
                continue;
            pl_free(child_real);
            pl_free(expect);
            child_real = expect = NULL;
            if (pl_fs_realpath(w->fs, path, &child_real) < 0) {
                pl_error_clear();
                continue;
            }
            if (!(expect = pl_path_join(real, name))) {
                error = pl_error_set(PL_ENOMEM, "out of memory");
                goto done;
            }
            if (strcmp(child_real, expect) != 0) {
                pl_log(PL_LOG_DEBUG, "render", "%s: directory symlink not followed", path);
                continue;
            }
            if ((error = pl_buf_putc(&child_rel, '/')) < 0 ||
                (error = walk(w, path, child_real, child_rel.ptr, depth + 1)) < 0)
                goto done;
        } else if (kind == PL_FS_FILE) {
            if (!manifest_name(name) || !selected(w, child_rel.ptr))
                continue;
            if ((error = load_file(w, path)) < 0)
                goto done;
        }
        /* PL_FS_NONE: a dangling symlink, skipped as Argo CD does (with a warning there) */
    }
done:
    pl_free(path);
    pl_free(child_real);
    pl_free(expect);
    pl_buf_dispose(&child_rel);
    pl_fs_names_free(names, count);
    return error;
}

int pl_plain_render(json_t **out, pl_fs *fs, const char *path, const pl_plain_opts *opts)
{
    walker w;
    char *real = NULL;
    pl_fs_kind kind;
    int error = 0;

    if (!out || !fs || !path)
        return pl_error_set(PL_ERROR, "pl_plain_render: invalid argument");
    *out = NULL;
    memset(&w, 0, sizeof(w));
    w.fs = fs;
    if (!(w.out = json_array()))
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (opts) {
        w.recurse = opts->recurse;
        if (opts->include && *opts->include) {
            w.has_include = 1;
            if ((error = expand_braces(&w.include, opts->include, strlen(opts->include))) < 0) {
                pl_error_prefix("include %s", opts->include);
                goto done;
            }
        }
        if (opts->exclude && *opts->exclude &&
            (error = expand_braces(&w.exclude, opts->exclude, strlen(opts->exclude))) < 0) {
            pl_error_prefix("exclude %s", opts->exclude);
            goto done;
        }
    }

    kind = pl_fs_kind_of(fs, path);
    if (kind == PL_FS_NONE) {
        error = pl_error_set(PL_ENOTFOUND, "%s: no such file or directory", path);
    } else if (kind == PL_FS_FILE) {
        /* a file named explicitly is read whatever its extension; globs select within dirs */
        error = load_file(&w, path);
    } else if ((error = pl_fs_realpath(fs, path, &real)) == 0) {
        error = walk(&w, path, real, "", 0);
    }
    if (error < 0)
        goto done;
    *out = w.out;
    w.out = NULL;
done:
    pl_free(real);
    patterns_dispose(&w.include);
    patterns_dispose(&w.exclude);
    json_decref(w.out);
    return error;
}
