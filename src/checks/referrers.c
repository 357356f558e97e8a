/*
 * check.integration.oci.referrers: does the registry serve the OCI 1.1
 * Referrers API, which links SBOMs, signatures and attestations to an
 * image?
 *
 * One GET /v2/NAME/referrers/DIGEST for the test image's digest (from the
 * pull check: no second HEAD), decided from status, Content-Type and body
 * together (verdict.c), because real registries send misleading answers:
 * HTML login pages with 200, `{}` for an index, a valid index with the
 * wrong Content-Type. It also says which clients will use the API and
 * which fall back to the tag schema. When the test image is missing it
 * probes a well-formed digest that cannot exist, which an OCI 1.1
 * registry must answer with an empty index.
 */
#include "checks/check.h"
#include "checks/verdict.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define ZERO_DIGEST "sha256:0000000000000000000000000000000000000000000000000000000000000000"

static const char *const tags[] = { "registry", "oci", "referrers", "compatibility", "oci-1.1", NULL };

/* The client x list/attach table every writer shows under this check. */
static const struct section_def clients_section = {
	.id = "clients",
	.title = "Referrers: what each client does",
	.columns = {
		{ .key = "name", .title = "Client" },
		{ .key = "list", .title = "List" },
		{ .key = "attach", .title = "Attach" },
		{ .key = "why", .title = "Why", .long_text = 1 },
	},
	.metric_kind = SECTION_METRIC_INFO,
	.metric = "ocidoctor_referrers_client_info",
	.metric_label = "client",
	.metric_help = "How each client will list and attach referrers (api, tag-fallback, ...), always 1.",
};

/*
 * details.clients: what each client would do with this answer, as {list,
 * attach, why}, and the same as the "clients" section.
 */
static void add_clients(struct check_ctx *ctx, const struct referrers_verdict *rv)
{
	struct result_section *sec = result_section(ctx->result, &clients_section);
	json_t *clients = json_object();
	size_t i;

	for (i = 0; i < CLIENT_COUNT; i++) {
		const struct client_prediction *p = &rv->clients[i];
		char *why = xstrfmt("list: %s; attach: %s", p->list_why, p->attach_why);

		json_object_set_new(clients, referrers_clients[i],
				    json_pack("{s:s, s:s, s:s}", "list", client_list_name(p->list),
					      "attach", client_attach_name(p->attach), "why", why));
		section_row(sec, (const char *const[]){ referrers_clients[i], client_list_name(p->list),
							client_attach_name(p->attach), why });
		free(why);
	}
	json_object_set_new(ctx->result->details, "clients", clients);
}

/* The tag-schema fallback tag for a digest: "sha256-<hex>". */
static char *fallback_tag(const char *digest)
{
	char *tag = xstrdup(digest);
	char *colon = strchr(tag, ':');

	if (colon)
		*colon = '-';
	if (strlen(tag) > 128)
		tag[128] = '\0';
	return tag;
}

/* Notes whether the fallback tag exists, and whether it resolves to the subject itself. */
static void note_fallback(struct check_ctx *ctx, const struct registry_call *call,
			  const char *digest)
{
	const char *got = http_header_get(&call->resp, "Docker-Content-Digest");
	char *tag = fallback_tag(digest);

	json_object_set_new(ctx->result->details, "fallbackTag",
			    json_pack("{s:s, s:b, s:b}", "tag", tag,
				      "exists", call->resp.status == 200,
				      "resolvesToSubject",
				      call->resp.status == 200 && got && !strcmp(got, digest)));
	free(tag);
}

