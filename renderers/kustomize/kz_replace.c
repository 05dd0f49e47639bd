/* kz_replace.c - placeholder: implemented by its owner. */
#include "kz.h"

int pl_kz_t_replacements(const pl_kz_ctx *ctx, pl_kz_resmap *m, const json_t *cfg)
{
    (void)ctx; (void)m; (void)cfg;
    return pl_error_set(PL_EINVALID, "not implemented: %s", __func__);
}
int pl_kz_vars_resolve(pl_kz_resmap *m, const json_t *vars, const pl_kz_tconfig *tc)
{
    (void)m; (void)vars; (void)tc;
    return json_array_size(vars) ? pl_error_set(PL_EINVALID, "not implemented: %s", __func__) : 0;
}
