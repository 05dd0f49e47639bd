/*
 * kube_client.c - integration driver for engine/kube against `plumb sandbox` (run by
 * kube_client.sh). Each mode prints one "ok ..." line per check and exits 1 on the first failure.
 *
 *   kube_client basic KUBECONFIG CONTEXT PREFIX   discovery, apply/no-op/conflict/force/dry-run,
 *                                                 get/list pagination, delete, watch, CRD then CR
 *   kube_client faults KUBECONFIG CONTEXT N       N applies through injected 5xx/429: all succeed,
 *                                                 each object exists exactly once
 *   kube_client concurrent KUBECONFIG CONTEXT N MAXMS   N GETs in one batch finish within MAXMS
 *   kube_client mkexec KUBECONFIG DIR             write DIR/kubeconfig whose user is an exec
 *                                                 plugin (DIR/bin/plugin.sh) printing the token
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plumb/kube.h"

static int failures;

#define CHECK(cond, ...)                                                                          \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                  \
            fprintf(stderr, __VA_ARGS__);                                                         \
            fprintf(stderr, "\n");                                                                \
            exit(1);                                                                              \
        }                                                                                         \
    } while (0)

#define OK(...)                                                                                   \
    do {                                                                                          \
        printf("ok ");                                                                            \
        printf(__VA_ARGS__);                                                                      \
        printf("\n");                                                                             \
        fflush(stdout);                                                                           \
    } while (0)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void log_sink(pl_log_level level, const char *comp, const char *msg, void *payload)
{
    (void)payload;
    fprintf(stderr, "[%s] %d %s\n", comp, (int)level, msg);
}

static pl_kube *kc_connect(pl_kube_config **cfg, const char *kubeconfig, const char *context,
                        const pl_kube_opts *opts)
{
    pl_kube_config_opts co = PL_KUBE_CONFIG_OPTS_INIT;
    pl_kube *k = NULL;

    co.kubeconfig = kubeconfig;
    co.context = context;
    CHECK(pl_kube_config_load(cfg, &co) == 0, "load %s: %s", kubeconfig, pl_error_last()->message);
    CHECK(pl_kube_new(&k, *cfg, opts) == 0, "client: %s", pl_error_last()->message);
    return k;
}

static json_t *obj(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *obj(const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    json_t *j;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    j = json_loads(text, 0, NULL);
    CHECK(j, "bad fixture json: %s", text);
    return j;
}

static const char *rv_of(const pl_kube_result *r)
{
    const char *rv = pl_json_str(r->object, "metadata", "resourceVersion", NULL);
    return rv ? rv : "";
}

/* ---- basic scenario -------------------------------------------------------------------------- */

typedef struct watch_seen {
    const char *name;
    int added, modified, deleted;
    char order[64];
} watch_seen;

static int on_event(const char *type, const json_t *o, void *payload)
{
    watch_seen *w = payload;
    const char *name = pl_json_str(o, "metadata", "name", NULL);

    if (!name || strcmp(name, w->name) != 0)
        return 0;
    if (!strcmp(type, "ADDED"))
        w->added++;
    else if (!strcmp(type, "MODIFIED"))
        w->modified++;
    else if (!strcmp(type, "DELETED"))
        w->deleted++;
    if (strlen(w->order) + 2 < sizeof(w->order))
        strncat(w->order, type, 1);
    return w->deleted > 0; /* stop once the object is gone */
}

