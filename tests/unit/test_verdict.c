/*
 * Unit tests for checks/verdict: how registry answers become capability
 * states. Each case is an answer a real registry gives (see
 * shared/facts/registries.md) and the state it must produce.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "checks/verdict.h"

#define EMPTY_INDEX "{\"schemaVersion\":2,\"mediaType\":\"" OCI_INDEX_TYPE "\",\"manifests\":[]}"

static void judge(long status, const char *type, const char *body, struct referrers_verdict *rv)
{
	struct referrers_answer a = {
		.status = status, .content_type = type, .body = body, .len = strlen(body),
	};

	referrers_judge(&a, rv);
}

static void test_referrers_200_index(void **state)
{
	struct referrers_verdict rv;

	(void)state;
	judge(200, OCI_INDEX_TYPE, EMPTY_INDEX, &rv);
	assert_int_equal(rv.v.state, CAP_SUPPORTED);
	assert_int_equal(rv.index_ok, 1);
	assert_int_equal(rv.wrong_type, 0);
	assert_int_equal(rv.clients[CLIENT_ORAS].list, CLIENT_LIST_API);
	assert_int_equal(rv.clients[CLIENT_GGCR].list, CLIENT_LIST_API);
	assert_int_equal(rv.clients[CLIENT_REGCLIENT].list, CLIENT_LIST_API);
	verdict_release(&rv.v);
}

static void test_referrers_wrong_content_type(void **state)
{
	struct referrers_verdict rv;

	(void)state;
	judge(200, "application/json", EMPTY_INDEX, &rv);
	assert_int_equal(rv.v.state, CAP_SUPPORTED);
	assert_int_equal(rv.wrong_type, 1);
	/* Harbor 2.8-2.9: all three list through the tag (regclient reads Content-Type too) */
	assert_int_equal(rv.clients[CLIENT_ORAS].list, CLIENT_LIST_TAG);
	assert_int_equal(rv.clients[CLIENT_GGCR].list, CLIENT_LIST_TAG);
	assert_int_equal(rv.clients[CLIENT_REGCLIENT].list, CLIENT_LIST_TAG);
	assert_non_null(strstr(rv.v.reason, "application/json"));
	verdict_release(&rv.v);
}

static void test_referrers_404_index(void **state)
{
	struct referrers_verdict rv;

	(void)state;
	judge(404, OCI_INDEX_TYPE, EMPTY_INDEX, &rv);
	assert_int_equal(rv.v.state, CAP_SUPPORTED);
	assert_int_equal(rv.clients[CLIENT_ORAS].list, CLIENT_LIST_TAG);
	verdict_release(&rv.v);
}

static void test_referrers_404_plain(void **state)
{
	struct referrers_verdict rv;

	(void)state;
	judge(404, "text/plain", "404 page not found\n", &rv);
	assert_int_equal(rv.v.state, CAP_UNSUPPORTED);
	verdict_release(&rv.v);
}

static void test_referrers_404_name_unknown(void **state)
{
	struct referrers_verdict rv;

	(void)state;
	judge(404, "application/json", "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"x\"}]}", &rv);
	assert_int_equal(rv.v.state, CAP_UNKNOWN);
	assert_non_null(strstr(rv.v.reason, "NAME_UNKNOWN"));
	verdict_release(&rv.v);
}

static void test_referrers_404_name_unknown_known_repo(void **state)
{
	const char *body = "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"x\"}]}";
	struct referrers_answer a = {
		.status = 404, .content_type = "application/json", .body = body,
		.len = strlen(body), .repo_known = 1,
	};
	struct referrers_verdict rv;

	(void)state;
	/* the repository was just read, so the registry has no such route */
	referrers_judge(&a, &rv);
	assert_int_equal(rv.v.state, CAP_UNSUPPORTED);
	assert_non_null(strstr(rv.v.reason, "NAME_UNKNOWN"));
	assert_int_equal(rv.clients[CLIENT_ORAS].list, CLIENT_LIST_ERROR);
	verdict_release(&rv.v);
}

static void test_referrers_404_other_error(void **state)
{
	struct referrers_verdict rv;

	(void)state;
	judge(404, "application/json", "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}", &rv);
	assert_int_equal(rv.v.state, CAP_UNSUPPORTED);
	verdict_release(&rv.v);
}

