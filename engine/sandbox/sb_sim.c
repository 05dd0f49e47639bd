/*
 * sb_sim.c - --simulate-status: after srv->simulate_delay_ms since an object's last write,
 * the sandbox plays the controllers a bootstrap waits for. Deployments, StatefulSets,
 * DaemonSets and ReplicaSets report their replicas ready; Jobs complete; PVCs are Bound;
 * LoadBalancer Services get an ingress IP; OLM Subscriptions get status.installedCSV (and a
 * Succeeded ClusterServiceVersion when that CRD exists); custom resources whose CRD schema
 * declares status.conditions get Ready=True (plus observedGeneration when declared). Each
 * status change is a real write (new RV, MODIFIED event, a managedFields entry for the
 * status subresource). A spec change (generation bump) is simulated again. Runs with the
 * store lock held.
 */
#include <string.h>

#include "sb_api_int.h"

#define SIM_MANAGER "plumb-sandbox"

static int64_t gen_of(const json_t *obj)
{
    json_t *g = pl_json_path(obj, "metadata", "generation", NULL);
    return json_is_integer(g) ? json_integer_value(g) : 0;
}

static json_t *cond(const char *type, const char *status, const char *now, const char *reason,
                    const char *message)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", type, "status", status,
                     "lastUpdateTime", now, "lastTransitionTime", now, "reason", reason,
                     "message", message);
}

/* Write `status` (taken) as obj's new status when it differs. */
static void write_status(sb_server *srv, sb_coll *c, sb_entry *e, json_t *status,
                         const char *api_version, const json_t *schema_holder)
{
    (void)schema_holder;
    if (json_equal(status, json_object_get(e->obj, "status"))) {
        json_decref(status);
        return;
    }
    char now[32];
    sb_now_rfc3339(now, sizeof(now));
    /* Only metadata (managedFields, resourceVersion) and status change: copy those levels and
     * share the rest with the stored version (stored objects are never modified in place),
     * which also lets the field comparison skip the shared subtrees. */
    json_t *n = json_copy(e->obj);
    json_t *meta = json_copy(json_object_get(e->obj, "metadata"));
    if (n == NULL || meta == NULL) {
        json_decref(n);
        json_decref(meta);
        json_decref(status);
        return;
    }
    json_object_set_new(n, "metadata", meta);
    json_object_set_new(n, "status", status);
    const sb_type *t = NULL;
    const char *av = pl_json_str(e->obj, "apiVersion", NULL);
    if (av != NULL) {
        const char *slash = strchr(av, '/');
        char group[256];
        if (slash != NULL) {
            snprintf(group, sizeof(group), "%.*s", (int)(slash - av), av);
            t = sb_types_by_resource(srv->types, group, slash + 1, c->resource);
        } else {
            t = sb_types_by_resource(srv->types, "", av, c->resource);
        }
    }
    sb_fm_opts o = {SIM_MANAGER, api_version ? api_version : av, "status", 0, now};
    sb_ssa_update(n, t ? t->schema : NULL, e->obj, &o);
    json_t *out = NULL;
    int gone = 0;
    sb_update_or_finish(srv, c, n, &out, &gone);
    json_decref(out);
}

static int due(sb_server *srv, const sb_entry *e, int64_t now)
{
    if (pl_json_path(e->obj, "metadata", "deletionTimestamp", NULL) != NULL)
        return 0;
    return now - e->mtime_ms >= srv->simulate_delay_ms;
}

/*
 * One function per kind looks at one stored object and writes its simulated status when due.
 * sb_sim_tick runs them over whole collections; sb_sim_written over the one object a write
 * just stored.
 */
typedef void (*sim_fn)(sb_server *srv, sb_coll *c, sb_entry *e, int64_t now_ms,
                       const char *now);

