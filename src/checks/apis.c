/*
 * check.integration.oci.apis: the API table. Which of the registry APIs
 * that the OCI conformance suite tracks does this registry serve, judged
 * the way that suite judges them, and which clients need each one?
 *
 * Each of the suite's 28 APIs gets one of its five states: Pass, Skip (a
 * valid "unsupported" answer), Disabled (not tested in this mode), FAIL
 * or Error. A state only rises, as in the suite: an API is as bad as the
 * worst case that used it, so a happy path with a wrong answer to a
 * negative case (an invalid range not refused with 416, a malformed digest
 * answered 500) is FAIL, and the why names that case.
 *
 * Without writing anything, in two waves of parallel requests on the
 * test image:
 *  1. the manifest by tag (GET and HEAD), the tag list (whole and n=1),
 *     and the negative cases: a manifest digest and a tag that cannot
 *     exist (404), a malformed digest (404 or 400), a blob that cannot
 *     exist (404), the referrers of a digest that cannot exist (an empty
 *     OCI index);
 *  2. on what the manifest names: the manifest by digest (GET and HEAD),
 *     each blob up to BLOB_GET_MAX bytes (GET and HEAD), six range
 *     requests on the largest of them (four valid, two to be refused with
 *     416), the tag list from the middle (last=), and the referrers of
 *     the manifest with and without an artifactType filter.
 * Ping is the registry check's GET /v2/. Of the write APIs, only what the
 * write probes of other checks prove is judged: the push check's upload
 * session cancelled at once (Blob upload cancel) and the capabilities
 * check's mount (Blob mount); both run alongside and are read at the end.
 * Every other write API is Disabled, and with --writes none all of them.
 */
#include "checks/check.h"
#include "checks/verdict.h"
#include "util/buf.h"
#include "util/digest.h"
#include "util/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOB_GET_MAX (1024L * 1024)   /* larger blobs are only HEADed */
#define BLOBS_MAX 8                   /* blobs of the test image looked at */
#define RANGE_CASES 6
#define INDEX_TYPE "application/vnd.oci.image.index.v1+json"
#define PROBE_ARTIFACT_TYPE "application/vnd.ocidoctor.probe.v1+json"

static const char *const tags[] = { "registry", "oci", "conformance", "compatibility", NULL };

/* The suite's APIs, in its order, with its names. */
enum api_id {
	API_TAG_LIST, API_TAG_DELETE, API_TAG_DELETE_ATOMIC, API_BLOB_CANCEL, API_BLOB_PUSH,
	API_BLOB_POST_ONLY, API_BLOB_POST_PUT, API_BLOB_CHUNKED, API_BLOB_STREAM, API_BLOB_MOUNT,
	API_BLOB_MOUNT_ANON, API_BLOB_GET, API_BLOB_RANGE, API_BLOB_HEAD, API_BLOB_DELETE,
	API_BLOB_DELETE_ATOMIC, API_MAN_PUT_DIGEST, API_MAN_PUT_TAG, API_MAN_PUT_TAG_PARAM,
	API_MAN_PUT_SUBJECT, API_MAN_GET_DIGEST, API_MAN_GET_TAG, API_MAN_HEAD_DIGEST,
	API_MAN_HEAD_TAG, API_MAN_DELETE, API_MAN_DELETE_ATOMIC, API_REFERRERS, API_PING, API_N
};

struct api_def {
	const char *name;
	const char *group;            /* "registry", "blobs", "manifests", "tags", "referrers" */
	int writes;
	const char *const *used_by;   /* NULL-terminated */
};

#define USED(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const struct api_def api_defs[API_N] = {
	[API_TAG_LIST] = { "Tag listing", "tags", 0,
		USED("crane ls", "regctl tag ls", "oras repo tags", "skopeo list-tags",
		     "image updaters (Renovate, Flux, Argo CD Image Updater)", "retention jobs",
		     "the referrers tag schema (clients without the Referrers API)") },
	[API_TAG_DELETE] = { "Tag delete", "tags", 1,
		USED("regctl tag rm", "retention jobs") },
	[API_TAG_DELETE_ATOMIC] = { "Tag delete atomic", "tags", 1,
		USED("retention jobs that check their work at once") },
	[API_BLOB_CANCEL] = { "Blob upload cancel", "blobs", 1,
		USED("interrupted pushes that clean up (docker push, regctl)") },
	[API_BLOB_PUSH] = { "Blob push", "blobs", 1,
		USED("docker push", "buildkit", "crane push", "oras push", "regctl image copy") },
	[API_BLOB_POST_ONLY] = { "Blob post only", "blobs", 1,
		USED("clients that upload a small blob in one POST") },
	[API_BLOB_POST_PUT] = { "Blob post put", "blobs", 1,
		USED("crane and go-containerregistry", "oras push", "regctl") },
	[API_BLOB_CHUNKED] = { "Blob chunked", "blobs", 1,
		USED("docker push (containerd) of large layers", "regctl") },
	[API_BLOB_STREAM] = { "Blob streaming", "blobs", 1,
		USED("docker push streams layers", "buildkit") },
	[API_BLOB_MOUNT] = { "Blob mount", "blobs", 1,
		USED("crane copy", "docker push of images sharing base layers",
		     "registry replication") },
	[API_BLOB_MOUNT_ANON] = { "Blob anonymous mount", "blobs", 1,
		USED("clients that mount by digest without naming the source") },
	[API_BLOB_GET] = { "Blob get", "blobs", 0,
		USED("every pull (docker pull, containerd, crane pull, oras pull)") },
	[API_BLOB_RANGE] = { "Blob get range", "blobs", 0,
		USED("resumed pulls (containerd)", "lazy-pulling snapshotters (stargz, SOCI)") },
	[API_BLOB_HEAD] = { "Blob head", "blobs", 0,
		USED("docker push (skips layers the registry has)", "crane copy") },
	[API_BLOB_DELETE] = { "Blob delete", "blobs", 1,
		USED("garbage-collection and retention jobs") },
	[API_BLOB_DELETE_ATOMIC] = { "Blob delete atomic", "blobs", 1,
		USED("garbage-collection jobs that check their work at once") },
	[API_MAN_PUT_DIGEST] = { "Manifest put by digest", "manifests", 1,
		USED("multi-platform pushes (docker buildx, crane copy)", "registry replication") },
	[API_MAN_PUT_TAG] = { "Manifest put by tag", "manifests", 1,
		USED("docker push", "crane push", "oras push") },
	[API_MAN_PUT_TAG_PARAM] = { "Manifest put with tag params", "manifests", 1,
		USED("clients that tag on push in one request (OCI-Tag)") },
	[API_MAN_PUT_SUBJECT] = { "Manifest put with subject", "manifests", 1,
		USED("cosign sign and attest", "notation sign", "oras attach") },
	[API_MAN_GET_DIGEST] = { "Manifest get by digest", "manifests", 0,
		USED("pulls by digest (Kubernetes image@sha256)",
		     "docker pull of a multi-platform image's platform manifest") },
	[API_MAN_GET_TAG] = { "Manifest get by tag", "manifests", 0,
		USED("docker pull", "crane pull", "Kubernetes") },
	[API_MAN_HEAD_DIGEST] = { "Manifest head by digest", "manifests", 0,
		USED("crane copy (skips what exists)", "cosign verify") },
	[API_MAN_HEAD_TAG] = { "Manifest head by tag", "manifests", 0,
		USED("docker pull (resolves the tag)", "crane digest",
		     "image updaters (Renovate, Flux, Argo CD Image Updater)") },
	[API_MAN_DELETE] = { "Manifest delete", "manifests", 1,
		USED("crane delete", "regctl manifest rm", "garbage-collection and retention jobs") },
	[API_MAN_DELETE_ATOMIC] = { "Manifest delete atomic", "manifests", 1,
		USED("retention jobs that check their work at once") },
	[API_REFERRERS] = { "Referrers", "referrers", 0,
		USED("oras discover", "cosign tree and verify", "notation verify",
		     "regctl artifact list") },
	[API_PING] = { "Ping", "registry", 0,
		USED("every client before its first request (docker login, crane, oras)") },
};

