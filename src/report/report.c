/*
 * report: the writer table and the JSON shape of results, shared by the
 * writers that need it.
 */
#include "report/report.h"

#include <string.h>

const struct report_writer *const report_writers[] = {
	&report_text,
	&report_json,
	&report_junit,
	&report_markdown,
	&report_prometheus,
	&report_html,
	NULL
};

const struct report_writer *report_writer_find(const char *name)
{
	size_t i;

	for (i = 0; report_writers[i]; i++)
		if (!strcmp(report_writers[i]->name, name))
			return report_writers[i];
	return NULL;
}

int report_write(const struct report_writer *w, struct report *rep)
{
	size_t i;

	if (w->begin && w->begin(rep) < 0)
		return -1;
	for (i = 0; i < check_table_size; i++) {
		const struct check_result *res = &rep->run->results[i];

		if (res->selected && w->result && w->result(rep, res) < 0)
			return -1;
	}
	if (w->end && w->end(rep) < 0)
		return -1;
	return fflush(rep->out) == 0 && !ferror(rep->out) ? 0 : -1;
}

static json_t *string_array(const char *const *items)
{
	json_t *a = json_array();

	for (; items && *items; items++)
		json_array_append_new(a, json_string(*items));
	return a;
}

static json_t *evidence_json(const struct evidence_log *log)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < log->nr; i++) {
		const struct evidence *ev = &log->items[i];
		json_t *o = json_pack("{s:s, s:s, s:I, s:I}", "method", ev->method, "url", ev->url,
				      "status", (json_int_t)ev->status,
				      "durationMs", (json_int_t)ev->duration_ms);

		if (ev->error)
			json_object_set_new(o, "error", json_string(ev->error));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *remediation_json(const struct check_result *res)
{
	const struct remediation *r = check_remediation(res);
	json_t *steps = json_array();
	const struct remediation_step *s;

	if (!r)
		return NULL;
	for (s = r->steps; s && s->platform; s++)
		json_array_append_new(steps, json_pack("{s:s, s:s, s:o}", "platform", s->platform,
						       "text", s->text,
						       "commands", string_array(s->commands)));
	return json_pack("{s:s, s:o, s:s+}", "summary", r->summary, "steps", steps,
			 "runbook", "ocidoctor explain ", res->check->id);
}

json_t *report_result_json(const struct check_result *res)
{
	const struct check *c = res->check;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:I, s:o, s:o}",
			      "checkId", c->id, "plugin", c->plugin, "title", c->title,
			      "status", check_status_name(res->status),
			      "severity", check_status_name(c->severity),
			      "tags", string_array(c->tags),
			      "message", res->message ? res->message : "",
			      "durationMs", (json_int_t)res->duration_ms,
			      "details", res->details ? json_incref(res->details) : json_object(),
			      "evidence", evidence_json(&res->evidence));

	if (res->status != STATUS_PASS) {
		json_t *r = remediation_json(res);

		if (r)
			json_object_set_new(o, "remediation", r);
	}
	return o;
}

json_t *report_run_json(const struct run *run)
{
	int counts[STATUS_COUNT];
	enum check_status worst = run_worst(run, counts);
	json_t *summary = json_pack("{s:i, s:i, s:i, s:i, s:i, s:s}",
				    "pass", counts[STATUS_PASS], "info", counts[STATUS_INFO],
				    "warn", counts[STATUS_WARN], "fail", counts[STATUS_FAIL],
				    "skip", counts[STATUS_SKIP], "worst", check_status_name(worst));
	json_t *o;

	o = json_pack("{s:i, s:{s:s, s:s}, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:b, s:o, s:[]}",
			 "schemaVersion", 1,
			 "tool", "name", "ocidoctor", "version", OCIDOCTOR_VERSION,
			 "registry", run->config->registry,
			 "repository", run->config->repository,
			 "tag", run->config->tag,
			 "startedAt", run->started_at,
			 "durationMs", (json_int_t)run->duration_ms,
			 "requests", (json_int_t)run->requests,
			 "roundTrips", (json_int_t)run->round_trips,
			 "insecure", run->config->insecure,
			 "summary", summary,
			 "results");
	if (run->rate_limit)
		json_object_set(o, "rateLimit", run->rate_limit);
	return o;
}

void report_put_xml(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			/* XML 1.0 forbids most control characters. */
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				fputc('?', out);
			else
				fputc(*s, out);
		}
	}
}

const json_t *report_capabilities(const struct run *run)
{
	size_t i;

	for (i = 0; i < check_table_size; i++) {
		const struct check_result *res = &run->results[i];

		if (res->check == &check_capabilities && res->selected && res->done)
			return json_object_get(res->details, "capabilities");
	}
	return NULL;
}

const json_t *report_referrers_clients(const struct run *run)
{
	size_t i;

	for (i = 0; i < check_table_size; i++) {
		const struct check_result *res = &run->results[i];

		if (res->check == &check_referrers && res->selected && res->done)
			return json_object_get(res->details, "clients");
	}
	return NULL;
}

const json_t *report_leftovers(const struct check_result *res)
{
	const json_t *l = json_object_get(res->details, "leftovers");

	return json_array_size(l) ? l : NULL;
}

const char *report_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}
