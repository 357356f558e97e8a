/*
 * Unit tests for util/buf: the bounded buffer that holds every byte a
 * server sends.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

static void test_init_is_empty_string(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 16);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_append_and_detach(void **state)
{
	struct buf b;
	char *s;

	(void)state;
	buf_init(&b, 64);
	assert_int_equal(buf_adds(&b, "abc"), 0);
	assert_int_equal(buf_addch(&b, '-'), 0);
	assert_int_equal(buf_addf(&b, "%d/%s", 42, "x"), 0);
	assert_string_equal(b.data, "abc-42/x");
	assert_int_equal(b.len, 8);
	s = buf_detach(&b);
	assert_string_equal(s, "abc-42/x");
	assert_string_equal(b.data, "");
	free(s);
}

static void test_limit_is_enforced(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_adds(&b, "12345678"), 0);
	assert_int_equal(b.overflow, 0);
	assert_int_equal(buf_addch(&b, '9'), -1);
	assert_int_equal(b.overflow, 1);
	assert_string_equal(b.data, "12345678");
	assert_int_equal(buf_addf(&b, "%s", "more"), -1);
	assert_int_equal(b.len, 8);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.overflow, 0);
	buf_release(&b);
}

static void test_huge_length_does_not_wrap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 100);
	assert_int_equal(buf_adds(&b, "x"), 0);
	assert_int_equal(buf_add(&b, "y", (size_t)-1), -1);
	assert_int_equal(b.len, 1);
	buf_release(&b);
}

static void test_sanitize(void **state)
{
	char ascii[] = "ok\x1b[31mred\x7f\n";
	char utf8[] = "caf\xc3\xa9 \xe2\x9c\x93";
	char c1[] = "a\xc2\x9b" "b";
	char broken[] = "x\xff\xc3y\xe2\x9c";
	char overlong[] = "\xc0\xaf\xe0\x80\xaf";

	(void)state;
	text_sanitize(ascii);
	assert_string_equal(ascii, "ok?[31mred??");
	text_sanitize(utf8);
	assert_string_equal(utf8, "caf\xc3\xa9 \xe2\x9c\x93");
	text_sanitize(c1);
	assert_string_equal(c1, "a??b");
	text_sanitize(broken);
	assert_string_equal(broken, "x??y??");
	text_sanitize(overlong);
	assert_string_equal(overlong, "?????");
	text_sanitize(NULL);
}

static void test_xstrfmt(void **state)
{
	char *s = xstrfmt("%s:%03d", "a", 7);

	(void)state;
	assert_string_equal(s, "a:007");
	free(s);
}

/* Invisible format characters and XML's noncharacters become one '?' each. */
static void test_sanitize_hidden_characters(void **state)
{
	char s[] = "a\xe2\x80\xae" "b\xef\xbf\xbf" "c\xe2\x80\x8b" "d\xef\xbb\xbf" "e\xef\xbf\xbe"
		   "f\xe2\x81\xa6" "g\xc3\xa9\xe2\x9c\x93\x01";
	char empty[] = "";

	(void)state;
	text_sanitize(s);
	assert_string_equal(s, "a?b?c?d?e?f?g\xc3\xa9\xe2\x9c\x93?");
	text_sanitize(empty);
	assert_string_equal(empty, "");
}

/* Empty buffers in many threads at once: nothing may write to the shared
 * empty string (ThreadSanitizer reports a race otherwise). */
static void *empty_buffers(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 2000; i++) {
		struct buf b;

		buf_init(&b, 16);
		buf_reset(&b);
		text_sanitize(b.data);
		buf_release(&b);
	}
	return NULL;
}

static void test_empty_buffers_across_threads(void **state)
{
	pthread_t t[4];
	int i;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, empty_buffers, NULL), 0);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_is_empty_string),
		cmocka_unit_test(test_append_and_detach),
		cmocka_unit_test(test_limit_is_enforced),
		cmocka_unit_test(test_huge_length_does_not_wrap),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_xstrfmt),
		cmocka_unit_test(test_empty_buffers_across_threads),
		cmocka_unit_test(test_sanitize_hidden_characters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
