/*
 * cmd_lint.c - `plumb lint PATH [--since REV] [-o text|json]`: the MaaS rules (SPEC §5) over the
 * whole cluster a tree describes; what the git pre-commit hook runs.
 *
 * What gets linted (issue 5):
 *  - PATH is an App-of-Apps root when its own render (kustomize build if it holds a
 *    kustomization, else its plain manifests) holds argoproj.io Applications whose source path
 *    lies in the same repository: every such application's path is rendered (and followed
 *    again when it holds Applications itself), and the objects are united;
 *  - otherwise every directory under PATH that holds a kustomization is rendered and united;
 *  - a tree without any kustomization is read as plain manifests (recursively), so a
 *    directory of rendered objects can be linted too.
 * Objects are de-duplicated by (group, kind, namespace, name), the first render winning. A
 * directory that fails to render becomes a RENDER error diagnostic; the run goes on.
 *
 * An application's source.path is resolved against the root of the git repository holding
 * PATH (the nearest ancestor with a .git entry); without one, against PATH and then each of
 * its ancestors, the first where that directory exists (best effort for exported trees).
 *
 * The parent revision (MAAS001-MAAS003, MAAS014) comes from `--since REV`, read with libgit2
 * through a pl_fs over REV's tree (engine/source/snapshot.c) so the same rendering code runs
 * on it; or from `baseRevision` of maas-render.yaml: a directory (relative to that file) of
 * the parent's objects, or else a revision. maas-render.yaml is looked for in PATH and its
 * ancestors up to the repository root.
 *
 * Output: text, one line per diagnostic `FILE:OBJECT: RULE: SEVERITY: MESSAGE`, sorted; FILE is
 * the manifest defining the object when it can be found among the files its render read,
 * else the rendered directory. `-o json`: {"diagnostics": [{rule, severity, object, message,
 * file}], "errors": N, "warnings": N}. Exit 1 when any diagnostic is an error, 0 otherwise,
 * 2 on usage errors (bad flags, PATH missing, unknown revision, unusable maas-render.yaml).
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "maas.h"
#include "plumb/core.h"
#include "plumb/fs.h"
#include "plumb/render.h"
#include "plumb/source.h"

#define MAX_APPS 4096 /* applications followed in one run: a cycle guard, not a real limit */

typedef struct collector {
    pl_fs *fs;
    const char *path;     /* absolute, real */
    const char *root;     /* repository root or NULL */
    char *app_base;       /* without a root: the ancestor application paths resolved against */
    int report;           /* 1: render failures become RENDER diagnostics */
    json_t *objects;      /* united objects (owned) */
    json_t *ids;          /* identity -> true */
    json_t *origins;      /* objref -> {dir, files[]} (first render wins) */
    json_t *render_diags; /* RENDER diagnostics */
    json_t *rendered;     /* directories already rendered -> true */
    /* files read by the render in progress (the recorder may run on several threads) */
    pthread_mutex_t lock;
    json_t *reads;
} collector;

static int usage_error(const char *msg)
{
    fprintf(stderr, "plumb: error: %s\nusage: plumb lint PATH [--since REV] [-o text|json]\n", msg);
    return 2;
}

static void on_read(const char *path, void *payload)
{
    collector *c = payload;
    pthread_mutex_lock(&c->lock);
    json_array_append_new(c->reads, json_string(path));
    pthread_mutex_unlock(&c->lock);
}

/* "group/kind/namespace/name" (owned) */
static char *identity(const json_t *obj)
{
    pl_objkey k;
    pl_buf b = PL_BUF_INIT;
    pl_objkey_from(&k, obj);
    pl_buf_printf(&b, "%s/%s/%s/%s", k.group, k.kind, k.ns, k.name);
    return pl_buf_detach(&b);
}

/* a path for messages: relative to the repository root (or PATH) when inside it */
static const char *shown(const collector *c, const char *dir)
{
    const char *base = c->root ? c->root : c->app_base ? c->app_base : c->path;
    size_t n = strlen(base);
    if (pl_path_within(dir, base) && strcmp(base, "/")) {
        if (!dir[n])
            return ".";
        return dir + n + 1;
    }
    return dir;
}