static void sim_workload(sb_server *srv, sb_coll *c, sb_entry *e, int64_t now_ms,
                         const char *now)
{
    if (!due(srv, e, now_ms))
        return;
    const char *resource = c->resource;
    const json_t *obj = e->obj;
    json_t *r = pl_json_path(obj, "spec", "replicas", NULL);
    long long replicas = json_is_integer(r) ? json_integer_value(r) : 1;
    int daemon = strcmp(resource, "daemonsets") == 0;
    if (daemon)
        replicas = 1;
    json_t *old = json_object_get(obj, "status");
    if (json_is_integer(json_object_get(old, "observedGeneration")) &&
        json_integer_value(json_object_get(old, "observedGeneration")) == gen_of(obj))
        return;
    json_t *st = json_object();
    json_object_set_new(st, "observedGeneration", json_integer(gen_of(obj)));
    if (daemon) {
        json_object_set_new(st, "currentNumberScheduled", json_integer(replicas));
        json_object_set_new(st, "numberMisscheduled", json_integer(0));
        json_object_set_new(st, "desiredNumberScheduled", json_integer(replicas));
        json_object_set_new(st, "numberReady", json_integer(replicas));
        json_object_set_new(st, "updatedNumberScheduled", json_integer(replicas));
        json_object_set_new(st, "numberAvailable", json_integer(replicas));
    } else {
        json_object_set_new(st, "replicas", json_integer(replicas));
        json_object_set_new(st, "updatedReplicas", json_integer(replicas));
        json_object_set_new(st, "readyReplicas", json_integer(replicas));
        json_object_set_new(st, "availableReplicas", json_integer(replicas));
        if (strcmp(resource, "statefulsets") == 0) {
            json_object_set_new(st, "currentReplicas", json_integer(replicas));
            json_object_set_new(st, "currentRevision", json_string("sim"));
            json_object_set_new(st, "updateRevision", json_string("sim"));
            json_object_set_new(st, "collisionCount", json_integer(0));
        }
        if (strcmp(resource, "replicasets") == 0)
            json_object_set_new(st, "fullyLabeledReplicas", json_integer(replicas));
    }
    if (strcmp(resource, "deployments") == 0) {
        pl_buf m = PL_BUF_INIT;
        pl_buf_printf(&m, "ReplicaSet \"%s-sim\" has successfully progressed.", e->name);
        json_object_set_new(st, "conditions",
                            json_pack("[o,o]",
                                      cond("Available", "True", now, "MinimumReplicasAvailable",
                                           "Deployment has minimum availability."),
                                      cond("Progressing", "True", now, "NewReplicaSetAvailable",
                                           m.ptr)));
        pl_buf_dispose(&m);
    }
    write_status(srv, c, e, st, "apps/v1", NULL);
}

static void sim_job(sb_server *srv, sb_coll *c, sb_entry *e, int64_t now_ms, const char *now)
{
    if (!due(srv, e, now_ms) || pl_json_path(e->obj, "status", "succeeded", NULL) != NULL)
        return;
    json_t *st = json_pack("{s:[{s:s,s:s,s:s,s:s}],s:s,s:s,s:i,s:i,s:i}", "conditions", "type",
                           "Complete", "status", "True", "lastProbeTime", now,
                           "lastTransitionTime", now, "startTime", now, "completionTime", now,
                           "succeeded", 1, "ready", 0, "terminating", 0);
    write_status(srv, c, e, st, "batch/v1", NULL);
}

static void sim_pvc(sb_server *srv, sb_coll *c, sb_entry *e, int64_t now_ms, const char *now)
{
    (void)now;
    const char *phase = pl_json_str(e->obj, "status", "phase", NULL);
    if (!due(srv, e, now_ms) || (phase != NULL && strcmp(phase, "Bound") == 0))
        return;
    json_t *req = pl_json_path(e->obj, "spec", "resources", "requests", NULL);
    json_t *am = pl_json_path(e->obj, "spec", "accessModes", NULL);
    json_t *st = json_pack("{s:s,s:o,s:o}", "phase", "Bound", "accessModes",
                           am ? json_deep_copy(am) : json_array(), "capacity",
                           req ? json_deep_copy(req) : json_object());
    write_status(srv, c, e, st, "v1", NULL);
}

