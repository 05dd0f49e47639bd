/* kz_nameref.c - placeholder: implemented by its owner. */
#include "kz.h"

int kz_nameref_fix(kz_resmap *m, const kz_tconfig *tc)
{
    (void)m; (void)tc;
    return 0;
}
