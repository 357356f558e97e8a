/*
 * progress: see progress.h.
 */
#include "cli/progress.h"

#include <stdio.h>

void progress_clear(struct progress *p)
{
	if (!p->on || !p->drawn)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->drawn = 0;
}

void progress_draw(struct progress *p, int done, int failing)
{
	int width = 30, filled = p->total ? done * width / p->total : width;

	if (!p->on || done >= p->total)
		return; /* finished: nothing is left on the line */
	fprintf(stderr, "\r[%.*s%*s] %d/%d %s, %d failing", filled,
		"##############################", width - filled, "", done, p->total,
		p->total == 1 ? "target" : "targets", failing);
	fflush(stderr);
	p->drawn = 1;
}
