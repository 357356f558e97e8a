/*
 * matrix_text: the fleet table for a terminal, a row per target as it finishes.
 */
#include "report/matrix.h"
#include "report/report.h"

#include <string.h>

static const char *const short_caps[CAPABILITY_COUNT] = { "version", "referrers", "chunked", "mount", "delete" };

static const char *mark(const char *state)
{
	if (!state || !strcmp(state, "not-probed"))
		return "-";
	if (!strcmp(state, "supported"))
		return "yes";
	if (!strcmp(state, "unsupported"))
		return "no";
	return "?";
}

static void text_begin(FILE *out)
{
	size_t i;

	fprintf(out, "%-56s %-5s %-5s", "TARGET", "WORST", "SCORE");
	for (i = 0; i < CAPABILITY_COUNT; i++)
		fprintf(out, " %-9s", short_caps[i]);
	fputs("\n", out);
}

static void text_row(FILE *out, const struct matrix_row *row)
{
	char target[512];
	size_t i;

	snprintf(target, sizeof(target), "%s %s:%s", row->registry, row->repository, row->tag);
	fprintf(out, "%-56s %-5s ", target, check_status_name(row->worst));
	if (row->score >= 0)
		fprintf(out, "%d/%d  ", row->score, row->probed);
	else
		fputs("-     ", out);
	for (i = 0; i < CAPABILITY_COUNT; i++)
		fprintf(out, " %-9s", mark(row->caps[i]));
	fputc('\n', out);
	fflush(out);
}

static void text_end(FILE *out, int targets, enum check_status worst)
{
	fprintf(out, "\n%d targets; worst: %s\n", targets, check_status_name(worst));
}

const struct matrix_writer matrix_text = {
	.name = "text",
	.begin = text_begin,
	.row = text_row,
	.end = text_end,
};
