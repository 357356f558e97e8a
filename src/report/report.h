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
 * and document it in docs/report-formats.md.
 */
#ifndef OCIDOCTOR_REPORT_H
#define OCIDOCTOR_REPORT_H

#include "checks/run.h"

#include <jansson.h>
#include <stdio.h>

struct report {
	FILE *out;
	int color;                  /* ANSI colours (text format) */
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

/* The JSON form of one result and of the whole run (shared by writers). */
json_t *report_result_json(const struct check_result *res);
json_t *report_run_json(const struct run *run);

extern const struct report_writer report_text;
extern const struct report_writer report_json;

#endif
