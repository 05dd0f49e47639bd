/*
 * sb_transport.h - private interface between the sandbox's transport files (sb_http.c,
 * sb_tls.c, sb_control.c) and their tests. Not used by the API layers (they see sb.h only).
 */
#ifndef PL_SANDBOX_SB_TRANSPORT_H
#define PL_SANDBOX_SB_TRANSPORT_H

#include "sb.h"

/* ---- credentials (sb_tls.c) ------------------------------------------------------------- */

typedef struct sb_tls {
    char *ca_cert_pem;     /* owned PEM texts */
    char *ca_key_pem;
    char *server_cert_pem;
    char *server_key_pem;
    char *client_cert_pem; /* CN=plumb-admin, O=system:masters */
    char *client_key_pem;
    char *token;           /* bearer token (secret: never logged) */
    void *store;           /* X509_STORE with the CA, for client-certificate checks */
} sb_tls;

/*
 * Load the CA, client certificate and token from `state_dir`/pki (creating them there when
 * missing; NULL state_dir = fresh in-memory credentials) and issue a server certificate for
 * 127.0.0.1, localhost and `host` (borrowed). Fills `tls` (dispose with sb_tls_dispose).
 */
int sb_tls_init(sb_tls *tls, const char *state_dir, const char *host);
/** Wipe the secrets and free everything `tls` holds (the struct is the caller's). */
void sb_tls_dispose(sb_tls *tls);

/*
 * Verify a DER client certificate (borrowed) against the sandbox CA. On success *user (owned)
 * is the certificate's CN. PL_EAUTH when it does not verify.
 */
int sb_tls_verify_client(const sb_tls *tls, char **user, const unsigned char *der, size_t len);

/*
 * Write a kubeconfig for `server_url` (borrowed) to `path` atomically (temp file + rename,
 * mode 0600): cluster plumb-sandbox, users plumb-sandbox-token and plumb-sandbox-cert, contexts
 * plumb-sandbox (current) and plumb-sandbox-cert.
 */
int sb_tls_write_kubeconfig(const sb_tls *tls, const char *path, const char *server_url);

/* ---- request building (sb_http.c; exposed for the fuzz target and unit tests) ------------- */

typedef struct sb_req_owned {
    sb_request req; /* points into the owned strings below */
    char *method, *path, *raw_target, *content_type, *accept, *user_agent, *body, *user;
} sb_req_owned;

/*
 * Build a request from its parts (all borrowed; any may be NULL except method and raw_target):
 * the path is percent-decoded, the query split into arguments ('+' = space, %XX decoded, in
 * order, "" for a key without '='). PL_EINVALID for a target that does not start with '/'.
 */
int sb_req_build(sb_req_owned *r, const char *method, const char *raw_target,
                 const char *content_type, const char *accept, const char *user_agent,
                 const char *body, size_t body_len);
/** Free the strings and arguments `r` owns (also `user`, which the transport sets). */
void sb_req_dispose(sb_req_owned *r);

/* ---- faults (sb_control.c) ---------------------------------------------------------------- */

/** Parse "500=0.1,503=0.05,429=0.05,latency=5ms,drop=0.01" into *out. PL_EINVALID on errors. */
int sb_faults_parse(sb_faults *out, const char *spec);
/** {"500":r,"503":r,"429":r,"latency_ms":n,"drop":r}. Owned. */
json_t *sb_faults_to_json(const sb_faults *f);
/** From a JSON object with any subset of those keys (others rejected); `base` gives defaults. */
int sb_faults_from_json(sb_faults *out, const json_t *obj, const sb_faults *base);

/* ---- request log (sb_http.c) -------------------------------------------------------------- */

/** The in-memory request log as a JSON list of {method,path,query,status,time,duration_ms}
 *  (owned; [] when the server is not started). Takes srv->lock. */
json_t *sb_http_request_log(sb_server *srv);
/** Empty the in-memory request log (the --request-log file is kept). Takes srv->lock. */
void sb_http_request_log_clear(sb_server *srv);

/*
 * Control endpoint (/_plumb/...): faults, request log, then sb_api_control; an unknown control
 * path gives a 404 Status. Called by the transport after authentication; never faulted/logged.
 */
void sb_control_handle(sb_server *srv, const sb_request *req, sb_response *resp);

/** Parse "5ms", "2s", "1.5s", "250" (ms) into milliseconds; -1 on error. */
long sb_parse_duration_ms(const char *s);

#endif
