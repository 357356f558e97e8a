/*
 * cleanup: the one clean-up of every check that writes (push,
 * capabilities, artifacts).
 *
 * A check notes what it wrote on an undo list (undo_add): an upload
 * session, a mounted blob, a blob, a manifest, a tag. undo_run removes
 * them in waves of concurrent calls:
 *  - upload sessions: DELETE on the session; 2xx or 404 ends it;
 *  - manifests, blobs and mounted blobs: DELETE by digest, then, where
 *    the item asks for it (.verify), a HEAD that must answer 404: a 2xx
 *    DELETE alone proves nothing (a registry may accept it and keep the
 *    blob). A 404 to the DELETE counts as gone (another run sharing the
 *    repository removed it). Blobs wait for the manifests' DELETEs, which
 *    may hold them;
 *  - a tag (.after: the manifest it named): once that manifest's DELETE
 *    answered 2xx, a HEAD of the tag; where it still resolves
 *    (go-containerregistry keeps tags of deleted manifests), a DELETE by
 *    tag and a HEAD again. When the manifest's DELETE did not answer 2xx,
 *    the tag is not tried (the manifest is the leftover).
 * Every call is a clean-up call (registry_call .cleanup: the grace period
 * past the run's deadline); once the deadline and REGISTRY_CLEANUP_GRACE_MS
 * since the clean-up began have both passed, no further wave is sent.
 * Whatever is not shown gone is a leftover (leftover_add), once.
 */
#ifndef OCIDOCTOR_CLEANUP_H
#define OCIDOCTOR_CLEANUP_H

#include "checks/check.h"
#include "util/buf.h"

enum undo_kind { UNDO_SESSION, UNDO_MOUNTED_BLOB, UNDO_BLOB, UNDO_MANIFEST, UNDO_TAG };

struct undo_item {
	enum undo_kind kind;
	char *ref;                 /* session URL, digest or tag */
	char *name;                /* what it is, for its leftover ("the subject image"), or NULL */
	int verify;                /* HEAD after a 2xx DELETE (manifests, blobs) */
	size_t after;              /* UNDO_TAG: 1 + the index of its manifest; 0: none */
	/* the outcome, once undo_run returned */
	int gone;                  /* shown gone */
	int skipped;               /* not tried (a tag whose manifest stayed): no leftover */
	long del_status, head_status; /* the last DELETE's and HEAD's status, 0 for none */
	/* while running */
	int stage, done;
	char *path;
	struct registry_call del, head;
};

struct undo_list {
	struct check_ctx *ctx;
	const char *repository;    /* where everything on it was written */
	struct undo_item *items;
	size_t nr, alloc;
	struct buf evidence;       /* every clean-up call, "METHOD path: status; ..." */
};

void undo_init(struct undo_list *u, struct check_ctx *ctx, const char *repository);
void undo_release(struct undo_list *u);
/* Notes something written; returns its index. ref and name are copied (name may be NULL). */
size_t undo_add(struct undo_list *u, enum undo_kind kind, const char *ref, const char *name,
		int verify);
/* Notes a tag to remove once the manifest at index `manifest` is deleted. */
size_t undo_add_tag(struct undo_list *u, const char *tag, const char *name, size_t manifest);
/*
 * Removes everything on the list and lists what is not shown gone in
 * details.leftovers. Returns the number of leftovers it added.
 */
size_t undo_run(struct undo_list *u);
/* Lists everything on the list as a leftover, kept on purpose (why: "kept (--keep-artifacts)"). */
void undo_keep(struct undo_list *u, const char *why);

/*
 * Lists something the run could not clean up: in details.leftovers (kind,
 * repository, ref, why, command) and as a row of the result's
 * "leftovers" section, which every writer renders. kind: "upload-session"
 * (what: its URL), "mounted-blob" or "blob" (a digest), "manifest" (a
 * digest or a tag).
 */
void leftover_add(struct check_ctx *ctx, const char *kind, const char *repository,
		  const char *what, const char *why);
/* Sets details.leftovers to [] when nothing was listed: the key is always there. */
void leftovers_ensure(struct check_ctx *ctx);

#endif
