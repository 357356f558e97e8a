/*
 * settings: see settings.h.
 */
#include "cli/settings.h"
#include "cli/cli.h"
#include "cli/config.h"
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

static const char *const platform_values[] = { "bare-metal", "docker", "kubernetes", NULL };
static const char *const writes_values[] = { "none", "probe", "verify", NULL };
static const char *const fail_on_values[] = { "warn", "fail", "never", NULL };

const struct opt run_opts[] = {
	{ .long_name = "image", .type = OPT_STRING, .offset = ARG(image), .arg = "REF",
	  .help = "the test image as REGISTRY/REPOSITORY[:TAG|@DIGEST] (also the first argument); sets --registry, --repository and --tag" },
	{ .long_name = "registry", .type = OPT_STRING, .offset = ARG(registry), .arg = "URL",
	  .help = "registry: https://host[:port], http://host[:port] or host[:port] (= https; http with --plain-http); docker.io means https://registry-1.docker.io",
	  .key = "registryUrl", .env = "OCI__RegistryUrl" },
	{ .long_name = "repository", .type = OPT_STRING, .offset = ARG(repository), .arg = "NAME",
	  .help = "test repository (default library/alpine)",
	  .key = "testRepository", .env = "OCI__TestRepository" },
	{ .long_name = "tag", .type = OPT_STRING, .offset = ARG(tag), .arg = "TAG",
	  .help = "test image tag or digest (default latest)",
	  .key = "testTag", .env = "OCI__TestTag" },
	{ .long_name = "check", .type = OPT_LIST, .offset = ARG(checks), .arg = "ID",
	  .help = "run only matching checks; globs allowed (repeatable; default all)",
	  .key = "checks", .env = "OCIDOCTOR_CHECKS" },
	{ .long_name = "tags", .type = OPT_LIST, .offset = ARG(tags), .arg = "TAG,...",
	  .help = "run only checks with one of these tags (e.g. oci-1.1,registry)",
	  .key = "tags", .env = "OCIDOCTOR_TAGS" },
	{ .long_name = "format", .type = OPT_STRING, .offset = ARG(format), .arg = "FMT",
	  .help = "report format: text (default), json, junit, markdown, prometheus, html",
	  .key = "format", .env = "OCIDOCTOR_FORMAT" },
	{ .long_name = "output", .short_name = 'o', .type = OPT_STRING, .offset = ARG(output),
	  .arg = "FILE", .help = "write the report to FILE instead of stdout",
	  .key = "output", .env = "OCIDOCTOR_OUTPUT" },
	{ .long_name = "fail-on", .type = OPT_STRING, .offset = ARG(fail_on), .arg = "LEVEL",
	  .help = "warn, fail or never: the worst status that makes the exit status non-zero (default warn: warn exits 1, fail 2; JUnit shows what fails the run as failures)",
	  .key = "failOn", .env = "OCIDOCTOR_FAIL_ON",
	  .values = fail_on_values },
	{ .long_name = "platform", .type = OPT_STRING, .offset = ARG(platform), .arg = "NAME",
	  .help = "whose fix the report gives: bare-metal (default), docker or kubernetes",
	  .values = platform_values,
	  .key = "platform", .env = "OCIDOCTOR_PLATFORM" },
	{ .long_name = "username", .type = OPT_STRING, .offset = ARG(username), .arg = "USER",
	  .help = "user name; the password comes from --password-stdin or --password-file",
	  .key = "username", .env = "OCIDOCTOR_USERNAME" },
	{ .long_name = "password-stdin", .type = OPT_BOOL, .offset = ARG(password_stdin),
	  .help = "read the password or token from standard input" },
	{ .long_name = "password-file", .type = OPT_STRING, .offset = ARG(password_file),
	  .arg = "FILE", .help = "read the password or token from FILE",
	  .key = "passwordFile", .env = "OCIDOCTOR_PASSWORD_FILE" },
	{ .long_name = "password", .type = OPT_STRING, .offset = ARG(password), .arg = "PASS",
	  .help = "refused: other users can read it in the process list", .hidden = 1 },
	{ .long_name = "docker-config", .type = OPT_STRING, .offset = ARG(docker_config),
	  .arg = "DIR", .help = "directory of docker's config.json (default $DOCKER_CONFIG or ~/.docker)",
	  .key = "dockerConfig", .env = "OCIDOCTOR_DOCKER_CONFIG" },
	{ .long_name = "ca-file", .type = OPT_STRING, .offset = ARG(ca_file), .arg = "PEM",
	  .help = "trust this CA bundle as well as the system's",
	  .key = "caFile", .env = "OCIDOCTOR_CA_FILE" },
	{ .long_name = "cert", .type = OPT_STRING, .offset = ARG(cert), .arg = "PEM",
	  .help = "client certificate for TLS (with --key)", .key = "cert", .env = "OCIDOCTOR_CERT" },
	{ .long_name = "key", .type = OPT_STRING, .offset = ARG(key), .arg = "PEM",
	  .help = "the client certificate's private key", .key = "key", .env = "OCIDOCTOR_KEY" },
	{ .long_name = "insecure", .type = OPT_BOOL, .offset = ARG(insecure),
	  .help = "skip TLS certificate verification (the report says so)",
	  .key = "insecure", .env = "OCIDOCTOR_INSECURE" },
	{ .long_name = "plain-http", .type = OPT_BOOL, .offset = ARG(plain_http),
	  .help = "talk plain HTTP: a registry given as host[:port] means http://host[:port]",
	  .key = "plainHttp", .env = "OCIDOCTOR_PLAIN_HTTP" },
	{ .long_name = "timeout", .type = OPT_LONG, .offset = ARG(timeout), .arg = "SECONDS",
	  .help = "deadline for the whole run (default 30, at most 86400)",
	  .key = "timeout", .env = "OCIDOCTOR_TIMEOUT", .max = TIMEOUT_MAX_SECONDS },
	{ .long_name = "scratch-repository", .type = OPT_STRING, .offset = ARG(scratch),
	  .arg = "NAME", .help = "repository for write probes (default: the test repository for push, NAMESPACE/ocidoctor-scratch-<run id> for the capability probes and --writes verify)",
	  .key = "scratchRepository", .env = "OCIDOCTOR_SCRATCH_REPOSITORY" },
	{ .long_name = "writes", .type = OPT_STRING, .offset = ARG(writes), .arg = "MODE",
	  .help = "none (no probe writes), probe (default: upload sessions that are cancelled, the mount and delete probes) or verify (also push an artifact and its subject to the scratch repository, find them, and delete them)",
	  .key = "writes", .env = "OCIDOCTOR_WRITES", .values = writes_values },
	{ .long_name = "no-writes", .type = OPT_BOOL, .offset = ARG(no_writes),
	  .help = "the same as --writes none",
	  .key = "noWrites", .env = "OCIDOCTOR_NO_WRITES" },
	{ .long_name = "keep-artifacts", .type = OPT_BOOL, .offset = ARG(keep_artifacts),
	  .help = "with --writes verify: push even when deletes are not shown to work, and leave what was pushed (listed with how to remove it)",
	  .key = "keepArtifacts", .env = "OCIDOCTOR_KEEP_ARTIFACTS" },
	{ .long_name = "no-color", .type = OPT_BOOL, .offset = ARG(no_color),
	  .help = "no colours in the text report (also: NO_COLOR)" },
	{ .long_name = "verbose", .short_name = 'v', .type = OPT_BOOL, .offset = ARG(verbose),
	  .help = "trace every HTTP exchange on stderr, secrets redacted" },
	{ .long_name = "trace", .type = OPT_BOOL, .offset = ARG(verbose),
	  .help = "the same as --verbose" },
	{ .long_name = "config", .type = OPT_STRING, .offset = ARG(config), .arg = "FILE",
	  .help = "read settings from a YAML file (its oci: section)", .env = "OCIDOCTOR_CONFIG" },
	{ .long_name = "help", .short_name = 'h', .type = OPT_BOOL, .offset = ARG(help),
	  .help = "show this help" },
	OPT_END
};

