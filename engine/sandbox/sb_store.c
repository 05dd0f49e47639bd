/*
 * sb_store.c - the sandbox's object store: collections keyed by group/resource holding
 * objects sorted by namespace and name (the etcd key order a real server lists in), the
 * cluster-wide resourceVersion counter (API-NOTES §3.1), the watch event history (§10), the
 * --state persistence and the background thread.
 *
 * Objects are stored in their storage version; a CRD's other served versions differ only by
 * apiVersion (conversion strategy None), which the readers rewrite on the way out.
 *
 * Persistence (--state DIR): DIR/snapshot.json holds every object and the RV counter;
 * DIR/journal.jsonl gets one fsync'ed line per persisted write. Start-up loads the snapshot,
 * replays the journal (a torn last line from a crash is ignored), then writes a fresh
 * snapshot (temporary file, fsync, rename, fsync of the directory) and empties the journal.
 * Replaying a journal twice is harmless (puts replace, removals remove), so a crash between
 * those two steps loses nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "sb_api_int.h"

#define JOURNAL_COMPACT_BYTES (64u * 1024u * 1024u)

/* ---- time and ids --------------------------------------------------------------------------- */

int64_t sb_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sb_now_rfc3339(char *out, size_t outlen)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void random_bytes(unsigned char *buf, size_t n)
{
    if (RAND_bytes(buf, (int)n) != 1) {
        /* RAND_bytes only fails without entropy; fall back to the clock (ids stay unique
         * enough for a sandbox). */
        uint64_t x = (uint64_t)sb_mono_ms() * 6364136223846793005ULL + (uint64_t)time(NULL);
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            buf[i] = (unsigned char)(x >> 33);
        }
    }
}

static uint64_t uid_seed[2];

static void uid_seed_init(void)
{
    random_bytes((unsigned char *)uid_seed, sizeof(uid_seed));
}

/* splitmix64's output function: a bijection on 64-bit values */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/*
 * A version-4 UUID for metadata.uid. Every object gets one, and RAND_bytes cost ~15,000
 * instructions a call (its fork and reseed checks), so the random bits come from a process
 * seed (RAND_bytes, once) mixed with a counter through a bijection: ids never repeat within a
 * process and differ between sandboxes.
 */
void sb_uuid4(char out[37])
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    static _Atomic uint64_t counter;
    unsigned char b[16];
    pthread_once(&once, uid_seed_init);
    uint64_t n = atomic_fetch_add(&counter, 1);
    uint64_t hi = mix64(uid_seed[0] + n), lo = mix64(uid_seed[1] ^ n);
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(hi >> (56 - 8 * i));
        b[8 + i] = (unsigned char)(lo >> (56 - 8 * i));
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[b[i] >> 4];
        *o++ = hex[b[i] & 15];
    }
    *o = '\0';
}

void sb_random_suffix(char *out, size_t n)
{
    static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    unsigned char b[64];
    if (n > sizeof(b))
        n = sizeof(b);
    random_bytes(b, n);
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[b[i] % (sizeof(alphabet) - 1)];
    out[n] = '\0';
}

/* ---- serialised text ------------------------------------------------------------------------ */

