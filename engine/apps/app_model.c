/*
 * app_model.c - reading an Argo CD Application (argoproj.io/v1alpha1) into pl_app.
 *
 * Field names and defaults follow Argo CD's types (pkg/apis/application/v1alpha1/types.go:
 * ApplicationSource, ApplicationSourceKustomize, ApplicationSourceDirectory,
 * ApplicationDestination, SyncPolicy, SyncPolicyAutomated, ResourceIgnoreDifferences) and the
 * sync options documented in Argo CD's "Sync Options" page. Unknown syncOptions are kept in
 * the raw list and otherwise ignored, as Argo CD ignores them.
 *
 * Also here: repository URL normalisation and the table of well-known cluster-scoped kinds
 * used to decide which objects receive destination.namespace.
 * Callers: app_tree.c, engine/sync.
 */
#include <stdlib.h>
#include <string.h>

#include "apps_int.h"
#include "plumb/apps.h"

int pl_app_is_application(const json_t *obj)
{
    const char *av = pl_json_str(obj, "apiVersion", NULL);
    const char *kind = pl_json_str(obj, "kind", NULL);
    return av && kind && !strcmp(kind, "Application") && !strncmp(av, "argoproj.io/", 12);
}

int pl_app_wave(long *out, const json_t *obj)
{
    const char *w = pl_json_str(obj, "metadata", "annotations", PL_APP_WAVE_ANNOTATION, NULL);
    char *end = NULL;
    long v;

    *out = 0;
    if (!w)
        return 0;
    /* Argo CD: strconv.Atoi of the trimmed value */
    while (*w == ' ')
        w++;
    if (!*w)
        return 0;
    v = strtol(w, &end, 10);
    while (end && *end == ' ')
        end++;
    if (!end || *end || end == w)
        return pl_error_set(PL_EINVALID, "%s: annotation %s: \"%s\" is not an integer",
                            pl_json_str(obj, "metadata", "name", NULL)
                                ? pl_json_str(obj, "metadata", "name", NULL)
                                : "object",
                            PL_APP_WAVE_ANNOTATION, w);
    *out = v;
    return 0;
}

/* ---- URL normalisation ------------------------------------------------------------------- */

char *pl_app_normalize_repo_url(const char *url)
{
    pl_buf b = PL_BUF_INIT;
    const char *p = url, *host, *at, *colon, *slash;
    size_t n;
    char *out;

    while (*p == ' ' || *p == '\t')
        p++;
    if (!strncmp(p, "git::", 5))
        p += 5;
    if (!strncmp(p, "file://", 7)) {
        pl_buf_puts(&b, "file://");
        pl_buf_puts(&b, p + 7);
    } else {
        const char *scheme = strstr(p, "://");
        if (scheme) {
            host = scheme + 3;
            slash = strchr(host, '/');
            at = strchr(host, '@');
            if (at && (!slash || at < slash))
                host = at + 1; /* drop user[:password]@ */
            slash = strchr(host, '/');
            n = slash ? (size_t)(slash - host) : strlen(host);
            /* drop a port only for ssh: ssh://git@host:22/org/repo names the same repository */
            colon = memchr(host, ':', n);
            if (colon && !strncmp(p, "ssh://", 6))
                n = (size_t)(colon - host);
            pl_buf_put(&b, host, n);
            pl_buf_puts(&b, slash ? slash : "/");
        } else if ((colon = strchr(p, ':')) != NULL &&
                   (!(slash = strchr(p, '/')) || colon < slash)) {
            /* scp form: [user@]host:org/repo */
            host = p;
            at = memchr(p, '@', (size_t)(colon - p));
            if (at)
                host = at + 1;
            pl_buf_put(&b, host, (size_t)(colon - host));
            pl_buf_putc(&b, '/');
            pl_buf_puts(&b, colon[1] == '/' ? colon + 2 : colon + 1);
        } else {
            pl_buf_puts(&b, p);
        }
    }
    if (!b.ptr)
        return NULL;
    /* trailing whitespace, slashes and ".git" */
    for (;;) {
        if (b.len && (b.ptr[b.len - 1] == '/' || b.ptr[b.len - 1] == ' ' ||
                      b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == '\t')) {
            b.ptr[--b.len] = '\0';
        } else if (b.len > 4 && !strcmp(b.ptr + b.len - 4, ".git")) {
            b.len -= 4;
            b.ptr[b.len] = '\0';
        } else {
            break;
        }
    }
    for (size_t i = 0; i < b.len; i++)
        if (b.ptr[i] >= 'A' && b.ptr[i] <= 'Z')
            b.ptr[i] = (char)(b.ptr[i] - 'A' + 'a');
    out = pl_buf_detach(&b);
    return out;
}

