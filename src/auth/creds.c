/*
 * creds: the resolver. Finds the credential for a registry in the places
 * docker, podman and CI systems keep them, in the order creds.h gives;
 * each source is its own file: docker_config.c (config.json's auths and
 * which helper it names), cred_helper.c (running a helper, and the
 * per-process cache of its answers), auth_json.c (where containers'
 * auth.json files are). This file keeps the order, the flags and the
 * environment, and reads the files.
 *
 * Secrets pass through here, so: no message ever holds text from a
 * credential, a config value or a helper's output (JSON errors report a
 * line and column only); buffers that held a secret are wiped before they
 * are freed; and a helper is a child process with a time limit, a capped
 * stdout and its stderr sent to /dev/null.
 */
#include "auth/creds.h"
#include "auth/creds_internal.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>




const char *cred_source_name(enum cred_source s)
{
	switch (s) {
	case CRED_FLAG:
		return "flag";
	case CRED_ENV:
		return "env";
	case CRED_DOCKER_CONFIG:
		return "docker-config";
	case CRED_HELPER:
		return "helper";
	case CRED_AUTH_JSON:
		return "auth-json";
	case CRED_NONE:
		break;
	}
	return "none";
}

/* ---- the sources, in order ---- */

/* What creds_resolve carries from one source to the next. */
struct resolve {
	const struct creds_options *opts;
	struct creds *out;
	struct buf looked;
	char *helper_error; /* the first helper that could not run, for out->helper_error */
	char **why;
};

__attribute__((format(printf, 2, 3)))
static void add_looked(struct resolve *r, const char *fmt, ...)
{
	va_list ap;

	if (r->looked.len)
		buf_adds(&r->looked, ", ");
	va_start(ap, fmt);
	buf_vaddf(&r->looked, fmt, ap);
	va_end(ap);
}

/* Each source returns 1 when it found a credential, 0 when not, -1 on error. */
static int from_flags(struct resolve *r)
{
	const struct creds_options *o = r->opts;

	if (o->stored_only) {
		add_looked(r, "--username and OCI_USERNAME (given for another registry)");
		return 0;
	}
	if (o->username && !o->password)
		return creds_fail(r->why, "--username needs --password-stdin or --password-file");
	if (o->password && !o->username)
		return creds_fail(r->why, "--password-stdin needs --username");
	if (!o->username) {
		add_looked(r, "--username");
		return 0;
	}
	r->out->source = CRED_FLAG;
	r->out->username = xstrdup(o->username);
	r->out->password = xstrdup(o->password);
	r->out->origin = xstrdup(o->origin ? o->origin : "--username/--password-stdin");
	return 1;
}


int creds_env_given(void)
{
	return creds_getenv("OCI_USERNAME") || creds_getenv("OCI_PASSWORD");
}

static int from_env(struct resolve *r)
{
	const char *user = creds_getenv("OCI_USERNAME");
	const char *pass = creds_getenv("OCI_PASSWORD");

	if (r->opts->stored_only)
		return 0; /* from_flags named it */
	if (user && !pass)
		return creds_fail(r->why, "OCI_USERNAME is set but OCI_PASSWORD is not");
	if (pass && !user)
		return creds_fail(r->why, "OCI_PASSWORD is set but OCI_USERNAME is not");
	if (!user) {
		add_looked(r, "OCI_USERNAME/OCI_PASSWORD");
		return 0;
	}
	r->out->source = CRED_ENV;
	r->out->username = xstrdup(user);
	r->out->password = xstrdup(pass);
	r->out->origin = xstrdup("environment (OCI_USERNAME)");
	return 1;
}



