/*
 * remote.c - kustomize remote resources (git URLs) fetched with libgit2 into a local cache.
 *
 * A remote resource such as `https://github.com/org/repo//deploy/base?ref=v1.2.3` is parsed the
 * way kustomize v5 parses it (api/internal/git/repospec.go, NewRepoSpecFromURL, pinned by its
 * repospec_test.go table: TestNewRepoSpecFromUrl_Smoke/_Permute/Errors, TestParseQuery), into
 * a clone URL (host + repository path), a kustomization root inside the repository and the
 * query parameters ref/version, timeout and submodules. kustomize then runs
 * `git init; git fetch --depth=1 origin REF; git checkout FETCH_HEAD; git submodule update`
 * in a temporary directory (api/internal/git/cloner.go); we do the same with libgit2 but keep
 * the checkout in a cache so the next render does not fetch again:
 *
 *   CACHE/<sha256(normalised clone URL)>/url          the clone URL, for humans
 *   CACHE/<sha256(normalised clone URL)>/<ref key>/   a checkout of REF (with .git)
 *
 * CACHE is $PLUMB_CACHE_DIR, else $XDG_CACHE_HOME/plumb/remote, else ~/.cache/plumb/remote.
 * A checkout is built in a temporary sibling and renamed into place, so a crashed fetch never
 * leaves a half checkout behind and two processes racing on the same key both end up with a
 * complete one. A tag or a commit id never moves, so its checkout is reused as is; a branch (or
 * the remote's HEAD when no ref is given) is fetched again the first time each process asks for
 * it and reused afterwards (the set of refreshed checkouts is the one piece of process state
 * here; calls from several threads at once are not supported).
 *
 * Not done here: reading YAML (the renderer reads the returned directory through pl_fs),
 * retries (the daemon retries PL_EUNAVAIL/PL_ETIMEOUT), shallow fetches (libgit2 1.5 has none),
 * fetching a commit that no branch or tag reaches (libgit2 1.5 cannot want an object id).
 *
 * Callers: engine/cli wires pl_source_fetch_remote into pl_render_opts.fetch_remote.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "plumb/fs.h"
#include "plumb/source.h"

/* kustomize's defaults (repospec.go defaultTimeout, defaultSubmodules) */
#define DEFAULT_TIMEOUT_MS (27 * 1000)
#define DEFAULT_SUBMODULES 1
#define TARGET_REF "refs/plumb/target"

/* ---- URL parsing (repospec.go) --------------------------------------------------------- */

typedef struct repospec {
    char *host;      /* "https://github.com/", "git@github.com:", "file://" */
    char *repo_path; /* "org/repo", "/srv/git/repo.git" */
    char *root;      /* kustomization root inside the repository, "" for the top */
    char *ref;       /* "" means the remote's HEAD */
    long timeout_ms;
    int submodules;
} repospec;

/* Exported for tests/unit/source/test_remote.c (libgit2's "semi-private" double underscore). */
int pl_source__parse_url(pl_buf *out, const char *url);

static void repospec_dispose(repospec *s)
{
    pl_free(s->host);
    pl_free(s->repo_path);
    pl_free(s->root);
    pl_free(s->ref);
    memset(s, 0, sizeof(*s));
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* s starts with prefix, ignoring ASCII case (prefix is lower case) */
static int has_prefix_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (lower((unsigned char)*s) != *prefix)
            return 0;
    return 1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Go url.QueryUnescape: %XX and '+' as space; -1 on a bad escape. Appends to out. */
static int query_unescape(pl_buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= n)
                return -1;
            hi = hexval((unsigned char)s[i + 1]);
            lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (pl_buf_putc(out, c) < 0)
            return -2;
    }
    if (!out->ptr && pl_buf_put(out, "", 0) < 0)
        return -2;
    return 0;
}

/* strconv.ParseBool */
static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (!strcmp(s, yes[i]))
            return *out = 1, 0;
        if (!strcmp(s, no[i]))
            return *out = 0, 0;
    }
    return -1;
}

/* strconv.Atoi for a positive decimal that fits in a long; -1 otherwise */
static long parse_seconds(const char *s)
{
    long v = 0;
    const char *p = s;
    if (*p == '+')
        p++;
    if (!*p)
        return -1;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > LONG_MAX / 10 / 1000)
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v;
}

/* Go time.ParseDuration, in milliseconds; -1 when invalid. Units: ns us µs μs ms s m h. */
static double parse_duration_ms(const char *s)
{
    static const struct {
        const char *unit;
        double ms;
    } units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"\xce\xbcs", 1e-3},
                 {"ms", 1},    {"s", 1000},  {"m", 60000},       {"h", 3600000}};
    double total = 0;
    int neg = 0;

    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    if (!strcmp(s, "0"))
        return 0;
    if (!*s)
        return -1;
    while (*s) {
        double v = 0, scale = 1;
        int digits = 0;
        size_t best = 0, bi = 0;
        for (; *s >= '0' && *s <= '9'; s++, digits++)
            v = v * 10 + (*s - '0');
        if (*s == '.') {
            for (s++; *s >= '0' && *s <= '9'; s++, digits++)
                v += (*s - '0') * (scale /= 10);
        }
        if (!digits)
            return -1;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t n = strlen(units[i].unit);
            if (!strncmp(s, units[i].unit, n) && n > best)
                best = n, bi = i;
        }
        if (!best)
            return -1;
        total += v * units[bi].ms;
        s += best;
    }
    return neg ? -total : total;
}

