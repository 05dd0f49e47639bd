/*
 * health.c - is a live object healthy? (see plumb/sync.h)
 *
 * The built-in rules are those Argo CD users know (gitops-engine pkg/health, which borrows
 * kubectl's rollout-status logic); OLM, MaaS and KServe objects follow ../shared/maas/SPEC.md
 * §6.2; anything else is judged by kstatus conventions (observedGeneration, Ready/Available).
 * Messages are kept short and say what is being waited for, because the sync report prints them
 * when a wave times out.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plumb/sync.h"

const char *pl_health_name(pl_health_status s)
{
    switch (s) {
    case PL_HEALTH_HEALTHY: return "Healthy";
    case PL_HEALTH_PROGRESSING: return "Progressing";
    case PL_HEALTH_SUSPENDED: return "Suspended";
    case PL_HEALTH_DEGRADED: return "Degraded";
    case PL_HEALTH_MISSING: return "Missing";
    default: return "Unknown";
    }
}

static void set(pl_health *h, pl_health_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set(pl_health *h, pl_health_status s, const char *fmt, ...)
{
    va_list ap;
    h->status = s;
    va_start(ap, fmt);
    vsnprintf(h->message, sizeof(h->message), fmt, ap);
    va_end(ap);
}

/* Integer at a path; `def` when absent or not an integer. */
static json_int_t num(const json_t *o, json_int_t def, const char *a, const char *b,
                      const char *c)
{
    const json_t *v = pl_json_path(o, a, b, c, NULL);
    return json_is_integer(v) ? json_integer_value(v) : def;
}

static const char *str(const json_t *o, const char *a, const char *b, const char *c)
{
    return pl_json_str(o, a, b, c, NULL);
}

/* The status.conditions entry of `type` (borrowed) or NULL. Type match ignores case, as
 * kubectl wait does. */
static const json_t *condition(const json_t *o, const char *type)
{
    const json_t *conds = pl_json_path(o, "status", "conditions", NULL);
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        const char *t = pl_json_str(c, "type", NULL);
        if (t && !strcasecmp(t, type))
            return c;
    }
    return NULL;
}

static const char *cond_status(const json_t *c)
{
    const char *s = c ? pl_json_str(c, "status", NULL) : NULL;
    return s ? s : "";
}

static const char *cond_text(const json_t *c)
{
    const char *m = c ? pl_json_str(c, "message", NULL) : NULL;
    if (!m || !*m)
        m = c ? pl_json_str(c, "reason", NULL) : NULL;
    return m ? m : "";
}

static int is_group(const char *api_version, const char *group)
{
    size_t n = strlen(group);
    return api_version && !strncmp(api_version, group, n) && api_version[n] == '/';
}

static void deployment(pl_health *h, const json_t *o)
{
    json_int_t gen = num(o, 0, "metadata", "generation", NULL);
    json_int_t obs = num(o, 0, "status", "observedGeneration", NULL);
    json_int_t want = num(o, -1, "spec", "replicas", NULL);
    json_int_t updated = num(o, 0, "status", "updatedReplicas", NULL);
    json_int_t replicas = num(o, 0, "status", "replicas", NULL);
    json_int_t avail = num(o, 0, "status", "availableReplicas", NULL);
    const json_t *paused = pl_json_path(o, "spec", "paused", NULL);
    if (json_is_true(paused)) {
        set(h, PL_HEALTH_SUSPENDED, "Deployment is paused");
        return;
    }
    if (gen > obs) {
        set(h, PL_HEALTH_PROGRESSING, "Waiting for rollout to finish: observed deployment "
                                      "generation less than desired generation");
        return;
    }
    const json_t *prog = condition(o, "Progressing");
    const char *reason = prog ? pl_json_str(prog, "reason", NULL) : NULL;
    if (reason && !strcmp(reason, "ProgressDeadlineExceeded"))
        set(h, PL_HEALTH_DEGRADED, "Deployment \"%s\" exceeded its progress deadline",
            str(o, "metadata", "name", NULL));
    else if (want >= 0 && updated < want)
        set(h, PL_HEALTH_PROGRESSING, "Waiting for rollout to finish: %lld out of %lld new "
                                      "replicas have been updated...",
            (long long)updated, (long long)want);
    else if (replicas > updated)
        set(h, PL_HEALTH_PROGRESSING,
            "Waiting for rollout to finish: %lld old replicas are pending termination...",
            (long long)(replicas - updated));
    else if (avail < updated)
        set(h, PL_HEALTH_PROGRESSING,
            "Waiting for rollout to finish: %lld of %lld updated replicas are available...",
            (long long)avail, (long long)updated);
    else
        set(h, PL_HEALTH_HEALTHY, "%s", "");
}

