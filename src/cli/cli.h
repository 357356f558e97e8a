/*
 * cli: the ocidoctor command line. main() calls cli_main; each command
 * is one file (cmd_<name>.c) exporting one struct command, listed in the
 * table in cli.c.
 */
#ifndef OCIDOCTOR_CLI_H
#define OCIDOCTOR_CLI_H

#include "cli/options.h"

/* Exit statuses, append-only. */
enum exit_status {
	EXIT_OK = 0,        /* worst status pass, info or skip */
	EXIT_WARN = 1,      /* worst status warn */
	EXIT_FAIL = 2,      /* worst status fail */
	EXIT_USAGE = 3,     /* bad usage or configuration */
	EXIT_INTERNAL = 4   /* out of memory, cannot write the report */
};

struct command {
	const char *name;
	const char *usage;
	const char *about;
	const struct opt *opts;
	int (*fn)(int argc, char **argv);
};

extern const struct command cmd_run;
extern const struct command cmd_list;
extern const struct command cmd_explain;
extern const struct command cmd_config;
extern const struct command cmd_matrix;

int cli_main(int argc, char **argv);

/* Prints "ocidoctor: MESSAGE" on stderr and returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
