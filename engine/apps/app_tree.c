/*
 * app_tree.c - the App-of-Apps tree: render the root, follow every Application, recursively.
 *
 * Walk: depth first, children in render order. Each app's source is resolved (app_resolve),
 * rendered through the host's callback (with source.kustomize applied through a layered fs,
 * app_kustomize.c), and its argoproj.io Applications become its children. When every app is
 * rendered, destination.namespace is applied to namespaced objects without a namespace; the
 * scope of custom kinds comes from the CRDs found anywhere in the tree, so a CRD in one app
 * scopes the custom resources of another.
 *
 * Source identity ("key") is where a render reads from: "local:<dir>" for the repository holding
 * PATH (and --repo-alias targets), "remote:<normalised url>@<revision>//<path>" otherwise. An app
 * whose key equals an ancestor's is a cycle (hard error naming the chain), except the ancestor's
 * own manifest: an Application with the ancestor's name (a self-managing root), or any
 * Application whose source is a directory root itself (the directory holds the Application
 * that Argo CD would use to sync it).
 *
 * Repository detection uses libgit2 directly (git_repository_open_ext + the remotes' URLs);
 * fetching other repositories goes through engine/source (pl_source_fetch_remote's cache).
 * Callers: engine/cli (render --apps, diff), engine/sync.
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "apps_int.h"
#include "plumb/source.h"

#define DEFAULT_MAX_APPS 1000
#define MAX_DEPTH 64

typedef struct node {
    pl_app app; /* first: a pl_app * is a node * */
    char *key;  /* source identity; NULL when resolution failed */
    int synthetic; /* a directory (or plain file) root without an Application */
} node;

struct pl_app_tree {
    node **nodes;
    size_t n, cap;
    pl_fs *fs;          /* borrowed: the checkout or commit PATH lives in */
    pl_fs *remote_fs;   /* owned: fetched checkouts of other repositories */
    const pl_app_tree_opts *opts;
    char *path;         /* PATH, cleaned */
    char *repo_root;    /* working directory of the repository holding PATH, or NULL */
    int repo_checked;   /* detect_repo ran (lazily: opening libgit2 costs ~15 ms, and a tree
                           without Applications never needs it) */
    json_t *local_urls; /* normalised url -> base directory ("" = look upwards from PATH) */
    json_t *crd_scopes; /* "group/Kind" -> true (cluster) / false (namespaced) */
    size_t failed;
};

/* ---- small helpers ------------------------------------------------------------------------- */

static node *node_of(const pl_app *a)
{
    return (node *)(void *)a;
}

static void node_free(node *n)
{
    if (!n)
        return;
    pl_app_dispose(&n->app);
    pl_free(n->key);
    pl_free(n);
}

/* Record the current error as the app's failure (one line). */
static void app_fail(pl_app_tree *t, pl_app *app)
{
    const pl_error *e = pl_error_last();
    pl_buf b = PL_BUF_INIT;
    pl_buf_printf(&b, "app %s: %s", app->name ? app->name : "?",
                  e->message[0] ? e->message : "unknown error");
    for (size_t i = 0; i < b.len; i++)
        if (b.ptr[i] == '\n')
            b.ptr[i] = ' ';
    pl_free(app->error);
    app->error = pl_buf_detach(&b);
    app->error_code = e->code ? e->code : PL_ERROR;
    json_decref(app->objects);
    app->objects = NULL;
    pl_error_clear();
    t->failed++;
}

static int add_node(pl_app_tree *t, node *n)
{
    size_t max = t->opts->max_apps ? t->opts->max_apps : DEFAULT_MAX_APPS;
    if (t->n >= max)
        return pl_error_set(PL_ETOOBIG, "%s: more than %zu applications", t->path, max);
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        node **p = pl_realloc(t->nodes, cap * sizeof(*p));
        if (!p)
            return pl_error_set(PL_ENOMEM, "out of memory");
        t->nodes = p;
        t->cap = cap;
    }
    t->nodes[t->n++] = n;
    return 0;
}

static int add_child(pl_app *parent, const pl_app *child)
{
    const pl_app **p = pl_realloc((void *)parent->children,
                                  (parent->nchildren + 1) * sizeof(*p));
    if (!p)
        return pl_error_set(PL_ENOMEM, "out of memory");
    p[parent->nchildren++] = child;
    parent->children = p;
    return 0;
}

