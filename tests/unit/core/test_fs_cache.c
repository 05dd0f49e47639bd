/*
 * test_fs_cache.c - the directory backend's per-render memory (pl_fs_cache_begin/end):
 * kinds and real paths are the same with and without it (files, directories, symlinks to
 * either, missing paths), what it learnt stays fixed until the last end, and nothing of it
 * survives that end.
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "plumb/fs.h"

typedef struct fixture {
    char root[256]; /* real path of a fresh temporary directory */
    pl_fs *fs;
} fixture;

static char *at(const fixture *f, const char *rel)
{
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof(buf[0]), "%s/%s", f->root, rel);
    return p;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    char tmpl[] = "/tmp/plumb-fscache-XXXXXX", real[PATH_MAX];

    if (!f || !mkdtemp(tmpl) || !realpath(tmpl, real) || strlen(real) >= sizeof(f->root) ||
        pl_fs_dir_new(&f->fs) < 0)
        return -1;
    memcpy(f->root, real, strlen(real) + 1);
    write_file(at(f, "a.yaml"), "kind: A\n");
    if (mkdir(at(f, "d"), 0755) < 0 || symlink("a.yaml", at(f, "link.yaml")) < 0 ||
        symlink("d", at(f, "dlink")) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    const char *names[] = {"a.yaml", "b.yaml", "link.yaml", "dlink"};

    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
        unlink(at(f, names[i]));
    rmdir(at(f, "d"));
    rmdir(f->root);
    pl_fs_free(f->fs);
    free(f);
    return 0;
}

static void check_tree(fixture *f)
{
    char *real = NULL;

    assert_int_equal(pl_fs_kind_of(f->fs, at(f, "a.yaml")), PL_FS_FILE);
    assert_int_equal(pl_fs_kind_of(f->fs, at(f, "d")), PL_FS_DIR);
    assert_int_equal(pl_fs_kind_of(f->fs, at(f, "link.yaml")), PL_FS_FILE);
    assert_int_equal(pl_fs_kind_of(f->fs, at(f, "dlink")), PL_FS_DIR);
    assert_int_equal(pl_fs_kind_of(f->fs, at(f, "missing.yaml")), PL_FS_NONE);
    /* twice: the second answer may come from the cache */
    assert_int_equal(pl_fs_kind_of(f->fs, at(f, "link.yaml")), PL_FS_FILE);

    assert_int_equal(pl_fs_realpath(f->fs, at(f, "link.yaml"), &real), 0);
    assert_string_equal(real, at(f, "a.yaml"));
    pl_free(real);
    assert_int_equal(pl_fs_realpath(f->fs, at(f, "a.yaml"), &real), 0);
    assert_string_equal(real, at(f, "a.yaml"));
    pl_free(real);
    assert_int_equal(pl_fs_realpath(f->fs, at(f, "dlink"), &real), 0);
    assert_string_equal(real, at(f, "d"));
    pl_free(real);
    real = NULL;
    assert_int_equal(pl_fs_realpath(f->fs, at(f, "missing.yaml"), &real), PL_ENOTFOUND);
    assert_null(real);
}

static void test_core_fs_cache__same_answers(void **state)
{
    fixture *f = *state;

    check_tree(f);
    pl_fs_cache_begin(f->fs);
    check_tree(f);
    check_tree(f);
    pl_fs_cache_end(f->fs);
    check_tree(f);
}

static void test_core_fs_cache__forgets_after_last_end(void **state)
{
    fixture *f = *state;
    const char *b = at(f, "b.yaml");
    pl_buf text = PL_BUF_INIT;

    pl_fs_cache_begin(f->fs);
    pl_fs_cache_begin(f->fs); /* a second render on the same tree */
    assert_int_equal(pl_fs_kind_of(f->fs, b), PL_FS_NONE);
    write_file(b, "kind: B\n");
    /* the tree is taken not to change during a render */
    assert_int_equal(pl_fs_kind_of(f->fs, b), PL_FS_NONE);
    pl_fs_cache_end(f->fs);
    assert_int_equal(pl_fs_kind_of(f->fs, b), PL_FS_NONE);
    /* reads are never cached */
    assert_int_equal(pl_fs_read(f->fs, b, &text), 0);
    assert_string_equal(text.ptr, "kind: B\n");
    pl_fs_cache_end(f->fs);
    assert_int_equal(pl_fs_kind_of(f->fs, b), PL_FS_FILE);
    pl_fs_cache_end(f->fs); /* unbalanced: ignored */
    assert_int_equal(pl_fs_kind_of(f->fs, b), PL_FS_FILE);
    pl_buf_dispose(&text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_core_fs_cache__same_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_core_fs_cache__forgets_after_last_end, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
