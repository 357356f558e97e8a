/*
 * Unit tests for util/ref: registry addresses, repository names, tags,
 * digests, same-origin checks and Location resolution.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "util/ref.h"

/* Parses text and checks every field of the result. */
static void expect_url(const char *text, const char *scheme, const char *host, int port,
		       const char *base, int loopback)
{
	struct registry_url u;
	const char *why = NULL;

	assert_int_equal(registry_url_parse(&u, text, &why), 0);
	assert_null(why);
	assert_string_equal(u.scheme, scheme);
	assert_string_equal(u.host, host);
	assert_int_equal(u.port, port);
	assert_string_equal(u.base, base);
	assert_int_equal(u.loopback, loopback);
	registry_url_release(&u);
	assert_null(u.base);
}

/* Checks that text is refused, with a reason that contains `needle`. */
static void expect_bad_url(const char *text, const char *needle)
{
	struct registry_url u;
	const char *why = NULL;

	assert_int_equal(registry_url_parse(&u, text, &why), -1);
	assert_non_null(why);
	if (!strstr(why, needle))
		fail_msg("'%s': reason '%s' lacks '%s'", text ? text : "(null)", why, needle);
	assert_null(u.scheme);
	assert_null(u.host);
	assert_null(u.base);
}

static void test_url_good(void **state)
{
	(void)state;
	expect_url("registry.example.com", "https", "registry.example.com", 0,
		   "https://registry.example.com", 0);
	expect_url("localhost:5000", "https", "localhost", 5000, "https://localhost:5000", 1);
	expect_url("http://localhost:5000/", "http", "localhost", 5000, "http://localhost:5000", 1);
	expect_url("https://Registry.Example.COM:443/v2", "https", "registry.example.com", 443,
		   "https://registry.example.com:443", 0);
	expect_url("HTTPS://ghcr.io/v2/", "https", "ghcr.io", 0, "https://ghcr.io", 0);
	expect_url("127.0.0.1:5001", "https", "127.0.0.1", 5001, "https://127.0.0.1:5001", 1);
	expect_url("http://127.200.3.4", "http", "127.200.3.4", 0, "http://127.200.3.4", 1);
	expect_url("[::1]:5000", "https", "::1", 5000, "https://[::1]:5000", 1);
	expect_url("http://[::1]/", "http", "::1", 0, "http://[::1]", 1);
	expect_url("https://[2001:db8::1]:8443", "https", "2001:db8::1", 8443,
		   "https://[2001:db8::1]:8443", 0);
	expect_url("128.0.0.1", "https", "128.0.0.1", 0, "https://128.0.0.1", 0);
	expect_url("localhost.example.com", "https", "localhost.example.com", 0,
		   "https://localhost.example.com", 0);
	expect_url("host:1", "https", "host", 1, "https://host:1", 0);
	expect_url("host:65535", "https", "host", 65535, "https://host:65535", 0);
}

static void test_url_bad(void **state)
{
	char long_host[3000];

	(void)state;
	expect_bad_url(NULL, "empty");
	expect_bad_url("", "empty");
	expect_bad_url("ftp://host", "scheme");
	expect_bad_url("file:///etc/passwd", "scheme");
	expect_bad_url("unix://sock", "scheme");
	expect_bad_url("https://user:secret@host", "user information");
	expect_bad_url("user:secret@host", "user information");
	expect_bad_url("https://@host", "user information");
	expect_bad_url("https://user:se/cret@host", "user information");
	expect_bad_url("user:se/cret@host:5000", "user information");
	expect_bad_url("https://host/v2/?x=1", "query");
	expect_bad_url("https://host?", "query");
	expect_bad_url("https://host#frag", "fragment");
	expect_bad_url("https://host/v1/", "path");
	expect_bad_url("https://host/v2/library", "path");
	expect_bad_url("https://host/a/../v2", "path");
	expect_bad_url("https://host//", "path");
	expect_bad_url("https://host:0", "port");
	expect_bad_url("https://host:65536", "url");
	expect_bad_url("host:99999999999", "url");
	expect_bad_url("https://host:", "empty port");
	expect_bad_url("https://", "host");
	expect_bad_url("https:///host", "host");
	expect_bad_url("https://:5000", "url");
	expect_bad_url("ho st", "space");
	expect_bad_url("host\n", "space");
	expect_bad_url("b\xc3\xbc" "cher.example", "ascii");
	expect_bad_url("https://a%2Fb", "url");
	expect_bad_url("https://a~b", "invalid host");
	expect_bad_url("https://a%7Eb", "invalid host");
	expect_bad_url("https://[::1", "url");
	expect_bad_url("https://[fe80::1%25eth0]", "zone");
	expect_bad_url("https://[::zz]", "url");
	memset(long_host, 'a', sizeof(long_host) - 1);
	long_host[sizeof(long_host) - 1] = '\0';
	expect_bad_url(long_host, "too long");
}

