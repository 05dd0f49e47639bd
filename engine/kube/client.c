/*
 * client.c - the transport and the verbs: one libcurl multi handle per client, a FIFO of
 * pending requests released by the token bucket and the in-flight bound, retries with backoff,
 * batches, pagination and watch streams.
 *
 * Every request is a pl_kube_req. It waits in `pending` (rate limit, backoff, in-flight bound),
 * runs as an easy handle in the multi, and on completion either retries (back to pending),
 * continues (the next list page) or finishes: its result goes to its batch slot, or to the
 * internal callback that submitted it (discovery). Nothing sleeps: the drive loop waits in
 * curl_multi_poll for the earliest of network activity, a backoff expiry or a token.
 *
 * Credentials: the bearer token comes from the config, the token file (re-read after a minute,
 * client-go's cachingTokenSource) or the exec plugin (cached until expirationTimestamp, re-run
 * after a 401). They are only sent to https:// servers (client-go, API-NOTES §11) and never
 * logged: the debug line is `METHOD PATH?QUERY STATUS DURATION` (API-NOTES-style path only).
 */
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "kube_int.h"

#define ACCEPT_JSON "application/json"
#define RESPONSE_MAX_DEFAULT (32u * 1024 * 1024)
#define TOKEN_FILE_REFRESH_MS 60000
#define LIST_RELISTS_MAX 2
/* Requests at once while the server speaks HTTP/1.1: each one needs its own connection and
 * TLS handshake (a full one costs the client ~2 ms of CPU with OpenSSL 3, the server ~1 ms),
 * and a handful of connections already keeps an API server busy. Over HTTP/2 requests are
 * multiplexed on one connection and max_in_flight applies alone. Watches hold a connection
 * for their whole life and are not counted here, so that they cannot starve other requests. */
#define H1_MAX_IN_FLIGHT 4
/* Nothing listens (connection refused, unknown host): a few quick attempts ride out a
 * restarting API server, then the server counts as down for DOWN_MS and further requests fail
 * at once with the same message instead of each spending the whole backoff budget (kubectl
 * gives up on a refused connection at once). */
#define CONNECT_ATTEMPTS 3
#define DOWN_MS 5000

typedef enum { K_GET, K_LIST, K_APPLY, K_CREATE, K_UPDATE, K_PATCH, K_DELETE, K_WATCH, K_RAW } kverb;

typedef struct batch_op {
    pl_kube_result res;
    pl_kube_req *req; /* NULL once finished */
    int done;
} batch_op;

struct pl_kube_batch {
    pl_kube *k;
    batch_op **ops;
    size_t n, cap, pending;
    pl_kube_done_cb cb;
    void *cb_payload;
};

struct pl_kube_req {
    pl_kube *k;
    pl_kube_req *next; /* pending FIFO link */
    pl_kube_batch *batch;
    size_t index;
    pl_kube_result own; /* internal requests (discovery) */
    pl_kube_result *res;
    pl_kube_req_done done;
    void *done_ctx;

    kverb verb;
    const char *method;
    char *path; /* path and query */
    char *body;
    size_t body_len;
    const char *ctype;
    const char *accept;
    char *subject;
    pl_kube_safety safety;

    int attempts, attempts_500, auth_retried;
    int discard_object; /* a successful response's body is not decoded (result.object NULL) */
    unsigned cred_gen; /* the credentials this attempt used */
    int64_t deadline_ms, not_before_ms, started_ms;
    long retry_after;

    CURL *easy;
    struct curl_slist *hdrs;
    pl_buf resp;
    char *resp_ctype;
    char errbuf[CURL_ERROR_SIZE];

    /* list */
    char *list_base;   /* collection path */
    char *list_query;  /* sorted params without continue/limit */
    long list_limit;
    json_t *items;     /* accumulated (owned) */
    char *list_kind, *list_api;
    int relists;

    /* watch */
    pl_kube_watch_cb wcb;
    void *wpayload;
    int wstopped;
    json_t *werror; /* ERROR event Status (owned) */
    size_t wscan;   /* bytes of resp already searched for '\n' */
};

struct pl_kube {
    const pl_kube_config *cfg;
    pl_kube_opts o;
    CURLM *multi;
    pl_kube_bucket bucket;
    pl_kube_req *head, *tail;
    size_t active;
    size_t active_watch; /* watches among `active` */
    size_t pending_watch; /* watches in the pending FIFO */
    int http2;           /* the server answered over HTTP/2: no H1_MAX_IN_FLIGHT bound */
    int64_t down_until;  /* the server could not be reached: fail fast until then */
    char down_msg[CURL_ERROR_SIZE];
    int in_curl_cb; /* inside a libcurl callback: must not drive */
    pl_kube_disc disc;
    char *base;    /* URL prefix requests go to (tls-server-name rewrites the host) */
    struct curl_slist *connect_to;
    char *host_header;
    char *ua;
    int https;
    char *token; /* current bearer (config, token file) */
    int64_t token_read_ms;
    pl_kube_creds exec;
    int have_exec;
    unsigned cred_gen; /* bumped whenever the credentials change */
    uint64_t rng;
};

static int curl_ready;

