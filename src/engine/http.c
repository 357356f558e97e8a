/*
 * http: the engine described in http.h.
 *
 * Senders hand transfers over through a small queue guarded by `lock`.
 * The multi handle has one driver at a time (libcurl's multi interface
 * is not thread-safe): a sender whose transfers are not done, and who
 * finds nobody driving, takes the wheel and runs libcurl for everyone's
 * transfers until its own are done, then offers the wheel to a sender
 * whose transfers still run. The others sleep on their batch's own lock
 * and condition until the driver marks their transfers done or hands
 * them the wheel, so finishing a transfer never waits for the engine's
 * lock. A sender with new work while the driver sleeps in epoll_wait
 * starts it in libcurl itself (the driver lets go of multi_lock while it
 * sleeps, and epoll sees the new sockets); only when the driver is
 * running does the sender leave its work for it, and poke it through
 * an eventfd if it is about to sleep. So no thread exists only to run
 * the loop, and a sender alone on the engine runs its requests with no
 * other thread involved.
 *
 * The driver uses libcurl's event interface (curl_multi_socket_action):
 * libcurl says which sockets it waits on (on_socket) and when it next
 * needs the time (on_timer), the driver waits on them with epoll, and
 * libcurl then works only on the transfer whose socket is ready. With
 * many transfers in flight (a fleet, an exporter) that is what keeps
 * each wake-up cheap: curl_multi_perform would look at every transfer.
 */
#include "engine/http.h"
#include "util/clock.h"
#include "util/ref.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/*
 * Easy handles kept for reuse: a handle set up again (curl_easy_reset)
 * costs less than a new one, and a busy engine has about this many
 * transfers at once.
 */
#define ENGINE_SPARE_HANDLES 64
/* Socket events the driver takes from one epoll_wait. */
#define ENGINE_EVENTS 64
/*
 * How long past its deadline a transfer that libcurl has not ended is
 * ended by the driver (expire_overdue). libcurl's own timeout
 * (CURLOPT_TIMEOUT_MS, set to the same deadline) normally ends it first,
 * with libcurl's message; but libcurl does not look at the timeout of a
 * transfer that waits for a connection (another transfer's, to learn
 * whether it multiplexes), so that wait has no end of its own.
 */
#define ENGINE_DEADLINE_SLACK_MS 100

/*
 * One engine_send call. Its sender sleeps on `cond` until `left` is 0 or
 * it gets the wheel. `left` is written only by the driver (who finishes
 * transfers) and read by others under `lock`.
 */
struct batch {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t left;            /* transfers not finished yet */
	int wheel;              /* handed the wheel: this sender drives next */
	const struct cancel *cancel; /* the run's (engine_cancel_run), or NULL */
};

struct xfer {
	CURL *easy;
	const struct http_request *req;
	struct http_response *resp;
	struct batch *batch;
	char errbuf[CURL_ERROR_SIZE];
	int cert_requested;     /* the TLS handshake carried a CertificateRequest */
	int req_has_cert;       /* a client certificate was configured */
	int plain;              /* see is_plain */
	size_t keep;            /* bytes of the body kept, 0 until its first byte (body_keep) */
	long deadline_at;       /* clock_now_ms() by which it must have ended */
	long budget_ms;         /* the time it was given, up to deadline_at */
	struct xfer *next;      /* in the engine's pending list */
	struct xfer *live_prev, *live_next; /* in the driver's list of transfers in libcurl */
};

/* A finished easy handle kept for reuse. */
struct spare {
	CURL *easy;
	int plain;              /* its last request was plain (is_plain) */
};

