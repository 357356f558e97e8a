/*
 * thread: the pool described in thread.h.
 *
 * One lock guards the pool: the queue of tasks handed to waiting
 * workers, the counts, and the list of workers that ended and are still
 * to be joined. Each task has a lock of its own for its done flag, so
 * that a joiner waits without the pool's. A worker takes a task's lock
 * only while it holds the pool's, never the other way round. The queue never holds more
 * tasks than there are waiting workers, so every queued task has a
 * worker on its way.
 */
#define _GNU_SOURCE /* SCHED_BATCH */
#include "util/thread.h"
#include "util/xalloc.h"

#include <sched.h>
#include <stdlib.h>

static struct {
	pthread_mutex_t lock;
	pthread_cond_t work;           /* waiting workers sleep here */
	pthread_cond_t gone;           /* thread_pool_shutdown waits here */
	struct thread_task *head, *tail;
	size_t queued;                 /* tasks in the queue */
	size_t idle;                   /* workers waiting for a task */
	size_t live;                   /* workers not yet on the ended list */
	size_t busy;                   /* workers running a task */
	pthread_t *ended;              /* workers that ended, to join */
	size_t nr_ended, alloc_ended;
	int stopping;
	int registered;                /* thread_pool_shutdown is registered with atexit */
} pool = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.gone = PTHREAD_COND_INITIALIZER,
};

/* Called with the lock held: the next task of a worker that is done, or NULL when it should end. */
static struct thread_task *next_task(void)
{
	struct thread_task *t;

	if (pool.stopping || pool.idle >= THREAD_MAX_IDLE)
		return NULL;
	pool.idle++;
	while (!pool.head && !pool.stopping)
		pthread_cond_wait(&pool.work, &pool.lock);
	pool.idle--;
	t = pool.head;
	if (!t)
		return NULL;
	pool.head = t->next;
	if (!pool.head)
		pool.tail = NULL;
	pool.queued--;
	return t;
}

static void *worker_main(void *arg)
{
	struct thread_task *t = arg;

	for (;;) {
		t->fn(t->arg);
		/*
		 * Not busy before done: a joiner that sees done and then exits
		 * finds this worker counted idle-to-be, and waits for it.
		 */
		pthread_mutex_lock(&pool.lock);
		pool.busy--;
		pthread_mutex_lock(&t->lock);
		t->done = 1;
		pthread_cond_signal(&t->cond);
		pthread_mutex_unlock(&t->lock); /* t may be gone from here on */
		t = next_task();
		if (!t)
			break;
		pool.busy++;
		pthread_mutex_unlock(&pool.lock);
	}
	ALLOC_GROW(pool.ended, pool.nr_ended + 1, pool.alloc_ended);
	pool.ended[pool.nr_ended++] = pthread_self();
	pool.live--;
	pthread_cond_broadcast(&pool.gone);
	pthread_mutex_unlock(&pool.lock);
	return NULL;
}

/* Takes the list of ended workers, to be joined without the lock. Called with the lock held. */
static pthread_t *take_ended(size_t *nr)
{
	pthread_t *list = pool.ended;

	*nr = pool.nr_ended;
	pool.ended = NULL;
	pool.nr_ended = pool.alloc_ended = 0;
	return list;
}

static void join_all(pthread_t *list, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		pthread_join(list[i], NULL);
	free(list);
}

static void spawn(struct thread_task *first)
{
	pthread_attr_t attr;
	pthread_t tid;
	int err;

	if (pthread_attr_init(&attr))
		xdie("cannot set up a thread");
	pthread_attr_setstacksize(&attr, THREAD_STACK_SIZE);
	err = pthread_create(&tid, &attr, worker_main, first);
	pthread_attr_destroy(&attr);
	if (err)
		xdie("cannot start a thread");
}

void thread_task_start(struct thread_task *t, void (*fn)(void *), void *arg)
{
	pthread_t *ended;
	size_t nr;

	t->fn = fn;
	t->arg = arg;
	t->done = 0;
	t->next = NULL;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);

	pthread_mutex_lock(&pool.lock);
	if (pool.idle > pool.queued) {
		if (pool.tail)
			pool.tail->next = t;
		else
			pool.head = t;
		pool.tail = t;
		pool.queued++;
		pthread_mutex_unlock(&pool.lock);
		pthread_cond_signal(&pool.work); /* after: the worker need not wait for the lock */
		return;
	}
	pool.live++;
	pool.busy++;
	if (!pool.registered) {
		pool.registered = 1;
		atexit(thread_pool_shutdown);
	}
	ended = take_ended(&nr);
	pthread_mutex_unlock(&pool.lock);
	join_all(ended, nr);
	spawn(t);
}

void thread_task_join(struct thread_task *t)
{
	pthread_mutex_lock(&t->lock);
	while (!t->done)
		pthread_cond_wait(&t->cond, &t->lock);
	pthread_mutex_unlock(&t->lock);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
}

void thread_pool_shutdown(void)
{
	pthread_t *ended;
	size_t nr;

	pthread_mutex_lock(&pool.lock);
	pool.stopping = 1;
	pthread_cond_broadcast(&pool.work);
	while (pool.live > pool.busy)
		pthread_cond_wait(&pool.gone, &pool.lock);
	ended = take_ended(&nr);
	pthread_mutex_unlock(&pool.lock);
	join_all(ended, nr);
}

void thread_prefer_batch(void)
{
	struct sched_param param = { .sched_priority = 0 };

	if (pthread_setschedparam(pthread_self(), SCHED_BATCH, &param)) {
		/* refused (a sandbox, an old kernel): the default policy is only slower */
	}
}