static void add_details(struct check_ctx *ctx, const struct registry_call *call,
			const char *type, const struct referrers_verdict *rv)
{
	const char *filters = http_header_get(&call->resp, "OCI-Filters-Applied");

	detail_int(ctx, "httpStatus", call->resp.status);
	detail_str(ctx, "contentType", type[0] ? type : NULL);
	detail_str(ctx, "state", cap_state_name(rv->v.state));
	detail_str(ctx, "reason", rv->v.reason);
	if (rv->index_ok)
		detail_int(ctx, "referrers", rv->count);
	else
		json_object_set_new(ctx->result->details, "referrers", json_null());
	detail_bool(ctx, "paginated", http_header_get(&call->resp, "Link") != NULL);
	detail_str(ctx, "filtersApplied", filters);
	add_clients(ctx, rv);
}

/* Why the test image's digest is not known, for messages. */
static const char *no_digest_reason(struct check_ctx *ctx)
{
	const struct check_result *pull = check_dep(ctx, &check_pull);

	if (pull->cause && !strcmp(pull->cause, "missing"))
		return "the test image is missing";
	if (pull->cause && !strcmp(pull->cause, "denied"))
		return "pulling the test image was denied";
	return "the test image's digest is unknown";
}

/*
 * The verdict as a status. What the clients will do wrong is appended to
 * the message (details.consequences) and makes a supported API a warning;
 * an answer that leaves the API unknown stays info.
 */
static void conclude(struct check_ctx *ctx, const struct referrers_verdict *rv, int probed)
{
	char *how = probed ? xstrfmt(" (probed with a digest that cannot exist: %s)",
				     no_digest_reason(ctx)) : xstrdup("");
	struct buf cons;
	int n;

	buf_init(&cons, BUF_TEXT_MAX);
	n = referrers_consequences(rv->clients, &cons);
	if (rv->v.state == CAP_SUPPORTED && !rv->wrong_type && n)
		check_set(ctx, STATUS_WARN, "clients", "Referrers API supported (%s), but the clients disagree%s",
			  rv->v.reason, how);
	else if (rv->v.state == CAP_SUPPORTED && !rv->wrong_type)
		check_set(ctx, STATUS_PASS, NULL, "Referrers API supported: %s%s", rv->v.reason, how);
	else if (rv->v.state == CAP_SUPPORTED)
		check_set(ctx, STATUS_WARN, "content-type", "Referrers API works, but %s", rv->v.reason);
	else if (rv->v.state == CAP_UNSUPPORTED && rv->false_200)
		check_set(ctx, STATUS_WARN, "false-200",
			  "Referrers API not supported (%s): a 200 that is not an index misleads clients%s",
			  rv->v.reason, how);
	else if (rv->v.state == CAP_UNSUPPORTED)
		check_set(ctx, STATUS_WARN, "unsupported",
			  "Referrers API not supported (%s); clients fall back to the tag schema (sha256-<hex> tags)%s",
			  rv->v.reason, how);
	else if (probed)
		check_set(ctx, STATUS_INFO, "missing",
			  "cannot verify the Referrers API: %s and the probe was not conclusive (%s)",
			  no_digest_reason(ctx), rv->v.reason);
	else
		check_set(ctx, STATUS_INFO, "unknown", "cannot verify the Referrers API: %s",
			  rv->v.reason);
	if (n) {
		char *msg = xstrfmt("%s; %s", ctx->result->message, cons.data);

		free(ctx->result->message);
		ctx->result->message = msg;
		detail_str(ctx, "consequences", cons.data);
	}
	buf_release(&cons);
	free(how);
}

/*
 * With a made-up digest some answers do not rule the API out: zot before
 * 2.1.19 answers 404 with no body for a repository it lacks, Quay 3.12
 * 404 MANIFEST_UNKNOWN for an unknown subject, Harbor 2.8 to 2.10 200
 * with `{}`.
 */
static int inconclusive_probe(const struct referrers_answer *a)
{
	char code[64];
	json_t *body;
	int object;

	if (a->status == 404)
		return !a->len || oci_error_code(a->body, a->len, code, sizeof(code)) == 0;
	if (a->status != 200)
		return 0;
	body = json_loadb(a->body, a->len, 0, NULL);
	object = json_is_object(body);
	json_decref(body);
	return object;
}

