/*
 * check.integration.oci.credentials: are the configured credentials
 * accepted?
 *
 * It authenticates the way the registry asked in its GET /v2/ challenge
 * (from the registry check): Basic credentials on GET /v2/, or a token
 * request to the realm for pull on the test repository (the same token
 * the pull check then reuses). It says where the credentials came from,
 * never what they are. A token server grants the intersection of what is
 * asked and what is allowed, so a token proves the login, not push rights:
 * the push check answers that.
 */
#include "checks/check.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const tags[] = { "registry", "oci", "credentials", "auth", NULL };

static void check_basic(struct check_ctx *ctx, const char *origin)
{
	struct registry_call call = { .method = "GET", .path = "/v2/" };

	if (!ctx->config->creds->password) {
		check_set(ctx, STATUS_FAIL, "error",
			  "the credential from %s is an identity token, which a registry that asks for Basic authentication cannot take",
			  origin);
		return;
	}

	registry_call(ctx->registry, ctx->log, &call);
	if (call.error == REG_ERR_INSECURE_CREDS)
		check_set(ctx, STATUS_FAIL, "insecure", "%s", call.error_text);
	else if (call.error != REG_ERR_NONE && !call.resp.status)
		check_set(ctx, STATUS_FAIL, "error", "could not verify the credentials: %s",
			  call_failure_text(&call));
	else if (call.resp.status == 200)
		check_set(ctx, STATUS_PASS, NULL, "Basic credentials from %s accepted", origin);
	else if (call.resp.status == 401 || call.resp.status == 403)
		check_set(ctx, STATUS_FAIL, "rejected", "Basic credentials from %s rejected (%ld)",
			  origin, call.resp.status);
	else
		check_set(ctx, STATUS_FAIL, "error", "GET /v2/ with credentials answered %ld",
			  call.resp.status);
	registry_call_release(&call);
}

static void check_token(struct check_ctx *ctx, const struct challenge *c, const char *origin)
{
	char *scope = NULL, *why = NULL;
	long status;

	scope = xstrfmt("repository:%s:pull", ctx->config->repository);
	status = registry_token_probe(ctx->registry, ctx->log, c, scope, &why);
	detail_int(ctx, "tokenStatus", status);
	if (status == 200)
		check_set(ctx, STATUS_PASS, NULL,
			  "credentials from %s accepted: the token service issued a token", origin);
	else if (status == 401 || status == 403)
		check_set(ctx, STATUS_FAIL, "rejected", "credentials from %s rejected: %s", origin,
			  why);
	else if (why && strstr(why, "plain HTTP"))
		check_set(ctx, STATUS_FAIL, "insecure", "%s", why);
	else
		check_set(ctx, STATUS_FAIL, "error", "could not verify the credentials: %s",
			  why ? why : "no answer from the token service");
	free(why);
	free(scope);
}

static int no_creds(const struct run_config *config)
{
	return !config->creds || config->creds->source == CRED_NONE;
}

/* A helper that cannot run, and a registry that asked for no login (or was not reached). */
static void helper_unused(struct check_ctx *ctx, const char *helper_error)
{
	detail_str(ctx, "helperError", helper_error);
	if (ctx->facts->reachable)
		check_set(ctx, STATUS_WARN, "helper",
			  "the credential helper docker's config names cannot run: %s; the registry asks for no login on /v2/, so the checks ran anonymously",
			  helper_error);
	else
		check_set(ctx, STATUS_WARN, "helper",
			  "the credential helper docker's config names cannot run: %s; whether the registry needs a login is not known (it was not reached)",
			  helper_error);
}

/*
 * No credentials: a registry whose GET /v2/ asks for a login needs them.
 * Basic authentication lets nothing through anonymously (fail); a token
 * service may still hand out anonymous pull tokens (warn). Otherwise the
 * check skips. A credential helper named in docker's config that cannot
 * run is an error when a login is asked for (whatever the scheme: the
 * credential the user meant to give is missing) and a warning otherwise.
 */
static void check_none(struct check_ctx *ctx)
{
	const struct creds *creds = ctx->config->creds;
	const char *looked = creds && creds->looked ? creds->looked : "nothing";
	const struct http_response *ping = ctx->facts->ping;
	const char *h = ping && ping->status == 401 ? http_header_get(ping, "WWW-Authenticate") : NULL;
	struct challenge c;

	if (!ctx->facts->reachable || !h || challenge_parse(&c, h) < 0) {
		if (creds && creds->helper_error)
			helper_unused(ctx, creds->helper_error);
		else
			check_set(ctx, STATUS_SKIP, "none", "no credentials configured (looked at: %s)",
				  looked);
		return;
	}
	detail_str(ctx, "scheme", c.scheme_name);
	detail_str(ctx, "looked", looked);
	if (creds && creds->helper_error)
		check_set(ctx, STATUS_FAIL, "helper",
			  "the registry asks for a login (%s challenge on /v2/) and the credential helper docker's config names cannot run: %s",
			  c.scheme_name, creds->helper_error);
	else if (c.scheme == AUTH_BEARER)
		check_set(ctx, STATUS_WARN, "required",
			  "the registry asks for a login (%s challenge on /v2/) and no credentials were found (looked at: %s); only what anonymous tokens allow will work",
			  c.scheme_name, looked);
	else
		check_set(ctx, STATUS_FAIL, "required",
			  "the registry asks for a login (%s challenge on /v2/) and no credentials were found (looked at: %s)",
			  c.scheme_name, looked);
	challenge_release(&c);
}

static void run(struct check_ctx *ctx)
{
	const struct creds *creds = ctx->config->creds;
	const struct http_response *ping = ctx->facts->ping;
	const char *h;
	struct challenge c;

	if (no_creds(ctx->config)) {
		check_none(ctx);
		return;
	}
	detail_str(ctx, "source", cred_source_name(creds->source));
	detail_str(ctx, "origin", creds->origin);
	detail_bool(ctx, "identityToken", creds->identity_token != NULL);
	if (!ctx->facts->reachable || !ping) {
		check_unreachable(ctx);
		return;
	}
	h = http_header_get(ping, "WWW-Authenticate");
	if (ping->status != 401 || !h || challenge_parse(&c, h) < 0) {
		check_set(ctx, STATUS_INFO, "not-needed",
			  "the registry does not ask for authentication on /v2/; credentials from %s were not verified",
			  creds->origin);
		return;
	}
	detail_str(ctx, "scheme", c.scheme_name);
	if (c.scheme == AUTH_BEARER)
		check_token(ctx, &c, creds->origin);
	else if (c.scheme == AUTH_BASIC)
		check_basic(ctx, creds->origin);
	else
		check_set(ctx, STATUS_FAIL, "scheme",
			  "the registry asks for the %s scheme, which ocidoctor does not speak",
			  c.scheme_name);
	challenge_release(&c);
}

const struct check check_credentials = {
	.id = "check.integration.oci.credentials",
	.title = "OCI Registry Credentials",
	.plugin = "stellaops.doctor.integration",
	.tags = tags,
	.severity = STATUS_FAIL,
	.deps = (const struct check *const[]){ &check_registry, NULL },
	.summary = "the configured credentials are accepted by the registry or its token service",
	.run = run,
	.causes = (const char *const[]){ "rejected", "none", "required", "helper", "insecure", "error", "not-needed", "scheme", "unreachable", NULL },
};
