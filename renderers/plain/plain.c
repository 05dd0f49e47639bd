/* plain.c - placeholder: implemented by its owner. */
#include "plumb/render.h"

int pl_plain_render(json_t **out, pl_fs *fs, const char *path, const pl_plain_opts *opts)
{
    (void)fs; (void)opts;
    *out = NULL;
    return pl_error_set(PL_EINVALID, "%s: no kustomization found (plain manifests not implemented)", path);
}
