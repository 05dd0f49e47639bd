/*
 * cmd_diff.c - `plumb diff PATH --from REV --to REV [-o text|json|markdown]`, and the
 * URL=TARGET parser shared with `plumb render --apps` (pl_cli_apps_parse_mapping).
 *
 * Offline diff: both revisions are read straight from the object store of the git repository
 * holding PATH (pl_fs_git_new; no checkout), the App-of-Apps tree is built at each (engine/apps)
 * and every app's objects at REV1 are compared with those at REV2 (engine/drift). An app that
 * exists at one revision only has all its objects added or removed. Unchanged objects are not
 * listed. Exit 0 without differences, 1 with differences, 2 on errors (usage, unknown
 * revision, a tree or an app that does not render: one line each, naming the file).
 *
 * Without --from/--to, diff compares the working tree with a cluster: every app of the tree is
 * observed by the sync executor in observe mode (engine/sync: the ApplySet inventory, the live
 * objects, a server-side dry-run apply of each object that is not provably unchanged, the live
 * state of inventory members no longer in Git) and each object's desired / dry-run / live
 * versions are compared by engine/drift with the app's ignoreDifferences. Nothing is written.
 * Exit 0 when nothing drifted, 1 when something did, 2 on errors (an app that does not render,
 * an unreachable cluster, a dry run the server refused) - errors win over drift.
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "plumb/apps.h"
#include "plumb/core.h"
#include "plumb/drift.h"
#include "plumb/fs.h"
#include "plumb/kube.h"
#include "plumb/render.h"
#include "plumb/source.h"
#include "plumb/sync.h"

#define MAX_MAPPINGS 64

/* ---- shared with cmd_render.c ------------------------------------------------------------- */

/*
 * engine/apps render callback: the same tree reader every subcommand uses; a source.directory
 * app is plain manifests even when its directory holds a kustomization (Argo CD's explicit type).
 */
int pl_cli_apps_parse_mapping(struct pl_app_mapping *out, char **owned, char *arg, int is_dir)
{
    char *eq = strrchr(arg, '=');
    char real[PATH_MAX];

    *owned = NULL;
    if (!eq || eq == arg || !eq[1])
        return -1;
    *eq = '\0';
    out->url = arg;
    out->target = eq + 1;
    /* a directory as the fs sees it: absolute and real when it exists */
    if (is_dir && realpath(eq + 1, real) && (*owned = pl_strdup(real)) != NULL)
        out->target = *owned;
    return 0;
}

/* ---- plumb diff ------------------------------------------------------------------------------ */

static int usage_error(const char *msg)
{
    fprintf(stderr,
            "plumb: error: %s\nusage: plumb diff PATH [--kubeconfig F] [--context C] "
            "[--from REV --to REV] [-o text|json|markdown] [--app NAME] [--repo-alias URL=DIR] "
            "[--cluster URL=CONTEXT]\n",
            msg);
    return 2;
}

static void print_app_errors(const pl_app_tree *t, const char *rev)
{
    for (size_t i = 0; i < pl_app_tree_count(t); i++) {
        const pl_app *a = pl_app_tree_get(t, i);
        if (a->error)
            fprintf(stderr, "plumb: error: %s: %s\n", rev, a->error);
    }
}

static int build_at(pl_app_tree **tree, pl_fs **fs, const char *path, const char *rev,
                    pl_app_tree_opts *opts)
{
    int error;
    if ((error = pl_fs_git_new(fs, path, rev)) < 0)
        return error;
    opts->render = pl_cli_app_render;
    if ((error = pl_app_tree_build(tree, *fs, path, opts)) < 0)
        pl_error_prefix("%s", rev);
    return error;
}

/* "--flag VALUE" or "--flag=VALUE": 1 when argv[*i] is the flag (*val NULL if no value) */
static int take(const char **val, const char *flag, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    size_t n = strlen(flag);
    if (strncmp(a, flag, n))
        return 0;
    if (!a[n]) {
        *val = *i + 1 < argc ? argv[++*i] : NULL;
        return 1;
    }
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    return 0;
}

/* ---- against a cluster ------------------------------------------------------------------ */

typedef struct live_app {
    const pl_app *app;
    pl_sync_app *exec;
    char *error; /* could not be observed at all */
} live_app;

