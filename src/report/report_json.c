/*
 * report_json: the whole run as one JSON object (docs/json-report.md,
 * schema in docs/report.schema.json).
 */
#include "report/report.h"

static int json_begin(struct report *rep)
{
	rep->priv = report_run_json(rep->results);
	return rep->priv ? 0 : -1;
}

static int json_result(struct report *rep, const struct check_result *res)
{
	json_t *results = json_object_get(rep->priv, "results");

	return json_array_append_new(results, report_result_json(rep, res));
}

static int json_end(struct report *rep)
{
	int ret = json_dumpf(rep->priv, rep->out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(rep->priv);
	rep->priv = NULL;
	if (ret < 0)
		return -1;
	return fputc('\n', rep->out) == EOF ? -1 : 0;
}

const struct report_writer report_json = {
	.name = "json",
	.description = "one JSON object (schema: docs/report.schema.json)",
	.begin = json_begin,
	.result = json_result,
	.end = json_end,
};
