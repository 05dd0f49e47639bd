/* kz_tconfig.c - placeholder: implemented by its owner. */
#include "kz.h"

int pl_kz_tconfig_default(pl_kz_tconfig **out)
{
    *out = pl_calloc(1, sizeof(pl_kz_tconfig));
    return *out ? 0 : pl_error_set(PL_ENOMEM, "out of memory");
}
int pl_kz_tconfig_copy(pl_kz_tconfig **out, const pl_kz_tconfig *src)
{
    (void)src;
    return pl_kz_tconfig_default(out);
}
void pl_kz_tconfig_free(pl_kz_tconfig *tc) { pl_free(tc); }
int pl_kz_tconfig_merge_json(pl_kz_tconfig *tc, const json_t *cfg) { (void)tc; (void)cfg; return 0; }
int pl_kz_tconfig_merge_crd(pl_kz_tconfig *tc, const json_t *crd) { (void)tc; (void)crd; return 0; }
