/* Fuzzes the exporter's module config reader (serve/serve_config.c). */
#include "fuzz/fuzz.h"
#include "serve/serve.h"

static int contains(const uint8_t *data, size_t size, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; i + n <= size; i++)
		if (!memcmp(data + i, needle, n))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct serve_config *c = NULL;
	char *why = NULL;

	/* a password_file is opened and read: keep the fuzzer off device files */
	if (contains(data, size, "password") || contains(data, size, "\\"))
		return 0;
	if (serve_config_parse(&c, "fuzz.yaml", (const char *)data, size, &why) == 0)
		serve_config_free(c);
	free(why);
	return 0;
}
