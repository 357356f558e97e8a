/*
 * serve: the exporter's HTTP server (libmicrohttpd, one thread per
 * connection, at most SERVE_CONNECTIONS(--max-concurrent) of them), its
 * probes, its own metrics, its history and its reloads.
 *
 * Endpoints:
 *   GET  /probe?target=&module=&repository=&tag=&debug=&format=
 *   GET  /metrics        the exporter's own metrics
 *   GET  /-/healthy
 *   POST /-/reload       (and SIGHUP)
 *   GET  /               version, modules, recent probes
 *   GET  /report/ID      the HTML report of a recent probe
 */
#include "serve/serve.h"
#include "cli/cli.h"
#include "report/report.h"
#include "util/buf.h"
#include "util/ref.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define COUNTER_SLOTS 256
#define DOCKER_CONFIG_MAX ((size_t)1024 * 1024)

/* One probe's outcome, shared by the history, a module's cache and the answers. */
struct probe_rec {
	int refs;                       /* guarded by rec_lock */
	long id;
	struct doctor_result res;
	int ran;                        /* res holds a run */
	struct creds creds;
	char *target, *module, *repository, *tag;
	char *notes;                    /* lines for the debug log: credentials withheld, errors */
	char *module_text;              /* the module as the debug answer shows it */
	time_t when;
	long duration_ms, timeout_ms;
	int success;
	pthread_mutex_t render;         /* writers of one record take turns */
};

struct serve_cached {
	char *key;
	struct probe_rec *rec;          /* NULL while the first probe runs */
	long at_ms;
	int running;
};

/* Counters per module name; they outlive reloads. */
struct module_counters {
	char *name;
	unsigned long success, failure, errors, cache_hits;
};

struct server {
	struct serve_args *args;
	long offset_ms;
	int log_json;
	pthread_mutex_t lock;           /* everything below */
	struct serve_config *config;
	int active;
	struct module_counters counters[COUNTER_SLOTS];
	unsigned long unknown_module, rejected, reload_failures, bad_requests;
	int reload_ok;
	time_t reload_time;
	struct probe_rec **history;     /* ring of history_limit */
	size_t history_next;
	long next_id;
	pthread_mutex_t reload_lock;
};

static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;

static struct probe_rec *rec_ref(struct probe_rec *r)
{
	pthread_mutex_lock(&rec_lock);
	r->refs++;
	pthread_mutex_unlock(&rec_lock);
	return r;
}

static void rec_unref(struct probe_rec *r)
{
	int last;

	if (!r)
		return;
	pthread_mutex_lock(&rec_lock);
	last = --r->refs == 0;
	pthread_mutex_unlock(&rec_lock);
	if (!last)
		return;
	doctor_result_release(&r->res);
	creds_release(&r->creds);
	free(r->target);
	free(r->module);
	free(r->repository);
	free(r->tag);
	free(r->notes);
	free(r->module_text);
	pthread_mutex_destroy(&r->render);
	free(r);
}

void serve_cache_release(struct serve_module *m)
{
	size_t i;

	for (i = 0; i < m->cache_nr; i++) {
		rec_unref(m->cache[i].rec);
		free(m->cache[i].key);
	}
	free(m->cache);
	m->cache = NULL;
	m->cache_nr = 0;
}

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

