/*
 * Unit tests for util/clock: the parser of spans of seconds that every
 * duration a user writes goes through.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util/clock.h"

static long parsed(const char *text, long min_ms, long max_ms)
{
	long ms = -12345;

	if (clock_parse_seconds(text, min_ms, max_ms, &ms) < 0)
		return -1;
	return ms;
}

static void test_decimal_seconds(void **state)
{
	(void)state;
	assert_int_equal(parsed("30", 1, 86400000), 30000);
	assert_int_equal(parsed("2.5", 1, 86400000), 2500);
	assert_int_equal(parsed("0.25", 1, 86400000), 250);
	assert_int_equal(parsed(".5", 1, 86400000), 500);
	assert_int_equal(parsed("5.", 1, 86400000), 5000);
	assert_int_equal(parsed("007", 1, 86400000), 7000);
	assert_int_equal(parsed("0.0015", 1, 86400000), 2);   /* rounded to the millisecond */
	assert_int_equal(parsed("0.0014999", 1, 86400000), 1);
	assert_int_equal(parsed("86400", 1, 86400000), 86400000);
	assert_int_equal(parsed("0", 0, 60000), 0);
	assert_int_equal(parsed("60", 0, 60000), 60000);
}

/* Prometheus' units, one after the number. */
static void test_units(void **state)
{
	(void)state;
	assert_int_equal(parsed("5s", 1, 86400000), 5000);
	assert_int_equal(parsed("1m", 1, 86400000), 60000);
	assert_int_equal(parsed("1.5m", 1, 86400000), 90000);
	assert_int_equal(parsed("2h", 1, 86400000), 7200000);
	assert_int_equal(parsed("24h", 1, 86400000), 86400000);
	assert_int_equal(parsed("1440m", 1, 86400000), 86400000);
	assert_int_equal(parsed("500ms", 1, 86400000), 500);
	assert_int_equal(parsed("1.5ms", 1, 86400000), 2);   /* rounded to the millisecond */
	assert_int_equal(parsed("0.001m", 1, 86400000), 60);
	assert_int_equal(parsed("0.5s", 1, 86400000), 500);
	assert_int_equal(parsed("61s", 0, 60000), -1);
	assert_int_equal(parsed("1m", 0, 60000), 60000);
}

static void test_everything_else_is_refused(void **state)
{
	static const char *const bad[] = {
		"nan", "NaN", "-nan", "inf", "Infinity", "-1", "+1", "-0", "1e3", "1E-3", "0x10",
		" 5", "5 ", "", ".", "1.2.3", "1,5", "86401", "86400.001",
		"99999999999999999999999", "0.0004", "0", "5 s", "5S", "5sec", "1m30s", "5d", "5w",
		"s", "ms", "5us", "25h", "1441m", "0.4ms", "-5s",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (parsed(bad[i], 1, 86400000) != -1)
			fail_msg("'%s' was taken as %ld ms", bad[i], parsed(bad[i], 1, 86400000));
	assert_int_equal(parsed("60.001", 0, 60000), -1);
	assert_int_equal(parsed(NULL, 0, 60000), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decimal_seconds),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_everything_else_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
