/*
 * ref: the registry address, repository names, tags and digests, and the
 * two URL helpers the engine needs for redirects and upload locations.
 *
 * Every function here may be handed text a user typed or a server sent,
 * so each one bounds what it reads and never trusts a length it did not
 * measure itself. URL parsing and resolution are libcurl's (CURLU); this
 * file only adds the rules a registry address has to follow on top.
 */
#include "util/ref.h"
#include "util/buf.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest registry address or Location we look at. */
#define URL_MAX 2048
#define LOCATION_MAX 8192
#define REPOSITORY_MAX 255
#define TAG_MAX 128
#define DIGEST_MAX 1024

static int fail(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -1;
}

static int is_lower_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(int c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static int is_hex_lower(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int is_scheme_char(int c)
{
	return is_alnum(c) || c == '+' || c == '-' || c == '.';
}

/*
 * Returns the length of a leading "scheme://" (scheme plus the three
 * separator characters), or 0 when the text does not start with one.
 */
static size_t scheme_prefix_len(const char *text)
{
	size_t i = 0;

	if (!((text[0] >= 'a' && text[0] <= 'z') || (text[0] >= 'A' && text[0] <= 'Z')))
		return 0;
	while (is_scheme_char((unsigned char)text[i]))
		i++;
	if (text[i] == ':' && text[i + 1] == '/' && text[i + 2] == '/')
		return i + 3;
	return 0;
}

static int scheme_is_http(const char *scheme, size_t len)
{
	return (len == 5 && !strncasecmp(scheme, "https", 5)) ||
	       (len == 4 && !strncasecmp(scheme, "http", 4));
}

/* Checks the text before curl sees it: bounded, printable ASCII only. */
static int check_raw_address(const char *text, const char **why)
{
	size_t len = strnlen(text, URL_MAX + 1);
	size_t i;

	if (len == 0)
		return fail(why, "empty registry address");
	if (len > URL_MAX)
		return fail(why, "registry address is too long");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c <= 0x20 || c >= 0x7f)
			return fail(why, "registry address contains a space or a character that is not printable ascii");
	}
	if (strchr(text, '#'))
		return fail(why, "registry address must not contain a fragment");
	if (strchr(text, '?'))
		return fail(why, "registry address must not contain a query");
	return 0;
}

/*
 * Checks the authority (between "://" and the path) for what curl lets
 * through silently: extra slashes, an empty port and user information.
 * An '@' anywhere is user information: a registry address has no other
 * use for one, and a password typed unencoded may hold a '/'.
 */
static int check_authority(const char *auth, const char **why)
{
	size_t len = strcspn(auth, "/");

	if (strchr(auth, '@'))
		return fail(why, "registry address must not contain user information");
	if (len == 0)
		return fail(why, "registry address has no host");
	if (auth[len - 1] == ':')
		return fail(why, "registry address has an empty port");
	return 0;
}

/* A host is a DNS-style name or an IP literal; curl has decoded it. */
static int host_chars_valid(const char *host)
{
	size_t i;

	if (!host[0])
		return 0;
	for (i = 0; host[i]; i++) {
		unsigned char c = (unsigned char)host[i];

		if (!is_alnum(c) && c != '.' && c != '-' && c != '_')
			return 0;
	}
	return 1;
}

static void lower_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* localhost, 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
static int host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!strcasecmp(host, "localhost") || !strcasecmp(host, "localhost."))
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return 1;
		if (IN6_IS_ADDR_V4MAPPED(&a6))
			return a6.s6_addr[12] == 127;
	}
	return 0;
}

static int path_is_root(const char *path)
{
	return !strcmp(path, "") || !strcmp(path, "/") ||
	       !strcmp(path, "/v2") || !strcmp(path, "/v2/");
}

/* Returns 1 when curl holds a value for the part (even an empty one). */
static int has_part(CURLU *h, CURLUPart part)
{
	char *s = NULL;
	CURLUcode rc = curl_url_get(h, part, &s, 0);

	curl_free(s);
	return rc == CURLUE_OK;
}