static int basic(const char *kubeconfig, const char *context, const char *p)
{
    pl_kube_config *cfg = NULL;
    pl_kube *k = kc_connect(&cfg, kubeconfig, context, NULL);
    pl_kube_apply_opts ao = PL_KUBE_APPLY_OPTS_INIT;
    pl_kube_result r, r2;
    pl_kube_mapping m;
    pl_kube_batch *b = NULL, *wb = NULL;
    json_t *ns, *cm, *cm_other;
    char nsname[64], rv1[64];
    pl_objkey key;
    int i, widx;
    double t0;

    snprintf(nsname, sizeof(nsname), "%s-ns", p);

    /* discovery and mapping */
    CHECK(pl_kube_mapping_get(&m, k, "apps", "v1", "Deployment") == 0, "mapping: %s",
          pl_error_last()->message);
    CHECK(!strcmp(m.resource, "deployments") && m.namespaced && m.can_patch, "deployments mapping");
    CHECK(pl_kube_mapping_get(&m, k, "", "v1", "Namespace") == 0 && !m.namespaced &&
              !strcmp(m.resource, "namespaces"),
          "namespaces mapping");
    CHECK(pl_kube_mapping_get(&m, k, "rbac.authorization.k8s.io", "v1", "ClusterRole") == 0 &&
              !m.namespaced,
          "clusterroles mapping");
    CHECK(pl_kube_mapping_get(&m, k, "example.invalid", "v1", "Nope") == PL_ENOTFOUND &&
              !strcmp(pl_error_last()->message,
                      "no matches for kind \"Nope\" in version \"example.invalid/v1\""),
          "missing kind: %s", pl_error_last()->message);
    OK("discovery and mapping (%s)", context);

    /* namespace, then apply create (201) and a no-op re-apply (RV unchanged) */
    ns = obj("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\"}}", nsname);
    CHECK(pl_kube_apply(&r, k, ns, &ao) == 0, "namespace: %s", r.message);
    pl_kube_result_dispose(&r);
    cm = obj("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\","
             "\"namespace\":\"%s\"},\"data\":{\"a\":\"1\",\"b\":\"2\"}}",
             nsname);
    CHECK(pl_kube_apply(&r, k, cm, &ao) == 0 && r.http_status == 201 && r.created, "apply create: %ld %s",
          r.http_status, r.message ? r.message : "");
    snprintf(rv1, sizeof(rv1), "%s", rv_of(&r));
    CHECK(*rv1, "created object has a resourceVersion");
    pl_kube_result_dispose(&r);
    CHECK(pl_kube_apply(&r, k, cm, &ao) == 0 && r.http_status == 200 && !r.created,
          "re-apply: %ld", r.http_status);
    CHECK(!strcmp(rv_of(&r), rv1), "no-op re-apply changed resourceVersion %s -> %s", rv1, rv_of(&r));
    pl_kube_result_dispose(&r);
    OK("apply created (201) and re-apply kept resourceVersion %s", rv1);

    /* another manager changes an owned field: conflict with causes, then force */
    cm_other = obj("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\","
                   "\"namespace\":\"%s\"},\"data\":{\"a\":\"other\"}}",
                   nsname);
    ao.field_manager = "someone-else";
    CHECK(pl_kube_apply(&r, k, cm_other, &ao) == PL_ECONFLICT && r.http_status == 409,
          "conflict expected: %d %ld", r.code, r.http_status);
    {
        const json_t *causes = pl_kube_result_causes(&r);
        CHECK(causes && json_array_size(causes) == 1, "one cause");
        CHECK(!strcmp(pl_json_str(json_array_get(causes, 0), "reason", NULL), "FieldManagerConflict"),
              "cause reason");
        CHECK(!strcmp(pl_json_str(json_array_get(causes, 0), "field", NULL), ".data.a"), "cause field");
        CHECK(!strcmp(r.reason, "Conflict"), "reason %s", r.reason);
        CHECK(strncmp(r.message, "ConfigMap/", 10) == 0 && strstr(r.message, "/cfg: Apply failed with 1 conflict"),
              "message: %s", r.message);
        OK("conflict: %s", r.message);
    }
    pl_kube_result_dispose(&r);
    ao.force = 1;
    CHECK(pl_kube_apply(&r, k, cm_other, &ao) == 0 && r.http_status == 200, "force: %s", r.message);
    CHECK(!strcmp(pl_json_str(r.object, "data", "a", NULL), "other"), "forced value");
    pl_kube_result_dispose(&r);
    OK("force took ownership");
    ao.force = 0;
    ao.field_manager = "plumb";

    /* dry-run apply: the answer shows the change, nothing is persisted */
    {
        pl_objkey ck = {"", "v1", "ConfigMap", nsname, "cfg"};
        json_t *cm3 = obj("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                          "\"cfg\",\"namespace\":\"%s\"},\"data\":{\"b\":\"dry\"}}",
                          nsname);
        char before[64];
        CHECK(pl_kube_get(&r, k, &ck) == 0, "get: %s", r.message);
        snprintf(before, sizeof(before), "%s", rv_of(&r));
        pl_kube_result_dispose(&r);
        ao.dry_run = 1;
        CHECK(pl_kube_apply(&r, k, cm3, &ao) == 0, "dry-run: %s", r.message);
        CHECK(!strcmp(pl_json_str(r.object, "data", "b", NULL), "dry"), "dry-run shows the change");
        pl_kube_result_dispose(&r);
        ao.dry_run = 0;
        CHECK(pl_kube_get(&r, k, &ck) == 0, "get: %s", r.message);
        CHECK(!strcmp(rv_of(&r), before) && !strcmp(pl_json_str(r.object, "data", "b", NULL), "2"),
              "dry-run persisted something");
        pl_kube_result_dispose(&r);
        json_decref(cm3);
        OK("dry-run apply persisted nothing");
    }

    /* get of a missing object */
    key = (pl_objkey){"", "v1", "ConfigMap", nsname, "absent"};
    CHECK(pl_kube_get(&r, k, &key) == PL_ENOTFOUND && r.http_status == 404, "missing get");
    {
        char want[256];
        snprintf(want, sizeof(want), "ConfigMap/%s/absent: configmaps \"absent\" not found", nsname);
        CHECK(!strcmp(r.message, want), "message %s", r.message);
    }
    pl_kube_result_dispose(&r);
    OK("get of a missing object: PL_ENOTFOUND");

    /* five objects applied in one batch, listed two per page */
    CHECK(pl_kube_batch_new(&b, k) == 0, "batch");
    for (i = 0; i < 5; i++) {
        json_t *o = obj("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                        "\"page-%d\",\"namespace\":\"%s\",\"labels\":{\"set\":\"pages\"}},"
                        "\"data\":{\"i\":\"%d\"}}",
                        i, nsname, i);
        CHECK(pl_kube_batch_apply(b, o, &ao, NULL) == i, "batch add");
        json_decref(o);
    }
    pl_kube_batch_run(b);
    for (i = 0; i < 5; i++)
        CHECK(pl_kube_batch_result(b, (size_t)i)->code == 0, "batch apply %d: %s", i,
              pl_kube_batch_result(b, (size_t)i)->message);
    pl_kube_batch_free(b);
    {
        pl_kube_list_opts lo = PL_KUBE_LIST_OPTS_INIT;
        pl_objkey lk = {"", "v1", "ConfigMap", nsname, NULL};
        json_t *items;
        lo.limit = 2;
        lo.label_selector = "set=pages";
        CHECK(pl_kube_list(&r, k, &lk, &lo) == 0, "list: %s", r.message);
        items = json_object_get(r.object, "items");
        CHECK(json_array_size(items) == 5, "list has %zu items", json_array_size(items));
        CHECK(!strcmp(pl_json_str(r.object, "kind", NULL), "ConfigMapList"), "list kind");
        CHECK(!strcmp(pl_json_str(json_array_get(items, 0), "kind", NULL), "ConfigMap"),
              "items carry kind");
        pl_kube_result_dispose(&r);
    }
    OK("list with limit 2 returned 5 items");

    /* watch: ADDED, MODIFIED, DELETED for one object, while writes run in another batch */
    {
        pl_kube_watch_opts wo = PL_KUBE_WATCH_OPTS_INIT;
        pl_objkey wk = {"", "v1", "ConfigMap", nsname, NULL};
        pl_objkey dk = {"", "v1", "ConfigMap", nsname, "watched"};
        watch_seen seen = {"watched", 0, 0, 0, ""};
        pl_kube_list_opts lo = PL_KUBE_LIST_OPTS_INIT;
        json_t *w1 = obj("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                         "\"watched\",\"namespace\":\"%s\"},\"data\":{\"v\":\"1\"}}",
                         nsname);
        json_t *w2 = obj("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                         "\"watched\",\"namespace\":\"%s\"},\"data\":{\"v\":\"2\"}}",
                         nsname);
        char listrv[64];
        CHECK(pl_kube_list(&r, k, &wk, &lo) == 0, "list for watch");
        snprintf(listrv, sizeof(listrv), "%s", pl_json_str(r.object, "metadata", "resourceVersion", NULL));
        pl_kube_result_dispose(&r);
        wo.resource_version = listrv;
        wo.timeout_seconds = 20;
        CHECK(pl_kube_batch_new(&wb, k) == 0, "watch batch");
        widx = pl_kube_batch_watch(wb, &wk, &wo, on_event, &seen);
        CHECK(widx == 0, "watch add");
        pl_kube_batch_step(wb, 200); /* let the stream open */
        CHECK(pl_kube_apply(&r, k, w1, &ao) == 0, "watched create");
        pl_kube_result_dispose(&r);
        CHECK(pl_kube_apply(&r, k, w2, &ao) == 0, "watched modify");
        pl_kube_result_dispose(&r);
        CHECK(pl_kube_delete(&r, k, &dk, NULL) == 0 && r.http_status == 200, "watched delete: %s", r.message);
        pl_kube_result_dispose(&r);
        t0 = now_s();
        while (!pl_kube_batch_step(wb, 200) && now_s() - t0 < 15)
            ;
        CHECK(pl_kube_batch_done(wb, 0), "watch did not end");
        CHECK(pl_kube_batch_result(wb, 0)->code == 0, "watch result: %s",
              pl_kube_batch_result(wb, 0)->message);
        CHECK(seen.added == 1 && seen.modified == 1 && seen.deleted == 1 && !strcmp(seen.order, "AMD"),
              "watch saw %s", seen.order);
        pl_kube_batch_free(wb);
        json_decref(w1);
        json_decref(w2);
        OK("watch saw ADDED, MODIFIED, DELETED");
    }

    /* delete: 200, then 404 */
    key = (pl_objkey){"", "v1", "ConfigMap", nsname, "cfg"};
    CHECK(pl_kube_delete(&r, k, &key, NULL) == 0 && r.http_status == 200, "delete: %s", r.message);
    pl_kube_result_dispose(&r);
    CHECK(pl_kube_delete(&r, k, &key, NULL) == PL_ENOTFOUND, "second delete");
    pl_kube_result_dispose(&r);
    CHECK(pl_kube_get(&r, k, &key) == PL_ENOTFOUND, "deleted object still there");
    pl_kube_result_dispose(&r);
    OK("delete then 404");

    /* CRD then CR: a miss before, the mapping refreshes after the CRD is Established */
    {
        char group[64], crdname[96];
        json_t *crd, *cr;
        pl_objkey crdkey;
        snprintf(group, sizeof(group), "%s.example.com", p);
        snprintf(crdname, sizeof(crdname), "widgets.%s", group);
        cr = obj("{\"apiVersion\":\"%s/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w1\","
                 "\"namespace\":\"%s\"},\"spec\":{\"size\":3}}",
                 group, nsname);
        CHECK(pl_kube_apply(&r, k, cr, &ao) == PL_ENOTFOUND && r.http_status == 0 &&
                  !strcmp(r.reason, "NoKindMatch"),
              "CR before CRD: %d %s", r.code, r.message);
        CHECK(strstr(r.message, "no matches for kind \"Widget\" in version"), "%s", r.message);
        OK("CR before its CRD: %s", r.message);
        pl_kube_result_dispose(&r);
        crd = obj("{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
                  "\"metadata\":{\"name\":\"%s\"},\"spec\":{\"group\":\"%s\",\"names\":{\"plural\":"
                  "\"widgets\",\"singular\":\"widget\",\"kind\":\"Widget\",\"listKind\":\"WidgetList\"},"
                  "\"scope\":\"Namespaced\",\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":"
                  "true,\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"properties\":{\"spec\":"
                  "{\"type\":\"object\",\"properties\":{\"size\":{\"type\":\"integer\"}}}}}}}]}}",
                  crdname, group);
        CHECK(pl_kube_apply(&r, k, crd, &ao) == 0, "crd: %s", r.message);
        pl_kube_result_dispose(&r);
        crdkey = (pl_objkey){"apiextensions.k8s.io", "v1", "CustomResourceDefinition", "", crdname};
        t0 = now_s();
        for (;;) {
            const json_t *conds, *c;
            size_t ci;
            int established = 0;
            CHECK(pl_kube_get(&r, k, &crdkey) == 0, "get crd: %s", r.message);
            conds = pl_json_path(r.object, "status", "conditions", NULL);
            json_array_foreach(conds, ci, c) {
                if (!strcmp(pl_json_str(c, "type", NULL), "Established") &&
                    !strcmp(pl_json_str(c, "status", NULL), "True"))
                    established = 1;
            }
            pl_kube_result_dispose(&r);
            if (established)
                break;
            CHECK(now_s() - t0 < 10, "CRD not Established");
            usleep(50000);
        }
        usleep(300000); /* past the miss-refresh guard: this exercises the refresh on a miss */
        CHECK(pl_kube_apply(&r, k, cr, &ao) == 0 && r.http_status == 201, "CR after CRD: %s",
              r.message);
        pl_kube_result_dispose(&r);
        CHECK(pl_kube_mapping_get(&m, k, group, "v1", "Widget") == 0 && !strcmp(m.resource, "widgets") &&
                  m.namespaced,
              "widget mapping");
        json_decref(cr);
        json_decref(crd);
        OK("CR after its CRD: mapping refreshed, 201");
    }

    /* /version through the same transport */
    CHECK(pl_kube_get_path(&r, k, "/version", NULL) == 0 && pl_json_str(r.object, "minor", NULL),
          "/version");
    pl_kube_result_dispose(&r);
    (void)r2;
    json_decref(ns);
    json_decref(cm);
    json_decref(cm_other);
    pl_kube_free(k);
    pl_kube_config_free(cfg);
    return failures ? 1 : 0;
}