/*
 * repospec.go parseQuery: url.ParseQuery, where any malformed pair (bad escape, or a ';')
 * makes every value fall back to its default; ref beats version; timeout is whole seconds or
 * a Go duration, kept only when positive; submodules is a Go bool.
 */
static int parse_query(repospec *s, const char *q)
{
    pl_buf key = PL_BUF_INIT, val = PL_BUF_INIT;
    char *ref = NULL, *version = NULL, *timeout = NULL, *submodules = NULL;
    int bad = 0, error = 0;

    s->timeout_ms = DEFAULT_TIMEOUT_MS;
    s->submodules = DEFAULT_SUBMODULES;
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', n);
        size_t kn = eq ? (size_t)(eq - q) : n;
        int r;

        if (memchr(q, ';', n)) {
            bad = 1;
        } else if (n) {
            pl_buf_clear(&key);
            pl_buf_clear(&val);
            if ((r = query_unescape(&key, q, kn)) == 0)
                r = eq ? query_unescape(&val, eq + 1, n - kn - 1) : query_unescape(&val, "", 0);
            if (r == -2) {
                error = pl_error_set(PL_ENOMEM, "out of memory");
                goto done;
            }
            if (r < 0) {
                bad = 1;
            } else {
                char **slot = !strcmp(key.ptr, "ref")          ? &ref
                              : !strcmp(key.ptr, "version")    ? &version
                              : !strcmp(key.ptr, "timeout")    ? &timeout
                              : !strcmp(key.ptr, "submodules") ? &submodules
                                                               : NULL;
                if (slot && !*slot && !(*slot = pl_strdup(val.ptr))) {
                    error = pl_error_set(PL_ENOMEM, "out of memory");
                    goto done;
                }
            }
        }
        q = amp ? amp + 1 : q + n;
    }
    if (bad)
        goto done;
    if (ref && *ref) {
        s->ref = ref;
        ref = NULL;
    } else if (version) {
        s->ref = version;
        version = NULL;
    }
    if (timeout && *timeout) {
        long secs = parse_seconds(timeout);
        double ms = secs > 0 ? (double)secs * 1000 : parse_duration_ms(timeout);
        if (ms > 0)
            s->timeout_ms = ms < 1 ? 1 : ms > (double)LONG_MAX ? LONG_MAX : (long)ms;
    }
    if (submodules && *submodules) {
        int b;
        if (parse_bool(submodules, &b) == 0)
            s->submodules = b;
    }
done:
    if (error == 0 && !s->ref && !(s->ref = pl_strdup("")))
        error = pl_error_set(PL_ENOMEM, "out of memory");
    pl_free(ref);
    pl_free(version);
    pl_free(timeout);
    pl_free(submodules);
    pl_buf_dispose(&key);
    pl_buf_dispose(&val);
    return error;
}

/* repospec.go extractHost: scheme, optional user name, host; `*rest` points into n. */
static int extract_host(char **out, const char **rest, const char *url, const char *n)
{
    static const char *const schemes[] = {"ssh://", "https://", "http://", "file://"};
    const char *scheme = "", *user = n, *p;
    size_t user_len = 0, sep, slash, colon;
    int std_github, accept_scp;
    pl_buf b = PL_BUF_INIT;

    *out = NULL;
    if (has_prefix_ci(n, "git::"))
        n += 5;
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        if (has_prefix_ci(n, schemes[i])) {
            scheme = schemes[i];
            n += strlen(schemes[i]);
            break;
        }
    }
    /* ^([a-zA-Z][a-zA-Z0-9-]*)@ */
    user = n;
    if ((lower((unsigned char)*n) >= 'a' && lower((unsigned char)*n) <= 'z')) {
        p = n + 1;
        while ((lower((unsigned char)*p) >= 'a' && lower((unsigned char)*p) <= 'z') ||
               (*p >= '0' && *p <= '9') || *p == '-')
            p++;
        if (*p == '@') {
            user_len = (size_t)(p - n) + 1;
            n = p + 1;
        }
    }
    std_github = has_prefix_ci(n, "github.com/") || has_prefix_ci(n, "github.com:");
    accept_scp = !*scheme && (user_len || std_github);
    if (!*scheme && !accept_scp)
        return pl_error_set(PL_EINVALID, "%s: failed to parse scheme", url);

    if (!strcmp(scheme, "file://")) {
        /* everything after the scheme, "user" included, is the local path */
        *rest = user;
        if (!(*out = pl_strdup(scheme)))
            return pl_error_set(PL_ENOMEM, "out of memory");
        return 0;
    }
    slash = strcspn(n, "/");
    sep = slash;
    if (accept_scp) {
        colon = strcspn(n, ":");
        /* the colon delimits the path in scp-like URLs only when no '/' comes first */
        if (!n[slash] || (n[colon] && colon > 0 && colon < slash))
            sep = colon;
    }
    if (n[sep]) {
        *rest = n + sep + 1;
        sep++;
    } else {
        *rest = n + sep;
        sep = strlen(n);
    }
    if (std_github) {
        /* github URLs are normalised: ssh or a user name -> scp form, else https */
        if (!strncmp(scheme, "ssh://", 6) || user_len) {
            scheme = "";
            pl_buf_put(&b, user, user_len);
            pl_buf_puts(&b, "github.com:");
        } else {
            pl_buf_puts(&b, "https://github.com/");
        }
    } else {
        if (sep == 0)
            return pl_error_set(PL_EINVALID, "%s: failed to parse host segment", url);
        pl_buf_puts(&b, scheme);
        pl_buf_put(&b, user, user_len);
        pl_buf_put(&b, n, sep);
    }
    if (!b.ptr) {
        pl_buf_dispose(&b);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    *out = pl_buf_detach(&b);
    return 0;
}