static char *get_part(CURLU *h, CURLUPart part, unsigned int flags)
{
	char *s = NULL;
	char *out = NULL;

	if (curl_url_get(h, part, &s, flags) == CURLUE_OK && s)
		out = xstrdup(s);
	curl_free(s);
	return out;
}

/* Reads the explicit port, 0 when none; -1 when out of range. */
static int get_port(CURLU *h)
{
	char *s = NULL;
	char *end;
	long port = 0;

	if (curl_url_get(h, CURLUPART_PORT, &s, 0) != CURLUE_OK)
		return 0;
	port = strtol(s, &end, 10);
	if (*end || port < 1 || port > 65535)
		port = -1;
	curl_free(s);
	return (int)port;
}

/* Moves the bracketed IPv6 host curl returns into a bare host. */
static char *strip_brackets(char *host, int *ipv6)
{
	size_t len = strlen(host);
	char *bare;

	*ipv6 = 0;
	if (len < 2 || host[0] != '[' || host[len - 1] != ']')
		return host;
	bare = xstrndup(host + 1, len - 2);
	free(host);
	*ipv6 = 1;
	return bare;
}

static int host_valid(const char *host, int ipv6)
{
	struct in6_addr a6;

	if (ipv6)
		return inet_pton(AF_INET6, host, &a6) == 1;
	return host_chars_valid(host);
}

static char *make_base(const struct registry_url *u, int ipv6)
{
	const char *lb = ipv6 ? "[" : "";
	const char *rb = ipv6 ? "]" : "";

	if (u->port)
		return xstrfmt("%s://%s%s%s:%d", u->scheme, lb, u->host, rb, u->port);
	return xstrfmt("%s://%s%s%s", u->scheme, lb, u->host, rb);
}

/* Applies the registry rules to what curl parsed into h. */
static int fill_from_curl(struct registry_url *out, CURLU *h, const char **why)
{
	char *path = NULL;
	int ipv6 = 0;
	int ret = -1;

	if (has_part(h, CURLUPART_USER) || has_part(h, CURLUPART_PASSWORD) ||
	    has_part(h, CURLUPART_OPTIONS)) {
		fail(why, "registry address must not contain user information");
		goto done;
	}
	if (has_part(h, CURLUPART_QUERY)) {
		fail(why, "registry address must not contain a query");
		goto done;
	}
	if (has_part(h, CURLUPART_ZONEID)) {
		fail(why, "registry address must not contain an ipv6 zone id");
		goto done;
	}
	path = get_part(h, CURLUPART_PATH, 0);
	if (!path || !path_is_root(path)) {
		fail(why, "registry address must not contain a path other than /v2/");
		goto done;
	}
	out->port = get_port(h);
	if (out->port < 0) {
		fail(why, "port must be between 1 and 65535");
		goto done;
	}
	out->scheme = get_part(h, CURLUPART_SCHEME, 0);
	out->host = get_part(h, CURLUPART_HOST, 0);
	if (!out->scheme || !out->host) {
		fail(why, "registry address has no host");
		goto done;
	}
	out->host = strip_brackets(out->host, &ipv6);
	lower_ascii(out->host);
	lower_ascii(out->scheme);
	if (!out->port && registry_host_is_docker_hub(out->host)) {
		/* docker.io and index.docker.io name Docker Hub; its API is here */
		free(out->host);
		out->host = xstrdup(DOCKER_HUB_API_HOST);
	}
	if (!host_valid(out->host, ipv6)) {
		fail(why, "registry address has an invalid host name");
		goto done;
	}
	out->loopback = host_is_loopback(out->host);
	out->base = make_base(out, ipv6);
	ret = 0;
done:
	free(path);
	return ret;
}