/* The table's display order: by group, then the suite's order. */
static const char *const group_order[] = { "registry", "blobs", "manifests", "tags",
					    "referrers", NULL };

/* The suite's states, in its order: a state only rises. */
enum api_state { ST_UNKNOWN = 0, ST_DISABLED, ST_SKIP, ST_PASS, ST_FAIL, ST_ERROR };

static const char *const state_names[] = {
	[ST_UNKNOWN] = "Disabled", [ST_DISABLED] = "Disabled", [ST_SKIP] = "Skip",
	[ST_PASS] = "Pass", [ST_FAIL] = "FAIL", [ST_ERROR] = "Error",
};

struct api_row {
	enum api_state state;
	char *why;                    /* of the worst case so far */
	json_t *evidence;             /* array of "METHOD path: status" */
};

struct blob_ref {
	char *digest;
	long size;                    /* -1 when the descriptor has none */
	struct registry_call get, head;
	char *path;
};

struct range_case {
	const char *name;             /* in words, for the why */
	char header[96];
	long from, to;                /* the bytes a 206 must hold; from < 0: a 416 is due */
	struct registry_call call;
	struct curl_slist *headers;
};

struct table {
	struct check_ctx *ctx;
	const char *repo;
	struct api_row rows[API_N];
	struct curl_slist *accept;
	/* wave 1 */
	struct registry_call man_tag, man_tag_head, tags, tags_n, man_missing, tag_missing,
		man_bad, blob_missing, ref_missing;
	char *paths[9];
	/* wave 2 */
	char *digest;                 /* of the manifest, from its bytes */
	char *media_type;             /* its Content-Type */
	struct registry_call man_dig, man_dig_head, tags_last, refs, refs_filtered;
	char *paths2[5];
	char *last;                   /* the tag given as last=, or NULL */
	json_t *tag_list;             /* wave 1's sorted tags */
	struct blob_ref blobs[BLOBS_MAX];
	size_t nr_blobs;
	struct range_case ranges[RANGE_CASES];
	struct blob_ref *range_blob;
	int image_missing;
};

/* ---- notes ------------------------------------------------------------- */

