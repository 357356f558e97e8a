/*
 * fleet: the job pool of `ocidoctor matrix`. At most `parallel` targets
 * run at once, each through doctor_run on one shared engine (so targets
 * on the same registry share connections), and each target's row is
 * written as soon as it and the targets before it have finished, in the
 * targets file's order; a target's run is freed once its row is out, so
 * memory follows `parallel`, not the number of targets.
 *
 * Threads: the calling thread hands the targets out, and at most
 * `parallel` jobs run as pool tasks (util/thread.h), each one doctor_run
 * of at most T threads at a time, its own included (its checks and their
 * parallel calls: 15, 29 with --writes verify; docs/architecture.md):
 * at most 1 + parallel * T. Jobs are joined, never left running: the
 * dispatcher joins a slot's last job before it reuses the slot, and
 * every slot before fleet_run returns.
 * A job owns its target; the credentials and settings it reads are the
 * fleet's and outlive every job.
 */
#ifndef OCIDOCTOR_FLEET_H
#define OCIDOCTOR_FLEET_H

#include "cli/progress.h"
#include "cli/targets.h"
#include "doctor/doctor.h"
#include "report/matrix.h"

struct fleet_options {
	const struct matrix_writer *writer;
	FILE *out;
	long parallel;                    /* at least 1 */
	int progress;                     /* draw the bar on stderr */
	struct engine_options engine;     /* TLS and tracing, for the one engine */
	/* every run's settings but the target's own (registry, repository, tag, creds) */
	struct doctor_settings base;
	int insecure;                     /* --insecure (reported for https:// targets only) */
	const struct creds *const *creds; /* per target, in the file's order; borrowed */
};

/*
 * Runs every target of src and writes the table (begin, a row per target,
 * end). Returns 0 with *worst the worst status of all, or -1 when the
 * engine cannot start.
 */
int fleet_run(const struct fleet_options *o, struct target_source *src,
	      enum check_status *worst);

#endif
