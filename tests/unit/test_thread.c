/*
 * Unit tests for util/thread: the process's pool of worker threads.
 */
#define _GNU_SOURCE /* gettid: the kernel's thread ids, the ones /proc lists */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/thread.h"

static long tid(void)
{
	return (long)gettid();
}

/* Whether tid is one of this process's threads listed in /proc before. */
static int listed(const long *tids, int n, long t)
{
	int i;

	for (i = 0; i < n; i++)
		if (tids[i] == t)
			return 1;
	return 0;
}

static int list_threads(long *tids, int max)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) && n < max)
		if (e->d_name[0] != '.')
			tids[n++] = atol(e->d_name);
	closedir(d);
	return n;
}

struct counted {
	int runs;
	long tid;
};

/* Every worker thread a test saw, for the shutdown test. */
static long workers_seen[512];
static int nr_workers_seen;
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;

static void count_run(void *arg)
{
	struct counted *c = arg;
	int i;

	c->runs++;
	c->tid = tid();
	pthread_mutex_lock(&seen_lock);
	for (i = 0; i < nr_workers_seen && workers_seen[i] != c->tid; i++)
		;
	if (i == nr_workers_seen && nr_workers_seen < 512)
		workers_seen[nr_workers_seen++] = c->tid;
	pthread_mutex_unlock(&seen_lock);
}

static void test_every_task_runs_once_and_is_joined(void **state)
{
	struct thread_task tasks[40];
	struct counted counts[40];
	int i;

	(void)state;
	memset(counts, 0, sizeof(counts));
	for (i = 0; i < 40; i++)
		thread_task_start(&tasks[i], count_run, &counts[i]);
	for (i = 0; i < 40; i++) {
		thread_task_join(&tasks[i]);
		assert_int_equal(counts[i].runs, 1);
		assert_int_not_equal(counts[i].tid, tid());
	}
}

/*
 * A worker that finished a task waits for the next before its joiner can
 * start one (it is back under the pool's lock first), so tasks one after
 * another run on threads that already exist.
 */
static void test_workers_are_reused(void **state)
{
	long before[256];
	struct thread_task t;
	struct counted c = { 0 };
	int n, i;

	(void)state;
	thread_task_start(&t, count_run, &c); /* at least one worker */
	thread_task_join(&t);
	n = list_threads(before, 256);
	for (i = 0; i < 200; i++) {
		c.runs = 0;
		thread_task_start(&t, count_run, &c);
		thread_task_join(&t);
		assert_int_equal(c.runs, 1);
		assert_true(listed(before, n, c.tid));
	}
}

/*
 * Tasks that can only finish together: each waits until all have
 * started. A pool that queued tasks behind busy workers would never
 * finish this; ours gives each task a thread.
 */
struct rendezvous {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int arrived, expected;
};

static void meet(void *arg)
{
	struct rendezvous *r = arg;

	pthread_mutex_lock(&r->lock);
	r->arrived++;
	pthread_cond_broadcast(&r->cond);
	while (r->arrived < r->expected)
		pthread_cond_wait(&r->cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
}

static void start_children(void *arg)
{
	struct rendezvous *r = arg;
	struct thread_task kids[20];
	int i;

	for (i = 0; i < 20; i++)
		thread_task_start(&kids[i], meet, r);
	meet(r);
	for (i = 0; i < 20; i++)
		thread_task_join(&kids[i]);
}

static void test_tasks_that_wait_for_each_other_all_run(void **state)
{
	struct rendezvous r = { .expected = 21 };
	struct thread_task parent;

	(void)state;
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.cond, NULL);
	thread_task_start(&parent, start_children, &r);
	thread_task_join(&parent);
	assert_int_equal(r.arrived, 21);
	pthread_mutex_destroy(&r.lock);
	pthread_cond_destroy(&r.cond);
}

/* Last: the pool does not start workers again once it is shut down. */
static void test_shutdown_ends_the_waiting_workers(void **state)
{
	long now[256];
	int n, i;

	(void)state;
	assert_true(nr_workers_seen > 0);
	n = list_threads(now, 256);
	assert_true(listed(now, n, workers_seen[0]));
	thread_pool_shutdown();
	n = list_threads(now, 256);
	for (i = 0; i < nr_workers_seen; i++)
		assert_false(listed(now, n, workers_seen[i]));
}

static void note_policy(void *arg)
{
	*(int *)arg = sched_getscheduler(0);
}

/* First: the pool has no worker yet, so the task's thread is a new one. */
static void test_batch_policy_is_inherited_by_new_threads(void **state)
{
	struct thread_task t;
	int policy = -1;

	(void)state;
	assert_int_equal(sched_getscheduler(0), SCHED_OTHER);
	thread_prefer_batch();
	assert_int_equal(sched_getscheduler(0), SCHED_BATCH);
	thread_task_start(&t, note_policy, &policy);
	thread_task_join(&t);
	assert_int_equal(policy, SCHED_BATCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_policy_is_inherited_by_new_threads),
		cmocka_unit_test(test_every_task_runs_once_and_is_joined),
		cmocka_unit_test(test_workers_are_reused),
		cmocka_unit_test(test_tasks_that_wait_for_each_other_all_run),
		cmocka_unit_test(test_shutdown_ends_the_waiting_workers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
