/*
 * mdterm: see mdterm.h. Only the Markdown the knowledge base uses is
 * understood; anything else passes through as text.
 */
#include "cli/mdterm.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define MAX_COLS 16
#define MAX_ROWS 64

struct render {
	struct buf *out;
	int width;
	struct buf para;        /* the paragraph or list item being collected */
	int para_first, para_rest; /* its indents */
	const char *para_mark;  /* "- " or "1. " for a list item, else "" */
	int blank;              /* the last line written was blank (or nothing yet) */
	char *rows[MAX_ROWS][MAX_COLS];
	int nr_rows, nr_cols[MAX_ROWS];
};

/* The first occurrence of needle (n bytes) in the len bytes at s, or NULL. */
static const char *find(const char *s, size_t len, const char *needle, size_t n)
{
	size_t i;

	for (i = 0; n <= len && i <= len - n; i++)
		if (!memcmp(s + i, needle, n))
			return s + i;
	return NULL;
}

/* Display columns of UTF-8 text: one per character. */
static int columns(const char *s, size_t n)
{
	int w = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			w++;
	return w;
}

static void line_out(struct render *r, const char *s)
{
	if (!*s && r->blank)
		return;
	buf_adds(r->out, s);
	buf_addch(r->out, '\n');
	r->blank = !*s;
}

static void spaces(struct buf *b, int n)
{
	while (n-- > 0)
		buf_addch(b, ' ');
}

/* A link's target as a terminal reader can follow it. */
static void link_target(struct buf *out, const char *url, size_t n)
{
	const char *md = find(url, n, ".md", 3);

	if (n && url[0] == '#')
		return; /* a section of this page */
	if (md && !strncmp(url, "check.", 6)) {
		buf_addf(out, " (ocidoctor explain %.*s)", (int)(md - url), url);
		return;
	}
	if (md && find(url, n, "usage.md", 8)) {
		buf_adds(out, " (ocidoctor(1))");
		return;
	}
	if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8)) {
		buf_addf(out, " <%.*s>", (int)n, url);
		return;
	}
	if (md) {
		const char *slash = url;
		const char *p;

		for (p = url; p < md; p++)
			if (*p == '/')
				slash = p + 1;
		buf_addf(out, " (docs/%.*s.md)", (int)(md - slash), slash);
	}
}

/* Inline markup: `code`, **strong**, [text](url). */
static void inline_md(struct buf *out, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const char *end;

		if (s[i] == '`' && (end = memchr(s + i + 1, '`', n - i - 1))) {
			buf_add(out, s + i + 1, (size_t)(end - s - i - 1));
			i = (size_t)(end - s) + 1;
		} else if (i + 1 < n && s[i] == '*' && s[i + 1] == '*' &&
			   (end = find(s + i + 2, n - i - 2, "**", 2))) {
			inline_md(out, s + i + 2, (size_t)(end - s - i - 2));
			i = (size_t)(end - s) + 2;
		} else if (s[i] == '[' && (end = memchr(s + i, ']', n - i)) && end + 1 < s + n &&
			   end[1] == '(' && memchr(end, ')', (size_t)(s + n - end))) {
			const char *url = end + 2, *close = memchr(end, ')', (size_t)(s + n - end));

			inline_md(out, s + i + 1, (size_t)(end - s - i - 1));
			link_target(out, url, (size_t)(close - url));
			i = (size_t)(close - s) + 1;
		} else {
			buf_addch(out, s[i++]);
		}
	}
}

/* Writes text wrapped to the width, the first line after `first` spaces and a mark. */
static void wrap(struct render *r, const char *text, int first, const char *mark, int rest)
{
	struct buf line;
	const char *p = text;
	int col, indent = first;

	buf_init(&line, BUF_TEXT_MAX);
	spaces(&line, first);
	buf_adds(&line, mark);
	col = first + columns(mark, strlen(mark));
	indent = col;
	while (*p) {
		size_t n;
		int w;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		n = strcspn(p, " ");
		w = columns(p, n);
		if (col > indent && col + 1 + w > r->width) {
			line_out(r, line.data);
			buf_reset(&line);
			spaces(&line, rest);
			col = indent = rest;
		}
		if (col > indent) {
			buf_addch(&line, ' ');
			col++;
		}
		buf_add(&line, p, n);
		col += w;
		p += n;
	}
	if (col > indent || *mark)
		line_out(r, line.data);
	buf_release(&line);
}

