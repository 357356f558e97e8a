/*
 * options: see options.h.
 */
#include "cli/options.h"
#include "util/buf.h"
#include "util/suggest.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void opt_list_add(struct opt_list *l, const char *s)
{
	ALLOC_GROW(l->items, l->nr + 2, l->alloc);
	l->items[l->nr++] = xstrdup(s);
	l->items[l->nr] = NULL;
}

void opt_list_release(struct opt_list *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++)
		free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static const struct opt *find_long(const struct opt *opts, const char *name, size_t len)
{
	for (; opts->long_name; opts++)
		if (strlen(opts->long_name) == len && !strncmp(opts->long_name, name, len))
			return opts;
	return NULL;
}

/* The option name closest to a mistyped one, or NULL. */
static const char *closest_long(const struct opt *opts, const char *name, size_t len)
{
	struct suggest s;

	suggest_init(&s, name, len);
	for (; opts->long_name; opts++)
		if (!opts->hidden)
			suggest_offer(&s, opts->long_name);
	return suggest_best(&s);
}

static const struct opt *find_short(const struct opt *opts, char c)
{
	for (; opts->long_name; opts++)
		if (opts->short_name && opts->short_name == c)
			return opts;
	return NULL;
}

static int opt_split_list(const struct opt *o, void *target, const char *value, char **why);

int opt_store(const struct opt *o, void *target, const char *value, char **why)
{
	char *slot = (char *)target + o->offset;
	char *end;
	long n;

	switch (o->type) {
	case OPT_BOOL:
		*(int *)slot = 1;
		return 0;
	case OPT_STRING:
		free(*(char **)slot);
		*(char **)slot = xstrdup(value);
		return 0;
	case OPT_LIST:
		opt_split_list(o, target, value, why);
		return 0;
	case OPT_LONG:
		errno = 0;
		n = strtol(value, &end, 10);
		if (errno || end == value || *end || n <= 0) {
			*why = xstrfmt("--%s wants a positive whole number, not '%s'",
				       o->long_name, value);
			return -1;
		}
		if (o->max && n > o->max) {
			*why = xstrfmt("--%s is at most %ld, not '%s'", o->long_name, o->max, value);
			return -1;
		}
		*(long *)slot = n;
		return 0;
	}
	return -1;
}

/* Handles argv[*i], which starts with "--"; may consume the next argument. */
static void mark(const struct opt *opts, const struct opt *o, char **sources)
{
	size_t i = (size_t)(o - opts);

	if (!sources || i >= SOURCE_MAX)
		return;
	free(sources[i]);
	sources[i] = xstrfmt("flag --%s", o->long_name);
}

static int parse_long(const struct opt *opts, int argc, char **argv, int *i, void *target,
		      char **sources, char **why)
{
	const char *arg = argv[*i] + 2;
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct opt *o = find_long(opts, arg, len);

	if (!o) {
		const char *near = closest_long(opts, arg, len);

		if (near)
			*why = xstrfmt("unknown option '--%.*s' (did you mean --%s? see --help)", (int)len,
				       arg, near);
		else
			*why = xstrfmt("unknown option '--%.*s' (see --help)", (int)len, arg);
		return -1;
	}
	mark(opts, o, sources);
	if (o->type == OPT_BOOL) {
		if (eq) {
			*why = xstrfmt("--%s takes no value", o->long_name);
			return -1;
		}
		return opt_store(o, target, NULL, why);
	}
	if (eq)
		return opt_store(o, target, eq + 1, why);
	if (*i + 1 >= argc) {
		*why = xstrfmt("--%s needs a value (%s)", o->long_name, o->arg ? o->arg : "VALUE");
		return -1;
	}
	return opt_store(o, target, argv[++*i], why);
}

static int parse_short(const struct opt *opts, int argc, char **argv, int *i, void *target,
		       char **sources, char **why)
{
	const char *arg = argv[*i] + 1;
	const struct opt *o;

	for (; *arg; arg++) {
		o = find_short(opts, *arg);
		if (!o) {
			*why = xstrfmt("unknown option '-%c' (see --help)", *arg);
			return -1;
		}
		mark(opts, o, sources);
		if (o->type == OPT_BOOL) {
			opt_store(o, target, NULL, why);
			continue;
		}
		if (arg[1])
			return opt_store(o, target, arg + 1, why);
		if (*i + 1 >= argc) {
			*why = xstrfmt("-%c needs a value (%s)", *arg, o->arg ? o->arg : "VALUE");
			return -1;
		}
		return opt_store(o, target, argv[++*i], why);
	}
	return 0;
}

int opt_parse(const struct opt *opts, int argc, char **argv, void *target,
	      struct opt_list *positional, char **sources, char **why)
{
	int i, only_positional = 0;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		int ret = 0;

		if (only_positional || a[0] != '-' || !a[1])
			opt_list_add(positional, a);
		else if (!strcmp(a, "--"))
			only_positional = 1;
		else if (a[1] == '-')
			ret = parse_long(opts, argc, argv, &i, target, sources, why);
		else
			ret = parse_short(opts, argc, argv, &i, target, sources, why);
		if (ret < 0)
			return -1;
	}
	return 0;
}

const char *opt_value_at(const struct opt *o, size_t i)
{
	size_t n;

	if (o->value_at)
		return o->value_at(i);
	for (n = 0; o->values && o->values[n]; n++)
		if (n == i)
			return o->values[n];
	return NULL;
}

