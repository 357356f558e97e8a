/*
 * settings: see settings.h.
 */
#include "cli/settings.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "cli/optgroups.h"
#include "report/matrix.h"
#include "report/report.h"
#include "util/buf.h"
#include "util/ref.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define ARG(field) offsetof(struct run_args, field)

const char *const opt_platform_values[] = { "bare-metal", "docker", "kubernetes", NULL };
const char *const opt_fail_on_values[] = { "warn", "fail", "never", NULL };

static const char *report_format_at(size_t i)
{
	size_t n;

	for (n = 0; report_writers[n]; n++)
		if (n == i)
			return report_writers[n]->name;
	return NULL;
}

static const char *matrix_format_at(size_t i)
{
	size_t n;

	for (n = 0; matrix_writers[n]; n++)
		if (n == i)
			return matrix_writers[n]->name;
	return NULL;
}

const struct opt run_opts[] = {
	{ .long_name = "image", .type = OPT_STRING, .offset = ARG(image), .arg = "REF",
	  .help = "the test image as REGISTRY/REPOSITORY[:TAG|@DIGEST] (also the first argument); sets --registry, --repository and --tag" },
	OPT_GROUP_TARGET(ARG, 0, ""),
	OPT_GROUP_SELECTION(ARG),
	{ .long_name = "format", .type = OPT_STRING, .offset = ARG(format), .arg = "FMT",
	  .help = "report format", .value_at = report_format_at, .def = "text",
	  .key = "format", .env = "OCIDOCTOR_FORMAT" },
	OPT_GROUP_OUTPUT(ARG, "report"),
	{ .long_name = "platform", .type = OPT_STRING, .offset = ARG(platform), .arg = "NAME",
	  .help = "whose fix the report gives", .values = opt_platform_values, .def = "bare-metal",
	  .key = "platform", .env = "OCIDOCTOR_PLATFORM" },
	OPT_GROUP_CREDENTIALS(ARG),
	OPT_GROUP_TLS(ARG),
	OPT_GROUP_TIMEOUT(ARG, "the whole run", TIMEOUT_MAX_SECONDS),
	OPT_GROUP_WRITES(ARG),
	{ .long_name = "no-color", .type = OPT_BOOL, .offset = ARG(no_color),
	  .help = "no colours in the text report (also: NO_COLOR)" },
	OPT_GROUP_DIAGNOSTICS(ARG),
	OPT_END
};

const struct opt matrix_opts[] = {
	{ .long_name = "targets", .type = OPT_STRING, .offset = ARG(targets), .arg = "FILE",
	  .help = "one target a line: 'registry-url [repository[:tag]]', or a YAML list; '-' is standard input" },
	{ .long_name = "parallel", .type = OPT_LONG, .offset = ARG(parallel), .arg = "N",
	  .help = "targets probed at the same time", .def = "16",
	  .max = MATRIX_MAX_PARALLEL },
	/* the registries come from --targets; registryUrl of a shared config file is ignored */
	OPT_GROUP_TARGET(ARG, 1, " of a target that names none"),
	OPT_GROUP_SELECTION(ARG),
	{ .long_name = "format", .type = OPT_STRING, .offset = ARG(format), .arg = "FMT",
	  .help = "table format (json: one line per target; junit: a testsuite per target; markdown: a CI summary table)",
	  .value_at = matrix_format_at, .def = "text", .key = "format", .env = "OCIDOCTOR_FORMAT" },
	OPT_GROUP_OUTPUT(ARG, "table"),
	{ .long_name = "platform", .type = OPT_STRING, .offset = ARG(platform), .arg = "NAME",
	  .help = "taken for a config file shared with run; the table gives no fixes",
	  .values = opt_platform_values, .def = "bare-metal", .hidden = 1,
	  .key = "platform", .env = "OCIDOCTOR_PLATFORM" },
	OPT_GROUP_CREDENTIALS(ARG),
	{ .long_name = "credentials-for", .type = OPT_STRING, .offset = ARG(credentials_for),
	  .arg = "HOST[:PORT]",
	  .help = "the registry that --username or OCI_USERNAME/OCI_PASSWORD log in to (needed when the targets are on several registries); other targets get only their own credential from docker's config.json or auth.json",
	  .env = "OCIDOCTOR_CREDENTIALS_FOR" },
	OPT_GROUP_TLS(ARG),
	OPT_GROUP_TIMEOUT(ARG, "each target", TIMEOUT_MAX_SECONDS),
	OPT_GROUP_WRITES(ARG),
	{ .long_name = "no-progress", .type = OPT_BOOL, .offset = ARG(no_progress),
	  .help = "no progress bar (by default it is drawn on stderr when stdout and stderr are terminals)" },
	{ .long_name = "progress", .type = OPT_BOOL, .offset = ARG(progress),
	  .help = "draw the progress bar on stderr even when stdout is not a terminal" },
	OPT_GROUP_DIAGNOSTICS(ARG),
	OPT_END
};