struct engine {
	CURLM *multi;
	pthread_mutex_t lock;   /* guards everything below but opts and trace_lock */
	struct xfer *pending;   /* handed over, not yet in the multi handle */
	int driving;            /* a sender has the wheel (or is being handed it) */
	int polling;            /* the driver is in (or about to enter) epoll_wait and
	                           must be woken for new work; 0 while it runs */
	int epfd;               /* the sockets libcurl waits on, and wake_fd */
	int wake_fd;            /* an eventfd: a sender's new work */
	/*
	 * Held by whoever calls into the multi handle: the driver, but for
	 * while it sleeps in epoll_wait, when a sender may take it to start
	 * its own transfers (so that the driver need not wake for them).
	 * Taken before `lock`; a sender holding `lock` only tries it.
	 * Everything below up to spare_lock is under it.
	 */
	pthread_mutex_t multi_lock;
	long timer_at;          /* when libcurl wants the time (clock_now_ms), -1 for never */
	long sleep_until;       /* when the sleeping driver wakes by itself (clock_now_ms) */
	long overdue_at;        /* when a transfer in libcurl may be overdue (a deadline plus
	                           ENGINE_DEADLINE_SLACK_MS; may be early, never late), -1 for none */
	struct batch *driver_batch; /* the driver's own, NULL with no driver */
	struct xfer *live;      /* in the multi handle */
	pthread_mutex_t spare_lock;
	struct spare spare[ENGINE_SPARE_HANDLES]; /* finished easy handles, to reuse (spare_lock) */
	size_t nr_spare;
	long deadline_ms;       /* monotonic clock */
	atomic_int cancelled;   /* engine_cancel: every transfer ends, none starts */
	atomic_int runs_cancelled; /* a run was cancelled (engine_cancel_run), or a transfer of
	                              one went into libcurl, since the driver last looked */
	pthread_mutex_t pause_lock; /* engine_pause sleeps on pause_cond until cancelled */
	pthread_cond_t pause_cond;
	struct engine_options opts;
	pthread_mutex_t trace_lock;
};

/* libcurl's socket callback: which events it waits for on s, or that it is done with s. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct engine *e = userp;
	struct epoll_event ev = { .data.fd = s };

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(e->epfd, EPOLL_CTL_DEL, s, NULL); /* may be closed and gone already */
		curl_multi_assign(e->multi, s, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (!socketp) {
		if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, s, &ev) < 0 && errno == EEXIST)
			epoll_ctl(e->epfd, EPOLL_CTL_MOD, s, &ev);
		curl_multi_assign(e->multi, s, e); /* any non-NULL: watched */
	} else if (epoll_ctl(e->epfd, EPOLL_CTL_MOD, s, &ev) < 0 && errno == ENOENT) {
		epoll_ctl(e->epfd, EPOLL_CTL_ADD, s, &ev);
	}
	return 0;
}

/* libcurl's timer callback: when it next wants curl_multi_socket_action with the time. */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct engine *e = userp;

	(void)multi;
	e->timer_at = timeout_ms < 0 ? -1 : clock_now_ms() + timeout_ms;
	return 0;
}

/* The epoll set, the eventfd that wakes the driver, and libcurl's callbacks. */
static int watch_init(struct engine *e)
{
	struct epoll_event ev = { .events = EPOLLIN };

	e->timer_at = -1;
	e->overdue_at = -1;
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	e->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ev.data.fd = e->wake_fd;
	if (e->epfd < 0 || e->wake_fd < 0 || epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->wake_fd, &ev) < 0) {
		if (e->epfd >= 0)
			close(e->epfd);
		if (e->wake_fd >= 0)
			close(e->wake_fd);
		return -1;
	}
	curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
	curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
	return 0;
}

/* Wakes a driver asleep in epoll_wait (from any thread). */
static void wake_driver(struct engine *e)
{
	uint64_t one = 1;

	if (write(e->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, so a wake-up is pending anyway */
	}
}

int engine_new(struct engine **out, const struct engine_options *opts)
{
	struct engine *e = xcalloc(1, sizeof(*e));

	e->multi = curl_multi_init();
	if (!e->multi) {
		free(e);
		return -1;
	}
	if (watch_init(e) < 0) {
		curl_multi_cleanup(e->multi);
		free(e);
		return -1;
	}
	curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->multi_lock, NULL);
	pthread_mutex_init(&e->spare_lock, NULL);
	pthread_mutex_init(&e->trace_lock, NULL);
	pthread_mutex_init(&e->pause_lock, NULL);
	pthread_cond_init(&e->pause_cond, NULL);
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
	while (e->nr_spare)
		curl_easy_cleanup(e->spare[--e->nr_spare].easy);
	curl_multi_cleanup(e->multi);
	close(e->epfd);
	close(e->wake_fd);
	pthread_mutex_destroy(&e->lock);
	pthread_mutex_destroy(&e->multi_lock);
	pthread_mutex_destroy(&e->spare_lock);
	pthread_mutex_destroy(&e->trace_lock);
	pthread_mutex_destroy(&e->pause_lock);
	pthread_cond_destroy(&e->pause_cond);
	free(e);
}

