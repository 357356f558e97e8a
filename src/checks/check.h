/*
 * check: the framework every check is written against.
 *
 * A check is one source file, src/checks/<name>.c, that exports one
 * `const struct check` and keeps everything else static (a large check
 * may split its jobs into src/checks/<name>_*.c behind an internal
 * header, as artifacts does). The table in
 * checks.c lists them all. A check's run function gets a struct check_ctx,
 * makes its requests through ctx->registry (never printing anything) and
 * fills in ctx->result: a status, a one-line message, structured details
 * (a jansson object) and, when it did not pass, the cause that picks its
 * remediation from the knowledge base (kb.h: docs/checks/<id>.md). Requests are recorded as evidence by the registry layer.
 *
 * Checks run concurrently, each in its own thread; a check runs only
 * after the checks in its `deps` have finished, and may read their
 * results and the run's shared facts (struct run_facts), which a check
 * writes only for the checks that depend on it. A check in `uses` runs
 * at the same time; check_dep() waits for it, so a check can do its own
 * probes first and read the other's verdict at the end, which keeps the
 * chain of dependent round trips short.
 *
 * What a check needs before it can run (a registry that answered, writes
 * allowed, --writes verify) it declares in .needs; the runner tests those
 * and decides the check itself when one is missing, so run holds no such
 * gate.
 *
 * To add a check:
 *  1. write src/checks/<name>.c exporting `const struct check check_<name>`,
 *     with .needs for what it needs;
 *  2. declare it below and add it to check_table[] in checks.c;
 *     A table the check returns (one row per thing it judged) is a result
 *     section: a static section_def and section_row() calls; every writer
 *     renders it, no writer changes;
 *  3. write docs/checks/<id>.md, with a "## Remediation" entry for every
 *     cause in `.causes` (tools/kbgen.c compiles it in; test_kb checks it);
 *  4. add integration tests under tests/integration/.
 */
#ifndef OCIDOCTOR_CHECK_H
#define OCIDOCTOR_CHECK_H

#include "engine/registry.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>

/* In rank order: summary.worst is the highest of these. */
enum check_status {
	STATUS_PASS = 0,
	STATUS_SKIP,
	STATUS_INFO,
	STATUS_WARN,
	STATUS_FAIL
};
#define STATUS_COUNT 5

const char *check_status_name(enum check_status s);

struct remediation_step {
	const char *platform;          /* "docker-compose", "bare-metal", "kubernetes" */
	const char *text;
	const char *const *commands;   /* NULL-terminated, or NULL */
};

/* The advice for one cause of a non-pass result. */
struct remediation {
	const char *cause;             /* matched against check_result.cause; NULL ends the list */
	const char *category;          /* connectivity, tls, auth, permissions, compatibility,
					  configuration or rate-limit: for grouping on a dashboard */
	const char *summary;
	const struct remediation_step *steps; /* ended by a step with platform NULL */
};

struct check_ctx;
struct run_config;

/*
 * What a check needs before its run has anything to do. The runner
 * (run.c) tests them in this order and, when one is missing, decides the
 * check itself with that need's cause, before run is called: run never
 * sees an unmet need, and the check's own .causes leave these out
 * (check_cause_at lists both).
 */
enum check_need {
	NEED_VERIFY = 1 << 0,    /* --writes verify: else skip, cause "no-verify" */
	NEED_WRITES = 1 << 1,    /* writes not turned off: else skip, cause "no-writes" */
	NEED_ASKED = 1 << 2,     /* asked for, not only run because another check reads it (a
	                            check that writes writes only where a report shows it):
	                            else skip, cause "not-selected" */
	NEED_REACHABLE = 1 << 3  /* the registry check found a registry: else fail, cause
	                            "unreachable", blocked by the registry check */
};

struct check {
	const char *id;
	const char *title;
	const char *plugin;
	const char *const *tags;        /* NULL-terminated */
	enum check_status severity;     /* default severity: info, warn or fail */
	const struct check *const *deps; /* run before this one starts; NULL-terminated, or NULL */
	const struct check *const *uses; /* run alongside; check_dep waits for them; or NULL */
	const char *summary;            /* one line: what it checks */
	void (*run)(struct check_ctx *ctx);
	unsigned needs;                 /* enum check_need bits, tested before run */
	int opt_in;                     /* left out of the default selection: runs when --check
	                                   names it, or --tags names a tag only opt-in checks
	                                   carry (a module's checks/tags alike) */
	/*
	 * Optional: writes the details that say what the check looks at (the
	 * repository, the reference), before its needs are tested, so that a
	 * check the runner decides still names them.
	 */
	void (*describe)(struct check_ctx *ctx);
	const char *const *causes;      /* every cause run may set; each has advice in the KB */
	/*
	 * Optional, beside needs: whether, under this configuration, run
	 * decides at once, with no request and without waiting for another
	 * check. run must use the same test. See check_offline.
	 */
	int (*offline)(const struct run_config *config);
};

