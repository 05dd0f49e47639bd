/*
 * cmd_maas_migrate.c - `plumb maas migrate`: the tier-to-subscription migration (SPEC §4) as
 * files, one object per file, like the upstream scripts/migrate-tier-to-subscription.sh.
 *
 * Two ways to describe the tiers:
 *  - the script's flags (--tier, --models, --groups, --rate-limit, --window). The flags are
 *    turned into the legacy objects they stand for (a tier ConfigMap, a gateway
 *    TokenRateLimitPolicy, tier-annotated LLMInferenceServices) and run through the same
 *    pl_maas_migrate as `mode: migrate`, so both paths produce the same objects. Unlike the
 *    script, --tier may be repeated: each --tier starts a new tier and the flags after it
 *    describe that tier, so the whole worksheet of SPEC §4.4 is one command and a MaaSModelRef
 *    shared by several tiers is written once with all of them in original-tier;
 *  - --from DIR: a rendered tree (kustomization or plain manifests, plus an optional
 *    maas-render.yaml) holding the tier ConfigMap, the gateway limits and the annotated models;
 *    it runs pl_maas_run in mode migrate, so lint runs over input and output (§4.2 step 7).
 *
 * Malformed flags are one-line errors and exit 2, before anything is written. --apply exits 2:
 * plumb has no Kubernetes client yet.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "maas.h"
#include "plumb/core.h"
#include "plumb/fs.h"
#include "plumb/render.h"

#define DEFAULT_OUTPUT "migration-crs"
#define DEFAULT_WINDOW "1m"
#define DEFAULT_SUB_NS "models-as-a-service"
#define DEFAULT_MODEL_NS "llm"
#define DEFAULT_MAAS_NS "opendatahub"
#define LBL_GENERATED "migration.maas.opendatahub.io/generated"
#define LBL_FROM_TIER "migration.maas.opendatahub.io/from-tier"
#define ANN_ORIGINAL "migration.maas.opendatahub.io/original-tier"
#define MAX_TIERS 256

/* one --tier and the flags that describe it */
typedef struct tier_flags {
    const char *name;
    const char *models;
    const char *groups;
    const char *rate_limit;
    const char *window;
} tier_flags;

typedef struct migrate_opts {
    tier_flags tiers[MAX_TIERS];
    size_t ntiers;
    tier_flags loose; /* per-tier flags given before any --tier */
    const char *from;
    const char *output;
    const char *sub_ns;
    const char *model_ns;
    const char *maas_ns;
    int dry_run;
    int apply;
    int verbose;
} migrate_opts;

/* Release text from json_dumps with the allocator jansson was given (pl_alloc_set_hooks). */
static void jansson_free(void *p)
{
    json_free_t f = NULL;
    json_get_alloc_funcs(NULL, &f);
    if (p && f)
        f(p);
}

static void usage(FILE *f)
{
    fputs(
        "usage: plumb maas migrate --tier NAME --models LIST --rate-limit N [--groups LIST]\n"
        "                          [--window W] [--tier NAME ... for further tiers]\n"
        "       plumb maas migrate --from DIR [--tier NAME ...]\n"
        "\n"
        "Generate MaaSModelRef / MaaSAuthPolicy / MaaSSubscription objects from the legacy tier\n"
        "model, one file per object, labelled migration.maas.opendatahub.io/generated and\n"
        "migration.maas.opendatahub.io/from-tier.\n"
        "\n"
        "tier flags (each --tier starts a tier; the flags after it describe that tier):\n"
        "  --tier NAME             tier name (a DNS name of at most 63 characters)\n"
        "  --models LIST           comma-separated LLMInferenceService names, NAME or NS/NAME\n"
        "  --groups LIST           comma-separated group names (required: plumb cannot read\n"
        "                          the tier ConfigMap from a cluster; or use --from)\n"
        "  --rate-limit N          token limit, 1..1000000000\n"
        "  --window W              window, ^[1-9][0-9]{0,3}(s|m|h)$ (default 1m; no days: 24h)\n"
        "\n"
        "  --from DIR              read tiers, gateway limits and model annotations from a\n"
        "                          rendered tree (kustomization or manifests, maas-render.yaml);\n"
        "                          --tier then selects tiers to write\n"
        "  --output DIR            where to write the files (default migration-crs)\n"
        "  --subscription-ns NS    namespace of MaaSAuthPolicy/MaaSSubscription\n"
        "                          (default models-as-a-service)\n"
        "  --model-ns NS           namespace of models named without NS/ (default llm)\n"
        "  --maas-ns NS            namespace where maas-controller runs (default opendatahub)\n"
        "  --dry-run               write no files; print the objects with their file names\n"
        "  --apply                 not available: plumb has no Kubernetes client yet\n"
        "  --verbose               report each file and informational diagnostics\n"
        "  --help                  show this help\n",
        f);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("plumb: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see plumb maas migrate --help)\n", stderr);
    return 2;
}

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

