/*
 * progress: the progress bar of `ocidoctor matrix`, on stderr's last line.
 * It is erased before a row is written, so that on a terminal shared by
 * stdout and stderr a row never lands in the middle of it, and drawn
 * again after. Not thread-safe: the fleet calls it under its lock.
 */
#ifndef OCIDOCTOR_PROGRESS_H
#define OCIDOCTOR_PROGRESS_H

struct progress {
	int on;       /* draw it at all */
	int drawn;    /* the bar is on stderr's last line */
	int total;    /* targets */
};

/* Erases the bar, when it is drawn. */
void progress_clear(struct progress *p);
/* Draws it for `done` targets of which `failing` fail; nothing once all are done. */
void progress_draw(struct progress *p, int done, int failing);

#endif