/*
 * What the artifacts check saw when it pushed an artifact (--writes
 * verify): the OCI-Subject of the push, which oras and regclient attach
 * by, and whether the registry then listed nothing. PUSH_NOT_MADE when it
 * made no push. Waits for that check only when it verifies.
 */
static enum push_subject verified_push(struct check_ctx *ctx, const char **processing,
				       int *wrong_type)
{
	const struct check_result *art;
	enum push_subject push;

	*processing = NULL;
	*wrong_type = 0;
	if (!ctx->config->verify_writes)
		return PUSH_NOT_MADE;
	art = check_dep(ctx, &check_artifacts);
	if (!art->selected)
		return PUSH_NOT_MADE;   /* it pushes only when the report shows it */
	*processing = json_string_value(json_object_get(art->details, "subjectProcessing"));
	*wrong_type = json_is_true(json_object_get(art->details, "listedUnderWrongType"));
	if (*processing && !strcmp(*processing, "rejected"))
		return PUSH_REFUSED;
	push = push_subject_parse(json_string_value(json_object_get(art->details, "ociSubject")));
	return push == PUSH_NOT_MADE ? PUSH_WITHHELD : push;
}

/*
 * Whether the push check found the registry read-only (every upload
 * refused, whoever asks): then no client can attach. Read only when the
 * report shows that check, which otherwise makes no request.
 */
static int registry_read_only(struct check_ctx *ctx)
{
	const struct check_result *push = check_dep(ctx, &check_push);

	return push->selected && push->cause && !strcmp(push->cause, "readonly");
}

/*
 * Whether the sha256-<hex> tag (HEAD with the referrers GET) exists and
 * holds something that is not an OCI index: GitLab resolves it to the
 * subject itself, and regclient and go-containerregistry refuse to read
 * or update such a tag.
 */
static int tag_not_index(const struct registry_call *fallback)
{
	char type[128];

	if (!fallback->method || fallback->resp.status != 200)
		return 0;
	http_content_type(&fallback->resp, type, sizeof(type));
	return strcmp(type, OCI_INDEX_TYPE) != 0;
}

/* A registry that answers OCI-Subject but lists nothing: named in the consequences. */
static void header_without_listing(struct check_ctx *ctx, const char *processing)
{
	static const char text[] =
		"the registry answered the artifact push with OCI-Subject but its referrers API did not list the artifact (check.integration.oci.artifacts): what oras and regctl attach through the API is found by no listing";
	const char *was = json_string_value(json_object_get(ctx->result->details, "consequences"));
	char *msg;

	if (!processing || strcmp(processing, "header-without-listing"))
		return;
	if (ctx->result->status < STATUS_WARN) {
		char *orig = xstrdup(ctx->result->message);

		check_set(ctx, STATUS_WARN, "clients", "%s, but the clients disagree", orig);
		free(orig);
	}
	msg = xstrfmt("%s; %s", ctx->result->message, text);
	free(ctx->result->message);
	ctx->result->message = msg;
	if (was) {
		char *both = xstrfmt("%s; %s", was, text);

		detail_str(ctx, "consequences", both);
		free(both);
	} else {
		detail_str(ctx, "consequences", text);
	}
}

static void judge(struct check_ctx *ctx, const struct registry_call *call,
		  const struct registry_call *fallback, const char *digest, int probed)
{
	struct referrers_verdict rv;
	struct referrers_answer a = { 0 };
	const char *processing;
	int wrong_type;
	char type[128];

	http_content_type(&call->resp, type, sizeof(type));
	a.status = call->resp.status;
	a.content_type = type;
	a.body = call->resp.body.data;
	a.len = call->resp.body.len;
	a.redirected = call->redirects > 0;
	a.repo_known = !probed;
	a.push = verified_push(ctx, &processing, &wrong_type);
	a.read_only = registry_read_only(ctx);
	a.tag_not_index = tag_not_index(fallback);
	if (wrong_type)
		processing = NULL;  /* listed, under the wrong type: the content-type verdict says it */
	referrers_judge(&a, &rv);
	if (probed && rv.v.state == CAP_UNSUPPORTED && inconclusive_probe(&a)) {
		char *was = xstrdup(rv.v.reason);

		verdict_set(&rv.v, CAP_UNKNOWN, "%s, which some registries with the API give for a digest they do not have",
			    was);
		free(was);
	}
	add_details(ctx, call, type, &rv);
	conclude(ctx, &rv, probed);
	header_without_listing(ctx, processing);
	if (rv.v.state == CAP_UNSUPPORTED && fallback->method)
		note_fallback(ctx, fallback, digest);
	verdict_release(&rv.v);
}

