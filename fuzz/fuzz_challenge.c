/* Fuzzes WWW-Authenticate parsing (auth/challenge.c). */
#include "auth/challenge.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	struct challenge c;

	if (challenge_parse(&c, s) == 0)
		challenge_release(&c);
	free(s);
	return 0;
}
