/*
 * Unit tests for checks/cleanup: the undo list of the checks that write.
 * A small registry on a loopback port answers each request from a table
 * and logs the order it saw them in. The tests show the order of the
 * waves (manifests before the blobs they may hold, a tag after its
 * manifest, a HEAD after its DELETE), that a 2xx DELETE is not taken on
 * trust (the HEAD must answer 404), that a tag whose manifest stayed is
 * not tried, and that what is left is listed once, in details.leftovers
 * and as the result's "leftovers" section.
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

#include "checks/check.h"
#include "checks/cleanup.h"
#include "engine/http.h"
#include "engine/registry.h"
#include "loopback.h"

/* ---- a registry that answers from a table ---- */

#define LOG_MAX 64

struct rule {
	const char *method;
	const char *path;        /* exact, after /v2/r/ */
	int status;
	int after_delete;        /* the status once a DELETE of the same path was answered, or 0 */
};

static const struct rule rules[] = {
	{ "DELETE", "manifests/sha256:m1", 202, 0 },
	{ "HEAD", "manifests/sha256:m1", 404, 0 },
	{ "DELETE", "manifests/sha256:idx", 202, 0 },
	{ "HEAD", "manifests/sha256:idx", 404, 0 },
	{ "DELETE", "manifests/sha256:refused", 405, 0 },
	{ "DELETE", "blobs/sha256:gone", 202, 0 },
	{ "HEAD", "blobs/sha256:gone", 404, 0 },
	{ "DELETE", "blobs/sha256:stays", 202, 0 },
	{ "HEAD", "blobs/sha256:stays", 200, 0 },
	{ "DELETE", "blobs/sha256:already", 404, 0 },
	{ "DELETE", "blobs/uploads/s1", 204, 0 },
	/* a tag that outlives its manifest until it is deleted by tag */
	{ "HEAD", "manifests/keeps", 200, 404 },
	{ "DELETE", "manifests/keeps", 202, 0 },
	{ "HEAD", "manifests/follows", 404, 0 },
	{ NULL, NULL, 0, 0 },
};

struct server {
	struct loopback_server ls;   /* its lock guards the log */
	char log[LOG_MAX][300];      /* "METHOD path" in the order answered */
	int n;
};

static struct server srv;

static int deleted(const char *path)
{
	char want[300];
	int i;

	snprintf(want, sizeof(want), "DELETE /v2/r/%s", path);
	for (i = 0; i < srv.n; i++)
		if (!strcmp(srv.log[i], want))
			return 1;
	return 0;
}

static int answer_for(const char *method, const char *path)
{
	const struct rule *r;
	int status = 0;

	if (strncmp(path, "/v2/r/", 6))
		return 400;
	for (r = rules; r->method; r++) {
		if (strcmp(r->method, method) || strcmp(r->path, path + 6))
			continue;
		status = r->after_delete && deleted(r->path) ? r->after_delete : r->status;
	}
	return status ? status : 400;
}

