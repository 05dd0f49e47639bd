/* kz_generators.c - placeholder: implemented by its owner. */
#include "kz.h"

int pl_kz_g_configmap(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    (void)ctx; (void)m; (void)cfg;
    return pl_error_set(PL_EINVALID, "not implemented: %s", __func__);
}
int pl_kz_g_secret(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    (void)ctx; (void)m; (void)cfg;
    return pl_error_set(PL_EINVALID, "not implemented: %s", __func__);
}
int pl_kz_t_hash(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    (void)ctx; (void)m; (void)cfg;
    return pl_error_set(PL_EINVALID, "not implemented: %s", __func__);
}
int pl_kz_resmap_absorb(pl_kz_resmap *m, pl_kz_resmap *gen)
{
    int error;
    for (size_t i = 0; i < gen->n; i++) {
        if ((error = pl_kz_resmap_append(m, gen->v[i])) < 0)
            return error;
        gen->v[i] = NULL;
    }
    gen->n = 0;
    return 0;
}
int pl_kz_hash_name_suffix(char out[11], const json_t *obj)
{
    (void)obj;
    out[0] = 0;
    return pl_error_set(PL_EINVALID, "not implemented: %s", __func__);
}
