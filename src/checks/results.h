/*
 * results: a finished doctor run as plain data, what the report writers
 * see. No executor state (no threads, locks, engine or registry): the
 * core (doctor_run) moves the results out of a finished run into a
 * struct run_results, which owns everything it points at.
 */
#ifndef OCIDOCTOR_RESULTS_H
#define OCIDOCTOR_RESULTS_H

#include "checks/check.h"

/*
 * How the run was invoked, beyond the target: what a command suggested
 * to the user must repeat so that it reaches the same registry the same
 * way (report/commands.c). Strings only, no secrets; all may be NULL.
 */
struct run_invocation {
	char *ca_file;                   /* --ca-file */
	char *cert, *key;                /* --cert, --key */
	char *docker_config;             /* --docker-config */
	char *username;                  /* --username (the password is never kept) */
	char *password_file;             /* --password-file */
	int password_stdin;              /* --password-stdin */
	char *writes;                    /* none, probe or verify; NULL: probe */
	int keep_artifacts;
	long timeout;                    /* seconds, 0: the default */
	char *proxy;                     /* the proxy the registry is reached through, no user info */
	char *proxy_var;                 /* the environment variable that named it */
};

struct run_results {
	/* the run's settings, as plain strings (owned) */
	char *registry;                  /* as given, validated */
	char *repository;
	char *tag;
	char *scratch_repository;        /* NULL: the checks' default */
	int insecure;                    /* TLS verification was off */
	int no_writes;
	int anonymous;                   /* no credentials were found */
	struct run_invocation invocation; /* owned */
	/* what the run found that a report fills in */
	char *manifest_digest;           /* the pull check's, validated, or NULL */
	/* the results, check_table_size entries in table order (owned) */
	struct check_result *results;
	size_t nr;
	char started_at[32];             /* RFC 3339, UTC */
	long duration_ms;
	long requests;
	long round_trips;                /* longest chain of dependent requests */
	json_t *rate_limit;              /* the first rate-limiting answer, or NULL (owned) */
	long rate_limit_remaining;       /* what the registry said is left, -1 when it did not */
	int counts[STATUS_COUNT];        /* over the selected results (results_worst) */
	enum check_status worst;
};

/* An empty results structure (rate_limit_remaining -1). */
void run_results_init(struct run_results *r);
void run_results_release(struct run_results *r);
/* Sets r->strings from the given values (copied; NULL stays NULL). */
void run_results_set_config(struct run_results *r, const char *registry, const char *repository,
			    const char *tag, const char *scratch_repository);
/* Sets r->invocation to a copy of inv (the old one is released). */
void run_results_set_invocation(struct run_results *r, const struct run_invocation *inv);
void run_invocation_release(struct run_invocation *inv);

/* The number of selected, finished results that another result blocked. */
size_t results_blocked(const struct run_results *r);
/* The selected, finished result that blocks others (the root cause), or NULL. */
const struct check_result *results_root_cause(const struct run_results *r);

/* Recomputes counts and worst from the results. */
void run_results_tally(struct run_results *r);

/*
 * The worst status over the selected results that ran: a skipped check
 * does not count, so a run that passes everything else passes. Only a run
 * whose every result was skipped is skip.
 */
enum check_status results_worst(const struct check_result *results, size_t nr,
				int counts[STATUS_COUNT]);

/*
 * Calls fn for every section of every selected, finished result, in
 * table order and then the order the check added them.
 */
typedef void (*results_section_fn)(void *arg, const struct check_result *res,
				   const struct result_section *s);
void results_foreach_section(const struct run_results *r, results_section_fn fn, void *arg);
/* The first section with this id of a selected, finished result, or NULL. */
const struct result_section *results_section(const struct run_results *r, const char *id);

#endif
