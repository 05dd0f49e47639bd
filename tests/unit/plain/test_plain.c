/*
 * test_plain.c - the plain manifests renderer (renderers/plain/plain.c).
 *
 * Each test writes a small tree under a fresh temporary directory, renders it through the
 * directory pl_fs and compares the rendered object names (in order) or the error message.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
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
#include "plumb/render.h"

typedef struct fixture {
    char root[256];
    pl_fs *fs;
} fixture;

static void write_file(fixture *f, const char *rel, const char *text)
{
    char path[512], dir[512];
    char *slash;

    snprintf(path, sizeof(path), "%s/%s", f->root, rel);
    /* create parent directories */
    snprintf(dir, sizeof(dir), "%s", path);
    for (slash = strchr(dir + strlen(f->root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        mkdir(dir, 0755);
        *slash = '/';
    }
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_rf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    snprintf(f->root, sizeof(f->root), "/tmp/pl_plain_XXXXXX");
    if (!f || !mkdtemp(f->root) || pl_fs_dir_new(&f->fs) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pl_fs_free(f->fs);
    rm_rf(f->root);
    free(f);
    return 0;
}

/* "name1,name2,..." of the rendered objects */
static char *names(const json_t *objs)
{
    pl_buf b = PL_BUF_INIT;
    size_t i;
    json_t *o;

    pl_buf_puts(&b, "");
    json_array_foreach(objs, i, o)
    {
        const char *n = pl_json_str(o, "metadata", "name", NULL);
        pl_buf_printf(&b, "%s%s", i ? "," : "", n ? n : "?");
    }
    return pl_buf_detach(&b);
}

static char *render(fixture *f, const char *sub, const pl_plain_opts *opts, int *error)
{
    char path[512];
    json_t *out = NULL;
    char *s;

    snprintf(path, sizeof(path), "%s%s%s", f->root, sub ? "/" : "", sub ? sub : "");
    *error = pl_plain_render(&out, f->fs, path, opts);
    if (*error < 0) {
        assert_null(out);
        return NULL;
    }
    s = names(out);
    json_decref(out);
    return s;
}

static void expect_names(fixture *f, const char *sub, const pl_plain_opts *opts, const char *want)
{
    int error;
    char *got = render(f, sub, opts, &error);
    if (error < 0)
        fail_msg("render failed: %s", pl_error_last()->message);
    assert_string_equal(got, want);
    pl_free(got);
}

static void expect_error(fixture *f, const char *sub, const pl_plain_opts *opts, int code,
                         const char *substr)
{
    int error;
    char *got = render(f, sub, opts, &error);
    if (error >= 0)
        fail_msg("expected an error, rendered: %s", got);
    assert_int_equal(error, code);
    if (!strstr(pl_error_last()->message, substr))
        fail_msg("message %s lacks %s", pl_error_last()->message, substr);
}

#define CM(name) "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " name "\n"

static void tree(fixture *f)
{
    write_file(f, "b.yaml", CM("b"));
    write_file(f, "a.yml", CM("a1") "---\n# nothing\n---\n" CM("a2"));
    write_file(f, "c.json", "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}");
    write_file(f, "notes.txt", CM("txt"));
    write_file(f, "a/x.yaml", CM("ax"));
    write_file(f, "a/deep/y.yaml", CM("ady"));
    write_file(f, "z/z.yaml", CM("z"));
    write_file(f, ".git/config.yaml", CM("git"));
    write_file(f, ".hidden.yaml", CM("hidden"));
}

static void test_plain_plain__directory_top_level_only(void **state)
{
    fixture *f = *state;
    tree(f);
    /* hidden *files* are read (Argo CD does); non-manifest extensions are not */
    expect_names(f, NULL, NULL, "hidden,a1,a2,b,c");
}

static void test_plain_plain__recurse_walk_order(void **state)
{
    fixture *f = *state;
    pl_plain_opts o = PL_PLAIN_OPTS_INIT;
    char link[600], target[600];

    tree(f);
    /* a directory symlink is not followed (filepath.Walk) */
    snprintf(link, sizeof(link), "%s/zlink", f->root);
    snprintf(target, sizeof(target), "%s/z", f->root);
    assert_int_equal(symlink(target, link), 0);
    o.recurse = 1;
    /* filepath.Walk order: "a" (dir) sorts before "a.yml"; .git is never entered */
    expect_names(f, NULL, &o, "hidden,ady,ax,a1,a2,b,c,z");
}

static void test_plain_plain__include_exclude_globs(void **state)
{
    fixture *f = *state;
    pl_plain_opts o = PL_PLAIN_OPTS_INIT;

    tree(f);
    o.recurse = 1;
    o.include = "{*.yml,*.json}";
    expect_names(f, NULL, &o, "a1,a2,c");
    /* '*' crosses '/' (gobwas glob without separators) */
    o.include = "a/*";
    expect_names(f, NULL, &o, "ady,ax");
    o.include = NULL;
    o.exclude = "{a/deep/*,[bz]*,.*}";
    expect_names(f, NULL, &o, "ax,a1,a2,c");
    o.include = "*.yaml";
    o.exclude = "a/{x,deep/{q,y}}.yaml";
    expect_names(f, NULL, &o, "hidden,b,z");
}

static void test_plain_plain__lists_flattened(void **state)
{
    fixture *f = *state;
    write_file(f, "list.yaml",
               "apiVersion: v1\nkind: List\nitems:\n- " "apiVersion: v1\n  kind: Secret\n"
               "  metadata: {name: s1}\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s2}\n"
               "---\napiVersion: v1\nkind: ConfigMapList\nitems:\n"
               "- {apiVersion: v1, kind: ConfigMap, metadata: {name: c1}}\n"
               "---\napiVersion: v1\nkind: ConfigMapList\nitems: null\n"
               "---\napiVersion: v1\nkind: List\nmetadata: {}\nitems: []\n");
    expect_names(f, NULL, NULL, "s1,s2,c1");
}

static void test_plain_plain__empty_directory(void **state)
{
    fixture *f = *state;
    write_file(f, "README.md", "# nothing here\n");
    expect_names(f, NULL, NULL, "");
}

static void test_plain_plain__generate_name_accepted(void **state)
{
    fixture *f = *state;
    write_file(f, "job.yaml", "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: j-\n");
    int error;
    json_t *out = NULL;
    char path[512];
    snprintf(path, sizeof(path), "%s/job.yaml", f->root);
    error = pl_plain_render(&out, f->fs, path, NULL);
    assert_int_equal(error, 0);
    assert_int_equal(json_array_size(out), 1);
    assert_string_equal(pl_json_str(json_array_get(out, 0), "metadata", "generateName", NULL), "j-");
    json_decref(out);
}

static void test_plain_plain__missing_name_is_error(void **state)
{
    fixture *f = *state;
    write_file(f, "m.yaml", CM("ok") "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {}\n");
    expect_error(f, NULL, NULL, PL_EINVALID, "/m.yaml: document 2: missing metadata.name");
}

static void test_plain_plain__missing_api_version_is_error(void **state)
{
    fixture *f = *state;
    write_file(f, "m.yaml", "kind: ConfigMap\nmetadata:\n  name: x\n");
    expect_error(f, NULL, NULL, PL_EINVALID, "/m.yaml: document 1: missing apiVersion");
}

static void test_plain_plain__list_item_error_names_item(void **state)
{
    fixture *f = *state;
    write_file(f, "l.yaml", "apiVersion: v1\nkind: List\nmetadata: {}\nitems:\n"
                            "- {apiVersion: v1, kind: ConfigMap, metadata: {name: c1}}\n"
                            "- {apiVersion: v1, metadata: {name: c2}}\n");
    expect_error(f, NULL, NULL, PL_EINVALID, "/l.yaml: document 1: item 2: missing kind");
}

static void test_plain_plain__malformed_yaml_names_position(void **state)
{
    fixture *f = *state;
    write_file(f, "bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n");
    expect_error(f, NULL, NULL, PL_EINVALID, "/bad.yaml:");
}

static void test_plain_plain__unrelated_yaml_skipped(void **state)
{
    fixture *f = *state;
    /* a values file and a broken non-manifest are not Kubernetes objects: Argo CD ignores them */
    write_file(f, "values.yaml", "replicas: 3\nimage:\n  tag: v1\n");
    write_file(f, "broken.yaml", "foo: [bar\n");
    write_file(f, "scalar.yaml", "just a string\n");
    write_file(f, "x.yaml", CM("x"));
    expect_names(f, NULL, NULL, "x");
}

static void test_plain_plain__undecodable_after_objects_is_error(void **state)
{
    fixture *f = *state;
    write_file(f, "x.yaml", CM("x") "---\nfoo: bar\n");
    expect_error(f, NULL, NULL, PL_EINVALID, "/x.yaml: document 2:");
}

static void test_plain_plain__json_single_object(void **state)
{
    fixture *f = *state;
    write_file(f, "two.json", "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\"}}\n"
                              "---\n{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"b\"}}\n");
    expect_error(f, NULL, NULL, PL_EINVALID, "/two.json: only one object");
}

static void test_plain_plain__json_not_manifest_is_error(void **state)
{
    fixture *f = *state;
    write_file(f, "conf.json", "{\"foo\": 1}\n");
    expect_error(f, NULL, NULL, PL_EINVALID, "/conf.json: document 1: missing apiVersion");
}

static void test_plain_plain__single_file(void **state)
{
    fixture *f = *state;
    tree(f);
    expect_names(f, "a.yml", NULL, "a1,a2");
    /* a file named explicitly is read whatever its extension */
    expect_names(f, "notes.txt", NULL, "txt");
}

static void test_plain_plain__not_found(void **state)
{
    fixture *f = *state;
    expect_error(f, "nope", NULL, PL_ENOTFOUND, "/nope: no such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plain_plain__directory_top_level_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_plain__recurse_walk_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_plain__include_exclude_globs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_plain__lists_flattened, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_plain__empty_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_plain__generate_name_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_plain__missing_name_is_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_plain__missing_api_version_is_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_plain_plain__list_item_error_names_item, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_plain_plain__malformed_yaml_names_position, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_plain_plain__unrelated_yaml_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_plain__undecodable_after_objects_is_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_plain_plain__json_single_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_plain__json_not_manifest_is_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_plain_plain__single_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_plain__not_found, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
