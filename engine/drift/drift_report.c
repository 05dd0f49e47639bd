/*
 * drift_report.c - results grouped per app, and the text, JSON and Markdown writers.
 *
 * Order is deterministic: apps in the order they were first named, objects sorted by group,
 * kind, namespace, name (STYLE.md: output is sorted before it is compared). Unchanged objects
 * are dropped when added. Every writer prints only what pl_drift_compare produced, which is
 * already redacted: no writer sees a Secret value.
 *
 * Callers: engine/cli (plumb diff), engine/sync (drift after a sync), the daemon.
 */
#include <stdlib.h>
#include <string.h>

#include "drift_int.h"

typedef struct app_sec {
    char *name;
    char *error;
    pl_drift_result **v;
    size_t n, cap;
    size_t added, removed, changed;
} app_sec;

struct pl_drift_report {
    app_sec **apps;
    size_t n, cap;
    char *title;
};

int pl_drift_report_new(pl_drift_report **out)
{
    *out = pl_calloc(1, sizeof(**out));
    return *out ? 0 : pl_error_set(PL_ENOMEM, "out of memory");
}

void pl_drift_report_free(pl_drift_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        app_sec *a = r->apps[i];
        for (size_t j = 0; j < a->n; j++)
            pl_drift_result_free(a->v[j]);
        pl_free(a->v);
        pl_free(a->name);
        pl_free(a->error);
        pl_free(a);
    }
    pl_free(r->apps);
    pl_free(r->title);
    pl_free(r);
}

int pl_drift_report_set_title(pl_drift_report *r, const char *title)
{
    pl_free(r->title);
    r->title = title ? pl_strdup(title) : NULL;
    return !title || r->title ? 0 : pl_error_set(PL_ENOMEM, "out of memory");
}

static app_sec *section(pl_drift_report *r, const char *app)
{
    app_sec *a;
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->apps[i]->name, app))
            return r->apps[i];
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        app_sec **p = pl_realloc(r->apps, cap * sizeof(*p));
        if (!p)
            return NULL;
        r->apps = p;
        r->cap = cap;
    }
    if (!(a = pl_calloc(1, sizeof(*a))) || !(a->name = pl_strdup(app))) {
        pl_free(a);
        return NULL;
    }
    r->apps[r->n++] = a;
    return a;
}

int pl_drift_report_app(pl_drift_report *r, const char *app)
{
    return section(r, app) ? 0 : pl_error_set(PL_ENOMEM, "out of memory");
}

