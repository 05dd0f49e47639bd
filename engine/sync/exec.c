/*
 * exec.c - the step-wise executor of one app's sync (see plumb/sync.h).
 *
 * Flow (each arrow is one or more steps; nothing here sleeps, the caller waits between steps):
 *
 *   inventory  GET the ApplySet parent; LIST its members by label, GET desired objects that
 *              the lists did not return
 *   classify   per object: unchanged (its applied-hash annotation matches and every desired
 *              field has the live value: no request at all), otherwise a server-side dry run
 *              decides (the response equals the live object: unchanged), missing: create
 *   parent     record the inventory (old members plus new ones) before anything is written, so
 *              an interrupted sync still knows what it created (kubectl's ApplySet order)
 *   groups     per (phase, wave), in plan order: hooks are deleted first when their policy says
 *              so; Namespaces and CRDs are applied and CRDs awaited (Established) before the
 *              rest; then everything else in parallel; then health is polled until the whole
 *              group is healthy (or Degraded, or the wave times out)
 *   restarts   workloads named by plumb.dev/restart-on-change of a changed ConfigMap/Secret
 *   prune      members no longer in Git, with --prune only, reverse kind order, never
 *              Namespaces/CRDs without --prune-confirm
 *   parent     the exact inventory
 *   PostSync   hooks; SyncFail hooks instead when the sync failed
 *
 * Hooks run only when the app has something to change, as in Argo CD. A custom resource whose
 * CRD exists nowhere fails alone; any other failed write stops the app before its next group.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "plumb/drift.h"
#include "plumb/kube.h"
#include "plumb/sync.h"

#define DEFAULT_INVENTORY_NS "kube-system"
#define PARENT_PREFIX "plumb-applyset-"
#define TOOLING "plumb/" PLUMB_VERSION

typedef enum {
    ST_PARENT_GET,
    ST_LIVE,
    ST_CLASSIFY,
    ST_PARENT_PRE,
    ST_GROUP_BEGIN,
    ST_HOOK_DELETE,
    ST_APPLY_DEPS,
    ST_WAIT_CRDS,
    ST_APPLY_REST,
    ST_HEALTH,
    ST_RESTARTS,
    ST_PRUNE,
    ST_PARENT_POST,
    ST_HOOK_CLEANUP,
    ST_OBSERVE_EXTRAS,
    ST_DONE,
} stage;

typedef struct task {
    pl_sync_task *t;  /* borrowed from the plan */
    json_t *send;     /* owned: what is applied (label, hash annotation, namespace fixed) */
    json_t *live;     /* owned: live object, or NULL */
    json_t *predicted; /* owned: the dry-run result (observe mode), or NULL */
    int live_is_sent; /* `live` is the object as sent (the apply response was not decoded) */
    char key[512];    /* group/Kind/ns/name */
    size_t item;      /* index in items */
    int changed;      /* needs a write */
    int adopt_only;   /* CreateNamespace namespace: created when missing, never tracked */
    int pending_crd;  /* kind unknown to the server, defined by a CRD of this app */
    int done;         /* applied (or failed) in its group */
    int healthy;
} task;

typedef struct inv_entry {
    char *api_version, *kind, *ns, *name;
} inv_entry;

struct pl_sync_app {
    pl_kube *k;
    pl_sync_app_opts o;
    char *name, *dest_ns, *inv_ns, *manager, *propagation;
    json_t *desired;
    pl_sync_plan plan;
    task *tasks;
    size_t ntasks;
    pl_sync_item *items;
    size_t nitems, capitems;
    stage st;
    int sub;             /* position inside the current stage */
    pl_kube_batch *batch;
    size_t *batch_task; /* batch index -> task index (or SIZE_MAX) */
    size_t nbatch_task;
    char parent_id[64];
    char parent_name[256];
    json_t *parent;      /* live parent ConfigMap or NULL */
    inv_entry *inv;      /* previous inventory */
    size_t ninv;
    json_t *live_by_key; /* key -> live object (borrowed refs inside a json object) */
    json_t *health_keys; /* key -> task index of members polled by LIST in this health pass */
    json_t *desired_keys; /* set of the keys of non-hook tasks (built after scopes resolve) */
    int poll_step;        /* health polls so far in this group: the interval grows with it */
    size_t g_begin, g_end; /* current group [begin, end) */
    int phase_filter;    /* which phases run: normal or SyncFail */
    int has_changes;
    int failed;
    int stop_after_group;
    int post_prepared;   /* restarts, prune and final inventory done */
    size_t prune_pos;    /* next prune candidate (ST_PRUNE walks them kind by kind) */
    inv_entry **prune_list;
    size_t nprune;
    char *error;
    long long group_deadline;
    long long next_poll;
    size_t writes;
    int finished_ok;
    json_t *extras;      /* observe: live inventory members no longer in Git (owned array) */
};

/* ---- small helpers ---------------------------------------------------------------------- */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *s_or(const char *s, const char *def)
{
    return s && *s ? s : def;
}

const char *pl_sync_action_name(pl_sync_action a)
{
    switch (a) {
    case PL_ACT_CREATED: return "created";
    case PL_ACT_CONFIGURED: return "configured";
    case PL_ACT_UNCHANGED: return "unchanged";
    case PL_ACT_PRUNED: return "pruned";
    case PL_ACT_SKIPPED: return "skipped";
    case PL_ACT_FAILED: return "failed";
    default: return "pending";
    }
}

static void group_of(const char *api_version, char *buf, size_t cap)
{
    const char *slash = api_version ? strchr(api_version, '/') : NULL;
    size_t n = slash ? (size_t)(slash - api_version) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(buf, api_version, n);
    buf[n] = '\0';
}

static void version_of(const char *api_version, char *buf, size_t cap)
{
    const char *slash = api_version ? strchr(api_version, '/') : NULL;
    snprintf(buf, cap, "%s", slash ? slash + 1 : s_or(api_version, ""));
}

static void make_key(char *buf, size_t cap, const char *api_version, const char *kind,
                     const char *ns, const char *name)
{
    char g[128];
    group_of(api_version, g, sizeof(g));
    snprintf(buf, cap, "%s/%s/%s/%s", g, s_or(kind, ""), s_or(ns, ""), s_or(name, ""));
}

static void obj_key(char *buf, size_t cap, const json_t *o)
{
    make_key(buf, cap, pl_json_str(o, "apiVersion", NULL), pl_json_str(o, "kind", NULL),
             pl_json_str(o, "metadata", "namespace", NULL),
             pl_json_str(o, "metadata", "name", NULL));
}

