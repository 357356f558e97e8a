/*
 * Unit tests for auth/challenge: WWW-Authenticate values as real
 * registries send them, and the malformed ones a hostile server could.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "auth/challenge.h"

/* Compares a field that may be NULL. */
static void check_field(const char *what, const char *got, const char *want)
{
	if (!want && !got)
		return;
	if (!want || !got || strcmp(want, got))
		fail_msg("%s: got '%s', want '%s'", what, got ? got : "(null)",
			 want ? want : "(null)");
}

/* Parses value and checks every field of the chosen challenge. */
static void expect(const char *value, enum auth_scheme scheme, const char *name,
		   const char *realm, const char *service, const char *scope, const char *error)
{
	struct challenge c;

	if (challenge_parse(&c, value) != 0)
		fail_msg("'%s' did not parse", value);
	assert_int_equal(c.scheme, scheme);
	check_field("scheme_name", c.scheme_name, name);
	check_field("realm", c.realm, realm);
	check_field("service", c.service, service);
	check_field("scope", c.scope, scope);
	check_field("error", c.error, error);
	challenge_release(&c);
	assert_null(c.scheme_name);
	assert_int_equal(c.scheme, AUTH_NONE);
}

/* Checks that value is malformed and that *out is left zeroed. */
static void expect_bad(const char *value)
{
	struct challenge c;

	memset(&c, 0xa5, sizeof(c));
	if (challenge_parse(&c, value) != -1)
		fail_msg("'%s' parsed, want malformed", value ? value : "(null)");
	assert_int_equal(c.scheme, AUTH_NONE);
	assert_null(c.scheme_name);
	assert_null(c.realm);
	assert_null(c.service);
	assert_null(c.scope);
	assert_null(c.error);
}

static void test_real_registries(void **state)
{
	(void)state;
	expect("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
	       "scope=\"repository:library/alpine:pull\"",
	       AUTH_BEARER, "Bearer", "https://auth.docker.io/token", "registry.docker.io",
	       "repository:library/alpine:pull", NULL);
	expect("Basic realm=\"Registry Realm\"", AUTH_BASIC, "Basic", "Registry Realm", NULL,
	       NULL, NULL);
	expect("Bearer realm=\"http://127.0.0.1:5001/token\",service=\"test\","
	       "scope=\"repository:a/b:pull,push\",error=\"insufficient_scope\"",
	       AUTH_BEARER, "Bearer", "http://127.0.0.1:5001/token", "test",
	       "repository:a/b:pull,push", "insufficient_scope");
	expect("Bearer realm=\"https://r/token\",service=\"r\",scope=\"repository:localhost:5000/foo:pull\"",
	       AUTH_BEARER, "Bearer", "https://r/token", "r", "repository:localhost:5000/foo:pull",
	       NULL);
	expect("Bearer realm=\"https://r/token\",scope=\"repository:a:pull repository:b:pull,push\"",
	       AUTH_BEARER, "Bearer", "https://r/token", NULL,
	       "repository:a:pull repository:b:pull,push", NULL);
	expect("Basic realm=\"https://123.dkr.ecr.us-east-1.amazonaws.com/\",service=\"ecr.amazonaws.com\"",
	       AUTH_BASIC, "Basic", "https://123.dkr.ecr.us-east-1.amazonaws.com/",
	       "ecr.amazonaws.com", NULL, NULL);
	expect("Bearer realm=\"https://ghcr.io/token\",service=\"ghcr.io\",scope=\"repository:user/image:pull\"",
	       AUTH_BEARER, "Bearer", "https://ghcr.io/token", "ghcr.io",
	       "repository:user/image:pull", NULL);
}

