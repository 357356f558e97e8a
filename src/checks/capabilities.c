/*
 * check.integration.oci.capabilities: which parts of the distribution
 * spec does this registry really support?
 *
 * Five capabilities, each supported only on evidence that proves it,
 * unsupported only on evidence that rules it out, unknown otherwise:
 *  - distributionVersion: the version header of GET /v2/ (the registry
 *    check's response, not a new request);
 *  - referrersApi: the referrers check's verdict;
 *  - delete: DELETE by digest of a manifest and a blob that cannot exist
 *    (OPTIONS is recorded but never trusted: distribution lists DELETE in
 *    Allow even when deletes are off);
 *  - chunkedUpload: open a session, PATCH one chunk, expect a Range that
 *    covers it, cancel the session;
 *  - crossRepoMount: mount the test image's config blob into the scratch
 *    repository; only 201 proves a mount, a 202 is a fallback upload
 *    session and is cancelled. A HEAD first asks whether the scratch
 *    repository has the blob already; the link is removed afterwards
 *    (when deletes work) only when it did not, so that the clean-up can
 *    never take a blob away from an image or from a registry that shares
 *    blobs between repositories; a link the run made and cannot remove
 *    is listed in details.leftovers. A link an earlier run left makes no
 *    difference to the verdict: the mount is sent all the same.
 * The probes run in four waves of parallel requests: deletes, OPTIONS,
 * the manifest and whether the scratch repository exists (catalog, tag
 * list); the upload session and the HEAD of the blob in the scratch
 * repository; PATCH and the mount; the cancel of the session and the
 * removal of the mount. They start as soon as the registry check is
 * done; the referrers check runs meanwhile and its verdict is read at
 * the end. --no-writes leaves out everything that writes or deletes.
 */
#include "checks/check.h"
#include "checks/cleanup.h"
#include "checks/probe.h"
#include "checks/verdict.h"
#include "util/digest.h"
#include "util/xalloc.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_DEFAULT 512L
#define NO_WRITES "not probed (writes are off)"

static const char *const tags[] = { "registry", "oci", "capabilities", "compatibility", NULL };

enum cap_id { CAP_VERSION, CAP_REFERRERS, CAP_CHUNKED, CAP_MOUNT, CAP_DELETE, CAP_N };
_Static_assert(CAP_N == CAPABILITY_COUNT, "capability_names and enum cap_id must agree");

const char *const capability_names[CAPABILITY_COUNT + 1] = {
	[CAP_VERSION] = "distributionVersion",
	[CAP_REFERRERS] = "referrersApi",
	[CAP_CHUNKED] = "chunkedUpload",
	[CAP_MOUNT] = "crossRepoMount",
	[CAP_DELETE] = "delete",
	[CAP_N] = NULL,
};

struct probe {
	struct check_ctx *ctx;
	const char *repo;          /* test repository */
	char *scratch;             /* where writes go */
	struct verdict caps[CAP_N];
	json_t *extra[CAP_N];      /* per-capability details */
	char *connection_text;      /* the first call that got no answer */
	/* wave 1 */
	struct registry_call del_manifest, del_blob, opt_manifest, opt_blob, manifest, post;
	struct scratch_probe seen;
	/* waves 2 and 3 */
	struct registry_call patch, exists, mount;
	int preexisting;           /* the scratch repository had the blob before the mount */
	char *session;             /* open chunked-upload session URL */
	char *mount_session;       /* session a 202 mount opened */
	char *moved_to;            /* where the registry moved the upload, when not its origin */
	char *mount_digest;        /* blob linked into scratch by a 201 */
	char *blob;                /* digest of the blob to mount */
	const char *no_blob;       /* why there is none */
	long chunk;
};

/* n digests of random bytes ("sha256:<64 hex>"), which no registry holds; one draw for all. */
static void random_digests(char *out[], size_t n)
{
	char hex[3 * 64 + 1];
	size_t i;

	assert(n <= 3);
	random_hex(hex, 32 * n);
	for (i = 0; i < n; i++)
		out[i] = xstrfmt("sha256:%.64s", hex + 64 * i);
}

/* Notes a transport failure; returns 1 when the call got no answer. */
static int lost(struct probe *p, const struct registry_call *call)
{
	return call_lost(&p->connection_text, call);
}

