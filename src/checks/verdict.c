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

const char *const referrers_clients[CLIENT_COUNT] = { "oras", "go-containerregistry", "regclient" };

const char *cap_state_name(enum cap_state s)
{
	switch (s) {
	case CAP_SUPPORTED:
		return "supported";
	case CAP_UNSUPPORTED:
		return "unsupported";
	case CAP_NOT_PROBED:
		return "not-probed";
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

static const char *const manifest_types[] = {
	"application/vnd.oci.image.manifest.v1+json",
	OCI_INDEX_TYPE,
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.v1+prettyjws",
	NULL
};

int manifest_type(const char *media_type)
{
	size_t i;

	for (i = 0; media_type && manifest_types[i]; i++)
		if (!strcmp(media_type, manifest_types[i]))
			return 1;
	return 0;
}

/* A manifest without a usable media type, known by its shape (schema 2 or 1). */
static int manifest_shape(json_t *root)
{
	json_int_t v = json_integer_value(json_object_get(root, "schemaVersion"));

	if (v == 2)
		return json_is_object(json_object_get(root, "config")) ||
		       json_is_array(json_object_get(root, "manifests"));
	return v == 1 && json_is_array(json_object_get(root, "fsLayers"));
}

int manifest_body_valid(const char *content_type, const char *body, size_t len,
			const char **why)
{
	json_t *root;
	const char *mt;
	int ok;

	if (body_is_html(content_type, body ? body : "", body ? len : 0)) {
		*why = "an HTML page (a portal or sign-in page?), not a manifest";
		return -1;
	}
	root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	if (!json_is_object(root)) {
		json_decref(root);
		*why = "not JSON, so not a manifest";
		return -1;
	}
	mt = json_string_value(json_object_get(root, "mediaType"));
	ok = manifest_type(content_type) || manifest_type(mt) ||
	     ((!content_type || !content_type[0] || !strcmp(content_type, "application/json")) &&
	      !mt && manifest_shape(root));
	json_decref(root);
	if (!ok) {
		*why = "JSON without a manifest or index media type";
		return -1;
	}
	return 0;
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

/* ---- the clients' models ------------------------------------------------ */

const char *client_list_name(enum client_list l)
{
	return l == CLIENT_LIST_API ? "api" : l == CLIENT_LIST_ERROR ? "error" : "tag-fallback";
}

const char *client_attach_name(enum client_attach a)
{
	switch (a) {
	case CLIENT_ATTACH_API:
		return "api";
	case CLIENT_ATTACH_TAG:
		return "tag-fallback";
	case CLIENT_ATTACH_ERROR:
		return "error";
	default:
		return "unknown";
	}
}

enum push_subject push_subject_of(const char *header, const char *subject)
{
	if (!header || !header[0])
		return PUSH_NO_SUBJECT;
	return subject && !strcmp(header, subject) ? PUSH_SUBJECT_MATCHES : PUSH_SUBJECT_OTHER;
}

static const char *const push_subject_names[] = {
	[PUSH_NOT_MADE] = "not-made",
	[PUSH_NO_SUBJECT] = "absent",
	[PUSH_SUBJECT_MATCHES] = "exact",
	[PUSH_SUBJECT_OTHER] = "other",
	[PUSH_REFUSED] = "refused",
	[PUSH_WITHHELD] = "withheld",
};

const char *push_subject_name(enum push_subject p)
{
	return (unsigned)p <= PUSH_WITHHELD ? push_subject_names[p] : "not-made";
}

enum push_subject push_subject_parse(const char *name)
{
	unsigned i;

	for (i = 0; name && i <= PUSH_WITHHELD; i++)
		if (!strcmp(name, push_subject_names[i]))
			return (enum push_subject)i;
	return PUSH_NOT_MADE;
}

/* What the clients' rules look at, worked out once from an answer. */
struct answer_facts {
	long status;
	int index_type;     /* Content-Type is the OCI index type */
	int decodes;        /* the body decodes as an index would in Go: a JSON object */
	int name_unknown;   /* a NAME_UNKNOWN error body */
	enum push_subject push;
	int read_only;      /* every upload is refused */
	int tag_not_index;  /* the sha256-<hex> tag holds something that is not an OCI index */
};

static void answer_facts(const struct referrers_answer *a, struct answer_facts *f)
{
	json_t *root = a->body && a->len ? json_loadb(a->body, a->len, 0, NULL) : NULL;
	char code[64];

	f->status = a->status;
	f->index_type = a->content_type && !strcmp(a->content_type, OCI_INDEX_TYPE);
	f->decodes = json_is_object(root);
	f->name_unknown = oci_error_code(a->body, a->len, code, sizeof(code)) == 0 &&
			  !strcmp(code, "NAME_UNKNOWN");
	f->push = a->push;
	f->read_only = a->read_only;
	f->tag_not_index = a->tag_not_index;
	json_decref(root);
}

/* One row of a client's table: the first row whose test holds decides. */
struct list_rule {
	int (*when)(const struct answer_facts *f);
	enum client_list list;
	const char *why;
};

struct attach_rule {
	int (*when)(const struct answer_facts *f);
	enum client_attach attach;
	const char *why;
};

static int is_404_name_unknown(const struct answer_facts *f) { return f->status == 404 && f->name_unknown; }
static int is_404(const struct answer_facts *f) { return f->status == 404; }
static int is_not_200(const struct answer_facts *f) { return f->status != 200; }
static int not_index_type(const struct answer_facts *f) { return !f->index_type; }
static int not_decoded(const struct answer_facts *f) { return !f->decodes; }
static int index_type_undecoded(const struct answer_facts *f)
{
	return f->status == 200 && f->index_type && !f->decodes;
}
static int index_type_200(const struct answer_facts *f) { return f->status == 200 && f->index_type; }
static int ggcr_rejects(const struct answer_facts *f)
{
	return f->status != 200 && f->status != 404 && f->status != 400 && f->status != 406;
}
static int is_200(const struct answer_facts *f) { return f->status == 200; }
static int is_404_or_400(const struct answer_facts *f) { return f->status == 404 || f->status == 400; }
static int is_denied(const struct answer_facts *f) { return f->status == 401 || f->status == 403; }
static int read_only(const struct answer_facts *f) { return f->read_only; }
static int no_push(const struct answer_facts *f) { return f->push == PUSH_NOT_MADE; }
static int push_refused(const struct answer_facts *f) { return f->push == PUSH_REFUSED; }
static int push_withheld(const struct answer_facts *f) { return f->push == PUSH_WITHHELD; }
static int subject_sent(const struct answer_facts *f)
{
	return f->push == PUSH_SUBJECT_MATCHES || f->push == PUSH_SUBJECT_OTHER;
}
static int subject_matches(const struct answer_facts *f) { return f->push == PUSH_SUBJECT_MATCHES; }
static int always(const struct answer_facts *f) { (void)f; return 1; }

static enum client_list apply_list(const struct list_rule *rules, const struct answer_facts *f,
				   const char **why)
{
	for (; !rules->when(f); rules++)
		;
	*why = rules->why;
	return rules->list;
}

static enum client_attach apply_attach(const struct attach_rule *rules,
				       const struct answer_facts *f, const char **why)
{
	for (; !rules->when(f); rules++)
		;
	*why = rules->why;
	return rules->attach;
}

static const char ATTACH_READ_ONLY[] =
	"the registry refuses every upload (read-only, check.integration.oci.push): attaching fails";
static const char ATTACH_REFUSED[] =
	"the registry refused the artifact manifest pushed by --writes verify (check.integration.oci.artifacts), which has an artifactType and the empty config as this client's do: attaching fails";
static const char ATTACH_WITHHELD[] =
	"decided from the OCI-Subject header of a manifest push, and --writes verify pushed nothing (check.integration.oci.artifacts says why)";
static const char ATTACH_NEEDS_PUSH[] =
	"decided from the OCI-Subject header of a manifest push, which only --writes verify makes (check.integration.oci.artifacts)";

/*
 * oras-go v2 (oras, notation), registry/remote/repository.go:
 * referrersPageByAPI takes 200 only; a 404 NAME_UNKNOWN is returned as
 * "repository not found", any other 404 is ErrUnsupported (fall back to
 * the tag), any other status an error; a Content-Type that is not the
 * index type is ErrUnsupported, and a body that does not decode is an
 * error. Attaching (pushWithIndexing) uses the API only when the
 * manifest push answered with a non-empty OCI-Subject, and otherwise
 * writes the sha256-<hex> tag without asking the API. A sha256-<hex> tag
 * that is not an index stops neither (oras 1.3.3 lists nothing through it
 * and overwrites it).
 */
static const struct list_rule oras_list[] = {
	{ is_404_name_unknown, CLIENT_LIST_ERROR, "404 NAME_UNKNOWN: oras-go stops with \"repository not found\"" },
	{ is_404, CLIENT_LIST_TAG, "404: oras-go records the API as unsupported and reads the tag" },
	{ is_not_200, CLIENT_LIST_ERROR, "oras-go treats any status but 200 or 404 as an error" },
	{ not_index_type, CLIENT_LIST_TAG, "200 without the index Content-Type: oras-go reads the tag" },
	{ not_decoded, CLIENT_LIST_ERROR, "the body does not decode as an index under the index Content-Type: oras-go fails" },
	{ always, CLIENT_LIST_API, "200 with the index Content-Type" },
};
static const struct attach_rule oras_attach[] = {
	{ read_only, CLIENT_ATTACH_ERROR, ATTACH_READ_ONLY },
	{ no_push, CLIENT_ATTACH_UNKNOWN, ATTACH_NEEDS_PUSH },
	{ push_refused, CLIENT_ATTACH_ERROR, ATTACH_REFUSED },
	{ push_withheld, CLIENT_ATTACH_UNKNOWN, ATTACH_WITHHELD },
	{ subject_sent, CLIENT_ATTACH_API, "the push answered with OCI-Subject" },
	{ always, CLIENT_ATTACH_TAG, "the push answered without OCI-Subject: oras writes the sha256-<hex> tag" },
};

void client_oras(const struct referrers_answer *a, struct client_prediction *out)
{
	struct answer_facts f;

	answer_facts(a, &f);
	out->list = apply_list(oras_list, &f, &out->list_why);
	out->attach = apply_attach(oras_attach, &f, &out->attach_why);
}

/*
 * go-containerregistry (crane's library, cosign), pkg/v1/remote:
 * referrers.go accepts 200, 404, 400 and 406 (any other status is an
 * error), uses the body only on 200 with the index Content-Type (a body
 * that does not parse is then an error) and reads the fallback tag
 * otherwise. write.go, after pushing a manifest with a subject, GETs
 * /referrers/<subject> and takes any 200 as "the API exists, push no
 * tag"; 404 and 400 make it update the tag, anything else fails the push
 * (a denial may be the credentials', so it stays unknown). Updating the
 * tag fails when the tag holds something that is not an OCI index
 * (GitLab resolves sha256-<hex> to the subject); listing then reads it
 * as an index with no entries.
 */
static const struct list_rule ggcr_list[] = {
	{ ggcr_rejects, CLIENT_LIST_ERROR, "remote.Referrers accepts only 200, 404, 400 or 406" },
	{ index_type_undecoded, CLIENT_LIST_ERROR, "the body does not parse as an index under the index Content-Type: remote.Referrers fails" },
	{ index_type_200, CLIENT_LIST_API, "200 with the index Content-Type" },
	{ always, CLIENT_LIST_TAG, "not a 200 with the index Content-Type: remote.Referrers reads the tag" },
};
static const struct attach_rule ggcr_attach[] = {
	{ read_only, CLIENT_ATTACH_ERROR, ATTACH_READ_ONLY },
	{ is_200, CLIENT_ATTACH_API, "remote.Write takes any 200 from the referrers endpoint as the API and pushes no tag" },
	{ is_404_or_400, CLIENT_ATTACH_TAG, "remote.Write updates the sha256-<hex> tag after a 404 or 400" },
	{ is_denied, CLIENT_ATTACH_UNKNOWN, "remote.Write stops on a denial of the referrers endpoint, or succeeds with other credentials" },
	{ always, CLIENT_ATTACH_ERROR, "remote.Write stops with an error on any status but 200, 404 or 400 from the referrers endpoint" },
};

static const char GGCR_TAG_NOT_INDEX[] =
	"remote.Write updates the sha256-<hex> tag after a 404 or 400, but the tag holds a manifest that is not an OCI index (the registry resolves it to the subject itself): \"fallback tag manifest is not an OCI image index\"";

void client_ggcr(const struct referrers_answer *a, struct client_prediction *out)
{
	struct answer_facts f;

	answer_facts(a, &f);
	out->list = apply_list(ggcr_list, &f, &out->list_why);
	out->attach = apply_attach(ggcr_attach, &f, &out->attach_why);
	if (out->attach == CLIENT_ATTACH_TAG && f.tag_not_index) {
		out->attach = CLIENT_ATTACH_ERROR;
		out->attach_why = GGCR_TAG_NOT_INDEX;
	}
}

/*
 * regclient (regctl), scheme/reg/referrer.go: any failure of the API
 * (a status other than 200, a media type from Content-Type that is not
 * the index type, a body that does not parse) records the API as
 * unsupported and reads the tag instead; listing never fails on the
 * answer itself. manifest.go: after a push with a subject it updates the
 * tag unless OCI-Subject equals the subject's digest. Reading the tag,
 * to list or to update it, fails when it holds something that is not an
 * OCI index (GitLab resolves sha256-<hex> to the subject).
 */
static const struct list_rule regclient_list[] = {
	{ is_not_200, CLIENT_LIST_TAG, "not 200: regclient reads the tag" },
	{ not_index_type, CLIENT_LIST_TAG, "regclient takes the media type from Content-Type, which is not the index type, and reads the tag" },
	{ not_decoded, CLIENT_LIST_TAG, "the body does not parse as an index: regclient reads the tag" },
	{ always, CLIENT_LIST_API, "200 with an index under the index Content-Type" },
};
static const struct attach_rule regclient_attach[] = {
	{ read_only, CLIENT_ATTACH_ERROR, ATTACH_READ_ONLY },
	{ no_push, CLIENT_ATTACH_UNKNOWN, ATTACH_NEEDS_PUSH },
	{ push_refused, CLIENT_ATTACH_ERROR, ATTACH_REFUSED },
	{ push_withheld, CLIENT_ATTACH_UNKNOWN, ATTACH_WITHHELD },
	{ subject_matches, CLIENT_ATTACH_API, "the push answered with OCI-Subject equal to the subject" },
	{ always, CLIENT_ATTACH_TAG, "the push's OCI-Subject is missing or names another digest: regclient writes the tag" },
};

static const char REGCLIENT_TAG_LIST[] =
	"regclient reads the sha256-<hex> tag, which holds a manifest that is not an OCI index (the registry resolves it to the subject itself): \"manifest is not an OCI index\"";
static const char REGCLIENT_TAG_ATTACH[] =
	"regclient updates the sha256-<hex> tag, which holds a manifest that is not an OCI index (the registry resolves it to the subject itself): \"manifest is not an OCI index\"";

void client_regclient(const struct referrers_answer *a, struct client_prediction *out)
{
	struct answer_facts f;

	answer_facts(a, &f);
	out->list = apply_list(regclient_list, &f, &out->list_why);
	out->attach = apply_attach(regclient_attach, &f, &out->attach_why);
	if (f.tag_not_index && out->list == CLIENT_LIST_TAG) {
		out->list = CLIENT_LIST_ERROR;
		out->list_why = REGCLIENT_TAG_LIST;
	}
	if (f.tag_not_index && out->attach == CLIENT_ATTACH_TAG) {
		out->attach = CLIENT_ATTACH_ERROR;
		out->attach_why = REGCLIENT_TAG_ATTACH;
	}
}

/* How a report names what each client does, for consequences. */
static const struct {
	const char *attacher;   /* who attaches, and what */
	const char *lister;     /* the command that lists */
	const char *own;        /* that listing, from the attacher's side */
	const char *attach;     /* the command that attaches */
} client_words[CLIENT_COUNT] = {
	[CLIENT_ORAS] = { "artifacts attached by oras (and notation signatures)", "oras discover", "oras discover", "oras attach" },
	[CLIENT_GGCR] = { "signatures attached by cosign", "cosign's listing (go-containerregistry)", "cosign's own listing", "cosign's attaching (go-containerregistry)" },
	[CLIENT_REGCLIENT] = { "artifacts attached by regctl", "regctl artifact list", "regctl artifact list", "regctl artifact put" },
};

static void clause(struct buf *out, int *n, const char *a, const char *verb, const char *b)
{
	if ((*n)++)
		buf_adds(out, "; ");
	buf_addf(out, "%s%s%s", a, verb, b);
}

static void list_names(struct buf *out, const struct client_prediction p[CLIENT_COUNT],
		       enum client_list which, const char *lead)
{
	const char *sep = lead;
	size_t i;

	for (i = 0; i < CLIENT_COUNT; i++)
		if (p[i].list == which) {
			buf_addf(out, "%s%s", sep, referrers_clients[i]);
			sep = ", ";
		}
}

/* Whether every client's attach fails: the registry refuses pushes, which is no referrers matter. */
static int all_attach_fail(const struct client_prediction p[CLIENT_COUNT])
{
	size_t i;

	for (i = 0; i < CLIENT_COUNT; i++)
		if (p[i].attach != CLIENT_ATTACH_ERROR)
			return 0;
	return 1;
}

int referrers_consequences(const struct client_prediction p[CLIENT_COUNT], struct buf *out)
{
	int n = 0, api = 0, tag = 0, say_attach = !all_attach_fail(p);
	size_t i;

	for (i = 0; i < CLIENT_COUNT; i++) {
		if (say_attach && p[i].attach == CLIENT_ATTACH_ERROR)
			clause(out, &n, client_words[i].attach, " fails outright", "");
		if (p[i].list == CLIENT_LIST_ERROR)
			clause(out, &n, client_words[i].lister, " fails outright", "");
		else if (p[i].attach == CLIENT_ATTACH_API && p[i].list == CLIENT_LIST_TAG)
			clause(out, &n, client_words[i].attacher, " will not be found by ",
			       client_words[i].own);
		else if (p[i].attach == CLIENT_ATTACH_TAG && p[i].list == CLIENT_LIST_API)
			clause(out, &n, client_words[i].lister,
			       " reads the API, but attaching leaves a sha256-<hex> tag", "");
		api += p[i].list == CLIENT_LIST_API;
		tag += p[i].list == CLIENT_LIST_TAG;
	}
	if (api && tag) {
		if (n++)
			buf_adds(out, "; ");
		buf_adds(out, "the clients list from different places (");
		list_names(out, p, CLIENT_LIST_API, "through the API: ");
		buf_adds(out, "; ");
		list_names(out, p, CLIENT_LIST_TAG, "through the tag: ");
		buf_adds(out, "), so what one attaches another may not find");
	}
	return n;
}

static void judge_404(const struct referrers_answer *a, struct referrers_verdict *out)
{
	char code[64];

	if (out->index_ok) {
		verdict_set(&out->v, CAP_SUPPORTED, "404 with an OCI index: the API answers, nothing refers to the image yet");
		return;
	}
	if (oci_error_code(a->body, a->len, code, sizeof(code)) == 0) {
		if (!strcmp(code, "NAME_UNKNOWN") && a->repo_known)
			verdict_set(&out->v, CAP_UNSUPPORTED,
				    "404 NAME_UNKNOWN for a repository that was just read: the registry has no referrers route and took the path for a repository name");
		else if (!strcmp(code, "NAME_UNKNOWN"))
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
		out->false_200 = 1;
		if (body_is_html(a->content_type, a->body, a->len))
			verdict_set(&out->v, CAP_UNSUPPORTED, "200 with an HTML page%s, not an OCI index",
				    a->redirected ? " after a redirect" : "");
		else
			verdict_set(&out->v, CAP_UNSUPPORTED, "200 but %s", why);
		return;
	}
	if (out->wrong_type)
		verdict_set(&out->v, CAP_SUPPORTED,
			    "200 with a valid index served as '%s' instead of %s: oras, go-containerregistry and regclient all list through the tag schema",
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
	client_oras(a, &out->clients[CLIENT_ORAS]);
	client_ggcr(a, &out->clients[CLIENT_GGCR]);
	client_regclient(a, &out->clients[CLIENT_REGCLIENT]);
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
