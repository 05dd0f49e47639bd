/* kz_build.c - kustomization loader and accumulation (being written). */
#include "kz.h"

int pl_kustomize_detect(pl_fs *fs, const char *dir)
{
    (void)fs; (void)dir;
    return 1;
}

int pl_kustomize_build(json_t **out, pl_fs *fs, const char *dir, const pl_render_opts *opts)
{
    (void)fs; (void)opts;
    *out = NULL;
    return pl_error_set(PL_EINVALID, "%s: not implemented", dir);
}

int pl_kz_load_file(const pl_kz_ctx *ctx, const char *rel, pl_buf *out, char **out_path)
{
    (void)ctx; (void)rel; (void)out; (void)out_path;
    return pl_error_set(PL_EINVALID, "not implemented");
}

int pl_kz_load_yaml(const pl_kz_ctx *ctx, const char *rel, json_t **out)
{
    (void)ctx; (void)rel; (void)out;
    return pl_error_set(PL_EINVALID, "not implemented");
}