static void test_url_why_optional(void **state)
{
	struct registry_url u;

	(void)state;
	assert_int_equal(registry_url_parse(&u, "ftp://x", NULL), -1);
	registry_url_release(NULL);
}

static void expect_repo(const char *name, int ok)
{
	const char *why = NULL;
	int ret = repository_name_valid(name, &why);

	if (ret != (ok ? 0 : -1))
		fail_msg("repository '%s': got %d, want %s", name ? name : "(null)", ret,
			 ok ? "valid" : "invalid");
	if (ok)
		assert_null(why);
	else
		assert_non_null(why);
}

static void test_repository_names(void **state)
{
	char name[300];

	(void)state;
	expect_repo("alpine", 1);
	expect_repo("library/alpine", 1);
	expect_repo("a/b/c/d", 1);
	expect_repo("my.app", 1);
	expect_repo("my_app", 1);
	expect_repo("my__app", 1);
	expect_repo("my-app", 1);
	expect_repo("my---app", 1);
	expect_repo("a0/9z", 1);
	expect_repo("ocidoctor/probe-1a2b", 1);

	expect_repo(NULL, 0);
	expect_repo("", 0);
	expect_repo("Alpine", 0);
	expect_repo("a//b", 0);
	expect_repo("/a", 0);
	expect_repo("a/", 0);
	expect_repo("a..b", 0);
	expect_repo("a.-b", 0);
	expect_repo("a___b", 0);
	expect_repo("-a", 0);
	expect_repo("a-", 0);
	expect_repo("a.", 0);
	expect_repo("_a", 0);
	expect_repo("a:b", 0);
	expect_repo("a b", 0);
	expect_repo("localhost:5000/a", 0);
	expect_repo("a/\xc3\xa9", 0);

	memset(name, 'a', 255);
	name[255] = '\0';
	expect_repo(name, 1);
	name[255] = 'a';
	name[256] = '\0';
	expect_repo(name, 0);
}

static void expect_tag(const char *tag, int ok)
{
	const char *why = NULL;
	int ret = tag_valid(tag, &why);

	if (ret != (ok ? 0 : -1))
		fail_msg("tag '%s': got %d", tag ? tag : "(null)", ret);
	if (!ok)
		assert_non_null(why);
}

static void test_tags(void **state)
{
	char tag[200];

	(void)state;
	expect_tag("latest", 1);
	expect_tag("v1.2.3-rc_1", 1);
	expect_tag("_x", 1);
	expect_tag("A", 1);
	expect_tag("sha256-0123abc", 1);

	expect_tag(NULL, 0);
	expect_tag("", 0);
	expect_tag(".x", 0);
	expect_tag("-x", 0);
	expect_tag("a:b", 0);
	expect_tag("a/b", 0);
	expect_tag("a b", 0);

	memset(tag, 'a', 128);
	tag[128] = '\0';
	expect_tag(tag, 1);
	tag[128] = 'a';
	tag[129] = '\0';
	expect_tag(tag, 0);
}

static void expect_digest(const char *digest, int ok)
{
	const char *why = NULL;
	int ret = digest_valid(digest, &why);

	if (ret != (ok ? 0 : -1))
		fail_msg("digest '%s': got %d", digest ? digest : "(null)", ret);
	if (!ok)
		assert_non_null(why);
}

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_digests(void **state)
{
	(void)state;
	expect_digest("sha256:" HEX64, 1);
	expect_digest("sha512:" HEX64 HEX64, 1);
	expect_digest("blake3:abcDEF012=_-", 1);
	expect_digest("sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564", 1);
	expect_digest("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", 1);

	expect_digest(NULL, 0);
	expect_digest("", 0);
	expect_digest("sha256", 0);
	expect_digest("sha256:", 0);
	expect_digest(":" HEX64, 0);
	expect_digest("sha256:" HEX64 "0", 0);
	expect_digest("sha256:0123", 0);
	expect_digest("sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", 0);
	expect_digest("sha512:" HEX64, 0);
	expect_digest("SHA256:" HEX64, 0);
	expect_digest("sha256+:abc", 0);
	expect_digest("+sha:abc", 0);
	expect_digest("foo:ab/cd", 0);
	expect_digest("foo:ab:cd", 0);
	expect_digest("foo:ab cd", 0);
}

