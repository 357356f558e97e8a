/*
 * report_prometheus: the text exposition format, for a node-exporter
 * textfile collector or a Pushgateway.
 *
 *   ocidoctor_check_status{check,registry}            0 pass, 1 info, 2 warn, 3 fail, -1 skip
 *   ocidoctor_capability_supported{capability,registry} 1 supported, 0 unsupported, -1 unknown
 *   ocidoctor_capability_score{registry}               supported capabilities (of 5)
 *   ocidoctor_run_duration_seconds{registry}
 */
#include "report/report.h"

#include <string.h>

/* Label values escape backslash, double quote and newline. */
static void put_label(FILE *out, const char *s)
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

static int status_value(enum check_status s)
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

static int prom_begin(struct report *rep)
{
	fputs("# HELP ocidoctor_check_status Result of each check: 0 pass, 1 info, 2 warn, 3 fail, -1 skip.\n"
	      "# TYPE ocidoctor_check_status gauge\n", rep->out);
	return 0;
}

static int prom_result(struct report *rep, const struct check_result *res)
{
	fputs("ocidoctor_check_status{check=\"", rep->out);
	put_label(rep->out, res->check->id);
	fputs("\",registry=\"", rep->out);
	put_label(rep->out, rep->run->config->registry);
	fprintf(rep->out, "\"} %d\n", status_value(res->status));
	return 0;
}

static int capability_value(const char *state)
{
	if (state && !strcmp(state, "supported"))
		return 1;
	if (state && !strcmp(state, "unsupported"))
		return 0;
	return -1;
}

static void prom_capabilities(struct report *rep)
{
	const json_t *caps = report_capabilities(rep->run);
	int score = 0;
	size_t i;

	if (!caps)
		return;
	fputs("# HELP ocidoctor_capability_supported Registry capability: 1 supported, 0 unsupported, -1 unknown.\n"
	      "# TYPE ocidoctor_capability_supported gauge\n", rep->out);
	for (i = 0; capability_names[i]; i++) {
		const char *state = json_string_value(json_object_get(
			json_object_get(caps, capability_names[i]), "state"));
		int v = capability_value(state);

		if (state && !strcmp(state, "not-probed"))
			continue; /* --no-writes: no sample rather than a false "unknown" */
		score += v == 1;
		fprintf(rep->out, "ocidoctor_capability_supported{capability=\"%s\",registry=\"",
			capability_names[i]);
		put_label(rep->out, rep->run->config->registry);
		fprintf(rep->out, "\"} %d\n", v);
	}
	fputs("# HELP ocidoctor_capability_score Number of supported capabilities, out of 5.\n"
	      "# TYPE ocidoctor_capability_score gauge\nocidoctor_capability_score{registry=\"", rep->out);
	put_label(rep->out, rep->run->config->registry);
	fprintf(rep->out, "\"} %d\n", score);
}

static int prom_end(struct report *rep)
{
	prom_capabilities(rep);
	fputs("# HELP ocidoctor_run_duration_seconds Wall time of the doctor run.\n"
	      "# TYPE ocidoctor_run_duration_seconds gauge\nocidoctor_run_duration_seconds{registry=\"", rep->out);
	put_label(rep->out, rep->run->config->registry);
	fprintf(rep->out, "\"} %ld.%03ld\n", rep->run->duration_ms / 1000, rep->run->duration_ms % 1000);
	return 0;
}

const struct report_writer report_prometheus = {
	.name = "prometheus",
	.description = "Prometheus text exposition format (textfile collector, Pushgateway)",
	.begin = prom_begin,
	.result = prom_result,
	.end = prom_end,
};