static void json_put(FILE *out, const char *key, const char *value, int first)
{
	json_t *v = json_string(value ? value : "");
	char *text = json_dumps(v, JSON_ENCODE_ANY);

	fprintf(out, "%s\"%s\":%s", first ? "" : ",", key, text ? text : "\"\"");
	free(text);
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

/* ---- secrets out of URLs -------------------------------------------------- */

static int secret_param(const char *name, size_t n)
{
	static const char *const words[] = { "token", "password", "secret", "signature",
					     "credential", "auth", "key", NULL };
	char lower[64];
	size_t i;

	if (n >= sizeof(lower))
		return 1;
	for (i = 0; i < n; i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	lower[n] = '\0';
	for (i = 0; words[i]; i++)
		if (strstr(lower, words[i]))
			return 1;
	return 0;
}

/* Writes url without user information and with secret-looking query values redacted. */
static void put_redacted_url(FILE *out, const char *url)
{
	const char *scheme = strstr(url, "://"), *at, *slash, *q;

	if (scheme) {
		scheme += 3;
		slash = strchr(scheme, '/');
		at = strchr(scheme, '@');
		fwrite(url, 1, (size_t)(scheme - url), out);
		if (at && (!slash || at < slash)) {
			fputs("REDACTED@", out);
			url = at + 1;
		} else {
			url = scheme;
		}
	}
	q = strchr(url, '?');
	if (!q) {
		fputs(url, out);
		return;
	}
	fwrite(url, 1, (size_t)(q - url), out);
	while (*q) {
		const char *start = q + 1, *eq, *end;

		fputc(*q, out);
		end = start + strcspn(start, "&#");
		eq = memchr(start, '=', (size_t)(end - start));
		if (eq && secret_param(start, (size_t)(eq - start))) {
			fwrite(start, 1, (size_t)(eq - start + 1), out);
			fputs("REDACTED", out);
		} else {
			fwrite(start, 1, (size_t)(end - start), out);
		}
		q = end;
		if (*q == '#') {
			fputs(q, out);
			break;
		}
	}
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

static void write_metrics(FILE *out, struct probe_rec *r, int openmetrics, int cached, long age_ms)
{
	struct report_probe p = {
		.openmetrics = openmetrics, .success = r->success, .duration_ms = r->duration_ms,
		.timeout_ms = r->timeout_ms, .cached = cached, .cache_age_ms = age_ms,
	};
	struct report rep = { .out = out, .probe = &p };

	if (!r->ran) {
		report_prometheus_probe_only(out, &p);
		return;
	}
	rep.run = &r->res.run;
	rep.config = &r->res.config;
	report_write(&report_prometheus, &rep);
}

static void write_debug(FILE *out, struct probe_rec *r, int cached, long age_ms)
{
	size_t i, j;

	fprintf(out, "Probe of %s with module %s (repository %s, tag %s)%s\n", r->target, r->module,
		r->repository, r->tag, cached ? " (cached)" : "");
	if (cached)
		fprintf(out, "Served from the cache of a writing module: %ld.%03ld s old\n",
			age_ms / 1000, age_ms % 1000);
	fprintf(out, "Outcome: %s in %ld.%03ld s of %ld.%03ld s\n", r->success ? "success" : "failure",
		r->duration_ms / 1000, r->duration_ms % 1000, r->timeout_ms / 1000, r->timeout_ms % 1000);
	if (r->notes)
		fputs(r->notes, out);
	fputs("\nLog:\n", out);
	for (i = 0; r->ran && i < check_table_size; i++) {
		const struct check_result *res = &r->res.run.results[i];

		if (!res->done)
			continue;
		fprintf(out, "%s: %s in %ld ms: %s\n", res->check->id, check_status_name(res->status),
			res->duration_ms, res->message ? res->message : "");
		for (j = 0; j < res->evidence.nr; j++) {
			const struct evidence *e = &res->evidence.items[j];

			fprintf(out, "  %s ", e->method);
			put_redacted_url(out, e->url);
			if (e->status)
				fprintf(out, " -> %ld", e->status);
			else
				fputs(" -> no answer", out);
			fprintf(out, " (%ld ms)", e->duration_ms);
			if (e->error)
				fprintf(out, ": %s", e->error);
			fputc('\n', out);
		}
	}
	fputs("\nMetrics:\n", out);
	write_metrics(out, r, 0, cached, age_ms);
	fputs("\nModule:\n", out);
	fputs(r->module_text, out);
}

static int write_report(FILE *out, struct probe_rec *r, const struct report_writer *w)
{
	struct report rep = { .out = out, .run = &r->res.run, .config = &r->res.config };

	return report_write(w, &rep);
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
		write_metrics(out, r, om, cached, age_ms);
		break;
	case FORMAT_DEBUG:
		type = "text/plain; charset=utf-8";
		write_debug(out, r, cached, age_ms);
		break;
	case FORMAT_JSON:
	case FORMAT_HTML:
		type = fmt == FORMAT_JSON ? "application/json" : "text/html; charset=utf-8";
		if (!r->ran) {
			type = "text/plain; charset=utf-8";
			status = 500;
			fprintf(out, "the probe could not run:\n%s", r->notes ? r->notes : "");
		} else {
			write_report(out, r, fmt == FORMAT_JSON ? &report_json : &report_html);
		}
		break;
	}
	pthread_mutex_unlock(&r->render);
	return mem_answer(conn, &m, status, type);
}

/* ---- running a probe ------------------------------------------------------ */

static char *module_text(const struct serve_module *m)
{
	struct buf b;
	size_t i;
	int first = 1;

	buf_init(&b, BUF_TEXT_MAX);
	buf_addf(&b, "  name: %s\n  writes: %s\n  repository: %s\n  tag: %s\n", m->name,
		 m->writes == DOCTOR_WRITES_PROBE ? "probe" : "none", m->repository, m->tag);
	if (m->scratch)
		buf_addf(&b, "  scratch_repository: %s\n", m->scratch);
	buf_addf(&b, "  checks:");
	for (i = 0; i < check_table_size; i++)
		if (m->selected[i]) {
			buf_addf(&b, "%s%s", first ? " " : ", ", check_table[i]->id);
			first = 0;
		}
	buf_addf(&b, "\n");
	if (m->docker_config)
		buf_addf(&b, "  credentials: docker config in %s\n", m->docker_config);
	else if (m->username)
		buf_addf(&b, "  credentials: username %s, password from %s\n", m->username,
			 m->password_file);
	else
		buf_addf(&b, "  credentials: none\n");
	for (i = 0; i < m->registries.nr; i++)
		buf_addf(&b, "%s%s", i ? ", " : "  registries: ", m->registries.items[i]);
	if (m->registries.nr)
		buf_addf(&b, "\n");
	if (m->ca_file)
		buf_addf(&b, "  ca_file: %s\n", m->ca_file);
	if (m->cert)
		buf_addf(&b, "  cert: %s\n", m->cert);
	if (m->insecure)
		buf_addf(&b, "  insecure: true\n");
	if (m->timeout_ms)
		buf_addf(&b, "  timeout: %ld.%03ld s\n", m->timeout_ms / 1000, m->timeout_ms % 1000);
	if (m->min_interval_ms)
		buf_addf(&b, "  min_interval: %ld s\n", m->min_interval_ms / 1000);
	return buf_detach(&b);
}

static void add_note(struct probe_rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_note(struct probe_rec *r, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b, BUF_TEXT_MAX);
	if (r->notes)
		buf_addf(&b, "%s", r->notes);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	buf_addf(&b, "\n");
	free(r->notes);
	r->notes = buf_detach(&b);
}

/* The module's docker config entry for the host: auths only, no helpers. */
static int creds_from_docker_dir(struct creds *out, const struct serve_module *m,
				 const char *hostport, const char *repository, char **why)
{
	char *path = xstrfmt("%s/config.json", m->docker_config), *helper = NULL;
	struct buf b;
	FILE *f = fopen(path, "rb");
	int ret = -1;

	buf_init(&b, DOCKER_CONFIG_MAX);
	if (!f) {
		*why = xstrfmt("cannot read %s", path);
		goto done;
	}
	if (buf_read_stream(&b, f) < 0) {
		*why = xstrfmt("cannot read %s (at most 1 MiB)", path);
		goto done;
	}
	if (creds_from_docker_config(out, &helper, b.data ? b.data : "", hostport, repository, why) < 0)
		goto done;
	if (helper) {
		*why = xstrfmt("%s names the credential helper %s for %s: serve reads auths entries only",
			       path, helper, hostport);
		creds_release(out);
		goto done;
	}
	if (out->source != CRED_NONE) {
		free(out->origin);
		out->origin = xstrdup(path);
	}
	ret = 0;
done:
	if (f)
		fclose(f);
	if (b.data)
		memset(b.data, 0, b.len);
	buf_release(&b);
	free(helper);
	free(path);
	return ret;
}

/* The module's credentials for this target, when its allow-list matches. */
static int probe_creds(struct probe_rec *r, const struct serve_module *m, const char *hostport)
{
	char *why = NULL;

	if (!serve_module_has_creds(m))
		return 0;
	if (!serve_module_allows(m, hostport)) {
		add_note(r, "Credentials withheld: %s is not in the module's registries", hostport);
		return 0;
	}
	if (m->username) {
		r->creds.source = CRED_FLAG;
		r->creds.username = xstrdup(m->username);
		r->creds.password = xstrdup(m->password);
		r->creds.origin = xstrfmt("module %s (username, password_file %s)", m->name,
					  m->password_file);
		return 0;
	}
	if (creds_from_docker_dir(&r->creds, m, hostport, r->repository, &why) < 0) {
		add_note(r, "Credentials: %s", why);
		free(why);
		return -1;
	}
	return 0;
}

struct probe_req {
	const char *target, *repository, *tag;
	char *hostport;
	long timeout_ms;
};

static struct probe_rec *run_probe(struct server *s, struct serve_module *m,
				   const struct probe_req *q)
{
	struct probe_rec *r = xcalloc(1, sizeof(*r));
	struct doctor_settings ds = {
		.registry = q->target, .repository = q->repository, .tag = q->tag,
		.scratch_repository = m->scratch, .selected = m->selected, .writes = m->writes,
		.creds = &r->creds, .insecure = m->insecure, .timeout_ms = q->timeout_ms,
	};
	long start = engine_now_ms();
	const char *why = NULL;

	r->refs = 1;
	pthread_mutex_init(&r->render, NULL);
	r->target = xstrdup(q->target);
	r->module = xstrdup(m->name);
	r->repository = xstrdup(q->repository);
	r->tag = xstrdup(q->tag);
	r->module_text = module_text(m);
	r->when = time(NULL);
	r->timeout_ms = q->timeout_ms;
	if (probe_creds(r, m, q->hostport) == 0) {
		if (doctor_run(&r->res, &ds, m->engine.engine, &why) == 0)
			r->ran = 1;
		else
			add_note(r, "The probe could not start: %s", why);
	}
	r->duration_ms = engine_now_ms() - start;
	r->success = r->ran && r->res.worst != STATUS_FAIL;
	pthread_mutex_lock(&s->lock);
	r->id = ++s->next_id;
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void history_add(struct server *s, struct probe_rec *r)
{
	struct probe_rec *old;

	rec_ref(r);
	pthread_mutex_lock(&s->lock);
	old = s->history[s->history_next];
	s->history[s->history_next] = r;
	s->history_next = (s->history_next + 1) % (size_t)s->args->history_limit;
	pthread_mutex_unlock(&s->lock);
	rec_unref(old);
}

/* Takes one of the --max-concurrent slots; 0 when all are taken. */
static int slot_take(struct server *s)
{
	int ok;

	pthread_mutex_lock(&s->lock);
	ok = s->active < s->args->max_concurrent;
	if (ok)
		s->active++;
	else
		s->rejected++;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

static void slot_give(struct server *s)
{
	pthread_mutex_lock(&s->lock);
	s->active--;
	pthread_mutex_unlock(&s->lock);
}

/* Runs a probe in a slot, or returns NULL when none is free. */
static struct probe_rec *probe_in_slot(struct server *s, struct serve_module *m,
				       const struct probe_req *q)
{
	struct probe_rec *r;

	if (!slot_take(s))
		return NULL;
	r = run_probe(s, m, q);
	slot_give(s);
	history_add(s, r);
	return r;
}

static struct serve_cached *cache_find(struct serve_module *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->cache_nr; i++)
		if (!strcmp(m->cache[i].key, key))
			return &m->cache[i];
	return NULL;
}

/* A new entry, evicting the oldest idle one when full; NULL when all are busy. */
static struct serve_cached *cache_add(struct serve_module *m, const char *key)
{
	struct serve_cached *e = NULL;
	size_t i;

	if (!m->cache)
		m->cache = xcalloc(SERVE_CACHE_MAX, sizeof(*m->cache));
	if (m->cache_nr < SERVE_CACHE_MAX) {
		e = &m->cache[m->cache_nr++];
	} else {
		for (i = 0; i < m->cache_nr; i++)
			if (!m->cache[i].running && (!e || m->cache[i].at_ms < e->at_ms))
				e = &m->cache[i];
		if (!e)
			return NULL;
		rec_unref(e->rec);
		free(e->key);
	}
	memset(e, 0, sizeof(*e));
	e->key = xstrdup(key);
	return e;
}

/*
 * A writing module: a result younger than min_interval is served again;
 * a probe of the same target already running is waited for. Sets *age_ms
 * (-1 for a fresh result).
 */
static struct probe_rec *probe_cached(struct server *s, struct serve_module *m,
				      const struct probe_req *q, long *age_ms)
{
	char *key = xstrfmt("%s\n%s\n%s", q->target, q->repository, q->tag);
	struct serve_cached *e;
	struct probe_rec *r = NULL;
	long now;

	*age_ms = -1;
	pthread_mutex_lock(&m->lock);
	for (;;) {
		e = cache_find(m, key);
		now = engine_now_ms();
		if (e && !e->running && e->rec && now - e->at_ms < m->min_interval_ms) {
			r = rec_ref(e->rec);
			*age_ms = now - e->at_ms;
			pthread_mutex_unlock(&m->lock);
			free(key);
			return r;
		}
		if (!e || !e->running)
			break;
		pthread_cond_wait(&m->cond, &m->lock);
	}
	if (!e)
		e = cache_add(m, key);
	if (e)
		e->running = 1;
	pthread_mutex_unlock(&m->lock);
	r = probe_in_slot(s, m, q);
	pthread_mutex_lock(&m->lock);
	if (e) {
		e->running = 0;
		if (r) {
			rec_unref(e->rec);
			e->rec = rec_ref(r);
			e->at_ms = engine_now_ms();
		}
		pthread_cond_broadcast(&m->cond);
	}
	pthread_mutex_unlock(&m->lock);
	free(key);
	return r;
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
		if (fnmatch(s->args->allow_targets.items[i], hostport, 0) == 0)
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
		r = probe_cached(s, m, q, &age_ms);
	else
		r = probe_in_slot(s, m, q);
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
	rec_unref(r);
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
			r = rec_ref(s->history[i]);
	pthread_mutex_unlock(&s->lock);
	if (!r)
		return answer_text(conn, 404, "no such probe in the history (it keeps the last %ld)\n",
				   s->args->history_limit);
	ret = answer_probe(conn, r, FORMAT_HTML, 0, 0);
	rec_unref(r);
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
	char *end;
	double d = strtod(text, &end);

	if (end == text || *end || d < 0 || d > 60)
		return -1;
	*ms = (long)(d * 1000 + 0.5);
	return 0;
}

static int validate(struct serve_args *a, struct server *s)
{
	size_t i;

	if (!a->listen)
		a->listen = xstrdup(SERVE_DEFAULT_LISTEN);
	if (!a->max_concurrent)
		a->max_concurrent = SERVE_DEFAULT_MAX_CONCURRENT;
	if (a->max_concurrent > SERVE_MAX_CONCURRENT)
		return cli_usage_error("--max-concurrent is at most %d", SERVE_MAX_CONCURRENT);
	if (!a->history_limit)
		a->history_limit = SERVE_DEFAULT_HISTORY;
	if (a->history_limit > SERVE_MAX_HISTORY)
		return cli_usage_error("--history-limit is at most %d", SERVE_MAX_HISTORY);
	if (!a->timeout_offset)
		a->timeout_offset = xstrdup("0.5");
	if (parse_offset(a->timeout_offset, &s->offset_ms) < 0)
		return cli_usage_error("--timeout-offset '%s' is a number of seconds from 0 to 60",
				       a->timeout_offset);
	if (!a->log_format)
		a->log_format = xstrdup("text");
	if (strcmp(a->log_format, "text") && strcmp(a->log_format, "json"))
		return cli_usage_error("unknown --log-format '%s' (text or json)", a->log_format);
	s->log_json = !strcmp(a->log_format, "json");
	for (i = 0; i < a->allow_targets.nr; i++)
		lower(a->allow_targets.items[i]);
	return EXIT_OK;
}

static void server_release(struct server *s)
{
	size_t i;

	for (i = 0; s->history && i < (size_t)s->args->history_limit; i++)
		rec_unref(s->history[i]);
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
