/*
 * doctor: see doctor.h.
 */
#include "doctor/doctor.h"
#include "util/thread.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* An engine that lives as long as the process: about ten years of deadline. */
#define DOCTOR_ENGINE_LIFETIME_MS (10L * 365 * 24 * 3600 * 1000)

static const char *keep(struct doctor_result *r, size_t slot, const char *s)
{
	r->strings[slot] = s ? xstrdup(s) : NULL;
	return r->strings[slot];
}

enum doctor_writes doctor_writes_mode(const char *name)
{
	if (name && !strcmp(name, "none"))
		return DOCTOR_WRITES_NONE;
	if (name && !strcmp(name, "verify"))
		return DOCTOR_WRITES_VERIFY;
	return DOCTOR_WRITES_PROBE;
}

int doctor_run(struct doctor_result *out, const struct doctor_settings *s, struct engine *e,
	       const char **why)
{
	struct registry_options ro = { .url = s->registry, .creds = s->creds,
				       .timeout_ms = s->timeout_ms };

	memset(out, 0, sizeof(*out));
	out->config = (struct run_config){
		.registry = keep(out, 0, s->registry),
		.repository = keep(out, 1, s->repository ? s->repository : "library/alpine"),
		.tag = keep(out, 2, s->tag ? s->tag : "latest"),
		.scratch_repository = keep(out, 3, s->scratch_repository),
		.insecure = s->insecure,
		.creds = s->creds,
		.no_writes = s->writes == DOCTOR_WRITES_NONE,
		.verify_writes = s->writes == DOCTOR_WRITES_VERIFY,
		.keep_artifacts = s->keep_artifacts,
	};
	ro.url = out->config.registry;
	if (registry_new(&out->registry, e, &ro, why) < 0)
		return -1;
	run_init(&out->run, &out->config, e, out->registry, s->selected);
	out->ran = 1;
	if (s->drive_engine) {
		run_execute(&out->run);
	} else {
		run_start(&out->run);
		run_finish(&out->run);
	}
	out->worst = (int)run_worst(&out->run, out->counts);
	return 0;
}

void doctor_result_release(struct doctor_result *r)
{
	size_t i;

	if (r->ran)
		run_release(&r->run);
	registry_free(r->registry);
	for (i = 0; i < sizeof(r->strings) / sizeof(r->strings[0]); i++)
		free(r->strings[i]);
	memset(r, 0, sizeof(*r));
}

static void *loop_main(void *arg)
{
	engine_loop(arg);
	return NULL;
}

int doctor_engine_start(struct doctor_engine *de, const struct engine_options *opts)
{
	struct engine_options eo = *opts;

	memset(de, 0, sizeof(*de));
	eo.timeout_ms = DOCTOR_ENGINE_LIFETIME_MS;
	if (engine_new(&de->engine, &eo) < 0)
		return -1;
	engine_hold(de->engine);   /* the loop runs until doctor_engine_stop drops this */
	thread_start(&de->loop, loop_main, de->engine);
	de->started = 1;
	return 0;
}

void doctor_engine_stop(struct doctor_engine *de)
{
	if (!de->started)
		return;
	engine_unhold(de->engine);
	pthread_join(de->loop, NULL);
	engine_free(de->engine);
	memset(de, 0, sizeof(*de));
}
