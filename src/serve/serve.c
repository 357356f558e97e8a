/*
 * serve: the exporter's HTTP server (libmicrohttpd, one thread per
 * connection, at most SERVE_CONNECTIONS(--max-concurrent) of them), its
 * own metrics, its pages and its reloads; the probes themselves are in
 * serve_probe.c.
 *
 * Endpoints:
 *   GET  /probe?target=&module=&repository=&tag=&debug=&format=
 *   GET  /metrics        the exporter's own metrics
 *   GET  /-/healthy
 *   POST /-/reload       (and SIGHUP)
 *   GET  /               version, modules, recent probes
 *   GET  /report/ID      the HTML report of a recent probe
 */
#include "serve/serve_internal.h"
#include "cli/cli.h"
#include "report/report.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/ref.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* ---- config references ------------------------------------------------- */

static struct serve_config *config_get(struct server *s)
{
	struct serve_config *c;

	pthread_mutex_lock(&s->lock);
	c = s->config;
	c->refs++;
	pthread_mutex_unlock(&s->lock);
	return c;
}

static void config_put(struct server *s, struct serve_config *c)
{
	int last;

	pthread_mutex_lock(&s->lock);
	last = --c->refs == 0;
	pthread_mutex_unlock(&s->lock);
	if (last)
		serve_config_free(c);
}

static struct module_counters *counters_for(struct server *s, const char *module)
{
	size_t i;

	for (i = 0; i < COUNTER_SLOTS && s->counters[i].name; i++)
		if (!strcmp(s->counters[i].name, module))
			return &s->counters[i];
	if (i == COUNTER_SLOTS)
		return &s->counters[COUNTER_SLOTS - 1];
	s->counters[i].name = xstrdup(module);
	return &s->counters[i];
}

/* ---- logging ------------------------------------------------------------ */

/* ,"key":"value" with value JSON-escaped (written straight out: jansson's
 * allocator is the wiping one, so nothing it allocates goes to free()). */
static void json_put(FILE *out, const char *key, const char *value, int first)
{
	json_t *v = json_string(value ? value : "");

	fprintf(out, "%s\"%s\":", first ? "" : ",", key);
	if (!v || json_dumpf(v, out, JSON_ENCODE_ANY) < 0)
		fputs("\"\"", out);
	json_decref(v);
}

static void log_probe(struct server *s, const char *target, const char *module, long ms,
		      const char *outcome, const char *worst, int cached)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	flockfile(stderr);
	if (s->log_json) {
		fprintf(stderr, "{\"time\":\"%s\",\"msg\":\"probe\"", when);
		json_put(stderr, "target", target, 0);
		json_put(stderr, "module", module, 0);
		fprintf(stderr, ",\"duration_seconds\":%ld.%03ld", ms / 1000, ms % 1000);
		json_put(stderr, "outcome", outcome, 0);
		json_put(stderr, "worst", worst, 0);
		fprintf(stderr, ",\"cached\":%s}\n", cached ? "true" : "false");
	} else {
		fprintf(stderr, "%s probe target=%s module=%s duration=%ld.%03lds outcome=%s worst=%s%s\n",
			when, target, module, ms / 1000, ms % 1000, outcome, worst,
			cached ? " cached" : "");
	}
	funlockfile(stderr);
}

static void log_event(struct server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_event(struct server *s, const char *fmt, ...)
{
	char when[32], *msg;
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;
	struct buf b;

	buf_init(&b, BUF_TEXT_MAX);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	msg = buf_detach(&b);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	flockfile(stderr);
	if (s->log_json) {
		fprintf(stderr, "{\"time\":\"%s\"", when);
		json_put(stderr, "msg", msg, 0);
		fputs("}\n", stderr);
	} else {
		fprintf(stderr, "%s %s\n", when, msg);
	}
	funlockfile(stderr);
	free(msg);
	buf_release(&b);
}

/* ---- answers -------------------------------------------------------------- */

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *type,
			      char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned status,
				   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned status, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	size_t len;

	buf_init(&b, BUF_TEXT_MAX);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	len = b.len;
	return answer(conn, status, "text/plain; charset=utf-8", buf_detach(&b), len);
}

