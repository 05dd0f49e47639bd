/*
 * plan.c - the order a sync applies an app's objects in (see plumb/sync.h).
 *
 * The rules are Argo CD's (gitops-engine pkg/sync): tasks sort by phase, wave, kind (Helm's
 * install order) and name, and then dependencies are bubbled up: a Namespace moves in front of
 * the first object placed in it, a CRD in front of the first custom resource of its group and
 * kind, each taking over the phase and wave of the object that needs it. Users who rely on
 * Argo CD's ordering get the same order here.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "plumb/sync.h"

/* Helm's install order (helm releaseutil kind_sorter), as gitops-engine uses it. */
static const char *const kind_table[] = {
    "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
    "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap",
    "StorageClass", "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition",
    "ClusterRole", "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role",
    "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod",
    "ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler",
    "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
};
#define NKINDS (sizeof(kind_table) / sizeof(kind_table[0]))

int pl_sync_kind_order(const char *kind)
{
    if (!kind)
        return 0;
    for (size_t i = 0; i < NKINDS; i++)
        if (!strcmp(kind_table[i], kind))
            return (int)i - (int)NKINDS; /* known kinds are negative: unknown (0) sort last */
    return 0;
}

static const char *annotation(const json_t *obj, const char *key)
{
    return pl_json_str(obj, "metadata", "annotations", key, NULL);
}

/* Trimmed copy of the next comma-separated item of *p into buf; 0 when none is left. */
static int next_item(const char **p, char *buf, size_t cap)
{
    const char *s = *p;
    while (*s == ' ' || *s == ',' || *s == '\t')
        s++;
    if (!*s)
        return 0;
    const char *e = strchr(s, ',');
    if (!e)
        e = s + strlen(s);
    const char *t = e;
    while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
        t--;
    size_t n = (size_t)(t - s);
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    *p = e;
    return 1;
}

unsigned pl_sync_options_parse(const char *value)
{
    unsigned bits = 0;
    char item[128];
    const char *p = value ? value : "";
    while (next_item(&p, item, sizeof(item))) {
        if (!strcmp(item, "Prune=false"))
            bits |= PL_SOPT_PRUNE_FALSE;
        else if (!strcmp(item, "Replace=true"))
            bits |= PL_SOPT_REPLACE;
        else if (!strcmp(item, "Force=true"))
            bits |= PL_SOPT_FORCE;
        else if (!strcmp(item, "SkipDryRunOnMissingResource=true"))
            bits |= PL_SOPT_SKIP_DRYRUN_MISSING;
        else if (!strcmp(item, "PruneLast=true"))
            bits |= PL_SOPT_PRUNE_LAST;
        else if (!strcmp(item, "ServerSideApply=false"))
            bits |= PL_SOPT_SSA_FALSE;
        else if (!strcmp(item, "Delete=false"))
            bits |= PL_SOPT_DELETE_FALSE;
        /* other options (Validate=false, ...) do not change what plumb does */
    }
    return bits;
}

static int parse_int(int *out, const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    while (*end == ' ')
        end++;
    if (end == s || *end || errno || v < INT_MIN || v > INT_MAX)
        return -1;
    *out = (int)v;
    return 0;
}

static int describe_error(const json_t *obj, const char *what, const char *value)
{
    pl_objkey k;
    pl_buf b = PL_BUF_INIT;
    pl_objkey_from(&k, obj);
    pl_objkey_format(&b, &k);
    int rc = pl_error_set(PL_EINVALID, "%s: %s \"%s\"", b.ptr ? b.ptr : "object", what, value);
    pl_buf_dispose(&b);
    return rc;
}

/*
 * Phases an object runs in: bit 0..3 = PreSync, Sync, PostSync, SyncFail. Returns 0 for an
 * ordinary (non-hook) object, -1 for a Skip-only hook, or a negative pl_code on error.
 */
#define PH_PRE 1
#define PH_SYNC 2
#define PH_POST 4
#define PH_FAIL 8
#define PH_SKIP 16

static int hook_phases(unsigned *out, const json_t *obj)
{
    const char *argo = annotation(obj, PL_ANN_HOOK);
    const char *helm = annotation(obj, "helm.sh/hook");
    unsigned ph = 0;
    char item[64];
    const char *p;
    *out = 0;
    if (argo) {
        p = argo;
        while (next_item(&p, item, sizeof(item))) {
            if (!strcmp(item, "PreSync"))
                ph |= PH_PRE;
            else if (!strcmp(item, "Sync"))
                ph |= PH_SYNC;
            else if (!strcmp(item, "PostSync"))
                ph |= PH_POST;
            else if (!strcmp(item, "SyncFail"))
                ph |= PH_FAIL;
            else if (!strcmp(item, "Skip"))
                ph |= PH_SKIP;
            else if (!strcmp(item, "PostDelete"))
                ; /* runs when the app is deleted: not part of a sync */
            else
                return describe_error(obj, "unknown hook type", item);
        }
        /* Skip alone means "do not apply"; Skip next to a real phase is ignored (gitops-engine) */
        if (ph == PH_SKIP) {
            *out = PH_SKIP;
            return 0;
        }
        ph &= ~(unsigned)PH_SKIP;
        if (!ph && argo[0]) { /* only PostDelete: never part of a sync */
            *out = PH_SKIP;
            return 0;
        }
        *out = ph;
        return 0;
    }
    if (helm) {
        p = helm;
        while (next_item(&p, item, sizeof(item))) {
            if (!strcmp(item, "pre-install") || !strcmp(item, "pre-upgrade"))
                ph |= PH_PRE;
            else if (!strcmp(item, "post-install") || !strcmp(item, "post-upgrade"))
                ph |= PH_POST;
            /* delete/rollback/test hooks have no sync phase in Argo CD */
        }
        *out = ph ? ph : PH_SKIP;
        return 0;
    }
    return 0;
}

