/*
 * plumb/kube.h - plumb's Kubernetes client (engine/kube).
 *
 * What it does: reads kubeconfig exactly as kubectl does (API-NOTES §11: KUBECONFIG merging,
 * contexts, CA/client certificates from files or -data, token and tokenFile, exec credential
 * plugins, insecure-skip-tls-verify, proxy-url, tls-server-name) or the in-cluster service
 * account; talks HTTPS through one libcurl multi handle (connection reuse, HTTP/2 when the server
 * offers it, many requests in flight); discovers the server's resources (§1, aggregated v2 or
 * legacy) and maps group/version/kind to a resource; runs get, list (paginated), server-side
 * apply, create, update, patch, delete and watch; turns Status bodies (§6) into pl_codes; and
 * applies a client-side token-bucket rate limit and retries with exponential backoff + jitter.
 *
 * What it deliberately does not do: know waves, apps, health or pruning (engine/sync does); share
 * any API-semantics code with engine/sandbox (issue 3: one must not hide the other's misreading).
 *
 * Who calls it: engine/sync and engine/drift (plumb sync / plumb diff), engine/daemon.
 *
 * Shape of use (a wave of applies, in parallel, then the results):
 *
 *     pl_kube_config *cfg = NULL; pl_kube *k = NULL; pl_kube_batch *b = NULL;
 *     pl_kube_config_opts co = PL_KUBE_CONFIG_OPTS_INIT;   co.context = "prod";
 *     pl_kube_config_load(&cfg, &co);
 *     pl_kube_new(&k, cfg, NULL);
 *     pl_kube_batch_new(&b, k);
 *     for (i = 0; i < n; i++) pl_kube_batch_apply(b, objs[i], &apply_opts, NULL);
 *     pl_kube_batch_run(b);                           // or pl_kube_batch_step() from a loop
 *     r = pl_kube_batch_result(b, i);                 // r->code, r->http_status, r->object
 *     pl_kube_batch_free(b); pl_kube_free(k); pl_kube_config_free(cfg);
 *
 * Threads: a pl_kube and everything made from it (batches, results) belong to one thread at a
 * time; use one client per thread. pl_kube_config is immutable after loading and may be shared
 * by clients on several threads. The process must call curl_global_init (or let the first
 * pl_kube_new do it, which is not thread-safe) before threads create clients.
 *
 * Errors: functions return 0 or a negative pl_code with the message in pl_error_last(). Per
 * request outcomes are data in pl_kube_result (STYLE §2.3): a batch whose requests failed still
 * returns 0. Result messages are one line, `Kind[.group]/ns/name: <server message>`, and never
 * contain credentials (tokens, keys) or Secret data.
 *
 * Status to code mapping (API-NOTES §6.2):
 *   404 -> PL_ENOTFOUND (reason NotFound; details.kind "namespaces" means the namespace is missing)
 *   409 -> PL_ECONFLICT (AlreadyExists, resourceVersion Conflict, and apply conflicts whose
 *          details.causes have reason FieldManagerConflict; see pl_kube_result_causes)
 *   400, 405, 415, 422 -> PL_EINVALID, except a 422 whose causes say "field is immutable" or
 *          "may not change once set": PL_EIMMUTABLE (only delete-and-recreate helps, §5.2)
 *   500 "field not declared in schema" / "duplicate entries for key" (§4.1) -> PL_EINVALID
 *   401, 403 -> PL_EAUTH;  413 -> PL_ETOOBIG
 *   410 -> PL_ERROR with result.gone = 1 and reason "Expired" (or "Gone"): the caller relists.
 *          (core.h has no PL_EGONE; this is the documented representation.)
 *   429, 500, 502, 503 and connection failures -> PL_EUNAVAIL;  504 and timeouts -> PL_ETIMEOUT
 *   kind not in discovery (after one refresh) -> PL_ENOTFOUND, http_status 0, reason
 *          "NoKindMatch", message `no matches for kind "Widget" in version "example.com/v1"`.
 *
 * Retries (per request, inside the client): 429 (after Retry-After), 503, and connection
 * failures that happened before the request was sent are retried for every verb. 500 (other than
 * the schema errors above), 502, 504, timeouts and dropped connections are retried only for
 * idempotent requests: GET, LIST, server-side apply, merge patch and DELETE; a 500 is retried
 * at most `max_attempts_500` times (§6.2: often deterministic). Other 4xx are never retried; a
 * 401 re-runs the exec plugin / re-reads the token file once and retries.
 * The write-after-timeout rule (§6.2, 504 "the write may still have happened"): POST (create),
 * PUT (update) and JSON patch are NOT retried after a 500/502/504, a timeout or a dropped
 * connection, because the server may have applied them; the result says PL_ETIMEOUT or
 * PL_EUNAVAIL and the caller must re-GET the object before retrying (a create may now give
 * AlreadyExists, an update a Conflict). Prefer server-side apply, which is safe to repeat.
 *
 * Known simplifications: no impersonation of extra fields (as-user-extra), no auth-provider
 * plugins (gcp/oidc, removed from kubectl), no interactive exec plugins (stdin is never
 * connected; interactiveMode Always fails as on a machine without a terminal), no protobuf, no
 * gzip negotiation beyond libcurl's Accept-Encoding, no HTTP disk cache.
 */
