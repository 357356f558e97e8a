/*
 * matrix: the fleet report of `ocidoctor matrix`, one row per target,
 * written as each target finishes (so memory does not grow with the
 * number of targets). A writer is a small vtable, one file per format.
 */
#ifndef OCIDOCTOR_MATRIX_H
#define OCIDOCTOR_MATRIX_H

#include "checks/run.h"

#include <stdio.h>

#define MATRIX_MAX_CHECKS 8   /* room per row; the check table is smaller */

/* What one finished target contributes to the table. */
struct matrix_row {
	const char *registry;
	const char *repository;
	const char *tag;
	enum check_status worst;
	int score;                           /* supported capabilities, -1 when not probed */
	int probed;                          /* capabilities probed (not "not-probed") */
	const char *caps[CAPABILITY_COUNT];       /* state words, in capability_names order */
	enum check_status status[MATRIX_MAX_CHECKS]; /* per check, in table order */
	int ran[MATRIX_MAX_CHECKS];          /* whether that check was reported */
	const char *message;                 /* the worst result's message */
	long duration_ms;
	long requests;
};

struct matrix_writer {
	const char *name;
	void (*begin)(FILE *out);
	void (*row)(FILE *out, const struct matrix_row *row);
	void (*end)(FILE *out, int targets, enum check_status worst);
};

extern const struct matrix_writer matrix_text;
extern const struct matrix_writer matrix_json;
extern const struct matrix_writer matrix_csv;
extern const struct matrix_writer matrix_html;

const struct matrix_writer *matrix_writer_find(const char *name);

/* Fills row from a finished run; the strings stay owned by the run. */
void matrix_row_from_run(struct matrix_row *row, const struct run *run);

#endif
