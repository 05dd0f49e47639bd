/*
 * drift_compare.c - one object's versions compared: action, changed fields, redacted diff.
 *
 * The diff is a unified diff (libgit2 git_patch_from_buffers) between the YAML of the two
 * normalised sides as pl_yaml_emit prints them, so it reads like the manifests people write
 * (keys in kustomize's order). Secrets are redacted before any text is produced: the values
 * of data and stringData are replaced by markers the way `kubectl diff` masks them
 * (API-NOTES §4.10: "***", "*** (before)", "*** (after)"), so equal values leave no diff line
 * and a changed value shows as a changed marker, never as the value.
 *
 * Callers: drift_report.c, engine/sync, engine/cli (through the report).
 */
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "drift_int.h"

#define DEFAULT_MAX_FIELDS 20

void pl_drift_result_free(pl_drift_result *r)
{
    if (!r)
        return;
    pl_free(r->api_version);
    pl_free(r->group);
    pl_free(r->kind);
    pl_free(r->ns);
    pl_free(r->name);
    pl_free(r->key);
    json_decref(r->fields);
    json_decref(r->secret_keys);
    pl_free(r->diff);
    pl_free(r);
}

/* ---- projection (desired vs live without a dry-run) ------------------------------------- */

/* Keep only what `desired` sets: server defaults and foreign additions leave `live`. */
static void project(json_t *live, const json_t *desired)
{
    if (json_is_object(live) && json_is_object(desired)) {
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(live, tmp, k, v)
        {
            json_t *d = json_object_get(desired, k);
            if (!d)
                json_object_del(live, k);
            else
                project(v, d);
        }
    } else if (json_is_array(live) && json_is_array(desired) &&
               json_array_size(live) == json_array_size(desired)) {
        for (size_t i = 0; i < json_array_size(live); i++)
            project(json_array_get(live, i), json_array_get(desired, i));
    }
}

/* ---- changed field paths ---------------------------------------------------------------- */

static int plain_key(const char *k)
{
    if (!*k)
        return 0;
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
              *k == '_' || *k == '-'))
            return 0;
    return 1;
}

static void add_field(pl_drift_result *r, const pl_buf *path, size_t max)
{
    if (json_array_size(r->fields) >= max) {
        r->fields_truncated = 1;
        return;
    }
    json_array_append_new(r->fields, json_string(path->ptr ? path->ptr : ""));
}

static void push_key(pl_buf *p, const char *k)
{
    if (plain_key(k)) {
        if (p->len)
            pl_buf_putc(p, '.');
        pl_buf_puts(p, k);
    } else {
        json_t *s = json_string(k);
        char *q = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
        pl_buf_printf(p, "[%s]", q ? q : "\"?\"");
        pl_free(q);
        json_decref(s);
    }
}

static void field_paths(pl_drift_result *r, const json_t *a, const json_t *b, pl_buf *path,
                        size_t max)
{
    size_t keep = path->len;
    if (json_equal(a, b))
        return;
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        json_t *v;
        /* keys of either side, in a stable (sorted) order */
        json_t *keys = json_array();
        json_object_foreach((json_t *)a, k, v) json_array_append_new(keys, json_string(k));
        json_object_foreach((json_t *)b, k, v)
        {
            if (!json_object_get(a, k))
                json_array_append_new(keys, json_string(k));
        }
        for (size_t i = 1; i < json_array_size(keys); i++) /* insertion sort: few keys */
            for (size_t j = i; j > 0 && strcmp(json_string_value(json_array_get(keys, j - 1)),
                                               json_string_value(json_array_get(keys, j))) > 0;
                 j--) {
                json_t *x = json_incref(json_array_get(keys, j));
                json_array_set(keys, j, json_array_get(keys, j - 1));
                json_array_set_new(keys, j - 1, x);
            }
        for (size_t i = 0; i < json_array_size(keys); i++) {
            const char *key = json_string_value(json_array_get(keys, i));
            json_t *x = json_object_get(a, key), *y = json_object_get(b, key);
            if (json_equal(x, y))
                continue;
            push_key(path, key);
            if (x && y)
                field_paths(r, x, y, path, max);
            else
                add_field(r, path, max);
            path->len = keep;
            if (path->ptr)
                path->ptr[keep] = '\0';
        }
        json_decref(keys);
        return;
    }
    if (json_is_array(a) && json_is_array(b) && json_array_size(a) == json_array_size(b)) {
        for (size_t i = 0; i < json_array_size(a); i++) {
            if (json_equal(json_array_get(a, i), json_array_get(b, i)))
                continue;
            pl_buf_printf(path, "[%zu]", i);
            field_paths(r, json_array_get(a, i), json_array_get(b, i), path, max);
            path->len = keep;
            if (path->ptr)
                path->ptr[keep] = '\0';
        }
        return;
    }
    add_field(r, path, max);
}

