/*
 * serve_probe: the exporter's probes: running one on its module's engine
 * with the module's credentials (only for targets its allow-list matches),
 * a writing module's cache, the shared records, and their renderings
 * (metrics, the debug log with secrets taken out of URLs, reports).
 */
#include "serve/serve_internal.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How often a scrape waiting for another's probe looks at its deadline and connection. */
#define SERVE_WAIT_SLICE_MS 100L

static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;

struct probe_rec *serve_rec_ref(struct probe_rec *r)
{
	pthread_mutex_lock(&rec_lock);
	r->refs++;
	pthread_mutex_unlock(&rec_lock);
	return r;
}

void serve_rec_unref(struct probe_rec *r)
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

void serve_cache_init(struct serve_cache *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
}

void serve_cache_release(struct serve_cache *c)
{
	size_t i;

	for (i = 0; i < c->nr; i++) {
		serve_rec_unref(c->entries[i].rec);
		free(c->entries[i].key);
	}
	free(c->entries);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	memset(c, 0, sizeof(*c));
}

char *serve_cache_key(const struct registry_url *u)
{
	int port = u->port ? u->port : !strcmp(u->scheme, "http") ? 80 : 443;
	char *key = strchr(u->host, ':') ? xstrfmt("[%s]:%d", u->host, port) :
					     xstrfmt("%s:%d", u->host, port);
	char *p;

	for (p = key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return key;
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


/* Writes text with every http:// or https:// URL in it redacted as above. */
static void put_redacted_text(FILE *out, const char *text)
{
	while (text && *text) {
		const char *a = strstr(text, "http://"), *b = strstr(text, "https://");
		const char *url = a && (!b || a < b) ? a : b;
		size_t len;
		char *copy;

		if (!url) {
			fputs(text, out);
			return;
		}
		fwrite(text, 1, (size_t)(url - text), out);
		len = strcspn(url, " \t\n\"'<>()");
		copy = xstrndup(url, len);
		put_redacted_url(out, copy);
		free(copy);
		text = url + len;
	}
}

void serve_write_metrics(FILE *out, struct probe_rec *r, int openmetrics, int cached, long age_ms)
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
	rep.results = &r->res.results;
	report_write(&report_prometheus, &rep);
}

void serve_write_debug(FILE *out, struct probe_rec *r, int cached, long age_ms)
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
		put_redacted_text(out, r->notes);
	fputs("\nLog:\n", out);
	for (i = 0; r->ran && i < check_table_size; i++) {
		const struct check_result *res = &r->res.results.results[i];

		if (!res->done)
			continue;
		fprintf(out, "%s: %s in %ld ms: ", res->check->id, check_status_name(res->status),
			res->duration_ms);
		put_redacted_text(out, res->message);
		fputc('\n', out);
		for (j = 0; j < res->evidence.nr; j++) {
			const struct evidence *e = &res->evidence.items[j];

			fprintf(out, "  %s ", e->method);
			put_redacted_url(out, e->url);
			if (e->status)
				fprintf(out, " -> %ld", e->status);
			else
				fputs(" -> no answer", out);
			fprintf(out, " (%ld ms)", e->duration_ms);
			if (e->error) {
				fputs(": ", out);
				put_redacted_text(out, e->error);
			}
			fputc('\n', out);
		}
	}
	fputs("\nMetrics:\n", out);
	serve_write_metrics(out, r, 0, cached, age_ms);
	fputs("\nModule:\n", out);
	fputs(r->module_text, out);
}

int serve_write_report(FILE *out, struct probe_rec *r, const struct report_writer *w)
{
	struct report rep = { .out = out, .results = &r->res.results };

	return report_write(w, &rep);
}

/* ---- running a probe ------------------------------------------------------ */

