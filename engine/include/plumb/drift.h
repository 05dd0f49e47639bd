/*
 * plumb/drift.h - comparing objects: normalisation, per-object results, reports (engine/drift).
 *
 * One comparison takes up to three versions of one object (flux ssa and gitops-engine's diff
 * take the same three): `desired` (rendered from Git), `predicted` (the server's answer to a
 * dry-run apply of desired, or NULL) and `live` (the object in the cluster, or NULL when it
 * does not exist). Offline (`plumb diff --from A --to B`) the "live" side is the object as
 * rendered at revision A and desired the one at B.
 *
 *  - desired (or predicted) without live:    added
 *  - live without desired:                   removed (in the inventory, no longer in Git)
 *  - both: normalised `predicted ?: desired` against normalised `live`: changed or unchanged.
 *
 * Normalisation (both sides) drops metadata.managedFields, resourceVersion, uid, generation,
 * creationTimestamp, selfLink, deletionTimestamp, deletionGracePeriodSeconds, the annotations
 * kubectl.kubernetes.io/last-applied-configuration, deployment.kubernetes.io/revision and
 * plumb.dev/applied-hash (plumb's own bookkeeping),
 * empty labels/annotations maps and `status`; a Secret's stringData is folded into data
 * (base64) as the API server does (API-NOTES §4.10); ignoreDifferences (Argo CD shape) removes
 * jsonPointers, a subset of jqPathExpressions (".a.b", ".a[0]", ".a[]", ".a[\"k\"]",
 * "| select(.x == LITERAL)" / "!=") and the fields owned by managedFieldsManagers (read from
 * live's managedFields). When comparing desired with live without a dry-run result, live is
 * first projected onto the fields desired sets, which removes the server-filled defaults of
 * API-NOTES §9 (and everything else the server or controllers add).
 *
 * Secret values never leave this module: a Secret's data/stringData values are replaced by
 * "***" (equal), "*** (before)"/"*** (after)" (different) in diffs, and its keys are listed
 * with changed/unchanged/added/removed markers.
 *
 * Does not talk to a cluster (the caller fetches live and predicted objects).
 * Thread-safety: functions are reentrant; a report is not safe for concurrent use.
 */
#ifndef PLUMB_DRIFT_H
#define PLUMB_DRIFT_H

#include "plumb/core.h"

typedef enum {
    PL_DRIFT_UNCHANGED = 0,
    PL_DRIFT_ADDED = 1,   /* in Git, not live (offline: only in the "to" revision) */
    PL_DRIFT_REMOVED = 2, /* live, not in Git (offline: only in the "from" revision) */
    PL_DRIFT_CHANGED = 3,
} pl_drift_action;

typedef struct pl_drift_opts {
    unsigned int version;
    const json_t *ignore_differences; /* borrowed, Argo CD shape (pl_app.ignore_differences); NULL */
    int live;           /* 1: `live` comes from a cluster (projection without predicted) */
    size_t max_fields;  /* changed field paths listed per object; 0 = 20 */
} pl_drift_opts;
#define PL_DRIFT_OPTS_INIT {1, NULL, 0, 0}

/* Result of one comparison. Everything owned by the result. */
typedef struct pl_drift_result {
    pl_drift_action action;
    char *api_version;
    char *group; /* "" for core */
    char *kind;
    char *ns;    /* "" when cluster-scoped or unset */
    char *name;
    char *key;   /* display form, pl_objkey_format ("Kind/ns/name") */
    json_t *fields;      /* array of changed paths ("data.k", "spec.containers[0].image") */
    int fields_truncated; /* more fields changed than max_fields */
    json_t *secret_keys; /* Secrets: {"key": "changed"|"unchanged"|"added"|"removed"}; else NULL */
    char *diff;          /* unified diff of the YAML (redacted); "" when unchanged */
} pl_drift_result;

