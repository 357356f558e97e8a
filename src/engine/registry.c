/*
 * registry: the registry client described in registry.h.
 */
#include "engine/registry.h"
#include "auth/token.h"
#include "util/clock.h"
#include "util/thread.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Where the token layer's exchanges go as evidence. */
struct token_log {
	struct registry *r;
	struct evidence_log *log;
};

struct registry {
	struct engine *engine;
	struct registry_url url;
	const struct creds *creds;
	pthread_mutex_t lock;
	struct challenge challenge; /* learned; scheme AUTH_NONE until then */
	struct token_cache *tokens; /* shared by every check of the run */
	json_t *rate_limit;         /* first rate-limiting answer, or NULL */
	long deadline;              /* clock_now_ms() point, or 0 for the engine's */
	const struct cancel *cancel; /* the run's, or NULL */
};

/* ---- evidence ---------------------------------------------------------- */

void evidence_log_init(struct evidence_log *log)
{
	memset(log, 0, sizeof(*log));
	pthread_mutex_init(&log->lock, NULL);
}

static void evidence_free_items(struct evidence *items, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		free(items[i].method);
		free(items[i].url);
		free(items[i].error);
	}
	free(items);
}

void evidence_list_release(struct evidence_list *list)
{
	evidence_free_items(list->items, list->nr);
	list->items = NULL;
	list->nr = 0;
}

void evidence_log_release(struct evidence_log *log)
{
	evidence_free_items(log->items, log->nr);
	pthread_mutex_destroy(&log->lock);
	memset(log, 0, sizeof(*log));
}

void evidence_log_take(struct evidence_log *log, struct evidence_list *out)
{
	evidence_list_release(out);
	pthread_mutex_lock(&log->lock);
	out->items = log->items;
	out->nr = log->nr;
	log->items = NULL;
	log->nr = log->alloc = 0;
	pthread_mutex_unlock(&log->lock);
}

void evidence_log_add(struct evidence_log *log, const char *method, const char *url,
		      const struct http_response *resp)
{
	struct evidence *ev;

	if (!log)
		return;
	pthread_mutex_lock(&log->lock);
	ALLOC_GROW(log->items, log->nr + 1, log->alloc);
	ev = &log->items[log->nr++];
	ev->method = xstrdup(method);
	ev->url = xstrdup(url);
	ev->status = resp->status;
	ev->duration_ms = resp->duration_ms;
	ev->error = resp->error ? xstrdup(resp->error) : NULL;
	http_answer_facts(resp, &ev->tls_not_after, ev->tls_version, &ev->date, &ev->received_at,
			  &ev->token_lifetime_s);
	pthread_mutex_unlock(&log->lock);
}

long evidence_log_depth(struct evidence_log *log)
{
	long depth;

	if (!log)
		return 0;
	pthread_mutex_lock(&log->lock);
	depth = log->depth;
	pthread_mutex_unlock(&log->lock);
	return depth;
}

void evidence_log_join(struct evidence_log *log, long depth)
{
	if (!log)
		return;
	pthread_mutex_lock(&log->lock);
	if (depth > log->depth)
		log->depth = depth;
	pthread_mutex_unlock(&log->lock);
}

/* ---- set-up ------------------------------------------------------------ */

char *registry_display_url(const struct registry *r, const char *url)
{
	return url_for_display(url, r->url.base);
}

/*
 * Adds an exchange to the log under its display URL; `own` says the URL
 * is the registry's base and a path of ours, so on its origin and shown
 * whole (what registry_display_url would find, without parsing it).
 */
static void log_exchange_url(struct registry *r, struct evidence_log *log, const char *method,
			     const char *url, int own, const struct http_response *resp)
{
	char *shown;

	if (!log)
		return;
	if (own) {
		evidence_log_add(log, method, url, resp);
		return;
	}
	shown = registry_display_url(r, url);
	evidence_log_add(log, method, shown, resp);
	free(shown);
}

static void log_exchange(struct registry *r, struct evidence_log *log, const char *method,
			 const char *url, const struct http_response *resp)
{
	log_exchange_url(r, log, method, url, 0, resp);
}