#ifndef PLUMB_KUBE_H
#define PLUMB_KUBE_H

#include <stddef.h>
#include <jansson.h>

#include "plumb/core.h"

typedef struct pl_kube_config pl_kube_config;
typedef struct pl_kube pl_kube;
typedef struct pl_kube_batch pl_kube_batch;

/* ==== configuration ======================================================================= */

typedef struct pl_kube_config_opts {
    unsigned int version;
    const char *kubeconfig; /* --kubeconfig: only this file (must exist); NULL: KUBECONFIG
                               (files merged, first definition wins), else ~/.kube/config */
    const char *context;    /* --context; NULL: current-context */
    const char *ns;         /* --namespace; NULL: the context's namespace, else "default" */
    int in_cluster;         /* 1: use only the in-cluster service account; 0: kubeconfig, and
                               in-cluster only when no kubeconfig file exists (client-go) */
    const char *sa_dir;     /* in-cluster files dir; NULL: /var/run/secrets/kubernetes.io/serviceaccount */
    const char *home;       /* NULL: $HOME (tests point it elsewhere) */
} pl_kube_config_opts;
#define PL_KUBE_CONFIG_OPTS_INIT {1, NULL, NULL, NULL, 0, NULL, NULL}

/**
 * Resolve the connection settings of one context (API-NOTES §11). `*out` is owned by the caller
 * (pl_kube_config_free). Files named by the kubeconfig (CA, client cert/key, tokenFile) are
 * resolved against the directory of the kubeconfig file that defined the entry; CA and client
 * certificates are read into memory now, the token file is read now and re-read later by the
 * client (every minute). Exec plugins are not run here (first request does it).
 * Errors: PL_ENOTFOUND (file given with --kubeconfig missing, context not found, no
 * configuration at all), PL_EINVALID (malformed YAML, bad base64, insecure with a CA, exec
 * apiVersion unknown, cluster without server), PL_ERROR (unreadable file). Messages name the
 * file or context and never contain credentials.
 */
int pl_kube_config_load(pl_kube_config **out, const pl_kube_config_opts *opts);

/**
 * In-cluster configuration only (KUBERNETES_SERVICE_HOST/PORT plus token, ca.crt and namespace
 * files in `sa_dir`, NULL for the default). `*out` owned by the caller. PL_ENOTFOUND with
 * "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT
 * must be defined" when not in a cluster.
 */
int pl_kube_config_in_cluster(pl_kube_config **out, const char *sa_dir);

/** Free a configuration (NULL is fine). Wipes tokens and keys. */
void pl_kube_config_free(pl_kube_config *cfg);

/** Server URL ("https://host:port"). Borrowed, lives as long as cfg. */
const char *pl_kube_config_server(const pl_kube_config *cfg);
/** Namespace for objects that name none (context namespace, else "default"). Borrowed. */
const char *pl_kube_config_namespace(const pl_kube_config *cfg);
/** Name of the selected context ("" for in-cluster). Borrowed. */
const char *pl_kube_config_context(const pl_kube_config *cfg);

/* ==== client ============================================================================== */

