/*
 * sb_http.c - the sandbox's transport: libmicrohttpd over TLS (GnuTLS inside MHD, keys from
 * sb_tls.c), one thread per connection (watch streams block in their reader), request
 * building, authentication (bearer token or a client certificate issued by the sandbox CA,
 * API-NOTES §11), the 3 MiB body limit (API-NOTES §0), fault injection, the request log,
 * response headers as a real server sends them, and dispatch to the control endpoint or
 * sb_api_handle.
 */
#define _GNU_SOURCE /* POLLRDHUP */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "sb_transport.h"

#define BODY_LIMIT 3145728 /* API-NOTES §0 */
#define RING_SIZE 10000
#define STREAM_WAIT_MS 200

typedef struct log_entry {
    char *method, *path, *query, *time;
    int status;
    double duration_ms;
} log_entry;

typedef struct http_state {
    struct MHD_Daemon *daemon;
    sb_tls tls;
    FILE *log;
    log_entry *ring; /* guarded by srv->lock */
    size_t ring_head, ring_count;
    atomic_int stopping;
    sb_server *srv;
} http_state;

typedef struct conn_ctx {
    sb_server *srv;
    char *raw_target;
    pl_buf body;
    int phase;    /* 0 = headers seen, 1 = receiving body */
    int too_big;
    int authed;
    char *user;   /* authenticated user (owned) */
    struct timespec start;
} conn_ctx;