size_t run_opts_count(void)
{
	size_t n = 0;

	while (run_opts[n].long_name)
		n++;
	return n;
}

/* Sets a default for a setting nothing else set. */
static void set_default(struct run_args *a, char **sources, const char *name, const char *value)
{
	size_t i = opt_index(run_opts, name);
	const struct opt *o = &run_opts[i];
	char *ignored = NULL;

	if (sources[i])
		return;
	opt_store(o, a, value, &ignored);
	free(ignored);
	sources[i] = xstrdup("default");
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
	size_t iw = opt_index(run_opts, "writes"), in = opt_index(run_opts, "no-writes");
	int rw = source_rank(sources[iw]), rn = a->no_writes ? source_rank(sources[in]) : 0;

	if (a->writes && strcmp(a->writes, "none") && strcmp(a->writes, "probe") &&
	    strcmp(a->writes, "verify")) {
		*why = xstrfmt("unknown --writes '%s' (none, probe or verify)", a->writes);
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
	set_default(a, sources, "writes", "probe");
	a->no_writes = !strcmp(a->writes, "none");
	return 0;
}

/* Sets one of the settings an image reference names, marked as coming from it. */
static void set_from_image(struct run_args *a, char **sources, const char *name,
			   const char *value, const char *source)
{
	size_t i = opt_index(run_opts, name);
	char *ignored = NULL;

	opt_store(&run_opts[i], a, value, &ignored);
	free(ignored);
	free(sources[i]);
	sources[i] = xstrdup(source);
}

/* Splits --image (or the positional argument) into registry, repository and tag. */
static int apply_image(struct run_args *a, char **sources, struct opt_list *positional,
		       char **why)
{
	static const char *const named[] = { "registry", "repository", "tag" };
	size_t img = opt_index(run_opts, "image"), i;
	const char *source = "flag --image", *reason = NULL;
	struct image_ref ref;

	if (positional->nr > 1) {
		*why = xstrfmt("unexpected argument '%s' (one image reference at most)",
			       positional->items[1]);
		return -1;
	}
	if (positional->nr && a->image) {
		*why = xstrfmt("the image is given twice: as --image and as the argument '%s'",
			       positional->items[0]);
		return -1;
	}
	if (positional->nr) {
		a->image = xstrdup(positional->items[0]);
		sources[img] = xstrdup("argument IMAGE");
		source = "argument IMAGE";
	}
	if (!a->image)
		return 0;
	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (sources[opt_index(run_opts, named[i])]) {
			*why = xstrfmt("the image reference '%s' already names the registry, repository and tag: drop --%s",
				       a->image, named[i]);
			return -1;
		}
	if (image_ref_parse(&ref, a->image, &reason) < 0) {
		*why = xstrfmt("invalid image reference '%s': %s", a->image, reason);
		return -1;
	}
	set_from_image(a, sources, "registry", ref.registry, source);
	set_from_image(a, sources, "repository", ref.repository, source);
	set_from_image(a, sources, "tag", ref.reference, source);
	image_ref_release(&ref);
	return 0;
}

int run_args_resolve(struct run_args *a, char **sources, int argc, char **argv, char **why)
{
	struct opt_list positional = { 0 };
	int ret = -1;

	if (opt_parse(run_opts, argc, argv, a, &positional, sources, why) < 0)
		goto done;
	if (a->help) {
		ret = 0;
		goto done;
	}
	if (apply_image(a, sources, &positional, why) < 0)
		goto done;
	if (opt_apply_env(run_opts, a, sources, why) < 0)
		goto done;
	if (a->config && config_apply_file(a->config, run_opts, a, sources, why) < 0)
		goto done;
	set_default(a, sources, "repository", "library/alpine");
	set_default(a, sources, "tag", "latest");
	set_default(a, sources, "format", "text");
	set_default(a, sources, "timeout", "30");
	set_default(a, sources, "fail-on", "warn");
	set_default(a, sources, "platform", "bare-metal");
	if (resolve_writes(a, sources, why) < 0)
		goto done;
	ret = 0;
done:
	opt_list_release(&positional);
	return ret;
}

void run_args_release(struct run_args *a, char **sources)
{
	size_t i, n = run_opts_count();

	opt_release(run_opts, a);
	for (i = 0; sources && i < n; i++) {
		free(sources[i]);
		sources[i] = NULL;
	}
}

char *run_setting_name(char **sources, const char *long_name)
{
	const char *src = sources[opt_index(run_opts, long_name)];
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

/* "invalid --NAME 'VALUE': WHY", or "SOURCE: invalid value 'VALUE': WHY". */
static int bad_value(char **sources, const char *name, const char *value, const char *why)
{
	char *n = run_setting_name(sources, name);
	int ret;

	if (n[0] == '-')
		ret = cli_usage_error("invalid %s '%s': %s", n, value, why);
	else
		ret = cli_usage_error("%s: invalid value '%s': %s", n, value, why);
	free(n);
	return ret;
}

/* 0 when path can be opened and read, else the errno that says why not. */
static int readable(const char *path)
{
	char byte;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), err = 0;

	if (fd < 0)
		return errno;
	if (read(fd, &byte, 1) < 0 && errno != EAGAIN)
		err = errno;
	close(fd);
	return err;
}

static int unreadable_file(char **sources, const char *name, const char *path, int err)
{
	char *n = run_setting_name(sources, name);
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
		char *n = run_setting_name(sources, "registry");
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
static int validate_names(struct run_args *a, char **sources)
{
	struct registry_url u;
	const char *why = NULL;

	if (apply_plain_http(a, sources) != EXIT_OK)
		return EXIT_USAGE;
	if (registry_url_parse(&u, a->registry, &why) < 0) {
		char *shown = url_redact_userinfo(a->registry); /* never repeat a password */
		int ret = bad_value(sources, "registry", shown, why);

		free(shown);
		return ret;
	}
	free(a->registry);
	a->registry = xstrdup(u.base);
	registry_url_release(&u);
	if (repository_name_valid(a->repository, &why) < 0) {
		const char *colon = strrchr(a->repository, ':'), *at = strchr(a->repository, '@');

		if (at || (colon && !strchr(colon, '/'))) {
			char *hint = xstrfmt("the tag or digest goes in --tag (--repository %.*s --tag %s)",
					     (int)((at ? at : colon) - a->repository), a->repository,
					     (at ? at : colon) + 1);
			int ret = bad_value(sources, "repository", a->repository, hint);

			free(hint);
			return ret;
		}
		return bad_value(sources, "repository", a->repository, why);
	}
	if (reference_valid(a->tag, &why) < 0)
		return bad_value(sources, "tag", a->tag, why);
	if (a->scratch && repository_name_valid(a->scratch, &why) < 0)
		return bad_value(sources, "scratch-repository", a->scratch, why);
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
		const char *path = *(char **)((char *)a + run_opts[opt_index(run_opts, tls[i])].offset);

		if (path && (err = readable(path)) != 0)
			return unreadable_file(sources, tls[i], path, err);
	}
	if (a->password_file && (err = readable(a->password_file)) != 0)
		return unreadable_file(sources, "password-file", a->password_file, err);
	return EXIT_OK;
}

/* A --check pattern or --tags tag from the environment or the file that selects nothing, named by its source. */
static int validate_selection_source(char **sources, const char *name, const struct opt_list *l,
				     int tags)
{
	const char *src = sources[opt_index(run_opts, name)];
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
			return bad_value(sources, name, l->items[i],
					 tags ? "no check has this tag (see 'ocidoctor list')"
					      : "no check matches it (see 'ocidoctor list')");
	}
	return EXIT_OK;
}

