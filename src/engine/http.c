/*
 * http: the engine described in http.h.
 *
 * Threads hand transfers over through a small queue guarded by
 * `lock`; only the loop thread touches the multi handle (libcurl's multi
 * interface is not thread-safe, except curl_multi_wakeup, which is how a
 * sender pokes the loop). A sender then sleeps on `cond` until the loop
 * marks its transfers done.
 */
#include "engine/http.h"
#include "util/clock.h"
#include "util/ref.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* One engine_send call: its sender sleeps on `cond` until `left` is 0. */
struct batch {
	pthread_cond_t cond;
	size_t left;
};

struct xfer {
	CURL *easy;
	const struct http_request *req;
	struct http_response *resp;
	struct batch *batch;
	char errbuf[CURL_ERROR_SIZE];
	int cert_requested;     /* the TLS handshake carried a CertificateRequest */
	int req_has_cert;       /* a client certificate was configured */
	struct xfer *next;
};

struct engine {
	CURLM *multi;
	pthread_mutex_t lock;
	struct xfer *pending;   /* handed over, not yet in the multi handle */
	int holders;
	long deadline_ms;       /* monotonic clock */
	struct engine_options opts;
	pthread_mutex_t trace_lock;
};

int engine_new(struct engine **out, const struct engine_options *opts)
{
	struct engine *e = xcalloc(1, sizeof(*e));

	e->multi = curl_multi_init();
	if (!e->multi) {
		free(e);
		return -1;
	}
	curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->trace_lock, NULL);
	e->opts = *opts;
	if (!e->opts.max_body)
		e->opts.max_body = HTTP_DEFAULT_MAX_BODY;
	e->deadline_ms = clock_now_ms() + opts->timeout_ms;
	*out = e;
	return 0;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	curl_multi_cleanup(e->multi);
	pthread_mutex_destroy(&e->lock);
	pthread_mutex_destroy(&e->trace_lock);
	free(e);
}

long engine_remaining_ms(const struct engine *e, long deadline)
{
	long left = (deadline ? deadline : e->deadline_ms) - clock_now_ms();

	return left > 0 ? left : 0;
}

const struct engine_options *engine_opts(const struct engine *e)
{
	return &e->opts;
}

void engine_hold(struct engine *e)
{
	pthread_mutex_lock(&e->lock);
	e->holders++;
	pthread_mutex_unlock(&e->lock);
}

void engine_unhold(struct engine *e)
{
	pthread_mutex_lock(&e->lock);
	e->holders--;
	pthread_mutex_unlock(&e->lock);
	curl_multi_wakeup(e->multi);
}

void http_response_init(struct http_response *r, size_t max_body)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, max_body);
}

