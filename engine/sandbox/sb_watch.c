/*
 * sb_watch.c - watch streams (API-NOTES §10): line-delimited ADDED/MODIFIED/DELETED events
 * from the store's event history ring, synthetic ADDED events for a watch from RV unset or
 * "0", an ERROR event with a 410 Expired Status when the requested RV is older than the
 * history, label and field selectors (an object that starts or stops matching shows up as
 * ADDED or DELETED, as the watch cache does), and timeoutSeconds.
 *
 * The transport calls next() from the connection's thread; it waits on the store's `changed`
 * condition variable, so an idle watch costs nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb_api_int.h"

typedef struct watch_stream {
    sb_stream base;
    sb_store *st;
    sb_coll *coll;
    char *ns; /* NULL: all namespaces */
    sb_selector *ls, *fs;
    char *gv;
    char *kind;
    uint64_t pos; /* last RV considered */
    pl_buf pending;
    size_t pending_off;
    int64_t deadline_ms;
    int finished;
} watch_stream;

static void event_line(watch_stream *w, pl_buf *out, const char *type, const sb_text *text,
                       const json_t *obj)
{
    pl_buf_printf(out, "{\"type\":\"%s\",\"object\":", type);
    const char *av = pl_json_str(obj, "apiVersion", NULL);
    /* event objects always carry kind/apiVersion (API-NOTES §10.1) */
    if (text == NULL) /* out of memory serialising the object */
        pl_buf_puts(out, "{}");
    else
        sb_text_append(out, text, w->kind, (av && strcmp(av, w->gv) != 0) ? w->gv : NULL, 1);
    pl_buf_puts(out, "}\n");
}

static int ns_match(const watch_stream *w, const char *ns)
{
    return w->ns == NULL || strcmp(w->ns, ns) == 0;
}

static int sel_match(const watch_stream *w, const json_t *obj)
{
    return obj != NULL && sb_selector_match(w->ls, obj) && sb_selector_match(w->fs, obj);
}