/* ---- Secret redaction ----------------------------------------------------------------------- */

static const char *const secret_fields[] = {"data", "stringData"};

/* key -> changed/unchanged/added/removed over data and stringData (after: a, before: b) */
static json_t *secret_markers(const json_t *a, const json_t *b)
{
    json_t *m = json_object();
    for (size_t f = 0; m && f < 2; f++) {
        json_t *da = json_object_get(a, secret_fields[f]), *db = json_object_get(b, secret_fields[f]);
        const char *k;
        json_t *v;
        json_object_foreach(da, k, v)
        {
            json_t *o = json_object_get(db, k);
            const char *mark = !b ? "added" : !o ? "added" : json_equal(o, v) ? "unchanged"
                                                                                : "changed";
            json_object_set_new(m, k, json_string(mark));
        }
        json_object_foreach(db, k, v)
        {
            if (!json_object_get(da, k) && !json_object_get(m, k))
                json_object_set_new(m, k, json_string("removed"));
        }
    }
    return m;
}

/* A copy of Secret `self` whose values are markers relative to `other` (NULL: none). */
static json_t *redact(const json_t *self, const json_t *other, int before)
{
    json_t *c = json_deep_copy(self);
    for (size_t f = 0; c && f < 2; f++) {
        json_t *d = json_object_get(c, secret_fields[f]);
        json_t *od = json_object_get(other, secret_fields[f]);
        const char *k;
        json_t *v;
        if (!json_is_object(d))
            continue;
        json_object_foreach(d, k, v)
        {
            json_t *o = json_object_get(od, k);
            const char *mark = (!o || json_equal(o, v)) ? "***"
                               : before                 ? "*** (before)"
                                                        : "*** (after)";
            json_object_set_new(d, k, json_string(mark));
        }
    }
    return c;
}

/* ---- unified diff ---------------------------------------------------------------------------- */

static int unified(char **out, const json_t *before, const json_t *after, const char *label)
{
    pl_buf a = PL_BUF_INIT, b = PL_BUF_INIT, la = PL_BUF_INIT, lb = PL_BUF_INIT;
    git_patch *patch = NULL;
    git_buf gb = {NULL, 0, 0};
    git_diff_options dopts;
    int error = 0, inited = 0;

    *out = NULL;
    if ((before && (error = pl_yaml_emit(&a, before)) < 0) ||
        (after && (error = pl_yaml_emit(&b, after)) < 0))
        goto done;
    /* libgit2 adds the a/ and b/ prefixes */
    if ((error = pl_buf_puts(&la, label)) < 0 || (error = pl_buf_puts(&lb, label)) < 0)
        goto done;
    if (git_libgit2_init() < 0) {
        error = pl_error_set(PL_ERROR, "drift: cannot initialise libgit2");
        goto done;
    }
    inited = 1;
    git_diff_options_init(&dopts, GIT_DIFF_OPTIONS_VERSION);
    dopts.context_lines = 3;
    if (git_patch_from_buffers(&patch, before ? (a.ptr ? a.ptr : "") : NULL, a.len, la.ptr,
                               after ? (b.ptr ? b.ptr : "") : NULL, b.len, lb.ptr, &dopts) < 0 ||
        git_patch_to_buf(&gb, patch) < 0) {
        const git_error *e = git_error_last();
        error = pl_error_set(PL_ERROR, "%s: diff failed: %s", label,
                             e && e->message ? e->message : "unknown error");
        goto done;
    }
    /* the header without git's index and mode lines: blob ids of YAML text mean nothing here */
    {
        pl_buf text = PL_BUF_INIT;
        const char *p = gb.ptr ? gb.ptr : "", *end = p + gb.size;
        int header = 1;
        while (p < end && error == 0) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl ? (size_t)(nl - p + 1) : (size_t)(end - p);
            if (header && !strncmp(p, "@@", 2))
                header = 0;
            if (!(header && (!strncmp(p, "index ", 6) || !strncmp(p, "new file mode", 13) ||
                             !strncmp(p, "deleted file mode", 17))))
                error = pl_buf_put(&text, p, n);
            p += n;
        }
        if (error == 0 && !text.ptr)
            error = pl_buf_put(&text, "", 0);
        if (error == 0)
            *out = pl_buf_detach(&text);
        pl_buf_dispose(&text);
    }