/* What the checks share with their dependents. Written by one check each. */
struct run_facts {
	/* by check.integration.oci.registry */
	struct http_response *ping;      /* GET /v2/, or NULL when it failed */
	int reachable;
	/* by check.integration.oci.pull */
	char *manifest_digest;           /* validated, or NULL */
	/* by whichever writing check gets there first (scratch_note_created) */
	atomic_int scratch_creation_noted;
};

struct run_config {
	const char *registry;            /* as given, validated */
	const char *repository;
	const char *tag;
	const char *scratch_repository;  /* NULL: use repository */
	int insecure;
	const struct creds *creds;
	int no_writes;                   /* --writes none */
	int verify_writes;               /* --writes verify: the artifacts check pushes */
	int keep_artifacts;              /* push without proof that deletes work, and delete nothing */
};

/*
 * Result sections: a table a check returns with its result, rows of
 * (name, state, reason, evidence, ...), which every writer renders the
 * same way (text under the check's line, HTML and Markdown tables, the
 * JSON report's details.sections[], Prometheus series when the section
 * names a metric). A check declares its sections as static section_defs
 * and fills them with section_row(); no writer knows a check by name.
 */
#define SECTION_MAX_COLUMNS 6

struct section_column {
	const char *key;                 /* the row's member in JSON: "name", "state", "reason", ... */
	const char *title;               /* the column's heading: "Capability" */
	int long_text;                   /* too long for a terminal line: the text report leaves it out */
};

enum section_metric {
	SECTION_METRIC_NONE = 0,
	SECTION_METRIC_STATE,            /* <metric>{<label>=name}: 1 supported, 0 unsupported,
					    -1 otherwise; no sample for "not-probed"; plus <score_metric> */
	SECTION_METRIC_INFO              /* <metric>{<label>=name, <key>=cell...} 1, without "why"/"reason"/"evidence" */
};

struct section_def {
	const char *id;                  /* unique in its check: "capabilities" */
	const char *title;               /* the heading: "Capabilities" */
	struct section_column columns[SECTION_MAX_COLUMNS]; /* [0] is the row's name; ended by key NULL */
	int summary;                     /* shown with the report's summary (HTML: at the top) */
	int bare;                        /* the text report lists the rows without a heading */
	enum section_metric metric_kind; /* how the Prometheus writer shows it */
	const char *metric;              /* e.g. "ocidoctor_capability_supported" */
	const char *metric_label;        /* the label for the row's name: "capability" */
	const char *metric_help;
	const char *score_metric;        /* SECTION_METRIC_STATE: the count of supported rows, or NULL */
	const char *score_help;
	const char *probed_metric;       /* SECTION_METRIC_STATE: the count of probed rows (the
					    score's denominator), or NULL */
	const char *probed_help;
};

struct section_row {
	char *cells[SECTION_MAX_COLUMNS]; /* one per column, owned, never NULL */
};

struct result_section {
	const struct section_def *def;
	struct section_row *rows;
	size_t nr, alloc;
};

struct check_result {
	const struct check *check;
	enum check_status status;
	char *message;
	const char *cause;               /* remediation key, or NULL for the first */
	json_t *details;                 /* object, owned */
	struct evidence_list evidence;   /* the check's exchanges, once it has finished */
	long duration_ms;
	long depth;                      /* round trips on the longest chain up to its end */
	int done;
	int selected;                    /* asked for by the user (else run only as a dependency) */
	const struct check *blocked_by;  /* could not run because of that check's failure (run.c):
					    its cause is this one's; it gives no fix of its own */
	struct result_section *sections; /* owned, in the order the check added them */
	size_t sections_nr;
};

/* Frees what a result owns (message, details, evidence, sections). */
void check_result_release(struct check_result *res);

/* The section def of res, added empty the first time. */
struct result_section *result_section(struct check_result *res, const struct section_def *def);
/* Adds a row: one value per column of the section (NULL counts as ""); copied. */
void section_row(struct result_section *s, const char *const *cells);
/* The number of columns of a section def. */
size_t section_columns(const struct section_def *def);
/* The value of column `key` in row, or NULL when the section has no such column. */
const char *section_cell(const struct result_section *s, const struct section_row *row,
			 const char *key);
/* The row called name, or NULL. */
const struct section_row *section_find_row(const struct result_section *s, const char *name);
/* The JSON form of a result's sections (an array, details.sections), new reference. */
json_t *result_sections_json(const struct check_result *res);

struct check_ctx {
	const struct run_config *config;
	struct registry *registry;
	struct run_facts *facts;
	struct check_result *result;
	struct evidence_log *log;        /* where the check's calls go: its evidence and round trips */
	struct run *run;
};

