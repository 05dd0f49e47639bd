/*
 * alloc.c - the only place that calls the C allocator.
 *
 * Everything in the engine allocates through pl_malloc & co so tests can count or fail
 * allocations (curl's curlx_ memdebug, libgit2's failalloc). The hooks are also handed to
 * jansson so JSON trees follow the same policy. libyaml has no hook.
 *
 * The pool. A render builds and throws away hundreds of thousands of small JSON nodes;
 * glibc's malloc spends about 150 instructions on each of them once its per-thread cache is
 * empty, which is most of the time while a tree grows, about a fifth of a render. A thread
 * between pl_alloc_pool_enter() and pl_alloc_pool_leave() therefore takes small blocks
 * (up to POOL_MAX bytes) from size-class free lists kept per thread, carved from one
 * reserved address range. Blocks are told apart from libc's by their address alone, so
 * pl_free (and jansson, which gets wrappers of pl_malloc/pl_free once the pool is first
 * used) releases either kind from any thread, inside or outside a pool section; memory
 * allocated outside pool sections is libc's, so code that hands such memory to free()
 * (json_dumps text, for instance) is unaffected. Freed pool blocks are reused and never go
 * back to the system; a thread that frees much more than it allocates hands its surplus to
 * a shared list, and an exiting thread hands over everything it holds.
 *
 * The pool is off when hooks are installed (tests), under AddressSanitizer (its leak and
 * use-after-free checks need libc's allocator) and with PLUMB_ALLOC=system.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "plumb/core.h"

static pl_alloc_hooks hooks = {malloc, realloc, free};
static int hooks_custom;

/* AddressSanitizer's leak and use-after-free checks need every block from libc (ThreadSanitizer
 * does not: it checks the pool's own hand-overs between threads) */
#if defined(__SANITIZE_ADDRESS__)
#define POOL_DISABLED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define POOL_DISABLED 1
#endif
#endif
#ifndef POOL_DISABLED
#define POOL_DISABLED 0
#endif

enum {
    SLAB_SHIFT = 16,                       /* 64 KiB of one size class */
    SLAB = 1 << SLAB_SHIFT,
    COMMIT = 32 * SLAB,                    /* address range made writable at a time (2 MiB) */
    POOL_MAX = 1024,                       /* larger requests go to libc */
    NCLASS = 24,
    KEEP_BYTES = 256 * 1024,               /* free bytes a thread keeps per class */
};
#define REGION_SIZE ((size_t)16 << 30) /* reserved, not committed: 16 GiB of addresses */
#define HUGE ((size_t)2 << 20)         /* a transparent huge page */

/* block sizes: 16..256 by 16, then 320..512 by 64, then 640..1024 by 128 */
static const unsigned short class_size[NCLASS] = {16,  32,  48,  64,  80,  96,  112, 128,
                                                  144, 160, 176, 192, 208, 224, 240, 256,
                                                  320, 384, 448, 512, 640, 768, 896, 1024};

static unsigned class_of(size_t n)
{
    if (n <= 256)
        return n ? (unsigned)((n + 15) >> 4) - 1 : 0;
    if (n <= 512)
        return 16 + (unsigned)((n - 257) >> 6);
    return 20 + (unsigned)((n - 513) >> 7);
}

/* A freed block: its first word links the thread's list; in the shared list the second
 * word links batches (every block is at least 16 bytes). */
typedef struct fblock {
    struct fblock *next;
    struct fblock *next_batch;
} fblock;

typedef struct span {
    char *bump, *end;
} span;

typedef struct tclass {
    fblock *free;
    size_t nfree;
    span s;
} tclass;

typedef struct tcache {
    int depth;      /* pool sections entered and not left */
    int registered; /* the exit destructor knows this thread */
    tclass c[NCLASS];
} tcache;

static _Thread_local tcache tc;

