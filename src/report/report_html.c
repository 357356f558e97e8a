/*
 * report_html: one self-contained page (inline CSS, no scripts, no
 * network assets): the verdict naming what failed or warned (links to
 * their cards), the counts, the checks that need attention with their
 * fixes, the capability matrix, then every other check. Commands wrap
 * instead of being clipped.
 */
#include "report/report.h"

#include "checks/verdict.h"

#include <stdlib.h>
#include <string.h>

static const char style[] =
	"body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:70rem;color:#1f2328;padding:0 1rem}"
	"h1{font-size:1.5rem;margin-bottom:.2rem}.sub{color:#59636e;margin-top:0}"
	".cards{display:flex;gap:.6rem;margin:1rem 0}.card{border-radius:8px;padding:.6rem 1rem;min-width:5rem;text-align:center;font-weight:600}"
	".card span{display:block;font-size:1.6rem}"
	".pass{background:#dafbe1;color:#116329}.skip{background:#eaeef2;color:#59636e}.info{background:#ddf4ff;color:#0550ae}"
	".warn{background:#fff8c5;color:#7d4e00}.fail{background:#ffebe9;color:#a40e26}"
	".supported{background:#dafbe1}.unsupported{background:#ffebe9}.unknown{background:#fff8c5}"
	"table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}td,th{border:1px solid #d1d9e0;padding:.35rem .6rem;text-align:left;vertical-align:top}"
	"th{background:#f6f8fa}.check{border:1px solid #d1d9e0;border-radius:8px;margin:1rem 0;padding:0 1rem}"
	".check h3{display:flex;gap:.6rem;align-items:center;font-size:1.05rem}.badge{border-radius:6px;padding:.1rem .5rem;font-size:.8rem;text-transform:uppercase}"
	"code{background:#f6f8fa;padding:.1rem .3rem;border-radius:4px;overflow-wrap:anywhere}"
	"pre{background:#f6f8fa;padding:.5rem;border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere}"
	".verdict a{color:inherit}"
	"details{margin:.5rem 0 1rem}"
	".verdict{border-radius:8px;padding:.8rem 1rem;margin:.8rem 0;font-size:1.25rem;font-weight:600}"
	".verdict b{text-transform:uppercase;font-size:1.6rem;margin-right:.6rem}";

/* The summary's order, as the text report's "Summary:" line has it. */
static const enum check_status card_order[STATUS_COUNT] = {
	STATUS_PASS, STATUS_INFO, STATUS_WARN, STATUS_FAIL, STATUS_SKIP
};

static void put(FILE *out, const char *s);

/*
 * The short names (last id segment) of the selected, unblocked results
 * with status st, each a link to its card.
 */
static void name_results(FILE *out, const struct run_results *run, enum check_status st)
{
	const char *sep = ": ";
	size_t i;

	for (i = 0; i < run->nr; i++) {
		const struct check_result *r = &run->results[i];

		if (!r->selected || !r->done || r->status != st || r->blocked_by)
			continue;
		fprintf(out, "%s<a href=\"#%s\">", sep, r->check->id);
		put(out, strrchr(r->check->id, '.') + 1);
		fputs("</a>", out);
		sep = ", ";
	}
}

/*
 * The worst status, in words, where the eye lands first: the root cause
 * when one check blocked others, else what failed or warned, by name.
 */
static void verdict(FILE *out, const struct run_results *run)
{
	enum check_status worst = run->worst;
	const int *counts = run->counts;
	const struct check_result *cause = results_root_cause(run);

	fprintf(out, "<div class=\"verdict %s\"><b>%s</b>", check_status_name(worst),
		check_status_name(worst));
	if (cause) {
		size_t n = results_blocked(run);

		fputs("1 cause: ", out);
		put(out, cause->message);
		fprintf(out, " (%zu check%s blocked by it)", n, n == 1 ? "" : "s");
	} else if (worst == STATUS_FAIL) {
		fprintf(out, "%d check%s failed", counts[STATUS_FAIL], counts[STATUS_FAIL] == 1 ? "" : "s");
		name_results(out, run, STATUS_FAIL);
		if (counts[STATUS_WARN]) {
			fprintf(out, "; %d warned", counts[STATUS_WARN]);
			name_results(out, run, STATUS_WARN);
		}
	} else if (worst == STATUS_WARN) {
		fprintf(out, "%d check%s warned", counts[STATUS_WARN], counts[STATUS_WARN] == 1 ? "" : "s");
		name_results(out, run, STATUS_WARN);
	} else {
		fputs("nothing to fix", out);
	}
	fputs("</div>\n", out);
}

static void put(FILE *out, const char *s)
{
	report_put_xml(out, s);
}

