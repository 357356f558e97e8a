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

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

/* The checks a selection without checks or tags takes: every one that is not opt-in. */
static size_t default_count(void)
{
	size_t i, n = 0;

	for (i = 0; i < check_table_size; i++)
		n += !check_table[i]->opt_in;
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
	assert_int_equal(selected_count(m), default_count());
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

static struct serve_config *with_registries(const char *list)
{
	char text[512];

	snprintf(text, sizeof(text), "modules:\n  m:\n    registries: %s\n", list);
	return parse_ok(text);
}

static const struct serve_module *the_module(const struct serve_config *c)
{
	return serve_config_module(c, "m");
}

/* IPv6 literals were fnmatch character classes: "[fd00::5]" matched a host named d. */
static void test_ipv6_registries_match_literally(void **state)
{
	struct serve_config *c;

	(void)state;
	c = with_registries("['[fd00::5]:18911']");
	assert_true(serve_module_allows(the_module(c), "[fd00::5]:18911"));
	assert_true(serve_module_allows(the_module(c), "[fd00:0:0::5]:18911"));
	assert_true(serve_module_allows(the_module(c), "[FD00::0005]:18911"));
	assert_false(serve_module_allows(the_module(c), "d:18911"));
	assert_false(serve_module_allows(the_module(c), "d"));
	assert_false(serve_module_allows(the_module(c), "5"));
	assert_false(serve_module_allows(the_module(c), "f:18911"));
	assert_false(serve_module_allows(the_module(c), "[fd00::5]"));
	assert_false(serve_module_allows(the_module(c), "[fd00::5]:18912"));
	assert_false(serve_module_allows(the_module(c), "[fd00::6]:18911"));
	serve_config_free(c);
	c = with_registries("['[::1]:18900', '[fe80::1]']");
	assert_true(serve_module_allows(the_module(c), "[::1]:18900"));
	assert_true(serve_module_allows(the_module(c), "[0:0::1]:18900"));
	assert_true(serve_module_allows(the_module(c), "[0:0:0:0:0:0:0:1]:18900"));
	assert_true(serve_module_allows(the_module(c), "[fe80::1]"));
	assert_false(serve_module_allows(the_module(c), "[fe80::1]:443"));
	assert_false(serve_module_allows(the_module(c), "[::1]:18901"));
	assert_false(serve_module_allows(the_module(c), "[::1]"));
	assert_false(serve_module_allows(the_module(c), "[::2]:18900"));
	assert_false(serve_module_allows(the_module(c), ":1:18900"));
	assert_false(serve_module_allows(the_module(c), "1:18900"));
	assert_false(serve_module_allows(the_module(c), "127.0.0.1:18900"));
	serve_config_free(c);
}

static void test_registries_ports_and_wildcards(void **state)
{
	struct serve_config *c;
	const struct serve_module *m;

	(void)state;
	c = with_registries("[Registry.Example.com, 'reg.example:*', '127.0.0.1:5000', "
			    "'*.corp.example', '*.Team.Example:5000', '[::1]:*']");
	m = the_module(c);
	/* host names without regard to case; a pattern without a port wants none */
	assert_true(serve_module_allows(m, "registry.example.com"));
	assert_true(serve_module_allows(m, "REGISTRY.example.COM"));
	assert_false(serve_module_allows(m, "registry.example.com:443"));
	assert_false(serve_module_allows(m, "registry.example.co"));
	assert_false(serve_module_allows(m, "registry_example.com"));
	/* :* is any port, or none */
	assert_true(serve_module_allows(m, "reg.example"));
	assert_true(serve_module_allows(m, "reg.example:1"));
	assert_true(serve_module_allows(m, "reg.example:65535"));
	assert_false(serve_module_allows(m, "a.reg.example:5000"));
	assert_false(serve_module_allows(m, "reg.examples:5000"));
	/* IPv4 and its port, literally */
	assert_true(serve_module_allows(m, "127.0.0.1:5000"));
	assert_false(serve_module_allows(m, "127.0.0.1:50000"));
	assert_false(serve_module_allows(m, "127.0.0.1:500"));
	assert_false(serve_module_allows(m, "127.0.0.1"));
	assert_false(serve_module_allows(m, "127.0.0.10:5000"));
	/* *. is one or more labels in front of the domain, never the domain itself */
	assert_true(serve_module_allows(m, "a.corp.example"));
	assert_true(serve_module_allows(m, "a.b.corp.example"));
	assert_false(serve_module_allows(m, "corp.example"));
	assert_false(serve_module_allows(m, "acorp.example"));
	assert_false(serve_module_allows(m, "a.corp.example.evil"));
	assert_false(serve_module_allows(m, "a.corp.example:5000"));
	assert_true(serve_module_allows(m, "x.team.example:5000"));
	assert_false(serve_module_allows(m, "x.team.example"));
	assert_false(serve_module_allows(m, "x.team.example:5001"));
	/* [::1]:* */
	assert_true(serve_module_allows(m, "[::1]"));
	assert_true(serve_module_allows(m, "[::1]:9"));
	assert_false(serve_module_allows(m, "[::2]:9"));
	serve_config_free(c);
}

/* Patterns that used to be globs are refused at load, on their line. */
static void test_registries_that_are_no_pattern(void **state)
{
	static const char *const bad[] = {
		"'*'", "'*:*'", "'reg?.example'", "'[a-z].example'", "'[!d].example'", "'*.*.example'",
		"'a*.example'", "'reg.*'", "'*example.com'", "'::1'", "'::1:5000'", "'[::1'",
		"'[::1]x'", "'[::1]:'", "'[not-v6]:5000'", "'[127.0.0.1]:5000'", "'reg.example:'",
		"'reg.example:0'", "'reg.example:65536'", "'reg.example:5x'", "'reg.example:**'",
		"'reg.example:500*'", "'reg.example:+5'", "'reg..example'", "'.reg.example'",
		"'reg.example.'", "'*.'", "''", "'reg example'", "'*.127.0.0.1'",
	};
	char text[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(text, sizeof(text), "modules:\n  m:\n    registries:\n      - ok.example\n"
			 "      - %s\n", bad[i]);
		expect_refused(text, "t.yaml:5: registries: '");
		expect_refused(text, "is not a host pattern");
	}
	expect_refused("modules:\n  m:\n    registries: 'reg.*'\n", "not a host pattern");
	expect_refused("modules:\n  m:\n    registries: {a: b}\n", "list of host patterns");
}

static char *temp_file(const char *content)
{
	char path[] = "/tmp/ocidoctor-unit-pw-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	return strdup(path);
}

/* A second credentials: used to read a second password over the first, unwiped. */
static void test_keys_given_twice(void **state)
{
	char *pw = temp_file("first\n");
	char text[1024];

	(void)state;
	snprintf(text, sizeof(text),
		 "modules:\n  m:\n    credentials: {username: a, password_file: %s}\n"
		 "    registries: [x.example]\n    credentials: {username: b, password_file: %s}\n", pw, pw);
	expect_refused(text, "t.yaml:5: module 'm': 'credentials' is given twice");
	snprintf(text, sizeof(text),
		 "modules:\n  m:\n    credentials: {username: a, password_file: %s, password_file: %s}\n"
		 "    registries: [x.example]\n", pw, pw);
	expect_refused(text, "credentials: 'password_file' is given twice");
	expect_refused("modules:\n  m:\n    timeout: 5\n    timeout: 6\n", "t.yaml:4: module 'm': 'timeout' is given twice");
	expect_refused("modules:\n  m:\n    registries: [a.example]\n    registries: [b.example]\n",
		       "'registries' is given twice");
	expect_refused("modules:\n  m: {}\nmodules:\n  n: {}\n", "t.yaml:3: modules: is given twice");
	unlink(pw);
	free(pw);
}

/* A key copied from the --config file (camelCase) is the same key here (snake_case). */
static void test_keys_in_either_spelling(void **state)
{
	struct serve_config *c;
	const struct serve_module *m;

	(void)state;
	c = parse_ok("modules:\n  m:\n    scratchRepository: team/s\n    minInterval: 90\n"
		     "    writes: probe\n");
	m = serve_config_module(c, "m");
	assert_non_null(m);
	assert_string_equal(m->scratch, "team/s");
	assert_int_equal(m->min_interval_ms, 90000);
	serve_config_free(c);
	expect_refused("modules:\n  m:\n    min_interval: 90\n    writes: probe\n    minInterval: 60\n",
		       "t.yaml:5: module 'm': 'minInterval' is given twice");
	expect_refused("modules:\n  m:\n    noSuchKey: 1\n", "no_such_key");
	/* and a switch reads as in the --config file */
	c = parse_ok("modules:\n  m:\n    insecure: On\n");
	assert_true(serve_config_module(c, "m")->insecure);
	serve_config_free(c);
}

static void on_alarm(int sig)
{
	(void)sig;
	_exit(99); /* a read that blocks fails the test instead of hanging it */
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A FIFO, a directory or a device is refused at load, without waiting for a writer. */
static void test_credentials_files_cannot_block(void **state)
{
	char dir[] = "/tmp/ocidoctor-unit-fifo-XXXXXX";
	char fifo[128], docker[160], json[200], text[1024];
	struct timespec t0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/pw", dir);
	snprintf(docker, sizeof(docker), "%s/docker", dir);
	snprintf(json, sizeof(json), "%s/config.json", docker);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(mkdir(docker, 0700), 0);
	assert_int_equal(mkfifo(json, 0600), 0);
	signal(SIGALRM, on_alarm);
	alarm(20);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	snprintf(text, sizeof(text), "modules:\n  m:\n    credentials: {username: u, password_file: %s}\n"
		 "    registries: [x.example]\n", fifo);
	expect_refused(text, "not a regular file");
	snprintf(text, sizeof(text), "modules:\n  m:\n    credentials: {docker_config: %s}\n"
		 "    registries: [x.example]\n", docker);
	expect_refused(text, "not a regular file");
	snprintf(text, sizeof(text), "modules:\n  m:\n    credentials: {username: u, password_file: %s}\n"
		 "    registries: [x.example]\n", dir);
	expect_refused(text, "not a regular file");
	snprintf(text, sizeof(text), "modules:\n  m:\n    credentials: {username: u, password_file: /dev/zero}\n"
		 "    registries: [x.example]\n");
	expect_refused(text, "not a regular file");
	alarm(0);
	assert_true(seconds_since(&t0) < 5);
	unlink(json);
	rmdir(docker);
	unlink(fifo);
	rmdir(dir);
}

/* 200k levels took 68 s to load; the depth is bounded before libyaml loads it. */
static void test_deep_yaml_is_refused_quickly(void **state)
{
	static const char head[] = "modules:\n  m:\n    checks: ";
	size_t levels = 200000, n = strlen(head);
	char *text = malloc(n + 2 * levels + 2);
	struct timespec t0;

	(void)state;
	assert_non_null(text);
	memcpy(text, head, n);
	memset(text + n, '[', levels);
	memset(text + n + levels, ']', levels);
	strcpy(text + n + 2 * levels, "\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_refused(text, "t.yaml:3: nested deeper than 64 levels");
	assert_true(seconds_since(&t0) < 5);
	free(text);
}

/* Durations: NaN, infinities, signs and exponents used to slip through strtod. */
static void test_durations_are_plain_seconds(void **state)
{
	static const char *const bad[] = { "nan", ".nan", "inf", ".inf", "-.inf", "-1", "0", "1e3",
					   "0x10", "86401", "1e-9", "30x", "1m30s", "5 s", "25h" };
	char text[128];
	struct serve_config *c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(text, sizeof(text), "modules:\n  m:\n    timeout: '%s'\n", bad[i]);
		expect_refused(text, "timeout is a number of seconds");
		snprintf(text, sizeof(text), "modules:\n  m:\n    writes: probe\n    min_interval: %s\n",
			 bad[i]);
		expect_refused(text, "min_interval is a number of seconds");
	}
	expect_refused("modules:\n  m:\n    timeout: [1]\n", "timeout is a number of seconds");
	c = parse_ok("modules:\n  m:\n    writes: probe\n    timeout: 0.25\n    min_interval: 90\n");
	assert_int_equal(serve_config_module(c, "m")->timeout_ms, 250);
	assert_int_equal(serve_config_module(c, "m")->min_interval_ms, 90000);
	serve_config_free(c);
	/* Prometheus' units */
	c = parse_ok("modules:\n  m:\n    writes: probe\n    timeout: 5s\n    min_interval: 1m\n");
	assert_int_equal(serve_config_module(c, "m")->timeout_ms, 5000);
	assert_int_equal(serve_config_module(c, "m")->min_interval_ms, 60000);
	serve_config_free(c);
	c = parse_ok("modules:\n  m:\n    timeout: 1500ms\n");
	assert_int_equal(serve_config_module(c, "m")->timeout_ms, 1500);
	serve_config_free(c);
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
		cmocka_unit_test(test_ipv6_registries_match_literally),
		cmocka_unit_test(test_registries_ports_and_wildcards),
		cmocka_unit_test(test_registries_that_are_no_pattern),
		cmocka_unit_test(test_durations_are_plain_seconds),
		cmocka_unit_test(test_keys_given_twice),
		cmocka_unit_test(test_keys_in_either_spelling),
		cmocka_unit_test(test_deep_yaml_is_refused_quickly),
		cmocka_unit_test(test_credentials_files_cannot_block),
		cmocka_unit_test(test_error_names_the_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
