/* cli.h - subcommand entry points of engine/cli (argv[0] is the subcommand name). */
#ifndef PL_CLI_H
#define PL_CLI_H

#include <jansson.h>

int pl_cli_render(int argc, char **argv);
int pl_cli_lint(int argc, char **argv); /* `plumb lint PATH [--since REV] [-o text|json]` (cmd_lint.c) */
/* `plumb maas render|migrate ...` (cmd_maas.c). */
int pl_cli_maas(int argc, char **argv);
/* `plumb maas migrate ...`: argv[0] is "migrate" (cmd_maas_migrate.c). */
int pl_cli_maas_migrate(int argc, char **argv);
/*
 * The kustomize generator apiVersion plumb.dev/v1alpha1, kind MaaSRender: the MaaS renderer
 * over the accumulated resources (pl_render_opts.generator; cmd_maas.c). Reentrant.
 */
int pl_cli_maas_generator(json_t **out, const json_t *config, const json_t *accumulated,
                          void *payload);

/* Objects of the last successful render, left for exit() to reclaim (borrowed by no one). */
extern json_t *pl_cli__kept_objects;

/*
 * Render `path` the way every subcommand reads a tree: a kustomize build when it is a
 * directory holding a kustomization (or `force_kustomize`), plain manifests otherwise. Fills in
 * the remote-base fetcher and the MaaSRender generator when opts leaves them unset.
 * *out owned by the caller.
 */
struct pl_fs;
struct pl_render_opts;
struct pl_plain_opts;
int pl_cli_render_tree(json_t **out, struct pl_fs *fs, const char *path,
                       struct pl_render_opts *opts, const struct pl_plain_opts *popts,
                       int force_kustomize);

/** Print "plumb: error: <message>" for the current pl_error to stderr. */
void pl_cli_print_error(void);

#endif
