/*
 * ocidoctor run: probes one registry and writes the report.
 *
 * It validates every input before the first request (exit 3 with one
 * line on stderr), resolves the credentials, runs the selected checks
 * concurrently over one engine, and maps the worst status to the exit
 * status.
 */
#include "doctor/doctor.h"
#include "checks/run.h"
#include "cli/cli.h"
#include "cli/settings.h"
#include "report/report.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define PASSWORD_MAX ((size_t)64 * 1024)

/* Reads a password from f, without its trailing newline. */
static char *read_password(FILE *f)
{
	struct buf b;

	buf_init_secret(&b, PASSWORD_MAX);
	/* no stdio buffer: the only copies are ours, and they are wiped */
	setvbuf(f, NULL, _IONBF, 0);
	if (buf_read_stream(&b, f) < 0) {
		buf_release(&b);
		return NULL;
	}
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	return buf_detach(&b);
}

/* The password, or NULL with *err set to the errno that says why not. */
static char *password_from(struct run_args *a, int *err)
{
	FILE *f;
	char *p;

	errno = 0;
	if (a->password_stdin) {
		p = read_password(stdin);
		*err = errno ? errno : EFBIG; /* no errno: over the size cap */
		return p;
	}
	f = fopen(a->password_file, "rbe");
	if (!f) {
		*err = errno;
		return NULL;
	}
	p = read_password(f);
	*err = errno ? errno : EFBIG; /* no errno: over the size cap */
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
		const char *from = a->password_stdin ? "standard input" : a->password_file;
		int err = 0;

		password = password_from(a, &err);
		if (!password) {
			ret = cli_usage_error("cannot read the password from %s: %s", from,
					      strerror(err));
			goto done;
		}
		if (!*password) {
			ret = cli_usage_error("the password from %s is empty", from);
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
	secret_free(password);
	free(why);
	free(host);
	free(origin);
	registry_url_release(&u);
	return ret;
}


static int write_report(struct run_args *a, FILE *out, const struct run_results *results,
			int warn_fails)
{
	const struct report_writer *w = report_writer_find(a->format);
	struct report rep = { .results = results };

	rep.out = out;
	rep.warn_fails = warn_fails;
	rep.nothing_fails = !strcmp(a->fail_on, "never");
	rep.platform = report_platform(a->platform);
	rep.color = !a->output && !a->no_color && !(getenv("NO_COLOR") && *getenv("NO_COLOR")) &&
		    isatty(STDOUT_FILENO);
	errno = 0;
	return cli_finish_output(out, a->output, "report", report_write(w, &rep) < 0);
}

/* Runs the checks and writes the report to out, which it closes (when -o). */
static int doctor(struct run_args *a, FILE *out, const int *selected, const struct creds *creds,
		  int warn_fails)
{
	/* --insecure means nothing without TLS, and is not reported then */
	int insecure = a->insecure && !strncasecmp(a->registry, "https:", 6);
	struct engine_options eo = {
		.timeout_ms = a->timeout * 1000, .ca_file = a->ca_file, .cert = a->cert,
		.key = a->key, .insecure = insecure, .trace = a->verbose ? stderr : NULL,
	};
	struct run_config cfg = {
		.registry = a->registry, .repository = a->repository, .tag = a->tag,
		.scratch_repository = a->scratch, .insecure = insecure, .creds = creds,
		.no_writes = a->no_writes, .verify_writes = !strcmp(a->writes, "verify"),
		.keep_artifacts = a->keep_artifacts,
	};
	struct registry_options ro = { .url = a->registry, .creds = creds };
	struct engine *engine = NULL;
	struct registry *registry = NULL;
	const char *why = NULL;
	struct run_results results;
	struct run run;
	int ret;

	if (engine_new(&engine, &eo) < 0) {
		cli_finish_output(out, a->output, "report", 0);
		return cli_usage_error("cannot start libcurl");
	}
	if (registry_new(&registry, engine, &ro, &why) < 0) {
		engine_free(engine);
		cli_finish_output(out, a->output, "report", 0);
		return cli_usage_error("invalid --registry: %s", why);
	}
	run_init(&run, &cfg, engine, registry, selected);
	run_execute(&run);
	doctor_results_take(&results, &run);
	run_release(&run);
	ret = write_report(a, out, &results, warn_fails);
	if (ret == EXIT_OK)
		ret = cli_exit_status(results.worst, a->fail_on);
	run_results_release(&results);
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
	FILE *out = stdout;
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
	ret = run_args_validate(&a, sources, selected);
	if (ret != EXIT_OK)
		goto done;
	if (a.cert && http_check_client_pair(a.cert, a.key, &why) < 0) {
		ret = cli_usage_error("%s", why);
		goto done;
	}
	ret = resolve_creds(&a, sources, &creds);
	if (ret != EXIT_OK)
		goto done;
	/* an -o that cannot be written is a usage error before any request */
	if (a.output && !(out = cli_open_output(a.output, &why))) {
		ret = cli_usage_error("%s", why);
		goto done;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* JUnit counts warnings as failures whenever they make the exit status non-zero */
	ret = doctor(&a, out, selected, &creds, !strcmp(a.fail_on, "warn"));
	curl_global_cleanup();
	out = stdout; /* doctor closed the -o file */
done:
	if (out && out != stdout)
		fclose(out);
	creds_release(&creds);
	run_args_release(&a, sources);
	free(selected);
	free(why);
	return ret;
}

const struct command cmd_run = {
	.name = "run",
	.usage = "ocidoctor run [REGISTRY/REPOSITORY[:TAG|@DIGEST]] [--registry URL] [--repository NAME] [--tag TAG] [--check ID]... [OPTIONS]",
	.about = "Probe the registry and report every check (or those named with --check).",
	.opts = run_opts,
	.fn = run_main,
};
