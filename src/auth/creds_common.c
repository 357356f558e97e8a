/*
 * creds_common: what the credential sources (docker_config.c,
 * cred_helper.c, auth_json.c) and the resolver (creds.c) share: messages,
 * the environment, paths, JSON members, and releasing a credential. The
 * bottom of src/auth's credential files: it calls none of them, the
 * sources call only it, and only the resolver calls the sources.
 */
#include "auth/creds.h"
#include "auth/creds_internal.h"
#include "util/buf.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Sets *why (when why is not NULL) to a formatted message; returns -1. */
int creds_fail(char **why, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	if (!why)
		return -1;
	buf_init(&b, BUF_TEXT_MAX);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	free(*why);
	*why = buf_detach(&b);
	return -1;
}

void creds_release(struct creds *c)
{
	if (!c)
		return;
	secret_free(c->username);
	secret_free(c->password);
	secret_free(c->identity_token);
	free(c->origin);
	free(c->looked);
	free(c->helper_error);
	memset(c, 0, sizeof(*c));
}

const char *creds_getenv(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? v : NULL;
}

/* $HOME, else the password database; NULL when neither knows. */
const char *creds_home_dir(void)
{
	const char *home = creds_getenv("HOME");
	struct passwd *pw;

	if (home)
		return home;
	pw = getpwuid(getuid());
	return pw && pw->pw_dir && pw->pw_dir[0] ? pw->pw_dir : NULL;
}

/* dir + "/" + file, without doubling the slash. */
char *creds_join_path(const char *dir, const char *file)
{
	size_t len = strlen(dir);

	while (len > 1 && dir[len - 1] == '/')
		len--;
	return xstrfmt("%.*s/%s", (int)len, dir, file);
}

int creds_is_docker_hub(const char *host)
{
	return !strcasecmp(host, "docker.io") || !strcasecmp(host, "index.docker.io") ||
	       !strcasecmp(host, "registry-1.docker.io");
}

/* Reads an optional string member; -1 when it is there but not a string. */
int creds_json_string(json_t *obj, const char *name, const char **out)
{
	json_t *v = json_object_get(obj, name);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = json_string_value(v);
	return 0;
}
