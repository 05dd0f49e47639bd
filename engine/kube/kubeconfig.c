/*
 * kubeconfig.c - connection settings as kubectl resolves them (API-NOTES §11, client-go
 * tools/clientcmd), exec credential plugins (client-go plugin/pkg/client/auth/exec) and the
 * in-cluster service account (client-go rest.InClusterConfig).
 *
 * Merge rules (clientcmd loader): --kubeconfig names exactly one file, which must exist.
 * Otherwise KUBECONFIG is a ':'-separated list; empty entries and missing files are skipped,
 * and for clusters, users and contexts the first file defining a name wins; current-context
 * comes from the first file that sets it. Without KUBECONFIG, ~/.kube/config. Relative paths
 * in an entry resolve against the directory of the file that defined the entry. When nothing
 * is configured at all, the in-cluster configuration is used if the environment provides one.
 *
 * Credentials (tokens, keys) never reach a log line or an error message.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kube_int.h"

extern char **environ;

#define EXEC_OUTPUT_MAX (1024 * 1024)
#define CONFIG_FILE_MAX (16 * 1024 * 1024)
#define SA_DIR_DEFAULT "/var/run/secrets/kubernetes.io/serviceaccount"

/* ---- small helpers ------------------------------------------------------------------------ */

void pl_kube__free_secret(char *s)
{
    if (!s)
        return;
    /* volatile so the compiler keeps the wipe of memory about to be freed */
    for (volatile char *p = s; *p; p++)
        *p = 0;
    pl_free(s);
}

void pl_kube__creds_dispose(pl_kube_creds *c)
{
    pl_kube__free_secret(c->token);
    pl_kube__free_secret(c->cert_pem);
    pl_kube__free_secret(c->key_pem);
    memset(c, 0, sizeof(*c));
}

static int read_file(pl_buf *out, const char *path, const char *what)
{
    FILE *f = fopen(path, "rb");
    char chunk[8192];
    size_t n;
    int error = 0;

    if (!f) {
        int e = errno;
        return pl_error_set(e == ENOENT ? PL_ENOTFOUND : PL_ERROR, "%s %s: %s", what, path,
                            strerror(e));
    }
    out->max = CONFIG_FILE_MAX;
    while (error == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        error = pl_buf_put(out, chunk, n);
    if (error == 0 && ferror(f))
        error = pl_error_set(PL_ERROR, "%s %s: read error", what, path);
    else if (error == PL_ETOOBIG)
        pl_error_set(PL_ETOOBIG, "%s %s: too large", what, path);
    fclose(f);
    if (error == 0 && !out->ptr)
        error = pl_buf_puts(out, "");
    return error;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

int pl_kube__base64_decode(char **out, size_t *out_len, const char *in)
{
    size_t len = strlen(in), n = 0;
    unsigned int acc = 0;
    int bits = 0;
    char *buf;

    *out = NULL;
    if (out_len)
        *out_len = 0;
    buf = pl_malloc(len / 4 * 3 + 4);
    if (!buf)
        return pl_error_set(PL_ENOMEM, "out of memory");
    for (; *in; in++) {
        int v;
        if (*in == '=' || *in == ' ' || *in == '\n' || *in == '\r' || *in == '\t')
            continue;
        if ((v = b64val((unsigned char)*in)) < 0) {
            pl_free(buf);
            return PL_EINVALID;
        }
        acc = (acc << 6) | (unsigned int)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[n++] = (char)((acc >> bits) & 0xff);
        }
    }
    buf[n] = '\0';
    *out = buf;
    if (out_len)
        *out_len = n;
    return 0;
}

static int base64_encode(char **out, const char *data, size_t len)
{
    pl_buf b = PL_BUF_INIT;
    int error = pl_base64_encode(&b, data, len, 0);
    *out = error == 0 ? pl_buf_detach(&b) : NULL;
    pl_buf_dispose(&b);
    return error;
}

time_t pl_kube__parse_time(const char *s)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, n = 0;
    long off = 0;
    const char *p;

    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
        return (time_t)-1;
    p = s + n;
    if (*p == '.') /* fractional seconds */
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
            return (time_t)-1;
        off = (oh * 3600L + om * 60L) * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return (time_t)-1;
    }
    if (*p)
        return (time_t)-1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    return timegm(&tm) - off;
}

/* Lexical clean of an absolute path ("." and ".." segments, doubled '/'), as Go's
 * filepath.Join does, so resolved paths read the way kubectl prints them. In place. */