/*
 * GET on the referrers endpoint; with a real digest, a HEAD of its
 * fallback tag goes out at the same time, so that a registry without the
 * API costs no extra round trip.
 */
/* The digest asked about, and a verdict that run replaces once it has asked. */
static void describe(struct check_ctx *ctx)
{
	int probed = ctx->facts->manifest_digest == NULL;

	detail_str(ctx, "digest", probed ? ZERO_DIGEST : ctx->facts->manifest_digest);
	detail_str(ctx, "digestSource", probed ? "probe" : "test-image");
	detail_str(ctx, "state", "unknown");
	detail_str(ctx, "reason", "not probed");
}

static void run(struct check_ctx *ctx)
{
	struct curl_slist *accept = curl_slist_append(NULL, "Accept: " OCI_INDEX_TYPE);
	struct curl_slist *manifest_accept = manifest_accept_headers();
	int probed = ctx->facts->manifest_digest == NULL;
	const char *digest = probed ? ZERO_DIGEST : ctx->facts->manifest_digest;
	char *path = xstrfmt("/v2/%s/referrers/%s", ctx->config->repository, digest);
	char *tag = fallback_tag(digest);
	char *tag_path = xstrfmt("/v2/%s/manifests/%s", ctx->config->repository, tag);
	struct registry_call call = {
		.method = "GET", .path = path, .repository = ctx->config->repository,
		.actions = REG_PULL, .headers = accept, .follow = 1,
	};
	struct registry_call fallback = { 0 };
	struct registry_call *calls[] = { &call, &fallback };

	if (!probed)
		fallback = (struct registry_call){ .method = "HEAD", .path = tag_path,
			.repository = ctx->config->repository, .actions = REG_PULL,
			.headers = manifest_accept, .follow = 1 };
	registry_call_many(ctx->registry, ctx->log, calls, probed ? 1 : 2);
	if (!call.resp.status || call.error == REG_ERR_TRANSPORT) {
		detail_str(ctx, "state", "unknown");
		detail_str(ctx, "reason", call_failure_text(&call));
		check_set(ctx, STATUS_FAIL, "connection", "the referrers request failed: %s",
			  call_failure_text(&call));
		goto done;
	}
	judge(ctx, &call, &fallback, digest, probed);
done:
	registry_call_release(&call);
	registry_call_release(&fallback);
	curl_slist_free_all(accept);
	curl_slist_free_all(manifest_accept);
	free(path);
	free(tag_path);
	free(tag);
}

const struct check check_referrers = {
	.id = "check.integration.oci.referrers",
	.title = "OCI Registry Referrers API Support",
	.plugin = "stellaops.doctor.integration",
	.tags = tags,
	.severity = STATUS_WARN,
	.deps = (const struct check *const[]){ &check_pull, NULL },
	.uses = (const struct check *const[]){ &check_artifacts, &check_push, NULL },
	.summary = "GET /v2/NAME/referrers/DIGEST answers with a valid OCI image index (200, or 404 with an index)",
	.run = run,
	.needs = NEED_REACHABLE,
	.describe = describe,
	.causes = (const char *const[]){ "unsupported", "content-type", "false-200", "clients", "missing", "unknown", "connection", NULL },
};
