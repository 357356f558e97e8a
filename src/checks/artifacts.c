/*
 * check.integration.oci.artifacts: can a release pipeline attach an
 * artifact (an SBOM, a signature) to an image the way oras, cosign and
 * notation do, and find it again?
 *
 * Only with --writes verify, and only in the scratch repository. With
 * content unique to the run (its run id is in every blob), so runs at the
 * same time never see each other's artifacts:
 *  1. a subject image: config, one layer, an image manifest by digest;
 *  2. an artifact manifest: artifactType, the empty config descriptor, one
 *     layer, the run id as an annotation, and `subject` = the image;
 *  3. the OCI-Subject header of that push: absent, another digest, exact;
 *  4. GET /v2/SCRATCH/referrers/SUBJECT, also with ?artifactType=, for the
 *     pushed descriptor with its artifactType and annotation;
 *  5. where the listing did not find it or OCI-Subject is not exact, the
 *     tag-schema fallback index (tag sha256-<hex>), pushed as the spec
 *     says and read back;
 *  6. a manifest whose subject does not exist (a registry must accept it);
 *  7. a chunked upload of three chunks closed with PUT ?digest= and
 *     verified by HEAD;
 *  8. every manifest by digest (the fallback index too), then every blob
 *     it pushed, deleted and checked gone; what is not is listed in
 *     details.leftovers.
 * Before the first push it proves that deletes work, on content of its
 * own: a DELETE of a manifest and a blob that cannot exist first, whose
 * 405 (or 401/403) stops the run before anything is written; then a small
 * blob unique to the run is uploaded, deleted, and must HEAD 404. Neither
 * depends on the scratch repository existing before the run, nor on a 404
 * for a made-up digest (go-containerregistry's registry answers 500).
 * Without that proof it pushes nothing more unless --keep-artifacts was
 * given, which also leaves everything pushed in place; a proof blob that
 * cannot be removed is listed in details.leftovers. Requests go out in waves of concurrent calls; clean-up
 * calls get the grace period past the deadline.
 */
#include "checks/check.h"
#include "checks/verdict.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARTIFACT_TYPE "application/vnd.ocidoctor.probe.v1+json"
/* the same, encoded for a query string (a raw '+' reads as a space) */
#define ARTIFACT_TYPE_QUERY "application%2Fvnd.ocidoctor.probe.v1%2Bjson"
#define ARTIFACT_LAYER_TYPE "application/vnd.ocidoctor.probe.layer.v1+json"
#define EMPTY_TYPE "application/vnd.oci.empty.v1+json"
#define EMPTY_DIGEST "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
#define MANIFEST_TYPE "application/vnd.oci.image.manifest.v1+json"
#define CONFIG_TYPE "application/vnd.oci.image.config.v1+json"
#define LAYER_TYPE "application/vnd.oci.image.layer.v1.tar"
#define RUN_ANNOTATION "org.ocidoctor.run-id"
#define CHUNKS 3
#define CHUNK_DEFAULT 1024L
#define CHUNK_MAX (4L * 1024 * 1024)

static const char *const tags[] = { "registry", "oci", "referrers", "oci-1.1", "write", NULL };

enum blob_id { B_CONFIG, B_LAYER, B_EMPTY, B_ART_LAYER, B_CHUNKED, B_PROOF, B_N };
enum manifest_id { M_SUBJECT, M_ARTIFACT, M_ORPHAN, M_INDEX, M_N };

static const char *const blob_names[B_N] = { "subject config", "subject layer", "empty config",
					      "artifact layer", "chunked blob", "delete-proof blob" };
static const char *const manifest_names[M_N] = { "subject image", "artifact",
						  "manifest with a missing subject", "fallback index" };

struct blob {
	char *digest;
	char *data;
	size_t len;
	int upload;                /* to be uploaded (the empty config may exist already) */
	int stored;                /* the registry holds it from this run */
	char *session;             /* open upload session, or NULL */
};

struct manifest {
	char *digest;
	char *body;
	size_t len;
	const char *type;
	int stored;
};

struct verify {
	struct check_ctx *ctx;
	char *scratch;
	char run_id[17];
	struct blob blobs[B_N];
	struct manifest mans[M_N];
	json_t *steps;
	char *connection;          /* the first call that got no answer */
	char *elsewhere;           /* the first upload the registry sent outside the scratch repository */
	int denied;                /* a push was refused with 401 or 403 */
	char *refusal;             /* the first push refused, any status (note_denied) */
	int blobs_failed;          /* the subject or the artifact's blobs could not be pushed */
	struct scratch_probe seen; /* was the scratch repository there before the first write */
	int wrote;                 /* an upload session was opened */
	/* findings */
	int deletes_proven;
	char *delete_reason;
	int rejected;              /* the artifact manifest was refused */
	int accepted;              /* the artifact manifest was accepted (201) */
	enum push_subject subject_header;
	int listed, filtered_listed;
	int listing_done;          /* the referrers API was asked */
	long listed_count;         /* descriptors in its answer; -1 for none */
	const struct registry_call *listing_call;
	int wrong_type;            /* listed, but not under the index Content-Type */
	int listed_bare;           /* listed without its artifactType or annotations */
	int listing_lost;          /* it gave no answer: how subjects are processed is unknown */
	const char *filters;
	int fallback_needed, fallback_worked, fallback_tried;
	char *fallback_tag;
	int orphan_refused;
	int chunked_ok, chunked_tried;
	long chunk;
};

/* ---- small helpers ----------------------------------------------------- */

static int ok2xx(long status)
{
	return status >= 200 && status < 300;
}

/* Notes a call that got no answer; returns 1 when it did not get one. */
static int lost(struct verify *v, const struct registry_call *call)
{
	if (!call->method)
		return 0;
	if (call->resp.status && call->error != REG_ERR_TRANSPORT)
		return 0;
	if (!v->connection)
		v->connection = xstrfmt("%s %s: %s", call->method, call->path, call_failure_text(call));
	return 1;
}