sb_text *sb_text_new(const json_t *obj)
{
    pl_buf b = PL_BUF_INIT, pre = PL_BUF_INIT;
    sb_text *t = NULL;

    if (pl_buf_grow(&b, 2048) < 0 || pl_json_write(&b, obj) < 0)
        goto done;
    if ((t = pl_malloc(sizeof(*t) + b.len + 1)) == NULL)
        goto done;
    t->refs = 1;
    t->len = b.len;
    memcpy(t->s, b.ptr, b.len);
    t->s[b.len] = '\0';
    t->tm_len = 0;
    /* Find the `"kind":"K","apiVersion":"V",` prefix that sb_obj_ordered puts first, so that
     * readers can drop it (list items of built-ins) or rewrite the version cheaply. */
    const char *kind = pl_json_str(obj, "kind", NULL);
    const char *av = pl_json_str(obj, "apiVersion", NULL);
    if (kind != NULL && av != NULL && pl_buf_puts(&pre, "{\"kind\":") == 0 &&
        pl_json_write_string(&pre, kind, strlen(kind)) == 0 &&
        pl_buf_puts(&pre, ",\"apiVersion\":") == 0 &&
        pl_json_write_string(&pre, av, strlen(av)) == 0 && pl_buf_putc(&pre, ',') == 0 &&
        pre.len <= t->len && memcmp(pre.ptr, t->s, pre.len) == 0)
        t->tm_len = pre.len - 1;
done:
    pl_buf_dispose(&b);
    pl_buf_dispose(&pre);
    return t;
}

void sb_store_release(sb_store *st, json_t *obj)
{
    if (obj == NULL)
        return;
    if (pthread_mutex_trylock(&st->lock) == 0) {
        json_decref(obj);
        sb_store_drain_released(st);
        pthread_mutex_unlock(&st->lock);
        return;
    }
    sb_drop *d = pl_malloc(sizeof(*d));
    if (d == NULL) { /* out of memory: wait for the lock rather than leak */
        pthread_mutex_lock(&st->lock);
        json_decref(obj);
        pthread_mutex_unlock(&st->lock);
        return;
    }
    d->obj = obj;
    d->next = atomic_load(&st->drops);
    while (!atomic_compare_exchange_weak(&st->drops, &d->next, d))
        ;
}

void sb_store_drain_released(sb_store *st)
{
    sb_drop *d = atomic_exchange(&st->drops, NULL);
    while (d != NULL) {
        sb_drop *next = d->next;
        json_decref(d->obj);
        pl_free(d);
        d = next;
    }
}

const sb_text *sb_entry_text(sb_entry *e)
{
    if (e->text == NULL)
        e->text = sb_text_new(e->obj);
    return e->text;
}

const sb_text *sb_event_text(sb_event *ev)
{
    if (ev->text == NULL)
        ev->text = sb_text_new(ev->obj);
    return ev->text;
}

int sb_text_append(pl_buf *out, const sb_text *t, const char *kind, const char *gv,
                   int with_typemeta)
{
    if (t->tm_len == 0)
        return pl_buf_put(out, t->s, t->len);
    if (!with_typemeta) {
        /* list items of built-ins carry no kind/apiVersion (API-NOTES §10.4) */
        int rc = pl_buf_putc(out, '{');
        return rc ? rc : pl_buf_put(out, t->s + 1 + t->tm_len, t->len - 1 - t->tm_len);
    }
    if (gv == NULL)
        return pl_buf_put(out, t->s, t->len);
    /* another served version of a CRD: only apiVersion differs (conversion None) */
    int rc = pl_buf_printf(out, "{\"kind\":\"%s\",\"apiVersion\":\"%s\",", kind, gv);
    return rc ? rc : pl_buf_put(out, t->s + 1 + t->tm_len, t->len - 1 - t->tm_len);
}

void sb_text_unref(sb_text *t)
{
    if (t != NULL && --t->refs == 0)
        pl_free(t);
}

static const char *const META_ORDER[] = {
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
    "annotations", "ownerReferences", "finalizers", "managedFields", NULL};

static json_t *ordered_meta(const json_t *meta)
{
    json_t *m = json_object();
    for (int i = 0; META_ORDER[i]; i++) {
        json_t *v = json_object_get(meta, META_ORDER[i]);
        if (v != NULL)
            json_object_set(m, META_ORDER[i], v);
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)meta, k, v) {
        if (json_object_get(m, k) == NULL)
            json_object_set(m, k, v);
    }
    return m;
}

