/*
 * test_writers: every report writer and every fleet writer on one fixed
 * results structure, compared with the files under tests/golden/, so a
 * change to what a writer writes shows as a diff. The version string is
 * replaced by VERSION before the comparison.
 *
 * After an intended change: OCIDOCTOR_UPDATE_GOLDEN=1 build/test_writers
 * rewrites the files; review them with git diff.
 *
 * Also the result sections API (check.h) on its own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "report/matrix.h"
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef GOLDEN_DIR
#error "GOLDEN_DIR must name tests/golden"
#endif

/* A capability-like table shown with the summary, with Prometheus gauges. */
static const struct section_def caps_def = {
	.id = "capabilities",
	.title = "Capabilities",
	.columns = {
		{ .key = "name", .title = "Capability" },
		{ .key = "state", .title = "State" },
		{ .key = "reason", .title = "Reason" },
	},
	.summary = 1,
	.bare = 1,
	.metric_kind = SECTION_METRIC_STATE,
	.metric = "ocidoctor_capability_supported",
	.metric_label = "capability",
	.metric_help = "Registry capability: 1 supported, 0 unsupported, -1 unknown.",
	.score_metric = "ocidoctor_capability_score",
	.score_help = "Number of supported capabilities, out of 5.",
};

/* A client-like table with a heading, shown under its check, as info series. */
static const struct section_def clients_def = {
	.id = "clients",
	.title = "Referrers: what each client does",
	.columns = {
		{ .key = "name", .title = "Client" },
		{ .key = "list", .title = "List" },
		{ .key = "attach", .title = "Attach" },
		{ .key = "why", .title = "Why", .long_text = 1 },
	},
	.metric_kind = SECTION_METRIC_INFO,
	.metric = "ocidoctor_referrers_client_info",
	.metric_label = "client",
	.metric_help = "How each client will list and attach referrers, always 1.",
};

/* A table no writer has heard of: no metric, hostile-looking text. */
static const struct section_def other_def = {
	.id = "other",
	.title = "Other <table>",
	.columns = {
		{ .key = "name", .title = "Thing" },
		{ .key = "state", .title = "State" },
		{ .key = "evidence", .title = "Evidence" },
	},
};

static void add_evidence(struct check_result *res, const char *method, const char *url,
			 long status, long ms)
{
	struct evidence *ev;

	res->evidence.items = realloc(res->evidence.items,
				      (res->evidence.nr + 1) * sizeof(*res->evidence.items));
	assert_non_null(res->evidence.items);
	ev = &res->evidence.items[res->evidence.nr++];
	memset(ev, 0, sizeof(*ev));
	ev->method = strdup(method);
	ev->url = strdup(url);
	ev->status = status;
	ev->duration_ms = ms;
}

static struct check_result *result_of(struct run_results *r, const struct check *c)
{
	size_t i;

	for (i = 0; i < r->nr; i++)
		if (r->results[i].check == c)
			return &r->results[i];
	fail_msg("no %s in the table", c->id);
	return NULL;
}

static void set(struct check_result *res, enum check_status s, const char *cause, const char *msg,
		long ms)
{
	res->selected = res->done = 1;
	res->status = s;
	res->cause = cause;
	res->message = strdup(msg);
	res->duration_ms = ms;
	res->details = json_object();
}

