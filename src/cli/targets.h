/*
 * targets: the targets file of `ocidoctor matrix`, read once, whole (at
 * most TARGETS_MAX_BYTES, lines of at most TARGET_LINE_MAX bytes), before
 * any request: one target a line ('registry-url [repository[:tag]]',
 * blank lines and '#' comments skipped) or a YAML list of such strings or
 * {registry, repository, tag} maps. Every target is validated as it is
 * read; a bad one names FILE:LINE.
 */
#ifndef OCIDOCTOR_TARGETS_H
#define OCIDOCTOR_TARGETS_H

#include <stddef.h>

#define TARGETS_MAX_BYTES ((size_t)16 << 20)
#define TARGET_LINE_MAX 4096

/* One target as read from the file. */
struct target {
	char *registry;
	char *repository;
	char *tag;
	int line;
};

void target_release(struct target *t);

/* What a target that does not say takes (from the settings: --repository, --tag, --plain-http). */
struct target_defaults {
	const char *repository;
	const char *tag;
	int plain_http;       /* a registry without a scheme is http:// */
};

struct target_source {
	const char *path;
	const struct target_defaults *def;
	struct target *list;    /* every target, validated, in the file's order */
	size_t nr, alloc, next;
};

/*
 * Reads the targets file once ("-" is standard input; a FIFO, /dev/stdin
 * and a process substitution work too) and validates every target.
 * Returns 0 with at least one target, or -1 with *why (newly allocated).
 * def must outlive src.
 */
int source_load(struct target_source *src, const char *path, const struct target_defaults *def,
		char **why);
/* The next target, taken out of the list (the caller releases it); 0 at the end. */
int source_next(struct target_source *src, struct target *t);
void source_close(struct target_source *src);

#endif