static void note(struct table *t, enum api_id a, enum api_state s, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Raises an API to state s, with why, when s is worse than what it has. */
static void note(struct table *t, enum api_id a, enum api_state s, const char *fmt, ...)
{
	struct api_row *row = &t->rows[a];
	va_list ap;

	if (s < row->state || (s == row->state && row->why))
		return;
	va_start(ap, fmt);
	free(row->why);
	row->why = text_vfmt(fmt, ap);
	va_end(ap);
	row->state = s;
}

/* Records a call as evidence of an API. */
static void cite(struct table *t, enum api_id a, const struct registry_call *c)
{
	const char *hdr = NULL;
	char *line;

	if (!t->rows[a].evidence)
		t->rows[a].evidence = json_array();
	if (c->headers && !strncmp(c->headers->data, "Range:", 6))
		hdr = c->headers->data;
	if (c->resp.status)
		line = xstrfmt("%s %s%s%s: %ld", c->method, c->path, hdr ? " " : "",
			       hdr ? hdr : "", c->resp.status);
	else
		line = xstrfmt("%s %s: no answer", c->method, c->path);
	text_sanitize(line);
	json_array_append_new(t->rows[a].evidence, json_string(line));
	free(line);
}

/*
 * Cites the call; when it got no usable answer notes that and returns 1:
 * an answer that broke off is FAIL (the suite cannot read it either), no
 * answer at all is Error (nothing was judged).
 */
static int unanswered(struct table *t, enum api_id a, const struct registry_call *c,
		      const char *what)
{
	cite(t, a, c);
	if (c->resp.status && c->error == REG_ERR_NONE && c->resp.failure == HTTP_OK)
		return 0;
	if (c->resp.status)
		note(t, a, ST_FAIL, "%s answered %ld, then the answer broke off: %s", what,
		     c->resp.status, call_failure_text(c));
	else
		note(t, a, ST_ERROR, "%s got no answer: %s", what, call_failure_text(c));
	return 1;
}

/* A negative case: the status must be one of want (0-terminated). */
static void expect_refusal(struct table *t, enum api_id a, const struct registry_call *c,
			   const char *what, const long *want, const char *want_text)
{
	size_t i;

	if (unanswered(t, a, c, what))
		return;
	for (i = 0; want[i]; i++)
		if (c->resp.status == want[i]) {
			note(t, a, ST_PASS, "%s answered %ld", what, c->resp.status);
			return;
		}
	note(t, a, ST_FAIL, "%s answered %ld, not %s", what, c->resp.status, want_text);
}

/* Docker-Content-Digest, when sent, must name the digest asked for. */
static int digest_header_wrong(const struct registry_call *c, const char *digest)
{
	const char *h = http_header_get(&c->resp, "Docker-Content-Digest");

	return h && digest && strcmp(h, digest);
}

/* ---- setup ------------------------------------------------------------- */

static void call_init(struct registry_call *c, const char *method, const char *path,
		      const char *repo, const struct curl_slist *headers)
{
	memset(c, 0, sizeof(*c));
	c->method = method;
	c->path = path;
	c->repository = repo;
	c->actions = REG_PULL;
	c->headers = headers;
	c->follow = 1;
}

static char *random_digest(void)
{
	char hex[65];

	random_hex(hex, 32);
	return xstrfmt("sha256:%s", hex);
}

static void wave1_setup(struct table *t, const char *tag)
{
	const char *r = t->repo;
	char *missing = random_digest(), *missing2 = random_digest(), *missing3 = random_digest();
	char suffix[21];

	random_hex(suffix, 10);
	t->paths[0] = xstrfmt("/v2/%s/manifests/%s", r, tag);
	t->paths[1] = xstrfmt("/v2/%s/tags/list", r);
	t->paths[2] = xstrfmt("/v2/%s/tags/list?n=1", r);
	t->paths[3] = xstrfmt("/v2/%s/manifests/%s", r, missing);
	t->paths[4] = xstrfmt("/v2/%s/manifests/missing-%s", r, suffix);
	t->paths[5] = xstrfmt("/v2/%s/manifests/sha256:baddigeststring", r);
	t->paths[6] = xstrfmt("/v2/%s/blobs/%s", r, missing2);
	t->paths[7] = xstrfmt("/v2/%s/referrers/%s", r, missing3);
	call_init(&t->man_tag, "GET", t->paths[0], r, t->accept);
	call_init(&t->man_tag_head, "HEAD", t->paths[0], r, t->accept);
	call_init(&t->tags, "GET", t->paths[1], r, NULL);
	call_init(&t->tags_n, "GET", t->paths[2], r, NULL);
	call_init(&t->man_missing, "GET", t->paths[3], r, t->accept);
	call_init(&t->tag_missing, "GET", t->paths[4], r, t->accept);
	call_init(&t->man_bad, "GET", t->paths[5], r, t->accept);
	call_init(&t->blob_missing, "GET", t->paths[6], r, NULL);
	call_init(&t->ref_missing, "GET", t->paths[7], r, NULL);
	/* answers judged by their status, or small when right: no more than an error page is kept */
	t->tags_n.keep_max = HTTP_MAX_SHOWN_BODY;
	t->man_missing.keep_max = HTTP_MAX_SHOWN_BODY;
	t->tag_missing.keep_max = HTTP_MAX_SHOWN_BODY;
	t->man_bad.keep_max = HTTP_MAX_SHOWN_BODY;
	t->blob_missing.keep_max = HTTP_MAX_SHOWN_BODY;
	t->ref_missing.keep_max = HTTP_MAX_SHOWN_BODY;
	free(missing);
	free(missing2);
	free(missing3);
}

/* ---- wave 1: tags and the negative cases ------------------------------ */

/* The tags of a tag list answer, or NULL when it is not one. New reference. */
static json_t *tag_names(const struct registry_call *c)
{
	json_t *doc = json_loadb(c->resp.body.data, c->resp.body.len, 0, NULL);
	json_t *list = json_object_get(doc, "tags"), *out = NULL;

	if (json_is_array(list) || json_is_null(list) || (doc && !list))
		out = json_is_array(list) ? json_incref(list) : json_array();
	json_decref(doc);
	return out;
}

static int tag_listed(json_t *list, const char *tag)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), tag))
			return 1;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The sorted strings of a JSON array (count in *n); the array owns them. */
