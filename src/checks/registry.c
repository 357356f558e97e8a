/*
 * check.integration.oci.registry: is there an OCI registry API at the
 * URL, and can we talk to it?
 *
 * One anonymous GET /v2/. A 200 means the API is there and open; a 401
 * with a well-formed challenge means it is there and wants credentials.
 * A connection that fails is named by its cause (DNS, refused, timeout,
 * TLS verification and which certificate problem, protocol error), since
 * each has a different fix. The response is kept in the run's facts so
 * no other check repeats the request.
 */
#include "checks/check.h"
#include "checks/verdict.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const tags[] = { "registry", "oci", "connectivity", NULL };

/* What OpenSSL says when the other end answers a ClientHello in plain HTTP. */
static int plain_http_answer(const struct http_response *r)
{
	static const char *const signs[] = { "wrong version number", "packet length too long",
					     "record layer failure", NULL };
	size_t i;

	for (i = 0; r->error && signs[i]; i++)
		if (strstr(r->error, signs[i]))
			return 1;
	return 0;
}

/* The cause of a failed connection, as a remediation key and a message. */
static const char *transport_cause(const struct http_response *r, struct buf *msg,
				   const char *host)
{
	if (r->client_cert_wanted) {
		buf_addf(msg, "TLS handshake failed: %s", r->error);
		return "tls-handshake";
	}
	if (r->proxy && (r->curl_code == CURLE_COULDNT_CONNECT ||
			 r->curl_code == CURLE_COULDNT_RESOLVE_PROXY)) {
		buf_addf(msg, "cannot reach the proxy %s (from %s), not the registry: %s", r->proxy,
			 r->proxy_var,
			 r->curl_code == CURLE_COULDNT_RESOLVE_PROXY ? "its host name does not resolve" :
			 r->os_errno == ECONNREFUSED ? "connection refused" : r->error);
		return "proxy";
	}
	if (r->curl_code == CURLE_SSL_CONNECT_ERROR && !strncmp(host, "https://", 8) &&
	    plain_http_answer(r)) {
		buf_addf(msg, "the server at %s speaks plain HTTP, not TLS (%s): use http://%s or --plain-http",
			 host, r->error, host + 8);
		return "plain-http";
	}
	switch (r->curl_code) {
	case CURLE_COULDNT_RESOLVE_HOST:
		buf_addf(msg, "cannot resolve the host name %s", host);
		return "dns";
	case CURLE_COULDNT_RESOLVE_PROXY:
		buf_addf(msg, "cannot resolve the proxy: %s", r->error);
		return "proxy";
	case CURLE_COULDNT_CONNECT:
		if (r->os_errno == ECONNREFUSED) {
			buf_addf(msg, "connection refused: nothing listens at %s", host);
			return "refused";
		}
		buf_addf(msg, "cannot connect: %s", r->error);
		return "unreachable";
	case CURLE_OPERATION_TIMEDOUT:
		buf_addf(msg, "timed out: %s", r->error);
		return "timeout";
	case CURLE_PEER_FAILED_VERIFICATION:
		if (r->tls_verify_result)
			buf_addf(msg, "TLS certificate verification failed: %s",
				 X509_verify_cert_error_string(r->tls_verify_result));
		else
			buf_addf(msg, "TLS certificate verification failed: %s", r->error);
		return "tls-verify";
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		buf_addf(msg, "a TLS file given to ocidoctor is unusable: %s", r->error);
		return "tls-files";
	case CURLE_SSL_CONNECT_ERROR:
		buf_addf(msg, "TLS handshake failed: %s", r->error);
		return "tls-handshake";
	default:
		break;
	}
	if (r->failure == HTTP_BODY_TOO_LARGE || r->failure == HTTP_HEADERS_TOO_LARGE) {
		buf_addf(msg, "protocol error: %s", r->error);
		return "protocol";
	}
	if (r->failure == HTTP_DEADLINE) {
		buf_adds(msg, r->error);
		return "timeout";
	}
	buf_addf(msg, "protocol error: %s", r->error ? r->error : "no response");
	return "protocol";
}

static const char *api_version(const struct http_response *r)
{
	const char *v = http_header_get(r, "OCI-Distribution-API-Version");

	return v ? v : http_header_get(r, "Docker-Distribution-API-Version");
}

static void add_details(struct check_ctx *ctx, const struct registry_call *call)
{
	const struct http_response *r = &call->resp;
	const char *h = http_header_get(r, "WWW-Authenticate");
	struct challenge c;
	char *shown = registry_display_url(ctx->registry, call->url);

	detail_str(ctx, "url", shown);
	free(shown);
	detail_bool(ctx, "tls", !strncmp(call->url, "https:", 6));
	detail_bool(ctx, "insecure", ctx->config->insecure);
	if (!r->status)
		return;
	detail_int(ctx, "httpStatus", r->status);
	detail_str(ctx, "httpVersion", r->http_version == 2 ? "HTTP/2" : "HTTP/1.1");
	detail_str(ctx, "apiVersion", api_version(r));
	if (h && challenge_parse(&c, h) == 0) {
		detail_str(ctx, "authScheme", c.scheme_name);
		detail_str(ctx, "realm", c.realm);
		challenge_release(&c);
	} else {
		detail_str(ctx, "authScheme", r->status == 200 ? "none" : NULL);
	}
}

