/*
 * matrix_json: JSON lines, one compact object per target as it finishes.
 */
#include "report/matrix.h"
#include "report/report.h"

#include <jansson.h>

static void json_row(struct matrix_out *m, const struct matrix_row *row)
{
	FILE *out = m->out;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s?}", "registry", row->registry,
			      "repository", row->repository, "tag", row->tag,
			      "worst", check_status_name(row->worst),
			      "durationMs", (json_int_t)row->duration_ms,
			      "requests", (json_int_t)row->requests, "message", row->message);
	json_t *checks = json_object(), *caps;
	size_t i;

	for (i = 0; i < row->nchecks; i++)
		if (row->ran[i])
			json_object_set_new(checks, check_table[i]->id,
					    json_string(check_status_name(row->status[i])));
	json_object_set_new(o, "checks", checks);
	if (row->score >= 0) {
		caps = json_object();
		for (i = 0; i < CAPABILITY_COUNT; i++)
			json_object_set_new(caps, capability_names[i], json_string(row->caps[i]));
		json_object_set_new(o, "score", json_integer(row->score));
		json_object_set_new(o, "probed", json_integer(row->probed));
		json_object_set_new(o, "capabilities", caps);
	}
	json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	fflush(out);
	json_decref(o);
}

const struct matrix_writer matrix_json = {
	.name = "json",
	.row = json_row,
};