/* shared state, under `lock` (region_base is written once, before any pool block exists) */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;
static char *region_base;         /* NULL: no pool */
static size_t region_next;        /* offset of the next unused slab */
static size_t region_committed;   /* offset up to which the range is writable */
static unsigned char *slab_class; /* class of each slab handed out */
static fblock *shared_batches[NCLASS];
static span *shared_spans[NCLASS];
static size_t shared_nspans[NCLASS], shared_capspans[NCLASS];

static int in_pool(const void *p)
{
    const char *base = __atomic_load_n(&region_base, __ATOMIC_ACQUIRE);
    return base && (uintptr_t)p - (uintptr_t)base < REGION_SIZE;
}

static unsigned block_class(const void *p)
{
    return slab_class[((uintptr_t)p - (uintptr_t)region_base) >> SLAB_SHIFT];
}

static void give_back(tcache *t)
{
    pthread_mutex_lock(&lock);
    for (unsigned k = 0; k < NCLASS; k++) {
        tclass *c = &t->c[k];
        if (c->free) {
            c->free->next_batch = shared_batches[k];
            shared_batches[k] = c->free;
        }
        if (c->s.bump && c->s.end - c->s.bump >= class_size[k]) {
            if (shared_nspans[k] == shared_capspans[k]) {
                size_t cap = shared_capspans[k] ? shared_capspans[k] * 2 : 16;
                span *ns = realloc(shared_spans[k], cap * sizeof(*ns));
                if (!ns)
                    goto next; /* the rest of that slab is lost, nothing else */
                shared_spans[k] = ns;
                shared_capspans[k] = cap;
            }
            shared_spans[k][shared_nspans[k]++] = c->s;
        }
    next:
        c->free = NULL;
        c->nfree = 0;
        c->s.bump = c->s.end = NULL;
    }
    pthread_mutex_unlock(&lock);
}

static void thread_exit(void *arg)
{
    give_back(arg);
}