/* ---- scope table --------------------------------------------------------------------------- */

/*
 * Well-known cluster-scoped kinds, by API group ("" = core). Offline there is no discovery;
 * this covers Kubernetes' built-in cluster-scoped resources (kubectl api-resources
 * --namespaced=false on 1.33) and those of the operators the trees in clusters/ and
 * ../shared/realworld use (OLM, OpenShift config, NVIDIA, cert-manager, OpenShift AI, Kueue,
 * LWS). CRDs found in the tree extend it (app_tree.c).
 */
static const char *const cluster_kinds[][2] = {
    {"", "Namespace"},
    {"", "Node"},
    {"", "PersistentVolume"},
    {"", "ComponentStatus"},
    {"admissionregistration.k8s.io", "MutatingWebhookConfiguration"},
    {"admissionregistration.k8s.io", "ValidatingWebhookConfiguration"},
    {"admissionregistration.k8s.io", "ValidatingAdmissionPolicy"},
    {"admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"},
    {"admissionregistration.k8s.io", "MutatingAdmissionPolicy"},
    {"admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"},
    {"apiextensions.k8s.io", "CustomResourceDefinition"},
    {"apiregistration.k8s.io", "APIService"},
    {"authentication.k8s.io", "TokenReview"},
    {"authentication.k8s.io", "SelfSubjectReview"},
    {"authorization.k8s.io", "SelfSubjectAccessReview"},
    {"authorization.k8s.io", "SelfSubjectRulesReview"},
    {"authorization.k8s.io", "SubjectAccessReview"},
    {"certificates.k8s.io", "CertificateSigningRequest"},
    {"certificates.k8s.io", "ClusterTrustBundle"},
    {"flowcontrol.apiserver.k8s.io", "FlowSchema"},
    {"flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"},
    {"networking.k8s.io", "IngressClass"},
    {"networking.k8s.io", "IPAddress"},
    {"networking.k8s.io", "ServiceCIDR"},
    {"node.k8s.io", "RuntimeClass"},
    {"policy", "PodSecurityPolicy"},
    {"rbac.authorization.k8s.io", "ClusterRole"},
    {"rbac.authorization.k8s.io", "ClusterRoleBinding"},
    {"resource.k8s.io", "DeviceClass"},
    {"resource.k8s.io", "ResourceSlice"},
    {"scheduling.k8s.io", "PriorityClass"},
    {"storage.k8s.io", "CSIDriver"},
    {"storage.k8s.io", "CSINode"},
    {"storage.k8s.io", "StorageClass"},
    {"storage.k8s.io", "VolumeAttachment"},
    {"storage.k8s.io", "VolumeAttributesClass"},
    {"snapshot.storage.k8s.io", "VolumeSnapshotClass"},
    {"snapshot.storage.k8s.io", "VolumeSnapshotContent"},
    /* OLM */
    {"operators.coreos.com", "Operator"},
    {"packages.operators.coreos.com", "PackageManifest"},
    /* OpenShift */
    {"config.openshift.io", "*"},
    {"operator.openshift.io", "Authentication"},
    {"operator.openshift.io", "Console"},
    {"operator.openshift.io", "DNS"},
    {"operator.openshift.io", "Etcd"},
    {"operator.openshift.io", "KubeAPIServer"},
    {"operator.openshift.io", "Network"},
    {"operator.openshift.io", "OpenShiftAPIServer"},
    {"operator.openshift.io", "Storage"},
    {"user.openshift.io", "User"},
    {"user.openshift.io", "Group"},
    {"user.openshift.io", "Identity"},
    {"project.openshift.io", "Project"},
    {"project.openshift.io", "ProjectRequest"},
    {"security.openshift.io", "SecurityContextConstraints"},
    {"machineconfiguration.openshift.io", "MachineConfig"},
    {"machineconfiguration.openshift.io", "MachineConfigPool"},
    {"console.openshift.io", "ConsoleLink"},
    {"console.openshift.io", "ConsoleNotification"},
    {"console.openshift.io", "ConsolePlugin"},
    {"console.openshift.io", "ConsoleCLIDownload"},
    {"quota.openshift.io", "ClusterResourceQuota"},
    {"oauth.openshift.io", "OAuthClient"},
    {"imageregistry.operator.openshift.io", "Config"},
    /* operators */
    {"nvidia.com", "ClusterPolicy"},
    {"nvidia.com", "NVIDIADriver"},
    {"cert-manager.io", "ClusterIssuer"},
    {"datasciencecluster.opendatahub.io", "DataScienceCluster"},
    {"dscinitialization.opendatahub.io", "DSCInitialization"},
    {"kueue.x-k8s.io", "ClusterQueue"},
    {"kueue.x-k8s.io", "ResourceFlavor"},
    {"kueue.x-k8s.io", "Cohort"},
    {"kueue.x-k8s.io", "AdmissionCheck"},
    {"kueue.x-k8s.io", "WorkloadPriorityClass"},
    {"kueue.openshift.io", "Kueue"},
    {"operator.openshift.io", "LeaderWorkerSetOperator"},
    {"nfd.openshift.io", "NodeFeatureRule"},
    {"nfd.k8s-sigs.io", "NodeFeatureRule"},
};

