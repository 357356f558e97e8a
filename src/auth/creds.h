/*
 * creds: where the credentials for a registry come from.
 *
 * Sources, in the order they are tried (the first that yields a
 * credential wins):
 *  1. the command line: --username with --password-stdin      (CRED_FLAG)
 *  2. the environment: OCI_USERNAME and OCI_PASSWORD          (CRED_ENV)
 *     (1 and 2 are skipped with stored_only: a login given for another
 *     registry of a matrix run)
 *  3. docker's config.json: --docker-config DIR, else $DOCKER_CONFIG,
 *     else ~/.docker                                          (CRED_DOCKER_CONFIG)
 *     - credHelpers[host] first, then credsStore, through
 *       `docker-credential-NAME get` (server on stdin, JSON on stdout)
 *                                                             (CRED_HELPER)
 *     - else auths[key].auth (base64 "user:password") or
 *       auths[key].identitytoken
 *  4. containers' auth.json: $REGISTRY_AUTH_FILE alone when set, else
 *     $XDG_RUNTIME_DIR/containers/auth.json, then (when that has no
 *     credential) $XDG_CONFIG_HOME/containers/auth.json (~/.config when unset)
 *                                                             (CRED_AUTH_JSON)
 *
 * Keys in `auths` match the registry host[:port] given as "host[:port]",
 * "https://host[:port]", "http://host[:port]" or with a trailing path
 * ("https://host/v1/"); for docker.io hosts the key
 * "https://index.docker.io/v1/" is used too. Keys of the form
 * "host/namespace/repo" (no scheme) match the repository, most specific
 * first; an entry without auth or identitytoken is skipped. A helper that
 * answers "credentials not found" yields nothing and the search goes on.
 * A helper that cannot run (not installed, failed, timed out, answered
 * nonsense) is no error of the resolver either: the search goes on, and
 * when nothing else has a credential, creds.helper_error says which file
 * named which helper and why it failed. The credentials check turns it
 * into an error when the registry asks for a login and a warning when not.
 *
 * A helper's answer (or failure) is cached per process for each
 * (helper, server) pair, for five minutes: `matrix` and `serve` probing
 * many targets on one host run the helper once for it, not once per
 * target (auth/creds_internal.h, cred_helper_get).
 *
 * The sources live in one file each: docker_config.c, cred_helper.c,
 * auth_json.c; creds.c is the resolver and keeps the order above; what
 * they share is in creds_common.c, which the sources call and nothing
 * else of src/auth.
 *
 * A credential helper is run with a 10 second limit (helper_timeout_ms),
 * its stdout capped at 64 KiB; its error text is never copied into messages (it may echo
 * secrets), only its exit status. It inherits no descriptor but its
 * standard streams, and its exit ends the read of its stdout (a process it
 * left behind may hold that open).
 */
#ifndef OCIDOCTOR_CREDS_H
#define OCIDOCTOR_CREDS_H

enum cred_source {
	CRED_NONE = 0,
	CRED_FLAG,
	CRED_ENV,
	CRED_DOCKER_CONFIG,
	CRED_HELPER,
	CRED_AUTH_JSON
};

struct creds {
	enum cred_source source;
	char *username;       /* NULL with an identity token from a helper ("<token>") */
	char *password;       /* NULL when only an identity token is known */
	char *identity_token; /* OAuth2 refresh token, or NULL */
	char *origin;         /* where it came from, without secrets:
	                         "--username/--password-stdin", "environment (OCI_USERNAME)",
	                         "/root/.docker/config.json", "docker-credential-pass",
	                         "/run/user/0/containers/auth.json" */
	char *looked;         /* when source is CRED_NONE: the places looked at, for the
	                         credentials check's skip message; NULL otherwise */
	char *helper_error;   /* when source is CRED_NONE and a config file named a
	                         credential helper that could not run: the file, the
	                         helper and why ("/root/.docker/config.json: credential
	                         helper docker-credential-desktop is not installed (not
	                         found on PATH)"); NULL otherwise */
};

/* Inputs for creds_resolve; all may be NULL. */
struct creds_options {
	const char *username;        /* --username */
	const char *password;        /* read from stdin when --password-stdin */
	const char *docker_config;   /* --docker-config DIR */
	const char *registry_host;   /* "host" or "host:port" of the registry (required) */
	const char *repository;      /* for auth.json path keys */
	const char *origin;          /* where username and password came from, for messages;
	                                NULL: "--username/--password-stdin" */
	int stored_only;             /* skip sources 1 and 2 (a login given for another
	                                registry: matrix --credentials-for); look only in
	                                docker's config.json and auth.json */
	long helper_timeout_ms;      /* a credential helper's time limit; 0: 10 seconds */
};

/*
 * Fills *out from the first source that has a credential for the
 * registry. Returns 0 when a credential was found or none exists
 * (out->source == CRED_NONE, with out->helper_error when a helper could not
 * run), -1 on a broken source (unreadable or invalid JSON, bad base64,
 * half a login in the flags or the environment); then *why holds a
 * newly allocated one-line message that names the file or helper but no
 * secret. The environment is read with getenv().
 */
int creds_resolve(struct creds *out, const struct creds_options *opts, char **why);
/* 1 when OCI_USERNAME or OCI_PASSWORD is set (not empty): a login in the environment. */
int creds_env_given(void);
void creds_release(struct creds *c);
const char *cred_source_name(enum cred_source s);

/* Parsing used by creds_resolve, exposed for the unit tests and fuzzers. */

/* Looks up `host` in a docker config.json text; fills out (source
 * CRED_DOCKER_CONFIG, origin "docker config" until the caller names the
 * file) or leaves it CRED_NONE. When the config names a helper for the host
 * (credHelpers, else credsStore), sets *helper to a newly allocated helper
 * name ([A-Za-z0-9._-], at most 64) and returns 0 without filling out.
 * Returns -1 on invalid JSON, a member of the wrong type, a bad helper
 * name or a bad `auth` value (*why as above, naming no secret). */
int creds_from_docker_config(struct creds *out, char **helper, const char *json_text,
			     const char *host, const char *repository, char **why);

/* Parses a credential helper's stdout ({"Username","Secret"}; source
 * CRED_HELPER). An empty Secret is no credential (CRED_NONE, 0); output
 * that is not such an object is -1. */
int creds_from_helper_output(struct creds *out, const char *json_text, char **why);

#endif
