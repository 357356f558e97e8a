/* Fuzzes the token endpoint's answer (engine/registry.c). */
#include "auth/token.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	free(token_parse((const char *)data, size));
	return 0;
}
