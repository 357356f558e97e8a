/*
 * report: the writers that turn a finished run into bytes.
 *
 * A writer is a small vtable, one file per format (report_text.c,
 * report_json.c, ...), listed in report_writers[]. The run calls begin
 * once, result once per selected check in table order, and end once.
 * Writers never make requests and never decide verdicts; they render
 * what the checks returned.
 *
 * To add a format: write src/report/report_<name>.c exporting one
 * `const struct report_writer`, add it to report_writers[] in report.c,
 * and document it in README.md (Report formats) and docs/usage.md.
 */
#ifndef OCIDOCTOR_REPORT_H
#define OCIDOCTOR_REPORT_H

#include "checks/run.h"

#include <jansson.h>
#include <stdio.h>

struct report {
	FILE *out;
	int color;                  /* ANSI colours (text format) */
	int warn_fails;             /* --fail-on warn: junit reports warnings as failures */
	int nothing_fails;          /* --fail-on never: junit reports no failure at all */
	const char *platform;       /* whose remediation step is the fix: a KB platform; NULL: bare-metal */
	const struct run *run;
	const struct run_config *config;
	void *priv;                 /* the writer's own state */
};

struct report_writer {
	const char *name;
	const char *description;
	int (*begin)(struct report *rep);
	int (*result)(struct report *rep, const struct check_result *res);
	int (*end)(struct report *rep);
};

extern const struct report_writer *const report_writers[];
const struct report_writer *report_writer_find(const char *name);

/* Writes the whole report; returns 0, or -1 when writing failed. */
int report_write(const struct report_writer *w, struct report *rep);

/*
 * The fix a report gives for a result that did not pass: the remediation
 * for its cause, and of that the step for the report's platform (else the
 * bare-metal step, else the first), with its text and commands filled in
 * with what the run knows (report_fill).
 */
struct report_fix {
	const struct remediation *remediation;
	const struct remediation_step *step;
	char *text;                 /* newly allocated */
	char **commands;            /* newly allocated, NULL-terminated */
};

/* Returns 0 with *fix filled, or -1 (and *fix empty) when there is no advice. */
int report_fix_get(const struct report *rep, const struct check_result *res, struct report_fix *fix);
void report_fix_release(struct report_fix *fix);

/*
 * text with the knowledge base's placeholders replaced by what the run
 * knows: https://REGISTRY (and http://REGISTRY) and "--registry REGISTRY"
 * by the address probed, REGISTRY by its host[:port], HOST and PORT by its
 * host and port (the scheme's default when none was given; for a command
 * that switches the scheme: https://HOST:PORT), REPOSITORY, TAG, and
 * DIGEST once the pull check found it. A placeholder counts only as a whole
 * word (REGISTRY_AUTH_FILE stays). Newly allocated.
 */
char *report_fill(const struct run *run, const char *text);

/* A KB platform name for a --platform value ("docker" is docker-compose). */
const char *report_platform(const char *name);

/* The JSON form of one result and of the whole run (shared by writers). */
json_t *report_result_json(const struct report *rep, const struct check_result *res);
json_t *report_run_json(const struct run *run);

/* Writes s with &, <, >, " and ' escaped, for XML and HTML. */
void report_put_xml(FILE *out, const char *s);
/* The capabilities check's details.capabilities object, or NULL when it did not run. */
const json_t *report_capabilities(const struct run *run);

/* The referrers check's details.clients, or NULL when it did not run. */
const json_t *report_referrers_clients(const struct run *run);
/* A result's details.leftovers when it has any, else NULL. */
const json_t *report_leftovers(const struct check_result *res);
/* The string `key` of a leftover or client object, "" when absent. */
const char *report_str(const json_t *o, const char *key);

extern const struct report_writer report_text;
extern const struct report_writer report_json;
extern const struct report_writer report_junit;
extern const struct report_writer report_markdown;
extern const struct report_writer report_prometheus;
extern const struct report_writer report_html;

#endif
