/*
 * sb_schema.c - structural schemas: the SSA pseudo-schemas of built-in kinds (API-NOTES §4.5)
 * and CRD openAPIV3Schemas (§7.2), plus pruning, defaulting and validation of custom resources.
 *
 * A schema is a tree of sb_snode (sb_smd.h) allocated in one arena per schema. Built-in
 * schemas are "lenient": keys they do not mention are declared struct fields of unknown type
 * (objects merge key by key, lists are atomic), which is how SMD treats the real OpenAPI for
 * every field without a list/map marker.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "sb_smd.h"

const sb_snode sb_snode_deduced = {.type = SB_ST_ANY, .flags = SB_SN_DEDUCED,
                                   .min_len = -1, .max_len = -1, .min_items = -1,
                                   .max_items = -1};
const sb_snode sb_snode_lenient = {.type = SB_ST_ANY, .flags = SB_SN_LENIENT,
                                   .min_len = -1, .max_len = -1, .min_items = -1,
                                   .max_items = -1};

static const char *const embedded_fields[] = {"apiVersion", "kind", "metadata"};

static const sb_snode *find_prop(const sb_snode *n, const char *key)
{
    size_t lo = 0, hi = n->nprops;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(n->props[mid].name, key);
        if (c == 0)
            return n->props[mid].node;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const sb_snode *sb_snode_child(const sb_snode *n, const char *key, int *declared)
{
    const sb_snode *c;
    if (!n)
        n = &sb_snode_deduced;
    *declared = 1;
    if (n->nprops && (c = find_prop(n, key)) != NULL)
        return c;
    if (n->flags & SB_SN_EMBEDDED) {
        for (size_t i = 0; i < 3; i++)
            if (strcmp(key, embedded_fields[i]) == 0)
                return &sb_snode_lenient;
    }
    *declared = 0;
    if (n->additional)
        return n->additional;
    if (n->flags & (SB_SN_DEDUCED | SB_SN_PRESERVE))
        return &sb_snode_deduced;
    if (n->flags & SB_SN_LENIENT) {
        *declared = 1;
        return &sb_snode_lenient;
    }
    return NULL;
}

const sb_snode *sb_snode_items(const sb_snode *n)
{
    if (n && n->items)
        return n->items;
    if (n && (n->flags & SB_SN_LENIENT))
        return &sb_snode_lenient;
    return &sb_snode_deduced;
}

int sb_snode_list_type(const sb_snode *n)
{
    if (!n || (n->flags & SB_SN_DEDUCED))
        return SB_LIST_ATOMIC;
    return n->list_type;
}

int sb_snode_map_atomic(const sb_snode *n) { return n && (n->flags & SB_SN_ATOMIC); }

/* ---- construction ------------------------------------------------------------------------- */

static sb_snode *node_new(sb_schema *s, sb_stype t, unsigned flags)
{
    sb_snode *n = pl_calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->type = t;
    n->flags = flags;
    n->min_len = n->max_len = n->min_items = n->max_items = -1;
    n->arena_next = s->arena;
    s->arena = n;
    return n;
}

static void node_dispose(sb_snode *n)
{
    for (size_t i = 0; i < n->nprops; i++)
        pl_free(n->props[i].name);
    pl_free(n->props);
    for (size_t i = 0; i < n->nkeys; i++)
        pl_free(n->keys[i]);
    pl_free(n->keys);
    for (size_t i = 0; i < n->nrequired; i++)
        pl_free(n->required[i]);
    pl_free(n->required);
    pl_free(n->smp_key);
    pl_free(n->pattern);
    json_decref(n->dflt);
    json_decref(n->enum_vals);
    pl_free(n);
}

void sb_schema_free(sb_schema *s)
{
    if (!s)
        return;
    sb_snode *n = s->arena;
    while (n) {
        sb_snode *next = n->arena_next;
        node_dispose(n);
        n = next;
    }
    pl_free(s);
}

/* Set property `name` of n to child (replacing). Keeps props sorted. */
static int prop_set(sb_snode *n, const char *name, sb_snode *child)
{
    size_t at = 0;
    while (at < n->nprops && strcmp(n->props[at].name, name) < 0)
        at++;
    if (at < n->nprops && strcmp(n->props[at].name, name) == 0) {
        n->props[at].node = child;
        return 0;
    }
    sb_sprop *np = pl_realloc(n->props, (n->nprops + 1) * sizeof(*np));
    if (!np)
        return PL_ENOMEM;
    n->props = np;
    memmove(&np[at + 1], &np[at], (n->nprops - at) * sizeof(*np));
    np[at].name = pl_strdup(name);
    np[at].node = child;
    n->nprops++;
    return np[at].name ? 0 : PL_ENOMEM;
}