size_t settings_opts_count(const struct opt *opts)
{
	size_t n = 0;

	while (opts[n].long_name)
		n++;
	return n;
}

size_t run_opts_count(void)
{
	return settings_opts_count(run_opts);
}

static int has_opt(const struct opt *opts, const char *name)
{
	for (; opts->long_name; opts++)
		if (!strcmp(opts->long_name, name))
			return 1;
	return 0;
}

/* Sets the table's default of every setting nothing else set. */
static void set_defaults(struct run_args *a, char **sources)
{
	opt_apply_defaults(a->opts, a, sources);
}

/* How strong a source is: a flag, the environment, the file, a default. */
static int source_rank(const char *source)
{
	if (!source || !strcmp(source, "default"))
		return 0;
	if (!strncmp(source, "flag ", 5))
		return 3;
	if (!strncmp(source, "environment ", 12))
		return 2;
	return 1;
}

/*
 * --no-writes is --writes none: the stronger source of the two wins, and
 * the same source giving both with different modes is refused. The
 * default is probe; verify is only ever asked for.
 */
static int resolve_writes(struct run_args *a, char **sources, char **why)
{
	size_t iw = opt_index(a->opts, "writes"), in = opt_index(a->opts, "no-writes");
	int rw = source_rank(sources[iw]), rn = a->no_writes ? source_rank(sources[in]) : 0;

	if (a->writes && strcmp(a->writes, "none") && strcmp(a->writes, "probe") &&
	    strcmp(a->writes, "verify")) {
		char *values = opt_values_text(&a->opts[iw]);
		char *n = settings_name(a->opts, sources, "writes"); /* named by its source */

		*why = n[0] == '-' ? xstrfmt("invalid %s '%s': not %s", n, a->writes, values)
				   : xstrfmt("%s: invalid value '%s': not %s", n, a->writes, values);
		free(n);
		free(values);
		return -1;
	}
	if (rn && rn == rw && strcmp(a->writes, "none")) {
		*why = xstrfmt("--no-writes and --writes %s contradict each other; give one", a->writes);
		return -1;
	}
	if (rn > rw) {
		free(a->writes);
		a->writes = xstrdup("none");
		free(sources[iw]);
		sources[iw] = xstrdup(sources[in]);
	}
	/* the table's default (probe) is set by now, as a source weaker than any */
	a->no_writes = !strcmp(a->writes, "none");
	return 0;
}

/* Sets one of the settings an image reference names, marked as coming from it. */
static void set_from_image(struct run_args *a, char **sources, const char *name,
			   const char *value, const char *source)
{
	size_t i = opt_index(a->opts, name);
	char *ignored = NULL;

	opt_store(&a->opts[i], a, value, &ignored);
	free(ignored);
	free(sources[i]);
	sources[i] = xstrdup(source);
}

/*
 * *why = "BEFORE'TEXT'AFTER", text as it may be shown: an address or image
 * reference a user typed may hold a password (user:pass@host). Returns -1.
 */
static int fail_showing(char **why, const char *before, const char *text, const char *after)
{
	char *shown = url_redact_userinfo(text);

	*why = xstrfmt("%s'%s'%s", before, shown, after);
	free(shown);
	return -1;
}