/* ---- repository detection ------------------------------------------------------------------ */

static int add_local_url(pl_app_tree *t, const char *url, const char *base)
{
    char *norm = pl_app_normalize_repo_url(url);
    if (!norm)
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (*norm && !json_object_get(t->local_urls, norm))
        json_object_set_new(t->local_urls, norm, json_string(base));
    pl_free(norm);
    return 0;
}

/* The repository holding `start` (or its nearest existing ancestor): root + remote URLs. */
static int detect_repo(pl_app_tree *t, const char *start)
{
    git_repository *repo = NULL;
    git_config *cfg = NULL;
    git_config_iterator *it = NULL;
    git_config_entry *e;
    char *cur = pl_strdup(start);
    char real[PATH_MAX];
    const char *wd;
    int error = 0;

    if (!cur)
        return pl_error_set(PL_ENOMEM, "out of memory");
    /* a path that exists only in a revision: look from the nearest directory on disk */
    while (access(cur, F_OK) != 0 && strcmp(cur, "/") && strcmp(cur, ".")) {
        char *up = pl_path_dir(cur);
        pl_free(cur);
        if (!(cur = up))
            return pl_error_set(PL_ENOMEM, "out of memory");
    }
    if (git_libgit2_init() < 0) {
        pl_free(cur);
        return 0;
    }
    if (git_repository_open_ext(&repo, cur, 0, NULL) < 0 ||
        !(wd = git_repository_workdir(repo)) || !realpath(wd, real))
        goto done;
    if (!(t->repo_root = pl_strdup(real))) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    /*
     * remote.<name>.url and .pushurl by a plain config iteration: git_remote_list and
     * git_remote_lookup match config names with pcre2 and leak its match data in libgit2 1.5
     * (fixed upstream by libgit2 PR #6382, in 1.6), as engine/source/remote.c notes too.
     */
    if (git_repository_config_snapshot(&cfg, repo) < 0 || git_config_iterator_new(&it, cfg) < 0)
        goto done;
    while (error == 0 && git_config_next(&e, it) == 0) {
        size_t n = strlen(e->name);
        if (strncmp(e->name, "remote.", 7) || !e->value ||
            !((n > 11 && !strcmp(e->name + n - 4, ".url")) ||
              (n > 15 && !strcmp(e->name + n - 8, ".pushurl"))))
            continue;
        error = add_local_url(t, e->value, t->repo_root);
    }
done:
    git_error_clear();
    git_config_iterator_free(it);
    git_config_free(cfg);
    git_repository_free(repo);
    git_libgit2_shutdown();
    pl_free(cur);
    return error;
}

/* ---- source resolution --------------------------------------------------------------------- */

/* Without a repository: PATH's directory, then each ancestor, the first holding `rel`. */
static char *find_base_upwards(pl_app_tree *t, const char *rel)
{
    char *start = pl_fs_kind_of(t->fs, t->path) == PL_FS_DIR ? pl_strdup(t->path)
                                                            : pl_path_dir(t->path);
    char *found = start ? pl_fs_find_upwards(t->fs, start, rel, 1) : NULL;
    pl_free(start);
    return found;
}

/* kustomize remote URL for repoURL + path + targetRevision (remote.c's syntax) */
/* The repository holding PATH and its remotes, looked up once, when first needed. */
static int ensure_repo(pl_app_tree *t)
{
    if (t->repo_checked)
        return 0;
    t->repo_checked = 1;
    return detect_repo(t, t->opts->repo_path ? t->opts->repo_path : t->path);
}

static int remote_url(pl_buf *out, const pl_app *app)
{
    const char *path = app->source_path, *rev = app->target_revision;
    size_t n = strlen(app->repo_url);
    int error;

    while (n && app->repo_url[n - 1] == '/')
        n--;
    while (*path == '/')
        path++;
    if ((error = pl_buf_put(out, app->repo_url, n)) < 0)
        return error;
    if (*path && strcmp(path, ".") && (error = pl_buf_printf(out, "//%s", path)) < 0)
        return error;
    if (*rev && strcmp(rev, "HEAD"))
        error = pl_buf_printf(out, "?ref=%s", rev);
    return error;
}

