/*
 * creds_internal: what the credential sources (docker_config.c,
 * cred_helper.c, auth_json.c) and the resolver (creds.c) share
 * (creds_common.c), and the sources the resolver calls. Not for use
 * outside src/auth/, except by the unit tests.
 */
#ifndef OCIDOCTOR_CREDS_INTERNAL_H
#define OCIDOCTOR_CREDS_INTERNAL_H

#include "auth/creds.h"

#include <jansson.h>
#include <stddef.h>

#define CONFIG_MAX ((size_t)4 << 20)
#define HELPER_OUT_MAX ((size_t)64 << 10)
#define HELPER_TIMEOUT_MS 10000      /* a helper's time limit unless creds_options says */
#define HELPER_NAME_MAX 64
#define HOST_MAX 1024
#define AUTH_B64_MAX ((size_t)64 << 10)
#define DOCKER_INDEX_KEY "https://index.docker.io/v1/"

/* Sets *why (when why is not NULL) to a newly allocated formatted message; returns -1. */
__attribute__((format(printf, 2, 3)))
int creds_fail(char **why, const char *fmt, ...);
/* Whether host is Docker Hub's (docker.io, index.docker.io, registry-1.docker.io). */
int creds_is_docker_hub(const char *host);
/* getenv, with an empty value counting as unset. */
const char *creds_getenv(const char *name);
/* $HOME, else the password database; NULL when neither knows. */
const char *creds_home_dir(void);
/* dir + "/" + file, without doubling the slash. Newly allocated. */
char *creds_join_path(const char *dir, const char *file);

/* An optional string member of a JSON object (*out NULL when absent); -1 when not a string. */
int creds_json_string(json_t *obj, const char *name, const char **out);

/* docker_config.c: config.json in DIR (--docker-config), $DOCKER_CONFIG or
 * ~/.docker; newly allocated, NULL when there is no home directory. */
char *docker_config_path(const char *dir);

/* auth_json.c: the auth.json files to try, in order (newly allocated,
 * at most AUTH_JSON_MAX_PATHS); the first that has a credential wins. */
#define AUTH_JSON_MAX_PATHS 2
size_t auth_json_paths(char *paths[AUTH_JSON_MAX_PATHS]);

/*
 * cred_helper.c: `docker-credential-NAME get` for server. Returns 0 with
 * out filled (out->source CRED_HELPER), or left CRED_NONE when the helper
 * knows no credential; -1 with *why on error. out must be empty.
 *
 * cred_helper_get answers from a per-process cache keyed by (NAME,
 * server): the first caller runs the helper, callers asking for the same
 * key meanwhile wait for its answer, and later callers get a copy of it
 * (failures included) for CRED_HELPER_CACHE_TTL_MS, after which the next
 * caller runs the helper again (a long-running `serve` sees rotated
 * credentials). Safe from any thread. cred_helper_run always runs it.
 */
#define CRED_HELPER_CACHE_TTL_MS (5L * 60 * 1000)
/* timeout_ms: the helper's time limit; 0 for HELPER_TIMEOUT_MS. */
int cred_helper_get(struct creds *out, const char *name, const char *server, long timeout_ms,
		    char **why);
int cred_helper_run(struct creds *out, const char *name, const char *server, long timeout_ms,
		    char **why);
/* Helper processes started so far by this process, and forgetting every cached answer (tests). */
long cred_helper_runs(void);
void cred_helper_cache_clear(void);

#endif
