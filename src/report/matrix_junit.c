/*
 * matrix_junit: the fleet as JUnit XML, one <testsuite> per target (named
 * "REGISTRY IMAGE") with one <testcase> per reported check, class name
 * ocidoctor.<check id>. A fail or a warn is a <failure> (either makes the
 * matrix exit status non-zero), a skip is <skipped/>. Valid against the
 * Jenkins/Ant JUnit schema (tests/junit-jenkins.xsd). Streamed a target at
 * a time; the <testsuites> element carries no totals, which the schema
 * allows.
 */
#include "report/matrix.h"
#include "report/report.h"

#include <stdlib.h>

static void junit_begin(struct matrix_out *m)
{
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"ocidoctor matrix\">\n",
	      m->out);
}

static void junit_row(struct matrix_out *m, const struct matrix_row *row)
{
	FILE *out = m->out;
	char *image = matrix_row_image(row);
	int tests = 0, failures = 0, skipped = 0;
	size_t i;

	for (i = 0; i < row->nchecks; i++) {
		if (!row->ran[i])
			continue;
		tests++;
		failures += row->status[i] == STATUS_FAIL || row->status[i] == STATUS_WARN;
		skipped += row->status[i] == STATUS_SKIP;
	}
	fputs("  <testsuite name=\"", out);
	report_put_xml(out, row->registry);
	fputc(' ', out);
	report_put_xml(out, image);
	fprintf(out, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" timestamp=\"%s\" time=\"%ld.%03ld\">\n",
		tests, failures, skipped, m->started_at ? m->started_at : "",
		row->duration_ms / 1000, row->duration_ms % 1000);
	for (i = 0; i < row->nchecks; i++) {
		const char *status = check_status_name(row->status[i]);

		if (!row->ran[i])
			continue;
		fprintf(out, "    <testcase classname=\"ocidoctor.%s\" name=\"%s\">\n", check_table[i]->id,
			check_table[i]->id);
		if (row->status[i] == STATUS_SKIP) {
			fputs("      <skipped message=\"", out);
			report_put_xml(out, row->messages[i]);
			fputs("\"/>\n", out);
		} else if (row->status[i] == STATUS_FAIL || row->status[i] == STATUS_WARN) {
			fprintf(out, "      <failure type=\"%s\" message=\"", status);
			report_put_xml(out, row->messages[i]);
			fprintf(out, "\">See: ocidoctor explain %s</failure>\n", check_table[i]->id);
		}
		fprintf(out, "      <system-out>%s: ", status);
		report_put_xml(out, row->messages[i]);
		fputs("</system-out>\n    </testcase>\n", out);
	}
	fputs("  </testsuite>\n", out);
	fflush(out);
	free(image);
}

static void junit_end(struct matrix_out *m, int targets, enum check_status worst)
{
	(void)targets;
	(void)worst;
	fputs("</testsuites>\n", m->out);
}

const struct matrix_writer matrix_junit = {
	.name = "junit",
	.begin = junit_begin,
	.row = junit_row,
	.end = junit_end,
};