json_t *sb_obj_ordered(const json_t *obj)
{
    /* Go struct order: kind, apiVersion, metadata, then the body fields; status last. */
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    json_t *v;
    if ((v = json_object_get(obj, "kind")) != NULL)
        json_object_set(o, "kind", v);
    if ((v = json_object_get(obj, "apiVersion")) != NULL)
        json_object_set(o, "apiVersion", v);
    if ((v = json_object_get(obj, "metadata")) != NULL)
        json_object_set_new(o, "metadata", json_is_object(v) ? ordered_meta(v) : json_incref(v));
    const char *k;
    json_object_foreach((json_t *)obj, k, v) {
        if (strcmp(k, "status") != 0 && json_object_get(o, k) == NULL)
            json_object_set(o, k, v);
    }
    if ((v = json_object_get(obj, "status")) != NULL)
        json_object_set(o, "status", v);
    return o;
}

/* ---- collections ------------------------------------------------------------------------------ */

static int streq0(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

sb_coll *sb_store_find_coll(sb_store *st, const char *group, const char *resource)
{
    for (size_t i = 0; i < st->ncolls; i++) {
        sb_coll *c = st->colls[i];
        if (streq0(c->group, group) && strcmp(c->resource, resource) == 0)
            return c;
    }
    return NULL;
}

sb_coll *sb_store_coll(sb_store *st, const char *group, const char *resource, const char *kind,
                       int namespaced)
{
    sb_coll *c = sb_store_find_coll(st, group, resource);
    if (c != NULL) {
        /* a CRD may change scope or kind between registrations; the latest wins */
        c->namespaced = namespaced;
        if (kind != NULL && strcmp(c->kind, kind) != 0) {
            char *k = pl_strdup(kind);
            if (k != NULL) {
                pl_free(c->kind);
                c->kind = k;
            }
        }
        return c;
    }
    if (st->ncolls == st->ccap) {
        size_t cap = st->ccap ? st->ccap * 2 : 64;
        sb_coll **n = pl_realloc(st->colls, cap * sizeof(*n));
        if (n == NULL)
            return NULL;
        st->colls = n;
        st->ccap = cap;
    }
    c = pl_calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->group = pl_strdup(group ? group : "");
    c->resource = pl_strdup(resource);
    c->kind = pl_strdup(kind ? kind : "");
    c->namespaced = namespaced;
    if (c->group == NULL || c->resource == NULL || c->kind == NULL) {
        pl_free(c->group);
        pl_free(c->resource);
        pl_free(c->kind);
        pl_free(c);
        return NULL;
    }
    st->colls[st->ncolls++] = c;
    return c;
}

static int key_cmp(const char *ans, const char *aname, const char *bns, const char *bname)
{
    int r = strcmp(ans, bns);
    return r != 0 ? r : strcmp(aname, bname);
}

size_t sb_store_lower_bound(sb_coll *c, const char *ns, const char *name)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (key_cmp(c->items[mid]->ns, c->items[mid]->name, ns, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

sb_entry *sb_store_get(sb_coll *c, const char *ns, const char *name)
{
    if (c == NULL)
        return NULL;
    if (ns == NULL)
        ns = "";
    size_t i = sb_store_lower_bound(c, ns, name);
    if (i < c->n && strcmp(c->items[i]->ns, ns) == 0 && strcmp(c->items[i]->name, name) == 0)
        return c->items[i];
    return NULL;
}

static void entry_free(sb_entry *e)
{
    if (e == NULL)
        return;
    pl_free(e->ns);
    pl_free(e->name);
    json_decref(e->obj);
    sb_text_unref(e->text);
    pl_free(e);
}

/* ---- events --------------------------------------------------------------------------------- */

static void event_dispose(sb_event *ev)
{
    pl_free(ev->ns);
    pl_free(ev->name);
    json_decref(ev->obj);
    json_decref(ev->prev);
    sb_text_unref(ev->text);
    memset(ev, 0, sizeof(*ev));
}

/* The event's text is made when a watcher first needs it (sb_event_text). */
static void record_event(sb_store *st, int type, sb_coll *c, sb_entry *e, json_t *obj,
                         json_t *prev)
{
    if (st->ring_cap == 0)
        return;
    if (st->ring_n == st->ring_cap) {
        sb_event *old = &st->ring[st->ring_start];
        st->ring_floor = old->rv;
        event_dispose(old);
        st->ring_start = (st->ring_start + 1) % st->ring_cap;
        st->ring_n--;
    }
    sb_event *ev = &st->ring[(st->ring_start + st->ring_n) % st->ring_cap];
    ev->type = type;
    ev->coll = c;
    ev->ns = pl_strdup(e->ns);
    ev->name = pl_strdup(e->name);
    ev->obj = json_incref(obj);
    ev->prev = prev ? json_incref(prev) : NULL;
    ev->text = NULL;
    ev->rv = st->rv;
    st->ring_n++;
    pthread_cond_broadcast(&st->changed);
}

/* ---- journal -------------------------------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int compact(sb_store *st);

static void journal_append(sb_store *st, json_t *rec)
{
    if (st->journal_fd < 0) {
        json_decref(rec);
        return;
    }
    char *line = json_dumps(rec, JSON_COMPACT);
    json_decref(rec);
    if (line == NULL)
        return;
    size_t n = strlen(line);
    /* one line per write, fsync'ed before the client sees the answer */
    if (write_all(st->journal_fd, line, n) != 0 || write_all(st->journal_fd, "\n", 1) != 0 ||
        fdatasync(st->journal_fd) != 0)
        pl_log(PL_LOG_ERROR, "sandbox", "cannot append to journal in %s: %s", st->dir,
               strerror(errno));
    st->journal_bytes += n + 1;
    pl_free(line);
    if (st->journal_bytes > JOURNAL_COMPACT_BYTES)
        compact(st);
}

static void journal_put(sb_store *st, sb_coll *c, json_t *obj)
{
    if (st->journal_fd < 0)
        return;
    journal_append(st, json_pack("{s:s,s:s,s:s,s:s,s:b,s:O}", "op", "put", "group", c->group,
                                 "resource", c->resource, "kind", c->kind, "namespaced",
                                 c->namespaced, "obj", obj));
}

static void journal_del(sb_store *st, sb_coll *c, sb_entry *e)
{
    if (st->journal_fd < 0)
        return;
    journal_append(st, json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "op", "del", "group", c->group,
                                 "resource", c->resource, "ns", e->ns, "name", e->name, "rv",
                                 (json_int_t)st->rv));
}

/* ---- put / remove --------------------------------------------------------------------------- */

static int insert_entry(sb_coll *c, sb_entry *e)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        sb_entry **n = pl_realloc(c->items, cap * sizeof(*n));
        if (n == NULL)
            return PL_ENOMEM;
        c->items = n;
        c->cap = cap;
    }
    size_t i = sb_store_lower_bound(c, e->ns, e->name);
    memmove(&c->items[i + 1], &c->items[i], (c->n - i) * sizeof(*c->items));
    c->items[i] = e;
    c->n++;
    return 0;
}

