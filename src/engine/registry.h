/*
 * registry: the registry client every check talks through.
 *
 * It turns "call this endpoint of the registry with these scopes" into
 * HTTP exchanges on the engine, handling what the distribution protocol
 * asks of a client:
 *  - authentication: it learns the registry's scheme from the first
 *    challenge it sees (normally the registry check's GET /v2/) and from
 *    then on authenticates up front: Basic credentials, or a Bearer token
 *    fetched once per set of scopes and shared by every check in the run
 *    (the token requests, OAuth2 and the cache are auth/token.h's; this
 *    layer decides when a token is needed and where it may go);
 *    a 401 it did not expect makes it fetch a token for the scopes the
 *    challenge names and try once more;
 *  - redirects of GET and HEAD, at most REGISTRY_MAX_REDIRECTS hops, with
 *    credentials only for hops to the registry's own origin;
 *  - URLs the registry hands out (an upload session's Location): a call
 *    whose path is such an absolute URL is sent only if it reads (GET,
 *    HEAD) or if the URL is an upload session of the call's own
 *    repository (url_is_upload_session), on any origin, and then with
 *    credentials only on the registry's origin. Any other write or DELETE
 *    is not sent: it fails with REG_ERR_UNSAFE_URL. So a hostile
 *    registry cannot make ocidoctor write to, or delete from, another
 *    repository or another host;
 *  - rate limits: GET, HEAD and OPTIONS answered 429 or 503 are retried
 *    up to REGISTRY_MAX_RETRIES times, after the Retry-After wait (1 s
 *    when absent), but only when that wait is at most
 *    REGISTRY_MAX_RETRY_WAIT_MS and ends before the deadline; the first
 *    such answer is kept so the report can say the registry is
 *    rate-limiting;
 *  - evidence: every exchange (token requests included) is appended to
 *    the caller's evidence log.
 *
 * Credentials are never sent in Basic form over plain HTTP to a host that
 * is not loopback; such a call fails with REG_ERR_INSECURE_CREDS.
 */
#ifndef OCIDOCTOR_REGISTRY_H
#define OCIDOCTOR_REGISTRY_H

#include "auth/challenge.h"
#include "auth/creds.h"
#include "engine/http.h"
#include "util/ref.h"

#include <jansson.h>
#include <pthread.h>

#define REGISTRY_MAX_REDIRECTS 5
/* The most calls one registry_call_many runs side by side (the caller's thread and pool threads). */
#define REGISTRY_MAX_PARALLEL_CALLS 16
/* Retries of an idempotent request answered 429 or 503, and the longest wait. */
#define REGISTRY_MAX_RETRIES 2
#define REGISTRY_MAX_RETRY_WAIT_MS 5000
/*
 * A clean-up call (cancelling an upload session, removing a mounted link)
 * may outlive the run's deadline by this much, so that a registry that
 * drips its answers until the deadline passes still gets its session
 * cancelled. So may it outlive the run's cancellation
 * (registry_options.cancel): a clean-up is never sent with it.
 */
#define REGISTRY_CLEANUP_GRACE_MS 3000

/* One request as the evidence of a check. */
struct evidence {
	char *method;
	char *url;
	long status;       /* 0 when no response arrived */
	long duration_ms;
	char *error;       /* transport error, or NULL */
	/* from the answer, for the exporter's series (see struct http_response) */
	long long tls_not_after;
	char tls_version[12];
	long long date;            /* its Date header, Unix time; 0: none */
	long long received_at;
	long token_lifetime_s;
};

/* Exchanges as a finished result keeps them: plain data, no lock. */
struct evidence_list {
	struct evidence *items;
	size_t nr;
};

void evidence_list_release(struct evidence_list *list);

/*
 * A check's evidence log is also its call context: every registry call
 * takes it, and besides the exchanges it carries the round-trip depth of
 * the calls made with it (the length of the chain of dependent requests
 * behind the next one). registry_call continues that chain and extends
 * it; the calls of registry_call_many run side by side, so each starts
 * from the same depth and the log keeps the longest. Nothing about the
 * depth lives in the thread: a thread started for a call gets it from
 * the log, explicitly.
 */
struct evidence_log {
	struct evidence *items;
	size_t nr, alloc;
	long depth;          /* round trips on the longest chain of this log's calls */
	pthread_mutex_t lock;
};

void evidence_log_init(struct evidence_log *log);
void evidence_log_release(struct evidence_log *log);
/* Moves the log's exchanges into *out (released first) and empties the log. */
void evidence_log_take(struct evidence_log *log, struct evidence_list *out);
void evidence_log_add(struct evidence_log *log, const char *method, const char *url,
		      const struct http_response *resp);
/* The log's round-trip depth (0 for a NULL log), and depth = max(depth, d). */
long evidence_log_depth(struct evidence_log *log);
void evidence_log_join(struct evidence_log *log, long depth);

/* Token actions, combinable. */
enum reg_action {
	REG_PULL = 1,
	REG_PUSH = 2,
	REG_DELETE = 4
};

/* What registry_call reports beyond the HTTP response. */
enum reg_error {
	REG_ERR_NONE = 0,
	REG_ERR_TRANSPORT,       /* see resp->error */
	REG_ERR_INSECURE_CREDS,  /* refused to send Basic credentials over plain HTTP */
	REG_ERR_TOKEN,           /* the token endpoint failed; see registry_call.token_* */
	REG_ERR_REDIRECTS,       /* too many redirects, or a bad Location */
	REG_ERR_CHALLENGE,       /* a 401 whose WWW-Authenticate could not be parsed */
	REG_ERR_UNSAFE_URL       /* a write or DELETE to a URL the registry gave that is not an
	                            upload session of the call's repository: not sent */
};