static void set_reason(pl_sync_item *it, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_reason(pl_sync_item *it, const char *fmt, ...)
{
    pl_buf b = PL_BUF_INIT;
    va_list ap;
    char tmp[1024];
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    pl_buf_puts(&b, tmp);
    pl_free(it->reason);
    it->reason = pl_buf_detach(&b);
}

static int fail_app(pl_sync_app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail_app(pl_sync_app *a, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (!a->error)
        a->error = pl_strdup(tmp);
    a->failed = 1;
    return 0;
}

static size_t add_item(pl_sync_app *a, const json_t *o, pl_sync_phase phase, int wave,
                       int is_hook)
{
    if (a->nitems == a->capitems) {
        size_t nc = a->capitems ? a->capitems * 2 : 64;
        pl_sync_item *ni = pl_realloc(a->items, nc * sizeof(*ni));
        if (!ni)
            return SIZE_MAX;
        a->items = ni;
        a->capitems = nc;
    }
    pl_sync_item *it = &a->items[a->nitems];
    memset(it, 0, sizeof(*it));
    pl_objkey k;
    pl_buf b = PL_BUF_INIT;
    pl_objkey_from(&k, o);
    pl_objkey_format(&b, &k);
    it->id = pl_buf_detach(&b);
    it->api_version = pl_strdup(s_or(pl_json_str(o, "apiVersion", NULL), ""));
    it->kind = pl_strdup(s_or(k.kind, ""));
    it->ns = pl_strdup(s_or(k.ns, ""));
    it->name = pl_strdup(s_or(k.name, s_or(pl_json_str(o, "metadata", "generateName", NULL), "")));
    it->phase = phase;
    it->wave = wave;
    it->is_hook = is_hook;
    it->health.status = PL_HEALTH_UNKNOWN;
    return a->nitems++;
}

/* desired ⊆ live: every field the desired object sets has that value live. Lists must have
 * the same length and match item by item (the server may add defaulted fields inside). */
static int subset(const json_t *want, const json_t *have)
{
    if (json_is_object(want)) {
        const char *k;
        json_t *v;
        if (!json_is_object(have))
            return 0;
        json_object_foreach((json_t *)want, k, v) {
            if (!subset(v, json_object_get(have, k)))
                return 0;
        }
        return 1;
    }
    if (json_is_array(want)) {
        if (!json_is_array(have) || json_array_size(want) != json_array_size(have))
            return 0;
        for (size_t i = 0; i < json_array_size(want); i++)
            if (!subset(json_array_get(want, i), json_array_get(have, i)))
                return 0;
        return 1;
    }
    if (!have)
        return json_is_null(want);
    if (json_is_number(want) && json_is_number(have))
        return json_number_value(want) == json_number_value(have);
    return json_equal(want, have);
}

/* What the server stores for a Secret's stringData (API-NOTES §4.10): base64 into data. Only
 * used for the "nothing changed" test, never sent. */
static json_t *secret_as_stored(const json_t *o)
{
    const json_t *sd = pl_json_path(o, "stringData", NULL);
    if (!json_is_object(sd))
        return json_incref((json_t *)o);
    json_t *c = json_deep_copy(o);
    json_t *data = json_object_get(c, "data");
    if (!json_is_object(data)) {
        data = json_object();
        json_object_set_new(c, "data", data);
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)sd, k, v) {
        const char *text = s_or(json_string_value(v), "");
        pl_buf b = PL_BUF_INIT;
        pl_base64_encode(&b, text, strlen(text), 0);
        json_object_set_new(data, k, json_string(b.ptr ? b.ptr : ""));
        pl_buf_dispose(&b);
    }
    json_object_del(c, "stringData");
    return c;
}

static void set_hash(json_t *o)
{
    json_t *ann = pl_json_mkpath(o, "metadata", "annotations", NULL);
    json_object_del(ann, PL_ANN_APPLIED_HASH);
    /* the object's own key order (the render's, stable for one tree): sorting the keys of
     * every object of a large app was a tenth of a no-op sync */
    static const char digits[] = "0123456789abcdef";
    pl_buf text = PL_BUF_INIT;
    unsigned char md[SHA256_DIGEST_LENGTH];
    char hex[33];
    pl_json_write(&text, o); /* on failure the hash of what was written still differs */
    /* OpenSSL's SHA-256 (the ApplySet id already initialised it): several times faster than
     * core's portable one on a thousand objects */
    SHA256((const unsigned char *)(text.ptr ? text.ptr : ""), text.len, md);
    pl_buf_dispose(&text);
    for (int i = 0; i < 16; i++) { /* 128 bits tell versions apart; the annotation stays short */
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[32] = '\0';
    json_object_set_new(ann, PL_ANN_APPLIED_HASH, json_string(hex));
}

static int is_dep_kind(const json_t *o)
{
    const char *k = s_or(pl_json_str(o, "kind", NULL), "");
    return !strcmp(k, "Namespace") || !strcmp(k, "CustomResourceDefinition");
}

static int is_crd(const json_t *o)
{
    return !strcmp(s_or(pl_json_str(o, "kind", NULL), ""), "CustomResourceDefinition");
}

/* A CRD of this app defines group/kind. */
static int app_defines(const pl_sync_app *a, const char *group, const char *kind)
{
    for (size_t i = 0; i < a->ntasks; i++) {
        const json_t *o = a->tasks[i].t->obj;
        if (!is_crd(o))
            continue;
        if (!strcmp(s_or(pl_json_str(o, "spec", "group", NULL), ""), group) &&
            !strcmp(s_or(pl_json_str(o, "spec", "names", "kind", NULL), ""), kind))
            return 1;
    }
    return 0;
}

/*
 * Fix the namespace of t->send from discovery: namespaced objects without one get the
 * destination namespace, cluster-scoped ones lose theirs. Returns 0, 1 when the kind is not
 * served (yet), or a negative code (recorded in the item) for other failures.
 */
static int resolve_scope(pl_sync_app *a, task *t)
{
    char g[128], v[64];
    const char *av = pl_json_str(t->send, "apiVersion", NULL);
    const char *kind = pl_json_str(t->send, "kind", NULL);
    pl_kube_mapping m;
    group_of(av, g, sizeof(g));
    version_of(av, v, sizeof(v));
    int rc = pl_kube_mapping_get(&m, a->k, g, v, s_or(kind, ""));
    if (rc == PL_ENOTFOUND)
        return 1;
    if (rc < 0)
        return rc;
    json_t *meta = pl_json_mkpath(t->send, "metadata", NULL);
    /* keys may change below: the desired-key set is rebuilt on next use */
    json_decref(a->desired_keys);
    a->desired_keys = NULL;
    if (m.namespaced && !pl_json_str(t->send, "metadata", "namespace", NULL))
        json_object_set_new(meta, "namespace", json_string(a->dest_ns));
    else if (!m.namespaced)
        json_object_del(meta, "namespace");
    obj_key(t->key, sizeof(t->key), t->send);
    pl_sync_item *it = &a->items[t->item];
    pl_free(it->ns);
    it->ns = pl_strdup(s_or(pl_json_str(t->send, "metadata", "namespace", NULL), ""));
    pl_objkey k;
    pl_buf b = PL_BUF_INIT;
    pl_objkey_from(&k, t->send);
    pl_objkey_format(&b, &k);
    pl_free(it->id);
    it->id = pl_buf_detach(&b);
    if (!t->t->is_hook && !t->adopt_only)
        set_hash(t->send);
    return 0;
}

static void start_batch(pl_sync_app *a)
{
    if (a->batch)
        pl_kube_batch_free(a->batch);
    a->batch = NULL;
    pl_kube_batch_new(&a->batch, a->k);
    pl_free(a->batch_task);
    a->batch_task = NULL;
    a->nbatch_task = 0;
}

static void track(pl_sync_app *a, int index, size_t task_index)
{
    if (index < 0)
        return;
    size_t need = (size_t)index + 1;
    if (need > a->nbatch_task) {
        size_t *nb = pl_realloc(a->batch_task, need * sizeof(*nb));
        if (!nb)
            return;
        for (size_t i = a->nbatch_task; i < need; i++)
            nb[i] = SIZE_MAX;
        a->batch_task = nb;
        a->nbatch_task = need;
    }
    a->batch_task[index] = task_index;
}

/* 1 when the current batch has finished (or there is none). */
static int batch_done(pl_sync_app *a)
{
    if (!a->batch || pl_kube_batch_count(a->batch) == 0)
        return 1;
    return pl_kube_batch_step(a->batch, 0);
}

static void keyof(pl_objkey *k, const json_t *o, char *g, size_t gcap, char *v, size_t vcap)
{
    const char *av = pl_json_str(o, "apiVersion", NULL);
    group_of(av, g, gcap);
    version_of(av, v, vcap);
    k->group = g;
    k->version = v;
    k->kind = s_or(pl_json_str(o, "kind", NULL), "");
    k->ns = s_or(pl_json_str(o, "metadata", "namespace", NULL), "");
    k->name = s_or(pl_json_str(o, "metadata", "name", NULL), "");
}

/* ---- inventory ---------------------------------------------------------------------------- */

static void parse_inventory(pl_sync_app *a)
{
    const char *text = pl_json_str(a->parent, "data", "inventory", NULL);
    json_t *arr = text ? json_loads(text, 0, NULL) : NULL;
    size_t i;
    json_t *e;
    a->inv = pl_calloc(json_array_size(arr) + 1, sizeof(*a->inv));
    json_array_foreach(arr, i, e) {
        const char *av = json_string_value(json_array_get(e, 0));
        const char *kind = json_string_value(json_array_get(e, 1));
        const char *ns = json_string_value(json_array_get(e, 2));
        const char *name = json_string_value(json_array_get(e, 3));
        if (!av || !kind || !ns || !name || !a->inv)
            continue;
        inv_entry *ie = &a->inv[a->ninv++];
        ie->api_version = pl_strdup(av);
        ie->kind = pl_strdup(kind);
        ie->ns = pl_strdup(ns);
        ie->name = pl_strdup(name);
    }
    json_decref(arr);
}

/* The parent ConfigMap recording `members` (JSON array of [apiVersion, kind, ns, name]). */
static json_t *parent_object(pl_sync_app *a, json_t *members)
{
    json_t *objs = json_array();
    size_t i;
    json_t *e;
    json_t *nss = json_array();
    json_array_foreach(members, i, e) {
        json_t *o = json_pack("{s:O,s:O}", "apiVersion", json_array_get(e, 0), "kind",
                              json_array_get(e, 1));
        json_array_append_new(objs, o);
        const char *ns = json_string_value(json_array_get(e, 2));
        int seen = !ns || !*ns || !strcmp(ns, a->inv_ns);
        for (size_t j = 0; !seen && j < json_array_size(nss); j++)
            seen = !strcmp(json_string_value(json_array_get(nss, j)), ns);
        if (!seen)
            json_array_append_new(nss, json_string(ns));
    }
    char *gks = pl_applyset_group_kinds(objs);
    json_decref(objs);
    pl_buf nsl = PL_BUF_INIT;
    pl_buf_puts(&nsl, "");
    json_array_foreach(nss, i, e) {
        if (i)
            pl_buf_putc(&nsl, ',');
        pl_buf_puts(&nsl, json_string_value(e));
    }
    json_decref(nss);
    char *inv_text = json_dumps(members, JSON_COMPACT);
    json_t *p = json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s},s:{s:s,s:s,s:s}},s:{s:s}}",
                          "apiVersion", "v1", "kind", "ConfigMap", "metadata", "name",
                          a->parent_name, "namespace", a->inv_ns, "labels",
                          PL_APPLYSET_ID_LABEL, a->parent_id, "annotations",
                          PL_APPLYSET_TOOLING_ANN, TOOLING, PL_APPLYSET_GKS_ANN, gks ? gks : "",
                          PL_APPLYSET_NS_ANN, nsl.ptr ? nsl.ptr : "", "data", "inventory",
                          inv_text ? inv_text : "[]");
    pl_free(inv_text);
    pl_free(gks);
    pl_buf_dispose(&nsl);
    return p;
}

/* Append [apiVersion, kind, ns, name] unless an entry with the same group/kind/ns/name is in
 * `seen` (a set keyed like task keys, so the inventory stays linear in its size). */
static void member_append(json_t *members, json_t *seen, const char *av, const char *kind,
                          const char *ns, const char *name)
{
    char key[512];
    make_key(key, sizeof(key), av, kind, ns, name);
    if (json_object_get(seen, key))
        return;
    json_object_set_new(seen, key, json_true());
    json_array_append_new(members, json_pack("[s,s,s,s]", av, kind, ns, name));
}

