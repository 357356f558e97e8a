/*
 * token: see token.h.
 */
#include "auth/token.h"
#include "util/buf.h"
#include "util/ref.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum token_state {
	TOKEN_FETCHING,
	TOKEN_OK,
	TOKEN_FAILED
};

struct token_entry {
	char *key;
	enum token_state state;
	long depth;          /* round-trip chain when the token arrived */
	char *token;
	long status;
	char *error;
	struct token_entry *next;
};

struct token_cache {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct token_entry *tokens;
};

/* ---- credentials on the wire ------------------------------------------- */

int auth_url_safe(const char *url)
{
	if (!url_is_http(url))
		return 0;
	return !strncasecmp(url, "https://", 8) || url_is_plain_loopback(url);
}

char *auth_basic_header(const struct creds *c)
{
	char *plain = xstrfmt("%s:%s", c->username, c->password);
	size_t len = strlen(plain);
	unsigned char *enc = xmalloc(4 * ((len + 2) / 3) + 1);
	char *header;

	EVP_EncodeBlock(enc, (const unsigned char *)plain, (int)len);
	header = xstrfmt("Authorization: Basic %s", (char *)enc);
	secret_free(plain);
	secret_free((char *)enc);
	return header;
}

static int has_creds(const struct creds *c)
{
	return c && c->source != CRED_NONE;
}

static int has_password(const struct creds *c)
{
	return has_creds(c) && c->username && c->password;
}

/* ---- one token request --------------------------------------------------- */

static char *token_url(const char *realm, const char *service, const char *scope)
{
	CURLU *h = curl_url();
	char *out = NULL, *url = NULL, *part;
	const char *s = scope;

	if (!h || curl_url_set(h, CURLUPART_URL, realm, 0) != CURLUE_OK)
		goto done;
	if (service) {
		part = xstrfmt("service=%s", service);
		curl_url_set(h, CURLUPART_QUERY, part, CURLU_APPENDQUERY | CURLU_URLENCODE);
		free(part);
	}
	while (s && *s) {
		size_t n = strcspn(s, " ");

		if (n) {
			part = xstrfmt("scope=%.*s", (int)n, s);
			curl_url_set(h, CURLUPART_QUERY, part, CURLU_APPENDQUERY | CURLU_URLENCODE);
			free(part);
		}
		s += n;
		while (*s == ' ')
			s++;
	}
	if (curl_url_get(h, CURLUPART_URL, &url, 0) == CURLUE_OK)
		out = xstrdup(url);
done:
	curl_free(url);
	curl_url_cleanup(h);
	return out;
}

static char *form_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *out;

	if (!e)
		xdie("out of memory");
	out = xstrdup(e);
	secret_wipe(e, strlen(e)); /* it may be the escaped identity token */
	curl_free(e);
	return out;
}

/* OAuth2 refresh-token grant, for identity tokens. */
static char *oauth_body(const struct creds *c, const char *service, const char *scope)
{
	char *svc = form_escape(service ? service : "");
	char *scp = form_escape(scope ? scope : "");
	char *tok = form_escape(c->identity_token);
	char *body = xstrfmt("grant_type=refresh_token&client_id=ocidoctor&service=%s&scope=%s&refresh_token=%s",
			     svc, scp, tok);

	free(svc);
	free(scp);
	secret_free(tok);
	return body;
}

char *token_parse(const char *body, size_t len)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	const char *t = NULL;
	char *out = NULL;

	if (!root)
		return NULL;
	if (json_is_object(root)) {
		t = json_string_value(json_object_get(root, "token"));
		if (!t || !*t)
			t = json_string_value(json_object_get(root, "access_token"));
	}
	if (t && *t && strlen(t) < 64 * 1024 && !strpbrk(t, "\r\n"))
		out = xstrdup(t);
	json_decref(root);
	return out;
}