static void render_failed(collector *c, const char *dir)
{
    const pl_error *e = pl_error_last();
    const char *obj = shown(c, dir);
    if (c->report)
        pl_maas_diag(c->render_diags, "RENDER", "error", obj, "%s",
                     e->message[0] ? e->message : "render failed");
    pl_error_clear();
}

/*
 * Argo CD fills in the destination namespace for namespaced objects without one; the lint
 * rules compare namespaces of these kinds, so they get it too (others are left alone: their
 * scope is unknown offline).
 */
static int takes_destination_ns(const json_t *obj)
{
    static const char *const kinds[] = {"ConfigMap",        "Secret",
                                        "MaaSModelRef",     "MaaSAuthPolicy",
                                        "MaaSSubscription", "ExternalModel",
                                        "LLMInferenceService", "HTTPRoute",
                                        "AuthPolicy",       "TokenRateLimitPolicy",
                                        "RateLimitPolicy",  NULL};
    const char *k = pl_json_str(obj, "kind", NULL);
    for (size_t i = 0; k && kinds[i]; i++)
        if (!strcmp(k, kinds[i]))
            return 1;
    return 0;
}

/* Add a render's objects to the union; `dest_ns` may be NULL. */
static void unite(collector *c, json_t *objs, const char *dir, const char *dest_ns)
{
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o)
    {
        char *id, *ref;
        if (!json_is_object(o))
            continue;
        if (dest_ns && *dest_ns && !pl_json_str(o, "metadata", "namespace", NULL) &&
            takes_destination_ns(o)) {
            json_t *md = pl_json_mkpath(o, "metadata", NULL);
            if (md)
                json_object_set_new(md, "namespace", json_string(dest_ns));
        }
        id = identity(o);
        if (id && !json_object_get(c->ids, id)) {
            json_object_set_new(c->ids, id, json_true());
            json_array_append(c->objects, o);
            ref = pl_maas_objref(o);
            if (ref && !json_object_get(c->origins, ref))
                json_object_set_new(c->origins, ref,
                                    json_pack("{s:s,s:O}", "dir", dir, "files", c->reads));
            pl_free(ref);
        }
        pl_free(id);
    }
}

/* Render one directory (kustomize if it holds a kustomization, else plain manifests). */
static int render_dir(json_t **out, collector *c, const char *dir, int recurse)
{
    pl_render_opts opts = PL_RENDER_OPTS_INIT;
    pl_plain_opts popts = PL_PLAIN_OPTS_INIT;
    int error;

    *out = NULL;
    /* a fresh list per render: the origins of earlier renders keep theirs */
    json_decref(c->reads);
    if (!(c->reads = json_array()))
        return pl_error_set(PL_ENOMEM, "out of memory");
    pl_fs_set_recorder(c->fs, on_read, c);
    popts.recurse = recurse;
    error = pl_cli_render_tree(out, c->fs, dir, &opts, &popts, 0);
    pl_fs_set_recorder(c->fs, NULL, NULL);
    return error;
}

/* Every directory under `dir` holding a kustomization, in walk order (sorted, depth first). */
static void find_kustomizations(collector *c, const char *dir, json_t *found, int depth)
{
    char **names = NULL;
    size_t n = 0;
    if (depth > 64)
        return;
    if (pl_kustomize_detect(c->fs, dir))
        json_array_append_new(found, json_string(dir));
    if (pl_fs_list(c->fs, dir, &names, &n) < 0) {
        pl_error_clear();
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char *child;
        if (names[i][0] == '.') /* .git, .github: never manifests */
            continue;
        child = pl_path_join(dir, names[i]);
        if (child && pl_fs_kind_of(c->fs, child) == PL_FS_DIR) {
            char *real = NULL;
            /* directory symlinks could loop; visit each real directory once */
            if (pl_fs_realpath(c->fs, child, &real) == 0 && !json_object_get(c->rendered, real)) {
                json_object_set_new(c->rendered, real, json_true());
                find_kustomizations(c, child, found, depth + 1);
            }
            pl_error_clear();
            pl_free(real);
        }
        pl_free(child);
    }
    pl_fs_names_free(names, n);
}

