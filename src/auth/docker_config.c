/*
 * docker_config: docker's config.json as a credential source: which
 * `auths` key matches the registry (and repository), the entry's base64
 * "user:password" or identity token, and the credential helper the file
 * names for the host (credHelpers, else credsStore). Also the file's
 * place: --docker-config DIR, else $DOCKER_CONFIG, else ~/.docker.
 * Messages never hold a value from the file (JSON errors: line and column).
 */
#include "auth/creds.h"
#include "auth/creds_internal.h"
#include "util/buf.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>

/* ---- matching config keys against the registry ---- */


/* An auths or credHelpers key taken apart. */
struct key_parts {
	const char *host;
	size_t host_len;
	const char *path; /* namespace/repo of an auth.json key, without slashes at the ends */
	size_t path_len;
};

/*
 * Splits a key. A key with a scheme ("https://host/v1/") is docker's form
 * and loses its path; a key without one may be "host/namespace/repo", except
 * that a bare "/v1" or "/v2" path is an API version, not a namespace.
 */
static void split_key(const char *key, struct key_parts *kp)
{
	const char *s = key;
	int had_scheme = 0;

	if (!strncasecmp(s, "https://", 8)) {
		s += 8;
		had_scheme = 1;
	} else if (!strncasecmp(s, "http://", 7)) {
		s += 7;
		had_scheme = 1;
	}
	kp->host = s;
	kp->host_len = strcspn(s, "/");
	kp->path = s + kp->host_len;
	while (*kp->path == '/')
		kp->path++;
	kp->path_len = strlen(kp->path);
	while (kp->path_len && kp->path[kp->path_len - 1] == '/')
		kp->path_len--;
	if (had_scheme ||
	    (kp->path_len == 2 && (!strncmp(kp->path, "v1", 2) || !strncmp(kp->path, "v2", 2))))
		kp->path_len = 0;
}

/* Does the key name `host` (or, for Docker Hub, one of its aliases)? */
static int key_host_matches(const struct key_parts *kp, const char *host)
{
	static const char *const hub[] = { "docker.io", "index.docker.io", "registry-1.docker.io" };
	size_t i;

	if (kp->host_len == strlen(host) && !strncasecmp(kp->host, host, kp->host_len))
		return 1;
	if (!creds_is_docker_hub(host))
		return 0;
	for (i = 0; i < sizeof(hub) / sizeof(hub[0]); i++)
		if (kp->host_len == strlen(hub[i]) && !strncasecmp(kp->host, hub[i], kp->host_len))
			return 1;
	return 0;
}

/* Does the key match host plus the first path_len bytes of repository? */
static int key_matches(const char *key, const char *host, const char *repository, size_t path_len)
{
	struct key_parts kp;

	split_key(key, &kp);
	if (!key_host_matches(&kp, host))
		return 0;
	if (kp.path_len != path_len)
		return 0;
	return !path_len || !strncmp(kp.path, repository, path_len);
}

/* ---- auths entries ---- */