/* Index (logical, in ring order) of the first event with rv > pos. */
static size_t first_after(sb_store *st, uint64_t pos)
{
    size_t lo = 0, hi = st->ring_n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (st->ring[(st->ring_start + mid) % st->ring_cap].rv <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Emit the events after w->pos; caller holds the lock. Returns 1 when something was written. */
static int drain(watch_stream *w, pl_buf *out)
{
    sb_store *st = w->st;
    if (w->pos < st->ring_floor) {
        pl_buf m = PL_BUF_INIT;
        pl_buf_printf(&m, "too old resource version: %llu (%llu)", (unsigned long long)w->pos,
                      (unsigned long long)(st->ring_floor + 1));
        json_t *s = sb_status_new(410, "Expired", m.ptr, NULL);
        char *txt = s ? json_dumps(s, JSON_COMPACT) : NULL;
        pl_buf_printf(out, "{\"type\":\"ERROR\",\"object\":%s}\n", txt ? txt : "{}");
        pl_free(txt);
        json_decref(s);
        pl_buf_dispose(&m);
        w->finished = 1;
        return 1;
    }
    int wrote = 0;
    for (size_t i = first_after(st, w->pos); i < st->ring_n; i++) {
        sb_event *ev = &st->ring[(st->ring_start + i) % st->ring_cap];
        w->pos = ev->rv;
        if (ev->coll != w->coll || !ns_match(w, ev->ns))
            continue;
        if (ev->type == SB_EV_MODIFIED) {
            int now = sel_match(w, ev->obj), before = sel_match(w, ev->prev);
            if (now && before)
                event_line(w, out, "MODIFIED", sb_event_text(ev), ev->obj);
            else if (now)
                event_line(w, out, "ADDED", sb_event_text(ev), ev->obj);
            else if (before)
                event_line(w, out, "DELETED", sb_event_text(ev), ev->obj);
            else
                continue;
        } else if (sel_match(w, ev->obj)) {
            event_line(w, out, ev->type == SB_EV_ADDED ? "ADDED" : "DELETED", sb_event_text(ev),
                       ev->obj);
        } else {
            continue;
        }
        wrote = 1;
        if (out->len > 256 * 1024)
            break;
    }
    return wrote;
}

static int watch_next(sb_stream *s, pl_buf *out, int wait_ms)
{
    watch_stream *w = (watch_stream *)s;
    if (w->pending_off < w->pending.len) {
        size_t n = w->pending.len - w->pending_off;
        if (n > 256 * 1024)
            n = 256 * 1024;
        pl_buf_put(out, w->pending.ptr + w->pending_off, n);
        w->pending_off += n;
        if (w->pending_off == w->pending.len)
            pl_buf_dispose(&w->pending);
        return 1;
    }
    if (w->finished)
        return -1;
    int64_t now = sb_mono_ms();
    if (now >= w->deadline_ms)
        return -1;
    int64_t until = now + (wait_ms > 0 ? wait_ms : 0);
    if (until > w->deadline_ms)
        until = w->deadline_ms;
    int rc = 0;
    pthread_mutex_lock(&w->st->lock);
    for (;;) {
        if (w->st->closing) {
            rc = -1;
            break;
        }
        if (drain(w, out)) {
            rc = 1;
            break;
        }
        now = sb_mono_ms();
        if (now >= until) {
            rc = now >= w->deadline_ms ? -1 : 0;
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ms = until - now;
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&w->st->changed, &w->st->lock, &ts);
    }
    pthread_mutex_unlock(&w->st->lock);
    return rc;
}

static void watch_free(sb_stream *s)
{
    watch_stream *w = (watch_stream *)s;
    if (w == NULL)
        return;
    pl_free(w->ns);
    pl_free(w->gv);
    pl_free(w->kind);
    sb_selector_free(w->ls);
    sb_selector_free(w->fs);
    pl_buf_dispose(&w->pending);
    pl_free(w);
}


/*
 * Start a watch on coll (selectors taken). rv NULL/""/"0": initial ADDED events for the
 * current objects, then changes; otherwise changes after rv (API-NOTES §10.2).
 */
int sb_watch_open(sb_server *srv, sb_response *resp, sb_coll *coll, const sb_type *t,
                  const char *ns, sb_selector *ls, sb_selector *fs, const char *rv,
                  int timeout_s, const char *gv)
{
    sb_store *st = srv->store;
    watch_stream *w = pl_calloc(1, sizeof(*w));
    if (w == NULL) {
        sb_selector_free(ls);
        sb_selector_free(fs);
        return sb_resp_status(resp, 500, "InternalError", "out of memory", NULL);
    }
    w->base.next = watch_next;
    w->base.free = watch_free;
    w->st = st;
    w->coll = coll;
    w->ns = (ns != NULL && (t->flags & SB_T_NAMESPACED)) ? pl_strdup(ns) : NULL;
    w->ls = ls;
    w->fs = fs;
    w->gv = pl_strdup(gv);
    w->kind = pl_strdup(t->kind);
    w->deadline_ms = sb_mono_ms() + (int64_t)timeout_s * 1000;
    int initial = rv == NULL || rv[0] == '\0' || strcmp(rv, "0") == 0;
    if (initial) {
        for (size_t i = 0; i < coll->n; i++) {
            sb_entry *e = coll->items[i];
            if (ns_match(w, e->ns) && sel_match(w, e->obj))
                event_line(w, &w->pending, "ADDED", sb_entry_text(e), e->obj);
        }
        w->pos = st->rv;
    } else {
        w->pos = strtoull(rv, NULL, 10);
    }
    pl_buf_clear(&resp->body);
    pl_free(resp->content_type);
    resp->content_type = NULL; /* application/json, not ;stream=watch (API-NOTES §10.1) */
    resp->status = 200;
    resp->stream = &w->base;
    return 0;
}
