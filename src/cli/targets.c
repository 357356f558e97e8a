/*
 * targets: see targets.h.
 */
#include "cli/targets.h"
#include "cli/yamldoc.h"
#include "engine/registry.h"
#include "util/buf.h"
#include "util/ref.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

void target_release(struct target *t)
{
	free(t->registry);
	free(t->repository);
	free(t->tag);
	memset(t, 0, sizeof(*t));
}

/*
 * Splits "repository[:tag]" (the tag after the last ':' past the last '/')
 * or "repository@digest".
 */
static void split_reference(struct target *t, const char *ref, const char *default_tag)
{
	const char *at = strchr(ref, '@');
	const char *slash = strrchr(ref, '/');
	const char *colon = strrchr(slash ? slash : ref, ':');

	if (at) {
		t->repository = xstrndup(ref, (size_t)(at - ref));
		t->tag = xstrdup(at + 1);
	} else if (colon) {
		t->repository = xstrndup(ref, (size_t)(colon - ref));
		t->tag = xstrdup(colon + 1);
	} else {
		t->repository = xstrdup(ref);
		t->tag = xstrdup(default_tag);
	}
}

/* Parses "registry-url [repository[:tag]]"; returns 0, 1 for a blank or comment line, -1 bad. */
static int parse_target_line(struct target *t, char *line, const struct target_defaults *def,
			     const char **why)
{
	char *fields[3];
	int n = 0;
	char *p = line;

	memset(t, 0, sizeof(*t));
	while (n < 3) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p || *p == '#')
			break;
		fields[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			p++;
		if (*p)
			*p++ = '\0';
	}
	if (!n)
		return 1;
	if (n == 3) {
		*why = "a target line is 'registry-url [repository[:tag]]'";
		return -1;
	}
	t->registry = xstrdup(fields[0]);
	if (n == 2) {
		split_reference(t, fields[1], def->tag);
	} else {
		t->repository = xstrdup(def->repository);
		t->tag = xstrdup(def->tag);
	}
	return 0;
}

static int target_valid(struct target *t, const struct target_defaults *def, const char **why)
{
	struct registry_url u;

	if (def->plain_http && !strncasecmp(t->registry, "https://", 8)) {
		*why = "--plain-http and this https:// address contradict each other; drop one";
		return -1;
	}
	if (def->plain_http && strncasecmp(t->registry, "http://", 7)) {
		char *plain = xstrfmt("http://%s", t->registry);

		free(t->registry);
		t->registry = plain;
	}
	if (registry_url_parse(&u, t->registry, why) < 0)
		return -1;
	registry_url_release(&u);
	if (repository_name_valid(t->repository, why) < 0)
		return -1;
	return reference_valid(t->tag, why);
}

static int is_yaml(const char *path, const struct buf *text)
{
	size_t n = strlen(path);
	const char *p = text->data;

	if ((n > 5 && !strcmp(path + n - 5, ".yaml")) || (n > 4 && !strcmp(path + n - 4, ".yml")))
		return 1;
	/* standard input or a pipe: a YAML list starts with "- " or "---"; a target line never does */
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return !strncmp(p, "---", 3) || !strncmp(p, "- ", 2) || !strncmp(p, "-\n", 2);
}

/* Validates t and appends it to the list (taking it); -1 with *why on a bad target. */
static int add_target(struct target_source *src, struct target *t, char **why)
{
	const char *bad = NULL;

	if (target_valid(t, src->def, &bad) < 0) {
		*why = xstrfmt("%s:%d: %s", src->path, t->line, bad);
		target_release(t);
		return -1;
	}
	ALLOC_GROW(src->list, src->nr + 1, src->alloc);
	src->list[src->nr++] = *t;
	memset(t, 0, sizeof(*t));
	return 0;
}

