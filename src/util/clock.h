/*
 * clock: the one monotonic clock ocidoctor reads. Every deadline, every
 * duration in a report and every timeout (the engine's, a credential
 * helper's, serve's schedule) is a point or a span on it.
 */
#ifndef OCIDOCTOR_CLOCK_H
#define OCIDOCTOR_CLOCK_H

/* Milliseconds on CLOCK_MONOTONIC: only differences between two readings mean anything. */
long clock_now_ms(void);

/* The longest span clock_parse_seconds takes: one day. */
#define CLOCK_SECONDS_MAX 86400L

/*
 * The one parser of a span of seconds that a user writes (a config value,
 * an option): decimal digits with an optional fraction, "30", "2.5",
 * "0.25", and optionally one unit right after them, as Prometheus writes
 * durations: "500ms", "5s", "1m", "1.5h" (none means seconds). No sign,
 * exponent, hexadecimal, "inf" or "nan", no spaces, no "1m30s".
 * The value is rounded to the millisecond and must lie in [min_ms, max_ms]
 * (max_ms at most CLOCK_SECONDS_MAX * 1000). Returns 0 with *ms set, or -1
 * and leaves *ms alone.
 */
int clock_parse_seconds(const char *text, long min_ms, long max_ms, long *ms);

#endif
