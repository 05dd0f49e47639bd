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

/* `plumb sandbox [--listen HOST:PORT] ...`: the Kubernetes API server on loopback (cmd_sandbox.c). */
int pl_cli_sandbox(int argc, char **argv);

/* `plumb sync PATH ...`: App-of-Apps sync into a cluster (cmd_sync.c). */
int pl_cli_sync(int argc, char **argv);
/* Render callback for engine/apps (cmd_render.c): plain manifests for directory sources,
 * kustomize or plain through pl_cli_render_tree otherwise. Matches pl_app_render_fn; `payload`
 * is a pl_render_opts (borrowed) or NULL; *out owned by the caller. */
struct pl_app_render_req;
int pl_cli_app_render(json_t **out, const struct pl_app_render_req *req, void *payload);

/* `plumb diff PATH [--from REV --to REV] [-o text|json|markdown]` (cmd_diff.c). */
int pl_cli_diff(int argc, char **argv);
/* Parse "URL=TARGET" (arg is modified) into *out; with is_dir the target is made real and
 * absolute into *owned (pl_free it). -1 when malformed (cmd_diff.c; render --apps uses it). */
struct pl_app_mapping;
int pl_cli_apps_parse_mapping(struct pl_app_mapping *out, char **owned, char *arg, int is_dir);

/** Print "plumb: error: <message>" for the current pl_error to stderr. */
void pl_cli_print_error(void);

#endif