typedef struct pl_kube_opts {
    unsigned int version;
    double qps;              /* token bucket rate, requests/s (client-go default 5; plumb 50);
                                <= 0: unlimited */
    int burst;               /* bucket size (100) */
    int max_in_flight;       /* requests on the wire at once (64); a server that answers
                                over HTTP/1.1 gets at most 8 besides watches (one TLS
                                connection each; client.c H1_MAX_IN_FLIGHT) */
    int max_attempts;        /* attempts per request including the first (10) */
    int max_attempts_500;    /* attempts when the failures are plain 500s (5) */
    long backoff_base_ms;    /* first retry delay before jitter (100) */
    long backoff_max_ms;     /* cap of the exponential delay (5000) */
    long retry_after_max_ms; /* cap on a server's Retry-After (30000) */
    long attempt_timeout_ms; /* one HTTP exchange (35000: PATCH is capped at 34 s, §0) */
    long request_timeout_ms; /* a whole request including retries (120000) */
    long connect_timeout_ms; /* TCP+TLS connect (10000) */
    const char *user_agent;  /* NULL: "plumb/<version>" */
    size_t max_response;     /* response body limit (32 MiB) -> PL_ETOOBIG */
} pl_kube_opts;
#define PL_KUBE_OPTS_INIT {1, 50.0, 100, 64, 10, 5, 100, 5000, 30000, 35000, 120000, 10000, NULL, 0}

/**
 * Create a client. `cfg` is borrowed and must outlive the client; `opts` may be NULL
 * (PL_KUBE_OPTS_INIT). `*out` is owned by the caller (pl_kube_free). No request is sent here.
 */
int pl_kube_new(pl_kube **out, const pl_kube_config *cfg, const pl_kube_opts *opts);

/** Free a client and its discovery cache (NULL is fine). Batches must be freed first. */
void pl_kube_free(pl_kube *k);

/* ==== results ============================================================================= */

typedef struct pl_kube_result {
    int code;          /* PL_OK or a negative pl_code (mapping in the file comment) */
    long http_status;  /* last HTTP status; 0 when no response arrived (or client-side error) */
    json_t *object;    /* owned: the response object on success (for delete: the Status or the
                          object the server returned; for list: one merged List), else NULL */
    json_t *status;    /* owned: the failure Status, decoded or synthesised (§6.3), else NULL */
    char reason[64];   /* Status reason ("NotFound", "Conflict", "Expired", ...), "" if none */
    char *message;     /* owned, one line naming the object; NULL on success */
    int attempts;      /* HTTP attempts made */
    int gone;          /* 1 on 410 (list continue or watch ERROR): relist */
    int created;       /* 1 when the server answered 201 (apply or create made the object) */
    void *payload;     /* the caller's pointer given when the request was added */
} pl_kube_result;

/** Release what a result owns (object, status, message); the struct can be reused. */
void pl_kube_result_dispose(pl_kube_result *r);

/**
 * `details.causes` of the failure Status (borrowed JSON array, lives as long as the result), or
 * NULL. For apply conflicts each cause is {"reason":"FieldManagerConflict","message":"conflict
 * with \"m\"...","field":".spec.replicas"} (§4.7).
 */
const json_t *pl_kube_result_causes(const pl_kube_result *r);

/* ==== discovery and mapping (API-NOTES §1) ================================================ */

typedef struct pl_kube_mapping {
    char resource[128]; /* plural, e.g. "deployments" */
    int namespaced;
    int can_patch;      /* has the "patch" verb (needed for server-side apply) */
} pl_kube_mapping;

/**
 * Map group/version/kind (group "" = core) to its resource. Fetches discovery on first use;
 * on a miss refreshes once (unless discovery was fetched less than 250 ms ago) and then fails
 * with PL_ENOTFOUND `no matches for kind "K" in version "g/v"`. PL_EUNAVAIL etc. when discovery
 * itself fails. Group-versions that fail discovery are skipped (and logged), not fatal (§1.2).
 */
int pl_kube_mapping_get(pl_kube_mapping *out, pl_kube *k, const char *group, const char *version,
                        const char *kind);

/** Drop the discovery cache; the next mapping refetches. Call after writing or deleting CRDs. */
void pl_kube_discovery_invalidate(pl_kube *k);

/* ==== request options ===================================================================== */

typedef struct pl_kube_apply_opts {
    unsigned int version;
    const char *field_manager;    /* required; NULL means "plumb" */
    int force;                    /* force=true: take ownership of conflicting fields */
    int dry_run;                  /* dryRun=All: nothing persisted (§4.4) */
    const char *field_validation; /* NULL: not sent; "Strict" | "Warn" | "Ignore" */
    int discard_object;           /* 1: on success the response body is not decoded and
                                     result.object stays NULL (result.created is still set) */
} pl_kube_apply_opts;
#define PL_KUBE_APPLY_OPTS_INIT {1, "plumb", 0, 0, NULL, 0}

