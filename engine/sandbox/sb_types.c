/*
 * sb_types.c - the resource type registry: the built-in types of API-NOTES §1.1 (plus the
 * issue's list) and the served versions of Established CRDs (API-NOTES §7.1).
 *
 * Thread safety: one rwlock guards the table. Lookups return borrowed pointers; a CRD type is
 * freed only by sb_types_remove_crd / re-registration, which callers serialise with the store
 * lock (sb.h).
 */
#include <ctype.h>
#include <string.h>

#include "sb.h"

/* ---- built-in table ------------------------------------------------------------------------ */

enum { N = SB_T_NAMESPACED, ST = SB_T_STATUS, SC = SB_T_SCALE, GEN = SB_T_GENERATION };

typedef struct builtin {
    const char *group, *version, *resource, *kind;
    unsigned flags;
    const char *short_names; /* comma-separated or NULL */
    const char *categories;  /* comma-separated or NULL */
    sb_name_rule rule;
    int max_len;
} builtin;

/*
 * Flags: status subresources and scale as served by kube-apiserver 1.33; generation per
 * API-NOTES §3.1 (spec-bearing workload types, Ingress/IngressClass/NetworkPolicy/PDB and the
 * webhook configurations whose registry strategies maintain it; Service assumed absent, §13.4).
 * Name rules per API-NOTES §3.4 (Namespace label, Service DNS-1035, RBAC path segments,
 * CronJob 52 characters).
 */
static const builtin BUILTINS[] = {
    /* core v1 */
    {"", "v1", "namespaces", "Namespace", ST | SB_T_NO_DELETECOLLECTION, "ns", NULL,
     SB_NAME_LABEL, 0},
    {"", "v1", "configmaps", "ConfigMap", N, "cm", NULL, SB_NAME_SUBDOMAIN, 0},
    {"", "v1", "secrets", "Secret", N, NULL, NULL, SB_NAME_SUBDOMAIN, 0},
    {"", "v1", "services", "Service", N | ST, "svc", "all", SB_NAME_DNS1035, 0},
    {"", "v1", "serviceaccounts", "ServiceAccount", N, "sa", NULL, SB_NAME_SUBDOMAIN, 0},
    {"", "v1", "endpoints", "Endpoints", N, "ep", NULL, SB_NAME_SUBDOMAIN, 0},
    {"", "v1", "pods", "Pod", N | ST, "po", "all", SB_NAME_SUBDOMAIN, 0},
    {"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", N | ST, "pvc", NULL,
     SB_NAME_SUBDOMAIN, 0},
    {"", "v1", "persistentvolumes", "PersistentVolume", ST, "pv", NULL, SB_NAME_SUBDOMAIN, 0},
    {"", "v1", "events", "Event", N, "ev", NULL, SB_NAME_SUBDOMAIN, 0},
    {"", "v1", "nodes", "Node", ST, "no", NULL, SB_NAME_SUBDOMAIN, 0},
    {"", "v1", "limitranges", "LimitRange", N, "limits", NULL, SB_NAME_SUBDOMAIN, 0},
    {"", "v1", "resourcequotas", "ResourceQuota", N | ST, "quota", NULL, SB_NAME_SUBDOMAIN, 0},
    /* apiregistration.k8s.io first among groups, as the aggregator lists it (API-NOTES §1.1) */
    {"apiregistration.k8s.io", "v1", "apiservices", "APIService", ST, NULL, "api-extensions",
     SB_NAME_SUBDOMAIN, 0},
    {"apps", "v1", "deployments", "Deployment", N | ST | SC | GEN, "deploy", "all",
     SB_NAME_SUBDOMAIN, 0},
    {"apps", "v1", "statefulsets", "StatefulSet", N | ST | SC | GEN, "sts", "all",
     SB_NAME_SUBDOMAIN, 0},
    {"apps", "v1", "daemonsets", "DaemonSet", N | ST | GEN, "ds", "all", SB_NAME_SUBDOMAIN, 0},
    {"apps", "v1", "replicasets", "ReplicaSet", N | ST | SC | GEN, "rs", "all",
     SB_NAME_SUBDOMAIN, 0},
    {"apps", "v1", "controllerrevisions", "ControllerRevision", N, NULL, NULL,
     SB_NAME_SUBDOMAIN, 0},
    {"autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", N | ST, "hpa",
     "all", SB_NAME_SUBDOMAIN, 0},
    {"batch", "v1", "jobs", "Job", N | ST | GEN, NULL, "all", SB_NAME_SUBDOMAIN, 0},
    {"batch", "v1", "cronjobs", "CronJob", N | ST | GEN, "cj", "all", SB_NAME_SUBDOMAIN, 52},
    {"networking.k8s.io", "v1", "ingresses", "Ingress", N | ST | GEN, "ing", NULL,
     SB_NAME_SUBDOMAIN, 0},
    {"networking.k8s.io", "v1", "ingressclasses", "IngressClass", GEN, NULL, NULL,
     SB_NAME_SUBDOMAIN, 0},
    {"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", N | GEN, "netpol", NULL,
     SB_NAME_SUBDOMAIN, 0},
    {"policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", N | ST | GEN, "pdb", NULL,
     SB_NAME_SUBDOMAIN, 0},
    {"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", 0, NULL,
     NULL, SB_NAME_PATHSEG, 0},
    {"rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", 0, NULL, NULL,
     SB_NAME_PATHSEG, 0},
    {"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", N, NULL, NULL,
     SB_NAME_PATHSEG, 0},
    {"rbac.authorization.k8s.io", "v1", "roles", "Role", N, NULL, NULL, SB_NAME_PATHSEG, 0},
    {"storage.k8s.io", "v1", "storageclasses", "StorageClass", 0, "sc", NULL,
     SB_NAME_SUBDOMAIN, 0},
    {"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
     "MutatingWebhookConfiguration", GEN, NULL, "api-extensions", SB_NAME_SUBDOMAIN, 0},
    {"admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
     "ValidatingWebhookConfiguration", GEN, NULL, "api-extensions", SB_NAME_SUBDOMAIN, 0},
    {"apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
     ST | GEN, "crd,crds", "api-extensions", SB_NAME_SUBDOMAIN, 0},
    {"scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", 0, "pc", NULL,
     SB_NAME_SUBDOMAIN, 0},
    {"coordination.k8s.io", "v1", "leases", "Lease", N, NULL, NULL, SB_NAME_SUBDOMAIN, 0},
    {"discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", N, NULL, NULL,
     SB_NAME_SUBDOMAIN, 0},
};