int registry_new(struct registry **out, struct engine *engine, const struct registry_options *opts,
		 const char **why)
{
	struct registry *r = xcalloc(1, sizeof(*r));

	if (registry_url_parse(&r->url, opts->url, why) < 0) {
		free(r);
		return -1;
	}
	r->engine = engine;
	r->creds = opts->creds;
	r->deadline = opts->timeout_ms ? clock_now_ms() + opts->timeout_ms : 0;
	r->cancel = opts->cancel;
	pthread_mutex_init(&r->lock, NULL);
	r->tokens = token_cache_new();
	*out = r;
	return 0;
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	token_cache_free(r->tokens);
	challenge_release(&r->challenge);
	json_decref(r->rate_limit);
	registry_url_release(&r->url);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

const struct registry_url *registry_url(const struct registry *r)
{
	return &r->url;
}

struct engine *registry_engine(const struct registry *r)
{
	return r->engine;
}

int registry_has_creds(const struct registry *r)
{
	return r->creds && r->creds->source != CRED_NONE;
}

long registry_remaining_ms(const struct registry *r)
{
	return cancel_is_set(r->cancel) ? 0 : engine_remaining_ms(r->engine, r->deadline);
}

static int has_password(const struct registry *r)
{
	return registry_has_creds(r) && r->creds->username && r->creds->password;
}

/* Copies the learned challenge into *out (zeroed scheme when none). */
static void learned(struct registry *r, struct challenge *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&r->lock);
	out->scheme = r->challenge.scheme;
	if (r->challenge.realm)
		out->realm = xstrdup(r->challenge.realm);
	if (r->challenge.service)
		out->service = xstrdup(r->challenge.service);
	pthread_mutex_unlock(&r->lock);
}

static void learn_challenge(struct registry *r, const struct challenge *c)
{
	pthread_mutex_lock(&r->lock);
	if (r->challenge.scheme == AUTH_NONE && c->scheme != AUTH_NONE) {
		r->challenge.scheme = c->scheme;
		r->challenge.realm = c->realm ? xstrdup(c->realm) : NULL;
		r->challenge.service = c->service ? xstrdup(c->service) : NULL;
	}
	pthread_mutex_unlock(&r->lock);
}

void registry_learn(struct registry *r, const struct http_response *resp)
{
	const char *h;
	struct challenge c;

	if (resp->status != 401)
		return;
	h = http_header_get(resp, "WWW-Authenticate");
	if (!h || challenge_parse(&c, h) < 0)
		return;
	learn_challenge(r, &c);
	challenge_release(&c);
}

enum auth_scheme registry_scheme(struct registry *r)
{
	enum auth_scheme s;

	pthread_mutex_lock(&r->lock);
	s = r->challenge.scheme;
	pthread_mutex_unlock(&r->lock);
	return s;
}

/* ---- small helpers ----------------------------------------------------- */

/* "repository:NAME:pull,push[,delete]" plus " repository:FROM:pull". */
static char *scope_for(const char *repository, unsigned actions, const char *mount_from)
{
	struct buf b;

	buf_init(&b, BUF_TEXT_MAX);
	if (repository) {
		buf_addf(&b, "repository:%s:", repository);
		buf_adds(&b, (actions & REG_PUSH) ? "pull,push" : "pull");
		if (actions & REG_DELETE)
			buf_adds(&b, ",delete");
	}
	if (mount_from)
		buf_addf(&b, "%srepository:%s:pull", b.len ? " " : "", mount_from);
	return buf_detach(&b);
}

static char *absolute_url(const struct registry *r, const char *path)
{
	if (!strncasecmp(path, "http://", 7) || !strncasecmp(path, "https://", 8))
		return xstrdup(path);
	return xstrfmt("%s%s", r->url.base, path);
}

/* ---- tokens ------------------------------------------------------------ */

static void log_token_exchange(void *arg, const char *method, const char *url,
			       const struct http_response *resp)
{
	struct token_log *tl = arg;

	log_exchange(tl->r, tl->log, method, url, resp);
}

/*
 * The token for (challenge, scope) from the run's cache, its requests
 * logged as evidence and limited by `deadline`; the caller's round-trip
 * chain (*depth) grows by what the token cost it.
 */
static char *get_token(struct registry *r, struct evidence_log *log, long deadline,
		       const struct cancel *cancel, long *depth, const struct challenge *c,
		       const char *scope, long *status, char **why)
{
	struct token_log tl = { r, log };
	struct token_fetch f = {
		.engine = r->engine, .origin = r->url.base, .creds = r->creds,
		.deadline = deadline, .cancel = cancel, .depth = depth,
		.log = log_token_exchange, .log_arg = &tl,
	};

	return token_get(r->tokens, &f, c, scope, status, why);
}