/* repospec.go kustRootPathExitsRepo */
static int exits_repo(const char *root)
{
    char *clean;
    int exits;
    while (*root == '/')
        root++;
    if (!(clean = pl_path_clean(root)))
        return 1;
    exits = !strcmp(clean, "..") || !strncmp(clean, "../", 3);
    pl_free(clean);
    return exits;
}

/* repospec.go parsePathParts: split the repository path from the kustomization root. */
static int split_path(repospec *s, const char *url, const char *n, int all_segments)
{
    const char *p, *repo_end = NULL, *root = NULL;
    pl_buf repo = PL_BUF_INIT;

    if ((p = strstr(n, "_git/"))) {
        /* Azure DevOps: .../_git/<repo>[/<root>] */
        const char *seg = p + 5;
        repo_end = seg + strcspn(seg, "/");
        root = *repo_end ? repo_end + 1 : repo_end;
    } else if ((p = strstr(n, "//"))) {
        repo_end = p;
        root = p + 2;
    } else if ((p = strstr(n, ".git"))) {
        repo_end = p + 4;
        root = repo_end;
    } else if (all_segments) {
        repo_end = n + strlen(n);
        root = repo_end;
    } else if ((p = strchr(n, '/'))) {
        /* the historical default: org/repo, then the root */
        const char *q = strchr(p + 1, '/');
        repo_end = q ? q : p + strlen(p);
        root = q ? q + 1 : repo_end;
    }
    if (!repo_end || repo_end == n)
        return pl_error_set(PL_EINVALID, "%s: failed to parse repo path segment", url);
    if (exits_repo(root))
        return pl_error_set(PL_EINVALID, "%s: url path exits repo", url);
    while (*root == '/')
        root++;
    if (pl_buf_put(&repo, n, (size_t)(repo_end - n)) < 0 || !(s->root = pl_strdup(root))) {
        pl_buf_dispose(&repo);
        return pl_error_set(PL_ENOMEM, "out of memory");
    }
    s->repo_path = pl_buf_detach(&repo);
    return 0;
}

static int parse_url(repospec *out, const char *url)
{
    const char *q, *rest = NULL;
    char *before = NULL;
    int error;

    memset(out, 0, sizeof(*out));
    if (url[0] == '/')
        return pl_error_set(PL_EINVALID, "%s: uri looks like abs path", url);
    q = strchr(url, '?');
    if (!(before = pl_strndup(url, q ? (size_t)(q - url) : strlen(url))))
        return pl_error_set(PL_ENOMEM, "out of memory");
    if ((error = parse_query(out, q ? q + 1 : NULL)) < 0 ||
        (error = extract_host(&out->host, &rest, url, before)) < 0 ||
        (error = split_path(out, url, rest, !strcmp(out->host, "file://"))) < 0)
        repospec_dispose(out);
    pl_free(before);
    return error;
}

int pl_source__parse_url(pl_buf *out, const char *url)
{
    repospec s;
    int error;

    if ((error = parse_url(&s, url)) < 0)
        return error;
    error = pl_buf_printf(out, "%s|%s|%s|%s|%ld|%d", s.host, s.repo_path, s.root, s.ref,
                          s.timeout_ms, s.submodules);
    repospec_dispose(&s);
    return error;
}

