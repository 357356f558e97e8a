/*
 * xalloc: allocation that cannot fail. Running out of memory is not a
 * verdict ocidoctor can report on, so these print one line and exit(4).
 *
 * Fatal exits. xdie is for resource exhaustion only: memory (every x*
 * function here), and the few resources that run out the same way and
 * leave nothing sensible to report: a thread (thread_start), a libcurl
 * handle (which libcurl fails to make only without memory), the system's
 * random source. xbug is for a broken invariant of the code itself (a
 * bug, never an input): it says so and aborts. Everything else a caller
 * can meet (bad input, a file, the network, a helper) is returned as an
 * error and reported.
 *
 * The `why` out-parameter, everywhere in ocidoctor. A function that can
 * fail for a reason worth telling takes a last parameter `why` and, only
 * when it fails (returns -1, or NULL), sets *why to one readable line
 * without a trailing newline. On success *why is left alone. Its type
 * says who owns it:
 *   const char **why   a static string (or one that lives as long as an
 *                      argument the header names); the caller never frees it;
 *   char **why         newly allocated; the caller frees it with free().
 * why must point somewhere unless the function's header says it may be
 * NULL. No other convention exists: a function
 * that would hand back a formatted message takes char **why.
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
_Noreturn void xbug(const char *msg);

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
