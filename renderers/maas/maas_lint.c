/*
 * maas_lint.c - mode lint: the MAAS rules of SPEC §5 over one cluster's rendered objects.
 *
 * Input is the fully rendered object set (and, for MAAS001-MAAS003 and MAAS014, the parent
 * revision's object set); output is diagnostics only, never a failure: a malformed input
 * object becomes the diagnostic the spec names. The rules fall in two families:
 *
 *   legacy tier model (§1):   MAAS001-MAAS014, MAAS034, MAAS035, MAAS045 (tier groups)
 *   subscription model (§2/3): MAAS020-MAAS039, MAAS045 (subjects and owners)
 *
 * MAAS040-MAAS044 describe migration decisions and are raised by maas_migrate.c (§5: "raised
 * only in migrate"). The §7.x decisions are applied as written there: MAAS003 once per
 * removed tier, MAAS025 coverage by equal names or system:authenticated, empty owners
 * overlap nothing, schema-invalid CRs (MAAS020) take part in no other rule.
 *
 * Every other rule reports a given object at most once (§5); a diagnostic already present in
 * `diags` when the lint starts (e.g. MAAS007 raised by the tier parser for another mode) is not
 * repeated. Callers: pl_maas_run (maas.c) and `plumb lint` (engine/cli/cmd_lint.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "maas.h"

#define ANN_TIERS "alpha.maas.opendatahub.io/tiers"
#define MAAS_GROUP "maas.opendatahub.io"
#define MAX_WINDOW_SECONDS (8784LL * 3600) /* §2.4: v0.1.1+ controllers skip longer windows */

typedef struct lint {
    json_t *diags;  /* borrowed: where diagnostics go */
    json_t *seen;   /* "rule object" -> true: at most once per object (§5) */
    const char *sub_ns, *gw_name, *gw_ns, *legacy_ns, *route_suffix, *ext_prefix;
    int selector, gateway_auth_only;
    json_t *by_id;  /* "Kind/ns/name" (group-qualified for ambiguous kinds) -> object */
    json_t *groups; /* names of OpenShift Group objects (user.openshift.io) */
    int have_groups;
    json_t *cm;          /* the tier ConfigMap in use (borrowed), or NULL */
    json_t *tiers;       /* parsed tiers (owned) or NULL when unusable/absent */
    json_t *tier_names;  /* name -> tier (borrowed from tiers) */
    json_t *tier_limit;  /* tier name -> max token limit (integer) of its scoped TRLP entries */
    json_t *removed;     /* removed tier name (since base) -> base tier */
    int legacy_scoped;   /* a tier-scoped gateway limit exists */
    /* subscription model: valid (schema-clean) CRs */
    json_t *modelrefs;   /* "ns/name" -> MaaSModelRef */
    json_t *model_order; /* array of "ns/name" in input order */
    json_t *auths;       /* valid MaaSAuthPolicy in subscriptionNamespace */
    json_t *subs;        /* valid MaaSSubscription in subscriptionNamespace */
    json_t *per_model;   /* "ns/name" -> {a: [cr...], s: [{cr, entry}...]} */
    int error;
} lint;

/* ---- small helpers ---------------------------------------------------------------------- */

static const char *nz(const char *s)
{
    return s ? s : "";
}

static const char *kind_of(const json_t *o)
{
    const char *k = pl_json_str(o, "kind", NULL);
    return k ? k : "";
}

static const char *name_of(const json_t *o)
{
    const char *n = pl_json_str(o, "metadata", "name", NULL);
    return n ? n : "";
}

static const char *ns_of(const json_t *o)
{
    const char *n = pl_json_str(o, "metadata", "namespace", NULL);
    return n ? n : "";
}

/* 1 if the object's apiVersion is in API group `group` ("" = core) */
static int in_group(const json_t *o, const char *group)
{
    const char *av = pl_json_str(o, "apiVersion", NULL);
    const char *slash;
    size_t n;
    if (!av)
        return 0;
    slash = strchr(av, '/');
    if (!slash)
        return group[0] == '\0';
    n = (size_t)(slash - av);
    return strlen(group) == n && !strncmp(av, group, n);
}

static int is(const json_t *o, const char *group, const char *kind)
{
    return !strcmp(kind_of(o), kind) && in_group(o, group);
}

static const char *annotation(const json_t *o, const char *key)
{
    return pl_json_str(o, "metadata", "annotations", key, NULL);
}

static const char *label(const json_t *o, const char *key)
{
    return pl_json_str(o, "metadata", "labels", key, NULL);
}

static void set_add(json_t *set, const char *key)
{
    json_object_set_new(set, key, json_true());
}

static int set_has(const json_t *set, const char *key)
{
    return json_object_get(set, key) != NULL;
}

/* "a/b" key for a namespaced name (owned) */
static char *nsname(const char *ns, const char *name)
{
    pl_buf b = PL_BUF_INIT;
    pl_buf_printf(&b, "%s/%s", ns, name);
    return pl_buf_detach(&b);
}

static char *id_key(const char *kind, const char *ns, const char *name)
{
    pl_buf b = PL_BUF_INIT;
    pl_buf_printf(&b, "%s/%s/%s", kind, ns, name);
    return pl_buf_detach(&b);
}

static json_t *lookup(const lint *l, const char *kind, const char *ns, const char *name)
{
    char *k = id_key(kind, ns, name);
    json_t *o = k ? json_object_get(l->by_id, k) : NULL;
    pl_free(k);
    return o;
}

/* Join the keys of a set (or strings of an array) with ", " for a message. Owned. */
static char *join_list(const json_t *list)
{
    pl_buf b = PL_BUF_INIT;
    size_t i;
    json_t *v;
    const char *k;
    if (json_is_array(list)) {
        json_array_foreach(list, i, v) pl_buf_printf(&b, "%s%s", i ? ", " : "", json_string_value(v));
    } else {
        i = 0;
        json_object_foreach((json_t *)list, k, v) pl_buf_printf(&b, "%s%s", i++ ? ", " : "", k);
    }
    if (!b.ptr)
        pl_buf_puts(&b, "");
    return pl_buf_detach(&b);
}

/* ---- diagnostics ------------------------------------------------------------------------ */