static void clean_path(char *p)
{
    char *out = p, *in = p;

    while (*in) {
        char *seg = in;
        size_t l;
        while (*in && *in != '/')
            in++;
        l = (size_t)(in - seg);
        if (*in)
            in++;
        if (l == 0 || (l == 1 && seg[0] == '.'))
            continue;
        if (l == 2 && seg[0] == '.' && seg[1] == '.') {
            while (out > p && out[-1] != '/')
                out--;
            if (out > p)
                out--;
            while (out > p && out[-1] != '/')
                out--;
            if (out > p)
                out--;
            continue;
        }
        *out++ = '/';
        memmove(out, seg, l);
        out += l;
    }
    if (out == p)
        *out++ = '/';
    *out = '\0';
}

/* "dir/rel" unless rel is absolute or empty (clientcmd ResolveLocalPaths). */
static char *resolve_path(const char *dir, const char *p)
{
    pl_buf b = PL_BUF_INIT;

    if (!p || !*p)
        return NULL;
    if (p[0] == '/' || !dir || !*dir)
        return pl_strdup(p);
    if (pl_buf_printf(&b, "%s/%s", dir, p) < 0) {
        pl_buf_dispose(&b);
        return NULL;
    }
    if (b.ptr[0] == '/')
        clean_path(b.ptr);
    return pl_buf_detach(&b);
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char cwd[4096];

    if (slash == path)
        return pl_strdup("/");
    if (slash)
        return pl_strndup(path, (size_t)(slash - path));
    if (getcwd(cwd, sizeof(cwd)))
        return pl_strdup(cwd);
    return pl_strdup(".");
}

static void free_strv(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        pl_free(*p);
    pl_free(v);
}

static void exec_free(pl_kube_exec *ex)
{
    if (!ex)
        return;
    pl_free(ex->api_version);
    pl_free(ex->command);
    free_strv(ex->args);
    free_strv(ex->env);
    pl_free(ex->install_hint);
    pl_free(ex->interactive_mode);
    json_decref(ex->cluster_info);
    pl_free(ex);
}

void pl_kube_config_free(pl_kube_config *cfg)
{
    if (!cfg)
        return;
    pl_free(cfg->context);
    pl_free(cfg->server);
    pl_free(cfg->ns);
    pl_free(cfg->ca_pem);
    pl_free(cfg->tls_server_name);
    pl_free(cfg->proxy_url);
    pl_kube__free_secret(cfg->token);
    pl_free(cfg->token_file);
    pl_free(cfg->cert_pem);
    pl_kube__free_secret(cfg->key_pem);
    pl_free(cfg->impersonate_user);
    free_strv(cfg->impersonate_groups);
    exec_free(cfg->exec);
    pl_free(cfg);
}

const char *pl_kube_config_server(const pl_kube_config *cfg)
{
    return cfg->server;
}

const char *pl_kube_config_namespace(const pl_kube_config *cfg)
{
    return cfg->ns;
}

const char *pl_kube_config_context(const pl_kube_config *cfg)
{
    return cfg->context ? cfg->context : "";
}

int pl_kube__read_token_file(char **out, const char *path)
{
    pl_buf b = PL_BUF_INIT;
    size_t s = 0, e;
    int error;

    *out = NULL;
    if ((error = read_file(&b, path, "token file")) < 0) {
        char msg[sizeof(pl_error_last()->message)];
        pl_buf_dispose(&b);
        snprintf(msg, sizeof(msg), "%s", pl_error_last()->message);
        return pl_error_set(PL_EAUTH, "%s", msg);
    }
    /* client-go's file token source trims surrounding whitespace and rejects an empty file */
    e = b.len;
    while (s < e && strchr(" \t\r\n", b.ptr[s]))
        s++;
    while (e > s && strchr(" \t\r\n", b.ptr[e - 1]))
        e--;
    if (e == s) {
        pl_kube__free_secret(pl_buf_detach(&b));
        return pl_error_set(PL_EAUTH, "token file %s: read empty token from file", path);
    }
    *out = pl_strndup(b.ptr + s, e - s);
    pl_kube__free_secret(pl_buf_detach(&b));
    return *out ? 0 : pl_error_set(PL_ENOMEM, "out of memory");
}

/* ---- merged kubeconfig --------------------------------------------------------------------- */

typedef struct entry {
    const char *name;
    json_t *body; /* borrowed from the file's document */
    const char *dir;
    const char *file;
} entry;

typedef struct merged {
    json_t *docs;     /* owned: one parsed document per file */
    char **dirs;      /* owned per file */
    char **files;
    size_t nfiles;
    entry *clusters, *users, *contexts;
    size_t nclusters, nusers, ncontexts;
    const char *current_context;
} merged;

