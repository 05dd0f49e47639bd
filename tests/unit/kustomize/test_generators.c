/*
 * test_generators.c - ConfigMapGenerator / SecretGenerator, generator behaviors and the name
 * hash suffix (kz_generators.c).
 *
 * Every expected name suffix below was printed by `kubectl kustomize` (kustomize v5.5.0) for a
 * tree with the same files and generator entries, so the hash input (Go encoding/json with HTML
 * escapes, the always-empty name, binaryData, Secret type) is pinned against the real thing.
 * The tests write their input files into a fresh temporary directory.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kz.h"

typedef struct fixture {
    char dir[64];
    pl_fs *fs;
    pl_render_opts opts;
    pl_kz_ctx ctx;
    pl_kz_resmap m;
} fixture;

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[256];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static int setup(void **state)
{
    static const pl_render_opts init = PL_RENDER_OPTS_INIT;
    fixture *fx = calloc(1, sizeof(*fx));
    unsigned char bin[100], bin2[178];
    static const char env[] = "\xEF\xBB\xBF"
                              "A=1\n# comment\n\n   B = 2 \nexport C=3\nD\n=E\nF=\"quoted\"\n"
                              "G=a=b\r\nH=\tt\n";

    if (!fx)
        return -1;
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/pl_kz_gen_XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    for (int i = 0; i < 100; i++)
        bin[i] = (unsigned char)i;
    for (int i = 0; i < 128; i++)
        bin2[i] = (unsigned char)(128 + i);
    for (int i = 0; i < 50; i++)
        bin2[128 + i] = (unsigned char)i;
    write_file(fx->dir, "a.txt", "hello <world> & \"x\"\n", 20);
    write_file(fx->dir, "multi.txt", "line1\nline2\n", 12);
    write_file(fx->dir, "bin.dat", bin, sizeof(bin));
    write_file(fx->dir, "bin2.dat", bin2, sizeof(bin2));
    write_file(fx->dir, "small.bin", "\xff\xfe", 2);
    write_file(fx->dir, "app.env", env, sizeof(env) - 1);
    write_file(fx->dir, "bad.env", "A=1\nB=\xff\n", 8);
    if (pl_fs_dir_new(&fx->fs) < 0)
        return -1;
    fx->opts = init;
    fx->ctx.fs = fx->fs;
    fx->ctx.opts = &fx->opts;
    fx->ctx.dir = fx->dir;
    fx->ctx.root = fx->dir;
    fx->ctx.origin_path = "kustomization.yaml";
    pl_kz_resmap_init(&fx->m);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    static const char *const files[] = {"a.txt",   "multi.txt", "bin.dat",  "bin2.dat", "small.bin",
                                        "app.env", "bad.env",   "long.env", "ok.env"};
    char path[256];
    for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
        snprintf(path, sizeof(path), "%s/%s", fx->dir, files[i]);
        unlink(path);
    }
    rmdir(fx->dir);
    pl_kz_resmap_dispose(&fx->m);
    pl_fs_free(fx->fs);
    free(fx);
    return 0;
}

static json_t *parse1(const char *yaml)
{
    json_t *docs = NULL, *doc;
    assert_int_equal(pl_yaml_parse(&docs, yaml, strlen(yaml), "test", NULL), 0);
    doc = json_incref(json_array_get(docs, 0));
    json_decref(docs);
    assert_non_null(doc);
    return doc;
}

/* Run a generator config (YAML text) into fx->m; returns the generator's code. */
static int gen(fixture *fx, const char *yaml)
{
    json_t *cfg = parse1(yaml);
    const char *kind = pl_json_str(cfg, "kind", NULL);
    int error = kind && !strcmp(kind, "SecretGenerator") ? pl_kz_g_secret(&fx->ctx, &fx->m, cfg)
                                                         : pl_kz_g_configmap(&fx->ctx, &fx->m, cfg);
    json_decref(cfg);
    return error;
}

static void gen_ok(fixture *fx, const char *yaml)
{
    int error = gen(fx, yaml);
    if (error < 0)
        fail_msg("generator failed: %s", pl_error_last()->message);
}

/*
 * Emit one object as kustomize prints it (previous-id build annotations removed, as the driver
 * does on output) and compare with `want`.
 */
