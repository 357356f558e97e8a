/*
 * probe: helpers of the checks that write.
 */
#include "checks/probe.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

int status_2xx(long status)
{
	return status >= 200 && status < 300;
}

int call_lost(char **first, const struct registry_call *call)
{
	if (!call->method)
		return 0;
	if (call->resp.status && call->error != REG_ERR_TRANSPORT)
		return 0;
	if (!*first)
		*first = xstrfmt("%s %s: %s", call->method, call->path, call_failure_text(call));
	return 1;
}

void call_evidence_add(struct buf *b, const struct registry_call *call)
{
	const char *path = call->path, *q;

	if (!call->method || !path)
		return;
	q = strstr(path, "/v2/");
	if (strncmp(path, "/v2/", 4) && q)
		path = q;
	if (b->len)
		buf_adds(b, "; ");
	if (call->resp.status)
		buf_addf(b, "%s %.200s: %ld", call->method, path, call->resp.status);
	else
		buf_addf(b, "%s %.200s: no answer (%s)", call->method, path, call_failure_text(call));
}

char *upload_session_of(struct check_ctx *ctx, const struct registry_call *call,
			const char *repository, char **why, char **moved_to)
{
	struct registry *r = ctx->registry;
	char *url = registry_upload_location(r, call, repository, why);

	if (url && moved_to && !*moved_to && registry_is_elsewhere(r, url))
		*moved_to = registry_display_url(r, url);
	return url;
}

static void message_append(struct check_ctx *ctx, char *tail)
{
	char *msg = xstrfmt("%s; %s", ctx->result->message, tail);

	free(ctx->result->message);
	ctx->result->message = msg;
	free(tail);
}

void leftovers_note(struct check_ctx *ctx, const char *scratch, const char *where)
{
	size_t n = json_array_size(json_object_get(ctx->result->details, "leftovers"));

	if (n)
		message_append(ctx, xstrfmt("%zu thing%s left %s (details.leftovers)", n,
					    n == 1 ? "" : "s", where));
	if (json_object_get(ctx->result->details, "scratchRepositoryRemoval"))
		message_append(ctx, xstrfmt("this run created the scratch repository %s, which later runs use again (the report says how to remove it)",
					    scratch));
}
