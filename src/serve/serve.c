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
 *   POST /-/reload       with --web.enable-lifecycle (and SIGHUP)
 *   GET  /               version, modules, recent probes
 *   GET  /report/ID      the HTML report of a recent probe
 * (--web.disable-debug refuses debug=, format= and /report/ID, and leaves
 * the recent probes off /.)
 *
 * No client can hold the server: a connection must have sent its request
 * by a deadline that bytes do not extend (the watchdog below), one
 * address has at most SERVE_CONNECTIONS_PER_CLIENT connections, a
 * probe's time is capped by --max-timeout, a wait for another scrape's
 * probe ends with the scrape's deadline or its connection, a probe whose
 * scrape's client went away is cancelled (engine_cancel_run: its
 * requests end, its slot is freed once its clean-ups are done, nothing is
 * answered), and SIGTERM cancels the probes that run (engine_cancel).
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
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

/* How often the watchdog looks at the connections' deadlines. */
#define SERVE_WATCH_TICK_MS 100L
#include <unistd.h>

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
	struct serve_config **p;
	int last;

	pthread_mutex_lock(&s->lock);
	last = --c->refs == 0;
	for (p = &s->live; last && *p; p = &(*p)->live_next)
		if (*p == c) {
			*p = c->live_next;
			break;
		}
	pthread_mutex_unlock(&s->lock);
	if (last)
		serve_config_free(c);
}

/* Cancels what the config's engines run and ever will (under s->lock). */
static void config_cancel(struct serve_config *c)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		if (c->modules[i].engine.started)
			engine_cancel(c->modules[i].engine.engine);
}

/* Makes c the config in use (under s->lock); returns the one it replaces. */
static struct serve_config *config_install(struct server *s, struct serve_config *c)
{
	struct serve_config *old = s->config;

	c->refs = 1;
	c->live_next = s->live;
	s->live = c;
	s->config = c;
	if (s->stopping)
		config_cancel(c);
	return old;
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

/* A 429 with Retry-After (whole seconds, rounded up). */
static enum MHD_Result answer_retry_after(struct MHD_Connection *conn, long retry_ms,
					 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static enum MHD_Result answer_retry_after(struct MHD_Connection *conn, long retry_ms,
					 const char *fmt, ...)
{
	struct MHD_Response *r;
	struct buf b;
	va_list ap;
	char secs[32];
	enum MHD_Result ret;

	buf_init(&b, BUF_TEXT_MAX);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	r = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_COPY);
	buf_release(&b);
	if (!r)
		return MHD_NO;
	snprintf(secs, sizeof(secs), "%ld", (retry_ms + 999) / 1000);
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "Retry-After", secs);
	ret = MHD_queue_response(conn, 429, r);
	MHD_destroy_response(r);
	return ret;
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


/* The probe's time: the scrape's timeout less the offset, capped by the module and --max-timeout. */
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
		if (end != h && isfinite(d) && d > 0 && d < SERVE_MAX_TIMEOUT_S)
			ms = (long)(d * 1000) - s->offset_ms;
	}
	if (m->timeout_ms && m->timeout_ms < ms)
		ms = m->timeout_ms;
	if (ms > s->max_timeout_ms)
		ms = s->max_timeout_ms;
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
	enum MHD_Result ret;
	char *shown;

	pthread_mutex_lock(&s->lock);
	s->bad_requests++;
	pthread_mutex_unlock(&s->lock);
	if (!value)
		return answer_text(conn, 400, "%s\n", what);
	shown = url_redact_userinfo(value); /* a target may hold a password: never repeated */
	ret = answer_text(conn, 400, "%s '%s'%s%s\n", what, shown, why ? ": " : "", why ? why : "");
	free(shown);
	return ret;
}