static void sim_service(sb_server *srv, sb_coll *c, sb_entry *e, int64_t now_ms,
                        const char *now)
{
    (void)now;
    const char *type = pl_json_str(e->obj, "spec", "type", NULL);
    if (type == NULL || strcmp(type, "LoadBalancer") != 0 || !due(srv, e, now_ms) ||
        pl_json_path(e->obj, "status", "loadBalancer", "ingress", NULL) != NULL)
        return;
    unsigned h = 0;
    for (const char *p = e->name; *p; p++)
        h = h * 31u + (unsigned char)*p;
    char ip[32];
    snprintf(ip, sizeof(ip), "172.18.%u.%u", (h >> 8) % 256, 1 + h % 254);
    json_t *st = json_pack("{s:{s:[{s:s,s:s}]}}", "loadBalancer", "ingress", "ip", ip, "ipMode",
                           "VIP");
    write_status(srv, c, e, st, "v1", NULL);
}

static const sb_type *type_of_coll(sb_server *srv, sb_coll *c, const json_t *obj)
{
    const char *av = pl_json_str(obj, "apiVersion", NULL);
    const char *slash = av ? strchr(av, '/') : NULL;
    if (slash == NULL)
        return NULL;
    return sb_types_by_resource(srv->types, c->group, slash + 1, c->resource);
}

static void sim_subscription(sb_server *srv, sb_coll *c, sb_entry *e, int64_t now_ms,
                             const char *now)
{
    sb_store *st = srv->store;
    if (!due(srv, e, now_ms) || pl_json_path(e->obj, "status", "installedCSV", NULL) != NULL)
        return;
    const sb_type *csv_t = sb_types_by_resource(srv->types, "operators.coreos.com", "v1alpha1",
                                                "clusterserviceversions");
    const char *start = pl_json_str(e->obj, "spec", "startingCSV", NULL);
    pl_buf csv = PL_BUF_INIT;
    if (start != NULL && start[0])
        pl_buf_puts(&csv, start);
    else
        pl_buf_printf(&csv, "%s.v0.0.0", e->name);
    if (csv_t != NULL) {
        /* a Succeeded ClusterServiceVersion in the same namespace */
        sb_coll *cc = sb_store_coll(st, csv_t->group, csv_t->resource, csv_t->kind, 1);
        if (cc != NULL && sb_store_get(cc, e->ns, csv.ptr) == NULL) {
            char uid[37];
            sb_uuid4(uid);
            json_t *o = json_pack(
                "{s:s,s:s,s:{s:s,s:s,s:s,s:s,s:i},s:{s:s,s:s,s:{}},s:{s:s,s:s,s:s}}", "kind",
                "ClusterServiceVersion", "apiVersion", "operators.coreos.com/v1alpha1",
                "metadata", "name", csv.ptr, "namespace", e->ns, "uid", uid, "creationTimestamp",
                now, "generation", 1, "spec", "displayName", csv.ptr, "version", "0.0.0",
                "install", "status", "phase", "Succeeded", "reason", "InstallSucceeded",
                "message", "install strategy completed with no errors");
            sb_fm_opts fo = {SIM_MANAGER, "operators.coreos.com/v1alpha1", NULL, 0, now};
            sb_ssa_update(o, csv_t->schema, NULL, &fo);
            sb_store_put(st, cc, o, NULL); /* another collection: e stays valid */
        }
    }
    json_t *s = json_object_get(e->obj, "status");
    json_t *ns_st = json_is_object(s) ? json_deep_copy(s) : json_object();
    json_object_set_new(ns_st, "installedCSV", json_string(csv.ptr));
    json_object_set_new(ns_st, "currentCSV", json_string(csv.ptr));
    json_object_set_new(ns_st, "state", json_string("AtLatestKnown"));
    json_object_set_new(ns_st, "lastUpdated", json_string(now));
    write_status(srv, c, e, ns_st, NULL, NULL);
    pl_buf_dispose(&csv);
}

/* What a CRD's storage schema declares of status: Ready=True goes into declared
 * status.conditions (+ observedGeneration when declared); a declared status.phase enum gets
 * its "done" value. */
