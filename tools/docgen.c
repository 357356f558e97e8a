/*
 * docgen: the manual page ocidoctor(1) and the bash and zsh completions,
 * generated from the same tables the program runs on: the command table
 * (cli_commands), each command's option table, the report and fleet
 * writers, the check table and the knowledge base. So they cannot drift
 * from the binary they are installed with.
 *
 * The man page also takes, as they are written, the sections of docs/usage.md
 * and docs/monitoring.md that a user copies from: the examples, the formats
 * of the config, targets and modules files, the exporter's metrics and its
 * scrape config.
 *
 * usage: docgen man OUT docs/usage.md docs/monitoring.md | docgen bash|zsh OUT
 */
#include "checks/check.h"
#include "checks/kb.h"
#include "cli/cli.h"
#include "report/matrix.h"
#include "report/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- roff ---- */

/* Text for roff: backslashes and dashes escaped, no line starting with a control character. */
static void roff(FILE *out, const char *s)
{
	int start = 1;

	for (; *s; s++) {
		if (start && (*s == '.' || *s == '\''))
			fputs("\\&", out);
		start = *s == '\n';
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}

/* The Markdown of a summary without its inline markup, as roff. */
static void roff_plain(FILE *out, const char *s)
{
	char *copy = strdup(s), *w = copy;
	const char *r;

	if (!copy)
		exit(1);
	for (r = s; *r; r++)
		if (*r != '`' && *r != '*')
			*w++ = *r;
	*w = '\0';
	roff(out, copy);
	free(copy);
}

/* ---- the Markdown of docs/, as roff ---- */

/*
 * A page of docs/ read whole, in lines. The man page takes some sections of
 * docs/usage.md and docs/monitoring.md as they are (the examples, the file
 * formats, the exporter's module keys and metrics), so that each is written
 * once.
 */
struct md {
	const char *name;
	char *text;
	char **lines;
	size_t nr;
};

/* Says what could not be done with the page name, and ends docgen. */
static void die(const char *name, const char *why, const char *what)
{
	fprintf(stderr, "docgen: %s: %s%s\n", name, why, what);
	exit(1);
}

static void md_load(struct md *md, const char *name)
{
	FILE *f = fopen(name, "r");
	size_t len = 0, cap = 0, n;
	char chunk[8192], *p;

	md->name = name;
	md->text = NULL;
	if (!f)
		die(name, strerror(errno), "");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			md->text = realloc(md->text, cap);
			if (!md->text)
				exit(1);
		}
		memcpy(md->text + len, chunk, n);
		len += n;
	}
	if (ferror(f))
		die(name, strerror(errno), "");
	fclose(f);
	if (!md->text)
		die(name, "empty", "");
	md->text[len] = '\0';
	md->nr = 0;
	md->lines = calloc(len + 2, sizeof(*md->lines));
	if (!md->lines)
		exit(1);
	for (p = md->text; *p; ) {
		md->lines[md->nr++] = p;
		p = strchr(p, '\n');
		if (!p)
			break;
		*p++ = '\0';
	}
}

static void md_release(struct md *md)
{
	free(md->lines);
	free(md->text);
}

/* The level of a heading line (## is 2), 0 for any other line. */
static int heading_level(const char *line)
{
	int n = 0;

	while (line[n] == '#')
		n++;
	return n && line[n] == ' ' ? n : 0;
}

static int is_fence(const char *line)
{
	return !strncmp(line, "```", 3);
}

/* The lines under HEADING (a whole line, "## EXAMPLES"), up to the next heading of its level or above. */
static void md_section(const struct md *md, const char *heading, size_t *first, size_t *end)
{
	int level = heading_level(heading), code = 0;
	size_t i;

	for (i = 0; i < md->nr; i++) {
		if (is_fence(md->lines[i]))
			code = !code;
		else if (!code && !strcmp(md->lines[i], heading))
			break;
	}
	if (i == md->nr)
		die(md->name, "no section ", heading);
	*first = ++i;
	for (code = 0; i < md->nr; i++) {
		int l = code ? 0 : heading_level(md->lines[i]);

		if (is_fence(md->lines[i]))
			code = !code;
		else if (l && l <= level)
			break;
	}
	*end = i;
}

