/*
 * Unit tests for auth/token: the token cache fetches each (realm,
 * service, scope) once however many threads ask at the same time, caches
 * a failure too, refuses a realm that is not HTTP(S), and a caller that
 * waited for another's fetch continues its round-trip chain after it. A
 * small token server on a loopback port counts the requests it answers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/token.h"
#include "loopback.h"
#include "util/buf.h"

/* ---- a token server: "/ok" answers a token after 200 ms, anything else 401 ---- */

struct server {
	struct loopback_server ls; /* its lock guards the counters too */
	int requests;
	int with_basic;      /* requests that carried Basic credentials */
};

static struct server srv;

static void serve_one(int c)
{
	char req[8192];
	const char *answer;
	char out[512];
	const struct timespec pause = { 0, 200 * 1000 * 1000 };

	loopback_read_head(c, req, sizeof(req));
	pthread_mutex_lock(&srv.ls.lock);
	srv.requests++;
	if (strstr(req, "Authorization: Basic "))
		srv.with_basic++;
	pthread_mutex_unlock(&srv.ls.lock);
	nanosleep(&pause, NULL); /* long enough for every asking thread to be waiting */
	if (!strncmp(req, "GET /ok", 7)) {
		const char *body = "{\"token\":\"tok-123\"}";

		snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", strlen(body), body);
		answer = out;
	} else {
		answer = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	}
	if (write(c, answer, strlen(answer)) < 0)
		fprintf(stderr, "token server: write failed\n");
	close(c);
}

static void *server_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd p = { .fd = srv.ls.fd, .events = POLLIN };

		if (loopback_server_stopping(&srv.ls))
			break;
		if (poll(&p, 1, 50) == 1) {
			int c = accept(srv.ls.fd, NULL, NULL);

			if (c >= 0)
				serve_one(c);
		}
	}
	return NULL;
}

static int server_requests(void)
{
	int n;

	pthread_mutex_lock(&srv.ls.lock);
	n = srv.requests;
	pthread_mutex_unlock(&srv.ls.lock);
	return n;
}

/* ---- an engine its senders drive ---- */

struct fixture {
	struct engine *engine;
	struct token_cache *cache;
	char realm_ok[64], realm_fail[64];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct engine_options eo = { .timeout_ms = 20000 };

	curl_global_init(CURL_GLOBAL_DEFAULT);
	srv.requests = srv.with_basic = 0;
	if (!fx || loopback_server_start(&srv.ls, 64, server_main) < 0)
		return -1;
	snprintf(fx->realm_ok, sizeof(fx->realm_ok), "http://127.0.0.1:%d/ok", srv.ls.port);
	snprintf(fx->realm_fail, sizeof(fx->realm_fail), "http://127.0.0.1:%d/fail", srv.ls.port);
	if (engine_new(&fx->engine, &eo) < 0)
		return -1;
	fx->cache = token_cache_new();
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	token_cache_free(fx->cache);
	engine_free(fx->engine);
	loopback_server_stop(&srv.ls);
	free(fx);
	curl_global_cleanup();
	return 0;
}

/* ---- askers ---- */

struct asker {
	struct fixture *fx;
	const char *realm;
	const char *scope;
	const struct creds *creds;
	long depth;          /* in: the chain so far; out: after the token */
	long status;
	char *token;
	char *why;
	pthread_t tid;
};

static void *ask_main(void *arg)
{
	struct asker *a = arg;
	struct challenge c = { .scheme = AUTH_BEARER, .realm = (char *)a->realm,
			       .service = (char *)"test" };
	struct token_fetch f = {
		.engine = a->fx->engine, .origin = "http://127.0.0.1", .creds = a->creds,
		.depth = &a->depth,
	};

	a->token = token_get(a->fx->cache, &f, &c, a->scope, &a->status, &a->why);
	return NULL;
}

static void asker_release(struct asker *a)
{
	secret_free(a->token);
	free(a->why);
}

#define ASKERS 8

static void test_one_fetch_for_many_threads(void **state)
{
	struct fixture *fx = *state;
	struct asker as[ASKERS];
	int i;

	for (i = 0; i < ASKERS; i++) {
		as[i] = (struct asker){ .fx = fx, .realm = fx->realm_ok,
					.scope = "repository:a/b:pull", .depth = i };
		pthread_create(&as[i].tid, NULL, ask_main, &as[i]);
	}
	for (i = 0; i < ASKERS; i++)
		pthread_join(as[i].tid, NULL);
	assert_int_equal(server_requests(), 1);
	for (i = 0; i < ASKERS; i++) {
		assert_non_null(as[i].token);
		assert_string_equal(as[i].token, "tok-123");
		assert_int_equal(as[i].status, 200);
		assert_null(as[i].why);
		/* the fetching thread's chain, plus one, at the least */
		assert_true(as[i].depth >= 1);
		assert_true(as[i].depth >= i);
		asker_release(&as[i]);
	}

	/* asked again later: from the cache, no request, chain joined */
	as[0] = (struct asker){ .fx = fx, .realm = fx->realm_ok, .scope = "repository:a/b:pull" };
	ask_main(&as[0]);
	assert_int_equal(server_requests(), 1);
	assert_string_equal(as[0].token, "tok-123");
	assert_true(as[0].depth >= 1);
	asker_release(&as[0]);

	/* another scope is another token */
	as[0] = (struct asker){ .fx = fx, .realm = fx->realm_ok, .scope = "repository:a/c:pull" };
	ask_main(&as[0]);
	assert_int_equal(server_requests(), 2);
	assert_string_equal(as[0].token, "tok-123");
	assert_int_equal(as[0].depth, 1);
	asker_release(&as[0]);
}