static void assert_yaml(const json_t *obj, const char *want)
{
    pl_buf b = PL_BUF_INIT;
    json_t *copy = json_deep_copy(obj);
    json_t *md = json_object_get(copy, "metadata");
    json_t *ann = json_object_get(md, "annotations");

    json_object_del(ann, PL_KZ_ANN_PREV_NAMES);
    json_object_del(ann, PL_KZ_ANN_PREV_KINDS);
    json_object_del(ann, PL_KZ_ANN_PREV_NAMESPACES);
    if (ann && json_object_size(ann) == 0)
        json_object_del(md, "annotations");
    assert_int_equal(pl_yaml_emit(&b, copy), 0);
    if (strcmp(b.ptr, want))
        fail_msg("got:\n%s\nwant:\n%s", b.ptr, want);
    pl_buf_dispose(&b);
    json_decref(copy);
}

static void hash_all(fixture *fx)
{
    json_t *cfg = parse1("apiVersion: builtin\nkind: HashTransformer\n");
    assert_int_equal(pl_kz_t_hash(&fx->ctx, &fx->m, cfg), 0);
    json_decref(cfg);
}

static const char *data_str(const pl_kz_res *r, const char *field, const char *key)
{
    return pl_json_str(r->obj, field, key, NULL);
}

/* ---- hash suffixes pinned against kubectl kustomize ---------------------------------------- */

static void test_kz_generators__literals_hash(void **state)
{
    fixture *fx = *state;
    gen_ok(fx, "kind: ConfigMapGenerator\nname: lit\nliterals:\n- a=b\n- c=\"q u\"\n- d=x=y\n"
               "- e='sq'\n- f=\"unbal\n");
    assert_int_equal(fx->m.n, 1);
    assert_int_equal(fx->m.v[0]->needs_hash, 1);
    assert_int_equal(fx->m.v[0]->is_generated, 1);
    hash_all(fx);
    assert_yaml(fx->m.v[0]->obj, "apiVersion: v1\ndata:\n  a: b\n  c: q u\n  d: x=y\n  e: sq\n"
                                 "  f: '\"unbal'\nkind: ConfigMap\nmetadata:\n"
                                 "  name: lit-dh56d8445t\n");
    assert_int_equal(fx->m.v[0]->needs_hash, 0);
}

static void test_kz_generators__html_and_unicode_escapes(void **state)
{
    fixture *fx = *state;
    /* Go escapes < > & U+2028 U+2029 in the hash input; the name is always "" there */
    gen_ok(fx, "kind: ConfigMapGenerator\nname: uni\nliterals:\n"
               "- \"a=<tag> & \\\"q\\\" \\\\ back\"\n- \"b=\\t\\r\\n\"\n"
               "- \"c=\xc3\xa9\xe6\x97\xa5\xe6\x9c\xac\\u2028\\u2029\"\n");
    hash_all(fx);
    assert_string_equal(pl_kz_res_name(fx->m.v[0]), "uni-m62cc7kfh4");
    assert_string_equal(data_str(fx->m.v[0], "data", "a"), "<tag> & \"q\" \\ back");
    assert_string_equal(data_str(fx->m.v[0], "data", "b"), "\t\r\n");
}

static void test_kz_generators__files_hash(void **state)
{
    fixture *fx = *state;
    char want[101];
    /* bin.dat holds bytes 0..99: valid UTF-8, so it stays in data (control chars escaped) */
    gen_ok(fx, "kind: ConfigMapGenerator\nname: files\nfiles:\n- a.txt\n- k2=multi.txt\n"
               "- bin.dat\n");
    hash_all(fx);
    assert_string_equal(pl_kz_res_name(fx->m.v[0]), "files-ggf6fcd7hc");
    assert_string_equal(data_str(fx->m.v[0], "data", "a.txt"), "hello <world> & \"x\"\n");
    assert_string_equal(data_str(fx->m.v[0], "data", "k2"), "line1\nline2\n");
    for (int i = 0; i < 100; i++)
        want[i] = (char)i;
    want[100] = 0;
    assert_int_equal(json_string_length(pl_json_path(fx->m.v[0]->obj, "data", "bin.dat", NULL)),
                     100);
    assert_memory_equal(data_str(fx->m.v[0], "data", "bin.dat"), want, 100);
    assert_null(json_object_get(fx->m.v[0]->obj, "binaryData"));
}

