/*
 * Fuzzes the readers of registry JSON bodies (checks/verdict.c): OCI
 * image indexes, error bodies, and the referrers verdict built on them.
 * The first byte picks the status the body is judged under.
 */
#include "checks/verdict.h"
#include "fuzz/fuzz.h"

static const long statuses[] = { 200, 404, 405, 400, 401, 302, 500 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct referrers_verdict rv;
	struct referrers_answer a = { 0 };
	struct verdict v = { 0 };
	char code[64];
	const char *why;
	long count;

	if (!size)
		return 0;
	a.status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
	a.content_type = (data[0] & 0x80) ? OCI_INDEX_TYPE : "application/json";
	a.body = (const char *)data + 1;
	a.len = size - 1;
	oci_index_valid(a.body, a.len, &count, &why);
	oci_error_code(a.body, a.len, code, sizeof(code));
	body_is_html(a.content_type, a.body, a.len);
	referrers_judge(&a, &rv);
	verdict_release(&rv.v);
	delete_judge(a.status, a.body, a.len, "manifest", &v);
	verdict_release(&v);
	return 0;
}
