/* kz_fieldspec.c - placeholder: implemented by its owner. */
#include "kz.h"

void pl_kz_fslist_dispose(pl_kz_fslist *l) { (void)l; }
int pl_kz_fslist_add(pl_kz_fslist *l, const pl_kz_fieldspec *fs) { (void)l; (void)fs; return 0; }
int pl_kz_fslist_add_json(pl_kz_fslist *l, const json_t *arr) { (void)l; (void)arr; return 0; }
int pl_kz_fslist_copy(pl_kz_fslist *out, const pl_kz_fslist *src) { (void)out; (void)src; return 0; }
json_t *pl_kz_fslist_to_json(const pl_kz_fslist *l) { (void)l; return json_array(); }
int pl_kz_fieldspec_matches(const pl_kz_fieldspec *fs, const json_t *obj) { (void)fs; (void)obj; return 0; }
int pl_kz_fieldspec_apply(json_t *obj, const pl_kz_fieldspec *fs, pl_kz_field_cb cb, void *payload)
{
    (void)obj; (void)fs; (void)cb; (void)payload;
    return 0;
}
