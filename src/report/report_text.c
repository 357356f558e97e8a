/*
 * report_text: the report for a person at a terminal. One line per
 * check (status, id, message), the fix under every check that did not
 * pass, and a summary line. Colours only when asked for (stdout is a
 * terminal, no --no-color, no NO_COLOR). With a width (stdout is a
 * terminal), each line is wrapped to it with a hanging indent under the
 * start of its text: the writer gathers its lines in a memory stream and
 * hands each to text_wrap (util/wrap.h) as it ends; a command is broken
 * only where a shell would join it again (" \").
 */
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

#include "checks/verdict.h"
#include "util/wrap.h"
#include "util/xalloc.h"

#define RESET "\033[0m"

static const char *const status_colour[STATUS_COUNT] = {
	[STATUS_PASS] = "\033[32m",
	[STATUS_SKIP] = "\033[2m",
	[STATUS_INFO] = "\033[36m",
	[STATUS_WARN] = "\033[33m",
	[STATUS_FAIL] = "\033[1;31m",
};

static const char *const status_label[STATUS_COUNT] = {
	[STATUS_PASS] = "PASS",
	[STATUS_SKIP] = "SKIP",
	[STATUS_INFO] = "INFO",
	[STATUS_WARN] = "WARN",
	[STATUS_FAIL] = "FAIL",
};

static void label(struct report *rep, enum check_status s)
{
	if (rep->color)
		fprintf(rep->out, "%s%-4s%s", status_colour[s], status_label[s], RESET);
	else
		fprintf(rep->out, "%-4s", status_label[s]);
}

/* Where the lines go while they are wrapped (rep->priv). */
struct text_wrap {
	FILE *real;                 /* the report's own stream */
	char *data;                 /* the memory stream's bytes */
	size_t len;
	size_t done;                /* bytes already written out */
	int failed;
};

/* The hanging indents: under the message, a fix's text, a command's first word. */
enum { HANG_RESULT = 43, HANG_DETAIL = 13, HANG_COMMAND = 17, HANG_SUMMARY = 9 };

/*
 * The lines written since the last call, wrapped with hang (a command's
 * when shell), to the report's stream. Nothing to do without a width.
 */
static void lines_done(struct report *rep, int hang, int shell)
{
	struct text_wrap *tw = rep->priv;
	struct buf b;
	size_t i, start;

	if (!tw)
		return;
	if (fflush(rep->out) != 0)
		tw->failed = 1;
	buf_init(&b, BUF_TEXT_MAX);
	for (i = start = tw->done; i < tw->len && !tw->failed; i++) {
		if (tw->data[i] != '\n')
			continue;
		if (text_wrap(&b, tw->data + start, i - start, rep->width, hang, shell) < 0 ||
		    buf_addch(&b, '\n') < 0)
			tw->failed = 1;
		start = i + 1;
	}
	tw->done = start;
	if (b.len && fwrite(b.data, 1, b.len, tw->real) != b.len)
		tw->failed = 1;
	buf_release(&b);
}

/* With a width, the report's lines go to a memory stream until they end. */
static int wrap_begin(struct report *rep)
{
	struct text_wrap *tw;
	FILE *mem;

	if (rep->width <= 0)
		return 0;
	tw = xcalloc(1, sizeof(*tw));
	mem = open_memstream(&tw->data, &tw->len);
	if (!mem) {
		free(tw);
		return -1;
	}
	tw->real = rep->out;
	rep->out = mem;
	rep->priv = tw;
	return 0;
}

/* The report's own stream back; -1 when a line could not be written. */
static int wrap_end(struct report *rep)
{
	struct text_wrap *tw = rep->priv;
	int failed;

	if (!tw)
		return 0;
	lines_done(rep, 0, 0);
	failed = tw->failed | (fclose(rep->out) != 0);
	rep->out = tw->real;
	rep->priv = NULL;
	free(tw->data);
	free(tw);
	return failed ? -1 : 0;
}

static int text_begin(struct report *rep)
{
	const struct run_results *c = rep->results;

	if (wrap_begin(rep) < 0)
		return -1;
	fprintf(rep->out, "ocidoctor %s: %s (test image %s%s%s)%s\n\n", OCIDOCTOR_VERSION,
		c->registry, c->repository, strchr(c->tag, ':') ? "@" : ":", c->tag,
		c->insecure ? " [TLS verification skipped]" : "");
	lines_done(rep, 4, 0);
	return 0;
}

/* The remediation step for the platform, with its commands, the run's values filled in. */
static void fix_lines(struct report *rep, const struct check_result *res)
{
	struct report_fix fix;
	char **c;

	if (report_fix_get(rep, res, &fix) < 0)
		return;
	fprintf(rep->out, "        fix: %s\n", fix.text);
	lines_done(rep, HANG_DETAIL, 0);
	for (c = fix.commands; *c; c++) {
		fprintf(rep->out, "             $ %s\n", *c);
		lines_done(rep, HANG_COMMAND, 1);
	}
	report_fix_release(&fix);
}

/* Writes server text with anything that could drive the terminal replaced. */
static void put_clean(FILE *out, const char *s)
{
	char *copy = xstrdup(s ? s : "");

	text_sanitize(copy);
	fputs(copy, out);
	free(copy);
}

/* A column title in lower case, as the text report's headings are. */
static void put_lower(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s, out);
}

/*
 * A result's sections under its line: a heading of column titles (none when
 * the section is bare), then one line per row (the first column 20 wide,
 * the others 12, the last as is), without the long_text columns.
 */