/* desired members (+ the previous inventory unless `exact`) */
static json_t *members_now(pl_sync_app *a, int exact)
{
    json_t *m = json_array();
    json_t *seen = json_object();
    json_t *pruned = json_object();
    for (size_t i = 0; i < a->ntasks; i++) {
        task *t = &a->tasks[i];
        if (t->t->is_hook || t->adopt_only || !pl_json_str(t->send, "metadata", "name", NULL))
            continue;
        if (a->items[t->item].action == PL_ACT_FAILED && !t->live)
            continue;
        member_append(m, seen, pl_json_str(t->send, "apiVersion", NULL),
                      pl_json_str(t->send, "kind", NULL),
                      s_or(pl_json_str(t->send, "metadata", "namespace", NULL), ""),
                      pl_json_str(t->send, "metadata", "name", NULL));
    }
    if (exact) {
        for (size_t j = 0; j < a->nitems; j++) {
            pl_sync_item *it = &a->items[j];
            char key[512];
            if (it->action != PL_ACT_PRUNED)
                continue;
            make_key(key, sizeof(key), it->api_version, it->kind, it->ns, it->name);
            json_object_set_new(pruned, key, json_true());
        }
    }
    for (size_t i = 0; i < a->ninv; i++) {
        inv_entry *e = &a->inv[i];
        char key[512];
        make_key(key, sizeof(key), e->api_version, e->kind, e->ns, e->name);
        /* keep what was not pruned (prune off, Prune=false, or a failed delete) */
        if (json_object_get(pruned, key))
            continue;
        member_append(m, seen, e->api_version, e->kind, e->ns, e->name);
    }
    json_decref(seen);
    json_decref(pruned);
    return m;
}

/* Apply the parent when its content differs from what is live. Returns 1 if a request was
 * queued. */
static int queue_parent(pl_sync_app *a, int exact)
{
    json_t *members = members_now(a, exact);
    json_t *p = parent_object(a, members);
    json_decref(members);
    int same = a->parent &&
               subset(pl_json_path(p, "data", NULL), pl_json_path(a->parent, "data", NULL)) &&
               subset(pl_json_path(p, "metadata", "annotations", NULL),
                      pl_json_path(a->parent, "metadata", "annotations", NULL)) &&
               subset(pl_json_path(p, "metadata", "labels", NULL),
                      pl_json_path(a->parent, "metadata", "labels", NULL));
    int queued = 0;
    if (!same && !a->o.dry_run) {
        pl_kube_apply_opts ao = PL_KUBE_APPLY_OPTS_INIT;
        ao.field_manager = a->manager;
        ao.force = 1;
        start_batch(a);
        track(a, pl_kube_batch_apply(a->batch, p, &ao, NULL), SIZE_MAX);
        a->writes++;
        queued = 1;
    }
    json_decref(p);
    return queued;
}

/* ---- construction ------------------------------------------------------------------------ */

int pl_sync_app_new(pl_sync_app **out, pl_kube *k, const json_t *desired,
                    const pl_sync_app_opts *opts)
{
    int rc;
    pl_sync_app *a = pl_calloc(1, sizeof(*a));
    *out = NULL;
    if (!a)
        return pl_error_set(PL_ENOMEM, "out of memory");
    a->k = k;
    a->o = *opts;
    a->name = pl_strdup(s_or(opts->name, "app"));
    a->dest_ns = pl_strdup(s_or(opts->dest_namespace, "default"));
    a->inv_ns = pl_strdup(s_or(opts->inventory_namespace, DEFAULT_INVENTORY_NS));
    a->manager = pl_strdup(s_or(opts->field_manager, "plumb"));
    {
        const char *p = s_or(opts->prune_propagation, "foreground");
        a->propagation = pl_strdup(!strcasecmp(p, "background") ? "Background"
                                   : !strcasecmp(p, "orphan")   ? "Orphan"
                                                                : "Foreground");
    }
    if (a->o.observe)
        a->o.dry_run = 1; /* observing writes nothing */
    if (a->o.wave_timeout_ms <= 0)
        a->o.wave_timeout_ms = 300000;
    if (a->o.poll_ms <= 0)
        a->o.poll_ms = 500;
    snprintf(a->parent_name, sizeof(a->parent_name), PARENT_PREFIX "%s", a->name);
    pl_applyset_id(a->parent_id, a->parent_name, a->inv_ns, "ConfigMap", "");
    a->live_by_key = json_object();

    /* CreateNamespace=true: the destination namespace first, created only when missing */
    a->desired = json_array();
    int has_ns_object = 0;
    size_t i;
    json_t *o;
    json_array_foreach((json_t *)desired, i, o) {
        if (!strcmp(s_or(pl_json_str(o, "kind", NULL), ""), "Namespace") &&
            !strcmp(s_or(pl_json_str(o, "metadata", "name", NULL), ""),
                    s_or(opts->dest_namespace, "")))
            has_ns_object = 1; /* Git manages it: CreateNamespace adds nothing */
    }
    if (opts->create_namespace && opts->dest_namespace && *opts->dest_namespace &&
        !has_ns_object) {
        json_t *ns = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
                               "metadata", "name", opts->dest_namespace);
        json_array_append_new(a->desired, ns);
    }
    json_array_foreach((json_t *)desired, i, o) json_array_append(a->desired, o);

    if ((rc = pl_sync_plan_build(&a->plan, a->desired)) < 0)
        goto fail;
    a->tasks = pl_calloc(a->plan.ntasks + 1, sizeof(*a->tasks));
    if (!a->tasks) {
        rc = pl_error_set(PL_ENOMEM, "out of memory");
        goto fail;
    }
    a->ntasks = a->plan.ntasks;
    for (i = 0; i < a->ntasks; i++) {
        task *t = &a->tasks[i];
        t->t = &a->plan.tasks[i];
        t->send = json_deep_copy(t->t->obj);
        t->adopt_only = opts->create_namespace && !has_ns_object &&
                        !strcmp(s_or(pl_json_str(t->send, "kind", NULL), ""), "Namespace") &&
                        !strcmp(s_or(pl_json_str(t->send, "metadata", "name", NULL), ""),
                                s_or(opts->dest_namespace, "")) &&
                        !pl_json_path(t->send, "metadata", "labels", NULL);
        if (!t->t->is_hook && !t->adopt_only) {
            json_t *labels = pl_json_mkpath(t->send, "metadata", "labels", NULL);
            json_object_set_new(labels, PL_APPLYSET_PART_OF_LABEL, json_string(a->parent_id));
        }
        obj_key(t->key, sizeof(t->key), t->send);
        t->item = add_item(a, t->send, t->t->phase, t->t->wave, t->t->is_hook);
        if (t->item == SIZE_MAX) {
            rc = pl_error_set(PL_ENOMEM, "out of memory");
            goto fail;
        }
    }
    if (json_array_size(desired) == 0 && !opts->allow_empty) {
        fail_app(a, "the render is empty: nothing applied and nothing pruned (set "
                    "syncPolicy.automated.allowEmpty to sync an empty app)");
        a->st = ST_DONE;
    }
    *out = a;
    return 0;
fail:
    pl_sync_app_free(a);
    return rc;
}

void pl_sync_app_free(pl_sync_app *a)
{
    if (!a)
        return;
    if (a->batch)
        pl_kube_batch_free(a->batch);
    pl_free(a->batch_task);
    for (size_t i = 0; i < a->ntasks; i++) {
        json_decref(a->tasks[i].send);
        json_decref(a->tasks[i].live);
        json_decref(a->tasks[i].predicted);
    }
    pl_free(a->tasks);
    pl_sync_plan_free(&a->plan);
    for (size_t i = 0; i < a->nitems; i++) {
        pl_sync_item *it = &a->items[i];
        pl_free(it->id);
        pl_free(it->api_version);
        pl_free(it->kind);
        pl_free(it->ns);
        pl_free(it->name);
        pl_free(it->reason);
    }
    pl_free(a->items);
    for (size_t i = 0; i < a->ninv; i++) {
        pl_free(a->inv[i].api_version);
        pl_free(a->inv[i].kind);
        pl_free(a->inv[i].ns);
        pl_free(a->inv[i].name);
    }
    pl_free(a->inv);
    json_decref(a->parent);
    json_decref(a->extras);
    json_decref(a->live_by_key);
    json_decref(a->health_keys);
    json_decref(a->desired_keys);
    json_decref(a->desired);
    pl_free(a->name);
    pl_free(a->dest_ns);
    pl_free(a->inv_ns);
    pl_free(a->manager);
    pl_free(a->propagation);
    pl_free(a->error);
    pl_free(a->prune_list);
    pl_free(a);
}

int pl_sync_app_ok(const pl_sync_app *a)
{
    return a->st == ST_DONE && a->finished_ok;
}

const char *pl_sync_app_error(const pl_sync_app *a)
{
    return a->error;
}

size_t pl_sync_app_items(const pl_sync_app *a, const pl_sync_item **items)
{
    *items = a->items;
    return a->nitems;
}

size_t pl_sync_app_writes(const pl_sync_app *a)
{
    return a->writes;
}

/* ---- stepping -------------------------------------------------------------------------- */

static int phase_runs(const pl_sync_app *a, const task *t)
{
    if (a->phase_filter)
        return t->t->phase == PL_PHASE_SYNCFAIL;
    return t->t->phase != PL_PHASE_SYNCFAIL;
}