static void test_kz_generators__binary_data(void **state)
{
    fixture *fx = *state;
    gen_ok(fx, "kind: ConfigMapGenerator\nname: binary\nfiles:\n- bin2.dat\n- small.bin\n"
               "- a.txt\n");
    hash_all(fx);
    assert_yaml(fx->m.v[0]->obj,
                "apiVersion: v1\nbinaryData:\n  bin2.dat: |\n"
                "    gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp+goaKjpKWmp6ipqqusra6vsLGys7\n"
                "    S1tre4ubq7vL2+v8DBwsPExcbHyMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f4OHi4+Tl5ufo\n"
                "    6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8AAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB\n"
                "    0eHyAhIiMkJSYnKCkqKywtLi8wMQ==\n"
                "  small.bin: //4=\ndata:\n  a.txt: |\n    hello <world> & \"x\"\n"
                "kind: ConfigMap\nmetadata:\n  name: binary-ktkgh7c224\n");
}

static void test_kz_generators__env_file(void **state)
{
    fixture *fx = *state;
    /* BOM, comments, blank lines, leading space trimmed, bare key -> "", "=E" dropped, CRLF */
    gen_ok(fx, "kind: ConfigMapGenerator\nname: env\nenvs:\n- app.env\n");
    hash_all(fx);
    assert_yaml(fx->m.v[0]->obj, "apiVersion: v1\ndata:\n  A: \"1\"\n  'B ': ' 2 '\n  D: \"\"\n"
                                 "  F: '\"quoted\"'\n  G: a=b\n  H: \"\\tt\"\n  export C: \"3\"\n"
                                 "kind: ConfigMap\nmetadata:\n  name: env-dcmbfm78m8\n");
}

static void test_kz_generators__env_long_line_ends_scan(void **state)
{
    fixture *fx = *state;
    /* bufio.Scanner's 64 KiB limit: a longer line silently ends the file (kubectl-checked) */
    size_t n = 4 + 2 + 65534 + 1 + 4;
    char *buf = malloc(n);
    assert_non_null(buf);
    memcpy(buf, "A=1\nB=", 6);
    memset(buf + 6, 'x', 65534);
    memcpy(buf + 6 + 65534, "\nC=3\n", 5);
    write_file(fx->dir, "long.env", buf, n);
    buf[6 + 65533] = '\n';
    memcpy(buf + 6 + 65534, "C=3\n", 4);
    write_file(fx->dir, "ok.env", buf, n - 1);
    free(buf);
    gen_ok(fx, "kind: ConfigMapGenerator\nname: long\nenvs:\n- long.env\n");
    gen_ok(fx, "kind: ConfigMapGenerator\nname: ok\nenvs:\n- ok.env\n");
    assert_int_equal(json_object_size(json_object_get(fx->m.v[0]->obj, "data")), 1);
    assert_int_equal(json_object_size(json_object_get(fx->m.v[1]->obj, "data")), 3);
    assert_int_equal(json_string_length(pl_json_path(fx->m.v[1]->obj, "data", "B", NULL)), 65533);
    hash_all(fx);
    assert_string_equal(pl_kz_res_name(fx->m.v[0]), "long-89g4tffbfk");
    assert_string_equal(pl_kz_res_name(fx->m.v[1]), "ok-tt8t8c7bk2");
}

static void test_kz_generators__deprecated_env_appended(void **state)
{
    fixture *fx = *state;
    gen_ok(fx, "kind: ConfigMapGenerator\nname: env\nenv: app.env\nliterals:\n- z=1\n");
    assert_string_equal(data_str(fx->m.v[0], "data", "A"), "1");
    assert_string_equal(data_str(fx->m.v[0], "data", "z"), "1");
}

static void test_kz_generators__options_and_global_options(void **state)
{
    fixture *fx = *state;
    /* local labels win over generatorOptions; global ones are added */
    gen_ok(fx, "kind: ConfigMapGenerator\nname: opts\nnamespace: ns1\nliterals:\n- k=v\n"
               "options:\n  immutable: true\n  labels:\n    l: local\n  annotations:\n    an: x\n"
               "generatorOptions:\n  labels:\n    l: global\n    g: global\n");
    hash_all(fx);
    assert_yaml(fx->m.v[0]->obj, "apiVersion: v1\ndata:\n  k: v\nimmutable: true\nkind: ConfigMap\n"
                                 "metadata:\n  annotations:\n    an: x\n  labels:\n    g: global\n"
                                 "    l: local\n  name: opts-bdg947hgcc\n  namespace: ns1\n");
}

