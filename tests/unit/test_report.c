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
		    "oras discover 127.0.0.1:5000/team/app:1.0");
	run.manifest_digest = (char *)DIGEST;
	expect_fill(&run, "referrers/DIGEST", "referrers/" DIGEST);
	expect_fill(&run, "curl https://HOST:PORT/v2/ on PORTS", "curl https://127.0.0.1:5000/v2/ on PORTS");
	run.registry = (char *)"http://[::1]";
	expect_fill(&run, "https://HOST:PORT and getent hosts HOST", "https://[::1]:80 and getent hosts ::1");
	run.registry = (char *)"https://registry-1.docker.io";
	expect_fill(&run, "curl -v http://REGISTRY/v2/ and REGISTRY",
		    "curl -v https://registry-1.docker.io/v2/ and registry-1.docker.io");
}

static void expect_command(const struct run_results *run, const char *text, const char *want)
{
	char *got = report_command(run, text);

	assert_string_equal(got, want);
	free(got);
}

/* Every tool on a command line gets what it needs to reach the registry as the run did. */
static void test_command_flags(void **state)
{
	struct run_results run = { .registry = (char *)"https://reg.example:5443",
				   .repository = (char *)"team/app", .tag = (char *)"1.0" };

	(void)state;
	run.invocation.ca_file = (char *)"/etc/ca dir/ca.crt";
	run.invocation.username = (char *)"ci";
	run.invocation.password_stdin = 1;
	run.invocation.proxy = (char *)"http://proxy.example:3128";
	run.invocation.proxy_var = (char *)"HTTPS_PROXY";
	run.no_writes = 1;
	expect_command(&run, "ocidoctor run --registry REGISTRY -v",
		       "printf '%s' \"$PASSWORD\" | HTTPS_PROXY=http://proxy.example:3128 "
		       "ocidoctor run --registry https://reg.example:5443 -v --repository team/app "
		       "--tag 1.0 --ca-file '/etc/ca dir/ca.crt' --username ci --password-stdin "
		       "--writes none");
	/* already piped: no second printf; explain talks to no registry */
	run.invocation.proxy = NULL;
	expect_command(&run, "printf x | ocidoctor run --registry REGISTRY --username USER --password-stdin && ocidoctor explain X",
		       "printf x | ocidoctor run --registry https://reg.example:5443 --username USER "
		       "--password-stdin --repository team/app --tag 1.0 --ca-file '/etc/ca dir/ca.crt' "
		       "--writes none && ocidoctor explain X");
	expect_command(&run, "curl -sI https://REGISTRY/v2/",
		       "curl --cacert '/etc/ca dir/ca.crt' -sI https://reg.example:5443/v2/");
	expect_command(&run, "skopeo copy docker://docker.io/x:1 docker://REGISTRY/REPOSITORY:TAG",
		       "skopeo copy --dest-cert-dir '/etc/ca dir' docker://docker.io/x:1 "
		       "docker://reg.example:5443/team/app:1.0");
	run.registry = (char *)"http://127.0.0.1:5000";
	run.invocation.ca_file = NULL;
	run.invocation.username = NULL;
	expect_command(&run, "skopeo copy docker://docker.io/x:1 docker://REGISTRY/REPOSITORY:TAG",
		       "skopeo copy --dest-tls-verify=false docker://docker.io/x:1 "
		       "docker://127.0.0.1:5000/team/app:1.0");
	expect_command(&run, "crane ls REGISTRY/REPOSITORY", "crane ls 127.0.0.1:5000/team/app --insecure");
	expect_command(&run, "regctl tag ls REGISTRY/REPOSITORY",
		       "regctl registry set 127.0.0.1:5000 --tls disabled && regctl tag ls 127.0.0.1:5000/team/app");
	expect_command(&run, "oras repo tags REGISTRY/REPOSITORY",
		       "oras repo tags 127.0.0.1:5000/team/app --plain-http");
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
	assert_non_null(strstr(fix.commands[1], "--registry https://r.example "));
	assert_non_null(strstr(fix.commands[1], " --repository a/b --tag t"));
	report_fix_release(&fix);

	rep.platform = "kubernetes";
	assert_int_equal(report_fix_get(&rep, &res, &fix), 0);
	assert_string_equal(fix.step->platform, "kubernetes");
	report_fix_release(&fix);

	/* no step for this platform: bare metal's */
	rep.platform = "no-such-platform";
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
		cmocka_unit_test(test_command_flags),
		cmocka_unit_test(test_platform_names),
		cmocka_unit_test(test_fix_by_platform),
		cmocka_unit_test(test_prometheus_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
