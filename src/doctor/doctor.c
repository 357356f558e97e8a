/*
 * doctor: see doctor.h.
 */
#include "doctor/doctor.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

/* An engine that lives as long as the process: about ten years of deadline. */
#define DOCTOR_ENGINE_LIFETIME_MS (10L * 365 * 24 * 3600 * 1000)

static const char *keep(struct doctor_result *r, size_t slot, const char *s)
{
	r->strings[slot] = s ? xstrdup(s) : NULL;
	return r->strings[slot];
}

const char *const doctor_writes_names[] = {
	[DOCTOR_WRITES_NONE] = "none",
	[DOCTOR_WRITES_PROBE] = "probe",
	[DOCTOR_WRITES_VERIFY] = "verify",
	NULL,
};

enum doctor_writes doctor_writes_mode(const char *name)
{
	if (name && !strcmp(name, doctor_writes_names[DOCTOR_WRITES_NONE]))
		return DOCTOR_WRITES_NONE;
	if (name && !strcmp(name, doctor_writes_names[DOCTOR_WRITES_VERIFY]))
		return DOCTOR_WRITES_VERIFY;
	return DOCTOR_WRITES_PROBE;
}

const char *doctor_writes_name(enum doctor_writes mode)
{
	return doctor_writes_names[mode];
}

int doctor_run(struct doctor_result *out, const struct doctor_settings *s, struct engine *e,
	       const char **why)
{
	struct registry_options ro = { .url = s->registry, .creds = s->creds,
				       .timeout_ms = s->timeout_ms, .cancel = s->cancel };
	struct registry *registry = NULL;
	struct run run;

	memset(out, 0, sizeof(*out));
	run_results_init(&out->results);
	out->config = (struct run_config){
		.registry = keep(out, 0, s->registry),
		.repository = keep(out, 1, s->repository ? s->repository : DOCTOR_DEFAULT_REPOSITORY),
		.tag = keep(out, 2, s->tag ? s->tag : DOCTOR_DEFAULT_TAG),
		.scratch_repository = keep(out, 3, s->scratch_repository),
		/* skipping TLS verification means nothing without TLS, and is not reported then */
		.insecure = s->insecure && !strncasecmp(s->registry, "https:", 6),
		.creds = s->creds,
		.no_writes = s->writes == DOCTOR_WRITES_NONE,
		.verify_writes = s->writes == DOCTOR_WRITES_VERIFY,
		.keep_artifacts = s->keep_artifacts,
	};
	ro.url = out->config.registry;
	if (registry_new(&registry, e, &ro, why) < 0)
		return -1;
	run_init(&run, &out->config, e, registry, s->selected);
	run_execute(&run);
	doctor_results_take(&out->results, &run);
	run_release(&run);
	registry_free(registry);
	out->worst = (int)out->results.worst;
	memcpy(out->counts, out->results.counts, sizeof(out->counts));
	return 0;
}

/* The leading number of a RateLimit-Remaining value ("76;w=21600"), or -1. */
static long remaining_value(const char *v)
{
	char *end;
	long n;

	if (!v || !isdigit((unsigned char)*v))
		return -1;
	n = strtol(v, &end, 10);
	return n >= 0 ? n : -1;
}

/* From the first rate-limiting answer, else from the answer to GET /v2/. */
static long rate_limit_remaining(const struct run *run)
{
	const char *names[] = { "RateLimit-Remaining", "X-RateLimit-Remaining" };
	const json_t *headers = json_object_get(run->rate_limit, "headers");
	const char *key;
	json_t *v;
	long n = -1;
	size_t i;

	json_object_foreach((json_t *)headers, key, v)
		if (n < 0 && (!strcasecmp(key, "ratelimit-remaining") ||
			      !strcasecmp(key, "x-ratelimit-remaining")))
			n = remaining_value(json_string_value(v));
	for (i = 0; n < 0 && run->facts.ping && i < 2; i++)
		n = remaining_value(http_header_get(run->facts.ping, names[i]));
	return n;
}

void doctor_results_take(struct run_results *out, struct run *run)
{
	const struct run_config *c = run->config;

	run_results_init(out);
	run_results_set_config(out, c->registry, c->repository, c->tag, c->scratch_repository);
	out->insecure = c->insecure;
	out->no_writes = c->no_writes;
	out->anonymous = !c->creds || c->creds->source == CRED_NONE;
	out->manifest_digest = run->facts.manifest_digest ? xstrdup(run->facts.manifest_digest) : NULL;
	out->results = run->results;
	out->nr = check_table_size;
	run->results = xcalloc(check_table_size, sizeof(*run->results));
	memcpy(out->started_at, run->started_at, sizeof(out->started_at));
	out->duration_ms = run->duration_ms;
	out->requests = run->requests;
	out->round_trips = run->round_trips;
	out->rate_limit_remaining = rate_limit_remaining(run);
	out->rate_limit = run->rate_limit;
	run->rate_limit = NULL;
	run_results_tally(out);
}

void doctor_result_release(struct doctor_result *r)
{
	size_t i;

	run_results_release(&r->results);
	for (i = 0; i < sizeof(r->strings) / sizeof(r->strings[0]); i++)
		free(r->strings[i]);
	memset(r, 0, sizeof(*r));
}

int doctor_engine_start(struct doctor_engine *de, const struct engine_options *opts)
{
	struct engine_options eo = *opts;

	memset(de, 0, sizeof(*de));
	eo.timeout_ms = DOCTOR_ENGINE_LIFETIME_MS;
	if (engine_new(&de->engine, &eo) < 0)
		return -1;
	de->started = 1;
	return 0;
}

void doctor_engine_stop(struct doctor_engine *de)
{
	if (!de->started)
		return;
	engine_free(de->engine);
	memset(de, 0, sizeof(*de));
}