static void statefulset(pl_health *h, const json_t *o)
{
    json_int_t gen = num(o, 0, "metadata", "generation", NULL);
    json_int_t obs = num(o, 0, "status", "observedGeneration", NULL);
    json_int_t want = num(o, -1, "spec", "replicas", NULL);
    json_int_t ready = num(o, 0, "status", "readyReplicas", NULL);
    json_int_t updated = num(o, 0, "status", "updatedReplicas", NULL);
    const char *strategy = str(o, "spec", "updateStrategy", "type");
    const json_t *partition = pl_json_path(o, "spec", "updateStrategy", "rollingUpdate",
                                           "partition", NULL);
    const char *cur = str(o, "status", "currentRevision", NULL);
    const char *upd = str(o, "status", "updateRevision", NULL);
    if (obs == 0 || gen > obs) {
        set(h, PL_HEALTH_PROGRESSING, "Waiting for statefulset spec update to be observed...");
        return;
    }
    if (want >= 0 && ready < want) {
        set(h, PL_HEALTH_PROGRESSING, "Waiting for %lld pods to be ready...",
            (long long)(want - ready));
        return;
    }
    if ((!strategy || !strcmp(strategy, "RollingUpdate")) && json_is_integer(partition)) {
        json_int_t target = (want >= 0 ? want : 1) - json_integer_value(partition);
        if (updated < target)
            set(h, PL_HEALTH_PROGRESSING, "Waiting for partitioned roll out to finish: %lld out "
                                          "of %lld new pods have been updated...",
                (long long)updated, (long long)target);
        else
            set(h, PL_HEALTH_HEALTHY, "partitioned roll out complete: %lld new pods have been "
                                      "updated...", (long long)updated);
        return;
    }
    if (strategy && !strcmp(strategy, "OnDelete")) {
        set(h, PL_HEALTH_HEALTHY, "statefulset has %lld ready pods", (long long)ready);
        return;
    }
    if (cur && upd && strcmp(cur, upd)) {
        set(h, PL_HEALTH_PROGRESSING, "waiting for statefulset rolling update to complete %lld "
                                      "pods at revision %s...", (long long)updated, upd);
        return;
    }
    set(h, PL_HEALTH_HEALTHY, "%s", "");
}

static void daemonset(pl_health *h, const json_t *o)
{
    json_int_t gen = num(o, 0, "metadata", "generation", NULL);
    json_int_t obs = num(o, 0, "status", "observedGeneration", NULL);
    json_int_t desired = num(o, 0, "status", "desiredNumberScheduled", NULL);
    json_int_t updated = num(o, 0, "status", "updatedNumberScheduled", NULL);
    json_int_t avail = num(o, 0, "status", "numberAvailable", NULL);
    const char *strategy = str(o, "spec", "updateStrategy", "type");
    const char *name = str(o, "metadata", "name", NULL);
    if (gen > obs)
        set(h, PL_HEALTH_PROGRESSING, "Waiting for rollout to finish: observed daemon set "
                                      "generation less than desired generation");
    else if (strategy && !strcmp(strategy, "OnDelete"))
        set(h, PL_HEALTH_HEALTHY, "daemon set %lld out of %lld new pods have been updated",
            (long long)updated, (long long)desired);
    else if (updated < desired)
        set(h, PL_HEALTH_PROGRESSING, "Waiting for daemon set \"%s\" rollout to finish: %lld out "
                                      "of %lld new pods have been updated...",
            name, (long long)updated, (long long)desired);
    else if (avail < desired)
        set(h, PL_HEALTH_PROGRESSING, "Waiting for daemon set \"%s\" rollout to finish: %lld of "
                                      "%lld updated pods are available...",
            name, (long long)avail, (long long)desired);
    else
        set(h, PL_HEALTH_HEALTHY, "%s", "");
}

