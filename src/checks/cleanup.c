/*
 * cleanup: the undo list of the checks that write, and their leftovers.
 */
#include "checks/cleanup.h"
#include "checks/probe.h"
#include "util/clock.h"
#include "util/thread.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const leftover_kinds[] = {
	[UNDO_SESSION] = "upload-session",
	[UNDO_MOUNTED_BLOB] = "mounted-blob",
	[UNDO_BLOB] = "blob",
	[UNDO_MANIFEST] = "manifest",
	[UNDO_TAG] = "manifest",
};

void undo_init(struct undo_list *u, struct check_ctx *ctx, const char *repository)
{
	memset(u, 0, sizeof(*u));
	u->ctx = ctx;
	u->repository = repository;
	buf_init(&u->evidence, BUF_TEXT_MAX);
}

static void item_calls_release(struct undo_item *it)
{
	registry_call_release(&it->del);
	registry_call_release(&it->head);
	memset(&it->del, 0, sizeof(it->del));
	memset(&it->head, 0, sizeof(it->head));
}

void undo_release(struct undo_list *u)
{
	size_t i;

	for (i = 0; i < u->nr; i++) {
		item_calls_release(&u->items[i]);
		free(u->items[i].ref);
		free(u->items[i].name);
		free(u->items[i].path);
	}
	free(u->items);
	buf_release(&u->evidence);
	memset(u, 0, sizeof(*u));
}

static char *item_path(const struct undo_list *u, enum undo_kind kind, const char *ref)
{
	if (kind == UNDO_SESSION)
		return xstrdup(ref);
	if (kind == UNDO_MANIFEST || kind == UNDO_TAG)
		return xstrfmt("/v2/%s/manifests/%s", u->repository, ref);
	return xstrfmt("/v2/%s/blobs/%s", u->repository, ref);
}

size_t undo_add(struct undo_list *u, enum undo_kind kind, const char *ref, const char *name,
		int verify)
{
	struct undo_item *it;

	ALLOC_GROW(u->items, u->nr + 1, u->alloc);
	it = &u->items[u->nr];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->ref = xstrdup(ref);
	it->name = name ? xstrdup(name) : NULL;
	it->verify = verify && kind != UNDO_SESSION;
	it->path = item_path(u, kind, ref);
	return u->nr++;
}

size_t undo_add_tag(struct undo_list *u, const char *tag, const char *name, size_t manifest)
{
	size_t i = undo_add(u, UNDO_TAG, tag, name, 1);

	u->items[i].after = manifest + 1;
	return i;
}

/* ---- the waves ---------------------------------------------------------- */

static void set_delete(struct undo_list *u, struct undo_item *it)
{
	registry_call_release(&it->del);
	it->del = (struct registry_call){ .method = "DELETE", .path = it->path,
		.repository = u->repository, .cleanup = 1,
		.actions = REG_PULL | REG_PUSH | (it->kind == UNDO_SESSION ? 0 : REG_DELETE) };
}

static void set_head(struct undo_list *u, struct undo_item *it, const struct curl_slist *accept)
{
	registry_call_release(&it->head);
	it->head = (struct registry_call){ .method = "HEAD", .path = it->path,
		.repository = u->repository, .actions = REG_PULL | REG_PUSH, .cleanup = 1,
		.headers = it->kind == UNDO_MANIFEST || it->kind == UNDO_TAG ? accept : NULL };
}

/* Whether every manifest on the list has had its DELETE answered (or will not get one). */
static int manifests_answered(const struct undo_list *u)
{
	size_t i;

	for (i = 0; i < u->nr; i++)
		if (u->items[i].kind == UNDO_MANIFEST && !u->items[i].done && !u->items[i].stage)
			return 0;
	return 1;
}

/*
 * The item's next call, set up, or NULL when it has none in this wave
 * (done, or waiting). Stages: a session, a manifest or a blob DELETEs
 * (0), then HEADs (1); a tag HEADs (0), DELETEs (1) and HEADs again (2).
 */
static struct registry_call *next_call(struct undo_list *u, struct undo_item *it,
				       const struct curl_slist *accept)
{
	if (it->done)
		return NULL;
	if (it->kind == UNDO_TAG) {
		const struct undo_item *m = it->after ? &u->items[it->after - 1] : NULL;

		if (m && !m->stage && !m->done)
			return NULL;            /* its manifest's DELETE first */
		if (m && !status_2xx(m->del_status)) {
			it->done = it->skipped = 1;
			return NULL;
		}
		if (it->stage == 1) {
			set_delete(u, it);
			return &it->del;
		}
		set_head(u, it, accept);
		return &it->head;
	}
	if ((it->kind == UNDO_BLOB || it->kind == UNDO_MOUNTED_BLOB) && !it->stage &&
	    !manifests_answered(u))
		return NULL;
	if (it->stage == 0) {
		set_delete(u, it);
		return &it->del;
	}
	set_head(u, it, accept);
	return &it->head;
}