/* The answer to a scrape that got no probe result. */
static enum MHD_Result answer_refusal(struct server *s, struct MHD_Connection *conn,
				      const struct probe_req *q, const struct probe_outcome *o)
{
	switch (o->refusal) {
	case REFUSED_DEADLINE:
		return answer_text(conn, 503, "the scrape's deadline passed while a probe of %s by the "
				   "same writing module ran\n", q->registry);
	case REFUSED_CLIENT_GONE:
		log_event(s, "a scrape of %s gave up waiting: its client closed the connection",
			  q->registry);
		return MHD_NO;
	case REFUSED_STOPPING:
		return answer_text(conn, 503, "the exporter is stopping\n");
	case REFUSED_INTERVAL:
		return answer_retry_after(conn, o->retry_ms, "this writing module wrote to %s less than "
					  "its min_interval ago, for another image; once the interval is "
					  "over it may probe again\n", q->registry);
	case REFUSED_CACHE_FULL:
		return answer_text(conn, 503, "the writing modules' cache is full of registries "
				   "probed within their min_interval\n");
	case REFUSED_ABANDONED:
		return answer_retry_after(conn, o->retry_ms, "this writing module's last probe of %s, "
					  "less than its min_interval ago, was abandoned when its scrape's "
					  "client went away, so there is no result to give; once the "
					  "interval is over it may probe again\n", q->registry);
	case REFUSED_BUSY:
	case REFUSED_NONE:
		break;
	}
	return answer_text(conn, 503, "too many probes at once (--max-concurrent %ld)\n",
			   s->args->max_concurrent);
}

static enum MHD_Result probe_answer(struct server *s, struct MHD_Connection *conn,
				    struct serve_module *m, struct probe_req *q, enum probe_format fmt)
{
	struct probe_outcome o = { .refusal = REFUSED_BUSY, .age_ms = -1 };
	struct module_counters *mc;
	struct probe_rec *r;
	long age_ms;
	enum MHD_Result ret;

	if (m->writes == DOCTOR_WRITES_PROBE)
		r = serve_probe_cached(s, m, q, &o);
	else
		r = serve_probe_in_slot(s, m, q);
	if (!r)
		return answer_refusal(s, conn, q, &o);
	age_ms = o.age_ms;
	pthread_mutex_lock(&s->lock);
	mc = counters_for(s, m->name);
	if (r->abandoned)
		mc->abandoned++;
	else if (age_ms >= 0)
		mc->cache_hits++;
	else if (!r->ran)
		mc->errors++;
	else if (r->success)
		mc->success++;
	else
		mc->failure++;
	pthread_mutex_unlock(&s->lock);
	if (r->abandoned) {
		log_event(s, "a probe of %s with module %s was abandoned after %ld.%03ld s: its "
			  "client closed the connection", q->registry, m->name,
			  r->duration_ms / 1000, r->duration_ms % 1000);
		serve_rec_unref(r);
		return MHD_NO; /* nothing goes to a closed connection */
	}
	log_probe(s, q->target, m->name, age_ms >= 0 ? 0 : r->duration_ms,
		  !r->ran ? "error" : r->success ? "success" : "failure",
		  r->ran ? check_status_name((enum check_status)r->res.worst) : "none", age_ms >= 0);
	ret = answer_probe(conn, r, fmt, age_ms >= 0, age_ms);
	serve_rec_unref(r);
	return ret;
}

static int stopping(struct server *s)
{
	int ret;

	pthread_mutex_lock(&s->lock);
	ret = s->stopping;
	pthread_mutex_unlock(&s->lock);
	return ret;
}

static int client_fd(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

	return info ? info->connect_fd : -1;
}

/* The connection's watchdog entry (on_connection), or NULL. */
static struct conn_watch *watch_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
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
	if (fmt != FORMAT_METRICS && s->args->web_disable_debug)
		return answer_text(conn, 403, "debug=true and format=json|html are off here "
				   "(--web.disable-debug)\n");
	if (stopping(s))
		return answer_text(conn, 503, "the exporter is stopping\n");
	if (registry_url_parse(&u, target, &why) < 0)
		return bad_request(s, conn, "invalid target", target, why);
	q.hostport = registry_url_hostport(&u);
	q.registry = serve_cache_key(&u);
	registry_url_release(&u);
	lower(q.hostport);
	q.client_fd = client_fd(conn);
	q.watch = watch_of(conn);
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
	q.deadline_ms = clock_now_ms() + q.timeout_ms;
	ret = probe_answer(s, conn, m, &q, fmt);
