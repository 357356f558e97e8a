/* Fuzzes names, tags, digests, image references (util/ref.c) and Range headers (checks/verdict.c). */
#include "checks/verdict.h"
#include "fuzz/fuzz.h"
#include "util/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	struct image_ref ref;

	if (image_ref_parse(&ref, s, NULL) == 0)
		image_ref_release(&ref);
	repository_name_valid(s, NULL);
	tag_valid(s, NULL);
	digest_valid(s, NULL);
	range_covers(s, 511);
	free(s);
	return 0;
}
