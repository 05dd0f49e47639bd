/*
 * clusters.c - the Kubernetes clients of one `plumb sync` or `plumb diff` run.
 *
 * The target cluster (--kubeconfig/--context) is loaded up front: a configuration error there
 * is a usage error (exit 2) before anything is sent. An app whose destination.server maps to
 * another kubeconfig context (--cluster URL=CONTEXT) gets a client for that context, created
 * on first use from the same kubeconfig and shared by every app with the same destination.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "plumb/apps.h"
#include "plumb/core.h"
#include "plumb/kube.h"
#include "plumb/sync.h"

#define MAX_CLIENTS 17

typedef struct client {
    char *context; /* NULL: the target cluster */
    pl_kube_config *cfg;
    pl_kube *k;
} client;

struct pl_cli_clusters {
    char *kubeconfig;
    pl_kube_opts ko;
    client c[MAX_CLIENTS];
    size_t n;
};

static int open_client(client *c, const pl_cli_clusters *cs, const char *context)
{
    pl_kube_config_opts co = PL_KUBE_CONFIG_OPTS_INIT;
    co.kubeconfig = cs->kubeconfig;
    co.context = context;
    if (pl_kube_config_load(&c->cfg, &co) < 0)
        return pl_error_last()->code;
    if (pl_kube_new(&c->k, c->cfg, &cs->ko) < 0) {
        pl_kube_config_free(c->cfg);
        c->cfg = NULL;
        return pl_error_last()->code;
    }
    return 0;
}

int pl_cli_clusters_new(pl_cli_clusters **out, const char *kubeconfig, const char *context,
                        const pl_kube_opts *ko)
{
    pl_cli_clusters *cs = pl_calloc(1, sizeof(*cs));
    int error;

    *out = NULL;
    if (!cs)
        return pl_error_set(PL_ENOMEM, "out of memory");
    cs->ko = *ko;
    if ((kubeconfig && !(cs->kubeconfig = pl_strdup(kubeconfig))) ||
        (context && !(cs->c[0].context = pl_strdup(context)))) {
        pl_cli_clusters_free(cs);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    if ((error = open_client(&cs->c[0], cs, context)) < 0) {
        pl_cli_clusters_free(cs);
        return error;
    }
    cs->n = 1;
    *out = cs;
    return 0;
}

const pl_kube_config *pl_cli_clusters_default_config(const pl_cli_clusters *cs)
{
    return cs->c[0].cfg;
}

int pl_cli_clusters_for(pl_kube **k, const pl_kube_config **cfg, pl_cli_clusters *cs,
                        const pl_app *app)
{
    const char *ctx = NULL;
    int error;

    *k = NULL;
    *cfg = NULL;
    if ((error = pl_app_cluster_context(&ctx, app)) < 0)
        return error;
    if (!ctx) {
        *k = cs->c[0].k;
        *cfg = cs->c[0].cfg;
        return 0;
    }
    for (size_t i = 1; i < cs->n; i++) {
        if (!strcmp(cs->c[i].context, ctx)) {
            *k = cs->c[i].k;
            *cfg = cs->c[i].cfg;
            return 0;
        }
    }
    if (cs->n == MAX_CLIENTS)
        return pl_error_set(PL_EINVALID, "app %s: more than %d destination clusters",
                            app->name, MAX_CLIENTS - 1);
    client *c = &cs->c[cs->n];
    if (!(c->context = pl_strdup(ctx)))
        return pl_error_set(PL_ENOMEM, "out of memory");
    if ((error = open_client(c, cs, ctx)) < 0) {
        pl_error_prefix("app %s: destination context %s", app->name, ctx);
        pl_free(c->context);
        c->context = NULL;
        return error;
    }
    cs->n++;
    *k = c->k;
    *cfg = c->cfg;
    return 0;
}

void pl_cli_clusters_wait(pl_cli_clusters *cs, int wait_ms)
{
    if (cs->n == 1) {
        pl_kube_wait(cs->c[0].k, wait_ms);
        return;
    }
    /* several clients: short turns each, so a reply on any of them is seen soon */
    for (int spent = 0; spent < wait_ms || spent == 0; spent += (int)cs->n)
        for (size_t i = 0; i < cs->n; i++)
            pl_kube_wait(cs->c[i].k, 1);
}

void pl_cli_sync_opts_for(pl_sync_app_opts *so, const pl_app *app, const pl_kube_config *cfg)
{
    pl_sync_app_opts init = PL_SYNC_APP_OPTS_INIT;

    *so = init;
    so->name = app->name;
    so->dest_namespace = app->dest_namespace[0] ? app->dest_namespace
                                                : pl_kube_config_namespace(cfg);
    so->allow_empty = app->sync.allow_empty;
    /* CreateNamespace=true creates the destination namespace, when the app names one */
    so->create_namespace = app->sync.create_namespace && app->dest_namespace[0];
    so->prune_last = app->sync.prune_last;
    so->app_options = (app->sync.replace ? PL_SOPT_REPLACE : 0) |
                      (app->sync.skip_dry_run_on_missing_resource ? PL_SOPT_SKIP_DRYRUN_MISSING
                                                                  : 0);
    so->prune_propagation = app->sync.prune_propagation_policy;
    so->ignore_differences = app->ignore_differences;
    so->respect_ignore_differences = app->sync.respect_ignore_differences;
}

void pl_cli_clusters_run(pl_cli_clusters *cs, struct pl_sync_app *const *apps, size_t n)
{
    for (;;) {
        int running = 0, wait = 1000;
        for (size_t i = 0; i < n; i++) {
            int w = 0;
            if (apps[i] && pl_sync_app_step(apps[i], &w)) {
                running = 1;
                if (w < wait)
                    wait = w;
            }
        }
        if (!running)
            return;
        if (wait > 0)
            pl_cli_clusters_wait(cs, wait);
    }
}

void pl_cli_clusters_free(pl_cli_clusters *cs)
{
    if (!cs)
        return;
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        pl_kube_free(cs->c[i].k);
        pl_kube_config_free(cs->c[i].cfg);
        pl_free(cs->c[i].context);
    }
    pl_free(cs->kubeconfig);
    pl_free(cs);
}
