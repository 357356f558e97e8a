/*
 * artifacts_internal: the pieces of check.integration.oci.artifacts (see
 * artifacts.c for what it does), one job each:
 *  - artifacts_content.c: the OCI content of the run (its blobs, the
 *    subject image, the artifact, the manifest with a missing subject, the
 *    tag-schema fallback index);
 *  - artifacts_steps.c: the step sequencer (the delete proof, the pushes,
 *    the listings, the fallback), one function per step over one owner;
 *  - artifacts_record.c: the record of each step in details.steps, and
 *    what every step does with a call (the bottom of the pieces: it calls
 *    none of them);
 *  - artifacts_upload.c: the blob uploads, monolithic and chunked;
 *  - artifacts_cleanup.c: what the run pushed, on the undo list (cleanup.h);
 *  - artifacts.c: the verdict, and the one exported struct check.
 * Nothing here is used outside those files.
 */
#ifndef OCIDOCTOR_ARTIFACTS_INTERNAL_H
#define OCIDOCTOR_ARTIFACTS_INTERNAL_H

#include "checks/check.h"
#include "checks/verdict.h"
#include "util/buf.h"

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

enum blob_id { B_CONFIG, B_LAYER, B_EMPTY, B_ART_LAYER, B_CHUNKED, B_PROOF, B_N };
enum manifest_id { M_SUBJECT, M_ARTIFACT, M_ORPHAN, M_INDEX, M_N };

extern const char *const av_blob_names[B_N];
extern const char *const av_manifest_names[M_N];

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
	char *refusal;             /* the first push refused, any status (av_note_denied) */
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

/* ---- artifacts_content.c ---- */

/* The run's blobs and manifests, unique to it (its run id is in each), and the fallback tag. */
void av_make_content(struct verify *v);
/* Once the session tells the chunk size: remakes the chunked blob to fit it (three chunks). */
void av_fit_chunked_blob(struct verify *v);
/*
 * The index to push under the fallback tag (v->mans[M_INDEX]): what the
 * tag holds (empty on 404), without an entry of the artifact's digest,
 * plus its descriptor. Returns 0, or -1 with *why when the tag holds
 * something else.
 */
int av_build_index(struct verify *v, const struct registry_call *get, const char **why);
/* Whether an index lists the artifact with its artifactType and run annotation; *count: its entries. */
int av_index_has_artifact(struct verify *v, json_t *index, int *count);

/* ---- artifacts_record.c ---- */

/* Notes a call that got no answer (the first in v->connection); returns 1 when it did not get one. */
int av_lost(struct verify *v, const struct registry_call *call);
/* An error answer's code and message, as "CODE: message", or the status alone. Newly allocated. */
char *av_refusal_text(const struct http_response *r);
/* Notes a push that was refused: 401 and 403 deny it; the first refusal is kept in v->refusal. */
void av_note_denied(struct verify *v, const struct registry_call *call);
/* Adds a refusal's httpStatus, and its error code and message when it has them, to a step. */
void av_refusal_fields(json_t *st, const struct http_response *r);
/* Records one step in details.steps: {status, evidence, verdict}. */
void av_step(struct verify *v, const char *name, const char *status,
	     const struct registry_call *const *calls, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void av_call_wave(struct verify *v, struct registry_call **calls, size_t n);
/* The scratch repository's upload session in an answer; the first one elsewhere goes to v->elsewhere. */
char *av_session_of(struct verify *v, const struct registry_call *call, int *elsewhere);
/* The URL to close an upload session: its Location with digest=... added. */
char *av_with_digest(const char *session, const char *digest);
char *av_manifest_path(struct verify *v, const char *ref);
char *av_blob_path(struct verify *v, const char *digest);

/* ---- artifacts_steps.c ---- */

/* The delete proof, the pushes, the listings, the fallback, the chunked upload and the clean-up. */
void av_push_and_find(struct verify *v);

/* ---- artifacts_upload.c ---- */

/* The chunked upload, one request per wave. */
struct chunked {
	struct registry_call call;
	struct curl_slist *h;
	char *url;
	int next;                  /* chunks sent so far; CHUNKS+1 when closed */
	int failed;
};

/* Opens one upload session per blob to upload (and the chunked one). */
void av_open_sessions(struct verify *v);
/* Completes the monolithic uploads, PUT ?digest=, in one wave with extra (when set up). */
void av_put_blobs(struct verify *v, struct registry_call *extra);
/* A PUT of m under ref; *path and *h are the caller's to free. */
struct registry_call av_manifest_put(struct verify *v, struct manifest *m, const char *ref,
				     char **path, struct curl_slist **h);
/* Sets up the chunked upload's next request; returns 0 when there is none. */
int av_chunked_next(struct verify *v, struct chunked *c);
/* Judges the chunked upload's last answer and moves it on. */
void av_chunked_done(struct verify *v, struct chunked *c, struct buf *ev);
/*
 * Finishes (or gives up) the chunked upload, HEADs the blob unless that
 * went out already, and judges it (details.steps.chunkedUpload). *cp
 * holds the HEAD's path.
 */
void av_finish_chunked(struct verify *v, struct chunked *c, struct registry_call *head,
		       char **cp, struct buf *ev);
/* Releases what a chunked upload holds. */
void av_chunked_release(struct chunked *c);

/* ---- artifacts_cleanup.c ---- */

/*
 * Removes everything the run stored and every open session (the undo
 * list), or, with --keep-artifacts, lists it all; details.steps.cleanup.
 */
void av_cleanup(struct verify *v);

#endif