long registry_token_probe(struct registry *r, struct evidence_log *log,
			  const struct challenge *c, const char *scope, char **why)
{
	long status = 0, depth = evidence_log_depth(log);
	char *token = get_token(r, log, r->deadline, r->cancel, &depth, c, scope, &status, why);

	evidence_log_join(log, depth);
	if (!token)
		return status == 200 ? 0 : status;
	secret_free(token);
	return 200;
}

/* ---- calls ------------------------------------------------------------- */

struct call_state {
	char *url;
	char *auth;          /* "Authorization: ..." or NULL */
	char *token_scope;   /* scope of the token in auth, when Bearer */
	int tried_basic;
	int retried;
	int foreign;         /* a redirect left the registry's origin */
	int own;             /* url is the registry's base and a path of ours: its origin */
	int hops;            /* redirects followed */
	int retries;         /* retries after 429 or 503 */
	long deadline;       /* of everything this call sends, its token requests too */
	const struct cancel *cancel; /* the run's, but for a clean-up (NULL) */
	long *depth;         /* the caller's round-trip chain */
};

static void set_error(struct registry_call *call, enum reg_error err, char *text)
{
	call->error = err;
	free(call->error_text);
	call->error_text = text;
}

/* Attaches a Bearer token for `scope` using challenge c. */
static int use_token(struct registry *r, struct evidence_log *log, struct registry_call *call,
		     struct call_state *st, const struct challenge *c, const char *scope)
{
	char *why = NULL, *token;

	token = get_token(r, log, st->deadline, st->cancel, st->depth, c, scope,
			  &call->token_status, &why);
	if (!token) {
		set_error(call, REG_ERR_TOKEN, why);
		return -1;
	}
	secret_free(st->auth);
	st->auth = xstrfmt("Authorization: Bearer %s", token);
	free(st->token_scope);
	st->token_scope = xstrdup(scope);
	secret_free(token);
	return 0;
}

static int use_basic(struct registry *r, struct registry_call *call, struct call_state *st)
{
	st->tried_basic = 1;
	if (!has_password(r))
		return -1;
	if (!auth_url_safe(st->url)) {
		set_error(call, REG_ERR_INSECURE_CREDS,
			  xstrfmt("refusing to send credentials over plain HTTP to %s; use https",
				  r->url.host));
		return -1;
	}
	secret_free(st->auth);
	st->auth = auth_basic_header(r->creds);
	return 0;
}

/* Authentication before the first send, from what the run has learned. */
static void authenticate_up_front(struct registry *r, struct evidence_log *log,
				  struct registry_call *call, struct call_state *st)
{
	struct challenge c;
	char *scope;

	if (call->anonymous)
		return;
	learned(r, &c);
	if (c.scheme == AUTH_BEARER && c.realm) {
		scope = scope_for(call->repository, call->actions, call->mount_from);
		use_token(r, log, call, st, &c, scope);
		free(scope);
	} else if (c.scheme == AUTH_BASIC) {
		use_basic(r, call, st);
	}
	challenge_release(&c);
}

/* Merges our scope with the one a challenge names. */
static char *merge_scope(const char *ours, const char *theirs)
{
	if (!theirs || !*theirs || (ours && strstr(ours, theirs)))
		return xstrdup(ours ? ours : "");
	if (!ours || !*ours)
		return xstrdup(theirs);
	return xstrfmt("%s %s", ours, theirs);
}

/*
 * Reacts to a 401: returns 1 when the call should be sent again with new
 * credentials, 0 when the 401 is the answer.
 */
static int handle_401(struct registry *r, struct evidence_log *log, struct registry_call *call,
		      struct call_state *st)
{
	const char *h = http_header_get(&call->resp, "WWW-Authenticate");
	struct challenge c;
	char *ours, *scope;
	int again = 0;

