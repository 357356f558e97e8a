/*
 * Unit tests for secret hygiene: no block freed by ocidoctor's code, by
 * jansson or by libcurl may still hold a secret. The test binary is linked
 * with -Wl,--wrap=free, so every free() of the core library comes through
 * __wrap_free, which looks for MARKER in the block before freeing it;
 * jansson and libcurl are pointed at allocators that free the same way.
 * Each case also shows that the detector sees a leak when nothing wipes.
 */
#define _GNU_SOURCE /* memmem, malloc_usable_size */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "auth/creds.h"
#include "engine/http.h"
#include "auth/token.h"
#include "engine/registry.h"
#include "serve/serve.h"
#include "util/buf.h"

#include <stdio.h>
#include <unistd.h>

#define MARKER "S3CRET-MARKER-4f1a9c"

static int leaks;

void __real_free(void *p);
void __wrap_free(void *p);

void __wrap_free(void *p)
{
	if (p && memmem(p, malloc_usable_size(p), MARKER, strlen(MARKER)))
		leaks++;
	__real_free(p);
}

/* libcurl's allocator: the same heap, freed through the wrapper above. */
static void *c_malloc(size_t n) { return malloc(n); }
static void c_free(void *p) { free(p); }
static void *c_realloc(void *p, size_t n) { return realloc(p, n); }
static char *c_strdup(const char *s) { return strdup(s); }
static void *c_calloc(size_t n, size_t m) { return calloc(n, m); }
static void plain_free(void *p) { free(p); }

static void grow_with_marker(struct buf *b)
{
	int i;

	assert_int_equal(buf_adds(b, MARKER), 0);
	for (i = 0; i < 200; i++)
		assert_int_equal(buf_adds(b, "................................................"), 0);
	buf_release(b);
}

static void test_secret_buffers_leave_no_copy(void **state)
{
	struct buf b;

	(void)state;
	leaks = 0;
	buf_init(&b, 1 << 20);
	grow_with_marker(&b);
	assert_true(leaks > 0); /* realloc and release leave copies behind */
	leaks = 0;
	buf_init_secret(&b, 1 << 20);
	grow_with_marker(&b);
	assert_int_equal(leaks, 0);
}

static void test_header_lists_are_wiped(void **state)
{
	struct curl_slist *h;

	(void)state;
	leaks = 0;
	h = curl_slist_append(NULL, "Authorization: Bearer " MARKER);
	curl_slist_free_all(h);
	assert_true(leaks > 0);
	leaks = 0;
	h = curl_slist_append(NULL, "Accept: */*");
	h = curl_slist_append(h, "Authorization: Bearer " MARKER);
	http_headers_free(h);
	assert_int_equal(leaks, 0);
}

static void test_token_answers_are_wiped(void **state)
{
	const char *body = "{\"token\": \"" MARKER "\", \"expires_in\": 300}";
	char *token;

	(void)state;
	json_set_alloc_funcs(malloc, plain_free);
	leaks = 0;
	token = token_parse(body, strlen(body));
	assert_non_null(token);
	secret_free(token);
	assert_true(leaks > 0); /* jansson's own copy */
	secret_json_allocator();
	leaks = 0;
	token = token_parse(body, strlen(body));
	assert_string_equal(token, MARKER);
	secret_free(token);
	assert_int_equal(leaks, 0);
}

static void test_docker_config_credentials_are_wiped(void **state)
{
	/* base64("alice:S3CRET-MARKER-4f1a9c") */
	const char *config = "{\"auths\": {\"reg.example:5000\": "
			     "{\"auth\": \"YWxpY2U6UzNDUkVULU1BUktFUi00ZjFhOWM=\"}}}";
	struct creds c = { 0 };
	char *helper = NULL, *why = NULL;

	(void)state;
	secret_json_allocator();
	leaks = 0;
	assert_int_equal(creds_from_docker_config(&c, &helper, config, "reg.example:5000", NULL,
						  &why), 0);
	assert_string_equal(c.password, MARKER);
	creds_release(&c);
	free(helper);
	free(why);
	assert_int_equal(leaks, 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void expect_serve_config(const char *text, int ok)
{
	struct serve_config *c = NULL;
	char *why = NULL;

	assert_int_equal(serve_config_parse(&c, "t.yaml", text, strlen(text), &why), ok ? 0 : -1);
	serve_config_free(c);
	free(why);
}

/* serve reads a module's password file and docker config at load; what it drops is wiped. */
static void test_serve_credentials_are_wiped(void **state)
{
	char dir[] = "/tmp/ocidoctor-wipe-XXXXXX";
	char pw[64], docker[64], text[1024];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(pw, sizeof(pw), "%s/pw", dir);
	snprintf(docker, sizeof(docker), "%s/config.json", dir);
	write_file(pw, MARKER "\n");
	write_file(docker, "{\"auths\": {\"reg.example:5000\": "
			   "{\"auth\": \"YWxpY2U6UzNDUkVULU1BUktFUi00ZjFhOWM=\"}}}");
	leaks = 0;
	snprintf(text, sizeof(text),
		 "modules:\n  p:\n    credentials: {username: u, password_file: %s}\n"
		 "    registries: [reg.example]\n  d:\n    credentials: {docker_config: %s}\n"
		 "    registries: [reg.example]\n", pw, dir);
	expect_serve_config(text, 1);
	/* refused after the first password was read, and on the second read */
	snprintf(text, sizeof(text),
		 "modules:\n  p:\n    credentials: {username: u, password_file: %s}\n"
		 "    credentials: {username: v, password_file: %s}\n    registries: [reg.example]\n",
		 pw, pw);
	expect_serve_config(text, 0);
	snprintf(text, sizeof(text),
		 "modules:\n  p:\n    credentials: {username: u, password_file: %s}\n"
		 "    colour: blue\n", pw);
	expect_serve_config(text, 0);
	assert_int_equal(leaks, 0);
	unlink(pw);
	unlink(docker);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_buffers_leave_no_copy),
		cmocka_unit_test(test_header_lists_are_wiped),
		cmocka_unit_test(test_token_answers_are_wiped),
		cmocka_unit_test(test_docker_config_credentials_are_wiped),
		cmocka_unit_test(test_serve_credentials_are_wiped),
	};

	if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, c_malloc, c_free, c_realloc, c_strdup,
				 c_calloc) != CURLE_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