static sb_snode *prop_get(sb_snode *n, const char *name)
{
    for (size_t i = 0; i < n->nprops; i++)
        if (strcmp(n->props[i].name, name) == 0)
            return n->props[i].node;
    return NULL;
}

/* ---- built-in pseudo-schemas (API-NOTES §4.5) ----------------------------------------------- */

static sb_snode *lenient(sb_schema *s) { return node_new(s, SB_ST_OBJECT, SB_SN_LENIENT); }

/* A granular map[string]string (labels, annotations, data). */
static sb_snode *smap(sb_schema *s)
{
    sb_snode *n = node_new(s, SB_ST_OBJECT, 0);
    if (n)
        n->additional = node_new(s, SB_ST_ANY, SB_SN_LENIENT);
    return n;
}

static sb_snode *atomic_map(sb_schema *s)
{
    sb_snode *n = smap(s);
    if (n)
        n->flags |= SB_SN_ATOMIC;
    return n;
}

static sb_snode *atomic_struct(sb_schema *s)
{
    return node_new(s, SB_ST_OBJECT, SB_SN_LENIENT | SB_SN_ATOMIC);
}

/* A list-map with up to two key fields; keys are stored sorted by name (SMD sorts them). */
static sb_snode *lmap(sb_schema *s, sb_snode *items, const char *k1, const char *k2,
                      const char *smp_key)
{
    sb_snode *n = node_new(s, SB_ST_ARRAY, 0);
    if (!n || !items)
        return NULL;
    n->list_type = SB_LIST_MAP;
    n->items = items;
    n->keys = pl_calloc(2, sizeof(char *));
    if (!n->keys)
        return NULL;
    const char *a = k1, *b = k2;
    if (b && strcmp(a, b) > 0) {
        a = k2;
        b = k1;
    }
    n->keys[n->nkeys++] = pl_strdup(a);
    if (b)
        n->keys[n->nkeys++] = pl_strdup(b);
    n->smp_key = pl_strdup(smp_key ? smp_key : k1);
    return n;
}

static sb_snode *lset(sb_schema *s)
{
    sb_snode *n = node_new(s, SB_ST_ARRAY, SB_SN_SMP_MERGE);
    if (!n)
        return NULL;
    n->list_type = SB_LIST_SET;
    n->items = node_new(s, SB_ST_STRING, 0);
    return n;
}

/* Set the node at a dotted path below n, creating lenient structs on the way. */
static int put(sb_schema *s, sb_snode *n, const char *path, sb_snode *child)
{
    char seg[128];
    if (!n || !child)
        return PL_ENOMEM;
    for (;;) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        if (len >= sizeof(seg))
            return PL_EINVALID;
        memcpy(seg, path, len);
        seg[len] = '\0';
        if (!dot)
            return prop_set(n, seg, child);
        sb_snode *next = prop_get(n, seg);
        if (!next) {
            next = lenient(s);
            if (!next || prop_set(n, seg, next) < 0)
                return PL_ENOMEM;
        }
        n = next;
        path = dot + 1;
    }
}

/* A port item whose `protocol` defaults to TCP when computing the key (§4.5). */
static sb_snode *port_item(sb_schema *s)
{
    sb_snode *it = lenient(s);
    sb_snode *proto = node_new(s, SB_ST_STRING, 0);
    if (!it || !proto)
        return NULL;
    proto->dflt = json_string("TCP");
    return prop_set(it, "protocol", proto) < 0 ? NULL : it;
}

static sb_snode *meta_node(sb_schema *s)
{
    sb_snode *m = lenient(s);
    int rc = 0;
    rc |= put(s, m, "labels", smap(s));
    rc |= put(s, m, "annotations", smap(s));
    rc |= put(s, m, "finalizers", lset(s));
    rc |= put(s, m, "ownerReferences", lmap(s, atomic_struct(s), "uid", NULL, NULL));
    return rc ? NULL : m;
}

static sb_snode *container_node(sb_schema *s)
{
    sb_snode *c = lenient(s), *env = lenient(s);
    int rc = 0;
    rc |= put(s, c, "ports", lmap(s, port_item(s), "containerPort", "protocol", "containerPort"));
    rc |= put(s, env, "valueFrom.configMapKeyRef", atomic_struct(s));
    rc |= put(s, env, "valueFrom.secretKeyRef", atomic_struct(s));
    rc |= put(s, env, "valueFrom.fieldRef", atomic_struct(s));
    rc |= put(s, env, "valueFrom.resourceFieldRef", atomic_struct(s));
    rc |= put(s, c, "env", lmap(s, env, "name", NULL, NULL));
    rc |= put(s, c, "volumeMounts", lmap(s, lenient(s), "mountPath", NULL, NULL));
    rc |= put(s, c, "volumeDevices", lmap(s, lenient(s), "devicePath", NULL, NULL));
    rc |= put(s, c, "resources.claims", lmap(s, lenient(s), "name", NULL, NULL));
    rc |= put(s, c, "resources.limits", smap(s));
    rc |= put(s, c, "resources.requests", smap(s));
    return rc ? NULL : c;
}