/* Moves an item on after its call of this wave was answered (or not sent). */
static void advance(struct undo_item *it)
{
	long del = it->del.resp.status, head = it->head.resp.status;

	it->del_status = it->del.method ? del : it->del_status;
	it->head_status = it->head.method ? head : it->head_status;
	if (it->kind == UNDO_TAG) {
		if (it->stage == 1) {
			it->done = !status_2xx(del);
		} else {
			it->gone = head == 404;
			it->done = head != 200 || it->stage == 2;
		}
	} else if (it->stage == 0) {
		it->gone = del == 404 || (status_2xx(del) && !it->verify) ||
			   (it->kind == UNDO_SESSION && status_2xx(del));
		it->done = it->gone || !status_2xx(del);
	} else {
		it->gone = head == 404;
		it->done = 1;
	}
	it->stage++;
}

/*
 * Whether the clean-up's grace period is over: the run's deadline has
 * passed (or the run was cancelled) and so has REGISTRY_CLEANUP_GRACE_MS
 * since the clean-up began, so
 * that the waves together outlive the deadline by no more than one call.
 */
static int grace_over(const struct undo_list *u, long started)
{
	return registry_remaining_ms(u->ctx->registry) == 0 &&
	       clock_now_ms() - started >= REGISTRY_CLEANUP_GRACE_MS;
}

/*
 * A lane of the clean-up: upload sessions, or everything else. The lanes
 * run side by side, so that a session whose cancel hangs until the grace
 * period ends keeps no DELETE or HEAD of the content waiting behind it.
 */
struct lane {
	struct undo_list *u;
	int sessions;              /* this lane's items: the sessions, or the rest */
	const struct curl_slist *accept;
	long started;              /* when the clean-up began */
	struct buf evidence;
};

/* One wave of a lane: the next call of each of its items that has one; returns how many went out. */
static size_t wave(struct lane *l)
{
	struct undo_list *u = l->u;
	struct registry_call **calls = xcalloc(u->nr + 1, sizeof(*calls));
	struct undo_item **owners = xcalloc(u->nr + 1, sizeof(*owners));
	struct registry_call *c;
	size_t n = 0, i;

	for (i = 0; i < u->nr; i++) {
		if ((u->items[i].kind == UNDO_SESSION) != l->sessions)
			continue;
		if ((c = next_call(u, &u->items[i], l->accept))) {
			owners[n] = &u->items[i];
			calls[n++] = c;
		}
	}
	if (n && grace_over(u, l->started)) {
		for (i = 0; i < n; i++) {
			calls[i]->method = NULL; /* not sent: judged as left over */
			owners[i]->done = 1;
		}
		n = 0;
	} else if (n) {
		registry_call_many(u->ctx->registry, u->ctx->log, calls, n);
		for (i = 0; i < n; i++) {
			call_evidence_add(&l->evidence, calls[i]);
			advance(owners[i]);
		}
	}
	free(calls);
	free(owners);
	return n;
}

static void lane_run(void *arg)
{
	struct lane *l = arg;

	while (wave(l))
		;
}

/* Runs both lanes, the sessions' on a thread of its own when both have work. */
static void lanes_run(struct undo_list *u, const struct curl_slist *accept)
{
	long started = clock_now_ms();
	struct lane sessions = { .u = u, .sessions = 1, .accept = accept, .started = started };
	struct lane content = { .u = u, .sessions = 0, .accept = accept, .started = started };
	struct thread_task task;
	size_t i, nsessions = 0;

	for (i = 0; i < u->nr; i++)
		nsessions += u->items[i].kind == UNDO_SESSION;
	buf_init(&sessions.evidence, BUF_TEXT_MAX);
	buf_init(&content.evidence, BUF_TEXT_MAX);
	if (nsessions && nsessions < u->nr) {
		thread_task_start(&task, lane_run, &sessions);
		lane_run(&content);
		thread_task_join(&task);
	} else {
		lane_run(&sessions);
		lane_run(&content);
	}
	for (i = 0; i < 2; i++) {
		const struct buf *b = i ? &content.evidence : &sessions.evidence;

		if (b->len)
			buf_addf(&u->evidence, "%s%s", u->evidence.len ? "; " : "", b->data);
	}
	buf_release(&sessions.evidence);
	buf_release(&content.evidence);
}

