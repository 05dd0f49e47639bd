/* cli.h - subcommand entry points of engine/cli (argv[0] is the subcommand name). */
#ifndef PL_CLI_H
#define PL_CLI_H

int pl_cli_render(int argc, char **argv);

/** Print "plumb: error: <message>" for the current pl_error to stderr. */
void pl_cli_print_error(void);

#endif