/* A memory stream: the writers take a FILE. */
struct mem {
	FILE *f;
	char *data;
	size_t len;
};

static FILE *mem_open(struct mem *m)
{
	memset(m, 0, sizeof(*m));
	m->f = open_memstream(&m->data, &m->len);
	if (!m->f)
		xdie("out of memory");
	return m->f;
}

static enum MHD_Result mem_answer(struct MHD_Connection *conn, struct mem *m, unsigned status,
				  const char *type)
{
	if (fclose(m->f) != 0) {
		free(m->data);
		return answer_text(conn, 500, "writing the answer failed\n");
	}
	return answer(conn, status, type, m->data, m->len);
}

/* ---- rendering a probe ---------------------------------------------------- */

/* Whether one media range of an Accept header is OpenMetrics with a q above 0. */
static int range_is_openmetrics(const char *range, size_t len)
{
	static const char om[] = "application/openmetrics-text";
	const char *q;

	while (len && (*range == ' ' || *range == '\t'))
		range++, len--;
	if (len < sizeof(om) - 1 || strncasecmp(range, om, sizeof(om) - 1))
		return 0;
	for (q = range; q + 2 < range + len; q++)
		if ((q[0] == 'q' || q[0] == 'Q') && q[1] == '=' && (q == range || q[-1] == ';' ||
								     q[-1] == ' '))
			return strtod(q + 2, NULL) > 0;
	return 1;
}

/* OpenMetrics when the scrape's Accept asks for it (as Prometheus does), else text 0.0.4. */
static int wants_openmetrics(struct MHD_Connection *conn)
{
	const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");

	while (accept && *accept) {
		size_t len = strcspn(accept, ",");

		if (range_is_openmetrics(accept, len))
			return 1;
		accept += len;
		if (*accept == ',')
			accept++;
	}
	return 0;
}


enum probe_format { FORMAT_METRICS, FORMAT_DEBUG, FORMAT_JSON, FORMAT_HTML };

static enum MHD_Result answer_probe(struct MHD_Connection *conn, struct probe_rec *r,
				    enum probe_format fmt, int cached, long age_ms)
{
	struct mem m;
	FILE *out = mem_open(&m);
	const char *type = PROMETHEUS_TEXT_TYPE;
	unsigned status = 200;
	int om;

	pthread_mutex_lock(&r->render);
	switch (fmt) {
	case FORMAT_METRICS:
		om = wants_openmetrics(conn);
		if (om)
			type = OPENMETRICS_TYPE;
		serve_write_metrics(out, r, om, cached, age_ms);
		break;
	case FORMAT_DEBUG:
		type = "text/plain; charset=utf-8";
		serve_write_debug(out, r, cached, age_ms);
		break;
	case FORMAT_JSON:
	case FORMAT_HTML:
		type = fmt == FORMAT_JSON ? "application/json" : "text/html; charset=utf-8";
		if (!r->ran) {
			type = "text/plain; charset=utf-8";
			status = 500;
			fprintf(out, "the probe could not run:\n%s", r->notes ? r->notes : "");
		} else {
			serve_write_report(out, r, fmt == FORMAT_JSON ? &report_json : &report_html);
		}
		break;
	}
	pthread_mutex_unlock(&r->render);
	return mem_answer(conn, &m, status, type);
}


/* The probe's time: the scrape's timeout less the offset, capped by the module. */
static long probe_budget(struct server *s, struct MHD_Connection *conn,
			 const struct serve_module *m)
{
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    "X-Prometheus-Scrape-Timeout-Seconds");
	long ms = SERVE_NO_HEADER_TIMEOUT_MS;
	char *end;
	double d;

	if (h) {
		d = strtod(h, &end);
		if (end != h && d > 0 && d < 86400)
			ms = (long)(d * 1000) - s->offset_ms;
	}
	if (m->timeout_ms && m->timeout_ms < ms)
		ms = m->timeout_ms;
	return ms < SERVE_MIN_TIMEOUT_MS ? SERVE_MIN_TIMEOUT_MS : ms;
}