long engine_remaining_ms(const struct engine *e, long deadline)
{
	long left = (deadline ? deadline : e->deadline_ms) - clock_now_ms();

	if (atomic_load(&e->cancelled))
		return 0;
	return left > 0 ? left : 0;
}

void engine_cancel(struct engine *e)
{
	atomic_store(&e->cancelled, 1);
	pthread_mutex_lock(&e->pause_lock);
	pthread_cond_broadcast(&e->pause_cond);
	pthread_mutex_unlock(&e->pause_lock);
	wake_driver(e);
}

void cancel_init(struct cancel *c)
{
	atomic_init(&c->cancelled, 0);
}

int cancel_is_set(const struct cancel *c)
{
	return c && atomic_load(&c->cancelled);
}

void engine_cancel_run(struct engine *e, struct cancel *c)
{
	atomic_store(&c->cancelled, 1);
	atomic_store(&e->runs_cancelled, 1); /* after c: the driver that sees this sees c */
	pthread_mutex_lock(&e->pause_lock);
	pthread_cond_broadcast(&e->pause_cond);
	pthread_mutex_unlock(&e->pause_lock);
	wake_driver(e);
}

void engine_pause(struct engine *e, long ms, const struct cancel *cancel)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&e->pause_lock);
	while (!atomic_load(&e->cancelled) && !cancel_is_set(cancel))
		if (pthread_cond_timedwait(&e->pause_cond, &e->pause_lock, &until) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&e->pause_lock);
}

const struct engine_options *engine_opts(const struct engine *e)
{
	return &e->opts;
}

void http_response_init(struct http_response *r, size_t max_body)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, max_body);
}

static void clear_headers(struct http_response *r)
{
	size_t i;

	for (i = 0; i < r->nr_headers; i++)
		free(r->headers[i].name); /* and the value in its block */
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

/*
 * How much of x's body is kept, decided at its first byte (the status is
 * known by then): all of it, up to the cap, for a 2xx answer to a GET or
 * to a token request, the only bodies a caller reads whole; the first
 * HTTP_MAX_SHOWN_BODY bytes of any other (an error document, a page, what
 * a report may show).
 */
static size_t body_keep(const struct xfer *x)
{
	long status = 0;
	size_t keep;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300 &&
	    (x->req->secret_answer || !strcmp(x->req->method, "GET")))
		keep = x->resp->body.max;
	else
		keep = x->resp->body.max < HTTP_MAX_SHOWN_BODY ? x->resp->body.max : HTTP_MAX_SHOWN_BODY;
	return x->req->keep_max && x->req->keep_max < keep ? x->req->keep_max : keep;
}

/* Keeps what body_keep says and drops the rest as it streams by; past the cap the transfer ends. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	struct http_response *r = x->resp;
	size_t len = size * nmemb, kept = 0;

	if (!x->keep)
		x->keep = body_keep(x);
	if (len > r->body.max - r->body.len - r->body_dropped) {
		r->failure = HTTP_BODY_TOO_LARGE;
		return 0;
	}
	if (r->body.len < x->keep)
		kept = len < x->keep - r->body.len ? len : x->keep - r->body.len;
	if (kept && buf_add(&r->body, data, kept) < 0) {
		r->failure = HTTP_BODY_TOO_LARGE;
		return 0;
	}
	r->body_dropped += len - kept;
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
	struct http_header *h;

	r->header_bytes += len;
	if (r->header_bytes > HTTP_MAX_HEADER_BYTES) {
		r->failure = HTTP_HEADERS_TOO_LARGE;
		return 0;
	}
	if (len >= 5 && !memcmp(data, "HTTP/", 5)) {
		clear_headers(r);
		http_tls_note(x->easy, r);
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
	h = &r->headers[r->nr_headers++];
	h->name = xmalloc(name_len + 1 + value_len + 1);
	memcpy(h->name, data, name_len);
	h->name[name_len] = '\0';
	h->value = h->name + name_len + 1;
	memcpy(h->value, value, value_len);
	h->value[value_len] = '\0';
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

/* The first of names set in the environment, or NULL: the proxy libcurl would take. */
static const char *proxy_var(const char *const *names)
{
	size_t i;

	for (i = 0; names[i]; i++)
		if (env_nonempty(names[i]))
			return names[i];
	return NULL;
}