typedef struct custom_status {
    int has_conds, has_og;
    const char *phase_done;
} custom_status;

/* 1 when the CRD's custom resources get a simulated status (and fills cs). */
static int custom_status_of(const json_t *crd, custom_status *cs)
{
    const json_t *schema = NULL;
    size_t i;
    json_t *v;
    json_array_foreach(pl_json_path(crd, "spec", "versions", NULL), i, v) {
        if (json_is_true(json_object_get(v, "storage")))
            schema = pl_json_path(v, "schema", "openAPIV3Schema", NULL);
    }
    const json_t *sprops = pl_json_path(schema, "properties", "status", "properties", NULL);
    /* a status.phase with an enum: the first "done" value it allows (MaaS objects report
     * Ready or Active, ../shared/maas/SPEC.md §6.2) */
    static const char *const done_phases[] = {"Ready", "Active", "Succeeded", "Running",
                                              "Bound"};
    const json_t *penum = pl_json_path(sprops, "phase", "enum", NULL);
    cs->phase_done = NULL;
    for (size_t d = 0; d < sizeof(done_phases) / sizeof(done_phases[0]) && !cs->phase_done;
         d++) {
        size_t pi;
        json_t *pv;
        json_array_foreach(penum, pi, pv) {
            if (json_is_string(pv) && !strcmp(json_string_value(pv), done_phases[d]))
                cs->phase_done = done_phases[d];
        }
    }
    cs->has_conds = pl_json_path(sprops, "conditions", NULL) != NULL;
    cs->has_og = pl_json_path(sprops, "observedGeneration", NULL) != NULL;
    return cs->has_conds || cs->phase_done != NULL;
}

static void sim_custom_one(sb_server *srv, sb_coll *c, sb_entry *e, int64_t now_ms,
                           const char *now, const custom_status *cs)
{
    if (!due(srv, e, now_ms))
        return;
    json_t *s = json_object_get(e->obj, "status");
    json_t *conds = json_object_get(s, "conditions");
    int ready = 0;
    size_t x;
    json_t *cnd;
    json_array_foreach(conds, x, cnd) {
        const char *ty = pl_json_str(cnd, "type", NULL);
        const char *st = pl_json_str(cnd, "status", NULL);
        if (ty && st && strcmp(ty, "Ready") == 0 && strcmp(st, "True") == 0)
            ready = 1;
    }
    int og_ok = !cs->has_og ||
                (json_is_integer(json_object_get(s, "observedGeneration")) &&
                 json_integer_value(json_object_get(s, "observedGeneration")) == gen_of(e->obj));
    if (!cs->has_conds)
        ready = 1;
    const char *cur_phase = pl_json_str(s, "phase", NULL);
    int phase_ok = !cs->phase_done || (cur_phase && !strcmp(cur_phase, cs->phase_done));
    if (ready && og_ok && phase_ok)
        return;
    json_t *ns_st = json_is_object(s) ? json_deep_copy(s) : json_object();
    json_t *nc = json_array();
    json_array_foreach(conds, x, cnd) {
        const char *ty = pl_json_str(cnd, "type", NULL);
        if (ty == NULL || strcmp(ty, "Ready") != 0)
            json_array_append(nc, cnd);
    }
    json_t *rc = json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", "Ready", "status", "True",
                           "lastTransitionTime", now, "reason", "Succeeded", "message",
                           "simulated by plumb sandbox");
    if (cs->has_og)
        json_object_set_new(rc, "observedGeneration", json_integer(gen_of(e->obj)));
    json_array_append_new(nc, rc);
    if (cs->has_conds)
        json_object_set_new(ns_st, "conditions", nc);
    else
        json_decref(nc);
    if (cs->phase_done)
        json_object_set_new(ns_st, "phase", json_string(cs->phase_done));
    if (cs->has_og)
        json_object_set_new(ns_st, "observedGeneration", json_integer(gen_of(e->obj)));
    const sb_type *t = type_of_coll(srv, c, e->obj);
    /* keep what the schema declares (a CR schema may not allow our extra keys) */
    if (t != NULL && t->schema != NULL) {
        json_t *probe = json_deep_copy(e->obj);
        json_object_set(probe, "status", ns_st);
        json_t *dropped = json_array(), *causes = json_array();
        sb_schema_prune_default_validate(t->schema, probe, dropped, causes);
        json_t *ps = json_object_get(probe, "status");
        json_decref(ns_st);
        ns_st = json_is_object(ps) ? json_incref(ps) : json_object();
        json_decref(dropped);
        json_decref(causes);
        json_decref(probe);
    }
    write_status(srv, c, e, ns_st, NULL, NULL);
}

