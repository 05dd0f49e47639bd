/*
 * api_harness.h - an in-memory sandbox for in-process tests of sb_api_handle: no sockets, no
 * TLS. Included by tests/unit/sandbox/test_api*.c.
 */
#ifndef PL_TEST_API_HARNESS_H
#define PL_TEST_API_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "sb.h"

typedef struct harness {
    sb_server srv;
    sb_response resp;
    json_t *json; /* parsed response body (NULL if not JSON) */
} harness;

#define H_UNUSED __attribute__((unused))

H_UNUSED static harness *H;

H_UNUSED static void h_init(harness *h, const char *state_dir, int history)
{
    memset(h, 0, sizeof(*h));
    h->srv.listen_host = NULL;
    h->srv.crd_establish_delay_ms = 0;
    h->srv.watch_history = history;
    h->srv.state_dir = state_dir ? pl_strdup(state_dir) : NULL;
    pthread_mutex_init(&h->srv.lock, NULL);
    h->srv.types = sb_types_new();
    assert_non_null(h->srv.types);
    assert_int_equal(sb_store_open(&h->srv), 0);
    assert_int_equal(sb_api_start_background(&h->srv), 0);
}

H_UNUSED static void h_fini(harness *h)
{
    sb_resp_dispose(&h->resp);
    json_decref(h->json);
    h->json = NULL;
    sb_api_stop_background(&h->srv);
    sb_store_close(&h->srv);
    sb_types_free(h->srv.types);
    pthread_mutex_destroy(&h->srv.lock);
    pl_free(h->srv.state_dir);
}

H_UNUSED static int h_setup(void **state)
{
    (void)state;
    H = pl_calloc(1, sizeof(*H));
    h_init(H, NULL, 10000);
    return 0;
}

H_UNUSED static int h_teardown(void **state)
{
    (void)state;
    h_fini(H);
    pl_free(H);
    H = NULL;
    return 0;
}

H_UNUSED static char hexval(char c)
{
    if (c >= '0' && c <= '9')
        return (char)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (char)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (char)(c - 'A' + 10);
    return 0;
}

H_UNUSED static char *pct_decode(const char *s, size_t n)
{
    char *out = pl_malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n) {
            out[k++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[k++] = s[i];
        }
    }
    out[k] = '\0';
    return out;
}

/* Run one request; target is "path?query"; body/ct may be NULL. Returns the status. */
H_UNUSED static int h_req(harness *h, const char *method, const char *target, const char *ct,
                 const char *body)
{
    sb_resp_dispose(&h->resp);
    memset(&h->resp, 0, sizeof(h->resp));
    json_decref(h->json);
    h->json = NULL;
    sb_request req;
    memset(&req, 0, sizeof(req));
    sb_query_arg args[32];
    size_t nargs = 0;
    const char *q = strchr(target, '?');
    char *path = pct_decode(target, q ? (size_t)(q - target) : strlen(target));
    if (q != NULL) {
        const char *p = q + 1;
        while (*p && nargs < 32) {
            const char *amp = strchr(p, '&');
            size_t n = amp ? (size_t)(amp - p) : strlen(p);
            const char *eq = memchr(p, '=', n);
            args[nargs].key = pct_decode(p, eq ? (size_t)(eq - p) : n);
            args[nargs].value = eq ? pct_decode(eq + 1, n - (size_t)(eq + 1 - p)) : pl_strdup("");
            nargs++;
            p = amp ? amp + 1 : p + n;
        }
    }
    req.method = method;
    req.path = path;
    req.raw_target = target;
    req.args = args;
    req.nargs = nargs;
    req.content_type = ct;
    req.accept = "application/json";
    req.user_agent = "unit-test/v1.0 (linux/amd64)";
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.user = "test";
    if (strncmp(path, "/_plumb/", 8) == 0)
        sb_api_control(&h->srv, &req, &h->resp);
    else
        sb_api_handle(&h->srv, &req, &h->resp);
    for (size_t i = 0; i < nargs; i++) {
        pl_free(args[i].key);
        pl_free(args[i].value);
    }
    pl_free(path);
    if (h->resp.body.ptr != NULL && h->resp.stream == NULL)
        h->json = json_loadb(h->resp.body.ptr, h->resp.body.len, 0, NULL);
    return h->resp.status;
}

/* The response body without its trailing newline. */
H_UNUSED static const char *h_body(harness *h)
{
    static char buf[65536];
    size_t n = h->resp.body.len;
    if (n >= sizeof(buf))
        n = sizeof(buf) - 1;
    memcpy(buf, h->resp.body.ptr ? h->resp.body.ptr : "", n);
    while (n > 0 && buf[n - 1] == '\n')
        n--;
    buf[n] = '\0';
    return buf;
}

H_UNUSED static const char *h_str(harness *h, ...)
{
    va_list ap;
    va_start(ap, h);
    const json_t *cur = h->json;
    const char *k;
    while (cur != NULL && (k = va_arg(ap, const char *)) != NULL)
        cur = json_object_get(cur, k);
    va_end(ap);
    return json_string_value(cur);
}

H_UNUSED static const char *h_header(harness *h, const char *name)
{
    for (size_t i = 0; i < h->resp.nheaders; i++)
        if (strcmp(h->resp.headers[i].name, name) == 0)
            return h->resp.headers[i].value;
    return NULL;
}

H_UNUSED static void h_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Poll GET target until its status is `want` (or 3 s pass). */
H_UNUSED static int h_wait_status(harness *h, const char *target, int want)
{
    for (int i = 0; i < 300; i++) {
        if (h_req(h, "GET", target, NULL, NULL) == want)
            return 1;
        h_sleep_ms(10);
    }
    return 0;
}

/* Read a watch stream until it has produced `lines` lines or 2 s pass; owned text. */
H_UNUSED static char *h_watch_read(harness *h, int lines, int max_ms)
{
    pl_buf out = PL_BUF_INIT;
    sb_stream *s = h->resp.stream;
    int waited = 0;
    while (s != NULL && waited < max_ms) {
        int n = 0;
        for (size_t i = 0; i < out.len; i++)
            if (out.ptr[i] == '\n')
                n++;
        if (n >= lines)
            break;
        int rc = s->next(s, &out, 20);
        if (rc < 0)
            break;
        if (rc == 0)
            waited += 20;
    }
    if (out.ptr == NULL)
        return pl_strdup("");
    return pl_buf_detach(&out);
}

#endif
