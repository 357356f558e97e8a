/*
 * ref: validation of what the user names and what a server hands back:
 * the registry URL, repository names, tags and digests.
 *
 * Everything here is pure: no I/O, no allocation except where a function
 * says it returns a newly allocated value. Functions return 0 when the
 * input is valid and -1 otherwise; on -1 they write one short reason
 * (lower-case, no full stop) to *why when why is not NULL. The reason is a
 * static string.
 */
#ifndef OCIDOCTOR_REF_H
#define OCIDOCTOR_REF_H

#include <stddef.h>

/* A parsed registry address. */
struct registry_url {
	char *scheme;  /* "https" or "http" */
	char *host;    /* host name or IP literal, without brackets */
	int port;      /* explicit port, or 0 when none was given */
	char *base;    /* "scheme://host[:port]" with IPv6 in brackets, no trailing slash */
	int loopback;  /* host is localhost, 127.0.0.0/8 or ::1 */
};

/*
 * Parses "https://host[:port]", "http://host[:port]" or "host[:port]"
 * (which means https). A trailing "/" or "/v2" or "/v2/" is accepted and
 * dropped; any other path, a query, a fragment or user information
 * ("user:pass@") is refused. Uses libcurl's URL parser. docker.io and
 * index.docker.io without a port become registry-1.docker.io, where
 * Docker Hub's API is, as every client does it.
 */
int registry_url_parse(struct registry_url *out, const char *text, const char **why);
void registry_url_release(struct registry_url *u);

/* "host[:port]" as credential stores key it, IPv6 in brackets; newly allocated. */
char *registry_url_hostport(const struct registry_url *u);

/* The distribution grammar: path components [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
 * joined by "/", 255 characters at most. */
int repository_name_valid(const char *name, const char **why);

/* [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127} */
int tag_valid(const char *tag, const char **why);

/*
 * algorithm ":" encoded, per the OCI image spec; for sha256 the encoded
 * part must be exactly 64 lower-case hex digits, for sha512 128. Other
 * registered-looking algorithms ([a-z0-9]+([+._-][a-z0-9]+)*) with an
 * encoded part of [a-zA-Z0-9=_-]+ are accepted as well-formed.
 */
int digest_valid(const char *digest, const char **why);

/* A tag, or a digest when it holds a ':'. */
int reference_valid(const char *ref, const char **why);

/* Where Docker Hub's API answers: docker.io and index.docker.io map to it. */
#define DOCKER_HUB_API_HOST "registry-1.docker.io"

/* docker.io, index.docker.io or registry-1.docker.io, in any case. */
int registry_host_is_docker_hub(const char *host);

/*
 * An image reference as users write it: [REGISTRY/]REPOSITORY[:TAG][@DIGEST],
 * the registry optionally with http:// or https://. As docker does, the
 * first component is the registry when it holds a '.' or a ':' or is
 * "localhost"; otherwise the registry is docker.io, where a one-component
 * repository is under library/. The tag defaults to latest; with a digest,
 * the digest is the reference. All three fields are newly allocated.
 *
 * As docker, crane and regctl do, a registry without a scheme on a
 * loopback host (localhost, 127.0.0.0/8, ::1) is plain HTTP: registry is
 * then "http://HOST[:PORT]"; "https://" written out keeps HTTPS. A text
 * that names a registry and nothing else (registry_only) is not an error.
 */
struct image_ref {
	char *registry;
	char *repository;
	char *reference;   /* a tag, or a digest */
	int registry_only; /* the text named a registry alone ("HOST[:PORT]", maybe with a
	                      scheme and a trailing '/'): repository and reference are NULL */
};

int image_ref_parse(struct image_ref *out, const char *text, const char **why);
void image_ref_release(struct image_ref *r);

/* "repository:tag", or "repository@digest" when ref is a digest; newly allocated. */
char *image_ref_format(const char *repository, const char *ref);

/* Returns 1 when the two absolute URLs have the same scheme, host
 * (case-insensitive) and effective port (443 for https, 80 for http);
 * 0 otherwise, and when either is NULL or not an http(s) URL. */
int url_same_origin(const char *a, const char *b);

/*
 * Resolves `location` (absolute, or relative to `base`, an absolute URL)
 * into a newly allocated absolute URL. Returns NULL when it cannot be
 * resolved or is not http/https.
 */
char *url_resolve(const char *base, const char *location);

/*
 * 1 when url is an http(s) URL whose path, after libcurl's removal of dot
 * segments, is an upload session of `repository`: "/v2/REPOSITORY/blobs/uploads/"
 * and more, with no encoded dot, slash or backslash that a server could
 * decode into another path. 0 otherwise, and when repository is NULL.
 */
int url_is_upload_session(const char *url, const char *repository);

/* 1 when url is an absolute http or https URL, else 0. */
int url_is_http(const char *url);

/* 1 when url is a plain http:// URL to a loopback host, else 0. */
int url_is_plain_loopback(const char *url);

/*
 * The URL as it may be shown (reports, evidence, the -v trace): unchanged
 * on `origin`'s origin; elsewhere (blob storage, a token realm) without its
 * fragment and its query parameters, which may hold a presigned URL's
 * signature, except `scope` and `service` (what a token request asks for,
 * needed to read an insufficient_scope). Parameters that were dropped
 * leave "<redacted>" ("?scope=...&service=...&<redacted>", or
 * "?<redacted>" when none is shown). Newly allocated.
 */
char *url_for_display(const char *url, const char *origin);

/*
 * text with every http:// or https:// URL in it passed through
 * url_for_display, for messages that quote URLs. Newly allocated.
 */
char *text_for_display(const char *text, const char *origin);

/*
 * text (a registry address, an image reference or a proxy URL) with its
 * user information ("user:password@" after "scheme://", or before the
 * host of "user:password@host") replaced by "<redacted>@", for echoing
 * what a user typed. Everything up to the last '@' counts, so a password
 * holding '/', '?', '#' or '@' is hidden too; the '@' of a digest
 * ("host/repo@sha256:...") is kept. Newly allocated.
 */
char *url_redact_userinfo(const char *text);

/*
 * text (a message) with url_redact_userinfo applied to every word in it
 * that holds an '@' (words end at white space, quotes and parentheses).
 * Newly allocated.
 */
char *text_redact_userinfo(const char *text);

#endif
