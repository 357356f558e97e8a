/*
 * Unit tests for cli/settings: the one settings path of run and matrix.
 * For each table, and for each source, a value set by a higher source
 * wins: flags > environment > config file > the table's defaults; and
 * the source recorded for the value says which one it came from.
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

#include "cli/config.h"
#include "cli/options.h"
#include "cli/settings.h"
#include "cli/targets.h"

#include <time.h>

static char config_path[64];

/* Every variable the tables read, unset, so the host's environment does not leak in. */
static void clear_env(void)
{
	const struct opt *tables[] = { run_opts, matrix_opts };
	size_t t;

	for (t = 0; t < 2; t++) {
		const struct opt *o;

		for (o = tables[t]; o->long_name; o++)
			if (o->env)
				unsetenv(o->env);
	}
}

static int setup(void **state)
{
	(void)state;
	clear_env();
	snprintf(config_path, sizeof(config_path), "/tmp/ocidoctor-test-settings-%ld.yaml",
		 (long)getpid());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	clear_env();
	unlink(config_path);
	return 0;
}

static void write_config(const char *text)
{
	FILE *f = fopen(config_path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

struct resolved {
	struct run_args a;
	char *sources[SOURCE_MAX];
};

/* Resolves argv (NULL-terminated) with opts; asserts it succeeds. */
static void resolve(struct resolved *r, const struct opt *opts, const char **argv)
{
	char *why = NULL;
	int argc = 0;

	memset(r, 0, sizeof(*r));
	while (argv[argc])
		argc++;
	if (settings_resolve(opts, &r->a, r->sources, argc, (char **)argv, &why) < 0)
		fail_msg("resolve failed: %s", why);
}

static const char *source_of(struct resolved *r, const char *name)
{
	return r->sources[opt_index(r->a.opts, name)];
}

static void release(struct resolved *r)
{
	run_args_release(&r->a, r->sources);
}

/* The table's defaults, when nothing sets a value. */
static void check_defaults(const struct opt *opts, const char **argv)
{
	struct resolved r;

	resolve(&r, opts, argv);
	assert_string_equal(r.a.repository, "library/alpine");
	assert_string_equal(source_of(&r, "repository"), "default");
	assert_string_equal(r.a.tag, "latest");
	assert_string_equal(r.a.fail_on, "warn");
	assert_string_equal(r.a.format, "text");
	assert_int_equal(r.a.timeout, 30);
	assert_string_equal(source_of(&r, "timeout"), "default");
	assert_null(source_of(&r, "docker-config"));
	assert_string_equal(r.a.writes, "probe");
	assert_string_equal(source_of(&r, "writes"), "default");
	release(&r);
}

/* Each source over the ones below it, for the settings of several groups. */
static void check_precedence(const struct opt *opts, const char **base)
{
	const char *argv[24];
	struct resolved r;
	size_t n = 0, i;

	for (i = 0; base[i]; i++)
		argv[n++] = base[i];
	argv[n++] = "--config";
	argv[n++] = config_path;
	argv[n] = NULL;

	write_config("oci:\n  testRepository: file/repo\n  timeout: 41\n  failOn: fail\n"
		     "  dockerConfig: /file/docker\n  tags: [registry]\n  format: json\n"
		     "  writes: none\n");
	/* the file over the defaults */
	resolve(&r, opts, argv);
	assert_string_equal(r.a.repository, "file/repo");
	assert_non_null(strstr(source_of(&r, "repository"), config_path));
	assert_int_equal(r.a.timeout, 41);
	assert_string_equal(r.a.fail_on, "fail");
	assert_string_equal(r.a.docker_config, "/file/docker");
	assert_int_equal(r.a.tags.nr, 1);
	assert_string_equal(r.a.tags.items[0], "registry");
	assert_string_equal(r.a.format, "json");
	assert_string_equal(r.a.writes, "none");
	assert_true(r.a.no_writes);
	release(&r);

	/* the environment over the file */
	setenv("OCIDOCTOR_WRITES", "verify", 1);
	setenv("OCI__TestRepository", "env/repo", 1);
	setenv("OCIDOCTOR_TIMEOUT", "42", 1);
	setenv("OCIDOCTOR_FAIL_ON", "never", 1);
	setenv("OCIDOCTOR_DOCKER_CONFIG", "/env/docker", 1);
	resolve(&r, opts, argv);
	assert_string_equal(r.a.repository, "env/repo");
	assert_string_equal(source_of(&r, "repository"), "environment OCI__TestRepository");
	assert_int_equal(r.a.timeout, 42);
	assert_string_equal(r.a.fail_on, "never");
	assert_string_equal(r.a.docker_config, "/env/docker");
	assert_string_equal(r.a.format, "json"); /* not in the environment: still the file's */
	assert_string_equal(r.a.writes, "verify");
	assert_false(r.a.no_writes);
	release(&r);

	/* flags over the environment */
	argv[n++] = "--repository";
	argv[n++] = "flag/repo";
	argv[n++] = "--timeout";
	argv[n++] = "43";
	argv[n++] = "--fail-on";
	argv[n++] = "warn";
	argv[n++] = "--docker-config";
	argv[n++] = "/flag/docker";
	argv[n++] = "--writes";
	argv[n++] = "probe";
	argv[n] = NULL;
	resolve(&r, opts, argv);
	assert_string_equal(r.a.repository, "flag/repo");
	assert_string_equal(source_of(&r, "repository"), "flag --repository");
	assert_int_equal(r.a.timeout, 43);
	assert_string_equal(source_of(&r, "timeout"), "flag --timeout");
	assert_string_equal(r.a.fail_on, "warn");
	assert_string_equal(r.a.docker_config, "/flag/docker");
	assert_string_equal(source_of(&r, "fail-on"), "flag --fail-on");
	assert_string_equal(r.a.writes, "probe");
	assert_string_equal(source_of(&r, "writes"), "flag --writes");
	release(&r);
	clear_env();
}

static void test_run_defaults(void **state)
{
	const char *argv[] = { "--registry", "https://r.example", NULL };

	(void)state;
	check_defaults(run_opts, argv);
}

static void test_matrix_defaults(void **state)
{
	const char *argv[] = { "--targets", "t.txt", NULL };
	struct resolved r;

	(void)state;
	check_defaults(matrix_opts, argv);
	resolve(&r, matrix_opts, argv);
	assert_int_equal(r.a.parallel, 16);
	release(&r);
}

static void test_run_precedence(void **state)
{
	const char *argv[] = { "--registry", "https://r.example", NULL };

	(void)state;
	check_precedence(run_opts, argv);
}

static void test_matrix_precedence(void **state)
{
	const char *argv[] = { "--targets", "t.txt", NULL };

	(void)state;
	check_precedence(matrix_opts, argv);
}

/* The config file named by the environment, for matrix as for run. */
static void test_config_from_environment(void **state)
{
	const struct opt *tables[] = { run_opts, matrix_opts };
	const char *argv[] = { NULL };
	size_t t;

	(void)state;
	write_config("oci:\n  testTag: from-file\n");
	for (t = 0; t < 2; t++) {
		struct resolved r;

		setenv("OCIDOCTOR_CONFIG", config_path, 1);
		resolve(&r, tables[t], argv);
		assert_string_equal(r.a.tag, "from-file");
		release(&r);
		clear_env();
	}
}

/* A config file shared with run: registryUrl and platform are taken by matrix, not refused. */
static void test_matrix_takes_a_run_config(void **state)
{
	const char *argv[] = { "--targets", "t.txt", "--config", config_path, NULL };
	struct resolved r;

	(void)state;
	write_config("oci:\n  registryUrl: https://r.example\n  platform: docker\n");
	resolve(&r, matrix_opts, argv);
	assert_string_equal(r.a.registry, "https://r.example");
	release(&r);
}

/* Help is generated from the table: the default and the values, once. */
static void test_help_from_the_table(void **state)
{
	const struct opt *o = &matrix_opts[opt_index(matrix_opts, "format")];
	char *help = opt_help_text(o), *values = opt_values_text(o);

	(void)state;
	assert_non_null(strstr(help, "default text"));
	assert_non_null(strstr(values, "csv"));
	assert_non_null(strstr(values, "prometheus"));
	assert_non_null(strstr(help, values));
	free(help);
	free(values);
	o = &run_opts[opt_index(run_opts, "timeout")];
	help = opt_help_text(o);
	assert_non_null(strstr(help, "default 30, at most 86400"));
	free(help);
}

/* head, then levels of "[" and as many "]": libyaml's time is quadratic in them. */
static char *deep_yaml(const char *head, size_t levels)
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

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* 200k levels took 68 s to load; the depth is bounded first, so it is refused at once. */
static void test_deep_config_file_is_refused_quickly(void **state)
{
	char *text = deep_yaml("oci:\n  checks: ", 200000);
	struct run_args a;
	char *sources[SOURCE_MAX] = { 0 };
	char *why = NULL;
	double t0 = now_s();

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(config_apply_text("deep.yaml", text, strlen(text), run_opts, &a, sources,
					   &why), -1);
	assert_true(now_s() - t0 < 5);
	assert_non_null(why);
	if (!strstr(why, "deep.yaml:2: nested deeper than 64 levels"))
		fail_msg("reason: %s", why);
	free(why);
	free(text);
}

static void test_deep_targets_file_is_refused_quickly(void **state)
{
	char *text = deep_yaml("- ", 200000);
	struct target_defaults def = { .repository = "library/alpine", .tag = "latest" };
	struct target_source src;
	char path[64];
	char *why = NULL;
	double t0;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/ocidoctor-test-targets-%ld.yaml", (long)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	t0 = now_s();
	assert_int_equal(source_load(&src, path, &def, &why), -1);
	assert_true(now_s() - t0 < 5);
	assert_non_null(why);
	if (!strstr(why, ":1: nested deeper than 64 levels") || !strstr(why, path))
		fail_msg("reason: %s", why);
	free(why);
	source_close(&src);
	unlink(path);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_run_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_matrix_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_matrix_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_from_environment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_matrix_takes_a_run_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help_from_the_table, setup, teardown),
		cmocka_unit_test(test_deep_config_file_is_refused_quickly),
		cmocka_unit_test(test_deep_targets_file_is_refused_quickly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