/* Store obj with a given RV (no event, no journal): loading and the common part of put. */
static int put_raw(sb_coll *c, json_t *obj, uint64_t rv, sb_entry **out_entry, json_t **prev)
{
    char rvs[32];
    snprintf(rvs, sizeof(rvs), "%llu", (unsigned long long)rv);
    json_t *meta = json_object_get(obj, "metadata");
    if (!json_is_object(meta)) {
        json_decref(obj);
        return pl_error_set(PL_EINVALID, "object without metadata");
    }
    json_object_set_new(meta, "resourceVersion", json_string(rvs));
    json_t *ordered = sb_obj_ordered(obj);
    json_decref(obj);
    if (ordered == NULL)
        return PL_ENOMEM;
    const char *ns = pl_json_str(ordered, "metadata", "namespace", NULL);
    const char *name = pl_json_str(ordered, "metadata", "name", NULL);
    if (name == NULL) {
        json_decref(ordered);
        return pl_error_set(PL_EINVALID, "object without a name");
    }
    if (!c->namespaced)
        ns = "";
    sb_entry *e = sb_store_get(c, ns ? ns : "", name);
    if (prev != NULL)
        *prev = NULL;
    if (e != NULL) {
        if (prev != NULL)
            *prev = e->obj; /* reference handed to the caller */
        else
            json_decref(e->obj);
        sb_text_unref(e->text);
    } else {
        e = pl_calloc(1, sizeof(*e));
        if (e == NULL || (e->ns = pl_strdup(ns ? ns : "")) == NULL ||
            (e->name = pl_strdup(name)) == NULL || insert_entry(c, e) != 0) {
            if (e != NULL) {
                pl_free(e->ns);
                pl_free(e->name);
                pl_free(e);
            }
            json_decref(ordered);
            return PL_ENOMEM;
        }
    }
    e->obj = ordered;
    e->text = NULL;
    e->rv = rv;
    e->mtime_ms = sb_mono_ms();
    if (out_entry != NULL)
        *out_entry = e;
    return 0;
}

