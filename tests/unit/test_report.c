/*
 * Unit tests of the report layer's shared parts: placeholders in the
 * knowledge base's advice filled in with what the run knows, and the fix
 * chosen by platform.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void expect_fill(const struct run_results *run, const char *text, const char *want)
{
	char *got = report_fill(run, text);

	assert_string_equal(got, want);
	free(got);
}

static void test_fill(void **state)
{
	struct run_results run = { .registry = (char *)"http://127.0.0.1:5000",
				   .repository = (char *)"team/app", .tag = (char *)"1.0" };

	(void)state;
	expect_fill(&run, "curl -sI https://REGISTRY/v2/", "curl -sI http://127.0.0.1:5000/v2/");
	expect_fill(&run, "ocidoctor run --registry REGISTRY -v",
		    "ocidoctor run --registry http://127.0.0.1:5000 -v");
	expect_fill(&run, "docker login REGISTRY", "docker login 127.0.0.1:5000");
	expect_fill(&run, "skopeo copy docker://REGISTRY/REPOSITORY:TAG x",
		    "skopeo copy docker://127.0.0.1:5000/team/app:1.0 x");
	/* whole words only; DIGEST stays until the pull check found one */
	expect_fill(&run, "REGISTRY_AUTH_FILE and XREGISTRY and TAGS",
		    "REGISTRY_AUTH_FILE and XREGISTRY and TAGS");
	expect_fill(&run, "oras discover REGISTRY/REPOSITORY@DIGEST",
		    "oras discover 127.0.0.1:5000/team/app@DIGEST");
	run.manifest_digest = (char *)DIGEST;
	expect_fill(&run, "referrers/DIGEST", "referrers/" DIGEST);
	expect_fill(&run, "curl https://HOST:PORT/v2/ on PORTS", "curl https://127.0.0.1:5000/v2/ on PORTS");
	run.registry = (char *)"http://[::1]";
	expect_fill(&run, "https://HOST:PORT and getent hosts HOST", "https://[::1]:80 and getent hosts ::1");
	run.registry = (char *)"https://registry-1.docker.io";
	expect_fill(&run, "curl -v http://REGISTRY/v2/ and REGISTRY",
		    "curl -v https://registry-1.docker.io/v2/ and registry-1.docker.io");
}

static void test_platform_names(void **state)
{
	(void)state;
	assert_string_equal(report_platform(NULL), "bare-metal");
	assert_string_equal(report_platform("docker"), "docker-compose");
	assert_string_equal(report_platform("kubernetes"), "kubernetes");
}

static void test_fix_by_platform(void **state)
{
	struct run_results run = { .registry = (char *)"https://r.example", .repository = (char *)"a/b",
				   .tag = (char *)"t" };
	struct check_result res = { .check = &check_pull, .status = STATUS_WARN, .cause = "missing" };
	struct report rep = { .results = &run };
	struct report_fix fix;

	(void)state;
	assert_int_equal(report_fix_get(&rep, &res, &fix), 0);
	assert_string_equal(fix.step->platform, "bare-metal");
	assert_non_null(fix.commands[0]);
	assert_null(strstr(fix.commands[0], "REGISTRY"));
	assert_non_null(strstr(fix.commands[0], "--registry https://r.example"));
	report_fix_release(&fix);

	rep.platform = "kubernetes";
	assert_int_equal(report_fix_get(&rep, &res, &fix), 0);
	assert_string_equal(fix.step->platform, "kubernetes");
	report_fix_release(&fix);

	/* no docker-compose step for this cause: bare metal's */
	rep.platform = "docker-compose";
	assert_int_equal(report_fix_get(&rep, &res, &fix), 0);
	assert_string_equal(fix.step->platform, "bare-metal");
	report_fix_release(&fix);

	res.status = STATUS_PASS;
	assert_int_equal(report_fix_get(&rep, &res, &fix), -1);
}

/* A run with one result, the pull check's, for the writers. */
static char *write_with(const struct report_writer *w, struct run_config *cfg)
{
	struct check_result *results = calloc(check_table_size, sizeof(*results));
	struct run_results run = { .registry = (char *)cfg->registry,
				   .repository = (char *)cfg->repository, .tag = (char *)cfg->tag,
				   .results = results, .nr = check_table_size,
				   .started_at = "2026-01-02T03:04:05Z", .rate_limit_remaining = -1 };
	struct report rep = { .results = &run };
	char *text = NULL;
	size_t len = 0, i;

	assert_non_null(results);
	for (i = 0; i < check_table_size; i++)
		results[i].check = check_table[i];
	for (i = 0; i < check_table_size; i++)
		if (check_table[i] == &check_pull) {
			results[i].selected = results[i].done = 1;
			results[i].status = STATUS_WARN;
			results[i].cause = "missing";
			results[i].message = (char *)"the test image does not exist";
		}
	run_results_tally(&run);
	rep.out = open_memstream(&text, &len);
	assert_non_null(rep.out);
	assert_int_equal(report_write(w, &rep), 0);
	fclose(rep.out);
	free(results);
	return text;
}

/* Label values escape \, " and newlines; the timestamp is the run's start. */
static void test_prometheus_labels(void **state)
{
	struct run_config cfg = { .registry = "http://a\"b\\c\nd", .repository = "team/app",
				  .tag = "1.0" };
	char *text;

	(void)state;
	text = write_with(&report_prometheus, &cfg);
	assert_non_null(strstr(text, "ocidoctor_check_status{check=\"check.integration.oci.pull\","
				     "registry=\"http://a\\\"b\\\\c\\nd\",repository=\"team/app\"} 2\n"));
	assert_non_null(strstr(text, "ocidoctor_run_timestamp_seconds{registry=\"http://a\\\"b\\\\c\\nd\","
				     "repository=\"team/app\"} 1767323045\n"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_platform_names),
		cmocka_unit_test(test_fix_by_platform),
		cmocka_unit_test(test_prometheus_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