/* "PUT /v2/x/manifests/sha256:…: 201", or the failure, appended to b. */
static void evidence_add(struct buf *b, const struct registry_call *call)
{
	const char *path = call->path, *q;

	/* a call never set up (its step was not reached) or whose path is gone: nothing sent to show */
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

/* An error answer's code and message, as "CODE: message", or the status alone. */
static char *refusal_text(const struct http_response *r)
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
static void note_denied(struct verify *v, const struct registry_call *call)
{
	const char *path = call->path, *q;
	char *why;

	if (!call->method || !call->resp.status || ok2xx(call->resp.status))
		return;
	if (call->resp.status == 401 || call->resp.status == 403)
		v->denied = 1;
	if (v->refusal || !path)
		return;
	q = strstr(path, "/v2/");
	why = refusal_text(&call->resp);
	v->refusal = xstrfmt("%s %.200s: %s", call->method, q ? q : path, why);
	free(why);
}

/* Adds a refusal's httpStatus, and its error code and message when it has them, to a step. */
static void refusal_fields(json_t *st, const struct http_response *r)
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
static void step(struct verify *v, const char *name, const char *status,
		 const struct registry_call *const *calls, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static void step(struct verify *v, const char *name, const char *status,
		 const struct registry_call *const *calls, size_t n, const char *fmt, ...)
{
	struct buf ev;
	va_list ap;
	char *verdict;
	size_t i;

	buf_init(&ev, BUF_TEXT_MAX);
	for (i = 0; i < n; i++)
		if (calls[i])
			evidence_add(&ev, calls[i]);
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

static void call_wave(struct verify *v, struct registry_call **calls, size_t n)
{
	registry_call_many(v->ctx->registry, v->ctx->log,
			   (struct registry_call *const *)calls, n);
}

/*
 * The upload session in an answer's Location, when it is one of the
 * scratch repository's (registry_upload_location); else NULL, and the
 * first Location that pointed elsewhere is kept for the verdict.
 */
static char *session_of(struct verify *v, const struct registry_call *call, int *elsewhere)
{
	char *why = NULL;
	char *url = registry_upload_location(v->ctx->registry, call, v->scratch, &why);

	*elsewhere = why != NULL;
	if (why && !v->elsewhere)
		v->elsewhere = why;
	else
		free(why);
	return url;
}

/* The URL to close an upload session: its Location with digest=... added. */
static char *with_digest(const char *session, const char *digest)
{
	return xstrfmt("%s%sdigest=%s", session, strchr(session, '?') ? "&" : "?", digest);
}

static char *manifest_path(struct verify *v, const char *ref)
{
	return xstrfmt("/v2/%s/manifests/%s", v->scratch, ref);
}

static char *blob_path(struct verify *v, const char *digest)
{
	return xstrfmt("/v2/%s/blobs/%s", v->scratch, digest);
}

/* A document's compact bytes, in memory of our own (jansson's allocator may be another). */
static char *dump(json_t *doc, size_t *len)
{
	const size_t flags = JSON_COMPACT | JSON_SORT_KEYS;
	size_t n = json_dumpb(doc, NULL, 0, flags);
	char *s;

	if (!n)
		xdie("cannot encode a manifest");
	s = xmalloc(n + 1);
	if (json_dumpb(doc, s, n, flags) != n)
		xdie("cannot encode a manifest");
	s[n] = '\0';
	*len = n;
	return s;
}

/* ---- the content of the run ------------------------------------------- */

static void set_blob(struct blob *b, char *data, size_t len)
{
	b->data = data;
	b->len = len;
	b->digest = sha256_digest_of(data, len);
	b->upload = 1;
}

static void set_manifest(struct manifest *m, json_t *doc, const char *type)
{
	m->body = dump(doc, &m->len);
	m->digest = sha256_digest_of(m->body, m->len);
	m->type = type;
	json_decref(doc);
}

static json_t *descriptor(const char *type, const struct blob *b)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", type, "digest", b->digest,
			 "size", (json_int_t)b->len);
}

static json_t *artifact_doc(struct verify *v, const char *subject, size_t subject_size,
			    const char *purpose)
{
	return json_pack("{s:i, s:s, s:s, s:{s:s, s:s, s:i, s:s}, s:[o], s:{s:s, s:s, s:I}, s:{s:s, s:s}}",
			 "schemaVersion", 2, "mediaType", MANIFEST_TYPE, "artifactType", ARTIFACT_TYPE,
			 "config", "mediaType", EMPTY_TYPE, "digest", EMPTY_DIGEST, "size", 2, "data", "e30=",
			 "layers", descriptor(ARTIFACT_LAYER_TYPE, &v->blobs[B_ART_LAYER]),
			 "subject", "mediaType", MANIFEST_TYPE, "digest", subject,
			 "size", (json_int_t)subject_size,
			 "annotations", RUN_ANNOTATION, v->run_id, "org.ocidoctor.purpose", purpose);
}

static void make_content(struct verify *v)
{
	char *layer = xstrfmt("ocidoctor subject layer, run %s\n", v->run_id);
	char *art = xstrfmt("{\"ocidoctor\":\"probe\",\"run\":\"%s\"}", v->run_id);
	char missing[65];
	char *missing_digest, *config, *chunked, *proof;
	json_t *cfg;
	size_t len, i;

	set_blob(&v->blobs[B_LAYER], layer, strlen(layer));
	cfg = json_pack("{s:s, s:s, s:{s:s, s:[s]}, s:{s:{s:s}}}", "architecture", "amd64",
			"os", "linux", "rootfs", "type", "layers", "diff_ids", v->blobs[B_LAYER].digest,
			"config", "Labels", RUN_ANNOTATION, v->run_id);
	config = dump(cfg, &len);
	json_decref(cfg);
	set_blob(&v->blobs[B_CONFIG], config, len);
	set_blob(&v->blobs[B_EMPTY], xstrdup("{}"), 2);
	set_blob(&v->blobs[B_ART_LAYER], art, strlen(art));
	chunked = xmalloc((size_t)(v->chunk * CHUNKS));
	for (i = 0; i < (size_t)(v->chunk * CHUNKS); i++)
		chunked[i] = v->run_id[i % 16];
	memcpy(chunked, v->run_id, 16);
	set_blob(&v->blobs[B_CHUNKED], chunked, (size_t)(v->chunk * CHUNKS));
	proof = xstrfmt("ocidoctor delete proof, run %s\n", v->run_id);
	set_blob(&v->blobs[B_PROOF], proof, strlen(proof));

	set_manifest(&v->mans[M_SUBJECT],
		     json_pack("{s:i, s:s, s:o, s:[o], s:{s:s}}", "schemaVersion", 2,
			       "mediaType", MANIFEST_TYPE,
			       "config", descriptor(CONFIG_TYPE, &v->blobs[B_CONFIG]),
			       "layers", descriptor(LAYER_TYPE, &v->blobs[B_LAYER]),
			       "annotations", RUN_ANNOTATION, v->run_id),
		     MANIFEST_TYPE);
	set_manifest(&v->mans[M_ARTIFACT],
		     artifact_doc(v, v->mans[M_SUBJECT].digest, v->mans[M_SUBJECT].len, "artifact"),
		     MANIFEST_TYPE);
	random_hex(missing, 32);
	missing_digest = xstrfmt("sha256:%s", missing);
	set_manifest(&v->mans[M_ORPHAN], artifact_doc(v, missing_digest, 512, "missing-subject"),
		     MANIFEST_TYPE);
	free(missing_digest);
	v->fallback_tag = xstrdup(v->mans[M_SUBJECT].digest);
	*strchr(v->fallback_tag, ':') = '-';
}

/* ---- before any push: do deletes work? --------------------------------- */

/*
 * Step one of the proof: DELETEs of a manifest and a blob that cannot
 * exist, with the HEAD of the empty config and whether the scratch
 * repository exists. Returns 0 when their answers rule deletes out (405,
 * 400 UNSUPPORTED) or were refused (401, 403): then nothing is written.
 * Any other answer (404 of any kind, 202, a 500 for a blob it never had)
 * says nothing either way, and the proof goes on with content of the run.
 */
static int probe_deletes(struct verify *v, struct registry_call *head_empty, struct buf *ev)
{
	char d1[65], d2[65];
	char *p1, *p2, *p3;
	struct registry_call dm, db;
	struct registry_call token = { .method = "DELETE", .path = "/v2/", .token_only = 1,
		.repository = v->scratch, .actions = REG_PULL | REG_PUSH | REG_DELETE };
	struct registry_call push_token = { .method = "POST", .path = "/v2/", .token_only = 1,
		.repository = v->scratch, .actions = REG_PULL | REG_PUSH };
	struct registry_call *tokens[2] = { &token, &push_token };
	struct registry_call *calls[5] = { &dm, &db, head_empty, &v->seen.catalog, &v->seen.tags };
	struct verdict m = { 0 }, b = { 0 };
	int go_on = 0;

	random_hex(d1, 32);
	random_hex(d2, 32);
	p1 = xstrfmt("/v2/%s/manifests/sha256:%s", v->scratch, d1);
	p2 = xstrfmt("/v2/%s/blobs/sha256:%s", v->scratch, d2);
	p3 = blob_path(v, EMPTY_DIGEST);
	dm = (struct registry_call){ .method = "DELETE", .path = p1, .repository = v->scratch,
		.actions = REG_PULL | REG_PUSH | REG_DELETE };
	db = (struct registry_call){ .method = "DELETE", .path = p2, .repository = v->scratch,
		.actions = REG_PULL | REG_PUSH | REG_DELETE };
	*head_empty = (struct registry_call){ .method = "HEAD", .path = p3,
		.repository = v->scratch, .actions = REG_PULL | REG_PUSH };
	scratch_probe_setup(&v->seen, v->scratch);
	/* the tokens first (both scopes the run needs), so that no later call waits for one */
	call_wave(v, tokens, 2);
	call_wave(v, calls, 5);
	head_empty->path = NULL;
	evidence_add(ev, &dm);
	evidence_add(ev, &db);
	if (lost(v, &dm) | lost(v, &db)) {
		v->delete_reason = xstrdup("the delete probe got no answer");
	} else {
		delete_judge(dm.resp.status, dm.resp.body.data, dm.resp.body.len, "manifest", &m);
		delete_judge(db.resp.status, db.resp.body.data, db.resp.body.len, "blob", &b);
		if (m.state == CAP_UNSUPPORTED || b.state == CAP_UNSUPPORTED)
			v->delete_reason = xstrdup(m.state == CAP_UNSUPPORTED ? m.reason : b.reason);
		else if (dm.resp.status == 401 || dm.resp.status == 403 ||
			 db.resp.status == 401 || db.resp.status == 403)
			v->delete_reason = xstrfmt("manifests: %s; blobs: %s", m.reason, b.reason);
		else
			go_on = 1;
	}
	verdict_release(&m);
	verdict_release(&b);
	registry_call_release(&token);
	registry_call_release(&push_token);
	registry_call_release(&dm);
	registry_call_release(&db);
	free(p1);
	free(p2);
	free(p3);
	return go_on;
}

/*
 * Step two: the run's own proof blob, uploaded in the session opened for
 * it, deleted, and shown gone by a HEAD. Only a DELETE answered 2xx and
 * then a HEAD answered 404 prove deletes.
 */
static void prove_with_own_blob(struct verify *v, struct buf *ev)
{
	struct blob *pb = &v->blobs[B_PROOF];
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/octet-stream");
	char *url = NULL, *path = blob_path(v, pb->digest);
	struct registry_call put = { 0 }, del = { 0 }, head = { 0 };

	if (!pb->session) {
		v->delete_reason = xstrdup("no upload session could be opened for the proof blob");
		goto done;
	}
	url = with_digest(pb->session, pb->digest);
	put = (struct registry_call){ .method = "PUT", .path = url, .repository = v->scratch,
		.actions = REG_PULL | REG_PUSH, .headers = h, .body = pb->data, .body_len = pb->len };
	registry_call(v->ctx->registry, v->ctx->log, &put);
	evidence_add(ev, &put);     /* reads put.path: url is freed at done */
	lost(v, &put);
	note_denied(v, &put);
	if (put.resp.status != 201) {
		v->delete_reason = xstrfmt("uploading the proof blob answered %ld", put.resp.status);
		goto done;
	}
	pb->stored = 1;
	free(pb->session);
	pb->session = NULL;
	del = (struct registry_call){ .method = "DELETE", .path = path, .repository = v->scratch,
		.actions = REG_PULL | REG_PUSH | REG_DELETE };
	registry_call(v->ctx->registry, v->ctx->log, &del);
	evidence_add(ev, &del);
	if (lost(v, &del) || !ok2xx(del.resp.status)) {
		char *why = refusal_text(&del.resp);

		v->delete_reason = xstrfmt("deleting the run's own proof blob %s answered %s", pb->digest,
					   del.resp.status ? why : "nothing");
		free(why);
		goto done;
	}
	head = (struct registry_call){ .method = "HEAD", .path = path, .repository = v->scratch,
		.actions = REG_PULL | REG_PUSH };
	registry_call(v->ctx->registry, v->ctx->log, &head);
	evidence_add(ev, &head);
	lost(v, &head);
	if (head.resp.status == 404) {
		pb->stored = 0;
		v->deletes_proven = 1;
		v->delete_reason = xstrdup("the run's own blob was uploaded, deleted and is gone (HEAD 404)");
	} else {
		v->delete_reason = xstrfmt("the run's own blob was deleted (%ld) but still answers a HEAD with %ld",
					   del.resp.status, head.resp.status);
	}
done:
	registry_call_release(&put);
	registry_call_release(&del);
	registry_call_release(&head);
	curl_slist_free_all(h);
	free(url);
	free(path);
}

/* ---- step 1 and the blobs of step 2 ------------------------------------ */

/* Opens one upload session per blob (and the chunked one). */
static void open_sessions(struct verify *v)
{
	struct registry_call posts[B_N] = { { 0 } };
	struct registry_call *calls[B_N];
	char *path = xstrfmt("/v2/%s/blobs/uploads/", v->scratch);
	size_t n = 0, i;
	int elsewhere;

	for (i = 0; i < B_N; i++) {
		if (!v->blobs[i].upload)
			continue;
		posts[i] = (struct registry_call){ .method = "POST", .path = path,
			.repository = v->scratch, .actions = REG_PULL | REG_PUSH, .body = "" };
		calls[n++] = &posts[i];
	}
	call_wave(v, calls, n);
	for (i = 0; i < B_N; i++) {
		const char *min;

		if (!posts[i].method)
			continue;
		lost(v, &posts[i]);
		note_denied(v, &posts[i]);
		if (posts[i].resp.status == 202) {
			v->wrote = 1;
			v->blobs[i].session = session_of(v, &posts[i], &elsewhere);
		}
		if (i == B_CHUNKED && (min = http_header_get(&posts[i].resp, "OCI-Chunk-Min-Length")) &&
		    atol(min) > v->chunk)
			v->chunk = atol(min);
		registry_call_release(&posts[i]);
	}
	free(path);
}

/* Completes the monolithic uploads: PUT ?digest= with the blob. */
static void put_blobs(struct verify *v, struct registry_call *extra)
{
	struct registry_call puts[B_N] = { { 0 } };
	struct registry_call *calls[B_N + 1];
	char *urls[B_N] = { 0 };
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/octet-stream");
	size_t n = 0, i;

	for (i = 0; i < B_CHUNKED; i++) {
		struct blob *b = &v->blobs[i];

		if (!b->session)
			continue;
		urls[i] = with_digest(b->session, b->digest);
		puts[i] = (struct registry_call){ .method = "PUT", .path = urls[i],
			.repository = v->scratch, .actions = REG_PULL | REG_PUSH, .headers = h,
			.body = b->data, .body_len = b->len };
		calls[n++] = &puts[i];
	}
	if (extra && extra->method)
		calls[n++] = extra;
	call_wave(v, calls, n);
	for (i = 0; i < B_CHUNKED; i++) {
		if (!puts[i].method)
			continue;
		lost(v, &puts[i]);
		note_denied(v, &puts[i]);
		if (puts[i].resp.status == 201) {
			v->blobs[i].stored = 1;
			free(v->blobs[i].session);
			v->blobs[i].session = NULL;
		}
		registry_call_release(&puts[i]);
		free(urls[i]);
	}
	curl_slist_free_all(h);
}

static struct registry_call manifest_put(struct verify *v, struct manifest *m, const char *ref,
					 char **path, struct curl_slist **h)
{
	char *ct = xstrfmt("Content-Type: %s", m->type);

	*h = curl_slist_append(NULL, ct);
	free(ct);
	*path = manifest_path(v, ref);
	return (struct registry_call){ .method = "PUT", .path = *path, .repository = v->scratch,
		.actions = REG_PULL | REG_PUSH, .headers = *h, .body = m->body, .body_len = m->len };
}

/* ---- step 7: the chunked upload, one request per wave ------------------ */

struct chunked {
	struct registry_call call;
	struct curl_slist *h;
	char *url;
	int next;                  /* chunks sent so far; CHUNKS+1 when closed */
	int failed;
};

/* Sets up the chunked upload's next request; returns 0 when there is none. */
static int chunked_next(struct verify *v, struct chunked *c)
{
	struct blob *b = &v->blobs[B_CHUNKED];
	char *range;

	if (!v->chunked_tried || c->failed || !b->session || c->next > CHUNKS)
		return 0;
	if (c->next == CHUNKS) {
		c->url = with_digest(b->session, b->digest);
		c->h = curl_slist_append(NULL, "Content-Type: application/octet-stream");
		c->call = (struct registry_call){ .method = "PUT", .path = c->url,
			.repository = v->scratch, .actions = REG_PULL | REG_PUSH, .headers = c->h,
			.body = "" };
		return 1;
	}
	range = xstrfmt("Content-Range: %ld-%ld", c->next * v->chunk, (c->next + 1) * v->chunk - 1);
	c->h = curl_slist_append(NULL, "Content-Type: application/octet-stream");
	c->h = curl_slist_append(c->h, range);
	free(range);
	c->url = xstrdup(b->session);
	c->call = (struct registry_call){ .method = "PATCH", .path = c->url,
		.repository = v->scratch, .actions = REG_PULL | REG_PUSH, .headers = c->h,
		.body = b->data + c->next * v->chunk, .body_len = (size_t)v->chunk };
	return 1;
}

/* Judges the chunked upload's last answer and moves it on. */
static void chunked_done(struct verify *v, struct chunked *c, struct buf *ev)
{
	struct blob *b = &v->blobs[B_CHUNKED];
	const struct http_response *r = &c->call.resp;
	char *next;
	int elsewhere;

	if (!c->call.method)
		return;
	evidence_add(ev, &c->call);
	lost(v, &c->call);
	if (c->next < CHUNKS && ok2xx(r->status) && range_covers(http_header_get(r, "Range"),
								  (c->next + 1) * v->chunk - 1)) {
		if ((next = session_of(v, &c->call, &elsewhere))) {
			free(b->session);
			b->session = next;
		}
		c->failed = elsewhere;
		c->next += !elsewhere;
	} else if (c->next == CHUNKS && r->status == 201) {
		b->stored = 1;
		free(b->session);
		b->session = NULL;
		c->next++;
	} else {
		c->failed = 1;
	}
	registry_call_release(&c->call);
	memset(&c->call, 0, sizeof(c->call));
	curl_slist_free_all(c->h);
	c->h = NULL;
	free(c->url);
	c->url = NULL;
}

/* ---- steps 2 to 4 ------------------------------------------------------- */

static void judge_artifact(struct verify *v, struct registry_call *art, struct registry_call *orphan)
{
	const struct registry_call *ev[1] = { art };
	const char *header = http_header_get(&art->resp, "OCI-Subject");

	lost(v, art);
	lost(v, orphan);
	note_denied(v, art);
	if (art->resp.status == 201) {
		v->mans[M_ARTIFACT].stored = 1;
		v->accepted = 1;
		v->subject_header = push_subject_of(header, v->mans[M_SUBJECT].digest);
		step(v, "artifact", "pass", ev, 1, "the artifact manifest (artifactType %s, empty config, subject) was accepted",
		     ARTIFACT_TYPE);
		step(v, "ociSubject", v->subject_header == PUSH_SUBJECT_MATCHES ? "pass" : "warn", ev, 1, "%s",
		     v->subject_header == PUSH_SUBJECT_MATCHES ? "OCI-Subject names the subject: oras and regclient attach through the API"
		     : v->subject_header == PUSH_SUBJECT_OTHER ? "OCI-Subject names another digest: regclient writes the tag schema, oras uses the API"
		     : "no OCI-Subject: oras and regclient write the tag schema (sha256-<hex>)");
	} else if (art->resp.status) {
		char *why = refusal_text(&art->resp);

		v->rejected = !(art->resp.status == 401 || art->resp.status == 403);
		step(v, "artifact", "fail", ev, 1, "the artifact manifest was refused: %s", why);
		refusal_fields(json_object_get(v->steps, "artifact"), &art->resp);
		free(why);
	} else {
		step(v, "artifact", "fail", ev, 1, "the artifact push got no answer");
	}
	ev[0] = orphan;
	if (v->rejected && orphan->resp.status == art->resp.status) {
		step(v, "missingSubject", "skip", ev, 1, "not judged: the registry refuses artifact manifests altogether");
	} else if (orphan->resp.status == 201) {
		v->mans[M_ORPHAN].stored = 1;
		step(v, "missingSubject", "pass", ev, 1, "a manifest whose subject does not exist was accepted, as the spec requires");
	} else if (orphan->resp.status) {
		char *why = refusal_text(&orphan->resp);

		v->orphan_refused = 1;
		step(v, "missingSubject", "warn", ev, 1,
		     "a manifest whose subject does not exist was refused (%s); the spec says a registry must accept it, so attaching to an image before it is pushed fails", why);
		free(why);
	} else {
		step(v, "missingSubject", "fail", ev, 1, "the push got no answer");
	}
}

/* Whether an index lists the artifact with its artifactType and run annotation. */
static int index_has_artifact(struct verify *v, json_t *index, int *count)
{
	json_t *list = json_object_get(index, "manifests"), *d;
	size_t i;
	int found = 0;

	*count = 0;
	json_array_foreach(list, i, d) {
		const char *digest = json_string_value(json_object_get(d, "digest"));
		const char *type = json_string_value(json_object_get(d, "artifactType"));
		const char *run = json_string_value(json_object_get(json_object_get(d, "annotations"),
								     RUN_ANNOTATION));

		if (!digest || strcmp(digest, v->mans[M_ARTIFACT].digest))
			continue;
		(*count)++;
		if (type && !strcmp(type, ARTIFACT_TYPE) && run && !strcmp(run, v->run_id))
			found = 1;
	}
	return found;
}

/* What a referrers answer says: 1 when it lists the artifact as a client needs it. */
static int listing_finds(struct verify *v, const struct registry_call *call, const char **why)
{
	char type[128];
	json_t *root;
	int found, count = 0;

	if (call->resp.status != 200) {
		*why = "not a 200";
		return 0;
	}
	http_content_type(&call->resp, type, sizeof(type));
	root = json_loadb(call->resp.body.data, call->resp.body.len, 0, NULL);
	found = json_is_object(root) && index_has_artifact(v, root, &count);
	if (strcmp(type, OCI_INDEX_TYPE)) {
		/* Harbor 2.8-2.9: the artifact is there, under a type no client reads as an index */
		if (found && call == v->listing_call)
			v->wrong_type = 1;
		*why = found ? "listed, but not served as an OCI index, so no client reads it"
			     : "not served as an OCI index";
		json_decref(root);
		return 0;
	}
	if (!found && count && call == v->listing_call)
		v->listed_bare = 1;
	*why = found ? "listed with its artifactType and annotation"
		     : !json_is_object(root) ? "the body is not an index"
		     : count ? "listed without its artifactType or annotation" : "not listed";
	json_decref(root);
	return found;
}

static void judge_listing(struct verify *v, struct registry_call *all, struct registry_call *filtered)
{
	const struct registry_call *ev[2] = { all, filtered };
	const char *why_all, *why_filtered;
	const char *applied = http_header_get(&filtered->resp, "OCI-Filters-Applied");

	v->listing_done = 1;
	v->listing_call = all;
	v->listing_lost = lost(v, all);
	lost(v, filtered);
	v->listed = listing_finds(v, all, &why_all);
	if (all->resp.status == 200) {
		json_t *root = json_loadb(all->resp.body.data, all->resp.body.len, 0, NULL);
		json_t *list = json_object_get(root, "manifests");

		v->listed_count = json_is_array(list) ? (long)json_array_size(list) : -1;
		json_decref(root);
	}
	v->filtered_listed = listing_finds(v, filtered, &why_filtered);
	v->filters = applied && strstr(applied, "artifactType") ? "artifactType" : NULL;
	if (v->listing_lost)
		step(v, "listing", "fail", ev, 2, "the referrers request got no answer");
	else if (v->listed && v->filtered_listed)
		step(v, "listing", "pass", ev, 2, "the referrers API lists the artifact, also filtered by artifactType (%s)",
		     v->filters ? "OCI-Filters-Applied: artifactType" : "no OCI-Filters-Applied: clients filter themselves");
	else if (v->listed)
		step(v, "listing", "warn", ev, 2, "the referrers API lists the artifact, but not when filtered by artifactType (%s)",
		     why_filtered);
	else
		step(v, "listing", "fail", ev, 2,
		     "the referrers API does not list the artifact (%ld: %s)", all->resp.status, why_all);
}

/* ---- step 5: the tag-schema fallback ----------------------------------- */

/*
 * The index to push under the fallback tag: what the tag holds (empty on
 * 404), without an entry of the artifact's digest, plus its descriptor.
 * Returns 0, or -1 with *why when the tag holds something else.
 */
static int build_index(struct verify *v, const struct registry_call *get, const char **why)
{
	json_t *index = NULL, *list, *kept, *d, *desc;
	size_t i;
	long count;

	if (get->resp.status == 404) {
		index = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", OCI_INDEX_TYPE,
				  "manifests");
	} else if (get->resp.status == 200) {
		const char *got = http_header_get(&get->resp, "Docker-Content-Digest");

		if ((got && !strcmp(got, v->mans[M_SUBJECT].digest)) ||
		    oci_index_valid(get->resp.body.data, get->resp.body.len, &count, why) < 0) {
			*why = "the fallback tag resolves to something that is not an index (the subject itself, as GitLab does)";
			return -1;
		}
		index = json_loadb(get->resp.body.data, get->resp.body.len, 0, NULL);
	} else {
		*why = "reading the fallback tag answered neither 200 nor 404";
		return -1;
	}
	list = json_object_get(index, "manifests");
	kept = json_array();
	json_array_foreach(list, i, d) {
		const char *digest = json_string_value(json_object_get(d, "digest"));

		if (!digest || strcmp(digest, v->mans[M_ARTIFACT].digest))
			json_array_append(kept, d);
	}
	desc = json_pack("{s:s, s:s, s:I, s:s, s:{s:s, s:s}}", "mediaType", MANIFEST_TYPE,
			 "digest", v->mans[M_ARTIFACT].digest, "size", (json_int_t)v->mans[M_ARTIFACT].len,
			 "artifactType", ARTIFACT_TYPE, "annotations", RUN_ANNOTATION, v->run_id,
			 "org.ocidoctor.purpose", "artifact");
	json_array_append_new(kept, desc);
	json_object_set_new(index, "manifests", kept);
	if (!json_object_get(index, "mediaType"))
		json_object_set_new(index, "mediaType", json_string(OCI_INDEX_TYPE));
	set_manifest(&v->mans[M_INDEX], index, OCI_INDEX_TYPE);
	return 0;
}