static void vdiag(lint *l, int once, const char *rule, const char *sev, const char *ref,
                  const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

static void vdiag(lint *l, int once, const char *rule, const char *sev, const char *ref,
                  const char *fmt, va_list ap)
{
    pl_buf key = PL_BUF_INIT;
    char small[512], *msg = small;
    va_list ap2;
    int n;

    if (l->error < 0)
        return;
    pl_buf_printf(&key, "%s %s", rule, ref);
    if (!key.ptr) {
        l->error = pl_error_set(PL_ENOMEM, "out of memory");
        return;
    }
    if (once && set_has(l->seen, key.ptr)) {
        pl_buf_dispose(&key);
        return;
    }
    set_add(l->seen, key.ptr);
    pl_buf_dispose(&key);
    va_copy(ap2, ap);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    if (n >= (int)sizeof(small) && (msg = pl_malloc((size_t)n + 1)) != NULL)
        vsnprintf(msg, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    if (!msg) {
        l->error = pl_error_set(PL_ENOMEM, "out of memory");
        return;
    }
    if (pl_maas_diag(l->diags, rule, sev, ref, "%s", msg) < 0)
        l->error = PL_ENOMEM;
    if (msg != small)
        pl_free(msg);
}

/* A diagnostic on object `o`, at most once per (rule, object). */
static void diag(lint *l, const char *rule, const char *sev, const json_t *o, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void diag(lint *l, const char *rule, const char *sev, const json_t *o, const char *fmt, ...)
{
    va_list ap;
    char *ref = pl_maas_objref(o);
    if (!ref) {
        l->error = pl_error_set(PL_ENOMEM, "out of memory");
        return;
    }
    va_start(ap, fmt);
    vdiag(l, 1, rule, sev, ref, fmt, ap);
    va_end(ap);
    pl_free(ref);
}

/* Same, but repeatable on one object (MAAS003 fires once per removed tier, §7.x). */
static void diag_each(lint *l, const char *rule, const char *sev, const json_t *o,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void diag_each(lint *l, const char *rule, const char *sev, const json_t *o,
                      const char *fmt, ...)
{
    va_list ap;
    char *ref = pl_maas_objref(o);
    if (!ref) {
        l->error = pl_error_set(PL_ENOMEM, "out of memory");
        return;
    }
    va_start(ap, fmt);
    vdiag(l, 0, rule, sev, ref, fmt, ap);
    va_end(ap);
    pl_free(ref);
}

/* Append the entries of `from` to diags unless an equal (rule, severity, object) is there. */
static void merge_diags(lint *l, const json_t *from)
{
    size_t i;
    json_t *d;
    json_array_foreach(from, i, d)
    {
        pl_buf key = PL_BUF_INIT;
        pl_buf_printf(&key, "%s %s", pl_json_str(d, "rule", NULL) ? pl_json_str(d, "rule", NULL) : "",
                      pl_json_str(d, "object", NULL) ? pl_json_str(d, "object", NULL) : "");
        if (key.ptr && !set_has(l->seen, key.ptr)) {
            set_add(l->seen, key.ptr);
            json_array_append(l->diags, d);
        }
        pl_buf_dispose(&key);
    }
}

/* ---- tiers (§1) -------------------------------------------------------------------------- */

/*
 * Pick the tier ConfigMap: the one in legacyMaasApiNamespace, else the first in input order.
 * With several, the others are never read by maas-api (MAAS007, §1.1).
 */
static json_t *find_tier_cm(lint *l, const json_t *objects, int report)
{
    json_t *chosen = NULL, *o;
    size_t i;
    json_array_foreach(objects, i, o)
    {
        if (!is(o, "", "ConfigMap") || strcmp(name_of(o), "tier-to-group-mapping"))
            continue;
        if (!chosen || (strcmp(ns_of(chosen), l->legacy_ns) && !strcmp(ns_of(o), l->legacy_ns)))
            chosen = o;
    }
    if (report && chosen) {
        json_array_foreach(objects, i, o)
        {
            if (o != chosen && is(o, "", "ConfigMap") &&
                !strcmp(name_of(o), "tier-to-group-mapping"))
                diag(l, "MAAS007", "error", o,
                     "a further tier ConfigMap outside %s: maas-api never reads this copy",
                     ns_of(chosen));
        }
    }
    return chosen;
}

/* Parse a tier ConfigMap; the parser's diagnostics go to `into` (NULL: discarded). */
static json_t *parse_tiers(lint *l, const json_t *cm, json_t *into)
{
    json_t *tiers = NULL, *scratch = json_array();
    if (!scratch) {
        l->error = pl_error_set(PL_ENOMEM, "out of memory");
        return NULL;
    }
    if (pl_maas_parse_tiers(&tiers, cm, scratch) < 0)
        tiers = NULL; /* unusable: the diagnostics say why */
    if (into)
        merge_diags(l, scratch);
    json_decref(scratch);
    return tiers;
}

static json_t *tier_groups(const json_t *tier)
{
    return json_object_get(tier, "groups");
}

static long long tier_level(const json_t *tier)
{
    json_t *v = json_object_get(tier, "level");
    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* sorted unique group set as one string, for comparing tiers (MAAS001) */
static char *group_set_key(const json_t *tier)
{
    json_t *set = json_object(), *keys = json_array(), *v;
    size_t i;
    const char *k;
    char *out;
    json_array_foreach(tier_groups(tier), i, v)
    {
        if (json_is_string(v))
            set_add(set, json_string_value(v));
    }
    json_object_foreach(set, k, v) json_array_append_new(keys, json_string(k));
    /* insertion order is input order; sort bytewise */
    for (i = 1; i < json_array_size(keys); i++) {
        for (size_t j = i; j > 0; j--) {
            const char *a = json_string_value(json_array_get(keys, j - 1));
            const char *b = json_string_value(json_array_get(keys, j));
            json_t *t;
            if (strcmp(a, b) <= 0)
                break;
            t = json_incref(json_array_get(keys, j - 1));
            json_array_set(keys, j - 1, json_array_get(keys, j));
            json_array_set_new(keys, j, t);
        }
    }
    out = join_list(keys);
    json_decref(set);
    json_decref(keys);
    return out;
}

static int is_dns_label(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && !(c == '-' && i > 0 && i + 1 < n))
            return 0;
    }
    return 1;
}

/*
 * A predicate scoped to a tier (§1.4): `auth.identity.tier == "t"` after trimming, single
 * quotes allowed, any spacing around `==`. Returns the tier name (owned) or NULL.
 */
static char *predicate_tier(const char *p)
{
    static const char lhs[] = "auth.identity.tier";
    const char *end;
    char q;
    const char *start;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    end = p + strlen(p);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
        end--;
    if (strncmp(p, lhs, sizeof(lhs) - 1))
        return NULL;
    p += sizeof(lhs) - 1;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (end - p < 2 || p[0] != '=' || p[1] != '=')
        return NULL;
    p += 2;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= end || (*p != '"' && *p != '\''))
        return NULL;
    q = *p++;
    start = p;
    while (p < end && *p != q)
        p++;
    if (p + 1 != end || *p != q)
        return NULL;
    return pl_strndup(start, (size_t)(p - start));
}

static int is_gateway_policy(const lint *l, const json_t *o)
{
    const char *k = kind_of(o);
    if (!in_group(o, "kuadrant.io") ||
        (strcmp(k, "TokenRateLimitPolicy") && strcmp(k, "RateLimitPolicy")))
        return 0;
    return !strcmp(ns_of(o), l->gw_ns) &&
           !strcmp(nz(pl_json_str(o, "spec", "targetRef", "kind", NULL)), "Gateway") &&
           !strcmp(nz(pl_json_str(o, "spec", "targetRef", "name", NULL)), l->gw_name);
}

/*
 * Gateway (Token)RateLimitPolicies of the tier model (§1.4): record each tier's max token
 * limit and raise MAAS010 (unknown tier), MAAS012 (no counters), MAAS035 (request counts).
 */
static void lint_gateway_limits(lint *l, const json_t *objects)
{
    static const char *const where[] = {"limits", "defaults", "overrides"};
    size_t i;
    json_t *o;

    json_array_foreach(objects, i, o)
    {
        int trlp, scoped = 0;
        json_t *dangling, *nocount;
        if (!is_gateway_policy(l, o))
            continue;
        trlp = !strcmp(kind_of(o), "TokenRateLimitPolicy");
        dangling = json_object();
        nocount = json_object();
        for (size_t w = 0; w < 3; w++) {
            json_t *limits = w == 0 ? pl_json_path(o, "spec", "limits", NULL)
                                    : pl_json_path(o, "spec", where[w], "limits", NULL);
            const char *key;
            json_t *entry;
            if (!json_is_object(limits))
                continue;
            json_object_foreach(limits, key, entry)
            {
                size_t j;
                json_t *when, *c;
                json_array_foreach(json_object_get(entry, "when"), j, when)
                {
                    const char *pred = pl_json_str(when, "predicate", NULL);
                    char *t = pred ? predicate_tier(pred) : NULL;
                    json_t *counters, *rate;
                    size_t r;
                    long long max = -1;
                    if (!t)
                        continue;
                    l->legacy_scoped = 1;
                    scoped = 1;
                    if (l->tiers && !json_object_get(l->tier_names, t))
                        set_add(dangling, t);
                    counters = json_object_get(entry, "counters");
                    if (!json_is_array(counters) || json_array_size(counters) == 0)
                        set_add(nocount, key);
                    if (trlp) {
                        json_array_foreach(json_object_get(entry, "rates"), r, rate)
                        {
                            c = json_object_get(rate, "limit");
                            if (json_is_integer(c) && json_integer_value(c) > max)
                                max = json_integer_value(c);
                        }
                        c = json_object_get(l->tier_limit, t);
                        if (!c || json_integer_value(c) < max)
                            json_object_set_new(l->tier_limit, t, json_integer(max));
                    }
                    pl_free(t);
                }
            }
        }
        if (json_object_size(dangling)) {
            char *s = join_list(dangling);
            diag(l, "MAAS010", "warning", o,
                 "limit predicates name tiers the tier ConfigMap does not define: %s (dead "
                 "limits, usually a rename or deletion leftover)",
                 s);
            pl_free(s);
        }
        if (json_object_size(nocount)) {
            char *s = join_list(nocount);
            diag(l, "MAAS012", "warning", o,
                 "tier-scoped limits without counters share one bucket among all users of the "
                 "tier: %s",
                 s);
            pl_free(s);
        }
        if (!trlp && scoped)
            diag(l, "MAAS035", "warning", o,
                 "tier-scoped request-count limits have no equivalent in the subscription model");
        json_decref(dangling);
        json_decref(nocount);
    }
}

/* MAAS006, MAAS009, MAAS011, MAAS013, MAAS045 (tier groups) over the parsed tiers */
static void lint_tiers(lint *l)
{
    json_t *group_tiers = json_object(); /* group -> [tier...] */
    json_t *nolimit = json_array(), *badns = json_array(), *unknown = json_object();
    json_t *warn_groups = json_array(), *err_groups = json_array();
    size_t i, j;
    json_t *t, *g;
    const char *gname;

    json_array_foreach(l->tiers, i, t)
    {
        const char *name = pl_json_str(t, "name", NULL);
        pl_buf nsn = PL_BUF_INIT;
        json_t *seen = json_object();
        if (!name)
            continue;
        json_array_foreach(tier_groups(t), j, g)
        {
            json_t *list;
            const char *gn = json_string_value(g);
            if (!gn || set_has(seen, gn))
                continue;
            set_add(seen, gn);
            if (!(list = json_object_get(group_tiers, gn))) {
                list = json_array();
                json_object_set_new(group_tiers, gn, list);
            }
            json_array_append(list, t);
            if (l->have_groups && strncmp(gn, "system:", 7) && !set_has(l->groups, gn))
                set_add(unknown, gn);
        }
        json_decref(seen);
        if (!json_object_get(l->tier_limit, name))
            json_array_append_new(nolimit, json_string(name));
        pl_buf_printf(&nsn, "%s-tier-%s", l->gw_name, name);
        if (nsn.ptr && !is_dns_label(nsn.ptr))
            json_array_append_new(badns, json_string(nsn.ptr));
        pl_buf_dispose(&nsn);
    }

    /* MAAS006: only the highest level applies; on a tie list order decides (§1.2) */
    json_object_foreach(group_tiers, gname, g)
    {
        long long top = 0;
        int ties = 0;
        if (json_array_size(g) < 2)
            continue;
        json_array_foreach(g, j, t)
        {
            long long lv = tier_level(t);
            if (j == 0 || lv > top) {
                top = lv;
                ties = 1;
            } else if (lv == top) {
                ties++;
            }
        }
        json_array_append_new(ties > 1 ? err_groups : warn_groups, json_string(gname));
    }
    if (json_array_size(err_groups) || json_array_size(warn_groups)) {
        char *e = join_list(err_groups), *w = join_list(warn_groups);
        if (json_array_size(err_groups))
            diag(l, "MAAS006", "error", l->cm,
                 "groups in several tiers whose highest level is shared, so list order picks the "
                 "tier: %s%s%s",
                 e, json_array_size(warn_groups) ? "; groups in several tiers: " : "", w);
        else
            diag(l, "MAAS006", "warning", l->cm,
                 "groups in several tiers (only the highest level applies): %s", w);
        pl_free(e);
        pl_free(w);
    }

    if (json_array_size(nolimit)) {
        char *s = join_list(nolimit);
        diag(l, "MAAS009", "warning", l->cm,
             "tiers without a token limit in the gateway TokenRateLimitPolicy (unlimited under "
             "tiers, nothing to migrate): %s",
             s);
        pl_free(s);
    }
    if (json_array_size(badns)) {
        char *s = join_list(badns);
        diag(l, "MAAS011", "warning", l->cm,
             "tier namespaces that are not DNS labels of at most 63 characters: %s", s);
        pl_free(s);
    }

    /* MAAS013: "highest limit wins" after migration must agree with "highest level wins" */
    json_array_foreach(l->tiers, i, t)
    {
        json_t *ml = json_object_get(l->tier_limit, nz(pl_json_str(t, "name", NULL)));
        json_t *u;
        if (!ml)
            continue;
        json_array_foreach(l->tiers, j, u)
        {
            json_t *mu = json_object_get(l->tier_limit, nz(pl_json_str(u, "name", NULL)));
            if (mu && tier_level(t) > tier_level(u) &&
                json_integer_value(ml) < json_integer_value(mu)) {
                diag(l, "MAAS013", "warning", l->cm,
                     "tier %s (level %lld) has a lower max token limit (%lld) than tier %s "
                     "(level %lld, %lld): after migration the highest limit wins, not the "
                     "highest level",
                     pl_json_str(t, "name", NULL), tier_level(t),
                     (long long)json_integer_value(ml), pl_json_str(u, "name", NULL),
                     tier_level(u), (long long)json_integer_value(mu));
            }
        }
    }

    if (json_object_size(unknown)) {
        char *s = join_list(unknown);
        diag(l, "MAAS045", "warning", l->cm,
             "tier groups that no Group object defines (misspelt?): %s", s);
        pl_free(s);
    }
    json_decref(group_tiers);
    json_decref(nolimit);
    json_decref(badns);
    json_decref(unknown);
    json_decref(warn_groups);
    json_decref(err_groups);
}

/* MAAS001, MAAS003, MAAS014 against the parent revision's tier ConfigMap */
static void lint_base_tiers(lint *l, const json_t *base)
{
    json_t *bcm = find_tier_cm(l, base, 0);
    json_t *btiers = NULL, *added = json_array(), *renames = json_array(), *bt, *t, *g;
    size_t i, j;

    if (!bcm && !l->cm)
        goto done;
    if (bcm && l->cm && !json_equal(json_object_get(bcm, "data"), json_object_get(l->cm, "data")))
        diag(l, "MAAS014", "info", l->cm,
             "tier ConfigMap changed: restart maas-api (kubectl rollout restart deployment/maas-api "
             "-n %s) and allow 5 minutes for cached tier lookups",
             ns_of(l->cm));
    else if (!bcm || !l->cm)
        diag(l, "MAAS014", "info", l->cm ? l->cm : bcm,
             "tier ConfigMap %s: restart maas-api and allow 5 minutes for cached tier lookups",
             l->cm ? "added" : "removed");
    if (!bcm || !l->tiers || !(btiers = parse_tiers(l, bcm, NULL)))
        goto done;
    json_array_foreach(l->tiers, i, t)
    {
        int found = 0;
        json_array_foreach(btiers, j, bt)
        {
            if (!strcmp(nz(pl_json_str(bt, "name", NULL)), nz(pl_json_str(t, "name", NULL))))
                found = 1;
        }
        if (!found)
            json_array_append(added, t);
    }
    json_array_foreach(btiers, i, bt)
    {
        const char *bname = pl_json_str(bt, "name", NULL);
        if (!bname || json_object_get(l->tier_names, bname))
            continue;
        json_object_set(l->removed, bname, bt);
        /* a rename: a new name with the same level and the same group set */
        {
            char *bkey = group_set_key(bt);
            json_array_foreach(added, j, t)
            {
                char *key = group_set_key(t);
                if (tier_level(t) == tier_level(bt) && bkey && key && !strcmp(bkey, key)) {
                    pl_buf b = PL_BUF_INIT;
                    pl_buf_printf(&b, "%s -> %s", bname, pl_json_str(t, "name", NULL));
                    json_array_append_new(renames, json_string(b.ptr ? b.ptr : ""));
                    pl_buf_dispose(&b);
                }
                pl_free(key);
            }
            pl_free(bkey);
        }
    }
    if (json_array_size(renames)) {
        char *s = join_list(renames);
        diag(l, "MAAS001", "error", l->cm,
             "tier renamed (%s): tier names are baked into gateway predicates, tier namespaces, "
             "tokens and metrics; keep the name and change displayName instead",
             s);
        pl_free(s);
    }
    /* MAAS003: once per removed tier whose groups are partly in no remaining tier (§7.x) */
    {
        const char *bname;
        json_object_foreach(l->removed, bname, bt)
        {
            json_t *orphans = json_array();
            json_array_foreach(tier_groups(bt), j, g)
            {
                const char *gn = json_string_value(g);
                size_t k;
                int kept = 0;
                if (!gn)
                    continue;
                json_array_foreach(l->tiers, k, t)
                {
                    size_t m;
                    json_t *h;
                    json_array_foreach(tier_groups(t), m, h)
                    {
                        if (json_is_string(h) && !strcmp(json_string_value(h), gn))
                            kept = 1;
                    }
                }
                if (!kept)
                    json_array_append_new(orphans, json_string(gn));
            }
            if (json_array_size(orphans)) {
                char *s = join_list(orphans);
                diag_each(l, "MAAS003", "warning", l->cm,
                          "tier %s was removed and its groups are in no remaining tier: %s (their "
                          "users get \"group not found\")",
                          bname, s);
                pl_free(s);
            }
            json_decref(orphans);
        }
    }
done:
    json_decref(btiers);
    json_decref(added);
    json_decref(renames);
}

/* MAAS002, MAAS004, MAAS005 on tier-annotated models */
static void lint_model_annotations(lint *l, const json_t *objects)
{
    size_t i, j;
    json_t *o, *v;
    json_array_foreach(objects, i, o)
    {
        json_t *ann, *list;
        json_t *gone, *unknown;
        json_error_t jerr;
        if (!is(o, "serving.kserve.io", "LLMInferenceService"))
            continue;
        ann = pl_json_path(o, "metadata", "annotations", ANN_TIERS, NULL);
        if (!ann)
            continue;
        list = json_is_string(ann) ? json_loads(json_string_value(ann), JSON_DECODE_ANY, &jerr)
                                   : NULL;
        if (!json_is_array(list)) {
            diag(l, "MAAS004", "error", o,
                 "annotation %s is not a JSON array of tier names", ANN_TIERS);
            json_decref(list);
            continue;
        }
        json_array_foreach(list, j, v)
        {
            if (!json_is_string(v))
                break;
        }
        if (j < json_array_size(list)) {
            diag(l, "MAAS004", "error", o,
                 "annotation %s is not a JSON array of strings (element %zu)", ANN_TIERS, j);
            json_decref(list);
            continue;
        }
        gone = json_object();
        unknown = json_object();
        json_array_foreach(list, j, v)
        {
            const char *t = json_string_value(v);
            if (json_object_get(l->removed, t))
                set_add(gone, t);
            else if (l->tiers && !json_object_get(l->tier_names, t))
                set_add(unknown, t);
        }
        if (json_object_size(gone)) {
            char *s = join_list(gone);
            diag(l, "MAAS002", "error", o,
                 "annotation %s lists tiers removed since the parent revision: %s", ANN_TIERS, s);
            pl_free(s);
        }
        if (json_object_size(unknown)) {
            char *s = join_list(unknown);
            diag(l, "MAAS005", "warning", o,
                 "annotation %s names tiers the tier ConfigMap does not define: %s (grants "
                 "nothing)",
                 ANN_TIERS, s);
            pl_free(s);
        }
        json_decref(gone);
        json_decref(unknown);
        json_decref(list);
    }
}

/* ---- CRD schemas (§2), MAAS020 ------------------------------------------------------------ */

/*
 * 1 when `o` (a MaaS CR) passes its CRD schema (the shared check in maas_common.c);
 * otherwise its MAAS020 joins the diagnostics (once) and the CR takes no part in any other rule.
 */
static int schema_ok(lint *l, const json_t *o)
{
    json_t *scratch = json_array();
    int ok;
    if (!scratch) {
        l->error = pl_error_set(PL_ENOMEM, "out of memory");
        return 0;
    }
    ok = pl_maas_schema_valid(o, scratch);
    merge_diags(l, scratch);
    json_decref(scratch);
    return ok;
}

/* ---- subscription model (§2, §3) ------------------------------------------------------------- */

static int is_maas_cr(const json_t *o, const char *kind)
{
    return is(o, MAAS_GROUP, kind);
}

/* names of groups (non-empty) and users of a subjects/owner block */
static void subject_sets(const json_t *block, json_t *groups, json_t *users)
{
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(block, "groups"), i, x)
    {
        const char *n = pl_json_str(x, "name", NULL);
        if (n && n[0])
            set_add(groups, n);
    }
    json_array_foreach(json_object_get(block, "users"), i, x)
    {
        const char *n = json_string_value(x);
        if (n && n[0])
            set_add(users, n);
    }
}

static const json_t *cr_block(const json_t *cr)
{
    return !strcmp(kind_of(cr), "MaaSAuthPolicy") ? pl_json_path(cr, "spec", "subjects", NULL)
                                                  : pl_json_path(cr, "spec", "owner", NULL);
}

/*
 * Collect valid MaaS CRs (MAAS020), check placement (MAAS021), references (MAAS022, MAAS037)
 * and per-CR rules (MAAS028, MAAS031, MAAS036, MAAS045), and build A(m)/S(m) (§3.1).
 */
static void lint_crs(lint *l, const json_t *objects)
{
    size_t i, j;
    json_t *o, *x;

    json_array_foreach(objects, i, o)
    {
        const char *k = kind_of(o);
        if (!in_group(o, MAAS_GROUP) ||
            (strcmp(k, "MaaSModelRef") && strcmp(k, "MaaSAuthPolicy") &&
             strcmp(k, "MaaSSubscription") && strcmp(k, "ExternalModel")))
            continue;
        if (!schema_ok(l, o))
            continue;
        if (!strcmp(k, "MaaSModelRef")) {
            char *key = nsname(ns_of(o), name_of(o));
            if (key && !json_object_get(l->modelrefs, key)) {
                json_object_set(l->modelrefs, key, o);
                json_array_append_new(l->model_order, json_string(key));
            }
            pl_free(key);
            if (strlen(name_of(o)) > 63)
                diag(l, "MAAS032", "error", o,
                     "name is %zu characters long; modelRefs entries allow at most 63, so no "
                     "policy can reference it",
                     strlen(name_of(o)));
        } else if (!strcmp(k, "MaaSAuthPolicy") || !strcmp(k, "MaaSSubscription")) {
            if (strcmp(ns_of(o), l->sub_ns)) {
                diag(l, "MAAS021", "error", o,
                     "%s outside the subscription namespace %s: maas-controller does not watch "
                     "it (v0.2+: its webhook rejects it)",
                     k, l->sub_ns);
                continue;
            }
            json_array_append(!strcmp(k, "MaaSAuthPolicy") ? l->auths : l->subs, o);
        }
    }

    /* references and per-CR rules, after every MaaSModelRef is known */
    for (int pass = 0; pass < 2; pass++) {
        json_t *list = pass == 0 ? l->auths : l->subs;
        int sub = pass == 1;
        json_array_foreach(list, i, o)
        {
            json_t *seen = json_object(), *missing = json_array(), *dups = json_array();
            json_t *block = (json_t *)cr_block(o), *g, *unknown = json_object();
            int quote = 0, empty = 0;
            json_array_foreach(pl_json_path(o, "spec", "modelRefs", NULL), j, x)
            {
                char *key = nsname(pl_json_str(x, "namespace", NULL), pl_json_str(x, "name", NULL));
                json_t *pm;
                if (!key)
                    continue;
                if (set_has(seen, key)) {
                    json_array_append_new(dups, json_string(key));
                    pl_free(key);
                    continue;
                }
                set_add(seen, key);
                if (!json_object_get(l->modelrefs, key)) {
                    json_array_append_new(missing, json_string(key));
                    pl_free(key);
                    continue;
                }
                if (!(pm = json_object_get(l->per_model, key))) {
                    pm = json_pack("{s:[],s:[]}", "a", "s");
                    json_object_set_new(l->per_model, key, pm);
                }
                if (sub)
                    json_array_append_new(json_object_get(pm, "s"),
                                          json_pack("{s:O,s:O}", "cr", o, "entry", x));
                else
                    json_array_append(json_object_get(pm, "a"), o);
                pl_free(key);
                if (sub) {
                    size_t r;
                    json_t *rate;
                    json_array_foreach(json_object_get(x, "tokenRateLimits"), r, rate)
                    {
                        const char *w = pl_json_str(rate, "window", NULL);
                        if (w && pl_maas_window_seconds(w) > MAX_WINDOW_SECONDS)
                            diag(l, "MAAS036", "warning", o,
                                 "token window %s is longer than 8784h: v0.1.1+ controllers skip "
                                 "this subscription in the model's TokenRateLimitPolicy",
                                 w);
                    }
                }
            }
            if (json_array_size(missing)) {
                char *s = join_list(missing);
                diag(l, "MAAS022", "error", o,
                     "modelRefs name MaaSModelRefs that do not exist: %s (no policy; the CR goes "
                     "Failed/Degraded)",
                     s);
                pl_free(s);
            }
            if (json_array_size(dups)) {
                char *s = join_list(dups);
                diag(l, "MAAS037", "warning", o,
                     "lists the same model more than once (only the first entry counts): %s", s);
                pl_free(s);
            }
            /* subjects / owners */
            json_array_foreach(json_object_get(block, "groups"), j, g)
            {
                const char *n = pl_json_str(g, "name", NULL);
                if (!n)
                    continue;
                if (!n[0])
                    empty = 1;
                if (strchr(n, '"') || strchr(n, '\\'))
                    quote = 1;
                if (n[0] && l->have_groups && strncmp(n, "system:", 7) && !set_has(l->groups, n))
                    set_add(unknown, n);
            }
            json_array_foreach(json_object_get(block, "users"), j, g)
            {
                const char *n = json_string_value(g);
                if (!n)
                    continue;
                if (!n[0])
                    empty = 1;
                if (strchr(n, '"') || strchr(n, '\\'))
                    quote = 1;
            }
            /* the membership TRLP splices owners into CEL; selector TRLPs never do (§3.1) */
            if (quote && (!sub || !l->selector))
                diag(l, "MAAS028", "error", o,
                     "a %s contains '\"' or '\\': maas-controller refuses to build the policy "
                     "for every model it names",
                     sub ? "owner" : "subject");
            if (sub && json_array_size(json_object_get(block, "groups")) == 0 &&
                json_array_size(json_object_get(block, "users")) == 0)
                diag(l, "MAAS031", "warning", o,
                     "owner has no groups and no users: the subscription is unreachable");
            else if (empty)
                diag(l, "MAAS031", "warning", o, "an empty %s name matches no one",
                     sub ? "owner" : "subject");
            if (json_object_size(unknown)) {
                char *s = join_list(unknown);
                diag(l, "MAAS045", "warning", o,
                     "%s groups that no Group object defines (misspelt?): %s",
                     sub ? "owner" : "subject", s);
                pl_free(s);
            }
            json_decref(unknown);
            json_decref(seen);
            json_decref(missing);
            json_decref(dups);
        }
    }
}

/* largest raw limit of a modelRefs entry (§3.4 max(s)) */
static long long entry_max(const json_t *entry)
{
    long long max = 0;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(entry, "tokenRateLimits"), i, r)
    {
        json_t *v = json_object_get(r, "limit");
        if (json_is_integer(v) && json_integer_value(v) > max)
            max = json_integer_value(v);
    }
    return max;
}