/** Options of create, update and the non-apply patches. */
typedef struct pl_kube_write_opts {
    unsigned int version;
    const char *field_manager; /* NULL: not sent (the server uses the User-Agent, §4.8) */
    int dry_run;
    const char *field_validation;
} pl_kube_write_opts;
#define PL_KUBE_WRITE_OPTS_INIT {1, "plumb", 0, NULL}

typedef enum {
    PL_KUBE_PATCH_MERGE,     /* application/merge-patch+json (RFC 7386); retried like a GET */
    PL_KUBE_PATCH_JSON,      /* application/json-patch+json (RFC 6902); not retried when ambiguous */
    PL_KUBE_PATCH_STRATEGIC, /* application/strategic-merge-patch+json (built-ins only) */
} pl_kube_patch_type;

typedef struct pl_kube_delete_opts {
    unsigned int version;
    const char *propagation;      /* "Background" (default when NULL), "Foreground", "Orphan" */
    int dry_run;
    long grace_period_seconds;    /* < 0: not sent */
    const char *precondition_uid; /* NULL: none */
    const char *precondition_rv;  /* NULL: none */
} pl_kube_delete_opts;
#define PL_KUBE_DELETE_OPTS_INIT {1, NULL, 0, -1, NULL, NULL}

typedef struct pl_kube_list_opts {
    unsigned int version;
    const char *label_selector;   /* e.g. "applyset.kubernetes.io/part-of=applyset-xyz-v1" */
    const char *field_selector;   /* e.g. "metadata.name=x" */
    long limit;                   /* page size (500); every page is fetched and merged */
    const char *resource_version; /* NULL: a consistent read */
} pl_kube_list_opts;
#define PL_KUBE_LIST_OPTS_INIT {1, NULL, NULL, 500, NULL}

/* Watch event callback: `type` is ADDED, MODIFIED, DELETED, BOOKMARK or ERROR; `object` is
 * borrowed for the call only (json_incref to keep it). Return nonzero to stop the watch (the
 * result is then PL_OK). An ERROR event carrying 410 is delivered and then ends the watch with
 * result.gone = 1, so the caller relists (§10.2). */
typedef int (*pl_kube_watch_cb)(const char *type, const json_t *object, void *payload);

typedef struct pl_kube_watch_opts {
    unsigned int version;
    const char *resource_version; /* NULL/"": synthetic ADDED for existing objects; else resume */
    const char *label_selector;
    const char *field_selector;
    int timeout_seconds;          /* server-side end of the stream; 0: not sent */
    int bookmarks;                /* allowWatchBookmarks=true */
} pl_kube_watch_opts;
#define PL_KUBE_WATCH_OPTS_INIT {1, NULL, NULL, NULL, 0, 1}

/* ==== batches: many requests in flight ===================================================== */

/**
 * A set of requests run concurrently (bounded by max_in_flight and the rate limit). Add requests,
 * then pl_kube_batch_run (blocking) or pl_kube_batch_step (a step function for an event loop).
 * Requests added while a batch runs join it. `*out` owned by the caller; free with
 * pl_kube_batch_free, which cancels what is still pending.
 */
int pl_kube_batch_new(pl_kube_batch **out, pl_kube *k);
void pl_kube_batch_free(pl_kube_batch *b);

/*
 * The add functions return the request's index (>= 0) in the batch, or a negative pl_code for
 * bad arguments / out of memory. A request that fails before reaching the network (no mapping,
 * credentials) completes at once with its error in the result. Objects and keys are borrowed
 * (copied as needed). `payload` is stored in the result. The namespace of a namespaced object
 * or key that names none is the config's namespace (as kubectl does).
 */

/** Server-side apply of `obj` (its apiVersion/kind/metadata.name/namespace): PATCH
 *  application/apply-patch+yaml with the object as compact JSON (§4.1). 201 sets created. */
int pl_kube_batch_apply(pl_kube_batch *b, const json_t *obj, const pl_kube_apply_opts *o,
                        void *payload);
/** GET one object named by key (group, version, kind, ns, name). */
int pl_kube_batch_get(pl_kube_batch *b, const pl_objkey *key, void *payload);
/** LIST every page of key's kind (key->ns "" on a namespaced kind: all namespaces; key->name
 *  ignored). The result object is one List whose items carry kind and apiVersion (§10.4). An
 *  expired continue token (410) restarts the list once more from the beginning. */
int pl_kube_batch_list(pl_kube_batch *b, const pl_objkey *key, const pl_kube_list_opts *o,
                       void *payload);
