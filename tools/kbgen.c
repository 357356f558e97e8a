/*
 * kbgen: builds the knowledge base into the binary.
 *
 * Reads docs/checks/<id>.md (one page per check) and writes a C file
 * holding each page's text and the remediations of its "## Remediation"
 * section, so that `ocidoctor explain` and every report's remediation
 * come from the very files on disk and cannot drift from them.
 *
 * The section's grammar; anything else in it is an error reported with
 * file and line, so a page that would lose advice does not build:
 *
 *   an introduction                     ignored
 *   ### `CAUSE` ...                      starts the advice for one cause
 *   Category: NAME.                     required: connectivity, tls, auth, permissions,
 *                                       compatibility, configuration or rate-limit
 *   summary lines                       one paragraph
 *   - **PLATFORM**: text                 a step: docker-compose, bare-metal or kubernetes
 *     more text                          continues the step
 *     ```sh                              commands, one per line, up to the closing fence
 *     ```
 *
 * usage: kbgen OUT.c PAGE.md...
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE (1 << 20)
#define MAX_TEXT 4096
#define MAX_CAUSES 32
#define MAX_STEPS 8
#define MAX_CMDS 16

static const char *const platforms[] = { "docker-compose", "bare-metal", "kubernetes", NULL };
static const char *const categories[] = { "connectivity", "tls", "auth", "permissions",
					  "compatibility", "configuration", "rate-limit", NULL };

struct step {
	char platform[32];
	char text[MAX_TEXT];
	char *cmds[MAX_CMDS];
	int nr_cmds;
};

struct cause {
	char name[64];
	char category[32];
	char summary[MAX_TEXT];
	struct step steps[MAX_STEPS];
	int nr_steps;
};

struct page {
	const char *path;
	char *text;       /* the file as read */
	char *work;       /* a copy cut into lines */
	char id[128];
	int line;
	struct cause causes[MAX_CAUSES];
	int nr_causes;
};