struct sb_types {
    pthread_rwlock_t lock;
    sb_type **items; /* built-ins first (nbuiltin), then CRD types */
    size_t n, cap, nbuiltin;
};

/* ---- helpers ------------------------------------------------------------------------------- */

static char **split_list(const char *csv)
{
    if (csv == NULL || csv[0] == '\0')
        return NULL;
    size_t n = 1;
    for (const char *p = csv; *p; p++)
        n += (*p == ',');
    char **out = pl_calloc(n + 1, sizeof(char *));
    if (out == NULL)
        return NULL;
    size_t i = 0;
    const char *start = csv;
    for (const char *p = csv;; p++) {
        if (*p == ',' || *p == '\0') {
            out[i++] = pl_strndup(start, (size_t)(p - start));
            if (*p == '\0')
                break;
            start = p + 1;
        }
    }
    return out;
}

static char **json_str_list(const json_t *arr)
{
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return NULL;
    char **out = pl_calloc(json_array_size(arr) + 1, sizeof(char *));
    if (out == NULL)
        return NULL;
    size_t j = 0, i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (json_is_string(v))
            out[j++] = pl_strdup(json_string_value(v));
    }
    return out;
}

static void free_list(char **l)
{
    if (l == NULL)
        return;
    for (char **p = l; *p; p++)
        pl_free(*p);
    pl_free(l);
}

static char *lower_dup(const char *s)
{
    char *d = pl_strdup(s);
    if (d != NULL) {
        for (char *p = d; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    return d;
}

static char *cat_dup(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *d = pl_malloc(la + lb + 1);
    if (d != NULL) {
        memcpy(d, a, la);
        memcpy(d + la, b, lb + 1);
    }
    return d;
}

static void type_free(sb_type *ty)
{
    if (ty == NULL)
        return;
    pl_free(ty->group);
    pl_free(ty->version);
    pl_free(ty->resource);
    pl_free(ty->singular);
    pl_free(ty->kind);
    pl_free(ty->list_kind);
    free_list(ty->short_names);
    free_list(ty->categories);
    if (ty->schema != NULL)
        sb_schema_free(ty->schema);
    json_decref(ty->crd);
    pl_free(ty);
}

static int push(sb_types *t, sb_type *ty)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        sb_type **items = pl_realloc(t->items, cap * sizeof(*items));
        if (items == NULL)
            return pl_error_set(PL_ENOMEM, "out of memory registering type %s", ty->resource);
        t->items = items;
        t->cap = cap;
    }
    t->items[t->n++] = ty;
    return 0;
}