done:
	config_put(s, c);
	free(q.hostport);
	free(q.registry);
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
	counter_family(out, om, "ocidoctor_exporter_probes_abandoned",
		       "Probes cancelled because their scrape's client closed the connection, "
		       "by module.");
	for (i = 0; i < COUNTER_SLOTS && s->counters[i].name; i++) {
		fputs("ocidoctor_exporter_probes_abandoned_total", out);
		put_module_label(out, s->counters[i].name);
		fprintf(out, "} %lu\n", s->counters[i].abandoned);
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
	serve_write_process_metrics(out, om);
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
	pthread_mutex_lock(&s->lock);
	old = config_install(s, fresh);
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

/*
 * Whether a request could have come from a web page: a browser sends
 * Origin with every cross-origin POST, and a form (which needs no CORS
 * preflight) can only send these content types.
 */
static int from_a_browser(struct MHD_Connection *conn)
{
	static const char *const form_types[] = { "application/x-www-form-urlencoded",
						  "multipart/form-data", "text/plain", NULL };
	const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	size_t i;

	if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin"))
		return 1;
	for (i = 0; type && form_types[i]; i++)
		if (!strncasecmp(type, form_types[i], strlen(form_types[i])))
			return 1;
	return 0;
}

static enum MHD_Result handle_reload(struct server *s, struct MHD_Connection *conn)
{
	char *why = NULL;
	enum MHD_Result ret;

	if (!s->args->web_enable_lifecycle)
		return answer_text(conn, 403, "reloading over HTTP is off: start with "
				   "--web.enable-lifecycle, or send SIGHUP\n");
	if (from_a_browser(conn))
		return answer_text(conn, 403, "refused: a reload carries no Origin header and no "
				   "form content type (curl -X POST URL/-/reload)\n");
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
			doctor_writes_name(c->modules[i].writes));
	}
	fputs("</ul>\n", out);
	if (s->args->web_disable_debug)
		n = 0;
	else
		fputs("<h2>Recent probes</h2>\n<table>\n<tr><th>Time</th><th>Target</th>"
		      "<th>Repository</th><th>Tag</th><th>Module</th><th>Worst</th><th>Duration</th>"
		      "<th>Report</th><th>Debug</th></tr>\n", out);
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
		report_put_xml(out, r->repository);
		fputs("</td><td>", out);
		report_put_xml(out, r->tag);
		fputs("</td><td>", out);
		report_put_xml(out, r->module);
		fprintf(out, "</td><td>%s</td><td>%ld.%03ld s</td><td><a href=\"/report/%ld\">report</a></td>"
			"<td><a href=\"/report/%ld?debug=true\">debug</a></td></tr>\n",
			r->ran ? check_status_name((enum check_status)r->res.worst) : "error",
			r->duration_ms / 1000, r->duration_ms % 1000, r->id, r->id);
	}
	pthread_mutex_unlock(&s->lock);
	fputs(n ? "</table>\n</body></html>\n" : "</body></html>\n", out);
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

	if (s->args->web_disable_debug)
		return answer_text(conn, 403, "reports are off here (--web.disable-debug)\n");
	pthread_mutex_lock(&s->lock);
	for (i = 0; *id_text && !*end && i < (size_t)s->args->history_limit; i++)
		if (s->history[i] && s->history[i]->id == id)
			r = serve_rec_ref(s->history[i]);
	pthread_mutex_unlock(&s->lock);
	if (!r)
		return answer_text(conn, 404, "no such probe in the history (it keeps the last %ld)\n",
				   s->args->history_limit);
	/* ?debug=true: the probe's debug output, as /probe?debug=true gave it, without probing again */
	ret = answer_probe(conn, r, arg(conn, "debug") && !strcmp(arg(conn, "debug"), "true") ?
			   FORMAT_DEBUG : FORMAT_HTML, 0, 0);
	serve_rec_unref(r);
	return ret;
}

