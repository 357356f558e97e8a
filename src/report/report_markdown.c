/*
 * report_markdown: a compact report for pull-request comments and CI job
 * summaries: a table of checks, the capability matrix, then the fixes.
 */
#include "report/report.h"

#include "checks/verdict.h"

#include <string.h>

static const char *const status_icon[STATUS_COUNT] = {
	[STATUS_PASS] = "✅ pass",
	[STATUS_SKIP] = "⏭️ skip",
	[STATUS_INFO] = "ℹ️ info",
	[STATUS_WARN] = "⚠️ warn",
	[STATUS_FAIL] = "❌ fail",
};

void report_put_md(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\\': case '[': case ']': case '!': case '|': case '`': case '*': case '~':
			fputc('\\', out);
			fputc(*s, out);
			break;
		default:
			fputc((unsigned char)*s < 0x20 ? ' ' : *s, out);
		}
	}
}

void report_put_kb_md(FILE *out, const char *s)
{
	int code = 0;

	for (; s && *s; s++) {
		if (*s == '`')
			code = !code;
		if (!code && *s == '<')
			fputs("&lt;", out);
		else if (!code && *s == '>')
			fputs("&gt;", out);
		else
			fputc(*s, out);
	}
}

void report_put_md_code(FILE *out, const char *s)
{
	size_t run = 0, longest = 0, i;
	const char *p;

	for (p = s; p && *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	for (i = 0; i <= longest; i++)
		fputc('`', out);
	/* a span that starts or ends with '`' needs a space inside its fence */
	fputs(longest ? " " : "", out);
	for (p = s; p && *p; p++)
		fputc(*p == '\n' || *p == '\r' ? ' ' : *p, out);
	fputs(longest ? " " : "", out);
	for (i = 0; i <= longest; i++)
		fputc('`', out);
}

static void put_text(FILE *out, const char *s)
{
	report_put_md(out, s);
}

/* Table cells: the same (a '|' is escaped there too). */
static void put_cell(FILE *out, const char *s)
{
	put_text(out, s);
}

/*
 * One root cause leads: "1 cause: <message> (`<check>`); N checks blocked
 * by it", before the counts.
 */
static void md_cause(FILE *out, const struct run_results *run)
{
	const struct check_result *cause = results_root_cause(run);
	size_t n = results_blocked(run);

	if (!cause)
		return;
	fputs("**1 cause:** ", out);
	put_text(out, cause->message);
	fprintf(out, " (`%s`); %zu %s blocked by it\n\n", cause->check->id, n,
		n == 1 ? "check" : "checks");
}

static int md_begin(struct report *rep)
{
	const struct run_results *run = rep->results;
	const int *counts = run->counts;
	enum check_status worst = run->worst;

	fprintf(rep->out, "## ocidoctor: `%s`\n\n", run->registry);
	md_cause(rep->out, run);
	fprintf(rep->out, "Test image `%s%s%s` · worst status **%s** · %d pass, %d info, %d warn, %d fail, %d skip · %ld request%s in %ld ms\n\n",
		run->repository, strchr(run->tag, ':') ? "@" : ":",
		run->tag, check_status_name(worst),
		counts[STATUS_PASS], counts[STATUS_INFO], counts[STATUS_WARN],
		counts[STATUS_FAIL], counts[STATUS_SKIP], run->requests,
		run->requests == 1 ? "" : "s", run->duration_ms);
	if (report_referrers_unused(run))
		fputs("**Referrers:** every client falls back to the tag schema; the Referrers API is answered but not used\n\n",
		      rep->out);
	fputs("| Status | Check | Result |\n|---|---|---|\n", rep->out);
	return 0;
}

/* The rows of the results that res blocked, right under its own. */
static void md_blocked_rows(struct report *rep, const struct check_result *res)
{
	const struct run_results *run = rep->results;
	size_t i;

	for (i = 0; i < run->nr; i++) {
		const struct check_result *b = &run->results[i];

		if (!b->selected || !b->done || b->blocked_by != res->check)
			continue;
		fprintf(rep->out, "| %s | ↳ `%s` | blocked by `%s` |\n", status_icon[b->status],
			b->check->id, res->check->id);
	}
}

static int md_result(struct report *rep, const struct check_result *res)
{
	int marked;

	if (report_under_cause(rep, res))
		return 0; /* a row under its cause */
	marked = report_result_marked(rep->results, res);

	fprintf(rep->out, "| %s%s | `%s` | ", status_icon[res->status], marked ? "\\*" : "",
		res->check->id);
	put_cell(rep->out, res->message);
	if (marked) {
		fputs(" (", rep->out);
		put_cell(rep->out, REPORT_FALLBACK_NOTE);
		fputc(')', rep->out);
	}
	fputs(" |\n", rep->out);
	md_blocked_rows(rep, res);
	return 0;
}

/* Every check's sections, in table order: a heading and a table each. */
static void md_section(void *arg, const struct check_result *res, const struct result_section *s)
{
	struct report *rep = arg;
	FILE *out = rep->out;
	size_t n = section_columns(s->def), j, k;
	int marked = 0;

	(void)res;
	fputs("\n### ", out);
	put_text(out, s->def->title);
	fputs("\n\n|", out);
	for (k = 0; k < n; k++) {
		fputc(' ', out);
		put_cell(out, s->def->columns[k].title);
		fputs(" |", out);
	}
	fputs("\n|", out);
	for (k = 0; k < n; k++)
		fputs("---|", out);
	fputc('\n', out);
	for (j = 0; j < s->nr; j++) {
		fputc('|', out);
		for (k = 0; k < n; k++) {
			const char *mark = report_cell_mark(rep->results, s, &s->rows[j], k);

			fputc(' ', out);
			put_cell(out, s->rows[j].cells[k]);
			put_cell(out, mark);
			fputs(" |", out);
			marked |= *mark != 0;
		}
		fputc('\n', out);
	}
	if (marked) {
		fputs("\n", out);
		put_text(out, REPORT_FALLBACK_NOTE);
		fputs("\n", out);
	}
}

static int md_end(struct report *rep)
{
	const struct run_results *run = rep->results;
	int heading = 0;
	size_t i;

	results_foreach_section(rep->results, md_section, rep);
	for (i = 0; i < run->nr; i++) {
		const struct check_result *res = &run->results[i];
		struct report_fix fix;
		char **c;

		if (!res->selected || res->status == STATUS_PASS || res->status == STATUS_SKIP ||
		    report_under_cause(rep, res))
			continue; /* a blocked check's fix is its cause's */
		if (!heading++)
			fputs("\n### How to fix\n\n", rep->out);
		if (report_fix_get(rep, res, &fix) < 0) {
			fprintf(rep->out, "- **`%s`**: ", res->check->id);
			put_text(rep->out, res->message);
			fprintf(rep->out, " (`ocidoctor explain %s`)\n", res->check->id);
			continue;
		}
		/* the knowledge base's own Markdown, with the run's validated names filled in */
		fprintf(rep->out, "- **`%s`**: ", res->check->id);
		report_put_kb_md(rep->out, fix.text);
		fprintf(rep->out, " (`ocidoctor explain %s`)\n", res->check->id);
		for (c = fix.commands; *c; c++) {
			fputs("  ", rep->out);
			report_put_md_code(rep->out, *c);
			fputc('\n', rep->out);
		}
		report_fix_release(&fix);
	}
	return 0;
}

const struct report_writer report_markdown = {
	.name = "markdown",
	.description = "a compact Markdown report for pull requests and CI job summaries",
	.begin = md_begin,
	.result = md_result,
	.end = md_end,
};