/* The upload session in an answer's Location (upload_session_of); a move to another origin is kept for the report. */
static char *session_of(struct probe *p, const struct registry_call *call, char **why)
{
	return upload_session_of(p->ctx, call, p->scratch, why, &p->moved_to);
}

/* ---- distributionVersion and referrersApi: from earlier checks -------- */

static void judge_version(struct probe *p)
{
	const struct http_response *ping = p->ctx->facts->ping;
	const char *v;

	if (!ping) {
		verdict_set(&p->caps[CAP_VERSION], CAP_UNKNOWN, "GET /v2/ got no answer");
		return;
	}
	v = http_header_get(ping, "OCI-Distribution-API-Version");
	if (!v)
		v = http_header_get(ping, "Docker-Distribution-API-Version");
	if (v) {
		verdict_set(&p->caps[CAP_VERSION], CAP_SUPPORTED, "GET /v2/ sends %s", v);
		p->extra[CAP_VERSION] = json_pack("{s:s}", "value", v);
	} else {
		verdict_set(&p->caps[CAP_VERSION], CAP_UNSUPPORTED,
			    "GET /v2/ sends no Docker-Distribution-API-Version header");
	}
}

static void judge_referrers(struct probe *p)
{
	const struct check_result *r = check_dep(p->ctx, &check_referrers);
	const char *state = json_string_value(json_object_get(r->details, "state"));
	const char *reason = json_string_value(json_object_get(r->details, "reason"));
	enum cap_state s = CAP_UNKNOWN;

	if (state && !strcmp(state, "supported"))
		s = CAP_SUPPORTED;
	else if (state && !strcmp(state, "unsupported"))
		s = CAP_UNSUPPORTED;
	verdict_set(&p->caps[CAP_REFERRERS], s, "%s", reason ? reason : r->message);
}

/* ---- wave 1 ------------------------------------------------------------ */

static void setup_wave1(struct probe *p, char *paths[6], struct curl_slist *accept)
{
	const struct run_config *c = p->ctx->config;
	char *d[3];

	random_digests(d, 3);
	paths[0] = xstrfmt("/v2/%s/manifests/%s", p->repo, d[0]);
	paths[1] = xstrfmt("/v2/%s/blobs/%s", p->repo, d[1]);
	paths[2] = xstrfmt("/v2/%s/manifests/%s", p->repo, c->tag);
	paths[3] = xstrfmt("/v2/%s/blobs/%s", p->repo, d[2]);
	paths[4] = xstrfmt("/v2/%s/manifests/%s", p->repo, c->tag);
	paths[5] = xstrfmt("/v2/%s/blobs/uploads/", p->scratch);
	p->del_manifest = (struct registry_call){ .method = "DELETE", .path = paths[0],
		.repository = p->repo, .actions = REG_PULL | REG_PUSH | REG_DELETE };
	p->del_blob = (struct registry_call){ .method = "DELETE", .path = paths[1],
		.repository = p->repo, .actions = REG_PULL | REG_PUSH | REG_DELETE };
	p->opt_manifest = (struct registry_call){ .method = "OPTIONS", .path = paths[2],
		.repository = p->repo, .actions = REG_PULL };
	p->opt_blob = (struct registry_call){ .method = "OPTIONS", .path = paths[3],
		.repository = p->repo, .actions = REG_PULL };
	p->manifest = (struct registry_call){ .method = "GET", .path = paths[4],
		.repository = p->repo, .actions = REG_PULL, .headers = accept, .follow = 1 };
	p->post = (struct registry_call){ .method = "POST", .path = paths[5],
		.repository = p->scratch, .actions = REG_PULL | REG_PUSH, .body = "" };
	free(d[0]);
	free(d[1]);
	free(d[2]);
}