/* A character of text for roff; *start says whether it begins an output line. */
static void roff_char(FILE *out, char c, int *start)
{
	if (*start && (c == '.' || c == '\''))
		fputs("\\&", out);
	*start = c == '\n';
	if (c == '\\')
		fputs("\\e", out);
	else if (c == '-')
		fputs("\\-", out);
	else
		fputc(c, out);
}

/*
 * Inline Markdown as roff: `code` in bold (not hyphenated), **strong** in
 * bold, [text](link) as its text, \| as |. n bytes of s.
 */
static void md_inline(FILE *out, const char *s, size_t n, int *start)
{
	const char *end = s + n, *close;
	int code = 0;

	for (; s < end; s++) {
		if (*s == '`') {
			fputs(code ? "\\fR" : "\\fB\\%", out);
			*start = 0;
			code = !code;
		} else if (code) {
			roff_char(out, *s, start);
		} else if (*s == '*' && s + 1 < end && s[1] == '*') {
			close = strstr(s + 2, "**");
			if (close && close < end) {
				fputs("\\fB", out);
				md_inline(out, s + 2, (size_t)(close - s - 2), start);
				fputs("\\fR", out);
				*start = 0;
				s = close + 1;
			} else {
				roff_char(out, *s, start);
			}
		} else if (*s == '[' && (close = memchr(s, ']', (size_t)(end - s))) && close + 1 < end &&
			   close[1] == '(' && memchr(close, ')', (size_t)(end - close))) {
			md_inline(out, s + 1, (size_t)(close - s - 1), start);
			s = memchr(close, ')', (size_t)(end - close));
		} else if (*s == '\\' && s + 1 < end && s[1] == '|') {
			roff_char(out, '|', start);
			s++;
		} else {
			roff_char(out, *s, start);
		}
	}
	if (code)
		fputs("\\fR", out);
}

static void md_text_line(FILE *out, const char *s)
{
	int start = 1;

	while (*s == ' ')
		s++;
	md_inline(out, s, strlen(s), &start);
	fputc('\n', out);
}

/* The cells of a table row, "| a | b |", trimmed; \| does not split. */
static size_t table_cells(const char *row, const char **cell, size_t *len, size_t max)
{
	const char *p = row + 1, *q;
	size_t n = 0;

	while (*p && n < max) {
		for (q = p; *q && !(*q == '|' && q[-1] != '\\'); q++)
			;
		if (!*q)
			break;
		while (p < q && *p == ' ')
			p++;
		cell[n] = p;
		len[n] = (size_t)(q - p);
		while (len[n] && p[len[n] - 1] == ' ')
			len[n]--;
		n++;
		p = q + 1;
	}
	return n;
}

#define MAX_CELLS 8

/*
 * A table as a tagged list: the first cell is the tag; with two columns the
 * second is the text, with more each other cell follows its column's name.
 */
static size_t md_table(FILE *out, const struct md *md, size_t i, size_t end)
{
	const char *head[MAX_CELLS], *cell[MAX_CELLS];
	size_t head_len[MAX_CELLS], len[MAX_CELLS], cols, n, c;
	int start;

	cols = table_cells(md->lines[i], head, head_len, MAX_CELLS);
	for (i += 2; i < end && md->lines[i][0] == '|'; i++) {
		n = table_cells(md->lines[i], cell, len, MAX_CELLS);
		if (!n)
			continue;
		fputs(".TP\n", out);
		start = 1;
		md_inline(out, cell[0], len[0], &start);
		fputc('\n', out);
		start = 1;
		for (c = 1; c < n; c++) {
			if (!len[c])
				continue;
			if (cols > 2) {
				if (!start)
					fputs("; ", out);
				md_inline(out, head[c], head_len[c], &start);
				fputs(": ", out);
			}
			md_inline(out, cell[c], len[c], &start);
		}
		fputc('\n', out);
	}
	return i;
}

