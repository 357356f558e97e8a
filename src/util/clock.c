/*
 * clock: see clock.h.
 */
#include "util/clock.h"

#include <string.h>
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

/* Milliseconds per unit of a suffix ("ms", "s", "m", "h"; none is seconds), or 0. */
static long unit_ms(const char *suffix)
{
	static const struct {
		const char *name;
		long ms;
	} units[] = { { "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 } };
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(*units); i++)
		if (!strcmp(suffix, units[i].name))
			return units[i].ms;
	return 0;
}

/*
 * Whole units and the fraction in integers only: no double, so no NaN,
 * no infinity and no overflow. More whole units than a day's seconds are
 * out of range at once; the fraction is kept to a thousandth of the unit
 * and the value is rounded to the millisecond.
 */
int clock_parse_seconds(const char *text, long min_ms, long max_ms, long *ms)
{
	static const long place[] = { 100, 10, 1 };
	const char *p = text;
	long whole = 0, frac = 0, unit;
	long long value;
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
	unit = unit_ms(p);
	if (!digits || !unit)
		return -1;
	/* thousandths of the unit: at most 86400999 * 3600000, well within a long long */
	value = (((long long)whole * 1000 + frac) * unit + 500) / 1000;
	if (value < min_ms || value > max_ms)
		return -1;
	*ms = (long)value;
	return 0;
}
