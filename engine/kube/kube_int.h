/*
 * kube_int.h - engine/kube internals shared by its files and its unit tests (never installed).
 *
 * Files: kubeconfig.c (kubeconfig, exec plugins, in-cluster), status.c (Status decoding,
 * classification, backoff, token bucket, URL encoding), client.c (libcurl multi transport,
 * batches, verbs, watch), discovery.c (discovery cache and REST mapping).
 */
#ifndef PL_KUBE_INT_H
#define PL_KUBE_INT_H

#include <stdint.h>
#include <time.h>

#include "plumb/kube.h"

/* ---- configuration (kubeconfig.c) --------------------------------------------------------- */

typedef struct pl_kube_exec {
    char *api_version;  /* client.authentication.k8s.io/v1 or v1beta1 */
    char *command;      /* resolved: relative paths with '/' joined to the kubeconfig dir */
    char **args;        /* NULL-terminated, owned */
    char **env;         /* "NAME=VALUE", NULL-terminated, owned */
    char *install_hint;
    char *interactive_mode; /* Never | IfAvailable | Always */
    int provide_cluster_info;
    json_t *cluster_info; /* ExecCredential spec.cluster (owned) when provideClusterInfo */
} pl_kube_exec;

struct pl_kube_config {
    char *context;     /* context name ("" in-cluster) */
    char *server;      /* https://host:port[/path], no trailing '/' */
    char *ns;          /* default namespace for objects naming none */
    char *ca_pem;      /* CA bundle (PEM) or NULL: system store */
    size_t ca_len;
    int insecure;
    char *tls_server_name;
    char *proxy_url;
    int disable_compression;
    char *token;       /* static bearer token or NULL */
    char *token_file;  /* re-read every minute when set */
    char *cert_pem;    /* client certificate (PEM) or NULL */
    size_t cert_len;
    char *key_pem;
    size_t key_len;
    char *impersonate_user;
    char **impersonate_groups; /* NULL-terminated or NULL */
    pl_kube_exec *exec; /* NULL: no plugin (also when a token or cert makes it unused) */
};

/** Credentials returned by an exec plugin. Owned strings, wiped on dispose. */
typedef struct pl_kube_creds {
    char *token;
    char *cert_pem;
    char *key_pem;
    time_t expiry; /* 0: never expires */
} pl_kube_creds;

void pl_kube__creds_dispose(pl_kube_creds *c);

/**
 * Run the exec plugin once (API-NOTES §11). `out` receives the credentials (caller disposes).
 * Errors keep client-go's texts: `exec: executable X not found ...`, `exec: executable X failed
 * with exit code N`, `exec plugin is configured to use API version A, plugin returned version B`,
 * `exec plugin didn't return a token or cert/key pair`, `exec plugin returned only certificate
 * or key, not both`. PL_EAUTH for all of them.
 */
int pl_kube__exec_run(pl_kube_creds *out, const pl_kube_exec *ex);

/** Read a token file: trimmed contents (owned) or PL_EAUTH naming the file. */
int pl_kube__read_token_file(char **out, const char *path);

/** Decode base64 (standard alphabet, padding optional, whitespace ignored). Owned result. */
int pl_kube__base64_decode(char **out, size_t *out_len, const char *in);

/** Wipe and free a secret string. */
void pl_kube__free_secret(char *s);

/** RFC 3339 UTC timestamp to time_t; -1 when malformed. */
time_t pl_kube__parse_time(const char *s);

/* ---- status, classification, rate limiting (status.c) ------------------------------------ */

/** How safe a request is to repeat when its outcome is unknown (see kube.h "Retries"). */
typedef enum { PL_KUBE_IDEMPOTENT = 0, PL_KUBE_UNSAFE = 1 } pl_kube_safety;

/**
 * Decode an error response into a Status (owned *out). A JSON body with kind Status is kept as
 * is; anything else (plain text 404/429, proxies) becomes a synthesised Status whose reason and
 * message follow client-go for that HTTP code (API-NOTES §6.3). `retry_after` (seconds, -1 when
 * absent) goes into details.retryAfterSeconds for synthesised Statuses.
 */
int pl_kube__status_decode(json_t **out, long http, const char *ctype, const char *body,
                           size_t len, long retry_after);

/** pl_code for a failure Status (kube.h mapping table). */
int pl_kube__status_code(const json_t *status, long http);

/**
 * Retry decision for one finished attempt: 1 to retry, 0 to stop. `http` 0 means the transfer
 * failed: `sent` says whether the request may have reached the server (0 for connect and DNS
 * failures). `attempts_500` counts plain-500 attempts so far including this one.
 */
