/*
 * ocidoctor config: prints the settings a run would use, and where each
 * came from (flag, environment, config file and line, default). It takes
 * the same options as `run` and makes no request. Nothing secret is
 * printed: a password is only ever read from stdin or a file, and those
 * are named, not read; one typed into an address (user:pass@host) is
 * shown as <redacted>@host, in text and in JSON.
 */
#include "cli/cli.h"
#include "cli/settings.h"
#include "util/buf.h"
#include "util/ref.h"
#include "util/xalloc.h"

#include <jansson.h>
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
		for (i = 0; i < l->nr; i++) {
			shown = url_redact_userinfo(l->items[i]);
			buf_addf(out, "%s%s", i ? "," : "", shown);
			free(shown);
		}
		break;
	}
}

/* A string as JSON, without the user information (a password) a URL may hold; null for NULL. */
static json_t *shown_json(const char *value)
{
	char *shown;
	json_t *j;

	if (!value)
		return json_null();
	shown = url_redact_userinfo(value);
	j = json_string(shown);
	free(shown);
	return j;
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

/* A setting's value as JSON: a string, a boolean, a number, a list, or null. */
static json_t *value_json(const struct opt *o, const struct run_args *a)
{
	const char *slot = (const char *)a + o->offset;
	const struct opt_list *l;
	json_t *list;
	size_t i;

	switch (o->type) {
	case OPT_STRING:
		return shown_json(*(char *const *)slot);
	case OPT_BOOL:
		return json_boolean(*(const int *)slot);
	case OPT_LONG:
		return json_integer(*(const long *)slot);
	case OPT_LIST:
		l = (const struct opt_list *)slot;
		list = json_array();
		for (i = 0; i < l->nr; i++)
			json_array_append_new(list, shown_json(l->items[i]));
		return list;
	}
	return json_null();
}

static int print_settings_json(const struct run_args *a, char **sources)
{
	json_t *all = json_object();
	const struct opt *o;
	int ret;

	for (o = run_opts; o->long_name; o++) {
		size_t i = (size_t)(o - run_opts);

		if (o->hidden || !strcmp(o->long_name, "help"))
			continue;
		json_object_set_new(all, o->long_name,
				    json_pack("{s:o, s:o}", "value", value_json(o, a), "source",
					      sources[i] ? json_string(sources[i]) : json_null()));
	}
	ret = json_dumpf(all, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(all);
	return ret < 0 || fputc('\n', stdout) == EOF ? -1 : 0;
}

/*
 * `config --format FMT` is config's own output format; the run's report
 * format is then shown from the environment, the file or the default.
 * Takes it out of argv (which keeps its other arguments, in order).
 */
static int take_format(int *argc, char **argv, const char **fmt)
{
	int i, j = 0;

	for (i = 0; i < *argc; i++) {
		if (!strcmp(argv[i], "--")) {
			while (i < *argc)
				argv[j++] = argv[i++];
			break;
		}
		if (!strcmp(argv[i], "--format")) {
			if (i + 1 >= *argc)
				return cli_usage_error("--format needs a value (text or json)");
			*fmt = argv[++i];
		} else if (!strncmp(argv[i], "--format=", 9)) {
			*fmt = argv[i] + 9;
		} else {
			argv[j++] = argv[i];
		}
	}
	*argc = j;
	if (strcmp(*fmt, "text") && strcmp(*fmt, "json"))
		return cli_usage_error("invalid --format '%s' for config: text or json", *fmt);
	return EXIT_OK;
}

static int config_main(int argc, char **argv)
{
	struct run_args a = { 0 };
	char *sources[SOURCE_MAX] = { 0 };
	char **args = xcalloc((size_t)argc + 1, sizeof(*args));
	int *selected = xcalloc(check_table_size, sizeof(*selected));
	const char *fmt = "text";
	char *why = NULL;
	int ret;

	if (argc)
		memcpy(args, argv, (size_t)argc * sizeof(*args));
	ret = take_format(&argc, args, &fmt);
	if (ret != EXIT_OK)
		goto done;
	if (run_args_resolve(&a, sources, argc, args, &why) < 0) {
		ret = cli_usage_error("%s", why);
		goto done;
	}
	if (a.help) {
		opt_usage(stdout, cmd_config.usage, cmd_config.about, run_opts);
		goto done;
	}
	if (a.password) {
		/* refused before anything is shown, as run refuses it */
		ret = run_args_validate(&a, sources, selected);
		goto done;
	}
	/* what run would refuse, config refuses too (and still shows the settings) */
	ret = run_args_validate(&a, sources, selected);
	if (!strcmp(fmt, "json")) {
		if (print_settings_json(&a, sources) < 0)
			ret = EXIT_INTERNAL;
	} else {
		print_settings(&a, sources);
	}
	if (fflush(stdout) != 0)
		ret = EXIT_INTERNAL;
done:
	run_args_release(&a, sources);
	free(selected);
	free(args);
	free(why);
	return ret;
}

const struct command cmd_config = {
	.name = "config",
	.usage = "ocidoctor config [--format text|json] [RUN OPTIONS]",
	.about = "Print the settings a run would use, where each comes from, and whether run accepts them (exit 3 if not).",
	.opts = run_opts,
	.fn = config_main,
};
