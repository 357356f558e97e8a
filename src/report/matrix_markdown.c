/*
 * matrix_markdown: the fleet as a Markdown table for a CI job summary
 * ($GITHUB_STEP_SUMMARY, a merge request note), a row per target, with the
 * reason for every target that did not pass. Text from a server is put in
 * code spans or has its markup characters escaped, so it cannot turn into
 * links, images or table cells.
 */
#include "report/matrix.h"
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

/* m->priv points here once a cell was marked (the footnote is due). */
static int md_marked;


/* Plain text in a table cell: what is markup escaped (report_put_md), the rest as it reads. */
static void put_text(FILE *out, const char *s)
{
	report_put_md(out, s);
}

static void md_begin(struct matrix_out *m)
{
	size_t i;

	fprintf(m->out, "## ocidoctor: registry capability matrix\n\n%d target%s · started %s · ocidoctor %s\n\n"
		"| Registry | Image | Worst | Score |", m->total, m->total == 1 ? "" : "s",
		m->started_at ? m->started_at : "",
		OCIDOCTOR_VERSION);
	for (i = 0; i < CAPABILITY_COUNT; i++)
		fprintf(m->out, " %s |", matrix_cap_short[i]);
	fputs(" Reason |\n|---|---|---|---|", m->out);
	for (i = 0; i < CAPABILITY_COUNT; i++)
		fputs("---|", m->out);
	fputs("---|\n", m->out);
}

static void md_row(struct matrix_out *m, const struct matrix_row *row)
{
	char *image = matrix_row_image(row);
	size_t i;

	fputs("| ", m->out);
	put_text(m->out, row->registry);
	fputs(" | ", m->out);
	put_text(m->out, image);
	fprintf(m->out, " | **%s** | ", check_status_name(row->worst));
	if (row->score >= 0)
		fprintf(m->out, "%d/%d", row->score, row->probed);
	else
		fputc('-', m->out);
	fputs(" |", m->out);
	for (i = 0; i < CAPABILITY_COUNT; i++) {
		const char *mark = matrix_cap_mark(row->caps[i]);
		int noted = *matrix_cap_note(row, i) != '\0';

		/* "-" would start a list item; the note's "*" would start emphasis */
		fprintf(m->out, " %s%s |", strcmp(mark, "-") ? mark : "\\-",
			noted ? "\\" REPORT_FALLBACK_MARK : "");
		if (noted)
			m->priv = &md_marked;
	}
	fputc(' ', m->out);
	if (row->worst != STATUS_PASS)
		put_text(m->out, row->message);
	fputs(" |\n", m->out);
	fflush(m->out);
	free(image);
}

static void md_end(struct matrix_out *m, int targets, enum check_status worst)
{
	fprintf(m->out, "\n%d target%s; worst: **%s**. Capabilities: yes supported, no unsupported, "
		"? unknown, \\- not probed.\n", targets, targets == 1 ? "" : "s",
		check_status_name(worst));
	if (m->priv)
		fprintf(m->out, "\n\\%s\n", MATRIX_FALLBACK_LEGEND);
	m->priv = NULL;
}

const struct matrix_writer matrix_markdown = {
	.name = "markdown",
	.begin = md_begin,
	.row = md_row,
	.end = md_end,
};
