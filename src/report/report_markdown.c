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

/*
 * Text from a check (which may quote the registry) as Markdown that shows
 * it literally: HTML's metacharacters as entities, and what makes images
 * and links ('!', '[', ']') backslash-escaped with the backslash itself
 * and the table's '|'; newlines as spaces. So a registry cannot put a tag,
 * an image or a link into a pull-request comment, while the rest of the
 * text (digests such as sha256-..., paths, URLs) is left as it reads.
 */
static void put_text(FILE *out, const char *s)
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
		case '\n':
		case '\r':
			fputc(' ', out);
			break;
		case '\\': case '[': case ']': case '!': case '|':
			fputc('\\', out);
			fputc(*s, out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

/* Table cells: the same (a '|' is escaped there too). */
static void put_cell(FILE *out, const char *s)
{
	put_text(out, s);
}

static int md_begin(struct report *rep)
{
	const struct run *run = rep->run;
	int counts[STATUS_COUNT];
	enum check_status worst = run_worst(run, counts);

	fprintf(rep->out, "## ocidoctor: `%s`\n\n", run->config->registry);
	fprintf(rep->out, "Test image `%s%s%s` · worst status **%s** · %d pass, %d info, %d warn, %d fail, %d skip · %ld requests in %ld ms\n\n",
		run->config->repository, strchr(run->config->tag, ':') ? "@" : ":",
		run->config->tag, check_status_name(worst),
		counts[STATUS_PASS], counts[STATUS_INFO], counts[STATUS_WARN],
		counts[STATUS_FAIL], counts[STATUS_SKIP], run->requests, run->duration_ms);
	fputs("| Status | Check | Result |\n|---|---|---|\n", rep->out);
	return 0;
}

static int md_result(struct report *rep, const struct check_result *res)
{
	fprintf(rep->out, "| %s | `%s` | ", status_icon[res->status], res->check->id);
	put_cell(rep->out, res->message);
	fputs(" |\n", rep->out);
	return 0;
}

static void md_capabilities(struct report *rep)
{
	const json_t *caps = report_capabilities(rep->run);
	size_t i;

	if (!caps)
		return;
	fputs("\n### Capabilities\n\n| Capability | State | Reason |\n|---|---|---|\n", rep->out);
	for (i = 0; capability_names[i]; i++) {
		const json_t *c = json_object_get(caps, capability_names[i]);

		fprintf(rep->out, "| %s | %s | ", capability_names[i],
			json_string_value(json_object_get(c, "state")));
		put_cell(rep->out, json_string_value(json_object_get(c, "reason")));
		fputs(" |\n", rep->out);
	}
}

static void md_clients(struct report *rep)
{
	const json_t *clients = report_referrers_clients(rep->run);
	size_t i;

	if (!clients)
		return;
	fputs("\n### Referrers: what each client does\n\n| Client | List | Attach | Why |\n|---|---|---|---|\n",
	      rep->out);
	for (i = 0; i < CLIENT_COUNT; i++) {
		const json_t *c = json_object_get(clients, referrers_clients[i]);

		fprintf(rep->out, "| %s | ", referrers_clients[i]);
		put_cell(rep->out, report_str(c, "list"));
		fputs(" | ", rep->out);
		put_cell(rep->out, report_str(c, "attach"));
		fputs(" | ", rep->out);
		put_cell(rep->out, report_str(c, "why"));
		fputs(" |\n", rep->out);
	}
}

/* Everything the run could not clean up, from every check. */
static void md_leftovers(struct report *rep)
{
	const struct run *run = rep->run;
	int heading = 0;
	size_t i, j;

	for (i = 0; i < check_table_size; i++) {
		const struct check_result *res = &run->results[i];
		const json_t *l;

		if (!res->selected)
			continue;
		json_array_foreach(report_leftovers(res), j, l) {
			if (!heading++)
				fputs("\n### Left on the registry\n\n| Check | Kind | Repository | Reference | Why | Remove with |\n|---|---|---|---|---|---|\n",
				      rep->out);
			fprintf(rep->out, "| `%s` | ", res->check->id);
			put_cell(rep->out, report_str(l, "kind"));
			fputs(" | ", rep->out);
			put_cell(rep->out, report_str(l, "repository"));
			fputs(" | ", rep->out);
			put_cell(rep->out, report_str(l, "ref"));
			fputs(" | ", rep->out);
			put_cell(rep->out, report_str(l, "why"));
			fputs(" | ", rep->out);
			put_cell(rep->out, report_str(l, "command"));
			fputs(" |\n", rep->out);
		}
	}
}

static int md_end(struct report *rep)
{
	const struct run *run = rep->run;
	int heading = 0;
	size_t i;

	md_capabilities(rep);
	md_clients(rep);
	md_leftovers(rep);
	for (i = 0; i < check_table_size; i++) {
		const struct check_result *res = &run->results[i];
		struct report_fix fix;
		char **c;

		if (!res->selected || res->status == STATUS_PASS || res->status == STATUS_SKIP)
			continue;
		if (!heading++)
			fputs("\n### How to fix\n\n", rep->out);
		if (report_fix_get(rep, res, &fix) < 0) {
			fprintf(rep->out, "- **`%s`**: ", res->check->id);
			put_text(rep->out, res->message);
			fprintf(rep->out, " (`ocidoctor explain %s`)\n", res->check->id);
			continue;
		}
		/* the knowledge base's own Markdown, with the run's validated names filled in */
		fprintf(rep->out, "- **`%s`**: %s (`ocidoctor explain %s`)\n", res->check->id,
			fix.text, res->check->id);
		for (c = fix.commands; *c; c++)
			fprintf(rep->out, "  `%s`\n", *c);
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