static int resolve(pl_app_tree *t, node *n)
{
    pl_app *app = &n->app;
    char *norm = pl_app_normalize_repo_url(app->repo_url), *dir = NULL, *base_owned = NULL;
    const char *base;
    json_t *entry;
    pl_buf key = PL_BUF_INIT, url = PL_BUF_INIT;
    int error = 0;

    if ((error = ensure_repo(t)) < 0) {
        pl_free(norm);
        return error;
    }
    if (!norm)
        return pl_error_set(PL_ENOMEM, "out of memory");
    entry = json_object_get(t->local_urls, norm);
    if (entry) {
        base = json_string_value(entry);
        if (!*base) {
            if (!(base_owned = find_base_upwards(t, app->source_path))) {
                error = pl_error_set(PL_ENOTFOUND, "path %s not found above %s",
                                     app->source_path, t->path);
                goto done;
            }
            /* the first app of this repository fixes where it lives */
            json_object_set_new(t->local_urls, norm, json_string(base_owned));
            base = base_owned;
        }
        if (!(dir = pl_path_join(base, app->source_path))) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
        if (!pl_path_within(dir, base)) {
            error = pl_error_set(PL_EINVALID, "source.path %s leaves the repository %s",
                                 app->source_path, base);
            goto done;
        }
        if (pl_fs_kind_of(t->fs, dir) != PL_FS_DIR) {
            error = pl_error_set(PL_ENOTFOUND, "%s: source.path %s not found in %s", dir,
                                 app->source_path, app->repo_url);
            goto done;
        }
        app->fs = t->fs;
        error = pl_buf_printf(&key, "local:%s", dir);
    } else {
        pl_fetch_remote_fn fetch = t->opts->fetch ? t->opts->fetch : pl_source_fetch_remote;
        char *clean = pl_path_clean(*app->source_path ? app->source_path : ".");
        if (!clean || (error = remote_url(&url, app)) < 0 ||
            (error = pl_buf_printf(&key, "remote:%s@%s//%s", norm,
                                   *app->target_revision ? app->target_revision : "HEAD",
                                   clean)) < 0) {
            pl_free(clean);
            error = error ? error : pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
        pl_free(clean);
        if ((error = fetch(&dir, url.ptr, t->opts->fetch_payload)) < 0)
            goto done;
        if (!t->remote_fs && (error = pl_fs_dir_new(&t->remote_fs)) < 0)
            goto done;
        app->fs = t->remote_fs;
        app->remote = 1;
    }
    if (error == 0) {
        app->dir = dir;
        dir = NULL;
        n->key = pl_buf_detach(&key);
    }
done:
    pl_free(norm);
    pl_free(dir);
    pl_free(base_owned);
    pl_buf_dispose(&key);
    pl_buf_dispose(&url);
    return error;
}

/* ---- render ---------------------------------------------------------------------------------- */

static int render(pl_app_tree *t, node *n)
{
    pl_app *app = &n->app;
    pl_app_render_req req;
    pl_plain_opts popts = PL_PLAIN_OPTS_INIT;
    pl_fs *layer = NULL;
    json_t *objs = NULL;
    int error;

    memset(&req, 0, sizeof(req));
    popts.recurse = app->directory.recurse;
    popts.include = app->directory.include;
    popts.exclude = app->directory.exclude;
    req.fs = app->fs;
    req.path = app->dir;
    req.type = app->source_type;
    req.plain = &popts;
    req.app = app;
    if (app->source_type == PL_APP_SOURCE_KUSTOMIZE) {
        if ((error = pl_apps__kustomize_fs(&layer, app->fs, app->dir, &app->kustomize,
                                           app->name)) < 0)
            return error;
        req.fs = layer;
    }
    error = t->opts->render(&objs, &req, t->opts->render_payload);
    pl_fs_free(layer);
    if (error < 0) {
        json_decref(objs);
        return error;
    }
    if (!json_is_array(objs)) {
        json_decref(objs);
        return pl_error_set(PL_ERROR, "%s: the renderer returned no object list", app->dir);
    }
    app->objects = objs;
    return 0;
}

/* ---- the walk ---------------------------------------------------------------------------- */

static int chain_error(node *anc, node *parent, const pl_app *child)
{
    pl_buf chain = PL_BUF_INIT;
    const pl_app *a;
    /* names from the repeated ancestor down to the child */
    size_t depth = 0, i;
    const pl_app *stack[MAX_DEPTH + 2];
    for (a = &parent->app; a && depth <= MAX_DEPTH; a = a->parent) {
        stack[depth++] = a;
        if (a == &anc->app)
            break;
    }
    for (i = depth; i > 0; i--)
        pl_buf_printf(&chain, "%s -> ", stack[i - 1]->name);
    pl_buf_puts(&chain, child->name);
    pl_error_set(PL_EINVALID, "application cycle: %s: %s renders %s again (the source of %s)",
                 chain.ptr ? chain.ptr : "?", child->name, child->dir ? child->dir : "?",
                 anc->app.name);
    pl_buf_dispose(&chain);
    return PL_EINVALID;
}

static const pl_app *find_name(const pl_app_tree *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->nodes[i]->app.name, name))
            return &t->nodes[i]->app;
    return NULL;
}