static void replicaset(pl_health *h, const json_t *o)
{
    json_int_t gen = num(o, 0, "metadata", "generation", NULL);
    json_int_t obs = num(o, 0, "status", "observedGeneration", NULL);
    json_int_t want = num(o, -1, "spec", "replicas", NULL);
    json_int_t avail = num(o, 0, "status", "availableReplicas", NULL);
    const json_t *fail = condition(o, "ReplicaFailure");
    if (gen > obs)
        set(h, PL_HEALTH_PROGRESSING, "Waiting for rollout to finish: observed replica set "
                                      "generation less than desired generation");
    else if (fail && !strcmp(cond_status(fail), "True"))
        set(h, PL_HEALTH_DEGRADED, "%s", cond_text(fail));
    else if (want >= 0 && avail < want)
        set(h, PL_HEALTH_PROGRESSING, "Waiting for rollout to finish: %lld out of %lld new "
                                      "replicas are available...",
            (long long)avail, (long long)want);
    else
        set(h, PL_HEALTH_HEALTHY, "%s", "");
}

static void job(pl_health *h, const json_t *o)
{
    const json_t *failed = condition(o, "Failed");
    const json_t *complete = condition(o, "Complete");
    const json_t *suspended = condition(o, "Suspended");
    if (failed && !strcmp(cond_status(failed), "True"))
        set(h, PL_HEALTH_DEGRADED, "%s", cond_text(failed));
    else if (complete && !strcmp(cond_status(complete), "True"))
        set(h, PL_HEALTH_HEALTHY, "%s", cond_text(complete));
    else if (suspended && !strcmp(cond_status(suspended), "True"))
        set(h, PL_HEALTH_SUSPENDED, "%s", cond_text(suspended));
    else
        set(h, PL_HEALTH_PROGRESSING, "job is running");
}

/* Pods matter as hooks: Succeeded is done, Failed is Degraded; a running pod is healthy once
 * Ready (restartPolicy Always), still progressing otherwise. */
static void pod(pl_health *h, const json_t *o)
{
    const char *phase = str(o, "status", "phase", NULL);
    const char *restart = str(o, "spec", "restartPolicy", NULL);
    const json_t *ready = condition(o, "Ready");
    if (phase && !strcmp(phase, "Succeeded"))
        set(h, PL_HEALTH_HEALTHY, "pod completed");
    else if (phase && !strcmp(phase, "Failed"))
        set(h, PL_HEALTH_DEGRADED, "%s", str(o, "status", "message", NULL)
                                             ? str(o, "status", "message", NULL) : "pod failed");
    else if (phase && !strcmp(phase, "Running") && (!restart || !strcmp(restart, "Always")) &&
             ready && !strcmp(cond_status(ready), "True"))
        set(h, PL_HEALTH_HEALTHY, "%s", "");
    else
        set(h, PL_HEALTH_PROGRESSING, "pod phase %s", phase ? phase : "Pending");
}

static void pvc(pl_health *h, const json_t *o)
{
    const char *phase = str(o, "status", "phase", NULL);
    if (!phase)
        set(h, PL_HEALTH_PROGRESSING, "waiting for the claim to be bound");
    else if (!strcmp(phase, "Bound"))
        set(h, PL_HEALTH_HEALTHY, "%s", "");
    else if (!strcmp(phase, "Lost"))
        set(h, PL_HEALTH_DEGRADED, "claim is Lost");
    else if (!strcmp(phase, "Pending"))
        set(h, PL_HEALTH_PROGRESSING, "claim is Pending");
    else
        set(h, PL_HEALTH_UNKNOWN, "claim phase %s", phase);
}