/* The table, in report order. */
extern const struct check *const check_table[];
extern const size_t check_table_size;
/*
 * The check named by its full id, or by its last segment ("pull" for
 * check.integration.oci.pull) when exactly one check ends so; else NULL.
 */
const struct check *check_find(const char *id);
/* The id of the check closest to a mistyped name (full id or last segment), or NULL. */
const char *check_suggest(const char *name);

/* Sets status, message (printf-style) and cause in one go. */
void check_set(struct check_ctx *ctx, enum check_status status, const char *cause,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/*
 * The result of a check in `deps` or `uses`. For `uses`, this waits until
 * that check has finished, so call it only when the answer is needed.
 */
const struct check_result *check_dep(struct check_ctx *ctx, const struct check *dep);

/* Makes the check's main call, noting httpStatus and authenticated in its details. */
void check_call(struct check_ctx *ctx, struct registry_call *call);
/* The remediation that fits a result: its page's entry for the cause, else the page's first. */
const struct remediation *check_remediation(const struct check_result *res);
/* Whether c may report cause: in .causes, or the cause of one of its needs. */
int check_declares_cause(const struct check *c, const char *cause);
/* The i-th cause c may report (.causes, then its needs' causes), or NULL past the last. */
const char *check_cause_at(const struct check *c, size_t i);
/*
 * Whether, under this configuration, the check is decided without a
 * request and without waiting for another check: an unmet verify or
 * writes need, or its offline hook. The runner then runs it in the thread
 * that made it ready instead of a thread of its own (run.h).
 */
int check_offline(const struct check *c, const struct run_config *config, int selected);
/*
 * Tests the check's needs (enum check_need, in order); when one is not
 * met, sets the result (status, cause, message) and returns 1: run is not
 * to be called. Returns 0 when every need is met.
 */
int check_gate(struct check_ctx *ctx);

/* Shorthands for details. */
void detail_str(struct check_ctx *ctx, const char *key, const char *value);
void detail_int(struct check_ctx *ctx, const char *key, long long value);
void detail_bool(struct check_ctx *ctx, const char *key, int value);

/*
 * For a check that was asked for but cannot run because the registry
 * check found no registry (no connection, or no registry API): fails with
 * cause "unreachable" and the registry check's finding. A gate must not
 * pass on a registry that is down.
 */
void check_unreachable(struct check_ctx *ctx);

/* Describes a call that got no usable answer: transport errors, token failures. */
const char *call_failure_text(const struct registry_call *call);

/*
 * Whether an answer to an upload says the registry is read-only: a 405
 * whose Allow lists no write method (distribution), or a 403 or 405 whose
 * body names a read-only mode (Harbor, Quay).
 */
int upload_read_only(const struct http_response *r);
/*
 * The scratch repository of a write probe: --scratch-repository as given,
 * else NAMESPACE/ocidoctor-scratch (NAMESPACE: the test repository minus
 * its last component), the same for every run, so that runs leave at most
 * one repository per namespace behind. Newly allocated.
 */
char *scratch_repository_name(const struct run_config *c);

/*
 * Whether the scratch repository was there before the run wrote to it,
 * asked before the first write: GET /v2/_catalog (from just before its
 * name, so that a long catalog still answers) and GET of its tag list.
 */
enum scratch_seen { SCRATCH_SEEN_UNKNOWN = -1, SCRATCH_ABSENT = 0, SCRATCH_PRESENT = 1 };

struct scratch_probe {
	struct registry_call catalog, tags;
	char *catalog_path, *tags_path;
};

/* Sets up the two calls (to send with the check's first wave). */
void scratch_probe_setup(struct scratch_probe *sp, const char *scratch);
/* What they showed. */
enum scratch_seen scratch_probe_judge(const struct scratch_probe *sp, const char *scratch);
void scratch_probe_release(struct scratch_probe *sp);
/*
 * After a check wrote (wrote != 0) to the scratch repository: sets
 * details.scratchRepositoryCreated (true; false; null when the probe
 * could not tell) and, when it was not there before, once per run (the
 * first check to get here), the section "created" naming it with how to
 * remove it (and details.scratchRepositoryRemoval). Returns 1 when this
 * check added the section.
 */
int scratch_note_created(struct check_ctx *ctx, const char *scratch, enum scratch_seen seen,
			 int wrote);
/* How to remove a repository the registry API cannot delete. Newly allocated. */
char *scratch_removal_text(const char *scratch);

/* The media types a manifest request should accept. */
struct curl_slist *manifest_accept_headers(void);

/* The capabilities check's five capabilities, in report order, NULL-terminated. */
#define CAPABILITY_COUNT 5
extern const char *const capability_names[CAPABILITY_COUNT + 1];

extern const struct check check_registry;
extern const struct check check_credentials;
extern const struct check check_pull;
extern const struct check check_push;
extern const struct check check_referrers;
extern const struct check check_capabilities;
extern const struct check check_artifacts;
extern const struct check check_apis;

#endif
