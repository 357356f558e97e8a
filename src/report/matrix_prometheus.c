/*
 * matrix_prometheus: the fleet in the Prometheus text exposition format,
 * one series per target with registry, repository and tag labels:
 *
 *   ocidoctor_target_status{registry,repository,tag}            0 pass, 1 info, 2 warn, 3 fail, -1 skip
 *   ocidoctor_target_capability_score{registry,repository,tag}  supported capabilities (of 5), when probed
 *   ocidoctor_target_capability_supported{capability,registry,repository,tag} 1, 0, -1 unknown
 *   ocidoctor_target_duration_seconds{registry,repository,tag}
 *   ocidoctor_matrix_timestamp_seconds                           when the fleet run started
 *
 * The lines of a family must stand together, so the rows are kept (a few
 * numbers and names each) and everything is written at the end.
 */
#include "report/matrix.h"
#include "report/report.h"
#include "util/xalloc.h"

#include <stdlib.h>

struct prom_rows {
	struct matrix_row **rows;
	size_t nr, alloc;
};


static void put_target(FILE *out, const struct matrix_row *row)
{
	fputs("registry=\"", out);
	report_put_label(out, row->registry);
	fputs("\",repository=\"", out);
	report_put_label(out, row->repository);
	fputs("\",tag=\"", out);
	report_put_label(out, row->tag);
	fputc('"', out);
}

static void prom_begin(struct matrix_out *m)
{
	m->priv = xcalloc(1, sizeof(struct prom_rows));
}

static void prom_row(struct matrix_out *m, const struct matrix_row *row)
{
	struct prom_rows *p = m->priv;

	ALLOC_GROW(p->rows, p->nr + 1, p->alloc);
	p->rows[p->nr++] = matrix_row_dup(row);
}

/* Days since 1970-01-01 of a civil date. */
static long days_from_civil(long y, long mo, long d)
{
	long era, yoe, doy;

	y -= mo <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void prom_end(struct matrix_out *m, int targets, enum check_status worst)
{
	struct prom_rows *p = m->priv;
	FILE *out = m->out;
	int y, mo, d, h, mi, s, any_caps = 0;
	size_t i, c;
	char z;

	(void)targets;
	(void)worst;
	fputs("# HELP ocidoctor_target_status Worst check status of each target: 0 pass, 1 info, 2 warn, 3 fail, -1 skip.\n"
	      "# TYPE ocidoctor_target_status gauge\n", out);
	for (i = 0; i < p->nr; i++) {
		fputs("ocidoctor_target_status{", out);
		put_target(out, p->rows[i]);
		fprintf(out, "} %d\n", report_status_value(p->rows[i]->worst));
		any_caps |= p->rows[i]->score >= 0;
	}
	if (any_caps) {
		fputs("# HELP ocidoctor_target_capability_score Supported capabilities of each target, out of 5.\n"
		      "# TYPE ocidoctor_target_capability_score gauge\n", out);
		for (i = 0; i < p->nr; i++)
			if (p->rows[i]->score >= 0) {
				fputs("ocidoctor_target_capability_score{", out);
				put_target(out, p->rows[i]);
				fprintf(out, "} %d\n", p->rows[i]->score);
			}
		fputs("# HELP ocidoctor_target_capability_supported Capability of each target: 1 supported, 0 unsupported, -1 unknown.\n"
		      "# TYPE ocidoctor_target_capability_supported gauge\n", out);
		for (i = 0; i < p->nr; i++)
			for (c = 0; p->rows[i]->score >= 0 && c < CAPABILITY_COUNT; c++) {
				fprintf(out, "ocidoctor_target_capability_supported{capability=\"%s\",",
					capability_names[c]);
				put_target(out, p->rows[i]);
				fprintf(out, "} %d\n", report_capability_value(p->rows[i]->caps[c]));
			}
	}
	fputs("# HELP ocidoctor_target_duration_seconds Wall time of each target's run.\n"
	      "# TYPE ocidoctor_target_duration_seconds gauge\n", out);
	for (i = 0; i < p->nr; i++) {
		fputs("ocidoctor_target_duration_seconds{", out);
		put_target(out, p->rows[i]);
		fprintf(out, "} %ld.%03ld\n", p->rows[i]->duration_ms / 1000,
			p->rows[i]->duration_ms % 1000);
	}
	if (m->started_at && sscanf(m->started_at, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h,
				    &mi, &s, &z) == 7 && z == 'Z')
		fprintf(out, "# HELP ocidoctor_matrix_timestamp_seconds When the fleet run started, in seconds since the Unix epoch.\n"
			"# TYPE ocidoctor_matrix_timestamp_seconds gauge\nocidoctor_matrix_timestamp_seconds %lld\n",
			(long long)days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s);
	for (i = 0; i < p->nr; i++)
		matrix_row_free(p->rows[i]);
	free(p->rows);
	free(p);
	m->priv = NULL;
}

const struct matrix_writer matrix_prometheus = {
	.name = "prometheus",
	.begin = prom_begin,
	.row = prom_row,
	.end = prom_end,
};