/* ---- request building (sb_transport.h) ------------------------------------------------------ */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..len) (and '+' -> ' ' when plus) into an owned string. Invalid escapes
 * are kept literally (Go's url.ParseQuery rejects them; the sandbox is lenient). */
static char *decode(const char *s, size_t len, int plus)
{
    char *out = pl_malloc(len + 1);
    if (out == NULL)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[j++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else if (plus && s[i] == '+') {
            out[j++] = ' ';
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = '\0';
    return out;
}

static char *dup_or_null(const char *s)
{
    return s ? pl_strdup(s) : NULL;
}

int sb_req_build(sb_req_owned *r, const char *method, const char *raw_target,
                 const char *content_type, const char *accept, const char *user_agent,
                 const char *body, size_t body_len)
{
    int rc = 0;
    memset(r, 0, sizeof(*r));
    if (method == NULL || raw_target == NULL || raw_target[0] != '/')
        return pl_error_set(PL_EINVALID, "malformed request target");
    const char *q = strchr(raw_target, '?');
    size_t plen = q ? (size_t)(q - raw_target) : strlen(raw_target);
    r->method = pl_strdup(method);
    r->raw_target = pl_strdup(raw_target);
    r->path = decode(raw_target, plen, 0);
    r->content_type = dup_or_null(content_type);
    r->accept = dup_or_null(accept);
    r->user_agent = dup_or_null(user_agent);
    if (body != NULL) {
        r->body = pl_malloc(body_len + 1);
        if (r->body != NULL) {
            memcpy(r->body, body, body_len);
            r->body[body_len] = '\0';
        }
    }
    if (!r->method || !r->raw_target || !r->path || (content_type && !r->content_type) ||
        (accept && !r->accept) || (user_agent && !r->user_agent) || (body && !r->body)) {
        rc = pl_error_set(PL_ENOMEM, "out of memory building request");
        goto done;
    }
    if (q != NULL) {
        size_t cap = 1;
        for (const char *p = q + 1; *p; p++)
            cap += (*p == '&');
        r->req.args = pl_calloc(cap, sizeof(sb_query_arg));
        if (r->req.args == NULL) {
            rc = pl_error_set(PL_ENOMEM, "out of memory building request");
            goto done;
        }
        const char *p = q + 1;
        while (1) {
            const char *amp = strchr(p, '&');
            size_t len = amp ? (size_t)(amp - p) : strlen(p);
            if (len > 0) {
                const char *eq = memchr(p, '=', len);
                size_t klen = eq ? (size_t)(eq - p) : len;
                sb_query_arg *a = &r->req.args[r->req.nargs];
                a->key = decode(p, klen, 1);
                a->value = eq ? decode(eq + 1, len - klen - 1, 1) : pl_strdup("");
                r->req.nargs++;
                if (a->key == NULL || a->value == NULL) {
                    rc = pl_error_set(PL_ENOMEM, "out of memory building request");
                    goto done;
                }
            }
            if (amp == NULL)
                break;
            p = amp + 1;
        }
    }
    r->req.method = r->method;
    r->req.path = r->path;
    r->req.raw_target = r->raw_target;
    r->req.content_type = r->content_type;
    r->req.accept = r->accept;
    r->req.user_agent = r->user_agent;
    r->req.body = r->body;
    r->req.body_len = body ? body_len : 0;
done:
    if (rc != 0)
        sb_req_dispose(r);
    return rc;
}

void sb_req_dispose(sb_req_owned *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->req.nargs; i++) {
        pl_free(r->req.args[i].key);
        pl_free(r->req.args[i].value);
    }
    pl_free(r->req.args);
    pl_free(r->method);
    pl_free(r->path);
    pl_free(r->raw_target);
    pl_free(r->content_type);
    pl_free(r->accept);
    pl_free(r->user_agent);
    pl_free(r->body);
    pl_free(r->user);
    memset(r, 0, sizeof(*r));
}

/* ---- small utilities ------------------------------------------------------------------------ */

static _Thread_local uint64_t rng_state;

static uint64_t rng_next(void)
{
    if (rng_state == 0) {
        if (RAND_bytes((unsigned char *)&rng_state, sizeof(rng_state)) != 1 || rng_state == 0)
            rng_state = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&rng_state;
    }
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static double rng_unit(void)
{
    return (double)(rng_next() >> 11) / 9007199254740992.0;
}

static void uuid4(char out[37])
{
    unsigned char b[16];
    uint64_t a = rng_next(), c = rng_next();
    memcpy(b, &a, 8);
    memcpy(b + 8, &c, 8);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1000.0 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int is_control_path(const char *path)
{
    return strncmp(path, "/_plumb/", 8) == 0 || strcmp(path, "/_plumb") == 0;
}

/* Paths a real server lets anonymous clients read (system:public-info-viewer). */
static int is_public_path(const char *path)
{
    return strcmp(path, "/version") == 0 || strcmp(path, "/healthz") == 0 ||
           strcmp(path, "/livez") == 0 || strcmp(path, "/readyz") == 0;
}

/* ---- request log ----------------------------------------------------------------------------- */

static void log_entry_free(log_entry *e)
{
    pl_free(e->method);
    pl_free(e->path);
    pl_free(e->query);
    pl_free(e->time);
    memset(e, 0, sizeof(*e));
}

static void log_request(http_state *h, const char *method, const char *raw_target, int status,
                        double dur_ms, const char *ua)
{
    sb_server *srv = h->srv;
    struct timespec now;
    struct tm tm;
    char ts[40];
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", now.tv_nsec / 1000000L);

    const char *q = strchr(raw_target, '?');
    size_t plen = q ? (size_t)(q - raw_target) : strlen(raw_target);
    log_entry e = {0};
    e.method = pl_strdup(method);
    e.path = decode(raw_target, plen, 0);
    e.query = pl_strdup(q ? q + 1 : "");
    e.time = pl_strdup(ts);
    e.status = status;
    e.duration_ms = dur_ms;

    pthread_mutex_lock(&srv->lock);
    if (h->ring != NULL && e.method && e.path && e.query && e.time) {
        size_t slot = (h->ring_head + h->ring_count) % RING_SIZE;
        if (h->ring_count == RING_SIZE) {
            log_entry_free(&h->ring[h->ring_head]);
            h->ring_head = (h->ring_head + 1) % RING_SIZE;
            slot = (h->ring_head + h->ring_count - 1) % RING_SIZE;
        } else {
            h->ring_count++;
        }
        h->ring[slot] = e;
        memset(&e, 0, sizeof(e));
    }
    if (h->log != NULL) {
        /* METHOD PATH[?QUERY] STATUS DURATION_MS TIME USER-AGENT (first three fields fixed) */
        fprintf(h->log, "%s %s %d %.3f %s %s\n", method, raw_target, status, dur_ms, ts,
                ua ? ua : "-");
        fflush(h->log);
    }
    pthread_mutex_unlock(&srv->lock);
    log_entry_free(&e);
}

json_t *sb_http_request_log(sb_server *srv)
{
    json_t *arr = json_array();
    http_state *h = srv->http;
    if (h == NULL)
        return arr;
    pthread_mutex_lock(&srv->lock);
    for (size_t i = 0; i < h->ring_count; i++) {
        const log_entry *e = &h->ring[(h->ring_head + i) % RING_SIZE];
        json_t *o = json_object();
        json_object_set_new(o, "method", json_string(e->method));
        json_object_set_new(o, "path", json_string(e->path));
        json_object_set_new(o, "query", json_string(e->query));
        json_object_set_new(o, "status", json_integer(e->status));
        json_object_set_new(o, "time", json_string(e->time));
        json_object_set_new(o, "duration_ms", json_real(e->duration_ms));
        json_array_append_new(arr, o);
    }
    pthread_mutex_unlock(&srv->lock);
    return arr;
}

void sb_http_request_log_clear(sb_server *srv)
{
    http_state *h = srv->http;
    if (h == NULL)
        return;
    pthread_mutex_lock(&srv->lock);
    for (size_t i = 0; i < h->ring_count; i++)
        log_entry_free(&h->ring[(h->ring_head + i) % RING_SIZE]);
    h->ring_head = h->ring_count = 0;
    pthread_mutex_unlock(&srv->lock);
}

/* ---- streaming bodies ------------------------------------------------------------------------ */

typedef struct stream_ctx {
    sb_stream *s;
    http_state *h;
    pl_buf pend;
    size_t off;
    int done;
    int fd;
} stream_ctx;

static int peer_gone(int fd)
{
    if (fd < 0)
        return 0;
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    if (poll(&p, 1, 0) <= 0)
        return 0;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream_ctx *c = cls;
    (void)pos;
    /* Block here until there is something to send: returning 0 would make MHD spin, and the
     * reader is the connection's own thread (thread-per-connection mode). */
    while (c->off >= c->pend.len) {
        pl_buf_clear(&c->pend);
        c->off = 0;
        if (c->done || atomic_load(&c->h->stopping))
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (peer_gone(c->fd))
            return MHD_CONTENT_READER_END_WITH_ERROR;
        int r = c->s->next(c->s, &c->pend, STREAM_WAIT_MS);
        if (r < 0)
            c->done = 1;
    }
    size_t n = c->pend.len - c->off;
    if (n > max)
        n = max;
    memcpy(buf, c->pend.ptr + c->off, n);
    c->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    stream_ctx *c = cls;
    if (c->s != NULL && c->s->free != NULL)
        c->s->free(c->s);
    pl_buf_dispose(&c->pend);
    pl_free(c);
}

/* ---- responses ------------------------------------------------------------------------------- */

static enum MHD_Result send_response(http_state *h, struct MHD_Connection *conn,
                                     sb_response *r)
{
    struct MHD_Response *mr = NULL;
    if (r->stream != NULL) {
        stream_ctx *c = pl_calloc(1, sizeof(*c));
        if (c == NULL)
            return MHD_NO;
        c->s = r->stream;
        c->h = h;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        c->fd = ci ? ci->connect_fd : -1;
        r->stream = NULL; /* now owned by the MHD response */
        mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, stream_read, c,
                                               stream_free);
        if (mr == NULL) {
            stream_free(c);
            return MHD_NO;
        }
    } else {
        size_t len = r->body.len;
        char *body = pl_buf_detach(&r->body);
        if (body == NULL) {
            mr = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        } else {
            mr = MHD_create_response_from_buffer_with_free_callback(len, body, pl_free);
            if (mr == NULL)
                pl_free(body);
        }
        if (mr == NULL)
            return MHD_NO;
    }
    char audit[37];
    uuid4(audit);
    MHD_add_response_header(mr, "Audit-Id", audit);
    MHD_add_response_header(mr, "Cache-Control", "no-cache, private");
    int has_ct = 0;
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, "Content-Type") == 0)
            has_ct = 1;
        if (strcasecmp(r->headers[i].name, "Cache-Control") == 0)
            MHD_del_response_header(mr, "Cache-Control", "no-cache, private");
        MHD_add_response_header(mr, r->headers[i].name, r->headers[i].value);
    }
    if (!has_ct)
        MHD_add_response_header(mr, "Content-Type",
                                r->content_type ? r->content_type : "application/json");
    /* API Priority and Fairness headers a real server sends (API-NOTES §0); fixed uids */
    MHD_add_response_header(mr, "X-Kubernetes-Pf-Flowschema-Uid",
                            "5f6e1a2b-0c3d-4e5f-8a9b-0c1d2e3f4a5b");
    MHD_add_response_header(mr, "X-Kubernetes-Pf-Prioritylevel-Uid",
                            "6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d");
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)r->status, mr);
    MHD_destroy_response(mr);
    return ok;
}

