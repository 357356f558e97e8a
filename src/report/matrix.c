/*
 * matrix: the table of fleet writers and the row every writer renders.
 */
#include "report/matrix.h"
#include "report/report.h"

#include <string.h>

static const struct matrix_writer *const writers[] = {
	&matrix_text, &matrix_json, &matrix_csv, &matrix_html, NULL
};

const struct matrix_writer *matrix_writer_find(const char *name)
{
	size_t i;

	for (i = 0; writers[i]; i++)
		if (!strcmp(writers[i]->name, name))
			return writers[i];
	return NULL;
}

void matrix_row_from_run(struct matrix_row *row, const struct run *run)
{
	const json_t *caps = report_capabilities(run);
	enum check_status worst_seen = STATUS_PASS;
	size_t i;

	memset(row, 0, sizeof(*row));
	row->registry = run->config->registry;
	row->repository = run->config->repository;
	row->tag = run->config->tag;
	row->worst = run_worst(run, NULL);
	row->duration_ms = run->duration_ms;
	row->requests = run->requests;
	row->score = -1;
	for (i = 0; i < check_table_size && i < MATRIX_MAX_CHECKS; i++) {
		const struct check_result *res = &run->results[i];

		if (!res->selected || !res->done)
			continue;
		row->ran[i] = 1;
		row->status[i] = res->status;
		if (!row->message || res->status > worst_seen) {
			row->message = res->message;
			worst_seen = res->status;
		}
	}
	if (!caps)
		return;
	row->score = 0;
	for (i = 0; i < CAPABILITY_COUNT; i++) {
		const char *state = json_string_value(json_object_get(
			json_object_get(caps, capability_names[i]), "state"));

		row->caps[i] = state ? state : "unknown";
		row->score += state && !strcmp(state, "supported");
		row->probed += !state || strcmp(state, "not-probed");
	}
}
