/*
 * buf: the bounded buffer described in buf.h.
 */
#include "util/buf.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Shared by every empty buffer of every thread, so never written to: it is
 * const (a stray write faults instead of racing) and buf_reset leaves it
 * alone.
 */
static const char buf_empty[1];

void buf_init(struct buf *b, size_t max)
{
	b->data = (char *)buf_empty;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
	b->overflow = 0;
	b->secret = 0;
}

void buf_init_secret(struct buf *b, size_t max)
{
	buf_init(b, max);
	b->secret = 1;
}

void secret_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

void secret_free(char *s)
{
	if (!s)
		return;
	secret_wipe(s, strlen(s));
	free(s);
}

void buf_release(struct buf *b)
{
	int secret = b->secret;

	if (b->alloc) {
		if (secret)
			secret_wipe(b->data, b->alloc);
		free(b->data);
	}
	buf_init(b, b->max);
	b->secret = secret;
}

char *buf_detach(struct buf *b)
{
	char *out = b->alloc ? b->data : xstrdup("");
	int secret = b->secret;

	buf_init(b, b->max);
	b->secret = secret;
	return out;
}

void buf_reset(struct buf *b)
{
	if (b->alloc && b->secret)
		secret_wipe(b->data, b->len);
	b->len = 0;
	if (b->alloc)
		b->data[0] = '\0';
	b->overflow = 0;
}

/* A block's size sits in front of it, so the wiping free knows how much to wipe. */
#define BLOCK_HEADER (sizeof(max_align_t) > sizeof(size_t) ? sizeof(max_align_t) : sizeof(size_t))

static void *wiping_malloc(size_t n)
{
	unsigned char *p = n > SIZE_MAX - BLOCK_HEADER ? NULL : malloc(n + BLOCK_HEADER);

	if (!p)
		return NULL;
	memcpy(p, &n, sizeof(n));
	return p + BLOCK_HEADER;
}

static void wiping_free(void *ptr)
{
	unsigned char *p = ptr;
	size_t n;

	if (!p)
		return;
	p -= BLOCK_HEADER;
	memcpy(&n, p, sizeof(n));
	secret_wipe(p, n + BLOCK_HEADER);
	free(p);
}

void secret_json_allocator(void)
{
	json_set_alloc_funcs(wiping_malloc, wiping_free);
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
	if (b->alloc && b->secret) {
		/* never leave a copy behind in memory realloc would free */
		char *fresh = xmalloc(want);

		memcpy(fresh, b->data, b->len + 1);
		secret_wipe(b->data, b->alloc);
		free(b->data);
		b->data = fresh;
	} else if (b->alloc) {
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
		xbug("formatted text is too long");
	va_end(ap);
	return buf_detach(&b);
}

/*
 * Code points that print nothing yet change what is shown around them
 * (bidirectional overrides and isolates, zero-width characters, the BOM,
 * interlinear annotations), and the noncharacters XML 1.0 forbids
 * (U+FFFE, U+FFFF) or discourages (U+FDD0..U+FDEF, the last two of every
 * plane): server text must not hold them.
 */
static int hidden_code_point(unsigned int cp)
{
	return cp == 0x00ad || cp == 0x061c || cp == 0x180e ||
	       (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x206f) ||
	       cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) ||
	       (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe;
}

/*
 * Length of the valid UTF-8 sequence at s; 0 when it is not valid UTF-8 or
 * a control character. *hidden is set when it is valid but a code point
 * hidden_code_point() names.
 */
static size_t printable_utf8(const unsigned char *s, int *hidden)
{
	size_t n, i;
	unsigned int cp;

	*hidden = 0;
	if (s[0] >= 0x20 && s[0] < 0x7f)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, past U+10FFFF, and the C1 controls */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
		return 0;
	*hidden = hidden_code_point(cp);
	return n;
}

void text_sanitize(char *s)
{
	char *out = s;

	while (s && *s) {
		int hidden;
		size_t n = printable_utf8((const unsigned char *)s, &hidden);

		if (!n || hidden) {
			/* one '?' per bad byte, or per hidden character */
			*out++ = '?';
			s += n ? n : 1;
			continue;
		}
		if (out != s)
			memmove(out, s, n);
		out += n;
		s += n;
	}
	if (out != s)
		*out = '\0'; /* shortened; an untouched string (the shared empty one) is not written */
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

int buf_read_stream(struct buf *b, FILE *f)
{
	char chunk[4096];
	size_t n;

	int ret = 0;

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_add(b, chunk, n) < 0) {
			ret = -1;
			break;
		}
	if (b->secret)
		secret_wipe(chunk, sizeof(chunk));
	return ret < 0 || ferror(f) ? -1 : 0;
}

/* Reads fd to its end into b; -1 with *why. */
static int read_fd(struct buf *b, int fd, const char **why)
{
	char chunk[4096];
	int ret = 0;

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*why = strerror(errno);
			ret = -1;
		} else if (n && buf_add(b, chunk, (size_t)n) < 0) {
			*why = "larger than the limit";
			ret = -1;
		}
		if (n <= 0 || ret < 0)
			break;
	}
	if (b->secret)
		secret_wipe(chunk, sizeof(chunk));
	return ret;
}

int buf_read_file(struct buf *b, const char *path, const char **why)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int ret = -1;

	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		*why = strerror(errno);
	} else if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
	} else if ((uintmax_t)st.st_size > (uintmax_t)(b->max - b->len)) {
		b->overflow = 1;
		*why = "larger than the limit";
	} else {
		ret = read_fd(b, fd, why);
	}
	close(fd);
	return ret;
}

int path_readable(const char *path)
{
	char byte;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), err = 0;

	if (fd < 0)
		return errno;
	if (read(fd, &byte, 1) < 0 && errno != EAGAIN)
		err = errno;
	close(fd);
	return err;
}