/* The fixed run every writer renders. */
static void fixture(struct run_results *r)
{
	struct check_result *res;
	struct result_section *s;
	size_t i;

	run_results_init(r);
	run_results_set_config(r, "https://registry.example:5000", "team/app", "v1", NULL);
	r->manifest_digest = strdup("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	r->nr = check_table_size;
	r->results = calloc(r->nr, sizeof(*r->results));
	assert_non_null(r->results);
	for (i = 0; i < r->nr; i++)
		r->results[i].check = check_table[i];
	strcpy(r->started_at, "2026-01-02T03:04:05Z");
	r->duration_ms = 1234;
	r->requests = 17;
	r->round_trips = 6;
	r->rate_limit_remaining = 42;

	res = result_of(r, &check_registry);
	set(res, STATUS_PASS, NULL, "registry API reachable, anonymous access allowed", 12);
	json_object_set_new(res->details, "httpStatus", json_integer(200));
	add_evidence(res, "GET", "https://registry.example:5000/v2/", 200, 11);

	res = result_of(r, &check_credentials);
	set(res, STATUS_SKIP, NULL, "no credentials configured", 0);

	res = result_of(r, &check_pull);
	set(res, STATUS_PASS, NULL, "pulled the manifest of team/app:v1", 30);
	add_evidence(res, "GET", "https://registry.example:5000/v2/team/app/manifests/v1", 200, 29);

	res = result_of(r, &check_referrers);
	set(res, STATUS_WARN, "unsupported", "Referrers API not supported (404)", 20);
	s = result_section(res, &clients_def);
	section_row(s, (const char *const[]){ "oras", "tag-fallback", "tag-fallback", "404: oras reads the tag" });
	section_row(s, (const char *const[]){ "regclient", "tag-fallback", "unknown", "404 | the tag" });
	s = result_section(res, &other_def);
	section_row(s, (const char *const[]){ "x", "odd word", "<b>\"quoted\" & [link](x)</b>" });

	res = result_of(r, &check_capabilities);
	set(res, STATUS_INFO, NULL, "3/5 capabilities", 80);
	s = result_section(res, &caps_def);
	section_row(s, (const char *const[]){ "distributionVersion", "supported", "GET /v2/ sends registry/2.0" });
	section_row(s, (const char *const[]){ "referrersApi", "unsupported", "404" });
	section_row(s, (const char *const[]){ "chunkedUpload", "supported", "PATCH answered 202" });
	section_row(s, (const char *const[]){ "crossRepoMount", "supported", NULL });
	section_row(s, (const char *const[]){ "delete", "not-probed", "--no-writes" });
	run_results_tally(r);
}

/* out with every occurrence of the version replaced by VERSION; newly allocated. */
static char *unversioned(const char *text)
{
	const char *v = OCIDOCTOR_VERSION, *p;
	size_t n = strlen(v), len = 0;
	char *out = malloc(strlen(text) * 2 + 16);

	assert_non_null(out);
	for (p = text; *p;) {
		if (!strncmp(p, v, n)) {
			memcpy(out + len, "VERSION", 7);
			len += 7;
			p += n;
		} else {
			out[len++] = *p++;
		}
	}
	out[len] = 0;
	return out;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = 0;
	fclose(f);
	return s;
}

/* Compares text with tests/golden/name (or rewrites it when asked to). */
static void expect_golden(const char *name, const char *raw)
{
	char path[4096];
	char *text = unversioned(raw), *want;

	snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, name);
	if (getenv("OCIDOCTOR_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "wb");

		assert_non_null(f);
		fputs(text, f);
		fclose(f);
	}
	want = slurp(path);
	if (!want)
		fail_msg("%s is missing (OCIDOCTOR_UPDATE_GOLDEN=1 writes it)", path);
	if (strcmp(text, want)) {
		size_t i = 0;

		while (text[i] && text[i] == want[i])
			i++;
		fail_msg("%s differs from the output at byte %zu:\n--- output ---\n%s", path, i, text);
	}
	free(want);
	free(text);
}

static void golden_report(const struct report_writer *w, const char *file, int platform)
{
	struct run_results r;
	char *text = NULL;
	size_t len = 0;
	struct report rep = { .results = &r, .warn_fails = 1 };

	fixture(&r);
	rep.platform = platform ? "kubernetes" : NULL;
	rep.out = open_memstream(&text, &len);
	assert_non_null(rep.out);
	assert_int_equal(report_write(w, &rep), 0);
	fclose(rep.out);
	expect_golden(file, text);
	free(text);
	run_results_release(&r);
}

/*
 * --format conformance: the fixture plus an API table on the apis check
 * (three of its rows, one in each state family), and without one.
 */
static void test_conformance(void **state)
{
	struct run_results r;
	struct check_result *res;
	char *text = NULL;
	size_t len = 0;
	struct report rep = { .results = &r };

	(void)state;
	fixture(&r);
	res = result_of(&r, &check_apis);
	set(res, STATUS_WARN, "nonconformant", "1 of 28 APIs fail", 7);
	json_object_set_new(res->details, "apis",
			    json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}",
				      "Referrers", "state", "FAIL", "Ping", "state", "Pass",
				      "Blob get range", "state", "Skip", "Tag delete", "state",
				      "Disabled"));
	rep.out = open_memstream(&text, &len);
	assert_non_null(rep.out);
	assert_int_equal(report_write(&report_conformance, &rep), 0);
	fclose(rep.out);
	expect_golden("report.conformance.yaml", text);
	free(text);
	text = NULL;
	json_object_del(res->details, "apis");
	rep.out = open_memstream(&text, &len);
	assert_non_null(rep.out);
	assert_int_equal(report_write(&report_conformance, &rep), 0);
	fclose(rep.out);
	assert_string_equal(text, "apis: {}\n");
	free(text);
	run_results_release(&r);
}