static void test_same_origin(void **state)
{
	(void)state;
	assert_int_equal(url_same_origin("https://a.example/v2/", "https://A.EXAMPLE:443/x"), 1);
	assert_int_equal(url_same_origin("http://a.example/", "http://a.example:80/v2/"), 1);
	assert_int_equal(url_same_origin("https://a:5000/", "https://a:5000/v2/x?y=1"), 1);
	assert_int_equal(url_same_origin("https://[::1]:5000/", "https://[::1]:5000/token"), 1);

	assert_int_equal(url_same_origin("https://a.example/", "http://a.example/"), 0);
	assert_int_equal(url_same_origin("https://a.example/", "https://b.example/"), 0);
	assert_int_equal(url_same_origin("https://a.example/", "https://a.example:8443/"), 0);
	assert_int_equal(url_same_origin("http://a.example/", "http://a.example:443/"), 0);
	assert_int_equal(url_same_origin("https://a.example.evil/", "https://a.example/"), 0);
	assert_int_equal(url_same_origin("ftp://a/", "ftp://a/"), 0);
	assert_int_equal(url_same_origin("a.example", "a.example"), 0);
	assert_int_equal(url_same_origin(NULL, "https://a/"), 0);
	assert_int_equal(url_same_origin("https://a/", NULL), 0);
}

static void test_upload_session(void **state)
{
	const char *repo = "team/scratch";

	(void)state;
	assert_int_equal(url_is_upload_session("https://r.example/v2/team/scratch/blobs/uploads/abc?_state=x", repo), 1);
	assert_int_equal(url_is_upload_session("https://blobs.example:8443/v2/team/scratch/blobs/uploads/a/b", repo), 1);
	/* dot segments are removed the way libcurl sends the URL, and stay inside the route */
	assert_int_equal(url_is_upload_session("http://r/v2/team/scratch/blobs/uploads/x/../y", repo), 1);

	assert_int_equal(url_is_upload_session("http://r/v2/team/scratch/blobs/uploads/", repo), 0);
	assert_int_equal(url_is_upload_session("http://r/v2/team/scratch/blobs/uploads", repo), 0);
	assert_int_equal(url_is_upload_session("http://r/v2/team/precious/manifests/sha256:d", repo), 0);
	assert_int_equal(url_is_upload_session("http://r/v2/team/precious/blobs/uploads/abc", repo), 0);
	assert_int_equal(url_is_upload_session("http://r/v2/team/scratchy/blobs/uploads/abc", repo), 0);
	assert_int_equal(url_is_upload_session("http://r/v2/team/scratch/blobs/sha256:d", repo), 0);
	assert_int_equal(url_is_upload_session("http://r/v2/team/scratch/blobs/uploads/../../../precious/manifests/x", repo), 0);
	assert_int_equal(url_is_upload_session("http://r/v2/team/scratch/blobs/uploads/%2e%2e/%2E%2E/x", repo), 0);
	assert_int_equal(url_is_upload_session("http://r/v2/team/scratch/blobs/uploads/x%2f..%2fy", repo), 0);
	assert_int_equal(url_is_upload_session("http://r/v2/team/scratch/blobs/uploads/x%5C..", repo), 0);
	assert_int_equal(url_is_upload_session("http://r/v2/team/scratch/blobs/uploads/x\\..", repo), 0);
	assert_int_equal(url_is_upload_session("ftp://r/v2/team/scratch/blobs/uploads/abc", repo), 0);
	assert_int_equal(url_is_upload_session("/v2/team/scratch/blobs/uploads/abc", repo), 0);
	assert_int_equal(url_is_upload_session("http://r/v2/team/scratch/blobs/uploads/abc", NULL), 0);
	assert_int_equal(url_is_upload_session(NULL, repo), 0);
}

