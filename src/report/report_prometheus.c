/*
 * report_prometheus: the Prometheus exposition formats, for a
 * node-exporter textfile collector or a Pushgateway (`run --format
 * prometheus`: every series has registry and repository labels) and for the exporter
 * (`serve`: rep->probe set, no registry label since Prometheus adds the
 * target as `instance`, plus the probe_* series; text 0.0.4 or
 * OpenMetrics 1.0.0). One writer for both, so they cannot drift.
 *
 *   probe_success                              blackbox_exporter's: 1 completed with no
 *                                              failing check (serve and run)
 *   probe_duration_seconds                     blackbox_exporter's: wall time of the probe (serve)
 *   probe_http_status_code                     the status of GET /v2/ (0: no answer)
 *   ocidoctor_probe_success                    1 completed with no failing check (serve)
 *   ocidoctor_probe_duration_seconds           wall time of the probe (serve)
 *   ocidoctor_probe_timeout_seconds            the time it was given (serve)
 *   ocidoctor_probe_cached                     1 when served from a writing module's cache
 *   ocidoctor_probe_cache_age_seconds          age of that result (serve)
 *   ocidoctor_check_status{check}              0 pass, 1 info, 2 warn, 3 fail, -1 skip
 *   ocidoctor_check_duration_seconds{check}
 *   ocidoctor_capability_supported{capability} 1 supported, 0 unsupported, -1 unknown
 *   ocidoctor_capability_score                 supported capabilities, of
 *   ocidoctor_capability_probed                the capabilities probed
 *   ocidoctor_probe_failure_info{check,cause}  1 for each failing check, with its fix's cause word
 *   probe_ssl_earliest_cert_expiry             blackbox_exporter's: the earliest notAfter of
 *                                              the registry's certificates, Unix time
 *   probe_tls_version_info{version}            blackbox_exporter's: the registry's TLS version
 *   ocidoctor_ssl_earliest_cert_expiry{host}   the same for every host the probe reached
 *                                              over TLS (token realm, blob storage)
 *   ocidoctor_clock_skew_seconds{host}         a host's Date header less the local clock
 *   ocidoctor_token_lifetime_seconds           the shortest token lifetime of the run
 * (all from the answers the probe got anyway: no request of their own)
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
		report_put_label(rep->out, labels[1]);
		fputc('"', rep->out);
		sep = ",";
	}
	if (!rep->probe) {
		fprintf(rep->out, "%sregistry=\"", sep);
		report_put_label(rep->out, rep->results->registry);
		fputs("\",repository=\"", rep->out);
		report_put_label(rep->out, rep->results->repository);
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

static void probe_metrics(FILE *out, const struct report_probe *p)
{
	family(out, "probe_success", "Whether the probe succeeded (blackbox_exporter's meaning).");
	fprintf(out, "probe_success %d\n", p->success ? 1 : 0);
	family(out, "probe_duration_seconds", "How long the probe took to complete in seconds.");
	fputs("probe_duration_seconds", out);
	seconds(out, p->duration_ms);
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
	if (rep->probe) {
		probe_metrics(rep->out, rep->probe);
	} else {
		family(rep->out, "probe_success",
		       "Whether the run succeeded: 1 when no check failed (blackbox_exporter's meaning).");
		sample(rep, "probe_success", NULL);
		fprintf(rep->out, " %d\n", rep->results->worst != STATUS_FAIL);
	}
	family(rep->out, "ocidoctor_check_status",
	       "Result of each check: 0 pass, 1 info, 2 warn, 3 fail, -1 skip.");
	return 0;
}

static int prom_result(struct report *rep, const struct check_result *res)
{
	const char *labels[] = { "check", res->check->id, NULL };

	sample(rep, "ocidoctor_check_status", labels);
	fprintf(rep->out, " %d\n", report_status_value(res->status));
	return 0;
}

static void prom_durations(struct report *rep)
{
	size_t i;

	family(rep->out, "ocidoctor_check_duration_seconds", "Wall time of each check.");
	for (i = 0; i < rep->results->nr; i++) {
		const struct check_result *res = &rep->results->results[i];
		const char *labels[] = { "check", res->check->id, NULL };

		if (!res->selected)
			continue;
		sample(rep, "ocidoctor_check_duration_seconds", labels);
		seconds(rep->out, res->duration_ms);
	}
}

/*
 * A state section (the capabilities): a gauge per row from its state,
 * 1 supported, 0 unsupported, -1 otherwise, with no sample for a row that
 * was not probed (--no-writes: no sample rather than a false "unknown"),
 * and the count of supported rows.
 */
