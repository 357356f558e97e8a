/*
 * test_wrap: one line of terminal text wrapped to a width (util/wrap.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "util/wrap.h"

static void expect_wrap(const char *line, int width, int hang, int shell, const char *want)
{
	struct buf b;

	buf_init(&b, BUF_TEXT_MAX);
	assert_int_equal(text_wrap(&b, line, strlen(line), width, hang, shell), 0);
	assert_string_equal(b.data, want);
	buf_release(&b);
}

static void test_short_line_untouched(void **state)
{
	(void)state;
	expect_wrap("  PASS  id    aligned  columns", 40, 8, 0, "  PASS  id    aligned  columns");
	expect_wrap("", 40, 8, 0, "");
}

static void test_hanging_indent(void **state)
{
	(void)state;
	expect_wrap("Summary: one two three four five six", 20, 9, 0,
		    "Summary: one two\n         three four\n         five six");
}

static void test_long_word_kept_whole(void **state)
{
	(void)state;
	expect_wrap("see: a /a/very/long/path/that/cannot/break end", 20, 5, 0,
		    "see: a\n     /a/very/long/path/that/cannot/break\n     end");
}

static void test_escapes_take_no_column(void **state)
{
	(void)state;
	/* 14 visible columns: fits 14 even with the colour codes around FAIL */
	expect_wrap("  \033[1;31mFAIL\033[0m  abcdef", 14, 8, 0, "  \033[1;31mFAIL\033[0m  abcdef");
	/* UTF-8: one column per character */
	expect_wrap("ab \xc3\xa9\xc3\xa9\xc3\xa9 cd", 9, 0, 0, "ab \xc3\xa9\xc3\xa9\xc3\xa9 cd");
}

static void test_command_breaks_outside_quotes(void **state)
{
	(void)state;
	expect_wrap("$ printf '%s x' \"$A B\" | run --flag value", 20, 4, 1,
		    "$ printf '%s x' \\\n    \"$A B\" | run \\\n    --flag value");
	/* an escaped space is no place to break */
	expect_wrap("$ ls a\\ b\\ c\\ d e", 12, 2, 1, "$ ls \\\n  a\\ b\\ c\\ d \\\n  e");
}

static void test_hang_past_two_thirds(void **state)
{
	(void)state;
	/* a hang of 20 in 24 columns becomes 8 */
	expect_wrap("12345678901234567890 aa bb cc", 24, 20, 0,
		    "12345678901234567890 aa\n        bb cc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_line_untouched),
		cmocka_unit_test(test_hanging_indent),
		cmocka_unit_test(test_long_word_kept_whole),
		cmocka_unit_test(test_escapes_take_no_column),
		cmocka_unit_test(test_command_breaks_outside_quotes),
		cmocka_unit_test(test_hang_past_two_thirds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
