/*
 * cmd_sync.c - `plumb sync PATH`: bring a cluster to the state of an App-of-Apps tree.
 *
 * The app tree (engine/apps) is rendered first, completely: an app whose render fails is
 * reported and never synced (so nothing of it is applied or pruned), and when the root itself
 * fails nothing at all is sent to the cluster. Apps then sync in the order their Application
 * sync waves give, nested as Argo CD nests them: a child Application's wave orders it among its
 * siblings, and a whole subtree finishes (synced and healthy) before the next sibling wave
 * starts. Apps that share a position run in parallel on one client, stepped in turn
 * (engine/sync never blocks on health).
 *
 * Exit codes: 0 every app synced and healthy; 1 anything failed; 2 usage or configuration.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "plumb/apps.h"
#include "plumb/core.h"
#include "plumb/fs.h"
#include "plumb/kube.h"
#include "plumb/render.h"
#include "plumb/sync.h"

#define MAX_CLUSTERS 16
#define MAX_ALIASES 32

typedef struct sync_run {
    const pl_app *app;
    long wavepath[16]; /* waves from the root's children down to this app */
    int depth;
    size_t order;      /* position in the tree (ties keep tree order) */
    pl_sync_app *exec;
    int skipped;       /* an earlier stage failed, or the render failed */
    char *skip_reason;
} sync_run;

static int usage_error(const char *msg)
{
    fprintf(stderr,
            "plumb: error: %s\nusage: plumb sync PATH [--kubeconfig F] [--context C] "
            "[--repo-alias URL=DIR] [--cluster URL=CONTEXT] [--app NAME] [--prune] "
            "[--prune-confirm] [--dry-run] [--timeout DUR] [--qps N] [--burst N] [-o text|json]\n",
            msg);
    return 2;
}

/* "90s", "5m", "1h", "500ms", or plain seconds; -1 when malformed */
static long parse_duration_ms(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0)
        return -1;
    if (!*end || !strcmp(end, "s"))
        return (long)(v * 1000);
    if (!strcmp(end, "ms"))
        return (long)v;
    if (!strcmp(end, "m"))
        return (long)(v * 60000);
    if (!strcmp(end, "h"))
        return (long)(v * 3600000);
    return -1;
}

static int run_cmp(const void *pa, const void *pb)
{
    const sync_run *a = pa, *b = pb;
    int n = a->depth < b->depth ? a->depth : b->depth;
    for (int i = 0; i < n; i++)
        if (a->wavepath[i] != b->wavepath[i])
            return a->wavepath[i] < b->wavepath[i] ? -1 : 1;
    /* a parent (shorter path) syncs its own objects before its subtree */
    if (a->depth != b->depth) {
        /* only when one path is a prefix of the other */
        return a->depth < b->depth ? -1 : 1;
    }
    return a->order < b->order ? -1 : a->order > b->order;
}

static int same_stage(const sync_run *a, const sync_run *b)
{
    if (a->depth != b->depth)
        return 0;
    for (int i = 0; i < a->depth; i++)
        if (a->wavepath[i] != b->wavepath[i])
            return 0;
    return 1;
}

json_t *pl_cli_applied_objects(const pl_app *app)
{
    json_t *out = json_array();
    size_t i;
    json_t *o;
    json_array_foreach(app->objects, i, o) {
        if (!pl_app_is_application(o))
            json_array_append(out, o);
    }
    return out;
}

static void print_text(FILE *f, sync_run *runs, size_t n)
{
    for (size_t r = 0; r < n; r++) {
        sync_run *s = &runs[r];
        const char *status;
        const char *err = NULL;
        if (s->skipped) {
            status = "skipped";
            err = s->skip_reason;
        } else if (!s->exec) {
            status = "failed";
        } else {
            status = pl_sync_app_ok(s->exec) ? "synced" : "failed";
            err = pl_sync_app_error(s->exec);
        }
        if (s->app->error) {
            status = "failed";
            err = s->app->error;
        }
        fprintf(f, "app %s: %s%s%s\n", s->app->name, status, err ? ": " : "", err ? err : "");
        if (!s->exec)
            continue;
        const pl_sync_item *items;
        size_t ni = pl_sync_app_items(s->exec, &items);
        for (size_t i = 0; i < ni; i++) {
            const pl_sync_item *it = &items[i];
            const char *health = it->health.status == PL_HEALTH_UNKNOWN
                                     ? ""
                                     : pl_health_name(it->health.status);
            fprintf(f, "  %-10s %s%s%s%s%s%s\n", pl_sync_action_name(it->action), it->id,
                    it->is_hook ? " (hook)" : "", health[0] ? " " : "", health,
                    it->reason ? ": " : "", it->reason ? it->reason : "");
        }
    }
}

