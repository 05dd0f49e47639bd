/*
 * cmd_maas.c - `plumb maas`: the MaaS renderer (renderers/maas) from the command line, and
 * the MaaSRender kustomize generator that `plumb render` hands to the kustomize driver.
 *
 *   plumb maas render DIR [--base DIR] [--diagnostics FILE]
 *       DIR holds the input objects (a kustomization, or plain manifests) and optionally
 *       maas-render.yaml (the configuration, SPEC §0.3; never an input object). The mode's
 *       objects go to stdout, the diagnostics (YAML, `diagnostics:` list of
 *       rule/severity/object/message) to FILE or stderr. Exit 0 when no diagnostic has
 *       severity error, 1 otherwise, 2 when the input cannot be used.
 *   plumb maas migrate ...   (engine/cli/cmd_maas_migrate.c)
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plumb/core.h"
#include "plumb/fs.h"
#include "plumb/render.h"

#include "maas.h" /* pl_maas_run (renderers/maas; include dir exported by pl_render_maas) */

static const char *const config_names[] = {"maas-render.yaml", "maas-render.yml"};

static void usage(FILE *f)
{
    fputs("usage: plumb maas <command> [args]\n"
          "\n"
          "commands:\n"
          "  render DIR [--base DIR] [--diagnostics FILE]\n"
          "      run the MaaS renderer (mode preview, migrate or lint, from DIR/maas-render.yaml)\n"
          "      over the objects of DIR (a kustomization or plain manifests); objects on stdout,\n"
          "      diagnostics (YAML) to FILE or stderr. --base DIR: the parent revision's objects\n"
          "      for the rename and deletion rules (default: baseRevision of maas-render.yaml,\n"
          "      relative to DIR). Exit 0 without error diagnostics, 1 with, 2 on unusable input.\n"
          "  migrate [flags]\n"
          "      tier-to-subscription migration with the upstream script's flags (--help)\n",
          f);
}

static int render_usage_error(const char *msg)
{
    fprintf(stderr,
            "plumb: error: %s\nusage: plumb maas render DIR [--base DIR] [--diagnostics FILE]\n",
            msg);
    return 2;
}

/* One diagnostic as a line for a human: "severity: object: rule: message". */
static void print_diag_line(FILE *f, const json_t *d)
{
    const char *msg = json_string_value(json_object_get(d, "message"));
    fprintf(f, "plumb: maas: %s: %s: %s: ", json_string_value(json_object_get(d, "severity")),
            json_string_value(json_object_get(d, "object")),
            json_string_value(json_object_get(d, "rule")));
    for (const char *p = msg ? msg : ""; *p; p++)
        fputc(*p == '\n' ? ' ' : *p, f);
    fputc('\n', f);
}

/*
 * The kustomize generator `apiVersion: plumb.dev/v1alpha1, kind: MaaSRender` (render.h's
 * pl_render_opts.generator): the MaaS renderer over the resources accumulated so far, the
 * config's §0.3 keys as configuration. Diagnostics are data, not a render failure (§0.1):
 * errors and warnings are printed to stderr. baseRevision is not available here (the
 * generator sees one build, not its parent revision), so the rules that need it are skipped.
 */
int pl_cli_maas_generator(json_t **out, const json_t *config, const json_t *accumulated,
                          void *payload)
{
    const char *kind = pl_json_str(config, "kind", NULL);
    json_t *objs = NULL, *diags = NULL, *d;
    size_t i;
    int error;

    (void)payload;
    *out = NULL;
    if (!kind || strcmp(kind, "MaaSRender"))
        return pl_error_set(PL_EINVALID,
                            "generator %s (apiVersion plumb.dev/v1alpha1) is unknown: plumb "
                            "provides MaaSRender",
                            kind ? kind : "without kind");
    if ((error = pl_maas_run(&objs, &diags, accumulated, NULL, config)) < 0) {
        pl_error_prefix("MaaSRender/%s", pl_json_str(config, "metadata", "name", NULL)
                                              ? pl_json_str(config, "metadata", "name", NULL)
                                              : "");
        return error;
    }
    json_array_foreach(diags, i, d) {
        const char *sev = json_string_value(json_object_get(d, "severity"));
        if (sev && strcmp(sev, "info"))
            print_diag_line(stderr, d);
    }
    json_decref(diags);
    *out = objs;
    return 0;
}

/* Parse DIR/maas-render.yaml (NULL when absent or empty). */
static int load_config(json_t **out, pl_fs *fs, const char *dir)
{
    pl_buf text = PL_BUF_INIT;
    json_t *docs = NULL;
    int error = 0;

    *out = NULL;
    for (size_t i = 0; i < sizeof(config_names) / sizeof(config_names[0]); i++) {
        char *path = pl_path_join(dir, config_names[i]);
        if (!path)
            return pl_error_set(PL_ENOMEM, "out of memory");
        if (pl_fs_kind_of(fs, path) != PL_FS_FILE) {
            pl_free(path);
            continue;
        }
        if ((error = pl_fs_read(fs, path, &text)) == 0 &&
            (error = pl_yaml_parse(&docs, text.ptr ? text.ptr : "", text.len, path, NULL)) == 0)
            *out = json_incref(json_array_get(docs, 0));
        pl_free(path);
        break;
    }
    json_decref(docs);
    pl_buf_dispose(&text);
    return error;
}

