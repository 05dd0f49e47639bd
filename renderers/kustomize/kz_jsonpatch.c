/* kz_jsonpatch.c - placeholder: implemented by its owner. */
#include "kz.h"

int pl_kz_jsonpatch_apply(json_t **target, const json_t *ops)
{
    (void)target; (void)ops;
    return pl_error_set(PL_EINVALID, "not implemented: %s", __func__);
}
