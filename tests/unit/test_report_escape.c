/*
 * Unit tests for the escaping the report writers share: XML text for
 * JUnit must stay well-formed whatever a registry sent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

static char *xml_of(const char *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	report_put_xml(f, s);
	fclose(f);
	return text;
}

/* U+FFFE, U+FFFF and encoded surrogates are not XML 1.0 characters: dropped. */
static void test_xml_drops_forbidden_code_points(void **state)
{
	char *out;

	(void)state;
	out = xml_of("a\xef\xbf\xbf" "b\xef\xbf\xbe" "c\xed\xa0\x80" "d\xef\xbf\xbd" "e");
	assert_string_equal(out, "ab" "c" "d\xef\xbf\xbd" "e");
	free(out);
	out = xml_of("<x a=\"1\">&'\x01\n\t");
	assert_string_equal(out, "&lt;x a=&quot;1&quot;&gt;&amp;&#39;?\n\t");
	free(out);
	out = xml_of("trailing \xef\xbf");
	assert_string_equal(out, "trailing \xef\xbf");
	free(out);
}

static char *written(void (*put)(FILE *, const char *), const char *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	put(f, s);
	fclose(f);
	return text;
}

/* Markdown: markup is escaped, names and addresses read as they are. */
static void test_md_text(void **state)
{
	char *out;

	(void)state;
	out = written(report_put_md, "http://127.0.0.1:5000 library/my_app-1.0 #3 (x) {y} +z");
	assert_string_equal(out, "http://127.0.0.1:5000 library/my_app-1.0 #3 (x) {y} +z");
	free(out);
	out = written(report_put_md, "![i](u) [l](u) <b>&\"|`*~\\\n");
	assert_string_equal(out, "\\!\\[i\\](u) \\[l\\](u) &lt;b&gt;&amp;&quot;\\|\\`\\*\\~\\\\ ");
	free(out);
}

/* A fix's text: placeholders like sha256-<hex> are not HTML tags, code spans stay as written. */
static void test_md_kb_text(void **state)
{
	char *out;

	(void)state;
	out = written(report_put_kb_md, "tags named sha256-<hex>; run `a <b> c` then <script>");
	assert_string_equal(out, "tags named sha256-&lt;hex&gt;; run `a <b> c` then &lt;script&gt;");
	free(out);
	out = written(report_put_md_code, "printf '%s' \"$P\" | ocidoctor run");
	assert_string_equal(out, "`printf '%s' \"$P\" | ocidoctor run`");
	free(out);
	out = written(report_put_md_code, "echo `id`");
	assert_string_equal(out, "`` echo `id` ``");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml_drops_forbidden_code_points),
		cmocka_unit_test(test_md_text),
		cmocka_unit_test(test_md_kb_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
