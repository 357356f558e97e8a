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
#include "cli/settings.h"
#include "report/report.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PASSWORD_MAX ((size_t)64 * 1024)

/* Checks every input that does not need I/O; returns EXIT_OK or EXIT_USAGE. */
static int validate(struct run_args *a, int *selected)
{
	struct registry_url u;
	const char *why = NULL;

	if (a->password)
		return cli_usage_error("--password is refused: other users can read it in the process list; pipe it to --password-stdin");
	if (!a->registry)
		return cli_usage_error("no registry given: use --registry URL (or OCI__RegistryUrl, or oci.registryUrl in a --config file)");
	if (registry_url_parse(&u, a->registry, &why) < 0)
		return cli_usage_error("invalid --registry '%s': %s", a->registry, why);
	registry_url_release(&u);
	if (repository_name_valid(a->repository, &why) < 0)
		return cli_usage_error("invalid --repository '%s': %s", a->repository, why);
	if (reference_valid(a->tag, &why) < 0)
		return cli_usage_error("invalid --tag '%s': %s", a->tag, why);
	if (a->scratch && repository_name_valid(a->scratch, &why) < 0)
		return cli_usage_error("invalid --scratch-repository '%s': %s", a->scratch, why);
	if (!report_writer_find(a->format))
		return cli_usage_error("unknown --format '%s' (text, json, junit, markdown, prometheus or html)",
				       a->format);
	if (!!a->cert != !!a->key)
		return cli_usage_error("--cert and --key go together");
	if (a->password_stdin && !a->username)
		return cli_usage_error("--password-stdin needs --username");
	if (strcmp(a->fail_on, "warn") && strcmp(a->fail_on, "fail") && strcmp(a->fail_on, "never"))
		return cli_usage_error("unknown --fail-on '%s' (warn, fail or never)", a->fail_on);
	if (a->password_stdin && a->password_file)
		return cli_usage_error("--password-stdin and --password-file go alone, not together");
	if (a->password_file && !a->username)
		return cli_usage_error("--password-file needs --username");
	return cli_select_checks(&a->checks, &a->tags, selected);
}

/* Reads a password from f, without its trailing newline. */
static char *read_password(FILE *f)
{
	struct buf b;

	buf_init(&b, PASSWORD_MAX);
	if (buf_read_stream(&b, f) < 0) {
		buf_release(&b);
		return NULL;
	}
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	return buf_detach(&b);
}

static char *password_from(struct run_args *a)
{
	FILE *f;
	char *p;

	if (a->password_stdin)
		return read_password(stdin);
	f = fopen(a->password_file, "rb");
	if (!f)
		return NULL;
	p = read_password(f);
	fclose(f);
	return p;
}

/* Where --username and the password came from, for the credentials check. */
static char *creds_origin(const struct run_args *a, char **sources)
{
	const char *user = sources[opt_index(run_opts, "username")];
	const char *pass = a->password_stdin ? "--password-stdin"
					     : sources[opt_index(run_opts, "password-file")];

	if (user && !strncmp(user, "flag ", 5) && pass && !strncmp(pass, "flag ", 5))
		return xstrfmt("--username/--password-file");
	if (user && !strncmp(user, "flag ", 5) && a->password_stdin)
		return xstrfmt("--username/--password-stdin");
	return xstrfmt("username from %s, password from %s", user ? user : "?", pass ? pass : "?");
}

static int resolve_creds(struct run_args *a, char **sources, struct creds *creds)
{
	struct registry_url u;
	struct creds_options co = { 0 };
	char *password = NULL, *why = NULL, *host, *origin = NULL;
	int ret = EXIT_OK;

	if (registry_url_parse(&u, a->registry, NULL) < 0)
		return EXIT_USAGE;
	host = registry_url_hostport(&u);
	if (a->password_stdin || a->password_file) {
		password = password_from(a);
		if (!password) {
			ret = cli_usage_error("cannot read the password from %s",
					      a->password_stdin ? "standard input" : a->password_file);
			goto done;
		}
	}
	co.username = a->username;
	co.password = password;
	co.docker_config = a->docker_config;
	co.registry_host = host;
	co.repository = a->repository;
	if (a->username)
		co.origin = origin = creds_origin(a, sources);
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
	free(origin);
	registry_url_release(&u);
	return ret;
}


static int write_report(struct run_args *a, const struct run *run, const struct run_config *cfg,
			int warn_fails)
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
	rep.warn_fails = warn_fails;
	rep.color = !a->output && !a->no_color && !(getenv("NO_COLOR") && *getenv("NO_COLOR")) &&
		    isatty(STDOUT_FILENO);
	ret = report_write(w, &rep);
	if (a->output && fclose(out) != 0)
		ret = -1;
	if (ret < 0) {
		fprintf(stderr, "ocidoctor: writing the report failed\n");
		return EXIT_INTERNAL;
	}
	return EXIT_OK;
}

static int doctor(struct run_args *a, const int *selected, const struct creds *creds,
		  int warn_fails)
{
	struct engine_options eo = {
		.timeout_ms = a->timeout * 1000, .ca_file = a->ca_file, .cert = a->cert,
		.key = a->key, .insecure = a->insecure, .trace = a->verbose ? stderr : NULL,
	};
	struct run_config cfg = {
		.registry = a->registry, .repository = a->repository, .tag = a->tag,
		.scratch_repository = a->scratch, .insecure = a->insecure, .creds = creds,
		.no_writes = a->no_writes, .verify_writes = !strcmp(a->writes, "verify"),
		.keep_artifacts = a->keep_artifacts,
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
	ret = write_report(a, &run, &cfg, warn_fails);
	if (ret == EXIT_OK)
		ret = cli_exit_status(run_worst(&run, NULL), a->fail_on);
	run_release(&run);
	registry_free(registry);
	engine_free(engine);
	return ret;
}

static int run_main(int argc, char **argv)
{
	struct run_args a = { 0 };
	char *sources[SOURCE_MAX] = { 0 };
	struct creds creds = { 0 };
	int *selected = xcalloc(check_table_size, sizeof(*selected));
	char *why = NULL;
	int ret;

	if (run_args_resolve(&a, sources, argc, argv, &why) < 0) {
		ret = cli_usage_error("%s", why);
		goto done;
	}
	if (a.help) {
		opt_usage(stdout, cmd_run.usage, cmd_run.about, run_opts);
		ret = EXIT_OK;
		goto done;
	}
	ret = validate(&a, selected);
	if (ret != EXIT_OK)
		goto done;
	ret = resolve_creds(&a, sources, &creds);
	if (ret != EXIT_OK)
		goto done;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* JUnit counts warnings as failures only when --fail-on warn was asked for */
	ret = doctor(&a, selected, &creds,
		     !strcmp(a.fail_on, "warn") && strcmp(sources[opt_index(run_opts, "fail-on")], "default"));
	curl_global_cleanup();
done:
	creds_release(&creds);
	run_args_release(&a, sources);
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
