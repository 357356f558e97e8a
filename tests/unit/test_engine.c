/*
 * Unit tests for engine/http: many threads send at once on one engine,
 * which its senders drive themselves; every answer reaches the sender
 * that asked, a batch of requests comes back whole, and a request that
 * is never answered ends at its deadline while the others go on, and a
 * run that is cancelled has its requests ended at once while another
 * run's go on. A small
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
	int closed;                /* connections the client closed */
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
				pthread_mutex_lock(&srv.ls.lock);
				srv.closed++;
				pthread_mutex_unlock(&srv.ls.lock);
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

/* GET path on the server as part of the run `cancel` (NULL: none); fills resp. */
static void get_in_run(struct engine *e, const char *path, struct http_response *resp,
		       long deadline, const struct cancel *cancel, long *depth)
{
	char url[128];
	struct http_request req = { .method = "GET", .url = url };
	const struct http_request *reqs[] = { &req };
	struct http_response *resps[] = { resp };

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", srv.ls.port, path);
	engine_send(e, reqs, resps, 1, deadline, cancel, depth);
}

static void get(struct engine *e, const char *path, struct http_response *resp, long deadline,
		long *depth)
{
	get_in_run(e, path, resp, deadline, NULL, depth);
}

static void get_with(struct engine *e, const char *path, struct http_response *resp,
		     const struct cancel *cancel)
{
	get_in_run(e, path, resp, 0, cancel, NULL);
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
	engine_send(*state, rp, sp, 8, 0, NULL, &depth);
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
	engine_send(w->engine, reqs, resps, 1, start + w->deadline_in, NULL, NULL);
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

/* ---- one run cancelled, another on the same engine not ---- */

struct run {
	struct engine *engine;
	struct cancel *cancel;
	long deadline_in;
	struct http_response resps[2];
	int n;
	long took_ms;
	int done;               /* under srv.ls.lock */
	pthread_t tid;
};

static void *run_main(void *arg)
{
	struct run *r = arg;
	char url[128];
	struct http_request req = { .method = "GET", .url = url };
	const struct http_request *reqs[] = { &req, &req };
	struct http_response *resps[] = { &r->resps[0], &r->resps[1] };
	long start = clock_now_ms();

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hang", srv.ls.port);
	engine_send(r->engine, reqs, resps, (size_t)r->n, start + r->deadline_in, r->cancel, NULL);
	r->took_ms = clock_now_ms() - start;
	pthread_mutex_lock(&srv.ls.lock);
	r->done = 1;
	pthread_mutex_unlock(&srv.ls.lock);
	return NULL;
}

static int srv_count(const int *counter)
{
	int n;

	pthread_mutex_lock(&srv.ls.lock);
	n = *counter;
	pthread_mutex_unlock(&srv.ls.lock);
	return n;
}

static void wait_for_count(const int *counter, int at_least)
{
	int i;

	for (i = 0; i < 500 && srv_count(counter) < at_least; i++)
		poll(NULL, 0, 10);
	assert_true(srv_count(counter) >= at_least);
}

/*
 * Two runs on one engine wait for answers that never come: run a (two
 * requests, a 10 s deadline) and run b (one request, 1.5 s). Cancelling
 * a ends its requests at once (their connections closed), while b's goes
 * on to its own deadline; a's later requests fail unsent, b's are
 * answered, and a's pause returns at once.
 */
static void test_a_cancelled_run_ends_its_requests_and_no_other(void **state)
{
	struct cancel ca, cb;
	struct run a = { .engine = *state, .cancel = &ca, .deadline_in = 10000, .n = 2 };
	struct run b = { .engine = *state, .cancel = &cb, .deadline_in = 1500, .n = 1 };
	struct http_response after;
	int requests = server_requests(), closed = srv_count(&srv.closed), i;
	long start;

	cancel_init(&ca);
	cancel_init(&cb);
	memset(a.resps, 0, sizeof(a.resps));
	memset(b.resps, 0, sizeof(b.resps));
	assert_int_equal(pthread_create(&a.tid, NULL, run_main, &a), 0);
	assert_int_equal(pthread_create(&b.tid, NULL, run_main, &b), 0);
	wait_for_count(&srv.requests, requests + 3);  /* all three are with the server */

	start = clock_now_ms();
	engine_cancel_run(*state, &ca);
	pthread_join(a.tid, NULL);
	assert_true(clock_now_ms() - start < 1000);  /* at once, on a loaded machine */
	assert_true(a.took_ms < 2000);
	assert_int_equal(srv_count(&b.done), 0);      /* b goes on */
	assert_true(cancel_is_set(&ca));
	assert_false(cancel_is_set(&cb));
	for (i = 0; i < 2; i++) {
		assert_int_equal(a.resps[i].status, 0);
		assert_int_equal(a.resps[i].failure, HTTP_TRANSPORT);
		assert_non_null(strstr(a.resps[i].error, "called off"));
		http_response_release(&a.resps[i]);
	}
	wait_for_count(&srv.closed, closed + 2);      /* a's two connections were closed */

	/* a's next request is not sent, and its pause does not sleep */
	memset(&after, 0, sizeof(after));
	requests = server_requests();
	get_with(*state, "/after-a", &after, &ca);
	assert_int_equal(after.failure, HTTP_DEADLINE);
	assert_non_null(strstr(after.error, "called off"));
	http_response_release(&after);
	start = clock_now_ms();
	engine_pause(*state, 5000, &ca);
	assert_true(clock_now_ms() - start < 500);

	pthread_join(b.tid, NULL);
	assert_true(b.took_ms >= 1400);
	assert_int_equal(b.resps[0].failure, HTTP_TRANSPORT);
	assert_null(strstr(b.resps[0].error, "called off"));
	http_response_release(&b.resps[0]);
	memset(&after, 0, sizeof(after));
	get_with(*state, "/after-b", &after, &cb);
	assert_int_equal(after.status, 200);
	http_response_release(&after);
	assert_int_equal(server_requests(), requests + 1); /* b's, not a's */
}

struct pauser {
	struct engine *engine;
	struct cancel *cancel;
	long took_ms;
	pthread_t tid;
};

static void *pause_main(void *arg)
{
	struct pauser *p = arg;
	long start = clock_now_ms();

	engine_pause(p->engine, 5000, p->cancel);
	p->took_ms = clock_now_ms() - start;
	return NULL;
}

/* A pause (a retry's wait) ends when its run is cancelled, not another's. */
static void test_a_cancelled_run_wakes_its_pause(void **state)
{
	struct cancel c, other;
	struct pauser p = { .engine = *state, .cancel = &c };

	cancel_init(&c);
	cancel_init(&other);
	assert_int_equal(pthread_create(&p.tid, NULL, pause_main, &p), 0);
	poll(NULL, 0, 100);
	engine_cancel_run(*state, &other);
	poll(NULL, 0, 200);
	engine_cancel_run(*state, &c);
	pthread_join(p.tid, NULL);
	assert_true(p.took_ms >= 250);
	assert_true(p.took_ms < 1500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_senders_each_get_their_own_answers),
		cmocka_unit_test(test_a_batch_comes_back_whole),
		cmocka_unit_test(test_a_hung_request_ends_at_its_deadline),
		cmocka_unit_test(test_a_request_waiting_for_a_connection_ends_at_its_deadline),
		cmocka_unit_test(test_plain_http_does_not_wait_for_a_busy_connection),
		cmocka_unit_test(test_a_cancelled_run_ends_its_requests_and_no_other),
		cmocka_unit_test(test_a_cancelled_run_wakes_its_pause),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