static void merged_dispose(merged *m)
{
    size_t i;

    json_decref(m->docs);
    for (i = 0; i < m->nfiles; i++) {
        pl_free(m->dirs[i]);
        pl_free(m->files[i]);
    }
    pl_free(m->dirs);
    pl_free(m->files);
    pl_free(m->clusters);
    pl_free(m->users);
    pl_free(m->contexts);
    memset(m, 0, sizeof(*m));
}

static const entry *find_entry(const entry *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

/* First file defining a name wins (clientcmd merge order). */
static int add_entries(entry **v, size_t *n, const json_t *list, const char *field,
                       const char *dir, const char *file)
{
    size_t i;
    const json_t *item;

    if (!json_is_array(list))
        return 0;
    json_array_foreach(list, i, item) {
        const char *name = pl_json_str(item, "name", NULL);
        json_t *body = pl_json_path(item, field, NULL);
        entry *nv;
        if (!name || find_entry(*v, *n, name))
            continue;
        nv = pl_realloc(*v, (*n + 1) * sizeof(**v));
        if (!nv)
            return pl_error_set(PL_ENOMEM, "out of memory");
        *v = nv;
        nv[*n].name = name;
        nv[*n].body = json_is_object(body) ? body : NULL;
        nv[*n].dir = dir;
        nv[*n].file = file;
        (*n)++;
    }
    return 0;
}

static int load_file(merged *m, const char *path, int must_exist)
{
    pl_buf b = PL_BUF_INIT;
    json_t *docs = NULL, *doc;
    char **nd, **nf;
    int error;
    struct stat st;

    if (!must_exist && stat(path, &st) != 0)
        return 0; /* KUBECONFIG entries that do not exist are skipped (clientcmd) */
    if ((error = read_file(&b, path, "kubeconfig")) < 0)
        goto done;
    if ((error = pl_yaml_parse(&docs, b.ptr, b.len, path, NULL)) < 0) {
        error = PL_EINVALID;
        goto done;
    }
    doc = json_array_get(docs, 0);
    if (!doc) { /* an empty file is an empty config */
        error = 0;
        goto done;
    }
    if (!json_is_object(doc)) {
        error = pl_error_set(PL_EINVALID, "kubeconfig %s: not a mapping", path);
        goto done;
    }
    nd = pl_realloc(m->dirs, (m->nfiles + 1) * sizeof(char *));
    if (nd)
        m->dirs = nd;
    nf = pl_realloc(m->files, (m->nfiles + 1) * sizeof(char *));
    if (nf)
        m->files = nf;
    if (!nd || !nf) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    m->dirs[m->nfiles] = dir_of(path);
    m->files[m->nfiles] = pl_strdup(path);
    m->nfiles++;
    json_array_append(m->docs, doc);
    if ((error = add_entries(&m->clusters, &m->nclusters, json_object_get(doc, "clusters"),
                             "cluster", m->dirs[m->nfiles - 1], m->files[m->nfiles - 1])) < 0 ||
        (error = add_entries(&m->users, &m->nusers, json_object_get(doc, "users"), "user",
                             m->dirs[m->nfiles - 1], m->files[m->nfiles - 1])) < 0 ||
        (error = add_entries(&m->contexts, &m->ncontexts, json_object_get(doc, "contexts"),
                             "context", m->dirs[m->nfiles - 1], m->files[m->nfiles - 1])) < 0)
        goto done;
    if (!m->current_context) {
        const char *cc = pl_json_str(doc, "current-context", NULL);
        if (cc && *cc)
            m->current_context = cc;
    }
done:
    json_decref(docs);
    pl_buf_dispose(&b);
    return error;
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = pl_json_str(o, k, NULL);
    return s && *s ? s : NULL;
}

static int jbool(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_string(v))
        return strcmp(json_string_value(v), "true") == 0;
    return 0;
}

/* Read a -data field (base64 of PEM) or the file named by the path field. */
static int load_pem(char **out, size_t *out_len, const json_t *body, const char *data_key,
                    const char *path_key, const char *dir, const char *what)
{
    const char *data = jstr(body, data_key), *path = jstr(body, path_key);
    char *full = NULL;
    pl_buf b = PL_BUF_INIT;
    int error = 0;

    *out = NULL;
    *out_len = 0;
    if (data) {
        /* clientcmd: the -data field overrides the path when both are given */
        if (pl_kube__base64_decode(out, out_len, data) < 0)
            return pl_error_set(PL_EINVALID, "%s: %s: illegal base64 data", what, data_key);
        return 0;
    }
    if (!path)
        return 0;
    full = resolve_path(dir, path);
    if (!full)
        return pl_error_set(PL_ENOMEM, "out of memory");
    if ((error = read_file(&b, full, path_key)) == 0) {
        *out_len = b.len;
        *out = pl_buf_detach(&b);
    } else {
        pl_error_prefix("%s", what);
    }
    pl_buf_dispose(&b);
    pl_free(full);
    return error;
}