static size_t md_code(FILE *out, const struct md *md, size_t i, size_t end)
{
	const char *s;
	int start;

	fputs(".PP\n.RS 4\n.nf\n", out);
	for (i++; i < end && !is_fence(md->lines[i]); i++) {
		start = 1;
		for (s = md->lines[i]; *s; s++)
			roff_char(out, *s, &start);
		fputc('\n', out);
	}
	fputs(".fi\n.RE\n", out);
	return i + 1;
}

/* Lines [first, end) of md as roff: paragraphs, fenced code, tables, lists, "term / : text" definitions. */
static void md_roff(FILE *out, const struct md *md, size_t first, size_t end)
{
	size_t i = first;
	const char *line;
	int para = 0;

	while (i < end) {
		line = md->lines[i];
		if (!*line) {
			para = 0;
			i++;
		} else if (is_fence(line)) {
			i = md_code(out, md, i, end);
			para = 0;
		} else if (line[0] == '|' && i + 1 < end && md->lines[i + 1][0] == '|') {
			i = md_table(out, md, i, end);
			para = 0;
		} else if (heading_level(line)) {
			fputs(".PP\n\\fB", out);
			md_text_line(out, line + heading_level(line) + 1);
			fputs("\\fR\n.PP\n", out);
			para = 0;
			i++;
		} else if (!strncmp(line, "- ", 2)) {
			fputs(".IP \\(bu 2\n", out);
			md_text_line(out, line + 2);
			para = 1;
			i++;
		} else if (i + 1 < end && !strncmp(md->lines[i + 1], ": ", 2)) {
			fputs(".TP\n", out);
			md_text_line(out, line);
			md_text_line(out, md->lines[i + 1] + 2);
			para = 1;
			i += 2;
		} else {
			if (!para && line[0] != ' ')
				fputs(".PP\n", out);
			md_text_line(out, line);
			para = 1;
			i++;
		}
	}
}

/* The section of md under heading, as roff. */
static void md_roff_section(FILE *out, const struct md *md, const char *heading)
{
	size_t first, end;

	md_section(md, heading, &first, &end);
	md_roff(out, md, first, end);
}

static void man_option(FILE *out, const struct opt *o)
{
	char *help;

	fputs(".TP\n", out);
	if (o->short_name)
		fprintf(out, "\\fB\\-%c\\fR, ", o->short_name);
	fputs("\\fB\\-\\-", out);
	roff(out, o->long_name);
	fputs("\\fR", out);
	if (o->type != OPT_BOOL) {
		fputs(" \\fI", out);
		roff(out, o->arg ? o->arg : "VALUE");
		fputs("\\fR", out);
	}
	fputc('\n', out);
	help = opt_help_text(o);
	roff(out, help);
	free(help);
	fputs(".\n", out);
	if (o->env || o->key) {
		fputs("Also set by", out);
		if (o->env) {
			fputs(" the environment variable \\fB", out);
			roff(out, o->env);
			fputs("\\fR", out);
		}
		if (o->env && o->key)
			fputs(" and", out);
		if (o->key) {
			fputs(" the config file key \\fBoci.", out);
			roff(out, o->key);
			fputs("\\fR", out);
		}
		fputs(".\n", out);
	}
}

