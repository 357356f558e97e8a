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
#include "checks/artifacts_internal.h"
#include "checks/cleanup.h"
#include "checks/probe.h"
#include "util/digest.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const tags[] = { "registry", "oci", "referrers", "oci-1.1", "write", NULL };

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
	leftovers_ensure(ctx);
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
	leftovers_note(ctx, v->scratch, "in the scratch repository");
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
	av_make_content(&v);
	av_push_and_find(&v);
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

