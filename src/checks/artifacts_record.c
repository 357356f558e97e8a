/*
 * artifacts_record: what every step of the artifacts check does with a
 * call: the first call that got no answer, the first refusal, the step's
 * entry in details.steps, the wave it goes out in, and the paths and
 * upload sessions it names.
 */
#include "checks/artifacts_internal.h"
#include "checks/probe.h"
#include "util/xalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int av_lost(struct verify *v, const struct registry_call *call)
{
	return call_lost(&v->connection, call);
}

/* An error answer's code and message, as "CODE: message", or the status alone. */
char *av_refusal_text(const struct http_response *r)
{
	json_t *root = r->body.len ? json_loadb(r->body.data, r->body.len, 0, NULL) : NULL;
	json_t *e = json_array_get(json_object_get(root, "errors"), 0);
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	char *out;

	if (code)
		out = xstrfmt("%ld %s%s%.200s", r->status, code, msg ? ": " : "", msg ? msg : "");
	else
		out = xstrfmt("%ld", r->status);
	json_decref(root);
	return out;
}

/*
 * Notes a push that was answered with a refusal: 401 and 403 deny it;
 * the first refusal of any kind is kept as "METHOD path: status CODE:
 * message", the reason a step that was never reached shows.
 */
void av_note_denied(struct verify *v, const struct registry_call *call)
{
	const char *path = call->path, *q;
	char *why;

	if (!call->method || !call->resp.status || status_2xx(call->resp.status))
		return;
	if (call->resp.status == 401 || call->resp.status == 403)
		v->denied = 1;
	if (v->refusal || !path)
		return;
	q = strstr(path, "/v2/");
	why = av_refusal_text(&call->resp);
	v->refusal = xstrfmt("%s %.200s: %s", call->method, q ? q : path, why);
	free(why);
}

/* Adds a refusal's httpStatus, and its error code and message when it has them, to a step. */
void av_refusal_fields(json_t *st, const struct http_response *r)
{
	json_t *root = r->body.len ? json_loadb(r->body.data, r->body.len, 0, NULL) : NULL;
	json_t *e = json_array_get(json_object_get(root, "errors"), 0);
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	char *clean;

	json_object_set_new(st, "httpStatus", json_integer(r->status));
	if (code) {
		clean = xstrndup(code, 64);
		text_sanitize(clean);
		json_object_set_new(st, "code", json_string(clean));
		free(clean);
	}
	if (msg) {
		clean = xstrndup(msg, 200);
		text_sanitize(clean);
		json_object_set_new(st, "message", json_string(clean));
		free(clean);
	}
	json_decref(root);
}

/* Records one step in details.steps: {status, evidence, verdict}. */
void av_step(struct verify *v, const char *name, const char *status,
	     const struct registry_call *const *calls, size_t n, const char *fmt, ...)
{
	struct buf ev;
	va_list ap;
	char *verdict;
	size_t i;

	buf_init(&ev, BUF_TEXT_MAX);
	for (i = 0; i < n; i++)
		if (calls[i])
			call_evidence_add(&ev, calls[i]);
	va_start(ap, fmt);
	verdict = text_vfmt(fmt, ap);
	va_end(ap);
	text_sanitize(verdict);
	text_sanitize(ev.data);
	json_object_set_new(v->steps, name, json_pack("{s:s, s:s, s:s}", "status", status,
						      "evidence", ev.data, "verdict", verdict));
	free(verdict);
	buf_release(&ev);
}

void av_call_wave(struct verify *v, struct registry_call **calls, size_t n)
{
	registry_call_many(v->ctx->registry, v->ctx->log,
			   (struct registry_call *const *)calls, n);
}

/*
 * The upload session in an answer's Location, when it is one of the
 * scratch repository's (registry_upload_location); else NULL, and the
 * first Location that pointed elsewhere is kept for the verdict.
 */
char *av_session_of(struct verify *v, const struct registry_call *call, int *elsewhere)
{
	char *why = NULL;
	char *url = upload_session_of(v->ctx, call, v->scratch, &why, NULL);

	*elsewhere = why != NULL;
	if (why && !v->elsewhere)
		v->elsewhere = why;
	else
		free(why);
	return url;
}

/* The URL to close an upload session: its Location with digest=... added. */
char *av_with_digest(const char *session, const char *digest)
{
	return xstrfmt("%s%sdigest=%s", session, strchr(session, '?') ? "&" : "?", digest);
}

char *av_manifest_path(struct verify *v, const char *ref)
{
	return xstrfmt("/v2/%s/manifests/%s", v->scratch, ref);
}

char *av_blob_path(struct verify *v, const char *digest)
{
	return xstrfmt("/v2/%s/blobs/%s", v->scratch, digest);
}
