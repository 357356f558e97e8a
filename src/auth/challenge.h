/*
 * challenge: parsing of WWW-Authenticate headers (RFC 7235), as sent by
 * registries: `Basic realm="..."` and
 * `Bearer realm="...",service="...",scope="a b",error="insufficient_scope"`.
 */
#ifndef OCIDOCTOR_CHALLENGE_H
#define OCIDOCTOR_CHALLENGE_H

enum auth_scheme {
	AUTH_NONE = 0,
	AUTH_BASIC,
	AUTH_BEARER,
	AUTH_OTHER
};

struct challenge {
	enum auth_scheme scheme;
	char *scheme_name; /* as sent, e.g. "Bearer" */
	char *realm;       /* NULL when absent */
	char *service;     /* NULL when absent */
	char *scope;       /* NULL when absent; may hold several, space-separated */
	char *error;       /* NULL when absent */
};

/*
 * Parses one header value. When the value holds several challenges,
 * the first Bearer challenge wins, then the first Basic one, then the
 * first of any other scheme. Parameter names are case-insensitive;
 * values may be quoted strings (with backslash escapes) or tokens.
 * Returns 0 on success, -1 when the value is malformed (then *out is
 * released and zeroed). A Bearer challenge without a realm is malformed.
 * Never reads past the terminating NUL; values are limited to 4096 bytes.
 */
int challenge_parse(struct challenge *out, const char *value);
void challenge_release(struct challenge *c);

/*
 * Whether a Bearer challenge's realm is an http:// or https:// URL, the
 * only kind a token can be fetched from (1); 0 otherwise. A challenge of
 * another scheme has no realm to fetch and counts as fine (1).
 */
int challenge_realm_usable(const struct challenge *c);
const char *auth_scheme_name(enum auth_scheme s);

#endif
