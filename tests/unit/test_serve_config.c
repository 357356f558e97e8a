/*
 * Unit tests for serve/serve_config: the exporter's modules from YAML,
 * their defaults, every refusal (with file and line), and the
 * credentials allow-list.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve/serve.h"

static struct serve_config *parse_ok(const char *text)
{
	struct serve_config *c = NULL;
	char *why = NULL;

	if (serve_config_parse(&c, "t.yaml", text, strlen(text), &why) != 0)
		fail_msg("refused: %s", why);
	assert_null(why);
	assert_non_null(c);
	return c;
}

static void expect_refused(const char *text, const char *needle)
{
	struct serve_config *c = NULL;
	char *why = NULL;

	assert_int_equal(serve_config_parse(&c, "t.yaml", text, strlen(text), &why), -1);
	assert_null(c);
	assert_non_null(why);
	if (!strstr(why, needle))
		fail_msg("'%s': reason '%s' lacks '%s'", text, why, needle);
	if (strncmp(why, "t.yaml:", 7))
		fail_msg("reason '%s' does not name the file", why);
	free(why);
}

static size_t selected_count(const struct serve_module *m)
{
	size_t i, n = 0;

	for (i = 0; i < check_table_size; i++)
		n += m->selected[i] != 0;
	return n;
}

static void test_no_config_is_one_read_only_module(void **state)
{
	struct serve_config *c = NULL;
	char *why = NULL;
	const struct serve_module *m;

	(void)state;
	assert_int_equal(serve_config_load(&c, NULL, &why), 0);
	assert_int_equal(c->nr, 1);
	m = serve_config_module(c, "default");
	assert_non_null(m);
	assert_int_equal(m->writes, DOCTOR_WRITES_NONE);
	assert_string_equal(m->repository, "library/alpine");
	assert_string_equal(m->tag, "latest");
	assert_int_equal(selected_count(m), check_table_size);
	assert_false(serve_module_has_creds(m));
	assert_null(serve_config_module(c, "other"));
	serve_config_free(c);
}

static void test_smallest_config(void **state)
{
	struct serve_config *c;
	const struct serve_module *m;

	(void)state;
	c = parse_ok("modules: {default: {writes: none}}\n");
	m = serve_config_module(c, "default");
	assert_non_null(m);
	assert_int_equal(m->writes, DOCTOR_WRITES_NONE);
	assert_int_equal(m->min_interval_ms, 0);
	serve_config_free(c);
	c = parse_ok("modules:\n  bare:\n");
	assert_non_null(serve_config_module(c, "bare"));
	serve_config_free(c);
}

static void test_full_module(void **state)
{
	char path[] = "/tmp/ocidoctor-unit-pw-XXXXXX";
	int fd = mkstemp(path);
	char *text;
	struct serve_config *c;
	const struct serve_module *m;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hunter2\n", 8), 8);
	close(fd);
	text = malloc(2048);
	snprintf(text, 2048,
		 "modules:\n"
		 "  release:\n"
		 "    writes: probe\n"
		 "    checks: ['*.registry', '*.pull']\n"
		 "    repository: team/app\n"
		 "    tag: '1.2'\n"
		 "    scratch_repository: team/scratch\n"
		 "    credentials: {username: ci, password_file: %s}\n"
		 "    registries: [registry.example.com, '*.corp.example:5000']\n"
		 "    insecure: true\n"
		 "    timeout: 2.5\n"
		 "  reader:\n"
		 "    tags: [oci-1.1]\n", path);
	c = parse_ok(text);
	m = serve_config_module(c, "release");
	assert_non_null(m);
	assert_int_equal(m->writes, DOCTOR_WRITES_PROBE);
	assert_int_equal(m->min_interval_ms, SERVE_DEFAULT_MIN_INTERVAL_S * 1000);
	assert_int_equal(selected_count(m), 2);
	assert_string_equal(m->repository, "team/app");
	assert_string_equal(m->tag, "1.2");
	assert_string_equal(m->scratch, "team/scratch");
	assert_string_equal(m->username, "ci");
	assert_string_equal(m->password, "hunter2");
	assert_true(m->insecure);
	assert_int_equal(m->timeout_ms, 2500);
	assert_true(serve_module_allows(m, "registry.example.com"));
	assert_true(serve_module_allows(m, "a.corp.example:5000"));
	assert_false(serve_module_allows(m, "a.corp.example:5001"));
	assert_false(serve_module_allows(m, "registry.example.com.evil.example"));
	assert_false(serve_module_allows(m, "evil.example"));
	m = serve_config_module(c, "reader");
	assert_non_null(m);
	assert_true(selected_count(m) >= 1);
	assert_true(selected_count(m) < check_table_size);
	assert_false(serve_module_allows(m, "registry.example.com"));
	serve_config_free(c);
	unlink(path);
	free(text);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_refused("modules:\n  m:\n    credentials: {username: u, password_file: /etc/hostname}\n",
		       "no registries");
	expect_refused("modules:\n  m:\n    credentials: {username: u, password: x}\n", "password_file");
	expect_refused("modules:\n  m:\n    credentials: {username: u}\n", "go together");
	expect_refused("modules:\n  m:\n    credentials: {docker_config: /d, username: u, password_file: /p}\n",
		       "not both");
	expect_refused("modules:\n  m:\n    credentials: {username: u, password_file: /nonexistent/pw}\n"
		       "    registries: [x]\n", "cannot read");
	expect_refused("modules:\n  m:\n    writes: sometimes\n", "writes is none or probe");
	expect_refused("modules:\n  m:\n    min_interval: 60\n", "min_interval");
	expect_refused("modules:\n  m:\n    timeout: -1\n", "timeout");
	expect_refused("modules:\n  m:\n    colour: blue\n", "unknown module key 'colour'");
	expect_refused("modules:\n  m:\n    repository: Bad..Name\n", "invalid repository");
	expect_refused("modules:\n  m:\n    tag: 'a b'\n", "invalid tag");
	expect_refused("modules:\n  m:\n    cert: /c.pem\n", "cert and key");
	expect_refused("modules:\n  m:\n    insecure: maybe\n", "true or false");
	expect_refused("modules:\n  m:\n    checks: ['nosuch.*']\n", "selects no check");
	expect_refused("modules:\n  m: {}\n  m: {}\n", "defined twice");
	expect_refused("modules:\n  'bad name': {}\n", "module name");
	expect_refused("modules: {}\n", "empty");
	expect_refused("modules: [a]\n", "mapping");
	expect_refused("other: 1\n", "unknown key 'other'");
	expect_refused("- a\n", "mapping");
	expect_refused("modules: {a: [\n", "invalid YAML");
}

static void test_error_names_the_line(void **state)
{
	(void)state;
	expect_refused("modules:\n  a: {}\n  b:\n    writes: often\n", "t.yaml:4:");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_config_is_one_read_only_module),
		cmocka_unit_test(test_smallest_config),
		cmocka_unit_test(test_full_module),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_error_names_the_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