static int delete_policy(unsigned *out, const json_t *obj)
{
    const char *argo = annotation(obj, PL_ANN_HOOK_DELETE);
    const char *helm = annotation(obj, "helm.sh/hook-delete-policy");
    unsigned bits = 0;
    char item[64];
    const char *p = argo ? argo : helm;
    while (p && next_item(&p, item, sizeof(item))) {
        if (!strcmp(item, "BeforeHookCreation") || !strcmp(item, "before-hook-creation"))
            bits |= PL_HOOK_DEL_BEFORE_CREATION;
        else if (!strcmp(item, "HookSucceeded") || !strcmp(item, "hook-succeeded"))
            bits |= PL_HOOK_DEL_SUCCEEDED;
        else if (!strcmp(item, "HookFailed") || !strcmp(item, "hook-failed"))
            bits |= PL_HOOK_DEL_FAILED;
        else
            return describe_error(obj, "unknown hook-delete-policy", item);
    }
    *out = bits ? bits : PL_HOOK_DEL_BEFORE_CREATION;
    return 0;
}

static int wave_of(int *out, const json_t *obj)
{
    const char *w = annotation(obj, PL_ANN_SYNC_WAVE);
    *out = 0;
    if (!w)
        w = annotation(obj, "helm.sh/hook-weight");
    if (!w)
        return 0;
    /* gitops-engine ignores an unparsable wave; a typo that silently reorders a bootstrap is
     * worse than an error, so plumb refuses it */
    if (parse_int(out, w) < 0)
        return describe_error(obj, "sync-wave is not an integer:", w);
    return 0;
}

static const char *obj_kind(const json_t *o)
{
    const char *k = pl_json_str(o, "kind", NULL);
    return k ? k : "";
}

static const char *obj_name(const json_t *o)
{
    const char *n = pl_json_str(o, "metadata", "name", NULL);
    if (!n)
        n = pl_json_str(o, "metadata", "generateName", NULL);
    return n ? n : "";
}

static const char *obj_ns(const json_t *o)
{
    const char *n = pl_json_str(o, "metadata", "namespace", NULL);
    return n ? n : "";
}

/* group of an apiVersion ("apps/v1" -> "apps", "v1" -> ""), copied into buf */
static void group_of(const json_t *o, char *buf, size_t cap)
{
    const char *av = pl_json_str(o, "apiVersion", NULL);
    const char *slash = av ? strchr(av, '/') : NULL;
    size_t n = slash ? (size_t)(slash - av) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(buf, av, n);
    buf[n] = '\0';
}

