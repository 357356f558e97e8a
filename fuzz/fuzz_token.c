/* Fuzzes the token endpoint's answer (engine/registry.c). */
#include "engine/registry.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	free(registry_parse_token((const char *)data, size));
	return 0;
}
