/*
 * cmd_render.c - `plumb render PATH`: kustomize build output on stdout.
 *
 * The whole stream is rendered into memory first and written only on success, so a failing
 * render prints nothing on stdout (no partial output presented as success).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
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

static int usage_error(const char *msg)
{
    fprintf(stderr, "plumb: error: %s\nusage: plumb render PATH [-o FILE] [--reorder none|legacy] "
                    "[--load-restrictor LoadRestrictionsRootOnly|LoadRestrictionsNone]\n",
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
        return 1;
    }
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
