/*
 * clock: see clock.h.
 */
#include "util/clock.h"

#include <time.h>

long clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
