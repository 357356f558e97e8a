/*
 * matrix_text: the fleet table for a terminal, a row per target in the
 * targets file's order, with the reason (the worst result's message) for
 * every target that did not pass.
 */
#include "report/matrix.h"

#include <stdlib.h>
#include <string.h>
#include "report/report.h"

/* m->priv points here once a cell was marked (the footnote is due). */
static int text_marked;

static void text_begin(struct matrix_out *m)
{
	size_t i;

	fprintf(m->out, "%-56s %-5s %-5s", "TARGET", "WORST", "SCORE");
	for (i = 0; i < CAPABILITY_COUNT; i++)
		fprintf(m->out, " %-9s", matrix_cap_short[i]);
	fputs(" REASON\n", m->out);
}

static void text_row(struct matrix_out *m, const struct matrix_row *row)
{
	char *image = matrix_row_image(row), *reason;
	char target[512], score[32] = "-";
	size_t i;

	snprintf(target, sizeof(target), "%s %s", row->registry, image);
	if (row->score >= 0)
		snprintf(score, sizeof(score), "%d/%d", row->score, row->probed);
	/* the same widths as the heading's, whether or not the target answered */
	fprintf(m->out, "%-56s %-5s %-5s", target, check_status_name(row->worst), score);
	for (i = 0; i < CAPABILITY_COUNT; i++) {
		char cell[16];

		snprintf(cell, sizeof(cell), "%s%s", matrix_cap_mark(row->caps[i]), matrix_cap_note(row, i));
		if (*matrix_cap_note(row, i))
			m->priv = &text_marked;
		fprintf(m->out, " %-9s", cell);
	}
	if (row->worst != STATUS_PASS && row->message) {
		reason = xstrfmt("%s", row->message);
		text_sanitize(reason);
		fprintf(m->out, " %s", reason);
		free(reason);
	}
	fputc('\n', m->out);
	fflush(m->out);
	free(image);
}

static void text_end(struct matrix_out *m, int targets, enum check_status worst)
{
	fprintf(m->out, "\n%d target%s; worst: %s\n", targets, targets == 1 ? "" : "s",
		check_status_name(worst));
	if (m->priv)
		fprintf(m->out, "%s\n", MATRIX_FALLBACK_LEGEND);
	m->priv = NULL;
}

const struct matrix_writer matrix_text = {
	.name = "text",
	.begin = text_begin,
	.row = text_row,
	.end = text_end,
};
