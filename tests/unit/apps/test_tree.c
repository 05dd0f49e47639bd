/*
 * test_tree.c - the App-of-Apps tree builder (engine/apps/app_tree.c, app_model.c).
 *
 * Trees are written into a temporary directory and read through the directory pl_fs. The
 * render callback is a fake (no renderer linked into the logic under test): it parses
 * <dir>/all.yaml, or the file itself for a plain root, and for a source.kustomize app returns
 * the (edited) kustomization it reads through the layered fs, so the test sees exactly what
 * the kustomize renderer would be given. Remote repositories go through a fake fetch that
 * records the URL it was asked for.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <git2.h>

#include "plumb/apps.h"
#include "plumb/core.h"
#include "plumb/fs.h"

static char root[PATH_MAX];

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void write_file(const char *rel, const char *text)
{
    char path[PATH_MAX * 2];
    char *dir;
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    dir = pl_path_dir(path);
    for (char *s = dir + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            mkdir(dir, 0777);
            *s = '/';
        }
    }
    mkdir(dir, 0777);
    pl_free(dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/pl-apps-XXXXXX");
    assert_non_null(mkdtemp(root));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

typedef struct fake {
    int calls;
    char last_url[1024];
} fake;

static int fake_render(json_t **out, const pl_app_render_req *req, void *payload)
{
    pl_buf raw = PL_BUF_INIT;
    char *file;
    int error;
    fake *f = payload;

    if (f)
        f->calls++;
    if (req->type == PL_APP_SOURCE_KUSTOMIZE)
        file = pl_path_join(req->path, "kustomization.yaml");
    else if (pl_fs_kind_of(req->fs, req->path) == PL_FS_FILE)
        file = pl_strdup(req->path);
    else
        file = pl_path_join(req->path, "all.yaml");
    if ((error = pl_fs_read(req->fs, file, &raw)) == 0)
        error = pl_yaml_parse(out, raw.ptr ? raw.ptr : "", raw.len, file, NULL);
    pl_free(file);
    pl_buf_dispose(&raw);
    return error;
}

static int fake_fetch(char **out_dir, const char *url, void *payload)
{
    fake *f = payload;
    char dir[PATH_MAX + 16];
    snprintf(f->last_url, sizeof(f->last_url), "%s", url);
    snprintf(dir, sizeof(dir), "%s/remote", root);
    *out_dir = pl_strdup(dir);
    return 0;
}

static pl_app_mapping demo_alias[1];
static char demo_dir[PATH_MAX];

/* https://git.example.com/org/demo is the temporary directory */
static void use_alias(pl_app_tree_opts *opts)
{
    snprintf(demo_dir, sizeof(demo_dir), "%s", root);
    demo_alias[0].url = "https://git.example.com/org/demo";
    demo_alias[0].target = demo_dir;
    opts->repo_aliases = demo_alias;
    opts->nrepo_aliases = 1;
}

static int build(pl_app_tree **out, const char *rel, pl_app_tree_opts *opts, fake *f)
{
    pl_fs *fs = NULL;
    char path[PATH_MAX * 2];
    int error;
    static pl_fs *keep; /* the fs must outlive the tree; freed at the next build */

    pl_fs_free(keep);
    keep = NULL;
    assert_int_equal(pl_fs_dir_new(&fs), 0);
    keep = fs;
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    opts->render = fake_render;
    opts->render_payload = f;
    error = pl_app_tree_build(out, fs, path, opts);
    return error;
}

static void free_fs(void)
{
    pl_app_tree_opts o = PL_APP_TREE_OPTS_INIT;
    pl_app_tree *t = NULL;
    /* releases the kept fs: a build of a missing path fails after replacing it */
    (void)build(&t, "does-not-exist", &o, NULL);
    pl_app_tree_free(t);
}

#define APP(name, path, extra)                                                                 \
    "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: " name            \
    "\n  namespace: argocd\n" extra "spec:\n  source:\n    repoURL: https://git.example.com/org/demo.git\n" \
    "    path: " path "\n  destination:\n    server: https://kubernetes.default.svc\n"

