/*
 * thread: see thread.h.
 */
#include "util/thread.h"
#include "util/xalloc.h"

static void start(pthread_t *t, int detached, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int err;

	if (pthread_attr_init(&attr))
		xdie("cannot set up a thread");
	pthread_attr_setstacksize(&attr, THREAD_STACK_SIZE);
	if (detached && pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED))
		xdie("cannot set up a thread");
	err = pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	if (err)
		xdie("cannot start a thread");
}

void thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	start(t, 0, fn, arg);
}

void thread_start_detached(void *(*fn)(void *), void *arg)
{
	pthread_t local;

	start(&local, 1, fn, arg);
}
