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

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Whole seconds and the fraction in integers only: no double, so no NaN,
 * no infinity and no overflow. More whole seconds than a day are out of
 * range at once; the fourth fraction digit rounds to the millisecond.
 */
int clock_parse_seconds(const char *text, long min_ms, long max_ms, long *ms)
{
	static const long place[] = { 100, 10, 1 };
	const char *p = text;
	long whole = 0, frac = 0, value;
	int digits = 0, n;

	if (!p)
		return -1;
	for (; is_digit(*p); p++, digits++) {
		whole = whole * 10 + (*p - '0');
		if (whole > CLOCK_SECONDS_MAX)
			return -1;
	}
	if (*p == '.')
		for (p++, n = 0; is_digit(*p); p++, n++, digits++) {
			if (n < 3)
				frac += (*p - '0') * place[n];
			else if (n == 3 && *p >= '5')
				frac++;
		}
	if (!digits || *p)
		return -1;
	value = whole * 1000 + frac;
	if (value < min_ms || value > max_ms)
		return -1;
	*ms = value;
	return 0;
}