static void pool_init(void)
{
    const char *env = getenv("PLUMB_ALLOC");
    void *base;

    if (POOL_DISABLED || (env && !strcmp(env, "system")))
        return;
    if (pthread_key_create(&exit_key, thread_exit) != 0)
        return;
    /* addresses only: nothing is committed until a slab is handed out */
    base = mmap(NULL, REGION_SIZE + HUGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                -1, 0);
    if (base == MAP_FAILED)
        return;
    slab_class = calloc(REGION_SIZE >> SLAB_SHIFT, 1);
    if (!slab_class) {
        munmap(base, REGION_SIZE + HUGE);
        return;
    }
    /* on a 2 MiB boundary, and transparent huge pages where the system allows them: the pool
     * is filled densely, and one fault per 2 MiB costs far less than one per 4 KiB page */
    base = (void *)(((uintptr_t)base + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
#ifdef MADV_HUGEPAGE
    madvise(base, REGION_SIZE, MADV_HUGEPAGE);
#endif
    __atomic_store_n(&region_base, (char *)base, __ATOMIC_RELEASE);
}

/* A run of free blocks of class k for this thread: a shared batch, a shared span, or a new
 * slab. 0 when the range is used up (the caller falls back to libc). */
static int refill(tclass *c, unsigned k)
{
    int ok = 0;

    pthread_mutex_lock(&lock);
    if (shared_batches[k]) {
        c->free = shared_batches[k];
        shared_batches[k] = c->free->next_batch;
        c->nfree = 0; /* unknown; only bounds how much the thread keeps */
        ok = 1;
    } else if (shared_nspans[k]) {
        c->s = shared_spans[k][--shared_nspans[k]];
        ok = 1;
    } else if (region_next + SLAB <= REGION_SIZE) {
        if (region_next + SLAB > region_committed) {
            size_t len = region_committed + COMMIT <= REGION_SIZE ? COMMIT : SLAB;
            if (mprotect(region_base + region_committed, len, PROT_READ | PROT_WRITE) != 0)
                goto out;
            region_committed += len;
        }
        slab_class[region_next >> SLAB_SHIFT] = (unsigned char)k;
        c->s.bump = region_base + region_next;
        c->s.end = c->s.bump + SLAB;
        region_next += SLAB;
        ok = 1;
    }
out:
    pthread_mutex_unlock(&lock);
    return ok;
}

static void register_thread(tcache *t)
{
    t->registered = 1;
    pthread_setspecific(exit_key, t);
}

static void *pool_alloc(size_t n)
{
    unsigned k = class_of(n);
    tclass *c = &tc.c[k];
    void *p;

    for (;;) {
        if (c->free) {
            fblock *b = c->free;
            c->free = b->next;
            if (c->nfree)
                c->nfree--;
            return b;
        }
        if (c->s.bump && c->s.end - c->s.bump >= class_size[k]) {
            p = c->s.bump;
            c->s.bump += class_size[k];
            return p;
        }
        if (!tc.registered)
            register_thread(&tc);
        if (!refill(c, k))
            return malloc(n);
    }
}

static void pool_free(void *p)
{
    unsigned k = block_class(p);
    tclass *c = &tc.c[k];
    fblock *b = p;

    if (!tc.registered)
        register_thread(&tc); /* what it holds goes back when it exits */
    b->next = c->free;
    c->free = b;
    /* a thread that only frees (a consumer of render results) passes its blocks on */
    if (++c->nfree * class_size[k] > KEEP_BYTES) {
        pthread_mutex_lock(&lock);
        c->free->next_batch = shared_batches[k];
        shared_batches[k] = c->free;
        pthread_mutex_unlock(&lock);
        c->free = NULL;
        c->nfree = 0;
    }
}

static int pool_on(void)
{
    return tc.depth > 0 && !hooks_custom && region_base;
}

/* jansson gets these once the pool is in use, so JSON nodes follow the same policy */
static void *json_malloc_fn(size_t n)
{
    return pl_malloc(n);
}

static void json_free_fn(void *p)
{
    pl_free(p);
}

static void pool_json_init(void)
{
    pool_init();
    if (region_base && !hooks_custom)
        json_set_alloc_funcs(json_malloc_fn, json_free_fn);
}

void pl_alloc_pool_enter(void)
{
    if (tc.depth++ == 0)
        pthread_once(&once, pool_json_init);
}

void pl_alloc_pool_leave(void)
{
    if (tc.depth > 0)
        tc.depth--;
}

void pl_alloc_set_hooks(const pl_alloc_hooks *h)
{
    if (h) {
        hooks = *h;
        hooks_custom = 1;
    } else {
        hooks.malloc_fn = malloc;
        hooks.realloc_fn = realloc;
        hooks.free_fn = free;
        hooks_custom = 0;
    }
    /* pool blocks handed out earlier still go back through pl_free */
    json_set_alloc_funcs(json_malloc_fn, json_free_fn);
}

void *pl_malloc(size_t n)
{
    if (n <= POOL_MAX && pool_on())
        return pool_alloc(n);
    return hooks.malloc_fn(n ? n : 1);
}

void *pl_calloc(size_t n, size_t size)
{
    void *p;

    if (size && n > SIZE_MAX / size)
        return NULL;
    p = pl_malloc(n * size != 0 ? n * size : 1);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *pl_realloc(void *p, size_t n)
{
    if (p && in_pool(p)) {
        size_t have = class_size[block_class(p)];
        void *q;
        if (n <= have && n > have / 2)
            return p;
        if (!(q = pl_malloc(n)))
            return NULL;
        memcpy(q, p, n < have ? n : have);
        pool_free(p);
        return q;
    }
    if (!p && n <= POOL_MAX && pool_on())
        return pool_alloc(n);
    return hooks.realloc_fn(p, n ? n : 1);
}

char *pl_strndup(const char *s, size_t n)
{
    char *p = pl_malloc(n + 1);

    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *pl_strdup(const char *s)
{
    return s ? pl_strndup(s, strlen(s)) : NULL;
}

void pl_free(void *p)
{
    if (!p)
        return;
    if (in_pool(p))
        pool_free(p);
    else
        hooks.free_fn(p);
}