static sb_snode *podspec_node(sb_schema *s)
{
    sb_snode *ps = lenient(s), *c = container_node(s), *tsc = lenient(s);
    int rc = 0;
    rc |= put(s, ps, "containers", lmap(s, c, "name", NULL, NULL));
    rc |= put(s, ps, "initContainers", lmap(s, c, "name", NULL, NULL));
    rc |= put(s, ps, "ephemeralContainers", lmap(s, c, "name", NULL, NULL));
    rc |= put(s, ps, "volumes", lmap(s, lenient(s), "name", NULL, NULL));
    rc |= put(s, ps, "imagePullSecrets", lmap(s, atomic_struct(s), "name", NULL, NULL));
    rc |= put(s, ps, "hostAliases", lmap(s, lenient(s), "ip", NULL, NULL));
    rc |= put(s, tsc, "labelSelector", atomic_struct(s));
    rc |= put(s, ps, "topologySpreadConstraints",
              lmap(s, tsc, "topologyKey", "whenUnsatisfiable", "topologyKey"));
    rc |= put(s, ps, "schedulingGates", lmap(s, lenient(s), "name", NULL, NULL));
    rc |= put(s, ps, "resourceClaims", lmap(s, lenient(s), "name", NULL, NULL));
    rc |= put(s, ps, "nodeSelector", atomic_map(s));
    rc |= put(s, ps, "overhead", smap(s));
    rc |= put(s, ps, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution",
              atomic_struct(s));
    return rc ? NULL : ps;
}

static sb_snode *template_node(sb_schema *s)
{
    sb_snode *t = lenient(s);
    int rc = put(s, t, "metadata", meta_node(s));
    rc |= put(s, t, "spec", podspec_node(s));
    return rc ? NULL : t;
}

static int is(const char *a, const char *b) { return strcmp(a, b) == 0; }

sb_schema *sb_schema_builtin(const char *group, const char *kind)
{
    sb_schema *s = pl_calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->builtin = 1;
    if (!group)
        group = "";
    if (!kind)
        kind = "";
    sb_snode *r = lenient(s);
    s->root = r;
    int rc = 0;
    rc |= put(s, r, "metadata", meta_node(s));
    rc |= put(s, r, "status.conditions", lmap(s, lenient(s), "type", NULL, NULL));

    if (is(group, "apps") && (is(kind, "Deployment") || is(kind, "ReplicaSet") ||
                              is(kind, "DaemonSet") || is(kind, "StatefulSet"))) {
        rc |= put(s, r, "spec.selector", atomic_struct(s));
        rc |= put(s, r, "spec.template", template_node(s));
    } else if (is(group, "batch") && is(kind, "Job")) {
        rc |= put(s, r, "spec.selector", atomic_struct(s));
        rc |= put(s, r, "spec.template", template_node(s));
    } else if (is(group, "batch") && is(kind, "CronJob")) {
        rc |= put(s, r, "spec.jobTemplate.metadata", meta_node(s));
        rc |= put(s, r, "spec.jobTemplate.spec.selector", atomic_struct(s));
        rc |= put(s, r, "spec.jobTemplate.spec.template", template_node(s));
    } else if (is(group, "") && is(kind, "Pod")) {
        rc |= put(s, r, "spec", podspec_node(s));
    } else if (is(group, "") && is(kind, "PodTemplate")) {
        rc |= put(s, r, "template", template_node(s));
    } else if (is(group, "") && is(kind, "ReplicationController")) {
        rc |= put(s, r, "spec.selector", atomic_map(s));
        rc |= put(s, r, "spec.template", template_node(s));
    } else if (is(group, "") && is(kind, "Service")) {
        rc |= put(s, r, "spec.ports", lmap(s, port_item(s), "port", "protocol", "port"));
        rc |= put(s, r, "spec.selector", atomic_map(s));
    } else if (is(group, "") && is(kind, "ConfigMap")) {
        rc |= put(s, r, "data", smap(s));
        rc |= put(s, r, "binaryData", smap(s));
    } else if (is(group, "") && is(kind, "Secret")) {
        /* API-NOTES §4.10: ownership is recorded on stringData (the v1 wire form) */
        rc |= put(s, r, "data", smap(s));
        rc |= put(s, r, "stringData", smap(s));
    } else if (is(group, "") && is(kind, "ServiceAccount")) {
        rc |= put(s, r, "secrets", lmap(s, atomic_struct(s), "name", NULL, NULL));
        rc |= put(s, r, "imagePullSecrets", lmap(s, atomic_struct(s), "name", NULL, NULL));
    } else if (is(group, "") && is(kind, "PersistentVolumeClaim")) {
        rc |= put(s, r, "spec.selector", atomic_struct(s));
        rc |= put(s, r, "spec.resources.requests", smap(s));
        rc |= put(s, r, "spec.resources.limits", smap(s));
    } else if (is(group, "networking.k8s.io") && is(kind, "NetworkPolicy")) {
        rc |= put(s, r, "spec.podSelector", atomic_struct(s));
    } else if (is(group, "policy") && is(kind, "PodDisruptionBudget")) {
        rc |= put(s, r, "spec.selector", atomic_struct(s));
    } else if (is(group, "storage.k8s.io") && is(kind, "StorageClass")) {
        rc |= put(s, r, "parameters", smap(s));
    } else if (is(group, "admissionregistration.k8s.io") &&
               (is(kind, "ValidatingWebhookConfiguration") ||
                is(kind, "MutatingWebhookConfiguration"))) {
        sb_snode *wh = lenient(s);
        rc |= put(s, wh, "namespaceSelector", atomic_struct(s));
        rc |= put(s, wh, "objectSelector", atomic_struct(s));
        rc |= put(s, r, "webhooks", lmap(s, wh, "name", NULL, NULL));
    } else if (is(group, "rbac.authorization.k8s.io") && is(kind, "ClusterRole")) {
        rc |= put(s, r, "aggregationRule", lenient(s));
    } else if (is(group, "rbac.authorization.k8s.io") &&
               (is(kind, "RoleBinding") || is(kind, "ClusterRoleBinding"))) {
        rc |= put(s, r, "roleRef", atomic_struct(s));
    } else if (is(group, "") && is(kind, "Namespace")) {
        /* spec.finalizers: atomic (default) */
    }
    if (rc) {
        sb_schema_free(s);
        pl_error_set(PL_ENOMEM, "out of memory building the schema of %s", kind);
        return NULL;
    }
    return s;
}

