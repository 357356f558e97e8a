/*
 * ocidoctor explain: what a check does and how to fix what it finds:
 * its page from docs/checks, as compiled into this binary, rendered for a
 * terminal (mdterm.c) or, with --format markdown, as written. On a
 * terminal the page goes through $PAGER (default less).
 */
#include "checks/check.h"
#include "checks/kb.h"
#include "cli/cli.h"
#include "cli/mdterm.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct explain_args {
	char *format;
	int no_pager;
	int help;
};

static const struct opt explain_opts[] = {
	{ .long_name = "format", .type = OPT_STRING, .offset = offsetof(struct explain_args, format), .arg = "FMT", .help = "text (default: rendered for a terminal) or markdown (the page as written)",
	  .values = (const char *const[]){ "text", "markdown", NULL } },
	{ .long_name = "no-pager", .type = OPT_BOOL, .offset = offsetof(struct explain_args, no_pager), .help = "do not page the output on a terminal (also: PAGER=cat)" },
	{ .long_name = "help", .short_name = 'h', .type = OPT_BOOL, .offset = offsetof(struct explain_args, help), .help = "show this help" },
	OPT_END
};

/* The terminal's width, else $COLUMNS, else 80; kept between 40 and 100. */
static int text_width(void)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");
	int w = 80;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
		w = ws.ws_col;
	else if (env && atoi(env) > 0)
		w = atoi(env);
	if (w > 100)
		w = 100;
	return w < 40 ? 40 : w;
}

/* Writes the page to stdout, through the pager when stdout is a terminal. */
static int show(const char *text, size_t len, int page)
{
	const char *pager = getenv("PAGER");
	void (*old)(int);
	FILE *p;
	int ret;

	if (!page || !isatty(STDOUT_FILENO) || (pager && (!*pager || !strcmp(pager, "cat"))))
		return fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : -1;
	if (!getenv("LESS"))
		setenv("LESS", "FRX", 0); /* quit when it fits, keep it on screen */
	fflush(stdout);
	p = popen(pager ? pager : "less", "w");
	if (!p)
		return fwrite(text, 1, len, stdout) == len ? 0 : -1;
	old = signal(SIGPIPE, SIG_IGN); /* the reader may quit before the end */
	fwrite(text, 1, len, p);
	ret = pclose(p);
	signal(SIGPIPE, old);
	return ret == -1 ? -1 : 0;
}

static int print_page(const struct explain_args *a, const char *text)
{
	struct buf out;
	int ret;

	if (a->format && !strcmp(a->format, "markdown")) {
		const char *body = mdterm_body(text);

		return show(body, strlen(body), !a->no_pager);
	}
	buf_init(&out, BUF_TEXT_MAX);
	mdterm_render(&out, text, text_width());
	ret = show(out.data, out.len, !a->no_pager);
	buf_release(&out);
	return ret;
}

static int explain_main(int argc, char **argv)
{
	struct explain_args a = { 0 };
	struct opt_list positional = { 0 };
	const struct check *c;
	const struct kb_page *page;
	char *why = NULL;
	int ret = EXIT_OK;

	if (opt_parse(explain_opts, argc, argv, &a, &positional, NULL, &why) < 0)
		ret = cli_usage_error("%s", why);
	else if (a.help)
		opt_usage(stdout, cmd_explain.usage, cmd_explain.about, explain_opts);
	else if (a.format && strcmp(a.format, "text") && strcmp(a.format, "markdown"))
		ret = cli_usage_error("invalid --format '%s' for explain: text or markdown", a.format);
	else if (positional.nr != 1)
		ret = cli_usage_error("explain takes one check id (see 'ocidoctor list')");
	else if (!(c = check_find(positional.items[0])) && check_suggest(positional.items[0]))
		ret = cli_usage_error("unknown check '%s' (did you mean %s? see 'ocidoctor list')",
				      positional.items[0], check_suggest(positional.items[0]));
	else if (!c)
		ret = cli_usage_error("unknown check '%s' (see 'ocidoctor list')",
				      positional.items[0]);
	else if (!(page = kb_find(c->id)))
		ret = cli_usage_error("no page for '%s' in this build", c->id);
	else if (print_page(&a, page->text) < 0) {
		if (cli_reader_gone(stdout)) {
			ret = EXIT_PIPE; /* `explain ID | head`: the reader has what it wanted */
		} else {
			fprintf(stderr, "ocidoctor: cannot write the page of %s\n", c->id);
			ret = EXIT_INTERNAL;
		}
	}
	opt_list_release(&positional);
	free(a.format);
	free(why);
	return ret;
}

const struct command cmd_explain = {
	.name = "explain",
	.usage = "ocidoctor explain [--format text|markdown] [--no-pager] CHECK_ID",
	.about = "Explain a check: what it probes, and how to fix what it finds.",
	.opts = explain_opts,
	.fn = explain_main,
};
