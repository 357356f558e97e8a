/*
 * ocidoctor config: prints the settings a run would use, and where each
 * came from (flag, environment, config file and line, default). It takes
 * the same options as `run` and makes no request. Nothing secret is
 * printed: a password is only ever read from stdin or a file, and those
 * are named, not read.
 */
#include "cli/cli.h"
#include "cli/settings.h"
#include "util/buf.h"
#include "util/ref.h"

#include <stdlib.h>
#include <string.h>

static void value_text(const struct opt *o, const struct run_args *a, struct buf *out)
{
	const char *slot = (const char *)a + o->offset;
	const struct opt_list *l;
	char *shown;
	size_t i;

	switch (o->type) {
	case OPT_STRING:
		/* a URL's user information may hold a password: never printed */
		shown = url_redact_userinfo(*(char *const *)slot);
		buf_adds(out, shown);
		free(shown);
		break;
	case OPT_BOOL:
		buf_adds(out, *(const int *)slot ? "true" : "false");
		break;
	case OPT_LONG:
		buf_addf(out, "%ld", *(const long *)slot);
		break;
	case OPT_LIST:
		l = (const struct opt_list *)slot;
		for (i = 0; i < l->nr; i++)
			buf_addf(out, "%s%s", i ? "," : "", l->items[i]);
		break;
	}
}

static void print_settings(const struct run_args *a, char **sources)
{
	const struct opt *o;

	for (o = run_opts; o->long_name; o++) {
		size_t i = (size_t)(o - run_opts);
		struct buf v;

		if (o->hidden || !strcmp(o->long_name, "help"))
			continue;
		buf_init(&v, BUF_TEXT_MAX);
		value_text(o, a, &v);
		printf("%-20s %-40s %s\n", o->long_name, v.len ? v.data : "-",
		       sources[i] ? sources[i] : "unset");
		buf_release(&v);
	}
}

static int config_main(int argc, char **argv)
{
	struct run_args a = { 0 };
	char *sources[SOURCE_MAX] = { 0 };
	char *why = NULL;
	int ret = EXIT_OK;

	if (run_args_resolve(&a, sources, argc, argv, &why) < 0)
		ret = cli_usage_error("%s", why);
	else if (a.help)
		opt_usage(stdout, cmd_config.usage, cmd_config.about, run_opts);
	else if (a.password)
		ret = cli_usage_error("--password is refused: other users can read it in the process list; pipe it to --password-stdin");
	else
		print_settings(&a, sources);
	run_args_release(&a, sources);
	free(why);
	return ret;
}

const struct command cmd_config = {
	.name = "config",
	.usage = "ocidoctor config [RUN OPTIONS]",
	.about = "Print the settings a run would use and where each comes from.",
	.opts = run_opts,
	.fn = config_main,
};
