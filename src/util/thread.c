/*
 * thread: see thread.h.
 */
#include "util/thread.h"
#include "util/xalloc.h"

void thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int err;

	if (pthread_attr_init(&attr))
		xdie("cannot set up a thread");
	pthread_attr_setstacksize(&attr, THREAD_STACK_SIZE);
	err = pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	if (err)
		xdie("cannot start a thread");
}
