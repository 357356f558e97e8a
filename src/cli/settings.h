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
	long timeout;
	char *scratch;
	char *writes;           /* none, probe or verify (--no-writes is none) */
	int no_writes;          /* writes is none */
	int keep_artifacts;
	int no_color;
	int verbose;
	char *config;
	int help;
};

extern const struct opt run_opts[];

/* The number of entries in run_opts, without the end marker. */
size_t run_opts_count(void);

/*
 * Fills *a from argv, the environment, the config file (--config, or
 * OCIDOCTOR_CONFIG) and the defaults, in that order of precedence;
 * sources gets one newly allocated string per setting that has a value.
 * Positional arguments are refused. Returns 0, or -1 with *why.
 */
int run_args_resolve(struct run_args *a, char **sources, int argc, char **argv, char **why);
void run_args_release(struct run_args *a, char **sources);

#endif