	if (call->anonymous || st->foreign || st->retried)
		return 0;
	if (!h || challenge_parse(&c, h) < 0) {
		set_error(call, REG_ERR_CHALLENGE,
			  xstrdup(h ? "the registry's WWW-Authenticate header is malformed"
				    : "the registry answered 401 without a WWW-Authenticate header"));
		return 0;
	}
	learn_challenge(r, &c);
	if (c.scheme == AUTH_BEARER) {
		ours = scope_for(call->repository, call->actions, call->mount_from);
		scope = merge_scope(ours, c.scope);
		if (!st->token_scope || strcmp(st->token_scope, scope))
			again = use_token(r, log, call, st, &c, scope) == 0;
		free(ours);
		free(scope);
	} else if (c.scheme == AUTH_BASIC && !st->tried_basic) {
		again = use_basic(r, call, st) == 0;
	}
	challenge_release(&c);
	st->retried = again;
	return again;
}

/* Follows a redirect: returns 1 to send again to the new URL. */
static int handle_redirect(struct registry *r, struct registry_call *call, struct call_state *st,
			   int *hops)
{
	const char *loc = http_header_get(&call->resp, "Location");
	char *next;

	if (!call->follow || (strcmp(call->method, "GET") && strcmp(call->method, "HEAD")) || !loc)
		return 0;
	if (++*hops > REGISTRY_MAX_REDIRECTS) {
		set_error(call, REG_ERR_REDIRECTS,
			  xstrfmt("more than %d redirects", REGISTRY_MAX_REDIRECTS));
		return 0;
	}
	next = url_resolve(st->url, loc);
	if (!next) {
		set_error(call, REG_ERR_REDIRECTS, xstrdup("a redirect to an unusable Location"));
		return 0;
	}
	free(st->url);
	st->url = next;
	st->own = 0;
	if (!url_same_origin(st->url, r->url.base)) {
		st->foreign = 1;
		secret_free(st->auth);
		st->auth = NULL;
	}
	return 1;
}

/* One request of a call, ready for the engine; its headers hold a copy of the Authorization. */
struct call_send {
	struct http_request req;
	struct curl_slist *headers; /* a copy of the call's with the credentials, or NULL */
};

/* The request to send: the call's headers as they are, or a copy of them with the credentials. */
static void send_prepare(struct registry *r, struct registry_call *call,
			 const struct call_state *st, struct call_send *cs)
{
	const struct curl_slist *h;

	cs->headers = NULL;
	if (st->auth) {
		for (h = call->headers; h; h = h->next)
			cs->headers = curl_slist_append(cs->headers, h->data);
		cs->headers = curl_slist_append(cs->headers, st->auth);
	}
	cs->req = (struct http_request){
		.method = call->method, .url = st->url,
		.headers = st->auth ? cs->headers : call->headers,
		.body = call->body, .body_len = call->body_len, .origin = r->url.base,
		.keep_max = call->keep_max,
	};
	http_response_release(&call->resp);
}

static void send_done(struct registry *r, struct evidence_log *log, struct registry_call *call,
		      const struct call_state *st, struct call_send *cs)
{
	log_exchange_url(r, log, call->method, st->url, st->own, &call->resp);
	call->authenticated = st->auth != NULL;
	http_headers_free(cs->headers);
	cs->headers = NULL;
}

static void send_once(struct registry *r, struct evidence_log *log, struct registry_call *call,
		      struct call_state *st)
{
	struct call_send cs;
	const struct http_request *reqs[1];
	struct http_response *resps[] = { &call->resp };

	send_prepare(r, call, st, &cs);
	reqs[0] = &cs.req;
	engine_send(r->engine, reqs, resps, 1, st->deadline, st->cancel, st->depth);
	send_done(r, log, call, st, &cs);
}

char *registry_upload_location(struct registry *r, const struct registry_call *call,
			       const char *repository, char **why)
{
	const char *loc = http_header_get(&call->resp, "Location");
	char *url = loc && call->url ? url_resolve(call->url, loc) : NULL;
	char *shown;

	*why = NULL;
	if (!url)
		return NULL;
	if (url_is_upload_session(url, repository))
		return url;
	shown = url_for_display(url, r->url.base);
	*why = xstrfmt("the registry sent the upload to %s, which is not an upload session of %s; ocidoctor sent nothing there",
		       shown, repository);
	free(shown);
	free(url);
	return NULL;
}

int registry_is_elsewhere(const struct registry *r, const char *url)
{
	return !url_same_origin(url, r->url.base);
}

json_t *registry_rate_limit(struct registry *r)
{
	json_t *out;

	pthread_mutex_lock(&r->lock);
	out = json_incref(r->rate_limit);
	pthread_mutex_unlock(&r->lock);
	return out;
}

