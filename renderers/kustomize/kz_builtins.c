/* kz_builtins.c - placeholder: implemented by its owner. */
#include <string.h>

#include "kz.h"

#define NI(fn) int fn(const kz_ctx *ctx, kz_resmap *m, const json_t *cfg) \
    { (void)ctx; (void)m; (void)cfg; return pl_error_set(PL_EINVALID, "not implemented: %s", __func__); }
NI(kz_t_namespace)
NI(kz_t_prefix_suffix)
NI(kz_t_labels)
NI(kz_t_annotations)
NI(kz_t_images)
NI(kz_t_replicas)
NI(kz_t_value_add)
NI(kz_t_sort_order)

int kz_builtin_is_generator(const char *kind)
{
    return !strcmp(kind, "ConfigMapGenerator") || !strcmp(kind, "SecretGenerator");
}

int kz_builtin_run(const kz_ctx *ctx, kz_resmap *m, const json_t *config)
{
    const char *kind = pl_json_str(config, "kind", NULL);
    (void)ctx; (void)m;
    return pl_error_set(PL_EINVALID, "builtin %s: not implemented", kind ? kind : "?");
}

void kz_sort_legacy(kz_resmap *m) { (void)m; }
