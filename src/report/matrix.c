/*
 * matrix: the table of fleet writers and the row every writer renders.
 */
#include "report/matrix.h"
#include "report/report.h"

#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

const struct matrix_writer *const matrix_writers[] = {
	&matrix_text, &matrix_json, &matrix_csv, &matrix_html, &matrix_junit, &matrix_markdown,
	&matrix_prometheus, NULL
};

const struct matrix_writer *matrix_writer_find(const char *name)
{
	size_t i;

	for (i = 0; matrix_writers[i]; i++)
		if (!strcmp(matrix_writers[i]->name, name))
			return matrix_writers[i];
	return NULL;
}

void matrix_row_from_results(struct matrix_row *row, const struct run_results *r)
{
	const struct result_section *caps = results_section(r, "capabilities");
	enum check_status worst_seen = STATUS_PASS;
	size_t i;

	memset(row, 0, sizeof(*row));
	row->registry = r->registry;
	row->repository = r->repository;
	row->tag = r->tag;
	row->worst = r->worst;
	row->duration_ms = r->duration_ms;
	row->requests = r->requests;
	row->score = -1;
	row->nchecks = r->nr;
	row->status = xcalloc(r->nr ? r->nr : 1, sizeof(*row->status));
	row->ran = xcalloc(r->nr ? r->nr : 1, sizeof(*row->ran));
	row->messages = xcalloc(r->nr ? r->nr : 1, sizeof(*row->messages));
	for (i = 0; i < r->nr; i++) {
		const struct check_result *res = &r->results[i];

		if (!res->selected || !res->done)
			continue;
		row->ran[i] = 1;
		row->status[i] = res->status;
		row->messages[i] = res->message;
		if (!row->message || res->status > worst_seen) {
			row->message = res->message;
			worst_seen = res->status;
		}
	}
	if (!caps)
		return;
	row->referrers_unused = report_referrers_unused(r);
	row->score = 0;
	for (i = 0; i < CAPABILITY_COUNT; i++) {
		const struct section_row *c = section_find_row(caps, capability_names[i]);
		const char *state = c ? section_cell(caps, c, "state") : NULL;

		row->caps[i] = state ? state : "unknown";
		row->score += state && !strcmp(state, "supported");
		row->probed += !state || strcmp(state, "not-probed");
	}
}

void matrix_row_release(struct matrix_row *row)
{
	free(row->status);
	free(row->ran);
	free(row->messages);
	row->status = NULL;
	row->ran = NULL;
	row->messages = NULL;
}

static const char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct matrix_row *matrix_row_dup(const struct matrix_row *row)
{
	struct matrix_row *copy = xmalloc(sizeof(*copy));
	size_t i;

	*copy = *row;
	copy->registry = dup_or_null(row->registry);
	copy->repository = dup_or_null(row->repository);
	copy->tag = dup_or_null(row->tag);
	copy->message = dup_or_null(row->message);
	copy->status = xcalloc(row->nchecks ? row->nchecks : 1, sizeof(*copy->status));
	copy->ran = xcalloc(row->nchecks ? row->nchecks : 1, sizeof(*copy->ran));
	copy->messages = xcalloc(row->nchecks ? row->nchecks : 1, sizeof(*copy->messages));
	for (i = 0; i < row->nchecks; i++) {
		copy->status[i] = row->status[i];
		copy->ran[i] = row->ran[i];
		copy->messages[i] = dup_or_null(row->messages[i]);
	}
	/* caps[] point at static state words or at the results' sections: copy them too */
	for (i = 0; i < CAPABILITY_COUNT; i++)
		copy->caps[i] = dup_or_null(row->caps[i]);
	return copy;
}

void matrix_row_free(struct matrix_row *row)
{
	size_t i;

	if (!row)
		return;
	free((char *)row->registry);
	free((char *)row->repository);
	free((char *)row->tag);
	free((char *)row->message);
	for (i = 0; i < row->nchecks; i++)
		free((char *)row->messages[i]);
	free(row->messages);
	free(row->status);
	free(row->ran);
	for (i = 0; i < CAPABILITY_COUNT; i++)
		free((char *)row->caps[i]);
	free(row);
}

char *matrix_row_image(const struct matrix_row *row)
{
	return image_ref_format(row->repository, row->tag);
}

const char *const matrix_cap_short[CAPABILITY_COUNT] = { "version", "referrers", "chunked", "mount",
							  "delete" };

const char *matrix_cap_mark(const char *state)
{
	if (!state || !strcmp(state, "not-probed"))
		return "-";
	if (!strcmp(state, "supported"))
		return "yes";
	if (!strcmp(state, "unsupported"))
		return "no";
	return "?";
}

const char *matrix_cap_note(const struct matrix_row *row, size_t column)
{
	if (!row->referrers_unused || strcmp(capability_names[column], "referrersApi") ||
	    !row->caps[column] || strcmp(row->caps[column], "supported"))
		return "";
	return REPORT_FALLBACK_MARK;
}
