/*
 * check.integration.oci.push: may we write to the test repository?
 *
 * Opens a blob upload session (POST /v2/NAME/blobs/uploads/) with a
 * pull+push scope, in the scratch repository when one is named, and
 * cancels it at once with DELETE on its Location, so nothing is written.
 * A 405 whose Allow header lists only reads is a read-only registry; a
 * 401 or 403 is a denial. A cancel that fails is reported as a leftover.
 */
#include "checks/check.h"
#include "checks/cleanup.h"
#include "checks/probe.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const tags[] = { "registry", "oci", "push", "auth", NULL };

static const char *target_repository(struct check_ctx *ctx)
{
	return ctx->config->scratch_repository ? ctx->config->scratch_repository
					       : ctx->config->repository;
}

/* " (the registry moved the upload to ORIGIN...)" when upload_session_of saw it move, else "". */
static char *moved_note(struct check_ctx *ctx, const char *moved_to)
{
	if (!moved_to)
		return xstrdup("");
	detail_str(ctx, "uploadMovedTo", moved_to);
	return xstrfmt(" (the registry moved the upload to %s; it was cancelled there without credentials)",
		       moved_to);
}

static void opened(struct check_ctx *ctx, const struct registry_call *call)
{
	const char *repo = target_repository(ctx);
	char *why = NULL, *moved_to = NULL, *note;
	char *url = upload_session_of(ctx, call, repo, &why, &moved_to);
	struct undo_list undo;
	long status;

	if (why) {
		check_set(ctx, STATUS_WARN, "location",
			  "push to %s: the registry opened an upload session, but %s, so push rights are not shown and the session was left to expire",
			  repo, why);
		free(why);
		return;
	}
	if (!url) {
		check_set(ctx, STATUS_FAIL, "status",
			  "the upload session opened in %s has no usable Location header", repo);
		return;
	}
	note = moved_note(ctx, moved_to);
	free(moved_to);
	undo_init(&undo, ctx, repo);
	undo_add(&undo, UNDO_SESSION, url, "upload session", 0);
	undo_run(&undo);       /* a cancel that fails is a leftover */
	status = undo.items[0].del_status;
	undo_release(&undo);
	detail_int(ctx, "cancelStatus", status);
	if (status_2xx(status))
		check_set(ctx, STATUS_PASS, NULL,
			  "push to %s allowed: an upload session was opened and cancelled%s", repo, note);
	else
		check_set(ctx, STATUS_PASS, NULL,
			  "push to %s allowed, but cancelling the upload session answered %ld; the registry will expire it%s",
			  repo, status, note);
	free(note);
	free(url);
}

static void judge(struct check_ctx *ctx, const struct registry_call *call)
{
	const struct http_response *r = &call->resp;
	const char *repo = target_repository(ctx);
	const char *err = http_header_get(r, "WWW-Authenticate");

	if (call->error == REG_ERR_INSECURE_CREDS ||
	    (call->error == REG_ERR_TOKEN && (call->token_status == 401 || call->token_status == 403)))
		check_set(ctx, STATUS_FAIL, "denied", "cannot push to %s: %s", repo,
			  call->error_text);
	else if (call->error == REG_ERR_TOKEN || call->error == REG_ERR_REDIRECTS)
		check_set(ctx, STATUS_FAIL, "error", "cannot push to %s: %s", repo,
			  call->error_text);
	else if (!r->status)
		check_set(ctx, STATUS_FAIL, "error", "cannot push to %s: %s", repo,
			  call_failure_text(call));
	else if (r->status == 202)
		opened(ctx, call);
	else if (upload_read_only(r))
		check_set(ctx, STATUS_FAIL, "readonly", "the registry is read-only: uploads answer %ld%s%s%s",
			  r->status, http_header_get(r, "Allow") ? " (Allow: " : "",
			  http_header_get(r, "Allow") ? http_header_get(r, "Allow") : "",
			  http_header_get(r, "Allow") ? ")" : "");
	else if (r->status == 401 || r->status == 403)
		check_set(ctx, STATUS_FAIL, "denied", "push to %s denied (%ld)%s%s", repo, r->status,
			  err && strstr(err, "insufficient_scope") ? ": insufficient scope" : "",
			  call->authenticated ? "" : "; no credentials were sent");
	else
		check_set(ctx, STATUS_FAIL, "status", "opening an upload session in %s answered %ld",
			  repo, r->status);
}

static void describe(struct check_ctx *ctx)
{
	detail_str(ctx, "repository", target_repository(ctx));
}

static void run(struct check_ctx *ctx)
{
	const char *repo = target_repository(ctx);
	char *path = xstrfmt("/v2/%s/blobs/uploads/", repo);
	struct registry_call call = {
		.method = "POST", .path = path, .repository = repo,
		.actions = REG_PULL | REG_PUSH, .body = "", .body_len = 0,
	};

	check_call(ctx, &call);
	judge(ctx, &call);
	registry_call_release(&call);
	free(path);
}

const struct check check_push = {
	.id = "check.integration.oci.push",
	.title = "OCI Registry Push Authorization",
	.plugin = "stellaops.doctor.integration",
	.tags = tags,
	.severity = STATUS_FAIL,
	.deps = (const struct check *const[]){ &check_registry, NULL },
	.summary = "an upload session opens (202) in the test or scratch repository and is cancelled",
	.run = run,
	.needs = NEED_WRITES | NEED_ASKED | NEED_REACHABLE,
	.describe = describe,
	.causes = (const char *const[]){ "denied", "readonly", "status", "location", "error", NULL },
};