static void test_kz_generators__global_disable_hash(void **state)
{
    fixture *fx = *state;
    gen_ok(fx, "kind: ConfigMapGenerator\nname: a\nliterals:\n- k=v\n"
               "generatorOptions:\n  disableNameSuffixHash: true\n");
    gen_ok(fx, "kind: ConfigMapGenerator\nname: b\nliterals:\n- k=v\n"
               "options:\n  disableNameSuffixHash: true\n");
    assert_int_equal(fx->m.v[0]->needs_hash, 0);
    assert_int_equal(fx->m.v[1]->needs_hash, 0);
    hash_all(fx);
    assert_string_equal(pl_kz_res_name(fx->m.v[0]), "a");
    assert_string_equal(pl_kz_res_name(fx->m.v[1]), "b");
}

static void test_kz_generators__metadata_name(void **state)
{
    fixture *fx = *state;
    /* builtin plugin form: metadata.name/namespace fill in an empty top-level name/namespace */
    gen_ok(fx, "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: metaname\n"
               "  namespace: metans\nname: topname\nenvs:\n- app.env\n");
    gen_ok(fx, "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: metaname\n"
               "  namespace: metans\nliterals:\n- a=b\n");
    assert_string_equal(pl_kz_res_name(fx->m.v[0]), "topname");
    assert_string_equal(pl_kz_res_namespace(fx->m.v[0]), "metans");
    assert_string_equal(pl_kz_res_name(fx->m.v[1]), "metaname");
}

static void test_kz_generators__empty_configmap_and_secret(void **state)
{
    fixture *fx = *state;
    gen_ok(fx, "kind: ConfigMapGenerator\nname: c2\n");
    gen_ok(fx, "kind: SecretGenerator\nname: empty\n");
    hash_all(fx);
    assert_yaml(fx->m.v[0]->obj, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                                 "  name: c2-6ct58987ht\n");
    assert_yaml(fx->m.v[1]->obj, "apiVersion: v1\ndata: {}\nkind: Secret\nmetadata:\n"
                                 "  name: empty-46f8b28mk5\ntype: Opaque\n");
}

static void test_kz_generators__secret(void **state)
{
    fixture *fx = *state;
    gen_ok(fx, "kind: SecretGenerator\nname: sec\ntype: kubernetes.io/tls\nliterals:\n- x=y\n"
               "files:\n- a.txt\n- bin.dat\n");
    gen_ok(fx, "kind: SecretGenerator\nname: binsec\nfiles:\n- bin2.dat\n");
    gen_ok(fx, "kind: SecretGenerator\nname: s1\nliterals:\n- a=b\n");
    hash_all(fx);
    assert_yaml(fx->m.v[0]->obj,
                "apiVersion: v1\ndata:\n  a.txt: aGVsbG8gPHdvcmxkPiAmICJ4Igo=\n  bin.dat: |\n"
                "    AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMz\n"
                "    Q1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiYw==\n"
                "  x: eQ==\nkind: Secret\nmetadata:\n  name: sec-cg6886mg97\n"
                "type: kubernetes.io/tls\n");
    assert_string_equal(pl_kz_res_name(fx->m.v[1]), "binsec-f8k6cd6h9f");
    assert_string_equal(pl_kz_res_name(fx->m.v[2]), "s1-k695gkmbtk");
}

static void test_kz_generators__secret_immutable_and_quotes(void **state)
{
    fixture *fx = *state;
    gen_ok(fx, "kind: SecretGenerator\nname: cm\noptions:\n  immutable: true\n  labels:\n"
               "    a: b\nliterals:\n- \"k=\"\n- \"j=\\\"\\\"\"\n- \"i=\\\"\\\"\\\"\"\n"
               "- \"h=\\\"x\"\n");
    hash_all(fx);
    assert_yaml(fx->m.v[0]->obj, "apiVersion: v1\ndata:\n  h: Ing=\n  i: Ig==\n  j: \"\"\n"
                                 "  k: \"\"\nimmutable: true\nkind: Secret\nmetadata:\n"
                                 "  labels:\n    a: b\n  name: cm-5d4h8dhb26\ntype: Opaque\n");
}