/* ---- authentication (API-NOTES §11) --------------------------------------------------------- */

/* 1 = authenticated (*user owned), 0 = not. */
static int authenticate(http_state *h, struct MHD_Connection *conn, const char *path,
                        char **user)
{
    *user = NULL;
    /* client certificate first, as the real union authenticator does */
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (ci != NULL && ci->tls_session != NULL) {
        unsigned int n = 0;
        const gnutls_datum_t *peers =
            gnutls_certificate_get_peers((gnutls_session_t)ci->tls_session, &n);
        if (peers != NULL && n > 0 &&
            sb_tls_verify_client(&h->tls, user, peers[0].data, peers[0].size) == 0)
            return 1;
        pl_error_clear();
    }
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (auth != NULL) {
        if (strncasecmp(auth, "Bearer ", 7) != 0)
            return 0;
        const char *tok = auth + 7;
        while (*tok == ' ')
            tok++;
        size_t tl = strlen(tok), sl = strlen(h->tls.token);
        if (tl == sl && CRYPTO_memcmp(tok, h->tls.token, sl) == 0) {
            *user = pl_strdup("plumb-admin");
            return *user != NULL;
        }
        return 0;
    }
    if (is_public_path(path)) {
        *user = pl_strdup("system:anonymous");
        return *user != NULL;
    }
    return 0;
}

