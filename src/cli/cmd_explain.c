/*
 * ocidoctor explain: what a check does and how to fix what it finds.
 */
#include "checks/check.h"
#include "cli/cli.h"

#include <stdlib.h>

struct explain_args {
	int help;
};

static const struct opt explain_opts[] = {
	{ .long_name = "help", .short_name = 'h', .type = OPT_BOOL, .offset = offsetof(struct explain_args, help), .help = "show this help" },
	OPT_END
};

static void print_steps(const struct remediation_step *s)
{
	const char *const *cmd;

	for (; s && s->platform; s++) {
		printf("    [%s] %s\n", s->platform, s->text);
		for (cmd = s->commands; cmd && *cmd; cmd++)
			printf("        $ %s\n", *cmd);
	}
}

static void explain(const struct check *c)
{
	const struct remediation *r;
	const struct check *const *d;

	printf("%s: %s\n\n", c->id, c->title);
	printf("What it checks: %s.\n", c->summary);
	printf("Default severity: %s.\n", check_status_name(c->severity));
	if (c->deps && *c->deps) {
		fputs("Runs after:", stdout);
		for (d = c->deps; *d; d++)
			printf(" %s", (*d)->id);
		fputc('\n', stdout);
	}
	for (r = c->remediations; r && r->cause; r++) {
		printf("\nWhen the cause is '%s': %s\n", r->cause, r->summary);
		print_steps(r->steps);
	}
	printf("\nVerify a fix with: ocidoctor run --check %s\n", c->id);
}

static int explain_main(int argc, char **argv)
{
	struct explain_args a = { 0 };
	struct opt_list positional = { 0 };
	const struct check *c;
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
	else
		explain(c);
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
