/*
 * sb.h - internal API of engine/sandbox (`plumb sandbox`), a Kubernetes API server on loopback.
 *
 * Every behaviour follows ../shared/k8s/API-NOTES.md (cited as "API-NOTES §n"); simplifications
 * are listed in engine/sandbox/README.md. This module must not share API-semantics code with
 * engine/kube (the client): one must not be able to hide the other's misreading of the API.
 * It may use engine/core (YAML, JSON, errors, buffers).
 *
 * Layers (each a file group with its own owner):
 *   sb_http.c  sb_tls.c  sb_control.c   transport: libmicrohttpd + TLS, auth, faults, request
 *                                       log, control endpoint, kubeconfig; calls sb_api_handle
 *   sb_types.c sb_discovery.c           the resource type registry (built-ins + CRDs),
 *                                       discovery documents, OpenAPI documents, /version
 *   sb_api.c sb_store.c sb_watch.c ...  verbs, store, resourceVersion, watch, namespaces,
 *                                       deletion, CRD lifecycle, defaulting, validation,
 *                                       --state persistence, --simulate-status
 *   sb_ssa.c sb_patch.c sb_schema.c     structured merge (apply, managedFields, conflicts),
 *                                       merge/JSON/strategic patches, structural schemas
 *
 * Conventions: as engine/core (0 or negative pl_code; json_t arguments borrowed unless the name
 * ends in _take; out parameters first). Names: `sb_` prefix for module-internal symbols (the
 * module is private to plumb; public entry points in cli use pl_sandbox_*).
 */
#ifndef PL_SANDBOX_SB_H
#define PL_SANDBOX_SB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "plumb/core.h"

/* ==== requests and responses (sb_http.c fills/consumes; handlers read/write) ============== */

typedef struct sb_header {
    char *name;  /* owned */
    char *value; /* owned */
} sb_header;

typedef struct sb_query_arg {
    char *key;   /* owned, percent-decoded */
    char *value; /* owned, percent-decoded; "" when the key had no '=' */
} sb_query_arg;

typedef struct sb_request {
    const char *method;       /* "GET", "POST", ... */
    const char *path;         /* percent-decoded path without the query */
    const char *raw_target;   /* path?query exactly as sent (request log) */
    sb_query_arg *args;       /* decoded query arguments, in order */
    size_t nargs;
    const char *content_type; /* NULL when absent; parameters (";charset=...") included */
    const char *accept;       /* NULL when absent */
    const char *user_agent;   /* NULL when absent */
    const char *body;         /* NUL-terminated copy; NULL when no body */
    size_t body_len;
    const char *user;         /* authenticated user name (token user or certificate CN) */
} sb_request;

/*
 * Streaming body (watch). The transport calls next() repeatedly from the connection's own
 * thread; next() appends bytes to `out` and returns 1, returns 0 after waiting up to
 * `wait_ms` with nothing to send, or -1 when the stream is over. free() is called once when the
 * connection ends (also when the client went away mid-stream).
 */
typedef struct sb_stream {
    int (*next)(struct sb_stream *s, pl_buf *out, int wait_ms);
    void (*free)(struct sb_stream *s);
} sb_stream;

typedef struct sb_response {
    int status;               /* HTTP status code */
    char *content_type;       /* owned; NULL means "application/json" */
    pl_buf body;              /* the complete body, unless `stream` is set */
    sb_header *headers;       /* owned extra headers (Warning, Retry-After, ...) */
    size_t nheaders;
    sb_stream *stream;        /* owned; a chunked streaming body (watch) */
} sb_response;

/** Value of query argument `key` (borrowed) or NULL when absent. */
const char *sb_req_arg(const sb_request *req, const char *key);
/** Add a header to the response (copies both strings). */
int sb_resp_header(sb_response *resp, const char *name, const char *value);
/** Replace the body with `json` (borrowed; compact encoding) and set status. */
int sb_resp_json(sb_response *resp, int status, const json_t *json);
/** Replace the body with plain text (`content_type` copied) and set status. */
int sb_resp_text(sb_response *resp, int status, const char *content_type, const char *text);
/** Release everything the response owns (the struct itself is the caller's). */
void sb_resp_dispose(sb_response *resp);

/* ==== Status objects (API-NOTES §6) ======================================================= */

/*
 * Build a v1 Status (owned by the caller) with keys in the order a real server emits them.
 * `reason`, `details` may be NULL (omitted); details is borrowed and copied.
 */