static int streq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

sb_types *sb_types_new(void)
{
    sb_types *t = pl_calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    pthread_rwlock_init(&t->lock, NULL);
    for (size_t i = 0; i < sizeof(BUILTINS) / sizeof(BUILTINS[0]); i++) {
        const builtin *b = &BUILTINS[i];
        sb_type *ty = pl_calloc(1, sizeof(*ty));
        if (ty == NULL)
            goto fail;
        ty->group = pl_strdup(b->group);
        ty->version = pl_strdup(b->version);
        ty->resource = pl_strdup(b->resource);
        ty->singular = lower_dup(b->kind);
        ty->kind = pl_strdup(b->kind);
        ty->list_kind = cat_dup(b->kind, "List");
        ty->short_names = split_list(b->short_names);
        ty->categories = split_list(b->categories);
        ty->flags = b->flags;
        ty->name_rule = b->rule;
        ty->max_name_len = b->max_len;
        ty->schema = sb_schema_builtin(b->group, b->kind); /* NULL tolerated */
        pl_error_clear();
        if (ty->group == NULL || ty->version == NULL || ty->resource == NULL ||
            ty->singular == NULL || ty->kind == NULL || ty->list_kind == NULL ||
            push(t, ty) != 0) {
            type_free(ty);
            goto fail;
        }
    }
    t->nbuiltin = t->n;
    return t;
fail:
    sb_types_free(t);
    return NULL;
}

void sb_types_free(sb_types *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        type_free(t->items[i]);
    pl_free(t->items);
    pthread_rwlock_destroy(&t->lock);
    pl_free(t);
}

/* ---- lookups ------------------------------------------------------------------------------- */

const sb_type *sb_types_by_resource(sb_types *t, const char *group, const char *version,
                                    const char *resource)
{
    const sb_type *found = NULL;
    pthread_rwlock_rdlock(&t->lock);
    for (size_t i = 0; i < t->n && found == NULL; i++) {
        const sb_type *ty = t->items[i];
        if (streq(ty->group, group) && streq(ty->version, version) &&
            streq(ty->resource, resource))
            found = ty;
    }
    pthread_rwlock_unlock(&t->lock);
    return found;
}

const sb_type *sb_types_by_kind(sb_types *t, const char *group, const char *version,
                                const char *kind)
{
    const sb_type *found = NULL;
    pthread_rwlock_rdlock(&t->lock);
    for (size_t i = 0; i < t->n && found == NULL; i++) {
        const sb_type *ty = t->items[i];
        if (streq(ty->group, group) && streq(ty->version, version) && streq(ty->kind, kind))
            found = ty;
    }
    pthread_rwlock_unlock(&t->lock);
    return found;
}

int sb_types_serves(sb_types *t, const char *group, const char *version)
{
    int yes = 0;
    pthread_rwlock_rdlock(&t->lock);
    for (size_t i = 0; i < t->n && !yes; i++) {
        if (streq(t->items[i]->group, group) && streq(t->items[i]->version, version))
            yes = 1;
    }
    pthread_rwlock_unlock(&t->lock);
    return yes;
}

int sb_types_group_is_builtin(sb_types *t, const char *group)
{
    int yes = 0;
    pthread_rwlock_rdlock(&t->lock);
    for (size_t i = 0; i < t->nbuiltin && !yes; i++) {
        if (streq(t->items[i]->group, group))
            yes = 1;
    }
    pthread_rwlock_unlock(&t->lock);
    return yes;
}

void sb_types_each(sb_types *t, void (*fn)(const sb_type *ty, void *ctx), void *ctx)
{
    pthread_rwlock_rdlock(&t->lock);
    for (size_t i = 0; i < t->n; i++)
        fn(t->items[i], ctx);
    pthread_rwlock_unlock(&t->lock);
}

/* ---- CRDs (API-NOTES §7) ------------------------------------------------------------------- */

static int crd_name_matches(const sb_type *ty, const char *crd_name)
{
    if (ty->crd == NULL)
        return 0;
    const char *n = pl_json_str(ty->crd, "metadata", "name", NULL);
    return n != NULL && strcmp(n, crd_name) == 0;
}

