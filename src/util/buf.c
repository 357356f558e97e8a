/*
 * buf: the bounded buffer described in buf.h.
 */
#include "util/buf.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char buf_empty[1];

void buf_init(struct buf *b, size_t max)
{
	b->data = buf_empty;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
	b->overflow = 0;
}

void buf_release(struct buf *b)
{
	if (b->alloc)
		free(b->data);
	buf_init(b, b->max);
}

char *buf_detach(struct buf *b)
{
	char *out = b->alloc ? b->data : xstrdup("");

	buf_init(b, b->max);
	return out;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->data[0] = '\0';
	b->overflow = 0;
}

static int buf_grow(struct buf *b, size_t extra)
{
	size_t want;

	if (extra > b->max || b->len > b->max - extra) {
		b->overflow = 1;
		return -1;
	}
	want = b->len + extra + 1;
	if (want <= b->alloc)
		return 0;
	if (want < 64)
		want = 64;
	if (want < b->alloc * 2)
		want = b->alloc * 2;
	if (want > b->max + 1)
		want = b->max + 1;
	if (b->alloc) {
		b->data = xrealloc(b->data, want);
	} else {
		b->data = xmalloc(want);
		b->data[0] = '\0';
	}
	b->alloc = want;
	return 0;
}

int buf_add(struct buf *b, const void *data, size_t len)
{
	if (buf_grow(b, len) < 0)
		return -1;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addch(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return -1;
	if (buf_grow(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return ret;
}

char *xstrfmt(const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b, BUF_TEXT_MAX);
	va_start(ap, fmt);
	if (buf_vaddf(&b, fmt, ap) < 0)
		xdie("formatted text is too long");
	va_end(ap);
	return buf_detach(&b);
}

void text_sanitize(char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

char *text_vfmt(const char *fmt, va_list ap)
{
	struct buf b;
	char *out;

	buf_init(&b, BUF_TEXT_MAX);
	buf_vaddf(&b, fmt, ap);
	out = buf_detach(&b);
	text_sanitize(out);
	return out;
}
