/*
 * suggest: "did you mean" for a word the user mistyped (an option, a
 * command, a check id, a configuration key), by edit distance.
 */
#ifndef OCIDOCTOR_SUGGEST_H
#define OCIDOCTOR_SUGGEST_H

#include <stddef.h>

/* Optimal string alignment distance (insertions, deletions, substitutions, swaps). */
size_t suggest_distance(const char *a, size_t alen, const char *b);

/*
 * Keeps the closest candidate so far: call suggest_offer for each one,
 * then suggest_best. A candidate is close enough when its distance is at
 * most a third of the word's length (at least 1, at most 3), or when it
 * starts with the word.
 */
struct suggest {
	const char *word;
	size_t len;
	const char *best;
	size_t best_distance;
};

void suggest_init(struct suggest *s, const char *word, size_t len);
void suggest_offer(struct suggest *s, const char *candidate);
/* The closest candidate, or NULL when none is close enough. */
const char *suggest_best(const struct suggest *s);

#endif