static void die(const struct page *p, const char *msg, const char *arg)
{
	fprintf(stderr, "kbgen: %s:%d: %s%s\n", p->path, p->line, msg, arg ? arg : "");
	exit(1);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f) {
		fprintf(stderr, "kbgen: cannot read %s: %s\n", path, strerror(errno));
		exit(1);
	}
	buf = malloc(MAX_FILE + 1);
	if (!buf)
		exit(1);
	n = fread(buf, 1, MAX_FILE, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void append(const struct page *p, char *dst, const char *s)
{
	size_t len = strlen(dst);

	if (len + strlen(s) + 2 >= MAX_TEXT)
		die(p, "text too long", NULL);
	if (len)
		dst[len++] = ' ';
	memcpy(dst + len, s, strlen(s) + 1);
}

static const char *skip_spaces(const char *s)
{
	while (*s == ' ')
		s++;
	return s;
}

static int is_platform(const char *s, size_t n)
{
	size_t i;

	for (i = 0; platforms[i]; i++)
		if (strlen(platforms[i]) == n && !strncmp(platforms[i], s, n))
			return 1;
	return 0;
}

/* The id from the front matter line "id: ..."; else the file name. */
static void find_id(struct page *p)
{
	const char *s = strstr(p->text, "\nid: ");
	const char *slash, *dot;
	size_t n;

	if (s) {
		s += 5;
		n = strcspn(s, "\r\n ");
	} else {
		slash = strrchr(p->path, '/');
		s = slash ? slash + 1 : p->path;
		dot = strrchr(s, '.');
		n = dot ? (size_t)(dot - s) : strlen(s);
	}
	if (n >= sizeof(p->id))
		die(p, "id too long", NULL);
	memcpy(p->id, s, n);
	p->id[n] = '\0';
}

static char *next_line(struct page *p, char **cursor)
{
	char *start = *cursor, *end;

	if (!*start)
		return NULL;
	end = strchr(start, '\n');
	if (end) {
		*end = '\0';
		*cursor = end + 1;
	} else {
		*cursor = start + strlen(start);
	}
	if (end > start && end[-1] == '\r')
		end[-1] = '\0';
	p->line++;
	return start;
}

static void start_cause(struct page *p, const char *line)
{
	const char *a = strchr(line, '`'), *b = a ? strchr(a + 1, '`') : NULL;
	struct cause *c;

	if (!a || !b || b == a + 1 || (size_t)(b - a) >= sizeof(c->name))
		die(p, "a cause heading needs the cause in backticks: ", line);
	if (p->nr_causes == MAX_CAUSES)
		die(p, "too many causes", NULL);
	c = &p->causes[p->nr_causes++];
	memcpy(c->name, a + 1, (size_t)(b - a - 1));
	c->name[b - a - 1] = '\0';
}

static struct step *start_step(struct page *p, const char *t)
{
	struct cause *c = p->nr_causes ? &p->causes[p->nr_causes - 1] : NULL;
	const char *end = strstr(t + 4, "**");
	struct step *s;

	if (!c)
		die(p, "a step before the first cause heading: ", t);
	if (!end || !is_platform(t + 4, (size_t)(end - t - 4)))
		die(p, "a step starts with - **docker-compose**, - **bare-metal** or - **kubernetes**: ", t);
	if (c->nr_steps == MAX_STEPS)
		die(p, "too many steps", NULL);
	s = &c->steps[c->nr_steps++];
	memcpy(s->platform, t + 4, (size_t)(end - t - 4));
	t = skip_spaces(end + 2);
	if (*t == ':')
		t = skip_spaces(t + 1);
	append(p, s->text, t);
	return s;
}

/* "Category: NAME." under a cause heading, before its summary and steps. */
static void set_category(struct page *p, const char *t)
{
	struct cause *c = p->nr_causes ? &p->causes[p->nr_causes - 1] : NULL;
	size_t n, i;

	t += 10;
	n = strcspn(t, ". ");
	if (!c || c->category[0] || c->summary[0])
		die(p, "a Category line goes right under a cause heading, once: ", t);
	for (i = 0; categories[i]; i++)
		if (strlen(categories[i]) == n && !strncmp(categories[i], t, n))
			break;
	if (!categories[i])
		die(p, "unknown category (connectivity, tls, auth, permissions, compatibility, configuration, rate-limit): ", t);
	memcpy(c->category, t, n);
	c->category[n] = '\0';
}

/* Parses the lines after "## Remediation" up to the next "## " heading. */
static void parse_remediation(struct page *p, char *cursor)
{
	struct step *step = NULL;
	int in_fence = 0;
	char *line;

	while ((line = next_line(p, &cursor))) {
		const char *t = skip_spaces(line);

		if (in_fence) {
			if (!strncmp(t, "```", 3))
				in_fence = 0;
			else if (*t && step->nr_cmds == MAX_CMDS)
				die(p, "too many commands", NULL);
			else if (*t)
				step->cmds[step->nr_cmds++] = (char *)(line[0] == ' ' && line[1] == ' ' ? line + 2 : line);
			continue;
		}
		if (!strncmp(line, "## ", 3))
			break;
		if (!strncmp(line, "### ", 4)) {
			start_cause(p, line);
			step = NULL;
		} else if (!strncmp(t, "Category: ", 10) && !step) {
			set_category(p, t);
		} else if (!strncmp(t, "- **", 4)) {
			step = start_step(p, t);
		} else if (!strncmp(t, "```", 3)) {
			if (!step)
				die(p, "commands outside a step", NULL);
			in_fence = 1;
		} else if (!*t) {
			continue;
		} else if (step) {
			append(p, step->text, t);
		} else if (p->nr_causes) {
			append(p, p->causes[p->nr_causes - 1].summary, t);
		}
		/* text before the first cause heading introduces the section */
	}
	if (in_fence)
		die(p, "a command block is not closed", NULL);
}

static void parse_page(struct page *p)
{
	char *cursor, *line;

	p->text = read_file(p->path);
	p->work = strdup(p->text);
	if (!p->work)
		exit(1);
	find_id(p);
	cursor = p->work;
	while ((line = next_line(p, &cursor)))
		if (!strcmp(line, "## Remediation")) {
			parse_remediation(p, cursor);
			break;
		}
	for (int i = 0; i < p->nr_causes; i++)
		if (!p->causes[i].summary[0] || !p->causes[i].nr_steps || !p->causes[i].category[0])
			die(p, "a cause without a category, a summary or steps: ", p->causes[i].name);
}

static void put_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\' || c == '"')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n\"\n\t\"", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20)
			fprintf(out, "\\%03o", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void emit_page(FILE *out, const struct page *p, int pi)
{
	int ci, si, k;

	for (ci = 0; ci < p->nr_causes; ci++) {
		const struct cause *c = &p->causes[ci];

		for (si = 0; si < c->nr_steps; si++) {
			if (!c->steps[si].nr_cmds)
				continue;
			fprintf(out, "static const char *const cmd_%d_%d_%d[] = {\n", pi, ci, si);
			for (k = 0; k < c->steps[si].nr_cmds; k++) {
				fputc('\t', out);
				put_str(out, c->steps[si].cmds[k]);
				fputs(",\n", out);
			}
			fputs("\tNULL\n};\n", out);
		}
		fprintf(out, "static const struct remediation_step steps_%d_%d[] = {\n", pi, ci);
		for (si = 0; si < c->nr_steps; si++) {
			fputs("\t{ .platform = ", out);
			put_str(out, c->steps[si].platform);
			fputs(", .text = ", out);
			put_str(out, c->steps[si].text);
			if (c->steps[si].nr_cmds)
				fprintf(out, ", .commands = cmd_%d_%d_%d", pi, ci, si);
			fputs(" },\n", out);
		}
		fputs("\t{ 0 }\n};\n", out);
	}
	fprintf(out, "static const struct remediation remediations_%d[] = {\n", pi);
	/* a page without advice still ends its list */
	for (ci = 0; ci < p->nr_causes; ci++) {
		fputs("\t{ .cause = ", out);
		put_str(out, p->causes[ci].name);
		fputs(", .category = ", out);
		put_str(out, p->causes[ci].category);
		fputs(", .summary = ", out);
		put_str(out, p->causes[ci].summary);
		fprintf(out, ", .steps = steps_%d_%d },\n", pi, ci);
	}
	fputs("\t{ 0 }\n};\n", out);
	fprintf(out, "static const char text_%d[] =\n\t", pi);
	put_str(out, p->text);
	fputs(";\n\n", out);
}

int main(int argc, char **argv)
{
	struct page *pages;
	FILE *out;
	int i;

	if (argc < 3) {
		fputs("usage: kbgen OUT.c PAGE.md...\n", stderr);
		return 2;
	}
	pages = calloc((size_t)argc, sizeof(*pages));
	if (!pages)
		return 1;
	for (i = 2; i < argc; i++) {
		pages[i - 2].path = argv[i];
		parse_page(&pages[i - 2]);
	}
	out = fopen(argv[1], "w");
	if (!out)
		return 1;
	fputs("/* Generated by tools/kbgen.c from the pages in docs/checks: do not edit. */\n"
	      "#include \"checks/kb.h\"\n\n", out);
	for (i = 0; i < argc - 2; i++)
		emit_page(out, &pages[i], i);
	fputs("const struct kb_page kb_pages[] = {\n", out);
	for (i = 0; i < argc - 2; i++) {
		fputs("\t{ .id = ", out);
		put_str(out, pages[i].id);
		fprintf(out, ", .text = text_%d, .remediations = remediations_%d },\n", i, i);
	}
	fprintf(out, "};\nconst size_t kb_pages_size = %d;\n", argc - 2);
	if (fclose(out) != 0)
		return 1;
	for (i = 0; i < argc - 2; i++) {
		free(pages[i].text);
		free(pages[i].work);
	}
	free(pages);
	return 0;
}
