/*
 * checks: the table of every check, and the small helpers checks share.
 */
#include "checks/check.h"
#include "checks/kb.h"
#include "util/suggest.h"
#include "util/xalloc.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct check *const check_table[] = {
	&check_registry,
	&check_credentials,
	&check_pull,
	&check_push,
	&check_referrers,
	&check_capabilities,
	&check_artifacts,
	&check_apis,
};
const size_t check_table_size = sizeof(check_table) / sizeof(check_table[0]);

static const char *const status_names[STATUS_COUNT] = {
	[STATUS_PASS] = "pass",
	[STATUS_SKIP] = "skip",
	[STATUS_INFO] = "info",
	[STATUS_WARN] = "warn",
	[STATUS_FAIL] = "fail",
};

const char *check_status_name(enum check_status s)
{
	return (unsigned)s < STATUS_COUNT ? status_names[s] : "unknown";
}

/* The last segment of an id: "pull" of check.integration.oci.pull. */
static const char *last_segment(const char *id)
{
	const char *dot = strrchr(id, '.');

	return dot ? dot + 1 : id;
}

const struct check *check_find(const char *id)
{
	const struct check *found = NULL;
	size_t i;

	for (i = 0; i < check_table_size; i++)
		if (!strcmp(check_table[i]->id, id))
			return check_table[i];
	for (i = 0; id && *id && i < check_table_size; i++) {
		if (strcmp(last_segment(check_table[i]->id), id))
			continue;
		if (found)
			return NULL; /* two checks end so: ambiguous */
		found = check_table[i];
	}
	return found;
}

const char *check_suggest(const char *name)
{
	struct suggest full, last;
	size_t i;

	suggest_init(&full, name, strlen(name));
	suggest_init(&last, name, strlen(name));
	for (i = 0; i < check_table_size; i++) {
		suggest_offer(&full, check_table[i]->id);
		suggest_offer(&last, last_segment(check_table[i]->id));
	}
	if (suggest_best(&full) && full.best_distance <= last.best_distance)
		return suggest_best(&full);
	for (i = 0; suggest_best(&last) && i < check_table_size; i++)
		if (last_segment(check_table[i]->id) == suggest_best(&last))
			return check_table[i]->id;
	return NULL;
}

void check_set(struct check_ctx *ctx, enum check_status status, const char *cause,
	       const char *fmt, ...)
{
	const char *origin = ctx->registry ? registry_url(ctx->registry)->base : NULL;
	va_list ap;
	char *text;

	assert(!cause || check_declares_cause(ctx->result->check, cause));
	free(ctx->result->message);
	va_start(ap, fmt);
	text = text_vfmt(fmt, ap);
	va_end(ap);
	/* a URL on another origin (blob storage, a token service) loses its query */
	ctx->result->message = text_for_display(text, origin);
	free(text);
	ctx->result->status = status;
	ctx->result->cause = cause;
}

void check_call(struct check_ctx *ctx, struct registry_call *call)
{
	registry_call(ctx->registry, ctx->log, call);
	if (call->resp.status)
		detail_int(ctx, "httpStatus", call->resp.status);
	detail_bool(ctx, "authenticated", call->authenticated);
}


const struct remediation *check_remediation(const struct check_result *res)
{
	const struct kb_page *page = kb_find(res->check->id);
	const struct remediation *r = kb_remediation(page, res->cause);

	if (r)
		return r;
	return page && page->remediations->cause ? page->remediations : NULL;
}

/* Each need and the cause of a check it stops, in the order check_gate tests them. */
static const struct {
	enum check_need need;
	const char *cause;
} need_causes[] = {
	{ NEED_VERIFY, "no-verify" },
	{ NEED_WRITES, "no-writes" },
	{ NEED_ASKED, "not-selected" },
	{ NEED_REACHABLE, "unreachable" },
};