/* Checks that url_resolve gives `want` (or NULL). */
static void expect_resolve(const char *base, const char *loc, const char *want)
{
	char *got = url_resolve(base, loc);
	const char *b = base ? base : "(null)";
	const char *l = loc ? loc : "(null)";

	if (!want) {
		if (got)
			fail_msg("'%s' + '%s' gave '%s', want NULL", b, l, got);
		return;
	}
	if (!got)
		fail_msg("'%s' + '%s' gave NULL, want '%s'", b, l, want);
	assert_string_equal(got, want);
	free(got);
}

static void test_resolve(void **state)
{
	const char *base = "https://reg.example:5000/v2/a/b/blobs/uploads/";
	char *huge;

	(void)state;
	expect_resolve(base, "/v2/a/b/blobs/uploads/123?_state=x",
		       "https://reg.example:5000/v2/a/b/blobs/uploads/123?_state=x");
	expect_resolve(base, "123", "https://reg.example:5000/v2/a/b/blobs/uploads/123");
	expect_resolve(base, "../x", "https://reg.example:5000/v2/a/b/blobs/x");
	expect_resolve(base, "https://s3.example/bucket/obj?sig=1",
		       "https://s3.example/bucket/obj?sig=1");
	expect_resolve(base, "http://other:8080/x", "http://other:8080/x");
	expect_resolve(base, "//cdn.example/p", "https://cdn.example/p");
	expect_resolve(base, "?q=1", "https://reg.example:5000/v2/a/b/blobs/uploads/?q=1");

	expect_resolve(base, "ftp://x/y", NULL);
	expect_resolve(base, "file:///etc/passwd", NULL);
	expect_resolve(base, "javascript:alert(1)", NULL);
	expect_resolve(base, "/a b", "https://reg.example:5000/a%20b");
	expect_resolve(base, "/a\r\nX-Injected: 1", NULL);
	expect_resolve(base, NULL, NULL);
	expect_resolve("/relative/base", "x", NULL);
	expect_resolve("ftp://host/", "x", NULL);
	expect_resolve(NULL, "https://a/", NULL);

	huge = malloc(20000);
	assert_non_null(huge);
	memset(huge, 'a', 19999);
	huge[0] = '/';
	huge[19999] = '\0';
	expect_resolve(base, huge, NULL);
	free(huge);
}

static void test_docker_hub_names(void **state)
{
	(void)state;
	expect_url("docker.io", "https", "registry-1.docker.io", 0, "https://registry-1.docker.io", 0);
	expect_url("index.docker.io", "https", "registry-1.docker.io", 0, "https://registry-1.docker.io", 0);
	expect_url("https://Docker.IO/", "https", "registry-1.docker.io", 0, "https://registry-1.docker.io", 0);
	expect_url("registry-1.docker.io", "https", "registry-1.docker.io", 0, "https://registry-1.docker.io", 0);
	/* a port means a host of that name, not Docker Hub */
	expect_url("docker.io:5000", "https", "docker.io", 5000, "https://docker.io:5000", 0);
	assert_true(registry_host_is_docker_hub("INDEX.docker.io"));
	assert_false(registry_host_is_docker_hub("docker.iox"));
}

static void expect_image(const char *text, const char *registry, const char *repo, const char *ref)
{
	struct image_ref r;
	const char *why = NULL;

	if (!registry) {
		assert_int_equal(image_ref_parse(&r, text, &why), -1);
		assert_non_null(why);
		assert_null(r.registry);
		return;
	}
	assert_int_equal(image_ref_parse(&r, text, &why), 0);
	assert_string_equal(r.registry, registry);
	if (!repo) {
		assert_true(r.registry_only);
		assert_null(r.repository);
		assert_null(r.reference);
		image_ref_release(&r);
		return;
	}
	assert_false(r.registry_only);
	assert_string_equal(r.repository, repo);
	assert_string_equal(r.reference, ref);
	image_ref_release(&r);
}

