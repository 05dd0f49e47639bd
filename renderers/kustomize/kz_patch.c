/* kz_patch.c - placeholder: implemented by its owner. */
#include "kz.h"

int pl_kz_selector_match(const json_t *selector, const pl_kz_res *r)
{
    (void)selector; (void)r;
    return pl_error_set(PL_EINVALID, "not implemented: %s", __func__);
}
int pl_kz_t_patch(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    (void)ctx; (void)m; (void)cfg;
    return pl_error_set(PL_EINVALID, "not implemented: %s", __func__);
}
int pl_kz_t_patch_sm(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    (void)ctx; (void)m; (void)cfg;
    return pl_error_set(PL_EINVALID, "not implemented: %s", __func__);
}
int pl_kz_t_patch_json6902(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    (void)ctx; (void)m; (void)cfg;
    return pl_error_set(PL_EINVALID, "not implemented: %s", __func__);
}