static int walk(pl_app_tree *t, node *n);

/* One Application found in the render of `parent`. */
static int visit_child(pl_app_tree *t, node *parent, const json_t *obj, size_t index)
{
    node *c = pl_calloc(1, sizeof(*c));
    const pl_app *a, *dup;
    int error = 0, failed = 0;

    if (!c)
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (pl_app_parse(&c->app, obj) < 0) {
        /* a broken Application is that app's failure, not the tree's */
        if (!c->app.name) {
            pl_buf b = PL_BUF_INIT;
            pl_buf_printf(&b, "%s-application-%zu", parent->app.name, index);
            c->app.name = pl_buf_detach(&b);
        }
        if (!c->app.name) {
            node_free(c);
            return pl_error_set(PL_ENOMEM, "out of memory");
        }
        app_fail(t, &c->app);
        failed = 1;
    } else if (!*c->app.app_namespace && *parent->app.dest_namespace) {
        pl_free(c->app.app_namespace);
        if (!(c->app.app_namespace = pl_strdup(parent->app.dest_namespace))) {
            node_free(c);
            return pl_error_set(PL_ENOMEM, "out of memory");
        }
    }
    if (!failed && resolve(t, c) < 0) {
        if (pl_error_last()->code == PL_ENOMEM) {
            node_free(c);
            return PL_ENOMEM;
        }
        app_fail(t, &c->app);
        failed = 1;
    }
    if (!failed) {
        for (a = &parent->app; a; a = a->parent) {
            node *an = node_of(a);
            if (!an->key || strcmp(an->key, c->key))
                continue;
            if (!strcmp(a->name, c->app.name) || an->synthetic) {
                /* the ancestor's own manifest: it manages itself, nothing new to render */
                pl_log(PL_LOG_DEBUG, "apps", "app %s: %s is its own manifest", a->name,
                       c->app.name);
                node_free(c);
                return 0;
            }
            error = chain_error(an, parent, &c->app);
            node_free(c);
            return error;
        }
    }
    if ((dup = find_name(t, c->app.name)) != NULL) {
        error = pl_error_set(PL_EINVALID,
                             "duplicate application name %s: defined in the render of %s and "
                             "of %s",
                             c->app.name, dup->parent ? dup->parent->name : t->path,
                             parent->app.name);
        node_free(c);
        return error;
    }
    c->app.parent = &parent->app;
    c->app.depth = parent->app.depth + 1;
    if (c->app.depth > MAX_DEPTH) {
        error = pl_error_set(PL_ETOOBIG, "app %s: applications nested deeper than %d",
                             c->app.name, MAX_DEPTH);
        node_free(c);
        return error;
    }
    if ((error = add_node(t, c)) < 0) {
        node_free(c);
        return error;
    }
    if ((error = add_child(&parent->app, &c->app)) < 0)
        return error;
    if (failed)
        return 0;
    return walk(t, c);
}

/* Render `n` and walk its Applications. */
static int walk(pl_app_tree *t, node *n)
{
    json_t *o;
    size_t i;
    int error = 0;

    if (render(t, n) < 0) {
        if (pl_error_last()->code == PL_ENOMEM)
            return PL_ENOMEM;
        app_fail(t, &n->app);
        return 0;
    }
    json_array_foreach(n->app.objects, i, o)
    {
        if (!pl_app_is_application(o))
            continue;
        if ((error = visit_child(t, n, o, i)) < 0)
            return error;
    }
    return 0;
}

/* ---- destination namespace ----------------------------------------------------------------- */

