/*
 * sb_util.c - small request/response helpers and the v1 Status builder shared by every sandbox
 * layer (API-NOTES §6.1).
 */
#include <string.h>

#include "sb.h"

const char *sb_req_arg(const sb_request *req, const char *key)
{
    if (req == NULL || key == NULL)
        return NULL;
    for (size_t i = 0; i < req->nargs; i++) {
        if (strcmp(req->args[i].key, key) == 0)
            return req->args[i].value;
    }
    return NULL;
}

int sb_resp_header(sb_response *resp, const char *name, const char *value)
{
    sb_header *h = pl_realloc(resp->headers, (resp->nheaders + 1) * sizeof(*h));
    if (h == NULL)
        return pl_error_set(PL_ENOMEM, "out of memory adding response header");
    resp->headers = h;
    h[resp->nheaders].name = pl_strdup(name);
    h[resp->nheaders].value = pl_strdup(value);
    if (h[resp->nheaders].name == NULL || h[resp->nheaders].value == NULL) {
        pl_free(h[resp->nheaders].name);
        pl_free(h[resp->nheaders].value);
        return pl_error_set(PL_ENOMEM, "out of memory adding response header");
    }
    resp->nheaders++;
    return 0;
}

int sb_resp_json(sb_response *resp, int status, const json_t *json)
{
    /* Compact keys in insertion order (jansson >= 2.8 keeps it); a real server's encoder
     * (Go json.Encoder) ends the body with a newline, so do we. */
    pl_buf_clear(&resp->body);
    int rc = pl_json_write(&resp->body, json);
    if (rc < 0) {
        pl_buf_clear(&resp->body);
        return pl_error_set(PL_ENOMEM, "cannot encode response body");
    }
    rc = pl_buf_putc(&resp->body, '\n');
    pl_free(resp->content_type);
    resp->content_type = NULL;
    resp->status = status;
    return rc;
}

int sb_resp_text(sb_response *resp, int status, const char *content_type, const char *text)
{
    pl_buf_clear(&resp->body);
    int rc = pl_buf_puts(&resp->body, text ? text : "");
    pl_free(resp->content_type);
    resp->content_type = content_type ? pl_strdup(content_type) : NULL;
    resp->status = status;
    return rc;
}

void sb_resp_dispose(sb_response *resp)
{
    if (resp == NULL)
        return;
    pl_free(resp->content_type);
    resp->content_type = NULL;
    pl_buf_dispose(&resp->body);
    for (size_t i = 0; i < resp->nheaders; i++) {
        pl_free(resp->headers[i].name);
        pl_free(resp->headers[i].value);
    }
    pl_free(resp->headers);
    resp->headers = NULL;
    resp->nheaders = 0;
    if (resp->stream != NULL && resp->stream->free != NULL)
        resp->stream->free(resp->stream);
    resp->stream = NULL;
}

json_t *sb_status_new(int code, const char *reason, const char *message, const json_t *details)
{
    /* Key order of the Go struct (API-NOTES §6.1): kind, apiVersion, metadata, status, message,
     * reason, details, code; empty optional fields are omitted. */
    json_t *st = json_object();
    if (st == NULL)
        return NULL;
    json_object_set_new(st, "kind", json_string("Status"));
    json_object_set_new(st, "apiVersion", json_string("v1"));
    json_object_set_new(st, "metadata", json_object());
    json_object_set_new(st, "status",
                        json_string(code >= 200 && code < 300 ? "Success" : "Failure"));
    if (message != NULL && message[0] != '\0')
        json_object_set_new(st, "message", json_string(message));
    if (reason != NULL && reason[0] != '\0')
        json_object_set_new(st, "reason", json_string(reason));
    if (details != NULL)
        json_object_set_new(st, "details", json_deep_copy(details));
    json_object_set_new(st, "code", json_integer(code));
    return st;
}

int sb_resp_status(sb_response *resp, int code, const char *reason, const char *message,
                   const json_t *details)
{
    json_t *st = sb_status_new(code, reason, message, details);
    if (st == NULL)
        return pl_error_set(PL_ENOMEM, "out of memory building status");
    int rc = sb_resp_json(resp, code, st);
    json_decref(st);
    /* retryAfterSeconds is mirrored in a Retry-After header (API-NOTES §6.1) */
    json_t *ra = details ? json_object_get(details, "retryAfterSeconds") : NULL;
    if (rc == 0 && json_is_integer(ra)) {
        char num[32];
        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(ra));
        rc = sb_resp_header(resp, "Retry-After", num);
    }
    return rc;
}