/** DELETE one object (explicit propagationPolicy in the body, §5.4). 200 with a Status or with
 *  the object (still terminating) are both PL_OK; 404 is PL_ENOTFOUND. */
int pl_kube_batch_delete(pl_kube_batch *b, const pl_objkey *key, const pl_kube_delete_opts *o,
                         void *payload);
/** POST `obj` (metadata.resourceVersion stripped, §5.1). */
int pl_kube_batch_create(pl_kube_batch *b, const json_t *obj, const pl_kube_write_opts *o,
                         void *payload);
/** PUT `obj` (must carry metadata.resourceVersion for an optimistic lock, §5.2). */
int pl_kube_batch_update(pl_kube_batch *b, const json_t *obj, const pl_kube_write_opts *o,
                         void *payload);
/** PATCH key with `patch` (borrowed JSON, sent compact). */
int pl_kube_batch_patch(pl_kube_batch *b, const pl_objkey *key, pl_kube_patch_type type,
                        const json_t *patch, const pl_kube_write_opts *o, void *payload);
/** WATCH key's collection; events go to cb while the batch runs. Never retried: when it ends,
 *  re-watch from the last resourceVersion seen (or relist when gone). */
int pl_kube_batch_watch(pl_kube_batch *b, const pl_objkey *key, const pl_kube_watch_opts *o,
                        pl_kube_watch_cb cb, void *payload);

/** Called as each request finishes (progress); `r` is borrowed. NULL removes it. */
typedef void (*pl_kube_done_cb)(pl_kube_batch *b, size_t index, const pl_kube_result *r,
                                void *payload);
void pl_kube_batch_on_done(pl_kube_batch *b, pl_kube_done_cb cb, void *payload);

/** Run until every request of the batch finished. Returns 0 (results hold the outcomes). */
int pl_kube_batch_run(pl_kube_batch *b);
/**
 * Advance the batch (and every other request of the client) for at most `wait_ms`
 * milliseconds. Returns 1 when every request of the batch has finished, 0 otherwise.
 */
int pl_kube_batch_step(pl_kube_batch *b, int wait_ms);

/**
 * Wait up to `wait_ms` for network activity on any of the client's requests (and process what
 * arrived); sleeps `wait_ms` when nothing is in flight. For loops that step several batches or
 * executors on one client: replies are handled as they arrive instead of after a fixed sleep.
 * Returns 0. Does nothing inside a watch callback.
 */
int pl_kube_wait(pl_kube *k, int wait_ms);

size_t pl_kube_batch_count(const pl_kube_batch *b);
/** Result of request `i` (borrowed, lives as long as the batch; complete only when done). */
pl_kube_result *pl_kube_batch_result(pl_kube_batch *b, size_t i);
/** 1 if request `i` has finished. */
int pl_kube_batch_done(const pl_kube_batch *b, size_t i);

/* ==== single requests (a batch of one, run to completion) ================================== */
/* `out` is caller storage (uninitialised is fine); the caller disposes it with
 * pl_kube_result_dispose. The return value equals out->code. */

int pl_kube_apply(pl_kube_result *out, pl_kube *k, const json_t *obj, const pl_kube_apply_opts *o);
int pl_kube_get(pl_kube_result *out, pl_kube *k, const pl_objkey *key);
int pl_kube_list(pl_kube_result *out, pl_kube *k, const pl_objkey *key, const pl_kube_list_opts *o);
int pl_kube_delete(pl_kube_result *out, pl_kube *k, const pl_objkey *key,
                   const pl_kube_delete_opts *o);
int pl_kube_create(pl_kube_result *out, pl_kube *k, const json_t *obj, const pl_kube_write_opts *o);
int pl_kube_update(pl_kube_result *out, pl_kube *k, const json_t *obj, const pl_kube_write_opts *o);
int pl_kube_patch(pl_kube_result *out, pl_kube *k, const pl_objkey *key, pl_kube_patch_type type,
                  const json_t *patch, const pl_kube_write_opts *o);
/** Blocks until the stream ends, cb asks to stop, or an error. */
int pl_kube_watch(pl_kube_result *out, pl_kube *k, const pl_objkey *key,
                  const pl_kube_watch_opts *o, pl_kube_watch_cb cb, void *payload);

/**
 * GET an arbitrary API path (e.g. "/version", "/apis/apps/v1") as JSON. Same retries and
 * errors as the verbs; `what` names the subject in messages (NULL: the path).
 */
int pl_kube_get_path(pl_kube_result *out, pl_kube *k, const char *path, const char *what);

#endif
