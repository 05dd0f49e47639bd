/*
 * test_remote.c - kustomize remote resources: URL parsing and the libgit2 fetch cache
 * (engine/source/remote.c).
 *
 * Parsing is pinned by cases from kustomize's api/internal/git/repospec_test.go. Fetching runs
 * against bare repositories built with the git CLI in a temporary directory and reached with
 * file:// URLs (no network): tags, branches, commit ids, sub-paths, cache reuse, and the
 * unreachable-remote, missing-ref and missing-path errors. Skipped when git is not installed.
 *
 * Needs pl_source (and through it libgit2) at link time; tests/CMakeLists.txt defines
 * PL_TEST_WITH_SOURCE for tests/unit/source. Without it this file builds a stub that skips.
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "plumb/core.h"
#include "plumb/source.h"

#ifdef PL_TEST_WITH_SOURCE

/* engine/source/remote.c, semi-private: "host|repo_path|root|ref|timeout_ms|submodules" */
int pl_source__parse_url(pl_buf *out, const char *url);

/* ---- parsing -------------------------------------------------------------------------- */

static const struct {
    const char *url, *want;
} parse_cases[] = {
    /* TestNewRepoSpecFromUrl_Smoke */
    {"https://git-codecommit.us-east-2.amazonaws.com/someorg/somerepo/somedir?ref=testbranch",
     "https://git-codecommit.us-east-2.amazonaws.com/|someorg/somerepo|somedir|testbranch|27000|1"},
    {"https://fabrikops2.visualstudio.com/someorg/somerepo?ref=master",
     "https://fabrikops2.visualstudio.com/|someorg/somerepo||master|27000|1"},
    {"http://github.com/someorg/somerepo/somedir",
     "https://github.com/|someorg/somerepo|somedir||27000|1"},
    {"git@github.com:someorg/somerepo/somedir", "git@github.com:|someorg/somerepo|somedir||27000|1"},
    {"http://github.com/someorg/somerepo.git/somedir",
     "https://github.com/|someorg/somerepo.git|somedir||27000|1"},
    {"git@gitlab2.sqtools.ru:infra/kubernetes/thanos-base.git?ref=v0.1.0",
     "git@gitlab2.sqtools.ru:|infra/kubernetes/thanos-base.git||v0.1.0|27000|1"},
    {"git@bitbucket.org:company/project.git//path?ref=branch",
     "git@bitbucket.org:|company/project.git|path|branch|27000|1"},
    {"git@bitbucket.org/company/project.git//path?ref=branch",
     "git@bitbucket.org/|company/project.git|path|branch|27000|1"},
    {"ssh://git@bitbucket.org/company/project.git//path?ref=branch",
     "ssh://git@bitbucket.org/|company/project.git|path|branch|27000|1"},
    {"https://itfs.mycompany.com/collection/project/_git/somerepos/somedir?version=v1.0.0",
     "https://itfs.mycompany.com/|collection/project/_git/somerepos|somedir|v1.0.0|27000|1"},
    {"git::https://itfs.mycompany.com/collection/project/_git/somerepos",
     "https://itfs.mycompany.com/|collection/project/_git/somerepos|||27000|1"},
    {"git@github.com/someorg/somerepo/somepath", "git@github.com:|someorg/somerepo|somepath||27000|1"},
    {"https://github.com/kubernetes-sigs/kustomize//examples/multibases/dev/?ref=v1.0.6",
     "https://github.com/|kubernetes-sigs/kustomize|examples/multibases/dev/|v1.0.6|27000|1"},
    {"file://a/b/c/someRepo.git/somepath?ref=someBranch",
     "file://|a/b/c/someRepo.git|somepath|someBranch|27000|1"},
    {"file://a/b/c/someRepo//somepath?ref=someBranch",
     "file://|a/b/c/someRepo|somepath|someBranch|27000|1"},
    {"file:///a/b/c/someRepo?ref=someBranch", "file://|/a/b/c/someRepo||someBranch|27000|1"},
    {"file:///", "file://|/|||27000|1"},
    {"ssh://git@github.com/kubernetes-sigs/kustomize//examples/multibases/dev?ref=v1.0.6",
     "git@github.com:|kubernetes-sigs/kustomize|examples/multibases/dev|v1.0.6|27000|1"},
    {"https://example.org/path/to/repo//examples/multibases/dev",
     "https://example.org/|path/to/repo|examples/multibases/dev||27000|1"},
    {"https://authority/org/repo?ref=group/version",
     "https://authority/|org/repo||group/version|27000|1"},
    {"https://authority/org/repo/?ref=includes_git/for_some_reason",
     "https://authority/|org/repo||includes_git/for_some_reason|27000|1"},
    {"file://git@home/path/to/repository.git//path?ref=branch",
     "file://|git@home/path/to/repository.git|path|branch|27000|1"},
    {"https://git@home.com/path/to/repository.git//path?ref=branch",
     "https://git@home.com/|path/to/repository.git|path|branch|27000|1"},
    {"ssh://git@ssh.github.com:443/YOUR-USERNAME/YOUR-REPOSITORY.git",
     "ssh://git@ssh.github.com:443/|YOUR-USERNAME/YOUR-REPOSITORY.git|||27000|1"},
    {"git@gitlab.com/user:name/YOUR-REPOSITORY.git/path",
     "git@gitlab.com/|user:name/YOUR-REPOSITORY.git|path||27000|1"},
    {"https://username@dev.azure.com/org/project/_git/repo//path/to/kustomization/root",
     "https://username@dev.azure.com/|org/project/_git/repo|path/to/kustomization/root||27000|1"},
    {"ssh://org-12345@github.com/kubernetes-sigs/kustomize",
     "org-12345@github.com:|kubernetes-sigs/kustomize|||27000|1"},
    {"git@gist.github.com:bc7947cb727d7f9217e7862d961a1ffd.git",
     "git@gist.github.com:|bc7947cb727d7f9217e7862d961a1ffd.git|||27000|1"},
    /* TestNewRepoSpecFromUrl_Permute samples */
    {"gitHub.com/someOrg/someRepo/foo/krusty.txt?ref=group/version",
     "https://github.com/|someOrg/someRepo|foo/krusty.txt|group/version|27000|1"},
    {"github.com:kubernetes/website", "https://github.com/|kubernetes/website|||27000|1"},
    {"hTTps://github.com/someOrg/someRepo/README.md?ref=v0.1.0",
     "https://github.com/|someOrg/someRepo|README.md|v0.1.0|27000|1"},
    {"ssh://git.example.com:7999/someOrg/someRepo/README.md",
     "ssh://git.example.com:7999/|someOrg/someRepo|README.md||27000|1"},
    {"git::git@github.com:someOrg/someRepo?ref=master",
     "git@github.com:|someOrg/someRepo||master|27000|1"},
    {"org-12345@github.com/someOrg/someRepo", "org-12345@github.com:|someOrg/someRepo|||27000|1"},
    /* TestParseQuery */
    {"https://github.com/org/repo?version=master&ref=v1.0.0",
     "https://github.com/|org/repo||v1.0.0|27000|1"},
    {"https://github.com/org/repo?ref=kustomize/v4.5.7",
     "https://github.com/|org/repo||kustomize/v4.5.7|27000|1"},
    {"https://github.com/org/repo?version=master&submodules=maybe&timeout=jiffy",
     "https://github.com/|org/repo||master|27000|1"},
    {"https://github.com/org/repo?version=master&timeout=0s",
     "https://github.com/|org/repo||master|27000|1"},
    {"https://github.com/org/repo?version=master&timeout=61",
     "https://github.com/|org/repo||master|61000|1"},
    {"https://github.com/org/repo?version=master&submodules=false&timeout=1m1s",
     "https://github.com/|org/repo||master|61000|0"},
    {"https://github.com/org/repo?ref=a%2Fb&timeout=1.5s", "https://github.com/|org/repo||a/b|1500|1"},
    /* a malformed query falls back to every default */
    {"https://github.com/org/repo?ref=x&timeout=61;y", "https://github.com/|org/repo|||27000|1"},
};