/* A registry on HTTPS that sends clients to a token service on plain HTTP. */
static int plain_realm_behind_tls(const char *url, const struct challenge *c)
{
	return c->scheme == AUTH_BEARER && c->realm && !strncasecmp(url, "https:", 6) &&
	       !strncasecmp(c->realm, "http:", 5);
}

/* The <title> of an HTML page, cleaned and cut to 80 characters; newly allocated, or NULL. */
static char *page_title(const struct buf *body)
{
	char head[4096], low[4096];
	size_t i, n = body->len < sizeof(head) - 1 ? body->len : sizeof(head) - 1;
	char *start, *end, *title;

	memcpy(head, body->data ? body->data : "", n);
	head[n] = '\0';
	for (i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)head[i]);
	start = strstr(low, "<title>");
	end = start ? strstr(start + 7, "</title>") : NULL;
	if (!end)
		return NULL;
	start += 7;
	if (end - start > 80)
		end = start + 80;
	title = xstrfmt("%.*s", (int)(end - start), head + (start - low));
	text_sanitize(title);
	return title;
}

/*
 * A 200 that is a web page and not a registry: HTML (by Content-Type or
 * body) and no Docker-Distribution-API-Version header, as a portal or a
 * sign-in page in front of the registry answers /v2/.
 */
static int web_page(struct check_ctx *ctx, const struct http_response *r)
{
	char type[128];
	char *title;

	if (api_version(r))
		return 0;
	http_content_type(r, type, sizeof(type));
	if (!body_is_html(type, r->body.data ? r->body.data : "", r->body.len))
		return 0;
	title = page_title(&r->body);
	check_set(ctx, STATUS_FAIL, "not-registry",
		  "GET /v2/ answered 200 with an HTML page%s%s%s (%s) and no Docker-Distribution-API-Version header: a web page (a portal or sign-in page) answered, not a registry API",
		  title ? " titled '" : "", title ? title : "", title ? "'" : "",
		  type[0] ? type : "no Content-Type");
	free(title);
	return 1;
}

/* Go's net/http and nginx answer plain HTTP on a TLS port with a 400 that says so. */
static int tls_port_answer(const struct registry_call *call)
{
	const char *body = call->resp.body.data;

	return call->resp.status == 400 && !strncmp(call->url, "http://", 7) &&
	       (strstr(body, "HTTP request to an HTTPS server") ||
		strstr(body, "plain HTTP request was sent to HTTPS port"));
}

/* The leading number of a RateLimit-* value ("100;w=21600"), and its window; -1 when absent. */
static long rate_number(const char *v, long *window)
{
	const char *w;
	char *end;
	long n;

	*window = -1;
	if (!v)
		return -1;
	n = strtol(v, &end, 10);
	if (end == v || n < 0)
		return -1;
	w = strstr(end, "w=");
	if (w)
		*window = strtol(w + 2, NULL, 10);
	return n;
}

/* 429 on /v2/: when to try again and how much is left, from the answer's headers. */
static void rate_limited(struct check_ctx *ctx, const struct http_response *r)
{
	const char *retry = http_header_get(r, "Retry-After");
	long window = -1, lw, limit = rate_number(http_header_get(r, "RateLimit-Limit"), &lw);
	long left = rate_number(http_header_get(r, "RateLimit-Remaining"), &window);
	struct buf msg;
	char *clean = NULL;
	char *end = NULL;
	long secs = retry ? strtol(retry, &end, 10) : -1;

	buf_init(&msg, BUF_TEXT_MAX);
	buf_adds(&msg, "GET /v2/ answered 429: the registry is rate-limiting this client");
	if (retry && end != retry && !*end && secs >= 0) {
		buf_addf(&msg, "; retry in %ld s (Retry-After)", secs);
		detail_int(ctx, "retryAfterSeconds", secs);
	} else if (retry) {
		clean = xstrdup(retry);
		text_sanitize(clean);
		buf_addf(&msg, "; retry after %s (Retry-After)", clean);
	} else {
		buf_adds(&msg, "; it did not say when to retry (no Retry-After)");
	}
	if (window < 0)
		window = lw;
	if (left >= 0) {
		buf_addf(&msg, "; %ld", left);
		if (limit >= 0)
			buf_addf(&msg, " of %ld", limit);
		buf_adds(&msg, " requests left");
		if (window > 0 && window % 3600 == 0)
			buf_addf(&msg, " per %ld h", window / 3600);
		else if (window > 0)
			buf_addf(&msg, " per %ld s", window);
		buf_adds(&msg, " (RateLimit-Remaining)");
		detail_int(ctx, "rateLimitRemaining", left);
	}
	if (limit >= 0)
		detail_int(ctx, "rateLimitLimit", limit);
	if (window > 0)
		detail_int(ctx, "rateLimitWindowSeconds", window);
	check_set(ctx, STATUS_FAIL, "rate-limit", "%s", msg.data);
	free(clean);
	buf_release(&msg);
}

