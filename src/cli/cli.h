/*
 * cli: the ocidoctor command line. main() calls cli_main; each command
 * is one file (cmd_<name>.c) exporting one struct command, listed in the
 * table in cli.c.
 */
#ifndef OCIDOCTOR_CLI_H
#define OCIDOCTOR_CLI_H

#include "checks/check.h"
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
extern const struct command cmd_serve;

int cli_main(int argc, char **argv);

/*
 * Marks the checks that `checks` (globs) and `tags` select; with neither,
 * all. A pattern or tag that selects nothing, or a combination that
 * selects nothing, is a usage error. Returns EXIT_OK or EXIT_USAGE.
 */
int cli_select_checks(const struct opt_list *checks, const struct opt_list *tags, int *selected);

/* The exit status for a worst status under --fail-on (NULL: warn). */
int cli_exit_status(enum check_status worst, const char *fail_on);

/* Prints "ocidoctor: MESSAGE" on stderr and returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
