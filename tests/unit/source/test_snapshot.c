/*
 * test_snapshot.c - pl_fs over a revision's tree (engine/source/snapshot.c).
 *
 * A repository is built with the git CLI in a temporary directory: the first commit holds a
 * kustomization, a manifest, a sub-directory and a symlink; the second changes the manifest
 * and adds a file. Reading HEAD~1 through the backend must give the first commit's bytes,
 * listings and kinds, resolve the symlink inside the tree, refuse paths outside the working
 * directory, and let the kustomize renderer build the old revision unchanged.
 * Skipped when git is not installed. Needs pl_source (PL_TEST_WITH_SOURCE).
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
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

#include "plumb/core.h"
#include "plumb/fs.h"
#include "plumb/render.h"
#include "plumb/source.h"

#ifdef PL_TEST_WITH_SOURCE

static char repo[PATH_MAX];

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void write_file(const char *rel, const char *text)
{
    char p[PATH_MAX * 2];
    FILE *f;
    snprintf(p, sizeof(p), "%s/%s", repo, rel);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int sh(const char *cmd)
{
    char full[PATH_MAX * 3];
    snprintf(full, sizeof(full),
             "cd '%s' && GIT_CONFIG_GLOBAL=/dev/null git -c user.email=t@example.com "
             "-c user.name=t %s >/dev/null 2>&1",
             repo, cmd);
    return system(full);
}

static int setup(void **state)
{
    char tmpl[] = "/tmp/pl-snapshot-XXXXXX";
    char p[PATH_MAX * 2];
    (void)state;
    if (system("git --version >/dev/null 2>&1") != 0)
        return 0; /* tests skip */
    assert_non_null(mkdtemp(tmpl));
    assert_non_null(realpath(tmpl, repo));
    snprintf(p, sizeof(p), "%s/app/sub", repo);
    {
        char cmd[PATH_MAX * 3];
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", p);
        assert_int_equal(system(cmd), 0);
    }
    assert_int_equal(sh("init -q ."), 0);
    write_file("app/kustomization.yaml", "resources:\n- cm.yaml\nnamePrefix: old-\n");
    write_file("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
                              "data:\n  v: one\n");
    write_file("app/sub/b.yaml", "b\n");
    snprintf(p, sizeof(p), "%s/link", repo);
    assert_int_equal(symlink("app", p), 0);
    assert_int_equal(sh("add -A"), 0);
    assert_int_equal(sh("commit -qm one"), 0);
    write_file("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
                              "data:\n  v: two\n");
    write_file("app/a.yaml", "a\n");
    assert_int_equal(sh("add -A"), 0);
    assert_int_equal(sh("commit -qm two"), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (repo[0])
        nftw(repo, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static char *at(const char *rel)
{
    static char p[PATH_MAX * 2];
    snprintf(p, sizeof(p), "%s%s%s", repo, rel[0] ? "/" : "", rel);
    return p;
}

static void test_source_snapshot__reads_the_old_revision(void **state)
{
    pl_fs *fs = NULL;
    pl_buf b = PL_BUF_INIT;
    (void)state;
    if (!repo[0])
        skip();
    assert_int_equal(pl_fs_git_new(&fs, at("app"), "HEAD~1"), 0);
    assert_int_equal(pl_fs_read(fs, at("app/cm.yaml"), &b), 0);
    assert_non_null(strstr(b.ptr, "v: one"));
    pl_buf_dispose(&b);
    /* a file of the newer commit does not exist in the old tree */
    assert_int_equal(pl_fs_read(fs, at("app/a.yaml"), &b), PL_ENOTFOUND);
    assert_int_equal(pl_fs_kind_of(fs, at("app/a.yaml")), PL_FS_NONE);
    assert_int_equal(pl_fs_kind_of(fs, at("app")), PL_FS_DIR);
    assert_int_equal(pl_fs_kind_of(fs, at("")), PL_FS_DIR);
    assert_int_equal(pl_fs_kind_of(fs, at("app/cm.yaml")), PL_FS_FILE);
    /* reading a directory is an error, as on disk */
    assert_int_equal(pl_fs_read(fs, at("app"), &b), PL_EINVALID);
    pl_buf_dispose(&b);
    pl_fs_free(fs);
    /* HEAD sees the new bytes */
    assert_int_equal(pl_fs_git_new(&fs, repo, "HEAD"), 0);
    assert_int_equal(pl_fs_read(fs, at("app/cm.yaml"), &b), 0);
    assert_non_null(strstr(b.ptr, "v: two"));
    pl_buf_dispose(&b);
    pl_fs_free(fs);
}

static void test_source_snapshot__lists_sorted(void **state)
{
    pl_fs *fs = NULL;
    char **names = NULL;
    size_t n = 0;
    (void)state;
    if (!repo[0])
        skip();
    assert_int_equal(pl_fs_git_new(&fs, repo, "HEAD"), 0);
    assert_int_equal(pl_fs_list(fs, at("app"), &names, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(names[0], "a.yaml");
    assert_string_equal(names[1], "cm.yaml");
    assert_string_equal(names[2], "kustomization.yaml");
    assert_string_equal(names[3], "sub");
    pl_fs_names_free(names, n);
    assert_int_equal(pl_fs_list(fs, at("app/cm.yaml"), &names, &n), PL_ENOTFOUND);
    pl_fs_free(fs);
}

static void test_source_snapshot__symlinks_and_bounds(void **state)
{
    pl_fs *fs = NULL;
    pl_buf b = PL_BUF_INIT;
    char *real = NULL;
    (void)state;
    if (!repo[0])
        skip();
    assert_int_equal(pl_fs_git_new(&fs, repo, "HEAD~1"), 0);
    /* a symlinked directory in the middle of a path is followed inside the tree */
    assert_int_equal(pl_fs_read(fs, at("link/sub/b.yaml"), &b), 0);
    assert_string_equal(b.ptr, "b\n");
    pl_buf_dispose(&b);
    assert_int_equal(pl_fs_kind_of(fs, at("link")), PL_FS_DIR);
    assert_int_equal(pl_fs_realpath(fs, at("link/cm.yaml"), &real), 0);
    assert_string_equal(real, at("app/cm.yaml"));
    pl_free(real);
    /* outside the working directory: not in the revision */
    assert_int_equal(pl_fs_read(fs, "/etc/hostname", &b), PL_ENOTFOUND);
    assert_int_equal(pl_fs_kind_of(fs, "/etc"), PL_FS_NONE);
    pl_buf_dispose(&b);
    pl_fs_free(fs);
}

static void test_source_snapshot__errors(void **state)
{
    pl_fs *fs = NULL;
    (void)state;
    if (!repo[0])
        skip();
    assert_int_equal(pl_fs_git_new(&fs, repo, "no-such-revision"), PL_ENOTFOUND);
    assert_null(fs);
    assert_non_null(strstr(pl_error_last()->message, "unknown revision"));
    assert_int_equal(pl_fs_git_new(&fs, "/", "HEAD"), PL_ENOTFOUND);
    assert_null(fs);
}

static void test_source_snapshot__kustomize_builds_the_old_revision(void **state)
{
    pl_fs *fs = NULL;
    json_t *objs = NULL;
    pl_render_opts opts = PL_RENDER_OPTS_INIT;
    (void)state;
    if (!repo[0])
        skip();
    assert_int_equal(pl_fs_git_new(&fs, repo, "HEAD~1"), 0);
    assert_int_equal(pl_kustomize_build(&objs, fs, at("app"), &opts), 0);
    assert_int_equal(json_array_size(objs), 1);
    assert_string_equal(pl_json_str(json_array_get(objs, 0), "metadata", "name", NULL), "old-c");
    assert_string_equal(pl_json_str(json_array_get(objs, 0), "data", "v", NULL), "one");
    json_decref(objs);
    pl_fs_free(fs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_snapshot__reads_the_old_revision),
        cmocka_unit_test(test_source_snapshot__lists_sorted),
        cmocka_unit_test(test_source_snapshot__symlinks_and_bounds),
        cmocka_unit_test(test_source_snapshot__errors),
        cmocka_unit_test(test_source_snapshot__kustomize_builds_the_old_revision),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

#else

static void test_source_snapshot__skipped(void **state)
{
    (void)state;
    skip();
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_source_snapshot__skipped)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif
