/*
 * xalloc: allocation that cannot fail. Running out of memory is not a
 * verdict ocidoctor can report on, so these print one line and exit(4).
 */
#ifndef OCIDOCTOR_XALLOC_H
#define OCIDOCTOR_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
_Noreturn void xdie(const char *msg);

/* Grows *array (of *alloc elements of size elem) to hold at least nr. */
#define ALLOC_GROW(array, nr, alloc)                                        \
	do {                                                                 \
		if ((nr) > (alloc)) {                                        \
			(alloc) = (alloc) ? (alloc) * 2 : 8;                 \
			if ((alloc) < (nr))                                  \
				(alloc) = (nr);                              \
			(array) = xrealloc((array), (alloc) * sizeof(*(array))); \
		}                                                            \
	} while (0)

#endif
