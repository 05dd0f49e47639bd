/*
 * status.c - the pure parts of the client: Status decoding and mapping to pl_code (API-NOTES §6),
 * the retry decision and backoff, the token-bucket rate limit, URL building (§2).
 *
 * No I/O here, so every rule is pinned by tests/unit/kube/test_status.c and test_url.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "kube_int.h"

/* ---- Status ------------------------------------------------------------------------------ */

/*
 * What client-go says for a response that is not a Status (apimachinery errors
 * NewGenericServerResponse): reason and message per HTTP code. kubectl prints these, so
 * keeping the texts makes plumb's errors read like kubectl's (§6.3).
 */
static void generic_reason(long http, const char *server_text, const char **reason,
                           const char **message, char *buf, size_t buflen)
{
    *reason = "";
    *message = server_text && *server_text ? server_text : "unknown";
    switch (http) {
    case 400:
        *reason = "BadRequest";
        *message = "the server rejected our request for an unknown reason";
        break;
    case 401:
        *reason = "Unauthorized";
        *message = "the server has asked for the client to provide credentials";
        break;
    case 403:
        *reason = "Forbidden"; /* keep the server's text: it says who may not do what */
        break;
    case 404:
        *reason = "NotFound";
        *message = "the server could not find the requested resource";
        break;
    case 405:
        *reason = "MethodNotAllowed";
        *message = "the server does not allow this method on the requested resource";
        break;
    case 406:
        *reason = "NotAcceptable";
        break;
    case 409:
        *reason = "Conflict";
        *message = "the server reported a conflict";
        break;
    case 410:
        *reason = "Gone";
        *message = "the server has asked for the client to relist";
        break;
    case 413:
        *reason = "RequestEntityTooLarge";
        break;
    case 415:
        *reason = "UnsupportedMediaType";
        break;
    case 422:
        *reason = "Invalid";
        *message = "the server rejected our request due to an error in our request";
        break;
    case 429:
        *reason = "TooManyRequests";
        *message = "the server has received too many requests and has asked us to try again later";
        break;
    case 503:
        *reason = "ServiceUnavailable";
        *message = "the server is currently unable to handle the request";
        break;
    case 504:
        *reason = "Timeout";
        *message = "the server was unable to return a response in the time allotted, but may "
                   "still be processing the request";
        break;
    default:
        if (http >= 500) {
            *reason = "InternalError";
            snprintf(buf, buflen,
                     "an error on the server (\"%s\") has prevented the request from succeeding",
                     server_text && *server_text ? server_text : "unknown");
            *message = buf;
        }
        break;
    }
}

int pl_kube__status_decode(json_t **out, long http, const char *ctype, const char *body,
                           size_t len, long retry_after)
{
    json_t *doc = NULL, *st = NULL;
    char text[512], msgbuf[700];
    const char *reason, *message;
    size_t i, n = 0;

    *out = NULL;
    (void)ctype; /* a Status is recognised by its content: some proxies mislabel bodies */
    if (body && len > 0) {
        doc = json_loadb(body, len, 0, NULL);
        if (doc && json_is_object(doc) && pl_json_str(doc, "kind", NULL) &&
            strcmp(pl_json_str(doc, "kind", NULL), "Status") == 0) {
            *out = doc;
            return 0;
        }
        json_decref(doc);
    }
    /* a one-line version of the text body, for 5xx messages */
    for (i = 0; body && i < len && n + 1 < sizeof(text); i++) {
        char c = body[i];
        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
        if ((unsigned char)c < 0x20)
            continue;
        text[n++] = c;
    }
    while (n > 0 && text[n - 1] == ' ')
        n--;
    text[n] = '\0';
    generic_reason(http, text, &reason, &message, msgbuf, sizeof(msgbuf));
    st = json_pack("{s:s,s:s,s:{},s:s,s:s}", "kind", "Status", "apiVersion", "v1", "metadata",
                   "status", "Failure", "message", message);
    if (!st)
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (*reason)
        json_object_set_new(st, "reason", json_string(reason));
    if (retry_after >= 0)
        json_object_set_new(st, "details",
                            json_pack("{s:I}", "retryAfterSeconds", (json_int_t)retry_after));
    json_object_set_new(st, "code", json_integer(http));
    *out = st;
    return 0;
}