static void judge_delete(struct probe *p)
{
	struct verdict m = { 0 }, b = { 0 };
	struct registry_call *dm = &p->del_manifest, *db = &p->del_blob;
	const char *am = http_header_get(&p->opt_manifest.resp, "Allow");
	const char *ab = http_header_get(&p->opt_blob.resp, "Allow");

	if (lost(p, dm) | lost(p, db))
		return;
	delete_judge(dm->resp.status, dm->resp.body.data, dm->resp.body.len, "manifest", &m);
	delete_judge(db->resp.status, db->resp.body.data, db->resp.body.len, "blob", &b);
	if (m.state == CAP_SUPPORTED && b.state == CAP_SUPPORTED)
		verdict_set(&p->caps[CAP_DELETE], CAP_SUPPORTED, "manifest and blob deletes by digest are enabled");
	else if (m.state == CAP_UNSUPPORTED || b.state == CAP_UNSUPPORTED)
		verdict_set(&p->caps[CAP_DELETE], CAP_UNSUPPORTED, "%s",
			    m.state == CAP_UNSUPPORTED ? m.reason : b.reason);
	else
		verdict_set(&p->caps[CAP_DELETE], CAP_UNKNOWN, "manifests: %s; blobs: %s",
			    m.reason, b.reason);
	p->extra[CAP_DELETE] = json_pack("{s:{s:s, s:I, s:s}, s:{s:s, s:I, s:s}, s:{s:s?, s:s?}}",
		"manifests", "state", cap_state_name(m.state), "status", (json_int_t)dm->resp.status,
		"reason", m.reason,
		"blobs", "state", cap_state_name(b.state), "status", (json_int_t)db->resp.status,
		"reason", b.reason,
		"allow", "manifests", am, "blobs", ab);
	verdict_release(&m);
	verdict_release(&b);
}

/* Picks the blob to mount from the test image's manifest: its config, else a layer. */
static void pick_blob(struct probe *p)
{
	const struct http_response *r = &p->manifest.resp;
	json_t *root, *d;
	const char *digest;

	p->no_blob = "the manifest of the test image could not be read";
	if (r->status != 200)
		return;
	root = json_loadb(r->body.data, r->body.len, 0, NULL);
	d = json_object_get(json_object_get(root, "config"), "digest");
	if (!d)
		d = json_object_get(json_array_get(json_object_get(root, "layers"), 0), "digest");
	digest = json_string_value(d);
	if (digest && digest_valid(digest, NULL) == 0)
		p->blob = xstrdup(digest);
	else if (json_is_array(json_object_get(root, "manifests")))
		p->no_blob = "the test image is an index, which has no blob of its own; name a single-platform image";
	json_decref(root);
}

/*
 * An upload answer that rules writes out: a 405 of a read-only registry
 * (distribution's Allow without a write method, Quay's 405 naming the
 * mode). A 401 or 403 never does, even when its message says read-only
 * (Harbor's 403 DENIED): a refusal leaves the capability unknown.
 */
static int writes_ruled_out(const struct http_response *r)
{
	return r->status == 405 && upload_read_only(r);
}

/* The reason for a 401 or 403: who refused, and that it settles nothing. */
static void set_refused(struct verdict *v, const struct http_response *r, const char *what)
{
	char code[64];
	int has_code = oci_error_code(r->body.data, r->body.len, code, sizeof(code)) == 0;

	verdict_set(v, CAP_UNKNOWN, "denied (%ld%s%s%s) %s: a refusal does not rule the capability out",
		    r->status, has_code ? " " : "", has_code ? code : "",
		    upload_read_only(r) ? ", naming a read-only mode" : "", what);
}

/* Judges the POST that opens the chunked-upload session; returns 1 when one is open. */
static int judge_post(struct probe *p)
{
	const struct http_response *r = &p->post.resp;
	const char *min;
	char *elsewhere = NULL;

	if (lost(p, &p->post))
		return 0;
	if (r->status == 202 && (p->session = session_of(p, &p->post, &elsewhere))) {
		min = http_header_get(r, "OCI-Chunk-Min-Length");
		p->chunk = CHUNK_DEFAULT;
		if (min && atol(min) > p->chunk)
			p->chunk = atol(min);
		return 1;
	}
	if (elsewhere)
		verdict_set(&p->caps[CAP_CHUNKED], CAP_UNKNOWN, "%s", elsewhere);
	else if (r->status == 202)
		verdict_set(&p->caps[CAP_CHUNKED], CAP_UNKNOWN, "202 without a usable Location");
	else if (writes_ruled_out(r))
		verdict_set(&p->caps[CAP_CHUNKED], CAP_UNSUPPORTED, "the registry is read-only (%ld)",
			    r->status);
	else if (r->status == 401 || r->status == 403)
		set_refused(&p->caps[CAP_CHUNKED], r, "opening an upload session");
	else
		verdict_set(&p->caps[CAP_CHUNKED], CAP_UNKNOWN, "opening an upload session answered %ld", r->status);
	free(elsewhere);
	return 0;
}