/* ---- flag values ------------------------------------------------------------------------- */

/* Kubernetes DNS subdomain, at most `max` characters (the script's validate_resource_name) */
static int dns_name_ok(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (alnum)
            continue;
        if ((c != '-' && c != '.') || i == 0 || i == len - 1)
            return 0;
        if (c == '.' && (s[i - 1] == '.' || s[i - 1] == '-' || s[i + 1] == '-'))
            return 0;
    }
    return 1;
}

/* --rate-limit: decimal digits only, 1..10^9 (the CRD range, §2.4) */
static int parse_limit(long long *out, const char *s)
{
    long long v = 0;
    size_t i;

    for (i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9' || i >= 10)
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (i == 0 || v < 1 || v > 1000000000LL)
        return -1;
    *out = v;
    return 0;
}

static int check_window(const char *w)
{
    size_t len = strlen(w);

    if (pl_maas_window_valid(w))
        return 0;
    if (len >= 2 && w[len - 1] == 'd' && strspn(w, "0123456789") == len - 1)
        return usage_error("--window %s: subscriptions have no day windows; write hours "
                           "(1d = 24h)",
                           w);
    return usage_error("--window %s: not a subscription window, which must match "
                       "^[1-9][0-9]{0,3}(s|m|h)$, e.g. 1m, 60s, 24h",
                       w);
}

/* trimmed comma-separated entries; empty entries (a trailing comma) are skipped */
static int split_list(json_t **out, const char *list)
{
    json_t *arr = json_array();
    const char *p = list;

    if (!arr)
        return pl_error_set(PL_ENOMEM, "out of memory");
    while (*p) {
        const char *end = strchr(p, ',');
        const char *a = p, *b = end ? end : p + strlen(p);
        while (a < b && (*a == ' ' || *a == '\t' || *a == '\n'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\n'))
            b--;
        if (b > a && json_array_append_new(arr, json_stringn(a, (size_t)(b - a))) < 0) {
            json_decref(arr);
            return pl_error_set(PL_ENOMEM, "out of memory");
        }
        p = end ? end + 1 : b + strlen(b);
    }
    *out = arr;
    return 0;
}

/* ---- flags to legacy objects ---------------------------------------------------------------- */

/* index of model ns/name in `models` (array of {ns, name, tiers[]}), appending it if new */
static json_t *model_entry(json_t *models, const char *ns, const char *name)
{
    size_t i;
    json_t *m;

    json_array_foreach (models, i, m) {
        if (!strcmp(pl_json_str(m, "ns", NULL), ns) && !strcmp(pl_json_str(m, "name", NULL), name))
            return m;
    }
    m = json_pack("{s:s,s:s,s:[]}", "ns", ns, "name", name, "tiers");
    if (!m || json_array_append_new(models, m) < 0)
        return NULL;
    return m;
}

/*
 * The legacy objects the tier flags stand for: tier ConfigMap (tiers in flag order, level =
 * position), one gateway TokenRateLimitPolicy with a `<tier>-tokens` limit per tier, and an
 * LLMInferenceService per model annotated with the tiers that list it.
 */
static int flags_to_objects(json_t **out, const migrate_opts *o)
{
    json_t *objs = json_array(), *tiers = json_array(), *limits = json_object(),
           *models = json_array(), *m;
    char *tiers_text = NULL;
    int error = 0;
    size_t i;

    if (!objs || !tiers || !limits || !models)
        goto oom;
    for (size_t t = 0; t < o->ntiers; t++) {
        const tier_flags *tf = &o->tiers[t];
        json_t *groups = NULL, *names = NULL, *g;
        long long limit = 0;
        char key[128], pred[128];
        size_t j;

        if ((error = split_list(&groups, tf->groups)) < 0)
            goto done;
        if ((error = split_list(&names, tf->models)) < 0) {
            json_decref(groups);
            goto done;
        }
        parse_limit(&limit, tf->rate_limit);
        json_array_append_new(tiers, json_pack("{s:s,s:I,s:o}", "name", tf->name, "level",
                                               (json_int_t)t, "groups", groups));
        snprintf(key, sizeof(key), "%s-tokens", tf->name);
        snprintf(pred, sizeof(pred), "auth.identity.tier == \"%s\"", tf->name);
        json_object_set_new(limits, key,
                            json_pack("{s:[{s:I,s:s}],s:[{s:s}],s:[{s:s}]}", "rates", "limit",
                                      (json_int_t)limit, "window",
                                      tf->window ? tf->window : DEFAULT_WINDOW, "when", "predicate",
                                      pred, "counters", "expression", "auth.identity.userid"));
        json_array_foreach (names, j, g) {
            const char *s = json_string_value(g), *slash = strchr(s, '/');
            char ns[256];
            json_t *entry;
            if (slash)
                snprintf(ns, sizeof(ns), "%.*s", (int)(slash - s), s);
            else
                snprintf(ns, sizeof(ns), "%s", o->model_ns);
            entry = model_entry(models, ns, slash ? slash + 1 : s);
            if (!entry) {
                json_decref(names);
                goto oom;
            }
            json_array_append_new(json_object_get(entry, "tiers"), json_string(tf->name));
        }
        json_decref(names);
    }
    /* data.tiers is YAML text; JSON is YAML, and json_dumps quotes every name safely */
    tiers_text = json_dumps(tiers, JSON_COMPACT);
    if (!tiers_text)
        goto oom;
    json_array_append_new(objs,
                          json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s}}", "apiVersion", "v1", "kind",
                                    "ConfigMap", "metadata", "name", "tier-to-group-mapping",
                                    "namespace", "maas-api", "data", "tiers", tiers_text));
    json_array_append_new(
        objs, json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:{s:s,s:s,s:s},s:O}}", "apiVersion",
                        "kuadrant.io/v1alpha1", "kind", "TokenRateLimitPolicy", "metadata", "name",
                        "plumb-migrate-flags", "namespace", "openshift-ingress", "spec",
                        "targetRef", "group", "gateway.networking.k8s.io", "kind", "Gateway",
                        "name", "maas-default-gateway", "limits", limits));
    json_array_foreach (models, i, m) {
        char *ann = json_dumps(json_object_get(m, "tiers"), JSON_COMPACT);
        json_t *obj;
        if (!ann)
            goto oom;
        obj = json_pack("{s:s,s:s,s:{s:O,s:O,s:{s:s}}}", "apiVersion", "serving.kserve.io/v1alpha1",
                        "kind", "LLMInferenceService", "metadata", "name",
                        json_object_get(m, "name"), "namespace", json_object_get(m, "ns"),
                        "annotations", "alpha.maas.opendatahub.io/tiers", ann);
        jansson_free(ann); /* json_dumps allocates with jansson's allocator */
        if (!obj || json_array_append_new(objs, obj) < 0)
            goto oom;
    }
    *out = objs;
    objs = NULL;
    goto done;