static char **strv_from(const json_t *arr)
{
    size_t i, n = json_is_array(arr) ? json_array_size(arr) : 0;
    char **v = pl_calloc(n + 1, sizeof(char *));
    const json_t *it;

    if (!v)
        return NULL;
    json_array_foreach(arr, i, it) {
        v[i] = pl_strdup(json_is_string(it) ? json_string_value(it) : "");
        if (!v[i]) {
            free_strv(v);
            return NULL;
        }
    }
    return v;
}

/* spec.cluster of ExecCredential (client-go clientauthentication.Cluster, field order kept). */
static json_t *exec_cluster_info(const pl_kube_config *cfg, const json_t *cluster)
{
    json_t *c = json_object(), *ext;
    char *ca64 = NULL;
    size_t i;
    const json_t *it;

    if (!c)
        return NULL;
    json_object_set_new(c, "server", json_string(cfg->server));
    if (cfg->tls_server_name)
        json_object_set_new(c, "tls-server-name", json_string(cfg->tls_server_name));
    if (cfg->insecure)
        json_object_set_new(c, "insecure-skip-tls-verify", json_true());
    if (cfg->ca_pem && base64_encode(&ca64, cfg->ca_pem, cfg->ca_len) == 0) {
        json_object_set_new(c, "certificate-authority-data", json_string(ca64));
        pl_free(ca64);
    }
    if (cfg->proxy_url)
        json_object_set_new(c, "proxy-url", json_string(cfg->proxy_url));
    if (cfg->disable_compression)
        json_object_set_new(c, "disable-compression", json_true());
    /* the cluster's "client.authentication.k8s.io/exec" extension becomes spec.cluster.config */
    ext = json_object_get(cluster, "extensions");
    json_array_foreach(ext, i, it) {
        if (strcmp(pl_json_str(it, "name", NULL) ? pl_json_str(it, "name", NULL) : "",
                   "client.authentication.k8s.io/exec") == 0 &&
            json_object_get(it, "extension"))
            json_object_set(c, "config", json_object_get(it, "extension"));
    }
    return c;
}

