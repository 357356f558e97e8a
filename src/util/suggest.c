/*
 * suggest: see suggest.h.
 */
#include "util/suggest.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define SUGGEST_WORD_MAX 256

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

size_t suggest_distance(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b), i, j, d;
	size_t *row, *prev, *prev2;

	if (alen > SUGGEST_WORD_MAX || blen > SUGGEST_WORD_MAX)
		return (size_t)-1;
	prev2 = xcalloc(3 * (blen + 1), sizeof(*row));
	prev = prev2 + blen + 1;
	row = prev + blen + 1;
	for (j = 0; j <= blen; j++)
		prev[j] = j;
	for (i = 1; i <= alen; i++) {
		row[0] = i;
		for (j = 1; j <= blen; j++) {
			size_t cost = a[i - 1] != b[j - 1];

			row[j] = min3(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < row[j])
				row[j] = prev2[j - 2] + 1;
		}
		memcpy(prev2, prev, (blen + 1) * sizeof(*row));
		memcpy(prev, row, (blen + 1) * sizeof(*row));
	}
	d = prev[blen];
	free(prev2);
	return d;
}

void suggest_init(struct suggest *s, const char *word, size_t len)
{
	s->word = word;
	s->len = len;
	s->best = NULL;
	s->best_distance = (size_t)-1;
}

void suggest_offer(struct suggest *s, const char *candidate)
{
	size_t limit = s->len / 3, d;

	if (limit < 1)
		limit = 1;
	if (limit > 3)
		limit = 3;
	if (!candidate || !s->len)
		return;
	d = suggest_distance(s->word, s->len, candidate);
	if (d > limit && !(strlen(candidate) > s->len && !strncmp(candidate, s->word, s->len)))
		return;
	if (d < s->best_distance) {
		s->best = candidate;
		s->best_distance = d;
	}
}

const char *suggest_best(const struct suggest *s)
{
	return s->best;
}