static void section_tables(struct report *rep, const struct check_result *res)
{
	size_t i, j, k;

	for (i = 0; i < res->sections_nr; i++) {
		const struct result_section *s = &res->sections[i];
		size_t n = section_columns(s->def), last = 0;
		int hang = 8; /* under the last column */

		for (k = 0; k < n; k++)
			if (!s->def->columns[k].long_text)
				last = k;
		for (k = 0; k < last; k++)
			if (!s->def->columns[k].long_text)
				hang += (k ? 12 : 20) + 1;
		for (j = s->def->bare ? 1 : 0; j <= s->nr; j++) {
			fputs("        ", rep->out);
			for (k = 0; k <= last; k++) {
				const char *cell = j ? s->rows[j - 1].cells[k] : s->def->columns[k].title;
				int width = k == last ? 0 : k ? 12 : 20;
				size_t len = strlen(cell);

				if (s->def->columns[k].long_text)
					continue;
				if (j) {
					const char *mark = report_cell_mark(rep->results, s, &s->rows[j - 1], k);

					put_clean(rep->out, cell);
					fputs(mark, rep->out);
					len += strlen(mark);
				} else {
					put_lower(rep->out, cell);
				}
				if (width)
					fprintf(rep->out, "%*s", (int)(len < (size_t)width ? width - len : 0) + 1, "");
			}
			fputc('\n', rep->out);
			lines_done(rep, hang, 0);
		}
	}
}

/* The results that res blocked, one line each under it. */
static void blocked_lines(struct report *rep, const struct check_result *res)
{
	const struct run_results *r = rep->results;
	size_t i;

	for (i = 0; i < r->nr; i++) {
		const struct check_result *b = &r->results[i];

		if (!b->selected || !b->done || b->blocked_by != res->check)
			continue;
		fputs("        blocked: ", rep->out);
		label(rep, b->status);
		fprintf(rep->out, " %s\n", b->check->id);
	}
	lines_done(rep, HANG_DETAIL, 0);
}

static int text_result(struct report *rep, const struct check_result *res)
{
	int marked;

	if (report_under_cause(rep, res))
		return 0; /* shown under its cause */
	marked = report_result_marked(rep->results, res);

	fputs("  ", rep->out);
	label(rep, res->status);
	/* a pass with a marked cell is no plain pass: PASS* */
	fprintf(rep->out, "%s %-34s %s", marked ? REPORT_FALLBACK_MARK : " ", res->check->id, res->message);
	if (marked)
		fputs(" (" REPORT_FALLBACK_NOTE ")", rep->out);
	fputc('\n', rep->out);
	lines_done(rep, HANG_RESULT, 0);
	section_tables(rep, res);
	blocked_lines(rep, res);
	if (res->status == STATUS_PASS)
		return 0;
	if (res->status != STATUS_SKIP)
		fix_lines(rep, res);
	if (res->status != STATUS_SKIP)
		fprintf(rep->out, "        see: ocidoctor explain %s\n", res->check->id);
	lines_done(rep, HANG_DETAIL, 0);
	return 0;
}

/* Says so when the registry answers the Referrers API but no client uses it. */
static void fallback_note(struct report *rep)
{
	if (!report_referrers_unused(rep->results))
		return;
	fputs("        referrers: every client falls back to the tag schema; the Referrers API is answered but not used\n",
	      rep->out);
	lines_done(rep, HANG_DETAIL, 0);
}

/* Says so when the registry rate-limited the run, with the headers it sent. */
static void rate_limit_note(struct report *rep)
{
	const json_t *rl = rep->results->rate_limit;
	const char *name;
	json_t *value;

	if (!rl)
		return;
	fprintf(rep->out, "Note: the registry is rate-limiting (%lld on ",
		(long long)json_integer_value(json_object_get(rl, "status")));
	put_clean(rep->out, json_string_value(json_object_get(rl, "url")));
	fputc(')', rep->out);
	json_object_foreach(json_object_get(rl, "headers"), name, value) {
		fputs("; ", rep->out);
		put_clean(rep->out, name);
		fputs(": ", rep->out);
		put_clean(rep->out, json_string_value(value));
	}
	fputc('\n', rep->out);
	lines_done(rep, 6, 0);
}

static int text_end(struct report *rep)
{
	const int *counts = rep->results->counts;
	enum check_status worst = rep->results->worst;
	const struct check_result *cause = results_root_cause(rep->results);
	size_t blocked = results_blocked(rep->results);

	/* one cause leads, on a line of its own; the counts follow it */
	if (cause) {
		fputs("\nSummary: 1 cause: ", rep->out);
		put_clean(rep->out, cause->message);
		fprintf(rep->out, " (%s); %zu %s blocked by it\n", cause->check->id, blocked,
			blocked == 1 ? "check" : "checks");
		lines_done(rep, HANG_SUMMARY, 0);
		fputs("        ", rep->out);
	} else {
		fputs("\nSummary: ", rep->out);
	}
	fprintf(rep->out, "%d pass, %d info, %d warn, %d fail, %d skip; worst: ",
		counts[STATUS_PASS], counts[STATUS_INFO], counts[STATUS_WARN],
		counts[STATUS_FAIL], counts[STATUS_SKIP]);
	label(rep, worst);
	fprintf(rep->out, " (%ld %s in %ld ms)\n", rep->results->requests,
		rep->results->requests == 1 ? "request" : "requests", rep->results->duration_ms);
	lines_done(rep, HANG_SUMMARY, 0);
	fallback_note(rep);
	rate_limit_note(rep);
	return wrap_end(rep);
}

const struct report_writer report_text = {
	.name = "text",
	.description = "one line per check and a summary, for terminals (default)",
	.begin = text_begin,
	.result = text_result,
	.end = text_end,
};
