/*
 * kz_parallel.c - passes over many resources split across the build's spare threads.
 *
 * kustomize runs a transformer over the resources one after the other; most transformers
 * (namespace, prefix/suffix, labels, annotations, images, patches on selected targets) change
 * each resource on its own. After the bases of an overlay have been built concurrently, the
 * overlay's own transformers would otherwise leave all but one core idle over the whole
 * accumulated list, so such passes split the list into chunks of consecutive resources
 * instead. A chunk stops at its first error, and chunks are handed out in order, so the first
 * failing chunk holds the error a sequential pass would have met first.
 */
#include <stdio.h>
#include <string.h>

#include "kz.h"

enum { MAX_THREADS = 8, CHUNK = 16 };

/*
 * The threads take chunks of CHUNK resources in order from a shared counter rather than one
 * fixed range each: on a busy machine a helper thread may get its core late or not at all,
 * and the caller's thread then simply takes more chunks instead of waiting.
 */
typedef struct range_set {
    pl_kz_range_fn fn;
    size_t n, nchunks;
    size_t next;          /* next chunk to take (atomic) */
    pthread_mutex_t lock; /* guards the fields below */
    size_t failed;        /* first failing chunk so far (nchunks: none) */
    int error;
    char msg[sizeof(((pl_error *)0)->message)];
} range_set;

typedef struct range_thread {
    range_set *set;
    void *part;
} range_thread;

static void run_chunks(range_set *set, void *part)
{
    size_t c;

    while ((c = __atomic_fetch_add(&set->next, 1, __ATOMIC_RELAXED)) < set->nchunks) {
        size_t from = c * CHUNK, to = from + CHUNK < set->n ? from + CHUNK : set->n;
        int error;

        /* chunks after a failed one are never needed: the first failure in order wins */
        if (c > __atomic_load_n(&set->failed, __ATOMIC_RELAXED))
            return;
        pl_error_clear();
        if ((error = set->fn(part, from, to)) < 0) {
            pthread_mutex_lock(&set->lock);
            if (c < set->failed) {
                __atomic_store_n(&set->failed, c, __ATOMIC_RELAXED);
                set->error = error;
                snprintf(set->msg, sizeof(set->msg), "%s", pl_error_last()->message);
            }
            pthread_mutex_unlock(&set->lock);
            return;
        }
    }
}

static void *range_main(void *arg)
{
    range_thread *t = arg;

    /* the build's threads allocate from the pool (see pl_kustomize_build) */
    pl_alloc_pool_enter();
    run_chunks(t->set, t->part);
    pl_alloc_pool_leave();
    return NULL;
}

/* Spare threads taken from the build's budget (at most want). */
static size_t take_threads(const pl_kz_workers *w, size_t want)
{
    size_t got = 0;

    if (!w || !w->lock || !w->free || want == 0)
        return 0;
    pthread_mutex_lock(w->lock);
    if (*w->free > 0) {
        got = (size_t)*w->free < want ? (size_t)*w->free : want;
        *w->free -= (int)got;
    }
    pthread_mutex_unlock(w->lock);
    return got;
}

static void give_threads(const pl_kz_workers *w, size_t n)
{
    if (!n)
        return;
    pthread_mutex_lock(w->lock);
    *w->free += (int)n;
    pthread_mutex_unlock(w->lock);
}

int pl_kz_parallel_ranges(const pl_kz_ctx *ctx, size_t n, size_t min_per_range, pl_kz_range_fn fn,
                          void *parts, size_t part_size, size_t nparts_max, size_t *nused)
{
    range_set set;
    range_thread rt[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    const pl_kz_workers *w = ctx ? ctx->workers : NULL;
    size_t nt = 1, extra = 0, k;
    int error = 0;

    if (min_per_range == 0)
        min_per_range = 1;
    if (nparts_max > MAX_THREADS)
        nparts_max = MAX_THREADS;
    /* threads worth starting: each has at least min_per_range resources to do */
    if (nparts_max > 1 && n >= 2 * min_per_range) {
        size_t want = n / min_per_range;
        if (want > nparts_max)
            want = nparts_max;
        extra = take_threads(w, want - 1);
        nt = 1 + extra;
    }
    if (nused)
        *nused = nt;
    if (nt == 1)
        return fn(parts, 0, n);
    memset(&set, 0, sizeof(set));
    set.fn = fn;
    set.n = n;
    set.nchunks = (n + CHUNK - 1) / CHUNK;
    set.failed = set.nchunks;
    pthread_mutex_init(&set.lock, NULL);
    for (k = 0; k < nt; k++) {
        rt[k].set = &set;
        rt[k].part = (char *)parts + k * part_size;
    }
    for (k = 1; k < nt; k++)
        started[k] = pthread_create(&th[k], NULL, range_main, &rt[k]) == 0;
    run_chunks(&set, rt[0].part);
    for (k = 1; k < nt; k++)
        if (started[k])
            pthread_join(th[k], NULL);
    give_threads(w, extra);
    if (set.failed < set.nchunks)
        error = pl_error_set(set.error, "%s", set.msg);
    pthread_mutex_destroy(&set.lock);
    return error;
}
