/*
 * token: Bearer tokens from a registry's token endpoint, and the cache
 * that fetches each one once per run.
 *
 * Given the challenge a registry sent (realm, service) and a scope, the
 * token layer asks the realm for a token with the configured credentials:
 *  - an identity token goes as an OAuth2 refresh-token grant (POST of a
 *    form to the realm); a realm that answers 404 or 405 to it is asked
 *    the classic way next, when there is a password;
 *  - otherwise a GET of realm?service=...&scope=..., with Basic
 *    credentials when there is a username and password, anonymously when
 *    there are none.
 * Rules kept here: the realm must be an http(s) URL; credentials go to it
 * only over https or plain http to a loopback host (auth_url_safe); every
 * request that carries a credential is marked so, which keeps it off any
 * proxy when it travels over plain HTTP; token answers live in wiped
 * memory and every copy of a token, a form body or an Authorization
 * header is wiped when freed (secret_free). Which origin a token is then
 * sent to is the registry client's business (engine/registry.h): it sends
 * Authorization only to the registry's own origin.
 *
 * Threads: a token cache may be used from any number of threads at once.
 * Callers asking for a key that is being fetched wait for that fetch
 * (no second request); a failed fetch is cached too, so a run asks once.
 */
#ifndef OCIDOCTOR_TOKEN_H
#define OCIDOCTOR_TOKEN_H

#include "auth/challenge.h"
#include "auth/creds.h"
#include "engine/http.h"

/* How one token request goes out. Everything is borrowed for the call. */
struct token_fetch {
	struct engine *engine;
	const char *origin;          /* the registry's origin: the trace shows others without query */
	const struct creds *creds;   /* NULL or CRED_NONE: anonymous */
	long deadline;               /* clock_now_ms() point, 0 for the engine's */
	const struct cancel *cancel; /* the run's cancellation, or NULL (engine_send) */
	long *depth;                 /* the caller's round-trip chain (see engine_send), or NULL */
	/* called for every exchange with the token endpoint (evidence), or NULL */
	void (*log)(void *arg, const char *method, const char *url,
		    const struct http_response *resp);
	void *log_arg;
};

struct token_cache;

struct token_cache *token_cache_new(void);
/* Wipes every cached token and frees the cache; NULL is fine. */
void token_cache_free(struct token_cache *tc);

/*
 * The token for (challenge, scope), fetched once per cache: concurrent
 * callers for the same key wait for the first. Returns a newly allocated
 * token (free it with secret_free), or NULL with *status (the token
 * endpoint's last status, 0 for none) and *why (newly allocated; why may
 * be NULL). *status is set on success too. A caller that waited for
 * another's fetch continues its round-trip chain after that fetch.
 */
char *token_get(struct token_cache *tc, const struct token_fetch *f, const struct challenge *c,
		const char *scope, long *status, char **why);

/*
 * Pulls the token ("token", else "access_token") out of a token
 * endpoint's JSON answer; NULL when there is none or it is unusable
 * (over 64 KiB, or holding a line break). Newly allocated.
 */
char *token_parse(const char *body, size_t len);

/*
 * The lifetime of the token in a token endpoint's JSON answer, in
 * seconds: its expires_in, else the exp - iat of the token when it is a
 * JWT; 0 when neither says.
 */
long token_lifetime(const char *body, size_t len);

/* Whether credentials may travel to url: https, or plain http to a loopback host. */
int auth_url_safe(const char *url);

/* "Authorization: Basic base64(user:password)", newly allocated (secret_free it). */
char *auth_basic_header(const struct creds *c);

#endif