/* ---- faults ------------------------------------------------------------------------------------ */

static int faults(const char *kubeconfig, const char *context, int n)
{
    pl_kube_opts ko = PL_KUBE_OPTS_INIT;
    pl_kube_config *cfg = NULL;
    pl_kube *k;
    pl_kube_batch *b = NULL;
    pl_kube_apply_opts ao = PL_KUBE_APPLY_OPTS_INIT;
    pl_kube_list_opts lo = PL_KUBE_LIST_OPTS_INIT;
    pl_kube_result r;
    json_t *ns, *items;
    pl_objkey lk = {"", "v1", "ConfigMap", "faults", NULL};
    int i, total_attempts = 0, retried = 0;
    double t0 = now_s();
    char *seen;

    ko.qps = 0; /* the server's faults are the point here, not the client's limit */
    ko.backoff_base_ms = 20;
    ko.retry_after_max_ms = 1000;
    k = kc_connect(&cfg, kubeconfig, context, &ko);
    ns = obj("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"faults\"}}");
    CHECK(pl_kube_apply(&r, k, ns, &ao) == 0, "namespace: %s", r.message);
    pl_kube_result_dispose(&r);
    CHECK(pl_kube_batch_new(&b, k) == 0, "batch");
    for (i = 0; i < n; i++) {
        json_t *o = obj("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                        "\"f-%04d\",\"namespace\":\"faults\"},\"data\":{\"i\":\"%d\"}}",
                        i, i);
        pl_kube_batch_apply(b, o, &ao, NULL);
        json_decref(o);
    }
    pl_kube_batch_run(b);
    for (i = 0; i < n; i++) {
        pl_kube_result *res = pl_kube_batch_result(b, (size_t)i);
        CHECK(res->code == 0, "apply %d failed after %d attempts: %s", i, res->attempts, res->message);
        total_attempts += res->attempts;
        retried += res->attempts > 1;
    }
    pl_kube_batch_free(b);
    OK("%d applies succeeded through faults in %.2fs (%d attempts, %d requests retried)", n,
       now_s() - t0, total_attempts, retried);
    CHECK(retried > 0, "no request was retried: are faults on?");
    lo.limit = 50;
    CHECK(pl_kube_list(&r, k, &lk, &lo) == 0, "list: %s", r.message);
    items = json_object_get(r.object, "items");
    CHECK(json_array_size(items) == (size_t)n, "list has %zu objects, want %d",
          json_array_size(items), n);
    seen = calloc((size_t)n, 1);
    for (i = 0; i < n; i++) {
        const char *name = pl_json_str(json_array_get(items, (size_t)i), "metadata", "name", NULL);
        int idx = name ? (int)strtol(name + 2, NULL, 10) : -1;
        CHECK(idx >= 0 && idx < n && !seen[idx], "duplicate or unexpected %s", name ? name : "?");
        seen[idx] = 1;
    }
    free(seen);
    pl_kube_result_dispose(&r);
    OK("each of the %d objects exists exactly once", n);
    json_decref(ns);
    pl_kube_free(k);
    pl_kube_config_free(cfg);
    return 0;
}