static void flush_para(struct render *r)
{
	struct buf text;

	if (!r->para.len)
		return;
	buf_init(&text, BUF_TEXT_MAX);
	inline_md(&text, r->para.data, r->para.len);
	wrap(r, text.data, r->para_first, r->para_mark, r->para_rest);
	buf_release(&text);
	buf_reset(&r->para);
	r->para_mark = "";
}

static int is_separator_row(char **cells, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		const char *c = cells[i];

		c += *c == ':';
		if (*c != '-')
			return 0;
		c += strspn(c, "-");
		c += *c == ':';
		if (*c)
			return 0;
	}
	return n > 0;
}

static void table_row(struct render *r, const char *line)
{
	const char *p = line + 1, *start = p;
	int col = 0, in_code = 0;

	if (r->nr_rows == MAX_ROWS)
		return;
	for (; *p && col < MAX_COLS; p++) {
		const char *end = p;
		struct buf cell;

		if (*p == '`')
			in_code = !in_code;
		if (*p != '|' || in_code)
			continue;
		/* a cell: start..p, a | inside `code` belongs to it */
		while (start < end && *start == ' ')
			start++;
		while (end > start && end[-1] == ' ')
			end--;
		buf_init(&cell, BUF_TEXT_MAX);
		inline_md(&cell, start, (size_t)(end - start));
		r->rows[r->nr_rows][col++] = buf_detach(&cell);
		start = p + 1;
	}
	r->nr_cols[r->nr_rows] = col;
	if (is_separator_row(r->rows[r->nr_rows], col)) {
		while (col--)
			free(r->rows[r->nr_rows][col]);
		return;
	}
	r->nr_rows++;
}

static void flush_table(struct render *r)
{
	int widths[MAX_COLS] = { 0 }, total = 0, ncols = 0, i, j;
	struct buf line;

	if (!r->nr_rows)
		return;
	for (i = 0; i < r->nr_rows; i++) {
		if (r->nr_cols[i] > ncols)
			ncols = r->nr_cols[i];
		for (j = 0; j < r->nr_cols[i]; j++) {
			int w = columns(r->rows[i][j], strlen(r->rows[i][j]));

			if (w > widths[j])
				widths[j] = w;
		}
	}
	for (j = 0; j < ncols; j++)
		total += widths[j] + (j ? 3 : 0);
	buf_init(&line, BUF_TEXT_MAX);
	if (total + 2 <= r->width) {
		for (i = 0; i < r->nr_rows; i++) {
			buf_reset(&line);
			spaces(&line, 2);
			for (j = 0; j < r->nr_cols[i]; j++) {
				const char *c = r->rows[i][j];

				if (j)
					buf_adds(&line, " | ");
				buf_adds(&line, c);
				if (j + 1 < r->nr_cols[i])
					spaces(&line, widths[j] - columns(c, strlen(c)));
			}
			line_out(r, line.data);
			if (i == 0) {
				buf_reset(&line);
				spaces(&line, 2);
				for (j = 0; j < total; j++)
					buf_addch(&line, '-');
				line_out(r, line.data);
			}
		}
	} else {
		/* too wide: one block per row, "header: value" */
		for (i = 1; i < r->nr_rows; i++) {
			for (j = 0; j < r->nr_cols[i]; j++) {
				char *text;

				if (!*r->rows[i][j])
					continue;
				text = xstrfmt("%s: %s", j < r->nr_cols[0] ? r->rows[0][j] : "",
						     r->rows[i][j]);

				wrap(r, text, 2, j ? "  " : "- ", 6);
				free(text);
			}
		}
	}
	buf_release(&line);
	for (i = 0; i < r->nr_rows; i++)
		for (j = 0; j < r->nr_cols[i]; j++)
			free(r->rows[i][j]);
	r->nr_rows = 0;
}