static int is_rate_limit_header(const char *name)
{
	return !strncasecmp(name, "ratelimit", 9) || !strncasecmp(name, "x-ratelimit", 11) ||
	       !strcasecmp(name, "retry-after") || !strcasecmp(name, "docker-ratelimit-source");
}

/* Keeps the first rate-limiting answer of the run for the report. */
static void note_rate_limit(struct registry *r, const char *url, const struct http_response *resp)
{
	json_t *headers = json_object();
	char *shown = registry_display_url(r, url);
	size_t i;

	for (i = 0; i < resp->nr_headers; i++)
		if (is_rate_limit_header(resp->headers[i].name))
			json_object_set_new(headers, resp->headers[i].name,
					    json_string(resp->headers[i].value));
	pthread_mutex_lock(&r->lock);
	if (!r->rate_limit)
		r->rate_limit = json_pack("{s:I, s:s, s:o}", "status", (json_int_t)resp->status,
					  "url", shown, "headers", headers);
	else
		json_decref(headers);
	pthread_mutex_unlock(&r->lock);
	free(shown);
}

/* Milliseconds a Retry-After header asks for (seconds or an HTTP date); -1 when absent. */
static long retry_after_ms(const struct http_response *resp)
{
	const char *v = http_header_get(resp, "Retry-After");
	char *end;
	long secs;
	time_t when;

	if (!v)
		return -1;
	secs = strtol(v, &end, 10);
	if (end != v && !*end && secs >= 0)
		return secs > 3600 ? 3600000 : secs * 1000;
	when = curl_getdate(v, NULL);
	if (when == -1)
		return -1;
	return when > time(NULL) ? (long)(when - time(NULL)) * 1000 : 0;
}

/*
 * Decides whether to send again after a 429 or 503: only idempotent
 * methods, a bounded number of times, and only when the wait fits
 * before the deadline. Sleeps the wait; returns 1 to retry.
 */
static int handle_rate_limit(struct registry *r, struct registry_call *call,
			     const struct call_state *st, int *retries)
{
	long status = call->resp.status, wait = retry_after_ms(&call->resp);

	if (status != 429 && !(status == 503 && wait >= 0))
		return 0;
	note_rate_limit(r, st->url, &call->resp);
	if (strcmp(call->method, "GET") && strcmp(call->method, "HEAD") &&
	    strcmp(call->method, "OPTIONS"))
		return 0;
	if (*retries >= REGISTRY_MAX_RETRIES)
		return 0;
	if (wait < 0)
		wait = 1000;
	if (wait > REGISTRY_MAX_RETRY_WAIT_MS || cancel_is_set(st->cancel) ||
	    wait + 1000 > engine_remaining_ms(r->engine, st->deadline))
		return 0;
	engine_pause(r->engine, wait, st->cancel);
	(*retries)++;
	return 1;
}

/*
 * A clean-up's deadline: the run's, or REGISTRY_CLEANUP_GRACE_MS from now
 * when the run's is nearer (or past, or the run was cancelled).
 */
static long grace_deadline(const struct registry *r)
{
	long left = registry_remaining_ms(r);

	return clock_now_ms() + (left > REGISTRY_CLEANUP_GRACE_MS ? left : REGISTRY_CLEANUP_GRACE_MS);
}

static int is_read(const char *method)
{
	return !strcmp(method, "GET") || !strcmp(method, "HEAD");
}

/*
 * Whether a call may go to its URL: a path of ours, a read, or an upload
 * session of the call's own repository. Anything else came from the
 * registry and would write or delete where the registry points.
 */
static int call_url_allowed(const struct registry_call *call, const struct call_state *st)
{
	return st->own || is_read(call->method) || url_is_upload_session(st->url, call->repository);
}

static char *unsafe_url_text(const struct registry *r, const char *method, const char *url,
			     const char *repository)
{
	char *shown = url_for_display(url, r->url.base);
	char *text = xstrfmt("not sent: %s %s is not an upload session of %s, and ocidoctor writes only to upload sessions of the repository it probes",
			     method, shown, repository ? repository : "the repository");

	free(shown);
	return text;
}

/*
 * Sets a call up: its URL, and the authentication the run has learned
 * (which may fetch a token). Returns 1 when it has a request to send.
 */
