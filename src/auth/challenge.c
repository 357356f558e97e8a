/*
 * challenge: a parser for WWW-Authenticate values (RFC 7235 section 4.1):
 *
 *   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param = token BWS "=" BWS ( token / quoted-string )
 *
 * A value may hold several challenges separated by commas; a parameter
 * and the next challenge are told apart by the "=" after a parameter
 * name, so a missing comma is tolerated wherever that stays unambiguous.
 * The value comes from a server, so the parser walks one byte at a time,
 * stops at the NUL and caps every name and value at VALUE_MAX bytes.
 */
#include "auth/challenge.h"
#include "util/buf.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define VALUE_MAX 4096

/* tchar from RFC 7230 section 3.2.6. */
static int is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* The characters of a token68 other than its trailing "=" padding. */
static int is_token68_char(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c && strchr("-._~+/", c) != NULL;
}

/*
 * What an unquoted parameter value may hold: a token, widened to any
 * visible ASCII but the delimiters, so that servers that send a realm URL
 * without quotes still parse.
 */
static int is_bare_value_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != '\\';
}

/* Whitespace between elements; CR and LF are tolerated for callers that
 * pass a header line as it came. */
static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n')
		(*p)++;
}

/* Reads a token at *p; returns its length (0 when there is none, or -1
 * when it is longer than VALUE_MAX) and advances past it. */
static long read_token(const char **p)
{
	size_t n = 0;

	while (is_tchar((unsigned char)(*p)[n])) {
		if (++n > VALUE_MAX)
			return -1;
	}
	*p += n;
	return (long)n;
}

/* Reads a quoted-string at *p (which points at the opening quote) into
 * out, undoing backslash escapes. */
static int read_quoted(const char **p, struct buf *out)
{
	const char *s = *p + 1;

	for (;;) {
		unsigned char c = (unsigned char)*s;

		if (c == '"')
			break;
		if (c == '\\') {
			s++;
			c = (unsigned char)*s;
			if (c != '\t' && (c < 0x20 || c == 0x7f))
				return -1;
		} else if (c != '\t' && (c < 0x20 || c == 0x7f)) {
			return -1;
		}
		if (buf_addch(out, (char)c) < 0)
			return -1;
		s++;
	}
	*p = s + 1;
	return 0;
}

/* Reads a parameter value, quoted or bare, into out. */
static int read_value(const char **p, struct buf *out)
{
	const char *s = *p;

	if (*s == '"')
		return read_quoted(p, out);
	while (is_bare_value_char((unsigned char)*s))
		s++;
	if (s == *p || buf_add(out, *p, (size_t)(s - *p)) < 0)
		return -1;
	*p = s;
	return 0;
}

/*
 * When *p starts a token68 (letters, digits, "-._~+/", then "=" padding)
 * that is followed by the end of the value or a comma, skips it and
 * returns 1. Otherwise leaves *p alone and returns 0.
 */
static int skip_token68(const char **p)
{
	const char *s = *p;

	while (is_token68_char((unsigned char)*s))
		s++;
	if (s == *p)
		return 0;
	while (*s == '=')
		s++;
	skip_ws(&s);
	if (*s != '\0' && *s != ',')
		return 0;
	*p = s;
	return 1;
}

/* Returns the slot for a parameter we keep, or NULL for others. */
static char **param_slot(struct challenge *c, const char *name, size_t len)
{
	if (len == 5 && !strncasecmp(name, "realm", len))
		return &c->realm;
	if (len == 7 && !strncasecmp(name, "service", len))
		return &c->service;
	if (len == 5 && !strncasecmp(name, "scope", len))
		return &c->scope;
	if (len == 5 && !strncasecmp(name, "error", len))
		return &c->error;
	return NULL;
}

