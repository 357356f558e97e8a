/*
 * doctor: the one entry point every front end calls to probe a registry.
 *
 * A front end (run, matrix, serve) resolves its settings (flags, config
 * file, environment, an exporter's module) into a struct doctor_settings,
 * shares one engine across as many doctor runs as it likes, and gets back
 * a struct doctor_result that the report writers render. It never wires
 * the registry client or the check runner itself.
 *
 * Threading: doctor_run runs the first check in the calling thread and
 * hands the others to the process's thread pool (util/thread.h) as they
 * become ready; the checks' parallel calls (registry_call_many) take at
 * most REGISTRY_MAX_PARALLEL_CALLS - 1 more threads each: at most 15
 * threads at a time today, the caller's included, 29 with --writes verify
 * (docs/architecture.md counts them), all joined before doctor_run
 * returns; the pool keeps them for the next run. No thread exists to run
 * the engine: the threads that send drive it (engine/http.h), so doctor_run may be called
 * from any number of threads on one engine at once, and matrix and serve
 * share one engine (one connection pool, one DNS cache) across their runs.
 *
 * A one-shot front end (run):
 *
 *     engine_new(&e, &(struct engine_options){ .timeout_ms = 30000, .ca_file = ... });
 *     struct doctor_settings s = { .registry = url, ..., .creds = &creds,
 *                                  .writes = DOCTOR_WRITES_PROBE };
 *     doctor_run(&res, &s, e, &why);    render res.results, then
 *     doctor_result_release(&res); engine_free(e);
 *
 * A long-lived one (matrix, serve): doctor_engine_start(&de, &eo) once, then
 * doctor_run(&res, &s, de.engine, &why) from any number of threads with
 * s.timeout_ms as each run's deadline, and doctor_engine_stop(&de) at the end.
 * TLS settings belong to the engine (engine_options), so runs that need
 * different ones use different engines (serve keeps one per module).
 */
#ifndef OCIDOCTOR_DOCTOR_H
#define OCIDOCTOR_DOCTOR_H

#include "checks/results.h"
#include "checks/run.h"
#include "engine/http.h"

/* What a run may write to the registry. */
/* The test image when none is named: every front end's default. */
#define DOCTOR_DEFAULT_REPOSITORY "library/alpine"
#define DOCTOR_DEFAULT_TAG "latest"

enum doctor_writes {
	DOCTOR_WRITES_NONE = 0,   /* no write probe at all (the default of serve) */
	DOCTOR_WRITES_PROBE,      /* push and the capability write probes */
	DOCTOR_WRITES_VERIFY      /* also push an artifact and its subject, find them, delete them */
};

/* The modes' names, indexed by enum doctor_writes, NULL-terminated: none, probe, verify. */
extern const char *const doctor_writes_names[];
/* The mode a --writes value names (none, probe, verify); NULL or anything else: probe. */
enum doctor_writes doctor_writes_mode(const char *name);
/* Its name. */
const char *doctor_writes_name(enum doctor_writes mode);

/* Resolved settings of one run; every string is copied by doctor_run. */
struct doctor_settings {
	const char *registry;            /* validated URL (registry_url_parse) */
	const char *repository;          /* validated */
	const char *tag;                 /* tag or digest, validated */
	const char *scratch_repository;  /* NULL: the defaults the checks pick */
	const int *selected;             /* check_table_size flags, or NULL for all */
	enum doctor_writes writes;
	int keep_artifacts;              /* with verify: push even when deletes are not shown to work */
	const struct creds *creds;       /* resolved credentials; NULL or CRED_NONE: anonymous.
	                                    Borrowed: must outlive the result */
	int insecure;                    /* TLS verification is off in the engine (for the report) */
	long timeout_ms;                 /* the run's deadline, from doctor_run; 0: the engine's */
	const struct cancel *cancel;     /* the run's cancellation (engine_cancel_run on the
	                                    run's engine), or NULL: once set, the checks' requests
	                                    end at once and only clean-ups are still sent, within
	                                    REGISTRY_CLEANUP_GRACE_MS. Borrowed: must outlive the run */
};

/*
 * A finished run. `results` is what the writers see (report.results):
 * plain data, no executor state; the run itself is gone by the time
 * doctor_run returns.
 */
struct doctor_result {
	struct run_results results;      /* results in table order, owned */
	struct run_config config;        /* the settings the run had */
	char *strings[4];                /* owned copies behind config */
	int worst;                       /* enum check_status over the selected checks */
	int counts[STATUS_COUNT];
};

/*
 * Runs the selected checks against s->registry on engine e and fills
 * *out. Returns 0, or -1 when the run could not start (then *why is a
 * static message and *out holds nothing to render, but must still be
 * released).
 */
int doctor_run(struct doctor_result *out, const struct doctor_settings *s, struct engine *e,
	       const char **why);
void doctor_result_release(struct doctor_result *r);

/*
 * Moves what a finished run found into out (initialised here): its
 * results, timings, rate limit and config strings. The run keeps nothing
 * a writer needs and is still released with run_release. For front ends
 * that drive struct run themselves until they move onto doctor_run.
 */
void doctor_results_take(struct run_results *out, struct run *run);

/* An engine shared by many runs for as long as a front end lives. */
struct doctor_engine {
	struct engine *engine;
	int started;
};

/* Creates it (timeout_ms of opts is ignored: each run brings its deadline). */
int doctor_engine_start(struct doctor_engine *de, const struct engine_options *opts);
/* Frees the engine; no run may be going. */
void doctor_engine_stop(struct doctor_engine *de);

#endif