static int has_lb_ingress(const json_t *o)
{
    return json_array_size(pl_json_path(o, "status", "loadBalancer", "ingress", NULL)) > 0;
}

static void service(pl_health *h, const json_t *o)
{
    const char *type = str(o, "spec", "type", NULL);
    if (type && !strcmp(type, "LoadBalancer") && !has_lb_ingress(o))
        set(h, PL_HEALTH_PROGRESSING, "waiting for a load balancer address");
    else
        set(h, PL_HEALTH_HEALTHY, "%s", "");
}

static void ingress(pl_health *h, const json_t *o)
{
    if (has_lb_ingress(o))
        set(h, PL_HEALTH_HEALTHY, "%s", "");
    else
        set(h, PL_HEALTH_PROGRESSING, "waiting for a load balancer address");
}

static void namespace_(pl_health *h, const json_t *o)
{
    const char *phase = str(o, "status", "phase", NULL);
    if (phase && !strcmp(phase, "Terminating"))
        set(h, PL_HEALTH_PROGRESSING, "namespace is terminating");
    else
        set(h, PL_HEALTH_HEALTHY, "%s", "");
}

static void crd(pl_health *h, const json_t *o)
{
    const json_t *names = condition(o, "NamesAccepted");
    const json_t *est = condition(o, "Established");
    const json_t *term = condition(o, "Terminating");
    if (term && !strcmp(cond_status(term), "True"))
        set(h, PL_HEALTH_PROGRESSING, "CRD is terminating");
    else if (names && !strcmp(cond_status(names), "False"))
        set(h, PL_HEALTH_DEGRADED, "names not accepted: %s", cond_text(names));
    else if (est && !strcmp(cond_status(est), "True"))
        set(h, PL_HEALTH_HEALTHY, "%s", "");
    else
        set(h, PL_HEALTH_PROGRESSING, "waiting for the CRD to become Established");
}

static void apiservice(pl_health *h, const json_t *o)
{
    const json_t *av = condition(o, "Available");
    if (av && !strcmp(cond_status(av), "True"))
        set(h, PL_HEALTH_HEALTHY, "%s", "");
    else if (av)
        set(h, PL_HEALTH_PROGRESSING, "%s", cond_text(av));
    else
        set(h, PL_HEALTH_PROGRESSING, "waiting for the APIService to become Available");
}

static void csv(pl_health *h, const json_t *o)
{
    const char *phase = str(o, "status", "phase", NULL);
    if (phase && !strcmp(phase, "Succeeded"))
        set(h, PL_HEALTH_HEALTHY, "%s", "");
    else if (phase && !strcmp(phase, "Failed"))
        set(h, PL_HEALTH_DEGRADED, "%s",
            str(o, "status", "message", NULL) ? str(o, "status", "message", NULL)
                                              : "ClusterServiceVersion failed");
    else
        set(h, PL_HEALTH_PROGRESSING, "ClusterServiceVersion phase %s",
            phase ? phase : "(none yet)");
}