int run_args_validate(struct run_args *a, char **sources, int *selected)
{
	const char *p = a->platform;

	if (a->password)
		return cli_usage_error("--password is refused: other users can read it in the process list; pipe it to --password-stdin");
	if (!a->registry)
		return cli_usage_error("no registry given: use --registry URL or an image reference REGISTRY/REPOSITORY[:TAG] (or OCI__RegistryUrl, or oci.registryUrl in a --config file)");
	if (validate_names(a, sources) != EXIT_OK)
		return EXIT_USAGE;
	if (!report_writer_find(a->format))
		return bad_value(sources, "format", a->format,
				 "not a format (text, json, junit, markdown, prometheus or html)");
	if (strcmp(a->fail_on, "warn") && strcmp(a->fail_on, "fail") && strcmp(a->fail_on, "never"))
		return bad_value(sources, "fail-on", a->fail_on, "not warn, fail or never");
	if (strcmp(p, "bare-metal") && strcmp(p, "docker") && strcmp(p, "docker-compose") &&
	    strcmp(p, "kubernetes"))
		return bad_value(sources, "platform", p, "not bare-metal, docker or kubernetes");
	if (a->password_stdin && !a->username)
		return cli_usage_error("--password-stdin needs --username");
	if (a->password_stdin && a->password_file)
		return cli_usage_error("--password-stdin and --password-file go alone, not together");
	if (a->password_file && !a->username)
		return cli_usage_error("--password-file needs --username");
	if (validate_files(a, sources) != EXIT_OK)
		return EXIT_USAGE;
	if (validate_selection_source(sources, "check", &a->checks, 0) != EXIT_OK ||
	    validate_selection_source(sources, "tags", &a->tags, 1) != EXIT_OK)
		return EXIT_USAGE;
	return cli_select_checks(&a->checks, &a->tags, selected);
}