static int task_cmp(const void *pa, const void *pb)
{
    const pl_sync_task *a = pa, *b = pb;
    if (a->phase != b->phase)
        return a->phase < b->phase ? -1 : 1;
    if (a->wave != b->wave)
        return a->wave < b->wave ? -1 : 1;
    if (a->kind_order != b->kind_order)
        return a->kind_order < b->kind_order ? -1 : 1;
    int c = strcmp(obj_name(a->obj), obj_name(b->obj));
    if (c)
        return c;
    /* qsort is not stable: equal (phase, wave, kind, name) keep their input order so a plan
     * is the same on every run */
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Dependency keys for the bubbling pass; `is_dep` selects the kind of dependency. */
typedef int (*dep_key_fn)(const json_t *o, char *buf, size_t cap);

static int ns_is_dep(const json_t *o, char *buf, size_t cap)
{
    char g[64];
    group_of(o, g, sizeof(g));
    if (strcmp(obj_kind(o), "Namespace") || g[0])
        return 0;
    snprintf(buf, cap, "%s", obj_name(o));
    return 1;
}

static int ns_refs(const json_t *o, char *buf, size_t cap)
{
    const char *ns = obj_ns(o);
    if (!ns[0])
        return 0;
    snprintf(buf, cap, "%s", ns);
    return 1;
}

static int crd_is_dep(const json_t *o, char *buf, size_t cap)
{
    if (strcmp(obj_kind(o), "CustomResourceDefinition"))
        return 0;
    const char *g = pl_json_str(o, "spec", "group", NULL);
    const char *k = pl_json_str(o, "spec", "names", "kind", NULL);
    if (!g || !k)
        return 0;
    snprintf(buf, cap, "%s/%s", g, k);
    return 1;
}

static int crd_refs(const json_t *o, char *buf, size_t cap)
{
    char g[256];
    group_of(o, g, sizeof(g));
    snprintf(buf, cap, "%s/%s", g, obj_kind(o));
    return 1;
}

/*
 * Move every dependency in front of the first task that references it (stable otherwise),
 * taking that task's phase and wave: gitops-engine's adjustDeps. The first-reference table is
 * a small linear list: dependencies are namespaces and CRDs, a handful per app.
 */
static int adjust_deps(pl_sync_task *t, size_t n, dep_key_fn is_dep, dep_key_fn refs)
{
    typedef struct {
        char key[320];
        size_t index;
    } first_ref;
    first_ref *firsts = NULL;
    size_t nfirst = 0, capfirst = 0;
    char key[320];
    for (size_t i = 0; i < n; i++) {
        if (is_dep(t[i].obj, key, sizeof(key))) {
            size_t j;
            for (j = 0; j < nfirst && strcmp(firsts[j].key, key); j++)
                ;
            if (j == nfirst)
                continue;
            size_t index = firsts[j].index;
            pl_sync_task dep = t[i];
            dep.wave = t[index].wave;
            dep.phase = t[index].phase;
            memmove(&t[index + 1], &t[index], (i - index) * sizeof(*t));
            t[index] = dep;
            for (size_t m = 0; m < nfirst; m++)
                if (firsts[m].index >= index)
                    firsts[m].index++;
        } else if (refs(t[i].obj, key, sizeof(key))) {
            size_t j;
            for (j = 0; j < nfirst && strcmp(firsts[j].key, key); j++)
                ;
            if (j < nfirst)
                continue;
            if (nfirst == capfirst) {
                size_t nc = capfirst ? capfirst * 2 : 16;
                first_ref *nf = pl_realloc(firsts, nc * sizeof(*nf));
                if (!nf) {
                    pl_free(firsts);
                    return pl_error_set(PL_ENOMEM, "out of memory");
                }
                firsts = nf;
                capfirst = nc;
            }
            snprintf(firsts[nfirst].key, sizeof(firsts[nfirst].key), "%s", key);
            firsts[nfirst].index = i;
            nfirst++;
        }
    }
    pl_free(firsts);
    return 0;
}

void pl_sync_plan_free(pl_sync_plan *plan)
{
    if (!plan)
        return;
    for (size_t i = 0; i < plan->ntasks; i++)
        json_decref(plan->tasks[i].obj);
    pl_free(plan->tasks);
    plan->tasks = NULL;
    plan->ntasks = 0;
}

int pl_sync_plan_build(pl_sync_plan *out, const json_t *objs)
{
    size_t n = json_array_size(objs), cap = n + 4, count = 0;
    pl_sync_task *t = NULL;
    int rc = 0;
    out->tasks = NULL;
    out->ntasks = 0;
    t = pl_calloc(cap, sizeof(*t));
    if (!t)
        return pl_error_set(PL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(objs, i);
        unsigned ph, del = 0;
        int wave;
        if ((rc = hook_phases(&ph, o)) < 0 || (rc = wave_of(&wave, o)) < 0)
            goto done;
        if (ph == PH_SKIP)
            continue;
        if (ph && (rc = delete_policy(&del, o)) < 0)
            goto done;
        unsigned opts = pl_sync_options_parse(annotation(o, PL_ANN_SYNC_OPTIONS));
        static const struct {
            unsigned bit;
            pl_sync_phase phase;
        } phases[] = {{PH_PRE, PL_PHASE_PRESYNC}, {PH_SYNC, PL_PHASE_SYNC},
                      {PH_POST, PL_PHASE_POSTSYNC}, {PH_FAIL, PL_PHASE_SYNCFAIL}};
        for (size_t p = 0; p < 4; p++) {
            if (ph ? !(ph & phases[p].bit) : phases[p].phase != PL_PHASE_SYNC)
                continue;
            if (count == cap) {
                size_t nc = cap * 2;
                pl_sync_task *nt = pl_realloc(t, nc * sizeof(*nt));
                if (!nt) {
                    rc = pl_error_set(PL_ENOMEM, "out of memory");
                    goto done;
                }
                t = nt;
                cap = nc;
            }
            t[count].obj = json_incref(o);
            t[count].phase = phases[p].phase;
            t[count].wave = wave;
            t[count].is_hook = ph != 0;
            t[count].hook_delete = del;
            t[count].opts = opts;
            t[count].seq = count;
            t[count].kind_order = pl_sync_kind_order(obj_kind(o));
            count++;
        }
    }
    qsort(t, count, sizeof(*t), task_cmp);
    if ((rc = adjust_deps(t, count, ns_is_dep, ns_refs)) < 0 ||
        (rc = adjust_deps(t, count, crd_is_dep, crd_refs)) < 0)
        goto done;
    out->tasks = t;
    out->ntasks = count;
    t = NULL;
done:
    if (t) {
        for (size_t i = 0; i < count; i++)
            json_decref(t[i].obj);
        pl_free(t);
    }
    return rc;
}