int64_t pl_kube__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double rand01(pl_kube *k)
{
    /* xorshift64*: only for jitter, no security meaning */
    k->rng ^= k->rng >> 12;
    k->rng ^= k->rng << 25;
    k->rng ^= k->rng >> 27;
    return (double)((k->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* ---- results ------------------------------------------------------------------------------ */

void pl_kube_result_dispose(pl_kube_result *r)
{
    if (!r)
        return;
    json_decref(r->object);
    json_decref(r->status);
    pl_free(r->message);
    memset(r, 0, sizeof(*r));
}

const json_t *pl_kube_result_causes(const pl_kube_result *r)
{
    const json_t *c = r && r->status ? pl_json_path(r->status, "details", "causes", NULL) : NULL;
    return json_is_array(c) ? c : NULL;
}

static void result_fail(pl_kube_result *r, int code, const char *subject, const char *msg)
{
    pl_buf b = PL_BUF_INIT;

    r->code = code;
    pl_free(r->message);
    if (pl_buf_printf(&b, "%s: %s", subject ? subject : "request", msg) == 0)
        r->message = pl_buf_detach(&b);
    else
        r->message = NULL;
    pl_buf_dispose(&b);
}

/* Take a failure Status into the result: code, reason, gone, one-line message. */
static void result_status(pl_kube_result *r, json_t *status, long http, const char *subject)
{
    const char *reason = pl_json_str(status, "reason", NULL);
    const char *msg = pl_json_str(status, "message", NULL);
    json_t *c = json_object_get(status, "code");
    char line[1024];
    size_t i, n = 0;

    if (http == 0 && json_is_integer(c))
        http = (long)json_integer_value(c);
    json_decref(r->status);
    r->status = status;
    snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
    r->gone = http == 410 || (reason && (!strcmp(reason, "Expired") || !strcmp(reason, "Gone")));
    /* several-line server messages (conflict lists) are folded into one line */
    for (i = 0; msg && msg[i] && n + 1 < sizeof(line); i++)
        line[n++] = msg[i] == '\n' ? ' ' : msg[i];
    line[n] = '\0';
    result_fail(r, pl_kube__status_code(status, http), subject, n ? line : "unknown error");
}

/* ---- client -------------------------------------------------------------------------------- */

int pl_kube_new(pl_kube **out, const pl_kube_config *cfg, const pl_kube_opts *opts)
{
    pl_kube_opts defaults = PL_KUBE_OPTS_INIT;
    pl_kube *k = NULL;
    pl_buf b = PL_BUF_INIT;
    int error = 0;

    *out = NULL;
    if (!cfg || !cfg->server)
        return pl_error_set(PL_EINVALID, "kube: no configuration");
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return pl_error_set(PL_ERROR, "kube: libcurl initialisation failed");
        curl_ready = 1;
    }
    if (!(k = pl_calloc(1, sizeof(*k))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    k->cfg = cfg;
    k->o = opts ? *opts : defaults;
    if (k->o.max_in_flight <= 0)
        k->o.max_in_flight = defaults.max_in_flight;
    if (k->o.max_attempts <= 0)
        k->o.max_attempts = 1;
    if (k->o.max_attempts_500 <= 0)
        k->o.max_attempts_500 = 1;
    if (!k->o.max_response)
        k->o.max_response = RESPONSE_MAX_DEFAULT;
    k->https = strncmp(cfg->server, "https://", 8) == 0;
    k->rng = (uint64_t)pl_kube__now_ms() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)k;
    if (!k->rng)
        k->rng = 88172645463325252ULL;
    pl_kube__bucket_init(&k->bucket, k->o.qps, k->o.burst, pl_kube__now_ms());
    if (!(k->multi = curl_multi_init())) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    /* keep one connection per in-flight request (HTTP/1.1) and reuse them; HTTP/2 multiplexes */
    curl_multi_setopt(k->multi, CURLMOPT_MAXCONNECTS, (long)k->o.max_in_flight);
    curl_multi_setopt(k->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)k->o.max_in_flight);
    curl_multi_setopt(k->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    if ((error = pl_buf_printf(&b, "%s%s", k->o.user_agent ? "" : "plumb/",
                               k->o.user_agent ? k->o.user_agent : PLUMB_VERSION)) < 0)
        goto done;
    k->ua = pl_buf_detach(&b);
    if (cfg->tls_server_name && k->https) {
        /* TLS name override: address the server by that name (SNI and verification use it),
         * connect to the real host, and send the real Host header */
        const char *hp = cfg->server + 8, *slash = strchr(hp, '/');
        size_t hl = slash ? (size_t)(slash - hp) : strlen(hp);
        const char *colon = NULL;
        char host[512], port[16] = "443";
        for (size_t i = 0; i < hl; i++)
            if (hp[i] == ':' && !memchr(hp + i, ']', hl - i))
                colon = hp + i;
        if (hl >= sizeof(host)) {
            error = pl_error_set(PL_EINVALID, "kube: server url too long");
            goto done;
        }
        snprintf(host, sizeof(host), "%.*s", (int)(colon ? (size_t)(colon - hp) : hl), hp);
        if (colon)
            snprintf(port, sizeof(port), "%.*s", (int)(hl - (size_t)(colon - hp) - 1), colon + 1);
        if ((error = pl_buf_printf(&b, "https://%s:%s%s", cfg->tls_server_name, port,
                                   slash ? slash : "")) < 0)
            goto done;
        k->base = pl_buf_detach(&b);
        if ((error = pl_buf_printf(&b, "%s:%s:%s:%s", cfg->tls_server_name, port, host, port)) < 0)
            goto done;
        k->connect_to = curl_slist_append(NULL, b.ptr);
        pl_buf_clear(&b);
        if ((error = pl_buf_printf(&b, "%.*s", (int)hl, hp)) < 0)
            goto done;
        k->host_header = pl_buf_detach(&b);
        if (!k->connect_to || !k->base || !k->host_header) {
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
    } else if (!(k->base = pl_strdup(cfg->server))) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if (cfg->token && !(k->token = pl_strdup(cfg->token))) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    k->token_read_ms = pl_kube__now_ms();
    *out = k;
    k = NULL;
done:
    pl_buf_dispose(&b);
    pl_kube_free(k);
    return error;
}

static void req_free(pl_kube_req *r);

void pl_kube_free(pl_kube *k)
{
    pl_kube_req *r, *next;

    if (!k)
        return;
    for (r = k->head; r; r = next) {
        next = r->next;
        req_free(r);
    }
    if (k->multi)
        curl_multi_cleanup(k->multi);
    pl_kube__disc_clear(&k->disc);
    pl_free(k->base);
    curl_slist_free_all(k->connect_to);
    pl_free(k->host_header);
    pl_free(k->ua);
    pl_kube__free_secret(k->token);
    pl_kube__creds_dispose(&k->exec);
    pl_free(k);
}

pl_kube_disc *pl_kube__disc(pl_kube *k)
{
    return &k->disc;
}

void pl_kube_discovery_invalidate(pl_kube *k)
{
    if (k)
        k->disc.valid = 0;
}

/* ---- credentials --------------------------------------------------------------------------- */

/* Make sure the current credentials are usable; `force` refreshes after a 401. */
static int ensure_creds(pl_kube *k, int force)
{
    const pl_kube_config *cfg = k->cfg;
    int64_t now = pl_kube__now_ms();

    if (!k->https)
        return 0;
    if (cfg->token_file && (force || now - k->token_read_ms >= TOKEN_FILE_REFRESH_MS)) {
        char *t = NULL;
        /* a failed re-read keeps the previous token (client-go falls back the same way) */
        if (pl_kube__read_token_file(&t, cfg->token_file) == 0) {
            if (!k->token || strcmp(k->token, t) != 0)
                k->cred_gen++;
            pl_kube__free_secret(k->token);
            k->token = t;
        } else if (!k->token) {
            return pl_error_last()->code;
        } else {
            pl_log(PL_LOG_WARN, "kube", "%s", pl_error_last()->message);
        }
        k->token_read_ms = now;
    }
    if (cfg->exec) {
        int expired = k->have_exec && k->exec.expiry && time(NULL) >= k->exec.expiry;
        if (!k->have_exec || expired || force) {
            pl_kube_creds c;
            int error = pl_kube__exec_run(&c, cfg->exec);
            if (error < 0)
                return error;
            pl_kube__creds_dispose(&k->exec);
            k->exec = c;
            k->have_exec = 1;
            k->cred_gen++;
        }
    }
    return 0;
}

static int can_refresh_creds(const pl_kube *k)
{
    return k->https && (k->cfg->exec || k->cfg->token_file);
}

/* ---- requests ------------------------------------------------------------------------------ */

/* Take the request's transfer out of the multi handle. */
static void easy_release(pl_kube_req *r)
{
    pl_kube *k = r->k;

    if (!r->easy)
        return;
    curl_multi_remove_handle(k->multi, r->easy);
    curl_easy_cleanup(r->easy);
    r->easy = NULL;
    k->active--;
    if (r->verb == K_WATCH)
        k->active_watch--;
}

static void req_free(pl_kube_req *r)
{
    if (!r)
        return;
    easy_release(r);
    curl_slist_free_all(r->hdrs);
    pl_free(r->path);
    if (r->body) /* may hold Secret data */
        pl_kube__free_secret(r->body);
    pl_free(r->subject);
    pl_buf_dispose(&r->resp);
    pl_free(r->resp_ctype);
    pl_free(r->list_base);
    pl_free(r->list_query);
    json_decref(r->items);
    pl_free(r->list_kind);
    pl_free(r->list_api);
    json_decref(r->werror);
    pl_kube_result_dispose(&r->own);
    pl_free(r);
}

static void pending_push(pl_kube *k, pl_kube_req *r)
{
    r->next = NULL;
    if (k->tail)
        k->tail->next = r;
    else
        k->head = r;
    k->tail = r;
    if (r->verb == K_WATCH)
        k->pending_watch++;
}

static void pending_remove(pl_kube *k, pl_kube_req *r)
{
    pl_kube_req **pp = &k->head, *prev = NULL;

    while (*pp && *pp != r) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = r->next;
    if (k->tail == r)
        k->tail = prev;
    r->next = NULL;
    if (r->verb == K_WATCH)
        k->pending_watch--;
}

/* The request is over: hand the result to its batch or internal callback and free it. */
static void req_finish(pl_kube_req *r)
{
    easy_release(r);
    if (r->batch) {
        pl_kube_batch *b = r->batch;
        size_t index = r->index;
        batch_op *op = b->ops[index];
        op->req = NULL;
        op->done = 1;
        b->pending--;
        req_free(r);
        if (b->cb)
            b->cb(b, index, &op->res, b->cb_payload);
        return;
    }
    if (r->done)
        r->done(r, r->done_ctx);
    req_free(r);
}

/* ---- libcurl callbacks ------------------------------------------------------------------- */

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
    pl_kube_req *r = ud;
    size_t len = size * n, vl;
    const char *v;

    if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) { /* a new response (after 1xx) */
        pl_free(r->resp_ctype);
        r->resp_ctype = NULL;
        r->retry_after = -1;
        return len;
    }
    if (len > 13 && strncasecmp(buf, "content-type:", 13) == 0)
        v = buf + 13;
    else if (len > 12 && strncasecmp(buf, "retry-after:", 12) == 0)
        v = buf + 12;
    else
        return len;
    while (v < buf + len && (*v == ' ' || *v == '\t'))
        v++;
    vl = (size_t)(buf + len - v);
    while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    if (tolower((unsigned char)buf[0]) == 'c') {
        pl_free(r->resp_ctype);
        r->resp_ctype = pl_strndup(v, vl);
    } else {
        char tmp[32], *end;
        long s;
        snprintf(tmp, sizeof(tmp), "%.*s", (int)(vl < 31 ? vl : 31), v);
        s = strtol(tmp, &end, 10); /* HTTP-date forms are ignored: the backoff applies */
        if (end != tmp && *end == '\0' && s >= 0)
            r->retry_after = s;
    }
    return len;
}

/* One watch event line (API-NOTES §10.1). Returns 1 when the caller asked to stop. */
static int watch_line(pl_kube_req *r, const char *line, size_t len)
{
    json_t *ev;
    const char *type;
    json_t *obj;
    int stop = 0;

    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    if (len == 0)
        return 0;
    ev = json_loadb(line, len, 0, NULL);
    type = pl_json_str(ev, "type", NULL);
    obj = json_object_get(ev, "object");
    if (!type || !json_is_object(obj)) {
        pl_log(PL_LOG_WARN, "kube", "%s: ignoring a malformed watch event", r->subject);
        json_decref(ev);
        return 0;
    }
    if (strcmp(type, "ERROR") == 0) {
        json_decref(r->werror);
        r->werror = json_incref(obj); /* held by the request until it finishes */
    }
    r->k->in_curl_cb++;
    stop = r->wcb ? r->wcb(type, obj, r->wpayload) : 0;
    r->k->in_curl_cb--;
    json_decref(ev);
    return stop != 0;
}

static size_t on_write(char *data, size_t size, size_t n, void *ud)
{
    pl_kube_req *r = ud;
    size_t len = size * n, start = 0, i;
    long http = 0;

    if (pl_buf_put(&r->resp, data, len) < 0)
        return 0; /* over max_response: abort the transfer */
    if (r->verb != K_WATCH)
        return len;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &http);
    if (http != 200)
        return len;
    for (i = r->wscan; i < r->resp.len; i++) {
        if (r->resp.ptr[i] != '\n')
            continue;
        if (watch_line(r, r->resp.ptr + start, i - start)) {
            r->wstopped = 1;
            return 0;
        }
        start = i + 1;
    }
    if (start > 0) {
        memmove(r->resp.ptr, r->resp.ptr + start, r->resp.len - start);
        r->resp.len -= start;
        r->resp.ptr[r->resp.len] = '\0';
    }
    r->wscan = r->resp.len;
    return len;
}

/* ---- one attempt ------------------------------------------------------------------------------ */

static int add_header(pl_kube_req *r, const char *name, const char *value)
{
    pl_buf b = PL_BUF_INIT;
    struct curl_slist *l;
    /* "Name:" without a value tells libcurl to drop one of its own headers */
    int error = value ? pl_buf_printf(&b, "%s: %s", name, value) : pl_buf_printf(&b, "%s:", name);

    if (error == 0) {
        l = curl_slist_append(r->hdrs, b.ptr);
        if (l)
            r->hdrs = l;
        else
            error = pl_error_set(PL_ENOMEM, "out of memory");
    }
    if (b.ptr) /* may be the Authorization header */
        pl_kube__free_secret(pl_buf_detach(&b));
    return error;
}

static int req_start(pl_kube_req *r)
{
    pl_kube *k = r->k;
    const pl_kube_config *cfg = k->cfg;
    pl_buf url = PL_BUF_INIT;
    CURL *e = NULL;
    int64_t now = pl_kube__now_ms();
    int error;

    if (now < k->down_until)
        return pl_error_set(PL_EUNAVAIL, "%s", k->down_msg);
    if ((error = ensure_creds(k, 0)) < 0)
        return error;
    /* the overall timeout counts from the first attempt, not from the queue: a wave of 10,000
     * applies behind the rate limit must not time out before it is sent */
    if (r->attempts == 0 && r->verb != K_WATCH)
        r->deadline_ms = now + k->o.request_timeout_ms;
    if (!(e = curl_easy_init()))
        return pl_error_set(PL_ENOMEM, "out of memory");
    curl_slist_free_all(r->hdrs);
    r->hdrs = NULL;
    if ((error = pl_buf_printf(&url, "%s%s", k->base, r->path)) < 0)
        goto done;
    curl_easy_setopt(e, CURLOPT_URL, url.ptr);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_USERAGENT, k->ua);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, k->o.connect_timeout_ms);
    if (r->verb == K_WATCH) {
        /* long-running: no overall timeout; the server ends it at timeoutSeconds */
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 0L);
    } else {
        int64_t left = r->deadline_ms - now;
        long t = k->o.attempt_timeout_ms;
        if (left < t)
            t = left > 1 ? (long)left : 1;
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, t);
    }
    if (!cfg->disable_compression)
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    if (strcmp(r->method, "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
    if (r->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
    }
    if ((error = add_header(r, "Accept", r->accept ? r->accept : ACCEPT_JSON)) < 0)
        goto done;
    if (r->body && (error = add_header(r, "Content-Type", r->ctype)) < 0)
        goto done;
    if ((error = add_header(r, "Expect", NULL)) < 0) /* no 100-continue round trip */
        goto done;
    if (k->host_header && (error = add_header(r, "Host", k->host_header)) < 0)
        goto done;
    if (cfg->proxy_url)
        curl_easy_setopt(e, CURLOPT_PROXY, cfg->proxy_url);
    if (k->connect_to)
        curl_easy_setopt(e, CURLOPT_CONNECT_TO, k->connect_to);
    if (k->https) {
        const char *tok = k->token ? k->token : (k->have_exec ? k->exec.token : NULL);
        const char *cert = cfg->cert_pem ? cfg->cert_pem : (k->have_exec ? k->exec.cert_pem : NULL);
        const char *key = cfg->cert_pem ? cfg->key_pem : (k->have_exec ? k->exec.key_pem : NULL);
        if (cfg->ca_pem) {
            struct curl_blob blob = {cfg->ca_pem, cfg->ca_len, CURL_BLOB_COPY};
            curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
        }
        if (cfg->insecure) {
            curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (cert && key) {
            struct curl_blob cb = {(void *)cert, strlen(cert), CURL_BLOB_COPY};
            struct curl_blob kb = {(void *)key, strlen(key), CURL_BLOB_COPY};
            curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
            curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &cb);
            curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
            curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &kb);
        }
        if (tok && *tok) {
            pl_buf ab = PL_BUF_INIT;
            if ((error = pl_buf_printf(&ab, "Bearer %s", tok)) == 0)
                error = add_header(r, "Authorization", ab.ptr);
            if (ab.ptr)
                pl_kube__free_secret(pl_buf_detach(&ab));
            if (error < 0)
                goto done;
        }
        if (cfg->impersonate_user &&
            (error = add_header(r, "Impersonate-User", cfg->impersonate_user)) < 0)
            goto done;
        for (char **g = cfg->impersonate_groups; g && *g; g++)
            if ((error = add_header(r, "Impersonate-Group", *g)) < 0)
                goto done;
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
    pl_buf_clear(&r->resp);
    r->resp.max = k->o.max_response;
    pl_free(r->resp_ctype);
    r->resp_ctype = NULL;
    r->retry_after = -1;
    r->wscan = 0;
    r->errbuf[0] = '\0';
    if (curl_multi_add_handle(k->multi, e) != CURLM_OK) {
        error = pl_error_set(PL_ERROR, "%s: cannot start the request", r->subject);
        goto done;
    }
    r->easy = e;
    e = NULL;
    r->cred_gen = k->cred_gen;
    k->active++;
    if (r->verb == K_WATCH)
        k->active_watch++;
    r->attempts++;
    r->started_ms = now;
done:
    if (e)
        curl_easy_cleanup(e);
    pl_buf_dispose(&url);
    return error;
}

/* Put the request back in the queue after a backoff. 0 when out of attempts or time. */
static int schedule_retry(pl_kube_req *r, long retry_after_s)
{
    pl_kube *k = r->k;
    int64_t now = pl_kube__now_ms();
    long delay;

    if (r->attempts >= k->o.max_attempts)
        return 0;
    delay = pl_kube__backoff_ms(r->attempts, k->o.backoff_base_ms, k->o.backoff_max_ms,
                                retry_after_s, k->o.retry_after_max_ms, rand01(k));
    if (now + delay >= r->deadline_ms)
        return 0;
    r->not_before_ms = now + delay;
    pending_push(k, r);
    return 1;
}

static long status_retry_after(const json_t *st, long header)
{
    json_t *v = pl_json_path(st, "details", "retryAfterSeconds", NULL);
    if (header >= 0)
        return header;
    return json_is_integer(v) ? (long)json_integer_value(v) : -1;
}

/* A list page arrived: keep its items, then fetch the next page or build the merged List. */
static int list_page(pl_kube_req *r, json_t *page)
{
    const char *cont = pl_json_str(page, "metadata", "continue", NULL);
    json_t *items = json_object_get(page, "items"), *it, *list;
    const char *rv;
    size_t i;
    pl_buf b = PL_BUF_INIT;

    if (!r->items && !(r->items = json_array()))
        return pl_error_set(PL_ENOMEM, "out of memory");
    json_array_foreach(items, i, it) {
        /* §10.4: built-in list items carry no kind/apiVersion; give them the list's */
        if (json_is_object(it)) {
            if (!json_object_get(it, "kind"))
                json_object_set_new(it, "kind", json_string(r->list_kind));
            if (!json_object_get(it, "apiVersion"))
                json_object_set_new(it, "apiVersion", json_string(r->list_api));
        }
        json_array_append(r->items, it);
    }
    if (cont && *cont) {
        if (pl_buf_printf(&b, "%s?continue=", r->list_base) < 0 ||
            pl_kube__query_escape(&b, cont) < 0 ||
            pl_buf_printf(&b, "%s%s&limit=%ld", r->list_query[0] ? "&" : "", r->list_query,
                          r->list_limit) < 0) {
            pl_buf_dispose(&b);
            return pl_error_set(PL_ENOMEM, "out of memory");
        }
        pl_free(r->path);
        r->path = pl_buf_detach(&b);
        return 1;
    }
    rv = pl_json_str(page, "metadata", "resourceVersion", NULL);
    if (pl_buf_printf(&b, "%sList", r->list_kind) < 0)
        return pl_error_set(PL_ENOMEM, "out of memory");
    list = json_pack("{s:s,s:s,s:{s:s},s:O}", "kind", b.ptr, "apiVersion", r->list_api,
                     "metadata", "resourceVersion", rv ? rv : "", "items", r->items);
    pl_buf_dispose(&b);
    if (!list)
        return pl_error_set(PL_ENOMEM, "out of memory");
    json_decref(r->res->object);
    r->res->object = list;
    return 0;
}

static int list_path(pl_kube_req *r, int first)
{
    pl_buf b = PL_BUF_INIT;
    /* parameters sorted by name, as kubectl sends them (§2): continue, ..., limit, ... */
    (void)first;
    if (pl_buf_printf(&b, "%s?%s%slimit=%ld", r->list_base, r->list_query,
                      r->list_query[0] ? "&" : "", r->list_limit) < 0) {
        pl_buf_dispose(&b);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    pl_free(r->path);
    r->path = pl_buf_detach(&b);
    return 0;
}

static void on_complete(pl_kube_req *r, CURLcode cc)
{
    pl_kube *k = r->k;
    pl_kube_result *res = r->res;
    long http = 0;
    int64_t dur = pl_kube__now_ms() - r->started_ms;
    json_t *st = NULL, *doc;

    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &http);
    if (cc == CURLE_OK && !k->http2) {
        long v = 0;
        curl_easy_getinfo(r->easy, CURLINFO_HTTP_VERSION, &v);
        k->http2 = v == CURL_HTTP_VERSION_2_0;
    }
    easy_release(r);
    res->attempts = r->attempts;

    if (r->verb == K_WATCH && r->wstopped) {
        pl_log(PL_LOG_DEBUG, "kube", "%s %s %ld %lldms (stopped)", r->method, r->path, http,
               (long long)dur);
        res->http_status = http;
        res->code = 0;
        req_finish(r);
        return;
    }
    if (cc == CURLE_WRITE_ERROR && r->resp.max && r->resp.len + 1 >= r->resp.max) {
        char msg[128];
        snprintf(msg, sizeof(msg), "response larger than %zu bytes", r->resp.max);
        res->http_status = http;
        result_fail(res, PL_ETOOBIG, r->subject, msg);
        req_finish(r);
        return;
    }
    if (cc != CURLE_OK) {
        int sent = !(cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
                     cc == CURLE_COULDNT_RESOLVE_PROXY || cc == CURLE_SSL_CONNECT_ERROR);
        int tls_fatal = cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
                        cc == CURLE_SSL_CERTPROBLEM || cc == CURLE_SSL_ISSUER_ERROR ||
                        cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
        int code = cc == CURLE_OPERATION_TIMEDOUT ? PL_ETIMEOUT : tls_fatal ? PL_ERROR : PL_EUNAVAIL;
        pl_log(PL_LOG_DEBUG, "kube", "%s %s error %lldms: %s", r->method, r->path, (long long)dur,
               r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc));
        if (!tls_fatal && r->verb != K_WATCH && (sent || r->attempts < CONNECT_ATTEMPTS) &&
            pl_kube__should_retry(r->safety, 0, sent, NULL, 0, 0) && schedule_retry(r, -1))
            return;
        if (!sent) {
            k->down_until = pl_kube__now_ms() + DOWN_MS;
            snprintf(k->down_msg, sizeof(k->down_msg), "%s",
                     r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc));
        }
        res->http_status = 0;
        result_fail(res, code, r->subject, r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc));
        req_finish(r);
        return;
    }
    pl_log(PL_LOG_DEBUG, "kube", "%s %s %ld %lldms", r->method, r->path, http, (long long)dur);
    k->down_until = 0; /* it answered */
    res->http_status = http;
    if (http >= 200 && http < 300) {
        if (r->verb == K_WATCH) {
            if (r->werror) {
                /* an ERROR event ends the stream: 410 Expired means relist (§10.2) */
                json_t *e = r->werror;
                r->werror = NULL;
                result_status(res, e, 0, r->subject);
            } else {
                res->code = 0;
            }
            req_finish(r);
            return;
        }
        if (r->discard_object && r->verb != K_LIST) {
            /* the caller needs only the outcome: decoding a whole object it would drop at
             * once is most of a write's client-side cost */
            res->created = http == 201;
            res->code = 0;
            req_finish(r);
            return;
        }
        doc = r->resp.len ? json_loadb(r->resp.ptr, r->resp.len, 0, NULL) : NULL;
        if (r->resp.len && !doc) {
            result_fail(res, PL_ERROR, r->subject, "the server returned a body that is not JSON");
            req_finish(r);
            return;
        }
        if (r->verb == K_LIST) {
            int more = list_page(r, doc);
            json_decref(doc);
            if (more > 0) {
                /* the next page is a request of its own: fresh attempts and deadline */
                r->attempts = r->attempts_500 = 0;
                r->deadline_ms = pl_kube__now_ms() + k->o.request_timeout_ms;
                r->not_before_ms = 0;
                pending_push(k, r);
                return;
            }
            res->code = more;
            if (more < 0)
                result_fail(res, more, r->subject, pl_error_last()->message);
            req_finish(r);
            return;
        }
        json_decref(res->object);
        res->object = doc;
        res->created = http == 201;
        res->code = 0;
        req_finish(r);
        return;
    }
    /* 401: fresh credentials once (exec plugin re-run, token file re-read; §11) */
    if (http == 401 && !r->auth_retried && can_refresh_creds(k)) {
        r->auth_retried = 1;
        /* refresh only when no other request has done so since this one started (client-go
         * maybeRefreshCreds): a burst of 401s runs the plugin once */
        if (r->cred_gen != k->cred_gen || ensure_creds(k, 1) == 0) {
            r->not_before_ms = 0;
            pending_push(k, r);
            return;
        }
    }
    if (pl_kube__status_decode(&st, http, r->resp_ctype, r->resp.ptr, r->resp.len,
                               r->retry_after) < 0) {
        result_fail(res, PL_ENOMEM, r->subject, "out of memory");
        req_finish(r);
        return;
    }
    if (http == 500)
        r->attempts_500++;
    if (r->verb != K_WATCH &&
        pl_kube__should_retry(r->safety, http, 1, st, r->attempts_500, k->o.max_attempts_500) &&
        schedule_retry(r, status_retry_after(st, r->retry_after))) {
        json_decref(st);
        return;
    }
    if (r->verb == K_LIST && http == 410 && r->items && r->relists < LIST_RELISTS_MAX &&
        list_path(r, 1) == 0) {
        /* §2: an expired continue token; start the list again */
        json_decref(st);
        json_decref(r->items);
        r->items = NULL;
        r->relists++;
        r->attempts = r->attempts_500 = 0;
        r->not_before_ms = 0;
        pending_push(k, r);
        return;
    }
    result_status(res, st, http, r->subject);
    req_finish(r);
}