int pl_drift_report_add(pl_drift_report *r, const char *app, pl_drift_result *res)
{
    app_sec *a = section(r, app);
    if (!a) {
        pl_drift_result_free(res);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    if (res->action == PL_DRIFT_UNCHANGED) {
        pl_drift_result_free(res);
        return 0;
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        pl_drift_result **p = pl_realloc(a->v, cap * sizeof(*p));
        if (!p) {
            pl_drift_result_free(res);
            return pl_error_set(PL_ENOMEM, "out of memory");
        }
        a->v = p;
        a->cap = cap;
    }
    a->v[a->n++] = res;
    if (res->action == PL_DRIFT_ADDED)
        a->added++;
    else if (res->action == PL_DRIFT_REMOVED)
        a->removed++;
    else
        a->changed++;
    return 0;
}

int pl_drift_report_error(pl_drift_report *r, const char *app, const char *message)
{
    app_sec *a = section(r, app);
    if (!a)
        return pl_error_set(PL_ENOMEM, "out of memory");
    pl_free(a->error);
    a->error = pl_strdup(message ? message : "error");
    return a->error ? 0 : pl_error_set(PL_ENOMEM, "out of memory");
}

size_t pl_drift_report_changes(const pl_drift_report *r)
{
    size_t n = 0;
    for (size_t i = 0; r && i < r->n; i++)
        n += r->apps[i]->n;
    return n;
}

size_t pl_drift_report_errors(const pl_drift_report *r)
{
    size_t n = 0;
    for (size_t i = 0; r && i < r->n; i++)
        n += r->apps[i]->error != NULL;
    return n;
}

/* ---- pairing two object lists --------------------------------------------------------------- */

typedef struct entry {
    pl_objkey key;
    const json_t *obj;
} entry;

/* identity without the version: group, kind, namespace, name */
static int ident_cmp(const pl_objkey *a, const pl_objkey *b)
{
    /* pl_objkey's group points into apiVersion ("apps/v1"): compare up to the '/' */
    size_t la = strcspn(a->group, "/"), lb = strcspn(b->group, "/");
    int c = strncmp(a->group, b->group, la < lb ? la : lb);
    if (c || (c = (la > lb) - (la < lb)) || (c = strcmp(a->kind, b->kind)) ||
        (c = strcmp(a->ns, b->ns)))
        return c;
    return strcmp(a->name, b->name);
}

static int entry_cmp(const void *x, const void *y)
{
    return ident_cmp(&((const entry *)x)->key, &((const entry *)y)->key);
}

static entry *entries(const json_t *objs, size_t *n)
{
    size_t i, k = 0, total = json_is_array(objs) ? json_array_size(objs) : 0;
    json_t *o;
    entry *v = pl_calloc(total ? total : 1, sizeof(*v));
    if (!v)
        return NULL;
    json_array_foreach(objs, i, o)
    {
        if (!json_is_object(o))
            continue;
        pl_objkey_from(&v[k].key, o);
        v[k++].obj = o;
    }
    if (k)
        qsort(v, k, sizeof(*v), entry_cmp);
    *n = k;
    return v;
}

int pl_drift_report_compare_sets(pl_drift_report *r, const char *app, const json_t *desired,
                                 const json_t *live, const pl_drift_opts *opts)
{
    size_t nd = 0, nl = 0, i = 0, j = 0;
    entry *d = entries(desired, &nd), *l = entries(live, &nl);
    int error = 0;

    if (!d || !l) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if ((error = pl_drift_report_app(r, app)) < 0)
        goto done;
    while (error == 0 && (i < nd || j < nl)) {
        pl_drift_result *res = NULL;
        int c = i >= nd ? 1 : j >= nl ? -1 : ident_cmp(&d[i].key, &l[j].key);
        const json_t *dv = c <= 0 ? d[i].obj : NULL, *lv = c >= 0 ? l[j].obj : NULL;
        if (c <= 0)
            i++;
        if (c >= 0)
            j++;
        /* a duplicate identity on one side: compare it with nothing rather than twice */
        if ((error = pl_drift_compare(&res, dv, NULL, lv, opts)) < 0)
            break;
        error = pl_drift_report_add(r, app, res);
    }
done:
    pl_free(d);
    pl_free(l);
    return error;
}

/* ---- writers ------------------------------------------------------------------------------- */

static const char *action_name(pl_drift_action a)
{
    return a == PL_DRIFT_ADDED ? "added" : a == PL_DRIFT_REMOVED ? "removed" : a == PL_DRIFT_CHANGED ? "changed" : "unchanged";
}

static int result_cmp(const void *x, const void *y)
{
    const pl_drift_result *a = *(pl_drift_result *const *)x, *b = *(pl_drift_result *const *)y;
    int c;
    if ((c = strcmp(a->group, b->group)) || (c = strcmp(a->kind, b->kind)) ||
        (c = strcmp(a->ns, b->ns)))
        return c;
    return strcmp(a->name, b->name);
}

static void sort_results(const pl_drift_report *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->apps[i]->n > 1)
            qsort(r->apps[i]->v, r->apps[i]->n, sizeof(pl_drift_result *), result_cmp);
}

/* "password changed, user unchanged" (keys sorted) */
static void secret_summary(pl_buf *out, const json_t *marks)
{
    const char **keys;
    size_t n = json_object_size(marks), k = 0;
    const char *key;
    json_t *v;
    if (!n || !(keys = pl_calloc(n, sizeof(*keys))))
        return;
    json_object_foreach((json_t *)marks, key, v) keys[k++] = key;
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
            const char *t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    for (size_t i = 0; i < k; i++)
        pl_buf_printf(out, "%s%s %s", i ? ", " : "", keys[i],
                      json_string_value(json_object_get(marks, keys[i])));
    pl_free(keys);
}

