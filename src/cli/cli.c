/*
 * cli: the command table, global options and dispatch.
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct command *const commands[] = {
	&cmd_run,
	&cmd_list,
	&cmd_explain,
	&cmd_config,
	&cmd_matrix,
	NULL
};

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ocidoctor: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

static void main_usage(FILE *out)
{
	size_t i;

	fputs("usage: ocidoctor COMMAND [OPTIONS]\n"
	      "       ocidoctor --version | --help\n\n"
	      "ocidoctor probes an OCI registry and reports, check by check, what works,\n"
	      "what does not, why, and how to fix it.\n\ncommands:\n", out);
	for (i = 0; commands[i]; i++)
		fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->about);
	fputs("\nRun 'ocidoctor COMMAND --help' for a command's options.\n", out);
}

int cli_main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return main_usage(stderr), EXIT_USAGE;
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		main_usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("ocidoctor %s\n", OCIDOCTOR_VERSION);
		return EXIT_OK;
	}
	for (i = 0; commands[i]; i++)
		if (!strcmp(argv[1], commands[i]->name))
			return commands[i]->fn(argc - 2, argv + 2);
	return cli_usage_error("unknown command '%s' (see 'ocidoctor --help')", argv[1]);
}
