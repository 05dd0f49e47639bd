/*
 * maas.c - pl_maas_run, the MaaS renderer's entry point: checks the configuration, runs the
 * configured mode (§0.1), then always the lint rules (§5), and returns the mode's objects in
 * canonical order (§0.4) with every diagnostic.
 */
#include <stdlib.h>
#include <string.h>

#include "maas.h"

static int cmp_field(const json_t *a, const json_t *b, const char *key)
{
    const char *x = json_string_value(json_object_get(a, key));
    const char *y = json_string_value(json_object_get(b, key));
    return strcmp(x ? x : "", y ? y : "");
}

static int cmp_diag(const void *pa, const void *pb)
{
    const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    int c = cmp_field(a, b, "rule");
    if (!c)
        c = cmp_field(a, b, "object");
    if (!c)
        c = cmp_field(a, b, "severity");
    if (!c)
        c = cmp_field(a, b, "message");
    return c;
}

/*
 * Order diagnostics by (rule, object, severity, message) and drop exact duplicates: the tier
 * parser runs for each mode that reads tiers, so its findings can be recorded twice.
 */
static int tidy_diags(json_t **diags)
{
    size_t n = json_array_size(*diags), i;
    json_t **v, *out;

    if (n < 2)
        return 0;
    if (!(v = pl_malloc(n * sizeof(*v))) || !(out = json_array())) {
        pl_free(v);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    for (i = 0; i < n; i++)
        v[i] = json_array_get(*diags, i);
    qsort(v, n, sizeof(*v), cmp_diag);
    for (i = 0; i < n; i++) {
        if (i && cmp_diag(&v[i - 1], &v[i]) == 0)
            continue;
        if (json_array_append(out, v[i]) < 0) {
            pl_free(v);
            json_decref(out);
            return pl_error_set(PL_ENOMEM, "out of memory");
        }
    }
    pl_free(v);
    json_decref(*diags);
    *diags = out;
    return 0;
}

int pl_maas_run(json_t **out_objects, json_t **out_diags, const json_t *objects,
                const json_t *base, const json_t *config)
{
    json_t *result = NULL, *diags = NULL, *linted = NULL, *empty = NULL;
    const char *mode;
    int error;

    *out_objects = NULL;
    *out_diags = NULL;
    if ((error = pl_maas_cfg_check(config)) < 0)
        return error;
    if (json_is_null(config))
        config = NULL;
    if (objects && !json_is_array(objects))
        return pl_error_set(PL_EINVALID, "maas: the input must be a list of objects");
    if (!objects && !(objects = empty = json_array()))
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (!(diags = json_array())) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    mode = pl_maas_cfg_str(config, "mode");
    if (!strcmp(mode, "preview"))
        error = pl_maas_preview(&result, diags, objects, config);
    else if (!strcmp(mode, "migrate"))
        error = pl_maas_migrate(&result, diags, objects, config);
    else if (!(result = json_array())) /* lint: diagnostics only */
        error = pl_error_set(PL_ENOMEM, "out of memory");
    if (error < 0)
        goto done;
    if (!result && !(result = json_array())) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    /*
     * Lint always runs (§0.1). Migrated objects are meant to be committed, so lint sees the
     * cluster as it will be: input plus output (§4.2 step 7). Preview objects belong to the
     * controller and are never applied, so lint sees the input only.
     */
    if (!strcmp(mode, "migrate")) {
        if (!(linted = json_copy((json_t *)objects)) || json_array_extend(linted, result) < 0) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
    }
    if ((error = pl_maas_lint(diags, linted ? linted : objects, base, config)) < 0)
        goto done;
    if ((error = tidy_diags(&diags)) < 0)
        goto done;
    pl_maas_sort_objects(result);
    *out_objects = result;
    *out_diags = diags;
    result = diags = NULL;
done:
    json_decref(result);
    json_decref(diags);
    json_decref(linted);
    json_decref(empty);
    return error;
}
