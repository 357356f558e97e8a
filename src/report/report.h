/*
 * report: the writers that turn a finished run into bytes.
 *
 * A writer is a small vtable, one file per format (report_text.c,
 * report_json.c, ...), listed in report_writers[]. The run calls begin
 * once, result once per selected check in table order, and end once.
 * Writers never make requests and never decide verdicts; they render
 * what the checks returned, from a struct run_results (checks/results.h):
 * plain data, no executor. A check's tables come as result sections
 * (check.h), which each writer renders generically, never by check name.
 *
 * To add a format: write src/report/report_<name>.c exporting one
 * `const struct report_writer`, add it to report_writers[] in report.c,
 * and document it in README.md (Report formats) and docs/usage.md.
 */
#ifndef OCIDOCTOR_REPORT_H
#define OCIDOCTOR_REPORT_H

#include "checks/results.h"

#include <jansson.h>
#include <stdio.h>

/*
 * A probe of the exporter (ocidoctor serve): the Prometheus writer then
 * writes the probe_* metrics and no registry label (Prometheus adds the
 * target as `instance`), in OpenMetrics when asked to.
 */
struct report_probe {
	int openmetrics;            /* OpenMetrics 1.0.0 (ends in # EOF) instead of text 0.0.4 */
	int success;                /* the run completed and no check failed */
	long duration_ms;
	long timeout_ms;            /* the time the probe was given */
	int cached;                 /* served from a writing module's cache */
	long cache_age_ms;
};

struct report {
	FILE *out;
	int color;                  /* ANSI colours (text format) */
	int width;                  /* text format: lines wrapped to this many columns; 0: never */
	int warn_fails;             /* --fail-on warn: junit reports warnings as failures */
	int nothing_fails;          /* --fail-on never: junit reports no failure at all */
	const char *platform;       /* whose remediation step is the fix: a KB platform; NULL: bare-metal */
	const struct run_results *results; /* the finished run: plain data, no executor */
	const struct report_probe *probe; /* NULL outside the exporter */
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

/*
 * Whether res is listed under the check that blocked it (its cause is in
 * the report) instead of on its own: no card, row or fix of its own.
 */
int report_under_cause(const struct report *rep, const struct check_result *res);

/*
 * A Referrers API that no client uses: the registry answers it (the
 * referrers result's state is supported) but every client model lists
 * referrers through the tag schema (a wrong Content-Type, as Harbor 2.9
 * sends). The capability then is not shown as a plain pass: its state
 * cell carries REPORT_FALLBACK_MARK, the result holding that cell gets
 * REPORT_FALLBACK_NOTE after its message, and the summaries say it.
 */
int report_referrers_unused(const struct run_results *r);
#define REPORT_FALLBACK_MARK "*"
#define REPORT_FALLBACK_NOTE "* referrersApi answers, but every client falls back to the tag schema"
/* REPORT_FALLBACK_MARK for a state cell that report_referrers_unused marks, else "". */
const char *report_cell_mark(const struct run_results *r, const struct result_section *s,
			     const struct section_row *row, size_t column);
/* Whether one of res's section cells is marked (its message then gets the note). */
int report_result_marked(const struct run_results *r, const struct check_result *res);

/* Returns 0 with *fix filled, or -1 (and *fix empty) when there is no advice. */
int report_fix_get(const struct report *rep, const struct check_result *res, struct report_fix *fix);
void report_fix_release(struct report_fix *fix);

/*
 * text with the knowledge base's placeholders replaced by what the run
 * knows: https://REGISTRY (and http://REGISTRY) and "--registry REGISTRY"
 * by the address probed, REGISTRY by its host[:port], HOST and PORT by its
 * host and port (the scheme's default when none was given; for a command
 * that switches the scheme: https://HOST:PORT), REPOSITORY, TAG, and
 * DIGEST once the pull check found it (before that, REPOSITORY@DIGEST
 * reads REPOSITORY:TAG). A placeholder counts only as a whole
 * word (REGISTRY_AUTH_FILE stays). Newly allocated.
 */
char *report_fill(const struct run_results *r, const char *text);

/*
 * A knowledge-base command ready to paste: report_fill, then each tool on
 * the line (ocidoctor run, oras, regctl, crane, skopeo, curl) gets the
 * flags it needs to reach this registry as the run did: plain HTTP, the
 * CA, the client certificate, --insecure, the proxy, the credentials'
 * source; ocidoctor also the test image, the writes mode, the scratch
 * repository and the timeout. Secrets stay placeholders ($PASSWORD).
 * Newly allocated (report/commands.c).
 */
char *report_command(const struct run_results *r, const char *text);

/* A KB platform name for a --platform value ("docker" is docker-compose). */
const char *report_platform(const char *name);

/* The JSON form of one result and of the whole run (shared by writers). */
json_t *report_result_json(const struct report *rep, const struct check_result *res);
json_t *report_run_json(const struct run_results *r);

/* Writes s with &, <, >, " and ' escaped, for XML and HTML. */
void report_put_xml(FILE *out, const char *s);
/*
 * Markdown (GitHub's, CommonMark) for text from a check or a server, shown
 * literally in a paragraph or a table cell: HTML's metacharacters (<, >,
 * &, ") as entities; what makes links, images, code, emphasis or a cell
 * ('\', '[', ']', '!', '`', '*', '~', '|') backslash-escaped; line breaks
 * and control characters as spaces. Nothing else is touched, so names,
 * addresses and digests read as they are (127.0.0.1, sha256-..., a_b).
 */
void report_put_md(FILE *out, const char *s);
/*
 * Markdown the knowledge base wrote (a fix's text), with the run's names
 * filled in: code spans are kept, and outside them '<' and '>' become
 * entities, so a placeholder such as sha256-<hex> is not taken for an
 * HTML tag (GitHub drops those).
 */
void report_put_kb_md(FILE *out, const char *s);
/* A command as a Markdown code span, with a fence longer than any run of '`' in it. */
void report_put_md_code(FILE *out, const char *s);
/* Writes s as a Prometheus label value: backslash, double quote and newline escaped. */
void report_put_label(FILE *out, const char *s);
/* A status as the Prometheus writers give it: pass 0, info 1, warn 2, fail 3, else (skip) -1. */
int report_status_value(enum check_status s);
/* A capability state as a Prometheus value: supported 1, unsupported 0, anything else -1. */
int report_capability_value(const char *state);
/*
 * Whether a section column holds free text (reason, why, evidence) rather
 * than a short word: Prometheus keeps it out of labels.
 */
int report_column_is_text(const char *key);

/* The Content-Types of the Prometheus writer's two formats. */
#define PROMETHEUS_TEXT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define OPENMETRICS_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"
/*
 * Writes the probe_* metrics and build info alone, ended for the format:
 * what the exporter answers for a probe that could not run at all.
 */
void report_prometheus_probe_only(FILE *out, const struct report_probe *probe);

extern const struct report_writer report_text;
extern const struct report_writer report_json;
extern const struct report_writer report_junit;
extern const struct report_writer report_markdown;
extern const struct report_writer report_prometheus;
extern const struct report_writer report_html;
extern const struct report_writer report_conformance;

#endif
