/*
 * report: the writer table and the JSON shape of results, shared by the
 * writers that need it.
 */
#include "report/report.h"
#include "checks/kb.h"
#include "util/buf.h"
#include "util/ref.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

const struct report_writer *const report_writers[] = {
	&report_text,
	&report_json,
	&report_junit,
	&report_markdown,
	&report_prometheus,
	&report_html,
	&report_conformance,
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
	for (i = 0; i < rep->results->nr; i++) {
		const struct check_result *res = &rep->results->results[i];

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

static json_t *evidence_json(const struct evidence_list *log)
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

const char *report_platform(const char *name)
{
	if (!name || !strcmp(name, "bare-metal"))
		return "bare-metal";
	if (!strcmp(name, "docker") || !strcmp(name, "docker-compose"))
		return "docker-compose";
	return name;
}

static const struct remediation_step *step_for(const struct remediation *r, const char *platform)
{
	const struct remediation_step *s;

	for (s = r->steps; s && s->platform; s++)
		if (!strcmp(s->platform, platform))
			return s;
	for (s = r->steps; s && s->platform; s++)
		if (!strcmp(s->platform, "bare-metal"))
			return s;
	return r->steps && r->steps->platform ? r->steps : NULL;
}

static char **fill_commands(const struct run_results *run, const char *const *cmds)
{
	size_t n = 0, i;
	char **out;

	while (cmds && cmds[n])
		n++;
	out = xcalloc(n + 1, sizeof(*out));
	for (i = 0; i < n; i++)
		out[i] = report_command(run, cmds[i]);
	return out;
}

/* What the answers of a result say went wrong, whatever verdict the check drew. */
enum answer_cause { ANSWER_OTHER = 0, ANSWER_DENIED, ANSWER_RATE_LIMIT, ANSWER_TRANSPORT };

static enum answer_cause answers_cause(const struct check_result *res)
{
	size_t i, transport = 0, denied = 0;

	for (i = 0; i < res->evidence.nr; i++) {
		long st = res->evidence.items[i].status;

		if (st == 429)
			return ANSWER_RATE_LIMIT;
		denied += st == 401 || st == 403;
		transport += !st && res->evidence.items[i].error;
	}
	if (denied)
		return ANSWER_DENIED;
	return res->evidence.nr && transport == res->evidence.nr ? ANSWER_TRANSPORT : ANSWER_OTHER;
}

static const struct remediation *entry_of(const char *page, const char *cause)
{
	return kb_remediation(kb_find(page), cause);
}

static int category_is(const struct remediation *r, const char *a, const char *b)
{
	return r && (!strcmp(r->category, a) || (b && !strcmp(r->category, b)));
}

/* The credentials check's result in the run, or NULL. */
static const struct check_result *credentials_result(const struct run_results *run)
{
	size_t i;

	for (i = 0; run && i < run->nr; i++)
		if (run->results[i].check == &check_credentials && run->results[i].done)
			return &run->results[i];
	return NULL;
}

/*
 * The remediation for what actually went wrong. A check's cause names its
 * verdict ("partial", "missing", "unknown"); when the answers behind it
 * were a denial, a rate limit or no answer at all, the fix for that cause
 * is what helps: credentials when none were found, other credentials when
 * they were turned down, rights when they were not enough, waiting out the
 * limit, the connection.
 */
static const struct remediation *fix_by_cause(const struct run_results *run,
					      const struct check_result *res)
{
	const struct remediation *own = check_remediation(res), *r = NULL;
	const struct kb_page *page = kb_find(res->check->id);
	const struct check_result *cr = credentials_result(run);
	int anonymous = run && run->anonymous;

	if (res->check == &check_credentials || res->check == &check_registry)
		return own;
	switch (answers_cause(res)) {
	case ANSWER_DENIED:
		if (category_is(own, "auth", "permissions") && !anonymous)
			break;
		if (anonymous && cr && cr->cause && !strcmp(cr->cause, "helper"))
			r = entry_of(check_credentials.id, "helper");
		else if (anonymous)
			r = entry_of(check_credentials.id, "required");
		else if (cr && cr->cause && !strcmp(cr->cause, "rejected"))
			r = entry_of(check_credentials.id, "rejected");
		else
			r = kb_remediation(page, "denied");
		if (!r)
			r = entry_of(check_push.id, "denied");
		break;
	case ANSWER_RATE_LIMIT:
		if (!category_is(own, "rate-limit", NULL))
			r = entry_of(check_registry.id, "rate-limit");
		break;
	case ANSWER_TRANSPORT:
		if (!category_is(own, "connectivity", "tls")) {
			r = kb_remediation(page, "connection");
			if (!r)
				r = kb_remediation(page, "error");
		}
		break;
	default:
		break;
	}
	return r ? r : own;
}

/* The string `key` of a JSON object, "" when absent. */
static const char *json_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

int report_referrers_unused(const struct run_results *r)
{
	size_t i;

	for (i = 0; i < r->nr; i++) {
		json_t *d = r->results[i].details;
		json_t *clients = json_object_get(d, "clients"), *c;
		const char *name;

		if (!r->results[i].done || !json_is_object(clients) || !json_object_size(clients))
			continue;
		if (strcmp(json_str(d, "state"), "supported"))
			return 0;
		json_object_foreach(clients, name, c)
			if (!strcmp(json_str(c, "list"), "api"))
				return 0;
		return 1;
	}
	return 0;
}

const char *report_cell_mark(const struct run_results *r, const struct result_section *s,
			     const struct section_row *row, size_t column)
{
	if (strcmp(s->def->columns[column].key, "state") || strcmp(row->cells[0], "referrersApi") ||
	    strcmp(row->cells[column], "supported"))
		return "";
	return report_referrers_unused(r) ? REPORT_FALLBACK_MARK : "";
}

int report_result_marked(const struct run_results *r, const struct check_result *res)
{
	size_t i, j, k;

	for (i = 0; i < res->sections_nr; i++) {
		const struct result_section *s = &res->sections[i];

		for (j = 0; j < s->nr; j++)
			for (k = 0; k < section_columns(s->def); k++)
				if (*report_cell_mark(r, s, &s->rows[j], k))
					return 1;
	}
	return 0;
}

int report_under_cause(const struct report *rep, const struct check_result *res)
{
	const struct run_results *r = rep->results;
	size_t i;

	if (!res->blocked_by || !res->done)
		return 0;
	for (i = 0; i < r->nr; i++)
		if (r->results[i].check == res->blocked_by && r->results[i].selected)
			return 1;
	return 0;
}

int report_fix_get(const struct report *rep, const struct check_result *res, struct report_fix *fix)
{
	memset(fix, 0, sizeof(*fix));
	if (res->status == STATUS_PASS || res->blocked_by)
		return -1; /* blocked: the cause's fix is the fix */
	fix->remediation = fix_by_cause(rep->results, res);
	if (!fix->remediation)
		return -1;
	fix->step = step_for(fix->remediation, report_platform(rep ? rep->platform : NULL));
	fix->text = report_fill(rep->results, fix->step ? fix->step->text : fix->remediation->summary);
	fix->commands = fill_commands(rep->results, fix->step ? fix->step->commands : NULL);
	return 0;
}

void report_fix_release(struct report_fix *fix)
{
	char **c;

	free(fix->text);
	for (c = fix->commands; c && *c; c++)
		free(*c);
	free(fix->commands);
	memset(fix, 0, sizeof(*fix));
}

static json_t *filled_array(const struct run_results *run, const char *const *items)
{
	json_t *a = json_array();

	for (; items && *items; items++) {
		char *cmd = report_command(run, *items);

		json_array_append_new(a, json_string(cmd));
		free(cmd);
	}
	return a;
}

static json_t *remediation_json(const struct report *rep, const struct check_result *res)
{
	struct report_fix fix;
	json_t *steps = json_array(), *o, *cmds = json_array();
	const struct remediation_step *s;
	char **c;

	if (report_fix_get(rep, res, &fix) < 0) {
		json_decref(steps);
		json_decref(cmds);
		return NULL;
	}
	for (s = fix.remediation->steps; s && s->platform; s++) {
		char *text = report_fill(rep->results, s->text);

		json_array_append_new(steps, json_pack("{s:s, s:s, s:o}", "platform", s->platform,
						       "text", text,
						       "commands", filled_array(rep->results, s->commands)));
		free(text);
	}
	for (c = fix.commands; *c; c++)
		json_array_append_new(cmds, json_string(*c));
	o = json_pack("{s:s, s:s, s:o, s:{s:s, s:s, s:o}, s:s+}", "category",
		      fix.remediation->category, "summary", fix.remediation->summary,
		      "steps", steps,
		      "fix", "platform", fix.step ? fix.step->platform : "bare-metal",
		      "text", fix.text, "commands", cmds,
		      "runbook", "ocidoctor explain ", res->check->id);
	report_fix_release(&fix);
	return o;
}

/* details, with the result's sections as details.sections when it has any. */
static json_t *details_json(const struct check_result *res)
{
	json_t *d;

	if (!res->sections_nr)
		return res->details ? json_incref(res->details) : json_object();
	d = res->details ? json_copy(res->details) : json_object();
	json_object_set_new(d, "sections", result_sections_json(res));
	return d;
}

json_t *report_result_json(const struct report *rep, const struct check_result *res)
{
	const struct check *c = res->check;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:I, s:o, s:o}",
			      "checkId", c->id, "plugin", c->plugin, "title", c->title,
			      "status", check_status_name(res->status),
			      "severity", check_status_name(c->severity),
			      "tags", string_array(c->tags),
			      "message", res->message ? res->message : "",
			      "durationMs", (json_int_t)res->duration_ms,
			      "details", details_json(res),
			      "evidence", evidence_json(&res->evidence));

	if (res->blocked_by)
		json_object_set_new(o, "blockedBy", json_string(res->blocked_by->id));
	if (res->status != STATUS_PASS) {
		json_t *r = remediation_json(rep, res);

		if (r)
			json_object_set_new(o, "remediation", r);
	}
	return o;
}