static void record_failure(pl_sync_app *a, task *t, const pl_kube_result *r)
{
    pl_sync_item *it = &a->items[t->item];
    const char *msg = r->message ? r->message : "request failed";
    size_t idlen = strlen(it->id);
    /* the client's messages start with the object's name, which the report prints already */
    if (!strncmp(msg, it->id, idlen) && msg[idlen] == ':' && msg[idlen + 1] == ' ')
        msg += idlen + 2;
    it->action = PL_ACT_FAILED;
    set_reason(it, "%s", msg);
    t->done = 1;
}

static void mark_unchanged_items(pl_sync_app *a)
{
    for (size_t i = 0; i < a->ntasks; i++) {
        task *t = &a->tasks[i];
        pl_sync_item *it = &a->items[t->item];
        if (t->t->is_hook || it->action == PL_ACT_FAILED)
            continue;
        if (!t->changed)
            it->action = PL_ACT_UNCHANGED;
    }
}

/* inventory members that left Git */
static int inv_is_desired(pl_sync_app *a, const inv_entry *e)
{
    char key[512];
    if (!a->desired_keys) {
        a->desired_keys = json_object();
        for (size_t i = 0; i < a->ntasks; i++)
            if (!a->tasks[i].t->is_hook)
                json_object_set_new(a->desired_keys, a->tasks[i].key, json_true());
    }
    make_key(key, sizeof(key), e->api_version, e->kind, e->ns, e->name);
    return json_object_get(a->desired_keys, key) != NULL;
}

static size_t prune_candidates(pl_sync_app *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->ninv; i++)
        if (!inv_is_desired(a, &a->inv[i]))
            n++;
    return n;
}

static void submit_get(pl_sync_app *a, size_t ti)
{
    char g[128], v[64];
    pl_objkey k;
    keyof(&k, a->tasks[ti].send, g, sizeof(g), v, sizeof(v));
    track(a, pl_kube_batch_get(a->batch, &k, NULL), ti);
}

/* LIST the app's members of t's kind (all namespaces) by the ApplySet label, once per kind:
 * `listed` remembers the kinds already asked for. */
static void submit_member_list(pl_sync_app *a, const task *t, json_t *listed)
{
    const char *av = pl_json_str(t->send, "apiVersion", NULL);
    const char *kind = s_or(pl_json_str(t->send, "kind", NULL), "");
    char gvk[256], g[128], v[64], sel[160];
    snprintf(gvk, sizeof(gvk), "%s/%s", s_or(av, ""), kind);
    if (json_object_get(listed, gvk))
        return;
    json_object_set_new(listed, gvk, json_true());
    group_of(av, g, sizeof(g));
    version_of(av, v, sizeof(v));
    pl_objkey k = {g, v, kind, "", ""};
    pl_kube_list_opts lo = PL_KUBE_LIST_OPTS_INIT;
    snprintf(sel, sizeof(sel), "%s=%s", PL_APPLYSET_PART_OF_LABEL, a->parent_id);
    lo.label_selector = sel;
    track(a, pl_kube_batch_list(a->batch, &k, &lo, NULL), SIZE_MAX);
}

/* The identity of an inventory entry; g and v are the caller's buffers. */
static void inv_key(pl_objkey *k, const inv_entry *e, char g[128], char v[64])
{
    group_of(e->api_version, g, 128);
    version_of(e->api_version, v, 64);
    k->group = g;
    k->version = v;
    k->kind = e->kind;
    k->ns = e->ns;
    k->name = e->name;
}

static int st_parent_get(pl_sync_app *a, int *sub)
{
    if (*sub == 0) {
        pl_objkey k = {"", "v1", "ConfigMap", a->inv_ns, a->parent_name};
        start_batch(a);
        pl_kube_batch_get(a->batch, &k, NULL);
        *sub = 1;
        return 1;
    }
    if (!batch_done(a))
        return 1;
    pl_kube_result *r = pl_kube_batch_result(a->batch, 0);
    if (r->code == 0) {
        a->parent = json_incref(r->object);
        parse_inventory(a);
    } else if (r->code != PL_ENOTFOUND) {
        /* the client's message names the ConfigMap already */
        fail_app(a, "reading the inventory: %s", r->message ? r->message : "failed");
        a->st = ST_DONE;
        return 1;
    }
    a->st = ST_LIVE;
    *sub = 0;
    return 1;
}

static int st_live(pl_sync_app *a, int *sub)
{
    if (*sub == 0) {
        /* scope and namespace of every object (discovery, cached by the client) */
        for (size_t i = 0; i < a->ntasks; i++) {
            task *t = &a->tasks[i];
            int rc = resolve_scope(a, t);
            if (rc == 1) {
                char g[128];
                group_of(pl_json_str(t->send, "apiVersion", NULL), g, sizeof(g));
                if (a->o.dry_run ||
                    ((t->t->opts | a->o.app_options) & PL_SOPT_SKIP_DRYRUN_MISSING) ||
                    app_defines(a, g, s_or(pl_json_str(t->send, "kind", NULL), ""))) {
                    /* a dry run or a diff: a kind the cluster does not serve yet is simply
                     * missing (its CRD may come from an earlier app or wave, which a dry run
                     * does not apply); only a real sync fails on it.
                     * SkipDryRunOnMissingResource: an operator of an earlier wave installs
                     * the CRD, so the kind is looked up again when its own wave comes */
                    t->pending_crd = 1;
                    t->changed = 1;
                } else {
                    pl_sync_item *it = &a->items[t->item];
                    it->action = PL_ACT_FAILED;
                    set_reason(it, "no matches for kind \"%s\" in version \"%s\": its "
                                   "CustomResourceDefinition is neither in the cluster nor in "
                                   "this app", it->kind, it->api_version);
                    t->done = 1;
                }
            } else if (rc < 0) {
                pl_sync_item *it = &a->items[t->item];
                it->action = PL_ACT_FAILED;
                set_reason(it, "%s", pl_error_last()->message);
                t->done = 1;
            }
        }
        start_batch(a);
        if (a->parent) {
            /* one LIST per kind, by the ApplySet label, across namespaces */
            json_t *seen = json_object();
            for (size_t i = 0; i < a->ntasks; i++) {
                task *t = &a->tasks[i];
                if (!t->t->is_hook && !t->adopt_only && !t->done && !t->pending_crd)
                    submit_member_list(a, t, seen);
            }
            json_decref(seen);
        }
        *sub = 1;
        return 1;
    }
    if (*sub == 1) {
        if (!batch_done(a))
            return 1;
        for (size_t b = 0; b < pl_kube_batch_count(a->batch); b++) {
            pl_kube_result *r = pl_kube_batch_result(a->batch, b);
            if (r->code < 0) {
                if (r->code == PL_ENOTFOUND)
                    continue; /* a kind the server no longer serves */
                fail_app(a, "listing the app's objects: %s", s_or(r->message, "failed"));
                a->st = ST_DONE;
                return 1;
            }
            size_t i;
            json_t *o;
            json_array_foreach(json_object_get(r->object, "items"), i, o) {
                char key[512];
                obj_key(key, sizeof(key), o);
                json_object_set(a->live_by_key, key, o);
            }
        }
        /* desired objects the lists did not return: GET them, unless this is the app's first
         * sync (no inventory yet), where everything is applied anyway */
        start_batch(a);
        for (size_t i = 0; i < a->ntasks; i++) {
            task *t = &a->tasks[i];
            if (t->t->is_hook || t->done || t->pending_crd)
                continue;
            if (json_object_get(a->live_by_key, t->key))
                continue;
            if (a->parent || t->adopt_only || a->o.dry_run)
                submit_get(a, i);
        }
        *sub = 2;
        return 1;
    }
    if (!batch_done(a))
        return 1;
    for (size_t b = 0; b < pl_kube_batch_count(a->batch); b++) {
        pl_kube_result *r = pl_kube_batch_result(a->batch, b);
        if (b < a->nbatch_task && a->batch_task[b] != SIZE_MAX && r->code == 0)
            json_object_set(a->live_by_key, a->tasks[a->batch_task[b]].key, r->object);
    }
    a->st = ST_CLASSIFY;
    *sub = 0;
    return 1;
}

static json_t *without_managed(const json_t *o)
{
    json_t *c = json_deep_copy(o);
    json_object_del(pl_json_path(c, "metadata", NULL), "managedFields");
    return c;
}