static int b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* Strict standard base64 with padding, as Go's encoding/base64 writes it. */
static int b64_valid(const char *s, size_t len, size_t *pad)
{
	size_t i;

	*pad = 0;
	if (len == 0 || len % 4 || len > AUTH_B64_MAX)
		return 0;
	while (*pad < 2 && s[len - 1 - *pad] == '=')
		(*pad)++;
	for (i = 0; i < len - *pad; i++)
		if (!b64_char((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Decodes `auth` (base64 "user:password", split at the first ':'). */
static int decode_auth(const char *b64, char **user, char **pass)
{
	size_t len = strnlen(b64, AUTH_B64_MAX + 1);
	size_t pad;
	unsigned char *raw;
	const unsigned char *colon;
	int n;
	int ret = -1;

	if (!b64_valid(b64, len, &pad))
		return -1;
	raw = xmalloc(len / 4 * 3 + 1);
	n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len);
	if (n < 0 || (size_t)n < pad)
		goto done;
	n -= (int)pad;
	if (memchr(raw, '\0', (size_t)n))
		goto done;
	colon = memchr(raw, ':', (size_t)n);
	if (!colon)
		goto done;
	*user = xstrndup((const char *)raw, (size_t)(colon - raw));
	*pass = xstrndup((const char *)colon + 1, (size_t)n - (size_t)(colon - raw) - 1);
	ret = 0;
done:
	secret_wipe(raw, len / 4 * 3 + 1);
	free(raw);
	return ret;
}


/*
 * Fills out from one auths entry. Returns 1 when it holds a credential,
 * 0 when it holds none (an empty placeholder), -1 when it is broken.
 */
static int fill_from_entry(struct creds *out, json_t *entry, const char *host, char **why)
{
	const char *auth, *token;

	if (!json_is_object(entry))
		return creds_fail(why, "auths entry for %s is not an object", host);
	if (creds_json_string(entry, "auth", &auth) < 0 || creds_json_string(entry, "identitytoken", &token) < 0)
		return creds_fail(why, "auths entry for %s has a value that is not a string", host);
	if ((!auth || !auth[0]) && (!token || !token[0]))
		return 0;
	if (auth && auth[0] && decode_auth(auth, &out->username, &out->password) < 0)
		return creds_fail(why, "auths entry for %s has an invalid auth value (want base64 of user:password)",
			    host);
	if (token && token[0])
		out->identity_token = xstrdup(token);
	out->source = CRED_DOCKER_CONFIG;
	out->origin = xstrdup("docker config");
	return 1;
}

/* Length of the repository prefix one level up from `len`. */
static size_t parent_len(const char *repository, size_t len)
{
	while (len > 0 && repository[len - 1] != '/')
		len--;
	return len ? len - 1 : 0;
}

/*
 * Looks the registry up in `auths`, most specific key first: host/a/b/c,
 * host/a/b, host/a, then host. Returns 1, 0 or -1 as fill_from_entry.
 */
static int lookup_auths(struct creds *out, json_t *auths, const char *host,
			const char *repository, char **why)
{
	size_t len = repository ? strnlen(repository, 256) : 0;

	if (!json_is_object(auths))
		return creds_fail(why, "auths is not an object");
	if (len > 255)
		len = 0;
	for (;;) {
		const char *key;
		json_t *entry;

		json_object_foreach(auths, key, entry) {
			int rc;

			if (!key_matches(key, host, repository, len))
				continue;
			rc = fill_from_entry(out, entry, host, why);
			if (rc != 0)
				return rc;
		}
		if (len == 0)
			return 0;
		len = parent_len(repository, len);
	}
}

/* ---- credential helpers named in the config ---- */

static int helper_name_valid(const char *name)
{
	size_t i;

	if (!name[0] || strnlen(name, HELPER_NAME_MAX + 1) > HELPER_NAME_MAX)
		return 0;
	for (i = 0; name[i]; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/*
 * Finds the helper for the host: credHelpers[host], else credsStore.
 * Sets *helper (newly allocated) or leaves it NULL.
 */
static int lookup_helper(json_t *root, const char *host, char **helper, char **why)
{
	json_t *helpers = json_object_get(root, "credHelpers");
	const char *name = NULL;
	const char *key;
	json_t *v;

	if (helpers && !json_is_object(helpers))
		return creds_fail(why, "credHelpers is not an object");
	json_object_foreach(helpers, key, v) {
		if (!key_matches(key, host, NULL, 0))
			continue;
		if (!json_is_string(v))
			return creds_fail(why, "credHelpers entry for %s is not a string", host);
		name = json_string_value(v);
		if (name[0])
			break;
	}
	if ((!name || !name[0]) && creds_json_string(root, "credsStore", &name) < 0)
		return creds_fail(why, "credsStore is not a string");
	if (!name || !name[0])
		return 0;
	if (!helper_name_valid(name))
		return creds_fail(why, "credential helper name for %s is not valid", host);
	*helper = xstrdup(name);
	return 0;
}

int creds_from_docker_config(struct creds *out, char **helper, const char *json_text,
			     const char *host, const char *repository, char **why)
{
	json_error_t err;
	json_t *root = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	*helper = NULL;
	if (why)
		*why = NULL;
	if (!json_text || !host || !host[0])
		return creds_fail(why, "no config text or registry host");
	root = json_loads(json_text, 0, &err);
	if (!root) {
		/* err.text may quote the file, and so a secret: line and column only */
		creds_fail(why, "invalid JSON at line %d column %d", err.line, err.column);
		goto done;
	}
	if (!json_is_object(root)) {
		creds_fail(why, "not a JSON object");
		goto done;
	}
	if (lookup_helper(root, host, helper, why) < 0)
		goto done;
	if (*helper || !json_object_get(root, "auths")) {
		ret = 0;
		goto done;
	}
	if (lookup_auths(out, json_object_get(root, "auths"), host, repository, why) < 0)
		goto done;
	ret = 0;
done:
	if (ret < 0)
		creds_release(out);
	json_decref(root);
	return ret;
}

char *docker_config_path(const char *dir)
{
	char *docker_dir = NULL, *path;

	if (!dir || !dir[0])
		dir = creds_getenv("DOCKER_CONFIG");
	if (!dir) {
		const char *home = creds_home_dir();

		if (!home)
			return NULL;
		docker_dir = creds_join_path(home, ".docker");
		dir = docker_dir;
	}
	path = creds_join_path(dir, "config.json");
	free(docker_dir);
	return path;
}