static void subscription(pl_health *h, const json_t *o, pl_health_lookup_fn lookup,
                         void *payload)
{
    static const char *const bad[] = {"CatalogSourcesUnhealthy", "InstallPlanFailed",
                                      "ResolutionFailed"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const json_t *c = condition(o, bad[i]);
        /* CatalogSourcesUnhealthy is "True" when unhealthy; the others likewise */
        if (c && !strcmp(cond_status(c), "True")) {
            set(h, PL_HEALTH_DEGRADED, "%s: %s", bad[i], cond_text(c));
            return;
        }
    }
    const char *installed = str(o, "status", "installedCSV", NULL);
    const char *approval = str(o, "spec", "installPlanApproval", NULL);
    const char *state = str(o, "status", "state", NULL);
    if (!installed) {
        if (approval && !strcmp(approval, "Manual") && state && !strcmp(state, "UpgradePending"))
            set(h, PL_HEALTH_PROGRESSING, "waiting for approval of the install plan");
        else
            set(h, PL_HEALTH_PROGRESSING, "waiting for an installed ClusterServiceVersion");
        return;
    }
    if (!lookup) {
        if (state && !strcmp(state, "AtLatestKnown"))
            set(h, PL_HEALTH_HEALTHY, "%s", "");
        else
            set(h, PL_HEALTH_PROGRESSING, "subscription state %s", state ? state : "(none)");
        return;
    }
    json_t *c = lookup(payload, "operators.coreos.com/v1alpha1", "ClusterServiceVersion",
                       str(o, "metadata", "namespace", NULL), installed);
    if (!c) {
        set(h, PL_HEALTH_PROGRESSING, "waiting for ClusterServiceVersion %s", installed);
        return;
    }
    csv(h, c);
    if (h->status != PL_HEALTH_HEALTHY) {
        char inner[sizeof(h->message)];
        snprintf(inner, sizeof(inner), "%s", h->message);
        set(h, h->status, "%s: %s", installed, inner);
    }
    json_decref(c);
}

/* status.phase conventions of the MaaS objects (../shared/maas/SPEC.md §6.2). */
static void maas_phase(pl_health *h, const json_t *o, const char *ready)
{
    const char *phase = str(o, "status", "phase", NULL);
    if (phase && !strcmp(phase, ready))
        set(h, PL_HEALTH_HEALTHY, "%s", "");
    else if (phase && (!strcmp(phase, "Failed") || !strcmp(phase, "Invalid") ||
                       !strcmp(phase, "Degraded") || !strcmp(phase, "Unhealthy")))
        set(h, PL_HEALTH_DEGRADED, "phase %s", phase);
    else
        set(h, PL_HEALTH_PROGRESSING, "phase %s", phase ? phase : "(none yet)");
}

/* kstatus: observedGeneration behind means in progress; Ready (else Available) decides. */
static void generic(pl_health *h, const json_t *o)
{
    const json_t *obs = pl_json_path(o, "status", "observedGeneration", NULL);
    json_int_t gen = num(o, 0, "metadata", "generation", NULL);
    if (json_is_integer(obs) && json_integer_value(obs) < gen) {
        set(h, PL_HEALTH_PROGRESSING, "waiting for the controller to observe generation %lld",
            (long long)gen);
        return;
    }
    const json_t *c = condition(o, "Ready");
    if (!c)
        c = condition(o, "Available");
    if (!c) {
        const json_t *stalled = condition(o, "Stalled");
        if (stalled && !strcmp(cond_status(stalled), "True"))
            set(h, PL_HEALTH_DEGRADED, "%s", cond_text(stalled));
        else
            set(h, PL_HEALTH_HEALTHY, "%s", "");
        return;
    }
    const char *s = cond_status(c);
    const json_t *stalled = condition(o, "Stalled");
    if (!strcmp(s, "True"))
        set(h, PL_HEALTH_HEALTHY, "%s", "");
    else if (!strcmp(s, "False") && stalled && !strcmp(cond_status(stalled), "True"))
        set(h, PL_HEALTH_DEGRADED, "%s", cond_text(stalled));
    else
        set(h, PL_HEALTH_PROGRESSING, "%s=%s%s%s", pl_json_str(c, "type", NULL), s[0] ? s : "?",
            cond_text(c)[0] ? ": " : "", cond_text(c));
}

