/* cli.h - subcommand entry points of engine/cli (argv[0] is the subcommand name). */
#ifndef PL_CLI_H
#define PL_CLI_H

#include <jansson.h>

int pl_cli_render(int argc, char **argv);

/* Objects of the last successful render, left for exit() to reclaim (borrowed by no one). */
extern json_t *pl_cli__kept_objects;

/** Print "plumb: error: <message>" for the current pl_error to stderr. */
void pl_cli_print_error(void);

#endif