static void man_page(FILE *out, const struct md *usage, const struct md *monitoring)
{
	size_t i;
	const struct remediation *r;

	fprintf(out, ".\\\" Generated by tools/docgen.c from ocidoctor's option tables and knowledge base.\n"
		     ".TH OCIDOCTOR 1 \"\" \"ocidoctor %s\" \"User Commands\"\n", OCIDOCTOR_VERSION);
	fputs(".SH NAME\nocidoctor \\- probe an OCI registry and report what works, what does not, why, and how to fix it\n"
	      ".SH SYNOPSIS\n", out);
	for (i = 0; cli_commands[i]; i++) {
		fputs(".nf\n\\fB", out);
		roff(out, cli_commands[i]->usage);
		fputs("\\fR\n.fi\n", out);
	}
	fputs(".nf\n\\fBocidoctor help\\fR \\fICOMMAND\\fR\n\\fBocidoctor \\-V\\fR | \\fB\\-\\-version\\fR | \\fB\\-\\-help\\fR\n.fi\n", out);
	fputs(".SH DESCRIPTION\n"
	      "ocidoctor talks to a registry over the OCI distribution API and runs a fixed set of checks "
	      "(listed under CHECKS below): is the API there, are the credentials accepted, may they pull "
	      "and push, does the registry have the Referrers API, and which optional parts of the "
	      "specification it really supports. Every result has a status (pass, skip, info, warn, fail), "
	      "a message, details, the HTTP exchanges it rests on and, when it did not pass, a fix for the "
	      "platform named with \\fB\\-\\-platform\\fR.\n", out);
	fputs(".SH COMMANDS\n", out);
	for (i = 0; cli_commands[i]; i++) {
		fprintf(out, ".TP\n\\fB%s\\fR\n", cli_commands[i]->name);
		roff(out, cli_commands[i]->about);
		fputc('\n', out);
	}
	fputs(".SH OPTIONS\n", out);
	for (i = 0; cli_commands[i]; i++) {
		const struct opt *o;

		if (!cli_commands[i]->opts || cli_commands[i] == &cmd_config)
			continue;
		fprintf(out, ".SS \"Options of %s%s\"\n", cli_commands[i]->name,
			cli_commands[i] == &cmd_run ? " (and config)" : "");
		for (o = cli_commands[i]->opts; o->long_name; o++)
			if (!o->hidden)
				man_option(out, o);
	}
	fputs(".SH REPORT FORMATS\nThe values of \\fBrun \\-\\-format\\fR:\n", out);
	for (i = 0; report_writers[i]; i++) {
		fprintf(out, ".TP\n\\fB%s\\fR\n", report_writers[i]->name);
		roff(out, report_writers[i]->description);
		fputc('\n', out);
	}
	fputs(".PP\nThe values of \\fBmatrix \\-\\-format\\fR:", out);
	for (i = 0; matrix_writers[i]; i++)
		fprintf(out, "%s \\fB%s\\fR", i ? "," : "", matrix_writers[i]->name);
	fputs(".\n.SH CHECKS\n", out);
	for (i = 0; i < check_table_size; i++) {
		const struct check *c = check_table[i];
		const struct kb_page *page = kb_find(c->id);

		fprintf(out, ".SS \"%s\"\n", c->id);
		roff(out, c->title);
		fputs(": ", out);
		roff(out, c->summary);
		fputs(". Default severity ", out);
		fputs(check_status_name(c->severity), out);
		fputs(". The causes of a result that did not pass, each with its category:\n", out);
		for (r = page ? page->remediations : NULL; r && r->cause; r++) {
			fputs(".TP\n\\fB", out);
			roff(out, r->cause);
			fputs("\\fR (", out);
			roff(out, r->category);
			fputs(")\n", out);
			roff_plain(out, r->summary);
			fputc('\n', out);
		}
		fprintf(out, ".PP\nThe full page, with every fix: \\fBocidoctor explain %s\\fR.\n", c->id);
	}
	fputs(".SH \"FILE FORMATS\"\n.SS \"The \\-\\-config file of run, matrix and config\"\n", out);
	md_roff_section(out, usage, "## SETTINGS FROM THE ENVIRONMENT AND A FILE");
	fputs(".SS \"The targets file of matrix\"\n", out);
	md_roff_section(out, usage, "### The targets file");
	fputs(".SS \"The modules file of serve (its \\-\\-config)\"\n", out);
	md_roff_section(out, monitoring, "## Modules");
	fputs(".SH EXPORTER\n"
	      "What \\fBocidoctor serve\\fR answers, and how Prometheus scrapes it.\n"
	      ".SS Metrics\n", out);
	md_roff_section(out, monitoring, "## Metrics");
	fputs(".SS \"Scrape config\"\n", out);
	md_roff_section(out, monitoring, "## Scrape config");
	fputs(".SH EXIT STATUS\n"
	      ".TP\n\\fB0\\fR\nthe worst status is pass, info or skip (also warn with \\fB\\-\\-fail\\-on fail\\fR, and any status with \\fB\\-\\-fail\\-on never\\fR)\n"
	      ".TP\n\\fB1\\fR\nthe worst status is warn\n"
	      ".TP\n\\fB2\\fR\nthe worst status is fail\n"
	      ".TP\n\\fB3\\fR\nbad usage or configuration, said in one line on standard error before any request\n"
	      ".TP\n\\fB4\\fR\ninternal error: out of memory, the report could not be written\n", out);
	fputs(".SH ENVIRONMENT\n"
	      ".TP\n\\fBOCI_USERNAME\\fR, \\fBOCI_PASSWORD\\fR\nregistry credentials\n"
	      ".TP\n\\fBDOCKER_CONFIG\\fR\nthe directory of docker's config.json\n"
	      ".TP\n\\fBREGISTRY_AUTH_FILE\\fR, \\fBXDG_RUNTIME_DIR\\fR, \\fBXDG_CONFIG_HOME\\fR\nwhere containers' auth.json is looked for\n"
	      ".TP\n\\fBNO_COLOR\\fR\nno colours in the text report\n"
	      ".TP\n\\fBPAGER\\fR\nthe pager of \\fBexplain\\fR on a terminal\n"
	      ".TP\n\\fBHTTPS_PROXY\\fR, \\fBNO_PROXY\\fR\nproxies, as libcurl reads them\n"
	      ".PP\nThe settings' own variables are listed with their options above.\n", out);
	fputs(".SH FILES\n"
	      ".TP\n\\fI~/.docker/config.json\\fR\ndocker's credential helpers and stored logins\n"
	      ".TP\n\\fI~/.config/containers/auth.json\\fR\nlogins stored by podman, skopeo and buildah\n", out);
	fputs(".SH EXAMPLES\n", out);
	md_roff_section(out, usage, "## EXAMPLES");
	fputs(".SH SEE ALSO\n\\fBcurl\\fR(1), \\fBskopeo\\fR(1), \\fBoras\\fR(1), \\fBcrane\\fR(1)\n", out);
}