static void judge(struct check_ctx *ctx, const struct registry_call *call)
{
	const struct http_response *r = &call->resp;
	const char *h = http_header_get(r, "WWW-Authenticate");
	const char *insecure = ctx->config->insecure ? " (TLS verification skipped: --insecure)" : "";
	struct challenge c;

	if (r->status == 200 && web_page(ctx, r)) {
		return;
	} else if (r->status == 200) {
		check_set(ctx, STATUS_PASS, NULL, "registry API reachable, anonymous access allowed%s",
			  insecure);
	} else if (r->status == 401 && h && challenge_parse(&c, h) == 0) {
		if (!challenge_realm_usable(&c))
			check_set(ctx, STATUS_FAIL, "challenge",
				  "bad challenge: the registry's WWW-Authenticate realm '%s' is not an HTTP(S) URL, so no client can fetch a token",
				  c.realm);
		else if (plain_realm_behind_tls(call->url, &c))
			check_set(ctx, STATUS_WARN, "insecure-realm",
				  "registry API reachable over HTTPS, but its token service %s is plain HTTP: credentials and tokens would travel unencrypted",
				  c.realm);
		else
			check_set(ctx, STATUS_PASS, NULL,
				  "registry API reachable, authentication required (%s)%s",
				  c.scheme_name, insecure);
		challenge_release(&c);
	} else if (r->status == 401) {
		check_set(ctx, STATUS_FAIL, "challenge",
			  "GET /v2/ answered 401 %s",
			  h ? "with a malformed WWW-Authenticate header"
			    : "without a WWW-Authenticate header");
	} else if (r->status == 404) {
		check_set(ctx, STATUS_FAIL, "not-registry",
			  "GET /v2/ answered 404: no registry API at this URL");
	} else if (tls_port_answer(call)) {
		check_set(ctx, STATUS_FAIL, "tls-port",
			  "the server at %s speaks HTTPS on this port: it answered 400 to plain HTTP (\"client sent an HTTP request to an HTTPS server\"); use https://%s",
			  registry_url(ctx->registry)->base, registry_url(ctx->registry)->base + 7);
	} else if (r->status == 429) {
		rate_limited(ctx, r);
	} else {
		check_set(ctx, STATUS_FAIL, "status", "GET /v2/ answered %ld, expected 200 or 401",
			  r->status);
	}
}

static void run(struct check_ctx *ctx)
{
	struct registry_call call = { .method = "GET", .path = "/v2/", .anonymous = 1 };
	struct buf msg;
	const char *cause;

	registry_call(ctx->registry, ctx->log, &call);
	add_details(ctx, &call);
	if (call.error == REG_ERR_TRANSPORT || !call.resp.status) {
		buf_init(&msg, BUF_TEXT_MAX);
		cause = transport_cause(&call.resp, &msg, registry_url(ctx->registry)->base);
		detail_str(ctx, "cause", cause);
		check_set(ctx, STATUS_FAIL, cause, "%s", msg.data);
		buf_release(&msg);
		goto done;
	}
	judge(ctx, &call);
	/* a warning here is about the token service; the API itself answers */
	ctx->facts->reachable = ctx->result->status == STATUS_PASS ||
				ctx->result->status == STATUS_WARN;
	registry_learn(ctx->registry, &call.resp);
	ctx->facts->ping = xmalloc(sizeof(*ctx->facts->ping));
	*ctx->facts->ping = call.resp;
	http_response_init(&call.resp, 0);
done:
	registry_call_release(&call);
}

const struct check check_registry = {
	.id = "check.integration.oci.registry",
	.title = "OCI Registry Connectivity",
	.plugin = "stellaops.doctor.integration",
	.tags = tags,
	.severity = STATUS_FAIL,
	.deps = NULL,
	.summary = "GET /v2/ answers 200, or 401 with a well-formed authentication challenge",
	.run = run,
	.causes = (const char *const[]){ "status", "not-registry", "challenge", "refused", "unreachable", "dns", "proxy", "timeout", "tls-verify", "tls-files", "tls-handshake", "protocol", "insecure-realm", "plain-http", "tls-port", "rate-limit", NULL },
};
