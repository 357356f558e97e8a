/* Fuzzes docker config.json, containers auth.json and helper output (auth/creds.c). */
#include "auth/creds.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	struct creds c = { 0 };
	char *helper = NULL, *why = NULL;

	creds_from_docker_config(&c, &helper, s, "registry.example:5000", "library/alpine", &why);
	creds_release(&c);
	free(helper);
	free(why);
	helper = NULL;
	why = NULL;
	memset(&c, 0, sizeof(c));
	creds_from_docker_config(&c, &helper, s, "docker.io", "library/alpine", &why);
	creds_release(&c);
	free(helper);
	free(why);
	helper = NULL;
	why = NULL;
	memset(&c, 0, sizeof(c));
	creds_from_helper_output(&c, s, &why);
	creds_release(&c);
	free(why);
	free(s);
	return 0;
}