static void fallback(struct verify *v, struct registry_call *get, struct registry_call *chunk_head)
{
	struct curl_slist *accept = curl_slist_append(NULL, "Accept: " OCI_INDEX_TYPE);
	struct curl_slist *h = NULL;
	char *tag_path = manifest_path(v, v->fallback_tag), *put_path = NULL;
	struct registry_call put = { 0 }, back = { 0 };
	struct registry_call *calls[2];
	const struct registry_call *ev[3] = { get, NULL, NULL };
	const char *why = NULL;
	json_t *root;
	int count = 0, n = 0;

	v->fallback_tried = 1;
	if (!get->method) {
		*get = (struct registry_call){ .method = "GET", .path = tag_path,
			.repository = v->scratch, .actions = REG_PULL | REG_PUSH, .headers = accept };
		calls[n++] = get;
	}
	/* the chunked blob's HEAD goes with the first wave that has room */
	if (n && chunk_head->method && !chunk_head->resp.status && !chunk_head->error)
		calls[n++] = chunk_head;
	if (n)
		call_wave(v, calls, (size_t)n);
	if (lost(v, get) || build_index(v, get, &why) < 0) {
		step(v, "fallback", "fail", ev, 1, "%s", why ? why : "reading the fallback tag got no answer");
		goto done;
	}
	put = manifest_put(v, &v->mans[M_INDEX], v->fallback_tag, &put_path, &h);
	n = 0;
	calls[n++] = &put;
	if (chunk_head->method && !chunk_head->resp.status && !chunk_head->error)
		calls[n++] = chunk_head;
	call_wave(v, calls, (size_t)n);
	ev[1] = &put;
	lost(v, &put);
	if (put.resp.status != 201) {
		char *text = refusal_text(&put.resp);

		step(v, "fallback", "fail", ev, 2, "pushing the fallback index under %s was refused: %s",
		     v->fallback_tag, text);
		free(text);
		goto done;
	}
	v->mans[M_INDEX].stored = 1;
	back = (struct registry_call){ .method = "GET", .path = tag_path, .repository = v->scratch,
		.actions = REG_PULL | REG_PUSH, .headers = accept };
	registry_call(v->ctx->registry, v->ctx->log, &back);
	ev[2] = &back;
	lost(v, &back);
	root = back.resp.status == 200 ? json_loadb(back.resp.body.data, back.resp.body.len, 0, NULL) : NULL;
	v->fallback_worked = root && index_has_artifact(v, root, &count) && count == 1;
	json_decref(root);
	if (v->fallback_worked)
		step(v, "fallback", "pass", ev, 3, "the fallback index under %s was pushed and read back with the artifact once, with its artifactType and annotation",
		     v->fallback_tag);
	else
		step(v, "fallback", "fail", ev, 3, "the fallback index under %s did not read back with the artifact (%d entr%s of its digest)",
		     v->fallback_tag, count, count == 1 ? "y" : "ies");
done:
	if (get->path == tag_path)
		get->path = NULL;
	registry_call_release(&put);
	registry_call_release(&back);
	curl_slist_free_all(accept);
	curl_slist_free_all(h);
	free(tag_path);
	free(put_path);
}

