/*
 * mdterm: a knowledge-base page (the Markdown of docs/checks) rendered for
 * a terminal: front matter dropped; headings underlined (= for the title,
 * - for sections, ~ for a cause); paragraphs and list items joined and
 * wrapped to the width, list items with a hanging indent; code blocks
 * kept as they are, indented by four spaces; tables as aligned columns, or,
 * when they do not fit, as one "name: value" block per row; inline code,
 * emphasis and links without their markup (a link to another check's page
 * becomes "ocidoctor explain ID", one to the manual "ocidoctor(1)").
 *
 * Pure: it renders into a buffer and prints nothing.
 */
#ifndef OCIDOCTOR_MDTERM_H
#define OCIDOCTOR_MDTERM_H

#include "util/buf.h"

/* Renders the Markdown page md into out, wrapped to width columns (at least 20). */
void mdterm_render(struct buf *out, const char *md, int width);

/* The page without its front matter (the block between the first two "---" lines). */
const char *mdterm_body(const char *md);

#endif
