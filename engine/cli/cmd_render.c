/*
 * cmd_render.c - `plumb render PATH`: kustomize build output on stdout.
 *
 * The whole stream is rendered into memory first and written only on success, so a failing
 * render prints nothing on stdout (no partial output presented as success).
 *
 * `--apps DIR` builds the App-of-Apps tree of PATH (engine/apps) and writes DIR/<app>.yaml for
 * every app that renders: its objects as the cluster would receive them (source.kustomize
 * applied, destination.namespace set on namespaced objects without one), in kustomize's
 * output format. Nothing goes to stdout; each app that fails is one error line on stderr
 * and makes the exit status 1 (the others are still written). That path is separate from the
 * plain render, which stays exactly as it was.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <sys/stat.h>

#include "cli.h"
#include "plumb/apps.h"
#include "plumb/core.h"
#include "plumb/fs.h"
#include "plumb/render.h"
#include "plumb/source.h"

void pl_cli_print_error(void)
{
    const pl_error *e = pl_error_last();
    const char *msg = e->message[0] ? e->message : "unknown error";
    fprintf(stderr, "plumb: error: ");
    /* one line: newlines inside messages become spaces */
    for (const char *p = msg; *p; p++)
        fputc(*p == '\n' ? ' ' : *p, stderr);
    fputc('\n', stderr);
}

/* Objects of a successful render, kept reachable until exit (see pl_cli_render). */
json_t *pl_cli__kept_objects;

int pl_cli_render_tree(json_t **out, pl_fs *fs, const char *path, pl_render_opts *opts,
                       const pl_plain_opts *popts, int force_kustomize)
{
    if (!opts->fetch_remote)
        opts->fetch_remote = pl_source_fetch_remote;
    if (!opts->generator)
        opts->generator = pl_cli_maas_generator; /* kind MaaSRender generators (cmd_maas.c) */
    if (pl_fs_kind_of(fs, path) == PL_FS_DIR && (force_kustomize || pl_kustomize_detect(fs, path)))
        return pl_kustomize_build(out, fs, path, opts);
    return pl_plain_render(out, fs, path, popts);
}

#define MAX_MAPPINGS 64

/* engine/apps render callback shared by render --apps, diff and sync (cli.h). `payload` is a
 * pl_render_opts with kustomize's command-line flags, or NULL for the defaults. */
int pl_cli_app_render(json_t **out, const pl_app_render_req *req, void *payload)
{
    pl_render_opts opts = PL_RENDER_OPTS_INIT;
    if (payload)
        opts = *(const pl_render_opts *)payload;
    if (req->type == PL_APP_SOURCE_DIRECTORY)
        return pl_plain_render(out, req->fs, req->path, req->plain);
    return pl_cli_render_tree(out, req->fs, req->path, &opts, req->plain,
                              req->type == PL_APP_SOURCE_KUSTOMIZE);
}

