/*
 * cli: the ocidoctor command line. main() calls cli_main; each command
 * is one file (cmd_<name>.c) exporting one struct command, listed in the
 * table in cli.c.
 */
#ifndef OCIDOCTOR_CLI_H
#define OCIDOCTOR_CLI_H

#include "checks/check.h"
#include "cli/options.h"

#include <stdio.h>

/* Exit statuses, append-only. */
enum exit_status {
	EXIT_OK = 0,        /* worst status pass, info or skip */
	EXIT_WARN = 1,      /* worst status warn */
	EXIT_FAIL = 2,      /* worst status fail */
	EXIT_USAGE = 3,     /* bad usage or configuration */
	EXIT_INTERNAL = 4,  /* out of memory, cannot write the report */
	/*
	 * Standard output's reader went away (`ocidoctor matrix ... | head`).
	 * Never the process's status: cli_main then ends it quietly by
	 * SIGPIPE, as git and coreutils end (a shell shows 128 + 13 = 141).
	 */
	EXIT_PIPE = 141
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

/* Every command, in --help order, NULL-terminated (also for tools/docgen.c). */
extern const struct command *const cli_commands[];

int cli_main(int argc, char **argv);

/*
 * Marks the checks that `checks` (globs) and `tags` select; with neither,
 * all. A pattern or tag that selects nothing, or a combination that
 * selects nothing, is a usage error. Returns EXIT_OK or EXIT_USAGE.
 */
int cli_select_checks(const struct opt_list *checks, const struct opt_list *tags, int *selected);

/*
 * The width of the terminal on fd: its window size, else $COLUMNS, else
 * 80, at least 40. 0 when fd is no terminal (a pipe or a file): nothing
 * is wrapped then.
 */
int cli_terminal_width(int fd);

/* The exit status for a worst status under --fail-on (NULL: warn). */
int cli_exit_status(enum check_status worst, const char *fail_on);

/*
 * Opens the file named with -o for writing, before any request is sent:
 * created with mode 0600 (an existing file is truncated and set to 0600),
 * never through a symbolic link (except one to something that is not a
 * regular file, such as /dev/stdout), close-on-exec. Returns NULL with a
 * newly allocated one-line *why.
 */
FILE *cli_open_output(const char *path, char **why);

/*
 * Ends a report or table written to out (a file from cli_open_output when
 * path is set, else stdout): flushes, closes, and when anything failed
 * (failed set, or the flush or close failing) prints what could not be
 * written and why on stderr. Returns EXIT_OK or EXIT_INTERNAL, or
 * EXIT_PIPE, with nothing said, when the reader of a pipe went away.
 */
int cli_finish_output(FILE *out, const char *path, const char *what, int failed);

/* 1 when out is a pipe (or socket) whose reader has gone: writes fail with EPIPE. */
int cli_reader_gone(FILE *out);

/* Prints "ocidoctor: MESSAGE" on stderr and returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
