/*
 * test_yaml_fast.c - the fast block-YAML scanner (engine/core/yaml_fast.inc) must give exactly
 * what libyaml gives: same documents, same values, same key order, or the same error. Checked
 * on hand-written cases that sit on the edges of the subset it accepts, and on every YAML file
 * of ../shared (conformance inputs, real trees) when that exists.
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
#define PL_SOURCE_DIR "."
#endif

/* 0 when both paths agree; prints the difference otherwise */
static int same_both_ways(const char *text, size_t len, const char *name)
{
    pl_yaml_opts slow = PL_YAML_OPTS_INIT;
    json_t *a = NULL, *b = NULL;
    int ea, eb, rc = 0;
    char ma[sizeof(((pl_error *)0)->message)];

    slow.no_fast_path = 1;
    ea = pl_yaml_parse(&a, text, len, name, NULL);
    snprintf(ma, sizeof(ma), "%s", pl_error_last()->message);
    eb = pl_yaml_parse(&b, text, len, name, &slow);
    if (ea != eb) {
        fprintf(stderr, "%s: fast path returned %d (%s), libyaml %d (%s)\n", name, ea, ma, eb,
                pl_error_last()->message);
        rc = 1;
    } else if (ea == 0) {
        /* compare the serialised forms: values, types and key order */
        char *ja = json_dumps(a, JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        char *jb = json_dumps(b, JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        if (!ja || !jb || strcmp(ja, jb)) {
            fprintf(stderr, "%s: fast path and libyaml differ\n  fast: %.300s\n  slow: %.300s\n",
                    name, ja ? ja : "?", jb ? jb : "?");
            rc = 1;
        }
        free(ja);
        free(jb);
    }
    json_decref(a);
    json_decref(b);
    return rc;
}

static void test_yaml_fast__edges(void **state)
{
    static const char *const cases[] = {
        "a: 1\nb: two\n",
        "a:\n  b:\n    c: [x, \"y\", 'z''s']\n  d: []\n  e: {}\n",
        "list:\n- a\n- b: 1\n  c: 2\n-\n- - nested\n",
        "key:\n- same indent\n- seq\nother: 1\n",
        "a: b # comment\n# whole line\n\n  # indented comment\nc: 'd' # x\n",
        "---\na: 1\n---\n---\nb: 2\n...\n",
        "a: multi\n  line plain\n",
        "a: \"esc \\u00e9 \\t\"\n",
        "a: \"simple \\\" \\\\ \\/ \\n\"\n",
        "a: b: c\n",
        "a: &x 1\nb: *x\n",
        "<<: {a: 1}\n",
        "a: |\n  block\n",
        "a: 1\na: 2\n",
        "\"quoted key\": 1\n'single': 2\n",
        "a: [1, 2,]\n",
        "a: [x, [y]]\n",
        "a: {x: 1}\n",
        "a:\tb\n",
        "a: 1\r\nb: 2\r\n",
        "  a: 1\n",
        "a:\n    b: 1\n  c: 2\n",
        "- a\n-   b: 1\n    c: x:y\n",
        "a: -1\nb: - x\n",
        "a: yes\nb: 0755\nc: ~\nd: 1e3\ne: 2024-01-05\nf: \"1\"\ng:\n",
        "hello\n",
        "# only a comment\n",
        "",
        "---\n",
        "a: x #not a comment? no: it is\nb: x#y\n",
        "a: 'unterminated\n",
        "key with spaces: value with spaces  \n",
        "a: [\"--port\", \"8080\", --mode, serve]\n",
        "8080: port\ntrue: t\n",
        "a:\n- b\n  c: 1\n",
        "%YAML 1.2\n---\na: 1\n",
        "a: 1\n--- # doc comment\nb: 2\n",
        "--- a: 1\n",
        "a: |\n  one\n  two\nb: 1\n",
        "a: |-\n  one\n\n  two\n\n\nb: 1\n",
        "a: |+\n  one\n\n\nb: 1\n",
        "a: |\n    deeper\n      more\n    back\n",
        "- |\n  item\n- x\n",
        "a: |2\n   x\n",
        "a: |\n\n  leading blank\n",
        "a: |\n  x\n     \n  y\n",
        "a: |\nb: 1\n",
        "a: | # comment\n  text # not a comment\n",
        "a:\n  b: |\n    x\n  c: 1\nd: 2\n",
        "a: |\n  x\n b: 1\n",
        "a: >\n  folded\n",
        "a: |\n  x",
    };
    int bad = 0;
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char name[32];
        snprintf(name, sizeof(name), "case%zu.yaml", i);
        bad += same_both_ways(cases[i], strlen(cases[i]), name);
    }
    assert_int_equal(bad, 0);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static int walk(const char *dir, size_t *files)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int bad = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (lstat(path, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            bad += walk(path, files);
        } else if (S_ISREG(st.st_mode) && (ends_with(path, ".yaml") || ends_with(path, ".yml"))) {
            FILE *f = fopen(path, "rb");
            char *buf = malloc((size_t)st.st_size + 1);
            size_t n = f && buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
            if (f)
                fclose(f);
            if (buf) {
                bad += same_both_ways(buf, n, path);
                (*files)++;
            }
            free(buf);
        }
    }
    closedir(d);
    return bad;
}

static void test_yaml_fast__corpora(void **state)
{
    size_t files = 0;
    int bad = 0;
    (void)state;
    bad += walk(PL_SOURCE_DIR "/../shared/conformance", &files);
    bad += walk(PL_SOURCE_DIR "/../shared/realworld", &files);
    bad += walk(PL_SOURCE_DIR "/clusters", &files);
    bad += walk(PL_SOURCE_DIR "/components", &files);
    fprintf(stderr, "compared %zu YAML files\n", files);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_fast__edges),
        cmocka_unit_test(test_yaml_fast__corpora),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
