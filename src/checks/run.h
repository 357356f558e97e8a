/*
 * run: one doctor run: the selected checks (and what they depend on),
 * run concurrently over one engine, with their results in table order.
 */
#ifndef OCIDOCTOR_RUN_H
#define OCIDOCTOR_RUN_H

#include "checks/check.h"

struct run {
	const struct run_config *config;
	struct engine *engine;
	struct registry *registry;
	struct run_facts facts;
	struct check_result *results;    /* check_table_size entries, in table order */
	struct evidence_log *logs;       /* each check's call context while it runs (run.c) */
	char started_at[32];             /* RFC 3339, UTC */
	long duration_ms;
	long requests;
	long round_trips;                /* longest chain of dependent requests */
	json_t *rate_limit;              /* the first rate-limiting answer, or NULL */
	pthread_mutex_t lock;
	pthread_cond_t cond;             /* a check finished (run_wait) */
	pthread_cond_t finished;         /* the last one did (left is 0) */
	size_t left;                     /* needed checks not finished */
	struct run_worker *workers;      /* one per check: how it was handed to a thread */
	int *needed;
	long started_ms;
};

/*
 * Sets up a run; `selected` has check_table_size flags (NULL: all).
 * Checks that a selected check depends on run too, unselected.
 */
void run_init(struct run *run, const struct run_config *config, struct engine *engine,
	      struct registry *registry, const int *selected);
/*
 * Runs the checks and returns when every one has finished. A check is
 * handed to a thread only once its dependencies are done: the calling
 * thread runs the first, and the thread that finishes a check runs one
 * of the checks that made ready and hands the others to pool tasks
 * (util/thread.h). Every check that is ready has a thread, so a check
 * that waits for one it uses (check_dep) never waits for a check that
 * has none.
 */
void run_execute(struct run *run);
void run_release(struct run *run);

/*
 * Waits until check c has finished and returns its result. The waiter's
 * round-trip chain (its evidence log's depth) continues after c's.
 */
const struct check_result *run_wait(struct run *run, const struct check *c,
				    struct evidence_log *waiter);

/*
 * The worst status over the selected results that ran: a skipped check
 * (no credentials to verify, no writes allowed) does not count, so a run
 * that passes everything else passes. Only a run whose every result was
 * skipped is skip.
 */
enum check_status run_worst(const struct run *run, int counts[STATUS_COUNT]);

#endif
