/*
 * fuzz_sandbox_request.c - the sandbox's request path in-process (no sockets): arbitrary bytes
 * become method, target, content type, accept and body; the request is built as the transport
 * builds it (sb_req_build: path and query decoding) and routed through sb_api_handle (and the
 * control endpoint for /_plumb/ paths) against a fresh in-memory server per input.
 *
 * Input layout: METHOD \n TARGET \n CONTENT-TYPE \n ACCEPT \n BODY... (missing fields are
 * empty; a target without a leading '/' gets one). Streaming responses (watches) are pulled
 * once without waiting and then released.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plumb/core.h"
#include "sb.h"
#include "sb_transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Next '\n'-terminated field of [*p, end) as an owned string. */
static char *field(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *s = *p;
    const uint8_t *nl = s < end ? memchr(s, '\n', (size_t)(end - s)) : NULL;
    size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
    char *out = pl_strndup((const char *)s, len);
    *p = nl ? nl + 1 : end;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    char *method = field(&p, end);
    char *target = field(&p, end);
    char *ctype = field(&p, end);
    char *accept = field(&p, end);
    const char *body = (const char *)p;
    size_t body_len = (size_t)(end - p);
    pl_buf t = PL_BUF_INIT;
    sb_server srv;
    sb_req_owned r;

    if (!method || !target || !ctype || !accept)
        goto done;
    if (target[0] != '/')
        pl_buf_putc(&t, '/');
    pl_buf_puts(&t, target);
    if (sb_server_init(&srv) != 0)
        goto done;
    if (sb_store_open(&srv) == 0) {
        if (sb_req_build(&r, method[0] ? method : "GET", t.ptr ? t.ptr : "/",
                         ctype[0] ? ctype : NULL, accept[0] ? accept : NULL, "fuzz",
                         body_len ? body : NULL, body_len) == 0) {
            r.req.user = "fuzz";
            sb_response resp = {0};
            if (strncmp(r.req.path, "/_plumb/", 8) == 0)
                sb_control_handle(&srv, &r.req, &resp);
            else
                sb_api_handle(&srv, &r.req, &resp);
            if (resp.stream != NULL) {
                pl_buf out = PL_BUF_INIT;
                resp.stream->next(resp.stream, &out, 0);
                pl_buf_dispose(&out);
            }
            if (resp.status < 100 || resp.status > 599)
                abort(); /* every request gets a real HTTP status */
            sb_resp_dispose(&resp);
            sb_req_dispose(&r);
        }
        sb_store_close(&srv);
    }
    sb_server_dispose(&srv);
done:
    pl_error_clear();
    pl_buf_dispose(&t);
    pl_free(method);
    pl_free(target);
    pl_free(ctype);
    pl_free(accept);
    return 0;
}