/* Splits --image (or the positional argument) into registry, repository and tag. */
static int apply_image(struct run_args *a, char **sources, struct opt_list *positional,
		       char **why)
{
	static const char *const named[] = { "registry", "repository", "tag" };
	size_t img, i;
	const char *source = "flag --image", *reason = NULL;
	struct image_ref ref;
	char *after;
	int ret;

	if (!has_opt(a->opts, "image")) {
		if (positional->nr)
			return fail_showing(why, "unexpected argument ", positional->items[0], "");
		return 0;
	}
	img = opt_index(a->opts, "image");
	if (positional->nr > 1)
		return fail_showing(why, "unexpected argument ", positional->items[1],
				    " (one image reference at most)");
	if (positional->nr && a->image)
		return fail_showing(why, "the image is given twice: as --image and as the argument ",
				    positional->items[0], "");
	if (positional->nr) {
		a->image = xstrdup(positional->items[0]);
		sources[img] = xstrdup("argument IMAGE");
		source = "argument IMAGE";
	}
	if (!a->image)
		return 0;
	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (sources[opt_index(a->opts, named[i])]) {
			after = xstrfmt(" already names the registry, repository and tag: drop --%s",
					named[i]);
			ret = fail_showing(why, "the image reference ", a->image, after);
			free(after);
			return ret;
		}
	if (image_ref_parse(&ref, a->image, &reason) < 0) {
		after = xstrfmt(": %s", reason);
		ret = fail_showing(why, "invalid image reference ", a->image, after);
		free(after);
		return ret;
	}
	set_from_image(a, sources, "registry", ref.registry, source);
	a->image_registry_only = ref.registry_only;
	if (!ref.registry_only) {
		set_from_image(a, sources, "repository", ref.repository, source);
		set_from_image(a, sources, "tag", ref.reference, source);
	}
	image_ref_release(&ref);
	return 0;
}

/* An image that names a registry alone is probed with the test image: said on stderr. */
static void note_registry_only(const struct run_args *a)
{
	char *shown, *image;

	if (!a->image_registry_only || !a->repository || !a->tag)
		return;
	shown = url_redact_userinfo(a->image);
	image = image_ref_format(a->repository, a->tag);
	fprintf(stderr,
		"ocidoctor: '%s' names a registry, not an image: testing it with the test image %s "
		"(name one as REGISTRY/REPOSITORY:TAG, or with --repository and --tag)\n",
		shown, image);
	free(image);
	free(shown);
}

int settings_resolve(const struct opt *opts, struct run_args *a, char **sources, int argc,
		     char **argv, char **why)
{
	struct opt_list positional = { 0 };
	int ret = -1;

	a->opts = opts;
	if (opt_parse(opts, argc, argv, a, &positional, sources, why) < 0)
		goto done;
	if (a->help) {
		ret = 0;
		goto done;
	}
	if (apply_image(a, sources, &positional, why) < 0)
		goto done;
	if (opt_apply_env(opts, a, sources, why) < 0)
		goto done;
	if (a->config && config_apply_file(a->config, opts, a, sources, why) < 0)
		goto done;
	set_defaults(a, sources);
	if (resolve_writes(a, sources, why) < 0)
		goto done;
	ret = 0;
done:
	opt_list_release(&positional);
	return ret;
}

int run_args_resolve(struct run_args *a, char **sources, int argc, char **argv, char **why)
{
	return settings_resolve(run_opts, a, sources, argc, argv, why);
}

void run_args_release(struct run_args *a, char **sources)
{
	const struct opt *opts = a->opts ? a->opts : run_opts;
	size_t i, n = settings_opts_count(opts);

	opt_release(opts, a);
	for (i = 0; sources && i < n; i++) {
		free(sources[i]);
		sources[i] = NULL;
	}
}

char *run_setting_name(char **sources, const char *long_name)
{
	return settings_name(run_opts, sources, long_name);
}

char *settings_name(const struct opt *opts, char **sources, const char *long_name)
{
	const char *src = sources[opt_index(opts, long_name)];
	const char *open, *close;

	if (!src || !strcmp(src, "default"))
		return xstrfmt("--%s", long_name);
	if (!strncmp(src, "flag ", 5))
		return xstrdup(src + 5);
	if (!strncmp(src, "environment ", 12))
		return xstrdup(src + 12);
	if (!strncmp(src, "argument ", 9))
		return xstrfmt("the %s argument", src + 9);
	/* the config file: "FILE:LINE (section.key)" */
	open = strrchr(src, '(');
	close = strrchr(src, ')');
	if (open && close && close > open && open > src && open[-1] == ' ')
		return xstrfmt("%.*s: %.*s", (int)(open - 1 - src), src, (int)(close - open - 1),
			       open + 1);
	return xstrdup(src);
}

/*
 * "invalid --NAME 'VALUE': WHY", or "SOURCE: invalid value 'VALUE': WHY",
 * the value without the user information an address may hold.
 */
static int bad_value(const struct run_args *a, char **sources, const char *name, const char *value, const char *why)
{
	char *n = settings_name(a->opts, sources, name);
	char *shown = url_redact_userinfo(value); /* never repeat a password */
	int ret;

	if (n[0] == '-')
		ret = cli_usage_error("invalid %s '%s': %s", n, shown, why);
	else
		ret = cli_usage_error("%s: invalid value '%s': %s", n, shown, why);
	free(shown);
	free(n);
	return ret;
}