/* ---- cache layout ------------------------------------------------------------------------ */

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);

    if (n >= sizeof(buf))
        return pl_error_set(PL_ERROR, "%s: path too long", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                return pl_error_set(PL_ERROR, "%s: cannot create directory: %s", buf,
                                    strerror(errno));
            buf[i] = c;
        }
    }
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_rf(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Absolute cache root (owned): PLUMB_CACHE_DIR, $XDG_CACHE_HOME/plumb/remote, ~/.cache/... */
static int cache_root(char **out)
{
    const char *env = getenv("PLUMB_CACHE_DIR"), *home;
    char cwd[PATH_MAX];
    pl_buf b = PL_BUF_INIT;
    int error;

    *out = NULL;
    if (env && *env)
        error = pl_buf_puts(&b, env);
    else if ((env = getenv("XDG_CACHE_HOME")) && *env == '/')
        error = pl_buf_printf(&b, "%s/plumb/remote", env);
    else if ((home = getenv("HOME")) && *home)
        error = pl_buf_printf(&b, "%s/.cache/plumb/remote", home);
    else
        return pl_error_set(PL_ERROR, "no cache directory: set PLUMB_CACHE_DIR or HOME");
    if (error < 0)
        goto done;
    if (b.ptr[0] != '/') {
        if (!getcwd(cwd, sizeof(cwd))) {
            error = pl_error_set(PL_ERROR, "cannot resolve the current directory");
            goto done;
        }
        *out = pl_path_join(cwd, b.ptr);
    } else {
        *out = pl_path_clean(b.ptr);
    }
    if (!*out)
        error = pl_error_set(PL_ENOMEM, "out of memory");
done:
    pl_buf_dispose(&b);
    return error;
}

/*
 * The cache key of a repository: its clone URL with the host part lower-cased and a trailing
 * "/" or ".git" dropped, so github.com/org/repo and https://github.com/org/repo.git share a
 * clone.
 */
static void url_key(char out[65], const repospec *s)
{
    pl_buf b = PL_BUF_INIT;
    size_t n;

    for (const char *p = s->host; *p; p++)
        pl_buf_putc(&b, (char)lower((unsigned char)*p));
    pl_buf_puts(&b, s->repo_path);
    n = b.len;
    while (n > 1 && b.ptr && b.ptr[n - 1] == '/')
        n--;
    if (n > 4 && b.ptr && !strncmp(b.ptr + n - 4, ".git", 4))
        n -= 4;
    pl_sha256_hex(out, b.ptr ? b.ptr : "", b.ptr ? n : 0);
    pl_buf_dispose(&b);
}

/* A file name for a ref: [A-Za-z0-9._-] kept, the rest %XX; "_HEAD" for the default branch. */
static int ref_key(pl_buf *out, const char *ref)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!*ref)
        return pl_buf_puts(out, "_HEAD");
    for (const char *p = ref; *p; p++) {
        unsigned char c = (unsigned char)*p;
        int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_' || (c == '.' && p != ref);
        if (keep)
            pl_buf_putc(out, (char)c);
        else if (pl_buf_putc(out, '%') == 0)
            pl_buf_putc(out, hex[c >> 4]), pl_buf_putc(out, hex[c & 15]);
    }
    if (out->len > 120) {
        char sum[65];
        pl_sha256_hex(sum, ref, strlen(ref));
        pl_buf_clear(out);
        return pl_buf_printf(out, "sha256-%s", sum);
    }
    return out->ptr ? 0 : pl_error_set(PL_ENOMEM, "out of memory");
}

/* ---- process state --------------------------------------------------------------------- */

/* checkouts of mutable refs already fetched by this process (owned strings) */
static char **refreshed;
static size_t nrefreshed;
static int git_ready;

static void cleanup_at_exit(void)
{
    for (size_t i = 0; i < nrefreshed; i++)
        pl_free(refreshed[i]);
    pl_free(refreshed);
    refreshed = NULL;
    nrefreshed = 0;
    if (git_ready)
        git_libgit2_shutdown();
    git_ready = 0;
}

static int ensure_git(void)
{
    if (git_ready)
        return 0;
    if (git_libgit2_init() < 0)
        return pl_error_set(PL_ERROR, "cannot initialise libgit2");
    git_ready = 1;
    atexit(cleanup_at_exit);
    return 0;
}

static int was_refreshed(const char *dir)
{
    for (size_t i = 0; i < nrefreshed; i++)
        if (!strcmp(refreshed[i], dir))
            return 1;
    return 0;
}

static void mark_refreshed(const char *dir)
{
    char **v;
    char *copy;

    if (was_refreshed(dir) || !(copy = pl_strdup(dir)))
        return;
    if (!(v = pl_realloc(refreshed, (nrefreshed + 1) * sizeof(char *)))) {
        pl_free(copy); /* only costs a second fetch */
        return;
    }
    refreshed = v;
    refreshed[nrefreshed++] = copy;
}

/* ---- libgit2 ------------------------------------------------------------------------------ */

typedef struct fetch_ctx {
    const char *url; /* as the user wrote it, for messages */
    double deadline_ms;
    long timeout_ms;
    int timed_out;
    int cred_attempts;
} fetch_ctx;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

static int check_deadline(fetch_ctx *ctx)
{
    if (now_ms() > ctx->deadline_ms) {
        ctx->timed_out = 1;
        git_error_set_str(GIT_ERROR_NET, "timed out");
        return -1;
    }
    return 0;
}

static int on_transfer(const git_indexer_progress *stats, void *payload)
{
    (void)stats;
    return check_deadline(payload);
}

static int on_sideband(const char *str, int len, void *payload)
{
    (void)str;
    (void)len;
    return check_deadline(payload);
}

/* ssh URLs authenticate with the ssh agent (what `git` does without a configured key);
 * http(s) is anonymous. Bounded, because libgit2 calls back again after each rejection. */
static int on_credentials(git_credential **out, const char *url, const char *user_from_url,
                          unsigned int allowed, void *payload)
{
    fetch_ctx *ctx = payload;
    (void)url;
    if (ctx->cred_attempts++ > 0)
        return GIT_EAUTH;
    if (allowed & GIT_CREDENTIAL_SSH_KEY)
        return git_credential_ssh_key_from_agent(out, user_from_url ? user_from_url : "git");
    if (allowed & GIT_CREDENTIAL_USERNAME)
        return git_credential_username_new(out, user_from_url ? user_from_url : "git");
    return GIT_PASSTHROUGH;
}

static void init_callbacks(git_remote_callbacks *cb, fetch_ctx *ctx)
{
    git_remote_init_callbacks(cb, GIT_REMOTE_CALLBACKS_VERSION);
    cb->transfer_progress = on_transfer;
    cb->sideband_progress = on_sideband;
    cb->credentials = on_credentials;
    cb->payload = ctx;
}

static const char *git_msg(void)
{
    const git_error *e = git_error_last();
    return e && e->message && *e->message ? e->message : "unknown error";
}

