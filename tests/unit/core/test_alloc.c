/*
 * test_alloc.c - the small-block pool of engine/core/alloc.c (pl_alloc_pool_enter/leave):
 * contents survive reallocation across the pool/libc boundary, freed blocks are reused,
 * blocks freed on another thread (or outside a pool section) come back, calloc zeroes
 * reused blocks, and jansson output made outside a section can still go to free().
 * Under AddressSanitizer the pool is off (libc serves everything); the tests that depend on
 * reuse only check what holds either way there.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plumb/core.h"

#if defined(__SANITIZE_ADDRESS__)
#define POOL_EXPECTED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define POOL_EXPECTED 0
#endif
#endif
#ifndef POOL_EXPECTED
#define POOL_EXPECTED 1
#endif

static int setup(void **state)
{
    (void)state;
    unsetenv("PLUMB_ALLOC"); /* read once, at the first pool section */
    return 0;
}

static void test_core_alloc__realloc_keeps_contents(void **state)
{
    char *p, *q;

    (void)state;
    pl_alloc_pool_enter();
    p = pl_malloc(10);
    assert_non_null(p);
    memset(p, 'a', 10);
    /* pool class to pool class, then out to libc, then back into the pool */
    q = pl_realloc(p, 600);
    assert_non_null(q);
    for (int i = 0; i < 10; i++)
        assert_int_equal(q[i], 'a');
    memset(q, 'b', 600);
    p = pl_realloc(q, 5000);
    assert_non_null(p);
    for (int i = 0; i < 600; i++)
        assert_int_equal(p[i], 'b');
    q = pl_realloc(p, 20);
    assert_non_null(q);
    for (int i = 0; i < 20; i++)
        assert_int_equal(q[i], 'b');
    pl_free(q);
    pl_alloc_pool_leave();
}

static void test_core_alloc__freed_blocks_reused(void **state)
{
    void *p, *q, *r;

    (void)state;
    pl_alloc_pool_enter();
    p = pl_malloc(100);
    assert_non_null(p);
    pl_free(p);
    q = pl_malloc(100);
    r = pl_malloc(100);
    assert_non_null(q);
    assert_non_null(r);
    assert_ptr_not_equal(q, r);
    if (POOL_EXPECTED)
        assert_ptr_equal(q, p); /* the last block freed is the next one handed out */
    pl_free(q);
    pl_free(r);
    pl_alloc_pool_leave();
}

static void test_core_alloc__calloc_zeroes_reused(void **state)
{
    unsigned char *p, *q;

    (void)state;
    pl_alloc_pool_enter();
    p = pl_malloc(64);
    assert_non_null(p);
    memset(p, 0xff, 64);
    pl_free(p);
    q = pl_calloc(4, 16);
    assert_non_null(q);
    for (int i = 0; i < 64; i++)
        assert_int_equal(q[i], 0);
    pl_free(q);
    assert_null(pl_calloc((size_t)-1, 16)); /* overflow */
    pl_alloc_pool_leave();
}

enum { NBLOCKS = 20000 };

typedef struct job {
    void **blocks;
    size_t n;
    int hits;
    void **freed; /* sorted, for the membership check */
} job;

static void *alloc_main(void *arg)
{
    job *j = arg;

    pl_alloc_pool_enter();
    for (size_t i = 0; i < j->n; i++) {
        j->blocks[i] = pl_malloc(32);
        memset(j->blocks[i], (int)(i & 0xff), 32);
    }
    pl_alloc_pool_leave();
    return NULL;
}

static int ptr_cmp(const void *a, const void *b)
{
    const char *x = *(void *const *)a, *y = *(void *const *)b;
    return x < y ? -1 : x > y;
}

static void *reuse_main(void *arg)
{
    job *j = arg;

    void *got[16];

    pl_alloc_pool_enter();
    for (int i = 0; i < 16; i++) {
        got[i] = pl_malloc(32);
        if (bsearch(&got[i], j->freed, j->n, sizeof(void *), ptr_cmp))
            j->hits++;
    }
    for (int i = 0; i < 16; i++)
        pl_free(got[i]);
    pl_alloc_pool_leave();
    return NULL;
}

/* Blocks made on one thread, checked and freed on this one outside any pool section, are
 * handed to a third thread that allocates afterwards. */
static void test_core_alloc__cross_thread_free(void **state)
{
    job j = {NULL, NBLOCKS, 0, NULL};
    pthread_t th;

    (void)state;
    j.blocks = calloc(NBLOCKS, sizeof(void *));
    assert_non_null(j.blocks);
    assert_int_equal(pthread_create(&th, NULL, alloc_main, &j), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    for (size_t i = 0; i < NBLOCKS; i++) {
        unsigned char *b = j.blocks[i];
        assert_non_null(b);
        assert_int_equal(b[0], (int)(i & 0xff));
        assert_int_equal(b[31], (int)(i & 0xff));
    }
    qsort(j.blocks, NBLOCKS, sizeof(void *), ptr_cmp);
    for (size_t i = 1; i < NBLOCKS; i++)
        assert_ptr_not_equal(j.blocks[i - 1], j.blocks[i]);
    for (size_t i = 0; i < NBLOCKS; i++)
        pl_free(j.blocks[i]);
    /* this thread keeps only so much: the rest is passed on to other threads */
    j.freed = j.blocks;
    assert_int_equal(pthread_create(&th, NULL, reuse_main, &j), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    if (POOL_EXPECTED)
        assert_int_equal(j.hits, 16);
    free(j.blocks);
}

/* JSON made inside a section is released outside it; text made outside goes to free(). */
static void test_core_alloc__jansson_inside_and_outside(void **state)
{
    json_t *o;
    char *text;

    (void)state;
    pl_alloc_pool_enter();
    o = json_pack("{s:s, s:[i,i], s:{s:b}}", "name", "web", "ports", 80, 443, "x", "y", 1);
    assert_non_null(o);
    pl_alloc_pool_leave();
    text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(text);
    assert_string_equal(text, "{\"name\":\"web\",\"ports\":[80,443],\"x\":{\"y\":true}}");
    free(text); /* made outside a section: libc's */
    json_decref(o);
}

static void test_core_alloc__nested_sections(void **state)
{
    char *p, *q;

    (void)state;
    pl_alloc_pool_enter();
    pl_alloc_pool_enter();
    p = pl_strdup("nested");
    pl_alloc_pool_leave();
    q = pl_strndup("outer section", 5);
    pl_alloc_pool_leave();
    pl_alloc_pool_leave(); /* one too many: ignored */
    assert_string_equal(p, "nested");
    assert_string_equal(q, "outer");
    pl_free(p);
    pl_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_core_alloc__realloc_keeps_contents),
        cmocka_unit_test(test_core_alloc__freed_blocks_reused),
        cmocka_unit_test(test_core_alloc__calloc_zeroes_reused),
        cmocka_unit_test(test_core_alloc__cross_thread_free),
        cmocka_unit_test(test_core_alloc__jansson_inside_and_outside),
        cmocka_unit_test(test_core_alloc__nested_sections),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