static void heading(struct render *r, const char *line)
{
	int level = (int)strspn(line, "#");
	const char *under = level == 1 ? "=" : level == 2 ? "-" : "~";
	struct buf text, rule;
	int i, w;

	const char *t = line + level + 1, *close = *t == '`' ? strchr(t + 1, '`') : NULL;

	buf_init(&text, BUF_TEXT_MAX);
	buf_init(&rule, BUF_TEXT_MAX);
	if (close && close[1] == ' ') {
		/* "### `cause` title": "cause: title" */
		buf_add(&text, t + 1, (size_t)(close - t - 1));
		buf_adds(&text, ":");
		t = close + 1;
	}
	inline_md(&text, t, strlen(t));
	w = columns(text.data, text.len);
	for (i = 0; i < w && i < r->width; i++)
		buf_adds(&rule, under);
	line_out(r, "");
	line_out(r, text.data);
	line_out(r, rule.data);
	buf_release(&text);
	buf_release(&rule);
}

/* Starts a list item when line (after indent) is "- ", "* " or "N. ". */
static int list_item(struct render *r, const char *t, int indent)
{
	static char mark[16];
	size_t digits = strspn(t, "0123456789");
	const char *rest;

	if ((t[0] == '-' || t[0] == '*') && t[1] == ' ') {
		snprintf(mark, sizeof(mark), "- ");
		rest = t + 2;
	} else if (digits && digits < 4 && t[digits] == '.' && t[digits + 1] == ' ') {
		snprintf(mark, sizeof(mark), "%.*s. ", (int)digits, t);
		rest = t + digits + 2;
	} else {
		return 0;
	}
	flush_para(r);
	r->para_first = 2 + indent;
	r->para_mark = mark;
	r->para_rest = 2 + indent + (int)strlen(mark);
	buf_adds(&r->para, rest);
	return 1;
}

const char *mdterm_body(const char *md)
{
	const char *end;

	if (!strncmp(md, "---\n", 4) && (end = strstr(md + 4, "\n---\n")))
		md = end + 5;
	while (*md == '\n')
		md++;
	return md;
}

void mdterm_render(struct buf *out, const char *md, int width)
{
	struct render r = { .out = out, .width = width < 20 ? 20 : width, .para_mark = "",
			    .blank = 1 };
	char *copy = xstrdup(mdterm_body(md)), *cursor = copy, *line;
	int fence = -1; /* indent of the open code fence, or -1 */

	buf_init(&r.para, BUF_TEXT_MAX);
	while ((line = cursor) && *line) {
		const char *t;
		int indent;

		cursor = line + strcspn(line, "\n");
		if (*cursor)
			*cursor++ = '\0';
		t = line + strspn(line, " ");
		indent = (int)(t - line);
		if (fence >= 0) {
			struct buf code;

			if (!strncmp(t, "```", 3)) {
				fence = -1;
				continue;
			}
			buf_init(&code, BUF_TEXT_MAX);
			spaces(&code, 4 + fence);
			buf_adds(&code, line + (indent < fence ? indent : fence));
			line_out(&r, code.data);
			buf_release(&code);
			continue;
		}
		if (*t != '|')
			flush_table(&r);
		if (!strncmp(t, "```", 3)) {
			flush_para(&r);
			fence = indent;
			continue;
		}
		if (!*t) {
			flush_para(&r);
			line_out(&r, "");
		} else if (*t == '#' && indent == 0 && strspn(t, "#") <= 6 && t[strspn(t, "#")] == ' ') {
			flush_para(&r);
			heading(&r, t);
		} else if (*t == '|') {
			flush_para(&r);
			table_row(&r, t);
		} else if (list_item(&r, t, indent)) {
			continue;
		} else {
			if (!r.para.len) {
				r.para_first = r.para_rest = indent ? indent : 0;
				r.para_mark = "";
			} else {
				buf_addch(&r.para, ' ');
			}
			buf_adds(&r.para, t);
		}
	}
	flush_para(&r);
	flush_table(&r);
	buf_release(&r.para);
	free(copy);
}
