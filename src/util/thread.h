/*
 * thread: starting the threads ocidoctor runs checks and parallel calls
 * in. They only wait on the network, so a small stack is plenty, which
 * keeps a fleet run with hundreds of them small.
 */
#ifndef OCIDOCTOR_THREAD_H
#define OCIDOCTOR_THREAD_H

#include <pthread.h>

#define THREAD_STACK_SIZE ((size_t)512 * 1024)

/* Starts fn(arg) in a new joinable thread; exits the program when it cannot. */
void thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

/*
 * Starts fn(arg) in a new thread created detached, so nobody touches its
 * handle afterwards (arg may be freed by fn before pthread_create even
 * returns); exits the program when it cannot.
 */
void thread_start_detached(void *(*fn)(void *), void *arg);

#endif
