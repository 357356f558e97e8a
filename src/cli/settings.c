/*
 * settings: see settings.h.
 */
#include "cli/settings.h"
#include "cli/config.h"
#include "util/buf.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define ARG(field) offsetof(struct run_args, field)

const struct opt run_opts[] = {
	{ .long_name = "registry", .type = OPT_STRING, .offset = ARG(registry), .arg = "URL",
	  .help = "registry: https://host[:port], http://host[:port] or host[:port] (= https)",
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
	  .help = "warn, fail or never: the worst status that makes the exit status non-zero (default: warn exits 1, fail 2; JUnit counts warnings as failures only when warn is given)",
	  .key = "failOn", .env = "OCIDOCTOR_FAIL_ON" },
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
	{ .long_name = "timeout", .type = OPT_LONG, .offset = ARG(timeout), .arg = "SECONDS",
	  .help = "deadline for the whole run (default 30)",
	  .key = "timeout", .env = "OCIDOCTOR_TIMEOUT" },
	{ .long_name = "scratch-repository", .type = OPT_STRING, .offset = ARG(scratch),
	  .arg = "NAME", .help = "repository for write probes (default: the test repository for push, NAMESPACE/ocidoctor-scratch-<run id> for the capability probes and --writes verify)",
	  .key = "scratchRepository", .env = "OCIDOCTOR_SCRATCH_REPOSITORY" },
	{ .long_name = "writes", .type = OPT_STRING, .offset = ARG(writes), .arg = "MODE",
	  .help = "none (no probe writes), probe (default: upload sessions that are cancelled, the mount and delete probes) or verify (also push an artifact and its subject to the scratch repository, find them, and delete them)",
	  .key = "writes", .env = "OCIDOCTOR_WRITES" },
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

int run_args_resolve(struct run_args *a, char **sources, int argc, char **argv, char **why)
{
	struct opt_list positional = { 0 };
	int ret = -1;

	if (opt_parse(run_opts, argc, argv, a, &positional, sources, why) < 0)
		goto done;
	if (positional.nr) {
		*why = xstrfmt("unexpected argument '%s'", positional.items[0]);
		goto done;
	}
	if (a->help) {
		ret = 0;
		goto done;
	}
	if (opt_apply_env(run_opts, a, sources, why) < 0)
		goto done;
	if (a->config && config_apply_file(a->config, run_opts, a, sources, why) < 0)
		goto done;
	set_default(a, sources, "repository", "library/alpine");
	set_default(a, sources, "tag", "latest");
	set_default(a, sources, "format", "text");
	set_default(a, sources, "timeout", "30");
	set_default(a, sources, "fail-on", "warn");
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
