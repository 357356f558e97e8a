/*
 * verdict: see verdict.h.
 */
#include "checks/verdict.h"
#include "util/buf.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const referrers_clients[3] = { "oras", "go-containerregistry", "regclient" };

const char *cap_state_name(enum cap_state s)
{
	switch (s) {
	case CAP_SUPPORTED:
		return "supported";
	case CAP_UNSUPPORTED:
		return "unsupported";
	default:
		return "unknown";
	}
}

void verdict_set(struct verdict *v, enum cap_state state, const char *fmt, ...)
{
	va_list ap;

	free(v->reason);
	va_start(ap, fmt);
	v->reason = text_vfmt(fmt, ap);
	va_end(ap);
	v->state = state;
}

void verdict_release(struct verdict *v)
{
	free(v->reason);
	v->reason = NULL;
	v->state = CAP_UNKNOWN;
}

int oci_error_code(const char *body, size_t len, char *out, size_t n)
{
	json_t *root, *first;
	const char *code;
	int ret = -1;

	if (n)
		out[0] = '\0';
	if (!body || !len)
		return -1;
	root = json_loadb(body, len, 0, NULL);
	if (!root)
		return -1;
	first = json_array_get(json_object_get(root, "errors"), 0);
	code = json_string_value(json_object_get(first, "code"));
	if (code && n) {
		size_t i;

		for (i = 0; code[i] && i + 1 < n; i++)
			out[i] = isprint((unsigned char)code[i]) ? code[i] : '?';
		out[i] = '\0';
		ret = 0;
	}
	json_decref(root);
	return ret;
}

int oci_index_valid(const char *body, size_t len, long *count, const char **why)
{
	json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	json_t *mt, *manifests;
	int ret = -1;

	*count = 0;
	if (!root) {
		*why = "the body is not JSON";
		return -1;
	}
	mt = json_object_get(root, "mediaType");
	manifests = json_object_get(root, "manifests");
	if (!json_is_object(root))
		*why = "the body is not a JSON object";
	else if (!json_is_integer(json_object_get(root, "schemaVersion")) ||
		 json_integer_value(json_object_get(root, "schemaVersion")) != 2)
		*why = "schemaVersion is not 2";
	else if (!json_is_array(manifests))
		*why = "there is no manifests array";
	else if (mt && (!json_is_string(mt) || strcmp(json_string_value(mt), OCI_INDEX_TYPE)))
		*why = "mediaType is not the OCI index type";
	else {
		*count = (long)json_array_size(manifests);
		ret = 0;
	}
	json_decref(root);
	return ret;
}

int body_is_html(const char *content_type, const char *body, size_t len)
{
	size_t i = 0;

	if (content_type && (strstr(content_type, "html") != NULL))
		return 1;
	while (i < len && isspace((unsigned char)body[i]))
		i++;
	return len - i >= 5 && (!strncasecmp(body + i, "<!doc", 5) || !strncasecmp(body + i, "<html", 5));
}

static void set_clients(struct referrers_verdict *out, long status)
{
	int ok200 = status == 200;

	/* oras-go and go-containerregistry: 200 and the index Content-Type. */
	out->client_api[0] = ok200 && out->index_ok && !out->wrong_type;
	out->client_api[1] = ok200 && out->index_ok && !out->wrong_type;
	/* regclient: 200 with a valid index, whatever the Content-Type. */
	out->client_api[2] = ok200 && out->index_ok;
}

static void judge_404(const struct referrers_answer *a, struct referrers_verdict *out)
{
	char code[64];

	if (out->index_ok) {
		verdict_set(&out->v, CAP_SUPPORTED, "404 with an OCI index: the API answers, nothing refers to the image yet");
		return;
	}
	if (oci_error_code(a->body, a->len, code, sizeof(code)) == 0) {
		if (!strcmp(code, "NAME_UNKNOWN"))
			verdict_set(&out->v, CAP_UNKNOWN, "404 NAME_UNKNOWN: the repository was not found");
		else
			verdict_set(&out->v, CAP_UNSUPPORTED, "404 %s without an OCI index", code);
		return;
	}
	verdict_set(&out->v, CAP_UNSUPPORTED, "404 without an OCI index%s",
		    body_is_html(a->content_type, a->body, a->len) ? " (an HTML page)" : "");
}

