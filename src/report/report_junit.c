/*
 * report_junit: JUnit XML for CI systems, valid against the Jenkins/Ant
 * JUnit schema (tests/junit-jenkins.xsd). One testcase per check, with the
 * class name ocidoctor.<check id>: fail is a <failure>, warn is a <failure>
 * whenever --fail-on warn (the default) makes it fail the run, and with
 * --fail-on never nothing is, so the file and the exit status agree; skip
 * is <skipped/>; the message and the fix go into the testcase's text.
 */
#include "report/report.h"

static void put_seconds(FILE *out, long ms)
{
	fprintf(out, "%ld.%03ld", ms / 1000, ms % 1000);
}

static int is_failure(const struct report *rep, enum check_status s)
{
	if (rep->nothing_fails)
		return 0;
	return s == STATUS_FAIL || (s == STATUS_WARN && rep->warn_fails);
}

/* "1 cause: <message> (<check>); N checks blocked by it", escaped. */
static void junit_cause(FILE *out, const struct check_result *cause, size_t blocked)
{
	fputs("1 cause: ", out);
	report_put_xml(out, cause->message);
	fprintf(out, " (%s); %zu %s blocked by it", cause->check->id, blocked,
		blocked == 1 ? "check" : "checks");
}

/* One root cause leads the suite, as a property CI systems show first. */
static void junit_cause_property(struct report *rep)
{
	const struct check_result *cause = results_root_cause(rep->results);

	if (!cause)
		return;
	fputs("    <properties>\n      <property name=\"cause\" value=\"", rep->out);
	junit_cause(rep->out, cause, results_blocked(rep->results));
	fputs("\"/>\n    </properties>\n", rep->out);
}

static int junit_begin(struct report *rep)
{
	const struct run_results *run = rep->results;
	const int *counts = run->counts;
	int failures = 0, tests = 0;
	size_t i;

	for (i = 0; i < STATUS_COUNT; i++) {
		tests += counts[i];
		if (is_failure(rep, (enum check_status)i))
			failures += counts[i];
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"ocidoctor\"", rep->out);
	fprintf(rep->out, " tests=\"%d\" failures=\"%d\" skipped=\"%d\" time=\"", tests, failures,
		counts[STATUS_SKIP]);
	put_seconds(rep->out, run->duration_ms);
	fputs("\">\n  <testsuite name=\"ocidoctor ", rep->out);
	report_put_xml(rep->out, run->registry);
	fprintf(rep->out, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" timestamp=\"%s\" time=\"",
		tests, failures, counts[STATUS_SKIP], run->started_at);
	put_seconds(rep->out, run->duration_ms);
	fputs("\">\n", rep->out);
	junit_cause_property(rep);
	return 0;
}

/*
 * The result's sections in its system-out, after the message: the title,
 * then a line per row, "name: key value, key value".
 */
static void junit_sections(FILE *out, const struct check_result *res)
{
	size_t i, j, k;

	for (i = 0; i < res->sections_nr; i++) {
		const struct result_section *s = &res->sections[i];
		size_t n = section_columns(s->def);

		fputs("\n", out);
		report_put_xml(out, s->def->title);
		fputc(':', out);
		for (j = 0; j < s->nr; j++) {
			fputs("\n  ", out);
			report_put_xml(out, s->rows[j].cells[0]);
			for (k = 1; k < n; k++) {
				fprintf(out, "%s%s ", k == 1 ? ": " : ", ", s->def->columns[k].key);
				report_put_xml(out, s->rows[j].cells[k]);
			}
		}
	}
}

/* The checks res blocked, one line: they carry no fix of their own. */
static void junit_blocks(struct report *rep, const struct check_result *res)
{
	const struct run_results *run = rep->results;
	const char *sep = "Blocks: ";
	size_t i;

	for (i = 0; i < run->nr; i++) {
		const struct check_result *b = &run->results[i];

		if (!b->selected || !b->done || b->blocked_by != res->check)
			continue;
		fputs(sep, rep->out);
		report_put_xml(rep->out, b->check->id);
		sep = ", ";
	}
	if (*sep == ',')
		fputc('\n', rep->out);
}

/*
 * The failure's body: the fix for the platform, its commands, where to
 * read more; for a blocked check, its cause's page.
 */
static void junit_fix(struct report *rep, const struct check_result *res)
{
	struct report_fix fix;
	char **c;

	if (report_under_cause(rep, res)) {
		fprintf(rep->out, "Blocked by %s: fix that first.\nSee: ocidoctor explain %s",
			res->blocked_by->id, res->blocked_by->id);
		return;
	}
	junit_blocks(rep, res);
	if (report_fix_get(rep, res, &fix) == 0) {
		fputs("Fix: ", rep->out);
		report_put_xml(rep->out, fix.text);
		for (c = fix.commands; *c; c++) {
			fputs("\n  $ ", rep->out);
			report_put_xml(rep->out, *c);
		}
		fputc('\n', rep->out);
		report_fix_release(&fix);
	}
	fprintf(rep->out, "See: ocidoctor explain %s", res->check->id);
}

static int junit_result(struct report *rep, const struct check_result *res)
{
	FILE *out = rep->out;

	fputs("    <testcase classname=\"ocidoctor.", out);
	report_put_xml(out, res->check->id);
	fputs("\" name=\"", out);
	report_put_xml(out, res->check->id);
	fputs("\" time=\"", out);
	put_seconds(out, res->duration_ms);
	fputs("\">\n", out);
	if (res->status == STATUS_SKIP) {
		fputs("      <skipped message=\"", out);
		report_put_xml(out, res->message);
		fputs("\"/>\n", out);
	} else if (is_failure(rep, res->status)) {
		fprintf(out, "      <failure type=\"%s\" message=\"", check_status_name(res->status));
		if (report_under_cause(rep, res))
			fprintf(out, "blocked by %s: ", res->blocked_by->id);
		report_put_xml(out, res->message);
		fputs("\">", out);
		junit_fix(rep, res);
		fputs("</failure>\n", out);
	}
	fprintf(out, "      <system-out>%s: ", check_status_name(res->status));
	report_put_xml(out, res->message);
	junit_sections(out, res);
	fputs("</system-out>\n    </testcase>\n", out);
	return 0;
}

/* The suite's summary, as the text report ends: the cause first, then the counts. */
static void junit_summary(struct report *rep)
{
	const struct run_results *run = rep->results;
	const struct check_result *cause = results_root_cause(run);
	const int *counts = run->counts;

	fputs("    <system-out>", rep->out);
	if (cause) {
		junit_cause(rep->out, cause, results_blocked(run));
		fputc('\n', rep->out);
	}
	fprintf(rep->out, "%d pass, %d info, %d warn, %d fail, %d skip; worst: %s (%ld %s in %ld ms)</system-out>\n",
		counts[STATUS_PASS], counts[STATUS_INFO], counts[STATUS_WARN], counts[STATUS_FAIL],
		counts[STATUS_SKIP], check_status_name(run->worst), run->requests,
		run->requests == 1 ? "request" : "requests", run->duration_ms);
}

static int junit_end(struct report *rep)
{
	junit_summary(rep);
	fputs("  </testsuite>\n</testsuites>\n", rep->out);
	return 0;
}

const struct report_writer report_junit = {
	.name = "junit",
	.description = "JUnit XML for CI systems, one testcase per check",
	.begin = junit_begin,
	.result = junit_result,
	.end = junit_end,
};
