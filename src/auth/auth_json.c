/*
 * auth_json: where containers' auth.json files are (podman, buildah,
 * skopeo). Their content is docker's config.json format and is read by
 * the resolver like one (docker_config.c).
 */
#include "auth/creds_internal.h"
#include "util/xalloc.h"

#include <stdlib.h>

size_t auth_json_paths(char *paths[AUTH_JSON_MAX_PATHS])
{
	const char *file = creds_getenv("REGISTRY_AUTH_FILE");
	const char *runtime = creds_getenv("XDG_RUNTIME_DIR");
	const char *config = creds_getenv("XDG_CONFIG_HOME");
	char *config_dir = NULL;
	size_t n = 0;

	if (file) {
		paths[n++] = xstrdup(file);
		return n;
	}
	if (runtime)
		paths[n++] = creds_join_path(runtime, "containers/auth.json");
	if (!config) {
		const char *home = creds_home_dir();

		if (!home)
			return n;
		config_dir = creds_join_path(home, ".config");
		config = config_dir;
	}
	paths[n++] = creds_join_path(config, "containers/auth.json");
	free(config_dir);
	return n;
}