static void test_referrers_html_and_junk(void **state)
{
	struct referrers_verdict rv;

	(void)state;
	judge(200, "text/html", "<html><body>Sign in</body></html>", &rv);
	assert_int_equal(rv.v.state, CAP_UNSUPPORTED);
	assert_non_null(strstr(rv.v.reason, "HTML"));
	verdict_release(&rv.v);
	judge(200, "application/json", "{}", &rv); /* Harbor 2.8 for an unknown subject */
	assert_int_equal(rv.v.state, CAP_UNSUPPORTED);
	assert_int_equal(rv.clients[CLIENT_REGCLIENT].list, CLIENT_LIST_TAG);
	verdict_release(&rv.v);
	judge(302, "", "", &rv);
	assert_int_equal(rv.v.state, CAP_UNSUPPORTED);
	verdict_release(&rv.v);
	judge(405, "text/plain", "", &rv);
	assert_int_equal(rv.v.state, CAP_UNSUPPORTED);
	verdict_release(&rv.v);
}

static void test_referrers_unknowns(void **state)
{
	struct referrers_verdict rv;

	(void)state;
	judge(401, "application/json", "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}", &rv);
	assert_int_equal(rv.v.state, CAP_UNKNOWN);
	verdict_release(&rv.v);
	judge(400, "application/json", "{\"errors\":[{\"code\":\"MANIFEST_INVALID\"}]}", &rv);
	assert_int_equal(rv.v.state, CAP_UNKNOWN);
	assert_non_null(strstr(rv.v.reason, "MANIFEST_INVALID"));
	verdict_release(&rv.v);
	judge(500, "text/plain", "oops", &rv);
	assert_int_equal(rv.v.state, CAP_UNKNOWN);
	verdict_release(&rv.v);
}

static void test_index_validation(void **state)
{
	const char *why = NULL;
	long n = -1;

	(void)state;
	assert_int_equal(oci_index_valid(EMPTY_INDEX, strlen(EMPTY_INDEX), &n, &why), 0);
	assert_int_equal(n, 0);
	assert_int_equal(oci_index_valid("{\"schemaVersion\":2,\"manifests\":[{},{}]}", strlen("{\"schemaVersion\":2,\"manifests\":[{},{}]}"), &n, &why), 0);
	assert_int_equal(n, 2);
	assert_int_equal(oci_index_valid("{\"schemaVersion\":1,\"manifests\":[]}", strlen("{\"schemaVersion\":1,\"manifests\":[]}"), &n, &why), -1);
	assert_string_equal(why, "schemaVersion is not 2");
	assert_int_equal(oci_index_valid("{\"schemaVersion\":2}", strlen("{\"schemaVersion\":2}"), &n, &why), -1);
	assert_string_equal(why, "there is no manifests array");
	assert_int_equal(oci_index_valid("{\"schemaVersion\":2,\"manifests\":[],\"mediaType\":\"x\"}", strlen("{\"schemaVersion\":2,\"manifests\":[],\"mediaType\":\"x\"}"), &n, &why), -1);
	assert_int_equal(oci_index_valid("[]", strlen("[]"), &n, &why), -1);
	assert_int_equal(oci_index_valid("not json", strlen("not json"), &n, &why), -1);
	assert_int_equal(oci_index_valid("", strlen(""), &n, &why), -1);
}

static void expect_delete(long status, const char *body, enum cap_state want)
{
	struct verdict v = { 0 };

	delete_judge(status, body, strlen(body), "manifest", &v);
	assert_int_equal(v.state, want);
	assert_non_null(v.reason);
	verdict_release(&v);
}

static void test_delete_rules(void **state)
{
	(void)state;
	expect_delete(202, "", CAP_SUPPORTED);
	expect_delete(404, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}", CAP_SUPPORTED);
	expect_delete(404, "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\"}]}", CAP_SUPPORTED);
	expect_delete(405, "{\"errors\":[{\"code\":\"UNSUPPORTED\"}]}", CAP_UNSUPPORTED);
	expect_delete(405, "{\"errors\":[{\"code\":\"REGISTRY_DISALLOWED_OPERATION\"}]}", CAP_UNSUPPORTED);
	expect_delete(405, "Method not allowed", CAP_UNSUPPORTED);
	expect_delete(400, "{\"errors\":[{\"code\":\"UNSUPPORTED\"}]}", CAP_UNSUPPORTED);
	expect_delete(400, "{\"errors\":[{\"code\":\"DIGEST_INVALID\"}]}", CAP_UNKNOWN);
	expect_delete(401, "", CAP_UNKNOWN);
	expect_delete(403, "{\"errors\":[{\"code\":\"DENIED\"}]}", CAP_UNKNOWN);
	expect_delete(404, "{\"errors\":[{\"code\":\"NAME_UNKNOWN\"}]}", CAP_UNKNOWN);
	expect_delete(404, "404 page not found", CAP_UNKNOWN);
	expect_delete(500, "", CAP_UNKNOWN);
}