int registry_url_parse(struct registry_url *out, const char *text, const char **why)
{
	CURLU *h = NULL;
	char *full = NULL;
	size_t prefix;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (!text)
		return fail(why, "empty registry address");
	if (check_raw_address(text, why) < 0)
		return -1;
	prefix = scheme_prefix_len(text);
	if (prefix && !scheme_is_http(text, prefix - 3))
		return fail(why, "unsupported scheme (use https or http)");
	if (check_authority(text + prefix, why) < 0)
		return -1;
	full = prefix ? xstrdup(text) : xstrfmt("https://%s", text);
	h = curl_url();
	if (!h)
		xdie("out of memory");
	if (curl_url_set(h, CURLUPART_URL, full, CURLU_PATH_AS_IS) != CURLUE_OK) {
		fail(why, "registry address is not a valid url");
		goto done;
	}
	ret = fill_from_curl(out, h, why);
done:
	if (ret < 0)
		registry_url_release(out);
	curl_url_cleanup(h);
	free(full);
	return ret;
}

void registry_url_release(struct registry_url *u)
{
	if (!u)
		return;
	free(u->scheme);
	free(u->host);
	free(u->base);
	memset(u, 0, sizeof(*u));
}

/*
 * Checks one path component, [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*, of
 * `len` bytes.
 */
static int component_valid(const char *s, size_t len, const char **why)
{
	size_t i = 0;

	if (len == 0)
		return fail(why, "repository name has an empty path component");
	while (i < len) {
		size_t run = 0;

		if (!is_lower_alnum((unsigned char)s[i]))
			return fail(why, "repository name components must start and end with a lower-case letter or digit");
		while (i < len && is_lower_alnum((unsigned char)s[i]))
			i++;
		if (i == len)
			return 0;
		if (s[i] == '.') {
			run = 1;
		} else if (s[i] == '_') {
			while (i + run < len && s[i + run] == '_')
				run++;
			if (run > 2)
				return fail(why, "repository name has more than two underscores in a row");
		} else if (s[i] == '-') {
			while (i + run < len && s[i + run] == '-')
				run++;
		} else {
			return fail(why, "repository name may only hold lower-case letters, digits, '.', '_', '-' and '/'");
		}
		i += run;
		if (i == len)
			return fail(why, "repository name components must start and end with a lower-case letter or digit");
	}
	return 0;
}

int repository_name_valid(const char *name, const char **why)
{
	size_t len;
	size_t start = 0;

	if (!name || !name[0])
		return fail(why, "empty repository name");
	len = strnlen(name, REPOSITORY_MAX + 1);
	if (len > REPOSITORY_MAX)
		return fail(why, "repository name is longer than 255 characters");
	while (start <= len) {
		const char *slash = memchr(name + start, '/', len - start);
		size_t end = slash ? (size_t)(slash - name) : len;

		if (component_valid(name + start, end - start, why) < 0)
			return -1;
		start = end + 1;
	}
	return 0;
}

int tag_valid(const char *tag, const char **why)
{
	size_t len;
	size_t i;

	if (!tag || !tag[0])
		return fail(why, "empty tag");
	len = strnlen(tag, TAG_MAX + 1);
	if (len > TAG_MAX)
		return fail(why, "tag is longer than 128 characters");
	if (!is_alnum((unsigned char)tag[0]) && tag[0] != '_')
		return fail(why, "tag must start with a letter, a digit or '_'");
	for (i = 1; i < len; i++) {
		unsigned char c = (unsigned char)tag[i];

		if (!is_alnum(c) && c != '_' && c != '.' && c != '-')
			return fail(why, "tag may only hold letters, digits, '_', '.' and '-'");
	}
	return 0;
}

/* [a-z0-9]+([+._-][a-z0-9]+)* over `len` bytes. */
static int algorithm_valid(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (!is_lower_alnum((unsigned char)s[i]))
			return 0;
		while (i < len && is_lower_alnum((unsigned char)s[i]))
			i++;
		if (i == len)
			return 1;
		if (s[i] != '+' && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return 0;
		i++;
		if (i == len)
			return 0;
	}
	return len > 0;
}