/* the failed objects of an app as one line: "A: why; B: why; and 3 more" */
static void failed_objects(pl_buf *b, const pl_sync_app *exec)
{
    const pl_sync_item *items;
    size_t n = pl_sync_app_items(exec, &items), shown = 0, more = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].action != PL_ACT_FAILED)
            continue;
        if (shown == 3) {
            more++;
            continue;
        }
        pl_buf_printf(b, "%s%s: %s", shown ? "; " : "", items[i].id,
                      items[i].reason ? items[i].reason : "failed");
        shown++;
    }
    if (more)
        pl_buf_printf(b, "; and %zu more", more);
}

static int diff_live(pl_drift_report *report, pl_app_tree *tree, pl_cli_clusters *cs,
                     const char *only_app)
{
    size_t napps = pl_app_tree_count(tree), nrun = 0;
    live_app *runs = pl_calloc(napps + 1, sizeof(*runs));
    int error = 0;

    if (!runs)
        return pl_error_set(PL_ENOMEM, "out of memory");
    for (size_t i = 0; i < napps; i++) {
        const pl_app *app = pl_app_tree_get(tree, i);
        live_app *r;
        if (only_app && strcmp(app->name, only_app))
            continue;
        r = &runs[nrun++];
        r->app = app;
        if (app->error || !app->objects) {
            r->error = pl_strdup(app->error ? app->error : "the app did not render");
            continue;
        }
        pl_kube *k = NULL;
        const pl_kube_config *cfg = NULL;
        if (pl_cli_clusters_for(&k, &cfg, cs, app) < 0) {
            r->error = pl_strdup(pl_error_last()->message);
            continue;
        }
        pl_sync_app_opts so;
        pl_cli_sync_opts_for(&so, app, cfg);
        so.observe = 1;
        so.allow_empty = 1; /* an empty render: its whole inventory is what drifted */
        json_t *objs = pl_cli_applied_objects(app);
        if (pl_sync_app_new(&r->exec, k, objs, &so) < 0)
            r->error = pl_strdup(pl_error_last()->message);
        json_decref(objs);
    }
    if (only_app && nrun == 0) {
        pl_free(runs);
        return pl_error_set(PL_ENOTFOUND, "--app %s: no such app", only_app);
    }
    /* every app at once: observing writes nothing, so there is no order to keep */
    {
        pl_sync_app **execs = pl_calloc(nrun + 1, sizeof(*execs));
        if (!execs) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            nrun = 0; /* frees below */
        }
        for (size_t i = 0; execs && i < nrun; i++)
            execs[i] = runs[i].exec;
        if (execs)
            pl_cli_clusters_run(cs, execs, nrun);
        pl_free(execs);
    }
    for (size_t i = 0; i < nrun && error == 0; i++) {
        live_app *r = &runs[i];
        pl_drift_opts dopts = PL_DRIFT_OPTS_INIT;
        pl_sync_observation ob;
        pl_buf why = PL_BUF_INIT;

        if ((error = pl_drift_report_app(report, r->app->name)) < 0)
            break;
        if (r->error) {
            error = pl_drift_report_error(report, r->app->name, r->error);
            continue;
        }
        dopts.ignore_differences = r->app->ignore_differences;
        dopts.live = 1;
        for (size_t j = 0; error == 0 && pl_sync_app_observation(r->exec, j, &ob); j++) {
            pl_drift_result *res = NULL;
            if (ob.item && ob.item->action == PL_ACT_FAILED)
                continue; /* listed as the app's error below */
            if ((error = pl_drift_compare(&res, ob.desired, ob.predicted, ob.live, &dopts)) == 0)
                error = pl_drift_report_add(report, r->app->name, res);
        }
        failed_objects(&why, r->exec);
        if (error == 0 && (why.len || pl_sync_app_error(r->exec))) {
            const char *msg = why.len ? why.ptr : pl_sync_app_error(r->exec);
            error = pl_drift_report_error(report, r->app->name, msg);
        }
        pl_buf_dispose(&why);
    }
    for (size_t i = 0; i < nrun; i++) {
        pl_sync_app_free(runs[i].exec);
        pl_free(runs[i].error);
    }
    pl_free(runs);
    return error;
}