static void fields_list(pl_buf *out, const pl_drift_result *res, const char *quote)
{
    size_t i;
    json_t *f;
    json_array_foreach(res->fields, i, f)
        pl_buf_printf(out, "%s%s%s%s", i ? ", " : "", quote, json_string_value(f), quote);
    if (res->fields_truncated)
        pl_buf_puts(out, ", ...");
}

static void counts(pl_buf *out, const app_sec *a)
{
    pl_buf_printf(out, "%zu added, %zu removed, %zu changed", a->added, a->removed, a->changed);
}

static int write_text(pl_buf *out, const pl_drift_report *r)
{
    size_t total = 0, apps = 0;
    for (size_t i = 0; i < r->n; i++) {
        const app_sec *a = r->apps[i];
        pl_buf_printf(out, "app %s: ", a->name);
        if (a->error) {
            pl_buf_printf(out, "error: %s\n", a->error);
            continue;
        }
        if (!a->n) {
            pl_buf_puts(out, "no changes\n");
            continue;
        }
        counts(out, a);
        pl_buf_putc(out, '\n');
        total += a->n;
        apps++;
        for (size_t j = 0; j < a->n; j++) {
            const pl_drift_result *res = a->v[j];
            pl_buf_printf(out, "  %-8s %s", action_name(res->action), res->key);
            if (json_array_size(res->fields)) {
                pl_buf_puts(out, ": ");
                fields_list(out, res, "");
            }
            if (res->secret_keys && json_object_size(res->secret_keys)) {
                pl_buf_puts(out, " (secret keys: ");
                secret_summary(out, res->secret_keys);
                pl_buf_putc(out, ')');
            }
            pl_buf_putc(out, '\n');
        }
        for (size_t j = 0; j < a->n; j++)
            pl_buf_puts(out, a->v[j]->diff);
    }
    if (total)
        pl_buf_printf(out, "%zu object%s differ in %zu app%s\n", total, total == 1 ? "" : "s",
                      apps, apps == 1 ? "" : "s");
    else if (!pl_drift_report_errors(r))
        pl_buf_puts(out, "no differences\n");
    return out->ptr || !r->n ? 0 : pl_error_set(PL_ENOMEM, "out of memory");
}

static int write_json(pl_buf *out, const pl_drift_report *r)
{
    json_t *doc = json_object(), *apps = json_array();
    size_t added = 0, removed = 0, changed = 0;
    char *text;
    int error = 0;

    if (!doc || !apps) {
        json_decref(doc);
        json_decref(apps);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    json_object_set_new(doc, "title", r->title ? json_string(r->title) : json_null());
    json_object_set_new(doc, "apps", apps);
    for (size_t i = 0; i < r->n; i++) {
        const app_sec *a = r->apps[i];
        json_t *objs = json_array();
        json_array_append_new(
            apps, json_pack("{s:s,s:o,s:I,s:I,s:I,s:o}", "name", a->name, "error",
                            a->error ? json_string(a->error) : json_null(), "added",
                            (json_int_t)a->added, "removed", (json_int_t)a->removed, "changed",
                            (json_int_t)a->changed, "objects", objs));
        added += a->added;
        removed += a->removed;
        changed += a->changed;
        for (size_t j = 0; j < a->n; j++) {
            const pl_drift_result *res = a->v[j];
            json_array_append_new(
                objs, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:O,s:O,s:s}", "action",
                                action_name(res->action), "apiVersion", res->api_version, "group",
                                res->group, "kind", res->kind, "namespace", res->ns, "name",
                                res->name, "fields", res->fields, "secretKeys",
                                res->secret_keys ? res->secret_keys : json_null(), "diff",
                                res->diff));
        }
    }
    json_object_set_new(doc, "summary",
                        json_pack("{s:I,s:I,s:I,s:I,s:I}", "apps", (json_int_t)r->n, "added",
                                  (json_int_t)added, "removed", (json_int_t)removed, "changed",
                                  (json_int_t)changed, "errors",
                                  (json_int_t)pl_drift_report_errors(r)));
    text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text || (error = pl_buf_puts(out, text)) < 0 || (error = pl_buf_putc(out, '\n')) < 0)
        error = error ? error : pl_error_set(PL_ENOMEM, "out of memory");
    pl_free(text);
    json_decref(doc);
    return error;
}