static int st_classify(pl_sync_app *a, int *sub)
{
    pl_kube_apply_opts ao = PL_KUBE_APPLY_OPTS_INIT;
    pl_drift_opts dopts = PL_DRIFT_OPTS_INIT;
    ao.field_manager = a->manager;
    ao.force = 1;
    ao.dry_run = 1;
    dopts.ignore_differences = a->o.ignore_differences;
    dopts.live = 1;
    if (*sub == 0) {
        start_batch(a);
        for (size_t i = 0; i < a->ntasks; i++) {
            task *t = &a->tasks[i];
            if (t->t->is_hook || t->done || t->pending_crd)
                continue;
            json_t *live = json_object_get(a->live_by_key, t->key);
            t->live = json_incref(live);
            if (!live) {
                t->changed = 1;
                continue;
            }
            if (t->adopt_only)
                continue;
            if (a->o.respect_ignore_differences && a->o.ignore_differences) {
                /* RespectIgnoreDifferences: what is applied keeps the ignored fields' live
                 * values, so the dry run below already shows the real outcome */
                json_t *kept = NULL;
                if (pl_drift_keep_ignored(&kept, t->send, live, &dopts) == 0) {
                    json_decref(t->send);
                    t->send = kept;
                }
            }
            const char *h1 = pl_json_str(live, "metadata", "annotations", PL_ANN_APPLIED_HASH, NULL);
            const char *h2 = pl_json_str(t->send, "metadata", "annotations", PL_ANN_APPLIED_HASH, NULL);
            json_t *stored = secret_as_stored(t->send);
            int same = h1 && h2 && !strcmp(h1, h2) && subset(stored, live);
            json_decref(stored);
            if (same)
                continue;
            /* the server decides: normalisation (quantities, dropped empties) makes a
             * client-side comparison unreliable (API-NOTES §9) */
            track(a, pl_kube_batch_apply(a->batch, t->send, &ao, NULL), i);
        }
        *sub = 1;
        return 1;
    }
    if (!batch_done(a))
        return 1;
    for (size_t b = 0; b < pl_kube_batch_count(a->batch); b++) {
        if (b >= a->nbatch_task || a->batch_task[b] == SIZE_MAX)
            continue;
        task *t = &a->tasks[a->batch_task[b]];
        pl_kube_result *r = pl_kube_batch_result(a->batch, b);
        if (r->code == 0 && t->live && a->o.ignore_differences) {
            /* differences only in ignored fields do not count (Argo CD's ignoreDifferences) */
            pl_drift_result *dr = NULL;
            t->changed = pl_drift_compare(&dr, t->send, r->object, t->live, &dopts) < 0 ||
                         dr->action != PL_DRIFT_UNCHANGED;
            pl_drift_result_free(dr);
        } else if (r->code == 0 && t->live) {
            json_t *x = without_managed(r->object), *y = without_managed(t->live);
            t->changed = !json_equal(x, y);
            json_decref(x);
            json_decref(y);
        } else if (a->o.dry_run && r->code < 0 &&
                   !((t->t->opts | a->o.app_options) & PL_SOPT_REPLACE)) {
            record_failure(a, t, r); /* what the real apply would meet */
            fail_app(a, "the dry run of %s failed", a->items[t->item].id);
        } else {
            t->changed = 1; /* the real apply reports any error (Replace=true recreates) */
        }
        if (a->o.observe && r->code == 0)
            t->predicted = json_incref(r->object);
    }
    size_t nchanged = 0;
    for (size_t i = 0; i < a->ntasks; i++)
        if (!a->tasks[i].t->is_hook && a->tasks[i].changed)
            nchanged++;
    a->has_changes = nchanged > 0 || (a->o.prune && prune_candidates(a) > 0);
    mark_unchanged_items(a);
    if (a->o.dry_run) {
        for (size_t i = 0; i < a->ntasks; i++) {
            task *t = &a->tasks[i];
            pl_sync_item *it = &a->items[t->item];
            if (it->action == PL_ACT_FAILED || it->action == PL_ACT_UNCHANGED)
                continue;
            if (t->t->is_hook) {
                it->action = PL_ACT_SKIPPED;
                set_reason(it, "dry run: hook not run");
            } else {
                it->action = t->live ? PL_ACT_CONFIGURED : PL_ACT_CREATED;
                set_reason(it, "dry run: would be %s", t->live ? "configured" : "created");
            }
        }
        /* reports what would be pruned, deletes nothing; observing reads the live state of
         * the members that left Git instead */
        a->st = a->o.observe ? ST_OBSERVE_EXTRAS : ST_PRUNE;
        *sub = 0;
        return 1;
    }
    a->st = ST_PARENT_PRE;
    *sub = 0;
    return 1;
}

/* next group [g_begin, g_end) of runnable tasks with one (phase, wave); 0 when none */
static int next_group(pl_sync_app *a)
{
    size_t i = a->g_end;
    while (i < a->ntasks && !phase_runs(a, &a->tasks[i]))
        i++;
    if (i >= a->ntasks)
        return 0;
    size_t j = i + 1;
    while (j < a->ntasks && phase_runs(a, &a->tasks[j]) &&
           a->tasks[j].t->phase == a->tasks[i].t->phase && a->tasks[j].t->wave == a->tasks[i].t->wave)
        j++;
    a->g_begin = i;
    a->g_end = j;
    return 1;
}

static int st_group_begin(pl_sync_app *a)
{
    if (!next_group(a)) {
        if (!a->phase_filter && a->failed) {
            /* the sync failed: run the SyncFail hooks, if any */
            a->phase_filter = 1;
            a->g_end = 0;
            if (next_group(a)) {
                a->g_end = a->g_begin; /* found again by the next ST_GROUP_BEGIN */
                return 1;
            }
        }
        a->st = (!a->failed && !a->post_prepared) ? ST_RESTARTS : ST_HOOK_CLEANUP;
        return 1;
    }
    /* restarts, prune and the exact inventory come between the Sync and PostSync phases */
    if (!a->phase_filter && !a->post_prepared && !a->failed &&
        a->tasks[a->g_begin].t->phase > PL_PHASE_SYNC) {
        a->g_end = a->g_begin;
        a->st = ST_RESTARTS;
        return 1;
    }
    /* hooks of an app that is in sync do not run */
    for (size_t i = a->g_begin; i < a->g_end; i++) {
        task *t = &a->tasks[i];
        if (t->t->is_hook && !a->has_changes && !t->done) {
            a->items[t->item].action = PL_ACT_SKIPPED;
            set_reason(&a->items[t->item], "the app is in sync: hooks do not run");
            t->done = 1;
            t->healthy = 1;
        }
    }
    a->group_deadline = now_ms() + a->o.wave_timeout_ms;
    a->st = ST_HOOK_DELETE;
    return 1;
}

static int st_parent(pl_sync_app *a, int *sub, int exact, stage next)
{
    if (*sub == 0) {
        if (queue_parent(a, exact)) {
            *sub = 1;
            return 1;
        }
        /* nothing to write: the batch still holds an earlier stage's results */
        a->st = next;
        return 1;
    }
    if (!batch_done(a))
        return 1;
    if (a->batch && pl_kube_batch_count(a->batch) > 0) {
        pl_kube_result *r = pl_kube_batch_result(a->batch, 0);
        if (r->code < 0) {
            fail_app(a, "recording the inventory in ConfigMap/%s/%s: %s", a->inv_ns,
                     a->parent_name, s_or(r->message, "failed"));
            /* without an inventory nothing may be written: stop before the first group */
            a->st = exact ? ST_HOOK_CLEANUP : ST_DONE;
            *sub = 0;
            return 1;
        }
        json_decref(a->parent);
        a->parent = json_incref(r->object);
        start_batch(a);
    }
    a->st = next;
    *sub = 0;
    return 1;
}

static void hook_key(pl_objkey *k, const task *t, char *g, size_t gcap, char *v, size_t vcap)
{
    keyof(k, t->send, g, gcap, v, vcap);
}

/* GET again the tasks whose request in the current batch found their object (code 0), in a
 * new batch; returns how many were submitted and sets the next poll time. */
static size_t reget_existing(pl_sync_app *a)
{
    size_t n = pl_kube_batch_count(a->batch), m = 0;
    size_t *idx = pl_calloc(n + 1, sizeof(*idx));
    for (size_t b = 0; b < n && idx; b++)
        if (pl_kube_batch_result(a->batch, b)->code == 0 && b < a->nbatch_task &&
            a->batch_task[b] != SIZE_MAX)
            idx[m++] = a->batch_task[b];
    if (m) {
        start_batch(a);
        for (size_t j = 0; j < m; j++)
            submit_get(a, idx[j]);
    }
    pl_free(idx);
    a->next_poll = now_ms() + 100;
    return m;
}

/* BeforeHookCreation: the previous run's hook object is deleted and gone before the new one
 * is created (a finished Job cannot be re-run by applying it again). */
static int st_hook_delete(pl_sync_app *a, int *sub)
{
    if (*sub == 0) {
        start_batch(a);
        for (size_t i = a->g_begin; i < a->g_end; i++) {
            task *t = &a->tasks[i];
            if (!t->t->is_hook || t->done ||
                !(t->t->hook_delete & PL_HOOK_DEL_BEFORE_CREATION) ||
                !pl_json_str(t->send, "metadata", "name", NULL))
                continue;
            char g[128], v[64];
            pl_objkey k;
            pl_kube_delete_opts d = PL_KUBE_DELETE_OPTS_INIT;
            d.propagation = "Background";
            hook_key(&k, t, g, sizeof(g), v, sizeof(v));
            track(a, pl_kube_batch_delete(a->batch, &k, &d, NULL), i);
        }
        *sub = 1;
        return 1;
    }
    if (*sub == 1) {
        if (!batch_done(a))
            return 1;
        /* deletes that found something count as writes */
        for (size_t b = 0; b < pl_kube_batch_count(a->batch); b++)
            if (pl_kube_batch_result(a->batch, b)->code == 0)
                a->writes++;
        *sub = 2;
    }
    /* poll until the deleted hooks are gone */
    if (*sub == 2) {
        if (!reget_existing(a)) {
            a->st = ST_APPLY_DEPS;
            *sub = 0;
            return 1;
        }
        *sub = 3;
        return 1;
    }
    if (!batch_done(a))
        return 1;
    size_t still = 0;
    for (size_t b = 0; b < pl_kube_batch_count(a->batch); b++)
        if (pl_kube_batch_result(a->batch, b)->code == 0)
            still++;
    if (!still) {
        a->st = ST_APPLY_DEPS;
        *sub = 0;
        return 1;
    }
    if (now_ms() > a->group_deadline) {
        fail_app(a, "timed out waiting for %zu previous hook object(s) to be deleted", still);
        a->st = ST_GROUP_BEGIN;
        *sub = 0;
        return 1;
    }
    if (now_ms() < a->next_poll)
        return 1;
    reget_existing(a);
    return 1;
}