/* ---- wave 2 ------------------------------------------------------------ */

/* Whether an answer's first error code is `code`. */
static int error_is(const struct http_response *r, const char *code)
{
	char got[64];

	return oci_error_code(r->body.data, r->body.len, got, sizeof(got)) == 0 && !strcmp(got, code);
}

static void judge_patch(struct probe *p)
{
	const struct http_response *r = &p->patch.resp;
	const char *range = http_header_get(r, "Range");
	char *next, *elsewhere = NULL;

	if (lost(p, &p->patch))
		return;
	if ((r->status == 202 || r->status == 201 || r->status == 204) && range_covers(range, p->chunk - 1))
		verdict_set(&p->caps[CAP_CHUNKED], CAP_SUPPORTED, "PATCH of %ld bytes answered %ld with Range %s%s%s%s",
			    p->chunk, r->status, range, p->moved_to ? " (the registry moved the upload to " : "",
			    p->moved_to ? p->moved_to : "", p->moved_to ? ")" : "");
	else if (r->status >= 200 && r->status < 300)
		verdict_set(&p->caps[CAP_CHUNKED], CAP_UNKNOWN, "PATCH answered %ld without a Range covering the chunk", r->status);
	else if (r->status == 416)
		verdict_set(&p->caps[CAP_CHUNKED], CAP_UNKNOWN, "PATCH answered 416 (range not satisfiable)");
	else if (r->status == 401 || r->status == 403)
		verdict_set(&p->caps[CAP_CHUNKED], CAP_UNKNOWN, "PATCH denied (%ld)", r->status);
	else if (r->status == 405 || r->status == 501 || (r->status == 400 && error_is(r, "UNSUPPORTED")))
		verdict_set(&p->caps[CAP_CHUNKED], CAP_UNSUPPORTED, "the upload session accepts no PATCH (%ld)", r->status);
	else
		verdict_set(&p->caps[CAP_CHUNKED], CAP_UNKNOWN, "PATCH answered %ld", r->status);
	next = (r->status >= 200 && r->status < 300) ? session_of(p, &p->patch, &elsewhere) : NULL;
	if (next) {
		free(p->session);
		p->session = next;
	} else if (elsewhere) {
		verdict_set(&p->caps[CAP_CHUNKED], CAP_UNKNOWN, "after the PATCH, %s", elsewhere);
		free(elsewhere);
	}
}

static void judge_mount(struct probe *p)
{
	const struct http_response *r = &p->mount.resp;

	if (lost(p, &p->mount))
		return;
	if (r->status == 201 && p->preexisting) {
		verdict_set(&p->caps[CAP_MOUNT], CAP_SUPPORTED,
			    "201: %s was mounted from %s into %s (it answered there before the mount: a link an earlier run left, or blobs shared between repositories; left as it was)",
			    p->blob, p->repo, p->scratch);
	} else if (r->status == 201) {
		verdict_set(&p->caps[CAP_MOUNT], CAP_SUPPORTED, "201: %s was mounted from %s into %s",
			    p->blob, p->repo, p->scratch);
		p->mount_digest = xstrdup(p->blob);
	} else if (r->status == 202) {
		char *elsewhere = NULL;

		p->mount_session = session_of(p, &p->mount, &elsewhere);
		verdict_set(&p->caps[CAP_MOUNT], CAP_UNSUPPORTED,
			    "202: the registry opened an upload session instead of mounting%s%s",
			    elsewhere ? "; " : "", elsewhere ? elsewhere : "");
		free(elsewhere);
	} else if (writes_ruled_out(r)) {
		verdict_set(&p->caps[CAP_MOUNT], CAP_UNSUPPORTED, "the registry is read-only (%ld)", r->status);
	} else if (r->status == 401 || r->status == 403) {
		set_refused(&p->caps[CAP_MOUNT], r, "the mount");
	} else {
		verdict_set(&p->caps[CAP_MOUNT], CAP_UNKNOWN, "mount answered %ld", r->status);
	}
}

/*
 * Whether to mount: when the scratch repository answered whether it has
 * the blob. 404: the link will be the run's own, removed afterwards; 200:
 * it is there already (an earlier run's link, or blobs shared between
 * repositories), so the mount is sent the same way and then left alone.
 */
