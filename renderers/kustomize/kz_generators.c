/* kz_generators.c - placeholder: implemented by its owner. */
#include "kz.h"

int kz_g_configmap(const kz_ctx *ctx, kz_resmap *m, const json_t *cfg)
{
    (void)ctx; (void)m; (void)cfg;
    return pl_error_set(PL_EINVALID, "not implemented: %s", __func__);
}
int kz_g_secret(const kz_ctx *ctx, kz_resmap *m, const json_t *cfg)
{
    (void)ctx; (void)m; (void)cfg;
    return pl_error_set(PL_EINVALID, "not implemented: %s", __func__);
}
int kz_t_hash(const kz_ctx *ctx, kz_resmap *m, const json_t *cfg)
{
    (void)ctx; (void)m; (void)cfg;
    return pl_error_set(PL_EINVALID, "not implemented: %s", __func__);
}
int kz_resmap_absorb(kz_resmap *m, kz_resmap *gen)
{
    int error;
    for (size_t i = 0; i < gen->n; i++) {
        if ((error = kz_resmap_append(m, gen->v[i])) < 0)
            return error;
        gen->v[i] = NULL;
    }
    gen->n = 0;
    return 0;
}
int kz_hash_name_suffix(char out[11], const json_t *obj)
{
    (void)obj;
    out[0] = 0;
    return pl_error_set(PL_EINVALID, "not implemented: %s", __func__);
}