static int target_allowed(struct server *s, const char *hostport)
{
	size_t i;

	if (!s->args->allow_targets.nr)
		return 1;
	for (i = 0; i < s->args->allow_targets.nr; i++)
		if (serve_host_pattern_match(s->args->allow_targets.items[i], hostport))
			return 1;
	return 0;
}

static const char *arg(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* A 400 with a message naming what was wrong, counted. */
static enum MHD_Result bad_request(struct server *s, struct MHD_Connection *conn, const char *what,
				   const char *value, const char *why)
{
	pthread_mutex_lock(&s->lock);
	s->bad_requests++;
	pthread_mutex_unlock(&s->lock);
	if (!value)
		return answer_text(conn, 400, "%s\n", what);
	return answer_text(conn, 400, "%s '%s'%s%s\n", what, value, why ? ": " : "", why ? why : "");
}

static enum MHD_Result probe_answer(struct server *s, struct MHD_Connection *conn,
				    struct serve_module *m, struct probe_req *q, enum probe_format fmt)
{
	struct module_counters *mc;
	struct probe_rec *r;
	long age_ms = -1;
	enum MHD_Result ret;

	if (m->writes == DOCTOR_WRITES_PROBE)
		r = serve_probe_cached(s, m, q, &age_ms);
	else
		r = serve_probe_in_slot(s, m, q);
	if (!r)
		return answer_text(conn, 503, "too many probes at once (--max-concurrent %ld)\n",
				   s->args->max_concurrent);
	pthread_mutex_lock(&s->lock);
	mc = counters_for(s, m->name);
	if (age_ms >= 0)
		mc->cache_hits++;
	else if (!r->ran)
		mc->errors++;
	else if (r->success)
		mc->success++;
	else
		mc->failure++;
	pthread_mutex_unlock(&s->lock);
	log_probe(s, q->target, m->name, age_ms >= 0 ? 0 : r->duration_ms,
		  !r->ran ? "error" : r->success ? "success" : "failure",
		  r->ran ? check_status_name((enum check_status)r->res.worst) : "none", age_ms >= 0);
	ret = answer_probe(conn, r, fmt, age_ms >= 0, age_ms);
	serve_rec_unref(r);
	return ret;
}

static enum MHD_Result handle_probe(struct server *s, struct MHD_Connection *conn)
{
	const char *target = arg(conn, "target"), *name = arg(conn, "module");
	const char *debug = arg(conn, "debug"), *format = arg(conn, "format");
	const char *why = NULL;
	struct serve_config *c;
	struct serve_module *m;
	struct registry_url u;
	struct probe_req q = { 0 };
	enum probe_format fmt = FORMAT_METRICS;
	enum MHD_Result ret;

	if (!target || !*target)
		return bad_request(s, conn, "the target parameter is missing (/probe?target=REGISTRY)",
				   NULL, NULL);
	if (debug && !strcmp(debug, "true"))
		fmt = FORMAT_DEBUG;
	else if (format && !strcmp(format, "json"))
		fmt = FORMAT_JSON;
	else if (format && !strcmp(format, "html"))
		fmt = FORMAT_HTML;
	else if (format && strcmp(format, "prometheus"))
		return bad_request(s, conn, "unknown format (prometheus, json or html):", format, NULL);
	if (registry_url_parse(&u, target, &why) < 0)
		return bad_request(s, conn, "invalid target", target, why);
	q.hostport = registry_url_hostport(&u);
	registry_url_release(&u);
	lower(q.hostport);
	c = config_get(s);
	m = (struct serve_module *)serve_config_module(c, name && *name ? name : "default");
	if (!m) {
		pthread_mutex_lock(&s->lock);
		s->unknown_module++;
		pthread_mutex_unlock(&s->lock);
		ret = answer_text(conn, 400, "unknown module '%s'\n", name && *name ? name : "default");
		goto done;
	}
	if (!target_allowed(s, q.hostport)) {
		ret = bad_request(s, conn, "target not allowed by --allow-target:", q.hostport, NULL);
		goto done;
	}
	q.target = target;
	q.repository = arg(conn, "repository") ? arg(conn, "repository") : m->repository;
	q.tag = arg(conn, "tag") ? arg(conn, "tag") : m->tag;
	if (repository_name_valid(q.repository, &why) < 0) {
		ret = bad_request(s, conn, "invalid repository", q.repository, why);
		goto done;
	}
	if (reference_valid(q.tag, &why) < 0) {
		ret = bad_request(s, conn, "invalid tag", q.tag, why);
		goto done;
	}
	q.timeout_ms = probe_budget(s, conn, m);
	ret = probe_answer(s, conn, m, &q, fmt);
done:
	config_put(s, c);
	free(q.hostport);
	return ret;
}

/* ---- the exporter's own metrics ------------------------------------------- */

static void counter_family(FILE *out, int om, const char *name, const char *help)
{
	if (om)
		fprintf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	else
		fprintf(out, "# HELP %s_total %s\n# TYPE %s_total counter\n", name, help, name);
}

static void gauge_family(FILE *out, const char *name, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void put_module_label(FILE *out, const char *name)
{
	/* module names are [A-Za-z0-9_.-]: nothing to escape */
	fprintf(out, "{module=\"%s\"", name);
}

static enum MHD_Result handle_metrics(struct server *s, struct MHD_Connection *conn)
{
	int om = wants_openmetrics(conn);
	struct mem m;
	FILE *out = mem_open(&m);
	size_t i;

	pthread_mutex_lock(&s->lock);
	gauge_family(out, "ocidoctor_build_info", "The ocidoctor version that answered, always 1.");
	fputs("ocidoctor_build_info{version=\"" OCIDOCTOR_VERSION "\"} 1\n", out);
	counter_family(out, om, "ocidoctor_exporter_probes", "Probes run, by module and outcome.");
	for (i = 0; i < COUNTER_SLOTS && s->counters[i].name; i++) {
		fputs("ocidoctor_exporter_probes_total", out);
		put_module_label(out, s->counters[i].name);
		fprintf(out, ",outcome=\"success\"} %lu\n", s->counters[i].success);
		fputs("ocidoctor_exporter_probes_total", out);
		put_module_label(out, s->counters[i].name);
		fprintf(out, ",outcome=\"failure\"} %lu\n", s->counters[i].failure);
	}
	counter_family(out, om, "ocidoctor_exporter_probe_errors",
		       "Probes that could not run (broken credentials source), by module.");
	for (i = 0; i < COUNTER_SLOTS && s->counters[i].name; i++) {
		fputs("ocidoctor_exporter_probe_errors_total", out);
		put_module_label(out, s->counters[i].name);
		fprintf(out, "} %lu\n", s->counters[i].errors);
	}
	counter_family(out, om, "ocidoctor_exporter_cache_hits",
		       "Scrapes of a writing module answered from its cache, by module.");
	for (i = 0; i < COUNTER_SLOTS && s->counters[i].name; i++) {
		fputs("ocidoctor_exporter_cache_hits_total", out);
		put_module_label(out, s->counters[i].name);
		fprintf(out, "} %lu\n", s->counters[i].cache_hits);
	}
	counter_family(out, om, "ocidoctor_exporter_unknown_module_requests",
		       "Probe requests naming a module the config does not have.");
	fprintf(out, "ocidoctor_exporter_unknown_module_requests_total %lu\n", s->unknown_module);
	counter_family(out, om, "ocidoctor_exporter_bad_requests",
		       "Probe requests refused as invalid (400).");
	fprintf(out, "ocidoctor_exporter_bad_requests_total %lu\n", s->bad_requests);
	counter_family(out, om, "ocidoctor_exporter_probes_rejected",
		       "Probes refused with 503 because --max-concurrent were running.");
	fprintf(out, "ocidoctor_exporter_probes_rejected_total %lu\n", s->rejected);
	gauge_family(out, "ocidoctor_exporter_probes_in_flight", "Probes running now.");
	fprintf(out, "ocidoctor_exporter_probes_in_flight %d\n", s->active);
	gauge_family(out, "ocidoctor_exporter_max_concurrent", "The --max-concurrent limit.");
	fprintf(out, "ocidoctor_exporter_max_concurrent %ld\n", s->args->max_concurrent);
	gauge_family(out, "ocidoctor_exporter_config_last_reload_successful",
		     "1 when the last config (re)load succeeded.");
	fprintf(out, "ocidoctor_exporter_config_last_reload_successful %d\n", s->reload_ok);
	gauge_family(out, "ocidoctor_exporter_config_last_reload_success_timestamp_seconds",
		     "When the config in use was loaded, in seconds since the epoch.");
	fprintf(out, "ocidoctor_exporter_config_last_reload_success_timestamp_seconds %lld\n",
		(long long)s->reload_time);
	counter_family(out, om, "ocidoctor_exporter_config_reload_failures",
		       "Config reloads rejected (the old config was kept).");
	fprintf(out, "ocidoctor_exporter_config_reload_failures_total %lu\n", s->reload_failures);
	pthread_mutex_unlock(&s->lock);
	if (om)
		fputs("# EOF\n", out);
	return mem_answer(conn, &m, 200, om ? OPENMETRICS_TYPE : PROMETHEUS_TEXT_TYPE);
}

/* ---- reload --------------------------------------------------------------- */

/* Loads the config again; on failure keeps the old one. Returns 0 or -1 with *why. */
static int reload(struct server *s, char **why)
{
	struct serve_config *fresh = NULL, *old;
	int ret = -1;

	pthread_mutex_lock(&s->reload_lock);
	if (serve_config_load(&fresh, s->args->config, why) < 0 ||
	    serve_config_start(fresh, why) < 0) {
		serve_config_free(fresh);
		pthread_mutex_lock(&s->lock);
		s->reload_failures++;
		s->reload_ok = 0;
		pthread_mutex_unlock(&s->lock);
		log_event(s, "reload failed, the old config stays: %s", *why);
		goto done;
	}
	fresh->refs = 1;
	pthread_mutex_lock(&s->lock);
	old = s->config;
	s->config = fresh;
	s->reload_ok = 1;
	s->reload_time = time(NULL);
	pthread_mutex_unlock(&s->lock);
	config_put(s, old);
	log_event(s, "config reloaded (%zu modules)", fresh->nr);
	ret = 0;
done:
	pthread_mutex_unlock(&s->reload_lock);
	return ret;
}

static enum MHD_Result handle_reload(struct server *s, struct MHD_Connection *conn)
{
	char *why = NULL;
	enum MHD_Result ret;

	if (!s->args->config)
		return answer_text(conn, 400, "no --config to reload\n");
	if (reload(s, &why) < 0)
		ret = answer_text(conn, 500, "reload failed, the old config stays: %s\n", why);
	else
		ret = answer_text(conn, 200, "reloaded\n");
	free(why);
	return ret;
}

/* ---- the home page ------------------------------------------------------- */

static enum MHD_Result handle_home(struct server *s, struct MHD_Connection *conn)
{
	struct serve_config *c = config_get(s);
	struct mem m;
	FILE *out = mem_open(&m);
	size_t i, n = (size_t)s->args->history_limit;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<title>ocidoctor exporter</title></head><body>\n"
	      "<h1>ocidoctor exporter</h1>\n<p>Version " OCIDOCTOR_VERSION
	      ". <a href=\"/metrics\">Metrics</a>. Probe with "
	      "<code>/probe?target=REGISTRY&amp;module=NAME</code>.</p>\n<h2>Modules</h2>\n<ul>\n", out);
	for (i = 0; i < c->nr; i++) {
		fputs("<li>", out);
		report_put_xml(out, c->modules[i].name);
		fprintf(out, " (writes %s)</li>\n",
			c->modules[i].writes == DOCTOR_WRITES_PROBE ? "probe" : "none");
	}
	fputs("</ul>\n<h2>Recent probes</h2>\n<table>\n<tr><th>Time</th><th>Target</th>"
	      "<th>Module</th><th>Worst</th><th>Duration</th><th>Report</th></tr>\n", out);
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < n; i++) {
		size_t at = (s->history_next + n - 1 - i) % n;
		struct probe_rec *r = s->history[at];
		char when[32];
		struct tm tm;

		if (!r)
			break;
		gmtime_r(&r->when, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(out, "<tr><td>%s</td><td>", when);
		report_put_xml(out, r->target);
		fputs("</td><td>", out);
		report_put_xml(out, r->module);
		fprintf(out, "</td><td>%s</td><td>%ld.%03ld s</td><td><a href=\"/report/%ld\">report</a></td></tr>\n",
			r->ran ? check_status_name((enum check_status)r->res.worst) : "error",
			r->duration_ms / 1000, r->duration_ms % 1000, r->id);
	}
	pthread_mutex_unlock(&s->lock);
	fputs("</table>\n</body></html>\n", out);
	config_put(s, c);
	return mem_answer(conn, &m, 200, "text/html; charset=utf-8");
}

static enum MHD_Result handle_report(struct server *s, struct MHD_Connection *conn, const char *id_text)
{
	struct probe_rec *r = NULL;
	char *end;
	long id = strtol(id_text, &end, 10);
	size_t i;
	enum MHD_Result ret;

	pthread_mutex_lock(&s->lock);
	for (i = 0; *id_text && !*end && i < (size_t)s->args->history_limit; i++)
		if (s->history[i] && s->history[i]->id == id)
			r = serve_rec_ref(s->history[i]);
	pthread_mutex_unlock(&s->lock);
	if (!r)
		return answer_text(conn, 404, "no such probe in the history (it keeps the last %ld)\n",
				   s->args->history_limit);
	ret = answer_probe(conn, r, FORMAT_HTML, 0, 0);
	serve_rec_unref(r);
	return ret;
}

/* ---- dispatch ------------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **state)
{
	static int first_call_marker;
	struct server *s = cls;
	int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");

	(void)version;
	(void)upload_data;
	if (!*state) {
		*state = &first_call_marker;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;   /* a body is ignored */
		return MHD_YES;
	}
	if (!strcmp(url, "/-/reload")) {
		if (strcmp(method, "POST") && strcmp(method, "PUT"))
			return answer_text(conn, 405, "reload with POST\n");
		return handle_reload(s, conn);
	}
	if (!get)
		return answer_text(conn, 405, "only GET here\n");
	if (!strcmp(url, "/probe"))
		return handle_probe(s, conn);
	if (!strcmp(url, "/metrics"))
		return handle_metrics(s, conn);
	if (!strcmp(url, "/-/healthy"))
		return answer_text(conn, 200, "Healthy\n");
	if (!strcmp(url, "/"))
		return handle_home(s, conn);
	if (!strncmp(url, "/report/", 8))
		return handle_report(s, conn, url + 8);
	return answer_text(conn, 404, "not found: see / for what is here\n");
}