static void test_source_remote__parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        pl_buf b = PL_BUF_INIT;
        int error = pl_source__parse_url(&b, parse_cases[i].url);
        if (error < 0)
            fail_msg("%s: %s", parse_cases[i].url, pl_error_last()->message);
        if (strcmp(b.ptr, parse_cases[i].want) != 0)
            fail_msg("%s:\n  got  %s\n  want %s", parse_cases[i].url, b.ptr, parse_cases[i].want);
        pl_buf_dispose(&b);
    }
}

static void test_source_remote__parse_errors(void **state)
{
    /* TestNewRepoSpecFromUrlErrors */
    static const struct {
        const char *url, *msg;
    } cases[] = {
        {"/tmp", "uri looks like abs path"},
        {"../../tmp", "failed to parse scheme"},
        {"src/github.com/org/repo/path", "failed to parse scheme"},
        {"iauhsdiuashduas", "failed to parse scheme"},
        {"htxxxtp://github.com/", "failed to parse scheme"},
        {"ssh://git.example.com", "failed to parse repo path segment"},
        {"git::___", "failed to parse scheme"},
        {"https://host?ref=group/version/minor_version", "failed to parse repo path segment"},
        {"https://github.com/org/repo.git//path/../../exits/repo", "url path exits repo"},
        {"github.com!org/repo.git//path", "failed to parse scheme"},
        {"gh:org/repo", "failed to parse scheme"},
        {"https://github.com/thisisa404.yaml", "failed to parse repo path segment"},
        {"file:////tmp//path/to/whatever", "failed to parse repo path segment"},
        {"git@scp://github.com/org/repo.git//path", "failed to parse repo path segment"},
        {"git@ssh://github.com/org/repo.git//path", "failed to parse repo path segment"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pl_buf b = PL_BUF_INIT;
        int error = pl_source__parse_url(&b, cases[i].url);
        if (error >= 0)
            fail_msg("%s: parsed as %s", cases[i].url, b.ptr);
        assert_int_equal(error, PL_EINVALID);
        if (!strstr(pl_error_last()->message, cases[i].msg))
            fail_msg("%s: message %s lacks %s", cases[i].url, pl_error_last()->message,
                     cases[i].msg);
        pl_buf_dispose(&b);
    }
}

/* ---- fetching ---------------------------------------------------------------------------- */

typedef struct fixture {
    char tmp[256];
    char bare[320];  /* the "remote" */
    char work[320];  /* where commits are made */
    char v1[41];     /* commit tagged v1 */
} fixture;

static fixture *fx; /* shared by the fetch tests (built once) */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Run git with the arguments in `cwd`; stdout (first line) into out when given. */
static int git(const char *cwd, char *out, size_t outlen, ...)
{
    const char *argv[32];
    int pfd[2], status, argc = 0;
    va_list ap;
    pid_t pid;

    argv[argc++] = "git";
    va_start(ap, outlen);
    while (argc < 31 && (argv[argc] = va_arg(ap, const char *)) != NULL)
        argc++;
    va_end(ap);
    argv[argc] = NULL;
    if (pipe(pfd) < 0)
        return -1;
    if ((pid = fork()) == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        if (chdir(cwd) < 0)
            _exit(127);
        execvp("git", (char *const *)argv);
        _exit(127);
    }
    close(pfd[1]);
    {
        char buf[4096];
        ssize_t n, total = 0;
        while ((n = read(pfd[0], buf + total, sizeof(buf) - 1 - (size_t)total)) > 0)
            total += n;
        buf[total] = '\0';
        if (out) {
            size_t len = strcspn(buf, "\n");
            if (len >= outlen)
                len = outlen - 1;
            memcpy(out, buf, len);
            out[len] = '\0';
        }
    }
    close(pfd[0]);
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void put(const char *dir, const char *rel, const char *text)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    {
        char d[512];
        snprintf(d, sizeof(d), "%s", path);
        *strrchr(d, '/') = '\0';
        mkdir(d, 0755);
    }
    f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void commit(fixture *f, const char *msg)
{
    assert_int_equal(git(f->work, NULL, 0, "add", "-A", NULL), 0);
    assert_int_equal(git(f->work, NULL, 0, "commit", "-q", "-m", msg, NULL), 0);
}

static int setup_repos(void **state)
{
    char cache[400];
    (void)state;
    if (git("/", NULL, 0, "--version", NULL) < 0)
        return 0; /* tests skip themselves */
    fx = calloc(1, sizeof(*fx));
    snprintf(fx->tmp, sizeof(fx->tmp), "/tmp/pl_remote_XXXXXX");
    if (!mkdtemp(fx->tmp))
        return -1;
    snprintf(fx->bare, sizeof(fx->bare), "%s/remote.git", fx->tmp);
    snprintf(fx->work, sizeof(fx->work), "%s/work", fx->tmp);
    snprintf(cache, sizeof(cache), "%s/cache", fx->tmp);
    setenv("PLUMB_CACHE_DIR", cache, 1);
    setenv("GIT_AUTHOR_NAME", "t", 1);
    setenv("GIT_AUTHOR_EMAIL", "t@example.com", 1);
    setenv("GIT_COMMITTER_NAME", "t", 1);
    setenv("GIT_COMMITTER_EMAIL", "t@example.com", 1);
    setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);

    if (git(fx->tmp, NULL, 0, "init", "-q", "--bare", "-b", "main", fx->bare, NULL) < 0 ||
        git(fx->tmp, NULL, 0, "init", "-q", "-b", "main", fx->work, NULL) < 0)
        return -1;
    put(fx->work, "base/cm.yaml", "v1\n");
    put(fx->work, "README", "top\n");
    commit(fx, "one");
    git(fx->work, fx->v1, sizeof(fx->v1), "rev-parse", "HEAD", NULL);
    if (git(fx->work, NULL, 0, "tag", "-a", "-m", "v1", "v1", NULL) < 0 ||
        git(fx->work, NULL, 0, "tag", "light", NULL) < 0)
        return -1;
    put(fx->work, "base/cm.yaml", "v2\n");
    commit(fx, "two");
    if (git(fx->work, NULL, 0, "checkout", "-q", "-b", "feature/x", NULL) < 0)
        return -1;
    put(fx->work, "base/cm.yaml", "feature\n");
    put(fx->work, "extra/only-on-feature", "x\n");
    commit(fx, "feature");
    if (git(fx->work, NULL, 0, "checkout", "-q", "main", NULL) < 0 ||
        git(fx->work, NULL, 0, "push", "-q", "--tags", fx->bare, "main", "feature/x", NULL) < 0)
        return -1;
    return 0;
}

static int teardown_repos(void **state)
{
    (void)state;
    if (fx) {
        nftw(fx->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(fx);
        fx = NULL;
    }
    return 0;
}

/* fetch file://BARE//SUB?QUERY and return the first line of DIR/cm.yaml (static buffer) */
static const char *fetch_cm(const char *sub, const char *query, int *error, char **dir)
{
    static char line[128];
    char url[600], path[700];
    FILE *f;

    snprintf(url, sizeof(url), "file://%s//%s%s%s", fx->bare, sub, query ? "?" : "", query ? query : "");
    *dir = NULL;
    *error = pl_source_fetch_remote(dir, url, NULL);
    if (*error < 0)
        return NULL;
    snprintf(path, sizeof(path), "%s/cm.yaml", *dir);
    line[0] = '\0';
    if ((f = fopen(path, "rb"))) {
        if (!fgets(line, sizeof(line), f))
            line[0] = '\0';
        fclose(f);
    }
    line[strcspn(line, "\n")] = '\0';
    return line;
}

static void expect_cm(const char *query, const char *want)
{
    int error;
    char *dir;
    const char *got = fetch_cm("base", query, &error, &dir);
    if (error < 0)
        fail_msg("%s: %s", query ? query : "(no ref)", pl_error_last()->message);
    assert_non_null(dir);
    assert_true(dir[0] == '/');
    assert_non_null(strstr(dir, "/base"));
    assert_string_equal(got, want);
    pl_free(dir);
}

#define SKIP_WITHOUT_GIT()                                                                         \
    do {                                                                                           \
        if (!fx)                                                                                   \
            skip();                                                                                \
    } while (0)

static void test_source_remote__tags_branches_commits(void **state)
{
    char q[80];
    (void)state;
    SKIP_WITHOUT_GIT();
    expect_cm("ref=v1", "v1");      /* annotated tag */
    expect_cm("version=light", "v1"); /* lightweight tag, ?version= */
    expect_cm("ref=main", "v2");    /* branch */
    expect_cm(NULL, "v2");          /* remote HEAD -> main */
    expect_cm("ref=feature/x", "feature");
    expect_cm("ref=refs/heads/feature/x", "feature");
    snprintf(q, sizeof(q), "ref=%s", fx->v1);
    expect_cm(q, "v1"); /* full commit id */
    snprintf(q, sizeof(q), "ref=%.10s", fx->v1);
    expect_cm(q, "v1"); /* abbreviated commit id */
}

static void test_source_remote__checkouts_are_separate_and_whole(void **state)
{
    int error;
    char *a, *b, path[700];
    struct stat st;
    (void)state;
    SKIP_WITHOUT_GIT();
    fetch_cm("", "ref=feature/x", &error, &a);
    assert_int_equal(error, 0);
    fetch_cm("", "ref=v1", &error, &b);
    assert_int_equal(error, 0);
    assert_string_not_equal(a, b);
    /* the repository root, not only the sub-path, is checked out */
    snprintf(path, sizeof(path), "%s/extra/only-on-feature", a);
    assert_int_equal(stat(path, &st), 0);
    snprintf(path, sizeof(path), "%s/extra", b);
    assert_int_not_equal(stat(path, &st), 0);
    snprintf(path, sizeof(path), "%s/README", b);
    assert_int_equal(stat(path, &st), 0);
    pl_free(a);
    pl_free(b);
}

static void test_source_remote__cache_reused(void **state)
{
    char moved[400];
    int error;
    char *dir;
    (void)state;
    SKIP_WITHOUT_GIT();
    /* warm: a tag, a branch */
    expect_cm("ref=v1", "v1");
    expect_cm("ref=main", "v2");
    /* the branch moves on the remote: this process already fetched it, so no new fetch */
    put(fx->work, "base/cm.yaml", "v3\n");
    commit(fx, "three");
    assert_int_equal(git(fx->work, NULL, 0, "push", "-q", fx->bare, "main", NULL), 0);
    expect_cm("ref=main", "v2");
    /* with the remote gone, cached checkouts still resolve without touching the network */
    snprintf(moved, sizeof(moved), "%s.moved", fx->bare);
    assert_int_equal(rename(fx->bare, moved), 0);
    expect_cm("ref=v1", "v1");
    expect_cm("ref=main", "v2");
    /* ...but anything not cached needs the remote */
    fetch_cm("base", "ref=refs/tags/light", &error, &dir);
    assert_int_equal(rename(moved, fx->bare), 0);
    assert_int_equal(error, PL_EUNAVAIL);
    assert_null(dir);
    expect_cm("ref=refs/tags/light", "v1");
}

static void test_source_remote__submodules(void **state)
{
    char sub_bare[300], sub_work[300], top_work[300], top_bare[300], url[600], path[800];
    char *dir = NULL;
    struct stat st;
    fixture sub;
    (void)state;
    SKIP_WITHOUT_GIT();
    snprintf(sub_bare, sizeof(sub_bare), "%s/sub.git", fx->tmp);
    snprintf(sub_work, sizeof(sub_work), "%s/subwork", fx->tmp);
    snprintf(top_bare, sizeof(top_bare), "%s/top.git", fx->tmp);
    snprintf(top_work, sizeof(top_work), "%s/topwork", fx->tmp);
    assert_int_equal(git(fx->tmp, NULL, 0, "init", "-q", "--bare", "-b", "main", sub_bare, NULL), 0);
    assert_int_equal(git(fx->tmp, NULL, 0, "init", "-q", "--bare", "-b", "main", top_bare, NULL), 0);
    assert_int_equal(git(fx->tmp, NULL, 0, "init", "-q", "-b", "main", sub_work, NULL), 0);
    assert_int_equal(git(fx->tmp, NULL, 0, "init", "-q", "-b", "main", top_work, NULL), 0);
    memset(&sub, 0, sizeof(sub));
    snprintf(sub.work, sizeof(sub.work), "%s", sub_work);
    put(sub_work, "cm.yaml", "from-submodule\n");
    commit(&sub, "sub");
    assert_int_equal(git(sub_work, NULL, 0, "push", "-q", sub_bare, "main", NULL), 0);
    snprintf(sub.work, sizeof(sub.work), "%s", top_work);
    put(top_work, "README", "top\n");
    assert_int_equal(git(top_work, NULL, 0, "-c", "protocol.file.allow=always", "submodule", "add",
                         "-q", sub_bare, "vendor/sub", NULL),
                     0);
    commit(&sub, "top");
    assert_int_equal(git(top_work, NULL, 0, "push", "-q", top_bare, "main", NULL), 0);

    snprintf(url, sizeof(url), "file://%s//vendor/sub?ref=main", top_bare);
    assert_int_equal(pl_source_fetch_remote(&dir, url, NULL), 0);
    snprintf(path, sizeof(path), "%s/cm.yaml", dir);
    assert_int_equal(stat(path, &st), 0);
    pl_free(dir);
    /* ?submodules=false leaves the submodule directory empty */
    snprintf(url, sizeof(url), "file://%s//vendor/sub?ref=main&submodules=false", top_bare);
    assert_int_equal(pl_source_fetch_remote(&dir, url, NULL), 0);
    snprintf(path, sizeof(path), "%s/cm.yaml", dir);
    assert_int_not_equal(stat(path, &st), 0);
    pl_free(dir);
}

static void test_source_remote__unreachable_remote(void **state)
{
    char *dir = NULL;
    const char *url = "file:///nonexistent/plumb/repo.git//base?ref=v1";
    int error;
    (void)state;
    SKIP_WITHOUT_GIT();
    error = pl_source_fetch_remote(&dir, url, NULL);
    assert_int_equal(error, PL_EUNAVAIL);
    assert_null(dir);
    if (strncmp(pl_error_last()->message, url, strlen(url)) != 0 ||
        !strstr(pl_error_last()->message, ": cannot fetch: "))
        fail_msg("message: %s", pl_error_last()->message);
}

static void test_source_remote__missing_ref(void **state)
{
    int error;
    char *dir;
    (void)state;
    SKIP_WITHOUT_GIT();
    fetch_cm("base", "ref=v9.9.9", &error, &dir);
    assert_int_equal(error, PL_ENOTFOUND);
    assert_non_null(strstr(pl_error_last()->message, "ref v9.9.9 not found"));
    fetch_cm("base", "ref=abcdef12", &error, &dir); /* hex, but no such commit */
    assert_int_equal(error, PL_ENOTFOUND);
}

static void test_source_remote__missing_path(void **state)
{
    int error;
    char *dir;
    (void)state;
    SKIP_WITHOUT_GIT();
    fetch_cm("no/such/dir", "ref=v1", &error, &dir);
    assert_int_equal(error, PL_ENOTFOUND);
    assert_null(dir);
    assert_non_null(strstr(pl_error_last()->message, "path no/such/dir not found"));
}

int main(void)
{
    const struct CMUnitTest parse[] = {
        cmocka_unit_test(test_source_remote__parse_table),
        cmocka_unit_test(test_source_remote__parse_errors),
    };
    const struct CMUnitTest fetch[] = {
        cmocka_unit_test(test_source_remote__tags_branches_commits),
        cmocka_unit_test(test_source_remote__checkouts_are_separate_and_whole),
        cmocka_unit_test(test_source_remote__cache_reused),
        cmocka_unit_test(test_source_remote__submodules),
        cmocka_unit_test(test_source_remote__unreachable_remote),
        cmocka_unit_test(test_source_remote__missing_ref),
        cmocka_unit_test(test_source_remote__missing_path),
    };
    int failed = cmocka_run_group_tests(parse, NULL, NULL);
    failed += cmocka_run_group_tests(fetch, setup_repos, teardown_repos);
    return failed;
}

#else /* !PL_TEST_WITH_SOURCE */

static void test_source_remote__needs_pl_source(void **state)
{
    (void)state;
    print_message("skipped: tests/unit/source needs pl_source linkage (PL_TEST_WITH_SOURCE)\n");
    skip();
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_source_remote__needs_pl_source)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif
