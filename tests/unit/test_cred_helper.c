/*
 * Unit tests for the credential helper cache (auth/cred_helper.c): a
 * fleet probing many targets on one registry host runs the helper once
 * for that host, however many threads resolve at the same time; another
 * host runs it again; a failure is cached too. The helper is a shell
 * script that appends a line to a file each time it runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/creds.h"
#include "auth/creds_internal.h"

static char dir[512];
static char count_file[600];

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Lines in the count file: how many times a helper ran. */
static int helper_ran(void)
{
	FILE *fp = fopen(count_file, "r");
	int n = 0, c;

	if (!fp)
		return 0;
	while ((c = fgetc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return n;
}

static int setup(void **state)
{
	char path[1024], script[2048];
	const char *old_path = getenv("PATH");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/ocidoctor-helper-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(count_file, sizeof(count_file), "%s/runs", dir);
	snprintf(path, sizeof(path), "%s/bin", dir);
	mkdir(path, 0700);
	/* answers after 200 ms, so concurrent resolvers overlap; "bad.example" fails */
	snprintf(script, sizeof(script),
		 "#!/bin/sh\nread server\necho \"$server\" >> '%s'\nsleep 0.2\n"
		 "case \"$server\" in bad.example*) exit 3;; esac\n"
		 "printf '{\"ServerURL\":\"%%s\",\"Username\":\"u\",\"Secret\":\"p\"}' \"$server\"\n",
		 count_file);
	snprintf(path, sizeof(path), "%s/bin/docker-credential-count", dir);
	write_text(path, script, 0755);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	write_text(path, "{\"credsStore\": \"count\"}", 0600);
	snprintf(path, sizeof(path), "%s/bin:%s", dir, old_path ? old_path : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	setenv("DOCKER_CONFIG", dir, 1);
	setenv("HOME", dir, 1);
	unsetenv("OCI_USERNAME");
	unsetenv("OCI_PASSWORD");
	cred_helper_cache_clear();
	return 0;
}

static int teardown(void **state)
{
	char cmd[1100];

	(void)state;
	cred_helper_cache_clear();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

struct resolver {
	const char *host;
	char repository[64];
	struct creds creds;
	char *why;
	int ret;
	pthread_t tid;
};

static void *resolve_main(void *arg)
{
	struct resolver *r = arg;
	struct creds_options o = { .registry_host = r->host, .repository = r->repository };

	r->ret = creds_resolve(&r->creds, &o, &r->why);
	return NULL;
}

#define TARGETS 16

static void test_one_helper_run_per_host(void **state)
{
	struct resolver rs[TARGETS];
	long before = cred_helper_runs();
	int i;

	(void)state;
	for (i = 0; i < TARGETS; i++) {
		memset(&rs[i], 0, sizeof(rs[i]));
		rs[i].host = "reg.example:5000";
		snprintf(rs[i].repository, sizeof(rs[i].repository), "team/app%d", i);
		assert_int_equal(pthread_create(&rs[i].tid, NULL, resolve_main, &rs[i]), 0);
	}
	for (i = 0; i < TARGETS; i++)
		pthread_join(rs[i].tid, NULL);
	assert_int_equal(helper_ran(), 1);
	assert_int_equal(cred_helper_runs() - before, 1);
	for (i = 0; i < TARGETS; i++) {
		assert_int_equal(rs[i].ret, 0);
		assert_int_equal(rs[i].creds.source, CRED_HELPER);
		assert_string_equal(rs[i].creds.username, "u");
		assert_string_equal(rs[i].creds.password, "p");
		assert_string_equal(rs[i].creds.origin, "docker-credential-count");
		creds_release(&rs[i].creds);
	}

	/* one more target on that host, later: still from the cache */
	memset(&rs[0], 0, sizeof(rs[0]));
	rs[0].host = "reg.example:5000";
	resolve_main(&rs[0]);
	assert_int_equal(rs[0].ret, 0);
	assert_string_equal(rs[0].creds.username, "u");
	creds_release(&rs[0].creds);
	assert_int_equal(helper_ran(), 1);

	/* another host is another run */
	memset(&rs[0], 0, sizeof(rs[0]));
	rs[0].host = "other.example";
	resolve_main(&rs[0]);
	assert_int_equal(rs[0].ret, 0);
	creds_release(&rs[0].creds);
	assert_int_equal(helper_ran(), 2);

	/* forgetting the cache runs it again */
	cred_helper_cache_clear();
	memset(&rs[0], 0, sizeof(rs[0]));
	rs[0].host = "reg.example:5000";
	resolve_main(&rs[0]);
	assert_int_equal(rs[0].ret, 0);
	creds_release(&rs[0].creds);
	assert_int_equal(helper_ran(), 3);
}

static void test_failure_cached(void **state)
{
	struct resolver r;
	int round;

	(void)state;
	for (round = 0; round < 3; round++) {
		memset(&r, 0, sizeof(r));
		r.host = "bad.example";
		resolve_main(&r);
		/* a helper that fails is no error of the resolver: its failure is reported */
		assert_int_equal(r.ret, 0);
		assert_null(r.why);
		assert_non_null(r.creds.helper_error);
		assert_non_null(strstr(r.creds.helper_error, "docker-credential-count failed (exit 3)"));
		assert_int_equal(r.creds.source, CRED_NONE);
		creds_release(&r.creds);
		assert_int_equal(helper_ran(), 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_helper_run_per_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_cached, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