static json_t *report_json(sync_run *runs, size_t n, size_t writes)
{
    json_t *apps = json_array();
    size_t counts[PL_ACT_FAILED + 1] = {0};
    for (size_t r = 0; r < n; r++) {
        sync_run *s = &runs[r];
        json_t *a = json_object();
        const char *status = s->skipped ? "Skipped"
                             : (!s->exec || s->app->error) ? "Failed"
                             : pl_sync_app_ok(s->exec)     ? "Synced"
                                                           : "Failed";
        const char *err = s->app->error ? s->app->error
                          : s->skipped  ? s->skip_reason
                          : s->exec     ? pl_sync_app_error(s->exec)
                                        : NULL;
        json_object_set_new(a, "name", json_string(s->app->name));
        json_object_set_new(a, "status", json_string(status));
        if (err)
            json_object_set_new(a, "error", json_string(err));
        json_t *objs = json_array();
        if (s->exec) {
            const pl_sync_item *items;
            size_t ni = pl_sync_app_items(s->exec, &items);
            for (size_t i = 0; i < ni; i++) {
                const pl_sync_item *it = &items[i];
                counts[it->action]++;
                json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:b}", "id", it->id,
                                      "apiVersion", it->api_version, "kind", it->kind,
                                      "namespace", it->ns, "name", it->name, "action",
                                      pl_sync_action_name(it->action), "wave", it->wave, "phase",
                                      it->phase == PL_PHASE_PRESYNC    ? "PreSync"
                                      : it->phase == PL_PHASE_POSTSYNC ? "PostSync"
                                      : it->phase == PL_PHASE_SYNCFAIL ? "SyncFail"
                                                                       : "Sync",
                                      "hook", it->is_hook);
                if (it->health.status != PL_HEALTH_UNKNOWN)
                    json_object_set_new(o, "health", json_string(pl_health_name(it->health.status)));
                if (it->reason)
                    json_object_set_new(o, "reason", json_string(it->reason));
                json_array_append_new(objs, o);
            }
        }
        json_object_set_new(a, "objects", objs);
        json_array_append_new(apps, a);
    }
    json_t *summary = json_object();
    for (int i = PL_ACT_CREATED; i <= PL_ACT_FAILED; i++)
        json_object_set_new(summary, pl_sync_action_name((pl_sync_action)i),
                            json_integer((json_int_t)counts[i]));
    return json_pack("{s:o,s:o,s:I}", "apps", apps, "summary", summary, "writes",
                     (json_int_t)writes);
}

/* A finished sync's executors and app tree, left for exit() (see the end of pl_cli_sync). */
static sync_run *kept_runs;
static size_t kept_nruns;
static pl_app_tree *kept_tree;