static void prom_state_section(struct report *rep, const struct result_section *s)
{
	const struct section_def *d = s->def;
	int score = 0, probed = 0;
	size_t i;

	family(rep->out, d->metric, d->metric_help);
	for (i = 0; i < s->nr; i++) {
		const char *state = section_cell(s, &s->rows[i], "state");
		const char *labels[] = { d->metric_label, s->rows[i].cells[0], NULL };
		int v = report_capability_value(state);

		if (state && !strcmp(state, "not-probed"))
			continue;
		score += v == 1;
		probed++;
		sample(rep, d->metric, labels);
		fprintf(rep->out, " %d\n", v);
	}
	if (d->score_metric) {
		family(rep->out, d->score_metric, d->score_help);
		sample(rep, d->score_metric, NULL);
		fprintf(rep->out, " %d\n", score);
	}
	if (d->probed_metric) {
		family(rep->out, d->probed_metric, d->probed_help);
		sample(rep, d->probed_metric, NULL);
		fprintf(rep->out, " %d\n", probed);
	}
}

/*
 * An info section (the referrers check's clients): one series per row,
 * always 1, labelled with its name and its short columns (free text such
 * as a reason stays out of the labels).
 */
static void prom_info_section(struct report *rep, const struct result_section *s)
{
	const struct section_def *d = s->def;
	size_t n = section_columns(d), i, k;

	for (i = 0; i < s->nr; i++) {
		const char *labels[2 * SECTION_MAX_COLUMNS + 1];
		size_t l = 0;

		labels[l++] = d->metric_label;
		labels[l++] = s->rows[i].cells[0];
		for (k = 1; k < n; k++) {
			if (report_column_is_text(d->columns[k].key))
				continue;
			labels[l++] = d->columns[k].key;
			labels[l++] = s->rows[i].cells[k];
		}
		labels[l] = NULL;
		if (!i)
			family(rep->out, d->metric, d->metric_help);
		sample(rep, d->metric, labels);
		fputs(" 1\n", rep->out);
	}
}

static void prom_section(void *arg, const struct check_result *res, const struct result_section *s)
{
	(void)res;
	if (!s->def->metric || !s->def->metric_label)
		return;
	if (s->def->metric_kind == SECTION_METRIC_STATE)
		prom_state_section(arg, s);
	else if (s->def->metric_kind == SECTION_METRIC_INFO)
		prom_info_section(arg, s);
}

/* The result of the registry check, when it ran. */
static const struct check_result *registry_result(const struct run_results *run)
{
	size_t i;

	for (i = 0; i < run->nr; i++)
		if (run->results[i].check == &check_registry && run->results[i].done)
			return &run->results[i];
	return NULL;
}

/* The status of the last GET /v2/ of the registry check (0: no answer), when it ran. */
static void prom_v2_status(struct report *rep)
{
	const struct check_result *res = registry_result(rep->results);
	long status = -1;
	size_t i, n;

	for (i = 0; res && i < res->evidence.nr; i++) {
		const struct evidence *e = &res->evidence.items[i];

		n = strlen(e->url);
		if (n >= 4 && !strcmp(e->url + n - 4, "/v2/"))
			status = e->status;
	}
	if (status < 0)
		return;
	family(rep->out, "probe_http_status_code", "HTTP status of the registry's GET /v2/ (0: no answer).");
	sample(rep, "probe_http_status_code", NULL);
	fprintf(rep->out, " %ld\n", status);
}

