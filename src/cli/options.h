/*
 * options: command-line options declared as data.
 *
 * Each command has one NULL-terminated array of struct opt; the parser
 * and the --help text are both generated from it, so they cannot drift
 * apart. Values land in the command's own struct at `offset`.
 */
#ifndef OCIDOCTOR_OPTIONS_H
#define OCIDOCTOR_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

enum opt_type {
	OPT_STRING,   /* char *, newly allocated */
	OPT_BOOL,     /* int, set to 1 */
	OPT_LONG,     /* long, must be a positive whole number */
	OPT_LIST      /* struct opt_list; repeatable, and each value may hold several, comma-separated */
};

struct opt_list {
	char **items;
	size_t nr, alloc;
};

struct opt {
	const char *long_name;
	char short_name;       /* 0 for none */
	enum opt_type type;
	size_t offset;
	const char *arg;       /* argument name in help, e.g. "URL" */
	const char *help;
	const char *key;       /* key in the config file's oci: section, or NULL */
	const char *env;       /* environment variable, or NULL */
	int hidden;            /* parsed but left out of --help */
	const char *const *values; /* the values it takes, NULL-terminated, for completion; or NULL */
	long max;              /* OPT_LONG: the largest value accepted; 0 for LONG_MAX */
	const char *def;       /* the default, as if given; the only place it is written (help shows it) */
	/* the values it takes when they come from a table (the report writers): the i-th, NULL past the end */
	const char *(*value_at)(size_t i);
};

/* Where each setting's value came from, indexed like the opt array. */
#define SOURCE_MAX 256

#define OPT_END { 0 }

/*
 * Stores the table's default (.def) of every option that sources says
 * nothing set, and marks it "default" there.
 */
void opt_apply_defaults(const struct opt *opts, void *target, char **sources);

/*
 * Parses argv[0..argc) into target. Positional arguments are collected
 * into *positional (newly allocated array, NULL-terminated). Returns 0,
 * or -1 with *why set to a newly allocated one-line message.
 */
int opt_parse(const struct opt *opts, int argc, char **argv, void *target,
	      struct opt_list *positional, char **sources, char **why);

/*
 * Fills every option that has an `env` name and no source yet from the
 * environment (names matched without regard to case, as .NET-style
 * OCI__TestRepository variables are written in several spellings).
 * Sets sources[i] to "environment NAME". Returns 0 or -1 with *why.
 */
int opt_apply_env(const struct opt *opts, void *target, char **sources, char **why);

/* The index of the option with this long name (which must exist). */
size_t opt_index(const struct opt *opts, const char *long_name);

/* Stores a value for option o, as if given on the command line. */
int opt_store(const struct opt *o, void *target, const char *value, char **why);

/* The i-th value option o takes (from .values or .value_at), NULL past the end or when free-form. */
const char *opt_value_at(const struct opt *o, size_t i);

/*
 * "VALUE1, VALUE2 or VALUE3", the values o takes, for help and messages;
 * newly allocated, NULL when o is free-form.
 */
char *opt_values_text(const struct opt *o);

/*
 * o's help as --help and the manual show it: the help string, then the
 * values and the default generated from the table ("HELP (a, b or c;
 * default a)"). Newly allocated.
 */
char *opt_help_text(const struct opt *o);

/* Prints "usage: ..." then every option with its help, aligned. */
void opt_usage(FILE *out, const char *usage, const char *about, const struct opt *opts);

void opt_list_add(struct opt_list *l, const char *s);
void opt_list_release(struct opt_list *l);
/* Frees every OPT_STRING and OPT_LIST value in target. */
void opt_release(const struct opt *opts, void *target);

#endif