int sb_store_put(sb_store *st, sb_coll *c, json_t *obj, sb_entry **out_entry)
{
    sb_entry *e = NULL;
    json_t *prev = NULL;
    int rc = put_raw(c, obj, st->rv + 1, &e, &prev);
    if (rc < 0)
        return rc;
    st->rv++;
    record_event(st, prev ? SB_EV_MODIFIED : SB_EV_ADDED, c, e, e->obj, prev);
    json_decref(prev);
    journal_put(st, c, e->obj);
    if (json_object_get(json_object_get(e->obj, "metadata"), "deletionTimestamp") != NULL)
        st->bg_dirty = 1;
    if (out_entry != NULL)
        *out_entry = e;
    return 0;
}

int sb_store_remove(sb_store *st, sb_coll *c, sb_entry *e, json_t *last, json_t **out_last)
{
    size_t i = sb_store_lower_bound(c, e->ns, e->name);
    if (i >= c->n || c->items[i] != e) {
        json_decref(last);
        return pl_error_set(PL_ENOTFOUND, "%s %s/%s not stored", c->resource, e->ns, e->name);
    }
    if (last == NULL)
        last = json_deep_copy(e->obj);
    st->rv++;
    char rvs[32];
    snprintf(rvs, sizeof(rvs), "%llu", (unsigned long long)st->rv);
    json_t *meta = json_object_get(last, "metadata");
    if (json_is_object(meta))
        json_object_set_new(meta, "resourceVersion", json_string(rvs));
    json_t *ordered = sb_obj_ordered(last);
    json_decref(last);
    /* DELETED carries the last state with the deletion's RV (API-NOTES §10.1) */
    if (ordered != NULL)
        record_event(st, SB_EV_DELETED, c, e, ordered, NULL);
    journal_del(st, c, e);
    const char *uid = pl_json_str(e->obj, "metadata", "uid", NULL);
    if (uid != NULL)
        sb_gc_note_deleted(st, uid);
    memmove(&c->items[i], &c->items[i + 1], (c->n - i - 1) * sizeof(*c->items));
    c->n--;
    entry_free(e);
    if (out_last != NULL)
        *out_last = ordered;
    else
        json_decref(ordered);
    return 0;
}

void sb_store_kick(sb_store *st)
{
    st->bg_dirty = 1;
    pthread_cond_broadcast(&st->kick);
}