int pl_kube__should_retry(pl_kube_safety safety, long http, int sent, const json_t *status,
                          int attempts_500, int max_attempts_500);

/** Backoff before retry number `retry` (1 = first retry): Retry-After when given (seconds,
 *  capped), else min(max, base * 2^(retry-1)) with equal jitter from `rand01` in [0,1). */
long pl_kube__backoff_ms(int retry, long base_ms, long max_ms, long retry_after_s,
                         long retry_after_max_ms, double rand01);

typedef struct pl_kube_bucket {
    double qps;    /* <= 0: unlimited */
    double burst;
    double tokens;
    int64_t last_ms;
} pl_kube_bucket;

void pl_kube__bucket_init(pl_kube_bucket *b, double qps, int burst, int64_t now_ms);
/** Take one token: 0 when taken, else the milliseconds until one is available (not taken). */
long pl_kube__bucket_take(pl_kube_bucket *b, int64_t now_ms);

/** Append `s` percent-encoded for a query value (everything but RFC 3986 unreserved). */
int pl_kube__query_escape(pl_buf *out, const char *s);
/** Append `s` percent-encoded for one path segment (keeps unreserved, sub-delims, ':' '@'). */
int pl_kube__path_escape(pl_buf *out, const char *s);

/**
 * Path of a resource (API-NOTES §2): /api/v1[/namespaces/{ns}]/{res}[/{name}[/{sub}]] for the
 * core group, /apis/{g}/{v}/... otherwise. `ns` NULL or "" for cluster scope (or all
 * namespaces), `name` NULL for the collection.
 */
int pl_kube__resource_path(pl_buf *out, const char *group, const char *version, const char *res,
                           const char *ns, const char *name, const char *sub);

/** Subject for messages: "Kind[.group]/ns/name" (parts left out when empty). */
int pl_kube__subject(pl_buf *out, const char *group, const char *kind, const char *ns,
                     const char *name);

/** 1 when a Content-Type names the aggregated discovery list (§1.3: parameters in any order). */
int pl_kube__is_aggregated_ctype(const char *ctype);

/* ---- discovery (discovery.c) ------------------------------------------------------------- */

typedef struct pl_kube_res {
    char *group, *version, *kind, *resource;
    int namespaced;
    int can_patch;
} pl_kube_res;

typedef struct pl_kube_disc {
    pl_kube_res *res;
    size_t n, cap;
    int valid;
    int64_t fetched_ms;
} pl_kube_disc;

void pl_kube__disc_clear(pl_kube_disc *d);
/** Add one resource (strings copied). Subresources ("a/b") are ignored. */
int pl_kube__disc_add(pl_kube_disc *d, const char *group, const char *version, const char *kind,
                      const char *resource, int namespaced, int can_patch);
/** Parse an APIResourceList (legacy) into d. */
int pl_kube__disc_parse_resource_list(pl_kube_disc *d, const json_t *doc);
/** Parse an APIGroupDiscoveryList (aggregated v2/v2beta1) into d. */
int pl_kube__disc_parse_aggregated(pl_kube_disc *d, const json_t *doc);
/** Lookup; NULL when absent (borrowed). */
const pl_kube_res *pl_kube__disc_find(const pl_kube_disc *d, const char *group,
                                      const char *version, const char *kind);

/** Fetch discovery into k's cache (client.c drives the requests). */
int pl_kube__discover(pl_kube *k);

/* ---- client internals used by discovery.c (client.c) ------------------------------------- */

typedef struct pl_kube_req pl_kube_req;
typedef void (*pl_kube_req_done)(pl_kube_req *r, void *ctx);

/** Queue a GET of `path` with `accept`; `done(r, ctx)` is called when it finished. */
int pl_kube__submit_get(pl_kube *k, const char *path, const char *accept, const char *what,
                        pl_kube_req_done done, void *ctx);
/** Accessors for a finished request (borrowed, valid during the done callback). */
pl_kube_result *pl_kube__req_result(pl_kube_req *r);
const char *pl_kube__req_ctype(pl_kube_req *r);
/** Drive the client until *counter reaches 0. */
int pl_kube__wait_counter(pl_kube *k, size_t *counter);
pl_kube_disc *pl_kube__disc(pl_kube *k);
/** 0 inside a watch callback, where the client cannot be driven (no nested transfers). */
int pl_kube__can_block(const pl_kube *k);
int64_t pl_kube__now_ms(void);

#endif