/* ---- step 8: clean-up ------------------------------------------------- */

static void leftover(struct verify *v, const char *kind, const char *ref, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void leftover(struct verify *v, const char *kind, const char *ref, const char *fmt, ...)
{
	va_list ap;
	char *why;

	va_start(ap, fmt);
	why = text_vfmt(fmt, ap);
	va_end(ap);
	leftover_add(v->ctx, kind, v->scratch, ref, why);
	free(why);
}

/* Lists everything stored without deleting it (--keep-artifacts). */
static void keep_all(struct verify *v)
{
	size_t i;

	for (i = 0; i < M_N; i++)
		if (v->mans[i].stored)
			leftover(v, "manifest", v->mans[i].digest, "the %s, kept (--keep-artifacts)%s",
				 manifest_names[i], i == M_INDEX ? "; deleting it removes the fallback tag" : "");
	for (i = 0; i < B_N; i++)
		if (v->blobs[i].stored)
			leftover(v, "blob", v->blobs[i].digest, "the %s, kept (--keep-artifacts)", blob_names[i]);
	for (i = 0; i < B_N; i++)
		if (v->blobs[i].session)
			leftover(v, "upload-session", v->blobs[i].session, "an upload session of the %s, kept (--keep-artifacts)",
				 blob_names[i]);
	step(v, "cleanup", "skip", NULL, 0, "--keep-artifacts: nothing was deleted; details.leftovers lists what the run left");
}

/* One thing to remove: a manifest, a blob, an upload session, or the fallback tag. */
enum item_kind { I_MANIFEST, I_BLOB, I_SESSION, I_TAG };

struct item {
	enum item_kind kind;
	const char *ref;           /* digest, session URL, or tag */
	const char *name;          /* for leftovers: "the subject image" ... */
	int *stored;               /* cleared once it is shown gone */
	char *path;
	struct registry_call del, head;
};

#define MAX_ITEMS (M_N + 2 * B_N + 1)

static void item_add(struct verify *v, struct item *items, size_t *n, enum item_kind kind,
		     const char *ref, const char *name, int *stored)
{
	struct item *it = &items[(*n)++];

	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->ref = ref;
	it->name = name;
	it->stored = stored;
	it->path = kind == I_MANIFEST || kind == I_TAG ? manifest_path(v, ref)
		 : kind == I_BLOB ? blob_path(v, ref) : xstrdup(ref);
}

static void set_delete(struct verify *v, struct item *it)
{
	it->del = (struct registry_call){ .method = "DELETE", .path = it->path,
		.repository = v->scratch, .cleanup = 1,
		.actions = REG_PULL | REG_PUSH | (it->kind == I_SESSION ? 0 : REG_DELETE) };
}

static void set_head(struct verify *v, struct item *it, const struct curl_slist *accept)
{
	it->head = (struct registry_call){ .method = "HEAD", .path = it->path,
		.repository = v->scratch, .actions = REG_PULL | REG_PUSH, .cleanup = 1,
		.headers = it->kind == I_BLOB ? NULL : accept };
}

/*
 * Whether the clean-up's grace period is over: the run's deadline has
 * passed (or the run was cancelled) and so has REGISTRY_CLEANUP_GRACE_MS
 * since the clean-up began, so that the waves together outlive the
 * deadline by no more than one call.
 */
static int grace_over(struct verify *v, long started)
{
	return registry_remaining_ms(v->ctx->registry) == 0 &&
	       clock_now_ms() - started >= REGISTRY_CLEANUP_GRACE_MS;
}

static void run_calls(struct verify *v, struct registry_call **calls, size_t n, struct buf *ev,
		      long started)
{
	size_t i;

	if (grace_over(v, started)) {
		for (i = 0; i < n; i++)
			calls[i]->method = NULL;   /* not sent: judged as left over */
		return;
	}
	call_wave(v, calls, n);
	for (i = 0; i < n; i++)
		evidence_add(ev, calls[i]);
}

/* Whether an item is shown gone; 404 to the DELETE counts (another run sharing the repository removed it). */
static int item_gone(const struct item *it)
{
	if (it->kind == I_SESSION)
		return ok2xx(it->del.resp.status) || it->del.resp.status == 404;
	if (it->kind == I_TAG)
		return it->head.resp.status == 404;
	return it->del.resp.status == 404 || (ok2xx(it->del.resp.status) && it->head.resp.status == 404);
}

static void item_leftover(struct verify *v, const struct item *it)
{
	static const char *const kinds[] = { "manifest", "blob", "upload-session", "manifest" };
	const struct registry_call *c = it->kind == I_TAG ? &it->head : &it->del;
	char *why;

	if (!c->method && (it->kind == I_TAG || !it->del.method))
		why = xstrdup("not sent: the run's deadline and the clean-up's grace period had passed");
	else if (it->kind == I_TAG)
		why = xstrfmt("the fallback tag still resolves after its index was deleted (HEAD answered %ld)",
			      c->resp.status);
	else if (!c->resp.status)
		why = xstrfmt("the DELETE got no answer (%s)", call_failure_text(c));
	else if (!ok2xx(c->resp.status) && c->resp.status != 404)
		why = xstrfmt("the DELETE was refused (%ld)", c->resp.status);
	else if (!it->head.method)
		why = xstrfmt("the DELETE answered %ld, but the grace period ended before a HEAD could check it",
			      c->resp.status);
	else if (!it->head.resp.status)
		why = xstrfmt("the DELETE answered %ld, but the HEAD that checks it got no answer (%s)",
			      c->resp.status, call_failure_text(&it->head));
	else
		why = xstrfmt("still there after the DELETE was accepted (HEAD answered %ld)",
			      it->head.resp.status);
	leftover(v, kinds[it->kind], it->ref, "the %s: %s", it->name, why);
	free(why);
}

/*
 * Three waves: the DELETEs of the manifests (and of open upload
 * sessions); the HEADs that show them gone, the HEAD of the fallback tag
 * and the DELETEs of the blobs; the HEADs of the blobs. A fallback tag
 * that still resolves once its index is deleted (go-containerregistry
 * keeps tags of deleted manifests) is deleted by tag with the third wave
 * and HEADed in a fourth: the tag is the run's own (the subject is), and
 * deletes are proven by then, so this is never the tag DELETE that
 * distribution 3.0 accepted with deletes disabled.
 */
static void cleanup(struct verify *v)
{
	struct item items[MAX_ITEMS];
	struct registry_call *calls[MAX_ITEMS];
	struct curl_slist *accept = manifest_accept_headers();
	struct buf ev;
	size_t n = 0, k, i;
	int all_gone = 1, index_item = -1;
	long started = clock_now_ms();

	if (v->ctx->config->keep_artifacts) {
		keep_all(v);
		curl_slist_free_all(accept);
		return;
	}
	buf_init(&ev, BUF_TEXT_MAX);
	for (i = 0; i < M_N; i++)
		if (v->mans[i].stored) {
			if (i == M_INDEX)
				index_item = (int)n;
			item_add(v, items, &n, I_MANIFEST, v->mans[i].digest, manifest_names[i],
				 &v->mans[i].stored);
		}
	for (i = 0; i < B_N; i++)
		if (v->blobs[i].session)
			item_add(v, items, &n, I_SESSION, v->blobs[i].session, blob_names[i], NULL);
	for (i = 0; i < B_N; i++)
		if (v->blobs[i].stored)
			item_add(v, items, &n, I_BLOB, v->blobs[i].digest, blob_names[i],
				 &v->blobs[i].stored);
	/* wave 1 */
	for (i = k = 0; i < n; i++)
		if (items[i].kind == I_MANIFEST || items[i].kind == I_SESSION) {
			set_delete(v, &items[i]);
			calls[k++] = &items[i].del;
		}
	run_calls(v, calls, k, &ev, started);
	/* wave 2 */
	if (index_item >= 0 && ok2xx(items[index_item].del.resp.status))
		item_add(v, items, &n, I_TAG, v->fallback_tag, "fallback tag", NULL);
	for (i = k = 0; i < n; i++) {
		if ((items[i].kind == I_MANIFEST && ok2xx(items[i].del.resp.status)) ||
		    items[i].kind == I_TAG) {
			set_head(v, &items[i], accept);
			calls[k++] = &items[i].head;
		} else if (items[i].kind == I_BLOB) {
			set_delete(v, &items[i]);
			calls[k++] = &items[i].del;
		}
	}
	run_calls(v, calls, k, &ev, started);
	/* wave 3; and the fallback tag by tag where deleting its index left it (go-containerregistry) */
	for (i = k = 0; i < n; i++)
		if (items[i].kind == I_BLOB && ok2xx(items[i].del.resp.status)) {
			set_head(v, &items[i], accept);
			calls[k++] = &items[i].head;
		} else if (items[i].kind == I_TAG && items[i].head.resp.status == 200) {
			set_delete(v, &items[i]);
			calls[k++] = &items[i].del;
		}
	run_calls(v, calls, k, &ev, started);
	/* wave 4: only for a fallback tag deleted by tag */
	for (i = k = 0; i < n; i++)
		if (items[i].kind == I_TAG && ok2xx(items[i].del.resp.status)) {
			registry_call_release(&items[i].head);
			set_head(v, &items[i], accept);
			calls[k++] = &items[i].head;
		}
	if (k)
		run_calls(v, calls, k, &ev, started);
	for (i = 0; i < n; i++) {
		if (item_gone(&items[i])) {
			if (items[i].stored)
				*items[i].stored = 0;
		} else {
			all_gone = 0;
			item_leftover(v, &items[i]);
		}
		registry_call_release(&items[i].del);
		registry_call_release(&items[i].head);
		free(items[i].path);
	}
	for (i = 0; i < B_N; i++) {
		free(v->blobs[i].session);
		v->blobs[i].session = NULL;
	}
	text_sanitize(ev.data);
	json_object_set_new(v->steps, "cleanup", json_pack("{s:s, s:s, s:s}",
		"status", all_gone ? "pass" : "warn", "evidence", ev.data,
		"verdict", all_gone ? "every manifest, the fallback tag and every blob the run pushed was deleted and is gone"
				    : "some of what the run pushed could not be removed: details.leftovers lists it, with how to remove it"));
	buf_release(&ev);
	curl_slist_free_all(accept);
}

/* ---- the whole sequence ----------------------------------------------- */

static void judge_chunked(struct verify *v, struct chunked *c, struct registry_call *head, struct buf *ev)
{
	const struct blob *b = &v->blobs[B_CHUNKED];
	const char *len = head->method ? http_header_get(&head->resp, "Content-Length") : NULL;
	json_t *o;

	if (head->method)
		evidence_add(ev, head);
	lost(v, head);
	v->chunked_ok = b->stored && head->resp.status == 200 && len && atol(len) == (long)b->len;
	if (v->chunked_tried && !v->chunked_ok && b->stored && !head->resp.status) {
		o = json_pack("{s:s, s:s, s:s}", "status", "skip", "evidence", ev->data, "verdict",
			      "the chunks and the closing PUT were accepted, but the HEAD that verifies the blob got no answer");
		v->chunked_tried = 0;
		goto done;
	}
	text_sanitize(ev->data);
	if (!v->chunked_tried)
		o = json_pack("{s:s, s:s, s:s}", "status", "skip", "evidence", ev->data, "verdict",
			      v->chunk > CHUNK_MAX ? "the registry's minimum chunk is over 4 MiB" : "no upload session opened");
	else if (v->chunked_ok)
		o = json_pack("{s:s, s:s, s:s}", "status", "pass", "evidence", ev->data, "verdict",
			      "three chunks PATCHed, closed with PUT ?digest= and the blob HEADs with its full size");
	else
		o = json_pack("{s:s, s:s, s:s}", "status", "warn", "evidence", ev->data, "verdict",
			      c->failed ? "a chunk or the closing PUT was refused or answered without a Range covering it"
					: "the blob did not HEAD with its full size after the upload");
done:
	json_object_set_new(o, "chunkSize", json_integer(v->chunk));
	json_object_set_new(o, "chunks", json_integer(CHUNKS));
	json_object_set_new(v->steps, "chunkedUpload", o);
}

/* Once the session tells the chunk size: remakes the chunked blob to fit it (three chunks). */
static void fit_chunked_blob(struct verify *v)
{
	struct blob *b = &v->blobs[B_CHUNKED];
	size_t len = (size_t)(v->chunk * CHUNKS), i;

	if (!b->session || v->chunk > CHUNK_MAX)
		return;
	free(b->data);
	free(b->digest);
	b->data = xmalloc(len);
	for (i = 0; i < len; i++)
		b->data[i] = v->run_id[i % 16];
	b->len = len;
	b->digest = sha256_digest_of(b->data, len);
	v->chunked_tried = 1;
}

/*
 * Finishes (or gives up) the chunked upload when an earlier step cut the
 * waves short, HEADs the blob unless that went with the fallback, and
 * judges it. *cp holds the HEAD's path.
 */
static void finish_chunked(struct verify *v, struct chunked *c, struct registry_call *head,
			   char **cp, struct buf *ev)
{
	while (chunked_next(v, c)) {
		registry_call(v->ctx->registry, v->ctx->log, &c->call);
		chunked_done(v, c, ev);
	}
	if (!head->method && v->blobs[B_CHUNKED].stored) {
		*cp = blob_path(v, v->blobs[B_CHUNKED].digest);
		*head = (struct registry_call){ .method = "HEAD", .path = *cp,
			.repository = v->scratch, .actions = REG_PULL | REG_PUSH };
	}
	if (head->method && !head->resp.status && !head->error)
		registry_call(v->ctx->registry, v->ctx->log, head);
	judge_chunked(v, c, head, ev);
}

static void push_and_find(struct verify *v)
{
	struct registry_call head_empty = { 0 }, subj = { 0 }, art = { 0 }, orphan = { 0 };
	struct registry_call list = { 0 }, filtered = { 0 }, tag = { 0 }, chunk_head = { 0 };
	struct registry_call *calls[6];
	struct curl_slist *h1 = NULL, *h2 = NULL, *h3 = NULL;
	struct curl_slist *accept = curl_slist_append(NULL, "Accept: " OCI_INDEX_TYPE);
	char *p1 = NULL, *p2 = NULL, *p3 = NULL, *lp = NULL, *fp = NULL, *tp = NULL, *cp = NULL;
	struct chunked c = { 0 };
	struct buf cev, pev;
	const struct registry_call *ev[1] = { &subj };
	size_t n;
	int go_on;

	buf_init(&cev, BUF_TEXT_MAX);
	buf_init(&pev, BUF_TEXT_MAX);
	go_on = probe_deletes(v, &head_empty, &pev);
	if (!go_on && !v->ctx->config->keep_artifacts) {
		text_sanitize(pev.data);
		step(v, "deleteProof", "fail", NULL, 0, "%s", v->delete_reason);
		json_object_set_new(json_object_get(v->steps, "deleteProof"), "evidence",
				    json_string(pev.data));
		goto done;
	}
	if (head_empty.resp.status == 200)
		v->blobs[B_EMPTY].upload = 0;   /* not ours: never delete it */
	v->blobs[B_PROOF].upload = !v->ctx->config->keep_artifacts;
	open_sessions(v);
	if (!v->ctx->config->keep_artifacts) {
		prove_with_own_blob(v, &pev);
		text_sanitize(pev.data);
		json_object_set_new(v->steps, "deleteProof", json_pack("{s:s, s:s, s:s}",
			"status", v->deletes_proven ? "pass" : "fail", "evidence", pev.data,
			"verdict", v->delete_reason));
		if (!v->deletes_proven) {
			cleanup(v);    /* the sessions, and the proof blob if it is there */
			goto done;
		}
	}
	fit_chunked_blob(v);
	/* wave: the monolithic PUTs and the first chunk */
	chunked_next(v, &c);
	put_blobs(v, &c.call);
	chunked_done(v, &c, &cev);
	/* wave: the subject manifest and the second chunk */
	if (v->blobs[B_CONFIG].stored && v->blobs[B_LAYER].stored)
		subj = manifest_put(v, &v->mans[M_SUBJECT], v->mans[M_SUBJECT].digest, &p1, &h1);
	n = 0;
	if (subj.method)
		calls[n++] = &subj;
	if (chunked_next(v, &c))
		calls[n++] = &c.call;
	call_wave(v, calls, n);
	chunked_done(v, &c, &cev);
	lost(v, &subj);
	note_denied(v, &subj);
	v->mans[M_SUBJECT].stored = subj.resp.status == 201;
	if (v->mans[M_SUBJECT].stored) {
		step(v, "subject", "pass", ev, 1, "the subject image (config, one layer, manifest) was pushed by digest");
	} else {
		v->blobs_failed = 1;
		step(v, "subject", "fail", ev, 1, "the subject image could not be pushed%s%s%s",
		     subj.method ? "" : ": its blobs were not uploaded",
		     v->refusal ? ", refused: " : "", v->refusal ? v->refusal : "");
		goto chunks;
	}
	/* wave: the artifact, the manifest with a missing subject, the third chunk */
	if (!v->blobs[B_ART_LAYER].stored || (!v->blobs[B_EMPTY].stored && v->blobs[B_EMPTY].upload)) {
		v->blobs_failed = 1;
		step(v, "artifact", "fail", NULL, 0, "not pushed: its blobs (the empty config, the layer) could not be uploaded");
		goto chunks;
	}
	art = manifest_put(v, &v->mans[M_ARTIFACT], v->mans[M_ARTIFACT].digest, &p2, &h2);
	orphan = manifest_put(v, &v->mans[M_ORPHAN], v->mans[M_ORPHAN].digest, &p3, &h3);
	n = 0;
	calls[n++] = &art;
	calls[n++] = &orphan;
	if (chunked_next(v, &c))
		calls[n++] = &c.call;
	call_wave(v, calls, n);
	chunked_done(v, &c, &cev);
	judge_artifact(v, &art, &orphan);
	if (!v->mans[M_ARTIFACT].stored)
		goto chunks;
	/* wave: the listings, the chunked close, and the fallback tag when a client will need it */
	lp = xstrfmt("/v2/%s/referrers/%s", v->scratch, v->mans[M_SUBJECT].digest);
	fp = xstrfmt("%s?artifactType=%s", lp, ARTIFACT_TYPE_QUERY);
	list = (struct registry_call){ .method = "GET", .path = lp, .repository = v->scratch,
		.actions = REG_PULL | REG_PUSH, .headers = accept };
	filtered = (struct registry_call){ .method = "GET", .path = fp, .repository = v->scratch,
		.actions = REG_PULL | REG_PUSH, .headers = accept };
	n = 0;
	calls[n++] = &list;
	calls[n++] = &filtered;
	if (v->subject_header != PUSH_SUBJECT_MATCHES) {
		tp = manifest_path(v, v->fallback_tag);
		tag = (struct registry_call){ .method = "GET", .path = tp, .repository = v->scratch,
			.actions = REG_PULL | REG_PUSH, .headers = accept };
		calls[n++] = &tag;
	}
	if (chunked_next(v, &c))
		calls[n++] = &c.call;
	call_wave(v, calls, n);
	chunked_done(v, &c, &cev);
	judge_listing(v, &list, &filtered);
	v->fallback_needed = !(v->listed && v->subject_header == PUSH_SUBJECT_MATCHES);
	if (v->blobs[B_CHUNKED].stored) {
		cp = blob_path(v, v->blobs[B_CHUNKED].digest);
		chunk_head = (struct registry_call){ .method = "HEAD", .path = cp,
			.repository = v->scratch, .actions = REG_PULL | REG_PUSH };
	}
	if (v->fallback_needed)
		fallback(v, &tag, &chunk_head);
	else
		step(v, "fallback", "skip", NULL, 0, "not needed: OCI-Subject names the subject and the API lists the artifact");
chunks:
	finish_chunked(v, &c, &chunk_head, &cp, &cev);
	cleanup(v);
done:
	registry_call_release(&head_empty);
	registry_call_release(&subj);
	registry_call_release(&art);
	registry_call_release(&orphan);
	registry_call_release(&list);
	registry_call_release(&filtered);
	registry_call_release(&tag);
	registry_call_release(&chunk_head);
	registry_call_release(&c.call);
	curl_slist_free_all(c.h);
	free(c.url);
	curl_slist_free_all(h1);
	curl_slist_free_all(h2);
	curl_slist_free_all(h3);
	curl_slist_free_all(accept);
	free(p1);
	free(p2);
	free(p3);
	free(lp);
	free(fp);
	free(tp);
	free(cp);
	buf_release(&cev);
	buf_release(&pev);
}

/* ---- the result -------------------------------------------------------- */

static const char *subject_processing(const struct verify *v)
{
	if (!v->accepted)
		return "rejected";
	if (v->listed && v->subject_header == PUSH_SUBJECT_MATCHES)
		return "api";
	if (v->listing_lost || !v->listing_done)
		return "unknown";
	if (v->listed)
		return "listed-without-header";
	if (v->subject_header != PUSH_NO_SUBJECT)
		return "header-without-listing";
	return "ignored";
}

/* The steps (--writes verify) as a result section: one line each in the text report. */
static const struct section_def steps_section_def = {
	.id = "steps",
	.title = "Steps",
	.columns = {
		{ .key = "name", .title = "Step" },
		{ .key = "state", .title = "Status" },
		{ .key = "reason", .title = "Verdict" },
		{ .key = "evidence", .title = "Evidence", .long_text = 1 },
	},
	.bare = 1,
};

static const char *step_str(const json_t *st, const char *key)
{
	const char *s = json_string_value(json_object_get(st, key));

	return s ? s : "";
}

static void steps_section(struct check_ctx *ctx, json_t *steps)
{
	struct result_section *sec;
	const char *name;
	json_t *st;

	if (!json_is_object(steps))
		return;
	sec = result_section(ctx->result, &steps_section_def);
	json_object_foreach(steps, name, st)
		section_row(sec, (const char *const[]){ name, step_str(st, "status"),
							step_str(st, "verdict"),
							step_str(st, "evidence") });
}

static void write_details(struct verify *v)
{
	struct check_ctx *ctx = v->ctx;
	json_t *d = ctx->result->details;

	detail_str(ctx, "scratchRepository", v->scratch);
	detail_str(ctx, "runId", v->run_id);
	detail_bool(ctx, "deletesProven", v->deletes_proven);
	detail_str(ctx, "subjectDigest", v->mans[M_SUBJECT].digest);
	detail_str(ctx, "artifactDigest", v->mans[M_ARTIFACT].digest);
	detail_str(ctx, "artifactType", ARTIFACT_TYPE);
	json_object_set_new(d, "steps", v->steps);
	v->steps = NULL;
	steps_section(ctx, json_object_get(d, "steps"));
	if (json_object_get(json_object_get(d, "steps"), "artifact")) {
		detail_str(ctx, "ociSubject", v->accepted ? push_subject_name(v->subject_header)
									 : "not-made");
		detail_str(ctx, "subjectProcessing", subject_processing(v));
		detail_bool(ctx, "listed", v->listed);
		detail_bool(ctx, "listedUnderWrongType", v->wrong_type);
		if (v->listed_count >= 0)
			detail_int(ctx, "referrersListed", v->listed_count);
		else
			json_object_set_new(d, "referrersListed", json_null());
		detail_str(ctx, "filtersApplied", v->filters);
		detail_str(ctx, "fallbackTag", v->fallback_tag);
		if (v->fallback_tried)
			detail_bool(ctx, "fallbackWorked", v->fallback_worked);
		else
			json_object_set_new(d, "fallbackWorked", json_null());
	}
	if (!json_object_get(d, "leftovers"))
		json_object_set_new(d, "leftovers", json_array());
}

static void note_leftovers(struct check_ctx *ctx, const char *scratch)
{
	size_t n = json_array_size(json_object_get(ctx->result->details, "leftovers"));
	int created = json_object_get(ctx->result->details, "scratchRepositoryRemoval") != NULL;
	char *msg;

	if (n) {
		msg = xstrfmt("%s; %zu thing%s left in the scratch repository (details.leftovers)",
			      ctx->result->message, n, n == 1 ? "" : "s");
		free(ctx->result->message);
		ctx->result->message = msg;
	}
	if (created) {
		msg = xstrfmt("%s; this run created the scratch repository %s, which later runs use again (the report says how to remove it)",
			      ctx->result->message, scratch);
		free(ctx->result->message);
		ctx->result->message = msg;
	}
}

/* Pass, warn or fail, from what the steps found (see the knowledge base page). */
static void conclude(struct verify *v)
{
	struct check_ctx *ctx = v->ctx;
	const char *sp = subject_processing(v);
	int leftovers = json_array_size(json_object_get(ctx->result->details, "leftovers")) > 0;

	if (v->elsewhere && !v->connection)
		check_set(ctx, STATUS_FAIL, "upload", "uploading to %s did not complete: %s", v->scratch,
			  v->elsewhere);
	else if (!v->deletes_proven && !ctx->config->keep_artifacts && !v->connection)
		check_set(ctx, STATUS_INFO, "deletes",
			  "%s: deletes are not shown to work in %s (%s), so what verify pushes could not be removed; give --keep-artifacts to push anyway",
			  v->wrote ? "no artifact pushed" : "nothing pushed", v->scratch, v->delete_reason);
	else if (v->connection)
		check_set(ctx, STATUS_FAIL, "connection", "write verification was cut short: %s", v->connection);
	else if (v->denied)
		check_set(ctx, STATUS_FAIL, "denied", "pushing to %s was denied: the credentials need push (and delete) rights there",
			  v->scratch);
	else if (v->blobs_failed)
		check_set(ctx, STATUS_FAIL, "upload", "uploading the run's blobs or its subject image to %s failed (details.steps)",
			  v->scratch);
	else if (v->rejected)
		check_set(ctx, STATUS_FAIL, "rejected", "the registry rejects artifact manifests (%s): attaching SBOMs and signatures with oras, cosign or notation fails",
			  json_string_value(json_object_get(json_object_get(json_object_get(ctx->result->details, "steps"), "artifact"), "verdict")));
	else if (!v->listed && !v->fallback_worked)
		check_set(ctx, STATUS_FAIL, "not-found", "the pushed artifact cannot be found: the referrers API does not list it and the tag-schema fallback did not work");
	else if (!strcmp(sp, "header-without-listing") && v->wrong_type)
		check_set(ctx, STATUS_WARN, "header-without-listing",
			  "the registry answers OCI-Subject and lists the artifact, but not with the OCI index Content-Type, so oras, cosign and regctl read the tag schema instead: what oras and regctl attach through the API they do not find (only the tag-schema fallback worked)");
	else if (!strcmp(sp, "header-without-listing"))
		check_set(ctx, STATUS_WARN, "header-without-listing",
			  "the registry answers OCI-Subject but does not list the artifact: what oras and regctl attach through the API is found by no listing (only the tag-schema fallback worked)");
	else if (!strcmp(sp, "listed-without-header"))
		check_set(ctx, STATUS_WARN, "clients",
			  "the referrers API lists the artifact, but the push answered %s: oras and regctl will write sha256-<hex> tags that other clients do not read",
			  v->subject_header == PUSH_NO_SUBJECT ? "without OCI-Subject" : "with an OCI-Subject naming another digest");
	else if (!strcmp(sp, "ignored") && v->listed_bare)
		check_set(ctx, STATUS_WARN, "fallback-only",
			  "the referrers API lists the artifact without its artifactType or annotations, so clients that filter by artifactType miss it; the push answered without OCI-Subject and the sha256-<hex> fallback index was pushed and read back");
	else if (!strcmp(sp, "ignored"))
		check_set(ctx, STATUS_WARN, "fallback-only",
			  "artifacts are found only through the tag-schema fallback (no referrers API): the sha256-<hex> index was pushed and read back");
	else if (v->listed && !v->filtered_listed)
		check_set(ctx, STATUS_WARN, "filter", "the referrers API lists the artifact, but not when filtered by artifactType");
	else if (v->orphan_refused)
		check_set(ctx, STATUS_WARN, "missing-subject", "artifact push and discovery work, but a manifest whose subject does not exist is refused");
	else if (v->chunked_tried && !v->chunked_ok)
		check_set(ctx, STATUS_WARN, "chunked", "artifact push and discovery work, but a chunked upload of %d chunks did not complete (details.steps.chunkedUpload)",
			  CHUNKS);
	else
		check_set(ctx, STATUS_PASS, NULL, "an artifact with a subject was pushed, listed by the referrers API (OCI-Subject exact) and %s",
			  ctx->config->keep_artifacts ? "kept (--keep-artifacts)" : "removed");
	if (ctx->result->status == STATUS_PASS && leftovers && !ctx->config->keep_artifacts)
		check_set(ctx, STATUS_WARN, "cleanup", "artifact push and discovery work, but not everything pushed could be removed");
	note_leftovers(ctx, v->scratch);
}

static void verify_release(struct verify *v)
{
	size_t i;

	for (i = 0; i < B_N; i++) {
		free(v->blobs[i].digest);
		free(v->blobs[i].data);
		free(v->blobs[i].session);
	}
	for (i = 0; i < M_N; i++) {
		free(v->mans[i].digest);
		free(v->mans[i].body);
	}
	json_decref(v->steps);
	scratch_probe_release(&v->seen);
	free(v->scratch);
	free(v->connection);
	free(v->elsewhere);
	free(v->refusal);
	free(v->delete_reason);
	free(v->fallback_tag);
}

static void run(struct check_ctx *ctx)
{
	struct verify v = { .ctx = ctx, .chunk = CHUNK_DEFAULT, .listed_count = -1 };

	v.scratch = scratch_repository_name(ctx->config);
	random_hex(v.run_id, 8);
	v.steps = json_object();
	make_content(&v);
	push_and_find(&v);
	scratch_note_created(ctx, v.scratch, scratch_probe_judge(&v.seen, v.scratch), v.wrote);
	write_details(&v);
	conclude(&v);
	verify_release(&v);
}

const struct check check_artifacts = {
	.id = "check.integration.oci.artifacts",
	.title = "OCI artifact push and discovery",
	.plugin = "stellaops.doctor.integration",
	.tags = tags,
	.severity = STATUS_WARN,
	.deps = (const struct check *const[]){ &check_registry, NULL },
	.summary = "with --writes verify: an artifact with a subject is pushed to the scratch repository, found through the referrers API or the tag-schema fallback, and deleted",
	.run = run,
	.needs = NEED_VERIFY | NEED_ASKED | NEED_REACHABLE,
	.causes = (const char *const[]){ "deletes", "rejected", "not-found",
		"header-without-listing", "clients", "fallback-only", "filter", "missing-subject",
		"chunked", "cleanup", "upload", "denied", "connection", NULL },
};