json_t *report_run_json(const struct run_results *run)
{
	const int *counts = run->counts;
	enum check_status worst = run->worst;
	json_t *summary = json_pack("{s:i, s:i, s:i, s:i, s:i, s:s}",
				    "pass", counts[STATUS_PASS], "info", counts[STATUS_INFO],
				    "warn", counts[STATUS_WARN], "fail", counts[STATUS_FAIL],
				    "skip", counts[STATUS_SKIP], "worst", check_status_name(worst));
	const struct check_result *cause = results_root_cause(run);
	json_t *o;

	if (cause)
		json_object_set_new(summary, "cause",
				    json_pack("{s:s, s:s, s:I}", "checkId", cause->check->id,
					      "message", cause->message,
					      "blocked", (json_int_t)results_blocked(run)));

	o = json_pack("{s:i, s:{s:s, s:s}, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:b, s:o, s:[]}",
			 "schemaVersion", 1,
			 "tool", "name", "ocidoctor", "version", OCIDOCTOR_VERSION,
			 "registry", run->registry,
			 "repository", run->repository,
			 "tag", run->tag,
			 "startedAt", run->started_at,
			 "durationMs", (json_int_t)run->duration_ms,
			 "requests", (json_int_t)run->requests,
			 "roundTrips", (json_int_t)run->round_trips,
			 "insecure", run->insecure,
			 "summary", summary,
			 "results");
	if (run->rate_limit)
		json_object_set(o, "rateLimit", run->rate_limit);
	return o;
}

void report_put_label(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

int report_status_value(enum check_status s)
{
	switch (s) {
	case STATUS_PASS:
		return 0;
	case STATUS_INFO:
		return 1;
	case STATUS_WARN:
		return 2;
	case STATUS_FAIL:
		return 3;
	default:
		return -1;
	}
}

int report_capability_value(const char *state)
{
	if (state && !strcmp(state, "supported"))
		return 1;
	if (state && !strcmp(state, "unsupported"))
		return 0;
	return -1;
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
			/* XML 1.0 forbids most control characters, U+FFFE, U+FFFF and surrogates */
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				fputc('?', out);
			else if ((unsigned char)s[0] == 0xef && (unsigned char)s[1] == 0xbf &&
				 ((unsigned char)s[2] == 0xbe || (unsigned char)s[2] == 0xbf))
				s += 2; /* dropped */
			else if ((unsigned char)s[0] == 0xed && (unsigned char)s[1] >= 0xa0 && s[2])
				s += 2; /* a surrogate, dropped */
			else
				fputc(*s, out);
		}
	}
}

int report_column_is_text(const char *key)
{
	return !strcmp(key, "reason") || !strcmp(key, "why") || !strcmp(key, "evidence");
}