static char *entry_windows(const json_t *entry)
{
    json_t *set = json_object(), *r;
    size_t i;
    char *s;
    json_array_foreach(json_object_get(entry, "tokenRateLimits"), i, r)
    {
        const char *w = pl_json_str(r, "window", NULL);
        if (w)
            set_add(set, w);
    }
    /* key order is insertion order: compare as sorted lists */
    {
        json_t *keys = json_array(), *v;
        const char *k;
        json_object_foreach(set, k, v) json_array_append_new(keys, json_string(k));
        for (i = 1; i < json_array_size(keys); i++)
            for (size_t j = i; j > 0 && strcmp(json_string_value(json_array_get(keys, j - 1)),
                                               json_string_value(json_array_get(keys, j))) > 0;
                 j--) {
                json_t *t = json_incref(json_array_get(keys, j - 1));
                json_array_set(keys, j - 1, json_array_get(keys, j));
                json_array_set_new(keys, j, t);
            }
        s = join_list(keys);
        json_decref(keys);
    }
    json_decref(set);
    return s;
}

static long long priority_of(const json_t *sub)
{
    json_t *p = pl_json_path(sub, "spec", "priority", NULL);
    long long v = json_is_integer(p) ? (long long)json_integer_value(p) : 0;
    return v < 0 ? 0 : v; /* maas-api treats negatives as 0 (§2.4) */
}

