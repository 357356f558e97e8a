/*
 * matrix_html: the fleet table as one self-contained page, streamed a row
 * at a time. It fits a 1280-pixel window: columns sized for their content
 * (headings never broken, short capability headings with the full names
 * in their titles and in the legend), long names broken anywhere, and the
 * reason column kept wide enough to read. A legend, the start time and the version say how to
 * read it and where it came from.
 */
#include "report/matrix.h"

#include <stdlib.h>
#include <string.h>
#include "report/report.h"

/* m->priv points here once a cell was marked (the footnote is due). */
static int html_marked;


static void html_begin(struct matrix_out *m)
{
	FILE *out = m->out;
	size_t i;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
	      "<title>ocidoctor matrix</title><style>"
	      "body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:1240px;padding:0 .5rem;color:#1f2328}"
	      "h1{font-size:1.4rem;margin-bottom:.2rem}.sub{color:#59636e;margin-top:0}"
	      "table{border-collapse:collapse;width:100%}"
	      "td,th{border:1px solid #d1d9e0;padding:.3rem .45rem;text-align:left;vertical-align:top}"
	      "th{background:#f6f8fa;font-size:.85rem;white-space:nowrap}td.c,th.c{text-align:center}"
	      "td{font-size:.9rem;overflow-wrap:break-word}td.c{white-space:nowrap}"
	      "td.reason{overflow-wrap:anywhere}"
	      ".supported,.pass{background:#dafbe1}.unsupported,.fail{background:#ffebe9}"
	      ".unknown,.warn{background:#fff8c5}.info{background:#ddf4ff}.skip{background:#eaeef2}"
	      ".legend{font-size:.85rem;color:#59636e}"
	      "</style></head><body>\n<h1>ocidoctor: registry capability matrix</h1>\n", out);
	fprintf(out, "<p class=\"sub\">%d target%s · started %s · ocidoctor %s</p>\n", m->total,
		m->total == 1 ? "" : "s", m->started_at ? m->started_at : "", OCIDOCTOR_VERSION);
	fputs("<p class=\"legend\">Capabilities: <b>yes</b> supported, <b>no</b> unsupported, "
	      "<b>?</b> unknown (the answers did not settle it), <b>-</b> not probed. ", out);
	for (i = 0; i < CAPABILITY_COUNT; i++)
		fprintf(out, "%s<b>%s</b> = %s", i ? ", " : "", matrix_cap_short[i], capability_names[i]);
	fputs(". Score: supported capabilities out of 5. Reason: the message of the worst check of "
	      "a target that did not pass.</p>\n<table>\n<tr><th>Registry</th><th>Image</th><th>Worst</th>"
	      "<th class=\"c\">Score</th>", out);
	for (i = 0; i < CAPABILITY_COUNT; i++)
		fprintf(out, "<th class=\"c\" title=\"%s\">%s</th>", capability_names[i], matrix_cap_short[i]);
	fputs("<th>Reason</th></tr>\n", out);
}

static void html_row(struct matrix_out *m, const struct matrix_row *row)
{
	FILE *out = m->out;
	char *image = matrix_row_image(row);
	size_t i;

	fputs("<tr><td>", out);
	report_put_xml(out, row->registry);
	fputs("</td><td>", out);
	report_put_xml(out, image);
	fprintf(out, "</td><td class=\"%s\">%s</td><td class=\"c\">", check_status_name(row->worst),
		check_status_name(row->worst));
	if (row->score >= 0)
		fprintf(out, "%d/%d", row->score, row->probed);
	else
		fputc('-', out);
	fputs("</td>", out);
	for (i = 0; i < CAPABILITY_COUNT; i++) {
		const char *note = matrix_cap_note(row, i);

		fprintf(out, "<td class=\"c %s\" title=\"%s: %s%s\">%s%s</td>",
			*note ? "unknown" : row->caps[i] ? row->caps[i] : "", capability_names[i],
			row->caps[i] ? row->caps[i] : "not probed",
			*note ? ", but every client falls back to the tag schema" : "",
			matrix_cap_mark(row->caps[i]), note);
		if (*note)
			m->priv = &html_marked;
	}
	fputs("<td class=\"reason\">", out);
	if (row->worst != STATUS_PASS)
		report_put_xml(out, row->message);
	fputs("</td></tr>\n", out);
	fflush(out);
	free(image);
}

static void html_end(struct matrix_out *m, int targets, enum check_status worst)
{
	fprintf(m->out, "</table>\n<p>%d target%s; worst: <b class=\"%s\">%s</b></p>\n"
		"%s%s%s<p class=\"legend\">ocidoctor %s</p>\n</body></html>\n", targets, targets == 1 ? "" : "s",
		check_status_name(worst), check_status_name(worst), m->priv ? "<p class=\"legend\">" : "",
		m->priv ? MATRIX_FALLBACK_LEGEND : "", m->priv ? "</p>\n" : "", OCIDOCTOR_VERSION);
	m->priv = NULL;
}

const struct matrix_writer matrix_html = {
	.name = "html",
	.begin = html_begin,
	.row = html_row,
	.end = html_end,
};
