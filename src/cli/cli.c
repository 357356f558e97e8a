/*
 * cli: the command table, global options and dispatch.
 */
#include "cli/cli.h"
#include "checks/check.h"
#include "util/suggest.h"

#include <fnmatch.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/ref.h"
#include "util/xalloc.h"

const struct command *const cli_commands[] = {
	&cmd_run,
	&cmd_list,
	&cmd_explain,
	&cmd_config,
	&cmd_matrix,
	&cmd_serve,
	NULL
};

int cli_usage_error(const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	char *shown;

	buf_init(&b, BUF_TEXT_MAX);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	/* whatever a message quotes, a password typed into an address (user:pass@host) is not repeated */
	shown = text_redact_userinfo(b.len ? b.data : "");
	fprintf(stderr, "ocidoctor: %s\n", shown);
	free(shown);
	buf_release(&b);
	return EXIT_USAGE;
}

FILE *cli_open_output(const char *path, char **why)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	struct stat st;
	FILE *f;

	if (fd < 0 && errno == ELOOP) {
		/* a symbolic link: followed only to a device or pipe (/dev/stdout) */
		fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
		if (fd >= 0 && (fstat(fd, &st) < 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
			close(fd);
			*why = xstrfmt("cannot write to '%s': it is a symbolic link (name the file itself)",
				       path);
			return NULL;
		}
	}
	if (fd < 0) {
		*why = xstrfmt("cannot write to '%s': %s", path, strerror(errno));
		return NULL;
	}
	/* a file that existed keeps its owner but no longer its wider mode */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077))
		(void)fchmod(fd, 0600);
	f = fdopen(fd, "w");
	if (!f) {
		*why = xstrfmt("cannot write to '%s': %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

int cli_reader_gone(FILE *out)
{
	struct pollfd p = { .fd = out ? fileno(out) : -1, .events = POLLOUT };

	if (p.fd < 0 || poll(&p, 1, 0) < 0)
		return 0;
	return (p.revents & POLLERR) != 0; /* a pipe with no reader left */
}

int cli_finish_output(FILE *out, const char *path, const char *what, int failed)
{
	int err = failed ? errno : 0;
	int gone;

	if (fflush(out) != 0 || ferror(out)) {
		failed = 1;
		err = err ? err : errno;
	}
	gone = failed && (err == EPIPE || cli_reader_gone(out));
	if (path && fclose(out) != 0 && !failed) {
		failed = 1;
		err = errno;
		gone = err == EPIPE;
	}
	if (!failed)
		return EXIT_OK;
	if (gone)
		return EXIT_PIPE; /* the reader has what it wanted: nothing to say */
	if (path)
		fprintf(stderr, "ocidoctor: cannot write the %s to '%s': %s\n", what, path,
			err ? strerror(err) : "write error");
	else
		fprintf(stderr, "ocidoctor: cannot write the %s to standard output: %s\n", what,
			err ? strerror(err) : "write error");
	return EXIT_INTERNAL;
}

static void main_usage(FILE *out)
{
	size_t i;

	fputs("usage: ocidoctor COMMAND [OPTIONS]\n"
	      "       ocidoctor help COMMAND\n"
	      "       ocidoctor -V | --version | --help\n\n"
	      "ocidoctor probes an OCI registry and reports, check by check, what works,\n"
	      "what does not, why, and how to fix it.\n\ncommands:\n", out);
	for (i = 0; cli_commands[i]; i++)
		fprintf(out, "  %-10s %s\n", cli_commands[i]->name, cli_commands[i]->about);
	fputs("\nRun 'ocidoctor help COMMAND' (or 'ocidoctor COMMAND --help') for a command's options.\n", out);
}

/*
 * How a command's status becomes the process's: when standard output's
 * reader went away (`| head`), the process ends as git and coreutils do,
 * quietly by SIGPIPE (141 in a shell), once the command has cleaned up.
 */
static int exit_with(int ret)
{
	if (ret != EXIT_OK && ret != EXIT_PIPE && ret != EXIT_INTERNAL)
		return ret;
	if (ret != EXIT_PIPE && !(ferror(stdout) && cli_reader_gone(stdout)) &&
	    !(fflush(stdout) != 0 && cli_reader_gone(stdout)))
		return ret;
	fflush(stderr);
	signal(SIGPIPE, SIG_DFL);
	raise(SIGPIPE);
	return EXIT_PIPE; /* SIGPIPE blocked by the parent: the shell's number for it */
}

static int dispatch(int argc, char **argv);

static int unknown_command(const char *name)
{
	struct suggest s;
	size_t i;

	suggest_init(&s, name, strlen(name));
	for (i = 0; cli_commands[i]; i++)
		suggest_offer(&s, cli_commands[i]->name);
	if (suggest_best(&s))
		return cli_usage_error("unknown command '%s' (did you mean '%s'? see 'ocidoctor --help')",
				       name, suggest_best(&s));
	return cli_usage_error("unknown command '%s' (see 'ocidoctor --help')", name);
}

int cli_main(int argc, char **argv)
{
	/*
	 * A closed pipe or a full disk is a write error that the command sees
	 * (and reports, or for a closed pipe ends quietly in exit_with), not
	 * a death by SIGPIPE in the middle of a write, before the cleanup.
	 */
	signal(SIGPIPE, SIG_IGN);
	return exit_with(dispatch(argc, argv));
}

static int dispatch(int argc, char **argv)
{
	size_t i;

	/* parsed credential files and token answers are wiped when jansson frees them */
	secret_json_allocator();
	if (argc < 2)
		return main_usage(stderr), EXIT_USAGE;
	if (!strcmp(argv[1], "help") && argc > 2) {
		/* ocidoctor help COMMAND = ocidoctor COMMAND --help */
		char *help_argv[] = { (char *)"--help", NULL };

		for (i = 0; cli_commands[i]; i++)
			if (!strcmp(argv[2], cli_commands[i]->name))
				return cli_commands[i]->fn(1, help_argv);
		return unknown_command(argv[2]);
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		main_usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V") || !strcmp(argv[1], "version")) {
		printf("ocidoctor %s\n", OCIDOCTOR_VERSION);
		return EXIT_OK;
	}
	for (i = 0; cli_commands[i]; i++)
		if (!strcmp(argv[1], cli_commands[i]->name))
			return cli_commands[i]->fn(argc - 2, argv + 2);
	return unknown_command(argv[1]);
}

static int has_tag(const struct check *c, const struct opt_list *tags)
{
	const char *const *t;
	size_t i;

	for (i = 0; i < tags->nr; i++)
		for (t = c->tags; t && *t; t++)
			if (!strcmp(*t, tags->items[i]))
				return 1;
	return 0;
}

/* Whether a tag is carried by opt-in checks only (so naming it asks for them). */
static int tag_of_opt_in_only(const char *tag)
{
	const char *const *t;
	size_t j;

	for (j = 0; j < check_table_size; j++)
		for (t = check_table[j]->tags; t && *t; t++)
			if (!strcmp(*t, tag) && !check_table[j]->opt_in)
				return 0;
	return 1;
}

/* Whether the tags select c: one of its tags, and for an opt-in check one only opt-in checks carry. */
static int tags_select(const struct check *c, const struct opt_list *tags)
{
	const char *const *t;
	size_t i;

	for (i = 0; i < tags->nr; i++)
		for (t = c->tags; t && *t; t++)
			if (!strcmp(*t, tags->items[i]) &&
			    (!c->opt_in || tag_of_opt_in_only(tags->items[i])))
				return 1;
	return 0;
}

/*
 * Marks the checks that --check (globs) and --tags select; with neither,
 * every check that is not opt-in. A pattern or tag that selects nothing
 * is an error.
 */
int cli_select_checks(const struct opt_list *checks, const struct opt_list *tags, int *selected)
{
	size_t i, j;
	int any = 0;

	for (i = 0; i < checks->nr; i++) {
		int matched = 0;

		const struct check *named = check_find(checks->items[i]);

		for (j = 0; j < check_table_size; j++)
			if (fnmatch(checks->items[i], check_table[j]->id, 0) == 0 ||
			    check_table[j] == named)
				selected[j] = matched = 1;
		if (!matched && check_suggest(checks->items[i]))
			return cli_usage_error("no check matches '%s' (did you mean %s? see 'ocidoctor list')",
					       checks->items[i], check_suggest(checks->items[i]));
		if (!matched)
			return cli_usage_error("no check matches '%s' (see 'ocidoctor list')",
					       checks->items[i]);
	}
	for (i = 0; i < tags->nr; i++) {
		int matched = 0;

		for (j = 0; j < check_table_size; j++) {
			struct opt_list one = { .items = &tags->items[i], .nr = 1 };

			if (has_tag(check_table[j], &one))
				matched = 1;
		}
		if (!matched)
			return cli_usage_error("no check has the tag '%s' (see 'ocidoctor list')",
					       tags->items[i]);
	}
	for (j = 0; j < check_table_size; j++) {
		if (!checks->nr && !tags->nr)
			selected[j] = !check_table[j]->opt_in;
		else if (!checks->nr && tags_select(check_table[j], tags))
			selected[j] = 1;
		else if (checks->nr && tags->nr && !has_tag(check_table[j], tags))
			selected[j] = 0;
		any |= selected[j];
	}
	if (!any)
		return cli_usage_error("--check and --tags together select no check");
	return EXIT_OK;
}

int cli_terminal_width(int fd)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");
	int w = 80;

	if (!isatty(fd))
		return 0;
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
		w = ws.ws_col;
	else if (env && atoi(env) > 0)
		w = atoi(env);
	return w < 40 ? 40 : w;
}

int cli_exit_status(enum check_status worst, const char *fail_on)
{
	if (fail_on && !strcmp(fail_on, "never"))
		return EXIT_OK;
	if (fail_on && !strcmp(fail_on, "fail") && worst != STATUS_FAIL)
		return EXIT_OK;
	if (worst == STATUS_FAIL)
		return EXIT_FAIL;
	if (worst == STATUS_WARN)
		return EXIT_WARN;
	return EXIT_OK;
}
