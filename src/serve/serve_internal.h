/*
 * serve_internal: what the exporter's HTTP layer (serve.c) and its probes
 * (serve_probe.c) share. Not for other modules.
 */
#ifndef OCIDOCTOR_SERVE_INTERNAL_H
#define OCIDOCTOR_SERVE_INTERNAL_H

#include "report/report.h"
#include "serve/serve.h"

#include <stdio.h>

#define COUNTER_SLOTS 256

/* One probe's outcome, shared by the history, a module's cache and the answers. */
struct probe_rec {
	int refs;                       /* guarded by rec_lock */
	long id;
	struct doctor_result res;
	int ran;                        /* res holds a run */
	struct creds creds;
	char *target, *module, *repository, *tag;
	char *notes;                    /* lines for the debug log: credentials withheld, errors */
	char *module_text;              /* the module as the debug answer shows it */
	time_t when;
	long duration_ms, timeout_ms;
	int success;
	pthread_mutex_t render;         /* writers of one record take turns */
};

struct serve_cached {
	char *key;
	struct probe_rec *rec;          /* NULL while the first probe runs */
	long at_ms;
	int running;
};

/* Counters per module name; they outlive reloads. */
struct module_counters {
	char *name;
	unsigned long success, failure, errors, cache_hits;
};

struct server {
	struct serve_args *args;
	long offset_ms;
	int log_json;
	pthread_mutex_t lock;           /* everything below */
	struct serve_config *config;
	int active;
	struct module_counters counters[COUNTER_SLOTS];
	unsigned long unknown_module, rejected, reload_failures, bad_requests;
	int reload_ok;
	time_t reload_time;
	struct probe_rec **history;     /* ring of history_limit */
	size_t history_next;
	long next_id;
	pthread_mutex_t reload_lock;
};

/* A probe as asked for: the target validated, the time budget worked out. */
struct probe_req {
	const char *target, *repository, *tag;
	char *hostport;
	long timeout_ms;
};

/* Records are shared (history, cache, answers): a reference each. */
struct probe_rec *serve_rec_ref(struct probe_rec *r);
void serve_rec_unref(struct probe_rec *r);

/*
 * Runs a probe in one of the --max-concurrent slots and adds it to the
 * history; NULL when every slot is taken (counted as rejected).
 */
struct probe_rec *serve_probe_in_slot(struct server *s, struct serve_module *m,
				      const struct probe_req *q);
/*
 * For a writing module: a result younger than min_interval is served again
 * (*age_ms set), a probe of the same target already running is waited
 * for, else a new one runs (*age_ms -1). NULL when no slot was free.
 */
struct probe_rec *serve_probe_cached(struct server *s, struct serve_module *m,
				     const struct probe_req *q, long *age_ms);

/* The renderings of a record; callers hold r->render. */
void serve_write_metrics(FILE *out, struct probe_rec *r, int openmetrics, int cached, long age_ms);
void serve_write_debug(FILE *out, struct probe_rec *r, int cached, long age_ms);
int serve_write_report(FILE *out, struct probe_rec *r, const struct report_writer *w);

#endif
