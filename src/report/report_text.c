/*
 * report_text: the report for a person at a terminal. One line per
 * check (status, id, message), the fix under every check that did not
 * pass, and a summary line. Colours only when asked for (stdout is a
 * terminal, no --no-color, no NO_COLOR).
 */
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

#include "checks/verdict.h"
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

static int text_begin(struct report *rep)
{
	const struct run_config *c = rep->run->config;

	fprintf(rep->out, "ocidoctor %s: %s (test image %s%s%s)%s\n\n", OCIDOCTOR_VERSION,
		c->registry, c->repository, strchr(c->tag, ':') ? "@" : ":", c->tag,
		c->insecure ? " [TLS verification skipped]" : "");
	return 0;
}

/* The capability matrix under the capabilities check's line. */
static void capability_table(struct report *rep, const struct check_result *res)
{
	const json_t *caps = json_object_get(res->details, "capabilities");
	size_t i;

	if (res->check != &check_capabilities || !caps)
		return;
	for (i = 0; capability_names[i]; i++) {
		const json_t *c = json_object_get(caps, capability_names[i]);
		const char *state = json_string_value(json_object_get(c, "state"));
		const char *reason = json_string_value(json_object_get(c, "reason"));

		fprintf(rep->out, "        %-20s %-12s %s\n", capability_names[i],
			state ? state : "unknown", reason ? reason : "");
	}
}

/* The remediation step for the platform, with its commands, the run's values filled in. */
static void fix_lines(struct report *rep, const struct check_result *res)
{
	struct report_fix fix;
	char **c;

	if (report_fix_get(rep, res, &fix) < 0)
		return;
	fprintf(rep->out, "        fix: %s\n", fix.text);
	for (c = fix.commands; *c; c++)
		fprintf(rep->out, "             $ %s\n", *c);
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

/* The client x list/attach table under the referrers check's line. */
static void client_table(struct report *rep, const struct check_result *res)
{
	const json_t *clients = json_object_get(res->details, "clients");
	size_t i;

	if (res->check != &check_referrers || !clients)
		return;
	fprintf(rep->out, "        %-20s %-12s %s\n", "client", "list", "attach");
	for (i = 0; i < CLIENT_COUNT; i++) {
		const json_t *c = json_object_get(clients, referrers_clients[i]);

		fprintf(rep->out, "        %-20s %-12s %s\n", referrers_clients[i],
			report_str(c, "list"), report_str(c, "attach"));
	}
}

/* The artifacts check's steps (--writes verify), one line each: name, status, verdict. */
static void step_table(struct report *rep, const struct check_result *res)
{
	const json_t *steps = json_object_get(res->details, "steps");
	const char *name;
	const json_t *st;

	if (res->check != &check_artifacts || !json_is_object(steps))
		return;
	json_object_foreach((json_t *)steps, name, st) {
		fprintf(rep->out, "        %-20s %-12s ", name, report_str(st, "status"));
		put_clean(rep->out, report_str(st, "verdict"));
		fputc('\n', rep->out);
	}
}

/* What the check could not clean up, with the command that removes it. */
static void leftover_lines(struct report *rep, const struct check_result *res)
{
	const json_t *list = report_leftovers(res);
	const json_t *l;
	size_t i;

	json_array_foreach(list, i, l) {
		fputs("        left on the registry: ", rep->out);
		put_clean(rep->out, report_str(l, "kind"));
		fputc(' ', rep->out);
		put_clean(rep->out, report_str(l, "repository"));
		fputc(' ', rep->out);
		put_clean(rep->out, report_str(l, "ref"));
		fputs(" (", rep->out);
		put_clean(rep->out, report_str(l, "why"));
		fputs(")\n        remove with: ", rep->out);
		put_clean(rep->out, report_str(l, "command"));
		fputc('\n', rep->out);
	}
}

static int text_result(struct report *rep, const struct check_result *res)
{
	fputs("  ", rep->out);
	label(rep, res->status);
	fprintf(rep->out, "  %-34s %s\n", res->check->id, res->message);
	capability_table(rep, res);
	client_table(rep, res);
	step_table(rep, res);
	leftover_lines(rep, res);
	if (res->status == STATUS_PASS)
		return 0;
	if (res->status != STATUS_SKIP)
		fix_lines(rep, res);
	if (res->status != STATUS_SKIP)
		fprintf(rep->out, "        see: ocidoctor explain %s\n", res->check->id);
	return 0;
}

/* Says so when the registry rate-limited the run, with the headers it sent. */
static void rate_limit_note(struct report *rep)
{
	const json_t *rl = rep->run->rate_limit;
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
}

static int text_end(struct report *rep)
{
	int counts[STATUS_COUNT];
	enum check_status worst = run_worst(rep->run, counts);

	fprintf(rep->out, "\nSummary: %d pass, %d info, %d warn, %d fail, %d skip; worst: ",
		counts[STATUS_PASS], counts[STATUS_INFO], counts[STATUS_WARN],
		counts[STATUS_FAIL], counts[STATUS_SKIP]);
	label(rep, worst);
	fprintf(rep->out, " (%ld requests in %ld ms)\n", rep->run->requests,
		rep->run->duration_ms);
	rate_limit_note(rep);
	return 0;
}

const struct report_writer report_text = {
	.name = "text",
	.description = "one line per check and a summary, for terminals (default)",
	.begin = text_begin,
	.result = text_result,
	.end = text_end,
};