/* two owners overlap: shared group/user, or either has system:authenticated (§7.x) */
static int owners_overlap(const json_t *a, const json_t *b)
{
    json_t *ga = json_object(), *ua = json_object(), *gb = json_object(), *ub = json_object();
    const char *k;
    json_t *v;
    int overlap = 0;
    subject_sets(a, ga, ua);
    subject_sets(b, gb, ub);
    if (json_object_size(ga) + json_object_size(ua) == 0 ||
        json_object_size(gb) + json_object_size(ub) == 0)
        goto done; /* an owner with no members overlaps nothing */
    if (set_has(ga, "system:authenticated") || set_has(gb, "system:authenticated")) {
        overlap = 1;
        goto done;
    }
    json_object_foreach(ga, k, v) if (set_has(gb, k)) overlap = 1;
    json_object_foreach(ua, k, v) if (set_has(ub, k)) overlap = 1;
done:
    json_decref(ga);
    json_decref(ua);
    json_decref(gb);
    json_decref(ub);
    return overlap;
}

/* entries of `block` not covered by (groups, users, all) of the other side; owned list */
static json_t *uncovered(const json_t *block, const json_t *groups, const json_t *users)
{
    json_t *out = json_array(), *x;
    size_t i;
    if (set_has(groups, "system:authenticated"))
        return out;
    json_array_foreach(json_object_get(block, "groups"), i, x)
    {
        const char *n = pl_json_str(x, "name", NULL);
        if (n && n[0] && !set_has(groups, n))
            json_array_append_new(out, json_sprintf("group %s", n));
    }
    json_array_foreach(json_object_get(block, "users"), i, x)
    {
        const char *n = json_string_value(x);
        if (n && n[0] && !set_has(users, n))
            json_array_append_new(out, json_sprintf("user %s", n));
    }
    return out;
}