/* source.path of an Application resolved to a directory of this repository, or NULL (owned) */
static char *app_dir(collector *c, const json_t *src)
{
    const char *p = pl_json_str(src, "path", NULL);
    char *cur, *out = NULL;
    if (!p || !*p || pl_json_path(src, "chart", NULL))
        return NULL;
    if (c->root) {
        out = pl_path_join(c->root, p);
        if (out && pl_fs_kind_of(c->fs, out) != PL_FS_DIR) {
            pl_free(out);
            out = NULL;
        }
        return out;
    }
    /* no repository: PATH, then each ancestor, the first where the path exists */
    if (!(cur = pl_fs_find_upwards(c->fs, c->path, p, 1)))
        return NULL;
    out = pl_path_join(cur, p);
    if (!c->app_base)
        c->app_base = cur;
    else
        pl_free(cur);
    return out;
}

/* Applications of `objs` pointing into the repository: append {dir, ns, recurse} to `apps` */
static int queue_apps(collector *c, const json_t *objs, json_t *apps)
{
    size_t i, j;
    json_t *o, *s;
    int found = 0;
    json_array_foreach(objs, i, o)
    {
        json_t *sources = pl_json_path(o, "spec", "sources", NULL);
        const char *ns = pl_json_str(o, "spec", "destination", "namespace", NULL);
        if (strcmp(pl_json_str(o, "kind", NULL) ? pl_json_str(o, "kind", NULL) : "",
                   "Application") ||
            strncmp(pl_json_str(o, "apiVersion", NULL) ? pl_json_str(o, "apiVersion", NULL) : "",
                    "argoproj.io/", 12))
            continue;
        for (j = 0; j < (json_is_array(sources) ? json_array_size(sources) : 1); j++) {
            char *dir;
            s = json_is_array(sources) ? json_array_get(sources, j)
                                       : pl_json_path(o, "spec", "source", NULL);
            if (!(dir = app_dir(c, s)))
                continue;
            found = 1;
            json_array_append_new(
                apps, json_pack("{s:s,s:s,s:b}", "dir", dir, "ns", ns ? ns : "", "recurse",
                                json_is_true(pl_json_path(s, "directory", "recurse", NULL))));
            pl_free(dir);
        }
    }
    return found;
}

static void collect(collector *c)
{
    json_t *objs = NULL, *apps = json_array(), *dirs = json_array(), *entry;
    size_t i;
    int root_ok;

    /* App-of-Apps: PATH's own render names applications inside the repository */
    root_ok = render_dir(&objs, c, c->path, 0) == 0;
    if (!root_ok)
        pl_error_clear();
    if (root_ok && queue_apps(c, objs, apps)) {
        json_object_set_new(c->rendered, c->path, json_true());
        unite(c, objs, c->path, NULL);
        for (i = 0; i < json_array_size(apps) && i < MAX_APPS; i++) {
            json_t *app = json_array_get(apps, i), *sub = NULL;
            const char *dir = pl_json_str(app, "dir", NULL);
            if (json_object_get(c->rendered, dir))
                continue;
            json_object_set_new(c->rendered, dir, json_true());
            if (render_dir(&sub, c, dir, json_is_true(json_object_get(app, "recurse"))) < 0) {
                render_failed(c, dir);
                continue;
            }
            unite(c, sub, dir, pl_json_str(app, "ns", NULL));
            queue_apps(c, sub, apps); /* nested App-of-Apps */
            json_decref(sub);
        }
        goto done;
    }
    /* every kustomization under PATH */
    json_decref(objs);
    objs = NULL;
    if (pl_fs_kind_of(c->fs, c->path) == PL_FS_DIR) {
        json_object_set_new(c->rendered, c->path, json_true());
        find_kustomizations(c, c->path, dirs, 0);
    }
    json_array_foreach(dirs, i, entry)
    {
        json_t *sub = NULL;
        const char *dir = json_string_value(entry);
        if (render_dir(&sub, c, dir, 0) < 0) {
            render_failed(c, dir);
            continue;
        }
        unite(c, sub, dir, NULL);
        json_decref(sub);
    }
    /* no kustomization at all: the tree's plain manifests */
    if (!json_array_size(dirs)) {
        json_t *sub = NULL;
        if (render_dir(&sub, c, c->path, 1) < 0)
            render_failed(c, c->path);
        else
            unite(c, sub, c->path, NULL);
        json_decref(sub);
    }
done:
    json_decref(objs);
    json_decref(apps);
    json_decref(dirs);
}