/* The one place libgit2 network errors become pl codes. */
static int fetch_failed(const fetch_ctx *ctx, int gerr)
{
    if (ctx->timed_out)
        return pl_error_set(PL_ETIMEOUT, "%s: cannot fetch: timed out after %ld ms", ctx->url,
                            ctx->timeout_ms);
    if (gerr == GIT_EAUTH || gerr == GIT_ECERTIFICATE)
        return pl_error_set(PL_EAUTH, "%s: cannot fetch: %s", ctx->url, git_msg());
    return pl_error_set(PL_EUNAVAIL, "%s: cannot fetch: %s", ctx->url, git_msg());
}

static int local_failed(const fetch_ctx *ctx, const char *what)
{
    return pl_error_set(PL_ERROR, "%s: %s: %s", ctx->url, what, git_msg());
}

/*
 * git's url.<base>.insteadOf: the longest matching prefix of the URL is replaced by <base>.
 * Done here rather than by libgit2 because libgit2 1.5 matches config names with pcre2 and
 * leaks the match data of every regexec (fixed upstream by libgit2 PR #6382, in 1.6); a plain
 * iteration over the config has no regex.
 */
static int rewrite_url(pl_buf *out, git_repository *repo, const char *url)
{
    git_config *cfg = NULL;
    git_config_iterator *it = NULL;
    git_config_entry *e;
    size_t best = 0;
    char *base = NULL;
    int error = 0;

    if (git_repository_config_snapshot(&cfg, repo) == 0 && git_config_iterator_new(&it, cfg) == 0) {
        while (git_config_next(&e, it) == 0) {
            size_t n = strlen(e->name), vlen = e->value ? strlen(e->value) : 0;
            if (n <= 14 || strncmp(e->name, "url.", 4) != 0 ||
                strcmp(e->name + n - 10, ".insteadof") != 0 || vlen <= best ||
                strncmp(url, e->value, vlen) != 0)
                continue;
            pl_free(base);
            if (!(base = pl_strndup(e->name + 4, n - 14))) {
                error = pl_error_set(PL_ENOMEM, "out of memory");
                break;
            }
            best = vlen;
        }
    }
    if (error == 0)
        error = pl_buf_printf(out, "%s%s", base ? base : "", url + (base ? best : 0));
    pl_free(base);
    git_config_iterator_free(it);
    git_config_free(cfg);
    return error;
}

/* An in-memory remote for `url` (insteadOf applied), without touching the repository config. */
static int open_remote(git_remote **out, git_repository *repo, const char *url)
{
    git_remote_create_options opts;
    pl_buf u = PL_BUF_INIT;
    int error;

    if ((error = rewrite_url(&u, repo, url)) < 0)
        return error;
    git_remote_create_options_init(&opts, GIT_REMOTE_CREATE_OPTIONS_VERSION);
    opts.repository = repo;
    opts.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
    error = git_remote_create_with_opts(out, u.ptr, &opts);
    pl_buf_dispose(&u);
    return error;
}

static const git_remote_head *find_head(const git_remote_head **heads, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(heads[i]->name, name))
            return heads[i];
    return NULL;
}

static int is_hex_id(const char *s)
{
    size_t n = strlen(s);
    if (n < 4 || n > GIT_OID_HEXSZ)
        return 0;
    for (; *s; s++)
        if (hexval((unsigned char)*s) < 0)
            return 0;
    return 1;
}

/*
 * Fetch `ref` from origin and leave the commit it names in `*commit`. `*mutable_ref` says
 * whether the ref can move (a branch or the remote HEAD) or not (a tag or a commit id).
 * Remote names are resolved in git's order for `git fetch origin NAME`: the exact name, then
 * refs/NAME, refs/tags/NAME, refs/heads/NAME; failing those, a hex string is a commit id,
 * looked up among everything the branches and tags reach.
 */