/* ---- connection deadlines ------------------------------------------------ */

/*
 * libmicrohttpd's own connection timeout starts again with every byte,
 * so a client that sends one byte now and then would hold its connection
 * (and its thread) for ever. Every connection gets a deadline instead, by
 * which its request must be in: SERVE_HEADER_TIMEOUT_MS after it opened,
 * SERVE_IDLE_TIMEOUT_MS after its last answer. A watchdog shuts the
 * socket down when it passes, which ends the connection in its thread.
 * The descriptor stays valid while its entry is listed: libmicrohttpd
 * notifies MHD_CONNECTION_NOTIFY_CLOSED before it closes it, and the
 * entry leaves the list then, under the same lock.
 *
 * While a request runs a probe, the watchdog also looks at every tick
 * whether its client closed the connection (nobody reads the socket
 * meanwhile, so a closed one shows as hung up) and cancels the probe.
 */

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct server *s = cls;
	struct conn_watch *w = *socket_context;

	pthread_mutex_lock(&s->watch_lock);
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		w = xcalloc(1, sizeof(*w));
		w->fd = client_fd(conn);
		w->deadline_ms = clock_now_ms() + SERVE_HEADER_TIMEOUT_MS;
		w->next = s->watched;
		if (s->watched)
			s->watched->prev = w;
		s->watched = w;
		*socket_context = w;
	} else if (w) {
		if (w->prev)
			w->prev->next = w->next;
		else
			s->watched = w->next;
		if (w->next)
			w->next->prev = w->prev;
		free(w);
		*socket_context = NULL;
	}
	pthread_mutex_unlock(&s->watch_lock);
}

/* A request was answered (or ended): the next one has SERVE_IDLE_TIMEOUT_MS to arrive. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
			 enum MHD_RequestTerminationCode code)
{
	struct server *s = cls;
	struct conn_watch *w = watch_of(conn);

	(void)state;
	(void)code;
	pthread_mutex_lock(&s->watch_lock);
	if (w)
		w->deadline_ms = clock_now_ms() + SERVE_IDLE_TIMEOUT_MS;
	pthread_mutex_unlock(&s->watch_lock);
}

/* The request is in: no deadline while it is answered. 0 when it came too late. */
static int watch_disarm(struct server *s, struct MHD_Connection *conn)
{
	struct conn_watch *w = watch_of(conn);
	int in_time = 1;

	pthread_mutex_lock(&s->watch_lock);
	if (w) {
		in_time = !w->deadline_ms || clock_now_ms() < w->deadline_ms;
		w->deadline_ms = 0;
	}
	pthread_mutex_unlock(&s->watch_lock);
	return in_time;
}

/* Cancels the probe of a connection whose client is gone (under watch_lock). */
static void watch_probe(struct conn_watch *w)
{
	if (w->cancel && !cancel_is_set(w->cancel) && serve_client_gone(w->fd))
		engine_cancel_run(w->engine, w->cancel);
}

static void *watchdog(void *arg)
{
	struct server *s = arg;
	struct timespec until;
	struct conn_watch *w;
	long now;

	pthread_mutex_lock(&s->watch_lock);
	while (!s->watch_stop) {
		now = clock_now_ms();
		for (w = s->watched; w; w = w->next) {
			if (w->deadline_ms && w->deadline_ms <= now && w->fd >= 0) {
				shutdown(w->fd, SHUT_RDWR);
				w->deadline_ms = 0;
			}
			watch_probe(w);
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += SERVE_WATCH_TICK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->watch_cond, &s->watch_lock, &until);
	}
	pthread_mutex_unlock(&s->watch_lock);
	return NULL;
}