static void test_text(void **state) { (void)state; golden_report(&report_text, "report.txt", 0); }
static void test_json(void **state) { (void)state; golden_report(&report_json, "report.json", 0); }
static void test_junit(void **state) { (void)state; golden_report(&report_junit, "report.junit.xml", 0); }
static void test_markdown(void **state) { (void)state; golden_report(&report_markdown, "report.md", 0); }
static void test_prometheus(void **state) { (void)state; golden_report(&report_prometheus, "report.prom", 0); }
static void test_html(void **state) { (void)state; golden_report(&report_html, "report.html", 1); }

/* The exporter's form of the Prometheus report (probe_* series, no registry label). */
static void test_prometheus_probe(void **state)
{
	struct report_probe p = { .openmetrics = 1, .success = 0, .duration_ms = 1500,
				  .timeout_ms = 10000 };
	struct run_results r;
	char *text = NULL;
	size_t len = 0;
	struct report rep = { .results = &r, .probe = &p };

	(void)state;
	fixture(&r);
	rep.out = open_memstream(&text, &len);
	assert_non_null(rep.out);
	assert_int_equal(report_write(&report_prometheus, &rep), 0);
	fclose(rep.out);
	expect_golden("report.openmetrics", text);
	free(text);
	run_results_release(&r);
}

/* Every fleet writer on two rows: the fixture and one with no capabilities. */
static void test_matrix_writers(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; matrix_writers[i]; i++) {
		const struct matrix_writer *w = matrix_writers[i];
		struct matrix_out m = { .started_at = "2026-01-02T03:04:05Z", .total = 2 };
		struct run_results a, b;
		struct matrix_row ra, rb;
		char *text = NULL, file[64];
		size_t len = 0;

		fixture(&a);
		fixture(&b);
		run_results_set_config(&b, "http://other.example", "library/alpine", "latest", NULL);
		result_of(&b, &check_capabilities)->selected = 0;
		result_of(&b, &check_pull)->status = STATUS_FAIL;
		run_results_tally(&b);
		matrix_row_from_results(&ra, &a);
		matrix_row_from_results(&rb, &b);
		m.out = open_memstream(&text, &len);
		assert_non_null(m.out);
		if (w->begin)
			w->begin(&m);
		w->row(&m, &ra);
		w->row(&m, &rb);
		if (w->end)
			w->end(&m, 2, STATUS_FAIL);
		fclose(m.out);
		snprintf(file, sizeof(file), "matrix.%s", w->name);
		expect_golden(file, text);
		free(text);
		matrix_row_release(&ra);
		matrix_row_release(&rb);
		run_results_release(&a);
		run_results_release(&b);
	}
}