char *http_proxy_for(const char *url, const char **var)
{
	static const char *const http_vars[] = { "http_proxy", "all_proxy", "ALL_PROXY", NULL };
	static const char *const https_vars[] = { "https_proxy", "HTTPS_PROXY", "all_proxy",
						  "ALL_PROXY", NULL };
	const char *name = proxy_var(!strncasecmp(url, "https://", 8) ? https_vars : http_vars);
	const char *no = env_nonempty("no_proxy");
	CURLU *h = NULL;
	char *host = NULL, *out = NULL;

	*var = NULL;
	if (!name)
		return NULL; /* no proxy: no_proxy does not matter */
	h = curl_url();
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
	*var = name;
	out = url_redact_userinfo(getenv(name));
done:
	curl_free(host);
	curl_url_cleanup(h);
	return out;
}

static int check_pair(const char *cert, const char *key, const char *cert_name,
		      const char *key_name, char **why)
{
	BIO *cb = BIO_new_file(cert, "r"), *kb = BIO_new_file(key, "r");
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, (void *)"") : NULL;
	int ret = -1;

	if (!x)
		*why = xstrfmt("%s %s is not a readable PEM certificate (with %s %s)", cert_name, cert,
			       key_name, key);
	else if (!k)
		*why = xstrfmt("%s %s is not a readable, unencrypted PEM private key (for %s %s)",
			       key_name, key, cert_name, cert);
	else if (X509_check_private_key(x, k) != 1)
		*why = xstrfmt("%s %s and %s %s do not match: the key is not the certificate's",
			       cert_name, cert, key_name, key);
	else
		ret = 0;
	ERR_clear_error();
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(cb);
	BIO_free(kb);
	return ret;
}

int http_check_client_pair(const char *cert, const char *key, char **why)
{
	return check_pair(cert, key, "--cert", "--key", why);
}