static void test_image_refs(void **state)
{
	const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	const char *why = NULL;
	struct image_ref r;
	char text[256];
	char *s;

	(void)state;
	/* loopback without a scheme is plain HTTP, as docker, crane and regctl do it */
	expect_image("localhost:5000/team/app:1.0", "http://localhost:5000", "team/app", "1.0");
	expect_image("localhost/app", "http://localhost", "app", "latest");
	expect_image("127.0.0.1:5000/library/alpine:latest", "http://127.0.0.1:5000", "library/alpine", "latest");
	expect_image("127.9.8.7/o/r", "http://127.9.8.7", "o/r", "latest");
	expect_image("[::1]:5000/x:y", "http://[::1]:5000", "x", "y");
	expect_image("https://127.0.0.1:5000/o/r", "https://127.0.0.1:5000", "o/r", "latest");
	expect_image("https://localhost/o/r", "https://localhost", "o/r", "latest");
	expect_image("128.0.0.1:5000/o/r", "128.0.0.1:5000", "o/r", "latest");
	expect_image("localhost.example.com/o/r", "localhost.example.com", "o/r", "latest");
	expect_image("registry.example.com/a/b/c", "registry.example.com", "a/b/c", "latest");
	expect_image("http://127.0.0.1:5000/library/alpine:3", "http://127.0.0.1:5000", "library/alpine", "3");
	/* a registry alone */
	expect_image("127.0.0.1:5000", "http://127.0.0.1:5000", NULL, NULL);
	expect_image("localhost:5000/", "http://localhost:5000", NULL, NULL);
	expect_image("https://ghcr.io", "https://ghcr.io", NULL, NULL);
	expect_image("alpine", "docker.io", "library/alpine", "latest");
	expect_image("docker.io/alpine:3.20", "docker.io", "library/alpine", "3.20");
	expect_image("bitnami/redis", "docker.io", "bitnami/redis", "latest");
	snprintf(text, sizeof(text), "ghcr.io/o/r@%s", d);
	expect_image(text, "ghcr.io", "o/r", d);
	snprintf(text, sizeof(text), "ghcr.io/o/r:v1@%s", d);
	expect_image(text, "ghcr.io", "o/r", d);
	expect_image("ghcr.io", "ghcr.io", NULL, NULL);
	expect_image("ghcr.io/", "ghcr.io", NULL, NULL);
	expect_image("ghcr.io//o", NULL, NULL, NULL);
	expect_image("ghcr.io:99999", NULL, NULL, NULL);
	expect_image("ghcr.io/Upper", NULL, NULL, NULL);
	expect_image("ghcr.io/o/r@sha256:short", NULL, NULL, NULL);
	expect_image("ghcr.io/o/r:bad tag", NULL, NULL, NULL);
	expect_image("ftp://h/o/r", NULL, NULL, NULL);
	expect_image("", NULL, NULL, NULL);
	expect_image("http://alice:s3cret@h.io/o/r", NULL, NULL, NULL);
	expect_image("alice:s3/cret@h.io:5000/o/r", NULL, NULL, NULL);
	assert_int_equal(image_ref_parse(&r, "http://alice:s3/cret@localhost:5000/o/r", &why), -1);
	assert_string_equal(why, "image reference must not contain user information");
	assert_int_equal(image_ref_parse(&r, "ghcr.io/o/r@sha256:short", &why), -1);
	assert_string_equal(why, "sha256 digest must be 64 lower-case hex digits");

	s = image_ref_format("o/r", d);
	snprintf(text, sizeof(text), "o/r@%s", d);
	assert_string_equal(s, text);
	free(s);
	s = image_ref_format("o/r", "1.0");
	assert_string_equal(s, "o/r:1.0");
	free(s);
}