/* Why an item is left over. Newly allocated. */
static char *leftover_why(const struct undo_item *it)
{
	const struct registry_call *c = &it->del;

	if (!it->stage)
		return xstrdup("not sent: the run's deadline and the clean-up's grace period had passed");
	if (it->kind == UNDO_TAG)
		return xstrfmt("the tag still resolves after its manifest was deleted (HEAD answered %ld)",
			       it->head_status);
	if (!c->resp.status)
		return xstrfmt("the DELETE got no answer (%s)", call_failure_text(c));
	if (!status_2xx(c->resp.status))
		return xstrfmt("the DELETE was refused (%ld)", c->resp.status);
	if (!it->head.method)
		return xstrfmt("the DELETE answered %ld, but the grace period ended before a HEAD could check it",
			       c->resp.status);
	if (!it->head.resp.status)
		return xstrfmt("the DELETE answered %ld, but the HEAD that checks it got no answer (%s)",
			       c->resp.status, call_failure_text(&it->head));
	return xstrfmt("still there after the DELETE was accepted (HEAD answered %ld)",
		       it->head.resp.status);
}

size_t undo_run(struct undo_list *u)
{
	struct curl_slist *accept = manifest_accept_headers();
	size_t i, left = 0;
	char *why, *text;

	lanes_run(u, accept);
	for (i = 0; i < u->nr; i++) {
		struct undo_item *it = &u->items[i];

		if (it->gone || it->skipped)
			continue;
		it->done = 1;
		why = leftover_why(it);
		text = it->name ? xstrfmt("the %s: %s", it->name, why) : xstrdup(why);
		leftover_add(u->ctx, leftover_kinds[it->kind], u->repository, it->ref, text);
		free(text);
		free(why);
		left++;
	}
	for (i = 0; i < u->nr; i++)
		item_calls_release(&u->items[i]);
	curl_slist_free_all(accept);
	return left;
}

/* ---- leftovers ---------------------------------------------------------- */

/* What the run could not clean up: a section of the result, which every writer renders. */
static const struct section_def leftovers_section = {
	.id = "leftovers",
	.title = "Left on the registry",
	.columns = {
		{ .key = "name", .title = "Reference" },
		{ .key = "kind", .title = "Kind" },
		{ .key = "repository", .title = "Repository" },
		{ .key = "why", .title = "Why" },
		{ .key = "command", .title = "Remove with" },
	},
};

/* The command that removes a leftover by hand. */
static char *leftover_command(struct check_ctx *ctx, const char *kind, const char *repository,
			      const char *ref)
{
	const char *base = registry_url(ctx->registry)->base;

	if (!strcmp(kind, "upload-session"))
		return xstrfmt("curl -X DELETE '%s%s'", strncmp(ref, "http", 4) ? base : "", ref);
	if (!strcmp(kind, "manifest"))
		return xstrfmt("curl -X DELETE '%s/v2/%s/manifests/%s' (with deletes enabled; its tags go with it)",
			       base, repository, ref);
	return xstrfmt("curl -X DELETE '%s/v2/%s/blobs/%s' (with deletes enabled), or run the registry's garbage collection",
		       base, repository, ref);
}

void leftover_add(struct check_ctx *ctx, const char *kind, const char *repository,
		  const char *what, const char *why)
{
	json_t *list = json_object_get(ctx->result->details, "leftovers");
	char *ref = registry_display_url(ctx->registry, what); /* no presigned query */
	char *command = leftover_command(ctx, kind, repository, ref);
	char *clean_why = xstrdup(why);

	text_sanitize(ref);
	text_sanitize(clean_why);
	text_sanitize(command);
	if (!list) {
		list = json_array();
		json_object_set_new(ctx->result->details, "leftovers", list);
	}
	json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", kind,
					      "repository", repository, "ref", ref,
					      "why", clean_why, "command", command));
	section_row(result_section(ctx->result, &leftovers_section), (const char *const[]){
		ref, kind, repository, clean_why, command });
	free(ref);
	free(clean_why);
	free(command);
}

void leftovers_ensure(struct check_ctx *ctx)
{
	if (!json_object_get(ctx->result->details, "leftovers"))
		json_object_set_new(ctx->result->details, "leftovers", json_array());
}
