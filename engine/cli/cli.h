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

/*
 * The Kubernetes clients of one sync/diff run (clusters.c): the target cluster from
 * --kubeconfig/--context, plus one client per other destination context an app maps to with
 * --cluster URL=CONTEXT (same kubeconfig), created on first use.
 */
struct pl_kube;
struct pl_kube_config;
struct pl_kube_opts;
struct pl_app;
typedef struct pl_cli_clusters pl_cli_clusters;
/* Load the target cluster's configuration and client (strings and opts copied); *out owned
 * (pl_cli_clusters_free). Errors are configuration errors (the caller exits 2). */
int pl_cli_clusters_new(pl_cli_clusters **out, const char *kubeconfig, const char *context,
                        const struct pl_kube_opts *ko);
/* The target cluster's configuration (borrowed). */
const struct pl_kube_config *pl_cli_clusters_default_config(const pl_cli_clusters *cs);
/* The client and configuration for app's destination (both borrowed from cs); errors name the
 * app (an unmapped destination server, a context that does not load). */
int pl_cli_clusters_for(struct pl_kube **k, const struct pl_kube_config **cfg,
                        pl_cli_clusters *cs, const struct pl_app *app);
/* Wait up to wait_ms for replies on any client (returns early when one arrives). */
void pl_cli_clusters_wait(pl_cli_clusters *cs, int wait_ms);
/* The executor options an app's Application sets (name, destination namespace - else the
 * context's -, syncOptions, ignoreDifferences); the caller adds the command's own (prune,
 * dry run, observe, timeout). Strings are borrowed from app and cfg. */
struct pl_sync_app_opts;
void pl_cli_sync_opts_for(struct pl_sync_app_opts *so, const struct pl_app *app,
                          const struct pl_kube_config *cfg);
/* Step the executors (borrowed; NULL entries skipped) in turn until every one has finished,
 * waiting on the clients' sockets in between. */
struct pl_sync_app;
void pl_cli_clusters_run(pl_cli_clusters *cs, struct pl_sync_app *const *apps, size_t n);
void pl_cli_clusters_free(pl_cli_clusters *cs);
/* The objects an app applies: everything it renders except Applications (read, not applied).
 * A new array (owned by the caller) of references to app->objects' items (cmd_sync.c). */
json_t *pl_cli_applied_objects(const struct pl_app *app);

/** Print "plumb: error: <message>" for the current pl_error to stderr. */
void pl_cli_print_error(void);

#endif
