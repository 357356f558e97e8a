/*
 * Unit tests for doctor/doctor: the one entry point, in both of its
 * engine modes (the caller's thread drives the engine; the engine's loop
 * runs in its own thread and several runs share it), against a loopback
 * port nothing listens on, so no server is needed: the registry check
 * fails, and so does every check asked for that needs it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doctor/doctor.h"
#include "loopback.h"

static char refused_url[64];

/* A loopback port that was free a moment ago: bind, read the port, close. */
static int setup(void **state)
{
	int port, fd = loopback_socket(0, &port);

	(void)state;
	if (fd < 0)
		return -1;
	snprintf(refused_url, sizeof(refused_url), "http://127.0.0.1:%d", port);
	close(fd);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	curl_global_cleanup();
	return 0;
}

static const struct check_result *result(const struct doctor_result *r, const struct check *c)
{
	size_t i;

	for (i = 0; i < check_table_size; i++)
		if (r->results.results[i].check == c)
			return &r->results.results[i];
	fail_msg("no result for %s", c->id);
	return NULL;
}

static void expect_refused(const struct doctor_result *r)
{
	assert_int_equal(r->worst, STATUS_FAIL);
	assert_int_equal(result(r, &check_registry)->status, STATUS_FAIL);
	assert_int_equal(result(r, &check_pull)->status, STATUS_FAIL);
	assert_string_equal(result(r, &check_pull)->cause, "unreachable");
	assert_string_equal(r->config.registry, refused_url);
	assert_string_equal(r->config.repository, "library/alpine");
	assert_string_equal(r->config.tag, "latest");
	assert_true(r->config.no_writes);
	assert_true(r->results.requests >= 1);
}

static void test_one_run_on_its_own_engine(void **state)
{
	struct engine_options eo = { .timeout_ms = 10000 };
	struct doctor_settings s = { .registry = refused_url };
	struct doctor_result r;
	struct engine *e = NULL;
	const char *why = NULL;

	(void)state;
	assert_int_equal(engine_new(&e, &eo), 0);
	assert_int_equal(doctor_run(&r, &s, e, &why), 0);
	expect_refused(&r);
	assert_true(r.counts[STATUS_FAIL] >= 2);
	doctor_result_release(&r);
	engine_free(e);
}

struct job {
	struct engine *engine;
	struct doctor_result r;
	int ret;
	pthread_t tid;
};

static void *job_main(void *arg)
{
	struct job *j = arg;
	struct doctor_settings s = { .registry = refused_url, .timeout_ms = 5000 };
	const char *why = NULL;

	j->ret = doctor_run(&j->r, &s, j->engine, &why);
	return NULL;
}

static void test_shared_engine_many_runs(void **state)
{
	struct engine_options eo = { 0 };
	struct doctor_engine de;
	struct job jobs[4];
	size_t i;

	(void)state;
	assert_int_equal(doctor_engine_start(&de, &eo), 0);
	for (i = 0; i < 4; i++) {
		jobs[i].engine = de.engine;
		assert_int_equal(pthread_create(&jobs[i].tid, NULL, job_main, &jobs[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(jobs[i].tid, NULL);
		assert_int_equal(jobs[i].ret, 0);
		expect_refused(&jobs[i].r);
		doctor_result_release(&jobs[i].r);
	}
	doctor_engine_stop(&de);
	assert_false(de.started);
}

static void test_selection_and_copies(void **state)
{
	struct engine_options eo = { .timeout_ms = 10000 };
	int *selected = calloc(check_table_size, sizeof(*selected));
	char repo[] = "team/app", tag[] = "v1";
	struct doctor_settings s = { .registry = refused_url, .repository = repo, .tag = tag,
				     .selected = selected, .writes = DOCTOR_WRITES_PROBE };
	struct doctor_result r;
	struct engine *e = NULL;
	const char *why = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < check_table_size; i++)
		selected[i] = check_table[i] == &check_registry;
	assert_int_equal(engine_new(&e, &eo), 0);
	assert_int_equal(doctor_run(&r, &s, e, &why), 0);
	memset(repo, 'x', sizeof(repo) - 1);   /* the result keeps its own copies */
	assert_string_equal(r.config.repository, "team/app");
	assert_string_equal(r.config.tag, "v1");
	assert_false(r.config.no_writes);
	assert_true(result(&r, &check_registry)->selected);
	assert_false(result(&r, &check_pull)->selected);
	assert_int_equal(r.counts[STATUS_FAIL], 1);
	assert_int_equal(r.counts[STATUS_SKIP], 0);
	doctor_result_release(&r);
	engine_free(e);
	free(selected);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_run_on_its_own_engine),
		cmocka_unit_test(test_shared_engine_many_runs),
		cmocka_unit_test(test_selection_and_copies),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