/* ---- the server's life ---------------------------------------------------- */

/* "ADDR:PORT", "[V6]:PORT" or ":PORT" (every IPv4 address). */
static int parse_listen(const char *text, struct sockaddr_storage *ss, int *v6, char **why)
{
	char host[64];
	const char *colon = strrchr(text, ':');
	char *end;
	long port;
	size_t n;

	memset(ss, 0, sizeof(*ss));
	if (!colon || !colon[1])
		return *why = xstrfmt("--listen '%s' is ADDR:PORT", text), -1;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return *why = xstrfmt("--listen '%s': bad port", text), -1;
	n = (size_t)(colon - text);
	if (n >= sizeof(host))
		return *why = xstrfmt("--listen '%s': bad address", text), -1;
	memcpy(host, text, n);
	host[n] = '\0';
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		host[n - 1] = '\0';
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((unsigned short)port);
		*v6 = 1;
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return *why = xstrfmt("--listen '%s': bad IPv6 address", text), -1;
		return 0;
	}
	{
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((unsigned short)port);
		*v6 = 0;
		if (!n)
			a->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return *why = xstrfmt("--listen '%s': the address is an IPv4 literal, [IPv6] or empty", text), -1;
	}
	return 0;
}

static int parse_offset(const char *text, long *ms)
{
	return clock_parse_seconds(text, 0, 60 * 1000, ms);
}