int http_check_tls_files(const struct tls_files *f, char **why)
{
	const char *paths[] = { f->ca_file, f->cert, f->key };
	const char *names[] = { f->ca_name, f->cert_name, f->key_name };
	size_t i;
	int err;

	for (i = 0; i < 3; i++) {
		if (paths[i] && (err = path_readable(paths[i])) != 0) {
			*why = xstrfmt("cannot read %s '%s': %s", names[i], paths[i], strerror(err));
			return -1;
		}
	}
	if (f->cert && f->key)
		return check_pair(f->cert, f->key, f->cert_name, f->key_name, why);
	return 0;
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

/*
 * Whether a request sets nothing in its easy handle beyond what
 * per_request() sets for every request: a GET or HEAD without a body,
 * through the proxy libcurl picks.
 */
static int is_plain(const struct http_request *req, int direct)
{
	return !direct && !req->body &&
	       (!strcmp(req->method, "HEAD") || !strcmp(req->method, "GET"));
}

/*
 * A spare easy handle or a new one. *base is set when the handle holds
 * the engine's options already (base_options) and needs only
 * per_request(): its last request and the next one are both plain.
 * Otherwise a spare is reset to libcurl's defaults first (a HEAD's
 * NOBODY, say, would outlive a POST's fields).
 */
static CURL *easy_handle(struct engine *e, int plain, int *base)
{
	struct spare sp = { NULL, 0 };

	pthread_mutex_lock(&e->spare_lock);
	if (e->nr_spare)
		sp = e->spare[--e->nr_spare];
	pthread_mutex_unlock(&e->spare_lock);
	*base = sp.easy && sp.plain && plain;
	if (sp.easy && !*base)
		curl_easy_reset(sp.easy);
	if (!sp.easy)
		sp.easy = curl_easy_init();
	if (!sp.easy)
		xdie("cannot create a libcurl handle");
	return sp.easy;
}

/* The options that are the same for every request of the engine. */
static int base_options(CURL *c, const struct engine_options *o, char **why)
{
	SETOPT(c, CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SETOPT(c, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(c, CURLOPT_NOSIGNAL, 1L);
	/* preferences, not safeguards: a libcurl without HTTP/2 or zlib still works */
	(void)curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	SETOPT(c, CURLOPT_USERAGENT, "ocidoctor/" OCIDOCTOR_VERSION);
	(void)curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	SETOPT(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body);
	SETOPT(c, CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(c, CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(c, CURLOPT_DEBUGFUNCTION, on_debug);
	if (o->ca_file)
		SETOPT(c, CURLOPT_CAINFO, o->ca_file);
	if (o->cert)
		SETOPT(c, CURLOPT_SSLCERT, o->cert);
	if (o->key)
		SETOPT(c, CURLOPT_SSLKEY, o->key);
	if (o->insecure) {
		SETOPT(c, CURLOPT_SSL_VERIFYPEER, 0L);
		SETOPT(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return 0;
fail:
	return -1;
}

/* The options of this request; a plain one sets nothing else. */
static int per_request(CURL *c, struct xfer *x, long remaining, int direct, char **why)
{
	int https = !strncasecmp(x->req->url, "https:", 6);

	SETOPT(c, CURLOPT_URL, x->req->url);
	if (set_method(c, x->req, why) < 0)
		goto fail;
	SETOPT(c, CURLOPT_HTTPHEADER, x->req->headers);
	if (direct)
		SETOPT(c, CURLOPT_NOPROXY, "*");
	else
		x->resp->proxy = http_proxy_for(x->req->url, &x->resp->proxy_var);
	/* the TLS handshake is all on_debug looks at: over plain HTTP, verbose costs for nothing */
	SETOPT(c, CURLOPT_VERBOSE, (long)https);
	/*
	 * Over https, wait for a connection being set up to the host rather
	 * than open another, in case it speaks HTTP/2 (a preference). Never
	 * over plain HTTP, which is HTTP/1.1 here (CURL_HTTP_VERSION_2TLS):
	 * there the wait could only end with the other request, answered or
	 * not, and a request never answered would hold up every other.
	 */
	(void)curl_easy_setopt(c, CURLOPT_PIPEWAIT, (long)https);
	SETOPT(c, CURLOPT_DEBUGDATA, x);
	SETOPT(c, CURLOPT_TIMEOUT_MS, remaining);
	SETOPT(c, CURLOPT_CONNECTTIMEOUT_MS, remaining < 10000 ? remaining : 10000L);
	SETOPT(c, CURLOPT_ERRORBUFFER, x->errbuf);
	SETOPT(c, CURLOPT_WRITEDATA, x);
	SETOPT(c, CURLOPT_HEADERDATA, x);
	SETOPT(c, CURLOPT_PRIVATE, x);
	return 0;
fail:
	return -1;
}

/* An easy handle set up for x, or NULL with *why (newly allocated). */
static CURL *make_easy(struct engine *e, struct xfer *x, long remaining, char **why)
{
	int base, direct;
	CURL *c;

	/*
	 * Our own check first, libcurl's protocol list the second. The
	 * scheme is all it looks at: every URL sent was built from the
	 * registry's parsed base or resolved by url_resolve, and libcurl
	 * refuses a malformed one.
	 */
	if (strncasecmp(x->req->url, "http://", 7) && strncasecmp(x->req->url, "https://", 8)) {
		*why = xstrdup("not an http or https URL; not sent");
		return NULL;
	}
	/* credentials allowed over plain HTTP only because the host is loopback go direct */
	direct = carries_credentials(x->req) && url_is_plain_loopback(x->req->url);
	x->plain = is_plain(x->req, direct);
	x->req_has_cert = e->opts.cert != NULL;
	c = easy_handle(e, x->plain, &base);
	if ((!base && base_options(c, &e->opts, why) < 0) ||
	    per_request(c, x, remaining, direct, why) < 0) {
		curl_easy_cleanup(c);
		return NULL;
	}
	return c;
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

static void live_add(struct engine *e, struct xfer *x)
{
	x->live_prev = NULL;
	x->live_next = e->live;
	if (e->live)
		e->live->live_prev = x;
	e->live = x;
}

static void live_remove(struct engine *e, struct xfer *x)
{
	if (x->live_prev)
		x->live_prev->live_next = x->live_next;
	else
		e->live = x->live_next;
	if (x->live_next)
		x->live_next->live_prev = x->live_prev;
}

/*
 * Called by the driver when libcurl reports a transfer finished, or when
 * the driver ends it (took_ms then says how long it ran; else -1).
 */
static void finish(struct engine *e, CURL *c, CURLcode code, long took_ms)
{
	struct batch *b;
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
	r->duration_ms = took_ms >= 0 ? took_ms : (long)(total_us / 1000);
	if (code != CURLE_OK)
		describe_failure(x, code);
	curl_multi_remove_handle(e->multi, c);
	x->easy = NULL;
	live_remove(e, x);

	pthread_mutex_lock(&e->spare_lock);
	if (e->nr_spare < ENGINE_SPARE_HANDLES) {
		e->spare[e->nr_spare].easy = c; /* kept for reuse */
		e->spare[e->nr_spare++].plain = x->plain;
		c = NULL;
	}
	pthread_mutex_unlock(&e->spare_lock);
	curl_easy_cleanup(c);

	b = x->batch; /* x is the sender's, and may be gone once b is unlocked */
	pthread_mutex_lock(&b->lock);
	if (--b->left == 0)
		pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

/*
 * Takes the transfers handed over since the driver last looked. With
 * none, the driver will sleep: it marks itself polling, so that the next
 * sender wakes it; a sender that hands work over while the driver runs
 * need not, because the driver looks again before it sleeps.
 */
static struct xfer *take_pending(struct engine *e)
{
	struct xfer *list;

	pthread_mutex_lock(&e->lock);
	list = e->pending;
	e->pending = NULL;
	e->polling = !list;
	pthread_mutex_unlock(&e->lock);
	return list;
}

/*
 * How long the driver may sleep: until libcurl's timer or the next
 * overdue check, at most a second, else until woken.
 */
static int wait_ms(const struct engine *e)
{
	long left, until = e->timer_at;

	if (e->overdue_at >= 0 && (until < 0 || e->overdue_at < until))
		until = e->overdue_at;
	if (until < 0)
		return 1000;
	left = until - clock_now_ms();
	return left <= 0 ? 0 : left < 1000 ? (int)left : 1000;
}

static void reap(struct engine *e)
{
	CURLMsg *msg;
	int queued;

	while ((msg = curl_multi_info_read(e->multi, &queued)))
		if (msg->msg == CURLMSG_DONE)
			finish(e, msg->easy_handle, msg->data.result, -1);
}

/*
 * Ends at once the transfers in libcurl that are cancelled (under
 * multi_lock): every one after engine_cancel, those of cancelled runs
 * after engine_cancel_run. Looks at the list only when one of them was
 * called since it last looked, or a transfer of a cancelled run went in.
 */
static void cut_off(struct engine *e)
{
	int all = atomic_load(&e->cancelled);
	struct xfer *x, *after;

	if (!all && !atomic_exchange(&e->runs_cancelled, 0))
		return;
	for (x = e->live; x; x = after) {
		after = x->live_next; /* live, so its sender is still waiting for it */
		if (!all && !cancel_is_set(x->batch->cancel))
			continue;
		snprintf(x->errbuf, sizeof(x->errbuf), all ? "cancelled: the program is stopping" :
			 "cancelled: the run that sent this request was called off");
		finish(e, x->easy, CURLE_ABORTED_BY_CALLBACK, -1);
	}
}

/* Tells libcurl what epoll saw. */
static void dispatch(struct engine *e, const struct epoll_event *evs, int n)
{
	int i, running;

	for (i = 0; i < n; i++) {
		int fd = evs[i].data.fd, mask = 0;
		uint64_t count;

		if (fd == e->wake_fd) {
			if (read(e->wake_fd, &count, sizeof(count)) < 0) {
				/* EAGAIN: another read took it */
			}
			continue;
		}
		if (evs[i].events & EPOLLIN)
			mask |= CURL_CSELECT_IN;
		if (evs[i].events & EPOLLOUT)
			mask |= CURL_CSELECT_OUT;
		if (evs[i].events & (EPOLLERR | EPOLLHUP))
			mask |= CURL_CSELECT_ERR;
		curl_multi_socket_action(e->multi, fd, mask, &running);
	}
}

/* Puts transfers into the multi handle (under multi_lock). */
static void add_transfers(struct engine *e, struct xfer *x)
{
	for (; x; x = x->next) {
		long at = x->deadline_at + ENGINE_DEADLINE_SLACK_MS;

		if (e->overdue_at < 0 || at < e->overdue_at)
			e->overdue_at = at;
		live_add(e, x);
		curl_multi_add_handle(e->multi, x->easy); /* sets the timer to now */
		if (cancel_is_set(x->batch->cancel))
			atomic_store(&e->runs_cancelled, 1); /* cancelled since it was handed over */
	}
}

/*
 * Ends, as timed out, every transfer in libcurl that is past its
 * deadline by ENGINE_DEADLINE_SLACK_MS (under multi_lock): whatever it
 * waits for, a transfer ends by its batch's deadline. Looks only once
 * the earliest such time has come (overdue_at), and sets the next.
 */
static void expire_overdue(struct engine *e)
{
	long now = clock_now_ms(), next = -1, took;
	struct xfer *x, *after;

	if (e->overdue_at < 0 || now < e->overdue_at)
		return;
	for (x = e->live; x; x = after) {
		long at = x->deadline_at + ENGINE_DEADLINE_SLACK_MS;

		after = x->live_next; /* finish() unlinks x, and its sender may free it */
		if (at > now) {
			next = next < 0 || at < next ? at : next;
			continue;
		}
		took = now - (x->deadline_at - x->budget_ms);
		snprintf(x->errbuf, sizeof(x->errbuf),
			 "Operation timed out after %ld milliseconds: no answer by the request's deadline "
			 "(it still waited for the server, or for a connection to the host that another "
			 "request holds)", took);
		finish(e, x->easy, CURLE_OPERATION_TIMEDOUT, took);
	}
	e->overdue_at = next;
}

/* Runs libcurl's timer when it is due (under multi_lock). */
static void run_timer(struct engine *e)
{
	int running;

	if (e->timer_at >= 0 && e->timer_at <= clock_now_ms()) {
		e->timer_at = -1;
		curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
}

/*
 * Runs libcurl for every transfer handed over, anyone's, until the
 * driver's own are done; returns with multi_lock held, for hand_over.
 * `left` is written only under multi_lock, so the driver reads its own
 * under that lock alone. Finished transfers are reaped after every
 * action, before sleeping, so no sender waits on a timeout.
 */
static void drive(struct engine *e, struct batch *mine)
{
	struct epoll_event evs[ENGINE_EVENTS];
	int n, wait;

	pthread_mutex_lock(&e->multi_lock);
	e->driver_batch = mine;
	for (;;) {
		struct xfer *x;

		run_timer(e);
		reap(e);
		cut_off(e);
		expire_overdue(e);
		if (!mine->left)
			break;
		x = take_pending(e);
		if (x) {
			add_transfers(e, x);
			continue;
		}
		wait = wait_ms(e);
		e->sleep_until = clock_now_ms() + wait;
		pthread_mutex_unlock(&e->multi_lock);
		n = epoll_wait(e->epfd, evs, ENGINE_EVENTS, wait);
		pthread_mutex_lock(&e->multi_lock);
		if (n > 0) {
			dispatch(e, evs, n);
			reap(e);
		}
	}
	e->driver_batch = NULL;
}

/*
 * Called by a sender that holds multi_lock while the driver sleeps:
 * starts the sender's transfers itself (libcurl connects or sends at
 * once), and wakes the driver only if it must look sooner than it
 * would by itself: its own transfers ended here, or libcurl's timer is
 * now due before the driver wakes.
 */
static void start_beside_driver(struct engine *e, struct xfer *list)
{
	add_transfers(e, list);
	run_timer(e);
	reap(e);
	if ((e->driver_batch && !e->driver_batch->left) || atomic_load(&e->runs_cancelled) ||
	    (e->timer_at >= 0 && e->timer_at < e->sleep_until) ||
	    (e->overdue_at >= 0 && e->overdue_at < e->sleep_until))
		wake_driver(e);
}

/* Offers the wheel to b's sender; returns whether it took it (its transfers still run). */
static int offer_wheel(struct batch *b)
{
	int taken;

	pthread_mutex_lock(&b->lock);
	taken = b->left > 0;
	if (taken) {
		b->wheel = 1;
		pthread_cond_signal(&b->cond);
	}
	pthread_mutex_unlock(&b->lock);
	return taken;
}

/*
 * Called with multi_lock and the lock held by a driver whose transfers
 * are done: the sender of a transfer still in libcurl, or still
 * pending, takes the wheel (every such sender waits in engine_send).
 * With none, nothing runs, and the next sender drives.
 */
static void hand_over(struct engine *e)
{
	struct xfer *x;

	e->polling = 0;
	for (x = e->live; x; x = x->live_next)
		if (offer_wheel(x->batch))
			return;
	for (x = e->pending; x; x = x->next)
		if (offer_wheel(x->batch))
			return;
	e->driving = 0;
}

/* Drives until b's transfers are done, then lets the wheel go. */
static void drive_and_hand_over(struct engine *e, struct batch *b)
{
	drive(e, b);
	pthread_mutex_lock(&e->lock);
	hand_over(e);
	pthread_mutex_unlock(&e->lock);
	pthread_mutex_unlock(&e->multi_lock);
}

/*
 * Called with the engine's lock held, the batch's transfers handed over;
 * returns with the lock let go and the transfers done, having driven,
 * started them beside a sleeping driver or poked it, and slept meanwhile.
 * While the driver sleeps, the only transfers pending are the caller's:
 * every sender since it looked has started its own or woken it.
 */
static void await(struct engine *e, struct batch *b)
{
	int wheel;

	if (!e->driving) {
		e->driving = 1;
		pthread_mutex_unlock(&e->lock);
		drive_and_hand_over(e, b);
		return;
	}
	if (e->polling && !pthread_mutex_trylock(&e->multi_lock)) {
		struct xfer *list = e->pending;

		e->pending = NULL;
		pthread_mutex_unlock(&e->lock);
		start_beside_driver(e, list);
		pthread_mutex_unlock(&e->multi_lock);
	} else if (e->polling) {
		e->polling = 0; /* one wake-up serves every sender until the driver looks again */
		pthread_mutex_unlock(&e->lock);
		wake_driver(e);
	} else {
		pthread_mutex_unlock(&e->lock);
	}
	pthread_mutex_lock(&b->lock);
	while (b->left && !b->wheel)
		pthread_cond_wait(&b->cond, &b->lock);
	wheel = b->wheel;
	pthread_mutex_unlock(&b->lock);
	if (wheel)
		drive_and_hand_over(e, b); /* the driver set `driving` for us */
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
		 struct http_response *const *resps, size_t n, long deadline,
		 const struct cancel *cancel, long *depth)
{
	struct xfer *xs = xcalloc(n ? n : 1, sizeof(*xs));
	long remaining = cancel_is_set(cancel) ? 0 : engine_remaining_ms(e, deadline);
	struct batch batch = { .left = 0, .cancel = cancel };
	size_t i;

	pthread_mutex_init(&batch.lock, NULL);
	pthread_cond_init(&batch.cond, NULL);
	for (i = 0; i < n; i++) {
		xs[i].req = reqs[i];
		xs[i].resp = resps[i];
		xs[i].batch = &batch;
		xs[i].budget_ms = remaining;
		xs[i].deadline_at = clock_now_ms() + remaining;
		http_response_init(resps[i], e->opts.max_body);
		if (reqs[i]->secret_answer)
			buf_init_secret(&resps[i]->body, e->opts.max_body);
		if (remaining <= 0) {
			resps[i]->failure = HTTP_DEADLINE;
			resps[i]->error = xstrdup(atomic_load(&e->cancelled) ?
				"cancelled before this request was sent: the program is stopping" :
				cancel_is_set(cancel) ?
				"cancelled before this request was sent: its run was called off" :
				"the run's deadline passed before this request was sent");
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
		await(e, &batch);
	else
		pthread_mutex_unlock(&e->lock);
	pthread_cond_destroy(&batch.cond);
	pthread_mutex_destroy(&batch.lock);

	if (remaining > 0 && n && depth)
		(*depth)++;
	for (i = 0; i < n; i++)
		engine_trace(e, reqs[i], resps[i]);
	free(xs);
}

void http_answer_facts(const struct http_response *r, long long *not_after_out, char version[12],
		       long long *date, long long *received_at, long *token_lifetime_s)
{
	const char *d = http_header_get(r, "Date");
	time_t t = d ? curl_getdate(d, NULL) : -1;

	*not_after_out = r->tls_not_after;
	memcpy(version, r->tls_version, 12);
	version[11] = '\0';
	*date = t > 0 ? (long long)t : 0;
	*received_at = r->received_at;
	*token_lifetime_s = r->token_lifetime_s;
}
