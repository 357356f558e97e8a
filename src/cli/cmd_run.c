/*
 * ocidoctor run: probes one registry and writes the report.
 *
 * A thin layer over the core: the settings path (cli/settings.h) checks
 * every input before the first request (exit 3 with one line on stderr),
 * the credential resolver (cli/credentials.h) resolves the credentials,
 * doctor_run (doctor/doctor.h) runs the selected checks, and the worst
 * status maps to the exit status.
 */
#include "cli/cli.h"
#include "cli/credentials.h"
#include "cli/settings.h"
#include "doctor/doctor.h"
#include "report/report.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_report(struct run_args *a, FILE *out, const struct doctor_result *res)
{
	const struct report_writer *w = report_writer_find(a->format);
	struct report rep = { .results = &res->results };

	rep.out = out;
	/* JUnit counts warnings as failures whenever they make the exit status non-zero */
	rep.warn_fails = !strcmp(a->fail_on, "warn");
	rep.nothing_fails = !strcmp(a->fail_on, "never");
	rep.platform = report_platform(a->platform);
	rep.color = !a->output && !a->no_color && !(getenv("NO_COLOR") && *getenv("NO_COLOR")) &&
		    isatty(STDOUT_FILENO);
	/* on a terminal, lines are wrapped to its width; a pipe or a file gets them whole */
	rep.width = a->output ? 0 : cli_terminal_width(STDOUT_FILENO);
	errno = 0;
	return cli_finish_output(out, a->output, "report", report_write(w, &rep) < 0);
}

/* What a suggested command must repeat of this invocation (report_command). */
static void note_invocation(struct run_results *r, const struct run_args *a)
{
	struct run_invocation inv = {
		.ca_file = a->ca_file, .cert = a->cert, .key = a->key,
		.docker_config = a->docker_config, .username = a->username,
		.password_file = a->password_file, .password_stdin = a->password_stdin,
		.writes = a->writes, .keep_artifacts = a->keep_artifacts, .timeout = a->timeout,
	};
	const char *var = NULL;

	inv.proxy = http_proxy_for(a->registry, &var);
	inv.proxy_var = inv.proxy ? (char *)var : NULL;
	run_results_set_invocation(r, &inv);
	free(inv.proxy);
}

/* Runs the checks and writes the report to out, which it closes (when -o). */
static int doctor(struct run_args *a, FILE *out, const int *selected, const struct creds *creds)
{
	struct engine_options eo = {
		.timeout_ms = a->timeout * 1000, .ca_file = a->ca_file, .cert = a->cert,
		.key = a->key, .insecure = a->insecure, .trace = a->verbose ? stderr : NULL,
	};
	struct doctor_settings s = {
		.registry = a->registry, .repository = a->repository, .tag = a->tag,
		.scratch_repository = a->scratch, .selected = selected,
		.writes = doctor_writes_mode(a->writes), .keep_artifacts = a->keep_artifacts,
		.creds = creds, .insecure = a->insecure, /* the deadline: the engine's */
	};
	struct doctor_result res;
	struct engine *engine = NULL;
	const char *why = NULL;
	int ret;

	if (engine_new(&engine, &eo) < 0) {
		cli_finish_output(out, a->output, "report", 0);
		return cli_usage_error("cannot start libcurl");
	}
	if (doctor_run(&res, &s, engine, &why) < 0) {
		doctor_result_release(&res);
		engine_free(engine);
		cli_finish_output(out, a->output, "report", 0);
		return cli_usage_error("invalid --registry: %s", why);
	}
	note_invocation(&res.results, a);
	ret = write_report(a, out, &res);
	if (ret == EXIT_OK)
		ret = cli_exit_status(res.results.worst, a->fail_on);
	doctor_result_release(&res);
	engine_free(engine);
	return ret;
}

static int run_main(int argc, char **argv)
{
	struct run_args a = { 0 };
	char *sources[SOURCE_MAX] = { 0 };
	struct cli_creds cc = { 0 };
	struct creds creds = { 0 };
	int *selected = xcalloc(check_table_size, sizeof(*selected));
	FILE *out = stdout;
	char *why = NULL;
	int ret;

	if (settings_prepare(&cmd_run, &a, sources, argc, argv, selected, &ret) < 0)
		goto done;
	ret = cli_creds_open(&cc, &a, sources);
	if (ret == EXIT_OK)
		ret = cli_creds_resolve(&cc, a.registry, a.repository, &creds);
	if (ret != EXIT_OK)
		goto done;
	/* an -o that cannot be written is a usage error before any request */
	if (a.output && !(out = cli_open_output(a.output, &why))) {
		ret = cli_usage_error("%s", why);
		goto done;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ret = doctor(&a, out, selected, &creds);
	curl_global_cleanup();
	out = stdout; /* doctor closed the -o file */
done:
	if (out && out != stdout)
		fclose(out);
	cli_creds_close(&cc);
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