/* Custom resources of the CRDs that declare a status we simulate; only_c / only (may be NULL):
 * just that collection and entry. */
static void sim_custom(sb_server *srv, int64_t now_ms, const char *now, const sb_coll *only_c,
                       sb_entry *only)
{
    sb_store *st = srv->store;
    sb_coll *crds = sb_store_find_coll(st, "apiextensions.k8s.io", "customresourcedefinitions");
    for (size_t k = 0; crds != NULL && k < crds->n; k++) {
        const json_t *crd = crds->items[k]->obj;
        const char *group = pl_json_str(crd, "spec", "group", NULL);
        const char *plural = pl_json_str(crd, "spec", "names", "plural", NULL);
        custom_status cs;
        if (group == NULL || plural == NULL || strcmp(group, "operators.coreos.com") == 0)
            continue;
        if (only_c != NULL && (strcmp(only_c->group, group) != 0 ||
                               strcmp(only_c->resource, plural) != 0))
            continue;
        if (!custom_status_of(crd, &cs))
            continue;
        sb_coll *c = sb_store_find_coll(st, group, plural);
        if (c == NULL)
            continue;
        if (only != NULL) {
            sim_custom_one(srv, c, only, now_ms, now, &cs);
            return;
        }
        /* a status write replaces the entry's object, never the entry or its place */
        for (size_t j = 0; j < c->n; j++)
            sim_custom_one(srv, c, c->items[j], now_ms, now, &cs);
    }
}

/* the built-in kinds with a simulated controller */
static const struct {
    const char *group, *resource;
    sim_fn fn;
} sims[] = {
    {"apps", "deployments", sim_workload},
    {"apps", "statefulsets", sim_workload},
    {"apps", "daemonsets", sim_workload},
    {"apps", "replicasets", sim_workload},
    {"batch", "jobs", sim_job},
    {"", "persistentvolumeclaims", sim_pvc},
    {"", "services", sim_service},
    {"operators.coreos.com", "subscriptions", sim_subscription},
};

void sb_sim_tick(sb_server *srv)
{
    char now[32];
    sb_now_rfc3339(now, sizeof(now));
    int64_t now_ms = sb_mono_ms();
    for (size_t k = 0; k < sizeof(sims) / sizeof(sims[0]); k++) {
        sb_coll *c = sb_store_find_coll(srv->store, sims[k].group, sims[k].resource);
        /* a status write replaces the entry's object, never the entry or its place; a
         * Subscription's CSV goes into another collection */
        for (size_t i = 0; c != NULL && i < c->n; i++)
            sims[k].fn(srv, c, c->items[i], now_ms, now);
    }
    sim_custom(srv, now_ms, now, NULL, NULL);
}

void sb_sim_written(sb_server *srv, sb_coll *c, sb_entry *e)
{
    if (!srv->simulate_status || srv->simulate_delay_ms > 0 || c == NULL || e == NULL)
        return;
    char now[32];
    sb_now_rfc3339(now, sizeof(now));
    int64_t now_ms = sb_mono_ms();
    for (size_t k = 0; k < sizeof(sims) / sizeof(sims[0]); k++)
        if (strcmp(c->group, sims[k].group) == 0 && strcmp(c->resource, sims[k].resource) == 0) {
            sims[k].fn(srv, c, e, now_ms, now);
            return;
        }
    if (strchr(c->group, '.') != NULL && strcmp(c->group, "operators.coreos.com") != 0)
        sim_custom(srv, now_ms, now, c, e);
}