static const char **sorted_tags(json_t *list, size_t *n)
{
	const char **v = xcalloc(json_array_size(list) + 1, sizeof(*v));
	size_t i;
	json_t *e;

	*n = 0;
	json_array_foreach(list, i, e)
		if (json_is_string(e))
			v[(*n)++] = json_string_value(e);
	qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static void judge_tags(struct table *t, const char *tag)
{
	json_t *list, *paged;

	if (unanswered(t, API_TAG_LIST, &t->tags, "the tag list"))
		return;
	if (t->tags.resp.status == 404) {
		note(t, API_TAG_LIST, t->image_missing ? ST_PASS : ST_FAIL,
		     t->image_missing ? "the tag list of a repository without the test image answered 404"
				      : "the tag list answered 404 although the test image exists");
		return;
	}
	list = t->tags.resp.status == 200 ? tag_names(&t->tags) : NULL;
	if (!list) {
		note(t, API_TAG_LIST, ST_FAIL, "the tag list answered %ld%s", t->tags.resp.status,
		     t->tags.resp.status == 200 ? " without a JSON tag list" : ", not 200 or 404");
		return;
	}
	if (!t->image_missing && !tag_listed(list, tag))
		note(t, API_TAG_LIST, ST_FAIL, "the tag list leaves out the test image's tag %s", tag);
	else
		note(t, API_TAG_LIST, ST_PASS, "the tag list holds %zu tag(s)", json_array_size(list));
	t->tag_list = list;
	if (unanswered(t, API_TAG_LIST, &t->tags_n, "the tag list with n=1"))
		return;
	paged = t->tags_n.resp.status == 200 ? tag_names(&t->tags_n) : NULL;
	if (!paged)
		note(t, API_TAG_LIST, ST_FAIL, "the tag list with n=1 answered %ld without a tag list",
		     t->tags_n.resp.status);
	else if (json_array_size(paged) > 1)
		note(t, API_TAG_LIST, ST_FAIL, "the tag list with n=1 answered %zu tags, not at most one",
		     json_array_size(paged));
	json_decref(paged);
}

static void judge_negatives(struct table *t)
{
	static const long only_404[] = { 404, 0 }, bad_digest[] = { 404, 400, 0 };

	expect_refusal(t, API_MAN_GET_DIGEST, &t->man_missing,
		       "the manifest of a digest that does not exist", only_404, "404");
	expect_refusal(t, API_MAN_GET_TAG, &t->tag_missing,
		       "the manifest of a tag that does not exist", only_404, "404");
	expect_refusal(t, API_MAN_GET_DIGEST, &t->man_bad,
		       "the manifest of the malformed digest sha256:baddigeststring", bad_digest,
		       "404 or 400");
	expect_refusal(t, API_BLOB_GET, &t->blob_missing, "a blob that does not exist", only_404,
		       "404");
}

/*
 * A referrers answer as the suite takes it: 200, Content-Type exactly the
 * OCI index media type, a body with that mediaType and schemaVersion 2.
 * Returns the parsed index (new reference) or NULL after noting FAIL.
 */
static json_t *referrers_index(struct table *t, const struct registry_call *c, const char *what)
{
	const char *type;
	json_t *doc, *mt;

	if (unanswered(t, API_REFERRERS, c, what))
		return NULL;
	if (c->resp.status != 200) {
		note(t, API_REFERRERS, ST_FAIL, "%s answered %ld, not 200 with an OCI index", what,
		     c->resp.status);
		return NULL;
	}
	type = http_header_get(&c->resp, "Content-Type");
	if (!type || strcmp(type, INDEX_TYPE)) {
		note(t, API_REFERRERS, ST_FAIL, "%s answered 200 with Content-Type %s, not %s", what,
		     type ? type : "(none)", INDEX_TYPE);
		return NULL;
	}
	doc = json_loadb(c->resp.body.data, c->resp.body.len, 0, NULL);
	mt = json_object_get(doc, "mediaType");
	if (!json_is_string(mt) || strcmp(json_string_value(mt), INDEX_TYPE) ||
	    json_integer_value(json_object_get(doc, "schemaVersion")) != 2 ||
	    !json_is_array(json_object_get(doc, "manifests"))) {
		note(t, API_REFERRERS, ST_FAIL,
		     "%s is not an OCI index (mediaType, schemaVersion 2 and manifests)", what);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static void judge_referrers_missing(struct table *t)
{
	json_t *idx = referrers_index(t, &t->ref_missing, "the referrers of a digest without any");

	if (idx)
		note(t, API_REFERRERS, ST_PASS, "answered with an OCI index");
	json_decref(idx);
}

/* ---- the manifest ------------------------------------------------------ */

/* Adds a blob descriptor of the manifest, once each. */
static void add_blob(struct table *t, json_t *desc)
{
	const char *d = json_string_value(json_object_get(desc, "digest"));
	json_t *size = json_object_get(desc, "size");
	size_t i;

	if (!d || digest_valid(d, NULL) || t->nr_blobs == BLOBS_MAX)
		return;
	for (i = 0; i < t->nr_blobs; i++)
		if (!strcmp(t->blobs[i].digest, d))
			return;
	t->blobs[t->nr_blobs].digest = xstrdup(d);
	t->blobs[t->nr_blobs].size = json_is_integer(size) ? (long)json_integer_value(size) : -1;
	t->nr_blobs++;
}

/* The config and layers of an image manifest (an index names none). */
static void collect_blobs(struct table *t, json_t *doc)
{
	json_t *layers = json_object_get(doc, "layers"), *l;
	size_t i;

	if (json_is_object(json_object_get(doc, "config")))
		add_blob(t, json_object_get(doc, "config"));
	json_array_foreach(layers, i, l)
		add_blob(t, l);
}

/* GET and HEAD of the manifest by tag; 0 when the manifest was fetched. */
static int judge_manifest_tag(struct table *t, const char *tag)
{
	const struct registry_call *g = &t->man_tag, *h = &t->man_tag_head;
	const char *why = NULL;
	char type[128];
	json_t *doc;

	if (unanswered(t, API_MAN_GET_TAG, g, "the manifest by tag"))
		return -1;
	if (g->resp.status == 404) {
		t->image_missing = 1;
		return -1;
	}
	http_content_type(&g->resp, type, sizeof(type));
	if (g->resp.status != 200 || manifest_body_valid(type, g->resp.body.data, g->resp.body.len,
							 &why)) {
		note(t, API_MAN_GET_TAG, ST_FAIL, "the manifest of tag %s answered %ld%s%s", tag,
		     g->resp.status, why ? ": " : "", why ? why : "");
		return -1;
	}
	t->digest = sha256_digest_of(g->resp.body.data, g->resp.body.len);
	t->media_type = xstrdup(type);
	if (digest_header_wrong(g, t->digest))
		note(t, API_MAN_GET_TAG, ST_FAIL, "Docker-Content-Digest names %s, the bytes hash to %s",
		     http_header_get(&g->resp, "Docker-Content-Digest"), t->digest);
	else
		note(t, API_MAN_GET_TAG, ST_PASS, "the manifest of tag %s (%s)", tag, type);
	doc = json_loadb(g->resp.body.data, g->resp.body.len, 0, NULL);
	collect_blobs(t, doc);
	json_decref(doc);
	if (unanswered(t, API_MAN_HEAD_TAG, h, "HEAD of the manifest by tag"))
		return 0;
	if (h->resp.status != 200)
		note(t, API_MAN_HEAD_TAG, ST_FAIL, "HEAD of the manifest of tag %s answered %ld", tag,
		     h->resp.status);
	else if (digest_header_wrong(h, t->digest))
		note(t, API_MAN_HEAD_TAG, ST_FAIL, "Docker-Content-Digest names %s, not %s",
		     http_header_get(&h->resp, "Docker-Content-Digest"), t->digest);
	else
		note(t, API_MAN_HEAD_TAG, ST_PASS, "HEAD answered 200");
	return 0;
}

static void judge_manifest_digest(struct table *t)
{
	const struct registry_call *g = &t->man_dig, *h = &t->man_dig_head;
	char type[128];
	char *got;

	if (!unanswered(t, API_MAN_GET_DIGEST, g, "the manifest by digest")) {
		http_content_type(&g->resp, type, sizeof(type));
		got = g->resp.status == 200 ? sha256_digest_of(g->resp.body.data, g->resp.body.len)
					    : NULL;
		if (!got)
			note(t, API_MAN_GET_DIGEST, ST_FAIL, "the manifest by digest answered %ld",
			     g->resp.status);
		else if (strcmp(got, t->digest))
			note(t, API_MAN_GET_DIGEST, ST_FAIL, "the manifest fetched by %s hashes to %s",
			     t->digest, got);
		else if (digest_header_wrong(g, t->digest))
			note(t, API_MAN_GET_DIGEST, ST_FAIL, "Docker-Content-Digest names %s, not %s",
			     http_header_get(&g->resp, "Docker-Content-Digest"), t->digest);
		else if (strcmp(type, t->media_type))
			note(t, API_MAN_GET_DIGEST, ST_FAIL, "by digest the Content-Type is %s, by tag %s",
			     type, t->media_type);
		else
			note(t, API_MAN_GET_DIGEST, ST_PASS, "the manifest by digest answered 200");
		free(got);
	}
	if (unanswered(t, API_MAN_HEAD_DIGEST, h, "HEAD of the manifest by digest"))
		return;
	if (h->resp.status != 200)
		note(t, API_MAN_HEAD_DIGEST, ST_FAIL, "HEAD of the manifest by digest answered %ld",
		     h->resp.status);
	else if (digest_header_wrong(h, t->digest))
		note(t, API_MAN_HEAD_DIGEST, ST_FAIL, "Docker-Content-Digest names %s, not %s",
		     http_header_get(&h->resp, "Docker-Content-Digest"), t->digest);
	else
		note(t, API_MAN_HEAD_DIGEST, ST_PASS, "HEAD answered 200");
}

/* ---- blobs and ranges --------------------------------------------------- */

/* One range case: the Range header's value, and the bytes a 206 must hold (from < 0: 416). */
static void range_add(struct table *t, size_t i, const char *name, const char *range, long from,
		      long to)
{
	struct range_case *rc = &t->ranges[i];

	rc->name = name;
	rc->from = from;
	rc->to = to;
	snprintf(rc->header, sizeof(rc->header), "Range: bytes=%s", range);
	rc->headers = curl_slist_append(NULL, rc->header);
	call_init(&rc->call, "GET", t->range_blob->path, t->repo, rc->headers);
	/* one byte over the blob: an answer longer than it is wrong, and is not kept whole */
	rc->call.keep_max = (size_t)t->range_blob->size + 1;
}

/*
 * The six range cases of the suite, scaled to the blob's length L: a
 * middle slice, an open end, a suffix, an end past the blob, an inverted
 * range and a start past the end (the last two due 416).
 */
static void ranges_setup(struct table *t)
{
	struct blob_ref *best = NULL;
	char r[64];
	long len, a, b;
	size_t i;

	for (i = 0; i < t->nr_blobs; i++)
		if (t->blobs[i].path && t->blobs[i].size >= 4 &&
		    (!best || t->blobs[i].size > best->size))
			best = &t->blobs[i];
	if (!best)
		return;
	t->range_blob = best;
	len = best->size;
	a = len / 4;
	b = len / 2;
	snprintf(r, sizeof(r), "%ld-%ld", a, b);
	range_add(t, 0, "a slice in the middle", r, a, b);
	snprintf(r, sizeof(r), "%ld-", a);
	range_add(t, 1, "an open-ended range", r, a, len - 1);
	snprintf(r, sizeof(r), "-%ld", a);
	range_add(t, 2, "a suffix range", r, len - a, len - 1);
	snprintf(r, sizeof(r), "%ld-%ld", b, len + 1000);
	range_add(t, 3, "a range that ends past the blob", r, b, len - 1);
	snprintf(r, sizeof(r), "%ld-%ld", b, a);
	range_add(t, 4, "an inverted range", r, -1, -1);
	snprintf(r, sizeof(r), "%ld-%ld", len + 10, len + 100);
	range_add(t, 5, "a range that starts past the end", r, -1, -1);
}

static int content_range_ok(const char *cr, long from, long to, long len)
{
	char want[64], star[64];

	snprintf(want, sizeof(want), "bytes %ld-%ld/%ld", from, to, len);
	snprintf(star, sizeof(star), "bytes %ld-%ld/*", from, to);
	return cr && (!strcmp(cr, want) || !strcmp(cr, star));
}

static void judge_range(struct table *t, const struct range_case *rc, const struct buf *whole)
{
	const struct registry_call *c = &rc->call;
	long len = t->range_blob->size;

	if (unanswered(t, API_BLOB_RANGE, c, rc->name))
		return;
	if (c->resp.status == 200 && whole && c->resp.body.len == whole->len &&
	    !memcmp(c->resp.body.data, whole->data, whole->len)) {
		note(t, API_BLOB_RANGE, ST_SKIP, "%s answered 200 with the whole blob: ranges are not served",
		     rc->name);
		return;
	}
	if (rc->from < 0) {
		if (c->resp.status == 416)
			note(t, API_BLOB_RANGE, ST_PASS, "%s was refused with 416", rc->name);
		else
			note(t, API_BLOB_RANGE, ST_FAIL, "%s (%s) answered %ld, not 416", rc->name,
			     rc->header + 7, c->resp.status);
		return;
	}
	if (c->resp.status != 206)
		note(t, API_BLOB_RANGE, ST_FAIL, "%s (%s) answered %ld, not 206", rc->name,
		     rc->header + 7, c->resp.status);
	else if (!content_range_ok(http_header_get(&c->resp, "Content-Range"), rc->from, rc->to, len))
		note(t, API_BLOB_RANGE, ST_FAIL, "%s (%s) answered Content-Range %s, not bytes %ld-%ld/%ld",
		     rc->name, rc->header + 7,
		     http_header_get(&c->resp, "Content-Range") ? http_header_get(&c->resp, "Content-Range")
								: "(none)", rc->from, rc->to, len);
	else if (whole && (c->resp.body.len != (size_t)(rc->to - rc->from + 1) ||
			   memcmp(c->resp.body.data, whole->data + rc->from, c->resp.body.len)))
		note(t, API_BLOB_RANGE, ST_FAIL, "%s (%s) answered other bytes than the blob holds there",
		     rc->name, rc->header + 7);
	else
		note(t, API_BLOB_RANGE, ST_PASS, "%s answered 206 with the bytes asked for", rc->name);
}

static void blobs_setup(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nr_blobs; i++) {
		struct blob_ref *b = &t->blobs[i];

		b->path = xstrfmt("/v2/%s/blobs/%s", t->repo, b->digest);
		if (b->size >= 0 && b->size <= BLOB_GET_MAX) {
			call_init(&b->get, "GET", b->path, t->repo, NULL);
			/* one byte over its size: a longer answer is wrong, and is not kept whole */
			b->get.keep_max = (size_t)b->size + 1;
		}
		call_init(&b->head, "HEAD", b->path, t->repo, NULL);
	}
	ranges_setup(t);
}

/* The blob's whole bytes, when its GET was right; else NULL. */
static const struct buf *judge_blob(struct table *t, const struct blob_ref *b)
{
	const struct buf *whole = NULL;
	const char *len;
	char *got;

	if (b->get.method && !unanswered(t, API_BLOB_GET, &b->get, "a blob of the test image")) {
		got = b->get.resp.status == 200
			? sha256_digest_of(b->get.resp.body.data, b->get.resp.body.len) : NULL;
		if (!got)
			note(t, API_BLOB_GET, ST_FAIL, "GET of blob %s answered %ld", b->digest,
			     b->get.resp.status);
		else if (!strncmp(b->digest, "sha256:", 7) && strcmp(got, b->digest))
			note(t, API_BLOB_GET, ST_FAIL, "blob %s hashes to %s", b->digest, got);
		else if (digest_header_wrong(&b->get, b->digest))
			note(t, API_BLOB_GET, ST_FAIL, "Docker-Content-Digest names %s, not %s",
			     http_header_get(&b->get.resp, "Docker-Content-Digest"), b->digest);
		else {
			note(t, API_BLOB_GET, ST_PASS, "the test image's blobs answered 200 with their bytes");
			whole = &b->get.resp.body;
		}
		free(got);
	}
	if (unanswered(t, API_BLOB_HEAD, &b->head, "HEAD of a blob of the test image"))
		return whole;
	len = http_header_get(&b->head.resp, "Content-Length");
	if (b->head.resp.status != 200)
		note(t, API_BLOB_HEAD, ST_FAIL, "HEAD of blob %s answered %ld", b->digest,
		     b->head.resp.status);
	else if (b->size >= 0 && (!len || strtol(len, NULL, 10) != b->size))
		note(t, API_BLOB_HEAD, ST_FAIL, "HEAD of blob %s answered Content-Length %s, not %ld",
		     b->digest, len ? len : "(none)", b->size);
	else if (digest_header_wrong(&b->head, b->digest))
		note(t, API_BLOB_HEAD, ST_FAIL, "Docker-Content-Digest names %s, not %s",
		     http_header_get(&b->head.resp, "Docker-Content-Digest"), b->digest);
	else
		note(t, API_BLOB_HEAD, ST_PASS, "HEAD of the test image's blobs answered 200");
	return whole;
}

/* ---- wave 2 ------------------------------------------------------------- */

static void wave2_setup(struct table *t)
{
	const char **sorted;
	size_t n;

	t->paths2[0] = xstrfmt("/v2/%s/manifests/%s", t->repo, t->digest);
	t->paths2[1] = xstrfmt("/v2/%s/referrers/%s", t->repo, t->digest);
	t->paths2[2] = xstrfmt("/v2/%s/referrers/%s?artifactType=%s", t->repo, t->digest,
			       PROBE_ARTIFACT_TYPE);
	call_init(&t->man_dig, "GET", t->paths2[0], t->repo, t->accept);
	call_init(&t->man_dig_head, "HEAD", t->paths2[0], t->repo, t->accept);
	call_init(&t->refs, "GET", t->paths2[1], t->repo, NULL);
	call_init(&t->refs_filtered, "GET", t->paths2[2], t->repo, NULL);
	if (t->tag_list && json_array_size(t->tag_list) >= 2) {
		sorted = sorted_tags(t->tag_list, &n);
		/* a tag is safe in a query as it is; a listing's other strings are not sent */
		if (n >= 2 && tag_valid(sorted[n / 2 - 1], NULL) == 0) {
			t->last = xstrdup(sorted[n / 2 - 1]);
			t->paths2[3] = xstrfmt("/v2/%s/tags/list?last=%s", t->repo, t->last);
			call_init(&t->tags_last, "GET", t->paths2[3], t->repo, NULL);
		}
		free(sorted);
	}
	blobs_setup(t);
}

static void wave2_send(struct table *t)
{
	struct registry_call *calls[5 + 2 * BLOBS_MAX + RANGE_CASES];
	size_t n = 0, i;

	calls[n++] = &t->man_dig;
	calls[n++] = &t->man_dig_head;
	calls[n++] = &t->refs;
	calls[n++] = &t->refs_filtered;
	if (t->tags_last.method)
		calls[n++] = &t->tags_last;
	for (i = 0; i < t->nr_blobs; i++) {
		if (t->blobs[i].get.method)
			calls[n++] = &t->blobs[i].get;
		calls[n++] = &t->blobs[i].head;
	}
	for (i = 0; t->range_blob && i < RANGE_CASES; i++)
		calls[n++] = &t->ranges[i].call;
	registry_call_many(t->ctx->registry, t->ctx->log, calls, n);
}

/* The suite's check of last=: the tags up to it left out, the rest kept. */
static void judge_tags_last(struct table *t)
{
	const char **sorted;
	json_t *paged;
	size_t n, i;

	if (!t->tags_last.method ||
	    unanswered(t, API_TAG_LIST, &t->tags_last, "the tag list with last="))
		return;
	paged = t->tags_last.resp.status == 200 ? tag_names(&t->tags_last) : NULL;
	if (!paged) {
		note(t, API_TAG_LIST, ST_FAIL, "the tag list with last=%s answered %ld without a tag list",
		     t->last, t->tags_last.resp.status);
		return;
	}
	sorted = sorted_tags(t->tag_list, &n);
	for (i = 0; i < n; i++) {
		int listed = tag_listed(paged, sorted[i]);

		if (i < n / 2 && listed) {
			note(t, API_TAG_LIST, ST_FAIL, "the tag list with last=%s still holds %s",
			     t->last, sorted[i]);
			break;
		}
		if (i >= n / 2 && !listed) {
			note(t, API_TAG_LIST, ST_FAIL, "the tag list with last=%s leaves out %s",
			     t->last, sorted[i]);
			break;
		}
	}
	free(sorted);
	json_decref(paged);
}

static void judge_referrers(struct table *t)
{
	json_t *idx = referrers_index(t, &t->refs, "the referrers of the test image"), *m;
	const char *filters;
	size_t i;

	if (idx)
		note(t, API_REFERRERS, ST_PASS, "answered with an OCI index of %zu referrer(s)",
		     json_array_size(json_object_get(idx, "manifests")));
	json_decref(idx);
	idx = referrers_index(t, &t->refs_filtered, "the referrers filtered by artifactType");
	if (!idx)
		return;
	filters = http_header_get(&t->refs_filtered.resp, "OCI-Filters-Applied");
	if (!filters || !strstr(filters, "artifactType")) {
		note(t, API_REFERRERS, ST_SKIP,
		     "the artifactType filter is not applied (no OCI-Filters-Applied): clients filter themselves");
	} else {
		json_array_foreach(json_object_get(idx, "manifests"), i, m) {
			const char *at = json_string_value(json_object_get(m, "artifactType"));

			if (!at || strcmp(at, PROBE_ARTIFACT_TYPE)) {
				note(t, API_REFERRERS, ST_ERROR,
				     "the artifactType filter is said to be applied, yet the answer holds a referrer of type %s",
				     at ? at : "(none)");
				break;
			}
		}
		note(t, API_REFERRERS, ST_PASS, "the artifactType filter is applied");
	}
	json_decref(idx);
}

static void judge_wave2(struct table *t)
{
	const struct buf *range_whole = NULL;
	size_t i;

	judge_manifest_digest(t);
	judge_tags_last(t);
	judge_referrers(t);
	for (i = 0; i < t->nr_blobs; i++) {
		const struct buf *whole = judge_blob(t, &t->blobs[i]);

		if (&t->blobs[i] == t->range_blob)
			range_whole = whole;
	}
	for (i = 0; t->range_blob && i < RANGE_CASES; i++)
		judge_range(t, &t->ranges[i], range_whole);
}

/* ---- writes: what the push and capabilities checks' probes prove ------ */

/* The status of the first exchange of res whose method is m and whose URL holds s; 0 when none. */
static long evidence_status(const struct check_result *res, const char *m, const char *s)
{
	size_t i;

	for (i = 0; res && i < res->evidence.nr; i++) {
		const struct evidence *e = &res->evidence.items[i];

		if (!strcmp(e->method, m) && strstr(e->url, s))
			return e->status;
	}
	return 0;
}

static void judge_cancel(struct table *t)
{
	const struct check_result *push = check_dep(t->ctx, &check_push);
	json_t *d = push ? push->details : NULL;
	long post = json_integer_value(json_object_get(d, "httpStatus"));
	long cancel = json_integer_value(json_object_get(d, "cancelStatus"));

	if (post != 202) {
		note(t, API_BLOB_CANCEL, ST_DISABLED,
		     post ? "the push check's upload session was not opened (%ld): not tested"
			  : "the push check opened no upload session: not tested", post);
		return;
	}
	if (cancel == 204)
		note(t, API_BLOB_CANCEL, ST_PASS,
		     "the push check's upload session (202) was cancelled with 204");
	else if (cancel)
		note(t, API_BLOB_CANCEL, ST_FAIL,
		     "cancelling an upload session answered %ld, not 204", cancel);
	else
		note(t, API_BLOB_CANCEL, ST_ERROR, "the cancel of the push check's upload session got no answer");
}

static void judge_mount(struct table *t)
{
	const struct check_result *caps = check_dep(t->ctx, &check_capabilities);
	long st = evidence_status(caps, "POST", "mount=");

	if (st == 201)
		note(t, API_BLOB_MOUNT, ST_PASS,
		     "the capabilities check's mount answered 201 (a mount of a missing blob is not tried)");
	else if (st == 202)
		note(t, API_BLOB_MOUNT, ST_SKIP,
		     "the capabilities check's mount answered 202: an upload session instead of a mount, as the spec allows");
	else if (st == 401 || st == 403 || st == 405)
		note(t, API_BLOB_MOUNT, ST_DISABLED, "the mount was refused (%ld): not tested", st);
	else if (st)
		note(t, API_BLOB_MOUNT, ST_FAIL, "the capabilities check's mount answered %ld, not 201 or 202",
		     st);
	else
		note(t, API_BLOB_MOUNT, ST_DISABLED, "the capabilities check sent no mount: not tested");
}

static void judge_writes(struct table *t)
{
	const char *why = t->ctx->config->no_writes
		? "not tested: writes are off (--writes none)"
		: "not tested: the write probes do not use this API, and the table pushes nothing";
	size_t i;

	if (!t->ctx->config->no_writes) {
		judge_cancel(t);
		judge_mount(t);
	}
	for (i = 0; i < API_N; i++)
		if (api_defs[i].writes)
			note(t, i, ST_DISABLED, "%s", why);
}

/* ---- the result --------------------------------------------------------- */

static const struct section_def apis_section = {
	.id = "apis",
	.title = "Registry APIs (as the OCI conformance suite names them)",
	.columns = {
		{ .key = "name", .title = "API" },
		{ .key = "group", .title = "Group" },
		{ .key = "state", .title = "State" },
		{ .key = "why", .title = "Why", .long_text = 1 },
	},
};

static json_t *strings_json(const char *const *v)
{
	json_t *a = json_array();

	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static void write_result(struct table *t)
{
	struct result_section *sec = result_section(t->ctx->result, &apis_section);
	json_t *apis = json_object();
	size_t g, i, n[ST_ERROR + 1] = { 0 };
	struct buf failed;

	buf_init(&failed, BUF_TEXT_MAX);
	for (g = 0; group_order[g]; g++)
		for (i = 0; i < API_N; i++) {
			struct api_row *row = &t->rows[i];
			const char *state = state_names[row->state];

			if (strcmp(api_defs[i].group, group_order[g]))
				continue;
			if (!row->why)
				row->why = xstrdup("not tested");
			n[row->state == ST_UNKNOWN ? ST_DISABLED : row->state]++;
			if (row->state >= ST_FAIL)
				buf_addf(&failed, "%s%s", failed.len ? ", " : "", api_defs[i].name);
			json_object_set_new(apis, api_defs[i].name,
					    json_pack("{s:s, s:s, s:s, s:o, s:o}", "group", api_defs[i].group,
						      "state", state, "why", row->why, "evidence",
						      row->evidence ? json_incref(row->evidence) : json_array(),
						      "usedBy", strings_json(api_defs[i].used_by)));
			section_row(sec, (const char *const[]){ api_defs[i].name, api_defs[i].group, state,
								row->why });
		}
	json_object_set_new(t->ctx->result->details, "apis", apis);
	if (n[ST_FAIL] || n[ST_ERROR])
		check_set(t->ctx, STATUS_WARN, "nonconformant",
			  "%zu of %d APIs fail as the OCI conformance suite judges them (%s); %zu pass, %zu skip, %zu not tested",
			  n[ST_FAIL] + n[ST_ERROR], API_N, failed.data ? failed.data : "", n[ST_PASS], n[ST_SKIP], n[ST_DISABLED]);
	else if (t->image_missing)
		check_set(t->ctx, STATUS_WARN, "no-image",
			  "the test image does not exist: its read APIs were not tested; %zu pass, %zu skip, %zu not tested",
			  n[ST_PASS], n[ST_SKIP], n[ST_DISABLED]);
	else
		check_set(t->ctx, STATUS_PASS, NULL,
			  "%zu of %d APIs pass, %zu skip (a valid unsupported answer), %zu not tested",
			  n[ST_PASS], API_N, n[ST_SKIP], n[ST_DISABLED]);
	buf_release(&failed);
}

static void table_release(struct table *t)
{
	struct registry_call *calls[] = { &t->man_tag, &t->man_tag_head, &t->tags, &t->tags_n,
		&t->man_missing, &t->tag_missing, &t->man_bad, &t->blob_missing, &t->ref_missing,
		&t->man_dig, &t->man_dig_head, &t->tags_last, &t->refs, &t->refs_filtered };
	size_t i;

	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		registry_call_release(calls[i]);
	for (i = 0; i < sizeof(t->paths) / sizeof(t->paths[0]); i++)
		free(t->paths[i]);
	for (i = 0; i < sizeof(t->paths2) / sizeof(t->paths2[0]); i++)
		free(t->paths2[i]);
	for (i = 0; i < t->nr_blobs; i++) {
		registry_call_release(&t->blobs[i].get);
		registry_call_release(&t->blobs[i].head);
		free(t->blobs[i].digest);
		free(t->blobs[i].path);
	}
	for (i = 0; i < RANGE_CASES; i++) {
		registry_call_release(&t->ranges[i].call);
		curl_slist_free_all(t->ranges[i].headers);
	}
	for (i = 0; i < API_N; i++) {
		free(t->rows[i].why);
		json_decref(t->rows[i].evidence);
	}
	json_decref(t->tag_list);
	curl_slist_free_all(t->accept);
	free(t->digest);
	free(t->media_type);
	free(t->last);
}

static void judge_ping(struct table *t)
{
	const struct http_response *ping = t->ctx->facts->ping;
	char *line;

	if (!t->rows[API_PING].evidence)
		t->rows[API_PING].evidence = json_array();
	if (!ping) {
		note(t, API_PING, ST_FAIL, "GET /v2/ got no answer");
		return;
	}
	line = xstrfmt("GET /v2/: %ld (the registry check's request)", ping->status);
	json_array_append_new(t->rows[API_PING].evidence, json_string(line));
	free(line);
	note(t, API_PING, ST_PASS, "GET /v2/ answered %ld", ping->status);
}

static void describe(struct check_ctx *ctx)
{
	detail_str(ctx, "reference", ctx->config->tag);
}

static void run(struct check_ctx *ctx)
{
	struct table t = { .ctx = ctx, .repo = ctx->config->repository };
	const char *tag = ctx->config->tag;

	t.accept = manifest_accept_headers();
	wave1_setup(&t, tag);
	registry_call_many(ctx->registry, ctx->log,
			   (struct registry_call *const[]){ &t.man_tag, &t.man_tag_head, &t.tags,
							    &t.tags_n, &t.man_missing, &t.tag_missing,
							    &t.man_bad, &t.blob_missing, &t.ref_missing },
			   9);
	judge_ping(&t);
	/* the happy paths first, so that an API that passes says why by them */
	if (judge_manifest_tag(&t, tag) == 0) {
		judge_tags(&t, tag);
		wave2_setup(&t);
		wave2_send(&t);
		judge_wave2(&t);
	} else {
		judge_tags(&t, tag);
	}
	judge_negatives(&t);
	judge_referrers_missing(&t);
	if (t.image_missing) {
		static const enum api_id on_image[] = { API_MAN_GET_TAG, API_MAN_HEAD_TAG,
			API_MAN_GET_DIGEST, API_MAN_HEAD_DIGEST, API_BLOB_GET, API_BLOB_HEAD,
			API_BLOB_RANGE };
		size_t i;

		for (i = 0; i < sizeof(on_image) / sizeof(on_image[0]); i++)
			note(&t, on_image[i], ST_DISABLED, "not tested: the test image does not exist");
	}
	if (t.digest && !t.range_blob)
		note(&t, API_BLOB_RANGE, ST_DISABLED,
		     "not tested: the test image has no blob of 4 bytes to 1 MiB to read ranges of");
	if (t.digest && !t.nr_blobs) {
		note(&t, API_BLOB_GET, ST_DISABLED,
		     "not tested: the test image names no blob (an index names only manifests)");
		note(&t, API_BLOB_HEAD, ST_DISABLED,
		     "not tested: the test image names no blob (an index names only manifests)");
	}
	judge_writes(&t);
	write_result(&t);
	table_release(&t);
}

const struct check check_apis = {
	.id = "check.integration.oci.apis",
	.title = "OCI Registry API Table",
	.plugin = "stellaops.doctor.integration",
	.tags = tags,
	.severity = STATUS_WARN,
	.deps = (const struct check *const[]){ &check_registry, NULL },
	.uses = (const struct check *const[]){ &check_push, &check_capabilities, NULL },
	.summary = "the 28 registry APIs of the OCI conformance suite, judged as it judges them",
	.run = run,
	.needs = NEED_REACHABLE,
	.opt_in = 1,
	.describe = describe,
	.causes = (const char *const[]){ "nonconformant", "no-image", NULL },
};