oom:
    error = pl_error_set(PL_ENOMEM, "out of memory");
done:
    jansson_free(tiers_text);
    json_decref(objs);
    json_decref(tiers);
    json_decref(limits);
    json_decref(models);
    return error;
}

/* ---- --from DIR ------------------------------------------------------------------------------ */

static int render_tree(json_t **objs, json_t **config, const char *dir)
{
    char abspath[PATH_MAX];
    pl_fs *fs = NULL;
    pl_render_opts ropts = PL_RENDER_OPTS_INIT;
    pl_plain_opts popts = PL_PLAIN_OPTS_INIT;
    pl_buf text = PL_BUF_INIT;
    json_t *docs = NULL;
    char *cfgpath = NULL;
    int error = 0;

    *objs = NULL;
    *config = NULL;
    if (!realpath(dir, abspath))
        return pl_error_set(PL_ENOTFOUND, "--from %s: no such directory", dir);
    if ((error = pl_fs_dir_new(&fs)) < 0)
        return error;
    if (pl_fs_kind_of(fs, abspath) != PL_FS_DIR) {
        error = pl_error_set(PL_EINVALID, "--from %s: not a directory", dir);
        goto done;
    }
    /* maas-render.yaml beside the objects is the renderer's configuration, not an object */
    cfgpath = pl_path_join(abspath, "maas-render.yaml");
    if (!cfgpath) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if (pl_fs_kind_of(fs, cfgpath) == PL_FS_FILE) {
        if ((error = pl_fs_read(fs, cfgpath, &text)) < 0 ||
            (error = pl_yaml_parse(&docs, text.ptr ? text.ptr : "", text.len, cfgpath, NULL)) < 0)
            goto done;
        *config = json_incref(json_array_get(docs, 0));
        if ((error = pl_maas_cfg_check(*config)) < 0)
            goto done;
    }
    popts.exclude = "{maas-render.yaml,maas-render.yml}";
    error = pl_cli_render_tree(objs, fs, abspath, &ropts, &popts, 0);
done:
    if (error < 0) {
        json_decref(*config);
        *config = NULL;
    }
    json_decref(docs);
    pl_buf_dispose(&text);
    pl_free(cfgpath);
    pl_fs_free(fs);
    return error;
}

