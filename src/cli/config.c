/*
 * config: see config.h. libyaml's document API gives every node with its
 * line, which is all the error messages need.
 */
#include "cli/config.h"
#include "cli/yamldoc.h"
#include "util/buf.h"
#include "util/suggest.h"
#include "util/keyname.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define CONFIG_MAX ((size_t)1 << 20)

struct loader {
	unsigned char seen[SOURCE_MAX]; /* keys met so far, across both sections */
	const char *name;
	yaml_document_t *doc;
	const struct opt *opts;
	void *target;
	char **sources;
	char **why;
};

/* Sets *why to "FILE:LINE: msg"; takes msg. */
static int fail_at(struct loader *l, const yaml_node_t *node, char *msg)
{
	*l->why = xstrfmt("%s:%lu: %s", l->name, (unsigned long)node->start_mark.line + 1, msg);
	free(msg);
	return -1;
}

/* The option a key names, in its camelCase spelling or as snake_case (keyname.h). */
static const struct opt *find_key(const struct opt *opts, const char *key)
{
	for (; opts->long_name; opts++)
		if (opts->key && key_same(opts->key, key))
			return opts;
	return NULL;
}

/* The configuration key closest to a mistyped one, or NULL. */
static const char *closest_key(const struct opt *opts, const char *key)
{
	struct suggest s;

	suggest_init(&s, key ? key : "", key ? strlen(key) : 0);
	for (; opts->long_name; opts++)
		suggest_offer(&s, opts->key);
	return suggest_best(&s);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}


/*
 * Checks a value's type and form without storing it, so that a value a
 * flag or the environment overrides is still an error when it is wrong.
 */
static int check_value(struct loader *l, const struct opt *o, const yaml_node_t *v)
{
	yaml_node_item_t *item;
	const char *s = scalar(v);
	char *end;

	switch (o->type) {
	case OPT_BOOL:
		if (yamldoc_bool(s) < 0)
			return fail_at(l, v, xstrfmt("%s must be true or false", o->key));
		return 0;
	case OPT_LONG:
		if (!s || strtol(s, &end, 10) <= 0 || *end)
			return fail_at(l, v, xstrfmt("%s must be a positive whole number", o->key));
		return 0;
	case OPT_LIST:
		if (v->type == YAML_SCALAR_NODE)
			return 0;
		if (v->type != YAML_SEQUENCE_NODE)
			return fail_at(l, v, xstrfmt("%s must be a list of strings", o->key));
		for (item = v->data.sequence.items.start; item < v->data.sequence.items.top; item++)
			if (!scalar(yaml_document_get_node(l->doc, *item)))
				return fail_at(l, v, xstrfmt("%s must be a list of strings", o->key));
		return 0;
	case OPT_STRING:
		if (!s)
			return fail_at(l, v, xstrfmt("%s must be a single value", o->key));
		return 0;
	}
	return 0;
}

/* Stores a checked value. */
static int store_value(struct loader *l, const struct opt *o, const yaml_node_t *v)
{
	yaml_node_item_t *item;
	char *msg = NULL;
	int ret = 0;

	if (o->type == OPT_BOOL) {
		*(int *)((char *)l->target + o->offset) = yamldoc_bool(scalar(v));
		return 0;
	}
	if (v->type == YAML_SEQUENCE_NODE) {
		for (item = v->data.sequence.items.start; ret == 0 && item < v->data.sequence.items.top; item++)
			ret = opt_store(o, l->target, scalar(yaml_document_get_node(l->doc, *item)), &msg);
	} else {
		ret = opt_store(o, l->target, scalar(v), &msg);
	}
	if (msg)
		return fail_at(l, v, msg);
	return ret;
}

/* Applies one key: value pair of a section. */
static int apply_pair(struct loader *l, const char *section, const yaml_node_t *k,
		      const yaml_node_t *v, unsigned char *seen)
{
	const struct opt *o = find_key(l->opts, scalar(k));
	size_t i;

	if (!o) {
		const char *near = closest_key(l->opts, scalar(k));

		if (near)
			return fail_at(l, k, xstrfmt("unknown key '%s' (did you mean '%s'?)", scalar(k),
						     near));
		return fail_at(l, k, xstrfmt("unknown key '%s'", scalar(k)));
	}
	i = (size_t)(o - l->opts);
	if (seen[i]++)
		return fail_at(l, k, xstrfmt("'%s' is given twice", o->key));
	if (check_value(l, o, v) < 0)
		return -1;
	if (l->sources[i])
		return 0; /* a flag or the environment wins */
	if (store_value(l, o, v) < 0)
		return -1;
	l->sources[i] = xstrfmt("%s:%lu (%s.%s)", l->name, (unsigned long)k->start_mark.line + 1,
				section, o->key);
	return 0;
}

static int apply_section(struct loader *l, const char *section, const yaml_node_t *map)
{
	yaml_node_pair_t *p;

	if (map->type == YAML_SCALAR_NODE &&
	    (!*scalar(map) || !strcmp(scalar(map), "~") || !strcmp(scalar(map), "null")))
		return 0; /* "oci:" with nothing under it */
	if (map->type != YAML_MAPPING_NODE)
		return fail_at(l, map, xstrfmt("the %s section must be a mapping", section));
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
		const yaml_node_t *v = yaml_document_get_node(l->doc, p->value);

		if (!scalar(k))
			return fail_at(l, k, xstrfmt("keys in %s must be plain words", section));
		if (apply_pair(l, section, k, v, l->seen) < 0)
			return -1;
	}
	return 0;
}

static int apply_document(struct loader *l)
{
	yaml_node_t *root = yaml_document_get_root_node(l->doc);
	yaml_node_pair_t *p;

	if (!root)
		return 0; /* an empty file */
	if (root->type != YAML_MAPPING_NODE)
		return fail_at(l, root, xstrfmt("the file must be a mapping with an %s section", "oci:"));
	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		const char *key = scalar(yaml_document_get_node(l->doc, p->key));
		const yaml_node_t *v = yaml_document_get_node(l->doc, p->value);

		if (key && (!strcmp(key, "oci") || !strcmp(key, "ocidoctor")) &&
		    apply_section(l, key, v) < 0)
			return -1;
	}
	return 0;
}

int config_apply_text(const char *name, const char *text, size_t len, const struct opt *opts,
		      void *target, char **sources, char **why)
{
	yaml_document_t doc;
	struct loader l = { .name = name, .doc = &doc, .opts = opts, .target = target,
			    .sources = sources, .why = why };
	int ret;

	if (yamldoc_load(&doc, name, text, len, why) < 0)
		return -1;
	ret = apply_document(&l);
	yaml_document_delete(&doc);
	return ret;
}

int config_apply_file(const char *path, const struct opt *opts, void *target, char **sources,
		      char **why)
{
	FILE *f = fopen(path, "rbe");
	struct buf b;
	int ret, err;

	if (!f) {
		*why = xstrfmt("cannot read the config file '%s': %s", path, strerror(errno));
		return -1;
	}
	buf_init(&b, CONFIG_MAX);
	errno = 0;
	ret = buf_read_stream(&b, f);
	err = errno ? errno : EIO;
	fclose(f);
	if (ret < 0) {
		*why = b.overflow ? xstrfmt("the config file '%s' is larger than 1 MiB", path)
				  : xstrfmt("cannot read the config file '%s': %s", path, strerror(err));
		buf_release(&b);
		return -1;
	}
	ret = config_apply_text(path, b.data, b.len, opts, target, sources, why);
	buf_release(&b);
	return ret;
}