int pl_app_kind_is_cluster_scoped(const char *api_version, const char *kind)
{
    const char *slash;
    size_t glen;

    if (!kind)
        return 0;
    if (!api_version)
        api_version = "";
    slash = strchr(api_version, '/');
    glen = slash ? (size_t)(slash - api_version) : 0;
    for (size_t i = 0; i < sizeof(cluster_kinds) / sizeof(cluster_kinds[0]); i++) {
        const char *g = cluster_kinds[i][0], *k = cluster_kinds[i][1];
        if (strlen(g) != glen || strncmp(g, api_version, glen))
            continue;
        if (!strcmp(k, "*") || !strcmp(k, kind))
            return 1;
    }
    return 0;
}

/* ---- Application parsing ------------------------------------------------------------------- */

static char *dup_or_empty(const char *s)
{
    return pl_strdup(s ? s : "");
}

static char *dup_or_null(const char *s)
{
    return s ? pl_strdup(s) : NULL;
}

/* "Name=value" sync option: the value when `opt` names `name`, else NULL */
static const char *option_value(const char *opt, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(opt, name, n) || opt[n] != '=')
        return NULL;
    return opt + n + 1;
}

static json_t *copy_json(const json_t *v, int (*ok)(const json_t *))
{
    if (!v || json_is_null(v) || !ok(v))
        return NULL;
    return json_deep_copy(v);
}

static int is_array(const json_t *v)
{
    return json_is_array(v);
}

static int is_object(const json_t *v)
{
    return json_is_object(v);
}

void pl_app_dispose(pl_app *app)
{
    if (!app)
        return;
    pl_free(app->name);
    pl_free(app->app_namespace);
    pl_free((void *)app->children);
    json_decref(app->application);
    pl_free(app->repo_url);
    pl_free(app->target_revision);
    pl_free(app->source_path);
    pl_free(app->kustomize.name_prefix);
    pl_free(app->kustomize.name_suffix);
    pl_free(app->kustomize.namespace);
    json_decref(app->kustomize.images);
    json_decref(app->kustomize.common_labels);
    json_decref(app->kustomize.common_annotations);
    json_decref(app->kustomize.replicas);
    json_decref(app->kustomize.patches);
    json_decref(app->kustomize.components);
    pl_free(app->directory.include);
    pl_free(app->directory.exclude);
    pl_free(app->dir);
    pl_free(app->dest_server);
    pl_free(app->dest_name);
    pl_free(app->dest_namespace);
    pl_free(app->context);
    pl_free(app->sync.prune_propagation_policy);
    json_decref(app->sync.options);
    json_decref(app->ignore_differences);
    json_decref(app->objects);
    pl_free(app->error);
    memset(app, 0, sizeof(*app));
}