static void serve_one(int c)
{
	char req[4096], method[16], path[256], out[256];
	int status;

	loopback_read_head(c, req, sizeof(req));
	if (sscanf(req, "%15s %255s", method, path) != 2) {
		close(c);
		return;
	}
	pthread_mutex_lock(&srv.ls.lock);
	status = answer_for(method, path);
	if (srv.n < LOG_MAX)
		snprintf(srv.log[srv.n++], sizeof(srv.log[0]), "%s %s", method, path);
	pthread_mutex_unlock(&srv.ls.lock);
	snprintf(out, sizeof(out), "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		 status);
	if (write(c, out, strlen(out)) < 0)
		fprintf(stderr, "test registry: write failed\n");
	close(c);
}

static void *server_main(void *arg)
{
	(void)arg;
	while (!loopback_server_stopping(&srv.ls)) {
		struct pollfd p = { .fd = srv.ls.fd, .events = POLLIN };

		if (poll(&p, 1, 50) == 1) {
			int c = accept(srv.ls.fd, NULL, NULL);

			if (c >= 0)
				serve_one(c);
		}
	}
	return NULL;
}

/* Where "METHOD /v2/r/path" is in the log, or -1. */
static int seen_at(const char *method, const char *path)
{
	char want[300];
	int i;

	snprintf(want, sizeof(want), "%s /v2/r/%s", method, path);
	for (i = 0; i < srv.n; i++)
		if (!strcmp(srv.log[i], want))
			return i;
	return -1;
}

/* ---- a check's context over that registry ---- */

static const struct check writer = {
	.id = "check.test.writer",
	.causes = (const char *const[]){ NULL },
};

struct fixture {
	struct engine *engine;
	struct registry *registry;
	struct evidence_log log;
	struct run_config config;
	struct run_facts facts;
	struct check_result result;
	struct check_ctx ctx;
	char url[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct engine_options eo = { .timeout_ms = 20000 };
	struct registry_options ro = { 0 };
	const char *why = NULL;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	memset(&srv, 0, sizeof(srv));
	if (!f || loopback_server_start(&srv.ls, 64, server_main) < 0)
		return -1;
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", srv.ls.port);
	ro.url = f->url;
	if (engine_new(&f->engine, &eo) < 0 || registry_new(&f->registry, f->engine, &ro, &why) < 0)
		return -1;
	evidence_log_init(&f->log);
	f->result.check = &writer;
	f->result.details = json_object();
	f->ctx = (struct check_ctx){ .config = &f->config, .registry = f->registry,
		.facts = &f->facts, .result = &f->result, .log = &f->log };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	check_result_release(&f->result);
	evidence_log_release(&f->log);
	registry_free(f->registry);
	engine_free(f->engine);
	loopback_server_stop(&srv.ls);
	free(f);
	curl_global_cleanup();
	return 0;
}

static const struct result_section *leftovers_section(const struct check_result *res)
{
	size_t i;

	for (i = 0; i < res->sections_nr; i++)
		if (!strcmp(res->sections[i].def->id, "leftovers"))
			return &res->sections[i];
	return NULL;
}

/* ---- the tests ---- */

/* Manifests before blobs, a HEAD after its DELETE, the tag after its manifest, sessions alongside. */
static void test_waves_in_order(void **state)
{
	struct fixture *f = *state;
	struct undo_list u;
	size_t idx;

	undo_init(&u, &f->ctx, "r");
	/* added in an order the waves must not follow: blobs first */
	undo_add(&u, UNDO_BLOB, "sha256:gone", "blob", 1);
	idx = undo_add(&u, UNDO_MANIFEST, "sha256:idx", "index", 1);
	undo_add_tag(&u, "keeps", "tag", idx);
	undo_add(&u, UNDO_MANIFEST, "sha256:m1", "manifest", 1);
	undo_add(&u, UNDO_SESSION, "/v2/r/blobs/uploads/s1", "session", 0);
	assert_int_equal(undo_run(&u), 0);
	assert_true(seen_at("DELETE", "manifests/sha256:m1") < seen_at("DELETE", "blobs/sha256:gone"));
	assert_true(seen_at("DELETE", "manifests/sha256:idx") < seen_at("DELETE", "blobs/sha256:gone"));
	assert_true(seen_at("DELETE", "blobs/sha256:gone") < seen_at("HEAD", "blobs/sha256:gone"));
	assert_true(seen_at("DELETE", "manifests/sha256:m1") < seen_at("HEAD", "manifests/sha256:m1"));
	/* the tag: HEAD after its index's DELETE, still there, DELETE by tag, HEAD again */
	assert_true(seen_at("DELETE", "manifests/sha256:idx") < seen_at("HEAD", "manifests/keeps"));
	assert_true(seen_at("HEAD", "manifests/keeps") < seen_at("DELETE", "manifests/keeps"));
	assert_int_not_equal(seen_at("DELETE", "blobs/uploads/s1"), -1);
	assert_int_equal(srv.n, 10);
	assert_true(u.items[0].gone && u.items[2].gone && u.items[4].gone);
	assert_non_null(strstr(u.evidence.data, "DELETE /v2/r/blobs/uploads/s1: 204"));
	/* nothing left: no section, and the key is still there, empty */
	assert_null(json_object_get(f->result.details, "leftovers"));
	leftovers_ensure(&f->ctx);
	assert_int_equal(json_array_size(json_object_get(f->result.details, "leftovers")), 0);
	assert_null(leftovers_section(&f->result));
	undo_release(&u);
}

/* A 2xx DELETE is not taken on trust: the HEAD decides; a 404 to the DELETE is gone. */
static void test_head_verifies_a_delete(void **state)
{
	struct fixture *f = *state;
	struct undo_list u;
	json_t *left;

	undo_init(&u, &f->ctx, "r");
	undo_add(&u, UNDO_BLOB, "sha256:stays", "layer", 1);
	undo_add(&u, UNDO_MOUNTED_BLOB, "sha256:already", NULL, 1);
	assert_int_equal(undo_run(&u), 1);
	assert_false(u.items[0].gone);
	assert_int_equal(u.items[0].del_status, 202);
	assert_int_equal(u.items[0].head_status, 200);
	assert_true(u.items[1].gone);
	assert_int_equal(seen_at("HEAD", "blobs/sha256:already"), -1);
	left = json_object_get(f->result.details, "leftovers");
	assert_int_equal(json_array_size(left), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(left, 0), "kind")), "blob");
	assert_string_equal(json_string_value(json_object_get(json_array_get(left, 0), "why")),
			    "the layer: still there after the DELETE was accepted (HEAD answered 200)");
	undo_release(&u);
}

