/*
 * Fuzzes URL handling (util/ref.c): registry addresses, and Location and
 * Link targets resolved against a registry URL, and the redacted forms
 * reports show (url_for_display, url_redact_userinfo). A NUL byte in the input
 * splits it into the base and the Location.
 */
#include "fuzz/fuzz.h"
#include "util/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	const char *loc = memchr(data, '\0', size) ? s + strlen(s) + 1 : "/v2/";
	struct registry_url u;
	char *resolved;

	if (registry_url_parse(&u, s, NULL) == 0)
		registry_url_release(&u);
	resolved = url_resolve("https://registry.example:5000/v2/a/b/blobs/uploads/", s);
	if (resolved) {
		url_same_origin(resolved, "https://registry.example:5000");
		free(resolved);
	}
	resolved = url_resolve(s, loc);
	free(resolved);
	/* what reports and messages show of a URL */
	free(url_for_display(s, "https://registry.example:5000"));
	free(url_redact_userinfo(s));
	url_is_plain_loopback(s);
	free(s);
	return 0;
}