/* ---- persistence ------------------------------------------------------------------------------ */

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Write snapshot.json (tmp + fsync + rename) and empty the journal. */
static int compact(sb_store *st)
{
    int rc = 0;
    pl_buf path = PL_BUF_INIT, tmp = PL_BUF_INIT;
    json_t *objs = json_array();
    for (size_t i = 0; i < st->ncolls; i++) {
        sb_coll *c = st->colls[i];
        for (size_t j = 0; j < c->n; j++)
            json_array_append_new(objs, json_pack("{s:s,s:s,s:s,s:b,s:O}", "group", c->group,
                                                  "resource", c->resource, "kind", c->kind,
                                                  "namespaced", c->namespaced, "obj",
                                                  c->items[j]->obj));
    }
    json_t *snap = json_pack("{s:I,s:o}", "rv", (json_int_t)st->rv, "objects", objs);
    char *text = snap ? json_dumps(snap, JSON_COMPACT) : NULL;
    json_decref(snap);
    if (text == NULL)
        return PL_ENOMEM;
    pl_buf_printf(&path, "%s/snapshot.json", st->dir);
    pl_buf_printf(&tmp, "%s/snapshot.json.tmp", st->dir);
    int fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write_all(fd, text, strlen(text)) != 0 || fsync(fd) != 0) {
        rc = pl_error_set(PL_ERROR, "cannot write %s: %s", tmp.ptr, strerror(errno));
        if (fd >= 0)
            close(fd);
        goto done;
    }
    close(fd);
    if (rename(tmp.ptr, path.ptr) != 0) {
        rc = pl_error_set(PL_ERROR, "cannot rename %s: %s", tmp.ptr, strerror(errno));
        goto done;
    }
    fsync_dir(st->dir);
    if (st->journal_fd >= 0) {
        if (ftruncate(st->journal_fd, 0) != 0 || fdatasync(st->journal_fd) != 0)
            rc = pl_error_set(PL_ERROR, "cannot truncate journal in %s: %s", st->dir,
                              strerror(errno));
        st->journal_bytes = 0;
    }
done:
    pl_free(text);
    pl_buf_dispose(&path);
    pl_buf_dispose(&tmp);
    return rc;
}

static void load_put(sb_store *st, const json_t *rec)
{
    const char *group = pl_json_str(rec, "group", NULL);
    const char *res = pl_json_str(rec, "resource", NULL);
    const char *kind = pl_json_str(rec, "kind", NULL);
    json_t *obj = json_object_get(rec, "obj");
    if (group == NULL || res == NULL || !json_is_object(obj))
        return;
    sb_coll *c = sb_store_coll(st, group, res, kind,
                               json_is_true(json_object_get(rec, "namespaced")));
    const char *rvs = pl_json_str(obj, "metadata", "resourceVersion", NULL);
    uint64_t rv = rvs ? strtoull(rvs, NULL, 10) : 0;
    if (c != NULL)
        put_raw(c, json_deep_copy(obj), rv, NULL, NULL);
    if (rv > st->rv)
        st->rv = rv;
}