char *opt_values_text(const struct opt *o)
{
	struct buf b;
	size_t i, n = 0;

	while (opt_value_at(o, n))
		n++;
	if (!n)
		return NULL;
	buf_init(&b, BUF_TEXT_MAX);
	for (i = 0; i < n; i++)
		buf_addf(&b, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", opt_value_at(o, i));
	return buf_detach(&b);
}

char *opt_help_text(const struct opt *o)
{
	char *values = opt_values_text(o), *s;
	char max[48] = "";

	if (o->type == OPT_LONG && o->max)
		snprintf(max, sizeof(max), "%sat most %ld", o->def ? ", " : "", o->max);
	if (values && o->def)
		s = xstrfmt("%s (%s; default %s%s)", o->help, values, o->def, max);
	else if (values)
		s = xstrfmt("%s (%s)", o->help, values);
	else if (o->def || *max)
		s = xstrfmt("%s (%s%s%s)", o->help, o->def ? "default " : "", o->def ? o->def : "",
			    max);
	else
		s = xstrdup(o->help);
	free(values);
	return s;
}

void opt_usage(FILE *out, const char *usage, const char *about, const struct opt *opts)
{
	const struct opt *o;

	fprintf(out, "usage: %s\n", usage);
	if (about)
		fprintf(out, "\n%s\n", about);
	if (!opts || !opts->long_name)
		return;
	fputs("\noptions:\n", out);
	for (o = opts; o->long_name; o++) {
		struct buf left;
		char *help;

		if (o->hidden)
			continue;
		buf_init(&left, 256);
		if (o->short_name)
			buf_addf(&left, "-%c, ", o->short_name);
		else
			buf_adds(&left, "    ");
		buf_addf(&left, "--%s", o->long_name);
		if (o->type != OPT_BOOL)
			buf_addf(&left, " %s", o->arg ? o->arg : "VALUE");
		help = opt_help_text(o);
		fprintf(out, "  %-30s %s\n", left.data, help);
		free(help);
		buf_release(&left);
	}
	for (o = opts; o->long_name; o++)
		if ((o->env || o->key) && !o->hidden)
			break;
	if (!o->long_name)
		return;
	fputs("\nalso set by (flags win over the environment, the environment over the file):\n", out);
	for (o = opts; o->long_name; o++)
		if ((o->env || o->key) && !o->hidden)
			fprintf(out, "  --%-22s env %-28s config %s%s\n", o->long_name,
				o->env ? o->env : "-", o->key ? "oci." : "-", o->key ? o->key : "");
}

extern char **environ;

/* The value of the variable named `name`, compared without case. */
static const char *getenv_nocase(const char *name, const char **found)
{
	size_t n = strlen(name);
	char **e;

	for (e = environ; e && *e; e++)
		if (!strncasecmp(*e, name, n) && (*e)[n] == '=') {
			*found = *e;
			return *e + n + 1;
		}
	return NULL;
}

int opt_apply_env(const struct opt *opts, void *target, char **sources, char **why)
{
	const struct opt *o;

	for (o = opts; o->long_name; o++) {
		size_t i = (size_t)(o - opts);
		const char *found = NULL, *value;

		if (!o->env || (sources && sources[i]))
			continue;
		value = getenv_nocase(o->env, &found);
		if (!value || !*value)
			continue;
		if (o->type == OPT_BOOL && strcmp(value, "1") && strcasecmp(value, "true")) {
			if (strcmp(value, "0") && strcasecmp(value, "false")) {
				*why = xstrfmt("%.*s: invalid value '%s': not true or false (1, 0)",
					       (int)(strchr(found, '=') - found), found, value);
				return -1;
			}
			*(int *)((char *)target + o->offset) = 0; /* set, to off */
		} else if (opt_store(o, target, value, why) < 0) {
			/* named by the variable, not by the flag it stands for */
			free(*why);
			*why = xstrfmt("%.*s: invalid value '%s': not a positive whole number",
				       (int)(strchr(found, '=') - found), found, value);
			return -1;
		}
		if (sources)
			sources[i] = xstrfmt("environment %.*s", (int)(strchr(found, '=') - found), found);
	}
	return 0;
}

static int opt_split_list(const struct opt *o, void *target, const char *value, char **why)
{
	struct opt_list *list = (struct opt_list *)((char *)target + o->offset);
	const char *p = value;

	(void)why;
	while (*p) {
		size_t n = strcspn(p, ",");
		char *item = xstrndup(p, n);

		if (*item)
			opt_list_add(list, item);
		free(item);
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

void opt_release(const struct opt *opts, void *target)
{
	for (; opts->long_name; opts++) {
		char *slot = (char *)target + opts->offset;

		if (opts->type == OPT_STRING) {
			free(*(char **)slot);
			*(char **)slot = NULL;
		} else if (opts->type == OPT_LIST) {
			opt_list_release((struct opt_list *)slot);
		}
	}
}

size_t opt_index(const struct opt *opts, const char *long_name)
{
	size_t i;

	for (i = 0; opts[i].long_name; i++)
		if (!strcmp(opts[i].long_name, long_name))
			return i;
	xbug("an option the code names is missing from its table");
}

void opt_apply_defaults(const struct opt *opts, void *target, char **sources)
{
	const struct opt *o;

	for (o = opts; o->long_name; o++) {
		size_t i = (size_t)(o - opts);
		char *ignored = NULL;

		if (!o->def || sources[i])
			continue;
		opt_store(o, target, o->def, &ignored);
		free(ignored);
		sources[i] = xstrdup("default");
	}
}