json_t *sb_status_new(int code, const char *reason, const char *message, const json_t *details);
/** sb_status_new + sb_resp_json in one step. */
int sb_resp_status(sb_response *resp, int code, const char *reason, const char *message,
                   const json_t *details);

/* ==== resource types (sb_types.c) ========================================================= */

enum {
    SB_T_NAMESPACED = 1 << 0,
    SB_T_STATUS = 1 << 1,     /* has a /status subresource (status reset on main writes) */
    SB_T_SCALE = 1 << 2,      /* has /scale */
    SB_T_GENERATION = 1 << 3, /* metadata.generation is maintained */
    SB_T_CUSTOM = 1 << 4,     /* served from a CRD */
    SB_T_NO_CREATE = 1 << 5,  /* e.g. CRD terminating: create forbidden */
    SB_T_NO_DELETECOLLECTION = 1 << 6, /* Namespace: no deletecollection verb (405) */
};

typedef enum {
    SB_NAME_SUBDOMAIN = 0, /* DNS-1123 subdomain, <= 253 */
    SB_NAME_LABEL,         /* DNS-1123 label, <= 63 (Namespace) */
    SB_NAME_DNS1035,       /* DNS-1035 label (Service) */
    SB_NAME_PATHSEG,       /* RBAC kinds */
} sb_name_rule;

struct sb_schema; /* sb_schema.c */

typedef struct sb_type {
    char *group;      /* "" for core */
    char *version;
    char *resource;   /* plural */
    char *singular;
    char *kind;
    char *list_kind;
    char **short_names; /* NULL-terminated, may be NULL */
    char **categories;  /* NULL-terminated, may be NULL */
    unsigned flags;     /* SB_T_* */
    sb_name_rule name_rule;
    int max_name_len;   /* 0 = rule default (CronJob: 52) */
    struct sb_schema *schema; /* owned: list types/keys for SSA, validation for CRs */
    json_t *crd;        /* custom types: the CRD object (owned reference), else NULL */
} sb_type;

typedef struct sb_types sb_types; /* registry: thread-safe, guarded by its own lock */

/** New registry holding the built-in types of API-NOTES §1.1 and the list. Owned. */
sb_types *sb_types_new(void);
void sb_types_free(sb_types *t);

/*
 * Lookups return borrowed pointers that stay valid until the type is removed; callers hold
 * the store lock (sb_store) around any use that may race with CRD removal.
 */
const sb_type *sb_types_by_resource(sb_types *t, const char *group, const char *version,
                                    const char *resource);
const sb_type *sb_types_by_kind(sb_types *t, const char *group, const char *version,
                                const char *kind);
/** 1 if the group/version is served at all (built-in or an Established CRD's version). */
int sb_types_serves(sb_types *t, const char *group, const char *version);
/** 1 if `group` has built-in (non-CRD) types: unknown resources there answer a JSON Status 404
 *  instead of the plain-text one (API-NOTES §6.3). */
int sb_types_group_is_builtin(sb_types *t, const char *group);
/*
 * Call fn(type, ctx) for every registered type (built-ins in table order, then CRD types) with
 * the registry's read lock held: fn must not call sb_types_add_crd/remove_crd. The type pointer
 * is borrowed for the duration of the call.
 */
void sb_types_each(sb_types *t, void (*fn)(const sb_type *ty, void *ctx), void *ctx);

/*
 * Make the served versions of an Established CRD (borrowed; copied) visible in discovery and
 * routing, replacing any previous registration of the same CRD. Remove it again with
 * sb_types_remove_crd (by CRD name "<plural>.<group>").
 */
int sb_types_add_crd(sb_types *t, const json_t *crd);
void sb_types_remove_crd(sb_types *t, const char *crd_name);

/*
 * Discovery and OpenAPI (sb_discovery.c). Each handles one GET and fills resp
 * (API-NOTES §1, §14.2): /version, /api, /apis, /api/v1, /apis/{g}, /apis/{g}/{v}
 * (legacy or aggregated v2 by the Accept header), /openapi/v3, /openapi/v3/<gv>, /openapi/v2.
 * Return 1 when the path was one of these (resp filled), 0 otherwise.
 */
int sb_discovery_handle(sb_types *t, const sb_request *req, sb_response *resp);

/* ==== structural schemas, SSA and patches (sb_schema.c, sb_ssa.c, sb_patch.c) ============= */