/* Whether the value shows as typed (it holds no user information to hide). */
static int shows_as_is(const char *value)
{
	char *shown = url_redact_userinfo(value);
	int same = !strcmp(shown, value);

	free(shown);
	return same;
}

static int unreadable_file(const struct run_args *a, char **sources, const char *name, const char *path, int err)
{
	char *n = settings_name(a->opts, sources, name);
	int ret;

	if (n[0] == '-')
		ret = cli_usage_error("cannot read %s '%s': %s", n, path, strerror(err));
	else
		ret = cli_usage_error("%s: cannot read '%s': %s", n, path, strerror(err));
	free(n);
	return ret;
}

/* With --plain-http, a registry without a scheme means http://. */
static int apply_plain_http(struct run_args *a, char **sources)
{
	char *plain;

	if (!a->plain_http)
		return EXIT_OK;
	if (!strncasecmp(a->registry, "https://", 8)) {
		char *n = settings_name(a->opts, sources, "registry");
		char *shown = url_redact_userinfo(a->registry);
		int ret = cli_usage_error("--plain-http and the https:// address of %s ('%s') contradict each other; drop one",
					  n, shown);

		free(shown);
		free(n);
		return ret;
	}
	if (!strncasecmp(a->registry, "http://", 7))
		return EXIT_OK;
	plain = xstrfmt("http://%s", a->registry);
	free(a->registry);
	a->registry = plain;
	return EXIT_OK;
}

/* Names, and the registry as the address that will be probed. */
static int validate_names(struct run_args *a, char **sources, int with_registry)
{
	struct registry_url u;
	const char *why = NULL;

	if (!with_registry)
		goto names;
	if (apply_plain_http(a, sources) != EXIT_OK)
		return EXIT_USAGE;
	if (registry_url_parse(&u, a->registry, &why) < 0)
		return bad_value(a, sources, "registry", a->registry, why);
	free(a->registry);
	a->registry = xstrdup(u.base);
	registry_url_release(&u);
names:
	if (repository_name_valid(a->repository, &why) < 0) {
		const char *colon = strrchr(a->repository, ':'), *at = strchr(a->repository, '@');

		if ((at || (colon && !strchr(colon, '/'))) && shows_as_is(a->repository)) {
			char *hint = xstrfmt("the tag or digest goes in --tag (--repository %.*s --tag %s)",
					     (int)((at ? at : colon) - a->repository), a->repository,
					     (at ? at : colon) + 1);
			int ret = bad_value(a, sources, "repository", a->repository, hint);

			free(hint);
			return ret;
		}
		return bad_value(a, sources, "repository", a->repository, why);
	}
	if (reference_valid(a->tag, &why) < 0)
		return bad_value(a, sources, "tag", a->tag, why);
	if (a->scratch && repository_name_valid(a->scratch, &why) < 0)
		return bad_value(a, sources, "scratch-repository", a->scratch, why);
	return EXIT_OK;
}

static int validate_files(struct run_args *a, char **sources)
{
	static const char *const tls[] = { "ca-file", "cert", "key" };
	size_t i;
	int err;

	if (!!a->cert != !!a->key)
		return cli_usage_error("--cert and --key go together");
	for (i = 0; i < sizeof(tls) / sizeof(tls[0]); i++) {
		const char *path = *(char **)((char *)a + a->opts[opt_index(a->opts, tls[i])].offset);

		if (path && (err = path_readable(path)) != 0)
			return unreadable_file(a, sources, tls[i], path, err);
	}
	if (a->password_file && (err = path_readable(a->password_file)) != 0)
		return unreadable_file(a, sources, "password-file", a->password_file, err);
	return EXIT_OK;
}

/* A --check pattern or --tags tag from the environment or the file that selects nothing, named by its source. */
static int validate_selection_source(const struct run_args *a, char **sources, const char *name, const struct opt_list *l,
				     int tags)
{
	const char *src = sources[opt_index(a->opts, name)];
	size_t i, j;

	if (!src || !strncmp(src, "flag ", 5))
		return EXIT_OK; /* cli_select_checks says it for flags */
	for (i = 0; i < l->nr; i++) {
		int matched = 0;

		for (j = 0; j < check_table_size && !matched; j++) {
			const char *const *t;

			if (!tags)
				matched = fnmatch(l->items[i], check_table[j]->id, 0) == 0;
			for (t = check_table[j]->tags; tags && t && *t; t++)
				matched |= !strcmp(*t, l->items[i]);
		}
		if (!matched)
			return bad_value(a, sources, name, l->items[i],
					 tags ? "no check has this tag (see 'ocidoctor list')"
					      : "no check matches it (see 'ocidoctor list')");
	}
	return EXIT_OK;
}