static int may_mount(struct probe *p)
{
	long status = p->exists.resp.status;

	if (!p->exists.method)
		return 0;
	if (lost(p, &p->exists))
		return 0;
	if (status == 404)
		return 1;
	if (status == 200) {
		p->preexisting = 1;
		return 1;
	}
	if (status == 401 || status == 403)
		verdict_set(&p->caps[CAP_MOUNT], CAP_UNKNOWN, "denied (%ld) reading the scratch repository", status);
	else
		verdict_set(&p->caps[CAP_MOUNT], CAP_UNKNOWN, "HEAD of the blob in %s answered %ld", p->scratch, status);
	return 0;
}

/* Wave 2: open the chunked-upload session; HEAD the blob in the scratch repository. */
static void wave2(struct probe *p, char **exists_path)
{
	struct check_ctx *ctx = p->ctx;
	struct registry_call *calls[2];
	size_t n = 0;

	if (!ctx->config->no_writes)
		calls[n++] = &p->post;
	if (p->blob && !ctx->config->no_writes) {
		*exists_path = xstrfmt("/v2/%s/blobs/%s", p->scratch, p->blob);
		p->exists = (struct registry_call){ .method = "HEAD", .path = *exists_path,
			.repository = p->scratch, .actions = REG_PULL | REG_PUSH };
		calls[n++] = &p->exists;
	}
	registry_call_many(ctx->registry, ctx->log, calls, n);
	if (!ctx->config->no_writes)
		judge_post(p);
}

/* Wave 3: PATCH one chunk into the session; the mount. */
static void wave3(struct probe *p)
{
	struct check_ctx *ctx = p->ctx;
	struct registry_call *calls[2];
	struct curl_slist *patch_headers = NULL;
	char *body = NULL, *range = NULL, *mount_path = NULL;
	size_t n = 0;

	if (p->session && p->chunk > PROBE_CHUNK_MAX) {
		verdict_set(&p->caps[CAP_CHUNKED], CAP_UNKNOWN,
			    "the registry's minimum chunk (%ld bytes) is over 4 MiB", p->chunk);
	} else if (p->session) {
		body = xcalloc(1, (size_t)p->chunk);
		range = xstrfmt("Content-Range: 0-%ld", p->chunk - 1);
		patch_headers = curl_slist_append(patch_headers, "Content-Type: application/octet-stream");
		patch_headers = curl_slist_append(patch_headers, range);
		p->patch = (struct registry_call){ .method = "PATCH", .path = p->session,
			.repository = p->scratch, .actions = REG_PULL | REG_PUSH,
			.headers = patch_headers, .body = body, .body_len = (size_t)p->chunk };
		calls[n++] = &p->patch;
	}
	if (may_mount(p)) {
		mount_path = xstrfmt("/v2/%s/blobs/uploads/?mount=%s&from=%s", p->scratch, p->blob, p->repo);
		p->mount = (struct registry_call){ .method = "POST", .path = mount_path,
			.repository = p->scratch, .actions = REG_PULL | REG_PUSH,
			.mount_from = p->repo, .body = "" };
		calls[n++] = &p->mount;
	}
	registry_call_many(ctx->registry, ctx->log, calls, n);
	if (p->patch.method)
		judge_patch(p);
	if (p->mount.method)
		judge_mount(p);
	curl_slist_free_all(patch_headers);
	free(body);
	free(range);
	free(mount_path);
}


/*
 * Wave 4 and on: cancels the chunked-upload session and undoes the mount
 * on the undo list (cleanup.h): cancels the session a 202 opened, or
 * removes the link a 201 made when deletes work, and shows it gone by a
 * HEAD. What cannot be undone goes into details.leftovers.
 */
static void undo_writes(struct probe *p)
{
	struct undo_list undo;

	undo_init(&undo, p->ctx, p->scratch);
	if (p->session)
		undo_add(&undo, UNDO_SESSION, p->session, "chunked-upload session", 0);
	if (p->mount_session) {
		undo_add(&undo, UNDO_SESSION, p->mount_session, "upload session the mount opened", 0);
	} else if (p->mount_digest && p->caps[CAP_DELETE].state == CAP_SUPPORTED) {
		undo_add(&undo, UNDO_MOUNTED_BLOB, p->mount_digest, "mounted blob", 1);
	} else if (p->mount_digest) {
		leftover_add(p->ctx, "mounted-blob", p->scratch, p->mount_digest,
			     "blob deletes are not shown to work, so the mounted link was not removed");
	} else if (p->preexisting && p->mount.resp.status == 201 &&
		   p->caps[CAP_DELETE].state == CAP_UNSUPPORTED) {
		/* an earlier run's link that no run can remove: still there, so still listed */
		leftover_add(p->ctx, "mounted-blob", p->scratch, p->blob,
			     "blob deletes are not shown to work, so the mounted link was not removed (an earlier run made it; this run's mount found it there)");
	}
	undo_run(&undo);
	undo_release(&undo);
}

