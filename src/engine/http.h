/*
 * http: the transport under every request ocidoctor makes.
 *
 * One engine owns one libcurl multi handle. Any thread may hand it
 * requests with engine_send(), which returns once every request it handed
 * over has finished. So checks are written as straight-line code while
 * all their requests share one multi handle: one connection pool, one DNS
 * cache, HTTP/2 multiplexing where the server offers it. There is no loop
 * thread: while a sender waits, either it drives the multi handle for
 * everyone (one sender at a time), or it sleeps until the driver has
 * finished its requests or hands it the wheel.
 *
 * Every response body is capped (engine_options.max_body) and so is the
 * header block (HTTP_MAX_HEADER_BYTES); going over either ends that
 * transfer with an error, never with unbounded memory. Only the bodies
 * callers read whole are kept whole: a 2xx answer to a GET (a manifest,
 * an index, a listing) or to a token request. Of any other answer (an
 * error, a redirect, a 2xx to HEAD, PUT, POST, PATCH, DELETE or OPTIONS)
 * the first HTTP_MAX_SHOWN_BODY bytes are kept and the rest is read and
 * dropped as it arrives (http_response.body_dropped counts it). Redirects are not
 * followed here: the registry layer follows them itself, so that it can
 * decide per hop whether credentials may go along.
 *
 * Threading contract:
 *  - any thread may call engine_send at any time, and calls from
 *    different threads run side by side on one multi handle; libcurl
 *    handles are touched only by the sender that drives at the time, or
 *    by a sender that starts its own transfers while the driver sleeps
 *    (one lock keeps the two apart);
 *  - engine_send blocks its caller until every request it handed over has
 *    finished (answered, failed, or cut off by its deadline: a transfer
 *    libcurl has not ended 0.1 s past its deadline, one waiting for
 *    another's connection say, the driver ends itself);
 *  - requests and their headers and bodies are the caller's and only
 *    borrowed until engine_send returns; responses are filled in by the
 *    driver and belong to the caller once engine_send returns (the caller
 *    releases them, from any thread);
 *  - engine_opts, engine_remaining_ms, engine_cancel, engine_cancel_run,
 *    engine_pause, engine_trace, http_proxy_for and
 *    the http_response_* and http_header* functions may be called from
 *    any thread; engine_new and engine_free from one thread, with no
 *    engine_send running;
 *  - nothing here is per thread: the round-trip depth is the caller's
 *    counter, passed to engine_send.
 *
 * Proxies are libcurl's, from the environment (http_proxy, https_proxy or
 * HTTPS_PROXY, all_proxy or ALL_PROXY, no_proxy or NO_PROXY), with one
 * exception: a request that carries a credential over plain HTTP (which
 * only a loopback host may receive) never goes through a proxy.
 */
#ifndef OCIDOCTOR_HTTP_H
#define OCIDOCTOR_HTTP_H

#include "util/buf.h"

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdio.h>

#define HTTP_MAX_HEADER_BYTES ((size_t)100 * 1024)
#define HTTP_DEFAULT_MAX_BODY ((size_t)4 * 1024 * 1024)
/* What is kept of a body no caller reads whole: an error document, a page. */
#define HTTP_MAX_SHOWN_BODY ((size_t)64 * 1024)

struct engine;

/*
 * One run's own cancellation, beside the engine's (engine_cancel): a
 * flag the run owns and hands to every engine_send and engine_pause it
 * makes. Once engine_cancel_run has set it, the transfers of the batches
 * that carry it end at once, later ones fail before they are sent, and
 * their pauses return; the other runs on the engine go on. Zeroed (or
 * cancel_init) before use; it must outlive every call that carries it.
 */
struct cancel {
	atomic_int cancelled;
};

struct engine_options {
	long timeout_ms;      /* deadline of the whole run, from engine_new */
	size_t max_body;      /* cap on each response body */
	const char *ca_file;  /* extra CA bundle (PEM), or NULL for the system's */
	const char *cert;     /* client certificate (PEM), or NULL */
	const char *key;      /* its key (PEM), or NULL */
	int insecure;         /* skip TLS verification */
	FILE *trace;          /* when not NULL, every exchange is written here, secrets redacted */
};

/* One allocation: value points into name's block, so only name is freed. */
struct http_header {
	char *name;
	char *value;
};

/* Why a transfer failed beyond what curl_code says. */
enum http_failure {
	HTTP_OK = 0,
	HTTP_BODY_TOO_LARGE,
	HTTP_HEADERS_TOO_LARGE,
	HTTP_DEADLINE,        /* the run's deadline had passed before it was sent */
	HTTP_TRANSPORT        /* see curl_code / error */
};

struct http_request {
	const char *method;              /* "GET", "HEAD", "POST", ... */
	const char *url;                 /* absolute */
	const struct curl_slist *headers; /* owned by the caller; may be NULL */
	const char *body;                /* NULL for none */
	size_t body_len;
	int credentials;                 /* carries a credential (in a header or the body); an
	                                    Authorization header counts without it */
	int secret_answer;               /* the body will hold a secret (a token): kept in a
	                                    buffer that is wiped as it grows */
	const char *origin;              /* the registry's origin: the trace shows URLs
	                                    elsewhere without their query (see url_for_display) */
	size_t keep_max;                 /* keep at most this much of the body, whatever the
	                                    answer (the rest is read and dropped); 0: the rule
	                                    above */
};

