/*
 * run: see run.h. Each check gets a thread; the thread waits for the
 * check's dependencies, runs it and wakes the others. The calling thread
 * drives the HTTP engine meanwhile.
 */
#include "checks/run.h"
#include "checks/results.h"
#include "util/clock.h"
#include "util/thread.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct run_worker {
	struct run *run;
	size_t index;
	pthread_t tid;
};

static size_t table_index(const struct check *c)
{
	size_t i;

	for (i = 0; i < check_table_size; i++)
		if (check_table[i] == c)
			return i;
	xbug("a check depends on a check that is not in the table");
}

/* Marks c and everything it depends on as needed. */
static void mark_needed(struct run *run, const struct check *c, int *needed)
{
	size_t i = table_index(c);

	if (needed[i])
		return;
	needed[i] = 1;
	for (const struct check *const *d = c->deps; d && *d; d++)
		mark_needed(run, *d, needed);
	for (const struct check *const *d = c->uses; d && *d; d++)
		mark_needed(run, *d, needed);
}

void run_init(struct run *run, const struct run_config *config, struct engine *engine,
	      struct registry *registry, const int *selected)
{
	size_t i;

	memset(run, 0, sizeof(*run));
	run->config = config;
	run->engine = engine;
	run->registry = registry;
	run->results = xcalloc(check_table_size, sizeof(*run->results));
	run->logs = xcalloc(check_table_size, sizeof(*run->logs));
	pthread_mutex_init(&run->lock, NULL);
	pthread_cond_init(&run->cond, NULL);
	for (i = 0; i < check_table_size; i++) {
		run->results[i].check = check_table[i];
		run->results[i].selected = !selected || selected[i];
		evidence_log_init(&run->logs[i]);
	}
}

/* Waits for another check; the caller's round-trip chain continues after its. */
const struct check_result *run_wait(struct run *run, const struct check *c,
				    struct evidence_log *waiter)
{
	const struct check_result *res = &run->results[table_index(c)];
	long depth;

	pthread_mutex_lock(&run->lock);
	while (!res->done)
		pthread_cond_wait(&run->cond, &run->lock);
	depth = res->depth;
	pthread_mutex_unlock(&run->lock);
	evidence_log_join(waiter, depth);
	return res;
}

static void wait_for_deps(struct run *run, const struct check *c, struct evidence_log *log)
{
	for (const struct check *const *d = c->deps; d && *d; d++)
		run_wait(run, *d, log);
}

static void *worker_main(void *arg)
{
	struct run_worker *w = arg;
	struct run *run = w->run;
	struct check_result *res = &run->results[w->index];
	struct evidence_log *log = &run->logs[w->index];
	struct check_ctx ctx = {
		.config = run->config, .registry = run->registry,
		.facts = &run->facts, .result = res, .log = log, .run = run,
	};
	long start;

	wait_for_deps(run, res->check, log);
	start = clock_now_ms();
	res->details = json_object();
	res->status = STATUS_PASS;
	res->check->run(&ctx);
	if (!res->message)
		res->message = xstrdup("");
	res->duration_ms = clock_now_ms() - start;
	res->depth = evidence_log_depth(log);
	evidence_log_take(log, &res->evidence); /* the result keeps plain data */

	pthread_mutex_lock(&run->lock);
	res->done = 1;
	pthread_cond_broadcast(&run->cond);
	pthread_mutex_unlock(&run->lock);
	engine_unhold(run->engine);
	return NULL;
}

static void stamp_start(struct run *run)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(run->started_at, sizeof(run->started_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void run_start(struct run *run)
{
	size_t i;

	run->workers = xcalloc(check_table_size, sizeof(*run->workers));
	run->needed = xcalloc(check_table_size, sizeof(*run->needed));
	run->started_ms = clock_now_ms();
	stamp_start(run);
	for (i = 0; i < check_table_size; i++)
		if (run->results[i].selected)
			mark_needed(run, check_table[i], run->needed);
	for (i = 0; i < check_table_size; i++) {
		if (!run->needed[i])
			continue;
		run->workers[i].run = run;
		run->workers[i].index = i;
		engine_hold(run->engine);
		thread_start(&run->workers[i].tid, worker_main, &run->workers[i]);
	}
}

void run_finish(struct run *run)
{
	size_t i;

	for (i = 0; i < check_table_size; i++)
		if (run->needed[i])
			pthread_join(run->workers[i].tid, NULL);
	run->duration_ms = clock_now_ms() - run->started_ms;
	run->rate_limit = registry_rate_limit(run->registry);
	for (i = 0; i < check_table_size; i++) {
		run->requests += (long)run->results[i].evidence.nr;
		if (run->needed[i] && run->results[i].depth > run->round_trips)
			run->round_trips = run->results[i].depth;
	}
	free(run->needed);
	free(run->workers);
	run->needed = NULL;
	run->workers = NULL;
}

void run_execute(struct run *run)
{
	run_start(run);
	engine_loop(run->engine);
	run_finish(run);
}

void run_release(struct run *run)
{
	size_t i;

	for (i = 0; run->results && i < check_table_size; i++)
		check_result_release(&run->results[i]);
	for (i = 0; run->logs && i < check_table_size; i++)
		evidence_log_release(&run->logs[i]);
	free(run->results);
	free(run->logs);
	json_decref(run->rate_limit);
	if (run->facts.ping) {
		http_response_release(run->facts.ping);
		free(run->facts.ping);
	}
	free(run->facts.manifest_digest);
	pthread_mutex_destroy(&run->lock);
	pthread_cond_destroy(&run->cond);
	memset(run, 0, sizeof(*run));
}

enum check_status run_worst(const struct run *run, int counts[STATUS_COUNT])
{
	return results_worst(run->results, check_table_size, counts);
}