/* A class name from a state word: letters, digits and '-' only, else none. */
static void state_class(FILE *out, const char *state)
{
	const char *p;

	for (p = state; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return;
	fprintf(out, " class=\"%s\"", state);
}

/*
 * One section as a table; the "state" column is coloured by its word, a
 * marked state (a Referrers API no client uses) as unknown, with a note.
 */
static void html_section(FILE *out, const struct run_results *run, const struct result_section *s)
{
	int marked = 0;

	size_t n = section_columns(s->def), j, k;

	fputs("<table><tr>", out);
	for (k = 0; k < n; k++) {
		fputs("<th>", out);
		put(out, s->def->columns[k].title);
		fputs("</th>", out);
	}
	fputs("</tr>\n", out);
	for (j = 0; j < s->nr; j++) {
		fputs("<tr>", out);
		for (k = 0; k < n; k++) {
			const char *mark = report_cell_mark(run, s, &s->rows[j], k);

			fputs("<td", out);
			if (*mark)
				state_class(out, "unknown");
			else if (!strcmp(s->def->columns[k].key, "state"))
				state_class(out, s->rows[j].cells[k]);
			fputc('>', out);
			put(out, s->rows[j].cells[k]);
			put(out, mark);
			fputs("</td>", out);
			marked |= *mark != 0;
		}
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
	if (marked)
		fputs("<p class=\"sub\">" REPORT_FALLBACK_NOTE "</p>\n", out);
}

/* The summary sections (a capability matrix), under the cards with a heading. */
static void summary_section(void *arg, const struct check_result *res, const struct result_section *s)
{
	const struct report *rep = arg;
	FILE *out = rep->out;

	(void)res;
	if (!s->def->summary)
		return;
	fputs("<h2>", out);
	put(out, s->def->title);
	fputs("</h2>\n", out);
	html_section(out, rep->results, s);
}

static int html_begin(struct report *rep)
{
	const struct run_results *run = rep->results;
	const int *counts = run->counts;
	enum check_status worst = run->worst;
	size_t i;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
	      "<title>ocidoctor report</title><style>", rep->out);
	fputs(style, rep->out);
	fputs("</style></head><body>\n<h1>ocidoctor: ", rep->out);
	put(rep->out, run->registry);
	fputs("</h1>\n", rep->out);
	verdict(rep->out, run);
	fputs("<p class=\"sub\">Test image <code>", rep->out);
	put(rep->out, run->repository);
	fputc(strchr(run->tag, ':') ? '@' : ':', rep->out);
	put(rep->out, run->tag);
	fprintf(rep->out, "</code> · started %s · %ld request%s in %ld ms · worst status <b>%s</b>%s</p>\n",
		run->started_at, run->requests, run->requests == 1 ? "" : "s", run->duration_ms, check_status_name(worst),
		run->insecure ? " · <b>TLS verification skipped</b>" : "");
	if (report_referrers_unused(run))
		fputs("<p class=\"sub\"><b>Referrers:</b> every client falls back to the tag schema; the Referrers API is answered but not used</p>\n",
		      rep->out);
	fputs("<div class=\"cards\">", rep->out);
	for (i = 0; i < STATUS_COUNT; i++)
		fprintf(rep->out, "<div class=\"card %s\"><span>%d</span>%s</div>",
			check_status_name(card_order[i]), counts[card_order[i]],
			check_status_name(card_order[i]));
	fputs("</div>\n", rep->out);
	return 0;
}

static void html_evidence(FILE *out, const struct evidence_list *log)
{
	size_t i;

	if (!log->nr)
		return;
	fprintf(out, "<details><summary>Evidence (%zu request%s)</summary><table><tr><th>Method</th><th>URL</th><th>Status</th><th>ms</th></tr>\n",
		log->nr, log->nr == 1 ? "" : "s");
	for (i = 0; i < log->nr; i++) {
		fprintf(out, "<tr><td>%s</td><td><code>", log->items[i].method);
		put(out, log->items[i].url);
		fprintf(out, "</code></td><td>%ld", log->items[i].status);
		if (log->items[i].error) {
			fputs(" (", out);
			put(out, log->items[i].error);
			fputc(')', out);
		}
		fprintf(out, "</td><td>%ld</td></tr>\n", log->items[i].duration_ms);
	}
	fputs("</table></details>\n", out);
}

/* Writes text with the run's values filled in. */
static void put_filled(FILE *out, const struct run_results *run, const char *text)
{
	char *filled = report_fill(run, text);

	put(out, filled);
	free(filled);
}

static void html_remediation(struct report *rep, const struct check_result *res)
{
	FILE *out = rep->out;
	const struct remediation_step *s;
	const char *const *cmd;
	struct report_fix fix;
	char **c;

	if (res->status == STATUS_SKIP || report_fix_get(rep, res, &fix) < 0)
		return;
	fputs("<p><b>Fix:</b> ", out);
	put(out, fix.text);
	fputs("</p>\n", out);
	for (c = fix.commands; *c; c++) {
		fputs("<pre>", out);
		put(out, *c);
		fputs("</pre>\n", out);
	}
	fputs("<details><summary>", out);
	put(out, fix.remediation->summary);
	fputs(" (every platform)</summary><ul>\n", out);
	for (s = fix.remediation->steps; s && s->platform; s++) {
		fputs("<li><b>", out);
		put(out, s->platform);
		fputs(":</b> ", out);
		put_filled(out, rep->results, s->text);
		for (cmd = s->commands; cmd && *cmd; cmd++) {
			char *filled = report_command(rep->results, *cmd);

			fputs("<pre>", out);
			put(out, filled);
			fputs("</pre>", out);
			free(filled);
		}
		fputs("</li>\n", out);
	}
	report_fix_release(&fix);
	fprintf(out, "</ul></details>\n<p>More: <code>ocidoctor explain %s</code></p>\n", res->check->id);
}

/* The result's own sections (not the summary's), inside its box. */
static void html_sections(FILE *out, const struct run_results *run, const struct check_result *res)
{
	size_t i;

	for (i = 0; i < res->sections_nr; i++)
		if (!res->sections[i].def->summary)
			html_section(out, run, &res->sections[i]);
}

/* The results that res blocked: no cards of their own. */
static void html_blocked(struct report *rep, const struct check_result *res)
{
	const struct run_results *run = rep->results;
	const char *open = "<p>Blocked by this: ";
	size_t i;

	for (i = 0; i < run->nr; i++) {
		const struct check_result *b = &run->results[i];

		if (!b->selected || !b->done || b->blocked_by != res->check)
			continue;
		fprintf(rep->out, "%s<code>%s</code> (%s)", open, b->check->id,
			check_status_name(b->status));
		open = ", ";
	}
	if (*open == ',')
		fputs("</p>\n", rep->out);
}

static void html_card(struct report *rep, const struct check_result *res)
{
	FILE *out = rep->out;
	const char *status = check_status_name(res->status);
	int marked = report_result_marked(rep->results, res);

	/* a pass with a marked cell is no plain pass: pass*, coloured as unknown */
	fprintf(out, "<section class=\"check\" id=\"%s\"><h3><span class=\"badge %s\">%s%s</span><code>%s</code> ",
		res->check->id, marked ? "unknown" : status, status, marked ? REPORT_FALLBACK_MARK : "",
		res->check->id);
	put(out, res->check->title);
	fputs("</h3>\n<p>", out);
	put(out, res->message);
	if (marked)
		fputs(" (" REPORT_FALLBACK_NOTE ")", out);
	fputs("</p>\n", out);
	html_sections(out, rep->results, res);
	html_blocked(rep, res);
	html_remediation(rep, res);
	html_evidence(out, &res->evidence);
	fputs("</section>\n", out);
}

/* The cards come in html_end, what needs attention first. */
static int html_result(struct report *rep, const struct check_result *res)
{
	(void)rep;
	(void)res;
	return 0;
}

/* The cards of the results with status st, in table order. */
static void html_cards(struct report *rep, enum check_status st)
{
	const struct run_results *run = rep->results;
	size_t i;

	for (i = 0; i < run->nr; i++) {
		const struct check_result *res = &run->results[i];

		if (!res->selected || res->status != st || report_under_cause(rep, res))
			continue; /* a blocked result is listed in its cause's card */
		html_card(rep, res);
	}
}

/*
 * What needs attention (fail, then warn) leads, with its fixes; then the
 * capability matrix; then every other check (info, skip, pass).
 */
static int html_end(struct report *rep)
{
	const int *counts = rep->results->counts;

	if (counts[STATUS_FAIL] || counts[STATUS_WARN]) {
		fputs("<h2>Needs attention</h2>\n", rep->out);
		html_cards(rep, STATUS_FAIL);
		html_cards(rep, STATUS_WARN);
	}
	results_foreach_section(rep->results, summary_section, rep);
	fputs(counts[STATUS_FAIL] || counts[STATUS_WARN] ? "<h2>Other checks</h2>\n" : "<h2>Checks</h2>\n",
	      rep->out);
	html_cards(rep, STATUS_INFO);
	html_cards(rep, STATUS_SKIP);
	html_cards(rep, STATUS_PASS);
	fprintf(rep->out, "<p class=\"sub\">ocidoctor %s</p>\n</body></html>\n", OCIDOCTOR_VERSION);
	return 0;
}

const struct report_writer report_html = {
	.name = "html",
	.description = "one self-contained HTML page: summary, capability matrix, checks with evidence and fixes",
	.begin = html_begin,
	.result = html_result,
	.end = html_end,
};