/* exp - iat of a JWT's claims (its second, base64url part), or 0. */
static long jwt_lifetime(const char *jwt)
{
	const char *start = strchr(jwt, '.'), *end = start ? strchr(start + 1, '.') : NULL;
	size_t n, i;
	char *b64 = NULL;
	unsigned char *raw = NULL;
	json_t *claims = NULL;
	json_int_t exp, iat;
	long out = 0;
	int len;

	if (!end || end - start - 1 > 16 * 1024)
		return 0;
	n = (size_t)(end - start - 1);
	b64 = xmalloc(n + 4);
	for (i = 0; i < n; i++)
		b64[i] = start[1 + i] == '-' ? '+' : start[1 + i] == '_' ? '/' : start[1 + i];
	while (i % 4)
		b64[i++] = '=';
	raw = xmalloc(i / 4 * 3 + 1);
	len = EVP_DecodeBlock(raw, (unsigned char *)b64, (int)i);
	if (len <= 0)
		goto done;
	len -= (n % 4 == 2) ? 2 : (n % 4 == 3) ? 1 : 0; /* EVP_DecodeBlock counts the padding */
	claims = json_loadb((const char *)raw, (size_t)len, 0, NULL);
	if (!json_is_integer(json_object_get(claims, "exp")) ||
	    !json_is_integer(json_object_get(claims, "iat")))
		goto done;
	exp = json_integer_value(json_object_get(claims, "exp"));
	iat = json_integer_value(json_object_get(claims, "iat"));
	if (exp > iat && exp - iat < 100L * 365 * 86400)
		out = (long)(exp - iat);
done:
	json_decref(claims);
	free(raw);
	free(b64);
	return out;
}

long token_lifetime(const char *body, size_t len)
{
	json_t *root = json_loadb(body, len, 0, NULL), *e = json_object_get(root, "expires_in");
	char *token;
	long out = 0;

	if (json_is_integer(e) && json_integer_value(e) > 0 &&
	    json_integer_value(e) < 100L * 365 * 86400)
		out = (long)json_integer_value(e);
	json_decref(root);
	if (out)
		return out;
	token = token_parse(body, len);
	if (token)
		out = jwt_lifetime(token);
	secret_free(token);
	return out;
}

struct token_answer {
	long status;
	char *token;
	char *error;
};

static void send_token_request(const struct token_fetch *f, const char *method, const char *url,
			       struct curl_slist *headers, const char *body,
			       struct http_response *resp)
{
	struct http_request req = {
		.method = method, .url = url, .headers = headers,
		.body = body, .body_len = body ? strlen(body) : 0,
		.credentials = body != NULL, /* the form holds the identity token */
		.secret_answer = 1,          /* the token */
		.origin = f->origin,
	};
	const struct http_request *reqs[] = { &req };
	struct http_response *resps[] = { resp };

	engine_send(f->engine, reqs, resps, 1, f->deadline, f->cancel, f->depth);
	if (resp->status == 200 && resp->body.data)
		resp->token_lifetime_s = token_lifetime(resp->body.data, resp->body.len);
	if (f->log)
		f->log(f->log_arg, method, url, resp);
}

static void describe_token_answer(struct token_answer *a, const char *realm,
				  struct http_response *resp)
{
	a->status = resp->status;
	if (resp->failure != HTTP_OK) {
		a->error = xstrfmt("token request to %s failed: %s", realm, resp->error);
		return;
	}
	if (resp->status != 200) {
		a->error = xstrfmt("token endpoint %s answered %ld%s", realm, resp->status,
				   resp->status == 401 || resp->status == 403 ?
				   " (credentials rejected)" : "");
		return;
	}
	a->token = token_parse(resp->body.data, resp->body.len);
	if (!a->token)
		a->error = xstrfmt("token endpoint %s answered 200 without a usable token", realm);
}