static int causes_mention(const json_t *status, const char *needle)
{
    const json_t *causes = pl_json_path(status, "details", "causes", NULL);
    const json_t *c;
    size_t i;

    json_array_foreach(causes, i, c) {
        const char *m = pl_json_str(c, "message", NULL);
        if (m && strstr(m, needle))
            return 1;
    }
    return 0;
}

/* §4.1: an apply naming a field the schema lacks is a 500 (400 on newer servers) and as
 * deterministic as a 422; never worth a retry. */
static int is_schema_500(const json_t *status)
{
    const char *m = pl_json_str(status, "message", NULL);
    return m && (strstr(m, "field not declared in schema") ||
                 strstr(m, "duplicate entries for key") ||
                 strstr(m, "failed to create typed patch object"));
}

int pl_kube__status_code(const json_t *status, long http)
{
    const char *reason = pl_json_str(status, "reason", NULL);

    if (http == 0) {
        json_t *c = pl_json_path(status, "code", NULL);
        http = json_is_integer(c) ? (long)json_integer_value(c) : 0;
    }
    switch (http) {
    case 404:
        return PL_ENOTFOUND;
    case 409:
        return PL_ECONFLICT;
    case 422:
        /* §5.2: immutable fields say so in the cause text; only a replace helps */
        if (causes_mention(status, "field is immutable") ||
            causes_mention(status, "may not change once set"))
            return PL_EIMMUTABLE;
        return PL_EINVALID;
    case 400:
    case 405:
    case 406:
    case 415:
        return PL_EINVALID;
    case 401:
    case 403:
        return PL_EAUTH;
    case 410:
        return PL_ERROR;
    case 413:
        return PL_ETOOBIG;
    case 504:
        return PL_ETIMEOUT;
    case 500:
        if (is_schema_500(status))
            return PL_EINVALID;
        if (reason && strcmp(reason, "ServerTimeout") == 0)
            return PL_ETIMEOUT;
        return PL_EUNAVAIL;
    default:
        if (http == 429 || http >= 500)
            return PL_EUNAVAIL;
        return PL_ERROR;
    }
}

int pl_kube__should_retry(pl_kube_safety safety, long http, int sent, const json_t *status,
                          int attempts_500, int max_attempts_500)
{
    if (http == 0) {
        /* the request never left (connect/DNS failure): always safe; otherwise only when
         * repeating it cannot do harm (§6.2 504 rule) */
        return !sent || safety == PL_KUBE_IDEMPOTENT;
    }
    if (http == 429 || http == 503)
        return 1; /* rejected before any processing (APF, shutting down, aggregated API down) */
    if (http == 500) {
        if (is_schema_500(status))
            return 0;
        if (safety != PL_KUBE_IDEMPOTENT)
            return 0;
        return attempts_500 < max_attempts_500;
    }
    if (http == 502 || http == 504)
        return safety == PL_KUBE_IDEMPOTENT;
    return 0; /* every other status, 4xx above all, is final */
}

long pl_kube__backoff_ms(int retry, long base_ms, long max_ms, long retry_after_s,
                         long retry_after_max_ms, double rand01)
{
    double d;

    if (retry_after_s > 0) {
        long ms = retry_after_s * 1000;
        return ms > retry_after_max_ms ? retry_after_max_ms : ms;
    }
    if (retry < 1)
        retry = 1;
    d = (double)base_ms * ldexp(1.0, retry > 30 ? 30 : retry - 1);
    if (d > (double)max_ms)
        d = (double)max_ms;
    /* equal jitter: half fixed, half random, so synchronised failures spread out */
    if (rand01 < 0)
        rand01 = 0;
    if (rand01 >= 1)
        rand01 = 0.999999;
    return (long)(d / 2 + rand01 * d / 2);
}

/* ---- token bucket (client-go's flowcontrol: qps refill, burst capacity) ------------------ */