/* ---- the result -------------------------------------------------------- */

/* The capability matrix: shown with the report's summary, and as Prometheus gauges. */
static const struct section_def capabilities_section = {
	.id = "capabilities",
	.title = "Capabilities",
	.columns = {
		{ .key = "name", .title = "Capability" },
		{ .key = "state", .title = "State" },
		{ .key = "reason", .title = "Reason" },
	},
	.summary = 1,
	.bare = 1,
	.metric_kind = SECTION_METRIC_STATE,
	.metric = "ocidoctor_capability_supported",
	.metric_label = "capability",
	.metric_help = "Registry capability: 1 supported, 0 unsupported, -1 unknown.",
	.score_metric = "ocidoctor_capability_score",
	.score_help = "Number of supported capabilities, of ocidoctor_capability_probed.",
	.probed_metric = "ocidoctor_capability_probed",
	.probed_help = "Number of capabilities probed (the denominator of ocidoctor_capability_score).",
};

static void write_details(struct probe *p, int score, int probed)
{
	struct result_section *sec = result_section(p->ctx->result, &capabilities_section);
	json_t *caps = json_object();
	size_t i;

	for (i = 0; i < CAP_N; i++) {
		json_t *o = p->extra[i] ? p->extra[i] : json_object();

		section_row(sec, (const char *const[]){ capability_names[i],
							cap_state_name(p->caps[i].state),
							p->caps[i].reason });

		json_object_set_new(o, "state", json_string(cap_state_name(p->caps[i].state)));
		if (p->caps[i].reason)
			json_object_set_new(o, "reason", json_string(p->caps[i].reason));
		json_object_set_new(caps, capability_names[i], o);
		p->extra[i] = NULL;
	}
	if (p->moved_to)
		detail_str(p->ctx, "uploadMovedTo", p->moved_to);
	detail_int(p->ctx, "score", score);
	detail_int(p->ctx, "max", CAP_N);
	detail_int(p->ctx, "probed", probed);
	json_object_set_new(p->ctx->result->details, "capabilities", caps);
	detail_str(p->ctx, "scratchRepository", p->scratch);
	leftovers_ensure(p->ctx);
}

/* "3/3 probed, 2 not probed (writes are off)" when some were not probed, else "3/5". */
static char *score_text(int score, int probed)
{
	if (probed < CAP_N)
		return xstrfmt("%d/%d probed, %d not probed (writes are off)", score, probed, CAP_N - probed);
	return xstrfmt("%d/%d", score, CAP_N);
}

/*
 * The status: a capability that was not probed counts neither for nor
 * against the registry, so a read-only scan of a good registry passes.
 */
static void conclude(struct probe *p)
{
	struct buf missing;
	int score = 0, probed = 0;
	char *of;
	size_t i;

	if (!p->ctx->config->no_writes)
		scratch_note_created(p->ctx, p->scratch, scratch_probe_judge(&p->seen, p->scratch),
				     p->post.resp.status == 202 || p->mount.resp.status == 201 ||
				     p->mount.resp.status == 202);
	buf_init(&missing, BUF_TEXT_MAX);
	for (i = 0; i < CAP_N; i++) {
		if (p->caps[i].state == CAP_NOT_PROBED)
			continue;
		probed++;
		if (p->caps[i].state == CAP_SUPPORTED)
			score++;
		else
			buf_addf(&missing, "%s%s %s", missing.len ? ", " : "", capability_names[i],
				 cap_state_name(p->caps[i].state));
	}
	write_details(p, score, probed);
	of = score_text(score, probed);
	if (p->connection_text)
		check_set(p->ctx, STATUS_FAIL, "connection", "a capability probe failed: %s",
			  p->connection_text);
	else if (p->caps[CAP_REFERRERS].state == CAP_UNSUPPORTED)
		check_set(p->ctx, STATUS_WARN, "referrers", "%s capabilities; the Referrers API is not supported (%s)",
			  of, missing.data);
	else if (score < probed)
		check_set(p->ctx, STATUS_INFO, "partial", "%s capabilities (%s)", of, missing.data);
	else
		check_set(p->ctx, STATUS_PASS, NULL, "%s capabilities supported", of);
	leftovers_note(p->ctx, p->scratch, "on the registry");
	free(of);
	buf_release(&missing);
}

