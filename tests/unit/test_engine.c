/*
 * Unit tests for engine/http: many threads send at once on one engine,
 * which its senders drive themselves; every answer reaches the sender
 * that asked, a batch of requests comes back whole, and a request that
 * is never answered ends at its deadline while the others go on. A small
 * keep-alive HTTP server on a loopback port answers each GET with its own
 * path, and never answers GET /hang.
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

#include "engine/http.h"
#include "loopback.h"
#include "util/clock.h"

/* ---- the server: one thread, poll over every connection ---- */

#define MAX_CONNS 128

struct conn {
	int fd;
	char in[4096];
	size_t len;
};

static struct {
	struct loopback_server ls; /* its lock guards requests too */
	struct conn conns[MAX_CONNS];
	int requests;
	int accepted;              /* connections taken */
} srv;

static void answer(struct conn *c, const char *path)
{
	char out[512];
	int n = snprintf(out, sizeof(out),
			 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s",
			 strlen(path), path);

	if (write(c->fd, out, (size_t)n) != n)
		fprintf(stderr, "test server: short write\n");
}

/* Answers every whole request in c's buffer (GET PATH ...\r\n\r\n). */
static void serve_requests(struct conn *c)
{
	char *end;

	while ((end = strstr(c->in, "\r\n\r\n"))) {
		char path[256] = "";
		size_t used = (size_t)(end + 4 - c->in);

		sscanf(c->in, "GET %255s", path);
		pthread_mutex_lock(&srv.ls.lock);
		srv.requests++;
		pthread_mutex_unlock(&srv.ls.lock);
		if (strcmp(path, "/hang"))
			answer(c, path);
		memmove(c->in, c->in + used, c->len - used + 1);
		c->len -= used;
	}
}