/* the tree's configuration with mode migrate and the namespace flag applied (owned) */
static json_t *migrate_config(const json_t *tree_config, const char *sub_ns)
{
    json_t *cfg = json_is_object(tree_config) ? json_deep_copy(tree_config) : json_object();

    if (!cfg)
        return NULL;
    json_object_set_new(cfg, "mode", json_string("migrate"));
    if (sub_ns)
        json_object_set_new(cfg, "subscriptionNamespace", json_string(sub_ns));
    return cfg;
}

/* --tier with --from: keep the objects generated for the selected tiers */
static int tier_selected(const json_t *obj, const migrate_opts *o)
{
    const char *orig = pl_json_str(obj, "metadata", "annotations", ANN_ORIGINAL, NULL);

    if (!o->ntiers)
        return 1;
    for (size_t t = 0; orig && t < o->ntiers; t++) {
        size_t n = strlen(o->tiers[t].name);
        for (const char *p = orig; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
            if (!strncmp(p, o->tiers[t].name, n) && (p[n] == ',' || p[n] == '\0'))
                return 1;
    }
    return 0;
}

/* ---- output files ------------------------------------------------------------------------------
 */

/* the script's file names: maasmodelref-<model>.yaml, maasauthpolicy-<tier>.yaml,
 * maassubscription-<tier>.yaml; a model name used in two namespaces gets the namespace too */
static char *file_name(const json_t *objs, const json_t *obj)
{
    const char *kind = pl_json_str(obj, "kind", NULL);
    const char *name = pl_json_str(obj, "metadata", "name", NULL);
    const char *ns = pl_json_str(obj, "metadata", "namespace", NULL);
    const char *tier = pl_json_str(obj, "metadata", "labels", LBL_FROM_TIER, NULL);
    pl_buf b = PL_BUF_INIT;

    if (!strcmp(kind, "MaaSModelRef")) {
        size_t i, same = 0;
        json_t *o;
        json_array_foreach (objs, i, o) {
            if (!strcmp(pl_json_str(o, "kind", NULL), kind) &&
                !strcmp(pl_json_str(o, "metadata", "name", NULL), name))
                same++;
        }
        if (same > 1)
            pl_buf_printf(&b, "maasmodelref-%s-%s.yaml", ns ? ns : "default", name);
        else
            pl_buf_printf(&b, "maasmodelref-%s.yaml", name);
    } else if (!strcmp(kind, "MaaSAuthPolicy")) {
        pl_buf_printf(&b, "maasauthpolicy-%s.yaml", tier ? tier : name);
    } else {
        pl_buf_printf(&b, "maassubscription-%s.yaml", tier ? tier : name);
    }
    return pl_buf_detach(&b);
}

static int mkdir_p(const char *dir)
{
    char path[PATH_MAX];
    size_t len = strlen(dir);

    if (len == 0 || len >= sizeof(path))
        return pl_error_set(PL_EINVALID, "--output %s: invalid directory", dir);
    memcpy(path, dir, len + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return pl_error_set(PL_ERROR, "%s: cannot create directory: %s", path, strerror(errno));
        *p = '/';
    }
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return pl_error_set(PL_ERROR, "%s: cannot create directory: %s", path, strerror(errno));
    return 0;
}

static int has_prefix(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

/*
 * Like the script, leave no stale manifest behind for `kubectl apply -f DIR`: files of an
 * earlier run (our names, carrying the generated label) that this run does not rewrite are
 * removed. Other files in the directory are left alone.
 */
static int remove_stale(const char *dir, const json_t *names, int verbose)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int error = 0;

    if (!d)
        return pl_error_set(PL_ERROR, "%s: cannot read directory: %s", dir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        size_t len = strlen(n);
        char path[PATH_MAX];
        FILE *f;
        char head[4096];
        size_t got;
        if (!(has_prefix(n, "maasmodelref-") || has_prefix(n, "maasauthpolicy-") ||
              has_prefix(n, "maassubscription-")) ||
            len < 5 || strcmp(n + len - 5, ".yaml") || json_object_get(names, n))
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, n) >= sizeof(path))
            continue;
        if (!(f = fopen(path, "rb")))
            continue;
        got = fread(head, 1, sizeof(head) - 1, f);
        fclose(f);
        head[got] = '\0';
        if (!strstr(head, LBL_GENERATED))
            continue;
        if (unlink(path) != 0) {
            error =
                pl_error_set(PL_ERROR, "%s: cannot remove stale file: %s", path, strerror(errno));
            break;
        }
        if (verbose)
            fprintf(stderr, "plumb: removed stale %s\n", path);
    }
    closedir(d);
    return error;
}

