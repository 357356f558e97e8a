/*
 * probe: what the checks that write (push, capabilities, artifacts) share
 * besides the clean-up (cleanup.h): the 2xx test, the largest chunk they
 * send, a call that got no answer, an upload session out of an answer,
 * a call's line of evidence, and the message's note of what was left.
 */
#ifndef OCIDOCTOR_PROBE_H
#define OCIDOCTOR_PROBE_H

#include "checks/check.h"
#include "util/buf.h"

/* The largest chunk a chunked-upload probe sends: a registry's minimum above it is not tried. */
#define PROBE_CHUNK_MAX (4L * 1024 * 1024)

/* Whether an HTTP status is 2xx. */
int status_2xx(long status);

/*
 * Whether a call that was sent got no answer (a transport error, or no
 * status); the first such call is kept in *first as "METHOD path: why"
 * (newly allocated) when *first is still NULL. A call never set up
 * (method NULL) is not lost.
 */
int call_lost(char **first, const struct registry_call *call);

/*
 * Appends "METHOD /v2/...: status" (or ": no answer (why)") to b, after
 * "; " when b is not empty. A call never set up, or whose path is gone,
 * adds nothing.
 */
void call_evidence_add(struct buf *b, const struct registry_call *call);

/*
 * The upload session in an answer's Location when it is one of
 * repository's (registry_upload_location); else NULL with *why (newly
 * allocated, or NULL when there was no usable Location). When moved_to
 * is given and *moved_to is NULL, a session on another origin is kept
 * there as it is shown (registry_display_url).
 */
char *upload_session_of(struct check_ctx *ctx, const struct registry_call *call,
			const char *repository, char **why, char **moved_to);

/*
 * Ends the result's message with how many things details.leftovers lists
 * ("; 2 things left <where> (details.leftovers)") and, when this run
 * created the scratch repository (scratch_note_created), says so.
 */
void leftovers_note(struct check_ctx *ctx, const char *scratch, const char *where);

#endif