static void test_apps_tree__app_of_apps(void **state)
{
    pl_app_tree_opts opts = PL_APP_TREE_OPTS_INIT;
    pl_app_tree *t = NULL;
    const pl_app *a, *b, *c, *r;
    fake f = {0, ""};
    (void)state;

    write_file("clusters/root.yaml", APP("root", "clusters/apps", ""));
    write_file("clusters/apps/all.yaml",
               APP("child-b", "apps/b",
                   "  annotations:\n    argocd.argoproj.io/sync-wave: \"10\"\n")
               "---\n" APP("child-a", "apps/a",
                           "  annotations:\n    argocd.argoproj.io/sync-wave: \"-1\"\n")
               "    namespace: demo\n");
    write_file("apps/a/all.yaml",
               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  k: v\n---\n"
               "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n---\n"
               "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
               "  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Cluster\n"
               "  names:\n    kind: Widget\n    plural: widgets\n---\n"
               "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n---\n"
               "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n---\n"
               "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: other\n");
    write_file("apps/b/all.yaml", APP("child-c", "apps/c", ""));
    write_file("apps/c/all.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n");

    assert_int_equal(build(&t, "clusters/root.yaml", &opts, &f), 0);
    assert_int_equal(pl_app_tree_count(t), 4);
    assert_int_equal(pl_app_tree_failed(t), 0);
    r = pl_app_tree_get(t, 0);
    assert_string_equal(r->name, "root");
    assert_null(r->parent);
    assert_int_equal(r->nchildren, 2);
    /* depth first in render order: root, child-b, child-c, child-a */
    assert_string_equal(pl_app_tree_get(t, 1)->name, "child-b");
    assert_string_equal(pl_app_tree_get(t, 2)->name, "child-c");
    assert_string_equal(pl_app_tree_get(t, 3)->name, "child-a");
    a = pl_app_tree_find(t, "child-a");
    b = pl_app_tree_find(t, "child-b");
    c = pl_app_tree_find(t, "child-c");
    assert_ptr_equal(a->parent, r);
    assert_ptr_equal(c->parent, b);
    assert_int_equal(c->depth, 2);
    assert_int_equal(a->wave, -1);
    assert_int_equal(b->wave, 10);
    assert_int_equal(f.calls, 4);
    /* destination.namespace: namespaced objects without one; Namespace, the cluster-scoped
     * CRD kind and explicit namespaces untouched; unknown kinds count as namespaced */
    assert_string_equal(pl_json_str(json_array_get(a->objects, 0), "metadata", "namespace", NULL),
                        "demo");
    assert_null(pl_json_str(json_array_get(a->objects, 1), "metadata", "namespace", NULL));
    assert_null(pl_json_str(json_array_get(a->objects, 2), "metadata", "namespace", NULL));
    assert_null(pl_json_str(json_array_get(a->objects, 3), "metadata", "namespace", NULL));
    assert_string_equal(pl_json_str(json_array_get(a->objects, 4), "metadata", "namespace", NULL),
                        "demo");
    assert_string_equal(pl_json_str(json_array_get(a->objects, 5), "metadata", "namespace", NULL),
                        "other");
    assert_true(a->in_cluster);
    assert_false(a->remote);
    pl_app_tree_free(t);
    free_fs();
}

static void test_apps_tree__cycle(void **state)
{
    pl_app_tree_opts opts = PL_APP_TREE_OPTS_INIT;
    pl_app_tree *t = NULL;
    (void)state;

    write_file("root.yaml", APP("x", "apps/x", ""));
    write_file("apps/x/all.yaml", APP("y", "apps/y", ""));
    write_file("apps/y/all.yaml", APP("z", "apps/x", ""));
    assert_int_equal(build(&t, "root.yaml", &opts, NULL), PL_EINVALID);
    assert_null(t);
    assert_non_null(strstr(pl_error_last()->message, "application cycle: x -> y -> z"));
    free_fs();
}