/* The cause word of a failing result: its fix's, else its own. */
static const char *failure_cause(struct report *rep, const struct check_result *res)
{
	struct report_fix fix;
	const char *cause = NULL;

	if (!res->blocked_by && report_fix_get(rep, res, &fix) == 0) {
		cause = fix.remediation->cause;
		report_fix_release(&fix);
	}
	if (!cause)
		cause = res->cause;
	if (!cause && res->blocked_by)
		cause = "blocked";
	return cause ? cause : "unknown";
}

/* One series per failing check, labelled with the cause a dashboard can group by. */
static void prom_failures(struct report *rep)
{
	int first = 1;
	size_t i;

	for (i = 0; i < rep->results->nr; i++) {
		const struct check_result *res = &rep->results->results[i];
		const char *labels[] = { "check", res->check->id, "cause", NULL, NULL };

		if (!res->selected || !res->done || res->status != STATUS_FAIL)
			continue;
		labels[3] = failure_cause(rep, res);
		if (first)
			family(rep->out, "ocidoctor_probe_failure_info",
			       "1 for each failing check, labelled with the cause of its fix.");
		first = 0;
		sample(rep, "ocidoctor_probe_failure_info", labels);
		fputs(" 1\n", rep->out);
	}
}

/* ---- facts of the answers: certificates, clocks, tokens ---- */

#define FACT_HOSTS_MAX 16

struct host_facts {
	char host[256];
	long long not_after;            /* earliest seen; 0: none */
	char version[12];
	long long skew;
	int has_skew;
};

struct answer_facts {
	struct host_facts hosts[FACT_HOSTS_MAX];
	size_t nr;
	long token_lifetime;            /* shortest; 0: none */
};

/* host[:port] of an absolute URL into out ("" when it has none). */
static void url_host(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://");
	size_t len;

	out[0] = '\0';
	if (!p)
		return;
	p += 3;
	len = strcspn(p, "/?#");
	if (len >= n)
		return;
	memcpy(out, p, len);
	out[len] = '\0';
}

static struct host_facts *facts_host(struct answer_facts *f, const char *host)
{
	size_t i;

	for (i = 0; i < f->nr; i++)
		if (!strcmp(f->hosts[i].host, host))
			return &f->hosts[i];
	if (f->nr == FACT_HOSTS_MAX)
		return NULL;
	memset(&f->hosts[f->nr], 0, sizeof(f->hosts[0]));
	snprintf(f->hosts[f->nr].host, sizeof(f->hosts[0].host), "%s", host);
	return &f->hosts[f->nr++];
}

static void facts_add(struct answer_facts *f, const struct evidence *e)
{
	struct host_facts *h;
	char host[256];

	if (e->token_lifetime_s > 0 && (!f->token_lifetime || e->token_lifetime_s < f->token_lifetime))
		f->token_lifetime = e->token_lifetime_s;
	url_host(e->url, host, sizeof(host));
	if (!*host || !(h = facts_host(f, host)))
		return;
	if (e->tls_not_after && (!h->not_after || e->tls_not_after < h->not_after))
		h->not_after = e->tls_not_after;
	if (e->tls_version[0] && !h->version[0])
		memcpy(h->version, e->tls_version, sizeof(h->version));
	if (e->date && e->received_at && !h->has_skew) {
		h->skew = e->date - e->received_at;
		h->has_skew = 1;
	}
}

/* The facts of every answer of the run; the registry's host first when the registry check ran. */
static void facts_collect(const struct run_results *run, struct answer_facts *f)
{
	const struct check_result *reg = registry_result(run);
	size_t i, j;

	memset(f, 0, sizeof(*f));
	for (j = 0; reg && j < reg->evidence.nr; j++)
		facts_add(f, &reg->evidence.items[j]);
	for (i = 0; i < run->nr; i++)
		for (j = 0; run->results[i].done && &run->results[i] != reg &&
			    j < run->results[i].evidence.nr; j++)
			facts_add(f, &run->results[i].evidence.items[j]);
}