struct http_response {
	long status;                 /* 0 when no response arrived */
	int http_version;            /* 1 or 2; 0 when unknown */
	struct buf body;
	size_t body_dropped;         /* bytes of the body read and not kept (see the top) */
	struct http_header *headers; /* of the last response, in order */
	size_t nr_headers, alloc_headers;
	size_t header_bytes;
	enum http_failure failure;
	CURLcode curl_code;
	long tls_verify_result;      /* OpenSSL X509 verify code when TLS verification failed */
	long os_errno;               /* errno of a failed connect, or 0 */
	char *error;                 /* readable transport error, or NULL */
	char *primary_ip;            /* the address connected to, or NULL */
	long duration_ms;
	char *proxy;                 /* the proxy the request went through (user information
	                                redacted), or NULL for a direct connection */
	const char *proxy_var;       /* the environment variable that named it */
	int client_cert_wanted;      /* the TLS handshake failed after the server asked for a
	                                client certificate, and none was configured */
	/* what the answer's connection and headers tell at no extra cost (http_tls.c) */
	long long tls_not_after;     /* earliest notAfter of the certificates the server sent,
	                                Unix time; 0 over plain HTTP or when unknown */
	char tls_version[12];        /* "TLS 1.3", ...; "" over plain HTTP or when unknown */
	long long received_at;       /* wall clock (Unix time) when the status line arrived; 0: none */
	long token_lifetime_s;       /* a token answer: the token's lifetime (auth/token.c); 0: none */
};

/*
 * http_tls.c: notes the TLS facts of the connection a response arrives on
 * (called when its status line arrives, while libcurl still holds the
 * connection): the earliest notAfter of the server's chain, the version,
 * and the wall clock.
 */
void http_tls_note(CURL *easy, struct http_response *r);
/* Copies a response's facts out, its Date header parsed (0 when absent or unreadable). */
void http_answer_facts(const struct http_response *r, long long *not_after, char version[12],
		       long long *date, long long *received_at, long *token_lifetime_s);

int engine_new(struct engine **out, const struct engine_options *opts);
void engine_free(struct engine *e);

/*
 * Performs the n requests concurrently and waits for all of them, each
 * limited by `deadline` (a clock_now_ms() point, util/clock.h; 0 means
 * the engine's own deadline) and by `cancel` (the run's cancellation, or
 * NULL for none: see struct cancel). resps[i] must be zeroed or released;
 * each is filled in (and must be released with http_response_release).
 *
 * Round trips: *depth (when depth is not NULL) is the length of the
 * caller's chain of dependent requests; a call that sent something adds
 * one to it (its requests run at the same time, so they cost one round
 * trip together). The caller owns the counter and passes it along its
 * own call context (engine/registry.h: the evidence log); the engine
 * keeps nothing per thread.
 */
void engine_send(struct engine *e, const struct http_request *const *reqs,
		 struct http_response *const *resps, size_t n, long deadline,
		 const struct cancel *cancel, long *depth);

/* Milliseconds left before `deadline` (0: the engine's deadline); never negative,
 * and 0 once the engine is cancelled. */
long engine_remaining_ms(const struct engine *e, long deadline);

/*
 * Cancels everything on the engine, for good (a server that stops): the
 * transfers in flight end within a moment with an error, later ones fail
 * before they are sent, and engine_pause returns. Any thread, any time.
 */
void engine_cancel(struct engine *e);
/*
 * Cancels one run (a scrape whose client went away): sets c, ends at
 * once the transfers of e's batches that carry it, and wakes its pauses.
 * Other batches on e are untouched. Any thread, any time, more than once.
 */
void engine_cancel_run(struct engine *e, struct cancel *c);
void cancel_init(struct cancel *c);
/* Whether c (NULL: never) has been set by engine_cancel_run. */
int cancel_is_set(const struct cancel *c);
/* Sleeps ms milliseconds, or until the engine or the run (cancel, may be NULL) is cancelled. */
void engine_pause(struct engine *e, long ms, const struct cancel *cancel);
const struct engine_options *engine_opts(const struct engine *e);

/* Writes one exchange to the trace, if tracing is on. */
void engine_trace(struct engine *e, const struct http_request *req,
		  const struct http_response *resp);

/*
 * The proxy libcurl takes from the environment for url, the way libcurl
 * chooses it (no_proxy, then http_proxy for http or https_proxy for https,
 * then all_proxy; lower case first): a newly allocated URL with its user
 * information redacted, and *var set to the variable's name; NULL for a
 * direct connection.
 */
char *http_proxy_for(const char *url, const char **var);

/*
 * Checks a client certificate and key with OpenSSL before anything is
 * sent: both readable PEM, and the key the certificate's. Returns 0, or -1
 * with a newly allocated one-line *why naming both files.
 */
int http_check_client_pair(const char *cert, const char *key, char **why);

/*
 * The TLS files a front end was given, with the names its user wrote them
 * under ("--ca-file" on the command line, "ca_file" in a serve module):
 * each readable, and the certificate and key a pair. One check, so that
 * run, matrix and serve refuse the same files with the same words.
 */
struct tls_files {
	const char *ca_file, *cert, *key;             /* NULL when not given */
	const char *ca_name, *cert_name, *key_name;
};

/* Returns 0, or -1 with a newly allocated one-line *why. */
int http_check_tls_files(const struct tls_files *f, char **why);

/* Wipes every entry of a header list (its Authorization copy) and frees the list. */
void http_headers_free(struct curl_slist *headers);

/* Wipes a response's body (a token answer) before releasing it. */
void http_response_release_secret(struct http_response *r);

void http_response_init(struct http_response *r, size_t max_body);
void http_response_release(struct http_response *r);

/* Case-insensitive lookup of the last header with this name, or NULL. */
const char *http_header_get(const struct http_response *r, const char *name);

/* The response's media type without parameters, lower-cased into out (size n). */
void http_content_type(const struct http_response *r, char *out, size_t n);

#endif
