/*
 * report_prometheus: the text exposition format, for a node-exporter
 * textfile collector or a Pushgateway.
 *
 *   ocidoctor_check_status{check,registry,repository}  0 pass, 1 info, 2 warn, 3 fail, -1 skip
 *   ocidoctor_capability_supported{capability,registry,repository} 1 supported, 0 unsupported, -1 unknown
 *   ocidoctor_capability_score{registry,repository}    supported capabilities (of 5)
 *   ocidoctor_run_duration_seconds{registry,repository}
 *   ocidoctor_run_timestamp_seconds{registry,repository} when the run started (Unix time),
 *                                                      so that stale textfile data shows
 */
#include "report/report.h"

#include <stdlib.h>
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

/* ,registry="...",repository="..." for the run; the caller opens the brace and closes it. */
static void put_target(struct report *rep)
{
	fputs("registry=\"", rep->out);
	put_label(rep->out, rep->run->config->registry);
	fputs("\",repository=\"", rep->out);
	put_label(rep->out, rep->run->config->repository);
	fputc('"', rep->out);
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static long days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The run's start ("YYYY-MM-DDTHH:MM:SSZ") as Unix time; -1 when it does not parse. */
static long long started_epoch(const char *s)
{
	int y, mo, d, h, mi, se;
	char z;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &se, &z) != 7 ||
	    z != 'Z')
		return -1;
	return (long long)days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
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
	fputs("\",", rep->out);
	put_target(rep);
	fprintf(rep->out, "} %d\n", status_value(res->status));
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
		fprintf(rep->out, "ocidoctor_capability_supported{capability=\"%s\",",
			capability_names[i]);
		put_target(rep);
		fprintf(rep->out, "} %d\n", v);
	}
	fputs("# HELP ocidoctor_capability_score Number of supported capabilities, out of 5.\n"
	      "# TYPE ocidoctor_capability_score gauge\nocidoctor_capability_score{", rep->out);
	put_target(rep);
	fprintf(rep->out, "} %d\n", score);
}

static int prom_end(struct report *rep)
{
	long long started = started_epoch(rep->run->started_at);

	prom_capabilities(rep);
	fputs("# HELP ocidoctor_run_duration_seconds Wall time of the doctor run.\n"
	      "# TYPE ocidoctor_run_duration_seconds gauge\nocidoctor_run_duration_seconds{", rep->out);
	put_target(rep);
	fprintf(rep->out, "} %ld.%03ld\n", rep->run->duration_ms / 1000, rep->run->duration_ms % 1000);
	if (started < 0)
		return 0;
	fputs("# HELP ocidoctor_run_timestamp_seconds When the doctor run started, in seconds since the Unix epoch.\n"
	      "# TYPE ocidoctor_run_timestamp_seconds gauge\nocidoctor_run_timestamp_seconds{", rep->out);
	put_target(rep);
	fprintf(rep->out, "} %lld\n", started);
	return 0;
}

const struct report_writer report_prometheus = {
	.name = "prometheus",
	.description = "Prometheus text exposition format (textfile collector, Pushgateway)",
	.begin = prom_begin,
	.result = prom_result,
	.end = prom_end,
};