void pl_kube__bucket_init(pl_kube_bucket *b, double qps, int burst, int64_t now_ms)
{
    b->qps = qps;
    b->burst = burst > 0 ? burst : 1;
    b->tokens = b->burst;
    b->last_ms = now_ms;
}

long pl_kube__bucket_take(pl_kube_bucket *b, int64_t now_ms)
{
    if (b->qps <= 0)
        return 0;
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * b->qps / 1000.0;
        if (b->tokens > b->burst)
            b->tokens = b->burst;
        b->last_ms = now_ms;
    }
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return 0;
    }
    return (long)ceil((1.0 - b->tokens) * 1000.0 / b->qps);
}

/* ---- URLs ---------------------------------------------------------------------------------- */

static int escape(pl_buf *out, const char *s, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";
    int error = 0;

    for (; *s && error == 0; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || (c && strchr(keep, c))) {
            error = pl_buf_putc(out, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            error = pl_buf_put(out, e, 3);
        }
    }
    return error;
}

int pl_kube__query_escape(pl_buf *out, const char *s)
{
    return escape(out, s, "");
}

int pl_kube__path_escape(pl_buf *out, const char *s)
{
    return escape(out, s, "!$&'()*+,;=:@");
}

int pl_kube__resource_path(pl_buf *out, const char *group, const char *version, const char *res,
                           const char *ns, const char *name, const char *sub)
{
    int error;

    if (!group || !*group)
        error = pl_buf_puts(out, "/api/");
    else if ((error = pl_buf_puts(out, "/apis/")) == 0 && (error = pl_kube__path_escape(out, group)) == 0)
        error = pl_buf_putc(out, '/');
    if (error == 0)
        error = pl_kube__path_escape(out, version);
    if (error == 0 && ns && *ns) {
        if ((error = pl_buf_puts(out, "/namespaces/")) == 0)
            error = pl_kube__path_escape(out, ns);
    }
    if (error == 0 && (error = pl_buf_putc(out, '/')) == 0)
        error = pl_kube__path_escape(out, res);
    if (error == 0 && name && *name) {
        if ((error = pl_buf_putc(out, '/')) == 0)
            error = pl_kube__path_escape(out, name);
        if (error == 0 && sub && *sub && (error = pl_buf_putc(out, '/')) == 0)
            error = pl_kube__path_escape(out, sub);
    }
    return error;
}

int pl_kube__subject(pl_buf *out, const char *group, const char *kind, const char *ns,
                     const char *name)
{
    int error = pl_buf_puts(out, kind && *kind ? kind : "object");

    if (error == 0 && group && *group)
        error = pl_buf_printf(out, ".%s", group);
    if (error == 0 && ns && *ns)
        error = pl_buf_printf(out, "/%s", ns);
    if (error == 0 && name && *name)
        error = pl_buf_printf(out, "/%s", name);
    return error;
}

/* "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList" with parameters in
 * any order, spaces allowed, extra parameters (charset) ignored (§1.3). */
int pl_kube__is_aggregated_ctype(const char *ctype)
{
    const char *p;
    int g = 0, v = 0, as = 0;

    if (!ctype)
        return 0;
    p = strchr(ctype, ';');
    if (!p || strncasecmp(ctype, "application/json", 16) != 0)
        return 0;
    while (p && *p) {
        const char *start, *end;
        p++;
        while (*p == ' ')
            p++;
        start = p;
        end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        {
            size_t l = (size_t)(end - start);
            while (l > 0 && start[l - 1] == ' ')
                l--;
            if (l == 21 && strncmp(start, "g=apidiscovery.k8s.io", 21) == 0)
                g = 1;
            else if ((l == 4 && strncmp(start, "v=v2", 4) == 0) ||
                     (l == 9 && strncmp(start, "v=v2beta1", 9) == 0))
                v = 1;
            else if (l == 24 && strncmp(start, "as=APIGroupDiscoveryList", 24) == 0)
                as = 1;
        }
        p = *end ? end : NULL;
    }
    return g && v && as;
}