/* Reads a config file: 1 when read, 0 when it does not exist, -1 on error. */
static int read_config(const char *path, struct buf *text, char **why)
{
	char chunk[4096];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int ret = -1;

	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return 0;
	if (fd < 0)
		return creds_fail(why, "cannot read %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		creds_fail(why, "cannot read %s: not a regular file", path);
		goto done;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			creds_fail(why, "cannot read %s: %s", path, strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		if (buf_add(text, chunk, (size_t)n) < 0) {
			creds_fail(why, "%s is larger than %zu MiB", path, CONFIG_MAX >> 20);
			goto done;
		}
	}
	ret = 1;
done:
	secret_wipe(chunk, sizeof(chunk));
	close(fd);
	return ret;
}

/* The server name a helper is asked about: docker's key for Docker Hub. */
static const char *helper_server(const char *host)
{
	return creds_is_docker_hub(host) ? DOCKER_INDEX_KEY : host;
}

/*
 * A helper that cannot run is not the end of the search: the registry may
 * need no login, or another source may have one. What went wrong is kept
 * for the credentials check, with the file that named the helper.
 */
static int from_helper(struct resolve *r, const char *path, const char *helper)
{
	const char *host = r->opts->registry_host;
	char *err = NULL;

	if (cred_helper_get(r->out, helper, helper_server(host), r->opts->helper_timeout_ms, &err) < 0) {
		creds_release(r->out);
		add_looked(r, "docker-credential-%s (cannot run)", helper);
		if (!r->helper_error)
			r->helper_error = xstrfmt("%s: %s", path, err ? err : "credential helper failed");
		free(err);
		return 0;
	}
	if (r->out->source != CRED_NONE)
		return 1;
	add_looked(r, "docker-credential-%s (not found)", helper);
	return 0;
}

/* One docker config.json or auth.json file. */
static int from_file(struct resolve *r, const char *path, enum cred_source source)
{
	struct buf text;
	char *helper = NULL;
	char *inner = NULL;
	int ret = -1;

	buf_init_secret(&text, CONFIG_MAX); /* auth values and identity tokens */
	ret = read_config(path, &text, r->why);
	if (ret <= 0) {
		if (ret == 0)
			add_looked(r, "%s (missing)", path);
		goto done;
	}
	ret = -1;
	if (creds_from_docker_config(r->out, &helper, text.data, r->opts->registry_host,
				     r->opts->repository, &inner) < 0) {
		creds_fail(r->why, "%s: %s", path, inner);
		goto done;
	}
	if (helper) {
		ret = from_helper(r, path, helper);
		goto done;
	}
	ret = r->out->source != CRED_NONE;
	if (ret) {
		r->out->source = source;
		free(r->out->origin);
		r->out->origin = xstrdup(path);
	} else {
		add_looked(r, "%s", path);
	}
done:
	free(inner);
	free(helper);
	buf_release(&text);
	return ret;
}

static int from_docker_config(struct resolve *r)
{
	char *path = docker_config_path(r->opts->docker_config);
	int ret;

	if (!path) {
		add_looked(r, "~/.docker/config.json (no home directory)");
		return 0;
	}
	ret = from_file(r, path, CRED_DOCKER_CONFIG);
	free(path);
	return ret;
}

static int from_auth_json(struct resolve *r)
{
	char *paths[AUTH_JSON_MAX_PATHS];
	size_t i, n = auth_json_paths(paths);
	int ret = 0;

	for (i = 0; i < n; i++) {
		if (ret == 0)
			ret = from_file(r, paths[i], CRED_AUTH_JSON);
		free(paths[i]);
	}
	return ret;
}

int creds_resolve(struct creds *out, const struct creds_options *opts, char **why)
{
	static int (*const sources[])(struct resolve *) = {
		from_flags, from_env, from_docker_config, from_auth_json
	};
	struct resolve r = { .opts = opts, .out = out, .why = why };
	size_t i;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (why)
		*why = NULL;
	if (!opts || !opts->registry_host || !opts->registry_host[0])
		return creds_fail(why, "no registry host to look up credentials for");
	buf_init(&r.looked, BUF_TEXT_MAX);
	for (i = 0; i < sizeof(sources) / sizeof(sources[0]) && ret == 0; i++)
		ret = sources[i](&r);
	if (ret < 0) {
		creds_release(out);
	} else if (ret == 0) {
		creds_release(out);
		out->looked = buf_detach(&r.looked);
		out->helper_error = r.helper_error;
		r.helper_error = NULL;
	}
	free(r.helper_error);
	buf_release(&r.looked);
	return ret < 0 ? -1 : 0;
}