static int call_begin(struct registry *r, struct evidence_log *log, struct registry_call *call,
		      struct call_state *st, long *depth)
{
	memset(st, 0, sizeof(*st));
	st->deadline = call->cleanup ? grace_deadline(r) : r->deadline;
	st->cancel = call->cleanup ? NULL : r->cancel;
	st->depth = depth;
	http_response_init(&call->resp, engine_opts(r->engine)->max_body);
	call->error = REG_ERR_NONE;
	call->error_text = NULL;
	call->token_status = 0;
	st->url = absolute_url(r, call->path);
	st->own = call->path[0] == '/'; /* base + "/...": built here, so on the registry's origin */
	st->foreign = !st->own && !url_same_origin(st->url, r->url.base);
	if (!call_url_allowed(call, st)) {
		set_error(call, REG_ERR_UNSAFE_URL,
			  unsafe_url_text(r, call->method, st->url, call->repository));
		return 0;
	}
	if (!st->foreign)
		authenticate_up_front(r, log, call, st);
	if (call->token_only || call->error == REG_ERR_INSECURE_CREDS)
		return 0;
	call->error = REG_ERR_NONE;
	return 1;
}

/* After an answer: returns 1 when the call is to be sent again (new credentials, a retry, a redirect). */
static int call_again(struct registry *r, struct evidence_log *log, struct registry_call *call,
		      struct call_state *st)
{
	if (call->resp.failure != HTTP_OK) {
		set_error(call, REG_ERR_TRANSPORT, xstrdup(call->resp.error));
		return 0;
	}
	if (call->resp.status == 401 && handle_401(r, log, call, st))
		return 1;
	if (handle_rate_limit(r, call, st, &st->retries))
		return 1;
	return call->resp.status >= 300 && call->resp.status < 400 &&
	       handle_redirect(r, call, st, &st->hops);
}

/* Whether an answer may make call_again talk to the network (a token, a wait, a redirect). */
static int may_go_again(const struct registry_call *call)
{
	long s = call->resp.status;

	return call->resp.failure == HTTP_OK && (s == 401 || s == 429 || s == 503 ||
						 (s >= 300 && s < 400));
}

static int call_end(struct registry_call *call, struct call_state *st)
{
	call->redirects = st->hops;
	call->retries = st->retries;
	call->foreign = st->foreign;
	call->url = st->url;
	secret_free(st->auth);
	free(st->token_scope);
	memset(st, 0, sizeof(*st));
	return call->resp.status ? 0 : -1;
}

/* registry_call with the caller's round-trip chain in *depth. */
static int call_at(struct registry *r, struct evidence_log *log, struct registry_call *call,
		   long *depth)
{
	struct call_state st;

	if (call_begin(r, log, call, &st, depth))
		do
			send_once(r, log, call, &st);
		while (call_again(r, log, call, &st));
	return call_end(call, &st);
}

int registry_call(struct registry *r, struct evidence_log *log, struct registry_call *call)
{
	long depth = evidence_log_depth(log);
	int ret = call_at(r, log, call, &depth);

	evidence_log_join(log, depth);
	return ret;
}

/*
 * One worker of a registry_call_many on threads: calls first, first +
 * stride, ..., one after another. With no more calls than workers, each
 * makes one.
 */
struct call_worker {
	struct registry *r;
	struct evidence_log *log;
	struct registry_call *const *calls;
	size_t n, first, stride;
	long depth;              /* this worker's chain */
	struct thread_task task;
};

static void call_main(void *arg)
{
	struct call_worker *w = arg;
	size_t i;

	for (i = w->first; i < w->n; i += w->stride)
		call_at(w->r, w->log, w->calls[i], &w->depth);
}

/* The caller's own thread makes the first worker's calls while pool threads make the others'. */
static void call_many_on_threads(struct registry *r, struct evidence_log *log,
				 struct registry_call *const *calls, size_t n)
{
	size_t workers = n < REGISTRY_MAX_PARALLEL_CALLS ? n : REGISTRY_MAX_PARALLEL_CALLS;
	struct call_worker *ws = xcalloc(workers ? workers : 1, sizeof(*ws));
	long start = evidence_log_depth(log);
	size_t i;

	for (i = 0; i < workers; i++) {
		ws[i] = (struct call_worker){ .r = r, .log = log, .calls = calls, .n = n,
					      .first = i, .stride = workers,
					      .depth = start }; /* side by side: each chain starts here */
		if (i > 0)
			thread_task_start(&ws[i].task, call_main, &ws[i]);
	}
	if (workers)
		call_main(&ws[0]);
	for (i = 0; i < workers; i++) {
		if (i > 0)
			thread_task_join(&ws[i].task);
		evidence_log_join(log, ws[i].depth);
	}
	free(ws);
}

