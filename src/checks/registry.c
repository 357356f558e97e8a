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
#include "util/xalloc.h"

#include <errno.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

static const char *const tags[] = { "registry", "oci", "connectivity", NULL };

/* The cause of a failed connection, as a remediation key and a message. */
static const char *transport_cause(const struct http_response *r, struct buf *msg,
				   const char *host)
{
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

	detail_str(ctx, "url", call->url);
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

static void judge(struct check_ctx *ctx, const struct registry_call *call)
{
	const struct http_response *r = &call->resp;
	const char *h = http_header_get(r, "WWW-Authenticate");
	const char *insecure = ctx->config->insecure ? " (TLS verification skipped: --insecure)" : "";
	struct challenge c;

	if (r->status == 200) {
		check_set(ctx, STATUS_PASS, NULL, "registry API reachable, anonymous access allowed%s",
			  insecure);
	} else if (r->status == 401 && h && challenge_parse(&c, h) == 0) {
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

	registry_call(ctx->registry, &ctx->result->evidence, &call);
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
	ctx->facts->reachable = ctx->result->status == STATUS_PASS;
	registry_learn(ctx->registry, &call.resp);
	ctx->facts->ping = xmalloc(sizeof(*ctx->facts->ping));
	*ctx->facts->ping = call.resp;
	http_response_init(&call.resp, 0);
done:
	registry_call_release(&call);
}

static const char *const cmd_curl[] = { "curl -v https://REGISTRY/v2/", NULL };
static const char *const cmd_ca[] = {
	"ocidoctor run --registry https://REGISTRY --ca-file /path/to/ca.pem",
	"sudo cp ca.pem /usr/local/share/ca-certificates/registry.crt && sudo update-ca-certificates",
	NULL
};
static const char *const cmd_listen[] = {
	"sudo systemctl status docker-registry",
	"ss -ltnp | grep PORT",
	NULL
};

static const struct remediation_step steps_generic[] = {
	{ .platform = "bare-metal", .text = "Check that the URL points at the registry's API and that it answers GET /v2/ with 200 or 401.", .commands = cmd_curl },
	{ .platform = "kubernetes", .text = "Check the registry Service and Ingress route /v2/ to the registry pods.", .commands = NULL },
	{ 0 }
};
static const struct remediation_step steps_refused[] = {
	{ .platform = "bare-metal", .text = "Start the registry, or fix the host and port in --registry.", .commands = cmd_listen },
	{ .platform = "docker-compose", .text = "Check the registry container is running and its port is published: docker compose ps.", .commands = NULL },
	{ .platform = "kubernetes", .text = "Check the registry pods are ready and the Service has endpoints: kubectl get endpoints.", .commands = NULL },
	{ 0 }
};
static const struct remediation_step steps_dns[] = {
	{ .platform = "bare-metal", .text = "Fix the host name in --registry, or the DNS record for it (getent hosts HOST).", .commands = NULL },
	{ .platform = "kubernetes", .text = "Inside a cluster, use the Service's DNS name (name.namespace.svc).", .commands = NULL },
	{ 0 }
};
static const struct remediation_step steps_timeout[] = {
	{ .platform = "bare-metal", .text = "Check firewalls and proxies between here and the registry (HTTPS_PROXY, NO_PROXY), or raise --timeout.", .commands = NULL },
	{ 0 }
};
static const struct remediation_step steps_tls[] = {
	{ .platform = "bare-metal", .text = "Give ocidoctor the CA that signed the registry's certificate, or install it in the system trust store. Use --insecure only to confirm the diagnosis.", .commands = cmd_ca },
	{ .platform = "kubernetes", .text = "Mount the registry CA into the pod and pass it with --ca-file; check the certificate's names include the registry host.", .commands = NULL },
	{ 0 }
};
static const struct remediation_step steps_handshake[] = {
	{ .platform = "bare-metal", .text = "The server did not complete a TLS handshake: if it speaks plain HTTP, use http:// in --registry; if it wants a client certificate, pass --cert and --key.", .commands = NULL },
	{ 0 }
};

const struct check check_registry = {
	.id = "check.integration.oci.registry",
	.title = "OCI Registry Connectivity",
	.plugin = "stellaops.doctor.integration",
	.tags = tags,
	.severity = STATUS_FAIL,
	.deps = NULL,
	.summary = "GET /v2/ answers 200, or 401 with a well-formed authentication challenge",
	.run = run,
	.remediations = (const struct remediation[]){
		{ .cause = "status", .summary = "The URL does not answer like an OCI registry API.", .steps = steps_generic },
		{ .cause = "not-registry", .summary = "Nothing serves the registry API at this URL; check the host, port and any path prefix.", .steps = steps_generic },
		{ .cause = "challenge", .summary = "The registry asks for authentication without a usable challenge; fix its auth configuration or the proxy in front of it.", .steps = steps_generic },
		{ .cause = "refused", .summary = "Nothing accepts connections at this address: the registry is down or the port is wrong.", .steps = steps_refused },
		{ .cause = "unreachable", .summary = "The registry's address cannot be reached from here.", .steps = steps_timeout },
		{ .cause = "dns", .summary = "The registry's host name does not resolve.", .steps = steps_dns },
		{ .cause = "proxy", .summary = "The configured proxy cannot be resolved.", .steps = steps_timeout },
		{ .cause = "timeout", .summary = "The registry did not answer in time.", .steps = steps_timeout },
		{ .cause = "tls-verify", .summary = "The registry's TLS certificate is not trusted by this machine, or does not match its name.", .steps = steps_tls },
		{ .cause = "tls-files", .summary = "A certificate or key file passed to ocidoctor could not be used.", .steps = steps_tls },
		{ .cause = "tls-handshake", .summary = "The TLS handshake with the registry failed.", .steps = steps_handshake },
		{ .cause = "protocol", .summary = "The server's answer is not valid HTTP for a registry.", .steps = steps_generic },
		{ 0 }
	},
};