/* route name the model's policies attach to (§3.2); owned */
static char *model_route(const lint *l, const json_t *objects, const json_t *mref)
{
    const char *mk = pl_json_str(mref, "spec", "modelRef", "kind", NULL);
    const char *mn = pl_json_str(mref, "spec", "modelRef", "name", NULL);
    const char *ns = ns_of(mref);
    pl_buf b = PL_BUF_INIT;
    size_t i;
    json_t *o;
    if (!mk || !mn)
        return NULL;
    if (!strcmp(mk, "ExternalModel")) {
        size_t plen = strlen(l->ext_prefix), n = strlen(mn);
        if (plen + n <= 253) {
            pl_buf_printf(&b, "%s%s", l->ext_prefix, mn);
        } else {
            char hex[65];
            size_t keep = 253 - plen - 9, s = 0, e;
            pl_sha256_hex(hex, mn, n);
            e = keep < n ? keep : n;
            while (s < e && (mn[s] == '-' || mn[s] == '.'))
                s++;
            while (e > s && (mn[e - 1] == '-' || mn[e - 1] == '.'))
                e--;
            if (e > s)
                pl_buf_printf(&b, "%s%.*s-%.8s", l->ext_prefix, (int)(e - s), mn + s, hex);
            else
                pl_buf_printf(&b, "%s%.8s", l->ext_prefix, hex);
        }
        return pl_buf_detach(&b);
    }
    {
        const char *best = NULL;
        json_array_foreach(objects, i, o)
        {
            if (!is(o, "gateway.networking.k8s.io", "HTTPRoute") || strcmp(ns_of(o), ns))
                continue;
            if (strcmp(nz(label(o, "app.kubernetes.io/name")), mn) ||
                strcmp(nz(label(o, "app.kubernetes.io/component")), "llminferenceservice-router") ||
                strcmp(nz(label(o, "app.kubernetes.io/part-of")), "llminferenceservice"))
                continue;
            if (!best || strcmp(name_of(o), best) < 0)
                best = name_of(o);
        }
        if (best)
            return pl_strdup(best);
    }
    pl_buf_printf(&b, "%s%s", mn, l->route_suffix);
    return pl_buf_detach(&b);
}