static void test_failure_is_cached(void **state)
{
	struct fixture *fx = *state;
	struct asker a;
	int round;

	for (round = 0; round < 2; round++) {
		a = (struct asker){ .fx = fx, .realm = fx->realm_fail, .scope = "repository:x:pull" };
		ask_main(&a);
		assert_null(a.token);
		assert_int_equal(a.status, 401);
		assert_non_null(a.why);
		assert_non_null(strstr(a.why, "credentials rejected"));
		asker_release(&a);
		assert_int_equal(server_requests(), 1);
	}
}

static void test_realm_must_be_http(void **state)
{
	struct fixture *fx = *state;
	struct asker a = { .fx = fx, .realm = "ftp://127.0.0.1/token", .scope = "s" };

	ask_main(&a);
	assert_null(a.token);
	assert_int_equal(a.status, 0);
	assert_non_null(strstr(a.why, "is not an HTTP(S) URL"));
	asker_release(&a);
	assert_int_equal(server_requests(), 0);
	assert_int_equal(a.depth, 0);
}

static void test_basic_to_loopback_realm(void **state)
{
	struct fixture *fx = *state;
	struct creds cr = { .source = CRED_FLAG, .username = (char *)"u", .password = (char *)"p" };
	struct asker a = { .fx = fx, .realm = fx->realm_ok, .scope = "repository:a/b:pull",
			   .creds = &cr };

	ask_main(&a);
	assert_string_equal(a.token, "tok-123");
	asker_release(&a);
	pthread_mutex_lock(&srv.ls.lock);
	assert_int_equal(srv.with_basic, 1);
	pthread_mutex_unlock(&srv.ls.lock);
}

static void test_plain_http_realm_gets_no_credentials(void **state)
{
	struct fixture *fx = *state;
	struct creds cr = { .source = CRED_FLAG, .username = (char *)"u", .password = (char *)"p" };
	struct asker a = { .fx = fx, .realm = "http://token.example.invalid/token", .scope = "s",
			   .creds = &cr };

	ask_main(&a);
	assert_null(a.token);
	assert_non_null(strstr(a.why, "refusing to send credentials"));
	asker_release(&a);
}

static void test_parse(void **state)
{
	char *t;

	(void)state;
	t = token_parse("{\"token\":\"a\"}", 13);
	assert_string_equal(t, "a");
	free(t);
	t = token_parse("{\"access_token\":\"b\"}", 20);
	assert_string_equal(t, "b");
	free(t);
	assert_null(token_parse("{\"token\":\"a\\nb\"}", 16));
	assert_null(token_parse("[]", 2));
}

/* A token's lifetime: expires_in, else the JWT's exp - iat, else unknown (0). */
static void test_lifetime(void **state)
{
	static const char *const cases[][2] = {
		{ "{\"token\":\"abc\",\"expires_in\":60}", "60" },
		/* exp 1300, iat 1000 (base64url with and without a padding remainder) */
		{ "{\"token\":\"eyJhbGciOiJub25lIn0.eyJleHAiOjEzMDAsImlhdCI6MTAwMCwic3ViIjoieCJ9.c2ln\"}", "300" },
		{ "{\"access_token\":\"eyJhbGciOiJub25lIn0.eyJleHAiOjEzMDAsImlhdCI6MTAwMH0.c2ln\"}", "300" },
		{ "{\"token\":\"eyJhbGciOiJub25lIn0.eyJleHAiOjEzMDAsImlhdCI6MTAwMH0.c2ln\",\"expires_in\":7}", "7" },
		{ "{\"token\":\"opaque\"}", "0" },
		{ "{\"token\":\"a.!!!.c\"}", "0" },
		{ "{\"token\":\"abc\",\"expires_in\":-5}", "0" },
		{ "{\"token\":\"abc\",\"expires_in\":\"60\"}", "0" },
		{ "not json", "0" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		if (token_lifetime(cases[i][0], strlen(cases[i][0])) != atol(cases[i][1]))
			fail_msg("%s: %ld, not %s", cases[i][0],
				 token_lifetime(cases[i][0], strlen(cases[i][0])), cases[i][1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_fetch_for_many_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_is_cached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_realm_must_be_http, setup, teardown),
		cmocka_unit_test_setup_teardown(test_basic_to_loopback_realm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_http_realm_gets_no_credentials, setup,
						teardown),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_lifetime),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
