/*
 * sb_defaults.c - server-side defaulting of built-in kinds (API-NOTES §9): Deployment,
 * StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, pod templates and containers, Service
 * (allocated clusterIP/nodePorts, carried over on update as the real registry does), Namespace,
 * Secret stringData (§4.10), PVC, StorageClass, PriorityClass, webhook configurations, and the
 * omitempty dropping of empty metadata maps and lists. Quantities are not canonicalised (see
 * the README). Defaulting is idempotent: applying it to an already defaulted object changes
 * nothing, which keeps re-applies no-ops.
 */
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "sb_api_int.h"

static json_t *obj_at(json_t *parent, const char *key)
{
    json_t *v = json_object_get(parent, key);
    if (!json_is_object(v)) {
        v = json_object();
        json_object_set_new(parent, key, v);
    }
    return v;
}

static void def(json_t *o, const char *key, json_t *value)
{
    if (json_is_object(o) && json_object_get(o, key) == NULL)
        json_object_set_new(o, key, value);
    else
        json_decref(value);
}

static void def_s(json_t *o, const char *key, const char *value)
{
    def(o, key, json_string(value));
}

static void def_i(json_t *o, const char *key, long long value)
{
    def(o, key, json_integer(value));
}

static void probe_defaults(json_t *p)
{
    if (!json_is_object(p))
        return;
    def_i(p, "timeoutSeconds", 1);
    def_i(p, "periodSeconds", 10);
    def_i(p, "successThreshold", 1);
    def_i(p, "failureThreshold", 3);
    json_t *hg = json_object_get(p, "httpGet");
    if (json_is_object(hg))
        def_s(hg, "scheme", "HTTP");
}

static void container_defaults(json_t *c)
{
    if (!json_is_object(c))
        return;
    const char *image = pl_json_str(c, "image", NULL);
    if (image != NULL) {
        /* Always for :latest or an untagged image, else IfNotPresent (API-NOTES §9) */
        const char *slash = strrchr(image, '/');
        const char *last = slash ? slash + 1 : image;
        const char *at = strchr(last, '@');
        const char *colon = strchr(last, ':');
        int always = at == NULL && (colon == NULL || strcmp(colon, ":latest") == 0);
        def_s(c, "imagePullPolicy", always ? "Always" : "IfNotPresent");
    }
    def_s(c, "terminationMessagePath", "/dev/termination-log");
    def_s(c, "terminationMessagePolicy", "File");
    def(c, "resources", json_object());
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(c, "ports"), i, p) def_s(p, "protocol", "TCP");
    probe_defaults(json_object_get(c, "livenessProbe"));
    probe_defaults(json_object_get(c, "readinessProbe"));
    probe_defaults(json_object_get(c, "startupProbe"));
}

static void pod_spec_defaults(json_t *spec, const char *restart)
{
    if (!json_is_object(spec))
        return;
    if (restart != NULL)
        def_s(spec, "restartPolicy", restart);
    def_i(spec, "terminationGracePeriodSeconds", 30);
    def_s(spec, "dnsPolicy", "ClusterFirst");
    def(spec, "securityContext", json_object());
    def_s(spec, "schedulerName", "default-scheduler");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(spec, "containers"), i, c) container_defaults(c);
    json_array_foreach(json_object_get(spec, "initContainers"), i, c) container_defaults(c);
}

static void template_defaults(json_t *spec, const char *restart)
{
    json_t *tmpl = json_object_get(spec, "template");
    if (json_is_object(tmpl))
        pod_spec_defaults(json_object_get(tmpl, "spec"), restart);
}