static int fetch_ref(git_oid *commit, int *mutable_ref, git_repository *repo,
                     const char *clone_url, const repospec *spec, fetch_ctx *ctx)
{
    git_remote *remote = NULL;
    git_remote_callbacks cb;
    git_fetch_options fo;
    const git_remote_head **heads = NULL;
    size_t nheads = 0;
    git_object *obj = NULL;
    git_reference *target = NULL;
    pl_buf name = PL_BUF_INIT, refspec = PL_BUF_INIT;
    char *specs[2];
    git_strarray arr = {specs, 1};
    const char *ref = spec->ref;
    int error, by_id = 0;

    git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
    init_callbacks(&cb, ctx);
    ctx->deadline_ms = now_ms() + (double)ctx->timeout_ms;
    ctx->timed_out = 0;
    ctx->cred_attempts = 0;
    if ((error = open_remote(&remote, repo, clone_url)) < 0) {
        error = local_failed(ctx, "cannot create remote");
        goto done;
    }
    if ((error = git_remote_connect(remote, GIT_DIRECTION_FETCH, &cb, NULL, NULL)) < 0 ||
        (error = git_remote_ls(&heads, &nheads, remote)) < 0) {
        error = fetch_failed(ctx, error);
        goto done;
    }

    *mutable_ref = 1;
    if (!*ref) {
        const git_remote_head *h = find_head(heads, nheads, "HEAD");
        if (!h) {
            error = pl_error_set(PL_ENOTFOUND, "%s: the remote has no HEAD", ctx->url);
            goto done;
        }
        error = pl_buf_puts(&name, h->symref_target ? h->symref_target : "HEAD");
    } else {
        static const char *const rules[] = {"", "refs/", "refs/tags/", "refs/heads/"};
        for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]) && !name.len; i++) {
            pl_buf_clear(&name);
            if ((error = pl_buf_printf(&name, "%s%s", rules[i], ref)) < 0)
                goto done;
            if (!strncmp(name.ptr, "refs/", 5) && find_head(heads, nheads, name.ptr))
                break;
            pl_buf_clear(&name);
        }
        if (!name.len) {
            if (!is_hex_id(ref)) {
                error = pl_error_set(PL_ENOTFOUND, "%s: ref %s not found", ctx->url, ref);
                goto done;
            }
            by_id = 1;
        }
    }
    if (error < 0)
        goto done;

    fo.callbacks = cb;
    fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
    fo.update_fetchhead = 0;
    if (by_id) {
        specs[0] = "+refs/heads/*:refs/plumb/heads/*";
        specs[1] = "+refs/tags/*:refs/plumb/tags/*";
        arr.count = 2;
        *mutable_ref = 0;
    } else {
        if ((error = pl_buf_printf(&refspec, "+%s:" TARGET_REF, name.ptr)) < 0)
            goto done;
        specs[0] = refspec.ptr;
        *mutable_ref = strncmp(name.ptr, "refs/tags/", 10) != 0;
    }
    if ((error = git_remote_fetch(remote, &arr, &fo, NULL)) < 0) {
        error = fetch_failed(ctx, error);
        goto done;
    }

    if (by_id) {
        git_oid prefix;
        size_t len = strlen(ref);
        if (git_oid_fromstrn(&prefix, ref, len) < 0 ||
            git_object_lookup_prefix(&obj, repo, &prefix, len, GIT_OBJECT_ANY) < 0) {
            error = pl_error_set(PL_ENOTFOUND, "%s: ref %s not found", ctx->url, ref);
            goto done;
        }
    } else if ((error = git_reference_lookup(&target, repo, TARGET_REF)) < 0 ||
               (error = git_reference_peel(&obj, target, GIT_OBJECT_ANY)) < 0) {
        error = local_failed(ctx, "fetched ref missing");
        goto done;
    }
    {
        git_object *c = NULL;
        if (git_object_peel(&c, obj, GIT_OBJECT_COMMIT) < 0) {
            error = pl_error_set(PL_ENOTFOUND, "%s: ref %s is not a commit", ctx->url, ref);
            goto done;
        }
        git_oid_cpy(commit, git_object_id(c));
        git_object_free(c);
    }
    error = 0;
done:
    if (remote)
        git_remote_disconnect(remote);
    git_remote_free(remote);
    git_reference_free(target);
    git_object_free(obj);
    pl_buf_dispose(&name);
    pl_buf_dispose(&refspec);
    return error;
}

static int sync_checkout(int *mutable_ref, git_repository *repo, const char *clone_url,
                         const repospec *spec, fetch_ctx *ctx, int depth);

/* A submodule URL relative to its superproject ("../lib.git", "./x") as git resolves it. */
static int resolve_sub_url(pl_buf *out, const char *parent, const char *url)
{
    size_t n = strlen(parent);
    char sep = '/';

    if (strncmp(url, "./", 2) != 0 && strncmp(url, "../", 3) != 0)
        return pl_buf_puts(out, url);
    while (n > 0 && parent[n - 1] == '/')
        n--;
    for (;;) {
        if (!strncmp(url, "./", 2)) {
            url += 2;
        } else if (!strncmp(url, "../", 3)) {
            url += 3;
            while (n > 0 && parent[n - 1] != '/' && parent[n - 1] != ':')
                n--;
            if (n == 0)
                return pl_error_set(PL_EINVALID, "%s: submodule url %s leaves the host", parent,
                                    url);
            sep = parent[--n];
        } else {
            break;
        }
    }
    return pl_buf_printf(out, "%.*s%c%s", (int)n, parent, sep, url);
}

/*
 * `git submodule update --init` for one submodule, done with our own fetch: the commit the
 * superproject records is fetched (as a commit id) into a repository created at the
 * submodule's path, and its own submodules follow.
 */
static int checkout_submodule(git_repository *repo, const char *clone_url, const repospec *parent,
                              fetch_ctx *ctx, int depth, const git_oid *id, const char *path,
                              const char *url)
{
    git_repository *sub = NULL;
    pl_buf abs_url = PL_BUF_INIT, dir = PL_BUF_INIT;
    repospec spec;
    char hex[GIT_OID_HEXSZ + 1];
    int mutable_ref, error;

    git_oid_tostr(hex, sizeof(hex), id);
    memset(&spec, 0, sizeof(spec));
    spec.ref = hex;
    spec.submodules = 1;
    spec.timeout_ms = parent->timeout_ms;
    if ((error = resolve_sub_url(&abs_url, clone_url, url)) < 0 ||
        (error = pl_buf_printf(&dir, "%s%s", git_repository_workdir(repo), path)) < 0 ||
        (error = mkdir_p(dir.ptr)) < 0)
        goto done;
    if (git_repository_init(&sub, dir.ptr, 0) < 0) {
        error = local_failed(ctx, "cannot create submodule repository");
        goto done;
    }
    if ((error = sync_checkout(&mutable_ref, sub, abs_url.ptr, &spec, ctx, depth + 1)) < 0)
        pl_error_prefix("%s: submodule %s", ctx->url, path);
done:
    git_repository_free(sub);
    pl_buf_dispose(&abs_url);
    pl_buf_dispose(&dir);
    return error;
}

