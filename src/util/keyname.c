/*
 * keyname: one key, two spellings (see keyname.h).
 */
#include "util/keyname.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

char *key_snake_case(const char *key)
{
	size_t n = strlen(key), i, o = 0;
	char *out = xmalloc(2 * n + 1);

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)key[i];

		if (isupper(c)) {
			if (o)
				out[o++] = '_';
			out[o++] = (char)tolower(c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return out;
}

int key_same(const char *a, const char *b)
{
	char *sa = key_snake_case(a), *sb = key_snake_case(b);
	int same = !strcmp(sa, sb);

	free(sa);
	free(sb);
	return same;
}