int pl_cli_sync(int argc, char **argv)
{
    const char *path = NULL, *kubeconfig = NULL, *context = NULL, *only_app = NULL;
    const char *output = "text";
    pl_app_mapping aliases[MAX_ALIASES], clusters[MAX_CLUSTERS];
    size_t naliases = 0, nclusters = 0;
    int prune = 0, prune_confirm = 0, dry_run = 0, exit_code = 1;
    long timeout_ms = 300000;
    double qps = 0;  /* no client-side limit by default: 64 requests in flight at most, and the
                        server's own flow control (429 + Retry-After) is honoured */
    long burst = 0;
    char abspath[PATH_MAX];
    pl_fs *fs = NULL;
    pl_app_tree *tree = NULL;
    pl_cli_clusters *clusters_c = NULL;
    sync_run *runs = NULL;
    size_t nruns = 0;
    char *alias_copies[MAX_ALIASES + MAX_CLUSTERS];
    size_t ncopies = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--prune"))
            prune = 1;
        else if (!strcmp(a, "--prune-confirm"))
            prune_confirm = 1;
        else if (!strcmp(a, "--dry-run"))
            dry_run = 1;
        else if ((!strcmp(a, "--kubeconfig") || !strcmp(a, "--context") || !strcmp(a, "--app") ||
                  !strcmp(a, "--timeout") || !strcmp(a, "-o") || !strcmp(a, "--output") ||
                  !strcmp(a, "--repo-alias") || !strcmp(a, "--cluster") || !strcmp(a, "--qps") ||
                  !strcmp(a, "--burst"))) {
            if (!val)
                return usage_error("missing value after an option");
            i++;
            if (!strcmp(a, "--kubeconfig"))
                kubeconfig = val;
            else if (!strcmp(a, "--context"))
                context = val;
            else if (!strcmp(a, "--app"))
                only_app = val;
            else if (!strcmp(a, "--qps") || !strcmp(a, "--burst")) {
                char *end;
                double v = strtod(val, &end);
                if (end == val || *end || v < 0)
                    return usage_error("--qps and --burst want a number >= 0");
                if (!strcmp(a, "--qps"))
                    qps = v;
                else
                    burst = (long)v;
            }
            else if (!strcmp(a, "--timeout")) {
                timeout_ms = parse_duration_ms(val);
                if (timeout_ms <= 0)
                    return usage_error("--timeout wants a duration such as 90s or 5m");
            } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
                if (strcmp(val, "text") && strcmp(val, "json"))
                    return usage_error("-o wants text or json");
                output = val;
            } else {
                int is_alias = !strcmp(a, "--repo-alias");
                char *owned = NULL;
                if (is_alias ? naliases >= MAX_ALIASES : nclusters >= MAX_CLUSTERS)
                    return usage_error("too many --repo-alias/--cluster options");
                if (pl_cli_apps_parse_mapping(is_alias ? &aliases[naliases] : &clusters[nclusters],
                                              &owned, argv[i], is_alias) < 0)
                    return usage_error(is_alias ? "--repo-alias wants URL=DIR"
                                                : "--cluster wants URL=CONTEXT");
                if (owned)
                    alias_copies[ncopies++] = owned;
                if (is_alias)
                    naliases++;
                else
                    nclusters++;
            }
        } else if (a[0] == '-' && a[1]) {
            char msg[256];
            snprintf(msg, sizeof(msg), "unknown option %s", a);
            return usage_error(msg);
        } else if (!path) {
            path = a;
        } else {
            return usage_error("more than one PATH");
        }
    }
    if (!path)
        return usage_error("missing PATH");
    if (!realpath(path, abspath)) {
        fprintf(stderr, "plumb: error: %s: no such file or directory\n", path);
        exit_code = 2;
        goto done;
    }

    /* 1. render everything before touching the cluster */
    if (pl_fs_dir_new(&fs) < 0) {
        pl_cli_print_error();
        goto done;
    }
    pl_app_tree_opts to = PL_APP_TREE_OPTS_INIT;
    to.render = pl_cli_app_render;
    to.repo_aliases = aliases;
    to.nrepo_aliases = naliases;
    to.clusters = clusters;
    to.nclusters = nclusters;
    if (pl_app_tree_build(&tree, fs, abspath, &to) < 0) {
        pl_cli_print_error();
        fprintf(stderr, "plumb: nothing was applied\n");
        goto done;
    }
    const pl_app *root = pl_app_tree_get(tree, 0);
    if (root && root->error) {
        fprintf(stderr, "plumb: error: %s\n", root->error);
        fprintf(stderr, "plumb: the root app failed to render: nothing was applied\n");
        goto done;
    }

    /* 2. the cluster */
    pl_kube_opts ko = PL_KUBE_OPTS_INIT;
    ko.qps = qps;
    ko.burst = burst > 0 ? (int)burst : (int)(qps * 2 > 1 ? qps * 2 : 1);
    if (pl_cli_clusters_new(&clusters_c, kubeconfig, context, &ko) < 0) {
        pl_cli_print_error();
        exit_code = 2;
        goto done;
    }

    /* 3. the order of apps */
    size_t napps = pl_app_tree_count(tree);
    runs = pl_calloc(napps + 1, sizeof(*runs));
    for (size_t i = 0; i < napps; i++) {
        const pl_app *app = pl_app_tree_get(tree, i);
        if (only_app && strcmp(app->name, only_app))
            continue;
        sync_run *s = &runs[nruns++];
        s->app = app;
        s->order = i;
        /* the wave path: this app's waves from the top, root excluded */
        long path_rev[16];
        int d = 0;
        for (const pl_app *p = app; p && p->parent && d < 16; p = p->parent)
            path_rev[d++] = p->wave;
        s->depth = d;
        for (int j = 0; j < d; j++)
            s->wavepath[j] = path_rev[d - 1 - j];
    }
    if (only_app && nruns == 0) {
        fprintf(stderr, "plumb: error: --app %s: no such app in %s\n", only_app, path);
        exit_code = 2;
        goto done;
    }
    qsort(runs, nruns, sizeof(*runs), run_cmp);

    /* 4. stage by stage */
    int stage_failed = 0;
    size_t total_writes = 0;
    int tty = isatty(STDERR_FILENO) && !strcmp(output, "text");
    for (size_t s0 = 0; s0 < nruns;) {
        size_t s1 = s0 + 1;
        while (s1 < nruns && same_stage(&runs[s0], &runs[s1]))
            s1++;
        for (size_t r = s0; r < s1; r++) {
            sync_run *s = &runs[r];
            if (stage_failed) {
                s->skipped = 1;
                s->skip_reason = pl_strdup("an earlier sync wave failed");
                continue;
            }
            if (s->app->error || !s->app->objects) {
                continue; /* reported as failed; never synced, never pruned */
            }
            pl_kube *k = NULL;
            const pl_kube_config *cfg = NULL;
            if (pl_cli_clusters_for(&k, &cfg, clusters_c, s->app) < 0) {
                s->skipped = 1;
                s->skip_reason = pl_strdup(pl_error_last()->message);
                continue;
            }
            pl_sync_app_opts so;
            pl_cli_sync_opts_for(&so, s->app, cfg);
            so.prune = prune || (s->app->sync.automated && s->app->sync.prune);
            so.prune_confirm = prune_confirm;
            so.dry_run = dry_run;
            so.wave_timeout_ms = timeout_ms;
            json_t *objs = pl_cli_applied_objects(s->app);
            /* the root of an App-of-Apps renders only Applications: nothing of its own */
            if (json_array_size(objs) == 0 && s->app->nchildren > 0)
                so.allow_empty = 1;
            if (pl_sync_app_new(&s->exec, k, objs, &so) < 0) {
                s->skipped = 1;
                s->skip_reason = pl_strdup(pl_error_last()->message);
            }
            json_decref(objs);
            if (tty && s->exec)
                fprintf(stderr, "plumb: syncing app %s...\n", s->app->name);
        }
        /* step the stage's apps in turn until all are done */
        {
            pl_sync_app **execs = pl_calloc(s1 - s0 + 1, sizeof(*execs));
            for (size_t r = s0; execs && r < s1; r++)
                execs[r - s0] = runs[r].exec;
            if (execs)
                pl_cli_clusters_run(clusters_c, execs, s1 - s0);
            else
                for (size_t r = s0; r < s1; r++) /* no memory: nothing of the stage ran */
                    if (runs[r].exec && !runs[r].skipped) {
                        runs[r].skipped = 1;
                        runs[r].skip_reason = pl_strdup("out of memory");
                    }
            pl_free(execs);
        }
        for (size_t r = s0; r < s1; r++) {
            sync_run *s = &runs[r];
            if (s->exec)
                total_writes += pl_sync_app_writes(s->exec);
            if (s->app->error || (s->exec && !pl_sync_app_ok(s->exec)) ||
                (!s->exec && !s->skipped && s->app->objects == NULL))
                stage_failed = 1;
            if (tty && s->exec)
                fprintf(stderr, "plumb: app %s %s\n", s->app->name,
                        pl_sync_app_ok(s->exec) ? "synced" : "failed");
        }
        s0 = s1;
    }

    /* 5. report */
    int all_ok = 1;
    for (size_t r = 0; r < nruns; r++) {
        sync_run *s = &runs[r];
        if (s->skipped || s->app->error || (s->exec && !pl_sync_app_ok(s->exec)))
            all_ok = 0;
    }
    if (!strcmp(output, "json")) {
        json_t *rep = report_json(runs, nruns, total_writes);
        char *text = json_dumps(rep, JSON_INDENT(2));
        printf("%s\n", text ? text : "{}");
        pl_free(text);
        json_decref(rep);
    } else {
        print_text(stdout, runs, nruns);
        printf("%s: %zu write request(s)%s\n", all_ok ? "synced" : "failed", total_writes,
               dry_run ? " (dry run: dry-run requests only)" : "");
    }
    exit_code = all_ok ? 0 : 1;
    /* the live objects of a large sync take as long to free as to decode: exit() reclaims
     * them (kept reachable, as pl_cli_render keeps its objects; PLUMB_FREE_ON_EXIT=1 frees
     * everything, for leak checks) */
    if (!getenv("PLUMB_FREE_ON_EXIT")) {
        kept_runs = runs;
        kept_nruns = nruns;
        kept_tree = tree;
        runs = NULL;
        nruns = 0;
        tree = NULL;
    }
done:
    for (size_t r = 0; r < nruns; r++) {
        pl_sync_app_free(runs[r].exec);
        pl_free(runs[r].skip_reason);
    }
    pl_free(runs);
    pl_cli_clusters_free(clusters_c);
    pl_app_tree_free(tree);
    pl_fs_free(fs);
    for (size_t i = 0; i < ncopies; i++)
        pl_free(alias_copies[i]);
    return exit_code;
}