static void test_kz_generators__hash_of_non_string_data(void **state)
{
    /* a patched generated ConfigMap: Go re-marshals numbers as float64 (1e+21, 1e-7) */
    json_t *obj = json_loads("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
                             "{\"name\":\"x\"},\"data\":{\"a\":\"b\",\"big\":1e21,\"f\":1.5,"
                             "\"n\":1,\"small\":1e-7,\"t\":true}}",
                             0, NULL);
    char h[11];
    (void)state;
    assert_non_null(obj);
    assert_int_equal(pl_kz_hash_name_suffix(h, obj), 0);
    assert_string_equal(h, "hf6k8gbkc4");
    json_decref(obj);
    obj = json_loads("{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"x\"}}", 0, NULL);
    assert_int_equal(pl_kz_hash_name_suffix(h, obj), PL_EINVALID);
    json_decref(obj);
}

static void test_kz_generators__hash_records_previous_id(void **state)
{
    fixture *fx = *state;
    gen_ok(fx, "kind: ConfigMapGenerator\nname: lit\nnamespace: n1\nliterals:\n- a=b\n"
               "- c=\"q u\"\n- d=x=y\n- e='sq'\n- f=\"unbal\n");
    hash_all(fx);
    assert_string_equal(pl_kz_res_name(fx->m.v[0]), "lit-dh56d8445t");
    assert_string_equal(pl_kz_res_annotation(fx->m.v[0], PL_KZ_ANN_PREV_NAMES), "lit");
    assert_string_equal(pl_kz_res_annotation(fx->m.v[0], PL_KZ_ANN_PREV_KINDS), "ConfigMap");
    assert_string_equal(pl_kz_res_annotation(fx->m.v[0], PL_KZ_ANN_PREV_NAMESPACES), "n1");
    /* a second run has nothing left to hash */
    hash_all(fx);
    assert_string_equal(pl_kz_res_name(fx->m.v[0]), "lit-dh56d8445t");
}

/* ---- errors ---------------------------------------------------------------------------------- */