static int write_file(const char *path, const pl_buf *text)
{
    FILE *f = fopen(path, "wb");

    if (!f)
        return pl_error_set(PL_ERROR, "%s: cannot write: %s", path, strerror(errno));
    if (fwrite(text->ptr, 1, text->len, f) != text->len) {
        fclose(f);
        return pl_error_set(PL_ERROR, "%s: cannot write", path);
    }
    if (fclose(f) != 0)
        return pl_error_set(PL_ERROR, "%s: cannot write", path);
    return 0;
}

static int write_objects(const json_t *objs, const migrate_opts *o)
{
    json_t *names = json_object();
    size_t i;
    json_t *obj;
    int error = 0;

    if (!names)
        return pl_error_set(PL_ENOMEM, "out of memory");
    json_array_foreach (objs, i, obj) {
        char *n = file_name(objs, obj);
        if (!n || json_object_set_new(names, n, json_integer((json_int_t)i)) < 0)
            error = pl_error_set(PL_ENOMEM, "out of memory");
        pl_free(n);
        if (error < 0)
            goto done;
    }
    if (!o->dry_run && ((error = mkdir_p(o->output)) < 0 ||
                        (error = remove_stale(o->output, names, o->verbose)) < 0))
        goto done;
    json_array_foreach (objs, i, obj) {
        pl_buf text = PL_BUF_INIT, path = PL_BUF_INIT;
        char *n = file_name(objs, obj);
        if (!n) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
        pl_buf_printf(&path, "%s/%s", o->output, n);
        pl_free(n);
        if ((error = pl_yaml_emit(&text, obj)) == 0) {
            if (o->dry_run) {
                /* a valid YAML stream: each document headed by the file it would go to */
                printf("%s# %s\n%s", i ? "---\n" : "", path.ptr, text.ptr ? text.ptr : "");
            } else if ((error = write_file(path.ptr, &text)) == 0 && o->verbose) {
                fprintf(stderr, "plumb: wrote %s\n", path.ptr);
            }
        }
        pl_buf_dispose(&text);
        pl_buf_dispose(&path);
        if (error < 0)
            goto done;
    }
    if (o->dry_run)
        fprintf(stderr, "plumb: dry run: %zu objects, no file written\n", json_array_size(objs));
    else
        fprintf(stderr, "plumb: wrote %zu files to %s; apply them with: kubectl apply -f %s\n",
                json_array_size(objs), o->output, o->output);
done:
    json_decref(names);
    return error;
}