/* ---- the drive loop ------------------------------------------------------------------------ */

static void start_ready(pl_kube *k, int64_t *wake)
{
    pl_kube_req *r = k->head, *next;
    int64_t now = pl_kube__now_ms();

    size_t h1_cap = k->o.max_in_flight < H1_MAX_IN_FLIGHT ? (size_t)k->o.max_in_flight
                                                          : H1_MAX_IN_FLIGHT;

    while (r && k->active < (size_t)k->o.max_in_flight) {
        long w;
        next = r->next;
        if (!k->http2 && r->verb != K_WATCH && k->active - k->active_watch >= h1_cap) {
            if (!k->pending_watch)
                break;
            r = next; /* a watch further back may still start */
            continue;
        }
        if (r->not_before_ms > now) {
            if (r->not_before_ms < *wake)
                *wake = r->not_before_ms;
            r = next;
            continue;
        }
        if ((w = pl_kube__bucket_take(&k->bucket, now)) > 0) {
            if (now + w < *wake)
                *wake = now + w;
            break;
        }
        pending_remove(k, r);
        if (req_start(r) < 0) {
            const pl_error *e = pl_error_last();
            result_fail(r->res, e->code, NULL, e->message);
            /* the message names the request's subject once */
            if (r->res->message && strncmp(e->message, r->subject, strlen(r->subject)) != 0) {
                pl_buf b = PL_BUF_INIT;
                if (pl_buf_printf(&b, "%s: %s", r->subject, e->message) == 0) {
                    pl_free(r->res->message);
                    r->res->message = pl_buf_detach(&b);
                }
                pl_buf_dispose(&b);
            }
            req_finish(r);
        }
        r = next;
    }
}