typedef struct sb_schema sb_schema;

/*
 * The SSA schema of a built-in kind: the list-map keys, sets and atomic lists/structs of
 * API-NOTES §4.5 (unknown fields are treated as deduced: maps merge, lists atomic). Owned.
 */
sb_schema *sb_schema_builtin(const char *group, const char *kind);
/** From a CRD version's openAPIV3Schema (borrowed). Owned; NULL + pl_error when not structural. */
sb_schema *sb_schema_from_openapi(const json_t *openapi_v3_schema);
void sb_schema_free(sb_schema *s);

/*
 * Custom resources on create/update/non-apply patch (API-NOTES §7.2): drop fields the schema
 * does not declare (unless preserved), appending one "unknown field \"spec.foo\"" string per
 * dropped field to `dropped` (a JSON array); apply schema `default:`s; then validate types,
 * enums, required... appending one cause object {"reason","message","field"} per failure to
 * `causes` (JSON array). Modifies `obj` in place. Returns 0 (failures are reported in causes).
 */
int sb_schema_prune_default_validate(const sb_schema *s, json_t *obj, json_t *dropped,
                                     json_t *causes);

typedef struct sb_fm_opts {
    const char *manager;     /* fieldManager */
    const char *api_version; /* group/version of the request ("v1", "apps/v1") */
    const char *subresource; /* NULL or "status" / "scale" */
    int force;               /* apply only */
    const char *now;         /* RFC 3339 whole seconds, "2026-01-01T00:00:00Z" */
} sb_fm_opts;

/*
 * Server-side apply (API-NOTES §4.3-4.7). `live` is the stored object (NULL: create), `intent`
 * the request body (already checked for apiVersion/kind/name/managedFields by the caller).
 * On success *out (owned) is the merged object with metadata.managedFields rewritten; fields the
 * applier alone owned and no longer sends are removed; `status` is excluded from ownership when
 * `reset_status` (types with a status subresource; the caller restores live status).
 * Returns PL_ECONFLICT with *err_status (owned) = the exact 409 Status body, or PL_EINVALID with
 * *err_status = the 500 "failed to create typed patch object (...)" body for undeclared fields or
 * duplicate list-map keys (the caller passes the "(ns/name; group/version, Kind=K)" text in
 * `typed_ctx`).
 */
int sb_ssa_apply(json_t **out, json_t **err_status, const sb_schema *schema, const json_t *live,
                 const json_t *intent, const sb_fm_opts *opts, int reset_status,
                 const char *typed_ctx);
/*
 * sb_ssa_apply with no live object (create-on-apply) that takes the caller's reference to
 * `intent`: the result is built from the intent's own tree instead of a copy of it (a create
 * is most of a bootstrap's writes). The caller must not use intent afterwards.
 */
int sb_ssa_apply_new(json_t **out, json_t **err_status, const sb_schema *schema, json_t *intent,
                     const sb_fm_opts *opts, int reset_status, const char *typed_ctx);

/*
 * Ownership for a non-apply write (POST/PUT/merge/JSON/strategic PATCH; API-NOTES §4.8):
 * given the old object (NULL on create) and the new one, rewrite newobj's
 * metadata.managedFields in place: the manager's Update entry gains added/changed fields, which
 * other managers lose; removed fields leave every set; empty entries disappear; the 10-entry
 * cap and "ancient-changes" apply; no tracking when old has no managedFields (and not create).
 * A managedFields list that the client put in `newobj` (PUT of an edited GET) is the starting
 * point when it decodes; [] or [{}] wipes it.
 */
int sb_ssa_update(json_t *newobj, const sb_schema *schema, const json_t *old,
                  const sb_fm_opts *opts);

/*
 * Compare two objects as the no-op check of API-NOTES §4.2 does: equal ignoring
 * managedFields `time` values. Returns 1 when equal.
 */
int sb_obj_equal_ignoring_times(const json_t *a, const json_t *b);

/* Patches. *out owned; on a malformed patch PL_EINVALID with *err_status (owned) set. */
int sb_patch_merge(json_t **out, json_t **err_status, const json_t *live, const json_t *patch);
int sb_patch_json(json_t **out, json_t **err_status, const json_t *live, const json_t *ops);
int sb_patch_strategic(json_t **out, json_t **err_status, const sb_schema *schema,
                       const json_t *live, const json_t *patch);

/* ==== the server object (sb_http.c owns its lifetime) ===================================== */