static void test_apps_tree__self_managing_root(void **state)
{
    pl_app_tree_opts opts = PL_APP_TREE_OPTS_INIT;
    pl_app_tree *t = NULL;
    (void)state;

    /* the root Application lives in the directory it points to (Argo CD's usual bootstrap) */
    write_file("clusters/demo/root.yaml", APP("root", "clusters/demo", ""));
    write_file("clusters/demo/all.yaml",
               APP("root", "clusters/demo", "") "---\n" APP("one", "apps/one", ""));
    write_file("apps/one/all.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n");
    assert_int_equal(build(&t, "clusters/demo/root.yaml", &opts, NULL), 0);
    assert_int_equal(pl_app_tree_count(t), 2);
    assert_string_equal(pl_app_tree_get(t, 1)->name, "one");
    pl_app_tree_free(t);
    /* a directory root holding its own Application: the same */
    use_alias(&opts);
    assert_int_equal(build(&t, "clusters/demo", &opts, NULL), 0);
    assert_int_equal(pl_app_tree_count(t), 2);
    assert_string_equal(pl_app_tree_get(t, 0)->name, "demo");
    assert_null(pl_app_tree_get(t, 0)->application);
    pl_app_tree_free(t);
    free_fs();
}

static void test_apps_tree__duplicate_name(void **state)
{
    pl_app_tree_opts opts = PL_APP_TREE_OPTS_INIT;
    pl_app_tree *t = NULL;
    (void)state;

    use_alias(&opts);
    write_file("dup/all.yaml", APP("a", "apps/a1", "") "---\n" APP("a", "apps/a2", ""));
    write_file("apps/a1/all.yaml", "");
    write_file("apps/a2/all.yaml", "");
    assert_int_equal(build(&t, "dup", &opts, NULL), PL_EINVALID);
    assert_non_null(strstr(pl_error_last()->message, "duplicate application name a"));
    free_fs();
}

static void test_apps_tree__failures_stay_per_app(void **state)
{
    pl_app_tree_opts opts = PL_APP_TREE_OPTS_INIT;
    pl_app_tree *t = NULL;
    const pl_app *bad, *ok, *helm;
    (void)state;

    use_alias(&opts);
    write_file("mixed/all.yaml",
               APP("missing", "apps/nowhere", "") "---\n" APP("ok", "apps/ok", "") "---\n"
               "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: helm\n"
               "spec:\n  source:\n    repoURL: https://charts.example.com\n    chart: x\n");
    write_file("apps/ok/all.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n");
    assert_int_equal(build(&t, "mixed", &opts, NULL), 0);
    assert_int_equal(pl_app_tree_failed(t), 2);
    bad = pl_app_tree_find(t, "missing");
    ok = pl_app_tree_find(t, "ok");
    helm = pl_app_tree_find(t, "helm");
    assert_non_null(bad->error);
    assert_null(bad->objects);
    assert_int_equal(bad->error_code, PL_ENOTFOUND);
    assert_non_null(strstr(bad->error, "app missing: "));
    assert_non_null(strstr(bad->error, "apps/nowhere"));
    assert_null(ok->error);
    assert_int_equal(json_array_size(ok->objects), 1);
    assert_non_null(strstr(helm->error, "Helm sources are not supported"));
    pl_app_tree_free(t);
    free_fs();
}

