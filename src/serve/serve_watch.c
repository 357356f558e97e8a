/*
 * serve_watch: what the connection watchdog (serve.c) and a probe
 * (serve_probe.c) share about a scrape's connection: whether its client
 * is gone, and which probe to cancel when it is. Both call this file; it
 * calls neither, so the two do not call each other round.
 */
#define _GNU_SOURCE /* POLLRDHUP */
#include "serve/serve_internal.h"

#include <poll.h>
#include <pthread.h>

/* Whether the scrape's client has closed its connection (it sends nothing else meanwhile). */
int serve_client_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	if (fd < 0)
		return 0;
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

void serve_watch_probe(struct server *s, struct conn_watch *w, struct cancel *c,
		       struct engine *e)
{
	if (!w)
		return;
	pthread_mutex_lock(&s->watch_lock);
	w->cancel = c;
	w->engine = e;
	pthread_mutex_unlock(&s->watch_lock);
}
