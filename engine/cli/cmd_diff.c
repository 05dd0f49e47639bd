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
 * Without --from/--to, diff compares with a cluster; that needs engine/kube and is not wired
 * yet (exit 2 with a message saying so).
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
#include "plumb/render.h"
#include "plumb/source.h"

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
            "plumb: error: %s\nusage: plumb diff PATH --from REV --to REV [-o text|json|markdown] "
            "[--repo-alias URL=DIR] [--cluster URL=CONTEXT]\n",
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

int pl_cli_diff(int argc, char **argv)
{
    const char *path = NULL, *from = NULL, *to = NULL, *format = "text";
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
        } else if (take(&v, "--kubeconfig", argc, argv, &i) ||
                   take(&v, "--context", argc, argv, &i)) {
            if (!v)
                bad = "--kubeconfig and --context need a value";
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
    if (!from && !to) {
        fprintf(stderr, "plumb: error: not implemented yet: plumb diff against a cluster needs "
                        "engine/kube (use --from REV --to REV for an offline diff)\n");
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
    topts.repo_aliases = aliases;
    topts.nrepo_aliases = naliases;
    topts.clusters = clusters;
    topts.nclusters = nclusters;

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
        dopts.ignore_differences = b->ignore_differences;
        error = pl_drift_report_compare_sets(report, b->name, b->objects, a ? a->objects : NULL,
                                             &dopts);
    }
    for (size_t i = 0; i < pl_app_tree_count(ta) && error == 0; i++) {
        const pl_app *a = pl_app_tree_get(ta, i);
        pl_drift_opts dopts = PL_DRIFT_OPTS_INIT;
        if (pl_app_tree_find(tb, a->name))
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
