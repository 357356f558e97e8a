/*
 * Unit tests of mdterm: knowledge-base Markdown rendered for a terminal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "checks/kb.h"
#include "cli/mdterm.h"

static char *render(const char *md, int width)
{
	struct buf out;

	buf_init(&out, BUF_TEXT_MAX);
	mdterm_render(&out, md, width);
	return buf_detach(&out);
}

static void test_blocks(void **state)
{
	char *s;

	(void)state;
	s = render("---\nid: x\n---\n# Title\n\nSome `code` and **bold** text that goes on\n"
		   "and on.\n\n## Part\n\n### `cause` what\n\n- **bare-metal**: a step\n"
		   "  continued\n  ```sh\n  curl -v https://REGISTRY/v2/ --a-very-long-option-that-is-not-wrapped\n"
		   "  ```\n", 30);
	assert_string_equal(s,
		"Title\n=====\n\n"
		"Some code and bold text that\ngoes on and on.\n\n"
		"Part\n----\n\n"
		"cause: what\n~~~~~~~~~~~\n\n"
		"  - bare-metal: a step\n    continued\n"
		"      curl -v https://REGISTRY/v2/ --a-very-long-option-that-is-not-wrapped\n");
	free(s);
}

static void test_links(void **state)
{
	char *s;

	(void)state;
	s = render("See [the page](check.integration.oci.pull.md#x), [below](#remediation), "
		   "[usage](../usage.md) and [spec](https://example.com/s).\n", 200);
	assert_string_equal(s, "See the page (ocidoctor explain check.integration.oci.pull), below, "
			       "usage (ocidoctor(1)) and spec <https://example.com/s>.\n");
	free(s);
}

static void test_tables(void **state)
{
	const char *md = "| Key | Type |\n|---|---|\n| `url` | string |\n| `a|b` | integer or null |\n";
	char *s;

	(void)state;
	s = render(md, 80);
	assert_string_equal(s, "  Key | Type\n  ---------------------\n  url | string\n"
			       "  a|b | integer or null\n");
	free(s);
	s = render(md, 20);
	assert_string_equal(s, "  - Key: url\n    Type: string\n  - Key: a|b\n    Type: integer or\n"
			       "      null\n");
	free(s);
}

/* Every real page renders within the width, except its code lines. */
static void test_pages_fit(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < kb_pages_size; i++) {
		char *s = render(kb_pages[i].text, 72), *line = s, *next;

		assert_null(strstr(s, "```"));
		assert_null(strstr(s, "\n## "));
		for (; *line; line = next) {
			size_t n = strcspn(line, "\n"), cols = 0, k;

			next = line + n + (line[n] == '\n');
			for (k = 0; k < n; k++)
				cols += ((unsigned char)line[k] & 0xC0) != 0x80;
			if (cols > 72 && strncmp(line, "    ", 4) && strcspn(line, " ") < n)
				fail_msg("%s: a line of %zu columns: %.*s", kb_pages[i].id, cols,
					 (int)n, line);
		}
		free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_pages_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
