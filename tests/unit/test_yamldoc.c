/*
 * Unit tests for cli/yamldoc: every YAML file is walked for its nesting
 * depth, anchors and aliases before libyaml loads it, whose time is
 * quadratic in them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/yamldoc.h"

static char *nested(const char *head, size_t levels)
{
	size_t n = strlen(head);
	char *s = malloc(n + 2 * levels + 2);

	assert_non_null(s);
	memcpy(s, head, n);
	memset(s + n, '[', levels);
	memset(s + n + levels, ']', levels);
	strcpy(s + n + 2 * levels, "\n");
	return s;
}

static void expect_refused(const char *text, const char *needle)
{
	yaml_document_t doc;
	char *why = NULL;

	assert_int_equal(yamldoc_load(&doc, "f.yaml", text, strlen(text), &why), -1);
	assert_non_null(why);
	if (!strstr(why, needle))
		fail_msg("reason '%s' lacks '%s'", why, needle);
	free(why);
}

static void expect_loaded(const char *text)
{
	yaml_document_t doc;
	char *why = NULL;

	if (yamldoc_load(&doc, "f.yaml", text, strlen(text), &why) < 0)
		fail_msg("refused: %s", why);
	yaml_document_delete(&doc);
}

static void test_depth(void **state)
{
	char *s;

	(void)state;
	s = nested("a: ", YAMLDOC_MAX_DEPTH - 1); /* the mapping is one level */
	expect_loaded(s);
	free(s);
	s = nested("a: ", YAMLDOC_MAX_DEPTH);
	expect_refused(s, "f.yaml:1: nested deeper than 64 levels");
	free(s);
	s = nested("a:\n  b:\n    c: ", 200000);
	expect_refused(s, "f.yaml:3: nested deeper than 64 levels");
	free(s);
}

static void test_block_nesting(void **state)
{
	char text[1024] = "";
	int i;

	(void)state;
	for (i = 0; i < 70; i++)
		strcat(text, "- ");
	strcat(text, "x\n");
	expect_refused(text, "nested deeper than 64 levels");
}

static void test_anchors_and_aliases(void **state)
{
	char *s = malloc(64 * 20000);
	size_t len = 0;
	int i;

	(void)state;
	assert_non_null(s);
	for (i = 0; i < YAMLDOC_MAX_ANCHORS; i++)
		len += (size_t)sprintf(s + len, "- &a%d x\n", i);
	expect_loaded(s);
	sprintf(s + len, "- &last x\n");
	expect_refused(s, "f.yaml:1001: more than 1000 anchors");
	len = (size_t)sprintf(s, "- &a x\n");
	for (i = 0; i < YAMLDOC_MAX_ALIASES; i++)
		len += (size_t)sprintf(s + len, "- *a\n");
	expect_loaded(s);
	sprintf(s + len, "- *a\n");
	expect_refused(s, "more than 10000 aliases");
	free(s);
}

static void test_errors_and_empty(void **state)
{
	(void)state;
	expect_loaded("");
	expect_loaded("a: 1\n---\n[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n");
	expect_refused("a: [1, 2\n", "f.yaml:2: invalid YAML: ");
	expect_refused("a: b: c\n", "f.yaml:1: invalid YAML: ");
}

/* Every YAML file takes the same words for a switch. */
static void test_one_boolean_grammar(void **state)
{
	static const char *const yes[] = { "true", "True", "yes", "YES", "on", NULL };
	static const char *const no[] = { "false", "FALSE", "no", "No", "off", NULL };
	static const char *const neither[] = { "1", "0", "y", "", "truthy", NULL };
	size_t i;

	(void)state;
	for (i = 0; yes[i]; i++)
		assert_int_equal(yamldoc_bool(yes[i]), 1);
	for (i = 0; no[i]; i++)
		assert_int_equal(yamldoc_bool(no[i]), 0);
	for (i = 0; neither[i]; i++)
		assert_int_equal(yamldoc_bool(neither[i]), -1);
	assert_int_equal(yamldoc_bool(NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_block_nesting),
		cmocka_unit_test(test_anchors_and_aliases),
		cmocka_unit_test(test_errors_and_empty),
		cmocka_unit_test(test_one_boolean_grammar),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