static void test_syntax_variants(void **state)
{
	(void)state;
	/* case-insensitive scheme and parameter names, scheme kept as sent */
	expect("bEaReR REALM=\"https://a/t\", Service=\"s\"", AUTH_BEARER, "bEaReR",
	       "https://a/t", "s", NULL, NULL);
	/* token values, and whitespace around "=" */
	expect("Bearer realm = \"https://a/t\" , service = reg , error=invalid_token",
	       AUTH_BEARER, "Bearer", "https://a/t", "reg", NULL, "invalid_token");
	/* an unquoted URL */
	expect("Bearer realm=https://a/t?x=1,service=s", AUTH_BEARER, "Bearer",
	       "https://a/t?x=1", "s", NULL, NULL);
	/* escapes inside quoted strings */
	expect("Basic realm=\"say \\\"hi\\\" \\\\ there\"", AUTH_BASIC, "Basic",
	       "say \"hi\" \\ there", NULL, NULL, NULL);
	/* a comma inside a quoted string is not a separator */
	expect("Bearer realm=\"https://a/t\",scope=\"repository:x:pull,push\",service=\"s\"",
	       AUTH_BEARER, "Bearer", "https://a/t", "s", "repository:x:pull,push", NULL);
	/* missing commas between parameters */
	expect("Bearer realm=\"https://a/t\" service=\"s\"scope=\"x\"", AUTH_BEARER, "Bearer",
	       "https://a/t", "s", "x", NULL);
	/* empty list elements and leading/trailing commas */
	expect(" , Bearer realm=\"https://a/t\",, ,service=\"s\", ", AUTH_BEARER, "Bearer",
	       "https://a/t", "s", NULL, NULL);
	/* unknown parameters are ignored */
	expect("Bearer foo=bar,realm=\"https://a/t\",charset=\"UTF-8\"", AUTH_BEARER, "Bearer",
	       "https://a/t", NULL, NULL, NULL);
	/* a Basic challenge without parameters */
	expect("Basic", AUTH_BASIC, "Basic", NULL, NULL, NULL, NULL);
	/* an empty quoted value */
	expect("Basic realm=\"\"", AUTH_BASIC, "Basic", "", NULL, NULL, NULL);
	/* trailing CR LF from a raw header line */
	expect("Basic realm=\"r\"\r\n", AUTH_BASIC, "Basic", "r", NULL, NULL, NULL);
	/* non-ASCII bytes (obs-text) inside a quoted string */
	expect("Basic realm=\"r\xc3\xa9\"", AUTH_BASIC, "Basic", "r\xc3\xa9", NULL, NULL, NULL);
	/* a tab inside a quoted string */
	expect("Basic realm=\"a\tb\"", AUTH_BASIC, "Basic", "a\tb", NULL, NULL, NULL);
}

static void test_several_challenges(void **state)
{
	(void)state;
	/* Bearer wins over an earlier Basic */
	expect("Basic realm=\"b\", Bearer realm=\"https://a/t\",service=\"s\"", AUTH_BEARER,
	       "Bearer", "https://a/t", "s", NULL, NULL);
	/* Basic wins over an earlier unknown scheme with a token68 */
	expect("Negotiate abc123==, Basic realm=\"b\"", AUTH_BASIC, "Basic", "b", NULL, NULL, NULL);
	/* the RFC 7235 example */
	expect("Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic realm=\"simple\"",
	       AUTH_BASIC, "Basic", "simple", NULL, NULL, NULL);
	/* the first Bearer wins */
	expect("Bearer realm=\"https://one/t\", Bearer realm=\"https://two/t\"", AUTH_BEARER,
	       "Bearer", "https://one/t", NULL, NULL, NULL);
	/* a challenge without a comma before it */
	expect("Basic realm=\"b\" Bearer realm=\"https://a/t\"", AUTH_BEARER, "Bearer",
	       "https://a/t", NULL, NULL, NULL);
	/* only an unknown scheme */
	expect("Negotiate", AUTH_OTHER, "Negotiate", NULL, NULL, NULL, NULL);
	expect("Digest realm=\"d\", nonce=\"n\", qop=\"auth\"", AUTH_OTHER, "Digest", "d", NULL,
	       NULL, NULL);
	/* parameters of a later unknown challenge do not leak into the Bearer one */
	expect("Bearer realm=\"https://a/t\", Other service=\"nope\"", AUTH_BEARER, "Bearer",
	       "https://a/t", NULL, NULL, NULL);
}

