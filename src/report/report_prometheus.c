/*
 * report_prometheus: the Prometheus exposition formats, for a
 * node-exporter textfile collector or a Pushgateway (`run --format
 * prometheus`: every series has registry and repository labels) and for the exporter
 * (`serve`: rep->probe set, no registry label since Prometheus adds the
 * target as `instance`, plus the probe_* series; text 0.0.4 or
 * OpenMetrics 1.0.0). One writer for both, so they cannot drift.
 *
 *   ocidoctor_probe_success                    1 completed with no failing check (serve)
 *   ocidoctor_probe_duration_seconds           wall time of the probe (serve)
 *   ocidoctor_probe_timeout_seconds            the time it was given (serve)
 *   ocidoctor_probe_cached                     1 when served from a writing module's cache
 *   ocidoctor_probe_cache_age_seconds          age of that result (serve)
 *   ocidoctor_check_status{check}              0 pass, 1 info, 2 warn, 3 fail, -1 skip
 *   ocidoctor_check_duration_seconds{check}
 *   ocidoctor_capability_supported{capability} 1 supported, 0 unsupported, -1 unknown
 *   ocidoctor_capability_score                 supported capabilities (of 5)
 *   ocidoctor_referrers_client_info{client,list,attach} 1: how each client lists and attaches referrers
 *   ocidoctor_rate_limit_remaining             what the registry said is left, when it did
 *   ocidoctor_run_duration_seconds             wall time of the run (run)
 *   ocidoctor_run_timestamp_seconds            when the run started, Unix time, so that
 *                                              stale textfile data shows (run)
 *   ocidoctor_run_requests, ocidoctor_run_round_trips
 *   ocidoctor_build_info{version}              1
 */
#include "report/report.h"
#include "checks/verdict.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static void family(FILE *out, const char *name, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/*
 * Starts a sample: name, then the labels (name/value pairs, NULL-ended)
 * and, outside the exporter, the registry and repository labels.
 */
