/* kz_builtins.c - placeholder: implemented by its owner. */
#include <string.h>

#include "kz.h"

#define NI(fn) int fn(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg) \
    { (void)ctx; (void)m; (void)cfg; return pl_error_set(PL_EINVALID, "not implemented: %s", __func__); }
NI(pl_kz_t_namespace)
NI(pl_kz_t_prefix_suffix)
NI(pl_kz_t_labels)
NI(pl_kz_t_annotations)
NI(pl_kz_t_images)
NI(pl_kz_t_replicas)
NI(pl_kz_t_value_add)
NI(pl_kz_t_sort_order)

int pl_kz_builtin_is_generator(const char *kind)
{
    return !strcmp(kind, "ConfigMapGenerator") || !strcmp(kind, "SecretGenerator");
}

int pl_kz_builtin_run(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *config)
{
    const char *kind = pl_json_str(config, "kind", NULL);
    (void)ctx; (void)m;
    return pl_error_set(PL_EINVALID, "builtin %s: not implemented", kind ? kind : "?");
}

void pl_kz_sort_legacy(pl_kz_resmap *m) { (void)m; }