static int load_exec(pl_kube_exec **out, const json_t *ex, const char *dir, const char *user,
                     const pl_kube_config *cfg, const json_t *cluster)
{
    pl_kube_exec *e = NULL;
    const char *api = jstr(ex, "apiVersion"), *cmd = jstr(ex, "command");
    const char *mode = jstr(ex, "interactiveMode");
    const json_t *env, *it;
    size_t i, n;
    int error = 0;

    *out = NULL;
    if (!api || (strcmp(api, "client.authentication.k8s.io/v1") != 0 &&
                 strcmp(api, "client.authentication.k8s.io/v1beta1") != 0))
        return pl_error_set(PL_EINVALID, "exec plugin: invalid apiVersion \"%s\"", api ? api : "");
    if (!cmd)
        return pl_error_set(PL_EINVALID, "user \"%s\": exec: command must be specified", user);
    /* clientcmd defaults interactiveMode to IfAvailable only for v1beta1; v1 requires it */
    if (!mode) {
        if (strcmp(api, "client.authentication.k8s.io/v1") == 0)
            return pl_error_set(PL_EINVALID,
                                "interactiveMode must be specified for %s to use exec "
                                "authentication plugin",
                                user);
        mode = "IfAvailable";
    }
    if (strcmp(mode, "Never") && strcmp(mode, "IfAvailable") && strcmp(mode, "Always"))
        return pl_error_set(PL_EINVALID, "user \"%s\": exec: invalid interactiveMode \"%s\"",
                            user, mode);
    if (!(e = pl_calloc(1, sizeof(*e))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    e->api_version = pl_strdup(api);
    /* a relative command containing '/' is relative to the kubeconfig; a bare name uses PATH */
    e->command = strchr(cmd, '/') ? resolve_path(dir, cmd) : pl_strdup(cmd);
    e->args = strv_from(json_object_get(ex, "args"));
    e->install_hint = jstr(ex, "installHint") ? pl_strdup(jstr(ex, "installHint")) : NULL;
    e->interactive_mode = pl_strdup(mode);
    e->provide_cluster_info = jbool(ex, "provideClusterInfo");
    env = json_object_get(ex, "env");
    n = json_is_array(env) ? json_array_size(env) : 0;
    e->env = pl_calloc(n + 1, sizeof(char *));
    if (!e->api_version || !e->command || !e->args || !e->interactive_mode || !e->env) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    json_array_foreach(env, i, it) {
        pl_buf b = PL_BUF_INIT;
        const char *name = pl_json_str(it, "name", NULL), *value = pl_json_str(it, "value", NULL);
        if (pl_buf_printf(&b, "%s=%s", name ? name : "", value ? value : "") < 0) {
            pl_buf_dispose(&b);
            error = pl_error_set(PL_ENOMEM, "out of memory");
            goto done;
        }
        e->env[i] = pl_buf_detach(&b);
    }
    if (e->provide_cluster_info && !(e->cluster_info = exec_cluster_info(cfg, cluster))) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    *out = e;
    e = NULL;
done:
    exec_free(e);
    return error;
}

static int load_user(pl_kube_config *cfg, const entry *u, const json_t *cluster)
{
    const json_t *body = u->body;
    const char *tok = jstr(body, "token"), *tf = jstr(body, "tokenFile");
    const json_t *ex = json_object_get(body, "exec");
    int error;

    if (!body)
        return 0;
    if ((error = load_pem(&cfg->cert_pem, &cfg->cert_len, body, "client-certificate-data",
                          "client-certificate", u->dir, "client certificate")) < 0 ||
        (error = load_pem(&cfg->key_pem, &cfg->key_len, body, "client-key-data", "client-key",
                          u->dir, "client key")) < 0)
        return pl_error_prefix("user \"%s\"", u->name);
    if (!cfg->cert_pem != !cfg->key_pem)
        return pl_error_set(PL_EINVALID,
                            "user \"%s\": client-key-data or client-key must be specified "
                            "together with client-certificate",
                            u->name);
    /* clientcmd: an inline token is used as is and the token file, when also given, takes over
     * once read; only a tokenFile is read at load time (an unreadable one fails the load) */
    if (tok && !(cfg->token = pl_strdup(tok)))
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (tf) {
        if (!(cfg->token_file = resolve_path(u->dir, tf)))
            return pl_error_set(PL_ENOMEM, "out of memory");
        if (!cfg->token) {
            if ((error = pl_kube__read_token_file(&cfg->token, cfg->token_file)) < 0)
                return pl_error_prefix("user \"%s\"", u->name);
        }
    }
    if (jstr(body, "as") && !(cfg->impersonate_user = pl_strdup(jstr(body, "as"))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (json_is_array(json_object_get(body, "as-groups")) &&
        !(cfg->impersonate_groups = strv_from(json_object_get(body, "as-groups"))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    /* the exec plugin is skipped when a token or client certificate is configured (client-go
     * exec Authenticator.UpdateTransportConfig); it is still validated */
    if (json_is_object(ex)) {
        pl_kube_exec *e = NULL;
        if ((error = load_exec(&e, ex, u->dir, u->name, cfg, cluster)) < 0)
            return error;
        if (cfg->token || cfg->token_file || cfg->cert_pem)
            exec_free(e);
        else
            cfg->exec = e;
    }
    return 0;
}

static int load_cluster(pl_kube_config *cfg, const entry *c)
{
    const json_t *body = c->body;
    const char *server = jstr(body, "server");
    size_t l;
    int error;

    if (!server)
        return pl_error_set(PL_EINVALID, "no server found for cluster \"%s\"", c->name);
    if (!(cfg->server = pl_strdup(server)))
        return pl_error_set(PL_ENOMEM, "out of memory");
    l = strlen(cfg->server);
    while (l > 0 && cfg->server[l - 1] == '/')
        cfg->server[--l] = '\0';
    cfg->insecure = jbool(body, "insecure-skip-tls-verify");
    if ((error = load_pem(&cfg->ca_pem, &cfg->ca_len, body, "certificate-authority-data",
                          "certificate-authority", c->dir, "certificate authority")) < 0)
        return pl_error_prefix("cluster \"%s\"", c->name);
    /* client-go transport TLSConfigFor */
    if (cfg->insecure && cfg->ca_pem)
        return pl_error_set(PL_EINVALID,
                            "specifying a root certificates file with the insecure flag is not "
                            "allowed");
    if (jstr(body, "tls-server-name") &&
        !(cfg->tls_server_name = pl_strdup(jstr(body, "tls-server-name"))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (jstr(body, "proxy-url") && !(cfg->proxy_url = pl_strdup(jstr(body, "proxy-url"))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    cfg->disable_compression = jbool(body, "disable-compression");
    return 0;
}

int pl_kube_config_in_cluster(pl_kube_config **out, const char *sa_dir)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
    pl_kube_config *cfg = NULL;
    pl_buf b = PL_BUF_INIT, path = PL_BUF_INIT;
    int error = 0;

    *out = NULL;
    if (!sa_dir)
        sa_dir = SA_DIR_DEFAULT;
    if (!host || !*host || !port || !*port)
        return pl_error_set(PL_ENOTFOUND,
                            "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
                            "KUBERNETES_SERVICE_PORT must be defined");
    if (!(cfg = pl_calloc(1, sizeof(*cfg))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    /* net.JoinHostPort: IPv6 literals are bracketed */
    if ((error = pl_buf_printf(&b, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
                               port)) < 0)
        goto done;
    cfg->server = pl_buf_detach(&b);
    cfg->context = pl_strdup("");
    if ((error = pl_buf_printf(&path, "%s/token", sa_dir)) < 0)
        goto done;
    cfg->token_file = pl_buf_detach(&path);
    if ((error = pl_kube__read_token_file(&cfg->token, cfg->token_file)) < 0)
        goto done;
    if ((error = pl_buf_printf(&path, "%s/ca.crt", sa_dir)) < 0)
        goto done;
    if ((error = read_file(&b, path.ptr, "certificate authority")) < 0)
        goto done;
    cfg->ca_len = b.len;
    cfg->ca_pem = pl_buf_detach(&b);
    pl_buf_clear(&path);
    if ((error = pl_buf_printf(&path, "%s/namespace", sa_dir)) < 0)
        goto done;
    if (read_file(&b, path.ptr, "namespace") == 0 && b.len > 0) {
        size_t l = b.len;
        while (l > 0 && strchr(" \t\r\n", b.ptr[l - 1]))
            l--;
        cfg->ns = pl_strndup(b.ptr, l);
    } else {
        pl_error_clear();
        cfg->ns = pl_strdup("default");
    }
    if (!cfg->ns || !cfg->context) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    *out = cfg;
    cfg = NULL;
done:
    pl_buf_dispose(&b);
    pl_buf_dispose(&path);
    pl_kube_config_free(cfg);
    return error;
}

int pl_kube_config_load(pl_kube_config **out, const pl_kube_config_opts *opts)
{
    pl_kube_config_opts defaults = PL_KUBE_CONFIG_OPTS_INIT;
    merged m;
    pl_kube_config *cfg = NULL;
    const entry *ctx, *cl, *us = NULL;
    const char *name, *env, *ns;
    pl_buf path = PL_BUF_INIT;
    int error = 0;

    *out = NULL;
    memset(&m, 0, sizeof(m));
    if (!opts)
        opts = &defaults;
    if (opts->in_cluster)
        return pl_kube_config_in_cluster(out, opts->sa_dir);
    if (!(m.docs = json_array()))
        return pl_error_set(PL_ENOMEM, "out of memory");
    if (opts->kubeconfig) {
        if ((error = load_file(&m, opts->kubeconfig, 1)) < 0)
            goto done;
    } else if ((env = getenv("KUBECONFIG")) && *env) {
        const char *p = env;
        while (*p) {
            const char *end = strchr(p, ':');
            size_t l = end ? (size_t)(end - p) : strlen(p);
            if (l > 0) {
                pl_buf_clear(&path);
                if ((error = pl_buf_put(&path, p, l)) < 0 || (error = load_file(&m, path.ptr, 0)) < 0)
                    goto done;
            }
            p += l + (end ? 1 : 0);
        }
    } else {
        const char *home = opts->home ? opts->home : getenv("HOME");
        if (home && *home) {
            if ((error = pl_buf_printf(&path, "%s/.kube/config", home)) < 0 ||
                (error = load_file(&m, path.ptr, 0)) < 0)
                goto done;
        }
    }
    name = opts->context && *opts->context ? opts->context : m.current_context;
    if (m.nclusters == 0 && m.nusers == 0 && m.ncontexts == 0 && !name) {
        /* clientcmd's deferred loader: an empty config means in-cluster when possible */
        if (getenv("KUBERNETES_SERVICE_HOST") && getenv("KUBERNETES_SERVICE_PORT")) {
            error = pl_kube_config_in_cluster(out, opts->sa_dir);
            if (error == 0 && opts->ns && *opts->ns) {
                pl_free((*out)->ns);
                if (!((*out)->ns = pl_strdup(opts->ns)))
                    error = pl_error_set(PL_ENOMEM, "out of memory");
            }
            goto done;
        }
        error = pl_error_set(PL_ENOTFOUND,
                             "invalid configuration: no configuration has been provided, try "
                             "setting KUBERNETES_MASTER environment variable");
        goto done;
    }
    if (!name) {
        error = pl_error_set(PL_ENOTFOUND, "invalid configuration: no context chosen");
        goto done;
    }
    if (!(ctx = find_entry(m.contexts, m.ncontexts, name))) {
        error = pl_error_set(PL_ENOTFOUND, "context was not found for specified context: %s", name);
        goto done;
    }
    if (!ctx->body || !jstr(ctx->body, "cluster") ||
        !(cl = find_entry(m.clusters, m.nclusters, jstr(ctx->body, "cluster")))) {
        error = pl_error_set(PL_ENOTFOUND, "cluster \"%s\" was not found for context \"%s\"",
                             ctx->body && jstr(ctx->body, "cluster") ? jstr(ctx->body, "cluster") : "",
                             name);
        goto done;
    }
    if (jstr(ctx->body, "user") && !(us = find_entry(m.users, m.nusers, jstr(ctx->body, "user")))) {
        error = pl_error_set(PL_ENOTFOUND, "user \"%s\" was not found for context \"%s\"",
                             jstr(ctx->body, "user"), name);
        goto done;
    }
    if (!(cfg = pl_calloc(1, sizeof(*cfg)))) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if (!(cfg->context = pl_strdup(name))) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if ((error = load_cluster(cfg, cl)) < 0)
        goto done;
    if (us && (error = load_user(cfg, us, cl->body)) < 0)
        goto done;
    ns = opts->ns && *opts->ns ? opts->ns : jstr(ctx->body, "namespace");
    if (!(cfg->ns = pl_strdup(ns ? ns : "default"))) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    *out = cfg;
    cfg = NULL;
done:
    pl_buf_dispose(&path);
    merged_dispose(&m);
    pl_kube_config_free(cfg);
    return error;
}

/* ---- exec credential plugin ----------------------------------------------------------------- */

static char **build_env(const pl_kube_exec *ex, const char *info)
{
    size_t n = 0, k = 0, i;
    char **envp;
    pl_buf b = PL_BUF_INIT;

    for (char **e = environ; e && *e; e++)
        n++;
    for (char **e = ex->env; e && *e; e++)
        n++;
    if (!(envp = pl_calloc(n + 2, sizeof(char *))))
        return NULL;
    /* os.Environ, then the configured env (later entries win in exec), then the exec info */
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, "KUBERNETES_EXEC_INFO=", 21) != 0 && !(envp[k++] = pl_strdup(*e)))
            goto fail;
    for (char **e = ex->env; e && *e; e++) {
        size_t nl = strcspn(*e, "=");
        /* drop an inherited variable the config overrides so the override is unambiguous */
        for (i = 0; i < k; i++)
            if (strncmp(envp[i], *e, nl + 1) == 0) {
                pl_free(envp[i]);
                envp[i] = envp[--k];
                envp[k] = NULL;
                break;
            }
        if (!(envp[k++] = pl_strdup(*e)))
            goto fail;
    }
    if (pl_buf_printf(&b, "KUBERNETES_EXEC_INFO=%s", info) < 0)
        goto fail;
    envp[k++] = pl_buf_detach(&b);
    return envp;
fail:
    pl_buf_dispose(&b);
    free_strv(envp);
    return NULL;
}

static int one_line_hint(pl_buf *b, const char *hint)
{
    for (; *hint; hint++)
        if (pl_buf_putc(b, *hint == '\n' || *hint == '\r' ? ' ' : *hint) < 0)
            return PL_ENOMEM;
    return 0;
}

int pl_kube__exec_run(pl_kube_creds *out, const pl_kube_exec *ex)
{
    json_t *info = NULL, *cred = NULL;
    char *info_text = NULL, **envp = NULL, **argv = NULL;
    posix_spawn_file_actions_t fa;
    int fa_ok = 0, pipefd[2] = {-1, -1}, status = 0, error = 0, rc;
    pid_t pid = -1;
    pl_buf outb = PL_BUF_INIT;
    size_t nargs = 0, i;
    const char *api, *token, *cert, *key, *exp;

    memset(out, 0, sizeof(*out));
    /* stdin is never connected: plumb is not interactive (client-go isInteractive) */
    if (strcmp(ex->interactive_mode, "Always") == 0)
        return pl_error_set(PL_EAUTH, "exec plugin cannot support interactive mode: standard "
                                      "input is not a terminal");
    info = json_pack("{s:s,s:s,s:{}}", "kind", "ExecCredential", "apiVersion", ex->api_version,
                     "spec");
    if (!info) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if (ex->cluster_info)
        json_object_set(json_object_get(info, "spec"), "cluster", ex->cluster_info);
    json_object_set_new(json_object_get(info, "spec"), "interactive", json_false());
    info_text = json_dumps(info, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!info_text || !(envp = build_env(ex, info_text))) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    for (char **a = ex->args; a && *a; a++)
        nargs++;
    if (!(argv = pl_calloc(nargs + 2, sizeof(char *)))) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    argv[0] = ex->command;
    for (i = 0; i < nargs; i++)
        argv[i + 1] = ex->args[i];
    if (pipe(pipefd) != 0) {
        error = pl_error_set(PL_ERROR, "exec: pipe: %s", strerror(errno));
        goto done;
    }
    if (posix_spawn_file_actions_init(&fa) != 0) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    fa_ok = 1;
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    posix_spawn_file_actions_addclose(&fa, pipefd[1]);
    /* stderr is inherited: plugins print their prompts and diagnostics there (client-go) */
    rc = posix_spawnp(&pid, ex->command, &fa, NULL, argv, envp);
    close(pipefd[1]);
    pipefd[1] = -1;
    if (rc != 0) {
        pl_buf msg = PL_BUF_INIT;
        pid = -1;
        if (rc == ENOENT || rc == EACCES || rc == ENOTDIR) {
            pl_buf_printf(&msg,
                          "exec: executable %s not found: it looks like you are trying to use a "
                          "client-go credential plugin that is not installed",
                          ex->command);
            if (ex->install_hint && *ex->install_hint) {
                pl_buf_puts(&msg, "; ");
                one_line_hint(&msg, ex->install_hint);
            }
        } else {
            pl_buf_printf(&msg, "exec: %s: %s", ex->command, strerror(rc));
        }
        error = pl_error_set(PL_EAUTH, "%s", msg.ptr ? msg.ptr : "exec: out of memory");
        pl_buf_dispose(&msg);
        goto done;
    }
    outb.max = EXEC_OUTPUT_MAX;
    for (;;) {
        char chunk[4096];
        ssize_t n = read(pipefd[0], chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (pl_buf_put(&outb, chunk, (size_t)n) < 0) {
            error = pl_error_set(PL_EAUTH, "exec: executable %s: output too large", ex->command);
            break;
        }
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    pid = -1;
    if (error < 0)
        goto done;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        error = pl_error_set(PL_EAUTH, "exec: executable %s failed with exit code %d", ex->command,
                             WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        goto done;
    }
    cred = outb.ptr ? json_loadb(outb.ptr, outb.len, 0, NULL) : NULL;
    if (!json_is_object(cred)) {
        error = pl_error_set(PL_EAUTH, "decoding stdout: couldn't get version/kind; json parse "
                                       "error");
        goto done;
    }
    api = pl_json_str(cred, "apiVersion", NULL);
    if (!api || strcmp(api, ex->api_version) != 0) {
        error = pl_error_set(PL_EAUTH,
                             "exec plugin is configured to use API version %s, plugin returned "
                             "version %s",
                             ex->api_version, api ? api : "");
        goto done;
    }
    if (!json_is_object(json_object_get(cred, "status"))) {
        error = pl_error_set(PL_EAUTH, "exec plugin didn't return a status field");
        goto done;
    }
    token = pl_json_str(cred, "status", "token", NULL);
    cert = pl_json_str(cred, "status", "clientCertificateData", NULL);
    key = pl_json_str(cred, "status", "clientKeyData", NULL);
    if (token && !*token)
        token = NULL;
    if (cert && !*cert)
        cert = NULL;
    if (key && !*key)
        key = NULL;
    if (!token && !cert && !key) {
        error = pl_error_set(PL_EAUTH, "exec plugin didn't return a token or cert/key pair");
        goto done;
    }
    if (!cert != !key) {
        error = pl_error_set(PL_EAUTH, "exec plugin returned only certificate or key, not both");
        goto done;
    }
    exp = pl_json_str(cred, "status", "expirationTimestamp", NULL);
    if (exp && *exp) {
        out->expiry = pl_kube__parse_time(exp);
        if (out->expiry == (time_t)-1) {
            error = pl_error_set(PL_EAUTH, "decoding stdout: invalid expirationTimestamp \"%s\"",
                                 exp);
            goto done;
        }
    }
    if ((token && !(out->token = pl_strdup(token))) || (cert && !(out->cert_pem = pl_strdup(cert))) ||
        (key && !(out->key_pem = pl_strdup(key)))) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
done:
    if (error < 0)
        pl_kube__creds_dispose(out);
    if (pid > 0)
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    if (outb.ptr)
        pl_kube__free_secret(pl_buf_detach(&outb));
    if (cred) {
        /* wipe the credential strings jansson holds before freeing */
        json_t *st = json_object_get(cred, "status");
        const char *keys[] = {"token", "clientKeyData"};
        for (i = 0; i < 2; i++) {
            json_t *v = json_object_get(st, keys[i]);
            if (json_is_string(v)) {
                char *p = (char *)json_string_value(v);
                for (volatile char *q = p; *q; q++)
                    *q = 0;
            }
        }
    }
    json_decref(cred);
    json_decref(info);
    pl_free(info_text); /* jansson's allocator */
    free_strv(envp);
    pl_free(argv);
    return error;
}