static int validate(struct serve_args *a, struct server *s)
{
	const char *why = NULL;
	size_t i;

	/* the option table's defaults are in place (cmd_serve.c), and its maxima checked */
	if (a->max_concurrent > SERVE_MAX_CONCURRENT)
		return cli_usage_error("--max-concurrent is at most %d", SERVE_MAX_CONCURRENT);
	if (a->history_limit > SERVE_MAX_HISTORY)
		return cli_usage_error("--history-limit is at most %d", SERVE_MAX_HISTORY);
	if (parse_offset(a->timeout_offset, &s->offset_ms) < 0)
		return cli_usage_error("--timeout-offset '%s' is a number of seconds such as 0.5, from 0 to 60",
				       a->timeout_offset);
	if (strcmp(a->log_format, "text") && strcmp(a->log_format, "json"))
		return cli_usage_error("unknown --log-format '%s' (text or json)", a->log_format);
	s->log_json = !strcmp(a->log_format, "json");
	for (i = 0; i < a->allow_targets.nr; i++) {
		lower(a->allow_targets.items[i]);
		if (serve_host_pattern_check(a->allow_targets.items[i], &why) < 0)
			return cli_usage_error("--allow-target '%s' is not a host pattern: %s (%s)",
					       a->allow_targets.items[i], why, SERVE_HOST_PATTERN_FORMS);
	}
	return EXIT_OK;
}

