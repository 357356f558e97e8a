/*
 * optgroups: the option groups the subcommands share (git's OPT_* reuse).
 *
 * Each group is a run of struct opt entries, declared once here and
 * spliced into a command's table; ARG(field) is the command's offsetof
 * helper, so any settings struct with the same field names can use a
 * group. A default lives in the entry's .def only: --help, the manual and
 * `ocidoctor config` all read it from there. Which command uses which:
 *
 *   run, config   TARGET SELECTION OUTPUT CREDENTIALS TLS WRITES DIAGNOSTICS
 *   matrix        TARGET(defaults for the targets) SELECTION OUTPUT CREDENTIALS
 *                 TLS WRITES DIAGNOSTICS
 *   serve         HELP (its modules carry the rest: see serve/serve.h)
 */
#ifndef OCIDOCTOR_OPTGROUPS_H
#define OCIDOCTOR_OPTGROUPS_H

#include "cli/options.h"
#include "doctor/doctor.h"

extern const char *const opt_fail_on_values[];
extern const char *const opt_platform_values[];


/* The test repository and tag (for matrix: of a target that names none). */
#define OPT_GROUP_TARGET(ARG, REGISTRY_HIDDEN, WHOSE)                                          \
	{ .long_name = "registry", .type = OPT_STRING, .offset = ARG(registry), .arg = "URL",  \
	  .help = "registry: https://host[:port], http://host[:port] or host[:port] (= https; http with --plain-http); docker.io means https://registry-1.docker.io", \
	  .key = "registryUrl", .env = "OCI__RegistryUrl", .hidden = REGISTRY_HIDDEN },        \
	{ .long_name = "repository", .type = OPT_STRING, .offset = ARG(repository),           \
	  .arg = "NAME", .help = "test repository" WHOSE, .def = DOCTOR_DEFAULT_REPOSITORY,    \
	  .key = "testRepository", .env = "OCI__TestRepository" },                              \
	{ .long_name = "tag", .type = OPT_STRING, .offset = ARG(tag), .arg = "TAG",             \
	  .help = "test image tag or digest" WHOSE, .def = DOCTOR_DEFAULT_TAG,                 \
	  .key = "testTag", .env = "OCI__TestTag" }

/* Which checks run. */
#define OPT_GROUP_SELECTION(ARG)                                                               \
	{ .long_name = "check", .type = OPT_LIST, .offset = ARG(checks), .arg = "ID",          \
	  .help = "run only matching checks: an id, its last part (pull) or a glob (repeatable; default every check but the opt-in API table, apis)",         \
	  .key = "checks", .env = "OCIDOCTOR_CHECKS" },                                         \
	{ .long_name = "tags", .type = OPT_LIST, .offset = ARG(tags), .arg = "TAG,...",         \
	  .help = "run only checks with one of these tags (e.g. oci-1.1,registry)",            \
	  .key = "tags", .env = "OCIDOCTOR_TAGS" }

/* Where the report goes and what makes the exit status non-zero. */
#define OPT_GROUP_OUTPUT(ARG, WHAT)                                                            \
	{ .long_name = "output", .short_name = 'o', .type = OPT_STRING, .offset = ARG(output), \
	  .arg = "FILE", .help = "write the " WHAT " to FILE instead of stdout",                \
	  .key = "output", .env = "OCIDOCTOR_OUTPUT" },                                         \
	{ .long_name = "fail-on", .type = OPT_STRING, .offset = ARG(fail_on), .arg = "LEVEL",  \
	  .help = "the worst status that makes the exit status non-zero (warn exits 1, fail 2; JUnit shows what fails the run as failures)", \
	  .key = "failOn", .env = "OCIDOCTOR_FAIL_ON", .values = opt_fail_on_values,            \
	  .def = "warn" }

/* Where the credentials come from (resolved by cli/creds_source.h, one policy). */
#define OPT_GROUP_CREDENTIALS(ARG)                                                             \
	{ .long_name = "username", .type = OPT_STRING, .offset = ARG(username), .arg = "USER", \
	  .help = "user name; the password comes from --password-stdin or --password-file",    \
	  .key = "username", .env = "OCIDOCTOR_USERNAME" },                                     \
	{ .long_name = "password-stdin", .type = OPT_BOOL, .offset = ARG(password_stdin),      \
	  .help = "read the password or token from standard input" },                           \
	{ .long_name = "password-file", .type = OPT_STRING, .offset = ARG(password_file),      \
	  .arg = "FILE", .help = "read the password or token from FILE",                        \
	  .key = "passwordFile", .env = "OCIDOCTOR_PASSWORD_FILE" },                            \
	{ .long_name = "password", .type = OPT_STRING, .offset = ARG(password), .arg = "PASS",  \
	  .help = "refused: other users can read it in the process list", .hidden = 1 },        \
	{ .long_name = "docker-config", .type = OPT_STRING, .offset = ARG(docker_config),      \
	  .arg = "DIR", .help = "directory of docker's config.json (default $DOCKER_CONFIG or ~/.docker)", \
	  .key = "dockerConfig", .env = "OCIDOCTOR_DOCKER_CONFIG" }

