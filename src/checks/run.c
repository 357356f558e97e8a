/*
 * run: see run.h. A check is handed to a thread once its dependencies
 * are done; the thread runs it, wakes the checks waiting for it, and
 * goes on with one of the checks it made ready.
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
	int started;             /* handed to a thread (under run->lock) */
	int in_task;             /* ... as the first check of a pool task of its own */
	struct thread_task task;
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
	pthread_cond_init(&run->finished, NULL);
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

/* Runs check i in the calling thread, once its dependencies are done, and wakes its waiters. */
static void run_check(struct run *run, size_t i)
{
	struct check_result *res = &run->results[i];
	struct evidence_log *log = &run->logs[i];
	struct check_ctx ctx = {
		.config = run->config, .registry = run->registry,
		.facts = &run->facts, .result = res, .log = log, .run = run,
	};
	long start;
	int last;

	wait_for_deps(run, res->check, log); /* done already: this continues their chains */
	start = clock_now_ms();
	res->details = json_object();
	res->status = STATUS_PASS;
	if (res->check->describe)
		res->check->describe(&ctx);
	if (!check_gate(&ctx))
		res->check->run(&ctx);
	if (!res->message)
		res->message = xstrdup("");
	/* one root cause, one failure: a check that found no registry is blocked by the registry check */
	if (res->cause && !strcmp(res->cause, "unreachable") && res->check != &check_registry)
		res->blocked_by = &check_registry;
	res->duration_ms = clock_now_ms() - start;
	res->depth = evidence_log_depth(log);
	evidence_log_take(log, &res->evidence); /* the result keeps plain data */

	pthread_mutex_lock(&run->lock);
	res->done = 1;
	last = --run->left == 0;
	pthread_mutex_unlock(&run->lock);
	/*
	 * Woken after the lock is let go, so that a waiter does not wake only
	 * to wait for the lock. The run outlives this: it is released only
	 * after every task that runs its checks has been joined.
	 */
	pthread_cond_broadcast(&run->cond);
	if (last)
		pthread_cond_signal(&run->finished);
}

static int deps_done(const struct run *run, const struct check *c)
{
	for (const struct check *const *d = c->deps; d && *d; d++)
		if (!run->results[table_index(*d)].done)
			return 0;
	return 1;
}

static void worker_task(void *arg);

static int is_offline(const struct run *run, size_t i)
{
	return check_offline(check_table[i], run->config, run->results[i].selected);
}

/* What a thread runs next: checks that decide offline, then at most one that needs the network. */
struct chain {
	size_t *offline;         /* a stack, check_table_size long */
	size_t nr_offline;
	long net;                /* -1 for none */
};

/*
 * Hands out the needed checks that are ready (their dependencies are
 * done) and not handed out yet. The calling thread takes those that
 * decide offline (they take no time) and one that needs the network, if
 * it has none yet; every other ready check gets a pool task of its own.
 * So no check waits for its dependencies in a thread of its own, a chain
 * of checks runs in one thread, and a skip costs no thread.
 */
static void start_ready(struct run *run, struct chain *ch)
{
	size_t i;

	pthread_mutex_lock(&run->lock);
	for (i = 0; i < check_table_size; i++) {
		struct run_worker *w = &run->workers[i];

		if (!run->needed[i] || w->started || !deps_done(run, check_table[i]))
			continue;
		w->started = 1;
		if (is_offline(run, i)) {
			ch->offline[ch->nr_offline++] = i;
		} else if (ch->net < 0) {
			ch->net = (long)i;
		} else {
			w->in_task = 1;
			thread_task_start(&w->task, worker_task, w);
		}
	}
	pthread_mutex_unlock(&run->lock);
}

/*
 * Runs a thread's checks, each followed by what it made ready. The
 * offline ones go first: they never wait, so the check that needs the
 * network (which may wait for another in check_dep) runs only when this
 * thread holds no check back that someone could be waiting for.
 */
static void run_chain(struct run *run, long net)
{
	struct chain ch = { .offline = xcalloc(check_table_size, sizeof(size_t)), .net = net };
	size_t i;

	if (net < 0)
		start_ready(run, &ch);
	for (;;) {
		if (ch.nr_offline) {
			i = ch.offline[--ch.nr_offline];
		} else if (ch.net >= 0) {
			i = (size_t)ch.net;
			ch.net = -1;
		} else {
			break;
		}
		run_check(run, i);
		start_ready(run, &ch);
	}
	free(ch.offline);
}

static void worker_task(void *arg)
{
	struct run_worker *w = arg;

	run_chain(w->run, (long)w->index);
}

static void stamp_start(struct run *run)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(run->started_at, sizeof(run->started_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Marks what must run. */
static void prepare(struct run *run)
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
		run->workers[i].run = run;
		run->workers[i].index = i;
		run->left += run->needed[i];
	}
}

/* Waits for every check, joins the tasks that ran them and sums the run up. */
static void finish(struct run *run)
{
	size_t i;

	pthread_mutex_lock(&run->lock);
	while (run->left)
		pthread_cond_wait(&run->finished, &run->lock);
	pthread_mutex_unlock(&run->lock);
	for (i = 0; i < check_table_size; i++)
		if (run->workers[i].in_task)
			thread_task_join(&run->workers[i].task);
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
	prepare(run);
	run_chain(run, -1);
	finish(run);
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
	pthread_cond_destroy(&run->finished);
	memset(run, 0, sizeof(*run));
}

enum check_status run_worst(const struct run *run, int counts[STATUS_COUNT])
{
	return results_worst(run->results, check_table_size, counts);
}

/* ---- what a check asks of the runner ---------------------------------- */

const struct check_result *check_dep(struct check_ctx *ctx, const struct check *dep)
{
	return run_wait(ctx->run, dep, ctx->log);
}

void check_unreachable(struct check_ctx *ctx)
{
	const struct check_result *reg = run_wait(ctx->run, &check_registry, ctx->log);

	check_set(ctx, STATUS_FAIL, "unreachable", "cannot check: there is no registry to talk to (%s)",
		  reg->message && reg->message[0] ? reg->message : "the registry check failed");
}

int check_gate(struct check_ctx *ctx)
{
	unsigned needs = ctx->result->check->needs;

	if ((needs & NEED_VERIFY) && !ctx->config->verify_writes) {
		check_set(ctx, STATUS_SKIP, "no-verify",
			  "not verified: needs --writes verify (it pushes to the scratch repository and deletes what it pushed)");
		return 1;
	}
	if ((needs & NEED_WRITES) && ctx->config->no_writes) {
		check_set(ctx, STATUS_SKIP, "no-writes", "not probed (writes are off)");
		return 1;
	}
	if ((needs & NEED_ASKED) && !ctx->result->selected) {
		/* run only because another check reads it: no write the user did not ask for */
		check_set(ctx, STATUS_SKIP, "not-selected", "not probed: the check was not selected");
		return 1;
	}
	if ((needs & NEED_REACHABLE) && !ctx->facts->reachable) {
		check_unreachable(ctx);
		return 1;
	}
	return 0;
}
