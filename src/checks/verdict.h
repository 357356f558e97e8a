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

#include <stddef.h>

#define OCI_INDEX_TYPE "application/vnd.oci.image.index.v1+json"

enum cap_state {
	CAP_UNKNOWN = 0,
	CAP_SUPPORTED,
	CAP_UNSUPPORTED
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

/* Whether a body looks like HTML (a login or error page). */
int body_is_html(const char *content_type, const char *body, size_t len);

/* What one referrers answer says about the API. */
struct referrers_answer {
	long status;
	const char *content_type;  /* without parameters, lower case; "" when none */
	const char *body;
	size_t len;
	int redirected;            /* the answer came after a redirect */
};

struct referrers_verdict {
	struct verdict v;
	int index_ok;              /* the body is a valid OCI index */
	long count;                /* descriptors, when index_ok */
	int wrong_type;            /* valid index, Content-Type is not the index type */
	int client_api[3];         /* oras, go-containerregistry, regclient: 1 = api */
};

extern const char *const referrers_clients[3];

void referrers_judge(const struct referrers_answer *a, struct referrers_verdict *out);

/* One DELETE of a digest that cannot exist: what it says about deletes. */
void delete_judge(long status, const char *body, size_t len, const char *kind,
		  struct verdict *out);

/* Whether a Range header ("0-511" or "bytes=0-511") covers bytes 0..end. */
int range_covers(const char *range, long end);

#endif
