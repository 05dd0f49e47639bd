/*
 * sb_control.c - the control endpoint under /_plumb/ (a path real clients never use) and
 * fault specifications:
 *   GET  /_plumb/faults      -> {"500":r,"503":r,"429":r,"latency_ms":n,"drop":r}
 *   PUT  /_plumb/faults      <- the same object (any subset; missing keys become 0)
 *   GET  /_plumb/requests    -> [{method,path,query,status,time,duration_ms}, ...]
 *   DELETE /_plumb/requests  clears the in-memory request log
 *   everything else          -> sb_api_control (objects, status), else 404 Status
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sb_transport.h"

long sb_parse_duration_ms(const char *s)
{
    if (s == NULL || *s == '\0')
        return -1;
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || !(v >= 0) || v > 86400000.0)
        return -1;
    double mult;
    if (*end == '\0' || strcmp(end, "ms") == 0)
        mult = 1;
    else if (strcmp(end, "s") == 0)
        mult = 1000;
    else if (strcmp(end, "m") == 0)
        mult = 60000;
    else
        return -1;
    double ms = v * mult;
    if (ms > 86400000.0)
        return -1;
    return (long)llround(ms);
}

static int parse_rate(double *out, const char *v, const char *key)
{
    char *end = NULL;
    double d = strtod(v, &end);
    if (end == v || *end != '\0' || !(d >= 0.0 && d <= 1.0))
        return pl_error_set(PL_EINVALID, "faults: %s: rate must be a fraction between 0 and 1",
                            key);
    *out = d;
    return 0;
}

int sb_faults_parse(sb_faults *out, const char *spec)
{
    sb_faults f = {0};
    int rc = 0;
    if (spec == NULL)
        spec = "";
    const char *p = spec;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char *item = pl_strndup(p, len);
        if (item == NULL)
            return pl_error_set(PL_ENOMEM, "out of memory parsing faults");
        char *eq = strchr(item, '=');
        if (len == 0) {
            /* tolerate empty items ("a=1,,b=2") */
        } else if (eq == NULL) {
            rc = pl_error_set(PL_EINVALID, "faults: %s: expected KEY=VALUE", item);
        } else {
            *eq = '\0';
            const char *k = item, *v = eq + 1;
            if (strcmp(k, "500") == 0)
                rc = parse_rate(&f.rate_500, v, k);
            else if (strcmp(k, "503") == 0)
                rc = parse_rate(&f.rate_503, v, k);
            else if (strcmp(k, "429") == 0)
                rc = parse_rate(&f.rate_429, v, k);
            else if (strcmp(k, "drop") == 0)
                rc = parse_rate(&f.rate_drop, v, k);
            else if (strcmp(k, "latency") == 0) {
                long ms = sb_parse_duration_ms(v);
                if (ms < 0)
                    rc = pl_error_set(PL_EINVALID, "faults: latency: bad duration %s", v);
                else
                    f.latency_ms = (int)ms;
            } else {
                rc = pl_error_set(PL_EINVALID,
                                  "faults: unknown key %s (expected 500, 503, 429, latency, drop)",
                                  k);
            }
        }
        pl_free(item);
        if (rc != 0)
            return rc;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    *out = f;
    return 0;
}

json_t *sb_faults_to_json(const sb_faults *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "500", json_real(f->rate_500));
    json_object_set_new(o, "503", json_real(f->rate_503));
    json_object_set_new(o, "429", json_real(f->rate_429));
    json_object_set_new(o, "latency_ms", json_integer(f->latency_ms));
    json_object_set_new(o, "drop", json_real(f->rate_drop));
    return o;
}