static void server_release(struct server *s)
{
	size_t i;

	for (i = 0; s->history && i < (size_t)s->args->history_limit; i++)
		serve_rec_unref(s->history[i]);
	free(s->history);
	if (s->config)
		config_put(s, s->config);
	for (i = 0; i < COUNTER_SLOTS; i++)
		free(s->counters[i].name);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->reload_lock);
}

static unsigned short bound_port(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);

	return info ? info->port : 0;
}

/* Waits for signals: SIGHUP reloads, SIGTERM and SIGINT stop. */
static void wait_for_signals(struct server *s, const sigset_t *set)
{
	for (;;) {
		int sig = 0;
		char *why = NULL;

		if (sigwait(set, &sig) != 0)
			continue;
		if (sig != SIGHUP) {
			log_event(s, "stopping on signal %d", sig);
			return;
		}
		if (!s->args->config)
			log_event(s, "SIGHUP: no --config to reload");
		else
			reload(s, &why);
		free(why);
	}
}

int serve_main(struct serve_args *a)
{
	struct server s = { .args = a };
	struct sockaddr_storage ss;
	struct MHD_Daemon *d;
	sigset_t set;
	char *why = NULL;
	int v6 = 0, ret;
	unsigned flags;

	pthread_mutex_init(&s.lock, NULL);
	pthread_mutex_init(&s.reload_lock, NULL);
	ret = validate(a, &s);
	if (ret != EXIT_OK)
		goto done;
	if (parse_listen(a->listen, &ss, &v6, &why) < 0) {
		ret = cli_usage_error("%s", why);
		goto done;
	}
	if (serve_config_load(&s.config, a->config, &why) < 0) {
		ret = cli_usage_error("%s", why);
		goto done;
	}
	s.config->refs = 1;
	s.history = xcalloc((size_t)a->history_limit, sizeof(*s.history));
	/* every thread started from here on inherits the blocked signals */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (serve_config_start(s.config, &why) < 0) {
		ret = cli_usage_error("%s", why);
		goto stop;
	}
	s.reload_ok = 1;
	s.reload_time = time(NULL);
	flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
		MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &s,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			     MHD_OPTION_CONNECTION_LIMIT,
			     (unsigned)SERVE_CONNECTIONS(a->max_concurrent),
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300,
			     MHD_OPTION_THREAD_STACK_SIZE, (size_t)1024 * 1024,
			     MHD_OPTION_END);
	if (!d) {
		ret = cli_usage_error("cannot listen on %s: %s", a->listen, strerror(errno));
		goto stop;
	}
	log_event(&s, "listening on %s (port %u), %zu modules, at most %ld probes at once",
		  a->listen, bound_port(d), s.config->nr, a->max_concurrent);
	wait_for_signals(&s, &set);
	MHD_stop_daemon(d);
	ret = EXIT_OK;
stop:
	server_release(&s);
	s.config = NULL;
	curl_global_cleanup();
	free(why);
	return ret;
done:
	free(why);
	server_release(&s);
	return ret;
}
