/*
 * artifacts_steps: the artifacts check's step sequencer. One owner, struct
 * sequence, holds every call, path and header the steps make; each step
 * is a function that sends its wave, judges it into details.steps and
 * says whether the run goes on, goes to the chunked upload's end and the
 * clean-up, goes to the clean-up alone, or stops.
 */
#include "checks/artifacts_internal.h"
#include "checks/probe.h"
#include "util/digest.h"
#include "util/xalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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
	p3 = av_blob_path(v, EMPTY_DIGEST);
	dm = (struct registry_call){ .method = "DELETE", .path = p1, .repository = v->scratch,
		.actions = REG_PULL | REG_PUSH | REG_DELETE };
	db = (struct registry_call){ .method = "DELETE", .path = p2, .repository = v->scratch,
		.actions = REG_PULL | REG_PUSH | REG_DELETE };
	*head_empty = (struct registry_call){ .method = "HEAD", .path = p3,
		.repository = v->scratch, .actions = REG_PULL | REG_PUSH };
	scratch_probe_setup(&v->seen, v->scratch);
	/* the tokens first (both scopes the run needs), so that no later call waits for one */
	av_call_wave(v, tokens, 2);
	av_call_wave(v, calls, 5);
	head_empty->path = NULL;
	call_evidence_add(ev, &dm);
	call_evidence_add(ev, &db);
	if (av_lost(v, &dm) | av_lost(v, &db)) {
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
	char *url = NULL, *path = av_blob_path(v, pb->digest);
	struct registry_call put = { 0 }, del = { 0 }, head = { 0 };

	if (!pb->session) {
		v->delete_reason = xstrdup("no upload session could be opened for the proof blob");
		goto done;
	}
	url = av_with_digest(pb->session, pb->digest);
	put = (struct registry_call){ .method = "PUT", .path = url, .repository = v->scratch,
		.actions = REG_PULL | REG_PUSH, .headers = h, .body = pb->data, .body_len = pb->len };
	registry_call(v->ctx->registry, v->ctx->log, &put);
	call_evidence_add(ev, &put);
	av_lost(v, &put);
	av_note_denied(v, &put);
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
	call_evidence_add(ev, &del);
	if (av_lost(v, &del) || !status_2xx(del.resp.status)) {
		char *why = av_refusal_text(&del.resp);

		v->delete_reason = xstrfmt("deleting the run's own proof blob %s answered %s", pb->digest,
					   del.resp.status ? why : "nothing");
		free(why);
		goto done;
	}
	head = (struct registry_call){ .method = "HEAD", .path = path, .repository = v->scratch,
		.actions = REG_PULL | REG_PUSH };
	registry_call(v->ctx->registry, v->ctx->log, &head);
	call_evidence_add(ev, &head);
	av_lost(v, &head);
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
	free(path);
	free(url);
}

/* ---- steps 2 to 4 ------------------------------------------------------- */

static void judge_artifact(struct verify *v, struct registry_call *art, struct registry_call *orphan)
{
	const struct registry_call *ev[1] = { art };
	const char *header = http_header_get(&art->resp, "OCI-Subject");

	av_lost(v, art);
	av_lost(v, orphan);
	av_note_denied(v, art);
	if (art->resp.status == 201) {
		v->mans[M_ARTIFACT].stored = 1;
		v->accepted = 1;
		v->subject_header = push_subject_of(header, v->mans[M_SUBJECT].digest);
		av_step(v, "artifact", "pass", ev, 1, "the artifact manifest (artifactType %s, empty config, subject) was accepted",
		     ARTIFACT_TYPE);
		av_step(v, "ociSubject", v->subject_header == PUSH_SUBJECT_MATCHES ? "pass" : "warn", ev, 1, "%s",
		     v->subject_header == PUSH_SUBJECT_MATCHES ? "OCI-Subject names the subject: oras and regclient attach through the API"
		     : v->subject_header == PUSH_SUBJECT_OTHER ? "OCI-Subject names another digest: regclient writes the tag schema, oras uses the API"
		     : "no OCI-Subject: oras and regclient write the tag schema (sha256-<hex>)");
	} else if (art->resp.status) {
		char *why = av_refusal_text(&art->resp);

		v->rejected = !(art->resp.status == 401 || art->resp.status == 403);
		av_step(v, "artifact", "fail", ev, 1, "the artifact manifest was refused: %s", why);
		av_refusal_fields(json_object_get(v->steps, "artifact"), &art->resp);
		free(why);
	} else {
		av_step(v, "artifact", "fail", ev, 1, "the artifact push got no answer");
	}
	ev[0] = orphan;
	if (v->rejected && orphan->resp.status == art->resp.status) {
		av_step(v, "missingSubject", "skip", ev, 1, "not judged: the registry refuses artifact manifests altogether");
	} else if (orphan->resp.status == 201) {
		v->mans[M_ORPHAN].stored = 1;
		av_step(v, "missingSubject", "pass", ev, 1, "a manifest whose subject does not exist was accepted, as the spec requires");
	} else if (orphan->resp.status) {
		char *why = av_refusal_text(&orphan->resp);

		v->orphan_refused = 1;
		av_step(v, "missingSubject", "warn", ev, 1,
		     "a manifest whose subject does not exist was refused (%s); the spec says a registry must accept it, so attaching to an image before it is pushed fails", why);
		free(why);
	} else {
		av_step(v, "missingSubject", "fail", ev, 1, "the push got no answer");
	}
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
	found = json_is_object(root) && av_index_has_artifact(v, root, &count);
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
	v->listing_lost = av_lost(v, all);
	av_lost(v, filtered);
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
		av_step(v, "listing", "fail", ev, 2, "the referrers request got no answer");
	else if (v->listed && v->filtered_listed)
		av_step(v, "listing", "pass", ev, 2, "the referrers API lists the artifact, also filtered by artifactType (%s)",
		     v->filters ? "OCI-Filters-Applied: artifactType" : "no OCI-Filters-Applied: clients filter themselves");
	else if (v->listed)
		av_step(v, "listing", "warn", ev, 2, "the referrers API lists the artifact, but not when filtered by artifactType (%s)",
		     why_filtered);
	else
		av_step(v, "listing", "fail", ev, 2,
		     "the referrers API does not list the artifact (%ld: %s)", all->resp.status, why_all);
}

