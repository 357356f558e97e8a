/*
 * yamldoc: see yamldoc.h.
 */
#include "cli/yamldoc.h"
#include "util/buf.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void parser_start(yaml_parser_t *parser, const char *text, size_t len)
{
	if (!yaml_parser_initialize(parser))
		xdie("out of memory");
	yaml_parser_set_input_string(parser, (const unsigned char *)text, len);
}

static char *invalid(const char *name, const yaml_parser_t *parser)
{
	return xstrfmt("%s:%lu: invalid YAML: %s", name, (unsigned long)parser->problem_mark.line + 1,
		       parser->problem ? parser->problem : "parse error");
}

/* The anchor an event defines, if any. */
static const yaml_char_t *event_anchor(const yaml_event_t *e)
{
	if (e->type == YAML_SCALAR_EVENT)
		return e->data.scalar.anchor;
	if (e->type == YAML_SEQUENCE_START_EVENT)
		return e->data.sequence_start.anchor;
	if (e->type == YAML_MAPPING_START_EVENT)
		return e->data.mapping_start.anchor;
	return NULL;
}

/* Adds an event to the counts; what passed its bound (newly allocated), or NULL. */
static char *count(const yaml_event_t *e, int *depth, int *anchors, int *aliases)
{
	if (e->type == YAML_SEQUENCE_START_EVENT || e->type == YAML_MAPPING_START_EVENT)
		(*depth)++;
	else if (e->type == YAML_SEQUENCE_END_EVENT || e->type == YAML_MAPPING_END_EVENT)
		(*depth)--;
	else if (e->type == YAML_ALIAS_EVENT)
		(*aliases)++;
	if (event_anchor(e))
		(*anchors)++;
	if (*depth > YAMLDOC_MAX_DEPTH)
		return xstrfmt("nested deeper than %d levels", YAMLDOC_MAX_DEPTH);
	if (*anchors > YAMLDOC_MAX_ANCHORS)
		return xstrfmt("more than %d anchors (&name)", YAMLDOC_MAX_ANCHORS);
	if (*aliases > YAMLDOC_MAX_ALIASES)
		return xstrfmt("more than %d aliases (*name)", YAMLDOC_MAX_ALIASES);
	return NULL;
}

/* Walks the first document's events, stopping at the first excess. */
static int check_bounds(const char *name, const char *text, size_t len, char **why)
{
	yaml_parser_t parser;
	yaml_event_t e;
	int depth = 0, anchors = 0, aliases = 0, ret = -1;

	parser_start(&parser, text, len);
	for (;;) {
		char *excess;
		int end;

		if (!yaml_parser_parse(&parser, &e)) {
			*why = invalid(name, &parser);
			break;
		}
		excess = count(&e, &depth, &anchors, &aliases);
		if (excess) {
			*why = xstrfmt("%s:%lu: %s", name, (unsigned long)e.start_mark.line + 1, excess);
			free(excess);
			yaml_event_delete(&e);
			break;
		}
		end = e.type == YAML_DOCUMENT_END_EVENT || e.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&e);
		if (end) {
			ret = 0;
			break;
		}
	}
	yaml_parser_delete(&parser);
	return ret;
}

int yamldoc_load(yaml_document_t *doc, const char *name, const char *text, size_t len, char **why)
{
	yaml_parser_t parser;
	int ret = 0;

	memset(doc, 0, sizeof(*doc));
	if (check_bounds(name, text, len, why) < 0)
		return -1;
	parser_start(&parser, text, len);
	if (!yaml_parser_load(&parser, doc)) {
		*why = invalid(name, &parser);
		ret = -1;
	}
	yaml_parser_delete(&parser);
	return ret;
}

int yamldoc_bool(const char *s)
{
	if (s && (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on")))
		return 1;
	if (s && (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off")))
		return 0;
	return -1;
}