static void collect_crds(pl_app_tree *t)
{
    for (size_t i = 0; i < t->n; i++) {
        json_t *o;
        size_t j;
        json_array_foreach(t->nodes[i]->app.objects, j, o)
        {
            const char *kind = pl_json_str(o, "kind", NULL);
            const char *group = pl_json_str(o, "spec", "group", NULL);
            const char *ckind = pl_json_str(o, "spec", "names", "kind", NULL);
            const char *scope = pl_json_str(o, "spec", "scope", NULL);
            pl_buf k = PL_BUF_INIT;
            if (!kind || strcmp(kind, "CustomResourceDefinition") || !group || !ckind)
                continue;
            if (pl_buf_printf(&k, "%s/%s", group, ckind) == 0)
                json_object_set_new(t->crd_scopes, k.ptr,
                                    json_boolean(scope && !strcmp(scope, "Cluster")));
            pl_buf_dispose(&k);
        }
    }
}

static int cluster_scoped(pl_app_tree *t, const json_t *obj)
{
    const char *av = pl_json_str(obj, "apiVersion", NULL);
    const char *kind = pl_json_str(obj, "kind", NULL);
    const char *slash;
    json_t *crd;
    pl_buf k = PL_BUF_INIT;
    int scoped = -1;

    if (!kind)
        return 0;
    if (t->opts->scope && t->opts->scope(&scoped, av ? av : "", kind, t->opts->scope_payload) == 0 &&
        scoped >= 0)
        return scoped;
    slash = av ? strchr(av, '/') : NULL;
    if (slash && pl_buf_printf(&k, "%.*s/%s", (int)(slash - av), av, kind) == 0 &&
        (crd = json_object_get(t->crd_scopes, k.ptr)) != NULL) {
        pl_buf_dispose(&k);
        return json_is_true(crd);
    }
    pl_buf_dispose(&k);
    return pl_app_kind_is_cluster_scoped(av, kind);
}

static int apply_namespaces(pl_app_tree *t)
{
    collect_crds(t);
    for (size_t i = 0; i < t->n; i++) {
        pl_app *app = &t->nodes[i]->app;
        json_t *o;
        size_t j;
        if (!app->objects || !app->dest_namespace || !*app->dest_namespace)
            continue;
        json_array_foreach(app->objects, j, o)
        {
            const char *ns = pl_json_str(o, "metadata", "namespace", NULL);
            json_t *md;
            if ((ns && *ns) || !json_is_object(o) || cluster_scoped(t, o))
                continue;
            if (!(md = pl_json_mkpath(o, "metadata", NULL)))
                continue;
            if (json_object_set_new(md, "namespace", json_string(app->dest_namespace)) < 0)
                return pl_error_set(PL_ENOMEM, "out of memory");
        }
    }
    return 0;
}

/* ---- the root ------------------------------------------------------------------------------ */

static int make_root(node **out, pl_app_tree *t)
{
    node *n = pl_calloc(1, sizeof(*n));
    pl_buf raw = PL_BUF_INIT;
    json_t *docs = NULL;
    pl_fs_kind kind = pl_fs_kind_of(t->fs, t->path);
    int error = 0;

    *out = NULL;
    if (!n)
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (kind == PL_FS_NONE) {
        error = pl_error_set(PL_ENOTFOUND, "%s: no such file or directory", t->path);
        goto done;
    }
    if (kind == PL_FS_FILE) {
        if ((error = pl_fs_read(t->fs, t->path, &raw)) < 0 ||
            (error = pl_yaml_parse(&docs, raw.ptr ? raw.ptr : "", raw.len, t->path, NULL)) < 0)
            goto done;
        if (json_array_size(docs) == 1 && pl_app_is_application(json_array_get(docs, 0))) {
            const char *url;
            if ((error = pl_app_parse(&n->app, json_array_get(docs, 0))) < 0) {
                pl_error_prefix("%s", t->path);
                goto done;
            }
            /* the root Application is read from this repository, whatever its repoURL says */
            url = n->app.repo_url;
            if ((error = ensure_repo(t)) < 0 ||
                (error = add_local_url(t, url, t->repo_root ? t->repo_root : "")) < 0)
                goto done;
            if ((error = resolve(t, n)) < 0) {
                if (error == PL_ENOMEM)
                    goto done;
                app_fail(t, &n->app);
                error = 0;
            }
            *out = n;
            n = NULL;
            goto done;
        }
    }
    /* a directory, or a file of plain manifests: a root without an Application */
    n->synthetic = 1;
    {
        const char *base = pl_path_base(t->path);
        if (!(n->app.name = pl_strdup(*base ? base : "root")))
            goto nomem;
    }
    if (!(n->app.app_namespace = pl_strdup("")) || !(n->app.repo_url = pl_strdup("")) ||
        !(n->app.target_revision = pl_strdup("")) || !(n->app.source_path = pl_strdup("")) ||
        !(n->app.dest_server = pl_strdup("")) || !(n->app.dest_name = pl_strdup("")) ||
        !(n->app.dest_namespace = pl_strdup("")) || !(n->app.dir = pl_strdup(t->path)) ||
        !(n->app.sync.options = json_array()) || !(n->app.ignore_differences = json_array()))
        goto nomem;
    n->app.in_cluster = 1;
    n->app.sync.validate = 1;
    n->app.fs = t->fs;
    {
        pl_buf key = PL_BUF_INIT;
        if (pl_buf_printf(&key, "local:%s", t->path) < 0)
            goto nomem;
        n->key = pl_buf_detach(&key);
    }
    *out = n;
    n = NULL;
    goto done;
nomem:
    error = pl_error_set(PL_ENOMEM, "out of memory");
done:
    node_free(n);
    json_decref(docs);
    pl_buf_dispose(&raw);
    return error;
}

