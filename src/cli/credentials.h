/*
 * credentials: the one credential resolver of the command line (run,
 * config and matrix), with one policy: a broken source (an unreadable
 * or empty password, a docker config that does not parse) is a usage
 * error, exit 3, before any request; a helper that cannot run is not (the
 * credentials check reports it, see auth/creds.h). It takes the
 * credentials group of cli/optgroups.h (--username, --password-stdin,
 * --password-file, --docker-config) from a resolved struct run_args and
 * looks the registry up in the sources of auth/creds.h. serve keeps its
 * modules' own rules.
 */
#ifndef OCIDOCTOR_CLI_CREDENTIALS_H
#define OCIDOCTOR_CLI_CREDENTIALS_H

#include "auth/creds.h"
#include "cli/settings.h"

struct cli_creds {
	const struct run_args *args;
	char **sources;
	char *password;       /* read once, wiped by cli_creds_close */
	char *origin;         /* where --username and the password came from */
	/*
	 * The "host[:port]" the login (--username and its password,
	 * OCI_USERNAME/OCI_PASSWORD) is for; other registries get only what
	 * docker's config.json and auth.json hold for them. NULL: every
	 * registry (run, which probes one). Borrowed.
	 */
	const char *login_host;
};

/* Reads the password (once, for every registry). EXIT_OK, or EXIT_USAGE said on stderr. */
int cli_creds_open(struct cli_creds *c, const struct run_args *a, char **sources);

/*
 * The credentials for one registry URL and repository into *out (which
 * cli_creds_close does not own: creds_release it). EXIT_OK, or
 * EXIT_USAGE said on stderr.
 */
int cli_creds_resolve(struct cli_creds *c, const char *registry, const char *repository,
		      struct creds *out);

void cli_creds_close(struct cli_creds *c);

#endif
