/*
 * test_kubeconfig.c - kubeconfig resolution as kubectl does it (engine/kube/kubeconfig.c,
 * API-NOTES §11): KUBECONFIG merging, contexts, relative paths, -data fields, insecure + CA,
 * token files, exec credential plugins (small shell scripts) and the in-cluster configuration.
 *
 * Every test works in a fresh temporary directory; HOME, KUBECONFIG and the in-cluster
 * variables are set per test and restored.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kube_int.h"

static char root[256];

/* "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n" */
#define CA_PEM "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"
#define CA_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K"

static void write_file(const char *rel, const char *text, int mode)
{
    char path[512], dir[512], *slash;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    snprintf(dir, sizeof(dir), "%s", path);
    for (slash = strchr(dir + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        mkdir(dir, 0755);
        *slash = '/';
    }
    fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    chmod(path, (mode_t)mode);
}

static const char *at(const char *rel)
{
    static char buf[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s", root, rel);
    return buf[i];
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/pl-kubecfg-XXXXXX");
    assert_non_null(mkdtemp(root));
    unsetenv("KUBECONFIG");
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    setenv("HOME", root, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    unsetenv("KUBECONFIG");
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    return 0;
}

static pl_kube_config *load_ok(const char *kubeconfig, const char *context)
{
    pl_kube_config_opts o = PL_KUBE_CONFIG_OPTS_INIT;
    pl_kube_config *cfg = NULL;
    int error;

    o.kubeconfig = kubeconfig;
    o.context = context;
    error = pl_kube_config_load(&cfg, &o);
    if (error < 0)
        print_error("load: %s\n", pl_error_last()->message);
    assert_int_equal(error, 0);
    return cfg;
}

static void load_err(const char *kubeconfig, const char *context, int code, const char *msg)
{
    pl_kube_config_opts o = PL_KUBE_CONFIG_OPTS_INIT;
    pl_kube_config *cfg = NULL;

    o.kubeconfig = kubeconfig;
    o.context = context;
    assert_int_equal(pl_kube_config_load(&cfg, &o), code);
    assert_null(cfg);
    assert_string_equal(pl_error_last()->message, msg);
}

/* ---- merging -------------------------------------------------------------------------------- */

static const char *FILE_A =
    "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
    "clusters:\n- name: c1\n  cluster:\n    server: https://a.example:6443/\n"
    "    certificate-authority: certs/ca.crt\n"
    "- name: shared\n  cluster:\n    server: https://from-a\n"
    "users:\n- name: u1\n  user:\n    token: tok-a\n"
    "contexts:\n- name: a\n  context: {cluster: c1, user: u1, namespace: apps}\n"
    "- name: s\n  context: {cluster: shared, user: u1}\n";

static const char *FILE_B =
    "apiVersion: v1\nkind: Config\ncurrent-context: b\n"
    "clusters:\n- name: shared\n  cluster:\n    server: https://from-b\n"
    "- name: c2\n  cluster:\n    server: https://b.example\n    insecure-skip-tls-verify: true\n"
    "users:\n- name: u2\n  user:\n    client-certificate-data: " CA_B64 "\n"
    "    client-key-data: " CA_B64 "\n"
    "contexts:\n- name: b\n  context: {cluster: c2, user: u2}\n"
    "- name: a\n  context: {cluster: c2, user: u2, namespace: ignored}\n";

static void test_kube_kubeconfig__merge_first_wins(void **state)
{
    pl_kube_config *cfg;
    char env[1200];

    (void)state;
    write_file("one/config", FILE_A, 0644);
    write_file("one/certs/ca.crt", CA_PEM, 0644);
    write_file("two/config", FILE_B, 0644);
    /* empty entries and a missing file are skipped */
    snprintf(env, sizeof(env), "%s::%s:%s", at("one/config"), at("missing/config"), at("two/config"));
    setenv("KUBECONFIG", env, 1);

    cfg = load_ok(NULL, NULL); /* current-context from the first file that sets it: a */
    assert_string_equal(pl_kube_config_context(cfg), "a");
    assert_string_equal(pl_kube_config_server(cfg), "https://a.example:6443");
    assert_string_equal(pl_kube_config_namespace(cfg), "apps");
    /* certificate-authority resolved against one/ (the defining file's dir) */
    assert_int_equal(cfg->ca_len, strlen(CA_PEM));
    assert_memory_equal(cfg->ca_pem, CA_PEM, cfg->ca_len);
    assert_string_equal(cfg->token, "tok-a");
    pl_kube_config_free(cfg);

    cfg = load_ok(NULL, "s"); /* cluster "shared": the first file's definition wins */
    assert_string_equal(pl_kube_config_server(cfg), "https://from-a");
    assert_string_equal(pl_kube_config_namespace(cfg), "default");
    pl_kube_config_free(cfg);

    cfg = load_ok(NULL, "b"); /* from the second file: -data decoded, insecure */
    assert_string_equal(pl_kube_config_server(cfg), "https://b.example");
    assert_int_equal(cfg->insecure, 1);
    assert_null(cfg->ca_pem);
    assert_int_equal(cfg->cert_len, strlen(CA_PEM));
    assert_memory_equal(cfg->cert_pem, CA_PEM, cfg->cert_len);
    assert_memory_equal(cfg->key_pem, CA_PEM, cfg->key_len);
    assert_null(cfg->token);
    pl_kube_config_free(cfg);

    load_err(NULL, "nope", PL_ENOTFOUND, "context was not found for specified context: nope");

    /* the order of KUBECONFIG decides */
    snprintf(env, sizeof(env), "%s:%s", at("two/config"), at("one/config"));
    setenv("KUBECONFIG", env, 1);
    cfg = load_ok(NULL, NULL);
    assert_string_equal(pl_kube_config_context(cfg), "b");
    pl_kube_config_free(cfg);
    cfg = load_ok(NULL, "a"); /* context a now comes from file two */
    assert_string_equal(pl_kube_config_server(cfg), "https://b.example");
    assert_string_equal(pl_kube_config_namespace(cfg), "ignored");
    pl_kube_config_free(cfg);
}

static void test_kube_kubeconfig__explicit_and_home(void **state)
{
    pl_kube_config_opts o = PL_KUBE_CONFIG_OPTS_INIT;
    pl_kube_config *cfg = NULL;

    (void)state;
    write_file(".kube/config", FILE_A, 0644);
    write_file(".kube/certs/ca.crt", CA_PEM, 0644);
    write_file("other.yaml", FILE_B, 0644);
    cfg = load_ok(NULL, NULL); /* ~/.kube/config */
    assert_string_equal(pl_kube_config_context(cfg), "a");
    pl_kube_config_free(cfg);
    /* --kubeconfig: only that file, even with KUBECONFIG set */
    setenv("KUBECONFIG", at(".kube/config"), 1);
    cfg = load_ok(at("other.yaml"), NULL);
    assert_string_equal(pl_kube_config_context(cfg), "b");
    pl_kube_config_free(cfg);
    /* --namespace overrides the context's */
    o.kubeconfig = at(".kube/config");
    o.ns = "override";
    assert_int_equal(pl_kube_config_load(&cfg, &o), 0);
    assert_string_equal(pl_kube_config_namespace(cfg), "override");
    pl_kube_config_free(cfg);
    /* a missing --kubeconfig is an error naming the file */
    assert_int_equal(pl_kube_config_load(&cfg, &(pl_kube_config_opts){1, at("nope.yaml"), NULL,
                                                                        NULL, 0, NULL, NULL}),
                     PL_ENOTFOUND);
    assert_non_null(strstr(pl_error_last()->message, "nope.yaml"));
}

static void test_kube_kubeconfig__errors(void **state)
{
    char msg[600];

    (void)state;
    write_file("insecure.yaml",
               "clusters:\n- name: c\n  cluster:\n    server: https://x\n"
               "    insecure-skip-tls-verify: true\n    certificate-authority-data: " CA_B64 "\n"
               "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n",
               0644);
    load_err(at("insecure.yaml"), NULL, PL_EINVALID,
             "specifying a root certificates file with the insecure flag is not allowed");
    write_file("noserver.yaml",
               "clusters:\n- name: c\n  cluster: {}\ncontexts:\n- name: x\n  context: {cluster: c}\n"
               "current-context: x\n",
               0644);
    load_err(at("noserver.yaml"), NULL, PL_EINVALID, "no server found for cluster \"c\"");
    write_file("nouser.yaml",
               "clusters:\n- name: c\n  cluster: {server: https://x}\ncontexts:\n- name: x\n"
               "  context: {cluster: c, user: ghost}\ncurrent-context: x\n",
               0644);
    load_err(at("nouser.yaml"), NULL, PL_ENOTFOUND, "user \"ghost\" was not found for context \"x\"");
    write_file("badb64.yaml",
               "clusters:\n- name: c\n  cluster: {server: https://x, certificate-authority-data: "
               "'!!!'}\ncontexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n",
               0644);
    load_err(at("badb64.yaml"), NULL, PL_EINVALID,
             "cluster \"c\": certificate authority: certificate-authority-data: illegal base64 data");
    write_file("noctx.yaml", "clusters:\n- name: c\n  cluster: {server: https://x}\n", 0644);
    load_err(at("noctx.yaml"), NULL, PL_ENOTFOUND, "invalid configuration: no context chosen");
    write_file("missingca.yaml",
               "clusters:\n- name: c\n  cluster: {server: https://x, certificate-authority: ca.pem}\n"
               "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n",
               0644);
    snprintf(msg, sizeof(msg),
             "cluster \"c\": certificate authority: certificate-authority %s: No such file or "
             "directory",
             at("ca.pem"));
    load_err(at("missingca.yaml"), NULL, PL_ENOTFOUND, msg);
    /* nothing configured at all, not in a cluster */
    load_err(NULL, NULL, PL_ENOTFOUND,
             "invalid configuration: no configuration has been provided, try setting "
             "KUBERNETES_MASTER environment variable");
}

static void test_kube_kubeconfig__token_file(void **state)
{
    pl_kube_config *cfg;
    char *tok = NULL;

    (void)state;
    write_file("k/tok", "  file-token\n", 0600);
    write_file("k/config",
               "clusters:\n- name: c\n  cluster: {server: https://x}\nusers:\n- name: u\n  user:\n"
               "    tokenFile: tok\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
               "current-context: x\n",
               0644);
    cfg = load_ok(at("k/config"), NULL);
    assert_string_equal(cfg->token, "file-token"); /* trimmed */
    assert_string_equal(cfg->token_file, at("k/tok"));
    pl_kube_config_free(cfg);
    write_file("k/empty", "\n", 0600);
    assert_int_equal(pl_kube__read_token_file(&tok, at("k/empty")), PL_EAUTH);
    assert_null(tok);
    assert_int_equal(pl_kube__read_token_file(&tok, at("k/absent")), PL_EAUTH);
    /* the message names the file, never a token */
    assert_non_null(strstr(pl_error_last()->message, "k/absent"));
}

static void test_kube_kubeconfig__in_cluster(void **state)
{
    pl_kube_config *cfg = NULL;
    pl_kube_config_opts o = PL_KUBE_CONFIG_OPTS_INIT;

    (void)state;
    write_file("sa/token", "sa-token\n", 0600);
    write_file("sa/ca.crt", CA_PEM, 0644);
    write_file("sa/namespace", "gitops\n", 0644);
    assert_int_equal(pl_kube_config_in_cluster(&cfg, at("sa")), PL_ENOTFOUND);
    assert_string_equal(pl_error_last()->message,
                        "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
                        "KUBERNETES_SERVICE_PORT must be defined");
    setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    assert_int_equal(pl_kube_config_in_cluster(&cfg, at("sa")), 0);
    assert_string_equal(pl_kube_config_server(cfg), "https://10.0.0.1:443");
    assert_string_equal(pl_kube_config_namespace(cfg), "gitops");
    assert_string_equal(cfg->token, "sa-token");
    assert_memory_equal(cfg->ca_pem, CA_PEM, cfg->ca_len);
    pl_kube_config_free(cfg);
    /* IPv6 hosts are bracketed; without a namespace file: default */
    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    remove(at("sa/namespace"));
    assert_int_equal(pl_kube_config_in_cluster(&cfg, at("sa")), 0);
    assert_string_equal(pl_kube_config_server(cfg), "https://[fd00::1]:443");
    assert_string_equal(pl_kube_config_namespace(cfg), "default");
    pl_kube_config_free(cfg);
    /* no kubeconfig anywhere: the loader falls back to in-cluster */
    o.sa_dir = at("sa");
    assert_int_equal(pl_kube_config_load(&cfg, &o), 0);
    assert_string_equal(pl_kube_config_server(cfg), "https://[fd00::1]:443");
    pl_kube_config_free(cfg);
}

/* ---- exec plugins ----------------------------------------------------------------------------- */

static pl_kube_config *exec_config(const char *user_yaml)
{
    char text[4096];

    snprintf(text, sizeof(text),
             "clusters:\n- name: c\n  cluster:\n    server: https://x:6443\n"
             "    certificate-authority-data: " CA_B64 "\n"
             "    extensions:\n    - name: client.authentication.k8s.io/exec\n"
             "      extension: {audience: plumb}\n"
             "users:\n- name: u\n  user:\n%s"
             "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n",
             user_yaml);
    write_file("e/config", text, 0644);
    return load_ok(at("e/config"), NULL);
}

static void test_kube_kubeconfig__exec_token(void **state)
{
    pl_kube_config *cfg;
    pl_kube_creds c;
    FILE *fp;
    char info[2048] = "";

    (void)state;
    /* relative command with '/', resolved against the kubeconfig's directory */
    write_file("e/bin/plugin.sh",
               "#!/bin/sh\n"
               "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$(dirname \"$0\")/../info.json\"\n"
               "echo \"$MY_VAR $1 $2\" > \"$(dirname \"$0\")/../seen.txt\"\n"
               "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
               "\"status\":{\"token\":\"exec-token\",\"expirationTimestamp\":\"2030-01-02T03:04:05Z\"}}'\n",
               0755);
    cfg = exec_config("    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
                      "      command: bin/plugin.sh\n      args: [one, two]\n"
                      "      env: [{name: MY_VAR, value: hello}]\n"
                      "      interactiveMode: Never\n      provideClusterInfo: true\n");
    assert_non_null(cfg->exec);
    assert_string_equal(cfg->exec->command, at("e/bin/plugin.sh"));
    assert_int_equal(pl_kube__exec_run(&c, cfg->exec), 0);
    assert_string_equal(c.token, "exec-token");
    assert_null(c.cert_pem);
    assert_int_equal((long long)c.expiry, 1893553445LL);
    pl_kube__creds_dispose(&c);
    fp = fopen(at("e/info.json"), "rb");
    assert_non_null(fp);
    assert_non_null(fgets(info, sizeof(info), fp));
    fclose(fp);
    /* ExecCredential v1 with the cluster (CA re-encoded, the exec extension as config) */
    assert_string_equal(info,
                        "{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/"
                        "v1\",\"spec\":{\"cluster\":{\"server\":\"https://x:6443\","
                        "\"certificate-authority-data\":\"" CA_B64 "\",\"config\":{\"audience\":"
                        "\"plumb\"}},\"interactive\":false}}");
    fp = fopen(at("e/seen.txt"), "rb");
    assert_non_null(fp);
    assert_non_null(fgets(info, sizeof(info), fp));
    fclose(fp);
    assert_string_equal(info, "hello one two\n");
    pl_kube_config_free(cfg);
}

static void test_kube_kubeconfig__exec_cert(void **state)
{
    pl_kube_config *cfg;
    pl_kube_creds c;

    (void)state;
    write_file("e/cert.sh",
               "#!/bin/sh\n"
               "cat <<'EOF'\n"
               "{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\","
               "\"status\":{\"clientCertificateData\":\"-----BEGIN CERTIFICATE-----\\nC\\n-----END "
               "CERTIFICATE-----\\n\",\"clientKeyData\":\"-----BEGIN PRIVATE KEY-----\\nK\\n-----END "
               "PRIVATE KEY-----\\n\"}}\n"
               "EOF\n",
               0755);
    /* v1beta1 defaults interactiveMode to IfAvailable */
    cfg = exec_config("    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
                      "      command: ./cert.sh\n");
    assert_int_equal(pl_kube__exec_run(&c, cfg->exec), 0);
    assert_null(c.token);
    assert_string_equal(c.cert_pem, "-----BEGIN CERTIFICATE-----\nC\n-----END CERTIFICATE-----\n");
    assert_string_equal(c.key_pem, "-----BEGIN PRIVATE KEY-----\nK\n-----END PRIVATE KEY-----\n");
    assert_int_equal((long long)c.expiry, 0);
    pl_kube__creds_dispose(&c);
    pl_kube_config_free(cfg);
}

static void exec_fails(const char *script, const char *user_yaml, const char *msg)
{
    pl_kube_config *cfg;
    pl_kube_creds c;

    if (script)
        write_file("e/p.sh", script, 0755);
    cfg = exec_config(user_yaml);
    assert_int_equal(pl_kube__exec_run(&c, cfg->exec), PL_EAUTH);
    assert_string_equal(pl_error_last()->message, msg);
    assert_null(c.token);
    pl_kube_config_free(cfg);
}

#define V1_EXEC(cmd)                                                                              \
    "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: " cmd "\n"       \
    "      interactiveMode: Never\n"

static void test_kube_kubeconfig__exec_errors(void **state)
{
    char msg[700];

    (void)state;
    exec_fails("#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
               "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}'\n",
               V1_EXEC("./p.sh"),
               "exec plugin is configured to use API version client.authentication.k8s.io/v1, "
               "plugin returned version client.authentication.k8s.io/v1beta1");
    exec_fails("#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
               "\"kind\":\"ExecCredential\",\"status\":{}}'\n",
               V1_EXEC("./p.sh"), "exec plugin didn't return a token or cert/key pair");
    exec_fails("#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
               "\"kind\":\"ExecCredential\",\"status\":{\"clientCertificateData\":\"x\"}}'\n",
               V1_EXEC("./p.sh"), "exec plugin returned only certificate or key, not both");
    exec_fails("#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
               "\"kind\":\"ExecCredential\"}'\n",
               V1_EXEC("./p.sh"), "exec plugin didn't return a status field");
    snprintf(msg, sizeof(msg), "exec: executable %s failed with exit code 3", at("e/p.sh"));
    exec_fails("#!/bin/sh\nexit 3\n", V1_EXEC("./p.sh"), msg);
    exec_fails(NULL,
               V1_EXEC("plumb-no-such-plugin") "      installHint: |\n        install it with\n"
                                               "        apt-get install plumb-auth\n",
               "exec: executable plumb-no-such-plugin not found: it looks like you are trying to "
               "use a client-go credential plugin that is not installed; install it with apt-get "
               "install plumb-auth ");
    exec_fails(NULL,
               "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
               "      command: /bin/true\n      interactiveMode: Always\n",
               "exec plugin cannot support interactive mode: standard input is not a terminal");
}

static void test_kube_kubeconfig__exec_config_errors(void **state)
{
    (void)state;
    write_file("x/config",
               "clusters:\n- name: c\n  cluster: {server: https://x}\nusers:\n- name: u\n  user:\n"
               "    exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}\n"
               "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n",
               0644);
    load_err(at("x/config"), NULL, PL_EINVALID,
             "exec plugin: invalid apiVersion \"client.authentication.k8s.io/v1alpha1\"");
    write_file("x/config",
               "clusters:\n- name: c\n  cluster: {server: https://x}\nusers:\n- name: u\n  user:\n"
               "    exec: {apiVersion: client.authentication.k8s.io/v1, command: x}\n"
               "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n",
               0644);
    load_err(at("x/config"), NULL, PL_EINVALID,
             "interactiveMode must be specified for u to use exec authentication plugin");
    /* a token makes the plugin unused (client-go skips it) */
    write_file("x/config",
               "clusters:\n- name: c\n  cluster: {server: https://x}\nusers:\n- name: u\n  user:\n"
               "    token: t\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: x,"
               " interactiveMode: Never}\n"
               "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n",
               0644);
    {
        pl_kube_config *cfg = load_ok(at("x/config"), NULL);
        assert_null(cfg->exec);
        pl_kube_config_free(cfg);
    }
}

static void test_kube_kubeconfig__base64_and_time(void **state)
{
    char *out = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(pl_kube__base64_decode(&out, &len, "aGVs\nbG8="), 0);
    assert_int_equal(len, 5);
    assert_string_equal(out, "hello");
    pl_free(out);
    assert_int_equal(pl_kube__base64_decode(&out, &len, "a*b"), PL_EINVALID);
    assert_int_equal((long long)pl_kube__parse_time("1970-01-01T00:00:10Z"), 10);
    assert_int_equal((long long)pl_kube__parse_time("1970-01-01T01:00:10+01:00"), 10);
    assert_int_equal((long long)pl_kube__parse_time("1970-01-01T00:00:10.123Z"), 10);
    assert_int_equal((long long)pl_kube__parse_time("yesterday"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kube_kubeconfig__merge_first_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_kubeconfig__explicit_and_home, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_kubeconfig__errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_kubeconfig__token_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_kubeconfig__in_cluster, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_kubeconfig__exec_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_kubeconfig__exec_cert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_kubeconfig__exec_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kube_kubeconfig__exec_config_errors, setup, teardown),
        cmocka_unit_test(test_kube_kubeconfig__base64_and_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