static void watchdog_stop(struct server *s, pthread_t t)
{
	pthread_mutex_lock(&s->watch_lock);
	s->watch_stop = 1;
	pthread_cond_signal(&s->watch_cond);
	pthread_mutex_unlock(&s->watch_lock);
	pthread_join(t, NULL);
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
	if (!watch_disarm(s, conn))
		return MHD_NO;      /* its deadline passed: the watchdog is closing it */
	if (!strcmp(url, "/-/reload")) {
		if (strcmp(method, "POST") && strcmp(method, "PUT"))
			return answer_text(conn, 405, "reload with POST (and --web.enable-lifecycle)\n");
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

/* A number of seconds from min_ms to max_ms (decimals allowed) into *ms. */
static int parse_seconds(const char *text, long min_ms, long max_ms, long *ms)
{
	return clock_parse_seconds(text, min_ms, max_ms, ms);
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
	if (parse_seconds(a->timeout_offset, 0, 60 * 1000, &s->offset_ms) < 0)
		return cli_usage_error("--timeout-offset '%s' is a number of seconds such as 0.5, from 0 to 60",
				       a->timeout_offset);
	if (parse_seconds(a->max_timeout, SERVE_MIN_TIMEOUT_MS, SERVE_MAX_TIMEOUT_S * 1000,
			  &s->max_timeout_ms) < 0)
		return cli_usage_error("--max-timeout '%s' is a number of seconds from 0.1 to %ld",
				       a->max_timeout, SERVE_MAX_TIMEOUT_S);
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
	serve_cache_release(&s->cache);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->reload_lock);
	pthread_mutex_destroy(&s->watch_lock);
	pthread_cond_destroy(&s->watch_cond);
}

/*
 * SIGTERM: nothing new starts, every probe running is cancelled (its
 * requests end at once, its checks fail), and scrapes waiting for another
 * scrape's probe stop waiting; then the daemon joins the connections'
 * threads, which have nothing left to wait for.
 */
static void server_stop(struct server *s, struct MHD_Daemon *d)
{
	struct serve_config *c;

	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	for (c = s->live; c; c = c->live_next)
		config_cancel(c);
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_lock(&s->cache.lock);
	pthread_cond_broadcast(&s->cache.cond);
	pthread_mutex_unlock(&s->cache.lock);
	MHD_stop_daemon(d);
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
	pthread_t dog;
	char *why = NULL;
	int v6 = 0, ret;
	unsigned flags;
	size_t modules;

	pthread_mutex_init(&s.lock, NULL);
	pthread_mutex_init(&s.reload_lock, NULL);
	pthread_mutex_init(&s.watch_lock, NULL);
	pthread_cond_init(&s.watch_cond, NULL);
	serve_cache_init(&s.cache);
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
	config_install(&s, s.config);
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
	if (pthread_create(&dog, NULL, watchdog, &s) != 0) {
		ret = cli_usage_error("cannot start a thread: %s", strerror(errno));
		goto stop;
	}
	/* the per-activity timeout only bounds a client that stops reading its answer */
	/* read before the daemon starts: from then on a reload may replace the config */
	modules = s.config->nr;
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &s,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			     MHD_OPTION_CONNECTION_LIMIT,
			     (unsigned)SERVE_CONNECTIONS(a->max_concurrent),
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT,
			     (unsigned)SERVE_CONNECTIONS_PER_CLIENT(a->max_concurrent),
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(SERVE_IDLE_TIMEOUT_MS / 1000),
			     MHD_OPTION_NOTIFY_CONNECTION, on_connection, &s,
			     MHD_OPTION_NOTIFY_COMPLETED, on_completed, &s,
			     MHD_OPTION_THREAD_STACK_SIZE, (size_t)1024 * 1024,
			     MHD_OPTION_END);
	if (!d) {
		ret = cli_usage_error("cannot listen on %s: %s", a->listen, strerror(errno));
		watchdog_stop(&s, dog);
		goto stop;
	}
	log_event(&s, "listening on %s (port %u), %zu modules, at most %ld probes at once",
		  a->listen, bound_port(d), modules, a->max_concurrent);
	wait_for_signals(&s, &set);
	server_stop(&s, d);
	watchdog_stop(&s, dog);
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
