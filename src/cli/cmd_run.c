/*
 * ocidoctor run: probes one registry and writes the report.
 *
 * It validates every input before the first request (exit 3 with one
 * line on stderr), resolves the credentials, runs the selected checks
 * concurrently over one engine, and maps the worst status to the exit
 * status.
 */
#include "checks/run.h"
#include "cli/cli.h"
#include "report/report.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PASSWORD_MAX ((size_t)64 * 1024)

struct run_args {
	char *registry;
	char *repository;
	char *tag;
	struct opt_list checks;
	char *format;
	char *output;
	char *username;
	int password_stdin;
	char *password;
	char *docker_config;
	char *ca_file;
	char *cert;
	char *key;
	int insecure;
	long timeout;
	char *scratch;
	int no_writes;
	int no_color;
	int verbose;
	int help;
};

#define ARG(field) offsetof(struct run_args, field)

static const struct opt run_opts[] = {
	{ "registry", 0, OPT_STRING, ARG(registry), "URL", "registry: https://host[:port], http://host[:port] or host[:port]" },
	{ "repository", 0, OPT_STRING, ARG(repository), "NAME", "test repository (default library/alpine)" },
	{ "tag", 0, OPT_STRING, ARG(tag), "TAG", "test image tag or digest (default latest)" },
	{ "check", 0, OPT_LIST, ARG(checks), "ID", "run only this check (repeatable; default all)" },
	{ "format", 0, OPT_STRING, ARG(format), "FMT", "report format: text (default) or json" },
	{ "output", 'o', OPT_STRING, ARG(output), "FILE", "write the report to FILE instead of stdout" },
	{ "username", 0, OPT_STRING, ARG(username), "USER", "user name; the password comes from --password-stdin" },
	{ "password-stdin", 0, OPT_BOOL, ARG(password_stdin), NULL, "read the password or token from standard input" },
	{ "password", 0, OPT_STRING, ARG(password), "PASS", "refused: a password on the command line is visible to others; use --password-stdin" },
	{ "docker-config", 0, OPT_STRING, ARG(docker_config), "DIR", "directory of docker's config.json (default $DOCKER_CONFIG or ~/.docker)" },
	{ "ca-file", 0, OPT_STRING, ARG(ca_file), "PEM", "trust this CA bundle as well as the system's" },
	{ "cert", 0, OPT_STRING, ARG(cert), "PEM", "client certificate for TLS (with --key)" },
	{ "key", 0, OPT_STRING, ARG(key), "PEM", "client certificate's private key" },
	{ "insecure", 0, OPT_BOOL, ARG(insecure), NULL, "skip TLS certificate verification (the report says so)" },
	{ "timeout", 0, OPT_LONG, ARG(timeout), "SECONDS", "deadline for the whole run (default 30)" },
	{ "scratch-repository", 0, OPT_STRING, ARG(scratch), "NAME", "repository for write probes (default: the test repository)" },
	{ "no-writes", 0, OPT_BOOL, ARG(no_writes), NULL, "skip every probe that writes to the registry" },
	{ "no-color", 0, OPT_BOOL, ARG(no_color), NULL, "no colours in the text report (also: NO_COLOR)" },
	{ "verbose", 'v', OPT_BOOL, ARG(verbose), NULL, "trace every HTTP exchange on stderr, secrets redacted" },
	{ "trace", 0, OPT_BOOL, ARG(verbose), NULL, "the same as --verbose" },
	{ "help", 'h', OPT_BOOL, ARG(help), NULL, "show this help" },
	OPT_END
};

static int validate_reference(const char *tag, const char **why)
{
	if (strchr(tag, ':'))
		return digest_valid(tag, why);
	return tag_valid(tag, why);
}

/* Checks every input that does not need I/O; returns EXIT_OK or EXIT_USAGE. */
static int validate(struct run_args *a, int *selected)
{
	struct registry_url u;
	const char *why = NULL;
	size_t i;

	if (a->password)
		return cli_usage_error("--password is refused: other users can read it in the process list; pipe it to --password-stdin");
	if (!a->registry)
		return cli_usage_error("no registry given: use --registry URL");
	if (registry_url_parse(&u, a->registry, &why) < 0)
		return cli_usage_error("invalid --registry '%s': %s", a->registry, why);
	registry_url_release(&u);
	if (repository_name_valid(a->repository, &why) < 0)
		return cli_usage_error("invalid --repository '%s': %s", a->repository, why);
	if (validate_reference(a->tag, &why) < 0)
		return cli_usage_error("invalid --tag '%s': %s", a->tag, why);
	if (a->scratch && repository_name_valid(a->scratch, &why) < 0)
		return cli_usage_error("invalid --scratch-repository '%s': %s", a->scratch, why);
	if (!report_writer_find(a->format))
		return cli_usage_error("unknown --format '%s' (text or json)", a->format);
	if (!!a->cert != !!a->key)
		return cli_usage_error("--cert and --key go together");
	if (a->password_stdin && !a->username)
		return cli_usage_error("--password-stdin needs --username");
	for (i = 0; i < a->checks.nr; i++) {
		const struct check *c = check_find(a->checks.items[i]);
		size_t j;

		if (!c)
			return cli_usage_error("unknown check '%s' (see 'ocidoctor list')",
					       a->checks.items[i]);
		for (j = 0; j < check_table_size; j++)
			if (check_table[j] == c)
				selected[j] = 1;
	}
	return EXIT_OK;
}