/* ---- CRD openAPIV3Schema (API-NOTES §7.2) -------------------------------------------------- */

static int oa_err(const char *path, const char *what)
{
    return pl_error_set(PL_EINVALID, "%s: %s", path, what);
}

static sb_snode *from_oa(sb_schema *s, const json_t *js, pl_buf *path, int depth);

static int oa_child(sb_schema *s, sb_snode **out, const json_t *js, pl_buf *path,
                    const char *suffix, int depth)
{
    size_t mark = path->len;
    pl_buf_puts(path, suffix);
    *out = from_oa(s, js, path, depth + 1);
    path->len = mark;
    if (path->ptr)
        path->ptr[mark] = '\0';
    return *out ? 0 : PL_EINVALID;
}

static long long oa_int(const json_t *js, const char *key)
{
    json_t *v = json_object_get(js, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

static sb_snode *from_oa(sb_schema *s, const json_t *js, pl_buf *path, int depth)
{
    if (depth > 64) {
        oa_err(path->ptr, "schema nested too deeply");
        return NULL;
    }
    if (!json_is_object(js)) {
        oa_err(path->ptr, "Invalid value: must be an object");
        return NULL;
    }
    const char *type = json_string_value(json_object_get(js, "type"));
    unsigned flags = 0;
    if (json_is_true(json_object_get(js, "x-kubernetes-preserve-unknown-fields")))
        flags |= SB_SN_PRESERVE;
    if (json_is_true(json_object_get(js, "x-kubernetes-int-or-string")))
        flags |= SB_SN_INTORSTR;
    if (json_is_true(json_object_get(js, "x-kubernetes-embedded-resource")))
        flags |= SB_SN_EMBEDDED;
    if (json_is_true(json_object_get(js, "nullable")))
        flags |= SB_SN_NULLABLE;
    const char *mt = json_string_value(json_object_get(js, "x-kubernetes-map-type"));
    if (mt && is(mt, "atomic"))
        flags |= SB_SN_ATOMIC;

    sb_stype t = SB_ST_ANY;
    if (!type || !*type) {
        /* structural: every node has a type unless int-or-string or preserve-unknown */
        if (!(flags & (SB_SN_INTORSTR | SB_SN_PRESERVE))) {
            pl_buf msg = PL_BUF_INIT;
            pl_buf_printf(&msg, "%s.type", path->ptr);
            oa_err(msg.ptr ? msg.ptr : "type",
                   depth == 0 ? "Required value: must not be empty at the root"
                              : "Required value: must not be empty for specified object fields");
            pl_buf_dispose(&msg);
            return NULL;
        }
        if (flags & SB_SN_PRESERVE)
            t = SB_ST_OBJECT;
    } else if (is(type, "object"))
        t = SB_ST_OBJECT;
    else if (is(type, "array"))
        t = SB_ST_ARRAY;
    else if (is(type, "string"))
        t = SB_ST_STRING;
    else if (is(type, "integer"))
        t = SB_ST_INTEGER;
    else if (is(type, "number"))
        t = SB_ST_NUMBER;
    else if (is(type, "boolean"))
        t = SB_ST_BOOLEAN;
    else {
        pl_buf msg = PL_BUF_INIT;
        pl_buf_printf(&msg, "%s.type", path->ptr);
        pl_error_set(PL_EINVALID, "%s: Unsupported value: \"%s\": supported values: \"array\", "
                                  "\"boolean\", \"integer\", \"number\", \"object\", \"string\"",
                     msg.ptr ? msg.ptr : "type", type);
        pl_buf_dispose(&msg);
        return NULL;
    }
    if (flags & SB_SN_INTORSTR)
        t = SB_ST_ANY;
    sb_snode *n = node_new(s, t, flags);
    if (!n)
        return NULL;

    json_t *props = json_object_get(js, "properties");
    const char *key;
    json_t *val;
    json_object_foreach(props, key, val) {
        sb_snode *c;
        pl_buf suf = PL_BUF_INIT;
        pl_buf_printf(&suf, ".properties[%s]", key);
        int rc = oa_child(s, &c, val, path, suf.ptr ? suf.ptr : "", depth);
        pl_buf_dispose(&suf);
        if (rc < 0 || prop_set(n, key, c) < 0)
            return NULL;
    }
    json_t *ap = json_object_get(js, "additionalProperties");
    if (json_is_object(ap)) {
        if (oa_child(s, &n->additional, ap, path, ".additionalProperties", depth) < 0)
            return NULL;
    } else if (json_is_true(ap)) {
        n->additional = node_new(s, SB_ST_ANY, SB_SN_DEDUCED);
    }
    json_t *items = json_object_get(js, "items");
    if (json_is_object(items) && oa_child(s, &n->items, items, path, ".items", depth) < 0)
        return NULL;
    const char *lt = json_string_value(json_object_get(js, "x-kubernetes-list-type"));
    if (lt && is(lt, "set"))
        n->list_type = SB_LIST_SET;
    else if (lt && is(lt, "map")) {
        json_t *keys = json_object_get(js, "x-kubernetes-list-map-keys");
        size_t nk = json_array_size(keys);
        if (nk == 0) {
            pl_buf msg = PL_BUF_INIT;
            pl_buf_printf(&msg, "%s.x-kubernetes-list-map-keys", path->ptr);
            oa_err(msg.ptr ? msg.ptr : "x-kubernetes-list-map-keys",
                   "Required value: must not be empty if x-kubernetes-list-type is map");
            pl_buf_dispose(&msg);
            return NULL;
        }
        n->list_type = SB_LIST_MAP;
        n->keys = pl_calloc(nk, sizeof(char *));
        if (!n->keys)
            return NULL;
        for (size_t i = 0; i < nk; i++) {
            const char *k = json_string_value(json_array_get(keys, i));
            if (!k)
                continue;
            /* keep sorted by name: SMD sorts key fields */
            size_t at = n->nkeys;
            while (at > 0 && strcmp(n->keys[at - 1], k) > 0) {
                n->keys[at] = n->keys[at - 1];
                at--;
            }
            n->keys[at] = pl_strdup(k);
            n->nkeys++;
        }
        n->smp_key = pl_strdup(n->keys[0]);
    }
    json_t *d = json_object_get(js, "default");
    if (d)
        n->dflt = json_deep_copy(d);
    json_t *en = json_object_get(js, "enum");
    if (json_is_array(en))
        n->enum_vals = json_deep_copy(en);
    json_t *req = json_object_get(js, "required");
    if (json_is_array(req) && json_array_size(req)) {
        n->required = pl_calloc(json_array_size(req), sizeof(char *));
        for (size_t i = 0; n->required && i < json_array_size(req); i++) {
            const char *r = json_string_value(json_array_get(req, i));
            if (r)
                n->required[n->nrequired++] = pl_strdup(r);
        }
    }
    const char *pat = json_string_value(json_object_get(js, "pattern"));
    if (pat)
        n->pattern = pl_strdup(pat);
    json_t *mn = json_object_get(js, "minimum"), *mx = json_object_get(js, "maximum");
    if (json_is_number(mn)) {
        n->has_min = 1;
        n->min = json_number_value(mn);
        n->excl_min = json_is_true(json_object_get(js, "exclusiveMinimum"));
    }
    if (json_is_number(mx)) {
        n->has_max = 1;
        n->max = json_number_value(mx);
        n->excl_max = json_is_true(json_object_get(js, "exclusiveMaximum"));
    }
    n->min_len = oa_int(js, "minLength");
    n->max_len = oa_int(js, "maxLength");
    n->min_items = oa_int(js, "minItems");
    n->max_items = oa_int(js, "maxItems");
    if (flags & SB_SN_EMBEDDED) {
        sb_snode *m = meta_node(s);
        if (!m || prop_set(n, "metadata", m) < 0)
            return NULL;
    }
    return n;
}

sb_schema *sb_schema_from_openapi(const json_t *openapi_v3_schema)
{
    sb_schema *s = pl_calloc(1, sizeof(*s));
    pl_buf path = PL_BUF_INIT;
    if (!s) {
        pl_error_set(PL_ENOMEM, "out of memory");
        return NULL;
    }
    pl_buf_puts(&path, "openAPIV3Schema");
    s->root = from_oa(s, openapi_v3_schema, &path, 0);
    pl_buf_dispose(&path);
    if (!s->root) {
        if (pl_error_last()->code == 0)
            pl_error_set(PL_EINVALID, "openAPIV3Schema: invalid schema");
        sb_schema_free(s);
        return NULL;
    }
    /* the root always allows apiVersion, kind and the standard ObjectMeta (§7.2) */
    sb_snode *av = node_new(s, SB_ST_STRING, 0), *k = node_new(s, SB_ST_STRING, 0);
    sb_snode *m = meta_node(s);
    if (!av || !k || !m || prop_set(s->root, "apiVersion", av) < 0 ||
        prop_set(s->root, "kind", k) < 0 || prop_set(s->root, "metadata", m) < 0) {
        sb_schema_free(s);
        pl_error_set(PL_ENOMEM, "out of memory");
        return NULL;
    }
    return s;
}

/* ---- prune, default, validate (API-NOTES §7.2, messages §6.2) -------------------------------- */

typedef struct pdv {
    json_t *dropped;
    json_t *causes;
    pl_buf path;
} pdv;

static void path_push_field(pl_buf *p, const char *key)
{
    if (p->len)
        pl_buf_putc(p, '.');
    pl_buf_puts(p, key);
}

static void path_reset(pl_buf *p, size_t mark)
{
    p->len = mark;
    if (p->ptr)
        p->ptr[mark] = '\0';
}

static const char *p_str(const pl_buf *p) { return p->ptr ? p->ptr : ""; }

static void prune_walk(const sb_snode *n, json_t *v, pdv *c, int depth)
{
    if (!n || depth > 100)
        return;
    if (json_is_object(v)) {
        if (n->flags & (SB_SN_DEDUCED | SB_SN_LENIENT))
            return; /* metadata and schemaless parts are not pruned */
        const char *key;
        json_t *val;
        void *tmp;
        json_object_foreach_safe(v, tmp, key, val) {
            size_t mark = c->path.len;
            path_push_field(&c->path, key);
            int declared;
            const sb_snode *cn = sb_snode_child(n, key, &declared);
            if (!cn) {
                if (c->dropped) {
                    pl_buf w = PL_BUF_INIT;
                    pl_buf_printf(&w, "unknown field \"%s\"", p_str(&c->path));
                    if (w.ptr)
                        json_array_append_new(c->dropped, json_string(w.ptr));
                    pl_buf_dispose(&w);
                }
                json_object_del(v, key);
            } else {
                prune_walk(cn, val, c, depth + 1);
            }
            path_reset(&c->path, mark);
        }
    } else if (json_is_array(v) && n->items) {
        size_t i;
        json_t *it;
        json_array_foreach(v, i, it) {
            size_t mark = c->path.len;
            pl_buf_printf(&c->path, "[%zu]", i);
            prune_walk(n->items, it, c, depth + 1);
            path_reset(&c->path, mark);
        }
    }
}

static void default_walk(const sb_snode *n, json_t *v, int depth)
{
    if (!n || depth > 100)
        return;
    if (json_is_object(v)) {
        for (size_t i = 0; i < n->nprops; i++) {
            const sb_snode *pn = n->props[i].node;
            json_t *cur = json_object_get(v, n->props[i].name);
            if (pn->dflt && (!cur || (json_is_null(cur) && !(pn->flags & SB_SN_NULLABLE))))
                json_object_set_new(v, n->props[i].name, json_deep_copy(pn->dflt));
            else if (cur && json_is_null(cur) && !(pn->flags & SB_SN_NULLABLE))
                json_object_del(v, n->props[i].name); /* null without default is pruned */
        }
        const char *key;
        json_t *val;
        json_object_foreach(v, key, val) {
            int declared;
            const sb_snode *cn = sb_snode_child(n, key, &declared);
            if (cn && !(cn->flags & (SB_SN_DEDUCED | SB_SN_LENIENT)))
                default_walk(cn, val, depth + 1);
        }
    } else if (json_is_array(v) && n->items) {
        size_t i;
        json_t *it;
        json_array_foreach(v, i, it) default_walk(n->items, it, depth + 1);
    }
}

/* Bad values as field/errors.go prints them: strings quoted, numbers and bools bare, else JSON. */
static void put_value(pl_buf *b, const json_t *v)
{
    if (json_is_string(v)) {
        char *t = json_dumps(v, JSON_ENCODE_ANY);
        pl_buf_puts(b, t ? t : "\"\"");
        pl_free(t);
    } else {
        sb_value_render(b, v);
    }
}

static void add_cause(pdv *c, const char *reason, const char *msg, const char *field)
{
    json_t *o = json_pack("{s:s,s:s,s:s}", "reason", reason, "message", msg, "field", field);
    if (o)
        json_array_append_new(c->causes, o);
}

static void cause_invalid(pdv *c, const char *reason, const json_t *bad, const char *detail)
{
    pl_buf m = PL_BUF_INIT;
    pl_buf_puts(&m, "Invalid value: ");
    put_value(&m, bad);
    pl_buf_printf(&m, ": %s", detail);
    if (m.ptr)
        add_cause(c, reason, m.ptr, p_str(&c->path));
    pl_buf_dispose(&m);
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    default:
        return "null";
    }
}

static const char *stype_name(sb_stype t)
{
    switch (t) {
    case SB_ST_OBJECT:
        return "object";
    case SB_ST_ARRAY:
        return "array";
    case SB_ST_STRING:
        return "string";
    case SB_ST_INTEGER:
        return "integer";
    case SB_ST_NUMBER:
        return "number";
    case SB_ST_BOOLEAN:
        return "boolean";
    default:
        return "";
    }
}

static int type_ok(sb_stype t, const json_t *v)
{
    switch (t) {
    case SB_ST_OBJECT:
        return json_is_object(v);
    case SB_ST_ARRAY:
        return json_is_array(v);
    case SB_ST_STRING:
        return json_is_string(v);
    case SB_ST_INTEGER:
        return json_is_integer(v) ||
               (json_is_real(v) && floor(json_real_value(v)) == json_real_value(v));
    case SB_ST_NUMBER:
        return json_is_number(v);
    case SB_ST_BOOLEAN:
        return json_is_boolean(v);
    default:
        return 1;
    }
}

static void fmt_num(char *buf, size_t n, double d)
{
    if (floor(d) == d && fabs(d) < 1e15)
        snprintf(buf, n, "%.0f", d);
    else
        snprintf(buf, n, "%g", d);
}

static void validate_walk(const sb_snode *n, const json_t *v, pdv *c, int depth)
{
    if (!n || depth > 100 || (n->flags & (SB_SN_DEDUCED | SB_SN_LENIENT)))
        return;
    const char *path = p_str(&c->path);
    pl_buf d = PL_BUF_INIT;
    if (json_is_null(v)) {
        if (!(n->flags & SB_SN_NULLABLE) && n->type != SB_ST_ANY) {
            pl_buf_printf(&d, "%s in body must be of type %s: \"null\"", path, stype_name(n->type));
            json_t *bad = json_string("null");
            cause_invalid(c, "FieldValueTypeInvalid", bad, p_str(&d));
            json_decref(bad);
        }
        pl_buf_dispose(&d);
        return;
    }
    if (n->flags & SB_SN_INTORSTR) {
        if (!json_is_integer(v) && !json_is_string(v)) {
            pl_buf_printf(&d, "%s in body must be of type integer,string: \"%s\"", path,
                          json_type_name(v));
            json_t *bad = json_string(json_type_name(v));
            cause_invalid(c, "FieldValueTypeInvalid", bad, p_str(&d));
            json_decref(bad);
            pl_buf_dispose(&d);
            return;
        }
    } else if (!type_ok(n->type, v)) {
        pl_buf_printf(&d, "%s in body must be of type %s: \"%s\"", path, stype_name(n->type),
                      json_type_name(v));
        json_t *bad = json_string(json_type_name(v));
        cause_invalid(c, "FieldValueTypeInvalid", bad, p_str(&d));
        json_decref(bad);
        pl_buf_dispose(&d);
        return;
    }
    if (n->enum_vals) {
        int found = 0;
        size_t i;
        json_t *e;
        json_array_foreach(n->enum_vals, i, e) if (json_equal(e, (json_t *)v)) found = 1;
        if (!found) {
            pl_buf m = PL_BUF_INIT;
            pl_buf_puts(&m, "Unsupported value: ");
            put_value(&m, v);
            pl_buf_puts(&m, ": supported values: ");
            json_array_foreach(n->enum_vals, i, e) {
                if (i)
                    pl_buf_puts(&m, ", ");
                put_value(&m, e);
            }
            if (m.ptr)
                add_cause(c, "FieldValueNotSupported", m.ptr, path);
            pl_buf_dispose(&m);
        }
    }
    if (json_is_number(v)) {
        double x = json_number_value(v);
        char lim[64];
        if (n->has_min && (n->excl_min ? x <= n->min : x < n->min)) {
            fmt_num(lim, sizeof(lim), n->min);
            pl_buf_clear(&d);
            pl_buf_printf(&d, "%s in body should be greater than %s%s", path,
                          n->excl_min ? "" : "or equal to ", lim);
            cause_invalid(c, "FieldValueInvalid", v, p_str(&d));
        }
        if (n->has_max && (n->excl_max ? x >= n->max : x > n->max)) {
            fmt_num(lim, sizeof(lim), n->max);
            pl_buf_clear(&d);
            pl_buf_printf(&d, "%s in body should be less than %s%s", path,
                          n->excl_max ? "" : "or equal to ", lim);
            cause_invalid(c, "FieldValueInvalid", v, p_str(&d));
        }
    }
    if (json_is_string(v)) {
        /* lengths count characters (runes) */
        const unsigned char *sp = (const unsigned char *)json_string_value(v);
        long long runes = 0;
        for (; *sp; sp++)
            if ((*sp & 0xC0) != 0x80)
                runes++;
        if (n->min_len >= 0 && runes < n->min_len) {
            pl_buf_clear(&d);
            pl_buf_printf(&d, "%s in body should be at least %lld chars long", path, n->min_len);
            cause_invalid(c, "FieldValueInvalid", v, p_str(&d));
        }
        if (n->max_len >= 0 && runes > n->max_len) {
            pl_buf m = PL_BUF_INIT;
            pl_buf_printf(&m, "Too long: may not be more than %lld bytes", n->max_len);
            if (m.ptr)
                add_cause(c, "FieldValueTooLong", m.ptr, path);
            pl_buf_dispose(&m);
        }
        if (n->pattern) {
            int err;
            PCRE2_SIZE off;
            pcre2_code *re = pcre2_compile((PCRE2_SPTR)n->pattern, PCRE2_ZERO_TERMINATED,
                                           PCRE2_UTF, &err, &off, NULL);
            if (re) {
                pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
                int r = md ? pcre2_match(re, (PCRE2_SPTR)json_string_value(v),
                                         json_string_length(v), 0, 0, md, NULL)
                           : 0;
                if (r < 0) {
                    pl_buf_clear(&d);
                    pl_buf_printf(&d, "%s in body should match '%s'", path, n->pattern);
                    cause_invalid(c, "FieldValueInvalid", v, p_str(&d));
                }
                pcre2_match_data_free(md);
                pcre2_code_free(re);
            }
        }
    }
    if (json_is_array(v)) {
        long long sz = (long long)json_array_size(v);
        if (n->min_items >= 0 && sz < n->min_items) {
            pl_buf_clear(&d);
            pl_buf_printf(&d, "%s in body should have at least %lld items", path, n->min_items);
            cause_invalid(c, "FieldValueInvalid", v, p_str(&d));
        }
        if (n->max_items >= 0 && sz > n->max_items) {
            pl_buf m = PL_BUF_INIT;
            pl_buf_printf(&m, "Too many: %lld: must have at most %lld items", sz, n->max_items);
            if (m.ptr)
                add_cause(c, "FieldValueTooMany", m.ptr, path);
            pl_buf_dispose(&m);
        }
        if (n->items) {
            size_t i;
            json_t *it;
            json_array_foreach(v, i, it) {
                size_t mark = c->path.len;
                pl_buf_printf(&c->path, "[%zu]", i);
                validate_walk(n->items, it, c, depth + 1);
                path_reset(&c->path, mark);
            }
        }
    }
    if (json_is_object(v)) {
        for (size_t i = 0; i < n->nrequired; i++) {
            if (json_object_get(v, n->required[i]))
                continue;
            size_t mark = c->path.len;
            path_push_field(&c->path, n->required[i]);
            add_cause(c, "FieldValueRequired", "Required value", p_str(&c->path));
            path_reset(&c->path, mark);
        }
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)v, key, val) {
            int declared;
            const sb_snode *cn = sb_snode_child(n, key, &declared);
            if (!cn)
                continue;
            size_t mark = c->path.len;
            path_push_field(&c->path, key);
            validate_walk(cn, val, c, depth + 1);
            path_reset(&c->path, mark);
        }
    }
    pl_buf_dispose(&d);
}

int sb_schema_prune_default_validate(const sb_schema *s, json_t *obj, json_t *dropped,
                                     json_t *causes)
{
    if (!s || !s->root || !json_is_object(obj))
        return 0;
    pdv c = {dropped, causes, PL_BUF_INIT};
    prune_walk(s->root, obj, &c, 0);
    default_walk(s->root, obj, 0);
    if (causes)
        validate_walk(s->root, obj, &c, 0);
    pl_buf_dispose(&c.path);
    return 0;
}