const char *check_cause_at(const struct check *c, size_t i)
{
	size_t n = 0, k;

	while (c->causes && c->causes[n]) {
		if (n == i)
			return c->causes[n];
		n++;
	}
	for (k = 0; k < sizeof(need_causes) / sizeof(need_causes[0]); k++)
		if ((c->needs & need_causes[k].need) && n++ == i)
			return need_causes[k].cause;
	return NULL;
}

int check_declares_cause(const struct check *c, const char *cause)
{
	const char *p;
	size_t i;

	for (i = 0; (p = check_cause_at(c, i)); i++)
		if (!strcmp(p, cause))
			return 1;
	return 0;
}

int check_offline(const struct check *c, const struct run_config *config, int selected)
{
	if ((c->needs & NEED_VERIFY) && !config->verify_writes)
		return 1;
	if ((c->needs & NEED_WRITES) && config->no_writes)
		return 1;
	if ((c->needs & NEED_ASKED) && !selected)
		return 1;
	return c->offline && c->offline(config);
}


void detail_str(struct check_ctx *ctx, const char *key, const char *value)
{
	char *clean;

	if (!value) {
		json_object_set_new(ctx->result->details, key, json_null());
		return;
	}
	clean = xstrdup(value);
	text_sanitize(clean);
	json_object_set_new(ctx->result->details, key, json_string(clean));
	free(clean);
}

void detail_int(struct check_ctx *ctx, const char *key, long long value)
{
	json_object_set_new(ctx->result->details, key, json_integer(value));
}

void detail_bool(struct check_ctx *ctx, const char *key, int value)
{
	json_object_set_new(ctx->result->details, key, json_boolean(value));
}


const char *call_failure_text(const struct registry_call *call)
{
	if (call->error_text)
		return call->error_text;
	if (call->resp.error)
		return call->resp.error;
	return "no response";
}

struct curl_slist *manifest_accept_headers(void)
{
	struct curl_slist *h = NULL;

	h = curl_slist_append(h, "Accept: application/vnd.oci.image.manifest.v1+json, "
				 "application/vnd.oci.image.index.v1+json, "
				 "application/vnd.docker.distribution.manifest.v2+json, "
				 "application/vnd.docker.distribution.manifest.list.v2+json");
	return h;
}

/* Whether the first 4 KiB of a body mention a read-only mode, in any case. */
static int mentions_read_only(const struct buf *body)
{
	char text[4096];
	size_t i, n = body->len < sizeof(text) - 1 ? body->len : sizeof(text) - 1;

	for (i = 0; i < n; i++)
		text[i] = (char)tolower((unsigned char)body->data[i]);
	text[n] = '\0';
	return strstr(text, "read only") || strstr(text, "read-only") || strstr(text, "readonly");
}

int upload_read_only(const struct http_response *r)
{
	const char *allow = http_header_get(r, "Allow");

	if (r->status == 405 && allow && !strstr(allow, "POST") && !strstr(allow, "PUT") &&
	    !strstr(allow, "PATCH"))
		return 1; /* distribution */
	/* Harbor answers 403 DENIED, Quay 405 DENIED, both naming the mode */
	return (r->status == 403 || r->status == 405) && mentions_read_only(&r->body);
}

char *scratch_repository_name(const struct run_config *c)
{
	const char *slash;

	if (c->scratch_repository)
		return xstrdup(c->scratch_repository);
	slash = strrchr(c->repository, '/');
	if (!slash)
		return xstrdup("ocidoctor-scratch");
	return xstrfmt("%.*s/ocidoctor-scratch", (int)(slash - c->repository), c->repository);
}

#define CATALOG_PAGE 100

void scratch_probe_setup(struct scratch_probe *sp, const char *scratch)
{
	size_t len = strlen(scratch);

	/* entries after the name minus its last character: the name is among the first */
	sp->catalog_path = xstrfmt("/v2/_catalog?n=%d&last=%.*s", CATALOG_PAGE,
				   (int)(len ? len - 1 : 0), scratch);
	sp->tags_path = xstrfmt("/v2/%s/tags/list", scratch);
	sp->catalog = (struct registry_call){ .method = "GET", .path = sp->catalog_path };
	sp->tags = (struct registry_call){ .method = "GET", .path = sp->tags_path,
		.repository = scratch, .actions = REG_PULL };
}

