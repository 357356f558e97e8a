/*
 * Unit tests for the knowledge base: every check has a page, every
 * cause a check can report has advice on that page, and the page lists
 * no cause the check never reports. So docs/checks and the code cannot
 * drift apart without this test failing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "checks/check.h"
#include "checks/kb.h"

static void test_every_check_has_a_page(void **state)
{
	size_t i;

	(void)state;
	assert_int_equal(kb_pages_size, check_table_size);
	for (i = 0; i < check_table_size; i++) {
		const struct kb_page *page = kb_find(check_table[i]->id);

		assert_non_null(page);
		assert_non_null(strstr(page->text, check_table[i]->title));
		assert_non_null(strstr(page->text, "## What it checks"));
		assert_non_null(strstr(page->text, "## How to fix"));
	}
}

static void test_every_cause_has_advice(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < check_table_size; i++) {
		const struct check *c = check_table[i];
		const struct kb_page *page = kb_find(c->id);
		const char *cause;
		size_t k;

		assert_non_null(c->causes);
		for (k = 0; (cause = check_cause_at(c, k)); k++) {
			const struct remediation *r = kb_remediation(page, cause);

			if (!r)
				fail_msg("%s: no '### `%s`' entry in docs/checks/%s.md", c->id, cause, c->id);
			assert_true(strlen(r->summary) > 10);
			assert_non_null(r->steps[0].platform);
			assert_true(strlen(r->steps[0].text) > 10);
		}
	}
}

static void test_no_advice_for_unknown_causes(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < kb_pages_size; i++) {
		const struct check *c = check_find(kb_pages[i].id);
		const struct remediation *r;

		assert_non_null(c);
		for (r = kb_pages[i].remediations; r->cause; r++)
			if (!check_declares_cause(c, r->cause))
				fail_msg("%s documents cause '%s', which the check never reports", c->id, r->cause);
	}
}

static void test_remediation_follows_the_cause(void **state)
{
	struct check_result res = { .check = &check_registry, .status = STATUS_FAIL };
	const struct remediation *r;

	(void)state;
	res.cause = "tls-verify";
	r = check_remediation(&res);
	assert_string_equal(r->cause, "tls-verify");
	res.cause = "refused";
	r = check_remediation(&res);
	assert_string_equal(r->cause, "refused");
	res.cause = NULL;
	assert_non_null(check_remediation(&res));
}

static void test_commands_are_kept(void **state)
{
	const struct kb_page *page = kb_find("check.integration.oci.push");
	const struct remediation *r = kb_remediation(page, "readonly");
	const struct remediation_step *s;
	int commands = 0;

	(void)state;
	for (s = r->steps; s->platform; s++)
		for (const char *const *cmd = s->commands; cmd && *cmd; cmd++)
			commands += strstr(*cmd, "docker-registry") != NULL;
	assert_true(commands > 0);
}

/* Every cause has a category from the fixed set, for dashboards to group by. */
static void test_every_cause_has_a_category(void **state)
{
	static const char *const known[] = { "connectivity", "tls", "auth", "permissions",
					     "compatibility", "configuration", "rate-limit" };
	size_t i, k;
	const struct remediation *r;

	(void)state;
	for (i = 0; i < kb_pages_size; i++)
		for (r = kb_pages[i].remediations; r->cause; r++) {
			int found = 0;

			assert_non_null(r->category);
			for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
				found |= !strcmp(known[k], r->category);
			if (!found)
				fail_msg("%s: cause %s has category '%s'", kb_pages[i].id, r->cause,
					 r->category);
		}
	r = kb_remediation(kb_find("check.integration.oci.registry"), "tls-verify");
	assert_non_null(r);
	assert_string_equal(r->category, "tls");
}

/* The pages stand alone: no links to documents that do not ship with them. */
static void test_pages_stand_alone(void **state)
{
	static const char *const outside[] = { "../shared", "registries.md", "clients.md",
					       "distribution-2.8.md", "seeds/" };
	size_t i, k;

	(void)state;
	for (i = 0; i < kb_pages_size; i++)
		for (k = 0; k < sizeof(outside) / sizeof(outside[0]); k++)
			if (strstr(kb_pages[i].text, outside[k]))
				fail_msg("%s refers to %s, which does not ship", kb_pages[i].id,
					 outside[k]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_check_has_a_page),
		cmocka_unit_test(test_every_cause_has_advice),
		cmocka_unit_test(test_no_advice_for_unknown_causes),
		cmocka_unit_test(test_remediation_follows_the_cause),
		cmocka_unit_test(test_commands_are_kept),
		cmocka_unit_test(test_every_cause_has_a_category),
		cmocka_unit_test(test_pages_stand_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
