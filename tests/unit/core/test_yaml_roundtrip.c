/*
 * test_yaml_roundtrip.c - every output kustomize printed, read back and written again, must be
 * the same bytes.
 *
 * The expected outputs of ../shared (realworld renders and the conformance corpus) are real
 * `kubectl kustomize` output, so parse + emit must be the identity on them: that pins the
 * writer's quoting, folding, key order, number format and the reader's scalar resolution
 * together. Skips with a message when ../shared is absent (e.g. a clone without it).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "plumb/core.h"

#ifndef PL_SOURCE_DIR
#define PL_SOURCE_DIR ".."
#endif

static const char *shared_dir(void)
{
    static char path[4096];
    const char *env = getenv("PL_SHARED_DIR");
    struct stat st;

    if (env && *env)
        snprintf(path, sizeof(path), "%s", env);
    else
        snprintf(path, sizeof(path), "%s/../shared", PL_SOURCE_DIR);
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return path;
}

static int read_file(pl_buf *out, const char *path)
{
    FILE *f = fopen(path, "rb");
    char chunk[65536];
    size_t n;
    int error = 0;

    if (!f)
        return -1;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if ((error = pl_buf_put(out, chunk, n)) < 0)
            break;
    fclose(f);
    return error;
}

/* Print where the outputs first differ: the line of each. */
static void show_diff(const char *path, const char *want, size_t wlen, const char *got, size_t glen)
{
    size_t i = 0, line = 1, ls = 0;
    const char *we, *ge;

    while (i < wlen && i < glen && want[i] == got[i]) {
        if (want[i] == '\n') {
            line++;
            ls = i + 1;
        }
        i++;
    }
    we = memchr(want + ls, '\n', wlen - ls);
    ge = memchr(got + ls, '\n', glen - ls);
    print_message("%s:%zu: differs\n  want: %.*s\n  got:  %.*s\n", path, line,
                  (int)((we ? (size_t)(we - want) : wlen) - ls), want + ls,
                  (int)((ge ? (size_t)(ge - got) : glen) - (ls < glen ? ls : glen)),
                  ls < glen ? got + ls : "");
}

/* 0 if the file round-trips, 1 otherwise (message printed). */
static int roundtrip_file(const char *path)
{
    pl_buf in = PL_BUF_INIT, out = PL_BUF_INIT;
    json_t *docs = NULL;
    int bad = 1;

    if (read_file(&in, path) < 0) {
        print_message("%s: cannot read\n", path);
        goto done;
    }
    if (pl_yaml_parse(&docs, in.ptr ? in.ptr : "", in.len, path, NULL) < 0) {
        print_message("%s: parse failed: %s\n", path, pl_error_last()->message);
        goto done;
    }
    if (pl_yaml_emit_stream(&out, docs) < 0) {
        print_message("%s: emit failed: %s\n", path, pl_error_last()->message);
        goto done;
    }
    if (out.len != in.len || (in.len && memcmp(out.ptr, in.ptr, in.len) != 0)) {
        show_diff(path, in.ptr ? in.ptr : "", in.len, out.ptr ? out.ptr : "", out.len);
        goto done;
    }
    bad = 0;
done:
    json_decref(docs);
    pl_buf_dispose(&in);
    pl_buf_dispose(&out);
    return bad;
}

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcmp(s + n - m, suf);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of a directory (owned), or NULL/0 when absent. */
static char **list_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;

    *count = 0;
    if (!d)
        return NULL;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = pl_realloc(names, cap * sizeof(*names));
            assert_non_null(names);
        }
        names[n++] = pl_strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), name_cmp);
    *count = n;
    return names;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pl_free(names[i]);
    pl_free(names);
}

static void test_yaml_roundtrip__realworld(void **state)
{
    const char *shared = shared_dir();
    char dir[4096], path[8192];
    char **names;
    size_t n, failed = 0, checked = 0;

    (void)state;
    if (!shared) {
        print_message("skipped: ../shared is absent\n");
        skip();
    }
    snprintf(dir, sizeof(dir), "%s/realworld/expected/maas-experiments", shared);
    names = list_dir(dir, &n);
    for (size_t i = 0; i < n; i++) {
        if (!has_suffix(names[i], ".yaml"))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        failed += (size_t)roundtrip_file(path);
        checked++;
    }
    free_names(names, n);
    print_message("realworld: %zu files, %zu differ\n", checked, failed);
    assert_true(checked > 0);
    assert_int_equal(failed, 0);
}

static void test_yaml_roundtrip__conformance(void **state)
{
    static const char *const suites[] = {"kustomize", "kustomize-plugins"};
    const char *shared = shared_dir();
    char dir[4096], path[8192];
    size_t failed = 0, checked = 0;
    struct stat st;

    (void)state;
    if (!shared) {
        print_message("skipped: ../shared is absent\n");
        skip();
    }
    for (size_t s = 0; s < sizeof(suites) / sizeof(suites[0]); s++) {
        char **names;
        size_t n;

        snprintf(dir, sizeof(dir), "%s/conformance/%s", shared, suites[s]);
        names = list_dir(dir, &n);
        for (size_t i = 0; i < n; i++) {
            snprintf(path, sizeof(path), "%s/%s/expected.yaml", dir, names[i]);
            if (stat(path, &st) != 0)
                continue;
            failed += (size_t)roundtrip_file(path);
            checked++;
        }
        free_names(names, n);
    }
    print_message("conformance: %zu files, %zu differ\n", checked, failed);
    assert_true(checked > 0);
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_roundtrip__realworld),
        cmocka_unit_test(test_yaml_roundtrip__conformance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