static uint32_t fnv(const char *a, const char *b)
{
    uint32_t h = 2166136261u;
    for (const char *p = a; p && *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    h = (h ^ '/') * 16777619u;
    for (const char *p = b; p && *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h;
}

static void service_defaults(json_t *obj, const json_t *old)
{
    json_t *spec = obj_at(obj, "spec");
    const json_t *ospec = old ? json_object_get(old, "spec") : NULL;
    def_s(spec, "type", "ClusterIP");
    const char *type = pl_json_str(spec, "type", NULL);
    int external = strcmp(type, "ExternalName") == 0;
    /* allocated values survive updates that omit them (the registry patches them back) */
    static const char *const carried[] = {"clusterIP", "clusterIPs", "ipFamilies",
                                          "ipFamilyPolicy", "healthCheckNodePort", NULL};
    for (int i = 0; ospec != NULL && carried[i]; i++) {
        json_t *v = json_object_get((json_t *)ospec, carried[i]);
        if (v != NULL && json_object_get(spec, carried[i]) == NULL)
            json_object_set(spec, carried[i], v);
    }
    def_s(spec, "sessionAffinity", "None");
    if (!external) {
        const char *ns = pl_json_str(obj, "metadata", "namespace", NULL);
        const char *name = pl_json_str(obj, "metadata", "name", NULL);
        uint32_t h = fnv(ns, name);
        char ip[32];
        snprintf(ip, sizeof(ip), "10.96.%u.%u", (h >> 8) % 256, 1 + h % 254);
        def_s(spec, "clusterIP", ip);
        if (json_object_get(spec, "clusterIPs") == NULL)
            json_object_set_new(spec, "clusterIPs",
                                json_pack("[O]", json_object_get(spec, "clusterIP")));
        def(spec, "ipFamilies", json_pack("[s]", "IPv4"));
        def_s(spec, "ipFamilyPolicy", "SingleStack");
        def_s(spec, "internalTrafficPolicy", "Cluster");
    }
    int node_ports = strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0;
    if (node_ports) {
        def_s(spec, "externalTrafficPolicy", "Cluster");
        if (strcmp(type, "LoadBalancer") == 0)
            def(spec, "allocateLoadBalancerNodePorts", json_true());
    }
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(spec, "ports"), i, p) {
        def_s(p, "protocol", "TCP");
        json_t *port = json_object_get(p, "port");
        if (port != NULL && !external)
            def(p, "targetPort", json_incref(port));
        if (node_ports && json_object_get(p, "nodePort") == NULL) {
            /* keep the old allocation of the same port */
            size_t j;
            json_t *op;
            json_array_foreach(pl_json_path(ospec, "ports", NULL), j, op) {
                if (json_equal(json_object_get(op, "port"), port) &&
                    json_object_get(op, "nodePort") != NULL)
                    json_object_set(p, "nodePort", json_object_get(op, "nodePort"));
            }
            if (json_object_get(p, "nodePort") == NULL)
                json_object_set_new(p, "nodePort",
                                    json_integer(30000 + (fnv(pl_json_str(obj, "metadata", "name",
                                                                          NULL),
                                                              "") +
                                                          (uint32_t)i * 7919u) %
                                                             2768));
        }
    }
}

static void secret_defaults(json_t *obj)
{
    /* stringData is merged into data (base64) and dropped; type Opaque (API-NOTES §4.10) */
    json_t *sd = json_object_get(obj, "stringData");
    if (json_is_object(sd)) {
        json_t *data = obj_at(obj, "data");
        const char *k;
        json_t *v;
        json_object_foreach(sd, k, v) {
            const char *s = json_string_value(v);
            if (s == NULL)
                continue;
            size_t n = strlen(s);
            size_t outn = 4 * ((n + 2) / 3);
            char *b = pl_malloc(outn + 1);
            if (b == NULL)
                continue;
            EVP_EncodeBlock((unsigned char *)b, (const unsigned char *)s, (int)n);
            b[outn] = '\0';
            json_object_set_new(data, k, json_string(b));
            pl_free(b);
        }
    }
    json_object_del(obj, "stringData");
    def_s(obj, "type", "Opaque");
}

static void webhook_defaults(json_t *obj, int mutating)
{
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(obj, "webhooks"), i, w) {
        def_s(w, "failurePolicy", "Fail");
        def_s(w, "matchPolicy", "Equivalent");
        def(w, "namespaceSelector", json_object());
        def(w, "objectSelector", json_object());
        def_i(w, "timeoutSeconds", 10);
        if (mutating)
            def_s(w, "reinvocationPolicy", "Never");
        json_t *svc = pl_json_path(w, "clientConfig", "service", NULL);
        if (json_is_object(svc))
            def_i(svc, "port", 443);
        size_t j;
        json_t *r;
        json_array_foreach(json_object_get(w, "rules"), j, r) def_s(r, "scope", "*");
    }
}

static void drop_empty_meta(json_t *obj)
{
    /* omitempty metadata maps and lists vanish (API-NOTES §9) */
    json_t *meta = json_object_get(obj, "metadata");
    static const char *const keys[] = {"labels", "annotations", "finalizers", "ownerReferences",
                                       NULL};
    for (int i = 0; keys[i]; i++) {
        json_t *v = json_object_get(meta, keys[i]);
        if (v != NULL && (json_is_null(v) || (json_is_object(v) && json_object_size(v) == 0) ||
                          (json_is_array(v) && json_array_size(v) == 0)))
            json_object_del(meta, keys[i]);
    }
}

static int is(const sb_type *t, const char *group, const char *kind)
{
    return strcmp(t->group, group) == 0 && strcmp(t->kind, kind) == 0;
}