/* ---- concurrency -------------------------------------------------------------------------------- */

static int concurrent(const char *kubeconfig, const char *context, int n, int max_ms)
{
    pl_kube_opts ko = PL_KUBE_OPTS_INIT;
    pl_kube_config *cfg = NULL;
    pl_kube *k;
    pl_kube_batch *b = NULL;
    pl_kube_result r;
    pl_objkey key = {"", "v1", "Namespace", "", "default"};
    double t0, ms;
    int i;

    ko.qps = 0;
    ko.max_in_flight = 64;
    k = kc_connect(&cfg, kubeconfig, context, &ko);
    CHECK(pl_kube_get(&r, k, &key) == 0, "warm-up get: %s", r.message); /* discovery, one conn */
    pl_kube_result_dispose(&r);
    CHECK(pl_kube_batch_new(&b, k) == 0, "batch");
    t0 = now_s();
    for (i = 0; i < n; i++)
        pl_kube_batch_get(b, &key, NULL);
    pl_kube_batch_run(b);
    ms = (now_s() - t0) * 1000;
    for (i = 0; i < n; i++)
        CHECK(pl_kube_batch_result(b, (size_t)i)->code == 0, "get %d: %s", i,
              pl_kube_batch_result(b, (size_t)i)->message);
    pl_kube_batch_free(b);
    OK("%d GETs in one batch took %.0f ms (limit %d ms)", n, ms, max_ms);
    CHECK(ms < max_ms, "batch was not concurrent: %.0f ms", ms);
    pl_kube_free(k);
    pl_kube_config_free(cfg);
    return 0;
}