/* Remove every type of CRD `crd_name`; caller holds the write lock. */
static void remove_locked(sb_types *t, const char *crd_name)
{
    size_t j = t->nbuiltin;
    for (size_t i = t->nbuiltin; i < t->n; i++) {
        if (crd_name_matches(t->items[i], crd_name))
            type_free(t->items[i]);
        else
            t->items[j++] = t->items[i];
    }
    t->n = j;
}

int sb_types_add_crd(sb_types *t, const json_t *crd)
{
    int rc = 0;
    sb_type **made = NULL;
    size_t nmade = 0;
    const char *name = pl_json_str(crd, "metadata", "name", NULL);
    const json_t *spec = json_object_get(crd, "spec");
    const char *group = pl_json_str(spec, "group", NULL);
    const char *plural = pl_json_str(spec, "names", "plural", NULL);
    const char *kind = pl_json_str(spec, "names", "kind", NULL);
    const char *singular = pl_json_str(spec, "names", "singular", NULL);
    const char *list_kind = pl_json_str(spec, "names", "listKind", NULL);
    const char *scope = pl_json_str(spec, "scope", NULL);
    const json_t *versions = json_object_get(spec, "versions");

    if (name == NULL || group == NULL || plural == NULL || kind == NULL ||
        !json_is_array(versions))
        return pl_error_set(PL_EINVALID, "customresourcedefinition %s: incomplete spec",
                            name ? name : "(unnamed)");
    made = pl_calloc(json_array_size(versions) + 1, sizeof(*made));
    if (made == NULL)
        return pl_error_set(PL_ENOMEM, "out of memory registering %s", name);

    size_t i;
    json_t *v;
    json_array_foreach(versions, i, v) {
        const char *vname = pl_json_str(v, "name", NULL);
        if (vname == NULL || !json_is_true(json_object_get(v, "served")))
            continue;
        sb_type *ty = pl_calloc(1, sizeof(*ty));
        if (ty == NULL) {
            rc = pl_error_set(PL_ENOMEM, "out of memory registering %s", name);
            goto done;
        }
        made[nmade++] = ty;
        ty->group = pl_strdup(group);
        ty->version = pl_strdup(vname);
        ty->resource = pl_strdup(plural);
        ty->singular = (singular && singular[0]) ? pl_strdup(singular) : lower_dup(kind);
        ty->kind = pl_strdup(kind);
        ty->list_kind = (list_kind && list_kind[0]) ? pl_strdup(list_kind) : cat_dup(kind, "List");
        ty->short_names = json_str_list(pl_json_path(spec, "names", "shortNames", NULL));
        ty->categories = json_str_list(pl_json_path(spec, "names", "categories", NULL));
        ty->flags = SB_T_GENERATION | SB_T_CUSTOM;
        if (scope == NULL || strcmp(scope, "Cluster") != 0)
            ty->flags |= SB_T_NAMESPACED;
        if (json_is_object(pl_json_path(v, "subresources", "status", NULL)))
            ty->flags |= SB_T_STATUS;
        if (json_is_object(pl_json_path(v, "subresources", "scale", NULL)))
            ty->flags |= SB_T_SCALE;
        ty->name_rule = SB_NAME_SUBDOMAIN;
        const json_t *schema = pl_json_path(v, "schema", "openAPIV3Schema", NULL);
        if (schema != NULL) {
            ty->schema = sb_schema_from_openapi(schema); /* NULL tolerated (not structural) */
            pl_error_clear();
        }
        ty->crd = json_deep_copy(crd);
        if (ty->group == NULL || ty->version == NULL || ty->resource == NULL ||
            ty->singular == NULL || ty->kind == NULL || ty->list_kind == NULL ||
            ty->crd == NULL) {
            rc = pl_error_set(PL_ENOMEM, "out of memory registering %s", name);
            goto done;
        }
    }

    pthread_rwlock_wrlock(&t->lock);
    remove_locked(t, name);
    for (i = 0; i < nmade && rc == 0; i++) {
        rc = push(t, made[i]);
        if (rc == 0)
            made[i] = NULL;
    }
    pthread_rwlock_unlock(&t->lock);

done:
    for (i = 0; i < nmade; i++)
        type_free(made[i]);
    pl_free(made);
    return rc;
}

void sb_types_remove_crd(sb_types *t, const char *crd_name)
{
    if (crd_name == NULL)
        return;
    pthread_rwlock_wrlock(&t->lock);
    remove_locked(t, crd_name);
    pthread_rwlock_unlock(&t->lock);
}
