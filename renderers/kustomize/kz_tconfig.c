/* kz_tconfig.c - placeholder: implemented by its owner. */
#include "kz.h"

int kz_tconfig_default(kz_tconfig **out)
{
    *out = pl_calloc(1, sizeof(kz_tconfig));
    return *out ? 0 : pl_error_set(PL_ENOMEM, "out of memory");
}
int kz_tconfig_copy(kz_tconfig **out, const kz_tconfig *src)
{
    (void)src;
    return kz_tconfig_default(out);
}
void kz_tconfig_free(kz_tconfig *tc) { pl_free(tc); }
int kz_tconfig_merge_json(kz_tconfig *tc, const json_t *cfg) { (void)tc; (void)cfg; return 0; }
int kz_tconfig_merge_crd(kz_tconfig *tc, const json_t *crd) { (void)tc; (void)crd; return 0; }
