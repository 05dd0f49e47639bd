/* kz_fieldspec.c - placeholder: implemented by its owner. */
#include "kz.h"

void kz_fslist_dispose(kz_fslist *l) { (void)l; }
int kz_fslist_add(kz_fslist *l, const kz_fieldspec *fs) { (void)l; (void)fs; return 0; }
int kz_fslist_add_json(kz_fslist *l, const json_t *arr) { (void)l; (void)arr; return 0; }
int kz_fslist_copy(kz_fslist *out, const kz_fslist *src) { (void)out; (void)src; return 0; }
json_t *kz_fslist_to_json(const kz_fslist *l) { (void)l; return json_array(); }
int kz_fieldspec_matches(const kz_fieldspec *fs, const json_t *obj) { (void)fs; (void)obj; return 0; }
int kz_fieldspec_apply(json_t *obj, const kz_fieldspec *fs, kz_field_cb cb, void *payload)
{
    (void)obj; (void)fs; (void)cb; (void)payload;
    return 0;
}