/* ---- step 5: the tag-schema fallback ----------------------------------- */

static void fallback(struct verify *v, struct registry_call *get, struct registry_call *chunk_head)
{
	struct curl_slist *accept = curl_slist_append(NULL, "Accept: " OCI_INDEX_TYPE);
	struct curl_slist *h = NULL;
	char *tag_path = av_manifest_path(v, v->fallback_tag), *put_path = NULL;
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
		av_call_wave(v, calls, (size_t)n);
	if (av_lost(v, get) || av_build_index(v, get, &why) < 0) {
		av_step(v, "fallback", "fail", ev, 1, "%s", why ? why : "reading the fallback tag got no answer");
		goto done;
	}
	put = av_manifest_put(v, &v->mans[M_INDEX], v->fallback_tag, &put_path, &h);
	n = 0;
	calls[n++] = &put;
	if (chunk_head->method && !chunk_head->resp.status && !chunk_head->error)
		calls[n++] = chunk_head;
	av_call_wave(v, calls, (size_t)n);
	ev[1] = &put;
	av_lost(v, &put);
	if (put.resp.status != 201) {
		char *text = av_refusal_text(&put.resp);

		av_step(v, "fallback", "fail", ev, 2, "pushing the fallback index under %s was refused: %s",
		     v->fallback_tag, text);
		free(text);
		goto done;
	}
	v->mans[M_INDEX].stored = 1;
	back = (struct registry_call){ .method = "GET", .path = tag_path, .repository = v->scratch,
		.actions = REG_PULL | REG_PUSH, .headers = accept };
	registry_call(v->ctx->registry, v->ctx->log, &back);
	ev[2] = &back;
	av_lost(v, &back);
	root = back.resp.status == 200 ? json_loadb(back.resp.body.data, back.resp.body.len, 0, NULL) : NULL;
	v->fallback_worked = root && av_index_has_artifact(v, root, &count) && count == 1;
	json_decref(root);
	if (v->fallback_worked)
		av_step(v, "fallback", "pass", ev, 3, "the fallback index under %s was pushed and read back with the artifact once, with its artifactType and annotation",
		     v->fallback_tag);
	else
		av_step(v, "fallback", "fail", ev, 3, "the fallback index under %s did not read back with the artifact (%d entr%s of its digest)",
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

/* ---- the sequence ------------------------------------------------------- */

enum seq_path { P_SUBJECT, P_ARTIFACT, P_ORPHAN, P_LIST, P_FILTERED, P_TAG, P_CHUNK_HEAD, P_N };
enum seq_header { H_SUBJECT, H_ARTIFACT, H_ORPHAN, H_N };

/* What the steps make, owned here and released once by sequence_release. */
struct sequence {
	struct verify *v;
	struct registry_call head_empty, subj, art, orphan, list, filtered, tag, chunk_head;
	struct chunked chunked;          /* the chunked upload, one request per wave */
	struct curl_slist *accept;       /* Accept: the OCI index */
	struct curl_slist *headers[H_N]; /* the manifest PUTs' Content-Type */
	char *paths[P_N];                /* the calls' paths */
	struct buf chunk_ev, proof_ev;   /* evidence of the chunked upload and of the delete proof */
};

/* After a step: go on; finish the chunked upload and clean up; only clean up; stop. */
enum seq_next { SEQ_NEXT, SEQ_FINISH, SEQ_CLEANUP, SEQ_STOP };

static void sequence_init(struct sequence *s, struct verify *v)
{
	memset(s, 0, sizeof(*s));
	s->v = v;
	s->accept = curl_slist_append(NULL, "Accept: " OCI_INDEX_TYPE);
	buf_init(&s->chunk_ev, BUF_TEXT_MAX);
	buf_init(&s->proof_ev, BUF_TEXT_MAX);
}

static void sequence_release(struct sequence *s)
{
	struct registry_call *calls[] = { &s->head_empty, &s->subj, &s->art, &s->orphan, &s->list,
					  &s->filtered, &s->tag, &s->chunk_head };
	size_t i;

	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		registry_call_release(calls[i]);
	av_chunked_release(&s->chunked);
	for (i = 0; i < H_N; i++)
		curl_slist_free_all(s->headers[i]);
	for (i = 0; i < P_N; i++)
		free(s->paths[i]);
	curl_slist_free_all(s->accept);
	buf_release(&s->chunk_ev);
	buf_release(&s->proof_ev);
}

/* Sends calls with the chunked upload's next request, when it has one, and judges that. */
static void wave_with_chunk(struct sequence *s, struct registry_call **calls, size_t n)
{
	if (av_chunked_next(s->v, &s->chunked))
		calls[n++] = &s->chunked.call;
	av_call_wave(s->v, calls, n);
	av_chunked_done(s->v, &s->chunked, &s->chunk_ev);
}

/* A GET of path (owned by the sequence) with the index Accept header. */
static struct registry_call index_get(struct sequence *s, const char *path)
{
	return (struct registry_call){ .method = "GET", .path = path, .repository = s->v->scratch,
		.actions = REG_PULL | REG_PUSH, .headers = s->accept };
}

/* Do deletes rule out writing? Nothing is written when they do (unless --keep-artifacts). */
static enum seq_next step_delete_probe(struct sequence *s)
{
	struct verify *v = s->v;

	if (probe_deletes(v, &s->head_empty, &s->proof_ev) || v->ctx->config->keep_artifacts)
		return SEQ_NEXT;
	text_sanitize(s->proof_ev.data);
	av_step(v, "deleteProof", "fail", NULL, 0, "%s", v->delete_reason);
	json_object_set_new(json_object_get(v->steps, "deleteProof"), "evidence",
			    json_string(s->proof_ev.data));
	return SEQ_STOP;
}

/* The upload sessions, and the delete proof on the run's own blob. */
static enum seq_next step_sessions(struct sequence *s)
{
	struct verify *v = s->v;

	if (s->head_empty.resp.status == 200)
		v->blobs[B_EMPTY].upload = 0;   /* not ours: never delete it */
	v->blobs[B_PROOF].upload = !v->ctx->config->keep_artifacts;
	av_open_sessions(v);
	if (v->ctx->config->keep_artifacts)
		return SEQ_NEXT;
	prove_with_own_blob(v, &s->proof_ev);
	text_sanitize(s->proof_ev.data);
	json_object_set_new(v->steps, "deleteProof", json_pack("{s:s, s:s, s:s}",
		"status", v->deletes_proven ? "pass" : "fail", "evidence", s->proof_ev.data,
		"verdict", v->delete_reason));
	/* without the proof: the sessions, and the proof blob if it is there, are removed */
	return v->deletes_proven ? SEQ_NEXT : SEQ_CLEANUP;
}

/* Wave: the monolithic PUTs and the first chunk. */
static enum seq_next step_blobs(struct sequence *s)
{
	av_fit_chunked_blob(s->v);
	av_chunked_next(s->v, &s->chunked);
	av_put_blobs(s->v, &s->chunked.call);
	av_chunked_done(s->v, &s->chunked, &s->chunk_ev);
	return SEQ_NEXT;
}

/* Wave: the subject manifest and the second chunk. */
static enum seq_next step_subject(struct sequence *s)
{
	struct verify *v = s->v;
	const struct registry_call *ev[1] = { &s->subj };
	struct registry_call *calls[2];
	size_t n = 0;

	if (v->blobs[B_CONFIG].stored && v->blobs[B_LAYER].stored) {
		s->subj = av_manifest_put(v, &v->mans[M_SUBJECT], v->mans[M_SUBJECT].digest,
					  &s->paths[P_SUBJECT], &s->headers[H_SUBJECT]);
		calls[n++] = &s->subj;
	}
	wave_with_chunk(s, calls, n);
	av_lost(v, &s->subj);
	av_note_denied(v, &s->subj);
	v->mans[M_SUBJECT].stored = s->subj.resp.status == 201;
	if (v->mans[M_SUBJECT].stored) {
		av_step(v, "subject", "pass", ev, 1, "the subject image (config, one layer, manifest) was pushed by digest");
		return SEQ_NEXT;
	}
	v->blobs_failed = 1;
	av_step(v, "subject", "fail", ev, 1, "the subject image could not be pushed%s%s%s",
		s->subj.method ? "" : ": its blobs were not uploaded",
		v->refusal ? ", refused: " : "", v->refusal ? v->refusal : "");
	return SEQ_FINISH;
}

/* Wave: the artifact, the manifest with a missing subject, the third chunk. */
static enum seq_next step_artifact(struct sequence *s)
{
	struct verify *v = s->v;
	struct registry_call *calls[3] = { &s->art, &s->orphan };

	if (!v->blobs[B_ART_LAYER].stored || (!v->blobs[B_EMPTY].stored && v->blobs[B_EMPTY].upload)) {
		v->blobs_failed = 1;
		av_step(v, "artifact", "fail", NULL, 0, "not pushed: its blobs (the empty config, the layer) could not be uploaded");
		return SEQ_FINISH;
	}
	s->art = av_manifest_put(v, &v->mans[M_ARTIFACT], v->mans[M_ARTIFACT].digest,
				 &s->paths[P_ARTIFACT], &s->headers[H_ARTIFACT]);
	s->orphan = av_manifest_put(v, &v->mans[M_ORPHAN], v->mans[M_ORPHAN].digest,
				    &s->paths[P_ORPHAN], &s->headers[H_ORPHAN]);
	wave_with_chunk(s, calls, 2);
	judge_artifact(v, &s->art, &s->orphan);
	return v->mans[M_ARTIFACT].stored ? SEQ_NEXT : SEQ_FINISH;
}

/*
 * Wave: the listings, the chunked close, and the fallback tag when a
 * client will need it; then the fallback, where the listing or
 * OCI-Subject falls short.
 */
static enum seq_next step_listing(struct sequence *s)
{
	struct verify *v = s->v;
	struct registry_call *calls[4] = { &s->list, &s->filtered };
	size_t n = 2;

	s->paths[P_LIST] = xstrfmt("/v2/%s/referrers/%s", v->scratch, v->mans[M_SUBJECT].digest);
	s->paths[P_FILTERED] = xstrfmt("%s?artifactType=%s", s->paths[P_LIST], ARTIFACT_TYPE_QUERY);
	s->list = index_get(s, s->paths[P_LIST]);
	s->filtered = index_get(s, s->paths[P_FILTERED]);
	if (v->subject_header != PUSH_SUBJECT_MATCHES) {
		s->paths[P_TAG] = av_manifest_path(v, v->fallback_tag);
		s->tag = index_get(s, s->paths[P_TAG]);
		calls[n++] = &s->tag;
	}
	wave_with_chunk(s, calls, n);
	judge_listing(v, &s->list, &s->filtered);
	v->fallback_needed = !(v->listed && v->subject_header == PUSH_SUBJECT_MATCHES);
	if (v->blobs[B_CHUNKED].stored) {
		s->paths[P_CHUNK_HEAD] = av_blob_path(v, v->blobs[B_CHUNKED].digest);
		s->chunk_head = (struct registry_call){ .method = "HEAD", .path = s->paths[P_CHUNK_HEAD],
			.repository = v->scratch, .actions = REG_PULL | REG_PUSH };
	}
	if (v->fallback_needed)
		fallback(v, &s->tag, &s->chunk_head);
	else
		av_step(v, "fallback", "skip", NULL, 0, "not needed: OCI-Subject names the subject and the API lists the artifact");
	return SEQ_NEXT;
}

static enum seq_next (*const sequence_steps[])(struct sequence *) = {
	step_delete_probe, step_sessions, step_blobs, step_subject, step_artifact, step_listing,
};

void av_push_and_find(struct verify *v)
{
	struct sequence s;
	enum seq_next next = SEQ_NEXT;
	size_t i;

	sequence_init(&s, v);
	for (i = 0; next == SEQ_NEXT && i < sizeof(sequence_steps) / sizeof(sequence_steps[0]); i++)
		next = sequence_steps[i](&s);
	if (next <= SEQ_FINISH)
		av_finish_chunked(v, &s.chunked, &s.chunk_head, &s.paths[P_CHUNK_HEAD], &s.chunk_ev);
	if (next <= SEQ_CLEANUP)
		av_cleanup(v);
	sequence_release(&s);
}
