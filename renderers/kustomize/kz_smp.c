/* kz_smp.c - placeholder: implemented by its owner. */
#include "kz.h"

int pl_kz_smp_apply(json_t **target, const json_t *patch, const json_t *openapi)
{
    (void)target; (void)patch; (void)openapi;
    return pl_error_set(PL_EINVALID, "not implemented: %s", __func__);
}

