/*
 * credentials: see credentials.h.
 */
#include "cli/credentials.h"
#include "cli/cli.h"
#include "engine/registry.h"
#include "util/buf.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
static char *password_from(const struct run_args *a, int *err)
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
	const char *user = sources[opt_index(a->opts, "username")];
	const char *pass = a->password_stdin ? "--password-stdin"
					     : sources[opt_index(a->opts, "password-file")];

	if (user && !strncmp(user, "flag ", 5) && pass && !strncmp(pass, "flag ", 5))
		return xstrfmt("--username/--password-file");
	if (user && !strncmp(user, "flag ", 5) && a->password_stdin)
		return xstrfmt("--username/--password-stdin");
	return xstrfmt("username from %s, password from %s", user ? user : "?", pass ? pass : "?");
}

int cli_creds_open(struct cli_creds *c, const struct run_args *a, char **sources)
{
	memset(c, 0, sizeof(*c));
	c->args = a;
	c->sources = sources;
	if (a->password_stdin || a->password_file) {
		const char *from = a->password_stdin ? "standard input" : a->password_file;
		int err = 0;

		c->password = password_from(a, &err);
		if (!c->password)
			return cli_usage_error("cannot read the password from %s: %s", from,
					       strerror(err));
		if (!*c->password)
			return cli_usage_error("the password from %s is empty", from);
	}
	if (a->username)
		c->origin = creds_origin(a, sources);
	return EXIT_OK;
}

int cli_creds_resolve(struct cli_creds *c, const char *registry, const char *repository,
		      struct creds *out)
{
	struct registry_url u;
	struct creds_options co = { 0 };
	char *why = NULL, *host;
	int ret = EXIT_OK;

	memset(out, 0, sizeof(*out));
	if (registry_url_parse(&u, registry, NULL) < 0)
		return EXIT_USAGE;
	host = registry_url_hostport(&u);
	if (c->login_host && strcmp(c->login_host, host)) {
		co.stored_only = 1;
	} else {
		co.username = c->args->username;
		co.password = c->password;
	}
	co.docker_config = c->args->docker_config;
	co.registry_host = host;
	co.repository = repository;
	co.origin = c->origin;
	if (creds_resolve(out, &co, &why) < 0)
		ret = cli_usage_error("%s", why);
	free(why);
	free(host);
	registry_url_release(&u);
	return ret;
}

void cli_creds_close(struct cli_creds *c)
{
	secret_free(c->password);
	free(c->origin);
	memset(c, 0, sizeof(*c));
}