static void test_malformed(void **state)
{
	char *big;

	(void)state;
	expect_bad(NULL);
	expect_bad("");
	expect_bad("   ");
	expect_bad(", ,");
	/* Bearer without a realm */
	expect_bad("Bearer");
	expect_bad("Bearer service=\"s\"");
	expect_bad("Bearer realm=\"\"");
	expect_bad("Basic realm=\"b\", Bearer service=\"s\"");
	/* unterminated quoted strings and dangling escapes */
	expect_bad("Bearer realm=\"https://a/t");
	expect_bad("Bearer realm=\"https://a/t\\");
	expect_bad("Basic realm=\"a\\\"");
	/* control characters */
	expect_bad("Basic realm=\"a\x01z\"");
	expect_bad("Basic realm=\"a\nb\"");
	expect_bad("Basic realm=\"a\\\x7f\"");
	/* a parameter without a scheme, or without a value */
	expect_bad("realm=\"x\"");
	expect_bad("=x");
	expect_bad("Bearer realm=\"https://a/t\", service=");
	expect_bad("Bearer realm=\"https://a/t\", service=,");
	/* stray characters */
	expect_bad("Bearer realm=\"https://a/t\"; service=\"s\"");
	expect_bad("Bearer realm=\"https://a/t\" \"junk\"");
	expect_bad("Bearer=\"x\"");
	expect_bad("Bear\"er realm=\"x\"");
	/* repeated parameters */
	expect_bad("Bearer realm=\"https://a/t\", realm=\"https://evil/t\"");
	expect_bad("Basic realm=a, REALM=b");

	/* values are limited to 4096 bytes */
	big = malloc(5000 + 64);
	assert_non_null(big);
	memcpy(big, "Basic realm=\"", 13);
	memset(big + 13, 'a', 4097);
	memcpy(big + 13 + 4097, "\"", 2);
	expect_bad(big);
	memcpy(big + 13 + 4096, "\"", 2);
	expect("Basic realm=\"a\"", AUTH_BASIC, "Basic", "a", NULL, NULL, NULL);
	{
		struct challenge c;

		assert_int_equal(challenge_parse(&c, big), 0);
		assert_int_equal(strlen(c.realm), 4096);
		challenge_release(&c);
	}
	/* and so are names */
	memset(big, 'B', 5000);
	big[5000] = '\0';
	expect_bad(big);
	free(big);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(auth_scheme_name(AUTH_NONE), "none");
	assert_string_equal(auth_scheme_name(AUTH_BASIC), "Basic");
	assert_string_equal(auth_scheme_name(AUTH_BEARER), "Bearer");
	assert_string_equal(auth_scheme_name(AUTH_OTHER), "other");
	challenge_release(NULL);
}

static int realm_usable(const char *header)
{
	struct challenge c;
	int ok;

	assert_int_equal(challenge_parse(&c, header), 0);
	ok = challenge_realm_usable(&c);
	challenge_release(&c);
	return ok;
}

static void test_realm_scheme(void **state)
{
	(void)state;
	assert_true(realm_usable("Bearer realm=\"https://auth.docker.io/token\",service=\"x\""));
	assert_true(realm_usable("Bearer realm=\"HTTP://127.0.0.1:5001/token\""));
	assert_false(realm_usable("Bearer realm=\"ftp://auth.example/token\""));
	assert_false(realm_usable("Bearer realm=\"/token\""));
	assert_false(realm_usable("Bearer realm=\"https://\""));
	assert_true(realm_usable("Basic realm=\"ftp-is-just-a-name\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_registries),
		cmocka_unit_test(test_syntax_variants),
		cmocka_unit_test(test_several_challenges),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_realm_scheme),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