/* ---- completions ---- */

static void words_of(FILE *out, const struct opt *opts)
{
	const struct opt *o;

	for (o = opts; o && o->long_name; o++) {
		if (o->hidden)
			continue;
		fprintf(out, " --%s", o->long_name);
		if (o->short_name)
			fprintf(out, " -%c", o->short_name);
	}
}

static void check_ids(FILE *out)
{
	size_t i;

	for (i = 0; i < check_table_size; i++)
		fprintf(out, "%s%s", i ? " " : "", check_table[i]->id);
}

/* Every tag of the check table, once each, in table order. */
static void check_tags(FILE *out)
{
	const char *const *t, *const *u;
	size_t i, j;
	int first = 1, seen;

	for (i = 0; i < check_table_size; i++)
		for (t = check_table[i]->tags; t && *t; t++) {
			seen = 0;
			for (j = 0; j <= i && !seen; j++)
				for (u = check_table[j]->tags; u && *u && u != t && !seen; u++)
					seen = !strcmp(*u, *t);
			if (seen)
				continue;
			fprintf(out, "%s%s", first ? "" : " ", *t);
			first = 0;
		}
}

/* The values an option of a command takes, space-separated; 0 when free-form. */
static int option_values(FILE *out, const struct command *c, const struct opt *o)
{
	const char *v;
	size_t i;

	if (!strcmp(o->long_name, "format") && c == &cmd_config) {
		fputs("text json", out);
		return 1;
	}
	if (!strcmp(o->long_name, "check")) {
		check_ids(out);
		return 1;
	}
	if (!strcmp(o->long_name, "tags")) {
		check_tags(out);
		return 1;
	}
	/* from the option table: .values, or the writer table behind .value_at */
	for (i = 0; (v = opt_value_at(o, i)); i++)
		fprintf(out, "%s%s", i ? " " : "", v);
	return i > 0;
}

