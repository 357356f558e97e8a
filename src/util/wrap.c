/*
 * wrap: see wrap.h.
 */
#include "util/wrap.h"

/* The length of the ANSI escape sequence at s (CSI ... final byte), else 0. */
static size_t escape_len(const char *s, const char *end)
{
	const char *p = s + 2;

	if (end - s < 2 || s[0] != '\033' || s[1] != '[')
		return 0;
	while (p < end && !(*p >= 0x40 && *p <= 0x7e))
		p++;
	return p < end ? (size_t)(p + 1 - s) : (size_t)(end - s);
}

/* The columns of s..end: escapes none, a UTF-8 character one. */
static int columns(const char *s, const char *end)
{
	int n = 0;

	while (s < end) {
		size_t esc = escape_len(s, end);

		if (esc) {
			s += esc;
			continue;
		}
		n += ((unsigned char)*s & 0xc0) != 0x80;
		s++;
	}
	return n;
}

/*
 * The end of the word at s: the next space, or for a command the next
 * space outside quotes and not escaped by a backslash.
 */
static const char *word_end(const char *s, const char *end, int shell)
{
	char quote = 0;

	for (; s < end; s++) {
		if (!quote && *s == ' ')
			break;
		if (!shell)
			continue;
		if (quote != '\'' && *s == '\\' && s + 1 < end)
			s++;
		else if (!quote && (*s == '\'' || *s == '"'))
			quote = *s;
		else if (quote && *s == quote)
			quote = 0;
	}
	return s;
}

static int spaces(struct buf *out, int n)
{
	int ret = 0;

	while (n-- > 0 && ret == 0)
		ret = buf_addch(out, ' ');
	return ret;
}

int text_wrap(struct buf *out, const char *line, size_t len, int width, int hang, int shell)
{
	const char *p = line, *end = line + len;
	int col = 0, room = width - (shell ? 2 : 0); /* a command keeps room for " \" */
	int ret = 0;

	if (hang > width * 2 / 3)
		hang = width / 3;
	while (p < end && ret == 0) {
		const char *sp = p, *w, *we;
		int wcol;

		while (p < end && *p == ' ')
			p++;
		w = p;
		we = word_end(w, end, shell);
		wcol = columns(w, we);
		if (col > hang && w > sp && w < end && col + (int)(w - sp) + wcol > room) {
			ret = buf_adds(out, shell ? " \\\n" : "\n");
			if (ret == 0)
				ret = spaces(out, hang);
			col = hang;
		} else {
			ret = buf_add(out, sp, (size_t)(w - sp));
			col += (int)(w - sp);
		}
		if (ret == 0)
			ret = buf_add(out, w, (size_t)(we - w));
		col += wcol;
		p = we;
	}
	return ret;
}
