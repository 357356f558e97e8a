/*
 * matrix_html: the fleet table as one self-contained page, streamed a row
 * at a time.
 */
#include "report/matrix.h"

#include <string.h>
#include "report/report.h"

static void html_begin(FILE *out)
{
	size_t i;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ocidoctor matrix</title><style>"
	      "body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}"
	      "td,th{border:1px solid #d1d9e0;padding:.3rem .6rem}th{background:#f6f8fa}"
	      ".supported,.pass{background:#dafbe1}.unsupported,.fail{background:#ffebe9}"
	      ".unknown,.warn{background:#fff8c5}.info{background:#ddf4ff}"
	      "</style></head><body>\n<h1>ocidoctor: registry capability matrix</h1>\n"
	      "<table><tr><th>Registry</th><th>Repository</th><th>Worst</th><th>Score</th>", out);
	for (i = 0; i < CAPABILITY_COUNT; i++)
		fprintf(out, "<th>%s</th>", capability_names[i]);
	fputs("</tr>\n", out);
}

static void html_row(FILE *out, const struct matrix_row *row)
{
	size_t i;

	fputs("<tr><td>", out);
	report_put_xml(out, row->registry);
	fputs("</td><td>", out);
	report_put_xml(out, row->repository);
	fputc(strchr(row->tag, ':') ? '@' : ':', out);
	report_put_xml(out, row->tag);
	fprintf(out, "</td><td class=\"%s\">%s</td><td>", check_status_name(row->worst),
		check_status_name(row->worst));
	if (row->score >= 0)
		fprintf(out, "%d/5", row->score);
	fputs("</td>", out);
	for (i = 0; i < CAPABILITY_COUNT; i++)
		fprintf(out, "<td class=\"%s\">%s</td>", row->caps[i] ? row->caps[i] : "",
			row->caps[i] ? row->caps[i] : "-");
	fputs("</tr>\n", out);
	fflush(out);
}

static void html_end(FILE *out, int targets, enum check_status worst)
{
	fprintf(out, "</table>\n<p>%d targets; worst: %s</p>\n</body></html>\n", targets,
		check_status_name(worst));
}

const struct matrix_writer matrix_html = {
	.name = "html",
	.begin = html_begin,
	.row = html_row,
	.end = html_end,
};