static void test_apps_tree__kustomize_layer(void **state)
{
    pl_app_tree_opts opts = PL_APP_TREE_OPTS_INIT;
    pl_app_tree *t = NULL;
    const pl_app *k;
    const json_t *kz;
    pl_buf orig = PL_BUF_INIT;
    char path[PATH_MAX * 2];
    (void)state;

    use_alias(&opts);
    write_file("kroot/all.yaml",
               "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: kapp\n"
               "spec:\n  destination:\n    namespace: target\n  source:\n"
               "    repoURL: https://git.example.com/org/demo\n"
               "    path: apps/k\n    kustomize:\n      namePrefix: p-\n"
               "      images: [\"nginx=registry.example.com/nginx:1.27\", \"busybox@sha256:abc\"]\n"
               "      commonLabels: {team: a}\n      replicas: [{name: web, count: \"3\"}]\n"
               "      components: [../comp]\n");
    write_file("apps/k/kustomization.yaml",
               "resources:\n- cm.yaml\nnamePrefix: old-\nimages:\n- name: nginx\n  newTag: \"1.0\"\n"
               "commonLabels:\n  keep: \"yes\"\n");
    assert_int_equal(build(&t, "kroot", &opts, NULL), 0);
    k = pl_app_tree_find(t, "kapp");
    assert_non_null(k);
    assert_null(k->error);
    assert_int_equal(k->source_type, PL_APP_SOURCE_KUSTOMIZE);
    kz = json_array_get(k->objects, 0);
    assert_string_equal(pl_json_str(kz, "namePrefix", NULL), "p-");
    assert_string_equal(pl_json_str(kz, "commonLabels", "team", NULL), "a");
    assert_string_equal(pl_json_str(kz, "commonLabels", "keep", NULL), "yes");
    assert_string_equal(pl_json_str(json_array_get(json_object_get(kz, "images"), 0), "newName", NULL),
                        "registry.example.com/nginx");
    assert_string_equal(pl_json_str(json_array_get(json_object_get(kz, "images"), 0), "newTag", NULL),
                        "1.27");
    assert_string_equal(pl_json_str(json_array_get(json_object_get(kz, "images"), 1), "digest", NULL),
                        "sha256:abc");
    assert_int_equal(json_integer_value(pl_json_path(json_array_get(json_object_get(kz, "replicas"), 0),
                                                     "count", NULL)),
                     3);
    assert_string_equal(json_string_value(json_array_get(json_object_get(kz, "components"), 0)),
                        "../comp");
    /* the file on disk is untouched */
    {
        pl_fs *fs = NULL;
        snprintf(path, sizeof(path), "%s/apps/k/kustomization.yaml", root);
        assert_int_equal(pl_fs_dir_new(&fs), 0);
        assert_int_equal(pl_fs_read(fs, path, &orig), 0);
        assert_non_null(strstr(orig.ptr, "namePrefix: old-"));
        pl_fs_free(fs);
    }
    pl_buf_dispose(&orig);
    pl_app_tree_free(t);
    free_fs();
}

static void test_apps_tree__remote_and_clusters(void **state)
{
    pl_app_tree_opts opts = PL_APP_TREE_OPTS_INIT;
    pl_app_tree *t = NULL;
    const pl_app *r, *far, *nomap;
    const char *ctx = "x";
    pl_app_mapping clusters[] = {{"https://far.example.com:6443", "far-ctx"}};
    fake f = {0, ""};
    (void)state;

    write_file("rroot/all.yaml",
               "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: ext\n"
               "spec:\n  source:\n    repoURL: https://other.example.com/org/lib.git\n"
               "    path: deploy/base\n    targetRevision: v1.2.0\n  destination:\n"
               "    server: https://far.example.com:6443\n    namespace: lib\n---\n"
               "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: nomap\n"
               "spec:\n  source:\n    repoURL: https://other.example.com/org/lib.git\n"
               "    path: deploy/base\n    targetRevision: HEAD\n  destination:\n"
               "    server: https://unknown.example.com\n");
    write_file("remote/all.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lib\n");
    opts.fetch = fake_fetch;
    opts.fetch_payload = &f;
    opts.clusters = clusters;
    opts.nclusters = 1;
    assert_int_equal(build(&t, "rroot", &opts, &f), 0);
    r = pl_app_tree_find(t, "ext");
    assert_null(r->error);
    assert_true(r->remote);
    far = r;
    assert_false(far->in_cluster);
    assert_string_equal(far->context, "far-ctx");
    assert_int_equal(pl_app_cluster_context(&ctx, far), 0);
    assert_string_equal(ctx, "far-ctx");
    assert_string_equal(pl_json_str(json_array_get(far->objects, 0), "metadata", "namespace", NULL),
                        "lib");
    nomap = pl_app_tree_find(t, "nomap");
    /* HEAD: no ref, the remote's default branch */
    assert_string_equal(f.last_url, "https://other.example.com/org/lib.git//deploy/base");
    assert_int_equal(pl_app_cluster_context(&ctx, nomap), PL_ENOTFOUND);
    assert_non_null(strstr(pl_error_last()->message, "https://unknown.example.com"));
    pl_app_tree_free(t);
    free_fs();
}