static void test_error_code(void **state)
{
	char code[8];

	(void)state;
	assert_int_equal(oci_error_code("{\"errors\":[{\"code\":\"DENIED\"}]}", strlen("{\"errors\":[{\"code\":\"DENIED\"}]}"), code, sizeof(code)), 0);
	assert_string_equal(code, "DENIED");
	/* truncated to the buffer, never overflowing it */
	assert_int_equal(oci_error_code("{\"errors\":[{\"code\":\"NAME_UNKNOWN\"}]}", strlen("{\"errors\":[{\"code\":\"NAME_UNKNOWN\"}]}"), code, sizeof(code)), 0);
	assert_string_equal(code, "NAME_UN");
	assert_int_equal(oci_error_code("{\"errors\":[]}", strlen("{\"errors\":[]}"), code, sizeof(code)), -1);
	assert_string_equal(code, "");
	assert_int_equal(oci_error_code("<html>", strlen("<html>"), code, sizeof(code)), -1);
}

static void test_range_covers(void **state)
{
	(void)state;
	assert_true(range_covers("0-511", 511));
	assert_true(range_covers("bytes=0-1023", 511));
	assert_false(range_covers("0-0", 511));
	assert_false(range_covers("1-511", 511));
	assert_false(range_covers("0-", 511));
	assert_false(range_covers("0-511x", 511));
	assert_false(range_covers("", 0));
	assert_false(range_covers(NULL, 0));
}

static void test_html_detection(void **state)
{
	(void)state;
	assert_true(body_is_html("text/html", "", 0));
	assert_true(body_is_html("", "  <!DOCTYPE html>", 17));
	assert_false(body_is_html("application/json", "{}", 2));
}

static void test_manifest_bodies(void **state)
{
	const char *oci = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{},\"layers\":[]}";
	const char *bare = "{\"schemaVersion\":2,\"config\":{},\"layers\":[]}";
	const char *why = NULL;

	(void)state;
	assert_int_equal(manifest_body_valid("application/vnd.oci.image.manifest.v1+json", oci, strlen(oci), &why), 0);
	assert_int_equal(manifest_body_valid(OCI_INDEX_TYPE, EMPTY_INDEX, strlen(EMPTY_INDEX), &why), 0);
	/* no Content-Type or a generic one: the body's mediaType or shape decides */
	assert_int_equal(manifest_body_valid("application/json", oci, strlen(oci), &why), 0);
	assert_int_equal(manifest_body_valid("", bare, strlen(bare), &why), 0);
	/* a sign-in page is not a manifest, whatever its Content-Type */
	assert_int_equal(manifest_body_valid("text/html", "<html>Sign in</html>", 20, &why), -1);
	assert_non_null(strstr(why, "HTML"));
	assert_int_equal(manifest_body_valid("application/vnd.oci.image.manifest.v1+json", "<!DOCTYPE html><p>", 18, &why), -1);
	assert_int_equal(manifest_body_valid("application/vnd.oci.image.manifest.v1+json", "garbage", 7, &why), -1);
	assert_non_null(strstr(why, "not JSON"));
	assert_int_equal(manifest_body_valid("application/json", "{\"hello\":1}", 11, &why), -1);
	assert_non_null(strstr(why, "media type"));
	assert_int_equal(manifest_body_valid("text/plain", bare, strlen(bare), &why), -1);
	assert_int_equal(manifest_type("application/vnd.docker.distribution.manifest.v2+json"), 1);
	assert_int_equal(manifest_type("text/html"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_referrers_200_index),
		cmocka_unit_test(test_referrers_wrong_content_type),
		cmocka_unit_test(test_referrers_404_index),
		cmocka_unit_test(test_referrers_404_plain),
		cmocka_unit_test(test_referrers_404_name_unknown),
		cmocka_unit_test(test_referrers_404_name_unknown_known_repo),
		cmocka_unit_test(test_referrers_404_other_error),
		cmocka_unit_test(test_referrers_html_and_junk),
		cmocka_unit_test(test_referrers_unknowns),
		cmocka_unit_test(test_index_validation),
		cmocka_unit_test(test_delete_rules),
		cmocka_unit_test(test_error_code),
		cmocka_unit_test(test_range_covers),
		cmocka_unit_test(test_html_detection),
		cmocka_unit_test(test_manifest_bodies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