/* ---- exec kubeconfig ------------------------------------------------------------------------------ */

static int mkexec(const char *kubeconfig, const char *dir)
{
    FILE *f = fopen(kubeconfig, "rb");
    char *text, path[1024];
    long len;
    json_t *docs = NULL, *doc, *it, *cluster = NULL;
    const char *token = NULL, *user = NULL, *clname = NULL;
    size_t i;

    CHECK(f, "open %s", kubeconfig);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = malloc((size_t)len + 1);
    CHECK(fread(text, 1, (size_t)len, f) == (size_t)len, "read");
    fclose(f);
    CHECK(pl_yaml_parse(&docs, text, (size_t)len, kubeconfig, NULL) == 0, "parse: %s",
          pl_error_last()->message);
    doc = json_array_get(docs, 0);
    json_array_foreach(json_object_get(doc, "contexts"), i, it) {
        if (!strcmp(pl_json_str(it, "name", NULL), "plumb-sandbox")) {
            user = pl_json_str(it, "context", "user", NULL);
            clname = pl_json_str(it, "context", "cluster", NULL);
        }
    }
    CHECK(user && clname, "context plumb-sandbox not found");
    json_array_foreach(json_object_get(doc, "users"), i, it) {
        if (!strcmp(pl_json_str(it, "name", NULL), user))
            token = pl_json_str(it, "user", "token", NULL);
    }
    json_array_foreach(json_object_get(doc, "clusters"), i, it) {
        if (!strcmp(pl_json_str(it, "name", NULL), clname))
            cluster = json_object_get(it, "cluster");
    }
    CHECK(token && cluster, "token or cluster missing");
    mkdir(dir, 0755);
    snprintf(path, sizeof(path), "%s/bin", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/bin/plugin.sh", dir);
    f = fopen(path, "wb");
    CHECK(f, "write plugin");
    /* the plugin checks that it got the ExecCredential request before answering */
    fprintf(f, "#!/bin/sh\n"
               "case \"$KUBERNETES_EXEC_INFO\" in *'\"kind\":\"ExecCredential\"'*) ;; *) exit 9;; esac\n"
               /* the first run hands out a stale token: the client must re-run it on the 401 */
               "runs=\"$(dirname \"$0\")/runs\"\n"
               "if [ -e \"$runs\" ]; then tok=$PLUMB_TEST_TOKEN; else tok=stale-token; fi\n"
               "echo run >> \"$runs\"\n"
               "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
               "\"status\":{\"token\":\"%%s\",\"expirationTimestamp\":\"2099-01-01T00:00:00Z\"}}\\n' "
               "\"$tok\"\n");
    fclose(f);
    chmod(path, 0755);
    snprintf(path, sizeof(path), "%s/kubeconfig", dir);
    f = fopen(path, "wb");
    CHECK(f, "write kubeconfig");
    fprintf(f, "apiVersion: v1\nkind: Config\ncurrent-context: exec\nclusters:\n- name: sandbox\n"
               "  cluster:\n    server: %s\n    certificate-authority-data: %s\n"
               "users:\n- name: plugin\n  user:\n    exec:\n"
               "      apiVersion: client.authentication.k8s.io/v1\n      command: bin/plugin.sh\n"
               "      interactiveMode: Never\n      env:\n      - name: PLUMB_TEST_TOKEN\n"
               "        value: \"%s\"\ncontexts:\n- name: exec\n  context: {cluster: sandbox, user: plugin}\n",
            pl_json_str(cluster, "server", NULL),
            pl_json_str(cluster, "certificate-authority-data", NULL), token);
    fclose(f);
    /* TLS variants with the token user: tls-server-name honoured or not, insecure, no CA */
    {
        static const struct {
            const char *file, *extra;
            int ca;
        } v[] = {
            {"tsn-ok", "    tls-server-name: localhost\n", 1},
            {"tsn-bad", "    tls-server-name: wrong.example\n", 1},
            {"insecure", "    insecure-skip-tls-verify: true\n", 0},
            {"noca", "", 0},
        };
        for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
            snprintf(path, sizeof(path), "%s/%s", dir, v[i].file);
            f = fopen(path, "wb");
            CHECK(f, "write %s", path);
            fprintf(f, "clusters:\n- name: s\n  cluster:\n    server: %s\n%s", pl_json_str(cluster, "server", NULL),
                    v[i].extra);
            if (v[i].ca)
                fprintf(f, "    certificate-authority-data: %s\n",
                        pl_json_str(cluster, "certificate-authority-data", NULL));
            fprintf(f, "users:\n- name: u\n  user:\n    token: \"%s\"\ncontexts:\n- name: x\n"
                       "  context: {cluster: s, user: u}\ncurrent-context: x\n", token);
            fclose(f);
        }
    }
    json_decref(docs);
    free(text);
    OK("wrote %s/kubeconfig", dir);
    return 0;
}

