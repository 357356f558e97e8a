/*
 * settings: the settings of a doctor run and where each comes from.
 *
 * One table (run_opts) declares every setting once: its flag, its
 * environment variable and its config-file key. Precedence is
 * flags > environment > config file > defaults; `ocidoctor config`
 * prints the result with the source of each value.
 */
#ifndef OCIDOCTOR_SETTINGS_H
#define OCIDOCTOR_SETTINGS_H

#include "cli/options.h"

struct run_args {
	char *image;            /* REGISTRY/REPO[:TAG|@DIGEST], split into the next three */
	char *registry;
	char *repository;
	char *tag;
	struct opt_list checks;
	struct opt_list tags;
	char *format;
	char *output;
	char *fail_on;
	char *username;
	int password_stdin;
	char *password_file;
	char *password;         /* refused when given */
	char *docker_config;
	char *ca_file;
	char *cert;
	char *key;
	int insecure;
	int plain_http;
	char *platform;
	long timeout;
	char *scratch;
	char *writes;           /* none, probe or verify (--no-writes is none) */
	int no_writes;          /* writes is none */
	int keep_artifacts;
	int no_color;
	int verbose;
	char *config;
	int help;
	/* matrix */
	char *targets;
	char *credentials_for;  /* the host[:port] the login is for */
	long parallel;
	int progress;
	int no_progress;
	const struct opt *opts; /* the table it was resolved with (run_opts, matrix_opts) */
	int image_registry_only; /* the image named a registry alone: repository and tag
	                            come from their options or defaults (said on stderr) */
};

/* The longest --timeout, in seconds: a day (so timeout * 1000 cannot overflow). */
#define TIMEOUT_MAX_SECONDS 86400L
/* The largest matrix --parallel. */
#define MATRIX_MAX_PARALLEL 256

/*
 * The option tables of run (and config) and of matrix, built from the
 * shared groups of cli/optgroups.h; both fill a struct run_args.
 */
extern const struct opt run_opts[];
extern const struct opt matrix_opts[];

/* The number of entries in run_opts (or opts), without the end marker. */
size_t run_opts_count(void);
size_t settings_opts_count(const struct opt *opts);

/*
 * The settings path of every front end that takes flags: fills *a from
 * argv, the environment, the config file and the table's defaults, by
 * opts (run_opts or matrix_opts), as run_args_resolve below does. a->opts
 * remembers the table for the functions that follow.
 */
int settings_resolve(const struct opt *opts, struct run_args *a, char **sources, int argc,
		     char **argv, char **why);
/* run_args_validate for either table; for matrix_opts the registry comes from --targets. */
int settings_validate(struct run_args *a, char **sources, int *selected);
/*
 * The start every front end with flags shares: settings_resolve, --help
 * (the command's usage from its table), settings_validate and the client
 * certificate pair, all before any request. Returns 0 to go on, or -1
 * with *status the exit status to end with (EXIT_OK after --help).
 */
struct command;
int settings_prepare(const struct command *cmd, struct run_args *a, char **sources, int argc,
		     char **argv, int *selected, int *status);
/* run_setting_name for either table. */
char *settings_name(const struct opt *opts, char **sources, const char *long_name);

/*
 * Fills *a from argv, the environment, the config file (--config, or
 * OCIDOCTOR_CONFIG) and the defaults, in that order of precedence;
 * sources gets one newly allocated string per setting that has a value.
 * One positional argument is taken as --image; an image reference (either
 * way) sets the registry, repository and tag, and cannot go with flags for
 * them. Returns 0, or -1 with *why.
 */
int run_args_resolve(struct run_args *a, char **sources, int argc, char **argv, char **why);
void run_args_release(struct run_args *a, char **sources);

/*
 * How a message names a setting, by where its value came from: "--NAME"
 * for a flag (and a default), "OCI__RegistryUrl" for the environment
 * (spelt as found), "FILE:LINE: oci.registryUrl" for the config file.
 * Newly allocated.
 */
char *run_setting_name(char **sources, const char *long_name);

/*
 * Checks every setting a run would refuse without sending a request: the
 * registry, repository, tag and scratch names, the format, --fail-on,
 * --platform, the TLS files (readable), the password file (readable),
 * the combinations, and the check selection, filling selected[] (one per
 * check in check_table). Normalises the registry to the address probed
 * (with --plain-http, http://). Prints one line on stderr and returns
 * EXIT_USAGE, or returns EXIT_OK.
 */
int run_args_validate(struct run_args *a, char **sources, int *selected);

#endif