static int collector_init(collector *c, pl_fs *fs, const char *path, const char *root, int report)
{
    memset(c, 0, sizeof(*c));
    c->fs = fs;
    c->path = path;
    c->root = root;
    c->report = report;
    pthread_mutex_init(&c->lock, NULL);
    c->objects = json_array();
    c->ids = json_object();
    c->origins = json_object();
    c->render_diags = json_array();
    c->rendered = json_object();
    c->reads = json_array();
    if (!c->objects || !c->ids || !c->origins || !c->render_diags || !c->rendered || !c->reads)
        return pl_error_set(PL_ENOMEM, "out of memory");
    return 0;
}

static void collector_dispose(collector *c)
{
    json_decref(c->objects);
    json_decref(c->ids);
    json_decref(c->origins);
    json_decref(c->render_diags);
    json_decref(c->rendered);
    json_decref(c->reads);
    pl_free(c->app_base);
    pthread_mutex_destroy(&c->lock);
}

/* nearest ancestor of `path` (itself included) holding a .git entry; owned or NULL */
/* maas-render.yaml in PATH or an ancestor up to the repository root. */
static int load_config(json_t **out, char **out_dir, pl_fs *fs, const char *path, const char *root)
{
    char *cur = pl_fs_kind_of(fs, path) == PL_FS_DIR ? pl_strdup(path) : pl_path_dir(path);
    int error = 0;

    *out = NULL;
    *out_dir = NULL;
    while (cur) {
        char *f = pl_path_join(cur, "maas-render.yaml"), *up;
        if (f && pl_fs_kind_of(fs, f) == PL_FS_FILE) {
            pl_buf b = PL_BUF_INIT;
            json_t *docs = NULL;
            if ((error = pl_fs_read(fs, f, &b)) == 0 &&
                (error = pl_yaml_parse(&docs, b.ptr ? b.ptr : "", b.len, f, NULL)) == 0) {
                *out = json_incref(json_array_get(docs, 0));
                if ((error = pl_maas_cfg_check(*out)) < 0) {
                    json_decref(*out);
                    *out = NULL;
                }
            }
            json_decref(docs);
            pl_buf_dispose(&b);
            pl_free(f);
            if (error == 0)
                *out_dir = cur;
            else
                pl_free(cur);
            return error;
        }
        pl_free(f);
        if ((root && !strcmp(cur, root)) || !strcmp(cur, "/"))
            break;
        up = pl_path_dir(cur);
        pl_free(cur);
        cur = up;
    }
    pl_free(cur);
    return 0;
}

/* ---- output -------------------------------------------------------------------------------- */

/* the manifest among `files` that defines kind/name (a cheap textual match), or NULL */
static const char *find_file(pl_fs *fs, const json_t *files, const char *kind, const char *name)
{
    size_t i;
    json_t *f;
    pl_buf k = PL_BUF_INIT, n = PL_BUF_INIT;
    const char *hit = NULL;
    pl_buf_printf(&k, "kind: %s", kind);
    pl_buf_printf(&n, "name: %s", name);
    json_array_foreach(files, i, f)
    {
        pl_buf b = PL_BUF_INIT;
        const char *p = json_string_value(f);
        const char *ext = p ? strrchr(p, '.') : NULL;
        if (!ext || (strcmp(ext, ".yaml") && strcmp(ext, ".yml") && strcmp(ext, ".json")) ||
            !strncmp(pl_path_base(p), "kustomization.", 14))
            continue;
        if (pl_fs_read(fs, p, &b) == 0 && b.ptr && k.ptr && n.ptr && strstr(b.ptr, k.ptr) &&
            strstr(b.ptr, n.ptr))
            hit = p;
        pl_error_clear();
        pl_buf_dispose(&b);
        if (hit)
            break;
    }
    pl_buf_dispose(&k);
    pl_buf_dispose(&n);
    return hit;
}

/* path for humans: relative to the working directory when inside it */
static char *display_path(const char *p, const char *cwd)
{
    size_t n = strlen(cwd);
    if (cwd[0] && pl_path_within(p, cwd) && strcmp(cwd, "/"))
        return pl_strdup(p[n] ? p + n + 1 : ".");
    return pl_strdup(p);
}