static int gateway_ref_ok(const lint *l, const json_t *isvc)
{
    size_t i;
    json_t *r;
    json_array_foreach(pl_json_path(isvc, "spec", "router", "gateway", "refs", NULL), i, r)
    {
        const char *n = pl_json_str(r, "name", NULL), *ns = pl_json_str(r, "namespace", NULL);
        if (n && !strcmp(n, l->gw_name) && !strcmp(ns ? ns : ns_of(isvc), l->gw_ns))
            return 1;
    }
    return 0;
}

/* per-model rules: MAAS023-027, MAAS029, MAAS030 (models), MAAS033, MAAS034, MAAS039 */
static void lint_models(lint *l, const json_t *objects)
{
    size_t i, j, k;
    json_t *key, *o;
    json_t *exposed = json_object(); /* "ns/name" of LLMInferenceServices MaaS exposes */

    json_array_foreach(l->model_order, i, key)
    {
        const char *mk = json_string_value(key);
        json_t *mref = json_object_get(l->modelrefs, mk);
        json_t *pm = json_object_get(l->per_model, mk);
        json_t *A = pm ? json_object_get(pm, "a") : NULL, *S = pm ? json_object_get(pm, "s") : NULL;
        const char *bkind = pl_json_str(mref, "spec", "modelRef", "kind", NULL);
        const char *bname = pl_json_str(mref, "spec", "modelRef", "name", NULL);
        json_t *backend;
        char *route;

        /* MAAS029: the backend must exist beside the MaaSModelRef */
        backend = !strcmp(bkind, "ExternalModel") ? lookup(l, "ExternalModel", ns_of(mref), bname)
                                                  : lookup(l, "LLMInferenceService", ns_of(mref),
                                                           bname);
        if (!backend)
            diag(l, "MAAS029", "warning", mref,
                 "backend %s %s/%s is not in Git: the MaaSModelRef stays Pending/Failed unless it "
                 "is created elsewhere",
                 bkind, ns_of(mref), bname);
        else if (!strcmp(bkind, "LLMInferenceService")) {
            char *nk = nsname(ns_of(backend), name_of(backend));
            if (nk)
                set_add(exposed, nk);
            pl_free(nk);
            if (annotation(backend, ANN_TIERS) && (l->cm || l->legacy_scoped) &&
                json_array_size(A) + json_array_size(S))
                diag(l, "MAAS034", "info", mref,
                     "model is governed by both the tier resources (annotation %s) and MaaS CRs: "
                     "double enforcement until the tier resources are removed",
                     ANN_TIERS);
        }

        if (json_array_size(A) && !json_array_size(S))
            diag(l, "MAAS023", "warning", mref,
                 "has a MaaSAuthPolicy but no MaaSSubscription: every request ends in 429");
        if (json_array_size(S) && !json_array_size(A))
            diag(l, "MAAS024", "warning", mref,
                 "has a MaaSSubscription but no MaaSAuthPolicy: every request ends in 401/403");

        if (json_array_size(A) && json_array_size(S)) {
            /* MAAS025: coverage between auth subjects and subscription owners (§7.x) */
            json_t *sg = json_object(), *su = json_object(), *og = json_object(),
                   *ou = json_object(), *x;
            json_array_foreach(A, j, x) subject_sets(cr_block(x), sg, su);
            json_array_foreach(S, j, x) subject_sets(cr_block(json_object_get(x, "cr")), og, ou);
            json_array_foreach(A, j, x)
            {
                json_t *u = uncovered(cr_block(x), og, ou);
                if (json_array_size(u)) {
                    char *s = join_list(u);
                    diag(l, "MAAS025", "warning", x,
                         "subjects not covered by any subscription owner of model %s: %s (they "
                         "pass auth but get 429)",
                         mk, s);
                    pl_free(s);
                }
                json_decref(u);
            }
            json_array_foreach(S, j, x)
            {
                json_t *cr = json_object_get(x, "cr");
                json_t *u = uncovered(cr_block(cr), sg, su);
                if (json_array_size(u)) {
                    char *s = join_list(u);
                    diag(l, "MAAS025", "warning", cr,
                         "owners not covered by any MaaSAuthPolicy subject of model %s: %s (they "
                         "get 403)",
                         mk, s);
                    pl_free(s);
                }
                json_decref(u);
            }
            json_decref(sg);
            json_decref(su);
            json_decref(og);
            json_decref(ou);
        }

        /* MAAS026 / MAAS027: overlapping owners among the model's subscriptions */
        for (j = 0; j < json_array_size(S); j++) {
            for (k = j + 1; k < json_array_size(S); k++) {
                json_t *a = json_array_get(S, j), *b = json_array_get(S, k);
                json_t *ca = json_object_get(a, "cr"), *cb = json_object_get(b, "cr");
                if (!owners_overlap(cr_block(ca), cr_block(cb)))
                    continue;
                if (l->selector) {
                    if (priority_of(ca) == priority_of(cb))
                        diag(l, "MAAS026", "warning", mref,
                             "subscriptions %s and %s have overlapping owners and equal priority "
                             "%lld (SpecPriorityDuplicate; unstable choice)",
                             name_of(ca), name_of(cb), priority_of(ca));
                    diag(l, "MAAS027", "warning", mref,
                         "subscriptions %s and %s have overlapping owners: users in both must "
                         "name one (X-MaaS-Subscription) or get 403",
                         name_of(ca), name_of(cb));
                } else {
                    json_t *ea = json_object_get(a, "entry"), *eb = json_object_get(b, "entry");
                    char *wa = entry_windows(ea), *wb = entry_windows(eb);
                    if (entry_max(ea) == entry_max(eb))
                        diag(l, "MAAS026", "warning", mref,
                             "subscriptions %s and %s have overlapping owners and the same max "
                             "limit %lld: the upstream tie-break is unstable",
                             name_of(ca), name_of(cb), entry_max(ea));
                    if (wa && wb && strcmp(wa, wb))
                        diag(l, "MAAS027", "warning", mref,
                             "subscriptions %s and %s have overlapping owners but different "
                             "windows (%s vs %s): raw limits are compared, the wrong plan may win",
                             name_of(ca), name_of(cb), wa, wb);
                    pl_free(wa);
                    pl_free(wb);
                }
            }
        }

        /* MAAS033: a foreign AuthPolicy on the model's route overrides MaaS auth */
        if ((route = model_route(l, objects, mref)) != NULL) {
            json_array_foreach(objects, j, o)
            {
                const char *tk, *tn;
                if (!is(o, "kuadrant.io", "AuthPolicy") || strcmp(ns_of(o), ns_of(mref)))
                    continue;
                if (!strcmp(nz(label(o, "app.kubernetes.io/managed-by")), "maas-controller"))
                    continue;
                tk = pl_json_str(o, "spec", "targetRef", "kind", NULL);
                tn = pl_json_str(o, "spec", "targetRef", "name", NULL);
                if (tk && tn && !strcmp(tk, "HTTPRoute") && !strcmp(tn, route))
                    diag(l, "MAAS033", "warning", o,
                         "targets HTTPRoute %s/%s of MaaS model %s: it overrides the MaaS auth "
                         "policy (ConflictingAuthPolicy)",
                         ns_of(mref), route, mk);
            }
            pl_free(route);
        }

        /* MAAS039: generated policy names claimed in Git with opendatahub.io/managed: "false" */
        for (int p = 0; p < 2; p++) {
            pl_buf n = PL_BUF_INIT;
            json_t *claimed;
            if (p == 0 && (!json_array_size(A) || l->gateway_auth_only))
                continue;
            if (p == 1 && !json_array_size(S))
                continue;
            pl_buf_printf(&n, "%s%s", p == 0 ? "maas-auth-" : "maas-trlp-", name_of(mref));
            claimed = n.ptr ? lookup(l, p == 0 ? "AuthPolicy" : "TokenRateLimitPolicy",
                                     ns_of(mref), n.ptr)
                            : NULL;
            if (claimed && !strcmp(nz(annotation(claimed, "opendatahub.io/managed")), "false"))
                diag(l, "MAAS039", "info", claimed,
                     "generated policy name claimed with opendatahub.io/managed: \"false\": "
                     "maas-controller stops managing it");
            pl_buf_dispose(&n);
        }
    }

    /* MAAS030: every MaaS-exposed LLMInferenceService must sit on the MaaS gateway */
    json_array_foreach(objects, i, o)
    {
        char *nk;
        if (!is(o, "serving.kserve.io", "LLMInferenceService"))
            continue;
        nk = nsname(ns_of(o), name_of(o));
        /* exposed: tier-annotated (any value), or the backend of a MaaSModelRef */
        if ((pl_json_path(o, "metadata", "annotations", ANN_TIERS, NULL) ||
             (nk && set_has(exposed, nk))) &&
            !gateway_ref_ok(l, o))
            diag(l, "MAAS030", "warning", o,
                 "exposed through MaaS but spec.router.gateway.refs does not list %s/%s: no MaaS "
                 "policy applies to its route",
                 l->gw_ns, l->gw_name);
        pl_free(nk);
    }
    json_decref(exposed);

    /* MAAS038: ExternalModel credentials */
    json_array_foreach(objects, i, o)
    {
        const char *sn;
        json_t *sec;
        if (!is_maas_cr(o, "ExternalModel") || !pl_maas_schema_valid(o, NULL))
            continue; /* schema-invalid: MAAS020 only */
        sn = pl_json_str(o, "spec", "credentialRef", "name", NULL);
        sec = lookup(l, "Secret", ns_of(o), sn);
        if (!sec)
            diag(l, "MAAS038", "warning", o,
                 "credential Secret %s/%s is not in Git: provider calls fail", ns_of(o), sn);
        else if (!pl_json_path(sec, "data", "api-key", NULL) &&
                 !pl_json_path(sec, "stringData", "api-key", NULL))
            diag(l, "MAAS038", "warning", o,
                 "credential Secret %s/%s has no key api-key: provider calls fail", ns_of(o), sn);
    }

    /* MAAS034 (gateway): legacy gateway limits and MaaS CRs govern the same gateway */
    if (l->legacy_scoped && json_array_size(l->auths) + json_array_size(l->subs)) {
        json_array_foreach(objects, i, o)
        {
            if (is_gateway_policy(l, o))
                diag(l, "MAAS034", "info", o,
                     "legacy tier limits and MaaS subscriptions both govern gateway %s/%s during "
                     "migration",
                     l->gw_ns, l->gw_name);
        }
    }
}