static void judge_200(const struct referrers_answer *a, struct referrers_verdict *out,
		      const char *why)
{
	if (!out->index_ok) {
		if (body_is_html(a->content_type, a->body, a->len))
			verdict_set(&out->v, CAP_UNSUPPORTED, "200 with an HTML page%s, not an OCI index",
				    a->redirected ? " after a redirect" : "");
		else
			verdict_set(&out->v, CAP_UNSUPPORTED, "200 but %s", why);
		return;
	}
	if (out->wrong_type)
		verdict_set(&out->v, CAP_SUPPORTED,
			    "200 with a valid index served as '%s' instead of %s: oras and go-containerregistry fall back to tags",
			    a->content_type[0] ? a->content_type : "no Content-Type", OCI_INDEX_TYPE);
	else
		verdict_set(&out->v, CAP_SUPPORTED, "200 with an OCI image index");
}

void referrers_judge(const struct referrers_answer *a, struct referrers_verdict *out)
{
	const char *why = "the body is empty";
	char code[64];

	memset(out, 0, sizeof(*out));
	out->index_ok = oci_index_valid(a->body, a->len, &out->count, &why) == 0;
	out->wrong_type = out->index_ok && strcmp(a->content_type, OCI_INDEX_TYPE);
	if (a->status == 200)
		judge_200(a, out, why);
	else if (a->status == 404)
		judge_404(a, out);
	else if (a->status == 405)
		verdict_set(&out->v, CAP_UNSUPPORTED, "405: the registry has no referrers endpoint");
	else if (a->status >= 300 && a->status < 400)
		verdict_set(&out->v, CAP_UNSUPPORTED, "%ld redirect away from the API", a->status);
	else if (a->status == 401 || a->status == 403)
		verdict_set(&out->v, CAP_UNKNOWN, "denied (%ld)", a->status);
	else if (oci_error_code(a->body, a->len, code, sizeof(code)) == 0)
		verdict_set(&out->v, CAP_UNKNOWN, "%ld %s", a->status, code);
	else
		verdict_set(&out->v, CAP_UNKNOWN, "unexpected status %ld", a->status);
	set_clients(out, a->status);
}

void delete_judge(long status, const char *body, size_t len, const char *kind,
		  struct verdict *out)
{
	char code[64];
	int has_code = oci_error_code(body, len, code, sizeof(code)) == 0;

	if (status == 202)
		verdict_set(out, CAP_SUPPORTED, "202");
	else if (status == 404 && has_code && strcmp(code, "NAME_UNKNOWN") &&
		 strstr(code, "_UNKNOWN"))
		verdict_set(out, CAP_SUPPORTED, "404 %s: deletes are enabled", code);
	else if (status == 405)
		verdict_set(out, CAP_UNSUPPORTED, "405%s%s: %s deletes are disabled",
			    has_code ? " " : "", has_code ? code : "", kind);
	else if (status == 400 && has_code && !strcmp(code, "UNSUPPORTED"))
		verdict_set(out, CAP_UNSUPPORTED, "400 UNSUPPORTED: %s deletes are disabled", kind);
	else if (status == 401 || status == 403)
		verdict_set(out, CAP_UNKNOWN, "denied (%ld%s%s), or a read-only mode", status,
			    has_code ? " " : "", has_code ? code : "");
	else if (status == 404)
		verdict_set(out, CAP_UNKNOWN, "404%s%s: not a delete answer",
			    has_code ? " " : "", has_code ? code : "");
	else
		verdict_set(out, CAP_UNKNOWN, "unexpected status %ld%s%s", status,
			    has_code ? " " : "", has_code ? code : "");
}

int range_covers(const char *range, long end)
{
	const char *p = range;
	char *stop;
	long lo, hi;

	if (!p)
		return 0;
	if (!strncasecmp(p, "bytes=", 6))
		p += 6;
	if (!isdigit((unsigned char)*p))
		return 0;
	lo = strtol(p, &stop, 10);
	if (*stop != '-' || !isdigit((unsigned char)stop[1]))
		return 0;
	hi = strtol(stop + 1, &stop, 10);
	while (*stop == ' ')
		stop++;
	return *stop == '\0' && lo == 0 && hi >= end;
}