static void submit_apply(pl_sync_app *a, size_t i)
{
    task *t = &a->tasks[i];
    pl_kube_apply_opts ao = PL_KUBE_APPLY_OPTS_INIT;
    ao.field_manager = a->manager;
    ao.force = 1; /* Git is the source of truth: plumb takes the fields it manages back */
    /* the response is not decoded: it holds no status a controller has judged yet (a new
     * object has none, a changed one has a generation its controller has not observed), so
     * the health checks judge the object sent where that decides (pl_health_needs_live)
     * and LIST the other kinds.
     * Decoding a thousand responses was a third of the client's CPU time. */
    ao.discard_object = 1;
    if (!pl_json_str(t->send, "metadata", "name", NULL)) {
        /* generateName hooks can only be POSTed */
        pl_kube_write_opts wo = PL_KUBE_WRITE_OPTS_INIT;
        wo.field_manager = a->manager;
        track(a, pl_kube_batch_create(a->batch, t->send, &wo, NULL), i);
    } else {
        track(a, pl_kube_batch_apply(a->batch, t->send, &ao, NULL), i);
    }
    a->writes++;
}

/* Delete and re-create an object whose immutable fields changed (Replace=true/Force=true).
 * This waits for the old object to go (bounded), the one place the executor blocks. */
static int recreate(pl_sync_app *a, task *t, pl_kube_result *out)
{
    char g[128], v[64];
    pl_objkey k;
    pl_kube_result r;
    pl_kube_delete_opts d = PL_KUBE_DELETE_OPTS_INIT;
    d.propagation = "Foreground";
    keyof(&k, t->send, g, sizeof(g), v, sizeof(v));
    pl_kube_delete(&r, a->k, &k, &d);
    a->writes++;
    pl_kube_result_dispose(&r);
    for (int i = 0; i < 600; i++) {
        int rc = pl_kube_get(&r, a->k, &k);
        pl_kube_result_dispose(&r);
        if (rc == PL_ENOTFOUND)
            break;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    pl_kube_apply_opts ao = PL_KUBE_APPLY_OPTS_INIT;
    ao.field_manager = a->manager;
    ao.force = 1;
    a->writes++;
    return pl_kube_apply(out, a->k, t->send, &ao);
}

static void consume_applies(pl_sync_app *a)
{
    for (size_t b = 0; b < pl_kube_batch_count(a->batch); b++) {
        if (b >= a->nbatch_task || a->batch_task[b] == SIZE_MAX)
            continue;
        task *t = &a->tasks[a->batch_task[b]];
        pl_sync_item *it = &a->items[t->item];
        pl_kube_result *r = pl_kube_batch_result(a->batch, b);
        pl_kube_result rr;
        int own = 0;
        t->done = 1;
        if (r->code == PL_EIMMUTABLE &&
            ((t->t->opts | a->o.app_options) & (PL_SOPT_REPLACE | PL_SOPT_FORCE))) {
            recreate(a, t, &rr);
            r = &rr;
            own = 1;
            if (r->code == 0)
                set_reason(it, "re-created: immutable fields changed");
        }
        if (r->code < 0) {
            record_failure(a, t, r);
            if (r->code == PL_EIMMUTABLE)
                set_reason(it, "%s (set the sync option Replace=true or Force=true to "
                               "re-create it)", s_or(r->message, "immutable field changed"));
            a->stop_after_group = 1;
        } else {
            it->action = (r->created || !t->live) ? PL_ACT_CREATED : PL_ACT_CONFIGURED;
            json_decref(t->live);
            /* what was sent stands for the response, which is not decoded */
            t->live = json_incref(r->object ? r->object : t->send);
            t->live_is_sent = !r->object;
            const char *name = pl_json_str(r->object, "metadata", "name", NULL);
            if (name && !*it->name) {
                pl_free(it->name);
                it->name = pl_strdup(name);
                if (!pl_json_str(t->send, "metadata", "name", NULL))
                    json_object_set_new(pl_json_mkpath(t->send, "metadata", NULL), "name",
                                        json_string(name));
            }
        }
        if (own)
            pl_kube_result_dispose(&rr);
    }
}

static int st_apply(pl_sync_app *a, int *sub, int deps)
{
    if (*sub == 0) {
        int refreshed = 0;
        start_batch(a);
        for (size_t i = a->g_begin; i < a->g_end; i++) {
            task *t = &a->tasks[i];
            if (t->done || (!t->changed && !t->t->is_hook))
                continue;
            if (deps != (is_dep_kind(t->send) && !t->t->is_hook))
                continue;
            if (t->pending_crd) {
                if (!refreshed++) /* the kind may have arrived since discovery was read */
                    pl_kube_discovery_invalidate(a->k);
                int rc = resolve_scope(a, t);
                if (rc != 0) {
                    pl_sync_item *it = &a->items[t->item];
                    it->action = PL_ACT_FAILED;
                    set_reason(it, "no matches for kind \"%s\" in version \"%s\" when its "
                                   "wave came (no Established CustomResourceDefinition serves it)",
                               it->kind, it->api_version);
                    t->done = 1;
                    continue;
                }
                t->pending_crd = 0;
            }
            submit_apply(a, i);
        }
        *sub = 1;
        return 1;
    }
    if (!batch_done(a))
        return 1;
    consume_applies(a);
    if (deps) {
        a->st = ST_WAIT_CRDS;
        a->next_poll = 0;
    } else {
        a->st = ST_HEALTH;
        a->next_poll = 0;
    }
    *sub = 0;
    return 1;
}

/* CRDs of the group must be Established before custom resources are applied (API-NOTES §7.1) */
static int st_wait_crds(pl_sync_app *a, int *sub)
{
    if (*sub == 0) {
        if (now_ms() < a->next_poll)
            return 1;
        start_batch(a);
        for (size_t i = a->g_begin; i < a->g_end; i++) {
            task *t = &a->tasks[i];
            if (is_crd(t->send) && !t->t->is_hook && a->items[t->item].action != PL_ACT_FAILED &&
                !t->healthy)
                submit_get(a, i);
        }
        *sub = 1;
        return 1;
    }
    if (!batch_done(a))
        return 1;
    size_t waiting = 0;
    for (size_t b = 0; b < pl_kube_batch_count(a->batch); b++) {
        task *t = &a->tasks[a->batch_task[b]];
        pl_kube_result *r = pl_kube_batch_result(a->batch, b);
        pl_health h;
        pl_health_assess(&h, r->code == 0 ? r->object : NULL, NULL, NULL);
        a->items[t->item].health = h;
        if (h.status == PL_HEALTH_HEALTHY)
            t->healthy = 1;
        else
            waiting++;
    }
    *sub = 0;
    if (!waiting) {
        /* discovery learns the kinds of CRDs written now; nothing to learn otherwise */
        int written = 0;
        for (size_t i = a->g_begin; i < a->g_end && !written; i++) {
            pl_sync_action act = a->items[a->tasks[i].item].action;
            written = is_crd(a->tasks[i].send) &&
                      (act == PL_ACT_CREATED || act == PL_ACT_CONFIGURED);
        }
        if (written)
            pl_kube_discovery_invalidate(a->k);
        a->st = ST_APPLY_REST;
        return 1;
    }
    if (now_ms() > a->group_deadline) {
        fail_app(a, "timed out waiting for %zu CustomResourceDefinition(s) to become "
                    "Established", waiting);
        a->st = ST_GROUP_BEGIN;
        return 1;
    }
    a->next_poll = now_ms() + 100;
    return 1;
}

static json_t *lookup_cb(void *payload, const char *av, const char *kind, const char *ns,
                         const char *name)
{
    pl_sync_app *a = payload;
    char g[128], v[64];
    group_of(av, g, sizeof(g));
    version_of(av, v, sizeof(v));
    pl_objkey k = {g, v, kind, s_or(ns, ""), name};
    pl_kube_result r;
    json_t *o = NULL;
    if (pl_kube_get(&r, a->k, &k) == 0)
        o = json_incref(r.object);
    pl_kube_result_dispose(&r);
    return o;
}

/* Judge one task from its live object (NULL: missing); counts what is still awaited. */
static void judge(pl_sync_app *a, task *t, const json_t *live, size_t *waiting, char *wbuf,
                  size_t wcap)
{
    pl_sync_item *it = &a->items[t->item];
    pl_health h;
    pl_health_assess(&h, live, lookup_cb, a);
    it->health = h;
    if (h.status == PL_HEALTH_HEALTHY || (h.status == PL_HEALTH_SUSPENDED && !t->t->is_hook)) {
        t->healthy = 1;
    } else if (h.status == PL_HEALTH_DEGRADED) {
        it->action = PL_ACT_FAILED;
        set_reason(it, "%s: %s", t->t->is_hook ? "hook failed" : "Degraded", h.message);
        a->stop_after_group = 1;
    } else if (h.status == PL_HEALTH_MISSING && t->t->is_hook &&
               (t->t->hook_delete & PL_HOOK_DEL_SUCCEEDED)) {
        t->healthy = 1; /* deleted by someone after success */
    } else {
        if (!*waiting)
            snprintf(wbuf, wcap, "%s (%s: %s)", it->id, pl_health_name(h.status), h.message);
        (*waiting)++;
    }
}

/* Below this many objects of one kind, health is polled with GETs; at or above, with one
 * LIST of the app's members of that kind (the ApplySet label), which keeps a 1,000-object
 * wave to a handful of requests per poll. */
#define HEALTH_LIST_MIN 4

static int st_health(pl_sync_app *a, int *sub)
{
    if (*sub == 0) {
        if (now_ms() < a->next_poll)
            return 1;
        start_batch(a);
        json_decref(a->health_keys);
        a->health_keys = json_object();
        json_t *per_kind = json_object();
        size_t *pending = pl_calloc(a->g_end - a->g_begin + 1, sizeof(*pending));
        size_t npending = 0;
        for (size_t i = a->g_begin; i < a->g_end && pending; i++) {
            task *t = &a->tasks[i];
            pl_sync_item *it = &a->items[t->item];
            if (t->healthy || it->action == PL_ACT_FAILED || it->action == PL_ACT_SKIPPED)
                continue;
            /* the first look uses what we already hold: the live copy from the inventory read
             * (unchanged objects) or the apply response (changed ones); kinds whose health does
             * not wait on a controller need no request at all */
            if (t->live && a->next_poll == 0 &&
                (!t->live_is_sent || !pl_health_needs_live(t->send))) {
                size_t w = 0;
                char wb[8];
                judge(a, t, t->live, &w, wb, sizeof(wb));
                if (t->healthy || it->action == PL_ACT_FAILED)
                    continue;
            }
            pending[npending++] = i;
            if (!t->t->is_hook && !t->adopt_only) {
                char gvk[256];
                snprintf(gvk, sizeof(gvk), "%s/%s", s_or(pl_json_str(t->send, "apiVersion", NULL), ""),
                         s_or(pl_json_str(t->send, "kind", NULL), ""));
                json_t *c = json_object_get(per_kind, gvk);
                json_object_set_new(per_kind, gvk,
                                    json_integer(c ? json_integer_value(c) + 1 : 1));
            }
        }
        json_t *listed = json_object();
        for (size_t j = 0; j < npending; j++) {
            task *t = &a->tasks[pending[j]];
            char gvk[256];
            snprintf(gvk, sizeof(gvk), "%s/%s", s_or(pl_json_str(t->send, "apiVersion", NULL), ""),
                     s_or(pl_json_str(t->send, "kind", NULL), ""));
            json_t *c = json_object_get(per_kind, gvk);
            if (t->t->is_hook || t->adopt_only || !c || json_integer_value(c) < HEALTH_LIST_MIN) {
                submit_get(a, pending[j]);
                continue;
            }
            json_object_set_new(a->health_keys, t->key, json_integer((json_int_t)pending[j]));
            submit_member_list(a, t, listed);
        }
        json_decref(listed);
        json_decref(per_kind);
        pl_free(pending);
        *sub = 1;
        return 1;
    }
    if (!batch_done(a))
        return 1;
    char wbuf[512] = "";
    size_t waiting = 0;
    for (size_t b = 0; b < pl_kube_batch_count(a->batch); b++) {
        pl_kube_result *r = pl_kube_batch_result(a->batch, b);
        size_t ti = b < a->nbatch_task ? a->batch_task[b] : SIZE_MAX;
        if (r->code < 0 && r->code != PL_ENOTFOUND) {
            waiting++; /* transient: poll again */
            continue;
        }
        if (ti != SIZE_MAX) {
            judge(a, &a->tasks[ti], r->code == 0 ? r->object : NULL, &waiting, wbuf,
                  sizeof(wbuf));
            continue;
        }
        /* a LIST: judge the members it returned, and remember which were seen */
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(r->object, "items"), i, o) {
            char key[512];
            obj_key(key, sizeof(key), o);
            json_t *idx = json_object_get(a->health_keys, key);
            if (!idx)
                continue;
            judge(a, &a->tasks[json_integer_value(idx)], o, &waiting, wbuf, sizeof(wbuf));
            json_object_del(a->health_keys, key);
        }
    }
    /* listed kinds whose lists did not return an expected member: missing */
    {
        const char *key;
        json_t *idx;
        json_object_foreach(a->health_keys, key, idx)
            judge(a, &a->tasks[json_integer_value(idx)], NULL, &waiting, wbuf, sizeof(wbuf));
        json_object_clear(a->health_keys);
    }
    *sub = 0;
    if (waiting && !a->stop_after_group) {
        if (now_ms() > a->group_deadline) {
            const task *f = &a->tasks[a->g_begin];
            fail_app(a, "wave %d (%s) timed out after %lds waiting for health of %zu object(s), "
                        "e.g. %s", f->t->wave,
                     f->t->phase == PL_PHASE_PRESYNC    ? "PreSync"
                     : f->t->phase == PL_PHASE_POSTSYNC ? "PostSync"
                     : f->t->phase == PL_PHASE_SYNCFAIL ? "SyncFail"
                                                        : "Sync",
                     a->o.wave_timeout_ms / 1000, waiting, wbuf);
            a->st = ST_GROUP_BEGIN;
            return 1;
        }
        /* 50 ms, 100, 200, ... up to poll_ms: a simulated or fast controller is seen at once,
         * a slow rollout costs few requests */
        long step = 50L << (a->poll_step < 5 ? a->poll_step : 5);
        a->poll_step++;
        a->next_poll = now_ms() + (step < a->o.poll_ms ? step : a->o.poll_ms);
        return 1;
    }
    a->poll_step = 0;
    if (a->stop_after_group && !a->failed) {
        const task *f = &a->tasks[a->g_begin];
        fail_app(a, "wave %d failed; later waves were not applied", f->t->wave);
    }
    a->stop_after_group = 0;
    a->st = ST_GROUP_BEGIN;
    return 1;
}

