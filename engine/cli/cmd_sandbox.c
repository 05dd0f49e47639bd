/*
 * cmd_sandbox.c - `plumb sandbox`: run the Kubernetes API server on loopback (engine/sandbox).
 *
 *   plumb sandbox [--listen HOST:PORT] [--kubeconfig-out FILE] [--state DIR]
 *                 [--simulate-status[=DELAY]] [--faults SPEC] [--request-log FILE]
 *
 * Prints `plumb sandbox: listening on https://HOST:PORT` (and the kubeconfig path) on stdout,
 * flushed, then serves until SIGINT or SIGTERM and exits 0. Exit 2 on usage errors, 1 when the
 * server cannot start.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plumb/core.h"
#include "sb.h"
#include "sb_transport.h"

static void usage(FILE *f)
{
    fputs("usage: plumb sandbox [--listen HOST:PORT] [--kubeconfig-out FILE] [--state DIR]\n"
          "                     [--simulate-status[=DELAY]] [--faults SPEC] [--request-log FILE]\n"
          "\n"
          "  --listen HOST:PORT       where to serve HTTPS (default 127.0.0.1:0, a free port)\n"
          "  --kubeconfig-out FILE    write a kubeconfig (token and client-certificate contexts)\n"
          "  --state DIR              keep objects and credentials in DIR across restarts\n"
          "  --simulate-status[=D]    report workloads ready, jobs complete after D (default 1s)\n"
          "  --faults SPEC            e.g. 500=0.1,503=0.05,429=0.05,latency=5ms,drop=0.01\n"
          "  --request-log FILE       append a line per request: METHOD PATH[?QUERY] STATUS ...\n",
          f);
}

/* "--name VALUE" or "--name=VALUE": returns the value (borrowed) and advances *i. */
static const char *flag_value(int argc, char **argv, int *i, const char *name, int *bad)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "plumb: error: %s needs a value\n", name);
        *bad = 1;
        return NULL;
    }
    (*i)++;
    return argv[*i];
}

/* HOST:PORT, [V6]:PORT, :PORT or HOST. */
static int parse_listen(const char *s, char **host, int *port)
{
    const char *colon = NULL;
    const char *h = s;
    size_t hl;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL)
            return -1;
        h = s + 1;
        hl = (size_t)(close - h);
        if (close[1] == ':')
            colon = close + 1;
        else if (close[1] != '\0')
            return -1;
    } else {
        colon = strrchr(s, ':');
        hl = colon ? (size_t)(colon - s) : strlen(s);
    }
    *port = 0;
    if (colon != NULL) {
        char *end = NULL;
        long p = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || *end != '\0' || p < 0 || p > 65535)
            return -1;
        *port = (int)p;
    }
    *host = hl == 0 ? pl_strdup("127.0.0.1") : pl_strndup(h, hl);
    return *host ? 0 : -1;
}

int pl_cli_sandbox(int argc, char **argv)
{
    sb_server srv;
    int rc = 0, bad = 0;
    const char *faults = NULL;
    if (sb_server_init(&srv) != 0) {
        pl_cli_print_error();
        return 1;
    }
    for (int i = 1; i < argc && !bad; i++) {
        const char *v;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            sb_server_dispose(&srv);
            return 0;
        } else if ((v = flag_value(argc, argv, &i, "--listen", &bad)) != NULL) {
            pl_free(srv.listen_host);
            srv.listen_host = NULL;
            if (parse_listen(v, &srv.listen_host, &srv.port) != 0) {
                fprintf(stderr, "plumb: error: --listen: expected HOST:PORT, got \"%s\"\n", v);
                bad = 1;
            }
        } else if ((v = flag_value(argc, argv, &i, "--kubeconfig-out", &bad)) != NULL) {
            pl_free(srv.kubeconfig_out);
            srv.kubeconfig_out = pl_strdup(v);
        } else if ((v = flag_value(argc, argv, &i, "--state", &bad)) != NULL) {
            pl_free(srv.state_dir);
            srv.state_dir = pl_strdup(v);
        } else if ((v = flag_value(argc, argv, &i, "--request-log", &bad)) != NULL) {
            pl_free(srv.request_log_path);
            srv.request_log_path = pl_strdup(v);
        } else if ((v = flag_value(argc, argv, &i, "--faults", &bad)) != NULL) {
            faults = v;
        } else if (!strcmp(argv[i], "--simulate-status")) {
            srv.simulate_status = 1;
        } else if (!strncmp(argv[i], "--simulate-status=", 18)) {
            long ms = sb_parse_duration_ms(argv[i] + 18);
            if (ms < 0) {
                fprintf(stderr, "plumb: error: --simulate-status: bad delay \"%s\"\n",
                        argv[i] + 18);
                bad = 1;
            }
            srv.simulate_status = 1;
            srv.simulate_delay_ms = (int)ms;
        } else if (!bad) {
            fprintf(stderr, "plumb: error: unknown argument \"%s\"\n", argv[i]);
            bad = 1;
        }
    }
    if (!bad && faults != NULL && sb_faults_parse(&srv.faults, faults) != 0) {
        pl_cli_print_error();
        bad = 1;
    }
    if (bad) {
        usage(stderr);
        sb_server_dispose(&srv);
        return 2;
    }

    /* Block the stop signals before any thread starts, so that every thread inherits the mask
     * and sigwait below is the only receiver. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    int store_open = 0, bg = 0;
    if ((rc = sb_store_open(&srv)) != 0)
        goto fail;
    store_open = 1;
    if ((rc = sb_api_start_background(&srv)) != 0)
        goto fail;
    bg = 1;
    if ((rc = sb_server_start(&srv)) != 0)
        goto fail;

    const char *h = srv.listen_host;
    int v6 = strchr(h, ':') != NULL;
    printf("plumb sandbox: listening on https://%s%s%s:%d\n", v6 ? "[" : "", h, v6 ? "]" : "",
           srv.port);
    if (srv.kubeconfig_out != NULL)
        printf("plumb sandbox: kubeconfig written to %s\n", srv.kubeconfig_out);
    fflush(stdout);

    int sig = 0;
    while (sigwait(&set, &sig) != 0)
        ;
    sb_server_stop(&srv);
    sb_api_stop_background(&srv);
    sb_store_close(&srv);
    sb_server_dispose(&srv);
    return 0;

fail:
    pl_cli_print_error();
    if (bg)
        sb_api_stop_background(&srv);
    if (store_open)
        sb_store_close(&srv);
    sb_server_dispose(&srv);
    return 1;
}
