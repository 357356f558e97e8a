/* Fuzzes docker config.json, containers auth.json and helper output (auth/creds.c). */
#include "auth/creds.h"
#include "fuzz/fuzz.h"

/* Looks one host up in the config text, releasing everything it got. */
static void look_up(const char *text, const char *host)
{
	struct creds c = { 0 };
	char *helper = NULL, *why = NULL;

	creds_from_docker_config(&c, &helper, text, host, "library/alpine", &why);
	creds_release(&c);
	free(helper);
	free(why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	struct creds c = { 0 };
	char *why = NULL;

	look_up(s, "registry.example:5000");
	look_up(s, "docker.io");
	creds_from_helper_output(&c, s, &why);
	creds_release(&c);
	free(why);
	free(s);
	return 0;
}