done:
    git_buf_dispose(&gb);
    git_patch_free(patch);
    if (inited)
        git_libgit2_shutdown();
    pl_buf_dispose(&a);
    pl_buf_dispose(&b);
    pl_buf_dispose(&la);
    pl_buf_dispose(&lb);
    return error;
}

/* ---- compare -------------------------------------------------------------------------------- */

static int fill_identity(pl_drift_result *r, const json_t *obj)
{
    pl_objkey k;
    pl_buf b = PL_BUF_INIT;
    pl_objkey_from(&k, obj);
    r->api_version = pl_strdup(pl_json_str(obj, "apiVersion", NULL) ? pl_json_str(obj, "apiVersion", NULL) : "");
    r->group = pl_strndup(k.group, strcspn(k.group, "/")); /* k.group is "apps/v1" */
    r->kind = pl_strdup(k.kind);
    r->ns = pl_strdup(k.ns);
    r->name = pl_strdup(k.name);
    if (pl_objkey_format(&b, &k) < 0 || !b.ptr) {
        pl_buf_dispose(&b);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    r->key = pl_buf_detach(&b);
    if (!r->api_version || !r->group || !r->kind || !r->ns || !r->name)
        return pl_error_set(PL_ENOMEM, "out of memory");
    return 0;
}

void pl_drift__remove_managed(json_t *o, const json_t *live, const pl_drift_opts *opts)
{
    json_t *rule, *mgr, *mf;
    size_t i, j, k;
    json_array_foreach(opts ? opts->ignore_differences : NULL, i, rule)
    {
        if (!pl_drift__rule_matches(rule, live))
            continue;
        json_array_foreach(json_object_get(rule, "managedFieldsManagers"), j, mgr)
        {
            json_array_foreach(pl_json_path(live, "metadata", "managedFields", NULL), k, mf)
            {
                if (!json_equal(json_object_get(mf, "manager"), mgr))
                    continue;
                pl_drift__remove_fieldset(o, json_object_get(mf, "fieldsV1"));
                pl_drift__tidy(o);
            }
        }
    }
}

/* managedFieldsManagers: drop what those managers own in live from both sides */
static void ignore_managers(json_t *a, json_t *b, const json_t *live, const pl_drift_opts *opts)
{
    pl_drift__remove_managed(a, live, opts);
    pl_drift__remove_managed(b, live, opts);
}

/*
 * Put back into `dst` what the ignore rules removed from live: `l` is (part of) live, `lp` the
 * same part after the rules. Only subtrees where the two differ are visited.
 */
static void restore(json_t *dst, const json_t *l, const json_t *lp)
{
    const char *key;
    json_t *v;

    if (json_is_object(l)) {
        json_object_foreach((json_t *)l, key, v)
        {
            json_t *vp = json_object_get(lp, key), *d = json_object_get(dst, key);
            if (!vp) {
                json_object_set_new(dst, key, json_deep_copy(v));
                continue;
            }
            if (json_equal(v, vp))
                continue;
            if ((json_is_object(v) && json_is_object(vp)) ||
                (json_is_array(v) && json_is_array(vp) &&
                 json_array_size(v) == json_array_size(vp))) {
                if (!d && json_is_object(v)) {
                    /* only the ignored parts come back, not everything the server filled */
                    d = json_object();
                    json_object_set_new(dst, key, d);
                } else if (json_typeof(d) != json_typeof(v) ||
                    (json_is_array(d) && json_array_size(d) != json_array_size(v))) {
                    /* desired lacks this part or shapes it differently: live's, whole */
                    json_object_set_new(dst, key, json_deep_copy(v));
                    continue;
                }
                restore(d, v, vp);
            } else {
                json_object_set_new(dst, key, json_deep_copy(v));
            }
        }
    } else if (json_is_array(l)) {
        for (size_t i = 0; i < json_array_size(l); i++) {
            json_t *e = json_array_get(l, i), *ep = json_array_get(lp, i);
            json_t *d = json_array_get(dst, i);
            if (json_equal(e, ep))
                continue;
            if (json_is_object(e) && json_is_object(ep) && json_is_object(d))
                restore(d, e, ep);
            else
                json_array_set_new(dst, i, json_deep_copy(e));
        }
    }
}

int pl_drift_keep_ignored(json_t **out, const json_t *desired, const json_t *live,
                          const pl_drift_opts *opts)
{
    json_t *d, *lp = NULL;

    *out = NULL;
    if (!json_is_object(desired))
        return pl_error_set(PL_EINVALID, "drift: not an object");
    if (!(d = json_deep_copy(desired)))
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (!json_is_object(live) || !opts || !json_array_size(opts->ignore_differences)) {
        *out = d;
        return 0;
    }
    if (!(lp = json_deep_copy(live))) {
        json_decref(d);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    /* desired's values of ignored fields go; live's come back */
    pl_drift__remove_ignored(d, desired, opts);
    pl_drift__remove_managed(d, live, opts);
    pl_drift__remove_ignored(lp, live, opts);
    pl_drift__remove_managed(lp, live, opts);
    restore(d, live, lp);
    json_decref(lp);
    *out = d;
    return 0;
}

int pl_drift_compare(pl_drift_result **out, const json_t *desired, const json_t *predicted,
                     const json_t *live, const pl_drift_opts *opts)
{
    const json_t *after_src = predicted ? predicted : desired;
    const json_t *id = desired ? desired : predicted ? predicted : live;
    pl_drift_opts defaults = PL_DRIFT_OPTS_INIT;
    pl_drift_result *r = NULL;
    json_t *na = NULL, *nb = NULL, *ra = NULL, *rb = NULL;
    pl_buf path = PL_BUF_INIT;
    int error = 0, secret;

    *out = NULL;
    if (!opts)
        opts = &defaults;
    if (!id || !json_is_object(id))
        return pl_error_set(PL_EINVALID, "drift: nothing to compare");
    if (!(r = pl_calloc(1, sizeof(*r))) || !(r->fields = json_array())) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if ((error = fill_identity(r, id)) < 0)
        goto done;
    if ((after_src && (error = pl_drift_normalise(&na, after_src, opts)) < 0) ||
        (live && (error = pl_drift_normalise(&nb, live, opts)) < 0))
        goto done;
    if (na && nb) {
        ignore_managers(na, nb, live, opts);
        if (opts->live && !predicted)
            project(nb, na);
    }
    r->action = !nb ? PL_DRIFT_ADDED : !na ? PL_DRIFT_REMOVED
                : json_equal(na, nb)   ? PL_DRIFT_UNCHANGED
                                       : PL_DRIFT_CHANGED;
    secret = pl_drift__is_secret(id);
    if (secret && !(r->secret_keys = secret_markers(na, nb))) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if (r->action == PL_DRIFT_CHANGED)
        field_paths(r, nb, na, &path, opts->max_fields ? opts->max_fields : DEFAULT_MAX_FIELDS);
    if (r->action == PL_DRIFT_UNCHANGED) {
        r->diff = pl_strdup("");
    } else {
        ra = na ? (secret ? redact(na, nb, 0) : json_incref(na)) : NULL;
        rb = nb ? (secret ? redact(nb, na, 1) : json_incref(nb)) : NULL;
        if ((na && !ra) || (nb && !rb)) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
        if ((error = unified(&r->diff, rb, ra, r->key)) < 0)
            goto done;
    }
    if (!r->diff)
        error = pl_error_set(PL_ENOMEM, "out of memory");
done:
    json_decref(na);
    json_decref(nb);
    json_decref(ra);
    json_decref(rb);
    pl_buf_dispose(&path);
    if (error < 0)
        pl_drift_result_free(r);
    else
        *out = r;
    return error;
}