static void test_apps_tree__repo_remotes_and_alias(void **state)
{
    pl_app_tree_opts opts = PL_APP_TREE_OPTS_INIT;
    pl_app_tree *t = NULL;
    git_repository *repo = NULL;
    git_config *cfg = NULL;
    char path[PATH_MAX * 2];
    pl_app_mapping aliases[1];
    fake f = {0, ""};
    (void)state;

    /* a repository whose origin is in scp form; the apps name it in https form */
    snprintf(path, sizeof(path), "%s/repo", root);
    git_libgit2_init();
    assert_int_equal(git_repository_init(&repo, path, 0), 0);
    /* set in the config directly: git_remote_create leaks pcre2 match data in libgit2 1.5 */
    assert_int_equal(git_repository_config(&cfg, repo), 0);
    assert_int_equal(git_config_set_string(cfg, "remote.origin.url",
                                           "git@Git.Example.com:org/demo.git"),
                     0);
    git_config_free(cfg);
    git_repository_free(repo);
    git_libgit2_shutdown();
    write_file("repo/root/all.yaml",
               "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: here\n"
               "spec:\n  source:\n    repoURL: https://git.example.com/org/demo/\n"
               "    path: apps/here\n  destination:\n    server: https://kubernetes.default.svc\n"
               "---\n"
               "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: aliased\n"
               "spec:\n  source:\n    repoURL: https://mirror.example.com/team/other\n"
               "    path: apps/there\n  destination:\n    server: https://kubernetes.default.svc\n");
    write_file("repo/apps/here/all.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: h\n");
    write_file("other/apps/there/all.yaml",
               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t\n");
    snprintf(path, sizeof(path), "%s/other", root);
    aliases[0].url = "https://mirror.example.com/team/other.git";
    aliases[0].target = path;
    opts.repo_aliases = aliases;
    opts.nrepo_aliases = 1;
    opts.fetch = fake_fetch;
    opts.fetch_payload = &f;
    assert_int_equal(build(&t, "repo/root", &opts, &f), 0);
    assert_int_equal(pl_app_tree_failed(t), 0);
    assert_false(pl_app_tree_find(t, "here")->remote);
    assert_false(pl_app_tree_find(t, "aliased")->remote);
    assert_string_equal(pl_json_str(json_array_get(pl_app_tree_find(t, "aliased")->objects, 0),
                                    "metadata", "name", NULL),
                        "t");
    assert_string_equal(f.last_url, ""); /* nothing fetched */
    pl_app_tree_free(t);
    free_fs();
}

static void test_apps_model__parse(void **state)
{
    pl_app app;
    json_t *obj;
    pl_yaml_opts yo = PL_YAML_OPTS_INIT;
    json_t *docs = NULL;
    const char *y =
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: m\n"
        "  annotations:\n    argocd.argoproj.io/sync-wave: \" 5 \"\nspec:\n  source:\n"
        "    repoURL: r\n    path: p\n    directory:\n      recurse: true\n      include: '*.yaml'\n"
        "  destination:\n    name: in-cluster\n    namespace: ns\n  syncPolicy:\n"
        "    automated:\n      prune: true\n      selfHeal: true\n      allowEmpty: true\n"
        "    syncOptions: [CreateNamespace=true, ServerSideApply=true, PruneLast=true, Replace=true,"
        " ApplyOutOfSyncOnly=true, RespectIgnoreDifferences=true, SkipDryRunOnMissingResource=true,"
        " PrunePropagationPolicy=background, Validate=false]\n"
        "  ignoreDifferences:\n  - group: apps\n    kind: Deployment\n    jsonPointers: [/spec/replicas]\n";
    (void)state;

    assert_int_equal(pl_yaml_parse(&docs, y, strlen(y), "m.yaml", &yo), 0);
    obj = json_array_get(docs, 0);
    assert_int_equal(pl_app_parse(&app, obj), 0);
    assert_int_equal(app.wave, 5);
    assert_int_equal(app.source_type, PL_APP_SOURCE_DIRECTORY);
    assert_true(app.directory.recurse);
    assert_string_equal(app.directory.include, "*.yaml");
    assert_true(app.in_cluster);
    assert_string_equal(app.dest_namespace, "ns");
    assert_true(app.sync.automated && app.sync.prune && app.sync.self_heal && app.sync.allow_empty);
    assert_true(app.sync.create_namespace && app.sync.server_side_apply && app.sync.prune_last);
    assert_true(app.sync.replace && app.sync.apply_out_of_sync_only);
    assert_true(app.sync.respect_ignore_differences && app.sync.skip_dry_run_on_missing_resource);
    assert_false(app.sync.validate);
    assert_string_equal(app.sync.prune_propagation_policy, "background");
    assert_int_equal(json_array_size(app.ignore_differences), 1);
    pl_app_dispose(&app);

    /* automated with enabled: false (Argo CD 3) is not automated */
    json_object_set_new(pl_json_mkpath(obj, "spec", "syncPolicy", "automated", NULL), "enabled",
                        json_false());
    json_object_set_new(pl_json_path(obj, "metadata", "annotations", NULL),
                        "argocd.argoproj.io/sync-wave", json_string("x1"));
    assert_int_equal(pl_app_parse(&app, obj), PL_EINVALID);
    assert_non_null(strstr(pl_error_last()->message, "is not an integer"));
    pl_app_dispose(&app);
    json_object_del(pl_json_path(obj, "metadata", "annotations", NULL),
                    "argocd.argoproj.io/sync-wave");
    assert_int_equal(pl_app_parse(&app, obj), 0);
    assert_false(app.sync.automated);
    assert_true(app.sync.prune);
    pl_app_dispose(&app);
    json_decref(docs);
}

static void test_apps_model__normalize_url(void **state)
{
    static const char *const same[][2] = {
        {"https://github.com/Org/Repo.git", "https://github.com/org/repo"},
        {"git@github.com:org/repo.git", "https://github.com/org/repo/"},
        {"ssh://git@github.com/org/repo", "https://github.com/org/repo"},
        {"ssh://git@github.com:22/org/repo", "github.com/org/repo"},
        {"https://user@gitlab.example.com/g/p.git", "https://gitlab.example.com/g/p"},
    };
    static const char *const differ[][2] = {
        {"https://github.com/org/repo", "https://github.com/org/repo2"},
        {"https://github.com/org/repo", "https://gitlab.com/org/repo"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        char *a = pl_app_normalize_repo_url(same[i][0]), *b = pl_app_normalize_repo_url(same[i][1]);
        assert_string_equal(a, b);
        pl_free(a);
        pl_free(b);
    }
    for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
        char *a = pl_app_normalize_repo_url(differ[i][0]),
             *b = pl_app_normalize_repo_url(differ[i][1]);
        assert_string_not_equal(a, b);
        pl_free(a);
        pl_free(b);
    }
    assert_true(pl_app_kind_is_cluster_scoped("v1", "Namespace"));
    assert_true(pl_app_kind_is_cluster_scoped("rbac.authorization.k8s.io/v1", "ClusterRole"));
    assert_false(pl_app_kind_is_cluster_scoped("v1", "ConfigMap"));
    assert_false(pl_app_kind_is_cluster_scoped("example.com/v1", "Namespace"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apps_model__parse),
        cmocka_unit_test(test_apps_model__normalize_url),
        cmocka_unit_test_setup_teardown(test_apps_tree__app_of_apps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apps_tree__cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apps_tree__self_managing_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apps_tree__duplicate_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apps_tree__failures_stay_per_app, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apps_tree__kustomize_layer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apps_tree__remote_and_clusters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apps_tree__repo_remotes_and_alias, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