/* The objects of a directory: its kustomization, else its manifests minus maas-render.yaml. */
static int render_inputs(json_t **out, pl_fs *fs, const char *path)
{
    pl_render_opts opts = PL_RENDER_OPTS_INIT;
    pl_plain_opts popts = PL_PLAIN_OPTS_INIT;

    popts.exclude = "{maas-render.yaml,maas-render.yml}";
    return pl_cli_render_tree(out, fs, path, &opts, &popts, 0);
}

static int write_all(FILE *f, const pl_buf *b)
{
    return b->len && fwrite(b->ptr, 1, b->len, f) != b->len ? -1 : 0;
}

static int cmd_render(int argc, char **argv)
{
    const char *dir = NULL, *base_arg = NULL, *diag_file = NULL;
    char abspath[PATH_MAX];
    pl_fs *fs = NULL;
    json_t *config = NULL, *objects = NULL, *base = NULL, *out = NULL, *diags = NULL;
    json_t *doc = NULL, *d;
    pl_buf text = PL_BUF_INIT, dtext = PL_BUF_INIT;
    char *base_path = NULL;
    size_t i;
    int error = 0, rc = 2, errors = 0;

    for (i = 1; i < (size_t)argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--base")) {
            if (i + 1 >= (size_t)argc)
                return render_usage_error("--base needs a directory");
            base_arg = argv[++i];
        } else if (!strcmp(a, "--diagnostics")) {
            if (i + 1 >= (size_t)argc)
                return render_usage_error("--diagnostics needs a file");
            diag_file = argv[++i];
        } else if (!strncmp(a, "--base=", 7)) {
            base_arg = a + 7;
        } else if (!strncmp(a, "--diagnostics=", 14)) {
            diag_file = a + 14;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "plumb: error: unknown flag %s\n", a);
            return 2;
        } else if (!dir) {
            dir = a;
        } else {
            return render_usage_error("only one DIR");
        }
    }
    if (!dir)
        return render_usage_error("DIR is required");
    if (!realpath(dir, abspath)) {
        fprintf(stderr, "plumb: error: %s: no such file or directory\n", dir);
        return 2;
    }
    if ((error = pl_fs_dir_new(&fs)) < 0)
        goto done;
    if (pl_fs_kind_of(fs, abspath) == PL_FS_DIR && (error = load_config(&config, fs, abspath)) < 0)
        goto done;
    if ((error = render_inputs(&objects, fs, abspath)) < 0)
        goto done;
    /* the parent revision: --base, else baseRevision (a directory relative to DIR) */
    if (base_arg) {
        char baseabs[PATH_MAX];
        if (!realpath(base_arg, baseabs)) {
            error = pl_error_set(PL_ENOTFOUND, "%s: no such file or directory", base_arg);
            goto done;
        }
        base_path = pl_strdup(baseabs);
    } else if (json_is_string(json_object_get(config, "baseRevision")) &&
               *json_string_value(json_object_get(config, "baseRevision"))) {
        const char *rev = json_string_value(json_object_get(config, "baseRevision"));
        base_path = pl_path_join(abspath, rev);
        if (base_path && pl_fs_kind_of(fs, base_path) != PL_FS_DIR) {
            fprintf(stderr,
                    "plumb: warning: baseRevision %s is not a directory beside %s; the rules "
                    "that need the parent revision are skipped (plumb lint --since reads Git "
                    "revisions)\n",
                    rev, dir);
            pl_free(base_path);
            base_path = NULL;
        }
    }
    if (base_path && (error = render_inputs(&base, fs, base_path)) < 0)
        goto done;
    if ((error = pl_maas_run(&out, &diags, objects, base, config)) < 0)
        goto done;
    if ((error = pl_yaml_emit_stream(&text, out)) < 0)
        goto done;
    json_array_foreach(diags, i, d) {
        const char *sev = json_string_value(json_object_get(d, "severity"));
        errors += sev && !strcmp(sev, "error");
    }
    if (!(doc = json_pack("{s:O}", "diagnostics", diags)) || (error = pl_yaml_emit(&dtext, doc)) < 0) {
        error = error < 0 ? error : pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if (write_all(stdout, &text) < 0 || fflush(stdout) != 0) {
        error = pl_error_set(PL_ERROR, "stdout: write failed");
        goto done;
    }
    if (diag_file) {
        FILE *f = fopen(diag_file, "wb");
        int bad = !f || write_all(f, &dtext) < 0;
        if (f && fclose(f) != 0)
            bad = 1;
        if (bad) {
            error = pl_error_set(PL_ERROR, "%s: cannot write", diag_file);
            goto done;
        }
    } else if (json_array_size(diags)) {
        write_all(stderr, &dtext);
    }
    rc = errors ? 1 : 0;
done:
    if (error < 0)
        pl_cli_print_error();
    json_decref(config);
    json_decref(objects);
    json_decref(base);
    json_decref(out);
    json_decref(diags);
    json_decref(doc);
    pl_buf_dispose(&text);
    pl_buf_dispose(&dtext);
    pl_free(base_path);
    pl_fs_free(fs);
    return rc;
}

int pl_cli_maas(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "render"))
        return cmd_render(argc - 1, argv + 1);
    if (!strcmp(argv[1], "migrate"))
        return pl_cli_maas_migrate(argc - 1, argv + 1);
    fprintf(stderr, "plumb: error: unknown maas command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
