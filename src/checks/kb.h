/*
 * kb: the knowledge base, one page per check (docs/checks/<id>.md),
 * compiled into the binary by tools/kbgen.c. `ocidoctor explain` prints
 * a page; reports take each result's remediation from its page's
 * "## Remediation" section, by the cause the check gave.
 */
#ifndef OCIDOCTOR_KB_H
#define OCIDOCTOR_KB_H

#include "checks/check.h"

struct kb_page {
	const char *id;
	const char *text;                       /* the whole Markdown page */
	const struct remediation *remediations; /* ended by one with cause NULL */
};

extern const struct kb_page kb_pages[];
extern const size_t kb_pages_size;

const struct kb_page *kb_find(const char *id);
/* The advice for a cause on a page, or NULL. */
const struct remediation *kb_remediation(const struct kb_page *page, const char *cause);

#endif
