/* apps_int.h - engine/apps internals shared between its files (not public API). */
#ifndef PL_APPS_INT_H
#define PL_APPS_INT_H

#include "plumb/apps.h"

/*
 * A pl_fs over `inner` (borrowed, must outlive the result) in which the kustomization file of
 * `dir` reads as that file edited the way Argo CD's `kustomize edit set/add` edits it for the
 * options in `kz`. Everything else reads through. *out owned (pl_fs_free).
 * PL_EINVALID when `dir` holds no kustomization or an option is malformed (message names the
 * application `app_name` and the file).
 */
int pl_apps__kustomize_fs(pl_fs **out, pl_fs *inner, const char *dir, const pl_app_kustomize *kz,
                          const char *app_name);

/*
 * Apply Argo CD's `kustomize edit` for `kz` to the kustomization `k` (a JSON object, edited in
 * place). Exported for tests/unit/apps/test_kustomize.c.
 */
int pl_apps__kustomize_edit(json_t *k, const pl_app_kustomize *kz, const char *app_name);

#endif
