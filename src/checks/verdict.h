/*
 * verdict: the rules that turn registry answers into capability states.
 *
 * Pure functions (no I/O) shared by the referrers and capabilities
 * checks and tested on their own. The rule everywhere: a capability is
 * supported only on evidence that proves it, unsupported only on evidence
 * that rules it out, and unknown otherwise, with the reason.
 */
#ifndef OCIDOCTOR_VERDICT_H
#define OCIDOCTOR_VERDICT_H

#include "util/buf.h"

#include <stddef.h>

#define OCI_INDEX_TYPE "application/vnd.oci.image.index.v1+json"

enum cap_state {
	CAP_UNKNOWN = 0,
	CAP_SUPPORTED,
	CAP_UNSUPPORTED,
	CAP_NOT_PROBED      /* the user ruled the probe out (--no-writes): says nothing */
};

const char *cap_state_name(enum cap_state s);

struct verdict {
	enum cap_state state;
	char *reason;       /* newly allocated, or NULL */
};

void verdict_set(struct verdict *v, enum cap_state state, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void verdict_release(struct verdict *v);

/*
 * Copies the first error code of a distribution error body
 * ({"errors":[{"code":"..."}]}) into out; returns 0, or -1 when the body
 * is not such a body (out is then "").
 */
int oci_error_code(const char *body, size_t len, char *out, size_t n);

/*
 * Whether the body is a valid OCI image index: a JSON object with
 * schemaVersion 2, a `manifests` array and, when given, the index media
 * type. On success *count is the number of descriptors; on failure *why
 * says what is wrong (static string).
 */
int oci_index_valid(const char *body, size_t len, long *count, const char **why);

/* Whether a media type (without parameters) is a manifest or index type. */
int manifest_type(const char *media_type);

/*
 * Whether an answer to a manifest request is a manifest: a JSON object
 * whose media type (Content-Type, else its mediaType field, else its
 * shape) is a manifest or index type. On failure *why says what it is
 * instead (static string). A sign-in page is not a manifest.
 */
int manifest_body_valid(const char *content_type, const char *body, size_t len,
			const char **why);

/* Whether a body looks like HTML (a login or error page). */
int body_is_html(const char *content_type, const char *body, size_t len);

/*
 * What a manifest push with a `subject` was answered with, for the
 * clients that decide how to attach from it (oras-go, regclient). The
 * referrers check makes no push, so it leaves this PUSH_NOT_MADE.
 */
enum push_subject {
	PUSH_NOT_MADE = 0,
	PUSH_NO_SUBJECT,        /* no OCI-Subject header (or an empty one) */
	PUSH_SUBJECT_MATCHES,   /* OCI-Subject is the subject's digest */
	PUSH_SUBJECT_OTHER,     /* OCI-Subject names another digest */
	PUSH_REFUSED,           /* the registry refused the push of an artifact manifest */
	PUSH_WITHHELD           /* --writes verify pushed nothing (no proof deletes work, cut short) */
};

/*
 * What the OCI-Subject header of a push with subject `subject` says: NULL
 * or empty is PUSH_NO_SUBJECT, the subject's digest PUSH_SUBJECT_MATCHES,
 * anything else PUSH_SUBJECT_OTHER.
 */
enum push_subject push_subject_of(const char *header, const char *subject);
/* "not-made", "absent", "exact", "other", "refused", "withheld"; and back (unknown names: PUSH_NOT_MADE). */
const char *push_subject_name(enum push_subject p);
enum push_subject push_subject_parse(const char *name);

/* What one referrers answer says about the API. */
struct referrers_answer {
	long status;
	const char *content_type;  /* without parameters, lower case; "" when none */
	const char *body;
	size_t len;
	int redirected;            /* the answer came after a redirect */
	int repo_known;            /* the pull check just read the repository */
	enum push_subject push;    /* how a push with a subject was answered */
	int read_only;             /* the push check found every upload refused (read-only mode) */
	int tag_not_index;         /* the sha256-<hex> tag exists and is no OCI index (GitLab: the subject) */
};

/* How a client lists referrers, and how it attaches one. */
enum client_list { CLIENT_LIST_API, CLIENT_LIST_TAG, CLIENT_LIST_ERROR };
enum client_attach { CLIENT_ATTACH_UNKNOWN, CLIENT_ATTACH_API, CLIENT_ATTACH_TAG, CLIENT_ATTACH_ERROR };

enum referrers_client { CLIENT_ORAS, CLIENT_GGCR, CLIENT_REGCLIENT, CLIENT_COUNT };

struct client_prediction {
	enum client_list list;
	enum client_attach attach;
	const char *list_why;      /* static strings */
	const char *attach_why;
};

const char *client_list_name(enum client_list l);     /* "api", "tag-fallback", "error" */
const char *client_attach_name(enum client_attach a); /* "api", "tag-fallback", "error", "unknown" */

/* The JSON keys of the clients, in enum order. */
extern const char *const referrers_clients[CLIENT_COUNT];

/* One model per client: what it would do with this answer. */
void client_oras(const struct referrers_answer *a, struct client_prediction *out);
void client_ggcr(const struct referrers_answer *a, struct client_prediction *out);
void client_regclient(const struct referrers_answer *a, struct client_prediction *out);

/*
 * What users of the clients will meet because of the predictions: a
 * client whose listing fails, one whose attaching fails (unless every
 * client's does: a registry refusing all pushes is the push check's
 * finding), one that lists elsewhere than it attaches, clients that list
 * from different places. Appends one clause per
 * consequence to out ("; "-separated) and returns how many.
 */
int referrers_consequences(const struct client_prediction p[CLIENT_COUNT], struct buf *out);

struct referrers_verdict {
	struct verdict v;
	int index_ok;              /* the body is a valid OCI index */
	long count;                /* descriptors, when index_ok */
	int wrong_type;            /* valid index, Content-Type is not the index type */
	int false_200;             /* a 200 whose body is not an index (login page, garbage) */
	struct client_prediction clients[CLIENT_COUNT];
};

void referrers_judge(const struct referrers_answer *a, struct referrers_verdict *out);

/* One DELETE of a digest that cannot exist: what it says about deletes. */
void delete_judge(long status, const char *body, size_t len, const char *kind,
		  struct verdict *out);

/* Whether a Range header ("0-511" or "bytes=0-511") covers bytes 0..end. */
int range_covers(const char *range, long end);

#endif
