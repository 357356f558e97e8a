/*
 * artifacts_upload: the artifacts check's blob uploads: one session per
 * blob, closed by PUT ?digest= with the whole blob (monolithic), and the
 * chunked blob: three PATCHes, one per wave, each answered with a Range
 * that covers it, closed by PUT ?digest= and verified by HEAD.
 */
#include "checks/artifacts_internal.h"
#include "checks/probe.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* ---- step 1 and the blobs of step 2 ------------------------------------ */

/* Opens one upload session per blob (and the chunked one). */
void av_open_sessions(struct verify *v)
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
	av_call_wave(v, calls, n);
	for (i = 0; i < B_N; i++) {
		const char *min;

		if (!posts[i].method)
			continue;
		av_lost(v, &posts[i]);
		av_note_denied(v, &posts[i]);
		if (posts[i].resp.status == 202) {
			v->wrote = 1;
			v->blobs[i].session = av_session_of(v, &posts[i], &elsewhere);
		}
		if (i == B_CHUNKED && (min = http_header_get(&posts[i].resp, "OCI-Chunk-Min-Length")) &&
		    atol(min) > v->chunk)
			v->chunk = atol(min);
		registry_call_release(&posts[i]);
	}
	free(path);
}

/* Completes the monolithic uploads: PUT ?digest= with the blob. */
void av_put_blobs(struct verify *v, struct registry_call *extra)
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
		urls[i] = av_with_digest(b->session, b->digest);
		puts[i] = (struct registry_call){ .method = "PUT", .path = urls[i],
			.repository = v->scratch, .actions = REG_PULL | REG_PUSH, .headers = h,
			.body = b->data, .body_len = b->len };
		calls[n++] = &puts[i];
	}
	if (extra && extra->method)
		calls[n++] = extra;
	av_call_wave(v, calls, n);
	for (i = 0; i < B_CHUNKED; i++) {
		if (!puts[i].method)
			continue;
		av_lost(v, &puts[i]);
		av_note_denied(v, &puts[i]);
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

struct registry_call av_manifest_put(struct verify *v, struct manifest *m, const char *ref,
					 char **path, struct curl_slist **h)
{
	char *ct = xstrfmt("Content-Type: %s", m->type);

	*h = curl_slist_append(NULL, ct);
	free(ct);
	*path = av_manifest_path(v, ref);
	return (struct registry_call){ .method = "PUT", .path = *path, .repository = v->scratch,
		.actions = REG_PULL | REG_PUSH, .headers = *h, .body = m->body, .body_len = m->len };
}

/* ---- step 7: the chunked upload, one request per wave ------------------ */

/* Sets up the chunked upload's next request; returns 0 when there is none. */
int av_chunked_next(struct verify *v, struct chunked *c)
{
	struct blob *b = &v->blobs[B_CHUNKED];
	char *range;

	if (!v->chunked_tried || c->failed || !b->session || c->next > CHUNKS)
		return 0;
	if (c->next == CHUNKS) {
		c->url = av_with_digest(b->session, b->digest);
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
void av_chunked_done(struct verify *v, struct chunked *c, struct buf *ev)
{
	struct blob *b = &v->blobs[B_CHUNKED];
	const struct http_response *r = &c->call.resp;
	char *next;
	int elsewhere;

	if (!c->call.method)
		return;
	call_evidence_add(ev, &c->call);
	av_lost(v, &c->call);
	if (c->next < CHUNKS && status_2xx(r->status) && range_covers(http_header_get(r, "Range"),
								  (c->next + 1) * v->chunk - 1)) {
		if ((next = av_session_of(v, &c->call, &elsewhere))) {
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

/* ---- the chunked blob's verdict ---------------------------------------- */

static void judge_chunked(struct verify *v, struct chunked *c, struct registry_call *head, struct buf *ev)
{
	const struct blob *b = &v->blobs[B_CHUNKED];
	const char *len = head->method ? http_header_get(&head->resp, "Content-Length") : NULL;
	json_t *o;

	if (head->method)
		call_evidence_add(ev, head);
	av_lost(v, head);
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
			      v->chunk > PROBE_CHUNK_MAX ? "the registry's minimum chunk is over 4 MiB" : "no upload session opened");
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

/*
 * Finishes (or gives up) the chunked upload when an earlier step cut the
 * waves short, HEADs the blob unless that went with the fallback, and
 * judges it. *cp holds the HEAD's path.
 */
void av_finish_chunked(struct verify *v, struct chunked *c, struct registry_call *head,
			   char **cp, struct buf *ev)
{
	while (av_chunked_next(v, c)) {
		registry_call(v->ctx->registry, v->ctx->log, &c->call);
		av_chunked_done(v, c, ev);
	}
	if (!head->method && v->blobs[B_CHUNKED].stored) {
		*cp = av_blob_path(v, v->blobs[B_CHUNKED].digest);
		*head = (struct registry_call){ .method = "HEAD", .path = *cp,
			.repository = v->scratch, .actions = REG_PULL | REG_PUSH };
	}
	if (head->method && !head->resp.status && !head->error)
		registry_call(v->ctx->registry, v->ctx->log, head);
	judge_chunked(v, c, head, ev);
}


void av_chunked_release(struct chunked *c)
{
	registry_call_release(&c->call);
	curl_slist_free_all(c->h);
	free(c->url);
	memset(c, 0, sizeof(*c));
}