/*
 * Submodules of the checked-out commit: .gitmodules gives each one's path and URL, the tree
 * gives the commit (a gitlink entry). Read with a plain config iteration rather than
 * git_submodule_foreach/git_submodule_update, which in libgit2 1.5 match config names with
 * pcre2 and leak the match data (fixed upstream by libgit2 PR #6382, in 1.6).
 */
static int update_submodules(git_repository *repo, git_commit *commit, const char *clone_url,
                             const repospec *spec, fetch_ctx *ctx, int depth)
{
    git_config *cfg = NULL;
    git_config_iterator *it = NULL;
    git_config_entry *e;
    git_tree *tree = NULL;
    git_tree_entry *te = NULL;
    pl_buf path = PL_BUF_INIT, key = PL_BUF_INIT;
    int error = 0;

    if (depth > 8)
        return pl_error_set(PL_EINVALID, "%s: submodules nested too deeply", ctx->url);
    if ((error = pl_buf_printf(&path, "%s.gitmodules", git_repository_workdir(repo))) < 0)
        return error;
    if (access(path.ptr, F_OK) != 0)
        goto done;
    if (git_config_open_ondisk(&cfg, path.ptr) < 0 || git_config_iterator_new(&it, cfg) < 0 ||
        git_commit_tree(&tree, commit) < 0) {
        error = local_failed(ctx, "cannot read .gitmodules");
        goto done;
    }
    while (error == 0 && git_config_next(&e, it) == 0) {
        size_t n = strlen(e->name);
        const char *sub_path = e->value, *sub_url;
        git_config_entry *ue = NULL;

        /* one pass over submodule.<name>.path entries; the url is looked up by name */
        if (n <= 15 || strncmp(e->name, "submodule.", 10) != 0 ||
            strcmp(e->name + n - 5, ".path") != 0 || !sub_path || !*sub_path)
            continue;
        pl_buf_clear(&key);
        if ((error = pl_buf_printf(&key, "%.*s.url", (int)(n - 5), e->name)) < 0)
            break;
        if (git_config_get_entry(&ue, cfg, key.ptr) < 0 || !ue->value) {
            git_config_entry_free(ue);
            continue;
        }
        sub_url = ue->value;
        if (git_tree_entry_bypath(&te, tree, sub_path) == 0 &&
            git_tree_entry_type(te) == GIT_OBJECT_COMMIT)
            error = checkout_submodule(repo, clone_url, spec, ctx, depth, git_tree_entry_id(te),
                                       sub_path, sub_url);
        git_tree_entry_free(te);
        te = NULL;
        git_config_entry_free(ue);
    }
done:
    git_tree_free(tree);
    git_config_iterator_free(it);
    git_config_free(cfg);
    pl_buf_dispose(&path);
    pl_buf_dispose(&key);
    return error;
}

/* Fetch the ref into `repo` and make its work tree exactly that commit (detached HEAD). */
static int sync_checkout(int *mutable_ref, git_repository *repo, const char *clone_url,
                         const repospec *spec, fetch_ctx *ctx, int depth)
{
    git_oid oid;
    git_commit *commit = NULL;
    git_checkout_options co;
    int error;

    git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
    if ((error = fetch_ref(&oid, mutable_ref, repo, clone_url, spec, ctx)) < 0)
        return error;
    co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED;
    if (git_commit_lookup(&commit, repo, &oid) < 0 ||
        git_checkout_tree(repo, (git_object *)commit, &co) < 0 ||
        git_repository_set_head_detached(repo, &oid) < 0) {
        error = local_failed(ctx, "cannot check out");
        goto done;
    }
    if (spec->submodules)
        error = update_submodules(repo, commit, clone_url, spec, ctx, depth);
done:
    git_commit_free(commit);
    return error;
}

/* Marker written into .git once a checkout is complete: "mutable\n" or "immutable\n". */
#define MARKER "plumb-ref"

static int read_marker(const char *dir, int *mutable_ref)
{
    char path[PATH_MAX], buf[16] = "";
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/.git/" MARKER, dir);
    if (!(f = fopen(path, "rb")))
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (!strcmp(buf, "mutable\n"))
        *mutable_ref = 1;
    else if (!strcmp(buf, "immutable\n"))
        *mutable_ref = 0;
    else
        return -1;
    return 0;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    int ok;
    if (!f)
        return pl_error_set(PL_ERROR, "%s: cannot write: %s", path, strerror(errno));
    ok = fputs(text, f) >= 0;
    ok = (fclose(f) == 0) && ok;
    return ok ? 0 : pl_error_set(PL_ERROR, "%s: cannot write", path);
}