static int mkdir_p(const char *dir)
{
    char *p = pl_path_clean(dir);
    int error = 0;
    if (!p)
        return pl_error_set(PL_ENOMEM, "out of memory");
    for (char *s = p + 1;; s++) {
        if (*s == '/' || !*s) {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0777) < 0 && errno != EEXIST) {
                error = pl_error_set(PL_ERROR, "%s: cannot create directory: %s", p,
                                     strerror(errno));
                break;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    pl_free(p);
    return error;
}

static int write_file(const char *file, const pl_buf *b)
{
    FILE *f = fopen(file, "wb");
    int ok = f && (!b->len || fwrite(b->ptr, 1, b->len, f) == b->len);
    if (f && fclose(f) != 0)
        ok = 0;
    return ok ? 0 : pl_error_set(PL_ERROR, "%s: cannot write", file);
}

static int render_apps(const char *abspath, const char *dir, const pl_render_opts *ropts,
                       const pl_app_tree_opts *base)
{
    pl_app_tree_opts topts = *base;
    pl_app_tree *tree = NULL;
    pl_fs *fs = NULL;
    int error, rc = 1;

    topts.render = pl_cli_app_render;
    topts.render_payload = (void *)ropts;
    if ((error = mkdir_p(dir)) < 0 || (error = pl_fs_dir_new(&fs)) < 0 ||
        (error = pl_app_tree_build(&tree, fs, abspath, &topts)) < 0) {
        pl_cli_print_error();
        goto done;
    }
    rc = 0;
    for (size_t i = 0; i < pl_app_tree_count(tree); i++) {
        const pl_app *app = pl_app_tree_get(tree, i);
        pl_buf out = PL_BUF_INIT, file = PL_BUF_INIT;
        if (app->error) {
            fprintf(stderr, "plumb: error: %s\n", app->error);
            rc = 1;
            continue;
        }
        if (!*app->name || strchr(app->name, '/') || !strcmp(app->name, ".") ||
            !strcmp(app->name, "..")) {
            fprintf(stderr, "plumb: error: app %s: name unusable as a file name\n", app->name);
            rc = 1;
            continue;
        }
        if ((error = pl_yaml_emit_stream(&out, app->objects)) < 0 ||
            (error = pl_buf_printf(&file, "%s/%s.yaml", dir, app->name)) < 0 ||
            (error = write_file(file.ptr, &out)) < 0) {
            pl_cli_print_error();
            rc = 1;
        }
        pl_buf_dispose(&out);
        pl_buf_dispose(&file);
    }
done:
    pl_app_tree_free(tree);
    pl_fs_free(fs);
    return rc;
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "plumb: error: %s\nusage: plumb render PATH [-o FILE] [--reorder none|legacy] "
                    "[--load-restrictor LoadRestrictionsRootOnly|LoadRestrictionsNone] [--apps DIR "
                    "[--repo-alias URL=DIR] [--cluster URL=CONTEXT]]\n",
            msg);
    return 2;
}