/* ---- public ------------------------------------------------------------------------------ */

void pl_app_tree_free(pl_app_tree *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        node_free(t->nodes[i]);
    pl_free(t->nodes);
    pl_fs_free(t->remote_fs);
    pl_free(t->path);
    pl_free(t->repo_root);
    json_decref(t->local_urls);
    json_decref(t->crd_scopes);
    pl_free(t);
}

int pl_app_tree_build(pl_app_tree **out, pl_fs *fs, const char *path,
                      const pl_app_tree_opts *opts)
{
    pl_app_tree *t = NULL;
    node *root = NULL;
    int error = 0;

    *out = NULL;
    if (!fs || !path || !opts || !opts->render)
        return pl_error_set(PL_ERROR, "pl_app_tree_build: invalid argument");
    if (!(t = pl_calloc(1, sizeof(*t))) || !(t->path = pl_path_clean(path)) ||
        !(t->local_urls = json_object()) || !(t->crd_scopes = json_object())) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    t->fs = fs;
    t->opts = opts;
    /* --repo-alias wins over the remotes (added later, never overwriting): it is the user's
     * explicit statement */
    for (size_t i = 0; i < opts->nrepo_aliases; i++) {
        char *norm = pl_app_normalize_repo_url(opts->repo_aliases[i].url);
        if (!norm) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
        json_object_set_new(t->local_urls, norm, json_string(opts->repo_aliases[i].target));
        pl_free(norm);
    }
    if ((error = make_root(&root, t)) < 0)
        goto done;
    if ((error = add_node(t, root)) < 0) {
        node_free(root);
        goto done;
    }
    if (!root->app.error && (error = walk(t, root)) < 0)
        goto done;
    if ((error = apply_namespaces(t)) < 0)
        goto done;
    /* --cluster mappings */
    for (size_t i = 0; i < t->n; i++) {
        pl_app *app = &t->nodes[i]->app;
        if (app->in_cluster)
            continue;
        for (size_t j = 0; j < opts->nclusters; j++) {
            char *a = pl_app_normalize_repo_url(opts->clusters[j].url);
            char *b = pl_app_normalize_repo_url(app->dest_server);
            int hit = a && b && (!strcmp(a, b) || !strcmp(opts->clusters[j].url, app->dest_name));
            pl_free(a);
            pl_free(b);
            if (hit) {
                if (!(app->context = pl_strdup(opts->clusters[j].target))) {
                    error = pl_error_set(PL_ENOMEM, "out of memory");
                    goto done;
                }
                break;
            }
        }
    }
    *out = t;
    t = NULL;
done:
    pl_app_tree_free(t);
    return error;
}

size_t pl_app_tree_count(const pl_app_tree *t)
{
    return t ? t->n : 0;
}

const pl_app *pl_app_tree_get(const pl_app_tree *t, size_t i)
{
    return t && i < t->n ? &t->nodes[i]->app : NULL;
}

const pl_app *pl_app_tree_find(const pl_app_tree *t, const char *name)
{
    return t && name ? find_name(t, name) : NULL;
}

size_t pl_app_tree_failed(const pl_app_tree *t)
{
    return t ? t->failed : 0;
}