static void clear_headers(struct http_response *r)
{
	size_t i;

	for (i = 0; i < r->nr_headers; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	r->nr_headers = 0;
}

void http_response_release(struct http_response *r)
{
	if (!r)
		return;
	clear_headers(r);
	free(r->headers);
	buf_release(&r->body);
	free(r->error);
	free(r->primary_ip);
	free(r->proxy);
	http_response_init(r, r->body.max);
}

void http_headers_free(struct curl_slist *headers)
{
	struct curl_slist *h;

	for (h = headers; h; h = h->next)
		secret_wipe(h->data, strlen(h->data));
	curl_slist_free_all(headers);
}

void http_response_release_secret(struct http_response *r)
{
	if (r && r->body.alloc)
		secret_wipe(r->body.data, r->body.alloc);
	http_response_release(r);
}

const char *http_header_get(const struct http_response *r, const char *name)
{
	size_t i;

	for (i = r->nr_headers; i > 0; i--)
		if (!strcasecmp(r->headers[i - 1].name, name))
			return r->headers[i - 1].value;
	return NULL;
}

void http_content_type(const struct http_response *r, char *out, size_t n)
{
	const char *v = http_header_get(r, "Content-Type");
	size_t i = 0;

	if (!n)
		return;
	if (v) {
		while (*v == ' ' || *v == '\t')
			v++;
		for (; v[i] && v[i] != ';' && v[i] != ' ' && i + 1 < n; i++)
			out[i] = (char)tolower((unsigned char)v[i]);
	}
	out[i] = '\0';
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	size_t len = size * nmemb;

	if (buf_add(&x->resp->body, data, len) < 0) {
		x->resp->failure = HTTP_BODY_TOO_LARGE;
		return 0;
	}
	return len;
}

static void trim_line(const char **start, size_t *len)
{
	while (*len && ((*start)[*len - 1] == '\r' || (*start)[*len - 1] == '\n' ||
			(*start)[*len - 1] == ' ' || (*start)[*len - 1] == '\t'))
		(*len)--;
	while (*len && (**start == ' ' || **start == '\t')) {
		(*start)++;
		(*len)--;
	}
}

/* Keeps the headers of the last response only: a status line starts over. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	struct http_response *r = x->resp;
	size_t len = size * nmemb;
	const char *colon, *value;
	size_t name_len, value_len;

	r->header_bytes += len;
	if (r->header_bytes > HTTP_MAX_HEADER_BYTES) {
		r->failure = HTTP_HEADERS_TOO_LARGE;
		return 0;
	}
	if (len >= 5 && !memcmp(data, "HTTP/", 5)) {
		clear_headers(r);
		return len;
	}
	colon = memchr(data, ':', len);
	if (!colon || colon == data)
		return len;
	name_len = (size_t)(colon - data);
	value = colon + 1;
	value_len = len - name_len - 1;
	trim_line(&value, &value_len);
	ALLOC_GROW(r->headers, r->nr_headers + 1, r->alloc_headers);
	r->headers[r->nr_headers].name = xstrndup(data, name_len);
	r->headers[r->nr_headers].value = xstrndup(value, value_len);
	r->nr_headers++;
	return len;
}

/*
 * libcurl's debug callback, for the TLS handshake only: it notes a
 * CertificateRequest from the server (handshake type 13, then a 24-bit
 * length that matches), which under TLS 1.3 is the only trace of why a
 * server without our certificate ends the connection.
 */
static int on_debug(CURL *c, curl_infotype type, char *data, size_t size, void *userp)
{
	struct xfer *x = userp;
	const unsigned char *d = (const unsigned char *)data;

	(void)c;
	if (type == CURLINFO_SSL_DATA_IN && size >= 4 && d[0] == 13 &&
	    ((size_t)d[1] << 16 | (size_t)d[2] << 8 | d[3]) + 4 == size)
		x->cert_requested = 1;
	return 0;
}

static const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* One no_proxy entry against a host: "*", the host itself, or a domain suffix. */
static int no_proxy_entry_matches(const char *entry, size_t n, const char *host)
{
	size_t hl = strlen(host);

	while (n && (*entry == ' ' || *entry == '\t'))
		entry++, n--;
	while (n && (entry[n - 1] == ' ' || entry[n - 1] == '\t'))
		n--;
	if (n && entry[0] == '.')
		entry++, n--;
	if (!n)
		return 0;
	if (n == 1 && entry[0] == '*')
		return 1;
	if (hl == n)
		return !strncasecmp(entry, host, n);
	return hl > n && host[hl - n - 1] == '.' && !strncasecmp(entry, host + hl - n, n);
}

char *http_proxy_for(const char *url, const char **var)
{
	static const char *const http_vars[] = { "http_proxy", "all_proxy", "ALL_PROXY", NULL };
	static const char *const https_vars[] = { "https_proxy", "HTTPS_PROXY", "all_proxy",
						  "ALL_PROXY", NULL };
	const char *const *names = !strncasecmp(url, "https://", 8) ? https_vars : http_vars;
	const char *no = env_nonempty("no_proxy");
	CURLU *h = curl_url();
	char *host = NULL, *out = NULL;
	size_t i;

	*var = NULL;
	if (!h || curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto done;
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	if (!no)
		no = env_nonempty("NO_PROXY");
	while (no && *no) {
		size_t n = strcspn(no, ",");

		if (no_proxy_entry_matches(no, n, host))
			goto done;
		no += n;
		if (*no == ',')
			no++;
	}
	for (i = 0; names[i]; i++) {
		const char *v = env_nonempty(names[i]);

		if (v) {
			*var = names[i];
			out = url_redact_userinfo(v);
			break;
		}
	}
done:
	curl_free(host);
	curl_url_cleanup(h);
	return out;
}

int http_check_client_pair(const char *cert, const char *key, char **why)
{
	BIO *cb = BIO_new_file(cert, "r"), *kb = BIO_new_file(key, "r");
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, (void *)"") : NULL;
	int ret = -1;

	if (!x)
		*why = xstrfmt("--cert %s is not a readable PEM certificate (with --key %s)", cert, key);
	else if (!k)
		*why = xstrfmt("--key %s is not a readable, unencrypted PEM private key (for --cert %s)",
			       key, cert);
	else if (X509_check_private_key(x, k) != 1)
		*why = xstrfmt("--cert %s and --key %s do not match: the key is not the certificate's",
			       cert, key);
	else
		ret = 0;
	ERR_clear_error();
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(cb);
	BIO_free(kb);
	return ret;
}

/* Whether the request carries a credential: flagged, or an Authorization header. */
static int carries_credentials(const struct http_request *req)
{
	const struct curl_slist *h;

	if (req->credentials)
		return 1;
	for (h = req->headers; h; h = h->next)
		if (!strncasecmp(h->data, "authorization:", 14))
			return 1;
	return 0;
}

/* Options that decide where requests go, what is verified and what is bounded: one refused is a failed transfer. */
#define SETOPT(c, opt, val)                                                                   \
	do {                                                                                  \
		if (curl_easy_setopt((c), (opt), (val)) != CURLE_OK) {                        \
			*why = xstrdup("libcurl refused the option " #opt);                   \
			goto fail;                                                            \
		}                                                                             \
	} while (0)

static int set_method(CURL *c, const struct http_request *req, char **why)
{
	if (!strcmp(req->method, "HEAD")) {
		SETOPT(c, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(req->method, "GET") && !req->body) {
		SETOPT(c, CURLOPT_HTTPGET, 1L);
	} else {
		SETOPT(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		SETOPT(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		if (strcmp(req->method, "POST"))
			SETOPT(c, CURLOPT_CUSTOMREQUEST, req->method);
	}
	return 0;
fail:
	return -1;
}

/* A new easy handle for x, or NULL with *why (newly allocated). */
static CURL *make_easy(struct engine *e, struct xfer *x, long remaining, char **why)
{
	const struct engine_options *o = &e->opts;
	CURL *c;

	/* our own check first: libcurl's protocol list below is the second */
	if (!url_is_http(x->req->url)) {
		*why = xstrdup("not an http or https URL; not sent");
		return NULL;
	}
	c = curl_easy_init();
	if (!c)
		xdie("cannot create a libcurl handle");
	SETOPT(c, CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SETOPT(c, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(c, CURLOPT_URL, x->req->url);
	if (set_method(c, x->req, why) < 0)
		goto fail;
	SETOPT(c, CURLOPT_HTTPHEADER, x->req->headers);
	/* credentials allowed over plain HTTP only because the host is loopback go direct */
	if (carries_credentials(x->req) && url_is_plain_loopback(x->req->url))
		SETOPT(c, CURLOPT_NOPROXY, "*");
	else
		x->resp->proxy = http_proxy_for(x->req->url, &x->resp->proxy_var);
	SETOPT(c, CURLOPT_DEBUGFUNCTION, on_debug);
	SETOPT(c, CURLOPT_DEBUGDATA, x);
	SETOPT(c, CURLOPT_VERBOSE, 1L);
	SETOPT(c, CURLOPT_NOSIGNAL, 1L);
	SETOPT(c, CURLOPT_TIMEOUT_MS, remaining);
	SETOPT(c, CURLOPT_CONNECTTIMEOUT_MS, remaining < 10000 ? remaining : 10000L);
	/* preferences, not safeguards: a libcurl without HTTP/2 or zlib still works */
	(void)curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	(void)curl_easy_setopt(c, CURLOPT_PIPEWAIT, 1L);
	SETOPT(c, CURLOPT_USERAGENT, "ocidoctor/" OCIDOCTOR_VERSION);
	(void)curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	SETOPT(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body);
	SETOPT(c, CURLOPT_ERRORBUFFER, x->errbuf);
	SETOPT(c, CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(c, CURLOPT_WRITEDATA, x);
	SETOPT(c, CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(c, CURLOPT_HEADERDATA, x);
	SETOPT(c, CURLOPT_PRIVATE, x);
	if (o->ca_file)
		SETOPT(c, CURLOPT_CAINFO, o->ca_file);
	if (o->cert)
		SETOPT(c, CURLOPT_SSLCERT, o->cert);
	x->req_has_cert = o->cert != NULL;
	if (o->key)
		SETOPT(c, CURLOPT_SSLKEY, o->key);
	if (o->insecure) {
		SETOPT(c, CURLOPT_SSL_VERIFYPEER, 0L);
		SETOPT(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return c;
fail:
	curl_easy_cleanup(c);
	return NULL;
}

static void describe_failure(struct xfer *x, CURLcode code)
{
	struct http_response *r = x->resp;

	r->curl_code = code;
	if (r->failure == HTTP_BODY_TOO_LARGE || code == CURLE_FILESIZE_EXCEEDED) {
		r->failure = HTTP_BODY_TOO_LARGE;
		r->error = xstrfmt("response body larger than the %zu byte limit",
				   r->body.max);
	} else if (r->failure == HTTP_HEADERS_TOO_LARGE) {
		r->error = xstrfmt("response headers larger than the %zu byte limit",
				   HTTP_MAX_HEADER_BYTES);
	} else if (x->cert_requested && !x->req_has_cert && !r->status &&
		   (code == CURLE_SSL_CONNECT_ERROR || code == CURLE_COULDNT_CONNECT ||
		    code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR || code == CURLE_GOT_NOTHING)) {
		r->failure = HTTP_TRANSPORT;
		r->client_cert_wanted = 1;
		r->error = xstrfmt("the registry asked for a TLS client certificate and none was given "
				   "(use --cert and --key); libcurl: %s",
				   x->errbuf[0] ? x->errbuf : curl_easy_strerror(code));
	} else {
		r->failure = HTTP_TRANSPORT;
		r->error = xstrdup(x->errbuf[0] ? x->errbuf : curl_easy_strerror(code));
	}
}

/* Called in the loop thread when libcurl reports a transfer finished. */
static void finish(struct engine *e, CURL *c, CURLcode code)
{
	struct xfer *x = NULL;
	struct http_response *r;
	curl_off_t total_us = 0;
	long version = 0;
	char *ip = NULL;

	curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **)&x);
	r = x->resp;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c, CURLINFO_HTTP_VERSION, &version);
	curl_easy_getinfo(c, CURLINFO_SSL_VERIFYRESULT, &r->tls_verify_result);
	curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &r->os_errno);
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &total_us);
	if (curl_easy_getinfo(c, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip && *ip)
		r->primary_ip = xstrdup(ip);
	r->http_version = version == CURL_HTTP_VERSION_2_0 ? 2 :
			  version == CURL_HTTP_VERSION_3 ? 3 : version ? 1 : 0;
	r->duration_ms = (long)(total_us / 1000);
	if (code != CURLE_OK)
		describe_failure(x, code);
	curl_multi_remove_handle(e->multi, c);
	curl_easy_cleanup(c);
	x->easy = NULL;

	pthread_mutex_lock(&e->lock);
	if (--x->batch->left == 0)
		pthread_cond_signal(&x->batch->cond);
	pthread_mutex_unlock(&e->lock);
}

static int take_pending(struct engine *e, struct xfer **list)
{
	int holders;

	pthread_mutex_lock(&e->lock);
	*list = e->pending;
	e->pending = NULL;
	holders = e->holders;
	pthread_mutex_unlock(&e->lock);
	return holders;
}

/* How long the loop may sleep: libcurl's own timer, else until woken. */
static int poll_ms(struct engine *e)
{
	long t = -1;

	curl_multi_timeout(e->multi, &t);
	return t >= 0 && t < 1000 ? (int)t : 1000;
}

/*
 * Moves handed-over transfers into the multi handle, drives them, and
 * hands finished ones back, until no holder is left and nothing runs.
 * Finished transfers are reaped right after curl_multi_perform, before
 * sleeping, so no sender waits on a poll timeout.
 */
void engine_loop(struct engine *e)
{
	int running = 0;

	for (;;) {
		struct xfer *list, *x;
		CURLMsg *msg;
		int queued;
		int holders = take_pending(e, &list);

		for (x = list; x; x = x->next)
			curl_multi_add_handle(e->multi, x->easy);
		if (!holders && !running && !list)
			break;
		curl_multi_perform(e->multi, &running);
		while ((msg = curl_multi_info_read(e->multi, &queued)))
			if (msg->msg == CURLMSG_DONE)
				finish(e, msg->easy_handle, msg->data.result);
		curl_multi_poll(e->multi, NULL, 0, poll_ms(e), NULL);
	}
}

static const char *const redacted_headers[] = {
	"authorization", "proxy-authorization", "cookie", "set-cookie", NULL
};

static int is_secret_header(const char *line, size_t name_len)
{
	size_t i;

	for (i = 0; redacted_headers[i]; i++)
		if (strlen(redacted_headers[i]) == name_len &&
		    !strncasecmp(line, redacted_headers[i], name_len))
			return 1;
	return 0;
}

/* A response header's value for the trace: secrets redacted, a Location elsewhere without its query. */
static char *shown_header_value(const struct http_request *req, const struct http_header *h)
{
	char *abs, *out;

	if (is_secret_header(h->name, strlen(h->name)))
		return xstrdup("<redacted>");
	if (strcasecmp(h->name, "location") && strcasecmp(h->name, "content-location"))
		return xstrdup(h->value);
	abs = url_resolve(req->url, h->value);
	if (!abs)
		return url_for_display(h->value, NULL);
	out = url_for_display(abs, req->origin ? req->origin : req->url);
	free(abs);
	return out;
}

void engine_trace(struct engine *e, const struct http_request *req,
		  const struct http_response *resp)
{
	const struct curl_slist *h;
	FILE *f = e->opts.trace;
	size_t i;

	if (!f)
		return;
	char *shown = url_for_display(req->url, req->origin ? req->origin : req->url);

	pthread_mutex_lock(&e->trace_lock);
	text_sanitize(shown);
	fprintf(f, "> %s %s\n", req->method, shown);
	free(shown);
	for (h = req->headers; h; h = h->next) {
		const char *colon = strchr(h->data, ':');
		size_t n = colon ? (size_t)(colon - h->data) : strlen(h->data);

		if (is_secret_header(h->data, n))
			fprintf(f, ">   %.*s: <redacted>\n", (int)n, h->data);
		else
			fprintf(f, ">   %s\n", h->data);
	}
	if (resp->failure != HTTP_OK && resp->error)
		fprintf(f, "! %s (%ld ms)\n", resp->error, resp->duration_ms);
	if (resp->status) {
		fprintf(f, "< %s %ld (%ld ms)\n", resp->http_version == 2 ? "HTTP/2" : "HTTP/1.1",
			resp->status, resp->duration_ms);
		for (i = 0; i < resp->nr_headers; i++) {
			char *name = xstrdup(resp->headers[i].name);
			char *value = shown_header_value(req, &resp->headers[i]);

			text_sanitize(name);
			text_sanitize(value);
			fprintf(f, "<   %s: %s\n", name, value);
			free(name);
			free(value);
		}
	}
	fflush(f);
	pthread_mutex_unlock(&e->trace_lock);
}

void engine_send(struct engine *e, const struct http_request *const *reqs,
		 struct http_response *const *resps, size_t n, long deadline, long *depth)
{
	struct xfer *xs = xcalloc(n ? n : 1, sizeof(*xs));
	long remaining = engine_remaining_ms(e, deadline);
	struct batch batch = { .left = 0 };
	size_t i;

	pthread_cond_init(&batch.cond, NULL);
	for (i = 0; i < n; i++) {
		xs[i].req = reqs[i];
		xs[i].resp = resps[i];
		xs[i].batch = &batch;
		http_response_init(resps[i], e->opts.max_body);
		if (reqs[i]->secret_answer)
			buf_init_secret(&resps[i]->body, e->opts.max_body);
		if (remaining <= 0) {
			resps[i]->failure = HTTP_DEADLINE;
			resps[i]->error = xstrdup("the run's deadline (--timeout) passed before this request was sent");
			continue;
		}
		xs[i].easy = make_easy(e, &xs[i], remaining, &resps[i]->error);
		if (!xs[i].easy) {
			resps[i]->failure = HTTP_TRANSPORT;
			continue;
		}
		batch.left++;
	}
	pthread_mutex_lock(&e->lock);
	for (i = 0; i < n; i++) {
		if (!xs[i].easy)
			continue;
		xs[i].next = e->pending;
		e->pending = &xs[i];
	}
	if (batch.left)
		curl_multi_wakeup(e->multi);
	while (batch.left)
		pthread_cond_wait(&batch.cond, &e->lock);
	pthread_mutex_unlock(&e->lock);
	pthread_cond_destroy(&batch.cond);

	if (remaining > 0 && n && depth)
		(*depth)++;
	for (i = 0; i < n; i++)
		engine_trace(e, reqs[i], resps[i]);
	free(xs);
}