void sb_defaults_apply(const sb_type *t, json_t *obj, const json_t *old)
{
    drop_empty_meta(obj);
    if (t->flags & SB_T_CUSTOM)
        return; /* CR defaults come from the schema (sb_schema) */
    json_t *spec = json_object_get(obj, "spec");
    if (is(t, "", "Namespace")) {
        json_t *labels = obj_at(obj_at(obj, "metadata"), "labels");
        const char *name = pl_json_str(obj, "metadata", "name", NULL);
        if (name != NULL)
            json_object_set_new(labels, "kubernetes.io/metadata.name", json_string(name));
        if (old == NULL) {
            def(obj_at(obj, "spec"), "finalizers", json_pack("[s]", "kubernetes"));
        } else if (pl_json_path(obj, "spec", "finalizers", NULL) == NULL) {
            /* spec.finalizers changes only through /finalize */
            json_t *of = pl_json_path(old, "spec", "finalizers", NULL);
            if (of != NULL)
                json_object_set(obj_at(obj, "spec"), "finalizers", of);
        }
        def_s(obj_at(obj, "status"), "phase", "Active");
    } else if (is(t, "", "Secret")) {
        secret_defaults(obj);
    } else if (is(t, "", "Service")) {
        service_defaults(obj, old);
    } else if (is(t, "", "Pod")) {
        pod_spec_defaults(spec, "Always");
    } else if (is(t, "", "PersistentVolumeClaim")) {
        def_s(spec, "volumeMode", "Filesystem");
        def_s(obj_at(obj, "status"), "phase", "Pending");
    } else if (is(t, "", "Endpoints")) {
        size_t i, j;
        json_t *s, *p;
        json_array_foreach(json_object_get(obj, "subsets"), i, s)
            json_array_foreach(json_object_get(s, "ports"), j, p) def_s(p, "protocol", "TCP");
    } else if (is(t, "apps", "Deployment")) {
        def_i(spec, "replicas", 1);
        def_i(spec, "revisionHistoryLimit", 10);
        def_i(spec, "progressDeadlineSeconds", 600);
        json_t *strategy = json_is_object(spec) ? obj_at(spec, "strategy") : NULL;
        def_s(strategy, "type", "RollingUpdate");
        if (strategy && strcmp(pl_json_str(strategy, "type", NULL), "RollingUpdate") == 0) {
            json_t *ru = obj_at(strategy, "rollingUpdate");
            def_s(ru, "maxSurge", "25%");
            def_s(ru, "maxUnavailable", "25%");
        }
        template_defaults(spec, "Always");
    } else if (is(t, "apps", "StatefulSet")) {
        def_i(spec, "replicas", 1);
        def_s(spec, "podManagementPolicy", "OrderedReady");
        def_i(spec, "revisionHistoryLimit", 10);
        json_t *us = json_is_object(spec) ? obj_at(spec, "updateStrategy") : NULL;
        def_s(us, "type", "RollingUpdate");
        if (us && strcmp(pl_json_str(us, "type", NULL), "RollingUpdate") == 0)
            def_i(obj_at(us, "rollingUpdate"), "partition", 0);
        if (json_is_object(spec))
            def(spec, "persistentVolumeClaimRetentionPolicy",
                json_pack("{s:s,s:s}", "whenDeleted", "Retain", "whenScaled", "Retain"));
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(spec, "volumeClaimTemplates"), i, v) {
            def_s(v, "apiVersion", "v1");
            def_s(v, "kind", "PersistentVolumeClaim");
            def_s(obj_at(v, "spec"), "volumeMode", "Filesystem");
            def_s(obj_at(v, "status"), "phase", "Pending");
        }
        template_defaults(spec, "Always");
    } else if (is(t, "apps", "DaemonSet")) {
        def_i(spec, "revisionHistoryLimit", 10);
        json_t *us = json_is_object(spec) ? obj_at(spec, "updateStrategy") : NULL;
        def_s(us, "type", "RollingUpdate");
        if (us && strcmp(pl_json_str(us, "type", NULL), "RollingUpdate") == 0) {
            json_t *ru = obj_at(us, "rollingUpdate");
            def_i(ru, "maxUnavailable", 1);
            def_i(ru, "maxSurge", 0);
        }
        template_defaults(spec, "Always");
    } else if (is(t, "apps", "ReplicaSet")) {
        def_i(spec, "replicas", 1);
        template_defaults(spec, "Always");
    } else if (is(t, "batch", "Job")) {
        def_i(spec, "parallelism", 1);
        def_i(spec, "completions", 1);
        def_i(spec, "backoffLimit", 6);
        def_s(spec, "completionMode", "NonIndexed");
        def(spec, "suspend", json_false());
        template_defaults(spec, NULL);
    } else if (is(t, "batch", "CronJob")) {
        def_s(spec, "concurrencyPolicy", "Allow");
        def(spec, "suspend", json_false());
        def_i(spec, "successfulJobsHistoryLimit", 3);
        def_i(spec, "failedJobsHistoryLimit", 1);
        template_defaults(pl_json_path(spec, "jobTemplate", "spec", NULL), NULL);
    } else if (is(t, "storage.k8s.io", "StorageClass")) {
        def_s(obj, "reclaimPolicy", "Delete");
        def_s(obj, "volumeBindingMode", "Immediate");
    } else if (is(t, "scheduling.k8s.io", "PriorityClass")) {
        def_s(obj, "preemptionPolicy", "PreemptLowerPriority");
    } else if (is(t, "admissionregistration.k8s.io", "MutatingWebhookConfiguration")) {
        webhook_defaults(obj, 1);
    } else if (is(t, "admissionregistration.k8s.io", "ValidatingWebhookConfiguration")) {
        webhook_defaults(obj, 0);
    } else if (is(t, "networking.k8s.io", "NetworkPolicy")) {
        if (json_is_object(spec) && json_object_get(spec, "policyTypes") == NULL) {
            json_t *pt = json_pack("[s]", "Ingress");
            if (json_object_get(spec, "egress") != NULL)
                json_array_append_new(pt, json_string("Egress"));
            json_object_set_new(spec, "policyTypes", pt);
        }
    }
}