/* What the catalog says: listed, or not in a listing that is complete after `last`. */
static enum scratch_seen catalog_seen(const struct registry_call *c, const char *scratch)
{
	json_t *root, *list, *e;
	enum scratch_seen seen = SCRATCH_SEEN_UNKNOWN;
	size_t i;

	if (c->resp.status != 200)
		return SCRATCH_SEEN_UNKNOWN;
	root = json_loadb(c->resp.body.data, c->resp.body.len, 0, NULL);
	list = json_object_get(root, "repositories");
	if (json_is_array(list)) {
		json_array_foreach(list, i, e)
			if (json_is_string(e) && !strcmp(json_string_value(e), scratch))
				seen = SCRATCH_PRESENT;
		if (seen != SCRATCH_PRESENT && json_array_size(list) < CATALOG_PAGE &&
		    !http_header_get(&c->resp, "Link"))
			seen = SCRATCH_ABSENT;
	}
	json_decref(root);
	return seen;
}

enum scratch_seen scratch_probe_judge(const struct scratch_probe *sp, const char *scratch)
{
	enum scratch_seen seen = catalog_seen(&sp->catalog, scratch);
	json_t *root;

	if (seen != SCRATCH_SEEN_UNKNOWN)
		return seen;
	/* a tag list with tags shows it; an empty one does not (olareg answers one for any name) */
	if (sp->tags.resp.status == 200) {
		root = json_loadb(sp->tags.resp.body.data, sp->tags.resp.body.len, 0, NULL);
		if (json_array_size(json_object_get(root, "tags")))
			seen = SCRATCH_PRESENT;
		json_decref(root);
	}
	return seen;
}

void scratch_probe_release(struct scratch_probe *sp)
{
	registry_call_release(&sp->catalog);
	registry_call_release(&sp->tags);
	free(sp->catalog_path);
	free(sp->tags_path);
	memset(sp, 0, sizeof(*sp));
}

/* The scratch repository a run created: shown by every report format. */
static const struct section_def created_section = {
	.id = "created",
	.title = "Created on the registry",
	.columns = {
		{ .key = "name", .title = "Repository" },
		{ .key = "reason", .title = "Why", .long_text = 1 },
		{ .key = "command", .title = "How to remove it" },
	},
};

char *scratch_removal_text(const char *scratch)
{
	return xstrfmt("the registry API cannot delete a repository: distribution: run "
		       "'registry garbage-collect --delete-untagged CONFIG', then remove the directory "
		       "docker/registry/v2/repositories/%s under its storage root; Harbor: "
		       "curl -X DELETE 'https://HARBOR/api/v2.0/projects/PROJECT/repositories/NAME'; "
		       "Quay: curl -X DELETE 'https://QUAY/api/v1/repository/%s'; "
		       "other registries: their management API or UI",
		       scratch, scratch);
}

int scratch_note_created(struct check_ctx *ctx, const char *scratch, enum scratch_seen seen,
			 int wrote)
{
	json_t *d = ctx->result->details;
	char *how;

	if (!wrote || seen == SCRATCH_PRESENT) {
		json_object_set_new(d, "scratchRepositoryCreated", json_false());
		return 0;
	}
	json_object_set_new(d, "scratchRepositoryCreated",
			    seen == SCRATCH_ABSENT ? json_true() : json_null());
	if (seen != SCRATCH_ABSENT || atomic_exchange(&ctx->facts->scratch_creation_noted, 1))
		return 0;
	how = scratch_removal_text(scratch);
	detail_str(ctx, "scratchRepositoryRemoval", how);
	section_row(result_section(ctx->result, &created_section), (const char *const[]){
		scratch, "not in the registry's catalog before this run wrote to it; later runs use it again",
		how });
	free(how);
	return 1;
}