static int run_live(const char *path, const char *kubeconfig, const char *context,
                    const char *only_app, pl_app_tree_opts *topts, pl_drift_format fmt)
{
    char abspath[PATH_MAX];
    pl_fs *fs = NULL;
    pl_app_tree *tree = NULL;
    pl_cli_clusters *cs = NULL;
    pl_drift_report *report = NULL;
    pl_buf out = PL_BUF_INIT, title = PL_BUF_INIT;
    pl_kube_opts ko = PL_KUBE_OPTS_INIT;
    int error = 0, rc = 2;

    if (!realpath(path, abspath)) {
        fprintf(stderr, "plumb: error: %s: no such file or directory\n", path);
        return 2;
    }
    if ((error = pl_fs_dir_new(&fs)) < 0)
        goto done;
    topts->render = pl_cli_app_render;
    if ((error = pl_app_tree_build(&tree, fs, abspath, topts)) < 0)
        goto done;
    if (pl_app_tree_get(tree, 0) && pl_app_tree_get(tree, 0)->error) {
        /* nothing to compare: a diff against a broken render would be a lie */
        fprintf(stderr, "plumb: error: %s\n", pl_app_tree_get(tree, 0)->error);
        goto done;
    }
    if ((error = pl_cli_clusters_new(&cs, kubeconfig, context, &ko)) < 0)
        goto done;
    if ((error = pl_drift_report_new(&report)) < 0 ||
        (error = pl_buf_printf(&title, "%s against the cluster of context %s", path,
                               pl_kube_config_context(pl_cli_clusters_default_config(cs)))) < 0 ||
        (error = pl_drift_report_set_title(report, title.ptr)) < 0 ||
        (error = diff_live(report, tree, cs, only_app)) < 0 ||
        (error = pl_drift_report_write(&out, report, fmt)) < 0)
        goto done;
    if (out.len && fwrite(out.ptr, 1, out.len, stdout) != out.len) {
        error = pl_error_set(PL_ERROR, "stdout: write failed");
        goto done;
    }
    fflush(stdout);
    if (pl_drift_report_errors(report)) {
        /* the report names them; stderr says why the exit code is 2 */
        fprintf(stderr, "plumb: error: %zu app(s) could not be compared (see the report)\n",
                pl_drift_report_errors(report));
        rc = 2;
    } else {
        rc = pl_drift_report_changes(report) ? 1 : 0;
    }
done:
    if (error < 0)
        pl_cli_print_error();
    pl_drift_report_free(report);
    pl_cli_clusters_free(cs);
    pl_app_tree_free(tree);
    pl_fs_free(fs);
    pl_buf_dispose(&out);
    pl_buf_dispose(&title);
    return rc;
}