static void attach_files(json_t *diags, const collector *c, const char *cwd)
{
    size_t i;
    json_t *d;
    json_array_foreach(diags, i, d)
    {
        const char *ref = pl_json_str(d, "object", NULL);
        json_t *origin = ref ? json_object_get(c->origins, ref) : NULL;
        const char *file = NULL;
        char *shown_path;
        pl_buf dirbuf = PL_BUF_INIT;
        if (!strcmp(pl_json_str(d, "rule", NULL) ? pl_json_str(d, "rule", NULL) : "", "RENDER")) {
            /* the object of a RENDER diagnostic is the directory (relative to the root) */
            if (ref && ref[0] == '/')
                pl_buf_puts(&dirbuf, ref);
            else
                pl_buf_printf(&dirbuf, "%s/%s",
                              c->root ? c->root : c->app_base ? c->app_base : c->path,
                              ref ? ref : "");
            file = dirbuf.ptr;
        } else if (origin) {
            const char *slash1 = ref ? strchr(ref, '/') : NULL;
            const char *name = ref ? strrchr(ref, '/') + 1 : "";
            pl_buf kind = PL_BUF_INIT;
            if (slash1)
                pl_buf_put(&kind, ref, (size_t)(slash1 - ref));
            file = find_file(c->fs, json_object_get(origin, "files"), kind.ptr ? kind.ptr : "",
                             name);
            if (!file)
                file = pl_json_str(origin, "dir", NULL);
            pl_buf_dispose(&kind);
        } else {
            file = c->path;
        }
        {
            char *clean = pl_path_clean(file);
            shown_path = clean ? display_path(clean, cwd) : NULL;
            pl_free(clean);
        }
        json_object_set_new(d, "file", json_string(shown_path ? shown_path : file));
        pl_free(shown_path);
        pl_buf_dispose(&dirbuf);
    }
}

static int cmp_diag(const void *pa, const void *pb)
{
    const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    static const char *const keys[] = {"file", "object", "rule", "message"};
    for (size_t i = 0; i < 4; i++) {
        const char *x = pl_json_str(a, keys[i], NULL), *y = pl_json_str(b, keys[i], NULL);
        int c = strcmp(x ? x : "", y ? y : "");
        if (c)
            return c;
    }
    return 0;
}

static void sort_diags(json_t *diags)
{
    size_t n = json_array_size(diags), i;
    json_t **v;
    if (n < 2 || !(v = pl_malloc(n * sizeof(*v))))
        return;
    for (i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(diags, i));
    qsort(v, n, sizeof(*v), cmp_diag);
    for (i = 0; i < n; i++)
        json_array_set_new(diags, i, v[i]);
    pl_free(v);
}

static void print_text(const json_t *diags)
{
    size_t i;
    json_t *d;
    json_array_foreach(diags, i, d)
    {
        const char *msg = pl_json_str(d, "message", NULL);
        printf("%s:%s: %s: %s: ", pl_json_str(d, "file", NULL), pl_json_str(d, "object", NULL),
               pl_json_str(d, "rule", NULL), pl_json_str(d, "severity", NULL));
        for (const char *p = msg ? msg : ""; *p; p++)
            putchar(*p == '\n' ? ' ' : *p);
        putchar('\n');
    }
}

/* ---- entry point ------------------------------------------------------------------------------ */

/* The parent revision's objects: a directory of objects, or REV of the repository. */
static int load_base(json_t **out, const char *path, const char *rev, const char *dir_of_cfg,
                     const char *root, int rev_is_flag)
{
    collector bc;
    pl_fs *fs = NULL;
    char *dir = NULL;
    int error = 0;

    *out = NULL;
    if (!rev_is_flag && dir_of_cfg) {
        /* baseRevision naming a directory of the parent's objects (the fixtures' form) */
        pl_fs *probe = NULL;
        if ((error = pl_fs_dir_new(&probe)) < 0)
            return error;
        dir = pl_path_join(dir_of_cfg, rev);
        if (dir && pl_fs_kind_of(probe, dir) == PL_FS_DIR) {
            char real[PATH_MAX];
            if (realpath(dir, real) && (error = collector_init(&bc, probe, real, NULL, 0)) == 0) {
                collect(&bc);
                *out = json_incref(bc.objects);
            }
            collector_dispose(&bc);
            pl_fs_free(probe);
            pl_free(dir);
            return error;
        }
        pl_fs_free(probe);
        pl_free(dir);
    }
    if ((error = pl_fs_git_new(&fs, path, rev)) < 0)
        return error;
    if ((error = collector_init(&bc, fs, path, root, 0)) == 0) {
        collect(&bc);
        *out = json_incref(bc.objects);
    }
    collector_dispose(&bc);
    pl_fs_free(fs);
    return error;
}

