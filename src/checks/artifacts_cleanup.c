/*
 * artifacts_cleanup: everything the artifacts check pushed, on the undo
 * list (cleanup.h): the manifests by digest (the fallback index too,
 * which takes its tag along), open upload sessions, then the blobs, each
 * shown gone by a HEAD; the fallback tag, once its index is deleted, is
 * HEADed and, where it still resolves (go-containerregistry keeps tags of
 * deleted manifests), deleted by tag: the tag is the run's own (the
 * subject is), and deletes are proven by then, so this is never the tag
 * DELETE that distribution 3.0 accepted with deletes disabled.
 * --keep-artifacts deletes nothing and lists it all.
 */
#include "checks/artifacts_internal.h"
#include "checks/cleanup.h"
#include "util/xalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *const av_blob_names[B_N] = { "subject config", "subject layer", "empty config",
					 "artifact layer", "chunked blob", "delete-proof blob" };
const char *const av_manifest_names[M_N] = { "subject image", "artifact",
					     "manifest with a missing subject", "fallback index" };

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
				 av_manifest_names[i], i == M_INDEX ? "; deleting it removes the fallback tag" : "");
	for (i = 0; i < B_N; i++)
		if (v->blobs[i].stored)
			leftover(v, "blob", v->blobs[i].digest, "the %s, kept (--keep-artifacts)", av_blob_names[i]);
	for (i = 0; i < B_N; i++)
		if (v->blobs[i].session)
			leftover(v, "upload-session", v->blobs[i].session, "an upload session of the %s, kept (--keep-artifacts)",
				 av_blob_names[i]);
	av_step(v, "cleanup", "skip", NULL, 0, "--keep-artifacts: nothing was deleted; details.leftovers lists what the run left");
}

void av_cleanup(struct verify *v)
{
	struct undo_list undo;
	size_t i, index = 0, at, left;
	int has_index = 0;

	if (v->ctx->config->keep_artifacts) {
		keep_all(v);
		return;
	}
	undo_init(&undo, v->ctx, v->scratch);
	for (i = 0; i < M_N; i++) {
		if (!v->mans[i].stored)
			continue;
		at = undo_add(&undo, UNDO_MANIFEST, v->mans[i].digest, av_manifest_names[i], 1);
		if (i == M_INDEX) {
			index = at;
			has_index = 1;
		}
	}
	for (i = 0; i < B_N; i++)
		if (v->blobs[i].session)
			undo_add(&undo, UNDO_SESSION, v->blobs[i].session, av_blob_names[i], 0);
	for (i = 0; i < B_N; i++)
		if (v->blobs[i].stored)
			undo_add(&undo, UNDO_BLOB, v->blobs[i].digest, av_blob_names[i], 1);
	if (has_index)
		undo_add_tag(&undo, v->fallback_tag, "fallback tag", index);
	left = undo_run(&undo);
	for (i = 0; i < B_N; i++) {
		free(v->blobs[i].session);
		v->blobs[i].session = NULL;
	}
	text_sanitize(undo.evidence.data);
	json_object_set_new(v->steps, "cleanup", json_pack("{s:s, s:s, s:s}",
		"status", left ? "warn" : "pass", "evidence", undo.evidence.data,
		"verdict", left ? "some of what the run pushed could not be removed: details.leftovers lists it, with how to remove it"
				: "every manifest, the fallback tag and every blob the run pushed was deleted and is gone"));
	undo_release(&undo);
}