static void probe_release(struct probe *p)
{
	size_t i;

	for (i = 0; i < CAP_N; i++) {
		verdict_release(&p->caps[i]);
		json_decref(p->extra[i]);
	}
	registry_call_release(&p->del_manifest);
	registry_call_release(&p->del_blob);
	registry_call_release(&p->opt_manifest);
	registry_call_release(&p->opt_blob);
	registry_call_release(&p->manifest);
	registry_call_release(&p->post);
	registry_call_release(&p->patch);
	registry_call_release(&p->exists);
	registry_call_release(&p->mount);
	scratch_probe_release(&p->seen);
	free(p->session);
	free(p->mount_session);
	free(p->moved_to);
	free(p->mount_digest);
	free(p->blob);
	free(p->scratch);
	free(p->connection_text);
}

static void probe_registry(struct probe *p)
{
	struct check_ctx *ctx = p->ctx;
	struct curl_slist *accept = manifest_accept_headers();
	struct registry_call mount_token = { .method = "POST", .path = "/v2/", .token_only = 1,
		.repository = p->scratch, .actions = REG_PULL | REG_PUSH, .mount_from = p->repo };
	struct registry_call unlink_token = { .method = "DELETE", .path = "/v2/", .token_only = 1,
		.repository = p->scratch, .actions = REG_PULL | REG_PUSH | REG_DELETE };
	struct registry_call *calls[10];
	int writes = !ctx->config->no_writes;
	char *paths[6], *exists_path = NULL;
	size_t n = 0, i;

	setup_wave1(p, paths, accept);
	calls[n++] = &p->opt_manifest;
	calls[n++] = &p->opt_blob;
	calls[n++] = &p->manifest;
	if (writes) {
		calls[n++] = &p->del_manifest;
		calls[n++] = &p->del_blob;
		/* before the first write: is the scratch repository there? */
		scratch_probe_setup(&p->seen, p->scratch);
		calls[n++] = &p->seen.catalog;
		calls[n++] = &p->seen.tags;
		/* the tokens the session, the mount and its removal will need, fetched now */
		calls[n++] = &mount_token;
		calls[n++] = &unlink_token;
	}
	registry_call_many(ctx->registry, ctx->log, calls, n);
	registry_call_release(&mount_token);
	registry_call_release(&unlink_token);
	pick_blob(p);
	if (writes) {
		judge_delete(p);
	} else {
		for (i = CAP_CHUNKED; i <= CAP_DELETE; i++)
			verdict_set(&p->caps[i], CAP_NOT_PROBED, NO_WRITES);
	}
	wave2(p, &exists_path);
	if (writes && !p->blob)
		verdict_set(&p->caps[CAP_MOUNT], CAP_UNKNOWN, "no blob to mount: %s", p->no_blob);
	wave3(p);
	undo_writes(p);
	for (i = 0; i < 6; i++)
		free(paths[i]);
	free(exists_path);
	curl_slist_free_all(accept);
}

static void run(struct check_ctx *ctx)
{
	struct probe p = { .ctx = ctx, .repo = ctx->config->repository };

	p.scratch = scratch_repository_name(ctx->config);
	judge_version(&p);
	probe_registry(&p);
	judge_referrers(&p);
	conclude(&p);
	probe_release(&p);
}

const struct check check_capabilities = {
	.id = "check.integration.oci.capabilities",
	.title = "OCI Registry Capability Matrix",
	.plugin = "stellaops.doctor.integration",
	.tags = tags,
	.severity = STATUS_INFO,
	.deps = (const struct check *const[]){ &check_registry, NULL },
	.uses = (const struct check *const[]){ &check_referrers, NULL },
	.summary = "five capabilities (version header, Referrers API, chunked upload, cross-repository mount, delete), each proven or ruled out by a real probe",
	.run = run,
	.needs = NEED_REACHABLE,
	.causes = (const char *const[]){ "partial", "referrers", "connection", NULL },
};