/* ---- MHD callbacks --------------------------------------------------------------------------- */

/*
 * Connection threads allocate through core's small-block pool (engine/core/alloc.c): a write
 * builds and drops thousands of small JSON nodes, and glibc's malloc and free were a fifth of
 * the sandbox's work in a 1,000-object sync. A thread enters once, on its first request, and
 * hands what it holds over when it exits; blocks may be freed by any thread.
 */
static void pool_thread(void)
{
    static _Thread_local int entered;
    if (!entered) {
        entered = 1;
        pl_alloc_pool_enter();
    }
}

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)conn;
    http_state *h = cls;
    pool_thread();
    conn_ctx *c = pl_calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->srv = h->srv;
    c->raw_target = pl_strdup(uri ? uri : "/");
    c->body.max = BODY_LIMIT;
    clock_gettime(CLOCK_MONOTONIC, &c->start);
    return c;
}

static void request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    conn_ctx *c = *con_cls;
    if (c == NULL)
        return;
    pl_free(c->raw_target);
    pl_free(c->user);
    pl_buf_dispose(&c->body);
    pl_free(c);
    *con_cls = NULL;
}

static enum MHD_Result early_status(http_state *h, struct MHD_Connection *conn, conn_ctx *c,
                                    const char *method, int code, const char *reason,
                                    const char *message)
{
    sb_response r = {0};
    sb_resp_status(&r, code, reason, message, NULL);
    enum MHD_Result ok = send_response(h, conn, &r);
    sb_resp_dispose(&r);
    if (!is_control_path(c->raw_target))
        log_request(h, method, c->raw_target, code, ms_since(&c->start),
                    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "User-Agent"));
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    http_state *h = cls;
    sb_server *srv = h->srv;
    conn_ctx *c = *con_cls;
    (void)version;
    if (c == NULL)
        return MHD_NO; /* out of memory in uri_logger */

    if (c->phase == 0) {
        c->phase = 1;
        const char *path = url ? url : "/";
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     "Transfer-Encoding");
        c->authed = authenticate(h, conn, path, &c->user);
        /* Answer at once only when a body would follow (MHD then closes the connection);
         * otherwise answer in the final call so the connection stays alive. */
        int has_body = te != NULL || (cl != NULL && strcmp(cl, "0") != 0);
        if (!c->authed && has_body)
            return early_status(h, conn, c, method, 401, "Unauthorized", "Unauthorized");
        if (cl != NULL) {
            char *end = NULL;
            unsigned long long n = strtoull(cl, &end, 10);
            if (end != cl && n > BODY_LIMIT)
                return early_status(h, conn, c, method, 413, "RequestEntityTooLarge",
                                    "Request entity too large: limit is 3145728");
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!c->too_big && pl_buf_put(&c->body, upload_data, *upload_data_size) != 0) {
            c->too_big = 1;
            pl_buf_dispose(&c->body);
            pl_error_clear();
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!c->authed)
        return early_status(h, conn, c, method, 401, "Unauthorized", "Unauthorized");
    if (c->too_big)
        return early_status(h, conn, c, method, 413, "RequestEntityTooLarge",
                            "Request entity too large: limit is 3145728");

    /* the whole request is here */
    sb_req_owned ro;
    sb_response resp = {0};
    enum MHD_Result ok;
    const char *ua = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "User-Agent");
    int have_body = c->body.len > 0;
    if (sb_req_build(&ro, method, c->raw_target,
                     MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type"),
                     MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept"), ua,
                     have_body ? c->body.ptr : NULL, c->body.len) != 0) {
        pl_error_clear();
        return early_status(h, conn, c, method, 400, "BadRequest", "malformed request target");
    }
    ro.user = c->user;
    c->user = NULL;
    ro.req.user = ro.user;

    int control = is_control_path(ro.req.path);
    if (control) {
        sb_control_handle(srv, &ro.req, &resp);
    } else {
        sb_faults f;
        pthread_mutex_lock(&srv->lock);
        f = srv->faults;
        pthread_mutex_unlock(&srv->lock);
        if (f.latency_ms > 0)
            sleep_ms(f.latency_ms);
        double x = rng_unit();
        if (x < f.rate_drop) {
            /* close the connection without a response */
            log_request(h, method, c->raw_target, 0, ms_since(&c->start), ua);
            sb_req_dispose(&ro);
            return MHD_NO;
        }
        x -= f.rate_drop;
        if (x >= 0 && x < f.rate_429) {
            /* API Priority and Fairness: plain text (API-NOTES §6.2) */
            sb_resp_text(&resp, 429, "text/plain; charset=utf-8",
                         "Too many requests, please try again later.\n");
            sb_resp_header(&resp, "Retry-After", "1");
            sb_resp_header(&resp, "X-Content-Type-Options", "nosniff");
        } else if ((x -= f.rate_429) >= 0 && x < f.rate_503) {
            sb_resp_status(&resp, 503, "ServiceUnavailable", "apiserver is shutting down",
                           NULL);
            sb_resp_header(&resp, "Retry-After", "1");
        } else if ((x -= f.rate_503) >= 0 && x < f.rate_500) {
            json_t *det = json_pack("{s:[{s:s}]}", "causes", "message", "injected fault");
            sb_resp_status(&resp, 500, "InternalError",
                           "Internal error occurred: injected fault", det);
            json_decref(det);
        } else {
            sb_api_handle(srv, &ro.req, &resp);
        }
    }
    if (resp.status == 0)
        resp.status = 500;
    int status = resp.status;
    ok = send_response(h, conn, &resp);
    if (!control)
        log_request(h, method, c->raw_target, status, ms_since(&c->start), ua);
    sb_resp_dispose(&resp);
    sb_req_dispose(&ro);
    return ok;
}

