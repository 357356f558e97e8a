/*
 * wrap: one line of terminal text wrapped to a width with a hanging
 * indent. Pure: it appends to a buffer and prints nothing.
 */
#ifndef OCIDOCTOR_WRAP_H
#define OCIDOCTOR_WRAP_H

#include "util/buf.h"

#include <stddef.h>

/*
 * Appends the line (len bytes, no newline in it) to out, wrapped to width
 * columns: where a word would pass the width, a newline and hang spaces
 * start the next line, and the spaces before the word are dropped. An
 * ANSI escape sequence takes no column, a UTF-8 character one; a word
 * wider than a line is kept whole; runs of spaces that fit (aligned
 * columns) are kept. A hang past two thirds of the width becomes a third
 * of it. With shell set the line holds a command to paste: it breaks
 * only at spaces outside quotes, each broken line ending in " \", so the
 * lines pasted into a shell are the same command. Returns 0, or -1 when
 * out is full.
 */
int text_wrap(struct buf *out, const char *line, size_t len, int width, int hang, int shell);

#endif