/* ---- entry point --------------------------------------------------------------------------- */

static void index_objects(lint *l, const json_t *objects)
{
    size_t i;
    json_t *o;
    json_array_foreach(objects, i, o)
    {
        char *k;
        if (!json_is_object(o))
            continue;
        k = id_key(kind_of(o), ns_of(o), name_of(o));
        if (k && !json_object_get(l->by_id, k))
            json_object_set(l->by_id, k, o);
        pl_free(k);
        if (is(o, "user.openshift.io", "Group")) {
            l->have_groups = 1;
            set_add(l->groups, name_of(o));
        }
    }
}

int pl_maas_lint(json_t *diags, const json_t *objects, const json_t *base, const json_t *config)
{
    lint L;
    lint *l = &L;
    size_t i;
    json_t *d, *t;
    int error = 0;

    memset(l, 0, sizeof(*l));
    if (!json_is_array(diags) || !json_is_array(objects))
        return pl_error_set(PL_EINVALID, "maas lint: objects and diagnostics must be lists");
    l->diags = diags;
    l->sub_ns = pl_maas_cfg_str(config, "subscriptionNamespace");
    l->gw_name = pl_maas_cfg_str(config, "gateway.name");
    l->gw_ns = pl_maas_cfg_str(config, "gateway.namespace");
    l->legacy_ns = pl_maas_cfg_str(config, "legacyMaasApiNamespace");
    l->route_suffix = pl_maas_cfg_str(config, "llmisvcRouteSuffix");
    l->ext_prefix = pl_maas_cfg_str(config, "externalModelRoutePrefix");
    l->selector = !strcmp(pl_maas_cfg_str(config, "profile"), "selector");
    l->gateway_auth_only = pl_maas_cfg_bool(config, "gatewayAuthOnly");
    l->seen = json_object();
    l->by_id = json_object();
    l->groups = json_object();
    l->tier_names = json_object();
    l->tier_limit = json_object();
    l->removed = json_object();
    l->modelrefs = json_object();
    l->model_order = json_array();
    l->auths = json_array();
    l->subs = json_array();
    l->per_model = json_object();
    if (!l->seen || !l->by_id || !l->groups || !l->tier_names || !l->tier_limit || !l->removed ||
        !l->modelrefs || !l->model_order || !l->auths || !l->subs || !l->per_model) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    /* diagnostics already present (another mode's, or the tier parser's) are not repeated */
    json_array_foreach(diags, i, d)
    {
        pl_buf key = PL_BUF_INIT;
        pl_buf_printf(&key, "%s %s", nz(pl_json_str(d, "rule", NULL)),
                      nz(pl_json_str(d, "object", NULL)));
        if (key.ptr)
            set_add(l->seen, key.ptr);
        pl_buf_dispose(&key);
    }
    index_objects(l, objects);

    /* legacy tier model */
    if ((l->cm = find_tier_cm(l, objects, 1)) != NULL) {
        l->tiers = parse_tiers(l, l->cm, diags);
        json_array_foreach(l->tiers, i, t)
        {
            const char *n = pl_json_str(t, "name", NULL);
            if (n && !json_object_get(l->tier_names, n))
                json_object_set(l->tier_names, n, t);
        }
    }
    lint_gateway_limits(l, objects);
    if (l->tiers)
        lint_tiers(l);
    if (base)
        lint_base_tiers(l, base);
    lint_model_annotations(l, objects);

    /* subscription model */
    lint_crs(l, objects);
    lint_models(l, objects);
    error = l->error;
done:
    json_decref(l->seen);
    json_decref(l->by_id);
    json_decref(l->groups);
    json_decref(l->tiers);
    json_decref(l->tier_names);
    json_decref(l->tier_limit);
    json_decref(l->removed);
    json_decref(l->modelrefs);
    json_decref(l->model_order);
    json_decref(l->auths);
    json_decref(l->subs);
    json_decref(l->per_model);
    return error;
}