static void fetch_answer(const struct token_fetch *f, const struct challenge *c,
			 const char *scope, struct token_answer *a)
{
	const struct creds *cr = f->creds;
	struct curl_slist *headers = NULL;
	struct http_response resp;
	char *url = NULL, *auth = NULL, *body = NULL;

	memset(a, 0, sizeof(*a));
	http_response_init(&resp, 0);
	if (!challenge_realm_usable(c) || !url_is_http(c->realm)) {
		a->error = xstrfmt("the registry's WWW-Authenticate realm '%s' is not an HTTP(S) URL",
				   c->realm);
		goto done;
	}
	if (has_creds(cr) && (cr->identity_token || cr->password) && !auth_url_safe(c->realm)) {
		a->error = xstrfmt("refusing to send credentials to the token realm %s over plain HTTP",
				   c->realm);
		goto done;
	}
	if (has_creds(cr) && cr->identity_token) {
		body = oauth_body(cr, c->service, scope);
		headers = curl_slist_append(headers, "Content-Type: application/x-www-form-urlencoded");
		send_token_request(f, "POST", c->realm, headers, body, &resp);
		if (resp.failure != HTTP_OK || (resp.status != 404 && resp.status != 405) ||
		    !has_password(cr)) {
			describe_token_answer(a, c->realm, &resp);
			goto done;
		}
		http_response_release_secret(&resp);
		http_headers_free(headers);
		headers = NULL;
	}
	url = token_url(c->realm, c->service, scope);
	if (!url) {
		a->error = xstrfmt("the token realm %s is not a usable URL", c->realm);
		goto done;
	}
	if (has_password(cr)) {
		auth = auth_basic_header(cr);
		headers = curl_slist_append(headers, auth);
	}
	send_token_request(f, "GET", url, headers, NULL, &resp);
	describe_token_answer(a, c->realm, &resp);
done:
	secret_free(body);
	secret_free(auth);
	free(url);
	http_headers_free(headers);
	http_response_release_secret(&resp); /* the token answer */
}

/* ---- the cache ------------------------------------------------------------ */

struct token_cache *token_cache_new(void)
{
	struct token_cache *tc = xcalloc(1, sizeof(*tc));

	pthread_mutex_init(&tc->lock, NULL);
	pthread_cond_init(&tc->cond, NULL);
	return tc;
}

void token_cache_free(struct token_cache *tc)
{
	struct token_entry *t, *next;

	if (!tc)
		return;
	for (t = tc->tokens; t; t = next) {
		next = t->next;
		free(t->key);
		secret_free(t->token);
		free(t->error);
		free(t);
	}
	pthread_mutex_destroy(&tc->lock);
	pthread_cond_destroy(&tc->cond);
	free(tc);
}

static struct token_entry *find_token(struct token_cache *tc, const char *key)
{
	struct token_entry *t;

	for (t = tc->tokens; t; t = t->next)
		if (!strcmp(t->key, key))
			return t;
	return NULL;
}

/*
 * A fetch that failed because its run was cancelled says nothing about
 * the token: its entry goes (under tc->lock, which this lets go), so
 * that a caller not cancelled (a clean-up) fetches it again. Returns NULL.
 */
static char *forget_cancelled(struct token_cache *tc, struct token_entry *t,
			      struct token_answer *a, long *status, char **why)
{
	struct token_entry **p;

	for (p = &tc->tokens; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	pthread_cond_broadcast(&tc->cond);
	pthread_mutex_unlock(&tc->lock);
	*status = a->status;
	if (why)
		*why = a->error;
	else
		free(a->error);
	free(t->key);
	free(t);
	return NULL;
}

char *token_get(struct token_cache *tc, const struct token_fetch *f, const struct challenge *c,
		const char *scope, long *status, char **why)
{
	char *key = xstrfmt("%s|%s|%s", c->realm, c->service ? c->service : "", scope);
	struct token_entry *t;
	struct token_answer a;
	char *out = NULL;

	pthread_mutex_lock(&tc->lock);
	while ((t = find_token(tc, key)) && t->state == TOKEN_FETCHING)
		pthread_cond_wait(&tc->cond, &tc->lock);
	if (!t) {
		t = xcalloc(1, sizeof(*t));
		t->key = key;
		key = NULL;
		t->state = TOKEN_FETCHING;
		t->next = tc->tokens;
		tc->tokens = t;
		pthread_mutex_unlock(&tc->lock);
		fetch_answer(f, c, scope, &a);
		pthread_mutex_lock(&tc->lock);
		if (!a.token && cancel_is_set(f->cancel))
			return forget_cancelled(tc, t, &a, status, why);
		t->state = a.token ? TOKEN_OK : TOKEN_FAILED;
		t->depth = f->depth ? *f->depth : 0;
		t->token = a.token;
		t->status = a.status;
		t->error = a.error;
		pthread_cond_broadcast(&tc->cond);
	}
	*status = t->status;
	if (f->depth && t->depth > *f->depth)
		*f->depth = t->depth;
	if (t->state == TOKEN_OK)
		out = xstrdup(t->token);
	else if (why)
		*why = xstrdup(t->error);
	pthread_mutex_unlock(&tc->lock);
	free(key);
	return out;
}