/* TLS and plain HTTP. */
#define OPT_GROUP_TLS(ARG)                                                                     \
	{ .long_name = "ca-file", .type = OPT_STRING, .offset = ARG(ca_file), .arg = "PEM",    \
	  .help = "trust this CA bundle as well as the system's",                              \
	  .key = "caFile", .env = "OCIDOCTOR_CA_FILE" },                                        \
	{ .long_name = "cert", .type = OPT_STRING, .offset = ARG(cert), .arg = "PEM",           \
	  .help = "client certificate for TLS (with --key)", .key = "cert",                    \
	  .env = "OCIDOCTOR_CERT" },                                                            \
	{ .long_name = "key", .type = OPT_STRING, .offset = ARG(key), .arg = "PEM",             \
	  .help = "the client certificate's private key", .key = "key", .env = "OCIDOCTOR_KEY" }, \
	{ .long_name = "insecure", .type = OPT_BOOL, .offset = ARG(insecure),                  \
	  .help = "skip TLS certificate verification (the report says so)",                    \
	  .key = "insecure", .env = "OCIDOCTOR_INSECURE" },                                     \
	{ .long_name = "plain-http", .type = OPT_BOOL, .offset = ARG(plain_http),              \
	  .help = "talk plain HTTP: a registry given as host[:port] means http://host[:port]", \
	  .key = "plainHttp", .env = "OCIDOCTOR_PLAIN_HTTP" }

/* The deadline (per run; for matrix per target). */
#define OPT_GROUP_TIMEOUT(ARG, WHAT, MAX)                                                      \
	{ .long_name = "timeout", .type = OPT_LONG, .offset = ARG(timeout), .arg = "SECONDS",  \
	  .help = "deadline for " WHAT, .def = "30",                         \
	  .key = "timeout", .env = "OCIDOCTOR_TIMEOUT", .max = MAX }

/* What a run may write to the registry. */
#define OPT_GROUP_WRITES(ARG)                                                                  \
	{ .long_name = "scratch-repository", .type = OPT_STRING, .offset = ARG(scratch),       \
	  .arg = "NAME", .help = "repository for write probes (default: the test repository for push, NAMESPACE/ocidoctor-scratch, the same for every run, for the capability probes and --writes verify)", \
	  .key = "scratchRepository", .env = "OCIDOCTOR_SCRATCH_REPOSITORY" },                  \
	{ .long_name = "writes", .type = OPT_STRING, .offset = ARG(writes), .arg = "MODE",     \
	  .help = "what the run may write: none (no probe writes), probe (upload sessions that are cancelled, the mount and delete probes) or verify (also push an artifact and its subject to the scratch repository, find them, and delete them)", \
	  .key = "writes", .env = "OCIDOCTOR_WRITES", .values = doctor_writes_names,             \
	  .def = "probe" },                                                                     \
	{ .long_name = "no-writes", .type = OPT_BOOL, .offset = ARG(no_writes),                \
	  .help = "the same as --writes none",                                                 \
	  .key = "noWrites", .env = "OCIDOCTOR_NO_WRITES" },                                    \
	{ .long_name = "keep-artifacts", .type = OPT_BOOL, .offset = ARG(keep_artifacts),      \
	  .help = "with --writes verify: push even when deletes are not shown to work, and leave what was pushed (listed with how to remove it)", \
	  .key = "keepArtifacts", .env = "OCIDOCTOR_KEEP_ARTIFACTS" }

#define OPT_GROUP_HELP(ARG)                                                                    \
	{ .long_name = "help", .short_name = 'h', .type = OPT_BOOL, .offset = ARG(help),       \
	  .help = "show this help" }

/* Tracing, the config file and help. */
#define OPT_GROUP_DIAGNOSTICS(ARG)                                                             \
	{ .long_name = "verbose", .short_name = 'v', .type = OPT_BOOL, .offset = ARG(verbose), \
	  .help = "trace every HTTP exchange on stderr, secrets redacted" },                   \
	{ .long_name = "trace", .type = OPT_BOOL, .offset = ARG(verbose),                      \
	  .help = "the same as --verbose" },                                                   \
	{ .long_name = "config", .type = OPT_STRING, .offset = ARG(config), .arg = "FILE",     \
	  .help = "read settings from a YAML file (its oci: section)", .env = "OCIDOCTOR_CONFIG" }, \
	OPT_GROUP_HELP(ARG)

#endif
