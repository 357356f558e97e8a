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
 *
 * A login (--username and its password, OCI_USERNAME/OCI_PASSWORD) is for
 * one registry, as docker, crane and regctl keep a login per registry:
 * the one --credentials-for names, else the only registry of the targets
 * file; with several and no --credentials-for the run is refused before
 * any request. Every other target gets only the credential docker's
 * config.json or auth.json holds for its own host.
 */
#include "cli/cli.h"
#include "cli/credentials.h"
#include "cli/fleet.h"
#include "cli/settings.h"
#include "engine/registry.h"
#include "util/ref.h"
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

/* "host[:port]" of a registry address, as credential stores key it; NULL when it does not parse. */
static char *hostport_of(const char *registry, const char **why)
{
	struct registry_url u;
	char *host;

	if (registry_url_parse(&u, registry, why) < 0)
		return NULL;
	host = registry_url_hostport(&u);
	registry_url_release(&u);
	return host;
}

static char *creds_key(const struct target *t)
{
	char *host = hostport_of(t->registry, NULL), *key;

	if (!host)
		return xstrdup(t->registry);
	key = xstrfmt("%s/%s", host, t->repository);
	free(host);
	return key;
}

/* How messages name the login: the setting --username came from, else the environment. */
static char *login_name(const struct run_args *a, char **sources)
{
	return a->username ? settings_name(a->opts, sources, "username")
			   : xstrdup("OCI_USERNAME/OCI_PASSWORD");
}

/* The registry --credentials-for names, when a target is on it; EXIT_USAGE said on stderr if not. */
static int named_login_host(const struct run_args *a, char **sources,
			    const struct target_source *src, char **host)
{
	char *n = settings_name(a->opts, sources, "credentials-for");
	const char *why = NULL;
	char *shown = NULL, *other;
	size_t i;
	int ret = EXIT_USAGE;

	*host = hostport_of(a->credentials_for, &why);
	if (!*host) {
		shown = url_redact_userinfo(a->credentials_for); /* never repeat a password */
		cli_usage_error("invalid %s '%s': %s", n, shown, why);
		goto done;
	}
	if (!a->username && !creds_env_given()) {
		cli_usage_error("%s %s: there is no login to use there (--username with --password-stdin or --password-file, or OCI_USERNAME and OCI_PASSWORD)",
				n, *host);
		goto done;
	}
	for (i = 0; i < src->nr; i++) {
		other = hostport_of(src->list[i].registry, NULL);
		ret = other && !strcmp(other, *host) ? EXIT_OK : EXIT_USAGE;
		free(other);
		if (ret == EXIT_OK)
			goto done;
	}
	cli_usage_error("%s %s: no target of %s is on that registry", n, *host, src->path);
done:
	if (ret != EXIT_OK) {
		free(*host);
		*host = NULL;
	}
	free(shown);
	free(n);
	return ret;
}

/*
 * The "host[:port]" the login is for, into *host (NULL when there is no
 * login): --credentials-for, else the one registry of every target. A
 * login with targets on several registries and no --credentials-for is
 * refused: sending it to all of them would hand one registry's password
 * to the others. EXIT_OK, or EXIT_USAGE said on stderr.
 */
static int login_host(const struct run_args *a, char **sources, const struct target_source *src,
		      char **host)
{
	char *other, *name;
	size_t i;

	*host = NULL;
	if (a->credentials_for)
		return named_login_host(a, sources, src, host);
	if (!a->username && !creds_env_given())
		return EXIT_OK;
	*host = hostport_of(src->list[0].registry, NULL);
	for (i = 1; *host && i < src->nr; i++) {
		other = hostport_of(src->list[i].registry, NULL);
		if (other && strcmp(other, *host)) {
			name = login_name(a, sources);
			cli_usage_error("the login of %s would go to every registry of %s, which names more than one (%s, %s): name the one it is for with --credentials-for HOST[:PORT], and keep the others' credentials in docker's config.json or containers' auth.json",
					name, src->path, *host, other);
			free(name);
			free(other);
			free(*host);
			*host = NULL;
			return EXIT_USAGE;
		}
		free(other);
	}
	return EXIT_OK;
}

static int resolve_fleet_creds(struct fleet_creds *fc, const struct run_args *a, char **sources,
			       const struct target_source *src)
{
	struct cli_creds cc;
	char *host = NULL;
	size_t i, j;
	int ret;

	fc->unique = xcalloc(src->nr, sizeof(*fc->unique));
	fc->keys = xcalloc(src->nr, sizeof(*fc->keys));
	fc->of = xcalloc(src->nr, sizeof(*fc->of));
	ret = login_host(a, sources, src, &host);
	if (ret != EXIT_OK)
		return ret;
	ret = cli_creds_open(&cc, a, sources);
	cc.login_host = host;
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
	free(host);
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