int pl_cli_render(int argc, char **argv)
{
    const char *path = NULL, *outfile = NULL;
    pl_render_opts opts = PL_RENDER_OPTS_INIT;
    pl_plain_opts popts = PL_PLAIN_OPTS_INIT;
    pl_fs *fs = NULL;
    json_t *objs = NULL;
    pl_buf out = PL_BUF_INIT;
    char abspath[PATH_MAX];
    int error = 0, rc = 1, kustomize_flags = 0;
    const char *apps_dir = NULL;
    pl_app_mapping aliases[MAX_MAPPINGS], clusters[MAX_MAPPINGS];
    char *owned[MAX_MAPPINGS] = {NULL};
    size_t naliases = 0, nclusters = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (++i >= argc)
                return usage_error("-o needs a file");
            outfile = argv[i];
        } else if (!strncmp(a, "--reorder", 9)) {
            kustomize_flags = 1;
            val = a[9] == '=' ? a + 10 : (++i < argc ? argv[i] : NULL);
            if (!val)
                return usage_error("--reorder needs none or legacy");
            if (!strcmp(val, "none"))
                opts.reorder = PL_REORDER_NONE;
            else if (!strcmp(val, "legacy"))
                opts.reorder = PL_REORDER_LEGACY;
            else
                return usage_error("--reorder must be none or legacy");
        } else if (!strncmp(a, "--load-restrictor", 17) || !strncmp(a, "--load_restrictor", 17)) {
            kustomize_flags = 1;
            val = a[17] == '=' ? a + 18 : (++i < argc ? argv[i] : NULL);
            if (!val)
                return usage_error("--load-restrictor needs a value");
            if (!strcmp(val, "LoadRestrictionsNone") || !strcmp(val, "none"))
                opts.restrictor = PL_LOAD_NONE;
            else if (!strcmp(val, "LoadRestrictionsRootOnly") || !strcmp(val, "rootOnly"))
                opts.restrictor = PL_LOAD_ROOT_ONLY;
            else
                return usage_error("--load-restrictor must be LoadRestrictionsRootOnly or "
                                   "LoadRestrictionsNone");
        } else if (!strcmp(a, "--enable-managedby-label")) {
            opts.add_managedby_label = 1;
        } else if (!strcmp(a, "--recurse")) {
            popts.recurse = 1;
        } else if (!strcmp(a, "--apps")) {
            if (++i >= argc)
                return usage_error("--apps needs a directory");
            apps_dir = argv[i];
        } else if (!strcmp(a, "--repo-alias") || !strcmp(a, "--cluster")) {
            int alias = a[2] == 'r';
            char *dummy = NULL;
            if (++i >= argc || (alias ? naliases : nclusters) >= MAX_MAPPINGS ||
                pl_cli_apps_parse_mapping(alias ? &aliases[naliases] : &clusters[nclusters],
                                          alias ? &owned[naliases] : &dummy, argv[i],
                                          alias) < 0) {
                for (size_t j = 0; j < naliases; j++)
                    pl_free(owned[j]);
                return usage_error(alias ? "--repo-alias needs URL=DIR"
                                         : "--cluster needs URL=CONTEXT");
            }
            if (alias)
                naliases++;
            else
                nclusters++;
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
        for (size_t j = 0; j < naliases; j++)
            pl_free(owned[j]);
        return 1;
    }
    if (apps_dir) {
        pl_app_tree_opts topts = PL_APP_TREE_OPTS_INIT;
        topts.repo_aliases = aliases;
        topts.nrepo_aliases = naliases;
        topts.clusters = clusters;
        topts.nclusters = nclusters;
        rc = render_apps(abspath, apps_dir, &opts, &topts);
        for (size_t j = 0; j < naliases; j++)
            pl_free(owned[j]);
        return rc;
    }
    if (naliases || nclusters)
        return usage_error("--repo-alias and --cluster go with --apps");
    if ((error = pl_fs_dir_new(&fs)) < 0)
        goto done;
    /* PLUMB_THREADS=1 builds sequentially (e.g. to compare, or on a busy machine) */
    if (getenv("PLUMB_THREADS")) {
        long t = strtol(getenv("PLUMB_THREADS"), NULL, 10);
        opts.max_threads = t > 0 && t <= 64 ? (int)t : 0;
    }
    /* with a kustomize-only flag even a directory without a kustomization is a kustomize
     * build: the user asked for kustomize semantics, and kustomize refuses such a directory */
    if ((error = pl_cli_render_tree(&objs, fs, abspath, &opts, &popts, kustomize_flags)) < 0)
        goto done;
    if ((error = pl_yaml_emit_stream(&out, objs)) < 0)
        goto done;
    if (outfile) {
        FILE *f = fopen(outfile, "wb");
        if (!f || fwrite(out.ptr ? out.ptr : "", 1, out.len, f) != out.len) {
            error = pl_error_set(PL_ERROR, "%s: cannot write", outfile);
            if (f)
                fclose(f);
            goto done;
        }
        if (fclose(f) != 0) {
            error = pl_error_set(PL_ERROR, "%s: cannot write", outfile);
            goto done;
        }
    } else if (out.len && fwrite(out.ptr, 1, out.len, stdout) != out.len) {
        error = pl_error_set(PL_ERROR, "stdout: write failed");
        goto done;
    }
    rc = 0;
    /*
     * The process ends right after this: releasing a large render object by object costs as
     * much as a fifth of the run, so a successful render hands its objects to a static
     * (still reachable, not a leak) and lets exit() return the memory. PLUMB_FREE_ON_EXIT=1
     * frees everything, for leak checks of the objects themselves.
     */
    if (!getenv("PLUMB_FREE_ON_EXIT")) {
        pl_cli__kept_objects = objs;
        objs = NULL;
    }
done:
    if (error < 0)
        pl_cli_print_error();
    json_decref(objs);
    pl_buf_dispose(&out);
    pl_fs_free(fs);
    return rc;
}