static int parse_sync(pl_app *app, const json_t *spec)
{
    const json_t *policy = pl_json_path(spec, "syncPolicy", NULL);
    const json_t *automated = pl_json_path(policy, "automated", NULL);
    const json_t *opts = pl_json_path(policy, "syncOptions", NULL);
    size_t i;
    json_t *o;

    app->sync.validate = 1;
    /* `automated: {}` turns automation on; Argo CD 3 adds `enabled: false` to pause it */
    if (json_is_object(automated)) {
        app->sync.automated = !json_is_false(json_object_get(automated, "enabled"));
        app->sync.prune = json_is_true(json_object_get(automated, "prune"));
        app->sync.self_heal = json_is_true(json_object_get(automated, "selfHeal"));
        app->sync.allow_empty = json_is_true(json_object_get(automated, "allowEmpty"));
    }
    if (!(app->sync.options = json_is_array(opts) ? json_deep_copy(opts) : json_array()))
        return pl_error_set(PL_ENOMEM, "out of memory");
    json_array_foreach(opts, i, o)
    {
        const char *s = json_string_value(o), *v;
        if (!s)
            continue;
        if ((v = option_value(s, "CreateNamespace")))
            app->sync.create_namespace = !strcmp(v, "true");
        else if ((v = option_value(s, "ApplyOutOfSyncOnly")))
            app->sync.apply_out_of_sync_only = !strcmp(v, "true");
        else if ((v = option_value(s, "ServerSideApply")))
            app->sync.server_side_apply = !strcmp(v, "true");
        else if ((v = option_value(s, "PruneLast")))
            app->sync.prune_last = !strcmp(v, "true");
        else if ((v = option_value(s, "Replace")))
            app->sync.replace = !strcmp(v, "true");
        else if ((v = option_value(s, "RespectIgnoreDifferences")))
            app->sync.respect_ignore_differences = !strcmp(v, "true");
        else if ((v = option_value(s, "SkipDryRunOnMissingResource")))
            app->sync.skip_dry_run_on_missing_resource = !strcmp(v, "true");
        else if ((v = option_value(s, "Validate")))
            app->sync.validate = strcmp(v, "false") != 0;
        else if ((v = option_value(s, "PrunePropagationPolicy"))) {
            if (strcmp(v, "foreground") && strcmp(v, "background") && strcmp(v, "orphan"))
                return pl_error_set(PL_EINVALID,
                                    "application %s: syncOptions PrunePropagationPolicy=%s: "
                                    "expected foreground, background or orphan",
                                    app->name, v);
            pl_free(app->sync.prune_propagation_policy);
            if (!(app->sync.prune_propagation_policy = pl_strdup(v)))
                return pl_error_set(PL_ENOMEM, "out of memory");
        }
    }
    return 0;
}

static int parse_ignore(pl_app *app, const json_t *spec)
{
    const json_t *ign = pl_json_path(spec, "ignoreDifferences", NULL);
    size_t i;
    json_t *e;

    if (!(app->ignore_differences = json_array()))
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (!ign || json_is_null(ign))
        return 0;
    if (!json_is_array(ign))
        return pl_error_set(PL_EINVALID, "application %s: ignoreDifferences must be a list",
                            app->name);
    json_array_foreach(ign, i, e)
    {
        if (!json_is_object(e) || !json_is_string(json_object_get(e, "kind")))
            return pl_error_set(PL_EINVALID,
                                "application %s: ignoreDifferences[%zu] needs a kind", app->name,
                                i);
        json_array_append_new(app->ignore_differences, json_deep_copy(e));
    }
    return 0;
}

static int parse_kustomize(pl_app *app, const json_t *k)
{
    pl_app_kustomize *kz = &app->kustomize;
    if (!json_is_object(k))
        return 0;
    kz->set = 1;
    kz->name_prefix = dup_or_null(pl_json_str(k, "namePrefix", NULL));
    kz->name_suffix = dup_or_null(pl_json_str(k, "nameSuffix", NULL));
    kz->namespace = dup_or_null(pl_json_str(k, "namespace", NULL));
    kz->images = copy_json(json_object_get(k, "images"), is_array);
    kz->common_labels = copy_json(json_object_get(k, "commonLabels"), is_object);
    kz->common_annotations = copy_json(json_object_get(k, "commonAnnotations"), is_object);
    kz->replicas = copy_json(json_object_get(k, "replicas"), is_array);
    kz->patches = copy_json(json_object_get(k, "patches"), is_array);
    kz->components = copy_json(json_object_get(k, "components"), is_array);
    if (pl_json_str(k, "version", NULL) && *pl_json_str(k, "version", NULL))
        pl_log(PL_LOG_WARN, "apps", "application %s: source.kustomize.version is ignored",
               app->name);
    return 0;
}

