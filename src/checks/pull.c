/*
 * check.integration.oci.pull: can we read the test image?
 *
 * HEAD on the test image's manifest, accepting every manifest media type
 * (distribution answers 404 to an OCI manifest when Accept lacks it), with
 * a pull scope. The digest comes from Docker-Content-Digest after it is
 * validated, and is then proven: the manifest fetched by that digest must
 * hash to it, as clients require. When the header is missing or malformed
 * the manifest is fetched by tag and hashed instead. The digest is shared
 * with later checks.
 */
#include "checks/check.h"
#include "checks/verdict.h"
#include "util/digest.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const tags[] = { "registry", "oci", "pull", "auth", NULL };

static char *manifest_path(struct check_ctx *ctx, const char *ref)
{
	return xstrfmt("/v2/%s/manifests/%s", ctx->config->repository, ref);
}

/*
 * GETs the manifest by ref, checks that the answer is a manifest and
 * hashes it; returns the status, *digest the sha256 or NULL. When the 200
 * is not a manifest (a sign-in page, not JSON, no manifest media type),
 * *not_manifest says what it is and *digest stays NULL.
 */
static long get_and_hash(struct check_ctx *ctx, struct curl_slist *accept, const char *ref,
			 char **digest, const char **not_manifest)
{
	char type[128];
	char *path = manifest_path(ctx, ref);
	struct registry_call call = {
		.method = "GET", .path = path, .repository = ctx->config->repository,
		.actions = REG_PULL, .headers = accept, .follow = 1,
	};
	long status;

	registry_call(ctx->registry, ctx->log, &call);
	status = call.resp.failure == HTTP_OK ? call.resp.status : 0;
	*digest = NULL;
	*not_manifest = NULL;
	http_content_type(&call.resp, type, sizeof(type));
	if (status == 200 && manifest_body_valid(type, call.resp.body.data, call.resp.body.len,
						 not_manifest) == 0)
		*digest = sha256_digest_of(call.resp.body.data, call.resp.body.len);
	registry_call_release(&call);
	free(path);
	return status;
}

/* The test image's "manifest" is not one: nothing was pulled. */
static void not_a_manifest(struct check_ctx *ctx, const char *what)
{
	char *img = image_ref_format(ctx->config->repository, ctx->config->tag);

	check_set(ctx, STATUS_FAIL, "not-manifest",
		  "the registry answered the manifest of %s with %s: nothing was pulled",
		  img, what);
	free(img);
}

/*
 * Fetches the manifest by the digest the registry named and checks that
 * its bytes hash to it, as a client does before it trusts the image.
 * Returns 0 when they match (or the algorithm is not sha256), -1 after
 * setting a failing verdict.
 */
static int verify_digest(struct check_ctx *ctx, struct curl_slist *accept, const char *digest)
{
	const char *not_manifest = NULL;
	char *got = NULL, *img;
	long status;
	int ret = 0;

	if (strncmp(digest, "sha256:", 7)) {
		detail_bool(ctx, "digestVerified", 0);
		return 0;
	}
	status = get_and_hash(ctx, accept, digest, &got, &not_manifest);
	img = image_ref_format(ctx->config->repository, ctx->config->tag);
	if (not_manifest) {
		not_a_manifest(ctx, not_manifest);
		ret = -1;
	} else if (status != 200) {
		check_set(ctx, STATUS_FAIL, "digest",
			  "the manifest of %s cannot be fetched by its digest %s (%ld)",
			  img, digest, status);
		ret = -1;
	} else if (strcmp(got, digest)) {
		check_set(ctx, STATUS_FAIL, "digest",
			  "the registry names the manifest of %s %s, but its bytes hash to %s",
			  img, digest, got);
		ret = -1;
	}
	detail_bool(ctx, "digestVerified", ret == 0);
	free(img);
	free(got);
	return ret;
}

static void found(struct check_ctx *ctx, const struct registry_call *call,
		  struct curl_slist *accept)
{
	const char *header = http_header_get(&call->resp, "Docker-Content-Digest");
	char type[128];
	char *digest = NULL, *img;

