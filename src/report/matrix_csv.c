/*
 * matrix_csv: RFC 4180 CSV, a header and a row per target as it finishes.
 */
#include "report/matrix.h"
#include "report/report.h"

#include <string.h>

static void put_field(FILE *out, const char *s)
{
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void csv_begin(struct matrix_out *m)
{
	FILE *out = m->out;
	size_t i;

	fputs("registry,repository,tag,worst,score", out);
	for (i = 0; i < CAPABILITY_COUNT; i++)
		fprintf(out, ",%s", capability_names[i]);
	fputs(",durationMs,message\r\n", out);
}

static void csv_row(struct matrix_out *m, const struct matrix_row *row)
{
	FILE *out = m->out;
	size_t i;

	put_field(out, row->registry);
	fputc(',', out);
	put_field(out, row->repository);
	fputc(',', out);
	put_field(out, row->tag);
	fprintf(out, ",%s,", check_status_name(row->worst));
	if (row->score >= 0)
		fprintf(out, "%d", row->score);
	for (i = 0; i < CAPABILITY_COUNT; i++) {
		fputc(',', out);
		put_field(out, row->caps[i]);
	}
	fprintf(out, ",%ld,", row->duration_ms);
	put_field(out, row->message);
	fputs("\r\n", out);
	fflush(out);
}

const struct matrix_writer matrix_csv = {
	.name = "csv",
	.begin = csv_begin,
	.row = csv_row,
};
