/*
 * clock: the one monotonic clock ocidoctor reads. Every deadline, every
 * duration in a report and every timeout (the engine's, a credential
 * helper's, serve's schedule) is a point or a span on it.
 */
#ifndef OCIDOCTOR_CLOCK_H
#define OCIDOCTOR_CLOCK_H

/* Milliseconds on CLOCK_MONOTONIC: only differences between two readings mean anything. */
long clock_now_ms(void);

#endif