static void test_kz_generators__errors(void **state)
{
    fixture *fx = *state;
    static const struct {
        const char *cfg, *msg;
    } cases[] = {
        {"kind: ConfigMapGenerator\nname: cm\nliterals:\n- a=b\n- a=c\n",
         "configmap cm illegally repeats the key `a`"},
        {"kind: ConfigMapGenerator\nname: cm\nliterals:\n- a=b\nenvs:\n- app.env\n"
         "files:\n- A=a.txt\n",
         "configmap cm illegally repeats the key `A`"},
        {"kind: ConfigMapGenerator\nliterals:\n- a=b\n", "a configmap must have a name"},
        {"kind: SecretGenerator\nliterals:\n- a=b\n", "a configmap must have a name"},
        {"kind: ConfigMapGenerator\nname: cm\nliterals:\n- ab\n",
         "invalid literal source ab, expected key=value"},
        {"kind: ConfigMapGenerator\nname: cm\nliterals:\n- =ab\n",
         "invalid literal source =ab, expected key=value"},
        {"kind: ConfigMapGenerator\nname: cm\nfiles:\n- =x\n",
         "missing key name for file path \"x\" in source \"=x\""},
        {"kind: ConfigMapGenerator\nname: cm\nfiles:\n- a=\n",
         "missing file path for key name \"a\" in source \"a=\""},
        {"kind: ConfigMapGenerator\nname: cm\nfiles:\n- a=b=c\n",
         "source \"a=b=c\" key name or file path contains '='"},
        {"kind: ConfigMapGenerator\nname: cm\nfiles:\n- nofile\n", "nofile"},
        {"kind: ConfigMapGenerator\nname: cm\nenvs:\n- bad.env\n", "invalid utf8"},
        {"kind: ConfigMapGenerator\nname: cm\noptions:\n  labels:\n    n: 1\n", "labels"},
        {"kind: ConfigMapGenerator\nname: cm\nliterals: a=b\n", "literals"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        int error = gen(fx, cases[i].cfg);
        if (error >= 0)
            fail_msg("case %zu: expected an error", i);
        if (!strstr(pl_error_last()->message, cases[i].msg))
            fail_msg("case %zu: message '%s' lacks '%s'", i, pl_error_last()->message,
                     cases[i].msg);
    }
    assert_int_equal(fx->m.n, 0);
}

/* ---- behaviors (appendReplaceOrMerge) ------------------------------------------------------ */

static void add_obj(pl_kz_resmap *m, const char *yaml)
{
    assert_int_equal(pl_kz_resmap_append(m, pl_kz_res_new_take(parse1(yaml))), 0);
}

static int absorb_cfg(fixture *fx, const char *yaml)
{
    pl_kz_resmap g;
    json_t *cfg = parse1(yaml);
    int error;
    pl_kz_resmap_init(&g);
    error = pl_kz_g_configmap(&fx->ctx, &g, cfg);
    json_decref(cfg);
    if (error == 0)
        error = pl_kz_resmap_absorb(&fx->m, &g);
    assert_int_equal(g.n, 0);
    pl_kz_resmap_dispose(&g);
    return error;
}

static void test_kz_generators__merge_into_plain(void **state)
{
    fixture *fx = *state;
    add_obj(&fx->m, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: p-plain\n"
                    "  namespace: default\n  labels:\n    old: \"1\"\n    both: old\n"
                    "  annotations:\n    oa: x\n    both: old\n"
                    "    internal.config.kubernetes.io/previousNames: plain\n"
                    "    internal.config.kubernetes.io/previousKinds: ConfigMap\n"
                    "    internal.config.kubernetes.io/previousNamespaces: default\n"
                    "immutable: true\ndata:\n  n: 1\n  b: true\n  s: str\n"
                    "binaryData:\n  bin: AAA=\n");
    /* matched through the previous name; "" namespace equals "default" */
    assert_int_equal(absorb_cfg(fx, "kind: ConfigMapGenerator\nname: plain\nbehavior: merge\n"
                                    "literals:\n- s=new\n- z=z\noptions:\n  labels:\n"
                                    "    both: new\n  annotations:\n    both: new\n"),
                     0);
    assert_int_equal(fx->m.n, 1);
    /* the existing object had no needs-hash build annotation: no suffix (TestIssue3393) */
    assert_int_equal(fx->m.v[0]->needs_hash, 0);
    hash_all(fx);
    assert_yaml(fx->m.v[0]->obj, "apiVersion: v1\nbinaryData:\n  bin: AAA=\ndata:\n  b: \"true\"\n"
                                 "  \"n\": \"1\"\n  s: new\n  z: z\nkind: ConfigMap\nmetadata:\n"
                                 "  annotations:\n    both: new\n    oa: x\n  labels:\n"
                                 "    both: new\n    old: \"1\"\n  name: p-plain\n"
                                 "  namespace: default\n");
}

static void test_kz_generators__replace_and_hash_flags(void **state)
{
    fixture *fx = *state;
    pl_kz_resmap g;
    json_t *cfg;

    pl_kz_resmap_init(&g);
    cfg = parse1("kind: ConfigMapGenerator\nname: gen\nliterals:\n- a=1\noptions:\n  labels:\n"
                 "    gl: base\n");
    assert_int_equal(pl_kz_g_configmap(&fx->ctx, &g, cfg), 0);
    json_decref(cfg);
    assert_int_equal(pl_kz_resmap_absorb(&fx->m, &g), 0);
    pl_kz_resmap_dispose(&g);
    assert_int_equal(absorb_cfg(fx, "kind: ConfigMapGenerator\nname: gen\nbehavior: replace\n"
                                    "literals:\n- b=2\noptions:\n  labels:\n    x: z\n"),
                     0);
    assert_int_equal(fx->m.n, 1);
    assert_int_equal(fx->m.v[0]->needs_hash, 1);
    hash_all(fx);
    assert_yaml(fx->m.v[0]->obj, "apiVersion: v1\ndata:\n  b: \"2\"\nkind: ConfigMap\nmetadata:\n"
                                 "  labels:\n    gl: base\n    x: z\n  name: gen-fmbk44khfc\n");
}

static void test_kz_generators__merge_disable_hash(void **state)
{
    fixture *fx = *state;
    pl_kz_resmap g;
    json_t *cfg;

    /* TestGeneratorOptionsOverlayDisableNameSuffixHash: hashed base, overlay disables it */
    pl_kz_resmap_init(&g);
    cfg = parse1("kind: ConfigMapGenerator\nname: base\nliterals:\n- foo=bar\n"
                 "generatorOptions:\n  labels:\n    foo: bar\n");
    assert_int_equal(pl_kz_g_configmap(&fx->ctx, &g, cfg), 0);
    json_decref(cfg);
    assert_int_equal(pl_kz_resmap_absorb(&fx->m, &g), 0);
    pl_kz_resmap_dispose(&g);
    assert_int_equal(absorb_cfg(fx, "kind: ConfigMapGenerator\nname: base\nbehavior: merge\n"
                                    "literals:\n- fruit=apple\ngeneratorOptions:\n"
                                    "  disableNameSuffixHash: true\n  labels:\n    fruit: apple\n"),
                     0);
    hash_all(fx);
    assert_yaml(fx->m.v[0]->obj, "apiVersion: v1\ndata:\n  foo: bar\n  fruit: apple\n"
                                 "kind: ConfigMap\nmetadata:\n  labels:\n    foo: bar\n"
                                 "    fruit: apple\n  name: base\n");
}

static void test_kz_generators__behavior_errors(void **state)
{
    fixture *fx = *state;
    assert_int_equal(absorb_cfg(fx, "kind: ConfigMapGenerator\nname: cm\nbehavior: merge\n"
                                    "literals:\n- a=b\n"),
                     PL_EINVALID);
    assert_non_null(strstr(pl_error_last()->message, "does not exist; cannot merge or replace"));
    assert_int_equal(absorb_cfg(fx, "kind: ConfigMapGenerator\nname: cm\nliterals:\n- a=b\n"), 0);
    /* an unknown behavior is "unspecified": like create, it collides */
    assert_int_equal(absorb_cfg(fx, "kind: ConfigMapGenerator\nname: cm\nbehavior: bogus\n"
                                    "literals:\n- a=c\n"),
                     PL_EINVALID);
    assert_non_null(strstr(pl_error_last()->message, "exists; behavior must be merge or replace"));
    /* a different namespace is a different id */
    assert_int_equal(absorb_cfg(fx, "kind: ConfigMapGenerator\nname: cm\nnamespace: other\n"
                                    "literals:\n- a=c\n"),
                     0);
    assert_int_equal(fx->m.n, 2);
    /* two candidates (current name of one, previous name of the other) */
    add_obj(&fx->m, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x-cm\n  annotations:\n"
                    "    internal.config.kubernetes.io/previousNames: cm\n"
                    "    internal.config.kubernetes.io/previousKinds: ConfigMap\n"
                    "    internal.config.kubernetes.io/previousNamespaces: default\n");
    assert_int_equal(absorb_cfg(fx, "kind: ConfigMapGenerator\nname: cm\nbehavior: merge\n"
                                    "literals:\n- a=c\n"),
                     PL_EINVALID);
    assert_int_equal(fx->m.n, 3);
}

static void test_kz_generators__secret_merge_empties_data(void **state)
{
    fixture *fx = *state;
    pl_kz_resmap g;
    json_t *cfg = parse1("kind: SecretGenerator\nname: s\n");
    pl_kz_resmap_init(&g);
    assert_int_equal(pl_kz_g_secret(&fx->ctx, &g, cfg), 0);
    assert_int_equal(pl_kz_resmap_absorb(&fx->m, &g), 0);
    json_decref(cfg);
    cfg = parse1("kind: SecretGenerator\nname: s\nbehavior: merge\n");
    assert_int_equal(pl_kz_g_secret(&fx->ctx, &g, cfg), 0);
    assert_int_equal(pl_kz_resmap_absorb(&fx->m, &g), 0);
    json_decref(cfg);
    pl_kz_resmap_dispose(&g);
    /* an empty merged data map is dropped (kubectl: no `data:` on the merged Secret) */
    assert_null(json_object_get(fx->m.v[0]->obj, "data"));
    hash_all(fx);
    assert_string_equal(pl_kz_res_name(fx->m.v[0]), "s-8226t8dd99");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_kz_generators__literals_hash),
        T(test_kz_generators__html_and_unicode_escapes),
        T(test_kz_generators__files_hash),
        T(test_kz_generators__binary_data),
        T(test_kz_generators__env_file),
        T(test_kz_generators__env_long_line_ends_scan),
        T(test_kz_generators__deprecated_env_appended),
        T(test_kz_generators__options_and_global_options),
        T(test_kz_generators__global_disable_hash),
        T(test_kz_generators__metadata_name),
        T(test_kz_generators__empty_configmap_and_secret),
        T(test_kz_generators__secret),
        T(test_kz_generators__secret_immutable_and_quotes),
        T(test_kz_generators__hash_of_non_string_data),
        T(test_kz_generators__hash_records_previous_id),
        T(test_kz_generators__errors),
        T(test_kz_generators__merge_into_plain),
        T(test_kz_generators__replace_and_hash_flags),
        T(test_kz_generators__merge_disable_hash),
        T(test_kz_generators__behavior_errors),
        T(test_kz_generators__secret_merge_empties_data),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