static void sample(struct report *rep, const char *name, const char *const *labels)
{
	const char *sep = "{";

	fputs(name, rep->out);
	for (; labels && labels[0]; labels += 2) {
		fprintf(rep->out, "%s%s=\"", sep, labels[0]);
		put_label(rep->out, labels[1]);
		fputc('"', rep->out);
		sep = ",";
	}
	if (!rep->probe) {
		fprintf(rep->out, "%sregistry=\"", sep);
		put_label(rep->out, rep->run->config->registry);
		fputs("\",repository=\"", rep->out);
		put_label(rep->out, rep->run->config->repository);
		fputc('"', rep->out);
		sep = ",";
	}
	if (*sep == ',')
		fputc('}', rep->out);
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

static void seconds(FILE *out, long ms)
{
	fprintf(out, " %ld.%03ld\n", ms / 1000, ms % 1000);
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

static void probe_metrics(FILE *out, const struct report_probe *p)
{
	family(out, "ocidoctor_probe_success", "1 when the probe completed and no check failed.");
	fprintf(out, "ocidoctor_probe_success %d\n", p->success ? 1 : 0);
	family(out, "ocidoctor_probe_duration_seconds", "Wall time of the probe.");
	fputs("ocidoctor_probe_duration_seconds", out);
	seconds(out, p->duration_ms);
	family(out, "ocidoctor_probe_timeout_seconds", "The time the probe was given.");
	fputs("ocidoctor_probe_timeout_seconds", out);
	seconds(out, p->timeout_ms);
	family(out, "ocidoctor_probe_cached", "1 when this is a writing module's cached result.");
	fprintf(out, "ocidoctor_probe_cached %d\n", p->cached ? 1 : 0);
	family(out, "ocidoctor_probe_cache_age_seconds", "Age of the result served (0 when fresh).");
	fputs("ocidoctor_probe_cache_age_seconds", out);
	seconds(out, p->cached ? p->cache_age_ms : 0);
}

static void build_info(FILE *out)
{
	family(out, "ocidoctor_build_info", "The ocidoctor version that answered, always 1.");
	fputs("ocidoctor_build_info{version=\"" OCIDOCTOR_VERSION "\"} 1\n", out);
}

void report_prometheus_probe_only(FILE *out, const struct report_probe *probe)
{
	probe_metrics(out, probe);
	build_info(out);
	if (probe->openmetrics)
		fputs("# EOF\n", out);
}

static int prom_begin(struct report *rep)
{
	if (rep->probe)
		probe_metrics(rep->out, rep->probe);
	family(rep->out, "ocidoctor_check_status",
	       "Result of each check: 0 pass, 1 info, 2 warn, 3 fail, -1 skip.");
	return 0;
}

static int prom_result(struct report *rep, const struct check_result *res)
{
	const char *labels[] = { "check", res->check->id, NULL };

	sample(rep, "ocidoctor_check_status", labels);
	fprintf(rep->out, " %d\n", status_value(res->status));
	return 0;
}

static void prom_durations(struct report *rep)
{
	size_t i;

	family(rep->out, "ocidoctor_check_duration_seconds", "Wall time of each check.");
	for (i = 0; i < check_table_size; i++) {
		const struct check_result *res = &rep->run->results[i];
		const char *labels[] = { "check", res->check->id, NULL };

		if (!res->selected)
			continue;
		sample(rep, "ocidoctor_check_duration_seconds", labels);
		seconds(rep->out, res->duration_ms);
	}
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
	family(rep->out, "ocidoctor_capability_supported",
	       "Registry capability: 1 supported, 0 unsupported, -1 unknown.");
	for (i = 0; capability_names[i]; i++) {
		const char *state = json_string_value(json_object_get(
			json_object_get(caps, capability_names[i]), "state"));
		const char *labels[] = { "capability", capability_names[i], NULL };
		int v = capability_value(state);

		if (state && !strcmp(state, "not-probed"))
			continue; /* --no-writes: no sample rather than a false "unknown" */
		score += v == 1;
		sample(rep, "ocidoctor_capability_supported", labels);
		fprintf(rep->out, " %d\n", v);
	}
	family(rep->out, "ocidoctor_capability_score", "Number of supported capabilities, out of 5.");
	sample(rep, "ocidoctor_capability_score", NULL);
	fprintf(rep->out, " %d\n", score);
}

/*
 * The referrers check's prediction for each client: how it lists referrers
 * (api, tag-fallback or error) and how it attaches them (api, tag-fallback
 * or unknown).
 */
static void prom_clients(struct report *rep)
{
	const json_t *clients = report_referrers_clients(rep->run);
	size_t i, n = sizeof(referrers_clients) / sizeof(referrers_clients[0]);
	int any = 0;

	for (i = 0; clients && i < n; i++) {
		const json_t *c = json_object_get(clients, referrers_clients[i]);
		const char *labels[] = { "client", referrers_clients[i], "list", report_str(c, "list"),
					 "attach", report_str(c, "attach"), NULL };

		if (!c)
			continue;
		if (!any++)
			family(rep->out, "ocidoctor_referrers_client_info",
			       "How each client will list and attach referrers (api, tag-fallback, ...), always 1.");
		sample(rep, "ocidoctor_referrers_client_info", labels);
		fputs(" 1\n", rep->out);
	}
}

/* The leading number of a RateLimit-Remaining value ("76;w=21600"), or -1. */
static long remaining_value(const char *v)
{
	char *end;
	long n;

	if (!v || !isdigit((unsigned char)*v))
		return -1;
	n = strtol(v, &end, 10);
	return n >= 0 ? n : -1;
}

static long header_remaining(const struct http_response *r)
{
	const char *names[] = { "RateLimit-Remaining", "X-RateLimit-Remaining" };
	size_t i;

	for (i = 0; r && i < 2; i++) {
		long n = remaining_value(http_header_get(r, names[i]));

		if (n >= 0)
			return n;
	}
	return -1;
}

/* From the first rate-limiting answer, else from the answer to GET /v2/. */
static void prom_rate_limit(struct report *rep)
{
	const json_t *headers = json_object_get(rep->run->rate_limit, "headers");
	const char *key;
	json_t *v;
	long n = -1;

	json_object_foreach((json_t *)headers, key, v)
		if (n < 0 && (!strcasecmp(key, "ratelimit-remaining") ||
			      !strcasecmp(key, "x-ratelimit-remaining")))
			n = remaining_value(json_string_value(v));
	if (n < 0)
		n = header_remaining(rep->run->facts.ping);
	if (n < 0)
		return;
	family(rep->out, "ocidoctor_rate_limit_remaining",
	       "Requests the registry said are left in its rate-limit window.");
	sample(rep, "ocidoctor_rate_limit_remaining", NULL);
	fprintf(rep->out, " %ld\n", n);
}

static void prom_run(struct report *rep)
{
	long long started = started_epoch(rep->run->started_at);

	if (!rep->probe) {
		family(rep->out, "ocidoctor_run_duration_seconds", "Wall time of the doctor run.");
		sample(rep, "ocidoctor_run_duration_seconds", NULL);
		seconds(rep->out, rep->run->duration_ms);
	}
	if (!rep->probe && started >= 0) {
		/* a scrape is its own timestamp: only a textfile or a Pushgateway needs this */
		family(rep->out, "ocidoctor_run_timestamp_seconds",
		       "When the doctor run started, in seconds since the Unix epoch.");
		sample(rep, "ocidoctor_run_timestamp_seconds", NULL);
		fprintf(rep->out, " %lld\n", started);
	}
	family(rep->out, "ocidoctor_run_requests", "HTTP requests the run made.");
	sample(rep, "ocidoctor_run_requests", NULL);
	fprintf(rep->out, " %ld\n", rep->run->requests);
	family(rep->out, "ocidoctor_run_round_trips", "Longest chain of dependent requests of the run.");
	sample(rep, "ocidoctor_run_round_trips", NULL);
	fprintf(rep->out, " %ld\n", rep->run->round_trips);
}

static int prom_end(struct report *rep)
{
	prom_durations(rep);
	prom_capabilities(rep);
	prom_clients(rep);
	prom_rate_limit(rep);
	prom_run(rep);
	build_info(rep->out);
	if (rep->probe && rep->probe->openmetrics)
		fputs("# EOF\n", rep->out);
	return 0;
}

const struct report_writer report_prometheus = {
	.name = "prometheus",
	.description = "Prometheus text exposition format (textfile collector, Pushgateway)",
	.begin = prom_begin,
	.result = prom_result,
	.end = prom_end,
};