int pl_app_parse(pl_app *app, const json_t *application)
{
    const json_t *spec = pl_json_path(application, "spec", NULL);
    const json_t *src = pl_json_path(spec, "source", NULL);
    const json_t *dir;
    const char *name = pl_json_str(application, "metadata", "name", NULL);
    int error;

    memset(app, 0, sizeof(*app));
    if (!name || !*name)
        return pl_error_set(PL_EINVALID, "application without metadata.name");
    if (!(app->name = pl_strdup(name)) ||
        !(app->app_namespace = dup_or_empty(pl_json_str(application, "metadata", "namespace",
                                                         NULL))) ||
        !(app->application = json_deep_copy(application)))
        return pl_error_set(PL_ENOMEM, "out of memory");
    if ((error = pl_app_wave(&app->wave, application)) < 0)
        return pl_error_prefix("application %s", name);
    if (json_is_array(pl_json_path(spec, "sources", NULL)) && !src)
        return pl_error_set(PL_EINVALID,
                            "application %s: multiple sources (spec.sources) are not supported",
                            name);
    if (!json_is_object(src))
        return pl_error_set(PL_EINVALID, "application %s: spec.source is missing", name);
    if (pl_json_str(src, "chart", NULL) || json_is_object(json_object_get(src, "helm")))
        return pl_error_set(PL_EINVALID, "application %s: Helm sources are not supported", name);
    if (json_is_object(json_object_get(src, "plugin")))
        return pl_error_set(PL_EINVALID,
                            "application %s: config management plugins are not supported", name);
    if (!(app->repo_url = dup_or_empty(pl_json_str(src, "repoURL", NULL))) ||
        !(app->target_revision = dup_or_empty(pl_json_str(src, "targetRevision", NULL))) ||
        !(app->source_path = dup_or_empty(pl_json_str(src, "path", NULL))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (!*app->repo_url)
        return pl_error_set(PL_EINVALID, "application %s: spec.source.repoURL is missing", name);
    if ((error = parse_kustomize(app, json_object_get(src, "kustomize"))) < 0)
        return error;
    dir = json_object_get(src, "directory");
    if (json_is_object(dir)) {
        app->directory.set = 1;
        app->directory.recurse = json_is_true(json_object_get(dir, "recurse"));
        app->directory.include = dup_or_null(pl_json_str(dir, "include", NULL));
        app->directory.exclude = dup_or_null(pl_json_str(dir, "exclude", NULL));
    }
    /* Argo CD's ExplicitType: exactly one of kustomize/directory decides the type */
    if (app->kustomize.set && app->directory.set)
        return pl_error_set(PL_EINVALID,
                            "application %s: source has both kustomize and directory", name);
    app->source_type = app->kustomize.set    ? PL_APP_SOURCE_KUSTOMIZE
                       : app->directory.set ? PL_APP_SOURCE_DIRECTORY
                                            : PL_APP_SOURCE_AUTO;
    if (!(app->dest_server = dup_or_empty(pl_json_str(spec, "destination", "server", NULL))) ||
        !(app->dest_name = dup_or_empty(pl_json_str(spec, "destination", "name", NULL))) ||
        !(app->dest_namespace =
              dup_or_empty(pl_json_str(spec, "destination", "namespace", NULL))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    app->in_cluster = !strcmp(app->dest_server, PL_APP_IN_CLUSTER) ||
                      !strcmp(app->dest_server, PL_APP_IN_CLUSTER "/") ||
                      !strcmp(app->dest_name, "in-cluster") ||
                      (!*app->dest_server && !*app->dest_name);
    if ((error = parse_sync(app, spec)) < 0 || (error = parse_ignore(app, spec)) < 0)
        return error;
    return 0;
}

int pl_app_cluster_context(const char **out, const pl_app *app)
{
    *out = NULL;
    if (app->in_cluster)
        return 0;
    if (app->context) {
        *out = app->context;
        return 0;
    }
    return pl_error_set(PL_ENOTFOUND,
                        "application %s: destination %s is not the target cluster and has no "
                        "--cluster URL=CONTEXT mapping",
                        app->name, *app->dest_server ? app->dest_server : app->dest_name);
}
