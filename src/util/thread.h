/*
 * thread: starting the threads ocidoctor runs checks and parallel calls
 * in. They only wait on the network, so a small stack is plenty, which
 * keeps a fleet run with hundreds of them small.
 */
#ifndef OCIDOCTOR_THREAD_H
#define OCIDOCTOR_THREAD_H

#include <pthread.h>

#define THREAD_STACK_SIZE ((size_t)512 * 1024)

/*
 * Starts fn(arg) in a new joinable thread; exits the program (xdie: a
 * thread is a resource like memory, see xalloc.h) when it
 * cannot. fn may run, and free arg, before this returns. Every thread is
 * joined by whoever started it: none outlives what it touches.
 */
void thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