	http_content_type(&call->resp, type, sizeof(type));
	detail_str(ctx, "mediaType", type[0] ? type : NULL);
	if (type[0] && !manifest_type(type) && strcmp(type, "application/json")) {
		not_a_manifest(ctx, body_is_html(type, "", 0)
			       ? "an HTML page (a portal or sign-in page?), not a manifest"
			       : "a Content-Type that is no manifest or index media type");
		return;
	}
	if (header && digest_valid(header, NULL) == 0 &&
	    (!strncmp(header, "sha256:", 7) || !strncmp(header, "sha512:", 7))) {
		digest = xstrdup(header);
		if (verify_digest(ctx, accept, digest) < 0) {
			free(digest);
			return;
		}
	} else {
		const char *not_manifest = NULL;

		detail_str(ctx, "digestHeader", header ? "invalid" : "missing");
		get_and_hash(ctx, accept, ctx->config->tag, &digest, &not_manifest);
		if (not_manifest) {
			not_a_manifest(ctx, not_manifest);
			return;
		}
	}
	img = image_ref_format(ctx->config->repository, ctx->config->tag);
	if (!digest) {
		check_set(ctx, STATUS_FAIL, "digest", "%s exists but its digest could not be determined",
			  img);
		free(img);
		return;
	}
	detail_str(ctx, "digest", digest);
	check_set(ctx, STATUS_PASS, NULL, "pulled the manifest of %s (%s)", img, digest);
	free(img);
	ctx->facts->manifest_digest = digest;
}

static void judge(struct check_ctx *ctx, const struct registry_call *call,
		  struct curl_slist *accept)
{
	long status = call->resp.status;
	char *img = image_ref_format(ctx->config->repository, ctx->config->tag);

	if (call->error == REG_ERR_INSECURE_CREDS ||
	    (call->error == REG_ERR_TOKEN && (call->token_status == 401 || call->token_status == 403)))
		check_set(ctx, STATUS_FAIL, "denied", "cannot pull %s: %s", img,
			  call->error_text);
	else if (call->error == REG_ERR_TOKEN || call->error == REG_ERR_REDIRECTS)
		check_set(ctx, STATUS_FAIL, "error", "cannot pull %s: %s", img,
			  call->error_text);
	else if (!status)
		check_set(ctx, STATUS_FAIL, "error", "cannot pull %s: %s", img,
			  call_failure_text(call));
	else if (status == 200)
		found(ctx, call, accept);
	else if (status == 404)
		check_set(ctx, STATUS_WARN, "missing",
			  "the test image %s does not exist; name one that does with --repository and --tag",
			  img);
	else if (status == 401 || status == 403)
		check_set(ctx, STATUS_FAIL, "denied", "pull of %s denied (%ld)%s", img,
			  status, call->authenticated ? "" : "; no credentials were sent");
	else
		check_set(ctx, STATUS_FAIL, "status", "HEAD of the manifest of %s answered %ld",
			  img, status);
	free(img);
}

static void describe(struct check_ctx *ctx)
{
	detail_str(ctx, "reference", ctx->config->tag);
}

static void run(struct check_ctx *ctx)
{
	struct curl_slist *accept = manifest_accept_headers();
	char *path = manifest_path(ctx, ctx->config->tag);
	struct registry_call call = {
		.method = "HEAD", .path = path, .repository = ctx->config->repository,
		.actions = REG_PULL, .headers = accept, .follow = 1,
	};

	check_call(ctx, &call);
	judge(ctx, &call, accept);
	registry_call_release(&call);
	curl_slist_free_all(accept);
	free(path);
}

const struct check check_pull = {
	.id = "check.integration.oci.pull",
	.title = "OCI Registry Pull Authorization",
	.plugin = "stellaops.doctor.integration",
	.tags = tags,
	.severity = STATUS_FAIL,
	.deps = (const struct check *const[]){ &check_registry, NULL },
	.summary = "HEAD of the test image's manifest answers 200 with a valid digest",
	.run = run,
	.needs = NEED_REACHABLE,
	.describe = describe,
	.causes = (const char *const[]){ "denied", "missing", "digest", "not-manifest", "error", "status", NULL },
};
