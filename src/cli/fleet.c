/*
 * fleet: see fleet.h.
 */
#include "cli/fleet.h"
#include "util/thread.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct fleet {
	const struct fleet_options *o;
	struct matrix_out mo;
	struct doctor_engine de;
	int total, done, active;
	struct progress bar;
	int started;              /* targets handed to jobs so far: the next job's index */
	struct matrix_row **ring; /* finished rows waiting for the ones before them, parallel slots */
	char started_at[32];
	int counts[STATUS_COUNT];
	enum check_status worst;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/*
	 * Jobs run as pool tasks (util/thread.h), one per slot, and are joined,
	 * never left running: the dispatcher joins a slot's last job before it
	 * gives the slot a new one, and all of them before fleet_run returns.
	 * A slot is free once its row is written (at most `parallel` jobs are
	 * started and not yet written, with consecutive indexes), so a job's
	 * slot is its index modulo `parallel`, like its place in `ring`.
	 */
	struct thread_task *tasks;
	int *task_used;
};

struct job {
	struct fleet *fleet;
	int index;                /* the target's place in the file, from 0 */
	struct target target;
};

/* Writes every finished row whose predecessors are written, in file order. Holds f->lock. */
static void flush_rows(struct fleet *f)
{
	int slots = (int)f->o->parallel;
	struct matrix_row *row;

	while ((row = f->ring[f->done % slots])) {
		f->ring[f->done % slots] = NULL;
		progress_clear(&f->bar);
		f->o->writer->row(&f->mo, row);
		fflush(f->o->out);
		f->done++;
		f->counts[row->worst]++;
		if (row->worst > f->worst)
			f->worst = row->worst;
		matrix_row_free(row);
		f->active--; /* the slot is free once its row is out */
		progress_draw(&f->bar, f->done, f->counts[STATUS_FAIL]);
	}
	pthread_cond_broadcast(&f->cond);
}

/* One target's row, through the core. */
static struct matrix_row *probe(struct fleet *f, const struct job *j)
{
	struct doctor_settings s = f->o->base;
	struct doctor_result res;
	struct matrix_row row, *copy;
	const char *why = NULL;

	s.registry = j->target.registry;
	s.repository = j->target.repository;
	s.tag = j->target.tag;
	s.creds = f->o->creds[j->index];
	/* --insecure means nothing without TLS, and is not reported then */
	s.insecure = f->o->insecure && !strncasecmp(j->target.registry, "https:", 6);
	if (doctor_run(&res, &s, f->de.engine, &why) < 0)
		xbug("a validated target was refused");
	matrix_row_from_results(&row, &res.results);
	copy = matrix_row_dup(&row);
	matrix_row_release(&row);
	doctor_result_release(&res);
	return copy;
}

/* Runs one target, frees everything it had, writes its row, then gives its slot back. */
static void job_main(void *arg)
{
	struct job *j = arg;
	struct fleet *f = j->fleet;
	struct matrix_row *copy = probe(f, j);
	int index = j->index;

	target_release(&j->target);
	free(j);

	pthread_mutex_lock(&f->lock);
	f->ring[index % (int)f->o->parallel] = copy;
	flush_rows(f);
	pthread_mutex_unlock(&f->lock);
}

/* Joins the last job of a slot, if it had one. */
static void join_slot(struct fleet *f, int slot)
{
	if (f->task_used[slot])
		thread_task_join(&f->tasks[slot]);
	f->task_used[slot] = 0;
}

/* Starts a job whenever fewer than parallel run, then waits for the last. */
static void dispatch(struct fleet *f, struct target_source *src)
{
	int slots = (int)f->o->parallel, slot;

	for (;;) {
		struct job *j = xcalloc(1, sizeof(*j));

		if (!source_next(src, &j->target)) {
			free(j);
			break;
		}
		j->fleet = f;
		pthread_mutex_lock(&f->lock);
		while (f->active >= f->o->parallel)
			pthread_cond_wait(&f->cond, &f->lock);
		f->active++;
		j->index = f->started++;
		pthread_mutex_unlock(&f->lock);
		slot = j->index % slots;
		join_slot(f, slot);
		f->task_used[slot] = 1;
		thread_task_start(&f->tasks[slot], job_main, j); /* j may be gone once this returns */
	}
	for (slot = 0; slot < slots; slot++)
		join_slot(f, slot);
}

int fleet_run(const struct fleet_options *o, struct target_source *src,
	      enum check_status *worst)
{
	struct fleet f = { .o = o, .total = (int)src->nr };
	struct tm tm;
	time_t now = time(NULL);

	f.bar = (struct progress){ .on = o->progress, .total = f.total };
	gmtime_r(&now, &tm);
	strftime(f.started_at, sizeof(f.started_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	f.mo = (struct matrix_out){ .out = o->out, .started_at = f.started_at, .total = f.total };
	if (doctor_engine_start(&f.de, &o->engine) < 0)
		return -1;
	f.ring = xcalloc((size_t)o->parallel, sizeof(*f.ring));
	f.tasks = xcalloc((size_t)o->parallel, sizeof(*f.tasks));
	f.task_used = xcalloc((size_t)o->parallel, sizeof(*f.task_used));
	pthread_mutex_init(&f.lock, NULL);
	pthread_cond_init(&f.cond, NULL);
	if (o->writer->begin)
		o->writer->begin(&f.mo);
	progress_draw(&f.bar, 0, 0);
	dispatch(&f, src);
	doctor_engine_stop(&f.de);
	progress_clear(&f.bar);
	if (o->writer->end)
		o->writer->end(&f.mo, f.done, f.worst);
	free(f.ring);
	free(f.tasks);
	free(f.task_used);
	pthread_mutex_destroy(&f.lock);
	pthread_cond_destroy(&f.cond);
	*worst = f.worst;
	return 0;
}