/* A value outside the option's list, named by its source ("not a format (a, b or c)"). */
static int check_value(const struct run_args *a, char **sources, const char *name,
		       const char *what)
{
	const struct opt *o = &a->opts[opt_index(a->opts, name)];
	const char *value = *(char *const *)((const char *)a + o->offset), *v;
	char *list, *why;
	size_t i;
	int ret;

	for (i = 0; (v = opt_value_at(o, i)); i++)
		if (!strcmp(v, value))
			return EXIT_OK;
	if (!strcmp(name, "platform") && !strcmp(value, "docker-compose"))
		return EXIT_OK; /* an alias of docker */
	list = opt_values_text(o);
	why = what ? xstrfmt("not %s (%s)", what, list) : xstrfmt("not %s", list);
	ret = bad_value(a, sources, name, value, why);
	free(why);
	free(list);
	return ret;
}

int settings_validate(struct run_args *a, char **sources, int *selected)
{
	int fleet = has_opt(a->opts, "targets");

	if (a->password)
		return cli_usage_error("--password is refused: other users can read it in the process list; pipe it to --password-stdin");
	if (fleet) {
		const char *src = sources[opt_index(a->opts, "registry")];

		if (src && !strncmp(src, "flag ", 5))
			return cli_usage_error("matrix takes its registries from --targets, not from --registry");
		if (!a->targets)
			return cli_usage_error("matrix needs --targets FILE");
		if (a->progress && a->no_progress)
			return cli_usage_error("--progress and --no-progress contradict each other");
		if (a->password_stdin && (!strcmp(a->targets, "-") || !strcmp(a->targets, "/dev/stdin")))
			return cli_usage_error("--password-stdin and --targets %s both read standard input; give the password with --password-file",
					       a->targets);
	} else if (!a->registry) {
		return cli_usage_error("no registry given: use --registry URL or an image reference REGISTRY/REPOSITORY[:TAG] (or OCI__RegistryUrl, or oci.registryUrl in a --config file)");
	}
	if (validate_names(a, sources, !fleet) != EXIT_OK)
		return EXIT_USAGE;
	if (check_value(a, sources, "format", "a format") != EXIT_OK ||
	    check_value(a, sources, "fail-on", NULL) != EXIT_OK ||
	    check_value(a, sources, "platform", NULL) != EXIT_OK)
		return EXIT_USAGE;
	if (a->password_stdin && !a->username)
		return cli_usage_error("--password-stdin needs --username");
	if (a->password_stdin && a->password_file)
		return cli_usage_error("--password-stdin and --password-file go alone, not together");
	if (a->password_file && !a->username)
		return cli_usage_error("--password-file needs --username");
	if (validate_files(a, sources) != EXIT_OK)
		return EXIT_USAGE;
	if (validate_selection_source(a, sources, "check", &a->checks, 0) != EXIT_OK ||
	    validate_selection_source(a, sources, "tags", &a->tags, 1) != EXIT_OK)
		return EXIT_USAGE;
	return cli_select_checks(&a->checks, &a->tags, selected);
}

int run_args_validate(struct run_args *a, char **sources, int *selected)
{
	return settings_validate(a, sources, selected);
}

int settings_prepare(const struct command *cmd, struct run_args *a, char **sources, int argc,
		     char **argv, int *selected, int *status)
{
	char *why = NULL;

	if (settings_resolve(cmd->opts, a, sources, argc, argv, &why) < 0) {
		*status = cli_usage_error("%s", why);
		goto stop;
	}
	if (a->help) {
		opt_usage(stdout, cmd->usage, cmd->about, cmd->opts);
		*status = EXIT_OK;
		goto stop;
	}
	*status = settings_validate(a, sources, selected);
	if (*status != EXIT_OK)
		goto stop;
	note_registry_only(a);
	if (a->cert && http_check_client_pair(a->cert, a->key, &why) < 0) {
		*status = cli_usage_error("%s", why);
		goto stop;
	}
	return 0;
stop:
	free(why);
	return -1;
}