/* libmicrohttpd hands us its own format strings: a printf-style callback by contract */
static void mhd_logger(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    pl_log(PL_LOG_DEBUG, "sandbox", "http: %s", msg);
}

/* ---- lifecycle ------------------------------------------------------------------------------- */

int sb_server_init(sb_server *srv)
{
    memset(srv, 0, sizeof(*srv));
    srv->listen_host = pl_strdup("127.0.0.1");
    srv->simulate_delay_ms = 1000;
    pthread_mutex_init(&srv->lock, NULL);
    srv->types = sb_types_new();
    if (srv->listen_host == NULL || srv->types == NULL) {
        sb_server_dispose(srv);
        return pl_error_set(PL_ENOMEM, "out of memory creating the sandbox");
    }
    return 0;
}

void sb_server_dispose(sb_server *srv)
{
    if (srv == NULL)
        return;
    pl_free(srv->listen_host);
    pl_free(srv->state_dir);
    pl_free(srv->kubeconfig_out);
    pl_free(srv->request_log_path);
    pl_free(srv->token);
    sb_types_free(srv->types);
    pthread_mutex_destroy(&srv->lock);
    memset(srv, 0, sizeof(*srv));
}

static int open_listener(const char *host, int port, int *out_port)
{
    struct addrinfo hints = {0}, *res = NULL;
    char portstr[16];
    int fd = -1;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof(portstr), "%d", port);
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0)
        return pl_error_set(PL_EINVALID, "cannot listen on %s:%d: %s", host, port,
                            gai_strerror(gai));
    int err = 0;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 512) == 0)
            break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return pl_error_set(PL_EUNAVAIL, "cannot listen on %s:%d: %s", host, port,
                            strerror(err));
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            *out_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            *out_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return fd;
}

