/*
 * Unit tests for what a check declares it needs (enum check_need): the
 * runner's gate decides the check before its run is called, with one
 * cause per need, in a fixed order; the causes of its needs count as the
 * check's own; and a check whose need is unmet by the configuration is
 * decided offline.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "checks/check.h"

/* Never called by these tests: check_gate decides before a run. */
static void counting_run(struct check_ctx *ctx)
{
	(void)ctx;
	fail_msg("run was called");
}

static const struct check writer = {
	.id = "check.test.writer",
	.needs = NEED_WRITES | NEED_REACHABLE,
	.run = counting_run,
	.causes = (const char *const[]){ "denied", NULL },
};

static const struct check verifier = {
	.id = "check.test.verifier",
	.needs = NEED_VERIFY | NEED_WRITES | NEED_ASKED | NEED_REACHABLE,
	.run = counting_run,
	.causes = (const char *const[]){ "rejected", NULL },
};

static const struct check free_check = {
	.id = "check.test.free",
	.run = counting_run,
	.causes = (const char *const[]){ NULL },
};

struct fixture {
	struct run_config config;
	struct run_facts facts;
	struct check_result result;
	struct check_ctx ctx;
};

static void fixture_init(struct fixture *f, const struct check *c)
{
	memset(f, 0, sizeof(*f));
	f->facts.reachable = 1;
	f->result.check = c;
	f->result.selected = 1;
	f->result.details = json_object();
	f->ctx = (struct check_ctx){ .config = &f->config, .facts = &f->facts, .result = &f->result };
}

static void fixture_release(struct fixture *f)
{
	check_result_release(&f->result);
}

static void test_met_needs_let_run_go(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, &verifier);
	f.config.verify_writes = 1;
	assert_int_equal(check_gate(&f.ctx), 0);
	assert_null(f.result.message);
	fixture_release(&f);
}

static void test_writes_off_skips_a_writer(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, &writer);
	f.config.no_writes = 1;
	assert_int_equal(check_gate(&f.ctx), 1);
	assert_int_equal(f.result.status, STATUS_SKIP);
	assert_string_equal(f.result.cause, "no-writes");
	fixture_release(&f);

	fixture_init(&f, &free_check);
	f.config.no_writes = 1;
	assert_int_equal(check_gate(&f.ctx), 0);
	fixture_release(&f);
}

static void test_verify_comes_first_and_needs_the_check_asked_for(void **state)
{
	struct fixture f;

	(void)state;
	/* writes off and no verify: the verify need is the one named */
	fixture_init(&f, &verifier);
	f.config.no_writes = 1;
	f.facts.reachable = 0;
	assert_int_equal(check_gate(&f.ctx), 1);
	assert_string_equal(f.result.cause, "no-verify");
	assert_non_null(strstr(f.result.message, "--writes verify"));
	fixture_release(&f);

	/* verify on, but the check only runs for a dependent: it pushes nothing */
	fixture_init(&f, &verifier);
	f.config.verify_writes = 1;
	f.result.selected = 0;
	assert_int_equal(check_gate(&f.ctx), 1);
	assert_int_equal(f.result.status, STATUS_SKIP);
	assert_string_equal(f.result.cause, "not-selected");
	fixture_release(&f);
}

static void test_needs_causes_are_the_checks_own(void **state)
{
	(void)state;
	assert_string_equal(check_cause_at(&verifier, 0), "rejected");
	assert_string_equal(check_cause_at(&verifier, 1), "no-verify");
	assert_string_equal(check_cause_at(&verifier, 2), "no-writes");
	assert_string_equal(check_cause_at(&verifier, 3), "not-selected");
	assert_string_equal(check_cause_at(&verifier, 4), "unreachable");
	assert_null(check_cause_at(&verifier, 5));
	assert_true(check_declares_cause(&writer, "unreachable"));
	assert_true(check_declares_cause(&writer, "denied"));
	assert_false(check_declares_cause(&writer, "no-verify"));
	assert_null(check_cause_at(&free_check, 0));
}

static void test_unmet_configuration_needs_decide_offline(void **state)
{
	struct run_config config = { 0 };

	(void)state;
	assert_true(check_offline(&verifier, &config, 1));
	config.verify_writes = 1;
	assert_false(check_offline(&verifier, &config, 1));
	assert_true(check_offline(&verifier, &config, 0));
	config.no_writes = 1;
	assert_true(check_offline(&writer, &config, 1));
	config.no_writes = 0;
	assert_false(check_offline(&writer, &config, 1));
	assert_false(check_offline(&free_check, &config, 1));
}

/* No check of the table repeats a cause its needs already give it, and none gates itself. */
static void test_the_table_declares_its_gates(void **state)
{
	static const char *const gate_causes[] = { "no-verify", "no-writes", "not-selected",
						   "unreachable", NULL };
	size_t i, k;

	(void)state;
	for (i = 0; i < check_table_size; i++) {
		const struct check *c = check_table[i];

		for (k = 0; c->causes && c->causes[k]; k++)
			for (const char *const *g = gate_causes; *g; g++)
				if (!strcmp(c->causes[k], *g) && c != &check_registry && c != &check_credentials)
					fail_msg("%s lists '%s' by hand: declare the need instead", c->id, *g);
	}
	assert_true(check_pull.needs & NEED_REACHABLE);
	assert_true(check_push.needs & NEED_WRITES);
	assert_true(check_push.needs & NEED_ASKED);
	assert_true(check_artifacts.needs & NEED_VERIFY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_met_needs_let_run_go),
		cmocka_unit_test(test_writes_off_skips_a_writer),
		cmocka_unit_test(test_verify_comes_first_and_needs_the_check_asked_for),
		cmocka_unit_test(test_needs_causes_are_the_checks_own),
		cmocka_unit_test(test_unmet_configuration_needs_decide_offline),
		cmocka_unit_test(test_the_table_declares_its_gates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