/* A row has a cell for every check of the table, however long it is. */
static void test_matrix_row_sized_from_table(void **state)
{
	struct run_results r;
	struct matrix_row row, *copy;
	size_t i;

	(void)state;
	fixture(&r);
	matrix_row_from_results(&row, &r);
	assert_int_equal(row.nchecks, check_table_size);
	for (i = 0; i < check_table_size; i++)
		assert_int_equal(row.ran[i], r.results[i].selected && r.results[i].done);
	assert_int_equal(row.score, 3);
	assert_int_equal(row.probed, 4);
	assert_string_equal(row.caps[4], "not-probed");
	copy = matrix_row_dup(&row);
	assert_int_equal(copy->nchecks, check_table_size);
	assert_string_equal(copy->messages[0], r.results[0].message);
	matrix_row_free(copy);
	matrix_row_release(&row);
	run_results_release(&r);
}

/* The sections API: rows, cells by key, lookup, JSON form, ownership. */
static void test_sections(void **state)
{
	struct check_result res = { .check = &check_capabilities };
	struct result_section *s;
	const struct section_row *row;
	char name[] = "first";
	json_t *j, *row0;

	(void)state;
	assert_int_equal(section_columns(&caps_def), 3);
	assert_int_equal(section_columns(&clients_def), 4);
	s = result_section(&res, &caps_def);
	assert_ptr_equal(result_section(&res, &caps_def), s);   /* found again, not added */
	section_row(s, (const char *const[]){ name, "supported", NULL });
	section_row(s, (const char *const[]){ "second", "unknown", "why not" });
	name[0] = 'X';                                           /* rows keep their own copies */
	assert_int_equal(res.sections_nr, 1);
	assert_int_equal(s->nr, 2);
	row = section_find_row(s, "first");
	assert_non_null(row);
	assert_string_equal(section_cell(s, row, "state"), "supported");
	assert_string_equal(section_cell(s, row, "reason"), "");   /* NULL becomes "" */
	assert_null(section_cell(s, row, "attach"));
	assert_null(section_find_row(s, "third"));
	s = result_section(&res, &clients_def);
	assert_int_equal(res.sections_nr, 2);
	section_row(s, (const char *const[]){ "oras", "api", "api", "because" });

	j = result_sections_json(&res);
	assert_int_equal(json_array_size(j), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "id")), "capabilities");
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(json_object_get(json_array_get(j, 0), "columns"), 0), "title")), "Capability");
	row0 = json_array_get(json_object_get(json_array_get(j, 0), "rows"), 1);
	assert_string_equal(json_string_value(json_object_get(row0, "reason")), "why not");
	assert_string_equal(json_string_value(json_object_get(row0, "name")), "second");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
		json_array_get(j, 1), "rows"), 0), "attach")), "api");
	json_decref(j);
	check_result_release(&res);
	assert_null(res.sections);
	assert_int_equal(res.sections_nr, 0);
}

/* In a results structure: the first section by id of a selected, finished result. */
static void test_results_section_lookup(void **state)
{
	struct run_results r;

	(void)state;
	fixture(&r);
	assert_non_null(results_section(&r, "capabilities"));
	assert_non_null(results_section(&r, "clients"));
	assert_null(results_section(&r, "nothing"));
	result_of(&r, &check_capabilities)->done = 0;
	assert_null(results_section(&r, "capabilities"));   /* not finished: not shown */
	assert_int_equal(r.worst, STATUS_WARN);
	assert_int_equal(r.counts[STATUS_SKIP], 1);
	run_results_release(&r);
	assert_null(r.results);
	assert_int_equal(r.rate_limit_remaining, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_results_section_lookup),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_junit),
		cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_prometheus_probe),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_conformance),
		cmocka_unit_test(test_matrix_writers),
		cmocka_unit_test(test_matrix_row_sized_from_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