int pl_health_needs_live(const json_t *obj)
{
    /* core and RBAC kinds that carry no status and that no controller judges */
    static const char *const core_kinds[] = {"ConfigMap", "Secret", "ServiceAccount",
                                             "LimitRange", "Endpoints"};
    static const char *const rbac_kinds[] = {"Role", "RoleBinding", "ClusterRole",
                                             "ClusterRoleBinding"};
    const char *kind = str(obj, "kind", NULL, NULL), *av = str(obj, "apiVersion", NULL, NULL);
    size_t i;

    if (!kind || !av)
        return 1;
    if (!strchr(av, '/')) {
        for (i = 0; i < sizeof(core_kinds) / sizeof(core_kinds[0]); i++)
            if (!strcmp(kind, core_kinds[i]))
                return 0;
        if (!strcmp(kind, "Service")) {
            const char *type = str(obj, "spec", "type", NULL);
            return type && !strcmp(type, "LoadBalancer");
        }
        return 1;
    }
    if (is_group(av, "rbac.authorization.k8s.io"))
        for (i = 0; i < sizeof(rbac_kinds) / sizeof(rbac_kinds[0]); i++)
            if (!strcmp(kind, rbac_kinds[i]))
                return 0;
    return 1;
}

void pl_health_assess(pl_health *out, const json_t *live, pl_health_lookup_fn lookup,
                      void *payload)
{
    out->message[0] = '\0';
    if (!live) {
        set(out, PL_HEALTH_MISSING, "object does not exist");
        return;
    }
    const char *kind = str(live, "kind", NULL, NULL);
    const char *av = str(live, "apiVersion", NULL, NULL);
    if (!kind)
        kind = "";
    if (!av)
        av = "";
    /* an object on its way out is not healthy, whatever its status says (gitops-engine) */
    if (pl_json_path(live, "metadata", "deletionTimestamp", NULL) && strcmp(kind, "Namespace")) {
        set(out, PL_HEALTH_PROGRESSING, "Pending deletion");
        return;
    }
    int core = !strchr(av, '/');
    if (is_group(av, "apps") && !strcmp(kind, "Deployment"))
        deployment(out, live);
    else if (is_group(av, "apps") && !strcmp(kind, "StatefulSet"))
        statefulset(out, live);
    else if (is_group(av, "apps") && !strcmp(kind, "DaemonSet"))
        daemonset(out, live);
    else if (is_group(av, "apps") && !strcmp(kind, "ReplicaSet"))
        replicaset(out, live);
    else if (is_group(av, "batch") && !strcmp(kind, "Job"))
        job(out, live);
    else if (core && !strcmp(kind, "Pod"))
        pod(out, live);
    else if (core && !strcmp(kind, "PersistentVolumeClaim"))
        pvc(out, live);
    else if (core && !strcmp(kind, "Service"))
        service(out, live);
    else if (core && !strcmp(kind, "Namespace"))
        namespace_(out, live);
    else if (is_group(av, "networking.k8s.io") && !strcmp(kind, "Ingress"))
        ingress(out, live);
    else if (is_group(av, "apiextensions.k8s.io") && !strcmp(kind, "CustomResourceDefinition"))
        crd(out, live);
    else if (is_group(av, "apiregistration.k8s.io") && !strcmp(kind, "APIService"))
        apiservice(out, live);
    else if (is_group(av, "operators.coreos.com") && !strcmp(kind, "Subscription"))
        subscription(out, live, lookup, payload);
    else if (is_group(av, "operators.coreos.com") && !strcmp(kind, "ClusterServiceVersion"))
        csv(out, live);
    else if (!strcmp(kind, "MaaSModelRef") || !strcmp(kind, "ExternalModel"))
        maas_phase(out, live, "Ready");
    else if (!strcmp(kind, "MaaSAuthPolicy") || !strcmp(kind, "MaaSSubscription"))
        maas_phase(out, live, "Active");
    else if (core && (!strcmp(kind, "ConfigMap") || !strcmp(kind, "Secret") ||
                      !strcmp(kind, "ServiceAccount") || !strcmp(kind, "Endpoints")))
        set(out, PL_HEALTH_HEALTHY, "%s", "");
    else
        generic(out, live);
}
