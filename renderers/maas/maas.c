/* maas.c - placeholder until the MaaS renderer lands: says plainly that it is not built yet. */
#include "maas.h"

int pl_maas_run(json_t **out_objects, json_t **out_diags, const json_t *objects,
                const json_t *base, const json_t *config)
{
    (void)objects;
    (void)base;
    (void)config;
    *out_objects = NULL;
    *out_diags = NULL;
    return pl_error_set(PL_EINVALID, "the MaaS renderer is not implemented yet");
}
