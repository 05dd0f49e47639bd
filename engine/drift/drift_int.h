/* drift_int.h - engine/drift internals shared between its files (not public API). */
#ifndef PL_DRIFT_INT_H
#define PL_DRIFT_INT_H

#include "plumb/drift.h"

/* 1 if obj is a core v1 Secret. */
int pl_drift__is_secret(const json_t *obj);
/* 1 if the ignoreDifferences rule (Argo CD shape) applies to obj. */
int pl_drift__rule_matches(const json_t *rule, const json_t *obj);
/* Remove the fields a managedFields fieldsV1 set names from obj (in place). */
void pl_drift__remove_fieldset(json_t *obj, const json_t *fs);

/* Remove the jsonPointers and jqPathExpressions of the rules that apply to `match` from o. */
void pl_drift__remove_ignored(json_t *o, const json_t *match, const pl_drift_opts *opts);
/* Remove what the rules' managedFieldsManagers own in `live` (its managedFields) from o. */
void pl_drift__remove_managed(json_t *o, const json_t *live, const pl_drift_opts *opts);

/* Drop empty metadata.labels/annotations maps (the API server omits them). */
void pl_drift__tidy(json_t *obj);

#endif