/* errors and warnings always, info with --verbose; returns 1 if any error */
static int print_diags(const json_t *diags, int verbose)
{
    size_t i;
    json_t *d;
    int errors = 0;

    json_array_foreach (diags, i, d) {
        const char *sev = pl_json_str(d, "severity", NULL);
        if (!sev)
            continue;
        if (!strcmp(sev, "error"))
            errors = 1;
        if (!strcmp(sev, "info") && !verbose)
            continue;
        fprintf(stderr, "%s: %s: %s: ", str_or_empty(pl_json_str(d, "object", NULL)),
                str_or_empty(pl_json_str(d, "rule", NULL)), sev);
        for (const char *p = str_or_empty(pl_json_str(d, "message", NULL)); *p; p++)
            fputc(*p == '\n' ? ' ' : *p, stderr);
        fputc('\n', stderr);
    }
    return errors;
}

/* ---- flags -------------------------------------------------------------------------------------
 */

/* `--flag value` or `--flag=value`; NULL when not this flag, "" sets *missing */
static const char *flag_value(int argc, char **argv, int *i, const char *flag, int *missing)
{
    size_t n = strlen(flag);
    const char *a = argv[*i];

    if (strncmp(a, flag, n))
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc || (argv[*i + 1][0] == '-' && argv[*i + 1][1] == '-')) {
        *missing = 1;
        return "";
    }
    return argv[++*i];
}

static int set_once(const char **slot, const char *value, const char *flag, const char *tier)
{
    if (*slot)
        return tier ? usage_error("%s given twice for tier %s", flag, tier)
                    : usage_error("%s given twice", flag);
    *slot = value;
    return 0;
}

static int parse_flags(migrate_opts *o, int argc, char **argv)
{
    static const char *const per_tier[] = {"--models", "--groups", "--rate-limit", "--window"};
    static const char *const global[] = {"--from", "--output", "--subscription-ns", "--model-ns",
                                         "--maas-ns"};

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int missing = 0, done = 0, rc;

        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return 1;
        if (!strcmp(a, "--dry-run")) {
            o->dry_run = 1;
            continue;
        }
        if (!strcmp(a, "--apply")) {
            o->apply = 1;
            continue;
        }
        if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            o->verbose = 1;
            continue;
        }
        if ((v = flag_value(argc, argv, &i, "--tier", &missing))) {
            if (missing || !*v)
                return usage_error("%s needs a value", "--tier");
            if (o->ntiers == MAX_TIERS)
                return usage_error("too many --tier flags (at most %s)", "256");
            for (size_t t = 0; t < o->ntiers; t++)
                if (!strcmp(o->tiers[t].name, v))
                    return usage_error("--tier %s given twice", v);
            o->tiers[o->ntiers++].name = v;
            continue;
        }
        for (size_t k = 0; !done && k < sizeof(per_tier) / sizeof(per_tier[0]); k++) {
            tier_flags *tf = o->ntiers ? &o->tiers[o->ntiers - 1] : &o->loose;
            const char **slot = k == 0   ? &tf->models
                                : k == 1 ? &tf->groups
                                : k == 2 ? &tf->rate_limit
                                         : &tf->window;
            if (!(v = flag_value(argc, argv, &i, per_tier[k], &missing)))
                continue;
            if (missing || !*v)
                return usage_error("%s needs a value", per_tier[k]);
            if ((rc = set_once(slot, v, per_tier[k], o->ntiers ? tf->name : NULL)) != 0)
                return rc;
            done = 1;
        }
        for (size_t k = 0; !done && k < sizeof(global) / sizeof(global[0]); k++) {
            const char **slot = k == 0   ? &o->from
                                : k == 1 ? &o->output
                                : k == 2 ? &o->sub_ns
                                : k == 3 ? &o->model_ns
                                         : &o->maas_ns;
            if (!(v = flag_value(argc, argv, &i, global[k], &missing)))
                continue;
            if (missing || !*v)
                return usage_error("%s needs a value", global[k]);
            if ((rc = set_once(slot, v, global[k], NULL)) != 0)
                return rc;
            done = 1;
        }
        if (done)
            continue;
        if (a[0] == '-')
            return usage_error("unknown flag %s", a);
        return usage_error("unexpected argument %s", a);
    }
    return 0;
}