static void prom_host_series(struct report *rep, const struct answer_facts *f, const char *name,
			     const char *help, int skew)
{
	int first = 1;
	size_t i;

	for (i = 0; i < f->nr; i++) {
		const struct host_facts *h = &f->hosts[i];
		const char *labels[] = { "host", h->host, NULL };

		if (skew ? !h->has_skew : !h->not_after)
			continue;
		if (first)
			family(rep->out, name, help);
		first = 0;
		sample(rep, name, labels);
		fprintf(rep->out, " %lld\n", skew ? h->skew : h->not_after);
	}
}

static void prom_answer_facts(struct report *rep)
{
	struct answer_facts f;
	const struct check_result *r = registry_result(rep->results);
	const struct host_facts *reg;
	const char *labels[] = { "version", NULL, NULL };

	facts_collect(rep->results, &f);
	reg = r && r->evidence.nr && f.nr ? &f.hosts[0] : NULL;
	if (reg && reg->not_after) {
		family(rep->out, "probe_ssl_earliest_cert_expiry",
		       "Earliest expiry of the registry's certificates, in Unix time.");
		sample(rep, "probe_ssl_earliest_cert_expiry", NULL);
		fprintf(rep->out, " %lld\n", reg->not_after);
	}
	if (reg && reg->version[0]) {
		labels[1] = reg->version;
		family(rep->out, "probe_tls_version_info", "The TLS version the registry spoke, always 1.");
		sample(rep, "probe_tls_version_info", labels);
		fputs(" 1\n", rep->out);
	}
	prom_host_series(rep, &f, "ocidoctor_ssl_earliest_cert_expiry",
			 "Earliest expiry of the certificates of each host the probe reached over TLS, in Unix time.",
			 0);
	prom_host_series(rep, &f, "ocidoctor_clock_skew_seconds",
			 "A host's Date header less the local clock when its answer arrived.", 1);
	if (f.token_lifetime) {
		family(rep->out, "ocidoctor_token_lifetime_seconds",
		       "Lifetime of the shortest-lived token the probe got (expires_in, else the JWT's exp - iat).");
		sample(rep, "ocidoctor_token_lifetime_seconds", NULL);
		fprintf(rep->out, " %ld\n", f.token_lifetime);
	}
}

/* What the registry said is left of its rate-limit window, when it did. */
static void prom_rate_limit(struct report *rep)
{
	long n = rep->results->rate_limit_remaining;

	if (n < 0)
		return;
	family(rep->out, "ocidoctor_rate_limit_remaining",
	       "Requests the registry said are left in its rate-limit window.");
	sample(rep, "ocidoctor_rate_limit_remaining", NULL);
	fprintf(rep->out, " %ld\n", n);
}

static void prom_run(struct report *rep)
{
	long long started = started_epoch(rep->results->started_at);

	if (!rep->probe) {
		family(rep->out, "ocidoctor_run_duration_seconds", "Wall time of the doctor run.");
		sample(rep, "ocidoctor_run_duration_seconds", NULL);
		seconds(rep->out, rep->results->duration_ms);
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
	fprintf(rep->out, " %ld\n", rep->results->requests);
	family(rep->out, "ocidoctor_run_round_trips", "Longest chain of dependent requests of the run.");
	sample(rep, "ocidoctor_run_round_trips", NULL);
	fprintf(rep->out, " %ld\n", rep->results->round_trips);
}

static int prom_end(struct report *rep)
{
	prom_durations(rep);
	prom_failures(rep);
	prom_v2_status(rep);
	prom_answer_facts(rep);
	results_foreach_section(rep->results, prom_section, rep);
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