/* Stores one parameter; a repeated known parameter is malformed. */
static int store_param(struct challenge *c, const char *name, size_t len, struct buf *value)
{
	char **slot = param_slot(c, name, len);

	if (!slot)
		return 0;
	if (*slot)
		return -1;
	*slot = buf_detach(value);
	return 0;
}

/*
 * Reads the parameters of one challenge. Stops, leaving *p at the next
 * challenge's scheme, at the first token that is not followed by "=".
 */
static int read_params(const char **p, struct challenge *c)
{
	struct buf value;
	int ret = -1;

	buf_init(&value, VALUE_MAX);
	for (;;) {
		const char *name, *after;
		long len;

		skip_ws(p);
		if (**p == ',') {
			(*p)++;
			continue;
		}
		if (**p == '\0')
			break;
		name = *p;
		after = *p;
		len = read_token(&after);
		if (len <= 0)
			goto done;
		skip_ws(&after);
		if (*after != '=')
			break;
		after++;
		skip_ws(&after);
		buf_reset(&value);
		if (read_value(&after, &value) < 0)
			goto done;
		if (store_param(c, name, (size_t)len, &value) < 0)
			goto done;
		*p = after;
	}
	ret = 0;
done:
	buf_release(&value);
	return ret;
}

static enum auth_scheme scheme_from_name(const char *name)
{
	if (!strcasecmp(name, "bearer"))
		return AUTH_BEARER;
	if (!strcasecmp(name, "basic"))
		return AUTH_BASIC;
	return AUTH_OTHER;
}

/* Reads one challenge, starting at its scheme name. */
static int read_challenge(const char **p, struct challenge *c)
{
	const char *start = *p;
	long len = read_token(p);

	if (len <= 0)
		return -1;
	c->scheme_name = xstrndup(start, (size_t)len);
	c->scheme = scheme_from_name(c->scheme_name);
	if (**p != '\0' && **p != ',' && **p != ' ' && **p != '\t' && **p != '\r' && **p != '\n')
		return -1;
	skip_ws(p);
	skip_token68(p);
	return read_params(p, c);
}

/* Bearer first, then Basic, then anything else. */
static int scheme_rank(enum auth_scheme s)
{
	switch (s) {
	case AUTH_BEARER:
		return 3;
	case AUTH_BASIC:
		return 2;
	case AUTH_OTHER:
		return 1;
	default:
		return 0;
	}
}

int challenge_parse(struct challenge *out, const char *value)
{
	struct challenge cur;
	const char *p = value;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	memset(&cur, 0, sizeof(cur));
	if (!value)
		return -1;
	for (;;) {
		while (*p == ',' || *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		if (read_challenge(&p, &cur) < 0)
			goto done;
		if (scheme_rank(cur.scheme) > scheme_rank(out->scheme)) {
			challenge_release(out);
			*out = cur;
			memset(&cur, 0, sizeof(cur));
		} else {
			challenge_release(&cur);
		}
	}
	if (out->scheme == AUTH_NONE)
		goto done;
	if (out->scheme == AUTH_BEARER && (!out->realm || !out->realm[0]))
		goto done;
	ret = 0;
done:
	challenge_release(&cur);
	if (ret < 0)
		challenge_release(out);
	return ret;
}

int challenge_realm_usable(const struct challenge *c)
{
	if (c->scheme != AUTH_BEARER)
		return 1;
	return c->realm && (!strncasecmp(c->realm, "https://", 8) ||
			    !strncasecmp(c->realm, "http://", 7)) &&
	       c->realm[c->realm[4] == 's' || c->realm[4] == 'S' ? 8 : 7] != '\0';
}

void challenge_release(struct challenge *c)
{
	if (!c)
		return;
	free(c->scheme_name);
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

const char *auth_scheme_name(enum auth_scheme s)
{
	switch (s) {
	case AUTH_BASIC:
		return "Basic";
	case AUTH_BEARER:
		return "Bearer";
	case AUTH_OTHER:
		return "other";
	case AUTH_NONE:
		break;
	}
	return "none";
}