static void *server_main(void *arg)
{
	struct pollfd p[MAX_CONNS + 1];
	int i;

	(void)arg;
	for (i = 0; i < MAX_CONNS; i++)
		srv.conns[i].fd = -1;
	for (;;) {
		if (loopback_server_stopping(&srv.ls))
			break;
		p[0] = (struct pollfd){ .fd = srv.ls.fd, .events = POLLIN };
		for (i = 0; i < MAX_CONNS; i++)
			p[i + 1] = (struct pollfd){ .fd = srv.conns[i].fd, .events = POLLIN };
		if (poll(p, MAX_CONNS + 1, 50) <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			int c = accept(srv.ls.fd, NULL, NULL);

			for (i = 0; c >= 0 && i < MAX_CONNS && srv.conns[i].fd >= 0; i++)
				;
			if (c >= 0 && i < MAX_CONNS)
				srv.conns[i] = (struct conn){ .fd = c };
			else if (c >= 0)
				close(c);
			pthread_mutex_lock(&srv.ls.lock);
			srv.accepted += c >= 0;
			pthread_mutex_unlock(&srv.ls.lock);
		}
		for (i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &srv.conns[i];
			ssize_t got;

			if (c->fd < 0 || !(p[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = read(c->fd, c->in + c->len, sizeof(c->in) - 1 - c->len);
			if (got <= 0) {
				close(c->fd);
				c->fd = -1;
				continue;
			}
			c->len += (size_t)got;
			c->in[c->len] = '\0';
			serve_requests(c);
		}
	}
	for (i = 0; i < MAX_CONNS; i++)
		if (srv.conns[i].fd >= 0)
			close(srv.conns[i].fd);
	return NULL;
}

static int setup(void **state)
{
	struct engine *e = NULL;
	struct engine_options eo = { .timeout_ms = 60000 };

	curl_global_init(CURL_GLOBAL_DEFAULT);
	memset(&srv, 0, sizeof(srv));
	if (loopback_server_start(&srv.ls, 128, server_main) < 0)
		return -1;
	if (engine_new(&e, &eo) < 0)
		return -1;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	engine_free(*state);
	loopback_server_stop(&srv.ls);
	curl_global_cleanup();
	return 0;
}

/* GET path on the server; fills resp. */
static void get(struct engine *e, const char *path, struct http_response *resp, long deadline,
		long *depth)
{
	char url[128];
	struct http_request req = { .method = "GET", .url = url };
	const struct http_request *reqs[] = { &req };
	struct http_response *resps[] = { resp };

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", srv.ls.port, path);
	engine_send(e, reqs, resps, 1, deadline, depth);
}

/* ---- many senders ---- */

#define SENDERS 16
#define ROUNDS 25

struct sender {
	struct engine *engine;
	int id;
	int right;          /* answers that carried this sender's own path */
	long depth;
	pthread_t tid;
};

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	int r;

	for (r = 0; r < ROUNDS; r++) {
		char path[64];
		struct http_response resp;

		snprintf(path, sizeof(path), "/s%d/r%d", s->id, r);
		memset(&resp, 0, sizeof(resp));
		get(s->engine, path, &resp, 0, &s->depth);
		if (resp.status == 200 && resp.body.len == strlen(path) &&
		    !memcmp(resp.body.data, path, resp.body.len))
			s->right++;
		http_response_release(&resp);
	}
	return NULL;
}

static void test_many_senders_each_get_their_own_answers(void **state)
{
	struct sender ss[SENDERS];
	int i;

	for (i = 0; i < SENDERS; i++) {
		ss[i] = (struct sender){ .engine = *state, .id = i };
		assert_int_equal(pthread_create(&ss[i].tid, NULL, sender_main, &ss[i]), 0);
	}
	for (i = 0; i < SENDERS; i++) {
		pthread_join(ss[i].tid, NULL);
		assert_int_equal(ss[i].right, ROUNDS);
		assert_int_equal(ss[i].depth, ROUNDS); /* one round trip per send */
	}
}

static void test_a_batch_comes_back_whole(void **state)
{
	char urls[8][128];
	struct http_request reqs[8];
	struct http_response resps[8];
	const struct http_request *rp[8];
	struct http_response *sp[8];
	long depth = 0;
	int i;

	for (i = 0; i < 8; i++) {
		snprintf(urls[i], sizeof(urls[i]), "http://127.0.0.1:%d/batch/%d", srv.ls.port, i);
		reqs[i] = (struct http_request){ .method = "GET", .url = urls[i] };
		memset(&resps[i], 0, sizeof(resps[i]));
		rp[i] = &reqs[i];
		sp[i] = &resps[i];
	}
	engine_send(*state, rp, sp, 8, 0, &depth);
	assert_int_equal(depth, 1); /* sent together: one round trip */
	for (i = 0; i < 8; i++) {
		assert_int_equal(resps[i].status, 200);
		assert_non_null(strstr(urls[i], resps[i].body.data));
		http_response_release(&resps[i]);
	}
}

struct hanger {
	struct engine *engine;
	struct http_response resp;
	long took_ms;
	pthread_t tid;
};

static void *hang_main(void *arg)
{
	struct hanger *h = arg;
	long start = clock_now_ms();

	get(h->engine, "/hang", &h->resp, start + 500, NULL);
	h->took_ms = clock_now_ms() - start;
	return NULL;
}

/* A request never answered ends at its deadline; meanwhile the engine serves everyone else. */
static void test_a_hung_request_ends_at_its_deadline(void **state)
{
	struct hanger h = { .engine = *state };
	struct sender s = { .engine = *state, .id = 99 };

	memset(&h.resp, 0, sizeof(h.resp));
	assert_int_equal(pthread_create(&h.tid, NULL, hang_main, &h), 0);
	sender_main(&s); /* while the hung request waits */
	assert_int_equal(s.right, ROUNDS);
	pthread_join(h.tid, NULL);
	assert_int_equal(h.resp.status, 0);
	assert_int_equal(h.resp.failure, HTTP_TRANSPORT);
	assert_true(h.took_ms >= 400);
	assert_true(h.took_ms < 5000);
	http_response_release(&h.resp);
}

/* ---- a request that waits for another's connection ---- */

struct waiter {
	struct engine *engine;
	const char *scheme;
	const char *path;
	long deadline_in;   /* ms from now */
	struct http_response resp;
	long took_ms;
	pthread_t tid;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	char url[128];
	struct http_request req = { .method = "GET", .url = url };
	const struct http_request *reqs[] = { &req };
	struct http_response *resps[] = { &w->resp };
	long start = clock_now_ms();

	snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", w->scheme, srv.ls.port, w->path);
	engine_send(w->engine, reqs, resps, 1, start + w->deadline_in, NULL);
	w->took_ms = clock_now_ms() - start;
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

static int server_connections(void)
{
	int n;

	pthread_mutex_lock(&srv.ls.lock);
	n = srv.accepted;
	pthread_mutex_unlock(&srv.ls.lock);
	return n;
}

/*
 * On a new engine, a first request takes the only connection to the
 * host and is never answered (deadline 3 s); once the server holds that
 * connection, a second request to the same host with a 500 ms deadline
 * is sent. Returns the second request's waiter, done.
 */
static void second_request(const char *scheme, int (*held)(void), const char *path,
			   struct waiter *second)
{
	struct engine_options eo = { .timeout_ms = 60000 };
	struct engine *e = NULL;
	struct waiter first = { .scheme = scheme, .path = "/hang", .deadline_in = 3000 };
	int before = held(), i;

	assert_int_equal(engine_new(&e, &eo), 0);
	first.engine = e;
	assert_int_equal(pthread_create(&first.tid, NULL, waiter_main, &first), 0);
	for (i = 0; i < 500 && held() == before; i++)
		poll(NULL, 0, 10);
	assert_true(held() > before);
	*second = (struct waiter){ .engine = e, .scheme = scheme, .path = path, .deadline_in = 500 };
	waiter_main(second);
	pthread_join(first.tid, NULL);
	assert_int_equal(first.resp.status, 0);
	http_response_release(&first.resp);
	engine_free(e);
}

/*
 * Over https a request may wait for another's connection (to learn
 * whether it speaks HTTP/2); the server never answers the TLS handshake,
 * so that wait never ends by itself: the request still ends by its own
 * deadline, not the first request's.
 */
static void test_a_request_waiting_for_a_connection_ends_at_its_deadline(void **state)
{
	struct waiter w;

	(void)state;
	second_request("https", server_connections, "/late", &w);
	assert_int_equal(w.resp.status, 0);
	assert_int_equal(w.resp.failure, HTTP_TRANSPORT);
	assert_true(w.took_ms >= 400);
	assert_true(w.took_ms < 1500);
	http_response_release(&w.resp);
}

/*
 * Over plain HTTP (no HTTP/2) there is nothing to wait for: a request to
 * a host whose only connection is held by an unanswered request opens
 * its own and is answered.
 */
static void test_plain_http_does_not_wait_for_a_busy_connection(void **state)
{
	struct waiter w;

	(void)state;
	second_request("http", server_requests, "/beside", &w);
	assert_int_equal(w.resp.status, 200);
	assert_true(w.took_ms < 500);
	http_response_release(&w.resp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_senders_each_get_their_own_answers),
		cmocka_unit_test(test_a_batch_comes_back_whole),
		cmocka_unit_test(test_a_hung_request_ends_at_its_deadline),
		cmocka_unit_test(test_a_request_waiting_for_a_connection_ends_at_its_deadline),
		cmocka_unit_test(test_plain_http_does_not_wait_for_a_busy_connection),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