/* A tag whose manifest could not be deleted is not tried: the manifest is the leftover. */
static void test_tag_waits_for_its_manifest(void **state)
{
	struct fixture *f = *state;
	struct undo_list u;
	size_t m;

	undo_init(&u, &f->ctx, "r");
	m = undo_add(&u, UNDO_MANIFEST, "sha256:refused", "index", 1);
	undo_add_tag(&u, "follows", "tag", m);
	assert_int_equal(undo_run(&u), 1);
	assert_true(u.items[1].skipped);
	assert_int_equal(seen_at("HEAD", "manifests/follows"), -1);
	assert_int_equal(srv.n, 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(f->result.details, "leftovers"), 0), "why")),
		"the index: the DELETE was refused (405)");
	undo_release(&u);
}

/* A leftover is listed once: in details.leftovers and as a row of the "leftovers" section. */
static void test_leftovers_are_a_section(void **state)
{
	struct fixture *f = *state;
	const struct result_section *s;
	json_t *item;
	char want[160];

	leftover_add(&f->ctx, "blob", "r", "sha256:abc", "the layer: kept");
	item = json_array_get(json_object_get(f->result.details, "leftovers"), 0);
	assert_non_null(item);
	s = leftovers_section(&f->result);
	assert_non_null(s);
	assert_int_equal(s->nr, 1);
	assert_string_equal(s->def->columns[0].key, "name");
	assert_string_equal(s->rows[0].cells[0], "sha256:abc");
	assert_string_equal(section_cell(s, &s->rows[0], "kind"), "blob");
	assert_string_equal(section_cell(s, &s->rows[0], "repository"), "r");
	assert_string_equal(section_cell(s, &s->rows[0], "why"), "the layer: kept");
	snprintf(want, sizeof(want), "curl -X DELETE '%s/v2/r/blobs/sha256:abc'", f->url);
	assert_non_null(strstr(section_cell(s, &s->rows[0], "command"), want));
	assert_string_equal(section_cell(s, &s->rows[0], "command"),
			    json_string_value(json_object_get(item, "command")));
	/* the JSON form keeps its keys */
	assert_string_equal(json_string_value(json_object_get(item, "ref")), "sha256:abc");
	leftover_add(&f->ctx, "upload-session", "r", "/v2/r/blobs/uploads/x", "open");
	assert_int_equal(leftovers_section(&f->result)->nr, 2);
	assert_int_equal(f->result.sections_nr, 1);
	assert_int_equal(json_array_size(json_object_get(f->result.details, "leftovers")), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_waves_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_verifies_a_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tag_waits_for_its_manifest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leftovers_are_a_section, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
