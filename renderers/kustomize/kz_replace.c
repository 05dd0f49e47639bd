/* kz_replace.c - placeholder: implemented by its owner. */
#include "kz.h"

int kz_t_replacements(const kz_ctx *ctx, kz_resmap *m, const json_t *cfg)
{
    (void)ctx; (void)m; (void)cfg;
    return pl_error_set(PL_EINVALID, "not implemented: %s", __func__);
}
int kz_vars_resolve(kz_resmap *m, const json_t *vars, const kz_tconfig *tc)
{
    (void)m; (void)vars; (void)tc;
    return json_array_size(vars) ? pl_error_set(PL_EINVALID, "not implemented: %s", __func__) : 0;
}