/* YAML: a sequence of "url repo:tag" strings or {registry, repository, tag} maps. */
static int load_yaml(struct target_source *src, const struct buf *text, char **why)
{
	yaml_document_t doc;
	yaml_node_t *root;
	yaml_node_item_t *item;
	int ret = -1;

	if (yamldoc_load(&doc, src->path, text->data, text->len, why) < 0)
		return -1;
	root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_SEQUENCE_NODE) {
		*why = xstrfmt("%s: a YAML targets file is a list", src->path);
		goto done;
	}
	for (item = root->data.sequence.items.start; item < root->data.sequence.items.top; item++) {
		yaml_node_t *n = yaml_document_get_node(&doc, *item);
		struct target t = { 0 };
		const char *bad = NULL;

		if (n->type == YAML_SCALAR_NODE) {
			if (parse_target_line(&t, (char *)n->data.scalar.value, src->def, &bad) != 0)
				bad = bad ? bad : "an empty target";
		} else if (n->type == YAML_MAPPING_NODE) {
			yaml_node_pair_t *p;
			const char *repo = src->def->repository, *tag = NULL;

			for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
				yaml_node_t *k = yaml_document_get_node(&doc, p->key);
				yaml_node_t *v = yaml_document_get_node(&doc, p->value);
				const char *key = k->type == YAML_SCALAR_NODE ? (char *)k->data.scalar.value : "";
				const char *val = v->type == YAML_SCALAR_NODE ? (char *)v->data.scalar.value : NULL;

				if (!val)
					bad = "target values are plain strings";
				else if (!strcmp(key, "registry"))
					t.registry = xstrdup(val);
				else if (!strcmp(key, "repository"))
					repo = val;
				else if (!strcmp(key, "tag"))
					tag = val;
				else
					bad = "a target has the keys registry, repository and tag";
			}
			if (!t.registry && !bad)
				bad = "a target needs a registry";
			if (!bad) {
				split_reference(&t, repo, src->def->tag);
				if (tag) {
					free(t.tag);
					t.tag = xstrdup(tag);
				}
			}
		} else {
			bad = "a target is a string or a mapping";
		}
		if (bad) {
			*why = xstrfmt("%s:%lu: %s", src->path, (unsigned long)n->start_mark.line + 1, bad);
			target_release(&t);
			goto done;
		}
		t.line = (int)n->start_mark.line + 1;
		if (add_target(src, &t, why) < 0)
			goto done;
	}
	ret = 0;
done:
	yaml_document_delete(&doc);
	return ret;
}

/* Text: one target a line; blank lines and '#' comments are skipped. */
static int load_lines(struct target_source *src, struct buf *text, char **why)
{
	char *p = text->data, *end = text->data + text->len;
	int line = 0;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *bad = NULL;
		struct target t;
		int ret;

		line++;
		if (len > TARGET_LINE_MAX) {
			*why = xstrfmt("%s:%d: a line is longer than %d bytes", src->path, line,
				       TARGET_LINE_MAX);
			return -1;
		}
		if (memchr(p, '\0', len)) {
			*why = xstrfmt("%s:%d: a line holds a NUL byte", src->path, line);
			return -1;
		}
		p[len] = '\0';
		ret = parse_target_line(&t, p, src->def, &bad);
		p += len + 1;
		if (ret == 1)
			continue;
		if (ret < 0) {
			*why = xstrfmt("%s:%d: %s", src->path, line, bad);
			return -1;
		}
		t.line = line;
		if (add_target(src, &t, why) < 0)
			return -1;
	}
	return 0;
}

/* Reads fd to its end into text; -1 with errno, or with text->overflow set. */
static int read_all(int fd, struct buf *text)
{
	char chunk[65536];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (buf_add(text, chunk, (size_t)n) < 0)
			return -1;
	}
}

/*
 * Reads the targets file once ("-" is standard input; a FIFO, /dev/stdin
 * and a process substitution work too) and validates every target.
 * Returns 0 with at least one target, or -1 with *why.
 */
int source_load(struct target_source *src, const char *path, const struct target_defaults *def,
		char **why)
{
	/* /dev/stdin is read as such too: opening it anew fails for a socket */
	int is_stdin = !strcmp(path, "-") || !strcmp(path, "/dev/stdin");
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	const char *name = !strcmp(path, "-") ? "standard input" : path;
	struct stat st;
	struct buf text;
	int ret = -1;

	memset(src, 0, sizeof(*src));
	src->path = name;
	src->def = def;
	buf_init(&text, TARGETS_MAX_BYTES);
	if (fd < 0) {
		*why = xstrfmt("cannot read the targets file '%s': %s", path, strerror(errno));
		goto done;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		*why = xstrfmt("the targets file '%s' is a directory", path);
		goto done;
	}
	if (read_all(fd, &text) < 0) {
		*why = text.overflow ? xstrfmt("the targets file '%s' is larger than %zu MiB", name,
					       TARGETS_MAX_BYTES >> 20)
				     : xstrfmt("cannot read the targets file '%s': %s", name,
					       strerror(errno));
		goto done;
	}
	if (is_yaml(path, &text) ? load_yaml(src, &text, why) : load_lines(src, &text, why))
		goto done;
	if (!src->nr) {
		*why = xstrfmt("the targets file '%s' has no targets", name);
		goto done;
	}
	ret = 0;
done:
	if (fd > STDIN_FILENO)
		close(fd);
	buf_release(&text);
	return ret;
}

/* The next target, taken out of the list; 0 at the end. */
int source_next(struct target_source *src, struct target *t)
{
	if (src->next >= src->nr)
		return 0;
	*t = src->list[src->next];
	memset(&src->list[src->next++], 0, sizeof(*t));
	return 1;
}

void source_close(struct target_source *src)
{
	size_t i;

	for (i = 0; i < src->nr; i++)
		target_release(&src->list[i]);
	free(src->list);
	memset(src, 0, sizeof(*src));
}