/* Clone into a temporary sibling of `dir` and rename it into place. */
static int fresh_checkout(const char *dir, const char *clone_url, const repospec *spec,
                          fetch_ctx *ctx)
{
    static unsigned long seq;
    git_repository *repo = NULL;
    git_config *cfg = NULL;
    pl_buf tmp = PL_BUF_INIT, marker = PL_BUF_INIT;
    char *parent = pl_path_dir(dir);
    int error, mutable_ref = 1;

    if (!parent)
        return pl_error_set(PL_ENOMEM, "out of memory");
    if ((error = pl_buf_printf(&tmp, "%s/.tmp-%ld-%lu-%s", parent, (long)getpid(), ++seq,
                               pl_path_base(dir))) < 0)
        goto done;
    rm_rf(tmp.ptr);
    /* origin is recorded for `git` users and for relative submodule URLs; fetches use an
     * anonymous remote with the same URL */
    if (git_repository_init(&repo, tmp.ptr, 0) < 0 ||
        git_repository_config(&cfg, repo) < 0 ||
        git_config_set_string(cfg, "remote.origin.url", clone_url) < 0) {
        error = local_failed(ctx, "cannot create repository");
        goto done;
    }
    if ((error = sync_checkout(&mutable_ref, repo, clone_url, spec, ctx, 0)) < 0)
        goto done;
    if ((error = pl_buf_printf(&marker, "%s/.git/" MARKER, tmp.ptr)) < 0 ||
        (error = write_file(marker.ptr, mutable_ref ? "mutable\n" : "immutable\n")) < 0)
        goto done;
    git_config_free(cfg);
    git_repository_free(repo);
    cfg = NULL;
    repo = NULL;
    if (rename(tmp.ptr, dir) < 0) {
        /* another process published the same checkout first: use theirs */
        int race = errno == EEXIST || errno == ENOTEMPTY;
        if (!race)
            error = pl_error_set(PL_ERROR, "%s: cannot rename into place: %s", dir,
                                 strerror(errno));
    }
done:
    git_config_free(cfg);
    git_repository_free(repo);
    if (tmp.ptr)
        rm_rf(tmp.ptr); /* no-op after a successful rename */
    pl_buf_dispose(&tmp);
    pl_buf_dispose(&marker);
    pl_free(parent);
    return error;
}

static int refresh_checkout(const char *dir, const char *clone_url, const repospec *spec,
                            fetch_ctx *ctx)
{
    git_repository *repo = NULL;
    int error, mutable_ref;

    if (git_repository_open(&repo, dir) < 0)
        return local_failed(ctx, "cannot open cached checkout");
    error = sync_checkout(&mutable_ref, repo, clone_url, spec, ctx, 0);
    git_repository_free(repo);
    return error;
}

int pl_source_fetch_remote(char **out_dir, const char *url, void *payload)
{
    repospec spec;
    fetch_ctx ctx;
    char *root = NULL, *result = NULL;
    pl_buf clone_url = PL_BUF_INIT, dir = PL_BUF_INIT, key = PL_BUF_INIT;
    char urlhash[65];
    int error, mutable_ref = 1;
    struct stat st;

    (void)payload;
    if (!out_dir || !url)
        return pl_error_set(PL_ERROR, "pl_source_fetch_remote: invalid argument");
    *out_dir = NULL;
    if ((error = parse_url(&spec, url)) < 0)
        return error;
    memset(&ctx, 0, sizeof(ctx));
    ctx.url = url;
    ctx.timeout_ms = spec.timeout_ms;

    if ((error = ensure_git()) < 0 || (error = cache_root(&root)) < 0)
        goto done;
    if ((error = pl_buf_printf(&clone_url, "%s%s", spec.host, spec.repo_path)) < 0 ||
        (error = ref_key(&key, spec.ref)) < 0 ||
        (!spec.submodules && (error = pl_buf_puts(&key, "+nosubmodules")) < 0))
        goto done;
    url_key(urlhash, &spec);
    if ((error = pl_buf_printf(&dir, "%s/%s", root, urlhash)) < 0 ||
        (error = mkdir_p(dir.ptr)) < 0)
        goto done;
    {
        /* for a human browsing the cache; failure to write it does not matter */
        char upath[PATH_MAX], line[PATH_MAX + 2];
        snprintf(upath, sizeof(upath), "%s/url", dir.ptr);
        snprintf(line, sizeof(line), "%s\n", clone_url.ptr);
        if (stat(upath, &st) < 0 && write_file(upath, line) < 0)
            pl_error_clear();
    }
    if ((error = pl_buf_printf(&dir, "/%s", key.ptr)) < 0)
        goto done;

    if (stat(dir.ptr, &st) == 0 && read_marker(dir.ptr, &mutable_ref) == 0) {
        if (mutable_ref && !was_refreshed(dir.ptr)) {
            pl_log(PL_LOG_DEBUG, "source", "%s: refreshing %s", url, dir.ptr);
            if ((error = refresh_checkout(dir.ptr, clone_url.ptr, &spec, &ctx)) < 0)
                goto done;
        }
    } else {
        if (stat(dir.ptr, &st) == 0) /* incomplete leftover: start again */
            rm_rf(dir.ptr);
        pl_log(PL_LOG_DEBUG, "source", "%s: fetching into %s", url, dir.ptr);
        if ((error = fresh_checkout(dir.ptr, clone_url.ptr, &spec, &ctx)) < 0)
            goto done;
    }
    mark_refreshed(dir.ptr);

    if (!(result = pl_path_join(dir.ptr, spec.root))) {
        error = pl_error_set(PL_ENOMEM, "out of memory");
        goto done;
    }
    if (stat(result, &st) < 0) {
        error = pl_error_set(PL_ENOTFOUND, "%s: path %s not found in the repository", url,
                             spec.root);
        goto done;
    }
    *out_dir = result;
    result = NULL;
done:
    pl_free(result);
    pl_free(root);
    pl_buf_dispose(&clone_url);
    pl_buf_dispose(&dir);
    pl_buf_dispose(&key);
    repospec_dispose(&spec);
    return error;
}