static void process_msgs(pl_kube *k)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(k->multi, &left))) {
        pl_kube_req *r = NULL;
        CURLcode cc;
        if (m->msg != CURLMSG_DONE)
            continue;
        cc = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        if (r)
            on_complete(r, cc);
    }
}

/* Run transfers for at most wait_ms; returns early once *counter is 0. */
static void drive(pl_kube *k, int wait_ms, const size_t *counter)
{
    int64_t now = pl_kube__now_ms(), wake = now + wait_ms;
    int running = 0, nfd = 0;
    long timeout;

    start_ready(k, &wake);
    curl_multi_perform(k->multi, &running);
    process_msgs(k);
    start_ready(k, &wake);
    if (counter && *counter == 0)
        return;
    now = pl_kube__now_ms();
    timeout = (long)(wake - now);
    if (timeout > wait_ms)
        timeout = wait_ms;
    if (timeout > 0 && (k->active > 0 || k->head))
        curl_multi_poll(k->multi, NULL, 0, (int)timeout, &nfd);
    curl_multi_perform(k->multi, &running);
    process_msgs(k);
}

int pl_kube__can_block(const pl_kube *k)
{
    return k->in_curl_cb == 0;
}

int pl_kube__wait_counter(pl_kube *k, size_t *counter)
{
    if (k->in_curl_cb && *counter)
        return pl_error_set(PL_ERROR, "kube: cannot wait for requests inside a watch callback");
    while (*counter > 0)
        drive(k, 1000, counter);
    return 0;
}