static int encoded_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!is_alnum(c) && c != '=' && c != '_' && c != '-')
			return 0;
	}
	return 1;
}

static int hex_valid(const char *s, size_t len, size_t want)
{
	size_t i;

	if (len != want)
		return 0;
	for (i = 0; i < len; i++)
		if (!is_hex_lower((unsigned char)s[i]))
			return 0;
	return 1;
}

int digest_valid(const char *digest, const char **why)
{
	const char *colon;
	size_t len, alg_len;
	const char *enc;
	size_t enc_len;

	if (!digest || !digest[0])
		return fail(why, "empty digest");
	len = strnlen(digest, DIGEST_MAX + 1);
	if (len > DIGEST_MAX)
		return fail(why, "digest is too long");
	colon = memchr(digest, ':', len);
	if (!colon)
		return fail(why, "digest has no ':' between algorithm and encoded part");
	alg_len = (size_t)(colon - digest);
	enc = colon + 1;
	enc_len = len - alg_len - 1;
	if (!algorithm_valid(digest, alg_len))
		return fail(why, "digest algorithm is not well-formed");
	if (alg_len == 6 && !memcmp(digest, "sha256", 6)) {
		if (!hex_valid(enc, enc_len, 64))
			return fail(why, "sha256 digest must be 64 lower-case hex digits");
		return 0;
	}
	if (alg_len == 6 && !memcmp(digest, "sha512", 6)) {
		if (!hex_valid(enc, enc_len, 128))
			return fail(why, "sha512 digest must be 128 lower-case hex digits");
		return 0;
	}
	if (!encoded_valid(enc, enc_len))
		return fail(why, "digest encoded part is not well-formed");
	return 0;
}

/* Returns 1 when the URL in h is http or https. */
static int scheme_ok(CURLU *h)
{
	char *scheme = NULL;
	int ok = 0;

	if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK)
		ok = !strcmp(scheme, "https") || !strcmp(scheme, "http");
	curl_free(scheme);
	return ok;
}

/* Parses an absolute http or https URL; NULL otherwise. */
static CURLU *parse_http_url(const char *url)
{
	CURLU *h;

	if (!url || strnlen(url, LOCATION_MAX + 1) > LOCATION_MAX)
		return NULL;
	h = curl_url();
	if (!h)
		xdie("out of memory");
	if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK || !scheme_ok(h)) {
		curl_url_cleanup(h);
		return NULL;
	}
	return h;
}

/* Compares one part of two parsed URLs; case-insensitive when asked. */
static int same_part(CURLU *a, CURLU *b, CURLUPart part, unsigned int flags, int nocase)
{
	char *sa = NULL, *sb = NULL;
	int same = 0;

	if (curl_url_get(a, part, &sa, flags) == CURLUE_OK &&
	    curl_url_get(b, part, &sb, flags) == CURLUE_OK)
		same = nocase ? !strcasecmp(sa, sb) : !strcmp(sa, sb);
	curl_free(sa);
	curl_free(sb);
	return same;
}

int url_same_origin(const char *a, const char *b)
{
	CURLU *ha = parse_http_url(a);
	CURLU *hb = parse_http_url(b);
	int same = 0;

	if (ha && hb)
		same = same_part(ha, hb, CURLUPART_SCHEME, 0, 1) &&
		       same_part(ha, hb, CURLUPART_HOST, 0, 1) &&
		       same_part(ha, hb, CURLUPART_PORT, CURLU_DEFAULT_PORT, 0);
	curl_url_cleanup(ha);
	curl_url_cleanup(hb);
	return same;
}

char *url_resolve(const char *base, const char *location)
{
	CURLU *h = parse_http_url(base);
	char *url = NULL;
	char *out = NULL;

	if (!h || !location || strnlen(location, LOCATION_MAX + 1) > LOCATION_MAX)
		goto done;
	if (curl_url_set(h, CURLUPART_URL, location, 0) != CURLUE_OK || !scheme_ok(h))
		goto done;
	if (curl_url_get(h, CURLUPART_URL, &url, 0) != CURLUE_OK)
		goto done;
	out = xstrdup(url);
done:
	curl_free(url);
	curl_url_cleanup(h);
	return out;
}