/* One call of a batch, from its first answer on. */
struct call_rest {
	struct registry *r;
	struct evidence_log *log;
	struct registry_call *call;
	struct call_state st;
	long depth;
	int sending;             /* its first request went in the batch */
	int task;                /* it goes on in a pool task */
	struct thread_task t;
};

static void call_rest_main(void *arg)
{
	struct call_rest *c = arg;

	while (call_again(c->r, c->log, c->call, &c->st))
		send_once(c->r, c->log, c->call, &c->st);
}

/*
 * The calls' first requests go to the engine together, in one
 * engine_send from the caller's thread: one round trip, no thread. A call
 * whose answer asks for more (a 401, a rate limit, a redirect) goes on in
 * a pool task of its own when there are several, so their follow-ups
 * still run side by side.
 */
static void call_many_batched(struct registry *r, struct evidence_log *log,
			      struct registry_call *const *calls, size_t n)
{
	struct call_rest *cs = xcalloc(n, sizeof(*cs));
	struct call_send *sends = xcalloc(n, sizeof(*sends));
	const struct http_request **reqs = xcalloc(n, sizeof(*reqs));
	struct http_response **resps = xcalloc(n, sizeof(*resps));
	long start = evidence_log_depth(log), depth = start;
	size_t i, m = 0, later = 0;
	const struct cancel *cancel = NULL;
	long deadline = 0;

	for (i = 0; i < n; i++) {
		cs[i] = (struct call_rest){ .r = r, .log = log, .call = calls[i], .depth = start };
		cs[i].sending = call_begin(r, log, calls[i], &cs[i].st, &cs[i].depth);
		if (!cs[i].sending)
			continue;
		send_prepare(r, calls[i], &cs[i].st, &sends[m]);
		reqs[m] = &sends[m].req;
		resps[m] = &calls[i]->resp;
		deadline = cs[i].st.deadline;
		cancel = cs[i].st.cancel; /* the same for all: no clean-up mixed with probes */
		m++;
	}
	if (m)
		engine_send(r->engine, reqs, resps, m, deadline, cancel, &depth);
	for (i = 0, m = 0; i < n; i++) {
		if (!cs[i].sending)
			continue;
		send_done(r, log, calls[i], &cs[i].st, &sends[m++]);
		if (depth > cs[i].depth)
			cs[i].depth = depth;
		cs[i].task = may_go_again(calls[i]) && later++ > 0;
		if (cs[i].task)
			thread_task_start(&cs[i].t, call_rest_main, &cs[i]);
	}
	for (i = 0; i < n; i++)
		if (cs[i].sending && !cs[i].task)
			call_rest_main(&cs[i]);
	for (i = 0; i < n; i++) {
		if (cs[i].task)
			thread_task_join(&cs[i].t);
		call_end(calls[i], &cs[i].st);
		evidence_log_join(log, cs[i].depth);
	}
	free(cs);
	free(sends);
	free(reqs);
	free(resps);
}

/*
 * Whether the calls can go out as one batch: no token to fetch first (the
 * registry has not asked for Bearer tokens, so authenticating up front
 * sends nothing) and one deadline for them all (no clean-up mixed with
 * probes). Otherwise each call gets a thread, so that token fetches run
 * side by side too.
 */
static int can_batch(struct registry *r, struct registry_call *const *calls, size_t n)
{
	size_t i;

	if (n < 2 || n > REGISTRY_MAX_PARALLEL_CALLS || registry_scheme(r) == AUTH_BEARER)
		return 0;
	for (i = 1; i < n; i++)
		if (calls[i]->cleanup != calls[0]->cleanup)
			return 0;
	return 1;
}

void registry_call_many(struct registry *r, struct evidence_log *log,
			struct registry_call *const *calls, size_t n)
{
	if (can_batch(r, calls, n))
		call_many_batched(r, log, calls, n);
	else
		call_many_on_threads(r, log, calls, n);
}

void registry_call_release(struct registry_call *call)
{
	if (!call)
		return;
	http_response_release(&call->resp);
	free(call->url);
	free(call->error_text);
	call->url = NULL;
	call->error_text = NULL;
}
