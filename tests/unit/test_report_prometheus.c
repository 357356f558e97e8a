/*
 * Unit tests for report/report_prometheus: one writer for `run --format
 * prometheus` (a registry label on every series) and for the exporter's
 * probes (no registry label, the probe_* series, OpenMetrics on request),
 * on a real run against a loopback port nothing listens on.
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

#include "doctor/doctor.h"
#include "report/report.h"
#include "loopback.h"

static struct doctor_result res;
static struct engine *engine;
static char url[64];

static int setup(void **state)
{
	struct engine_options eo = { .timeout_ms = 10000 };
	struct doctor_settings s = { .registry = url };
	const char *why = NULL;
	int port, fd = loopback_socket(0, &port);

	(void)state;
	if (fd < 0)
		return -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	close(fd);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (engine_new(&engine, &eo) < 0)
		return -1;
	return doctor_run(&res, &s, engine, &why);
}

static int teardown(void **state)
{
	(void)state;
	doctor_result_release(&res);
	engine_free(engine);
	curl_global_cleanup();
	return 0;
}

static char *render(const struct report_probe *probe)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct report rep = { .out = out, .results = &res.results, .probe = probe };

	assert_non_null(out);
	assert_int_equal(report_write(&report_prometheus, &rep), 0);
	fclose(out);
	return text;
}

static void expect_in(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		fail_msg("'%s' is not in:\n%s", needle, text);
}

static void test_run_has_registry_labels(void **state)
{
	char *text = render(NULL), line[256];

	(void)state;
	snprintf(line, sizeof(line),
		 "ocidoctor_check_status{check=\"check.integration.oci.registry\",registry=\"%s\","
		 "repository=\"library/alpine\"} 3\n", url);
	expect_in(text, line);
	snprintf(line, sizeof(line),
		 "ocidoctor_run_duration_seconds{registry=\"%s\",repository=\"library/alpine\"} ", url);
	expect_in(text, line);
	expect_in(text, "\nocidoctor_run_timestamp_seconds{");
	expect_in(text, "ocidoctor_build_info{version=\"" OCIDOCTOR_VERSION "\"} 1\n");
	assert_null(strstr(text, "ocidoctor_probe_success"));
	assert_null(strstr(text, "# EOF"));
	free(text);
}

static void test_probe_has_no_target_label(void **state)
{
	struct report_probe p = { .success = 0, .duration_ms = 1234, .timeout_ms = 9500 };
	char *text = render(&p);

	(void)state;
	assert_null(strstr(text, "registry=\""));
	expect_in(text, "# TYPE ocidoctor_probe_success gauge\nocidoctor_probe_success 0\n");
	expect_in(text, "ocidoctor_probe_duration_seconds 1.234\n");
	expect_in(text, "ocidoctor_probe_timeout_seconds 9.500\n");
	expect_in(text, "ocidoctor_probe_cached 0\n");
	expect_in(text, "ocidoctor_check_status{check=\"check.integration.oci.registry\"} 3\n");
	expect_in(text, "ocidoctor_check_status{check=\"check.integration.oci.pull\"} 3\n");
	expect_in(text, "ocidoctor_check_duration_seconds{check=\"check.integration.oci.pull\"} ");
	assert_null(strstr(text, "ocidoctor_run_duration_seconds"));
	assert_null(strstr(text, "ocidoctor_run_timestamp_seconds"));
	assert_null(strstr(text, "repository=\""));
	assert_null(strstr(text, "ocidoctor_capability_supported"));
	assert_null(strstr(text, "# EOF"));
	free(text);
}

static void test_openmetrics_ends_in_eof(void **state)
{
	struct report_probe p = { .openmetrics = 1, .success = 1, .cached = 1, .cache_age_ms = 61000 };
	char *text = render(&p);
	size_t n = strlen(text);

	(void)state;
	assert_true(n > 6);
	assert_string_equal(text + n - 6, "# EOF\n");
	assert_ptr_equal(strstr(text, "# EOF"), text + n - 6);
	expect_in(text, "\nocidoctor_probe_cached 1\n");
	expect_in(text, "ocidoctor_probe_cache_age_seconds 61.000\n");
	free(text);
}

static void test_probe_only(void **state)
{
	struct report_probe p = { .openmetrics = 1, .timeout_ms = 120000 };
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	(void)state;
	report_prometheus_probe_only(out, &p);
	fclose(out);
	expect_in(text, "ocidoctor_probe_success 0\n");
	expect_in(text, "ocidoctor_probe_timeout_seconds 120.000\n");
	assert_null(strstr(text, "ocidoctor_check_status"));
	assert_string_equal(text + len - 6, "# EOF\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_has_registry_labels),
		cmocka_unit_test(test_probe_has_no_target_label),
		cmocka_unit_test(test_openmetrics_ends_in_eof),
		cmocka_unit_test(test_probe_only),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