struct registry_options {
	const char *url;            /* validated registry URL */
	const struct creds *creds;  /* may be NULL or CRED_NONE */
	long timeout_ms;            /* deadline of everything sent to this registry, from
	                               registry_new; 0: the engine's deadline */
	const struct cancel *cancel; /* the run's cancellation (engine_cancel_run), or NULL:
	                               once set, every call but a clean-up fails at once, its
	                               requests in flight ended, its retry waits cut short */
};

struct registry;

int registry_new(struct registry **out, struct engine *engine, const struct registry_options *opts,
		 const char **why);
void registry_free(struct registry *r);
const struct registry_url *registry_url(const struct registry *r);
struct engine *registry_engine(const struct registry *r);
int registry_has_creds(const struct registry *r);
/* Milliseconds left of the run's time: 0 once its deadline passed or it was cancelled. */
long registry_remaining_ms(const struct registry *r);

/*
 * A URL as reports may show it: unchanged on the registry's origin,
 * without its query elsewhere (a presigned blob URL's signature); see
 * url_for_display. Newly allocated. Evidence is logged this way already.
 */
char *registry_display_url(const struct registry *r, const char *url);

/*
 * Tells the registry what scheme a response to GET /v2/ asked for, so
 * later calls authenticate up front. Called by the registry check.
 */
void registry_learn(struct registry *r, const struct http_response *resp);
/* The challenge learned so far (scheme AUTH_NONE when none). Copy out under no lock: set once. */
enum auth_scheme registry_scheme(struct registry *r);

struct registry_call {
	/* in */
	const char *method;
	const char *path;               /* "/v2/..." relative to the registry, or an absolute URL */
	const char *repository;         /* scope's repository, or NULL for no scope */
	unsigned actions;               /* enum reg_action bits for repository */
	const char *mount_from;         /* adds pull on this repository, or NULL */
	const struct curl_slist *headers; /* extra request headers (Accept, Content-Type ...) */
	const char *body;
	size_t body_len;
	int anonymous;                  /* never authenticate this call */
	int token_only;                 /* only fetch (and cache) the token this call would
	                                   need, sending nothing to the registry: lets a token
	                                   for a later call arrive alongside other requests */
	int follow;                     /* follow redirects (GET and HEAD only) */
	int cleanup;                    /* undoes a probe: gets REGISTRY_CLEANUP_GRACE_MS
	                                   past the deadline or the run's cancellation (its
	                                   token requests too) */
	size_t keep_max;                /* keep at most this much of the answer's body
	                                   (http_request.keep_max); 0: the engine's rule */
	/* out */
	struct http_response resp;      /* the final response; release with registry_call_release */
	char *url;                      /* the final URL */
	enum reg_error error;
	char *error_text;               /* a readable line when error != REG_ERR_NONE */
	long token_status;              /* status of the last token request, 0 when none */
	int authenticated;              /* credentials or a token went with the final request */
	int foreign;                    /* the final request went to another origin than the registry's */
	int redirects;                  /* redirects followed */
	int retries;                    /* retries after 429 or 503 */
};

/*
 * The upload session that a write call's answer points to: its Location,
 * resolved against the call's URL, when that is an upload session of
 * `repository` (on any origin). Returns it newly allocated, or NULL with
 * *why set to a newly allocated sentence naming where the registry sent
 * the upload (shown as url_for_display would), or to NULL when the answer
 * has no usable Location at all.
 */
char *registry_upload_location(struct registry *r, const struct registry_call *call,
			       const char *repository, char **why);

/* 1 when url is not on the registry's origin (an upload the registry moved elsewhere). */
int registry_is_elsewhere(const struct registry *r, const char *url);

/*
 * The first rate-limiting answer (429, or 503 with Retry-After) of the
 * run, as {"status", "url", "headers": {the rate-limit headers}}, or NULL.
 * Returns a new reference.
 */
json_t *registry_rate_limit(struct registry *r);

/* Performs the call; returns 0 when a response arrived (any status), -1 otherwise. */
int registry_call(struct registry *r, struct evidence_log *log, struct registry_call *call);
/*
 * Performs n independent calls side by side and returns when all are done:
 * at most REGISTRY_MAX_PARALLEL_CALLS threads (the caller's own and pool
 * threads, util/thread.h, joined before this returns), each making every
 * REGISTRY_MAX_PARALLEL_CALLS-th call in turn (so past that many calls a
 * chain grows by one round trip per call a thread makes).
 */
void registry_call_many(struct registry *r, struct evidence_log *log,
			struct registry_call *const *calls, size_t n);
void registry_call_release(struct registry_call *call);

/*
 * Asks the token realm for a token for `scope` with the configured
 * credentials (anonymously when there are none). Used by the credentials
 * check. Returns 200 when a usable token came back, else the token
 * endpoint's status (0 for no answer, or for a 200 without a usable
 * token); *why then gets a newly allocated message.
 */
long registry_token_probe(struct registry *r, struct evidence_log *log,
			  const struct challenge *c, const char *scope, char **why);

#endif
