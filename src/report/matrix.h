/*
 * matrix: the fleet report of `ocidoctor matrix`, one row per target, in
 * the targets file's order, each written as soon as it and the targets
 * before it have finished (so memory does not grow with the number of
 * targets; the prometheus writer alone keeps its rows, a few numbers each,
 * because a family's series must stand together). A writer is a small
 * vtable, one file per format.
 */
#ifndef OCIDOCTOR_MATRIX_H
#define OCIDOCTOR_MATRIX_H

#include "checks/results.h"

#include <stdio.h>

/* What one finished target contributes to the table. */
struct matrix_row {
	const char *registry;
	const char *repository;
	const char *tag;
	enum check_status worst;
	int score;                           /* supported capabilities, -1 when not probed */
	int probed;                          /* capabilities probed (not "not-probed") */
	const char *caps[CAPABILITY_COUNT];       /* state words, in capability_names order */
	size_t nchecks;                      /* entries below: the check table's size */
	enum check_status *status;           /* per check, in table order (owned) */
	int *ran;                            /* whether that check was reported (owned) */
	const char *message;                 /* the worst result's message */
	const char **messages;               /* per check, in table order (owned array) */
	long duration_ms;
	long requests;
	int referrers_unused;                /* report_referrers_unused: every client falls back */
};

/* Where a writer writes, and what it may keep between calls. */
struct matrix_out {
	FILE *out;
	void *priv;                /* the writer's own state, NULL to begin with */
	const char *started_at;    /* when the fleet run started, RFC 3339 UTC */
	int total;                 /* targets in the file */
};

struct matrix_writer {
	const char *name;
	void (*begin)(struct matrix_out *m);
	void (*row)(struct matrix_out *m, const struct matrix_row *row);
	void (*end)(struct matrix_out *m, int targets, enum check_status worst);
};

extern const struct matrix_writer matrix_text;
extern const struct matrix_writer matrix_json;
extern const struct matrix_writer matrix_csv;
extern const struct matrix_writer matrix_html;
extern const struct matrix_writer matrix_junit;
extern const struct matrix_writer matrix_markdown;
extern const struct matrix_writer matrix_prometheus;

/* The fleet writers, NULL-terminated. */
extern const struct matrix_writer *const matrix_writers[];
const struct matrix_writer *matrix_writer_find(const char *name);

/* The capability columns' short headings, in capability_names order. */
extern const char *const matrix_cap_short[CAPABILITY_COUNT];
/* A capability's cell: "yes", "no", "?" (unknown) or "-" (not probed). */
const char *matrix_cap_mark(const char *state);
/*
 * REPORT_FALLBACK_MARK for the referrers cell of a row whose Referrers API
 * answers but no client uses (the cell then reads "yes*"), else "".
 */
const char *matrix_cap_note(const struct matrix_row *row, size_t column);
/* The footnote a writer prints once when a cell was marked. */
#define MATRIX_FALLBACK_LEGEND "* referrers: the registry answers the Referrers API, but every client falls back to the tag schema"

/*
 * Fills row from a finished run's results; the strings stay owned by the
 * results, the per-check arrays by the row (matrix_row_release). The
 * capability columns come from the results' "capabilities" section.
 */
void matrix_row_from_results(struct matrix_row *row, const struct run_results *r);
/* Frees the per-check arrays of a row filled by matrix_row_from_results. */
void matrix_row_release(struct matrix_row *row);

/* A copy of row that owns its strings (free it with matrix_row_free). */
struct matrix_row *matrix_row_dup(const struct matrix_row *row);
void matrix_row_free(struct matrix_row *row);

/* "repository:tag", or "repository@digest"; newly allocated. */
char *matrix_row_image(const struct matrix_row *row);

#endif
