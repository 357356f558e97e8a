/*
 * ocidoctor explain: what a check does and how to fix what it finds:
 * its page from docs/checks, as compiled into this binary.
 */
#include "checks/check.h"
#include "checks/kb.h"
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

struct explain_args {
	int help;
};

static const struct opt explain_opts[] = {
	{ .long_name = "help", .short_name = 'h', .type = OPT_BOOL, .offset = offsetof(struct explain_args, help), .help = "show this help" },
	OPT_END
};

/* Prints a page without its front matter (the block between "---" lines). */
static void print_page(const char *text)
{
	const char *end;

	if (!strncmp(text, "---\n", 4) && (end = strstr(text + 4, "\n---\n")))
		text = end + 5;
	while (*text == '\n')
		text++;
	fputs(text, stdout);
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
	else if (positional.nr != 1)
		ret = cli_usage_error("explain takes one check id (see 'ocidoctor list')");
	else if (!(c = check_find(positional.items[0])))
		ret = cli_usage_error("unknown check '%s' (see 'ocidoctor list')",
				      positional.items[0]);
	else if (!(page = kb_find(c->id)))
		ret = cli_usage_error("no page for '%s' in this build", c->id);
	else
		print_page(page->text);
	opt_list_release(&positional);
	free(why);
	return ret;
}

const struct command cmd_explain = {
	.name = "explain",
	.usage = "ocidoctor explain CHECK_ID",
	.about = "Explain a check: what it probes, and how to fix what it finds.",
	.opts = explain_opts,
	.fn = explain_main,
};
