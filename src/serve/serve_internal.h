/*
 * serve_internal: what the exporter's HTTP layer (serve.c) and its probes
 * (serve_probe.c) share. Not for other modules.
 */
#ifndef OCIDOCTOR_SERVE_INTERNAL_H
#define OCIDOCTOR_SERVE_INTERNAL_H

#include "report/report.h"
#include "serve/serve.h"
#include "util/ref.h"

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
	int abandoned;                  /* its scrape's client went away while it ran: cut short */
	pthread_mutex_t render;         /* writers of one record take turns */
};

/*
 * One registry's entry in the writing modules' cache: the key is the
 * module and the registry's host and port (serve_cache_key), so another
 * spelling of the target, or another image, finds the same entry.
 */
struct serve_cached {
	char *key;
	struct probe_rec *rec;          /* NULL while the first probe runs */
	long at_ms;
	long until_ms;                  /* at_ms + the module's min_interval then: evictable after */
	int running;
};

/* The writing modules' cache: the server's, so that a reload keeps it. */
struct serve_cache {
	pthread_mutex_t lock;
	pthread_cond_t cond;            /* a probe that others wait for ended */
	struct serve_cached *entries;   /* SERVE_CACHE_MAX */
	size_t nr;
};

/*
 * A connection's deadline for its next request, and the probe its
 * request runs, which the watchdog (serve.c) cancels when the client
 * closes the connection. Under the server's watch_lock.
 */
struct conn_watch {
	int fd;
	long deadline_ms;               /* clock_now_ms; 0 while a request is being answered */
	struct cancel *cancel;          /* the running probe's, or NULL */
	struct engine *engine;          /* the engine it runs on */
	struct conn_watch *prev, *next;
};

/* Counters per module name; they outlive reloads. */
struct module_counters {
	char *name;
	unsigned long success, failure, errors, cache_hits, abandoned;
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
	struct serve_config *live;      /* every config still in use (live_next) */
	int stopping;                   /* SIGTERM: nothing new starts, waits end */
	pthread_mutex_t reload_lock;
	long max_timeout_ms;            /* --max-timeout */
	struct serve_cache cache;
	/* the connections' deadlines, kept by the watchdog thread */
	pthread_mutex_t watch_lock;
	pthread_cond_t watch_cond;
	struct conn_watch *watched;
	int watch_stop;
};

/* A probe as asked for: the target validated, the time budget worked out. */
struct probe_req {
	const char *target, *repository, *tag;
	char *hostport;
	char *registry;                 /* host:port with the scheme's port filled in (the cache key) */
	long timeout_ms;
	long deadline_ms;               /* clock_now_ms: the scrape's own end */
	int client_fd;                  /* the scrape's connection, to see it closed; -1: unknown */
	struct conn_watch *watch;       /* its watchdog entry, or NULL */
};

/* Why no probe result came back. */
enum probe_refusal {
	REFUSED_NONE = 0,
	REFUSED_BUSY,                   /* every --max-concurrent slot was taken */
	REFUSED_DEADLINE,               /* the scrape's deadline passed while it waited */
	REFUSED_CLIENT_GONE,            /* the scrape's connection closed while it waited */
	REFUSED_STOPPING,               /* the server is stopping */
	REFUSED_INTERVAL,               /* a writing module wrote to this registry for another
	                                   image within min_interval */
	REFUSED_CACHE_FULL,             /* every cache entry is within its min_interval */
	REFUSED_ABANDONED               /* a writing module's last probe of this registry, within
	                                   min_interval, was abandoned: no result to give */
};

struct probe_outcome {
	enum probe_refusal refusal;
	long age_ms;                    /* a cached result's age; -1 for a fresh one */
	long retry_ms;                  /* REFUSED_INTERVAL: until the registry may be written again */
};

/* Whether the scrape's client has closed its connection (fd -1: never). */
int serve_client_gone(int fd);
/*
 * Has the watchdog cancel a running probe (c on engine e) when the
 * client of connection w goes away; c NULL: the probe is over. w NULL:
 * nothing to watch.
 */
void serve_watch_probe(struct server *s, struct conn_watch *w, struct cancel *c,
		       struct engine *e);

/* Records are shared (history, cache, answers): a reference each. */
struct probe_rec *serve_rec_ref(struct probe_rec *r);
void serve_rec_unref(struct probe_rec *r);

/*
 * Runs a probe in one of the --max-concurrent slots and adds it to the
 * history; NULL when every slot is taken (counted as rejected). When the
 * scrape's client goes away meanwhile the probe is cancelled (its
 * requests end, its clean-ups still get REGISTRY_CLEANUP_GRACE_MS) and
 * the record comes back marked abandoned.
 */
struct probe_rec *serve_probe_in_slot(struct server *s, struct serve_module *m,
				      const struct probe_req *q);
/*
 * For a writing module, whose writes to one registry are at most one
 * probe per min_interval: a result younger than that for the same image
 * is served again (out->age_ms set), a probe of the same registry already
 * running is waited for (until the scrape's deadline, its connection
 * closes or the server stops), else a new one runs (out->age_ms -1). NULL
 * with out->refusal set when there is no result to give.
 */
struct probe_rec *serve_probe_cached(struct server *s, struct serve_module *m,
				     const struct probe_req *q, struct probe_outcome *out);

/* The cache's key of a registry URL: host:port, lower case, the scheme's port when none. */
char *serve_cache_key(const struct registry_url *u);
void serve_cache_init(struct serve_cache *c);
void serve_cache_release(struct serve_cache *c);

/* The renderings of a record; callers hold r->render. */
void serve_write_metrics(FILE *out, struct probe_rec *r, int openmetrics, int cached, long age_ms);
void serve_write_debug(FILE *out, struct probe_rec *r, int cached, long age_ms);
int serve_write_report(FILE *out, struct probe_rec *r, const struct report_writer *w);

/* The exporter's process_* series (serve_process.c). */
void serve_write_process_metrics(FILE *out, int openmetrics);

#endif