/* plumb.dev/restart-on-change: "Deployment/NAME[,Kind/NAME...]" on a ConfigMap or Secret
 * whose content changed in this sync: restart those workloads as `kubectl rollout restart`
 * does (a pod-template annotation), so they read the new content (the MaaS tier ConfigMap
 * needs exactly this, ../shared/maas/SPEC.md §6.3). */
static int st_restarts(pl_sync_app *a, int *sub)
{
    if (*sub == 0) {
        start_batch(a);
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
        for (size_t i = 0; i < a->ntasks; i++) {
            task *t = &a->tasks[i];
            pl_sync_item *it = &a->items[t->item];
            const char *spec = pl_json_str(t->send, "metadata", "annotations",
                                           PL_ANN_RESTART_ON_CHANGE, NULL);
            if (!spec || it->action != PL_ACT_CONFIGURED)
                continue;
            const char *p = spec;
            while (*p) {
                while (*p == ' ' || *p == ',')
                    p++;
                const char *e = strchr(p, ',');
                size_t n = e ? (size_t)(e - p) : strlen(p);
                char ref[256];
                if (n == 0)
                    break;
                snprintf(ref, sizeof(ref), "%.*s", (int)n, p);
                p += n;
                char *slash = strchr(ref, '/');
                if (!slash)
                    continue;
                *slash = '\0';
                pl_objkey k = {"apps", "v1", ref, it->ns, slash + 1};
                json_t *patch = json_pack("{s:{s:{s:{s:{s:s}}}}}", "spec", "template",
                                          "metadata", "annotations",
                                          "kubectl.kubernetes.io/restartedAt", stamp);
                pl_kube_write_opts wo = PL_KUBE_WRITE_OPTS_INIT;
                wo.field_manager = "plumb-rollout";
                track(a, pl_kube_batch_patch(a->batch, &k, PL_KUBE_PATCH_MERGE, patch, &wo, NULL),
                      i);
                a->writes++;
                json_decref(patch);
            }
        }
        *sub = 1;
        return 1;
    }
    if (!batch_done(a))
        return 1;
    for (size_t b = 0; b < pl_kube_batch_count(a->batch); b++) {
        pl_kube_result *r = pl_kube_batch_result(a->batch, b);
        pl_sync_item *it = &a->items[a->tasks[a->batch_task[b]].item];
        const char *kind = pl_json_str(r->object, "kind", NULL);
        const char *name = pl_json_str(r->object, "metadata", "name", NULL);
        char prev[512];
        snprintf(prev, sizeof(prev), "%s", it->reason ? it->reason : "");
        if (r->code == 0)
            set_reason(it, "%s%srestarted %s/%s", prev, prev[0] ? "; " : "", kind ? kind : "?",
                       name ? name : "?");
        else
            set_reason(it, "%s%srestart failed: %s", prev, prev[0] ? "; " : "",
                       s_or(r->message, "error"));
    }
    a->st = ST_PRUNE;
    *sub = 0;
    return 1;
}

static int prune_cmp(const void *pa, const void *pb)
{
    const inv_entry *a = *(inv_entry *const *)pa, *b = *(inv_entry *const *)pb;
    int ka = pl_sync_kind_order(a->kind), kb = pl_sync_kind_order(b->kind);
    if (ka != kb)
        return ka > kb ? -1 : 1; /* reverse install order */
    int c = strcmp(a->kind, b->kind);
    return c ? c : strcmp(a->name, b->name);
}