/* per-tier flags before the first --tier belong to the only tier; with several, to none */
static int attach_loose(migrate_opts *o)
{
    const char **loose[] = {&o->loose.models, &o->loose.groups, &o->loose.rate_limit,
                            &o->loose.window};
    static const char *const names[] = {"--models", "--groups", "--rate-limit", "--window"};

    for (size_t k = 0; k < 4; k++) {
        tier_flags *tf = &o->tiers[0];
        const char **slot = k == 0   ? &tf->models
                            : k == 1 ? &tf->groups
                            : k == 2 ? &tf->rate_limit
                                     : &tf->window;
        if (!*loose[k])
            continue;
        if (o->from)
            return usage_error("%s cannot be combined with --from, which reads the tiers from "
                               "the tree",
                               names[k]);
        if (o->ntiers != 1)
            return usage_error("%s before the first --tier: with several tiers, give each tier's "
                               "flags after its --tier",
                               names[k]);
        if (*slot)
            return usage_error("%s given twice for tier %s", names[k], tf->name);
        *slot = *loose[k];
    }
    return 0;
}

static int validate(migrate_opts *o)
{
    int rc;

    if ((rc = attach_loose(o)) != 0)
        return rc;
    if (o->sub_ns && !dns_name_ok(o->sub_ns, strlen(o->sub_ns), 63))
        return usage_error("--subscription-ns %s: not a namespace name (lower-case DNS name of at "
                           "most 63 characters)",
                           o->sub_ns);
    if (o->model_ns && !dns_name_ok(o->model_ns, strlen(o->model_ns), 63))
        return usage_error("--model-ns %s: not a namespace name (lower-case DNS name of at most "
                           "63 characters)",
                           o->model_ns);
    if (o->maas_ns && !dns_name_ok(o->maas_ns, strlen(o->maas_ns), 63))
        return usage_error("--maas-ns %s: not a namespace name (lower-case DNS name of at most 63 "
                           "characters)",
                           o->maas_ns);
    if (o->from) {
        if (o->model_ns)
            return usage_error("--model-ns cannot be combined with --from: models keep their "
                               "namespaces from the tree");
        for (size_t t = 0; t < o->ntiers; t++) {
            tier_flags *tf = &o->tiers[t];
            const char *extra = tf->models       ? "--models"
                                : tf->groups     ? "--groups"
                                : tf->rate_limit ? "--rate-limit"
                                : tf->window     ? "--window"
                                                 : NULL;
            if (extra)
                return usage_error("%s cannot be combined with --from, which reads the tiers "
                                   "from the tree",
                                   extra);
        }
        return 0;
    }
    if (!o->model_ns)
        o->model_ns = DEFAULT_MODEL_NS;
    if (!o->ntiers)
        return usage_error("--tier is required (or --from DIR)");
    for (size_t t = 0; t < o->ntiers; t++) {
        tier_flags *tf = &o->tiers[t];
        json_t *list = NULL;
        long long limit;
        size_t i;
        json_t *e;

        /* the name goes into <tier>-models-subscription and the from-tier label */
        if (!dns_name_ok(tf->name, strlen(tf->name), 63))
            return usage_error("--tier %s: not a valid tier name (lower-case letters, digits, "
                               "'-' and '.', at most 63 characters)",
                               tf->name);
        if (!tf->models)
            return usage_error("--models is required for tier %s", tf->name);
        if (!tf->rate_limit)
            return usage_error("--rate-limit is required for tier %s", tf->name);
        if (!tf->groups)
            return usage_error("--groups is required for tier %s: plumb cannot read the "
                               "tier-to-group-mapping ConfigMap from a cluster (no Kubernetes "
                               "client yet); pass --groups, or --from DIR with the rendered "
                               "tree",
                               tf->name);
        if (parse_limit(&limit, tf->rate_limit) < 0)
            return usage_error("--rate-limit %s: must be a whole number from 1 to 1000000000 "
                               "(the MaaSSubscription limit range)",
                               tf->rate_limit);
        if (tf->window && (rc = check_window(tf->window)) != 0)
            return rc;
        if (split_list(&list, tf->models) < 0)
            return 1;
        if (json_array_size(list) == 0) {
            json_decref(list);
            return usage_error("--models for tier %s names no model", tf->name);
        }
        json_array_foreach (list, i, e) {
            const char *s = json_string_value(e), *slash = strchr(s, '/');
            const char *name = slash ? slash + 1 : s;
            if (!dns_name_ok(name, strlen(name), 63) ||
                (slash && (!dns_name_ok(s, (size_t)(slash - s), 63) || strchr(name, '/')))) {
                rc = usage_error("--models: \"%s\" is not a model name (NAME or NS/NAME, "
                                 "lower-case DNS names of at most 63 characters)",
                                 s);
                json_decref(list);
                return rc;
            }
        }
        json_decref(list);
        if (split_list(&list, tf->groups) < 0)
            return 1;
        if (json_array_size(list) == 0) {
            json_decref(list);
            return usage_error("--groups for tier %s names no group", tf->name);
        }
        json_array_foreach (list, i, e) {
            const char *s = json_string_value(e);
            /* quotes and backslashes break the CEL/OPA the controller builds (MAAS028) */
            if (json_string_length(e) > 253 || strpbrk(s, "\"\\")) {
                rc = usage_error("--groups: \"%s\" is not a usable group name (at most 253 "
                                 "characters, no quote or backslash)",
                                 s);
                json_decref(list);
                return rc;
            }
        }
        json_decref(list);
    }
    return 0;
}

