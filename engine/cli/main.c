/*
 * main.c - the `plumb` command: dispatch to subcommands. engine/cli is the only module that
 * prints for users or chooses exit codes (0 ok, 1 failure, 2 usage/configuration).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "plumb/core.h"

static void usage(FILE *f)
{
    fputs("usage: plumb <command> [args]\n"
          "\n"
          "commands:\n"
          "  render PATH [-o FILE] [--reorder none|legacy] [--load-restrictor MODE]\n"
          "                 kustomize build (or plain manifests) on stdout\n"
          "  maas render DIR [--base DIR] [--diagnostics FILE]\n"
          "                 MaaS policies: preview, migrate or lint (plumb maas --help)\n"
          "  maas migrate   tier-to-subscription migration (plumb maas migrate --help)\n"
          "  lint PATH [--since REV] [-o text|json]  MaaS lint rules over a tree (pre-commit)\n"
          "  diff PATH --from REV --to REV [-o text|json|markdown]\n"
          "                 what changes between two revisions, per app (exit 1 on differences)\n"
          "  sync PATH [--kubeconfig F] [--context C] [--prune] [--dry-run] [-o text|json]\n"
          "                 sync an App-of-Apps tree into a cluster (waves, hooks, health, prune)\n"
          "  sandbox [--listen HOST:PORT] [--kubeconfig-out FILE] [--state DIR] [--faults SPEC]\n"
          "                 a Kubernetes API server on loopback (plumb sandbox --help)\n"
          "  version        print the version\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        printf("plumb %s\n", PLUMB_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "render"))
        return pl_cli_render(argc - 1, argv + 1);
    if (!strcmp(argv[1], "maas"))
        return pl_cli_maas(argc - 1, argv + 1);
    if (!strcmp(argv[1], "lint")) return pl_cli_lint(argc - 1, argv + 1);
    /* sync and diff parse and drop a JSON tree per object and per LIST answer on this thread:
     * they allocate through core's small-block pool (engine/core/alloc.c) */
    if (!strcmp(argv[1], "diff") || !strcmp(argv[1], "sync")) {
        pl_alloc_pool_enter();
        int rc = argv[1][0] == 'd' ? pl_cli_diff(argc - 1, argv + 1)
                                   : pl_cli_sync(argc - 1, argv + 1);
        pl_alloc_pool_leave();
        return rc;
    }
    if (!strcmp(argv[1], "sandbox"))
        return pl_cli_sandbox(argc - 1, argv + 1);
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "plumb: error: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