/* One GET of Namespace/default; exit 0 when its code is `want` (0, or -1 for PL_ERROR ...). */
static int get_one(const char *kubeconfig, int want)
{
    pl_kube_config *cfg = NULL;
    pl_kube *k = kc_connect(&cfg, kubeconfig, NULL, NULL);
    pl_kube_result r;
    pl_objkey key = {"", "v1", "Namespace", "", "default"};
    int code = pl_kube_get_path(&r, k, "/api/v1/namespaces/default", "Namespace/default");

    (void)key;
    CHECK(code == want, "%s: code %d, want %d (%s)", kubeconfig, code, want,
          r.message ? r.message : "no error");
    OK("%s: code %d%s%s", kubeconfig, code, r.message ? " " : "", r.message ? r.message : "");
    pl_kube_result_dispose(&r);
    pl_kube_free(k);
    pl_kube_config_free(cfg);
    return 0;
}

int main(int argc, char **argv)
{
    if (getenv("PL_KUBE_DEBUG"))
        pl_log_set_sink(log_sink, PL_LOG_DEBUG, NULL);
    else
        pl_log_set_sink(log_sink, PL_LOG_WARN, NULL);
    if (argc == 5 && !strcmp(argv[1], "basic"))
        return basic(argv[2], argv[3], argv[4]);
    if (argc == 5 && !strcmp(argv[1], "faults"))
        return faults(argv[2], argv[3], (int)strtol(argv[4], NULL, 10));
    if (argc == 6 && !strcmp(argv[1], "concurrent"))
        return concurrent(argv[2], argv[3], (int)strtol(argv[4], NULL, 10),
                          (int)strtol(argv[5], NULL, 10));
    if (argc == 4 && !strcmp(argv[1], "get"))
        return get_one(argv[2], (int)strtol(argv[3], NULL, 10));
    if (argc == 4 && !strcmp(argv[1], "mkexec"))
        return mkexec(argv[2], argv[3]);
    fprintf(stderr, "usage: kube_client basic|faults|concurrent|mkexec ...\n");
    return 2;
}
