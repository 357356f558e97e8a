/*
 * thread: the threads ocidoctor runs checks, parallel calls and fleet
 * jobs in.
 *
 * They come from one pool for the whole process. A task goes to a worker
 * that is waiting for work if there is one, else to a new thread: it is
 * never queued behind another task, because tasks wait for each other (a
 * check for the checks it depends on, a call for its parallel calls) and
 * a queue could make them wait forever. A worker that finishes a task
 * waits for the next one; at most THREAD_MAX_IDLE wait, the rest end. So
 * a run's threads are started once and woken many times: waking a thread
 * costs the kernel a fraction of what creating and ending one does, and
 * a fleet or an exporter runs thousands of tasks.
 *
 * The workers only wait on the network, so a small stack is plenty,
 * which keeps hundreds of them small.
 *
 * Every task is joined by whoever started it (thread_task_join): none
 * outlives what it touches. The workers still waiting at exit are ended
 * and joined then (atexit), so that none is left running.
 */
#ifndef OCIDOCTOR_THREAD_H
#define OCIDOCTOR_THREAD_H

#include <pthread.h>

#define THREAD_STACK_SIZE ((size_t)512 * 1024)
/*
 * Workers kept waiting between tasks: enough for a serve at its default
 * --max-concurrent (a probe takes about two at a time); beyond it the
 * workers end, and their stacks' pages go back to the system, so that a
 * long fleet run at --parallel 64 does not keep a hundred stacks resident.
 */
#define THREAD_MAX_IDLE 32

/* One unit of work. The caller owns it; it must live until joined. */
struct thread_task {
	void (*fn)(void *);
	void *arg;
	int done;
	pthread_mutex_t lock;         /* guards done */
	pthread_cond_t cond;          /* its joiner waits here */
	struct thread_task *next;     /* in the pool's queue */
};

/*
 * Runs fn(arg) in a pool thread. Exits the program (xdie: a thread is a
 * resource like memory, see xalloc.h) when no thread can be started. fn
 * may run before this returns.
 */
void thread_task_start(struct thread_task *t, void (*fn)(void *), void *arg);

/* Waits until t's fn has returned; t may then be reused or freed. */
void thread_task_join(struct thread_task *t);

/*
 * Ends and joins the workers that are waiting for work. Registered with
 * atexit when the first worker starts; a worker still busy (the program
 * exits from inside a task) is left alone.
 */
void thread_pool_shutdown(void);

/*
 * Asks the kernel to schedule the calling thread, and every thread it
 * starts from then on, as batch work (Linux's SCHED_BATCH), for the
 * front ends that run probes by the hundred (serve, matrix). Their
 * threads hand work to each other all the time; as batch work, a thread
 * that wakes another goes on running instead of being preempted by it,
 * which saves a pair of context switches per hand-over (a fifth of a
 * probe's CPU, docs/performance.md). Nothing else changes: no priority,
 * no privilege. Where the kernel refuses, the threads run as before.
 */
void thread_prefer_batch(void);

#endif