int pl_cli_diff(int argc, char **argv)
{
    const char *path = NULL, *from = NULL, *to = NULL, *format = "text";
    const char *kubeconfig = NULL, *context = NULL, *only_app = NULL;
    pl_app_mapping aliases[MAX_MAPPINGS], clusters[MAX_MAPPINGS];
    char *owned[MAX_MAPPINGS] = {NULL};
    size_t naliases = 0, nclusters = 0;
    pl_app_tree_opts topts = PL_APP_TREE_OPTS_INIT;
    pl_app_tree *ta = NULL, *tb = NULL;
    pl_fs *fa = NULL, *fb = NULL;
    pl_drift_report *report = NULL;
    pl_drift_format fmt = PL_DRIFT_TEXT;
    pl_buf out = PL_BUF_INIT, title = PL_BUF_INIT;
    char abspath[PATH_MAX];
    char *dummy = NULL;
    const char *bad = NULL;
    int error = 0, rc = 2;

    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i], *v = NULL;
        if (take(&v, "--from", argc, argv, &i)) {
            if (!(from = v))
                bad = "--from needs a revision";
        } else if (take(&v, "--to", argc, argv, &i)) {
            if (!(to = v))
                bad = "--to needs a revision";
        } else if (take(&v, "-o", argc, argv, &i) || take(&v, "--output", argc, argv, &i)) {
            if (!(format = v))
                bad = "-o needs text, json or markdown";
        } else if (take(&v, "--repo-alias", argc, argv, &i) ||
                   take(&v, "--cluster", argc, argv, &i)) {
            int alias = a[2] == 'r';
            pl_app_mapping *m = alias ? &aliases[naliases] : &clusters[nclusters];
            if ((alias ? naliases : nclusters) >= MAX_MAPPINGS)
                bad = "too many mappings";
            else if (!v || pl_cli_apps_parse_mapping(m, alias ? &owned[naliases] : &dummy,
                                                     (char *)v, alias) < 0)
                bad = alias ? "--repo-alias needs URL=DIR" : "--cluster needs URL=CONTEXT";
            else if (alias)
                naliases++;
            else
                nclusters++;
        } else if (take(&v, "--kubeconfig", argc, argv, &i)) {
            if (!(kubeconfig = v))
                bad = "--kubeconfig needs a file";
        } else if (take(&v, "--context", argc, argv, &i)) {
            if (!(context = v))
                bad = "--context needs a context name";
        } else if (take(&v, "--app", argc, argv, &i)) {
            if (!(only_app = v))
                bad = "--app needs an app name";
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "plumb: error: unknown flag %s\n", a);
            goto done;
        } else if (!path) {
            path = a;
        } else {
            bad = "only one PATH";
        }
    }
    if (bad) {
        rc = usage_error(bad);
        goto done;
    }
    if (!strcmp(format, "text"))
        fmt = PL_DRIFT_TEXT;
    else if (!strcmp(format, "json"))
        fmt = PL_DRIFT_JSON;
    else if (!strcmp(format, "markdown") || !strcmp(format, "md"))
        fmt = PL_DRIFT_MARKDOWN;
    else {
        rc = usage_error("-o must be text, json or markdown");
        goto done;
    }
    topts.repo_aliases = aliases;
    topts.nrepo_aliases = naliases;
    topts.clusters = clusters;
    topts.nclusters = nclusters;
    if (!from && !to) {
        rc = run_live(path ? path : ".", kubeconfig, context, only_app, &topts, fmt);
        goto done;
    }
    if (!from || !to) {
        rc = usage_error("--from and --to go together");
        goto done;
    }
    if (!path)
        path = ".";
    if (!realpath(path, abspath)) {
        /* PATH may exist only in the revisions: make it absolute against the cwd */
        char cwd[PATH_MAX];
        char *joined = NULL;
        if (!getcwd(cwd, sizeof(cwd)) || !(joined = pl_path_join(cwd, path)) ||
            strlen(joined) >= sizeof(abspath)) {
            fprintf(stderr, "plumb: error: %s: cannot resolve the path\n", path);
            pl_free(joined);
            goto done;
        }
        snprintf(abspath, sizeof(abspath), "%s", joined);
        pl_free(joined);
    }
    if ((error = build_at(&ta, &fa, abspath, from, &topts)) < 0 ||
        (error = build_at(&tb, &fb, abspath, to, &topts)) < 0)
        goto done;
    if (pl_app_tree_failed(ta) || pl_app_tree_failed(tb)) {
        print_app_errors(ta, from);
        print_app_errors(tb, to);
        goto done; /* rc 2: a diff against a broken render would be a lie */
    }
    if ((error = pl_drift_report_new(&report)) < 0 ||
        (error = pl_buf_printf(&title, "%s..%s", from, to)) < 0 ||
        (error = pl_drift_report_set_title(report, title.ptr)) < 0)
        goto done;
    /* apps of the "to" tree in tree order, then those only in "from" */
    for (size_t i = 0; i < pl_app_tree_count(tb) && error == 0; i++) {
        const pl_app *b = pl_app_tree_get(tb, i);
        const pl_app *a = pl_app_tree_find(ta, b->name);
        pl_drift_opts dopts = PL_DRIFT_OPTS_INIT;
        if (only_app && strcmp(b->name, only_app))
            continue;
        dopts.ignore_differences = b->ignore_differences;
        error = pl_drift_report_compare_sets(report, b->name, b->objects, a ? a->objects : NULL,
                                             &dopts);
    }
    for (size_t i = 0; i < pl_app_tree_count(ta) && error == 0; i++) {
        const pl_app *a = pl_app_tree_get(ta, i);
        pl_drift_opts dopts = PL_DRIFT_OPTS_INIT;
        if (pl_app_tree_find(tb, a->name) || (only_app && strcmp(a->name, only_app)))
            continue;
        dopts.ignore_differences = a->ignore_differences;
        error = pl_drift_report_compare_sets(report, a->name, NULL, a->objects, &dopts);
    }
    if (error < 0 || (error = pl_drift_report_write(&out, report, fmt)) < 0)
        goto done;
    if (out.len && fwrite(out.ptr, 1, out.len, stdout) != out.len) {
        error = pl_error_set(PL_ERROR, "stdout: write failed");
        goto done;
    }
    rc = pl_drift_report_changes(report) ? 1 : 0;
done:
    if (error < 0)
        pl_cli_print_error();
    pl_drift_report_free(report);
    pl_app_tree_free(ta);
    pl_app_tree_free(tb);
    pl_fs_free(fa);
    pl_fs_free(fb);
    pl_buf_dispose(&out);
    pl_buf_dispose(&title);
    for (size_t i = 0; i < naliases; i++)
        pl_free(owned[i]);
    return rc;
}