/* Reads the password from stdin, without its trailing newline. */
static char *read_password(void)
{
	struct buf b;
	char chunk[4096];
	size_t n;

	buf_init(&b, PASSWORD_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (buf_add(&b, chunk, n) < 0)
			break;
	if (b.overflow || ferror(stdin)) {
		buf_release(&b);
		return NULL;
	}
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	return buf_detach(&b);
}

static void set_defaults(struct run_args *a)
{
	if (!a->repository)
		a->repository = xstrdup("library/alpine");
	if (!a->tag)
		a->tag = xstrdup("latest");
	if (!a->format)
		a->format = xstrdup("text");
	if (!a->timeout)
		a->timeout = 30;
}

static int resolve_creds(struct run_args *a, struct creds *creds)
{
	struct registry_url u;
	struct creds_options co = { 0 };
	char *password = NULL, *why = NULL, *host;
	int ret = EXIT_OK;

	if (registry_url_parse(&u, a->registry, NULL) < 0)
		return EXIT_USAGE;
	host = u.port ? xstrfmt("%s:%d", u.host, u.port) : xstrdup(u.host);
	if (a->password_stdin) {
		password = read_password();
		if (!password) {
			ret = cli_usage_error("cannot read the password from standard input");
			goto done;
		}
	}
	co.username = a->username;
	co.password = password;
	co.docker_config = a->docker_config;
	co.registry_host = host;
	co.repository = a->repository;
	if (creds_resolve(creds, &co, &why) < 0) {
		ret = cli_usage_error("%s", why);
		goto done;
	}
done:
	if (password) {
		memset(password, 0, strlen(password));
		free(password);
	}
	free(why);
	free(host);
	registry_url_release(&u);
	return ret;
}

static int exit_for(enum check_status worst)
{
	if (worst == STATUS_FAIL)
		return EXIT_FAIL;
	if (worst == STATUS_WARN)
		return EXIT_WARN;
	return EXIT_OK;
}

static int write_report(struct run_args *a, const struct run *run, const struct run_config *cfg)
{
	const struct report_writer *w = report_writer_find(a->format);
	struct report rep = { .run = run, .config = cfg };
	FILE *out = stdout;
	int ret;

	if (a->output) {
		out = fopen(a->output, "w");
		if (!out)
			return cli_usage_error("cannot write the report to '%s'", a->output);
	}
	rep.out = out;
	rep.color = !a->output && !a->no_color && !getenv("NO_COLOR") && isatty(STDOUT_FILENO);
	ret = report_write(w, &rep);
	if (a->output && fclose(out) != 0)
		ret = -1;
	if (ret < 0) {
		fprintf(stderr, "ocidoctor: writing the report failed\n");
		return EXIT_INTERNAL;
	}
	return EXIT_OK;
}

static int doctor(struct run_args *a, const int *selected, const struct creds *creds)
{
	struct engine_options eo = {
		.timeout_ms = a->timeout * 1000, .ca_file = a->ca_file, .cert = a->cert,
		.key = a->key, .insecure = a->insecure, .trace = a->verbose ? stderr : NULL,
	};
	struct run_config cfg = {
		.registry = a->registry, .repository = a->repository, .tag = a->tag,
		.scratch_repository = a->scratch, .insecure = a->insecure, .creds = creds,
		.no_writes = a->no_writes,
	};
	struct registry_options ro = { .url = a->registry, .creds = creds };
	struct engine *engine = NULL;
	struct registry *registry = NULL;
	const char *why = NULL;
	struct run run;
	int ret;

	if (engine_new(&engine, &eo) < 0)
		return cli_usage_error("cannot start libcurl");
	if (registry_new(&registry, engine, &ro, &why) < 0) {
		engine_free(engine);
		return cli_usage_error("invalid --registry: %s", why);
	}
	run_init(&run, &cfg, engine, registry, selected);
	run_execute(&run);
	ret = write_report(a, &run, &cfg);
	if (ret == EXIT_OK)
		ret = exit_for(run_worst(&run, NULL));
	run_release(&run);
	registry_free(registry);
	engine_free(engine);
	return ret;
}

static int run_main(int argc, char **argv)
{
	struct run_args a = { 0 };
	struct opt_list positional = { 0 };
	struct creds creds = { 0 };
	int *selected = xcalloc(check_table_size, sizeof(*selected));
	char *why = NULL;
	int ret;

	if (opt_parse(run_opts, argc, argv, &a, &positional, &why) < 0) {
		ret = cli_usage_error("%s", why);
		goto done;
	}
	if (a.help) {
		opt_usage(stdout, cmd_run.usage, cmd_run.about, run_opts);
		ret = EXIT_OK;
		goto done;
	}
	if (positional.nr) {
		ret = cli_usage_error("unexpected argument '%s'", positional.items[0]);
		goto done;
	}
	set_defaults(&a);
	ret = validate(&a, selected);
	if (ret != EXIT_OK)
		goto done;
	ret = resolve_creds(&a, &creds);
	if (ret != EXIT_OK)
		goto done;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ret = doctor(&a, a.checks.nr ? selected : NULL, &creds);
	curl_global_cleanup();
done:
	creds_release(&creds);
	opt_release(run_opts, &a);
	opt_list_release(&positional);
	free(selected);
	free(why);
	return ret;
}

const struct command cmd_run = {
	.name = "run",
	.usage = "ocidoctor run [--registry URL] [--repository NAME] [--tag TAG] [--check ID]... [OPTIONS]",
	.about = "Probe the registry and report every check (or those named with --check).",
	.opts = run_opts,
	.fn = run_main,
};