typedef struct sb_faults {
    double rate_500, rate_503, rate_429, rate_drop; /* fractions of requests, 0..1 */
    int latency_ms;
} sb_faults;

struct sb_store; /* sb_store.c */

typedef struct sb_server {
    /* configuration (set before sb_server_start) */
    char *listen_host;        /* "127.0.0.1" */
    int port;                 /* 0 = pick a free port; the chosen port is stored back here */
    char *state_dir;          /* NULL = memory only */
    char *kubeconfig_out;     /* NULL = do not write */
    char *request_log_path;   /* NULL = no log file */
    int simulate_status;      /* --simulate-status */
    int simulate_delay_ms;    /* its DELAY */
    int crd_establish_delay_ms; /* API-NOTES §12: default small, settable for tests */
    int watch_history;        /* events kept for watch resume; older RVs get 410 */

    /* runtime */
    sb_faults faults;         /* guarded by lock */
    pthread_mutex_t lock;     /* faults, request log ring */
    sb_types *types;
    struct sb_store *store;
    void *http;               /* sb_http.c private */
    char *token;              /* the bearer token the kubeconfig carries (owned) */
} sb_server;

/*
 * Route one API request (everything that is not the transport's own /_plumb/ control paths):
 * discovery, then resource URLs of API-NOTES §2. Never fails: every problem becomes a Status
 * or plain-text response in `resp`. Called concurrently from connection threads.
 */
void sb_api_handle(sb_server *srv, const sb_request *req, sb_response *resp);

/*
 * Control endpoint operations on objects (sb_api.c): POST /_plumb/objects (a YAML/JSON stream
 * or List; stored as if created by manager "plumb-sandbox", namespaces auto-created),
 * PUT /_plumb/status/<api path of an item> (body: the status object to set),
 * GET /_plumb/objects (every stored object as a JSON list). Return 1 if handled.
 */
int sb_api_control(sb_server *srv, const sb_request *req, sb_response *resp);

/* Store lifecycle (sb_store.c). Loads --state DIR when set. */
int sb_store_open(sb_server *srv);
void sb_store_close(sb_server *srv);
/* Background work (CRD establishing, namespace/finalizer cleanup, --simulate-status). */
int sb_api_start_background(sb_server *srv);
void sb_api_stop_background(sb_server *srv);

/* Whole-server lifecycle (sb_http.c). */
/*
 * Zero *srv, set the defaults (listen_host "127.0.0.1", port 0, simulate_delay_ms 1000; 0 in
 * crd_establish_delay_ms/watch_history = the API layer's defaults), init `lock` and create the
 * type registry. Then set the configuration, sb_store_open, sb_api_start_background,
 * sb_server_start; tear down in reverse (sb_server_stop, sb_api_stop_background,
 * sb_store_close) and finally sb_server_dispose, which frees the configuration strings
 * (owned: set them with pl_strdup), the registry and the lock. Tests may skip
 * sb_server_start and call sb_api_handle directly.
 */
int sb_server_init(sb_server *srv);
void sb_server_dispose(sb_server *srv);
/*
 * Start serving HTTPS (generates or loads the credentials, sets srv->token and srv->port,
 * writes kubeconfig_out). Serves from background threads until sb_server_stop.
 */
int sb_server_start(sb_server *srv);
void sb_server_stop(sb_server *srv);

/* ==== store and API semantics internals (sb_store.c and friends; helper S2) ================ */

/*
 * The store (collections, resourceVersion counter, watch history ring, --state journal), the
 * verbs, watch, namespaces, deletion/GC, CRD lifecycle, defaulting, validation and
 * --simulate-status share the private header sb_api_int.h (sb_api.c, sb_store.c, sb_watch.c,
 * sb_gc.c, sb_ns.c, sb_crd.c, sb_ctl.c, sb_defaults.c, sb_validate.c, sb_select.c, sb_sim.c).
 * Other layers reach them only through sb_api_handle, sb_api_control, sb_store_open/close and
 * sb_api_start/stop_background above.
 *
 * Server fields used: crd_establish_delay_ms (< 0 is taken as 0), watch_history (<= 0 means
 * 10000 events), simulate_status/simulate_delay_ms, state_dir. sb_store_open must run before
 * sb_api_start_background; sb_store_close stops the background thread itself. Watch streams
 * end (next() returns -1) once the background thread was stopped.
 */

#endif