int sb_server_start(sb_server *srv)
{
    int rc = 0, fd = -1;
    http_state *h = pl_calloc(1, sizeof(*h));
    if (h == NULL)
        return pl_error_set(PL_ENOMEM, "out of memory starting the sandbox");
    h->srv = srv;
    h->ring = pl_calloc(RING_SIZE, sizeof(log_entry));
    if (h->ring == NULL) {
        rc = pl_error_set(PL_ENOMEM, "out of memory starting the sandbox");
        goto fail;
    }
    const char *host = srv->listen_host ? srv->listen_host : "127.0.0.1";
    if ((rc = sb_tls_init(&h->tls, srv->state_dir, host)) != 0)
        goto fail;
    pl_free(srv->token);
    srv->token = pl_strdup(h->tls.token);
    if (srv->request_log_path != NULL) {
        h->log = fopen(srv->request_log_path, "a");
        if (h->log == NULL) {
            rc = pl_error_set(PL_ERROR, "cannot open request log %s: %s", srv->request_log_path,
                              strerror(errno));
            goto fail;
        }
    }
    int port = srv->port;
    fd = open_listener(host, srv->port, &port);
    if (fd < 0) {
        rc = fd;
        goto fail;
    }
    srv->http = h;
    h->daemon = MHD_start_daemon(
        MHD_USE_TLS | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
            MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        MHD_OPTION_HTTPS_MEM_KEY, h->tls.server_key_pem, MHD_OPTION_HTTPS_MEM_CERT,
        h->tls.server_cert_pem, MHD_OPTION_HTTPS_MEM_TRUST, h->tls.ca_cert_pem,
        MHD_OPTION_URI_LOG_CALLBACK, uri_logger, h, MHD_OPTION_NOTIFY_COMPLETED, request_done,
        h, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)2000,
        /* MHD zeroes a connection's whole memory pool for every request: 32 KiB by default,
         * 5% of the sandbox's work in a 1,000-object sync. Headers are all that must fit
         * (bodies are copied out as they arrive, responses are not built in the pool). */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024), MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)120, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, h, MHD_OPTION_END);
    if (h->daemon == NULL) {
        srv->http = NULL;
        rc = pl_error_set(PL_ERROR, "cannot start the https server on %s:%d", host, port);
        goto fail;
    }
    srv->port = port;
    if (srv->kubeconfig_out != NULL) {
        pl_buf url = PL_BUF_INIT;
        int v6 = strchr(host, ':') != NULL;
        pl_buf_printf(&url, "https://%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", port);
        rc = sb_tls_write_kubeconfig(&h->tls, srv->kubeconfig_out, url.ptr);
        pl_buf_dispose(&url);
        if (rc != 0) {
            sb_server_stop(srv);
            return rc;
        }
    }
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    if (h->log)
        fclose(h->log);
    sb_tls_dispose(&h->tls);
    pl_free(h->ring);
    pl_free(h);
    return rc;
}

void sb_server_stop(sb_server *srv)
{
    http_state *h = srv->http;
    if (h == NULL)
        return;
    atomic_store(&h->stopping, 1);
    /* MHD closes the listen socket (also one passed with MHD_OPTION_LISTEN_SOCKET) and joins
     * the connection threads; stream readers notice `stopping` within STREAM_WAIT_MS. */
    MHD_stop_daemon(h->daemon);
    srv->http = NULL;
    for (size_t i = 0; i < h->ring_count; i++)
        log_entry_free(&h->ring[(h->ring_head + i) % RING_SIZE]);
    if (h->log)
        fclose(h->log);
    sb_tls_dispose(&h->tls);
    pl_free(h->ring);
    pl_free(h);
}
