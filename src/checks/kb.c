/*
 * kb: lookups in the knowledge base that kbgen compiled from docs/checks.
 */
#include "checks/kb.h"

#include <string.h>

const struct kb_page *kb_find(const char *id)
{
	size_t i;

	for (i = 0; i < kb_pages_size; i++)
		if (!strcmp(kb_pages[i].id, id))
			return &kb_pages[i];
	return NULL;
}

const struct remediation *kb_remediation(const struct kb_page *page, const char *cause)
{
	const struct remediation *r;

	if (!page || !cause)
		return NULL;
	for (r = page->remediations; r->cause; r++)
		if (!strcmp(r->cause, cause))
			return r;
	return NULL;
}