int pl_cli_lint(int argc, char **argv)
{
    const char *path = NULL, *since = NULL, *format = "text";
    char abspath[PATH_MAX], cwd[PATH_MAX];
    char *root = NULL, *cfg_dir = NULL;
    pl_fs *fs = NULL;
    json_t *config = NULL, *base = NULL, *diags = NULL;
    collector c;
    int inited = 0, rc = 2, error = 0;
    size_t i, errors = 0, warnings = 0;
    json_t *d;

    for (i = 1; i < (size_t)argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--since") || !strncmp(a, "--since=", 8)) {
            since = a[7] == '=' ? a + 8 : (i + 1 < (size_t)argc ? argv[++i] : NULL);
            if (!since || !*since)
                return usage_error("--since needs a revision");
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output") || !strncmp(a, "--output=", 9)) {
            format = a[8] == '=' ? a + 9 : (i + 1 < (size_t)argc ? argv[++i] : NULL);
            if (!format || (strcmp(format, "text") && strcmp(format, "json")))
                return usage_error("-o must be text or json");
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: plumb lint PATH [--since REV] [-o text|json]\n");
            return 0;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "plumb: error: unknown flag %s\n", a);
            return 2;
        } else if (!path) {
            path = a;
        } else {
            return usage_error("only one PATH");
        }
    }
    if (!path)
        path = ".";
    if (!realpath(path, abspath)) {
        fprintf(stderr, "plumb: error: %s: no such file or directory\n", path);
        return 2;
    }
    if (!getcwd(cwd, sizeof(cwd)))
        cwd[0] = '\0';
    if ((error = pl_fs_dir_new(&fs)) < 0)
        goto done;
    root = pl_fs_find_upwards(fs, abspath, ".git", 0);
    if ((error = load_config(&config, &cfg_dir, fs, abspath, root)) < 0)
        goto done; /* rc 2: the configuration is unusable */
    if ((error = collector_init(&c, fs, abspath, root, 1)) < 0)
        goto done;
    inited = 1;
    collect(&c);
    if (since) {
        if ((error = load_base(&base, abspath, since, NULL, root, 1)) < 0)
            goto done;
    } else if (*pl_maas_cfg_str(config, "baseRevision")) {
        if ((error = load_base(&base, abspath, pl_maas_cfg_str(config, "baseRevision"), cfg_dir,
                               root, 0)) < 0)
            goto done;
    }
    if (!(diags = json_array()) || json_array_extend(diags, c.render_diags) < 0) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if ((error = pl_maas_lint(diags, c.objects, base, config)) < 0) {
        rc = 1;
        goto done;
    }
    attach_files(diags, &c, cwd);
    sort_diags(diags);
    json_array_foreach(diags, i, d)
    {
        const char *sev = pl_json_str(d, "severity", NULL);
        errors += sev && !strcmp(sev, "error");
        warnings += sev && !strcmp(sev, "warning");
    }
    if (!strcmp(format, "json")) {
        json_t *doc = json_pack("{s:O,s:I,s:I}", "diagnostics", diags, "errors",
                                (json_int_t)errors, "warnings", (json_int_t)warnings);
        if (doc && json_dumpf(doc, stdout, JSON_INDENT(2)) == 0)
            putchar('\n');
        json_decref(doc);
    } else {
        print_text(diags);
        if (errors || warnings)
            fprintf(stderr, "plumb lint: %zu error%s, %zu warning%s\n", errors,
                    errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
    }
    rc = errors ? 1 : 0;
done:
    if (error < 0)
        pl_cli_print_error();
    if (inited)
        collector_dispose(&c);
    json_decref(diags);
    json_decref(base);
    json_decref(config);
    pl_free(root);
    pl_free(cfg_dir);
    pl_fs_free(fs);
    return rc;
}
