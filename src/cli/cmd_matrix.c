/*
 * ocidoctor matrix: the checks against a fleet of registries and
 * repositories, a row per target, in the targets file's order.
 *
 * A thin layer over the core: the settings path of run (cli/settings.h,
 * matrix_opts: the config file, the environment, the same groups and
 * defaults), the targets file (cli/targets.h, read and validated whole
 * before any request), the one credential resolver (cli/credentials.h,
 * run's policy: a broken source is exit 3), resolved once per registry
 * host and repository, and the job pool (cli/fleet.h) over doctor_run.
 */
#include "cli/cli.h"
#include "cli/credentials.h"
#include "cli/fleet.h"
#include "cli/settings.h"
#include "engine/registry.h"
#include "util/thread.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The credentials of every target, resolved once per host and repository. */
struct fleet_creds {
	struct creds *unique;         /* one per distinct host and repository */
	char **keys;                  /* "host/repository" of each */
	size_t nr;
	const struct creds **of;      /* per target */
};

static void fleet_creds_release(struct fleet_creds *fc)
{
	size_t i;

	for (i = 0; i < fc->nr; i++) {
		creds_release(&fc->unique[i]);
		free(fc->keys[i]);
	}
	free(fc->unique);
	free(fc->keys);
	free(fc->of);
	memset(fc, 0, sizeof(*fc));
}

static char *creds_key(const struct target *t)
{
	struct registry_url u;
	char *host, *key;

	if (registry_url_parse(&u, t->registry, NULL) < 0)
		return xstrdup(t->registry);
	host = registry_url_hostport(&u);
	key = xstrfmt("%s/%s", host, t->repository);
	free(host);
	registry_url_release(&u);
	return key;
}

static int resolve_fleet_creds(struct fleet_creds *fc, const struct run_args *a, char **sources,
			       const struct target_source *src)
{
	struct cli_creds cc;
	size_t i, j;
	int ret;

	fc->unique = xcalloc(src->nr, sizeof(*fc->unique));
	fc->keys = xcalloc(src->nr, sizeof(*fc->keys));
	fc->of = xcalloc(src->nr, sizeof(*fc->of));
	ret = cli_creds_open(&cc, a, sources);
	for (i = 0; ret == EXIT_OK && i < src->nr; i++) {
		char *key = creds_key(&src->list[i]);

		for (j = 0; j < fc->nr && strcmp(fc->keys[j], key); j++)
			;
		if (j == fc->nr) {
			ret = cli_creds_resolve(&cc, src->list[i].registry, src->list[i].repository,
						&fc->unique[j]);
			fc->keys[fc->nr++] = key;
		} else {
			free(key);
		}
		fc->of[i] = &fc->unique[j];
	}
	cli_creds_close(&cc);
	return ret;
}

static int matrix(struct run_args *a, char **sources, const int *selected,
		  struct target_source *src, const struct fleet_creds *fc)
{
	struct fleet_options fo = {
		.writer = matrix_writer_find(a->format),
		.parallel = a->parallel,
		/* no bar unless both ends are a terminal, or it is asked for */
		.progress = a->progress ||
			    (!a->no_progress && isatty(STDERR_FILENO) && isatty(STDOUT_FILENO)),
		.engine = { .ca_file = a->ca_file, .cert = a->cert, .key = a->key,
			    .insecure = a->insecure, .trace = a->verbose ? stderr : NULL },
		.base = { .scratch_repository = a->scratch, .selected = selected,
			  .writes = doctor_writes_mode(a->writes), .keep_artifacts = a->keep_artifacts,
			  .timeout_ms = a->timeout * 1000 },
		.insecure = a->insecure,
		.creds = fc->of,
	};
	enum check_status worst = STATUS_PASS;
	char *why = NULL;
	int ret;

	(void)sources;
	fo.out = a->output ? cli_open_output(a->output, &why) : stdout;
	if (!fo.out) {
		ret = cli_usage_error("%s", why);
		free(why);
		return ret;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	thread_prefer_batch(); /* before fleet_run starts a thread: they inherit it */
	if (fleet_run(&fo, src, &worst) < 0)
		xdie("cannot start the fleet run");
	curl_global_cleanup();
	errno = 0;
	ret = cli_finish_output(fo.out, a->output, "table", 0);
	if (ret == EXIT_OK)
		ret = cli_exit_status(worst, a->fail_on);
	return ret;
}

static int matrix_main(int argc, char **argv)
{
	struct run_args a = { 0 };
	char *sources[SOURCE_MAX] = { 0 };
	int *selected = xcalloc(check_table_size, sizeof(*selected));
	struct target_source src = { 0 };
	struct target_defaults def = { 0 };
	struct fleet_creds fc = { 0 };
	char *why = NULL;
	int ret;

	if (settings_prepare(&cmd_matrix, &a, sources, argc, argv, selected, &ret) < 0)
		goto done;
	def = (struct target_defaults){ .repository = a.repository, .tag = a.tag,
					.plain_http = a.plain_http };
	if (source_load(&src, a.targets, &def, &why) < 0) {
		ret = cli_usage_error("%s", why);
		goto done;
	}
	ret = resolve_fleet_creds(&fc, &a, sources, &src);
	if (ret == EXIT_OK)
		ret = matrix(&a, sources, selected, &src, &fc);
done:
	source_close(&src);
	fleet_creds_release(&fc);
	run_args_release(&a, sources);
	free(selected);
	free(why);
	return ret;
}

const struct command cmd_matrix = {
	.name = "matrix",
	.usage = "ocidoctor matrix --targets FILE [--parallel N] [--format FMT] [--config FILE] [OPTIONS]",
	.about = "Run the checks against many registries and repositories; print a registry x capability table.",
	.opts = matrix_opts,
	.fn = matrix_main,
};
