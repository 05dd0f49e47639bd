/*
 * maas.h - the MaaS renderer (renderers/maas): tier-to-subscription migration, the Kuadrant
 * policies maas-controller would generate (preview), and the commit-time lint rules.
 * The domain rules are ../shared/maas/SPEC.md; section numbers below refer to it.
 *
 * Everything works on plain JSON: `objects` is a JSON array of Kubernetes objects (the fully
 * rendered object set of one cluster), `config` the parsed maas-render.yaml (a JSON object,
 * or NULL for all defaults, §0.3), diagnostics a JSON array of
 * {rule, severity ("error"|"warning"|"info"), object ("Kind/namespace/name"), message}.
 * All json_t arguments are borrowed; outputs are owned by the caller.
 * The module links only pl_core (and uses the kustomize renderer only through render.h).
 *
 * Files:
 *   maas_common.c  configuration defaults (§0.3), canonical output order (§0.4), diagnostics,
 *                  the tier ConfigMap parser (§1.1) and shared helpers          [owner: preview]
 *   maas_preview.c mode preview (§3)                                            [owner: preview]
 *   maas_migrate.c mode migrate (§4)                                            [owner: migrate]
 *   maas_lint.c    mode lint, rules MAAS001.. (§5)                              [owner: lint]
 *   maas.c         pl_maas_run: mode dispatch (lint always runs, §0.1)         [owner: preview]
 */
#ifndef PL_MAAS_H
#define PL_MAAS_H

#include "plumb/core.h"

/* ---- configuration (§0.3) ------------------------------------------------------------------- */

/* A value of the config with its default applied: string keys. Borrowed, never NULL. */
const char *pl_maas_cfg_str(const json_t *config, const char *key);
/* Boolean keys (gatewayAuthOnly, migration.priorityFromLevel). */
int pl_maas_cfg_bool(const json_t *config, const char *key);
/**
 * Check a configuration before use (added by the preview helper): NULL or a mapping whose
 * known keys have the right types, mode in preview|migrate|lint, profile in
 * membership|selector. 0, or PL_EINVALID with a message naming maas-render.yaml.
 */
int pl_maas_cfg_check(const json_t *config);

/* ---- diagnostics -------------------------------------------------------------------------- */

/** Append {rule, severity, object, message} to `diags` (a JSON array). */
int pl_maas_diag(json_t *diags, const char *rule, const char *severity, const char *object,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/** "Kind/namespace/name" of an object (owned string). */
char *pl_maas_objref(const json_t *obj);

/* ---- object helpers and CRD schema (§2) [owner: preview, in maas_common.c] -------------------- */

/** 1 if `obj` has API group `group` (any version; "" = core) and kind `kind`. */
int pl_maas_is(const json_t *obj, const char *group, const char *kind);
/**
 * §2: 1 when `obj` satisfies the current CRD schema of its kind (MaaSModelRef, MaaSAuthPolicy,
 * MaaSSubscription, ExternalModel of maas.opendatahub.io), or is no MaaS CR; 0 when it does
 * not, appending one MAAS020 error naming the first violation to `diags` (if non-NULL).
 * Unknown spec fields (e.g. spec.tokenRateLimits) are violations.
 */
int pl_maas_schema_valid(const json_t *obj, json_t *diags);
/** 1 if a token window matches the CRD pattern ^[1-9]\d{0,3}(s|m|h)$. */
int pl_maas_window_valid(const char *window);
/** A valid window in seconds, -1 for an invalid one. */
long long pl_maas_window_seconds(const char *window);

/* ---- tiers (§1.1) --------------------------------------------------------------------------- */

/*
 * Parse the tier ConfigMap's `data.tiers` text into a JSON array of
 * {name, displayName, description, level, groups[]}; problems become diagnostics on `cm`
 * (the rule numbers SPEC §5 gives for malformed tiers). *out is NULL when the document is
 * unusable.
 */
int pl_maas_parse_tiers(json_t **out, const json_t *cm, json_t *diags);

/* ---- output (§0.4) ---------------------------------------------------------------------------- */

/** Sort objects canonically in place: (group, kind, namespace, name). */
void pl_maas_sort_objects(json_t *objects);

/* ---- modes ------------------------------------------------------------------------------------ */

/** §3: the AuthPolicy/TokenRateLimitPolicy objects maas-controller would create. */
int pl_maas_preview(json_t **out, json_t *diags, const json_t *objects, const json_t *config);

/** §4: MaaSModelRef / MaaSAuthPolicy / MaaSSubscription objects from the tier model. */
int pl_maas_migrate(json_t **out, json_t *diags, const json_t *objects, const json_t *config);

/**
 * §5: the lint rules over `objects`; `base` is the object set of the parent revision (NULL
 * when unknown: the rules that need it, MAAS001-MAAS003 and MAAS014, are skipped).
 */
int pl_maas_lint(json_t *diags, const json_t *objects, const json_t *base, const json_t *config);

/**
 * The renderer entry point: runs the configured mode (config `mode`, default preview) and
 * always lint; *out_objects gets the mode's objects in canonical order, *out_diags all
 * diagnostics. Returns 0, or a negative code on unusable input.
 */
int pl_maas_run(json_t **out_objects, json_t **out_diags, const json_t *objects,
                const json_t *base, const json_t *config);

#endif