/* Objects that left Git: deleted only when allowed, kind by kind in reverse install order. */
static int st_prune(pl_sync_app *a, int *sub)
{
    if (*sub == 0) {
        a->nprune = 0;
        pl_free(a->prune_list);
        a->prune_list = pl_calloc(a->ninv + 1, sizeof(*a->prune_list));
        for (size_t i = 0; i < a->ninv && a->prune_list; i++) {
            inv_entry *e = &a->inv[i];
            if (inv_is_desired(a, e))
                continue;
            json_t *fake = json_pack("{s:s,s:s,s:{s:s,s:s}}", "apiVersion", e->api_version,
                                     "kind", e->kind, "metadata", "name", e->name, "namespace",
                                     e->ns);
            size_t idx = add_item(a, fake, PL_PHASE_SYNC, 0, 0);
            json_decref(fake);
            if (idx == SIZE_MAX)
                continue;
            pl_sync_item *it = &a->items[idx];
            char key[512];
            make_key(key, sizeof(key), e->api_version, e->kind, e->ns, e->name);
            const json_t *live = json_object_get(a->live_by_key, key);
            unsigned lopts = pl_sync_options_parse(
                pl_json_str(live, "metadata", "annotations", PL_ANN_SYNC_OPTIONS, NULL));
            int guarded = !strcmp(e->kind, "Namespace") ||
                          !strcmp(e->kind, "CustomResourceDefinition");
            it->action = PL_ACT_SKIPPED;
            if (!a->o.prune)
                set_reason(it, "no longer in Git; not pruned (needs --prune or "
                               "syncPolicy.automated.prune)");
            else if (lopts & (PL_SOPT_PRUNE_FALSE | PL_SOPT_DELETE_FALSE))
                set_reason(it, "no longer in Git; not pruned (Prune=false)");
            else if (guarded && !a->o.prune_confirm)
                set_reason(it, "no longer in Git; a %s is pruned only with --prune-confirm",
                           e->kind);
            else if (a->o.dry_run) {
                it->action = PL_ACT_PRUNED;
                set_reason(it, "dry run: would be pruned");
            } else {
                it->action = PL_ACT_NONE;
                a->prune_list[a->nprune++] = e;
            }
        }
        qsort(a->prune_list, a->nprune, sizeof(*a->prune_list), prune_cmp);
        a->prune_pos = 0;
        *sub = 1;
    }
    if (*sub == 2) {
        if (!batch_done(a))
            return 1;
        for (size_t b = 0; b < pl_kube_batch_count(a->batch); b++) {
            pl_kube_result *r = pl_kube_batch_result(a->batch, b);
            pl_sync_item *it = &a->items[a->batch_task[b]];
            if (r->code == 0 || r->code == PL_ENOTFOUND) {
                it->action = PL_ACT_PRUNED;
                set_reason(it, "no longer in Git");
            } else {
                it->action = PL_ACT_FAILED;
                set_reason(it, "prune failed: %s", s_or(r->message, "error"));
                fail_app(a, "pruning %s failed", it->id);
            }
        }
        *sub = 1;
    }
    if (a->prune_pos >= a->nprune) {
        a->st = a->o.dry_run ? ST_DONE : ST_PARENT_POST;
        if (a->o.dry_run)
            a->finished_ok = !a->failed;
        *sub = 0;
        return 1;
    }
    /* one kind per batch */
    start_batch(a);
    const char *kind = a->prune_list[a->prune_pos]->kind;
    while (a->prune_pos < a->nprune && !strcmp(a->prune_list[a->prune_pos]->kind, kind)) {
        inv_entry *e = a->prune_list[a->prune_pos++];
        char g[128], v[64];
        pl_objkey k;
        inv_key(&k, e, g, v);
        pl_kube_delete_opts d = PL_KUBE_DELETE_OPTS_INIT;
        d.propagation = a->propagation;
        /* the item of this entry: the last one with the same identity */
        size_t item = SIZE_MAX;
        for (size_t j = a->nitems; j-- > 0;)
            if (a->items[j].action == PL_ACT_NONE && !strcmp(a->items[j].kind, e->kind) &&
                !strcmp(a->items[j].ns, e->ns) && !strcmp(a->items[j].name, e->name)) {
                item = j;
                break;
            }
        track(a, pl_kube_batch_delete(a->batch, &k, &d, NULL), item);
        a->writes++;
    }
    *sub = 2;
    return 1;
}

static int st_hook_cleanup(pl_sync_app *a, int *sub)
{
    if (*sub == 0) {
        start_batch(a);
        for (size_t i = 0; i < a->ntasks; i++) {
            task *t = &a->tasks[i];
            pl_sync_item *it = &a->items[t->item];
            if (!t->t->is_hook || it->action == PL_ACT_SKIPPED || it->action == PL_ACT_NONE)
                continue;
            int ok = it->action != PL_ACT_FAILED && t->healthy;
            if (!((ok && (t->t->hook_delete & PL_HOOK_DEL_SUCCEEDED)) ||
                  (!ok && (t->t->hook_delete & PL_HOOK_DEL_FAILED))))
                continue;
            if (!pl_json_str(t->send, "metadata", "name", NULL))
                continue;
            char g[128], v[64];
            pl_objkey k;
            pl_kube_delete_opts d = PL_KUBE_DELETE_OPTS_INIT;
            d.propagation = "Background";
            keyof(&k, t->send, g, sizeof(g), v, sizeof(v));
            track(a, pl_kube_batch_delete(a->batch, &k, &d, NULL), i);
            a->writes++;
        }
        *sub = 1;
        return 1;
    }
    if (!batch_done(a))
        return 1;
    a->finished_ok = !a->failed;
    for (size_t i = 0; i < a->nitems; i++)
        if (a->items[i].action == PL_ACT_FAILED)
            a->finished_ok = 0;
    a->st = ST_DONE;
    *sub = 0;
    return 1;
}

/* observe: the live objects of inventory members no longer in Git (the LISTs of the live
 * stage only covered kinds that are still desired) */
static int st_observe_extras(pl_sync_app *a, int *sub)
{
    if (*sub == 0) {
        start_batch(a);
        for (size_t i = 0; i < a->ninv; i++) {
            inv_entry *e = &a->inv[i];
            char key[512], g[128], v[64];
            if (inv_is_desired(a, e))
                continue;
            make_key(key, sizeof(key), e->api_version, e->kind, e->ns, e->name);
            if (json_object_get(a->live_by_key, key))
                continue;
            pl_objkey k;
            inv_key(&k, e, g, v);
            track(a, pl_kube_batch_get(a->batch, &k, NULL), i);
        }
        *sub = 1;
        return 1;
    }
    if (!batch_done(a))
        return 1;
    for (size_t b = 0; b < pl_kube_batch_count(a->batch); b++) {
        pl_kube_result *r = pl_kube_batch_result(a->batch, b);
        char key[512];
        if (b >= a->nbatch_task || a->batch_task[b] >= a->ninv)
            continue;
        inv_entry *e = &a->inv[a->batch_task[b]];
        if (r->code == PL_ENOTFOUND)
            continue; /* already gone: nothing drifted */
        if (r->code < 0) {
            fail_app(a, "reading %s/%s/%s: %s", e->kind, e->ns, e->name,
                     s_or(r->message, "failed"));
            continue;
        }
        make_key(key, sizeof(key), e->api_version, e->kind, e->ns, e->name);
        json_object_set(a->live_by_key, key, r->object);
    }
    a->extras = json_array();
    for (size_t i = 0; i < a->ninv; i++) {
        inv_entry *e = &a->inv[i];
        char key[512];
        if (inv_is_desired(a, e))
            continue;
        make_key(key, sizeof(key), e->api_version, e->kind, e->ns, e->name);
        json_t *live = json_object_get(a->live_by_key, key);
        if (live)
            json_array_append(a->extras, live);
    }
    a->finished_ok = !a->failed;
    a->st = ST_DONE;
    *sub = 0;
    return 1;
}

int pl_sync_app_observation(const pl_sync_app *a, size_t i, pl_sync_observation *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t ti = 0; ti < a->ntasks; ti++) {
        const task *t = &a->tasks[ti];
        if (t->t->is_hook || t->adopt_only)
            continue;
        if (i-- == 0) {
            out->desired = t->send;
            out->predicted = t->predicted;
            out->live = t->live;
            out->item = &a->items[t->item];
            return 1;
        }
    }
    if (i < json_array_size(a->extras)) {
        out->live = json_array_get(a->extras, i);
        return 1;
    }
    return 0;
}

int pl_sync_app_step(pl_sync_app *a, int *wait_ms)
{
    *wait_ms = 0;
    for (int guard = 0; guard < 64; guard++) {
        stage before = a->st;
        int sub_before = a->sub;
        switch (a->st) {
        case ST_PARENT_GET: st_parent_get(a, &a->sub); break;
        case ST_LIVE: st_live(a, &a->sub); break;
        case ST_CLASSIFY: st_classify(a, &a->sub); break;
        case ST_PARENT_PRE: st_parent(a, &a->sub, 0, ST_GROUP_BEGIN); break;
        case ST_GROUP_BEGIN: st_group_begin(a); break;
        case ST_HOOK_DELETE: st_hook_delete(a, &a->sub); break;
        case ST_APPLY_DEPS: st_apply(a, &a->sub, 1); break;
        case ST_WAIT_CRDS: st_wait_crds(a, &a->sub); break;
        case ST_APPLY_REST: st_apply(a, &a->sub, 0); break;
        case ST_HEALTH: st_health(a, &a->sub); break;
        case ST_RESTARTS: st_restarts(a, &a->sub); break;
        case ST_PRUNE: st_prune(a, &a->sub); break;
        case ST_PARENT_POST:
            st_parent(a, &a->sub, 1, ST_GROUP_BEGIN);
            if (a->st == ST_GROUP_BEGIN)
                a->post_prepared = 1;
            break;
        case ST_HOOK_CLEANUP: st_hook_cleanup(a, &a->sub); break;
        case ST_OBSERVE_EXTRAS: st_observe_extras(a, &a->sub); break;
        case ST_DONE:
            if (a->batch) {
                pl_kube_batch_free(a->batch);
                a->batch = NULL;
            }
            return 0;
        }
        if (a->st == before && a->sub == sub_before) {
            /* no progress: waiting on the network or a poll timer */
            long long wake = a->next_poll - now_ms();
            *wait_ms = a->batch && pl_kube_batch_count(a->batch) ? 5 : (int)(wake > 0 ? wake : 5);
            if (*wait_ms > 1000)
                *wait_ms = 1000;
            return 1;
        }
    }
    return 1;
}