/* ---- building requests --------------------------------------------------------------------- */

static pl_kube_req *req_new(pl_kube *k, kverb verb, const char *method, pl_kube_safety safety)
{
    pl_kube_req *r = pl_calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    r->k = k;
    r->verb = verb;
    r->method = method;
    r->safety = safety;
    r->res = &r->own;
    r->retry_after = -1;
    r->deadline_ms = pl_kube__now_ms() + k->o.request_timeout_ms;
    return r;
}

int pl_kube__submit_get(pl_kube *k, const char *path, const char *accept, const char *what,
                        pl_kube_req_done done, void *ctx)
{
    pl_kube_req *r = req_new(k, K_RAW, "GET", PL_KUBE_IDEMPOTENT);

    if (!r || !(r->path = pl_strdup(path)) || !(r->subject = pl_strdup(what ? what : path))) {
        req_free(r);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    r->accept = accept;
    r->done = done;
    r->done_ctx = ctx;
    pending_push(k, r);
    return 0;
}

pl_kube_result *pl_kube__req_result(pl_kube_req *r)
{
    return r->res;
}

const char *pl_kube__req_ctype(pl_kube_req *r)
{
    return r->resp_ctype;
}

/* ---- batches ---------------------------------------------------------------------------------- */

int pl_kube_batch_new(pl_kube_batch **out, pl_kube *k)
{
    pl_kube_batch *b;

    *out = NULL;
    if (!k)
        return pl_error_set(PL_EINVALID, "kube: no client");
    if (!(b = pl_calloc(1, sizeof(*b))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    b->k = k;
    *out = b;
    return 0;
}

void pl_kube_batch_free(pl_kube_batch *b)
{
    size_t i;

    if (!b)
        return;
    for (i = 0; i < b->n; i++) {
        batch_op *op = b->ops[i];
        if (op->req) {
            if (!op->req->easy)
                pending_remove(b->k, op->req);
            req_free(op->req);
        }
        pl_kube_result_dispose(&op->res);
        pl_free(op);
    }
    pl_free(b->ops);
    pl_free(b);
}

void pl_kube_batch_on_done(pl_kube_batch *b, pl_kube_done_cb cb, void *payload)
{
    b->cb = cb;
    b->cb_payload = payload;
}

size_t pl_kube_batch_count(const pl_kube_batch *b)
{
    return b ? b->n : 0;
}

pl_kube_result *pl_kube_batch_result(pl_kube_batch *b, size_t i)
{
    return b && i < b->n ? &b->ops[i]->res : NULL;
}

int pl_kube_batch_done(const pl_kube_batch *b, size_t i)
{
    return b && i < b->n ? b->ops[i]->done : 0;
}

int pl_kube_batch_run(pl_kube_batch *b)
{
    return pl_kube__wait_counter(b->k, &b->pending);
}

int pl_kube_batch_step(pl_kube_batch *b, int wait_ms)
{
    if (b->pending > 0 && !b->k->in_curl_cb)
        drive(b->k, wait_ms < 0 ? 0 : wait_ms, &b->pending);
    return b->pending == 0;
}

int pl_kube_wait(pl_kube *k, int wait_ms)
{
    if (wait_ms < 0)
        wait_ms = 0;
    if (k->in_curl_cb)
        return 0;
    if (k->active > 0 || k->head) {
        /* returns as soon as a socket is ready: a reply is processed when it arrives, not
         * when a fixed sleep ends */
        drive(k, wait_ms, NULL);
    } else if (wait_ms > 0) {
        struct timespec ts = {wait_ms / 1000, (long)(wait_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* A new slot; returns its index or a negative code. */
static int batch_slot(pl_kube_batch *b, void *payload)
{
    batch_op *op;

    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        batch_op **v = pl_realloc(b->ops, cap * sizeof(*v));
        if (!v)
            return pl_error_set(PL_ENOMEM, "out of memory");
        b->ops = v;
        b->cap = cap;
    }
    if (!(op = pl_calloc(1, sizeof(*op))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    op->res.payload = payload;
    b->ops[b->n] = op;
    return (int)b->n++;
}

/* Finish slot `i` before any request existed (mapping or argument problems). */
static int slot_fail(pl_kube_batch *b, int i, int code, const char *subject, const char *msg,
                     const char *reason)
{
    batch_op *op = b->ops[i];

    result_fail(&op->res, code, subject, msg);
    if (reason)
        snprintf(op->res.reason, sizeof(op->res.reason), "%s", reason);
    op->done = 1;
    if (b->cb)
        b->cb(b, (size_t)i, &op->res, b->cb_payload);
    return i;
}

static void slot_submit(pl_kube_batch *b, int i, pl_kube_req *r)
{
    batch_op *op = b->ops[i];

    r->batch = b;
    r->index = (size_t)i;
    r->res = &op->res;
    op->req = r;
    b->pending++;
    pending_push(b->k, r);
}

/* Where an object or key lives: mapping, effective namespace, item path, subject. */
typedef struct target {
    char group[256], version[64];
    const char *kind, *name, *ns;
    pl_kube_mapping map;
    pl_buf path, subject;
} target;

static void target_dispose(target *t)
{
    pl_buf_dispose(&t->path);
    pl_buf_dispose(&t->subject);
}

static void split_api_version(target *t, const char *api)
{
    const char *slash = api ? strchr(api, '/') : NULL;

    if (!api)
        api = "";
    if (slash) {
        snprintf(t->group, sizeof(t->group), "%.*s", (int)(slash - api), api);
        snprintf(t->version, sizeof(t->version), "%s", slash + 1);
    } else {
        t->group[0] = '\0';
        snprintf(t->version, sizeof(t->version), "%s", api);
    }
}

/*
 * Resolve a target. On failure the slot is finished with the error and the (non-negative)
 * slot index is returned through *done_index; 0 means go on.
 */
static int target_resolve(target *t, pl_kube_batch *b, int slot, int item, const char *what)
{
    pl_kube *k = b->k;
    int error;

    if (!t->kind || !*t->kind || !t->version[0]) {
        pl_kube__subject(&t->subject, t->group, t->kind, t->ns, t->name);
        slot_fail(b, slot, PL_EINVALID, t->subject.ptr, "apiVersion and kind are required", NULL);
        return -1;
    }
    if ((error = pl_kube_mapping_get(&t->map, k, t->group, t->version, t->kind)) < 0) {
        const pl_error *e = pl_error_last();
        pl_kube__subject(&t->subject, t->group, t->kind, t->ns, t->name);
        slot_fail(b, slot, error, t->subject.ptr, e->message,
                  error == PL_ENOTFOUND ? "NoKindMatch" : NULL);
        return -1;
    }
    if (t->map.namespaced) {
        if (!t->ns || !*t->ns)
            t->ns = item ? pl_kube_config_namespace(k->cfg) : "";
    } else {
        t->ns = "";
    }
    pl_kube__subject(&t->subject, t->group, t->kind, t->ns, t->name);
    if (item && (!t->name || !*t->name)) {
        slot_fail(b, slot, PL_EINVALID, t->subject.ptr, "metadata.name is required", NULL);
        return -1;
    }
    (void)what;
    if (pl_kube__resource_path(&t->path, t->group, t->version, t->map.resource, t->ns,
                               item ? t->name : NULL, NULL) < 0) {
        slot_fail(b, slot, PL_ENOMEM, t->subject.ptr, "out of memory", NULL);
        return -1;
    }
    return 0;
}

static void target_from_obj(target *t, const json_t *obj)
{
    memset(t, 0, sizeof(*t));
    split_api_version(t, pl_json_str(obj, "apiVersion", NULL));
    t->kind = pl_json_str(obj, "kind", NULL);
    t->name = pl_json_str(obj, "metadata", "name", NULL);
    t->ns = pl_json_str(obj, "metadata", "namespace", NULL);
}

static void target_from_key(target *t, const pl_objkey *key)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->group, sizeof(t->group), "%s", key->group ? key->group : "");
    snprintf(t->version, sizeof(t->version), "%s", key->version ? key->version : "");
    t->kind = key->kind;
    t->name = key->name;
    t->ns = key->ns;
}

/* Query for writes: dryRun, fieldManager, fieldValidation (sorted, §2). */
static int write_query(pl_buf *q, int dry_run, const char *manager, const char *validation)
{
    int error = 0;
    char sep = '?';

    if (dry_run) {
        error = pl_buf_puts(q, "?dryRun=All");
        sep = '&';
    }
    if (error == 0 && manager && *manager) {
        if ((error = pl_buf_printf(q, "%cfieldManager=", sep)) == 0)
            error = pl_kube__query_escape(q, manager);
        sep = '&';
    }
    if (error == 0 && validation && *validation) {
        if ((error = pl_buf_printf(q, "%cfieldValidation=", sep)) == 0)
            error = pl_kube__query_escape(q, validation);
    }
    return error;
}

static char *dump_body(const json_t *obj, size_t *len)
{
    /* compact JSON with a newline like kubectl (§2). Keys keep the object's own order (Go's
     * encoder sorts them, but no server cares); pl_json_write is json_dumps' text without its
     * costly loop check */
    pl_buf b = PL_BUF_INIT;

    if (!json_is_object(obj) && !json_is_array(obj))
        return NULL; /* as json_dumps without JSON_ENCODE_ANY */
    if (pl_buf_grow(&b, 2048) < 0 || pl_json_write(&b, obj) < 0 || pl_buf_putc(&b, '\n') < 0) {
        pl_buf_dispose(&b);
        return NULL;
    }
    *len = b.len;
    return pl_buf_detach(&b);
}

/* Shared tail of the object-carrying writes. */
static int add_object_write(pl_kube_batch *b, const json_t *obj, kverb verb, const char *method,
                            pl_kube_safety safety, const char *ctype, pl_buf *query, int item,
                            int strip_rv, int discard_object, void *payload)
{
    target t;
    int slot, error;
    pl_kube_req *r = NULL;
    json_t *body = NULL;

    if (!b || !json_is_object(obj))
        return pl_error_set(PL_EINVALID, "kube: an object is required");
    if ((slot = batch_slot(b, payload)) < 0)
        return slot;
    target_from_obj(&t, obj);
    if (target_resolve(&t, b, slot, 1, method) < 0) {
        target_dispose(&t);
        return slot;
    }
    if (!item) { /* POST goes to the collection */
        pl_buf_clear(&t.path);
        if (pl_kube__resource_path(&t.path, t.group, t.version, t.map.resource, t.ns, NULL,
                                   NULL) < 0)
            goto nomem;
    }
    /* the body names the namespace the URL uses (kubectl sets it the same way, §3.2); a copy
     * only when the body must differ from the caller's object */
    int add_ns = t.map.namespaced && !pl_json_str(obj, "metadata", "namespace", NULL);
    int drop_rv = strip_rv && pl_json_path(obj, "metadata", "resourceVersion", NULL);
    if (!(body = add_ns || drop_rv ? json_deep_copy(obj) : json_incref((json_t *)obj)))
        goto nomem;
    if (add_ns) {
        json_t *md = pl_json_mkpath(body, "metadata", NULL);
        if (!md)
            goto nomem;
        json_object_set_new(md, "namespace", json_string(t.ns));
    }
    if (drop_rv) { /* §5.1: a POST with a resourceVersion is rejected */
        json_t *md = json_object_get(body, "metadata");
        if (json_is_object(md))
            json_object_del(md, "resourceVersion");
    }
    if (!(r = req_new(b->k, verb, method, safety)))
        goto nomem;
    r->ctype = ctype;
    r->discard_object = discard_object;
    if (!(r->body = dump_body(body, &r->body_len)) || pl_buf_puts(&t.path, query->ptr ? query->ptr : "") < 0 ||
        !(r->subject = pl_strdup(t.subject.ptr)))
        goto nomem;
    r->path = pl_buf_detach(&t.path);
    slot_submit(b, slot, r);
    r = NULL;
    error = slot;
    goto done;
nomem:
    error = slot_fail(b, slot, PL_ENOMEM, t.subject.ptr, "out of memory", NULL);
done:
    req_free(r);
    json_decref(body);
    target_dispose(&t);
    return error;
}

int pl_kube_batch_apply(pl_kube_batch *b, const json_t *obj, const pl_kube_apply_opts *o,
                        void *payload)
{
    pl_kube_apply_opts d = PL_KUBE_APPLY_OPTS_INIT;
    pl_buf q = PL_BUF_INIT;
    int error;

    if (!o)
        o = &d;
    /* §4.1 + kubectl's order: dryRun, fieldManager, fieldValidation, force */
    if ((error = write_query(&q, o->dry_run, o->field_manager ? o->field_manager : "plumb",
                             o->field_validation)) < 0 ||
        (error = pl_buf_printf(&q, "&force=%s", o->force ? "true" : "false")) < 0) {
        pl_buf_dispose(&q);
        return error;
    }
    error = add_object_write(b, obj, K_APPLY, "PATCH", PL_KUBE_IDEMPOTENT,
                             "application/apply-patch+yaml", &q, 1, 0, o->discard_object, payload);
    pl_buf_dispose(&q);
    return error;
}

/* create (POST to the collection) and update (PUT to the object): the same query */
static int add_plain_write(pl_kube_batch *b, const json_t *obj, const pl_kube_write_opts *o,
                           kverb verb, const char *method, int item, int strip_rv,
                           void *payload)
{
    pl_kube_write_opts d = PL_KUBE_WRITE_OPTS_INIT;
    pl_buf q = PL_BUF_INIT;
    int error;

    if (!o)
        o = &d;
    if ((error = write_query(&q, o->dry_run, o->field_manager, o->field_validation)) == 0)
        error = add_object_write(b, obj, verb, method, PL_KUBE_UNSAFE, ACCEPT_JSON, &q, item,
                                 strip_rv, 0, payload);
    pl_buf_dispose(&q);
    return error;
}

int pl_kube_batch_create(pl_kube_batch *b, const json_t *obj, const pl_kube_write_opts *o,
                         void *payload)
{
    return add_plain_write(b, obj, o, K_CREATE, "POST", 0, 1, payload);
}

int pl_kube_batch_update(pl_kube_batch *b, const json_t *obj, const pl_kube_write_opts *o,
                         void *payload)
{
    return add_plain_write(b, obj, o, K_UPDATE, "PUT", 1, 0, payload);
}

/* Shared tail of key-addressed requests (get, delete, patch, list, watch). */
static int add_key_request(pl_kube_batch *b, const pl_objkey *key, kverb verb, const char *method,
                           pl_kube_safety safety, int item, const char *query, char *body,
                           size_t body_len, const char *ctype, void *payload, pl_kube_req **out)
{
    target t;
    int slot;
    pl_kube_req *r = NULL;

    if (out)
        *out = NULL;
    if (!b || !key) {
        pl_kube__free_secret(body);
        return pl_error_set(PL_EINVALID, "kube: a key is required");
    }
    if ((slot = batch_slot(b, payload)) < 0) {
        pl_kube__free_secret(body);
        return slot;
    }
    target_from_key(&t, key);
    if (target_resolve(&t, b, slot, item, method) < 0) {
        pl_kube__free_secret(body);
        target_dispose(&t);
        return slot;
    }
    if (!(r = req_new(b->k, verb, method, safety)) || !(r->subject = pl_strdup(t.subject.ptr)) ||
        pl_buf_puts(&t.path, query ? query : "") < 0) {
        req_free(r);
        pl_kube__free_secret(body);
        slot_fail(b, slot, PL_ENOMEM, t.subject.ptr, "out of memory", NULL);
        target_dispose(&t);
        return slot;
    }
    r->body = body;
    r->body_len = body_len;
    r->ctype = ctype;
    if (verb == K_LIST) {
        /* the collection without the query, for the continue pages */
        r->list_base = pl_strndup(t.path.ptr, t.path.len - (query ? strlen(query) : 0));
        r->list_kind = pl_strdup(t.kind);
        if (t.group[0]) {
            pl_buf api = PL_BUF_INIT;
            if (pl_buf_printf(&api, "%s/%s", t.group, t.version) == 0)
                r->list_api = pl_buf_detach(&api);
            pl_buf_dispose(&api);
        } else {
            r->list_api = pl_strdup(t.version);
        }
        if (!r->list_base || !r->list_kind || !r->list_api) {
            req_free(r);
            slot_fail(b, slot, PL_ENOMEM, t.subject.ptr, "out of memory", NULL);
            target_dispose(&t);
            return slot;
        }
    }
    r->path = pl_buf_detach(&t.path);
    slot_submit(b, slot, r);
    if (out)
        *out = r;
    target_dispose(&t);
    return slot;
}

int pl_kube_batch_get(pl_kube_batch *b, const pl_objkey *key, void *payload)
{
    return add_key_request(b, key, K_GET, "GET", PL_KUBE_IDEMPOTENT, 1, NULL, NULL, 0, NULL,
                           payload, NULL);
}

static int add_param(pl_buf *q, const char *name, const char *value)
{
    int error;

    if (!value || !*value)
        return 0;
    if ((error = pl_buf_printf(q, "%s%s=", q->len ? "&" : "", name)) < 0)
        return error;
    return pl_kube__query_escape(q, value);
}

int pl_kube_batch_list(pl_kube_batch *b, const pl_objkey *key, const pl_kube_list_opts *o,
                       void *payload)
{
    pl_kube_list_opts d = PL_KUBE_LIST_OPTS_INIT;
    pl_buf q = PL_BUF_INIT, full = PL_BUF_INIT;
    pl_kube_req *r = NULL;
    int slot, error;

    if (!o)
        o = &d;
    /* sorted: fieldSelector, labelSelector, limit, resourceVersion (continue comes first) */
    if ((error = add_param(&q, "fieldSelector", o->field_selector)) < 0 ||
        (error = add_param(&q, "labelSelector", o->label_selector)) < 0)
        goto done;
    if ((error = pl_buf_printf(&full, "?%s%slimit=%ld", q.ptr ? q.ptr : "", q.len ? "&" : "",
                               o->limit > 0 ? o->limit : 500)) < 0)
        goto done;
    if (o->resource_version && *o->resource_version) {
        if ((error = pl_buf_puts(&full, "&resourceVersion=")) < 0 ||
            (error = pl_kube__query_escape(&full, o->resource_version)) < 0)
            goto done;
    }
    slot = add_key_request(b, key, K_LIST, "GET", PL_KUBE_IDEMPOTENT, 0, full.ptr, NULL, 0, NULL,
                           payload, &r);
    if (r) {
        /* list_query holds the selectors (+ resourceVersion) for the continue pages */
        pl_buf lq = PL_BUF_INIT;
        pl_buf_puts(&lq, q.ptr ? q.ptr : "");
        if (o->resource_version && *o->resource_version) {
            pl_buf_puts(&lq, lq.len ? "&resourceVersion=" : "resourceVersion=");
            pl_kube__query_escape(&lq, o->resource_version);
        }
        r->list_query = lq.ptr ? pl_buf_detach(&lq) : pl_strdup("");
        r->list_limit = o->limit > 0 ? o->limit : 500;
        pl_buf_dispose(&lq);
    }
    error = slot;
done:
    pl_buf_dispose(&q);
    pl_buf_dispose(&full);
    return error;
}

int pl_kube_batch_delete(pl_kube_batch *b, const pl_objkey *key, const pl_kube_delete_opts *o,
                         void *payload)
{
    pl_kube_delete_opts d = PL_KUBE_DELETE_OPTS_INIT;
    json_t *opts;
    char *body;
    size_t len = 0;

    if (!o)
        o = &d;
    /* §5.4: always an explicit policy (Jobs default to Orphan otherwise) */
    opts = json_pack("{s:s}", "propagationPolicy", o->propagation ? o->propagation : "Background");
    if (!opts)
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (o->grace_period_seconds >= 0)
        json_object_set_new(opts, "gracePeriodSeconds", json_integer(o->grace_period_seconds));
    if (o->precondition_uid || o->precondition_rv) {
        json_t *pc = json_object();
        if (o->precondition_uid)
            json_object_set_new(pc, "uid", json_string(o->precondition_uid));
        if (o->precondition_rv)
            json_object_set_new(pc, "resourceVersion", json_string(o->precondition_rv));
        json_object_set_new(opts, "preconditions", pc);
    }
    body = dump_body(opts, &len);
    json_decref(opts);
    if (!body)
        return pl_error_set(PL_ENOMEM, "out of memory");
    return add_key_request(b, key, K_DELETE, "DELETE", PL_KUBE_IDEMPOTENT, 1,
                           o->dry_run ? "?dryRun=All" : NULL, body, len, ACCEPT_JSON, payload,
                           NULL);
}

int pl_kube_batch_patch(pl_kube_batch *b, const pl_objkey *key, pl_kube_patch_type type,
                        const json_t *patch, const pl_kube_write_opts *o, void *payload)
{
    pl_kube_write_opts d = PL_KUBE_WRITE_OPTS_INIT;
    pl_buf q = PL_BUF_INIT;
    const char *ctype = type == PL_KUBE_PATCH_JSON        ? "application/json-patch+json"
                        : type == PL_KUBE_PATCH_STRATEGIC ? "application/strategic-merge-patch+json"
                                                          : "application/merge-patch+json";
    char *body;
    size_t len = 0;
    int error;

    if (!o)
        o = &d;
    if (!patch)
        return pl_error_set(PL_EINVALID, "kube: a patch is required");
    if ((error = write_query(&q, o->dry_run, o->field_manager, o->field_validation)) < 0) {
        pl_buf_dispose(&q);
        return error;
    }
    if (!(body = dump_body(patch, &len))) {
        pl_buf_dispose(&q);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    error = add_key_request(b, key, K_PATCH, "PATCH",
                            type == PL_KUBE_PATCH_JSON ? PL_KUBE_UNSAFE : PL_KUBE_IDEMPOTENT, 1,
                            q.ptr, body, len, ctype, payload, NULL);
    pl_buf_dispose(&q);
    return error;
}

int pl_kube_batch_watch(pl_kube_batch *b, const pl_objkey *key, const pl_kube_watch_opts *o,
                        pl_kube_watch_cb cb, void *payload)
{
    pl_kube_watch_opts d = PL_KUBE_WATCH_OPTS_INIT;
    pl_buf q = PL_BUF_INIT, full = PL_BUF_INIT;
    pl_kube_req *r = NULL;
    char ts[32];
    int slot, error;

    if (!o)
        o = &d;
    /* §10.1 with kubectl's sorted order */
    if (o->bookmarks && (error = add_param(&q, "allowWatchBookmarks", "true")) < 0)
        goto done;
    if ((error = add_param(&q, "fieldSelector", o->field_selector)) < 0 ||
        (error = add_param(&q, "labelSelector", o->label_selector)) < 0 ||
        (error = add_param(&q, "resourceVersion", o->resource_version)) < 0)
        goto done;
    if (o->timeout_seconds > 0) {
        snprintf(ts, sizeof(ts), "%d", o->timeout_seconds);
        if ((error = add_param(&q, "timeoutSeconds", ts)) < 0)
            goto done;
    }
    if ((error = add_param(&q, "watch", "true")) < 0 ||
        (error = pl_buf_printf(&full, "?%s", q.ptr)) < 0)
        goto done;
    slot = add_key_request(b, key, K_WATCH, "GET", PL_KUBE_IDEMPOTENT, 0, full.ptr, NULL, 0, NULL,
                           payload, &r);
    if (r) {
        r->wcb = cb;
        r->wpayload = payload;
        r->deadline_ms = INT64_MAX / 2;
    }
    error = slot;
done:
    pl_buf_dispose(&q);
    pl_buf_dispose(&full);
    return error;
}

/* ---- single requests ------------------------------------------------------------------------ */

static int take_one(pl_kube_result *out, pl_kube_batch *b, int slot)
{
    int error = slot;

    memset(out, 0, sizeof(*out));
    if (slot >= 0) {
        pl_kube_batch_run(b);
        *out = b->ops[slot]->res;
        memset(&b->ops[slot]->res, 0, sizeof(b->ops[slot]->res));
        error = out->code;
    } else {
        out->code = error;
        out->message = pl_strdup(pl_error_last()->message);
    }
    pl_kube_batch_free(b);
    if (error < 0 && out->message)
        pl_error_set(error, "%s", out->message);
    return error;
}

#define ONE(call)                                                                                 \
    do {                                                                                          \
        pl_kube_batch *b = NULL;                                                                  \
        int e_;                                                                                   \
        memset(out, 0, sizeof(*out));                                                             \
        if ((e_ = pl_kube_batch_new(&b, k)) < 0) {                                                \
            out->code = e_;                                                                       \
            return e_;                                                                            \
        }                                                                                         \
        return take_one(out, b, (call));                                                          \
    } while (0)

int pl_kube_apply(pl_kube_result *out, pl_kube *k, const json_t *obj, const pl_kube_apply_opts *o)
{
    ONE(pl_kube_batch_apply(b, obj, o, NULL));
}

int pl_kube_get(pl_kube_result *out, pl_kube *k, const pl_objkey *key)
{
    ONE(pl_kube_batch_get(b, key, NULL));
}

int pl_kube_list(pl_kube_result *out, pl_kube *k, const pl_objkey *key, const pl_kube_list_opts *o)
{
    ONE(pl_kube_batch_list(b, key, o, NULL));
}

int pl_kube_delete(pl_kube_result *out, pl_kube *k, const pl_objkey *key,
                   const pl_kube_delete_opts *o)
{
    ONE(pl_kube_batch_delete(b, key, o, NULL));
}

int pl_kube_create(pl_kube_result *out, pl_kube *k, const json_t *obj, const pl_kube_write_opts *o)
{
    ONE(pl_kube_batch_create(b, obj, o, NULL));
}

int pl_kube_update(pl_kube_result *out, pl_kube *k, const json_t *obj, const pl_kube_write_opts *o)
{
    ONE(pl_kube_batch_update(b, obj, o, NULL));
}

int pl_kube_patch(pl_kube_result *out, pl_kube *k, const pl_objkey *key, pl_kube_patch_type type,
                  const json_t *patch, const pl_kube_write_opts *o)
{
    ONE(pl_kube_batch_patch(b, key, type, patch, o, NULL));
}

int pl_kube_watch(pl_kube_result *out, pl_kube *k, const pl_objkey *key,
                  const pl_kube_watch_opts *o, pl_kube_watch_cb cb, void *payload)
{
    ONE(pl_kube_batch_watch(b, key, o, cb, payload));
}

typedef struct path_ctx {
    size_t pending;
    pl_kube_result *out;
} path_ctx;

static void path_done(pl_kube_req *r, void *ctx)
{
    path_ctx *c = ctx;
    *c->out = r->own;
    memset(&r->own, 0, sizeof(r->own));
    c->pending--;
}

int pl_kube_get_path(pl_kube_result *out, pl_kube *k, const char *path, const char *what)
{
    path_ctx c = {1, out};
    int error;

    memset(out, 0, sizeof(*out));
    if ((error = pl_kube__submit_get(k, path, ACCEPT_JSON, what, path_done, &c)) < 0)
        return error;
    if ((error = pl_kube__wait_counter(k, &c.pending)) < 0)
        return error;
    if (out->code < 0 && out->message)
        pl_error_set(out->code, "%s", out->message);
    return out->code;
}