int sb_faults_from_json(sb_faults *out, const json_t *obj, const sb_faults *base)
{
    sb_faults f = base ? *base : (sb_faults){0};
    if (!json_is_object(obj))
        return pl_error_set(PL_EINVALID, "faults: body must be a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        if (!json_is_number(v))
            return pl_error_set(PL_EINVALID, "faults: %s: must be a number", k);
        double d = json_number_value(v);
        double *rate = NULL;
        if (strcmp(k, "500") == 0)
            rate = &f.rate_500;
        else if (strcmp(k, "503") == 0)
            rate = &f.rate_503;
        else if (strcmp(k, "429") == 0)
            rate = &f.rate_429;
        else if (strcmp(k, "drop") == 0)
            rate = &f.rate_drop;
        else if (strcmp(k, "latency_ms") == 0) {
            if (!(d >= 0 && d <= 86400000.0))
                return pl_error_set(PL_EINVALID, "faults: latency_ms out of range");
            f.latency_ms = (int)d;
            continue;
        } else {
            return pl_error_set(PL_EINVALID, "faults: unknown key %s", k);
        }
        if (!(d >= 0.0 && d <= 1.0))
            return pl_error_set(PL_EINVALID, "faults: %s: rate must be between 0 and 1", k);
        *rate = d;
    }
    *out = f;
    return 0;
}

static void bad_request(sb_response *resp, const char *msg)
{
    sb_resp_status(resp, 400, "BadRequest", msg, NULL);
}

void sb_control_handle(sb_server *srv, const sb_request *req, sb_response *resp)
{
    const char *m = req->method;
    if (strcmp(req->path, "/_plumb/faults") == 0) {
        if (strcmp(m, "GET") == 0) {
            sb_faults f;
            pthread_mutex_lock(&srv->lock);
            f = srv->faults;
            pthread_mutex_unlock(&srv->lock);
            json_t *o = sb_faults_to_json(&f);
            sb_resp_json(resp, 200, o);
            json_decref(o);
        } else if (strcmp(m, "PUT") == 0 || strcmp(m, "POST") == 0) {
            json_error_t jerr;
            json_t *body = req->body ? json_loadb(req->body, req->body_len, 0, &jerr) : NULL;
            sb_faults f;
            /* PUT replaces (missing keys = 0) */
            if (body == NULL) {
                bad_request(resp, "faults: body must be a JSON object");
            } else if (sb_faults_from_json(&f, body, NULL) != 0) {
                bad_request(resp, pl_error_last()->message);
                pl_error_clear();
            } else {
                pthread_mutex_lock(&srv->lock);
                srv->faults = f;
                pthread_mutex_unlock(&srv->lock);
                json_t *o = sb_faults_to_json(&f);
                sb_resp_json(resp, 200, o);
                json_decref(o);
            }
            json_decref(body);
        } else {
            sb_resp_status(resp, 405, "MethodNotAllowed",
                           "the server does not allow this method on the requested resource",
                           NULL);
        }
        return;
    }
    if (strcmp(req->path, "/_plumb/requests") == 0) {
        if (strcmp(m, "GET") == 0) {
            json_t *l = sb_http_request_log(srv);
            /* short reals (durations) instead of 17 significant digits */
            char *text = json_dumps(l, JSON_COMPACT | JSON_REAL_PRECISION(6));
            json_decref(l);
            if (text == NULL) {
                sb_resp_status(resp, 500, "InternalError", "Internal error occurred: out of memory",
                               NULL);
                return;
            }
            sb_resp_text(resp, 200, NULL, text);
            pl_buf_putc(&resp->body, '\n');
            pl_free(text);
        } else if (strcmp(m, "DELETE") == 0) {
            sb_http_request_log_clear(srv);
            json_t *l = json_array();
            sb_resp_json(resp, 200, l);
            json_decref(l);
        } else {
            sb_resp_status(resp, 405, "MethodNotAllowed",
                           "the server does not allow this method on the requested resource",
                           NULL);
        }
        return;
    }
    if (sb_api_control(srv, req, resp))
        return;
    sb_resp_status(resp, 404, "NotFound", "the server could not find the requested resource",
                   NULL);
}