/* URLs inside a message: another origin's query goes, the registry's own stays. */
static void test_text_for_display(void **state)
{
	const char *origin = "https://reg.example:5000";
	char *t;

	(void)state;
	t = text_for_display("token request to https://auth.example/token?sig=abc&account=u failed (401)",
			     origin);
	assert_string_equal(t, "token request to https://auth.example/token?<redacted> failed (401)");
	free(t);
	/* what a token request asks for stays readable: scope and service, nothing else */
	t = text_for_display("token request to https://auth.example/token?scope=repository:a/b:pull,push"
			     "&sig=abc&service=reg.example&account=alice#frag failed (401)", origin);
	assert_string_equal(t, "token request to https://auth.example/token?scope=repository:a/b:pull,push"
			       "&service=reg.example&<redacted> failed (401)");
	free(t);
	t = text_for_display("https://auth.example/token?service=r&&scope=x", origin);
	assert_string_equal(t, "https://auth.example/token?service=r&scope=x");
	free(t);
	t = text_for_display("https://auth.example/token?scoped=1&scope=", origin);
	assert_string_equal(t, "https://auth.example/token?scope=&<redacted>");
	free(t);
	t = text_for_display("see https://reg.example:5000/v2/a/blobs/uploads/u?_state=s; and "
			     "'http://s3.example/b?X-Amz-Signature=1'", origin);
	assert_string_equal(t, "see https://reg.example:5000/v2/a/blobs/uploads/u?_state=s; and "
			       "'http://s3.example/b?<redacted>'");
	free(t);
	t = text_for_display("no URL here", origin);
	assert_string_equal(t, "no URL here");
	free(t);
	t = text_for_display("", NULL);
	assert_string_equal(t, "");
	free(t);
}

static void expect_redacted(const char *text, const char *want)
{
	char *t = url_redact_userinfo(text);

	if (strcmp(t, want))
		fail_msg("url_redact_userinfo(\"%s\") is \"%s\", not \"%s\"", text, t, want);
	free(t);
}

#define D64 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_redact_userinfo(void **state)
{
	(void)state;
	/* registry addresses */
	expect_redacted("http://alice:s3cret@host", "http://<redacted>@host");
	expect_redacted("https://alice:s3cret@host:5000/v2/", "https://<redacted>@host:5000/v2/");
	expect_redacted("alice:s3cret@host:5000", "<redacted>@host:5000");
	expect_redacted("HTTP://alice@host", "HTTP://<redacted>@host");
	/* a password holding '@', '/', '?', '#' or "://" */
	expect_redacted("http://alice:s3@cret@host", "http://<redacted>@host");
	expect_redacted("http://alice:s3/cret@host", "http://<redacted>@host");
	expect_redacted("http://alice:s3/cret@localhost:5000", "http://<redacted>@localhost:5000");
	expect_redacted("http://alice:s3?c#ret@host/r", "http://<redacted>@host/r");
	expect_redacted("alice:s3://cret@host", "<redacted>@host");
	/* image references: the digest's '@' is no user information */
	expect_redacted("host/repo@" D64, "host/repo@" D64);
	expect_redacted("http://host:5000/team/repo:v1@" D64, "http://host:5000/team/repo:v1@" D64);
	expect_redacted("http://alice:s3cret@localhost/repo@" D64, "http://<redacted>@localhost/repo@" D64);
	expect_redacted("alice:s3/cret@localhost:5000/repo@" D64, "<redacted>@localhost:5000/repo@" D64);
	expect_redacted("alice:s3cret@host/repo:tag", "<redacted>@host/repo:tag");
	expect_redacted("alpine@" D64, "alpine@" D64);
	expect_redacted("alice:s3cret@host:abc", "<redacted>@host:abc");
	/* nothing to redact */
	expect_redacted("https://host:5000", "https://host:5000");
	expect_redacted("library/alpine", "library/alpine");
	expect_redacted("", "");
	expect_redacted(NULL, "");
}

static void test_text_redact_userinfo(void **state)
{
	char *t;

	(void)state;
	t = text_redact_userinfo("unknown command 'http://alice:s3cret@h/r' (see --help)");
	assert_string_equal(t, "unknown command 'http://<redacted>@h/r' (see --help)");
	free(t);
	t = text_redact_userinfo("a alice:s3/cret@h:5000 and \"b@c\" (x@" D64 ") o/r@" D64);
	assert_string_equal(t, "a <redacted>@h:5000 and \"<redacted>@c\" (x@" D64 ") o/r@" D64);
	free(t);
	t = text_redact_userinfo("");
	assert_string_equal(t, "");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_good),
		cmocka_unit_test(test_redact_userinfo),
		cmocka_unit_test(test_text_redact_userinfo),
		cmocka_unit_test(test_url_bad),
		cmocka_unit_test(test_url_why_optional),
		cmocka_unit_test(test_repository_names),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_digests),
		cmocka_unit_test(test_same_origin),
		cmocka_unit_test(test_upload_session),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_docker_hub_names),
		cmocka_unit_test(test_image_refs),
		cmocka_unit_test(test_text_for_display),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
