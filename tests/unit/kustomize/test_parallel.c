/*
 * test_parallel.c - pl_kz_parallel_ranges (kz_parallel.c): every resource is visited exactly
 * once whatever the number of threads, the spare-thread budget is returned, the error
 * reported is the first in resource order (what a sequential pass meets), and without
 * workers the pass is one call on this thread.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kz.h"

enum { N = 1000, PARTS = 4 };

typedef struct part {
    unsigned *visits; /* per resource, shared (atomic) */
    size_t fail_a, fail_b; /* resources whose step fails (N: none) */
    size_t calls;
    pthread_t owner;
    int mixed_owner; /* a part was used by two threads */
} part;

static int step_range(void *arg, size_t from, size_t to)
{
    part *p = arg;

    if (p->calls++ == 0)
        p->owner = pthread_self();
    else if (!pthread_equal(p->owner, pthread_self()))
        p->mixed_owner = 1;
    for (size_t i = from; i < to; i++) {
        __atomic_fetch_add(&p->visits[i], 1, __ATOMIC_RELAXED);
        if (i == p->fail_a || i == p->fail_b)
            return pl_error_set(PL_EINVALID, "resource %zu: cannot transform", i);
    }
    return 0;
}

typedef struct fixture {
    pthread_mutex_t lock;
    int free;
    pl_kz_workers workers;
    pl_kz_ctx ctx;
    unsigned visits[N];
    part parts[PARTS];
} fixture;

static void init(fixture *f, int spare, size_t fail_a, size_t fail_b)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->lock, NULL);
    f->free = spare;
    f->workers.lock = &f->lock;
    f->workers.free = &f->free;
    f->ctx.workers = &f->workers;
    for (int k = 0; k < PARTS; k++) {
        f->parts[k].visits = f->visits;
        f->parts[k].fail_a = fail_a;
        f->parts[k].fail_b = fail_b;
    }
}

static void test_kz_parallel__each_resource_once(void **state)
{
    static fixture f;
    size_t used = 0;

    (void)state;
    for (int round = 0; round < 20; round++) {
        init(&f, 3, N, N);
        assert_int_equal(pl_kz_parallel_ranges(&f.ctx, N, 100, step_range, f.parts,
                                               sizeof(f.parts[0]), PARTS, &used),
                         0);
        assert_int_equal(used, 4); /* three spare threads and this one */
        for (size_t i = 0; i < N; i++)
            assert_int_equal(f.visits[i], 1);
        for (int k = 0; k < PARTS; k++)
            assert_int_equal(f.parts[k].mixed_owner, 0);
        assert_int_equal(f.free, 3); /* the budget is given back */
        pthread_mutex_destroy(&f.lock);
    }
}

static void test_kz_parallel__budget_and_minimum(void **state)
{
    static fixture f;
    size_t used = 0;

    (void)state;
    /* one spare thread: two parts at most */
    init(&f, 1, N, N);
    assert_int_equal(pl_kz_parallel_ranges(&f.ctx, N, 100, step_range, f.parts,
                                           sizeof(f.parts[0]), PARTS, &used),
                     0);
    assert_int_equal(used, 2);
    assert_int_equal(f.free, 1);
    pthread_mutex_destroy(&f.lock);
    /* too few resources for a second thread: one call covers them all */
    init(&f, 3, N, N);
    assert_int_equal(pl_kz_parallel_ranges(&f.ctx, 150, 100, step_range, f.parts,
                                           sizeof(f.parts[0]), PARTS, &used),
                     0);
    assert_int_equal(used, 1);
    assert_int_equal(f.parts[0].calls, 1);
    assert_int_equal(f.visits[149], 1);
    assert_int_equal(f.visits[150], 0);
    pthread_mutex_destroy(&f.lock);
}

static void test_kz_parallel__first_error_in_order(void **state)
{
    static fixture f;

    (void)state;
    for (int round = 0; round < 20; round++) {
        init(&f, 3, 700, 301);
        assert_int_equal(pl_kz_parallel_ranges(&f.ctx, N, 50, step_range, f.parts,
                                               sizeof(f.parts[0]), PARTS, NULL),
                         PL_EINVALID);
        assert_string_equal(pl_error_last()->message, "resource 301: cannot transform");
        /* everything before the failing resource was done, as sequentially */
        for (size_t i = 0; i <= 301; i++)
            assert_int_equal(f.visits[i], 1);
        assert_int_equal(f.free, 3);
        pthread_mutex_destroy(&f.lock);
    }
}

static void test_kz_parallel__no_workers(void **state)
{
    static fixture f;
    size_t used = 0;

    (void)state;
    init(&f, 0, N, N);
    f.ctx.workers = NULL;
    assert_int_equal(pl_kz_parallel_ranges(&f.ctx, N, 10, step_range, f.parts,
                                           sizeof(f.parts[0]), PARTS, &used),
                     0);
    assert_int_equal(used, 1);
    assert_int_equal(f.parts[0].calls, 1);
    assert_int_equal(f.parts[1].calls, 0);
    assert_int_equal(pl_kz_parallel_ranges(NULL, N, 10, step_range, f.parts, sizeof(f.parts[0]),
                                           PARTS, &used),
                     0);
    assert_int_equal(used, 1);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(f.visits[i], 2);
    /* the sequential error is the first one too */
    f.parts[0].fail_a = 10;
    assert_int_equal(pl_kz_parallel_ranges(NULL, N, 10, step_range, f.parts, sizeof(f.parts[0]),
                                           PARTS, NULL),
                     PL_EINVALID);
    assert_string_equal(pl_error_last()->message, "resource 10: cannot transform");
    pthread_mutex_destroy(&f.lock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kz_parallel__each_resource_once),
        cmocka_unit_test(test_kz_parallel__budget_and_minimum),
        cmocka_unit_test(test_kz_parallel__first_error_in_order),
        cmocka_unit_test(test_kz_parallel__no_workers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