/* a fence longer than any run of backticks in `s` */
static size_t fence_len(const char *s)
{
    size_t best = 0, run = 0;
    for (; s && *s; s++) {
        run = *s == '`' ? run + 1 : 0;
        if (run > best)
            best = run;
    }
    return best >= 3 ? best + 1 : 3;
}

static void md_escape(pl_buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|' || *s == '<' || *s == '>' || *s == '*' || *s == '_' || *s == '`' ||
            *s == '\\')
            pl_buf_putc(out, '\\');
        pl_buf_putc(out, *s == '\n' ? ' ' : *s);
    }
}

static int write_markdown(pl_buf *out, const pl_drift_report *r)
{
    size_t total = 0;
    pl_buf_puts(out, "### plumb diff");
    if (r->title) {
        pl_buf_puts(out, " ");
        md_escape(out, r->title);
    }
    pl_buf_puts(out, "\n\n");
    for (size_t i = 0; i < r->n; i++)
        total += r->apps[i]->n;
    if (!total && !pl_drift_report_errors(r)) {
        pl_buf_printf(out, "No differences (%zu app%s).\n", r->n, r->n == 1 ? "" : "s");
        return out->ptr ? 0 : pl_error_set(PL_ENOMEM, "out of memory");
    }
    pl_buf_puts(out, "| App | Added | Removed | Changed |\n|---|---:|---:|---:|\n");
    for (size_t i = 0; i < r->n; i++) {
        const app_sec *a = r->apps[i];
        pl_buf_puts(out, "| ");
        md_escape(out, a->name);
        if (a->error) {
            pl_buf_puts(out, " | error: ");
            md_escape(out, a->error);
            pl_buf_puts(out, " | | |\n");
        } else {
            pl_buf_printf(out, " | %zu | %zu | %zu |\n", a->added, a->removed, a->changed);
        }
    }
    for (size_t i = 0; i < r->n; i++) {
        const app_sec *a = r->apps[i];
        if (!a->n)
            continue;
        pl_buf_puts(out, "\n<details><summary><b>");
        md_escape(out, a->name);
        pl_buf_puts(out, "</b>: ");
        counts(out, a);
        pl_buf_puts(out, "</summary>\n\n");
        for (size_t j = 0; j < a->n; j++) {
            const pl_drift_result *res = a->v[j];
            pl_buf_printf(out, "- %s `%s`", action_name(res->action), res->key);
            if (json_array_size(res->fields)) {
                pl_buf_puts(out, ": ");
                fields_list(out, res, "`");
            }
            if (res->secret_keys && json_object_size(res->secret_keys)) {
                pl_buf_puts(out, " (secret keys: ");
                secret_summary(out, res->secret_keys);
                pl_buf_putc(out, ')');
            }
            pl_buf_putc(out, '\n');
        }
        for (size_t j = 0; j < a->n; j++) {
            size_t f = fence_len(a->v[j]->diff);
            pl_buf_putc(out, '\n');
            for (size_t k = 0; k < f; k++)
                pl_buf_putc(out, '`');
            pl_buf_puts(out, "diff\n");
            pl_buf_puts(out, a->v[j]->diff);
            for (size_t k = 0; k < f; k++)
                pl_buf_putc(out, '`');
            pl_buf_putc(out, '\n');
        }
        pl_buf_puts(out, "\n</details>\n");
    }
    return out->ptr ? 0 : pl_error_set(PL_ENOMEM, "out of memory");
}

int pl_drift_report_write(pl_buf *out, const pl_drift_report *r, pl_drift_format format)
{
    sort_results(r);
    switch (format) {
    case PL_DRIFT_JSON:
        return write_json(out, r);
    case PL_DRIFT_MARKDOWN:
        return write_markdown(out, r);
    default:
        return write_text(out, r);
    }
}
