/*
 * ocidoctor list: the checks this build knows, with their default
 * severity, tags and title.
 */
#include "checks/check.h"
#include "cli/cli.h"
#include "util/buf.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct list_args {
	char *format;
	int help;
};

static const struct opt list_opts[] = {
	{ .long_name = "format", .type = OPT_STRING, .offset = offsetof(struct list_args, format), .arg = "FMT", .help = "text (default) or json",
	  .values = (const char *const[]){ "text", "json", NULL } },
	{ .long_name = "help", .short_name = 'h', .type = OPT_BOOL, .offset = offsetof(struct list_args, help), .help = "show this help" },
	OPT_END
};

static json_t *tags_json(const char *const *tags)
{
	json_t *a = json_array();

	for (; tags && *tags; tags++)
		json_array_append_new(a, json_string(*tags));
	return a;
}

static void list_json(void)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < check_table_size; i++) {
		const struct check *c = check_table[i];

		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o, s:s, s:b}", "id", c->id,
						   "severity", check_status_name(c->severity),
						   "title", c->title, "tags", tags_json(c->tags),
						   "plugin", c->plugin, "default", !c->opt_in));
	}
	json_dumpf(a, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(a);
}

static void list_text(void)
{
	size_t i;

	for (i = 0; i < check_table_size; i++) {
		const struct check *c = check_table[i];
		const char *const *t;
		struct buf tags;

		buf_init(&tags, 1024);
		for (t = c->tags; t && *t; t++)
			buf_addf(&tags, "%s%s", tags.len ? "," : "", *t);
		printf("%-36s %-5s %-40s %s\n", c->id, check_status_name(c->severity), tags.data,
		       c->title);
		buf_release(&tags);
	}
}

static int list_main(int argc, char **argv)
{
	struct list_args a = { 0 };
	struct opt_list positional = { 0 };
	char *why = NULL;
	int ret = EXIT_OK;

	if (opt_parse(list_opts, argc, argv, &a, &positional, NULL, &why) < 0)
		ret = cli_usage_error("%s", why);
	else if (a.help)
		opt_usage(stdout, cmd_list.usage, cmd_list.about, list_opts);
	else if (positional.nr)
		ret = cli_usage_error("unexpected argument '%s'", positional.items[0]);
	else if (!a.format || !strcmp(a.format, "text"))
		list_text();
	else if (!strcmp(a.format, "json"))
		list_json();
	else
		ret = cli_usage_error("unknown --format '%s' (text or json)", a.format);
	opt_release(list_opts, &a);
	opt_list_release(&positional);
	free(why);
	return ret;
}

const struct command cmd_list = {
	.name = "list",
	.usage = "ocidoctor list [--format text|json]",
	.about = "List the checks: id, default severity, tags and title.",
	.opts = list_opts,
	.fn = list_main,
};