static int takes_file(const struct opt *o)
{
	return o->arg && (!strcmp(o->arg, "FILE") || !strcmp(o->arg, "PEM"));
}

static int takes_dir(const struct opt *o)
{
	return o->arg && !strcmp(o->arg, "DIR");
}

static void bash_completion(FILE *out)
{
	size_t i;

	fputs("# bash completion for ocidoctor; generated by tools/docgen.c.\n"
	      "_ocidoctor()\n{\n"
	      "\tlocal cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
	      "\tlocal cmd=\"${COMP_WORDS[1]}\" words=\"\"\n"
	      "\tCOMPREPLY=()\n"
	      /* --opt=value: the value is completed after the '=' (which bash may split off) */
	      "\tlocal line=\"${COMP_LINE:0:${COMP_POINT:-0}}\" eq=\"\"\n"
	      "\tline=\"${line##*[[:space:]]}\"\n"
	      "\tif [[ \"$line\" == --*=* ]]; then\n"
	      "\t\tprev=\"${line%%=*}\" cur=\"${line#*=}\"\n"
	      "\t\t[[ \"$COMP_WORDBREAKS\" == *=* ]] || eq=\"$prev=\"\n"
	      "\tfi\n"
	      "\tif [ \"$COMP_CWORD\" -eq 1 ]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"", out);
	for (i = 0; cli_commands[i]; i++)
		fprintf(out, "%s ", cli_commands[i]->name);
	fputs("help --help --version -V\" -- \"$cur\"))\n\t\treturn 0\n\tfi\n"
	      "\tcase \"$cmd\" in\n", out);
	for (i = 0; cli_commands[i]; i++) {
		const struct command *c = cli_commands[i];
		const struct opt *o;

		fprintf(out, "\t%s)\n\t\tcase \"$prev\" in\n", c->name);
		for (o = c->opts; o && o->long_name; o++) {
			if (o->hidden || o->type == OPT_BOOL)
				continue;
			fprintf(out, "\t\t--%s", o->long_name);
			if (o->short_name)
				fprintf(out, "|-%c", o->short_name);
			fputs(")\n\t\t\t", out);
			if (takes_file(o)) {
				fputs("COMPREPLY=($(compgen -f -P \"$eq\" -- \"$cur\"))", out);
			} else if (takes_dir(o)) {
				fputs("COMPREPLY=($(compgen -d -P \"$eq\" -- \"$cur\"))", out);
			} else {
				fputs("COMPREPLY=($(compgen -W \"", out);
				option_values(out, c, o);
				fputs("\" -P \"$eq\" -- \"$cur\"))", out);
			}
			fputs("\n\t\t\treturn 0 ;;\n", out);
		}
		fputs("\t\tesac\n\t\t[[ \"$line\" == --*=* ]] && return 0\n\t\twords=\"", out);
		words_of(out, c->opts);
		fputs("\"", out);
		if (c == &cmd_explain) {
			fputs("\n\t\tcase \"$cur\" in -*) ;; *) words=\"", out);
			check_ids(out);
			fputs("\" ;; esac", out);
		}
		fputs(" ;;\n", out);
	}
	fputs("\thelp)\n\t\twords=\"", out);
	for (i = 0; cli_commands[i]; i++)
		fprintf(out, "%s ", cli_commands[i]->name);
	fputs("\" ;;\n\tesac\n\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n\treturn 0\n}\n"
	      "complete -F _ocidoctor ocidoctor\n", out);
}

/* Help text for a zsh spec: no brackets, colons or quotes. */
static void zsh_text(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc(strchr("[]:|'\\`$\"", *s) ? ' ' : *s, out);
}

/* "(v1 v2)" for an option with known values, else " " (no completion). */
static void zsh_values(FILE *out, const struct command *c, const struct opt *o)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (!mem)
		exit(1);
	if (option_values(mem, c, o)) {
		fclose(mem);
		fprintf(out, "(%s)", text);
	} else {
		fclose(mem);
		fputc(' ', out);
	}
	free(text);
}