/* Whether a path holds an encoding that a server could decode into a separator or a dot. */
static int path_hides_separator(const char *path)
{
	static const char *const encoded[] = { "%2e", "%2f", "%5c", NULL };
	const char *p;
	size_t i;

	if (strchr(path, '\\'))
		return 1;
	for (p = strchr(path, '%'); p; p = strchr(p + 1, '%'))
		for (i = 0; encoded[i]; i++)
			if (!strncasecmp(p, encoded[i], 3))
				return 1;
	return 0;
}

int url_is_upload_session(const char *url, const char *repository)
{
	CURLU *h = parse_http_url(url);
	char *path = NULL, *prefix = NULL;
	size_t n;
	int ret = 0;

	if (!h || !repository || curl_url_get(h, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		goto done;
	prefix = xstrfmt("/v2/%s/blobs/uploads/", repository);
	n = strlen(prefix);
	ret = !strncmp(path, prefix, n) && path[n] && !path_hides_separator(path);
done:
	free(prefix);
	curl_free(path);
	curl_url_cleanup(h);
	return ret;
}

int url_is_http(const char *url)
{
	CURLU *h = parse_http_url(url);

	curl_url_cleanup(h);
	return h != NULL;
}

int url_is_plain_loopback(const char *url)
{
	CURLU *h = parse_http_url(url);
	char *scheme = NULL, *host = NULL;
	int ret = 0;

	if (h && curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    !strcasecmp(scheme, "http") && curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		size_t n = strlen(host);

		if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
			host[n - 1] = '\0';
			ret = host_is_loopback(host + 1);
		} else {
			ret = host_is_loopback(host);
		}
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(h);
	return ret;
}

/* Whether url starts with origin and then its path, query or fragment: the same origin, no parse needed. */
static int starts_with_origin(const char *url, const char *origin)
{
	size_t n = strlen(origin);

	return n && !strncmp(url, origin, n) && strchr("/?#", url[n]);
}

/*
 * Query parameters shown on any origin: what a token request asks for
 * (the answer to an insufficient_scope is in them), never a secret.
 */
static int query_param_shown(const char *param, size_t len)
{
	static const char *const shown[] = { "scope", "service", NULL };
	size_t i;

	for (i = 0; shown[i]; i++) {
		size_t n = strlen(shown[i]);

		if (len > n && !strncmp(param, shown[i], n) && param[n] == '=')
			return 1;
	}
	return 0;
}

/* Appends query (up to its end or '#') with every parameter but the shown ones dropped. */
static void add_shown_query(struct buf *out, const char *query)
{
	size_t end = strcspn(query, "#");
	int dropped = 0, first = 1;

	while (end) {
		size_t len = strcspn(query, "&#");

		if (len > end)
			len = end;
		if (query_param_shown(query, len)) {
			buf_adds(out, first ? "?" : "&");
			buf_add(out, query, len);
			first = 0;
		} else if (len) {
			dropped = 1;
		}
		query += len;
		end -= len;
		if (end && *query == '&') {
			query++;
			end--;
		}
	}
	if (dropped)
		buf_adds(out, first ? "?<redacted>" : "&<redacted>");
}

char *url_for_display(const char *url, const char *origin)
{
	struct buf out;
	size_t n;

	if (!url)
		return xstrdup("");
	if (origin && (starts_with_origin(url, origin) || url_same_origin(url, origin)))
		return xstrdup(url);
	n = strcspn(url, "?#");
	if (url[n] != '?')
		return xstrndup(url, n);
	buf_init(&out, BUF_TEXT_MAX);
	buf_add(&out, url, n);
	add_shown_query(&out, url + n + 1);
	return buf_detach(&out);
}

/* Where the next http:// or https:// URL in text starts, or NULL. */
static const char *next_url(const char *text)
{
	const char *a = strstr(text, "http://"), *b = strstr(text, "https://");

	return a && (!b || a < b) ? a : b;
}

/*
 * How long the URL at the start of text is: up to white space, a quote,
 * a bracket, or a ',' or ';' that ends a clause (followed by white space
 * or the end); a ',' inside (a token scope's "pull,push") is part of it.
 */
static size_t url_len_in_text(const char *url)
{
	size_t len = 0;

	for (;;) {
		len += strcspn(url + len, " \t\r\n\"'<>()[]{},;");
		if ((url[len] != ',' && url[len] != ';') || !url[len + 1] ||
		    strchr(" \t\r\n", url[len + 1]))
			return len;
		len++;
	}
}

char *text_for_display(const char *text, const char *origin)
{
	struct buf out;
	const char *url;

	buf_init(&out, BUF_TEXT_MAX);
	while (text && (url = next_url(text))) {
		size_t len = url_len_in_text(url);
		char *copy = xstrndup(url, len), *shown = url_for_display(copy, origin);

		buf_add(&out, text, (size_t)(url - text));
		buf_adds(&out, shown);
		free(shown);
		free(copy);
		text = url + len;
	}
	if (text)
		buf_adds(&out, text);
	return buf_detach(&out);
}

/* The shortest encoded part taken for a digest without a repository path before it. */
#define DIGEST_ENCODED_MIN 32

/*
 * Whether the '@' at `at` is an image reference's digest separator
 * ("host/repo@alg:encoded" to the end, well-formed or not) rather than the
 * end of user information: "algorithm:" follows it and no '/' after that,
 * what follows is not "host:port" (an encoded part of one to five
 * digits), and either a repository path comes before it or the encoded
 * part is as long as a real digest's ("alpine@sha256:...").
 */
static int at_starts_digest(const char *auth, const char *at)
{
	const char *colon = strchr(at + 1, ':');
	size_t len;

	if (!colon || strchr(at + 1, '/') || !algorithm_valid(at + 1, (size_t)(colon - at - 1)))
		return 0;
	len = strlen(colon + 1);
	if (len <= 5 && strspn(colon + 1, "0123456789") == len)
		return 0;
	return memchr(auth, '/', (size_t)(at - auth)) || len >= DIGEST_ENCODED_MIN;
}

/* Whether an '@' after the scheme ends user information (one not starting a digest). */
static int has_userinfo(const char *auth)
{
	const char *p;

	for (p = strchr(auth, '@'); p; p = strchr(p + 1, '@'))
		if (!at_starts_digest(auth, p))
			return 1;
	return 0;
}

char *url_redact_userinfo(const char *text)
{
	const char *auth, *at = NULL, *p;

	if (!text)
		return xstrdup("");
	/*
	 * The user information ends at the last '@' that does not start a
	 * digest, wherever the first '/' is: a password typed unencoded may
	 * hold '/', '?', '#', '@' or "://" itself.
	 */
	auth = text + scheme_prefix_len(text);
	for (p = auth; *p; p++)
		if (*p == '@' && !at_starts_digest(auth, p))
			at = p;
	if (!at)
		return xstrdup(text);
	return xstrfmt("%.*s<redacted>%s", (int)(auth - text), text, at);
}

char *text_redact_userinfo(const char *text)
{
	static const char delimiters[] = " \t\r\n'\"()";
	struct buf out;
	size_t len;

	buf_init(&out, BUF_TEXT_MAX);
	while (*text) {
		len = strspn(text, delimiters);
		buf_add(&out, text, len);
		text += len;
		len = strcspn(text, delimiters);
		if (memchr(text, '@', len)) {
			char *word = xstrndup(text, len), *shown = url_redact_userinfo(word);

			buf_adds(&out, shown);
			free(shown);
			free(word);
		} else {
			buf_add(&out, text, len);
		}
		text += len;
	}
	return buf_detach(&out);
}

char *registry_url_hostport(const struct registry_url *u)
{
	int v6 = strchr(u->host, ':') != NULL;

	if (u->port)
		return v6 ? xstrfmt("[%s]:%d", u->host, u->port) : xstrfmt("%s:%d", u->host, u->port);
	return v6 ? xstrfmt("[%s]", u->host) : xstrdup(u->host);
}

int reference_valid(const char *ref, const char **why)
{
	return strchr(ref, ':') ? digest_valid(ref, why) : tag_valid(ref, why);
}

int registry_host_is_docker_hub(const char *host)
{
	return host && (!strcasecmp(host, "docker.io") || !strcasecmp(host, "index.docker.io") ||
			!strcasecmp(host, DOCKER_HUB_API_HOST));
}

char *image_ref_format(const char *repository, const char *ref)
{
	return xstrfmt("%s%s%s", repository, ref && strchr(ref, ':') ? "@" : ":", ref ? ref : "");
}

void image_ref_release(struct image_ref *r)
{
	if (!r)
		return;
	free(r->registry);
	free(r->repository);
	free(r->reference);
	memset(r, 0, sizeof(*r));
}

/* Docker's rule: a first component with a '.' or a ':', or "localhost", is a registry. */
static int looks_like_registry(const char *s, size_t len)
{
	return memchr(s, '.', len) || memchr(s, ':', len) || memchr(s, '[', len) ||
	       (len == 9 && !strncmp(s, "localhost", 9));
}

int image_ref_parse(struct image_ref *out, const char *text, const char **why)
{
	size_t prefix, host_len, len;
	const char *rest, *at, *colon, *slash;
	struct registry_url u;

	memset(out, 0, sizeof(*out));
	if (!text || !*text)
		return fail(why, "empty image reference");
	len = strnlen(text, URL_MAX + 1);
	if (len > URL_MAX)
		return fail(why, "image reference is too long");
	prefix = scheme_prefix_len(text);
	if (prefix && !scheme_is_http(text, prefix - 3))
		return fail(why, "unsupported scheme (use https or http)");
	if (has_userinfo(text + prefix))
		return fail(why, "image reference must not contain user information");
	host_len = strcspn(text + prefix, "/");
	if (prefix || looks_like_registry(text, host_len)) {
		out->registry = xstrndup(text, prefix + host_len);
		rest = text + prefix + host_len;
		rest += *rest == '/';
		out->registry_only = !*rest;
	} else {
		out->registry = xstrdup("docker.io");
		rest = text;
	}
	if (registry_url_parse(&u, out->registry, why) < 0)
		goto fail;
	if (!prefix && u.loopback) {
		char *plain = xstrfmt("http://%s", out->registry);

		free(out->registry);
		out->registry = plain;
	}
	if (out->registry_only) {
		registry_url_release(&u);
		return 0;
	}
	at = strchr(rest, '@');
	slash = strrchr(rest, '/');
	colon = strrchr(rest, ':');
	if (at) {
		out->reference = xstrdup(at + 1);
		if (digest_valid(out->reference, why) < 0)
			goto fail_url;
		len = (size_t)(at - rest);
		colon = memchr(rest, ':', len);
		if (colon && (!slash || colon > slash))
			len = (size_t)(colon - rest); /* repo:tag@digest: the digest wins */
	} else if (colon && (!slash || colon > slash)) {
		out->reference = xstrdup(colon + 1);
		if (tag_valid(out->reference, why) < 0)
			goto fail_url;
		len = (size_t)(colon - rest);
	} else {
		out->reference = xstrdup("latest");
		len = strlen(rest);
	}
	if (!strcmp(u.host, DOCKER_HUB_API_HOST) && !memchr(rest, '/', len))
		out->repository = xstrfmt("library/%.*s", (int)len, rest);
	else
		out->repository = xstrndup(rest, len);
	if (repository_name_valid(out->repository, why) < 0)
		goto fail_url;
	registry_url_release(&u);
	return 0;
fail_url:
	registry_url_release(&u);
fail:
	image_ref_release(out);
	return -1;
}