int pl_cli_maas_migrate(int argc, char **argv)
{
    migrate_opts o;
    json_t *objs = NULL, *tree_cfg = NULL, *cfg = NULL, *out = NULL, *diags = NULL, *sel = NULL;
    int rc, error = 0, exit_code = 1, has_errors;

    memset(&o, 0, sizeof(o));
    if ((rc = parse_flags(&o, argc, argv)) != 0) {
        if (rc == 1) {
            usage(stdout);
            return 0;
        }
        return rc;
    }
    if (o.apply) {
        fprintf(stderr, "plumb: error: --apply is not available: plumb's own Kubernetes client "
                        "does not exist yet, so nothing was generated or applied; run without "
                        "--apply and apply the files with kubectl apply -f DIR\n");
        return 2;
    }
    if ((rc = validate(&o)) != 0)
        return rc;
    if (!o.output)
        o.output = DEFAULT_OUTPUT;
    if (!o.maas_ns)
        o.maas_ns = DEFAULT_MAAS_NS;

    if (o.from) {
        /* a tree that cannot be rendered is unusable input, like a malformed flag */
        if ((error = render_tree(&objs, &tree_cfg, o.from)) < 0) {
            exit_code = 2;
            goto done;
        }
        if (!(cfg = migrate_config(tree_cfg, o.sub_ns))) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
        if ((error = pl_maas_run(&out, &diags, objs, NULL, cfg)) < 0)
            goto done;
    } else {
        if ((error = flags_to_objects(&objs, &o)) < 0)
            goto done;
        cfg = json_pack("{s:s,s:s}", "mode", "migrate", "subscriptionNamespace",
                        o.sub_ns ? o.sub_ns : DEFAULT_SUB_NS);
        diags = json_array();
        if (!cfg || !diags) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
        if ((error = pl_maas_migrate(&out, diags, objs, cfg)) < 0)
            goto done;
    }
    /* --tier with --from writes the selected tiers only */
    if (!(sel = json_array())) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    {
        size_t i;
        json_t *obj;
        json_array_foreach (out, i, obj) {
            if (tier_selected(obj, &o))
                json_array_append(sel, obj);
        }
    }
    for (size_t t = 0; o.from && t < o.ntiers; t++) {
        migrate_opts one = o;
        size_t i, n = 0;
        json_t *obj;
        one.tiers[0] = o.tiers[t];
        one.ntiers = 1;
        json_array_foreach (sel, i, obj) {
            n += (size_t)tier_selected(obj, &one);
        }
        if (!n)
            fprintf(stderr,
                    "plumb: warning: tier %s: nothing generated (not a tier of %s, or it "
                    "grants no model)\n",
                    o.tiers[t].name, o.from);
    }
    if (o.verbose)
        fprintf(stderr, "plumb: %zu objects; maas-controller is expected in namespace %s\n",
                json_array_size(sel), o.maas_ns);
    has_errors = print_diags(diags, o.verbose);
    if ((error = write_objects(sel, &o)) < 0)
        goto done;
    exit_code = has_errors ? 1 : 0;
done:
    if (error < 0)
        pl_cli_print_error();
    json_decref(objs);
    json_decref(tree_cfg);
    json_decref(cfg);
    json_decref(out);
    json_decref(diags);
    json_decref(sel);
    return exit_code;
}