/**
 * Compare one object's versions (all borrowed; at least one of desired/predicted/live
 * non-NULL, and desired and live must name the same object when both are given).
 * *out owned (pl_drift_result_free). Errors: PL_EINVALID (nothing to compare), PL_ENOMEM,
 * PL_ERROR (libgit2 diff failure). An unsupported jqPathExpression is skipped with a warning
 * log, not an error.
 */
int pl_drift_compare(pl_drift_result **out, const json_t *desired, const json_t *predicted,
                     const json_t *live, const pl_drift_opts *opts);
void pl_drift_result_free(pl_drift_result *r);

/**
 * The normalised copy of `obj` (borrowed) described above, ignoreDifferences jsonPointers and
 * jqPathExpressions applied (managedFieldsManagers need the live object: pl_drift_compare).
 * *out owned.
 */
int pl_drift_normalise(json_t **out, const json_t *obj, const pl_drift_opts *opts);

/**
 * RespectIgnoreDifferences (Argo CD): a copy of `desired` in which the fields the
 * ignoreDifferences rules of `opts` name (jsonPointers, jqPathExpressions, and what the
 * managedFieldsManagers own in live) carry live's values instead of desired's (and are absent
 * when live lacks them), so applying it leaves those fields as they are in the cluster. Without
 * `live` or rules, a plain copy. `desired` and `live` borrowed; *out owned.
 */
int pl_drift_keep_ignored(json_t **out, const json_t *desired, const json_t *live,
                          const pl_drift_opts *opts);

/* ---- reports --------------------------------------------------------------------------- */

typedef enum { PL_DRIFT_TEXT = 0, PL_DRIFT_JSON = 1, PL_DRIFT_MARKDOWN = 2 } pl_drift_format;

typedef struct pl_drift_report pl_drift_report;

int pl_drift_report_new(pl_drift_report **out);
void pl_drift_report_free(pl_drift_report *r);

/** A heading for the report ("abc123..def456"); copied. */
int pl_drift_report_set_title(pl_drift_report *r, const char *title);

/** Make sure `app` has a section (listed even without changes); apps keep insertion order. */
int pl_drift_report_app(pl_drift_report *r, const char *app);

/** Add a result to `app` (taken: owned by the report from now on; unchanged ones are freed). */
int pl_drift_report_add(pl_drift_report *r, const char *app, pl_drift_result *res);

/** Record that `app` could not be compared (message copied; Secret values must not be in it). */
int pl_drift_report_error(pl_drift_report *r, const char *app, const char *message);

/**
 * Compare two object lists of one app (borrowed JSON arrays, either may be NULL = empty),
 * paired by identity (group, kind, namespace, name; the version is ignored, so apps/v1beta1
 * -> apps/v1 is a change, not a remove + add). `desired` plays desired, `live` plays live.
 */
int pl_drift_report_compare_sets(pl_drift_report *r, const char *app, const json_t *desired,
                                 const json_t *live, const pl_drift_opts *opts);

/** Objects added + removed + changed over all apps. */
size_t pl_drift_report_changes(const pl_drift_report *r);
/** Apps with an error. */
size_t pl_drift_report_errors(const pl_drift_report *r);

/**
 * Append the report to `out`:
 *  - text: per app a header line "app NAME: A added, R removed, C changed", one line per
 *    object ("  added    Kind/ns/name", "  changed  Kind/ns/name: field, field", Secrets with
 *    "(secret keys: k changed, j unchanged)"), then the unified diffs;
 *  - json: {"title", "apps": [{"name", "error", "added", "removed", "changed", "objects": [{
 *    "action", "apiVersion", "group", "kind", "namespace", "name", "fields", "secretKeys",
 *    "diff"}]}], "summary": {"apps", "added", "removed", "changed", "errors"}};
 *  - markdown: a summary table (one row per app) and a collapsible <details> block per app
 *    holding its diffs (for pull-request comments).
 * Unchanged objects are never listed.
 */
int pl_drift_report_write(pl_buf *out, const pl_drift_report *r, pl_drift_format format);

#endif