static int load_state(sb_store *st)
{
    int rc = 0;
    pl_buf path = PL_BUF_INIT;
    json_error_t jerr;
    pl_buf_printf(&path, "%s/snapshot.json", st->dir);
    json_t *snap = json_load_file(path.ptr, 0, &jerr);
    if (snap != NULL) {
        json_t *objs = json_object_get(snap, "objects");
        size_t i;
        json_t *rec;
        json_array_foreach(objs, i, rec) load_put(st, rec);
        json_t *rv = json_object_get(snap, "rv");
        if (json_is_integer(rv) && (uint64_t)json_integer_value(rv) > st->rv)
            st->rv = (uint64_t)json_integer_value(rv);
        json_decref(snap);
    } else if (access(path.ptr, F_OK) == 0) {
        rc = pl_error_set(PL_EINVALID, "%s: %s", path.ptr, jerr.text);
        goto done;
    }
    pl_buf_clear(&path);
    pl_buf_printf(&path, "%s/journal.jsonl", st->dir);
    FILE *f = fopen(path.ptr, "r");
    if (f != NULL) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, f)) > 0) {
            json_t *rec = json_loadb(line, (size_t)n, 0, &jerr);
            if (rec == NULL)
                break; /* torn tail of a crashed write: everything before it is complete */
            const char *op = pl_json_str(rec, "op", NULL);
            if (op != NULL && strcmp(op, "put") == 0) {
                load_put(st, rec);
            } else if (op != NULL && strcmp(op, "del") == 0) {
                sb_coll *c = sb_store_find_coll(st, pl_json_str(rec, "group", NULL),
                                                pl_json_str(rec, "resource", NULL) ? pl_json_str(rec, "resource", NULL) : "");
                const char *ns = pl_json_str(rec, "ns", NULL);
                const char *name = pl_json_str(rec, "name", NULL);
                sb_entry *e = (c && name) ? sb_store_get(c, ns ? ns : "", name) : NULL;
                if (e != NULL) {
                    size_t i = sb_store_lower_bound(c, e->ns, e->name);
                    memmove(&c->items[i], &c->items[i + 1], (c->n - i - 1) * sizeof(*c->items));
                    c->n--;
                    entry_free(e);
                }
                json_t *rv = json_object_get(rec, "rv");
                if (json_is_integer(rv) && (uint64_t)json_integer_value(rv) > st->rv)
                    st->rv = (uint64_t)json_integer_value(rv);
            }
            json_decref(rec);
        }
        free(line);
        fclose(f);
    }
done:
    pl_buf_dispose(&path);
    return rc;
}

static int open_state(sb_store *st, const char *dir)
{
    int rc;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return pl_error_set(PL_ERROR, "cannot create state directory %s: %s", dir,
                            strerror(errno));
    st->dir = pl_strdup(dir);
    if (st->dir == NULL)
        return PL_ENOMEM;
    if ((rc = load_state(st)) < 0)
        return rc;
    pl_buf path = PL_BUF_INIT;
    pl_buf_printf(&path, "%s/journal.jsonl", dir);
    st->journal_fd = open(path.ptr, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (st->journal_fd < 0)
        rc = pl_error_set(PL_ERROR, "cannot open %s: %s", path.ptr, strerror(errno));
    pl_buf_dispose(&path);
    if (rc == 0)
        rc = compact(st);
    return rc;
}

/* ---- open / close ----------------------------------------------------------------------------- */

static void store_free(sb_store *st)
{
    if (st == NULL)
        return;
    sb_store_drain_released(st);
    for (size_t i = 0; i < st->ring_n; i++)
        event_dispose(&st->ring[(st->ring_start + i) % st->ring_cap]);
    pl_free(st->ring);
    for (size_t i = 0; i < st->ncolls; i++) {
        sb_coll *c = st->colls[i];
        for (size_t j = 0; j < c->n; j++)
            entry_free(c->items[j]);
        pl_free(c->items);
        pl_free(c->group);
        pl_free(c->resource);
        pl_free(c->kind);
        pl_free(c);
    }
    pl_free(st->colls);
    for (size_t i = 0; i < st->gc_n; i++)
        pl_free(st->gc_uids[i]);
    pl_free(st->gc_uids);
    if (st->journal_fd >= 0)
        close(st->journal_fd);
    pl_free(st->dir);
    pthread_mutex_destroy(&st->lock);
    pthread_cond_destroy(&st->changed);
    pthread_cond_destroy(&st->kick);
    pl_free(st);
}

static const char *const SYSTEM_NAMESPACES[] = {"default", "kube-system", "kube-public",
                                                "kube-node-lease", NULL};

int sb_store_open(sb_server *srv)
{
    int rc = 0;
    sb_store *st = pl_calloc(1, sizeof(*st));
    if (st == NULL)
        return pl_error_set(PL_ENOMEM, "out of memory opening the store");
    st->journal_fd = -1;
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->changed, NULL);
    pthread_cond_init(&st->kick, NULL);
    if (srv->watch_history <= 0)
        srv->watch_history = 10000;
    if (srv->crd_establish_delay_ms < 0)
        srv->crd_establish_delay_ms = 0;
    st->ring_cap = (size_t)srv->watch_history;
    st->ring = pl_calloc(st->ring_cap, sizeof(*st->ring));
    if (st->ring == NULL) {
        store_free(st);
        return pl_error_set(PL_ENOMEM, "out of memory opening the store");
    }
    srv->store = st;
    if (srv->state_dir != NULL && (rc = open_state(st, srv->state_dir)) < 0) {
        srv->store = NULL;
        store_free(st);
        return rc;
    }
    st->ring_floor = st->rv;
    pthread_mutex_lock(&st->lock);
    /* namespaces a real cluster always has (API-NOTES §8) */
    for (int i = 0; SYSTEM_NAMESPACES[i] && rc == 0; i++)
        rc = sb_ns_ensure(srv, SYSTEM_NAMESPACES[i]);
    /* CRDs that were Established before a restart serve at once */
    sb_coll *crds = sb_store_find_coll(st, "apiextensions.k8s.io", "customresourcedefinitions");
    for (size_t i = 0; crds != NULL && i < crds->n; i++)
        sb_crd_after_write(srv, crds->items[i]->obj);
    pthread_mutex_unlock(&st->lock);
    if (rc < 0) {
        srv->store = NULL;
        store_free(st);
    }
    return rc;
}