static char *module_text(const struct serve_module *m)
{
	struct buf b;
	size_t i;
	int first = 1;

	buf_init(&b, BUF_TEXT_MAX);
	buf_addf(&b, "  name: %s\n  writes: %s\n  repository: %s\n  tag: %s\n", m->name,
		 doctor_writes_name(m->writes), m->repository, m->tag);
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

/* The module's docker config entry for the host (read at load): auths only, no helpers. */
static int creds_from_docker_dir(struct creds *out, const struct serve_module *m,
				 const char *hostport, const char *repository, char **why)
{
	char *path = xstrfmt("%s/config.json", m->docker_config), *helper = NULL;
	int ret = -1;

	if (creds_from_docker_config(out, &helper, m->docker_config_json, hostport, repository,
				     why) < 0)
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

static struct probe_rec *run_probe(struct server *s, struct serve_module *m,
				   const struct probe_req *q)
{
	struct probe_rec *r = xcalloc(1, sizeof(*r));
	struct doctor_settings ds = {
		.registry = q->target, .repository = q->repository, .tag = q->tag,
		.scratch_repository = m->scratch, .selected = m->selected, .writes = m->writes,
		.creds = &r->creds, .insecure = m->insecure, .timeout_ms = q->timeout_ms,
	};
	long start = clock_now_ms();
	const char *why = NULL;
	struct cancel cancel;

	cancel_init(&cancel);
	ds.cancel = &cancel;
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
		serve_watch_probe(s, q->watch, &cancel, m->engine.engine);
		if (doctor_run(&r->res, &ds, m->engine.engine, &why) == 0)
			r->ran = 1;
		else
			add_note(r, "The probe could not start: %s", why);
		serve_watch_probe(s, q->watch, NULL, NULL); /* the watchdog is done with cancel */
	}
	r->duration_ms = clock_now_ms() - start;
	r->abandoned = cancel_is_set(&cancel);
	if (r->abandoned)
		add_note(r, "Abandoned: the scrape's client closed its connection while the probe ran; "
			 "its requests were ended at once, only its clean-ups were still sent");
	r->success = r->ran && !r->abandoned && r->res.worst != STATUS_FAIL;
	pthread_mutex_lock(&s->lock);
	r->id = ++s->next_id;
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void history_add(struct server *s, struct probe_rec *r)
{
	struct probe_rec *old;

	serve_rec_ref(r);
	pthread_mutex_lock(&s->lock);
	old = s->history[s->history_next];
	s->history[s->history_next] = r;
	s->history_next = (s->history_next + 1) % (size_t)s->args->history_limit;
	pthread_mutex_unlock(&s->lock);
	serve_rec_unref(old);
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
struct probe_rec *serve_probe_in_slot(struct server *s, struct serve_module *m,
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

static struct serve_cached *cache_find(struct serve_cache *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		if (!strcmp(c->entries[i].key, key))
			return &c->entries[i];
	return NULL;
}

/*
 * A new entry; when full, in place of the oldest one whose min_interval
 * has passed (evicting a younger one would let its registry be written
 * again too soon). NULL when there is none.
 */
static struct serve_cached *cache_add(struct serve_cache *c, const char *key, long now)
{
	struct serve_cached *e = NULL;
	size_t i;

	if (!c->entries)
		c->entries = xcalloc(SERVE_CACHE_MAX, sizeof(*c->entries));
	if (c->nr < SERVE_CACHE_MAX) {
		e = &c->entries[c->nr++];
	} else {
		for (i = 0; i < c->nr; i++)
			if (!c->entries[i].running && c->entries[i].until_ms <= now &&
			    (!e || c->entries[i].at_ms < e->at_ms))
				e = &c->entries[i];
		if (!e)
			return NULL;
		serve_rec_unref(e->rec);
		free(e->key);
	}
	memset(e, 0, sizeof(*e));
	e->key = xstrdup(key);
	return e;
}

/* Why a scrape waiting in the cache must stop waiting now, or REFUSED_NONE. */
static enum probe_refusal wait_over(struct server *s, const struct probe_req *q)
{
	int stopping;

	pthread_mutex_lock(&s->lock);
	stopping = s->stopping;
	pthread_mutex_unlock(&s->lock);
	if (stopping)
		return REFUSED_STOPPING;
	if (clock_now_ms() >= q->deadline_ms)
		return REFUSED_DEADLINE;
	if (serve_client_gone(q->client_fd))
		return REFUSED_CLIENT_GONE;
	return REFUSED_NONE;
}

/* Waits on the cache's condition for at most a slice (under c->lock). */
static void wait_slice(struct serve_cache *c)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += SERVE_WAIT_SLICE_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&c->cond, &c->lock, &until);
}

/* Whether a cached record probed the image the scrape asks for. */
static int same_image(const struct probe_rec *r, const struct probe_req *q)
{
	return !strcmp(r->repository, q->repository) && !strcmp(r->tag, q->tag);
}

/*
 * Looks the registry up, under c->lock, waiting while a probe of it runs.
 * Returns the cached record to serve, or NULL with *entry set to the
 * entry to run a new probe in (NULL: run none) and out->refusal when the
 * scrape gets no result.
 */
static struct probe_rec *cache_lookup(struct server *s, struct serve_module *m,
				      const struct probe_req *q, const char *key,
				      struct serve_cached **entry, struct probe_outcome *out)
{
	struct serve_cache *c = &s->cache;
	struct serve_cached *e;
	long now;

	*entry = NULL;
	for (;;) {
		e = cache_find(c, key);
		now = clock_now_ms();
		if (!e || !e->running)
			break;
		out->refusal = wait_over(s, q);
		if (out->refusal)
			return NULL;
		wait_slice(c);
	}
	if (e && e->rec && now - e->at_ms < m->min_interval_ms) {
		if (e->rec->abandoned) {
			/* it may have written: the interval holds, and there is no result to give */
			out->refusal = REFUSED_ABANDONED;
			out->retry_ms = m->min_interval_ms - (now - e->at_ms);
			return NULL;
		}
		if (same_image(e->rec, q)) {
			out->age_ms = now - e->at_ms;
			return serve_rec_ref(e->rec);
		}
		out->refusal = REFUSED_INTERVAL;
		out->retry_ms = m->min_interval_ms - (now - e->at_ms);
		return NULL;
	}
	if (!e)
		e = cache_add(c, key, now);
	if (!e) {
		out->refusal = REFUSED_CACHE_FULL;
		return NULL;
	}
	e->running = 1;
	*entry = e;
	return NULL;
}

struct probe_rec *serve_probe_cached(struct server *s, struct serve_module *m,
				      const struct probe_req *q, struct probe_outcome *out)
{
	char *key = xstrfmt("%s\n%s", m->name, q->registry);
	struct serve_cache *c = &s->cache;
	struct serve_cached *e;
	struct probe_rec *r;

	out->refusal = REFUSED_NONE;
	out->age_ms = -1;
	pthread_mutex_lock(&c->lock);
	r = cache_lookup(s, m, q, key, &e, out);
	pthread_mutex_unlock(&c->lock);
	if (!e)
		goto done;
	r = serve_probe_in_slot(s, m, q);
	pthread_mutex_lock(&c->lock);
	e->running = 0;
	if (r) {
		serve_rec_unref(e->rec);
		e->rec = serve_rec_ref(r);
		e->at_ms = clock_now_ms();
		e->until_ms = e->at_ms + m->min_interval_ms;
	} else {
		out->refusal = REFUSED_BUSY;
	}
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
done:
	free(key);
	return r;
}
