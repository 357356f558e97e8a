/* Fuzzes the YAML config file reader (cli/config.c). */
#include "cli/config.h"
#include "cli/settings.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run_args a = { 0 };
	char *sources[SOURCE_MAX] = { 0 };
	char *why = NULL;

	config_apply_text("fuzz.yaml", (const char *)data, size, run_opts, &a, sources, &why);
	free(why);
	run_args_release(&a, sources);
	return 0;
}