static void zsh_completion(FILE *out)
{
	size_t i;

	fputs("#compdef ocidoctor\n# zsh completion for ocidoctor; generated by tools/docgen.c.\n\n"
	      "_ocidoctor() {\n\tlocal -a commands\n\tcommands=(\n", out);
	for (i = 0; cli_commands[i]; i++) {
		fprintf(out, "\t\t'%s:", cli_commands[i]->name);
		zsh_text(out, cli_commands[i]->about);
		fputs("'\n", out);
	}
	fputs("\t\t'help:show the options of a command'\n\t)\n"
	      "\tif (( CURRENT == 2 )); then\n\t\t_describe 'command' commands\n\t\treturn\n\tfi\n"
	      "\tlocal cmd=$words[2]\n\tshift words\n\t(( CURRENT-- ))\n\tcase $cmd in\n", out);
	for (i = 0; cli_commands[i]; i++) {
		const struct command *c = cli_commands[i];
		const struct opt *o;

		fprintf(out, "\t%s)\n\t\t_arguments \\\n", c->name);
		for (o = c->opts; o && o->long_name; o++) {
			if (o->hidden)
				continue;
			/* --opt= : the value in the next word or after '=' */
			fprintf(out, "\t\t\t'--%s%s[", o->long_name, o->type == OPT_BOOL ? "" : "=");
			zsh_text(out, o->help);
			fputc(']', out);
			if (o->type != OPT_BOOL) {
				fprintf(out, ":%s:", o->arg ? o->arg : "VALUE");
				if (takes_file(o))
					fputs("_files", out);
				else if (takes_dir(o))
					fputs("_files -/", out);
				else
					zsh_values(out, c, o);
			}
			fputs("' \\\n", out);
		}
		if (c == &cmd_explain) {
			fputs("\t\t\t'1:check:(", out);
			check_ids(out);
			fputs(")'", out);
		} else {
			fputs("\t\t\t'*::argument:'", out);
		}
		fputs(" ;;\n", out);
	}
	fputs("\thelp)\n\t\t_describe 'command' commands ;;\n\tesac\n}\n\n_ocidoctor \"$@\"\n", out);
}

int main(int argc, char **argv)
{
	struct md usage, monitoring;
	FILE *out;
	int man = argc == 5 && !strcmp(argv[1], "man");

	if (argc != 3 && !man) {
		fputs("usage: docgen man OUT USAGE.md MONITORING.md | docgen bash|zsh OUT\n", stderr);
		return 2;
	}
	if (man) {
		md_load(&usage, argv[3]);
		md_load(&monitoring, argv[4]);
	}
	out = fopen(argv[2], "w");
	if (!out) {
		perror(argv[2]);
		return 1;
	}
	if (man) {
		man_page(out, &usage, &monitoring);
		md_release(&usage);
		md_release(&monitoring);
	} else if (!strcmp(argv[1], "bash")) {
		bash_completion(out);
	} else if (!strcmp(argv[1], "zsh")) {
		zsh_completion(out);
	} else {
		fclose(out);
		return 2;
	}
	return fclose(out) == 0 ? 0 : 1;
}