void sb_store_close(sb_server *srv)
{
    if (srv == NULL || srv->store == NULL)
        return;
    sb_bg_stop(srv);
    sb_store *st = srv->store;
    pthread_mutex_lock(&st->lock);
    if (st->journal_fd >= 0)
        compact(st);
    pthread_mutex_unlock(&st->lock);
    srv->store = NULL;
    store_free(st);
}

/* ---- background thread -------------------------------------------------------------------- */

static void *bg_main(void *arg)
{
    sb_server *srv = arg;
    sb_store *st = srv->store;
    int64_t last_sim = 0;
    pthread_mutex_lock(&st->lock);
    while (!st->bg_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&st->kick, &st->lock, &ts);
        if (st->bg_stop)
            break;
        sb_crd_tick(srv);
        if (st->bg_dirty || st->gc_n > 0) {
            st->bg_dirty = 0;
            sb_gc_tick(srv);
            sb_ns_tick(srv);
        }
        int64_t now = sb_mono_ms();
        if (srv->simulate_status && now - last_sim >= 50) {
            last_sim = now;
            sb_sim_tick(srv);
        }
    }
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

int sb_bg_start(sb_server *srv)
{
    sb_store *st = srv->store;
    if (st == NULL)
        return pl_error_set(PL_ERROR, "store not open");
    if (st->bg_running)
        return 0;
    st->bg_stop = 0;
    if (pthread_create(&st->bg, NULL, bg_main, srv) != 0)
        return pl_error_set(PL_ERROR, "cannot start the sandbox background thread");
    st->bg_running = 1;
    return 0;
}

void sb_bg_stop(sb_server *srv)
{
    sb_store *st = srv ? srv->store : NULL;
    if (st == NULL)
        return;
    if (!st->bg_running) {
        pthread_mutex_lock(&st->lock);
        st->closing = 1; /* watch streams end */
        pthread_cond_broadcast(&st->changed);
        pthread_mutex_unlock(&st->lock);
        return;
    }
    pthread_mutex_lock(&st->lock);
    st->bg_stop = 1;
    st->closing = 1;
    pthread_cond_broadcast(&st->kick);
    pthread_cond_broadcast(&st->changed);
    pthread_mutex_unlock(&st->lock);
    pthread_join(st->bg, NULL);
    st->bg_running = 0;
}

int sb_api_start_background(sb_server *srv)
{
    return sb_bg_start(srv);
}

void sb_api_stop_background(sb_server *srv)
{
    sb_bg_stop(srv);
}
