/*
 * Unit tests for util/keyname: a configuration key in camelCase and in
 * snake_case is one key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "util/keyname.h"

static void expect_snake(const char *key, const char *want)
{
	char *got = key_snake_case(key);

	assert_string_equal(got, want);
	free(got);
}

static void test_snake_case(void **state)
{
	(void)state;
	expect_snake("caFile", "ca_file");
	expect_snake("ca_file", "ca_file");
	expect_snake("scratchRepository", "scratch_repository");
	expect_snake("registryUrl", "registry_url");
	expect_snake("timeout", "timeout");
	expect_snake("", "");
}

static void test_same(void **state)
{
	(void)state;
	assert_true(key_same("caFile", "ca_file"));
	assert_true(key_same("passwordFile", "password_file"));
	assert_true(key_same("timeout", "timeout"));
	assert_false(key_same("caFile", "cert"));
	assert_false(key_same("caFile", "cafile"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snake_case),
		cmocka_unit_test(test_same),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
