/* kz_nameref.c - placeholder: implemented by its owner. */
#include "kz.h"

int pl_kz_nameref_fix(pl_kz_resmap *m, const pl_kz_tconfig *tc)
{
    (void)m; (void)tc;
    return 0;
}
